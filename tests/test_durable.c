/*
 * test_durable.c — end to end: an acknowledged change of the desired state
 * survives a SIGKILL of brummd right after its reply; bursts of changes are
 * written together (group commit); a full disk answers with -32007 and its
 * retry is not pushed back by new changes; and the state file is brummd's
 * own: per instance, in a directory nobody else controls, locked, never a
 * planted file (issue 11, sections 4 and 5).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/harness.h"

static struct brmh H;
static char state_dir[64];

static long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
	static char buf[4][8192];
	static int slot;
	char *b = buf[slot++ & 3];
	va_list ap;

	va_start(ap, f);
	vsnprintf(b, sizeof(buf[0]), f, ap);
	va_end(ap);
	return b;
}

static void state_dir_make(void)
{
	snprintf(state_dir, sizeof(state_dir), "/tmp/brmdur.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(state_dir));
	setenv("BRUMMD_STATE_DIR", state_dir, 1);
}

static void state_dir_remove(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", state_dir);
	ck_assert_int_eq(system(cmd), 0);
	unsetenv("BRUMMD_STATE_DIR");
}

static const char *two_procs(void)
{
	return fmt("{\"processes\": {"
		   " \"a\": {\"cmd\": [\"%s\", \"sleep\", \"60\"], \"start_secs\": 0},"
		   " \"b\": {\"cmd\": [\"%s\", \"sleep\", \"60\"], \"start_secs\": 0}}}",
		   brmh_child(), brmh_child());
}

static void call_ok(const char *method, const char *params)
{
	cJSON *r = brmh_call(&H, method, params);
	int code = -1;

	ck_assert_ptr_nonnull(r);
	brmh_result(r, &code);
	ck_assert_msg(code == 0, "%s %s: error %d", method, params, code);
	cJSON_Delete(r);
}

/* Send @method, and SIGKILL brummd the moment its reply is read. */
static void call_then_kill(const char *method, const char *params)
{
	char line[1024];
	cJSON *r;
	int code = -1;

	snprintf(line, sizeof(line), "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"%s\",\"params\":%s}",
		 method, params);
	r = brmh_raw(&H, line);
	kill(H.pid, SIGKILL);
	ck_assert_ptr_nonnull(r);
	brmh_result(r, &code);
	ck_assert_msg(code == 0, "%s %s: error %d", method, params, code);
	cJSON_Delete(r);
	brmh_stop(&H, 3000);
}

static const char *state_of(const char *name)
{
	static char st[32];
	cJSON *s = brmh_status(&H, name);

	if (!s)
		return "absent";
	snprintf(st, sizeof(st), "%s", brmh_str(s, "state") ? brmh_str(s, "state") : "?");
	cJSON_Delete(s);
	return st;
}

static void graceful_stop(void)
{
	ck_assert_int_eq(brmh_stop(&H, 10000), 0);
}

#define ROUNDS 4

/* ---- section 5: durable replies ------------------------------------------ */

START_TEST(stop_reply_survives_sigkill)
{
	char *cfg = strdup(two_procs());

	state_dir_make();
	for (int i = 0; i < ROUNDS; i++) {
		ck_assert_int_eq(brmh_start(&H, cfg, NULL), 0);
		call_then_kill("stop", "{\"name\":\"a\"}");
		ck_assert_int_eq(brmh_start(&H, cfg, NULL), 0);
		ck_assert(brmh_wait_state(&H, "b", "running", 3000));
		ck_assert_msg(!strcmp(state_of("a"), "stopped"), "round %d: a is %s", i,
			      state_of("a"));
		call_ok("start", "{\"name\":\"a\",\"wait\":true}");
		graceful_stop();
	}
	free(cfg);
	state_dir_remove();
}
END_TEST

START_TEST(start_reply_survives_sigkill)
{
	char *cfg = strdup(two_procs());

	state_dir_make();
	for (int i = 0; i < ROUNDS; i++) {
		ck_assert_int_eq(brmh_start(&H, cfg, NULL), 0);
		call_ok("stop", "{\"name\":\"a\",\"wait\":true}");
		graceful_stop();
		ck_assert_int_eq(brmh_start(&H, cfg, NULL), 0);
		ck_assert(brmh_wait_state(&H, "b", "running", 3000));
		ck_assert_str_eq(state_of("a"), "stopped");
		call_then_kill("start", "{\"name\":\"a\"}");
		ck_assert_int_eq(brmh_start(&H, cfg, NULL), 0);
		ck_assert_msg(brmh_wait_state(&H, "a", "running", 3000), "round %d: a is %s", i,
			      state_of("a"));
		graceful_stop();
	}
	free(cfg);
	state_dir_remove();
}
END_TEST

