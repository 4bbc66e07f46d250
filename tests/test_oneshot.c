/*
 * test_oneshot.c — "type": "oneshot": what the config accepts and refuses
 * ("always" with a one-shot, an unknown type), on a file and on an `add`;
 * and a wait for running that fails as soon as a target cannot get there,
 * not at its timeout.
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

static const cJSON *error_of(const cJSON *reply)
{
	return cJSON_GetObjectItemCaseSensitive(reply, "error");
}

static double now_secs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
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
 * process stopped by request. Without that, each wait
 * would last until its timeout (20 s).
 */
START_TEST(wait_running_fails_fast)
{
	static const char *const cases[][2] = {
		{ "crash", "crash is fatal" },
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
		" \"held\": {\"cmd\": [\"%s\", \"sleep\", \"60\"], \"start_secs\": 0}"
		"}}", brmh_child(), brmh_child(), brmh_child());
	ck_assert(brmh_wait_state(&H, "crash", "fatal", 5000));
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

	/* brummctl, on all of them */
	t0 = now_secs();
	rc = CTL(&err, "wait", "--all", "--state", "running", "--timeout", "20");
	took = now_secs() - t0;
	ck_assert_int_eq(rc, 1);
	ck_assert_msg(took < 8.0, "brummctl wait --all took %.1fs", took);
	ck_assert_msg(strstr(err, "crash is fatal") && strstr(err, "held is stopped"), "%s", err);
	free(err);

	/* start fails as soon as one target is fatal, too. */
	t0 = now_secs();
	r = brmh_call(&H, "start", "{\"names\":[\"slow\",\"crash\"],\"wait\":true,\"timeout_secs\":20}");
	took = now_secs() - t0;
	brmh_result(r, &code);
	ck_assert_int_eq(code, -32002);
	ck_assert_msg(took < 8.0, "start took %.1fs", took);
	ck_assert(listed_failed(r, "crash"));
	cJSON_Delete(r);
	brmh_check_stop(&H);
}
END_TEST

static Suite *oneshot_suite(void)
{
	Suite *s = suite_create("oneshot");
	TCase *tc = tcase_create("oneshot");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, config_type_checked);
	tcase_add_test(tc, wait_running_fails_fast);
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
