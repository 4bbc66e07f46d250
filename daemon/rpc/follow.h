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
 * Context: worker threads, except brm_stream_init (before the workers).
 */
#ifndef BRM_STREAM_H
#define BRM_STREAM_H

#include <stdbool.h>
#include <stdint.h>

#include "daemon/rpc/request.h"
#include "daemon/sup/logcap.h"
#include "daemon/rpc/targets.h"
#include "lib/pattern.h"

#define BRM_STREAM_OUT_MAX (256u << 10)
#define BRM_LOGS_MAX_NAMES 64

struct brm_logs_query {
	struct brm_targets targets;   /* owned (brm_logs_query_finish) */
	unsigned lines;
	uint64_t since_seq;
	bool have_since;
	int64_t since_ms;      /* "since": lines stamped from then on; 0: all */
	unsigned streams;      /* bit 1 << BRM_LOG_* */
	struct brm_pattern *re;  /* grep, or NULL; owned (brm_logs_query_finish) */
	bool follow;
};

/*
 * Time a `logs` query may spend searching with a grep before it fails with
 * -32602 (each line's match is bounded by the pattern limits; this bounds
 * their sum over a large ring), and what one pump of a follow stream spends
 * before it lets the worker's other connections go first.
 */
#define BRM_LOGS_GREP_BUDGET_MS 500
#define BRM_STREAM_GREP_SLICE_MS 20

/* rpc/logs.c */
int brm_logs_parse(struct brm_req *req, struct brm_logs_query *q);
void brm_logs_query_finish(struct brm_logs_query *q);
/*
 * Does line @l (its @text, l->len bytes) pass @q's stream and grep filters?
 * 1 yes, 0 no, -E2BIG: the grep reached a limit on this line
 * (brm_pattern_limit(q->re) names it).
 */
int brm_logs_match(struct brm_logs_query *q, const struct brm_logline *l, const char *text);
/* Caller holds rcu_read_lock(). */
struct brm_logpub *brm_logs_find(struct brm_registry *reg, const char *name, bool *exists);

/* Hook the loop's "new lines" callback. Context: before threads start. */
void brm_stream_init(void);
/* A worker announces its eventfd. Context: the worker, at its start. */
void brm_stream_worker_init(int evfd);
/* The worker's eventfd fired: clear its wake flag before pumping. */
void brm_stream_worker_woken(void);
/*
 * For other kinds of followers (events.c): wake every worker that has
 * followers (context: loop thread, never blocks); count one more follower
 * on this worker and wake it once (returns a handle for release); count one
 * less.
 */
void brm_stream_wake_all(void);
void *brm_stream_hold(void);
void brm_stream_release(void *slot);
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
void brm_stream_follow(void **slot, struct brm_logs_query *q, char **names,
		       const uint64_t *nexts, size_t n, uint64_t changes);
/* Append what is new (up to the bound). */
void brm_stream_pump(void *stream, struct brm_registry *reg, struct brm_buf *out,
		     struct brm_buf *line);
void brm_stream_destroy(void *stream);

#endif
