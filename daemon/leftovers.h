/*
 * leftovers.h — what a brummd that died without stopping its children
 * (SIGKILL, a crash, the OOM killer) left running: the rest of each child's
 * process group. The parent-death signal ends every main process, but not
 * its grandchildren (an nginx's workers), which keep their ports, so that
 * the next instance's nginx cannot bind.
 *
 * While brummd runs, the process group of each running process is recorded
 * in the state file (persist.h) with its leader's start time and the boot
 * id; the group is forgotten once the process has settled. When brummd
 * starts, before it starts anything, it looks for what is left of the
 * groups the previous instance recorded. On the same boot, a process is a
 * leftover of a group when it is in that group and started no earlier than
 * the recorded leader; when a process with the leader's pid exists and
 * leads that group, it must be the recorded leader (same start time), or
 * the group is a new one on a reused pid and nothing in it is touched.
 * Each leftover is killed (SIGKILL) through a pidfd that was checked after
 * it was opened, so a pid reused meanwhile is never hit, and logged:
 * "killing pid N (comm), left over from 'web'".
 *
 * Processes with "orphan": "keep" are not recorded: they are meant to
 * outlive brummd.
 *
 * Context: loop thread only.
 */
#ifndef BRM_LEFTOVERS_H
#define BRM_LEFTOVERS_H

#include "daemon/persist.h"
#include "daemon/supervise.h"

/*
 * Kill what is left of the process groups recorded in @st by the previous
 * instance, wait (at most 2 s) until they are gone, and forget the groups.
 * Returns how many processes were killed. Context: start-up, before any
 * process is started (it blocks while it waits).
 */
int brm_leftovers_kill(struct brm_persist *st);

/*
 * Record each process group of @sup in @st while it may have members, from
 * now on (an observer). Returns 0 or -ENOSPC (no observer slot).
 */
int brm_leftovers_watch(struct brm_supervisor *sup, struct brm_persist *st);

#endif
