/*
 * test_faults.c — the fault catalogue: malformed and hostile input over the
 * socket against a real brummd. Each bad input goes on its own connection
 * (some close it); afterwards brummd must answer ping, every other client
 * must have been served, the supervised process must be untouched, and
 * brummd's descriptors must be back where they started.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/harness.h"
#include "tests/suite.h"

#define NO_REPLY 1      /* expect no reply at all (a notification) */
#define ANY_REPLY 2     /* any well-formed reply line: result or error */
#define CLOSED 3        /* an error with id null, then the connection closes */

static struct brmh H;
static int n_bad;       /* bad inputs tried in this test */

static long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;   /* the daemon closed: fine for the hostile cases */
		p += w;
		n -= (size_t)w;
	}
}

/* Next line from @fd (buffered in buf, len); NULL on EOF or timeout. */
static char *read_line_fd(int fd, char *buf, size_t *len, size_t cap, int timeout_ms)
{
	long deadline = mono_ms() + timeout_ms;

	for (;;) {
		char *nl = memchr(buf, '\n', *len);
		struct pollfd pfd = { fd, POLLIN, 0 };
		long left;
		ssize_t n;

		if (nl) {
			size_t l = (size_t)(nl - buf);
			char *line = strndup(buf, l);
			memmove(buf, nl + 1, *len - l - 1);
			*len -= l + 1;
			return line;
		}
		left = deadline - mono_ms();
		if (left <= 0 || *len == cap || poll(&pfd, 1, (int)left) <= 0)
			return NULL;
		n = read(fd, buf + *len, cap - *len);
		if (n <= 0)
			return NULL;
		*len += (size_t)n;
	}
}

/* True when the peer closed @fd within @timeout_ms (discarding input). */
static bool wait_closed(int fd, int timeout_ms)
{
	long deadline = mono_ms() + timeout_ms;
	char sink[4096];

	for (;;) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		long left = deadline - mono_ms();
		ssize_t n;

		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			return false;
		n = read(fd, sink, sizeof(sink));
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return true;
	}
}

static int reply_code(const cJSON *r)
{
	int code = 0;

	brmh_result(r, &code);
	return code;
}

/*
 * Send @n bytes on a fresh connection and check what comes back: an error
 * with @expect as its code, or NO_REPLY / ANY_REPLY / CLOSED.
 */
static void bad_input(const char *what, const char *data, size_t n, int expect)
{
	char buf[8192];
	size_t len = 0;
	int fd = brmh_connect(&H);
	char *line;
	cJSON *r;

	n_bad++;
	ck_assert_msg(fd >= 0, "%s: cannot connect", what);
	write_all(fd, data, n);
	if (expect == NO_REPLY) {
		/* The next request's reply must come first. */
		static const char ping[] = "{\"jsonrpc\":\"2.0\",\"id\":\"after\",\"method\":\"ping\"}\n";
		write_all(fd, ping, sizeof(ping) - 1);
	}
	line = read_line_fd(fd, buf, &len, sizeof(buf), 5000);
	ck_assert_msg(line != NULL, "%s: no reply", what);
	r = cJSON_Parse(line);
	ck_assert_msg(r != NULL, "%s: reply is not JSON: %s", what, line);
	ck_assert_msg(cJSON_IsObject(r) && cJSON_GetObjectItemCaseSensitive(r, "jsonrpc"),
		      "%s: not a JSON-RPC reply: %s", what, line);
	if (expect == NO_REPLY) {
		ck_assert_msg(strcmp(brmh_str(r, "id") ? brmh_str(r, "id") : "", "after") == 0,
			      "%s: a notification got a reply: %s", what, line);
	} else if (expect == CLOSED) {
		ck_assert_msg(reply_code(r) == -32004, "%s: %s", what, line);
		ck_assert_msg(wait_closed(fd, 5000), "%s: connection not closed", what);
	} else if (expect != ANY_REPLY) {
		ck_assert_msg(reply_code(r) == expect, "%s: expected %d, got %s", what, expect, line);
	}
	cJSON_Delete(r);
	free(line);
	close(fd);
}

static void bad_line(const char *what, const char *line, int expect)
{
	char *s;

	if (asprintf(&s, "%s\n", line) < 0)
		ck_abort();
	bad_input(what, s, strlen(s), expect);
	free(s);
}

/* A request for @method with @params (JSON text) expecting error @expect. */
static void bad_call(const char *method, const char *params, int expect)
{
	char *s;

	if (asprintf(&s, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"%s\",\"params\":%s}", method,
		     params) < 0)
		ck_abort();
	bad_line(s, s, expect);
	free(s);
}

/* ---- the baseline every test compares against -------------------------- */

struct baseline {
	long pid;
	long version;
	int fds;
	long rss_kb;
};

