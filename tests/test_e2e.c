/*
 * test_e2e.c — a real brummd on a socket in a temporary directory, real
 * child processes (bin/brm-testchild), and the real protocol over a raw
 * Unix-socket client: the state machine, stops that reach grandchildren,
 * SIGKILL after the stop timeout, missing binaries, descriptor hygiene,
 * and the daemon's own shutdown.
 */
#include <check.h>
#include <errno.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/e2e.h"
#include "tests/harness.h"
#include "tests/suite.h"

static struct brmh H;

/* A config with one process "p" whose spec is @spec_body (JSON members). */
static char *config_one(const char *fmt, ...)
{
	static char buf[4096];
	char body[3000];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	snprintf(buf, sizeof(buf), "{ // test config\n \"workers\": 2,\n \"processes\": {\"p\": {%s}}}",
		 body);
	return buf;
}

static long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void start_with(const char *cfg)
{
	ck_assert_msg(brmh_start(&H, cfg, NULL) == 0, "brummd did not start (log: %s)", H.log);
}

static cJSON *status_of(const char *name)
{
	cJSON *s = brmh_status(&H, name);

	ck_assert_msg(s != NULL, "no status for '%s'", name);
	return s;
}

/* Call and expect an error with @code whose message contains @needle. */
static void expect_error(const char *method, const char *params, int code, const char *needle)
{
	cJSON *r = brmh_call(&H, method, params);
	const cJSON *err, *msg;
	int got;

	ck_assert_ptr_nonnull(r);
	brmh_result(r, &got);
	err = cJSON_GetObjectItemCaseSensitive(r, "error");
	msg = cJSON_GetObjectItemCaseSensitive(err, "message");
	ck_assert_msg(got == code, "%s %s: expected error %d, got %d", method,
		      params ? params : "", code, got);
	ck_assert_msg(cJSON_IsString(msg) && strstr(msg->valuestring, needle),
		      "%s: message '%s' lacks '%s'", method,
		      cJSON_IsString(msg) ? msg->valuestring : "(none)", needle);
	cJSON_Delete(r);
}

/* ---- basics ------------------------------------------------------------- */

START_TEST(ping_answers_with_version_and_pid)
{
	cJSON *r;
	const cJSON *res;
	int code;

	start_with(NULL);
	r = brmh_call(&H, "ping", NULL);
	res = brmh_result(r, &code);
	ck_assert_int_eq(code, 0);
	ck_assert_str_eq(brmh_str(res, "version"), "0.1.0");
	ck_assert_int_eq(brmh_int(res, "pid"), H.pid);
	ck_assert(brmh_int(res, "uptime_secs") >= 0);
	cJSON_Delete(r);
	brmh_check_stop(&H);
}
END_TEST

START_TEST(autostart_goes_starting_then_running)
{
	cJSON *s;
	long pid;

	start_with(config_one("\"cmd\": [\"%s\", \"sleep\", \"60\"], \"start_secs\": 0.3",
			      brmh_child()));
	s = status_of("p");
	ck_assert_str_eq(brmh_str(s, "state"), "starting");
	pid = brmh_int(s, "pid");
	ck_assert(pid > 0);
	ck_assert(brmh_pid_alive((pid_t)pid));
	cJSON_Delete(s);
	ck_assert(brmh_wait_state(&H, "p", "running", 3000));
	s = status_of("p");
	ck_assert_int_eq(brmh_int(s, "pid"), pid);
	ck_assert_int_eq(brmh_int(s, "restarts"), 0);
	ck_assert_ptr_null(brmh_str(s, "error"));
	cJSON_Delete(s);
	brmh_check_stop(&H);
	ck_assert_msg(brmh_wait_pid_gone((pid_t)pid, 2000), "child survived brummd's shutdown");
}
END_TEST

/* ---- the state machine -------------------------------------------------- */

