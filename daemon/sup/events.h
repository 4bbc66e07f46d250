/*
 * events.h — every state change of every process, and every probe verdict
 * that changes its health, as a numbered event in a bounded history, the
 * ring that the `events` method (rpc/events.h) reads and streams.
 *
 * The loop thread is the only writer: an observer of the supervisor's
 * publishes turns each change of state or health into one event (kind
 * "state" or "health"; the reason names the cause the request carried,
 * brm_proc_cause), appends it to the event ring (daemon/eventring.h, a
 * lib/logring.h seqlock ring as the logs use) and wakes the workers that
 * have subscribers (rpc/follow.c's wake slots).
 */
#ifndef BRM_EVENTS_H
#define BRM_EVENTS_H

#include <stddef.h>

#include "daemon/sup/supervise.h"

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

#endif
