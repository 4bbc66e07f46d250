/*
 * control.h — executes mutating requests on the loop thread: resolves the
 * target names, applies start/stop/restart/signal/add/remove to the
 * supervisor, and answers either at once or, with "wait", once every target
 * reached its goal state (or failed, or timed out).
 *
 * Context: loop thread only.
 */
#ifndef BRM_CONTROL_H
#define BRM_CONTROL_H

#include <stdint.h>
#include <uv.h>

#include "daemon/sup/cmd.h"
#include "daemon/sup/supervise.h"

struct brm_control;

/* Ownership: caller, brm_control_destroy(). Installs itself as @sup's observer. */
struct brm_control *brm_control_create(uv_loop_t *loop, struct brm_supervisor *sup);

/* Execute @cmd: its op's exec (cmd.h; the brm_cmdq callback, @arg is the control). */
void brm_control_execute(struct brm_cmd *cmd, void *arg);

/* Answer every pending wait with an error: brummd is shutting down. */
void brm_control_cancel_all(struct brm_control *ctl);

/* Free pending waits without answering (their workers are gone). */
void brm_control_destroy(struct brm_control *ctl);

/*
 * Service glue (daemon/sup/reload.c): @applied runs after a request was applied
 * to @p (start, stop, restart, signal, add; remove before the process is
 * gone); it may hold @cmd's reply (brm_persist_hold_reply); @reload executes `reload` and must reply through cmd->done.
 */
struct brm_control_hooks {
	void (*applied)(void *arg, struct brm_cmd *cmd, struct brm_proc *p);
	void (*reload)(void *arg, struct brm_cmd *cmd);
	void *arg;
};
void brm_control_set_hooks(struct brm_control *ctl, const struct brm_control_hooks *hooks);

/*
 * The daemon's shutdown (daemon/main.c): @fn executes `shutdown` and
 * owns @cmd from then on (it replies through cmd->done once every process
 * is down). Without one, shutdown is answered with an error.
 */
void brm_control_set_shutdown(struct brm_control *ctl,
			      void (*fn)(void *arg, struct brm_cmd *cmd), void *arg);

/* The config generation counter: bumped for every add and every reload. */
uint64_t brm_control_next_generation(struct brm_control *ctl);

#endif
