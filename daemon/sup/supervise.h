/*
 * supervise.h — the supervisor: one record per process, the state machine
 * that moves it between stopped, starting, running, backoff, stopping,
 * exited and fatal (proto/PROTOCOL.md has the table), and the publication
 * of every change as a new snapshot in the registry.
 *
 * Context: everything here is for the loop thread only. The loop thread
 * owns the supervisor and every struct brm_proc; other threads see
 * processes only through the registry's snapshots.
 */
#ifndef BRM_SUPERVISE_H
#define BRM_SUPERVISE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

#include "daemon/conf/config.h"
#include "lib/registry.h"

struct brm_supervisor;
struct brm_proc;
/* The orchestration's record of a process (deps.c); opaque here. */
struct brm_orch;

enum brm_proc_event {
	BRM_EV_STATE,    /* the process changed state (or pid, error, ...) */
	BRM_EV_REMOVED,  /* the process is gone; the pointer dies after the call */
};

/* Called after every publish and before a removed process is freed. */
typedef void (*brm_observer_fn)(void *arg, struct brm_proc *p, enum brm_proc_event ev);


struct brm_spawn_req;

/*
 * Hooks for the orchestration (deps.c): dependencies, readiness, health.
 * Every member may be NULL. Context: called on the loop thread.
 */
struct brm_proc_hooks {
	void *arg;
	/* A start of @p was requested: true to make it wait (state waiting)
	 * until brm_proc_deps_met or brm_proc_deps_failed. */
	bool (*must_wait)(void *arg, struct brm_proc *p);
	/* Just before spawning: may set @req's env and extra descriptor. */
	void (*prepare_spawn)(void *arg, struct brm_proc *p, struct brm_spawn_req *req);
	/* Just after: @pid the child, or 0 when the spawn failed. */
	void (*spawned)(void *arg, struct brm_proc *p, int pid);
	/* True when @p becomes running only through brm_proc_set_ready
	 * instead of after start_secs. */
	bool (*ready_gated)(void *arg, struct brm_proc *p);
	/* Output read from @p's stdout or stderr. */
	void (*output)(void *arg, struct brm_proc *p, const char *data, size_t n);
	/* Shutdown: true to leave @p up for now (processes that depend on it
	 * still run); the hooks stop it later with brm_proc_stop. */
	bool (*defer_stop)(void *arg, struct brm_proc *p);
};

/*
 * Create a supervisor on @loop publishing into @reg (neither owned).
 * Ownership: caller, brm_supervisor_destroy().
 */
struct brm_supervisor *brm_supervisor_create(uv_loop_t *loop, struct brm_registry *reg);

/*
 * Free every process record. Call only once every process is settled
 * (after brm_supervisor_stop_all completed); then run the loop once more so
 * the handles' close callbacks free the memory. destroy(NULL) does nothing.
 */
void brm_supervisor_destroy(struct brm_supervisor *sup);

/*
 * Observers: those added with brm_supervisor_add_observer (events, ...)
 * first, in the order added, so that a change is recorded before the
 * control's observer (waiters) answers a request with it; then the
 * control's; then the service glue's (status line, state file).
 */
#define BRM_MAX_OBSERVERS 8
void brm_supervisor_set_observer(struct brm_supervisor *sup, brm_observer_fn fn, void *arg);
void brm_supervisor_set_service_observer(struct brm_supervisor *sup, brm_observer_fn fn,
					  void *arg);
/* Returns 0, or -ENOSPC when every slot is taken. */
int brm_supervisor_add_observer(struct brm_supervisor *sup, brm_observer_fn fn, void *arg);
void brm_supervisor_remove_observer(struct brm_supervisor *sup, brm_observer_fn fn, void *arg);

/* Install (copy) @hooks, or none with NULL. */
void brm_supervisor_set_hooks(struct brm_supervisor *sup, const struct brm_proc_hooks *hooks);
bool brm_supervisor_shutting_down(const struct brm_supervisor *sup);

/*
 * Add a process (takes ownership of @spec) in state stopped and publish its
 * first snapshot. Does not start it (see brm_proc_start / spec->autostart).
 * Returns 0 and *@out, -EEXIST when the name exists (spec freed), or
 * -ESHUTDOWN while shutting down (spec freed).
 */
int brm_supervisor_add(struct brm_supervisor *sup, struct brm_proc_spec *spec,
		       uint64_t generation, struct brm_proc **out);

/* The process named @name, or NULL. */
struct brm_proc *brm_supervisor_find(struct brm_supervisor *sup, const char *name);

/* Call @fn for every process, in no particular order; @fn must not remove. */
void brm_supervisor_each(struct brm_supervisor *sup,
			 void (*fn)(struct brm_proc *p, void *arg), void *arg);

/*
 * Stop every process in parallel, refuse new starts, and call @done once
 * every process is settled (no pid, no process group left).
 */
void brm_supervisor_stop_all(struct brm_supervisor *sup, void (*done)(void *arg), void *arg);

/* Number of processes. */
size_t brm_supervisor_count(struct brm_supervisor *sup);

/* Number of processes in state @st, kept on each transition (no pass).
 * Context: loop thread. */
size_t brm_supervisor_count_state(struct brm_supervisor *sup, enum brm_state st);

/* Number of processes whose spec has depends_on, kept on add, spec update
 * and removal (no pass). Context: loop thread. */
size_t brm_supervisor_count_with_deps(struct brm_supervisor *sup);

/*
 * Requests. Each returns 0 when applied (including "already there"), or a
 * negative errno: -ESHUTDOWN while shutting down, -EBUSY when the process
 * is being removed, -ESRCH (signal) when it has no running pid.
 * brm_proc_start of a waiting process asks the must_wait hook again (it
 * starts the dependencies that are down) and spawns it when all are met.
 */
