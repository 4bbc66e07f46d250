/*
 * test_metrics.c — `brummctl metrics` against a real brummd: the exact
 * state, up and restart series of processes that run, are stopped, wait
 * in backoff and went fatal; names with every punctuation a name allows
 * kept verbatim in labels; and the whole output held to the exposition
 * format 0.0.4 line by line by a strict validator here (and by promtool,
 * Debian's prometheus package, when it is installed).
 */
#include <check.h>
#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/e2e.h"
#include "tests/harness.h"
#include "tests/suite.h"

static struct brmh H, G;

/* The states of PROTOCOL.md's "Process states", in its order. */
static const char *const states[] = {
	"stopped", "starting", "running", "backoff", "stopping", "exited", "fatal", "waiting",
};

/*
 * web runs; stash (a name with each of : @ . - _) is not started; flaky
 * cannot be spawned and waits a minute in backoff; bad cannot be spawned
 * and has no retry: fatal.
 */
static void start_four(void)
{
	brmh_check_start(&H,
		"{\"processes\":{"
		"\"web\":{\"cmd\":[\"%s\",\"sleep\",\"60\"],\"start_secs\":0,"
		"\"backoff_secs\":0.1},"
		"\"stash:1@x.y-z_w\":{\"cmd\":[\"%s\",\"sleep\",\"60\"],\"autostart\":false},"
		"\"flaky\":{\"cmd\":[\"/nonexistent/brm-flaky\"],\"start_retries\":5,"
		"\"backoff_secs\":60,\"backoff_max_secs\":60},"
		"\"bad\":{\"cmd\":[\"/nonexistent/brm-bad\"],\"start_retries\":0}}}",
		brmh_child(), brmh_child());
	ck_assert(brmh_wait_state(&H, "web", "running", 5000));
	ck_assert(brmh_wait_state(&H, "flaky", "backoff", 5000));
	ck_assert(brmh_wait_state(&H, "bad", "fatal", 5000));
}

/* `brummctl metrics`' output; asserts it exits 0 with nothing on stderr. */
static char *metrics(void)
{
	char *out = NULL, *err = NULL;
	int rc = brmh_ctl(&H, &out, &err, "metrics", NULL);

	ck_assert_msg(rc == 0, "metrics: rc %d, stderr: %s", rc, err ? err : "");
	ck_assert_msg(err && !err[0], "metrics wrote to stderr: %s", err);
	free(err);
	return out;
}

/* Asserts @line (without its newline) is a whole line of @out. */
static void has_line(const char *out, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = out; (p = strstr(p, line)); p++)
		if ((p == out || p[-1] == '\n') && p[n] == '\n')
			return;
	ck_abort_msg("no line '%s' in:\n%.3000s", line, out);
}

/* ---- the exposition format, strictly ---- */

static bool metric_start(char c)
{
	return isalpha((unsigned char)c) || c == '_' || c == ':';
}

static bool metric_char(char c)
{
	return metric_start(c) || isdigit((unsigned char)c);
}

/* A metric name at *@p (advanced past it) into @name; false when none. */
static bool read_name(const char **p, char *name, size_t size, bool label)
{
	size_t n = 0;

	if (!metric_start(**p) || (label && **p == ':'))
		return false;
	while (metric_char(**p) && !(label && **p == ':')) {
		if (n + 1 >= size)
			return false;
		name[n++] = *(*p)++;
	}
	name[n] = '\0';
	return true;
}

/* A float as Prometheus reads one: a decimal number, NaN, +Inf or -Inf. */
static bool valid_value(const char *s)
{
	char *end;

	if (!strcmp(s, "NaN") || !strcmp(s, "+Inf") || !strcmp(s, "-Inf"))
		return true;
	if (!*s || strspn(s, "0123456789.eE+-") != strlen(s))
		return false;
	strtod(s, &end);
	return *end == '\0';
}

/*
 * Checks one sample line: NAME[{LABEL="VALUE",...}] VALUE, label values
 * escaped (only \\, \" and \n), no timestamp (we never print one). The
 * metric name goes to @name, the series (name and labels) to @series.
 * Returns NULL or what is wrong.
 */
