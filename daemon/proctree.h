/*
 * proctree.h — the descendants of a process, found through the parent links
 * in /proc, for a stop to reach those that left the process group (a
 * setsid() grandchild), as pm2's tree-kill does. Without cgroups this is
 * best effort: a descendant whose parent chain to the main process is
 * already broken (its parent exited) cannot be found this way; brummd, a
 * child subreaper, adopts those instead (daemon/orphans.h).
 *
 * The kernel here has no /proc/PID/task/TID/children, so a walk reads
 * /proc/N/stat of every process: about 4 us a process, 1.5 ms with 360
 * processes on the machine. One walk serves every call for the next
 * PROCTREE_TTL_MS, so a stop of 1000 processes makes one walk (or a few),
 * not 1000. The price: a descendant forked and moved out of the group in
 * that window is missed by the stop signal (the SIGKILL after the stop
 * timeout walks again).
 */
#ifndef BRM_PROCTREE_H
#define BRM_PROCTREE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PROCTREE_TTL_MS 20

/*
 * Send @sig to every descendant of @root whose process group is not @pgid
 * (the group itself is reached with kill(-pgid)). The process table is read
 * again when the last walk is older than PROCTREE_TTL_MS.
 * Returns how many processes were signalled.
 * Context: loop thread.
 */
int brm_proctree_signal_escaped(pid_t root, pid_t pgid, int sig);

/*
 * The pids whose parent is @parent, read now from /proc, into @out (at most
 * @max). Returns the number found (which may exceed @max), or -errno.
 * Context: loop thread.
 */
int brm_proctree_children(pid_t parent, pid_t *out, size_t max);

/* Release the cached table (at exit, for leak checkers). Context: loop thread. */
void brm_proctree_free(void);

#endif
