/*
 * import_supervisord.c — supervisord's INI file: each [program:x] becomes
 * a process; the other sections, and settings brummd has no equivalent for,
 * are notes. Values go through supervisord's %(name)s expansions first:
 * %(program_name)s, %(here)s and %(numprocs)d are known now,
 * %(process_num)d becomes brummd's {instance}, and %(ENV_X)s becomes the
 * shell's ${X} in a command (run with "shell": true); elsewhere it cannot
 * be expressed and the setting is a note.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "cli/import.h"
#include "lib/signame.h"
#include "lib/util.h"

struct kv {
	char *key, *value;
	int line;
};

struct section {
	char *name;
	int line;
	struct kv *kv;
	size_t n, cap;
};

struct expand_ctx {
	const char *program;
	long numprocs;
	const char *here;
	bool in_cmd;          /* %(ENV_X)s may become ${X} */
	bool used_env;        /* it did: the command needs the shell */
	bool padded;          /* %(process_num)02d: the padding is lost */
	char *unknown;        /* the first expansion that cannot be expressed */
};

static const char *get(const struct section *s, const char *key, int *line)
{
	for (size_t i = s->n; i-- > 0;)
		if (!strcmp(s->kv[i].key, key)) {
			if (line)
				*line = s->kv[i].line;
			return s->kv[i].value;
		}
	return NULL;
}

/* Whether shell text @s ends inside single quotes (where ${X} stays as is). */
static bool in_single_quotes(const char *s)
{
	bool sq = false, dq = false;

	for (; *s; s++) {
		if (*s == '\\' && !sq && s[1])
			s++;
		else if (*s == '\'' && !dq)
			sq = !sq;
		else if (*s == '"' && !sq)
			dq = !dq;
	}
	return sq;
}

/*
 * @v with the %(...)s expansions done and literal braces escaped; NULL, with
 * ctx->unknown set, when one cannot be expressed. Caller frees.
 */
static char *expand(const char *v, struct expand_ctx *ctx)
{
	struct brm_buf b = BRM_BUF_INIT;
	char *lit;

	brm_buf_adds(&b, "");
	while (*v) {
		const char *pct = strchr(v, '%');
		const char *close;
		size_t n = pct ? (size_t)(pct - v) : strlen(v);
		char name[128], fmt[16];

		char *part = brm_xstrndup(v, n);

		lit = imp_escape(part);
		free(part);
		brm_buf_adds(&b, lit);
		free(lit);
		if (!pct)
			break;
		if (pct[1] == '%') {
			brm_buf_addc(&b, '%');
			v = pct + 2;
			continue;
		}
		close = pct[1] == '(' ? strchr(pct, ')') : NULL;
		if (!close || (size_t)(close - pct - 2) >= sizeof(name)) {
			brm_buf_addc(&b, '%');
			v = pct + 1;
			continue;
		}
		memcpy(name, pct + 2, (size_t)(close - pct - 2));
		name[close - pct - 2] = '\0';
		n = strspn(close + 1, "0123456789-+ #.");
		if (n >= sizeof(fmt) - 1 || !close[1 + n] || !strchr("sdi", close[1 + n])) {
			free(ctx->unknown);
			ctx->unknown = brm_xasprintf("%%(%s)", name);
			goto out_fail;
		}
		memcpy(fmt, close + 1, n);
		fmt[n] = '\0';
		v = close + 2 + n;
		if (!strcmp(name, "program_name") || !strcmp(name, "group_name")) {
			brm_buf_adds(&b, ctx->program);
		} else if (!strcmp(name, "here")) {
			brm_buf_adds(&b, ctx->here);
		} else if (!strcmp(name, "numprocs")) {
			brm_buf_addf(&b, "%ld", ctx->numprocs);
		} else if (!strcmp(name, "process_num")) {
			if (ctx->numprocs > 1)
				brm_buf_adds(&b, "{instance}");
			else
				brm_buf_addc(&b, '0');
			if (n && ctx->numprocs > 1)
				ctx->padded = true;
		} else if (!strncmp(name, "ENV_", 4) && ctx->in_cmd && !in_single_quotes(b.p)) {
			brm_buf_addf(&b, "${%s}", name + 4);
			ctx->used_env = true;
		} else {
			free(ctx->unknown);
			ctx->unknown = brm_xasprintf("%%(%s)s%s", name,
						     ctx->in_cmd && !strncmp(name, "ENV_", 4) ?
						     " in single quotes" : "");
			goto out_fail;
		}
	}
	return brm_buf_detach(&b);
out_fail:
	brm_buf_finish(&b);
	return NULL;
}

