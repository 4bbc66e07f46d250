/*
 * logquery.h — a `logs` query's parameters, parsed once on the worker
 * and used by the one-shot reply (logs.c) and the follow stream
 * (follow.c), with the line filter and the line object both use.
 * Context: worker threads (registered RCU readers).
 */
#ifndef BRM_LOGQUERY_H
#define BRM_LOGQUERY_H

#include <stdbool.h>
#include <stdint.h>

#include "daemon/rpc/request.h"
#include "daemon/rpc/targets.h"
#include "daemon/logpub.h"
#include "lib/logring.h"
#include "lib/pattern.h"

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

/* One line as the protocol's line object, appended to @out. */
void brm_logline_json(struct brm_buf *out, const char *name, const struct brm_logline *l,
		      const char *text);
const char *brm_log_stream_name(int stream);

#endif
