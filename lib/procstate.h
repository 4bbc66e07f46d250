/*
 * procstate.h — the states a process is in (struct brm_snapshot's state)
 * and their names. The names are part of the protocol (proto/PROTOCOL.md;
 * proto/proto.h includes this header); the enum lives in lib/ because the
 * registry's snapshots hold it, and lib/ includes nothing from proto/.
 *
 * Everything here is safe from any thread.
 */
#ifndef BRM_PROCSTATE_H
#define BRM_PROCSTATE_H

/* Process states; the order is part of no contract, the names are. */
enum brm_state {
	BRM_STOPPED = 0,
	BRM_STARTING,
	BRM_RUNNING,
	BRM_BACKOFF,
	BRM_STOPPING,
	BRM_EXITED,
	BRM_FATAL,
	BRM_WAITING,     /* start requested; its dependencies are not met yet */
	BRM_STATE_COUNT
};

/* "stopped", "starting", ...; "unknown" for an out-of-range value. */
const char *brm_state_name(enum brm_state s);
/* Returns the state or -1 for an unknown name. */
int brm_state_parse(const char *name);

#endif
