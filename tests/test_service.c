/*
 * test_service.c — brummd as a system service, end to end: the sd_notify
 * messages on the test's own datagram socket, socket activation through
 * LISTEN_FDS, shutdown on SIGTERM, no orphans after a SIGKILL of brummd,
 * the STATUS= counts against a recount after a churn, the "orphan": "keep" opt-out, and the persisted desired state (stopped by
 * request, added at runtime, a corrupt state file).
 */
#include <check.h>
#include <errno.h>
#include <glob.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/e2e.h"
#include "tests/harness.h"
#include "tests/suite.h"

static struct brmh H;

static long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void stop_ok(void)
{
	int st = brmh_stop(&H, 15000);

	ck_assert_msg(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "brummd did not exit 0 on SIGTERM (status %d)", st);
}

static void call_ok(const char *method, const char *params)
{
	cJSON *r = brmh_call(&H, method, params);
	int code = -1;

	ck_assert_ptr_nonnull(r);
	brmh_result(r, &code);
	ck_assert_msg(code == 0, "%s %s: error %d", method, params ? params : "", code);
	cJSON_Delete(r);
}

/* ---- notify ------------------------------------------------------------- */

struct notify_sock {
	int fd;
	char dir[64];
	char path[100];
	char msgs[64][512];
	int n;
};

static void notify_open(struct notify_sock *ns, bool abstract)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len;

	memset(ns, 0, sizeof(*ns));
	ns->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(ns->fd, 0);
	if (abstract) {
		snprintf(ns->path, sizeof(ns->path), "@brmtest-notify-%d", (int)getpid());
		memcpy(sa.sun_path + 1, ns->path + 1, strlen(ns->path) - 1);
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(ns->path));
	} else {
		snprintf(ns->dir, sizeof(ns->dir), "/tmp/brmnotify.XXXXXX");
		ck_assert_ptr_nonnull(mkdtemp(ns->dir));
		snprintf(ns->path, sizeof(ns->path), "%s/notify", ns->dir);
		memcpy(sa.sun_path, ns->path, strlen(ns->path) + 1);
		len = sizeof(sa);
	}
	ck_assert_int_eq(bind(ns->fd, (struct sockaddr *)&sa, len), 0);
	setenv("NOTIFY_SOCKET", ns->path, 1);
}

static void notify_close(struct notify_sock *ns)
{
	close(ns->fd);
	if (ns->dir[0]) {
		unlink(ns->path);
		rmdir(ns->dir);
	}
	unsetenv("NOTIFY_SOCKET");
}

/* Receive datagrams until one contains @needle; returns its index or -1. */
static int notify_wait(struct notify_sock *ns, const char *needle, int timeout_ms)
{
	long deadline = mono_ms() + timeout_ms;

	for (int i = 0; i < ns->n; i++)
		if (strstr(ns->msgs[i], needle))
			return i;
	while (mono_ms() < deadline && ns->n < 64) {
		struct pollfd p = { ns->fd, POLLIN, 0 };
		ssize_t k;

		if (poll(&p, 1, (int)(deadline - mono_ms())) <= 0)
			continue;
		k = recv(ns->fd, ns->msgs[ns->n], sizeof(ns->msgs[0]) - 1, 0);
		if (k < 0)
			continue;
		ns->msgs[ns->n][k] = '\0';
		if (strstr(ns->msgs[ns->n++], needle))
			return ns->n - 1;
	}
	return -1;
}

