/*
 * dispatch.c — one request line: its JSON-RPC envelope decoded
 * (proto/envelope.h: framing checks, the JSON, jsonrpc, id and method), the
 * caller's permission for the method, then the method's handler
 * (methods.h). Pure apart from the worker's scratch and reading the
 * registry, so the fuzz target calls it directly.
 */
#include <cjson/cJSON.h>

#include "daemon/conf/access.h"
#include "daemon/conf/limits.h"
#include "daemon/log.h"
#include "daemon/rpc/dispatch.h"
#include "daemon/rpc/methods.h"
#include "daemon/rpc/reqstats.h"
#include "proto/envelope.h"
#include "proto/proto.h"
#include "proto/rpc.h"

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
	const struct brm_method *m;
	struct brm_envelope env;
	struct brm_req req;
	struct brm_cmd *cmd = NULL;
	bool notify, queued = false;
	struct brm_buf discard = BRM_BUF_INIT;
	struct brm_buf *dst;
	size_t from;

	if (!brm_envelope_decode(&env, line, len, lim->max_json_depth, &scratch->tmp, out)) {
		brm_reqstats_add(NULL, true);
		return false;
	}
	notify = env.notify;
	dst = notify ? &discard : out;
	from = dst->len;
	m = brm_method_find(env.method);
	if (m && !brm_access_allows(peer, m->access != BRM_METHOD_READ)) {
		log_denied(m->name, peer);
		brm_rpc_error(notify ? &discard : out, env.id_json, BRM_E_NOT_PERMITTED,
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
		brm_json_str(tmp, env.method);
		brm_rpc_error(notify ? &discard : out, env.id_json, BRM_E_NO_METHOD, tmp->p, NULL);
		goto out;
	}
	if (!brm_envelope_check_params(&env, notify ? &discard : out))
		goto out;

	req.ctx = ctx;
	req.params = env.params;
	req.id_json = env.id_json ? env.id_json : "null";
	req.out = notify ? &discard : out;
	req.scratch = scratch;
	req.stream = stream;
	req.events = evsub;
	req.peer = peer;
	if (brm_method_call(m, &req, &cmd) == BRM_QUEUED) {
		/* A notification is executed, but its reply is dropped. */
		cmd->no_reply = notify;
		*cmdp = cmd;
		queued = true;
	}
out:
	/* A queued one is counted when its reply comes back (conn.c). */
	if (!queued)
		brm_reqstats_count(m, env.id_json, dst->p + from, dst->len - from);
	brm_buf_finish(&discard);
	brm_envelope_finish(&env);
	return queued;
}

