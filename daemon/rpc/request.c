/*
 * request.c — the helpers every method handler shares: the error replies,
 * the worker's scratch memory, a param's lookup and a value's kind
 * (request.h). Apart from the method table so that handler files need only
 * request.h, not methods.h.
 */
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdlib.h>

#include "daemon/rpc/request.h"
#include "proto/proto.h"
#include "proto/rpc.h"

static enum brm_method_result verror(struct brm_req *req, int code, const char *fmt,
				     va_list ap) BRM_PRINTF(3, 0);
static enum brm_method_result verror(struct brm_req *req, int code, const char *fmt,
				     va_list ap)
{
	struct brm_buf *tmp = &req->scratch->tmp;

	brm_buf_reset(tmp);
	brm_buf_vaddf(tmp, fmt, ap);
	brm_rpc_error(req->out, req->id_json, code, tmp->p, NULL);
	return BRM_REPLIED;
}

enum brm_method_result brm_req_error(struct brm_req *req, int code, const char *fmt, ...)
{
	enum brm_method_result r;
	va_list ap;

	va_start(ap, fmt);
	r = verror(req, code, fmt, ap);
	va_end(ap);
	return r;
}

enum brm_method_result brm_req_invalid(struct brm_req *req, const char *fmt, ...)
{
	enum brm_method_result r;
	va_list ap;

	va_start(ap, fmt);
	r = verror(req, BRM_E_INVALID_PARAMS, fmt, ap);
	va_end(ap);
	return r;
}

void brm_scratch_init(struct brm_scratch *s)
{
	s->snaps = NULL;
	s->cap = 0;
	brm_buf_init(&s->tmp);
	brm_buf_init(&s->line);
}

void brm_scratch_finish(struct brm_scratch *s)
{
	free(s->snaps);
	brm_buf_finish(&s->tmp);
	brm_buf_finish(&s->line);
	brm_scratch_init(s);
}

const cJSON *brm_req_param(const struct brm_req *req, const char *key)
{
	return req->params ? cJSON_GetObjectItemCaseSensitive(req->params, key) : NULL;
}

const char *brm_json_type(const cJSON *v)
{
	if (cJSON_IsString(v)) return "a string";
	if (cJSON_IsNumber(v)) return "a number";
	if (cJSON_IsBool(v)) return "a boolean";
	if (cJSON_IsNull(v)) return "null";
	if (cJSON_IsArray(v)) return "an array";
	if (cJSON_IsObject(v)) return "an object";
	return "an unknown value";
}