START_TEST(failed_starts_back_off_then_fatal)
{
	cJSON *s;

	start_with(config_one("\"cmd\": [\"%s\", \"exit\", \"1\"], \"start_secs\": 1,"
			      " \"start_retries\": 2, \"backoff_secs\": 0.05",
			      brmh_child()));
	ck_assert(brmh_wait_state(&H, "p", "fatal", 5000));
	s = status_of("p");
	ck_assert_int_eq(brmh_int(s, "start_failures"), 3);
	ck_assert_int_eq(brmh_int(s, "exit_code"), 1);
	ck_assert_msg(strstr(brmh_str(s, "error"), "exited with code 1"), "error: %s",
		      brmh_str(s, "error"));
	ck_assert_msg(strstr(brmh_str(s, "error"), "gave up after 3 failed starts"), "error: %s",
		      brmh_str(s, "error"));
	ck_assert(brmh_int(s, "pid") < 0);
	cJSON_Delete(s);
	brmh_check_stop(&H);
}
END_TEST

START_TEST(backoff_is_visible_between_attempts)
{
	cJSON *s;

	start_with(config_one("\"cmd\": [\"%s\", \"exit\", \"2\"], \"start_secs\": 1,"
			      " \"start_retries\": 5, \"backoff_secs\": 2",
			      brmh_child()));
	ck_assert(brmh_wait_state(&H, "p", "backoff", 3000));
	s = status_of("p");
	ck_assert_int_eq(brmh_int(s, "start_failures"), 1);
	ck_assert(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(s, "next_retry")));
	cJSON_Delete(s);
	/* stop cancels the retry */
	s = brmh_call(&H, "stop", "{\"name\":\"p\",\"wait\":true}");
	cJSON_Delete(s);
	s = status_of("p");
	ck_assert_str_eq(brmh_str(s, "state"), "stopped");
	cJSON_Delete(s);
	brmh_check_stop(&H);
}
END_TEST

START_TEST(clean_exit_under_on_failure_is_exited)
{
	cJSON *s;

	start_with(config_one("\"cmd\": [\"%s\", \"exit\", \"0\", \"0.3\"], \"start_secs\": 0.1,"
			      " \"restart\": \"on-failure\"", brmh_child()));
	ck_assert(brmh_wait_state(&H, "p", "exited", 3000));
	s = status_of("p");
	ck_assert_int_eq(brmh_int(s, "exit_code"), 0);
	ck_assert_int_eq(brmh_int(s, "restarts"), 0);
	ck_assert(brmh_int(s, "pid") < 0);
	cJSON_Delete(s);
	brmh_check_stop(&H);
}
END_TEST

START_TEST(always_restarts_after_exit)
{
	cJSON *s;
	long pid1, pid2;

	start_with(config_one("\"cmd\": [\"%s\", \"sleep\", \"60\"], \"start_secs\": 0,"
			      " \"restart\": \"always\"", brmh_child()));
	ck_assert(brmh_wait_state(&H, "p", "running", 3000));
	s = status_of("p");
	pid1 = brmh_int(s, "pid");
	cJSON_Delete(s);
	ck_assert_int_eq(kill((pid_t)pid1, SIGKILL), 0);
	for (int i = 0; i < 300; i++) {
		s = status_of("p");
		pid2 = brmh_int(s, "pid");
		if (pid2 > 0 && pid2 != pid1) {
			ck_assert_int_eq(brmh_int(s, "restarts"), 1);
			ck_assert_str_eq(brmh_str(s, "exit_signal"), "KILL");
			cJSON_Delete(s);
			brmh_check_stop(&H);
			return;
		}
		cJSON_Delete(s);
		brmh_sleep_ms(10);
	}
	ck_abort_msg("no new pid after the crash");
}
END_TEST

START_TEST(never_leaves_a_crashed_process_exited)
{
	cJSON *s;
	long pid;

	start_with(config_one("\"cmd\": [\"%s\", \"sleep\", \"60\"], \"start_secs\": 0,"
			      " \"restart\": \"never\"", brmh_child()));
	ck_assert(brmh_wait_state(&H, "p", "running", 3000));
	s = status_of("p");
	pid = brmh_int(s, "pid");
	cJSON_Delete(s);
	kill((pid_t)pid, SIGTERM);
	ck_assert(brmh_wait_state(&H, "p", "exited", 3000));
	s = status_of("p");
	ck_assert_str_eq(brmh_str(s, "exit_signal"), "TERM");
	ck_assert_int_eq(brmh_int(s, "restarts"), 0);
	cJSON_Delete(s);
	brmh_check_stop(&H);
}
END_TEST


