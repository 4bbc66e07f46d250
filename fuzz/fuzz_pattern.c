/*
 * fuzz_pattern.c — libFuzzer target for lib/pattern.c: any bytes as a
 * pattern, compiled under the limits and matched against fixed lines and
 * the input's own tail, on a thread with a 256 KiB stack (half a worker's):
 * a pattern that needs more stack crashes here instead of in brummd. Run
 * with -rss_limit_mb to make a memory blow-up a crash too, and -timeout to
 * catch a slow one.
 *
 * Input: the pattern up to the first newline (a JSON string cannot carry
 * NUL, so the pattern stops at one too); what follows is one more line to
 * match.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/pattern.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define STACK (256u << 10)

struct job {
	const uint8_t *data;
	size_t size;
};

static const char *const lines[] = {
	"", "a", "ERROR: disk full at /var/lib/x", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaX",
	"    at com.example.Main.run(Main.java:42)", "caf\xc3\xa9 \xff\xfe not utf-8",
	"2026-12-04 12:00:00 GET /api/v1/users 200 12 ms",
	"abababababababababababababababababababababababababababababababababababababababX",
};

static void *run(void *arg)
{
	const struct job *j = arg;
	const uint8_t *nl = memchr(j->data, '\n', j->size);
	size_t plen = nl ? (size_t)(nl - j->data) : j->size;
	char *pat = malloc(plen + 1);
	struct brm_pattern *p = NULL;
	char *why = NULL;
	int r;

	memcpy(pat, j->data, plen);
	pat[plen] = '\0';
	pat[strnlen(pat, plen)] = '\0';
	r = brm_pattern_compile(pat, &p, &why);
	if (r < 0) {
		if (!why || !*why || p)
			abort();   /* every refusal says why, and leaves nothing */
		free(why);
		free(pat);
		return NULL;
	}
	if (plen & 1)
		brm_pattern_set_base(p, BRM_PATTERN_LOOP_BASE);
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		r = brm_pattern_match(p, lines[i], strlen(lines[i]));
		if (r < 0 && (r != -E2BIG || !*brm_pattern_limit(p)))
			abort();
	}
	if (nl) {
		r = brm_pattern_match(p, (const char *)nl + 1, j->size - plen - 1);
		if (r < 0 && r != -E2BIG)
			abort();
	}
	brm_pattern_trim(p);
	brm_pattern_destroy(p);
	free(pat);
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct job j = { data, size };
	pthread_attr_t attr;
	pthread_t t;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, STACK);
	if (pthread_create(&t, &attr, run, &j) != 0)
		abort();
	pthread_join(t, NULL);
	pthread_attr_destroy(&attr);
	return 0;
}
