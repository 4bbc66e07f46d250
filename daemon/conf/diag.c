/*
 * diag.c — config diagnostics (diag.h): the problem report, quoting of
 * user text, key paths, near-miss suggestions for unknown keys, and
 * duplicate keys.
 *
 * A config is written by a person, so parsing does not stop at the first
 * problem: every problem goes into a struct brm_report as one line naming
 * its key path, what was expected and what was found, and parsing carries
 * on. The result is thrown away at the end if anything was reported.
 *
 * cJSON keeps duplicate keys as separate children and its lookups return
 * the first; brm_dup_flags() finds the later ones so that they are reported
 * instead of silently ignored.
 *
 * No global state: safe from any thread.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "daemon/conf/diag.h"
#include "lib/buf.h"
#include "lib/util.h"
#include "proto/proto.h"

#define MAX_REPORTED 100   /* lines; a huge bad spec must not make a huge reply */
#define SUGGEST_KEY_MAX 32 /* longer keys are too far from any known key */

/* ---- reporting ---------------------------------------------------------- */

static void report_prefix(struct brm_report *r, const char *path)
{
	if (r->buf.len)
		brm_buf_addc(&r->buf, '\n');
	if (r->source)
		brm_buf_addf(&r->buf, "%s: ", r->source);
	if (path && *path)
		brm_buf_addf(&r->buf, "%s: ", path);
}

void brm_report(struct brm_report *r, const char *path, const char *fmt, ...)
{
	va_list ap;

	if (++r->n > MAX_REPORTED)
		return;
	report_prefix(r, path);
	va_start(ap, fmt);
	brm_buf_vaddf(&r->buf, fmt, ap);
	va_end(ap);
}

/* The lines reported, for *err. Ownership: caller frees. */
char *brm_report_finish(struct brm_report *r)
{
	if (r->n > MAX_REPORTED) {
		report_prefix(r, NULL);
		brm_buf_addf(&r->buf, "%u more problems not shown",
			     r->n - MAX_REPORTED);
	}
	return brm_buf_detach(&r->buf);
}


/* @s in double quotes, control bytes escaped, cut after BRM_QUOTE_MAX bytes. */
const char *brm_quote_n(struct brm_quoted *q, const char *s, size_t max)
{
	size_t o = 0, i;

	if (max > BRM_QUOTE_MAX)
		max = BRM_QUOTE_MAX;
	q->s[o++] = '"';
	for (i = 0; i < max && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\') {
			q->s[o++] = '\\';
			q->s[o++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(q->s + o, 5, "\\x%02x", c);
			o += 4;
		} else {
			q->s[o++] = (char)c;
		}
	}
	q->s[o++] = '"';
	if (s[i]) {
		memcpy(q->s + o, "...", 3);
		o += 3;
	}
	q->s[o] = '\0';
	return q->s;
}

const char *brm_quote(struct brm_quoted *q, const char *s)
{
	return brm_quote_n(q, s, BRM_QUOTE_MAX);
}

static bool plain_key(const char *k)
{
	size_t n = strnlen(k, BRM_MAX_NAME_LEN);

	if (n == 0 || n >= BRM_MAX_NAME_LEN)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)k[i];

		if (!(isalnum(c) || c == '_' || c == '-' || c == '.' || c == ':' || c == '@'))
			return false;
	}
	return true;
}

/* "BASE.KEY", with KEY quoted unless it is plain. Ownership: caller frees. */
char *brm_keypath(const char *base, const char *key)
{
	struct brm_quoted q;
	const char *k = plain_key(key) ? key : brm_quote(&q, key);

	if (!base || !*base)
		return brm_xstrdup(k);
	return brm_xasprintf("%s.%s", base, k);
}

const char *brm_type_name(const cJSON *v)
{
	if (cJSON_IsBool(v))
		return "a boolean";
	if (cJSON_IsNull(v))
		return "null";
	if (cJSON_IsNumber(v))
		return "a number";
	if (cJSON_IsString(v))
		return "a string";
	if (cJSON_IsArray(v))
		return "an array";
	if (cJSON_IsObject(v))
		return "an object";
	return "an invalid value";
}


