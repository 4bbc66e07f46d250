/*
 * test_leftovers.c — what a brummd killed with SIGKILL left running, end
 * to end: the next brummd on the same state kills the rest of its
 * children's process groups (a grandchild holding a port) and logs it;
 * it leaves alone a process of another group, a process of an "orphan":
 * "keep" process, a group whose leader's pid now leads another group,
 * members older than the recorded leader, and groups from another boot.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/e2e.h"
#include "tests/harness.h"

static struct brmh H;

/* Field 22 of /proc/@pid/stat: its start time in ticks since boot. */
static unsigned long long start_ticks(pid_t pid)
{
	char *text = brmh_read_file(brmh_fmt("/proc/%d/stat", (int)pid));
	unsigned long long t = 0;
	char *p = text ? strrchr(text, ')') : NULL;

	ck_assert_msg(p, "no /proc/%d/stat", (int)pid);
	/* state ppid pgrp session tty tpgid flags minflt cminflt majflt
	 * cmajflt utime stime cutime cstime priority nice threads itreal start */
	ck_assert_int_eq(sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u"
				" %*d %*d %*d %*d %*d %*d %llu", &t), 1);
	free(text);
	return t;
}

static char *boot_id(void)
{
	char *id = brmh_read_file("/proc/sys/kernel/random/boot_id");

	ck_assert_ptr_nonnull(id);
	id[strcspn(id, "\n")] = '\0';
	return id;
}

/* A process of the test's own, in a session and group of its own. */
static pid_t unrelated(void)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* not the harness's pipes: its janitor waits for their last writer */
		close_range(3, ~0U, 0);
		setsid();
		for (;;)
			pause();
	}
	return pid;
}

static void reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static bool log_has(const char *needle)
{
	char *log = brmh_read_file(H.log);
	bool r = log && strstr(log, needle);

	free(log);
	return r;
}

/* Wait until the state file in @dir records a group for @name. */
static bool wait_group_recorded(const char *dir, const char *name, int timeout_ms)
{
	for (int waited = 0; waited < timeout_ms; waited += 10) {
		char *text = brmh_read_file(brmh_fmt("%s/state.json", dir));
		cJSON *j = text ? cJSON_Parse(text) : NULL;
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(j, "processes"), name);
		bool ok = cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(p, "group"));

		cJSON_Delete(j);
		free(text);
		if (ok)
			return true;
		brmh_sleep_ms(10);
	}
	return false;
}

/* The pid in @path, written by a test child. */
static pid_t pid_in(const char *path)
{
	char *text = brmh_wait_file(path, 5000);
	long pid;

	ck_assert_msg(text, "no %s", path);
	pid = atol(text);
	free(text);
	ck_assert_int_gt(pid, 1);
	return (pid_t)pid;
}

/*
 * Broke once: after brummd was SIGKILLed, an nginx's workers kept its port
 * and the nginx of the next brummd could never bind. "web" leaves a
 * grandchild in its group; "kept" ("orphan": "keep") is meant to outlive
 * brummd, grandchild and all; the unrelated process started after both.
 */
