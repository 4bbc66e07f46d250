/*
 * spawnstat.h — how long the loop thread is busy starting a child (one
 * brm_spawn(), the clone and hand-off up to its pid, not the exec), as a
 * Prometheus histogram for the metrics (rpc/metrics.h).
 *
 * The loop thread records (relaxed atomic increments, no lock); any reader
 * renders. Buckets are kept one per range, and the cumulative counts and
 * _count are derived from one load of each, so they always agree; _sum is
 * loaded apart and may be one spawn ahead of or behind them.
 *
 * Why here, in daemon/ and not in sup/ or rpc/: the loop thread writes it
 * and the readers' renderer reads it, and rpc/ includes nothing of sup/.
 */
#ifndef BRM_SPAWNSTAT_H
#define BRM_SPAWNSTAT_H

#include <stdint.h>

#include "lib/buf.h"

/* One spawn that kept the caller @ns nanoseconds. Context: the loop thread. */
void brm_spawnstat_record(uint64_t ns);

/* Append the family brummd_spawn_duration_seconds. Context: any thread. */
void brm_spawnstat_render(struct brm_buf *b);

#endif
