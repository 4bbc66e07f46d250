/*
 * cmd.h — a mutating request on its way from a worker thread to the loop
 * thread and back.
 *
 * A worker parses and checks the request's params, fills a struct brm_cmd
 * and submits it (wait-free enqueue + uv_async_send). The loop thread drains
 * the whole queue on each wake-up (uv_async_send coalesces), executes each
 * command, writes the complete JSON-RPC reply line into cmd->reply and calls
 * cmd->done(cmd), which hands it back to its worker. The worker owns the
 * command again from then on and frees it with brm_cmd_destroy().
 *
 * Ownership: the worker, until brm_cmdq_submit(); the loop thread, until it
 * calls done(); the worker again after that.
 */
#ifndef BRM_CMD_H
#define BRM_CMD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>
#include <urcu/wfcqueue.h>

#include "lib/buf.h"

struct brm_proc_spec;
struct brm_persist;   /* daemon/sup/persist.h: a held reply's gate */

/*
 * The queues hand a command from thread to thread through liburcu's
 * wait-free queue, whose ordering ThreadSanitizer cannot see; these tell it
 * that what one thread wrote before the hand-off is visible after it.
 */
#if defined(__SANITIZE_THREAD__)
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#define BRM_HANDOFF_RELEASE(p) __tsan_release(p)
#define BRM_HANDOFF_ACQUIRE(p) __tsan_acquire(p)
#else
#define BRM_HANDOFF_RELEASE(p) ((void)(p))
#define BRM_HANDOFF_ACQUIRE(p) ((void)(p))
#endif

struct brm_cmd;
struct brm_control;

/* What an applied command makes the persisted desired state say (reload.c). */
enum brm_cmd_intent {
	BRM_INTENT_NONE,     /* nothing (signal, wait, ...) */
	BRM_INTENT_RUN,      /* start, restart: it, and what it needs, not stopped by request */
	BRM_INTENT_STOP,     /* stop: stopped by request */
	BRM_INTENT_ADD,      /* add: added at runtime, with its spec */
	BRM_INTENT_FORGET,   /* remove: gone */
};

/*
 * What the loop thread does with a command. One per method that runs
 * there (the `loop` of its entry in the method table, daemon/rpc/methods.h,
 * which says everything else about it), plus brm_op_cancel; all defined in
 * control.c, whose brm_control_execute() calls @exec.
 * Context: @exec on the loop thread.
 */
struct brm_cmd_op {
	const char *name;            /* the method's, for messages */
	void (*exec)(struct brm_control *ctl, struct brm_cmd *cmd);
	enum brm_cmd_intent intent;
};

extern const struct brm_cmd_op brm_op_start, brm_op_stop, brm_op_restart, brm_op_signal,
	brm_op_add, brm_op_remove, brm_op_reload, brm_op_wait;
/* Stop everything, answer once all are down, then brummd exits. */
extern const struct brm_cmd_op brm_op_shutdown;
/* The connection of command @cancel_serial closed: drop its pending wait,
 * if it still has one (its reply would go nowhere). No reply. */
extern const struct brm_cmd_op brm_op_cancel;

struct brm_cmd {
	struct cds_wfcq_node node;
	const struct brm_cmd_op *op;
	uint64_t serial;              /* unique per command, from brm_cmd_create */

	/* The request, filled by the worker. */
	char *id_json;                /* the request's id as JSON text */
	char **names;                 /* NULL-terminated; NULL with all */
	bool all;
	bool wait;
	double timeout_secs;          /* with wait */
	int signo;                    /* signal */
	bool to_group;                /* signal: the process group, not the main process */
	struct brm_proc_spec *spec;   /* add; the loop takes it */
	char *spec_json;              /* add: the spec as given, for the state file */
	int max_procs;                /* add: limits.max_processes (0: none) */
	int want_state;               /* wait: enum brm_state, or -1 */
	char *want_health;            /* wait: or NULL */
	uint64_t cancel_serial;       /* cancel: the command to cancel */

	/* The reply: one complete JSON-RPC line, written by the loop. */
	struct brm_buf reply;

	/* Routing back to the worker; set by the worker. */
	bool no_reply;                /* a JSON-RPC notification: drop the reply */
	pid_t peer_pid;               /* who asked (for the log); 0 when unknown */
	uid_t peer_uid;
	void (*done)(struct brm_cmd *cmd);
	void *owner;                  /* the worker's connection */
	struct cds_wfcq_node ret_node;/* for the worker's return queue */

	/*
	 * Durability (daemon/sup/persist.c), loop thread only: a command that
	 * changed the persisted state has its done() replaced by the state's
	 * gate, which calls @handback (the worker's done) once the state of
	 * generation @durable_gen is on disk. Zero/NULL for other commands.
	 */
	uint64_t durable_gen;
	void (*handback)(struct brm_cmd *cmd);
	struct brm_persist *gate_arg;
	struct brm_cmd *held_next;    /* on the state's list of held replies */
};

/* Ownership: caller; free with brm_cmd_destroy(). Context: any thread. */
struct brm_cmd *brm_cmd_create(const struct brm_cmd_op *op, const char *id_json);
void brm_cmd_destroy(struct brm_cmd *cmd);

/* The queue into the loop thread. */
struct brm_cmdq {
	struct cds_wfcq_head head;
	struct cds_wfcq_tail tail;
	uv_async_t async;
	void (*execute)(struct brm_cmd *cmd, void *arg);
	void *arg;
};

/*
 * Set up the queue on @loop; @execute runs on the loop thread for every
 * submitted command. Context: loop thread.
 */
int brm_cmdq_init(struct brm_cmdq *q, uv_loop_t *loop,
		  void (*execute)(struct brm_cmd *cmd, void *arg), void *arg);
/* Close the async handle. Commands still queued are returned through done()
 * with a "shutting down" error, after the close hook (below) has answered
 * what it holds. Context: loop thread. */
void brm_cmdq_close(struct brm_cmdq *q);

/*
 * One hook run first by brm_cmdq_close(), while the workers still take
 * replies: for a module that holds replies of executed commands (the state
 * file's durable replies) to answer them all. @fn NULL removes it.
 * Context: loop thread.
 */
void brm_cmdq_set_close_hook(void (*fn)(void *arg), void *arg);

/* Free every queued command without answering: for after the workers
 * have gone. Context: loop thread, after brm_cmdq_close(). */
void brm_cmdq_discard(struct brm_cmdq *q);

/* Enqueue and wake the loop. Takes ownership of @cmd. Context: any thread. */
void brm_cmdq_submit(struct brm_cmdq *q, struct brm_cmd *cmd);

/* Execute every queued command now. Context: loop thread. */
void brm_cmdq_drain(struct brm_cmdq *q);

#endif
