/*
 * mcp_tools.c — the tools of `brummctl mcp`, in one table.
 *
 * Each tool lists its arguments once (name, type, bounds, description);
 * mcp_args.c makes the inputSchema tools/list shows and the check
 * tools/call makes from that list, so they cannot disagree. An argument
 * that breaks the schema is a -32602 error naming it; whatever brummd says
 * about a request it was given (no such process, access denied, a start
 * that failed) is the tool's result, with isError true and brummd's message.
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
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli/brummctl.h"
#include "cli/mcp.h"
#include "lib/client.h"
#include "lib/util.h"

static const char *const states[] = {
	"stopped", "waiting", "starting", "running", "backoff", "stopping", "exited", "fatal",
	NULL,
};
static const char *const streams[] = { "stdout", "stderr", "all", NULL };
static const char *const restarts[] = { "always", "on-failure", "never", NULL };
static const char *const types[] = { "simple", "oneshot", NULL };

#define NAMES_DESC "process names, instance groups (worker: worker:0, worker:1, ...) or glob " \
	"patterns ('web*')"
#define ARG_NAMES(req, what) { "names", MCP_ARG_NAMES, req, NAMES_DESC what, 0, 0, NULL }
#define ARG_ALL(what) { "all", MCP_ARG_BOOL, false, "true: every process" what, 0, 0, NULL }
#define ARG_WAIT(what) { "wait", MCP_ARG_BOOL, false, what " (default true)", 0, 0, NULL }
#define ARG_TIMEOUT(what) { "timeout_secs", MCP_ARG_NUMBER, false, what, 0, MCP_MAX_TIMEOUT_SECS, NULL }

static int run_list(struct mcp_call *c);
static int run_status(struct mcp_call *c);
static int run_control(struct mcp_call *c);
static int run_logs(struct mcp_call *c);
static int run_errors(struct mcp_call *c);
static int run_urls(struct mcp_call *c);
static int run_wait(struct mcp_call *c);
static int run_add(struct mcp_call *c);
static int run_remove(struct mcp_call *c);

static const struct mcp_tool tools[] = {
	{ "list_processes", "List processes",
	  "List every process brummd supervises with its state, pid, uptime, restarts and "
	  "health, as a table.", true, false, MCP_OUT_PROCS, run_list,
	  { { "stats", MCP_ARG_BOOL, false, "also CPU and memory per process", 0, 0, NULL } } },
	{ "status", "Process status",
	  "The full state of processes: the table, plus each one's command, last error, what "
	  "it waits for, health check output, URLs it printed and its log file.",
	  true, false, MCP_OUT_PROCS, run_status,
	  { ARG_NAMES(true, " to show"),
	    { "stats", MCP_ARG_BOOL, false, "also CPU and memory (default true)", 0, 0, NULL } } },
	{ "start", "Start processes",
	  "Start processes (and what they depend on) and by default wait until they run. "
	  "Give names or all.", false, false, MCP_OUT_PROCS, run_control,
	  { ARG_NAMES(false, " to start"), ARG_ALL(""),
	    ARG_WAIT("wait until they are running (a one-shot job: completed)"),
	    ARG_TIMEOUT("how long to wait, in seconds (default 60)") } },
	{ "stop", "Stop processes",
	  "Stop processes (SIGTERM, then SIGKILL after their stop timeout) and by default wait "
	  "until they are down. They stay stopped until started again. Give names or all.",
	  false, false, MCP_OUT_PROCS, run_control,
	  { ARG_NAMES(false, " to stop"), ARG_ALL(""),
	    ARG_WAIT("wait until they are down"),
	    ARG_TIMEOUT("how long to wait, in seconds (default 60)") } },
	{ "restart", "Restart processes",
	  "Stop, then start processes again and by default wait until they run: after a code "
	  "or config change. Give names or all.", false, false, MCP_OUT_PROCS, run_control,
	  { ARG_NAMES(false, " to restart"), ARG_ALL(""),
	    ARG_WAIT("wait until they are running again"),
	    ARG_TIMEOUT("how long to wait, in seconds (default 60)") } },
	{ "logs", "Read process output",
	  "The last lines of processes' stdout and stderr, and brummd's lines about them "
	  "(started, exited), merged by time; without names, of every process. Each line reads "
	  "'DATE TIME NAME | text' ('|' stdout, '!' stderr, '-' brummd).",
	  true, false, MCP_OUT_LOGS, run_logs,
	  { ARG_NAMES(false, " to read (default: every process)"),
	    { "lines", MCP_ARG_INTEGER, false, "how many of the last lines (default 100)", 1,
	      MCP_LOGS_MAX_LINES, NULL },
	    { "grep", MCP_ARG_STRING, false, "only lines matching this extended regular expression",
	      0, 0, NULL },
	    { "since", MCP_ARG_STRING, false, "only lines from then on: a duration ago (30s, 10m, 2h, "
	      "1d) or a time (2026-12-05T10:00:00, local unless it ends in Z or +HH:MM)",
	      0, 0, NULL },
	    { "stream", MCP_ARG_STRING, false, "only this stream (default all)", 0, 0, streams } } },
	{ "errors", "Recent errors",
	  "Recent error blocks in processes' output (error lines with the stack trace that "
	  "follows them), newest last; without a name, of every process.",
	  true, false, MCP_OUT_ERRORS, run_errors,
	  { { "name", MCP_ARG_STRING, false, "a process name, group or pattern (default: every "
	      "process)", 0, 0, NULL } } },
	{ "urls", "URLs printed",
	  "The http(s) URLs processes printed in their output (where a dev server listens).",
	  true, false, MCP_OUT_URLS, run_urls,
	  { ARG_NAMES(false, " (default: every process)") } },
	{ "wait", "Wait for a state",
	  "Wait until processes reach a state (and/or a health), or say why they cannot: a "
	  "bounded wait, for after a change. Give names or all, and state or health.",
	  true, false, MCP_OUT_PROCS, run_wait,
	  { ARG_NAMES(false, " to wait for"), ARG_ALL(""),
	    { "state", MCP_ARG_STRING, false, "the state to reach", 0, 0, states },
	    { "health", MCP_ARG_STRING, false, "the health to reach, e.g. healthy", 0, 0, NULL },
	    ARG_TIMEOUT("give up after this many seconds (default 30)") } },
	{ "add", "Add a process",
	  "Add a process to brummd (remembered across its restarts) and start it unless "
	  "autostart is false.", false, true, MCP_OUT_SNAP, run_add,
	  { { "name", MCP_ARG_STRING, true, "the new process's name (A-Z a-z 0-9 . _ : @ -)", 0, 0,
	      NULL },
	    { "cmd", MCP_ARG_STRV, true, "the program and its arguments; with shell, the words are "
	      "joined by spaces and run with /bin/sh -c", 0, 0, NULL },
	    { "shell", MCP_ARG_BOOL, false, "run cmd with /bin/sh -c", 0, 0, NULL },
	    { "cwd", MCP_ARG_STRING, false, "working directory", 0, 0, NULL },
	    { "env", MCP_ARG_ENV, false, "environment variables to set", 0, 0, NULL },
	    { "restart", MCP_ARG_STRING, false, "restart policy (default on-failure)", 0, 0,
	      restarts },
	    { "type", MCP_ARG_STRING, false, "oneshot: a job run to completion (default simple)",
	      0, 0, types },
	    { "autostart", MCP_ARG_BOOL, false, "start it now (default true)", 0, 0, NULL } } },
	{ "remove", "Remove a process",
	  "Stop a process and remove it from brummd.", false, true, MCP_OUT_SNAP, run_remove,
	  { { "name", MCP_ARG_STRING, true, "the process's own name (not a group or pattern)", 0, 0,
	      NULL } } },
};

cJSON *mcp_tools_list(struct mcp_server *s)
{
	cJSON *list = mcp_checked(cJSON_CreateArray());
	/* A reader's uid may only look: the tools that change are left out. */
	bool reader = mcp_is_reader(s);

	for (size_t i = 0; i < BRM_ARRAY_SIZE(tools); i++) {
		const struct mcp_tool *t = &tools[i];
		cJSON *d, *ann;

		if ((t->changes && !s->allow_changes) || (reader && !t->read_only))
			continue;
		d = mcp_checked(cJSON_CreateObject());
		mcp_add(d, "name", cJSON_CreateString(t->name));
		mcp_add(d, "title", cJSON_CreateString(t->title));
		mcp_add(d, "description", cJSON_CreateString(t->desc));
		mcp_add(d, "inputSchema", mcp_input_schema(t));
		mcp_add(d, "outputSchema", mcp_output_schema(t->out));
		ann = mcp_checked(cJSON_CreateObject());
		mcp_add(ann, "readOnlyHint", cJSON_CreateBool(t->read_only));
		if (!t->read_only)
			mcp_add(ann, "destructiveHint", cJSON_CreateBool(t->changes ||
								 t->run == run_control));
		mcp_add(ann, "openWorldHint", cJSON_CreateFalse());
		mcp_add(d, "annotations", ann);
		mcp_push(list, d);
	}
	return list;
}

