/*
 * logs.c — the output of `logs`, `urls` and `errors`, and `logs --follow`.
 *
 * A child's text reaches the terminal only through put_text(): brummd sends
 * the child's bytes as they were (JSON-escaped), so a line may hold colour
 * codes, cursor movement, window-title sequences or bare control bytes.
 * Colour (SGR) sequences pass when we colour and are removed otherwise;
 * every other escape sequence is removed; other control bytes, C1 controls
 * too, are shown as visible escapes (\xHH, \u0080-\u009f). Tabs pass.
 *
 * The human line is
 *
 *     2026-11-26 17:03:12.123 web | text
 *
 * with the name always present (padded to the longest name the first reply
 * covered), so the format does not change with the number of names; the mark is '|' for
 * stdout, '!' for stderr and '-' for brummd's own lines about the process.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli/brummctl.h"
#include "lib/client.h"
#include "lib/util.h"

#define DIM "\033[2m"
#define RED "\033[1;31m"
#define RESET "\033[0m"

static const char *str_of(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double num_of(const cJSON *obj, const char *key, double dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

/* The length of the escape sequence at @s (s[0] is ESC), and in *@sgr
 * whether it is a complete colour sequence (CSI ... m). */
static size_t escape_len(const char *s, bool *sgr)
{
	const unsigned char *p = (const unsigned char *)s + 1;

	*sgr = false;
	if (*p == '[') {
		/* CSI: parameters 0x30-0x3f, intermediates 0x20-0x2f, final 0x40-0x7e. */
		p++;
		while (*p >= 0x30 && *p <= 0x3f)
			p++;
		while (*p >= 0x20 && *p <= 0x2f)
			p++;
		if (*p >= 0x40 && *p <= 0x7e) {
			*sgr = *p == 'm';
			p++;
		}
		return (size_t)(p - (const unsigned char *)s);
	}
	if (*p == ']' || *p == 'P' || *p == 'X' || *p == '^' || *p == '_') {
		/* OSC, DCS, SOS, PM, APC: up to BEL or ST (ESC \). */
		for (p++; *p; p++) {
			if (*p == 7) {
				p++;
				break;
			}
			if (*p == 0x1b && p[1] == '\\') {
				p += 2;
				break;
			}
		}
		return (size_t)(p - (const unsigned char *)s);
	}
	if (*p >= 0x20 && *p <= 0x7e)
		return 2;
	return 1;
}

/* Write the child's text @s as the file comment says; returns whether a
 * colour sequence passed (the caller resets after the line). */
static bool put_text(FILE *f, const char *s, bool color)
{
	bool coloured = false;
	size_t len = strlen(s);

	/* A line ending in CR (a CRLF program): drop the CR. */
	if (len && s[len - 1] == '\r')
		len--;
	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)s[i];

		if (c == 0x1b) {
			bool sgr;
			size_t n = escape_len(s + i, &sgr);

			if (i + n > len)
				n = len - i;
			if (sgr && color) {
				fwrite(s + i, 1, n, f);
				coloured = true;
			}
			i += n;
		} else if ((c < 0x20 && c != '\t') || c == 0x7f) {
			fprintf(f, "\\x%02x", c);
			i++;
		} else if (c == 0xc2 && i + 1 < len && (unsigned char)s[i + 1] >= 0x80 &&
			   (unsigned char)s[i + 1] <= 0x9f) {
			fprintf(f, "\\u%04x", (unsigned char)s[i + 1]);
			i += 2;
		} else {
			fputc(c, f);
			i++;
		}
	}
	return coloured;
}

