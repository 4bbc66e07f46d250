/*
 * test_top.c — `brummctl top` as a person sees it: a real brummd, top in a
 * detached tmux session of a fixed size on a private socket, keys sent with
 * send-keys and the screen read with capture-pane, polled until a deadline.
 * Without tmux each test prints a SKIP: line.
 */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/top.h"
#include "lib/util.h"
#include "tests/e2e.h"
#include "tests/harness.h"
#include "tests/suite.h"

static struct brmh H;
static char tmux_dir[256];

/* Deadline for a screen to show something; TSan builds are ~10x slower. */
#define SCREEN_MS 15000

static bool have_tmux(const char *test)
{
	if (system("command -v tmux >/dev/null 2>&1") == 0)
		return true;
	printf("SKIP: top: %s (tmux not installed; scripts/deps.sh installs it)\n", test);
	return false;
}

/* Run `tmux -S DIR/tmux.sock ARGS...` (formatted); its exit status. */
static int tmux(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int tmux(const char *fmt, ...)
{
	char args[2048];
	char *cmd;
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	cmd = brm_xasprintf("tmux -S '%s/tmux.sock' -f /dev/null %s >/dev/null 2>&1",
			    tmux_dir, args);
	st = system(cmd);
	free(cmd);
	return st;
}

/* The screen now, one line per row. Caller frees. */
static char *screen(void)
{
	char *cmd = brm_xasprintf("tmux -S '%s/tmux.sock' capture-pane -p -t top 2>/dev/null",
				  tmux_dir);
	FILE *f = popen(cmd, "r");
	size_t len = 0, cap = 8192;
	char *buf = brm_xmalloc(cap);

	buf[0] = '\0';
	if (f) {
		size_t r;

		while ((r = fread(buf + len, 1, cap - len - 1, f)) > 0) {
			len += r;
			if (len + 1 == cap)
				buf = brm_xrealloc(buf, cap *= 2);
		}
		buf[len] = '\0';
		pclose(f);
	}
	free(cmd);
	return buf;
}

/* The row (0-based) whose line starts with the word @name; -1 if none. */
static int row_of(const char *scr, const char *name)
{
	size_t n = strlen(name);
	int row = 0;

	for (const char *l = scr; *l; row++) {
		const char *nl = strchr(l, '\n');

		if (!strncmp(l, name, n) && l[n] == ' ')
			return row;
		if (!nl)
			break;
		l = nl + 1;
	}
	return -1;
}

/* Line @row of @scr into @out. */
static const char *line_of(const char *scr, int row, char *out, size_t size)
{
	const char *l = scr;

	for (; row > 0 && l; row--) {
		l = strchr(l, '\n');
		if (l)
			l++;
	}
	snprintf(out, size, "%.*s", l ? (int)strcspn(l, "\n") : 0, l ? l : "");
	return out;
}

typedef bool (*screen_pred)(const char *scr, const void *arg);

/* Poll the screen until @pred holds; the last screen seen (caller frees),
 * and a failed test naming @what with it when the deadline passes. */
static char *wait_screen(const char *what, screen_pred pred, const void *arg)
{
	struct timespec t0, t;
	char *scr = NULL;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		free(scr);
		scr = screen();
		if (pred(scr, arg))
			return scr;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 > SCREEN_MS)
			break;
		brmh_sleep_ms(30);
	}
	ck_abort_msg("screen never showed %s; it shows:\n%s", what, scr);
	return scr;
}

static bool has_text(const char *scr, const void *arg)
{
	return strstr(scr, arg) != NULL;
}

static void wait_text(const char *text)
{
	free(wait_screen(text, has_text, text));
}

/* Rows named in @arg (NULL-terminated) appear in this order. */
static bool in_order(const char *scr, const void *arg)
{
	const char *const *names = arg;
	int last = -1;

	for (; *names; names++) {
		int r = row_of(scr, *names);

		if (r <= last)
			return false;
		last = r;
	}
	return true;
}

