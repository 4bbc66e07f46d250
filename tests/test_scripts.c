/*
 * test_scripts.c — "scripts_from" against a real brummd: a package.json's
 * scripts run by the project's package manager (the packageManager field,
 * else the lockfile, else npm), a Procfile's lines started as foreman
 * would, a Makefile's .PHONY targets; the config's own processes win; a
 * reload reads the files again; every bad file is an error naming the key
 * and the file; and as root, a user's file runs as that user, never root.
 */
#include <check.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "tests/e2e.h"
#include "tests/harness.h"
#include "tests/suite.h"

static struct brmh H;

static int check_config(const char *dir, const char *file, char **err);

static void put(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* status of @name: its cmd, or NULL when there is no such process. Caller frees. */
static char *cmd_of(const char *name, bool *autostart)
{
	cJSON *s = brmh_status(&H, name);
	char *cmd;

	if (!s || !brmh_str(s, "cmd")) {
		cJSON_Delete(s);
		return NULL;
	}
	cmd = strdup(brmh_str(s, "cmd"));
	if (autostart)
		*autostart = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "autostart"));
	cJSON_Delete(s);
	return cmd;
}

static void expect_cmd(const char *name, const char *cmd, bool autostart)
{
	bool a = !autostart;
	char *got = cmd_of(name, &a);

	ck_assert_msg(got != NULL, "no process '%s'", name);
	ck_assert_str_eq(got, cmd);
	ck_assert_msg(a == autostart, "%s: autostart %d", name, a);
	free(got);
}

START_TEST(package_json_procfile_and_makefile)
{
	char dir[256], text[1024];
	cJSON *r;

	ck_assert_ptr_nonnull(brmh_tmpdir(dir, sizeof(dir), "brm-scripts"));
	put(dir, "package.json", "{\"name\":\"app\",\"scripts\":{\"dev\":\"vite\",\"build\":\"vite build\","
	    "\"test/unit\":\"jest\",\"n\":7}}");
	put(dir, "yarn.lock", "");
	snprintf(text, sizeof(text), "# the app\nweb: exec %s sleep 60\n\nworker :  %s sleep 61  \n",
		 brmh_child(), brmh_child());
	put(dir, "Procfile", text);
	put(dir, "Makefile", ".PHONY: all clean \\\n\tcheck\nall:\n\ttrue\n");
	brmh_check_start(&H, "{\"scripts_from\":[\"%s/package.json\",\"%s/Procfile\",\"%s/Makefile\"],"
			 "\"processes\":{\"build\":{\"cmd\":[\"/bin/true\"],\"autostart\":false}}}",
			 dir, dir, dir);
	/* yarn.lock: yarn; a name with '/' gets a '-'; not a string: no process */
	expect_cmd("dev", "yarn run dev", false);
	expect_cmd("test-unit", "yarn run test/unit", false);
	ck_assert_ptr_null(cmd_of("n", NULL));
	/* the config's own "build" wins, and is there once */
	expect_cmd("build", "/bin/true", false);
	r = brmh_call(&H, "status", "{\"fields\":[]}");
	{
		const cJSON *it;
		size_t o = 0;

		text[0] = '\0';
		cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(
					       cJSON_GetObjectItemCaseSensitive(r, "result"), "processes"))
			o += (size_t)snprintf(text + o, sizeof(text) - o, "%s%s", o ? "," : "",
					      brmh_str(it, "name"));
	}
	ck_assert_str_eq(text, "all,build,check,clean,dev,test-unit,web,worker");
	cJSON_Delete(r);
	/* the Procfile's run, through sh, in the file's directory */
	snprintf(text, sizeof(text), "/bin/sh -c 'exec %s sleep 60'", brmh_child());
	expect_cmd("web", text, true);
	ck_assert(brmh_wait_state(&H, "web", "running", 5000));
	ck_assert(brmh_wait_state(&H, "worker", "running", 5000));
	{
		char link[64], cwd[512];
		ssize_t n;

		snprintf(link, sizeof(link), "/proc/%ld/cwd", brmh_check_pid(&H, "web"));
		n = readlink(link, cwd, sizeof(cwd) - 1);
		ck_assert_int_gt(n, 0);
		cwd[n] = '\0';
		ck_assert_str_eq(cwd, dir);
	}
	/* the Makefile's phony targets, continued lines too */
	expect_cmd("all", "make all", false);
	expect_cmd("check", "make check", false);
	/* A start of a script whose tool is missing says so. */
	cJSON_Delete(brmh_call(&H, "start", "{\"name\":\"dev\"}"));
	for (int i = 0; i < 200; i++) {
		cJSON *s = brmh_status(&H, "dev");
		bool said = brmh_str(s, "error") && strstr(brmh_str(s, "error"), "'yarn'");

		cJSON_Delete(s);
		if (said)
			break;
		ck_assert_int_lt(i, 199);
		brmh_sleep_ms(25);
	}
	/* a task is not tried again behind the user's back */
	ck_assert(brmh_wait_state(&H, "dev", "fatal", 5000));
	{
		cJSON *s = brmh_status(&H, "dev");

		ck_assert_int_eq(brmh_int(s, "start_failures"), 1);
		cJSON_Delete(s);
	}

	/* Reload reads the files again: a new script, a removed one, and the
	 * packageManager field now beats the lockfile. */
	put(dir, "package.json", "{\"packageManager\":\"pnpm@9.1.0\",\"scripts\":{\"dev\":\"vite\","
	    "\"serve\":\"vite preview\"}}");
	r = brmh_call(&H, "reload", NULL);
	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(r, "error"));
	cJSON_Delete(r);
	expect_cmd("serve", "pnpm run serve", false);
	expect_cmd("dev", "pnpm run dev", false);
	ck_assert_ptr_null(cmd_of("test-unit", NULL));
	brmh_check_stop(&H);
}
END_TEST