/* ---- unknown and duplicate keys ----------------------------------------- */

/* Optimal string alignment distance, ignoring case; both at most SUGGEST_KEY_MAX. */
static size_t distance(const char *a, size_t la, const char *b, size_t lb)
{
	size_t d[SUGGEST_KEY_MAX + 1][SUGGEST_KEY_MAX + 1];

	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			int ca = tolower((unsigned char)a[i - 1]);
			int cb = tolower((unsigned char)b[j - 1]);
			size_t best = d[i - 1][j - 1] + (ca != cb);

			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) == cb &&
			    d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[la][lb];
}

/* The known key closest to @key, if it is close enough to be a typo. */
static const char *suggest(const char *key, const char *const *known)
{
	size_t lk = strlen(key), best_d = 3;
	const char *best = NULL;

	if (lk > SUGGEST_KEY_MAX)
		return NULL;
	for (; *known; known++) {
		size_t lc = strlen(*known), longer = lk > lc ? lk : lc, d;

		if (lc > SUGGEST_KEY_MAX || longer - (lk < lc ? lk : lc) > 2)
			continue;
		d = distance(key, lk, *known, lc);
		if (d < best_d && 3 * d <= longer) {
			best_d = d;
			best = *known;
		}
	}
	return best;
}

void brm_unknown_key(struct brm_report *r, const char *path, const char *key,
		     const char *const *known)
{
	const char *s = suggest(key, known);
	struct brm_buf list = BRM_BUF_INIT;

	if (s) {
		brm_report(r, path, "unknown key (did you mean \"%s\"?)", s);
		return;
	}
	for (; *known; known++)
		brm_buf_addf(&list, "%s\"%s\"", list.len ? ", " : "", *known);
	brm_report(r, path, "unknown key (known keys: %s)", list.p);
	brm_buf_finish(&list);
}

struct keyref {
	const char *key;
	size_t idx;
};

static int keyref_cmp(const void *a, const void *b)
{
	const struct keyref *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	if (c)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/*
 * One flag per child of object @obj, in order: true when an earlier sibling
 * has the same key. Sorting keeps this O(n log n) for a hostile spec.
 * Returns NULL for an object without children. Ownership: caller frees.
 */
bool *brm_dup_flags(const cJSON *obj)
{
	const cJSON *c;
	struct keyref *refs;
	bool *dup;
	size_t n = 0;

	cJSON_ArrayForEach(c, obj)
		n++;
	/* Never NULL, even for {}: callers index it without a check. */
	refs = brm_xcalloc(n ? n : 1, sizeof(*refs));
	dup = brm_xcalloc(n ? n : 1, sizeof(*dup));
	n = 0;
	cJSON_ArrayForEach(c, obj) {
		refs[n].key = c->string ? c->string : "";
		refs[n].idx = n;
		n++;
	}
	qsort(refs, n, sizeof(*refs), keyref_cmp);
	for (size_t i = 1; i < n; i++)
		if (!strcmp(refs[i].key, refs[i - 1].key))
			dup[refs[i].idx] = true;
	free(refs);
	return dup;
}

void brm_parse_object_keys(struct brm_report *r, const char *base, const cJSON *v,
			   const char *const *known, void *ctx,
			   void (*one)(struct brm_report *, const char *, const char *,
				       const cJSON *, void *))
{
	const cJSON *c;
	bool *dup;
	size_t i = 0;

	if (!cJSON_IsObject(v)) {
		brm_report(r, base, "expected an object, got %s", brm_type_name(v));
		return;
	}
	dup = brm_dup_flags(v);
	cJSON_ArrayForEach(c, v) {
		char *p = brm_keypath(base, c->string);
		bool found = false;
		for (size_t j = 0; known[j]; j++)
			found |= !strcmp(c->string, known[j]);
		if (dup[i++])
			brm_report(r, p, "duplicate key");
		else if (!found)
			brm_unknown_key(r, p, c->string, known);
		else
			one(r, p, c->string, c, ctx);
		free(p);
	}
	free(dup);
}
