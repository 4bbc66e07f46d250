/*
 * test_intent.c — dependencies and operator intent against a real brummd
 * with real children (issue 12, bugs 1-4):
 *
 *  - a dependency started on a dependent's behalf is not "stopped by
 *    request": after `stop --all`, `start aweb` and a restart of brummd,
 *    both run again, whatever the names (aweb / web);
 *  - start-up and a reload add every process before starting any, so a
 *    dependent finds a dependency whose name sorts after its own;
 *  - `start X` on a waiting X starts what X needs and X;
 *  - `restart` of all or several stops dependents before their
 *    dependencies, then starts in dependency order;
 *  - an implicit start (a health restart, a restart by policy) never starts
 *    a process stopped by request: the dependent waits, and says why.
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

/* A state directory that outlives one brummd (brmh_stop removes H.dir). */
static void own_state_dir(void)
{
	static char dir[128];

	ck_assert_ptr_nonnull(brmh_tmpdir(dir, sizeof(dir), "brmintent"));
	setenv("BRUMMD_STATE_DIR", dir, 1);
}

static void call_ok(const char *method, const char *params)
{
	cJSON *r = brmh_call(&H, method, params);
	char *text;
	int code;

	ck_assert_ptr_nonnull(r);
	brmh_result(r, &code);
	text = cJSON_PrintUnformatted(r);
	ck_assert_msg(code == 0, "%s %s: %s", method, params ? params : "", text);
	free(text);
	cJSON_Delete(r);
}

static const char *state_of(const char *name)
{
	static char buf[4][32];
	static int k;
	cJSON *s = brmh_status(&H, name);
	char *out = buf[k++ % 4];

	snprintf(out, sizeof(buf[0]), "%s", s && brmh_str(s, "state") ? brmh_str(s, "state") : "?");
	cJSON_Delete(s);
	return out;
}

/* What a waiting @name waits for (its snapshot's waiting_for), or NULL. */
static char *waiting_for(const char *name)
{
	cJSON *s = brmh_status(&H, name);
	char *e = s && brmh_str(s, "waiting_for") ? strdup(brmh_str(s, "waiting_for")) : NULL;

	cJSON_Delete(s);
	return e;
}

/* Poll until @name's waiting_for is @want; false after @ms. */
static bool wait_waiting_for(const char *name, const char *want, int ms)
{
	for (int t = 0; t < ms; t += 10) {
		char *e = waiting_for(name);
		bool ok = e && !strcmp(e, want);

		free(e);
		if (ok)
			return true;
		brmh_sleep_ms(10);
	}
	return false;
}

/* db with a passing health check, and DEPENDENT needing it healthy. */
static const char *db_and(const char *dependent, const char *db_extra)
{
	return brmh_fmt("{\"processes\": {"
			" \"db\": {\"cmd\": [\"%s\", \"sleep\", \"60\"], \"start_secs\": 0%s,"
			"   \"health\": {\"exec\": [\"/bin/sh\", \"-c\", \"exit 0\"],"
			"     \"interval_secs\": 0.05}},"
			" \"%s\": {\"cmd\": [\"%s\", \"sleep\", \"60\"], \"start_secs\": 0,"
			"   \"depends_on\": {\"db\": \"healthy\"}}"
			"}}", brmh_child(), db_extra, dependent, brmh_child());
}

/* ---- bug 1 -------------------------------------------------------------- */

static void stop_all_start_one_restart(const char *dependent)
{
	const char *cfg;

	own_state_dir();
	cfg = db_and(dependent, "");
	brmh_check_start(&H, "%s", cfg);
	ck_assert_msg(brmh_wait_state(&H, dependent, "running", 5000), "%s: %s", dependent,
		      state_of(dependent));
	call_ok("stop", "{\"all\":true,\"wait\":true,\"timeout_secs\":10}");
	/* db is started on the dependent's behalf: not stopped by request */
	call_ok("start", brmh_fmt("{\"name\":\"%s\",\"wait\":true,\"timeout_secs\":10}", dependent));
	ck_assert_str_eq(state_of("db"), "running");
	brmh_check_stop(&H);

	brmh_check_start(&H, "%s", cfg);
	ck_assert_msg(brmh_wait_state(&H, dependent, "running", 5000),
		      "after the restart of brummd %s is %s, db %s", dependent,
		      state_of(dependent), state_of("db"));
	ck_assert_str_eq(state_of("db"), "running");
	brmh_check_stop(&H);
	unsetenv("BRUMMD_STATE_DIR");
}

START_TEST(dependency_started_for_aweb_runs_after_restart)
{
	stop_all_start_one_restart("aweb");
}
END_TEST

START_TEST(dependency_started_for_web_runs_after_restart)
{
	stop_all_start_one_restart("web");
}
END_TEST

