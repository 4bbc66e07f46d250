/*
 * stress_cycles.c — 10,000 spawn/exit cycles against a real brummd (make
 * stress; too long for make check, which has a few hundred in
 * test_children_faults.c).
 *
 * Two processes restart as fast as brummd allows (backoff off, and
 * min_uptime_secs 0 so a quick exit is not a failed start): one whose
 * child exits at once, one whose child also writes a line first (log
 * capture and the events history on every cycle). When they have gone
 * round STRESS_SPAWNS times (default 10,000) between them: brummd answers,
 * has no zombie child, holds no more descriptors than before (counted in
 * /proc/PID/fd), and its RSS grew by less than 8 MiB.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/e2e.h"
#include "tests/harness.h"

static struct brmh H;

static long restarts_of(const char *name)
{
	cJSON *s = brmh_status(&H, name);
	long n = brmh_int(s, "restarts");

	cJSON_Delete(s);
	return n;
}

static void call_ok(const char *method, const char *params)
{
	cJSON *r = brmh_call(&H, method, params);
	int code;

	ck_assert_msg(brmh_result(r, &code) && code == 0, "%s %s failed (%d)", method,
		      params ? params : "", code);
	cJSON_Delete(r);
}

START_TEST(ten_thousand_spawn_exit_cycles)
{
	const char *env = getenv("STRESS_SPAWNS");
	long want = env ? atol(env) : 10000, done = 0, last = -1;
	int fds0, fds1 = -1, zombies = -1;
	long rss0, rss1;
	time_t t0 = time(NULL), stall = t0;
	char params[1024];

	brmh_check_start(&H, "{}");
	/* warm up: libuv's EMFILE reserve and the thread pool open once */
	snprintf(params, sizeof(params), "{\"name\":\"warm\",\"spec\":{\"cmd\":[\"%s\",\"exit\","
		 "\"0\"],\"restart\":\"never\"}}", brmh_child());
	call_ok("add", params);
	ck_assert(brmh_wait_state(&H, "warm", "exited", 3000));
	call_ok("remove", "{\"name\":\"warm\"}");
	brmh_sleep_ms(200);
	fds0 = brmh_fd_count(H.pid);
	rss0 = brmh_rss_kb(H.pid);

	call_ok("add", "{\"name\":\"quiet\",\"spec\":{\"cmd\":[\"true\"],\"restart\":\"always\","
		"\"start_secs\":0,\"backoff_secs\":0,\"min_uptime_secs\":0}}");
	call_ok("add", "{\"name\":\"chatty\",\"spec\":{\"cmd\":\"echo cycle\",\"shell\":true,"
		"\"restart\":\"always\",\"start_secs\":0,\"backoff_secs\":0,\"min_uptime_secs\":0}}");
	while (done < want) {
		brmh_sleep_ms(250);
		done = restarts_of("quiet") + restarts_of("chatty");
		if (done != last) {
			last = done;
			stall = time(NULL);
		}
		ck_assert_msg(time(NULL) - stall < 10, "no restart in 10 s, at %ld", done);
	}
	call_ok("stop", "{\"all\":true,\"wait\":true,\"timeout_secs\":10}");
	fprintf(stderr, "stress: %ld spawn/exit cycles in %ld s\n", done, (long)(time(NULL) - t0));
	call_ok("remove", "{\"name\":\"quiet\"}");
	call_ok("remove", "{\"name\":\"chatty\"}");
	call_ok("ping", NULL);
	brmh_wait_settled(H.pid, fds0, &fds1, &zombies);
	rss1 = brmh_rss_kb(H.pid);
	fprintf(stderr, "stress: fds %d -> %d, zombies %d, RSS %ld -> %ld KiB\n", fds0, fds1,
		zombies, rss0, rss1);
	ck_assert_int_eq(zombies, 0);
	ck_assert_int_le(fds1, fds0);
	ck_assert_msg(getenv("TSAN_OPTIONS") || rss1 - rss0 < 8 * 1024,
		      "RSS grew from %ld to %ld KiB", rss0, rss1);
	brmh_check_stop(&H);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("stress");
	TCase *tc = tcase_create("cycles");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, ten_thousand_spawn_exit_cycles);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
