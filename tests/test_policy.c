/*
 * test_policy.c — the restart policies against a real brummd, as a table:
 * always / on-failure (the default) / never, times a clean exit, exit 3 and
 * death by a signal (SIGSEGV raised by the child, SIGKILL sent from
 * outside), after a short run (before start_secs: a failed start, retried
 * with backoff up to start_retries) and after a long one (running, then
 * the policy decides). Then the backoff cap on failed-start retries,
 * start_retries -> fatal, a long run resetting the rapid-exit
 * throttle, exits soon after running counted as failed starts
 * (min_uptime_secs), and a run past min_uptime_secs forgetting them.
 *
 * Every observation comes from the event history (every state change with
 * its pid and time), so nothing here sleeps to synchronise.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/e2e.h"
#include "tests/harness.h"

static struct brmh H;

enum outcome { EXIT0, EXIT3, SEGV, KILL_OUTSIDE };
enum final { EXITED, FATAL, RESTARTING };

struct policy_row {
	const char *policy;     /* NULL: the default, on-failure */
	bool long_run;          /* up past start_secs before it ends */
	enum outcome how;
	enum final want;        /* where it ends up */
	int pids;               /* distinct pids seen: 1 = not restarted */
};

/*
 * A run that ends before start_secs is a failed start whatever the policy
 * (retried with backoff, fatal after start_retries, here 1: two pids),
 * except a clean exit under on-failure/never, which is a finished job.
 * A run past start_secs is restarted as the policy says.
 */
static const struct policy_row policy_rows[] = {
	{ "always",     false, EXIT0, FATAL,  2 },
	{ "always",     false, EXIT3, FATAL,  2 },
	{ "always",     false, SEGV,  FATAL,  2 },
	{ NULL,         false, EXIT0, EXITED, 1 },
	{ NULL,         false, EXIT3, FATAL,  2 },
	{ NULL,         false, SEGV,  FATAL,  2 },
	{ "never",      false, EXIT0, EXITED, 1 },
	{ "never",      false, EXIT3, FATAL,  2 },
	{ "never",      false, SEGV,  FATAL,  2 },
	{ "always",     true,  EXIT0, RESTARTING, 2 },
	{ "always",     true,  EXIT3, RESTARTING, 2 },
	{ "always",     true,  SEGV,  RESTARTING, 2 },
	{ "always",     true,  KILL_OUTSIDE, RESTARTING, 2 },
	{ NULL,         true,  EXIT0, EXITED, 1 },
	{ NULL,         true,  EXIT3, RESTARTING, 2 },
	{ NULL,         true,  SEGV,  RESTARTING, 2 },
	{ NULL,         true,  KILL_OUTSIDE, RESTARTING, 2 },
	{ "never",      true,  EXIT0, EXITED, 1 },
	{ "never",      true,  EXIT3, EXITED, 1 },
	{ "never",      true,  SEGV,  EXITED, 1 },
	{ "never",      true,  KILL_OUTSIDE, EXITED, 1 },
};
#define NROWS (sizeof(policy_rows) / sizeof(policy_rows[0]))

static const char *const how_names[] = { "exit0", "exit3", "segv", "kill" };
static const char *const final_names[] = { "exited", "fatal", "restarting" };

static void row_name(const struct policy_row *r, char *buf, size_t len)
{
	snprintf(buf, len, "%s-%s-%s", r->policy ? r->policy : "default",
		 r->long_run ? "long" : "short", how_names[r->how]);
}

static double now_secs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

/* Distinct pids in @events (in order of appearance), at most 16. */
static int distinct_pids(const cJSON *events, long *pids)
{
	const cJSON *e;
	int n = 0;

	cJSON_ArrayForEach(e, events) {
		long pid = brmh_int(e, "pid");
		int i;

		if (pid <= 0)
			continue;
		for (i = 0; i < n && pids[i] != pid; i++)
			;
		if (i == n && n < 16)
			pids[n++] = pid;
	}
	return n;
}

static bool has_event_to(const cJSON *events, const char *to)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, events) {
		const char *t = brmh_str(e, "to");
		if (t && !strcmp(t, to))
			return true;
	}
	return false;
}

