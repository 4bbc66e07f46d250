/*
 * patternbench.c — per-line cost of a pattern: glibc regexec (what brummd
 * used before) against lib/pattern.c (PCRE2, JIT), on the same lines.
 *
 *   make bin/bench_patternbench && bin/bench_patternbench [ITERATIONS]
 *
 * Cases: a usual grep (`ERROR|panic`), a grep with classes and a count,
 * and brummd's default error_patterns (glibc: one regex joined with `|`, as
 * before; now: each pattern in turn), over 1000 log-like lines of 40-200
 * bytes of which a few match. Output: one line per case, "key ns/line".
 * Not part of `make bench` (bench/run.py): a standalone comparison.
 */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/conf/logspec.h"
#include "lib/buf.h"
#include "lib/pattern.h"
#include "lib/util.h"

#define NLINES 1000

static char *lines[NLINES];
static size_t lens[NLINES];

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static void make_lines(void)
{
	static const char *const words[] = {
		"GET", "/api/v1/users", "200", "user=bob", "status=200", "took", "12ms", "the",
		"request", "from", "10.0.0.7", "cache", "miss", "id=8f3a2c", "ok", "info",
	};
	unsigned seed = 1;

	for (int i = 0; i < NLINES; i++) {
		struct brm_buf b = BRM_BUF_INIT;
		size_t want = 40 + (size_t)(rand_r(&seed) % 160);

		brm_buf_addf(&b, "2026-12-04 12:%02d:%02d ", i / 60 % 60, i % 60);
		if (i % 97 == 0)
			brm_buf_adds(&b, "ERROR: ");
		while (b.len < want) {
			brm_buf_adds(&b, words[rand_r(&seed) % 16]);
			brm_buf_addc(&b, ' ');
		}
		lens[i] = b.len;
		lines[i] = brm_buf_detach(&b);
	}
}

static void bench(const char *key, char *const *pats, int iters)
{
	struct brm_buf joined = BRM_BUF_INIT;
	struct brm_pattern *p;
	regex_t re;
	double t0;
	long m1 = 0, m2 = 0;

	for (size_t i = 0; pats[i]; i++) {
		if (i)
			brm_buf_addc(&joined, '|');
		brm_buf_addf(&joined, "(%s)", pats[i]);
	}
	if (regcomp(&re, joined.p, REG_EXTENDED | REG_NOSUB) ||
	    brm_pattern_compile_any(pats, &p, NULL, NULL)) {
		fprintf(stderr, "%s: does not compile\n", key);
		exit(1);
	}
	t0 = now_ns();
	for (int k = 0; k < iters; k++)
		for (int i = 0; i < NLINES; i++)
			m1 += regexec(&re, lines[i], 0, NULL, 0) == 0;
	printf("%s_glibc %.0f\n", key, (now_ns() - t0) / ((double)iters * NLINES));
	t0 = now_ns();
	for (int k = 0; k < iters; k++)
		for (int i = 0; i < NLINES; i++)
			m2 += brm_pattern_match(p, lines[i], lens[i]) == 1;
	printf("%s_pcre2%s %.0f\n", key, brm_pattern_jit(p) ? "_jit" : "",
	       (now_ns() - t0) / ((double)iters * NLINES));
	if (m1 != m2) {
		fprintf(stderr, "%s: glibc matched %ld lines, PCRE2 %ld\n", key, m1, m2);
		exit(1);
	}
	regfree(&re);
	brm_pattern_destroy(p);
	brm_buf_finish(&joined);
}

int main(int argc, char **argv)
{
	int iters = argc > 1 ? atoi(argv[1]) : 20;
	char *grep1[] = { "ERROR|panic", NULL };
	char *grep2[] = { "user=[[:alpha:]]+ .*status=[45][[:digit:]]{2}", NULL };

	make_lines();
	bench("grep_alternation", grep1, iters);
	bench("grep_classes", grep2, iters);
	bench("default_error_patterns", (char *const *)brm_default_error_patterns, iters);
	for (int i = 0; i < NLINES; i++)
		free(lines[i]);
	return 0;
}
