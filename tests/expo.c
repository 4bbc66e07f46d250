/*
 * expo.c — the exposition format held strictly (expo.h): a validator of
 * its own, and promtool (Debian's prometheus package) when installed.
 */
#include <check.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/expo.h"
#include "tests/harness.h"

/* Asserts @line (without its newline) is a whole line of @out. */
void brmt_has_line(const char *out, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = out; (p = strstr(p, line)); p++)
		if ((p == out || p[-1] == '\n') && p[n] == '\n')
			return;
	ck_abort_msg("no line '%s' in:\n%.3000s", line, out);
}

/* ---- the exposition format, strictly ---- */

static bool metric_start(char c)
{
	return isalpha((unsigned char)c) || c == '_' || c == ':';
}

static bool metric_char(char c)
{
	return metric_start(c) || isdigit((unsigned char)c);
}

/* A metric name at *@p (advanced past it) into @name; false when none. */
static bool read_name(const char **p, char *name, size_t size, bool label)
{
	size_t n = 0;

	if (!metric_start(**p) || (label && **p == ':'))
		return false;
	while (metric_char(**p) && !(label && **p == ':')) {
		if (n + 1 >= size)
			return false;
		name[n++] = *(*p)++;
	}
	name[n] = '\0';
	return true;
}

/* A float as Prometheus reads one: a decimal number, NaN, +Inf or -Inf. */
static bool valid_value(const char *s)
{
	char *end;

	if (!strcmp(s, "NaN") || !strcmp(s, "+Inf") || !strcmp(s, "-Inf"))
		return true;
	if (!*s || strspn(s, "0123456789.eE+-") != strlen(s))
		return false;
	strtod(s, &end);
	return *end == '\0';
}

/*
 * Checks one sample line: NAME[{LABEL="VALUE",...}] VALUE, label values
 * escaped (only \\, \" and \n), no timestamp (we never print one). The
 * metric name goes to @name, the series (name and labels) to @series.
 * Returns NULL or what is wrong.
 */
static const char *check_sample(const char *line, char *name, size_t size, char *series,
				size_t ssize)
{
	const char *p = line;
	char label[128];

	if (!read_name(&p, name, size, false))
		return "no valid metric name";
	if (*p == '{') {
		p++;
		while (*p != '}') {
			if (!read_name(&p, label, sizeof(label), true))
				return "no valid label name";
			if (!strncmp(label, "__", 2))
				return "label name starts with __";
			if (*p++ != '=' || *p++ != '"')
				return "label without =\"";
			for (; *p != '"'; p++) {
				if (!*p)
					return "label value not closed";
				if (*p == '\\' && !strchr("\\\"n", *++p))
					return "bad escape in a label value";
			}
			p++;
			if (*p == ',')
				p++;
			else if (*p != '}')
				return "no , or } after a label";
		}
		p++;
	}
	if ((size_t)(p - line) >= ssize)
		return "series too long";
	memcpy(series, line, (size_t)(p - line));
	series[p - line] = '\0';
	if (*p++ != ' ')
		return "no single space before the value";
	if (!valid_value(p))
		return "value is not a float";
	return NULL;
}

/*
 * A sample of histogram @fam: NAME_bucket{le="B"} (cumulative: never less
 * than the bucket before, *@last; the +Inf one into *@inf), NAME_sum, or
 * NAME_count (equal to the +Inf bucket). False when it is none of them.
 */
static bool histogram_sample(const char *line, const char *name, const char *fam,
			     double *last, double *inf)
{
	size_t n = strlen(fam);
	double v = strtod(strrchr(line, ' ') + 1, NULL);

	if (strncmp(name, fam, n) != 0)
		return false;
	if (!strcmp(name + n, "_bucket")) {
		ck_assert_msg(strstr(line, "{le=\""), "bucket without le: '%s'", line);
		ck_assert_msg(v >= *last, "bucket less than the one before: '%s'", line);
		*last = v;
		if (strstr(line, "{le=\"+Inf\"}"))
			*inf = v;
		return true;
	}
	if (!strcmp(name + n, "_count")) {
		ck_assert_msg(v == *inf, "count %g, +Inf bucket %g", v, *inf);
		return true;
	}
	return !strcmp(name + n, "_sum");
}

