/*
 * waitfor.c — the words for what a waiting process waits for (waitfor.h).
 */
#include <string.h>

#include "daemon/sup/loopcheck.h"
#include "daemon/sup/waitfor.h"
#include "lib/util.h"

/* What @q lacks for @cond, from its state and health. */
static const char *lacking(enum brm_dep_cond cond, struct brm_proc *q)
{
	const char *h = brm_proc_health(q);

	switch (brm_proc_state(q)) {
	case BRM_STOPPED:
		return "stopped";
	case BRM_WAITING:
		return "waiting for its own dependencies";
	case BRM_BACKOFF:
		return "in backoff after a failed start";
	case BRM_STOPPING:
		return "stopping";
	case BRM_EXITED:
		return "exited";
	case BRM_FATAL:
		return "fatal";
	case BRM_STARTING:
	case BRM_RUNNING:
	case BRM_STATE_COUNT:
		break;
	}
	switch (cond) {
	case BRM_DEP_STARTED:
		return "not started yet";
	case BRM_DEP_RUNNING:
		return "not running yet";
	case BRM_DEP_HEALTHY:
		if (!h)
			return "has no health check";
		return !strcmp(h, "unhealthy") ? "unhealthy" : "not healthy yet";
	case BRM_DEP_COMPLETED:
		return "not completed yet";
	}
	return "not ready";
}

char *brm_waiting_for(const struct brm_dep *d, struct brm_proc *q)
{
	BRM_ASSERT_LOOP();
	if (!q)
		return brm_xasprintf("%s: no such process yet", d->name);
	/* Only an operator's start brings it back (brm_proc_held). */
	if (brm_proc_held(q))
		return brm_xasprintf("%s: stopped by request", d->name);
	return brm_xasprintf("%s: %s", d->name, lacking(d->cond, q));
}
