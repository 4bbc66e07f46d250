/*
 * test_logs_cli.c — brummctl logs, urls and errors as a user runs them,
 * against a real brummd: the human lines and their marks, the filters,
 * --json as NDJSON, escape sequences and control bytes, follow with its
 * exits (0 on SIGTERM, 3 when brummd goes), and the usage errors (exit 2,
 * before any connection), and a follower that fell behind told of the gap.
 */
#include <check.h>
#include <stdbool.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/harness.h"
#include "tests/suite.h"

static struct brmh H;

/*
 * p: stdout, stderr and a coloured line with a control byte, then sleeps.
 * q: a URL wrapped in colour codes, and a Go panic on stderr.
 */
#define CONFIG_FMT \
	"{\"workers\":2,\"processes\":{" \
	"\"p\":{\"cmd\":[\"/bin/sh\",\"-c\",\"echo alpha; echo beta; echo gamma >&2; " \
	"printf '\\\\033[31mred\\\\033[0m text\\\\001\\\\n'; echo omega; exec sleep 60\"]," \
	"\"start_secs\":0}," \
	"\"qq\":{\"cmd\":[\"%s\",\"print\",\"err\"," \
	"\"listening on \\u001b[1mhttp://localhost:3000/\\u001b[0m.\"," \
	"\"panic: boom\",\"\",\"goroutine 1 [running]:\",\"main.main()\"," \
	"\"\\t/x/main.go:5 +0x27\",\"next thing\"],\"start_secs\":0}}}"

static void up(void)
{
	char cfg[2048];

	snprintf(cfg, sizeof(cfg), CONFIG_FMT, brmh_child());
	ck_assert_msg(brmh_start(&H, cfg, NULL) == 0, "brummd did not start (log: %s)", H.log);
}

static void down(void)
{
	int st = brmh_stop(&H, 15000);

	ck_assert_msg(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "brummd did not exit 0 on SIGTERM (status %d)", st);
}

/* Run `brummctl logs NAME` until its output has @needle (the child wrote
 * it): false after @ms. */
static bool wait_output(const char *name, const char *needle, int ms)
{
	for (int t = 0; t < ms; t += 20) {
		char *out = NULL, *err = NULL;
		bool found;

		brmh_ctl(&H, &out, &err, "logs", name, NULL);
		found = out && strstr(out, needle);
		free(out);
		free(err);
		if (found)
			return true;
		brmh_sleep_ms(20);
	}
	return false;
}

static void up_and_wait(void)
{
	up();
	ck_assert_msg(wait_output("p", "omega", 3000), "p's lines did not arrive");
	ck_assert_msg(wait_output("qq", "next thing", 3000), "qq's lines did not arrive");
}

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static int count(const char *s, const char *needle)
{
	int n = 0;

	for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* Every line of @out matches the human format with a name column of
 * @width for one of the names. */
static void assert_human_format(const char *out)
{
	regex_t re;
	char *copy = strdup(out), *save = copy, *line;

	ck_assert_int_eq(regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}"
				 "\\.[0-9]{3} [a-z]+ *[|!-] ", REG_EXTENDED | REG_NOSUB), 0);
	while ((line = strsep(&save, "\n")))
		if (*line)
			ck_assert_msg(regexec(&re, line, 0, NULL, 0) == 0, "line '%s'", line);
	regfree(&re);
	free(copy);
}

START_TEST(logs_prints_timestamped_marked_lines)
{
	char *out = NULL, *err = NULL;
	int rc;

	up_and_wait();
	rc = brmh_ctl(&H, &out, &err, "logs", "p", NULL);
	ck_assert_msg(rc == 0, "rc %d: %s", rc, err);
	assert_human_format(out);
	ck_assert_msg(strstr(out, " p - started with pid "), "%s", out);
	ck_assert_msg(strstr(out, " p | alpha\n") && strstr(out, " p | beta\n"), "%s", out);
	ck_assert_msg(strstr(out, " p ! gamma\n"), "stderr mark: %s", out);
	/* Not a terminal: colours stripped, the control byte visible. */
	ck_assert_msg(strstr(out, " p | red text\\x01\n"), "escapes: %s", out);
	ck_assert_msg(!strchr(out, '\033') && !strchr(out, '\001'), "raw escapes: %s", out);
	ck_assert_int_eq(count_lines(out), 6);
	free(out);
	free(err);
	down();
}
END_TEST