/* Each row named in @arg says "running". */
static bool all_running(const char *scr, const void *arg)
{
	char line[512];

	for (const char *const *names = arg; *names; names++) {
		int r = row_of(scr, *names);

		if (r < 0 || !strstr(line_of(scr, r, line, sizeof(line)), "running"))
			return false;
	}
	return true;
}

/* alpha's UPTIME (the fifth column) is past 0s: a later status came. */
static bool alpha_uptime_grew(const char *scr, const void *arg)
{
	char line[512], up[32];
	int r = row_of(scr, "alpha");

	(void)arg;
	if (r < 0 || sscanf(line_of(scr, r, line, sizeof(line)), "%*s %*s %*s %*s %31s", up) != 1)
		return false;
	return strcmp(up, "0s") != 0 && strcmp(up, "-") != 0;
}

/* Start top on @sock in a tmux of 80x24 on tmux_dir's socket; it writes
 * its exit status to tmux_dir/exit. */
static void top_launch(const char *sock)
{
	ck_assert_int_eq(tmux("new-session -d -x 80 -y 24 -s top "
			      "\"timeout --foreground 120 '%s' --socket '%s' top; echo \\$? > '%s/exit'\"",
			      brmh_bin("brummctl"), sock, tmux_dir), 0);
}

static void top_start(const char *sock)
{
	ck_assert_ptr_nonnull(brmh_tmpdir(tmux_dir, sizeof(tmux_dir), "brmtop"));
	top_launch(sock);
}

static void keys(const char *k)
{
	ck_assert_int_eq(tmux("send-keys -t top %s", k), 0);
}

/* Quit with q: top exits 0. */
static void top_quit(void)
{
	char *path = brmh_fmt("%s/exit", tmux_dir), *st;

	keys("q");
	st = brmh_wait_file(path, SCREEN_MS);
	ck_assert_msg(st && !strcmp(st, "0\n"), "top exited with '%s'", st ? st : "(nothing)");
	free(st);
	tmux("kill-server");
}

#define THREE "{\"processes\":{" \
	"\"alpha\":{\"cmd\":[\"%s\",\"print\",\"out\",\"hello from alpha\"]," \
	"\"start_secs\":0.05}," \
	"\"beta\":{\"cmd\":[\"%s\",\"sleep\",\"3600\"],\"start_secs\":0.05}," \
	"\"gamma\":{\"cmd\":[\"%s\",\"sleep\",\"3600\"],\"start_secs\":0.05}}}"

static const char *const abc[] = { "alpha", "beta", "gamma", NULL };
static const char *const cba[] = { "gamma", "beta", "alpha", NULL };

