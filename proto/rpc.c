/*
 * rpc.c — JSON-RPC 2.0 reply framing, and the check of an integer in a
 * request's params; see rpc.h. A request's envelope is envelope.c's.
 */
#include <math.h>

#include "lib/util.h"
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

/* ---- integers in requests ------------------------------------------------ */

bool brm_rpc_int_in(const cJSON *v, int64_t lo, int64_t hi, int64_t *out)
{
	double d;

	if (!cJSON_IsNumber(v))
		return false;
	d = v->valuedouble;
	/* NaN fails every comparison; the range check comes before the cast. */
	if (!(d >= (double)lo && d <= (double)hi && d >= -(double)(BRM_RPC_INT_MAX + 1) &&
	      d <= (double)(BRM_RPC_INT_MAX + 1)) || d != floor(d))
		return false;
	if (out)
		*out = (int64_t)d;
	return true;
}
