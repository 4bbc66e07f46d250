/*
 * config.c — parse and validate brummd's JSON config and process specs.
 *
 * A config is written by a person, so parsing does not stop at the first
 * problem: every problem goes into a struct report as one line naming its
 * key path, what was expected and what was found, and parsing carries on.
 * The result is thrown away at the end if anything was reported.
 *
 * Comments are blanked out in a private copy (replaced by spaces, newlines
 * kept) instead of being removed with cJSON_Minify: the stripped text then
 * has the same offsets as the file, so a syntax error can name its line and
 * column.
 *
 * cJSON keeps duplicate keys as separate children and its lookups return
 * the first; dup_flags() finds the later ones so that they are reported
 * instead of silently ignored.
 *
 * No global state (cJSON_GetErrorPtr() is not used): safe from any thread.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "daemon/config.h"
#include "daemon/instances.h"
#include "daemon/logspec.h"
#include "daemon/orchspec.h"
#include "daemon/placeholders.h"
#include "lib/buf.h"
#include "lib/util.h"
#include "proto/proto.h"

#define MAX_CONFIG_BYTES (4u << 20)
#define MAX_DURATION_SECS (365.0 * 24 * 3600)
#define MAX_SOCKET_PATH (sizeof(((struct sockaddr_un *)0)->sun_path) - 1)
#define MAX_SIGNAL 64
#define ENV_VAR_MAX (128u << 10)   /* the kernel's MAX_ARG_STRLEN, NUL included */
#define MAX_REPORTED 100   /* lines; a huge bad spec must not make a huge reply */
#define QUOTE_MAX 48       /* bytes of user text quoted in a message */
#define SUGGEST_KEY_MAX 32 /* longer keys are too far from any known key */

static const char *const top_keys[] = {
	"socket", "workers", "processes", "state_dir",
	"socket_mode", "socket_group", "access", "limits",
	BRM_LOG_KEYS, NULL
};

static const char *const spec_keys[] = {
	"cmd", "shell", "cwd", "env", "autostart", "type", "restart", "start_secs",
	"start_retries", "backoff_secs", "backoff_max_secs", "min_uptime_secs",
	"stop_signal",
	"stop_timeout_secs", "user", "group", "umask", "orphan", "port",
	"env_file", "rlimits", "nice", "oom_score_adj", BRM_LOG_KEYS,
	BRM_ORCH_KEYS, NULL
};

/* ---- reporting ---------------------------------------------------------- */

struct report {
	struct brm_buf buf;
	const char *source;   /* prefix of every line, or NULL */
	unsigned n;           /* problems found, also those not shown */
};

static void report(struct report *r, const char *path, const char *fmt, ...)
	BRM_PRINTF(3, 4);

static void report_prefix(struct report *r, const char *path)
{
	if (r->buf.len)
		brm_buf_addc(&r->buf, '\n');
	if (r->source)
		brm_buf_addf(&r->buf, "%s: ", r->source);
	if (path && *path)
		brm_buf_addf(&r->buf, "%s: ", path);
}

static void report(struct report *r, const char *path, const char *fmt, ...)
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
static char *report_finish(struct report *r)
{
	if (r->n > MAX_REPORTED) {
		report_prefix(r, NULL);
		brm_buf_addf(&r->buf, "%u more problems not shown",
			     r->n - MAX_REPORTED);
	}
	return brm_buf_detach(&r->buf);
}

struct quoted {
	char s[QUOTE_MAX * 4 + 8];
};

