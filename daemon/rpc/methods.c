/*
 * methods.c — the protocol methods: one small handler each, one table.
 *
 * Read-only handlers (ping, status) run entirely on the worker: they take
 * rcu_read_lock(), find and serialise snapshots straight into the
 * connection's output buffer, and unlock; they never wake the loop thread
 * and, once the worker's buffers have grown, allocate nothing.
 *
 * Every parameter is checked on the worker, so the loop thread only sees
 * well-formed commands: first against the method's schema in the table
 * (brm_method_call: unknown, missing, wrong type, out of range, in one
 * wording), then by the handler for what a schema cannot say. Whether the
 * names exist is decided on the loop thread, where the answer cannot
 * change under it.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/conf/config.h"
#include "daemon/conf/values.h"
#include "daemon/rpc/daemon_log.h"
#include "daemon/sup/events.h"
#include "daemon/rpc/logs.h"
#include "daemon/sup/procstat.h"
#include "daemon/rpc/targets.h"
#include "daemon/rpc/methods.h"
#include "lib/snapjson.h"
#include "proto/proto.h"
#include "proto/rpc.h"

/* The bounds of the numbers the methods take (the table's schemas). */
#define MAX_LINES 10000               /* logs, daemon_log */
/* 2^53: the largest integer a JSON number (a double) holds exactly. */
#define MAX_SEQ ((int64_t)1 << 53)
/* "since", in seconds since the epoch: far beyond any clock, and a bound
 * before the cast to milliseconds. */
#define MAX_SINCE 10000000000000LL

/* ---- helpers ------------------------------------------------------------ */

const char *brm_json_type(const cJSON *v)
{
	if (cJSON_IsString(v)) return "a string";
	if (cJSON_IsNumber(v)) return "a number";
	if (cJSON_IsBool(v)) return "a boolean";
	if (cJSON_IsNull(v)) return "null";
	if (cJSON_IsArray(v)) return "an array";
	if (cJSON_IsObject(v)) return "an object";
	return "an unknown value";
}

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
		v = req->params ? cJSON_GetObjectItemCaseSensitive(req->params, p->name) : NULL;
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

const cJSON *brm_req_param(const struct brm_req *req, const char *key)
{
	return req->params ? cJSON_GetObjectItemCaseSensitive(req->params, key) : NULL;
}

/*
 * A param the method's schema requires: brm_method_call saw it there, of a
 * type the schema allows, before the handler ran.
 */
static const cJSON *required(const struct brm_req *req, const char *key)
{
	const cJSON *v = brm_req_param(req, key);

	if (!v)
		abort();   /* a handler whose schema does not require @key */
	return v;
}

/* @v is a string (the schema says so). */
static bool valid_name_param(struct brm_req *req, const cJSON *v, const char *what)
{
	if (!brm_name_valid(v->valuestring)) {
		brm_req_invalid(req, "%s: invalid process name \"%.80s\": use 1-%d characters of"
			" A-Z a-z 0-9 . _ : @ -, not starting with '.' or '-'",
			what, v->valuestring, BRM_MAX_NAME_LEN);
		return false;
	}
	return true;
}

/*
 * Targets: exactly one of "name", "names" or "all": true (targets.h), into
 * cmd->names / cmd->all; the loop thread resolves them. Returns false
 * after replying with an error.
 */
static bool parse_targets(struct brm_req *req, struct brm_cmd *cmd)
{
	struct brm_targets t;

	if (brm_targets_parse(req->params, 0, 0, &t, &req->scratch->tmp) < 0) {
		brm_rpc_error(req->out, req->id_json, BRM_E_INVALID_PARAMS, req->scratch->tmp.p,
			      NULL);
		return false;
	}
	cmd->all = t.all;
	cmd->names = t.sel;
	return true;
}

static bool parse_wait(struct brm_req *req, struct brm_cmd *cmd)
{
	const cJSON *wait = brm_req_param(req, "wait"), *timeout = brm_req_param(req, "timeout_secs");

	if (wait)
		cmd->wait = cJSON_IsTrue(wait);
	if (timeout) {
		double secs;
		if (brm_duration_parse_json(timeout, &secs) < 0 || !(secs > 0)) {
			brm_req_invalid(req, "params.timeout_secs: expected a positive number of seconds"
				" (or a string like \"30s\"), got %s", brm_json_type(timeout));
			return false;
		}
		cmd->timeout_secs = secs;
	}
	return true;
}

