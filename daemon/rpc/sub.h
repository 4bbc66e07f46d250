/*
 * sub.h — a connection's subscription: what a worker pumps into the
 * connection's output when its wake slot (rpc/follow.h) fires. One slot per
 * connection holds one of them: an `events` subscriber (events.c) or a
 * `daemon_log` follower (daemon_log.c); a new subscription on the same
 * connection replaces the old one.
 *
 * Every subscription starts with a struct brm_sub, whose ops say how to
 * pump and free it, so the server needs to know no kind of them.
 * Context: the worker that owns the connection.
 */
#ifndef BRM_SUB_H
#define BRM_SUB_H

#include <stddef.h>

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

#endif