/* npm/yarn workspaces: each package's scripts as DIR-SCRIPT; patterns stay inside. */
START_TEST(workspaces_add_their_packages_scripts)
{
	char dir[256], sub[320], *err;

	ck_assert_ptr_nonnull(brmh_tmpdir(dir, sizeof(dir), "brm-scripts"));
	put(dir, "package.json", "{\"scripts\":{\"dev\":\"x\"},\"workspaces\":{\"packages\":[\"apps/*\"]}}");
	put(dir, "yarn.lock", "");
	snprintf(sub, sizeof(sub), "%s/apps", dir);
	ck_assert_int_eq(mkdir(sub, 0755), 0);
	snprintf(sub, sizeof(sub), "%s/apps/web", dir);
	ck_assert_int_eq(mkdir(sub, 0755), 0);
	put(sub, "package.json", "{\"name\":\"@acme/web\",\"scripts\":{\"dev\":\"next\",\"build\":\"next build\"}}");
	snprintf(sub, sizeof(sub), "%s/apps/docs", dir);   /* no package.json: not a package */
	ck_assert_int_eq(mkdir(sub, 0755), 0);
	brmh_check_start(&H, "{\"scripts_from\":\"%s/package.json\"}", dir);
	expect_cmd("dev", "yarn run dev", false);
	expect_cmd("web-dev", "yarn run dev", false);
	expect_cmd("web-build", "yarn run build", false);
	brmh_check_stop(&H);
	/* another user's package (a link to their project, say): refused */
	if (geteuid() == 0 && getpwnam("nobody")) {
		struct passwd *pw = getpwnam("nobody");
		char pj[400];

		snprintf(sub, sizeof(sub), "%s/apps/web", dir);
		snprintf(pj, sizeof(pj), "%s/package.json", sub);
		ck_assert_int_eq(chown(sub, pw->pw_uid, pw->pw_gid), 0);
		ck_assert_int_eq(chown(pj, pw->pw_uid, pw->pw_gid), 0);
		snprintf(sub, sizeof(sub), "%s/package.json", dir);
		ck_assert_int_eq(check_config(dir, sub, &err), 1);
		ck_assert_msg(strstr(err, "not by the project's owner"), "%s", err);
		free(err);
		ck_assert_int_eq(chown(pj, 0, 0), 0);
		snprintf(sub, sizeof(sub), "%s/apps/web", dir);
		ck_assert_int_eq(chown(sub, 0, 0), 0);
	}
	/* pnpm: pnpm-workspace.yaml's packages list */
	put(dir, "package.json", "{\"scripts\":{}}");
	snprintf(sub, sizeof(sub), "%s/yarn.lock", dir);
	unlink(sub);
	put(dir, "pnpm-lock.yaml", "");
	put(dir, "pnpm-workspace.yaml", "# the monorepo\npackages:\n  - 'apps/*'   # apps\n"
	    "  - \"!apps/docs\"\ncatalog:\n  - 'ignored/*'\n");
	brmh_check_start(&H, "{\"scripts_from\":\"%s/package.json\"}", dir);
	expect_cmd("web-dev", "pnpm run dev", false);
	expect_cmd("web-build", "pnpm run build", false);
	brmh_check_stop(&H);
	/* "!PATTERN" excludes */
	put(dir, "pnpm-workspace.yaml", "packages:\n  - apps/*\n  - '!apps/web'\n");
	brmh_check_start(&H, "{\"scripts_from\":\"%s/package.json\"}", dir);
	{
		cJSON *st = brmh_status(&H, "web-dev");

		ck_assert_msg(!st || !brmh_str(st, "cmd"), "apps/web was excluded");
		cJSON_Delete(st);
	}
	brmh_check_stop(&H);
	put(dir, "package.json", "{\"workspaces\":[\"../other/*\"]}");
	snprintf(sub, sizeof(sub), "%s/package.json", dir);
	ck_assert_int_eq(check_config(dir, sub, &err), 1);
	ck_assert_msg(strstr(err, "workspace '../other/*': not a pattern inside the project"), "%s", err);
	free(err);
}
END_TEST