/* A dependency without autostart whose name sorts after its dependent's. */
START_TEST(startup_does_not_depend_on_names)
{
	static const char *const names[] = { "aweb", "web" };

	for (size_t i = 0; i < 2; i++) {
		brmh_check_start(&H, "%s", db_and(names[i], ", \"autostart\": false"));
		ck_assert_msg(brmh_wait_state(&H, names[i], "running", 5000), "%s is %s (%s)",
			      names[i], state_of(names[i]), waiting_for(names[i]));
		ck_assert_str_eq(state_of("db"), "running");
		brmh_check_stop(&H);
	}
}
END_TEST

START_TEST(reload_adds_all_before_starting)
{
	char path[320];
	FILE *f;

	brmh_check_start(&H, "{\"processes\": {\"other\": {\"cmd\": [\"%s\", \"sleep\", \"60\"]}}}",
			 brmh_child());
	snprintf(path, sizeof(path), "%s/brummd.json", H.dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(db_and("aweb", ", \"autostart\": false"), f);
	fclose(f);
	call_ok("reload", NULL);
	ck_assert_msg(brmh_wait_state(&H, "aweb", "running", 5000), "aweb is %s",
		      state_of("aweb"));
	ck_assert_str_eq(state_of("db"), "running");
	brmh_check_stop(&H);
}
END_TEST

/* ---- bug 2 -------------------------------------------------------------- */

START_TEST(start_of_waiting_starts_what_it_needs)
{
	cJSON *r;
	int code;

	/* app ends after 1.2 s and is restarted by its policy: that start
	 * leaves db, stopped by request, alone, and app waits. */
	brmh_check_start(&H, "{\"processes\": {"
			 " \"db\": {\"cmd\": [\"%s\", \"sleep\", \"60\"], \"start_secs\": 0},"
			 " \"app\": {\"cmd\": [\"%s\", \"exit\", \"3\", \"1.2\"], \"start_secs\": 0,"
			 "   \"restart\": \"on-failure\", \"depends_on\": [\"db\"]}"
			 "}}", brmh_child(), brmh_child());
	ck_assert(brmh_wait_state(&H, "app", "running", 5000));
	call_ok("stop", "{\"name\":\"db\",\"wait\":true}");
	ck_assert_msg(brmh_wait_state(&H, "app", "waiting", 5000), "app is %s", state_of("app"));
	ck_assert_str_eq(state_of("db"), "stopped");

	r = brmh_call(&H, "start", "{\"name\":\"app\",\"wait\":true,\"timeout_secs\":5}");
	brmh_result(r, &code);
	ck_assert_msg(code == 0, "start of a waiting app: %s", cJSON_PrintUnformatted(r));
	cJSON_Delete(r);
	ck_assert_str_eq(state_of("db"), "running");
	brmh_check_stop(&H);
}
END_TEST

/* disk <- db <- app: disk stopped by request, db and app waiting for it
 * after a restart of brummd; a start of app starts all three. */
START_TEST(start_of_waiting_starts_the_whole_chain)
{
	const char *cfg = brmh_fmt("{\"processes\": {"
		" \"disk\": {\"cmd\": [\"%s\", \"sleep\", \"60\"], \"start_secs\": 0},"
		" \"db\": {\"cmd\": [\"%s\", \"sleep\", \"60\"], \"start_secs\": 0,"
		"   \"depends_on\": [\"disk\"]},"
		" \"app\": {\"cmd\": [\"%s\", \"sleep\", \"60\"], \"start_secs\": 0,"
		"   \"depends_on\": [\"db\"]}"
		"}}", brmh_child(), brmh_child(), brmh_child());
	char *saved = strdup(cfg);

	own_state_dir();
	brmh_check_start(&H, "%s", saved);
	ck_assert(brmh_wait_state(&H, "app", "running", 5000));
	call_ok("stop", "{\"name\":\"disk\",\"wait\":true}");
	brmh_check_stop(&H);

	brmh_check_start(&H, "%s", saved);
	ck_assert_msg(brmh_wait_state(&H, "db", "waiting", 5000), "db is %s", state_of("db"));
	ck_assert_msg(wait_waiting_for("db", "disk: stopped by request", 2000),
		      "db waits for: %s", waiting_for("db"));
	ck_assert_str_eq(state_of("app"), "waiting");
	ck_assert_str_eq(state_of("disk"), "stopped");

	call_ok("start", "{\"name\":\"app\",\"wait\":true,\"timeout_secs\":5}");
	ck_assert_str_eq(state_of("db"), "running");
	ck_assert_str_eq(state_of("disk"), "running");
	brmh_check_stop(&H);
	unsetenv("BRUMMD_STATE_DIR");
	free(saved);
}
END_TEST

/* An operator's start of app right after a stop of db, while db is still
 * stopping: db starts again once stopped, and app after it. */
START_TEST(start_while_dependency_is_stopping)
{
	brmh_check_start(&H, "{\"processes\": {"
			 " \"db\": {\"cmd\": [\"%s\", \"ignore-term\"], \"start_secs\": 0,"
			 "   \"stop_timeout_secs\": 1.5},"
			 " \"app\": {\"cmd\": [\"%s\", \"sleep\", \"60\"], \"start_secs\": 0,"
			 "   \"depends_on\": [\"db\"]}"
			 "}}", brmh_child(), brmh_child());
	ck_assert(brmh_wait_state(&H, "app", "running", 5000));
	free(brmh_wait_log(&H, "db", "ignoring TERM", 3000));
	call_ok("stop", "{\"names\":[\"app\",\"db\"]}");
	ck_assert(brmh_wait_state(&H, "app", "stopped", 3000));
	ck_assert_str_eq(state_of("db"), "stopping");
	call_ok("start", "{\"name\":\"app\",\"wait\":true,\"timeout_secs\":5}");
	ck_assert_str_eq(state_of("db"), "running");
	brmh_check_stop(&H);
}
END_TEST

/* ---- bug 3 -------------------------------------------------------------- */

/* The seq of the first event after @after of @name going to @to, or -1. */
static long event_after(const cJSON *events, const char *name, const char *to, long after)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, events) {
		long seq = brmh_int(e, "seq");

		if (seq > after && !strcmp(brmh_str(e, "name"), name) &&
		    !strcmp(brmh_str(e, "to"), to))
			return seq;
	}
	return -1;
}

