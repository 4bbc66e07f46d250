/*
 * dlog.c — `brummctl log`: brummd's own log (the `daemon_log` method), as
 * `supervisorctl maintail` shows supervisord's. A line reads as brummd
 * writes it to stderr,
 *
 *     2026-12-05T10:00:00.123Z info  web: started, pid 4242
 *
 * (UTC, so it matches a log file or `journalctl -o short-iso-precise
 * --utc`). With --json each line is its JSON object; -f follows until ^C
 * or SIGTERM (exit 0) or until brummd goes away (exit 3).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "cli/brummctl.h"
#include "lib/client.h"
#include "lib/util.h"

#define POLL_MS 200
#define YELLOW "\033[33m"
#define RED "\033[1;31m"
#define DIM "\033[2m"
#define RESET "\033[0m"

static void print_line(FILE *f, const cJSON *l, bool color)
{
	const cJSON *ts = cJSON_GetObjectItemCaseSensitive(l, "ts");
	const cJSON *lv = cJSON_GetObjectItemCaseSensitive(l, "level");
	const cJSON *text = cJSON_GetObjectItemCaseSensitive(l, "line");
	const char *level = cJSON_IsString(lv) ? lv->valuestring : "info";
	long long ms = cli_ts_ms(cJSON_IsNumber(ts) ? ts->valuedouble : 0);
	time_t secs = (time_t)(ms / 1000);
	const char *hue = !color ? "" : !strcmp(level, "error") ? RED :
			  !strcmp(level, "warn") ? YELLOW : !strcmp(level, "debug") ? DIM : "";
	struct tm tm;
	char when[32];

	if (!gmtime_r(&secs, &tm) || !strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm))
		snprintf(when, sizeof(when), "%lld", (long long)secs);
	fprintf(f, "%s%s.%03lldZ%s %s%-5.5s%s ", color ? DIM : "", when, ms % 1000,
		color ? RESET : "", hue, level, *hue ? RESET : "");
	cli_put_text(f, cJSON_IsString(text) ? text->valuestring : "", false);
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(l, "cut")))
		fputs(" [cut]", f);
	fputc('\n', f);
}

void cli_dlog_print_result(FILE *f, const struct cli_opts *o, const cJSON *result, bool color)
{
	const cJSON *l;

	cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(result, "lines")) {
		if (o->json)
			cli_print_json(f, l);
		else if (cJSON_IsObject(l))
			print_line(f, l, color);
	}
}

static void handle_message(FILE *f, const struct cli_opts *o, const cJSON *m, bool color)
{
	const cJSON *method = cJSON_GetObjectItemCaseSensitive(m, "method");
	const cJSON *params = cJSON_GetObjectItemCaseSensitive(m, "params");

	if (!cJSON_IsString(method) || !cJSON_IsObject(params))
		return;
	if (!strcmp(method->valuestring, "daemon_log")) {
		if (o->json)
			cli_print_json(f, params);
		else
			print_line(f, params, color);
	} else if (!strcmp(method->valuestring, "daemon_log.gap")) {
		const cJSON *missed = cJSON_GetObjectItemCaseSensitive(params, "missed");

		fflush(f);
		fprintf(stderr, "brummctl: missed %.0f lines of brummd's log\n",
			cJSON_IsNumber(missed) ? missed->valuedouble : 0);
		if (o->json) {
			cJSON *gap = cJSON_CreateObject();

			if (!gap || !cJSON_AddItemToObject(gap, "gap", cJSON_Duplicate(params, 1)))
				brm_oom(0);
			cli_print_json(f, gap);
			cJSON_Delete(gap);
		}
	}
	/* Anything else is from a later protocol version: ignore it. */
}

int cli_dlog_follow(FILE *f, struct brm_client *c, const struct cli_opts *o, bool color)
{
	bool pending = true;

	while (!cli_logs_stop_requested()) {
		cJSON *m = NULL;
		int r = brm_client_next(c, &m, pending ? 0 : POLL_MS);

		if (r == -ETIMEDOUT) {
			if (pending)
				fflush(f);
			pending = false;
			if (ferror(f))
				return 0;
			continue;
		}
		if (r < 0) {
			fflush(f);
			return cli_logs_stop_requested() ? 0 : r;
		}
		handle_message(f, o, m, color);
		cJSON_Delete(m);
		pending = true;
	}
	fflush(f);
	return 0;
}
