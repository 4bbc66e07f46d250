/*
 * test_socketdir.c — the socket and its directory, end to end (issue 11,
 * section 3): brummd refuses to bind in a directory another user could
 * change (pre-created /tmp/brummd-UID, a sticky directory's foreign
 * subdirectory, a planted link, another group with socket_group), and
 * brummctl refuses, before it sends a byte, a socket another non-root user
 * could have put there. The normal cases (default path, stale socket,
 * a path that is not a socket) keep working.
 *
 * Runs as root: it chowns to other uids and runs brummd, brummctl and a
 * fake listener as them (forked children with setresuid). Skips visibly
 * otherwise.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/harness.h"
#include "tests/suite.h"

#define ATTACKER 4321     /* an untrusted local user */
#define VICTIM 4322       /* a user who runs its own brummd */
#define NOBODY 65534
#define AS_ROOT ((uid_t)-1)

static char base[64];

static char *at(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *at(const char *fmt, ...)
{
	static char p[8][320];
	static unsigned n;
	char rel[256], *r = p[n++ % 8];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	snprintf(r, sizeof(p[0]), "%s/%s", base, rel);
	return r;
}

static void rm_rf(const char *path)
{
	char cmd[400];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", path);
}

static char victim_tmp[64];   /* /tmp/brummd-VICTIM, the default of VICTIM */

static void setup(void)
{
	signal(SIGPIPE, SIG_IGN);
	snprintf(base, sizeof(base), "/tmp/brmsock.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(base));
	/* Other uids must reach what the tests put below. */
	ck_assert_int_eq(chmod(base, 0755), 0);
	snprintf(victim_tmp, sizeof(victim_tmp), "/tmp/brummd-%u", VICTIM);
	rm_rf(victim_tmp);
}

static void teardown(void)
{
	rm_rf(base);
	rm_rf(victim_tmp);
}

#define SKIP_UNLESS_ROOT()                                                        \
	do {                                                                      \
		if (geteuid() != 0) {                                             \
			printf("SKIP: %s needs root (it runs as other uids)\n", __func__); \
			return;                                                   \
		}                                                                 \
	} while (0)

static void become(uid_t uid)
{
	if (uid == AS_ROOT)
		return;
	if (setgroups(0, NULL) < 0 || setresgid(uid, uid, uid) < 0 || setresuid(uid, uid, uid) < 0)
		_exit(90);
}

/*
 * Start @argv as @uid with @env ("K=V" set, "K" unset; NULL-terminated),
 * stdout and stderr to @out and @err (created by root before the switch).
 * Returns the pid.
 */
static pid_t spawn_as(uid_t uid, const char *const env[], const char *out, const char *err,
		      const char *const argv[])
{
	int ofd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int efd = open(err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	pid_t pid;

	char state[sizeof(base) + 32];

	ck_assert(ofd >= 0 && efd >= 0);
	/* A state directory of the uid's own below the test's: never the
	 * system's /var/lib/brummd. */
	snprintf(state, sizeof(state), "%s/state-%u", base, (unsigned)uid);
	if (mkdir(state, 0700) == 0)
		ck_assert_int_eq(chown(state, uid, uid), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		if (!getenv("BRUMMD_STATE_DIR"))
			setenv("BRUMMD_STATE_DIR", state, 1);

		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(null, 0);
		dup2(ofd, 1);
		dup2(efd, 2);
		unsetenv("BRUMMD_SOCKET");
		unsetenv("BRUMMD_SOCKET_TRUST_UID");
		unsetenv("XDG_RUNTIME_DIR");
		for (int i = 0; env && env[i]; i++) {
			if (strchr(env[i], '='))
				putenv((char *)env[i]);
			else
				unsetenv(env[i]);
		}
		if (chdir("/") < 0)
			_exit(91);
		become(uid);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(ofd);
	close(efd);
	return pid;
}

/* Run brummd with @socket (NULL: the default) and config @cfg (NULL: none)
 * as @uid; it is expected to refuse: its exit code, -1 when it is still
 * running after 3 s (then killed). *@err gets its stderr (caller frees). */
static int brummd_refuses(uid_t uid, const char *const env[], const char *socket,
			  const char *cfg, char **err)
{
	const char *argv[8];
	int n = 0, code;
	pid_t pid;

	argv[n++] = brmh_bin("brummd");
	if (socket) {
		argv[n++] = "--socket";
		argv[n++] = socket;
	}
	if (cfg) {
		FILE *f = fopen(at("brummd.json"), "w");

		ck_assert_ptr_nonnull(f);
		fputs(cfg, f);
		fclose(f);
		argv[n++] = "--config";
		argv[n++] = at("brummd.json");
	}
	argv[n] = NULL;
	pid = spawn_as(uid, env, at("brummd.out"), at("brummd.err"), argv);
	code = brmh_wait_exit(pid, 3000);
	*err = brmh_read_file(at("brummd.err"));
	return code;
}

/* Run brummctl as @uid with @env and arguments (NULL-terminated); its exit
 * code; *@out and *@err get its output (caller frees). */
static int ctl_as(uid_t uid, const char *const env[], char **out, char **err, ...)
{
	const char *argv[16];
	int n = 0, code;
	va_list ap;
	const char *a;
	pid_t pid;

	argv[n++] = brmh_bin("brummctl");
	va_start(ap, err);
	while ((a = va_arg(ap, const char *)) && n < 15)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	pid = spawn_as(uid, env, at("ctl.out"), at("ctl.err"), argv);
	code = brmh_wait_exit(pid, 5000);
	*out = brmh_read_file(at("ctl.out"));
	*err = brmh_read_file(at("ctl.err"));
	return code;
}

static bool dir_is_empty(const char *path)
{
	char cmd[400];

	snprintf(cmd, sizeof(cmd), "test -z \"$(ls -A '%s')\"", path);
	return system(cmd) == 0;
}

static void mkdir_owned(const char *path, mode_t mode, uid_t uid, gid_t gid)
{
	ck_assert_msg(mkdir(path, mode) == 0, "mkdir %s: %s", path, strerror(errno));
	ck_assert_int_eq(chown(path, uid, gid), 0);
	ck_assert_int_eq(chmod(path, mode), 0);
}

#define ASSERT_HAS(hay, needle)                                                   \
	ck_assert_msg((hay) && strstr((hay), (needle)), "'%s' lacks '%s'",       \
		      (hay) ? (hay) : "(null)", (needle))

/* ---- a fake listener: what an attacker's socket receives ----------------- */

struct fake {
	pid_t pid;
	int stop_w;       /* write end: tells the listener to report and exit */
	int report_r;     /* read end: connections and bytes it saw */
};

/*
 * Listen at @path as @uid (the socket 0777 so anyone may connect; with
 * @chown_to != AS_ROOT it is given to that uid after bind). Every client's
 * bytes are read (up to its first newline, or 1 s) and counted, then the
 * connection is closed.
 */
static void fake_start(struct fake *f, const char *path, uid_t uid, uid_t chown_to)
{
	int stop[2], report[2], ready[2];
	char c;

	ck_assert_int_eq(pipe2(stop, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(report, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(ready, O_CLOEXEC), 0);
	f->pid = fork();
	ck_assert_int_ge(f->pid, 0);
	if (f->pid == 0) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		long seen[2] = { 0, 0 };   /* connections, bytes */
		int lfd;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(stop[1]);   /* the parent's close of it is the signal to stop */
		close(report[0]);
		close(ready[0]);
		become(uid);
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
		umask(0);
		lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
		    listen(lfd, 16) < 0)
			_exit(92);
		if (chown_to != AS_ROOT && lchown(path, chown_to, chown_to) < 0)
			_exit(93);
		if (write(ready[1], "r", 1) != 1)
			_exit(94);
		for (;;) {
			struct pollfd p[2] = { { .fd = lfd, .events = POLLIN },
					       { .fd = stop[0], .events = POLLIN } };
			char buf[4096];
			int cfd;

			if (poll(p, 2, 10000) <= 0 || p[1].revents)
				break;
			cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
			if (cfd < 0)
				continue;
			seen[0]++;
			for (;;) {
				struct pollfd q = { .fd = cfd, .events = POLLIN };
				ssize_t n;

				if (poll(&q, 1, 1000) <= 0)
					break;
				n = read(cfd, buf, sizeof(buf));
				if (n <= 0)
					break;
				seen[1] += n;
				if (memchr(buf, '\n', (size_t)n))
					break;
			}
			close(cfd);
		}
		if (write(report[1], seen, sizeof(seen)) != sizeof(seen))
			_exit(95);
		_exit(0);
	}
	close(stop[0]);
	close(report[1]);
	close(ready[1]);
	ck_assert_msg(read(ready[0], &c, 1) == 1, "the fake listener did not start");
	close(ready[0]);
	f->stop_w = stop[1];
	f->report_r = report[0];
}

/* Stop the listener; what it saw in @conns and @bytes. */
static void fake_stop(struct fake *f, long *conns, long *bytes)
{
	long seen[2] = { -1, -1 };

	close(f->stop_w);
	ck_assert_int_eq(read(f->report_r, seen, sizeof(seen)), (ssize_t)sizeof(seen));
	close(f->report_r);
	ck_assert_int_eq(brmh_wait_exit(f->pid, 3000), 0);
	*conns = seen[0];
	*bytes = seen[1];
}

/* ---- brummd -------------------------------------------------------------- */

/* The attack of the issue: another user pre-creates /tmp/brummd-UID, the
 * default socket directory of a non-root brummd, open to all. */
START_TEST(a_precreated_default_directory_of_another_user_is_refused)
{
	char home[320], henv[340], *err, *out;
	const char *env[] = { henv, NULL };
	const char *argv[] = { brmh_bin("brummd"), NULL };
	struct stat st;
	pid_t pid;
	int code = -1;

	SKIP_UNLESS_ROOT();
	snprintf(home, sizeof(home), "%s", at("home"));
	snprintf(henv, sizeof(henv), "HOME=%s", home);
	mkdir_owned(home, 0700, VICTIM, VICTIM);

	/* Normal: brummd creates /tmp/brummd-VICTIM 0700 and brummctl of the
	 * same user talks to it on the default path. */
	pid = spawn_as(VICTIM, env, at("brummd.out"), at("brummd.err"), argv);
	for (int i = 0; i < 300 && code != 0; i++) {
		brmh_sleep_ms(10);
		code = ctl_as(VICTIM, env, &out, &err, "ping", (char *)NULL);
		free(out);
		free(err);
	}
	ck_assert_msg(code == 0, "brummctl of the same user cannot ping: %d", code);
	ck_assert_int_eq(lstat(victim_tmp, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_uint_eq(st.st_uid, VICTIM);
	ck_assert_uint_eq(st.st_mode & 07777, 0700);
	kill(pid, SIGTERM);
	ck_assert_int_eq(brmh_wait_exit(pid, 5000), 0);
	rm_rf(victim_tmp);

	/* The attacker was first. */
	mkdir_owned(victim_tmp, 0777, ATTACKER, ATTACKER);
	code = brummd_refuses(VICTIM, env, NULL, NULL, &err);
	ck_assert_msg(code > 0, "brummd started in the attacker's directory (%d): %s", code,
		      err ? err : "");
	ASSERT_HAS(err, "unsafe socket directory");
	ASSERT_HAS(err, "'/tmp/brummd-4322' is owned by uid 4321");
	ck_assert_msg(dir_is_empty(victim_tmp), "brummd left something in %s", victim_tmp);
	free(err);
}
END_TEST

START_TEST(a_foreign_open_directory_at_the_socket_path_is_refused)
{
	char *err;

	SKIP_UNLESS_ROOT();
	mkdir_owned(at("evil"), 0777, ATTACKER, ATTACKER);
	ck_assert_int_gt(brummd_refuses(AS_ROOT, NULL, at("evil/brummd.sock"), NULL, &err), 0);
	ASSERT_HAS(err, "unsafe socket directory: ");
	ASSERT_HAS(err, at("evil' is owned by uid 4321, not by root or uid 0"));
	ck_assert(dir_is_empty(at("evil")));
	free(err);

	/* Root's own directory, but open to everyone. */
	mkdir_owned(at("open"), 0777, 0, 0);
	ck_assert_int_gt(brummd_refuses(AS_ROOT, NULL, at("open/brummd.sock"), NULL, &err), 0);
	ASSERT_HAS(err, at("open' is writable by others (mode 0777)"));
	ck_assert(dir_is_empty(at("open")));
	free(err);
}
END_TEST

START_TEST(a_sticky_directory_with_an_attackers_subdirectory_is_refused)
{
	char *err;

	SKIP_UNLESS_ROOT();
	mkdir_owned(at("tmp"), 01777, 0, 0);
	mkdir_owned(at("tmp/sub"), 0755, ATTACKER, ATTACKER);
	ck_assert_int_gt(brummd_refuses(AS_ROOT, NULL, at("tmp/sub/brummd.sock"), NULL, &err), 0);
	ASSERT_HAS(err, at("tmp/sub' is owned by uid 4321"));
	ck_assert(dir_is_empty(at("tmp/sub")));
	free(err);
}
END_TEST

START_TEST(a_link_another_user_planted_is_not_followed)
{
	char *err;

	SKIP_UNLESS_ROOT();
	/* root's private directory, reached through the attacker's link in a
	 * sticky directory: the attacker could point it anywhere later. */
	mkdir_owned(at("real"), 0700, 0, 0);
	mkdir_owned(at("tmp"), 01777, 0, 0);
	ck_assert_int_eq(symlink(at("real"), at("tmp/link")), 0);
	ck_assert_int_eq(lchown(at("tmp/link"), ATTACKER, ATTACKER), 0);
	ck_assert_int_gt(brummd_refuses(AS_ROOT, NULL, at("tmp/link/brummd.sock"), NULL, &err), 0);
	ASSERT_HAS(err, at("tmp/link' is"));
	ASSERT_HAS(err, "4321");
	ck_assert(dir_is_empty(at("real")));
	free(err);
}
END_TEST

START_TEST(socket_group_owns_the_directory_and_the_socket)
{
	struct brmh h;
	struct stat st;
	char *err, cfg[200];

	SKIP_UNLESS_ROOT();
	snprintf(cfg, sizeof(cfg), "{\"socket_mode\": \"0660\", \"socket_group\": %d}", NOBODY);
	brmh_socket_subdir = "run";
	ck_assert_int_eq(brmh_start(&h, cfg, NULL), 0);
	brmh_socket_subdir = NULL;
	ck_assert_int_eq(lstat(h.sock, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0660);
	ck_assert_uint_eq(st.st_gid, NOBODY);
	{
		char dir[320];

		snprintf(dir, sizeof(dir), "%s/run", h.dir);
		ck_assert_int_eq(lstat(dir, &st), 0);
		ck_assert_uint_eq(st.st_mode & 07777, 0750);
		ck_assert_uint_eq(st.st_gid, NOBODY);
		ck_assert_uint_eq(st.st_uid, 0);
	}
	ck_assert_int_eq(brmh_stop(&h, 5000), 0);

	/* An existing directory of another group is not the group's. */
	mkdir_owned(at("run"), 0750, 0, 0);
	ck_assert_int_gt(brummd_refuses(AS_ROOT, NULL, at("run/brummd.sock"), cfg, &err), 0);
	ASSERT_HAS(err, at("run' belongs to group 0, not to group 65534"));
	ck_assert(dir_is_empty(at("run")));
	free(err);
}
END_TEST

START_TEST(a_stale_socket_is_replaced_and_a_non_socket_refused)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct brmh h;
	char *err, *out;
	int fd, code = -1;
	pid_t pid;
	const char *argv[] = { brmh_bin("brummd"), "--socket", at("s/brummd.sock"), NULL };

	mkdir_owned(at("s"), 0700, geteuid(), getegid());
	/* A socket nobody listens on any more. */
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", at("s/brummd.sock"));
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	pid = spawn_as(AS_ROOT, NULL, at("brummd.out"), at("brummd.err"), argv);
	for (int i = 0; i < 300 && code != 0; i++) {
		brmh_sleep_ms(10);
		code = ctl_as(AS_ROOT, NULL, &out, &err, "--socket", at("s/brummd.sock"), "ping",
			      (char *)NULL);
		free(out);
		free(err);
	}
	ck_assert_msg(code == 0, "brummd did not replace the stale socket");

	/* A second brummd on a socket in use is refused (with a state of its
	 * own: the shared state's lock would refuse it first). */
	ck_assert_int_eq(mkdir(at("state2"), 0700), 0);
	setenv("BRUMMD_STATE_DIR", at("state2"), 1);
	ck_assert_int_gt(brummd_refuses(AS_ROOT, NULL, at("s/brummd.sock"), NULL, &err), 0);
	unsetenv("BRUMMD_STATE_DIR");
	ASSERT_HAS(err, "another brummd is already listening on");
	free(err);
	kill(pid, SIGTERM);
	ck_assert_int_eq(brmh_wait_exit(pid, 5000), 0);

	/* A path that is not a socket is never replaced. */
	fd = open(at("s/brummd.sock"), O_WRONLY | O_CREAT | O_EXCL, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_gt(brummd_refuses(AS_ROOT, NULL, at("s/brummd.sock"), NULL, &err), 0);
	ASSERT_HAS(err, "exists and is not a socket; refusing to replace it");
	free(err);

	/* A brummd of the harness (root's mkdtemp directory) runs as always. */
	ck_assert_int_eq(brmh_start(&h, NULL, NULL), 0);
	ck_assert_int_eq(brmh_stop(&h, 5000), 0);
}
END_TEST

/* ---- brummctl ------------------------------------------------------------ */

START_TEST(brummctl_refuses_a_socket_in_another_users_directory)
{
	char env_trust[64], *out, *err, sock[320];
	const char *trust[] = { env_trust, NULL };
	struct fake f;
	long conns, bytes;

	SKIP_UNLESS_ROOT();
	mkdir_owned(at("attacker"), 0755, ATTACKER, ATTACKER);
	snprintf(sock, sizeof(sock), "%s", at("attacker/brummd.sock"));
	fake_start(&f, sock, ATTACKER, AS_ROOT);

	/* Root, the most valuable victim. */
	ck_assert_int_eq(ctl_as(AS_ROOT, NULL, &out, &err, "--socket", sock, "stop", "web",
				(char *)NULL), 3);
	ASSERT_HAS(err, "refusing socket '");
	ASSERT_HAS(err, at("attacker' is owned by uid 4321, not by root or uid 0"));
	ASSERT_HAS(err, "BRUMMD_SOCKET_TRUST_UID");
	ck_assert_msg(!strstr(err, "is brummd running"), "%s", err);
	free(out);
	free(err);
	/* --json: the error on stdout too, as for any failure to reach brummd. */
	ck_assert_int_eq(ctl_as(AS_ROOT, NULL, &out, &err, "--json", "--socket", sock, "status",
				(char *)NULL), 3);
	ASSERT_HAS(out, "{\"error\":{\"code\":null,\"message\":\"refusing socket '");
	free(out);
	free(err);
	/* Another user, through $BRUMMD_SOCKET. */
	{
		char env_sock[340];
		const char *env[] = { env_sock, NULL };

		snprintf(env_sock, sizeof(env_sock), "BRUMMD_SOCKET=%s", sock);
		ck_assert_int_eq(ctl_as(NOBODY, env, &out, &err, "ping", (char *)NULL), 3);
		ASSERT_HAS(err, "not by root or uid 65534");
		free(out);
		free(err);
	}
	fake_stop(&f, &conns, &bytes);
	ck_assert_msg(conns == 0 && bytes == 0,
		      "the attacker's listener got %ld connections and %ld bytes", conns, bytes);

	/* Trusting that uid explicitly is the user's call. */
	fake_start(&f, at("attacker/trusted.sock"), ATTACKER, AS_ROOT);
	snprintf(env_trust, sizeof(env_trust), "BRUMMD_SOCKET_TRUST_UID=%u", ATTACKER);
	ctl_as(AS_ROOT, trust, &out, &err, "--socket", at("attacker/trusted.sock"), "ping",
	       (char *)NULL);
	free(out);
	free(err);
	fake_stop(&f, &conns, &bytes);
	ck_assert_msg(conns == 1 && bytes > 0, "trusted: %ld connections, %ld bytes", conns,
		      bytes);
}
END_TEST

/* The attack from the client's side: the attacker listens in the
 * /tmp/brummd-UID it pre-created, before the victim's brummd starts. */
START_TEST(brummctl_refuses_the_attackers_default_directory)
{
	char *out, *err, sock[128];
	struct fake f;
	long conns, bytes;

	SKIP_UNLESS_ROOT();
	mkdir_owned(victim_tmp, 0777, ATTACKER, ATTACKER);
	snprintf(sock, sizeof(sock), "%s/brummd.sock", victim_tmp);
	fake_start(&f, sock, ATTACKER, AS_ROOT);
	ck_assert_int_eq(ctl_as(VICTIM, NULL, &out, &err, "status", (char *)NULL), 3);
	ASSERT_HAS(err, "refusing socket '/tmp/brummd-4322/brummd.sock'");
	free(out);
	free(err);
	fake_stop(&f, &conns, &bytes);
	ck_assert_msg(conns == 0 && bytes == 0, "the listener got %ld connections and %ld bytes",
		      conns, bytes);
}
END_TEST

START_TEST(brummctl_refuses_a_socket_another_user_owns)
{
	char *out, *err;
	struct fake f;
	long conns, bytes;

	SKIP_UNLESS_ROOT();
	/* root's directory, but the socket in it is the attacker's */
	mkdir_owned(at("sockets"), 0755, 0, 0);
	fake_start(&f, at("sockets/brummd.sock"), AS_ROOT, ATTACKER);
	ck_assert_int_eq(ctl_as(AS_ROOT, NULL, &out, &err, "--socket", at("sockets/brummd.sock"),
				"ping", (char *)NULL), 3);
	ASSERT_HAS(err, "is owned by uid 4321, not by root or you (uid 0)");
	free(out);
	free(err);
	fake_stop(&f, &conns, &bytes);
	ck_assert_msg(conns == 0 && bytes == 0, "the listener got %ld connections and %ld bytes",
		      conns, bytes);
}
END_TEST

START_TEST(brummctl_of_a_user_reaches_roots_brummd)
{
	struct brmh h;
	char *out, *err;
	char cfg[200];

	SKIP_UNLESS_ROOT();
	snprintf(cfg, sizeof(cfg), "{\"socket_mode\": \"0660\", \"socket_group\": %d,"
		 " \"access\": {\"readers\": {\"users\": [%d]}}}", NOBODY, NOBODY);
	brmh_socket_subdir = "run";
	ck_assert_int_eq(brmh_start(&h, cfg, NULL), 0);
	brmh_socket_subdir = NULL;
	ck_assert_int_eq(chmod(h.dir, 0755), 0);
	{
		char path_env[340];
		const char *env[] = { path_env, NULL };

		snprintf(path_env, sizeof(path_env), "BRUMMD_SOCKET=%s", h.sock);
		ck_assert_int_eq(ctl_as(NOBODY, env, &out, &err, "ping", (char *)NULL), 0);
		ASSERT_HAS(out, "brummd ");
		free(out);
		free(err);
	}
	ck_assert_int_eq(brmh_stop(&h, 5000), 0);
}
END_TEST

Suite *brm_test_suite(void)
{
	Suite *s = suite_create("socketdir");
	TCase *tc = tcase_create("socketdir");

	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, a_precreated_default_directory_of_another_user_is_refused);
	tcase_add_test(tc, a_foreign_open_directory_at_the_socket_path_is_refused);
	tcase_add_test(tc, a_sticky_directory_with_an_attackers_subdirectory_is_refused);
	tcase_add_test(tc, a_link_another_user_planted_is_not_followed);
	tcase_add_test(tc, socket_group_owns_the_directory_and_the_socket);
	tcase_add_test(tc, a_stale_socket_is_replaced_and_a_non_socket_refused);
	tcase_add_test(tc, brummctl_refuses_a_socket_in_another_users_directory);
	tcase_add_test(tc, brummctl_refuses_the_attackers_default_directory);
	tcase_add_test(tc, brummctl_refuses_a_socket_another_user_owns);
	tcase_add_test(tc, brummctl_of_a_user_reaches_roots_brummd);
	suite_add_tcase(s, tc);
	return s;
}
