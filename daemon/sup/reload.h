/*
 * reload.h — the desired set of processes: the config file plus the
 * persisted state (persist.h), applied at start-up and again on every reload
 * (SIGHUP, or the `reload` method).
 *
 * A reload reads the config file again (on the loop thread: a local file of
 * at most 4 MiB, read in one go, so the loop stalls for well under a
 * millisecond for a normal config) and applies the difference:
 *
 *  - a process new in the file is added, and started when autostart (once
 *    every new one is added);
 *  - a process the old file defined and the new one does not is stopped and
 *    removed (processes added at runtime with `add` are not the file's and
 *    are left alone);
 *  - a changed process gets its new spec live when only live fields changed
 *    (brm_spec_diff), and is restarted when a field that shapes the process
 *    itself changed and it was starting or running;
 *  - an invalid file is rejected whole: nothing changes.
 *
 * Context: loop thread only.
 */
#ifndef BRM_RELOAD_H
#define BRM_RELOAD_H

#include <uv.h>

#include "daemon/conf/config.h"
#include "daemon/sup/control.h"
#include "daemon/service.h"
#include "daemon/sup/persist.h"
#include "daemon/sup/supervise.h"
#include "lib/buf.h"

enum brm_spec_change {
	BRM_SPEC_SAME,      /* nothing changed */
	BRM_SPEC_LIVE,      /* only fields that apply to the running process */
	BRM_SPEC_RESTART,   /* a field that needs a new process changed */
};

/*
 * Compare two specs of the same process. Live fields: autostart, restart,
 * start_secs, start_retries, backoff_secs, backoff_max_secs, min_uptime_secs,
 * stop_signal, stop_timeout_secs, critical, depends_on, health. Restart
 * fields: cmd, shell, cwd, env, user, group, umask, orphan, ready (and
 * notify_fd), env_file (the list of files: their contents are read at each
 * start anyway), rlimits, nice, oom_score_adj. *@field (may be NULL) names the first restart field
 * found, else the first live one. Context: any thread.
 */
enum brm_spec_change brm_spec_diff(const struct brm_proc_spec *old,
				   const struct brm_proc_spec *new_, const char **field);

struct brm_reload;

/*
 * @config_path: the file to re-read, NULL for the embedded default; @cfg:
 * the config brummd started with (read, not kept). Installs the control
 * hooks that keep @state current. None of the pointers is owned.
 */
struct brm_reload *brm_reload_create(struct brm_supervisor *sup, struct brm_control *ctl,
				     struct brm_service *svc, struct brm_persist *state,
				     const char *config_path, const struct brm_config *cfg);
void brm_reload_destroy(struct brm_reload *rl);

/* Add the processes of @cfg (taking its specs) and those added at runtime
 * in an earlier life, all of them first; then start those with autostart
 * that were not stopped by request (brm_proc_held, from the state file). */
void brm_reload_startup(struct brm_reload *rl, struct brm_config *cfg);

/* SIGHUP: reload, log the outcome, notify RELOADING=1 then READY=1. */
void brm_reload_signal(struct brm_reload *rl);

/* Refuse reloads from now on (shutdown started). */
void brm_reload_shutdown(struct brm_reload *rl);

#endif