START_TEST(logs_filters_stream_lines_and_grep)
{
	char *out = NULL, *err = NULL;
	int rc;

	up_and_wait();
	rc = brmh_ctl(&H, &out, &err, "logs", "--stderr", "p", NULL);
	ck_assert_msg(rc == 0, "rc %d: %s", rc, err);
	ck_assert_msg(strstr(out, "gamma") && count_lines(out) == 1, "--stderr: %s", out);
	free(out);
	free(err);

	rc = brmh_ctl(&H, &out, &err, "logs", "p", "--stdout", NULL);
	ck_assert_int_eq(rc, 0);
	ck_assert_msg(!strstr(out, "gamma") && !strstr(out, "started") && strstr(out, "alpha") &&
		      count_lines(out) == 4, "--stdout: %s", out);
	free(out);
	free(err);

	/* The last 2 after filtering (stdout: gamma's place is not fixed). */
	rc = brmh_ctl(&H, &out, &err, "logs", "-n", "2", "--stdout", "p", NULL);
	ck_assert_int_eq(rc, 0);
	ck_assert_msg(count_lines(out) == 2 && strstr(out, "omega") && strstr(out, "red text"),
		      "-n 2: %s", out);
	free(out);
	free(err);

	rc = brmh_ctl(&H, &out, &err, "logs", "p", "--grep", "^(alpha|gamma)$", NULL);
	ck_assert_int_eq(rc, 0);
	ck_assert_msg(count_lines(out) == 2 && strstr(out, "alpha") && strstr(out, "gamma"),
		      "--grep: %s", out);
	free(out);
	free(err);

	/* Several names: both, each named, the name column padded. */
	rc = brmh_ctl(&H, &out, &err, "logs", "p", "qq", "--grep", "alpha|panic", NULL);
	ck_assert_int_eq(rc, 0);
	assert_human_format(out);
	ck_assert_msg(strstr(out, " p  | alpha\n") && strstr(out, " qq ! panic: boom\n"),
		      "two names: %s", out);
	free(out);
	free(err);

	rc = brmh_ctl(&H, &out, &err, "logs", "p", "ghost", NULL);
	ck_assert_int_eq(rc, 1);
	ck_assert_msg(strstr(err, "no such process 'ghost'"), "%s", err);
	free(out);
	free(err);
	down();
}
END_TEST

START_TEST(logs_json_is_ndjson_of_lines)
{
	char *out = NULL, *err = NULL, *human = NULL, *save, *line, when[64];
	const char *want[] = { "started with pid", "alpha", "beta", "gamma", "red", "omega" };
	bool seen[6] = { false };
	int rc, n = 0;
	double ts0 = 0;

	up_and_wait();
	rc = brmh_ctl(&H, &out, &err, "logs", "p", "--json", NULL);
	ck_assert_msg(rc == 0, "rc %d: %s", rc, err);
	save = out;
	while ((line = strsep(&save, "\n"))) {
		cJSON *j;

		if (!*line)
			continue;
		j = cJSON_Parse(line);
		ck_assert_msg(j != NULL, "not JSON: '%s'", line);
		ck_assert_str_eq(brmh_str(j, "name"), "p");
		ck_assert_int_gt(brmh_int(j, "seq"), 0);
		ck_assert(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(j, "ts")));
		ck_assert_ptr_nonnull(brmh_str(j, "stream"));
		ck_assert_int_lt(n, 6);
		/* Every expected line once; stdout and stderr are two pipes, so
		 * gamma's place among the others is not fixed. */
		for (size_t k = 0; k < 6; k++)
			if (strstr(brmh_str(j, "line"), want[k])) {
				ck_assert_msg(!seen[k], "twice: %s", line);
				seen[k] = true;
			}
		if (strstr(brmh_str(j, "line"), "red"))   /* as brummd sent it */
			ck_assert_str_eq(brmh_str(j, "line"), "\033[31mred\033[0m text\001");
		if (n == 0)
			ts0 = cJSON_GetObjectItemCaseSensitive(j, "ts")->valuedouble;
		cJSON_Delete(j);
		n++;
	}
	ck_assert_int_eq(n, 6);
	for (size_t k = 0; k < 6; k++)
		ck_assert_msg(seen[k], "missing '%s'", want[k]);
	free(out);
	free(err);

	/* The human timestamp is that ts in local time, to the millisecond. */
	{
		long long ms = (long long)(ts0 * 1000.0 + 0.5);
		time_t secs = (time_t)(ms / 1000);
		struct tm tm;
		char date[32];

		localtime_r(&secs, &tm);
		strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S", &tm);
		snprintf(when, sizeof(when), "%s.%03lld p - started", date, ms % 1000);
	}
	rc = brmh_ctl(&H, &human, &err, "logs", "p", "-n", "6", NULL);
	ck_assert_int_eq(rc, 0);
	ck_assert_msg(strstr(human, when), "want '%s' in: %s", when, human);
	free(human);
	free(err);
	down();
}
END_TEST

