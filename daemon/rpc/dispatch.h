/*
 * dispatch.h — one request line, from its bytes to its reply or to the
 * command the loop thread must run (dispatch.c).
 */
#ifndef BRM_DISPATCH_H
#define BRM_DISPATCH_H

#include <stdbool.h>
#include <stddef.h>

struct brm_ctx;
struct brm_scratch;
struct brm_peer;
struct brm_buf;
struct brm_cmd;
struct brm_stream;
struct brm_sub;

/*
 * Parse and dispatch one request line (@len bytes at @line, no newline;
 * line[len] must be writable) from @peer: decodes the JSON-RPC envelope
 * (proto/envelope.h), checks permissions, then calls the method's handler. A reply
 * (or nothing, for a notification) is appended to @out. Returns true with
 * *@cmd set when the method must go to the loop thread: the caller routes
 * it (cmd->no_reply is already set for notifications). @stream is the
 * connection's log-follow slot (rpc/follow.c) and @evsub its event subscription
 * (events.c), or NULL where there are none.
 * Pure apart from @scratch and reading the registry: the fuzz target's
 * entry point. Context: a registered RCU reader thread.
 */
bool brm_server_dispatch(const struct brm_ctx *ctx, struct brm_scratch *scratch,
			 const struct brm_peer *peer, char *line, size_t len,
			 struct brm_buf *out, struct brm_stream **stream, struct brm_sub **evsub,
			 struct brm_cmd **cmd);

#endif
