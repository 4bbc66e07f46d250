/*
 * registry.c — the process registry: name -> immutable snapshot under RCU.
 *
 * The registry is read far more often than it is written. Worker threads
 * answer status and list requests for every client; the loop thread changes
 * a process's state a few times per start, stop or crash. So the read side
 * is made as cheap as it can be and the write side pays for it.
 *
 * One writer. Only the loop thread inserts, publishes and deletes. That
 * removes every writer-writer race by construction: the writer reads the
 * current snapshot and the entry list with plain loads, because nobody else
 * changes them, and it needs no lock against itself.
 *
 * Immutable snapshots. A process's state is one struct brm_snapshot, filled
 * in before it is published and never written again. A state change builds
 * a new snapshot (brm_snapshot_dup, then set fields) and swings the entry's
 * pointer to it with rcu_assign_pointer, a release store: a reader that
 * loads the pointer with rcu_dereference sees either the old snapshot or the
 * new one, each complete, never a mix of fields from both. The strings live
 * in the snapshot's own allocation, so a snapshot is one malloc and one free,
 * and a reader holding it needs nothing else to stay alive.
 *
 * Deferred frees. The old snapshot may still be in a reader's hands, so the
 * writer hands it to call_rcu, which frees it on liburcu's helper thread
 * once every read-side section that was running at publish time has ended.
 * A deleted entry goes the same way with its last snapshot. The writer never
 * waits for readers (no synchronize_rcu on the loop thread), and readers
 * never wait for anyone: rcu_read_lock in the memb flavour is a thread-local
 * counter update, inlined through _LGPL_SOURCE.
 *
 * The name index is liburcu's lock-free hash table (cds_lfht): lookups and
 * walks under the read lock see every entry that is present for their whole
 * duration exactly once, even while the table resizes itself on its own
 * worker thread. Its add and del must run inside a read-side section; the
 * functions here take that (nesting) read lock themselves, so the writer
 * need not.
 *
 * Why not a mutex: a reader would take the same lock as the writer and as
 * every other reader, so readers would queue behind each other and behind
 * the loop thread. Measured here, a contended mutex costs 10-20x an RCU
 * read and gets worse with each reader added; an rwlock still bounces its
 * cache line between cores on every read. With RCU the read path writes
 * only thread-local memory and allocates nothing.
 *
 * The hash is SipHash-1-3 keyed with 16 random bytes per registry: names
 * come from clients, and a fixed hash would let a client choose names that
 * all land in one bucket chain.
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "lib/registry.h"
#include "lib/util.h"

/* Initial and minimum bucket count; the table grows by itself beyond it. */
#define REG_MIN_BUCKETS 64
/* Sized for ~1000 names: with accounting, liburcu grows a small table only
 * once chains reach 3, and lookups at 1000 names were 18% slower at 64. */
#define REG_INIT_BUCKETS 1024

struct brm_registry {
	struct cds_lfht *ht;
	uint64_t k0, k1;     /* SipHash key */
	size_t count;        /* written by the writer, read by anyone: atomics */
	uint64_t changes;    /* names added or deleted; the same */
};

/* An entry and its own copy of the name, in one allocation. */
struct entry_mem {
	struct brm_reg_entry e;
	char name[];
};

/* SipHash-1-3 (Aumasson, Bernstein), 64-bit output. */

