/*
 * test_habits.c — what operators type from habit (issue 12, "operator
 * habits"), against a real brummd with real children:
 *
 *   brummctl shutdown      every process down, dependents first, the reply
 *                          only once they are gone, then brummd exits 0
 *   brummctl log           brummd's own log from memory, -n, --since, -f
 *   logs --since           10m or a time, and a usage error naming the format
 *   -n1, --lines=1         a value stuck to a short option or after '='
 *   events -f              accepted: following is what events does anyway
 *   --timeout 0            a usage error (exit 2) before any connection
 */
#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/e2e.h"
#include "tests/harness.h"

static struct brmh H;

/* Lines of @s (a brummctl's stdout). */
static int count_lines(const char *s)
{
	int n = 0;

	for (; s && *s; s++)
		n += *s == '\n';
	return n;
}

/* ---- shutdown ----------------------------------------------------------- */

START_TEST(shutdown_stops_dependents_first_answers_when_down_and_exits_zero)
{
	char *out = NULL, *err = NULL, *log, *line, *web_down, *db_down;
	long web_pid, db_pid;
	cJSON *s;
	int rc;

	/* web ignores SIGTERM: it goes only at its stop timeout's SIGKILL. Were
	 * db stopped beside it, db (which dies at once) would be down first. */
	brmh_check_start(&H,
		"{\"processes\": {"
		" \"db\": {\"cmd\": [\"%s\", \"sleep\", \"60\"], \"start_secs\": 0},"
		" \"web\": {\"cmd\": [\"%s\", \"ignore-term\", \"60\"], \"start_secs\": 0,"
		"   \"stop_timeout_secs\": 0.5, \"depends_on\": [\"db\"]}}}",
		brmh_child(), brmh_child());
	ck_assert(brmh_wait_state(&H, "db", "running", 5000));
	ck_assert(brmh_wait_state(&H, "web", "running", 5000));
	s = brmh_status(&H, "db");
	db_pid = brmh_int(s, "pid");
	cJSON_Delete(s);
	s = brmh_status(&H, "web");
	web_pid = brmh_int(s, "pid");
	cJSON_Delete(s);
	ck_assert(db_pid > 0 && web_pid > 0);
	line = brmh_wait_log(&H, "web", "ignoring TERM", 5000);
	ck_assert(line != NULL);
	free(line);

	rc = brmh_ctl(&H, &out, &err, "shutdown", NULL);
	ck_assert_msg(rc == 0, "shutdown: rc %d, stderr %s", rc, err);
	/* The reply came once both were gone. */
	ck_assert_msg(!brmh_pid_alive((pid_t)web_pid), "web (pid %ld) still runs", web_pid);
	ck_assert_msg(!brmh_pid_alive((pid_t)db_pid), "db (pid %ld) still runs", db_pid);
	ck_assert_msg(strstr(out, "db") && strstr(out, "web") && strstr(out, "stopped"),
		      "shutdown printed: %s", out);
	free(out);
	free(err);

	rc = brmh_wait_exit(H.pid, 10000);
	ck_assert_msg(rc == 0, "brummd exited %d after shutdown, want 0", rc);
	H.pid = 0;
	log = brmh_read_file(H.log);
	ck_assert(log);
	web_down = strstr(log, "web: pid");
	db_down = strstr(log, "db: pid");
	ck_assert_msg(strstr(log, "shutdown requested by pid"), "log: %s", log);
	ck_assert_msg(web_down && db_down && web_down < db_down,
		      "db went down before its dependent web: %s", log);
	free(log);
	brmh_stop(&H, 1000);
}
END_TEST

START_TEST(shutdown_over_the_protocol_replies_with_every_process)
{
	cJSON *r;
	const cJSON *res, *procs;
	int code;

	brmh_check_start(&H,
		"{\"processes\": {\"a\": {\"cmd\": [\"%s\", \"sleep\", \"60\"], \"start_secs\": 0}}}",
		brmh_child());
	ck_assert(brmh_wait_state(&H, "a", "running", 5000));
	r = brmh_call(&H, "shutdown", "{\"now\": true}");
	brmh_result(r, &code);
	ck_assert_int_eq(code, -32602);
	cJSON_Delete(r);
	r = brmh_call(&H, "shutdown", NULL);
	res = brmh_result(r, &code);
	ck_assert_int_eq(code, 0);
	procs = cJSON_GetObjectItemCaseSensitive(res, "processes");
	ck_assert_int_eq(cJSON_GetArraySize(procs), 1);
	ck_assert_str_eq(brmh_str(cJSON_GetArrayItem(procs, 0), "state"), "stopped");
	cJSON_Delete(r);
	ck_assert_int_eq(brmh_wait_exit(H.pid, 10000), 0);
	H.pid = 0;
	brmh_stop(&H, 1000);
}
END_TEST

