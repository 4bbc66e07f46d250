/*
 * logpub.h — what the loop thread's log capture (sup/logcap.h) publishes
 * for the workers that answer `logs` and `errors` and follow output
 * (rpc/logs.c, rpc/follow.c): the read-only view of a process's output
 * that readers find at its registry entry (struct brm_reg_entry.logs), the
 * hook that tells them new lines were added, and the request to reopen
 * every log file (`logs_reopen`).
 *
 * Why here, in daemon/ and not in sup/: a worker reads these without
 * including the loop thread's files, so it can reach nothing of the
 * capture but what is published for it; the loop thread (the one writer)
 * fills them in through logcap.h. logpub.c holds the hook and the reopen
 * count.
 */
#ifndef BRM_LOGPUB_H
#define BRM_LOGPUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <urcu.h>

struct brm_logring;

/* One error block: the matching line and the context lines after it. */
struct brm_logerr {
	struct rcu_head rcu;
	uint64_t seq;            /* of the first line */
	int64_t ts_ms;
	int stream;
	uint32_t nlines;
	bool open;               /* more context lines may still come */
	size_t len;
	char text[];             /* lines joined by '\n' */
};

/* The recent error blocks of a process, oldest first; immutable once published. */
struct brm_errset {
	struct rcu_head rcu;
	uint64_t total;          /* blocks seen since the process was added */
	uint32_t n;
	struct brm_logerr *recs[];
};

/* What readers find at entry->logs (rcu_dereference it). */
struct brm_logpub {
	struct rcu_head rcu;
	struct brm_logring *ring;
	struct brm_errset *errs; /* RCU pointer, may be NULL */
};

/*
 * Called on the loop thread after new lines (coalesced per read): rpc/follow.c
 * wakes followers. Context: set once before threads start.
 */
extern void (*brm_logs_on_lines)(void);

/* Reopen every log file before its next write (sup/logfile.c's writer).
 * Context: any thread. */
void brm_logfile_reopen_all(void);
/* A count that brm_logfile_reopen_all moves on: the writer reopens a file
 * whose count it last saw differs. Context: any thread. */
uint64_t brm_logfile_reopen_gen(void);

#endif
