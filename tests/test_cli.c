/*
 * test_cli.c — brummctl and lib/client.c without a daemon.
 *
 * "usage" and "connect" run the real bin/brummctl ($BRM_BINDIR/brummctl,
 * else ./bin/brummctl) as a subprocess and check exit codes and messages.
 * "paths" unit-tests the socket path resolution. "framing" puts a tiny fake
 * server on a socket in a temporary directory, answering each request line
 * with canned bytes, to exercise the client library's line handling
 * (partial lines, split replies, error replies, a daemon that closes
 * mid-reply). It is not a stand-in for the daemon: end-to-end tests of the
 * commands run against a real brummd.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>
#include <cjson/cJSON.h>

#include "lib/buf.h"
#include "lib/client.h"
#include "lib/util.h"
#include "proto/proto.h"
#include "tests/suite.h"

/* ---- temporary directories ---- */

static char tmpdir[64];

static void tmpdir_setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/brm-test-cli.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void tmpdir_teardown(void)
{
	char *cmd = brm_xasprintf("rm -rf '%s'", tmpdir);

	if (system(cmd) != 0)
		fprintf(stderr, "test_cli: cannot remove '%s'\n", tmpdir);
	free(cmd);
}

static char *tmp_path(const char *name)
{
	return brm_xasprintf("%s/%s", tmpdir, name);
}

