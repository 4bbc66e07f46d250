/*
 * table.c — results for people: a table of process snapshots with columns
 * sized to their content, the ping line, and the per-process detail of a
 * failed wait. Scripts use --json instead; this output may change.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli/brummctl.h"
#include "lib/util.h"

enum { COL_NAME, COL_STATE, COL_HEALTH, COL_PID, COL_UPTIME, COL_CPU, COL_MEM, COL_RESTARTS,
       COL_EXIT, COL_NOTE, NCOLS };

static const char *const headers[NCOLS] = {
	"NAME", "STATE", "HEALTH", "PID", "UPTIME", "CPU", "MEM", "RESTARTS", "LAST EXIT", "NOTE",
};

#define GAP 3

bool cli_want_color(void)
{
	const char *term = getenv("TERM");

	if (getenv("NO_COLOR"))
		return false;
	if (term && strcmp(term, "dumb") == 0)
		return false;
	return isatty(STDOUT_FILENO) == 1;
}

const char *cli_human_secs(double secs, char *buf, size_t size)
{
	unsigned long long s;

	if (!isfinite(secs) || secs < 0)
		secs = 0;
	s = (unsigned long long)secs;
	if (s < 60)
		snprintf(buf, size, "%llus", s);
	else if (s < 3600)
		snprintf(buf, size, "%llum%02llus", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, size, "%lluh%02llum", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, size, "%llud%02lluh", s / 86400, s % 86400 / 3600);
	return buf;
}

static const char *state_color(const char *state)
{
	if (strcmp(state, "running") == 0)
		return "\033[32m";
	if (strcmp(state, "starting") == 0 || strcmp(state, "backoff") == 0 ||
	    strcmp(state, "stopping") == 0 || strcmp(state, "waiting") == 0)
		return "\033[33m";
	if (strcmp(state, "fatal") == 0)
		return "\033[1;31m";
	if (strcmp(state, "stopped") == 0 || strcmp(state, "exited") == 0)
		return "\033[2m";
	return NULL;
}

static const char *health_color(const char *health)
{
	if (strcmp(health, "healthy") == 0)
		return "\033[32m";
	if (strcmp(health, "unhealthy") == 0)
		return "\033[1;31m";
	if (strcmp(health, "starting") == 0)
		return "\033[33m";
	return NULL;
}

static const cJSON *field(const cJSON *snap, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(snap, key);
}

static const char *str_field(const cJSON *snap, const char *key, const char *dflt)
{
	const cJSON *v = field(snap, key);

	return cJSON_IsString(v) ? v->valuestring : dflt;
}

static char *num_cell(const cJSON *v)
{
	if (!cJSON_IsNumber(v))
		return brm_xstrdup("-");
	return brm_xasprintf("%.0f", v->valuedouble);
}

/* "12.5%" or "-". */
static char *cpu_cell(const cJSON *v)
{
	if (!cJSON_IsNumber(v))
		return brm_xstrdup("-");
	return brm_xasprintf("%.1f%%", v->valuedouble);
}

/* "640K", "12.3M", "1.2G" or "-". */
static char *mem_cell(const cJSON *v)
{
	double b;

	if (!cJSON_IsNumber(v))
		return brm_xstrdup("-");
	b = v->valuedouble;
	if (b < 1024.0 * 1024)
		return brm_xasprintf("%.0fK", b / 1024);
	if (b < 1024.0 * 1024 * 1024)
		return brm_xasprintf("%.1fM", b / (1024.0 * 1024));
	return brm_xasprintf("%.1fG", b / (1024.0 * 1024 * 1024));
}

/* "-", "0", "1", or "SIGKILL". */
static char *exit_cell(const cJSON *snap)
{
	const char *sig = str_field(snap, "exit_signal", NULL);

	if (sig)
		return strncmp(sig, "SIG", 3) == 0 ? brm_xstrdup(sig)
						   : brm_xasprintf("SIG%s", sig);
	return num_cell(field(snap, "exit_code"));
}

/*
 * "healthy", "unhealthy", "starting" (a run whose check has no verdict
 * yet), or "-": no check, or no run to check.
 */
static char *health_cell(const cJSON *snap)
{
	const char *h = str_field(snap, "health", NULL);

	if (!h || !cJSON_IsNumber(field(snap, "pid")))
		return brm_xstrdup("-");
	return brm_xstrdup(strcmp(h, "unknown") ? h : "starting");
}

