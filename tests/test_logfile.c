/*
 * test_logfile.c — log files that another user could redirect, end to end:
 * a real brummd running as root appends a process's output to log_file
 * while the process's user (nobody here) plants symlinks and hard links at
 * the log path or on the way to it, or re-plants a symlink in a tight loop
 * while the file rotates. A file standing for /etc/shadow (the victim)
 * must never change; the refusal shows as log_error naming the path and
 * the reason, the child keeps running and its output stays readable from
 * the ring. A normal /var/log/app layout (directory owned by the user)
 * keeps working and rotating, and log_error clears once the path is fixed.
 *
 * Needs root (to run brummd as root and become nobody); skips otherwise.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/e2e.h"
#include "tests/harness.h"
#include "tests/suite.h"

#define VICTIM_TEXT "root:secret-hash:19000:0:99999:7:::\n"

static struct brmh H;
static char base[64];        /* /tmp/brm-logfile-XXXXXX, root 0755 */
static char app[128];        /* base/app: the log directory */
static char logpath[192];    /* base/app/out.log */
static char victim[128];     /* base/victim: stands for /etc/shadow */
static uid_t nobody_uid = 65534;
static gid_t nobody_gid = 65534;

static bool need_root(void)
{
	if (geteuid() == 0)
		return true;
	printf("SKIP: %s needs root (brummd as root, a child as nobody)\n", __FILE__);
	return false;
}

