/*
 * procstate.c — the names of the process states (procstate.h).
 */
#include <string.h>

#include "lib/procstate.h"

static const char *const state_names[BRM_STATE_COUNT] = {
	[BRM_STOPPED] = "stopped",
	[BRM_STARTING] = "starting",
	[BRM_RUNNING] = "running",
	[BRM_BACKOFF] = "backoff",
	[BRM_STOPPING] = "stopping",
	[BRM_EXITED] = "exited",
	[BRM_FATAL] = "fatal",
	[BRM_WAITING] = "waiting",
};

const char *brm_state_name(enum brm_state s)
{
	if ((unsigned)s >= BRM_STATE_COUNT)
		return "unknown";
	return state_names[s];
}

int brm_state_parse(const char *name)
{
	for (int i = 0; i < BRM_STATE_COUNT; i++)
		if (strcmp(state_names[i], name) == 0)
			return i;
	return -1;
}