static const char *check_sample(const char *line, char *name, size_t size, char *series,
				size_t ssize)
{
	const char *p = line;
	char label[128];

	if (!read_name(&p, name, size, false))
		return "no valid metric name";
	if (*p == '{') {
		p++;
		while (*p != '}') {
			if (!read_name(&p, label, sizeof(label), true))
				return "no valid label name";
			if (!strncmp(label, "__", 2))
				return "label name starts with __";
			if (*p++ != '=' || *p++ != '"')
				return "label without =\"";
			for (; *p != '"'; p++) {
				if (!*p)
					return "label value not closed";
				if (*p == '\\' && !strchr("\\\"n", *++p))
					return "bad escape in a label value";
			}
			p++;
			if (*p == ',')
				p++;
			else if (*p != '}')
				return "no , or } after a label";
		}
		p++;
	}
	if ((size_t)(p - line) >= ssize)
		return "series too long";
	memcpy(series, line, (size_t)(p - line));
	series[p - line] = '\0';
	if (*p++ != ' ')
		return "no single space before the value";
	if (!valid_value(p))
		return "value is not a float";
	return NULL;
}

/*
 * Holds @out to the format: every line a HELP, a TYPE or a sample; each
 * family's HELP then TYPE once, before its samples, which come together;
 * a series once. Returns the number of families.
 */
static int check_format(const char *out)
{
	char fams[64][128], series[256][512], name[128], cur[128] = "";
	int nfam = 0, nser = 0;
	bool typed = false;

	ck_assert_msg(*out && out[strlen(out) - 1] == '\n', "no final newline:\n%s", out);
	for (const char *line = out; *line;) {
		const char *nl = strchr(line, '\n');
		char buf[1024];
		size_t len = (size_t)(nl - line);

		ck_assert_msg(len < sizeof(buf), "line too long");
		memcpy(buf, line, len);
		buf[len] = '\0';
		line = nl + 1;
		ck_assert_msg(len > 0, "empty line in:\n%s", out);
		if (!strncmp(buf, "# HELP ", 7)) {
			const char *p = buf + 7;

			ck_assert_msg(read_name(&p, name, sizeof(name), false) && *p == ' ' && p[1],
				      "bad HELP line '%s'", buf);
			for (int i = 0; i < nfam; i++)
				ck_assert_msg(strcmp(fams[i], name), "second HELP for %s", name);
			ck_assert_int_lt(nfam, 64);
			snprintf(fams[nfam++], sizeof(fams[0]), "%s", name);
			snprintf(cur, sizeof(cur), "%s", name);
			typed = false;
		} else if (!strncmp(buf, "# TYPE ", 7)) {
			const char *p = buf + 7;

			ck_assert_msg(read_name(&p, name, sizeof(name), false) && *p++ == ' ',
				      "bad TYPE line '%s'", buf);
			ck_assert_msg(!strcmp(name, cur) && !typed,
				      "TYPE of %s not right after its HELP", name);
			ck_assert_msg(!strcmp(p, "counter") || !strcmp(p, "gauge"),
				      "type '%s' of %s", p, name);
			ck_assert_msg(strcmp(p, "counter") ||
					      (strlen(name) > 6 && !strcmp(name + strlen(name) - 6, "_total")),
				      "counter %s without _total", name);
			typed = true;
		} else {
			const char *why;

			ck_assert_msg(buf[0] != '#', "other comment '%s'", buf);
			ck_assert_int_lt(nser, 256);
			why = check_sample(buf, name, sizeof(name), series[nser], sizeof(series[0]));
			ck_assert_msg(!why, "sample line '%s': %s", buf, why);
			ck_assert_msg(typed && !strcmp(name, cur),
				      "sample '%s' outside the block of its family", buf);
			for (int i = 0; i < nser; i++)
				ck_assert_msg(strcmp(series[i], series[nser]), "series twice: %s", buf);
			nser++;
		}
	}
	return nfam;
}

