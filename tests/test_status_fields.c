/*
 * test_status_fields.c — `status` {"fields": [...]} against a real brummd:
 * only the members asked for (and "name"), the same values as a full
 * reply, with and without stats, for one process, a pattern and all;
 * every member of a full reply can be asked for (so a new SNAP member
 * missing from lib/snapjson.c's list fails here); wrong fields get an
 * invalid-params error that names them, and the daemon goes on.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "tests/e2e.h"
#include "tests/harness.h"
#include "tests/suite.h"

static struct brmh H;

static void start_two(void)
{
	brmh_check_start(&H,
		"{\"processes\":{"
		"\"web\":{\"cmd\":[\"%s\",\"print\",\"out\",\"listening on http://localhost:3999/\","
		"\"sleep\",\"60\"],\"start_secs\":0},"
		"\"idle\":{\"cmd\":[\"%s\",\"sleep\",\"60\"],\"autostart\":false,"
		"\"critical\":true}}}",
		brmh_child(), brmh_child());
	ck_assert(brmh_wait_state(&H, "web", "running", 5000));
}

/* The member names of @obj, in order, joined by ",". Caller frees. */
static char *keys(const cJSON *obj)
{
	const cJSON *it;
	char *s = calloc(1, 1);
	size_t len = 0;

	cJSON_ArrayForEach(it, obj) {
		size_t k = strlen(it->string);

		s = realloc(s, len + k + 2);
		if (len)
			s[len++] = ',';
		memcpy(s + len, it->string, k + 1);
		len += k;
	}
	return s;
}

static cJSON *status(const char *params)
{
	cJSON *r = brmh_call(&H, "status", params);
	const cJSON *res;
	int code;

	ck_assert_ptr_nonnull(r);
	res = brmh_result(r, &code);
	ck_assert_msg(code == 0, "status %s: error %d", params, code);
	ck_assert_ptr_nonnull(res);
	return r;
}

START_TEST(only_the_fields_asked_for)
{
	cJSON *full, *part, *all;
	const cJSON *f, *p, *procs, *it;
	char *k;

	start_two();
	/* the URL line is read after "running": wait for it */
	for (int i = 0;; i++) {
		full = status("{\"name\":\"web\"}");
		if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
			    cJSON_GetObjectItemCaseSensitive(full, "result"), "urls")) == 1)
			break;
		cJSON_Delete(full);
		ck_assert_int_lt(i, 250);
		brmh_sleep_ms(20);
	}
	part = status("{\"name\":\"web\",\"fields\":[\"pid\",\"urls\",\"state\",\"log_dropped\"]}");
	f = cJSON_GetObjectItemCaseSensitive(full, "result");
	p = cJSON_GetObjectItemCaseSensitive(part, "result");
	/* SNAP's order, whatever the order asked in; the name always. */
	k = keys(p);
	ck_assert_str_eq(k, "name,state,pid,urls,log_dropped");
	free(k);
	ck_assert(cJSON_Compare(cJSON_GetObjectItemCaseSensitive(f, "pid"),
				cJSON_GetObjectItemCaseSensitive(p, "pid"), true));
	ck_assert(cJSON_Compare(cJSON_GetObjectItemCaseSensitive(f, "urls"),
				cJSON_GetObjectItemCaseSensitive(p, "urls"), true));
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(p, "urls")), 1);
	cJSON_Delete(part);

	/* With stats: the stats members are filtered the same way. */
	part = status("{\"name\":\"web\",\"stats\":true,\"fields\":[\"rss_bytes\",\"restarts\"]}");
	k = keys(cJSON_GetObjectItemCaseSensitive(part, "result"));
	ck_assert_str_eq(k, "name,restarts,rss_bytes");
	free(k);
	ck_assert(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(part, "result"), "rss_bytes")));
	cJSON_Delete(part);
	part = status("{\"name\":\"web\",\"stats\":true,\"fields\":[\"state\"]}");
	k = keys(cJSON_GetObjectItemCaseSensitive(part, "result"));
	ck_assert_str_eq(k, "name,state");
	free(k);
	cJSON_Delete(part);

	/* "critical" comes from the spec. */
	part = status("{\"names\":[\"idle\",\"web\"],\"fields\":[\"critical\"]}");
	procs = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(part, "result"),
						 "processes");
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(procs, 0),
								"critical")));
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(procs, 1),
								 "critical")));
	cJSON_Delete(part);

	/* All, and a pattern: every SNAP cut the same way. */
	all = status("{\"fields\":[\"state\",\"exit_code\"]}");
	procs = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(all, "result"),
						 "processes");
	ck_assert_int_eq(cJSON_GetArraySize(procs), 2);
	cJSON_ArrayForEach(it, procs) {
		k = keys(it);
		ck_assert_str_eq(k, "name,state,exit_code");
		free(k);
	}
	ck_assert_str_eq(brmh_str(cJSON_GetArrayItem(procs, 0), "state"), "stopped");
	cJSON_Delete(all);
	all = status("{\"names\":[\"w*\"],\"fields\":[]}");
	procs = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(all, "result"),
						 "processes");
	ck_assert_int_eq(cJSON_GetArraySize(procs), 1);
	k = keys(cJSON_GetArrayItem(procs, 0));
	ck_assert_str_eq(k, "name");
	free(k);
	cJSON_Delete(all);

	/* Every member of a full reply (with stats and ports) can be asked for, and
	 * asking for all of them gives the full reply. */
	cJSON_Delete(full);
	full = status("{\"name\":\"web\",\"stats\":true,\"ports\":true}");
	f = cJSON_GetObjectItemCaseSensitive(full, "result");
	{
		cJSON *params = cJSON_CreateObject(), *names = cJSON_AddArrayToObject(params, "fields");
		char *text;

		cJSON_AddStringToObject(params, "name", "web");
		cJSON_AddTrueToObject(params, "stats");
		cJSON_AddTrueToObject(params, "ports");
		cJSON_ArrayForEach(it, f)
			cJSON_AddItemToArray(names, cJSON_CreateString(it->string));
		text = cJSON_PrintUnformatted(params);
		part = status(text);
		free(text);
		cJSON_Delete(params);
	}
	k = keys(cJSON_GetObjectItemCaseSensitive(part, "result"));
	{
		char *kf = keys(f);

		ck_assert_str_eq(k, kf);
		free(kf);
	}
	free(k);
	cJSON_Delete(part);
	cJSON_Delete(full);
	brmh_check_stop(&H);
}
END_TEST

