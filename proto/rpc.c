/*
 * rpc.c — JSON-RPC 2.0 reply framing; see rpc.h.
 */
#include <string.h>

#include "proto/rpc.h"

void brm_rpc_result(struct brm_buf *out, const char *id_json, const char *result_json,
		    size_t result_len)
{
	brm_buf_adds(out, "{\"jsonrpc\":\"2.0\",\"id\":");
	brm_buf_adds(out, id_json ? id_json : "null");
	brm_buf_adds(out, ",\"result\":");
	brm_buf_add(out, result_json, result_len);
	brm_buf_adds(out, "}\n");
}

void brm_rpc_error(struct brm_buf *out, const char *id_json, int code, const char *message,
		   const char *data_json)
{
	brm_buf_adds(out, "{\"jsonrpc\":\"2.0\",\"id\":");
	brm_buf_adds(out, id_json ? id_json : "null");
	brm_buf_addf(out, ",\"error\":{\"code\":%d,\"message\":", code);
	brm_json_str(out, message);
	if (data_json) {
		brm_buf_adds(out, ",\"data\":");
		brm_buf_adds(out, data_json);
	}
	brm_buf_adds(out, "}}\n");
}
