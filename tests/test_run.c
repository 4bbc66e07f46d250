/*
 * test_run.c — `brummctl run NAME` against a real brummd: the output of a
 * run as it comes, the process's exit code as brummctl's, SIGINT stopping
 * it through brummd (128 + SIGTERM), a restart by the policy followed
 * rather than ended, and the refusals: a group, an unknown name, a
 * process that cannot start.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "tests/e2e.h"
#include "tests/harness.h"
#include "tests/suite.h"

static struct brmh H;

static void start(void)
{
	brmh_check_start(&H,
		"{\"processes\":{"
		"\"job\":{\"cmd\":[\"/bin/sh\",\"-c\",\"echo hello; echo oops >&2; sleep 0.2; exit 7\"],"
		"\"autostart\":false,\"start_secs\":0,\"restart\":\"never\"},"
		"\"srv\":{\"cmd\":[\"/bin/sh\",\"-c\",\"echo serving; exec %s sleep 60\"],"
		"\"autostart\":false,\"start_secs\":0},"
		"\"flap\":{\"cmd\":[\"/bin/sh\",\"-c\",\"echo round; sleep 0.3; exit 3\"],"
		"\"autostart\":false,\"start_secs\":0,\"restart\":\"always\",\"backoff_secs\":0},"
		"\"w\":{\"cmd\":[\"%s\",\"sleep\",\"60\"],\"instances\":2,\"autostart\":false},"
		"\"bad\":{\"cmd\":[\"/nonexistent/brm-run\"],\"autostart\":false,\"start_retries\":0}}}",
		brmh_child(), brmh_child());
}

static void files(char *out, char *err, size_t len)
{
	snprintf(out, len, "%s/run.out", H.dir);
	snprintf(err, len, "%s/run.err", H.dir);
}

/* Wait until @path holds @n copies of @needle. */
static bool wait_count(const char *path, const char *needle, int n, int timeout_ms)
{
	for (int t = 0; t < timeout_ms; t += 20) {
		char *s = brmh_read_file(path);
		int k = 0;

		for (const char *p = s; p && (p = strstr(p, needle)); p++)
			k++;
		free(s);
		if (k >= n)
			return true;
		brmh_sleep_ms(20);
	}
	return false;
}

START_TEST(output_and_exit_code)
{
	char *out = NULL, *err = NULL;
	int rc;

	start();
	rc = brmh_ctl(&H, &out, &err, "run", "job", NULL);
	ck_assert_msg(rc == 7, "rc %d, stderr: %s", rc, err);
	ck_assert_msg(strstr(out, "job | hello") && strstr(out, "job ! oops") &&
		      strstr(out, "exited with code 7"), "%s", out);
	/* once: no retry behind the user's back */
	ck_assert_ptr_null(strstr(strstr(out, "hello") + 1, "hello"));
	free(out);
	free(err);
	/* A process that cannot start: why, and 1. */
	rc = brmh_ctl(&H, &out, &err, "run", "bad", NULL);
	ck_assert_int_eq(rc, 1);
	ck_assert_msg(strstr(err, "/nonexistent/brm-run") && strstr(err, "No such file"), "%s", err);
	free(out);
	free(err);
	/* A group, an unknown name, no name. */
	rc = brmh_ctl(&H, &out, &err, "run", "w", NULL);
	ck_assert_int_eq(rc, 2);
	ck_assert_msg(strstr(err, "'w' is a group of 2 processes"), "%s", err);
	free(out);
	free(err);
	rc = brmh_ctl(&H, &out, &err, "run", "nope", NULL);
	ck_assert_int_eq(rc, 1);
	ck_assert_msg(strstr(err, "nope"), "%s", err);
	free(out);
	free(err);
	rc = brmh_ctl(&H, &out, &err, "run", NULL);
	ck_assert_int_eq(rc, 2);
	free(out);
	free(err);
	brmh_check_stop(&H);
}
END_TEST

START_TEST(interrupt_stops_it)
{
	char out[400], err[400], *text;
	cJSON *s;
	pid_t pid;
	int rc;

	start();
	files(out, err, sizeof(out));
	pid = brmh_ctl_spawn(&H, out, err, "run", "srv", NULL);
	ck_assert_int_gt(pid, 0);
	ck_assert(wait_count(out, "srv | serving", 1, 10000));
	ck_assert(brmh_wait_state(&H, "srv", "running", 5000));
	kill(pid, SIGINT);
	rc = brmh_wait_exit(pid, 15000);
	ck_assert_int_eq(rc, 128 + SIGTERM);
	s = brmh_status(&H, "srv");
	ck_assert_str_eq(brmh_str(s, "state"), "stopped");
	cJSON_Delete(s);
	text = brmh_read_file(err);
	ck_assert_msg(text && strstr(text, "stopping srv"), "%s", text);
	free(text);
	brmh_check_stop(&H);
}
END_TEST

START_TEST(a_restart_is_followed)
{
	char out[400], err[400];
	pid_t pid;
	int rc;

	start();
	files(out, err, sizeof(out));
	pid = brmh_ctl_spawn(&H, out, err, "run", "flap", NULL);
	ck_assert_int_gt(pid, 0);
	/* restarted by its policy: run goes on printing each round */
	ck_assert(wait_count(out, "flap | round", 3, 15000));
	ck_assert(brmh_pid_alive(pid));
	kill(pid, SIGTERM);
	rc = brmh_wait_exit(pid, 15000);
	/* stopped while running (SIGTERM) or between rounds (its exit 3) */
	ck_assert_msg(rc == 128 + SIGTERM || rc == 3, "rc %d", rc);
	ck_assert(brmh_wait_state(&H, "flap", "stopped", 5000));
	brmh_check_stop(&H);
}
END_TEST

BRM_TEST_CASE("run", "run", 60, output_and_exit_code, interrupt_stops_it, a_restart_is_followed);
