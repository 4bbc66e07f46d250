/*
 * test_reload_fields.c — every process field under reload, as a table:
 * the fields that shape the process (cmd, shell, cwd, env, user, group,
 * umask, orphan, ready, notify_fd) restart it, and the new process shows
 * the new value (read back from what the child reports about itself); the
 * others (autostart, type, restart, start_secs, start_retries, backoff_secs,
 * backoff_max_secs, min_uptime_secs, stop_signal, stop_timeout_secs, critical,
 * depends_on, health)
 * apply live: the pid stays, the reply lists the process as `updated`, and
 * the value shows in status where status has it; an unchanged process is
 * `unchanged`. One brummd, one process per row, one reload.
 */
#include <check.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tests/e2e.h"
#include "tests/harness.h"
#include "tests/suite.h"

static struct brmh H;
static char dir[64];         /* the children's info files; 0777 for nobody */
static const char *child;    /* a copy of the test child nobody can run */

enum effect { RESTART, LIVE, SAME };

struct field_row {
	const char *field;        /* also the process name */
	const char *before;       /* spec members besides cmd ("%C": the info cmd) */
	const char *after;
	enum effect effect;
	const char *info;         /* RESTART: a line the new child reports */
	const char *status_key;   /* LIVE: a status member showing the new value */
	const char *status_want;  /* its value ("!null": not null) */
};

/* In before/after: %C is the default cmd member, %D the info directory,
 * %G the name of group 65534. */
static const struct field_row rows[] = {
	{ "cmd", "%C", "\"cmd\": [\"/usr/bin/env\", \"@CHILD\", \"info\", \"%D/cmd\"]", RESTART,
	  NULL, "cmd", "/usr/bin/env" },
	{ "shell", "%C", "\"shell\": true, \"cmd\": \"exec @CHILD info %D/shell\"", RESTART,
	  NULL, "cmd", "exec " },
	{ "cwd", "%C, \"cwd\": \"/\"", "%C, \"cwd\": \"%D\"", RESTART, "cwd=%D", NULL, NULL },
	{ "env", "%C, \"env\": {\"BRMX\": \"1\"}", "%C, \"env\": {\"BRMX\": \"2\"}", RESTART,
	  "env:BRMX=2", NULL, NULL },
	{ "user", "%C", "%C, \"user\": \"nobody\"", RESTART, "uid=65534", NULL, NULL },
	{ "group", "%C", "%C, \"group\": \"%G\"", RESTART, "gid=65534", NULL, NULL },
	{ "umask", "%C, \"umask\": \"022\"", "%C, \"umask\": \"027\"", RESTART, "umask=0027",
	  NULL, NULL },
	{ "orphan", "%C, \"orphan\": \"kill\"", "%C, \"orphan\": \"keep\"", RESTART, NULL, NULL,
	  NULL },
	{ "ready", "%C", "%C, \"ready\": \"sd-notify\"", RESTART, NULL, NULL, NULL },
	{ "notify_fd", "%C, \"ready\": \"notify-fd\", \"notify_fd\": 4",
	  "%C, \"ready\": \"notify-fd\", \"notify_fd\": 5", RESTART, NULL, NULL, NULL },
	{ "autostart", "%C", "%C, \"autostart\": false", LIVE, NULL, "autostart", "false" },
	{ "restart", "%C", "%C, \"restart\": \"never\"", LIVE, NULL, "restart", "never" },
	{ "type", "%C, \"restart\": \"never\"", "%C, \"restart\": \"never\", \"type\": \"oneshot\"",
	  LIVE, NULL, "type", "oneshot" },
	{ "start_secs", "%C, \"start_secs\": 0", "%C, \"start_secs\": 0.5", LIVE, NULL, NULL, NULL },
	{ "start_retries", "%C", "%C, \"start_retries\": 7", LIVE, NULL, NULL, NULL },
	{ "backoff_secs", "%C", "%C, \"backoff_secs\": 0.3", LIVE, NULL, NULL, NULL },
	{ "backoff_max_secs", "%C", "%C, \"backoff_max_secs\": 7", LIVE, NULL, NULL, NULL },
	{ "min_uptime_secs", "%C", "%C, \"min_uptime_secs\": 3", LIVE, NULL, NULL, NULL },
	{ "stop_signal", "%C", "%C, \"stop_signal\": \"INT\"", LIVE, NULL, NULL, NULL },
	{ "stop_timeout_secs", "%C", "%C, \"stop_timeout_secs\": 3", LIVE, NULL, NULL, NULL },
	{ "critical", "%C", "%C, \"critical\": true", LIVE, NULL, NULL, NULL },
	{ "depends_on", "%C", "%C, \"depends_on\": [\"same\"]", LIVE, NULL, NULL, NULL },
	{ "health", "%C", "%C, \"health\": {\"exec\": [\"true\"], \"interval_secs\": 30}", LIVE,
	  NULL, "health", "!null" },
	{ "same", "%C", "%C", SAME, NULL, NULL, NULL },
};
#define NROWS (sizeof(rows) / sizeof(rows[0]))

