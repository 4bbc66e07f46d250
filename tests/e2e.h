/*
 * e2e.h — Check assertions around the harness, shared by the end-to-end
 * suites: start brummd on a formatted config and fail the test if it does
 * not come up; stop it and fail the test unless it exits 0; a process's pid
 * and a reply's list of names; a scratch state directory.
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

/* The pid brummd reports for process @name; asserts it has a status. */
long brmh_check_pid(struct brmh *h, const char *name);

/*
 * The strings of the list @key of @res (a reply's result) as "a,b", in a
 * static buffer of 512 bytes; asserts @key is a list.
 */
const char *brmh_check_names(const cJSON *res, const char *key);

/*
 * A fresh directory /tmp/brmstate.XXXXXX, its name in @dir (@size bytes,
 * at least 21), set as BRUMMD_STATE_DIR for the brummd started next.
 */
void brmh_check_state_dir(char *dir, size_t size);

/* Remove @dir and all in it, and unset BRUMMD_STATE_DIR. */
void brmh_check_state_dir_remove(const char *dir);

#endif
