/*
 * test_mcp.c — `brummctl mcp` as an agent runs it: a child process whose
 * stdin and stdout are pipes, real JSON-RPC lines, against a real brummd
 * (tests/harness.c) supervising real children. Version negotiation, the
 * tool list with and without --allow-changes, each main tool's effect on
 * brummd, brummd's errors as isError results, bad arguments, malformed
 * and over-long lines, notifications, the logs cap, and no brummd at all.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <regex.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/e2e.h"
#include "tests/harness.h"
#include "tests/suite.h"

static struct brmh H;

struct mcp {
	pid_t pid;
	int in;               /* its stdin */
	int out;              /* its stdout */
	char buf[1 << 20];
	size_t len;
	int next_id;
	int upd_procs;        /* notifications/resources/updated seen: brummd://processes */
	int upd_logs;         /* brummd://logs/... */
};

/* Run the next mcp_start's server as this uid (0: as we are), with the
 * socket's group as a supplementary group. */
static uid_t run_as_uid;
static gid_t run_as_groups[2];

static struct mcp M;

/* Start `brummctl --socket SOCK mcp EXTRA...` (EXTRA NULL-terminated). */
static void mcp_start(struct mcp *m, const char *sock, ...)
{
	const char *argv[16] = { "brummctl", "--socket", sock, "mcp" };
	int to[2], from[2], argc = 4;
	va_list ap;
	const char *a;

	va_start(ap, sock);
	while ((a = va_arg(ap, const char *)) && argc < 15)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	ck_assert(pipe2(to, O_CLOEXEC) == 0 && pipe2(from, O_CLOEXEC) == 0);
	m->pid = fork();
	ck_assert(m->pid >= 0);
	if (m->pid == 0) {
		dup2(to[0], 0);
		dup2(from[1], 1);
		if (run_as_uid && (setgroups(2, run_as_groups) < 0 ||
				   setresgid(run_as_groups[0], run_as_groups[0], run_as_groups[0]) < 0 ||
				   setresuid(run_as_uid, run_as_uid, run_as_uid) < 0))
			_exit(126);
		execv(brmh_bin("brummctl"), (char *const *)argv);
		_exit(127);
	}
	close(to[0]);
	close(from[1]);
	m->in = to[1];
	m->out = from[0];
	m->len = 0;
	m->next_id = 1;
	m->upd_procs = m->upd_logs = 0;
}

static void mcp_stop(struct mcp *m)
{
	close(m->in);
	ck_assert_int_eq(brmh_wait_exit(m->pid, 10000), 0);
	close(m->out);
}

static void mcp_send(struct mcp *m, const char *line)
{
	size_t n = strlen(line), off = 0;

	while (off < n) {
		ssize_t w = write(m->in, line + off, n - off);

		ck_assert_msg(w > 0, "write to brummctl mcp: %s", strerror(errno));
		off += (size_t)w;
	}
	ck_assert(write(m->in, "\n", 1) == 1);
}

/* The next line on its stdout, parsed; NULL after @ms without one. */
static cJSON *mcp_read(struct mcp *m, int ms)
{
	struct timespec t0, now;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		char *nl = memchr(m->buf, '\n', m->len);
		struct pollfd p = { .fd = m->out, .events = POLLIN };
		long left;
		ssize_t n;

		if (nl) {
			cJSON *v;

			*nl = '\0';
			v = cJSON_Parse(m->buf);
			ck_assert_msg(v, "brummctl mcp wrote a line that is not JSON: %.200s", m->buf);
			m->len -= (size_t)(nl + 1 - m->buf);
			memmove(m->buf, nl + 1, m->len);
			return v;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		left = ms - ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return NULL;
		ck_assert(m->len < sizeof(m->buf) - 1);
		n = read(m->out, m->buf + m->len, sizeof(m->buf) - 1 - m->len);
		if (n <= 0)
			return NULL;
		m->len += (size_t)n;
	}
}

/* Count (and delete) @msg when it is a notifications/resources/updated. */
static bool note_update(struct mcp *m, cJSON *msg)
{
	const char *uri;

	if (cJSON_GetObjectItem(msg, "id") || !cJSON_IsString(cJSON_GetObjectItem(msg, "method")) ||
	    strcmp(brmh_str(msg, "method"), "notifications/resources/updated") != 0)
		return false;
	uri = brmh_str(cJSON_GetObjectItem(msg, "params"), "uri");
	ck_assert_ptr_nonnull(uri);
	if (strcmp(uri, "brummd://processes") == 0)
		m->upd_procs++;
	else if (strncmp(uri, "brummd://logs/", 14) == 0)
		m->upd_logs++;
	else
		ck_abort_msg("an update of '%s', which was not subscribed to", uri);
	cJSON_Delete(msg);
	return true;
}