static inline uint64_t rotl64(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

static inline uint64_t load_le64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

#define SIPROUND(v0, v1, v2, v3)                                                         \
	do {                                                                             \
		v0 += v1; v1 = rotl64(v1, 13); v1 ^= v0; v0 = rotl64(v0, 32);           \
		v2 += v3; v3 = rotl64(v3, 16); v3 ^= v2;                                 \
		v0 += v3; v3 = rotl64(v3, 21); v3 ^= v0;                                 \
		v2 += v1; v1 = rotl64(v1, 17); v1 ^= v2; v2 = rotl64(v2, 32);           \
	} while (0)

/*
 * SipHash-c-d of @len bytes at @in under key (k0, k1). The round counts are
 * parameters so that the code can be checked against the reference's
 * SipHash-2-4 vectors; they are constants at every call, and inlining folds
 * them.
 */
static inline uint64_t siphash(uint64_t k0, uint64_t k1, const void *in, size_t len,
			       int crounds, int drounds)
{
	const unsigned char *p = in;
	const unsigned char *end = p + (len & ~(size_t)7);
	uint64_t v0 = k0 ^ 0x736f6d6570736575ULL;
	uint64_t v1 = k1 ^ 0x646f72616e646f6dULL;
	uint64_t v2 = k0 ^ 0x6c7967656e657261ULL;
	uint64_t v3 = k1 ^ 0x7465646279746573ULL;
	uint64_t b = (uint64_t)len << 56;
	uint64_t m;
	int i;

	for (; p != end; p += 8) {
		m = load_le64(p);
		v3 ^= m;
		for (i = 0; i < crounds; i++)
			SIPROUND(v0, v1, v2, v3);
		v0 ^= m;
	}
	switch (len & 7) {
	case 7: b |= (uint64_t)p[6] << 48; /* fall through */
	case 6: b |= (uint64_t)p[5] << 40; /* fall through */
	case 5: b |= (uint64_t)p[4] << 32; /* fall through */
	case 4: b |= (uint64_t)p[3] << 24; /* fall through */
	case 3: b |= (uint64_t)p[2] << 16; /* fall through */
	case 2: b |= (uint64_t)p[1] << 8;  /* fall through */
	case 1: b |= (uint64_t)p[0];       /* fall through */
	case 0: break;
	}
	v3 ^= b;
	for (i = 0; i < crounds; i++)
		SIPROUND(v0, v1, v2, v3);
	v0 ^= b;
	v2 ^= 0xff;
	for (i = 0; i < drounds; i++)
		SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

unsigned long brm_registry_hash(const struct brm_registry *reg, const char *name)
{
	return (unsigned long)siphash(reg->k0, reg->k1, name, strlen(name), 1, 3);
}

/* Fill @buf with @len random bytes from the kernel; aborts when it can't. */
static void random_bytes(void *buf, size_t len)
{
	unsigned char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = getrandom(p, len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "brummd: cannot seed the registry hash: %s\n",
				strerror(errno));
			abort();
		}
		p += n;
		len -= (size_t)n;
	}
}

/* Snapshots. */

struct brm_snapshot *brm_snapshot_create(const char *name, const char *error,
					 const char *cmd)
{
	return brm_snapshot_create_ex(name, error, cmd, NULL, NULL);
}

struct brm_snapshot *brm_snapshot_create_ex(const char *name, const char *error,
					    const char *cmd, const char *health_output,
					    const char *waiting_for)
{
	size_t nlen = strlen(name) + 1;
	size_t elen = error ? strlen(error) + 1 : 0;
	size_t clen = cmd ? strlen(cmd) + 1 : 1;
	size_t hlen = health_output ? strlen(health_output) + 1 : 0;
	size_t wlen = waiting_for ? strlen(waiting_for) + 1 : 0;
	struct brm_snapshot *s;
	char *p;

	if (nlen > SIZE_MAX / 6 || elen > SIZE_MAX / 6 || clen > SIZE_MAX / 6 ||
	    hlen > SIZE_MAX / 6 || wlen > SIZE_MAX / 6)
		brm_oom(SIZE_MAX);
	s = brm_xmalloc(sizeof(*s) + nlen + elen + clen + hlen + wlen);
	memset(s, 0, sizeof(*s));
	s->exit_code = -1;

	p = s->data;
	memcpy(p, name, nlen);
	s->name = p;
	p += nlen;
	if (error) {
		memcpy(p, error, elen);
		s->error = p;
		p += elen;
	}
	if (health_output) {
		memcpy(p, health_output, hlen);
		s->health_output = p;
		p += hlen;
	}
	if (waiting_for) {
		memcpy(p, waiting_for, wlen);
		s->waiting_for = p;
		p += wlen;
	}
	if (cmd)
		memcpy(p, cmd, clen);
	else
		*p = '\0';
	s->cmd = p;
	return s;
}

