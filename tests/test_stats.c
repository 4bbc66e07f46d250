/*
 * test_stats.c — CPU and memory in `status` with "stats": true, end to
 * end: a child that burns a known amount of CPU, one that touches a known
 * amount of memory, a process group whose members are summed, a stopped
 * process (nulls), and the CPU and MEM columns of brummctl status.
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

#define MIB (1024.0 * 1024.0)

static struct brmh H;

static double num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

/* status NAME with stats; caller deletes *reply. */
static const cJSON *stats_of(cJSON **reply, const char *name)
{
	char params[128];
	const cJSON *res;
	int code;

	snprintf(params, sizeof(params), "{\"name\":\"%s\",\"stats\":true}", name);
	*reply = brmh_call(&H, "status", params);
	res = brmh_result(*reply, &code);
	ck_assert_int_eq(code, 0);
	return res;
}

START_TEST(cpu_of_a_burning_child)
{
	char cfg[2048];
	cJSON *r;
	const cJSON *s;
	double secs = 0, pct_busy = -1;

	snprintf(cfg, sizeof(cfg), "{\"processes\":{\"burn\":{\"cmd\":[\"%s\",\"burn\",\"1.0\"],"
		 "\"start_secs\":0}}}", brmh_child());
	ck_assert(brmh_start(&H, cfg, NULL) == 0);
	ck_assert(brmh_wait_state(&H, "burn", "running", 3000));
	/* While it burns: its share of a CPU is high. */
	for (int t = 0; t < 100 && secs < 0.6; t++) {
		brmh_sleep_ms(100);
		s = stats_of(&r, "burn");
		secs = num(s, "cpu_secs");
		if (secs > 0.3 && secs < 0.9 && num(s, "cpu_percent") > pct_busy)
			pct_busy = num(s, "cpu_percent");
		cJSON_Delete(r);
	}
	ck_assert_msg(pct_busy > 30, "cpu_percent while burning: %g", pct_busy);
	/* Once done: the total is what it burnt, and the recent share is ~0. */
	for (int t = 0; t < 100; t++) {
		brmh_sleep_ms(100);
		s = stats_of(&r, "burn");
		secs = num(s, "cpu_secs");
		cJSON_Delete(r);
		if (secs >= 0.95)   /* ticks of 10 ms: 0.99 for 1.0 s */
			break;
	}
	ck_assert_msg(secs >= 0.95 && secs < 1.3, "cpu_secs %g", secs);
	brmh_sleep_ms(1100);
	s = stats_of(&r, "burn");
	cJSON_Delete(r);
	brmh_sleep_ms(400);
	s = stats_of(&r, "burn");
	ck_assert_msg(num(s, "cpu_percent") >= 0 && num(s, "cpu_percent") < 10,
		      "cpu_percent when idle: %g", num(s, "cpu_percent"));
	cJSON_Delete(r);
	brmh_check_stop(&H);
}
END_TEST

START_TEST(memory_of_a_child_and_a_group)
{
	char cfg[2048];
	cJSON *r;
	const cJSON *s, *procs;
	char *out = NULL, *err = NULL;
	int rc, code;
	double rss = 0;

	snprintf(cfg, sizeof(cfg),
		 "{\"processes\":{\"mem\":{\"cmd\":[\"%s\",\"alloc\",\"48\"],\"start_secs\":0},"
		 "\"grp\":{\"cmd\":\"%s alloc 16 & %s alloc 16 & wait\",\"shell\":true,"
		 "\"start_secs\":0},"
		 "\"off\":{\"cmd\":[\"%s\",\"sleep\",\"10\"],\"autostart\":false}}}",
		 brmh_child(), brmh_child(), brmh_child(), brmh_child());
	ck_assert(brmh_start(&H, cfg, NULL) == 0);
	ck_assert(brmh_wait_state(&H, "mem", "running", 3000));
	for (int t = 0; t < 50 && rss < 48 * MIB; t++) {
		brmh_sleep_ms(100);
		s = stats_of(&r, "mem");
		rss = num(s, "rss_bytes");
		cJSON_Delete(r);
	}
	ck_assert_msg(rss >= 48 * MIB && rss < 64 * MIB, "rss_bytes %g MiB", rss / MIB);

	/* The shell and its two children: summed over the process group. */
	rss = 0;
	for (int t = 0; t < 50 && rss < 32 * MIB; t++) {
		brmh_sleep_ms(100);
		s = stats_of(&r, "grp");
		rss = num(s, "rss_bytes");
		cJSON_Delete(r);
	}
	/* below 64: not counted twice (a sanitizer's runtime adds ~9 MiB a process) */
	ck_assert_msg(rss >= 32 * MIB && rss < 64 * MIB, "group rss_bytes %g MiB", rss / MIB);

	/* No process: nulls. Without "stats": no such fields at all. */
	s = stats_of(&r, "off");
	ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(s, "rss_bytes")));
	ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(s, "cpu_percent")));
	cJSON_Delete(r);
	r = brmh_call(&H, "status", "{\"name\":\"mem\"}");
	ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(brmh_result(r, &code), "rss_bytes"));
	cJSON_Delete(r);
	/* status of all and of names with stats */
	r = brmh_call(&H, "status", "{\"stats\":true}");
	procs = cJSON_GetObjectItemCaseSensitive(brmh_result(r, &code), "processes");
	ck_assert_int_eq(cJSON_GetArraySize(procs), 3);
	ck_assert(num(cJSON_GetArrayItem(procs, 1), "rss_bytes") >= 48 * MIB);   /* mem */
	cJSON_Delete(r);
	r = brmh_call(&H, "status", "{\"names\":[\"mem\",\"nope\"],\"stats\":true}");
	brmh_result(r, &code);
	ck_assert_int_eq(code, -32001);
	cJSON_Delete(r);
	r = brmh_call(&H, "status", "{\"stats\":1}");
	brmh_result(r, &code);
	ck_assert_int_eq(code, -32602);
	cJSON_Delete(r);

	/* Not a terminal here: no CPU/MEM unless asked (brummd reads /proc for
	 * each process it reports), and with --stats the columns are there. */
	rc = brmh_ctl(&H, &out, &err, "status", NULL);
	ck_assert_int_eq(rc, 0);
	ck_assert_msg(!strstr(out, "CPU") && !strstr(out, "MEM"), "%s", out);
	free(out);
	free(err);
	rc = brmh_ctl(&H, &out, &err, "status", "--stats", NULL);
	ck_assert_int_eq(rc, 0);
	ck_assert_msg(strstr(out, "CPU") && strstr(out, "MEM") && strstr(out, "M "), "%s", out);
	free(out);
	free(err);
	rc = brmh_ctl(&H, &out, &err, "--json", "status", NULL);
	ck_assert_int_eq(rc, 0);
	ck_assert_msg(!strstr(out, "rss_bytes"), "%s", out);
	free(out);
	free(err);
	brmh_check_stop(&H);
}
END_TEST

BRM_TEST_CASE("stats", "stats", 20,
	cpu_of_a_burning_child,
	memory_of_a_child_and_a_group);