/* Fresh directories; base/app is nobody's with @app_nobodys, else root's. */
static void setup_dirs(bool app_nobodys)
{
	struct passwd *pw = getpwnam("nobody");
	uid_t app_owner = 0;
	gid_t app_group = 0;
	FILE *v;

	if (pw) {
		nobody_uid = pw->pw_uid;
		nobody_gid = pw->pw_gid;
	}
	if (app_nobodys) {
		app_owner = nobody_uid;
		app_group = nobody_gid;
	}
	snprintf(base, sizeof(base), "/tmp/brm-logfile-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(base));
	ck_assert_int_eq(chmod(base, 0755), 0);
	snprintf(app, sizeof(app), "%s/app", base);
	ck_assert_int_eq(mkdir(app, 0755), 0);
	ck_assert_int_eq(chown(app, app_owner, app_group), 0);
	snprintf(logpath, sizeof(logpath), "%s/out.log", app);
	snprintf(victim, sizeof(victim), "%s/victim", base);
	v = fopen(victim, "w");
	ck_assert_ptr_nonnull(v);
	fputs(VICTIM_TEXT, v);
	fclose(v);
	ck_assert_int_eq(chmod(victim, 0640), 0);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(p) : unlink(p);
}

static void remove_dirs(void)
{
	if (base[0])
		nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	base[0] = '\0';
}

static void assert_victim_unchanged(const char *path)
{
	char *text = brmh_read_file(path);
	struct stat st;

	ck_assert_msg(text && !strcmp(text, VICTIM_TEXT), "victim '%s' changed: %zu bytes, '%.60s'",
		      path, text ? strlen(text) : 0, text ? text : "(gone)");
	free(text);
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
}

/* Poll the status of p until log_error holds @needle; returns the status. */
static cJSON *wait_log_error(const char *needle, int ms)
{
	const char *e = NULL;
	cJSON *s = NULL;

	for (int t = 0; t < ms; t += 20) {
		cJSON_Delete(s);
		s = brmh_status(&H, "p");
		e = s ? brmh_str(s, "log_error") : NULL;
		if (e && strstr(e, needle))
			return s;
		brmh_sleep_ms(20);
	}
	ck_abort_msg("log_error never held '%s'; last: %s", needle, e ? e : "(null)");
	return NULL;
}

/* Poll until `logs` of p has a line holding @needle. */
static bool wait_line(const char *needle, int ms)
{
	for (int t = 0; t < ms; t += 20) {
		cJSON *r = brmh_call(&H, "logs", "{\"name\":\"p\",\"lines\":100}");
		int code;
		const cJSON *res = r ? brmh_result(r, &code) : NULL, *l;
		const cJSON *lines = res ? cJSON_GetObjectItemCaseSensitive(res, "lines") : NULL;
		bool found = false;

		cJSON_ArrayForEach(l, lines)
			if (strstr(brmh_str(l, "line"), needle))
				found = true;
		cJSON_Delete(r);
		if (found)
			return true;
		brmh_sleep_ms(20);
	}
	return false;
}

/*
 * The child's line is in the ring and not in @victim_path; the refusal is
 * shown as log_error naming the path and @reason; the child runs on.
 */
static void assert_refused(const char *victim_path, const char *reason)
{
	cJSON *s;

	ck_assert(wait_line("hello from p", 3000));
	brmh_sleep_ms(200);   /* the writer thread had its chance */
	assert_victim_unchanged(victim_path);
	s = wait_log_error(reason, 3000);
	ck_assert_msg(strstr(brmh_str(s, "log_error"), logpath), "%s", brmh_str(s, "log_error"));
	ck_assert_str_eq(brmh_str(s, "state"), "running");
	cJSON_Delete(s);
}

static void start_printer(const char *user_key)
{
	brmh_check_start(&H, "{\"workers\":2,\"processes\":{\"p\":{\"cmd\":[\"%s\",\"print\","
			 "\"out\",\"hello from p\"],\"start_secs\":0%s,\"log_file\":\"%s\"}}}",
			 brmh_child(), user_key, logpath);
}

START_TEST(symlink_at_the_log_path_is_not_followed)
{
	if (!need_root())
		return;
	setup_dirs(true);
	ck_assert_int_eq(symlink(victim, logpath), 0);
	ck_assert_int_eq(lchown(logpath, nobody_uid, nobody_gid), 0);
	start_printer(",\"user\":\"nobody\"");
	assert_refused(victim, "is a symbolic link; not following it");
	brmh_check_stop(&H);
	assert_victim_unchanged(victim);
	remove_dirs();
}
END_TEST

START_TEST(hard_link_at_the_log_path_is_refused)
{
	if (!need_root())
		return;
	setup_dirs(true);
	ck_assert_int_eq(link(victim, logpath), 0);
	start_printer(",\"user\":\"nobody\"");
	assert_refused(victim, "has 2 hard links");
	brmh_check_stop(&H);
	assert_victim_unchanged(victim);
	remove_dirs();
}
END_TEST

START_TEST(file_of_another_uid_is_refused)
{
	FILE *f;

	if (!need_root())
		return;
	/* A root-owned directory; the child runs as root; the file is nobody's. */
	setup_dirs(false);
	f = fopen(logpath, "w");
	ck_assert_ptr_nonnull(f);
	fputs(VICTIM_TEXT, f);
	fclose(f);
	ck_assert_int_eq(chown(logpath, nobody_uid, nobody_gid), 0);
	start_printer("");
	assert_refused(logpath, "is owned by uid");
	brmh_check_stop(&H);
	assert_victim_unchanged(logpath);
	remove_dirs();
}
END_TEST

START_TEST(symlinked_directory_in_the_users_directory_is_not_followed)
{
	char sub[160], dir2[160], target[200];
	FILE *f;

	if (!need_root())
		return;
	setup_dirs(true);
	/* base/etc/out.log is the victim; the user points app/sub at base/etc. */
	snprintf(dir2, sizeof(dir2), "%s/etc", base);
	ck_assert_int_eq(mkdir(dir2, 0755), 0);
	snprintf(target, sizeof(target), "%s/out.log", dir2);
	f = fopen(target, "w");
	ck_assert_ptr_nonnull(f);
	fputs(VICTIM_TEXT, f);
	fclose(f);
	snprintf(sub, sizeof(sub), "%s/sub", app);
	ck_assert_int_eq(symlink(dir2, sub), 0);
	ck_assert_int_eq(lchown(sub, nobody_uid, nobody_gid), 0);
	snprintf(logpath, sizeof(logpath), "%s/out.log", sub);
	start_printer(",\"user\":\"nobody\"");
	assert_refused(target, "is a symbolic link owned by uid");
	brmh_check_stop(&H);
	assert_victim_unchanged(target);
	remove_dirs();
}
END_TEST

START_TEST(directory_of_a_third_user_is_refused_and_roots_links_are_followed)
{
	char link_dir[160], real[200];
	struct stat st;
	char *text;

	if (!need_root())
		return;
	/* nobody's directory, the child runs as root: nobody is a third user. */
	setup_dirs(true);
	start_printer("");
	assert_refused(victim, "is owned by uid");
	ck_assert_int_eq(lstat(logpath, &st), -1);
	brmh_check_stop(&H);
	remove_dirs();

	/* A link root made in a root-only directory is followed. */
	setup_dirs(false);
	snprintf(link_dir, sizeof(link_dir), "%s/current", base);
	ck_assert_int_eq(symlink("app", link_dir), 0);
	snprintf(logpath, sizeof(logpath), "%s/out.log", link_dir);
	start_printer("");
	snprintf(real, sizeof(real), "%s/out.log", app);
	text = NULL;
	for (int i = 0; i < 150 && !(text && strstr(text, "hello from p")); i++) {
		free(text);
		brmh_sleep_ms(20);
		text = brmh_read_file(real);
	}
	ck_assert_msg(text && strstr(text, "hello from p"), "%s", text ? text : "(none)");
	free(text);
	brmh_check_stop(&H);
	remove_dirs();
}
END_TEST

/*
 * The attacker: as nobody, keep a symlink to the victim at the log path,
 * planting it in the moment rotation's rename frees the name, and now and
 * then renaming one over the current file. For @ms milliseconds.
 */
static pid_t start_attacker(int ms)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct timespec t0, t;
		char tmp[220];
		unsigned long n = 0;

		if (setresgid(nobody_gid, nobody_gid, nobody_gid) < 0 ||
		    setresuid(nobody_uid, nobody_uid, nobody_uid) < 0)
			_exit(3);
		snprintf(tmp, sizeof(tmp), "%s/.planted", app);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (;;) {
			if (symlink(victim, logpath) < 0 && (++n & 63) == 0) {
				unlink(tmp);
				if (symlink(victim, tmp) == 0)
					rename(tmp, logpath);
			}
			if ((n & 1023) == 0) {
				clock_gettime(CLOCK_MONOTONIC, &t);
				if ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 >= ms)
					_exit(0);
			}
			n++;
		}
	}
	return pid;
}

