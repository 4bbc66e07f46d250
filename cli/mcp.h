/*
 * mcp.h — `brummctl mcp`: a Model Context Protocol server on stdin/stdout
 * for AI coding agents, shared by its two files:
 *
 *   mcp.c        the transport and the lifecycle: newline-delimited JSON-RPC
 *                2.0 on stdio, initialize and version negotiation, ping,
 *                dispatch of tools/list and tools/call, reaching brummd
 *                (and starting it with --start)
 *   mcp_tools.c  the tools: one table of names, descriptions, arguments and
 *                output shapes, and each tool's call to brummd
 *   mcp_args.c   the JSON Schemas made from that table, and the check of a
 *                call's arguments against it
 *   mcp_reply.c  calling brummd for a tool, and the results: text, tables,
 *                and the cap on their size
 *   mcp_res.c    the resources, their subscriptions (each a follow on its
 *                own connection to brummd), and the caller's role
 *
 * Everything runs on brummctl's only thread.
 */
#ifndef BRM_CLI_MCP_H
#define BRM_CLI_MCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "cli/brummctl.h"

struct cJSON;
struct brm_client;
struct brm_rpc_err;

/* The longest request line read from stdin, newline included. */
#define MCP_MAX_LINE (1u << 20)

/* logs: at most this many lines, and this many bytes of text, per result. */
#define MCP_LOGS_MAX_LINES 1000
#define MCP_LOGS_DEFAULT_LINES 100
#define MCP_RESULT_MAX_BYTES (64u << 10)
/* wait, start, stop, restart: the longest timeout a tool call may ask for. */
#define MCP_MAX_TIMEOUT_SECS 300

/* At most this many resource subscriptions at once. */
#define MCP_MAX_SUBS 32
/* The MCP error for a URI that names no resource. */
#define MCP_RES_NOT_FOUND (-32002)

struct mcp_sub;
struct pollfd;

/* The session: how to reach brummd, and what the client may do. */
struct mcp_server {
	const struct cli_opts *o;
	char *socket;             /* resolved socket path */
	bool start;               /* --start: start brummd when none answers */
	bool allow_changes;       /* --allow-changes: add and remove exist */
	struct mcp_sub *subs[MCP_MAX_SUBS];
	size_t nsubs;
};

/* mcp.c */

/* Run the server until stdin ends: CLI_EXIT_OK, or CLI_EXIT_ERROR when
 * stdout cannot be written. */
int cli_mcp_run(const struct cli_opts *o);

/*
 * A connection to brummd for one tool call, or NULL with *@why set to a
 * message for the model (that brummd is not running and how to start it).
 * With --start, starts brummd first when none answers.
 * Ownership: caller destroys the client and frees *@why.
 */
struct brm_client *mcp_connect(struct mcp_server *s, char **why);

/* Send one whole message (a notification) on stdout. Takes @msg. */
void mcp_send(struct cJSON *msg);

/* mcp_res.c */

/* Does brummd's ping say this uid is a reader (only the read-only methods)?
 * False when brummd cannot be reached. */
bool mcp_is_reader(struct mcp_server *s);
/* The results of resources/list and resources/templates/list. Ownership:
 * caller deletes them. */
struct cJSON *mcp_resources_list(void);
struct cJSON *mcp_resource_templates(void);
/*
 * resources/read, and resources/subscribe (@on) or unsubscribe, of
 * params.uri: 0 and *@result, or a JSON-RPC error code (MCP_RES_NOT_FOUND
 * for a URI that names nothing) and *@msg.
 * Ownership: caller deletes *@result and frees *@msg.
 */
int mcp_resource_read(struct mcp_server *s, const struct cJSON *params,
		      struct cJSON **result, char **msg);
int mcp_subscribe(struct mcp_server *s, const struct cJSON *params, bool on,
		  struct cJSON **result, char **msg);
/* The subscriptions' sockets for poll(): s->nsubs entries of @fds (fd -1
 * for one not connected); how long poll may wait (-1: for ever); and, after
 * poll, reading them and sending the notifications that are due. */
size_t mcp_subs_pollfds(struct mcp_server *s, struct pollfd *fds);
int mcp_subs_timeout_ms(const struct mcp_server *s);
void mcp_subs_service(struct mcp_server *s, const struct pollfd *fds);
void mcp_subs_free(struct mcp_server *s);

/* mcp_tools.c */

/* The "tools" array of tools/list: without the tools that change
 * processes when brummd says this uid is a reader. Ownership: caller
 * deletes it. */
struct cJSON *mcp_tools_list(struct mcp_server *s);

/*
 * tools/call of @name with @args (an object or NULL). Returns 0 and the
 * CallToolResult in *@result (isError true for a failure of the tool
 * itself: brummd not running, an error brummd answered), or -32602 with a
 * message naming the tool or the argument in *@msg.
 * Ownership: caller deletes *@result and frees *@msg.
 */
int mcp_tools_call(struct mcp_server *s, const char *name, const struct cJSON *args,
		   struct cJSON **result, char **msg);