/* ---- the tools ------------------------------------------------------------- */

static int run_list(struct mcp_call *c)
{
	cJSON *params = NULL, *res;

	if (mcp_arg_true(c, "stats", false)) {
		params = mcp_checked(cJSON_CreateObject());
		mcp_add(params, "stats", cJSON_CreateTrue());
	}
	if (mcp_call_brummd(c, "status", params, 0, &res))
		return 0;
	return mcp_procs_result(c, NULL, res);
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

static int run_status(struct mcp_call *c)
{
	cJSON *params = mcp_checked(cJSON_CreateObject()), *res, *procs;
	const cJSON *p;
	struct mcp_text t;
	FILE *f;
	char *table;

	mcp_pass(c, params, "names", "names");
	mcp_add(params, "stats", cJSON_CreateBool(mcp_arg_true(c, "stats", true)));
	if (mcp_call_brummd(c, "status", params, 0, &res))
		return 0;
	procs = mcp_as_procs(res);
	table = mcp_table_text(NULL, procs);
	f = mcp_text_open(&t);
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
	c->result = mcp_result(mcp_text_close(&t), procs, false);
	free(t.p);
	return 0;
}

/* names or all, exactly one of them, into @params. */
static int targets(struct mcp_call *c, cJSON *params)
{
	bool all = mcp_arg_true(c, "all", false);

	if (all && mcp_arg_get(c, "names"))
		return mcp_bad(c, "give names or all, not both");
	if (!all && !mcp_arg_get(c, "names"))
		return mcp_bad(c, "missing names (or all: true)");
	if (all)
		mcp_add(params, "all", cJSON_CreateTrue());
	else
		mcp_pass(c, params, "names", "names");
	return 0;
}

static double timeout_of(const struct mcp_call *c, double dflt)
{
	const cJSON *v = mcp_arg_get(c, "timeout_secs");

	return v ? v->valuedouble : dflt;
}

static int run_control(struct mcp_call *c)
{
	cJSON *params = mcp_checked(cJSON_CreateObject()), *res;
	bool wait = mcp_arg_true(c, "wait", true);
	const char *verb = strcmp(c->t->name, "stop") == 0 ? "stopped" :
		strcmp(c->t->name, "start") == 0 ? "started" : "restarted";
	char *head;
	int r;

	if (targets(c, params)) {
		cJSON_Delete(params);
		return -32602;
	}
	if (!wait && mcp_arg_get(c, "timeout_secs")) {
		cJSON_Delete(params);
		return mcp_bad(c, "timeout_secs needs wait");
	}
	mcp_add(params, "wait", cJSON_CreateBool(wait));
	mcp_pass(c, params, "timeout_secs", "timeout_secs");
	if (mcp_call_brummd(c, c->t->name, params, wait ? timeout_of(c, 60) : 0, &res))
		return 0;
	head = brm_xasprintf(wait ? "%s:" : "%s (not waited for):", verb);
	r = mcp_procs_result(c, head, res);
	free(head);
	return r;
}

static int run_wait(struct mcp_call *c)
{
	cJSON *params = mcp_checked(cJSON_CreateObject()), *res;
	double timeout = timeout_of(c, 30);

	if (targets(c, params)) {
		cJSON_Delete(params);
		return -32602;
	}
	if (!mcp_arg_get(c, "state") && !mcp_arg_get(c, "health")) {
		cJSON_Delete(params);
		return mcp_bad(c, "missing state (or health)");
	}
	mcp_pass(c, params, "state", "state");
	mcp_pass(c, params, "health", "health");
	mcp_add(params, "timeout_secs", cJSON_CreateNumber(timeout));
	if (mcp_call_brummd(c, "wait", params, timeout, &res))
		return 0;
	return mcp_procs_result(c, "reached:", res);
}

static int run_logs(struct mcp_call *c)
{
	cJSON *params = mcp_checked(cJSON_CreateObject()), *res;
	const cJSON *since = mcp_arg_get(c, "since");
	size_t dropped;
	char *text;

	if (since) {
		double ts;

		if (!cli_parse_since(since->valuestring, &ts)) {
			cJSON_Delete(params);
			return mcp_bad(c, "arguments.since: '%.64s' is not a duration ago (10m) or a "
				   "time (2026-12-05T10:00:00)", since->valuestring);
		}
		mcp_add(params, "since", cJSON_CreateNumber(floor(ts * 1000.0) / 1000.0));
	}
	mcp_pass(c, params, "names", "names");
	mcp_add(params, "lines", cJSON_CreateNumber(mcp_arg_get(c, "lines") ? mcp_arg_get(c, "lines")->valuedouble :
						 MCP_LOGS_DEFAULT_LINES));
	mcp_pass(c, params, "grep", "grep");
	mcp_pass(c, params, "stream", "stream");
	if (mcp_call_brummd(c, "logs", params, 0, &res))
		return 0;
	if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(res, "lines"))) {
		cJSON_Delete(res);
		return mcp_fail(c, "brummd's reply to logs has no lines");
	}
	text = mcp_fit(c, res, "lines", "line", 4096, CMD_LOGS, &dropped);
	text = mcp_with_note(text, dropped, "lines", "(no lines)");
	cJSON_DeleteItemFromObjectCaseSensitive(res, "truncated");
	mcp_add(res, "truncated", cJSON_CreateBool(dropped > 0));
	c->result = mcp_result(text, res, false);
	free(text);
	return 0;
}

