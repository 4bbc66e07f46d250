/*
 * import_pm2.c — a pm2 ecosystem file: JSON, or JavaScript whose
 * `module.exports = {...}` (or `export default {...}`) is plain data.
 *
 * The object literal is read by a small parser for the data subset of
 * JavaScript: objects with quoted or bare keys, arrays, strings in single,
 * double or back quotes (without ${}), numbers, true, false, null,
 * undefined, comments and trailing commas. Anything else (a call, a
 * variable, an expression) is refused at its line and column, as is
 * nesting deeper than IMP_MAX_DEPTH, so the parser's recursion is bounded.
 * Each app of "apps" becomes a process.
 */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/import.h"
#include "lib/util.h"

struct js {
	struct imp *im;
	const char *p;        /* the next character */
	const char *err_at;
	char err[200];
	struct { const cJSON *obj; int line; } *at;   /* where each object began */
	size_t nat, capat;
};

/* The line where object @o began (for a key's value: the key's line); 0
 * when unknown. The last record wins: an object is recorded at its '{',
 * then as a key's value. */
static int line_of(const struct js *j, const cJSON *o)
{
	for (size_t i = j->nat; i-- > 0;)
		if (j->at[i].obj == o)
			return j->at[i].line;
	return 0;
}

static int js_fail(struct js *j, const char *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int js_fail(struct js *j, const char *at, const char *fmt, ...)
{
	va_list ap;

	if (!j->err_at) {
		j->err_at = at;
		va_start(ap, fmt);
		vsnprintf(j->err, sizeof(j->err), fmt, ap);
		va_end(ap);
	}
	return -1;
}

static void skip_space(struct js *j)
{
	for (;;) {
		j->p += strspn(j->p, " \t\r\n");
		if (j->p[0] == '/' && j->p[1] == '/') {
			j->p += strcspn(j->p, "\n");
		} else if (j->p[0] == '/' && j->p[1] == '*') {
			const char *e = strstr(j->p + 2, "*/");

			if (!e) {
				js_fail(j, j->p, "comment without '*/'");
				j->p += strlen(j->p);
				return;
			}
			j->p = e + 2;
		} else {
			return;
		}
	}
}

static bool ident_start(char c)
{
	return isalpha((unsigned char)c) || c == '_' || c == '$';
}

static size_t ident_len(const char *p)
{
	size_t n = 0;

	if (!ident_start(p[0]))
		return 0;
	while (ident_start(p[n]) || isdigit((unsigned char)p[n]))
		n++;
	return n;
}

/* A string literal at j->p into a new string; NULL on error. */
static char *string(struct js *j)
{
	struct brm_buf b = BRM_BUF_INIT;
	const char *start = j->p;
	char q = *j->p++;

	brm_buf_adds(&b, "");
	for (; *j->p != q; j->p++) {
		char c = *j->p;

		if (!c || (c == '\n' && q != '`')) {
			brm_buf_finish(&b);
			js_fail(j, start, "string without its closing quote");
			return NULL;
		}
		if (q == '`' && c == '$' && j->p[1] == '{') {
			brm_buf_finish(&b);
			js_fail(j, j->p, "not plain data: a template expression ${...}");
			return NULL;
		}
		if (c == '\\') {
			c = *++j->p;
			switch (c) {
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'r': c = '\r'; break;
			case '0': c = '\0'; break;
			case '\n': continue;
			case 'u': case 'x':
				brm_buf_finish(&b);
				js_fail(j, j->p - 1, "\\%c escapes are not supported here", c);
				return NULL;
			case '\0':
				brm_buf_finish(&b);
				js_fail(j, start, "string without its closing quote");
				return NULL;
			default: break;
			}
			if (!c)
				continue;   /* no NUL inside a C string */
		}
		brm_buf_addc(&b, c);
	}
	j->p++;
	return brm_buf_detach(&b);
}

static cJSON *value(struct js *j, int depth);

/* Remember that @v (an object, or a key's value) begins at line of @at. */
static void record(struct js *j, const cJSON *v, const char *at)
{
	if (j->nat == j->capat) {
		j->capat = j->capat ? 2 * j->capat : 16;
		j->at = brm_xrealloc(j->at, j->capat * sizeof(*j->at));
	}
	j->at[j->nat].obj = v;
	j->at[j->nat++].line = imp_line_of(j->im, (size_t)(at - j->im->text), NULL);
}

static cJSON *object(struct js *j, int depth)
{
	cJSON *o = cJSON_CreateObject();
	const char *start = j->p;

	j->p++;
	record(j, o, start);
	for (;;) {
		char *key;
		const char *kat;
		cJSON *v;
		size_t n;

		skip_space(j);
		if (*j->p == '}') {
			j->p++;
			return o;
		}
		kat = j->p;
		if (*j->p == '"' || *j->p == '\'') {
			key = string(j);
		} else if ((n = ident_len(j->p)) > 0) {
			key = brm_xstrndup(j->p, n);
			j->p += n;
		} else if (isdigit((unsigned char)*j->p)) {
			n = strspn(j->p, "0123456789");
			key = brm_xstrndup(j->p, n);
			j->p += n;
		} else {
			js_fail(j, j->p, "expected a key or '}'%s", *j->p ? "" : " (the file ends)");
			goto out_fail;
		}
		if (!key)
			goto out_fail;
		skip_space(j);
		if (*j->p != ':') {
			free(key);
			js_fail(j, j->p, *j->p == '(' ? "not plain data: a method" :
				"expected ':' after a key");
			goto out_fail;
		}
		j->p++;
		v = value(j, depth + 1);
		if (!v) {
			free(key);
			goto out_fail;
		}
		if (cJSON_GetObjectItemCaseSensitive(o, key)) {
			free(key);
			cJSON_Delete(v);
			js_fail(j, kat, "duplicate key");
			goto out_fail;
		}
		cJSON_AddItemToObject(o, key, v);
		free(key);
		record(j, v, kat);
		skip_space(j);
		if (*j->p == ',')
			j->p++;
		else if (*j->p != '}') {
			js_fail(j, j->p, "expected ',' or '}'");
			goto out_fail;
		}
	}
out_fail:
	cJSON_Delete(o);
	return NULL;
}

static cJSON *array(struct js *j, int depth)
{
	cJSON *a = cJSON_CreateArray();

	j->p++;
	for (;;) {
		cJSON *v;

		skip_space(j);
		if (*j->p == ']') {
			j->p++;
			return a;
		}
		v = value(j, depth + 1);
		if (!v)
			break;
		cJSON_AddItemToArray(a, v);
		skip_space(j);
		if (*j->p == ',') {
			j->p++;
		} else if (*j->p != ']') {
			js_fail(j, j->p, "expected ',' or ']'");
			break;
		}
	}
	cJSON_Delete(a);
	return NULL;
}

static cJSON *value(struct js *j, int depth)
{
	size_t n;

	skip_space(j);
	if (j->err_at)
		return NULL;
	if (depth > IMP_MAX_DEPTH) {
		js_fail(j, j->p, "nested too deep (more than %d levels)", IMP_MAX_DEPTH);
		return NULL;
	}
	if (*j->p == '{')
		return object(j, depth);
	if (*j->p == '[')
		return array(j, depth);
	if (*j->p == '"' || *j->p == '\'' || *j->p == '`') {
		char *s = string(j);
		cJSON *v = s ? cJSON_CreateString(s) : NULL;

		free(s);
		return v;
	}
	if (isdigit((unsigned char)*j->p) || ((*j->p == '-' || *j->p == '.') &&
					       (isdigit((unsigned char)j->p[1]) || j->p[1] == '.'))) {
		char *end;
		double d = strtod(j->p, &end);

		if (end == j->p || !isfinite(d) || ident_start(*end)) {
			js_fail(j, j->p, "not a number");
			return NULL;
		}
		j->p = end;
		return cJSON_CreateNumber(d);
	}
	n = ident_len(j->p);
	if (n == 4 && !strncmp(j->p, "true", 4)) {
		j->p += 4;
		return cJSON_CreateTrue();
	}
	if (n == 5 && !strncmp(j->p, "false", 5)) {
		j->p += 5;
		return cJSON_CreateFalse();
	}
	if ((n == 4 && !strncmp(j->p, "null", 4)) || (n == 9 && !strncmp(j->p, "undefined", 9))) {
		j->p += n;
		return cJSON_CreateNull();
	}
	if (n) {
		char word[64];

		snprintf(word, sizeof(word), "%.*s", (int)(n < 40 ? n : 40), j->p);
		js_fail(j, j->p, "not plain data: '%s' is code (a variable or a call); write"
			" the value itself", word);
		return NULL;
	}
	if (!*j->p)
		js_fail(j, j->p, "the file ends where a value should be");
	else
		js_fail(j, j->p, "not plain data: unexpected '%.1s'", j->p);
	return NULL;
}

/* Where the exported object starts: after `module.exports =` or `export
 * default`, outside comments and strings; or the file itself is JSON. */
static const char *find_object(struct js *j)
{
	j->p = j->im->text;
	for (;;) {
		skip_space(j);
		if (!*j->p || j->err_at)
			return NULL;
		if (*j->p == '{' && j->p == j->im->text + strspn(j->im->text, " \t\r\n"))
			return j->p;
		if (*j->p == '"' || *j->p == '\'' || *j->p == '`') {
			char *s = string(j);

			if (!s)
				return NULL;
			free(s);
			continue;
		}
		if (!strncmp(j->p, "module.exports", 14) || !strncmp(j->p, "export default", 14)) {
			bool assign = j->p[0] == 'm';

			j->p += 14;
			skip_space(j);
			if (assign) {
				if (*j->p != '=')
					continue;
				j->p++;
				skip_space(j);
			}
			if (*j->p != '{') {
				js_fail(j, j->p, "not plain data: the export is not an object literal");
				return NULL;
			}
			return j->p;
		}
		j->p++;
	}
}

/* pm2 durations: milliseconds as a number, or a string "1s", "500ms", "2m". */
static bool ms_of(const cJSON *v, double *secs)
{
	char *end;
	double d;

	if (cJSON_IsNumber(v)) {
		*secs = v->valuedouble / 1000;
		return v->valuedouble >= 0;
	}
	if (!cJSON_IsString(v))
		return false;
	d = strtod(v->valuestring, &end);
	if (end == v->valuestring || d < 0)
		return false;
	if (!*end || !strcmp(end, "ms"))
		*secs = d / 1000;
	else if (!strcmp(end, "s"))
		*secs = d;
	else if (!strcmp(end, "m"))
		*secs = d * 60;
	else if (!strcmp(end, "h"))
		*secs = d * 3600;
	else
		return false;
	return true;
}

static void add_words(cJSON *argv, const cJSON *v)
{
	const cJSON *e;

	if (cJSON_IsArray(v)) {
		cJSON_ArrayForEach(e, v)
			if (cJSON_IsString(e) || cJSON_IsNumber(e)) {
				char *s = cJSON_IsString(e) ? imp_escape(e->valuestring) :
					brm_xasprintf("%g", e->valuedouble);

				cJSON_AddItemToArray(argv, cJSON_CreateString(s));
				free(s);
			}
	} else if (cJSON_IsString(v)) {
		char *s = imp_escape(v->valuestring);
		char **w = imp_split(s);

		for (char **p = w; p && *p; p++)
			cJSON_AddItemToArray(argv, cJSON_CreateString(*p));
		if (!w && *s)
			cJSON_AddItemToArray(argv, cJSON_CreateString(s));
		brm_strv_free(w);
		free(s);
	}
}

/* The interpreter pm2 picks by the script's extension, or NULL: run it. */
static const char *interpreter_for(const char *script)
{
	const char *dot = strrchr(script, '.');

	if (!dot || strchr(dot, '/'))
		return NULL;
	if (!strcmp(dot, ".js") || !strcmp(dot, ".cjs") || !strcmp(dot, ".mjs"))
		return "node";
	if (!strcmp(dot, ".py"))
		return "python3";
	if (!strcmp(dot, ".sh"))
		return "bash";
	if (!strcmp(dot, ".rb"))
		return "ruby";
	if (!strcmp(dot, ".php"))
		return "php";
	if (!strcmp(dot, ".ts"))
		return "ts-node";
	return NULL;
}

static void app(struct imp *im, const struct js *j, const cJSON *a, int idx, int line)
{
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(a, "name");
	const cJSON *script = cJSON_GetObjectItemCaseSensitive(a, "script");
	const cJSON *interp = cJSON_GetObjectItemCaseSensitive(a, "interpreter");
	const cJSON *k;
	char where[128], *n = NULL, *pname;
	cJSON *spec, *argv;
	double secs;

	pname = cJSON_IsString(name) ? brm_xstrdup(name->valuestring) :
		brm_xasprintf("app%d", idx);
	snprintf(where, sizeof(where), "apps[%d] (%s)", idx, pname);
	if (!cJSON_IsString(script) || !script->valuestring[0]) {
		imp_note(im, line, where, "not converted (no \"script\")");
		free(pname);
		return;
	}
	spec = imp_proc(im, pname, line, &n);
	free(pname);
	if (!spec)
		return;

	argv = cJSON_CreateArray();
	if (cJSON_IsString(interp) && strcmp(interp->valuestring, "none") != 0) {
		cJSON_AddItemToArray(argv, cJSON_CreateString(interp->valuestring));
	} else if (!interp && interpreter_for(script->valuestring)) {
		cJSON_AddItemToArray(argv, cJSON_CreateString(interpreter_for(script->valuestring)));
		imp_comment(im, n, "cmd", "the interpreter pm2 picks for '%s'",
			    strrchr(script->valuestring, '.'));
	}
	if (cJSON_GetArraySize(argv)) {
		add_words(argv, cJSON_GetObjectItemCaseSensitive(a, "interpreter_args"));
		add_words(argv, cJSON_GetObjectItemCaseSensitive(a, "node_args"));
		{
			char *s = imp_escape(script->valuestring);

			cJSON_AddItemToArray(argv, cJSON_CreateString(s));
			free(s);
		}
	} else {
		add_words(argv, script);
	}
	add_words(argv, cJSON_GetObjectItemCaseSensitive(a, "args"));
	cJSON_AddItemToObject(spec, "cmd", argv);

	k = cJSON_GetObjectItemCaseSensitive(a, "cwd");
	if (cJSON_IsString(k) && k->valuestring[0]) {
		char *s = imp_escape(k->valuestring);
		const char *rel = strncmp(s, "./", 2) ? s : s + 2;
		char *c = s[0] == '/' ? brm_xstrdup(s) : brm_xasprintf("%s/%s", im->dir, rel);

		cJSON_AddStringToObject(spec, "cwd", c);
		free(c);
		free(s);
	} else {
		char *s = imp_escape(im->dir);

		cJSON_AddStringToObject(spec, "cwd", s);
		imp_comment(im, n, "cwd", "pm2 runs an app without \"cwd\" in its file's directory");
		free(s);
	}
	cJSON_ArrayForEach(k, a) {
		const char *key = k->string;

		if (!strcmp(key, "name") || !strcmp(key, "script") || !strcmp(key, "interpreter") ||
		    !strcmp(key, "args") || !strcmp(key, "cwd") || !strcmp(key, "interpreter_args") ||
		    !strcmp(key, "node_args") || !strcmp(key, "error_file") ||
		    !strcmp(key, "out_file") || !strcmp(key, "log_file")) {
			continue;
		} else if (!strcmp(key, "env") && cJSON_IsObject(k)) {
			cJSON *env = cJSON_AddObjectToObject(spec, "env");
			const cJSON *e;

			cJSON_ArrayForEach(e, k) {
				char *s = cJSON_IsString(e) ? imp_escape(e->valuestring) :
					cJSON_IsNumber(e) ? brm_xasprintf("%g", e->valuedouble) :
					cJSON_IsBool(e) ? brm_xstrdup(cJSON_IsTrue(e) ? "true" : "false") :
					NULL;

				if (!e->string[0] || strchr(e->string, '='))
					imp_note(im, line_of(j, e), where, "env.%s: not converted (not a"
						 " variable name)", e->string);
				else if (s)
					cJSON_AddStringToObject(env, e->string, s);
				else
					imp_note(im, line_of(j, e), where, "env.%s: not converted (not a string,"
						 " number or boolean)", e->string);
				free(s);
			}
		} else if (!strncmp(key, "env_", 4)) {
			imp_note(im, line_of(j, k), where, "%s: not converted (brummd has one \"env\" per"
				 " process; merge it by hand for that environment)", key);
		} else if (!strcmp(key, "instances")) {
			if (cJSON_IsNumber(k) && k->valuedouble >= 2 && k->valuedouble <= 1000 &&
			    k->valuedouble == (int)k->valuedouble)
				cJSON_AddNumberToObject(spec, "instances", k->valuedouble);
			else if (!(cJSON_IsNumber(k) && k->valuedouble == 1))
				imp_note(im, line_of(j, k), where, "instances: not converted (brummd takes a"
					 " number from 1 to 1000, not one per CPU)");
		} else if (!strcmp(key, "exec_mode")) {
			if (cJSON_IsString(k) && strstr(k->valuestring, "cluster"))
				imp_note(im, line_of(j, k), where, "exec_mode cluster: not converted (brummd runs"
					 " separate processes; give each its own port with \"port\" and"
					 " {port})");
		} else if (!strcmp(key, "autorestart")) {
			cJSON_AddStringToObject(spec, "restart", cJSON_IsFalse(k) ? "never" : "always");
		} else if (!strcmp(key, "max_restarts") && cJSON_IsNumber(k) &&
			   k->valuedouble >= 0 && k->valuedouble <= 1000) {
			cJSON_AddNumberToObject(spec, "start_retries", (int)k->valuedouble);
			imp_comment(im, n, "start_retries", "max_restarts: failed starts (exits"
				    " within min_uptime_secs) before giving up");
		} else if (!strcmp(key, "min_uptime") && ms_of(k, &secs)) {
			cJSON_AddNumberToObject(spec, "min_uptime_secs", secs);
		} else if (!strcmp(key, "restart_delay") && ms_of(k, &secs)) {
			cJSON_AddNumberToObject(spec, "backoff_secs", secs);
			imp_comment(im, n, "backoff_secs", "restart_delay; brummd doubles it after"
				    " each failure, up to backoff_max_secs");
		} else if (!strcmp(key, "kill_timeout") && ms_of(k, &secs)) {
			cJSON_AddNumberToObject(spec, "stop_timeout_secs", secs);
		} else if (!strcmp(key, "autostart") && cJSON_IsBool(k)) {
			cJSON_AddBoolToObject(spec, "autostart", cJSON_IsTrue(k));
		} else if ((!strcmp(key, "user") || !strcmp(key, "uid")) && cJSON_IsString(k)) {
			cJSON_AddStringToObject(spec, "user", k->valuestring);
		} else if (!strcmp(key, "watch") || !strcmp(key, "ignore_watch")) {
			if (!cJSON_IsFalse(k))
				imp_note(im, line_of(j, k), where, "%s: not converted (brummd does not restart"
					 " on file changes)", key);
		} else {
			imp_note(im, line_of(j, k), where, "%s: not converted (no brummd equivalent)", key);
		}
	}

	/* brummd has one log_file for both streams, lines marked out/err. */
	{
		const cJSON *lf = cJSON_GetObjectItemCaseSensitive(a, "log_file");
		const cJSON *of = cJSON_GetObjectItemCaseSensitive(a, "out_file");
		const cJSON *ef = cJSON_GetObjectItemCaseSensitive(a, "error_file");
		const cJSON *use = cJSON_IsString(lf) ? lf : cJSON_IsString(of) ? of :
			cJSON_IsString(ef) ? ef : NULL;

		if (use && strcmp(use->valuestring, "/dev/null") != 0) {
			char *s = imp_escape(use->valuestring);
			const char *rel = strncmp(s, "./", 2) ? s : s + 2;
			char *f = s[0] == '/' ? brm_xstrdup(s) : brm_xasprintf("%s/%s", im->dir, rel);

			cJSON_AddStringToObject(spec, "log_file", f);
			imp_comment(im, n, "log_file", "from %s: stdout and stderr, lines marked"
				    " out/err", use->string);
			free(f);
			free(s);
		}
		if (use && use != of && cJSON_IsString(of) && strcmp(of->valuestring, "/dev/null"))
			imp_note(im, line_of(j, of), where, "out_file: not converted (brummd writes both"
				 " streams to the one log_file)");
		if (use && use != ef && cJSON_IsString(ef) && strcmp(ef->valuestring, "/dev/null") &&
		    !(cJSON_IsString(of) && !strcmp(of->valuestring, ef->valuestring)))
			imp_note(im, line_of(j, ef), where, "error_file: not converted (brummd writes both"
				 " streams to the one log_file)");
	}
	if (!cJSON_GetObjectItemCaseSensitive(spec, "restart"))
		cJSON_AddStringToObject(spec, "restart", "always");
	free(n);
}

int imp_pm2(struct imp *im)
{
	struct js j = { .im = im };
	const cJSON *apps, *a;
	const char *start;
	cJSON *root = NULL;
	int idx = 0, line, col, ret = 0;

	start = find_object(&j);
	if (!start && !j.err_at) {
		ret = imp_fail(im, 0, 0, "no 'module.exports = {...}', 'export default {...}' or"
			       " JSON object: not a pm2 ecosystem file");
		goto out_free;
	}
	root = start ? value(&j, 0) : NULL;
	if (!root) {
		line = imp_line_of(im, (size_t)(j.err_at - im->text), &col);
		ret = imp_fail(im, line, col, "%s", j.err);
		goto out_free;
	}
	apps = cJSON_GetObjectItemCaseSensitive(root, "apps");
	if (!apps && cJSON_GetObjectItemCaseSensitive(root, "script")) {
		app(im, &j, root, 0, line_of(&j, root));   /* a single app's object */
		goto out_free;
	}
	if (!cJSON_IsArray(apps)) {
		line = imp_line_of(im, (size_t)(start - im->text), &col);
		ret = imp_fail(im, line, col, "no \"apps\" list: not a pm2 ecosystem file");
		goto out_free;
	}
	cJSON_ArrayForEach(a, apps) {
		if (!cJSON_IsObject(a))
			imp_note(im, line_of(&j, apps), "apps", "[%d]: not converted (not an"
				 " object)", idx);
		else
			app(im, &j, a, idx, line_of(&j, a));
		idx++;
	}
out_free:
	cJSON_Delete(root);
	free(j.at);
	return ret;
}
