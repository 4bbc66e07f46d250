/*
 * snapjson.c — serialise a snapshot by hand rather than through cJSON: no
 * allocation per value, and about ten times faster for a status of all.
 */
#include <string.h>

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

/*
 * SNAP's members in the order they are written: the bit of each is its
 * index. The last ones are written by others (logcap.c's extra members,
 * procstat.c's CPU and memory, ports.c's ports); tests/test_status_fields.c checks that
 * every member of a full reply is here.
 */
static const char *const fields[] = {
	"name", "state", "pid", "since", "started", "uptime_secs", "restarts",
	"exit_code", "exit_signal", "error", "next_retry", "start_failures",
	"autostart", "critical", "restart", "type", "cmd", "generation", "version", "health",
	"health_output", "waiting_for",
	"urls", "log_file", "log_error", "log_dropped",
	"cpu_percent", "cpu_secs", "rss_bytes", "ports",
};
enum { NFIELDS = sizeof(fields) / sizeof(fields[0]) };
_Static_assert(NFIELDS <= 64, "a field mask is 64 bits");

enum {
	F_NAME, F_STATE, F_PID, F_SINCE, F_STARTED, F_UPTIME, F_RESTARTS,
	F_EXIT_CODE, F_EXIT_SIGNAL, F_ERROR, F_NEXT_RETRY, F_START_FAILURES,
	F_AUTOSTART, F_CRITICAL, F_RESTART, F_TYPE, F_CMD, F_GENERATION, F_VERSION, F_HEALTH,
	F_HEALTH_OUTPUT, F_WAITING_FOR,
};

int brm_snap_field_bit(const char *name, size_t len)
{
	for (int i = 0; i < NFIELDS; i++)
		if (strlen(fields[i]) == len && !memcmp(fields[i], name, len))
			return i;
	return -1;
}

const char *brm_snap_field_name(int i)
{
	return i >= 0 && i < NFIELDS ? fields[i] : NULL;
}

/* The member's "," "KEY" ":" when @f is wanted: then the caller writes its value. */
static bool member(struct brm_buf *out, uint64_t want, int f)
{
	if (!(want & (UINT64_C(1) << f)))
		return false;
	brm_buf_addc(out, ',');
	brm_json_str(out, fields[f]);
	brm_buf_addc(out, ':');
	return true;
}

void brm_snapshot_json(struct brm_buf *out, const struct brm_snapshot *s, int64_t now_ms)
{
	brm_snapshot_json_fields(out, s, now_ms, BRM_SNAP_ALL_FIELDS);
}

void brm_snapshot_json_fields(struct brm_buf *out, const struct brm_snapshot *s, int64_t now_ms,
			      uint64_t want)
{
	const char *sig = s->exit_signal ? brm_signal_name(s->exit_signal) : NULL;

	brm_buf_adds(out, "{\"name\":");
	brm_json_str(out, s->name);
	if (member(out, want, F_STATE)) {
		brm_buf_addc(out, '"');
		brm_buf_adds(out, brm_state_name(s->state));
		brm_buf_addc(out, '"');
	}
	if (member(out, want, F_PID)) {
		if (s->pid > 0)
			brm_json_int(out, s->pid);
		else
			brm_buf_adds(out, "null");
	}
	if (member(out, want, F_SINCE))
		time_or_null(out, s->since_ms);
	if (member(out, want, F_STARTED))
		time_or_null(out, s->pid > 0 ? s->started_ms : 0);
	if (member(out, want, F_UPTIME)) {
		if (s->pid > 0 && s->started_ms > 0) {
			int64_t up = now_ms - s->started_ms;
			time_or_null(out, up > 0 ? up : 1);
		} else {
			brm_buf_adds(out, "null");
		}
	}
	if (member(out, want, F_RESTARTS))
		brm_json_uint(out, s->restarts);
	if (member(out, want, F_EXIT_CODE)) {
		if (s->exit_code >= 0)
			brm_json_int(out, s->exit_code);
		else
			brm_buf_adds(out, "null");
	}
	if (member(out, want, F_EXIT_SIGNAL)) {
		if (s->exit_signal) {
			if (sig)
				brm_json_str(out, sig);
			else
				brm_json_int(out, s->exit_signal);
		} else {
			brm_buf_adds(out, "null");
		}
	}
	if (member(out, want, F_ERROR))
		brm_json_str(out, s->error);
	if (member(out, want, F_NEXT_RETRY))
		time_or_null(out, s->state == BRM_BACKOFF ? s->next_retry_ms : 0);
	if (member(out, want, F_START_FAILURES))
		brm_json_uint(out, s->start_failures);
	if (member(out, want, F_AUTOSTART))
		brm_json_bool(out, s->autostart);
	if (member(out, want, F_CRITICAL))
		brm_json_bool(out, s->critical);
	if (member(out, want, F_RESTART))
		brm_json_str(out, s->restart);
	if (member(out, want, F_TYPE))
		brm_json_str(out, s->type ? s->type : "simple");
	if (member(out, want, F_CMD))
		brm_json_str(out, s->cmd);
	if (member(out, want, F_GENERATION))
		brm_json_uint(out, s->generation);
	if (member(out, want, F_VERSION))
		brm_json_uint(out, s->version);
	if (member(out, want, F_HEALTH))
		brm_json_str(out, s->health);
	if (member(out, want, F_HEALTH_OUTPUT))
		brm_json_str(out, s->health_output);
	if (member(out, want, F_WAITING_FOR))
		brm_json_str(out, s->state == BRM_WAITING ? s->waiting_for : NULL);
	if (s->extra_json) {
		size_t at = out->len;

		brm_buf_adds(out, s->extra_json);
		if (want != BRM_SNAP_ALL_FIELDS)
			brm_snap_filter_members(out, at, want);
	}
	brm_buf_addc(out, '}');
}

/* Past the JSON string at @p (its opening quote). */
static const char *skip_string(const char *p, const char *end)
{
	for (p++; p < end && *p != '"'; p++)
		if (*p == '\\')
			p++;
	return p < end ? p + 1 : end;
}

/* Past the JSON value at @p, up to the ',' or '}' that ends it. */
static const char *skip_value(const char *p, const char *end)
{
	int depth = 0;

	while (p < end) {
		char c = *p;

		if (c == '"') {
			p = skip_string(p, end);
			continue;
		}
		if (c == '[' || c == '{') {
			depth++;
		} else if (c == ']' || c == '}') {
			if (depth == 0)
				return p;
			depth--;
		} else if (c == ',' && depth == 0) {
			return p;
		}
		p++;
	}
	return p;
}

void brm_snap_filter_members(struct brm_buf *out, size_t from, uint64_t want)
{
	char *w = out->p + from;
	const char *p = w, *end = out->p + out->len;

	while (p < end && *p == ',') {
		const char *key = p + 1, *kend = skip_string(key, end);
		const char *vend = skip_value(kend + 1, end);
		int bit = kend - key >= 2 ? brm_snap_field_bit(key + 1, (size_t)(kend - key - 2)) : -1;

		if (bit >= 0 && (want & (UINT64_C(1) << bit))) {
			memmove(w, p, (size_t)(vend - p));
			w += vend - p;
		}
		p = vend;
	}
	memmove(w, p, (size_t)(end - p));   /* the closing '}', if any */
	w += end - p;
	out->len = (size_t)(w - out->p);
	out->p[out->len] = '\0';
}