/* Read notifications for @ms; any other message fails. */
static void mcp_updates(struct mcp *m, int ms)
{
	struct timespec t0, now;
	cJSON *r;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		long left;

		clock_gettime(CLOCK_MONOTONIC, &now);
		left = ms - ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0 || !(r = mcp_read(m, (int)left)))
			return;
		ck_assert_msg(note_update(m, r), "unexpected: %s", cJSON_PrintUnformatted(r));
	}
}

/* Wait up to @ms until *@counter exceeds @than. */
static bool mcp_wait_update(struct mcp *m, const int *counter, int than, int ms)
{
	for (int waited = 0; *counter <= than && waited < ms; waited += 100)
		mcp_updates(m, 100);
	return *counter > than;
}

/* Send a request of @method with @params (JSON text, may be NULL); its reply. */
static cJSON *mcp_call(struct mcp *m, const char *method, const char *params)
{
	int id = m->next_id++;
	cJSON *r, *rid;

	mcp_send(m, brmh_fmt("{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"%s\"%s%s}", id, method,
			     params ? ",\"params\":" : "", params ? params : ""));
	while ((r = mcp_read(m, 60000)) && note_update(m, r))
		;
	ck_assert_msg(r, "no reply to %s", method);
	rid = cJSON_GetObjectItem(r, "id");
	ck_assert_msg(cJSON_IsNumber(rid) && rid->valueint == id, "reply to %s has another id",
		      method);
	return r;
}

/* tools/call of @tool with @args (JSON text): the result, asserted present. */
static cJSON *tool(struct mcp *m, const char *name, const char *args, bool want_error)
{
	cJSON *r = mcp_call(m, "tools/call", brmh_fmt("{\"name\":\"%s\",\"arguments\":%s}", name,
						      args));
	cJSON *res = cJSON_DetachItemFromObject(r, "result");
	char *text = cJSON_PrintUnformatted(r);

	ck_assert_msg(res, "tools/call %s: no result: %s", name, text);
	free(text);
	cJSON_Delete(r);
	ck_assert_msg(cJSON_IsTrue(cJSON_GetObjectItem(res, "isError")) == want_error,
		      "tools/call %s %s: isError is not %d: %s", name, args, want_error,
		      cJSON_PrintUnformatted(res));
	return res;
}

/* The text of a CallToolResult's first content block. */
static const char *text_of(const cJSON *res)
{
	const cJSON *block = cJSON_GetArrayItem(cJSON_GetObjectItem(res, "content"), 0);

	ck_assert_str_eq(brmh_str(block, "type"), "text");
	return brmh_str(block, "text");
}

/* The error code of a reply that must be an error; its message in *@msg. */
static int error_of(const cJSON *r, const char **msg)
{
	const cJSON *e = cJSON_GetObjectItem(r, "error");

	ck_assert_msg(e, "expected an error: %s", cJSON_PrintUnformatted(r));
	*msg = brmh_str(e, "message");
	return (int)brmh_int(e, "code");
}

static const char *state_of(const cJSON *res, int i)
{
	const cJSON *procs = cJSON_GetObjectItem(cJSON_GetObjectItem(res, "structuredContent"),
						 "processes");

	return brmh_str(cJSON_GetArrayItem(procs, i), "state");
}

static void start_brummd(void)
{
	brmh_check_start(&H,
		"{\"processes\":{"
		"\"web\":{\"cmd\":[\"%s\",\"print\",\"out\",\"hello from web\",\"serving "
		"http://127.0.0.1:8123/\"],\"start_secs\":0,\"error_patterns\":[\"^Error: \"]},"
		"\"worker\":{\"cmd\":[\"%s\",\"print\",\"err\",\"Error: boom in worker\","
		"\"  at step 3\"],\"start_secs\":0,\"error_patterns\":[\"^Error: \"]},"
		"\"job\":{\"cmd\":[\"%s\",\"sleep\",\"60\"],\"start_secs\":0,\"autostart\":false}}}",
		brmh_child(), brmh_child(), brmh_child());
	ck_assert(brmh_wait_state(&H, "web", "running", 10000));
	ck_assert(brmh_wait_state(&H, "worker", "running", 10000));
}

static const char *initialize(struct mcp *m, const char *version)
{
	static char got[64];
	cJSON *r = mcp_call(m, "initialize", brmh_fmt("{\"protocolVersion\":\"%s\","
		"\"capabilities\":{},\"clientInfo\":{\"name\":\"test\",\"version\":\"1\"}}", version));
	const cJSON *res = cJSON_GetObjectItem(r, "result");

	ck_assert_msg(res, "initialize failed");
	ck_assert(cJSON_IsObject(cJSON_GetObjectItem(cJSON_GetObjectItem(res, "capabilities"),
						     "tools")));
	ck_assert_str_eq(brmh_str(cJSON_GetObjectItem(res, "serverInfo"), "name"), "brummctl");
	snprintf(got, sizeof(got), "%s", brmh_str(res, "protocolVersion"));
	cJSON_Delete(r);
	return got;
}