/* Expand %C, %D, %G and @CHILD of @tmpl for the row's process into @out. */
static void expand(char *out, size_t len, const char *tmpl, const char *name)
{
	const struct group *g = getgrgid(65534);
	size_t o = 0;

	for (const char *p = tmpl; *p && o + 1 < len; p++) {
		char piece[1024] = "";

		if (p[0] == '%' && p[1] == 'C') {
			snprintf(piece, sizeof(piece), "\"cmd\": [\"%s\", \"info\", \"%s/%s\"]", child,
				 dir, name);
			p++;
		} else if (p[0] == '%' && p[1] == 'D') {
			snprintf(piece, sizeof(piece), "%s", dir);
			p++;
		} else if (p[0] == '%' && p[1] == 'G') {
			snprintf(piece, sizeof(piece), "%s", g ? g->gr_name : "nogroup");
			p++;
		} else if (!strncmp(p, "@CHILD", 6)) {
			snprintf(piece, sizeof(piece), "%s", child);
			p += 5;
		} else {
			piece[0] = *p;
		}
		o += (size_t)snprintf(out + o, len - o, "%s", piece);
	}
	out[o < len ? o : len - 1] = 0;
}

static void config(char *out, size_t len, bool after)
{
	size_t o = (size_t)snprintf(out, len, "{\"processes\": {");

	for (size_t i = 0; i < NROWS; i++) {
		char spec[2048];

		expand(spec, sizeof(spec), after ? rows[i].after : rows[i].before, rows[i].field);
		o += (size_t)snprintf(out + o, len - o, "%s\"%s\": {%s%s}", i ? ", " : "",
				      rows[i].field, spec,
				      strstr(spec, "\"start_secs\"") ? "" : ", \"start_secs\": 0");
	}
	snprintf(out + o, len - o, "}}");
}

static bool listed(const cJSON *res, const char *list, const char *name)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(res, list))
		if (cJSON_IsString(e) && !strcmp(e->valuestring, name))
			return true;
	return false;
}

static double now_secs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long pid_of(const char *name)
{
	cJSON *s = brmh_status(&H, name);
	long pid = brmh_int(s, "pid");

	cJSON_Delete(s);
	return pid;
}

/* The info file of @name once the child with @pid wrote it. */
static char *info_of(const char *name, long pid)
{
	char path[128], want[32];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(want, sizeof(want), "pid=%ld\n", pid);
	for (int i = 0; i < 500; i++) {
		char *text = brmh_read_file(path);

		if (text && !strncmp(text, want, strlen(want)))
			return text;
		free(text);
		brmh_sleep_ms(10);
	}
	return NULL;
}