START_TEST(rotation_race_never_writes_through_a_planted_symlink)
{
	char one[220];
	struct stat st;
	pid_t att;

	if (!need_root())
		return;
	setup_dirs(true);
	brmh_check_start(&H, "{\"workers\":2,\"processes\":{\"p\":{\"cmd\":[\"yes\","
			 "\"flooding the log file so that it rotates again and again\"],"
			 "\"user\":\"nobody\",\"start_secs\":0,\"log_max_bytes\":8192,"
			 "\"log_keep\":2,\"log_ring_bytes\":65536,\"log_file\":\"%s\"}}}", logpath);
	/* It rotates before the attack. */
	snprintf(one, sizeof(one), "%s.1", logpath);
	{
		int found = -1;

		for (int i = 0; i < 500 && (found = lstat(one, &st)) < 0; i++)   /* 10 s: a loaded machine */
			brmh_sleep_ms(20);
		ck_assert_int_eq(found, 0);   /* not lstat() again: a rotation may be between its renames */
	}
	att = start_attacker(2000);
	ck_assert_int_eq(brmh_wait_exit(att, 6000), 0);
	assert_victim_unchanged(victim);
	ck_assert(brmh_wait_state(&H, "p", "running", 1000));
	brmh_check_stop(&H);
	assert_victim_unchanged(victim);
	remove_dirs();
}
END_TEST

