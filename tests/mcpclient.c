/*
 * mcpclient.c — a scripted MCP client for the suites of `brummctl mcp`
 * (tests/test_mcp.c, tests/test_mcp_res.c): the server runs as a child
 * whose stdin and stdout are pipes; requests and replies are real
 * JSON-RPC lines, and notifications/resources/updated that come between
 * are counted by URI.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/harness.h"
#include "tests/mcpclient.h"

uid_t run_as_uid;
gid_t run_as_groups[2];


/* Start `brummctl --socket SOCK mcp EXTRA...` (EXTRA NULL-terminated). */
void mcp_start(struct mcp *m, const char *sock, ...)
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

void mcp_stop(struct mcp *m)
{
	close(m->in);
	ck_assert_int_eq(brmh_wait_exit(m->pid, 10000), 0);
	close(m->out);
}

void mcp_send(struct mcp *m, const char *line)
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
cJSON *mcp_read(struct mcp *m, int ms)
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
bool note_update(struct mcp *m, cJSON *msg)
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
void mcp_updates(struct mcp *m, int ms)
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
bool mcp_wait_update(struct mcp *m, const int *counter, int than, int ms)
{
	for (int waited = 0; *counter <= than && waited < ms; waited += 100)
		mcp_updates(m, 100);
	return *counter > than;
}

/* Send a request of @method with @params (JSON text, may be NULL); its reply. */
cJSON *mcp_call(struct mcp *m, const char *method, const char *params)
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
cJSON *tool(struct mcp *m, const char *name, const char *args, bool want_error)
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
const char *text_of(const cJSON *res)
{
	const cJSON *block = cJSON_GetArrayItem(cJSON_GetObjectItem(res, "content"), 0);

	ck_assert_str_eq(brmh_str(block, "type"), "text");
	return brmh_str(block, "text");
}

/* The error code of a reply that must be an error; its message in *@msg. */
int error_of(const cJSON *r, const char **msg)
{
	const cJSON *e = cJSON_GetObjectItem(r, "error");

	ck_assert_msg(e, "expected an error: %s", cJSON_PrintUnformatted(r));
	*msg = brmh_str(e, "message");
	return (int)brmh_int(e, "code");
}

const char *state_of(const cJSON *res, int i)
{
	const cJSON *procs = cJSON_GetObjectItem(cJSON_GetObjectItem(res, "structuredContent"),
						 "processes");

	return brmh_str(cJSON_GetArrayItem(procs, i), "state");
}

/* The names tools/list gives, "a,b,c"; asserts every tool is well formed. */
const char *tool_names(struct mcp *m)
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

void expect_error(cJSON *r, int code, const char *needle)
{
	const char *msg;

	ck_assert_int_eq(error_of(r, &msg), code);
	ck_assert_msg(msg && strstr(msg, needle), "message '%s' lacks '%s'", msg, needle);
	cJSON_Delete(r);
}