START_TEST(initialize_negotiates_the_version)
{
	mcp_start(&M, "/nonexistent/brummd.sock", NULL);
	/* One we speak: that one. */
	ck_assert_str_eq(initialize(&M, "2025-06-18"), "2025-06-18");
	ck_assert_str_eq(initialize(&M, "2024-11-05"), "2024-11-05");
	/* One we do not: our newest. */
	ck_assert_str_eq(initialize(&M, "2099-01-01"), "2025-11-25");
	ck_assert_str_eq(initialize(&M, "2025-11-25"), "2025-11-25");
	mcp_stop(&M);
}
END_TEST

/* The names tools/list gives, "a,b,c"; asserts every tool is well formed. */
static const char *tool_names(struct mcp *m)
{
	static char names[512];
	cJSON *r = mcp_call(m, "tools/list", NULL);
	const cJSON *t;
	regex_t re;

	ck_assert(regcomp(&re, "^[a-zA-Z0-9_-]+$", REG_EXTENDED | REG_NOSUB) == 0);
	names[0] = '\0';
	cJSON_ArrayForEach(t, cJSON_GetObjectItem(cJSON_GetObjectItem(r, "result"), "tools")) {
		const cJSON *in = cJSON_GetObjectItem(t, "inputSchema");
		const cJSON *out = cJSON_GetObjectItem(t, "outputSchema");

		ck_assert_msg(regexec(&re, brmh_str(t, "name"), 0, NULL, 0) == 0,
			      "bad tool name '%s'", brmh_str(t, "name"));
		ck_assert(brmh_str(t, "description") && strlen(brmh_str(t, "description")) > 10);
		ck_assert_str_eq(brmh_str(in, "type"), "object");
		ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(in, "additionalProperties")));
		ck_assert(cJSON_IsObject(cJSON_GetObjectItem(in, "properties")));
		ck_assert_str_eq(brmh_str(out, "type"), "object");
		strcat(names, names[0] ? "," : "");
		strcat(names, brmh_str(t, "name"));
	}
	regfree(&re);
	cJSON_Delete(r);
	return names;
}

START_TEST(tools_list_hides_changes_unless_allowed)
{
	mcp_start(&M, "/nonexistent/brummd.sock", NULL);
	ck_assert_str_eq(tool_names(&M),
			 "list_processes,status,start,stop,restart,logs,errors,urls,wait");
	mcp_stop(&M);
	mcp_start(&M, "/nonexistent/brummd.sock", "--allow-changes", NULL);
	ck_assert_str_eq(tool_names(&M), "list_processes,status,start,stop,restart,logs,"
			 "errors,urls,wait,add,remove");
	mcp_stop(&M);
}
END_TEST