/* "KEY=val,KEY2="v, 2"" into @env; false at a syntax error. */
static bool parse_env(const char *s, cJSON *env, struct expand_ctx *ctx, char **bad)
{
	const char *p = s;

	while (*p) {
		struct brm_buf val = BRM_BUF_INIT;
		const char *eq;
		char *key, *x;

		p += strspn(p, " \t\n");
		if (!*p)
			break;
		eq = strchr(p, '=');
		if (!eq)
			return false;
		key = brm_xstrndup(p, (size_t)(eq - p));
		for (char *e = key + strlen(key); e > key && isspace((unsigned char)e[-1]);)
			*--e = '\0';
		p = eq + 1 + strspn(eq + 1, " \t");
		brm_buf_adds(&val, "");
		if (*p == '"' || *p == '\'') {
			char q = *p++;

			for (; *p && *p != q; p++) {
				if (*p == '\\' && q == '"' && p[1])
					p++;
				brm_buf_addc(&val, *p);
			}
			if (*p != q) {
				free(key);
				brm_buf_finish(&val);
				return false;
			}
			p++;
		} else {
			size_t n = strcspn(p, ",");

			while (n && isspace((unsigned char)p[n - 1]))
				n--;
			brm_buf_add(&val, p, n);
			p += n;
		}
		p += strspn(p, " \t\n");
		if (*p == ',')
			p++;
		else if (*p) {
			free(key);
			brm_buf_finish(&val);
			return false;
		}
		x = expand(val.p, ctx);
		if (!x) {
			if (!*bad)
				*bad = brm_xasprintf("%s=%s: not converted (%s cannot be expressed;"
						     " brummd passes its own environment on, so"
						     " %s is inherited)", key, val.p, ctx->unknown,
						     key);
		} else if (!*key) {
			if (!*bad)
				*bad = brm_xasprintf("=%s: not converted (no name)", val.p);
		} else {
			cJSON_DeleteItemFromObjectCaseSensitive(env, key);
			cJSON_AddStringToObject(env, key, x);
		}
		free(x);
		free(key);
		brm_buf_finish(&val);
	}
	return true;
}

/* "50MB" etc.; -1 when it is none of supervisord's sizes. */
static long long parse_size(const char *s)
{
	char *end;
	long long v = strtoll(s, &end, 10);

	if (end == s || v < 0)
		return -1;
	if (!strcasecmp(end, "KB"))
		return v << 10;
	if (!strcasecmp(end, "MB"))
		return v << 20;
	if (!strcasecmp(end, "GB"))
		return v << 30;
	return *end ? -1 : v;
}

static int bool_of(const char *s)
{
	if (!strcasecmp(s, "true") || !strcasecmp(s, "yes") || !strcasecmp(s, "on") ||
	    !strcmp(s, "1"))
		return 1;
	if (!strcasecmp(s, "false") || !strcasecmp(s, "no") || !strcasecmp(s, "off") ||
	    !strcmp(s, "0"))
		return 0;
	return -1;
}

static bool number_of(const char *s, double *out)
{
	char *end;

	*out = strtod(s, &end);
	return end != s && !*end && *out >= 0 && *out < 1e9;
}

/* Why the settings brummd has no equivalent for are not converted. */
static const struct { const char *key, *why; } unsupported[] = {
	{ "priority", "brummd starts processes in dependency order; see \"depends_on\"" },
	{ "exitcodes", "brummd treats only exit code 0 as expected" },
	{ "numprocs_start", "brummd numbers instances from 0" },
	{ "stdout_capture_maxbytes", "brummd has no capture mode" },
	{ "stderr_capture_maxbytes", "brummd has no capture mode" },
	{ "stdout_events_enabled", "brummd has no event listeners; see 'brummctl events'" },
	{ "stderr_events_enabled", "brummd has no event listeners; see 'brummctl events'" },
	{ "stdout_syslog", "brummd writes logs to its ring and log_file, not syslog" },
	{ "stderr_syslog", "brummd writes logs to its ring and log_file, not syslog" },
	{ "serverurl", "brummctl finds brummd's socket itself" },
	{ "stdout_logfile_backups", NULL },
	{ NULL, NULL },
};

