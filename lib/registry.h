/*
 * registry.h — the process registry: name -> immutable state snapshot,
 * readable lock-free from any thread under RCU (liburcu, memb flavour).
 *
 * One writer: the loop thread creates entries, publishes new snapshots and
 * deletes entries. Any number of readers (worker threads) look names up and
 * read snapshots inside rcu_read_lock()/rcu_read_unlock(), without taking a
 * lock the writer waits on and without allocating.
 *
 * A snapshot is never changed after it was published: a state change builds
 * a new one and publishes it; the old one is freed by call_rcu() after every
 * reader that could see it has left its read-side section. An entry removed
 * from the table is freed the same way, with its last snapshot.
 *
 * Every thread that calls any function here must be registered with
 * rcu_register_thread() (the loop thread too: cds_lfht add/del need it).
 *
 * Include this header, not <urcu.h> directly: it defines _LGPL_SOURCE so the
 * read side is inlined (~2 ns instead of ~14 ns per read, LIBRARY-NOTES.md).
 */
#ifndef BRM_REGISTRY_H
#define BRM_REGISTRY_H

#ifndef _LGPL_SOURCE
#define _LGPL_SOURCE
#endif
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <urcu.h>
#include <urcu/rculfhash.h>

#include "lib/procstate.h"

/*
 * An immutable snapshot of one process's state. Strings point into data[],
 * so a snapshot is one allocation and one free.
 */
struct brm_snapshot {
	struct rcu_head rcu;      /* for call_rcu; not part of the state */
	uint64_t generation;      /* config generation that defined the process */
	uint64_t version;         /* bumped by every publish of this process */
	enum brm_state state;
	int pid;                  /* 0 when no process runs */
	int exit_code;            /* last exit status, -1 when none */
	int exit_signal;          /* signal that ended the last run, 0 when none */
	uint32_t restarts;        /* automatic restarts since added/started by hand */
	uint32_t start_failures;  /* failed starts in the current series */
	uint32_t start_failures_total; /* failed starts since the process was added */
	uint64_t log_dropped;     /* output chunks its log file's writer dropped */
	int64_t since_ms;         /* wall clock of the last state change */
	int64_t started_ms;       /* wall clock when pid was started, 0 when none */
	int64_t next_retry_ms;    /* wall clock of the next start in backoff, else 0 */
	bool autostart;
	bool critical;            /* its end for good ends brummd (daemon/sup/critical.h) */
	const char *restart;      /* "always" | "on-failure" | "never" (static) */
	const char *type;         /* "simple" | "oneshot" (static); NULL: "simple" */
	const char *name;         /* into data[] */
	const char *error;        /* into data[], or NULL */
	const char *cmd;          /* into data[]: argv joined by spaces, for display */
	const char *extra_json;   /* more SNAP members (",\"urls\":[...]"), owned by the
	                             loop's log capture and freed by it via call_rcu; or NULL */
	const char *health;       /* "unknown" | "healthy" | "unhealthy" (static), NULL: no check */
	const char *health_output; /* into data[], or NULL: the last probe's output or error */
	const char *waiting_for;  /* into data[], or NULL: in waiting, what it waits for
	                             ("db: not healthy yet") */
	char data[];
};

/*
 * Allocate a snapshot holding copies of name, error (may be NULL) and cmd
 * (may be NULL); every other field is zeroed except exit_code = -1.
 * Ownership: the caller fills it in and hands it to brm_registry_insert or
 * brm_registry_publish, or frees it with brm_snapshot_free().
 * Context: any thread.
 */
struct brm_snapshot *brm_snapshot_create(const char *name, const char *error,
					 const char *cmd);
/* The same with copies of @health_output and @waiting_for (each may be NULL). */
struct brm_snapshot *brm_snapshot_create_ex(const char *name, const char *error,
					    const char *cmd, const char *health_output,
					    const char *waiting_for);
/* Copy of @s with its own strings, @error replacing s->error (NULL clears). */
struct brm_snapshot *brm_snapshot_dup(const struct brm_snapshot *s, const char *error);
void brm_snapshot_free(struct brm_snapshot *s);

struct brm_registry;

/* One name in the table. Readers get it from brm_registry_find/iteration. */
struct brm_reg_entry {
	struct cds_lfht_node node;
	struct brm_snapshot *snap;   /* RCU-protected: use brm_entry_snapshot() */
	struct rcu_head rcu;
	unsigned long hash;
	const char *name;            /* == the first snapshot's name copy, owned */
	void *owner;                 /* loop thread's private record; readers ignore */
	void *logs;                  /* RCU pointer: struct brm_logpub (daemon/logpub.h), or NULL */
};

/*
 * Create an empty registry. Ownership: caller destroys with
 * brm_registry_destroy(). Context: a registered RCU thread.
 */
struct brm_registry *brm_registry_create(void);

/*
 * Delete every entry, wait for the grace period and callbacks
 * (rcu_barrier), free the table. destroy(NULL) does nothing.
 * Context: writer thread, outside any read-side section, with no readers
 * left that could still use the registry.
 */
void brm_registry_destroy(struct brm_registry *reg);

/*
 * Add @name with its first snapshot @snap (takes ownership of @snap; its
 * name must equal @name). Returns the entry, or NULL when the name exists
 * (then @snap is freed).
 * Context: writer (loop thread) only.
 */
