/*
 * spec.c — one process's specification (spec.h): its defaults, copy and
 * free, and the parsing of its keys (processes.NAME, or an `add`
 * request's "spec").
 *
 * Placeholders ({name}, {instance}, {port}) are filled in on a copy of the
 * object before any key is parsed; the log and orchestration keys are
 * handed to logspec.c and orchspec.c. No global state: safe from any
 * thread.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "daemon/conf/diag.h"
#include "daemon/conf/logspec.h"
#include "daemon/conf/orchspec.h"
#include "daemon/conf/placeholders.h"
#include "daemon/conf/rlimits.h"
#include "daemon/conf/spec.h"
#include "daemon/conf/values.h"
#include "lib/buf.h"
#include "lib/util.h"
#include "proto/proto.h"

#define MAX_SIGNAL 64
#define ENV_VAR_MAX (128u << 10)   /* the kernel's MAX_ARG_STRLEN, NUL included */

static const char *const spec_keys[] = {
	"cmd", "shell", "cwd", "env", "autostart", "type", "restart", "start_secs",
	"start_retries", "backoff_secs", "backoff_max_secs", "min_uptime_secs",
	"stop_signal",
	"stop_timeout_secs", "user", "group", "umask", "orphan", "port",
	"env_file", "rlimits", "nice", "oom_score_adj", "critical", BRM_LOG_KEYS,
	BRM_ORCH_KEYS, NULL
};

static void get_restart(struct brm_report *r, const char *path, const cJSON *v,
			enum brm_restart *out)
{
	static const enum brm_restart all[] = {
		BRM_RESTART_ALWAYS, BRM_RESTART_ON_FAILURE, BRM_RESTART_NEVER
	};
	struct brm_quoted q;

	if (cJSON_IsString(v)) {
		for (size_t i = 0; i < BRM_ARRAY_SIZE(all); i++) {
			if (!strcmp(v->valuestring, brm_restart_name(all[i]))) {
				*out = all[i];
				return;
			}
		}
	}
	brm_report(r, path, "expected one of \"always\", \"on-failure\", \"never\", got %s",
		   cJSON_IsString(v) ? brm_quote(&q, v->valuestring) : brm_type_name(v));
}

static void get_type(struct brm_report *r, const char *path, const cJSON *v,
		     enum brm_proc_type *out)
{
	struct brm_quoted q;

	if (cJSON_IsString(v) && !strcmp(v->valuestring, "simple"))
		*out = BRM_TYPE_SIMPLE;
	else if (cJSON_IsString(v) && !strcmp(v->valuestring, "oneshot"))
		*out = BRM_TYPE_ONESHOT;
	else
		brm_report(r, path, "expected \"simple\" or \"oneshot\", got %s",
			   cJSON_IsString(v) ? brm_quote(&q, v->valuestring) : brm_type_name(v));
}

/*
 * A one-shot's restart policy: "never" unless set; "always" would run a
 * finished job again and again, so it is refused.
 */
static void check_oneshot_restart(struct brm_report *r, const char *base,
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
	p = brm_keypath(base, "restart");
	brm_report(r, p, "\"always\" does not go with \"type\": \"oneshot\" (a one-shot runs to"
		   " completion); use \"on-failure\" to retry a failed run, or \"never\"");
	free(p);
}

static void get_signal(struct brm_report *r, const char *path, const cJSON *v, int *out)
{
	struct brm_quoted q;
	int sig;

	if (cJSON_IsString(v)) {
		sig = brm_signal_parse(v->valuestring);
		if (sig < 0)
			brm_report(r, path, "unknown signal %s; use a name like \"TERM\" or \"SIGTERM\", or a number from 1 to %d",
				   brm_quote(&q, v->valuestring), MAX_SIGNAL);
		else
			*out = sig;
	} else if (cJSON_IsNumber(v)) {
		if (brm_conf_int_in(v, 1, MAX_SIGNAL))
			*out = (int)v->valuedouble;
		else
			brm_report(r, path, "expected a signal number from 1 to %d, got %g",
				   MAX_SIGNAL, v->valuedouble);
	} else {
		brm_report(r, path, "expected a signal name like \"TERM\" or a number, got %s",
			   brm_type_name(v));
	}
}