START_TEST(top_shows_sorts_filters_and_resizes)
{
	char *scr, line[512];

	if (!have_tmux("top_shows_sorts_filters_and_resizes"))
		return;
	brmh_check_start(&H, THREE, brmh_child(), brmh_child(), brmh_child());
	top_start(H.sock);
	scr = wait_screen("three running rows", all_running, abc);
	ck_assert_msg(in_order(scr, abc), "not sorted by name:\n%s", scr);
	line_of(scr, 1, line, sizeof(line));
	for (const char *const *c = (const char *const[]){ "NAME", "STATE", "HEALTH", "PID",
			"UPTIME", "RESTARTS", "CPU%", "MEM", NULL }; *c; c++)
		ck_assert_msg(strstr(line, *c), "no column %s in '%s'", *c, line);
	/* The help line second to last, at 80x24. */
	ck_assert_msg(row_of(scr, "q quit") == 22, "help line not on row 22:\n%s", scr);
	free(scr);
	/* The status of every second keeps the figures current. */
	free(wait_screen("alpha's uptime past 0s", alpha_uptime_grew, NULL));

	keys("1");          /* by name again: the other way round */
	free(wait_screen("gamma, beta, alpha", in_order, cba));
	keys("i");
	free(wait_screen("alpha, beta, gamma", in_order, abc));

	keys("/ a m");      /* "am": gamma only */
	scr = wait_screen("the filter", has_text, "1 shown");
	ck_assert_msg(row_of(scr, "gamma") >= 0 && row_of(scr, "alpha") < 0 &&
		      row_of(scr, "beta") < 0, "filter 'am' shows:\n%s", scr);
	free(scr);
	keys("Escape");
	wait_text("3 shown");

	keys("?");
	wait_text("follow its log");
	keys("x");
	free(wait_screen("the table again", all_running, abc));

	ck_assert_int_eq(tmux("resize-window -t top -x 100 -y 30"), 0);
	scr = wait_screen("the help line on row 28", in_order,
			  (const char *const[]){ "alpha", "gamma", "q quit", NULL });
	ck_assert_msg(row_of(scr, "q quit") == 28, "after the resize:\n%s", scr);
	/* The name column widened with the screen. */
	ck_assert_msg(strlen(line_of(scr, 1, line, sizeof(line))) > 80, "titles: '%s'", line);
	free(scr);
	top_quit();
	brmh_check_stop(&H);
}
END_TEST

static bool alpha_stopped(const char *scr, const void *arg)
{
	char line[512];
	int r = row_of(scr, "alpha");

	(void)arg;
	return r >= 0 && strstr(line_of(scr, r, line, sizeof(line)), "stopped");
}

START_TEST(top_stop_asks_then_stops)
{
	cJSON *st, *reply;
	long pid;

	if (!have_tmux("top_stop_asks_then_stops"))
		return;
	brmh_check_start(&H, THREE, brmh_child(), brmh_child(), brmh_child());
	top_start(H.sock);
	free(wait_screen("three running rows", all_running, abc));

	/* l follows alpha's log: what it printed, then the lines of a restart. */
	keys("l");
	wait_text("log of alpha (any key returns)");
	wait_text("hello from alpha");
	pid = brmh_check_pid(&H, "alpha");
	reply = brmh_call(&H, "restart", "{\"name\":\"alpha\",\"wait\":true}");
	cJSON_Delete(reply);
	wait_text(brmh_fmt("started with pid %ld", brmh_check_pid(&H, "alpha")));
	ck_assert_int_ne(brmh_check_pid(&H, "alpha"), pid);
	keys("x");
	free(wait_screen("the table again", all_running, abc));

	keys("S");
	wait_text("stop alpha? (y/n)");
	keys("n");
	wait_text("stop alpha: cancelled");
	st = brmh_status(&H, "alpha");
	ck_assert_str_eq(brmh_str(st, "state"), "running");
	cJSON_Delete(st);

	keys("r");
	wait_text("restart alpha? (y/n)");
	keys("Escape");
	wait_text("restart alpha: cancelled");

	keys("S");
	wait_text("stop alpha? (y/n)");
	keys("y");
	ck_assert(brmh_wait_state(&H, "alpha", "stopped", SCREEN_MS));
	free(wait_screen("alpha stopped", alpha_stopped, NULL));

	keys("s");          /* start needs no confirmation */
	ck_assert(brmh_wait_state(&H, "alpha", "running", SCREEN_MS));
	free(wait_screen("alpha running again", all_running, abc));
	top_quit();
	brmh_check_stop(&H);
}
END_TEST

/* A reader (access.readers) sees the table; what would change a process
 * gets brummd's refusal in the status line, and top goes on. */
