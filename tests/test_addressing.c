/*
 * test_addressing.c — what a name in a request addresses (proto/selector.h,
 * daemon/rpc/targets.h), end to end with real children: an instance group's
 * name in status, logs, errors, events, start, stop, restart, signal and
 * wait; glob patterns; depends_on a group; `logs` of every process merged
 * with name prefixes, and a follow that picks up processes added later;
 * the bounds on patterns, and a pattern built to make a backtracking
 * matcher explode.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/conf/config.h"
#include "proto/selector.h"
#include "tests/e2e.h"
#include "tests/harness.h"
#include "tests/suite.h"

static struct brmh H;

/* worker:0..2 report signals; web and webapi sleep. */
static void start_stack(void)
{
	brmh_check_start(&H,
		"{\"processes\":{"
		"\"worker\":{\"cmd\":[\"%s\",\"sigreport\"],\"instances\":3,\"start_secs\":0,"
		"\"stop_timeout_secs\":2},"
		"\"web\":{\"cmd\":[\"%s\",\"print\",\"out\",\"web says hi\"],\"start_secs\":0},"
		"\"webapi\":{\"cmd\":[\"%s\",\"print\",\"err\",\"api says hi\"],\"start_secs\":0}}}",
		brmh_child(), brmh_child(), brmh_child());
	ck_assert(brmh_wait_state(&H, "worker:0", "running", 5000));
	ck_assert(brmh_wait_state(&H, "worker:1", "running", 5000));
	ck_assert(brmh_wait_state(&H, "worker:2", "running", 5000));
	ck_assert(brmh_wait_state(&H, "web", "running", 5000));
	ck_assert(brmh_wait_state(&H, "webapi", "running", 5000));
}

/* The names in a {"processes":[...]} result, comma-separated. */
static const char *names_of(const cJSON *res)
{
	static char buf[1024];
	const cJSON *it;
	size_t o = 0;

	buf[0] = '\0';
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(res, "processes"))
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s", o ? "," : "",
				      brmh_str(it, "name"));
	return buf;
}

/* Call and expect success; returns the names the result lists. */
static const char *call_names(const char *method, const char *params)
{
	static char copy[1024];
	cJSON *r = brmh_call(&H, method, params);
	int code;
	const cJSON *res = brmh_result(r, &code);
	char *text = cJSON_PrintUnformatted(r);

	ck_assert_msg(code == 0, "%s %s: %s", method, params, text);
	snprintf(copy, sizeof(copy), "%s", names_of(res));
	free(text);
	cJSON_Delete(r);
	return copy;
}

/* Call and expect error @want with @needle in its message. */
static void call_error(const char *method, const char *params, int want, const char *needle)
{
	cJSON *r = brmh_call(&H, method, params);
	const cJSON *err = cJSON_GetObjectItemCaseSensitive(r, "error");
	const char *msg = brmh_str(err, "message");
	char *text = cJSON_PrintUnformatted(r);

	ck_assert_msg(brmh_int(err, "code") == want && msg && strstr(msg, needle),
		      "%s %s: want %d '%s', got %s", method, params, want, needle, text);
	free(text);
	cJSON_Delete(r);
}

static long pid_of(const char *name)
{
	cJSON *s = brmh_status(&H, name);
	long pid = brmh_int(s, "pid");

	cJSON_Delete(s);
	return pid;
}

static const char *state_of(const char *name)
{
	static char buf[32];
	cJSON *s = brmh_status(&H, name);

	snprintf(buf, sizeof(buf), "%s", s ? brmh_str(s, "state") : "?");
	cJSON_Delete(s);
	return buf;
}

