/*
 * test_persist_index.c — Check suite for daemon/sup/persist.c's index of
 * its records by name (the one a process's change finds its record by,
 * without a pass over every process) and its per-record rendered text:
 * thousands of random stops, starts, groups and forgets against a plain
 * model, every answer compared, then the file written compared with the
 * model.
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <uv.h>

#include "daemon/sup/loopcheck.h"
#include "daemon/sup/persist.h"
#include "lib/buf.h"
#include "tests/suite.h"

#define NAMES 700
#define OPS 20000

struct model {
	bool stopped;
	pid_t pgid;
};

START_TEST(index_and_text_follow_every_change)
{
	char dir[] = "/tmp/brm-persist-index-XXXXXX", path[64], name[16];
	static struct model m[NAMES];
	struct brm_buf b = BRM_BUF_INIT;
	struct brm_persist *st;
	cJSON *root, *procs;
	char *err = NULL;
	uv_loop_t loop;
	unsigned seed = 12345;
	int fd;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/state.json", dir);
	brm_loopcheck_set();
	uv_loop_init(&loop);
	st = brm_persist_load(&loop, path, &err);
	ck_assert_msg(st != NULL, "load: %s", err ? err : "?");
	memset(m, 0, sizeof(m));
	for (int op = 0; op < OPS; op++) {
		int i = (int)(rand_r(&seed) % NAMES), what = (int)(rand_r(&seed) % 4);

		snprintf(name, sizeof(name), "p%d", i);
		if (what == 0) {
			m[i].stopped = !m[i].stopped;
			brm_persist_set_stopped(st, name, m[i].stopped);
		} else if (what == 1) {
			m[i].pgid = m[i].pgid ? 0 : 100 + i;
			brm_persist_set_group(st, name, m[i].pgid, m[i].pgid ? 7 : 0);
		} else if (what == 2 && rand_r(&seed) % 8 == 0) {
			m[i].stopped = false;
			brm_persist_forget(st, name);
		} else {
			ck_assert_int_eq(brm_persist_stopped(st, name), m[i].stopped);
		}
		if (op % 997 == 0)
			uv_run(&loop, UV_RUN_NOWAIT);
	}
	for (int i = 0; i < NAMES; i++) {
		snprintf(name, sizeof(name), "p%d", i);
		ck_assert_int_eq(brm_persist_stopped(st, name), m[i].stopped);
	}
	/* One more change, then let the writes finish: the file is the model. */
	brm_persist_set_stopped(st, "last", true);
	uv_run(&loop, UV_RUN_DEFAULT);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(brm_buf_read_file(&b, fd, 1 << 24), 0);
	close(fd);
	root = cJSON_Parse(b.p);
	ck_assert_ptr_nonnull(root);
	procs = cJSON_GetObjectItemCaseSensitive(root, "processes");
	for (int i = 0; i < NAMES; i++) {
		cJSON *p, *g;

		snprintf(name, sizeof(name), "p%d", i);
		p = cJSON_GetObjectItemCaseSensitive(procs, name);
		ck_assert_int_eq(p != NULL, m[i].stopped || m[i].pgid);
		if (!p)
			continue;
		ck_assert_int_eq(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "stopped")),
				 m[i].stopped);
		g = cJSON_GetObjectItemCaseSensitive(p, "group");
		ck_assert_int_eq(g != NULL, m[i].pgid != 0);
		if (g)
			ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(g, "pgid")->valueint,
					 m[i].pgid);
	}
	ck_assert_ptr_nonnull(cJSON_GetObjectItemCaseSensitive(procs, "last"));
	cJSON_Delete(root);
	brm_buf_finish(&b);
	brm_persist_shutdown(st);
	uv_run(&loop, UV_RUN_DEFAULT);
	brm_persist_destroy(st);
	uv_loop_close(&loop);
	free(err);
	unlink(path);
	snprintf(path, sizeof(path), "%s/state.json.lock", dir);
	unlink(path);
	rmdir(dir);
}
END_TEST

BRM_TEST_CASE("persist_index", "index", 60, index_and_text_follow_every_change);
