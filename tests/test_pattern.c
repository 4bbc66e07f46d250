/*
 * test_pattern.c — client-supplied patterns cost a bounded amount of time,
 * memory and stack (issue 11, section 1).
 *
 * unit: lib/pattern.c's limits each fail with a message naming the limit,
 * hostile matches stop at the match limit on a small thread stack, and
 * the ERE that users write matches the same lines as glibc's regexec did.
 * e2e: a reader's `logs` grep with hostile patterns gets a prompt answer
 * and brummd, its children and its memory stay as they were; error_patterns,
 * the health log check and brummctl --grep refuse or bound the same
 * patterns; since_seq is range-checked.
 */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/pattern.h"
#include "tests/e2e.h"
#include "tests/harness.h"
#include "tests/suite.h"

static struct brmh H;

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* @n opening parentheses, "a", @n closing: nests @n deep. Caller frees. */
static char *nested(int n)
{
	char *p = malloc((size_t)n * 2 + 2);

	memset(p, '(', (size_t)n);
	p[n] = 'a';
	memset(p + n + 1, ')', (size_t)n);
	p[2 * n + 1] = '\0';
	return p;
}

/* ---- unit ----------------------------------------------------------------- */

static void expect_limit(const char *pat, const char *msg)
{
	struct brm_pattern *p = NULL;
	char *why = NULL;
	double t0 = now_ms();
	int r = brm_pattern_compile(pat, &p, &why);

	ck_assert_int_eq(r, -E2BIG);
	ck_assert_ptr_null(p);
	ck_assert_msg(why && strstr(why, msg), "'%.40s': %s", pat, why ? why : "(none)");
	ck_assert_msg(now_ms() - t0 < 200, "'%.40s' took %.0f ms to refuse", pat, now_ms() - t0);
	free(why);
}

START_TEST(compile_limits_are_named)
{
	char *deep = nested(800), *long_pat = nested(3000), *ok = nested(BRM_PATTERN_MAX_NEST - 1);
	struct brm_pattern *p;

	expect_limit(deep, "nests parentheses deeper than 32");
	expect_limit(long_pat, "longer than 4096 bytes");
	expect_limit("(.*){1,32000}[bc]", "compiles larger than 65536 bytes");
	expect_limit("((a{1,400}){1,400}){1,400}", "compiles larger than");
	/* 32 levels (the limit) compile. */
	ck_assert_int_eq(brm_pattern_compile(ok, &p, NULL), 0);
	ck_assert_int_eq(brm_pattern_match(p, "xa", 2), 1);
	brm_pattern_destroy(p);
	free(deep);
	free(long_pat);
	free(ok);
}
END_TEST

START_TEST(syntax_errors_say_where)
{
	char *why = NULL;
	char *const pats[] = { "ok", "(open", NULL };
	struct brm_pattern *p;
	size_t idx = 99;

	ck_assert_int_eq(brm_pattern_check("(abc", &why), -EINVAL);
	ck_assert_msg(strstr(why, "missing closing parenthesis at offset 4"), "%s", why);
	free(why);
	/* (*UTF) would make invalid UTF-8 in a line an error: refused. */
	ck_assert_int_eq(brm_pattern_check("(*UTF)a", NULL), -EINVAL);
	ck_assert_int_eq(brm_pattern_compile_any(pats, &p, NULL, &idx), -EINVAL);
	ck_assert_ptr_null(p);
	ck_assert_uint_eq(idx, 1);
}
END_TEST

/*
 * Compiling 32 levels, the JIT compiling many copies of a repeated group,
 * and matching the hostile patterns fit in a 256 KiB thread stack (brummd's
 * workers have 512 KiB): the cost in stack is fixed, whatever the pattern.
 */
struct hostile {
	const char *pat;
	int want;
};

static const struct hostile hostile[] = {
	{ "^(a|a)*$", -E2BIG },
	{ "^(a+)+$", -E2BIG },
	{ "(a|aa)*\\1$", -E2BIG },
	{ "((a*)*\\2)*$", -E2BIG },
	{ "(a*)*\\1b", 0 },
	{ "(a|a)*b", 0 },
	{ "(a{1,400}){1,400}", 1 },
	{ "(.*a){20}X", -E2BIG },
	{ "(?:a?){1,400}", 1 },     /* 6 KiB compiled: interpreted */
	{ "(?:a?){1,250}", 1 },     /* 4 KiB compiled: JIT */
	{ "(a{1,5}){1,180}X", 1 },
};

