/*
 * sub.c — the one pump of the subscriptions that follow a ring (sub.h):
 * `events` (events.c) and `daemon_log` (daemon_log.c). It copies the lines
 * from where the subscriber is up to the ring's newest into the
 * connection's output as notifications, up to the kind's bound, and turns
 * lines overwritten before they were sent into one gap notice.
 */
#include <errno.h>
#include <stdlib.h>

#include "daemon/rpc/follow.h"
#include "daemon/rpc/sub.h"
#include "lib/logring.h"

static void gap_notice(struct brm_buf *out, const char *method, uint64_t missed,
		       uint64_t next)
{
	brm_buf_adds(out, "{\"jsonrpc\":\"2.0\",\"method\":\"");
	brm_buf_adds(out, method);
	brm_buf_adds(out, ".gap\",\"params\":{\"missed\":");
	brm_json_uint(out, missed);
	brm_buf_adds(out, ",\"next_seq\":");
	brm_json_uint(out, next);
	brm_buf_adds(out, "}}\n");
}

static void ring_sub_pump(struct brm_sub *base, struct brm_buf *out, struct brm_buf *line)
{
	struct brm_ring_sub *s = (struct brm_ring_sub *)base;   /* its first member */
	const struct brm_ring_sub_kind *kind = s->kind;
	const struct brm_logring *ring = kind->ring();
	uint64_t first, next;

	if (!ring)
		return;
	brm_logring_bounds(ring, &first, &next);
	brm_buf_reset(line);
	brm_buf_grow(line, brm_logring_max_line(ring) + 1);
	while (s->next < next && out->len < kind->out_max) {
		struct brm_logline l;
		int r = brm_logring_read(ring, s->next, &l, line->p, line->cap - 1);

		if (r == -ENOENT) {
			uint64_t to = brm_logring_resume(ring, s->next);

			gap_notice(out, kind->method, to - s->next, to);
			s->next = to;
			continue;
		}
		if (r < 0)
			break;
		s->next++;
		if (kind->wanted && !kind->wanted(s, line->p, l.len))
			continue;
		brm_buf_adds(out, "{\"jsonrpc\":\"2.0\",\"method\":\"");
		brm_buf_adds(out, kind->method);
		brm_buf_adds(out, "\",\"params\":");
		kind->params(out, &l, line->p);
		brm_buf_adds(out, "}\n");
	}
}

static void ring_sub_destroy(struct brm_sub *base)
{
	struct brm_ring_sub *s = (struct brm_ring_sub *)base;   /* its first member */

	if (!s)
		return;
	brm_stream_release(s->slot);
	if (s->kind->finish)
		s->kind->finish(s);
	free(s);
}

static const struct brm_sub_ops ring_sub_ops = {
	.pump = ring_sub_pump,
	.destroy = ring_sub_destroy,
};

void brm_ring_sub_init(struct brm_ring_sub *s, const struct brm_ring_sub_kind *kind,
		       uint64_t next)
{
	s->base.ops = &ring_sub_ops;
	s->kind = kind;
	s->next = next;
	s->slot = NULL;
}

void brm_ring_sub_follow(struct brm_ring_sub *s, struct brm_sub **slot)
{
	brm_sub_destroy(*slot);
	s->slot = brm_stream_hold();
	*slot = &s->base;
}
