/*
 * test_visibility.c — seeing health and waiting, end to end: a real
 * brummd, real children, and a health probe whose verdict and output the
 * test sets through a file. Health transitions are events of kind
 * "health" with the probe's output as one bounded line; the status table
 * has a HEALTH column; a waiting process says what it waits for in status,
 * the table and its event; event reasons name their cause (a failing
 * probe, a reload) and say nothing twice.
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
static char dir[128];

/* The probe prints the file "probe" in the test's directory (read once)
 * and passes when it starts with "ok". */
static const char *probe_json(void)
{
	return brmh_fmt("{\"exec\": [\"/bin/sh\", \"-c\", \"p=$(cat %s/probe); printf '%%s\\\\n' \\\"$p\\\";"
			" case $p in ok*) exit 0;; esac; exit 1\"], \"interval_secs\": 0.05,"
			" \"retries\": 1", dir);
}

static void set_probe(const char *text)
{
	char path[256], tmp[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/probe", dir);
	snprintf(tmp, sizeof(tmp), "%s/probe.tmp", dir);
	f = fopen(tmp, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	ck_assert_int_eq(rename(tmp, path), 0);
}

/* Poll until @name's snapshot field @key equals @want (NULL: null). */
static bool wait_field(const char *name, const char *key, const char *want, int ms)
{
	for (int waited = 0; waited <= ms; waited += 10) {
		cJSON *s = brmh_status(&H, name);
		const char *v = s ? brmh_str(s, key) : NULL;
		bool hit = want ? v && !strcmp(v, want) : s && !v;

		cJSON_Delete(s);
		if (hit)
			return true;
		brmh_sleep_ms(10);
	}
	return false;
}

/* The first event of @name in the history with @kind and @to, after
 * @from_seq; a copy (caller deletes) or NULL. */
static cJSON *find_event(const char *name, const char *kind, const char *to, long from_seq)
{
	cJSON *events = brmh_events(&H, name), *hit = NULL;
	const cJSON *e;

	ck_assert_ptr_nonnull(events);
	cJSON_ArrayForEach(e, events) {
		if (brmh_int(e, "seq") > from_seq && !strcmp(brmh_str(e, "kind"), kind) &&
		    brmh_str(e, "to") && !strcmp(brmh_str(e, "to"), to)) {
			hit = cJSON_Duplicate(e, 1);
			break;
		}
	}
	cJSON_Delete(events);
	return hit;
}

static cJSON *wait_event(const char *name, const char *kind, const char *to, long from_seq,
			 int ms)
{
	for (int waited = 0; waited <= ms; waited += 20) {
		cJSON *e = find_event(name, kind, to, from_seq);

		if (e)
			return e;
		brmh_sleep_ms(20);
	}
	ck_abort_msg("no %s event of %s to %s after seq %ld within %d ms", kind, name, to,
		     from_seq, ms);
	return NULL;
}

/* The line of `brummctl status` that starts with "@name ", copied. */
static char *table_row(const char *table, const char *name)
{
	size_t n = strlen(name);

	for (const char *l = table; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (!strncmp(l, name, n) && l[n] == ' ') {
			const char *e = strchr(l, '\n');
			return strndup(l, e ? (size_t)(e - l) : strlen(l));
		}
	}
	return NULL;
}

/* Whitespace-separated field @i (0-based) of @row, copied. */
static char *column(const char *row, int i)
{
	char *copy = strdup(row), *save = NULL, *tok = strtok_r(copy, " ", &save), *r;

	while (tok && i-- > 0)
		tok = strtok_r(NULL, " ", &save);
	r = strdup(tok ? tok : "");
	free(copy);
	return r;
}

static void check_health_cell(const char *name, const char *want)
{
	char *out = NULL, *err = NULL, *row, *cell;

	ck_assert_int_eq(brmh_ctl(&H, &out, &err, "status", NULL), 0);
	ck_assert_msg(!strncmp(out, "NAME ", 5) && strstr(out, "STATE") &&
		      strstr(out, "HEALTH") > strstr(out, "STATE") &&
		      strstr(out, "HEALTH") < strchr(out, '\n'), "no HEALTH column:\n%s", out);
	row = table_row(out, name);
	ck_assert_msg(row, "no row for %s:\n%s", name, out);
	cell = column(row, 2);
	ck_assert_msg(!strcmp(cell, want), "%s: HEALTH '%s', want '%s'\n%s", name, cell, want, out);
	free(cell);
	free(row);
	free(out);
	free(err);
}

START_TEST(health_transitions_are_events_with_their_output)
{
	char longtext[512], want[256];
	cJSON *e;
	long seq;
	char *out = NULL, *err = NULL;
	int n;

	ck_assert_ptr_nonnull(brmh_tmpdir(dir, sizeof(dir), "brmvis"));
	set_probe("ok fine\n");
	brmh_check_start(&H, "{\"processes\": {"
			 "\"db\": {\"cmd\": [\"%s\", \"sleep\", \"3600\"], \"start_secs\": 0,"
			 " \"health\": %s}},"
			 "\"plain\": {\"cmd\": [\"%s\", \"sleep\", \"3600\"], \"start_secs\": 0}}}",
			 brmh_child(), probe_json(), brmh_child());
	ck_assert(wait_field("db", "health", "healthy", 5000));
	ck_assert(brmh_wait_state(&H, "plain", "running", 3000));

	/* unknown -> healthy, with the output */
	e = wait_event("db", "health", "healthy", 0, 2000);
	ck_assert_str_eq(brmh_str(e, "from"), "unknown");
	ck_assert_str_eq(brmh_str(e, "state"), "running");
	ck_assert_str_eq(brmh_str(e, "output"), "ok fine");
	ck_assert_str_eq(brmh_str(e, "reason"), "healthy: ok fine");
	ck_assert_int_gt(brmh_int(e, "pid"), 0);
	seq = brmh_int(e, "seq");
	cJSON_Delete(e);
	check_health_cell("db", "healthy");
	check_health_cell("plain", "-");

	/* healthy -> unhealthy: the output as one line, control bytes made
	 * blanks, cut at 200 bytes */
	n = snprintf(longtext, sizeof(longtext), "db down\n\t\033[31m");
	memset(longtext + n, 'x', 300);
	longtext[n + 300] = '\0';
	set_probe(longtext);
	e = wait_event("db", "health", "unhealthy", seq, 3000);
	n = snprintf(want, sizeof(want), "exit 1: db down [31m");
	memset(want + n, 'x', 200 - (size_t)n);
	strcpy(want + 200, "...");
	ck_assert_str_eq(brmh_str(e, "kind"), "health");
	ck_assert_str_eq(brmh_str(e, "from"), "healthy");
	ck_assert_str_eq(brmh_str(e, "health"), "unhealthy");
	ck_assert_str_eq(brmh_str(e, "output"), want);
	ck_assert_str_eq(brmh_str(e, "reason"), brmh_fmt("unhealthy: %s", want));
	seq = brmh_int(e, "seq");
	cJSON_Delete(e);
	check_health_cell("db", "unhealthy");

	/* ... and back */
	set_probe("ok again\n");
	e = wait_event("db", "health", "healthy", seq, 3000);
	ck_assert_str_eq(brmh_str(e, "from"), "unhealthy");
	ck_assert_str_eq(brmh_str(e, "reason"), "healthy: ok again");
	cJSON_Delete(e);

	/* State events say their kind too. */
	e = find_event("db", "state", "running", 0);
	ck_assert_ptr_nonnull(e);
	cJSON_Delete(e);

	/* brummctl events prints them readably. */
	ck_assert_int_eq(brmh_ctl(&H, &out, &err, "events", "db", "--history", "--count", "4",
				  NULL), 0);
	ck_assert_msg(strstr(out, "  db  health unknown -> healthy  pid ") &&
		      strstr(out, "  (ok fine)\n") &&
		      strstr(out, "  db  health healthy -> unhealthy  pid ") &&
		      strstr(out, "  (exit 1: db down [31mxxx"), "brummctl events:\n%s", out);
	free(out);
	free(err);
	brmh_check_stop(&H);
}
END_TEST

START_TEST(unhealthy_restart_and_reload_name_their_cause)
{
	cJSON *e, *r;
	long seq;
	int code;
	char path[320];
	FILE *f;

	ck_assert_ptr_nonnull(brmh_tmpdir(dir, sizeof(dir), "brmvis"));
	set_probe("ok\n");
	brmh_check_start(&H, "{\"processes\": {"
			 "\"app\": {\"cmd\": [\"%s\", \"sleep\", \"3600\"], \"start_secs\": 0,"
			 " \"health\": %s, \"on_unhealthy\": \"restart\"}}}}",
			 brmh_child(), probe_json());
	ck_assert(wait_field("app", "health", "healthy", 5000));
	e = wait_event("app", "health", "healthy", 0, 2000);
	seq = brmh_int(e, "seq");
	cJSON_Delete(e);

	set_probe("redis: connection refused\n");
	e = wait_event("app", "state", "stopping", seq, 3000);
	ck_assert_str_eq(brmh_str(e, "from"), "running");
	ck_assert_str_eq(brmh_str(e, "reason"), "unhealthy: exit 1: redis: connection refused");
	seq = brmh_int(e, "seq");
	cJSON_Delete(e);
	/* the start that follows says the same cause, once */
	e = wait_event("app", "state", "running", seq, 3000);
	ck_assert_str_eq(brmh_str(e, "reason"), "unhealthy: exit 1: redis: connection refused");
	seq = brmh_int(e, "seq");
	cJSON_Delete(e);
	set_probe("ok\n");
	ck_assert(wait_field("app", "health", "healthy", 5000));

	/* A reload that changes the command restarts it "for reload". */
	snprintf(path, sizeof(path), "%s/brummd.json", H.dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "{\"processes\": {\"app\": {\"cmd\": [\"%s\", \"sleep\", \"3601\"],"
		" \"start_secs\": 0, \"health\": %s, \"on_unhealthy\": \"restart\"}}}}\n",
		brmh_child(), probe_json());
	fclose(f);
	e = find_event("app", "state", "stopping", seq);
	ck_assert_ptr_null(e);
	r = brmh_call(&H, "reload", NULL);
	ck_assert_ptr_nonnull(brmh_result(r, &code));
	cJSON_Delete(r);
	e = wait_event("app", "state", "stopping", seq, 3000);
	ck_assert_str_eq(brmh_str(e, "reason"), "reload: cmd changed");
	seq = brmh_int(e, "seq");
	cJSON_Delete(e);
	e = wait_event("app", "state", "running", seq, 3000);
	ck_assert_str_eq(brmh_str(e, "reason"), "reload: cmd changed");
	seq = brmh_int(e, "seq");
	cJSON_Delete(e);

	/* An operator's restart afterwards has no stale cause. */
	r = brmh_call(&H, "restart", "{\"name\":\"app\",\"wait\":true}");
	ck_assert_ptr_nonnull(brmh_result(r, &code));
	cJSON_Delete(r);
	e = wait_event("app", "state", "stopping", seq, 3000);
	ck_assert_str_eq(brmh_str(e, "reason"), "stop");
	seq = brmh_int(e, "seq");
	cJSON_Delete(e);
	e = wait_event("app", "state", "running", seq, 3000);
	ck_assert_str_eq(brmh_str(e, "reason"), "restart");
	cJSON_Delete(e);
	brmh_check_stop(&H);
}
END_TEST

START_TEST(waiting_says_what_it_waits_for)
{
	char *out = NULL, *err = NULL, *row;
	cJSON *e, *r, *s;
	long seq;
	int code;

	ck_assert_ptr_nonnull(brmh_tmpdir(dir, sizeof(dir), "brmvis"));
	set_probe("starting up\n");
	/* Failures in the long start period do not count: db stays "unknown". */
	brmh_check_start(&H, "{\"processes\": {"
			 "\"db\": {\"cmd\": [\"%s\", \"sleep\", \"3600\"], \"start_secs\": 0,"
			 " \"health\": %s, \"start_period_secs\": 600}},"
			 "\"web\": {\"cmd\": [\"%s\", \"sleep\", \"3600\"], \"start_secs\": 0,"
			 " \"depends_on\": {\"db\": \"healthy\"}}}}",
			 brmh_child(), probe_json(), brmh_child());
	ck_assert(brmh_wait_state(&H, "web", "waiting", 3000));
	ck_assert_msg(wait_field("web", "waiting_for", "db: not healthy yet", 3000),
		      "waiting_for of web");

	/* the table says it in NOTE, and HEALTH says db's check has no verdict */
	ck_assert_int_eq(brmh_ctl(&H, &out, &err, "status", NULL), 0);
	ck_assert_msg(strstr(out, "NOTE"), "no NOTE column:\n%s", out);
	row = table_row(out, "web");
	ck_assert_msg(row && strstr(row, "   waiting for db: not healthy yet"), "row: %s\n%s",
		      row ? row : "(none)", out);
	free(row);
	free(out);
	free(err);
	check_health_cell("db", "starting");

	/* its event says it */
	e = wait_event("web", "state", "waiting", 0, 2000);
	ck_assert_str_eq(brmh_str(e, "reason"), "waiting for db: not healthy yet");
	seq = brmh_int(e, "seq");
	cJSON_Delete(e);

	/* db healthy: web starts, and no longer waits for anything */
	set_probe("ok\n");
	ck_assert(brmh_wait_state(&H, "web", "running", 3000));
	e = wait_event("web", "state", "running", seq, 2000);
	ck_assert_str_eq(brmh_str(e, "from"), "waiting");
	ck_assert_str_eq(brmh_str(e, "reason"), "dependencies met");
	cJSON_Delete(e);
	s = brmh_status(&H, "web");
	ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(s, "waiting_for")));
	cJSON_Delete(s);

	/* Started for a dependent: db's event says for whom. */
	r = brmh_call(&H, "stop", "{\"all\":true,\"wait\":true}");
	ck_assert_ptr_nonnull(brmh_result(r, &code));
	cJSON_Delete(r);
	e = wait_event("db", "state", "stopped", seq, 2000);
	seq = brmh_int(e, "seq");
	cJSON_Delete(e);
	r = brmh_call(&H, "start", "{\"name\":\"web\",\"wait\":true}");
	ck_assert_ptr_nonnull(brmh_result(r, &code));
	cJSON_Delete(r);
	e = wait_event("db", "state", "running", seq, 2000);
	ck_assert_str_eq(brmh_str(e, "from"), "stopped");
	ck_assert_str_eq(brmh_str(e, "reason"), "needed by web");
	cJSON_Delete(e);
	e = wait_event("web", "state", "waiting", seq, 2000);
	ck_assert_str_eq(brmh_str(e, "reason"), "waiting for db: not healthy yet");
	cJSON_Delete(e);

	/* A process added at runtime naming one that does not exist yet. */
	r = brmh_call(&H, "add", brmh_fmt("{\"name\":\"late\",\"spec\":{\"cmd\":[\"%s\",\"sleep\","
					  "\"3600\"],\"depends_on\":{\"cache\":\"started\"}}}",
					  brmh_child()));
	ck_assert_ptr_nonnull(brmh_result(r, &code));
	cJSON_Delete(r);
	ck_assert(brmh_wait_state(&H, "late", "waiting", 3000));
	ck_assert(wait_field("late", "waiting_for", "cache: no such process yet", 3000));
	/* the wait's failure detail says it too */
	ck_assert_int_eq(brmh_ctl(&H, &out, &err, "wait", "late", "--state", "running",
				  "--timeout", "0.2", NULL), 1);
	ck_assert_msg(strstr(err, "late: waiting (waiting for cache: no such process yet)") ||
		      strstr(out, "late: waiting (waiting for cache: no such process yet)"),
		      "out: %s\nerr: %s", out, err);
	free(out);
	free(err);
	r = brmh_call(&H, "wait", "{\"name\":\"late\",\"state\":\"running\",\"timeout_secs\":0.2}");
	ck_assert_ptr_null(brmh_result(r, &code));
	{
		const cJSON *er = cJSON_GetObjectItemCaseSensitive(r, "error");
		const char *msg = brmh_str(er, "message");

		ck_assert_msg(msg && strstr(msg, "late is waiting for cache: no such process yet"),
			      "wait error: %s", msg ? msg : "(none)");
	}
	cJSON_Delete(r);
	brmh_check_stop(&H);
}
END_TEST