/* ---- read-only methods -------------------------------------------------- */

static void result_begin(struct brm_req *req)
{
	brm_buf_adds(req->out, "{\"jsonrpc\":\"2.0\",\"id\":");
	brm_buf_adds(req->out, req->id_json);
	brm_buf_adds(req->out, ",\"result\":");
}

static void result_end(struct brm_req *req)
{
	brm_buf_adds(req->out, "}\n");
}

static enum brm_method_result brm_m_ping(struct brm_req *req, struct brm_cmd **cmd)
{
	double up = (double)(brm_now_mono_ns() - req->ctx->start_mono_ns) / 1e9;

	result_begin(req);
	brm_buf_adds(req->out, "{\"version\":\"" BRM_VERSION "\",\"pid\":");
	brm_json_int(req->out, req->ctx->pid);
	brm_buf_adds(req->out, ",\"uptime_secs\":");
	brm_buf_addf(req->out, "%.3f", up);
	brm_buf_addc(req->out, '}');
	result_end(req);
	return BRM_REPLIED;
}

static int cmp_snap_name(const void *a, const void *b)
{
	return strcmp((*(struct brm_snapshot *const *)a)->name,
		      (*(struct brm_snapshot *const *)b)->name);
}

static void scratch_reserve(struct brm_scratch *s, size_t n)
{
	size_t cap = s->cap ? s->cap : 64;

	if (n <= s->cap)
		return;
	while (cap < n)
		cap *= 2;
	s->snaps = brm_xrealloc(s->snaps, cap * sizeof(*s->snaps));
	s->cap = cap;
}

/* One SNAP, with CPU and memory when @stats (procstat.h). */
static void snap_out(struct brm_req *req, const struct brm_snapshot *s, int64_t now,
		     const struct brm_procstat_set *stats)
{
	brm_snapshot_json(req->out, s, now);
	if (stats)
		brm_procstat_json(req->out, brm_procstat_find(stats, s->pid));
}

static enum brm_method_result status_all(struct brm_req *req,
					 const struct brm_procstat_set *stats)
{
	struct brm_scratch *s = req->scratch;
	struct brm_reg_iter it;
	struct brm_reg_entry *e;
	int64_t now = brm_now_wall_ms();
	size_t n = 0;

	rcu_read_lock();
	scratch_reserve(s, brm_registry_count(req->ctx->reg) + 16);
	brm_registry_for_each(req->ctx->reg, &it, e) {
		if (n == s->cap)
			scratch_reserve(s, n + 1);
		s->snaps[n++] = brm_entry_snapshot(e);
	}
	qsort(s->snaps, n, sizeof(*s->snaps), cmp_snap_name);
	result_begin(req);
	brm_buf_adds(req->out, "{\"processes\":[");
	for (size_t i = 0; i < n; i++) {
		if (i)
			brm_buf_addc(req->out, ',');
		snap_out(req, s->snaps[i], now, stats);
	}
	rcu_read_unlock();
	brm_buf_adds(req->out, "]}");
	result_end(req);
	return BRM_REPLIED;
}

static enum brm_method_result status(struct brm_req *req,
				      const struct brm_procstat_set *stats);

/* Reply with the error @code whose message was built in the scratch's tmp. */
static enum brm_method_result tmp_error(struct brm_req *req, int code)
{
	brm_rpc_error(req->out, req->id_json, code, req->scratch->tmp.p, NULL);
	return BRM_REPLIED;
}

/*
 * The names @t takes, copied (for brm_procstat_collect, outside the read
 * side). Returns NULL with *n 0 when they cannot be resolved: status()
 * reports that.
 */
static const char **target_names(struct brm_req *req, const struct brm_targets *t, size_t *n)
{
	struct brm_target_src src;
	const char **list = NULL;
	void **items;

	*n = 0;
	brm_targets_registry_src(&src, req->ctx->reg);
	rcu_read_lock();
	if (brm_targets_resolve(t, &src, &items, n, &req->scratch->tmp) == 0) {
		list = brm_xcalloc(*n + 1, sizeof(*list));
		for (size_t i = 0; i < *n; i++)
			list[i] = brm_xstrdup(((struct brm_reg_entry *)items[i])->name);
		free(items);
	}
	rcu_read_unlock();
	return list;
}