START_TEST(group_name_in_every_command)
{
	long before[3];
	char *out = NULL, *err = NULL;
	cJSON *r;
	const cJSON *res, *it;
	int code, n;

	start_stack();
	for (int i = 0; i < 3; i++) {
		char *line = brmh_wait_log(&H, brmh_fmt("worker:%d", i), "ready grandchild", 5000);
		ck_assert_msg(line, "worker:%d never got ready", i);
		free(line);
	}

	/* status: the group, and a process by its own name as before */
	ck_assert_str_eq(call_names("status", "{\"name\":\"worker\"}"),
			 "worker:0,worker:1,worker:2");
	ck_assert_str_eq(call_names("status", "{\"names\":[\"web\",\"worker\"]}"),
			 "web,worker:0,worker:1,worker:2");
	r = brmh_call(&H, "status", "{\"name\":\"web\"}");
	res = brmh_result(r, &code);
	ck_assert_int_eq(code, 0);
	ck_assert_str_eq(brmh_str(res, "name"), "web");
	cJSON_Delete(r);
	call_error("status", "{\"name\":\"nope\"}", -32001, "no such process 'nope'");
	call_error("status", "{\"name\":\"work\"}", -32001, "no such process 'work'");

	/* signal: every instance's main process gets it */
	ck_assert_str_eq(call_names("signal", "{\"name\":\"worker\",\"signal\":\"USR1\"}"),
			 "worker:0,worker:1,worker:2");
	for (int i = 0; i < 3; i++) {
		char *line = brmh_wait_log(&H, brmh_fmt("worker:%d", i),
					   brmh_fmt("main got %d", SIGUSR1), 5000);
		ck_assert_msg(line, "worker:%d did not get USR1", i);
		free(line);
	}

	/* stop, start, restart, wait: all three, nothing else */
	ck_assert_str_eq(call_names("stop", "{\"name\":\"worker\",\"wait\":true}"),
			 "worker:0,worker:1,worker:2");
	for (int i = 0; i < 3; i++)
		ck_assert_str_eq(state_of(brmh_fmt("worker:%d", i)), "stopped");
	ck_assert_str_eq(state_of("web"), "running");
	ck_assert_str_eq(call_names("wait", "{\"name\":\"worker\",\"state\":\"stopped\"}"),
			 "worker:0,worker:1,worker:2");
	ck_assert_str_eq(call_names("start", "{\"name\":\"worker\",\"wait\":true}"),
			 "worker:0,worker:1,worker:2");
	for (int i = 0; i < 3; i++)
		before[i] = pid_of(brmh_fmt("worker:%d", i));
	ck_assert_str_eq(call_names("restart", "{\"names\":[\"worker\"],\"wait\":true}"),
			 "worker:0,worker:1,worker:2");
	for (int i = 0; i < 3; i++) {
		long now = pid_of(brmh_fmt("worker:%d", i));
		ck_assert_msg(now > 0 && now != before[i], "worker:%d kept pid %ld", i, now);
	}
	ck_assert_str_eq(call_names("wait", "{\"name\":\"worker\",\"state\":\"running\"}"),
			 "worker:0,worker:1,worker:2");
	/* the CLI: brummctl wait worker */
	ck_assert_int_eq(brmh_ctl(&H, &out, &err, "wait", "worker", "--state", "running", NULL), 0);
	ck_assert_msg(strstr(out, "worker:0") && strstr(out, "worker:2") && !strstr(out, "web"),
		      "%s", out);
	free(out);
	free(err);

	/* logs: the lines of every instance, with their names */
	r = brmh_call(&H, "logs", "{\"name\":\"worker\",\"lines\":1000}");
	res = brmh_result(r, &code);
	ck_assert_int_eq(code, 0);
	n = 0;
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(res, "lines")) {
		ck_assert_msg(!strncmp(brmh_str(it, "name"), "worker:", 7), "%s",
			      brmh_str(it, "name"));
		n++;
	}
	ck_assert_int_gt(n, 6);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(res, "next_seq")), 3);
	cJSON_Delete(r);

	/* errors: takes the group too */
	r = brmh_call(&H, "errors", "{\"name\":\"worker\"}");
	brmh_result(r, &code);
	ck_assert_int_eq(code, 0);
	cJSON_Delete(r);
	call_error("errors", "{\"name\":\"nope\"}", -32001, "no such process 'nope'");
	/* remove takes one process by its own name, never a group */
	call_error("remove", "{\"name\":\"worker\"}", -32001, "no such process 'worker'");

	/* events: the group's, not web's */
	r = brmh_call(&H, "events", "{\"name\":\"worker\",\"history\":true,\"follow\":false}");
	res = brmh_result(r, &code);
	ck_assert_int_eq(code, 0);
	n = 0;
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(res, "events")) {
		ck_assert_msg(!strncmp(brmh_str(it, "name"), "worker:", 7), "%s",
			      brmh_str(it, "name"));
		n++;
	}
	ck_assert_int_gt(n, 9);
	cJSON_Delete(r);

	brmh_check_stop(&H);
}
END_TEST

