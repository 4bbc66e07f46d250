/*
 * envelope.h — one request line decoded into its JSON-RPC 2.0 envelope:
 * the method's name, the id as the client sent it, and the params. The
 * checks and their replies (parse error, invalid request, a bad id,
 * duplicate keys, nesting, NUL bytes; PROTOCOL.md, "Requests") are the
 * protocol's, so they live here beside reply encoding (rpc.h) and not in
 * the daemon: brummd's workers (daemon/rpc/dispatch.c), the unit tests and
 * the fuzz targets call the same code. What a method is, who may call it
 * and what its params mean are the daemon's (daemon/rpc/methods.h).
 *
 * Context: any thread; no state of its own.
 */
#ifndef BRM_ENVELOPE_H
#define BRM_ENVELOPE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"

/* A decoded request. Ownership: brm_envelope_finish() frees it. */
struct brm_envelope {
	cJSON *root;             /* the parsed line */
	const char *method;      /* "method", in root */
	const cJSON *params;     /* "params" as sent, in root; NULL when absent or null */
	char *id_json;           /* the id's text as sent (PROTOCOL.md: 1.50 stays 1.50), NULL without id */
	bool notify;             /* no "id": a notification, whose reply is dropped */
};

/*
 * Decode the request line @line (@len bytes, no newline; line[len] must be
 * writable): trailing blanks ('\r', ' ', '\t') are ignored, then the line
 * must be JSON of at most @max_depth levels of nesting without a NUL byte
 * or a "\u0000" escape, an object with "jsonrpc":"2.0", a string "method",
 * an "id" that is a number, a string or null (or none), and no key twice in
 * one object. Returns true with *@env filled in; or false, with *@env empty
 * and, unless the line was blank, the error reply appended to @out (id null
 * when no id could be read). "params" is not checked: its reply comes after
 * the method's (brm_envelope_check_params). @tmp is scratch for messages.
 */
bool brm_envelope_decode(struct brm_envelope *env, char *line, size_t len, int max_depth,
			 struct brm_buf *tmp, struct brm_buf *out);

/*
 * True when env->params is an object or absent; else false with the
 * -32602 reply "params: expected an object" appended to @out.
 */
bool brm_envelope_check_params(const struct brm_envelope *env, struct brm_buf *out);

/* Free what a successful brm_envelope_decode() holds; *@env is empty after. */
void brm_envelope_finish(struct brm_envelope *env);

/*
 * Append the reply to a request line of @max bytes or more (newline
 * included), after which the server closes the connection.
 */
void brm_envelope_too_long(struct brm_buf *out, size_t max);

#endif
