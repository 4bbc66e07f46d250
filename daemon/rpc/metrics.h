/*
 * metrics.h — brummd's state in the Prometheus text exposition format
 * 0.0.4, rendered from the registry's snapshots: the one renderer behind
 * the `metrics` method (`brummctl metrics`) and GET /metrics of
 * metrics_listen (rpc/httpm.h).
 *
 * Context: a registered RCU reader (a worker, the HTTP thread), outside any
 * read-side section: it reads /proc (CPU and memory, procstat.h) before it
 * takes the read lock for the snapshots. The loop thread is not involved.
 */
#ifndef BRM_RPC_METRICS_H
#define BRM_RPC_METRICS_H

#include <stdbool.h>

#include "daemon/rpc/request.h"
#include "lib/buf.h"

/* The content type of what brm_metrics_render writes. */
#define BRM_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/*
 * Append the whole exposition to @out: brummd's own families, then one
 * block per family with a sample per process, processes sorted by name.
 * A figure a snapshot does not have (no pid, no health check) is left out
 * rather than made up. With @stats, each process's CPU and memory are read
 * from /proc first: two small reads per process (about 20 us), which at
 * 1000 processes is most of the cost; without, those two families have no
 * samples. Allocates per call (a row per process).
 */
void brm_metrics_render(const struct brm_ctx *ctx, struct brm_buf *out, bool stats);

#endif
