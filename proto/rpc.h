/*
 * rpc.h — JSON-RPC 2.0 reply lines, written by the daemon's workers and
 * loop thread alike. Each function appends one complete line (ending in
 * '\n') to @out. @id_json is the request's id as JSON text ("1", "\"a\"",
 * or "null"). Context: any thread.
 */
#ifndef BRM_RPC_H
#define BRM_RPC_H

#include "lib/buf.h"

/* {"jsonrpc":"2.0","id":ID,"result":RESULT}\n — @result_json is JSON text. */
void brm_rpc_result(struct brm_buf *out, const char *id_json, const char *result_json,
		    size_t result_len);

/* {"jsonrpc":"2.0","id":ID,"error":{"code":C,"message":M[,"data":D]}}\n
 * @data_json is JSON text or NULL. */
void brm_rpc_error(struct brm_buf *out, const char *id_json, int code, const char *message,
		   const char *data_json);

#endif