/* stopping: starts once stopped; a one-shot that completed stays so (restart
 * runs it again) */
int brm_proc_start(struct brm_proc *p);
int brm_proc_stop(struct brm_proc *p);
/*
 * Stop @p once nothing that depends on it is up (the defer_stop hook): for
 * a stop of all, which then goes in reverse dependency order. Until then
 * @p runs on with brm_proc_stop_pending() true; the deps module stops it.
 */
int brm_proc_stop_after_dependents(struct brm_proc *p);
bool brm_proc_stop_pending(const struct brm_proc *p);
/*
 * A stop of a set (stop --all, a restart of several): mark every member
 * first (@p, when up, becomes stop-pending), then call
 * brm_proc_stop_after_dependents on each, so that a member waits for the
 * members that depend on it whatever the order of the calls.
 */
void brm_proc_mark_stop(struct brm_proc *p);
int brm_proc_restart(struct brm_proc *p);  /* stop if up, then start */
/*
 * The same, made for a reason other than an operator's request (@why:
 * "unhealthy: exit 1: db down", "reload", "dependency db stopped"; copied,
 * NULL for none). The reason is what the events of the transitions it
 * causes say (brm_proc_cause); a request that changes nothing leaves it.
 */
int brm_proc_start_because(struct brm_proc *p, const char *why);
int brm_proc_stop_because(struct brm_proc *p, const char *why);
int brm_proc_restart_because(struct brm_proc *p, const char *why);
/* In an observer: the reason of the request being carried out, or NULL
 * (kept from the request through stopping to the publish after it). */
const char *brm_proc_cause(const struct brm_proc *p);
/* @signo to the main process, or with @group to its whole process group
 * (the main process alone when it left its group). */
int brm_proc_signal(struct brm_proc *p, int signo, bool group);
/* Stop, then remove; BRM_EV_REMOVED fires when gone (maybe before return). */
int brm_proc_remove(struct brm_proc *p);

/*
 * Replace the spec of @p (takes ownership of @spec, same name) and publish.
 * Applies live: the next start, exit, stop or retry uses the new values; a
 * timer already armed keeps its old delay. A change that needs a new
 * process (cmd, env, ...) is the caller's to follow with brm_proc_restart.
 */
void brm_proc_update_spec(struct brm_proc *p, struct brm_proc_spec *spec, uint64_t generation);

const char *brm_proc_name(const struct brm_proc *p);
/* "type": "oneshot". */
bool brm_proc_is_oneshot(const struct brm_proc *p);
/* A one-shot whose last run exited with code 0 (state exited): for a
 * one-shot, what `running` is for a process meant to stay up. */
bool brm_proc_completed(const struct brm_proc *p);
enum brm_state brm_proc_state(const struct brm_proc *p);
/* True when the process has no pid and no process group left. */
bool brm_proc_settled(const struct brm_proc *p);
/* True once brm_proc_remove was called: it goes away when stopped. */
bool brm_proc_removing(const struct brm_proc *p);
/* The last published snapshot (valid until the next change of @p). */
const struct brm_snapshot *brm_proc_snapshot(const struct brm_proc *p);
const struct brm_proc_spec *brm_proc_spec(const struct brm_proc *p);
/* Orchestration (deps.c). A waiting process: spawn it now / make it fatal
 * with @why as its error. Other states: nothing happens. */
void brm_proc_deps_met(struct brm_proc *p);
void brm_proc_deps_failed(struct brm_proc *p, const char *why);
/*
 * Operator intent: @p was stopped by an operator's request (`stop`), and
 * only an operator's start or restart of it, or of a process that needs it,
 * clears that (daemon/sup/control.c). No implicit start (a dependent's start,
 * a restart by policy or health, autostart) starts a held process: the
 * dependency hooks leave its dependents waiting. Not published; the state
 * file keeps it across restarts of brummd (daemon/sup/reload.c).
 */
void brm_proc_set_held(struct brm_proc *p, bool held);
bool brm_proc_held(const struct brm_proc *p);
/* A starting process is ready: it becomes running. */
void brm_proc_set_ready(struct brm_proc *p);
/* Health for the snapshot: @health a static string or NULL (no check);
 * @output copied (may be NULL). Publishes when something changed. */
void brm_proc_set_health(struct brm_proc *p, const char *health, const char *output);
const char *brm_proc_health(const struct brm_proc *p);
/* What a waiting process waits for, for its snapshot ("db: not healthy
 * yet"; copied; NULL for nothing said). Publishes when it changed and @p is
 * waiting; cleared when @p leaves waiting. */
void brm_proc_set_waiting_for(struct brm_proc *p, const char *what);
pid_t brm_proc_pid(const struct brm_proc *p);
int brm_proc_exit_code(const struct brm_proc *p);      /* -1 when none */
struct brm_orch *brm_proc_orch(const struct brm_proc *p);
void brm_proc_set_orch(struct brm_proc *p, struct brm_orch *orch);
struct brm_supervisor *brm_proc_supervisor(const struct brm_proc *p);

/* In a BRM_EV_STATE observer: the state (enum brm_state) of the snapshot
 * published before this one, or -1 when this is the first. */
int brm_proc_prev_state(const struct brm_proc *p);
/* Likewise its pid (0 when none): the process that just ended, on an exit. */
int brm_proc_prev_pid(const struct brm_proc *p);
/* Likewise its health (NULL when none). */
const char *brm_proc_prev_health(const struct brm_proc *p);
/* Publish @proc's snapshot again (its log fields changed); for sup/logcap.c. */
void brm_proc_republish(struct brm_proc *p);

#endif