static void program(struct imp *im, const struct section *s)
{
	const char *pname = s->name + strlen("program:");
	struct expand_ctx ctx = { .program = pname, .numprocs = 1, .here = im->dir };
	const char *v, *out_log = NULL, *err_log = NULL;
	char where[256], *name = NULL, *x;
	bool redirect = false;
	int line, err_line = 0, out_line = 0;   /* of stderr_logfile, stdout_logfile */
	double d;
	cJSON *spec, *env = NULL;

	snprintf(where, sizeof(where), "[%s]", s->name);
	if ((v = get(s, "numprocs", &line))) {
		if (!number_of(v, &d) || d < 1 || d > 1000 || d != (long)d)
			imp_note(im, line, where, "numprocs=%s: not converted (brummd's \"instances\""
				 " is 1 to 1000)", v);
		else
			ctx.numprocs = (long)d;
	}
	v = get(s, "command", &line);
	if (!v) {
		imp_note(im, s->line, where, "not converted (no command=)");
		return;
	}
	spec = imp_proc(im, pname, s->line, &name);
	if (!spec)
		return;
	ctx.in_cmd = true;
	x = expand(v, &ctx);
	ctx.in_cmd = false;
	if (!x) {
		imp_note(im, line, where, "command=: not converted (%s cannot be expressed)",
			 ctx.unknown);
		cJSON_DeleteItemFromObjectCaseSensitive(im->procs, name);
		goto out_free;
	}
	imp_set_cmd(spec, x, ctx.used_env);
	if (ctx.used_env)
		imp_comment(im, name, "cmd", "%%(ENV_X)s became the shell's ${X}, read when the"
			    " process starts, not when the config is loaded");
	free(x);
	if (ctx.numprocs > 1)
		cJSON_AddNumberToObject(spec, "instances", (double)ctx.numprocs);

	for (size_t i = 0; i < s->n; i++) {
		const struct kv *kv = &s->kv[i];
		const char *k = kv->key;
		int b = bool_of(kv->value);
		bool num = number_of(kv->value, &d);

		if (get(s, k, NULL) != kv->value)
			continue;   /* a later line set it again */
		free(ctx.unknown);
		ctx.unknown = NULL;
		if (!strcmp(k, "command") || !strcmp(k, "numprocs")) {
			continue;
		} else if (!strcmp(k, "process_name")) {
			if (ctx.numprocs > 1 || strcmp(kv->value, "%(program_name)s"))
				imp_note(im, kv->line, where, "process_name=%s: not converted (brummd"
					 " names the copies %s:0, %s:1, ...)", kv->value, name, name);
		} else if (!strcmp(k, "autostart") || !strcmp(k, "stopasgroup") ||
			   !strcmp(k, "killasgroup") || !strcmp(k, "redirect_stderr")) {
			if (b < 0)
				imp_note(im, kv->line, where, "%s=%s: not converted (expected true or"
					 " false)", k, kv->value);
			else if (!strcmp(k, "autostart"))
				cJSON_AddBoolToObject(spec, "autostart", b);
			else if (!strcmp(k, "redirect_stderr"))
				redirect = b == 1;
			else if (!b)
				imp_note(im, kv->line, where, "%s=%s: not converted (brummd always"
					 " signals the whole process group)", k, kv->value);
		} else if (!strcmp(k, "autorestart")) {
			const char *r = !strcasecmp(kv->value, "unexpected") ? "on-failure" :
				b == 1 ? "always" : b == 0 ? "never" : NULL;

			if (r)
				cJSON_AddStringToObject(spec, "restart", r);
			else
				imp_note(im, kv->line, where, "autorestart=%s: not converted (expected"
					 " true, false or unexpected)", kv->value);
			if (r && !strcmp(r, "on-failure"))
				imp_comment(im, name, "restart", "unexpected: a signal or an exit code"
					    " other than 0 restarts it");
		} else if (!strcmp(k, "startsecs") || !strcmp(k, "startretries") ||
			   !strcmp(k, "stopwaitsecs")) {
			if (!num || (k[5] == 'r' && (d > 1000 || d != (long)d)))
				imp_note(im, kv->line, where, "%s=%s: not converted (expected %s)", k,
					 kv->value, k[5] == 'r' ? "a whole number up to 1000" :
					 "a number of seconds");
			else
				cJSON_AddNumberToObject(spec, k[5] == 's' ? "start_secs" :
							k[5] == 'r' ? "start_retries" :
							"stop_timeout_secs", d);
		} else if (!strcmp(k, "stopsignal")) {
			char sig[16];
			size_t n = 0;
			const char *p = strncasecmp(kv->value, "SIG", 3) ? kv->value : kv->value + 3;

			for (; n < sizeof(sig) - 1 && p[n]; n++)
				sig[n] = (char)toupper((unsigned char)p[n]);
			sig[n] = '\0';
			if (brm_signal_parse(sig) > 0)
				cJSON_AddStringToObject(spec, "stop_signal", sig);
			else
				imp_note(im, kv->line, where, "stopsignal=%s: not converted (not a"
					 " signal name)", kv->value);
		} else if (!strcmp(k, "directory") || !strcmp(k, "user") || !strcmp(k, "umask")) {
			x = expand(kv->value, &ctx);
			if (!x)
				imp_note(im, kv->line, where, "%s=%s: not converted (%s cannot be"
					 " expressed)", k, kv->value, ctx.unknown);
			else
				cJSON_AddStringToObject(spec, !strcmp(k, "directory") ? "cwd" : k, x);
			free(x);
		} else if (!strcmp(k, "environment")) {
			char *bad = NULL;

			env = cJSON_CreateObject();
			if (!parse_env(kv->value, env, &ctx, &bad))
				imp_note(im, kv->line, where, "environment: not converted (expected"
					 " KEY=\"value\",KEY2=value2)");
			else if (cJSON_GetArraySize(env))
				cJSON_AddItemToObject(spec, "env", cJSON_Duplicate(env, 1));
			if (bad)
				imp_note(im, kv->line, where, "environment %s", bad);
			free(bad);
			cJSON_Delete(env);
			env = NULL;
		} else if (!strcmp(k, "stdout_logfile")) {
			out_log = kv->value;
			out_line = kv->line;
			if (!strcasecmp(out_log, "AUTO"))
				imp_note(im, kv->line, where, "stdout_logfile=AUTO: not converted"
					 " (brummd keeps output in memory, 'brummctl logs'; name a"
					 " file for log_file)");
		} else if (!strcmp(k, "stderr_logfile")) {
			err_log = kv->value;
			err_line = kv->line;
		} else if (!strcmp(k, "stdout_logfile_maxbytes") || !strcmp(k, "stderr_logfile_maxbytes") ||
			   !strcmp(k, "stderr_logfile_backups")) {
			continue;   /* with the log file, below */
		} else {
			const char *why = "no brummd equivalent";

			for (size_t j = 0; unsupported[j].key; j++)
				if (!strcmp(unsupported[j].key, k))
					why = unsupported[j].why ? unsupported[j].why : NULL;
			if (!why)
				continue;
			if (!strcmp(k, "exitcodes") && !strcmp(kv->value, "0"))
				continue;
			imp_note(im, kv->line, where, "%s=%s: not converted (%s)", k, kv->value, why);
		}
	}
	if (ctx.numprocs > 1)
		imp_comment(im, name, "instances", "numprocs=%ld: copies %s:0 .. %s:%ld%s",
			    ctx.numprocs, name, name, ctx.numprocs - 1, ctx.padded ?
			    "; the zero padding of %(process_num)02d is not kept" : "");

	/* One log_file takes both streams (lines marked out/err). */
	if (out_log && (!strcasecmp(out_log, "NONE") || !strcasecmp(out_log, "AUTO")))
		out_log = NULL;
	if (err_log && (!strcasecmp(err_log, "NONE") || !strcasecmp(err_log, "AUTO") ||
			redirect || (out_log && !strcmp(err_log, out_log))))
		err_log = NULL;
	if (out_log || err_log) {
		const char *file = out_log ? out_log : err_log;
		const char *key = out_log ? "stdout_logfile" : "stderr_logfile";
		const char *mb = get(s, out_log ? "stdout_logfile_maxbytes" : "stderr_logfile_maxbytes", &line);
		const char *keep = get(s, out_log ? "stdout_logfile_backups" : "stderr_logfile_backups", NULL);

		x = expand(file, &ctx);
		if (!x) {
			imp_note(im, out_log ? out_line : err_line, where, "%s=%s: not converted (%s cannot be expressed)",
				 key, file, ctx.unknown);
		} else {
			cJSON_AddStringToObject(spec, "log_file", x);
			if (out_log && err_log) {
				imp_comment(im, name, "log_file", "stdout and stderr both go here, lines"
					    " marked out/err");
				imp_note(im, err_line, where, "stderr_logfile=%s: not converted (brummd"
					 " writes both streams to one log_file, %s)", err_log, out_log);
			}
			else if (out_log && !redirect)
				imp_comment(im, name, "log_file", "stderr too (lines marked out/err)");
			else if (!out_log)
				imp_comment(im, name, "log_file", "from stderr_logfile; stdout too");
			if (mb && parse_size(mb) >= 0)
				cJSON_AddNumberToObject(spec, "log_max_bytes", (double)parse_size(mb));
			else if (mb)
				imp_note(im, line, where, "logfile_maxbytes=%s: not converted (expected"
					 " a size like 50MB)", mb);
			if (keep && number_of(keep, &d) && d <= 1000)
				cJSON_AddNumberToObject(spec, "log_keep", (long)d);
		}
		free(x);
	}
out_free:
	free(ctx.unknown);
	free(name);
}

