/*
 * test_oneshot.c — "type": "oneshot" end to end: a job that runs to
 * completion (exit 0) counts as up for start, restart and wait; one that
 * fails makes them fail, naming it and its exit code, with "failed" in the
 * error data; "on-failure" retries it, "always" is refused; a dependent on
 * its completion starts after it; and a wait for running fails as soon as
 * a target cannot get there, not at its timeout.
 */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/config.h"
#include "tests/e2e.h"
#include "tests/harness.h"

static struct brmh H;

static double now_secs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double num_field(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static const cJSON *error_of(const cJSON *reply)
{
	return cJSON_GetObjectItemCaseSensitive(reply, "error");
}

/* Is @name in the error data's "failed" list? */
static bool listed_failed(const cJSON *reply, const char *name)
{
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(error_of(reply), "data");
	const cJSON *e;

	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(data, "failed"))
		if (cJSON_IsString(e) && !strcmp(e->valuestring, name))
			return true;
	return false;
}

/* Events of @name going to @to; with @reason, those whose reason contains it. */
static int count_events(const char *name, const char *to, const char *reason)
{
	cJSON *ev = brmh_events(&H, name);
	const cJSON *e;
	int n = 0;

	ck_assert_ptr_nonnull(ev);
	cJSON_ArrayForEach(e, ev) {
		const char *t = brmh_str(e, "to"), *r = brmh_str(e, "reason");

		if (t && !strcmp(t, to) && (!reason || (r && strstr(r, reason))))
			n++;
	}
	cJSON_Delete(ev);
	return n;
}

static void assert_state(const char *name, const char *state)
{
	cJSON *s = brmh_status(&H, name);

	ck_assert_ptr_nonnull(s);
	ck_assert_msg(!strcmp(brmh_str(s, "state"), state), "%s is %s, not %s (error: %s)", name,
		      brmh_str(s, "state"), state,
		      brmh_str(s, "error") ? brmh_str(s, "error") : "none");
	cJSON_Delete(s);
}

/* brummctl @args...: its exit code; stderr into *@err (caller frees). */
#define CTL(err, ...) ctl_run(err, __VA_ARGS__, NULL)
static int ctl_run(char **err, ...)
{
	char *a[12] = { 0 }, *out = NULL;
	va_list ap;
	int n = 0, rc;

	va_start(ap, err);
	while (n < 11 && (a[n] = va_arg(ap, char *)) != NULL)
		n++;
	va_end(ap);
	rc = brmh_ctl(&H, &out, err, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9],
		      a[10], NULL);
	free(out);
	return rc;
}

/*
 * The stack of the issue in small: a migration one-shot, an app that
 * depends on its completion, a worker. start --all waits for the
 * migration to complete and succeeds; it does not run a completed
 * migration again; restart --all does; wait --all --state running
 * succeeds with the one-shot completed.
 */
