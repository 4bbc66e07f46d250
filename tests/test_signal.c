/*
 * test_signal.c — `signal` end to end against a real brummd: it goes to
 * the main process unless asked for the group (a pre-fork server's HUP
 * reloads its master and must not kill its workers), "to" takes only
 * "main" or "group", and a signal to several processes reaches the running
 * ones and lists the others as skipped (exit 0 when any was signalled,
 * 1 when none was, as pkill).
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/e2e.h"
#include "tests/harness.h"

static struct brmh H;

/* The number after @prefix in the @k-th (0-based) log line of @name that
 * starts with it; fails the test when there is none within 5 s. */
static pid_t logged_pid(const char *name, const char *prefix, int k)
{
	char params[128];

	snprintf(params, sizeof(params), "{\"name\":\"%s\",\"lines\":1000}", name);
	for (int waited = 0; waited < 5000; waited += 10) {
		cJSON *r = brmh_call(&H, "logs", params);
		int code, seen = 0;
		const cJSON *res = brmh_result(r, &code), *line;

		cJSON_ArrayForEach(line, cJSON_GetObjectItemCaseSensitive(res, "lines")) {
			const char *text = brmh_str(line, "line");

			if (text && !strncmp(text, prefix, strlen(prefix)) && seen++ == k) {
				long pid = strtol(text + strlen(prefix), NULL, 10);

				cJSON_Delete(r);
				ck_assert_int_gt(pid, 1);
				return (pid_t)pid;
			}
		}
		cJSON_Delete(r);
		brmh_sleep_ms(10);
	}
	ck_abort_msg("%s: no line '%s' number %d", name, prefix, k);
	return -1;
}

/* How many lines of @name's log are exactly @text. */
static int count_lines(const char *name, const char *text)
{
	char params[128];
	cJSON *r;
	int code, n = 0;
	const cJSON *line;

	snprintf(params, sizeof(params), "{\"name\":\"%s\",\"lines\":1000}", name);
	r = brmh_call(&H, "logs", params);
	cJSON_ArrayForEach(line, cJSON_GetObjectItemCaseSensitive(brmh_result(r, &code), "lines"))
		if (brmh_str(line, "line") && !strcmp(brmh_str(line, "line"), text))
			n++;
	cJSON_Delete(r);
	return n;
}

static bool wait_count(const char *name, const char *text, int want, int timeout_ms)
{
	for (int waited = 0; waited < timeout_ms; waited += 10) {
		if (count_lines(name, text) >= want)
			return true;
		brmh_sleep_ms(10);
	}
	return false;
}

/* brummctl exited 0; frees its stderr. */
/* Call brmh_ctl() first, then this: the order in which a call's arguments
 * are evaluated is unspecified, so err passed beside the call that sets it
 * would be the old value. */
static void ctl_ok(const char *what, int rc, char *err)
{
	ck_assert_msg(rc == 0, "brummctl %s: exit %d, stderr: %s", what, rc, err ? err : "");
	free(err);
}

/*
 * Broke once: `signal guni HUP` went to the whole process group, so a
 * pre-fork master's workers died of the HUP meant for the master's reload.
 */