/* Append the row's process to @cfg. */
static void add_row(char *cfg, size_t len, const struct policy_row *r)
{
	char name[64], cmd[600], policy[64] = "";
	size_t used = strlen(cfg);

	row_name(r, name, sizeof(name));
	switch (r->how) {
	case EXIT0:
	case EXIT3:
		snprintf(cmd, sizeof(cmd), "[\"%s\", \"exit\", \"%d\", \"%s\"]", brmh_child(),
			 r->how == EXIT0 ? 0 : 3, r->long_run ? "0.6" : "0");
		break;
	case SEGV:
		snprintf(cmd, sizeof(cmd), "[\"%s\", \"raise\", \"%d\", \"%s\"]", brmh_child(),
			 SIGSEGV, r->long_run ? "0.6" : "0");
		break;
	case KILL_OUTSIDE:
		snprintf(cmd, sizeof(cmd), "[\"%s\", \"sleep\", \"30\"]", brmh_child());
		break;
	}
	if (r->policy)
		snprintf(policy, sizeof(policy), "\"restart\": \"%s\", ", r->policy);
	snprintf(cfg + used, len - used,
		 "%s\"%s\": {\"cmd\": %s, %s\"start_secs\": %s, \"start_retries\": 1,"
		 " \"backoff_secs\": 0.05, \"backoff_max_secs\": 0.05, \"stop_timeout_secs\": 1}",
		 used > 20 ? ", " : "", name, cmd, policy, r->long_run ? "0.1" : "3");
}

/* Check row @r once it settled; append what is wrong to @fail. */
static void check_row(const struct policy_row *r, char *fail, size_t len)
{
	char name[64], got[256] = "";
	long pids[16];
	double deadline = now_secs() + 8;
	cJSON *events = NULL, *s = NULL;
	const char *state = "?";
	int n = 0;

	row_name(r, name, sizeof(name));
	for (;;) {
		cJSON_Delete(events);
		cJSON_Delete(s);
		events = brmh_events(&H, name);
		s = brmh_status(&H, name);
		state = s && brmh_str(s, "state") ? brmh_str(s, "state") : "?";
		n = distinct_pids(events, pids);
		if (r->want == RESTARTING ? n >= 2 : !strcmp(state, final_names[r->want]))
			break;
		if (r->want != RESTARTING && (!strcmp(state, "fatal") || !strcmp(state, "exited")))
			break;   /* settled elsewhere */
		if (now_secs() > deadline)
			break;
		brmh_sleep_ms(10);
	}
	if (r->want == RESTARTING) {
		if (n < 2 || !strcmp(state, "exited") || !strcmp(state, "fatal"))
			snprintf(got, sizeof(got), "state %s, %d pid(s); want restarted", state, n);
	} else if (strcmp(state, final_names[r->want]) != 0 || n != r->pids) {
		snprintf(got, sizeof(got), "state %s with %d pid(s); want %s with %d", state, n,
			 final_names[r->want], r->pids);
	} else if (r->long_run && !has_event_to(events, "running")) {
		snprintf(got, sizeof(got), "never running before it ended");
	}
	if (!got[0] && !r->long_run && has_event_to(events, "running"))
		snprintf(got, sizeof(got), "was running, but the run was meant to be short");
	if (!got[0] && !r->policy && strcmp(brmh_str(s, "restart"), "on-failure") != 0)
		snprintf(got, sizeof(got), "default policy is %s", brmh_str(s, "restart"));
	if (got[0]) {
		size_t used = strlen(fail);
		snprintf(fail + used, len - used, "\n  %s: %s", name, got);
	}
	cJSON_Delete(events);
	cJSON_Delete(s);
}

START_TEST(policy_matrix)
{
	static char cfg[16384], fail[8192];
	char name[64];
	double deadline;

	snprintf(cfg, sizeof(cfg), "{\"processes\": {");
	for (size_t i = 0; i < NROWS; i++)
		add_row(cfg, sizeof(cfg) - 4, &policy_rows[i]);
	strcat(cfg, "}}");
	ck_assert_msg(brmh_start(&H, cfg, NULL) == 0, "brummd did not start (log: %s)", H.log);

	/* The rows killed from outside: SIGKILL each once it is running. */
	for (size_t i = 0; i < NROWS; i++) {
		const struct policy_row *r = &policy_rows[i];
		cJSON *s;

		if (r->how != KILL_OUTSIDE)
			continue;
		row_name(r, name, sizeof(name));
		ck_assert_msg(brmh_wait_state(&H, name, "running", 5000), "%s not running", name);
		s = brmh_status(&H, name);
		ck_assert_int_gt(brmh_int(s, "pid"), 0);
		ck_assert_int_eq(kill((pid_t)brmh_int(s, "pid"), SIGKILL), 0);
		cJSON_Delete(s);
	}
	fail[0] = 0;
	deadline = now_secs() + 20;
	for (size_t i = 0; i < NROWS && now_secs() < deadline; i++)
		check_row(&policy_rows[i], fail, sizeof(fail));
	ck_assert_msg(!fail[0], "restart policy rows wrong:%s", fail);
	brmh_check_stop(&H);
}
END_TEST

