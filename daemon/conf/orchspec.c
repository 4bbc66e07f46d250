/*
 * orchspec.c — parsing and checking the orchestration keys of one spec
 * (orchspec.h); the checks across all processes are depcheck.c's.
 */
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/conf/orchspec.h"
#include "daemon/conf/values.h"
#include "lib/buf.h"
#include "lib/pattern.h"
#include "lib/util.h"
#include "proto/selector.h"
#include "proto/proto.h"

static const char *const keys[] = { BRM_ORCH_KEYS, NULL };
static const char *const cond_names[] = { "started", "running", "healthy", "completed" };

const char *brm_dep_cond_name(enum brm_dep_cond c)
{
	return (unsigned)c < BRM_ARRAY_SIZE(cond_names) ? cond_names[c] : "unknown";
}

bool brm_orch_key(const char *key)
{
	for (size_t i = 0; keys[i]; i++)
		if (!strcmp(keys[i], key))
			return true;
	return false;
}

struct brm_orch_spec *brm_orch_spec_new(void)
{
	struct brm_orch_spec *s = brm_xcalloc(1, sizeof(*s));

	s->notify_fd = 3;
	return s;
}

struct brm_health_spec *brm_health_spec_dup(const struct brm_health_spec *h)
{
	struct brm_health_spec *d;

	if (!h)
		return NULL;
	d = brm_xmalloc(sizeof(*d));
	*d = *h;
	d->exec = h->exec ? brm_strv_dup(h->exec) : NULL;
	d->host = h->host ? brm_xstrdup(h->host) : NULL;
	d->path = h->path ? brm_xstrdup(h->path) : NULL;
	d->regex = h->regex ? brm_xstrdup(h->regex) : NULL;
	return d;
}

void brm_health_spec_destroy(struct brm_health_spec *h)
{
	if (!h)
		return;
	brm_strv_free(h->exec);
	free(h->host);
	free(h->path);
	free(h->regex);
	free(h);
}

struct brm_orch_spec *brm_orch_spec_dup(const struct brm_orch_spec *s)
{
	struct brm_orch_spec *d;

	if (!s)
		return NULL;
	d = brm_xmalloc(sizeof(*d));
	*d = *s;
	d->deps = s->ndeps ? brm_xcalloc(s->ndeps, sizeof(*d->deps)) : NULL;
	for (size_t i = 0; i < s->ndeps; i++) {
		d->deps[i].name = brm_xstrdup(s->deps[i].name);
		d->deps[i].cond = s->deps[i].cond;
	}
	d->health = brm_health_spec_dup(s->health);
	return d;
}

void brm_orch_spec_destroy(struct brm_orch_spec *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->ndeps; i++)
		free(s->deps[i].name);
	free(s->deps);
	brm_health_spec_destroy(s->health);
	free(s);
}

bool brm_health_spec_equal(const struct brm_health_spec *a, const struct brm_health_spec *b)
{
	if (!a || !b)
		return a == b;
	return a->kind == b->kind && brm_strv_equal(a->exec, b->exec) &&
	       brm_streq(a->host, b->host) && a->port == b->port &&
	       brm_streq(a->path, b->path) && brm_streq(a->regex, b->regex) &&
	       a->interval_secs == b->interval_secs &&
	       a->timeout_secs == b->timeout_secs &&
	       a->start_period_secs == b->start_period_secs && a->retries == b->retries &&
	       a->restart_on_unhealthy == b->restart_on_unhealthy;
}

bool brm_orch_deps_equal(const struct brm_orch_spec *a, const struct brm_orch_spec *b)
{
	size_t na = a ? a->ndeps : 0, nb = b ? b->ndeps : 0;

	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (strcmp(a->deps[i].name, b->deps[i].name) || a->deps[i].cond != b->deps[i].cond)
			return false;
	return true;
}

bool brm_orch_ready_equal(const struct brm_orch_spec *a, const struct brm_orch_spec *b)
{
	enum brm_ready ra = a ? a->ready : BRM_READY_START_SECS;
	enum brm_ready rb = b ? b->ready : BRM_READY_START_SECS;
	int fa = a ? a->notify_fd : 3, fb = b ? b->notify_fd : 3;

	return ra == rb && fa == fb;
}

/* ---- parsing ------------------------------------------------------------ */

static void add_dep(struct brm_orch_spec *s, const char *name, enum brm_dep_cond c)
{
	s->deps = brm_xrealloc(s->deps, (s->ndeps + 1) * sizeof(*s->deps));
	s->deps[s->ndeps].name = brm_xstrdup(name);
	s->deps[s->ndeps].cond = c;
	s->ndeps++;
}