/* Broke once: with start_secs 0 and restart always, a program that exits at
 * once was restarted ~2000 times a second. (min_uptime_secs 0: otherwise
 * such exits are failed starts, and it would soon be fatal.) */
START_TEST(crash_loop_is_throttled_by_backoff)
{
	cJSON *s;
	long restarts;

	start_with(config_one("\"cmd\": [\"%s\", \"exit\", \"1\"], \"start_secs\": 0,"
			      " \"min_uptime_secs\": 0,"
			      " \"restart\": \"always\", \"backoff_secs\": 0.05,"
			      " \"backoff_max_secs\": 0.4", brmh_child()));
	brmh_sleep_ms(1200);
	s = status_of("p");
	restarts = brmh_int(s, "restarts");
	/* 0.05 + 0.1 + 0.2 + 0.4 + 0.4 ...: about 5 in 1.2 s, never hundreds. */
	ck_assert_msg(restarts >= 2 && restarts <= 12, "%ld restarts in 1.2 s", restarts);
	cJSON_Delete(s);
	ck_assert(brmh_wait_state(&H, "p", "backoff", 2000));
	s = status_of("p");
	ck_assert_msg(strstr(brmh_str(s, "error"), "within 1s of its start"), "error: %s",
		      brmh_str(s, "error"));
	cJSON_Delete(s);
	brmh_check_stop(&H);
}
END_TEST

/* ---- stopping ----------------------------------------------------------- */

START_TEST(stop_ends_grandchildren)
{
	char pidfile[400];
	char *txt;
	pid_t gpid;
	cJSON *r;
	int code;

	ck_assert_int_eq(brmh_start(&H, NULL, NULL), 0);
	snprintf(pidfile, sizeof(pidfile), "%s/gpid", H.dir);
	{
		char params[1024];
		snprintf(params, sizeof(params),
			 "{\"name\":\"g\",\"spec\":{\"cmd\":[\"%s\",\"grandchild\",\"%s\"],"
			 "\"start_secs\":0}}", brmh_child(), pidfile);
		r = brmh_call(&H, "add", params);
		ck_assert_ptr_nonnull(brmh_result(r, &code));
		cJSON_Delete(r);
	}
	txt = brmh_wait_file(pidfile, 3000);
	ck_assert_ptr_nonnull(txt);
	gpid = (pid_t)atoi(txt);
	free(txt);
	ck_assert(brmh_pid_alive(gpid));
	r = brmh_call(&H, "stop", "{\"name\":\"g\",\"wait\":true}");
	ck_assert_ptr_nonnull(brmh_result(r, &code));
	cJSON_Delete(r);
	ck_assert_msg(brmh_wait_pid_gone(gpid, 2000), "grandchild %d survived the stop", gpid);
	brmh_check_stop(&H);
}
END_TEST

START_TEST(sigkill_after_stop_timeout)
{
	cJSON *r, *s;
	const cJSON *res;
	long t0, dt, pid;
	int code;

	start_with(config_one("\"cmd\": [\"%s\", \"ignore-term\"], \"start_secs\": 0,"
			      " \"stop_timeout_secs\": \"300ms\"", brmh_child()));
	ck_assert(brmh_wait_state(&H, "p", "running", 3000));
	s = status_of("p");
	pid = brmh_int(s, "pid");
	cJSON_Delete(s);
	/* its readiness line: the SIG_IGN is installed */
	{
		char *ready = brmh_wait_log(&H, "p", "ignoring TERM", 3000);

		ck_assert_ptr_nonnull(ready);
		free(ready);
	}
	t0 = mono_ms();
	r = brmh_call(&H, "stop", "{\"name\":\"p\",\"wait\":true}");
	dt = mono_ms() - t0;
	res = brmh_result(r, &code);
	ck_assert_int_eq(code, 0);
	res = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(res, "processes"), 0);
	ck_assert_str_eq(brmh_str(res, "state"), "stopped");
	ck_assert_str_eq(brmh_str(res, "exit_signal"), "KILL");
	ck_assert_msg(dt >= 280 && dt < 3000, "stop took %ld ms", dt);
	cJSON_Delete(r);
	ck_assert(!brmh_pid_alive((pid_t)pid));
	brmh_check_stop(&H);
}
END_TEST

