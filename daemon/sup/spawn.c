/*
 * spawn.c — start a child with clone(CLONE_VM | CLONE_VFORK | CLONE_PIDFD)
 * and reap it through its pidfd.
 *
 * Why not uv_spawn. libuv 1.44 spawns with fork() + exec. fork() copies the
 * daemon's page tables, so the loop thread is blocked for a time that grows
 * with the daemon's memory: 49 us for a small daemon, 3.5 ms at 256 MiB RSS
 * and 27 ms at 2 GiB, measured on this machine. Our target is <= 150 us of
 * loop time per spawn whatever the RSS. And libuv reaps by calling waitpid()
 * on every child it knows of for each SIGCHLD, O(children) per exit (0.5 ms
 * at 1000 children); we want O(1).
 *
 * So we do what glibc's posix_spawn does inside, without its limits (it can
 * not setuid, setgroups, umask or set a parent-death signal): clone() with
 * CLONE_VM | CLONE_VFORK on a small dedicated stack. The child shares our
 * memory and the parent thread is suspended until the child calls execve or
 * exits, so nothing is copied and the cost does not depend on the RSS.
 * CLONE_PIDFD hands us a pidfd (through the parent_tid argument) that the
 * loop watches: it becomes readable when the child exits, and
 * waitid(P_PIDFD, ...) reaps exactly that child, O(1) per exit.
 *
 * Nor does it depend on the number of descriptors the daemon holds (three
 * per process): with descriptor slots (brm_spawn_reserve_fds) the clone
 * also shares the descriptor table (CLONE_FILES), and the child's first
 * system call leaves it a table of its stdio only, so nothing is copied at
 * clone and nothing closed at exec (measured in bench/spawnbench.c).
 *
 * Rules for the child, which runs on our memory until execve:
 *  - no malloc, no stdio, no locks, nothing that is not async-signal-safe;
 *    everything it needs (argv, envp, candidate program paths, ids, groups,
 *    descriptors) is prepared by the parent beforehand in struct child;
 *  - only raw system calls through syscall(): glibc's setuid()/setgid()/
 *    setgroups() broadcast the change to every thread of the process
 *    (setxid), which from a CLONE_VM child would reach the daemon's threads;
 *    and sanitizer runtimes intercept sigaction() and _exit() (ASan runs its
 *    leak check on _exit). The child function is excluded from ASan for the
 *    same reason: it must not leave stack poisoning in shared shadow memory;
 *  - signal handlers are the daemon's: every disposition is reset to SIG_DFL
 *    before the mask (all blocked around clone) is cleared, so no handler of
 *    the daemon can run in the child;
 *  - a failure is reported by writing the step and errno into struct child,
 *    which lives in the parent's stack frame, then exit_group(127). When
 *    clone() returns the child has exec'd or exited (CLONE_VFORK), so the
 *    parent reads the report, reaps the child and returns -errno with a
 *    message naming the step and its subject;
 *  - the parent-death signal is set after the credential change, because
 *    the kernel clears it when the effective uid or gid changes.
 *
 * One child stack serves all spawns, so brm_spawn() runs in one thread at a
 * time; a concurrent call is detected and refused with -EBUSY.
 *
 * Valgrind (3.19) runs a CLONE_VM | CLONE_VFORK clone as a plain fork: the
 * child then gets a copy of struct child, so a failure before exec is not
 * reported (brm_spawn succeeds and the child exits 127). Check memory with
 * ASan instead (SAN=address,undefined); its runtime is never entered from
 * the child.
 *
 * Long because: the rules above bind the parent's preparation of struct
 * child, the child function and the report of its failure, which must be
 * read together. Whom the child runs as is creds.c's.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/sup/creds.h"
#include "daemon/sup/spawn.h"
#include "lib/util.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE (1U << 1)
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif

/*
 * The child runs on the memory, and with the thread pointer, of the thread
 * that called clone(), so a sanitizer runtime entered from the child would
 * change that thread's state (ASan: stack poisoning in shared shadow
 * memory; TSan: its shadow stack, trace and clocks). So the child's
 * functions are not instrumented at all.
 */
#if defined(__SANITIZE_THREAD__)
#define SPAWN_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SPAWN_TSAN 1
#endif
#endif
#if defined(__has_attribute)
#if __has_attribute(no_sanitize)
#ifdef SPAWN_TSAN
#define NO_ASAN __attribute__((no_sanitize("address", "thread")))
#else
#define NO_ASAN __attribute__((no_sanitize("address")))
#endif
#endif
#endif
#ifndef NO_ASAN
#define NO_ASAN
#endif

