/*
 * procstat.h — CPU and memory of a supervised process, read from /proc on
 * the worker that answers `status` with "stats": true. The loop thread is
 * never involved and nothing is sampled while nobody asks.
 *
 * The figures cover the process group the main process leads: the main
 * process and its descendants (found through /proc/PID/task/TID/children)
 * that are still in its group. A descendant that left the group (setsid)
 * or was re-parented away from the tree is not counted.
 *
 *   cpu_secs     user + system time of the members, plus that of their
 *                children they have waited for
 *   cpu_percent  of one CPU, over the time since an earlier query of the
 *                same process by any worker (a window of 0.25 s to about
 *                1 s; each worker's query may re-base it); the first query
 *                gives the average since the main process started
 *   rss_bytes    the sum of the members' resident set sizes (pages shared
 *                between members count once per member)
 *
 * Context: any thread; reads /proc and takes a mutex that only readers of
 * this module take (never the loop thread). That is why it lives in
 * daemon/, beside neither sup/ nor rpc/: the workers read the figures
 * (rpc/status.c) and the loop thread reads /proc/PID/stat through
 * brm_pstat_read and brm_pstat_children (sup/proctree.c, sup/leftovers.c).
 */
#ifndef BRM_PROCSTAT_H
#define BRM_PROCSTAT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/buf.h"

struct brm_registry;

struct brm_procstat {
	pid_t pid;
	bool ok;              /* false: the process is gone or /proc said nothing */
	unsigned nprocs;      /* members counted */
	double cpu_secs;
	double cpu_percent;
	uint64_t rss_bytes;
};

/* One /proc/PID/stat: the fields brummd reads. */
struct brm_pstat {
	char state;                 /* 'R', 'S', ..., 'Z' for a zombie */
	pid_t pgrp;
	long nthreads;
	unsigned long long ticks;   /* utime + stime + cutime + cstime */
	unsigned long long start;   /* in ticks since boot */
	long rss_pages;
};

/* Read /proc/@pid/stat. Returns 0, -ESRCH (gone) or -EINVAL. */
int brm_pstat_read(pid_t pid, struct brm_pstat *ps);

/*
 * Parse the text of a /proc/PID/stat (NUL-terminated) into @ps, without
 * sscanf (a twelfth of the cost: the loop thread reads one per spawn).
 * Returns 0 or -EINVAL when a field up to rss is missing or not a number.
 */
int brm_pstat_parse(const char *text, struct brm_pstat *ps);

/*
 * Append the children of every thread of @pid (@nthreads, from its stat,
 * saves listing /proc/PID/task for a single-threaded one) to @q, which has
 * room for @max; *@nq grows. Children of a thread that exits meanwhile are
 * missed: /proc gives no atomic view of a tree.
 */
void brm_pstat_children(pid_t pid, long nthreads, pid_t *q, size_t *nq, size_t max);

/* Read the figures for the group led by @pid. Returns 0 or -errno. */
int brm_procstat_read(pid_t pid, struct brm_procstat *st);

/* The stats of a status request: one per pid, sorted by pid. */
struct brm_procstat_set {
	struct brm_procstat *v;
	size_t n, cap;
};

/*
 * Fill @set with the stats of @names (@n of them; every process when
 * @names is NULL), reading /proc outside any RCU read-side section.
 * Context: a registered RCU reader, not inside a read-side section.
 */
void brm_procstat_collect(struct brm_registry *reg, const char *const *names, size_t n,
			  struct brm_procstat_set *set);
/* The entry for @pid, or NULL. */
const struct brm_procstat *brm_procstat_find(const struct brm_procstat_set *set, pid_t pid);
void brm_procstat_set_finish(struct brm_procstat_set *set);

/*
 * Append ,"cpu_percent":..,"cpu_secs":..,"rss_bytes":.. to a SNAP object
 * just written to @out (replacing its closing brace); nulls when @st is
 * NULL or not ok.
 */
void brm_procstat_json(struct brm_buf *out, const struct brm_procstat *st);

#endif