static bool has_dep(const struct brm_orch_spec *s, const char *name)
{
	for (size_t i = 0; i < s->ndeps; i++)
		if (!strcmp(s->deps[i].name, name))
			return true;
	return false;
}

static void addwhy(struct brm_buf *b, const char *fmt, ...) BRM_PRINTF(2, 3);
static void addwhy(struct brm_buf *b, const char *fmt, ...)
{
	va_list ap;

	if (b->len)
		brm_buf_addc(b, '\n');
	va_start(ap, fmt);
	brm_buf_vaddf(b, fmt, ap);
	va_end(ap);
}

static void parse_depends(struct brm_orch_spec *s, const cJSON *v, struct brm_buf *why)
{
	const cJSON *c;

	if (cJSON_IsArray(v)) {
		cJSON_ArrayForEach(c, v) {
			if (!cJSON_IsString(c) || !brm_name_valid(c->valuestring))
				addwhy(why, "expected process names");
			else if (has_dep(s, c->valuestring))
				addwhy(why, "\"%s\" is listed twice", c->valuestring);
			else
				add_dep(s, c->valuestring, BRM_DEP_RUNNING);
		}
		return;
	}
	if (!cJSON_IsObject(v)) {
		addwhy(why, "expected an object of process names and conditions"
		       " (\"started\", \"running\", \"healthy\", \"completed\") or an array of names");
		return;
	}
	cJSON_ArrayForEach(c, v) {
		size_t i;

		if (!brm_name_valid(c->string)) {
			addwhy(why, "invalid process name");
			continue;
		}
		if (has_dep(s, c->string)) {
			addwhy(why, "\"%s\" is listed twice", c->string);
			continue;
		}
		for (i = 0; i < BRM_ARRAY_SIZE(cond_names); i++)
			if (cJSON_IsString(c) && !strcmp(c->valuestring, cond_names[i]))
				break;
		if (i == BRM_ARRAY_SIZE(cond_names))
			addwhy(why, "%s: expected \"started\", \"running\", \"healthy\" or \"completed\"",
			       c->string);
		else
			add_dep(s, c->string, (enum brm_dep_cond)i);
	}
}

/* A duration of at least @min into *@out, or a line in @why naming @key. */
static void get_secs(struct brm_buf *why, const char *key, const cJSON *v, double *out,
		     double min)
{
	char *msg = brm_duration_check(v, min, out);

	if (msg)
		addwhy(why, "%s: %s", key, msg);
	free(msg);
}

