/*
 * test_init.c — brummd as a container's init (issue 15), end to end: a
 * critical process that ends takes brummd down, others stopped first, with
 * its exit status (128 + the signal when killed); a failure of another
 * process does not, unless "exit_with" is "first_failure"; a plain SIGTERM
 * still exits 0. Then as PID 1 of a PID namespace (unshare --pid --fork
 * --mount-proc, as root): the orphans re-parented to it are reaped,
 * SIGTERM from outside the namespace gives the ordered stop and exit 0,
 * and a critical process's status comes out as unshare's.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/conf/config.h"
#include "tests/e2e.h"
#include "tests/harness.h"
#include "tests/suite.h"

static struct brmh H;

/* Wait for brummd (started by brmh_start) to exit on its own; its exit
 * status (-2 when killed by a signal, -1 when it did not exit in time). */
static int wait_daemon_exit(int timeout_ms)
{
	int rc = brmh_wait_exit(H.pid, timeout_ms);

	H.pid = 0;
	return rc;
}

/* Clean up after a brummd that has exited (brmh_stop sends nothing). */
static void cleanup(void)
{
	H.pid = 0;
	brmh_stop(&H, 1000);
}

static void assert_log_has(const char *needle)
{
	char *log = brmh_read_file(H.log);

	ck_assert_msg(log && strstr(log, needle), "brummd's log lacks '%s':\n%s", needle,
		      log ? log : "(none)");
	free(log);
}

/* A critical process ends brummd: @main_cmd ends it, "other" runs; the
 * other must be stopped before brummd exits with @want. */
static void critical_ends_with(const char *main_args, int want)
{
	long other;
	int rc;

	brmh_check_start(&H,
		"{\"processes\": {"
		" \"main\": {\"cmd\": [\"%s\", %s], \"critical\": true, \"restart\": \"never\","
		"   \"start_secs\": 0.1},"
		" \"other\": {\"cmd\": [\"%s\", \"sleep\", \"30\"], \"start_secs\": 0.1}"
		"}}", brmh_child(), main_args, brmh_child());
	ck_assert(brmh_wait_state(&H, "other", "running", 5000));
	other = brmh_check_pid(&H, "other");
	rc = wait_daemon_exit(15000);
	ck_assert_msg(rc == want, "brummd exited with %d, not %d", rc, want);
	ck_assert_msg(!brmh_pid_alive((pid_t)other), "other (pid %ld) outlived brummd", other);
	assert_log_has("every process has stopped");
	assert_log_has("(critical)");
	cleanup();
}

START_TEST(critical_exit_code_is_brummds)
{
	critical_ends_with("\"exit\", \"3\", \"0.5\"", 3);
}
END_TEST

START_TEST(critical_killed_by_sigkill_gives_137)
{
	critical_ends_with("\"raise\", \"9\", \"0.5\"", 137);
}
END_TEST

/* on-failure does not restart an exit 0: the service ended, so does the
 * container, with its status 0. */
START_TEST(critical_clean_exit_ends_brummd_with_0)
{
	long other;
	int rc;

	brmh_check_start(&H,
		"{\"processes\": {"
		" \"main\": {\"cmd\": [\"%s\", \"exit\", \"0\", \"0.5\"], \"critical\": true,"
		"   \"start_secs\": 0.1},"
		" \"other\": {\"cmd\": [\"%s\", \"sleep\", \"30\"], \"start_secs\": 0.1}"
		"}}", brmh_child(), brmh_child());
	ck_assert(brmh_wait_state(&H, "other", "running", 5000));
	other = brmh_check_pid(&H, "other");
	rc = wait_daemon_exit(15000);
	ck_assert_msg(rc == 0, "brummd exited with %d, not 0", rc);
	ck_assert(!brmh_pid_alive((pid_t)other));
	assert_log_has("main (critical) exited with code 0");
	cleanup();
}
END_TEST

/* The failure of a process that is not critical, and a critical one-shot
 * that completes, leave brummd running. */