static char *read_file(const char *path)
{
	struct brm_buf b = BRM_BUF_INIT;
	char chunk[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		brm_buf_add(&b, chunk, (size_t)n);
	close(fd);
	return brm_buf_detach(&b);
}

/* ---- running brummctl ---- */

struct run {
	int status;               /* exit code, or -1 when killed by a signal */
	char *out, *err;
};

static void run_finish(struct run *r)
{
	free(r->out);
	free(r->err);
}

/* The directory run_ctl runs brummctl in; NULL: the test's. */
static const char *ctl_cwd;

/* The brummctl the tests run, as its argv[0]. Ownership: caller frees. */
static char *ctl_prog(void)
{
	const char *bindir = getenv("BRM_BINDIR");

	return brm_xasprintf("%s/brummctl", bindir && *bindir ? bindir : "./bin");
}

/*
 * Run brummctl with @args (NULL-terminated, without argv[0]). @env lists
 * "K=V" to set and "K" to unset; BRUMMD_SOCKET is unset unless listed.
 */
static struct run run_ctl(const char *const *args, const char *const *env)
{
	char *prog = ctl_prog();
	char *outp = tmp_path("stdout"), *errp = tmp_path("stderr");
	const char *argv[64] = { prog };
	struct run r = { 0 };
	size_t n = 1;
	pid_t pid;
	int st;

	for (; args && *args && n < BRM_ARRAY_SIZE(argv) - 1; args++)
		argv[n++] = *args;
	argv[n] = NULL;

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int o = open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int e = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
			_exit(126);
		if (ctl_cwd && chdir(ctl_cwd) < 0)
			_exit(126);
		unsetenv("BRUMMD_SOCKET");
		for (; env && *env; env++) {
			const char *eq = strchr(*env, '=');

			if (eq) {
				char *k = brm_xstrndup(*env, (size_t)(eq - *env));

				setenv(k, eq + 1, 1);
				free(k);
			} else {
				unsetenv(*env);
			}
		}
		execv(prog, (char *const *)argv);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	ck_assert_msg(r.status != 127, "cannot run '%s' (set BRM_BINDIR)", prog);
	r.out = read_file(outp);
	r.err = read_file(errp);
	free(prog);
	free(outp);
	free(errp);
	return r;
}

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

#define ck_assert_contains(hay, needle) \
	ck_assert_msg(strstr((hay), (needle)) != NULL, \
		      "expected '%s' in:\n%s", (needle), (hay))

/* Exit 2, a message on stderr containing @what, a pointer to --help. */
static void expect_usage(const char *const *args, const char *what)
{
	struct run r = run_ctl(args, NULL);

	ck_assert_msg(r.status == 2, "exit %d, stderr:\n%s", r.status, r.err);
	ck_assert_contains(r.err, what);
	ck_assert_contains(r.err, "--help");
	ck_assert_str_eq(r.out, "");
	run_finish(&r);
}

/* ---- usage ---- */

START_TEST(usage_unknown_command)
{
	expect_usage(ARGS("bogus"), "unknown command 'bogus'");
	expect_usage(ARGS("--json", "frobnicate", "x"), "unknown command 'frobnicate'");
}
END_TEST

START_TEST(usage_missing_command)
{
	expect_usage(NULL, "missing command");
	expect_usage(ARGS("--json"), "missing command");
}
END_TEST

START_TEST(usage_missing_name)
{
	expect_usage(ARGS("start"), "missing NAME");
	expect_usage(ARGS("stop", "--no-wait"), "missing NAME");
	expect_usage(ARGS("restart"), "missing NAME");
	expect_usage(ARGS("remove"), "missing NAME");
	expect_usage(ARGS("signal"), "missing NAME");
	expect_usage(ARGS("signal", "web"), "missing SIG");
	expect_usage(ARGS("add"), "missing NAME");
}
END_TEST

START_TEST(usage_add_needs_dashdash)
{
	expect_usage(ARGS("add", "web"), "missing '--'");
	expect_usage(ARGS("add", "web", "python3", "-m", "http.server"), "missing '--'");
	expect_usage(ARGS("add", "web", "--"), "missing the command");
}
END_TEST

START_TEST(usage_add_bad_values)
{
	expect_usage(ARGS("add", "web", "--restart", "sometimes", "--", "true"),
		     "invalid --restart 'sometimes'");
	expect_usage(ARGS("add", "web", "--restart=sometimes", "--", "true"),
		     "invalid --restart 'sometimes'");
	expect_usage(ARGS("add", "web", "--env", "NOEQUALS", "--", "true"),
		     "invalid --env 'NOEQUALS'");
	expect_usage(ARGS("add", "web", "--start-retries", "three", "--", "true"),
		     "invalid --start-retries 'three'");
	expect_usage(ARGS("add", "web", "--stop-signal", "NOPE", "--", "true"),
		     "unknown signal 'NOPE'");
	expect_usage(ARGS("add", "-web", "--", "true"), "unknown option '-web'");
	expect_usage(ARGS("add", "we/b", "--", "true"), "invalid process name 'we/b'");
	expect_usage(ARGS("add", "web", "--cwd"), "option '--cwd' needs a value");
}
END_TEST

/* top, run and mcp open connections of their own: not through -H. */
START_TEST(usage_local_only_commands_refuse_hosts)
{
	static const char *const cmds[] = { "top", "mcp", "run" };

	for (size_t i = 0; i < BRM_ARRAY_SIZE(cmds); i++) {
		struct run r = i == 2 ? run_ctl(ARGS("-H", "ssh://example.invalid", "run", "web"), NULL)
				      : run_ctl(ARGS("-H", "ssh://example.invalid", cmds[i]), NULL);

		ck_assert_msg(r.status == 2, "%s: exit %d: %s", cmds[i], r.status, r.err);
		/* top on a pipe is refused before that: no terminal */
		ck_assert_contains(r.err, i == 0 ? "needs a terminal" : "not over -H");
		run_finish(&r);
	}
}
END_TEST

START_TEST(usage_bad_options)
{
	expect_usage(ARGS("status", "--frobnicate"), "unknown option '--frobnicate'");
	expect_usage(ARGS("status", "--all"), "'status' does not take option '--all'");
	expect_usage(ARGS("--all", "start"), "option '--all' goes after the command");
	expect_usage(ARGS("start", "web", "--all"), "not both");
	expect_usage(ARGS("stop", "web", "--no-wait", "--timeout", "5"), "--timeout");
	expect_usage(ARGS("signal", "web", "SIGNOPE"), "unknown signal 'SIGNOPE'");
	expect_usage(ARGS("signal", "web", "HUP", "extra"), "unknown signal 'extra'");
	expect_usage(ARGS("signal", "--all", "web", "HUP"), "names or --all, not both");
	expect_usage(ARGS("signal", "--all"), "missing SIG");
	expect_usage(ARGS("signal", "-x", "HUP"), "unknown option");
	/* --group: a flag for signal, a value for add, nothing for the others */
	expect_usage(ARGS("add", "web", "--group"), "option '--group' needs a value");
	expect_usage(ARGS("status", "--group"), "'status' does not take option '--group'");
	expect_usage(ARGS("signal", "--group=x", "web", "HUP"), "takes no value");
	expect_usage(ARGS("ping", "extra"), "takes no arguments");
	expect_usage(ARGS("--json=yes", "ping"), "takes no value");
	expect_usage(ARGS("--socket"), "needs a value");
}
END_TEST

START_TEST(usage_help)
{
	static const char *const cmds[] = {
		"status", "start", "stop", "restart", "signal", "add", "remove", "ping",
	};
	struct run r = run_ctl(ARGS("--help"), NULL);

	ck_assert_int_eq(r.status, 0);
	ck_assert_contains(r.out, "exit codes");
	ck_assert_contains(r.out, "0  success");
	ck_assert_contains(r.out, "2  usage");
	ck_assert_contains(r.out, "3  cannot reach brummd");
	ck_assert_contains(r.out, "--socket");
	ck_assert_contains(r.out, "--json");
	for (size_t i = 0; i < BRM_ARRAY_SIZE(cmds); i++)
		ck_assert_contains(r.out, cmds[i]);
	ck_assert_str_eq(r.err, "");
	run_finish(&r);

	r = run_ctl(ARGS("-h"), NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_contains(r.out, "exit codes");
	run_finish(&r);

	/* A command's own help, even when its arguments are missing. */
	r = run_ctl(ARGS("add", "--help"), NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_contains(r.out, "brummctl add NAME");
	run_finish(&r);

	r = run_ctl(ARGS("--version"), NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_contains(r.out, "brummctl " BRM_VERSION);
	run_finish(&r);
}
END_TEST

/*
 * Performance issue 13: every run of brummctl pays for each library the
 * loader maps. PCRE2 (only --grep uses it) is linked in statically, and
 * the CLI needs no libm; LD_DEBUG=files shows what the loader maps and for
 * whom (a sanitizer's runtime may need libm itself, brummctl may not).
 */
START_TEST(usage_loads_no_pcre2)
{
	char *prog = ctl_prog();
	char *needed_by = brm_xasprintf("needed by %s [", prog);
	struct run r = run_ctl(ARGS("--help"), ARGS("LD_DEBUG=files"));
	char *line, *save = NULL;

	ck_assert_int_eq(r.status, 0);
	ck_assert_contains(r.err, "file=libc.so");   /* LD_DEBUG did speak */
	ck_assert_msg(!strstr(r.err, "libpcre2"), "brummctl maps libpcre2:\n%s", r.err);
	/* ncurses is for `top` alone: linked statically, never mapped here. */
	ck_assert_msg(!strstr(r.err, "libncurses") && !strstr(r.err, "libtinfo"),
		      "brummctl maps ncurses:\n%s", r.err);
	for (line = strtok_r(r.err, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		ck_assert_msg(!(strstr(line, "file=libm.so") && strstr(line, needed_by)),
			      "brummctl needs libm: %s", line);
	run_finish(&r);
	free(needed_by);
	free(prog);
}
END_TEST

/* ---- connect ---- */

static void expect_cannot_connect(struct run *r, const char *path, const char *origin)
{
	ck_assert_msg(r->status == 3, "exit %d, stderr:\n%s", r->status, r->err);
	ck_assert_contains(r->err, "cannot connect to brummd at '");
	ck_assert_contains(r->err, path);
	ck_assert_contains(r->err, origin);
	ck_assert_contains(r->err, "is brummd running? start it with 'brummd' or 'make run'");
}

START_TEST(connect_socket_option)
{
	char *sock = tmp_path("nope.sock");
	struct run r = run_ctl(ARGS("--socket", sock, "status"), NULL);

	expect_cannot_connect(&r, sock, "--socket");
	ck_assert_contains(r.err, "No such file or directory");
	ck_assert_str_eq(r.out, "");
	run_finish(&r);

	/* -s, and options after the command. */
	r = run_ctl(ARGS("ping", "-s", sock), NULL);
	expect_cannot_connect(&r, sock, "--socket");
	run_finish(&r);
	r = run_ctl(ARGS("status", "web", "--socket=" "/nonexistent-brm/x.sock"), NULL);
	expect_cannot_connect(&r, "/nonexistent-brm/x.sock", "--socket");
	run_finish(&r);
	free(sock);
}
END_TEST

START_TEST(connect_env_and_precedence)
{
	char *envsock = tmp_path("env.sock"), *optsock = tmp_path("opt.sock");
	char *envvar = brm_xasprintf("BRUMMD_SOCKET=%s", envsock);
	const char *const env[] = { envvar, NULL };
	struct run r = run_ctl(ARGS("status"), env);

	expect_cannot_connect(&r, envsock, "$BRUMMD_SOCKET");
	run_finish(&r);

	/* --socket beats $BRUMMD_SOCKET. */
	r = run_ctl(ARGS("--socket", optsock, "status"), env);
	expect_cannot_connect(&r, optsock, "--socket");
	ck_assert_msg(strstr(r.err, envsock) == NULL, "env socket used:\n%s", r.err);
	run_finish(&r);

	free(envvar);
	free(envsock);
	free(optsock);
}
END_TEST

START_TEST(connect_default_path)
{
	char *xdg = brm_xasprintf("XDG_RUNTIME_DIR=%s", tmpdir);
	char *want = brm_xasprintf("%s/brummd/brummd.sock", tmpdir);
	const char *const env[] = { xdg, "BRUMMD_SOCKET=", NULL };
	struct run r = run_ctl(ARGS("ping"), env);

	expect_cannot_connect(&r, want, "default");
	run_finish(&r);
	free(xdg);
	free(want);
}
END_TEST

/*
 * In a checkout where `make run` listens (run/brummd.sock), failing on the
 * default socket names that one; elsewhere, or with a socket given, not.
 */
START_TEST(connect_default_hints_make_run)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char *xdg = brm_xasprintf("XDG_RUNTIME_DIR=%s", tmpdir);
	char *rundir = tmp_path("run"), *sock = tmp_path("run/brummd.sock");
	char *hint = brm_xasprintf("hint: 'make run' listens on '%s' here: "
				   "export BRUMMD_SOCKET=%s", sock, sock);
	const char *const env[] = { xdg, "BRUMMD_SOCKET=", NULL };
	struct run r;
	int fd;

	ctl_cwd = tmpdir;
	r = run_ctl(ARGS("ping"), env);
	ck_assert_int_eq(r.status, 3);
	ck_assert_msg(!strstr(r.err, "'make run' listens"), "hint without run/: %s", r.err);
	run_finish(&r);

	ck_assert_int_eq(mkdir(rundir, 0700), 0);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(fd, 1), 0);

	r = run_ctl(ARGS("ping"), env);
	expect_cannot_connect(&r, "brummd/brummd.sock", "default");
	ck_assert_contains(r.err, hint);
	run_finish(&r);

	/* A socket given explicitly is what the user meant: no hint. */
	r = run_ctl(ARGS("--socket", "/nonexistent-brm/x.sock", "ping"), env);
	ck_assert_int_eq(r.status, 3);
	ck_assert_msg(!strstr(r.err, "'make run' listens"), "hint with --socket: %s", r.err);
	run_finish(&r);
	ctl_cwd = NULL;

	close(fd);
	unlink(sock);
	rmdir(rundir);
	free(xdg);
	free(rundir);
	free(sock);
	free(hint);
}
END_TEST

START_TEST(connect_refused_and_too_long)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char *sock = tmp_path("stale.sock");
	char longpath[200];
	struct run r;
	int fd;

	/* A socket file nobody listens on any more: ECONNREFUSED. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	r = run_ctl(ARGS("--socket", sock, "status"), NULL);
	expect_cannot_connect(&r, sock, "--socket");
	ck_assert_contains(r.err, "Connection refused");
	run_finish(&r);

	memset(longpath, 'x', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	r = run_ctl(ARGS("--socket", longpath, "status"), NULL);
	expect_cannot_connect(&r, longpath, "--socket");
	ck_assert_contains(r.err, "too long");
	run_finish(&r);
	free(sock);
}
END_TEST

START_TEST(connect_json_error)
{
	char *sock = tmp_path("nope.sock");
	struct run r = run_ctl(ARGS("status", "--json", "--socket", sock), NULL);
	const cJSON *e, *code, *msg;
	cJSON *j;

	ck_assert_int_eq(r.status, 3);
	ck_assert_contains(r.err, sock);
	j = cJSON_Parse(r.out);
	ck_assert_msg(j != NULL, "stdout is not JSON: %s", r.out);
	e = cJSON_GetObjectItemCaseSensitive(j, "error");
	code = cJSON_GetObjectItemCaseSensitive(e, "code");
	msg = cJSON_GetObjectItemCaseSensitive(e, "message");
	ck_assert(cJSON_IsNull(code));
	ck_assert(cJSON_IsString(msg));
	ck_assert_contains(msg->valuestring, sock);
	/* One line. */
	ck_assert_ptr_eq(strchr(r.out, '\n'), r.out + strlen(r.out) - 1);
	cJSON_Delete(j);
	run_finish(&r);
	free(sock);
}
END_TEST

/* ---- socket paths ---- */

START_TEST(paths_xdg)
{
	char *p;

	setenv("XDG_RUNTIME_DIR", "/run/user/1234", 1);
	p = brm_socket_default_path();
	ck_assert_str_eq(p, "/run/user/1234/brummd/brummd.sock");
	free(p);

	setenv("XDG_RUNTIME_DIR", "/run/user/1234/", 1);
	p = brm_socket_default_path();
	ck_assert_str_eq(p, "/run/user/1234/brummd/brummd.sock");
	free(p);
}
END_TEST

START_TEST(paths_no_xdg_root_and_user)
{
	char want[64];
	char *p;

	setenv("XDG_RUNTIME_DIR", "", 1);      /* empty counts as unset */
	if (geteuid() == 0) {
		p = brm_socket_default_path();
		ck_assert_str_eq(p, "/run/brummd/brummd.sock");
		free(p);
		/* The same process as a user (this test runs in its own fork). */
		ck_assert_int_eq(seteuid(65534), 0);
		p = brm_socket_default_path();
		ck_assert_int_eq(seteuid(0), 0);
		ck_assert_str_eq(p, "/tmp/brummd-65534/brummd.sock");
		free(p);
	} else {
		snprintf(want, sizeof(want), "/tmp/brummd-%u/brummd.sock", (unsigned)geteuid());
		p = brm_socket_default_path();
		ck_assert_str_eq(p, want);
		free(p);
	}
	unsetenv("XDG_RUNTIME_DIR");
	p = brm_socket_default_path();
	ck_assert_str_eq(p, geteuid() == 0 ? "/run/brummd/brummd.sock" : want);
	free(p);
}
END_TEST

START_TEST(paths_resolve_order)
{
	enum brm_socket_origin o;
	char *p;

	setenv("XDG_RUNTIME_DIR", "/xdg", 1);
	setenv("BRUMMD_SOCKET", "/env.sock", 1);
	p = brm_socket_resolve_origin("/opt.sock", &o);
	ck_assert_str_eq(p, "/opt.sock");
	ck_assert_int_eq(o, BRM_SOCKET_FROM_OPTION);
	free(p);

	p = brm_socket_resolve_origin(NULL, &o);
	ck_assert_str_eq(p, "/env.sock");
	ck_assert_int_eq(o, BRM_SOCKET_FROM_ENV);
	ck_assert_str_eq(brm_socket_origin_name(o), "$BRUMMD_SOCKET");
	free(p);

	setenv("BRUMMD_SOCKET", "", 1);
	p = brm_socket_resolve(NULL);
	ck_assert_str_eq(p, "/xdg/brummd/brummd.sock");
	free(p);

	unsetenv("BRUMMD_SOCKET");
	p = brm_socket_resolve_origin(NULL, &o);
	ck_assert_str_eq(p, "/xdg/brummd/brummd.sock");
	ck_assert_int_eq(o, BRM_SOCKET_DEFAULT);
	free(p);
}
END_TEST

static char *saved_xdg, *saved_sock;

static void env_setup(void)
{
	const char *x = getenv("XDG_RUNTIME_DIR"), *s = getenv("BRUMMD_SOCKET");

	saved_xdg = x ? brm_xstrdup(x) : NULL;
	saved_sock = s ? brm_xstrdup(s) : NULL;
}

static void env_teardown(void)
{
	if (saved_xdg)
		setenv("XDG_RUNTIME_DIR", saved_xdg, 1);
	else
		unsetenv("XDG_RUNTIME_DIR");
	if (saved_sock)
		setenv("BRUMMD_SOCKET", saved_sock, 1);
	else
		unsetenv("BRUMMD_SOCKET");
	free(saved_xdg);
	free(saved_sock);
}

/* ---- framing, against a fake server ---- */

/*
 * What the fake server does for one request: read a line (unless
 * no_read), then write each chunk with a pause between (so the client sees
 * them as separate reads), then close if asked.
 */
struct step {
	bool no_read;
	const char *chunks[4];
	bool close_after;
};

struct fake {
	char *path;
	int lfd;
	pthread_t thread;
	const struct step *steps;
	size_t nsteps;
	const char *big;          /* written whole after the steps' chunks, if set */
	struct brm_buf requests;  /* every request line received */
};

static bool read_request(int fd, struct brm_buf *into)
{
	char ch;

	for (;;) {
		ssize_t n = read(fd, &ch, 1);

		if (n <= 0)
			return false;
		brm_buf_addc(into, ch);
		if (ch == '\n')
			return true;
	}
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static void *fake_main(void *arg)
{
	struct fake *f = arg;
	int fd = accept4(f->lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return NULL;
	for (size_t i = 0; i < f->nsteps; i++) {
		const struct step *s = &f->steps[i];

		if (!s->no_read && !read_request(fd, &f->requests))
			break;
		for (size_t k = 0; k < BRM_ARRAY_SIZE(s->chunks) && s->chunks[k]; k++) {
			if (k)
				usleep(20000);
			write_all(fd, s->chunks[k], strlen(s->chunks[k]));
		}
		if (f->big && i + 1 == f->nsteps)
			write_all(fd, f->big, strlen(f->big));
		if (s->close_after)
			break;
	}
	/* Wait for the client to hang up, unless a step closed early. */
	if (f->nsteps && !f->steps[f->nsteps - 1].close_after) {
		char ch;

		while (read(fd, &ch, 1) > 0)
			;
	}
	close(fd);
	return NULL;
}

static void fake_start(struct fake *f, const struct step *steps, size_t nsteps)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	f->path = tmp_path("fake.sock");
	f->steps = steps;
	f->nsteps = nsteps;
	brm_buf_init(&f->requests);
	f->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(f->lfd, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->path);
	ck_assert_int_eq(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(f->lfd, 4), 0);
	ck_assert_int_eq(pthread_create(&f->thread, NULL, fake_main, f), 0);
}

/* Join the server; call after brm_client_destroy() so it sees EOF. */
static void fake_join(struct fake *f)
{
	pthread_join(f->thread, NULL);
	close(f->lfd);
	unlink(f->path);
}

static void fake_finish(struct fake *f)
{
	fake_join(f);
	brm_buf_finish(&f->requests);
	free(f->path);
}

static struct brm_client *fake_connect(struct fake *f)
{
	char *err = NULL;
	struct brm_client *c = brm_client_connect(f->path, &err);

	ck_assert_msg(c != NULL, "connect: %s", err);
	return c;
}

START_TEST(framing_call_and_request_shape)
{
	static const struct step steps[] = {
		{ .chunks = { "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"ok\":true}}\n" } },
		{ .chunks = { "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":null}\n" } },
	};
	struct brm_rpc_err err = BRM_RPC_ERR_INIT;
	struct fake f = { 0 };
	struct brm_client *c;
	cJSON *res = NULL, *params, *req;
	char *nl;

	fake_start(&f, steps, BRM_ARRAY_SIZE(steps));
	c = fake_connect(&f);
	params = cJSON_CreateObject();
	cJSON_AddStringToObject(params, "name", "web");
	ck_assert_int_eq(brm_client_call(c, "status", params, &res, &err), 0);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(res, "ok")));
	cJSON_Delete(res);
	ck_assert_int_eq(brm_client_call(c, "ping", NULL, &res, &err), 0);
	ck_assert(cJSON_IsNull(res));
	cJSON_Delete(res);
	brm_client_destroy(c);
	fake_join(&f);

	/* One JSON object per line, increasing ids, params only when given. */
	nl = strchr(f.requests.p, '\n');
	ck_assert_ptr_nonnull(nl);
	*nl = '\0';
	req = cJSON_Parse(f.requests.p);
	ck_assert_ptr_nonnull(req);
	ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(req, "jsonrpc")->valuestring, "2.0");
	ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(req, "id")->valueint, 1);
	ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(req, "method")->valuestring, "status");
	ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(req, "params"), "name")->valuestring, "web");
	cJSON_Delete(req);
	req = cJSON_Parse(nl + 1);
	ck_assert_ptr_nonnull(req);
	ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(req, "id")->valueint, 2);
	ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(req, "params"));
	cJSON_Delete(req);
	brm_buf_finish(&f.requests);
	free(f.path);
}
END_TEST