START_TEST(signal_goes_to_the_main_process_unless_asked_for_the_group)
{
	pid_t master, w0, w1;
	char *out = NULL, *err = NULL;
	cJSON *r, *s;
	int code, rc;

	brmh_check_start(&H,
		"{\"processes\": {\"guni\": {\"cmd\": [\"%s\", \"prefork\", \"2\"],"
		" \"start_secs\": 0}}}", brmh_child());
	w0 = logged_pid("guni", "worker ", 0);
	w1 = logged_pid("guni", "worker ", 1);
	master = logged_pid("guni", "ready master ", 0);

	/* the protocol's default */
	r = brmh_call(&H, "signal", "{\"name\":\"guni\",\"signal\":\"HUP\"}");
	ck_assert_ptr_nonnull(brmh_result(r, &code));
	cJSON_Delete(r);
	ck_assert_msg(wait_count("guni", "reload", 1, 3000), "the master did not reload");
	/* "to": "main" says the same */
	r = brmh_call(&H, "signal", "{\"name\":\"guni\",\"signal\":\"HUP\",\"to\":\"main\"}");
	ck_assert_ptr_nonnull(brmh_result(r, &code));
	cJSON_Delete(r);
	ck_assert_msg(wait_count("guni", "reload", 2, 3000), "the master did not reload again");
	/* brummctl's default */
	rc = brmh_ctl(&H, &out, &err, "signal", "guni", "HUP", NULL);
	ctl_ok("signal guni HUP", rc, err);
	free(out);
	ck_assert_msg(wait_count("guni", "reload", 3, 3000), "brummctl signal: no reload");
	brmh_sleep_ms(200);   /* a HUP to a worker would have killed it by now */
	ck_assert_msg(brmh_pid_alive(w0) && brmh_pid_alive(w1),
		      "a worker died of a HUP meant for the master");

	/* --group reaches the workers (the default action of HUP ends them) */
	rc = brmh_ctl(&H, &out, &err, "signal", "--group", "guni", "HUP", NULL);
	ctl_ok("signal --group guni HUP", rc, err);
	ck_assert_msg(strstr(out, "guni"), "signal printed: %s", out);
	free(out);
	ck_assert_msg(brmh_wait_pid_gone(w0, 3000) && brmh_wait_pid_gone(w1, 3000),
		      "signal --group did not reach the workers");
	ck_assert_msg(wait_count("guni", "reload", 4, 3000), "the master did not get the group's HUP");
	s = brmh_status(&H, "guni");
	ck_assert_str_eq(brmh_str(s, "state"), "running");
	ck_assert_int_eq(brmh_int(s, "pid"), master);
	cJSON_Delete(s);
	brmh_check_stop(&H);
}
END_TEST

START_TEST(signal_to_takes_main_or_group)
{
	static const char *const bad[] = {
		"{\"name\":\"p\",\"signal\":\"HUP\",\"to\":\"all\"}",
		"{\"name\":\"p\",\"signal\":\"HUP\",\"to\":\"\"}",
		/* checked before the targets: the same answer for no such process */
		"{\"name\":\"nosuch\",\"signal\":\"HUP\",\"to\":\"Group\"}",
	};

	brmh_check_start(&H,
		"{\"processes\": {\"p\": {\"cmd\": [\"%s\", \"sleep\", \"60\"], \"start_secs\": 0}}}",
		brmh_child());
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cJSON *r = brmh_call(&H, "signal", bad[i]);
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(r, "error");
		const char *msg = brmh_str(e, "message");
		int code;

		ck_assert_ptr_null(brmh_result(r, &code));
		ck_assert_int_eq(code, -32602);
		ck_assert_msg(msg && strstr(msg, "params.to") && strstr(msg, "\"main\"") &&
				      strstr(msg, "\"group\""),
			      "%s: %s", bad[i], msg ? msg : "(no message)");
		cJSON_Delete(r);
	}
	/* Not a string: the method table's schema answers, in its one wording. */
	{
		cJSON *r = brmh_call(&H, "signal", "{\"name\":\"p\",\"signal\":\"HUP\",\"to\":1}");
		const char *msg = brmh_str(cJSON_GetObjectItemCaseSensitive(r, "error"), "message");
		int code;

		ck_assert_ptr_null(brmh_result(r, &code));
		ck_assert_int_eq(code, -32602);
		ck_assert_str_eq(msg, "params.to: expected a string, got 1");
		cJSON_Delete(r);
	}
	brmh_check_stop(&H);
}
END_TEST

/*
 * Broke once: `signal --all` refused everything when one process was not
 * running. a runs, b was never started, c has exited.
 */