START_TEST(lockfiles_choose_the_package_manager)
{
	static const struct {
		const char *lock, *pm;
	} cases[] = {
		{ NULL, "npm" }, { "package-lock.json", "npm" }, { "pnpm-lock.yaml", "pnpm" },
		{ "bun.lockb", "bun" }, { "bun.lock", "bun" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char dir[256], want[64];

		ck_assert_ptr_nonnull(brmh_tmpdir(dir, sizeof(dir), "brm-scripts"));
		put(dir, "package.json", "{\"scripts\":{\"dev\":\"x\"}}");
		if (cases[i].lock)
			put(dir, cases[i].lock, "");
		brmh_check_start(&H, "{\"scripts_from\":\"%s/package.json\"}", dir);
		snprintf(want, sizeof(want), "%s run dev", cases[i].pm);
		expect_cmd("dev", want, false);
		brmh_check_stop(&H);
	}
}
END_TEST

/* brummd --check-config on a config naming @file: its exit code, stderr in *@err. */
static int check_config(const char *dir, const char *file, char **err)
{
	char cfg[512], cmd[1200];
	FILE *f;
	int rc;

	snprintf(cfg, sizeof(cfg), "%s/brummd.json", dir);
	f = fopen(cfg, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "{\"scripts_from\":[\"%s\"]}", file);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "%s --check-config %s > %s/err 2>&1", brmh_bin("brummd"), cfg, dir);
	rc = system(cmd);
	snprintf(cfg, sizeof(cfg), "%s/err", dir);
	*err = brmh_read_file(cfg);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

START_TEST(bad_files_are_errors_that_name_them)
{
	static const struct {
		const char *name, *text, *says;
	} bad[] = {
		{ "package.json", "{\"scripts\":{\"a\":\"b\",}", "not valid JSON (at line 1" },
		{ "package.json", "{\"scripts\":[1]}", "\"scripts\" is an array, not an object" },
		{ "Procfile", "web: x\nnot a line\n", "line 2: expected \"NAME: COMMAND\"" },
		{ "Procfile", "web:\n", "'web' has no command" },
		{ "scripts.txt", "", "not a package.json, Procfile or Makefile" },
	};
	char dir[256], path[512], *err;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_ptr_nonnull(brmh_tmpdir(dir, sizeof(dir), "brm-scripts"));
		put(dir, bad[i].name, bad[i].text);
		snprintf(path, sizeof(path), "%s/%s", dir, bad[i].name);
		ck_assert_int_eq(check_config(dir, path, &err), 1);
		ck_assert_msg(strstr(err, "scripts_from[0]") && strstr(err, path) &&
			      strstr(err, bad[i].says), "%zu: %s", i, err);
		free(err);
	}
	/* missing; a symlink; a directory; a relative path from the config's directory */
	ck_assert_ptr_nonnull(brmh_tmpdir(dir, sizeof(dir), "brm-scripts"));
	snprintf(path, sizeof(path), "%s/package.json", dir);
	ck_assert_int_eq(check_config(dir, path, &err), 1);
	ck_assert_msg(strstr(err, "cannot open: No such file or directory"), "%s", err);
	free(err);
	put(dir, "real.json", "{\"scripts\":{}}");
	ck_assert_int_eq(symlink("real.json", path), 0);
	ck_assert_int_eq(check_config(dir, path, &err), 1);
	ck_assert_msg(strstr(err, "a symlink"), "%s", err);
	free(err);
	unlink(path);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	ck_assert_int_eq(check_config(dir, path, &err), 1);
	ck_assert_msg(strstr(err, "not a regular file"), "%s", err);
	free(err);
	rmdir(path);
	put(dir, "Procfile", "a: true\n");
	ck_assert_int_eq(check_config(dir, "Procfile", &err), 0);
	ck_assert_msg(strstr(err, "1 process"), "%s", err);
	free(err);
}
END_TEST

