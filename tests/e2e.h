/*
 * e2e.h — Check assertions around the harness, shared by the end-to-end
 * suites: start brummd on a formatted config and fail the test if it does
 * not come up; stop it and fail the test unless it exits 0.
 * Context: the test's thread, inside a Check test.
 */
#ifndef BRM_E2E_H
#define BRM_E2E_H

#include "tests/harness.h"

/* brmh_start with the config printf-formatted from @fmt (at most 8 KiB). */
void brmh_check_start(struct brmh *h, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* brmh_stop, then assert brummd exited 0 within 15 s. */
void brmh_check_stop(struct brmh *h);

#endif
