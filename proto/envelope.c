/*
 * envelope.c — a request line's JSON-RPC envelope (envelope.h): framing
 * checks, the JSON, the jsonrpc, id and method members. Moved from the
 * daemon's dispatch (daemon/rpc/dispatch.c), which keeps the permission
 * check and the method table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "proto/envelope.h"
#include "proto/proto.h"
#include "proto/rpc.h"

/* Deeper than @max? Checked before cJSON recurses. */
static bool too_deep(const char *s, size_t n, int max)
{
	int depth = 0;
	bool in_str = false;

	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (in_str) {
			if (ch == '\\')
				i++;
			else if (ch == '"')
				in_str = false;
		} else if (ch == '"') {
			in_str = true;
		} else if (ch == '{' || ch == '[') {
			if (++depth > max)
				return true;
		} else if (ch == '}' || ch == ']') {
			depth--;
		}
	}
	return false;
}

/*
 * A "\u0000" escape inside a string? cJSON would cut the string there, so
 * "stop\u0000x" would run stop and a name would be checked short.
 */
static bool has_escaped_nul(const char *s, size_t n)
{
	for (size_t i = 0; i + 5 < n; i++) {
		if (s[i] != '\\')
			continue;
		if (s[i + 1] == 'u' && !memcmp(s + i + 2, "0000", 4))
			return true;
		i++;   /* skip the escaped character: "\\u0000" is no NUL */
	}
	return false;
}

bool brm_envelope_decode(struct brm_envelope *env, char *line, size_t len, int max_depth,
			 struct brm_buf *tmp, struct brm_buf *out)
{
	const char *end = NULL;
	cJSON *root, *id, *method, *params, *version;
	char *id_json = NULL;
	bool notify;

	memset(env, 0, sizeof(*env));
	while (len && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	if (!len)
		return false;
	if (memchr(line, '\0', len)) {
		brm_rpc_error(out, NULL, BRM_E_PARSE, "parse error: NUL byte in request", NULL);
		return false;
	}
	if (has_escaped_nul(line, len)) {
		brm_rpc_error(out, NULL, BRM_E_PARSE,
			      "parse error: \\u0000 in a string is not allowed", NULL);
		return false;
	}
	if (too_deep(line, len, max_depth)) {
		char msg[80];
		snprintf(msg, sizeof(msg), "request nested deeper than %d levels (max_json_depth)",
			 max_depth);
		brm_rpc_error(out, NULL, BRM_E_LIMIT, msg, NULL);
		return false;
	}
	line[len] = '\0';
	root = cJSON_ParseWithLengthOpts(line, len + 1, &end, 1);
	if (!root) {
		size_t off = end && end >= line ? (size_t)(end - line) : 0;
		char msg[96];
		snprintf(msg, sizeof(msg), "parse error: not valid JSON at byte %zu", off + 1);
		brm_rpc_error(out, NULL, BRM_E_PARSE, msg, NULL);
		return false;
	}
	if (cJSON_IsArray(root)) {
		brm_rpc_error(out, NULL, BRM_E_INVALID_REQUEST,
			      "invalid request: batch requests are not supported", NULL);
		goto fail;
	}
	if (!cJSON_IsObject(root)) {
		brm_rpc_error(out, NULL, BRM_E_INVALID_REQUEST,
			      "invalid request: expected a JSON-RPC 2.0 request object", NULL);
		goto fail;
	}
	id = cJSON_GetObjectItemCaseSensitive(root, "id");
	notify = id == NULL;
	if (brm_rpc_key_count(root, "id") > 1) {
		brm_rpc_error(out, NULL, BRM_E_INVALID_REQUEST,
			      "invalid request: duplicate key \"id\"", NULL);
		goto fail;
	}
	if (id && !cJSON_IsNumber(id) && !cJSON_IsString(id) && !cJSON_IsNull(id)) {
		brm_rpc_error(out, NULL, BRM_E_INVALID_REQUEST,
			      "invalid request: \"id\" must be a number, a string or null", NULL);
		goto fail;
	}
	/* The id as sent: a reply never rounds it through a double. */
	id_json = id ? brm_rpc_id_json(line, len, id) : NULL;
	if (id && !id_json) {
		brm_rpc_error(out, NULL, BRM_E_INVALID_REQUEST,
			      "invalid request: \"id\" is not a valid JSON number", NULL);
		goto fail;
	}
	brm_buf_reset(tmp);
	if (brm_rpc_duplicate_key(root, tmp)) {
		char *msg = brm_xasprintf("invalid request: %s", tmp->p);
		brm_rpc_error(out, id_json, BRM_E_INVALID_REQUEST, msg, NULL);
		free(msg);
		goto fail;
	}
	version = cJSON_GetObjectItemCaseSensitive(root, "jsonrpc");
	if (!cJSON_IsString(version) || strcmp(version->valuestring, "2.0") != 0) {
		brm_rpc_error(out, id_json, BRM_E_INVALID_REQUEST,
			      "invalid request: \"jsonrpc\" must be \"2.0\"", NULL);
		goto fail;
	}
	method = cJSON_GetObjectItemCaseSensitive(root, "method");
	if (!cJSON_IsString(method)) {
		brm_rpc_error(out, id_json, BRM_E_INVALID_REQUEST,
			      "invalid request: \"method\" must be a string", NULL);
		goto fail;
	}
	params = cJSON_GetObjectItemCaseSensitive(root, "params");
	if (params && cJSON_IsNull(params))
		params = NULL;

	env->root = root;
	env->method = method->valuestring;
	env->params = params;
	env->id_json = id_json;
	env->notify = notify;
	return true;
fail:
	free(id_json);
	cJSON_Delete(root);
	return false;
}

bool brm_envelope_check_params(const struct brm_envelope *env, struct brm_buf *out)
{
	if (!env->params || cJSON_IsObject(env->params))
		return true;
	brm_rpc_error(out, env->id_json, BRM_E_INVALID_PARAMS, "params: expected an object", NULL);
	return false;
}

void brm_envelope_finish(struct brm_envelope *env)
{
	free(env->id_json);
	cJSON_Delete(env->root);
	memset(env, 0, sizeof(*env));
}

void brm_envelope_too_long(struct brm_buf *out, size_t max)
{
	char msg[96];

	snprintf(msg, sizeof(msg), "request line longer than %zu bytes (max_message_bytes); closing",
		 max);
	brm_rpc_error(out, NULL, BRM_E_LIMIT, msg, NULL);
}
