/*
 * logs.c — `logs`, `errors` and `logs_reopen` (proto/PROTOCOL.md).
 *
 * `logs` walks each ring backwards from its newest line under
 * rcu_read_lock(), copying lines out (the ring's validation drops any line
 * overwritten meanwhile), filters by stream and regex, and merges the
 * processes by timestamp. Nothing here can block the loop thread.
 *
 * A grep comes from any reader, so its cost is bounded (lib/pattern.h):
 * each line's match by the pattern limits, and a whole query by
 * BRM_LOGS_GREP_BUDGET_MS. A query whose grep reaches either fails with
 * -32602 naming the limit rather than answering with lines silently missing.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/logpub.h"
#include "daemon/rpc/logs.h"
#include "daemon/rpc/follow.h"
#include "daemon/rpc/logquery.h"
#include "daemon/rpc/targets.h"
#include "lib/pattern.h"
#include "lib/registry.h"
#include "lib/util.h"
#include "proto/proto.h"
#include "proto/rpc.h"

#define MAX_NAMES 64

/* A line chosen for the reply: process @who's line @seq. */
struct pick {
	int64_t ts;
	uint64_t seq;
	unsigned who;
};

/* Older first: by time, then process, then seq (the merge order). */
static int cmp_pick(const void *a, const void *b)
{
	const struct pick *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	if (x->who != y->who)
		return x->who < y->who ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * The newest @cap picks so far, as a min-heap on cmp_pick (the oldest at
 * the top): a query over every process keeps `lines` picks, not `lines`
 * per process, so its memory does not grow with the number of processes.
 */
struct newest {
	struct pick *v;
	size_t n, cap;
};

static void heap_down(struct newest *h, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		struct pick t;

		if (l < h->n && cmp_pick(&h->v[l], &h->v[m]) < 0)
			m = l;
		if (r < h->n && cmp_pick(&h->v[r], &h->v[m]) < 0)
			m = r;
		if (m == i)
			return;
		t = h->v[i];
		h->v[i] = h->v[m];
		h->v[m] = t;
		i = m;
	}
}

/* Would @p be kept (it is newer than the oldest kept, or there is room)? */
static bool newest_wants(const struct newest *h, const struct pick *p)
{
	return h->cap && (h->n < h->cap || cmp_pick(p, &h->v[0]) > 0);
}

