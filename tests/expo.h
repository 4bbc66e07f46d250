/*
 * expo.h — checks of the Prometheus text exposition format 0.0.4 for the
 * suites that read brummd's metrics (test_metrics.c: brummctl metrics;
 * test_metrics_http.c: GET /metrics).
 * Context: the test's thread, inside a Check test.
 */
#ifndef BRM_TESTS_EXPO_H
#define BRM_TESTS_EXPO_H

/* Asserts @line (without its newline) is a whole line of @out. */
void brmt_has_line(const char *out, const char *line);

/*
 * Holds @out to the format, strictly: every line a HELP, a TYPE (counter,
 * gauge or histogram; a counter's name ends in _total; a histogram's
 * buckets cumulative, its +Inf bucket equal to its _count) or a sample; each family's HELP
 * then TYPE once, before its samples, which come together; label values
 * escaped; a series once. Returns the number of families.
 */
int brmt_check_format(const char *out);

/* When promtool is installed, `promtool check metrics` must accept @out;
 * else a "SKIP: SUITE: ..." line. */
void brmt_promtool_check(const char *suite, const char *out);

#endif
