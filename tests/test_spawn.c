/*
 * test_spawn.c — daemon/sup/spawn.c against the real kernel, with
 * brm-testchild ($BRM_BINDIR/brm-testchild) as the child.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon/sup/spawn.h"
#include "lib/util.h"
#include "tests/harness.h"
#include "tests/suite.h"

extern char **environ;

static char child_bin[PATH_MAX + 32];
static char bindir[PATH_MAX];
static char tmpdir[64];

static void setup_tmp(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/brm-spawn-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	chmod(tmpdir, 0777);  /* the "nobody" test writes here */
}

static void teardown_tmp(void)
{
	char *cmd = brm_xasprintf("rm -rf '%s'", tmpdir);

	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove '%s'\n", tmpdir);
	free(cmd);
}

static char *tmp_path(const char *name)
{
	return brm_xasprintf("%s/%s", tmpdir, name);
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Children die with the test, even when an assertion fails half-way. */
/*
 * Run the test child from a copy nobody can reach: the checkout may be
 * under a directory other users cannot enter (a 0700 home). Context: one
 * test (Check forks each, so the change stays in it).
 */
static void use_public_child(void)
{
	const char *pub = brmh_child_public();

	ck_assert_msg(pub, "cannot copy the test child to /tmp");
	snprintf(child_bin, sizeof(child_bin), "%s", pub);
}

static struct brm_spawn_req req_for(char *const *argv)
{
	struct brm_spawn_req r = { .argv = argv, .umask = -1, .pdeathsig = SIGKILL };

	return r;
}

static void spawn_ok(const struct brm_spawn_req *req, struct brm_spawned *out)
{
	char err[256];
	int rc = brm_spawn(req, out, err, sizeof(err));

	ck_assert_msg(rc == 0, "brm_spawn: %d (%s)", rc, err);
	ck_assert_int_gt(out->pid, 0);
	ck_assert_int_ge(out->pidfd, 0);
}

/* Poll the pidfd until the child exits; returns its wait status. */
static int wait_exit(const struct brm_spawned *s, int timeout_ms)
{
	struct pollfd p = { .fd = s->pidfd, .events = POLLIN };
	int status = -1, rc;

	rc = poll(&p, 1, timeout_ms);
	ck_assert_msg(rc == 1, "child %d did not exit within %d ms", (int)s->pid,
		      timeout_ms);
	rc = brm_spawn_reap(s->pidfd, &status);
	ck_assert_int_eq(rc, 1);
	return status;
}

static void close_spawned(struct brm_spawned *s)
{
	close(s->pidfd);
	close(s->stdout_fd);
	close(s->stderr_fd);
}

static void kill_and_reap(struct brm_spawned *s)
{
	kill(-s->pid, SIGKILL);
	wait_exit(s, 2000);
	close_spawned(s);
}

/* Wait for @path to appear (written atomically) and return its contents. */
static char *wait_file(const char *path, int timeout_ms)
{
	for (int waited = 0;; waited += 5) {
		FILE *f = fopen(path, "r");

		if (f) {
			char *buf = brm_xcalloc(1, 65536);
			size_t n = fread(buf, 1, 65535, f);

			fclose(f);
			buf[n] = '\0';
			return buf;
		}
		ck_assert_msg(waited < timeout_ms, "file '%s' did not appear", path);
		sleep_ms(5);
	}
}

/* The value of "KEY=" in an info file, as a new string. */
static char *info_get(const char *info, const char *key)
{
	size_t kl = strlen(key);

	for (const char *p = info; *p;) {
		const char *nl = strchrnul(p, '\n');

		if ((size_t)(nl - p) > kl && strncmp(p, key, kl) == 0 && p[kl] == '=')
			return brm_xstrndup(p + kl + 1, (size_t)(nl - p) - kl - 1);
		p = *nl ? nl + 1 : nl;
	}
	return NULL;
}

static long info_num(const char *info, const char *key)
{
	char *v = info_get(info, key);
	long n;

	ck_assert_msg(v != NULL, "no '%s' in info", key);
	n = strtol(v, NULL, 10);
	free(v);
	return n;
}

static int count_lines(const char *info, const char *line)
{
	size_t l = strlen(line);
	int n = 0;

	for (const char *p = info; *p;) {
		const char *nl = strchrnul(p, '\n');

		if ((size_t)(nl - p) == l && strncmp(p, line, l) == 0)
			n++;
		p = *nl ? nl + 1 : nl;
	}
	return n;
}

/* Spawn "info FILE" with @req's options and return the file's contents. */
static char *spawn_info(struct brm_spawn_req *req, struct brm_spawned *s)
{
	char *file = tmp_path("info.txt");
	char *argv[] = { child_bin, "info", file, NULL };
	char *info;

	unlink(file);
	req->argv = argv;
	spawn_ok(req, s);
	info = wait_file(file, 3000);
	req->argv = NULL;
	free(file);
	return info;
}

/* Read a nonblocking fd until EOF. */
static char *read_all(int fd, int timeout_ms)
{
	size_t cap = 4096, len = 0;
	char *buf = brm_xmalloc(cap);

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		ck_assert_int_eq(poll(&p, 1, timeout_ms), 1);
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EAGAIN)
			continue;
		ck_assert_int_ge(n, 0);
		if (n == 0)
			break;
		len += (size_t)n;
		if (cap - len < 2)
			buf = brm_xrealloc(buf, cap *= 2);
	}
	buf[len] = '\0';
	return buf;
}

