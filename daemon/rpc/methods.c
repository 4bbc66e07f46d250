/*
 * methods.c — the table of protocol methods, and the one check of every
 * request's params against its method's schema.
 *
 * The handlers live by subject: rpc/status.c (ping, status),
 * rpc/commands.c (start, stop, restart, signal, add, remove, wait, reload,
 * shutdown), rpc/logs.c (logs, errors, logs_reopen), rpc/daemon_log.c and
 * rpc/events.c (events).
 *
 * Every parameter is checked on the worker, so the loop thread only sees
 * well-formed commands: first against the method's schema in the table
 * (brm_method_call: unknown, missing, wrong type, out of range, in one
 * wording), then by the handler for what a schema cannot say. Whether the
 * names exist is decided on the loop thread, where the answer cannot
 * change under it.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/rpc/commands.h"
#include "daemon/rpc/daemon_log.h"
#include "daemon/rpc/events.h"
#include "daemon/rpc/logs.h"
#include "daemon/rpc/methods.h"
#include "daemon/rpc/status.h"
#include "proto/proto.h"
#include "proto/rpc.h"

/* The bounds of the numbers the methods take (the table's schemas). */
#define MAX_LINES 10000               /* logs, daemon_log */
/* 2^53: the largest integer a JSON number (a double) holds exactly. */
#define MAX_SEQ ((int64_t)1 << 53)
/* "since", in seconds since the epoch: far beyond any clock, and a bound
 * before the cast to milliseconds. */
#define MAX_SINCE 10000000000000LL

/* ---- the schema check -------------------------------------------------- */

/* Does @v have a type, and a value in the range, that @p allows? */
static bool param_fits(const struct brm_param *p, const cJSON *v)
{
	if (((p->types & BRM_P_BOOL) && cJSON_IsBool(v)) ||
	    ((p->types & BRM_P_STRING) && cJSON_IsString(v)) ||
	    ((p->types & BRM_P_ARRAY) && cJSON_IsArray(v)) ||
	    ((p->types & BRM_P_OBJECT) && cJSON_IsObject(v)))
		return true;
	if ((p->types & BRM_P_INT) && brm_rpc_int_in(v, p->lo, p->hi, NULL))
		return true;
	/* NaN fails every comparison. */
	return (p->types & BRM_P_NUMBER) && cJSON_IsNumber(v) &&
	       (p->lo == p->hi || (v->valuedouble >= (double)p->lo &&
				   v->valuedouble <= (double)p->hi));
}

/* "params.KEY: expected ALLOWED, got WHAT" into @b. */
static void describe_misfit(struct brm_buf *b, const struct brm_param *p, const cJSON *v)
{
	struct { const char *text; bool range; } what[8];
	size_t n = 0;

	if (p->types & BRM_P_BOOL) {
		what[n].text = "true", what[n++].range = false;
		what[n].text = "false", what[n++].range = false;
	}
	if (p->types & BRM_P_STRING)
		what[n].text = "a string", what[n++].range = false;
	if (p->types & BRM_P_INT)
		what[n].text = "an integer", what[n++].range = true;
	if (p->types & BRM_P_NUMBER)
		what[n].text = "a number", what[n++].range = p->lo != p->hi;
	if (p->types & BRM_P_ARRAY)
		what[n].text = "an array", what[n++].range = false;
	if (p->types & BRM_P_OBJECT)
		what[n].text = "an object", what[n++].range = false;
	brm_buf_addf(b, "params.%.64s: expected ", p->name);
	for (size_t i = 0; i < n; i++) {
		if (i)
			brm_buf_adds(b, i + 1 == n ? " or " : ", ");
		brm_buf_adds(b, what[i].text);
		if (what[i].range)
			brm_buf_addf(b, " from %lld to %lld", (long long)p->lo, (long long)p->hi);
	}
	if (p->note)
		brm_buf_addf(b, " (%s)", p->note);
	brm_buf_adds(b, ", got ");
	if (cJSON_IsNumber(v)) {
		char num[40];

		/* The shortest that reads back as the number sent. */
		snprintf(num, sizeof(num), "%.15g", v->valuedouble);
		if (strtod(num, NULL) != v->valuedouble)
			snprintf(num, sizeof(num), "%.17g", v->valuedouble);
		brm_buf_adds(b, num);
	} else {
		brm_buf_adds(b, brm_json_type(v));
	}
}