START_TEST(missing_binary_reports_errno_and_goes_fatal)
{
	cJSON *s;

	start_with(config_one("\"cmd\": [\"no-such-binary-brm\"], \"start_retries\": 1,"
			      " \"backoff_secs\": 0.01"));
	ck_assert(brmh_wait_state(&H, "p", "fatal", 3000));
	s = status_of("p");
	ck_assert_msg(strstr(brmh_str(s, "error"),
			     "exec 'no-such-binary-brm': No such file or directory"),
		      "error: %s", brmh_str(s, "error"));
	ck_assert_int_eq(brmh_int(s, "start_failures"), 2);
	cJSON_Delete(s);
	brmh_check_stop(&H);
}
END_TEST

START_TEST(bad_cwd_is_a_failed_start)
{
	cJSON *s;

	start_with(config_one("\"cmd\": [\"%s\", \"sleep\", \"5\"], \"cwd\": \"/nonexistent/dir\","
			      " \"start_retries\": 0", brmh_child()));
	ck_assert(brmh_wait_state(&H, "p", "fatal", 3000));
	s = status_of("p");
	ck_assert_msg(strstr(brmh_str(s, "error"), "chdir '/nonexistent/dir'"), "error: %s",
		      brmh_str(s, "error"));
	cJSON_Delete(s);
	brmh_check_stop(&H);
}
END_TEST

START_TEST(children_inherit_no_daemon_descriptor)
{
	char out[400];
	char *txt;

	ck_assert_int_eq(brmh_start(&H, NULL, NULL), 0);
	snprintf(out, sizeof(out), "%s/fds", H.dir);
	{
		char params[1024];
		cJSON *r;
		int code;
		/* Open client connections so the daemon holds more descriptors. */
		snprintf(params, sizeof(params),
			 "{\"name\":\"f\",\"spec\":{\"cmd\":[\"%s\",\"fds\",\"%s\"]}}",
			 brmh_child(), out);
		r = brmh_call(&H, "add", params);
		ck_assert_ptr_nonnull(brmh_result(r, &code));
		cJSON_Delete(r);
	}
	txt = brmh_wait_file(out, 3000);
	ck_assert_ptr_nonnull(txt);
	txt[strcspn(txt, "\n")] = '\0';
	ck_assert_msg(strcmp(txt, "0 1 2") == 0, "child has descriptors '%s'", txt);
	free(txt);
	brmh_check_stop(&H);
}
END_TEST

/* ---- requests ----------------------------------------------------------- */

START_TEST(add_start_stop_remove_over_the_protocol)
{
	char params[1024];
	cJSON *r;
	const cJSON *res;
	int code;

	ck_assert_int_eq(brmh_start(&H, NULL, NULL), 0);
	snprintf(params, sizeof(params),
		 "{\"name\":\"web\",\"spec\":{\"cmd\":[\"%s\",\"sleep\",\"60\"],"
		 "\"start_secs\":0.1,\"autostart\":false}}", brmh_child());
	r = brmh_call(&H, "add", params);
	res = brmh_result(r, &code);
	ck_assert_int_eq(code, 0);
	ck_assert_str_eq(brmh_str(res, "name"), "web");
	ck_assert_str_eq(brmh_str(res, "state"), "stopped");
	cJSON_Delete(r);

	expect_error("add", params, -32002, "exists already");

	r = brmh_call(&H, "start", "{\"name\":\"web\",\"wait\":true}");
	res = brmh_result(r, &code);
	ck_assert_int_eq(code, 0);
	res = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(res, "processes"), 0);
	ck_assert_str_eq(brmh_str(res, "state"), "running");
	cJSON_Delete(r);

	r = brmh_call(&H, "status", NULL);
	res = brmh_result(r, &code);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(res, "processes")), 1);
	cJSON_Delete(r);

	r = brmh_call(&H, "remove", "{\"name\":\"web\"}");
	res = brmh_result(r, &code);
	ck_assert_int_eq(code, 0);
	ck_assert_str_eq(brmh_str(res, "state"), "stopped");
	cJSON_Delete(r);
	expect_error("status", "{\"name\":\"web\"}", -32001, "no such process 'web'");
	brmh_check_stop(&H);
}
END_TEST