START_TEST(urls_lists_the_url_without_colour_codes)
{
	char *out = NULL, *err = NULL;
	cJSON *j, *u;
	int rc;

	up_and_wait();
	rc = brmh_ctl(&H, &out, &err, "urls", NULL);
	ck_assert_msg(rc == 0, "rc %d: %s", rc, err);
	ck_assert_str_eq(out, "NAME   URL\nqq     http://localhost:3000/\n");
	free(out);
	free(err);

	rc = brmh_ctl(&H, &out, &err, "urls", "--json", "qq", NULL);
	ck_assert_int_eq(rc, 0);
	j = cJSON_Parse(out);
	ck_assert_msg(j != NULL, "not JSON: %s", out);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "urls")), 1);
	u = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "urls"), 0);
	ck_assert_str_eq(brmh_str(u, "name"), "qq");
	ck_assert_str_eq(brmh_str(u, "url"), "http://localhost:3000/");
	cJSON_Delete(j);
	free(out);
	free(err);

	/* None: exit 0, nothing printed (not a terminal), {"urls":[]} in JSON. */
	rc = brmh_ctl(&H, &out, &err, "urls", "p", NULL);
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(out, "");
	free(out);
	free(err);
	rc = brmh_ctl(&H, &out, &err, "urls", "p", "--json", NULL);
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(out, "{\"urls\":[]}\n");
	free(out);
	free(err);
	down();
}
END_TEST

START_TEST(errors_shows_the_block_together)
{
	char *out = NULL, *err = NULL;
	cJSON *j;
	int rc;

	up_and_wait();
	rc = brmh_ctl(&H, &out, &err, "errors", "qq", NULL);
	ck_assert_msg(rc == 0, "rc %d: %s", rc, err);
	ck_assert_msg(!strncmp(out, "qq  20", 6) && strstr(out, "  (seq 3, 5 lines, stderr)\n"),
		      "header: %s", out);
	ck_assert_msg(strstr(out, ")\n    panic: boom\n\n    goroutine 1 [running]:\n"
			     "    main.main()\n    \t/x/main.go:5 +0x27\n"), "block: %s", out);
	ck_assert_msg(!strstr(out, "next thing"), "%s", out);
	free(out);
	free(err);

	rc = brmh_ctl(&H, &out, &err, "errors", "--json", NULL);
	ck_assert_int_eq(rc, 0);
	j = cJSON_Parse(out);
	ck_assert_msg(j != NULL, "not JSON: %s", out);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "errors")), 1);
	cJSON_Delete(j);
	free(out);
	free(err);

	rc = brmh_ctl(&H, &out, &err, "errors", "p", NULL);
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(out, "");
	free(out);
	free(err);

	rc = brmh_ctl(&H, &out, &err, "logs", "--reopen", NULL);
	ck_assert_msg(rc == 0, "--reopen: rc %d: %s", rc, err);
	free(out);
	free(err);
	rc = brmh_ctl(&H, &out, &err, "logs", "--reopen", "--json", NULL);
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(out, "{\"reopen\":true}\n");
	free(out);
	free(err);
	down();
}
END_TEST

/* Poll @path until @needle occurs @n times; returns the contents (free). */
static char *wait_count(const char *path, const char *needle, int n, int ms)
{
	char *s = NULL;

	for (int t = 0; t < ms; t += 20) {
		free(s);
		s = brmh_read_file(path);
		if (s && count(s, needle) >= n)
			return s;
		brmh_sleep_ms(20);
	}
	return s;
}

/*
 * Add "mk", a process that prints MARK and sleeps, not started. A
 * follower that also follows mk has subscribed once MARK shows in its
 * output @path (from the history sent with the reply, or followed): start
 * mk again until it does. Replaces sleeping "to give it time to subscribe".
 */
static void add_marker(void)
{
	char params[700];
	cJSON *r;
	int code;

	snprintf(params, sizeof(params), "{\"name\":\"mk\",\"spec\":{\"cmd\":[\"%s\","
		 "\"print\",\"out\",\"MARK\"],\"autostart\":false,\"start_secs\":0}}",
		 brmh_child());
	r = brmh_call(&H, "add", params);
	brmh_result(r, &code);
	ck_assert_int_eq(code, 0);
	cJSON_Delete(r);
}

