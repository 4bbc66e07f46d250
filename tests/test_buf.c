/*
 * test_buf.c — Check suite for lib/buf.c's brm_buf_read_file, the one read
 * of a whole file with a cap (the state file, env_file): an empty file, a
 * file read to its end after what the buffer held, a file over the cap, and
 * a descriptor that cannot be read.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"

/* A pipe holding @n bytes of @c, closed for writing: read to its end. */
static int filled_pipe(char c, size_t n)
{
	static char chunk[4096];
	int fds[2];

	ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);
	ck_assert_int_eq(fcntl(fds[1], F_SETPIPE_SZ, 1 << 18) >= (int)n, 1);
	memset(chunk, c, sizeof(chunk));
	while (n) {
		size_t k = n < sizeof(chunk) ? n : sizeof(chunk);

		ck_assert_int_eq(write(fds[1], chunk, k), (ssize_t)k);
		n -= k;
	}
	close(fds[1]);
	return fds[0];
}

START_TEST(empty_file_gives_an_empty_string)
{
	struct brm_buf b = BRM_BUF_INIT;
	int fd = filled_pipe('x', 0);

	ck_assert_int_eq(brm_buf_read_file(&b, fd, 10), 0);
	ck_assert_ptr_nonnull(b.p);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_str_eq(b.p, "");
	close(fd);
	brm_buf_finish(&b);
}
END_TEST

START_TEST(reads_to_the_end_after_what_the_buffer_held)
{
	struct brm_buf b = BRM_BUF_INIT;
	int fd = filled_pipe('y', 200000);

	brm_buf_adds(&b, "ab");
	ck_assert_int_eq(brm_buf_read_file(&b, fd, 200002), 0);
	ck_assert_uint_eq(b.len, 200002);
	ck_assert_int_eq(b.p[0], 'a');
	ck_assert_int_eq(b.p[2], 'y');
	ck_assert_int_eq(b.p[200001], 'y');
	ck_assert_int_eq(b.p[200002], '\0');
	close(fd);
	brm_buf_finish(&b);
}
END_TEST

START_TEST(over_the_cap_is_efbig)
{
	struct brm_buf b = BRM_BUF_INIT;
	int fd = filled_pipe('z', 100001);

	ck_assert_int_eq(brm_buf_read_file(&b, fd, 100000), -EFBIG);
	ck_assert_uint_gt(b.len, 100000);
	ck_assert_int_eq(b.p[b.len], '\0');
	close(fd);
	brm_buf_finish(&b);
}
END_TEST

START_TEST(a_failed_read_is_its_errno)
{
	struct brm_buf b = BRM_BUF_INIT;
	int fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(brm_buf_read_file(&b, fd, 100), -EISDIR);
	ck_assert_ptr_nonnull(b.p);
	ck_assert_str_eq(b.p, "");
	close(fd);
	brm_buf_finish(&b);
}
END_TEST

static Suite *buf_suite(void)
{
	Suite *s = suite_create("buf");
	TCase *tc = tcase_create("read_file");

	tcase_add_test(tc, empty_file_gives_an_empty_string);
	tcase_add_test(tc, reads_to_the_end_after_what_the_buffer_held);
	tcase_add_test(tc, over_the_cap_is_efbig);
	tcase_add_test(tc, a_failed_read_is_its_errno);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(buf_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