static void start_catalogue_daemon(struct baseline *b, const char *extra)
{
	char cfg[2048];
	cJSON *s;

	snprintf(cfg, sizeof(cfg),
		 "{\"workers\": 2, %s \"processes\": {\"p\": {\"cmd\": [\"%s\", \"sleep\", \"600\"],"
		 " \"start_secs\": 0}}}", extra ? extra : "", brmh_child());
	ck_assert_msg(brmh_start(&H, cfg, NULL) == 0, "brummd did not start");
	ck_assert(brmh_wait_state(&H, "p", "running", 3000));
	s = brmh_status(&H, "p");
	b->pid = brmh_int(s, "pid");
	b->version = brmh_int(s, "version");
	cJSON_Delete(s);
	/* The state file records p's process group (daemon/sup/leftovers.c): not
	 * while its temporary file is open for the write. */
	for (int waited = 0; waited < 3000; waited += 10) {
		char *state = brmh_read_file(brmh_fmt("%s/state.json", H.dir));
		bool written = state && strstr(state, "\"group\"");

		free(state);
		if (written)
			break;
		brmh_sleep_ms(10);
	}
	b->fds = brmh_fd_count(H.pid);
	b->rss_kb = brmh_rss_kb(H.pid);
}

/* brummd answers, p is unchanged, descriptors are back, memory bounded. */
static void check_survived(const struct baseline *b, long rss_slack_kb)
{
	cJSON *r, *s;
	int fds = -1, code;
	long deadline = mono_ms() + 3000;

	r = brmh_call(&H, "ping", NULL);
	ck_assert_msg(brmh_result(r, &code) && code == 0, "brummd does not answer ping");
	cJSON_Delete(r);
	s = brmh_status(&H, "p");
	ck_assert_str_eq(brmh_str(s, "state"), "running");
	ck_assert_int_eq(brmh_int(s, "pid"), b->pid);
	ck_assert_int_eq(brmh_int(s, "version"), b->version);
	cJSON_Delete(s);
	/* Closed connections are gone once the workers saw the close. */
	while (mono_ms() < deadline && (fds = brmh_fd_count(H.pid)) != b->fds)
		brmh_sleep_ms(20);
	if (fds != b->fds) {   /* which one, for whoever reads the failure */
		char cmd[64];

		snprintf(cmd, sizeof(cmd), "ls -l /proc/%d/fd >&2", (int)H.pid);
		if (system(cmd) != 0)
			fprintf(stderr, "(cannot list the descriptors)\n");
	}
	ck_assert_msg(fds == b->fds, "descriptors: %d before, %d after", b->fds, fds);
	if (rss_slack_kb > 0 && !getenv("TSAN_OPTIONS")) {   /* TSan's shadow memory grows */
		long rss = brmh_rss_kb(H.pid);
		ck_assert_msg(rss - b->rss_kb < rss_slack_kb, "RSS grew from %ld to %ld KiB",
			      b->rss_kb, rss);
	}
}

static void teardown(void)
{
	int st = brmh_stop(&H, 15000);

	ck_assert_msg(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "brummd did not exit 0 on SIGTERM (status %d)", st);
}

/* ---- a slow client that sends one byte per second ------------------------ */

struct slow {
	pthread_t t;
	int fd;
	int seconds;
	bool answered;
};

static void *slow_main(void *arg)
{
	struct slow *sl = arg;
	static const char req[] = "{\"jsonrpc\":\"2.0\",\"id\":\"slow\",\"method\":\"ping\"}\n";
	char buf[4096];
	size_t len = 0, i;
	char *line;

	for (i = 0; i < (size_t)sl->seconds; i++) {
		write_all(sl->fd, req + i, 1);
		brmh_sleep_ms(1000);
	}
	write_all(sl->fd, req + i, sizeof(req) - 1 - i);
	line = read_line_fd(sl->fd, buf, &len, sizeof(buf), 5000);
	sl->answered = line && strstr(line, "\"slow\"") && strstr(line, "\"result\"");
	free(line);
	return NULL;
}

/* ---- the catalogue ------------------------------------------------------ */

static const char *const wrong_values[] = {
	"1", "-1", "1e308", "-1e308", "0.5", "\"str\"", "\"\"", "true", "false", "null",
	"[]", "[1]", "{}", "{\"a\":1}",
};

/* Is @v of the JSON type a parameter takes (so not "wrong")? */
static bool same_type(const char *v, const char *type)
{
	switch (type[0]) {
	case 's': return v[0] == '"';
	case 'n': return v[0] == '-' || (v[0] >= '0' && v[0] <= '9');
	case 'b': return !strcmp(v, "true") || !strcmp(v, "false");
	case 'a': return v[0] == '[';
	case 'o': return v[0] == '{';
	case 'd': return v[0] == '"' || v[0] == '-' || (v[0] >= '0' && v[0] <= '9');
	}
	return false;
}

/*
 * Every parameter of every method with a value of every wrong type. Where
 * a parameter needs a companion to be checked at all, @rest supplies a
 * valid one that names no existing process, so nothing can change state.
 */