/* The times of the backoff -> starting pairs of @events, as delays. */
static int retry_delays(const cJSON *events, double *delays, int max)
{
	const cJSON *e;
	double backoff_ts = -1;
	int n = 0;

	cJSON_ArrayForEach(e, events) {
		const char *to = brmh_str(e, "to"), *from = brmh_str(e, "from");

		if (to && !strcmp(to, "backoff"))
			backoff_ts = num(e, "ts");
		else if (to && !strcmp(to, "starting") && from && !strcmp(from, "backoff") &&
			 backoff_ts > 0 && n < max)
			delays[n++] = num(e, "ts") - backoff_ts;
	}
	return n;
}

/*
 * Failed starts are retried after backoff_secs * 2^(n-1), capped at
 * backoff_max_secs: with 0.05 and a cap of 0.1, uncapped delays would be
 * 0.2, 0.4, 0.8 and 1.6 s for retries 3-6. start_retries 6: 7 starts,
 * then fatal.
 */
START_TEST(failed_start_backoff_is_capped_then_fatal)
{
	double delays[16];
	long pids[16];
	cJSON *events, *s;
	int n;

	brmh_check_start(&H,
		"{\"processes\": {\"p\": {\"cmd\": [\"%s\", \"exit\", \"3\"], \"start_secs\": 2,"
		" \"start_retries\": 6, \"backoff_secs\": 0.05, \"backoff_max_secs\": 0.1}}}",
		brmh_child());
	ck_assert_msg(brmh_wait_state(&H, "p", "fatal", 8000), "never fatal");
	s = brmh_status(&H, "p");
	ck_assert_int_eq(brmh_int(s, "start_failures"), 7);
	ck_assert_msg(strstr(brmh_str(s, "error"), "gave up after 7 failed starts"), "error: %s",
		      brmh_str(s, "error"));
	cJSON_Delete(s);
	events = brmh_events(&H, "p");
	ck_assert_int_eq(distinct_pids(events, pids), 7);
	n = retry_delays(events, delays, 16);
	ck_assert_int_eq(n, 6);
	for (int i = 0; i < n; i++) {
		double want = i == 0 ? 0.05 : 0.1;

		/* never shorter than asked; never far past the cap (load slack) */
		ck_assert_msg(delays[i] >= want - 0.01 && delays[i] < 0.1 + 0.25,
			      "retry %d came %.3fs after the failure; want %.2fs (cap 0.1s)", i + 1,
			      delays[i], want);
	}
	cJSON_Delete(events);
	brmh_check_stop(&H);
}
END_TEST

/*
 * With min_uptime_secs 0 (an exit after start_secs is never a failed
 * start), a program that exits quickly twice (restarted after growing
 * delays: "restart 1 in a row", "restart 2 in a row"), then runs 1.2 s
 * (past the 1 s rapid-exit window: restarted at once, the throttle reset),
 * then exits quickly again: that is restart 1 in a row again, after
 * backoff_secs.
 */
START_TEST(long_run_resets_the_rapid_exit_throttle)
{
	const char *want[] = { "restart 1 in a row", "restart 2 in a row", "restart 1 in a row" };
	const char *reasons[8];
	double deadline = now_secs() + 8;
	char dir[64];
	cJSON *events = NULL;
	const cJSON *e;
	int n = 0;

	ck_assert_ptr_nonnull(brmh_tmpdir(dir, sizeof(dir), "brmpolicy"));
	brmh_check_start(&H,
		"{\"processes\": {\"p\": {\"cmd\": [\"/bin/sh\", \"-c\","
		" \"n=$(cat runs 2>/dev/null || echo 0); n=$((n+1)); echo $n > runs;"
		" case $n in 1|2|4) exit 1;; 3) sleep 1.2; exit 1;; *) exec sleep 30;; esac\"],"
		" \"cwd\": \"%s\", \"start_secs\": 0, \"min_uptime_secs\": 0,"
		" \"backoff_secs\": 0.05, \"backoff_max_secs\": 10}}}", dir);
	while (n < 3 && now_secs() < deadline) {
		cJSON_Delete(events);
		brmh_sleep_ms(20);
		events = brmh_events(&H, "p");
		n = 0;
		cJSON_ArrayForEach(e, events) {
			const char *to = brmh_str(e, "to");
			if (to && !strcmp(to, "backoff") && n < 8)
				reasons[n++] = brmh_str(e, "reason");
		}
	}
	ck_assert_msg(n >= 3, "only %d rapid exits seen", n);
	for (int i = 0; i < 3; i++)
		ck_assert_msg(reasons[i] && strstr(reasons[i], want[i]),
			      "rapid exit %d: reason '%s', want '%s'", i + 1,
			      reasons[i] ? reasons[i] : "(null)", want[i]);
	cJSON_Delete(events);
	brmh_check_stop(&H);
}
END_TEST

