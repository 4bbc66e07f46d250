/*
 * mcp_tools.c — the tools of `brummctl mcp`, in one table.
 *
 * Each tool lists its arguments once (name, type, bounds, description);
 * the inputSchema tools/list shows and the check tools/call makes are both
 * made from that list, so they cannot disagree. An argument that breaks
 * the schema is a -32602 error naming it; whatever brummd says about a
 * request it was given (no such process, access denied, a start that
 * failed) is the tool's result, with isError true and brummd's message.
 *
 * A result is a text block a model reads well (the tables brummctl prints)
 * and, on success, structuredContent: brummd's JSON as it came, apart from
 * what is cut to keep a result within MCP_RESULT_MAX_BYTES, which the
 * result then says.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cjson/cJSON.h>

#include "cli/brummctl.h"
#include "cli/mcp.h"
#include "lib/client.h"
#include "lib/util.h"

/* ---- arguments ------------------------------------------------------------- */

enum arg_type {
	A_STRING,
	A_BOOL,
	A_INTEGER,
	A_NUMBER,     /* > min, <= max */
	A_NAMES,      /* 1-64 names, groups or patterns */
	A_STRV,       /* a command line: 1-1024 strings */
	A_ENV,        /* an object of strings */
};

#define MAX_ARGS 8
#define MAX_STRING 4096
#define MAX_NAMES 64
#define MAX_NAME_BYTES 64
#define MAX_STRV 1024
#define MAX_ENV 1024

struct arg {
	const char *name;
	enum arg_type type;
	bool required;
	const char *desc;
	double min, max;              /* A_INTEGER, A_NUMBER */
	const char *const *values;    /* A_STRING: the only values, NULL-terminated */
};

enum out_shape { OUT_PROCS, OUT_SNAP, OUT_LOGS, OUT_ERRORS, OUT_URLS };

struct call;

struct tool {
	const char *name;
	const char *title;
	const char *desc;
	bool read_only;
	bool changes;                 /* listed only with --allow-changes */
	enum out_shape out;
	int (*run)(struct call *c);
	struct arg args[MAX_ARGS];
};

/* One tools/call in progress. */
struct call {
	struct mcp_server *s;
	const struct tool *t;
	const cJSON *args;            /* checked against t->args; may be NULL */
	cJSON *result;                /* the CallToolResult */
	char *msg;                    /* with -32602: why */
};

static const char *const states[] = {
	"stopped", "waiting", "starting", "running", "backoff", "stopping", "exited", "fatal",
	NULL,
};
static const char *const streams[] = { "stdout", "stderr", "all", NULL };
static const char *const restarts[] = { "always", "on-failure", "never", NULL };
static const char *const types[] = { "simple", "oneshot", NULL };

#define NAMES_DESC "process names, instance groups (worker: worker:0, worker:1, ...) or glob " \
	"patterns ('web*')"
#define ARG_NAMES(req, what) { "names", A_NAMES, req, NAMES_DESC what, 0, 0, NULL }
#define ARG_ALL(what) { "all", A_BOOL, false, "true: every process" what, 0, 0, NULL }
#define ARG_WAIT(what) { "wait", A_BOOL, false, what " (default true)", 0, 0, NULL }
#define ARG_TIMEOUT(what) { "timeout_secs", A_NUMBER, false, what, 0, MCP_MAX_TIMEOUT_SECS, NULL }

static int run_list(struct call *c);
static int run_status(struct call *c);
static int run_control(struct call *c);
static int run_logs(struct call *c);
static int run_errors(struct call *c);
static int run_urls(struct call *c);
static int run_wait(struct call *c);
static int run_add(struct call *c);
static int run_remove(struct call *c);