START_TEST(notify_ready_status_reload_stopping_in_order)
{
	struct notify_sock ns;
	int ready, running, reloading, ready2, stopping;
	char *cfg;

	notify_open(&ns, false);
	cfg = brmh_fmt("{\"processes\": {"
		  " \"a\": {\"cmd\": [\"%s\", \"sleep\", \"60\"], \"start_secs\": 0.2},"
		  " \"b\": {\"cmd\": [\"%s\", \"sleep\", \"60\"], \"start_secs\": 0.2}}}",
		  brmh_child(), brmh_child());
	ck_assert_int_eq(brmh_start(&H, cfg, NULL), 0);
	ready = notify_wait(&ns, "READY=1", 3000);
	ck_assert_msg(ready == 0, "READY=1 is not the first message (index %d)", ready);
	ck_assert_msg(strstr(ns.msgs[0], "STATUS=2 starting"), "first: %s", ns.msgs[0]);
	running = notify_wait(&ns, "STATUS=2 running", 3000);
	ck_assert_int_gt(running, ready);

	kill(H.pid, SIGHUP);
	reloading = notify_wait(&ns, "RELOADING=1", 3000);
	ck_assert_int_gt(reloading, running);
	ck_assert_msg(strstr(ns.msgs[reloading], "MONOTONIC_USEC="), "%s", ns.msgs[reloading]);
	ns.msgs[ready][0] = '\0';   /* find the next READY=1 */
	ready2 = notify_wait(&ns, "READY=1", 3000);
	ck_assert_int_gt(ready2, reloading);

	kill(H.pid, SIGTERM);
	stopping = notify_wait(&ns, "STOPPING=1", 3000);
	ck_assert_int_gt(stopping, ready2);
	stop_ok();
	notify_close(&ns);
}
END_TEST

START_TEST(notify_abstract_socket_and_watchdog)
{
	struct notify_sock ns;
	char *info, *cfg, out[300];
	long t0;
	int first, second;

	notify_open(&ns, true);
	setenv("WATCHDOG_USEC", "100000", 1);
	snprintf(out, sizeof(out), "/tmp/brm-svc-info.%d", (int)getpid());
	unlink(out);
	cfg = brmh_fmt("{\"processes\": {\"a\": {\"cmd\": [\"%s\", \"info\", \"%s\"]}}}", brmh_child(),
		  out);
	ck_assert_int_eq(brmh_start(&H, cfg, NULL), 0);
	ck_assert_int_ge(notify_wait(&ns, "READY=1", 3000), 0);
	t0 = mono_ms();
	first = notify_wait(&ns, "WATCHDOG=1", 1000);
	ck_assert_int_ge(first, 0);
	ns.msgs[first][0] = '\0';
	second = notify_wait(&ns, "WATCHDOG=1", 1000);
	ck_assert_int_gt(second, first);
	ck_assert_msg(mono_ms() - t0 < 800, "two pings took %ldms at a 100ms watchdog",
		      mono_ms() - t0);
	/* The service manager's variables are brummd's, not its children's. */
	info = brmh_wait_file(out, 3000);
	ck_assert_ptr_nonnull(info);
	ck_assert_msg(!strstr(info, "env:NOTIFY_SOCKET="), "child inherited NOTIFY_SOCKET");
	ck_assert_msg(!strstr(info, "env:WATCHDOG_USEC="), "child inherited WATCHDOG_USEC");
	free(info);
	unlink(out);
	stop_ok();
	unsetenv("WATCHDOG_USEC");
	notify_close(&ns);
}
END_TEST

/* The STATUS= line brummd would send now, recounted from `status` of all. */
static char *status_recount(void)
{
	static const char *const order[] = {
		"running", "starting", "waiting", "backoff", "stopping", "stopped", "exited", "fatal",
	};
	cJSON *r = brmh_call(&H, "status", NULL), *procs, *p;
	char *out = brmh_fmt("STATUS=");
	bool first = true;
	int code = -1;

	ck_assert_ptr_nonnull(r);
	procs = cJSON_GetObjectItemCaseSensitive(brmh_result(r, &code), "processes");
	ck_assert_int_eq(code, 0);
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		int n = 0;

		cJSON_ArrayForEach(p, procs)
			n += !strcmp(brmh_str(p, "state"), order[i]);
		if (n) {
			out = brmh_fmt("%s%s%d %s", out, first ? "" : ", ", n, order[i]);
			first = false;
		}
	}
	cJSON_Delete(r);
	return first ? brmh_fmt("STATUS=no processes") : out;
}

/* The counts brummd keeps on each transition (the STATUS= line is drawn
 * from them, without a pass over the processes) equal a recount after a
 * churn of starts, stops, kills, removes and adds, with dependencies. */
