/*
 * logspec.c — parsing and resolving the log keys (logspec.h).
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/conf/logspec.h"
#include "daemon/conf/values.h"
#include "lib/buf.h"
#include "lib/pattern.h"
#include "lib/util.h"

const char *const brm_default_error_patterns[] = {
	/* log levels, any language */
	"(^|[^[:alnum:]_])(ERROR|FATAL|CRITICAL|PANIC)([^[:alnum:]_]|$)",
	/* C and C compilers, sanitizers, the shell */
	"(^|[^[:alnum:]_])[Ee]rror: ",
	"Segmentation fault|Assertion .* failed|AddressSanitizer|core dumped",
	/* Go */
	"^panic: |^fatal error: ",
	/* Python */
	"^Traceback \\(most recent call last\\):",
	"^[[:alnum:]_.]+(Error|Exception): ",
	/* Node / JavaScript */
	"^Uncaught |UnhandledPromiseRejection|^[[:alnum:]_]*Error: ",
	/* Java */
	"^Exception in thread |^[[:alnum:]_.$]+(Exception|Error)(: |$)",
	/* Rust */
	"^thread '.*' panicked at",
	NULL
};

static const char *const keys[] = { BRM_LOG_KEYS, NULL };

bool brm_log_spec_key(const char *key)
{
	for (size_t i = 0; keys[i]; i++)
		if (!strcmp(keys[i], key))
			return true;
	return false;
}

struct brm_log_spec *brm_log_spec_new(void)
{
	struct brm_log_spec *s = brm_xcalloc(1, sizeof(*s));

	s->ring_bytes = s->line_max = s->max_bytes = s->keep = -1;
	return s;
}

struct brm_log_spec *brm_log_spec_dup(const struct brm_log_spec *s)
{
	struct brm_log_spec *d;

	if (!s)
		return NULL;
	d = brm_xmalloc(sizeof(*d));
	*d = *s;
	d->file = s->file ? brm_xstrdup(s->file) : NULL;
	d->error_patterns = s->error_patterns ? brm_strv_dup(s->error_patterns) : NULL;
	return d;
}

void brm_log_spec_destroy(struct brm_log_spec *s)
{
	if (!s)
		return;
	free(s->file);
	brm_strv_free(s->error_patterns);
	free(s);
}

static int int_in(const cJSON *v, long lo, long hi, int64_t *out, char **why)
{
	if (!brm_conf_int_in(v, lo, hi)) {
		*why = brm_xasprintf("expected an integer from %ld to %ld", lo, hi);
		return -EINVAL;
	}
	*out = (int64_t)v->valuedouble;
	return 0;
}

int brm_log_spec_set(struct brm_log_spec *s, const char *key, const cJSON *v, char **why)
{
	*why = NULL;
	if (!strcmp(key, "log_ring_bytes"))
		return int_in(v, 4096, 1 << 30, &s->ring_bytes, why);
	if (!strcmp(key, "log_line_max"))
		return int_in(v, 80, 1 << 20, &s->line_max, why);
	if (!strcmp(key, "log_max_bytes"))
		return int_in(v, 0, 1000000000000000L, &s->max_bytes, why);
	if (!strcmp(key, "log_keep"))
		return int_in(v, 0, 1000, &s->keep, why);
	if (!strcmp(key, "log_file")) {
		if (!cJSON_IsString(v)) {
			*why = brm_xasprintf("expected a file path (a string; \"\" for none)");
			return -EINVAL;
		}
		free(s->file);
		s->file = brm_xstrdup(v->valuestring);
		return 0;
	}
	if (!strcmp(key, "error_patterns")) {
		const cJSON *c;
		size_t n = 0;

		if (!cJSON_IsArray(v)) {
			*why = brm_xasprintf("expected an array of POSIX extended regexes");
			return -EINVAL;
		}
		cJSON_ArrayForEach(c, v) {
			char *msg = NULL;
			int r;

			if (!cJSON_IsString(c)) {
				*why = brm_xasprintf("element %zu: expected a string", n);
				return -EINVAL;
			}
			if ((r = brm_pattern_check(c->valuestring, &msg)) < 0) {
				*why = brm_xasprintf("element %zu: %s%s", n, r == -EINVAL ?
						     "not a valid extended regex: " : "", msg);
				free(msg);
				return -EINVAL;
			}
			n++;
		}
		brm_strv_free(s->error_patterns);
		s->error_patterns = brm_xcalloc(n + 1, sizeof(char *));
		n = 0;
		cJSON_ArrayForEach(c, v)
			s->error_patterns[n++] = brm_xstrdup(c->valuestring);
		return 0;
	}
	*why = brm_xasprintf("unknown log key");
	return -EINVAL;
}

static int64_t pick(int64_t proc, int64_t top, int64_t dflt)
{
	return proc >= 0 ? proc : top >= 0 ? top : dflt;
}

static char *expand_name(const char *tmpl, const char *name)
{
	struct brm_buf b = BRM_BUF_INIT;
	const char *p;

	while ((p = strstr(tmpl, "{name}"))) {
		brm_buf_add(&b, tmpl, (size_t)(p - tmpl));
		brm_buf_adds(&b, name);
		tmpl = p + 6;
	}
	brm_buf_adds(&b, tmpl);
	return brm_buf_detach(&b);
}

void brm_log_settings_resolve(struct brm_log_settings *out, const char *name,
			      const struct brm_log_spec *proc, const struct brm_log_spec *top)
{
	static const struct brm_log_spec none = { -1, -1, NULL, -1, -1, NULL };
	const char *file;
	char *const *pat;

	if (!proc)
		proc = &none;
	if (!top)
		top = &none;
	out->ring_bytes = (size_t)pick(proc->ring_bytes, top->ring_bytes, BRM_LOG_RING_DEFAULT);
	out->line_max = (size_t)pick(proc->line_max, top->line_max, BRM_LOG_LINE_DEFAULT);
	out->max_bytes = (uint64_t)pick(proc->max_bytes, top->max_bytes,
					BRM_LOG_MAX_BYTES_DEFAULT);
	out->keep = (unsigned)pick(proc->keep, top->keep, BRM_LOG_KEEP_DEFAULT);
	file = proc->file ? proc->file : top->file;
	out->file = file && *file ? expand_name(file, name) : NULL;
	pat = proc->error_patterns ? proc->error_patterns
	      : top->error_patterns ? top->error_patterns
	      : (char *const *)brm_default_error_patterns;
	out->error_patterns = brm_strv_dup(pat);
}

void brm_log_settings_finish(struct brm_log_settings *s)
{
	free(s->file);
	brm_strv_free(s->error_patterns);
	memset(s, 0, sizeof(*s));
}

bool brm_log_spec_equal(const struct brm_log_spec *a, const struct brm_log_spec *b)
{
	static const struct brm_log_spec unset = { -1, -1, NULL, -1, -1, NULL };

	if (!a)
		a = &unset;
	if (!b)
		b = &unset;
	return a->ring_bytes == b->ring_bytes && a->line_max == b->line_max &&
	       brm_streq(a->file, b->file) && a->max_bytes == b->max_bytes &&
	       a->keep == b->keep && brm_strv_equal(a->error_patterns, b->error_patterns);
}