START_TEST(framing_reply_split_in_two_writes)
{
	static const struct step steps[] = {
		{ .chunks = { "{\"jsonrpc\":\"2.0\",\"id\":1,\"res",
			      "ult\":{\"n\":42}}\n" } },
		/* The newline alone in a later write. */
		{ .chunks = { "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":7}", "\n" } },
	};
	struct brm_rpc_err err = BRM_RPC_ERR_INIT;
	struct fake f = { 0 };
	struct brm_client *c;
	cJSON *res = NULL;

	fake_start(&f, steps, BRM_ARRAY_SIZE(steps));
	c = fake_connect(&f);
	ck_assert_int_eq(brm_client_call(c, "status", NULL, &res, &err), 0);
	ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(res, "n")->valueint, 42);
	cJSON_Delete(res);
	ck_assert_int_eq(brm_client_call(c, "status", NULL, &res, &err), 0);
	ck_assert_int_eq(res->valueint, 7);
	cJSON_Delete(res);
	brm_client_destroy(c);
	fake_finish(&f);
}
END_TEST

START_TEST(framing_notification_before_reply)
{
	static const struct step steps[] = {
		{ .chunks = { "{\"jsonrpc\":\"2.0\",\"method\":\"event\",\"params\":{\"seq\":1}}\n"
			      "\n"
			      "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n"
			      "{\"jsonrpc\":\"2.0\",\"method\":\"event\",\"params\":{\"seq\":2}}\n" } },
	};
	struct brm_rpc_err err = BRM_RPC_ERR_INIT;
	struct fake f = { 0 };
	struct brm_client *c;
	cJSON *res = NULL, *msg = NULL;

	fake_start(&f, steps, BRM_ARRAY_SIZE(steps));
	c = fake_connect(&f);
	ck_assert_int_eq(brm_client_call(c, "status", NULL, &res, &err), 0);
	ck_assert(cJSON_IsObject(res));
	cJSON_Delete(res);
	/* The one queued during the call, then the one still in the buffer. */
	ck_assert_int_eq(brm_client_next(c, &msg, 0), 0);
	ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(msg, "params"), "seq")->valueint, 1);
	cJSON_Delete(msg);
	ck_assert_int_eq(brm_client_next(c, &msg, 1000), 0);
	ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(msg, "params"), "seq")->valueint, 2);
	cJSON_Delete(msg);
	ck_assert_int_eq(brm_client_next(c, &msg, 50), -ETIMEDOUT);
	ck_assert_ptr_null(msg);
	brm_client_destroy(c);
	fake_finish(&f);
}
END_TEST

