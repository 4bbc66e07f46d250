/*
 * test_logring.c — Check suite for lib/logring.c: appending, eviction by
 * bytes and by count, cut lines, and a writer flooding while readers copy
 * lines out: a reader must never get a torn or half-overwritten line.
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/logring.h"
#include "tests/suite.h"

static char rbuf[1 << 20];

START_TEST(append_then_read_in_order)
{
	struct brm_logring *r = brm_logring_create(64 << 10);
	struct brm_logline l;
	uint64_t first, next;

	ck_assert_uint_eq(brm_logring_append(r, 1000, BRM_LOG_STDOUT, 0, "hello", 5), 1);
	ck_assert_uint_eq(brm_logring_append(r, 1001, BRM_LOG_STDERR, 0, "", 0), 2);
	ck_assert_uint_eq(brm_logring_append(r, 1002, BRM_LOG_META, 0, "x\001y", 3), 3);
	brm_logring_bounds(r, &first, &next);
	ck_assert_uint_eq(first, 1);
	ck_assert_uint_eq(next, 4);
	ck_assert_int_eq(brm_logring_read(r, 1, &l, rbuf, sizeof(rbuf)), 0);
	ck_assert_uint_eq(l.len, 5);
	ck_assert_int_eq(l.stream, BRM_LOG_STDOUT);
	ck_assert_int_eq(l.ts_ms, 1000);
	ck_assert(memcmp(rbuf, "hello", 5) == 0);
	ck_assert_int_eq(brm_logring_read(r, 2, &l, rbuf, sizeof(rbuf)), 0);
	ck_assert_uint_eq(l.len, 0);
	ck_assert_int_eq(l.stream, BRM_LOG_STDERR);
	ck_assert_int_eq(brm_logring_read(r, 3, &l, rbuf, sizeof(rbuf)), 0);
	ck_assert(memcmp(rbuf, "x\001y", 3) == 0);
	ck_assert_int_eq(brm_logring_read(r, 4, &l, rbuf, sizeof(rbuf)), -EAGAIN);
	ck_assert_int_eq(brm_logring_read(r, 0, &l, rbuf, sizeof(rbuf)), -ENOENT);
	brm_logring_destroy(r);
}
END_TEST

START_TEST(old_lines_are_evicted_by_bytes)
{
	struct brm_logring *r = brm_logring_create(4096);
	struct brm_logline l;
	char line[100];
	uint64_t first, next;

	memset(line, 'a', sizeof(line));
	for (int i = 0; i < 1000; i++)
		brm_logring_append(r, i, BRM_LOG_STDOUT, 0, line, sizeof(line));
	brm_logring_bounds(r, &first, &next);
	ck_assert_uint_eq(next, 1001);
	ck_assert(first > 900 && first < 1000);
	ck_assert_uint_eq(brm_logring_evicted(r), first - 1);
	ck_assert_int_eq(brm_logring_read(r, first - 1, &l, rbuf, sizeof(rbuf)), -ENOENT);
	/* a reader that met an evicted line goes on at the oldest one held,
	 * and never stays put or goes back */
	ck_assert_uint_eq(brm_logring_resume(r, 1), first);
	ck_assert_uint_eq(brm_logring_resume(r, first - 1), first);
	ck_assert_uint_eq(brm_logring_resume(r, first), first + 1);
	for (uint64_t s = first; s < next; s++) {
		ck_assert_int_eq(brm_logring_read(r, s, &l, rbuf, sizeof(rbuf)), 0);
		ck_assert_uint_eq(l.seq, s);
		ck_assert_uint_eq(l.len, 100);
	}
	brm_logring_destroy(r);
}
END_TEST

START_TEST(tiny_lines_are_evicted_by_count)
{
	struct brm_logring *r = brm_logring_create(1 << 20);
	struct brm_logline l;
	uint64_t first, next;

	for (int i = 0; i < 20000; i++)
		brm_logring_append(r, i, BRM_LOG_STDOUT, 0, "", 0);
	brm_logring_bounds(r, &first, &next);
	ck_assert_uint_eq(next, 20001);
	ck_assert(next - first <= 8192);
	ck_assert_int_eq(brm_logring_read(r, first, &l, rbuf, sizeof(rbuf)), 0);
	ck_assert_int_eq(brm_logring_read(r, next - 1, &l, rbuf, sizeof(rbuf)), 0);
	brm_logring_destroy(r);
}
END_TEST

