/*
 * placeholders.c — expand {name}, {instance} and {port} (placeholders.h).
 *
 * The expansion works on the JSON of a spec, before the spec is parsed, so
 * that whatever is parsed from an expanded string (a health check's
 * address, a log file's path) is checked exactly as if it had been written
 * out: "tcp": "127.0.0.1:{port}" is a valid address only once {port} is a
 * number.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "daemon/conf/placeholders.h"
#include "lib/buf.h"
#include "lib/util.h"

#define IDENT_MAX 32

/* The length of the placeholder name at @s ("port}..." gives 4), or 0. */
static size_t ident_len(const char *s)
{
	size_t n = 0;

	if (!(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return 0;
	while (n <= IDENT_MAX && (isalnum((unsigned char)s[n]) || s[n] == '_'))
		n++;
	return n <= IDENT_MAX && s[n] == '}' ? n : 0;
}

static bool is(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && !memcmp(s, word, n);
}

int brm_placeholders_expand(const char *in, struct brm_placeholders *v, char **out,
			    char **why)
{
	struct brm_buf b = BRM_BUF_INIT;
	size_t inlen = strlen(in);
	const char *p = in;

	*out = NULL;
	*why = NULL;
	while (*p) {
		const char *brace = strchr(p, '{');
		size_t n;

		if (!brace) {
			brm_buf_adds(&b, p);
			break;
		}
		brm_buf_add(&b, p, (size_t)(brace - p));
		p = brace;
		if (p > in && p[-1] == '$') {            /* ${VAR}: the shell's */
			brm_buf_addc(&b, '{');
			p++;
			if ((n = ident_len(p)) > 0) {
				brm_buf_add(&b, p, n);
				p += n;
			}
			continue;
		}
		if (p[1] == '{' && (n = ident_len(p + 2)) > 0) {   /* {{name} */
			brm_buf_add(&b, p + 1, n + 2);
			p += n + 3;
			continue;
		}
		n = ident_len(p + 1);
		if (!n) {
			brm_buf_addc(&b, '{');
			p++;
			continue;
		}
		if (is(p + 1, n, "name")) {
			brm_buf_adds(&b, v->name);
		} else if (is(p + 1, n, "instance")) {
			if (v->instance < 0) {
				*why = brm_xstrdup("{instance} needs \"instances\" on the process");
				goto out_fail;
			}
			brm_buf_addf(&b, "%ld", v->instance);
		} else if (is(p + 1, n, "port")) {
			if (v->port <= 0) {
				*why = brm_xstrdup("{port} needs \"port\" on the process");
				goto out_fail;
			}
			brm_buf_addf(&b, "%ld", v->port);
		} else {
			*why = brm_xasprintf("unknown placeholder {%.*s} (known: {name}, {instance},"
					     " {port}; write {{%.*s} for the text itself)",
					     (int)n, p + 1, (int)n, p + 1);
			goto out_fail;
		}
		p += n + 2;
		if (b.len >= BRM_PLACEHOLDER_STR_MAX) {
			*why = brm_xasprintf("longer than %u bytes once placeholders are filled in",
					     BRM_PLACEHOLDER_STR_MAX - 1);
			goto out_fail;
		}
	}
	if (b.len >= BRM_PLACEHOLDER_STR_MAX) {
		*why = brm_xasprintf("longer than %u bytes once placeholders are filled in",
				     BRM_PLACEHOLDER_STR_MAX - 1);
		goto out_fail;
	}
	if (b.len > inlen) {
		v->growth += b.len - inlen;
		if (v->growth > BRM_PLACEHOLDER_GROWTH_MAX) {
			*why = brm_xasprintf("placeholders add more than %u bytes to the process's"
					     " strings", BRM_PLACEHOLDER_GROWTH_MAX);
			goto out_fail;
		}
	}
	if (!b.p)
		brm_buf_adds(&b, "");
	*out = brm_buf_detach(&b);
	return 0;

out_fail:
	brm_buf_finish(&b);
	return -EINVAL;
}

struct walk {
	struct brm_placeholders *v;
	void (*report)(void *ctx, const char *key, const char *msg);
	void *ctx;
	unsigned problems;
};

/* Expand string @item (named @key in messages) in place. */
static void one(struct walk *w, cJSON *item, const char *key)
{
	char *out, *why;

	if (!cJSON_IsString(item) || !strchr(item->valuestring, '{'))
		return;
	if (brm_placeholders_expand(item->valuestring, w->v, &out, &why) < 0) {
		w->report(w->ctx, key, why);
		w->problems++;
		free(why);
		return;
	}
	/* cJSON_SetValuestring only shrinks in place; replace the string. */
	free(item->valuestring);
	item->valuestring = out;
}

/* Each string of array @a, named KEY[i]. */
static void each(struct walk *w, cJSON *a, const char *key)
{
	cJSON *c;
	size_t i = 0;

	cJSON_ArrayForEach(c, a) {
		char *k = brm_xasprintf("%s[%zu]", key, i++);

		one(w, c, k);
		free(k);
	}
}

unsigned brm_placeholders_apply(cJSON *spec, struct brm_placeholders *v,
				void (*report)(void *ctx, const char *key, const char *msg),
				void *ctx)
{
	struct walk w = { v, report, ctx, 0 };
	cJSON *c;

	if (!cJSON_IsObject(spec))
		return 0;
	cJSON_ArrayForEach(c, spec) {
		const char *k = c->string;

		if (!k)
			continue;
		if (!strcmp(k, "cmd")) {
			if (cJSON_IsArray(c))
				each(&w, c, "cmd");
			else
				one(&w, c, "cmd");
		} else if (!strcmp(k, "cwd") || !strcmp(k, "log_file")) {
			one(&w, c, k);
		} else if (!strcmp(k, "env") && cJSON_IsObject(c)) {
			cJSON *e;

			cJSON_ArrayForEach(e, c) {
				char *key = brm_xasprintf("env.%s", e->string ? e->string : "");

				one(&w, e, key);
				free(key);
			}
		} else if (!strcmp(k, "health") && cJSON_IsObject(c)) {
			cJSON *h;

			cJSON_ArrayForEach(h, c) {
				if (!h->string)
					continue;
				if (!strcmp(h->string, "exec") && cJSON_IsArray(h))
					each(&w, h, "health.exec");
				else if (!strcmp(h->string, "tcp"))
					one(&w, h, "health.tcp");
				else if (!strcmp(h->string, "http"))
					one(&w, h, "health.http");
			}
		}
	}
	return w.problems;
}