/*
 * As root: a file its user owns runs as that user; a file in a user's
 * directory owned by someone else (what a hard link to it would be) is
 * refused.
 */
START_TEST(a_users_file_runs_as_that_user)
{
	struct passwd *pw = getpwnam("nobody");
	char dir[256], path[512], text[512], statp[64], *st, *err;
	long pid;

	if (geteuid() != 0 || !pw || !brmh_child_public()) {
		printf("SKIP: a_users_file_runs_as_that_user needs root and user nobody\n");
		return;
	}
	ck_assert_ptr_nonnull(brmh_tmpdir(dir, sizeof(dir), "brm-scripts"));
	ck_assert_int_eq(chmod(dir, 0755), 0);
	snprintf(text, sizeof(text), "web: exec %s sleep 60\n", brmh_child_public());
	put(dir, "Procfile", text);
	snprintf(path, sizeof(path), "%s/Procfile", dir);
	/* root's file in nobody's directory: refused */
	ck_assert_int_eq(chown(dir, pw->pw_uid, pw->pw_gid), 0);
	ck_assert_int_eq(check_config(dir, path, &err), 1);
	ck_assert_msg(strstr(err, "owned by uid 0, but its directory by uid"), "%s", err);
	free(err);
	ck_assert_int_eq(chown(path, pw->pw_uid, pw->pw_gid), 0);
	brmh_check_start(&H, "{\"scripts_from\":\"%s\"}", path);
	ck_assert(brmh_wait_state(&H, "web", "running", 5000));
	pid = brmh_check_pid(&H, "web");
	snprintf(statp, sizeof(statp), "/proc/%ld/status", pid);
	st = brmh_read_file(statp);
	ck_assert_ptr_nonnull(st);
	snprintf(text, sizeof(text), "Uid:\t%u\t%u", (unsigned)pw->pw_uid, (unsigned)pw->pw_uid);
	ck_assert_msg(strstr(st, text), "%s", st);
	free(st);
	brmh_check_stop(&H);
}
END_TEST

BRM_TEST_CASE("scripts", "scripts_from", 60, package_json_procfile_and_makefile,
	      workspaces_add_their_packages_scripts,
	      lockfiles_choose_the_package_manager, bad_files_are_errors_that_name_them,
	      a_users_file_runs_as_that_user);