START_TEST(framing_error_reply)
{
	static const struct step steps[] = {
		{ .chunks = { "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32005,"
			      "\"message\":\"timed out waiting for 'web'\",\"data\":"
			      "{\"processes\":[{\"name\":\"web\",\"state\":\"backoff\"}]}}}\n" } },
		/* The connection stays usable; an id null error answers the call. */
		{ .chunks = { "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32004,"
			      "\"message\":\"request line over 1048576 bytes\"}}\n" } },
	};
	struct brm_rpc_err err = BRM_RPC_ERR_INIT;
	struct fake f = { 0 };
	struct brm_client *c;
	cJSON *res = NULL;
	const cJSON *procs;

	fake_start(&f, steps, BRM_ARRAY_SIZE(steps));
	c = fake_connect(&f);
	ck_assert_int_eq(brm_client_call(c, "start", NULL, &res, &err), 1);
	ck_assert_ptr_null(res);
	ck_assert_int_eq(err.code, BRM_E_TIMEOUT);
	ck_assert_str_eq(err.message, "timed out waiting for 'web'");
	procs = cJSON_GetObjectItemCaseSensitive(err.data, "processes");
	ck_assert_int_eq(cJSON_GetArraySize(procs), 1);
	brm_rpc_err_finish(&err);
	ck_assert_ptr_null(err.message);

	ck_assert_int_eq(brm_client_call(c, "status", NULL, &res, &err), 1);
	ck_assert_int_eq(err.code, BRM_E_LIMIT);
	ck_assert_ptr_null(err.data);
	brm_rpc_err_finish(&err);
	brm_client_destroy(c);
	fake_finish(&f);
}
END_TEST

