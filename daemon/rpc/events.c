/*
 * events.c — the `events` method and its subscribers, on the workers
 * (events.h): the history of state and health events read from the ring
 * the loop thread writes (daemon/eventring.h, sup/events.c), and with
 * "follow" a subscriber the worker pumps (sub.c) whenever the loop wakes it.
 */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/rpc/events.h"
#include "daemon/eventring.h"
#include "daemon/rpc/sub.h"
#include "daemon/rpc/targets.h"
#include "lib/logring.h"
#include "proto/proto.h"
#include "proto/rpc.h"
#include "proto/selector.h"

#define MAX_FILTER 64

struct sub {
	struct brm_ring_sub rs;   /* first: sub.c pumps and frees it */
	char *names[MAX_FILTER];
	unsigned nnames;          /* 0: every process */
};

static void sub_finish(struct brm_ring_sub *rs)
{
	struct sub *sub = (struct sub *)rs;   /* its first member */

	for (unsigned i = 0; i < sub->nnames; i++)
		free(sub->names[i]);
}

/* Does event @name (@len bytes) pass the filter? Each filter entry is a
 * selector (proto/selector.h), judged by the name: "web" takes "web" and
 * its instances "web:0", ..., "w*" every name it matches. */
static bool wanted(const struct sub *sub, const char *name, size_t len)
{
	char buf[BRM_MAX_NAME_LEN + 1];

	if (!sub->nnames)
		return true;
	if (len > BRM_MAX_NAME_LEN)
		return false;
	memcpy(buf, name, len);
	buf[len] = '\0';
	for (unsigned i = 0; i < sub->nnames; i++)
		if (brm_selector_matches(sub->names[i], buf))
			return true;
	return false;
}

/* Is the event in @text (@len bytes, "NAME\n{JSON}") one @rs wants? */
static bool event_wanted(const struct brm_ring_sub *rs, const char *text, size_t len)
{
	const char *nl = memchr(text, '\n', len);

	return nl && wanted((const struct sub *)rs, text, (size_t)(nl - text));
}

/* The event's JSON, after its "NAME\n" (event_wanted found the newline). */
static void event_params(struct brm_buf *out, const struct brm_logline *l, const char *text)
{
	const char *json = (const char *)memchr(text, '\n', l->len) + 1;

	brm_buf_add(out, json, l->len - (size_t)(json - text));
}

static const struct brm_ring_sub_kind sub_kind = {
	.method = "events",
	.out_max = BRM_EVENTS_OUT_MAX,
	.ring = brm_eventring,
	.wanted = event_wanted,
	.params = event_params,
	.finish = sub_finish,
};

/* The events from sub->rs.next up to @next as array members (no follow). */
static void history_array(struct sub *sub, uint64_t next, struct brm_buf *out,
			  struct brm_buf *line)
{
	const struct brm_logring *ring = brm_eventring();
	bool any = false;

	brm_buf_reset(line);
	brm_buf_grow(line, brm_logring_max_line(ring) + 1);
	for (; sub->rs.next < next; sub->rs.next++) {
		struct brm_logline l;
		const char *nl;

		if (brm_logring_read(ring, sub->rs.next, &l, line->p, line->cap - 1) < 0)
			continue;   /* overwritten meanwhile */
		nl = memchr(line->p, '\n', l.len);
		if (!nl || !wanted(sub, line->p, (size_t)(nl - line->p)))
			continue;
		nl++;
		if (any)
			brm_buf_addc(out, ',');
		any = true;
		brm_buf_add(out, nl, l.len - (size_t)(nl - line->p));
	}
}

enum brm_method_result brm_m_events(struct brm_req *req, struct brm_cmd **cmd)
{
	const struct brm_logring *ring = brm_eventring();
	const cJSON *since, *history, *follow;
	struct brm_targets t;
	struct sub *sub;
	uint64_t first, next, start;
	int64_t since_n = 0, history_n = 0;

	(void)cmd;
	if (!req->events || !ring)
		return brm_req_invalid(req, "events: not available on this connection");
	since = brm_req_param(req, "since_seq");
	history = brm_req_param(req, "history");
	follow = brm_req_param(req, "follow");
	if (since && history)
		return brm_req_invalid(req, "params: give \"since_seq\" or \"history\", not both");
	/* Types and ranges are the schema's (methods.c); these read the values. */
	if (since)
		brm_rpc_int_in(since, 1, BRM_RPC_INT_MAX, &since_n);
	if (history && cJSON_IsNumber(history))
		brm_rpc_int_in(history, 0, BRM_RPC_INT_MAX, &history_n);

	if (brm_targets_parse(req->params, BRM_TARGETS_NONE_IS_ALL, MAX_FILTER, &t,
			      &req->scratch->tmp) < 0) {
		brm_rpc_error(req->out, req->id_json, BRM_E_INVALID_PARAMS, req->scratch->tmp.p,
			      NULL);
		return BRM_REPLIED;
	}
	sub = brm_xcalloc(1, sizeof(*sub));
	brm_ring_sub_init(&sub->rs, &sub_kind, 0);
	for (size_t i = 0; i < t.n; i++) {
		sub->names[sub->nnames++] = t.sel[i];
		t.sel[i] = NULL;
	}
	brm_targets_finish(&t);
	brm_logring_bounds(ring, &first, &next);
	start = next;
	if (since) {
		start = (uint64_t)since_n;
		if (start > next) {
			brm_sub_destroy(&sub->rs.base);
			return brm_req_invalid(req, "params.since_seq: %llu is beyond the newest"
					       " event (next_seq %llu); brummd may have restarted",
					       (unsigned long long)start, (unsigned long long)next);
		}
	} else if (cJSON_IsTrue(history)) {
		start = first;
	} else if (history && cJSON_IsNumber(history)) {
		uint64_t n = (uint64_t)history_n;
		start = next - first > n ? next - n : first;
	}
	sub->rs.next = start;
	brm_buf_adds(req->out, "{\"jsonrpc\":\"2.0\",\"id\":");
	brm_buf_adds(req->out, req->id_json);
	brm_buf_adds(req->out, ",\"result\":{\"first_seq\":");
	brm_json_uint(req->out, first);
	brm_buf_adds(req->out, ",\"next_seq\":");
	brm_json_uint(req->out, next);
	brm_buf_adds(req->out, ",\"from_seq\":");
	brm_json_uint(req->out, start);
	if (cJSON_IsFalse(follow)) {
		brm_buf_adds(req->out, ",\"events\":[");
		history_array(sub, next, req->out, &req->scratch->line);
		brm_buf_adds(req->out, "]}}\n");
		brm_sub_destroy(&sub->rs.base);
		return BRM_REPLIED;
	}
	brm_buf_adds(req->out, "}}\n");
	brm_ring_sub_follow(&sub->rs, req->events);
	return BRM_REPLIED;
}