/*
 * "stats": true adds CPU and memory, read from /proc on this worker before
 * the snapshots are (two short read-side sections, none around the
 * reads). Off by default: for every process it costs a few /proc reads,
 * about 10-20 us each, which a status of all would pay on every call.
 */
static enum brm_method_result brm_m_status(struct brm_req *req, struct brm_cmd **cmd)
{
	const cJSON *stats = brm_req_param(req, "stats");
	struct brm_procstat_set set = { 0 };
	struct brm_targets t;
	const char **list = NULL;
	size_t n = 0;
	enum brm_method_result r;

	if (!cJSON_IsTrue(stats))
		return status(req, NULL);
	/* Bad targets are status()'s to report; here they just have no stats. */
	if (brm_targets_parse(req->params, BRM_TARGETS_NONE_IS_ALL, 0, &t, &req->scratch->tmp) == 0) {
		if (!t.all && !(list = target_names(req, &t, &n))) {
			brm_targets_finish(&t);
			return status(req, NULL);
		}
		brm_targets_finish(&t);
	}
	brm_procstat_collect(req->ctx->reg, list, n, &set);
	r = status(req, &set);
	for (size_t i = 0; list && i < n; i++)
		free((char *)list[i]);
	free(list);
	brm_procstat_set_finish(&set);
	return r;
}

/*
 * One process asked for by its own name is the common case (and the one
 * measured against a bare round trip): one lookup, no allocation. A group,
 * a pattern or several names go through the resolver.
 */
static enum brm_method_result status(struct brm_req *req, const struct brm_procstat_set *stats)
{
	const cJSON *name = brm_req_param(req, "name");
	struct brm_target_src src;
	struct brm_targets t;
	struct brm_reg_entry *e;
	int64_t now = brm_now_wall_ms();
	void **items;
	size_t n;

	if (name && !brm_req_param(req, "names") && cJSON_IsString(name) &&
	    brm_name_valid(name->valuestring)) {
		rcu_read_lock();
		e = brm_registry_find(req->ctx->reg, name->valuestring);
		if (e) {
			result_begin(req);
			snap_out(req, brm_entry_snapshot(e), now, stats);
			rcu_read_unlock();
			result_end(req);
			return BRM_REPLIED;
		}
		rcu_read_unlock();
		/* not a process: maybe a group */
	}
	if (brm_targets_parse(req->params, BRM_TARGETS_NONE_IS_ALL, 0, &t, &req->scratch->tmp) < 0)
		return tmp_error(req, BRM_E_INVALID_PARAMS);
	if (t.all)
		return status_all(req, stats);

	brm_targets_registry_src(&src, req->ctx->reg);
	rcu_read_lock();
	if (brm_targets_resolve(&t, &src, &items, &n, &req->scratch->tmp) < 0) {
		rcu_read_unlock();
		brm_targets_finish(&t);
		return tmp_error(req, BRM_E_NO_PROCESS);
	}
	result_begin(req);
	brm_buf_adds(req->out, "{\"processes\":[");
	for (size_t i = 0; i < n; i++) {
		if (i)
			brm_buf_addc(req->out, ',');
		snap_out(req, brm_entry_snapshot(items[i]), now, stats);
	}
	rcu_read_unlock();
	brm_buf_adds(req->out, "]}");
	result_end(req);
	free(items);
	brm_targets_finish(&t);
	return BRM_REPLIED;
}

/* ---- mutating methods --------------------------------------------------- */

/* start, stop, restart: the op is the table's. */
static enum brm_method_result brm_m_lifecycle(struct brm_req *req, struct brm_cmd **cmd)
{
	if (!parse_targets(req, *cmd) || !parse_wait(req, *cmd))
		return BRM_REPLIED;
	return BRM_QUEUED;
}

static enum brm_method_result brm_m_signal(struct brm_req *req, struct brm_cmd **cmdp)
{
	const cJSON *sig = required(req, "signal"), *to = brm_req_param(req, "to");
	struct brm_cmd *cmd = *cmdp;
	int64_t num;
	int signo = -1;