START_TEST(non_critical_failure_keeps_brummd)
{
	int st;

	brmh_check_start(&H,
		"{\"processes\": {"
		" \"bad\": {\"cmd\": [\"%s\", \"exit\", \"3\", \"0.2\"], \"restart\": \"never\","
		"   \"start_secs\": 0.1},"
		" \"crash\": {\"cmd\": [\"%s\", \"exit\", \"4\"], \"start_retries\": 0},"
		" \"mig\": {\"cmd\": [\"%s\", \"exit\", \"0\", \"0.2\"], \"type\": \"oneshot\","
		"   \"critical\": true},"
		" \"main\": {\"cmd\": [\"%s\", \"sleep\", \"30\"], \"critical\": true,"
		"   \"start_secs\": 0.1}"
		"}}", brmh_child(), brmh_child(), brmh_child(), brmh_child());
	ck_assert(brmh_wait_state(&H, "bad", "exited", 5000));
	ck_assert(brmh_wait_state(&H, "crash", "fatal", 5000));
	ck_assert(brmh_wait_state(&H, "mig", "exited", 5000));
	brmh_sleep_ms(300);
	ck_assert_msg(waitpid(H.pid, &st, WNOHANG) == 0, "brummd exited (status %d)", st);
	ck_assert(brmh_wait_state(&H, "main", "running", 1000));
	brmh_check_stop(&H);
}
END_TEST

START_TEST(first_failure_ends_brummd)
{
	long other;
	int rc;

	brmh_check_start(&H,
		"{\"exit_with\": \"first_failure\", \"processes\": {"
		" \"done\": {\"cmd\": [\"%s\", \"exit\", \"0\", \"0.2\"], \"restart\": \"never\","
		"   \"start_secs\": 0.1},"
		" \"bad\": {\"cmd\": [\"%s\", \"exit\", \"4\", \"0.8\"], \"restart\": \"never\","
		"   \"start_secs\": 0.1},"
		" \"other\": {\"cmd\": [\"%s\", \"sleep\", \"30\"], \"start_secs\": 0.1}"
		"}}", brmh_child(), brmh_child(), brmh_child());
	ck_assert(brmh_wait_state(&H, "other", "running", 5000));
	other = brmh_check_pid(&H, "other");
	rc = wait_daemon_exit(15000);
	ck_assert_msg(rc == 4, "brummd exited with %d, not 4", rc);
	ck_assert(!brmh_pid_alive((pid_t)other));
	assert_log_has("bad exited with code 4");
	cleanup();
}
END_TEST

/* SIGTERM stops a critical process too; that is no failure: exit 0. */
START_TEST(sigterm_exits_0_with_critical_processes)
{
	brmh_check_start(&H,
		"{\"exit_with\": \"first_failure\", \"processes\": {"
		" \"main\": {\"cmd\": [\"%s\", \"sleep\", \"30\"], \"critical\": true,"
		"   \"start_secs\": 0.1}"
		"}}", brmh_child());
	ck_assert(brmh_wait_state(&H, "main", "running", 5000));
	brmh_check_stop(&H);
}
END_TEST

/* "critical" set by a reload applies to the running process, which is not
 * restarted for it. */
START_TEST(critical_applies_on_reload)
{
	char path[320];
	FILE *f;
	long pid;
	cJSON *r;
	int code, rc;

	brmh_check_start(&H,
		"{\"processes\": {"
		" \"main\": {\"cmd\": [\"%s\", \"sleep\", \"30\"], \"restart\": \"never\","
		"   \"start_secs\": 0.1}"
		"}}", brmh_child());
	ck_assert(brmh_wait_state(&H, "main", "running", 5000));
	pid = brmh_check_pid(&H, "main");
	snprintf(path, sizeof(path), "%s/brummd.json", H.dir);
	f = fopen(path, "w");
	ck_assert(f);
	fprintf(f, "{\"processes\": {"
		" \"main\": {\"cmd\": [\"%s\", \"sleep\", \"30\"], \"restart\": \"never\","
		"   \"start_secs\": 0.1, \"critical\": true}}}", brmh_child());
	fclose(f);
	r = brmh_call(&H, "reload", NULL);
	brmh_result(r, &code);
	ck_assert_msg(code == 0, "reload failed: %d", code);
	cJSON_Delete(r);
	ck_assert_int_eq(brmh_check_pid(&H, "main"), pid);
	kill((pid_t)pid, SIGKILL);
	rc = wait_daemon_exit(15000);
	ck_assert_msg(rc == 137, "brummd exited with %d, not 137", rc);
	cleanup();
}
END_TEST

