/*
 * spawn.h — start one child process without fork()'s cost and get a pidfd
 * for it. The design reasoning is at the top of spawn.c.
 *
 * The child: runs in a new session (setsid), so its pid is its process
 * group id and kill(-pid, sig) reaches its descendants; has stdin on
 * /dev/null and stdout/stderr on pipes whose read ends the caller gets;
 * inherits no other descriptor of the daemon; has default signal
 * dispositions and an empty signal mask; optionally changes umask, cwd,
 * resource limits, nice value, oom_score_adj, group, supplementary groups
 * (the user's, as initgroups gives) and user. Limits, nice value and
 * oom_score_adj are set before the credential change, while the child may
 * still raise them.
 *
 * Failure of any step before exec (chdir, setuid, execve, ...) is reported
 * back synchronously as -errno plus a message naming the step and its
 * subject; no child is left behind then.
 */
#ifndef BRM_SPAWN_H
#define BRM_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#define BRM_SPAWN_RLIMITS_MAX 8

struct brm_spawn_rlimit {
	int resource;          /* RLIMIT_* */
	uint64_t soft, hard;   /* UINT64_MAX: RLIM_INFINITY */
};

struct brm_spawn_req {
	char *const *argv;     /* argv[0]: a path, or a name looked up in PATH */
	char *const *env;      /* "KEY=VALUE" entries over the daemon's environ; may be NULL */
	const char *cwd;       /* NULL: unchanged */
	const char *user;      /* name or numeric uid; NULL: unchanged */
	const char *group;     /* name or numeric gid; NULL: the user's primary group */
	int umask;             /* -1: inherit */
	int pdeathsig;         /* 0: none; else sent to the child when the
	                          spawning thread dies (PR_SET_PDEATHSIG) */
	int extra_fd;          /* with extra_fd_num > 0: this descriptor (any
	                          flags) becomes the child's extra_fd_num, without
	                          CLOEXEC (a readiness notification pipe) */
	int extra_fd_num;      /* 0: none; else >= 3 */
	const struct brm_spawn_rlimit *rlimits;  /* nrlimits of them; an
	                          RLIMIT_NOFILE here replaces the default set
	                          with brm_spawn_set_child_nofile */
	size_t nrlimits;       /* at most BRM_SPAWN_RLIMITS_MAX */
	bool set_nice;
	int nice;              /* with set_nice: -20..19 */
	bool set_oom_score_adj;
	int oom_score_adj;     /* with set_oom_score_adj: -1000..1000 */
};

struct brm_spawned {
	pid_t pid;
	int pidfd;             /* O_CLOEXEC; readable when the child exits */
	int stdout_fd;         /* read end, O_CLOEXEC | O_NONBLOCK */
	int stderr_fd;         /* read end, O_CLOEXEC | O_NONBLOCK */
};

/*
 * Start a child as described by @req.
 * Returns 0 and fills @out (the caller owns the three descriptors and must
 * reap the child, for example with brm_spawn_reap), or -errno with a message
 * in @err such as "exec 'foo': No such file or directory" or
 * "user 'bob': no such user", "setrlimit RLIMIT_NOFILE 1048577: Operation not
 * permitted".
 * Context: any one thread at a time (in brummd: the loop thread); a call
 * overlapping another one fails with -EBUSY. It blocks until the child has
 * called execve or failed, typically ~100 us whatever the daemon's memory
 * size, and with brm_spawn_reserve_fds() whatever the number of its
 * descriptors (longer when the CPUs are busy: the child must be scheduled). With
 * @req->user or ->group it looks them up through NSS (getpwnam_r), which can
 * block on a network directory.
 */
int brm_spawn(const struct brm_spawn_req *req, struct brm_spawned *out,
	      char *err, size_t errlen);

/*
 * The open-file limit (RLIMIT_NOFILE, soft and hard) every child starts
 * with, from now on; NULL: children inherit the spawning process's. brummd
 * raises its own soft limit at start-up and gives its children the limit
 * it was started with: a program that uses select() breaks with descriptors
 * above FD_SETSIZE. The spec has no limit of its own to prefer.
 * Context: before the first spawn, or on the spawning thread.
 */
void brm_spawn_set_child_nofile(const struct rlimit *rl);

/*
 * Keep a few descriptors open at the bottom of the table (they must be
 * taken before the daemon opens its many: call this at start-up), through
 * which every later brm_spawn() hands the child its stdio, so that neither
 * the clone nor the exec costs anything per descriptor the daemon holds
 * (spawn.c says how). Without it a child starts with a copy of the whole
 * table, closed at exec. Returns 0 or -errno.
 * Context: before the first spawn, or on the spawning thread.
 */
int brm_spawn_reserve_fds(void);

/*
 * Reap the child behind @pidfd without blocking.
 * Returns 1 and *@status as waitpid() would fill it (use WIFEXITED etc.)
 * when it has exited, 0 when it still runs, or -errno.
 * Context: any thread.
 */
int brm_spawn_reap(int pidfd, int *status);

/*
 * Was @pid started by brm_spawn() and not yet reaped by brm_spawn_reap()?
 * brummd is a child subreaper (daemon/sup/orphans.h): its other children are
 * orphans it adopted, which it may reap itself.
 * Context: the thread that spawns and reaps (in brummd: the loop thread).
 */
bool brm_spawn_owns(pid_t pid);

#endif
