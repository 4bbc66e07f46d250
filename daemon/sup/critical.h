/*
 * critical.h — the processes brummd cannot do without: when one ends for
 * good, brummd shuts down as on SIGTERM and exits with its status, so that
 * a container whose init is brummd ends with the status of its service
 * (tini and dumb-init pass on their one child's; s6-overlay's
 * S6_BEHAVIOUR_IF_STAGE2_FAILS does the like for a failed service).
 *
 * What ends brummd, each only while it is not already shutting down and
 * only for a process that is not being removed:
 *
 *  - a process with "critical": true that goes fatal (its start failed
 *    start_retries times, a one-shot failed for the last time, a dependency
 *    failed), or that exits and its restart policy does not restart it
 *    ("never", or "on-failure" after exit 0): its end, clean or not, is the
 *    end of the container. A critical one-shot that completes (exit 0) is
 *    not an end: it did its job, and brummd runs on;
 *  - with "exit_with": "first_failure", also any process that fails for
 *    good: goes fatal, or exits with a non-zero code or by a signal and is
 *    not restarted. An exit 0 that is not restarted is no failure.
 *
 * A process that an operator stopped (`stop`) is stopped, not ended, and a
 * restart by policy is no end either. The exit status is the process's exit
 * code, or 128 + the signal that killed it (as a shell reports it); a fatal
 * process without one (it never ran: the command is missing) or with 0
 * (restart "always" gave up on a quick clean exit) gives 1.
 */
#ifndef BRM_SUP_CRITICAL_H
#define BRM_SUP_CRITICAL_H

#include <uv.h>

#include "daemon/conf/config.h"

struct brm_supervisor;

/*
 * Called once (then never again), from a timer of its own after the change
 * was published to every observer: brummd should shut down and exit with
 * @status; @why says which process and how ("db exited with code 3").
 */
typedef void (*brm_critical_fn)(void *arg, int status, const char *why);

/* Watch @sup's processes; @fn(@arg) as above. Returns 0, or -ENOSPC when
 * no observer slot is left. Context: loop thread, at start-up. */
int brm_critical_watch(uv_loop_t *loop, struct brm_supervisor *sup, enum brm_exit_with w,
		       brm_critical_fn fn, void *arg);

/* The top-level "exit_with" of a reloaded config, applied at once.
 * Context: loop thread. */
void brm_critical_set_exit_with(enum brm_exit_with w);

/* Close the timer. Context: loop thread, at shutdown. */
void brm_critical_close(void);

#endif
