/*
 * snapjson.c — serialise a snapshot by hand rather than through cJSON: no
 * allocation per value, and about ten times faster for a status of all.
 */
#include "lib/procstate.h"
#include "lib/signame.h"
#include "lib/snapjson.h"

static void time_or_null(struct brm_buf *out, int64_t ms)
{
	if (ms <= 0) {
		brm_buf_add(out, "null", 4);
		return;
	}
	brm_buf_addf(out, "%lld.%03lld", (long long)(ms / 1000), (long long)(ms % 1000));
}

void brm_snapshot_json(struct brm_buf *out, const struct brm_snapshot *s, int64_t now_ms)
{
	const char *sig = s->exit_signal ? brm_signal_name(s->exit_signal) : NULL;

	brm_buf_adds(out, "{\"name\":");
	brm_json_str(out, s->name);
	brm_buf_adds(out, ",\"state\":\"");
	brm_buf_adds(out, brm_state_name(s->state));
	brm_buf_adds(out, "\",\"pid\":");
	if (s->pid > 0)
		brm_json_int(out, s->pid);
	else
		brm_buf_adds(out, "null");
	brm_buf_adds(out, ",\"since\":");
	time_or_null(out, s->since_ms);
	brm_buf_adds(out, ",\"started\":");
	time_or_null(out, s->pid > 0 ? s->started_ms : 0);
	brm_buf_adds(out, ",\"uptime_secs\":");
	if (s->pid > 0 && s->started_ms > 0) {
		int64_t up = now_ms - s->started_ms;
		time_or_null(out, up > 0 ? up : 1);
	} else {
		brm_buf_adds(out, "null");
	}
	brm_buf_adds(out, ",\"restarts\":");
	brm_json_uint(out, s->restarts);
	brm_buf_adds(out, ",\"exit_code\":");
	if (s->exit_code >= 0)
		brm_json_int(out, s->exit_code);
	else
		brm_buf_adds(out, "null");
	brm_buf_adds(out, ",\"exit_signal\":");
	if (s->exit_signal) {
		if (sig)
			brm_json_str(out, sig);
		else
			brm_json_int(out, s->exit_signal);
	} else {
		brm_buf_adds(out, "null");
	}
	brm_buf_adds(out, ",\"error\":");
	brm_json_str(out, s->error);
	brm_buf_adds(out, ",\"next_retry\":");
	time_or_null(out, s->state == BRM_BACKOFF ? s->next_retry_ms : 0);
	brm_buf_adds(out, ",\"start_failures\":");
	brm_json_uint(out, s->start_failures);
	brm_buf_adds(out, ",\"autostart\":");
	brm_json_bool(out, s->autostart);
	brm_buf_adds(out, ",\"restart\":");
	brm_json_str(out, s->restart);
	brm_buf_adds(out, ",\"type\":");
	brm_json_str(out, s->type ? s->type : "simple");
	brm_buf_adds(out, ",\"cmd\":");
	brm_json_str(out, s->cmd);
	brm_buf_adds(out, ",\"generation\":");
	brm_json_uint(out, s->generation);
	brm_buf_adds(out, ",\"version\":");
	brm_json_uint(out, s->version);
	brm_buf_adds(out, ",\"health\":");
	brm_json_str(out, s->health);
	brm_buf_adds(out, ",\"health_output\":");
	brm_json_str(out, s->health_output);
	brm_buf_adds(out, ",\"waiting_for\":");
	brm_json_str(out, s->state == BRM_WAITING ? s->waiting_for : NULL);
	if (s->extra_json)
		brm_buf_adds(out, s->extra_json);
	brm_buf_addc(out, '}');
}