/* ---- brummctl log ------------------------------------------------------- */

START_TEST(log_shows_brummds_own_lines_and_follows_them)
{
	char *out = NULL, *err = NULL, *got, outp[320], errp[320];
	cJSON *j;
	pid_t follower;
	int rc;

	/* No idle scan: nothing but a new line may wake a follower's worker. */
	brmh_check_start(&H, "{\"limits\": {\"idle_timeout_secs\": 0}, \"processes\": {}}");

	rc = brmh_ctl(&H, &out, &err, "log", NULL);
	ck_assert_msg(rc == 0, "log: rc %d, %s", rc, err);
	ck_assert_msg(strstr(out, "listening on") && strstr(out, " info  brummd "),
		      "log printed: %s", out);
	free(out);
	free(err);

	/* -n1: the newest line only; --json: its object. */
	rc = brmh_ctl(&H, &out, &err, "log", "-n1", "--json", NULL);
	ck_assert_msg(rc == 0, "log -n1: rc %d, %s", rc, err);
	ck_assert_int_eq(count_lines(out), 1);
	j = cJSON_Parse(out);
	ck_assert_msg(j && brmh_str(j, "level") && brmh_str(j, "line") &&
		      cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(j, "ts")), "json: %s", out);
	cJSON_Delete(j);
	free(out);
	free(err);

	/* --since in the future: nothing yet. */
	rc = brmh_ctl(&H, &out, &err, "log", "--since", "2999-01-01T00:00:00Z", NULL);
	ck_assert_int_eq(rc, 0);
	ck_assert_msg(!*out, "log --since later printed: %s", out);
	free(out);
	free(err);

	/* -f: a line written later arrives. */
	snprintf(outp, sizeof(outp), "%s/follow.out", H.dir);
	snprintf(errp, sizeof(errp), "%s/follow.err", H.dir);
	follower = brmh_ctl_spawn(&H, outp, errp, "log", "-f", "-n", "0", NULL);
	ck_assert(follower > 0);
	/* SIGHUP: a reload that changes nothing writes a log line, and nothing
	 * else (no event, no output, no request) wakes the follower's worker.
	 * The follower may not have subscribed yet (brummctl under TSan takes
	 * longer than any fixed sleep), and with -n 0 a line written before
	 * that is never shown: send one every half second until one arrives. */
	got = NULL;
	for (int i = 0; i < 1500 && !(got && strstr(got, "SIGHUP")); i++) {
		if (i % 50 == 0)
			kill(H.pid, SIGHUP);
		free(got);
		brmh_sleep_ms(10);
		got = brmh_read_file(outp);
	}
	ck_assert_msg(got && strstr(got, "SIGHUP"), "log -f printed: %s", got ? got : "(nothing)");
	ck_assert_msg(!strstr(got, "listening on"), "-n 0 printed old lines: %s", got);
	free(got);
	kill(follower, SIGTERM);
	ck_assert_int_eq(brmh_wait_exit(follower, 5000), 0);
	brmh_check_stop(&H);
}
END_TEST

START_TEST(log_rejects_bad_params)
{
	cJSON *r;
	const cJSON *res;
	char *text;
	int code;

	brmh_check_start(&H, "{\"processes\": {}}");
	r = brmh_call(&H, "daemon_log", "{\"lines\": 10001}");
	brmh_result(r, &code);
	ck_assert_int_eq(code, -32602);
	cJSON_Delete(r);
	r = brmh_call(&H, "daemon_log", "{\"since\": \"10m\"}");
	brmh_result(r, &code);
	ck_assert_int_eq(code, -32602);
	text = cJSON_PrintUnformatted(r);
	ck_assert_msg(strstr(text, "seconds since the epoch"), "reply: %s", text);
	free(text);
	cJSON_Delete(r);
	r = brmh_call(&H, "daemon_log", "{\"lines\": 2}");
	res = brmh_result(r, &code);
	ck_assert_int_eq(code, 0);
	ck_assert_int_le(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(res, "lines")), 2);
	ck_assert(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(res, "next_seq")));
	cJSON_Delete(r);
	brmh_check_stop(&H);
}
END_TEST

/* ---- logs --since ------------------------------------------------------- */