static long last_seq(void)
{
	cJSON *ev = brmh_events(&H, NULL);
	long seq = 0;
	const cJSON *e;

	ck_assert_ptr_nonnull(ev);
	cJSON_ArrayForEach(e, ev)
		seq = brmh_int(e, "seq");
	cJSON_Delete(ev);
	return seq;
}

/* @params: a restart of all, or of both by name. */
static void restart_in_order(const char *dependent, const char *params)
{
	long mark, stopped, db_stopping, db_starting, dep_starting;
	cJSON *ev;

	/* The dependent ignores SIGTERM: it is down only after its SIGKILL. */
	brmh_check_start(&H, "{\"processes\": {"
			 " \"db\": {\"cmd\": [\"%s\", \"sleep\", \"60\"], \"start_secs\": 0},"
			 " \"%s\": {\"cmd\": [\"%s\", \"ignore-term\"], \"start_secs\": 0,"
			 "   \"stop_timeout_secs\": 0.3, \"depends_on\": [\"db\"]}"
			 "}}", brmh_child(), dependent, brmh_child());
	ck_assert(brmh_wait_state(&H, dependent, "running", 5000));
	free(brmh_wait_log(&H, dependent, "ignoring TERM", 3000));
	mark = last_seq();
	call_ok("restart", params);
	ck_assert_str_eq(state_of("db"), "running");
	ck_assert_str_eq(state_of(dependent), "running");

	ev = brmh_events(&H, NULL);
	ck_assert_ptr_nonnull(ev);
	stopped = event_after(ev, dependent, "stopped", mark);
	db_stopping = event_after(ev, "db", "stopping", mark);
	db_starting = event_after(ev, "db", "starting", mark);
	if (db_starting < 0)   /* start_secs 0: straight to running */
		db_starting = event_after(ev, "db", "running", mark);
	dep_starting = event_after(ev, dependent, "starting", mark);
	if (dep_starting < 0)
		dep_starting = event_after(ev, dependent, "running", mark);
	ck_assert_msg(stopped > 0 && db_stopping > stopped,
		      "%s: %s stopped at %ld, db stopping at %ld", params, dependent, stopped,
		      db_stopping);
	ck_assert_msg(db_starting > db_stopping && dep_starting > db_starting,
		      "%s: db stopping %ld, db up %ld, %s up %ld", params, db_stopping, db_starting,
		      dependent, dep_starting);
	cJSON_Delete(ev);
	brmh_check_stop(&H);
}

START_TEST(restart_all_stops_dependents_first)
{
	restart_in_order("api", "{\"all\":true,\"wait\":true,\"timeout_secs\":10}");
	restart_in_order("web", "{\"all\":true,\"wait\":true,\"timeout_secs\":10}");
}
END_TEST

/* db <- mig (a one-shot) <- api: restart --all runs mig again once db is
 * back, and api starts only after that run completed. */