static int run_errors(struct mcp_call *c)
{
	cJSON *params = NULL, *res;
	size_t dropped;
	char *text;

	if (mcp_arg_get(c, "name")) {
		params = mcp_checked(cJSON_CreateObject());
		mcp_pass(c, params, "name", "name");
	}
	if (mcp_call_brummd(c, "errors", params, 0, &res))
		return 0;
	if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(res, "errors"))) {
		cJSON_Delete(res);
		return mcp_fail(c, "brummd's reply to errors has no errors");
	}
	text = mcp_fit(c, res, "errors", "text", 8192, CMD_ERRORS, &dropped);
	text = mcp_with_note(text, dropped, "error blocks", "(no errors seen)");
	cJSON_DeleteItemFromObjectCaseSensitive(res, "truncated");
	mcp_add(res, "truncated", cJSON_CreateBool(dropped > 0));
	c->result = mcp_result(text, res, false);
	free(text);
	return 0;
}

static int run_urls(struct mcp_call *c)
{
	struct cli_command cmdinfo = { .name = "urls", .id = CMD_URLS };
	struct cli_opts o;
	cJSON *params = NULL, *res, *out, *arr;
	const cJSON *p, *u;
	struct mcp_text t;
	char *text;

	if (mcp_arg_get(c, "names")) {
		params = mcp_checked(cJSON_CreateObject());
		mcp_pass(c, params, "names", "names");
	}
	if (mcp_call_brummd(c, "status", params, 0, &res))
		return 0;
	res = mcp_as_procs(res);
	out = mcp_checked(cJSON_CreateObject());
	arr = mcp_checked(cJSON_AddArrayToObject(out, "urls"));
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(res, "processes")) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(p, "name");

		cJSON_ArrayForEach(u, cJSON_GetObjectItemCaseSensitive(p, "urls")) {
			cJSON *row;

			if (!cJSON_IsString(name) || !cJSON_IsString(u))
				continue;
			row = mcp_checked(cJSON_CreateObject());
			mcp_add(row, "name", cJSON_CreateString(name->valuestring));
			mcp_add(row, "url", cJSON_CreateString(u->valuestring));
			mcp_push(arr, row);
		}
	}
	memset(&o, 0, sizeof(o));
	o.cmd = &cmdinfo;
	cli_logs_print_result(mcp_text_open(&t), &o, res, false);
	text = mcp_with_note(mcp_text_close(&t), 0, "", "(no URLs seen in the output)");
	cJSON_Delete(res);
	c->result = mcp_result(text, out, false);
	free(text);
	return 0;
}

