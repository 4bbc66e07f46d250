/*
 * suite.h — what each Check suite of tests/ gives the one main()
 * (tests/main.c) that runs it.
 *
 * Every tests/test_X.c (and tests/stress/stress_X.c) is still a program of
 * its own, bin/test_X, so `make check`, `make mutate` (scripts/mutate.py
 * runs suites by binary name), CK_RUN_CASE and each case's timeout work as
 * before; only main() is shared. A suite file defines brm_test_suite(): by
 * hand when it has several test cases, a fixture or preparation to do, or
 * with BRM_TEST_CASE() when it is one plain test case.
 */
#ifndef BRM_TESTS_SUITE_H
#define BRM_TESTS_SUITE_H

#include <check.h>

/*
 * Builds this program's suite, after any process-wide preparation its tests
 * need (a scratch directory, SIGPIPE ignored), which every forked test
 * (CK_FORK) inherits. Returns NULL when that preparation failed, having
 * said why on stderr; main() then exits 1 without running anything.
 * Context: called once, by main(), before any test runs.
 */
Suite *brm_test_suite(void);

/*
 * A suite named @suite holding one test case named @tcase, whose tests get
 * @timeout seconds each (0 keeps Check's default, CK_DEFAULT_TIMEOUT), and
 * runs @tests, a NULL-terminated list of START_TEST names, in order.
 * Ownership: the suite goes to srunner_create(), which frees it.
 */
Suite *brm_test_one_case(const char *suite, const char *tcase, int timeout,
			 const TTest *const *tests);

/*
 * Defines brm_test_suite() as brm_test_one_case() of the tests listed:
 *   BRM_TEST_CASE("config", "parse", 30, test_a, test_b);
 */
#define BRM_TEST_CASE(suite, tcase, timeout, ...)                        \
	Suite *brm_test_suite(void)                                      \
	{                                                                \
		const TTest *const tests_[] = { __VA_ARGS__, NULL };     \
		return brm_test_one_case(suite, tcase, timeout, tests_); \
	}

#endif
