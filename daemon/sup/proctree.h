/*
 * proctree.h — the descendants of a process, found through
 * /proc/PID/task/TID/children (daemon/procstat.h reads them), for a stop to
 * reach those that left the process group (a setsid() grandchild), as
 * pm2's tree-kill does. Without cgroups this is best effort: a descendant
 * whose parent chain to the main process is already broken (its parent
 * exited) cannot be found this way; brummd, a child subreaper, adopts those
 * instead (daemon/sup/orphans.h).
 *
 * A walk costs two small /proc reads per process in the tree, whatever the
 * number of processes on the machine (bench/proctreebench.c).
 */
#ifndef BRM_PROCTREE_H
#define BRM_PROCTREE_H

#include <stddef.h>
#include <sys/types.h>

/*
 * The descendants of @root whose process group is not @pgid (the group
 * itself is reached with kill(-pgid)), into @out (at most @max; at most
 * 1024 descendants are looked at). Returns how many were stored.
 * Context: any thread (in brummd: the loop thread).
 */
int brm_proctree_escaped(pid_t root, pid_t pgid, pid_t *out, size_t max);

/*
 * The children of @parent, read now, into @out (at most @max). Returns the
 * number stored, or -errno when @parent is gone.
 * Context: any thread.
 */
int brm_proctree_children(pid_t parent, pid_t *out, size_t max);

/*
 * The command name of @pid (/proc/PID/comm: "sleep"), for a log line, into
 * @buf; "?" when it is gone. Context: any thread.
 */
void brm_proctree_comm(pid_t pid, char *buf, size_t len);

#endif
