/*
 * test_children_faults.c — misbehaving children against a real brummd:
 * children that flood output, exit at once in a loop, fork many children
 * of their own, ignore SIGTERM, close their stdout and stderr, or abort.
 * Afterwards brummd answers, has no zombie child, and holds no more
 * descriptors and not much more memory than before.
 */
#include <check.h>
#include <errno.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/harness.h"

static struct brmh H;

static void add(const char *name, const char *spec_fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void add(const char *name, const char *spec_fmt, ...)
{
	char spec[2048], params[2400];
	va_list ap;
	cJSON *r;
	int code;

	va_start(ap, spec_fmt);
	vsnprintf(spec, sizeof(spec), spec_fmt, ap);
	va_end(ap);
	snprintf(params, sizeof(params), "{\"name\":\"%s\",\"spec\":{%s}}", name, spec);
	r = brmh_call(&H, "add", params);
	ck_assert_msg(brmh_result(r, &code) && code == 0, "add %s failed (%d)", name, code);
	cJSON_Delete(r);
}

static void call_ok(const char *method, const char *params)
{
	cJSON *r = brmh_call(&H, method, params);
	int code;

	ck_assert_msg(r && brmh_result(r, &code) && code == 0, "%s %s failed (%d)", method, params,
		      code);
	cJSON_Delete(r);
}

START_TEST(misbehaving_children_leave_no_trace)
{
	char pidfile[400], params[256];
	int fds0, fds1 = -1, zombies = -1;
	long rss0, rss1, restarts, pgid;
	cJSON *s;
	char *txt;

	ck_assert_int_eq(brmh_start(&H, NULL, NULL), 0);
	/*
	 * Warm up: libuv keeps one /dev/null descriptor per loop from the first
	 * stream on (its EMFILE reserve, loop->emfile_fd): not a leak.
	 */
	add("warm", "\"cmd\":[\"%s\",\"sleep\",\"60\"],\"start_secs\":0", brmh_child());
	ck_assert(brmh_wait_state(&H, "warm", "running", 3000));
	call_ok("remove", "{\"name\":\"warm\"}");
	fds0 = brmh_fd_count(H.pid);
	rss0 = brmh_rss_kb(H.pid);

	/* 1. floods 64 MB of output, then exits */
	add("flood", "\"cmd\":[\"%s\",\"flood\",\"67108864\"],\"restart\":\"never\",\"start_secs\":0",
	    brmh_child());
	/* 2. exits at once, in a loop (restart always, no start_secs, never a
	 * failed start); brummd backs such a loop off, so the delays are set
	 * tiny to make it spin */
	add("loop", "\"cmd\":[\"%s\",\"exit\",\"1\"],\"restart\":\"always\",\"start_secs\":0,"
	    "\"min_uptime_secs\":0,\"backoff_secs\":0.001,\"backoff_max_secs\":0.002",
	    brmh_child());
	/* 3. forks 50 children of its own that sleep */
	snprintf(pidfile, sizeof(pidfile), "%s/bomb.pgid", H.dir);
	add("bomb", "\"cmd\":\"for i in $(seq 50); do sleep 60 & done; echo $$ > %s; wait\","
	    "\"shell\":true,\"start_secs\":0", pidfile);
	/* 4. ignores SIGTERM */
	add("deaf", "\"cmd\":[\"%s\",\"ignore-term\"],\"start_secs\":0,\"stop_timeout_secs\":0.2",
	    brmh_child());
	/* 5. closes stdout and stderr, then lives on */
	add("mute", "\"cmd\":\"exec >&- 2>&-; exec sleep 60\",\"shell\":true,\"start_secs\":0");
	/* 6. aborts, again and again, until fatal */
	add("crash", "\"cmd\":[\"%s\",\"abort\"],\"start_secs\":1,\"start_retries\":3,"
	    "\"backoff_secs\":0.01", brmh_child());

	ck_assert(brmh_wait_state(&H, "flood", "exited", 30000));
	ck_assert(brmh_wait_state(&H, "crash", "fatal", 5000));
	ck_assert(brmh_wait_state(&H, "deaf", "running", 3000));
	ck_assert(brmh_wait_state(&H, "mute", "running", 3000));
	txt = brmh_wait_file(pidfile, 3000);
	ck_assert_ptr_nonnull(txt);
	pgid = atol(txt);
	free(txt);
	brmh_sleep_ms(500);   /* let "loop" go round a few hundred times */
	s = brmh_status(&H, "loop");
	restarts = brmh_int(s, "restarts");
	cJSON_Delete(s);
	ck_assert_msg(restarts > 5, "loop restarted only %ld times", restarts);

	/* brummd still answers everyone while they misbehave */
	call_ok("ping", NULL);
	call_ok("stop", "{\"all\":true,\"wait\":true,\"timeout_secs\":10}");
	ck_assert_msg(kill((pid_t)-pgid, 0) < 0 && errno == ESRCH,
		      "the fork bomb's children outlived its stop");
	for (const char *const *n = (const char *const[]){ "flood", "loop", "bomb", "deaf", "mute",
							   "crash", NULL }; *n; n++) {
		snprintf(params, sizeof(params), "{\"name\":\"%s\"}", *n);
		call_ok("remove", params);
	}
	brmh_wait_settled(H.pid, fds0, &fds1, &zombies);
	rss1 = brmh_rss_kb(H.pid);
	fprintf(stderr, "children faults: fds %d -> %d, zombies %d, RSS %ld -> %ld KiB,"
		" %ld crash-loop restarts\n", fds0, fds1, zombies, rss0, rss1, restarts);
	ck_assert_int_eq(zombies, 0);
	ck_assert_int_le(fds1, fds0);
	ck_assert_msg(getenv("TSAN_OPTIONS") || rss1 - rss0 < 16 * 1024,
		      "RSS grew from %ld to %ld KiB", rss0, rss1);
	ck_assert_int_eq(brmh_stop(&H, 10000), 0);
}
END_TEST

/* The pid a child wrote to @path (waits up to 3 s for it). */
static pid_t pid_from(const char *path)
{
	char *txt = brmh_wait_file(path, 3000);
	pid_t pid;

	ck_assert_msg(txt, "no pid in %s", path);
	pid = (pid_t)atol(txt);
	free(txt);
	ck_assert_int_gt(pid, 1);
	return pid;
}

/* Wait up to 2 s for @pid to lead a session of its own: the shell writes
 * $! before the setsid program in that child has called setsid(). */
static bool wait_own_session(pid_t pid)
{
	for (int i = 0; i < 200 && getsid(pid) != pid; i++)
		brmh_sleep_ms(10);
	return getsid(pid) == pid;
}

/* The parent pid of @pid, from /proc, or -1. */
static pid_t ppid_of(pid_t pid)
{
	pid_t ppid;

	return brmh_proc_stat(pid, NULL, &ppid, NULL) ? ppid : -1;
}

/*
 * What a stop reaches without cgroups, as README.md ("No orphans") says:
 * the process group brummd made for the child (a daemon that double-forked
 * stays in it), and descendants that left the group with setsid() while
 * their parents live (found through /proc). A setsid() descendant whose
 * parent already exited cannot be traced to the process; brummd, a child
 * subreaper, adopts it, reaps it, and stops it when brummd itself stops.
 */
START_TEST(a_stop_reaches_descendants_and_shutdown_the_adopted_rest)
{
	char dpid[400], spid[400], opid[400], *log;
	pid_t daemonized, escaped, orphan;
	int zombies = -1, st;

	ck_assert_int_eq(brmh_start(&H, NULL, NULL), 0);
	snprintf(dpid, sizeof(dpid), "%s/daemonized.pid", H.dir);
	snprintf(spid, sizeof(spid), "%s/escaped.pid", H.dir);
	snprintf(opid, sizeof(opid), "%s/orphan.pid", H.dir);
	/* double fork: the subshell starts sleep and exits; sleep is orphaned
	 * but stays in the group */
	add("dfork", "\"cmd\":\"(sleep 60 & echo $! > %s); exec sleep 60\",\"shell\":true,"
	    "\"start_secs\":0", dpid);
	/* a grandchild that calls setsid() while its parent waits for it */
	add("escape", "\"cmd\":\"setsid sleep 60 & echo $! > %s; wait\",\"shell\":true,"
	    "\"start_secs\":0", spid);
	/* both at once: out of the group, and its parent gone */
	add("orphan", "\"cmd\":\"(setsid sleep 60 & echo $! > %s); exec sleep 60\","
	    "\"shell\":true,\"start_secs\":0", opid);
	daemonized = pid_from(dpid);
	escaped = pid_from(spid);
	orphan = pid_from(opid);
	ck_assert(brmh_wait_state(&H, "dfork", "running", 3000));
	ck_assert(brmh_wait_state(&H, "escape", "running", 3000));
	ck_assert(brmh_wait_state(&H, "orphan", "running", 3000));
	ck_assert_msg(wait_own_session(escaped), "%d leads no session", (int)escaped);
	ck_assert_msg(wait_own_session(orphan), "%d leads no session", (int)orphan);
	for (int i = 0; i < 100 && ppid_of(orphan) != H.pid; i++)
		brmh_sleep_ms(10);
	ck_assert_msg(ppid_of(orphan) == H.pid, "orphan %d has parent %d, not brummd %d",
		      (int)orphan, (int)ppid_of(orphan), (int)H.pid);

	call_ok("stop", "{\"all\":true,\"wait\":true,\"timeout_secs\":10}");
	ck_assert_msg(brmh_wait_pid_gone(daemonized, 2000),
		      "the double-forked daemon %d outlived its group's stop", (int)daemonized);
	ck_assert_msg(brmh_wait_pid_gone(escaped, 2000),
		      "the setsid() grandchild %d outlived the stop", (int)escaped);
	brmh_sleep_ms(200);
	ck_assert_msg(brmh_pid_alive(orphan), "the adopted orphan %d was stopped with its"
		      " process: update README.md (No orphans) and this test", (int)orphan);
	/* the double-forked daemon was brummd's child by then: reaped, no zombie */
	for (int i = 0; i < 100 && (zombies = brmh_zombie_children(H.pid)) != 0; i++)
		brmh_sleep_ms(20);
	ck_assert_int_eq(zombies, 0);

	/* brummd's own shutdown stops what it adopted, and says so */
	ck_assert_int_eq(kill(H.pid, SIGTERM), 0);
	ck_assert_int_eq(waitpid(H.pid, &st, 0), H.pid);
	H.pid = 0;
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "brummd exit status %d", st);
	ck_assert_msg(brmh_wait_pid_gone(orphan, 2000), "the adopted orphan %d outlived brummd",
		      (int)orphan);
	log = brmh_read_file(H.log);
	snprintf(dpid, sizeof(dpid), "stopping pid %d (sleep), an orphan adopted", (int)orphan);
	ck_assert_msg(log && strstr(log, dpid), "no \"%s\" in the log:\n%s", dpid,
		      log ? log : "");
	free(log);
	brmh_stop(&H, 1000);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("children-faults");

	signal(SIGPIPE, SIG_IGN);
	TCase *tc = tcase_create("children");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, misbehaving_children_leave_no_trace);
	tcase_add_test(tc, a_stop_reaches_descendants_and_shutdown_the_adopted_rest);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