START_TEST(top_reader_sees_the_refusal)
{
	if (!have_tmux("top_reader_sees_the_refusal"))
		return;
	if (geteuid() != 0) {
		printf("SKIP: top: top_reader_sees_the_refusal (needs root to run top as nobody)\n");
		return;
	}
	brmh_socket_subdir = "sock";   /* brummd gives it to the group */
	brmh_check_start(&H, "{\"socket_mode\":\"0660\",\"socket_group\":\"nogroup\",\"access\":{\"readers\":"
			 "{\"users\":[65534]}},\"processes\":{"
			 "\"alpha\":{\"cmd\":[\"%s\",\"sleep\",\"3600\"],\"start_secs\":0.05}}}",
			 brmh_child());
	brmh_socket_subdir = NULL;
	ck_assert_int_eq(chmod(H.dir, 0711), 0);
	ck_assert_ptr_nonnull(brmh_tmpdir(tmux_dir, sizeof(tmux_dir), "brmtop"));
	ck_assert_int_eq(chmod(tmux_dir, 0755), 0);
	ck_assert_int_eq(tmux("new-session -d -x 80 -y 24 -s top "
			      "\"timeout --foreground 120 setpriv --reuid=65534 --regid=65534 "
			      "--clear-groups '%s' --socket '%s' top; echo \\$? > '%s/exit'\"",
			      brmh_bin("brummctl"), H.sock, tmux_dir), 0);
	free(wait_screen("alpha running", all_running, (const char *const[]){ "alpha", NULL }));
	keys("S");
	wait_text("stop alpha? (y/n)");
	keys("y");
	wait_text("stop alpha: not permitted: your uid may not change processes");
	keys("s");
	wait_text("start alpha: not permitted: your uid may not change processes");
	free(wait_screen("alpha still running", all_running, (const char *const[]){ "alpha", NULL }));
	top_quit();
	brmh_check_stop(&H);
}
END_TEST

START_TEST(top_scrolls_a_thousand)
{
	size_t size = 1000 * 80 + 64, off = 0;
	char *cfg = brm_xmalloc(size), *scr;

	if (!have_tmux("top_scrolls_a_thousand")) {
		free(cfg);
		return;
	}
	off += (size_t)snprintf(cfg + off, size - off, "{\"processes\":{");
	for (int i = 0; i < 1000; i++)
		off += (size_t)snprintf(cfg + off, size - off,
					"%s\"p%04d\":{\"cmd\":[\"true\"],\"autostart\":false}",
					i ? "," : "", i);
	snprintf(cfg + off, size - off, "}}");
	ck_assert_msg(brmh_start(&H, cfg, NULL) == 0, "brummd did not start (log: %s)", H.log);
	free(cfg);
	top_start(H.sock);
	wait_text("1000 processes, 1000 shown");
	scr = screen();
	ck_assert_msg(row_of(scr, "p0000") == 2 && row_of(scr, "p0019") == 21 &&
		      row_of(scr, "p0020") < 0, "first page:\n%s", scr);
	free(scr);

	keys("NPage");      /* the selection to row 20: one row further */
	free(wait_screen("p0020", in_order, (const char *const[]){ "p0001", "p0020", NULL }));
	keys("End");
	scr = wait_screen("the last page", in_order, (const char *const[]){ "p0980", "p0999", NULL });
	ck_assert_msg(row_of(scr, "p0999") == 21 && row_of(scr, "p0979") < 0, "end:\n%s", scr);
	free(scr);
	keys("PPage");
	free(wait_screen("a page up", in_order, (const char *const[]){ "p0979", "p0998", NULL }));
	keys("Home");
	free(wait_screen("the first page", in_order, (const char *const[]){ "p0000", "p0019", NULL }));
	top_quit();
	brmh_check_stop(&H);
}
END_TEST