START_TEST(signal_all_signals_the_running_and_lists_the_rest)
{
	const cJSON *res, *procs, *skipped, *it;
	char *out = NULL, *err = NULL;
	cJSON *r;
	int code, rc;

	brmh_check_start(&H,
		"{\"processes\": {"
		" \"a\": {\"cmd\": [\"%s\", \"sigreport\"], \"start_secs\": 0},"
		" \"b\": {\"cmd\": [\"%s\", \"sleep\", \"60\"], \"autostart\": false},"
		" \"c\": {\"cmd\": [\"%s\", \"exit\", \"0\"], \"start_secs\": 0,"
		"        \"restart\": \"never\"}}}",
		brmh_child(), brmh_child(), brmh_child());
	logged_pid("a", "ready main ", 0);
	ck_assert(brmh_wait_state(&H, "c", "exited", 3000));

	r = brmh_call(&H, "signal", "{\"all\":true,\"signal\":\"USR1\"}");
	res = brmh_result(r, &code);
	ck_assert_msg(res, "signal all: error %d", code);
	procs = cJSON_GetObjectItemCaseSensitive(res, "processes");
	skipped = cJSON_GetObjectItemCaseSensitive(res, "skipped");
	ck_assert_int_eq(cJSON_GetArraySize(procs), 1);
	ck_assert_str_eq(brmh_str(cJSON_GetArrayItem(procs, 0), "name"), "a");
	ck_assert_int_eq(cJSON_GetArraySize(skipped), 2);
	it = cJSON_GetArrayItem(skipped, 0);
	ck_assert_str_eq(brmh_str(it, "name"), "b");
	ck_assert_str_eq(brmh_str(it, "state"), "stopped");
	it = cJSON_GetArrayItem(skipped, 1);
	ck_assert_str_eq(brmh_str(it, "name"), "c");
	ck_assert_str_eq(brmh_str(it, "state"), "exited");
	cJSON_Delete(r);
	ck_assert_msg(wait_count("a", "main got 10", 1, 3000), "a did not get SIGUSR1");

	/* brummctl: exit 0, and it says what it skipped */
	rc = brmh_ctl(&H, &out, &err, "signal", "--all", "USR1", NULL);
	ck_assert_msg(rc == 0, "signal --all: exit %d, %s", rc, err);
	ck_assert_msg(strstr(out, "skipped b: not running (stopped)") &&
			      strstr(out, "skipped c: not running (exited)"),
		      "signal --all printed: %s", out);
	free(out);
	free(err);
	ck_assert_msg(wait_count("a", "main got 10", 2, 3000), "a did not get SIGUSR1 again");

	/* several names: the same */
	rc = brmh_ctl(&H, &out, &err, "signal", "a", "b", "USR1", NULL);
	ck_assert_msg(rc == 0, "signal a b: exit %d, %s", rc, err);
	ck_assert_msg(strstr(out, "skipped b"), "signal a b printed: %s", out);
	free(out);
	free(err);

	/* none running: exit 1, naming each */
	rc = brmh_ctl(&H, &out, &err, "signal", "b", "c", "USR1", NULL);
	ck_assert_msg(rc == 1, "signal b c: exit %d", rc);
	ck_assert_msg(strstr(err, "none of the 2 targets is running: b is stopped, c is exited"),
		      "signal b c said: %s", err);
	free(out);
	free(err);
	rc = brmh_ctl(&H, &out, &err, "signal", "b", "HUP", NULL);
	ck_assert_msg(rc == 1, "signal b: exit %d", rc);
	ck_assert_msg(strstr(err, "cannot signal 'b': it is not running (state stopped)"),
		      "signal b said: %s", err);
	free(out);
	free(err);
	brmh_check_stop(&H);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("signal");
	TCase *tc = tcase_create("signal");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, signal_goes_to_the_main_process_unless_asked_for_the_group);
	tcase_add_test(tc, signal_to_takes_main_or_group);
	tcase_add_test(tc, signal_all_signals_the_running_and_lists_the_rest);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