struct brm_snapshot *brm_snapshot_dup(const struct brm_snapshot *s, const char *error)
{
	struct brm_snapshot *n = brm_snapshot_create_ex(s->name, error, s->cmd,
							s->health_output, s->waiting_for);
	const char *name = n->name, *err = n->error, *cmd = n->cmd, *ho = n->health_output;
	const char *wf = n->waiting_for;

	/* Every state field, including any added later; then our own strings. */
	memcpy(n, s, sizeof(*n));
	memset(&n->rcu, 0, sizeof(n->rcu));
	n->name = name;
	n->error = err;
	n->cmd = cmd;
	n->health_output = ho;
	n->waiting_for = wf;
	return n;
}

void brm_snapshot_free(struct brm_snapshot *s)
{
	free(s);
}

/* rcu_assign_pointer, spelled for ThreadSanitizer in a TSan build (registry.h). */
static inline void set_snapshot(struct brm_reg_entry *e, struct brm_snapshot *s)
{
#ifdef BRM_TSAN
	__atomic_store_n(&e->snap, s, __ATOMIC_RELEASE);
#else
	rcu_assign_pointer(e->snap, s);
#endif
}

static void free_snapshot_rcu(struct rcu_head *head)
{
	brm_snapshot_free(caa_container_of(head, struct brm_snapshot, rcu));
}

/* Entries. */

static void free_entry_rcu(struct rcu_head *head)
{
	struct brm_reg_entry *e = caa_container_of(head, struct brm_reg_entry, rcu);

	/* A grace period has passed since the unlink: no reader holds either. */
	brm_snapshot_free(e->snap);
	free(caa_container_of(e, struct entry_mem, e));
}

static int match_name(struct cds_lfht_node *node, const void *key)
{
	struct brm_reg_entry *e = caa_container_of(node, struct brm_reg_entry, node);

	BRM_ENTRY_FOUND(e);
	return strcmp(e->name, key) == 0;
}

static void count_add(struct brm_registry *reg, long d)
{
	/* One writer: a plain read-modify-write, stored atomically for readers. */
	size_t n = __atomic_load_n(&reg->count, __ATOMIC_RELAXED);

	__atomic_store_n(&reg->count, n + (size_t)d, __ATOMIC_RELAXED);
	/* Release: a reader that sees the new count of changes finds the
	 * entry (or its absence) too. */
	__atomic_store_n(&reg->changes, __atomic_load_n(&reg->changes, __ATOMIC_RELAXED) + 1,
			 __ATOMIC_RELEASE);
}

struct brm_registry *brm_registry_create(void)
{
	struct brm_registry *reg = brm_xcalloc(1, sizeof(*reg));
	unsigned char key[16];

	random_bytes(key, sizeof(key));
	reg->k0 = load_le64(key);
	reg->k1 = load_le64(key + 8);

	reg->ht = cds_lfht_new(REG_INIT_BUCKETS, REG_MIN_BUCKETS, 0,
			       CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING, NULL);
	if (!reg->ht)
		brm_oom(sizeof(struct cds_lfht *) * REG_MIN_BUCKETS);
	return reg;
}

/* Unlink @e and queue it for freeing; false when it was already unlinked. */
static bool unlink_entry(struct brm_registry *reg, struct brm_reg_entry *e)
{
	int ret;

	rcu_read_lock();
	ret = cds_lfht_del(reg->ht, &e->node);
	rcu_read_unlock();
	if (ret)
		return false;
	count_add(reg, -1);
	call_rcu(&e->rcu, free_entry_rcu);
	return true;
}