static void *hostile_thread(void *arg)
{
	char line[152], *deep = nested(BRM_PATTERN_MAX_NEST);
	double *worst = arg;

	memset(line, 'a', 150);
	line[150] = 'X';
	line[151] = '\0';
	ck_assert_int_eq(brm_pattern_check(deep, NULL), 0);
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		struct brm_pattern *p;
		double t0;
		int r;

		ck_assert_int_eq(brm_pattern_compile(hostile[i].pat, &p, NULL), 0);
		t0 = now_ms();
		r = brm_pattern_match(p, line, 151);
		if (now_ms() - t0 > *worst)
			*worst = now_ms() - t0;
		ck_assert_msg(r == hostile[i].want, "'%s': %d, expected %d", hostile[i].pat, r,
			      hostile[i].want);
		if (r == -E2BIG)
			ck_assert_msg(strstr(brm_pattern_limit(p), "limit"), "%s",
				      brm_pattern_limit(p));
		brm_pattern_destroy(p);
	}
	/* On the loop thread's budget the same line costs far less. */
	{
		struct brm_pattern *p;
		double t0;

		ck_assert_int_eq(brm_pattern_compile("^(a|a)*$", &p, NULL), 0);
		brm_pattern_set_base(p, BRM_PATTERN_LOOP_BASE);
		t0 = now_ms();
		ck_assert_int_eq(brm_pattern_match(p, line, 151), -E2BIG);
		printf("pattern: ^(a|a)*$ on the loop's budget: %.3f ms\n", now_ms() - t0);
		ck_assert_msg(strstr(brm_pattern_limit(p), "the match limit (22416 steps for a"
				     " 151-byte line)"), "%s", brm_pattern_limit(p));
		brm_pattern_destroy(p);
	}
	/* A repeated group over a long line needs more than 32 KiB of JIT
	 * stack: it has its own, so usual patterns work on long lines. */
	{
		struct brm_pattern *p;
		char *ab = malloc(8002);

		for (int i = 0; i < 8000; i++)
			ab[i] = "ab"[i % 2];
		ab[8000] = 'X';
		ck_assert_int_eq(brm_pattern_compile("^(a|b)*X", &p, NULL), 0);
		ck_assert_int_eq(brm_pattern_match(p, ab, 8001), 1);
		brm_pattern_destroy(p);
		free(ab);
	}
	free(deep);
	return NULL;
}

START_TEST(hostile_matches_stop_at_a_limit_on_a_small_stack)
{
	pthread_attr_t attr;
	pthread_t t;
	double worst = 0;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256u << 10);
	ck_assert_int_eq(pthread_create(&t, &attr, hostile_thread, &worst), 0);
	pthread_join(t, NULL);
	pthread_attr_destroy(&attr);
	printf("pattern: worst hostile match on a 151-byte line: %.1f ms\n", worst);
	ck_assert_msg(worst < 500, "worst match %.0f ms", worst);
}
END_TEST

/* ERE as users write it: the same lines match as with glibc's regexec. */
static const char *const ere_pats[] = {
	"ERROR|panic", "^GET /", "200$", "^$", "[abc]x", "[^0-9 ]+", "[[:digit:]]{4}-[[:digit:]]{2}",
	"[[:alpha:]][[:alnum:]_]*\\(", "[[:space:]]+at ", "[[:upper:]]{3,}", "a{2,3}b", "x{2}",
	"(ab)\\1", "(foo|bar)+baz", "colou?r", "\\.log$", "a.c", "[.]", "[]a]", "[a-]",
	"^[[:alnum:]_.$]+(Exception|Error)(: |$)", "(^|[^[:alnum:]_])(ERROR|FATAL)([^[:alnum:]_]|$)",
	"Assertion .* failed", "^thread '.*' panicked at", "[[:punct:]]", "[[:xdigit:]]+$",
	"\\(most recent call last\\):", "^(at |Caused by)", "(a|b)*c", "é",
};

