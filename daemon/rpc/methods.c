/*
 * methods.c — the protocol methods: one small handler each, one table.
 *
 * Read-only handlers (ping, status) run entirely on the worker: they take
 * rcu_read_lock(), find and serialise snapshots straight into the
 * connection's output buffer, and unlock; they never wake the loop thread
 * and, once the worker's buffers have grown, allocate nothing.
 *
 * Mutating handlers check every parameter here, on the worker, so the loop
 * thread only sees well-formed commands; whether the names exist is decided
 * on the loop thread, where the answer cannot change under it.
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

/* ---- helpers ------------------------------------------------------------ */

static const char *json_type(const cJSON *v)
{
	if (cJSON_IsString(v)) return "a string";
	if (cJSON_IsNumber(v)) return "a number";
	if (cJSON_IsBool(v)) return "a boolean";
	if (cJSON_IsNull(v)) return "null";
	if (cJSON_IsArray(v)) return "an array";
	if (cJSON_IsObject(v)) return "an object";
	return "an unknown value";
}

/* Reject params not in @allowed (NULL-terminated). Returns false after replying. */
static bool only_keys(struct brm_req *req, const char *const *allowed)
{
	const cJSON *it;

	if (!req->params)
		return true;
	cJSON_ArrayForEach(it, req->params) {
		bool ok = false;
		for (size_t i = 0; allowed[i]; i++)
			if (strcmp(it->string, allowed[i]) == 0)
				ok = true;
		if (!ok) {
			struct brm_buf *tmp = &req->scratch->tmp;
			brm_buf_reset(tmp);
			brm_buf_adds(tmp, "params.");
			brm_buf_adds(tmp, it->string);
			brm_buf_adds(tmp, ": unknown parameter; expected");
			for (size_t i = 0; allowed[i]; i++)
				brm_buf_addf(tmp, "%s \"%s\"", i ? "," : "", allowed[i]);
			brm_rpc_error(req->out, req->id_json, BRM_E_INVALID_PARAMS, tmp->p, NULL);
			return false;
		}
	}
	return true;
}

static const cJSON *param(const struct brm_req *req, const char *key)
{
	return req->params ? cJSON_GetObjectItemCaseSensitive(req->params, key) : NULL;
}

