/*
 * dispatch.c — one request line: framing checks, the JSON and the JSON-RPC
 * envelope, the caller's permission for the method, then the method's
 * handler (methods.h). Pure apart from the worker's scratch and reading the
 * registry, so the fuzz target calls it directly.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/conf/access.h"
#include "daemon/conf/limits.h"
#include "daemon/log.h"
#include "daemon/rpc/dispatch.h"
#include "daemon/rpc/methods.h"
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

static const struct brm_limits default_limits = BRM_LIMITS_DEFAULT;

#define DENIED_LOG_EVERY_NS (10ull * 1000000000)

/*
 * A refused call is logged with its method, uid and pid, but at most once
 * every 10 s for all workers together, with the count of those not logged
 * since: a peer that may connect but not call must not be able to flood
 * brummd's log (a cost it controls).
 */
static void log_denied(const char *method, const struct brm_peer *peer)
{
	static uint64_t logged_ns;          /* atomic */
	static unsigned long unlogged;      /* atomic */
	uint64_t now = brm_now_mono_ns();
	uint64_t last = __atomic_load_n(&logged_ns, __ATOMIC_RELAXED);
	unsigned long more;

	if ((last && now - last < DENIED_LOG_EVERY_NS) ||
	    !__atomic_compare_exchange_n(&logged_ns, &last, now, false, __ATOMIC_RELAXED,
					 __ATOMIC_RELAXED)) {
		__atomic_add_fetch(&unlogged, 1, __ATOMIC_RELAXED);
		return;
	}
	more = __atomic_exchange_n(&unlogged, 0, __ATOMIC_RELAXED);
	if (more)
		brm_log_warn("denied '%s' to uid %u pid %d: not permitted (and %lu more calls"
			     " denied since the last such line)", method, (unsigned)peer->uid,
			     (int)peer->pid, more);
	else
		brm_log_warn("denied '%s' to uid %u pid %d: not permitted", method,
			     (unsigned)peer->uid, (int)peer->pid);
}

bool brm_server_dispatch(const struct brm_ctx *ctx, struct brm_scratch *scratch,
			 const struct brm_peer *peer, char *line, size_t len,
			 struct brm_buf *out, struct brm_stream **stream, struct brm_sub **evsub,
			 struct brm_cmd **cmdp)
{
	const struct brm_limits *lim = ctx->limits ? ctx->limits : &default_limits;
	const char *end = NULL;
	cJSON *root, *id, *method, *params, *version;
	char *id_json = NULL;
	const struct brm_method *m;
	struct brm_req req;
	struct brm_cmd *cmd = NULL;
	bool notify, queued = false;
	struct brm_buf discard = BRM_BUF_INIT;

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
	if (too_deep(line, len, lim->max_json_depth)) {
		char msg[80];
		snprintf(msg, sizeof(msg), "request nested deeper than %d levels (max_json_depth)",
			 lim->max_json_depth);
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
		goto out;
	}
	if (!cJSON_IsObject(root)) {
		brm_rpc_error(out, NULL, BRM_E_INVALID_REQUEST,
			      "invalid request: expected a JSON-RPC 2.0 request object", NULL);
		goto out;
	}
	id = cJSON_GetObjectItemCaseSensitive(root, "id");
	notify = id == NULL;
	if (brm_rpc_key_count(root, "id") > 1) {
		brm_rpc_error(out, NULL, BRM_E_INVALID_REQUEST,
			      "invalid request: duplicate key \"id\"", NULL);
		goto out;
	}
	if (id && !cJSON_IsNumber(id) && !cJSON_IsString(id) && !cJSON_IsNull(id)) {
		brm_rpc_error(out, NULL, BRM_E_INVALID_REQUEST,
			      "invalid request: \"id\" must be a number, a string or null", NULL);
		goto out;
	}
	/* The id as sent: a reply never rounds it through a double. */
	id_json = id ? brm_rpc_id_json(line, len, id) : NULL;
	if (id && !id_json) {
		brm_rpc_error(out, NULL, BRM_E_INVALID_REQUEST,
			      "invalid request: \"id\" is not a valid JSON number", NULL);
		goto out;
	}
	brm_buf_reset(&scratch->tmp);
	if (brm_rpc_duplicate_key(root, &scratch->tmp)) {
		struct brm_buf *tmp = &scratch->tmp;
		char *msg = brm_xasprintf("invalid request: %s", tmp->p);
		brm_rpc_error(out, id_json, BRM_E_INVALID_REQUEST, msg, NULL);
		free(msg);
		goto out;
	}
	version = cJSON_GetObjectItemCaseSensitive(root, "jsonrpc");
	if (!cJSON_IsString(version) || strcmp(version->valuestring, "2.0") != 0) {
		brm_rpc_error(out, id_json, BRM_E_INVALID_REQUEST,
			      "invalid request: \"jsonrpc\" must be \"2.0\"", NULL);
		goto out;
	}
	method = cJSON_GetObjectItemCaseSensitive(root, "method");
	if (!cJSON_IsString(method)) {
		brm_rpc_error(out, id_json, BRM_E_INVALID_REQUEST,
			      "invalid request: \"method\" must be a string", NULL);
		goto out;
	}
	params = cJSON_GetObjectItemCaseSensitive(root, "params");
	if (params && cJSON_IsNull(params))
		params = NULL;
	m = brm_method_find(method->valuestring);
	if (m && !brm_access_allows(peer, m->access != BRM_METHOD_READ)) {
		log_denied(m->name, peer);
		brm_rpc_error(notify ? &discard : out, id_json, BRM_E_NOT_PERMITTED,
			      m->access == BRM_METHOD_MUTATING ?
			      "not permitted: your uid may not change processes" :
			      m->access == BRM_METHOD_ADMIN ?
			      "not permitted: your uid may not administer brummd" :
			      "not permitted: your uid may not query brummd", NULL);
		goto out;
	}
	if (!m) {
		struct brm_buf *tmp = &scratch->tmp;
		brm_buf_reset(tmp);
		brm_buf_adds(tmp, "method not found: ");
		brm_json_str(tmp, method->valuestring);
		brm_rpc_error(notify ? &discard : out, id_json, BRM_E_NO_METHOD, tmp->p, NULL);
		goto out;
	}
	if (params && !cJSON_IsObject(params)) {
		brm_rpc_error(notify ? &discard : out, id_json, BRM_E_INVALID_PARAMS,
			      "params: expected an object", NULL);
		goto out;
	}

	req.ctx = ctx;
	req.params = params;
	req.id_json = id_json ? id_json : "null";
	req.out = notify ? &discard : out;
	req.scratch = scratch;
	req.stream = stream;
	req.events = evsub;
	if (brm_method_call(m, &req, &cmd) == BRM_QUEUED) {
		/* A notification is executed, but its reply is dropped. */
		cmd->no_reply = notify;
		*cmdp = cmd;
		queued = true;
	}
out:
	brm_buf_finish(&discard);
	free(id_json);
	cJSON_Delete(root);
	return queued;
}

