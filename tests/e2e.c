/*
 * e2e.c — see e2e.h.
 */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "tests/e2e.h"

void brmh_check_start(struct brmh *h, const char *fmt, ...)
{
	char buf[8192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ck_assert_msg(brmh_start(h, buf, NULL) == 0, "brummd did not start (log: %s)", h->log);
}

void brmh_check_stop(struct brmh *h)
{
	int st = brmh_stop(h, 15000);

	ck_assert_msg(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "brummd did not exit 0 on SIGTERM (status %d)", st);
}

long brmh_check_pid(struct brmh *h, const char *name)
{
	cJSON *s = brmh_status(h, name);
	long pid;

	ck_assert_msg(s != NULL, "no status for '%s'", name);
	pid = brmh_int(s, "pid");
	cJSON_Delete(s);
	return pid;
}

const char *brmh_check_names(const cJSON *res, const char *key)
{
	static char buf[512];
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(res, key), *it;
	size_t o = 0;

	buf[0] = '\0';
	ck_assert_msg(cJSON_IsArray(arr), "result has no list \"%s\"", key);
	cJSON_ArrayForEach(it, arr)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s", o ? "," : "",
				      it->valuestring);
	return buf;
}

void brmh_check_state_dir(char *dir, size_t size)
{
	snprintf(dir, size, "/tmp/brmstate.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	setenv("BRUMMD_STATE_DIR", dir, 1);
}

void brmh_check_state_dir_remove(const char *dir)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
	unsetenv("BRUMMD_STATE_DIR");
}