static void section_done(struct imp *im, struct section *s)
{
	if (!s->name)
		return;
	if (!strncmp(s->name, "program:", 8) && s->name[8]) {
		program(im, s);
	} else {
		const char *why = "no brummd equivalent";

		if (!strcmp(s->name, "supervisord"))
			why = "brummd's own settings are the top-level keys; see brummd.json(5)";
		else if (!strncmp(s->name, "group:", 6))
			why = "brummctl takes glob patterns and instance groups for several names";
		else if (!strcmp(s->name, "include"))
			why = "import each included file on its own";
		else if (!strcmp(s->name, "unix_http_server") || !strcmp(s->name, "supervisorctl") ||
			 !strcmp(s->name, "inet_http_server") || !strncmp(s->name, "rpcinterface:", 13))
			why = "brummd's socket and brummctl take this part";
		else if (!strncmp(s->name, "eventlistener:", 14))
			why = "brummd has no event listeners; see 'brummctl events'";
		char where[256];

		snprintf(where, sizeof(where), "[%s]", s->name);
		imp_note(im, s->line, where, "section not converted (%s)", why);
	}
	for (size_t i = 0; i < s->n; i++) {
		free(s->kv[i].key);
		free(s->kv[i].value);
	}
	free(s->kv);
	free(s->name);
	memset(s, 0, sizeof(*s));
}