START_TEST(critical_and_exit_with_are_checked)
{
	static const char text[] =
		"{\"exit_with\": \"first-failure\", \"processes\": {"
		" \"a\": {\"cmd\": \"true\", \"critical\": \"yes\"},"
		" \"b\": {\"cmd\": \"true\", \"critcal\": true}}}";
	struct brm_config *cfg = NULL;
	char *err = NULL;

	ck_assert_int_lt(brm_config_parse(text, sizeof(text) - 1, "t.json", &cfg, &err), 0);
	ck_assert_msg(strstr(err, "exit_with: expected \"critical\" or \"first_failure\","
			      " got \"first-failure\""), "%s", err);
	ck_assert_msg(strstr(err, "processes.a.critical: expected true or false"), "%s", err);
	ck_assert_msg(strstr(err, "processes.b.critcal: unknown key (did you mean"
			      " \"critical\"?)"), "%s", err);
	free(err);
}
END_TEST

/* ---- as PID 1 of a PID namespace ---------------------------------------- */

/* unshare's pid (its child, brummd, is PID 1 inside) in *@ns, brummd's pid
 * as seen here in *@bpid; 0, or -1 after printing SKIP when unshare may
 * not make the namespaces. */
static int start_in_ns(const char *config, pid_t *ns, pid_t *bpid)
{
	char cfg[320], path[64], *kids;
	int logfd;
	pid_t pid;

	memset(&H, 0, sizeof(H));
	H.fd = -1;
	H.janitor_fd = -1;
	signal(SIGPIPE, SIG_IGN);
	snprintf(H.dir, sizeof(H.dir), "/tmp/brmtest.XXXXXX");
	ck_assert(mkdtemp(H.dir));
	snprintf(H.sock, sizeof(H.sock), "%s/brummd.sock", H.dir);
	snprintf(H.log, sizeof(H.log), "%s/brummd.log", H.dir);
	snprintf(cfg, sizeof(cfg), "%s/brummd.json", H.dir);
	{
		FILE *f = fopen(cfg, "w");

		ck_assert(f);
		fputs(config, f);
		fclose(f);
	}
	logfd = open(H.log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert_int_ge(logfd, 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		const char *brummd = brmh_bin("brummd");

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(logfd, 1);
		dup2(logfd, 2);
		unsetenv("BRUMMD_SOCKET");
		setenv("BRUMMD_STATE_DIR", H.dir, 1);
		execlp("unshare", "unshare", "--pid", "--fork", "--mount-proc", brummd,
		       "--socket", H.sock, "--config", cfg, (char *)NULL);
		_exit(127);
	}
	close(logfd);
	*ns = pid;
	for (int i = 0; i < 1000; i++) {
		int st;

		if (waitpid(pid, &st, WNOHANG) == pid) {
			char *log = brmh_read_file(H.log);
			bool eperm = log && strstr(log, "Operation not permitted");

			if (eperm || (WIFEXITED(st) && WEXITSTATUS(st) == 127))
				printf("SKIP: init: unshare --pid --fork --mount-proc failed: %s\n",
				       log ? log : "");
			else
				ck_abort_msg("unshare exited (%d): %s", st, log ? log : "");
			free(log);
			H.pid = 0;
			brmh_stop(&H, 1000);
			return -1;
		}
		H.fd = brmh_connect(&H);
		if (H.fd >= 0)
			break;
		brmh_sleep_ms(10);
	}
	ck_assert_msg(H.fd >= 0, "brummd in the namespace did not come up");
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid, (int)pid);
	kids = brmh_read_file(path);
	ck_assert_msg(kids && atoi(kids) > 0, "unshare has no child: %s", kids ? kids : "");
	*bpid = (pid_t)atoi(kids);
	free(kids);
	return 0;
}

