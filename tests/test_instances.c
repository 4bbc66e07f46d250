/*
 * test_instances.c — "instances": N end to end: N copies named NAME:i with
 * BRUMMD_INSTANCE=i, scaled up and down by reload without touching the
 * copies that stay, and the group name ("web") addressing the copies.
 */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "daemon/conf/config.h"
#include "tests/e2e.h"
#include "tests/harness.h"
#include "tests/suite.h"

static struct brmh H;

static const char *config(int n)
{
	static char buf[1024];

	snprintf(buf, sizeof(buf), "{\"processes\":{\"web\":{\"cmd\":\"echo inst=$BRUMMD_INSTANCE;"
		 " exec %s sleep 3600\",\"shell\":true,\"start_secs\":0,\"instances\":%d},"
		 "\"db\":{\"cmd\":[\"%s\",\"sleep\",\"3600\"],\"start_secs\":0}}}",
		 brmh_child(), n, brmh_child());
	return buf;
}

static void write_config(int n)
{
	char path[320];
	FILE *f;

	snprintf(path, sizeof(path), "%s/brummd.json", H.dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(config(n), f);
	fclose(f);
}

static bool exists(const char *name)
{
	char params[96];
	cJSON *r;
	int code;

	snprintf(params, sizeof(params), "{\"name\":\"%s\"}", name);
	r = brmh_call(&H, "status", params);
	brmh_result(r, &code);
	cJSON_Delete(r);
	return code == 0;
}

static const char *list(const cJSON *res, const char *key)
{
	static char buf[512];
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(res, key), *it;
	size_t o = 0;

	buf[0] = '\0';
	cJSON_ArrayForEach(it, arr)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s", o ? "," : "",
				      it->valuestring);
	return buf;
}

/* Poll the logs of @name for "inst=@want". */
static bool saw_instance(const char *name, int want)
{
	char params[128], needle[32];

	snprintf(params, sizeof(params), "{\"name\":\"%s\",\"stream\":\"stdout\"}", name);
	snprintf(needle, sizeof(needle), "\"inst=%d\"", want);
	for (int t = 0; t < 100; t++) {
		cJSON *r = brmh_call(&H, "logs", params);
		char *text = cJSON_PrintUnformatted(r);
		bool hit = text && strstr(text, needle);

		free(text);
		cJSON_Delete(r);
		if (hit)
			return true;
		brmh_sleep_ms(20);
	}
	return false;
}

START_TEST(instances_scale_by_reload)
{
	long pids[3];
	cJSON *r;
	const cJSON *res, *ev;
	int code, st;

	ck_assert(brmh_start(&H, config(3), NULL) == 0);
	for (int i = 0; i < 3; i++) {
		char name[16];
		snprintf(name, sizeof(name), "web:%d", i);
		ck_assert(brmh_wait_state(&H, name, "running", 3000));
		ck_assert_msg(saw_instance(name, i), "%s did not get BRUMMD_INSTANCE=%d", name, i);
		pids[i] = brmh_check_pid(&H, name);
	}
	/* "web" is not a process but the group of its copies */
	r = brmh_call(&H, "status", "{\"name\":\"web\"}");
	res = brmh_result(r, &code);
	ck_assert_int_eq(code, 0);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(res, "processes")), 3);
	cJSON_Delete(r);
	ck_assert(!exists("web:3"));

	/* Up to 5: two new copies, the others keep their pids. */
	write_config(5);
	r = brmh_call(&H, "reload", NULL);
	res = brmh_result(r, &code);
	ck_assert_int_eq(code, 0);
	ck_assert_str_eq(list(res, "added"), "web:3,web:4");
	ck_assert_str_eq(list(res, "removed"), "");
	ck_assert_str_eq(list(res, "restarted"), "");
	ck_assert_str_eq(list(res, "unchanged"), "db,web:0,web:1,web:2");
	cJSON_Delete(r);
	ck_assert(brmh_wait_state(&H, "web:4", "running", 3000));
	ck_assert(saw_instance("web:4", 4));
	for (int i = 0; i < 3; i++) {
		char name[16];
		snprintf(name, sizeof(name), "web:%d", i);
		ck_assert_int_eq(brmh_check_pid(&H, name), pids[i]);
	}

	/* Down to 2: web:2..4 go, web:0 and web:1 stay as they are. */
	write_config(2);
	r = brmh_call(&H, "reload", NULL);
	res = brmh_result(r, &code);
	ck_assert_int_eq(code, 0);
	ck_assert_str_eq(list(res, "removed"), "web:2,web:3,web:4");
	ck_assert_str_eq(list(res, "unchanged"), "db,web:0,web:1");
	cJSON_Delete(r);
	for (int t = 0; t < 1000 && (exists("web:2") || exists("web:3") || exists("web:4")); t++)
		brmh_sleep_ms(10);
	ck_assert(!exists("web:2") && !exists("web:4"));
	ck_assert_int_eq(brmh_check_pid(&H, "web:0"), pids[0]);
	ck_assert_int_eq(brmh_check_pid(&H, "web:1"), pids[1]);
	ck_assert(!brmh_pid_alive((pid_t)pids[2]));

	/* events: the base name takes every instance, not "db" */
	r = brmh_call(&H, "events", "{\"name\":\"web\",\"history\":true,\"follow\":false}");
	res = brmh_result(r, &code);
	ck_assert_int_eq(code, 0);
	cJSON_ArrayForEach(ev, cJSON_GetObjectItemCaseSensitive(res, "events"))
		ck_assert_msg(!strncmp(brmh_str(ev, "name"), "web:", 4), "%s", brmh_str(ev, "name"));
	ck_assert_int_gt(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(res, "events")), 10);
	cJSON_Delete(r);

	st = brmh_stop(&H, 15000);
	ck_assert(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
}
END_TEST