static const char *const ere_lines[] = {
	"ERROR: disk full", "GET / 200", "", "bx", "panic: oops", "2026-12-04 ok",
	"    at com.x.Y.main(Y.java:3)", "ValueError: bad", "java.lang.NullPointerException",
	"abab", "foobarbaz", "color colour", "app.log", "abc a.c", "]", "-", "aab aaab",
	"Traceback (most recent call last):", "thread 'main' panicked at src/x.rs", "xx",
	"deadBEEF", "Assertion `x' failed", "café \xff\xfe invalid", "HTTP 500", "ok",
};

START_TEST(ere_matches_as_glibc_did)
{
	for (size_t i = 0; i < sizeof(ere_pats) / sizeof(ere_pats[0]); i++) {
		struct brm_pattern *p;
		regex_t re;
		char *why = NULL;

		ck_assert_int_eq(regcomp(&re, ere_pats[i], REG_EXTENDED | REG_NOSUB), 0);
		ck_assert_msg(brm_pattern_compile(ere_pats[i], &p, &why) == 0, "'%s': %s",
			      ere_pats[i], why);
		for (size_t j = 0; j < sizeof(ere_lines) / sizeof(ere_lines[0]); j++) {
			int old = regexec(&re, ere_lines[j], 0, NULL, 0) == 0;
			int now = brm_pattern_match(p, ere_lines[j], strlen(ere_lines[j]));

			ck_assert_msg(old == now, "'%s' on '%s': glibc %d, now %d", ere_pats[i],
				      ere_lines[j], old, now);
		}
		brm_pattern_destroy(p);
		regfree(&re);
	}
}
END_TEST

START_TEST(bytes_not_utf8_and_nul_in_lines)
{
	struct brm_pattern *p;
	char *const pats[] = { "^nomatch", "b.d", NULL };

	ck_assert_int_eq(brm_pattern_compile("caf.$", &p, NULL), 0);
	ck_assert_int_eq(brm_pattern_match(p, "caf\xe9", 4), 1);      /* Latin-1 */
	ck_assert_int_eq(brm_pattern_match(p, "caf\xc3\xa9", 5), 0);  /* 2 bytes */
	brm_pattern_destroy(p);
	ck_assert_int_eq(brm_pattern_compile_any(pats, &p, NULL, NULL), 0);
	ck_assert_int_eq(brm_pattern_match(p, "a\0b\0d", 5), 1);
	ck_assert_int_eq(brm_pattern_match(p, "abc", 3), 0);
	brm_pattern_destroy(p);
}
END_TEST

/* ---- end to end ----------------------------------------------------------- */

/*
 * Send `logs` for p with @grep (a JSON string body) on a new connection
 * and wait up to @timeout_ms: the error code (0: a result), or -1 when no
 * reply came (brummd dead or stalled). *@ms gets the time taken.
 */
static int timed_logs(const char *grep_json, int timeout_ms, double *ms, char **msg)
{
	char *req = NULL, buf[65536];
	size_t len = 0;
	int fd = brmh_connect(&H), code = -1;
	double t0 = now_ms();

	ck_assert_int_ge(fd, 0);
	ck_assert_int_gt(asprintf(&req, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"logs\","
				  "\"params\":{\"name\":\"p\",\"lines\":10000,\"grep\":%s}}\n",
				  grep_json), 0);
	ck_assert_int_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	free(req);
	while (now_ms() - t0 < timeout_ms && len < sizeof(buf) - 1) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, 50) <= 0)
			continue;
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		if (memchr(buf, '\n', len)) {
			cJSON *j;

			buf[len] = '\0';
			j = cJSON_Parse(buf);
			if (j) {
				const cJSON *err = cJSON_GetObjectItemCaseSensitive(j, "error");

				brmh_result(j, &code);
				if (msg && err)
					*msg = strdup(brmh_str(err, "message"));
				cJSON_Delete(j);
			}
			break;
		}
	}
	*ms = now_ms() - t0;
	close(fd);
	return code;
}

static long vm_hwm_kb(pid_t pid)
{
	char path[64], *s, *p;
	long kb = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	s = brmh_read_file(path);
	if (s && (p = strstr(s, "VmHWM:")))
		kb = strtol(p + 6, NULL, 10);
	free(s);
	return kb;
}

static bool alive(void)
{
	cJSON *r = brmh_call(&H, "ping", NULL);
	int code = -1;
	bool ok = r && brmh_result(r, &code) && code == 0;

	cJSON_Delete(r);
	return ok;
}