static void wait_subscribed(const char *path)
{
	for (int i = 0; i < 30; i++) {
		cJSON *r = brmh_call(&H, "restart", "{\"name\":\"mk\",\"wait\":true}");
		char *s;

		cJSON_Delete(r);
		s = wait_count(path, "MARK", 1, 200);
		if (s && count(s, "MARK") >= 1) {
			free(s);
			return;
		}
		free(s);
	}
	ck_abort_msg("the follower writing %s never subscribed", path);
}

START_TEST(follow_prints_new_lines_and_exits_zero_on_sigterm)
{
	char outp[320], errp[320], joutp[320], jerrp[320], *s, *save, *line;
	cJSON *r;
	pid_t pid, jpid;
	int rc, n = 0;

	up_and_wait();
	snprintf(outp, sizeof(outp), "%s/follow.out", H.dir);
	snprintf(errp, sizeof(errp), "%s/follow.err", H.dir);
	snprintf(joutp, sizeof(joutp), "%s/jfollow.out", H.dir);
	snprintf(jerrp, sizeof(jerrp), "%s/jfollow.err", H.dir);
	pid = brmh_ctl_spawn(&H, outp, errp, "logs", "-f", "p", "qq", NULL);
	add_marker();
	jpid = brmh_ctl_spawn(&H, joutp, jerrp, "logs", "--follow", "--json", "-n", "0", "p", "mk",
			      NULL);
	ck_assert(pid > 0 && jpid > 0);
	s = wait_count(outp, "omega", 1, 3000);
	ck_assert_msg(s && count(s, "omega") == 1, "initial lines: %s", s ? s : "(none)");
	free(s);
	/* The JSON follower asked for no old lines: wait until it follows. */
	wait_subscribed(joutp);

	/* A new run prints everything again, after the old run's exit line. */
	r = brmh_call(&H, "restart", "{\"name\":\"p\",\"wait\":true}");
	ck_assert_ptr_nonnull(r);
	cJSON_Delete(r);
	s = wait_count(outp, "omega", 2, 3000);
	ck_assert_msg(s && count(s, "omega") == 2, "followed lines: %s", s ? s : "(none)");
	ck_assert_msg(strstr(s, " p  - pid ") && strstr(s, "killed by SIGTERM"), "%s", s);
	assert_human_format(s);
	free(s);

	s = wait_count(joutp, "omega", 1, 3000);
	ck_assert_msg(s && count(s, "omega") == 1, "json follow: %s", s ? s : "(none)");
	save = s;
	while ((line = strsep(&save, "\n"))) {
		cJSON *j;

		if (!*line)
			continue;
		j = cJSON_Parse(line);
		ck_assert_msg(j && brmh_str(j, "line") && brmh_int(j, "seq") > 0, "'%s'", line);
		cJSON_Delete(j);
		n++;
	}
	ck_assert_msg(n >= 7, "%d json lines", n);   /* exit, start, 5 of output */
	free(s);

	kill(pid, SIGTERM);
	kill(jpid, SIGINT);
	rc = brmh_wait_exit(pid, 3000);
	ck_assert_msg(rc == 0, "follow after SIGTERM: %d", rc);
	rc = brmh_wait_exit(jpid, 3000);
	ck_assert_msg(rc == 0, "follow after SIGINT: %d", rc);
	s = brmh_read_file(errp);
	ck_assert_str_eq(s, "");
	free(s);
	down();
}
END_TEST

START_TEST(follow_exits_three_when_brummd_goes)
{
	char outp[320], errp[320], *s;
	pid_t pid;
	int rc;

	up_and_wait();
	snprintf(outp, sizeof(outp), "/tmp/brm-follow-%d.out", (int)getpid());
	snprintf(errp, sizeof(errp), "/tmp/brm-follow-%d.err", (int)getpid());
	pid = brmh_ctl_spawn(&H, outp, errp, "logs", "-f", "p", NULL);
	ck_assert(pid > 0);
	s = wait_count(outp, "omega", 1, 3000);
	free(s);
	down();
	rc = brmh_wait_exit(pid, 5000);
	ck_assert_msg(rc == 3, "follow after brummd stopped: %d", rc);
	s = brmh_read_file(errp);
	ck_assert_msg(s && strstr(s, "closed the connection"), "%s", s ? s : "(none)");
	free(s);
	unlink(outp);
	unlink(errp);
}
END_TEST