/* When promtool is installed, `promtool check metrics` must accept @out. */
static void promtool_check(const char *out)
{
	char path[] = "/tmp/brm-metrics.XXXXXX";
	char *cmd, *res;
	int fd, st;

	if (system("command -v promtool >/dev/null 2>&1") != 0) {
		printf("SKIP: metrics: promtool check metrics (promtool not installed;"
		       " Debian package prometheus)\n");
		fflush(stdout);
		return;
	}
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, out, strlen(out)), (ssize_t)strlen(out));
	close(fd);
	cmd = brmh_fmt("promtool check metrics < %s > %s.out 2>&1", path, path);
	st = system(cmd);
	res = brmh_read_file(brmh_fmt("%s.out", path));
	unlink(brmh_fmt("%s.out", path));
	unlink(path);
	ck_assert_msg(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "promtool check metrics: status %d: %s", st, res ? res : "");
	free(res);
}

/* ---- tests ---- */

START_TEST(states_up_and_format)
{
	static const struct { const char *name, *state; } procs[] = {
		{ "bad", "fatal" }, { "flaky", "backoff" },
		{ "stash:1@x.y-z_w", "stopped" }, { "web", "running" },
	};
	char *out;

	start_four();
	out = metrics();
	for (size_t i = 0; i < sizeof(procs) / sizeof(procs[0]); i++) {
		for (size_t s = 0; s < sizeof(states) / sizeof(states[0]); s++)
			has_line(out, brmh_fmt("brummd_process_state{name=\"%s\",state=\"%s\"} %d",
					       procs[i].name, states[s],
					       !strcmp(states[s], procs[i].state)));
		has_line(out, brmh_fmt("brummd_process_up{name=\"%s\"} %d", procs[i].name,
				       !strcmp(procs[i].state, "running")));
		has_line(out, brmh_fmt("brummd_process_restarts_total{name=\"%s\"} 0",
				       procs[i].name));
	}
	has_line(out, "brummd_process_start_failures{name=\"bad\"} 1");
	has_line(out, "brummd_process_uptime_seconds{name=\"bad\"} 0");
	has_line(out, "brummd_process_state{name=\"stash:1@x.y-z_w\",state=\"stopped\"} 1");
	has_line(out, "brummd_processes 4");
	has_line(out, "# TYPE brummd_process_restarts_total counter");
	has_line(out, "# TYPE brummd_process_up gauge");
	ck_assert_msg(strstr(out, "brummd_process_resident_memory_bytes{name=\"web\"} "),
		      "no memory of web:\n%s", out);
	ck_assert_msg(!strstr(out, "brummd_process_resident_memory_bytes{name=\"bad\"}"),
		      "memory of a process without a pid:\n%s", out);
	ck_assert_msg(!strstr(out, "brummd_process_healthy{"), "health without a check:\n%s",
		      out);
	ck_assert_msg(strstr(out, "\nbrummd_uptime_seconds "), "no uptime:\n%s", out);
	/* brummd's own: requests, counted as answered (this one is not yet),
	 * and the connection this metrics call came on. */
	has_line(out, "brummd_process_start_failures_total{name=\"bad\"} 1");
	has_line(out, "brummd_requests_total{method=\"metrics\",outcome=\"ok\"} 0");
	has_line(out, "brummd_requests_total{method=\"other\",outcome=\"error\"} 0");
	/* this call's connection, and the harness's own if it holds one */
	ck_assert_msg(strstr(out, "\nbrummd_clients ") &&
			      atoi(strstr(out, "\nbrummd_clients ") + 16) >= 1,
		      "no clients:\n%.3000s", out);
	ck_assert_msg(strstr(out, "\nbrummd_resident_memory_bytes "), "no rss:\n%s", out);
	ck_assert_msg(strstr(out, "\nbrummd_process_log_lines_total{name=\"web\"} "),
		      "no log lines of web:\n%s", out);
	ck_assert_int_eq(check_format(out), 17);
	promtool_check(out);
	free(out);
	brmh_check_stop(&H);
}
END_TEST

