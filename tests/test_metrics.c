/*
 * test_metrics.c — `brummctl metrics` against a real brummd: the exact
 * state, up and restart series of processes that run, are stopped, wait
 * in backoff and went fatal; names with every punctuation a name allows
 * kept verbatim in labels; and the whole output held to the exposition
 * format 0.0.4 line by line by a strict validator here (and by promtool,
 * Debian's prometheus package, when it is installed).
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/e2e.h"
#include "tests/expo.h"
#include "tests/harness.h"
#include "tests/suite.h"

static struct brmh H, G;

/* The states of PROTOCOL.md's "Process states", in its order. */
static const char *const states[] = {
	"stopped", "starting", "running", "backoff", "stopping", "exited", "fatal", "waiting",
};

/*
 * web runs; stash (a name with each of : @ . - _) is not started; flaky
 * cannot be spawned and waits a minute in backoff; bad cannot be spawned
 * and has no retry: fatal.
 */
static void start_four(void)
{
	brmh_check_start(&H,
		"{\"processes\":{"
		"\"web\":{\"cmd\":[\"%s\",\"sleep\",\"60\"],\"start_secs\":0,"
		"\"backoff_secs\":0.1},"
		"\"stash:1@x.y-z_w\":{\"cmd\":[\"%s\",\"sleep\",\"60\"],\"autostart\":false},"
		"\"flaky\":{\"cmd\":[\"/nonexistent/brm-flaky\"],\"start_retries\":5,"
		"\"backoff_secs\":60,\"backoff_max_secs\":60},"
		"\"bad\":{\"cmd\":[\"/nonexistent/brm-bad\"],\"start_retries\":0}}}",
		brmh_child(), brmh_child());
	ck_assert(brmh_wait_state(&H, "web", "running", 5000));
	ck_assert(brmh_wait_state(&H, "flaky", "backoff", 5000));
	ck_assert(brmh_wait_state(&H, "bad", "fatal", 5000));
}

/* `brummctl metrics`' output; asserts it exits 0 with nothing on stderr. */
static char *metrics(void)
{
	char *out = NULL, *err = NULL;
	int rc = brmh_ctl(&H, &out, &err, "metrics", NULL);

	ck_assert_msg(rc == 0, "metrics: rc %d, stderr: %s", rc, err ? err : "");
	ck_assert_msg(err && !err[0], "metrics wrote to stderr: %s", err);
	free(err);
	return out;
}

/* ---- tests ---- */

START_TEST(states_up_and_format)
{
	static const struct { const char *name, *state; } procs[] = {
		{ "bad", "fatal" }, { "flaky", "backoff" },
		{ "stash:1@x.y-z_w", "stopped" }, { "web", "running" },
	};
	char *out;

	start_four();
	out = metrics();
	for (size_t i = 0; i < sizeof(procs) / sizeof(procs[0]); i++) {
		for (size_t s = 0; s < sizeof(states) / sizeof(states[0]); s++)
			brmt_has_line(out, brmh_fmt("brummd_process_state{name=\"%s\",state=\"%s\"} %d",
					       procs[i].name, states[s],
					       !strcmp(states[s], procs[i].state)));
		brmt_has_line(out, brmh_fmt("brummd_process_up{name=\"%s\"} %d", procs[i].name,
				       !strcmp(procs[i].state, "running")));
		brmt_has_line(out, brmh_fmt("brummd_process_restarts_total{name=\"%s\"} 0",
				       procs[i].name));
	}
	brmt_has_line(out, "brummd_process_start_failures{name=\"bad\"} 1");
	brmt_has_line(out, "brummd_process_uptime_seconds{name=\"bad\"} 0");
	brmt_has_line(out, "brummd_process_state{name=\"stash:1@x.y-z_w\",state=\"stopped\"} 1");
	brmt_has_line(out, "brummd_processes 4");
	brmt_has_line(out, "# TYPE brummd_process_restarts_total counter");
	brmt_has_line(out, "# TYPE brummd_process_up gauge");
	ck_assert_msg(strstr(out, "brummd_process_resident_memory_bytes{name=\"web\"} "),
		      "no memory of web:\n%s", out);
	ck_assert_msg(!strstr(out, "brummd_process_resident_memory_bytes{name=\"bad\"}"),
		      "memory of a process without a pid:\n%s", out);
	ck_assert_msg(!strstr(out, "brummd_process_healthy{"), "health without a check:\n%s",
		      out);
	ck_assert_msg(strstr(out, "\nbrummd_uptime_seconds "), "no uptime:\n%s", out);
	/* brummd's own: requests, counted as answered (this one is not yet),
	 * and the connection this metrics call came on. */
	brmt_has_line(out, "brummd_process_start_failures_total{name=\"bad\"} 1");
	brmt_has_line(out, "brummd_requests_total{method=\"metrics\",outcome=\"ok\"} 0");
	brmt_has_line(out, "brummd_requests_total{method=\"other\",outcome=\"error\"} 0");
	/* this call's connection, and the harness's own if it holds one */
	ck_assert_msg(strstr(out, "\nbrummd_clients ") &&
			      atoi(strstr(out, "\nbrummd_clients ") + 16) >= 1,
		      "no clients:\n%.3000s", out);
	ck_assert_msg(strstr(out, "\nbrummd_resident_memory_bytes "), "no rss:\n%s", out);
	ck_assert_msg(strstr(out, "\nbrummd_process_log_lines_total{name=\"web\"} "),
		      "no log lines of web:\n%s", out);
	ck_assert_int_eq(brmt_check_format(out), 18);
	brmt_promtool_check("metrics", out);
	free(out);
	brmh_check_stop(&H);
}
END_TEST