START_TEST(every_field_has_its_effect)
{
	static char cfg[32768], fail[8192];
	long before[NROWS];
	char path[320];
	const cJSON *res;
	cJSON *r;
	FILE *f;
	int code;
	double deadline;

	if (geteuid() != 0) {
		printf("SKIP: reload_fields: needs root for the user and group rows\n");
		return;
	}
	child = brmh_child_public();
	ck_assert_ptr_nonnull(child);
	ck_assert_ptr_nonnull(brmh_tmpdir(dir, sizeof(dir), "brmreload"));
	ck_assert_int_eq(chmod(dir, 0777), 0);
	config(cfg, sizeof(cfg), false);
	ck_assert_msg(brmh_start(&H, cfg, NULL) == 0, "brummd did not start (log: %s)", H.log);
	for (size_t i = 0; i < NROWS; i++) {
		/* each has a pid, and its info file from that pid */
		for (int t = 0; t < 300 && (before[i] = pid_of(rows[i].field)) <= 0; t++)
			brmh_sleep_ms(10);
		ck_assert_msg(before[i] > 0, "%s has no pid", rows[i].field);
		free(info_of(rows[i].field, before[i]));
	}

	config(cfg, sizeof(cfg), true);
	snprintf(path, sizeof(path), "%s/brummd.json", H.dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(cfg, f);
	fclose(f);
	r = brmh_call(&H, "reload", NULL);
	res = brmh_result(r, &code);
	ck_assert_msg(code == 0, "reload failed (%d): %s", code, cJSON_PrintUnformatted(r));

	fail[0] = 0;
	deadline = now_secs() + 5;
	for (size_t i = 0; i < NROWS; i++) {
		const struct field_row *row = &rows[i];
		const char *list = row->effect == RESTART ? "restarted" :
				   row->effect == LIVE ? "updated" : "unchanged";
		char got[512] = "", want[256];
		long pid = pid_of(row->field);

		if (!listed(res, list, row->field)) {
			snprintf(got, sizeof(got), "not listed in '%s'", list);
		} else if (row->effect == RESTART) {
			char *info = NULL;

			/* 5 s for all rows together */
			while ((pid <= 0 || pid == before[i]) && now_secs() < deadline) {
				brmh_sleep_ms(10);
				pid = pid_of(row->field);
			}
			if (pid <= 0 || pid == before[i])
				snprintf(got, sizeof(got), "pid %ld -> %ld: not restarted", before[i], pid);
			else if (row->info) {
				expand(want, sizeof(want), row->info, row->field);
				info = info_of(row->field, pid);
				if (!info)
					snprintf(got, sizeof(got), "new pid %ld wrote no info", pid);
				else if (!strstr(info, want))
					snprintf(got, sizeof(got), "new process lacks '%s'", want);
			}
			free(info);
		} else if (pid != before[i]) {
			snprintf(got, sizeof(got), "pid %ld -> %ld: restarted", before[i], pid);
		}
		if (!got[0] && row->status_key) {
			cJSON *s = brmh_status(&H, row->field);
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(s, row->status_key);
			char *text = v ? cJSON_PrintUnformatted(v) : NULL;

			if (!strcmp(row->status_want, "!null") ? !text || !strcmp(text, "null")
							      : !text || !strstr(text, row->status_want))
				snprintf(got, sizeof(got), "status %s is %s, want %s", row->status_key,
					 text ? text : "absent", row->status_want);
			free(text);
			cJSON_Delete(s);
		}
		if (got[0]) {
			size_t used = strlen(fail);
			snprintf(fail + used, sizeof(fail) - used, "\n  %s: %s", row->field, got);
		}
	}
	cJSON_Delete(r);
	ck_assert_msg(!fail[0], "reload fields wrong:%s", fail);
	brmh_check_stop(&H);
}
END_TEST

BRM_TEST_CASE("reload_fields", "reload_fields", 30,
	every_field_has_its_effect);
