/*
 * metrics.c — the Prometheus text exposition format 0.0.4 (metrics.h),
 * rendered from snapshots on the thread that asks.
 *
 * CPU and memory are read from /proc first, outside the read lock (as
 * `status` with stats does); then one read-side section takes a row per
 * process (its snapshot and its log ring's count), sorts the rows by name
 * and writes every family from them, so all the families of one scrape
 * describe the same snapshot of each process. Each family comes as a block
 * (HELP, TYPE, then a sample per process), as the format asks. Label
 * values are escaped as the format wants (\\, \", \n), though process
 * names, [A-Za-z0-9._:@-], never need it.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/logpub.h"
#include "daemon/procstat.h"
#include "daemon/spawnstat.h"
#include "daemon/rpc/methods.h"
#include "daemon/rpc/metrics.h"
#include "daemon/rpc/reqstats.h"
#include "lib/logring.h"
#include "lib/procstate.h"
#include "lib/registry.h"
#include "proto/proto.h"
#include "proto/rpc.h"

/* One process: what its families need, taken in one read-side section. */
struct row {
	const struct brm_snapshot *s;
	const struct brm_procstat *st;  /* NULL or not ok: no CPU and memory */
	uint64_t log_lines;
	bool has_logs;
};

/* A label value between quotes, escaped for the exposition format. */
static void put_label_value(struct brm_buf *b, const char *s)
{
	size_t plain = strcspn(s, "\\\"\n");

	brm_buf_addc(b, '"');
	/* Process names never need escaping: copy them whole. */
	brm_buf_add(b, s, plain);
	for (s += plain; *s; s++) {
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
 * Whole numbers, nearly every sample, skip printf and strtod: a scrape of
 * 1000 processes writes some 18,000 values.
 */
static void put_value(struct brm_buf *b, double v)
{
	char buf[32];

	if (v >= 0 && v < 1e15 && v == (double)(uint64_t)v) {
		uint64_t u = (uint64_t)v;
		char *p = buf + sizeof(buf);

		*--p = '\n';
		do {
			*--p = (char)('0' + u % 10);
			u /= 10;
		} while (u);
		brm_buf_add(b, p, (size_t)(buf + sizeof(buf) - p));
		return;
	}
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
	brm_buf_adds(b, metric);
	brm_buf_adds(b, "{name=");
	put_label_value(b, proc);
	if (state) {
		brm_buf_adds(b, ",state=");
		put_label_value(b, state);
	}
	brm_buf_adds(b, "} ");
	put_value(b, v);
}

/* The figures of one row a family shows; false: none for this process. */
enum figure {
	F_UP, F_RESTARTS, F_START_FAILURES, F_START_FAILURES_TOTAL, F_UPTIME, F_CPU, F_RSS,
	F_LOG_LINES, F_LOG_DROPPED, F_HEALTHY,
};

static bool figure(const struct row *r, enum figure f, int64_t now_ms, double *v)
{
	const struct brm_snapshot *s = r->s;
	bool stats = r->st && r->st->ok;

	switch (f) {
	case F_UP:
		*v = s->state == BRM_RUNNING;
		return true;
	case F_RESTARTS:
		*v = s->restarts;
		return true;
	case F_START_FAILURES:
		*v = s->start_failures;
		return true;
	case F_START_FAILURES_TOTAL:
		*v = s->start_failures_total;
		return true;
	case F_UPTIME:
		/* As status's uptime_secs: in milliseconds, at least 1 with a pid. */
		*v = 0;
		if (s->pid > 0 && s->started_ms > 0)
			*v = (double)(now_ms - s->started_ms > 0 ? now_ms - s->started_ms : 1) / 1000;
		return true;
	case F_CPU:
		*v = stats ? r->st->cpu_secs : 0;
		return stats;
	case F_RSS:
		*v = stats ? (double)r->st->rss_bytes : 0;
		return stats;
	case F_LOG_LINES:
		*v = (double)r->log_lines;
		return r->has_logs;
	case F_LOG_DROPPED:
		*v = (double)s->log_dropped;
		return true;
	case F_HEALTHY:
		*v = s->health && !strcmp(s->health, "healthy");
		return s->health && strcmp(s->health, "unknown") != 0;
	}
	return false;
}

static const struct {
	const char *metric, *type, *help;
	enum figure f;
} per_process[] = {
	{ "brummd_process_up", "gauge", "1 when the process is running, else 0.", F_UP },
	{ "brummd_process_restarts_total", "counter",
	  "Automatic restarts by the restart policy since the process was added.", F_RESTARTS },
	{ "brummd_process_start_failures", "gauge",
	  "Failed starts in the current series (back to 0 once it stays up).", F_START_FAILURES },
	{ "brummd_process_uptime_seconds", "gauge",
	  "Seconds since the process's pid was started; 0 when it has none.", F_UPTIME },
	{ "brummd_process_cpu_seconds_total", "counter",
	  "User and system CPU seconds of the process group's members.", F_CPU },
	{ "brummd_process_resident_memory_bytes", "gauge",
	  "Resident set size of the process group's members, in bytes.", F_RSS },
	{ "brummd_process_log_dropped_total", "counter",
	  "Output chunks not written to the log file (its writer fell behind).", F_LOG_DROPPED },
	{ "brummd_process_healthy", "gauge",
	  "1 when the health check passes, 0 when unhealthy; absent without a verdict.",
	  F_HEALTHY },
	{ "brummd_process_start_failures_total", "counter",
	  "Failed starts since the process was added.", F_START_FAILURES_TOTAL },
	{ "brummd_process_log_lines_total", "counter",
	  "Lines in the process's log since it was added: its output and brummd's lines"
	  " about it.", F_LOG_LINES },
};

static void render_processes(struct brm_buf *b, const struct row *rows, size_t n,
			     int64_t now_ms)
{
	double v;

	family(b, "brummd_process_state", "gauge",
	       "1 for the state the process is in, 0 for the others.");
	for (size_t i = 0; i < n; i++)
		for (int st = 0; st < BRM_STATE_COUNT; st++)
			sample(b, "brummd_process_state", rows[i].s->name,
			       brm_state_name((enum brm_state)st), (int)rows[i].s->state == st);
	for (size_t f = 0; f < BRM_ARRAY_SIZE(per_process); f++) {
		family(b, per_process[f].metric, per_process[f].type, per_process[f].help);
		for (size_t i = 0; i < n; i++)
			if (figure(&rows[i], per_process[f].f, now_ms, &v))
				sample(b, per_process[f].metric, rows[i].s->name, NULL, v);
	}
}

/* brummd's resident set size from /proc/self/statm; false when unreadable. */
static bool self_rss(double *v)
{
	char buf[128];
	unsigned long long size, resident;
	int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	if (sscanf(buf, "%llu %llu", &size, &resident) != 2)
		return false;
	*v = (double)resident * (double)sysconf(_SC_PAGESIZE);
	return true;
}

static void render_daemon(struct brm_buf *b, const struct brm_ctx *ctx, size_t nprocs)
{
	double v;

	family(b, "brummd_info", "gauge", "Always 1; the version of brummd in a label.");
	brm_buf_adds(b, "brummd_info{version=");
	put_label_value(b, BRM_VERSION);
	brm_buf_adds(b, "} 1\n");
	family(b, "brummd_uptime_seconds", "gauge", "Seconds since brummd started.");
	brm_buf_adds(b, "brummd_uptime_seconds ");
	/* As ping's uptime_secs: milliseconds. */
	put_value(b, (double)((brm_now_mono_ns() - ctx->start_mono_ns) / 1000000) / 1000);
	family(b, "brummd_processes", "gauge", "Processes brummd manages.");
	brm_buf_addf(b, "brummd_processes %zu\n", nprocs);
	if (self_rss(&v)) {
		family(b, "brummd_resident_memory_bytes", "gauge",
		       "Resident set size of brummd itself, in bytes.");
		brm_buf_adds(b, "brummd_resident_memory_bytes ");
		put_value(b, v);
	}
	brm_reqstats_render(b, ctx);
	brm_spawnstat_render(b);
}

static int cmp_row(const void *a, const void *b)
{
	return strcmp(((const struct row *)a)->s->name, ((const struct row *)b)->s->name);
}

void brm_metrics_render(const struct brm_ctx *ctx, struct brm_buf *out, bool with_stats)
{
	struct brm_procstat_set stats = { 0 };
	struct brm_reg_iter it;
	struct brm_reg_entry *e;
	struct row *rows = NULL;
	size_t n = 0, cap;
	int64_t now = brm_now_wall_ms();

	if (with_stats)
		brm_procstat_collect(ctx->reg, NULL, 0, &stats);
	rcu_read_lock();
	cap = brm_registry_count(ctx->reg) + 16;
	rows = brm_xcalloc(cap, sizeof(*rows));
	brm_registry_for_each(ctx->reg, &it, e) {
		struct brm_logpub *pub = brm_rcu_deref(e->logs);
		struct row *r;

		if (n == cap) {
			cap *= 2;
			rows = brm_xrealloc(rows, cap * sizeof(*rows));
		}
		r = &rows[n++];
		memset(r, 0, sizeof(*r));
		r->s = brm_entry_snapshot(e);
		r->st = brm_procstat_find(&stats, r->s->pid);
		if (pub && pub->ring) {
			uint64_t first, next;

			brm_logring_bounds(pub->ring, &first, &next);
			r->log_lines = next > 0 ? next - 1 : 0;
			r->has_logs = true;
		}
	}
	qsort(rows, n, sizeof(*rows), cmp_row);
	/* About 750 bytes per process: grown once, not doubled ten times. */
	brm_buf_grow(out, 4096 + n * 800);
	render_daemon(out, ctx, n);
	render_processes(out, rows, n, now);
	rcu_read_unlock();
	free(rows);
	brm_procstat_set_finish(&stats);
}

enum brm_method_result brm_m_metrics(struct brm_req *req, struct brm_cmd **cmd)
{
	struct brm_buf *text = &req->scratch->tmp;

	brm_buf_reset(text);
	brm_metrics_render(req->ctx, text, true);
	brm_buf_adds(req->out, "{\"jsonrpc\":\"2.0\",\"id\":");
	brm_buf_adds(req->out, req->id_json);
	brm_buf_adds(req->out, ",\"result\":{\"text\":");
	brm_json_str(req->out, text->p);
	brm_buf_adds(req->out, "}}\n");
	return BRM_REPLIED;
}