/*
 * Broke once: a program that came up (past start_secs) and died again a
 * second later was restarted forever, shown running, never fatal (nginx
 * whose port a leftover worker still held). Such an exit, within
 * min_uptime_secs (default 10 s) of the spawn, is a failed start: backoff,
 * then fatal after start_retries, each run having counted as running.
 */
START_TEST(exits_soon_after_running_are_failed_starts)
{
	long pids[16];
	cJSON *events, *s;
	const cJSON *e;
	int running = 0;

	brmh_check_start(&H,
		"{\"processes\": {\"p\": {\"cmd\": [\"%s\", \"exit\", \"3\", \"1.1\"],"
		" \"start_secs\": 0.2, \"start_retries\": 2, \"restart\": \"always\","
		" \"backoff_secs\": 0.05, \"backoff_max_secs\": 0.1}}}", brmh_child());
	ck_assert_msg(brmh_wait_state(&H, "p", "fatal", 10000), "never fatal");
	s = brmh_status(&H, "p");
	ck_assert_int_eq(brmh_int(s, "start_failures"), 3);
	ck_assert_msg(strstr(brmh_str(s, "error"), "within 10s of its start (min_uptime_secs)") &&
			      strstr(brmh_str(s, "error"), "gave up after 3 failed starts"),
		      "error: %s", brmh_str(s, "error"));
	cJSON_Delete(s);
	events = brmh_events(&H, "p");
	ck_assert_int_eq(distinct_pids(events, pids), 3);
	cJSON_ArrayForEach(e, events)
		if (brmh_str(e, "to") && !strcmp(brmh_str(e, "to"), "running"))
			running++;
	ck_assert_msg(running == 3, "%d runs reached running; want each of the 3", running);
	cJSON_Delete(events);
	brmh_check_stop(&H);
}
END_TEST

/*
 * A run that outlasts min_uptime_secs forgets the failed starts before it,
 * also in the snapshot while it runs. start_retries 1: run 1 (0.3 s) is
 * failed start 1, run 2 lasts 1.2 s (past min_uptime_secs 0.6; its
 * start_failures drops to 0 while it runs), run 3 (0.3 s) is failed start
 * 1 again, not 2 (which would be fatal), and run 4 stays up.
 */
START_TEST(a_run_past_min_uptime_forgets_failed_starts)
{
	char dir[64];
	bool reset = false;
	cJSON *s;

	ck_assert_ptr_nonnull(brmh_tmpdir(dir, sizeof(dir), "brmpolicy"));
	brmh_check_start(&H,
		"{\"processes\": {\"p\": {\"cmd\": [\"/bin/sh\", \"-c\","
		" \"n=$(cat runs 2>/dev/null || echo 0); n=$((n+1)); echo $n > runs;"
		" case $n in 1|3) sleep 0.3; exit 1;; 2) echo $$ > long; sleep 1.2; exit 1;;"
		" *) exec sleep 30;; esac\"],"
		" \"cwd\": \"%s\", \"start_secs\": 0.1, \"min_uptime_secs\": 0.6,"
		" \"start_retries\": 1, \"backoff_secs\": 0.05}}}", dir);
	for (double deadline = now_secs() + 15; now_secs() < deadline; brmh_sleep_ms(20)) {
		char *runs = brmh_read_file(brmh_fmt("%s/runs", dir));
		char *long_pid = brmh_read_file(brmh_fmt("%s/long", dir));
		int n = runs ? atoi(runs) : 0;
		long pid2 = long_pid ? atol(long_pid) : 0;

		free(runs);
		free(long_pid);
		s = brmh_status(&H, "p");
		ck_assert_msg(strcmp(brmh_str(s, "state"), "fatal") != 0,
			      "fatal: %s; the long run 2 did not reset the count", brmh_str(s, "error"));
		/* run 2 itself (its pid), still running, shows the reset */
		if (pid2 > 0 && brmh_int(s, "pid") == pid2 && !strcmp(brmh_str(s, "state"), "running") &&
		    brmh_int(s, "start_failures") == 0)
			reset = true;
		if (n >= 4 && !strcmp(brmh_str(s, "state"), "running")) {
			cJSON_Delete(s);
			break;
		}
		cJSON_Delete(s);
	}
	ck_assert_msg(reset, "run 2 never showed start_failures 0 while running past"
		      " min_uptime_secs");
	ck_assert(brmh_wait_state(&H, "p", "running", 100));
	brmh_check_stop(&H);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("policy");
	TCase *tc = tcase_create("policy");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, policy_matrix);
	tcase_add_test(tc, failed_start_backoff_is_capped_then_fatal);
	tcase_add_test(tc, long_run_resets_the_rapid_exit_throttle);
	tcase_add_test(tc, exits_soon_after_running_are_failed_starts);
	tcase_add_test(tc, a_run_past_min_uptime_forgets_failed_starts);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