/* Lines of 150 'a' then 'X' (no match is possible without backtracking). */
#define A_LINES A_LINES_AFTER("")
#define A_LINES_AFTER(first) "\"/bin/sh\",\"-c\",\"" first "i=0; while [ $i -lt 60 ]; do echo " \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaX; " \
	"i=$((i+1)); done; exec sleep 600\""

START_TEST(hostile_grep_gets_a_prompt_answer_and_brummd_lives)
{
	static const char *const greps[] = {
		"\"(a{1,400}){1,400}\"", "\"((a{1,400}){1,400}){1,400}\"", "\"(a|a)*b\"",
		"\"(a*)*b\"", "\"(a*)*\\\\1b\"", "\"^(a|a)*$\"", "\"^(a+)+$\"", "\"(a|aa)*\\\\1$\"",
		"\"((a*)*\\\\2)*$\"", "\"(.*a){20}X\"", "\"(a*)(a*)(a*)\\\\3\\\\2\\\\1b\"",
	};
	char *deep = nested(800), *huge = nested(5000), *q;
	long hwm0, hwm1, spid;
	double ms, worst = 0;
	cJSON *s;
	int code;

	brmh_check_start(&H, "{\"workers\":2,\"processes\":{\"p\":{\"cmd\":[" A_LINES "],"
			 "\"start_secs\":0,\"error_patterns\":[]},\"s\":{\"cmd\":[\"sleep\","
			 "\"600\"],\"start_secs\":0}}}");
	ck_assert(brmh_wait_state(&H, "s", "running", 3000));
	s = brmh_status(&H, "s");
	spid = brmh_int(s, "pid");
	cJSON_Delete(s);
	/* Wait for p's 60 lines. */
	for (int i = 0; i < 100; i++) {
		code = timed_logs("\"X$\"", 5000, &ms, NULL);
		ck_assert_int_eq(code, 0);
		s = brmh_call(&H, "logs", "{\"name\":\"p\",\"grep\":\"X$\",\"lines\":100}");
		code = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(s, "result"), "lines"));
		cJSON_Delete(s);
		if (code >= 60)
			break;
		brmh_sleep_ms(50);
	}
	ck_assert_int_ge(code, 60);
	hwm0 = vm_hwm_kb(H.pid);

	/* Over a compile limit: -32602 naming it. */
	ck_assert_int_gt(asprintf(&q, "\"%s\"", deep), 0);
	code = timed_logs(q, 5000, &ms, NULL);
	free(q);
	printf("pattern: 800 nested parentheses: code %d in %.1f ms\n", code, ms);
	ck_assert_msg(code == -32602, "800 nested parentheses: %d (brummd %s)", code,
		      brmh_pid_alive(H.pid) ? "alive" : "dead");
	ck_assert_int_gt(asprintf(&q, "\"%s\"", huge), 0);
	code = timed_logs(q, 5000, &ms, NULL);
	free(q);
	ck_assert_int_eq(code, -32602);
	ck_assert(alive());

	for (size_t i = 0; i < sizeof(greps) / sizeof(greps[0]); i++) {
		char *msg = NULL;

		code = timed_logs(greps[i], 5000, &ms, &msg);
		printf("pattern: grep %s: code %d in %.1f ms%s%s\n", greps[i], code, ms,
		       msg ? ": " : "", msg ? msg : "");
		ck_assert_msg(code == 0 || code == -32602, "grep %s: %d after %.0f ms", greps[i],
			      code, ms);
		if (code == -32602)
			ck_assert_msg(strstr(msg, "params.grep: "), "%s", msg);
		if (ms > worst)
			worst = ms;
		free(msg);
		ck_assert(alive());
	}
	hwm1 = vm_hwm_kb(H.pid);
	printf("pattern: worst grep %.1f ms; brummd VmHWM %ld -> %ld KiB (+%ld)\n", worst, hwm0,
	       hwm1, hwm1 - hwm0);
	ck_assert_msg(worst < 2000, "worst grep took %.0f ms", worst);
	ck_assert_msg(hwm1 - hwm0 < 32 * 1024, "brummd grew by %ld KiB", hwm1 - hwm0);
	s = brmh_status(&H, "s");
	ck_assert_int_eq(brmh_int(s, "pid"), spid);
	cJSON_Delete(s);
	free(deep);
	free(huge);
	brmh_check_stop(&H);
}
END_TEST

