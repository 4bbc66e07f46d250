/*
 * buf.h — a growable byte buffer and the JSON writer built on it.
 *
 * The read path serialises snapshots with these functions into a buffer the
 * worker reuses from request to request, so once it has grown to its working
 * size, answering a query allocates nothing (cJSON would allocate a node per
 * value). Output is always valid JSON: strings are escaped, control bytes
 * become \uXXXX and invalid UTF-8 becomes U+FFFD.
 *
 * Ownership: the buffer owns p; brm_buf_finish() frees it. Not thread-safe:
 * one buffer, one thread at a time.
 */
#ifndef BRM_BUF_H
#define BRM_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/util.h"

struct brm_buf {
	char *p;      /* always NUL-terminated once anything was added */
	size_t len;
	size_t cap;
};

#define BRM_BUF_INIT { NULL, 0, 0 }

void brm_buf_init(struct brm_buf *b);
void brm_buf_finish(struct brm_buf *b);
void brm_buf_reset(struct brm_buf *b);          /* len = 0, keeps memory */
void brm_buf_grow(struct brm_buf *b, size_t extra);
void brm_buf_add(struct brm_buf *b, const void *data, size_t n);
void brm_buf_adds(struct brm_buf *b, const char *s);
void brm_buf_addc(struct brm_buf *b, char c);
void brm_buf_addf(struct brm_buf *b, const char *fmt, ...) BRM_PRINTF(2, 3);
void brm_buf_vaddf(struct brm_buf *b, const char *fmt, va_list ap);
/* Remove the first n bytes (a consumed prefix). */
void brm_buf_consume(struct brm_buf *b, size_t n);
/* Hand the string to the caller and reset the buffer. Ownership: caller frees. */
char *brm_buf_detach(struct brm_buf *b);

/*
 * Append what @fd holds, up to its end, to @b and NUL-terminate it (b->p is
 * never NULL after the call). A read interrupted by a signal is retried.
 * Returns 0; -EFBIG once b->len went past @cap (what was read stays in @b);
 * or the -errno of a failed read. @fd is the caller's to open (with the
 * checks its file needs) and to close.
 */
int brm_buf_read_file(struct brm_buf *b, int fd, size_t cap);

/*
 * Append @s as one line for a person to read (an event's probe output):
 * each run of control bytes (newlines included) becomes one space, an
 * invalid UTF-8 byte '?', leading and trailing blanks go, and at most @max
 * bytes of text are kept, cut between characters and followed by "...".
 */
void brm_buf_add_line(struct brm_buf *b, const char *s, size_t max);

/* JSON values. Strings are escaped; NULL s writes null. */
void brm_json_str(struct brm_buf *b, const char *s);
void brm_json_strn(struct brm_buf *b, const char *s, size_t n);
void brm_json_int(struct brm_buf *b, int64_t v);
void brm_json_uint(struct brm_buf *b, uint64_t v);
void brm_json_double(struct brm_buf *b, double v);   /* non-finite -> null */
void brm_json_bool(struct brm_buf *b, bool v);
/* "key": — the key escaped, followed by a colon; the caller adds commas. */
void brm_json_key(struct brm_buf *b, const char *key);

#endif