START_TEST(logs_since_takes_a_duration_or_a_time)
{
	char *out = NULL, *err = NULL, *line, when[64];
	const cJSON *res, *l;
	double ts = 0;
	cJSON *r;
	time_t t;
	struct tm tm;
	int rc, code;

	brmh_check_start(&H,
		"{\"processes\": {\"tk\": {\"cmd\": \"echo one; sleep 3; echo two; exec sleep 60\","
		" \"shell\": true, \"start_secs\": 0}}}");
	line = brmh_wait_log(&H, "tk", "two", 10000);
	ck_assert(line);
	free(line);

	rc = brmh_ctl(&H, &out, &err, "logs", "tk", "--since", "2s", "--stdout", NULL);
	ck_assert_msg(rc == 0, "logs --since 2s: %d %s", rc, err);
	ck_assert_msg(strstr(out, "| two") && !strstr(out, "| one"), "--since 2s: %s", out);
	free(out);
	free(err);
	rc = brmh_ctl(&H, &out, &err, "logs", "tk", "--since=10m", "--stdout", NULL);
	ck_assert_int_eq(rc, 0);
	ck_assert_msg(strstr(out, "| two") && strstr(out, "| one"), "--since 10m: %s", out);
	free(out);
	free(err);

	/* A time: the second of line "two", in UTC and in local time. */
	r = brmh_call(&H, "logs", "{\"name\":\"tk\",\"stream\":\"stdout\"}");
	res = brmh_result(r, &code);
	cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(res, "lines"))
		if (!strcmp(brmh_str(l, "line"), "two"))
			ts = cJSON_GetObjectItemCaseSensitive(l, "ts")->valuedouble;
	cJSON_Delete(r);
	ck_assert(ts > 0);
	t = (time_t)ts;
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	rc = brmh_ctl(&H, &out, &err, "logs", "tk", "--since", when, "--stdout", NULL);
	ck_assert_msg(rc == 0, "--since %s: %d %s", when, rc, err);
	ck_assert_msg(strstr(out, "| two") && !strstr(out, "| one"), "--since %s: %s", when, out);
	free(out);
	free(err);
	localtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	rc = brmh_ctl(&H, &out, &err, "logs", "tk", "--since", when, "--stdout", NULL);
	ck_assert_msg(rc == 0, "--since %s: %d %s", when, rc, err);
	ck_assert_msg(strstr(out, "| two") && !strstr(out, "| one"), "--since %s: %s", when, out);
	free(out);
	free(err);

	/* Bad values: a usage error that names the format. */
	static const char *const bad[] = { "yesterday", "10", "-5m", "10x", "2026-13-01",
					   "2026-12-05T25:00", "2026-12-05T10:00:00+1" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rc = brmh_ctl(&H, &out, &err, "logs", "tk", "--since", bad[i], NULL);
		ck_assert_msg(rc == 2, "--since %s: rc %d", bad[i], rc);
		ck_assert_msg(strstr(err, "invalid --since") && strstr(err, "10m") &&
			      strstr(err, "YYYY-MM-DDTHH:MM"), "--since %s: %s", bad[i], err);
		free(out);
		free(err);
	}
	/* The protocol's "since" is a number of seconds. */
	r = brmh_call(&H, "logs", "{\"name\":\"tk\",\"since\":\"10m\"}");
	brmh_result(r, &code);
	ck_assert_int_eq(code, -32602);
	cJSON_Delete(r);
	brmh_check_stop(&H);
}
END_TEST

/* ---- option spelling ---------------------------------------------------- */