START_TEST(tools_control_real_processes)
{
	cJSON *res, *st;
	const cJSON *lines;

	start_brummd();
	mcp_start(&M, H.sock, NULL);
	initialize(&M, "2025-11-25");
	mcp_send(&M, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");

	res = tool(&M, "list_processes", "{}", false);
	ck_assert_msg(strstr(text_of(res), "NAME") && strstr(text_of(res), "job") &&
		      strstr(text_of(res), "stopped"), "table: %s", text_of(res));
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(
		cJSON_GetObjectItem(res, "structuredContent"), "processes")), 3);
	cJSON_Delete(res);

	/* start waits until running, and brummd agrees. */
	res = tool(&M, "start", "{\"names\":[\"job\"]}", false);
	ck_assert_str_eq(state_of(res, 0), "running");
	cJSON_Delete(res);
	st = brmh_status(&H, "job");
	ck_assert_str_eq(brmh_str(st, "state"), "running");
	cJSON_Delete(st);

	/* stop waits until it is down. */
	res = tool(&M, "stop", "{\"names\":[\"job\"]}", false);
	ck_assert_str_eq(state_of(res, 0), "stopped");
	ck_assert_msg(strstr(text_of(res), "stopped:"), "%s", text_of(res));
	cJSON_Delete(res);
	st = brmh_status(&H, "job");
	ck_assert_str_eq(brmh_str(st, "state"), "stopped");
	cJSON_Delete(st);

	/* status: the table and the details. */
	res = tool(&M, "status", "{\"names\":[\"web\"]}", false);
	ck_assert_str_eq(state_of(res, 0), "running");
	ck_assert_msg(strstr(text_of(res), "cmd: "), "%s", text_of(res));
	cJSON_Delete(res);

	/* logs of web, filtered. */
	free(brmh_wait_log(&H, "web", "hello from web", 10000));
	res = tool(&M, "logs", "{\"names\":[\"web\"],\"grep\":\"hello\"}", false);
	ck_assert_msg(strstr(text_of(res), "web | hello from web"), "%s", text_of(res));
	lines = cJSON_GetObjectItem(cJSON_GetObjectItem(res, "structuredContent"), "lines");
	ck_assert_int_eq(cJSON_GetArraySize(lines), 1);
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(cJSON_GetObjectItem(res, "structuredContent"),
						    "truncated")));
	cJSON_Delete(res);

	/* errors: worker's block, with the line after it. */
	free(brmh_wait_log(&H, "worker", "at step 3", 10000));
	res = tool(&M, "errors", "{}", false);
	ck_assert_msg(strstr(text_of(res), "Error: boom in worker") &&
		      strstr(text_of(res), "at step 3"), "%s", text_of(res));
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(
		cJSON_GetObjectItem(res, "structuredContent"), "errors")), 1);
	cJSON_Delete(res);

	/* urls. */
	free(brmh_wait_log(&H, "web", "http://127.0.0.1:8123/", 10000));
	res = tool(&M, "urls", "{}", false);
	ck_assert_msg(strstr(text_of(res), "http://127.0.0.1:8123/"), "%s", text_of(res));
	cJSON_Delete(res);

	/* wait, bounded. */
	res = tool(&M, "wait", "{\"names\":[\"web\"],\"state\":\"running\",\"timeout_secs\":5}",
		   false);
	ck_assert_str_eq(state_of(res, 0), "running");
	cJSON_Delete(res);

	/* brummd's errors are results with isError and its message. */
	res = tool(&M, "status", "{\"names\":[\"nope\"]}", true);
	ck_assert_msg(strstr(text_of(res), "no such process 'nope'"), "%s", text_of(res));
	cJSON_Delete(res);
	res = tool(&M, "stop", "{\"names\":[\"nope*\"]}", true);
	ck_assert_msg(strstr(text_of(res), "nope*"), "%s", text_of(res));
	cJSON_Delete(res);

	mcp_stop(&M);
	brmh_check_stop(&H);
}
END_TEST

START_TEST(add_and_remove_with_allow_changes)
{
	cJSON *res, *st;

	start_brummd();
	mcp_start(&M, H.sock, NULL);
	{
		/* Without --allow-changes, add is no tool at all. */
		cJSON *r = mcp_call(&M, "tools/call", "{\"name\":\"add\",\"arguments\":{}}");
		const char *msg;

		ck_assert_int_eq(error_of(r, &msg), -32602);
		ck_assert_msg(strstr(msg, "unknown tool 'add'"), "%s", msg);
		cJSON_Delete(r);
	}
	mcp_stop(&M);
	mcp_start(&M, H.sock, "--allow-changes", NULL);
	res = tool(&M, "add", brmh_fmt("{\"name\":\"extra\",\"cmd\":[\"%s\",\"sleep\",\"60\"]}",
				       brmh_child()), false);
	ck_assert_str_eq(brmh_str(cJSON_GetObjectItem(res, "structuredContent"), "name"), "extra");
	cJSON_Delete(res);
	ck_assert(brmh_wait_state(&H, "extra", "running", 10000));
	res = tool(&M, "add", brmh_fmt("{\"name\":\"extra\",\"cmd\":[\"%s\"]}", brmh_child()),
		   true);
	cJSON_Delete(res);
	res = tool(&M, "remove", "{\"name\":\"extra\"}", false);
	cJSON_Delete(res);
	st = brmh_status(&H, "extra");
	ck_assert_msg(!st || !cJSON_GetObjectItem(st, "state"), "extra still there");
	cJSON_Delete(st);
	mcp_stop(&M);
	brmh_check_stop(&H);
}
END_TEST

/* A reply that is an error @code whose message holds @needle. */
static void expect_error(cJSON *r, int code, const char *needle)
{
	const char *msg;

	ck_assert_int_eq(error_of(r, &msg), code);
	ck_assert_msg(msg && strstr(msg, needle), "message '%s' lacks '%s'", msg, needle);
	cJSON_Delete(r);
}