/* "2026-11-26 17:03:12" (local time) and, with @ms, ".123". */
static void put_time(FILE *f, double ts, bool ms)
{
	long long t = cli_ts_ms(ts);
	time_t secs = (time_t)(t / 1000);
	struct tm tm;
	char buf[32];

	if (!localtime_r(&secs, &tm) || !strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(buf, sizeof(buf), "%lld", (long long)secs);
	fputs(buf, f);
	if (ms)
		fprintf(f, ".%03lld", t % 1000);
}

static const char *name_color(const char *name)
{
	static const char *const palette[] = {
		"\033[36m", "\033[33m", "\033[32m", "\033[35m", "\033[34m", "\033[96m",
	};
	uint32_t h = 2166136261u;

	for (const char *p = name; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return palette[h % BRM_ARRAY_SIZE(palette)];
}

/* One LINE the human way; @width pads the name column. */
static void print_line(FILE *f, const cJSON *l, int width, bool color)
{
	const char *name = str_of(l, "name"), *stream = str_of(l, "stream");
	const char *text = str_of(l, "line");
	bool cut = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(l, "cut"));
	bool err = stream && !strcmp(stream, "stderr");
	bool own = stream && !strcmp(stream, "brummd");
	const char *mark = err ? "!" : own ? "-" : "|";

	if (!name)
		name = "?";
	if (color)
		fputs(DIM, f);
	put_time(f, num_of(l, "ts", 0), true);
	fputc(' ', f);
	if (color)
		fprintf(f, RESET "%s", name_color(name));
	/* Names are checked by brummd: printable ASCII, nothing to escape. */
	fprintf(f, "%-*s", width, name);
	if (color)
		fprintf(f, RESET " %s%s" RESET " %s", err ? RED : DIM, mark, own ? DIM : "");
	else
		fprintf(f, " %s ", mark);
	if (put_text(f, text ? text : "", color) || (color && own))
		fputs(RESET, f);
	if (cut)
		fputs(color ? DIM " [cut]" RESET : " [cut]", f);
	fputc('\n', f);
}

/* The width of the name column: the longest name the first reply covers
 * (its "next_seq" has every process the names, groups or patterns took),
 * kept for the lines that follow. */
static int logs_width;

static int name_width(const cJSON *result)
{
	const cJSON *next = cJSON_GetObjectItemCaseSensitive(result, "next_seq"), *it;
	size_t w = 0;

	cJSON_ArrayForEach(it, next)
		if (it->string && strlen(it->string) > w)
			w = strlen(it->string);
	return (int)(w > 64 ? 64 : w);
}

static void print_logs(FILE *f, const struct cli_opts *o, const cJSON *result, bool color)
{
	const cJSON *lines = cJSON_GetObjectItemCaseSensitive(result, "lines"), *l;
	int width = logs_width = name_width(result);

	if (o->reopen) {
		if (o->json)
			cli_print_json(f, result);
		else if (isatty(fileno(f)))
			fputs("log files will be reopened before their next write\n", f);
		return;
	}
	cJSON_ArrayForEach(l, lines) {
		if (o->json)
			cli_print_json(f, l);
		else if (cJSON_IsObject(l))
			print_line(f, l, width, color);
	}
}

static void print_urls(FILE *f, const struct cli_opts *o, const cJSON *result, bool color)
{
	const cJSON *procs = cJSON_GetObjectItemCaseSensitive(result, "processes"), *p, *u;
	cJSON *out = NULL, *arr = NULL;
	size_t width = strlen("NAME"), n = 0;

	if (o->json) {
		out = cJSON_CreateObject();
		arr = cJSON_AddArrayToObject(out, "urls");
		if (!out || !arr)
			brm_oom(0);
	}
	cJSON_ArrayForEach(p, procs) {
		const char *name = str_of(p, "name");

		cJSON_ArrayForEach(u, cJSON_GetObjectItemCaseSensitive(p, "urls")) {
			if (!name || !cJSON_IsString(u))
				continue;
			if (strlen(name) > width)
				width = strlen(name);
			n++;
			if (arr) {
				cJSON *row = cJSON_CreateObject();

				if (!row || !cJSON_AddStringToObject(row, "name", name) ||
				    !cJSON_AddStringToObject(row, "url", u->valuestring) ||
				    !cJSON_AddItemToArray(arr, row))
					brm_oom(0);
			}
		}
	}
	if (out) {
		cli_print_json(f, out);
		cJSON_Delete(out);
		return;
	}
	if (n == 0) {
		if (isatty(fileno(f)))
			fprintf(f, "%s(no URLs seen in the output)%s\n", color ? DIM : "",
				color ? RESET : "");
		return;
	}
	fprintf(f, "%-*s   URL\n", (int)width, "NAME");
	cJSON_ArrayForEach(p, procs) {
		const char *name = str_of(p, "name");

		cJSON_ArrayForEach(u, cJSON_GetObjectItemCaseSensitive(p, "urls")) {
			if (!name || !cJSON_IsString(u))
				continue;
			fprintf(f, "%-*s   ", (int)width, name);
			put_text(f, u->valuestring, false);
			fputc('\n', f);
		}
	}
}

static void print_errors(FILE *f, const struct cli_opts *o, const cJSON *result, bool color)
{
	const cJSON *errs = cJSON_GetObjectItemCaseSensitive(result, "errors"), *e;
	size_t width = 0;
	bool first = true;

	if (o->json) {
		cli_print_json(f, result);
		return;
	}
	cJSON_ArrayForEach(e, errs) {
		const char *name = str_of(e, "name");

		if (name && strlen(name) > width)
			width = strlen(name);
	}
	cJSON_ArrayForEach(e, errs) {
		const char *name = str_of(e, "name"), *text = str_of(e, "text");
		const char *stream = str_of(e, "stream");
		char *copy, *line, *save = NULL;

		if (!name || !text)
			continue;
		if (!first)
			fputc('\n', f);
		first = false;
		fprintf(f, "%s%-*s%s  ", color ? RED : "", (int)width, name, color ? RESET : "");
		put_time(f, num_of(e, "ts", 0), false);
		fprintf(f, "  %s(seq %.0f, %.0f line%s%s%s)%s\n", color ? DIM : "",
			num_of(e, "seq", 0), num_of(e, "lines", 0),
			num_of(e, "lines", 0) == 1 ? "" : "s", stream ? ", " : "",
			stream ? stream : "", color ? RESET : "");
		copy = brm_xstrdup(text);
		/* strsep, not strtok: the empty lines of a trace stay. */
		save = copy;
		while ((line = strsep(&save, "\n"))) {
			if (*line)
				fputs("    ", f);
			if (put_text(f, line, color))
				fputs(RESET, f);
			fputc('\n', f);
		}
		free(copy);
	}
	if (first && isatty(fileno(f)))
		fprintf(f, "%s(no errors seen)%s\n", color ? DIM : "", color ? RESET : "");
}

void cli_logs_print_result(FILE *f, const struct cli_opts *o, const cJSON *result, bool color)
{
	switch (o->cmd->id) {
	case CMD_LOGS:
		print_logs(f, o, result, color);
		break;
	case CMD_URLS:
		print_urls(f, o, result, color);
		break;
	case CMD_ERRORS:
		print_errors(f, o, result, color);
		break;
	default:
		break;
	}
}

/* ---- follow ---- */

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
	stop_signal = sig;
}

