/*
 * logring.h — a process's recent output lines in a fixed-size byte ring,
 * written by one thread (the loop thread) and read lock-free by any number
 * of others (worker threads), seqlock-style: a reader copies a line out and
 * then checks that the writer had not started to overwrite it; a line that
 * was overwritten while it was being copied is reported as gone, never
 * returned torn.
 *
 * Lines carry a per-ring sequence number (the ring lives as long as its
 * process record, so numbers survive restarts), a wall-clock timestamp in
 * milliseconds, a stream and flags.
 *
 * Lifetime: readers reach a ring through the registry entry (struct
 * brm_reg_entry.logs) inside rcu_read_lock(); the writer frees it with
 * brm_logring_free_rcu() after unlinking it, so a reader keeps using it
 * safely until rcu_read_unlock().
 */
#ifndef BRM_LOGRING_H
#define BRM_LOGRING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum brm_log_stream {
	BRM_LOG_STDOUT = 1,
	BRM_LOG_STDERR = 2,
	BRM_LOG_META = 3,      /* brummd's own lines: started, exited, ... */
};

#define BRM_LOGLINE_CUT 1u    /* the line went on: it was cut at the line limit */

struct brm_logline {
	uint64_t seq;
	int64_t ts_ms;
	uint32_t len;
	uint8_t stream;
	uint8_t flags;
};

struct brm_logring;

/* Smallest and largest ring, in bytes. */
#define BRM_LOGRING_MIN (4u << 10)
#define BRM_LOGRING_MAX (1u << 30)

/*
 * A ring of @bytes (rounded up to a power of two, clamped to MIN..MAX).
 * Ownership: caller; brm_logring_destroy() or brm_logring_free_rcu().
 */
struct brm_logring *brm_logring_create(size_t bytes);
void brm_logring_destroy(struct brm_logring *r);
/* Free after an RCU grace period (call_rcu). Context: a registered RCU thread. */
void brm_logring_free_rcu(struct brm_logring *r);

/* The longest line the ring stores; longer ones are cut by append. */
size_t brm_logring_max_line(const struct brm_logring *r);

/*
 * Append one line (without its newline); evicts the oldest lines as
 * needed. A line longer than brm_logring_max_line() is truncated and marked
 * BRM_LOGLINE_CUT. Returns its sequence number.
 * Context: the ring's one writer.
 */
uint64_t brm_logring_append(struct brm_logring *r, int64_t ts_ms, int stream, unsigned flags,
			    const char *data, size_t len);

/*
 * The oldest sequence number still held (*@first) and the next one to be
 * written (*@next); empty when equal. Context: any thread.
 */
void brm_logring_bounds(const struct brm_logring *r, uint64_t *first, uint64_t *next);

/*
 * Copy line @seq into @buf (@cap >= brm_logring_max_line()) and *@out.
 * Returns 0, -ENOENT when the line is gone (evicted, also while it was
 * being copied), -EAGAIN when it is not written yet, -ENOBUFS when @cap is
 * too small. Context: any thread; allocates nothing.
 */
int brm_logring_read(const struct brm_logring *r, uint64_t seq, struct brm_logline *out,
		     char *buf, size_t cap);

/*
 * Where a reader whose brm_logring_read(@seq) gave -ENOENT goes on: the
 * oldest line still held, or @seq + 1 should that not be past @seq (which
 * the index rules out, but a reader must never go backwards or stay put).
 * Context: any thread.
 */
uint64_t brm_logring_resume(const struct brm_logring *r, uint64_t seq);

/* Lines evicted so far (for status). Context: any thread. */
uint64_t brm_logring_evicted(const struct brm_logring *r);

#endif