int imp_supervisord(struct imp *im)
{
	struct section s = { 0 };
	const char *p = im->text;
	int line = 0;

	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t n = eol ? (size_t)(eol - p) : strlen(p);
		char *l = brm_xstrndup(p, n), *t, *sep;

		line++;
		p += n + (eol ? 1 : 0);
		if (n && l[n - 1] == '\r')
			l[--n] = '\0';
		t = l + strspn(l, " \t");
		if (!*t || *t == ';' || *t == '#') {
			free(l);
			continue;
		}
		/* An indented line continues the value before it. */
		if (t != l && s.n && s.kv[s.n - 1].line > 0) {
			struct kv *kv = &s.kv[s.n - 1];
			char *nv = brm_xasprintf("%s\n%s", kv->value, t);

			free(kv->value);
			kv->value = nv;
			free(l);
			continue;
		}
		if (*t == '[') {
			char *e = strchr(t, ']');

			if (!e) {
				free(l);
				section_done(im, &s);
				return imp_fail(im, line, (int)(t - l) + 1, "section header without ']'");
			}
			section_done(im, &s);
			s.name = brm_xstrndup(t + 1, (size_t)(e - t - 1));
			s.line = line;
			free(l);
			continue;
		}
		sep = t + strcspn(t, "=:");
		if (!*sep || sep == t || !s.name) {
			int col = (int)(t - l) + 1;
			const char *why = !*sep || sep == t ? "expected 'key = value' or a [section]" :
				"a setting before any [section]";

			free(l);
			section_done(im, &s);
			return imp_fail(im, line, col, "%s", why);
		}
		/* supervisord strips " ;comment" at the end of a value */
		for (char *c = sep + 1; *c; c++)
			if (*c == ';' && isspace((unsigned char)c[-1])) {
				*c = '\0';
				break;
			}
		if (s.n == s.cap) {
			s.cap = s.cap ? 2 * s.cap : 16;
			s.kv = brm_xrealloc(s.kv, s.cap * sizeof(*s.kv));
		}
		{
			char *k = brm_xstrndup(t, (size_t)(sep - t)), *v = sep + 1, *e;

			for (e = k + strlen(k); e > k && isspace((unsigned char)e[-1]);)
				*--e = '\0';
			for (char *c = k; *c; c++)
				*c = (char)tolower((unsigned char)*c);
			v += strspn(v, " \t");
			for (e = v + strlen(v); e > v && isspace((unsigned char)e[-1]);)
				*--e = '\0';
			s.kv[s.n++] = (struct kv){ k, brm_xstrdup(v), line };
		}
		free(l);
	}
	section_done(im, &s);
	return 0;
}