START_TEST(wait_times_out_with_a_reason)
{
	cJSON *r;
	int code;

	start_with(config_one("\"cmd\": [\"%s\", \"sleep\", \"60\"], \"start_secs\": 30,"
			      " \"autostart\": false", brmh_child()));
	expect_error("start", "{\"name\":\"p\",\"wait\":true,\"timeout_secs\":0.2}", -32005,
		     "timed out after 0.2s waiting for running: p is starting");
	r = brmh_call(&H, "stop", "{\"all\":true,\"wait\":true}");
	ck_assert_ptr_nonnull(brmh_result(r, &code));
	cJSON_Delete(r);
	brmh_check_stop(&H);
}
END_TEST

START_TEST(start_wait_reports_fatal_as_conflict)
{
	start_with(config_one("\"cmd\": [\"/nonexistent/prog\"], \"start_retries\": 0,"
			      " \"autostart\": false"));
	expect_error("start", "{\"name\":\"p\",\"wait\":true}", -32002,
		     "did not reach running: p is fatal (exec '/nonexistent/prog'");
	brmh_check_stop(&H);
}
END_TEST

START_TEST(signal_reaches_the_process)
{
	cJSON *r, *s;
	int code;

	start_with(config_one("\"cmd\": [\"%s\", \"sleep\", \"60\"], \"start_secs\": 0,"
			      " \"restart\": \"never\"", brmh_child()));
	ck_assert(brmh_wait_state(&H, "p", "running", 3000));
	r = brmh_call(&H, "signal", "{\"name\":\"p\",\"signal\":\"SIGUSR1\"}");
	ck_assert_ptr_nonnull(brmh_result(r, &code));
	cJSON_Delete(r);
	ck_assert(brmh_wait_state(&H, "p", "exited", 3000));
	s = status_of("p");
	ck_assert_str_eq(brmh_str(s, "exit_signal"), "USR1");
	cJSON_Delete(s);
	expect_error("signal", "{\"name\":\"p\",\"signal\":\"HUP\"}", -32002, "not running");
	expect_error("signal", "{\"name\":\"p\",\"signal\":\"NOPE\"}", -32602, "params.signal");
	brmh_check_stop(&H);
}
END_TEST

START_TEST(protocol_errors_leave_the_connection_usable)
{
	cJSON *r;
	int code;

	ck_assert_int_eq(brmh_start(&H, NULL, NULL), 0);
	r = brmh_raw(&H, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":");
	brmh_result(r, &code);
	ck_assert_int_eq(code, -32700);
	cJSON_Delete(r);
	r = brmh_raw(&H, "[1,2]");
	brmh_result(r, &code);
	ck_assert_int_eq(code, -32600);
	cJSON_Delete(r);
	r = brmh_raw(&H, "{\"id\":2,\"method\":\"ping\"}");
	brmh_result(r, &code);
	ck_assert_int_eq(code, -32600);
	ck_assert_int_eq(brmh_int(r, "id"), 2);
	cJSON_Delete(r);
	expect_error("frobnicate", NULL, -32601, "method not found: \"frobnicate\"");
	expect_error("status", "{\"nmae\":\"x\"}", -32602,
		     "params.nmae: unknown parameter; status takes \"name\", \"names\", \"stats\", \"ports\" or \"fields\"");
	expect_error("status", "{\"name\":5}", -32602, "params.name: expected a string, got 5");
	expect_error("stop", "{}", -32602, "missing \"name\"");
	expect_error("stop", "{\"name\":\"nope\"}", -32001, "no such process 'nope'");
	expect_error("start", "{\"name\":\"a\",\"all\":true}", -32602, "only one of");
	expect_error("add", "{\"name\":\"x\",\"spec\":{\"cmd\":[\"true\"],\"restrt\":\"never\"}}",
		     -32602, "params.spec.restrt: unknown key (did you mean \"restart\"?)");
	expect_error("add", "{\"name\":\"../x\",\"spec\":{\"cmd\":[\"true\"]}}", -32602,
		     "invalid process name");
	r = brmh_call(&H, "ping", NULL);
	ck_assert_ptr_nonnull(brmh_result(r, &code));
	cJSON_Delete(r);
	brmh_check_stop(&H);
}
END_TEST