START_TEST(completed_oneshot_counts_as_up)
{
	cJSON *s, *r;
	char *err = NULL;
	int rc, code;

	brmh_check_start(&H,
		"{\"processes\": {"
		" \"mig\": {\"type\": \"oneshot\", \"cmd\": [\"%s\", \"exit\", \"0\", \"0.4\"]},"
		" \"app\": {\"cmd\": [\"%s\", \"sleep\", \"30\"], \"start_secs\": 0.1,"
		"   \"depends_on\": {\"mig\": \"completed\"}},"
		" \"worker\": {\"cmd\": [\"%s\", \"sleep\", \"30\"], \"start_secs\": 0.1},"
		" \"late\": {\"cmd\": [\"%s\", \"sleep\", \"30\"], \"start_secs\": 0.1,"
		"   \"autostart\": false, \"depends_on\": [\"mig\"]}"
		"}}", brmh_child(), brmh_child(), brmh_child(), brmh_child());

	/* The migration still runs (0.4 s): start --all waits for it. */
	rc = CTL(&err, "start", "--all", "--timeout", "20");
	ck_assert_msg(rc == 0, "start --all: rc %d: %s", rc, err);
	free(err);
	assert_state("mig", "exited");
	assert_state("app", "running");
	assert_state("worker", "running");

	s = brmh_status(&H, "mig");
	ck_assert_str_eq(brmh_str(s, "type"), "oneshot");
	ck_assert_str_eq(brmh_str(s, "restart"), "never");
	ck_assert_int_eq(brmh_int(s, "exit_code"), 0);
	ck_assert_ptr_null(brmh_str(s, "error"));
	{
		/* The dependent started only after the migration had completed. */
		cJSON *app = brmh_status(&H, "app");

		ck_assert_msg(num_field(app, "started") >= num_field(s, "since"),
			      "app started at %f, before mig completed at %f",
			      num_field(app, "started"), num_field(s, "since"));
		cJSON_Delete(app);
	}
	cJSON_Delete(s);
	s = brmh_status(&H, "worker");
	ck_assert_str_eq(brmh_str(s, "type"), "simple");
	cJSON_Delete(s);

	/* A completed one-shot is not run again by start. */
	rc = CTL(&err, "start", "--all", "--timeout", "20");
	ck_assert_msg(rc == 0, "second start --all: rc %d: %s", rc, err);
	free(err);
	rc = CTL(&err, "start", "mig", "--timeout", "20");
	ck_assert_msg(rc == 0, "start mig: rc %d: %s", rc, err);
	free(err);
	ck_assert_int_eq(count_events("mig", "starting", NULL), 1);

	/* depends_on ["mig"] ("running") is met by the completed one-shot. */
	rc = CTL(&err, "start", "late", "--timeout", "20");
	ck_assert_msg(rc == 0, "start late: rc %d: %s", rc, err);
	free(err);
	assert_state("late", "running");
	ck_assert_int_eq(count_events("mig", "starting", NULL), 1);

	/* wait --all --state running: the completed one-shot counts. */
	rc = CTL(&err, "wait", "--all", "--state", "running", "--timeout", "20");
	ck_assert_msg(rc == 0, "wait --all: rc %d: %s", rc, err);
	free(err);
	r = brmh_call(&H, "wait", "{\"name\":\"mig\",\"state\":\"running\",\"timeout_secs\":20}");
	brmh_result(r, &code);
	ck_assert_int_eq(code, 0);
	cJSON_Delete(r);

	/* restart --all runs the migration again and succeeds once it completed. */
	rc = CTL(&err, "restart", "--all", "--timeout", "20");
	ck_assert_msg(rc == 0, "restart --all: rc %d: %s", rc, err);
	free(err);
	ck_assert_int_eq(count_events("mig", "starting", NULL), 2);
	assert_state("mig", "exited");
	assert_state("app", "running");

	/* The events say what a one-shot did. */
	ck_assert_int_eq(count_events("mig", "starting", "one-shot started"), 2);
	ck_assert_int_eq(count_events("mig", "exited", "one-shot completed"), 2);
	brmh_check_stop(&H);
}
END_TEST

/*
 * A migration that fails: start --all, restart --all and wait --all fail,
 * naming it and its exit code, with "failed" in the error data; brummctl
 * exits 1 saying so. It is fatal with its exit code; its dependent is
 * fatal too.
 */