START_TEST(restart_all_runs_oneshot_in_order)
{
	long mark, db_up, mig_start, mig_done, api_start;
	cJSON *ev;

	brmh_check_start(&H, "{\"processes\": {"
			 " \"db\": {\"cmd\": [\"%s\", \"sleep\", \"60\"], \"start_secs\": 0.2},"
			 " \"mig\": {\"type\": \"oneshot\", \"cmd\": [\"%s\", \"exit\", \"0\", \"0.3\"],"
			 "   \"depends_on\": [\"db\"]},"
			 " \"api\": {\"cmd\": [\"%s\", \"sleep\", \"60\"], \"start_secs\": 0,"
			 "   \"depends_on\": {\"mig\": \"completed\"}}"
			 "}}", brmh_child(), brmh_child(), brmh_child());
	ck_assert(brmh_wait_state(&H, "api", "running", 5000));
	mark = last_seq();
	call_ok("restart", "{\"all\":true,\"wait\":true,\"timeout_secs\":10}");
	ck_assert_str_eq(state_of("api"), "running");
	ck_assert_str_eq(state_of("mig"), "exited");

	ev = brmh_events(&H, NULL);
	ck_assert_ptr_nonnull(ev);
	db_up = event_after(ev, "db", "running", mark);
	mig_start = event_after(ev, "mig", "starting", mark);
	mig_done = event_after(ev, "mig", "exited", mark);
	api_start = event_after(ev, "api", "starting", mark);
	if (api_start < 0)
		api_start = event_after(ev, "api", "running", mark);
	ck_assert_msg(db_up > 0 && mig_start > db_up && mig_done > mig_start &&
		      api_start > mig_done, "db running %ld, mig starting %ld, exited %ld,"
		      " api up %ld", db_up, mig_start, mig_done, api_start);
	cJSON_Delete(ev);
	brmh_check_stop(&H);
}
END_TEST

START_TEST(restart_of_several_stops_dependents_first)
{
	restart_in_order("api", "{\"names\":[\"db\",\"api\"],\"wait\":true,\"timeout_secs\":10}");
}
END_TEST

/* ---- bug 4 -------------------------------------------------------------- */

START_TEST(health_restart_leaves_stopped_dependency_alone)
{
	static char dir[128];
	char flag[300], *out = NULL, *err = NULL;
	FILE *f;


	ck_assert_ptr_nonnull(brmh_tmpdir(dir, sizeof(dir), "brmintent"));
	snprintf(flag, sizeof(flag), "%s/unhealthy", dir);
	brmh_check_start(&H, "{\"processes\": {"
			 " \"redis\": {\"cmd\": [\"%s\", \"sleep\", \"60\"], \"start_secs\": 0},"
			 " \"app\": {\"cmd\": [\"%s\", \"sleep\", \"60\"], \"start_secs\": 0,"
			 "   \"depends_on\": [\"redis\"],"
			 "   \"health\": {\"exec\": [\"/bin/sh\", \"-c\", \"test ! -e '%s'\"],"
			 "     \"interval_secs\": 0.05, \"retries\": 1, \"on_unhealthy\": \"restart\"}}"
			 "}}", brmh_child(), brmh_child(), flag);
	ck_assert(brmh_wait_state(&H, "app", "running", 5000));
	call_ok("stop", "{\"name\":\"redis\",\"wait\":true}");

	f = fopen(flag, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	ck_assert_msg(brmh_wait_state(&H, "app", "waiting", 5000), "app is %s", state_of("app"));
	ck_assert_msg(wait_waiting_for("app", "redis: stopped by request", 2000),
		      "app waits for: %s", waiting_for("app"));
	brmh_sleep_ms(300);
	ck_assert_str_eq(state_of("redis"), "stopped");
	ck_assert_str_eq(state_of("app"), "waiting");

	/* status says why */
	ck_assert_int_eq(brmh_ctl(&H, &out, &err, "status", NULL), 0);
	ck_assert_msg(strstr(out, "waiting for redis: stopped by request"), "status: %s", out);
	free(out);
	free(err);

	/* an operator's start of app releases redis */
	unlink(flag);
	call_ok("start", "{\"name\":\"app\",\"wait\":true,\"timeout_secs\":5}");
	ck_assert_str_eq(state_of("redis"), "running");
	brmh_check_stop(&H);
}
END_TEST

BRM_TEST_CASE("intent", "intent", 30,
	dependency_started_for_aweb_runs_after_restart,
	dependency_started_for_web_runs_after_restart,
	startup_does_not_depend_on_names,
	reload_adds_all_before_starting,
	start_of_waiting_starts_what_it_needs,
	start_of_waiting_starts_the_whole_chain,
	start_while_dependency_is_stopping,
	restart_all_stops_dependents_first,
	restart_of_several_stops_dependents_first,
	restart_all_runs_oneshot_in_order,
	health_restart_leaves_stopped_dependency_alone);