struct brm_reg_entry *brm_registry_insert(struct brm_registry *reg, struct brm_snapshot *snap);

/*
 * Publish @snap as the entry's current state (takes ownership); the
 * previous snapshot is freed after a grace period. snap->version is set to
 * the previous version + 1.
 * Context: writer (loop thread) only.
 */
void brm_registry_publish(struct brm_registry *reg, struct brm_reg_entry *e,
			  struct brm_snapshot *snap);

/*
 * Remove the entry; it and its snapshot are freed after a grace period.
 * Readers inside a read-side section may still use it until they unlock.
 * Context: writer (loop thread) only.
 */
void brm_registry_delete(struct brm_registry *reg, struct brm_reg_entry *e);

/*
 * Find @name. Returns NULL when absent. The entry and its snapshots stay
 * valid until rcu_read_unlock().
 * Context: caller holds rcu_read_lock() (the writer may call it without).
 */
struct brm_reg_entry *brm_registry_find(struct brm_registry *reg, const char *name);

/*
 * ThreadSanitizer does not understand liburcu's barriers: in a TSan build
 * the snapshot pointer is published and read with C11-style release/acquire
 * atomics instead, which it does understand (same ordering, on x86 the same
 * instructions).
 */
#if defined(__SANITIZE_THREAD__)
#define BRM_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define BRM_TSAN 1
#endif
#endif

/*
 * An entry is initialised by the writer and then made reachable by
 * cds_lfht_add_unique, whose barriers are inside uninstrumented liburcu-cds.
 * In a TSan build the writer releases the entry just before adding it and
 * every reader acquires it where it first gets hold of it (match_name, the
 * iterator), so TSan sees the initialisation happen before the reads.
 */
#ifdef BRM_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#define BRM_ENTRY_PUBLISH(e) __tsan_release(e)
#define BRM_ENTRY_FOUND(e) __tsan_acquire(e)
#else
#define BRM_ENTRY_PUBLISH(e) ((void)(e))
#define BRM_ENTRY_FOUND(e) ((void)(e))
#endif

/*
 * rcu_assign_pointer / rcu_dereference for any other RCU-published pointer
 * (entry->logs, brm_logpub.errs): the same spelling for ThreadSanitizer.
 * liburcu's rcu_assign_pointer is a barrier plus a plain volatile store,
 * which TSan takes for a racing write.
 */
#ifdef BRM_TSAN
#define brm_rcu_assign(p, v) __atomic_store_n(&(p), (v), __ATOMIC_RELEASE)
#define brm_rcu_deref(p) __atomic_load_n(&(p), __ATOMIC_ACQUIRE)
#else
#define brm_rcu_assign(p, v) rcu_assign_pointer(p, v)
#define brm_rcu_deref(p) rcu_dereference(p)
#endif

/* The entry's current snapshot. Context: caller holds rcu_read_lock(). */
static inline struct brm_snapshot *brm_entry_snapshot(struct brm_reg_entry *e)
{
#ifdef BRM_TSAN
	return __atomic_load_n(&e->snap, __ATOMIC_ACQUIRE);
#else
	return rcu_dereference(e->snap);
#endif
}

/* Number of entries (approximate while the writer changes it). Context: any RCU thread. */
size_t brm_registry_count(struct brm_registry *reg);

/*
 * How many times a name was added or deleted so far: a reader that keeps
 * a list of names (a log follow of a group) compares it with the value it
 * last saw to know when to look again. Context: any RCU thread.
 */
uint64_t brm_registry_changes(struct brm_registry *reg);

/*
 * Iterate over all entries, in no particular order:
 *
 *	struct brm_reg_iter it;
 *	struct brm_reg_entry *e;
 *	rcu_read_lock();
 *	brm_registry_for_each(reg, &it, e) { ... brm_entry_snapshot(e) ... }
 *	rcu_read_unlock();
 *
 * An entry added or deleted during the walk may or may not be seen; every
 * other entry is seen exactly once. The writer may delete the current entry.
 * Context: caller holds rcu_read_lock().
 */
struct brm_reg_iter {
	struct cds_lfht_iter it;
};
struct cds_lfht *brm_registry_table(struct brm_registry *reg);
/* The entry at @iter, or NULL at the end (no container_of on NULL, which
 * cds_lfht_for_each_entry does and UBSan's pointer-overflow check flags). */
static inline struct brm_reg_entry *brm_reg_iter_entry(struct brm_reg_iter *iter)
{
	struct cds_lfht_node *node = cds_lfht_iter_get_node(&iter->it);
	struct brm_reg_entry *e;

	if (!node)
		return NULL;
	e = caa_container_of(node, struct brm_reg_entry, node);
	BRM_ENTRY_FOUND(e);
	return e;
}
#define brm_registry_for_each(reg, iter, e)                                              \
	for (cds_lfht_first(brm_registry_table(reg), &(iter)->it);                        \
	     ((e) = brm_reg_iter_entry(iter)) != NULL;                                    \
	     cds_lfht_next(brm_registry_table(reg), &(iter)->it))

/* The seeded hash the registry uses for names (exposed for benchmarks). */
unsigned long brm_registry_hash(const struct brm_registry *reg, const char *name);

#endif
