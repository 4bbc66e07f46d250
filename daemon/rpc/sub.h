/*
 * sub.h — a connection's subscription: what a worker pumps into the
 * connection's output when its wake slot (rpc/follow.h) fires. One slot per
 * connection holds one of them: an `events` subscriber (events.c) or a
 * `daemon_log` follower (daemon_log.c); a new subscription on the same
 * connection replaces the old one.
 *
 * Every subscription starts with a struct brm_sub, whose ops say how to
 * pump and free it, so the server needs to know no kind of them.
 *
 * Both kinds follow a lib/logring.h ring in the same way, so they share
 * one pump (sub.c): a struct brm_ring_sub, whose kind says which ring,
 * which lines and how a line reads; a follower that fell behind the ring
 * gets a METHOD.gap notice with the number of lines missed.
 * Context: the worker that owns the connection.
 */
#ifndef BRM_SUB_H
#define BRM_SUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

struct brm_sub;

struct brm_sub_ops {
	/* Append what is new to @out as notifications, up to the kind's bound;
	 * @line is the worker's scratch buffer. */
	void (*pump)(struct brm_sub *sub, struct brm_buf *out, struct brm_buf *line);
	void (*destroy)(struct brm_sub *sub);
};

struct brm_sub {
	const struct brm_sub_ops *ops;
};

/* Both do nothing for NULL. */
static inline void brm_sub_pump(struct brm_sub *sub, struct brm_buf *out, struct brm_buf *line)
{
	if (sub)
		sub->ops->pump(sub, out, line);
}

static inline void brm_sub_destroy(struct brm_sub *sub)
{
	if (sub)
		sub->ops->destroy(sub);
}

/* ---- a subscription that follows a ring (sub.c) ---- */

struct brm_logring;
struct brm_logline;
struct brm_wake_slot;   /* rpc/follow.h */
struct brm_ring_sub;

/* What makes one kind of ring follower. */
struct brm_ring_sub_kind {
	/* The notifications' method; a gap notice's is METHOD.gap. */
	const char *method;
	/* A pump stops once the output holds this many bytes. */
	size_t out_max;
	/* The ring; NULL: there is none, nothing to pump. */
	const struct brm_logring *(*ring)(void);
	/* Is the line @text (@len bytes) sent? NULL: every line. */
	bool (*wanted)(const struct brm_ring_sub *s, const char *text, size_t len);
	/* Append line @l (its @text) as a notification's params. */
	void (*params)(struct brm_buf *out, const struct brm_logline *l, const char *text);
	/* Free what the kind keeps after the struct brm_ring_sub; NULL: nothing. */
	void (*finish)(struct brm_ring_sub *s);
};

struct brm_ring_sub {
	struct brm_sub base;   /* first: the connection's slot holds a struct brm_sub */
	const struct brm_ring_sub_kind *kind;
	uint64_t next;         /* the next line to send */
	struct brm_wake_slot *slot;   /* while following (rpc/follow.c) */
};

/*
 * Make @s (allocated zeroed with malloc by the caller, maybe as the first
 * member of something larger) a subscription of @kind from line @next.
 * brm_sub_destroy() calls kind->finish and frees it.
 */
void brm_ring_sub_init(struct brm_ring_sub *s, const struct brm_ring_sub_kind *kind,
		       uint64_t next);
/*
 * Put @s into the connection's subscription slot @slot (destroying the one
 * there) and count it as a follower of this worker, woken by new lines.
 */
void brm_ring_sub_follow(struct brm_ring_sub *s, struct brm_sub **slot);

#endif
