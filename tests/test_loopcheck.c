/*
 * test_loopcheck.c — BRM_ASSERT_LOOP() (daemon/sup/loopcheck.h): in a
 * developer build (make DEVELOPER=1), a loop-thread entry point of sup/
 * called from another thread aborts with a message naming the function,
 * and the same call from the loop thread passes; in another build the
 * check is compiled out and the call from another thread returns.
 *
 * The offending call runs in a forked child (the parent reads its stderr
 * and its status), so the abort ends the child, never the suite.
 */
#include <check.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include "daemon/sup/supervise.h"
#include "lib/registry.h"

static void *count_elsewhere(void *arg)
{
	return (void *)brm_supervisor_count(arg);
}

/*
 * In a child: a supervisor created on this thread (the loop thread), then
 * brm_supervisor_count from this thread and from a second one. Returns the
 * child's wait status; its stderr goes to @err (@len bytes).
 */
static int run_child(char *err, size_t len)
{
	int fds[2], status;
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		uv_loop_t loop;
		struct brm_registry *reg;
		struct brm_supervisor *sup;
		pthread_t t;

		dup2(fds[1], 2);
		close(fds[0]);
		uv_loop_init(&loop);
		reg = brm_registry_create();
		sup = brm_supervisor_create(&loop, reg);
		if (brm_supervisor_count(sup) != 0)   /* the loop thread: passes */
			_exit(3);
		if (pthread_create(&t, NULL, count_elsewhere, sup) != 0)
			_exit(4);
		pthread_join(t, NULL);
		_exit(0);
	}
	close(fds[1]);
	while (got + 1 < len && (n = read(fds[0], err + got, len - got - 1)) > 0)
		got += (size_t)n;
	err[got] = '\0';
	close(fds[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return status;
}

#ifdef BRM_DEVELOPER
START_TEST(a_call_off_the_loop_thread_aborts_naming_the_function)
{
	char err[4096];
	int status = run_child(err, sizeof(err));

	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
		      "status %#x, stderr: %s", status, err);
	ck_assert_msg(strstr(err, "brm_supervisor_count: called off the loop thread"),
		      "stderr: %s", err);
}
END_TEST
#else
START_TEST(without_developer_the_check_is_compiled_out)
{
	char err[4096];
	int status = run_child(err, sizeof(err));

	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x, stderr: %s",
		      status, err);
}
END_TEST
#endif

static Suite *loopcheck_suite(void)
{
	Suite *s = suite_create("loopcheck");
	TCase *tc = tcase_create("loopcheck");

#ifdef BRM_DEVELOPER
	tcase_add_test(tc, a_call_off_the_loop_thread_aborts_naming_the_function);
#else
	tcase_add_test(tc, without_developer_the_check_is_compiled_out);
#endif
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(loopcheck_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