static int run_add(struct mcp_call *c)
{
	cJSON *params = mcp_checked(cJSON_CreateObject()), *spec = mcp_checked(cJSON_CreateObject());
	const cJSON *cmd = mcp_arg_get(c, "cmd"), *w;
	cJSON *res;
	char *head;

	mcp_pass(c, params, "name", "name");
	if (mcp_arg_true(c, "shell", false)) {
		struct mcp_text t;
		FILE *f = mcp_text_open(&t);
		bool first = true;

		cJSON_ArrayForEach(w, cmd) {
			fprintf(f, "%s%s", first ? "" : " ", w->valuestring);
			first = false;
		}
		mcp_add(spec, "cmd", cJSON_CreateString(mcp_text_close(&t)));
		free(t.p);
		mcp_add(spec, "shell", cJSON_CreateTrue());
	} else {
		mcp_pass(c, spec, "cmd", "cmd");
	}
	mcp_pass(c, spec, "cwd", "cwd");
	mcp_pass(c, spec, "env", "env");
	mcp_pass(c, spec, "restart", "restart");
	mcp_pass(c, spec, "type", "type");
	mcp_pass(c, spec, "autostart", "autostart");
	mcp_add(params, "spec", spec);
	if (mcp_call_brummd(c, "add", params, 0, &res))
		return 0;
	head = brm_xasprintf("added %s:", mcp_arg_get(c, "name")->valuestring);
	mcp_procs_result(c, head, cJSON_Duplicate(res, 1));
	free(head);
	/* structuredContent: the SNAP brummd answered, as it came. */
	cJSON_DeleteItemFromObjectCaseSensitive(c->result, "structuredContent");
	mcp_add(c->result, "structuredContent", res);
	return 0;
}