/* What a person should know beyond the columns: the error, what a
 * waiting process waits for, or that it is a one-shot job (and completed). */
static char *note_cell(const cJSON *snap)
{
	const char *err = str_field(snap, "error", NULL);
	const char *wf = str_field(snap, "waiting_for", NULL);
	const char *type = str_field(snap, "type", NULL);
	const cJSON *code = field(snap, "exit_code");

	if (err && *err)
		return brm_xstrdup(err);
	if (wf && *wf)
		return brm_xasprintf("waiting for %s", wf);
	if (type && !strcmp(type, "oneshot")) {
		const char *st = str_field(snap, "state", "");

		if (!strcmp(st, "exited") && cJSON_IsNumber(code) && code->valuedouble == 0)
			return brm_xstrdup("one-shot, completed");
		return brm_xstrdup("one-shot");
	}
	return brm_xstrdup("");
}

/* The snapshots a result holds: {"processes": [...]}, one SNAP, or an array. */
static const cJSON *snapshots(const cJSON *result, const cJSON **single)
{
	const cJSON *procs;

	*single = NULL;
	if (cJSON_IsArray(result))
		return result;
	procs = cJSON_GetObjectItemCaseSensitive(result, "processes");
	if (cJSON_IsArray(procs))
		return procs;
	if (cJSON_IsObject(result) && cJSON_IsString(field(result, "name")))
		*single = result;
	return NULL;
}

static void print_table(FILE *f, const cJSON *const *snaps, size_t n, bool color)
{
	size_t width[NCOLS], ncols = NCOLS - 1;
	char **cells = brm_xcalloc(n * NCOLS + 1, sizeof(*cells));
	char tmp[32];
	bool stats = false;   /* CPU and MEM only when the result has them (status --stats) */

	for (size_t c = 0; c < NCOLS; c++)
		width[c] = strlen(headers[c]);
	for (size_t r = 0; r < n; r++)
		stats |= field(snaps[r], "cpu_percent") != NULL;
	for (size_t r = 0; r < n; r++) {
		const cJSON *s = snaps[r], *up = field(s, "uptime_secs");
		char **row = cells + r * NCOLS;

		row[COL_NAME] = brm_xstrdup(str_field(s, "name", "?"));
		row[COL_STATE] = brm_xstrdup(str_field(s, "state", "?"));
		row[COL_HEALTH] = health_cell(s);
		row[COL_PID] = num_cell(field(s, "pid"));
		row[COL_UPTIME] = brm_xstrdup(cJSON_IsNumber(up)
			? cli_human_secs(up->valuedouble, tmp, sizeof(tmp)) : "-");
		row[COL_CPU] = cpu_cell(field(s, "cpu_percent"));
		row[COL_MEM] = mem_cell(field(s, "rss_bytes"));
		row[COL_RESTARTS] = num_cell(field(s, "restarts"));
		row[COL_EXIT] = exit_cell(s);
		row[COL_NOTE] = note_cell(s);
		if (*row[COL_NOTE])
			ncols = NCOLS;
		for (size_t c = 0; c < NCOLS; c++)
			if (strlen(row[c]) > width[c])
				width[c] = strlen(row[c]);
	}

	for (size_t r = 0; r <= n; r++) {
		/* No trailing blanks: a row without a note ends at LAST EXIT. */
		size_t end = r && !*cells[(r - 1) * NCOLS + COL_NOTE] ? COL_NOTE : ncols;

		for (size_t c = 0; c < end; c++) {
			const char *text = r ? cells[(r - 1) * NCOLS + c] : headers[c];
			const char *on = !r || !color ? NULL
					 : c == COL_STATE ? state_color(text)
					 : c == COL_HEALTH ? health_color(text) : NULL;
			bool last = c + 1 == end;

			if (!stats && (c == COL_CPU || c == COL_MEM))
				continue;
			fprintf(f, "%s%s%s", on ? on : "", text, on ? "\033[0m" : "");
			if (!last)
				fprintf(f, "%*s", (int)(width[c] - strlen(text) + GAP), "");
		}
		fputc('\n', f);
	}
	for (size_t i = 0; i < n * NCOLS; i++)
		free(cells[i]);
	free(cells);
}

