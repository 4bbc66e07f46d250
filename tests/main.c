/*
 * main.c — the one main() of every Check suite in tests/.
 *
 * Each tests/test_X.c is linked with this file into its own program and
 * provides brm_test_suite() (tests/suite.h). The suite runs in Check's
 * default mode, CK_FORK unless the environment says otherwise: each test in
 * a child of its own, so a crash or a timeout fails that test alone. The
 * exit status is 0 when every test passed, 1 otherwise (make check and
 * scripts/mutate.py read only that).
 */
#include <check.h>
#include <stddef.h>
#include <stdlib.h>

#include "tests/suite.h"

Suite *brm_test_one_case(const char *suite, const char *tcase, int timeout,
			 const TTest *const *tests)
{
	Suite *s = suite_create(suite);
	TCase *tc = tcase_create(tcase);

	if (timeout > 0)
		tcase_set_timeout(tc, timeout);
	for (; *tests; tests++)
		tcase_add_test(tc, *tests);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	Suite *s = brm_test_suite();
	SRunner *sr;
	int failed;

	if (!s)
		return EXIT_FAILURE;
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
