/*
 * test_ssh.c — brummctl -H ssh://... against a real sshd on 127.0.0.1:
 * status equals the local one, stop and start act on real children,
 * logs -f streams and ends on SIGTERM, two -H fan out with host prefixes,
 * an unreachable host (a closed port), a missing remote program and a
 * missing remote socket are named with the worst exit code, bad -H values
 * are usage errors, and dial-stdio alone bridges requests.
 *
 * The suite starts `/usr/sbin/sshd -D -e -f CONFIG` once (before the
 * tests fork) as the current user with a throwaway host key and client key
 * in a temporary directory, and points brummctl at it through
 * $BRUMMCTL_SSH="ssh -F SSH_CONFIG" and $BRUMMCTL_REMOTE (this build's
 * brummctl). Without OpenSSH (Debian's openssh-server and openssh-client),
 * or when sshd cannot start or log us in, the tests that need it print a
 * SKIP: line; those that need no sshd always run.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "tests/e2e.h"
#include "tests/harness.h"
#include "tests/suite.h"

static struct brmh H;
static char dir[256];
static int port, closed_port;
static char url[64], url2[64], closed_url[64];
static const char *skip_why;
static char skip_buf[512];

/* ---- the sshd ---- */

/* A port on 127.0.0.1 that nobody listens on right now. */
static int free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), p = -1;

	if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		p = ntohs(sa.sin_port);
	if (fd >= 0)
		close(fd);
	return p;
}

static bool port_open(int p)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)p),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;

	if (fd >= 0)
		close(fd);
	return ok;
}

static bool write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return false;
	fputs(text, f);
	return fclose(f) == 0;
}

/* "@what: @detail", its newlines as spaces, in skip_buf. */
static const char *skip(const char *what, const char *detail)
{
	snprintf(skip_buf, sizeof(skip_buf), "%s: %.300s", what, detail ? detail : "");
	for (char *p = skip_buf; *p; p++)
		if (*p == '\n')
			*p = ' ';
	return skip_buf;
}