START_TEST(status_counts_equal_a_recount_after_churn)
{
	char last[512] = "", *want = NULL, *cfg, *procs = brmh_fmt("%s", "");
	struct notify_sock ns;
	long deadline;

	notify_open(&ns, false);
	for (int i = 0; i < 12; i++)
		procs = brmh_fmt("%s%s\"p%d\": {\"cmd\": [\"%s\", \"%s\"%s], \"start_secs\": 0,"
				 " \"backoff_secs\": 0.05, \"autostart\": %s%s}",
				 procs, i ? "," : "", i, brmh_child(), i % 4 == 3 ? "exit" : "sleep",
				 i % 4 == 3 ? ", \"0\"" : ", \"60\"", i % 4 == 2 ? "false" : "true",
				 i == 5 ? ", \"depends_on\": [\"p4\"]" : "");
	cfg = brmh_fmt("{\"processes\": {%s}}", procs);
	ck_assert_int_eq(brmh_start(&H, cfg, NULL), 0);
	ck_assert_int_ge(notify_wait(&ns, "READY=1", 5000), 0);
	ck_assert(brmh_wait_state(&H, "p0", "running", 5000));
	for (int round = 0; round < 3; round++) {
		for (int k = 0; k < 2; k++) {
			const char *victim = k ? "p4" : "p0";
			long pid;

			ck_assert(brmh_wait_state(&H, victim, "running", 5000));
			pid = brmh_check_pid(&H, victim);
			ck_assert_int_gt(pid, 1);   /* never kill(0) or kill(-1) */
			kill((pid_t)pid, SIGKILL);
		}
		call_ok("stop", "{\"name\":\"p1\",\"wait\":true}");
		call_ok("start", "{\"name\":\"p2\",\"wait\":true}");
		call_ok("restart", "{\"name\":\"p5\"}");
		call_ok("start", "{\"name\":\"p1\",\"wait\":true}");
		call_ok("stop", "{\"name\":\"p2\",\"wait\":true}");
		call_ok("add", brmh_fmt("{\"name\":\"x%d\",\"spec\":{\"cmd\":[\"%s\",\"sleep\",\"60\"],"
					"\"depends_on\":[\"p0\"]}}", round, brmh_child()));
		call_ok("remove", "{\"name\":\"p9\"}");
		call_ok("add", brmh_fmt("{\"name\":\"p9\",\"spec\":{\"cmd\":[\"%s\",\"sleep\",\"60\"]}}",
					brmh_child()));
	}
	call_ok("remove", "{\"name\":\"p5\"}");
	/* Quiet once the last STATUS= equals a recount taken after it. */
	deadline = mono_ms() + 10000;
	while (mono_ms() < deadline) {
		struct pollfd pf = { ns.fd, POLLIN, 0 };
		char buf[512];
		ssize_t k;

		while (poll(&pf, 1, 200) > 0 && (k = recv(ns.fd, buf, sizeof(buf) - 1, 0)) > 0) {
			char *st;

			buf[k] = '\0';
			st = strstr(buf, "STATUS=");
			if (st) {
				snprintf(last, sizeof(last), "%s", st);
				last[strcspn(last, "\n")] = '\0';
			}
		}
		want = status_recount();
		if (!strcmp(last, want))
			break;
	}
	ck_assert_msg(!strcmp(last, want), "brummd says '%s', a recount '%s'", last, want);
	stop_ok();
	notify_close(&ns);
}
END_TEST

/* ---- socket activation -------------------------------------------------- */

START_TEST(socket_activation_serves_on_the_passed_socket)
{
	char *cfg, *log, *info, out[300];
	struct stat st;
	int status;

	snprintf(out, sizeof(out), "/tmp/brm-svc-act.%d", (int)getpid());
	unlink(out);
	cfg = brmh_fmt("{\"processes\": {\"a\": {\"cmd\": [\"%s\", \"info\", \"%s\"], \"start_secs\": 0}}}",
		  brmh_child(), out);
	ck_assert_int_eq(brmh_start_activated(&H, cfg), 0);
	ck_assert(brmh_wait_state(&H, "a", "running", 3000));
	log = brmh_read_file(H.log);
	ck_assert_msg(log && strstr(log, "socket activation"), "log: %s", log ? log : "");
	free(log);
	info = brmh_wait_file(out, 3000);
	ck_assert_ptr_nonnull(info);
	ck_assert_msg(!strstr(info, "env:LISTEN_FDS="), "child inherited LISTEN_FDS");
	free(info);
	unlink(out);
	/* The socket belongs to whoever made it: brummd does not remove it. */
	kill(H.pid, SIGTERM);
	ck_assert_int_eq(waitpid(H.pid, &status, 0), H.pid);
	H.pid = 0;
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_int_eq(stat(H.sock, &st), 0);
	brmh_stop(&H, 1000);
}
END_TEST