START_TEST(restart_reply_survives_sigkill)
{
	char *cfg = strdup(two_procs());

	state_dir_make();
	for (int i = 0; i < ROUNDS; i++) {
		ck_assert_int_eq(brmh_start(&H, cfg, NULL), 0);
		call_ok("stop", "{\"name\":\"a\",\"wait\":true}");
		graceful_stop();
		ck_assert_int_eq(brmh_start(&H, cfg, NULL), 0);
		ck_assert_str_eq(state_of("a"), "stopped");
		call_then_kill("restart", "{\"name\":\"a\"}");
		ck_assert_int_eq(brmh_start(&H, cfg, NULL), 0);
		ck_assert_msg(brmh_wait_state(&H, "a", "running", 3000), "round %d: a is %s", i,
			      state_of("a"));
		graceful_stop();
	}
	free(cfg);
	state_dir_remove();
}
END_TEST

START_TEST(add_and_remove_replies_survive_sigkill)
{
	char *cfg = strdup(two_procs());
	const char *add = fmt("{\"name\":\"c\",\"spec\":{\"cmd\":[\"%s\",\"sleep\",\"60\"],"
			      "\"start_secs\":0}}", brmh_child());
	char *addp = strdup(add);

	state_dir_make();
	for (int i = 0; i < ROUNDS; i++) {
		ck_assert_int_eq(brmh_start(&H, cfg, NULL), 0);
		call_then_kill("add", addp);
		ck_assert_int_eq(brmh_start(&H, cfg, NULL), 0);
		ck_assert_msg(brmh_wait_state(&H, "c", "running", 3000), "round %d: c is %s", i,
			      state_of("c"));
		call_then_kill("remove", "{\"name\":\"c\"}");
		ck_assert_int_eq(brmh_start(&H, cfg, NULL), 0);
		ck_assert(brmh_wait_state(&H, "a", "running", 3000));
		ck_assert_msg(!strcmp(state_of("c"), "absent"), "round %d: c is %s", i,
			      state_of("c"));
		graceful_stop();
	}
	free(addp);
	free(cfg);
	state_dir_remove();
}
END_TEST

/* Count "state written" lines in brummd's log. */
static int writes_logged(void)
{
	char *log = brmh_read_file(H.log);
	int n = 0;

	for (const char *p = log; p && (p = strstr(p, "state written (gen ")); p++)
		n++;
	free(log);
	return n;
}

static const char *many_procs(int n)
{
	static char buf[1 << 16];
	size_t off = 0;

	off += (size_t)snprintf(buf + off, sizeof(buf) - off, "{\"processes\": {");
	for (int i = 0; i < n; i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off,
					"%s\"p%d\": {\"cmd\": [\"/bin/true\"], \"autostart\": false}",
					i ? "," : "", i);
	snprintf(buf + off, sizeof(buf) - off, "}}");
	return buf;
}

static void write_all(int fd, const char *s, size_t len)
{
	while (len) {
		ssize_t n = write(fd, s, len);

		ck_assert_int_gt(n, 0);
		s += n;
		len -= (size_t)n;
	}
}

/* Read @n reply lines from @fd (within @timeout_ms); count the errors. */
static int read_replies(int fd, int n, int timeout_ms, int *errors)
{
	char buf[8192];
	long deadline = mono_ms() + timeout_ms;
	int got = 0;

	while (got < n && mono_ms() < deadline) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (poll(&p, 1, 100) <= 0)
			continue;
		r = read(fd, buf, sizeof(buf) - 1);
		if (r <= 0)
			break;
		buf[r] = '\0';
		for (char *q = buf; (q = strchr(q, '\n')); q++)
			got++;
		for (char *q = buf; (q = strstr(q, "\"error\":{")); q++)
			(*errors)++;
	}
	return got;
}

#define BURST 200
#define CONNS 20

START_TEST(a_burst_of_stops_is_written_together)
{
	int fds[CONNS], errors = 0, writes;
	long t0, ms;

	ck_assert_int_eq(brmh_start(&H, many_procs(BURST), "--log-level", "debug", NULL), 0);
	for (int c = 0; c < CONNS; c++) {
		fds[c] = brmh_connect(&H);
		ck_assert_int_ge(fds[c], 0);
	}
	t0 = mono_ms();
	for (int c = 0; c < CONNS; c++) {
		char *reqs = malloc(BURST / CONNS * 128);
		size_t len = 0;

		for (int i = c; i < BURST; i += CONNS)
			len += (size_t)sprintf(reqs + len, "{\"jsonrpc\":\"2.0\",\"id\":%d,"
					       "\"method\":\"stop\",\"params\":{\"name\":\"p%d\"}}\n",
					       i, i);
		write_all(fds[c], reqs, len);
		free(reqs);
	}
	for (int c = 0; c < CONNS; c++)
		ck_assert_int_eq(read_replies(fds[c], BURST / CONNS, 10000, &errors), BURST / CONNS);
	ms = mono_ms() - t0;
	ck_assert_int_eq(errors, 0);
	writes = writes_logged();
	printf("group commit: %d stops from %d connections, %d writes (%d fsyncs), %ld ms\n",
	       BURST, CONNS, writes, 2 * writes, ms);
	ck_assert_msg(writes >= 1 && writes <= BURST / 10, "%d writes for %d stops", writes, BURST);
	for (int c = 0; c < CONNS; c++)
		close(fds[c]);
	graceful_stop();
}
END_TEST