START_TEST(failed_oneshot_fails_them)
{
	cJSON *r, *s;
	const cJSON *e;
	char *err = NULL;
	int rc, code;

	brmh_check_start(&H,
		"{\"processes\": {"
		" \"mig\": {\"type\": \"oneshot\", \"cmd\": [\"%s\", \"exit\", \"3\", \"0.2\"]},"
		" \"app\": {\"cmd\": [\"%s\", \"sleep\", \"30\"], \"start_secs\": 0.1,"
		"   \"depends_on\": {\"mig\": \"completed\"}},"
		" \"worker\": {\"cmd\": [\"%s\", \"sleep\", \"30\"], \"start_secs\": 0.1}"
		"}}", brmh_child(), brmh_child(), brmh_child());
	ck_assert(brmh_wait_state(&H, "mig", "fatal", 5000));

	r = brmh_call(&H, "start", "{\"all\":true,\"wait\":true,\"timeout_secs\":20}");
	brmh_result(r, &code);
	ck_assert_int_eq(code, -32002);
	e = error_of(r);
	ck_assert_msg(strstr(brmh_str(e, "message"), "mig is fatal (one-shot failed: exited with code 3)"),
		      "message: %s", brmh_str(e, "message"));
	ck_assert(listed_failed(r, "mig"));
	ck_assert(!listed_failed(r, "worker"));
	cJSON_Delete(r);

	s = brmh_status(&H, "mig");
	ck_assert_str_eq(brmh_str(s, "state"), "fatal");
	ck_assert_int_eq(brmh_int(s, "exit_code"), 3);
	ck_assert_str_eq(brmh_str(s, "error"), "one-shot failed: exited with code 3");
	cJSON_Delete(s);
	ck_assert(brmh_wait_state(&H, "app", "fatal", 5000));
	/* "never" by default: one run, no retry */
	ck_assert_int_eq(count_events("mig", "starting", NULL), 2);   /* autostart + start --all */
	ck_assert_int_eq(count_events("mig", "fatal", "one-shot failed: exited with code 3"), 2);

	rc = CTL(&err, "start", "--all", "--timeout", "20");
	ck_assert_int_eq(rc, 1);
	ck_assert_msg(strstr(err, "mig is fatal (one-shot failed: exited with code 3)"), "%s", err);
	free(err);

	r = brmh_call(&H, "restart", "{\"all\":true,\"wait\":true,\"timeout_secs\":20}");
	brmh_result(r, &code);
	ck_assert_int_eq(code, -32002);
	ck_assert_msg(strstr(brmh_str(error_of(r), "message"), "exited with code 3"), "%s",
		      brmh_str(error_of(r), "message"));
	ck_assert(listed_failed(r, "mig"));
	cJSON_Delete(r);
	rc = CTL(&err, "restart", "--all", "--timeout", "20");
	ck_assert_int_eq(rc, 1);
	ck_assert_msg(strstr(err, "mig") && strstr(err, "exited with code 3"), "%s", err);
	free(err);

	r = brmh_call(&H, "wait", "{\"all\":true,\"state\":\"running\",\"timeout_secs\":20}");
	brmh_result(r, &code);
	ck_assert_int_eq(code, -32002);
	ck_assert(listed_failed(r, "mig"));
	ck_assert(!listed_failed(r, "worker"));
	cJSON_Delete(r);
	rc = CTL(&err, "wait", "--all", "--state", "running", "--timeout", "20");
	ck_assert_int_eq(rc, 1);
	ck_assert_msg(strstr(err, "mig is fatal (one-shot failed: exited with code 3)"), "%s", err);
	free(err);
	brmh_check_stop(&H);
}
END_TEST

/* "on-failure": the run is retried start_retries times, then fatal with
 * its last exit code. A run that outlives start_secs still counts, also
 * with min_uptime_secs 0 (which would otherwise forget failed starts as
 * soon as a run is up). */