START_TEST(glob_patterns_in_stop_and_status)
{
	char *out = NULL, *err = NULL;
	cJSON *r;
	const cJSON *res, *it;
	int code;

	start_stack();
	ck_assert_str_eq(call_names("status", "{\"name\":\"web*\"}"), "web,webapi");
	ck_assert_str_eq(call_names("status", "{\"name\":\"?eb\"}"), "web");
	ck_assert_str_eq(call_names("status", "{\"name\":\"*:[02]\"}"), "worker:0,worker:2");
	ck_assert_str_eq(call_names("status", "{\"name\":\"*:[!02]\"}"), "worker:1");
	ck_assert_str_eq(call_names("status", "{\"names\":[\"webapi\",\"w*\"]}"),
			 "webapi,web,worker:0,worker:1,worker:2");
	call_error("status", "{\"name\":\"zz*\"}", -32001, "no process matches 'zz*'");
	call_error("stop", "{\"names\":[\"web\",\"zz*\"]}", -32001, "no process matches 'zz*'");
	ck_assert_str_eq(state_of("web"), "running");   /* nothing was applied */

	/* stop 'web*': both, and only them */
	ck_assert_str_eq(call_names("stop", "{\"name\":\"web*\",\"wait\":true}"), "web,webapi");
	ck_assert_str_eq(state_of("web"), "stopped");
	ck_assert_str_eq(state_of("webapi"), "stopped");
	for (int i = 0; i < 3; i++)
		ck_assert_str_eq(state_of(brmh_fmt("worker:%d", i)), "running");

	/* the CLI takes patterns in stop and status */
	ck_assert_int_eq(brmh_ctl(&H, &out, &err, "start", "web*", NULL), 0);
	free(out);
	free(err);
	ck_assert_int_eq(brmh_ctl(&H, &out, &err, "status", "--no-stats", "web*", NULL), 0);
	ck_assert_msg(strstr(out, "webapi") && !strstr(out, "worker"), "%s", out);
	free(out);
	free(err);
	ck_assert_int_eq(brmh_ctl(&H, &out, &err, "stop", "zz*", NULL), 1);
	ck_assert_msg(strstr(err, "no process matches 'zz*'"), "%s", err);
	free(out);
	free(err);

	/* events by pattern */
	r = brmh_call(&H, "events", "{\"name\":\"web*\",\"history\":true,\"follow\":false}");
	res = brmh_result(r, &code);
	ck_assert_int_eq(code, 0);
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(res, "events"))
		ck_assert_msg(!strncmp(brmh_str(it, "name"), "web", 3), "%s", brmh_str(it, "name"));
	cJSON_Delete(r);

	brmh_check_stop(&H);
}
END_TEST

/* The seq of the first (@last: the last) event of @name to state @to, or 0. */
static long event_seq(const cJSON *events, const char *name, const char *to, bool last)
{
	const cJSON *it;
	long seq = 0;

	cJSON_ArrayForEach(it, events) {
		if (strcmp(brmh_str(it, "name"), name) || strcmp(brmh_str(it, "to"), to))
			continue;
		seq = brmh_int(it, "seq");
		if (!last)
			break;
	}
	return seq;
}

