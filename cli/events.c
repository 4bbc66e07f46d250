/*
 * events.c — `brummctl events`: subscribe, then print every event as it
 * comes, one line each (or its JSON object with --json), until brummd
 * closes the connection, the user interrupts, or --count events were seen.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "cli/brummctl.h"
#include "lib/client.h"
#include "lib/util.h"

static const char *str_or(const cJSON *obj, const char *key, const char *dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(v) ? v->valuestring : dflt;
}

static void print_event(const cJSON *ev, bool json)
{
	const cJSON *ts = cJSON_GetObjectItemCaseSensitive(ev, "ts");
	const cJSON *pid = cJSON_GetObjectItemCaseSensitive(ev, "pid");
	char when[32] = "-";
	const char *note;
	bool health;

	if (json) {
		cli_print_json(stdout, ev);
		return;
	}
	if (cJSON_IsNumber(ts)) {
		time_t t = (time_t)ts->valuedouble;
		struct tm tm;
		int ms = (int)((ts->valuedouble - (double)t) * 1000.0 + 0.5);

		if (ms > 999)
			ms = 999;
		localtime_r(&t, &tm);
		snprintf(when, sizeof(when), "%02d:%02d:%02d.%03d", tm.tm_hour, tm.tm_min,
			 tm.tm_sec, ms);
	}
	/* A health event reads "health healthy -> unhealthy ... (its output)":
	 * its reason would only say the new health again. */
	health = !strcmp(str_or(ev, "kind", "state"), "health");
	printf("%s  %s  %s%s -> %s", when, str_or(ev, "name", "?"), health ? "health " : "",
	       str_or(ev, "from", "-"), str_or(ev, "to", "?"));
	if (cJSON_IsNumber(pid))
		printf("  pid %d", (int)pid->valuedouble);
	note = health ? str_or(ev, "output", "") : str_or(ev, "reason", "");
	if (*note)
		printf("  (%s)", note);
	putchar('\n');
}

static void print_gap(const cJSON *gap, bool json)
{
	const cJSON *missed = cJSON_GetObjectItemCaseSensitive(gap, "missed");

	if (json) {
		cJSON *o = cJSON_CreateObject();

		if (!o)
			brm_oom(0);
		cJSON_AddItemToObject(o, "gap", cJSON_Duplicate(gap, 1));
		cli_print_json(stdout, o);
		cJSON_Delete(o);
		return;
	}
	printf("-- %d events missed: this client fell behind --\n",
	       cJSON_IsNumber(missed) ? (int)missed->valuedouble : 0);
}

int cli_events_follow(const struct cli_opts *o, struct brm_client *c)
{
	long count = o->count ? strtol(o->count, NULL, 10) : -1, seen = 0;

	while (count < 0 || seen < count) {
		cJSON *msg = NULL;
		const cJSON *m, *p;

		fflush(stdout);
		if (brm_client_next(c, &msg, -1) < 0)
			return -1;
		m = cJSON_GetObjectItemCaseSensitive(msg, "method");
		p = cJSON_GetObjectItemCaseSensitive(msg, "params");
		if (cJSON_IsString(m) && !strcmp(m->valuestring, "events")) {
			print_event(p, o->json);
			seen++;
		} else if (cJSON_IsString(m) && !strcmp(m->valuestring, "events.gap")) {
			print_gap(p, o->json);
		}
		cJSON_Delete(msg);
	}
	return 0;
}