/*
 * TSan (GCC 12's libtsan) intercepts clone() as if it were fork(): the
 * child runs ForkChildAfter() and FdOnFork() before our function. With
 * CLONE_VM that runs on the parent's memory: it marks the daemon's other
 * threads as forked away, resets every descriptor's sync object and turns
 * on "ignore interceptors / memory / synchronisation" for the calling
 * thread (never turned off: the child execs). From then on that thread's
 * releases (a mutex unlock, a thread exit, __tsan_release) are ignored and
 * TSan reports races that do not exist. glibc exports the same function as
 * __clone, which TSan does not intercept: call that in a TSan build.
 */
#ifdef SPAWN_TSAN
extern int __clone(int (*fn)(void *), void *stack, int flags, void *arg, ...);
#define brm_raw_clone __clone
#else
#define brm_raw_clone clone
#endif

#define CHILD_STACK_SIZE (64 * 1024)
#define DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"

enum step {
	STEP_NONE = 0,
	STEP_FILES,
	STEP_SIGNALS,
	STEP_SETSID,
	STEP_STDIO,
	STEP_CHDIR,
	STEP_SETGROUPS,
	STEP_SETGID,
	STEP_SETUID,
	STEP_PDEATHSIG,
	STEP_PARENT_GONE,
	STEP_RLIMIT,
	STEP_SPEC_RLIMIT,
	STEP_NICE,
	STEP_OOM,
	STEP_EXEC,
};

/* Everything the child needs, prepared by the parent; the report comes back here. */
struct child {
	char *const *argv;
	char *const *envp;
	char **paths;           /* execve candidates, in order */
	size_t npaths;
	const char *cwd;
	int fd_in, fd_out, fd_err;  /* all >= 3 */
	int extra_fd, extra_fd_num; /* extra_fd_num 0: none */
	unsigned files_above;   /* != 0: the table is shared (CLONE_FILES) and
	                           only descriptors below this are the child's */
	int umask;
	int pdeathsig;
	pid_t ppid;
	bool set_groups, set_gid, set_uid;
	uid_t uid;
	gid_t gid;
	const gid_t *groups;
	size_t ngroups;
	bool set_nofile;
	uint64_t nofile[2];     /* soft, hard: struct rlimit64 for prlimit64 */
	struct {
		int resource;
		uint64_t lim[2];    /* soft, hard */
	} rlimits[BRM_SPAWN_RLIMITS_MAX];
	size_t nrlimits;
	bool set_nice;
	int nice;
	char oom[16];           /* "-1000\n"; empty: unchanged */
	size_t oomlen;
	/* written by the child on failure */
	int step;
	int err;
	size_t failed_rlimit;   /* with STEP_SPEC_RLIMIT: its index */
};

/* The kernel's struct sigaction for rt_sigaction (x86_64 and most others). */
struct ksigaction {
	void (*handler)(int);
	unsigned long flags;
	void (*restorer)(void);
	uint64_t mask;
};

static void *child_stack;
static atomic_flag spawn_busy = ATOMIC_FLAG_INIT;

/*
 * Descriptor slots (brm_spawn_reserve_fds). A child made by clone() without
 * CLONE_FILES gets a copy of the daemon's whole descriptor table, about
 * three descriptors per supervised process: the copy (in clone, while the
 * loop waits) and the close of every one at exec grow with N. So a spawn
 * puts what the child needs into a few descriptors kept open at the bottom
 * of the table since start-up, clones with CLONE_FILES (nothing copied),
 * and the child's first act is close_range(files_above, ~0,
 * CLOSE_RANGE_UNSHARE): the kernel gives it a table of only the
 * descriptors below files_above (stdio and the slots), whatever N. After
 * clone the slots point at /dev/null again, so the daemon holds no write
 * end of a child's pipes. Without slots, or where clone refuses CLONE_FILES
 * (or valgrind runs us), the child gets the copy as before.
 */
enum { SLOT_NULL, SLOT_OUT, SLOT_ERR, SLOT_EXTRA, NSLOTS };
static int slot[NSLOTS] = { -1, -1, -1, -1 };
static unsigned slots_above;        /* 0: no slots */
static bool clone_files_refused;
static bool child_nofile_set;
static struct rlimit child_nofile;