START_TEST(framing_close_mid_reply)
{
	static const struct step steps[] = {
		{ .chunks = { "{\"jsonrpc\":\"2.0\",\"id\":1,\"res" }, .close_after = true },
	};
	struct brm_rpc_err err = BRM_RPC_ERR_INIT;
	struct fake f = { 0 };
	struct brm_client *c;
	cJSON *res = NULL;

	fake_start(&f, steps, BRM_ARRAY_SIZE(steps));
	c = fake_connect(&f);
	ck_assert_int_eq(brm_client_call(c, "status", NULL, &res, &err), -ECONNRESET);
	ck_assert_ptr_null(res);
	ck_assert_contains(brm_client_strerror(c), "in the middle of a reply");
	brm_client_destroy(c);
	fake_finish(&f);
}
END_TEST

START_TEST(framing_close_without_reply)
{
	static const struct step steps[] = {
		{ .close_after = true },
	};
	struct brm_rpc_err err = BRM_RPC_ERR_INIT;
	struct fake f = { 0 };
	struct brm_client *c;
	cJSON *res = NULL;

	fake_start(&f, steps, BRM_ARRAY_SIZE(steps));
	c = fake_connect(&f);
	ck_assert_int_eq(brm_client_call(c, "status", NULL, &res, &err), -ECONNRESET);
	ck_assert_str_eq(brm_client_strerror(c), "brummd closed the connection");
	brm_client_destroy(c);
	fake_finish(&f);
}
END_TEST