START_TEST(top_reconnects_when_brummd_comes_back)
{
	char link[300], tmp[320];

	if (!have_tmux("top_reconnects_when_brummd_comes_back"))
		return;
	brmh_check_start(&H, THREE, brmh_child(), brmh_child(), brmh_child());
	/* top talks to a link that is pointed at each brummd in turn. */
	ck_assert_ptr_nonnull(brmh_tmpdir(tmux_dir, sizeof(tmux_dir), "brmtop"));
	snprintf(link, sizeof(link), "%s/brummd.sock", tmux_dir);
	ck_assert_int_eq(symlink(H.sock, link), 0);
	top_launch(link);
	free(wait_screen("three running rows", all_running, abc));

	brmh_check_stop(&H);
	wait_text("reconnecting every second");
	wait_text("[disconnected]");

	brmh_check_start(&H, THREE, brmh_child(), brmh_child(), brmh_child());
	snprintf(tmp, sizeof(tmp), "%s.new", link);
	ck_assert_int_eq(symlink(H.sock, tmp), 0);
	ck_assert_int_eq(rename(tmp, link), 0);
	wait_text("connected to brummd again");
	free(wait_screen("three running rows", all_running, abc));
	top_quit();
	brmh_check_stop(&H);
}
END_TEST

START_TEST(top_needs_a_terminal)
{
	char *out = NULL, *err = NULL;
	int rc;

	brmh_check_start(&H, "{\"processes\":{}}");
	rc = brmh_ctl(&H, &out, &err, "top", NULL);
	ck_assert_int_eq(rc, 2);
	ck_assert_msg(strstr(err, "top: needs a terminal on stdin and stdout"), "stderr: %s", err);
	ck_assert_str_eq(out, "");
	free(out);
	free(err);
	brmh_check_stop(&H);
}
END_TEST

/* ---- the model, without a screen ---- */

static cJSON *parse(const char *text)
{
	cJSON *j = cJSON_Parse(text);

	ck_assert_msg(j, "bad JSON in the test: %s", text);
	return j;
}

static const struct top_proc *row(const struct top *t, const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->procs[i].name, name))
			return &t->procs[i];
	return NULL;
}

static void event(struct top *t, const char *text)
{
	cJSON *ev = parse(text);

	top_model_apply_event(t, ev);
	cJSON_Delete(ev);
	top_view_update(t);
}

START_TEST(model_follows_events_between_statuses)
{
	struct top t = { 0 };
	cJSON *st = parse("{\"processes\":["
		"{\"name\":\"a\",\"state\":\"running\",\"pid\":10,\"since\":100,\"uptime_secs\":5,"
		"\"restarts\":1,\"cpu_percent\":2.5,\"rss_bytes\":4096,\"health\":null},"
		"{\"name\":\"b\",\"state\":\"stopped\",\"pid\":null,\"since\":100,\"health\":\"healthy\"}]}");

	top_model_from_status(&t, st);
	cJSON_Delete(st);
	top_view_update(&t);
	ck_assert_int_eq(t.n, 2);
	ck_assert_int_eq(row(&t, "a")->pid, 10);
	ck_assert(row(&t, "a")->cpu == 2.5 && row(&t, "a")->rss == 4096);
	ck_assert_str_eq(row(&t, "b")->health, "healthy");

	/* A state change shows at once; the pid and figures of a stop go. */
	event(&t, "{\"name\":\"a\",\"kind\":\"state\",\"from\":\"running\",\"to\":\"stopped\","
	      "\"pid\":10,\"health\":null,\"ts\":101}");
	ck_assert_str_eq(row(&t, "a")->state, "stopped");
	ck_assert_int_eq(row(&t, "a")->pid, -1);
	ck_assert(row(&t, "a")->cpu < 0);
	event(&t, "{\"name\":\"b\",\"kind\":\"state\",\"from\":\"stopped\",\"to\":\"running\","
	      "\"pid\":22,\"health\":\"unknown\",\"ts\":101}");
	ck_assert_str_eq(row(&t, "b")->state, "running");
	ck_assert_int_eq(row(&t, "b")->pid, 22);
	/* An event older than the row's status does not roll it back. */
	event(&t, "{\"name\":\"b\",\"kind\":\"state\",\"from\":\"starting\",\"to\":\"starting\","
	      "\"pid\":21,\"health\":null,\"ts\":99}");
	ck_assert_str_eq(row(&t, "b")->state, "running");
	/* Health, a new process, a removed one. */
	event(&t, "{\"name\":\"b\",\"kind\":\"health\",\"from\":\"unknown\",\"to\":\"unhealthy\","
	      "\"state\":\"running\",\"ts\":102}");
	ck_assert_str_eq(row(&t, "b")->health, "unhealthy");
	event(&t, "{\"name\":\"c\",\"kind\":\"state\",\"from\":null,\"to\":\"starting\","
	      "\"pid\":30,\"health\":null,\"ts\":103}");
	ck_assert_int_eq(t.nview, 3);
	ck_assert_str_eq(row(&t, "c")->state, "starting");
	event(&t, "{\"name\":\"a\",\"kind\":\"state\",\"from\":\"stopped\",\"to\":\"removed\","
	      "\"pid\":null,\"health\":null,\"ts\":104}");
	ck_assert_ptr_null(row(&t, "a"));
	ck_assert_int_eq(t.nview, 2);
	top_finish(&t);
}
END_TEST

