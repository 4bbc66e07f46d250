/*
 * commands.c — the handlers of the control methods: `start`, `stop`,
 * `restart`, `signal`, `add`, `remove`, `wait`, `reload` and `shutdown`
 * (proto/PROTOCOL.md). Each fills in the command that brm_method_call
 * (methods.c) made for the method's loop op, once the params fit the
 * method's schema; the loop thread executes it (daemon/sup/control.c) and
 * replies.
 *
 * What a schema cannot say is checked here, on the worker, so the loop
 * thread only sees well-formed commands; whether the names exist is
 * decided on the loop thread, where the answer cannot change under it.
 */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/conf/config.h"
#include "daemon/conf/values.h"
#include "daemon/rpc/commands.h"
#include "daemon/rpc/targets.h"
#include "daemon/sup/cmd.h"
#include "proto/proto.h"
#include "proto/rpc.h"

/* ---- parameters the schema cannot check ---------------------------------- */

/*
 * A param the method's schema requires: brm_method_call saw it there, of a
 * type the schema allows, before the handler ran.
 */
static const cJSON *required(const struct brm_req *req, const char *key)
{
	const cJSON *v = brm_req_param(req, key);

	if (!v)
		abort();   /* a handler whose schema does not require @key */
	return v;
}

/* @v is a string (the schema says so). */
static bool valid_name_param(struct brm_req *req, const cJSON *v, const char *what)
{
	if (!brm_name_valid(v->valuestring)) {
		brm_req_invalid(req, "%s: invalid process name \"%.80s\": use 1-%d characters of"
			" A-Z a-z 0-9 . _ : @ -, not starting with '.' or '-'",
			what, v->valuestring, BRM_MAX_NAME_LEN);
		return false;
	}
	return true;
}

/*
 * Targets: exactly one of "name", "names" or "all": true (targets.h), into
 * cmd->names / cmd->all; the loop thread resolves them. Returns false
 * after replying with an error.
 */
static bool parse_targets(struct brm_req *req, struct brm_cmd *cmd)
{
	struct brm_targets t;

	if (brm_targets_parse(req->params, 0, 0, &t, &req->scratch->tmp) < 0) {
		brm_rpc_error(req->out, req->id_json, BRM_E_INVALID_PARAMS, req->scratch->tmp.p,
			      NULL);
		return false;
	}
	cmd->all = t.all;
	cmd->names = t.sel;
	return true;
}

static bool parse_wait(struct brm_req *req, struct brm_cmd *cmd)
{
	const cJSON *wait = brm_req_param(req, "wait"), *timeout = brm_req_param(req, "timeout_secs");

	if (wait)
		cmd->wait = cJSON_IsTrue(wait);
	if (timeout) {
		double secs;
		if (brm_duration_parse_json(timeout, &secs) < 0 || !(secs > 0)) {
			brm_req_invalid(req, "params.timeout_secs: expected a positive number of seconds"
				" (or a string like \"30s\"), got %s", brm_json_type(timeout));
			return false;
		}
		cmd->timeout_secs = secs;
	}
	return true;
}

/* ---- mutating methods --------------------------------------------------- */

/* start, stop, restart: the op is the table's. */
enum brm_method_result brm_m_lifecycle(struct brm_req *req, struct brm_cmd **cmd)
{
	if (!parse_targets(req, *cmd) || !parse_wait(req, *cmd))
		return BRM_REPLIED;
	return BRM_QUEUED;
}

enum brm_method_result brm_m_signal(struct brm_req *req, struct brm_cmd **cmdp)
{
	const cJSON *sig = required(req, "signal"), *to = brm_req_param(req, "to");
	struct brm_cmd *cmd = *cmdp;
	int64_t num;
	int signo = -1;