/*
 * The children spawned and not yet reaped: an open-addressing set of pids
 * (linear probing, deletion by backward shift), at most half full.
 */
static struct {
	pid_t *slot;           /* 0: empty */
	size_t cap, n;         /* cap: 0 or a power of two */
} owned;

static size_t owned_home(pid_t pid)
{
	return ((size_t)pid * 2654435761u) & (owned.cap - 1);
}

static void owned_add(pid_t pid)
{
	if ((owned.n + 1) * 2 > owned.cap) {
		pid_t *old = owned.slot;
		size_t oldcap = owned.cap;

		owned.cap = oldcap ? oldcap * 2 : 64;
		owned.slot = brm_xcalloc(owned.cap, sizeof(*owned.slot));
		owned.n = 0;
		for (size_t i = 0; i < oldcap; i++)
			if (old[i])
				owned_add(old[i]);
		free(old);
	}
	for (size_t i = owned_home(pid);; i = (i + 1) & (owned.cap - 1)) {
		if (owned.slot[i] == pid)
			return;
		if (!owned.slot[i]) {
			owned.slot[i] = pid;
			owned.n++;
			return;
		}
	}
}

static void owned_del(pid_t pid)
{
	size_t i, j, mask = owned.cap - 1;

	if (!owned.cap)
		return;
	for (i = owned_home(pid); owned.slot[i] != pid; i = (i + 1) & mask)
		if (!owned.slot[i])
			return;
	owned.slot[i] = 0;
	owned.n--;
	/* pull later members of the run back over the hole */
	for (j = (i + 1) & mask; owned.slot[j]; j = (j + 1) & mask) {
		size_t h = owned_home(owned.slot[j]);

		if (((j - h) & mask) >= ((j - i) & mask)) {
			owned.slot[i] = owned.slot[j];
			owned.slot[j] = 0;
			i = j;
		}
	}
}

bool brm_spawn_owns(pid_t pid)
{
	if (!owned.cap || pid <= 0)
		return false;
	for (size_t i = owned_home(pid); owned.slot[i]; i = (i + 1) & (owned.cap - 1))
		if (owned.slot[i] == pid)
			return true;
	return false;
}

static NO_ASAN BRM_NORETURN void child_fail(struct child *c, int step, int err)
{
	c->step = step;
	c->err = err;
	for (;;)
		syscall(SYS_exit_group, 127);
}

static NO_ASAN bool exec_errno_skippable(int e)
{
	return e == ENOENT || e == ENOTDIR || e == ESTALE || e == ENODEV ||
	       e == ETIMEDOUT;
}