static const struct tool tools[] = {
	{ "list_processes", "List processes",
	  "List every process brummd supervises with its state, pid, uptime, restarts and "
	  "health, as a table.", true, false, OUT_PROCS, run_list,
	  { { "stats", A_BOOL, false, "also CPU and memory per process", 0, 0, NULL } } },
	{ "status", "Process status",
	  "The full state of processes: the table, plus each one's command, last error, what "
	  "it waits for, health check output, URLs it printed and its log file.",
	  true, false, OUT_PROCS, run_status,
	  { ARG_NAMES(true, " to show"),
	    { "stats", A_BOOL, false, "also CPU and memory (default true)", 0, 0, NULL } } },
	{ "start", "Start processes",
	  "Start processes (and what they depend on) and by default wait until they run. "
	  "Give names or all.", false, false, OUT_PROCS, run_control,
	  { ARG_NAMES(false, " to start"), ARG_ALL(""),
	    ARG_WAIT("wait until they are running (a one-shot job: completed)"),
	    ARG_TIMEOUT("how long to wait, in seconds (default 60)") } },
	{ "stop", "Stop processes",
	  "Stop processes (SIGTERM, then SIGKILL after their stop timeout) and by default wait "
	  "until they are down. They stay stopped until started again. Give names or all.",
	  false, false, OUT_PROCS, run_control,
	  { ARG_NAMES(false, " to stop"), ARG_ALL(""),
	    ARG_WAIT("wait until they are down"),
	    ARG_TIMEOUT("how long to wait, in seconds (default 60)") } },
	{ "restart", "Restart processes",
	  "Stop, then start processes again and by default wait until they run: after a code "
	  "or config change. Give names or all.", false, false, OUT_PROCS, run_control,
	  { ARG_NAMES(false, " to restart"), ARG_ALL(""),
	    ARG_WAIT("wait until they are running again"),
	    ARG_TIMEOUT("how long to wait, in seconds (default 60)") } },
	{ "logs", "Read process output",
	  "The last lines of processes' stdout and stderr, and brummd's lines about them "
	  "(started, exited), merged by time; without names, of every process. Each line reads "
	  "'DATE TIME NAME | text' ('|' stdout, '!' stderr, '-' brummd).",
	  true, false, OUT_LOGS, run_logs,
	  { ARG_NAMES(false, " to read (default: every process)"),
	    { "lines", A_INTEGER, false, "how many of the last lines (default 100)", 1,
	      MCP_LOGS_MAX_LINES, NULL },
	    { "grep", A_STRING, false, "only lines matching this extended regular expression",
	      0, 0, NULL },
	    { "since", A_STRING, false, "only lines from then on: a duration ago (30s, 10m, 2h, "
	      "1d) or a time (2026-12-05T10:00:00, local unless it ends in Z or +HH:MM)",
	      0, 0, NULL },
	    { "stream", A_STRING, false, "only this stream (default all)", 0, 0, streams } } },
	{ "errors", "Recent errors",
	  "Recent error blocks in processes' output (error lines with the stack trace that "
	  "follows them), newest last; without a name, of every process.",
	  true, false, OUT_ERRORS, run_errors,
	  { { "name", A_STRING, false, "a process name, group or pattern (default: every "
	      "process)", 0, 0, NULL } } },
	{ "urls", "URLs printed",
	  "The http(s) URLs processes printed in their output (where a dev server listens).",
	  true, false, OUT_URLS, run_urls,
	  { ARG_NAMES(false, " (default: every process)") } },
	{ "wait", "Wait for a state",
	  "Wait until processes reach a state (and/or a health), or say why they cannot: a "
	  "bounded wait, for after a change. Give names or all, and state or health.",
	  true, false, OUT_PROCS, run_wait,
	  { ARG_NAMES(false, " to wait for"), ARG_ALL(""),
	    { "state", A_STRING, false, "the state to reach", 0, 0, states },
	    { "health", A_STRING, false, "the health to reach, e.g. healthy", 0, 0, NULL },
	    ARG_TIMEOUT("give up after this many seconds (default 30)") } },
	{ "add", "Add a process",
	  "Add a process to brummd (remembered across its restarts) and start it unless "
	  "autostart is false.", false, true, OUT_SNAP, run_add,
	  { { "name", A_STRING, true, "the new process's name (A-Z a-z 0-9 . _ : @ -)", 0, 0,
	      NULL },
	    { "cmd", A_STRV, true, "the program and its arguments; with shell, the words are "
	      "joined by spaces and run with /bin/sh -c", 0, 0, NULL },
	    { "shell", A_BOOL, false, "run cmd with /bin/sh -c", 0, 0, NULL },
	    { "cwd", A_STRING, false, "working directory", 0, 0, NULL },
	    { "env", A_ENV, false, "environment variables to set", 0, 0, NULL },
	    { "restart", A_STRING, false, "restart policy (default on-failure)", 0, 0,
	      restarts },
	    { "type", A_STRING, false, "oneshot: a job run to completion (default simple)",
	      0, 0, types },
	    { "autostart", A_BOOL, false, "start it now (default true)", 0, 0, NULL } } },
	{ "remove", "Remove a process",
	  "Stop a process and remove it from brummd.", false, true, OUT_SNAP, run_remove,
	  { { "name", A_STRING, true, "the process's own name (not a group or pattern)", 0, 0,
	      NULL } } },
};

static cJSON *checked(cJSON *v)
{
	if (!v)
		brm_oom(0);
	return v;
}

static void add(cJSON *obj, const char *key, cJSON *v)
{
	if (!cJSON_AddItemToObject(obj, key, checked(v)))
		brm_oom(0);
}

static void push(cJSON *arr, cJSON *v)
{
	if (!cJSON_AddItemToArray(arr, checked(v)))
		brm_oom(0);
}

