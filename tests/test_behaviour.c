/*
 * test_behaviour.c — behaviour users rely on, end to end against a real
 * brummd: the stop timeout's SIGKILL reaching a TERM-ignoring grandchild;
 * `signal` with "to": "group" reaching the whole process group; health `retries` counted exactly and failures inside
 * `start_period_secs` not counted; shutdown stopping a dependent before
 * its dependency; `restart` lifting a persisted "stopped" across a restart
 * of brummd; brummctl failing when its stdout cannot be written; a child
 * getting no copy of brummd's descriptor table.
 *
 * (`signal` refused for readers is in test_method_access, with every
 * other method.)
 */
#include <check.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/e2e.h"
#include "tests/harness.h"
#include "tests/suite.h"

static struct brmh H;

/* The pid in the child's "ready WHO PID" line. */
static pid_t ready_pid(const char *name, const char *who)
{
	char needle[64], *line;
	long pid = -1;

	snprintf(needle, sizeof(needle), "ready %s ", who);
	line = brmh_wait_log(&H, name, needle, 5000);
	ck_assert_msg(line, "%s: no '%s' line", name, needle);
	sscanf(line + strlen(needle), "%ld", &pid);
	free(line);
	ck_assert_int_gt(pid, 1);
	return (pid_t)pid;
}

static int call_code(const char *method, const char *params)
{
	cJSON *r = brmh_call(&H, method, params);
	int code = 1;

	if (r)
		brmh_result(r, &code);
	cJSON_Delete(r);
	return code;
}

START_TEST(stop_timeout_kills_a_term_ignoring_grandchild)
{
	pid_t main_pid, gpid;
	bool gone;

	brmh_check_start(&H,
		"{\"processes\": {\"p\": {\"cmd\": [\"%s\", \"sigreport\", \"ignore-term\"],"
		" \"start_secs\": 0, \"stop_timeout_secs\": 0.3}}}", brmh_child());
	main_pid = ready_pid("p", "main");
	gpid = ready_pid("p", "grandchild");
	ck_assert_int_eq(call_code("stop", "{\"name\":\"p\",\"wait\":true,\"timeout_secs\":10}"), 0);
	gone = brmh_wait_pid_gone(gpid, 1000);
	if (!gone)
		kill(gpid, SIGKILL);   /* don't leave it behind */
	ck_assert_msg(!brmh_pid_alive(main_pid), "the main process survived the stop");
	ck_assert_msg(gone, "grandchild %d survived the stop timeout's SIGKILL", (int)gpid);
	brmh_check_stop(&H);
}
END_TEST

START_TEST(signal_reaches_the_process_group)
{
	char *line;

	brmh_check_start(&H,
		"{\"processes\": {\"p\": {\"cmd\": [\"%s\", \"sigreport\"], \"start_secs\": 0}}}",
		brmh_child());
	ready_pid("p", "main");
	ready_pid("p", "grandchild");
	ck_assert_int_eq(call_code("signal", "{\"name\":\"p\",\"signal\":\"USR1\",\"to\":\"group\"}"),
			 0);
	line = brmh_wait_log(&H, "p", "main got 10", 3000);
	ck_assert_msg(line, "the main process did not get SIGUSR1");
	free(line);
	line = brmh_wait_log(&H, "p", "grandchild got 10", 3000);
	ck_assert_msg(line, "the grandchild (same process group) did not get SIGUSR1");
	free(line);
	/* and by number */
	ck_assert_int_eq(call_code("signal", "{\"name\":\"p\",\"signal\":12,\"to\":\"group\"}"), 0);
	line = brmh_wait_log(&H, "p", "grandchild got 12", 3000);
	ck_assert_ptr_nonnull(line);
	free(line);
	brmh_check_stop(&H);
}
END_TEST

/*
 * A probe that fails its first FAILS runs (counted in a file per process,
 * kept across restarts of the process), then passes. With retries 3 and
 * on_unhealthy restart: 2 failures never make it unhealthy (no restart,
 * healthy at last), 3 do (restarted). With a start period that covers the
 * failures, 5 failures do not count.
 */
