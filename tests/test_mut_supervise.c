/*
 * test_mut_supervise.c — behaviour of the state machine that `make mutate`
 * found unpinned (tests/mutations.txt names each mutation a test here
 * kills): the backoff cap on failed starts and on rapid exits, a long run
 * resetting the rapid-exit throttle, the configured stop signal, a start
 * during a stop not being lost, and a crash taking the rest of its process
 * group along.
 * End to end: a real brummd, real children (bin/brm-testchild, /bin/sh).
 */
#include <check.h>
#include <stdbool.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/e2e.h"
#include "tests/harness.h"

static struct brmh H;

/*
 * Scratch files of the tests, in one directory main() makes before the
 * tests run (brmh_tmpdir: removed when main's process ends): a test that
 * fails exits at once (its own process, in Check's fork mode) and could
 * not clean up itself.
 */
static char scratch[64];

static void scratch_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", scratch, name);
}

/* A config with one process "p" whose spec is the members @fmt formats. */
static char *config_one(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *config_one(const char *fmt, ...)
{
	static char buf[4096];
	char body[3000];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	snprintf(buf, sizeof(buf), "{\"processes\": {\"p\": {%s}}}", body);
	return buf;
}

static cJSON *status_of(const char *name)
{
	cJSON *s = brmh_status(&H, name);

	ck_assert_msg(s != NULL, "no status for '%s'", name);
	return s;
}

static double num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsNumber(v) ? v->valuedouble : -1;
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

/* Wait until @pid ignores SIGTERM (its SigIgn mask in /proc says so). */
static bool wait_ignores_term(pid_t pid, int timeout_ms)
{
	char path[64], *text, *ign;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	for (int waited = 0; waited < timeout_ms; waited += 5) {
		text = brmh_read_file(path);
		ign = text ? strstr(text, "\nSigIgn:\t") : NULL;
		if (ign && (strtoull(ign + 9, NULL, 16) >> (SIGTERM - 1)) & 1) {
			free(text);
			return true;
		}
		free(text);
		brmh_sleep_ms(5);
	}
	return false;
}

/*
 * Poll until "p" is in backoff with @field at least @min; returns the delay
 * it waits (next_retry - since, seconds). Fails the test after @timeout_ms.
 */
static double backoff_delay_when(const char *field, long min, int timeout_ms)
{
	for (int waited = 0; waited < timeout_ms; waited += 5) {
		cJSON *s = status_of("p");
		const char *st = brmh_str(s, "state");

		if (st && !strcmp(st, "backoff") && brmh_int(s, field) >= min) {
			double d = num(s, "next_retry") - num(s, "since");

			cJSON_Delete(s);
			return d;
		}
		cJSON_Delete(s);
		brmh_sleep_ms(5);
	}
	ck_abort_msg("p never in backoff with %s >= %ld", field, min);
	return -1;
}

/* ---- backoff ------------------------------------------------------------ */

/* 0.1, 0.2, then capped at 0.25 s; uncapped, the 4th retry would wait 0.8 s. */
START_TEST(failed_start_retries_wait_at_most_backoff_max)
{
	double d;

	brmh_check_start(&H, "%s", config_one(
		"\"cmd\": [\"%s\", \"exit\", \"3\"], \"start_secs\": 1, \"start_retries\": 20,"
		" \"backoff_secs\": 0.1, \"backoff_max_secs\": 0.25", brmh_child()));
	d = backoff_delay_when("start_failures", 4, 8000);
	ck_assert_msg(d > 0 && d <= 0.25 + 0.02,
		      "4th failed start waits %.3fs; backoff_max_secs is 0.25", d);
	d = backoff_delay_when("start_failures", 5, 4000);
	ck_assert_msg(d > 0 && d <= 0.25 + 0.02,
		      "5th failed start waits %.3fs; backoff_max_secs is 0.25", d);
	brmh_check_stop(&H);
}
END_TEST

/* A crash loop after start_secs (min_uptime_secs 0: never a failed start):
 * the same cap applies to its delay. */
START_TEST(rapid_exit_restarts_wait_at_most_backoff_max)
{
	double d;

	brmh_check_start(&H, "%s", config_one(
		"\"cmd\": [\"%s\", \"exit\", \"3\", \"0.02\"], \"start_secs\": 0,"
		" \"min_uptime_secs\": 0, \"backoff_secs\": 0.1, \"backoff_max_secs\": 0.25",
		brmh_child()));
	d = backoff_delay_when("restarts", 4, 8000);
	ck_assert_msg(d > 0 && d <= 0.25 + 0.02,
		      "4th rapid exit in a row waits %.3fs; backoff_max_secs is 0.25", d);
	brmh_check_stop(&H);
}
END_TEST

/*
 * Runs 1-3 exit at once (delays 0.3, 0.6, 1.2 s), run 4 lasts 1.5 s and is
 * restarted at once, run 5 exits at once: a new series, so 0.3 s again,
 * not the 4.8 s a fifth rapid exit in a row would wait.
 */
START_TEST(a_long_run_resets_the_rapid_exit_delay)
{
	char counter[512];
	double d;

	scratch_path(counter, sizeof(counter), "long-run-n");
	brmh_check_start(&H, "%s", config_one(
		"\"cmd\": [\"/bin/sh\", \"-c\", \"n=$(cat %s 2>/dev/null || echo 0);"
		" n=$((n+1)); echo $n > %s; [ $n -eq 4 ] && sleep 1.5; exit 3\"],"
		" \"start_secs\": 0, \"min_uptime_secs\": 0, \"backoff_secs\": 0.3,"
		" \"backoff_max_secs\": 60",
		counter, counter));
	d = backoff_delay_when("restarts", 3, 8000);
	ck_assert_msg(d > 1.0, "3rd rapid exit in a row waits only %.3fs (want 1.2)", d);
	d = backoff_delay_when("restarts", 5, 10000);
	ck_assert_msg(d > 0 && d < 0.5,
		      "the first rapid exit after a 1.5 s run waits %.3fs, not backoff_secs 0.3",
		      d);
	brmh_check_stop(&H);
}
END_TEST

/* ---- stopping ----------------------------------------------------------- */

/* stop_signal HUP to a program that ignores TERM (and INT): it stops at
 * once, by HUP, without waiting out the 20 s stop timeout. */
START_TEST(stop_sends_the_configured_stop_signal)
{
	cJSON *s;

	brmh_check_start(&H, "%s", config_one(
		"\"cmd\": [\"%s\", \"ignore-term\"], \"start_secs\": 0,"
		" \"stop_signal\": \"HUP\", \"stop_timeout_secs\": 20", brmh_child()));
	ck_assert(brmh_wait_state(&H, "p", "running", 3000));
	/* No need to wait for its SIG_IGN: HUP ends it either way, and a
	 * TERM (the wrong signal) shows as exit_signal TERM or as a stop that
	 * waits for the timeout. */
	call_ok("stop", "{\"name\":\"p\",\"wait\":true,\"timeout_secs\":5}");
	s = status_of("p");
	ck_assert_str_eq(brmh_str(s, "state"), "stopped");
	ck_assert_msg(brmh_str(s, "exit_signal") && !strcmp(brmh_str(s, "exit_signal"), "HUP"),
		      "stopped by %s, not by stop_signal HUP",
		      brmh_str(s, "exit_signal") ? brmh_str(s, "exit_signal") : "(none)");
	cJSON_Delete(s);
	brmh_check_stop(&H);
}
END_TEST

/* A start that arrives while the stop is still under way is kept: once
 * the old process is gone, a new one runs. */
START_TEST(start_while_stopping_starts_it_again)
{
	cJSON *s;
	long pid1;

	brmh_check_start(&H, "%s", config_one(
		"\"cmd\": [\"%s\", \"ignore-term\"], \"start_secs\": 0,"
		" \"stop_timeout_secs\": 0.5", brmh_child()));
	ck_assert(brmh_wait_state(&H, "p", "running", 3000));
	s = status_of("p");
	pid1 = brmh_int(s, "pid");
	cJSON_Delete(s);
	ck_assert_msg(wait_ignores_term((pid_t)pid1, 3000), "the child never ignored SIGTERM");
	call_ok("stop", "{\"name\":\"p\"}");
	s = status_of("p");
	ck_assert_str_eq(brmh_str(s, "state"), "stopping");
	cJSON_Delete(s);
	call_ok("start", "{\"name\":\"p\"}");
	ck_assert_msg(brmh_wait_pid_gone((pid_t)pid1, 3000), "old pid survived SIGKILL");
	ck_assert_msg(brmh_wait_state(&H, "p", "running", 3000),
		      "the start sent while stopping was lost");
	s = status_of("p");
	ck_assert(brmh_int(s, "pid") > 0 && brmh_int(s, "pid") != pid1);
	cJSON_Delete(s);
	brmh_check_stop(&H);
}
END_TEST

/* The main process crashes; a grandchild still in its process group must
 * not outlive it, holding its port or files while the next run starts. */
START_TEST(a_crash_takes_the_rest_of_the_group_along)
{
	char pidfile[512];
	char *text;
	long main_pid;
	pid_t gc;
	cJSON *s;

	scratch_path(pidfile, sizeof(pidfile), "grandchild-pid");
	brmh_check_start(&H, "%s", config_one(
		"\"cmd\": [\"%s\", \"grandchild\", \"%s\"], \"start_secs\": 0,"
		" \"restart\": \"never\"", brmh_child(), pidfile));
	text = brmh_wait_file(pidfile, 3000);
	ck_assert_msg(text != NULL, "the grandchild never wrote its pid");
	gc = (pid_t)atol(text);
	free(text);
	ck_assert(gc > 0 && brmh_pid_alive(gc));
	s = status_of("p");
	main_pid = brmh_int(s, "pid");
	cJSON_Delete(s);
	ck_assert(main_pid > 0);
	ck_assert_int_eq(kill((pid_t)main_pid, SIGKILL), 0);
	ck_assert(brmh_wait_state(&H, "p", "exited", 3000));
	if (!brmh_wait_pid_gone(gc, 2000)) {
		kill(gc, SIGKILL);
		ck_abort_msg("grandchild %d outlived its crashed main process", (int)gc);
	}
	brmh_check_stop(&H);
}
END_TEST

static Suite *mut_supervise_suite(void)
{
	Suite *s = suite_create("mut-supervise");
	TCase *backoff = tcase_create("backoff");
	TCase *stop = tcase_create("stop");

	tcase_set_timeout(backoff, 30);
	tcase_set_timeout(stop, 30);
	tcase_add_test(backoff, failed_start_retries_wait_at_most_backoff_max);
	tcase_add_test(backoff, rapid_exit_restarts_wait_at_most_backoff_max);
	tcase_add_test(backoff, a_long_run_resets_the_rapid_exit_delay);
	tcase_add_test(stop, stop_sends_the_configured_stop_signal);
	tcase_add_test(stop, start_while_stopping_starts_it_again);
	tcase_add_test(stop, a_crash_takes_the_rest_of_the_group_along);
	suite_add_tcase(s, backoff);
	suite_add_tcase(s, stop);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(mut_supervise_suite());
	int failed;

	if (!brmh_tmpdir(scratch, sizeof(scratch), "brmtest.mut")) {
		perror("mkdtemp");
		return EXIT_FAILURE;
	}
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