/* Runs in the child, on child_stack, sharing the parent's memory. */
static NO_ASAN int child_main(void *arg)
{
	struct child *c = arg;
	struct ksigaction dfl = { .handler = SIG_DFL };
	uint64_t empty = 0;
	bool eacces = false;
	int last = ENOENT;

	/* First: until here the descriptor table is the daemon's own. An old
	 * kernel without CLOSE_RANGE_UNSHARE (before 5.9) copies all of it. */
	if (c->files_above &&
	    syscall(SYS_close_range, c->files_above, ~0U, CLOSE_RANGE_UNSHARE) < 0 &&
	    syscall(SYS_unshare, CLONE_FILES) < 0)
		child_fail(c, STEP_FILES, errno);

	for (int sig = 1; sig < 65; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			syscall(SYS_rt_sigaction, sig, &dfl, NULL, sizeof(dfl.mask));
	if (syscall(SYS_rt_sigprocmask, SIG_SETMASK, &empty, NULL, sizeof(empty)) < 0)
		child_fail(c, STEP_SIGNALS, errno);

	if (syscall(SYS_setsid) < 0)
		child_fail(c, STEP_SETSID, errno);

	if (c->umask >= 0)
		syscall(SYS_umask, c->umask);

	if (syscall(SYS_dup3, c->fd_in, 0, 0) < 0 ||
	    syscall(SYS_dup3, c->fd_out, 1, 0) < 0 ||
	    syscall(SYS_dup3, c->fd_err, 2, 0) < 0)
		child_fail(c, STEP_STDIO, errno);
	/* Everything of ours is O_CLOEXEC already; make sure of it. */
	syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
	if (c->extra_fd_num > 0) {
		if (c->extra_fd == c->extra_fd_num) {
			if (syscall(SYS_fcntl, c->extra_fd, F_SETFD, 0) < 0)
				child_fail(c, STEP_STDIO, errno);
		} else if (syscall(SYS_dup3, c->extra_fd, c->extra_fd_num, 0) < 0) {
			child_fail(c, STEP_STDIO, errno);
		}
	}

	if (c->cwd && syscall(SYS_chdir, c->cwd) < 0)
		child_fail(c, STEP_CHDIR, errno);

	/* Raising a limit, a priority or the OOM score's protection needs
	 * privilege: before the credential change. */
	for (size_t i = 0; i < c->nrlimits; i++) {
		if (syscall(SYS_prlimit64, 0, c->rlimits[i].resource, c->rlimits[i].lim,
			    NULL) < 0) {
			c->failed_rlimit = i;
			child_fail(c, STEP_SPEC_RLIMIT, errno);
		}
	}
	if (c->set_nice && syscall(SYS_setpriority, PRIO_PROCESS, 0, c->nice) < 0)
		child_fail(c, STEP_NICE, errno);
	if (c->oomlen) {
		long fd = syscall(SYS_openat, AT_FDCWD, "/proc/self/oom_score_adj",
				  O_WRONLY | O_CLOEXEC);

		if (fd < 0)
			child_fail(c, STEP_OOM, errno);
		if (syscall(SYS_write, fd, c->oom, c->oomlen) != (long)c->oomlen) {
			int e = errno;

			syscall(SYS_close, fd);
			child_fail(c, STEP_OOM, e);
		}
		syscall(SYS_close, fd);
	}

	if (c->set_groups && syscall(SYS_setgroups, c->ngroups, c->groups) < 0)
		child_fail(c, STEP_SETGROUPS, errno);
	if (c->set_gid && syscall(SYS_setgid, c->gid) < 0)
		child_fail(c, STEP_SETGID, errno);
	if (c->set_uid && syscall(SYS_setuid, c->uid) < 0)
		child_fail(c, STEP_SETUID, errno);

	if (c->pdeathsig > 0) {
		if (syscall(SYS_prctl, PR_SET_PDEATHSIG, c->pdeathsig, 0, 0, 0) < 0)
			child_fail(c, STEP_PDEATHSIG, errno);
		/* The parent may have died before the prctl took effect. */
		if (syscall(SYS_getppid) != c->ppid)
			child_fail(c, STEP_PARENT_GONE, ESRCH);
	}

	/* Lowering a limit needs no privilege: after the credential change. */
	if (c->set_nofile && syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, c->nofile, NULL) < 0)
		child_fail(c, STEP_RLIMIT, errno);

	/* Like execvp: EACCES wins over "not found"; other errors stop the search. */
	for (size_t i = 0; i < c->npaths; i++) {
		int e;

		syscall(SYS_execve, c->paths[i], c->argv, c->envp);
		e = errno;
		if (e == EACCES)
			eacces = true;
		else if (exec_errno_skippable(e))
			last = e;
		else
			child_fail(c, STEP_EXEC, e);
	}
	child_fail(c, STEP_EXEC, eacces ? EACCES : last);
}

