/*
 * snapjson.h — a snapshot as the JSON object the protocol calls SNAP
 * (proto/PROTOCOL.md). Writes into a caller's buffer without allocating once
 * the buffer has grown, so it can run on the read path.
 * Context: any thread; the snapshot must stay valid during the call (hold
 * rcu_read_lock() for a published one).
 */
#ifndef BRM_SNAPJSON_H
#define BRM_SNAPJSON_H

#include "lib/buf.h"
#include "lib/registry.h"

/* Append SNAP for @s; uptime is computed against @now_ms (wall clock). */
void brm_snapshot_json(struct brm_buf *out, const struct brm_snapshot *s, int64_t now_ms);

#endif