START_TEST(depends_on_a_group_waits_for_every_instance)
{
	cJSON *ev;
	long app_start, last_ready;
	bool seen_partial = false;

	/* worker:i says it is ready after i seconds */
	brmh_check_start(&H,
		"{\"processes\":{"
		"\"worker\":{\"cmd\":\"exec %s notify-fd 3 $BRUMMD_INSTANCE\",\"shell\":true,"
		"\"instances\":3,\"ready\":\"notify-fd\",\"notify_fd\":3},"
		"\"app\":{\"cmd\":[\"%s\",\"sleep\",\"3600\"],\"start_secs\":0,"
		"\"depends_on\":{\"worker\":\"running\"}}}}",
		brmh_child(), brmh_child());
	/* While worker:2 is not ready, app waits, though the others are. */
	for (int t = 0; t < 400 && strcmp(state_of("worker:2"), "running"); t++) {
		if (!strcmp(state_of("worker:1"), "running") &&
		    strcmp(state_of("worker:2"), "running")) {
			cJSON *app = brmh_status(&H, "app");
			const char *why = brmh_str(app, "waiting_for");

			/* app may have been judged just before worker:2 got ready */
			if (!strcmp(brmh_str(app, "state"), "waiting")) {
				ck_assert_msg(why && !strncmp(why, "worker:2: ", 10), "waiting for %s",
					      why ? why : "(null)");
				seen_partial = true;
			}
			cJSON_Delete(app);
		}
		brmh_sleep_ms(10);
	}
	ck_assert_msg(seen_partial, "never saw worker:1 running before worker:2");
	ck_assert(brmh_wait_state(&H, "app", "running", 5000));
	/* The snapshot is published a moment before the event is recorded
	 * (both on the loop thread): a status may show it first. */
	for (int t = 0;; t++) {
		ev = brmh_events(&H, NULL);
		ck_assert_ptr_nonnull(ev);
		app_start = event_seq(ev, "app", "running", false);
		last_ready = event_seq(ev, "worker:2", "running", false);
		if ((app_start > 0 && last_ready > 0) || t == 100)
			break;
		cJSON_Delete(ev);
		brmh_sleep_ms(10);
	}
	ck_assert_msg(app_start > 0 && last_ready > 0 && app_start > last_ready,
		      "app started at event %ld, worker:2 running at %ld", app_start, last_ready);
	cJSON_Delete(ev);

	/* stop --all: app (the dependent) is down before any worker is stopped */
	{
		cJSON *r = brmh_call(&H, "stop", "{\"all\":true,\"wait\":true}");
		int code;
		long app_down, first_worker_stop = 0;

		brmh_result(r, &code);
		ck_assert_int_eq(code, 0);
		cJSON_Delete(r);
		ev = brmh_events(&H, NULL);
		app_down = event_seq(ev, "app", "stopped", true);
		for (int i = 0; i < 3; i++) {
			long s = event_seq(ev, brmh_fmt("worker:%d", i), "stopping", true);
			if (s && (!first_worker_stop || s < first_worker_stop))
				first_worker_stop = s;
		}
		ck_assert_msg(app_down > 0 && first_worker_stop > app_down,
			      "app stopped at %ld, first worker stopping at %ld", app_down,
			      first_worker_stop);
		cJSON_Delete(ev);
	}
	/* start app starts the whole group it needs */
	{
		cJSON *r = brmh_call(&H, "start", "{\"name\":\"app\",\"wait\":true,"
				     "\"timeout_secs\":10}");
		int code;

		brmh_result(r, &code);
		ck_assert_int_eq(code, 0);
		cJSON_Delete(r);
		for (int i = 0; i < 3; i++)
			ck_assert_str_eq(state_of(brmh_fmt("worker:%d", i)), "running");
	}
	brmh_check_stop(&H);
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

START_TEST(depends_on_a_group_in_the_config)
{
	char *err;

	err = parse_err("{\"processes\":{\"w\":{\"cmd\":[\"x\"],\"instances\":2},"
			"\"a\":{\"cmd\":[\"y\"],\"depends_on\":{\"w\":\"running\"}}}}");
	ck_assert_msg(!err, "%s", err);
	err = parse_err("{\"processes\":{\"w\":{\"cmd\":[\"x\"],\"instances\":2},"
			"\"a\":{\"cmd\":[\"y\"],\"depends_on\":{\"w\":\"healthy\"}}}}");
	ck_assert_msg(err && strstr(err, "processes.a.depends_on.w: \"healthy\" needs a"), "%s", err);
	free(err);
	err = parse_err("{\"processes\":{\"w\":{\"cmd\":[\"x\"],\"instances\":2,"
			"\"depends_on\":{\"a\":\"started\"}},"
			"\"a\":{\"cmd\":[\"y\"],\"depends_on\":{\"w\":\"running\"}}}}");
	ck_assert_msg(err && strstr(err, "dependency cycle"), "%s", err);
	free(err);
	err = parse_err("{\"processes\":{\"w\":{\"cmd\":[\"x\"],\"instances\":2},"
			"\"a\":{\"cmd\":[\"y\"],\"depends_on\":{\"ww\":\"running\"}}}}");
	ck_assert_msg(err && strstr(err, "processes.a.depends_on.ww: no such process"), "%s", err);
	free(err);
}
END_TEST

START_TEST(logs_of_everything_merged_and_followed)
{
	char dir[256], outp[300], errp[300], outp2[300], errp2[300];
	char *out = NULL, *err = NULL, *text;
	const char *web, *api;
	pid_t all, group;

	ck_assert_ptr_nonnull(brmh_tmpdir(dir, sizeof(dir), "brm-addr"));
	start_stack();
	text = brmh_wait_log(&H, "web", "web says hi", 5000);
	ck_assert_ptr_nonnull(text);
	free(text);
	text = brmh_wait_log(&H, "webapi", "api says hi", 5000);
	ck_assert_ptr_nonnull(text);
	free(text);

	/* logs with no name: every process, one column of names, by time */
	ck_assert_int_eq(brmh_ctl(&H, &out, &err, "logs", "-n", "1000", NULL), 0);
	web = strstr(out, " web      | web says hi\n");
	api = strstr(out, " webapi   ! api says hi\n");
	ck_assert_msg(web && api, "%s", out);
	ck_assert_msg(strstr(out, " worker:0 - started with pid") &&
		      strstr(out, " worker:2 - started with pid"), "%s", out);
	{
		/* merged by time: each line's timestamp is not before the previous */
		char prev[32] = "", *line = out;
		while (line && *line) {
			char ts[32];
			char *nl = strchr(line, '\n');

			snprintf(ts, sizeof(ts), "%.23s", line);
			ck_assert_msg(strcmp(ts, prev) >= 0, "'%s' after '%s'", ts, prev);
			snprintf(prev, sizeof(prev), "%s", ts);
			line = nl ? nl + 1 : NULL;
		}
	}
	free(out);
	free(err);

	/* follow everything, and a group: processes that appear later come too */
	snprintf(outp, sizeof(outp), "%s/all.out", dir);
	snprintf(errp, sizeof(errp), "%s/all.err", dir);
	snprintf(outp2, sizeof(outp2), "%s/group.out", dir);
	snprintf(errp2, sizeof(errp2), "%s/group.err", dir);
	all = brmh_ctl_spawn(&H, outp, errp, "logs", "-f", "-n", "0", NULL);
	group = brmh_ctl_spawn(&H, outp2, errp2, "logs", "-f", "-n", "0", "worker", NULL);
	ck_assert(all > 0 && group > 0);
	brmh_sleep_ms(300);
	ck_assert_msg(brmh_ctl(&H, &out, &err, "add", "late", "--", brmh_child(), "print", "out",
			       "late line", NULL) == 0, "%s", err);
	free(out);
	free(err);
	ck_assert_int_eq(brmh_ctl(&H, &out, &err, "add", "worker:3", "--", brmh_child(), "print",
				  "out", "fourth worker", NULL), 0);
	free(out);
	free(err);
	for (int t = 0; t < 500; t++) {
		char *a = brmh_read_file(outp), *g = brmh_read_file(outp2);
		bool done = a && g && strstr(a, "late     | late line") &&
			    strstr(a, "worker:3 | fourth worker") && strstr(g, "worker:3 | fourth worker");
		free(a);
		free(g);
		if (done)
			break;
		brmh_sleep_ms(10);
	}
	kill(all, SIGTERM);
	kill(group, SIGTERM);
	ck_assert_int_eq(brmh_wait_exit(all, 5000), 0);
	ck_assert_int_eq(brmh_wait_exit(group, 5000), 0);
	text = brmh_read_file(outp);
	ck_assert_msg(text && strstr(text, "late     | late line") &&
		      strstr(text, "worker:3 | fourth worker"), "all: %s", text);
	free(text);
	text = brmh_read_file(outp2);
	ck_assert_msg(text && strstr(text, "worker:3 | fourth worker") && !strstr(text, "late"),
		      "group: %s", text);
	free(text);
	brmh_check_stop(&H);
}
END_TEST

/*
 * `logs` of every process with lines 10000 keeps the newest 10000 lines
 * over all of them, not 10000 per process: 60 processes of 2048 lines
 * each (123k lines, ~16 MB as JSON) cost brummd little more than the
 * reply.
 */
START_TEST(logs_of_everything_is_bounded_by_lines)
{
	long hwm0, hwm1;
	char *out = NULL, *err = NULL;
	bool names[60] = { false };
	int code, n = 0;
	double prev = 0;

	brmh_check_start(&H, "{\"processes\":{}}");
	for (int i = 0; i < 60; i++) {
		cJSON *a = brmh_call(&H, "add", brmh_fmt("{\"name\":\"f%02d\",\"spec\":{\"cmd\":[\"%s\","
						       "\"flood\",\"131072\"],\"restart\":\"never\","
						       "\"start_secs\":0}}", i, brmh_child()));
		brmh_result(a, &code);
		ck_assert_int_eq(code, 0);
		cJSON_Delete(a);
	}
	for (int i = 0; i < 60; i++)
		ck_assert(brmh_wait_state(&H, brmh_fmt("f%02d", i), "exited", 10000));
	hwm0 = brmh_vm_kb(H.pid, "VmHWM:");
	/* (through brummctl: the reply is one line of ~1.3 MB) */
	ck_assert_int_eq(brmh_ctl(&H, &out, &err, "logs", "--json", "--stdout", "-n", "10000", NULL),
			 0);
	hwm1 = brmh_vm_kb(H.pid, "VmHWM:");
	for (char *line = out, *nl; line && *line; line = nl ? nl + 1 : NULL) {
		cJSON *j;
		double ts;

		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		j = cJSON_Parse(line);
		ck_assert_ptr_nonnull(j);
		ts = cJSON_GetObjectItemCaseSensitive(j, "ts")->valuedouble;
		ck_assert_msg(ts >= prev, "line %d out of order", n);
		prev = ts;
		names[atoi(brmh_str(j, "name") + 1)] = true;
		cJSON_Delete(j);
		n++;
	}
	ck_assert_int_eq(n, 10000);
	free(out);
	free(err);
	/* the newest 10000 of 123k: the last process started is among them */
	ck_assert(names[59]);
	printf("addressing: logs of 60 processes, 10000 lines: brummd VmHWM %+ld KiB\n",
	       hwm1 - hwm0);
	/* the reply is ~1.3 MB and buffers double: 16 MB were rendered before
	 * (a sanitizer's shadow and allocator add about as much again) */
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
	ck_assert_msg(hwm1 - hwm0 < 16 * 1024, "VmHWM grew by %ld KiB", hwm1 - hwm0);
#else
	ck_assert_msg(hwm1 - hwm0 < 8 * 1024, "VmHWM grew by %ld KiB", hwm1 - hwm0);
#endif
	brmh_check_stop(&H);
}
END_TEST

START_TEST(pattern_bounds_and_cost)
{
	char *out = NULL, *err = NULL, big[128];
	struct timespec t0, t1;
	double ms;

	brmh_check_start(&H, "{\"processes\":{}}");
	/* 9 patterns, a 65-byte pattern: refused, naming the bound */
	call_error("status", "{\"names\":[\"a*\",\"b*\",\"c*\",\"d*\",\"e*\",\"f*\",\"g*\",\"h*\","
		   "\"i*\"]}", -32602, "params.names[8]: more than 8 patterns in one request");
	call_error("stop", "{\"names\":[\"a*\",\"b*\",\"c*\",\"d*\",\"e*\",\"f*\",\"g*\",\"h*\","
		   "\"i*\"]}", -32602, "more than 8 patterns");
	memset(big, 'a', 64);
	big[64] = '*';
	big[65] = '\0';
	call_error("status", brmh_fmt("{\"name\":\"%s\"}", big), -32602, "longer than 64 bytes");
	call_error("logs", brmh_fmt("{\"name\":\"%s\"}", big), -32602, "longer than 64 bytes");
	call_error("events", brmh_fmt("{\"name\":\"%s\"}", big), -32602, "longer than 64 bytes");
	call_error("status", "{\"name\":\"w[\"}", -32602, "without its ']'");
	call_error("status", "{\"name\":\"w/*\"}", -32602, "params.name: invalid name or pattern");
	ck_assert_int_eq(brmh_ctl(&H, &out, &err, "status", "a*", "b*", "c*", "d*", "e*", "f*",
				  "g*", "h*", "i*", NULL), 2);
	ck_assert_msg(strstr(err, "more than 8 patterns"), "%s", err);
	free(out);
	free(err);
	ck_assert_int_eq(brmh_ctl(&H, &out, &err, "stop", big, NULL), 2);
	ck_assert_msg(strstr(err, "longer than 64 bytes"), "%s", err);
	free(out);
	free(err);

	/* 200 processes named aaa...a (64 bytes but the last): the pattern
	 * "*a*a*a*a*a*a*a*a*b" takes a recursive matcher billions of steps */
	for (int i = 0; i < 200; i++) {
		char name[65], params[512];
		cJSON *r;
		int code;

		memset(name, 'a', 60);
		snprintf(name + 60, sizeof(name) - 60, "%04d", i);
		snprintf(params, sizeof(params), "{\"name\":\"%s\",\"spec\":{\"cmd\":[\"true\"],"
			 "\"autostart\":false}}", name);
		r = brmh_call(&H, "add", params);
		brmh_result(r, &code);
		ck_assert_int_eq(code, 0);
		cJSON_Delete(r);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < 8; i++)
		call_error("status", "{\"name\":\"*a*a*a*a*a*a*a*a*b\"}", -32001,
			   "no process matches '*a*a*a*a*a*a*a*a*b'");
	call_error("status", "{\"names\":[\"*a*a*a*a*a*a*a*a*b\",\"*a*a*a*a*a*a*a*a*c\","
		   "\"*a*a*a*a*a*a*a*a*d\",\"*a*a*a*a*a*a*a*a*e\",\"*a*a*a*a*a*a*a*a*f\","
		   "\"*a*a*a*a*a*a*a*a*g\",\"*a*a*a*a*a*a*a*a*h\",\"*a*a*a*a*a*a*a*a*i\"]}",
		   -32001, "no process matches");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	ck_assert_msg(ms < 1000, "9 pathological status requests took %.0f ms", ms);
	ck_assert_str_eq(call_names("status", "{\"name\":\"*a*a*a*a*a*a*a*a*0199\"}"),
			 brmh_fmt("%.60s0199", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
	brmh_check_stop(&H);
}
END_TEST

START_TEST(glob_matcher)
{
	char name[65];
	struct timespec t0, t1;
	double ms;

	ck_assert(brm_glob_match("web*", "web"));
	ck_assert(brm_glob_match("web*", "webapi"));
	ck_assert(!brm_glob_match("web*", "aweb"));
	ck_assert(brm_glob_match("*", "x"));
	ck_assert(brm_glob_match("w?b", "web"));
	ck_assert(!brm_glob_match("w?b", "wb"));
	ck_assert(brm_glob_match("*:[0-2]", "worker:1"));
	ck_assert(!brm_glob_match("*:[0-2]", "worker:3"));
	ck_assert(brm_glob_match("*:[!0-2]", "worker:3"));
	ck_assert(brm_glob_match("*:[^0-2]", "worker:3"));
	ck_assert(brm_glob_match("[abc]pi", "api"));
	ck_assert(brm_glob_match("a*b*c", "aXbYbZc"));
	ck_assert(!brm_glob_match("a*b*c", "aXbYbZ"));
	ck_assert(brm_glob_match("**a", "a"));
	ck_assert(brm_glob_match("w*r:*", "worker:10"));
	ck_assert(brm_glob_match("[a-]x", "-x"));
	ck_assert_ptr_null(brm_selector_check("web"));
	ck_assert_ptr_null(brm_selector_check("web*"));
	ck_assert_ptr_null(brm_selector_check("[a-z]*"));
	ck_assert_ptr_nonnull(brm_selector_check("[]"));
	ck_assert_ptr_nonnull(brm_selector_check("[z-a]"));
	ck_assert_ptr_nonnull(brm_selector_check("w/b*"));
	ck_assert_ptr_nonnull(brm_selector_check("w]"));
	ck_assert_ptr_nonnull(brm_selector_check(""));
	ck_assert(brm_name_in_group("worker", "worker:12"));
	ck_assert(!brm_name_in_group("worker", "worker:"));
	ck_assert(!brm_name_in_group("worker", "worker:1a"));
	ck_assert(!brm_name_in_group("work", "worker:1"));
	ck_assert(brm_selector_matches("worker", "worker"));
	ck_assert(brm_selector_matches("worker", "worker:0"));
	ck_assert(!brm_selector_matches("worker", "workers"));

	memset(name, 'a', 64);
	name[64] = '\0';
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < 10000; i++)
		ck_assert(!brm_glob_match("*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b",
					  name));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	/* ~64 x 57 steps each: well under 10 us; a recursive matcher never ends */
	ck_assert_msg(ms < 2000, "10000 matches took %.0f ms", ms);
}
END_TEST

BRM_TEST_CASE("addressing", "addressing", 30,
	glob_matcher,
	depends_on_a_group_in_the_config,
	group_name_in_every_command,
	glob_patterns_in_stop_and_status,
	depends_on_a_group_waits_for_every_instance,
	logs_of_everything_merged_and_followed,
	logs_of_everything_is_bounded_by_lines,
	pattern_bounds_and_cost);