static cJSON *strings(const char *const *v)
{
	cJSON *arr = checked(cJSON_CreateArray());

	for (; *v; v++)
		push(arr, cJSON_CreateString(*v));
	return arr;
}

/* ---- schemas ------------------------------------------------------------- */

static cJSON *arg_schema(const struct arg *a)
{
	cJSON *p = checked(cJSON_CreateObject()), *items;

	switch (a->type) {
	case A_STRING:
		add(p, "type", cJSON_CreateString("string"));
		if (a->values)
			add(p, "enum", strings(a->values));
		else
			add(p, "maxLength", cJSON_CreateNumber(MAX_STRING));
		break;
	case A_BOOL:
		add(p, "type", cJSON_CreateString("boolean"));
		break;
	case A_INTEGER:
		add(p, "type", cJSON_CreateString("integer"));
		add(p, "minimum", cJSON_CreateNumber(a->min));
		add(p, "maximum", cJSON_CreateNumber(a->max));
		break;
	case A_NUMBER:
		add(p, "type", cJSON_CreateString("number"));
		add(p, "exclusiveMinimum", cJSON_CreateNumber(a->min));
		add(p, "maximum", cJSON_CreateNumber(a->max));
		break;
	case A_NAMES:
	case A_STRV:
		add(p, "type", cJSON_CreateString("array"));
		items = checked(cJSON_CreateObject());
		add(items, "type", cJSON_CreateString("string"));
		add(items, "minLength", cJSON_CreateNumber(1));
		if (a->type == A_NAMES)
			add(items, "maxLength", cJSON_CreateNumber(MAX_NAME_BYTES));
		add(p, "items", items);
		add(p, "minItems", cJSON_CreateNumber(1));
		add(p, "maxItems", cJSON_CreateNumber(a->type == A_NAMES ? MAX_NAMES : MAX_STRV));
		break;
	case A_ENV:
		add(p, "type", cJSON_CreateString("object"));
		items = checked(cJSON_CreateObject());
		add(items, "type", cJSON_CreateString("string"));
		add(p, "additionalProperties", items);
		add(p, "maxProperties", cJSON_CreateNumber(MAX_ENV));
		break;
	}
	add(p, "description", cJSON_CreateString(a->desc));
	return p;
}

static cJSON *input_schema(const struct tool *t)
{
	cJSON *s = checked(cJSON_CreateObject()), *props = checked(cJSON_CreateObject());
	cJSON *req = checked(cJSON_CreateArray());

	add(s, "type", cJSON_CreateString("object"));
	for (const struct arg *a = t->args; a < t->args + MAX_ARGS && a->name; a++) {
		add(props, a->name, arg_schema(a));
		if (a->required)
			push(req, cJSON_CreateString(a->name));
	}
	add(s, "properties", props);
	if (cJSON_GetArraySize(req))
		add(s, "required", req);
	else
		cJSON_Delete(req);
	add(s, "additionalProperties", cJSON_CreateFalse());
	return s;
}

/* {"type":"object","properties":{KEY:{"type":TYPE},...},"required":[KEY...]} */
static cJSON *object_schema(const char *const *keys, const char *const *kinds, size_t n)
{
	cJSON *s = checked(cJSON_CreateObject()), *props = checked(cJSON_CreateObject());
	cJSON *req = checked(cJSON_CreateArray());

	add(s, "type", cJSON_CreateString("object"));
	for (size_t i = 0; i < n; i++) {
		cJSON *p = checked(cJSON_CreateObject());

		add(p, "type", cJSON_CreateString(kinds[i]));
		add(props, keys[i], p);
		push(req, cJSON_CreateString(keys[i]));
	}
	add(s, "properties", props);
	add(s, "required", req);
	return s;
}

static cJSON *output_schema(enum out_shape out)
{
	static const char *const procs[] = { "processes" }, *const procs_k[] = { "array" };
	static const char *const snap[] = { "name", "state" };
	static const char *const snap_k[] = { "string", "string" };
	static const char *const logs[] = { "lines", "truncated" };
	static const char *const errs[] = { "errors", "truncated" };
	static const char *const list_k[] = { "array", "boolean" };
	static const char *const urls[] = { "urls" };

	switch (out) {
	case OUT_PROCS: return object_schema(procs, procs_k, 1);
	case OUT_SNAP: return object_schema(snap, snap_k, 2);
	case OUT_LOGS: return object_schema(logs, list_k, 2);
	case OUT_ERRORS: return object_schema(errs, list_k, 2);
	case OUT_URLS: return object_schema(urls, procs_k, 1);
	}
	return NULL;
}

