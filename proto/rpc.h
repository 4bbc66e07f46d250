/*
 * rpc.h — JSON-RPC 2.0 reply lines, written by the daemon's workers and
 * loop thread alike. Each function appends one complete line (ending in
 * '\n') to @out. @id_json is the request's id as JSON text ("1", "\"a\"",
 * or "null"). Also the one check of an integer in a request's params
 * (brm_rpc_int_in); the request's envelope is envelope.h's.
 * Context: any thread.
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

/* ---- integers in requests ------------------------------------------------ */

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