/*
 * @req's params against @m's schema: true when they fit, else false after
 * replying with the one -32602 wording (methods.h).
 */
static bool params_fit(const struct brm_method *m, struct brm_req *req)
{
	struct brm_buf *tmp = &req->scratch->tmp;
	const struct brm_param *p;
	const cJSON *it, *v;

	brm_buf_reset(tmp);
	if (req->params) {
		cJSON_ArrayForEach(it, req->params) {
			for (p = m->params; p->name; p++)
				if (!strcmp(it->string, p->name))
					break;
			if (p->name)
				continue;
			brm_buf_addf(tmp, "params.%.64s: unknown parameter; %s takes", it->string,
				     m->name);
			if (!m->params[0].name)
				brm_buf_adds(tmp, " none");
			for (p = m->params; p->name; p++)
				brm_buf_addf(tmp, "%s\"%s\"", p == m->params ? " " :
					     p[1].name ? ", " : " or ", p->name);
			goto fail;
		}
	}
	for (p = m->params; p->name; p++) {
		v = brm_req_param(req, p->name);
		if (!v && p->required) {
			brm_buf_addf(tmp, "params: missing \"%s\"", p->name);
			goto fail;
		}
		if (v && !param_fits(p, v)) {
			describe_misfit(tmp, p, v);
			goto fail;
		}
	}
	return true;
fail:
	brm_rpc_error(req->out, req->id_json, BRM_E_INVALID_PARAMS, tmp->p, NULL);
	return false;
}

enum brm_method_result brm_method_call(const struct brm_method *m, struct brm_req *req,
				       struct brm_cmd **cmd)
{
	struct brm_cmd *c = NULL;

	if (!params_fit(m, req))
		return BRM_REPLIED;
	if (m->loop)
		c = brm_cmd_create(m->loop, req->id_json);
	if (m->handler(req, &c) == BRM_QUEUED && c) {
		*cmd = c;
		return BRM_QUEUED;
	}
	brm_cmd_destroy(c);
	return BRM_REPLIED;
}

/* ---- parameters the schema cannot check ---------------------------------- */

/* ---- the table ---------------------------------------------------------- */

/*
 * The parameters several methods share: which processes (targets.h; "all"
 * only where a method says so) and, for the lifecycle methods, whether to
 * wait for the outcome.
 */
#define P(n, t) { .name = (n), .types = (t) }
#define P_REQUIRED(n, t) { .name = (n), .types = (t), .required = true }
#define P_RANGE(n, t, l, h) { .name = (n), .types = (t), .lo = (l), .hi = (h) }
#define P_NONE { .name = NULL }
#define P_NAMES P("name", BRM_P_STRING), P("names", BRM_P_ARRAY)
#define P_TARGETS P_NAMES, P("all", BRM_P_BOOL)
#define P_TIMEOUT { .name = "timeout_secs", .types = BRM_P_NUMBER | BRM_P_STRING, \
		    .note = "seconds, or a string like \"30s\"" }
#define P_WAIT P("wait", BRM_P_BOOL), P_TIMEOUT
#define P_FOLLOW P("follow", BRM_P_BOOL)
#define P_LINES P_RANGE("lines", BRM_P_INT, 0, MAX_LINES)
#define P_SINCE { .name = "since", .types = BRM_P_NUMBER, .hi = MAX_SINCE, \
		  .note = "seconds since the epoch" }