START_TEST(a_killed_brummd_leaves_nothing_behind_at_the_next_start)
{
	char state[64], scratch[64], cfg[2048], needle[128];
	pid_t web, web_g, kept, kept_g, other;
	cJSON *s;
	int st;

	ck_assert_ptr_nonnull(brmh_tmpdir(state, sizeof(state), "brmleft"));
	ck_assert_ptr_nonnull(brmh_tmpdir(scratch, sizeof(scratch), "brmleftx"));
	setenv("BRUMMD_STATE_DIR", state, 1);
	snprintf(cfg, sizeof(cfg),
		 "{\"processes\": {"
		 " \"web\": {\"cmd\": [\"%s\", \"grandchild\", \"%s/web.pid\"], \"start_secs\": 0},"
		 " \"kept\": {\"cmd\": [\"%s\", \"grandchild\", \"%s/kept.pid\"], \"start_secs\": 0,"
		 "          \"orphan\": \"keep\"}}}",
		 brmh_child(), scratch, brmh_child(), scratch);
	brmh_check_start(&H, "%s", cfg);
	web_g = pid_in(brmh_fmt("%s/web.pid", scratch));
	kept_g = pid_in(brmh_fmt("%s/kept.pid", scratch));
	ck_assert(brmh_wait_state(&H, "web", "running", 3000));
	ck_assert(brmh_wait_state(&H, "kept", "running", 3000));
	s = brmh_status(&H, "web");
	web = (pid_t)brmh_int(s, "pid");
	cJSON_Delete(s);
	s = brmh_status(&H, "kept");
	kept = (pid_t)brmh_int(s, "pid");
	cJSON_Delete(s);
	ck_assert_msg(wait_group_recorded(state, "web", 3000), "web's group is not in the state");
	other = unrelated();

	kill(H.pid, SIGKILL);
	brmh_stop(&H, 2000);
	ck_assert_msg(brmh_wait_pid_gone(web, 3000), "web's main process outlived brummd");
	ck_assert_msg(brmh_pid_alive(web_g), "the premise: web's grandchild outlives brummd");
	unlink(brmh_fmt("%s/web.pid", scratch));

	brmh_check_start(&H, "%s", cfg);
	ck_assert_msg(brmh_wait_pid_gone(web_g, 3000), "web's leftover grandchild %d still runs",
		      (int)web_g);
	snprintf(needle, sizeof(needle), "killing pid %d (brm-testchild), left over from 'web'",
		 (int)web_g);
	ck_assert_msg(log_has(needle), "the log does not say '%s'", needle);
	ck_assert_msg(brmh_pid_alive(other), "an unrelated process was killed");
	ck_assert_msg(brmh_pid_alive(kept) && brmh_pid_alive(kept_g),
		      "a process with \"orphan\": \"keep\" was killed");
	/* the new web runs, with a new grandchild */
	ck_assert(brmh_wait_state(&H, "web", "running", 3000));
	ck_assert_int_ne(pid_in(brmh_fmt("%s/web.pid", scratch)), web_g);

	reap(other);
	kill(kept_g, SIGKILL);
	kill(kept, SIGKILL);
	st = brmh_stop(&H, 15000);
	unsetenv("BRUMMD_STATE_DIR");
	ck_assert(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
}
END_TEST

/* Write a state file into @dir recording group @pgid (leader start @start)
 * for "old", written on boot @boot. */
static void write_state(const char *dir, const char *boot, pid_t pgid, unsigned long long start)
{
	const char *path = brmh_fmt("%s/state.json", dir);
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fprintf(f, "{\"version\":1,\"boot_id\":\"%s\",\"processes\":{"
		"\"old\":{\"group\":{\"pgid\":%d,\"start\":%llu}}}}\n", boot, (int)pgid, start);
	ck_assert_int_eq(fclose(f), 0);
	chmod(path, 0600);
}

/* Start brummd without processes on the state in $BRUMMD_STATE_DIR, and stop it. */
static void run_once(const char *expect_in_log)
{
	brmh_check_start(&H, "{\"processes\": {}}");
	if (expect_in_log)
		ck_assert_msg(log_has(expect_in_log), "the log does not say '%s'", expect_in_log);
	brmh_check_stop(&H);
}

/*
 * A group whose leader the test made (L, which forked M into its group),
 * recorded as if by an earlier brummd. Nothing is killed while the record
 * does not fit: L alive with another start time (its pid reused), L gone
 * and M older than the recorded leader, or another boot; then the fitting
 * record kills M (the control: the records are read at all).
 */
START_TEST(records_that_do_not_fit_kill_nothing)
{
	char state[64];
	int pfd[2];
	pid_t leader, member;
	unsigned long long lstart, mstart;
	char *boot = boot_id();

	ck_assert_ptr_nonnull(brmh_tmpdir(state, sizeof(state), "brmleft"));
	setenv("BRUMMD_STATE_DIR", state, 1);
	ck_assert_int_eq(pipe(pfd), 0);
	leader = fork();
	ck_assert_int_ge(leader, 0);
	if (leader == 0) {
		pid_t m;

		setsid();
		m = fork();
		if (m == 0)
			for (;;)
				pause();
		if (write(pfd[1], &m, sizeof(m)) != sizeof(m))
			_exit(1);
		for (;;)
			pause();
	}
	ck_assert_int_eq(read(pfd[0], &member, sizeof(member)), (ssize_t)sizeof(member));
	close(pfd[0]);
	close(pfd[1]);
	lstart = start_ticks(leader);
	mstart = start_ticks(member);

	/* its leader's pid leads the group, but started at another time */
	write_state(state, boot, leader, lstart - 1);
	run_once(NULL);
	ck_assert_msg(brmh_pid_alive(member) && brmh_pid_alive(leader),
		      "a group whose leader is not the recorded one was killed");

	/* the leader gone: a member older than the recorded leader is not its */
	reap(leader);
	write_state(state, boot, leader, mstart + 1000);
	run_once(NULL);
	ck_assert_msg(brmh_pid_alive(member), "a member older than the recorded leader was killed");

	/* recorded on another boot */
	write_state(state, "00000000-0000-0000-0000-000000000000", leader, lstart);
	run_once("from another boot");
	ck_assert_msg(brmh_pid_alive(member), "a group recorded on another boot was killed");

	/* the control: a record that fits */
	write_state(state, boot, leader, lstart);
	brmh_check_start(&H, "{\"processes\": {}}");
	ck_assert_msg(brmh_wait_pid_gone(member, 3000), "the fitting record killed nothing");
	ck_assert_msg(log_has(brmh_fmt("killing pid %d (", (int)member)) &&
			      log_has("left over from 'old'"),
		      "the log does not name pid %d", (int)member);
	brmh_check_stop(&H);
	waitpid(-1, NULL, WNOHANG);
	unsetenv("BRUMMD_STATE_DIR");
	free(boot);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("leftovers");
	TCase *tc = tcase_create("leftovers");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, a_killed_brummd_leaves_nothing_behind_at_the_next_start);
	tcase_add_test(tc, records_that_do_not_fit_kill_nothing);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
