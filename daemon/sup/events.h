/*
 * events.h — the `events` method: every state change of every process,
 * and every probe verdict that changes its health, as a numbered event,
 * kept in a bounded history and streamed to subscribers.
 *
 * The loop thread is the only writer: an observer of the supervisor's
 * publishes turns each change of state or health into one event (kind
 * "state" or "health"; the reason names the cause the request carried,
 * brm_proc_cause), appends it to a
 * byte ring (lib/logring.c, the same seqlock ring the logs use) and wakes
 * the workers that have subscribers (rpc/follow.c's wake slots). A subscriber
 * belongs to one connection on one worker, which copies new events into the
 * connection's output buffer up to BRM_EVENTS_OUT_MAX queued bytes; one that
 * does not read falls behind in the ring and, once its next event was
 * overwritten, gets an `events.gap` notice with the number missed.
 */
#ifndef BRM_EVENTS_H
#define BRM_EVENTS_H

#include <stddef.h>

#include "daemon/rpc/request.h"
#include "daemon/sup/supervise.h"

#define BRM_EVENTS_OUT_MAX (64u << 10)
/* Bytes of probe output a health event carries (then "..."). */
#define BRM_EVENT_OUTPUT_MAX 200

/*
 * Create the history ring (@bytes; 0: the default, or
 * $BRUMMD_EVENT_HISTORY_KIB) and observe @sup.
 * Context: loop thread, before the workers start.
 */
void brm_events_init(struct brm_supervisor *sup, size_t bytes);
/* Stop observing and free the ring. Context: loop thread, after the workers
 * have stopped. */
void brm_events_shutdown(struct brm_supervisor *sup);

/* The `events` method. Context: worker. */
enum brm_method_result brm_m_events(struct brm_req *req, struct brm_cmd **cmd);

#endif
