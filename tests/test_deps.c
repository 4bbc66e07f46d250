/*
 * test_deps.c — start-order dependencies against a real brummd: a chain
 * db -> migrate -> api with real probes (a TCP listener child), cycles
 * rejected with their path, a dependency going fatal.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/conf/config.h"
#include "tests/e2e.h"
#include "tests/harness.h"
#include "tests/suite.h"

static struct brmh H;

static int test_port(void)
{
	return 20000 + (int)(getpid() % 20000);
}

static double num_field(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

START_TEST(chain_starts_in_order)
{
	char cfg[4096];
	int port = test_port();
	cJSON *s;

	snprintf(cfg, sizeof(cfg),
		 "{\"processes\": {"
		 " \"db\": {\"cmd\": [\"%s\", \"listen\", \"%d\", \"0.3\"], \"start_secs\": 0,"
		 "   \"health\": {\"tcp\": \"127.0.0.1:%d\", \"interval_secs\": 0.05, \"timeout_secs\": 0.5}},"
		 " \"migrate\": {\"cmd\": [\"%s\", \"exit\", \"0\", \"0.2\"], \"restart\": \"never\","
		 "   \"start_secs\": 0.1, \"depends_on\": {\"db\": \"healthy\"}},"
		 " \"api\": {\"cmd\": [\"%s\", \"sleep\", \"30\"], \"start_secs\": 0,"
		 "   \"depends_on\": {\"migrate\": \"completed\", \"db\": \"running\"},"
		 "   \"health\": {\"http\": \"http://127.0.0.1:%d/health\", \"interval_secs\": 0.05}}"
		 "}}", brmh_child(), port, port, brmh_child(), brmh_child(), port);
	ck_assert_msg(brmh_start(&H, cfg, NULL) == 0, "brummd did not start (log: %s)", H.log);

	/* db is up but not healthy for 0.3 s: the others wait. */
	s = brmh_status(&H, "api");
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(brmh_str(s, "state"), "waiting");
	cJSON_Delete(s);
	s = brmh_status(&H, "migrate");
	ck_assert_str_eq(brmh_str(s, "state"), "waiting");
	cJSON_Delete(s);

	ck_assert(brmh_wait_state(&H, "migrate", "starting", 3000));
	s = brmh_status(&H, "db");
	ck_assert_str_eq(brmh_str(s, "health"), "healthy");
	ck_assert_str_eq(brmh_str(s, "health_output"), "connected");
	cJSON_Delete(s);
	s = brmh_status(&H, "api");
	ck_assert_str_eq(brmh_str(s, "state"), "waiting");
	cJSON_Delete(s);

	ck_assert(brmh_wait_state(&H, "api", "running", 3000));
	s = brmh_status(&H, "migrate");
	ck_assert_str_eq(brmh_str(s, "state"), "exited");
	ck_assert_int_eq(brmh_int(s, "exit_code"), 0);
	cJSON_Delete(s);
	{
		cJSON *db = brmh_status(&H, "db"), *api = brmh_status(&H, "api");

		ck_assert(num_field(api, "started") > num_field(db, "started") + 0.25);
		cJSON_Delete(db);
		cJSON_Delete(api);
	}
	/* the http probe against the listener */
	for (int i = 0; i < 100; i++) {
		s = brmh_status(&H, "api");
		if (brmh_str(s, "health") && !strcmp(brmh_str(s, "health"), "healthy"))
			break;
		cJSON_Delete(s);
		s = NULL;
		brmh_sleep_ms(20);
	}
	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_nonnull(strstr(brmh_str(s, "health_output"), "200"));
	cJSON_Delete(s);

	/* The order of the shutdown itself is asserted in test_behaviour
	 * (shutdown_stops_dependents_first), and of stop --all below. */
	brmh_check_stop(&H);
}
END_TEST

