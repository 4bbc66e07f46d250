/*
 * supervise_int.h — inside the supervisor: the records (struct brm_proc,
 * struct brm_supervisor) and the functions shared by its three files:
 * supervise.c (the state machine), pipes.c (the child output pipes) and
 * supervisor.c (the collection of records and its observers). Nothing
 * outside those three includes it; other modules see a process only
 * through supervise.h.
 *
 * Context: loop thread only, like everything of the supervisor.
 */
#ifndef BRM_SUPERVISE_INT_H
#define BRM_SUPERVISE_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

#include "daemon/conf/orchspec.h"
#include "daemon/sup/supervise.h"

struct brm_logcap;
struct outpipe;

struct exitwatch {
	uv_poll_t poll;
	int pidfd;
	struct brm_proc *p;       /* NULL once the exit was handled */
};

struct brm_proc {
	struct brm_supervisor *sup;
	struct brm_proc_spec *spec;
	struct brm_reg_entry *entry;
	char *cmd_display;
	uint64_t generation;

	enum brm_state state;
	pid_t pid;                /* running main process, 0 when none */
	pid_t pgid;               /* its process group while it may have members */
	struct exitwatch *watch;  /* while pid != 0 */
	struct outpipe *pipes;    /* open output pipes, of this run or earlier ones */
	struct brm_logcap *logs;  /* output capture (sup/logcap.c) */

	int exit_code;            /* -1 when none */
	int exit_signal;
	uint32_t restarts;
	uint32_t start_failures;
	uint32_t start_failures_total;  /* never reset: for metrics */
	uint32_t rapid_exits;     /* restarts in a row that ran < RAPID_EXIT_SECS */
	int64_t since_ms;
	int64_t started_ms;
	int64_t next_retry_ms;
	uint64_t started_mono_ns;
	char *error;
	int prev_state;           /* of the snapshot before the last publish; -1: none */
	int pub_state;            /* of the last published snapshot; -1: none */
	pid_t prev_pid, pub_pid;  /* the same for the pid */

	uv_timer_t timer;
	uint64_t stop_deadline;   /* uv_now() ms when SIGKILL is due */
	bool killed;              /* SIGKILL sent in this stop */
	bool leader_gone;         /* stopping: main process reaped */

	bool start_after_stop;    /* restart / start while stopping */
	bool stop_pending;        /* stop --all: waits for its dependents to stop */
	bool held;                /* stopped by an operator's request (brm_proc_held) */
	bool unsettled;           /* counted in sup->nunsettled (brm_proc_count_settled) */
	bool removing;
	bool freed;               /* unlinked; waiting for handle closes */
	int closing;              /* handles still closing */

	const char *health;       /* "unknown" | "healthy" | "unhealthy" (static), or NULL */
	char *health_output;      /* the last probe's output or error, or NULL */
	const char *prev_health, *pub_health;  /* as prev_state, pub_state */
	char *waiting_for;        /* in waiting: what for ("db: not healthy yet"), or NULL */
	char *cause;              /* why the request being carried out was made, or NULL */
	struct brm_orch *orch;    /* the orchestration hooks' record (deps.c) */

	struct brm_proc *next;    /* sup->procs list */
	struct brm_proc **pprev;  /* what points at it there: unlinked in O(1) */
};

struct brm_supervisor {
	uv_loop_t *loop;
	struct brm_registry *reg;
	struct brm_proc *procs;
	size_t nprocs;
	/* Kept on every change, so no change needs a pass over the processes:
	 * how many are in each state (brm_proc_set_state), and how many have
	 * depends_on (add, update_spec, removal). */
	size_t nstate[BRM_STATE_COUNT];
	size_t nwith_deps;
	/* How many linked records are not brm_proc_settled: the stop of all
	 * is done when it reaches 0, learnt without a pass per exit. */
	size_t nunsettled;
	/* [0] control (waiters), [1] service glue, [2..] brm_supervisor_add_observer */
	struct {
		brm_observer_fn fn;
		void *arg;
	} obs[BRM_MAX_OBSERVERS];
	struct brm_proc_hooks hooks;
	bool shutting_down;
	void (*stop_all_done)(void *arg);
	void *stop_all_arg;
};

/* Does @spec have depends_on? What brm_supervisor_count_with_deps counts. */
static inline bool brm_spec_has_deps(const struct brm_proc_spec *spec)
{
	return spec->orch && spec->orch->ndeps;
}

/* supervise.c */

/* Build a new snapshot of @p, hand it to the registry, tell the observers. */
void brm_proc_publish(struct brm_proc *p);
void brm_proc_set_state(struct brm_proc *p, enum brm_state st);
/* @sig to @p's process group (SIGCONT after it with @cont). */
void brm_proc_kill_group(struct brm_proc *p, int sig, bool cont);
void brm_proc_begin_stop(struct brm_proc *p);
/* Unlink @p from its supervisor and close its handles (freed when closed). */
void brm_proc_finish_removal(struct brm_proc *p);
/* Close callbacks: of the record's timer, and of its exit watch. */
void brm_proc_on_handle_closed(uv_handle_t *h);
void brm_proc_on_watch_closed(uv_handle_t *h);
/* @argv as one line, for the snapshot's "cmd". Ownership: caller frees. */
char *brm_proc_join_argv(char *const *argv);

/* pipes.c */

/* Read @fd (the child's @stream: 1 stdout, 2 stderr) into @p's capture;
 * takes ownership of @fd. */
void brm_outpipe_attach(struct brm_proc *p, int fd, int stream);
/* Unlink @op from its record and close it (freed when closed). */
void brm_outpipe_close(struct outpipe *op);
/* Read what @p's pipes hold now, so its last words precede its exit line. */
void brm_proc_drain_pipes(struct brm_proc *p);

/* supervisor.c */

/* After a change of @p's pid or state: count it in nunsettled or not. */
void brm_proc_count_settled(struct brm_proc *p);
/* Shutting down and every process settled: call stop_all's done callback. */
void brm_supervisor_maybe_stop_all_done(struct brm_supervisor *sup);

#endif
