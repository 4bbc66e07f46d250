/*
 * e2e.c — see e2e.h.
 */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/wait.h>

#include "tests/e2e.h"

void brmh_check_start(struct brmh *h, const char *fmt, ...)
{
	char buf[8192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ck_assert_msg(brmh_start(h, buf, NULL) == 0, "brummd did not start (log: %s)", h->log);
}

void brmh_check_stop(struct brmh *h)
{
	int st = brmh_stop(h, 15000);

	ck_assert_msg(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "brummd did not exit 0 on SIGTERM (status %d)", st);
}