static char *parse_err(const char *text)
{
	struct brm_config *cfg = NULL;
	char *err = NULL;

	if (brm_config_parse(text, strlen(text), "t.json", &cfg, &err) == 0) {
		brm_config_destroy(cfg);
		return NULL;
	}
	return err;
}

START_TEST(instances_in_the_config)
{
	struct brm_config *cfg = NULL;
	char *err = NULL;
	const char *ok = "{\"processes\":{\"w\":{\"cmd\":[\"x\"],\"instances\":2,"
			 "\"env\":{\"BRUMMD_INSTANCE\":\"9\",\"A\":\"1\"}},\"a\":{\"cmd\":[\"y\"]}}}";

	ck_assert_int_eq(brm_config_parse(ok, strlen(ok), "t.json", &cfg, &err), 0);
	ck_assert_uint_eq(cfg->nprocs, 3);
	ck_assert_str_eq(cfg->procs[0]->name, "a");
	ck_assert_str_eq(cfg->procs[1]->name, "w:0");
	ck_assert_str_eq(cfg->procs[2]->name, "w:1");
	ck_assert_str_eq(cfg->procs[2]->env[0], "BRUMMD_INSTANCE=1");
	ck_assert_str_eq(cfg->procs[2]->env[1], "A=1");
	ck_assert_ptr_null(cfg->procs[2]->env[2]);
	brm_config_destroy(cfg);

	err = parse_err("{\"processes\":{\"w\":{\"cmd\":[\"x\"],\"instances\":0}}}");
	ck_assert_msg(err && strstr(err, "processes.w.instances: expected an integer from 1 to 1000"),
		      "%s", err);
	free(err);
	err = parse_err("{\"processes\":{\"w\":{\"cmd\":[\"x\"],\"instances\":2},"
			"\"w:1\":{\"cmd\":[\"x\"]}}}");
	ck_assert_msg(err && strstr(err, "processes.w:1: defined twice"), "%s", err);
	free(err);
	/* a bad spec is reported once, not per instance */
	err = parse_err("{\"processes\":{\"w\":{\"cmd\":[\"x\"],\"instances\":3,\"restrt\":1}}}");
	ck_assert_msg(err && strstr(err, "restrt") && !strstr(strstr(err, "restrt") + 1, "restrt"),
		      "%s", err);
	free(err);
}
END_TEST

BRM_TEST_CASE("instances", "instances", 20,
	instances_in_the_config,
	instances_scale_by_reload);