START_TEST(bad_calls_are_protocol_errors)
{
	mcp_start(&M, "/nonexistent/brummd.sock", NULL);
	expect_error(mcp_call(&M, "tools/call", "{\"name\":\"frobnicate\",\"arguments\":{}}"),
		     -32602, "unknown tool 'frobnicate'");
	expect_error(mcp_call(&M, "tools/call", "{\"name\":\"logs\",\"arguments\":"
			      "{\"names\":\"web\"}}"), -32602, "arguments.names: not an array");
	expect_error(mcp_call(&M, "tools/call", "{\"name\":\"logs\",\"arguments\":"
			      "{\"lines\":0}}"), -32602, "arguments.lines");
	expect_error(mcp_call(&M, "tools/call", "{\"name\":\"logs\",\"arguments\":"
			      "{\"colour\":true}}"), -32602, "arguments.colour: unknown argument");
	expect_error(mcp_call(&M, "tools/call", "{\"name\":\"status\",\"arguments\":{}}"),
		     -32602, "arguments.names: missing");
	expect_error(mcp_call(&M, "tools/call", "{\"name\":\"wait\",\"arguments\":"
			      "{\"all\":true,\"state\":\"running\",\"timeout_secs\":3600}}"),
		     -32602, "arguments.timeout_secs");
	expect_error(mcp_call(&M, "tools/call", "{\"name\":\"start\",\"arguments\":{}}"),
		     -32602, "missing names");
	expect_error(mcp_call(&M, "prompts/list", NULL), -32601, "prompts/list");
	mcp_stop(&M);
}
END_TEST

START_TEST(bad_lines_and_notifications)
{
	size_t big = (1u << 20) + 100;
	char *line = malloc(big + 1);
	cJSON *r;

	mcp_start(&M, "/nonexistent/brummd.sock", NULL);
	/* Not JSON: -32700 with id null, and the server goes on. */
	mcp_send(&M, "{\"jsonrpc\":\"2.0\",\"id\":");
	r = mcp_read(&M, 10000);
	ck_assert(r && cJSON_IsNull(cJSON_GetObjectItem(r, "id")));
	expect_error(r, -32700, "parse error");

	/* A notification, known or not, gets no reply: the next line out is
	 * the ping's. */
	mcp_send(&M, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
	mcp_send(&M, "{\"jsonrpc\":\"2.0\",\"method\":\"tools/call\",\"params\":{\"name\":\"x\"}}");
	r = mcp_call(&M, "ping", NULL);
	ck_assert(cJSON_IsObject(cJSON_GetObjectItem(r, "result")));
	cJSON_Delete(r);

	/* A line over 1 MiB: one error, and the server goes on. */
	memset(line, 'x', big);
	line[0] = '"';
	line[big - 1] = '"';
	line[big] = '\0';
	mcp_send(&M, line);
	free(line);
	r = mcp_read(&M, 10000);
	ck_assert(r);
	expect_error(r, -32600, "longer than 1048576 bytes");
	r = mcp_call(&M, "ping", NULL);
	ck_assert(cJSON_IsObject(cJSON_GetObjectItem(r, "result")));
	cJSON_Delete(r);
	mcp_stop(&M);
}
END_TEST

START_TEST(no_brummd_gives_error_results)
{
	cJSON *res;

	mcp_start(&M, "/nonexistent/brummd.sock", NULL);
	initialize(&M, "2025-06-18");
	res = tool(&M, "list_processes", "{}", true);
	ck_assert_msg(strstr(text_of(res), "brummd is not running") &&
		      strstr(text_of(res), "--start"), "%s", text_of(res));
	cJSON_Delete(res);
	mcp_stop(&M);
}
END_TEST

START_TEST(logs_are_capped)
{
	cJSON *res;
	const cJSON *sc;

	char long_line[6001];
	const cJSON *l;

	/* 200 KiB of 64-byte lines: 1000 lines print as ~100 KiB. And one
	 * line of 6000 bytes, over the 4096 a line keeps. */
	memset(long_line, 'y', 6000);
	long_line[6000] = '\0';
	brmh_check_start(&H, "{\"processes\":{\"flood\":{\"cmd\":[\"%s\",\"flood\",\"204800\"],"
			 "\"restart\":\"never\",\"start_secs\":0},"
			 "\"long\":{\"cmd\":[\"%s\",\"print\",\"out\",\"%s\"],\"start_secs\":0}}}",
			 brmh_child(), brmh_child(), long_line);
	ck_assert(brmh_wait_state(&H, "flood", "exited", 10000));
	free(brmh_wait_log(&H, "long", "yyyy", 10000));
	mcp_start(&M, H.sock, NULL);
	res = tool(&M, "logs", "{\"names\":[\"long\"],\"stream\":\"stdout\"}", false);
	l = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(res, "structuredContent"),
						   "lines"), 0);
	ck_assert_msg(strstr(text_of(res), "yyyy [... 1904 more bytes]"), "%.200s",
		      text_of(res));
	ck_assert_uint_eq(strlen(brmh_str(l, "line")), 4096 + strlen(" [... 1904 more bytes]"));
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(l, "mcp_cut")));
	cJSON_Delete(res);
	res = tool(&M, "logs", "{\"names\":[\"flood\"],\"lines\":1000}", false);
	sc = cJSON_GetObjectItem(res, "structuredContent");
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(sc, "truncated")));
	ck_assert_msg(strlen(text_of(res)) <= (64u << 10) + 256, "text of %zu bytes",
		      strlen(text_of(res)));
	ck_assert_msg(strstr(text_of(res), "left out"), "%.200s", text_of(res));
	ck_assert_int_lt(cJSON_GetArraySize(cJSON_GetObjectItem(sc, "lines")), 1000);
	ck_assert_int_gt(cJSON_GetArraySize(cJSON_GetObjectItem(sc, "lines")), 100);
	cJSON_Delete(res);
	mcp_stop(&M);
	brmh_check_stop(&H);
}
END_TEST

