/*
 * mcpclient.h — a scripted MCP client over pipes for the suites of
 * `brummctl mcp` (tests/mcpclient.c).
 */
#ifndef BRM_TESTS_MCPCLIENT_H
#define BRM_TESTS_MCPCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

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

/* Run the next mcp_start's server as this uid (0: as we are), with
 * run_as_groups as its groups (the first also its gid). */
extern uid_t run_as_uid;
extern gid_t run_as_groups[2];

/* Start `brummctl --socket SOCK mcp EXTRA...` (EXTRA NULL-terminated). */
void mcp_start(struct mcp *m, const char *sock, ...);
/* Close its stdin; it must exit 0. */
void mcp_stop(struct mcp *m);
/* Write @line and a newline to its stdin. */
void mcp_send(struct mcp *m, const char *line);
/* The next line on its stdout, parsed; NULL after @ms without one. */
cJSON *mcp_read(struct mcp *m, int ms);
/* Count (and delete) @msg when it is a notifications/resources/updated. */
bool note_update(struct mcp *m, cJSON *msg);
/* Read notifications for @ms; any other message fails. */
void mcp_updates(struct mcp *m, int ms);
/* Wait up to @ms until *@counter exceeds @than. */
bool mcp_wait_update(struct mcp *m, const int *counter, int than, int ms);
/* Send a request of @method with @params (JSON text, may be NULL); its
 * reply, the notifications before it counted. */
cJSON *mcp_call(struct mcp *m, const char *method, const char *params);
/* tools/call of @name with @args (JSON text): the result, asserted present
 * and with isError @want_error. */
cJSON *tool(struct mcp *m, const char *name, const char *args, bool want_error);
/* The text of a CallToolResult's first content block. */
const char *text_of(const cJSON *res);
/* The error code of a reply that must be an error; its message in *@msg. */
int error_of(const cJSON *r, const char **msg);
/* The state of the @i-th process of a result's structuredContent. */
const char *state_of(const cJSON *res, int i);
/* The names tools/list gives, "a,b,c"; asserts every tool is well formed. */
const char *tool_names(struct mcp *m);
/* @r is an error reply with @code and @needle in its message; deletes @r. */
void expect_error(cJSON *r, int code, const char *needle);

#endif