cJSON *mcp_tools_list(const struct mcp_server *s)
{
	cJSON *list = checked(cJSON_CreateArray());

	for (size_t i = 0; i < BRM_ARRAY_SIZE(tools); i++) {
		const struct tool *t = &tools[i];
		cJSON *d, *ann;

		if (t->changes && !s->allow_changes)
			continue;
		d = checked(cJSON_CreateObject());
		add(d, "name", cJSON_CreateString(t->name));
		add(d, "title", cJSON_CreateString(t->title));
		add(d, "description", cJSON_CreateString(t->desc));
		add(d, "inputSchema", input_schema(t));
		add(d, "outputSchema", output_schema(t->out));
		ann = checked(cJSON_CreateObject());
		add(ann, "readOnlyHint", cJSON_CreateBool(t->read_only));
		if (!t->read_only)
			add(ann, "destructiveHint", cJSON_CreateBool(t->changes ||
								 t->run == run_control));
		add(ann, "openWorldHint", cJSON_CreateFalse());
		add(d, "annotations", ann);
		push(list, d);
	}
	return list;
}

/* ---- checking arguments --------------------------------------------------- */

static int bad(struct call *c, const char *fmt, ...) BRM_PRINTF(2, 3);

static int bad(struct call *c, const char *fmt, ...)
{
	char *m;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&m, fmt, ap) < 0)
		brm_oom(0);
	va_end(ap);
	free(c->msg);
	c->msg = brm_xasprintf("tool '%s': %s", c->t->name, m);
	free(m);
	return -32602;
}

static const struct arg *find_arg(const struct tool *t, const char *name)
{
	for (const struct arg *a = t->args; a < t->args + MAX_ARGS && a->name; a++)
		if (strcmp(a->name, name) == 0)
			return a;
	return NULL;
}

static int check_string(struct call *c, const char *name, const cJSON *v, size_t max)
{
	if (!cJSON_IsString(v))
		return bad(c, "arguments.%s: not a string", name);
	if (!v->valuestring[0])
		return bad(c, "arguments.%s: empty", name);
	if (strlen(v->valuestring) > max)
		return bad(c, "arguments.%s: longer than %zu bytes", name, max);
	return 0;
}

static int check_arg(struct call *c, const struct arg *a, const cJSON *v)
{
	const cJSON *it;
	size_t n = 0, bytes = 0;

	switch (a->type) {
	case A_STRING:
		if (check_string(c, a->name, v, MAX_STRING))
			return -32602;
		if (a->values) {
			for (const char *const *p = a->values; *p; p++)
				if (strcmp(*p, v->valuestring) == 0)
					return 0;
			return bad(c, "arguments.%s: '%.64s' is not one of the values the schema "
				   "lists", a->name, v->valuestring);
		}
		return 0;
	case A_BOOL:
		return cJSON_IsBool(v) ? 0 : bad(c, "arguments.%s: not a boolean", a->name);
	case A_INTEGER:
		if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble))
			return bad(c, "arguments.%s: not an integer", a->name);
		if (v->valuedouble < a->min || v->valuedouble > a->max)
			return bad(c, "arguments.%s: %g is out of range (%g to %g)", a->name,
				   v->valuedouble, a->min, a->max);
		return 0;
	case A_NUMBER:
		if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
			return bad(c, "arguments.%s: not a number", a->name);
		if (!(v->valuedouble > a->min) || v->valuedouble > a->max)
			return bad(c, "arguments.%s: %g is out of range (more than %g, at most %g)",
				   a->name, v->valuedouble, a->min, a->max);
		return 0;
	case A_NAMES:
	case A_STRV:
		if (!cJSON_IsArray(v))
			return bad(c, "arguments.%s: not an array", a->name);
		cJSON_ArrayForEach(it, v) {
			char where[64];

			snprintf(where, sizeof(where), "%s[%zu]", a->name, n);
			if (++n > (a->type == A_NAMES ? MAX_NAMES : MAX_STRV))
				return bad(c, "arguments.%s: more than %d entries", a->name,
					   a->type == A_NAMES ? MAX_NAMES : MAX_STRV);
			if (check_string(c, where, it, a->type == A_NAMES ? MAX_NAME_BYTES :
					 MAX_STRING))
				return -32602;
		}
		if (n == 0)
			return bad(c, "arguments.%s: empty", a->name);
		return 0;
	case A_ENV:
		if (!cJSON_IsObject(v))
			return bad(c, "arguments.%s: not an object", a->name);
		cJSON_ArrayForEach(it, v) {
			if (++n > MAX_ENV)
				return bad(c, "arguments.%s: more than %d variables", a->name, MAX_ENV);
			if (!cJSON_IsString(it))
				return bad(c, "arguments.%s.%.64s: not a string", a->name, it->string);
			bytes += strlen(it->string) + strlen(it->valuestring) + 2;
			if (bytes > (1u << 20))
				return bad(c, "arguments.%s: more than 1 MiB", a->name);
		}
		return 0;
	}
	return 0;
}