START_TEST(listen_pid_of_another_process_is_ignored)
{
	/* LISTEN_* meant for someone else: brummd binds its own socket. */
	setenv("LISTEN_PID", "1", 1);
	setenv("LISTEN_FDS", "1", 1);
	ck_assert_int_eq(brmh_start(&H, "{}", NULL), 0);
	call_ok("ping", NULL);
	stop_ok();
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
}
END_TEST

/* ---- shutdown and orphans ----------------------------------------------- */

START_TEST(sigterm_stops_all_in_parallel_and_logs_progress)
{
	char *cfg, *log;
	long pids[3], t0;
	int st;

	cfg = brmh_fmt("{\"processes\": {"
		  " \"a\": {\"cmd\": [\"%s\", \"ignore-term\"], \"start_secs\": 0, \"stop_timeout_secs\": 1.3},"
		  " \"b\": {\"cmd\": [\"%s\", \"ignore-term\"], \"start_secs\": 0, \"stop_timeout_secs\": 1.3},"
		  " \"c\": {\"cmd\": [\"%s\", \"sleep\", \"60\"], \"start_secs\": 0}}}",
		  brmh_child(), brmh_child(), brmh_child());
	ck_assert_int_eq(brmh_start(&H, cfg, NULL), 0);
	ck_assert(brmh_wait_state(&H, "a", "running", 3000));
	ck_assert(brmh_wait_state(&H, "b", "running", 3000));
	ck_assert(brmh_wait_state(&H, "c", "running", 3000));
	pids[0] = brmh_check_pid(&H, "a");
	pids[1] = brmh_check_pid(&H, "b");
	pids[2] = brmh_check_pid(&H, "c");
	/* ignore-term's readiness line: its handlers are set */
	free(brmh_wait_log(&H, "a", "ignoring TERM", 3000));
	free(brmh_wait_log(&H, "b", "ignoring TERM", 3000));
	t0 = mono_ms();
	kill(H.pid, SIGTERM);
	ck_assert_int_eq(waitpid(H.pid, &st, 0), H.pid);
	H.pid = 0;
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
	/* In parallel: both 1.3 s timeouts run at once, not one after the other. */
	ck_assert_msg(mono_ms() - t0 < 2400, "shutdown took %ldms", mono_ms() - t0);
	for (int i = 0; i < 3; i++)
		ck_assert_msg(brmh_wait_pid_gone((pid_t)pids[i], 1000), "pid %ld left", pids[i]);
	log = brmh_read_file(H.log);
	ck_assert_msg(log && strstr(log, "shutdown: waiting for 2 processes to stop: "),
		      "no progress line: %s", log ? log : "");
	ck_assert_msg(strstr(log, "every process has stopped"), "%s", log);
	free(log);
	brmh_stop(&H, 1000);
}
END_TEST