static void wrong_type_for_every_parameter(void)
{
	static const struct {
		const char *method, *param, *type, *rest;
	} params[] = {
		{ "status", "name", "s", NULL },
		{ "status", "names", "a", NULL },
		{ "start", "name", "s", NULL },
		{ "start", "names", "a", NULL },
		{ "start", "all", "b", NULL },
		{ "start", "wait", "b", "\"name\":\"nosuch\"" },
		{ "start", "timeout_secs", "d", "\"name\":\"nosuch\"" },
		{ "stop", "name", "s", NULL },
		{ "stop", "names", "a", NULL },
		{ "stop", "all", "b", NULL },
		{ "stop", "wait", "b", "\"name\":\"nosuch\"" },
		{ "stop", "timeout_secs", "d", "\"name\":\"nosuch\"" },
		{ "restart", "name", "s", NULL },
		{ "restart", "names", "a", NULL },
		{ "restart", "all", "b", NULL },
		{ "restart", "wait", "b", "\"name\":\"nosuch\"" },
		{ "restart", "timeout_secs", "d", "\"name\":\"nosuch\"" },
		{ "signal", "name", "s", "\"signal\":\"HUP\"" },
		{ "signal", "names", "a", "\"signal\":\"HUP\"" },
		{ "signal", "all", "b", "\"signal\":\"HUP\"" },
		{ "signal", "signal", "d", "\"name\":\"nosuch\"" },
		{ "add", "name", "s", "\"spec\":{\"cmd\":[\"true\"]}" },
		{ "add", "spec", "o", "\"name\":\"newp\"" },
		{ "remove", "name", "s", NULL },
		{ "ping", "anything", "", NULL },
	};

	for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
		for (size_t j = 0; j < sizeof(wrong_values) / sizeof(wrong_values[0]); j++) {
			const char *v = wrong_values[j];
			char p[512];

			if (same_type(v, params[i].type))
				continue;
			/* "all": false is wrong too, but true is right */
			snprintf(p, sizeof(p), "{%s%s\"%s\":%s}", params[i].rest ? params[i].rest : "",
				 params[i].rest ? "," : "", params[i].param, v);
			bad_call(params[i].method, p, -32602);
		}
	}
	/* The right type with a wrong value. */
	bad_call("status", "{\"name\":\"\"}", -32602);
	bad_call("status", "{\"name\":\"-bad\"}", -32602);
	bad_call("status", "{\"name\":\"a/b\"}", -32602);
	bad_call("status", "{\"names\":[1]}", -32602);
	bad_call("start", "{\"all\":false}", -32602);
	bad_call("start", "{\"names\":[]}", -32602);
	bad_call("start", "{\"name\":\"p\",\"all\":true}", -32602);
	bad_call("start", "{}", -32602);
	bad_call("stop", "{\"name\":\"nosuch\",\"timeout_secs\":-5}", -32602);
	bad_call("stop", "{\"name\":\"nosuch\",\"timeout_secs\":0}", -32602);
	bad_call("stop", "{\"name\":\"nosuch\",\"timeout_secs\":\"-1s\"}", -32602);
	bad_call("signal", "{\"name\":\"nosuch\",\"signal\":1e308}", -32602);
	bad_call("signal", "{\"name\":\"nosuch\",\"signal\":-9}", -32602);
	bad_call("signal", "{\"name\":\"nosuch\",\"signal\":65}", -32602);
	bad_call("signal", "{\"name\":\"nosuch\",\"signal\":9.5}", -32602);
	bad_call("signal", "{\"name\":\"nosuch\",\"signal\":\"SIGNOPE\"}", -32602);
	bad_call("signal", "{\"name\":\"nosuch\"}", -32602);
	bad_call("add", "{\"name\":\"newp\",\"spec\":{}}", -32602);
	bad_call("add", "{\"name\":\"newp\",\"spec\":{\"cmd\":[]}}", -32602);
	bad_call("add", "{\"name\":\"newp\",\"spec\":{\"cmd\":[1,2]}}", -32602);
	bad_call("add", "{\"name\":\"newp\",\"spec\":{\"cmd\":[\"true\"],\"start_retries\":-1}}",
		 -32602);
	bad_call("add", "{\"name\":\"newp\",\"spec\":{\"cmd\":[\"true\"],\"start_retries\":1e20}}",
		 -32602);
	bad_call("add", "{\"name\":\"newp\",\"spec\":{\"cmd\":[\"true\"],\"start_secs\":-1e308}}",
		 -32602);
	bad_call("add", "{\"name\":\"newp\",\"spec\":{\"cmd\":[\"true\"],\"umask\":\"999\"}}",
		 -32602);
	bad_call("add", "{\"name\":\"newp\",\"spec\":{\"cmd\":[\"true\"],\"env\":{\"A\":[1]}}}",
		 -32602);
	bad_call("add", "{\"name\":\"newp\",\"spec\":{\"cmd\":[\"true\"],\"bogus\":1}}", -32602);
	bad_call("add", "{\"name\":\"p\",\"spec\":{\"cmd\":[\"true\"]}}", -32002);
	bad_call("remove", "{}", -32602);
	bad_call("remove", "{\"name\":\"nosuch\"}", -32001);
	bad_call("start", "{\"name\":\"nosuch\"}", -32001);
}

static char *repeat(const char *unit, size_t times, const char *prefix, const char *suffix)
{
	size_t ul = strlen(unit), pl = strlen(prefix), sl = strlen(suffix);
	char *s = malloc(pl + ul * times + sl + 1), *p = s;

	memcpy(p, prefix, pl);
	p += pl;
	for (size_t i = 0; i < times; i++, p += ul)
		memcpy(p, unit, ul);
	memcpy(p, suffix, sl + 1);
	return s;
}