/* `brummctl status` against a fake brummd that answers @reply. */
static struct run status_via_fake(const char *reply, const char *opt)
{
	const struct step steps[] = { { .chunks = { reply } } };
	struct fake f = { 0 };
	struct run r;

	fake_start(&f, steps, 1);
	r = opt ? run_ctl(ARGS("--socket", f.path, "status", opt), NULL)
		: run_ctl(ARGS("--socket", f.path, "status"), NULL);
	fake_finish(&f);
	return r;
}

/*
 * The status table read straight from the reply's text (cli/stream.c)
 * equals the one from a cJSON tree, byte for byte: the same snapshots as
 * {"processes": [...]} (streamed) and as a bare array (parsed), with
 * escapes, nulls, repeated keys, non-objects, huge numbers, notes.
 */
START_TEST(status_table_streamed_equals_parsed)
{
	static const char *const sets[] = {
		"[]",
		"[{\"name\":\"web\",\"state\":\"running\",\"pid\":4242,\"uptime_secs\":3725.5,"
		"\"restarts\":2,\"exit_code\":null,\"exit_signal\":\"KILL\",\"health\":\"unknown\","
		"\"cmd\":\"a \\\"b\\\" [c] {d}\",\"env\":{\"x\":[1,2,{\"y\":null}]},\"ok\":true},"
		"{\"name\":\"db\\u00e9\\ud83d\\ude00\",\"state\":\"waiting\",\"pid\":null,"
		"\"waiting_for\":\"web: not \\\"healthy\\\"\\n yet\",\"restarts\":0,\"exit_code\":-1},"
		"7,\"str\",null,"
		"{\"name\":\"job\",\"name\":\"dup\",\"type\":\"oneshot\",\"state\":\"exited\","
		"\"exit_code\":0,\"exit_code\":5,\"pid\":1e300,\"restarts\":1.5e3},"
		"{\"name\":\"bad\",\"state\":\"fatal\",\"error\":\"exec 'x': No such file\\t\","
		"\"exit_signal\":\"SIGSEGV\",\"health\":\"unhealthy\",\"pid\":12},"
		"{\"state\":42,\"name\":null,\"type\":\"oneshot\"},{}]",
		"[{\"name\":\"s\",\"state\":\"running\",\"pid\":1,\"cpu_percent\":12.345,"
		"\"rss_bytes\":1536000,\"health\":\"healthy\"},"
		"{\"name\":\"t\",\"state\":\"stopped\",\"cpu_percent\":null,\"rss_bytes\":5e9},"
		"{\"name\":\"u\",\"rss_bytes\":1000,\"restarts\":2.5,\"exit_code\":-0,"
		"\"pid\":-0.0},{\"name\":\"v\",\"restarts\":1e2,\"pid\":123456789012345678,"
		"\"exit_code\":01}]",
		/* ports (status --ports): each port once, in order; odd shapes */
		"[{\"name\":\"p\",\"state\":\"running\",\"pid\":3,\"ports\":[{\"port\":80,"
		"\"addr\":\"0.0.0.0\"},{\"port\":80,\"addr\":\"::\"},{\"addr\":\"x\",\"port\":443},"
		"7,[1],{\"port\":\"22\",\"port\":23},{\"port\":8080.9,\"port\":1},{\"port\":0},"
		"{\"port\":70000},{\"port\":null},{}],\"ports\":[{\"port\":9}]},"
		"{\"name\":\"q\",\"ports\":null},{\"name\":\"r\",\"ports\":[]},"
		"{\"name\":\"many\",\"ports\":[{\"port\":10001},{\"port\":10002},{\"port\":10003},"
		"{\"port\":10004},{\"port\":10005},{\"port\":10006},{\"port\":10007},"
		"{\"port\":10008},{\"port\":10009},{\"port\":10010},{\"port\":10011}]},"
		"{\"name\":\"s\",\"ports\":{\"port\":5}}]",
	};

	for (size_t i = 0; i < BRM_ARRAY_SIZE(sets); i++) {
		char *streamed = brm_xasprintf("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":"
					       "{\"other\":[1],\"processes\":%s}}\n", sets[i]);
		char *parsed = brm_xasprintf("{\"jsonrpc\":\"2.0\",\"result\":%s,\"id\":1}\n",
					     sets[i]);
		struct run a = status_via_fake(streamed, NULL), b = status_via_fake(parsed, NULL);

		ck_assert_int_eq(a.status, 0);
		ck_assert_int_eq(b.status, 0);
		ck_assert_msg(!strcmp(a.out, b.out), "set %zu: streamed:\n%.1500s\nparsed:\n%.1500s", i,
			      a.out, b.out);
		ck_assert_str_eq(a.err, b.err);
		if (i == 1)
			ck_assert_contains(a.out, "waiting for web: not \"healthy\"\n yet");
		if (i == 3) {
			ck_assert_contains(a.out, "PORTS");
			ck_assert_contains(a.out, "   80,443,8080   ");
			ck_assert_contains(a.out, "10001,10002,10003,10004,10005,10006,10007,...");
		}
		if (i == 2)
			ck_assert(!strstr(a.out, "PORTS"));
		run_finish(&a);
		run_finish(&b);
		free(streamed);
		free(parsed);
	}
}
END_TEST