struct health_row {
	const char *name;
	int fails;
	const char *start_period;
	bool restarted;
};

static const struct health_row health_rows[] = {
	{ "under", 2, "0", false },        /* retries - 1 */
	{ "at", 3, "0", true },            /* retries */
	{ "grace", 5, "5", false },        /* all inside start_period_secs */
};

START_TEST(health_retries_and_start_period)
{
	char dir[64], cfg[8192];
	long pid0[3];
	size_t o;

	ck_assert_ptr_nonnull(brmh_tmpdir(dir, sizeof(dir), "brmhealth"));
	o = (size_t)snprintf(cfg, sizeof(cfg), "{\"processes\": {");
	for (int i = 0; i < 3; i++) {
		const struct health_row *r = &health_rows[i];

		o += (size_t)snprintf(cfg + o, sizeof(cfg) - o,
			"%s\"%s\": {\"cmd\": [\"%s\", \"sleep\", \"30\"], \"start_secs\": 0,"
			" \"health\": {\"exec\": [\"/bin/sh\", \"-c\","
			"   \"echo x >> %s/%s; test $(wc -l < %s/%s) -gt %d\"],"
			"   \"interval_secs\": 0.05, \"retries\": 3, \"start_period_secs\": %s,"
			"   \"on_unhealthy\": \"restart\"}}",
			i ? ", " : "", r->name, brmh_child(), dir, r->name, dir, r->name, r->fails,
			r->start_period);
	}
	snprintf(cfg + o, sizeof(cfg) - o, "}}");
	ck_assert_msg(brmh_start(&H, cfg, NULL) == 0, "brummd did not start (log: %s)", H.log);
	for (int i = 0; i < 3; i++) {
		cJSON *s;

		ck_assert(brmh_wait_state(&H, health_rows[i].name, "running", 3000));
		s = brmh_status(&H, health_rows[i].name);
		pid0[i] = brmh_int(s, "pid");
		cJSON_Delete(s);
	}
	for (int i = 0; i < 3; i++) {
		const struct health_row *r = &health_rows[i];
		const char *health = NULL;
		long pid = -1;
		cJSON *s = NULL;

		/* passing at last: healthy (after a restart or not) */
		for (int t = 0; t < 500; t++) {
			cJSON_Delete(s);
			s = brmh_status(&H, r->name);
			health = brmh_str(s, "health");
			pid = brmh_int(s, "pid");
			if (health && !strcmp(health, "healthy") && pid > 0)
				break;
			brmh_sleep_ms(10);
		}
		ck_assert_msg(health && !strcmp(health, "healthy"), "%s: health %s", r->name,
			      health ? health : "null");
		ck_assert_msg((pid != pid0[i]) == r->restarted,
			      "%s: %d failed probes with retries 3, start period %ss: %s", r->name,
			      r->fails, r->start_period,
			      r->restarted ? "not restarted as unhealthy" : "restarted as unhealthy");
		cJSON_Delete(s);
	}
	brmh_check_stop(&H);
}
END_TEST

START_TEST(a_process_without_a_check_has_health_null)
{
	cJSON *s;

	brmh_check_start(&H,
		"{\"processes\": {\"p\": {\"cmd\": [\"%s\", \"sleep\", \"30\"], \"start_secs\": 0}}}",
		brmh_child());
	ck_assert(brmh_wait_state(&H, "p", "running", 3000));
	s = brmh_status(&H, "p");
	ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(s, "health")));
	ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(s, "health_output")));
	cJSON_Delete(s);
	brmh_check_stop(&H);
}
END_TEST

/* The seq of the first event of @name to @to in the stream read so far. */
static long seq_of(cJSON *const *ev, int n, const char *name, const char *to)
{
	for (int i = 0; i < n; i++) {
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(ev[i], "params");

		if (!strcmp(brmh_str(p, "name"), name) && !strcmp(brmh_str(p, "to"), to))
			return brmh_int(p, "seq");
	}
	return -1;
}

/*
 * brummd's shutdown stops a dependent before what it depends on: api needs
 * db, api ignores SIGTERM (SIGKILLed after 0.3 s); db is signalled only once
 * api is stopped. Seen by a connection subscribed to the events while
 * brummd shuts down.
 */
