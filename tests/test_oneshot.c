/*
 * test_oneshot.c — "type": "oneshot": what the config accepts and refuses
 * ("always" with a one-shot, an unknown type), on a file and on an `add`.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/config.h"
#include "tests/e2e.h"
#include "tests/harness.h"

static struct brmh H;

static const cJSON *error_of(const cJSON *reply)
{
	return cJSON_GetObjectItemCaseSensitive(reply, "error");
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

static Suite *oneshot_suite(void)
{
	Suite *s = suite_create("oneshot");
	TCase *tc = tcase_create("oneshot");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, config_type_checked);
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