START_TEST(start_option_starts_brummd)
{
	char dir[256], *sock;
	cJSON *res, *ping;
	static struct brmh h;
	long pid;
	int code;

	ck_assert(brmh_tmpdir(dir, sizeof(dir), "brmmcp"));
	sock = brmh_fmt("%s/run/brummd.sock", dir);
	setenv("BRUMMD_STATE_DIR", dir, 1);
	mcp_start(&M, sock, "--start", NULL);
	res = tool(&M, "list_processes", "{}", false);
	ck_assert_msg(strstr(text_of(res), "(no processes)"), "%s", text_of(res));
	cJSON_Delete(res);
	mcp_stop(&M);

	/* It runs on after the session; end it by its pid. */
	memset(&h, 0, sizeof(h));
	h.fd = -1;
	snprintf(h.sock, sizeof(h.sock), "%s", sock);
	ping = brmh_call(&h, "ping", NULL);
	ck_assert(ping);
	pid = brmh_int(brmh_result(ping, &code), "pid");
	cJSON_Delete(ping);
	if (h.fd >= 0)
		close(h.fd);
	ck_assert_int_gt(pid, 1);
	ck_assert(kill((pid_t)pid, SIGTERM) == 0);
	ck_assert(brmh_wait_pid_gone((pid_t)pid, 15000));
}
END_TEST

/* ---- resources, subscriptions, readers (issue 17) ------------------------------ */

/* python3 on $PATH, as an absolute path, or NULL. */
static const char *python3(void)
{
	static char path[4096];
	const char *env = getenv("PATH");
	char *dirs, *save = NULL;

	if (!env)
		return NULL;
	dirs = strdup(env);
	for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		snprintf(path, sizeof(path), "%s/python3", d);
		if (*d == '/' && access(path, X_OK) == 0) {
			free(dirs);
			return path;
		}
	}
	free(dirs);
	return NULL;
}

/* A TCP port on 127.0.0.1 that nothing listens on just now. */
static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

/* GET / from 127.0.0.1:@port: true when the server answered. */
static bool http_get(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	const char *req = "GET / HTTP/1.0\r\n\r\n";
	char buf[256];
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	bool ok;

	ck_assert_int_ge(fd, 0);
	ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	     write(fd, req, strlen(req)) == (ssize_t)strlen(req) && poll(&p, 1, 10000) == 1 &&
	     read(fd, buf, sizeof(buf)) > 0;
	close(fd);
	return ok;
}

/* The first content's text of a resources/read of @uri (asserted a result). */
static char *read_resource(struct mcp *m, const char *uri, const char *mime)
{
	cJSON *r = mcp_call(m, "resources/read", brmh_fmt("{\"uri\":\"%s\"}", uri));
	const cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "result"),
								 "contents"), 0);
	char *text;

	ck_assert_msg(c, "resources/read %s: %s", uri, cJSON_PrintUnformatted(r));
	ck_assert_str_eq(brmh_str(c, "uri"), uri);
	ck_assert_str_eq(brmh_str(c, "mimeType"), mime);
	text = strdup(brmh_str(c, "text"));
	cJSON_Delete(r);
	return text;
}

static void expect_code(cJSON *r, int code, const char *needle)
{
	const char *msg;

	ck_assert_int_eq(error_of(r, &msg), code);
	ck_assert_msg(strstr(msg, needle), "'%s' not in '%s'", needle, msg);
	cJSON_Delete(r);
}

