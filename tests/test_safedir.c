/*
 * test_safedir.c — Check suite for lib/safedir.c: a directory root writes in
 * is refused when an untrusted uid could change any step of its path
 * (owner, mode, sticky directories, symbolic links), and created safely
 * when missing. Runs as root (it chowns to other uids); skips visibly
 * otherwise.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/safedir.h"
#include "lib/util.h"
#include "tests/suite.h"

#define OTHER_UID 4321   /* an untrusted uid */
#define SELF_UID 5678    /* stands for brummd's own uid (trusted) */

static char base[64];
static char err[512];

static void setup(void)
{
	snprintf(base, sizeof(base), "/tmp/brmsafedir.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(base));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", base);
}

static char *at(const char *rel)
{
	static char p[4][256];   /* a few calls may share one expression */
	static unsigned n;
	char *r = p[n++ % 4];

	snprintf(r, sizeof(p[0]), "%s/%s", base, rel);
	return r;
}

static int open_safe(const char *path, bool create, gid_t gid)
{
	struct brm_safedir_opts o = { .uid = SELF_UID, .create = create,
				      .mode = gid == (gid_t)-1 ? 0700 : 0750, .gid = gid };

	err[0] = '\0';
	return brm_safedir_open(path, &o, err, sizeof(err));
}

#define SKIP_UNLESS_ROOT()                                                        \
	do {                                                                      \
		if (geteuid() != 0) {                                             \
			printf("SKIP: %s needs root (it chowns to other uids)\n", __func__); \
			return;                                                   \
		}                                                                 \
	} while (0)

START_TEST(missing_directories_are_created_private)
{
	struct stat st;
	int fd = open_safe(at("a/b/c"), true, (gid_t)-1);

	ck_assert_msg(fd >= 0, "%s", err);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_int_eq(stat(at("a/b/c"), &st), 0);
	ck_assert_uint_eq(st.st_mode & 0077, 0);
	close(fd);
	/* without create, a missing one is an error naming it */
	ck_assert_int_eq(open_safe(at("a/x"), false, (gid_t)-1), -ENOENT);
	ck_assert_msg(strstr(err, "/a/x"), "%s", err);
}
END_TEST

START_TEST(directory_of_another_uid_is_refused)
{
	SKIP_UNLESS_ROOT();
	ck_assert_int_eq(mkdir(at("evil"), 0700), 0);
	ck_assert_int_eq(chown(at("evil"), OTHER_UID, OTHER_UID), 0);
	ck_assert_int_eq(open_safe(at("evil"), true, (gid_t)-1), -EPERM);
	ck_assert_msg(strstr(err, "owned by uid 4321"), "%s", err);
	/* nor may anything below it be used */
	ck_assert_int_eq(mkdir(at("evil/sub"), 0700), 0);
	ck_assert_int_eq(open_safe(at("evil/sub"), true, (gid_t)-1), -EPERM);
	/* the trusted uid's own directory is fine */
	ck_assert_int_eq(mkdir(at("mine"), 0700), 0);
	ck_assert_int_eq(chown(at("mine"), SELF_UID, 0), 0);
	int fd = open_safe(at("mine"), false, (gid_t)-1);
	ck_assert_msg(fd >= 0, "%s", err);
	close(fd);
}
END_TEST

START_TEST(world_writable_directory_is_refused)
{
	ck_assert_int_eq(mkdir(at("open"), 0700), 0);
	ck_assert_int_eq(chmod(at("open"), 0777), 0);
	/* as the last directory: anyone could replace the socket in it */
	ck_assert_int_eq(open_safe(at("open"), true, (gid_t)-1), -EPERM);
	ck_assert_msg(strstr(err, "writable by others"), "%s", err);
	/* as a step, not sticky: anyone could rename what is below */
	ck_assert_int_eq(mkdir(at("open/sub"), 0700), 0);
	ck_assert_int_eq(open_safe(at("open/sub"), true, (gid_t)-1), -EPERM);
	/* group-writable by a group that is not root's */
	ck_assert_int_eq(mkdir(at("grp"), 0770), 0);
	ck_assert_int_eq(chmod(at("grp"), 0770), 0);
	if (geteuid() == 0) {
		ck_assert_int_eq(chown(at("grp"), 0, OTHER_UID), 0);
		ck_assert_int_eq(open_safe(at("grp"), true, (gid_t)-1), -EPERM);
		ck_assert_msg(strstr(err, "writable by its group"), "%s", err);
	} else {
		printf("SKIP: %s: the group-writable case needs root (chown)\n", __func__);
	}
}
END_TEST