static int run_remove(struct mcp_call *c)
{
	cJSON *params = mcp_checked(cJSON_CreateObject()), *res;
	char *head;

	mcp_pass(c, params, "name", "name");
	/* brummd answers once the process is down: its stop timeout, then
	 * the SIGKILL. */
	if (mcp_call_brummd(c, "remove", params, MCP_MAX_TIMEOUT_SECS, &res))
		return 0;
	head = brm_xasprintf("removed %s; its last state:", mcp_arg_get(c, "name")->valuestring);
	mcp_procs_result(c, head, cJSON_Duplicate(res, 1));
	free(head);
	cJSON_DeleteItemFromObjectCaseSensitive(c->result, "structuredContent");
	mcp_add(c->result, "structuredContent", res);
	return 0;
}

int mcp_tools_call(struct mcp_server *s, const char *name, const cJSON *args,
		   cJSON **result, char **msg)
{
	struct mcp_call c = { .s = s, .args = args };
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
	r = mcp_check_args(&c);
	if (r == 0 && !c.t->read_only && mcp_is_reader(s)) {
		char *m = brm_xasprintf("not permitted: brummd lets this uid (%u) only read "
					"(it is one of the config's access.readers), so '%s' is not "
					"offered; the read-only tools work", (unsigned)getuid(), name);

		mcp_fail(&c, m);
		free(m);
	} else if (r == 0) {
		r = c.t->run(&c);
	}
	if (r != 0) {
		cJSON_Delete(c.result);
		*msg = c.msg ? c.msg : brm_xasprintf("tool '%s': bad arguments", name);
		return r;
	}
	free(c.msg);
	*result = c.result;
	return 0;
}