START_TEST(model_sorts_filters_and_keeps_the_selection)
{
	struct top t = { 0 };
	cJSON *st = parse("{\"processes\":["
		"{\"name\":\"api\",\"state\":\"running\",\"pid\":3,\"cpu_percent\":1},"
		"{\"name\":\"db\",\"state\":\"running\",\"pid\":1,\"cpu_percent\":9},"
		"{\"name\":\"web\",\"state\":\"fatal\",\"pid\":null}]}");

	top_model_from_status(&t, st);
	cJSON_Delete(st);
	top_view_update(&t);
	ck_assert_str_eq(t.procs[t.view[0]].name, "api");
	top_select(&t, 1);
	ck_assert_str_eq(t.sel_name, "db");

	top_sort_by(&t, TOP_COL_CPU);           /* figures: biggest first */
	top_view_update(&t);
	ck_assert(t.desc);
	ck_assert_str_eq(t.procs[t.view[0]].name, "db");
	ck_assert_str_eq(t.procs[t.view[2]].name, "web");   /* no CPU: last */
	ck_assert_int_eq(t.sel, 0);                           /* db stays selected */
	top_sort_by(&t, TOP_COL_CPU);           /* again: the other way */
	top_view_update(&t);
	ck_assert_str_eq(t.procs[t.view[0]].name, "web");
	top_sort_by(&t, TOP_COL_PID);
	top_view_update(&t);
	ck_assert(!t.desc);
	ck_assert_str_eq(t.procs[t.view[0]].name, "web");   /* no pid: -1 */
	ck_assert_str_eq(t.procs[t.view[1]].name, "db");

	snprintf(t.filter, sizeof(t.filter), "b");
	top_view_update(&t);
	ck_assert_int_eq(t.nview, 2);                        /* db, web */
	snprintf(t.filter, sizeof(t.filter), "zz");
	top_view_update(&t);
	ck_assert_int_eq(t.nview, 0);
	top_finish(&t);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("top");
	TCase *tc = tcase_create("model");

	tcase_add_test(tc, model_follows_events_between_statuses);
	tcase_add_test(tc, model_sorts_filters_and_keeps_the_selection);
	suite_add_tcase(s, tc);

	tc = tcase_create("screen");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, top_needs_a_terminal);
	tcase_add_test(tc, top_shows_sorts_filters_and_resizes);
	tcase_add_test(tc, top_stop_asks_then_stops);
	tcase_add_test(tc, top_reader_sees_the_refusal);
	tcase_add_test(tc, top_scrolls_a_thousand);
	tcase_add_test(tc, top_reconnects_when_brummd_comes_back);
	suite_add_tcase(s, tc);
	return s;
}

Suite *brm_test_suite(void)
{
	return suite();
}