START_TEST(restart_after_a_kill_counts)
{
	long pid, pid2 = -1;
	char *out;

	start_four();
	pid = brmh_check_pid(&H, "web");
	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(kill((pid_t)pid, SIGKILL), 0);
	for (int i = 0; i < 500; i++) {
		cJSON *s = brmh_status(&H, "web");

		pid2 = brmh_int(s, "pid");
		if (pid2 > 0 && pid2 != pid && !strcmp(brmh_str(s, "state"), "running")) {
			cJSON_Delete(s);
			break;
		}
		cJSON_Delete(s);
		pid2 = -1;
		brmh_sleep_ms(10);
	}
	ck_assert_msg(pid2 > 0, "web was not restarted after SIGKILL");
	out = metrics();
	brmt_has_line(out, "brummd_process_restarts_total{name=\"web\"} 1");
	brmt_has_line(out, "brummd_process_up{name=\"web\"} 1");
	brmt_has_line(out, "brummd_process_restarts_total{name=\"bad\"} 0");
	brmt_check_format(out);
	free(out);
	brmh_check_stop(&H);
}
END_TEST

START_TEST(health_verdicts)
{
	char *out;

	brmh_check_start(&H,
		"{\"processes\":{"
		"\"ok\":{\"cmd\":[\"%s\",\"sleep\",\"60\"],\"start_secs\":0,"
		"\"health\":{\"exec\":[\"/bin/true\"],\"interval_secs\":0.05}},"
		"\"sick\":{\"cmd\":[\"%s\",\"sleep\",\"60\"],\"start_secs\":0,"
		"\"health\":{\"exec\":[\"/bin/false\"],\"interval_secs\":0.05,\"retries\":1,"
		"\"on_unhealthy\":\"ignore\"}}}}",
		brmh_child(), brmh_child());
	for (int i = 0; i < 500; i++) {
		cJSON *a = brmh_status(&H, "ok"), *b = brmh_status(&H, "sick");
		bool done = a && b && brmh_str(a, "health") && brmh_str(b, "health") &&
			    !strcmp(brmh_str(a, "health"), "healthy") &&
			    !strcmp(brmh_str(b, "health"), "unhealthy");

		cJSON_Delete(a);
		cJSON_Delete(b);
		if (done)
			break;
		brmh_sleep_ms(10);
	}
	out = metrics();
	brmt_has_line(out, "brummd_process_healthy{name=\"ok\"} 1");
	brmt_has_line(out, "brummd_process_healthy{name=\"sick\"} 0");
	brmt_check_format(out);
	free(out);
	brmh_check_stop(&H);
}
END_TEST

START_TEST(exit_codes_as_status)
{
	char *out = NULL, *err = NULL;
	int rc, rc_status;

	brmh_check_start(&H, "{\"processes\":{}}");
	rc = brmh_ctl(&H, &out, &err, "metrics", "web", NULL);
	ck_assert_int_eq(rc, 2);
	free(out);
	free(err);
	rc = brmh_ctl(&H, &out, &err, "metrics", "--json", NULL);
	ck_assert_int_eq(rc, 2);
	free(out);
	free(err);
	out = metrics();
	brmt_has_line(out, "brummd_processes 0");
	brmt_check_format(out);
	free(out);

	/* A socket nobody listens on, in brummd's directory (brmh_ctl keeps
	 * its output files there). */
	G = H;
	snprintf(G.sock, sizeof(G.sock), "%s/nobody.sock", H.dir);
	rc_status = brmh_ctl(&G, &out, &err, "status", NULL);
	free(out);
	free(err);
	rc = brmh_ctl(&G, &out, &err, "metrics", NULL);
	ck_assert_int_eq(rc_status, 3);
	ck_assert_int_eq(rc, rc_status);
	ck_assert_msg(out && !out[0], "metrics printed without brummd: %s", out);
	ck_assert_msg(err && strstr(err, "brummctl: cannot connect"), "no message: %s", err);
	free(out);
	free(err);
	brmh_check_stop(&H);
}
END_TEST

BRM_TEST_CASE("metrics", "metrics", 30, states_up_and_format, restart_after_a_kill_counts,
	      health_verdicts, exit_codes_as_status);