START_TEST(sigkill_of_brummd_leaves_no_child_running)
{
	const char *other = NULL;
	char *cfg;
	long pa, pb, pk;
	int st;

	/* b runs as nobody, from a copy of the child nobody can reach (the
	 * checkout may be under a 0700 home directory). */
	if (geteuid() == 0)
		other = brmh_child_public();
	if (!other)
		printf("SKIP: sigkill_of_brummd_leaves_no_child_running: %s; b runs as"
		       " this uid instead of nobody\n",
		       geteuid() ? "not root" : "cannot copy the test child to /tmp");
	cfg = brmh_fmt("{\"processes\": {"
		  " \"a\": {\"cmd\": [\"%s\", \"sleep\", \"60\"], \"start_secs\": 0},"
		  " \"b\": {\"cmd\": [\"%s\", \"ignore-term\"], \"start_secs\": 0%s},"
		  " \"k\": {\"cmd\": [\"%s\", \"sleep\", \"60\"], \"start_secs\": 0, \"orphan\": \"keep\"}}}",
		  brmh_child(), other ? other : brmh_child(), other ? ", \"user\": \"nobody\"" : "",
		  brmh_child());
	ck_assert_int_eq(brmh_start(&H, cfg, NULL), 0);
	ck_assert(brmh_wait_state(&H, "a", "running", 3000));
	ck_assert(brmh_wait_state(&H, "b", "running", 3000));
	ck_assert(brmh_wait_state(&H, "k", "running", 3000));
	pa = brmh_check_pid(&H, "a");
	pb = brmh_check_pid(&H, "b");
	pk = brmh_check_pid(&H, "k");
	kill(H.pid, SIGKILL);
	ck_assert_int_eq(waitpid(H.pid, &st, 0), H.pid);
	H.pid = 0;
	ck_assert_msg(brmh_wait_pid_gone((pid_t)pa, 1000), "a (pid %ld) outlived brummd", pa);
	ck_assert_msg(brmh_wait_pid_gone((pid_t)pb, 1000),
		      "b (pid %ld, another uid) outlived brummd", pb);
	/* The opt-out: "orphan": "keep" runs on. */
	ck_assert_msg(brmh_pid_alive((pid_t)pk), "k (orphan: keep) died with brummd");
	kill((pid_t)pk, SIGKILL);
	ck_assert(brmh_wait_pid_gone((pid_t)pk, 2000));
	brmh_stop(&H, 1000);
}
END_TEST

/* ---- persisted desired state -------------------------------------------- */

static char state_dir[64];

static const char *two_procs(void)
{
	return brmh_fmt("{\"processes\": {"
		   " \"a\": {\"cmd\": [\"%s\", \"sleep\", \"60\"], \"start_secs\": 0},"
		   " \"b\": {\"cmd\": [\"%s\", \"sleep\", \"60\"], \"start_secs\": 0}}}",
		   brmh_child(), brmh_child());
}

START_TEST(desired_state_survives_a_restart)
{
	char *cfg = strdup(two_procs());
	cJSON *s;

	brmh_check_state_dir(state_dir, sizeof(state_dir));
	ck_assert_int_eq(brmh_start(&H, cfg, NULL), 0);
	ck_assert(brmh_wait_state(&H, "a", "running", 3000));
	call_ok("stop", "{\"name\":\"a\",\"wait\":true}");
	call_ok("add", brmh_fmt("{\"name\":\"c\",\"spec\":{\"cmd\":[\"%s\",\"sleep\",\"60\"],"
			   "\"start_secs\":0,\"restart\":\"always\"}}", brmh_child()));
	call_ok("add", brmh_fmt("{\"name\":\"gone\",\"spec\":{\"cmd\":[\"%s\",\"sleep\",\"60\"]}}",
			   brmh_child()));
	call_ok("remove", "{\"name\":\"gone\"}");
	ck_assert(brmh_wait_state(&H, "c", "running", 3000));
	stop_ok();

	ck_assert_int_eq(brmh_start(&H, cfg, NULL), 0);
	ck_assert(brmh_wait_state(&H, "b", "running", 3000));
	ck_assert(brmh_wait_state(&H, "c", "running", 3000));
	s = brmh_status(&H, "c");
	ck_assert_str_eq(brmh_str(s, "restart"), "always");
	cJSON_Delete(s);
	s = brmh_status(&H, "a");
	ck_assert_str_eq(brmh_str(s, "state"), "stopped");
	cJSON_Delete(s);
	ck_assert_ptr_null(brmh_status(&H, "gone"));
	/* Started again by request: autostart applies again after a restart. */
	call_ok("start", "{\"name\":\"a\",\"wait\":true}");
	call_ok("remove", "{\"name\":\"c\"}");
	stop_ok();

	ck_assert_int_eq(brmh_start(&H, cfg, NULL), 0);
	ck_assert(brmh_wait_state(&H, "a", "running", 3000));
	ck_assert_ptr_null(brmh_status(&H, "c"));
	stop_ok();
	free(cfg);
	brmh_check_state_dir_remove(state_dir);
}
END_TEST

