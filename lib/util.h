/*
 * util.h — small helpers every part of brummd uses: allocation that aborts
 * on out-of-memory, clocks, and the compile-time ban on unsafe string calls.
 *
 * brm_xmalloc and friends never return NULL: running out of memory in the
 * daemon is not recoverable in any useful way (redis's zmalloc does the same).
 * Paths whose size a client chooses must check sizes against limits before
 * they allocate, so that a request fails instead of the daemon.
 */
#ifndef BRM_UTIL_H
#define BRM_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BRM_VERSION "0.1.0"

#define BRM_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#if defined(__GNUC__)
#define BRM_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define BRM_NORETURN __attribute__((noreturn))
#else
#define BRM_PRINTF(f, a)
#define BRM_NORETURN
#endif

void *brm_xmalloc(size_t n);
void *brm_xcalloc(size_t nmemb, size_t size);
void *brm_xrealloc(void *p, size_t n);
char *brm_xstrdup(const char *s);
char *brm_xstrndup(const char *s, size_t n);
/* Ownership: caller frees the result with free(). */
char *brm_xasprintf(const char *fmt, ...) BRM_PRINTF(1, 2);

/*
 * Format a message into @err (when @err and @errlen are non-zero, cut to
 * @errlen) and return -@e: `return brm_fail_err(err, errlen, EINVAL, ...)`.
 * Context: any thread; not in a child after clone (vsnprintf).
 */
int brm_fail_err(char *err, size_t errlen, int e, const char *fmt, ...) BRM_PRINTF(4, 5);

/* Prints "brummd: out of memory (N bytes)" and aborts. */
BRM_NORETURN void brm_oom(size_t n);

/* Duplicate a NULL-terminated string vector; brm_strv_free(NULL) does nothing. */
char **brm_strv_dup(char *const *v);
size_t brm_strv_len(char *const *v);
void brm_strv_free(char **v);
bool brm_strv_equal(char *const *a, char *const *b);

/* NULL-safe string equality: two NULLs are equal, NULL and a string are not. */
bool brm_streq(const char *a, const char *b);

/* Clocks in milliseconds / nanoseconds. */
int64_t brm_now_wall_ms(void);     /* CLOCK_REALTIME */
uint64_t brm_now_mono_ns(void);    /* CLOCK_MONOTONIC */

/* Set FD_CLOEXEC / O_NONBLOCK on fd: 0 or -errno. */
int brm_fd_set_cloexec(int fd);
int brm_fd_set_nonblock(int fd, bool on);

#include "lib/banned.h"

#endif