START_TEST(test_exit_zero)
{
	char *argv[] = { child_bin, "exit", "0", NULL };
	struct brm_spawn_req req = req_for(argv);
	struct brm_spawned s;
	int status;

	spawn_ok(&req, &s);
	status = wait_exit(&s, 2000);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	/* reaped: a second reap has no child */
	ck_assert_int_eq(brm_spawn_reap(s.pidfd, &status), -ECHILD);
	close_spawned(&s);
}
END_TEST

/* brm_spawn_owns: true from the spawn to the reap, for many children reaped
 * out of order (the set grows and deletes from the middle of its runs). */
START_TEST(test_owns_until_reaped)
{
	enum { N = 150 };
	char *argv[] = { child_bin, "sleep", "60", NULL };
	struct brm_spawn_req req = req_for(argv);
	static struct brm_spawned s[N];
	bool reaped[N] = { false };

	ck_assert(!brm_spawn_owns(getpid()));
	ck_assert(!brm_spawn_owns(0));
	for (int i = 0; i < N; i++) {
		spawn_ok(&req, &s[i]);
		ck_assert(brm_spawn_owns(s[i].pid));
	}
	/* reap every third, then the rest; check every pid after each reap */
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < N; i++) {
			if (reaped[i] || (pass == 0 && i % 3))
				continue;
			kill_and_reap(&s[i]);
			reaped[i] = true;
			for (int j = 0; j < N; j++)
				ck_assert_msg(brm_spawn_owns(s[j].pid) == !reaped[j],
					      "child %d (pid %d): owns %d, reaped %d", j,
					      (int)s[j].pid, brm_spawn_owns(s[j].pid), reaped[j]);
		}
	}
}
END_TEST

START_TEST(test_reap_running)
{
	char *argv[] = { child_bin, "sleep", "0.3", NULL };
	struct brm_spawn_req req = req_for(argv);
	struct brm_spawned s;
	int status = 12345;

	spawn_ok(&req, &s);
	ck_assert_int_eq(brm_spawn_reap(s.pidfd, &status), 0);
	ck_assert_int_eq(status, 12345);
	status = wait_exit(&s, 2000);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close_spawned(&s);
}
END_TEST

START_TEST(test_exit_codes)
{
	static const char *codes[] = { "1", "3", "42", "255" };

	for (size_t i = 0; i < BRM_ARRAY_SIZE(codes); i++) {
		char *argv[] = { child_bin, "exit", (char *)codes[i], "0.01", NULL };
		struct brm_spawn_req req = req_for(argv);
		struct brm_spawned s;
		int status;

		spawn_ok(&req, &s);
		status = wait_exit(&s, 2000);
		ck_assert(WIFEXITED(status));
		ck_assert_int_eq(WEXITSTATUS(status), atoi(codes[i]));
		ck_assert(!WIFSIGNALED(status));
		close_spawned(&s);
	}
}
END_TEST

START_TEST(test_killed_by_signal)
{
	char *argv[] = { child_bin, "sleep", "30", NULL };
	char *argv2[] = { child_bin, "abort", "0.01", NULL };
	struct brm_spawn_req req = req_for(argv);
	struct brm_spawned s;
	int status;

	spawn_ok(&req, &s);
	ck_assert_int_eq(kill(s.pid, SIGKILL), 0);
	status = wait_exit(&s, 2000);
	ck_assert(WIFSIGNALED(status));
	ck_assert(!WIFEXITED(status));
	ck_assert_int_eq(WTERMSIG(status), SIGKILL);
	close_spawned(&s);

	req.argv = argv2;
	spawn_ok(&req, &s);
	status = wait_exit(&s, 2000);
	ck_assert(WIFSIGNALED(status));
	ck_assert_int_eq(WTERMSIG(status), SIGABRT);
	close_spawned(&s);
}
END_TEST

static void assert_no_children(void)
{
	errno = 0;
	ck_assert_int_eq(waitpid(-1, NULL, WNOHANG), -1);
	ck_assert_int_eq(errno, ECHILD);
}

START_TEST(test_missing_binary)
{
	char *argv[] = { "no-such-binary-xyz", NULL };
	char *argv2[] = { "/nonexistent-dir/prog", NULL };
	struct brm_spawn_req req = req_for(argv);
	struct brm_spawned s;
	char err[256];

	ck_assert_int_eq(brm_spawn(&req, &s, err, sizeof(err)), -ENOENT);
	ck_assert_str_eq(err, "exec 'no-such-binary-xyz': No such file or directory");
	req.argv = argv2;
	ck_assert_int_eq(brm_spawn(&req, &s, err, sizeof(err)), -ENOENT);
	ck_assert_str_eq(err, "exec '/nonexistent-dir/prog': No such file or directory");
	assert_no_children();
}
END_TEST