START_TEST(shutdown_stops_dependents_first)
{
	cJSON *ev[64], *r;
	int n = 0, st, code;

	brmh_check_start(&H,
		"{\"processes\": {"
		" \"db\": {\"cmd\": [\"%s\", \"sleep\", \"30\"], \"start_secs\": 0},"
		" \"api\": {\"cmd\": [\"%s\", \"ignore-term\"], \"start_secs\": 0,"
		"   \"stop_timeout_secs\": 0.3, \"depends_on\": [\"db\"]}}}",
		brmh_child(), brmh_child());
	ck_assert(brmh_wait_state(&H, "api", "running", 5000));
	free(brmh_wait_log(&H, "api", "ignoring TERM", 3000));
	r = brmh_call(&H, "events", "{}");
	brmh_result(r, &code);
	ck_assert_int_eq(code, 0);
	cJSON_Delete(r);
	ck_assert_int_eq(kill(H.pid, SIGTERM), 0);
	while (n < 64 && (ev[n] = brmh_read_reply(&H, 5000)))
		n++;
	if (seq_of(ev, n, "api", "stopped") < 0) {
		/*
		 * Under TSan the stream has lost its last events as brummd
		 * exits (1 run in ~10; the cause is not found yet). Then the
		 * order comes from brummd's own log: db dies at once on
		 * SIGTERM, api only when SIGKILLed 0.3 s later, so db's end
		 * logged after api's means db was signalled after api ended.
		 */
		char *log = NULL;
		const char *a, *d;

		for (int i = 0; i < 500; i++) {
			free(log);
			log = brmh_read_file(H.log);
			if (log && strstr(log, "every process has stopped"))
				break;
			brmh_sleep_ms(20);
		}
		a = log ? strstr(log, "api: pid") : NULL;
		d = log ? strstr(log, "db: pid") : NULL;
		ck_assert_msg(a && d && a < d, "no 'api stopped' event, and brummd's log does not"
			      " show api ending before db:\n%s", log ? log : "(no log)");
		printf("behaviour: the events stream lost its end at shutdown (%d events);"
		       " the order is from brummd's log\n", n);
		free(log);
	} else {
		ck_assert_msg(seq_of(ev, n, "db", "stopping") > seq_of(ev, n, "api", "stopped"),
			      "db was signalled (seq %ld) before api had stopped (seq %ld)",
			      seq_of(ev, n, "db", "stopping"), seq_of(ev, n, "api", "stopped"));
	}
	for (int i = 0; i < n; i++)
		cJSON_Delete(ev[i]);
	st = brmh_stop(&H, 10000);
	ck_assert(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
}
END_TEST

/*
 * `stop` persists "stopped" across a restart of brummd; `restart` lifts it
 * (PROTOCOL.md "Methods": "start or restart of it lifts that").
 */
START_TEST(restart_lifts_a_persisted_stop)
{
	char state[64], cfg[1024];
	cJSON *events;
	int st;

	ck_assert_ptr_nonnull(brmh_tmpdir(state, sizeof(state), "brmstate"));
	setenv("BRUMMD_STATE_DIR", state, 1);
	snprintf(cfg, sizeof(cfg),
		 "{\"processes\": {\"x\": {\"cmd\": [\"%s\", \"sleep\", \"30\"], \"start_secs\": 0}}}",
		 brmh_child());
	ck_assert_int_eq(brmh_start(&H, cfg, NULL), 0);
	ck_assert(brmh_wait_state(&H, "x", "running", 3000));
	ck_assert_int_eq(call_code("stop", "{\"name\":\"x\",\"wait\":true}"), 0);
	brmh_check_stop(&H);

	/* stays stopped: never started in the new brummd */
	ck_assert_int_eq(brmh_start(&H, cfg, NULL), 0);
	ck_assert(brmh_wait_state(&H, "x", "stopped", 3000));
	events = brmh_events(&H, "x");
	{
		const cJSON *e;
		cJSON_ArrayForEach(e, events)
			ck_assert_msg(brmh_int(e, "pid") <= 0, "x was started despite its stop");
	}
	cJSON_Delete(events);
	ck_assert_int_eq(call_code("restart", "{\"name\":\"x\",\"wait\":true}"), 0);
	brmh_check_stop(&H);

	/* running again after the next restart of brummd */
	ck_assert_int_eq(brmh_start(&H, cfg, NULL), 0);
	ck_assert_msg(brmh_wait_state(&H, "x", "running", 3000),
		      "x stayed stopped although it was restarted");
	st = brmh_stop(&H, 15000);
	unsetenv("BRUMMD_STATE_DIR");
	ck_assert(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
}
END_TEST

START_TEST(brummctl_fails_on_a_full_stdout)
{
	static const char *const variants[][3] = {
		{ "status", NULL, NULL },
		{ "--json", "status", NULL },
		{ "status", "p", NULL },
	};
	char err[320];

	brmh_check_start(&H,
		"{\"processes\": {\"p\": {\"cmd\": [\"%s\", \"sleep\", \"30\"], \"start_secs\": 0}}}",
		brmh_child());
	snprintf(err, sizeof(err), "%s/ctl.err", H.dir);
	for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
		pid_t pid = brmh_ctl_spawn(&H, "/dev/full", err, variants[i][0], variants[i][1],
					   variants[i][2]);
		int rc = brmh_wait_exit(pid, 5000);
		char *text = brmh_read_file(err);

		ck_assert_msg(rc > 0, "brummctl %s %s >/dev/full exited %d", variants[i][0],
			      variants[i][1] ? variants[i][1] : "", rc);
		ck_assert_msg(text && *text, "brummctl %s %s >/dev/full said nothing on stderr",
			      variants[i][0], variants[i][1] ? variants[i][1] : "");
		free(text);
	}
	brmh_check_stop(&H);
}
END_TEST

/*
 * A SIGTERM shutdown waits for every child, and only for as long as it
 * must: six sleepers go at once, "slow" ignores SIGTERM and is SIGKILLed
 * after its stop_timeout_secs (1 s). brummd is still there, with slow,
 * once the six are gone, and exits only after slow was killed, never
 * before its timeout (the stop of all learns that the last child is down
 * from a count kept on each exit, not a pass; a wrong count ends it early
 * or never).
 */
static double mono_secs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

START_TEST(shutdown_waits_for_the_last_child)
{
	static const char *const quick[] = { "q0", "q1", "q2", "q3", "q4", "q5" };
	long pids[6], slow;
	double t0, quick_gone;
	int rc;

	brmh_check_start(&H,
		"{\"processes\": {"
		" \"q0\": {\"cmd\": [\"%s\", \"sleep\", \"30\"], \"start_secs\": 0},"
		" \"q1\": {\"cmd\": [\"%s\", \"sleep\", \"30\"], \"start_secs\": 0},"
		" \"q2\": {\"cmd\": [\"%s\", \"sleep\", \"30\"], \"start_secs\": 0},"
		" \"slow\": {\"cmd\": [\"%s\", \"ignore-term\"], \"start_secs\": 0,"
		"   \"stop_timeout_secs\": 1},"
		" \"q3\": {\"cmd\": [\"%s\", \"sleep\", \"30\"], \"start_secs\": 0},"
		" \"q4\": {\"cmd\": [\"%s\", \"sleep\", \"30\"], \"start_secs\": 0},"
		" \"q5\": {\"cmd\": [\"%s\", \"sleep\", \"30\"], \"start_secs\": 0}}}",
		brmh_child(), brmh_child(), brmh_child(), brmh_child(), brmh_child(),
		brmh_child(), brmh_child());
	for (int i = 0; i < 6; i++) {
		ck_assert(brmh_wait_state(&H, quick[i], "running", 5000));
		pids[i] = brmh_check_pid(&H, quick[i]);
	}
	ck_assert(brmh_wait_state(&H, "slow", "running", 5000));
	free(brmh_wait_log(&H, "slow", "ignoring TERM", 5000));
	slow = brmh_check_pid(&H, "slow");
	t0 = mono_secs();
	ck_assert_int_eq(kill(H.pid, SIGTERM), 0);
	for (int i = 0; i < 6; i++)
		ck_assert_msg(brmh_wait_pid_gone((pid_t)pids[i], 10000),
			      "%s (pid %ld) still there after SIGTERM", quick[i], pids[i]);
	quick_gone = mono_secs() - t0;
	if (quick_gone < 0.8) {
		/* Judged only with time to spare before slow's SIGKILL. */
		ck_assert_msg(brmh_pid_alive(H.pid), "brummd exited %.3fs after SIGTERM,"
			      " before slow (stop_timeout_secs 1) was down", quick_gone);
		ck_assert_msg(brmh_pid_alive((pid_t)slow), "slow gone %.3fs after SIGTERM,"
			      " before its stop timeout", quick_gone);
	}
	rc = brmh_wait_exit(H.pid, 15000);
	H.pid = 0;
	ck_assert_msg(rc == 0, "brummd did not exit cleanly after SIGTERM (%d)", rc);
	ck_assert_msg(mono_secs() - t0 >= 0.95, "brummd exited %.3fs after SIGTERM, before"
		      " slow's stop_timeout_secs (1)", mono_secs() - t0);
	ck_assert_msg(brmh_wait_pid_gone((pid_t)slow, 2000), "slow (pid %ld) outlived brummd",
		      slow);
	brmh_stop(&H, 1000);
}
END_TEST

/*
 * A child of a brummd that holds hundreds of descriptors (three per
 * process) starts with a descriptor table of its stdio only: no copy of
 * brummd's table, closed at exec (daemon/sup/spawn.c's slots). The kernel
 * never shrinks a table, so FDSize in /proc shows what the child got; a
 * copy of 450 descriptors is 512.
 */
START_TEST(children_do_not_get_a_copy_of_brummds_descriptors)
{
	char *cfg = malloc(64 * 1024), path[64], *st, *p;
	size_t o = 0;
	long pid, size;

	ck_assert_ptr_nonnull(cfg);
	o += (size_t)snprintf(cfg + o, 64 * 1024 - o, "{\"processes\": {");
	for (int i = 0; i < 150; i++)
		o += (size_t)snprintf(cfg + o, 64 * 1024 - o,
				      "%s\"p%03d\": {\"cmd\": [\"%s\", \"sleep\", \"60\"],"
				      " \"start_secs\": 0}", i ? "," : "", i, brmh_child());
	snprintf(cfg + o, 64 * 1024 - o, "}}");
	ck_assert_msg(brmh_start(&H, cfg, NULL) == 0, "brummd did not start (log: %s)", H.log);
	free(cfg);
	ck_assert(brmh_wait_state(&H, "p149", "running", 10000));
	/* started again now, with all 150 processes' descriptors open */
	pid = brmh_check_pid(&H, "p000");
	ck_assert_int_eq(kill((pid_t)pid, SIGKILL), 0);
	ck_assert(brmh_wait_pid_gone((pid_t)pid, 5000));
	for (int i = 0; i < 500; i++) {
		long now = brmh_check_pid(&H, "p000");

		if (now > 0 && now != pid) {
			pid = now;
			break;
		}
		brmh_sleep_ms(10);
	}
	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	st = brmh_wait_file(path, 2000);
	ck_assert_ptr_nonnull(st);
	p = strstr(st, "FDSize:");
	ck_assert_ptr_nonnull(p);
	size = strtol(p + 7, NULL, 10);
	free(st);
	ck_assert_msg(size <= 64, "p000 (pid %ld) has a descriptor table of %ld", pid, size);
	brmh_check_stop(&H);
}
END_TEST

BRM_TEST_CASE("behaviour", "behaviour", 20,
	stop_timeout_kills_a_term_ignoring_grandchild,
	signal_reaches_the_process_group,
	health_retries_and_start_period,
	a_process_without_a_check_has_health_null,
	shutdown_stops_dependents_first,
	shutdown_waits_for_the_last_child,
	restart_lifts_a_persisted_stop,
	brummctl_fails_on_a_full_stdout,
	children_do_not_get_a_copy_of_brummds_descriptors);