static void framing_and_envelope(void)
{
	static const char nul_line[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\0\"method\":\"ping\"}\n";
	static const char bad_utf8_str[] =
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"status\",\"params\":{\"name\":\"\xff\xfe\"}}\n";
	static const char bad_utf8_bare[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\xc3\x28}\n";
	static const char bad_utf8_method[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xed\xa0\x80\"}\n";
	char *s;

	bad_line("truncated JSON", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"", -32700);
	bad_line("lone brace", "{", -32700);
	bad_line("garbage", "hello brummd", -32700);
	bad_line("trailing garbage", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}x", -32700);
	bad_line("two objects on a line",
		 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}{\"jsonrpc\":\"2.0\"}", -32700);
	bad_line("string", "\"ping\"", -32600);
	bad_line("number", "42", -32600);
	bad_line("null", "null", -32600);
	bad_line("empty batch", "[]", -32600);
	bad_line("batch", "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]", -32600);
	bad_line("empty object", "{}", -32600);
	bad_line("no jsonrpc", "{\"id\":1,\"method\":\"ping\"}", -32600);
	bad_line("jsonrpc 1.0", "{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"ping\"}", -32600);
	bad_line("jsonrpc number", "{\"jsonrpc\":2.0,\"id\":1,\"method\":\"ping\"}", -32600);
	bad_line("method number", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":1}", -32600);
	bad_line("method null", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":null}", -32600);
	bad_line("no method", "{\"jsonrpc\":\"2.0\",\"id\":1}", -32600);
	bad_line("id object", "{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"ping\"}", -32600);
	bad_line("id array", "{\"jsonrpc\":\"2.0\",\"id\":[1],\"method\":\"ping\"}", -32600);
	bad_line("id bool", "{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"ping\"}", -32600);
	bad_line("unknown method", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"reboot\"}", -32601);
	bad_line("empty method", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\"}", -32601);
	bad_line("method case", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"PING\"}", -32601);
	bad_line("params array", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":[]}",
		 -32602);
	bad_line("params string",
		 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"stop\",\"params\":\"p\"}", -32602);
	bad_line("huge id", "{\"jsonrpc\":\"2.0\",\"id\":1e400,\"method\":\"ping\"}", ANY_REPLY);
	bad_line("negative id", "{\"jsonrpc\":\"2.0\",\"id\":-1e300,\"method\":\"ping\"}", ANY_REPLY);
	bad_line("escaped NUL in method",
		 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\\u0000stop\"}", -32700);
	bad_line("escaped NUL in name",
		 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"stop\",\"params\":{\"name\":\"p\\u0000x\"}}",
		 -32700);
	bad_line("escaped backslash then u0000 is a plain string",
		 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"status\",\"params\":{\"name\":\"p\\\\u0000\"}}",
		 -32602);
	bad_line("duplicate keys are refused",
		 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"method\":\"stop\"}", -32600);
	bad_line("duplicate keys in params are refused",
		 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"status\",\"params\":{\"name\":\"a\",\"name\":\"b\"}}",
		 -32600);
	bad_line("key case", "{\"JSONRPC\":\"2.0\",\"ID\":1,\"METHOD\":\"ping\"}", -32600);
	bad_line("notification", "{\"jsonrpc\":\"2.0\",\"method\":\"ping\"}", NO_REPLY);
	bad_line("notification of an unknown method", "{\"jsonrpc\":\"2.0\",\"method\":\"nope\"}",
		 NO_REPLY);
	bad_line("notification with bad params",
		 "{\"jsonrpc\":\"2.0\",\"method\":\"stop\",\"params\":{\"name\":1}}", NO_REPLY);
	bad_line("notification of a stop of nothing",
		 "{\"jsonrpc\":\"2.0\",\"method\":\"stop\",\"params\":{\"name\":\"nosuch\"}}", NO_REPLY);
	bad_input("NUL byte", nul_line, sizeof(nul_line) - 1, -32700);
	bad_input("invalid UTF-8 in a name", bad_utf8_str, sizeof(bad_utf8_str) - 1, -32602);
	bad_input("invalid UTF-8 outside strings", bad_utf8_bare, sizeof(bad_utf8_bare) - 1, -32700);
	bad_input("surrogate in a method", bad_utf8_method, sizeof(bad_utf8_method) - 1, -32601);
	bad_line("CR line endings", "\r\n{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\r",
		 ANY_REPLY);

	s = repeat("[", 33, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"x\":", "");
	bad_line("nested 34 deep", s, -32004);
	free(s);
	s = repeat("[", 200000, "", "");
	bad_line("200000 open brackets", s, -32004);
	free(s);
	s = repeat("{\"a\":", 5000, "", "1");
	bad_line("5000 nested objects", s, -32004);
	free(s);
	s = repeat("x", 10u << 20, "", "\n");
	bad_input("a 10 MB line", s, strlen(s), CLOSED);
	free(s);
	s = repeat("\"aaaaaaaaaaaaaaa\",", 50000,
		   "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"status\",\"params\":{\"names\":[", "1]}}\n");
	bad_input("an array of 50000 names", s, strlen(s), -32602);
	free(s);
}

START_TEST(hostile_inputs_are_answered_and_survived)
{
	struct baseline b;
	struct slow sl = { .seconds = 3 };
	int code;

	start_catalogue_daemon(&b, NULL);
	/* The slow client runs while everything else is tried. */
	sl.fd = brmh_connect(&H);
	ck_assert(sl.fd >= 0);
	pthread_create(&sl.t, NULL, slow_main, &sl);

	framing_and_envelope();
	wrong_type_for_every_parameter();
	{
		/* The persistent client was served all along. */
		cJSON *r = brmh_call(&H, "ping", NULL);
		ck_assert_ptr_nonnull(brmh_result(r, &code));
		cJSON_Delete(r);
	}
	pthread_join(sl.t, NULL);
	n_bad++;
	ck_assert_msg(sl.answered, "the one-byte-per-second client was not answered");
	close(sl.fd);
	fprintf(stderr, "faults: %d bad inputs tried and survived\n", n_bad);
	ck_assert_int_ge(n_bad, 40);
	check_survived(&b, 64 * 1024);
	teardown();
}
END_TEST

START_TEST(ten_thousand_pipelined_requests_in_one_write)
{
	enum { N = 10000 };
	struct baseline b;
	struct brm_buf_like { char *p; size_t len; } req = { NULL, 0 };
	static char buf[1 << 16];
	size_t len = 0;
	int fd;

	start_catalogue_daemon(&b, NULL);
	req.p = malloc((size_t)N * 80);
	for (int i = 0; i < N; i++)
		req.len += (size_t)sprintf(req.p + req.len,
					   i % 2 ? "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"ping\"}\n"
						 : "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"status\","
						   "\"params\":{\"name\":\"p\"}}\n", i);
	fd = brmh_connect(&H);
	/* One write from a second thread would be fairer; a send buffer this
	 * big (about 600 KB) may block, so read replies as they come. */
	{
		size_t off = 0;
		int got = 0;
		fcntl(fd, F_SETFL, O_NONBLOCK);
		while (got < N) {
			struct pollfd pfd = { fd, POLLIN | (off < req.len ? POLLOUT : 0), 0 };
			ck_assert_msg(poll(&pfd, 1, 5000) > 0, "stalled after %d replies", got);
			if ((pfd.revents & POLLOUT) && off < req.len) {
				ssize_t w = write(fd, req.p + off, req.len - off);
				if (w > 0)
					off += (size_t)w;
			}
			if (pfd.revents & POLLIN) {
				ssize_t n = read(fd, buf + len, sizeof(buf) - len);
				char *p = buf, *nl;
				ck_assert(n > 0);
				len += (size_t)n;
				while ((nl = memchr(p, '\n', len - (size_t)(p - buf)))) {
					char want[32];
					snprintf(want, sizeof(want), "\"id\":%d,", got);
					ck_assert_msg(strstr(p, want) && strstr(p, want) < nl,
						      "reply %d out of order", got);
					got++;
					p = nl + 1;
				}
				len -= (size_t)(p - buf);
				memmove(buf, p, len);
			}
		}
	}
	close(fd);
	free(req.p);
	n_bad++;
	check_survived(&b, 64 * 1024);
	teardown();
}
END_TEST

START_TEST(abrupt_closes_and_half_closes)
{
	static const char ping[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}";
	struct baseline b;
	char buf[4096];
	size_t len = 0;
	char *line;
	int fd;

	start_catalogue_daemon(&b, NULL);
	/* half-close without a newline: still answered */
	fd = brmh_connect(&H);
	write_all(fd, ping, sizeof(ping) - 1);
	shutdown(fd, SHUT_WR);
	line = read_line_fd(fd, buf, &len, sizeof(buf), 3000);
	ck_assert_msg(line && strstr(line, "\"result\""), "half-closed client: %s", line);
	free(line);
	ck_assert(wait_closed(fd, 3000));
	close(fd);
	/* close in the middle of a request line */
	fd = brmh_connect(&H);
	write_all(fd, ping, 10);
	close(fd);
	/* close with a thousand replies unread, and a mutating request in flight */
	fd = brmh_connect(&H);
	for (int i = 0; i < 1000; i++)
		write_all(fd, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"status\"}\n", 43);
	write_all(fd, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"start\",\"params\":{\"name\":\"p\"}}\n",
		  63);
	close(fd);
	/* reset (SO_LINGER 0) with a request in flight */
	fd = brmh_connect(&H);
	{
		struct linger lg = { 1, 0 };
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	write_all(fd, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"stop\",\"params\":{\"name\":\"nosuch\"}}\n",
		  66);
	close(fd);
	/* connect and vanish */
	for (int i = 0; i < 50; i++)
		close(brmh_connect(&H));
	n_bad += 5;
	/* start on a running p changes nothing (documented: not an error) */
	check_survived(&b, 0);
	teardown();
}
END_TEST

START_TEST(a_thousand_simultaneous_connections)
{
	enum { N = 1000 };
	static const char ping[] = "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"ping\"}\n";
	struct rlimit rl;
	struct baseline b;
	int *fds = calloc(N, sizeof(int));
	int answered = 0;

	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < N + 64 && rl.rlim_max >= N + 64) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	start_catalogue_daemon(&b, NULL);
	for (int i = 0; i < N; i++) {
		fds[i] = brmh_connect(&H);
		ck_assert_msg(fds[i] >= 0, "connection %d: %s", i, strerror(errno));
	}
	for (int i = 0; i < N; i++)
		write_all(fds[i], ping, sizeof(ping) - 1);
	for (int i = 0; i < N; i++) {
		char buf[512];
		size_t len = 0;
		char *line = read_line_fd(fds[i], buf, &len, sizeof(buf), 5000);
		answered += line && strstr(line, "\"result\"");
		free(line);
		close(fds[i]);
	}
	free(fds);
	n_bad++;
	ck_assert_int_eq(answered, N);
	check_survived(&b, 0);
	teardown();
}
END_TEST

/* CPU seconds (user + system) process @pid has used; 0 when gone. */
static double cpu_secs_of(pid_t pid)
{
	double secs = 0;

	brmh_proc_stat(pid, NULL, NULL, &secs);
	return secs;
}

/*
 * brummd at its descriptor limit (RLIMIT_NOFILE lowered under it with
 * prlimit): clients past it get an error line and a close instead of
 * hanging, the workers do not spin on the listening socket, a process that
 * cannot start says why, and everything works again once descriptors are
 * free.
 */
START_TEST(out_of_descriptors_gives_clear_errors_and_recovers)
{
	enum { MAXC = 48 };
	static const char ping[] = "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"ping\"}\n";
	struct baseline b;
	struct rlimit old, low;
	int fds[MAXC], served = 0, refused = 0, extra, code;
	double cpu0, cpu1;
	cJSON *r, *s;

	start_catalogue_daemon(&b, NULL);
	ck_assert_int_eq(prlimit(H.pid, RLIMIT_NOFILE, NULL, &old), 0);
	low = old;
	low.rlim_cur = (rlim_t)b.fds + 6;
	ck_assert_int_eq(prlimit(H.pid, RLIMIT_NOFILE, &low, NULL), 0);

	/* 1. clients: the first few are served, the rest told why and closed */
	for (int i = 0; i < MAXC; i++) {
		char buf[1024], *line;
		size_t len = 0;

		fds[i] = brmh_connect(&H);
		ck_assert_int_ge(fds[i], 0);
		write_all(fds[i], ping, sizeof(ping) - 1);
		line = read_line_fd(fds[i], buf, &len, sizeof(buf), 3000);
		ck_assert_msg(line, "client %d got no answer at all", i);
		if (strstr(line, "\"result\"")) {
			served++;
		} else {
			ck_assert_msg(strstr(line, "-32004") &&
				      strstr(line, "out of file descriptors"), "client %d: %s", i, line);
			ck_assert(wait_closed(fds[i], 3000));
			close(fds[i]);
			fds[i] = -1;
			refused++;
		}
		free(line);
	}
	n_bad += MAXC;
	ck_assert_msg(served > 0 && refused > 0, "served %d, refused %d", served, refused);

	/* 2. a client left waiting at the limit must not make a worker spin */
	extra = brmh_connect(&H);
	cpu0 = cpu_secs_of(H.pid);
	brmh_sleep_ms(1000);
	cpu1 = cpu_secs_of(H.pid);
	ck_assert_msg(cpu1 - cpu0 < 0.3, "brummd used %.2f s of CPU in 1 s at its limit",
		      cpu1 - cpu0);
	close(extra);

	/* 3. a process cannot start: the reason is in its status */
	r = brmh_call(&H, "add", "{\"name\":\"q\",\"spec\":{\"cmd\":[\"true\"],"
		      "\"restart\":\"never\"}}");
	cJSON_Delete(r);
	ck_assert(brmh_wait_state(&H, "q", "fatal", 5000));
	s = brmh_status(&H, "q");
	ck_assert_msg(brmh_str(s, "error") && strstr(brmh_str(s, "error"), "Too many open files"),
		      "error: %s", brmh_str(s, "error") ? brmh_str(s, "error") : "(none)");
	cJSON_Delete(s);

	/* 4. descriptors freed: new clients are served, q starts */
	for (int i = 0; i < MAXC; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	brmh_sleep_ms(100);
	ck_assert_int_eq(prlimit(H.pid, RLIMIT_NOFILE, &old, NULL), 0);
	/* the state file, unwritable at the limit, catches up on its own */
	{
		char path[400], *txt = NULL;
		long deadline = mono_ms() + 5000;

		snprintf(path, sizeof(path), "%s/state.json", H.dir);
		while (mono_ms() < deadline) {
			free(txt);
			txt = brmh_read_file(path);
			if (txt && strstr(txt, "\"q\""))
				break;
			brmh_sleep_ms(50);
		}
		ck_assert_msg(txt && strstr(txt, "\"q\""), "state file: %s", txt ? txt : "(none)");
		free(txt);
	}
	r = brmh_call(&H, "start", "{\"name\":\"q\"}");
	{
		char *txt = r ? cJSON_PrintUnformatted(r) : NULL;
		ck_assert_msg(brmh_result(r, &code) != NULL, "start q: %s", txt ? txt : "(no reply)");
		free(txt);
	}
	cJSON_Delete(r);
	ck_assert(brmh_wait_state(&H, "q", "exited", 3000));
	r = brmh_call(&H, "remove", "{\"name\":\"q\"}");
	cJSON_Delete(r);
	check_survived(&b, 0);
	teardown();
}
END_TEST

START_TEST(limits_from_the_config_are_enforced)
{
	struct baseline b;
	int fds[4], fd, code;
	char *s, buf[4096];
	size_t len = 0;
	cJSON *r;

	start_catalogue_daemon(&b, "\"limits\": {\"max_clients\": 4, \"max_message_bytes\": 2048,"
			       " \"max_json_depth\": 4, \"max_processes\": 1, \"max_name_len\": 8},");
	/* H.fd is client 1; three more fill the limit; the fifth is refused.
	 * Each answers a ping before the next connects: four workers accept
	 * in any order, so without it the fifth could be counted before the
	 * fourth and the fourth refused (broke under load). */
	for (int i = 0; i < 3; i++) {
		static const char ping[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n";

		fds[i] = brmh_connect(&H);
		ck_assert(fds[i] >= 0);
		write_all(fds[i], ping, sizeof(ping) - 1);
		len = 0;
		s = read_line_fd(fds[i], buf, &len, sizeof(buf), 3000);
		ck_assert_msg(s && strstr(s, "\"result\""), "filling client %d: %s", i + 2, s);
		free(s);
	}
	len = 0;
	fd = brmh_connect(&H);
	s = read_line_fd(fd, buf, &len, sizeof(buf), 3000);
	ck_assert_msg(s && strstr(s, "-32004") && strstr(s, "too many clients"), "got %s", s);
	free(s);
	ck_assert(wait_closed(fd, 3000));
	close(fd);
	for (int i = 0; i < 3; i++)
		close(fds[i]);
	brmh_sleep_ms(50);
	/* message size and depth */
	s = repeat("x", 3000, "", "\n");
	bad_input("a line over max_message_bytes", s, strlen(s), CLOSED);
	free(s);
	bad_line("nested over max_json_depth",
		 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"x\":[[[[1]]]]}", -32004);
	bad_line("nested at max_json_depth",
		 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":{\"x\":[[1]]}}", -32602);
	/* names and processes */
	bad_call("add", "{\"name\":\"ninechars\",\"spec\":{\"cmd\":[\"true\"]}}", -32602);
	bad_call("add", "{\"name\":\"q\",\"spec\":{\"cmd\":[\"true\"]}}", -32004);
	check_survived(&b, 0);
	teardown();

	/* idle connections are told and closed; H.fd too, so use a fresh one */
	start_catalogue_daemon(&b, "\"limits\": {\"idle_timeout_secs\": \"300ms\"},");
	fd = brmh_connect(&H);
	len = 0;
	s = read_line_fd(fd, buf, &len, sizeof(buf), 3000);
	ck_assert_msg(s && strstr(s, "idle"), "idle connection: %s", s);
	free(s);
	ck_assert(wait_closed(fd, 3000));
	close(fd);
	close(H.fd);
	H.fd = brmh_connect(&H);
	r = brmh_call(&H, "ping", NULL);
	ck_assert_ptr_nonnull(brmh_result(r, &code));
	cJSON_Delete(r);
	check_survived(&b, 0);
	teardown();
}
END_TEST

/* A client that never reads: its replies stop its reads; others go on. */
START_TEST(a_client_that_never_reads_is_bounded)
{
	struct baseline b;
	char *req;
	size_t n = 0;
	int fd, code;
	cJSON *r;

	start_catalogue_daemon(&b, "\"limits\": {\"max_queued_bytes\": 65536},");
	req = malloc(200000 * 44);
	for (int i = 0; i < 200000; i++)
		n += (size_t)sprintf(req + n, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"status\"}\n");
	fd = brmh_connect(&H);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	write_all(fd, req, n);   /* stops when both socket buffers are full */
	free(req);
	brmh_sleep_ms(200);
	r = brmh_call(&H, "ping", NULL);
	ck_assert_ptr_nonnull(brmh_result(r, &code));
	cJSON_Delete(r);
	ck_assert_msg(getenv("TSAN_OPTIONS") || brmh_rss_kb(H.pid) - b.rss_kb < 16 * 1024,
		      "RSS grew by %ld KiB", brmh_rss_kb(H.pid) - b.rss_kb);
	close(fd);
	n_bad++;
	check_survived(&b, 16 * 1024);
	teardown();
}
END_TEST

/* ---- access control ----------------------------------------------------- */

/* Connect as uid/gid 65534 (nobody/nogroup) and call @method. */
static int call_as_nobody(const char *method, const char *params)
{
	int pfd[2], st, code = 0;
	pid_t pid;

	ck_assert_int_eq(pipe(pfd), 0);
	pid = fork();
	if (pid == 0) {
		char buf[4096], line[512];
		size_t len = 0;
		char *reply;
		int fd;
		cJSON *r;

		close(pfd[0]);
		if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
			_exit(90);
		fd = brmh_connect(&H);
		if (fd < 0)
			_exit(91);
		snprintf(line, sizeof(line), "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"%s\"%s%s}\n",
			 method, params ? ",\"params\":" : "", params ? params : "");
		write_all(fd, line, strlen(line));
		reply = read_line_fd(fd, buf, &len, sizeof(buf), 3000);
		r = reply ? cJSON_Parse(reply) : NULL;
		code = r ? reply_code(r) : 92;
		if (write(pfd[1], &code, sizeof(code)) < 0)
			_exit(93);
		_exit(0);
	}
	close(pfd[1]);
	if (read(pfd[0], &code, sizeof(code)) != sizeof(code))
		code = 99;
	close(pfd[0]);
	waitpid(pid, &st, 0);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "client exit %d", WEXITSTATUS(st));
	return code;
}

START_TEST(other_users_are_refused_and_readers_may_only_read)
{
	struct baseline b;
	struct stat st;
	char *log;

	if (geteuid() != 0)
		return;   /* needs root to become nobody */
	/* brummd makes the socket's directory the group's (0750). */
	brmh_socket_subdir = "run";
	start_catalogue_daemon(&b, "\"socket_mode\": \"0660\", \"socket_group\": 65534,");
	ck_assert_int_eq(stat(H.sock, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0660);
	ck_assert_int_eq(st.st_gid, 65534);
	chmod(H.dir, 0755);
	ck_assert_int_eq(call_as_nobody("ping", NULL), -32003);
	ck_assert_int_eq(call_as_nobody("status", NULL), -32003);
	ck_assert_int_eq(call_as_nobody("stop", "{\"name\":\"p\"}"), -32003);
	log = brmh_read_file(H.log);
	/* the first refusal is logged; the two after it within 10 s are counted */
	ck_assert_msg(log && strstr(log, "denied 'ping' to uid 65534 pid "), "log: %s", log);
	free(log);
	check_survived(&b, 0);
	teardown();

	start_catalogue_daemon(&b, "\"socket_mode\": \"0660\", \"socket_group\": 65534,"
			       " \"access\": {\"readers\": {\"groups\": [65534]}},");
	chmod(H.dir, 0755);
	ck_assert_int_eq(call_as_nobody("ping", NULL), 0);
	ck_assert_int_eq(call_as_nobody("status", "{\"name\":\"p\"}"), 0);
	ck_assert_int_eq(call_as_nobody("stop", "{\"name\":\"p\"}"), -32003);
	ck_assert_int_eq(call_as_nobody("add", "{\"name\":\"x\",\"spec\":{\"cmd\":[\"true\"]}}"),
			 -32003);
	check_survived(&b, 0);
	teardown();

	start_catalogue_daemon(&b, "\"socket_mode\": \"0660\", \"socket_group\": 65534,"
			       " \"access\": {\"users\": [65534]},");
	chmod(H.dir, 0755);
	ck_assert_int_eq(call_as_nobody("stop", "{\"name\":\"nosuch\"}"), -32001);
	teardown();
	brmh_socket_subdir = NULL;
}
END_TEST

START_TEST(socket_and_its_directory_are_private_by_default)
{
	struct stat st;
	char sock[420], dir[400];
	pid_t pid;
	int status;

	ck_assert_int_eq(brmh_start(&H, NULL, NULL), 0);
	ck_assert_int_eq(stat(H.sock, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	/* A second daemon whose socket directory does not exist yet. */
	snprintf(dir, sizeof(dir), "%s/sub", H.dir);
	snprintf(sock, sizeof(sock), "%s/brummd.sock", dir);
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 1);
		dup2(null, 2);
		/* a state of its own, never the system's /var/lib/brummd */
		snprintf(dir, sizeof(dir), "%s/state2", H.dir);
		setenv("BRUMMD_STATE_DIR", dir, 1);
		execl(brmh_bin("brummd"), "brummd", "--socket", sock, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 500 && stat(sock, &st) < 0; i++)
		brmh_sleep_ms(10);
	ck_assert_int_eq(stat(sock, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(stat(dir, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0700);
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	teardown();
}
END_TEST

Suite *brm_test_suite(void)
{
	const TTest *const tests[] = {
		hostile_inputs_are_answered_and_survived,
		ten_thousand_pipelined_requests_in_one_write,
		abrupt_closes_and_half_closes,
		a_thousand_simultaneous_connections,
		out_of_descriptors_gives_clear_errors_and_recovers,
		limits_from_the_config_are_enforced,
		a_client_that_never_reads_is_bounded,
		other_users_are_refused_and_readers_may_only_read,
		socket_and_its_directory_are_private_by_default,
		NULL,
	};

	signal(SIGPIPE, SIG_IGN);   /* hostile writes meet closed connections */
	return brm_test_one_case("faults", "catalogue", 60, tests);
}