void brm_registry_destroy(struct brm_registry *reg)
{
	struct cds_lfht_iter it;
	struct brm_reg_entry *e;
	int ret;

	if (!reg)
		return;
	/* rcu_barrier inside a read-side section returns without waiting. */
	assert(!rcu_read_ongoing());

	rcu_read_lock();
	cds_lfht_for_each_entry(reg->ht, &it, e, node)
		unlink_entry(reg, e);
	rcu_read_unlock();

	/* Every snapshot and entry queued by this registry is freed after this. */
	rcu_barrier();

	ret = cds_lfht_destroy(reg->ht, NULL);
	if (ret)
		fprintf(stderr, "brummd: cannot destroy the registry table: %s\n",
			strerror(-ret));
	free(reg);
}

struct brm_reg_entry *brm_registry_insert(struct brm_registry *reg, struct brm_snapshot *snap)
{
	size_t len = strlen(snap->name);
	struct entry_mem *m = brm_xmalloc(sizeof(*m) + len + 1);
	struct brm_reg_entry *e = &m->e;
	struct cds_lfht_node *ret;

	memset(e, 0, sizeof(*e));
	memcpy(m->name, snap->name, len + 1);
	e->name = m->name;
	e->hash = brm_registry_hash(reg, e->name);
	/* Not yet visible: add_unique's barrier publishes it with the node. */
	set_snapshot(e, snap);
	cds_lfht_node_init(&e->node);
	BRM_ENTRY_PUBLISH(e);

	rcu_read_lock();
	ret = cds_lfht_add_unique(reg->ht, e->hash, match_name, e->name, &e->node);
	rcu_read_unlock();
	if (ret != &e->node) {
		/* Never visible to anyone: free at once. */
		free(m);
		brm_snapshot_free(snap);
		return NULL;
	}
	count_add(reg, 1);
	return e;
}

void brm_registry_publish(struct brm_registry *reg, struct brm_reg_entry *e,
			  struct brm_snapshot *snap)
{
	/* Only this thread writes e->snap, so the plain load is current. */
	struct brm_snapshot *old = e->snap;

	assert(strcmp(snap->name, e->name) == 0);
	snap->version = old->version + 1;
	/* Release store: every field above is visible before the pointer is. */
	set_snapshot(e, snap);
	call_rcu(&old->rcu, free_snapshot_rcu);
}

void brm_registry_delete(struct brm_registry *reg, struct brm_reg_entry *e)
{
	if (!unlink_entry(reg, e))
		fprintf(stderr, "brummd: registry entry '%s' deleted twice\n", e->name);
}

struct brm_reg_entry *brm_registry_find(struct brm_registry *reg, const char *name)
{
	unsigned long hash = brm_registry_hash(reg, name);
	struct cds_lfht_iter it;
	struct cds_lfht_node *node;

	/*
	 * Nests inside the caller's section (one thread-local increment), and
	 * lets the writer call this without one: the lookup itself needs the
	 * lock against the table's resize worker, while the entry it returns
	 * stays valid for the writer because only the writer deletes entries.
	 */
	rcu_read_lock();
	cds_lfht_lookup(reg->ht, hash, match_name, name, &it);
	node = cds_lfht_iter_get_node(&it);
	rcu_read_unlock();
	return node ? caa_container_of(node, struct brm_reg_entry, node) : NULL;
}

size_t brm_registry_count(struct brm_registry *reg)
{
	return __atomic_load_n(&reg->count, __ATOMIC_RELAXED);
}

uint64_t brm_registry_changes(struct brm_registry *reg)
{
	return __atomic_load_n(&reg->changes, __ATOMIC_ACQUIRE);
}

struct cds_lfht *brm_registry_table(struct brm_registry *reg)
{
	return reg->ht;
}