static void newest_add(struct newest *h, const struct pick *p)
{
	size_t i;

	if (h->n == h->cap) {
		h->v[0] = *p;
		heap_down(h, 0);
		return;
	}
	i = h->n++;
	h->v[i] = *p;
	while (i && cmp_pick(&h->v[i], &h->v[(i - 1) / 2]) < 0) {
		struct pick t = h->v[i];

		h->v[i] = h->v[(i - 1) / 2];
		h->v[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
}

/*
 * The processes named (targets.h; none: all), each ring read backwards
 * from its newest line, the lines merged by time. With follow, the stream
 * takes the names resolved here and, for all, a group or a pattern, picks
 * up processes that appear later (rpc/follow.c).
 */
enum brm_method_result brm_m_logs(struct brm_req *req, struct brm_cmd **cmd)
{
	struct brm_logs_query q;
	struct brm_buf *line = &req->scratch->line;
	struct brm_target_src src;
	struct newest picks = { NULL, 0, 0 };
	size_t searched = 0, n = 0, shown = 0;
	uint64_t *nexts = NULL, t0 = brm_now_mono_ns(), changes;
	struct brm_logpub **pubs = NULL;
	char **names = NULL;
	void **items = NULL;

	(void)cmd;
	if (brm_logs_parse(req, &q) < 0)
		return BRM_REPLIED;
	picks.cap = q.lines;
	picks.v = brm_xcalloc(q.lines ? q.lines : 1, sizeof(*picks.v));
	brm_targets_registry_src(&src, req->ctx->reg);
	rcu_read_lock();
	/* Read first: a process added from here on is picked up by the stream. */
	changes = brm_registry_changes(req->ctx->reg);
	if (brm_targets_resolve(&q.targets, &src, &items, &n, &req->scratch->tmp) < 0) {
		rcu_read_unlock();
		brm_rpc_error(req->out, req->id_json, BRM_E_NO_PROCESS, req->scratch->tmp.p, NULL);
		goto out;
	}
	nexts = brm_xcalloc(n ? n : 1, sizeof(*nexts));
	pubs = brm_xcalloc(n ? n : 1, sizeof(*pubs));
	names = brm_xcalloc(n + 1, sizeof(*names));
	for (size_t i = 0; i < n; i++) {
		struct brm_reg_entry *e = items[i];
		struct brm_logpub *pub = brm_rcu_deref(e->logs);
		uint64_t first = 1, next = 1;

		names[i] = brm_xstrdup(e->name);
		pubs[i] = pub;
		nexts[i] = 1;
		if (!pub)
			continue;
		brm_logring_bounds(pub->ring, &first, &next);
		nexts[i] = next;
		brm_buf_reset(line);
		brm_buf_grow(line, brm_logring_max_line(pub->ring) + 1);
		for (uint64_t s = next; s-- > first;) {
			struct brm_logline l;
			struct pick pk;
			int m;

			if (q.have_since && s < q.since_seq)
				break;
			if (brm_logring_read(pub->ring, s, &l, line->p, line->cap - 1) < 0)
				break;   /* gone: older ones are gone too */
			if (l.ts_ms < q.since_ms)
				break;   /* older than "since": so are the ones before it */
			pk.ts = l.ts_ms;
			pk.seq = l.seq;
			pk.who = (unsigned)i;
			if (!newest_wants(&picks, &pk))
				break;   /* older than every line kept: so are the ones before */
			m = brm_logs_match(&q, &l, line->p);
			if (m < 0) {
				rcu_read_unlock();
				brm_req_invalid(req, "params.grep: the pattern reached %s at '%s'"
					        " seq %llu; simplify it", brm_pattern_limit(q.re),
					        names[i], (unsigned long long)s);
				goto out;
			}
			if (q.re && ++searched % 16 == 0 &&
			    brm_now_mono_ns() - t0 > BRM_LOGS_GREP_BUDGET_MS * 1000000ull) {
				rcu_read_unlock();
				brm_req_invalid(req, "params.grep: searching took longer than %d ms"
					        " (%zu lines); simplify the pattern or narrow the"
					        " search with since_seq", BRM_LOGS_GREP_BUDGET_MS,
					        searched);
				goto out;
			}
			if (m)
				newest_add(&picks, &pk);
		}
	}
	/* Oldest first; each line read again (one overwritten meanwhile is left out). */
	qsort(picks.v, picks.n, sizeof(*picks.v), cmp_pick);
	brm_buf_adds(req->out, "{\"jsonrpc\":\"2.0\",\"id\":");
	brm_buf_adds(req->out, req->id_json);
	brm_buf_adds(req->out, ",\"result\":{\"lines\":[");
	for (size_t k = 0; k < picks.n; k++) {
		const struct pick *pk = &picks.v[k];
		const struct brm_logring *ring = pubs[pk->who]->ring;
		struct brm_logline l;

		brm_buf_reset(line);
		brm_buf_grow(line, brm_logring_max_line(ring) + 1);
		if (brm_logring_read(ring, pk->seq, &l, line->p, line->cap - 1) < 0)
			continue;
		if (shown++)
			brm_buf_addc(req->out, ',');
		brm_logline_json(req->out, names[pk->who], &l, line->p);
	}
	rcu_read_unlock();
	brm_buf_adds(req->out, "],\"next_seq\":{");
	for (size_t i = 0; i < n; i++) {
		if (i)
			brm_buf_addc(req->out, ',');
		brm_json_key(req->out, names[i]);
		brm_json_uint(req->out, nexts[i]);
	}
	brm_buf_adds(req->out, "}");
	if (q.follow)
		brm_buf_adds(req->out, ",\"follow\":true");
	brm_buf_adds(req->out, "}}\n");
	if (q.follow && req->stream) {
		brm_stream_follow(req->stream, &q, names, nexts, n, changes);
		names = NULL;
	}
out:
	brm_strv_free(names);
	free(nexts);
	free(pubs);
	free(items);
	brm_logs_query_finish(&q);
	free(picks.v);
	return BRM_REPLIED;
}

/* The error blocks of @e as members of the "errors" array. */
static void errors_of(struct brm_req *req, struct brm_reg_entry *e, bool *first)
{
	struct brm_logpub *pub = brm_rcu_deref(e->logs);
	struct brm_errset *set;

	if (!pub || !(set = brm_rcu_deref(pub->errs)))
		return;
	for (uint32_t i = 0; i < set->n; i++) {
		const struct brm_logerr *r = set->recs[i];

		if (!*first)
			brm_buf_addc(req->out, ',');
		*first = false;
		brm_buf_adds(req->out, "{\"name\":");
		brm_json_str(req->out, e->name);
		brm_buf_adds(req->out, ",\"seq\":");
		brm_json_uint(req->out, r->seq);
		brm_buf_addf(req->out, ",\"ts\":%lld.%03lld,\"stream\":\"%s\",\"lines\":%u,"
			     "\"open\":%s,\"text\":", (long long)(r->ts_ms / 1000),
			     (long long)(r->ts_ms % 1000), brm_log_stream_name(r->stream),
			     r->nlines, r->open ? "true" : "false");
		brm_json_strn(req->out, r->text, r->len);
		brm_buf_addc(req->out, '}');
	}
}

/* Processes by name (targets.h: names, groups, patterns; none: all), each
 * one's blocks oldest first, the processes in the order resolved. */
enum brm_method_result brm_m_errors(struct brm_req *req, struct brm_cmd **cmd)
{
	struct brm_target_src src;
	struct brm_targets t;
	void **items;
	size_t n;
	bool first = true;

	(void)cmd;
	if (brm_targets_parse(req->params, BRM_TARGETS_NONE_IS_ALL, MAX_NAMES, &t,
			      &req->scratch->tmp) < 0) {
		brm_rpc_error(req->out, req->id_json, BRM_E_INVALID_PARAMS, req->scratch->tmp.p,
			      NULL);
		return BRM_REPLIED;
	}
	brm_targets_registry_src(&src, req->ctx->reg);
	rcu_read_lock();
	if (brm_targets_resolve(&t, &src, &items, &n, &req->scratch->tmp) < 0) {
		rcu_read_unlock();
		brm_targets_finish(&t);
		brm_rpc_error(req->out, req->id_json, BRM_E_NO_PROCESS, req->scratch->tmp.p, NULL);
		return BRM_REPLIED;
	}
	brm_buf_adds(req->out, "{\"jsonrpc\":\"2.0\",\"id\":");
	brm_buf_adds(req->out, req->id_json);
	brm_buf_adds(req->out, ",\"result\":{\"errors\":[");
	for (size_t i = 0; i < n; i++)
		errors_of(req, items[i], &first);
	rcu_read_unlock();
	brm_buf_adds(req->out, "]}}\n");
	free(items);
	brm_targets_finish(&t);
	return BRM_REPLIED;
}

enum brm_method_result brm_m_logs_reopen(struct brm_req *req, struct brm_cmd **cmd)
{
	(void)cmd;
	brm_logfile_reopen_all();
	brm_buf_adds(req->out, "{\"jsonrpc\":\"2.0\",\"id\":");
	brm_buf_adds(req->out, req->id_json);
	brm_buf_adds(req->out, ",\"result\":{\"reopen\":true}}\n");
	return BRM_REPLIED;
}
