/*
 * logring.c — the single-writer, many-reader line ring.
 *
 * Layout. Bytes live in data[cap] (cap a power of two) addressed by
 * monotonic 64-bit offsets (offset & (cap-1) is the position), so wrapping
 * is a second memcpy and never a special record. Each line is a header
 * (struct brm_logline) followed by its bytes, padded to 8. An index of
 * NIDX offsets, slot seq & (NIDX-1), finds line seq without a walk; the
 * writer never keeps more than NIDX lines, so the index always covers every
 * live line.
 *
 * Publication. The writer's order is: (1) evict: advance first_seq with a
 * release store, (2) a write barrier, (3) write header, bytes and index
 * slot, (4) publish next_seq with a release store. A reader's order is:
 * load next_seq/first_seq (acquire), read the index slot, copy header and
 * bytes, a read barrier, then load first_seq again. If any byte it copied
 * had been overwritten, the writer's eviction store (1) came before that
 * byte's write (3), so the barrier pair makes the reader see first_seq past
 * its line and drop the copy. This is the seqlock pattern with the
 * eviction frontier as the sequence; the reader never blocks the writer
 * and the writer never waits for a reader.
 *
 * The copies race with the writer's stores by design (the validation makes
 * a torn copy harmless); ThreadSanitizer would report them, as it does for
 * every seqlock, so a TSan build tells it to ignore them (copy_out).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sys/mman.h>
#include <unistd.h>

#include "lib/logring.h"
#include "lib/registry.h"
#include "lib/util.h"

#define NIDX 8192u
#define HDR sizeof(struct brm_logline)

struct brm_logring {
	struct rcu_head rcu;
	size_t cap;             /* power of two */
	uint64_t first_seq;     /* atomic: oldest live line */
	uint64_t next_seq;      /* atomic: next line to write */
	uint64_t evicted;       /* atomic */
	uint64_t head_off;      /* writer only: where the next line goes */
	uint64_t first_off;     /* writer only: where line first_seq starts */
	uint64_t idx[NIDX];     /* atomic slots: offset of line seq */
	unsigned char data[];
};

static size_t pad8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

/*
 * Rings are mapped, not malloc'd: pages of a fresh anonymous mapping are
 * zero and cost no memory until written, so 1000 quiet processes with
 * 256 KiB rings cost what they logged, not 1000 * (256 KiB + the index).
 * (calloc of a large block may come from the heap and be memset whole.)
 */
static size_t map_size(size_t cap)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	return (sizeof(struct brm_logring) + cap + page - 1) & ~(page - 1);
}

struct brm_logring *brm_logring_create(size_t bytes)
{
	size_t cap = BRM_LOGRING_MIN;
	struct brm_logring *r;
	void *m;