/* Keys, configs, sshd; NULL when it answers and lets us in, else why not. */
static const char *start_sshd(void)
{
	char *log;
	pid_t pid;
	int st;

	if (access("/usr/sbin/sshd", X_OK) != 0)
		return "/usr/sbin/sshd not installed (Debian: openssh-server)";
	if (system("command -v ssh >/dev/null 2>&1 && command -v ssh-keygen >/dev/null 2>&1"))
		return "ssh or ssh-keygen not installed (Debian: openssh-client)";
	if (!brmh_tmpdir(dir, sizeof(dir), "brmssh"))
		return "cannot make a temporary directory";
	if (system(brmh_fmt("ssh-keygen -q -t ed25519 -N '' -f %s/host_key && "
			    "ssh-keygen -q -t ed25519 -N '' -f %s/id && "
			    "cp %s/id.pub %s/authorized_keys", dir, dir, dir, dir)))
		return "ssh-keygen failed";
	port = free_port();
	closed_port = free_port();
	if (port < 0 || closed_port < 0 || port == closed_port)
		return "no free port on 127.0.0.1";
	/* sshd's privilege separation wants its empty directory. */
	if (access("/run/sshd", F_OK) != 0)
		mkdir("/run/sshd", 0755);
	if (!write_text(brmh_fmt("%s/sshd_config", dir), brmh_fmt(
			"Port %d\nListenAddress 127.0.0.1\nHostKey %s/host_key\n"
			"AuthorizedKeysFile %s/authorized_keys\n"
			"PermitRootLogin prohibit-password\nPasswordAuthentication no\n"
			"KbdInteractiveAuthentication no\nStrictModes no\nUsePAM no\n"
			"PidFile none\nLogLevel ERROR\n", port, dir, dir)) ||
	    !write_text(brmh_fmt("%s/ssh_config", dir), brmh_fmt(
			"Host *\n  IdentityFile %s/id\n  IdentitiesOnly yes\n"
			"  UserKnownHostsFile /dev/null\n  StrictHostKeyChecking no\n"
			"  BatchMode yes\n  LogLevel ERROR\n  ConnectTimeout 10\n", dir)))
		return "cannot write the ssh configs";
	pid = fork();
	if (pid == 0) {
		int fd = open(brmh_fmt("%s/sshd.log", dir), O_WRONLY | O_CREAT | O_TRUNC, 0600);

		/* Gone with this process, however it ends. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(fd, 2);
		execl("/usr/sbin/sshd", "/usr/sbin/sshd", "-D", "-e", "-f",
		      brmh_fmt("%s/sshd_config", dir), (char *)NULL);
		_exit(127);
	}
	if (pid < 0)
		return "cannot fork";
	for (int i = 0; i < 2000 && !port_open(port); i++) {
		if (waitpid(pid, &st, WNOHANG) == pid) {
			log = brmh_read_file(brmh_fmt("%s/sshd.log", dir));
			return skip("sshd did not start", log);
		}
		brmh_sleep_ms(5);
	}
	if (!port_open(port))
		return "sshd does not listen after 10 s";
	snprintf(url, sizeof(url), "ssh://127.0.0.1:%d", port);
	snprintf(url2, sizeof(url2), "ssh://localhost:%d", port);
	snprintf(closed_url, sizeof(closed_url), "ssh://127.0.0.1:%d", closed_port);
	setenv("BRUMMCTL_SSH", brmh_fmt("ssh -F %s/ssh_config", dir), 1);
	setenv("BRUMMCTL_REMOTE", brmh_bin("brummctl"), 1);
	if (system(brmh_fmt("ssh -F %s/ssh_config -p %d 127.0.0.1 true </dev/null "
			    ">%s/login.log 2>&1", dir, port, dir))) {
		log = brmh_read_file(brmh_fmt("%s/login.log", dir));
		return skip("cannot log in to sshd as this user", log);
	}
	return NULL;
}

#define NEED_SSHD()                                                          \
	do {                                                                 \
		if (skip_why) {                                              \
			printf("SKIP: ssh: %s\n", skip_why);                 \
			return;                                              \
		}                                                            \
	} while (0)

static void start_web(void)
{
	brmh_check_start(&H, "{\"processes\":{"
		"\"web\":{\"cmd\":[\"%s\",\"print\",\"out\",\"hello-from-web\"],\"start_secs\":0},"
		"\"db\":{\"cmd\":[\"%s\",\"sleep\",\"60\"],\"start_secs\":0}}}",
		brmh_child(), brmh_child());
	ck_assert(brmh_wait_state(&H, "web", "running", 5000));
	ck_assert(brmh_wait_state(&H, "db", "running", 5000));
}

/* brummctl --socket H.sock ARGS...: exit code; @out and @err kept. */
#define CTL(out, err, ...) brmh_ctl(&H, out, err, __VA_ARGS__, NULL)

static bool has(const char *s, const char *needle)
{
	return s && strstr(s, needle);
}

static int count(const char *s, const char *needle)
{
	int n = 0;

	for (const char *p = s; p && (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* Does @out have a line that starts with @prefix and holds @needle? */
static bool line_with(const char *out, const char *prefix, const char *needle)
{
	size_t n = strlen(prefix);

	for (const char *p = out; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		const char *hit = strstr(p, needle);

		if (!strncmp(p, prefix, n) && hit && hit < p + len)
			return true;
		p = nl ? nl + 1 : NULL;
	}
	return false;
}

/* "name state pid;..." of `status --json`'s output, in its order. */
static char *summary(const char *json)
{
	cJSON *v = cJSON_Parse(json), *p;
	const cJSON *procs = cJSON_GetObjectItemCaseSensitive(v, "processes");
	char *s = calloc(1, 4096);

	ck_assert_msg(cJSON_IsArray(procs), "not a status reply: %s", json);
	cJSON_ArrayForEach(p, procs)
		snprintf(s + strlen(s), 4096 - strlen(s), "%s %s %ld;", brmh_str(p, "name"),
			 brmh_str(p, "state"), brmh_int(p, "pid"));
	cJSON_Delete(v);
	return s;
}

/* ---- through ssh ---- */

START_TEST(status_through_ssh_equals_local)
{
	char *out = NULL, *err = NULL, *local, *remote;
	int rc;

	NEED_SSHD();
	start_web();
	rc = CTL(&out, &err, "--json", "status", "--no-stats");
	ck_assert_int_eq(rc, 0);
	local = summary(out);
	free(out);
	free(err);
	rc = CTL(&out, &err, "-H", url, "--json", "status", "--no-stats");
	ck_assert_msg(rc == 0, "status -H: rc %d: %s", rc, err);
	remote = summary(out);
	ck_assert_str_eq(remote, local);
	ck_assert(strstr(local, "web running"));
	free(out);
	free(err);
	free(local);
	free(remote);

	/* The table, and a one-shot command: ssh ends with brummctl. */
	rc = CTL(&out, &err, "-H", url, "status");
	ck_assert_msg(rc == 0, "status -H (table): rc %d: %s", rc, err);
	ck_assert_msg(line_with(out, "web ", "running"), "no web line: %s", out);
	ck_assert_msg(err && !err[0], "stderr: %s", err);
	free(out);
	free(err);
	brmh_check_stop(&H);
}
END_TEST

START_TEST(stop_and_start_through_ssh)
{
	char *out = NULL, *err = NULL;
	long pid = 0;
	int rc;

	NEED_SSHD();
	start_web();
	pid = brmh_check_pid(&H, "db");
	rc = CTL(&out, &err, "-H", url, "stop", "db");
	ck_assert_msg(rc == 0, "stop -H: rc %d: %s", rc, err);
	free(out);
	free(err);
	ck_assert(brmh_wait_state(&H, "db", "stopped", 5000));
	ck_assert(brmh_wait_pid_gone((pid_t)pid, 5000));
	rc = CTL(&out, &err, "-H", url, "start", "db");
	ck_assert_msg(rc == 0, "start -H: rc %d: %s", rc, err);
	free(out);
	free(err);
	ck_assert(brmh_wait_state(&H, "db", "running", 5000));
	ck_assert_int_ne(brmh_check_pid(&H, "db"), pid);

	/* brummd's error comes through as it does locally: exit 1. */
	rc = CTL(&out, &err, "-H", url, "stop", "nosuch");
	ck_assert_int_eq(rc, 1);
	ck_assert_msg(has(err, "nosuch"), "stderr: %s", err);
	free(out);
	free(err);
	brmh_check_stop(&H);
}
END_TEST

START_TEST(logs_follow_through_ssh_streams_and_ends_on_sigterm)
{
	char *out = NULL, *err = NULL, path[300], errpath[300];
	pid_t pid;
	int rc;

	NEED_SSHD();
	start_web();
	snprintf(path, sizeof(path), "%s/follow.out", H.dir);
	snprintf(errpath, sizeof(errpath), "%s/follow.err", H.dir);
	pid = brmh_ctl_spawn(&H, path, errpath, "-H", url, "logs", "-f", "-n", "5", "web", NULL);
	ck_assert_int_gt(pid, 0);
	out = brmh_wait_file(path, 10000);
	ck_assert_msg(has(out, "hello-from-web"), "no first line: %s", out);
	free(out);
	/* A new line while following: the restart prints it again. */
	rc = CTL(&out, &err, "restart", "web");
	ck_assert_int_eq(rc, 0);
	free(out);
	free(err);
	for (int i = 0; i < 2000; i++) {
		out = brmh_read_file(path);
		if (count(out, "hello-from-web") >= 2)
			break;
		free(out);
		out = NULL;
		brmh_sleep_ms(5);
	}
	ck_assert_msg(out, "the second line did not come through ssh");
	free(out);
	ck_assert_int_eq(kill(pid, SIGTERM), 0);
	rc = brmh_wait_exit(pid, 15000);
	err = brmh_read_file(errpath);
	ck_assert_msg(rc == 0, "logs -f -H after SIGTERM: rc %d: %s", rc, err);
	free(err);
	brmh_check_stop(&H);
}
END_TEST

START_TEST(two_hosts_fan_out_with_prefixes)
{
	char *out = NULL, *err = NULL, p1[80], p2[80], path[300], errpath[300];
	pid_t pid;
	int rc;

	NEED_SSHD();
	start_web();
	snprintf(p1, sizeof(p1), "127.0.0.1:%d: ", port);
	snprintf(p2, sizeof(p2), "localhost:%d: ", port);
	rc = CTL(&out, &err, "-H", url, "-H", url2, "status");
	ck_assert_msg(rc == 0, "rc %d: %s", rc, err);
	ck_assert_msg(line_with(out, p1, "NAME") && line_with(out, p1, "web"), "%s", out);
	ck_assert_msg(line_with(out, p2, "NAME") && line_with(out, p2, "web"), "%s", out);
	free(out);
	free(err);

	/* A mutating command fans out too. */
	rc = CTL(&out, &err, "-H", url, "-H", url2, "--json", "ping");
	ck_assert_msg(rc == 0, "rc %d: %s", rc, err);
	ck_assert_msg(line_with(out, p1, "\"version\"") && line_with(out, p2, "\"version\""),
		      "%s", out);
	free(out);
	free(err);
	rc = CTL(&out, &err, "-H", url, "-H", url2, "stop", "db");
	ck_assert_msg(rc == 0, "stop on two: rc %d: %s", rc, err);
	ck_assert(brmh_wait_state(&H, "db", "stopped", 5000));
	free(out);
	free(err);

	/* logs -f from both at once; SIGTERM reaches both and ends it with 0. */
	snprintf(path, sizeof(path), "%s/fan.out", H.dir);
	snprintf(errpath, sizeof(errpath), "%s/fan.err", H.dir);
	pid = brmh_ctl_spawn(&H, path, errpath, "-H", url, "-H", url2, "logs", "-f", "web",
			     NULL);
	ck_assert_int_gt(pid, 0);
	for (int i = 0; i < 4000; i++) {
		out = brmh_read_file(path);
		if (line_with(out, p1, "hello-from-web") && line_with(out, p2, "hello-from-web"))
			break;
		free(out);
		out = NULL;
		brmh_sleep_ms(5);
	}
	ck_assert_msg(out, "logs -f on two hosts: not both first lines");
	free(out);
	ck_assert_int_eq(kill(pid, SIGTERM), 0);
	rc = brmh_wait_exit(pid, 15000);
	err = brmh_read_file(errpath);
	ck_assert_msg(rc == 0, "logs -f on two after SIGTERM: rc %d: %s", rc, err);
	free(err);
	brmh_check_stop(&H);
}
END_TEST

START_TEST(unreachable_host_is_named_and_worst)
{
	char *out = NULL, *err = NULL, p1[80], closed_label[80];
	int rc;

	NEED_SSHD();
	start_web();
	snprintf(p1, sizeof(p1), "127.0.0.1:%d: ", port);
	snprintf(closed_label, sizeof(closed_label), "127.0.0.1:%d", closed_port);

	rc = CTL(&out, &err, "-H", closed_url, "ping");
	ck_assert_int_eq(rc, 3);
	ck_assert_msg(has(err, brmh_fmt("cannot reach brummd on '%s'", closed_url)) &&
		      has(err, "exit status 255"), "stderr: %s", err);
	free(out);
	free(err);

	/* The reachable host still prints; the other is named; exit 3. */
	rc = CTL(&out, &err, "-H", url, "-H", closed_url, "status");
	ck_assert_int_eq(rc, 3);
	ck_assert_msg(line_with(out, p1, "web"), "stdout: %s", out);
	ck_assert_msg(has(err, brmh_fmt("brummctl: %s: could not be reached", closed_url)),
		      "stderr: %s", err);
	ck_assert_msg(line_with(err, brmh_fmt("%s: ", closed_label), "cannot reach brummd"),
		      "stderr: %s", err);
	free(out);
	free(err);

	/* Worst first: an error on one host and no connection to the other: 3;
	 * errors only: 1. */
	rc = CTL(&out, &err, "-H", url, "-H", closed_url, "status", "nosuch");
	ck_assert_int_eq(rc, 3);
	free(out);
	free(err);
	rc = CTL(&out, &err, "-H", url, "-H", url2, "status", "nosuch");
	ck_assert_int_eq(rc, 1);
	free(out);
	free(err);
	brmh_check_stop(&H);
}
END_TEST

START_TEST(remote_failures_are_named)
{
	char *out = NULL, *err = NULL;
	int rc;

	NEED_SSHD();
	start_web();
	/* No brummd behind the remote socket. */
	rc = brmh_ctl(&H, &out, &err, "-H", url, "--socket", brmh_fmt("%s/none.sock", H.dir),
		      "ping", NULL);
	ck_assert_int_eq(rc, 3);
	ck_assert_msg(has(err, "cannot connect to brummd at") &&
		      has(err, "dial-stdio on 127.0.0.1") , "stderr: %s", err);
	free(out);
	free(err);

	/* No such remote program; $BRUMMD_HOST instead of -H. */
	setenv("BRUMMCTL_REMOTE", "/nonexistent/brummctl", 1);
	setenv("BRUMMD_HOST", url, 1);
	rc = CTL(&out, &err, "ping");
	ck_assert_int_eq(rc, 3);
	ck_assert_msg(has(err, "cannot run '/nonexistent/brummctl' on 127.0.0.1") &&
		      has(err, "BRUMMCTL_REMOTE"), "stderr: %s", err);
	free(out);
	free(err);
	unsetenv("BRUMMD_HOST");
	setenv("BRUMMCTL_REMOTE", brmh_bin("brummctl"), 1);
	brmh_check_stop(&H);
}
END_TEST

/* ---- no sshd needed ---- */

START_TEST(bad_host_values_are_usage_errors)
{
	static const char *const bad[] = {
		"http://host", "host", "ssh://", "ssh://:22", "ssh://-oProxyCommand=x",
		"ssh://-p", "ssh://host:0", "ssh://host:65536", "ssh://host:2x", "ssh://host:",
		"ssh://@host", "ssh://-l@host", "ssh://host/path", "ssh://ho st", "ssh://[::1",
	};
	char *out = NULL, *err = NULL;
	int rc;

	brmh_check_start(&H, "{\"processes\":{}}");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rc = CTL(&out, &err, "-H", bad[i], "ping");
		ck_assert_msg(rc == 2, "-H '%s': rc %d", bad[i], rc);
		ck_assert_msg(has(err, brmh_fmt("invalid -H '%s'", bad[i])), "-H '%s': %s",
			      bad[i], err);
		free(out);
		free(err);
	}
	setenv("BRUMMD_HOST", "ssh://-oProxyCommand=touch", 1);
	rc = CTL(&out, &err, "ping");
	unsetenv("BRUMMD_HOST");
	ck_assert_int_eq(rc, 2);
	ck_assert_msg(has(err, "invalid $BRUMMD_HOST"), "%s", err);
	free(out);
	free(err);
	rc = CTL(&out, &err, "-H", "ssh://a", "-H", "ssh://a", "ping");
	ck_assert_int_eq(rc, 2);
	free(out);
	free(err);
	rc = CTL(&out, &err, "-H", "ssh://a", "dial-stdio");
	ck_assert_int_eq(rc, 2);
	free(out);
	free(err);
	/* Good ones parse (ssh itself is not there: exit 3, not 2). */
	setenv("BRUMMCTL_SSH", "/nonexistent/ssh -x", 1);
	rc = CTL(&out, &err, "-H", "ssh://me@[::1]:2222", "ping");
	ck_assert_int_eq(rc, 3);
	ck_assert_msg(has(err, "cannot run ssh '/nonexistent/ssh'") &&
		      has(err, "ssh://me@[::1]:2222"), "%s", err);
	free(out);
	free(err);
	brmh_check_stop(&H);
}
END_TEST

/* brummctl dial-stdio --socket @sock with @input on stdin: its exit code,
 * stdout in *@out. */
static int dial(const char *sock, const char *input, char **out)
{
	int in[2], o[2], st;
	size_t len = 0, cap = 65536;
	pid_t pid;

	ck_assert_int_eq(pipe(in), 0);
	ck_assert_int_eq(pipe(o), 0);
	pid = fork();
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(o[1], 1);
		dup2(open("/dev/null", O_WRONLY), 2);
		close(in[1]);
		close(o[0]);
		execl(brmh_bin("brummctl"), "brummctl", "dial-stdio", "--socket", sock,
		      (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(o[1]);
	ck_assert_int_eq(write(in[1], input, strlen(input)), (ssize_t)strlen(input));
	close(in[1]);
	*out = calloc(1, cap);
	for (;;) {
		struct pollfd p = { .fd = o[0], .events = POLLIN };
		ssize_t n;

		ck_assert_msg(poll(&p, 1, 10000) == 1, "dial-stdio: no EOF in 10 s: %s", *out);
		n = read(o[0], *out + len, cap - len - 1);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(o[0]);
	st = brmh_wait_exit(pid, 10000);
	return st;
}

START_TEST(dial_stdio_bridges_requests)
{
	char *out = NULL;
	int rc;

	brmh_check_start(&H, "{\"processes\":{}}");
	/* Two requests, then EOF: both answered, then a clean end. */
	rc = dial(H.sock, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n"
		  "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"status\"}\n", &out);
	ck_assert_int_eq(rc, 0);
	ck_assert_msg(has(out, "\"id\":1,\"result\":{\"version\"") &&
		      has(out, "\"id\":2,\"result\":{\"processes\""), "%s", out);
	free(out);
	rc = dial(brmh_fmt("%s/none.sock", H.dir), "", &out);
	ck_assert_int_eq(rc, 3);
	free(out);
	brmh_check_stop(&H);
}
END_TEST

Suite *brm_test_suite(void)
{
	const TTest *const tests[] = {
		bad_host_values_are_usage_errors,
		dial_stdio_bridges_requests,
		status_through_ssh_equals_local,
		stop_and_start_through_ssh,
		logs_follow_through_ssh_streams_and_ends_on_sigterm,
		two_hosts_fan_out_with_prefixes,
		unreachable_host_is_named_and_worst,
		remote_failures_are_named,
		NULL,
	};

	signal(SIGPIPE, SIG_IGN);
	skip_why = start_sshd();
	return brm_test_one_case("ssh", "ssh", 120, tests);
}