START_TEST(short_options_take_a_value_stuck_to_them)
{
	static const char *const spellings[][2] = {
		{ "-n1", NULL }, { "-n", "1" }, { "--lines=1", NULL }, { "--lines", "1" },
	};
	char *out = NULL, *err = NULL, *line;
	int rc;

	brmh_check_start(&H,
		"{\"processes\": {\"pr\": {\"cmd\": [\"%s\", \"print\", \"out\", \"a\", \"b\", \"c\"],"
		" \"start_secs\": 0}}}", brmh_child());
	line = brmh_wait_log(&H, "pr", "c", 5000);
	ck_assert(line);
	free(line);
	for (size_t i = 0; i < sizeof(spellings) / sizeof(spellings[0]); i++) {
		rc = brmh_ctl(&H, &out, &err, "logs", "pr", "--stdout", spellings[i][0],
			      spellings[i][1], NULL);
		ck_assert_msg(rc == 0, "logs %s: rc %d, %s", spellings[i][0], rc, err);
		ck_assert_msg(count_lines(out) == 1 && strstr(out, "| c"), "logs %s %s: %s",
			      spellings[i][0], spellings[i][1] ? spellings[i][1] : "", out);
		free(out);
		free(err);
	}
	/* -sPATH as well. */
	{
		const char *args[] = { brmh_bin("brummctl"), brmh_fmt("-s%s", H.sock), "ping", NULL };
		int st;
		pid_t pid = fork();

		if (pid == 0) {
			int fd = open("/dev/null", O_WRONLY);

			dup2(fd, 1);
			execv(args[0], (char *const *)args);
			_exit(127);
		}
		ck_assert(waitpid(pid, &st, 0) == pid);
		ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "-sPATH ping: %d", st);
	}
	/* A flag takes no value stuck to it. */
	rc = brmh_ctl(&H, &out, &err, "logs", "pr", "-fx", NULL);
	ck_assert_int_eq(rc, 2);
	free(out);
	free(err);
	brmh_check_stop(&H);
}
END_TEST

START_TEST(events_takes_f_as_the_default_it_is)
{
	char *out = NULL, *err = NULL;
	int rc;

	brmh_check_start(&H,
		"{\"processes\": {\"ev\": {\"cmd\": [\"%s\", \"sleep\", \"60\"], \"start_secs\": 0}}}",
		brmh_child());
	ck_assert(brmh_wait_state(&H, "ev", "running", 5000));
	rc = brmh_ctl(&H, &out, &err, "events", "-f", "--history", "--count", "1", NULL);
	ck_assert_msg(rc == 0, "events -f: rc %d, %s", rc, err);
	ck_assert_msg(strstr(out, "ev"), "events -f printed: %s", out);
	free(out);
	free(err);
	rc = brmh_ctl(&H, &out, &err, "events", "--follow", "--history", "--count", "1", NULL);
	ck_assert_msg(rc == 0, "events --follow: rc %d, %s", rc, err);
	free(out);
	free(err);
	brmh_check_stop(&H);
}
END_TEST

/* ---- --timeout ---------------------------------------------------------- */

START_TEST(timeout_zero_is_a_usage_error_before_connecting)
{
	static const char *const bad[] = { "0", "0s", "0ms", "-1", "abc", "1e3", "5 s", "2y" };
	static const char *const good[] = { "1.5", "250ms", "2m" };
	struct brmh none;
	char *out = NULL, *err = NULL;
	int rc;

	/* No brummd, no socket: only the command line can be judged. */
	memset(&none, 0, sizeof(none));
	ck_assert(brmh_tmpdir(none.dir, sizeof(none.dir), "brm-habits"));
	snprintf(none.sock, sizeof(none.sock), "%s/nobody-listens.sock", none.dir);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rc = brmh_ctl(&none, &out, &err, "start", "app", "--timeout", bad[i], NULL);
		ck_assert_msg(rc == 2, "start --timeout %s: rc %d (%s)", bad[i], rc, err);
		ck_assert_msg(strstr(err, "invalid --timeout") && strstr(err, "250ms"),
			      "start --timeout %s: %s", bad[i], err);
		free(out);
		free(err);
		rc = brmh_ctl(&none, &out, &err, "wait", "app", "--state", "running",
			      "--timeout", bad[i], NULL);
		ck_assert_msg(rc == 2, "wait --timeout %s: rc %d (%s)", bad[i], rc, err);
		free(out);
		free(err);
	}
	/* Good values get as far as the connection (exit 3: nobody listens). */
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		rc = brmh_ctl(&none, &out, &err, "stop", "app", "--timeout", good[i], NULL);
		ck_assert_msg(rc == 3, "stop --timeout %s: rc %d (%s)", good[i], rc, err);
		free(out);
		free(err);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("habits");
	TCase *tc = tcase_create("habits");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, shutdown_stops_dependents_first_answers_when_down_and_exits_zero);
	tcase_add_test(tc, shutdown_over_the_protocol_replies_with_every_process);
	tcase_add_test(tc, log_shows_brummds_own_lines_and_follows_them);
	tcase_add_test(tc, log_rejects_bad_params);
	tcase_add_test(tc, logs_since_takes_a_duration_or_a_time);
	tcase_add_test(tc, short_options_take_a_value_stuck_to_them);
	tcase_add_test(tc, events_takes_f_as_the_default_it_is);
	tcase_add_test(tc, timeout_zero_is_a_usage_error_before_connecting);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