START_TEST(a_line_longer_than_half_the_ring_is_cut)
{
	struct brm_logring *r = brm_logring_create(4096);
	struct brm_logline l;
	static char big[10000];

	memset(big, 'b', sizeof(big));
	brm_logring_append(r, 1, BRM_LOG_STDOUT, 0, big, sizeof(big));
	ck_assert_int_eq(brm_logring_read(r, 1, &l, rbuf, sizeof(rbuf)), 0);
	ck_assert_uint_eq(l.len, brm_logring_max_line(r));
	ck_assert(l.flags & BRM_LOGLINE_CUT);
	ck_assert_int_eq(brm_logring_read(r, 1, &l, rbuf, 10), -ENOBUFS);
	brm_logring_destroy(r);
}
END_TEST

/* ---- a flooding writer and copying readers ------------------------------ */

struct race {
	struct brm_logring *r;
	int stop;               /* atomic */
	uint64_t total;
	unsigned long ok, gone, bad;
};

/* Line @seq: a length and content that both follow from @seq. */
static size_t fill(char *buf, uint64_t seq)
{
	size_t len = (size_t)((seq * 2654435761u) % 700);

	for (size_t i = 0; i < len; i++)
		buf[i] = (char)('A' + (seq + i) % 26);
	return len;
}

static void *writer(void *arg)
{
	struct race *x = arg;
	static char buf[1024];

	for (uint64_t s = 1; s <= x->total; s++) {
		size_t len = fill(buf, s);
		brm_logring_append(x->r, (int64_t)s, (int)(s % 2) + 1, 0, buf, len);
	}
	__atomic_store_n(&x->stop, 1, __ATOMIC_RELAXED);
	return NULL;
}

static void *reader(void *arg)
{
	struct race *x = arg;
	char *buf = malloc(1 << 16), *want = malloc(1024);
	unsigned long ok = 0, gone = 0, bad = 0;
	struct brm_logline l;

	while (!__atomic_load_n(&x->stop, __ATOMIC_RELAXED)) {
		uint64_t first, next;

		brm_logring_bounds(x->r, &first, &next);
		/* The oldest lines: where the writer is overwriting. */
		for (uint64_t s = first; s < next && s < first + 64; s++) {
			int rc = brm_logring_read(x->r, s, &l, buf, 1 << 16);
			if (rc == -ENOENT) {
				gone++;
				continue;
			}
			if (rc != 0 || l.seq != s || l.len != fill(want, s) ||
			    memcmp(buf, want, l.len) != 0 || l.ts_ms != (int64_t)s ||
			    l.stream != (int)(s % 2) + 1)
				bad++;
			else
				ok++;
		}
	}
	__atomic_add_fetch(&x->ok, ok, __ATOMIC_RELAXED);
	__atomic_add_fetch(&x->gone, gone, __ATOMIC_RELAXED);
	__atomic_add_fetch(&x->bad, bad, __ATOMIC_RELAXED);
	free(buf);
	free(want);
	return NULL;
}

START_TEST(readers_never_see_a_torn_line)
{
	struct race x = { .r = brm_logring_create(16 << 10), .total = 1000000 };
	pthread_t w, rd[3];

	for (int i = 0; i < 3; i++)
		pthread_create(&rd[i], NULL, reader, &x);
	pthread_create(&w, NULL, writer, &x);
	pthread_join(w, NULL);
	for (int i = 0; i < 3; i++)
		pthread_join(rd[i], NULL);
	fprintf(stderr, "logring race: %lu lines verified, %lu gone while copied, %lu bad\n",
		x.ok, x.gone, x.bad);
	ck_assert_uint_eq(x.bad, 0);
	ck_assert(x.ok > 1000);
	brm_logring_destroy(x.r);
}
END_TEST

static Suite *logring_suite(void)
{
	Suite *s = suite_create("logring");
	TCase *tc = tcase_create("ring");

	tcase_add_test(tc, append_then_read_in_order);
	tcase_add_test(tc, old_lines_are_evicted_by_bytes);
	tcase_add_test(tc, tiny_lines_are_evicted_by_count);
	tcase_add_test(tc, a_line_longer_than_half_the_ring_is_cut);
	suite_add_tcase(s, tc);
	tc = tcase_create("race");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, readers_never_see_a_torn_line);
	suite_add_tcase(s, tc);
	return s;
}

Suite *brm_test_suite(void)
{
	return logring_suite();
}