START_TEST(an_agent_runs_a_dev_server_and_follows_it)
{
	const char *py = python3();
	int port = free_port(), seen;
	char url[64], *text;
	cJSON *r, *res;
	const cJSON *caps;
	bool found = false;

	if (!py) {
		printf("SKIP: mcp: a real dev server (python3 not on PATH)\n");
		return;
	}
	brmh_check_start(&H, "{\"processes\":{}}");
	mcp_start(&M, H.sock, "--allow-changes", NULL);

	/* initialize advertises subscribable resources. */
	r = mcp_call(&M, "initialize", "{\"protocolVersion\":\"2025-11-25\",\"capabilities\":{},"
		     "\"clientInfo\":{\"name\":\"test\",\"version\":\"1\"}}");
	caps = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "result"),
						       "capabilities"), "resources");
	ck_assert_msg(cJSON_IsTrue(cJSON_GetObjectItem(caps, "subscribe")), "%s",
		      cJSON_PrintUnformatted(r));
	cJSON_Delete(r);
	mcp_send(&M, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
	ck_assert_str_eq(tool_names(&M), "list_processes,status,start,stop,restart,logs,"
			 "errors,urls,wait,add,remove");

	/* The resources and the template. */
	r = mcp_call(&M, "resources/list", NULL);
	ck_assert_str_eq(brmh_str(cJSON_GetArrayItem(cJSON_GetObjectItem(
		cJSON_GetObjectItem(r, "result"), "resources"), 0), "uri"), "brummd://processes");
	cJSON_Delete(r);
	r = mcp_call(&M, "resources/templates/list", NULL);
	ck_assert_str_eq(brmh_str(cJSON_GetArrayItem(cJSON_GetObjectItem(
		cJSON_GetObjectItem(r, "result"), "resourceTemplates"), 0), "uriTemplate"),
		"brummd://logs/{name}");
	cJSON_Delete(r);

	r = mcp_call(&M, "resources/subscribe", "{\"uri\":\"brummd://processes\"}");
	ck_assert_msg(cJSON_IsObject(cJSON_GetObjectItem(r, "result")), "%s",
		      cJSON_PrintUnformatted(r));
	cJSON_Delete(r);

	/* The agent adds a real dev server; its URL shows up in urls. */
	res = tool(&M, "add", brmh_fmt("{\"name\":\"site\",\"cmd\":[\"%s\",\"-m\",\"http.server\","
				       "\"%d\",\"--bind\",\"127.0.0.1\"],\"cwd\":\"%s\","
				       "\"env\":{\"PYTHONUNBUFFERED\":\"1\"}}", py, port, H.dir),
		   false);
	cJSON_Delete(res);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", port);
	for (int waited = 0; !found && waited < 30000; waited += 200) {
		res = tool(&M, "urls", "{}", false);
		found = strstr(text_of(res), url) != NULL;
		cJSON_Delete(res);
		if (!found)
			mcp_updates(&M, 200);
	}
	ck_assert_msg(found, "urls never showed %s", url);
	ck_assert(mcp_wait_update(&M, &M.upd_procs, 0, 10000));

	cJSON_Delete(tool(&M, "wait", "{\"names\":[\"site\"],\"state\":\"running\"}", false));
	/* Reading the resources: the status as JSON, the server's own lines. */
	text = read_resource(&M, "brummd://processes", "application/json");
	ck_assert_msg(strstr(text, "\"name\":\"site\"") && strstr(text, "\"state\":\"running\""),
		      "%.300s", text);
	free(text);
	text = read_resource(&M, "brummd://logs/site", "text/plain");
	ck_assert_msg(strstr(text, "Serving HTTP"), "%.300s", text);
	free(text);
	expect_code(mcp_call(&M, "resources/read", "{\"uri\":\"brummd://nope\"}"), -32002,
		    "resource not found");
	expect_code(mcp_call(&M, "resources/read", "{\"uri\":\"brummd://logs/ghost\"}"), -32002,
		    "ghost");
	expect_code(mcp_call(&M, "resources/subscribe", "{\"uri\":\"file:///etc/passwd\"}"),
		    -32002, "resource not found");

	/* A request the server logs is a new line of site's. */
	r = mcp_call(&M, "resources/subscribe", "{\"uri\":\"brummd://logs/site\"}");
	ck_assert(cJSON_IsObject(cJSON_GetObjectItem(r, "result")));
	cJSON_Delete(r);
	mcp_updates(&M, 1000);
	seen = M.upd_logs;
	ck_assert(http_get(port));
	ck_assert_msg(mcp_wait_update(&M, &M.upd_logs, seen, 10000),
		      "no update of brummd://logs/site after a request");

	/* Quiet, then a stop is an update of brummd://processes. */
	mcp_updates(&M, 1000);
	seen = M.upd_procs;
	res = tool(&M, "stop", "{\"names\":[\"site\"]}", false);
	ck_assert_str_eq(state_of(res, 0), "stopped");
	cJSON_Delete(res);
	ck_assert_msg(mcp_wait_update(&M, &M.upd_procs, seen, 10000),
		      "no update of brummd://processes after a stop");

	/* Unsubscribed: a start is not notified any more. */
	r = mcp_call(&M, "resources/unsubscribe", "{\"uri\":\"brummd://processes\"}");
	ck_assert(cJSON_IsObject(cJSON_GetObjectItem(r, "result")));
	cJSON_Delete(r);
	r = mcp_call(&M, "resources/unsubscribe", "{\"uri\":\"brummd://logs/site\"}");
	cJSON_Delete(r);
	mcp_updates(&M, 500);
	seen = M.upd_procs;
	res = tool(&M, "start", "{\"names\":[\"site\"]}", false);
	cJSON_Delete(res);
	mcp_updates(&M, 1000);
	ck_assert_int_eq(M.upd_procs, seen);
	res = tool(&M, "remove", "{\"name\":\"site\"}", false);
	cJSON_Delete(res);
	mcp_stop(&M);
	brmh_check_stop(&H);
}
END_TEST

