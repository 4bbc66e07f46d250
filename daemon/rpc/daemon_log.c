/*
 * daemon_log.c — `daemon_log` (proto/PROTOCOL.md): the last lines of
 * brummd's own log from daemon/log.c's ring, filtered by time, newest last;
 * with "follow" the connection's subscription slot (sub.h) gets a follower
 * that the worker pumps (sub.c) whenever a line is written (log.c calls
 * rpc/follow.c's wake-up after each kept line).
 *
 * A line's level is the ring line's `stream` byte (log.h).
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/rpc/daemon_log.h"
#include "daemon/log.h"
#include "daemon/rpc/sub.h"
#include "lib/logring.h"
#include "proto/proto.h"
#include "proto/rpc.h"

#define DEFAULT_LINES 100

/* One kept line as the protocol's object. */
static void line_json(struct brm_buf *out, const struct brm_logline *l, const char *text)
{
	const char *level = brm_log_level_name(l->stream);

	brm_buf_adds(out, "{\"seq\":");
	brm_json_uint(out, l->seq);
	brm_buf_addf(out, ",\"ts\":%lld.%03lld,\"level\":\"%s\",\"line\":",
		     (long long)(l->ts_ms / 1000), (long long)(l->ts_ms % 1000),
		     level ? level : "info");
	brm_json_strn(out, text, l->len);
	if (l->flags & BRM_LOGLINE_CUT)
		brm_buf_adds(out, ",\"cut\":true");
	brm_buf_addc(out, '}');
}

/* Kept lines as `daemon_log` notifications (sub.h). */
static const struct brm_ring_sub_kind follower_kind = {
	.method = "daemon_log",
	.out_max = BRM_DAEMON_LOG_OUT_MAX,
	.ring = brm_log_ring,
	.params = line_json,
};

enum brm_method_result brm_m_daemon_log(struct brm_req *req, struct brm_cmd **cmd)
{
	const struct brm_logring *ring = brm_log_ring();
	struct brm_buf *line = &req->scratch->line;
	const cJSON *v;
	unsigned lines = DEFAULT_LINES;
	int64_t since_ms = 0;
	bool follow = false;
	uint64_t first = 1, next = 1, from;
	bool any = false;

	(void)cmd;
	/* Types and ranges are the schema's (methods.c): 1e300 never reaches a cast. */
	if ((v = brm_req_param(req, "lines")))
		lines = (unsigned)v->valuedouble;
	if ((v = brm_req_param(req, "since")))
		since_ms = (int64_t)ceil(v->valuedouble * 1000.0 - 0.5);
	if ((v = brm_req_param(req, "follow")))
		follow = cJSON_IsTrue(v);
	if (follow && !req->events)
		return brm_req_invalid(req, "params.follow: not available on this connection");
	if (ring)
		brm_logring_bounds(ring, &first, &next);
	/* Walk back from the newest line to the oldest one wanted. */
	from = next;
	if (ring) {
		struct brm_logline l;

		brm_buf_reset(line);
		brm_buf_grow(line, brm_logring_max_line(ring) + 1);
		while (from > first && next - from < lines) {
			int r = brm_logring_read(ring, from - 1, &l, line->p, line->cap - 1);

			if (r < 0 || l.ts_ms < since_ms)
				break;   /* gone (older ones are too), or too old */
			from--;
		}
	}
	brm_buf_adds(req->out, "{\"jsonrpc\":\"2.0\",\"id\":");
	brm_buf_adds(req->out, req->id_json);
	brm_buf_adds(req->out, ",\"result\":{\"lines\":[");
	for (uint64_t s = from; ring && s < next; s++) {
		struct brm_logline l;

		/* Overwritten since the walk: left out (a follower gets a gap). */
		if (brm_logring_read(ring, s, &l, line->p, line->cap - 1) < 0)
			continue;
		if (any)
			brm_buf_addc(req->out, ',');
		any = true;
		line_json(req->out, &l, line->p);
	}
	brm_buf_adds(req->out, "],\"next_seq\":");
	brm_json_uint(req->out, next);
	if (follow)
		brm_buf_adds(req->out, ",\"follow\":true");
	brm_buf_adds(req->out, "}}\n");
	if (follow) {
		struct brm_ring_sub *f = brm_xcalloc(1, sizeof(*f));

		brm_ring_sub_init(f, &follower_kind, next);
		brm_ring_sub_follow(f, req->events);
	}
	return BRM_REPLIED;
}