START_TEST(test_not_executable)
{
	char *file = tmp_path("notexec");
	char *argv[] = { file, NULL };
	char *argv2[] = { "notexec", NULL };
	char *env[] = { NULL, NULL };
	struct brm_spawn_req req = req_for(argv);
	struct brm_spawned s;
	char err[256], *want;
	int fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "#!/bin/sh\n", 10), 10);
	close(fd);
	ck_assert_int_eq(brm_spawn(&req, &s, err, sizeof(err)), -EACCES);
	want = brm_xasprintf("exec '%s': Permission denied", file);
	ck_assert_str_eq(err, want);
	free(want);

	/* Through PATH: EACCES wins over later ENOENT, as with execvp. */
	env[0] = brm_xasprintf("PATH=%s:/nonexistent-dir", tmpdir);
	req.argv = argv2;
	req.env = env;
	ck_assert_int_eq(brm_spawn(&req, &s, err, sizeof(err)), -EACCES);
	ck_assert_str_eq(err, "exec 'notexec': Permission denied");
	assert_no_children();
	free(env[0]);
	free(file);
}
END_TEST

START_TEST(test_path_lookup)
{
	/* A non-executable brm-testchild first in PATH, the real one later. */
	char *shadow = tmp_path("brm-testchild");
	char *argv[] = { "brm-testchild", "exit", "7", NULL };
	char *env[] = { NULL, NULL };
	struct brm_spawn_req req = req_for(argv);
	struct brm_spawned s;
	int fd = open(shadow, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

	ck_assert_int_ge(fd, 0);
	close(fd);
	env[0] = brm_xasprintf("PATH=/nonexistent-dir:%s:%s", tmpdir, bindir);
	req.env = env;
	spawn_ok(&req, &s);
	ck_assert_int_eq(WEXITSTATUS(wait_exit(&s, 2000)), 7);
	close_spawned(&s);

	/* Without PATH in req->env, the daemon's PATH is used. */
	req.env = NULL;
	free(env[0]);
	env[0] = brm_xasprintf("%s:/usr/bin:/bin", bindir);
	setenv("PATH", env[0], 1);
	spawn_ok(&req, &s);
	ck_assert_int_eq(WEXITSTATUS(wait_exit(&s, 2000)), 7);
	close_spawned(&s);
	free(env[0]);
	free(shadow);
}
END_TEST

START_TEST(test_bad_cwd)
{
	char *argv[] = { child_bin, "exit", "0", NULL };
	struct brm_spawn_req req = req_for(argv);
	struct brm_spawned s;
	char err[256];

	req.cwd = "/nope-brm-xyz";
	ck_assert_int_eq(brm_spawn(&req, &s, err, sizeof(err)), -ENOENT);
	ck_assert_str_eq(err, "chdir '/nope-brm-xyz': No such file or directory");
	assert_no_children();
}
END_TEST

START_TEST(test_bad_user_group)
{
	char *argv[] = { child_bin, "exit", "0", NULL };
	struct brm_spawn_req req = req_for(argv);
	struct brm_spawned s;
	char err[256];

	req.user = "no-such-user-xyz";
	ck_assert_int_eq(brm_spawn(&req, &s, err, sizeof(err)), -ENOENT);
	ck_assert_str_eq(err, "user 'no-such-user-xyz': no such user");
	req.user = NULL;
	req.group = "no-such-group-xyz";
	ck_assert_int_eq(brm_spawn(&req, &s, err, sizeof(err)), -ENOENT);
	ck_assert_str_eq(err, "group 'no-such-group-xyz': no such group");
	/* A uid without a user entry needs a group. */
	req.user = "54321";
	req.group = NULL;
	ck_assert_int_eq(brm_spawn(&req, &s, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "user '54321'"));
	assert_no_children();
}
END_TEST

START_TEST(test_bad_args)
{
	char *argv[] = { NULL };
	char *argv2[] = { child_bin, "exit", "0", NULL };
	char *env[] = { "NOEQUALS", NULL };
	struct brm_spawn_req req = req_for(argv);
	struct brm_spawned s;
	char err[256];

	ck_assert_int_eq(brm_spawn(&req, &s, err, sizeof(err)), -EINVAL);
	req.argv = argv2;
	req.env = env;
	ck_assert_int_eq(brm_spawn(&req, &s, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "env 'NOEQUALS': not KEY=VALUE");
	/* err may be NULL */
	ck_assert_int_eq(brm_spawn(&req, &s, NULL, 0), -EINVAL);
	assert_no_children();
}
END_TEST

START_TEST(test_new_session)
{
	struct brm_spawn_req req = req_for(NULL);
	struct brm_spawned s;
	char *info = spawn_info(&req, &s);

	ck_assert_int_eq(info_num(info, "pid"), s.pid);
	ck_assert_int_eq(info_num(info, "pgid"), s.pid);
	ck_assert_int_eq(info_num(info, "sid"), s.pid);
	ck_assert_int_eq(info_num(info, "ppid"), getpid());
	free(info);
	kill_and_reap(&s);
}
END_TEST

START_TEST(test_env)
{
	char *env[] = { "BRM_NEW=1", "BRM_KEEP_OVER=new", "BRM_DUP=a", "BRM_DUP=b", NULL };
	struct brm_spawn_req req = req_for(NULL);
	struct brm_spawned s;
	char *info;

	setenv("BRM_KEEP", "keep", 1);
	setenv("BRM_KEEP_OVER", "old", 1);
	req.env = env;
	info = spawn_info(&req, &s);
	ck_assert_int_eq(count_lines(info, "env:BRM_KEEP=keep"), 1);
	ck_assert_int_eq(count_lines(info, "env:BRM_NEW=1"), 1);
	ck_assert_int_eq(count_lines(info, "env:BRM_KEEP_OVER=new"), 1);
	ck_assert_int_eq(count_lines(info, "env:BRM_KEEP_OVER=old"), 0);
	ck_assert_int_eq(count_lines(info, "env:BRM_DUP=b"), 1);
	ck_assert_int_eq(count_lines(info, "env:BRM_DUP=a"), 0);
	free(info);
	kill_and_reap(&s);
}
END_TEST

START_TEST(test_cwd_umask)
{
	char *argv[] = { child_bin, "info", "rel-info.txt", NULL };
	struct brm_spawn_req req = req_for(argv);
	struct brm_spawned s;
	char *file = tmp_path("rel-info.txt"), *info, *v, real[PATH_MAX];

	ck_assert_ptr_nonnull(realpath(tmpdir, real));
	req.cwd = tmpdir;
	req.umask = 027;
	spawn_ok(&req, &s);
	info = wait_file(file, 3000);
	v = info_get(info, "cwd");
	ck_assert_str_eq(v, real);
	free(v);
	v = info_get(info, "umask");
	ck_assert_str_eq(v, "0027");
	free(v);
	free(info);
	free(file);
	kill_and_reap(&s);

	/* umask -1 inherits ours */
	umask(0022);
	req.umask = -1;
	req.cwd = NULL;
	info = spawn_info(&req, &s);
	v = info_get(info, "umask");
	ck_assert_str_eq(v, "0022");
	free(v);
	free(info);
	kill_and_reap(&s);
}
END_TEST

START_TEST(test_stdio)
{
	char *argv[] = { child_bin, "print", "--exit", "out", "hello", "world", NULL };
	char *argv2[] = { child_bin, "print", "--exit", "err", "oops", NULL };
	struct brm_spawn_req req = req_for(argv);
	struct brm_spawned s;
	char *text, *info, *v;

	spawn_ok(&req, &s);
	ck_assert(fcntl(s.stdout_fd, F_GETFL) & O_NONBLOCK);
	ck_assert(fcntl(s.stderr_fd, F_GETFL) & O_NONBLOCK);
	ck_assert(fcntl(s.stdout_fd, F_GETFD) & FD_CLOEXEC);
	ck_assert(fcntl(s.stderr_fd, F_GETFD) & FD_CLOEXEC);
	ck_assert(fcntl(s.pidfd, F_GETFD) & FD_CLOEXEC);
	text = read_all(s.stdout_fd, 2000);
	ck_assert_str_eq(text, "hello\nworld\n");
	free(text);
	text = read_all(s.stderr_fd, 2000);
	ck_assert_str_eq(text, "");
	free(text);
	ck_assert_int_eq(WEXITSTATUS(wait_exit(&s, 2000)), 0);
	close_spawned(&s);

	req.argv = argv2;
	spawn_ok(&req, &s);
	text = read_all(s.stderr_fd, 2000);
	ck_assert_str_eq(text, "oops\n");
	free(text);
	wait_exit(&s, 2000);
	close_spawned(&s);

	req.argv = NULL;
	info = spawn_info(&req, &s);
	v = info_get(info, "stdin");
	ck_assert_str_eq(v, "/dev/null");
	free(v);
	v = info_get(info, "stdout");
	ck_assert_ptr_nonnull(strstr(v, "pipe:"));
	free(v);
	v = info_get(info, "stderr");
	ck_assert_ptr_nonnull(strstr(v, "pipe:"));
	free(v);
	free(info);
	kill_and_reap(&s);
}
END_TEST

/* A daemon started with 0, 1, 2 closed: our pipes land on 0..2. */
START_TEST(test_stdio_daemon_fds_closed)
{
	char *argv[] = { child_bin, "print", "--exit", "out", "fine", NULL };
	struct brm_spawn_req req = req_for(argv);
	struct brm_spawned s;
	int saved[3], rc;
	char err[256], *text;

	for (int i = 0; i < 3; i++) {
		saved[i] = fcntl(i, F_DUPFD_CLOEXEC, 10);
		ck_assert_int_ge(saved[i], 0);
		close(i);
	}
	rc = brm_spawn(&req, &s, err, sizeof(err));
	for (int i = 0; i < 3; i++) {
		/* our read ends may sit on 0..2: move them first */
		if (rc == 0 && s.stdout_fd == i)
			s.stdout_fd = fcntl(i, F_DUPFD_CLOEXEC, 10);
		if (rc == 0 && s.stderr_fd == i)
			s.stderr_fd = fcntl(i, F_DUPFD_CLOEXEC, 10);
		if (rc == 0 && s.pidfd == i)
			s.pidfd = fcntl(i, F_DUPFD_CLOEXEC, 10);
		dup2(saved[i], i);
		close(saved[i]);
	}
	ck_assert_msg(rc == 0, "brm_spawn: %s", err);
	text = read_all(s.stdout_fd, 2000);
	ck_assert_str_eq(text, "fine\n");
	free(text);
	ck_assert_int_eq(WEXITSTATUS(wait_exit(&s, 2000)), 0);
	close_spawned(&s);
}
END_TEST

START_TEST(test_signals_reset)
{
	struct brm_spawn_req req = req_for(NULL);
	struct brm_spawned s;
	sigset_t set, old;
	char *info, *v;

	signal(SIGUSR1, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	info = spawn_info(&req, &s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	signal(SIGUSR1, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);

	v = info_get(info, "sigmask");
	ck_assert_str_eq(v, "0");
	free(v);
	v = info_get(info, "sigign");
	ck_assert_str_eq(v, "");
	free(v);
	free(info);
	kill_and_reap(&s);
}
END_TEST

START_TEST(test_no_fd_leak)
{
	char *file = tmp_path("fds.txt");
	char *argv[] = { child_bin, "fds", file, NULL };
	struct brm_spawn_req req = req_for(argv);
	struct brm_spawned s;
	int nul = open("/dev/null", O_RDONLY);  /* no O_CLOEXEC on purpose */
	int p[2];
	char *fds;

	ck_assert_int_ge(nul, 0);
	ck_assert_int_eq(pipe(p), 0);
	spawn_ok(&req, &s);
	fds = wait_file(file, 3000);
	ck_assert_str_eq(fds, "0 1 2");
	free(fds);
	kill_and_reap(&s);
	/* Our descriptors are still open and still without CLOEXEC. */
	ck_assert_int_eq(fcntl(nul, F_GETFD), 0);
	ck_assert_int_eq(fcntl(p[0], F_GETFD), 0);
	close(nul);
	close(p[0]);
	close(p[1]);
	free(file);
}
END_TEST

/* The slots' fixture: as brummd does at start-up, before anything is open. */
static void setup_slots(void)
{
	setup_tmp();
	ck_assert_int_eq(brm_spawn_reserve_fds(), 0);
}

/* FDSize of /proc/@pid/status: the size of its descriptor table. */
static long fd_table_size(pid_t pid)
{
	char path[64], *text, *p;
	long n;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	text = wait_file(path, 1000);
	p = strstr(text, "FDSize:");
	ck_assert_msg(p != NULL, "no FDSize in %s", path);
	n = strtol(p + 7, NULL, 10);
	free(text);
	return n;
}

/*
 * The descriptor table size (FDSize) of a child spawned while 2000 more
 * descriptors are open here; its open descriptors must be 0, 1, 2 either
 * way. The kernel never shrinks a table, so its size shows what the child
 * got: with slots a table of its stdio only, without them a copy.
 */
static long child_table_with_many_open(void)
{
	char *file = tmp_path("fds.txt");
	char *argv[] = { child_bin, "fds", file, NULL };
	struct brm_spawn_req req = req_for(argv);
	struct brm_spawned s;
	int many[2000];
	char *fds;
	long size;

	for (int i = 0; i < 2000; i++) {
		many[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
		ck_assert_int_ge(many[i], 0);
	}
	spawn_ok(&req, &s);
	fds = wait_file(file, 3000);
	ck_assert_str_eq(fds, "0 1 2");
	free(fds);
	size = fd_table_size(s.pid);
	kill_and_reap(&s);
	for (int i = 0; i < 2000; i++)
		close(many[i]);
	free(file);
	return size;
}

/* With slots: no copy of 2000 descriptors, closed at exec. */
START_TEST(test_slots_child_table_is_small)
{
	ck_assert_int_le(child_table_with_many_open(), 64);
}
END_TEST

/* Without slots: the copy (so the test above can fail). */
START_TEST(test_no_slots_child_gets_a_copy)
{
	ck_assert_int_ge(child_table_with_many_open(), 2000);
}
END_TEST

/*
 * Through the slots: an extra descriptor arrives at its number, also one
 * of the slots' own numbers. (That the daemon keeps no end of the child's
 * pipes, so its exit gives EOF, is test_stdio's, also run with slots.)
 */
START_TEST(test_slots_extra_fd)
{
	char *file = tmp_path("fds.txt");
	char *argv[] = { child_bin, "fds", file, NULL };
	struct brm_spawn_req req = req_for(argv);
	struct brm_spawned s;
	int p[2];
	char *fds, want[32];

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	for (int num = 3; num <= 9; num += 3) {
		unlink(file);
		req.extra_fd = p[1];
		req.extra_fd_num = num;
		spawn_ok(&req, &s);
		fds = wait_file(file, 3000);
		snprintf(want, sizeof(want), "0 1 2 %d", num);
		ck_assert_str_eq(fds, want);
		free(fds);
		kill_and_reap(&s);
	}
	close(p[0]);
	close(p[1]);
	free(file);
}
END_TEST

/* Wait until @pid (our child as subreaper, or gone) has died of SIGKILL. */
static void wait_gone(pid_t pid, int timeout_ms)
{
	for (int waited = 0;; waited += 5) {
		int status;
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid) {
			ck_assert(WIFSIGNALED(status));
			ck_assert_int_eq(WTERMSIG(status), SIGKILL);
			return;
		}
		if (r < 0 && kill(pid, 0) < 0 && errno == ESRCH)
			return;
		ck_assert_msg(waited < timeout_ms, "process %d still alive", (int)pid);
		sleep_ms(5);
	}
}

START_TEST(test_group_kill_reaches_grandchild)
{
	char *file = tmp_path("gpid.txt");
	char *argv[] = { child_bin, "grandchild", file, "ignore-term", NULL };
	struct brm_spawn_req req = req_for(argv);
	struct brm_spawned s;
	char *text;
	pid_t gpid;

	/* The orphaned grandchild comes to us, and we reap it. */
	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0);
	spawn_ok(&req, &s);
	text = wait_file(file, 3000);
	gpid = (pid_t)atoi(text);
	free(text);
	ck_assert_int_gt(gpid, 0);
	ck_assert_int_eq(getpgid(gpid), s.pid);
	ck_assert_int_eq(kill(-s.pid, SIGKILL), 0);
	ck_assert_int_eq(WTERMSIG(wait_exit(&s, 2000)), SIGKILL);
	close_spawned(&s);
	wait_gone(gpid, 2000);
	prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
	free(file);
}
END_TEST

struct thread_spawn {
	struct brm_spawn_req req;
	struct brm_spawned s;
	int rc;
	char err[256];
};

static void *spawn_thread(void *arg)
{
	struct thread_spawn *t = arg;

	t->rc = brm_spawn(&t->req, &t->s, t->err, sizeof(t->err));
	return NULL;
}

static void spawn_from_thread(struct thread_spawn *t)
{
	pthread_t th;

	ck_assert_int_eq(pthread_create(&th, NULL, spawn_thread, t), 0);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	ck_assert_msg(t->rc == 0, "brm_spawn: %s", t->err);
}

/* PR_SET_PDEATHSIG fires when the spawning *thread* exits. */
START_TEST(test_pdeathsig)
{
	char *argv[] = { child_bin, "sleep", "30", NULL };
	struct thread_spawn t = { .req = req_for(argv) };
	struct pollfd p;

	spawn_from_thread(&t);
	ck_assert_int_eq(WTERMSIG(wait_exit(&t.s, 2000)), SIGKILL);
	close_spawned(&t.s);

	/* Without it the child outlives the thread. */
	t.req.pdeathsig = 0;
	spawn_from_thread(&t);
	p.fd = t.s.pidfd;
	p.events = POLLIN;
	ck_assert_int_eq(poll(&p, 1, 200), 0);
	kill_and_reap(&t.s);
}
END_TEST

/* The kernel clears PDEATHSIG when the uid changes: it must be set after. */
START_TEST(test_pdeathsig_with_user)
{
	char *argv[] = { child_bin, "sleep", "30", NULL };
	struct thread_spawn t = { .req = req_for(argv) };

	if (geteuid() != 0) {
		printf("SKIP: test_pdeathsig_with_user: not root\n");
		return;
	}
	use_public_child();
	t.req.pdeathsig = SIGKILL;
	t.req.user = "nobody";
	spawn_from_thread(&t);
	ck_assert_int_eq(WTERMSIG(wait_exit(&t.s, 2000)), SIGKILL);
	close_spawned(&t.s);
}
END_TEST

static char *expected_groups(const struct passwd *pw, gid_t gid)
{
	gid_t g[256];
	int n = 256;
	char *s = brm_xstrdup(""), *t;

	ck_assert_int_ge(getgrouplist(pw->pw_name, gid, g, &n), 0);
	for (int i = 0; i < n; i++) {
		t = brm_xasprintf("%s%s%u", s, i ? "," : "", (unsigned)g[i]);
		free(s);
		s = t;
	}
	return s;
}

START_TEST(test_user_nobody)
{
	struct brm_spawn_req req = req_for(NULL);
	struct brm_spawned s;
	struct passwd *pw;
	char *info, *v, *want;

	if (geteuid() != 0) {
		printf("SKIP: test_user_nobody: not root\n");
		return;
	}
	use_public_child();
	pw = getpwnam("nobody");
	ck_assert_ptr_nonnull(pw);
	req.user = "nobody";
	info = spawn_info(&req, &s);
	ck_assert_int_eq(info_num(info, "uid"), pw->pw_uid);
	ck_assert_int_eq(info_num(info, "gid"), pw->pw_gid);
	v = info_get(info, "groups");
	want = expected_groups(pw, pw->pw_gid);
	ck_assert_str_eq(v, want);
	free(want);
	free(v);
	/* the identity a login as nobody has, not root's */
	ck_assert_msg(strstr(info, "\nenv:USER=nobody\n"), "info: %s", info);
	ck_assert_msg(strstr(info, "\nenv:LOGNAME=nobody\n"), "info: %s", info);
	want = NULL;
	if (asprintf(&want, "\nenv:HOME=%s\n", pw->pw_dir) < 0)
		ck_abort();
	ck_assert_msg(strstr(info, want), "info lacks %s: %s", want, info);
	free(want);
	free(info);
	kill_and_reap(&s);

	/* the spec's env still wins over the identity */
	{
		char *env[] = { "HOME=/srv/x", NULL };
		req.env = env;
		info = spawn_info(&req, &s);
		ck_assert_msg(strstr(info, "\nenv:HOME=/srv/x\n"), "info: %s", info);
		ck_assert_msg(strstr(info, "\nenv:USER=nobody\n"), "info: %s", info);
		free(info);
		kill_and_reap(&s);
		req.env = NULL;
	}

	/* numeric user and group, no user database entry */
	req.user = "54321";
	req.group = "54322";
	info = spawn_info(&req, &s);
	ck_assert_int_eq(info_num(info, "uid"), 54321);
	ck_assert_int_eq(info_num(info, "gid"), 54322);
	v = info_get(info, "groups");
	ck_assert_str_eq(v, "54322");
	free(v);
	free(info);
	kill_and_reap(&s);

	/* group only: gid and supplementary groups change, uid stays */
	req.user = NULL;
	req.group = "nogroup";
	info = spawn_info(&req, &s);
	ck_assert_int_eq(info_num(info, "uid"), 0);
	ck_assert_int_eq(info_num(info, "gid"), getgrnam("nogroup")->gr_gid);
	free(info);
	kill_and_reap(&s);
}
END_TEST

/* Not root: switching to another user fails with a message naming the step. */
START_TEST(test_setuid_denied)
{
	char *argv[] = { child_bin, "exit", "0", NULL };
	struct brm_spawn_req req = req_for(argv);
	struct brm_spawned s;
	char err[256];
	int rc;

	if (geteuid() == 0) {
		/* Drop to nobody in this (forked) test process, keep going. */
		const char *fork_mode = getenv("CK_FORK");

		if (fork_mode && strcmp(fork_mode, "no") == 0) {
			printf("SKIP: test_setuid_denied: CK_FORK=no (it drops root in the test process)\n");
			return;
		}
		ck_assert_int_eq(setgroups(0, NULL), 0);
		ck_assert_int_eq(setgid(65534), 0);
		ck_assert_int_eq(setuid(65534), 0);
	}
	req.user = "root";
	rc = brm_spawn(&req, &s, err, sizeof(err));
	ck_assert_int_eq(rc, -EPERM);
	ck_assert_str_eq(err, "setgroups 'root': Operation not permitted");
	assert_no_children();
}
END_TEST

START_TEST(test_flood)
{
	char *argv[] = { child_bin, "flood", "1000000", NULL };
	struct brm_spawn_req req = req_for(argv);
	struct brm_spawned s;
	char *text;

	spawn_ok(&req, &s);
	text = read_all(s.stdout_fd, 3000);
	ck_assert_uint_eq(strlen(text), 1000000);
	ck_assert_int_eq(text[999999], '\n');
	free(text);
	ck_assert_int_eq(WEXITSTATUS(wait_exit(&s, 2000)), 0);
	close_spawned(&s);
}
END_TEST

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Mean and median time, in us, that brm_spawn (or, as a baseline, glibc's
 * posix_spawn) blocks its caller.
 */
static void spawn_times(int n, bool baseline, double *mean, double *median)
{
	char *argv[] = { child_bin, "exit", "0", NULL };
	struct brm_spawn_req req = req_for(argv);
	uint64_t total = 0, *t = brm_xcalloc((size_t)n, sizeof(*t));

	for (int i = 0; i < n; i++) {
		struct brm_spawned s;
		uint64_t t0 = brm_now_mono_ns();
		pid_t pid;

		if (baseline) {
			ck_assert_int_eq(posix_spawn(&pid, child_bin, NULL, NULL, argv,
						     environ), 0);
			t[i] = brm_now_mono_ns() - t0;
			ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
		} else {
			spawn_ok(&req, &s);
			t[i] = brm_now_mono_ns() - t0;
			wait_exit(&s, 2000);
			close_spawned(&s);
		}
		total += t[i];
	}
	qsort(t, (size_t)n, sizeof(*t), cmp_u64);
	*mean = (double)total / n / 1000.0;
	*median = (double)t[n / 2] / 1000.0;
	free(t);
}

/* Information, not an assertion: the time brm_spawn blocks its caller. */
START_TEST(test_measure)
{
	size_t big = 512u << 20;
	double mean, median;
	char *mem;

	spawn_times(200, false, &mean, &median);
	fprintf(stderr, "spawn: brm_spawn blocks its caller %.1f us on average, "
		"median %.1f us (200 spawns)\n", mean, median);
	spawn_times(200, true, &mean, &median);
	fprintf(stderr, "spawn: posix_spawn for comparison: %.1f us on average, "
		"median %.1f us (200 spawns)\n", mean, median);
	mem = mmap(NULL, big, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(mem, MAP_FAILED);
	memset(mem, 1, big);
	spawn_times(100, false, &mean, &median);
	munmap(mem, big);
	fprintf(stderr, "spawn: with 512 MiB more RSS: %.1f us on average, "
		"median %.1f us (100 spawns)\n", mean, median);
}
END_TEST

static Suite *spawn_suite(void)
{
	Suite *s = suite_create("spawn");
	TCase *tc = tcase_create("spawn");

	tcase_add_checked_fixture(tc, setup_tmp, teardown_tmp);
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_exit_zero);
	tcase_add_test(tc, test_reap_running);
	tcase_add_test(tc, test_owns_until_reaped);
	tcase_add_test(tc, test_exit_codes);
	tcase_add_test(tc, test_killed_by_signal);
	tcase_add_test(tc, test_missing_binary);
	tcase_add_test(tc, test_not_executable);
	tcase_add_test(tc, test_path_lookup);
	tcase_add_test(tc, test_bad_cwd);
	tcase_add_test(tc, test_bad_user_group);
	tcase_add_test(tc, test_bad_args);
	tcase_add_test(tc, test_new_session);
	tcase_add_test(tc, test_env);
	tcase_add_test(tc, test_cwd_umask);
	tcase_add_test(tc, test_stdio);
	tcase_add_test(tc, test_stdio_daemon_fds_closed);
	tcase_add_test(tc, test_signals_reset);
	tcase_add_test(tc, test_no_fd_leak);
	tcase_add_test(tc, test_group_kill_reaches_grandchild);
	tcase_add_test(tc, test_pdeathsig);
	tcase_add_test(tc, test_pdeathsig_with_user);
	tcase_add_test(tc, test_user_nobody);
	tcase_add_test(tc, test_flood);
	tcase_add_test(tc, test_no_slots_child_gets_a_copy);
	suite_add_tcase(s, tc);
	/* The same again through descriptor slots, as in brummd. */
	tc = tcase_create("slots");
	tcase_add_checked_fixture(tc, setup_slots, teardown_tmp);
	tcase_add_test(tc, test_slots_child_table_is_small);
	tcase_add_test(tc, test_slots_extra_fd);
	tcase_add_test(tc, test_exit_zero);
	tcase_add_test(tc, test_missing_binary);
	tcase_add_test(tc, test_bad_cwd);
	tcase_add_test(tc, test_stdio);
	tcase_add_test(tc, test_stdio_daemon_fds_closed);
	tcase_add_test(tc, test_no_fd_leak);
	tcase_add_test(tc, test_signals_reset);
	tcase_add_test(tc, test_env);
	suite_add_tcase(s, tc);

	/*
	 * 500 spawns and 512 MiB touched: a second alone, ten times that under
	 * ASan on a loaded machine.
	 */
	tc = tcase_create("measure");
	tcase_add_checked_fixture(tc, setup_tmp, teardown_tmp);
	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, test_measure);
	suite_add_tcase(s, tc);

	/* No temporary directory: this test gives up root. */
	tc = tcase_create("unprivileged");
	tcase_add_test(tc, test_setuid_denied);
	suite_add_tcase(s, tc);
	return s;
}

Suite *brm_test_suite(void)
{
	const char *dir = getenv("BRM_BINDIR");

	if (!dir || !*dir)
		dir = "./bin";
	if (!realpath(dir, bindir)) {
		fprintf(stderr, "test_spawn: bin directory '%s': %s\n", dir, strerror(errno));
		return NULL;
	}
	snprintf(child_bin, sizeof(child_bin), "%s/brm-testchild", bindir);
	if (access(child_bin, X_OK) < 0) {
		fprintf(stderr, "test_spawn: '%s': %s (make bin/brm-testchild)\n",
			child_bin, strerror(errno));
		return NULL;
	}
	return spawn_suite();
}