START_TEST(cycle_rejected_with_path)
{
	const char *text =
		"{\"processes\": {"
		" \"api\": {\"cmd\": [\"x\"], \"depends_on\": [\"migrate\"]},"
		" \"migrate\": {\"cmd\": [\"x\"], \"depends_on\": {\"api\": \"started\"}},"
		" \"web\": {\"cmd\": [\"x\"], \"depends_on\": {\"nope\": \"running\", \"api\": \"healthy\"}}"
		"}}";
	struct brm_config *cfg = NULL;
	char *err = NULL;

	ck_assert_int_lt(brm_config_parse(text, strlen(text), "t.json", &cfg, &err), 0);
	ck_assert_msg(strstr(err, "t.json: processes.api.depends_on: dependency cycle api -> migrate -> api"),
		      "got: %s", err);
	ck_assert_msg(strstr(err, "processes.web.depends_on.nope: no such process"), "got: %s", err);
	ck_assert_msg(strstr(err, "processes.web.depends_on.api: \"healthy\" needs a \"health\" check"),
		      "got: %s", err);
	free(err);
}
END_TEST

START_TEST(self_cycle_and_bad_condition)
{
	const char *text =
		"{\"processes\": {\"a\": {\"cmd\": [\"x\"], \"depends_on\": {\"a\": \"ready\"}},"
		" \"b\": {\"cmd\": [\"x\"], \"depends_on\": {\"b\": \"running\"}}}}";
	struct brm_config *cfg = NULL;
	char *err = NULL;

	ck_assert_int_lt(brm_config_parse(text, strlen(text), "t.json", &cfg, &err), 0);
	ck_assert_msg(strstr(err, "processes.a.depends_on: a: expected \"started\""), "got: %s", err);
	ck_assert_msg(strstr(err, "processes.b.depends_on: dependency cycle b -> b"), "got: %s", err);
	free(err);
}
END_TEST

START_TEST(dependency_fatal)
{
	char cfg[2048];
	cJSON *s;

	snprintf(cfg, sizeof(cfg),
		 "{\"processes\": {"
		 " \"db\": {\"cmd\": [\"%s\", \"exit\", \"3\"], \"start_retries\": 1,"
		 "   \"backoff_secs\": 0.05},"
		 " \"api\": {\"cmd\": [\"%s\", \"sleep\", \"30\"], \"depends_on\": [\"db\"]}"
		 "}}", brmh_child(), brmh_child());
	ck_assert_msg(brmh_start(&H, cfg, NULL) == 0, "brummd did not start (log: %s)", H.log);
	ck_assert(brmh_wait_state(&H, "db", "fatal", 3000));
	ck_assert(brmh_wait_state(&H, "api", "fatal", 3000));
	s = brmh_status(&H, "api");
	ck_assert_str_eq(brmh_str(s, "error"), "dependency 'db' is fatal");
	ck_assert_int_eq(brmh_int(s, "pid"), -1);
	cJSON_Delete(s);
	brmh_check_stop(&H);
}
END_TEST

START_TEST(start_one_starts_what_it_needs)
{
	char cfg[2048];
	cJSON *r;
	int code;

	snprintf(cfg, sizeof(cfg),
		 "{\"processes\": {"
		 " \"db\": {\"cmd\": [\"%s\", \"sleep\", \"30\"], \"autostart\": false, \"start_secs\": 0.1},"
		 " \"api\": {\"cmd\": [\"%s\", \"sleep\", \"30\"], \"autostart\": false,"
		 "   \"start_secs\": 0, \"depends_on\": [\"db\"]}"
		 "}}", brmh_child(), brmh_child());
	ck_assert_msg(brmh_start(&H, cfg, NULL) == 0, "brummd did not start (log: %s)", H.log);
	r = brmh_call(&H, "start", "{\"name\":\"api\",\"wait\":true,\"timeout_secs\":5}");
	brmh_result(r, &code);
	ck_assert_int_eq(code, 0);
	cJSON_Delete(r);
	r = brmh_status(&H, "db");
	ck_assert_str_eq(brmh_str(r, "state"), "running");
	cJSON_Delete(r);
	brmh_check_stop(&H);
}
END_TEST