/* The /tmp/brummd-UID attack: a sticky world-writable directory is a safe
 * step only towards an entry a trusted uid owns. */
START_TEST(sticky_directory_needs_a_trusted_entry)
{
	SKIP_UNLESS_ROOT();
	ck_assert_int_eq(mkdir(at("tmp"), 0700), 0);
	ck_assert_int_eq(chmod(at("tmp"), 01777), 0);
	ck_assert_int_eq(mkdir(at("tmp/brummd-5678"), 0777), 0);
	ck_assert_int_eq(chown(at("tmp/brummd-5678"), OTHER_UID, OTHER_UID), 0);
	ck_assert_int_eq(chmod(at("tmp/brummd-5678"), 0777), 0);
	ck_assert_int_eq(open_safe(at("tmp/brummd-5678"), true, (gid_t)-1), -EPERM);
	ck_assert_msg(strstr(err, "owned by uid 4321"), "%s", err);
	/* a missing one is created, and then used */
	int fd = open_safe(at("tmp/brummd-other"), true, (gid_t)-1);
	ck_assert_msg(fd >= 0, "%s", err);
	close(fd);
}
END_TEST

START_TEST(links_are_followed_only_when_trusted)
{
	int fd;

	SKIP_UNLESS_ROOT();
	ck_assert_int_eq(mkdir(at("real"), 0700), 0);
	ck_assert_int_eq(symlink(at("real"), at("good")), 0);
	fd = open_safe(at("good"), false, (gid_t)-1);
	ck_assert_msg(fd >= 0, "%s", err);
	close(fd);
	/* a relative link, through another one */
	ck_assert_int_eq(symlink("good", at("good2")), 0);
	fd = open_safe(at("good2"), false, (gid_t)-1);
	ck_assert_msg(fd >= 0, "%s", err);
	close(fd);
	/* a link owned by another uid is not followed, even to a good place */
	ck_assert_int_eq(symlink(at("real"), at("bad")), 0);
	ck_assert_int_eq(lchown(at("bad"), OTHER_UID, OTHER_UID), 0);
	ck_assert_int_eq(open_safe(at("bad"), false, (gid_t)-1), -EPERM);
	ck_assert_msg(strstr(err, "symbolic link owned by uid 4321"), "%s", err);
	/* a loop ends */
	ck_assert_int_eq(symlink("loop", at("loop")), 0);
	ck_assert_int_eq(open_safe(at("loop/x"), false, (gid_t)-1), -ELOOP);
	/* a file is not a directory */
	fd = open(at("file"), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(open_safe(at("file"), true, (gid_t)-1), -ENOTDIR);
}
END_TEST

START_TEST(group_is_given_and_checked)
{
	struct stat st;
	int fd;

	SKIP_UNLESS_ROOT();
	/* the mode is the one asked for, whatever the umask */
	mode_t old = umask(077);
	fd = open_safe(at("sock"), true, 4242);
	umask(old);
	ck_assert_msg(fd >= 0, "%s", err);
	close(fd);
	ck_assert_int_eq(stat(at("sock"), &st), 0);
	ck_assert_uint_eq(st.st_gid, 4242);
	ck_assert_uint_eq(st.st_mode & 07777, 0750);
	/* an existing directory of another group is refused, with the advice */
	ck_assert_int_eq(mkdir(at("other"), 0750), 0);
	ck_assert_int_eq(open_safe(at("other"), true, 4242), -EPERM);
	ck_assert_msg(strstr(err, "not to group 4242"), "%s", err);
}
END_TEST

START_TEST(path_split)
{
	const char *b = NULL;
	char *d = brm_path_split("/run/brummd/brummd.sock", &b);

	ck_assert_str_eq(d, "/run/brummd");
	ck_assert_str_eq(b, "brummd.sock");
	free(d);
	d = brm_path_split("/x", &b);
	ck_assert_str_eq(d, "/");
	ck_assert_str_eq(b, "x");
	free(d);
	ck_assert_ptr_null(brm_path_split("x", &b));
	ck_assert_ptr_null(brm_path_split("/x/", &b));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("safedir");
	TCase *tc = tcase_create("walk");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, missing_directories_are_created_private);
	tcase_add_test(tc, directory_of_another_uid_is_refused);
	tcase_add_test(tc, world_writable_directory_is_refused);
	tcase_add_test(tc, sticky_directory_needs_a_trusted_entry);
	tcase_add_test(tc, links_are_followed_only_when_trusted);
	tcase_add_test(tc, group_is_given_and_checked);
	tcase_add_test(tc, path_split);
	suite_add_tcase(s, tc);
	return s;
}

Suite *brm_test_suite(void)
{
	return suite();
}
