/*
 * test_ctlinit.c — `brummctl init [DIR]`: the config it writes names the
 * project files that are there, passes `brummd --check-config`, keeps
 * brummd's socket and state in DIR/.brummd, and a brummd started on it
 * has the project's processes; an existing config is kept unless --force;
 * a directory without project files, a second DIR and an unknown option
 * are refused.
 */
#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "tests/harness.h"
#include "tests/suite.h"

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

/* Run @cmd (a shell line) with its output in *@out; its exit status. */
static int sh(const char *cmd, char **out)
{
	char *line = brmh_fmt("%s 2>&1", cmd);
	FILE *p = popen(line, "r");
	char buf[8192];
	size_t n;
	int st;

	ck_assert_ptr_nonnull(p);
	n = fread(buf, 1, sizeof(buf) - 1, p);
	buf[n] = '\0';
	st = pclose(p);
	*out = strdup(buf);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

START_TEST(init_writes_a_config_brummd_takes)
{
	char dir[256], *out, *cfg, *text;
	const char *ctl = brmh_bin("brummctl");
	pid_t pid;

	ck_assert_ptr_nonnull(brmh_tmpdir(dir, sizeof(dir), "brm-init"));
	/* nothing to make processes of */
	ck_assert_int_eq(sh(brmh_fmt("%s init %s", ctl, dir), &out), 1);
	ck_assert_msg(strstr(out, "no package.json, Procfile or Makefile"), "%s", out);
	free(out);
	put(dir, "package.json", "{\"scripts\":{\"dev\":\"vite\",\"test\":\"vitest\"}}");
	put(dir, "Procfile", brmh_fmt("clock: exec %s sleep 60\n", brmh_child()));
	ck_assert_int_eq(sh(brmh_fmt("cd %s && %s init", dir, ctl), &out), 0);
	ck_assert_msg(strstr(out, "brummd -c ") && strstr(out, "BRUMMD_SOCKET="), "%s", out);
	free(out);
	cfg = strdup(brmh_fmt("%s/brummd.json", dir));
	text = brmh_read_file(cfg);
	ck_assert_ptr_nonnull(text);
	ck_assert_msg(strstr(text, "\"scripts_from\"") && strstr(text, "\"package.json\"") &&
		      strstr(text, "\"Procfile\"") && !strstr(text, "\"Makefile\"") &&
		      strstr(text, "/.brummd/brummd.sock"), "%s", text);
	free(text);
	ck_assert_int_eq(sh(brmh_fmt("%s --check-config %s", brmh_bin("brummd"), cfg), &out), 0);
	ck_assert_msg(strstr(out, "ok, 3 processes"), "%s", out);
	free(out);
	/* kept unless --force */
	ck_assert_int_eq(sh(brmh_fmt("%s init %s", ctl, dir), &out), 1);
	ck_assert_msg(strstr(out, "exists (--force replaces it)"), "%s", out);
	free(out);
	put(dir, "Makefile", ".PHONY: lint\nlint:\n\ttrue\n");
	ck_assert_int_eq(sh(brmh_fmt("%s init --force %s", ctl, dir), &out), 0);
	free(out);
	text = brmh_read_file(cfg);
	ck_assert_msg(strstr(text, "\"Makefile\""), "%s", text);
	free(text);
	/* usage */
	ck_assert_int_eq(sh(brmh_fmt("%s init %s %s", ctl, dir, dir), &out), 2);
	free(out);
	ck_assert_int_eq(sh(brmh_fmt("%s init --bogus %s", ctl, dir), &out), 2);
	free(out);

	/* brummd on it: the processes, the socket in DIR/.brummd */
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		if (null < 0 || dup2(null, 2) < 0)
			_exit(126);
		execl(brmh_bin("brummd"), "brummd", "-c", cfg, (char *)NULL);
		_exit(127);
	}
	{
		char *sock = strdup(brmh_fmt("%s/.brummd/brummd.sock", dir)), *st = NULL;
		int rc = -1;

		for (int i = 0; i < 250 && rc != 0; i++) {
			free(st);
			st = NULL;
			rc = sh(brmh_fmt("BRUMMD_SOCKET=%s %s status --no-stats", sock, ctl), &st);
			if (rc)
				brmh_sleep_ms(20);
		}
		ck_assert_msg(rc == 0, "%s", st);
		ck_assert_msg(strstr(st, "dev") && strstr(st, "test") && strstr(st, "clock") &&
			      strstr(st, "lint"), "%s", st);
		free(st);
		free(sock);
	}
	kill(pid, SIGTERM);
	ck_assert_int_eq(brmh_wait_exit(pid, 15000), 0);
	free(cfg);
}
END_TEST

BRM_TEST_CASE("ctlinit", "init", 60, init_writes_a_config_brummd_takes);
