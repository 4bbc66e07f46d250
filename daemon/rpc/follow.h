/*
 * follow.h — `logs` with "follow": true. A follower belongs to one
 * connection on one worker. When the loop thread adds lines it wakes every
 * worker that has followers through that worker's eventfd, at most once
 * until the worker has looked (a flag swapped atomically: the loop never
 * blocks and writes no more than once per worker per batch). The worker
 * then copies new lines from the rings into the connection's output
 * buffer as notifications, up to BRM_STREAM_OUT_MAX queued bytes; a client
 * that does not read simply falls behind in the ring, and once its next
 * line was overwritten it gets a `logs.gap` notice with the count missed.
 * Closing the connection frees the follower.
 *
 * Context: worker threads, except brm_stream_init and brm_stream_workers
 * (before the workers) and brm_stream_workers_done (after them).
 */
#ifndef BRM_STREAM_H
#define BRM_STREAM_H

#include <stdbool.h>
#include <stdint.h>

#include "daemon/rpc/logquery.h"
#include "lib/buf.h"

#define BRM_STREAM_OUT_MAX (256u << 10)

struct brm_stream;      /* one connection's log follower */
struct brm_wake_slot;   /* one worker's wake-up: its eventfd, its followers */

/* Hook the loop's "new lines" callback. Context: before threads start. */
void brm_stream_init(void);
/*
 * Make a wake slot for each of the server's @n workers (brm_server_adopt),
 * as many as there are: the loop wakes every one that has followers.
 * Context: loop thread, before the workers start.
 */
void brm_stream_workers(int n);
/* Free the slots. Context: loop thread, once the workers are joined. */
void brm_stream_workers_done(void);
/* A worker takes its wake slot and announces its eventfd.
 * Context: the worker, at its start. */
void brm_stream_worker_init(int evfd);
/* The worker's eventfd fired: clear its wake flag before pumping. */
void brm_stream_worker_woken(void);
/*
 * For other kinds of followers (sub.h's ring subscriptions, which
 * sup/events.c wakes): wake every worker that has followers (context: loop
 * thread, never blocks); count one more follower on this worker and wake
 * it once (returns a handle for release); count one less.
 */
void brm_stream_wake_all(void);
struct brm_wake_slot *brm_stream_hold(void);
void brm_stream_release(struct brm_wake_slot *slot);
/* Does this worker have followers? */
bool brm_stream_worker_busy(void);

/*
 * Start following on the connection whose stream slot is @slot (replacing
 * an earlier follow): the @n processes @names (taken; NULL-terminated)
 * from @nexts[i] each. Takes the grep pattern and the targets from @q
 * (q->re and q->targets become empty). With all, a group or a pattern
 * among the targets, the stream looks again whenever the registry's
 * changes count (brm_registry_changes) moves past @changes: a process the
 * targets take that it does not follow yet is followed from its oldest
 * line held, one that is gone is dropped.
 */
void brm_stream_follow(struct brm_stream **slot, struct brm_logs_query *q, char **names,
		       const uint64_t *nexts, size_t n, uint64_t changes);
/* Append what is new (up to the bound). */
void brm_stream_pump(struct brm_stream *st, struct brm_registry *reg, struct brm_buf *out,
		     struct brm_buf *line);
void brm_stream_destroy(struct brm_stream *st);

#endif
