/*
 * metrics.c — `brummctl metrics`: brummd's state in the Prometheus text
 * exposition format 0.0.4, for node_exporter's textfile collector.
 *
 * Nothing new is asked of brummd: one `status` with stats (every process,
 * its CPU and memory) and one `ping` (brummd's version and uptime), made
 * before anything is printed, so a failed call leaves stdout empty and a
 * collector's file is never half written by us. Each metric family comes
 * as a block (HELP, TYPE, then a sample per process), as the format asks;
 * a figure a snapshot reports as null (no pid, no health check) is left
 * out rather than made up. Label values are escaped as the format wants
 * (\\, \", \n), though process names, [A-Za-z0-9._:@-], never need it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/brummctl.h"
#include "lib/buf.h"
#include "lib/client.h"
#include "lib/procstate.h"
#include "lib/util.h"

/* A label value between quotes, escaped for the exposition format. */
static void put_label_value(struct brm_buf *b, const char *s)
{
	brm_buf_addc(b, '"');
	for (; *s; s++) {
		if (*s == '\\')
			brm_buf_adds(b, "\\\\");
		else if (*s == '"')
			brm_buf_adds(b, "\\\"");
		else if (*s == '\n')
			brm_buf_adds(b, "\\n");
		else
			brm_buf_addc(b, *s);
	}
	brm_buf_addc(b, '"');
}

/*
 * @v in the fewest digits that read back as the same double (1.509, not
 * 1.5089999999999999): 15 significant digits when they do, else 17.
 */
static void put_value(struct brm_buf *b, double v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%.15g", v);
	if (strtod(buf, NULL) != v)
		snprintf(buf, sizeof(buf), "%.17g", v);
	brm_buf_adds(b, buf);
	brm_buf_addc(b, '\n');
}

static void family(struct brm_buf *b, const char *name, const char *type, const char *help)
{
	brm_buf_addf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* NAME{name="PROC"[,state="S"]} VALUE */
static void sample(struct brm_buf *b, const char *metric, const char *proc,
		   const char *state, double v)
{
	brm_buf_addf(b, "%s{name=", metric);
	put_label_value(b, proc);
	if (state) {
		brm_buf_adds(b, ",state=");
		put_label_value(b, state);
	}
	brm_buf_adds(b, "} ");
	put_value(b, v);
}

static const char *snap_name(const cJSON *s)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(s, "name");

	return cJSON_IsString(n) ? n->valuestring : NULL;
}

static const char *snap_str(const cJSON *s, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(s, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The number @key of snapshot @s in *@v; false when null or absent. */
static bool snap_num(const cJSON *s, const char *key, double *v)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(s, key);

	if (!cJSON_IsNumber(n))
		return false;
	*v = n->valuedouble;
	return true;
}

/* A family of one sample per process that reports @key (a number). */
static void per_process_num(struct brm_buf *b, const cJSON *procs, const char *metric,
			    const char *type, const char *help, const char *key)
{
	const cJSON *s;
	double v;

	family(b, metric, type, help);
	cJSON_ArrayForEach(s, procs) {
		const char *name = snap_name(s);

		if (name && snap_num(s, key, &v))
			sample(b, metric, name, NULL, v);
	}
}

static void per_process(struct brm_buf *b, const cJSON *procs)
{
	const cJSON *s;
	double v;

	family(b, "brummd_process_state", "gauge",
	       "1 for the state the process is in, 0 for the others.");
	cJSON_ArrayForEach(s, procs) {
		const char *name = snap_name(s), *state = snap_str(s, "state");

		if (!name)
			continue;
		for (int st = 0; st < BRM_STATE_COUNT; st++) {
			const char *sn = brm_state_name((enum brm_state)st);

			sample(b, "brummd_process_state", name, sn,
			       state && strcmp(state, sn) == 0);
		}
	}

	family(b, "brummd_process_up", "gauge", "1 when the process is running, else 0.");
	cJSON_ArrayForEach(s, procs) {
		const char *name = snap_name(s), *state = snap_str(s, "state");

		if (name)
			sample(b, "brummd_process_up", name, NULL,
			       state && strcmp(state, "running") == 0);
	}

	per_process_num(b, procs, "brummd_process_restarts_total", "counter",
			"Automatic restarts by the restart policy since the process was added.",
			"restarts");
	per_process_num(b, procs, "brummd_process_start_failures", "gauge",
			"Failed starts in the current series (back to 0 once it stays up).",
			"start_failures");

	family(b, "brummd_process_uptime_seconds", "gauge",
	       "Seconds since the process's pid was started; 0 when it has none.");
	cJSON_ArrayForEach(s, procs) {
		const char *name = snap_name(s);

		if (name)
			sample(b, "brummd_process_uptime_seconds", name, NULL,
			       snap_num(s, "uptime_secs", &v) ? v : 0);
	}

	per_process_num(b, procs, "brummd_process_cpu_seconds_total", "counter",
			"User and system CPU seconds of the process group's members.",
			"cpu_secs");
	per_process_num(b, procs, "brummd_process_resident_memory_bytes", "gauge",
			"Resident set size of the process group's members, in bytes.",
			"rss_bytes");
	per_process_num(b, procs, "brummd_process_log_dropped_total", "counter",
			"Output chunks not written to the log file (its writer fell behind).",
			"log_dropped");

	family(b, "brummd_process_healthy", "gauge",
	       "1 when the health check passes, 0 when unhealthy; absent without a verdict.");
	cJSON_ArrayForEach(s, procs) {
		const char *name = snap_name(s), *h = snap_str(s, "health");

		if (!name || !h)
			continue;
		if (strcmp(h, "healthy") == 0 || strcmp(h, "unhealthy") == 0)
			sample(b, "brummd_process_healthy", name, NULL,
			       strcmp(h, "healthy") == 0);
	}
}

/* brummd's own figures, from ping, and how many processes status listed. */
static void daemon_wide(struct brm_buf *b, const cJSON *ping, const cJSON *procs)
{
	const char *version = snap_str(ping, "version");
	double v;

	family(b, "brummd_info", "gauge", "Always 1; the version of brummd in a label.");
	brm_buf_adds(b, "brummd_info{version=");
	put_label_value(b, version ? version : "");
	brm_buf_adds(b, "} 1\n");
	if (snap_num(ping, "uptime_secs", &v)) {
		family(b, "brummd_uptime_seconds", "gauge", "Seconds since brummd started.");
		brm_buf_adds(b, "brummd_uptime_seconds ");
		put_value(b, v);
	}
	family(b, "brummd_processes", "gauge", "Processes brummd manages.");
	brm_buf_addf(b, "brummd_processes %d\n", cJSON_GetArraySize(procs));
}

int cli_metrics_print(FILE *f, struct brm_client *c, const struct cJSON *status,
		      struct brm_rpc_err *err)
{
	const cJSON *procs = cJSON_GetObjectItemCaseSensitive(status, "processes");
	struct brm_buf b = BRM_BUF_INIT;
	cJSON *ping = NULL;
	int r;

	r = brm_client_call(c, "ping", NULL, &ping, err);
	if (r != 0)
		return r;
	if (!cJSON_IsArray(procs))
		procs = NULL;
	daemon_wide(&b, ping, procs);
	per_process(&b, procs);
	fwrite(b.p, 1, b.len, f);
	brm_buf_finish(&b);
	cJSON_Delete(ping);
	return 0;
}