START_TEST(corrupt_state_file_is_reported_and_set_aside)
{
	char path[128], *log;
	FILE *f;
	glob_t g;

	brmh_check_state_dir(state_dir, sizeof(state_dir));
	snprintf(path, sizeof(path), "%s/state.json", state_dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("{\"version\":1,\"processes\":{\"a\":{\"stopped\":tru", f);
	fclose(f);
	ck_assert_int_eq(brmh_start(&H, two_procs(), NULL), 0);
	ck_assert(brmh_wait_state(&H, "a", "running", 3000));
	ck_assert(brmh_wait_state(&H, "b", "running", 3000));
	log = brmh_read_file(H.log);
	ck_assert_msg(log && strstr(log, "is corrupt"), "log: %s", log ? log : "");
	free(log);
	snprintf(path, sizeof(path), "%s/state.json.corrupt-*", state_dir);
	ck_assert_int_eq(glob(path, 0, NULL, &g), 0);
	ck_assert_int_eq((int)g.gl_pathc, 1);
	globfree(&g);
	/* And a new, good state file is written at the next change. The
	 * record of b's process group goes in a write of its own, which no
	 * reply waits for (persist.c): look until it has gone too. */
	call_ok("stop", "{\"name\":\"b\",\"wait\":true}");
	snprintf(path, sizeof(path), "%s/state.json", state_dir);
	for (int i = 0; i < 300; i++) {
		log = brmh_wait_file(path, 3000);
		if (log && strstr(log, "\"b\":{\"stopped\":true}"))
			break;
		free(log);
		log = NULL;
		brmh_sleep_ms(10);
	}
	ck_assert_msg(log, "state: no \"b\":{\"stopped\":true} within 3 s");
	free(log);
	stop_ok();
	brmh_check_state_dir_remove(state_dir);
}
END_TEST

START_TEST(config_checks_orphan_and_state_dir)
{
	char dir[64], path[128], cmd[512];
	FILE *f;

	snprintf(dir, sizeof(dir), "/tmp/brmcfg.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/c.json", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("{\"state_dir\": \"rel/dir\", \"processes\": {\"a\": {\"cmd\": [\"x\"],"
	      " \"orphan\": \"leave\"}, \"b\": {\"cmd\": [\"x\"], \"orphan\": \"keep\"}}}", f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "'%s' --check-config '%s' > '%s/out' 2>&1",
		 brmh_bin("brummd"), path, dir);
	ck_assert_int_ne(system(cmd), 0);
	snprintf(path, sizeof(path), "%s/out", dir);
	{
		char *out = brmh_read_file(path);
		ck_assert_msg(out && strstr(out, "state_dir: expected an absolute path") &&
			      strstr(out, "processes.a.orphan: expected \"kill\" or \"keep\"") &&
			      !strstr(out, "processes.b"), "%s", out ? out : "");
		free(out);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

static Suite *service_suite(void)
{
	Suite *s = suite_create("service");
	TCase *notify = tcase_create("notify");
	TCase *act = tcase_create("activation");
	TCase *life = tcase_create("life");
	TCase *state = tcase_create("state");

	tcase_set_timeout(notify, 20);
	tcase_set_timeout(act, 20);
	tcase_set_timeout(life, 20);
	tcase_set_timeout(state, 30);
	tcase_add_test(notify, notify_ready_status_reload_stopping_in_order);
	tcase_add_test(notify, notify_abstract_socket_and_watchdog);
	tcase_add_test(notify, status_counts_equal_a_recount_after_churn);
	tcase_add_test(act, socket_activation_serves_on_the_passed_socket);
	tcase_add_test(act, listen_pid_of_another_process_is_ignored);
	tcase_add_test(life, sigterm_stops_all_in_parallel_and_logs_progress);
	tcase_add_test(life, sigkill_of_brummd_leaves_no_child_running);
	tcase_add_test(state, desired_state_survives_a_restart);
	tcase_add_test(state, corrupt_state_file_is_reported_and_set_aside);
	tcase_add_test(state, config_checks_orphan_and_state_dir);
	suite_add_tcase(s, notify);
	suite_add_tcase(s, act);
	suite_add_tcase(s, life);
	suite_add_tcase(s, state);
	return s;
}

Suite *brm_test_suite(void)
{
	return service_suite();
}