/* The exit status of unshare (brummd's, passed on), -1 after a timeout. */
static int wait_ns_exit(pid_t ns, int timeout_ms)
{
	int rc = brmh_wait_exit(ns, timeout_ms);

	cleanup();
	return rc;
}

START_TEST(pid1_reaps_orphans_and_stops_on_sigterm)
{
	char tdir[64] = "/tmp/brmorph.XXXXXX", pidfile[128], *config, *log;
	pid_t ns, bpid;
	int zombies = -1, rc;

	ck_assert(mkdtemp(tdir));
	snprintf(pidfile, sizeof(pidfile), "%s/orph.pid", tdir);
	config = brmh_fmt("{\"processes\": {"
		" \"orph\": {\"cmd\": [\"%s\", \"orphans\", \"20\", \"%s\"], \"start_secs\": 0.1},"
		" \"svc\": {\"cmd\": [\"%s\", \"sleep\", \"30\"], \"start_secs\": 0.1}"
		"}}", brmh_child(), pidfile, brmh_child());
	rc = start_in_ns(config, &ns, &bpid);
	if (rc < 0)
		return;
	free(brmh_wait_file(pidfile, 5000));
	unlink(pidfile);
	rmdir(tdir);
	/* Each orphan sleeps 0.2 s, then exits: a zombie until PID 1 reaps it. */
	for (int i = 0; i < 300; i++) {
		brmh_sleep_ms(10);
		zombies = brmh_zombie_children(bpid);
		if (i >= 40 && zombies == 0)
			break;
	}
	ck_assert_msg(zombies == 0, "%d zombie(s) left under PID 1 (pid %d here)", zombies,
		      (int)bpid);
	kill(bpid, SIGTERM);
	rc = brmh_wait_exit(ns, 20000);
	log = brmh_read_file(H.log);
	ck_assert_msg(rc == 0, "brummd as PID 1 exited with %d after SIGTERM:\n%s", rc,
		      log ? log : "");
	ck_assert_msg(log && strstr(log, "SIGTERM: stopping"), "no SIGTERM seen:\n%s", log);
	ck_assert_msg(strstr(log, "every process has stopped"), "no ordered stop:\n%s", log);
	free(log);
	cleanup();
}
END_TEST

START_TEST(pid1_critical_status_is_unshares)
{
	char *config;
	pid_t ns, bpid;
	int rc;

	config = brmh_fmt("{\"processes\": {"
		" \"main\": {\"cmd\": [\"%s\", \"exit\", \"5\", \"0.8\"], \"critical\": true,"
		"   \"restart\": \"never\", \"start_secs\": 0.1},"
		" \"svc\": {\"cmd\": [\"%s\", \"sleep\", \"30\"], \"start_secs\": 0.1}"
		"}}", brmh_child(), brmh_child());
	rc = start_in_ns(config, &ns, &bpid);
	if (rc < 0)
		return;
	rc = wait_ns_exit(ns, 20000);
	ck_assert_msg(rc == 5, "unshare exited with %d, not 5", rc);
}
END_TEST

Suite *brm_test_suite(void)
{
	Suite *s = suite_create("init");
	TCase *tc = tcase_create("init");

	tcase_set_timeout(tc, 40);
	tcase_add_test(tc, critical_exit_code_is_brummds);
	tcase_add_test(tc, critical_killed_by_sigkill_gives_137);
	tcase_add_test(tc, critical_clean_exit_ends_brummd_with_0);
	tcase_add_test(tc, non_critical_failure_keeps_brummd);
	tcase_add_test(tc, first_failure_ends_brummd);
	tcase_add_test(tc, sigterm_exits_0_with_critical_processes);
	tcase_add_test(tc, critical_applies_on_reload);
	tcase_add_test(tc, critical_and_exit_with_are_checked);
	tcase_add_test(tc, pid1_reaps_orphans_and_stops_on_sigterm);
	tcase_add_test(tc, pid1_critical_status_is_unshares);
	suite_add_tcase(s, tc);
	return s;
}
