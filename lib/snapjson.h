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

/*
 * Which of SNAP's members a reply carries (`status` {"fields": [...]}): bit i
 * stands for brm_snap_field_name(i). "name" is always written.
 */
#define BRM_SNAP_ALL_FIELDS UINT64_MAX

/* Bit index of the SNAP member @name (@len bytes), or -1 when there is none. */
int brm_snap_field_bit(const char *name, size_t len);

/* Name of SNAP member @i, or NULL past the last (for listing them). */
const char *brm_snap_field_name(int i);

/* brm_snapshot_json() with only the members in @fields (and "name"). */
void brm_snapshot_json_fields(struct brm_buf *out, const struct brm_snapshot *s, int64_t now_ms,
			      uint64_t fields);

/*
 * Drop from @out, in place, the members ("," "KEY" ":" VALUE, as brummd writes
 * them) that start at offset @from and are not in @fields; a closing '}'
 * after them stays. For members appended to a SNAP after the fact (CPU and
 * memory). The text must be brummd's own, valid JSON.
 */
void brm_snap_filter_members(struct brm_buf *out, size_t from, uint64_t fields);

#endif
