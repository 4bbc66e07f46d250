/*
 * reqstats.h — brummd's own counters for its metrics (rpc/metrics.h):
 * requests by method and outcome, counted where they are answered.
 *
 * The label set is bounded by the method table: a method brummd does not
 * know counts as "other", so a client cannot grow the series. A request is
 * an "error" when its reply is a JSON-RPC error (also one from the loop
 * thread: no such process, wrong state), else "ok"; a notification counts
 * like the request it would have been. A line that is no request at all
 * (bad JSON, no method) counts as method "other", outcome "error".
 *
 * Context: any thread; relaxed atomic increments, a few nanoseconds each.
 */
#ifndef BRM_RPC_REQSTATS_H
#define BRM_RPC_REQSTATS_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"

struct brm_ctx;
struct brm_method;

/*
 * Count one request of @m (NULL: "other") whose reply is @reply[0..len)
 * for id @id_json ("null" for none). A reply that starts
 * {"jsonrpc":"2.0","id":ID,"error" counts as an error.
 */
void brm_reqstats_count(const struct brm_method *m, const char *id_json, const char *reply,
			size_t len);
/* Count one request of @m (NULL: "other") with the outcome @error. */
void brm_reqstats_add(const struct brm_method *m, bool error);

/* Append brummd_requests_total (every method, both outcomes; zeros too)
 * and brummd_clients (from @ctx->nclients, when set) to @b. */
void brm_reqstats_render(struct brm_buf *b, const struct brm_ctx *ctx);

/* Tests: the count of @method ("other" too) with @error. */
unsigned long long brm_reqstats_get(const char *method, bool error);

#endif
