/*
 * test_procstat.c — Check suite for daemon/procstat.c's reading of
 * /proc/PID/stat (brm_pstat_parse, brm_pstat_read), which the loop thread
 * does once per spawn and the workers for every `status` with stats: a
 * command name holding spaces and parentheses, negative fields, the child
 * counters that do not count when negative, a short or damaged line, and a
 * real process whose group and start time are known.
 */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/procstat.h"
#include "tests/suite.h"

/* Fields 3 to 52 of a stat line after the name; %s is the state. */
#define TAIL "%s 1 42 42 0 -1 4194560 100 0 0 0 7 3 %s 5 20 -5 3 0 98765 1000000 256" \
	" 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n"

START_TEST(a_name_with_spaces_and_parens)
{
	char line[512];
	struct brm_pstat ps;

	snprintf(line, sizeof(line), "1234 (a) b (c)) " TAIL, "S", "0");
	ck_assert_int_eq(brm_pstat_parse(line, &ps), 0);
	ck_assert_int_eq(ps.state, 'S');
	ck_assert_int_eq(ps.pgrp, 42);
	ck_assert_int_eq(ps.nthreads, 3);
	ck_assert(ps.ticks == 7 + 3 + 0 + 5);
	ck_assert(ps.start == 98765);
	ck_assert_int_eq(ps.rss_pages, 256);
}
END_TEST

/* cutime is signed in the kernel's format: a negative one adds nothing. */
START_TEST(negative_fields)
{
	char line[512];
	struct brm_pstat ps;

	snprintf(line, sizeof(line), "7 (sh) " TAIL, "Z", "-2");
	ck_assert_int_eq(brm_pstat_parse(line, &ps), 0);
	ck_assert_int_eq(ps.state, 'Z');
	ck_assert(ps.ticks == 7 + 3 + 5);
	ck_assert(ps.start == 98765);
}
END_TEST

START_TEST(a_short_or_damaged_line_is_einval)
{
	char line[512];
	struct brm_pstat ps;

	ck_assert_int_eq(brm_pstat_parse("", &ps), -EINVAL);
	ck_assert_int_eq(brm_pstat_parse("12 (x S 1 2", &ps), -EINVAL);
	/* up to num_threads only */
	ck_assert_int_eq(brm_pstat_parse("12 (x) S 1 42 42 0 -1 1 0 0 0 0 7 3 0 5 20 0 3",
					 &ps), -EINVAL);
	snprintf(line, sizeof(line), "12 (x) " TAIL, "S", "x");
	ck_assert_int_eq(brm_pstat_parse(line, &ps), -EINVAL);
	snprintf(line, sizeof(line), "12 (x)" TAIL, "S", "0");
	ck_assert_int_eq(brm_pstat_parse(line, &ps), -EINVAL);
}
END_TEST

/* The reference: field 22 (starttime) of /proc/@pid/stat by sscanf. */
static unsigned long long start_of(pid_t pid)
{
	char path[64], buf[1024];
	unsigned long long start = 0;
	FILE *f;
	char *p;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u"
				" %*d %*d %*d %*d %*d %*d %llu", &start), 1);
	return start;
}

START_TEST(a_real_process)
{
	struct brm_pstat ps;
	pid_t pid = fork();
	int st;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		setpgid(0, 0);
		pause();
		_exit(0);
	}
	setpgid(pid, pid);   /* either side may win; both set the same */
	for (int i = 0; i < 200; i++) {
		ck_assert_int_eq(brm_pstat_read(pid, &ps), 0);
		if (ps.state == 'S' && ps.pgrp == pid)
			break;
		usleep(5000);
	}
	ck_assert_int_eq(ps.state, 'S');
	ck_assert_int_eq(ps.pgrp, pid);
	ck_assert_int_ge(ps.nthreads, 1);   /* TSan's runtime adds a thread */
	ck_assert(ps.start == start_of(pid));
	ck_assert_int_gt(ps.rss_pages, 0);
	kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_int_eq(brm_pstat_read(pid, &ps), -ESRCH);
}
END_TEST

BRM_TEST_CASE("procstat", "stat", 0,
	a_name_with_spaces_and_parens,
	negative_fields,
	a_short_or_damaged_line_is_einval,
	a_real_process);