/* Sorted by name. */
const struct brm_method brm_methods[] = {
	{ "add", BRM_METHOD_MUTATING, &brm_op_add, brm_m_add,
	  { P_REQUIRED("name", BRM_P_STRING), P_REQUIRED("spec", BRM_P_OBJECT) } },
	{ "daemon_log", BRM_METHOD_ADMIN, NULL, brm_m_daemon_log,
	  { P_LINES, P_SINCE, P_FOLLOW } },
	{ "errors", BRM_METHOD_READ, NULL, brm_m_errors,
	  { P_NAMES } },
	{ "events", BRM_METHOD_READ, NULL, brm_m_events,
	  { P_NAMES, P_RANGE("since_seq", BRM_P_INT, 1, BRM_RPC_INT_MAX),
	    { .name = "history", .types = BRM_P_BOOL | BRM_P_INT, .hi = BRM_RPC_INT_MAX,
	      .note = "a number of events" },
	    P_FOLLOW } },
	{ "logs", BRM_METHOD_READ, NULL, brm_m_logs,
	  { P_NAMES, P_LINES, P_RANGE("since_seq", BRM_P_INT, 0, MAX_SEQ), P_SINCE,
	    P("stream", BRM_P_STRING), P("grep", BRM_P_STRING), P_FOLLOW } },
	{ "logs_reopen", BRM_METHOD_MUTATING, NULL, brm_m_logs_reopen,
	  { P_NONE } },
	{ "metrics", BRM_METHOD_READ, NULL, brm_m_metrics,
	  { P_NONE } },
	{ "ping", BRM_METHOD_READ, NULL, brm_m_ping,
	  { P_NONE } },
	{ "reload", BRM_METHOD_MUTATING, &brm_op_reload, brm_m_reload,
	  { P_NONE } },
	{ "remove", BRM_METHOD_MUTATING, &brm_op_remove, brm_m_remove,
	  { P_REQUIRED("name", BRM_P_STRING) } },
	{ "restart", BRM_METHOD_MUTATING, &brm_op_restart, brm_m_lifecycle,
	  { P_TARGETS, P_WAIT } },
	{ "shutdown", BRM_METHOD_MUTATING, &brm_op_shutdown, brm_m_shutdown,
	  { P_NONE } },
	{ "signal", BRM_METHOD_MUTATING, &brm_op_signal, brm_m_signal,
	  { P_TARGETS,
	    { .name = "signal", .types = BRM_P_STRING | BRM_P_INT, .required = true,
	      .lo = 1, .hi = BRM_MAX_SIGNAL, .note = "a name like \"HUP\", or a number" },
	    P("to", BRM_P_STRING) } },
	{ "start", BRM_METHOD_MUTATING, &brm_op_start, brm_m_lifecycle,
	  { P_TARGETS, P_WAIT } },
	{ "status", BRM_METHOD_READ, NULL, brm_m_status,
	  { P_NAMES, P("stats", BRM_P_BOOL), P("ports", BRM_P_BOOL),
	    P("fields", BRM_P_ARRAY) } },
	{ "stop", BRM_METHOD_MUTATING, &brm_op_stop, brm_m_lifecycle,
	  { P_TARGETS, P_WAIT } },
	/* Changes nothing, so readers may; runs on the loop, among its waiters. */
	{ "wait", BRM_METHOD_READ, &brm_op_wait, brm_m_wait,
	  { P_TARGETS, P("state", BRM_P_STRING), P("health", BRM_P_STRING), P_TIMEOUT } },
	{ NULL, BRM_METHOD_READ, NULL, NULL, { P_NONE } },
};

static int cmp_method(const void *key, const void *elem)
{
	return strcmp(key, ((const struct brm_method *)elem)->name);
}

const struct brm_method *brm_method_by_op(const struct brm_cmd_op *op)
{
	for (const struct brm_method *m = brm_methods; m->name; m++)
		if (op && m->loop == op)
			return m;
	return NULL;
}

const struct brm_method *brm_method_find(const char *name)
{
	return bsearch(name, brm_methods, BRM_ARRAY_SIZE(brm_methods) - 1,
		       sizeof(brm_methods[0]), cmp_method);
}