/* An octal string ("022", "0022") or a number taken as it is (18 == 022). */
static void get_umask(struct brm_report *r, const char *path, const cJSON *v, int *out)
{
	struct brm_quoted q;

	if (cJSON_IsString(v)) {
		const char *s = v->valuestring;
		size_t n = strspn(s, "01234567");
		long m;

		if (n == 0 || s[n] || n > 4 || (m = strtol(s, NULL, 8)) > 0777)
			brm_report(r, path, "expected an octal string from \"000\" to \"0777\", like \"022\", got %s",
				   brm_quote(&q, s));
		else
			*out = (int)m;
	} else if (cJSON_IsNumber(v)) {
		if (brm_conf_int_in(v, 0, 0777))
			*out = (int)v->valuedouble;
		else
			brm_report(r, path, "expected an integer from 0 to 511 or an octal string like \"022\", got %g",
				   v->valuedouble);
	} else {
		brm_report(r, path, "expected an octal string like \"022\", got %s", brm_type_name(v));
	}
}

/* One of the log keys (logspec.c checks and reports its value). */
void brm_log_key(struct brm_report *r, const char *path, const char *k, const cJSON *v,
		 struct brm_log_spec **ls)
{
	char *why = NULL;

	if (!*ls)
		*ls = brm_log_spec_new();
	if (brm_log_spec_set(*ls, k, v, &why) < 0) {
		brm_report(r, path, "%s", why);
		free(why);
	}
}

/* One of the orchestration keys (orchspec.c checks and reports its value). */
static void orch_key(struct brm_report *r, const char *path, const char *k, const cJSON *v,
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
			brm_report(r, path, "%s", line);
		}
		free(why);
	}
}

/* "env_file": an absolute path, "-" first for an optional file, or a list of them. */
static void get_env_file(struct brm_report *r, const char *path, const cJSON *v, char ***out)
{
	const cJSON *c;
	size_t n = 0, i = 0;
	struct brm_quoted q;

	if (cJSON_IsString(v)) {
		n = 1;
	} else if (cJSON_IsArray(v)) {
		cJSON_ArrayForEach(c, v)
			n++;
	} else {
		brm_report(r, path, "expected a path or an array of paths, got %s", brm_type_name(v));
		return;
	}
	if (n > BRM_MAX_ENV_FILES) {
		brm_report(r, path, "%zu files, more than the limit of %d", n, BRM_MAX_ENV_FILES);
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
			brm_report(r, p, "expected a path, got %s", brm_type_name(c));
		else if (abs[0] != '/')
			brm_report(r, p, "expected an absolute path (\"-\" first for an optional file),"
				   " got %s", brm_quote(&q, f));
		else if (strlen(abs) >= 4096)
			brm_report(r, p, "longer than 4095 bytes");
		else
			(*out)[n++] = brm_xstrdup(f);
		free(p);
	}
	if (!n) {
		free(*out);
		*out = NULL;
	}
}

/* ---- a process spec ----------------------------------------------------- */

static void parse_cmd(struct brm_report *r, const char *base, const cJSON *v,
		      struct brm_proc_spec *s)
{
	char *path = brm_keypath(base, "cmd");
	const cJSON *c;
	size_t n = 0, i = 0;

	if (cJSON_IsString(v)) {
		if (!s->shell) {
			brm_report(r, path, "a string needs \"shell\": true; use an array of arguments");
		} else if (!v->valuestring[0]) {
			brm_report(r, path, "must not be empty");
		} else {
			s->argv = brm_xcalloc(4, sizeof(*s->argv));
			s->argv[0] = brm_xstrdup("/bin/sh");
			s->argv[1] = brm_xstrdup("-c");
			s->argv[2] = brm_xstrdup(v->valuestring);
		}
		goto out_free_path;
	}
	if (!cJSON_IsArray(v)) {
		brm_report(r, path, "expected an array of strings, got %s", brm_type_name(v));
		goto out_free_path;
	}
	if (s->shell) {
		brm_report(r, path, "with \"shell\": true, expected a string, got an array");
		goto out_free_path;
	}
	cJSON_ArrayForEach(c, v)
		n++;
	if (!n) {
		brm_report(r, path, "must not be empty; give at least the program to run");
		goto out_free_path;
	}
	s->argv = brm_xcalloc(n + 1, sizeof(*s->argv));
	n = 0;
	cJSON_ArrayForEach(c, v) {
		if (!cJSON_IsString(c))
			brm_report(r, path, "element %zu: expected a string, got %s", i, brm_type_name(c));
		else if (i == 0 && !c->valuestring[0])
			brm_report(r, path, "element 0: the program must not be empty");
		else
			s->argv[n++] = brm_xstrdup(c->valuestring);
		i++;
	}
out_free_path:
	free(path);
}

