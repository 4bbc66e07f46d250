/*
 * test_mut_health.c — health check behaviour `make mutate` found unpinned
 * (tests/mutations.txt): `retries` counts failed probes in a row, so a
 * passing probe starts the count again.
 * End to end: a real brummd, an exec probe that fails twice, then passes.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/e2e.h"
#include "tests/harness.h"
#include "tests/suite.h"

static struct brmh H;

/*
 * Scratch files of the tests, in one directory main() makes before the
 * tests run (brmh_tmpdir: removed when main's process ends): a test that
 * fails exits at once (its own process, in Check's fork mode) and could
 * not clean up itself.
 */
static char scratch[64];

static void scratch_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", scratch, name);
}

/*
 * Probes fail, fail, pass, fail, fail, pass... with retries 3: never three
 * failures in a row, so the process never turns unhealthy, and the
 * on_unhealthy restart never comes. Counting failures in total would
 * restart it at the fourth probe.
 */
START_TEST(a_passing_probe_starts_the_failure_count_again)
{
	char counter[512];
	char *text = NULL;
	long pid1;
	cJSON *s;

	scratch_path(counter, sizeof(counter), "probe-n");
	brmh_check_start(&H,
		"{\"processes\": {\"p\": {\"cmd\": [\"%s\", \"sleep\", \"60\"], \"start_secs\": 0,"
		" \"health\": {\"exec\": [\"/bin/sh\", \"-c\", \"n=$(cat %s 2>/dev/null || echo 0);"
		" n=$((n+1)); echo $n > %s; [ $((n %% 3)) -eq 0 ]\"],"
		" \"interval_secs\": 0.05, \"retries\": 3, \"on_unhealthy\": \"restart\"}}}}",
		brmh_child(), counter, counter);
	ck_assert(brmh_wait_state(&H, "p", "running", 3000));
	s = brmh_status(&H, "p");
	ck_assert_ptr_nonnull(s);
	pid1 = brmh_int(s, "pid");
	cJSON_Delete(s);
	/* Twelve probes: four rounds of fail, fail, pass. */
	for (int waited = 0; waited < 10000; waited += 20) {
		free(text);
		text = brmh_read_file(counter);
		if (text && atoi(text) >= 12)
			break;
		brmh_sleep_ms(20);
	}
	ck_assert_msg(text && atoi(text) >= 12, "the probe ran %s times in 10 s",
		      text ? text : "0");
	free(text);
	s = brmh_status(&H, "p");
	ck_assert_ptr_nonnull(s);
	ck_assert_msg(brmh_int(s, "restarts") == 0 && brmh_int(s, "pid") == pid1,
		      "restarted as unhealthy (restarts %ld, pid %ld -> %ld) with never more"
		      " than 2 failed probes in a row, retries 3",
		      brmh_int(s, "restarts"), pid1, brmh_int(s, "pid"));
	cJSON_Delete(s);
	brmh_check_stop(&H);
}
END_TEST

Suite *brm_test_suite(void)
{
	const TTest *const tests[] = { a_passing_probe_starts_the_failure_count_again, NULL };

	if (!brmh_tmpdir(scratch, sizeof(scratch), "brmtest.mut")) {
		perror("mkdtemp");
		return NULL;
	}
	return brm_test_one_case("mut-health", "retries", 30, tests);
}
