/*
 * waitfor.h — what a waiting process waits for, in words: the text of its
 * snapshot's `waiting_for` ("db: not healthy yet"), which status shows and
 * its `waiting` event says as "waiting for db: not healthy yet".
 *
 * One function, so that every reason a dependency can hold a dependent
 * back is worded in one place; deps.c calls it for the first dependency
 * not met.
 *
 * Context: loop thread only.
 */
#ifndef BRM_WAITFOR_H
#define BRM_WAITFOR_H

#include "daemon/conf/orchspec.h"
#include "daemon/sup/supervise.h"

/*
 * "NAME: WHAT" for dependency @d whose condition is not met: @q is the
 * process it names, or NULL when there is none (yet).
 * Ownership: caller frees.
 */
char *brm_waiting_for(const struct brm_dep *d, struct brm_proc *q);

#endif
