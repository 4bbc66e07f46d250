/*
 * events.h — the `events` method (proto/PROTOCOL.md) on the workers: the
 * history of state and health events from the ring the loop thread writes
 * (daemon/eventring.h, sup/events.h), and with "follow" a subscriber in
 * the connection's subscription slot (sub.h). A subscriber belongs to one
 * connection on one worker, which copies new events into the connection's
 * output buffer up to BRM_EVENTS_OUT_MAX queued bytes; one that does not
 * read falls behind in the ring and, once its next event was overwritten,
 * gets an `events.gap` notice with the number missed.
 * Context: worker threads (registered RCU readers).
 */
#ifndef BRM_RPC_EVENTS_H
#define BRM_RPC_EVENTS_H

#include "daemon/rpc/request.h"

#define BRM_EVENTS_OUT_MAX (64u << 10)

enum brm_method_result brm_m_events(struct brm_req *req, struct brm_cmd **cmd);

#endif
