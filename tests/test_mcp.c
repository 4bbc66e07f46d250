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
#include <poll.h>
#include <regex.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/e2e.h"
#include "tests/harness.h"
#include "tests/mcpclient.h"
#include "tests/suite.h"

static struct brmh H;

static struct mcp M;

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
		NULL,
	};

	signal(SIGPIPE, SIG_IGN);
	return brm_test_one_case("mcp", "mcp", 120, tests);
}