START_TEST(on_failure_retries_then_fatal)
{
	cJSON *s;

	brmh_check_start(&H,
		"{\"processes\": {"
		" \"mig\": {\"type\": \"oneshot\", \"restart\": \"on-failure\", \"start_retries\": 2,"
		"   \"backoff_secs\": 0.05, \"start_secs\": 0.05, \"min_uptime_secs\": 0,"
		"   \"cmd\": [\"%s\", \"exit\", \"5\", \"0.15\"]}"
		"}}", brmh_child());
	ck_assert(brmh_wait_state(&H, "mig", "fatal", 10000));
	s = brmh_status(&H, "mig");
	ck_assert_int_eq(brmh_int(s, "exit_code"), 5);
	ck_assert_str_eq(brmh_str(s, "restart"), "on-failure");
	ck_assert_str_eq(brmh_str(s, "error"), "one-shot failed: exited with code 5 (run 3 of 3)");
	cJSON_Delete(s);
	ck_assert_int_eq(count_events("mig", "starting", NULL), 3);
	ck_assert_int_eq(count_events("mig", "backoff", "one-shot failed: exited with code 5; retry"), 2);
	ck_assert_int_eq(count_events("mig", "starting", "one-shot started (retry"), 2);
	brmh_check_stop(&H);
}
END_TEST

START_TEST(config_type_checked)
{
	const char *text =
		"{\"processes\": {"
		" \"a\": {\"cmd\": [\"x\"], \"type\": \"oneshot\", \"restart\": \"always\"},"
		" \"b\": {\"cmd\": [\"x\"], \"type\": \"one-shot\"},"
		" \"c\": {\"cmd\": [\"x\"], \"type\": 1},"
		" \"d\": {\"cmd\": [\"x\"], \"type\": \"oneshot\"},"
		" \"e\": {\"cmd\": [\"x\"], \"type\": \"oneshot\", \"restart\": \"on-failure\"},"
		" \"f\": {\"cmd\": [\"x\"], \"type\": \"simple\"}"
		"}}";
	const char *good = "{\"processes\": {"
		" \"d\": {\"cmd\": [\"x\"], \"type\": \"oneshot\"},"
		" \"e\": {\"cmd\": [\"x\"], \"type\": \"oneshot\", \"restart\": \"on-failure\"},"
		" \"f\": {\"cmd\": [\"x\"], \"type\": \"simple\"}, \"g\": {\"cmd\": [\"x\"]}}}";
	struct brm_config *cfg = NULL;
	char *err = NULL;
	cJSON *r;
	int code;

	ck_assert_int_lt(brm_config_parse(text, strlen(text), "t.json", &cfg, &err), 0);
	ck_assert_msg(strstr(err, "t.json: processes.a.restart: \"always\" does not go with"
			     " \"type\": \"oneshot\""), "got: %s", err);
	ck_assert_msg(strstr(err, "t.json: processes.b.type: expected \"simple\" or \"oneshot\","
			     " got \"one-shot\""), "got: %s", err);
	ck_assert_msg(strstr(err, "t.json: processes.c.type: expected \"simple\" or \"oneshot\","
			     " got a number"), "got: %s", err);
	ck_assert_msg(!strstr(err, "processes.d") && !strstr(err, "processes.e") &&
		      !strstr(err, "processes.f"), "got: %s", err);
	free(err);

	err = NULL;
	ck_assert_int_eq(brm_config_parse(good, strlen(good), "t.json", &cfg, &err), 0);
	ck_assert_int_eq(cfg->procs[0]->type, BRM_TYPE_ONESHOT);
	ck_assert_int_eq(cfg->procs[0]->restart, BRM_RESTART_NEVER);
	ck_assert_int_eq(cfg->procs[1]->restart, BRM_RESTART_ON_FAILURE);
	ck_assert_int_eq(cfg->procs[2]->type, BRM_TYPE_SIMPLE);
	ck_assert_int_eq(cfg->procs[3]->type, BRM_TYPE_SIMPLE);
	ck_assert_int_eq(cfg->procs[3]->restart, BRM_RESTART_ON_FAILURE);
	brm_config_destroy(cfg);

	/* The same check on an `add`. */
	brmh_check_start(&H, "{}");
	r = brmh_call(&H, "add", "{\"name\":\"job\",\"spec\":{\"cmd\":[\"true\"],"
		      "\"type\":\"oneshot\",\"restart\":\"always\"}}");
	brmh_result(r, &code);
	ck_assert_int_eq(code, -32602);
	ck_assert_msg(strstr(brmh_str(error_of(r), "message"),
			     "params.spec.restart: \"always\" does not go with \"type\": \"oneshot\""),
		      "%s", brmh_str(error_of(r), "message"));
	cJSON_Delete(r);
	brmh_check_stop(&H);
}
END_TEST

