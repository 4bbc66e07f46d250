/*
 * proctree.h — the descendants of a process, found through the parent links
 * in /proc, for a stop to reach those that left the process group (a
 * setsid() grandchild), as pm2's tree-kill does. Without cgroups this is
 * best effort: a descendant whose parent chain to the main process is
 * already broken (its parent exited) cannot be found this way; brummd, a
 * child subreaper, adopts those instead (daemon/orphans.h).
 *
 * The kernel here has no /proc/PID/task/TID/children, so a walk reads
 * /proc/N/stat of every process; one walk serves every call made in the
 * same loop iteration (a stop of every process makes one walk, not one per
 * process).
 */
#ifndef BRM_PROCTREE_H
#define BRM_PROCTREE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Send @sig to every descendant of @root whose process group is not @pgid
 * (the group itself is reached with kill(-pgid)). The process table is read
 * again when @now_ms (uv_now of the loop) differs from the last call's.
 * Returns how many processes were signalled.
 * Context: loop thread.
 */
int brm_proctree_signal_escaped(pid_t root, pid_t pgid, int sig, uint64_t now_ms);

/*
 * The pids whose parent is @parent, read now from /proc, into @out (at most
 * @max). Returns the number found (which may exceed @max), or -errno.
 * Context: loop thread.
 */
int brm_proctree_children(pid_t parent, pid_t *out, size_t max);

/* Release the cached table (at exit, for leak checkers). Context: loop thread. */
void brm_proctree_free(void);

#endif