START_TEST(updates_of_a_chatty_log_are_rate_limited)
{
	struct timespec t0, t1;
	double secs;
	cJSON *r;

	brmh_check_start(&H, "{\"processes\":{\"chatty\":{\"cmd\":[\"sh\",\"-c\",\"while :; do "
			 "echo tick; sleep 0.01; done\"],\"start_secs\":0}}}");
	ck_assert(brmh_wait_state(&H, "chatty", "running", 10000));
	mcp_start(&M, H.sock, NULL);
	r = mcp_call(&M, "resources/subscribe", "{\"uri\":\"brummd://logs/chatty\"}");
	ck_assert(cJSON_IsObject(cJSON_GetObjectItem(r, "result")));
	cJSON_Delete(r);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	mcp_updates(&M, 2000);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	/* ~100 lines a second; at most one update per 250 ms. */
	ck_assert_msg(M.upd_logs >= 2, "only %d updates in %.2f s", M.upd_logs, secs);
	ck_assert_msg(M.upd_logs <= (int)(secs / 0.25) + 2, "%d updates in %.2f s: over 4 a second",
		      M.upd_logs, secs);
	mcp_stop(&M);
	brmh_check_stop(&H);
}
END_TEST

#define NOBODY 65534
#define MCP_SOCK_GID 64030

START_TEST(a_reader_gets_only_the_read_only_tools)
{
	cJSON *res, *r;

	if (geteuid() != 0) {
		printf("SKIP: mcp: a reader's tools (needs root to run brummctl as nobody)\n");
		return;
	}
	/* As test_method_access does: the socket's group for the reader,
	 * brummd makes the socket's directory the group's. */
	brmh_socket_subdir = "run";
	brmh_check_start(&H,
		"{\"socket_mode\":\"0660\",\"socket_group\":%d,"
		" \"access\":{\"readers\":{\"users\":[%d]}},"
		" \"processes\":{\"p\":{\"cmd\":[\"%s\",\"sleep\",\"60\"],\"start_secs\":0}}}",
		MCP_SOCK_GID, NOBODY, brmh_child());
	ck_assert_int_eq(chmod(H.dir, 0755), 0);
	ck_assert(brmh_wait_state(&H, "p", "running", 10000));
	/* ping tells the caller's role: root is an operator. */
	r = brmh_call(&H, "ping", NULL);
	ck_assert_str_eq(brmh_str(cJSON_GetObjectItem(r, "result"), "role"), "operator");
	cJSON_Delete(r);

	run_as_uid = NOBODY;
	run_as_groups[0] = NOBODY;
	run_as_groups[1] = MCP_SOCK_GID;
	mcp_start(&M, H.sock, "--allow-changes", NULL);
	run_as_uid = 0;
	ck_assert_str_eq(tool_names(&M), "list_processes,status,logs,errors,urls,wait");
	res = tool(&M, "list_processes", "{}", false);
	ck_assert_msg(strstr(text_of(res), "running"), "%s", text_of(res));
	cJSON_Delete(res);
	res = tool(&M, "stop", "{\"names\":[\"p\"]}", true);
	ck_assert_msg(strstr(text_of(res), "not permitted") && strstr(text_of(res), "access.readers"),
		      "%s", text_of(res));
	cJSON_Delete(res);
	mcp_stop(&M);
	ck_assert(brmh_wait_state(&H, "p", "running", 1000));
	brmh_check_stop(&H);
	brmh_socket_subdir = NULL;
}
END_TEST

Suite *brm_test_suite(void)
{
	const TTest *const tests[] = {
		initialize_negotiates_the_version,
		tools_list_hides_changes_unless_allowed,
		tools_control_real_processes,
		add_and_remove_with_allow_changes,
		bad_calls_are_protocol_errors,
		bad_lines_and_notifications,
		no_brummd_gives_error_results,
		logs_are_capped,
		start_option_starts_brummd,
		an_agent_runs_a_dev_server_and_follows_it,
		updates_of_a_chatty_log_are_rate_limited,
		a_reader_gets_only_the_read_only_tools,
		NULL,
	};

	signal(SIGPIPE, SIG_IGN);
	return brm_test_one_case("mcp", "mcp", 120, tests);
}
