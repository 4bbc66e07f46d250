/*
 * events.c — the `events` method and its subscribers, on the workers
 * (events.h): the history of state and health events read from the ring
 * the loop thread writes (daemon/eventring.h, sup/events.c), and with
 * "follow" a subscriber the worker pumps whenever the loop wakes it.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/rpc/events.h"
#include "daemon/eventring.h"
#include "daemon/rpc/follow.h"
#include "daemon/rpc/sub.h"
#include "daemon/rpc/targets.h"
#include "lib/logring.h"
#include "proto/proto.h"
#include "proto/rpc.h"
#include "proto/selector.h"

#define MAX_FILTER 64

struct sub {
	struct brm_sub base;  /* first: the connection's slot holds a struct brm_sub */
	uint64_t next;
	char *names[MAX_FILTER];
	unsigned nnames;      /* 0: every process */
	struct brm_wake_slot *slot;   /* rpc/follow.c */
};

static void events_sub_destroy(struct brm_sub *base)
{
	struct sub *sub = (struct sub *)base;   /* its first member */

	if (!sub)
		return;
	brm_stream_release(sub->slot);
	for (unsigned i = 0; i < sub->nnames; i++)
		free(sub->names[i]);
	free(sub);
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

static void gap_notice(struct brm_buf *out, uint64_t missed, uint64_t next)
{
	brm_buf_adds(out, "{\"jsonrpc\":\"2.0\",\"method\":\"events.gap\",\"params\":{\"missed\":");
	brm_json_uint(out, missed);
	brm_buf_adds(out, ",\"next_seq\":");
	brm_json_uint(out, next);
	brm_buf_adds(out, "}}\n");
}

static void events_pump(struct brm_sub *base, struct brm_buf *out, struct brm_buf *line)
{
	struct sub *sub = (struct sub *)base;   /* its first member */
	uint64_t first, next;

	if (!brm_eventring())
		return;
	brm_logring_bounds(brm_eventring(), &first, &next);
	brm_buf_reset(line);
	brm_buf_grow(line, brm_logring_max_line(brm_eventring()) + 1);
	while (sub->next < next && out->len < BRM_EVENTS_OUT_MAX) {
		struct brm_logline l;
		int r = brm_logring_read(brm_eventring(), sub->next, &l, line->p, line->cap - 1);
		const char *nl;

		if (r == -ENOENT) {
			uint64_t to = brm_logring_resume(brm_eventring(), sub->next);

			gap_notice(out, to - sub->next, to);
			sub->next = to;
			continue;
		}
		if (r < 0)
			break;
		sub->next++;
		nl = memchr(line->p, '\n', l.len);
		if (!nl || !wanted(sub, line->p, (size_t)(nl - line->p)))
			continue;
		nl++;
		brm_buf_adds(out, "{\"jsonrpc\":\"2.0\",\"method\":\"events\",\"params\":");
		brm_buf_add(out, nl, l.len - (size_t)(nl - line->p));
		brm_buf_adds(out, "}\n");
	}
}

/* The events from sub->next up to @next as array members (no follow). */
static void history_array(struct sub *sub, uint64_t next, struct brm_buf *out,
			  struct brm_buf *line)
{
	bool any = false;

	brm_buf_reset(line);
	brm_buf_grow(line, brm_logring_max_line(brm_eventring()) + 1);
	for (; sub->next < next; sub->next++) {
		struct brm_logline l;
		const char *nl;

		if (brm_logring_read(brm_eventring(), sub->next, &l, line->p, line->cap - 1) < 0)
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


static const struct brm_sub_ops sub_ops = {
	.pump = events_pump,
	.destroy = events_sub_destroy,
};

enum brm_method_result brm_m_events(struct brm_req *req, struct brm_cmd **cmd)
{
	const cJSON *since, *history, *follow;
	struct brm_targets t;
	struct sub *sub;
	uint64_t first, next, start;
	int64_t since_n = 0, history_n = 0;

	(void)cmd;
	if (!req->events || !brm_eventring())
		return brm_req_invalid(req, "events: not available on this connection");
	since = req->params ? cJSON_GetObjectItemCaseSensitive(req->params, "since_seq") : NULL;
	history = req->params ? cJSON_GetObjectItemCaseSensitive(req->params, "history") : NULL;
	follow = req->params ? cJSON_GetObjectItemCaseSensitive(req->params, "follow") : NULL;
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
	sub->base.ops = &sub_ops;
	for (size_t i = 0; i < t.n; i++) {
		sub->names[sub->nnames++] = t.sel[i];
		t.sel[i] = NULL;
	}
	brm_targets_finish(&t);
	brm_logring_bounds(brm_eventring(), &first, &next);
	start = next;
	if (since) {
		start = (uint64_t)since_n;
		if (start > next) {
			events_sub_destroy(&sub->base);
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
	sub->next = start;
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
		events_sub_destroy(&sub->base);
		return BRM_REPLIED;
	}
	brm_buf_adds(req->out, "}}\n");
	brm_sub_destroy(*req->events);
	sub->slot = brm_stream_hold();
	*req->events = &sub->base;
	return BRM_REPLIED;
}