static void parse_health(struct brm_orch_spec *s, const cJSON *v, struct brm_buf *why)
{
	struct brm_health_spec *h;
	const cJSON *c;
	int kinds = 0;

	if (!cJSON_IsObject(v)) {
		addwhy(why, "expected an object with one of \"exec\", \"tcp\", \"http\", \"log\"");
		return;
	}
	h = brm_xcalloc(1, sizeof(*h));
	h->interval_secs = 5;
	h->timeout_secs = 2;
	h->retries = 3;
	cJSON_ArrayForEach(c, v) {
		const char *k = c->string;

		if (!strcmp(k, "exec")) {
			const cJSON *a;
			size_t n = 0;

			kinds++;
			h->kind = BRM_HEALTH_EXEC;
			if (!cJSON_IsArray(c) || !cJSON_GetArraySize(c)) {
				addwhy(why, "exec: expected a non-empty array of strings");
				continue;
			}
			h->exec = brm_xcalloc((size_t)cJSON_GetArraySize(c) + 1, sizeof(char *));
			cJSON_ArrayForEach(a, c) {
				if (!cJSON_IsString(a) || (n == 0 && !a->valuestring[0]))
					addwhy(why, "exec: expected a non-empty array of strings");
				else
					h->exec[n++] = brm_xstrdup(a->valuestring);
			}
		} else if (!strcmp(k, "tcp")) {
			kinds++;
			h->kind = BRM_HEALTH_TCP;
			if (!cJSON_IsString(c) || !brm_parse_hostport(c->valuestring, &h->host, &h->port))
				addwhy(why, "tcp: expected \"HOST:PORT\" with an IP address or localhost");
		} else if (!strcmp(k, "http")) {
			const char *u = cJSON_IsString(c) ? c->valuestring : "";
			const char *slash;
			char *hp;

			kinds++;
			h->kind = BRM_HEALTH_HTTP;
			if (strncmp(u, "http://", 7)) {
				addwhy(why, "http: expected \"http://HOST:PORT/PATH\" (no https)");
				continue;
			}
			u += 7;
			slash = strchr(u, '/');
			hp = slash ? brm_xstrndup(u, (size_t)(slash - u)) : brm_xstrdup(u);
			if (!strchr(hp, ':') || hp[strlen(hp) - 1] == ']') {
				char *t = brm_xasprintf("%s:80", hp);
				free(hp);
				hp = t;
			}
			if (!brm_parse_hostport(hp, &h->host, &h->port))
				addwhy(why, "http: expected \"http://HOST:PORT/PATH\" with an IP address or localhost");
			free(hp);
			h->path = brm_xstrdup(slash ? slash : "/");
			if (strpbrk(h->path, " \r\n"))
				addwhy(why, "http: the path must not contain spaces or line breaks");
		} else if (!strcmp(k, "log")) {
			char *msg = NULL;
			int r;

			kinds++;
			h->kind = BRM_HEALTH_LOG;
			if (!cJSON_IsString(c) || !c->valuestring[0]) {
				addwhy(why, "log: expected a regular expression");
			} else if ((r = brm_pattern_check(c->valuestring, &msg)) < 0) {
				addwhy(why, "log: %s%s", r == -EINVAL ? "not a valid POSIX extended"
				       " regular expression: " : "", msg);
				free(msg);
			} else {
				h->regex = brm_xstrdup(c->valuestring);
			}
		} else if (!strcmp(k, "interval_secs") || !strcmp(k, "timeout_secs")) {
			get_secs(why, k, c, k[0] == 'i' ? &h->interval_secs : &h->timeout_secs,
				 0.01);
		} else if (!strcmp(k, "start_period_secs")) {
			get_secs(why, k, c, &h->start_period_secs, 0);
		} else if (!strcmp(k, "retries")) {
			if (!brm_conf_int_in(c, 1, 1000))
				addwhy(why, "retries: expected an integer from 1 to 1000");
			else
				h->retries = (unsigned)c->valuedouble;
		} else if (!strcmp(k, "on_unhealthy")) {
			if (cJSON_IsString(c) && !strcmp(c->valuestring, "restart"))
				h->restart_on_unhealthy = true;
			else if (cJSON_IsString(c) && !strcmp(c->valuestring, "ignore"))
				h->restart_on_unhealthy = false;
			else
				addwhy(why, "on_unhealthy: expected \"restart\" or \"ignore\"");
		} else {
			addwhy(why, "%s: unknown key (known keys: \"exec\", \"tcp\", \"http\", \"log\","
			       " \"interval_secs\", \"timeout_secs\", \"retries\", \"start_period_secs\","
			       " \"on_unhealthy\")", k);
		}
	}
	if (kinds != 1)
		addwhy(why, "expected exactly one of \"exec\", \"tcp\", \"http\", \"log\"");
	brm_health_spec_destroy(s->health);
	s->health = h;
}

int brm_orch_spec_set(struct brm_orch_spec *s, const char *key, const cJSON *v, char **why)
{
	struct brm_buf b = BRM_BUF_INIT;

	*why = NULL;
	if (!strcmp(key, "depends_on")) {
		parse_depends(s, v, &b);
	} else if (!strcmp(key, "health")) {
		parse_health(s, v, &b);
	} else if (!strcmp(key, "ready")) {
		static const char *const modes[] = { "start_secs", "notify-fd", "sd-notify", "health" };
		size_t i;

		for (i = 0; i < BRM_ARRAY_SIZE(modes); i++)
			if (cJSON_IsString(v) && !strcmp(v->valuestring, modes[i]))
				break;
		if (i == BRM_ARRAY_SIZE(modes))
			addwhy(&b, "expected \"start_secs\", \"notify-fd\", \"sd-notify\" or \"health\"");
		else
			s->ready = (enum brm_ready)i;
	} else if (!strcmp(key, "notify_fd")) {
		if (!brm_conf_int_in(v, 3, 255))
			addwhy(&b, "expected an integer from 3 to 255");
		else
			s->notify_fd = (int)v->valuedouble;
	} else {
		addwhy(&b, "unknown key");
	}
	if (b.len) {
		*why = brm_buf_detach(&b);
		return -EINVAL;
	}
	brm_buf_finish(&b);
	return 0;
}

int brm_orch_spec_finish(struct brm_orch_spec *s, char **why)
{
	*why = NULL;
	if (s->ready == BRM_READY_HEALTH && !s->health) {
		*why = brm_xstrdup("\"ready\": \"health\" needs a \"health\" check");
		return -EINVAL;
	}
	return 0;
}