/* ---- a full disk ------------------------------------------------------- */

static bool log_has(const char *needle)
{
	char *log = brmh_read_file(H.log);
	bool r = log && strstr(log, needle);

	free(log);
	return r;
}

START_TEST(a_full_disk_answers_at_once_and_retries_on_schedule)
{
	char fill[128], path[128];
	char *cfg = strdup(two_procs());
	cJSON *r;
	int code = 0, fd;
	long t_free, t_written = -1;
	static char block[4096];

	snprintf(state_dir, sizeof(state_dir), "/tmp/brmdisk.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(state_dir));
	if (mount("tmpfs", state_dir, "tmpfs", 0, "size=64k,mode=0700") < 0) {
		printf("SKIP: a_full_disk: cannot mount a tmpfs: %s\n", strerror(errno));
		rmdir(state_dir);
		free(cfg);
		return;
	}
	setenv("BRUMMD_STATE_DIR", state_dir, 1);
	ck_assert_int_eq(brmh_start(&H, cfg, "--log-level", "debug", NULL), 0);
	ck_assert(brmh_wait_state(&H, "a", "running", 3000));
	/* Fill the file system. */
	snprintf(fill, sizeof(fill), "%s/fill", state_dir);
	fd = open(fill, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	while (write(fd, block, sizeof(block)) > 0)
		;
	close(fd);

	r = brmh_call(&H, "stop", "{\"name\":\"a\"}");
	ck_assert_ptr_nonnull(r);
	brmh_result(r, &code);
	ck_assert_msg(code == -32007, "stop on a full disk: code %d", code);
	cJSON_Delete(r);
	/* 40 changes while the disk is full: answered at once, not written,
	 * and they do not push the retry further. */
	for (int i = 0; i < 20; i++) {
		long t0 = mono_ms();

		r = brmh_call(&H, "stop", "{\"name\":\"b\"}");
		brmh_result(r, &code);
		cJSON_Delete(r);
		ck_assert_int_eq(code, -32007);
		r = brmh_call(&H, "start", "{\"name\":\"b\"}");
		brmh_result(r, &code);
		cJSON_Delete(r);
		ck_assert_int_eq(code, -32007);
		ck_assert_int_lt(mono_ms() - t0, 1000);
	}
	/* The first retry (1 s after the failure) fails too; free the space
	 * after it: the next one, 2 s later, must succeed. */
	brmh_sleep_ms(1300);
	ck_assert_int_eq(unlink(fill), 0);
	t_free = mono_ms();
	while (mono_ms() - t_free < 6000) {
		if (log_has("written again")) {
			t_written = mono_ms();
			break;
		}
		brmh_sleep_ms(20);
	}
	printf("full disk: the state was written %ld ms after space was freed\n",
	       t_written < 0 ? -1 : t_written - t_free);
	ck_assert_msg(t_written >= 0 && t_written - t_free <= 3000,
		      "not written within 3 s of freeing space");
	/* The replies now wait for the disk again, and succeed. */
	call_ok("stop", "{\"name\":\"b\"}");
	kill(H.pid, SIGKILL);
	brmh_stop(&H, 3000);
	snprintf(path, sizeof(path), "%s/state.json", state_dir);
	{
		char *text = brmh_read_file(path);

		ck_assert_ptr_nonnull(text);
		ck_assert_msg(strstr(text, "\"a\":{\"stopped\":true}") &&
			      strstr(text, "\"b\":{\"stopped\":true}"), "state: %s", text);
		free(text);
	}
	umount2(state_dir, MNT_DETACH);
	rmdir(state_dir);
	unsetenv("BRUMMD_STATE_DIR");
	free(cfg);
}
END_TEST

Suite *durable_suite(void);
Suite *durable_suite(void)
{
	Suite *s = suite_create("durable");
	TCase *dur = tcase_create("durable");
	TCase *disk = tcase_create("disk");

	tcase_set_timeout(dur, 90);
	tcase_add_test(dur, stop_reply_survives_sigkill);
	tcase_add_test(dur, start_reply_survives_sigkill);
	tcase_add_test(dur, restart_reply_survives_sigkill);
	tcase_add_test(dur, add_and_remove_replies_survive_sigkill);
	tcase_add_test(dur, a_burst_of_stops_is_written_together);
	suite_add_tcase(s, dur);
	tcase_set_timeout(disk, 30);
	tcase_add_test(disk, a_full_disk_answers_at_once_and_retries_on_schedule);
	suite_add_tcase(s, disk);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(durable_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
