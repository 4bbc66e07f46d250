/*
 * util.c — allocation, clocks and fd flags; see util.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/util.h"

void brm_oom(size_t n)
{
	/* No allocation here: we are out of memory. */
	char msg[80];
	int len = snprintf(msg, sizeof(msg), "brummd: out of memory (%zu bytes)\n", n);
	if (len > 0 && write(STDERR_FILENO, msg, (size_t)len) < 0) {
		/* nothing more we can do */
	}
	abort();
}

void *brm_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		brm_oom(n);
	return p;
}

void *brm_xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
	if (!p)
		brm_oom(nmemb * size);
	return p;
}

void *brm_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		brm_oom(n);
	return q;
}

char *brm_xstrdup(const char *s)
{
	char *p = strdup(s);
	if (!p)
		brm_oom(strlen(s) + 1);
	return p;
}

char *brm_xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);
	if (!p)
		brm_oom(n + 1);
	return p;
}

char *brm_xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	if (vasprintf(&p, fmt, ap) < 0)
		brm_oom(strlen(fmt));
	va_end(ap);
	return p;
}

int brm_fail_err(char *err, size_t errlen, int e, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -e;
}

size_t brm_strv_len(char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

/* GCC 12's -fanalyzer reports the strings as leaked although r[] holds
 * them; the caller frees all with brm_strv_free(). */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 10
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wanalyzer-malloc-leak"
#endif
char **brm_strv_dup(char *const *v)
{
	size_t n = brm_strv_len(v);
	char **r;

	if (!v)
		return NULL;
	r = brm_xcalloc(n + 1, sizeof(*r));
	for (size_t i = 0; i < n; i++)
		r[i] = brm_xstrdup(v[i]);
	return r;
}
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 10
#pragma GCC diagnostic pop
#endif

void brm_strv_free(char **v)
{
	if (!v)
		return;
	for (size_t i = 0; v[i]; i++)
		free(v[i]);
	free(v);
}

bool brm_strv_equal(char *const *a, char *const *b)
{
	size_t i;

	if (!a || !b)
		return a == b;
	for (i = 0; a[i] && b[i]; i++)
		if (strcmp(a[i], b[i]) != 0)
			return false;
	return !a[i] && !b[i];
}

bool brm_streq(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

int64_t brm_now_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t brm_now_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int brm_fd_set_cloexec(int fd)
{
	int fl = fcntl(fd, F_GETFD);

	if (fl < 0 || fcntl(fd, F_SETFD, fl | FD_CLOEXEC) < 0)
		return -errno;
	return 0;
}

int brm_fd_set_nonblock(int fd, bool on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -errno;
	fl = on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK);
	if (fcntl(fd, F_SETFL, fl) < 0)
		return -errno;
	return 0;
}