/* The seq of the last event taking @name to @to, or -1 ("added" events
 * take a process to stopped too: the last one is the stop's). */
static long event_seq(const cJSON *events, const char *name, const char *to)
{
	const cJSON *e;
	long seq = -1;

	cJSON_ArrayForEach(e, events)
		if (!strcmp(brmh_str(e, "name"), name) && brmh_str(e, "to") &&
		    !strcmp(brmh_str(e, "to"), to))
			seq = brmh_int(e, "seq");
	return seq;
}

START_TEST(stop_all_goes_in_reverse_dependency_order)
{
	char cfg[2048];
	const cJSON *res, *events;
	cJSON *r;
	int code;

	/* api needs db; db ignores nothing but must wait for api to be down. */
	snprintf(cfg, sizeof(cfg),
		 "{\"processes\": {"
		 " \"db\": {\"cmd\": [\"%s\", \"sleep\", \"30\"], \"start_secs\": 0},"
		 " \"api\": {\"cmd\": [\"%s\", \"ignore-term\"], \"start_secs\": 0,"
		 "   \"stop_timeout_secs\": 0.3, \"depends_on\": [\"db\"]}"
		 "}}", brmh_child(), brmh_child());
	ck_assert_msg(brmh_start(&H, cfg, NULL) == 0, "brummd did not start (log: %s)", H.log);
	ck_assert(brmh_wait_state(&H, "api", "running", 5000));
	/* its readiness line: SIG_IGN is set */
	free(brmh_wait_log(&H, "api", "ignoring TERM", 3000));
	r = brmh_call(&H, "stop", "{\"all\":true,\"wait\":true,\"timeout_secs\":10}");
	brmh_result(r, &code);
	ck_assert_int_eq(code, 0);
	cJSON_Delete(r);
	r = brmh_call(&H, "events", "{\"history\":true,\"follow\":false}");
	res = brmh_result(r, &code);
	ck_assert_int_eq(code, 0);
	events = cJSON_GetObjectItemCaseSensitive(res, "events");
	/* db is signalled only once api (SIGKILLed after 0.3 s) is stopped. */
	ck_assert_msg(event_seq(events, "api", "stopped") > 0 &&
		      event_seq(events, "db", "stopping") > event_seq(events, "api", "stopped"),
		      "api stopped at %ld, db stopping at %ld", event_seq(events, "api", "stopped"),
		      event_seq(events, "db", "stopping"));
	cJSON_Delete(r);
	brmh_check_stop(&H);
}
END_TEST

START_TEST(completed_unsuccessfully)
{
	char cfg[2048];
	cJSON *s;

	snprintf(cfg, sizeof(cfg),
		 "{\"processes\": {"
		 " \"migrate\": {\"cmd\": [\"%s\", \"exit\", \"4\", \"0.1\"], \"restart\": \"never\","
		 "   \"start_secs\": 0},"
		 " \"api\": {\"cmd\": [\"%s\", \"sleep\", \"30\"], \"depends_on\": {\"migrate\": \"completed\"}}"
		 "}}", brmh_child(), brmh_child());
	ck_assert_msg(brmh_start(&H, cfg, NULL) == 0, "brummd did not start (log: %s)", H.log);
	ck_assert(brmh_wait_state(&H, "api", "fatal", 3000));
	s = brmh_status(&H, "api");
	ck_assert_str_eq(brmh_str(s, "error"),
			 "dependency 'migrate' did not complete: exited with code 4");
	cJSON_Delete(s);
	brmh_check_stop(&H);
}
END_TEST

BRM_TEST_CASE("deps", "deps", 20,
	chain_starts_in_order,
	cycle_rejected_with_path,
	self_cycle_and_bad_condition,
	dependency_fatal,
	start_one_starts_what_it_needs,
	stop_all_goes_in_reverse_dependency_order,
	completed_unsuccessfully);