	while (cap < bytes && cap < BRM_LOGRING_MAX)
		cap <<= 1;
	m = mmap(NULL, map_size(cap), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	if (m == MAP_FAILED)
		brm_oom(map_size(cap));
	r = m;
	r->cap = cap;
	r->first_seq = 1;
	r->next_seq = 1;
	return r;
}

void brm_logring_destroy(struct brm_logring *r)
{
	if (r)
		munmap(r, map_size(r->cap));
}

static void free_rcu(struct rcu_head *h)
{
	brm_logring_destroy(caa_container_of(h, struct brm_logring, rcu));
}

void brm_logring_free_rcu(struct brm_logring *r)
{
	if (r)
		call_rcu(&r->rcu, free_rcu);
}

size_t brm_logring_max_line(const struct brm_logring *r)
{
	return r->cap / 2 - HDR;
}

static void copy_in(struct brm_logring *r, uint64_t off, const void *src, size_t n)
{
	size_t pos = (size_t)(off & (r->cap - 1)), first = r->cap - pos;

	if (first >= n) {
		memcpy(r->data + pos, src, n);
	} else {
		memcpy(r->data + pos, src, first);
		memcpy(r->data, (const char *)src + first, n - first);
	}
}

/*
 * The reader's copies are the seqlock's speculative reads: they may race
 * with the writer overwriting those bytes, and brm_logring_read() discards
 * the copy when first_seq says so. ThreadSanitizer cannot know that the
 * result is validated, so in a TSan build the copies (only they: the bounds
 * and index loads around them stay checked) are made with this thread's
 * memory accesses ignored. In TSan's runtime that covers the writes into
 * @dst too, which is the caller's private buffer.
 */
#ifdef BRM_TSAN
void AnnotateIgnoreReadsBegin(const char *file, int line);
void AnnotateIgnoreReadsEnd(const char *file, int line);
#define SPECULATIVE_BEGIN() AnnotateIgnoreReadsBegin(__FILE__, __LINE__)
#define SPECULATIVE_END() AnnotateIgnoreReadsEnd(__FILE__, __LINE__)
#else
#define SPECULATIVE_BEGIN() ((void)0)
#define SPECULATIVE_END() ((void)0)
#endif

static void copy_out(const struct brm_logring *r, uint64_t off, void *dst, size_t n)
{
	size_t pos = (size_t)(off & (r->cap - 1)), first = r->cap - pos;

	SPECULATIVE_BEGIN();
	if (first >= n) {
		memcpy(dst, r->data + pos, n);
	} else {
		memcpy(dst, r->data + pos, first);
		memcpy((char *)dst + first, r->data, n - first);
	}
	SPECULATIVE_END();
}

uint64_t brm_logring_append(struct brm_logring *r, int64_t ts_ms, int stream, unsigned flags,
			    const char *data, size_t len)
{
	struct brm_logline h;
	uint64_t seq = r->next_seq, first = r->first_seq, evicted = 0;
	size_t need;

	if (len > brm_logring_max_line(r)) {
		len = brm_logring_max_line(r);
		flags |= BRM_LOGLINE_CUT;
	}
	need = pad8(HDR + len);
	while (first < seq && (r->head_off + need - r->first_off > r->cap || seq - first >= NIDX)) {
		first++;
		evicted++;
		r->first_off = first < seq ? __atomic_load_n(&r->idx[first & (NIDX - 1)], __ATOMIC_RELAXED)
					   : r->head_off;
	}
	if (evicted) {
		__atomic_store_n(&r->first_seq, first, __ATOMIC_RELEASE);
		__atomic_store_n(&r->evicted, r->evicted + evicted, __ATOMIC_RELAXED);
		/* The eviction is visible before any of its bytes change. */
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	}
	memset(&h, 0, sizeof(h));
	h.seq = seq;
	h.ts_ms = ts_ms;
	h.len = (uint32_t)len;
	h.stream = (uint8_t)stream;
	h.flags = (uint8_t)flags;
	copy_in(r, r->head_off, &h, HDR);
	if (len)
		copy_in(r, r->head_off + HDR, data, len);
	__atomic_store_n(&r->idx[seq & (NIDX - 1)], r->head_off, __ATOMIC_RELAXED);
	r->head_off += need;
	__atomic_store_n(&r->next_seq, seq + 1, __ATOMIC_RELEASE);
	return seq;
}

void brm_logring_bounds(const struct brm_logring *r, uint64_t *first, uint64_t *next)
{
	uint64_t n = __atomic_load_n(&r->next_seq, __ATOMIC_ACQUIRE);
	uint64_t f = __atomic_load_n(&r->first_seq, __ATOMIC_ACQUIRE);

	*first = f > n ? n : f;
	*next = n;
}

uint64_t brm_logring_resume(const struct brm_logring *r, uint64_t seq)
{
	uint64_t first, next;

	brm_logring_bounds(r, &first, &next);
	return first > seq ? first : seq + 1;
}

uint64_t brm_logring_evicted(const struct brm_logring *r)
{
	return __atomic_load_n(&r->evicted, __ATOMIC_RELAXED);
}

int brm_logring_read(const struct brm_logring *r, uint64_t seq, struct brm_logline *out,
		     char *buf, size_t cap)
{
	uint64_t next = __atomic_load_n(&r->next_seq, __ATOMIC_ACQUIRE);
	uint64_t off;
	struct brm_logline h;

	if (seq >= next)
		return -EAGAIN;
	if (seq < __atomic_load_n(&r->first_seq, __ATOMIC_ACQUIRE))
		return -ENOENT;
	off = __atomic_load_n(&r->idx[seq & (NIDX - 1)], __ATOMIC_RELAXED);
	copy_out(r, off, &h, HDR);
	if (h.seq != seq || h.len > brm_logring_max_line(r)) {
		/* Overwritten already: the check below will say so. */
		h.len = 0;
	} else if (h.len > cap) {
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (seq < __atomic_load_n(&r->first_seq, __ATOMIC_ACQUIRE))
			return -ENOENT;
		return -ENOBUFS;
	} else {
		copy_out(r, off + HDR, buf, h.len);
	}
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (seq < __atomic_load_n(&r->first_seq, __ATOMIC_ACQUIRE) || h.seq != seq)
		return -ENOENT;
	*out = h;
	return 0;
}