void cli_logs_catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a wait returns early (the client retries it, and the
	 * loop below looks at the flag at least every POLL_MS). */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

#define POLL_MS 200

static void handle_message(FILE *f, const struct cli_opts *o, const cJSON *m, int width,
			   bool color)
{
	const char *method = str_of(m, "method");
	const cJSON *params = cJSON_GetObjectItemCaseSensitive(m, "params");
	const cJSON *error = cJSON_GetObjectItemCaseSensitive(m, "error");

	if (method && !strcmp(method, "logs") && cJSON_IsObject(params)) {
		if (o->json)
			cli_print_json(f, params);
		else
			print_line(f, params, width, color);
	} else if (method && !strcmp(method, "logs.gap") && cJSON_IsObject(params)) {
		const char *name = str_of(params, "name");

		/* Keep stdout's lines and the notice in order on a shared terminal. */
		fflush(f);
		fprintf(stderr, "brummctl: %s: missed %.0f lines\n", name ? name : "?",
			num_of(params, "missed", 0));
		if (o->json) {
			cJSON *gap = cJSON_CreateObject();

			if (!gap || !cJSON_AddItemToObject(gap, "gap", cJSON_Duplicate(params, 1)))
				brm_oom(0);
			cli_print_json(f, gap);
			cJSON_Delete(gap);
		}
	} else if (cJSON_IsObject(error)) {
		/* A stray error reply (over a limit): brummd closes next. */
		const char *msg = str_of(error, "message");

		fprintf(stderr, "brummctl: %s\n", msg ? msg : "error from brummd");
	}
	/* Anything else is from a later protocol version: ignore it. */
}

int cli_logs_follow(FILE *f, struct brm_client *c, const struct cli_opts *o, bool color)
{
	int width = logs_width;
	bool pending = true;

	while (!stop_signal) {
		cJSON *m = NULL;
		int r = brm_client_next(c, &m, pending ? 0 : POLL_MS);

		if (r == -ETIMEDOUT) {
			/* Flush once nothing more is waiting, not per line. */
			if (pending)
				fflush(f);
			pending = false;
			/* stdout is gone (a full disk, a closed pipe with SIGPIPE
			 * ignored): main() reports it. */
			if (ferror(f))
				return 0;
			continue;
		}
		if (r < 0) {
			fflush(f);
			return stop_signal ? 0 : r;
		}
		handle_message(f, o, m, width, color);
		cJSON_Delete(m);
		pending = true;
	}
	fflush(f);
	return 0;
}

void cli_logs_print_message(FILE *f, const struct cli_opts *o, const cJSON *m, int width,
			    bool color)
{
	handle_message(f, o, m, width, color);
}

bool cli_logs_stop_requested(void)
{
	return stop_signal != 0;
}

bool cli_put_text(FILE *f, const char *s, bool color)
{
	return put_text(f, s, color);
}