static void parse_env(struct brm_report *r, const char *base, const cJSON *v,
		      struct brm_proc_spec *s)
{
	char *path = brm_keypath(base, "env");
	const cJSON *c;
	bool *dup;
	size_t n = 0, i = 0, bytes = 0;

	if (!cJSON_IsObject(v)) {
		brm_report(r, path, "expected an object of strings, got %s", brm_type_name(v));
		goto out_free_path;
	}
	cJSON_ArrayForEach(c, v) {
		n++;
		bytes += strlen(c->string ? c->string : "") + 2 +
			 (cJSON_IsString(c) ? strlen(c->valuestring) : 0);
	}
	if (n > BRM_MAX_ENV_ENTRIES || bytes > BRM_MAX_ENV_BYTES) {
		brm_report(r, path, "%zu variables of %zu bytes, more than the limit of %d variables"
			   " (max_env_entries) or %u bytes (max_env_bytes)", n, bytes,
			   BRM_MAX_ENV_ENTRIES, BRM_MAX_ENV_BYTES);
		goto out_free_path;
	}
	dup = brm_dup_flags(v);
	s->env = brm_xcalloc(n + 1, sizeof(*s->env));
	n = 0;
	cJSON_ArrayForEach(c, v) {
		char *p = brm_keypath(path, c->string);

		if (dup[i++])
			brm_report(r, p, "duplicate key");
		else if (!c->string[0])
			brm_report(r, p, "variable name must not be empty");
		else if (strchr(c->string, '='))
			brm_report(r, p, "variable name must not contain '='");
		else if (!cJSON_IsString(c))
			brm_report(r, p, "expected a string, got %s", brm_type_name(c));
		else if (strlen(c->string) + 1 + strlen(c->valuestring) >= ENV_VAR_MAX)
			brm_report(r, p, "KEY=VALUE is longer than %u bytes, more than exec takes",
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
static void get_orphan(struct brm_report *r, const char *path, const cJSON *v, bool *keep)
{
	if (cJSON_IsString(v) && !strcmp(v->valuestring, "kill"))
		*keep = false;
	else if (cJSON_IsString(v) && !strcmp(v->valuestring, "keep"))
		*keep = true;
	else
		brm_report(r, path, "expected \"kill\" or \"keep\", got %s", brm_type_name(v));
}

struct placeholder_report {
	struct brm_report *r;
	const char *base;
};

static void report_placeholder(void *ctx, const char *key, const char *msg)
{
	struct placeholder_report *pr = ctx;
	char *p = brm_xasprintf("%s%s%s", pr->base, *pr->base ? "." : "", key);

	brm_report(pr->r, p, "%s", msg);
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
long brm_spec_port(struct brm_report *r, const char *base, const cJSON *obj)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, "port");
	char *p;
	long port = 0;

	if (!v)
		return 0;
	p = brm_keypath(base, "port");
	if (!brm_conf_get_int(r, p, v, 1, 65535, &port))
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
struct brm_proc_spec *brm_spec_read(struct brm_report *r, const cJSON *orig,
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
		brm_report(r, base, "expected an object, got %s", brm_type_name(orig));
		return NULL;
	}
	s = brm_spec_new(name);
	s->port = brm_spec_port(r, base, orig);
	if (s->port && instance > 0)
		s->port += instance;
	if (s->port > 65535) {
		char *p = brm_keypath(base, "port");

		brm_report(r, p, "instance %ld would get port %ld, above 65535", instance, s->port);
		free(p);
		s->port = 0;
	}
	ph.port = s->port;
	/* Placeholders are filled in on a copy, before anything is parsed. */
	obj = cJSON_Duplicate(orig, 1);
	if (!obj)
		brm_oom(0);
	brm_placeholders_apply(obj, &ph, report_placeholder, &pr);
	dup = brm_dup_flags(obj);
	cJSON_ArrayForEach(c, obj) {
		const char *k = c->string;
		char *p = brm_keypath(base, k);

		if (dup[i++])
			brm_report(r, p, "duplicate key");
		else if (!strcmp(k, "cmd"))
			cmd = c;    /* after the loop: it depends on "shell" */
		else if (!strcmp(k, "shell"))
			brm_conf_get_bool(r, p, c, &s->shell);
		else if (!strcmp(k, "cwd"))
			brm_conf_get_string(r, p, c, &s->cwd);
		else if (!strcmp(k, "env"))
			parse_env(r, base, c, s);
		else if (!strcmp(k, "autostart"))
			brm_conf_get_bool(r, p, c, &s->autostart);
		else if (!strcmp(k, "critical"))
			brm_conf_get_bool(r, p, c, &s->critical);
		else if (!strcmp(k, "type"))
			get_type(r, p, c, &s->type);
		else if (!strcmp(k, "restart")) {
			get_restart(r, p, c, &s->restart);
			restart_set = true;
		}
		else if (!strcmp(k, "start_secs"))
			brm_conf_get_duration(r, p, c, &s->start_secs);
		else if (!strcmp(k, "start_retries")) {
			if (brm_conf_get_int(r, p, c, 0, 1000, &l))
				s->start_retries = (unsigned)l;
		} else if (!strcmp(k, "backoff_secs"))
			brm_conf_get_duration(r, p, c, &s->backoff_secs);
		else if (!strcmp(k, "backoff_max_secs"))
			max_set = brm_conf_get_duration(r, p, c, &s->backoff_max_secs);
		else if (!strcmp(k, "min_uptime_secs"))
			brm_conf_get_duration(r, p, c, &s->min_uptime_secs);
		else if (!strcmp(k, "stop_signal"))
			get_signal(r, p, c, &s->stop_signal);
		else if (!strcmp(k, "stop_timeout_secs"))
			brm_conf_get_duration(r, p, c, &s->stop_timeout_secs);
		else if (!strcmp(k, "user"))
			brm_conf_get_string(r, p, c, &s->user);
		else if (!strcmp(k, "group"))
			brm_conf_get_string(r, p, c, &s->group);
		else if (!strcmp(k, "umask"))
			get_umask(r, p, c, &s->umask);
		else if (brm_log_spec_key(k))
			brm_log_key(r, p, k, c, &s->log);
		else if (!strcmp(k, "orphan"))
			get_orphan(r, p, c, &s->orphan_keep);
		else if (!strcmp(k, "port"))
			;   /* brm_spec_port(), before the placeholders */
		else if (!strcmp(k, "env_file"))
			get_env_file(r, p, c, &s->env_file);
		else if (!strcmp(k, "rlimits"))
			brm_parse_rlimits(r, p, c, s->rlimits);
		else if (!strcmp(k, "nice")) {
			if (brm_conf_get_int(r, p, c, -20, 19, &l)) {
				s->nice_set = true;
				s->nice = (int)l;
			}
		} else if (!strcmp(k, "oom_score_adj")) {
			if (brm_conf_get_int(r, p, c, -1000, 1000, &l)) {
				s->oom_score_adj_set = true;
				s->oom_score_adj = (int)l;
			}
		} else if (brm_orch_key(k))
			orch_key(r, p, k, c, &s->orch);
		else
			brm_unknown_key(r, p, k, spec_keys);
		free(p);
	}
	free(dup);

	if (s->orch) {
		char *why = NULL;

		if (brm_orch_spec_finish(s->orch, &why) < 0) {
			brm_report(r, base, "%s", why);
			free(why);
		}
	}
	if (cmd)
		parse_cmd(r, base, cmd, s);
	else
		brm_report(r, base, "missing \"cmd\"");
	check_oneshot_restart(r, base, s, restart_set);
	cJSON_Delete(obj);
	if (s->port)
		set_port_env(s, s->port);

	/* An unset maximum follows a first delay raised above it. */
	if (s->backoff_max_secs < s->backoff_secs) {
		if (max_set) {
			char *p = brm_keypath(base, "backoff_max_secs");

			brm_report(r, p, "must be at least backoff_secs (%g), got %g",
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
	struct brm_report r = { BRM_BUF_INIT, NULL, 0 };
	struct brm_proc_spec *s;
	struct brm_quoted q;

	*err = NULL;
	if (!path)
		path = "";
	if (!brm_name_valid(name))
		brm_report(&r, path, "invalid process name %s: use 1 to %d letters, digits or '.', '_', ':', '@', '-', not starting with '.' or '-'",
			   brm_quote(&q, name ? name : ""), BRM_MAX_NAME_LEN);
	s = brm_spec_read(&r, obj, name, path, -1);
	if (r.n) {
		brm_spec_destroy(s);
		*err = brm_report_finish(&r);
		return NULL;
	}
	brm_buf_finish(&r.buf);
	return s;
}