START_TEST(restart_after_a_kill_counts)
{
	long pid, pid2 = -1;
	char *out;

	start_four();
	pid = brmh_check_pid(&H, "web");
	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(kill((pid_t)pid, SIGKILL), 0);
	for (int i = 0; i < 500; i++) {
		cJSON *s = brmh_status(&H, "web");

		pid2 = brmh_int(s, "pid");
		if (pid2 > 0 && pid2 != pid && !strcmp(brmh_str(s, "state"), "running")) {
			cJSON_Delete(s);
			break;
		}
		cJSON_Delete(s);
		pid2 = -1;
		brmh_sleep_ms(10);
	}
	ck_assert_msg(pid2 > 0, "web was not restarted after SIGKILL");
	out = metrics();
	has_line(out, "brummd_process_restarts_total{name=\"web\"} 1");
	has_line(out, "brummd_process_up{name=\"web\"} 1");
	has_line(out, "brummd_process_restarts_total{name=\"bad\"} 0");
	check_format(out);
	free(out);
	brmh_check_stop(&H);
}
END_TEST

START_TEST(health_verdicts)
{
	char *out;

	brmh_check_start(&H,
		"{\"processes\":{"
		"\"ok\":{\"cmd\":[\"%s\",\"sleep\",\"60\"],\"start_secs\":0,"
		"\"health\":{\"exec\":[\"/bin/true\"],\"interval_secs\":0.05}},"
		"\"sick\":{\"cmd\":[\"%s\",\"sleep\",\"60\"],\"start_secs\":0,"
		"\"health\":{\"exec\":[\"/bin/false\"],\"interval_secs\":0.05,\"retries\":1,"
		"\"on_unhealthy\":\"ignore\"}}}}",
		brmh_child(), brmh_child());
	for (int i = 0; i < 500; i++) {
		cJSON *a = brmh_status(&H, "ok"), *b = brmh_status(&H, "sick");
		bool done = a && b && brmh_str(a, "health") && brmh_str(b, "health") &&
			    !strcmp(brmh_str(a, "health"), "healthy") &&
			    !strcmp(brmh_str(b, "health"), "unhealthy");

		cJSON_Delete(a);
		cJSON_Delete(b);
		if (done)
			break;
		brmh_sleep_ms(10);
	}
	out = metrics();
	has_line(out, "brummd_process_healthy{name=\"ok\"} 1");
	has_line(out, "brummd_process_healthy{name=\"sick\"} 0");
	check_format(out);
	free(out);
	brmh_check_stop(&H);
}
END_TEST

START_TEST(exit_codes_as_status)
{
	char *out = NULL, *err = NULL;
	int rc, rc_status;

	brmh_check_start(&H, "{\"processes\":{}}");
	rc = brmh_ctl(&H, &out, &err, "metrics", "web", NULL);
	ck_assert_int_eq(rc, 2);
	free(out);
	free(err);
	rc = brmh_ctl(&H, &out, &err, "metrics", "--json", NULL);
	ck_assert_int_eq(rc, 2);
	free(out);
	free(err);
	out = metrics();
	has_line(out, "brummd_processes 0");
	check_format(out);
	free(out);

	/* A socket nobody listens on, in brummd's directory (brmh_ctl keeps
	 * its output files there). */
	G = H;
	snprintf(G.sock, sizeof(G.sock), "%s/nobody.sock", H.dir);
	rc_status = brmh_ctl(&G, &out, &err, "status", NULL);
	free(out);
	free(err);
	rc = brmh_ctl(&G, &out, &err, "metrics", NULL);
	ck_assert_int_eq(rc_status, 3);
	ck_assert_int_eq(rc, rc_status);
	ck_assert_msg(out && !out[0], "metrics printed without brummd: %s", out);
	ck_assert_msg(err && strstr(err, "brummctl: cannot connect"), "no message: %s", err);
	free(out);
	free(err);
	brmh_check_stop(&H);
}
END_TEST

BRM_TEST_CASE("metrics", "metrics", 30, states_up_and_format, restart_after_a_kill_counts,
	      health_verdicts, exit_codes_as_status);