START_TEST(follow_reports_a_gap_and_goes_on)
{
	char outp[320], errp[320], *s;
	cJSON *r;
	pid_t pid;
	int rc;

	ck_assert(brmh_start(&H, "{\"workers\":2,\"log_ring_bytes\":4096}", NULL) == 0);
	{
		char params[700];

		snprintf(params, sizeof(params), "{\"name\":\"fl\",\"spec\":{\"cmd\":[\"%s\","
			 "\"flood\",\"3000000\"],\"autostart\":false,\"restart\":\"never\","
			 "\"start_secs\":0}}", brmh_child());
		r = brmh_call(&H, "add", params);
		ck_assert_ptr_nonnull(r);
		cJSON_Delete(r);
	}
	snprintf(outp, sizeof(outp), "%s/gap.out", H.dir);
	snprintf(errp, sizeof(errp), "%s/gap.err", H.dir);
	add_marker();
	pid = brmh_ctl_spawn(&H, outp, errp, "logs", "-f", "--json", "fl", "mk", NULL);
	ck_assert(pid > 0);
	wait_subscribed(outp);
	/* A follower that does not read while 3 MB go through a 4 KiB ring. */
	kill(pid, SIGSTOP);
	r = brmh_call(&H, "start", "{\"name\":\"fl\"}");
	cJSON_Delete(r);
	ck_assert(brmh_wait_state(&H, "fl", "exited", 10000));
	kill(pid, SIGCONT);
	s = wait_count(outp, "exited with code 0", 1, 5000);
	ck_assert_msg(s && strstr(s, "{\"gap\":{\"name\":\"fl\",\"missed\":"), "no gap line");
	free(s);
	kill(pid, SIGTERM);
	rc = brmh_wait_exit(pid, 3000);
	ck_assert_int_eq(rc, 0);
	s = brmh_read_file(errp);
	ck_assert_msg(s && !strncmp(s, "brummctl: fl: missed ", 21), "%s", s ? s : "(none)");
	free(s);
	down();
}
END_TEST

START_TEST(usage_errors_exit_two_before_connecting)
{
	static const char *const bad[][6] = {
		{ "logs", "p[", NULL },
		{ "logs", "-n", "abc", "p", NULL },
		{ "logs", "-n", "10001", "p", NULL },
		{ "logs", "--stdout", "--stderr", "p", NULL },
		{ "logs", "--reopen", "p", NULL },
		{ "logs", "--reopen", "-f", NULL },
		{ "logs", "--grep", "(", "p", NULL },
		{ "logs", "--since-seq", "-1", "p", NULL },
		{ "logs", "-f", "p/q", NULL },
		{ "errors", "a", "b", NULL },
		{ "urls", "bad name", NULL },
		{ "status", "-f", NULL },
	};
	char *out = NULL, *err = NULL;
	int rc;

	/* No brummd at all: a usage error must not need one (that is exit 3). */
	memset(&H, 0, sizeof(H));
	snprintf(H.dir, sizeof(H.dir), "/tmp/brmtest.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(H.dir));
	snprintf(H.sock, sizeof(H.sock), "%s/none.sock", H.dir);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rc = brmh_ctl(&H, &out, &err, bad[i][0], bad[i][1], bad[i][2], bad[i][3],
			      bad[i][4], NULL);
		ck_assert_msg(rc == 2, "case %zu (%s %s): rc %d, stderr %s", i, bad[i][0],
			      bad[i][1] ? bad[i][1] : "", rc, err);
		ck_assert_msg(strstr(err, "usage: brummctl"), "case %zu: %s", i, err);
		free(out);
		free(err);
	}
	rc = brmh_ctl(&H, &out, &err, "logs", "p", NULL);
	ck_assert_int_eq(rc, 3);
	free(out);
	free(err);
	rc = brmh_ctl(&H, &out, &err, "--help", NULL);
	ck_assert_int_eq(rc, 0);
	ck_assert_msg(strstr(out, "  logs ") && strstr(out, "  urls ") && strstr(out, "  errors ") &&
		      strstr(out, "--follow") && strstr(out, "--reopen") && strstr(out, "--no-color"),
		      "%s", out);
	free(out);
	free(err);
	H.pid = 0;
	H.fd = -1;
	brmh_stop(&H, 1000);
}
END_TEST

BRM_TEST_CASE("logs-cli", "e2e", 30,
	logs_prints_timestamped_marked_lines,
	logs_filters_stream_lines_and_grep,
	logs_json_is_ndjson_of_lines,
	urls_lists_the_url_without_colour_codes,
	errors_shows_the_block_together,
	follow_prints_new_lines_and_exits_zero_on_sigterm,
	follow_exits_three_when_brummd_goes,
	follow_reports_a_gap_and_goes_on,
	usage_errors_exit_two_before_connecting);
