/*
 * deps.h — orchestration on top of the supervisor: start-order
 * dependencies (depends_on), readiness (notify-fd, sd-notify, health) and
 * the health checks of every process (health.h).
 *
 * A start of a process whose dependencies are not met puts it in
 * `waiting`; every state change of any process re-checks the waiting ones:
 * all met -> it is spawned; a dependency fatal, or exited (for "completed":
 * exited with a code other than 0), or a cycle -> `fatal` with an error
 * that names the dependency. A name that does not exist (yet: a runtime
 * `add` may name a process added later) keeps it waiting. Starting a process starts the
 * dependencies it needs that are not up, except those stopped by request
 * (brm_proc_held): its start leaves it waiting for them, its waiting_for
 * saying so ("redis: stopped by request", daemon/sup/waitfor.h). At shutdown a process is stopped only once
 * every process depending on it is down (reverse order); a stop of a set
 * (brm_proc_mark_stop) waits only for the members that depend on it.
 *
 * Readiness: "notify-fd" passes the write end of a pipe as descriptor
 * notify_fd (3); a newline written to it makes the process running.
 * "sd-notify" sets $NOTIFY_SOCKET to an abstract datagram socket brummd
 * listens on; a datagram with a line READY=1 from a process of the
 * child's process group (checked with SCM_CREDENTIALS) makes it running.
 *
 * Context: loop thread only.
 */
#ifndef BRM_DEPS_H
#define BRM_DEPS_H

#include <uv.h>

#include "daemon/sup/supervise.h"

struct brm_deps;

/* Installs the supervisor hooks and an observer. Ownership: caller,
 * brm_deps_destroy (before brm_supervisor_destroy). */
struct brm_deps *brm_deps_create(uv_loop_t *loop, struct brm_supervisor *sup);
void brm_deps_destroy(struct brm_deps *d);

/*
 * Call @fn for @p and for every process it depends on, directly or not,
 * each once (depends_on names that exist; at most 64 levels deep): what a
 * start of @p may start on its behalf.
 */
void brm_deps_each_needed(struct brm_supervisor *sup, struct brm_proc *p,
			  void (*fn)(struct brm_proc *q, void *arg), void *arg);

#endif