START_TEST(users_directory_works_rotates_and_clears_the_error)
{
	char one[220];
	struct stat st;
	cJSON *s = NULL;
	const char *e = "";

	if (!need_root())
		return;
	/* The /var/log/app layout: the directory is the child's user's. */
	setup_dirs(true);
	ck_assert_int_eq(symlink(victim, logpath), 0);
	ck_assert_int_eq(lchown(logpath, nobody_uid, nobody_gid), 0);
	brmh_check_start(&H, "{\"workers\":2,\"processes\":{\"p\":{\"cmd\":[\"yes\",\"a line\"],"
			 "\"user\":\"nobody\",\"start_secs\":0,\"log_max_bytes\":65536,"
			 "\"log_keep\":2,\"log_file\":\"%s\"}}}", logpath);
	s = wait_log_error("is a symbolic link; not following it", 3000);
	cJSON_Delete(s);
	/* Fixed: the link is gone; a reopen clears the error and writes. */
	ck_assert_int_eq(unlink(logpath), 0);
	cJSON_Delete(brmh_call(&H, "logs_reopen", NULL));
	for (int i = 0; i < 150; i++) {
		s = brmh_status(&H, "p");
		e = s ? brmh_str(s, "log_error") : "";
		if (!e)
			break;
		cJSON_Delete(s);
		s = NULL;
		brmh_sleep_ms(20);
	}
	ck_assert_msg(!e, "log_error stayed: %s", e);
	ck_assert_str_eq(brmh_str(s, "state"), "running");
	cJSON_Delete(s);
	snprintf(one, sizeof(one), "%s.1", logpath);
	{
		int found = -1;

		for (int i = 0; i < 500 && (found = lstat(one, &st)) < 0; i++)   /* 10 s: a loaded machine */
			brmh_sleep_ms(20);
		ck_assert_int_eq(found, 0);   /* not lstat() again: a rotation may be between its renames */
	}
	ck_assert(S_ISREG(st.st_mode));
	/* Rotated before the write that would pass the limit (one read's chunk
	 * is written whole, so a file can pass it by one chunk). */
	ck_assert_uint_le((unsigned long)st.st_size, 65536 + (4ul << 20));
	/* yes rotates the file every few ms: between a rotation's rename and
	 * its new file the name is briefly free */
	{
		int found = -1;

		for (int i = 0; i < 100 && (found = lstat(logpath, &st)) < 0; i++)
			brmh_sleep_ms(10);
		ck_assert_int_eq(found, 0);   /* not lstat() again: a rotation may be between its renames */
	}
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_int_eq(st.st_nlink, 1);
	brmh_check_stop(&H);
	assert_victim_unchanged(victim);
	remove_dirs();
}
END_TEST

static void teardown(void)
{
	remove_dirs();
}

static Suite *logfile_suite(void)
{
	Suite *s = suite_create("logfile");
	TCase *tc = tcase_create("e2e");

	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, symlink_at_the_log_path_is_not_followed);
	tcase_add_test(tc, hard_link_at_the_log_path_is_refused);
	tcase_add_test(tc, file_of_another_uid_is_refused);
	tcase_add_test(tc, symlinked_directory_in_the_users_directory_is_not_followed);
	tcase_add_test(tc, directory_of_a_third_user_is_refused_and_roots_links_are_followed);
	tcase_add_test(tc, rotation_race_never_writes_through_a_planted_symlink);
	tcase_add_test(tc, users_directory_works_rotates_and_clears_the_error);
	suite_add_tcase(s, tc);
	return s;
}

Suite *brm_test_suite(void)
{
	return logfile_suite();
}
