/*
 * test_wait.c — the `wait` method and `brummctl wait` end to end: reached,
 * timed out (with the states), impossible (fatal, no health check), and
 * several targets at once.
 */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "tests/e2e.h"
#include "tests/harness.h"
#include "tests/suite.h"

static struct brmh H;

static const char *err_message(const cJSON *reply)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(reply, "error");

	return brmh_str(e, "message");
}

START_TEST(wait_reaches_running)
{
	cJSON *r;
	const cJSON *res, *p;
	char *out = NULL, *err = NULL;
	int code, rc;

	brmh_check_start(&H, "{\"processes\":{\"a\":{\"cmd\":[\"%s\",\"sleep\",\"3600\"],\"start_secs\":0.4},"
		  "\"b\":{\"cmd\":[\"%s\",\"sleep\",\"3600\"],\"start_secs\":0.2}}}",
		  brmh_child(), brmh_child());
	r = brmh_call(&H, "wait", "{\"names\":[\"a\",\"b\"],\"state\":\"running\","
		      "\"timeout_secs\":5}");
	res = brmh_result(r, &code);
	ck_assert_msg(code == 0, "code %d", code);
	p = cJSON_GetObjectItemCaseSensitive(res, "processes");
	ck_assert_int_eq(cJSON_GetArraySize(p), 2);
	ck_assert_str_eq(brmh_str(cJSON_GetArrayItem(p, 0), "state"), "running");
	ck_assert_str_eq(brmh_str(cJSON_GetArrayItem(p, 1), "state"), "running");
	cJSON_Delete(r);

	/* brummctl: exit 0 once reached (already there), also with --all */
	rc = brmh_ctl(&H, &out, &err, "wait", "a", "--state", "running", "--timeout", "5", NULL);
	ck_assert_msg(rc == 0, "rc %d: %s", rc, err);
	ck_assert_msg(strstr(out, "running"), "%s", out);
	free(out);
	free(err);
	rc = brmh_ctl(&H, &out, &err, "wait", "--all", "--state", "running", NULL);
	ck_assert_msg(rc == 0, "rc %d: %s", rc, err);
	free(out);
	free(err);

	/* a stop request while waiting for stopped */
	r = brmh_call(&H, "stop", "{\"name\":\"b\"}");
	cJSON_Delete(r);
	r = brmh_call(&H, "wait", "{\"name\":\"b\",\"state\":\"stopped\",\"timeout_secs\":5}");
	res = brmh_result(r, &code);
	ck_assert_int_eq(code, 0);
	cJSON_Delete(r);
	brmh_check_stop(&H);
}
END_TEST

START_TEST(wait_times_out_with_states)
{
	cJSON *r;
	const cJSON *e, *d;
	char *out = NULL, *err = NULL;
	int code, rc;

	brmh_check_start(&H, "{\"processes\":{\"slow\":{\"cmd\":[\"%s\",\"sleep\",\"3600\"],\"start_secs\":30}}}",
		  brmh_child());
	ck_assert(brmh_wait_state(&H, "slow", "starting", 3000));
	r = brmh_call(&H, "wait", "{\"name\":\"slow\",\"state\":\"running\",\"timeout_secs\":0.3}");
	ck_assert_ptr_null(brmh_result(r, &code));
	ck_assert_int_eq(code, -32005);
	ck_assert_msg(strstr(err_message(r), "timed out after 0.3s waiting for state running: "
			     "slow is starting"), "%s", err_message(r));
	e = cJSON_GetObjectItemCaseSensitive(r, "error");
	d = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(e, "data"),
					     "processes");
	ck_assert_str_eq(brmh_str(cJSON_GetArrayItem(d, 0), "state"), "starting");
	cJSON_Delete(r);

	rc = brmh_ctl(&H, &out, &err, "wait", "slow", "--state", "running", "--timeout", "200ms",
		      NULL);
	ck_assert_int_eq(rc, 1);
	ck_assert_msg(strstr(err, "timed out") && strstr(err, "slow is starting"), "%s", err);
	free(out);
	free(err);
	brmh_check_stop(&H);
}
END_TEST

START_TEST(wait_fails_when_unreachable)
{
	cJSON *r;
	char *out = NULL, *err = NULL;
	int code, rc;

	brmh_check_start(&H, "{\"processes\":{\"bad\":{\"cmd\":[\"/nonexistent/prog\"],\"start_retries\":0,"
		  "\"backoff_secs\":0.01},"
		  "\"ok\":{\"cmd\":[\"%s\",\"sleep\",\"3600\"],\"start_secs\":0}}}", brmh_child());
	/* fatal soon: the wait fails with why, not at its timeout */
	r = brmh_call(&H, "wait", "{\"name\":\"bad\",\"state\":\"running\",\"timeout_secs\":20}");
	ck_assert_ptr_null(brmh_result(r, &code));
	ck_assert_int_eq(code, -32002);
	ck_assert_msg(strstr(err_message(r), "did not reach state running: bad is fatal (exec"),
		      "%s", err_message(r));
	cJSON_Delete(r);

	/* a health nobody reports: no health check */
	ck_assert(brmh_wait_state(&H, "ok", "running", 3000));
	r = brmh_call(&H, "wait", "{\"name\":\"ok\",\"health\":\"healthy\",\"timeout_secs\":20}");
	ck_assert_ptr_null(brmh_result(r, &code));
	ck_assert_int_eq(code, -32002);
	ck_assert_msg(strstr(err_message(r), "no health check"), "%s", err_message(r));
	cJSON_Delete(r);

	/* bad params and names */
	r = brmh_call(&H, "wait", "{\"name\":\"ok\",\"state\":\"runing\"}");
	brmh_result(r, &code);
	ck_assert_int_eq(code, -32602);
	cJSON_Delete(r);
	r = brmh_call(&H, "wait", "{\"name\":\"nope\",\"state\":\"running\"}");
	brmh_result(r, &code);
	ck_assert_int_eq(code, -32001);
	cJSON_Delete(r);

	rc = brmh_ctl(&H, &out, &err, "wait", "bad", "ok", "--state", "running", NULL);
	ck_assert_int_eq(rc, 1);
	ck_assert_msg(strstr(err, "bad is fatal"), "%s", err);
	free(out);
	free(err);
	rc = brmh_ctl(&H, &out, &err, "wait", "ok", NULL);
	ck_assert_int_eq(rc, 2);
	free(out);
	free(err);
	brmh_check_stop(&H);
}
END_TEST

BRM_TEST_CASE("wait", "wait", 20,
	wait_reaches_running,
	wait_times_out_with_states,
	wait_fails_when_unreachable);
