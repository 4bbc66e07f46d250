/*
 * rpc.h — JSON-RPC 2.0 reply lines, written by the daemon's workers and
 * loop thread alike. Each function appends one complete line (ending in
 * '\n') to @out. @id_json is the request's id as JSON text ("1", "\"a\"",
 * or "null"). Context: any thread.
 */
#ifndef BRM_RPC_H
#define BRM_RPC_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "lib/buf.h"

/* {"jsonrpc":"2.0","id":ID,"result":RESULT}\n — @result_json is JSON text. */
void brm_rpc_result(struct brm_buf *out, const char *id_json, const char *result_json,
		    size_t result_len);

/* {"jsonrpc":"2.0","id":ID,"error":{"code":C,"message":M[,"data":D]}}\n
 * @data_json is JSON text or NULL. */
void brm_rpc_error(struct brm_buf *out, const char *id_json, int code, const char *message,
		   const char *data_json);

/* ---- decoding requests -------------------------------------------------- */

/*
 * The reply id for @id, the "id" member of the request object parsed from
 * @json (@len bytes; the whole line cJSON parsed): its text exactly as the
 * client sent it (18446744073709551617 stays that, 1.50 stays 1.50), so
 * that no id is rounded through a double. A string id that holds control
 * or invalid UTF-8 bytes is re-encoded instead (escaped), so the reply
 * stays valid JSON. Returns NULL for a number outside JSON's grammar, which
 * cJSON tolerates (+1, 01, .5, 1.), or when no "id" member is found.
 * Ownership: caller frees.
 */
char *brm_rpc_id_json(const char *json, size_t len, const cJSON *id);

/*
 * Find a key that occurs twice in one object anywhere in @root (cJSON
 * keeps both and its lookups return the first). Returns false, or true
 * with `duplicate key "K"` (and ` in PATH` below the top level, like
 * `params.spec.env`) appended to @msg. O(n log n) in the number of keys;
 * recursion as deep as @root's nesting (which the caller bounds).
 */
bool brm_rpc_duplicate_key(const cJSON *root, struct brm_buf *msg);

/* How many members of object @obj are named @key (case-sensitive). */
size_t brm_rpc_key_count(const cJSON *obj, const char *key);

/* Integers a request may carry: exact in a double, so at most 2^53 - 1. */
#define BRM_RPC_INT_MAX 9007199254740991LL

/*
 * True when @v is a number that is an integer from @lo to @hi (both within
 * +-2^53: BRM_RPC_INT_MAX + 1, the largest a double holds with every
 * integer below it exact), stored in *@out (may be NULL). Everything else
 * (1.5, 1e300, -1 below @lo, NaN, not a number) is false and leaves *@out
 * alone. The one check for integer parameters (the method table's schema,
 * daemon/rpc/methods.h, and the state file): no double is converted
 * before its range is known.
 */
bool brm_rpc_int_in(const cJSON *v, int64_t lo, int64_t hi, int64_t *out);

#endif