/*
 * Holds @out to the format: every line a HELP, a TYPE or a sample; each
 * family's HELP then TYPE once, before its samples, which come together;
 * a series once. Returns the number of families.
 */
int brmt_check_format(const char *out)
{
	char fams[64][128], series[256][512], name[128], cur[128] = "";
	int nfam = 0, nser = 0;
	bool typed = false, histogram = false;
	double inf_bucket = -1, last_bucket = 0;

	ck_assert_msg(*out && out[strlen(out) - 1] == '\n', "no final newline:\n%s", out);
	for (const char *line = out; *line;) {
		const char *nl = strchr(line, '\n');
		char buf[1024];
		size_t len = (size_t)(nl - line);

		ck_assert_msg(len < sizeof(buf), "line too long");
		memcpy(buf, line, len);
		buf[len] = '\0';
		line = nl + 1;
		ck_assert_msg(len > 0, "empty line in:\n%s", out);
		if (!strncmp(buf, "# HELP ", 7)) {
			const char *p = buf + 7;

			ck_assert_msg(read_name(&p, name, sizeof(name), false) && *p == ' ' && p[1],
				      "bad HELP line '%s'", buf);
			for (int i = 0; i < nfam; i++)
				ck_assert_msg(strcmp(fams[i], name), "second HELP for %s", name);
			ck_assert_int_lt(nfam, 64);
			snprintf(fams[nfam++], sizeof(fams[0]), "%s", name);
			snprintf(cur, sizeof(cur), "%s", name);
			typed = false;
		} else if (!strncmp(buf, "# TYPE ", 7)) {
			const char *p = buf + 7;

			ck_assert_msg(read_name(&p, name, sizeof(name), false) && *p++ == ' ',
				      "bad TYPE line '%s'", buf);
			ck_assert_msg(!strcmp(name, cur) && !typed,
				      "TYPE of %s not right after its HELP", name);
			ck_assert_msg(!strcmp(p, "counter") || !strcmp(p, "gauge") ||
					      !strcmp(p, "histogram"),
				      "type '%s' of %s", p, name);
			histogram = !strcmp(p, "histogram");
			inf_bucket = -1;
			last_bucket = 0;
			ck_assert_msg(strcmp(p, "counter") ||
					      (strlen(name) > 6 && !strcmp(name + strlen(name) - 6, "_total")),
				      "counter %s without _total", name);
			typed = true;
		} else {
			const char *why;

			ck_assert_msg(buf[0] != '#', "other comment '%s'", buf);
			ck_assert_int_lt(nser, 256);
			why = check_sample(buf, name, sizeof(name), series[nser], sizeof(series[0]));
			ck_assert_msg(!why, "sample line '%s': %s", buf, why);
			ck_assert_msg(typed && (histogram ? histogram_sample(buf, name, cur, &last_bucket,
										    &inf_bucket)
							   : !strcmp(name, cur)),
				      "sample '%s' outside the block of its family", buf);
			for (int i = 0; i < nser; i++)
				ck_assert_msg(strcmp(series[i], series[nser]), "series twice: %s", buf);
			nser++;
		}
	}
	return nfam;
}

/* When promtool is installed, `promtool check metrics` must accept @out. */
void brmt_promtool_check(const char *suite, const char *out)
{
	char path[] = "/tmp/brm-metrics.XXXXXX";
	char *cmd, *res;
	int fd, st;

	if (system("command -v promtool >/dev/null 2>&1") != 0) {
		printf("SKIP: %s: promtool check metrics (promtool not installed;"
		       " Debian package prometheus)\n", suite);
		fflush(stdout);
		return;
	}
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, out, strlen(out)), (ssize_t)strlen(out));
	close(fd);
	cmd = brmh_fmt("promtool check metrics < %s > %s.out 2>&1", path, path);
	st = system(cmd);
	res = brmh_read_file(brmh_fmt("%s.out", path));
	unlink(brmh_fmt("%s.out", path));
	unlink(path);
	ck_assert_msg(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "promtool check metrics: status %d: %s", st, res ? res : "");
	free(res);
}