/* ---- the tools' model, shared by mcp_args.c, mcp_reply.c, mcp_tools.c ---- */

enum mcp_arg_type {
	MCP_ARG_STRING,
	MCP_ARG_BOOL,
	MCP_ARG_INTEGER,
	MCP_ARG_NUMBER,     /* > min, <= max */
	MCP_ARG_NAMES,      /* 1-64 names, groups or patterns */
	MCP_ARG_STRV,       /* a command line: 1-1024 strings */
	MCP_ARG_ENV,        /* an object of strings */
};

#define MCP_MAX_ARGS 8

struct mcp_arg {
	const char *name;
	enum mcp_arg_type type;
	bool required;
	const char *desc;
	double min, max;              /* MCP_ARG_INTEGER, MCP_ARG_NUMBER */
	const char *const *values;    /* MCP_ARG_STRING: the only values, NULL-terminated */
};

enum mcp_out { MCP_OUT_PROCS, MCP_OUT_SNAP, MCP_OUT_LOGS, MCP_OUT_ERRORS, MCP_OUT_URLS };

struct mcp_call;

struct mcp_tool {
	const char *name;
	const char *title;
	const char *desc;
	bool read_only;
	bool changes;                 /* listed only with --allow-changes */
	enum mcp_out out;
	int (*run)(struct mcp_call *c);
	struct mcp_arg args[MCP_MAX_ARGS];
};

/* One tools/call in progress. */
struct mcp_call {
	struct mcp_server *s;
	const struct mcp_tool *t;
	const cJSON *args;            /* checked against t->args; may be NULL */
	cJSON *result;                /* the CallToolResult */
	char *msg;                    /* with -32602: why */
};

/* mcp_args.c: JSON helpers that abort on out of memory, the schemas, and
 * the checks of a call's arguments against its tool's list. */
struct cJSON *mcp_checked(struct cJSON *v);
void mcp_add(struct cJSON *obj, const char *key, struct cJSON *v);   /* takes @v */
void mcp_push(struct cJSON *arr, struct cJSON *v);                   /* takes @v */
struct cJSON *mcp_input_schema(const struct mcp_tool *t);
struct cJSON *mcp_output_schema(enum mcp_out out);
/* Set c->msg to "tool 'T': MSG" and return -32602. */
int mcp_bad(struct mcp_call *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* 0, or -32602 and c->msg for the first argument that breaks its schema. */
int mcp_check_args(struct mcp_call *c);
/* The argument @name of a checked call, or NULL. */
const struct cJSON *mcp_arg_get(const struct mcp_call *c, const char *name);
bool mcp_arg_true(const struct mcp_call *c, const char *name, bool dflt);
/* Copy the argument @name, when given, into @params as @key. */
void mcp_pass(const struct mcp_call *c, struct cJSON *params, const char *name,
	      const char *key);

/* mcp_reply.c: calling brummd for a tool, and making its result. */

/* A text made by printing to a FILE (open_memstream). */
struct mcp_text {
	FILE *f;
	char *p;
	size_t len;
};
FILE *mcp_text_open(struct mcp_text *t);
/* Close the stream: the text, t->p (caller frees). */
char *mcp_text_close(struct mcp_text *t);
/* A CallToolResult of @text; takes @structured (NULL for none). */
struct cJSON *mcp_result(const char *text, struct cJSON *structured, bool is_error);
/* c->result: an isError result of @text. Returns 0. */
int mcp_fail(struct mcp_call *c, const char *text);
/*
 * Call brummd: 0 and *@res (caller deletes), or 1 after setting c->result
 * to the failure (brummd not reached, its error, the connection lost). A
 * reply is awaited at most @wait_secs plus a margin. Takes @params.
 */
int mcp_call_brummd(struct mcp_call *c, const char *method, struct cJSON *params,
		    double wait_secs, struct cJSON **res);
/* {"processes":[...]} from any reply: a single SNAP is wrapped. Takes @res. */
struct cJSON *mcp_as_procs(struct cJSON *res);
/* The process table of @procs after the line @head (may be NULL). */
char *mcp_table_text(const char *head, const struct cJSON *procs);
/* c->result: the table of @res (after @head) and its processes. Takes @res. */
int mcp_procs_result(struct mcp_call *c, const char *head, struct cJSON *res);
/*
 * Keep the newest entries of the array @key of @res whose text, as
 * brummctl prints it for @cmd, fits MCP_RESULT_MAX_BYTES, each entry's
 * @field cut to @field_max bytes first. Returns the text (caller frees);
 * *@dropped: the entries left out.
 */
char *mcp_fit(struct mcp_call *c, struct cJSON *res, const char *key, const char *field,
	      size_t field_max, enum cli_cmd_id cmd, size_t *dropped);
/* @text, or @empty when it is empty, after a note of @dropped @what left
 * out. Takes @text. */
char *mcp_with_note(char *text, size_t dropped, const char *what, const char *empty);

#endif