static bool valid_name_param(struct brm_req *req, const cJSON *v, const char *what)
{
	if (!cJSON_IsString(v)) {
		brm_req_invalid(req, "%s: expected a process name (string), got %s", what, json_type(v));
		return false;
	}
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
	const cJSON *wait = param(req, "wait"), *timeout = param(req, "timeout_secs");

	if (wait) {
		if (!cJSON_IsBool(wait)) {
			brm_req_invalid(req, "params.wait: expected true or false, got %s", json_type(wait));
			return false;
		}
		cmd->wait = cJSON_IsTrue(wait);
	}
	if (timeout) {
		double secs;
		if (brm_duration_parse_json(timeout, &secs) < 0 || !(secs > 0)) {
			brm_req_invalid(req, "params.timeout_secs: expected a positive number of seconds"
				" (or a string like \"30s\"), got %s", json_type(timeout));
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

static enum brm_method_result m_ping(struct brm_req *req, struct brm_cmd **cmd)
{
	static const char *const keys[] = { NULL };
	double up = (double)(brm_now_mono_ns() - req->ctx->start_mono_ns) / 1e9;

	if (!only_keys(req, keys))
		return BRM_REPLIED;
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
static enum brm_method_result m_status(struct brm_req *req, struct brm_cmd **cmd)
{
	const cJSON *stats = param(req, "stats");
	struct brm_procstat_set set = { 0 };
	struct brm_targets t;
	const char **list = NULL;
	size_t n = 0;
	enum brm_method_result r;

	if (stats && !cJSON_IsBool(stats))
		return brm_req_invalid(req, "params.stats: expected true or false, got %s", json_type(stats));
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
	static const char *const keys[] = { "name", "names", "stats", NULL };
	const cJSON *name = param(req, "name");
	struct brm_target_src src;
	struct brm_targets t;
	struct brm_reg_entry *e;
	int64_t now = brm_now_wall_ms();
	void **items;
	size_t n;

	if (!only_keys(req, keys))
		return BRM_REPLIED;
	if (name && !param(req, "names") && cJSON_IsString(name) &&
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

static enum brm_method_result lifecycle(struct brm_req *req, struct brm_cmd **out,
					enum brm_cmd_op op)
{
	static const char *const keys[] = { "name", "names", "all", "wait", "timeout_secs", NULL };
	struct brm_cmd *cmd;

	if (!only_keys(req, keys))
		return BRM_REPLIED;
	cmd = brm_cmd_create(op, req->id_json);
	if (!parse_targets(req, cmd) || !parse_wait(req, cmd)) {
		brm_cmd_destroy(cmd);
		return BRM_REPLIED;
	}
	*out = cmd;
	return BRM_QUEUED;
}

static enum brm_method_result m_start(struct brm_req *req, struct brm_cmd **cmd)
{
	return lifecycle(req, cmd, BRM_CMD_START);
}

static enum brm_method_result m_stop(struct brm_req *req, struct brm_cmd **cmd)
{
	return lifecycle(req, cmd, BRM_CMD_STOP);
}

static enum brm_method_result m_restart(struct brm_req *req, struct brm_cmd **cmd)
{
	return lifecycle(req, cmd, BRM_CMD_RESTART);
}

static enum brm_method_result m_signal(struct brm_req *req, struct brm_cmd **out)
{
	static const char *const keys[] = { "name", "names", "all", "signal", "to", NULL };
	const cJSON *sig = param(req, "signal"), *to = param(req, "to");
	struct brm_cmd *cmd;
	int64_t num;
	int signo = -1;

	if (!only_keys(req, keys))
		return BRM_REPLIED;
	if (to && (!cJSON_IsString(to) || (strcmp(to->valuestring, "main") != 0 &&
					    strcmp(to->valuestring, "group") != 0)))
		return brm_req_invalid(req, "params.to: expected \"main\" (the main process, the"
			       " default) or \"group\" (its whole process group), got %s%.40s%s",
			       cJSON_IsString(to) ? "\"" : json_type(to),
			       cJSON_IsString(to) ? to->valuestring : "",
			       cJSON_IsString(to) ? "\"" : "");
	if (!sig)
		return brm_req_invalid(req, "params: missing \"signal\" (a name like \"HUP\" or a number)");
	if (cJSON_IsString(sig))
		signo = brm_signal_parse(sig->valuestring);
	else if (brm_rpc_int_in(sig, 1, 64, &num))
		signo = (int)num;
	if (signo < 1)
		return brm_req_invalid(req, "params.signal: expected a signal name like \"HUP\" or a"
			       " number from 1 to 64");
	cmd = brm_cmd_create(BRM_CMD_SIGNAL, req->id_json);
	cmd->signo = signo;
	cmd->to_group = to && !strcmp(to->valuestring, "group");
	if (!parse_targets(req, cmd)) {
		brm_cmd_destroy(cmd);
		return BRM_REPLIED;
	}
	*out = cmd;
	return BRM_QUEUED;
}

static enum brm_method_result m_add(struct brm_req *req, struct brm_cmd **out)
{
	static const char *const keys[] = { "name", "spec", NULL };
	const cJSON *name = param(req, "name"), *spec = param(req, "spec");
	struct brm_proc_spec *ps;
	struct brm_cmd *cmd;
	char *err = NULL;

	if (!only_keys(req, keys))
		return BRM_REPLIED;
	if (!name)
		return brm_req_invalid(req, "params: missing \"name\"");
	if (!valid_name_param(req, name, "params.name"))
		return BRM_REPLIED;
	if (req->ctx->limits && strlen(name->valuestring) > (size_t)req->ctx->limits->max_name_len)
		return brm_req_invalid(req, "params.name: longer than %d bytes (max_name_len)",
			       req->ctx->limits->max_name_len);
	if (!spec)
		return brm_req_invalid(req, "params: missing \"spec\" (an object with at least \"cmd\")");
	if (!cJSON_IsObject(spec))
		return brm_req_invalid(req, "params.spec: expected an object, got %s", json_type(spec));
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
	cmd = brm_cmd_create(BRM_CMD_ADD, req->id_json);
	cmd->spec = ps;
	cmd->spec_json = cJSON_PrintUnformatted(spec);
	cmd->max_procs = req->ctx->limits ? req->ctx->limits->max_processes : 0;
	*out = cmd;
	return BRM_QUEUED;
}

static enum brm_method_result m_remove(struct brm_req *req, struct brm_cmd **out)
{
	static const char *const keys[] = { "name", NULL };
	const cJSON *name = param(req, "name");
	struct brm_cmd *cmd;

	if (!only_keys(req, keys))
		return BRM_REPLIED;
	if (!name)
		return brm_req_invalid(req, "params: missing \"name\"");
	if (!valid_name_param(req, name, "params.name"))
		return BRM_REPLIED;
	cmd = brm_cmd_create(BRM_CMD_REMOVE, req->id_json);
	cmd->names = brm_xcalloc(2, sizeof(char *));
	cmd->names[0] = brm_xstrdup(name->valuestring);
	*out = cmd;
	return BRM_QUEUED;
}

/*
 * Wait for a state and/or a health: changes nothing, but is answered by
 * the loop thread, whose observer re-checks its waiters after every
 * publish (no polling).
 */
static enum brm_method_result m_wait(struct brm_req *req, struct brm_cmd **out)
{
	static const char *const keys[] = { "name", "names", "all", "state", "health",
					    "timeout_secs", NULL };
	const cJSON *state = param(req, "state"), *health = param(req, "health");
	struct brm_cmd *cmd;
	int st = -1;

	if (!only_keys(req, keys))
		return BRM_REPLIED;
	if (!state && !health)
		return brm_req_invalid(req, "params: missing \"state\" (or \"health\")");
	if (state) {
		if (!cJSON_IsString(state) || (st = brm_state_parse(state->valuestring)) < 0)
			return brm_req_invalid(req, "params.state: expected one of \"stopped\", \"starting\","
				       " \"running\", \"backoff\", \"stopping\", \"exited\", \"fatal\"");
	}
	if (health && (!cJSON_IsString(health) || !health->valuestring[0] ||
		       strlen(health->valuestring) > 32))
		return brm_req_invalid(req, "params.health: expected a health such as \"healthy\"");
	cmd = brm_cmd_create(BRM_CMD_WAIT, req->id_json);
	cmd->want_state = st;
	if (health)
		cmd->want_health = brm_xstrdup(health->valuestring);
	cmd->wait = true;
	if (!parse_targets(req, cmd) || !parse_wait(req, cmd)) {
		brm_cmd_destroy(cmd);
		return BRM_REPLIED;
	}
	*out = cmd;
	return BRM_QUEUED;
}

/* Re-read the config file on the loop thread (daemon/sup/reload.c). */
static enum brm_method_result m_reload(struct brm_req *req, struct brm_cmd **out)
{
	static const char *const keys[] = { NULL };

	if (!only_keys(req, keys))
		return BRM_REPLIED;
	*out = brm_cmd_create(BRM_CMD_RELOAD, req->id_json);
	return BRM_QUEUED;
}

/*
 * Stop every process in reverse dependency order, then exit: the loop
 * thread answers once all are down (daemon/main.c).
 */
static enum brm_method_result m_shutdown(struct brm_req *req, struct brm_cmd **out)
{
	static const char *const keys[] = { NULL };

	if (!only_keys(req, keys))
		return BRM_REPLIED;
	*out = brm_cmd_create(BRM_CMD_SHUTDOWN, req->id_json);
	return BRM_QUEUED;
}

/* ---- the table ---------------------------------------------------------- */

/* Sorted by name. */
const struct brm_method brm_methods[] = {
	{ "add", true, m_add },
	{ "daemon_log", BRM_METHOD_ADMIN, brm_m_daemon_log },
	{ "errors", false, brm_m_errors },
	{ "events", false, brm_m_events },
	{ "logs", false, brm_m_logs },
	{ "logs_reopen", true, brm_m_logs_reopen },
	{ "ping", false, m_ping },
	{ "reload", true, m_reload },
	{ "remove", true, m_remove },
	{ "restart", true, m_restart },
	{ "shutdown", true, m_shutdown },
	{ "signal", true, m_signal },
	{ "start", true, m_start },
	{ "status", false, m_status },
	{ "stop", true, m_stop },
	{ "wait", false, m_wait },   /* changes nothing; queued for the loop's waiters */
	{ NULL, false, NULL },
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