START_TEST(pipelined_requests_are_answered_in_order)
{
	char batch[8192];
	size_t n = 0;
	cJSON *r;

	ck_assert_int_eq(brmh_start(&H, NULL, NULL), 0);
	for (int i = 1; i <= 50; i++)
		n += (size_t)snprintf(batch + n, sizeof(batch) - n,
				      "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"%s\"}\n", i,
				      i % 3 ? "ping" : "status");
	batch[n - 1] = '\0'; /* brmh_raw adds the last newline */
	r = brmh_raw(&H, batch);
	ck_assert_int_eq(brmh_int(r, "id"), 1);
	cJSON_Delete(r);
	for (int i = 2; i <= 50; i++) {
		cJSON *x = brmh_raw(&H, ""); /* sends an empty line, reads the next reply */
		ck_assert_ptr_nonnull(x);
		ck_assert_int_eq(brmh_int(x, "id"), i);
		cJSON_Delete(x);
	}
	brmh_check_stop(&H);
}
END_TEST

START_TEST(half_closed_client_gets_its_reply)
{
	char buf[4096];
	ssize_t n;
	size_t len = 0;
	const char *req = "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"ping\"}";

	ck_assert_int_eq(brmh_start(&H, NULL, NULL), 0);
	/* no trailing newline: end of input ends the line */
	ck_assert_int_eq(write(H.fd, req, strlen(req)), (ssize_t)strlen(req));
	shutdown(H.fd, SHUT_WR);
	while ((n = read(H.fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	ck_assert_msg(strstr(buf, "\"id\":7,\"result\""), "reply: %s", buf);
	brmh_check_stop(&H);
}
END_TEST

START_TEST(notification_is_executed_without_reply)
{
	char params[1024];
	cJSON *r;
	int code;

	start_with(config_one("\"cmd\": [\"%s\", \"sleep\", \"60\"], \"start_secs\": 0",
			      brmh_child()));
	ck_assert(brmh_wait_state(&H, "p", "running", 3000));
	/* A notification (no id), then a request: the first reply is the request's. */
	snprintf(params, sizeof(params),
		 "{\"jsonrpc\":\"2.0\",\"method\":\"stop\",\"params\":{\"name\":\"p\"}}\n"
		 "{\"jsonrpc\":\"2.0\",\"id\":99,\"method\":\"ping\"}");
	r = brmh_raw(&H, params);
	ck_assert_int_eq(brmh_int(r, "id"), 99);
	cJSON_Delete(r);
	ck_assert(brmh_wait_state(&H, "p", "stopped", 3000));
	r = brmh_call(&H, "ping", NULL);
	ck_assert_ptr_nonnull(brmh_result(r, &code));
	cJSON_Delete(r);
	brmh_check_stop(&H);
}
END_TEST

START_TEST(oversized_line_gets_an_error_then_close)
{
	size_t big = (1u << 20) + 100;
	char *line = malloc(big + 1);
	cJSON *r;
	int code;

	ck_assert_int_eq(brmh_start(&H, NULL, NULL), 0);
	memset(line, 'x', big);
	/* The daemon answers and closes before it has read it all: EPIPE here. */
	signal(SIGPIPE, SIG_IGN);
	for (size_t off = 0; off < big;) {
		ssize_t n = write(H.fd, line + off, big - off);
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	free(line);
	r = brmh_read_reply(&H, 5000);
	ck_assert_ptr_nonnull(r);
	brmh_result(r, &code);
	ck_assert_int_eq(code, -32004);
	cJSON_Delete(r);
	close(H.fd);
	H.fd = -1;
	/* the daemon and new clients go on */
	r = brmh_call(&H, "ping", NULL);
	ck_assert_ptr_nonnull(brmh_result(r, &code));
	cJSON_Delete(r);
	brmh_check_stop(&H);
}
END_TEST


/* Broke once: "stopped" was published between stop and start, and a
 * waiting restart took it for its final state. */
START_TEST(restart_wait_is_not_fooled_by_the_stopped_step)
{
	cJSON *r, *s;
	const cJSON *res;
	long pid1;
	int code;

	start_with(config_one("\"cmd\": [\"%s\", \"sleep\", \"60\"], \"start_secs\": 0.1",
			      brmh_child()));
	ck_assert(brmh_wait_state(&H, "p", "running", 3000));
	s = status_of("p");
	pid1 = brmh_int(s, "pid");
	cJSON_Delete(s);
	r = brmh_call(&H, "restart", "{\"name\":\"p\",\"wait\":true}");
	res = brmh_result(r, &code);
	ck_assert_msg(code == 0, "restart wait failed with %d", code);
	res = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(res, "processes"), 0);
	ck_assert_str_eq(brmh_str(res, "state"), "running");
	ck_assert(brmh_int(res, "pid") > 0 && brmh_int(res, "pid") != pid1);
	cJSON_Delete(r);
	brmh_check_stop(&H);
}
END_TEST

/* ---- the daemon's own life ---------------------------------------------- */

/* The child's blocked-signal mask, from /proc (hex), or ~0 if unreadable. */
static unsigned long long sigblk_of(long pid)
{
	char path[64], *txt, *p;
	unsigned long long v = ~0ULL;

	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	txt = brmh_read_file(path);
	if (txt && (p = strstr(txt, "SigBlk:")))
		v = strtoull(p + 7, NULL, 16);
	free(txt);
	return v;
}

/*
 * brummd keeps SIGTERM, SIGINT and SIGHUP blocked and reads them from a
 * signalfd: a child must not inherit that mask (it would ignore its stop
 * signal), and the log names who sent the signal.
 */
START_TEST(sigterm_names_its_sender_and_children_get_no_blocked_signals)
{
	char *log;
	long pid;
	int st;
	cJSON *s;

	start_with(config_one("\"cmd\": [\"%s\", \"sleep\", \"60\"], \"start_secs\": 0",
			      brmh_child()));
	ck_assert(brmh_wait_state(&H, "p", "running", 3000));
	s = status_of("p");
	pid = brmh_int(s, "pid");
	cJSON_Delete(s);
	ck_assert_msg(sigblk_of(pid) == 0, "child %ld blocks signals: %llx", pid, sigblk_of(pid));
	ck_assert_int_eq(kill(H.pid, SIGTERM), 0);
	ck_assert_int_eq(waitpid(H.pid, &st, 0), H.pid);
	H.pid = 0;
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "exit status %d", st);
	ck_assert(brmh_wait_pid_gone((pid_t)pid, 1000));
	log = brmh_read_file(H.log);
	ck_assert_ptr_nonnull(log);
	{
		char want[64];

		snprintf(want, sizeof(want), "SIGTERM from pid %d (uid %u)", (int)getpid(),
			 (unsigned)getuid());
		ck_assert_msg(strstr(log, want), "no \"%s\" in the log:\n%s", want, log);
	}
	free(log);
	brmh_stop(&H, 1000);
}
END_TEST

START_TEST(sigterm_stops_every_child_and_exits_zero)
{
	char cfg[4096], pidfile[400];
	char *txt;
	pid_t gpid;
	long pids[3];
	int st;

	snprintf(pidfile, sizeof(pidfile), "/tmp/brm-e2e-gpid.%d", (int)getpid());
	unlink(pidfile);
	snprintf(cfg, sizeof(cfg),
		 "{\"processes\": {"
		 " \"a\": {\"cmd\": [\"%s\", \"sleep\", \"60\"], \"start_secs\": 0},"
		 " \"b\": {\"cmd\": [\"%s\", \"ignore-term\"], \"start_secs\": 0,"
		 "        \"stop_timeout_secs\": 0.3},"
		 " \"c\": {\"cmd\": [\"%s\", \"grandchild\", \"%s\"], \"start_secs\": 0}}}",
		 brmh_child(), brmh_child(), brmh_child(), pidfile);
	start_with(cfg);
	ck_assert(brmh_wait_state(&H, "a", "running", 3000));
	ck_assert(brmh_wait_state(&H, "b", "running", 3000));
	ck_assert(brmh_wait_state(&H, "c", "running", 3000));
	for (int i = 0; i < 3; i++) {
		char n[2] = { (char)('a' + i), 0 };
		cJSON *s = status_of(n);
		pids[i] = brmh_int(s, "pid");
		cJSON_Delete(s);
	}
	txt = brmh_wait_file(pidfile, 3000);
	ck_assert_ptr_nonnull(txt);
	gpid = (pid_t)atoi(txt);
	free(txt);
	unlink(pidfile);
	/* b's readiness line: it ignores SIGTERM by now */
	free(brmh_wait_log(&H, "b", "ignoring TERM", 3000));
	st = brmh_stop(&H, 10000);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "exit status %d", st);
	for (int i = 0; i < 3; i++)
		ck_assert_msg(brmh_wait_pid_gone((pid_t)pids[i], 1000), "child %ld left behind",
			      pids[i]);
	ck_assert_msg(brmh_wait_pid_gone(gpid, 1000), "grandchild %d left behind", gpid);
}
END_TEST

START_TEST(refuses_a_socket_path_that_is_a_file)
{
	struct brmh h2;
	char path[400];
	FILE *f;

	ck_assert_int_eq(brmh_start(&H, NULL, NULL), 0);
	snprintf(path, sizeof(path), "%s/notasock", H.dir);
	f = fopen(path, "w");
	fputs("x", f);
	fclose(f);
	/* A second daemon on the first one's socket is refused too. */
	ck_assert_int_ne(brmh_start(&h2, NULL, "--socket", H.sock, NULL), 0);
	{
		char *log = brmh_read_file(h2.log);
		ck_assert_msg(log && strstr(log, "another brummd is already listening"), "log: %s",
			      log ? log : "");
		free(log);
	}
	brmh_stop(&h2, 1000);
	ck_assert_int_ne(brmh_start(&h2, NULL, "--socket", path, NULL), 0);
	{
		char *log = brmh_read_file(h2.log);
		ck_assert_msg(log && strstr(log, "exists and is not a socket"), "log: %s",
			      log ? log : "");
		free(log);
	}
	brmh_stop(&h2, 1000);
	brmh_check_stop(&H);
}
END_TEST

static Suite *e2e_suite(void)
{
	Suite *s = suite_create("e2e");
	TCase *basic = tcase_create("basic");
	TCase *sm = tcase_create("state-machine");
	TCase *stop = tcase_create("stop");
	TCase *req = tcase_create("requests");
	TCase *life = tcase_create("daemon");

	tcase_set_timeout(basic, 20);
	tcase_set_timeout(sm, 20);
	tcase_set_timeout(stop, 20);
	tcase_set_timeout(req, 20);
	tcase_set_timeout(life, 30);
	tcase_add_test(basic, ping_answers_with_version_and_pid);
	tcase_add_test(basic, autostart_goes_starting_then_running);
	tcase_add_test(sm, failed_starts_back_off_then_fatal);
	tcase_add_test(sm, backoff_is_visible_between_attempts);
	tcase_add_test(sm, clean_exit_under_on_failure_is_exited);
	tcase_add_test(sm, always_restarts_after_exit);
	tcase_add_test(sm, never_leaves_a_crashed_process_exited);
	tcase_add_test(sm, crash_loop_is_throttled_by_backoff);
	tcase_add_test(stop, stop_ends_grandchildren);
	tcase_add_test(stop, sigkill_after_stop_timeout);
	tcase_add_test(stop, missing_binary_reports_errno_and_goes_fatal);
	tcase_add_test(stop, bad_cwd_is_a_failed_start);
	tcase_add_test(stop, children_inherit_no_daemon_descriptor);
	tcase_add_test(req, add_start_stop_remove_over_the_protocol);
	tcase_add_test(req, wait_times_out_with_a_reason);
	tcase_add_test(req, start_wait_reports_fatal_as_conflict);
	tcase_add_test(req, restart_wait_is_not_fooled_by_the_stopped_step);
	tcase_add_test(req, signal_reaches_the_process);
	tcase_add_test(req, protocol_errors_leave_the_connection_usable);
	tcase_add_test(req, pipelined_requests_are_answered_in_order);
	tcase_add_test(req, half_closed_client_gets_its_reply);
	tcase_add_test(req, notification_is_executed_without_reply);
	tcase_add_test(req, oversized_line_gets_an_error_then_close);
	tcase_add_test(life, sigterm_stops_every_child_and_exits_zero);
	tcase_add_test(life, sigterm_names_its_sender_and_children_get_no_blocked_signals);
	tcase_add_test(life, refuses_a_socket_path_that_is_a_file);
	suite_add_tcase(s, basic);
	suite_add_tcase(s, sm);
	suite_add_tcase(s, stop);
	suite_add_tcase(s, req);
	suite_add_tcase(s, life);
	return s;
}

Suite *brm_test_suite(void)
{
	return e2e_suite();
}
