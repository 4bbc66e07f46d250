/*
 * control_int.h — inside control: what control.c (executing the requests)
 * and waiter.c (waiting for their targets' states) share: the control
 * record, the restart-set record (whose waiter unhooks itself when it goes
 * first), the replies both write, and the waiter functions control.c
 * calls. Nothing else includes it; the rest of brummd sees control.h.
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
struct waiter;   /* waiter.c's */
struct wlink;

enum goal {
	GOAL_RUNNING,   /* start, restart */
	GOAL_STOPPED,   /* stop */
	GOAL_REMOVED,   /* remove */
	GOAL_STATE,     /* wait: want_state and/or want_health */
};

/* A restart of several processes: all stop (reverse dependency order), then all start. */
struct restartset {
	struct brm_proc **procs;   /* NULL entries: removed meanwhile */
	size_t n;
	struct waiter *w;          /* the request's wait, or NULL (waiter.c clears it) */
	struct restartset *next;
};

struct brm_control {
	uv_loop_t *loop;
	struct brm_supervisor *sup;
	struct restartset *sets;
	/* waiter.c's: the waiters, and the index of their links by process */
	struct waiter *waiters;
	struct wlink **buckets;    /* power of two */
	size_t nbuckets;
	size_t nlinks;
	uint64_t generation;
	struct brm_control_hooks hooks;
	void (*shutdown)(void *arg, struct brm_cmd *cmd);
	void *shutdown_arg;
};

/* control.c: the replies */

void brm_control_snapshots_json(struct brm_buf *b, struct brm_proc **procs, size_t n);
void brm_control_reply_snapshots(struct brm_cmd *cmd, struct brm_proc **procs, size_t n);
void brm_control_reply_one(struct brm_cmd *cmd, const struct brm_snapshot *s);
void brm_control_reply_error(struct brm_cmd *cmd, int code, const char *msg,
			     struct brm_proc **procs, size_t n);

/* waiter.c */

/*
 * Wait until @cmd's targets @procs[@n] reach @goal (GOAL_STATE: the state
 * and health @cmd asks for), for at most @timeout_secs (0: no limit).
 * Returns the waiter; judge it first with brm_waiter_check. It writes @cmd's
 * reply and calls cmd->done when it settles, times out or is cancelled.
 * Ownership: takes @cmd; copies @procs.
 */
struct waiter *brm_waiter_add(struct brm_control *ctl, struct brm_cmd *cmd,
			      enum goal goal, struct brm_proc **procs, size_t n,
			      double timeout_secs);
/* Judge every target of a new @w; answer it when settled. */
void brm_waiter_check(struct waiter *w);
/* @w judges nothing while restart set @rs runs its first phase; NULL
 * ends that (brm_waiter_check then judges it). */
void brm_waiter_set_restartset(struct waiter *w, struct restartset *rs);
/* Drop the wait of command @serial unanswered: its connection closed. */
void brm_waiter_cancel(struct brm_control *ctl, uint64_t serial);
/* @p changed or is going: judge the waiters on it, answer the settled ones. */
void brm_waiter_observe(struct brm_control *ctl, struct brm_proc *p,
			enum brm_proc_event ev);
/* Free every waiter unanswered (their workers are gone), and the index. */
void brm_waiter_free_all(struct brm_control *ctl);

#endif