/* What the stream does not take goes the way of every reply: an error, a
 * malformed reply, a single snapshot. */
START_TEST(status_table_other_replies_as_before)
{
	struct run r;

	r = status_via_fake("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32001,"
			    "\"message\":\"no such process\"}}\n", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_contains(r.err, "no such process");
	run_finish(&r);
	r = status_via_fake("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"processes\":[]}} x\n", NULL);
	ck_assert_int_eq(r.status, 3);
	ck_assert_contains(r.err, "malformed reply");
	run_finish(&r);
	r = status_via_fake("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"processes\":[+1]}}\n", NULL);
	ck_assert_int_eq(r.status, 3);
	ck_assert_contains(r.err, "malformed reply");
	run_finish(&r);
	r = status_via_fake("{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{\"processes\":[]}}\n", NULL);
	ck_assert_int_eq(r.status, 3);
	ck_assert_contains(r.err, "unexpected id");
	run_finish(&r);
	r = status_via_fake("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"name\":\"one\","
			    "\"state\":\"running\",\"pid\":7}}\n", "one");
	ck_assert_int_eq(r.status, 0);
	ck_assert_contains(r.out, "one    running");
	run_finish(&r);
}
END_TEST

/*
 * The table asks only for the fields it shows; a brummd that refuses
 * "fields" (older than the option) is asked again without them, and the
 * table is the same.
 */
START_TEST(status_table_asks_for_fields_and_falls_back)
{
	const struct step steps[] = {
		{ .chunks = { "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32602,\"message\":"
			      "\"params.fields: unknown parameter; status takes name, names, stats\"}}\n" } },
		{ .chunks = { "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{\"processes\":[{\"name\":\"old\","
			      "\"state\":\"running\",\"pid\":7,\"cmd\":\"x\"}]}}\n" } },
	};
	struct fake f = { 0 };
	struct run r;
	const char *second;
	cJSON *req, *fields;

	fake_start(&f, steps, 2);
	r = run_ctl(ARGS("--socket", f.path, "status", "--no-stats"), NULL);
	fake_join(&f);
	ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
	ck_assert_contains(r.out, "old    running");
	/* The first request names the table's fields, the second none. */
	second = strchr(f.requests.p, '\n');
	ck_assert_ptr_nonnull(second);
	req = cJSON_ParseWithLength(f.requests.p, (size_t)(second - f.requests.p));
	ck_assert_ptr_nonnull(req);
	fields = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(req, "params"),
						  "fields");
	ck_assert(cJSON_IsArray(fields));
	ck_assert_int_ge(cJSON_GetArraySize(fields), 8);
	ck_assert_ptr_null(strstr(f.requests.p, "\"cmd\""));
	cJSON_Delete(req);
	ck_assert_ptr_null(strstr(second, "fields"));
	ck_assert_contains(second, "\"status\"");
	run_finish(&r);
	brm_buf_finish(&f.requests);
	free(f.path);
	/* --json asks for every field. */
	{
		const struct step one[] = { { .chunks = {
			"{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"processes\":[]}}\n" } } };
		struct fake g = { 0 };

		fake_start(&g, one, 1);
		r = run_ctl(ARGS("--socket", g.path, "status", "--json"), NULL);
		fake_join(&g);
		ck_assert_int_eq(r.status, 0);
		ck_assert_ptr_null(strstr(g.requests.p, "fields"));
		run_finish(&r);
		brm_buf_finish(&g.requests);
		free(g.path);
	}
}
END_TEST