static int check_args(struct call *c)
{
	const cJSON *v;

	cJSON_ArrayForEach(v, c->args) {
		const struct arg *a = find_arg(c->t, v->string);

		if (!a)
			return bad(c, "arguments.%.64s: unknown argument", v->string);
		if (check_arg(c, a, v))
			return -32602;
	}
	for (const struct arg *a = c->t->args; a < c->t->args + MAX_ARGS && a->name; a++)
		if (a->required && !cJSON_GetObjectItemCaseSensitive(c->args, a->name))
			return bad(c, "arguments.%s: missing (required)", a->name);
	return 0;
}

static const cJSON *arg(const struct call *c, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(c->args, name);
}

static bool arg_true(const struct call *c, const char *name, bool dflt)
{
	const cJSON *v = arg(c, name);

	return v ? cJSON_IsTrue(v) : dflt;
}

/* Copy the argument @name, when given, into @params as @key. */
static void pass(const struct call *c, cJSON *params, const char *name, const char *key)
{
	const cJSON *v = arg(c, name);

	if (v)
		add(params, key, cJSON_Duplicate(v, 1));
}

/* ---- results --------------------------------------------------------------- */

/* A CallToolResult of @text; takes @structured (NULL for none). */
static cJSON *tool_result(const char *text, cJSON *structured, bool is_error)
{
	cJSON *r = checked(cJSON_CreateObject()), *content = checked(cJSON_CreateArray());
	cJSON *block = checked(cJSON_CreateObject());

	add(block, "type", cJSON_CreateString("text"));
	add(block, "text", cJSON_CreateString(text));
	push(content, block);
	add(r, "content", content);
	if (structured)
		add(r, "structuredContent", structured);
	add(r, "isError", cJSON_CreateBool(is_error));
	return r;
}

static int fail_result(struct call *c, const char *text)
{
	c->result = tool_result(text, NULL, true);
	return 0;
}

/* A text made by printing to a FILE: open_memstream()'s. */
struct text {
	FILE *f;
	char *p;
	size_t len;
};

static FILE *text_open(struct text *t)
{
	t->p = NULL;
	t->len = 0;
	t->f = open_memstream(&t->p, &t->len);
	if (!t->f)
		brm_oom(0);
	return t->f;
}

/* Close the stream: t->p holds the text (caller frees). */
static char *text_close(struct text *t)
{
	if (fclose(t->f) != 0)
		brm_oom(0);
	return t->p;
}

/*
 * Call brummd: 0 and *@res, or 1 after filling c->result with the failure
 * (brummd not reached, its error, the connection lost). A reply is awaited
 * at most @wait_secs (plus a margin) so a stuck brummd cannot hang the
 * session. Takes @params.
 */
static int call_brummd(struct call *c, const char *method, cJSON *params, double wait_secs,
		       cJSON **res)
{
	struct brm_rpc_err err = BRM_RPC_ERR_INIT;
	struct timeval tv = { .tv_sec = (time_t)wait_secs + 30 };
	struct brm_client *cl;
	char *why = NULL;
	int r;

	*res = NULL;
	cl = mcp_connect(c->s, &why);
	if (!cl) {
		cJSON_Delete(params);
		fail_result(c, why);
		free(why);
		return 1;
	}
	setsockopt(brm_client_fd(cl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	r = brm_client_call(cl, method, params, res, &err);
	if (r < 0) {
		char *m = brm_xasprintf("lost brummd at '%s': %s", c->s->socket,
					brm_client_strerror(cl));

		fail_result(c, m);
		free(m);
	} else if (r > 0) {
		struct text t;
		char *s;

		fprintf(text_open(&t), "brummd: %s (error %d)\n", err.message, err.code);
		if (err.data)
			cli_print_error_processes(t.f, err.data);
		s = text_close(&t);
		fail_result(c, s);
		free(s);
	}
	brm_rpc_err_finish(&err);
	brm_client_destroy(cl);
	return r != 0;
}

/* {"processes":[...]} whatever brummd answered: a single SNAP is wrapped. */
static cJSON *as_procs(cJSON *res)
{
	cJSON *out, *arr;

	if (cJSON_IsObject(res) && cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(res, "processes")))
		return res;
	out = checked(cJSON_CreateObject());
	arr = checked(cJSON_AddArrayToObject(out, "processes"));
	if (cJSON_IsObject(res))
		push(arr, res);
	else
		cJSON_Delete(res);
	return out;
}

/* The process table of @procs, after @head (may be NULL). */
static char *table_text(const char *head, const cJSON *procs)
{
	struct text t;
	FILE *f = text_open(&t);

	if (head)
		fprintf(f, "%s\n", head);
	if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(procs, "processes")) == 0)
		fputs("(no processes)\n", f);
	else
		cli_print_result(f, CMD_STATUS, procs, false);
	return text_close(&t);
}