START_TEST(wrong_fields_are_named)
{
	static const struct {
		const char *params, *says;
	} bad[] = {
		{ "{\"fields\":[\"state\",\"stat\"]}", "params.fields[1]: unknown field 'stat'" },
		{ "{\"fields\":[\"state\",7]}", "params.fields[1]: not a string" },
		{ "{\"fields\":\"state\"}", "params.fields" },
		{ "{\"name\":\"web\",\"stats\":true,\"fields\":[\"cpu\"]}", "unknown field 'cpu'" },
	};
	char many[1200] = "{\"fields\":[";

	start_two();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cJSON *r = brmh_call(&H, "status", bad[i].params);
		const cJSON *err = cJSON_GetObjectItemCaseSensitive(r, "error");

		ck_assert_msg(err != NULL, "%s: no error", bad[i].params);
		ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(err, "code")->valueint, -32602);
		ck_assert_msg(strstr(brmh_str(err, "message"), bad[i].says), "%s: %s", bad[i].params,
			      brmh_str(err, "message"));
		cJSON_Delete(r);
	}
	/* More names than a SNAP could ever have: refused, not scanned. */
	for (int i = 0; i < 65; i++)
		strcat(many, i ? ",\"pid\"" : "\"pid\"");
	strcat(many, "]}");
	{
		cJSON *r = brmh_call(&H, "status", many);
		const cJSON *err = cJSON_GetObjectItemCaseSensitive(r, "error");

		ck_assert_ptr_nonnull(err);
		ck_assert_ptr_nonnull(strstr(brmh_str(err, "message"), "at most 64"));
		cJSON_Delete(r);
	}
	/* The daemon goes on. */
	cJSON_Delete(status("{\"name\":\"web\",\"fields\":[\"state\"]}"));
	brmh_check_stop(&H);
}
END_TEST

BRM_TEST_CASE("status_fields", "fields", 30, only_the_fields_asked_for, wrong_fields_are_named);