START_TEST(framing_malformed_replies)
{
	static const char *const bad[] = {
		"not json\n",
		"[1,2]\n",
		"{\"id\":1,\"result\":{}}\n",                               /* no jsonrpc */
		"{\"jsonrpc\":\"2.0\",\"id\":99,\"result\":{}}\n",          /* wrong id */
		"{\"jsonrpc\":\"2.0\",\"id\":1}\n",                         /* neither */
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":1,\"error\":{\"code\":1,\"message\":\"x\"}}\n",
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":\"x\"}}\n",
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}} trailing\n",
	};

	for (size_t i = 0; i < BRM_ARRAY_SIZE(bad); i++) {
		const struct step steps[] = { { .chunks = { bad[i] } } };
		struct brm_rpc_err err = BRM_RPC_ERR_INIT;
		struct fake f = { 0 };
		struct brm_client *c;
		cJSON *res = NULL;

		fake_start(&f, steps, 1);
		c = fake_connect(&f);
		ck_assert_msg(brm_client_call(c, "status", NULL, &res, &err) == -EPROTO,
			      "accepted: %s", bad[i]);
		ck_assert_ptr_null(res);
		ck_assert_contains(brm_client_strerror(c), "malformed reply");
		brm_client_destroy(c);
		fake_finish(&f);
	}
}
END_TEST

START_TEST(framing_big_reply)
{
	/* A 3 MiB reply arrives in many reads and makes the buffer grow. */
	static const struct step steps[] = { { .chunks = { NULL } } };
	const size_t n = 3u << 20;
	struct brm_rpc_err err = BRM_RPC_ERR_INIT;
	struct fake f = { 0 };
	struct brm_client *c;
	struct brm_buf big = BRM_BUF_INIT;
	cJSON *res = NULL;
	char *s = brm_xmalloc(n + 1);

	memset(s, 'a', n);
	s[n] = '\0';
	brm_buf_adds(&big, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"s\":\"");
	brm_buf_adds(&big, s);
	brm_buf_adds(&big, "\"}}\n");
	f.big = big.p;
	fake_start(&f, steps, 1);
	c = fake_connect(&f);
	ck_assert_int_eq(brm_client_call(c, "status", NULL, &res, &err), 0);
	ck_assert_uint_eq(strlen(cJSON_GetObjectItemCaseSensitive(res, "s")->valuestring), n);
	cJSON_Delete(res);
	brm_client_destroy(c);
	fake_finish(&f);
	brm_buf_finish(&big);
	free(s);
}
END_TEST

START_TEST(framing_connect_errors)
{
	char *sock = tmp_path("absent.sock"), *err = NULL, *want;
	char longpath[120];
	int e = 0;

	ck_assert_ptr_null(brm_client_connect_errno(sock, &err, &e));
	want = brm_xasprintf("cannot connect to brummd at '%s': No such file or directory", sock);
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(e, ENOENT);
	free(want);
	free(err);

	memset(longpath, 'x', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	ck_assert_ptr_null(brm_client_connect_errno(longpath, &err, &e));
	ck_assert_int_eq(e, ENAMETOOLONG);
	ck_assert_contains(err, "too long (119 bytes, at most 107)");
	free(err);
	free(sock);
	brm_client_destroy(NULL);
}
END_TEST

static Suite *cli_suite(void)
{
	Suite *s = suite_create("cli");
	TCase *tc;

	tc = tcase_create("usage");
	tcase_add_checked_fixture(tc, tmpdir_setup, tmpdir_teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, usage_unknown_command);
	tcase_add_test(tc, usage_missing_command);
	tcase_add_test(tc, usage_missing_name);
	tcase_add_test(tc, usage_add_needs_dashdash);
	tcase_add_test(tc, usage_add_bad_values);
	tcase_add_test(tc, usage_bad_options);
	tcase_add_test(tc, usage_local_only_commands_refuse_hosts);
	tcase_add_test(tc, usage_help);
	tcase_add_test(tc, usage_loads_no_pcre2);
	suite_add_tcase(s, tc);

	tc = tcase_create("connect");
	tcase_add_checked_fixture(tc, tmpdir_setup, tmpdir_teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, connect_socket_option);
	tcase_add_test(tc, connect_env_and_precedence);
	tcase_add_test(tc, connect_default_path);
	tcase_add_test(tc, connect_default_hints_make_run);
	tcase_add_test(tc, connect_refused_and_too_long);
	tcase_add_test(tc, connect_json_error);
	suite_add_tcase(s, tc);

	tc = tcase_create("paths");
	tcase_add_checked_fixture(tc, env_setup, env_teardown);
	tcase_add_test(tc, paths_xdg);
	tcase_add_test(tc, paths_no_xdg_root_and_user);
	tcase_add_test(tc, paths_resolve_order);
	suite_add_tcase(s, tc);

	tc = tcase_create("framing");
	tcase_add_checked_fixture(tc, tmpdir_setup, tmpdir_teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, framing_call_and_request_shape);
	tcase_add_test(tc, framing_reply_split_in_two_writes);
	tcase_add_test(tc, framing_notification_before_reply);
	tcase_add_test(tc, framing_error_reply);
	tcase_add_test(tc, framing_close_mid_reply);
	tcase_add_test(tc, framing_close_without_reply);
	tcase_add_test(tc, framing_malformed_replies);
	tcase_add_test(tc, status_table_streamed_equals_parsed);
	tcase_add_test(tc, status_table_other_replies_as_before);
	tcase_add_test(tc, status_table_asks_for_fields_and_falls_back);
	tcase_add_test(tc, framing_big_reply);
	tcase_add_test(tc, framing_connect_errors);
	suite_add_tcase(s, tc);
	return s;
}

Suite *brm_test_suite(void)
{
	return cli_suite();
}