START_TEST(follow_reports_a_line_its_grep_cannot_judge)
{
	cJSON *r;
	int code;
	bool skipped = false;

	brmh_check_start(&H, "{\"workers\":1,\"processes\":{\"s\":{\"cmd\":[\"sleep\",\"600\"],"
			 "\"start_secs\":0}}}");
	/* A second connection adds p, whose 60 lines reach the match limit. */
	{
		struct brmh h2 = H;
		h2.fd = -1;
		h2.rlen = 0;
		r = brmh_call(&h2, "add", "{\"name\":\"p\",\"spec\":{\"cmd\":["
			      A_LINES_AFTER("sleep 1; ") "],"
			      "\"start_secs\":0}}");
		ck_assert_ptr_nonnull(brmh_result(r, &code));
		cJSON_Delete(r);
		r = brmh_call(&h2, "logs", "{\"name\":\"p\",\"follow\":true,\"lines\":0,"
			      "\"grep\":\"^(a|a)*$\"}");
		ck_assert_ptr_nonnull(brmh_result(r, &code));
		cJSON_Delete(r);
		for (int i = 0; i < 50 && !skipped; i++) {
			r = brmh_read_reply(&h2, 3000);
			if (!r)
				break;
			if (!strcmp(brmh_str(r, "method"), "logs.skipped")) {
				const cJSON *p = cJSON_GetObjectItemCaseSensitive(r, "params");
				ck_assert_str_eq(brmh_str(p, "name"), "p");
				ck_assert_msg(strstr(brmh_str(p, "reason"), "match limit"), "%s",
					      brmh_str(p, "reason"));
				skipped = true;
			}
			cJSON_Delete(r);
		}
		close(h2.fd);
	}
	ck_assert(skipped);
	ck_assert(alive());
	brmh_check_stop(&H);
}
END_TEST

START_TEST(hostile_error_patterns_refused_or_bounded)
{
	char *deep = nested(800), *params = NULL;
	cJSON *r, *e;
	int code;
	double t0, ms;

	brmh_check_start(&H, "{\"workers\":2,\"processes\":{\"s\":{\"cmd\":[\"sleep\",\"600\"],"
			 "\"start_secs\":0}}}");
	/* Over a limit: refused with the key path. */
	ck_assert_int_gt(asprintf(&params, "{\"name\":\"x\",\"spec\":{\"cmd\":[\"true\"],"
				  "\"error_patterns\":[\"ok\",\"%s\"]}}", deep), 0);
	r = brmh_call(&H, "add", params);
	free(params);
	ck_assert_msg(r != NULL, "no reply to add: brummd %s",
		      brmh_pid_alive(H.pid) ? "alive" : "dead");
	ck_assert_ptr_null(brmh_result(r, &code));
	ck_assert_int_eq(code, -32602);
	e = cJSON_GetObjectItemCaseSensitive(r, "error");
	ck_assert_msg(strstr(brmh_str(e, "message"), "error_patterns: element 1: pattern nests"
			     " parentheses deeper than 32"), "%s", brmh_str(e, "message"));
	cJSON_Delete(r);
	r = brmh_call(&H, "add", "{\"name\":\"h\",\"spec\":{\"cmd\":[\"true\"],\"health\":"
		      "{\"log\":\"(((((((((((((((((((((((((((((((((a)))))))))))))))))))))))))))))))))\"}}}");
	ck_assert_ptr_null(brmh_result(r, &code));
	e = cJSON_GetObjectItemCaseSensitive(r, "error");
	ck_assert_msg(strstr(brmh_str(e, "message"), "params.spec.health: log: pattern nests parentheses"),
		      "%s", brmh_str(e, "message"));
	cJSON_Delete(r);

	/*
	 * Valid but costly on these lines, on the loop thread: each line
	 * stops at the match limit and counts as no error; the loop goes on
	 * (a start of another process answers at once).
	 */
	r = brmh_call(&H, "add", "{\"name\":\"p\",\"spec\":{\"cmd\":[" A_LINES "],"
		      "\"start_secs\":0,\"error_patterns\":[\"(a*)*\\\\1b\",\"^(a|a)*$\","
		      "\"((a*)*\\\\2)*$\"],\"health\":{\"log\":\"(a|aa)*\\\\1$\"}}}");
	ck_assert_ptr_nonnull(brmh_result(r, &code));
	cJSON_Delete(r);
	brmh_sleep_ms(100);
	for (int i = 0; i < 5; i++) {
		t0 = now_ms();
		r = brmh_call(&H, "restart", "{\"name\":\"s\",\"wait\":true}");
		ms = now_ms() - t0;
		ck_assert_ptr_nonnull(brmh_result(r, &code));
		cJSON_Delete(r);
		printf("pattern: restart beside hostile error_patterns: %.1f ms\n", ms);
		ck_assert_msg(ms < 1500, "the loop was stalled %.0f ms", ms);
	}
	r = brmh_call(&H, "errors", "{\"name\":\"p\"}");
	ck_assert_ptr_nonnull(brmh_result(r, &code));
	cJSON_Delete(r);
	ck_assert(alive());
	free(deep);
	brmh_check_stop(&H);
}
END_TEST