static int procs_result(struct call *c, const char *head, cJSON *res)
{
	cJSON *procs = as_procs(res);
	char *text = table_text(head, procs);

	c->result = tool_result(text, procs, false);
	free(text);
	return 0;
}

/* ---- the tools ------------------------------------------------------------- */

static int run_list(struct call *c)
{
	cJSON *params = NULL, *res;

	if (arg_true(c, "stats", false)) {
		params = checked(cJSON_CreateObject());
		add(params, "stats", cJSON_CreateTrue());
	}
	if (call_brummd(c, "status", params, 0, &res))
		return 0;
	return procs_result(c, NULL, res);
}

static void detail(FILE *f, const cJSON *snap, const char *key, const char *label)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(snap, key);

	if (cJSON_IsString(v)) {
		fprintf(f, "  %s: ", label);
		cli_put_text(f, v->valuestring, false);
		fputc('\n', f);
	}
}

static int run_status(struct call *c)
{
	cJSON *params = checked(cJSON_CreateObject()), *res, *procs;
	const cJSON *p;
	struct text t;
	FILE *f;
	char *table;

	pass(c, params, "names", "names");
	add(params, "stats", cJSON_CreateBool(arg_true(c, "stats", true)));
	if (call_brummd(c, "status", params, 0, &res))
		return 0;
	procs = as_procs(res);
	table = table_text(NULL, procs);
	f = text_open(&t);
	fputs(table, f);
	free(table);
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(procs, "processes")) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(p, "name"), *u;
		bool first = true;

		if (!cJSON_IsString(name))
			continue;
		fprintf(f, "\n%s:\n", name->valuestring);
		detail(f, p, "cmd", "cmd");
		detail(f, p, "error", "error");
		detail(f, p, "waiting_for", "waiting for");
		detail(f, p, "health_output", "health check");
		detail(f, p, "log_file", "log file");
		detail(f, p, "log_error", "log error");
		cJSON_ArrayForEach(u, cJSON_GetObjectItemCaseSensitive(p, "urls")) {
			if (!cJSON_IsString(u))
				continue;
			fputs(first ? "  urls: " : ", ", f);
			cli_put_text(f, u->valuestring, false);
			first = false;
		}
		if (!first)
			fputc('\n', f);
	}
	c->result = tool_result(text_close(&t), procs, false);
	free(t.p);
	return 0;
}

/* names or all, exactly one of them, into @params. */
static int targets(struct call *c, cJSON *params)
{
	bool all = arg_true(c, "all", false);

	if (all && arg(c, "names"))
		return bad(c, "give names or all, not both");
	if (!all && !arg(c, "names"))
		return bad(c, "missing names (or all: true)");
	if (all)
		add(params, "all", cJSON_CreateTrue());
	else
		pass(c, params, "names", "names");
	return 0;
}

static double timeout_of(const struct call *c, double dflt)
{
	const cJSON *v = arg(c, "timeout_secs");

	return v ? v->valuedouble : dflt;
}

static int run_control(struct call *c)
{
	cJSON *params = checked(cJSON_CreateObject()), *res;
	bool wait = arg_true(c, "wait", true);
	const char *verb = strcmp(c->t->name, "stop") == 0 ? "stopped" :
		strcmp(c->t->name, "start") == 0 ? "started" : "restarted";
	char *head;
	int r;

	if (targets(c, params)) {
		cJSON_Delete(params);
		return -32602;
	}
	if (!wait && arg(c, "timeout_secs")) {
		cJSON_Delete(params);
		return bad(c, "timeout_secs needs wait");
	}
	add(params, "wait", cJSON_CreateBool(wait));
	pass(c, params, "timeout_secs", "timeout_secs");
	if (call_brummd(c, c->t->name, params, wait ? timeout_of(c, 60) : 0, &res))
		return 0;
	head = brm_xasprintf(wait ? "%s:" : "%s (not waited for):", verb);
	r = procs_result(c, head, res);
	free(head);
	return r;
}

static int run_wait(struct call *c)
{
	cJSON *params = checked(cJSON_CreateObject()), *res;
	double timeout = timeout_of(c, 30);

	if (targets(c, params)) {
		cJSON_Delete(params);
		return -32602;
	}
	if (!arg(c, "state") && !arg(c, "health")) {
		cJSON_Delete(params);
		return bad(c, "missing state (or health)");
	}
	pass(c, params, "state", "state");
	pass(c, params, "health", "health");
	add(params, "timeout_secs", cJSON_CreateNumber(timeout));
	if (call_brummd(c, "wait", params, timeout, &res))
		return 0;
	return procs_result(c, "reached:", res);
}