/* @s in double quotes, control bytes escaped, cut after QUOTE_MAX bytes. */
static const char *quote_n(struct quoted *q, const char *s, size_t max)
{
	size_t o = 0, i;

	if (max > QUOTE_MAX)
		max = QUOTE_MAX;
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

static const char *quote(struct quoted *q, const char *s)
{
	return quote_n(q, s, QUOTE_MAX);
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
static char *keypath(const char *base, const char *key)
{
	struct quoted q;
	const char *k = plain_key(key) ? key : quote(&q, key);

	if (!base || !*base)
		return brm_xstrdup(k);
	return brm_xasprintf("%s.%s", base, k);
}

static const char *type_name(const cJSON *v)
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

/* Line and column (from 1, in bytes) of offset @pos in @s. */
static void line_col(const char *s, size_t pos, unsigned *line, unsigned *col)
{
	size_t bol = 0;

	*line = 1;
	for (size_t i = 0; i < pos; i++) {
		if (s[i] == '\n') {
			(*line)++;
			bol = i + 1;
		}
	}
	*col = (unsigned)(pos - bol + 1);
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

static void unknown_key(struct report *r, const char *path, const char *key,
			const char *const *known)
{
	const char *s = suggest(key, known);
	struct brm_buf list = BRM_BUF_INIT;

	if (s) {
		report(r, path, "unknown key (did you mean \"%s\"?)", s);
		return;
	}
	for (; *known; known++)
		brm_buf_addf(&list, "%s\"%s\"", list.len ? ", " : "", *known);
	report(r, path, "unknown key (known keys: %s)", list.p);
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
static bool *dup_flags(const cJSON *obj)
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

/* ---- values ------------------------------------------------------------- */

static bool get_bool(struct report *r, const char *path, const cJSON *v, bool *out)
{
	if (!cJSON_IsBool(v)) {
		report(r, path, "expected true or false, got %s", type_name(v));
		return false;
	}
	*out = cJSON_IsTrue(v);
	return true;
}

/* A non-empty string; replaces *@out. */
static bool get_string(struct report *r, const char *path, const cJSON *v, char **out)
{
	if (!cJSON_IsString(v)) {
		report(r, path, "expected a non-empty string, got %s", type_name(v));
		return false;
	}
	if (!v->valuestring[0]) {
		report(r, path, "must not be empty");
		return false;
	}
	free(*out);
	*out = brm_xstrdup(v->valuestring);
	return true;
}

static bool is_int_in(const cJSON *v, long lo, long hi)
{
	double d = v->valuedouble;

	return cJSON_IsNumber(v) && d >= (double)lo && d <= (double)hi &&
	       d == (double)(long)d;
}

static bool get_int(struct report *r, const char *path, const cJSON *v,
		    long lo, long hi, long *out)
{
	if (!cJSON_IsNumber(v)) {
		report(r, path, "expected an integer from %ld to %ld, got %s",
		       lo, hi, type_name(v));
		return false;
	}
	if (!is_int_in(v, lo, hi)) {
		report(r, path, "expected an integer from %ld to %ld, got %g",
		       lo, hi, v->valuedouble);
		return false;
	}
	*out = (long)v->valuedouble;
	return true;
}

/*
 * A duration string: DIGITS[.DIGITS] or .DIGITS, then ms, s, m or h.
 * Returns NULL and *@secs, or what is wrong with it.
 */
static const char *duration_str(const char *s, double *secs)
{
	static const double pow10[] = { 1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9 };
	double mant = 0, v, unit;
	unsigned frac = 0;
	bool digits = false;
	const char *p = s;

	if (!*p)
		return "is empty";
	if (*p == '-')
		return "is negative";
	for (; isdigit((unsigned char)*p); p++, digits = true)
		mant = mant * 10 + (*p - '0');
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return "has no digits after the decimal point";
		for (; isdigit((unsigned char)*p); p++, digits = true) {
			if (frac < 9) {     /* nanoseconds are enough */
				mant = mant * 10 + (*p - '0');
				frac++;
			}
		}
	}
	if (!digits)
		return "does not start with a number";
	if (!strcmp(p, "ms"))
		unit = 0.001;
	else if (!strcmp(p, "s"))
		unit = 1;
	else if (!strcmp(p, "m"))
		unit = 60;
	else if (!strcmp(p, "h"))
		unit = 3600;
	else if (!*p)
		return "has no unit";
	else
		return "has an unknown unit";
	v = mant / pow10[frac] * unit;
	if (!(v <= MAX_DURATION_SECS))
		return "is longer than a year";
	*secs = v;
	return NULL;
}

static const char *duration_num(double d, double *secs)
{
	if (d != d)
		return "is not a number";
	if (d < 0)
		return "is negative";
	if (!(d <= MAX_DURATION_SECS))
		return "is longer than a year";
	*secs = d;
	return NULL;
}

#define DURATION_HINT "expected a number of seconds like 5 or 0.5, or a string like" \
	" \"250ms\", \"10s\", \"2m\" or \"1h\""

char *brm_duration_check(const cJSON *v, double min, double *secs)
{
	struct quoted q;
	const char *why;
	double d = 0;

	if (cJSON_IsNumber(v)) {
		why = duration_num(v->valuedouble, &d);
		if (why)
			return brm_xasprintf("duration %g %s; " DURATION_HINT, v->valuedouble, why);
	} else if (cJSON_IsString(v)) {
		why = duration_str(v->valuestring, &d);
		if (why)
			return brm_xasprintf("duration %s %s; " DURATION_HINT,
					     quote(&q, v->valuestring), why);
	} else {
		return brm_xasprintf(DURATION_HINT ", got %s", type_name(v));
	}
	if (d < min) {
		if (cJSON_IsNumber(v))
			return brm_xasprintf("duration %g is shorter than the minimum of %gs",
					     v->valuedouble, min);
		return brm_xasprintf("duration %s is shorter than the minimum of %gs",
				     quote(&q, v->valuestring), min);
	}
	*secs = d;
	return NULL;
}

static bool get_duration(struct report *r, const char *path, const cJSON *v, double *out)
{
	char *why = brm_duration_check(v, 0, out);

	if (why)
		report(r, path, "%s", why);
	free(why);
	return !why;
}

int brm_duration_parse(const char *s, double *secs)
{
	if (!s || duration_str(s, secs))
		return -EINVAL;
	return 0;
}

int brm_duration_parse_json(const cJSON *v, double *secs)
{
	if (cJSON_IsNumber(v))
		return duration_num(v->valuedouble, secs) ? -EINVAL : 0;
	if (cJSON_IsString(v))
		return brm_duration_parse(v->valuestring, secs);
	return -EINVAL;
}

static void get_restart(struct report *r, const char *path, const cJSON *v,
			enum brm_restart *out)
{
	static const enum brm_restart all[] = {
		BRM_RESTART_ALWAYS, BRM_RESTART_ON_FAILURE, BRM_RESTART_NEVER
	};
	struct quoted q;

	if (cJSON_IsString(v)) {
		for (size_t i = 0; i < BRM_ARRAY_SIZE(all); i++) {
			if (!strcmp(v->valuestring, brm_restart_name(all[i]))) {
				*out = all[i];
				return;
			}
		}
	}
	report(r, path, "expected one of \"always\", \"on-failure\", \"never\", got %s",
	       cJSON_IsString(v) ? quote(&q, v->valuestring) : type_name(v));
}

static void get_type(struct report *r, const char *path, const cJSON *v,
		     enum brm_proc_type *out)
{
	struct quoted q;

	if (cJSON_IsString(v) && !strcmp(v->valuestring, "simple"))
		*out = BRM_TYPE_SIMPLE;
	else if (cJSON_IsString(v) && !strcmp(v->valuestring, "oneshot"))
		*out = BRM_TYPE_ONESHOT;
	else
		report(r, path, "expected \"simple\" or \"oneshot\", got %s",
		       cJSON_IsString(v) ? quote(&q, v->valuestring) : type_name(v));
}

/*
 * A one-shot's restart policy: "never" unless set; "always" would run a
 * finished job again and again, so it is refused.
 */
static void check_oneshot_restart(struct report *r, const char *base,
				  struct brm_proc_spec *s, bool restart_set)
{
	char *p;

	if (s->type != BRM_TYPE_ONESHOT)
		return;
	if (!restart_set) {
		s->restart = BRM_RESTART_NEVER;
		return;
	}
	if (s->restart != BRM_RESTART_ALWAYS)
		return;
	p = keypath(base, "restart");
	report(r, p, "\"always\" does not go with \"type\": \"oneshot\" (a one-shot runs to"
	       " completion); use \"on-failure\" to retry a failed run, or \"never\"");
	free(p);
}

static void get_signal(struct report *r, const char *path, const cJSON *v, int *out)
{
	struct quoted q;
	int sig;

	if (cJSON_IsString(v)) {
		sig = brm_signal_parse(v->valuestring);
		if (sig < 0)
			report(r, path, "unknown signal %s; use a name like \"TERM\" or \"SIGTERM\", or a number from 1 to %d",
			       quote(&q, v->valuestring), MAX_SIGNAL);
		else
			*out = sig;
	} else if (cJSON_IsNumber(v)) {
		if (is_int_in(v, 1, MAX_SIGNAL))
			*out = (int)v->valuedouble;
		else
			report(r, path, "expected a signal number from 1 to %d, got %g",
			       MAX_SIGNAL, v->valuedouble);
	} else {
		report(r, path, "expected a signal name like \"TERM\" or a number, got %s",
		       type_name(v));
	}
}

/* An octal string ("022", "0022") or a number taken as it is (18 == 022). */
static void get_umask(struct report *r, const char *path, const cJSON *v, int *out)
{
	struct quoted q;

	if (cJSON_IsString(v)) {
		const char *s = v->valuestring;
		size_t n = strspn(s, "01234567");
		long m;

		if (n == 0 || s[n] || n > 4 || (m = strtol(s, NULL, 8)) > 0777)
			report(r, path, "expected an octal string from \"000\" to \"0777\", like \"022\", got %s",
			       quote(&q, s));
		else
			*out = (int)m;
	} else if (cJSON_IsNumber(v)) {
		if (is_int_in(v, 0, 0777))
			*out = (int)v->valuedouble;
		else
			report(r, path, "expected an integer from 0 to 511 or an octal string like \"022\", got %g",
			       v->valuedouble);
	} else {
		report(r, path, "expected an octal string like \"022\", got %s", type_name(v));
	}
}

/* One of the log keys (logspec.c checks and reports its value). */
static void log_key(struct report *r, const char *path, const char *k, const cJSON *v,
		    struct brm_log_spec **ls)
{
	char *why = NULL;

	if (!*ls)
		*ls = brm_log_spec_new();
	if (brm_log_spec_set(*ls, k, v, &why) < 0) {
		report(r, path, "%s", why);
		free(why);
	}
}

/* One of the orchestration keys (orchspec.c checks and reports its value). */
static void orch_key(struct report *r, const char *path, const char *k, const cJSON *v,
		     struct brm_orch_spec **os)
{
	char *why = NULL;

	if (!*os)
		*os = brm_orch_spec_new();
	if (brm_orch_spec_set(*os, k, v, &why) < 0) {
		/* one line each: every problem counts and shows */
		for (char *line = why, *nl; line; line = nl) {
			nl = strchr(line, '\n');
			if (nl)
				*nl++ = '\0';
			report(r, path, "%s", line);
		}
		free(why);
	}
}

/* "env_file": an absolute path, "-" first for an optional file, or a list of them. */
static void get_env_file(struct report *r, const char *path, const cJSON *v, char ***out)
{
	const cJSON *c;
	size_t n = 0, i = 0;
	struct quoted q;

	if (cJSON_IsString(v)) {
		n = 1;
	} else if (cJSON_IsArray(v)) {
		cJSON_ArrayForEach(c, v)
			n++;
	} else {
		report(r, path, "expected a path or an array of paths, got %s", type_name(v));
		return;
	}
	if (n > BRM_MAX_ENV_FILES) {
		report(r, path, "%zu files, more than the limit of %d", n, BRM_MAX_ENV_FILES);
		return;
	}
	brm_strv_free(*out);
	*out = brm_xcalloc(n + 1, sizeof(char *));
	n = 0;
	for (c = cJSON_IsString(v) ? v : v->child; c; c = cJSON_IsString(v) ? NULL : c->next, i++) {
		const char *f = cJSON_IsString(c) ? c->valuestring : NULL;
		const char *abs = f && f[0] == '-' ? f + 1 : f;
		char *p = cJSON_IsString(v) ? brm_xstrdup(path) : brm_xasprintf("%s[%zu]", path, i);

		if (!f)
			report(r, p, "expected a path, got %s", type_name(c));
		else if (abs[0] != '/')
			report(r, p, "expected an absolute path (\"-\" first for an optional file),"
			       " got %s", quote(&q, f));
		else if (strlen(abs) >= 4096)
			report(r, p, "longer than 4095 bytes");
		else
			(*out)[n++] = brm_xstrdup(f);
		free(p);
	}
	if (!n) {
		free(*out);
		*out = NULL;
	}
}

static const char *const rlimit_keys[] = { "nofile", "nproc", "core", "memlock", NULL };

const char *brm_rlimit_name(enum brm_rlimit_res res)
{
	return (unsigned)res < BRM_RLIMIT_COUNT ? rlimit_keys[res] : "unknown";
}

int brm_rlimit_resource(enum brm_rlimit_res res)
{
	static const int rs[] = { RLIMIT_NOFILE, RLIMIT_NPROC, RLIMIT_CORE, RLIMIT_MEMLOCK };

	return (unsigned)res < BRM_RLIMIT_COUNT ? rs[res] : -1;
}

/*
 * One limit as written in a string: "infinity", a number, and for sizes
 * (@bytes) a K, M, G or T suffix (powers of 1024, as systemd takes them).
 */
static bool rlimit_word(const char *s, size_t len, bool bytes, uint64_t *out)
{
	static const char units[] = "KMGT";
	uint64_t v = 0, mul = 1;
	size_t i = 0;

	if (len == 8 && !memcmp(s, "infinity", 8)) {
		*out = BRM_RLIM_INFINITY;
		return true;
	}
	if (bytes && len > 1) {
		const char *u = memchr(units, s[len - 1], 4);

		if (u && s[len - 1]) {
			for (long k = 0; k <= u - units; k++)
				mul *= 1024;
			len--;
		}
	}
	if (!len)
		return false;
	for (; i < len; i++) {
		if (!isdigit((unsigned char)s[i]) || v > (UINT64_MAX / 10 - 9))
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > (UINT64_MAX - 1) / mul)
		return false;
	*out = v * mul;
	return true;
}

/* A number, "infinity", or "SOFT:HARD" (each a number or "infinity"). */
static void get_rlimit(struct report *r, const char *path, const cJSON *v, bool bytes,
		       struct brm_rlimit_spec *out)
{
	struct quoted q;
	uint64_t soft, hard;

	if (cJSON_IsNumber(v)) {
		if (!is_int_in(v, 0, 1L << 53)) {
			report(r, path, "expected a non-negative integer, \"infinity\" or"
			       " \"SOFT:HARD\", got %g", v->valuedouble);
			return;
		}
		soft = hard = (uint64_t)v->valuedouble;
	} else if (cJSON_IsString(v)) {
		const char *s = v->valuestring, *colon = strchr(s, ':');
		bool ok;

		if (colon)
			ok = rlimit_word(s, (size_t)(colon - s), bytes, &soft) &&
			     rlimit_word(colon + 1, strlen(colon + 1), bytes, &hard);
		else
			ok = rlimit_word(s, strlen(s), bytes, &soft) && (hard = soft, true);
		if (!ok) {
			report(r, path, "expected a number%s, \"infinity\" or \"SOFT:HARD\","
			       " got %s", bytes ? " (K, M, G or T for sizes)" : "",
			       quote(&q, s));
			return;
		}
		if (soft > hard) {
			report(r, path, "the soft limit is above the hard limit in %s",
			       quote(&q, s));
			return;
		}
	} else {
		report(r, path, "expected a number, \"infinity\" or \"SOFT:HARD\", got %s",
		       type_name(v));
		return;
	}
	out->set = true;
	out->soft = soft;
	out->hard = hard;
}

static void parse_rlimits(struct report *r, const char *path, const cJSON *v,
			  struct brm_proc_spec *s)
{
	const cJSON *c;
	bool *dup;
	size_t i = 0;

	if (!cJSON_IsObject(v)) {
		report(r, path, "expected an object of limits (\"nofile\", \"nproc\", \"core\","
		       " \"memlock\"), got %s", type_name(v));
		return;
	}
	dup = dup_flags(v);
	cJSON_ArrayForEach(c, v) {
		char *p = keypath(path, c->string);
		int k;

		for (k = 0; k < BRM_RLIMIT_COUNT; k++)
			if (!strcmp(c->string, rlimit_keys[k]))
				break;
		if (dup[i++])
			report(r, p, "duplicate key");
		else if (k == BRM_RLIMIT_COUNT)
			unknown_key(r, p, c->string, rlimit_keys);
		else
			get_rlimit(r, p, c, k == BRM_RLIMIT_CORE || k == BRM_RLIMIT_MEMLOCK,
				   &s->rlimits[k]);
		free(p);
	}
	free(dup);
}

/* ---- a process spec ----------------------------------------------------- */

static void parse_cmd(struct report *r, const char *base, const cJSON *v,
		      struct brm_proc_spec *s)
{
	char *path = keypath(base, "cmd");
	const cJSON *c;
	size_t n = 0, i = 0;

	if (cJSON_IsString(v)) {
		if (!s->shell) {
			report(r, path, "a string needs \"shell\": true; use an array of arguments");
		} else if (!v->valuestring[0]) {
			report(r, path, "must not be empty");
		} else {
			s->argv = brm_xcalloc(4, sizeof(*s->argv));
			s->argv[0] = brm_xstrdup("/bin/sh");
			s->argv[1] = brm_xstrdup("-c");
			s->argv[2] = brm_xstrdup(v->valuestring);
		}
		goto out_free_path;
	}
	if (!cJSON_IsArray(v)) {
		report(r, path, "expected an array of strings, got %s", type_name(v));
		goto out_free_path;
	}
	if (s->shell) {
		report(r, path, "with \"shell\": true, expected a string, got an array");
		goto out_free_path;
	}
	cJSON_ArrayForEach(c, v)
		n++;
	if (!n) {
		report(r, path, "must not be empty; give at least the program to run");
		goto out_free_path;
	}
	s->argv = brm_xcalloc(n + 1, sizeof(*s->argv));
	n = 0;
	cJSON_ArrayForEach(c, v) {
		if (!cJSON_IsString(c))
			report(r, path, "element %zu: expected a string, got %s", i, type_name(c));
		else if (i == 0 && !c->valuestring[0])
			report(r, path, "element 0: the program must not be empty");
		else
			s->argv[n++] = brm_xstrdup(c->valuestring);
		i++;
	}
out_free_path:
	free(path);
}

static void parse_env(struct report *r, const char *base, const cJSON *v,
		      struct brm_proc_spec *s)
{
	char *path = keypath(base, "env");
	const cJSON *c;
	bool *dup;
	size_t n = 0, i = 0, bytes = 0;

	if (!cJSON_IsObject(v)) {
		report(r, path, "expected an object of strings, got %s", type_name(v));
		goto out_free_path;
	}
	cJSON_ArrayForEach(c, v) {
		n++;
		bytes += strlen(c->string ? c->string : "") + 2 +
			 (cJSON_IsString(c) ? strlen(c->valuestring) : 0);
	}
	if (n > BRM_MAX_ENV_ENTRIES || bytes > BRM_MAX_ENV_BYTES) {
		report(r, path, "%zu variables of %zu bytes, more than the limit of %d variables"
		       " (max_env_entries) or %u bytes (max_env_bytes)", n, bytes,
		       BRM_MAX_ENV_ENTRIES, BRM_MAX_ENV_BYTES);
		goto out_free_path;
	}
	dup = dup_flags(v);
	s->env = brm_xcalloc(n + 1, sizeof(*s->env));
	n = 0;
	cJSON_ArrayForEach(c, v) {
		char *p = keypath(path, c->string);

		if (dup[i++])
			report(r, p, "duplicate key");
		else if (!c->string[0])
			report(r, p, "variable name must not be empty");
		else if (strchr(c->string, '='))
			report(r, p, "variable name must not contain '='");
		else if (!cJSON_IsString(c))
			report(r, p, "expected a string, got %s", type_name(c));
		else if (strlen(c->string) + 1 + strlen(c->valuestring) >= ENV_VAR_MAX)
			report(r, p, "KEY=VALUE is longer than %u bytes, more than exec takes",
			       ENV_VAR_MAX - 1);
		else
			s->env[n++] = brm_xasprintf("%s=%s", c->string, c->valuestring);
		free(p);
	}
	free(dup);
	if (!n) {
		free(s->env);
		s->env = NULL;
	}
out_free_path:
	free(path);
}

/* "orphan": "kill" (default) or "keep": what happens if brummd dies. */
static void get_orphan(struct report *r, const char *path, const cJSON *v, bool *keep)
{
	if (cJSON_IsString(v) && !strcmp(v->valuestring, "kill"))
		*keep = false;
	else if (cJSON_IsString(v) && !strcmp(v->valuestring, "keep"))
		*keep = true;
	else
		report(r, path, "expected \"kill\" or \"keep\", got %s", type_name(v));
}

struct placeholder_report {
	struct report *r;
	const char *base;
};

static void report_placeholder(void *ctx, const char *key, const char *msg)
{
	struct placeholder_report *pr = ctx;
	char *p = brm_xasprintf("%s%s%s", pr->base, *pr->base ? "." : "", key);

	report(pr->r, p, "%s", msg);
	free(p);
}

/* PORT=@port in @s's environment, unless "env" sets PORT itself. */
static void set_port_env(struct brm_proc_spec *s, long port)
{
	size_t n = brm_strv_len(s->env);

	for (size_t k = 0; k < n; k++)
		if (!strncmp(s->env[k], "PORT=", 5))
			return;
	s->env = brm_xrealloc(s->env, (n + 2) * sizeof(*s->env));
	s->env[n] = brm_xasprintf("PORT=%ld", port);
	s->env[n + 1] = NULL;
}

/*
 * "port": the first port of the process (or of its instances). Returns it,
 * or 0 when unset or reported as wrong.
 */
static long get_port(struct report *r, const char *base, const cJSON *obj)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, "port");
	char *p;
	long port = 0;

	if (!v)
		return 0;
	p = keypath(base, "port");
	if (!get_int(r, p, v, 1, 65535, &port))
		port = 0;
	free(p);
	return port;
}

/*
 * The spec in @obj, or NULL after reporting why it is not an object.
 * @instance is the instance number, or -1 for a process without
 * "instances"; it sets {instance} and adds itself to {port}.
 * A spec is returned even when problems were reported: the caller compares
 * r->n before and after.
 */
static struct brm_proc_spec *parse_spec(struct report *r, const cJSON *orig,
					const char *name, const char *base, long instance)
{
	struct brm_placeholders ph = { name, instance, 0, 0 };
	struct placeholder_report pr = { r, base };
	struct brm_proc_spec *s;
	const cJSON *c, *cmd = NULL;
	cJSON *obj;
	bool *dup, max_set = false, restart_set = false;
	size_t i = 0;
	long l;

	if (!cJSON_IsObject(orig)) {
		report(r, base, "expected an object, got %s", type_name(orig));
		return NULL;
	}
	s = brm_spec_new(name);
	s->port = get_port(r, base, orig);
	if (s->port && instance > 0)
		s->port += instance;
	if (s->port > 65535) {
		char *p = keypath(base, "port");

		report(r, p, "instance %ld would get port %ld, above 65535", instance, s->port);
		free(p);
		s->port = 0;
	}
	ph.port = s->port;
	/* Placeholders are filled in on a copy, before anything is parsed. */
	obj = cJSON_Duplicate(orig, 1);
	if (!obj)
		brm_oom(0);
	brm_placeholders_apply(obj, &ph, report_placeholder, &pr);
	dup = dup_flags(obj);
	cJSON_ArrayForEach(c, obj) {
		const char *k = c->string;
		char *p = keypath(base, k);

		if (dup[i++])
			report(r, p, "duplicate key");
		else if (!strcmp(k, "cmd"))
			cmd = c;    /* after the loop: it depends on "shell" */
		else if (!strcmp(k, "shell"))
			get_bool(r, p, c, &s->shell);
		else if (!strcmp(k, "cwd"))
			get_string(r, p, c, &s->cwd);
		else if (!strcmp(k, "env"))
			parse_env(r, base, c, s);
		else if (!strcmp(k, "autostart"))
			get_bool(r, p, c, &s->autostart);
		else if (!strcmp(k, "type"))
			get_type(r, p, c, &s->type);
		else if (!strcmp(k, "restart")) {
			get_restart(r, p, c, &s->restart);
			restart_set = true;
		}
		else if (!strcmp(k, "start_secs"))
			get_duration(r, p, c, &s->start_secs);
		else if (!strcmp(k, "start_retries")) {
			if (get_int(r, p, c, 0, 1000, &l))
				s->start_retries = (unsigned)l;
		} else if (!strcmp(k, "backoff_secs"))
			get_duration(r, p, c, &s->backoff_secs);
		else if (!strcmp(k, "backoff_max_secs"))
			max_set = get_duration(r, p, c, &s->backoff_max_secs);
		else if (!strcmp(k, "min_uptime_secs"))
			get_duration(r, p, c, &s->min_uptime_secs);
		else if (!strcmp(k, "stop_signal"))
			get_signal(r, p, c, &s->stop_signal);
		else if (!strcmp(k, "stop_timeout_secs"))
			get_duration(r, p, c, &s->stop_timeout_secs);
		else if (!strcmp(k, "user"))
			get_string(r, p, c, &s->user);
		else if (!strcmp(k, "group"))
			get_string(r, p, c, &s->group);
		else if (!strcmp(k, "umask"))
			get_umask(r, p, c, &s->umask);
		else if (brm_log_spec_key(k))
			log_key(r, p, k, c, &s->log);
		else if (!strcmp(k, "orphan"))
			get_orphan(r, p, c, &s->orphan_keep);
		else if (!strcmp(k, "port"))
			;   /* get_port(), before the placeholders */
		else if (!strcmp(k, "env_file"))
			get_env_file(r, p, c, &s->env_file);
		else if (!strcmp(k, "rlimits"))
			parse_rlimits(r, p, c, s);
		else if (!strcmp(k, "nice")) {
			if (get_int(r, p, c, -20, 19, &l)) {
				s->nice_set = true;
				s->nice = (int)l;
			}
		} else if (!strcmp(k, "oom_score_adj")) {
			if (get_int(r, p, c, -1000, 1000, &l)) {
				s->oom_score_adj_set = true;
				s->oom_score_adj = (int)l;
			}
		} else if (brm_orch_key(k))
			orch_key(r, p, k, c, &s->orch);
		else
			unknown_key(r, p, k, spec_keys);
		free(p);
	}
	free(dup);

	if (s->orch) {
		char *why = NULL;

		if (brm_orch_spec_finish(s->orch, &why) < 0) {
			report(r, base, "%s", why);
			free(why);
		}
	}
	if (cmd)
		parse_cmd(r, base, cmd, s);
	else
		report(r, base, "missing \"cmd\"");
	check_oneshot_restart(r, base, s, restart_set);
	cJSON_Delete(obj);
	if (s->port)
		set_port_env(s, s->port);

	/* An unset maximum follows a first delay raised above it. */
	if (s->backoff_max_secs < s->backoff_secs) {
		if (max_set) {
			char *p = keypath(base, "backoff_max_secs");

			report(r, p, "must be at least backoff_secs (%g), got %g",
			       s->backoff_secs, s->backoff_max_secs);
			free(p);
		} else {
			s->backoff_max_secs = s->backoff_secs;
		}
	}
	return s;
}

const char *brm_restart_name(enum brm_restart r)
{
	switch (r) {
	case BRM_RESTART_ON_FAILURE:
		return "on-failure";
	case BRM_RESTART_ALWAYS:
		return "always";
	case BRM_RESTART_NEVER:
		return "never";
	}
	return "unknown";
}

const char *brm_proc_type_name(enum brm_proc_type t)
{
	return t == BRM_TYPE_ONESHOT ? "oneshot" : "simple";
}

struct brm_proc_spec *brm_spec_new(const char *name)
{
	struct brm_proc_spec *s = brm_xcalloc(1, sizeof(*s));

	s->name = brm_xstrdup(name ? name : "");
	s->autostart = true;
	s->restart = BRM_RESTART_ON_FAILURE;
	s->start_secs = 1;
	s->start_retries = 3;
	s->backoff_secs = 0.1;
	s->backoff_max_secs = 30;
	s->min_uptime_secs = 10;
	s->stop_signal = SIGTERM;
	s->stop_timeout_secs = 10;
	s->umask = -1;
	return s;
}

static char *xstrdup_or_null(const char *s)
{
	return s ? brm_xstrdup(s) : NULL;
}

struct brm_proc_spec *brm_spec_dup(const struct brm_proc_spec *s)
{
	struct brm_proc_spec *d = brm_xmalloc(sizeof(*d));

	*d = *s;
	d->name = brm_xstrdup(s->name);
	d->argv = brm_strv_dup(s->argv);
	d->cwd = xstrdup_or_null(s->cwd);
	d->env = brm_strv_dup(s->env);
	d->user = xstrdup_or_null(s->user);
	d->group = xstrdup_or_null(s->group);
	d->log = brm_log_spec_dup(s->log);
	d->orch = brm_orch_spec_dup(s->orch);
	d->env_file = brm_strv_dup(s->env_file);
	return d;
}

void brm_spec_destroy(struct brm_proc_spec *s)
{
	if (!s)
		return;
	free(s->name);
	brm_strv_free(s->argv);
	free(s->cwd);
	brm_strv_free(s->env);
	free(s->user);
	free(s->group);
	brm_log_spec_destroy(s->log);
	brm_orch_spec_destroy(s->orch);
	brm_strv_free(s->env_file);
	free(s);
}

struct brm_proc_spec *brm_spec_parse(const cJSON *obj, const char *name,
				     const char *path, char **err)
{
	struct report r = { BRM_BUF_INIT, NULL, 0 };
	struct brm_proc_spec *s;
	struct quoted q;

	*err = NULL;
	if (!path)
		path = "";
	if (!brm_name_valid(name))
		report(&r, path, "invalid process name %s: use 1 to %d letters, digits or '.', '_', ':', '@', '-', not starting with '.' or '-'",
		       quote(&q, name ? name : ""), BRM_MAX_NAME_LEN);
	s = parse_spec(&r, obj, name, path, -1);
	if (r.n) {
		brm_spec_destroy(s);
		*err = report_finish(&r);
		return NULL;
	}
	brm_buf_finish(&r.buf);
	return s;
}

/* ---- the whole config --------------------------------------------------- */

/*
 * Blank out // and block comments in place, newlines kept, so that offsets
 * still match the original text. Reports an unterminated block comment.
 */
static bool strip_comments(struct report *r, char *s, size_t len)
{
	size_t i = 0, start;
	unsigned line, col;

	while (i < len) {
		if (s[i] == '"') {
			for (i++; i < len && s[i] != '"'; i++)
				if (s[i] == '\\')
					i++;
			i++;
		} else if (s[i] == '/' && i + 1 < len && s[i + 1] == '/') {
			while (i < len && s[i] != '\n')
				s[i++] = ' ';
		} else if (s[i] == '/' && i + 1 < len && s[i + 1] == '*') {
			start = i;
			s[i++] = ' ';
			s[i++] = ' ';
			while (i < len && !(s[i] == '*' && i + 1 < len && s[i + 1] == '/')) {
				if (s[i] != '\n')
					s[i] = ' ';
				i++;
			}
			if (i >= len) {
				line_col(s, start, &line, &col);
				report(r, NULL, "unterminated comment starting at line %u, column %u",
				       line, col);
				return false;
			}
			s[i++] = ' ';
			s[i++] = ' ';
		} else {
			i++;
		}
	}
	return true;
}

static const char *skip_space(const char *p)
{
	while (*p && (unsigned char)*p <= ' ')
		p++;
	return p;
}

/* Parse the NUL-terminated @s (@len bytes before the NUL), or report where it fails. */
static cJSON *parse_json(struct report *r, const char *s, size_t len)
{
	const char *end = NULL;
	struct quoted q;
	unsigned line, col;
	cJSON *root;

	if (!*skip_space(s)) {
		report(r, NULL, "empty, expected a JSON object");
		return NULL;
	}
	root = cJSON_ParseWithLengthOpts(s, len + 1, &end, 0);
	if (!root) {
		size_t pos = end && end >= s && end <= s + len ? (size_t)(end - s) : 0;

		line_col(s, pos, &line, &col);
		if (!s[pos])
			report(r, NULL, "not valid JSON at line %u, column %u: unexpected end of the text",
			       line, col);
		else
			report(r, NULL, "not valid JSON at line %u, column %u, near %s",
			       line, col, quote_n(&q, s + pos, 20));
		return NULL;
	}
	end = skip_space(end);
	if (*end) {
		line_col(s, (size_t)(end - s), &line, &col);
		report(r, NULL, "unexpected text after the JSON object at line %u, column %u, near %s",
		       line, col, quote_n(&q, end, 20));
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

static int spec_cmp(const void *a, const void *b)
{
	const struct brm_proc_spec *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

/*
 * processes.NAME with "instances": N (daemon/instances.h): N specs named
 * NAME:0 .. NAME:N-1 from the same object, each with BRUMMD_INSTANCE set.
 * Problems of the spec are reported once, under processes.NAME.
 */
static void parse_instances(struct report *r, const cJSON *c, const char *p,
			    struct brm_config *cfg, size_t *cap)
{
	const cJSON *inst = cJSON_GetObjectItemCaseSensitive(c, "instances");
	char *ip = keypath(p, "instances"), name[BRM_MAX_NAME_LEN + 1];
	struct report quiet_port = { BRM_BUF_INIT, NULL, 0 };  /* parse_spec reports it */
	cJSON *copy;
	long n, port;

	copy = cJSON_Duplicate(c, 1);
	if (!copy)
		brm_oom(0);
	cJSON_DeleteItemFromObjectCaseSensitive(copy, "instances");
	if (!get_int(r, ip, inst, 1, BRM_MAX_INSTANCES, &n))
		goto out_check_spec;
	if (!brm_instance_name(name, sizeof(name), c->string, (unsigned)n - 1)) {
		report(r, ip, "the instance names (\"%s:%ld\") would be longer than %d bytes",
		       c->string, n - 1, BRM_MAX_NAME_LEN);
		goto out_check_spec;
	}
	port = get_port(&quiet_port, p, copy);
	brm_buf_finish(&quiet_port.buf);
	if (port && port + n - 1 > 65535) {
		char *pp = keypath(p, "port");

		report(r, pp, "%ld instances from port %ld would go up to %ld, above 65535",
		       n, port, port + n - 1);
		free(pp);
		goto out_check_spec;
	}
	if (cfg->nprocs + (size_t)n > *cap) {
		*cap = cfg->nprocs + (size_t)n + 16;
		cfg->procs = brm_xrealloc(cfg->procs, *cap * sizeof(*cfg->procs));
	}
	for (long i = 0; i < n; i++) {
		struct report quiet = { BRM_BUF_INIT, NULL, 0 };
		struct brm_proc_spec *s;

		brm_instance_name(name, sizeof(name), c->string, (unsigned)i);
		s = parse_spec(i ? &quiet : r, copy, name, p, i);
		brm_buf_finish(&quiet.buf);
		if (!s)
			break;
		brm_instance_env(s, (unsigned)i);
		cfg->procs[cfg->nprocs++] = s;
	}
	cJSON_Delete(copy);
	free(ip);
	return;

out_check_spec:
	/* The count is wrong, but every other problem of the spec shows now too. */
	brm_spec_destroy(parse_spec(r, copy, c->string, p, 0));
	cJSON_Delete(copy);
	free(ip);
}

static void parse_processes(struct report *r, const cJSON *v, struct brm_config *cfg)
{
	const cJSON *c;
	bool *dup;
	size_t n = 0, i = 0;

	if (!cJSON_IsObject(v)) {
		report(r, "processes", "expected an object of process specs by name, got %s",
		       type_name(v));
		return;
	}
	cJSON_ArrayForEach(c, v)
		n++;
	cfg->procs = brm_xcalloc(n ? n : 1, sizeof(*cfg->procs));
	dup = dup_flags(v);
	cJSON_ArrayForEach(c, v) {
		char *p = keypath("processes", c->string);
		struct brm_proc_spec *s;

		if (dup[i++]) {
			report(r, p, "duplicate process name");
		} else if (!brm_name_valid(c->string)) {
			report(r, p, "invalid process name: use 1 to %d letters, digits or '.', '_', ':', '@', '-', not starting with '.' or '-'",
			       BRM_MAX_NAME_LEN);
			brm_spec_destroy(parse_spec(r, c, c->string, p, -1));
		} else if (cJSON_IsObject(c) && cJSON_GetObjectItemCaseSensitive(c, "instances")) {
			parse_instances(r, c, p, cfg, &n);
		} else {
			s = parse_spec(r, c, c->string, p, -1);
			if (s) {
				if (cfg->nprocs == n) {
					n = n * 2 + 16;
					cfg->procs = brm_xrealloc(cfg->procs, n * sizeof(*cfg->procs));
				}
				cfg->procs[cfg->nprocs++] = s;
			}
		}
		free(p);
	}
	free(dup);
	qsort(cfg->procs, cfg->nprocs, sizeof(*cfg->procs), spec_cmp);
	/* An instance's name may also be given on its own ("web:0" beside "web"). */
	for (i = 1; i < cfg->nprocs; i++) {
		if (strcmp(cfg->procs[i - 1]->name, cfg->procs[i]->name))
			continue;
		{
			char *p = keypath("processes", cfg->procs[i]->name);
			report(r, p, "defined twice: on its own and as an instance (\"instances\")");
			free(p);
		}
	}
}

/* ---- access and limits -------------------------------------------------- */

static const char *const access_keys[] = { "users", "groups", "readers", NULL };
static const char *const reader_keys[] = { "users", "groups", NULL };
static const char *const limit_keys[] = {
	"max_message_bytes", "max_json_depth", "max_clients", "max_clients_per_uid",
	"max_queued_bytes", "idle_timeout_secs", "max_processes", "max_name_len", NULL
};

/* An array of user or group names, or ids (stored as decimal strings). */
static void parse_idlist(struct report *r, const char *path, const cJSON *v, char ***out)
{
	const cJSON *c;
	size_t n = 0, i = 0;

	if (!cJSON_IsArray(v)) {
		report(r, path, "expected an array of names or ids, got %s", type_name(v));
		return;
	}
	brm_strv_free(*out);
	cJSON_ArrayForEach(c, v)
		n++;
	*out = brm_xcalloc(n + 1, sizeof(char *));
	cJSON_ArrayForEach(c, v) {
		char *p = brm_xasprintf("%s[%zu]", path, i);
		if (cJSON_IsString(c) && c->valuestring[0] && strlen(c->valuestring) < 256)
			(*out)[i++] = brm_xstrdup(c->valuestring);
		else if (is_int_in(c, 0, 0xfffffffeL))
			(*out)[i++] = brm_xasprintf("%ld", (long)c->valuedouble);
		else
			report(r, p, "expected a user or group name or a non-negative id, got %s",
			       type_name(c));
		free(p);
	}
}

static void parse_object_keys(struct report *r, const char *base, const cJSON *v,
			      const char *const *known, struct brm_config *cfg,
			      void (*one)(struct report *, const char *, const char *,
					  const cJSON *, struct brm_config *))
{
	const cJSON *c;
	bool *dup;
	size_t i = 0;

	if (!cJSON_IsObject(v)) {
		report(r, base, "expected an object, got %s", type_name(v));
		return;
	}
	dup = dup_flags(v);
	cJSON_ArrayForEach(c, v) {
		char *p = keypath(base, c->string);
		bool found = false;
		for (size_t j = 0; known[j]; j++)
			found |= !strcmp(c->string, known[j]);
		if (dup[i++])
			report(r, p, "duplicate key");
		else if (!found)
			unknown_key(r, p, c->string, known);
		else
			one(r, p, c->string, c, cfg);
		free(p);
	}
	free(dup);
}

static void reader_one(struct report *r, const char *p, const char *k, const cJSON *c,
		       struct brm_config *cfg)
{
	parse_idlist(r, p, c, !strcmp(k, "users") ? &cfg->access.reader_users
						  : &cfg->access.reader_groups);
}

static void access_one(struct report *r, const char *p, const char *k, const cJSON *c,
		       struct brm_config *cfg)
{
	if (!strcmp(k, "readers"))
		parse_object_keys(r, p, c, reader_keys, cfg, reader_one);
	else
		parse_idlist(r, p, c, !strcmp(k, "users") ? &cfg->access.users
							  : &cfg->access.groups);
}

static void limit_one(struct report *r, const char *p, const char *k, const cJSON *c,
		      struct brm_config *cfg)
{
	struct brm_limits *l = &cfg->limits;
	long v;
	double d;

	if (!strcmp(k, "max_message_bytes")) {
		if (get_int(r, p, c, BRM_LIMIT_MESSAGE_MIN, BRM_LIMIT_MESSAGE_MAX, &v))
			l->max_message_bytes = (size_t)v;
	} else if (!strcmp(k, "max_json_depth")) {
		if (get_int(r, p, c, 2, BRM_LIMIT_DEPTH_MAX, &v))
			l->max_json_depth = (int)v;
	} else if (!strcmp(k, "max_clients")) {
		if (get_int(r, p, c, 1, BRM_LIMIT_CLIENTS_MAX, &v))
			l->max_clients = (int)v;
	} else if (!strcmp(k, "max_clients_per_uid")) {
		if (get_int(r, p, c, 1, BRM_LIMIT_CLIENTS_MAX, &v))
			l->max_clients_per_uid = (int)v;
	} else if (!strcmp(k, "max_queued_bytes")) {
		if (get_int(r, p, c, BRM_LIMIT_QUEUED_MIN, BRM_LIMIT_QUEUED_MAX, &v))
			l->max_queued_bytes = (size_t)v;
	} else if (!strcmp(k, "idle_timeout_secs")) {
		if (get_duration(r, p, c, &d))
			l->idle_timeout_secs = d;
	} else if (!strcmp(k, "max_processes")) {
		if (get_int(r, p, c, 1, BRM_LIMIT_PROCESSES_MAX, &v))
			l->max_processes = (int)v;
	} else {
		if (get_int(r, p, c, 1, BRM_MAX_NAME_LEN, &v))
			l->max_name_len = (int)v;
	}
}

/* The hardening keys of the top level; false for any other key. */
static bool parse_harden_key(struct report *r, const char *p, const char *k, const cJSON *c,
			     struct brm_config *cfg)
{
	long v;

	if (!strcmp(k, "socket_mode")) {
		/* "0660" (octal, as chmod takes it) or a number (decimal 432 = 0660) */
		if (cJSON_IsString(c)) {
			char *end;
			errno = 0;
			v = strtol(c->valuestring, &end, 8);
			if (!c->valuestring[0] || *end || errno || v < 0 || v > 0777)
				report(r, p, "expected an octal mode like \"0660\", got \"%.16s\"",
				       c->valuestring);
			else if (v & 0007)
				report(r, p, "must not give access to others (mode %04lo); use"
				       " socket_group and access.readers instead", v);
			else
				cfg->socket_mode = (int)v;
		} else {
			report(r, p, "expected an octal mode string like \"0660\", got %s",
			       type_name(c));
		}
		return true;
	}
	if (!strcmp(k, "socket_group")) {
		if (cJSON_IsNumber(c) && is_int_in(c, 0, 0xfffffffeL)) {
			free(cfg->socket_group);
			cfg->socket_group = brm_xasprintf("%ld", (long)c->valuedouble);
		} else {
			get_string(r, p, c, &cfg->socket_group);
		}
		return true;
	}
	if (!strcmp(k, "access")) {
		parse_object_keys(r, p, c, access_keys, cfg, access_one);
		return true;
	}
	if (!strcmp(k, "limits")) {
		parse_object_keys(r, p, c, limit_keys, cfg, limit_one);
		return true;
	}
	return false;
}

/*
 * The same limit `add` applies: a configured name may not dodge it. Checked
 * once all is parsed ("limits" may come after "processes"), once per key:
 * for "instances": N, the longest name, NAME:N-1.
 */
static void check_name_lengths(struct report *r, const cJSON *procs,
			       const struct brm_config *cfg)
{
	size_t max = (size_t)cfg->limits.max_name_len;
	const cJSON *c;

	if (!cJSON_IsObject(procs))
		return;
	cJSON_ArrayForEach(c, procs) {
		const cJSON *inst = cJSON_GetObjectItemCaseSensitive(c, "instances");
		char name[BRM_MAX_NAME_LEN + 1], *p;

		if (!c->string)
			continue;
		if (cJSON_IsNumber(inst) && inst->valuedouble >= 1 &&
		    inst->valuedouble <= BRM_MAX_INSTANCES) {
			if (!brm_instance_name(name, sizeof(name), c->string,
					       (unsigned)inst->valuedouble - 1) ||
			    strlen(name) <= max)
				continue;	/* too long for any limit: reported already */
			p = keypath("processes", c->string);
			report(r, p, "instance names up to \"%s\" (%zu bytes) are longer than"
			       " limits.max_name_len (%zu)", name, strlen(name), max);
		} else {
			if (strlen(c->string) <= max)
				continue;
			p = keypath("processes", c->string);
			report(r, p, "name is %zu bytes, longer than limits.max_name_len (%zu)",
			       strlen(c->string), max);
		}
		free(p);
	}
}

static void parse_top(struct report *r, const cJSON *root, struct brm_config *cfg)
{
	const cJSON *c;
	bool *dup;
	size_t i = 0;
	long l;

	if (!cJSON_IsObject(root)) {
		report(r, NULL, "expected a JSON object at the top level, got %s",
		       type_name(root));
		return;
	}
	dup = dup_flags(root);
	cJSON_ArrayForEach(c, root) {
		const char *k = c->string;
		char *p = keypath(NULL, k);

		if (dup[i++]) {
			report(r, p, "duplicate key");
		} else if (!strcmp(k, "socket")) {
			if (get_string(r, p, c, &cfg->socket) &&
			    strlen(cfg->socket) > MAX_SOCKET_PATH)
				report(r, p, "longer than %zu bytes, the limit for a unix socket path",
				       MAX_SOCKET_PATH);
		} else if (!strcmp(k, "state_dir")) {
			if (get_string(r, p, c, &cfg->state_dir) && cfg->state_dir[0] != '/')
				report(r, p, "expected an absolute path");
		} else if (!strcmp(k, "workers")) {
			if (get_int(r, p, c, 1, 64, &l))
				cfg->workers = (int)l;
		} else if (!strcmp(k, "processes")) {
			parse_processes(r, c, cfg);
		} else if (brm_log_spec_key(k)) {
			log_key(r, p, k, c, &cfg->log);
		} else if (parse_harden_key(r, p, k, c, cfg)) {
			/* socket_mode, socket_group, access, limits */
		} else {
			unknown_key(r, p, k, top_keys);
		}
		free(p);
	}
	free(dup);
	if (cfg->nprocs > (size_t)cfg->limits.max_processes)
		report(r, "limits.max_processes", "is %d but %zu processes are configured",
		       cfg->limits.max_processes, cfg->nprocs);
	check_name_lengths(r, cJSON_GetObjectItemCaseSensitive(root, "processes"), cfg);
}

static void report_orch(void *ctx, const char *path, const char *msg)
{
	report(ctx, path, "%s", msg);
}

int brm_config_parse(const char *text, size_t len, const char *source,
		     struct brm_config **out, char **err)
{
	struct report r = { BRM_BUF_INIT, source ? source : "<config>", 0 };
	struct brm_config *cfg;
	const char *nul;
	unsigned line, col;
	cJSON *root = NULL;
	char *copy;

	*out = NULL;
	*err = NULL;
	if (len > MAX_CONFIG_BYTES) {
		report(&r, NULL, "larger than 4 MiB");
		goto out_fail;
	}
	copy = brm_xmalloc(len + 1);
	memcpy(copy, text, len);
	copy[len] = '\0';
	nul = memchr(copy, '\0', len);
	if (nul) {
		line_col(copy, (size_t)(nul - copy), &line, &col);
		report(&r, NULL, "contains a NUL byte at line %u, column %u", line, col);
	} else if (strip_comments(&r, copy, len)) {
		root = parse_json(&r, copy, len);
	}
	free(copy);
	if (!root)
		goto out_fail;

	cfg = brm_config_default();
	free(cfg->source);
	cfg->source = brm_xstrdup(r.source);
	parse_top(&r, root, cfg);
	cJSON_Delete(root);
	brm_orch_validate(cfg->procs, cfg->nprocs, report_orch, &r);
	if (r.n) {
		brm_config_destroy(cfg);
		goto out_fail;
	}
	brm_buf_finish(&r.buf);
	*out = cfg;
	return 0;

out_fail:
	*err = report_finish(&r);
	return -EINVAL;
}

int brm_config_load(const char *path, struct brm_config **out, char **err)
{
	struct brm_buf b = BRM_BUF_INIT;
	ssize_t n;
	int fd, ret;

	*out = NULL;
	*err = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		goto out_read_error;
	}
	for (;;) {
		brm_buf_grow(&b, 64 * 1024);
		n = read(fd, b.p + b.len, b.cap - b.len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			close(fd);
			goto out_read_error;
		}
		if (n == 0)
			break;
		b.len += (size_t)n;
		if (b.len > MAX_CONFIG_BYTES) {
			close(fd);
			brm_buf_finish(&b);
			*err = brm_xasprintf("cannot read config '%s': larger than 4 MiB", path);
			return -EFBIG;
		}
	}
	close(fd);
	ret = brm_config_parse(b.p, b.len, path, out, err);
	brm_buf_finish(&b);
	return ret;

out_read_error:
	brm_buf_finish(&b);
	*err = brm_xasprintf("cannot read config '%s': %s", path, strerror(-ret));
	return ret;
}

struct brm_config *brm_config_default(void)
{
	struct brm_config *cfg = brm_xcalloc(1, sizeof(*cfg));

	cfg->source = brm_xstrdup("<default>");
	cfg->workers = 4;
	cfg->socket_mode = 0600;
	cfg->limits = (struct brm_limits)BRM_LIMITS_DEFAULT;
	return cfg;
}

void brm_config_destroy(struct brm_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->nprocs; i++)
		brm_spec_destroy(cfg->procs[i]);
	free(cfg->procs);
	brm_log_spec_destroy(cfg->log);
	free(cfg->socket);
	free(cfg->state_dir);
	free(cfg->socket_group);
	brm_strv_free(cfg->access.users);
	brm_strv_free(cfg->access.groups);
	brm_strv_free(cfg->access.reader_users);
	brm_strv_free(cfg->access.reader_groups);
	free(cfg->source);
	free(cfg);
}
