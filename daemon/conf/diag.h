/*
 * diag.h — diagnostics of config parsing, shared by the files of conf/
 * that parse (config.c, spec.c, values.c, rlimits.c, accessspec.c,
 * limits.c): a problem report that collects one line per problem, each
 * naming its key path, what was expected and what was found, with a
 * suggestion for a near-miss key:
 *
 *   processes.web.restrt: unknown key (did you mean "restart"?)
 *
 * Context: any thread (no global state).
 */
#ifndef BRM_CONF_DIAG_H
#define BRM_CONF_DIAG_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"
#include "lib/util.h"

struct cJSON;

#define BRM_QUOTE_MAX 48   /* bytes of user text quoted in a message */

struct brm_report {
	struct brm_buf buf;
	const char *source;   /* prefix of every line, or NULL */
	unsigned n;           /* problems found, also those not shown */
};

/* Add one problem at key path @path (NULL or "": none); past 100 lines
 * (MAX_REPORTED) a problem is only counted. */
void brm_report(struct brm_report *r, const char *path, const char *fmt, ...)
	BRM_PRINTF(3, 4);

/* The lines reported, for *err. Ownership: caller frees. */
char *brm_report_finish(struct brm_report *r);

struct brm_quoted {
	char s[BRM_QUOTE_MAX * 4 + 8];
};

/* @s in double quotes, control bytes escaped, cut after BRM_QUOTE_MAX (or
 * @max) bytes; the result lives in @q. */
const char *brm_quote_n(struct brm_quoted *q, const char *s, size_t max);
const char *brm_quote(struct brm_quoted *q, const char *s);

/* "BASE.KEY", with KEY quoted unless it is plain. Ownership: caller frees. */
char *brm_keypath(const char *base, const char *key);

/* "a string", "an array", ...: what @v is, for "expected X, got Y". */
const char *brm_type_name(const struct cJSON *v);

/* Report @key at @path as unknown, with the known key it is a typo of, or
 * the list of @known keys (NULL-terminated). */
void brm_unknown_key(struct brm_report *r, const char *path, const char *key,
		     const char *const *known);

/*
 * One flag per child of object @obj, in order: true when an earlier sibling
 * has the same key. Never NULL. Ownership: caller frees.
 */
bool *brm_dup_flags(const struct cJSON *obj);

/*
 * An object at @base whose keys are all in @known: reports anything else
 * than an object, duplicate and unknown keys, and hands every other key to
 * @one with its key path and @ctx.
 */
void brm_parse_object_keys(struct brm_report *r, const char *base, const struct cJSON *v,
			   const char *const *known, void *ctx,
			   void (*one)(struct brm_report *, const char *, const char *,
				       const struct cJSON *, void *));

#endif