/* Cut @s in place to at most @max bytes, on a UTF-8 character boundary. */
static bool cut_utf8(char *s, size_t max)
{
	size_t n = strlen(s);

	if (n <= max)
		return false;
	while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
		max--;
	s[max] = '\0';
	return true;
}

/*
 * Keep the newest entries of the array @key of @res whose text, as @print
 * makes it, fits MCP_RESULT_MAX_BYTES; each entry's @field cut to
 * @field_max bytes first. Returns the text; *@dropped the entries left out.
 */
static char *fit(struct call *c, cJSON *res, const char *key, const char *field,
		 size_t field_max, enum cli_cmd_id cmd, size_t *dropped)
{
	struct cli_command cmdinfo = { .name = c->t->name, .id = cmd };
	struct cli_opts o;
	cJSON *arr = cJSON_GetObjectItemCaseSensitive(res, key), *it;
	char *text;

	memset(&o, 0, sizeof(o));
	o.cmd = &cmdinfo;
	*dropped = 0;
	cJSON_ArrayForEach(it, arr) {
		cJSON *v = cJSON_GetObjectItemCaseSensitive(it, field);

		if (cJSON_IsString(v) && cut_utf8(v->valuestring, field_max))
			add(it, "mcp_cut", cJSON_CreateTrue());
	}
	for (;;) {
		struct text t;
		size_t n = (size_t)cJSON_GetArraySize(arr), drop;

		cli_logs_print_result(text_open(&t), &o, res, false);
		text = text_close(&t);
		if (t.len <= MCP_RESULT_MAX_BYTES || n == 0)
			return text;
		free(text);
		/* Drop the oldest, in proportion to the excess, at least one. */
		drop = (size_t)((double)n * (double)(t.len - MCP_RESULT_MAX_BYTES) /
				(double)t.len) + 1;
		for (size_t i = 0; i < drop && i < n; i++)
			cJSON_DeleteItemFromArray(arr, 0);
		*dropped += drop < n ? drop : n;
	}
}

static char *with_note(char *text, size_t dropped, const char *what, const char *empty)
{
	char *out;

	if (!*text && !dropped) {
		free(text);
		return brm_xasprintf("%s\n", empty);
	}
	if (!dropped)
		return text;
	out = brm_xasprintf("[%zu earlier %s left out to keep this result under %u KiB; ask "
			    "for fewer, narrow with names, grep or since]\n%s", dropped, what,
			    MCP_RESULT_MAX_BYTES >> 10, text);
	free(text);
	return out;
}

static int run_logs(struct call *c)
{
	cJSON *params = checked(cJSON_CreateObject()), *res;
	const cJSON *since = arg(c, "since");
	size_t dropped;
	char *text;

	if (since) {
		double ts;

		if (!cli_parse_since(since->valuestring, &ts)) {
			cJSON_Delete(params);
			return bad(c, "arguments.since: '%.64s' is not a duration ago (10m) or a "
				   "time (2026-12-05T10:00:00)", since->valuestring);
		}
		add(params, "since", cJSON_CreateNumber(floor(ts * 1000.0) / 1000.0));
	}
	pass(c, params, "names", "names");
	add(params, "lines", cJSON_CreateNumber(arg(c, "lines") ? arg(c, "lines")->valuedouble :
						 MCP_LOGS_DEFAULT_LINES));
	pass(c, params, "grep", "grep");
	pass(c, params, "stream", "stream");
	if (call_brummd(c, "logs", params, 0, &res))
		return 0;
	if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(res, "lines"))) {
		cJSON_Delete(res);
		return fail_result(c, "brummd's reply to logs has no lines");
	}
	text = fit(c, res, "lines", "line", 4096, CMD_LOGS, &dropped);
	text = with_note(text, dropped, "lines", "(no lines)");
	cJSON_DeleteItemFromObjectCaseSensitive(res, "truncated");
	add(res, "truncated", cJSON_CreateBool(dropped > 0));
	c->result = tool_result(text, res, false);
	free(text);
	return 0;
}

static int run_errors(struct call *c)
{
	cJSON *params = NULL, *res;
	size_t dropped;
	char *text;

	if (arg(c, "name")) {
		params = checked(cJSON_CreateObject());
		pass(c, params, "name", "name");
	}
	if (call_brummd(c, "errors", params, 0, &res))
		return 0;
	if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(res, "errors"))) {
		cJSON_Delete(res);
		return fail_result(c, "brummd's reply to errors has no errors");
	}
	text = fit(c, res, "errors", "text", 8192, CMD_ERRORS, &dropped);
	text = with_note(text, dropped, "error blocks", "(no errors seen)");
	cJSON_DeleteItemFromObjectCaseSensitive(res, "truncated");
	add(res, "truncated", cJSON_CreateBool(dropped > 0));
	c->result = tool_result(text, res, false);
	free(text);
	return 0;
}

