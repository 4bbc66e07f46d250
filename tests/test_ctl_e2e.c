/*
 * test_ctl_e2e.c — brummctl as a user runs it, against a real brummd:
 * the table, --json, waiting, and the exit codes (0 ok, 1 the daemon said
 * no, 2 usage, 3 cannot connect).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/e2e.h"
#include "tests/harness.h"
#include "tests/suite.h"

static struct brmh H;

static void up(void)
{
	ck_assert_int_eq(brmh_start(&H, NULL, NULL), 0);
}

START_TEST(add_status_stop_as_in_the_readme)
{
	char *out = NULL, *err = NULL;
	cJSON *j, *p;
	int rc;

	up();
	rc = brmh_ctl(&H, &out, &err, "add", "web", "--start-secs", "0.2", "--", brmh_child(),
		      "sleep", "60", NULL);
	ck_assert_msg(rc == 0, "add: rc %d, stderr %s", rc, err);
	ck_assert_msg(strstr(out, "NAME") && strstr(out, "web"), "add printed: %s", out);
	free(out);
	free(err);

	ck_assert(brmh_wait_state(&H, "web", "running", 3000));
	rc = brmh_ctl(&H, &out, &err, "status", NULL);
	ck_assert_int_eq(rc, 0);
	/* Header and one row, the state column saying running. */
	ck_assert_msg(strstr(out, "NAME") && strstr(out, "STATE") && strstr(out, "PID") &&
			      strstr(out, "UPTIME") && strstr(out, "RESTARTS") &&
			      strstr(out, "LAST EXIT") && strstr(out, "HEALTH"),
		      "header: %s", out);
	ck_assert_msg(strstr(out, "running"), "status: %s", out);
	ck_assert_msg(!strchr(out, '\033'), "colour codes on a non-terminal: %s", out);
	free(out);
	free(err);

	rc = brmh_ctl(&H, &out, &err, "stop", "web", NULL);
	ck_assert_msg(rc == 0, "stop: rc %d, %s", rc, err);
	free(out);
	free(err);

	rc = brmh_ctl(&H, &out, &err, "status", "--json", NULL);
	ck_assert_int_eq(rc, 0);
	j = cJSON_Parse(out);
	ck_assert_msg(j != NULL, "--json printed no JSON: %s", out);
	p = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "processes"), 0);
	ck_assert_str_eq(brmh_str(p, "name"), "web");
	ck_assert_str_eq(brmh_str(p, "state"), "stopped");
	cJSON_Delete(j);
	free(out);
	free(err);
	brmh_check_stop(&H);
}
END_TEST

START_TEST(daemon_error_exits_one)
{
	char *out = NULL, *err = NULL;
	int rc;

	up();
	rc = brmh_ctl(&H, &out, &err, "stop", "ghost", NULL);
	ck_assert_int_eq(rc, 1);
	ck_assert_msg(strstr(err, "no such process 'ghost'"), "stderr: %s", err);
	free(out);
	free(err);

	rc = brmh_ctl(&H, &out, &err, "--json", "status", "ghost", NULL);
	ck_assert_int_eq(rc, 1);
	ck_assert_msg(strstr(out, "\"code\":-32001"), "--json error: %s", out);
	free(out);
	free(err);
	brmh_check_stop(&H);
}
END_TEST

START_TEST(start_of_a_failing_process_exits_one_and_says_why)
{
	char *out = NULL, *err = NULL;
	int rc;

	up();
	rc = brmh_ctl(&H, &out, &err, "add", "bad", "--no-autostart", "--start-retries", "0",
		      "--", "/nonexistent/binary", NULL);
	ck_assert_msg(rc == 0, "add: %d %s", rc, err);
	free(out);
	free(err);
	rc = brmh_ctl(&H, &out, &err, "start", "bad", NULL);
	ck_assert_int_eq(rc, 1);
	ck_assert_msg(strstr(err, "fatal") && strstr(err, "No such file or directory"),
		      "stderr: %s", err);
	free(out);
	free(err);
	brmh_check_stop(&H);
}
END_TEST

START_TEST(restart_all_and_remove)
{
	char *out = NULL, *err = NULL;
	cJSON *s;
	long pid1;
	int rc;

	up();
	rc = brmh_ctl(&H, &out, &err, "add", "a", "--start-secs", "0", "--", brmh_child(),
		      "sleep", "60", NULL);
	ck_assert_int_eq(rc, 0);
	free(out);
	free(err);
	ck_assert(brmh_wait_state(&H, "a", "running", 3000));
	s = brmh_status(&H, "a");
	pid1 = brmh_int(s, "pid");
	cJSON_Delete(s);

	rc = brmh_ctl(&H, &out, &err, "restart", "--all", NULL);
	ck_assert_msg(rc == 0, "restart: %d %s", rc, err);
	free(out);
	free(err);
	s = brmh_status(&H, "a");
	ck_assert_str_eq(brmh_str(s, "state"), "running");
	ck_assert(brmh_int(s, "pid") != pid1);
	ck_assert(!brmh_pid_alive((pid_t)pid1));
	cJSON_Delete(s);

	rc = brmh_ctl(&H, &out, &err, "signal", "a", "USR1", NULL);
	ck_assert_msg(rc == 0, "signal: %d %s", rc, err);
	free(out);
	free(err);

	rc = brmh_ctl(&H, &out, &err, "remove", "a", NULL);
	ck_assert_msg(rc == 0, "remove: %d %s", rc, err);
	free(out);
	free(err);
	rc = brmh_ctl(&H, &out, &err, "status", "a", NULL);
	ck_assert_int_eq(rc, 1);
	free(out);
	free(err);
	brmh_check_stop(&H);
}
END_TEST

START_TEST(ping_and_no_daemon)
{
	char *out = NULL, *err = NULL;
	int rc;

	up();
	rc = brmh_ctl(&H, &out, &err, "ping", NULL);
	ck_assert_int_eq(rc, 0);
	ck_assert_msg(strstr(out, "brummd 0.1.0"), "ping: %s", out);
	free(out);
	free(err);
	brmh_check_stop(&H);
	/* The socket is gone with the daemon: exit 3, naming the socket. */
	H.dir[0] = '\0';
	snprintf(H.dir, sizeof(H.dir), "/tmp");
	rc = brmh_ctl(&H, &out, &err, "status", NULL);
	ck_assert_int_eq(rc, 3);
	ck_assert_msg(strstr(err, H.sock), "stderr: %s", err);
	free(out);
	free(err);
}
END_TEST

BRM_TEST_CASE("brummctl-e2e", "commands", 30,
	add_status_stop_as_in_the_readme,
	daemon_error_exits_one,
	start_of_a_failing_process_exits_one_and_says_why,
	restart_all_and_remove,
	ping_and_no_daemon);
