/*
 * table.c — results for people: a table of process snapshots with columns
 * sized to their content, the ping line, and the per-process detail of a
 * failed wait. Scripts use --json instead; this output may change.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli/brummctl.h"
#include "lib/buf.h"
#include "lib/util.h"

enum { COL_NAME, COL_STATE, COL_HEALTH, COL_PID, COL_UPTIME, COL_CPU, COL_MEM, COL_PORTS,
       COL_RESTARTS, COL_EXIT, COL_NOTE, NCOLS };

static const char *const headers[NCOLS] = {
	"NAME", "STATE", "HEALTH", "PID", "UPTIME", "CPU", "MEM", "PORTS", "RESTARTS", "LAST EXIT",
	"NOTE",
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

/*
 * llround() without libm: the CLI then needs no libm at all (its startup
 * maps no library it does not use, performance issue 13). Halves round
 * away from zero, as llround() did; ms - whole is exact for a double.
 */
long long cli_ts_ms(double ts)
{
	double ms = ts * 1000.0;
	long long whole;

	if (!isfinite(ts) || ts <= 0 || !(ms < 0x1p63))
		return 0;
	whole = (long long)ms;
	return ms - (double)whole >= 0.5 ? whole + 1 : whole;
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

static const char *const row_strs[CLI_ROW_NSTR] = {
	[CLI_ROW_NAME] = "name", [CLI_ROW_STATE] = "state", [CLI_ROW_HEALTH] = "health",
	[CLI_ROW_EXIT_SIGNAL] = "exit_signal", [CLI_ROW_ERROR] = "error",
	[CLI_ROW_WAITING_FOR] = "waiting_for", [CLI_ROW_TYPE] = "type",
};
static const char *const row_nums[CLI_ROW_NNUM] = {
	[CLI_ROW_PID] = "pid", [CLI_ROW_UPTIME] = "uptime_secs", [CLI_ROW_CPU] = "cpu_percent",
	[CLI_ROW_RSS] = "rss_bytes", [CLI_ROW_RESTARTS] = "restarts",
	[CLI_ROW_EXIT_CODE] = "exit_code",
};

void cli_row_add_port(struct cli_row *row, double port)
{
	size_t len = strlen(row->ports), cap = sizeof(row->ports);
	char num[8];
	int n;

	if (!(port >= 1 && port <= 65535) || (unsigned)port == row->last_port)
		return;
	row->last_port = (unsigned)port;
	if (len >= 4 && !strcmp(row->ports + len - 4, ",..."))
		return;
	n = snprintf(num, sizeof(num), "%u", (unsigned)port);
	/* room for ",NUM" and, later, ",..." */
	if (len + 1 + (size_t)n + 4 < cap)
		snprintf(row->ports + len, cap - len, "%s%s", len ? "," : "", num);
	else
		snprintf(row->ports + len, cap - len, ",...");
}

cJSON *cli_row_fields(bool ports)
{
	cJSON *a = cJSON_CreateArray();

	if (!a)
		brm_oom(0);
	for (int i = 0; i < CLI_ROW_NSTR; i++)
		if (!cJSON_AddItemToArray(a, cJSON_CreateString(row_strs[i])))
			brm_oom(0);
	for (int i = 0; i < CLI_ROW_NNUM; i++)
		if (!cJSON_AddItemToArray(a, cJSON_CreateString(row_nums[i])))
			brm_oom(0);
	if (ports && !cJSON_AddItemToArray(a, cJSON_CreateString("ports")))
		brm_oom(0);
	return a;
}

int cli_row_key(const char *key, size_t len, bool *is_num)
{
	static size_t str_len[CLI_ROW_NSTR], num_len[CLI_ROW_NNUM];

	if (!str_len[0]) {
		for (int i = 0; i < CLI_ROW_NNUM; i++)
			num_len[i] = strlen(row_nums[i]);
		for (int i = CLI_ROW_NSTR; i-- > 0;)
			str_len[i] = strlen(row_strs[i]);
	}
	for (int i = 0; i < CLI_ROW_NSTR; i++)
		if (str_len[i] == len && row_strs[i][0] == key[0] &&
		    !memcmp(row_strs[i], key, len)) {
			*is_num = false;
			return i;
		}
	for (int i = 0; i < CLI_ROW_NNUM; i++)
		if (num_len[i] == len && row_nums[i][0] == key[0] &&
		    !memcmp(row_nums[i], key, len)) {
			*is_num = true;
			return i;
		}
	return -1;
}

/* SNAP's "ports" into @row: the "port" of each object, in order. */
static void row_ports(struct cli_row *row, const cJSON *ports)
{
	const cJSON *it, *port;

	row->has_ports = ports != NULL;
	if (!cJSON_IsArray(ports))
		return;
	cJSON_ArrayForEach(it, ports) {
		if (!cJSON_IsObject(it))
			continue;
		port = field(it, "port");
		if (port && cJSON_IsNumber(port))
			cli_row_add_port(row, port->valuedouble);
	}
}

/* The fields of @snap the table shows. Ownership: the strings are @snap's. */
static void row_of(struct cli_row *row, const cJSON *snap)
{
	memset(row, 0, sizeof(*row));
	for (int i = 0; i < CLI_ROW_NSTR; i++)
		row->str[i] = str_field(snap, row_strs[i], NULL);
	for (int i = 0; i < CLI_ROW_NNUM; i++) {
		const cJSON *v = field(snap, row_nums[i]);

		if (cJSON_IsNumber(v)) {
			row->num[i] = v->valuedouble;
			row->is_num |= 1u << i;
		}
	}
	row->has_cpu = field(snap, "cpu_percent") != NULL;
	row_ports(row, field(snap, "ports"));
}

static bool is_num(const struct cli_row *row, enum cli_row_num i)
{
	return row->is_num & (1u << i);
}

static const char *row_str(const struct cli_row *row, enum cli_row_str i, const char *dflt)
{
	return row->str[i] ? row->str[i] : dflt;
}

/* A cell's text: in @buf when it fits, else allocated into *@owned. */
static const char *cellf(char *buf, size_t size, char **owned, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static const char *cellf(char *buf, size_t size, char **owned, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < size)
		return buf;
	va_start(ap, fmt);
	if (vasprintf(owned, fmt, ap) < 0)
		brm_oom(0);
	va_end(ap);
	return *owned;
}

/* One row's cells, with room for the numbers; CELL_BUF fits any but a
 * number of over 60 digits, which goes to @owned. */
#define CELL_BUF 64
struct cells {
	const char *c[NCOLS];
	char buf[NCOLS][CELL_BUF];
	char *owned[NCOLS];
};

static const char *num_cell(struct cells *k, int col, const struct cli_row *row,
			    enum cli_row_num i)
{
	double v = row->num[i];

	if (!is_num(row, i))
		return "-";
	/* What "%.0f" prints, without its cost, for the whole numbers that
	 * pids and counts are (not -0, which "%.0f" prints with its sign). */
	if (fabs(v) < 1e15 && v == (double)(long long)v && !(v == 0 && signbit(v))) {
		snprintf(k->buf[col], CELL_BUF, "%lld", (long long)v);
		return k->buf[col];
	}
	return cellf(k->buf[col], CELL_BUF, &k->owned[col], "%.0f", v);
}

/* "12.5%" or "-". */
static const char *cpu_cell(struct cells *k, const struct cli_row *row)
{
	if (!is_num(row, CLI_ROW_CPU))
		return "-";
	return cellf(k->buf[COL_CPU], CELL_BUF, &k->owned[COL_CPU], "%.1f%%",
		     row->num[CLI_ROW_CPU]);
}

/* "640K", "12.3M", "1.2G" or "-". */
static const char *mem_cell(struct cells *k, const struct cli_row *row)
{
	char *b = k->buf[COL_MEM], **o = &k->owned[COL_MEM];
	double v;

	if (!is_num(row, CLI_ROW_RSS))
		return "-";
	v = row->num[CLI_ROW_RSS];
	if (v < 1024.0 * 1024)
		return cellf(b, CELL_BUF, o, "%.0fK", v / 1024);
	if (v < 1024.0 * 1024 * 1024)
		return cellf(b, CELL_BUF, o, "%.1fM", v / (1024.0 * 1024));
	return cellf(b, CELL_BUF, o, "%.1fG", v / (1024.0 * 1024 * 1024));
}

/* "-", "0", "1", or "SIGKILL". */
static const char *exit_cell(struct cells *k, const struct cli_row *row)
{
	const char *sig = row->str[CLI_ROW_EXIT_SIGNAL];

	if (sig)
		return strncmp(sig, "SIG", 3) == 0 ? sig
			: cellf(k->buf[COL_EXIT], CELL_BUF, &k->owned[COL_EXIT], "SIG%s", sig);
	return num_cell(k, COL_EXIT, row, CLI_ROW_EXIT_CODE);
}

/*
 * "healthy", "unhealthy", "starting" (a run whose check has no verdict
 * yet), or "-": no check, or no run to check.
 */
static const char *health_cell(const struct cli_row *row)
{
	const char *h = row->str[CLI_ROW_HEALTH];

	if (!h || !is_num(row, CLI_ROW_PID))
		return "-";
	return strcmp(h, "unknown") ? h : "starting";
}

/* What a person should know beyond the columns: the error, what a
 * waiting process waits for, or that it is a one-shot job (and completed). */
static const char *note_cell(struct cells *k, const struct cli_row *row)
{
	const char *err = row->str[CLI_ROW_ERROR];
	const char *wf = row->str[CLI_ROW_WAITING_FOR];
	const char *type = row->str[CLI_ROW_TYPE];

	if (err && *err)
		return err;
	if (wf && *wf)
		return cellf(k->buf[COL_NOTE], CELL_BUF, &k->owned[COL_NOTE], "waiting for %s", wf);
	if (type && !strcmp(type, "oneshot")) {
		const char *st = row_str(row, CLI_ROW_STATE, "");

		if (!strcmp(st, "exited") && is_num(row, CLI_ROW_EXIT_CODE) &&
		    row->num[CLI_ROW_EXIT_CODE] == 0)
			return "one-shot, completed";
		return "one-shot";
	}
	return "";
}

static void cells_of(struct cells *k, const struct cli_row *row)
{
	memset(k->owned, 0, sizeof(k->owned));
	k->c[COL_NAME] = row_str(row, CLI_ROW_NAME, "?");
	k->c[COL_STATE] = row_str(row, CLI_ROW_STATE, "?");
	k->c[COL_HEALTH] = health_cell(row);
	k->c[COL_PID] = num_cell(k, COL_PID, row, CLI_ROW_PID);
	k->c[COL_UPTIME] = is_num(row, CLI_ROW_UPTIME)
		? cli_human_secs(row->num[CLI_ROW_UPTIME], k->buf[COL_UPTIME], CELL_BUF) : "-";
	k->c[COL_CPU] = cpu_cell(k, row);
	k->c[COL_MEM] = mem_cell(k, row);
	k->c[COL_PORTS] = row->ports[0] ? row->ports : "-";
	k->c[COL_RESTARTS] = num_cell(k, COL_RESTARTS, row, CLI_ROW_RESTARTS);
	k->c[COL_EXIT] = exit_cell(k, row);
	k->c[COL_NOTE] = note_cell(k, row);
}

static void cells_finish(struct cells *k)
{
	for (size_t c = 0; c < NCOLS; c++)
		free(k->owned[c]);
}

void cli_print_rows(FILE *f, const struct cli_row *rows, size_t n, bool color)
{
	size_t width[NCOLS], ncols = NCOLS - 1;
	struct cells *cells = brm_xcalloc(n + 1, sizeof(*cells));
	struct brm_buf out = BRM_BUF_INIT;
	bool stats = false;   /* CPU and MEM only when the result has them (status --stats) */
	bool ports = false;   /* PORTS likewise (status --ports) */

	for (size_t c = 0; c < NCOLS; c++)
		width[c] = strlen(headers[c]);
	for (size_t r = 0; r < n; r++)
		stats |= rows[r].has_cpu;
	for (size_t r = 0; r < n; r++)
		ports |= rows[r].has_ports;
	for (size_t r = 0; r < n; r++) {
		struct cells *k = &cells[r];

		cells_of(k, &rows[r]);
		if (*k->c[COL_NOTE])
			ncols = NCOLS;
		for (size_t c = 0; c < NCOLS; c++)
			if (strlen(k->c[c]) > width[c])
				width[c] = strlen(k->c[c]);
	}

	/* One buffer, one write: a line of printf calls per cell costs more
	 * than the reply's scan at a thousand rows. */
	for (size_t r = 0; r <= n; r++) {
		/* No trailing blanks: a row without a note ends at LAST EXIT. */
		size_t end = r && !*cells[r - 1].c[COL_NOTE] ? COL_NOTE : ncols;

		for (size_t c = 0; c < end; c++) {
			const char *text = r ? cells[r - 1].c[c] : headers[c];
			const char *on = !r || !color ? NULL
					 : c == COL_STATE ? state_color(text)
					 : c == COL_HEALTH ? health_color(text) : NULL;
			bool last = c + 1 == end;
			size_t len = strlen(text);

			if (!stats && (c == COL_CPU || c == COL_MEM))
				continue;
			if (!ports && c == COL_PORTS)
				continue;
			if (on)
				brm_buf_adds(&out, on);
			brm_buf_add(&out, text, len);
			if (on)
				brm_buf_adds(&out, "\033[0m");
			for (size_t pad = last ? 0 : width[c] - len + GAP; pad;) {
				static const char blanks[] = "                                ";
				size_t k = pad < sizeof(blanks) - 1 ? pad : sizeof(blanks) - 1;

				brm_buf_add(&out, blanks, k);
				pad -= k;
			}
		}
		brm_buf_addc(&out, '\n');
	}
	if (out.len)
		fwrite(out.p, 1, out.len, f);
	brm_buf_finish(&out);
	for (size_t r = 0; r < n; r++)
		cells_finish(&cells[r]);
	free(cells);
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
	struct cli_row *rows = brm_xcalloc(n + 1, sizeof(*rows));

	for (size_t r = 0; r < n; r++)
		row_of(&rows[r], snaps[r]);
	cli_print_rows(f, rows, n, color);
	free(rows);
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
		fputs(CLI_NO_PROCESSES_HINT, f);
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
		struct cli_row row;
		struct cells k;
		const char *ex, *note;

		row_of(&row, s);
		memset(k.owned, 0, sizeof(k.owned));
		ex = exit_cell(&k, &row);
		note = note_cell(&k, &row);
		fprintf(f, "  %s: %s", str_field(s, "name", "?"), str_field(s, "state", "?"));
		if (strcmp(ex, "-") != 0)
			fprintf(f, ", last exit %s", ex);
		if (*note)
			fprintf(f, " (%s)", note);
		cells_finish(&k);
		fputc('\n', f);
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
