/*
 * test_units.c — what `make install` ships besides the binaries: the
 * systemd units pass `systemd-analyze verify` (with ExecStart pointed at
 * the binary just built, and the man pages they cite on MANPATH), and the
 * default config is valid. systemd need not run: verify works offline.
 * Without systemd-analyze the unit check is skipped with a message
 * (.ci/run installs it).
 */
#include <check.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/harness.h"
#include "tests/suite.h"

/* The source tree: the parent of $BRM_BINDIR, else ".". */
static const char *srcdir(void)
{
	static char dir[512];
	const char *b = getenv("BRM_BINDIR");

	if (!b || !*b)
		return ".";
	snprintf(dir, sizeof(dir), "%s", b);
	return dirname(dir);
}

static int run(const char *script)
{
	int st = system(script);

	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

START_TEST(units_pass_systemd_analyze_verify)
{
	char script[4096];

	if (run("command -v systemd-analyze >/dev/null 2>&1") != 0) {
		printf("SKIP: units_pass_systemd_analyze_verify: systemd-analyze not found"
		       " (apt-get install systemd)\n");
		return;
	}
	snprintf(script, sizeof(script),
		 "set -e; t=$(mktemp -d /tmp/brmunits.XXXXXX); trap 'rm -rf \"$t\"' EXIT;"
		 " mkdir -p \"$t/man/man1\" \"$t/man/man5\" \"$t/man/man8\";"
		 " cp '%1$s/man/brummctl.1' \"$t/man/man1/\";"
		 " cp '%1$s/man/brummd.json.5' \"$t/man/man5/\";"
		 " cp '%1$s/man/brummd.8' \"$t/man/man8/\";"
		 " sed 's|/usr/local/sbin/brummd|%2$s|' '%1$s/systemd/brummd.service'"
		 "   > \"$t/brummd.service\";"
		 " cp '%1$s/systemd/brummd.socket' \"$t/\";"
		 " cd \"$t\"; MANPATH=\"$t/man\" systemd-analyze verify ./brummd.service"
		 "   ./brummd.socket 2>&1 | tee \"$t/out\" >&2;"
		 " test ! -s \"$t/out\"",
		 srcdir(), brmh_bin("brummd"));
	ck_assert_msg(run(script) == 0, "systemd-analyze verify reported problems (above)");
}
END_TEST

START_TEST(unit_settings_are_the_documented_ones)
{
	char path[600];
	char *u;

	snprintf(path, sizeof(path), "%s/systemd/brummd.service", srcdir());
	u = brmh_read_file(path);
	ck_assert_ptr_nonnull(u);
	ck_assert(strstr(u, "\nType=notify\n"));
	ck_assert(strstr(u, "\nNotifyAccess=main\n"));
	ck_assert(strstr(u, "\nKillMode=mixed\n"));
	ck_assert(strstr(u, "\nExecReload=/bin/kill -HUP $MAINPID\n"));
	ck_assert(strstr(u, "\nWatchdogSec="));
	free(u);
}
END_TEST

START_TEST(default_config_is_valid)
{
	char script[1200];

	snprintf(script, sizeof(script), "'%s' --check-config '%s/etc/brummd.json' >/dev/null",
		 brmh_bin("brummd"), srcdir());
	ck_assert_int_eq(run(script), 0);
}
END_TEST

START_TEST(man_pages_render_without_warnings)
{
	char script[1200];

	if (run("command -v groff >/dev/null 2>&1") != 0) {
		printf("SKIP: man_pages_render_without_warnings: groff not found\n");
		return;
	}
	snprintf(script, sizeof(script),
		 "cd '%s/man' && for f in brummd.8 brummctl.1 brummd.json.5; do"
		 " w=$(LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z \"$f\" 2>&1);"
		 " if [ -n \"$w\" ]; then echo \"$f: $w\" >&2; exit 1; fi; done",
		 srcdir());
	ck_assert_int_eq(run(script), 0);
}
END_TEST

BRM_TEST_CASE("units", "units", 30,
	units_pass_systemd_analyze_verify,
	unit_settings_are_the_documented_ones,
	default_config_is_valid,
	man_pages_render_without_warnings);