START_TEST(event_reasons_say_each_thing_once)
{
	cJSON *e, *s, *r;
	const char *reason;
	long seq;
	int code;

	brmh_check_start(&H, "{\"processes\": {"
			 "\"f\": {\"cmd\": [\"%s\", \"exit\", \"3\"], \"start_secs\": 1,"
			 " \"start_retries\": 1, \"backoff_secs\": 0.05},"
			 "\"after\": {\"cmd\": [\"%s\", \"sleep\", \"3600\"],"
			 " \"depends_on\": {\"f\": \"running\"}},"
			 "\"slow\": {\"cmd\": [\"%s\", \"exit\", \"3\"], \"start_secs\": 1,"
			 " \"backoff_secs\": 30}}}",
			 brmh_child(), brmh_child(), brmh_child());
	ck_assert(brmh_wait_state(&H, "f", "fatal", 5000));

	/* fatal: its error says it gave up, and the event says it once */
	s = brmh_status(&H, "f");
	e = wait_event("f", "state", "fatal", 0, 2000);
	reason = brmh_str(e, "reason");
	ck_assert_str_eq(reason, brmh_str(s, "error"));
	ck_assert_msg(strstr(reason, "; gave up after 2 failed starts") &&
		      !strstr(strstr(reason, "gave up") + 1, "gave up"), "reason: %s", reason);
	ck_assert_msg(!strncmp(reason, "exited with code 3 after ", 25) &&
		      !strstr(reason + 1, "exited with code"), "reason: %s", reason);
	cJSON_Delete(e);
	cJSON_Delete(s);

	/* the retry in between counts from 1 */
	e = wait_event("f", "state", "starting", 0, 2000);
	cJSON_Delete(e);
	e = find_event("f", "state", "backoff", 0);
	ck_assert_ptr_nonnull(e);
	cJSON_Delete(e);

	/* a dependent made fatal by it: the dependency's fault, said once */
	ck_assert(brmh_wait_state(&H, "after", "fatal", 3000));
	e = wait_event("after", "state", "fatal", 0, 2000);
	ck_assert_str_eq(brmh_str(e, "reason"), "dependency 'f' is fatal");
	cJSON_Delete(e);

	/* stopped in backoff: a stop, not the last start error again */
	ck_assert(brmh_wait_state(&H, "slow", "backoff", 3000));
	e = wait_event("slow", "state", "backoff", 0, 2000);
	seq = brmh_int(e, "seq");
	cJSON_Delete(e);
	r = brmh_call(&H, "stop", "{\"name\":\"slow\",\"wait\":true}");
	ck_assert_ptr_nonnull(brmh_result(r, &code));
	cJSON_Delete(r);
	e = wait_event("slow", "state", "stopped", seq, 2000);
	ck_assert_str_eq(brmh_str(e, "from"), "backoff");
	ck_assert_str_eq(brmh_str(e, "reason"), "stop");
	cJSON_Delete(e);
	brmh_check_stop(&H);
}
END_TEST

BRM_TEST_CASE("visibility", "visibility", 30,
	health_transitions_are_events_with_their_output,
	unhealthy_restart_and_reload_name_their_cause,
	waiting_says_what_it_waits_for,
	event_reasons_say_each_thing_once);