START_TEST(numbers_from_a_request_are_range_checked)
{
	static const char *const bad[] = {
		"{\"name\":\"s\",\"since_seq\":1e300}", "{\"name\":\"s\",\"since_seq\":-1}",
		"{\"name\":\"s\",\"since_seq\":9007199254740994}", "{\"name\":\"s\",\"since_seq\":1.5}",
		"{\"name\":\"s\",\"lines\":1e300}", "{\"name\":\"s\",\"lines\":-1e300}",
		"{\"name\":\"s\",\"lines\":10001}",
	};
	cJSON *r;
	int code;

	brmh_check_start(&H, "{\"workers\":1,\"processes\":{\"s\":{\"cmd\":[\"sleep\",\"600\"],"
			 "\"start_secs\":0}}}");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = brmh_call(&H, "logs", bad[i]);
		ck_assert_ptr_nonnull(r);
		ck_assert_ptr_null(brmh_result(r, &code));
		ck_assert_msg(code == -32602, "%s: %d", bad[i], code);
		cJSON_Delete(r);
	}
	r = brmh_call(&H, "logs", "{\"name\":\"s\",\"since_seq\":9007199254740992}");
	ck_assert_ptr_nonnull(brmh_result(r, &code));
	cJSON_Delete(r);
	brmh_check_stop(&H);
}
END_TEST

START_TEST(brummctl_refuses_the_same_patterns)
{
	char *deep = nested(800), *out = NULL, *err = NULL;
	int rc;

	brmh_check_start(&H, "{\"workers\":1,\"processes\":{\"s\":{\"cmd\":[\"sleep\",\"600\"],"
			 "\"start_secs\":0}}}");
	rc = brmh_ctl(&H, &out, &err, "logs", "--grep", deep, "s", NULL);
	ck_assert_int_eq(rc, 2);
	ck_assert_msg(strstr(err, "pattern nests parentheses deeper than 32"), "%s", err);
	free(out);
	free(err);
	rc = brmh_ctl(&H, &out, &err, "logs", "--grep", "(x", "s", NULL);
	ck_assert_int_eq(rc, 2);
	ck_assert_msg(strstr(err, "missing closing parenthesis"), "%s", err);
	free(out);
	free(err);
	ck_assert(alive());
	free(deep);
	brmh_check_stop(&H);
}
END_TEST

static Suite *pattern_suite(void)
{
	Suite *s = suite_create("pattern");
	TCase *unit = tcase_create("unit"), *e2e = tcase_create("e2e");

	tcase_add_test(unit, compile_limits_are_named);
	tcase_add_test(unit, syntax_errors_say_where);
	tcase_add_test(unit, hostile_matches_stop_at_a_limit_on_a_small_stack);
	tcase_add_test(unit, ere_matches_as_glibc_did);
	tcase_add_test(unit, bytes_not_utf8_and_nul_in_lines);
	suite_add_tcase(s, unit);
	tcase_set_timeout(e2e, 60);
	tcase_add_test(e2e, hostile_grep_gets_a_prompt_answer_and_brummd_lives);
	tcase_add_test(e2e, follow_reports_a_line_its_grep_cannot_judge);
	tcase_add_test(e2e, hostile_error_patterns_refused_or_bounded);
	tcase_add_test(e2e, numbers_from_a_request_are_range_checked);
	tcase_add_test(e2e, brummctl_refuses_the_same_patterns);
	suite_add_tcase(s, e2e);
	return s;
}

Suite *brm_test_suite(void)
{
	return pattern_suite();
}