static void print_ping(FILE *f, const cJSON *r)
{
	const cJSON *pid = field(r, "pid"), *up = field(r, "uptime_secs");
	char tmp[32];

	fprintf(f, "brummd %s", str_field(r, "version", "(unknown version)"));
	if (cJSON_IsNumber(pid))
		fprintf(f, ", pid %.0f", pid->valuedouble);
	if (cJSON_IsNumber(up))
		fprintf(f, ", up %s", cli_human_secs(up->valuedouble, tmp, sizeof(tmp)));
	fputc('\n', f);
}

/* One line per non-empty list of the reload result: "restarted: web, db". */
static void print_reload(FILE *f, const cJSON *r)
{
	static const char *const keys[] = {
		"added", "removed", "restarted", "updated", "unchanged", "not_applied",
	};
	bool any = false;

	for (size_t i = 0; i < BRM_ARRAY_SIZE(keys); i++) {
		const cJSON *arr = cJSON_GetObjectItemCaseSensitive(r, keys[i]), *it;
		bool first = true;

		if (!cJSON_IsArray(arr) || !cJSON_GetArraySize(arr))
			continue;
		fprintf(f, "%s: ", keys[i]);
		cJSON_ArrayForEach(it, arr) {
			fprintf(f, "%s%s", first ? "" : ", ", cJSON_IsString(it) ? it->valuestring : "?");
			first = false;
		}
		fputc('\n', f);
		any = true;
	}
	if (!any)
		fprintf(f, "reloaded: no processes\n");
}

/* signal: the targets it did not reach, one line each, after the table. */
static void print_skipped(FILE *f, const cJSON *result)
{
	const cJSON *skipped = cJSON_GetObjectItemCaseSensitive(result, "skipped"), *s;

	cJSON_ArrayForEach(s, skipped)
		fprintf(f, "skipped %s: %s (%s)\n", str_field(s, "name", "?"),
			str_field(s, "reason", "not signalled"), str_field(s, "state", "?"));
}

void cli_print_result(FILE *f, enum cli_cmd_id cmd, const cJSON *result, bool color)
{
	const cJSON *single, *arr, *it;
	const cJSON **snaps;
	size_t n = 0;

	if (cmd == CMD_PING) {
		print_ping(f, result);
		return;
	}
	if (cmd == CMD_RELOAD) {
		print_reload(f, result);
		return;
	}
	arr = snapshots(result, &single);
	if (!arr && !single) {
		/* Not a shape this brummctl knows: show it rather than nothing. */
		char *text = cJSON_Print(result);

		if (text)
			fprintf(f, "%s\n", text);
		free(text);
		return;
	}
	snaps = brm_xcalloc(arr ? (size_t)cJSON_GetArraySize(arr) + 1 : 1, sizeof(*snaps));
	if (single) {
		snaps[n++] = single;
	} else {
		cJSON_ArrayForEach(it, arr)
			if (cJSON_IsObject(it))
				snaps[n++] = it;
	}
	print_table(f, snaps, n, color);
	if (cmd == CMD_SIGNAL)
		print_skipped(f, result);
	if (n == 0 && cmd == CMD_STATUS && isatty(fileno(f)))
		fputs("(no processes; add one with 'brummctl add NAME -- CMD [ARGS...]')\n", f);
	free(snaps);
}

void cli_print_error_processes(FILE *f, const cJSON *data)
{
	const cJSON *procs = cJSON_GetObjectItemCaseSensitive(data, "processes"), *s;
	const cJSON *errors = cJSON_GetObjectItemCaseSensitive(data, "errors");

	if (cJSON_IsArray(errors))   /* reload: the config's problems */
		cJSON_ArrayForEach(s, errors)
			if (cJSON_IsString(s))
				fprintf(f, "  %s\n", s->valuestring);
	if (!cJSON_IsArray(procs))
		return;
	cJSON_ArrayForEach(s, procs) {
		char *ex = exit_cell(s), *note = note_cell(s);

		fprintf(f, "  %s: %s", str_field(s, "name", "?"), str_field(s, "state", "?"));
		if (strcmp(ex, "-") != 0)
			fprintf(f, ", last exit %s", ex);
		if (*note)
			fprintf(f, " (%s)", note);
		free(note);
		fputc('\n', f);
		free(ex);
	}
}

void cli_print_json(FILE *f, const cJSON *v)
{
	char *text = cJSON_PrintUnformatted(v);

	if (!text)
		brm_oom(0);
	fprintf(f, "%s\n", text);
	free(text);
}
