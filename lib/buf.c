/*
 * buf.c — growable buffer and JSON writer; see buf.h.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"

void brm_buf_init(struct brm_buf *b)
{
	b->p = NULL;
	b->len = 0;
	b->cap = 0;
}

void brm_buf_finish(struct brm_buf *b)
{
	free(b->p);
	brm_buf_init(b);
}

void brm_buf_reset(struct brm_buf *b)
{
	b->len = 0;
	if (b->p)
		b->p[0] = '\0';
}

void brm_buf_grow(struct brm_buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;
	size_t cap;

	if (need <= b->cap)
		return;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	b->p = brm_xrealloc(b->p, cap);
	b->cap = cap;
}

void brm_buf_add(struct brm_buf *b, const void *data, size_t n)
{
	brm_buf_grow(b, n);
	if (n)		/* data may be NULL when n is 0; memcpy must not see it */
		memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void brm_buf_adds(struct brm_buf *b, const char *s)
{
	brm_buf_add(b, s, strlen(s));
}

void brm_buf_addc(struct brm_buf *b, char c)
{
	brm_buf_grow(b, 1);
	b->p[b->len++] = c;
	b->p[b->len] = '\0';
}

void brm_buf_vaddf(struct brm_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	brm_buf_grow(b, 64);
	va_copy(cp, ap);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, cp);
	va_end(cp);
	if (n < 0)
		return;
	if ((size_t)n >= b->cap - b->len) {
		brm_buf_grow(b, (size_t)n);
		vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	}
	b->len += (size_t)n;
}

void brm_buf_addf(struct brm_buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	brm_buf_vaddf(b, fmt, ap);
	va_end(ap);
}

void brm_buf_consume(struct brm_buf *b, size_t n)
{
	if (n >= b->len) {
		brm_buf_reset(b);
		return;
	}
	memmove(b->p, b->p + n, b->len - n);
	b->len -= n;
	b->p[b->len] = '\0';
}

char *brm_buf_detach(struct brm_buf *b)
{
	char *p = b->p ? b->p : brm_xstrdup("");

	brm_buf_init(b);
	return p;
}

int brm_buf_read_file(struct brm_buf *b, int fd, size_t cap)
{
	int rc = 0;

	for (;;) {
		ssize_t n;

		brm_buf_grow(b, 64 * 1024);
		n = read(fd, b->p + b->len, b->cap - b->len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			break;
		}
		if (n == 0)
			break;
		b->len += (size_t)n;
		if (b->len > cap) {
			rc = -EFBIG;
			break;
		}
	}
	b->p[b->len] = '\0';
	return rc;
}

/* Length of a valid UTF-8 sequence at s (at most n bytes), or 0 if invalid. */
static size_t utf8_valid_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

void brm_json_strn(struct brm_buf *b, const char *str, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, run = 0;

	brm_buf_grow(b, n + 2);
	brm_buf_addc(b, '"');
	while (i < n) {
		unsigned char c = s[i];
		size_t ulen;

		if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
			/* Copy plain ASCII runs in one go. */
			run = i;
			while (i < n && s[i] >= 0x20 && s[i] != '"' && s[i] != '\\' && s[i] < 0x80)
				i++;
			brm_buf_add(b, s + run, i - run);
			continue;
		}
		if (c >= 0x80) {
			ulen = utf8_valid_len(s + i, n - i);
			if (ulen) {
				brm_buf_add(b, s + i, ulen);
				i += ulen;
			} else {
				brm_buf_adds(b, "\\ufffd");
				i++;
			}
			continue;
		}
		switch (c) {
		case '"': brm_buf_adds(b, "\\\""); break;
		case '\\': brm_buf_adds(b, "\\\\"); break;
		case '\n': brm_buf_adds(b, "\\n"); break;
		case '\r': brm_buf_adds(b, "\\r"); break;
		case '\t': brm_buf_adds(b, "\\t"); break;
		case '\b': brm_buf_adds(b, "\\b"); break;
		case '\f': brm_buf_adds(b, "\\f"); break;
		default: {
			char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
			brm_buf_add(b, esc, sizeof(esc));
		}
		}
		i++;
	}
	brm_buf_addc(b, '"');
}

void brm_buf_add_line(struct brm_buf *b, const char *str, size_t max)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n = str ? strlen(str) : 0, i = 0, start = b->len;
	bool blank = true;   /* the last byte written was a blank, or none was */

	while (i < n) {
		size_t ulen = utf8_valid_len(s + i, n - i);

		if (s[i] < 0x20 || s[i] == 0x7f || s[i] == ' ') {
			if (!blank)
				brm_buf_addc(b, ' ');
			blank = true;
			i++;
			continue;
		}
		if (b->len - start + (ulen ? ulen : 1) > max) {
			while (b->len > start && b->p[b->len - 1] == ' ')
				b->len--;
			brm_buf_adds(b, "...");
			return;
		}
		if (ulen)
			brm_buf_add(b, s + i, ulen);
		else
			brm_buf_addc(b, '?');
		i += ulen ? ulen : 1;
		blank = false;
	}
	while (b->len > start && b->p[b->len - 1] == ' ')
		b->len--;
	if (b->p)
		b->p[b->len] = '\0';
}

void brm_json_str(struct brm_buf *b, const char *s)
{
	if (!s) {
		brm_buf_add(b, "null", 4);
		return;
	}
	brm_json_strn(b, s, strlen(s));
}

void brm_json_int(struct brm_buf *b, int64_t v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "%lld", (long long)v);

	brm_buf_add(b, tmp, (size_t)n);
}

void brm_json_uint(struct brm_buf *b, uint64_t v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v);

	brm_buf_add(b, tmp, (size_t)n);
}

void brm_json_double(struct brm_buf *b, double v)
{
	char tmp[32];
	int n;

	if (!isfinite(v)) {
		brm_buf_add(b, "null", 4);
		return;
	}
	n = snprintf(tmp, sizeof(tmp), "%.17g", v);
	/* Prefer the short form when it round-trips. */
	for (int prec = 6; prec < 17; prec++) {
		char s2[32];
		int m = snprintf(s2, sizeof(s2), "%.*g", prec, v);
		if (strtod(s2, NULL) == v) {
			brm_buf_add(b, s2, (size_t)m);
			return;
		}
	}
	brm_buf_add(b, tmp, (size_t)n);
}

void brm_json_bool(struct brm_buf *b, bool v)
{
	if (v)
		brm_buf_add(b, "true", 4);
	else
		brm_buf_add(b, "false", 5);
}

void brm_json_key(struct brm_buf *b, const char *key)
{
	brm_json_str(b, key);
	brm_buf_addc(b, ':');
}