	/* The schema made "to" a string, and "signal" a string or a number in range. */
	if (to && strcmp(to->valuestring, "main") != 0 && strcmp(to->valuestring, "group") != 0)
		return brm_req_invalid(req, "params.to: expected \"main\" (the main process, the"
			       " default) or \"group\" (its whole process group), got \"%.40s\"",
			       to->valuestring);
	if (cJSON_IsString(sig))
		signo = brm_signal_parse(sig->valuestring);
	else if (brm_rpc_int_in(sig, 1, BRM_MAX_SIGNAL, &num))
		signo = (int)num;
	if (signo < 1)
		return brm_req_invalid(req, "params.signal: expected a signal name like \"HUP\" or a"
			       " number from 1 to %d", BRM_MAX_SIGNAL);
	cmd->signo = signo;
	cmd->to_group = to && !strcmp(to->valuestring, "group");
	return parse_targets(req, cmd) ? BRM_QUEUED : BRM_REPLIED;
}

enum brm_method_result brm_m_add(struct brm_req *req, struct brm_cmd **cmdp)
{
	const cJSON *name = required(req, "name"), *spec = required(req, "spec");
	struct brm_proc_spec *ps;
	struct brm_cmd *cmd = *cmdp;
	char *err = NULL;

	if (!valid_name_param(req, name, "params.name"))
		return BRM_REPLIED;
	if (req->ctx->limits && strlen(name->valuestring) > (size_t)req->ctx->limits->max_name_len)
		return brm_req_invalid(req, "params.name: longer than %d bytes (max_name_len)",
			       req->ctx->limits->max_name_len);
	ps = brm_spec_parse(spec, name->valuestring, "params.spec", &err);
	if (!ps) {
		/* Several problems arrive one per line; the wire message is one line. */
		for (char *c = err; c && *c; c++)
			if (*c == '\n')
				*c = (c[1] ? ';' : '\0');
		brm_rpc_error(req->out, req->id_json, BRM_E_INVALID_PARAMS,
			      err ? err : "params.spec: invalid", NULL);
		free(err);
		return BRM_REPLIED;
	}
	cmd->spec = ps;
	cmd->spec_json = cJSON_PrintUnformatted(spec);
	cmd->max_procs = req->ctx->limits ? req->ctx->limits->max_processes : 0;
	return BRM_QUEUED;
}

enum brm_method_result brm_m_remove(struct brm_req *req, struct brm_cmd **cmdp)
{
	const cJSON *name = required(req, "name");
	struct brm_cmd *cmd = *cmdp;

	if (!valid_name_param(req, name, "params.name"))
		return BRM_REPLIED;
	cmd->names = brm_xcalloc(2, sizeof(char *));
	cmd->names[0] = brm_xstrdup(name->valuestring);
	return BRM_QUEUED;
}

/*
 * Wait for a state and/or a health: changes nothing, but is answered by
 * the loop thread, whose observer re-checks its waiters after every
 * publish (no polling).
 */
enum brm_method_result brm_m_wait(struct brm_req *req, struct brm_cmd **cmdp)
{
	const cJSON *state = brm_req_param(req, "state"), *health = brm_req_param(req, "health");
	struct brm_cmd *cmd = *cmdp;
	int st = -1;

	if (!state && !health)
		return brm_req_invalid(req, "params: missing \"state\" (or \"health\")");
	if (state) {
		if ((st = brm_state_parse(state->valuestring)) < 0)
			return brm_req_invalid(req, "params.state: expected one of \"stopped\", \"starting\","
				       " \"running\", \"backoff\", \"stopping\", \"exited\", \"fatal\"");
	}
	if (health && (!health->valuestring[0] || strlen(health->valuestring) > 32))
		return brm_req_invalid(req, "params.health: expected a health such as \"healthy\"");
	cmd->want_state = st;
	if (health)
		cmd->want_health = brm_xstrdup(health->valuestring);
	cmd->wait = true;
	if (!parse_targets(req, cmd) || !parse_wait(req, cmd))
		return BRM_REPLIED;
	return BRM_QUEUED;
}

/* Re-read the config file on the loop thread (daemon/sup/reload.c). */
enum brm_method_result brm_m_reload(struct brm_req *req, struct brm_cmd **cmd)
{
	return BRM_QUEUED;
}

/*
 * Stop every process in reverse dependency order, then exit: the loop
 * thread answers once all are down (daemon/main.c).
 */
enum brm_method_result brm_m_shutdown(struct brm_req *req, struct brm_cmd **cmd)
{
	return BRM_QUEUED;
}