/*
 * wait --state running ends as soon as one target cannot get there, while
 * another is still on its way (starting for 30 s): a fatal process, a
 * failed one-shot, a process stopped by request. Without that, each wait
 * would last until its timeout (20 s).
 */
START_TEST(wait_running_fails_fast)
{
	static const char *const cases[][2] = {
		{ "crash", "crash is fatal" },
		{ "mig", "mig is fatal (one-shot failed: exited with code 7)" },
		{ "held", "held is stopped" },
	};
	cJSON *r;
	char *err = NULL;
	int rc, code;
	double t0, took;

	brmh_check_start(&H,
		"{\"processes\": {"
		" \"slow\": {\"cmd\": [\"%s\", \"sleep\", \"60\"], \"start_secs\": 30},"
		" \"crash\": {\"cmd\": [\"%s\", \"exit\", \"1\"], \"start_retries\": 0},"
		" \"mig\": {\"type\": \"oneshot\", \"cmd\": [\"%s\", \"exit\", \"7\"]},"
		" \"held\": {\"cmd\": [\"%s\", \"sleep\", \"60\"], \"start_secs\": 0},"
		" \"long\": {\"type\": \"oneshot\", \"cmd\": [\"%s\", \"exit\", \"0\", \"60\"],"
		"   \"start_secs\": 0}"
		"}}", brmh_child(), brmh_child(), brmh_child(), brmh_child(), brmh_child());
	ck_assert(brmh_wait_state(&H, "crash", "fatal", 5000));
	ck_assert(brmh_wait_state(&H, "mig", "fatal", 5000));
	r = brmh_call(&H, "stop", "{\"name\":\"held\",\"wait\":true}");
	brmh_result(r, &code);
	ck_assert_int_eq(code, 0);
	cJSON_Delete(r);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char params[256];

		snprintf(params, sizeof(params),
			 "{\"names\":[\"slow\",\"%s\"],\"state\":\"running\",\"timeout_secs\":20}",
			 cases[i][0]);
		t0 = now_secs();
		r = brmh_call(&H, "wait", params);
		took = now_secs() - t0;
		brmh_result(r, &code);
		ck_assert_msg(code == -32002, "%s: code %d", cases[i][0], code);
		ck_assert_msg(took < 8.0, "%s: the wait took %.1fs", cases[i][0], took);
		ck_assert_msg(strstr(brmh_str(error_of(r), "message"), cases[i][1]), "%s",
			      brmh_str(error_of(r), "message"));
		ck_assert_msg(strstr(brmh_str(error_of(r), "message"), "not there yet: slow is starting"),
			      "%s", brmh_str(error_of(r), "message"));
		ck_assert(listed_failed(r, cases[i][0]));
		ck_assert(!listed_failed(r, "slow"));
		cJSON_Delete(r);
	}

	/* A one-shot still running is on its way to "running": a timeout says so. */
	r = brmh_call(&H, "wait", "{\"name\":\"long\",\"state\":\"running\",\"timeout_secs\":0.3}");
	brmh_result(r, &code);
	ck_assert_int_eq(code, -32005);
	ck_assert_msg(strstr(brmh_str(error_of(r), "message"),
			     "long is running, a one-shot not completed yet"), "%s",
		      brmh_str(error_of(r), "message"));
	cJSON_Delete(r);

	/* brummctl, on all of them */
	t0 = now_secs();
	rc = CTL(&err, "wait", "--all", "--state", "running", "--timeout", "20");
	took = now_secs() - t0;
	ck_assert_int_eq(rc, 1);
	ck_assert_msg(took < 8.0, "brummctl wait --all took %.1fs", took);
	ck_assert_msg(strstr(err, "crash is fatal") && strstr(err, "mig is fatal") &&
		      strstr(err, "held is stopped"), "%s", err);
	free(err);

	/* start fails as soon as one target is fatal, too. */
	t0 = now_secs();
	r = brmh_call(&H, "start", "{\"names\":[\"slow\",\"mig\"],\"wait\":true,\"timeout_secs\":20}");
	took = now_secs() - t0;
	brmh_result(r, &code);
	ck_assert_int_eq(code, -32002);
	ck_assert_msg(took < 8.0, "start took %.1fs", took);
	ck_assert(listed_failed(r, "mig"));
	cJSON_Delete(r);
	brmh_check_stop(&H);
}
END_TEST

