/*
 * control_int.h — inside control: what control.c (executing the requests)
 * and waiter.c (waiting for their targets' states) share: the control
 * record, the waiter and restart-set records that point at each other, the
 * replies both write, and the waiter functions control.c calls. Nothing
 * else includes it; the rest of brummd sees control.h.
 *
 * Context: loop thread only, like all of control.
 */
#ifndef BRM_CONTROL_INT_H
#define BRM_CONTROL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "daemon/sup/cmd.h"
#include "daemon/sup/control.h"
#include "daemon/sup/supervise.h"
#include "lib/buf.h"

struct restartset;
struct wlink;

enum goal {
	GOAL_RUNNING,   /* start, restart */
	GOAL_STOPPED,   /* stop */
	GOAL_REMOVED,   /* remove */
	GOAL_STATE,     /* wait: want_state and/or want_health */
};

struct waiter {
	struct brm_control *ctl;
	struct brm_cmd *cmd;
	enum goal goal;
	size_t n;
	struct brm_proc **procs;   /* NULL entries: removed meanwhile */
	struct wlink *links;       /* [n]: links[i] watches procs[i] */
	size_t npending, nfailed;  /* links with that verdict */
	size_t nfinal;             /* links with final set */
	int want_state;            /* GOAL_STATE: enum brm_state, or -1 */
	char *want_health;         /* GOAL_STATE: or NULL */
	uv_timer_t *timer;         /* NULL without a timeout */
	double timeout_secs;
	struct waiter *ready_next; /* observe(): to answer after the pass */
	bool ready;
	struct restartset *rs;     /* its first phase still runs: judge nothing yet */
	struct waiter *prev, *next;
};

/* A restart of several processes: all stop (reverse dependency order), then all start. */
struct restartset {
	struct brm_proc **procs;   /* NULL entries: removed meanwhile */
	size_t n;
	struct waiter *w;          /* the request's wait, or NULL */
	struct restartset *next;
};

struct brm_control {
	uv_loop_t *loop;
	struct brm_supervisor *sup;
	struct restartset *sets;
	struct waiter *waiters;
	struct wlink **buckets;    /* the index: process -> links; power of two */
	size_t nbuckets;
	size_t nlinks;
	uint64_t generation;
	struct brm_control_hooks hooks;
	void (*shutdown)(void *arg, struct brm_cmd *cmd);
	void *shutdown_arg;
};

/* control.c: the replies */

void snapshots_json(struct brm_buf *b, struct brm_proc **procs, size_t n);
void reply_snapshots(struct brm_cmd *cmd, struct brm_proc **procs, size_t n);
void reply_one(struct brm_cmd *cmd, const struct brm_snapshot *s);
void reply_error(struct brm_cmd *cmd, int code, const char *msg,
		 struct brm_proc **procs, size_t n);

/* waiter.c */

struct waiter *waiter_add(struct brm_control *ctl, struct brm_cmd *cmd, enum goal goal,
			  struct brm_proc **procs, size_t n, double timeout_secs);
void waiter_check(struct waiter *w);
void waiter_cancel(struct brm_control *ctl, uint64_t serial);
void waiter_unlink(struct waiter *w);
void waiter_free(struct waiter *w);
void observe_links(struct brm_control *ctl, struct brm_proc *p, enum brm_proc_event ev);

#endif