/* The one child stack, with a guard page below it; allocated on first use. */
static int ensure_child_stack(void)
{
	long page = sysconf(_SC_PAGESIZE);
	char *p;

	if (child_stack)
		return 0;
	if (page <= 0)
		page = 4096;
	p = mmap(NULL, CHILD_STACK_SIZE + (size_t)page, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	if (mprotect(p, (size_t)page, PROT_NONE) < 0) {
		int e = errno;

		munmap(p, CHILD_STACK_SIZE + (size_t)page);
		return -e;
	}
	child_stack = p + page + CHILD_STACK_SIZE;  /* top; the stack grows down */
	return 0;
}

struct envref {
	const char *s;
	size_t klen;    /* bytes before the '=' (the whole string without one) */
	size_t seq;     /* position in environ, then @ident, then @env */
};

static int envref_cmp(const void *a, const void *b)
{
	const struct envref *x = a, *y = b;
	int c = memcmp(x->s, y->s, x->klen < y->klen ? x->klen : y->klen);

	if (c)
		return c;
	if (x->klen != y->klen)
		return x->klen < y->klen ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * The child's environment: environ, then @ident (the identity of a user
 * switched to) replacing the same keys, then @env (the spec's) replacing
 * both; new keys are appended (a later duplicate wins). An entry keeps the
 * place of its key's first occurrence. Sorting the keys once keeps this
 * O(n log n) for a spec with tens of thousands of variables (comparing
 * each with every earlier one took 14 s for 65,000).
 * Ownership: caller frees the array (not the strings).
 */
static int build_envp(char *const *env, char *const *ident, char ***out, char *err,
		      size_t errlen)
{
	size_t ne = brm_strv_len(environ), ni = brm_strv_len(ident), nr = brm_strv_len(env);
	size_t total = ne + ni + nr, n = 0, k = 0;
	struct envref *refs;
	char **v;

	for (size_t i = 0; i < nr; i++) {
		if (!strchr(env[i], '=') || env[i][0] == '=') {
			/* -EINVAL spelled out: -fanalyzer does not see into lib/util.c */
			brm_fail_err(err, errlen, EINVAL, "env '%s': not KEY=VALUE", env[i]);
			return -EINVAL;
		}
	}
	refs = brm_xmalloc((total ? total : 1) * sizeof(*refs));
	v = brm_xcalloc(total + 1, sizeof(*v));
	for (size_t layer = 0; layer < 3; layer++) {
		char *const *src = layer == 0 ? environ : layer == 1 ? ident : env;
		size_t ns = layer == 0 ? ne : layer == 1 ? ni : nr;

		for (size_t i = 0; i < ns; i++, n++) {
			const char *eq = strchr(src[i], '=');

			refs[n].s = src[i];
			refs[n].klen = eq ? (size_t)(eq - src[i]) : strlen(src[i]);
			refs[n].seq = n;
		}
	}
	qsort(refs, total, sizeof(*refs), envref_cmp);
	/* Each run of one key: the last entry, at the first one's place. */
	for (size_t i = 0; i < total; i = k) {
		for (k = i + 1; k < total && refs[k].klen == refs[i].klen &&
				!memcmp(refs[k].s, refs[i].s, refs[i].klen); k++)
			;
		v[refs[i].seq] = (char *)refs[k - 1].s;
	}
	free(refs);
	k = 0;
	for (size_t i = 0; i < total; i++)
		if (v[i])
			v[k++] = v[i];
	v[k] = NULL;
	*out = v;
	return 0;
}

/*
 * The paths the child tries with execve: argv[0] itself when it contains a
 * '/', else each PATH entry joined with it (an empty entry means the working
 * directory, as for execvp). PATH comes from @envp (the child's).
 * Ownership: caller frees *paths; it holds the strings too.
 */
static size_t build_paths(const char *name, char *const *envp, char ***paths)
{
	const char *path = DEFAULT_PATH, *p;
	size_t nlen = strlen(name), n = 1, total, k = 0;
	char **v, *s;

	if (strchr(name, '/')) {
		v = brm_xmalloc(sizeof(*v) + nlen + 1);
		v[0] = (char *)(v + 1);
		memcpy(v[0], name, nlen + 1);
		*paths = v;
		return 1;
	}
	for (size_t i = 0; envp[i]; i++) {
		if (strncmp(envp[i], "PATH=", 5) == 0) {
			path = envp[i] + 5;
			break;
		}
	}
	for (p = path; *p; p++)
		n += *p == ':';
	total = strlen(path) + n * (nlen + 2);
	v = brm_xmalloc(n * sizeof(*v) + total);
	s = (char *)(v + n);
	p = path;
	for (;;) {
		const char *end = strchrnul(p, ':');
		size_t dl = (size_t)(end - p);

		v[k++] = s;
		memcpy(s, p, dl);
		s += dl;
		if (dl)
			*s++ = '/';
		memcpy(s, name, nlen + 1);
		s += nlen + 1;
		if (!*end)
			break;
		p = end + 1;
	}
	*paths = v;
	return k;
}

/* Move @fd to a number >= 3 so that dup'ing onto 0, 1, 2 can't clobber it. */
static int fd_above_stdio(int *fd)
{
	int nfd;

	if (*fd > 2)
		return 0;
	nfd = fcntl(*fd, F_DUPFD_CLOEXEC, 3);
	if (nfd < 0)
		return -errno;
	close(*fd);
	*fd = nfd;
	return 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/*
 * Valgrind (3.19) stops the whole program at a clone with CLONE_FILES
 * ("Unsupported clone() flags") instead of failing it; its preloaded
 * libraries tell that it runs us.
 */
static bool under_valgrind(void)
{
	const char *pre = getenv("LD_PRELOAD");

	return pre && strstr(pre, "/vgpreload_");
}

int brm_spawn_reserve_fds(void)
{
	int null, fd[NSLOTS], top = 0, e;

	if (slots_above)
		return 0;
	if (under_valgrind()) {
		clone_files_refused = true;
		return 0;
	}
	null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null < 0)
		return -errno;
	for (int i = 0; i < NSLOTS; i++) {
		/* above stdio: a slot is dup3()'d onto 0, 1 or 2 in the child */
		fd[i] = fcntl(null, F_DUPFD_CLOEXEC, 3);
		if (fd[i] < 0) {
			e = errno;
			while (i--)
				close(fd[i]);
			close(null);
			return -e;
		}
		if (fd[i] > top)
			top = fd[i];
	}
	close(null);
	memcpy(slot, fd, sizeof(slot));
	slots_above = (unsigned)top + 1;
	return 0;
}

/* The slots point at /dev/null again: the daemon keeps no pipe end. */
static void slots_clear(void)
{
	for (int i = SLOT_OUT; i < NSLOTS; i++) {
		if (dup3(slot[SLOT_NULL], slot[i], O_CLOEXEC) >= 0)
			continue;
		/* never keep a child's pipe end open: give the slot up */
		close(slot[i]);
		slot[i] = -1;
		slots_above = 0;
	}
}

/* Put @c's descriptors into the slots, for a clone with CLONE_FILES. */
static int slots_fill(struct child *c)
{
	if (dup3(c->fd_out, slot[SLOT_OUT], O_CLOEXEC) < 0 ||
	    dup3(c->fd_err, slot[SLOT_ERR], O_CLOEXEC) < 0 ||
	    (c->extra_fd_num > 0 && dup3(c->extra_fd, slot[SLOT_EXTRA], O_CLOEXEC) < 0)) {
		int e = errno;

		slots_clear();
		return -e;
	}
	c->fd_in = slot[SLOT_NULL];
	c->fd_out = slot[SLOT_OUT];
	c->fd_err = slot[SLOT_ERR];
	if (c->extra_fd_num > 0)
		c->extra_fd = slot[SLOT_EXTRA];
	c->files_above = slots_above;
	return 0;
}

static const char *rlimit_name(int resource)
{
	switch (resource) {
	case RLIMIT_NOFILE: return "RLIMIT_NOFILE";
	case RLIMIT_NPROC: return "RLIMIT_NPROC";
	case RLIMIT_CORE: return "RLIMIT_CORE";
	case RLIMIT_MEMLOCK: return "RLIMIT_MEMLOCK";
	default: return "RLIMIT_?";
	}
}

static int child_error(const struct child *c, const struct brm_spawn_req *req,
		       const struct brm_creds *cr, char *err, size_t errlen)
{
	int e = c->err ? c->err : EIO;
	const char *es = strerror(e);

	switch (c->step) {
	case STEP_FILES:
		return brm_fail_err(err, errlen, e, "unshare the descriptor table: %s", es);
	case STEP_SIGNALS:
		return brm_fail_err(err, errlen, e, "reset signal mask: %s", es);
	case STEP_SETSID:
		return brm_fail_err(err, errlen, e, "setsid: %s", es);
	case STEP_STDIO:
		return brm_fail_err(err, errlen, e, "dup2 stdio: %s", es);
	case STEP_CHDIR:
		return brm_fail_err(err, errlen, e, "chdir '%s': %s", req->cwd, es);
	case STEP_SETGROUPS:
		return brm_fail_err(err, errlen, e, "setgroups '%s': %s",
				    req->user ? req->user : req->group, es);
	case STEP_SETGID:
		return brm_fail_err(err, errlen, e, "setgid %u: %s", (unsigned)cr->gid, es);
	case STEP_SETUID:
		return brm_fail_err(err, errlen, e, "setuid %u: %s", (unsigned)cr->uid, es);
	case STEP_PDEATHSIG:
		return brm_fail_err(err, errlen, e, "prctl pdeathsig %d: %s", req->pdeathsig, es);
	case STEP_PARENT_GONE:
		return brm_fail_err(err, errlen, e, "parent exited before exec");
	case STEP_RLIMIT:
		return brm_fail_err(err, errlen, e, "setrlimit RLIMIT_NOFILE %llu: %s",
				    (unsigned long long)c->nofile[0], es);
	case STEP_SPEC_RLIMIT: {
		char soft[24], hard[24];
		const uint64_t *l = c->rlimits[c->failed_rlimit].lim;

		snprintf(soft, sizeof(soft), l[0] == UINT64_MAX ? "infinity" : "%llu",
			 (unsigned long long)l[0]);
		snprintf(hard, sizeof(hard), l[1] == UINT64_MAX ? "infinity" : "%llu",
			 (unsigned long long)l[1]);
		return brm_fail_err(err, errlen, e, "setrlimit %s %s:%s: %s",
				    rlimit_name(c->rlimits[c->failed_rlimit].resource), soft, hard,
				    es);
	}
	case STEP_NICE:
		return brm_fail_err(err, errlen, e, "setpriority nice %d: %s", c->nice, es);
	case STEP_OOM:
		return brm_fail_err(err, errlen, e, "write /proc/self/oom_score_adj %.*s: %s",
				    (int)c->oomlen - 1, c->oom, es);
	case STEP_EXEC:
	default:
		return brm_fail_err(err, errlen, e, "exec '%s': %s", req->argv[0], es);
	}
}

int brm_spawn(const struct brm_spawn_req *req, struct brm_spawned *out,
	      char *err, size_t errlen)
{
	struct child c;
	struct brm_creds cr = { 0 };
	char **envp = NULL, **paths = NULL;
	int in = -1, opipe[2] = { -1, -1 }, epipe[2] = { -1, -1 };
	int pidfd = -1, rc, flags;
	bool nofile_given = false, slots = slots_above && !clone_files_refused;
	sigset_t all, old;
	pid_t pid;

	if (err && errlen)
		err[0] = '\0';
	if (!req || !out || !req->argv || !req->argv[0] || !req->argv[0][0])
		return brm_fail_err(err, errlen, EINVAL, "spawn: empty argv");
	if (req->pdeathsig < 0 || req->pdeathsig >= 65)
		return brm_fail_err(err, errlen, EINVAL, "pdeathsig %d: invalid signal",
				    req->pdeathsig);

	rc = brm_creds_resolve(req->user, req->group, &cr, err, errlen);
	if (rc < 0)
		return rc;
	rc = build_envp(req->env, cr.ident, &envp, err, errlen);
	if (rc < 0)
		goto out_free;

	memset(&c, 0, sizeof(c));
	c.argv = req->argv;
	c.envp = envp;
	c.npaths = build_paths(req->argv[0], envp, &paths);
	c.paths = paths;
	c.cwd = req->cwd;
	c.umask = req->umask >= 0 ? (req->umask & 07777) : -1;
	c.pdeathsig = req->pdeathsig;
	c.set_groups = cr.set_groups;
	c.set_gid = cr.set_gid;
	c.set_uid = cr.set_uid;
	c.uid = cr.uid;
	c.gid = cr.gid;
	c.groups = cr.groups;
	c.ngroups = cr.ngroups;
	if (req->nrlimits > BRM_SPAWN_RLIMITS_MAX) {
		rc = brm_fail_err(err, errlen, EINVAL, "spawn: %zu resource limits, more than %d",
				  req->nrlimits, BRM_SPAWN_RLIMITS_MAX);
		goto out_free;
	}
	for (size_t i = 0; i < req->nrlimits; i++) {
		c.rlimits[i].resource = req->rlimits[i].resource;
		c.rlimits[i].lim[0] = req->rlimits[i].soft;
		c.rlimits[i].lim[1] = req->rlimits[i].hard;
		if (req->rlimits[i].resource == RLIMIT_NOFILE)
			nofile_given = true;
	}
	c.nrlimits = req->nrlimits;
	c.set_nice = req->set_nice;
	c.nice = req->nice;
	if (req->set_oom_score_adj)
		c.oomlen = (size_t)snprintf(c.oom, sizeof(c.oom), "%d\n", req->oom_score_adj);
	if (child_nofile_set && !nofile_given) {
		c.set_nofile = true;
		c.nofile[0] = child_nofile.rlim_cur == RLIM_INFINITY ? UINT64_MAX
								      : (uint64_t)child_nofile.rlim_cur;
		c.nofile[1] = child_nofile.rlim_max == RLIM_INFINITY ? UINT64_MAX
								      : (uint64_t)child_nofile.rlim_max;
	}

	/* with slots, stdin is the null slot */
	in = slots ? -1 : open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (!slots && in < 0) {
		rc = brm_fail_err(err, errlen, errno, "open '/dev/null': %s", strerror(errno));
		goto out_close;
	}
	if (pipe2(opipe, O_CLOEXEC) < 0 || pipe2(epipe, O_CLOEXEC) < 0) {
		rc = brm_fail_err(err, errlen, errno, "pipe: %s", strerror(errno));
		goto out_close;
	}
	if ((!slots && (rc = fd_above_stdio(&in)) < 0) ||
	    (rc = fd_above_stdio(&opipe[1])) < 0 ||
	    (rc = fd_above_stdio(&epipe[1])) < 0 ||
	    (rc = brm_fd_set_nonblock(opipe[0], true)) < 0 ||
	    (rc = brm_fd_set_nonblock(epipe[0], true)) < 0) {
		rc = brm_fail_err(err, errlen, -rc, "stdio descriptors: %s", strerror(-rc));
		goto out_close;
	}
	c.fd_in = in;
	c.fd_out = opipe[1];
	c.fd_err = epipe[1];
	c.extra_fd = req->extra_fd;
	c.extra_fd_num = req->extra_fd_num >= 3 ? req->extra_fd_num : 0;

	if (atomic_flag_test_and_set(&spawn_busy)) {
		rc = brm_fail_err(err, errlen, EBUSY, "spawn: called from two threads at once");
		goto out_close;
	}
	rc = ensure_child_stack();
	if (rc < 0) {
		atomic_flag_clear(&spawn_busy);
		rc = brm_fail_err(err, errlen, -rc, "child stack: %s", strerror(-rc));
		goto out_close;
	}
	c.ppid = getpid();
	if (slots && (rc = slots_fill(&c)) < 0) {
		atomic_flag_clear(&spawn_busy);
		rc = brm_fail_err(err, errlen, -rc, "stdio descriptors: %s", strerror(-rc));
		goto out_close;
	}

	flags = CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pid = brm_raw_clone(child_main, child_stack, flags | (slots ? CLONE_FILES : 0),
			    &c, &pidfd);
	if (pid < 0 && errno == EINVAL && slots) {
		/* a sandbox may refuse CLONE_FILES; the child's close_range
		 * then trims its own copy of the table */
		clone_files_refused = true;
		pid = brm_raw_clone(child_main, child_stack, flags, &c, &pidfd);
	}
	rc = pid < 0 ? errno : 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (slots)
		slots_clear();
	atomic_flag_clear(&spawn_busy);

	if (pid < 0) {
		rc = brm_fail_err(err, errlen, rc, "clone: %s", strerror(rc));
		goto out_close;
	}
	if (c.step != STEP_NONE) {
		siginfo_t si;

		while (waitid((idtype_t)P_PIDFD, (id_t)pidfd, &si, WEXITED) < 0 &&
		       errno == EINTR)
			;
		close_fd(&pidfd);
		rc = child_error(&c, req, &cr, err, errlen);
		goto out_close;
	}

	owned_add(pid);
	out->pid = pid;
	out->pidfd = pidfd;
	out->stdout_fd = opipe[0];
	out->stderr_fd = epipe[0];
	opipe[0] = epipe[0] = -1;
	rc = 0;

out_close:
	close_fd(&in);
	close_fd(&opipe[0]);
	close_fd(&opipe[1]);
	close_fd(&epipe[0]);
	close_fd(&epipe[1]);
out_free:
	free(paths);
	free(envp);
	free(cr.groups);
	for (size_t i = 0; cr.ident[i]; i++)
		free(cr.ident[i]);
	return rc;
}

void brm_spawn_set_child_nofile(const struct rlimit *rl)
{
	child_nofile_set = rl != NULL;
	if (rl)
		child_nofile = *rl;
}

int brm_spawn_reap(int pidfd, int *status)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	if (waitid((idtype_t)P_PIDFD, (id_t)pidfd, &si, WEXITED | WNOHANG) < 0)
		return -errno;
	if (si.si_pid == 0)
		return 0;
	owned_del(si.si_pid);
	switch (si.si_code) {
	case CLD_EXITED:
		*status = W_EXITCODE(si.si_status & 0xff, 0);
		break;
	case CLD_KILLED:
		*status = si.si_status & 0x7f;
		break;
	case CLD_DUMPED:
		*status = (si.si_status & 0x7f) | WCOREFLAG;
		break;
	default:
		return -EINVAL;
	}
	return 1;
}