/* brummctl add --type oneshot: the job runs, completes, and start knows it. */
START_TEST(ctl_add_type)
{
	char *out = NULL, *err = NULL;
	cJSON *s;
	int rc;

	brmh_check_start(&H, "{}");
	rc = brmh_ctl(&H, &out, &err, "add", "job", "--type", "oneshot", "--", brmh_child(),
		      "exit", "0", "0.2", NULL);
	ck_assert_msg(rc == 0, "add: rc %d: %s", rc, err);
	free(out);
	free(err);
	rc = CTL(&err, "start", "job", "--timeout", "20");
	ck_assert_msg(rc == 0, "start job: rc %d: %s", rc, err);
	free(err);
	s = brmh_status(&H, "job");
	ck_assert_str_eq(brmh_str(s, "type"), "oneshot");
	ck_assert_str_eq(brmh_str(s, "state"), "exited");
	ck_assert_str_eq(brmh_str(s, "restart"), "never");
	cJSON_Delete(s);

	/* The status table says what it is. */
	rc = brmh_ctl(&H, &out, &err, "status", "job", NULL);
	ck_assert_msg(rc == 0, "status: rc %d: %s", rc, err);
	ck_assert_msg(strstr(out, "one-shot, completed"), "%s", out);
	free(out);
	free(err);

	/* With start_secs 0 a run starts as running: still "one-shot started". */
	rc = brmh_ctl(&H, &out, &err, "add", "quick", "--type", "oneshot", "--start-secs", "0",
		      "--", brmh_child(), "exit", "0", "0.1", NULL);
	ck_assert_msg(rc == 0, "add: rc %d: %s", rc, err);
	free(out);
	free(err);
	ck_assert(brmh_wait_state(&H, "quick", "exited", 5000));
	ck_assert_int_eq(count_events("quick", "running", "one-shot started"), 1);
	ck_assert_int_eq(count_events("quick", "exited", "one-shot completed"), 1);

	rc = CTL(&err, "add", "bad", "--type", "one-shot", "--", "true");
	ck_assert_int_eq(rc, 2);
	ck_assert_msg(strstr(err, "invalid --type 'one-shot' (expected simple or oneshot)"), "%s",
		      err);
	free(err);
	rc = CTL(&err, "add", "loop", "--type", "oneshot", "--restart", "always", "--", "true");
	ck_assert_int_eq(rc, 1);
	ck_assert_msg(strstr(err, "restart: \"always\" does not go with \"type\": \"oneshot\""),
		      "%s", err);
	free(err);
	brmh_check_stop(&H);
}
END_TEST

static Suite *oneshot_suite(void)
{
	Suite *s = suite_create("oneshot");
	TCase *tc = tcase_create("oneshot");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, completed_oneshot_counts_as_up);
	tcase_add_test(tc, failed_oneshot_fails_them);
	tcase_add_test(tc, on_failure_retries_then_fatal);
	tcase_add_test(tc, config_type_checked);
	tcase_add_test(tc, wait_running_fails_fast);
	tcase_add_test(tc, ctl_add_type);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(oneshot_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
