/*
 * status.c — the handlers of the status methods, `ping` and `status`
 * (proto/PROTOCOL.md), answered on the worker from the registry.
 *
 * They take rcu_read_lock(), find and serialise snapshots straight into
 * the connection's output buffer, and unlock; they never wake the loop
 * thread and, once the worker's buffers have grown, allocate nothing.
 * Their params fit the method table's schema before they run (methods.c).
 */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/rpc/status.h"
#include "daemon/rpc/targets.h"
#include "daemon/conf/access.h"
#include "daemon/ports.h"
#include "daemon/procstat.h"
#include "lib/snapjson.h"
#include "proto/proto.h"
#include "proto/rpc.h"

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

enum brm_method_result brm_m_ping(struct brm_req *req, struct brm_cmd **cmd)
{
	double up = (double)(brm_now_mono_ns() - req->ctx->start_mono_ns) / 1e9;

	result_begin(req);
	brm_buf_adds(req->out, "{\"version\":\"" BRM_VERSION "\",\"pid\":");
	brm_json_int(req->out, req->ctx->pid);
	brm_buf_adds(req->out, ",\"uptime_secs\":");
	brm_buf_addf(req->out, "%.3f", up);
	/* What the caller may do, so a client can offer only that. Anyone
	 * below a reader got -32003 before this runs. */
	brm_buf_adds(req->out, ",\"role\":");
	brm_buf_adds(req->out, req->peer && req->peer->level == BRM_ACCESS_READ ?
		     "\"reader\"" : "\"operator\"");
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

/* What one status call writes of each SNAP: its members, CPU and memory. */
struct view {
	uint64_t fields;                        /* BRM_SNAP_ALL_FIELDS: all */
	const struct brm_procstat_set *stats;   /* NULL: no CPU and memory */
	const struct brm_ports_set *ports;      /* NULL: no ports */
};

/* One SNAP, with CPU and memory when @v->stats (procstat.h), ports when
 * @v->ports (ports.h). */
static void snap_out(struct brm_req *req, const struct brm_snapshot *s, int64_t now,
		     const struct view *v)
{
	size_t at;

	brm_snapshot_json_fields(req->out, s, now, v->fields);
	if (!v->stats && !v->ports)
		return;
	at = req->out->len - 1;   /* the SNAP's '}', which the stats replace */
	if (v->stats)
		brm_procstat_json(req->out, brm_procstat_find(v->stats, s->pid));
	if (v->ports)
		brm_ports_json(req->out, brm_ports_find(v->ports, s->pid));
	if (v->fields != BRM_SNAP_ALL_FIELDS)
		brm_snap_filter_members(req->out, at, v->fields);
}

static enum brm_method_result status_all(struct brm_req *req, const struct view *v)
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
		snap_out(req, s->snaps[i], now, v);
	}
	rcu_read_unlock();
	brm_buf_adds(req->out, "]}");
	result_end(req);
	return BRM_REPLIED;
}

static enum brm_method_result status(struct brm_req *req, const struct view *v);

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
 * "ports": true likewise adds each process tree's listening TCP ports
 * (ports.h), its own parameter because it walks every descriptor of every
 * member: about twice the cost of the stats (proto/PROTOCOL.md).
 */
/*
 * "fields": ["name", "state", ...] picks the SNAP members a reply carries
 * (a table needs a third of them, and a status of all then writes, sends
 * and parses a third of the text). Returns 0 and *@mask, or -1 with the
 * message in the scratch's tmp.
 */
static int parse_fields(struct brm_req *req, uint64_t *mask)
{
	const cJSON *f = brm_req_param(req, "fields"), *it;
	struct brm_buf *tmp = &req->scratch->tmp;
	int i = 0;

	*mask = BRM_SNAP_ALL_FIELDS;
	if (!f)
		return 0;
	*mask = 1;   /* "name" */
	if (cJSON_GetArraySize(f) > 64) {
		tmp->len = 0;
		brm_buf_adds(tmp, "params.fields: at most 64 names");
		return -1;
	}
	cJSON_ArrayForEach(it, f) {
		int bit = cJSON_IsString(it) ? brm_snap_field_bit(it->valuestring,
								 strlen(it->valuestring)) : -1;

		if (bit < 0) {
			tmp->len = 0;
			if (!cJSON_IsString(it)) {
				brm_buf_addf(tmp, "params.fields[%d]: not a string", i);
				return -1;
			}
			brm_buf_addf(tmp, "params.fields[%d]: unknown field '%.64s'; a SNAP has", i,
				     it->valuestring);
			for (int k = 0; brm_snap_field_name(k); k++)
				brm_buf_addf(tmp, "%s %s", k ? "," : "", brm_snap_field_name(k));
			return -1;
		}
		*mask |= UINT64_C(1) << bit;
		i++;
	}
	return 0;
}

enum brm_method_result brm_m_status(struct brm_req *req, struct brm_cmd **cmd)
{
	bool stats = cJSON_IsTrue(brm_req_param(req, "stats"));
	bool ports = cJSON_IsTrue(brm_req_param(req, "ports"));
	struct brm_procstat_set set = { 0 };
	struct brm_ports_set pset = { 0 };
	struct view v = { BRM_SNAP_ALL_FIELDS, NULL, NULL };
	struct brm_targets t;
	const char **list = NULL;
	size_t n = 0;
	enum brm_method_result r;

	if (parse_fields(req, &v.fields) < 0)
		return tmp_error(req, BRM_E_INVALID_PARAMS);
	if (!stats && !ports)
		return status(req, &v);
	/* Bad targets are status()'s to report; here they just have no stats. */
	if (brm_targets_parse(req->params, BRM_TARGETS_NONE_IS_ALL, 0, &t, &req->scratch->tmp) == 0) {
		if (!t.all && !(list = target_names(req, &t, &n))) {
			brm_targets_finish(&t);
			return status(req, &v);
		}
		brm_targets_finish(&t);
	}
	if (stats) {
		brm_procstat_collect(req->ctx->reg, list, n, &set);
		v.stats = &set;
	}
	if (ports) {
		brm_ports_collect(req->ctx->reg, list, n, &pset);
		v.ports = &pset;
	}
	r = status(req, &v);
	for (size_t i = 0; list && i < n; i++)
		free((char *)list[i]);
	free(list);
	brm_procstat_set_finish(&set);
	brm_ports_set_finish(&pset);
	return r;
}

/*
 * One process asked for by its own name is the common case (and the one
 * measured against a bare round trip): one lookup, no allocation. A group,
 * a pattern or several names go through the resolver.
 */
static enum brm_method_result status(struct brm_req *req, const struct view *v)
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
			snap_out(req, brm_entry_snapshot(e), now, v);
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
		return status_all(req, v);

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
		snap_out(req, brm_entry_snapshot(items[i]), now, v);
	}
	rcu_read_unlock();
	brm_buf_adds(req->out, "]}");
	result_end(req);
	free(items);
	brm_targets_finish(&t);
	return BRM_REPLIED;
}