	/* The schema made "to" a string, and "signal" a string or a number in range. */
	if (to && strcmp(to->valuestring, "main") != 0 && strcmp(to->valuestring, "group") != 0)
		return brm_req_invalid(req, "params.to: expected \"main\" (the main process, the"
			       " default) or \"group\" (its whole process group), got \"%.40s\"",
			       to->valuestring);
	if (cJSON_IsString(sig))
		signo = brm_signal_parse(sig->valuestring);
	else if (brm_rpc_int_in(sig, 1, BRM_MAX_SIGNAL, &num))
		signo = (int)num;
	if (signo < 1)
		return brm_req_invalid(req, "params.signal: expected a signal name like \"HUP\" or a"
			       " number from 1 to %d", BRM_MAX_SIGNAL);
	cmd->signo = signo;
	cmd->to_group = to && !strcmp(to->valuestring, "group");
	return parse_targets(req, cmd) ? BRM_QUEUED : BRM_REPLIED;
}

static enum brm_method_result brm_m_add(struct brm_req *req, struct brm_cmd **cmdp)
{
	const cJSON *name = required(req, "name"), *spec = required(req, "spec");
	struct brm_proc_spec *ps;
	struct brm_cmd *cmd = *cmdp;
	char *err = NULL;

	if (!valid_name_param(req, name, "params.name"))
		return BRM_REPLIED;
	if (req->ctx->limits && strlen(name->valuestring) > (size_t)req->ctx->limits->max_name_len)
		return brm_req_invalid(req, "params.name: longer than %d bytes (max_name_len)",
			       req->ctx->limits->max_name_len);
	ps = brm_spec_parse(spec, name->valuestring, "params.spec", &err);
	if (!ps) {
		/* Several problems arrive one per line; the wire message is one line. */
		for (char *c = err; c && *c; c++)
			if (*c == '\n')
				*c = (c[1] ? ';' : '\0');
		brm_rpc_error(req->out, req->id_json, BRM_E_INVALID_PARAMS,
			      err ? err : "params.spec: invalid", NULL);
		free(err);
		return BRM_REPLIED;
	}
	cmd->spec = ps;
	cmd->spec_json = cJSON_PrintUnformatted(spec);
	cmd->max_procs = req->ctx->limits ? req->ctx->limits->max_processes : 0;
	return BRM_QUEUED;
}

static enum brm_method_result brm_m_remove(struct brm_req *req, struct brm_cmd **cmdp)
{
	const cJSON *name = required(req, "name");
	struct brm_cmd *cmd = *cmdp;

	if (!valid_name_param(req, name, "params.name"))
		return BRM_REPLIED;
	cmd->names = brm_xcalloc(2, sizeof(char *));
	cmd->names[0] = brm_xstrdup(name->valuestring);
	return BRM_QUEUED;
}

/*
 * Wait for a state and/or a health: changes nothing, but is answered by
 * the loop thread, whose observer re-checks its waiters after every
 * publish (no polling).
 */
static enum brm_method_result brm_m_wait(struct brm_req *req, struct brm_cmd **cmdp)
{
	const cJSON *state = brm_req_param(req, "state"), *health = brm_req_param(req, "health");
	struct brm_cmd *cmd = *cmdp;
	int st = -1;

	if (!state && !health)
		return brm_req_invalid(req, "params: missing \"state\" (or \"health\")");
	if (state) {
		if ((st = brm_state_parse(state->valuestring)) < 0)
			return brm_req_invalid(req, "params.state: expected one of \"stopped\", \"starting\","
				       " \"running\", \"backoff\", \"stopping\", \"exited\", \"fatal\"");
	}
	if (health && (!health->valuestring[0] || strlen(health->valuestring) > 32))
		return brm_req_invalid(req, "params.health: expected a health such as \"healthy\"");
	cmd->want_state = st;
	if (health)
		cmd->want_health = brm_xstrdup(health->valuestring);
	cmd->wait = true;
	if (!parse_targets(req, cmd) || !parse_wait(req, cmd))
		return BRM_REPLIED;
	return BRM_QUEUED;
}

/* Re-read the config file on the loop thread (daemon/sup/reload.c). */
static enum brm_method_result brm_m_reload(struct brm_req *req, struct brm_cmd **cmd)
{
	return BRM_QUEUED;
}

/*
 * Stop every process in reverse dependency order, then exit: the loop
 * thread answers once all are down (daemon/main.c).
 */
static enum brm_method_result brm_m_shutdown(struct brm_req *req, struct brm_cmd **cmd)
{
	return BRM_QUEUED;
}

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
	  { P_NAMES, P("stats", BRM_P_BOOL) } },
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

const struct brm_method *brm_method_find(const char *name)
{
	return bsearch(name, brm_methods, BRM_ARRAY_SIZE(brm_methods) - 1,
		       sizeof(brm_methods[0]), cmp_method);
}