static int run_urls(struct call *c)
{
	struct cli_command cmdinfo = { .name = "urls", .id = CMD_URLS };
	struct cli_opts o;
	cJSON *params = NULL, *res, *out, *arr;
	const cJSON *p, *u;
	struct text t;
	char *text;

	if (arg(c, "names")) {
		params = checked(cJSON_CreateObject());
		pass(c, params, "names", "names");
	}
	if (call_brummd(c, "status", params, 0, &res))
		return 0;
	res = as_procs(res);
	out = checked(cJSON_CreateObject());
	arr = checked(cJSON_AddArrayToObject(out, "urls"));
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(res, "processes")) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(p, "name");

		cJSON_ArrayForEach(u, cJSON_GetObjectItemCaseSensitive(p, "urls")) {
			cJSON *row;

			if (!cJSON_IsString(name) || !cJSON_IsString(u))
				continue;
			row = checked(cJSON_CreateObject());
			add(row, "name", cJSON_CreateString(name->valuestring));
			add(row, "url", cJSON_CreateString(u->valuestring));
			push(arr, row);
		}
	}
	memset(&o, 0, sizeof(o));
	o.cmd = &cmdinfo;
	cli_logs_print_result(text_open(&t), &o, res, false);
	text = with_note(text_close(&t), 0, "", "(no URLs seen in the output)");
	cJSON_Delete(res);
	c->result = tool_result(text, out, false);
	free(text);
	return 0;
}

static int run_add(struct call *c)
{
	cJSON *params = checked(cJSON_CreateObject()), *spec = checked(cJSON_CreateObject());
	const cJSON *cmd = arg(c, "cmd"), *w;
	cJSON *res;
	char *head;

	pass(c, params, "name", "name");
	if (arg_true(c, "shell", false)) {
		struct text t;
		FILE *f = text_open(&t);
		bool first = true;

		cJSON_ArrayForEach(w, cmd) {
			fprintf(f, "%s%s", first ? "" : " ", w->valuestring);
			first = false;
		}
		add(spec, "cmd", cJSON_CreateString(text_close(&t)));
		free(t.p);
		add(spec, "shell", cJSON_CreateTrue());
	} else {
		pass(c, spec, "cmd", "cmd");
	}
	pass(c, spec, "cwd", "cwd");
	pass(c, spec, "env", "env");
	pass(c, spec, "restart", "restart");
	pass(c, spec, "type", "type");
	pass(c, spec, "autostart", "autostart");
	add(params, "spec", spec);
	if (call_brummd(c, "add", params, 0, &res))
		return 0;
	head = brm_xasprintf("added %s:", arg(c, "name")->valuestring);
	procs_result(c, head, cJSON_Duplicate(res, 1));
	free(head);
	/* structuredContent: the SNAP brummd answered, as it came. */
	cJSON_DeleteItemFromObjectCaseSensitive(c->result, "structuredContent");
	add(c->result, "structuredContent", res);
	return 0;
}

static int run_remove(struct call *c)
{
	cJSON *params = checked(cJSON_CreateObject()), *res;
	char *head;

	pass(c, params, "name", "name");
	/* brummd answers once the process is down: its stop timeout, then
	 * the SIGKILL. */
	if (call_brummd(c, "remove", params, MCP_MAX_TIMEOUT_SECS, &res))
		return 0;
	head = brm_xasprintf("removed %s; its last state:", arg(c, "name")->valuestring);
	procs_result(c, head, cJSON_Duplicate(res, 1));
	free(head);
	cJSON_DeleteItemFromObjectCaseSensitive(c->result, "structuredContent");
	add(c->result, "structuredContent", res);
	return 0;
}

int mcp_tools_call(struct mcp_server *s, const char *name, const cJSON *args,
		   cJSON **result, char **msg)
{
	struct call c = { .s = s, .args = args };
	int r;

	*result = NULL;
	*msg = NULL;
	for (size_t i = 0; i < BRM_ARRAY_SIZE(tools); i++)
		if (strcmp(tools[i].name, name) == 0 && (!tools[i].changes || s->allow_changes))
			c.t = &tools[i];
	if (!c.t) {
		*msg = brm_xasprintf("unknown tool '%.64s'%s", name,
				     strcmp(name, "add") == 0 || strcmp(name, "remove") == 0 ?
				     " (add and remove exist only when the server runs with "
				     "--allow-changes)" : "");
		return -32602;
	}
	r = check_args(&c);
	if (r == 0)
		r = c.t->run(&c);
	if (r != 0) {
		cJSON_Delete(c.result);
		*msg = c.msg ? c.msg : brm_xasprintf("tool '%s': bad arguments", name);
		return r;
	}
	free(c.msg);
	*result = c.result;
	return 0;
}
