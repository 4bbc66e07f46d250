/*
 * import.c — `brummctl import [--from KIND] [-o FILE [--force]] FILE`:
 * reading the file, deciding what it is, the Procfile reader, and writing
 * brummd's config with a comment beside every approximation. What could not
 * be converted goes to stderr, a line each, naming the file and line; the
 * output is still written (exit 0). An unusable input is exit 1 with the
 * reason and line, a bad command line exit 2.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli/import.h"
#include "lib/util.h"
#include "proto/proto.h"

void imp_note(struct imp *im, int line, const char *where, const char *fmt, ...)
{
	va_list ap;

	brm_buf_addf(&im->notes, "%s:%d: %s ", im->path, line, where);
	va_start(ap, fmt);
	brm_buf_vaddf(&im->notes, fmt, ap);
	va_end(ap);
	brm_buf_addc(&im->notes, '\n');
}

void imp_comment(struct imp *im, const char *name, const char *key, const char *fmt, ...)
{
	cJSON *c = cJSON_GetObjectItemCaseSensitive(im->comments, name);
	struct brm_buf b = BRM_BUF_INIT;
	const cJSON *old;
	va_list ap;

	if (!c)
		c = cJSON_AddObjectToObject(im->comments, name);
	old = cJSON_GetObjectItemCaseSensitive(c, key);
	if (cJSON_IsString(old))
		brm_buf_addf(&b, "%s; ", old->valuestring);
	va_start(ap, fmt);
	brm_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	cJSON_DeleteItemFromObjectCaseSensitive(c, key);
	cJSON_AddStringToObject(c, key, b.p ? b.p : "");
	brm_buf_finish(&b);
}

int imp_fail(struct imp *im, int line, int col, const char *fmt, ...)
{
	va_list ap;

	brm_buf_reset(&im->err);
	if (col > 0)
		brm_buf_addf(&im->err, "%s:%d:%d: ", im->path, line, col);
	else if (line > 0)
		brm_buf_addf(&im->err, "%s:%d: ", im->path, line);
	else
		brm_buf_addf(&im->err, "%s: ", im->path);
	va_start(ap, fmt);
	brm_buf_vaddf(&im->err, fmt, ap);
	va_end(ap);
	return -1;
}

int imp_line_of(const struct imp *im, size_t off, int *col)
{
	int line = 1, c = 1;

	for (size_t i = 0; i < off && i < im->len; i++) {
		if (im->text[i] == '\n') {
			line++;
			c = 1;
		} else {
			c++;
		}
	}
	if (col)
		*col = c;
	return line;
}

cJSON *imp_proc(struct imp *im, const char *name, int line, char **final_name)
{
	char *n = brm_xstrndup(name, BRM_MAX_NAME_LEN - 8);
	cJSON *spec;

	for (char *p = n; *p; p++)
		if (!(isalnum((unsigned char)*p) || strchr("._-@", *p)))
			*p = '-';
	while (n[0] == '.' || n[0] == '-')
		memmove(n, n + 1, strlen(n));
	if (!brm_name_valid(n)) {
		imp_note(im, line, name, "not converted (no usable process name)");
		free(n);
		return NULL;
	}
	if (cJSON_GetObjectItemCaseSensitive(im->procs, n)) {
		imp_note(im, line, name, "not converted (a second process named '%s')", n);
		free(n);
		return NULL;
	}
	spec = cJSON_AddObjectToObject(im->procs, n);
	if (strcmp(n, name) != 0)
		imp_comment(im, n, "cmd", "was '%s': brummd names allow letters, digits and . _ - @", name);
	*final_name = n;
	return spec;
}

char *imp_escape(const char *s)
{
	struct brm_buf b = BRM_BUF_INIT;

	brm_buf_adds(&b, "");
	for (const char *p = s; *p; p++) {
		if (*p == '{' && (isalpha((unsigned char)p[1]) || p[1] == '_')) {
			const char *q = p + 1;

			while (isalnum((unsigned char)*q) || *q == '_')
				q++;
			if (*q == '}')
				brm_buf_addc(&b, '{');
		}
		brm_buf_addc(&b, *p);
	}
	return brm_buf_detach(&b);
}

char **imp_split(const char *s)
{
	struct brm_buf w = BRM_BUF_INIT;
	char **v = brm_xcalloc(strlen(s) / 2 + 2, sizeof(*v));
	size_t n = 0;
	bool in_word = false;

	for (const char *p = s;; p++) {
		if (!*p || isspace((unsigned char)*p)) {
			if (in_word) {
				v[n++] = brm_xstrdup(w.p ? w.p : "");
				brm_buf_reset(&w);
				brm_buf_adds(&w, "");
				in_word = false;
			}
			if (!*p)
				break;
			continue;
		}
		if (strchr("|&;<>()$`*?[~#!", *p) && !(*p == '#' && in_word))
			goto out_shell;
		if (!in_word && n == 0 && strchr(p, '=') && strchr(p, '=') <
		    p + strcspn(p, " \t"))
			goto out_shell;   /* VAR=value cmd */
		in_word = true;
		brm_buf_adds(&w, "");
		if (*p == '\\') {
			if (!p[1])
				goto out_shell;
			brm_buf_addc(&w, *++p);
		} else if (*p == '\'') {
			const char *e = strchr(p + 1, '\'');

			if (!e)
				goto out_shell;
			brm_buf_add(&w, p + 1, (size_t)(e - p - 1));
			p = e;
		} else if (*p == '"') {
			for (p++; *p != '"'; p++) {
				if (!*p || *p == '$' || *p == '`')
					goto out_shell;
				if (*p == '\\' && p[1] && strchr("\"\\$`", p[1]))
					p++;
				brm_buf_addc(&w, *p);
			}
		} else {
			brm_buf_addc(&w, *p);
		}
	}
	brm_buf_finish(&w);
	if (n == 0) {
		free(v);
		return NULL;
	}
	return v;
out_shell:
	brm_buf_finish(&w);
	brm_strv_free(v);
	return NULL;
}

void imp_set_cmd(cJSON *spec, const char *cmd, bool force_shell)
{
	char **v = force_shell ? NULL : imp_split(cmd);
	cJSON *a;

	if (!v) {
		cJSON_AddStringToObject(spec, "cmd", cmd);
		cJSON_AddTrueToObject(spec, "shell");
		return;
	}
	a = cJSON_AddArrayToObject(spec, "cmd");
	for (char **p = v; *p; p++)
		cJSON_AddItemToArray(a, cJSON_CreateString(*p));
	brm_strv_free(v);
}

/* ---- Procfile ------------------------------------------------------------ */

/* "name: command" lines, run by the shell as foreman does. */
static int imp_procfile(struct imp *im)
{
	const char *p = im->text;
	int line = 0;

	while (*p) {
		const char *eol = strchr(p, '\n'), *colon;
		size_t n = eol ? (size_t)(eol - p) : strlen(p);
		char *l = brm_xstrndup(p, n), *name, *cmd, *final;
		cJSON *spec;

		line++;
		p += n + (eol ? 1 : 0);
		if (n && l[n - 1] == '\r')
			l[--n] = '\0';
		name = l + strspn(l, " \t");
		if (!*name || *name == '#') {
			free(l);
			continue;
		}
		colon = strchr(name, ':');
		if (!colon || colon == name) {
			free(l);
			return imp_fail(im, line, 0, "expected 'NAME: COMMAND'");
		}
		l[colon - l] = '\0';
		cmd = (char *)colon + 1;
		cmd += strspn(cmd, " \t");
		if (!*cmd || strcspn(name, " \t") != strlen(name)) {
			free(l);
			return imp_fail(im, line, 0, "expected 'NAME: COMMAND'");
		}
		spec = imp_proc(im, name, line, &final);
		if (spec) {
			char *e = imp_escape(cmd);

			imp_set_cmd(spec, e, true);
			free(e);
			cJSON_AddStringToObject(spec, "restart", "always");
			free(final);
		}
		free(l);
	}
	return 0;
}

/* ---- which kind ---------------------------------------------------------- */

enum kind { K_NONE, K_SUPERVISORD, K_PROCFILE, K_PM2 };

static enum kind kind_named(const char *s)
{
	if (!strcmp(s, "supervisord"))
		return K_SUPERVISORD;
	if (!strcmp(s, "procfile"))
		return K_PROCFILE;
	if (!strcmp(s, "pm2"))
		return K_PM2;
	return K_NONE;
}

static bool ends_with(const char *s, const char *tail)
{
	size_t a = strlen(s), b = strlen(tail);

	return a >= b && !strcmp(s + a - b, tail);
}

static enum kind guess(const struct imp *im)
{
	const char *base = strrchr(im->path, '/') ? strrchr(im->path, '/') + 1 : im->path;
	const char *t = im->text + strspn(im->text, " \t\r\n");

	if (!strncmp(base, "Procfile", 8))
		return K_PROCFILE;
	if (ends_with(base, ".js") || ends_with(base, ".cjs") || ends_with(base, ".mjs") ||
	    ends_with(base, ".json"))
		return K_PM2;
	if (ends_with(base, ".conf") || ends_with(base, ".ini") || strstr(im->text, "[program:"))
		return K_SUPERVISORD;
	if (*t == '{' || strstr(im->text, "module.exports") || strstr(im->text, "export default"))
		return K_PM2;
	if (*t == '[' || *t == ';')
		return K_SUPERVISORD;
	return K_PROCFILE;
}

/* NUL bytes or other control characters: not a config file. */
static int check_text(struct imp *im)
{
	for (size_t i = 0; i < im->len; i++) {
		unsigned char c = (unsigned char)im->text[i];

		if (c < 0x20 && c != '\n' && c != '\r' && c != '\t') {
			int col, line = imp_line_of(im, i, &col);

			return imp_fail(im, line, col, "binary data (byte 0x%02x): not a config file", c);
		}
	}
	return 0;
}

/* ---- output -------------------------------------------------------------- */

static void emit(struct imp *im, const char *kind, struct brm_buf *o)
{
	const cJSON *proc, *item;

	brm_buf_addf(o, "// Converted by 'brummctl import' from the %s '%s'.\n", kind, im->path);
	brm_buf_adds(o, "// Check it with 'brummd --check-config FILE'; notes on what was not\n"
		     "// converted were printed to stderr.\n{\n  \"processes\": {");
	cJSON_ArrayForEach(proc, im->procs) {
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(im->comments, proc->string);

		brm_buf_adds(o, proc == im->procs->child ? "\n    " : ",\n    ");
		brm_json_str(o, proc->string);
		brm_buf_adds(o, ": {");
		cJSON_ArrayForEach(item, proc) {
			const cJSON *cm = c ? cJSON_GetObjectItemCaseSensitive(c, item->string) : NULL;
			char *v = cJSON_PrintUnformatted(item);

			brm_buf_adds(o, "\n      ");
			brm_json_str(o, item->string);
			brm_buf_adds(o, ": ");
			brm_buf_adds(o, v ? v : "null");
			if (item->next)
				brm_buf_addc(o, ',');
			if (cm && cJSON_IsString(cm)) {
				brm_buf_adds(o, "  // ");
				for (const char *s = cm->valuestring; *s; s++)
					brm_buf_addc(o, *s == '\n' ? ' ' : *s);
			}
			free(v);
		}
		brm_buf_adds(o, "\n    }");
	}
	brm_buf_adds(o, "\n  }\n}\n");
}

static int write_out(const char *out, bool force, const char *data, size_t len)
{
	int fd = open(out, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW |
		      (force ? O_TRUNC : O_EXCL), 0644);
	size_t off = 0;

	if (fd < 0) {
		if (errno == EEXIST)
			fprintf(stderr, "brummctl: import: '%s' exists; not overwriting it without"
				" --force\n", out);
		else
			fprintf(stderr, "brummctl: import: cannot create '%s': %s\n", out,
				strerror(errno));
		return -1;
	}
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			fprintf(stderr, "brummctl: import: cannot write '%s': %s\n", out,
				strerror(errno));
			close(fd);
			return -1;
		}
		off += (size_t)w;
	}
	if (close(fd) < 0) {
		fprintf(stderr, "brummctl: import: cannot write '%s': %s\n", out, strerror(errno));
		return -1;
	}
	return 0;
}

static const char import_usage[] =
	"usage: brummctl import [--from supervisord|procfile|pm2] [-o FILE [--force]] FILE\n";

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("brummctl: import: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fputs(import_usage, stderr);
	return 2;
}

static void print_help(void)
{
	fputs(import_usage, stdout);
	fputs("\nConvert a supervisord config ([program:x] sections), a Procfile or a pm2\n"
	      "ecosystem file (JSON, or a .config.js exporting plain data) into brummd's\n"
	      "config, on stdout or into FILE. A comment marks each approximation; every\n"
	      "setting that could not be converted is a line on stderr (FILE:LINE: what:\n"
	      "why). The kind is guessed from the name and contents unless --from.\n"
	      "\n"
	      "      --from KIND   supervisord, procfile or pm2\n"
	      "  -o, --output FILE write the config here (never over an existing file)\n"
	      "      --force       with -o: replace FILE if it exists\n"
	      "\n"
	      "exit: 0 converted (also with notes), 1 the input is unusable, 2 usage\n", stdout);
}

static int read_input(struct imp *im, struct brm_buf *b)
{
	int fd = open(im->path, O_RDONLY | O_CLOEXEC);
	int r;

	if (fd < 0)
		return imp_fail(im, 0, 0, "cannot open: %s", strerror(errno));
	r = brm_buf_read_file(b, fd, IMP_MAX_BYTES);
	close(fd);
	if (r < 0 && r != -EFBIG)
		return imp_fail(im, 0, 0, "cannot read: %s", strerror(-r));
	if (r == -EFBIG)
		return imp_fail(im, 0, 0, "larger than %u MiB: not a config file",
				IMP_MAX_BYTES >> 20);
	im->text = b->p;
	im->len = b->len;
	return 0;
}

int cli_import_main(int argc, char **argv)
{
	const char *path = NULL, *out = NULL, *from = NULL;
	static const char *const names[] = { "", "supervisord config", "Procfile",
					      "pm2 ecosystem file" };
	struct brm_buf in = BRM_BUF_INIT, o = BRM_BUF_INIT;
	struct imp im;
	bool force = false;
	enum kind k = K_NONE;
	char dirbuf[PATH_MAX];
	char *dir;
	int ret = 1, r;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			print_help();
			return 0;
		} else if (!strcmp(a, "--force")) {
			force = true;
		} else if (!strcmp(a, "--from") || !strcmp(a, "-o") || !strcmp(a, "--output")) {
			if (i + 1 >= argc)
				return usage_error("'%s' needs a value", a);
			if (a[2] == 'f')
				from = argv[++i];
			else
				out = argv[++i];
		} else if (!strncmp(a, "--from=", 7)) {
			from = a + 7;
		} else if (!strncmp(a, "--output=", 9)) {
			out = a + 9;
		} else if (!strcmp(a, "--")) {
			if (i + 2 != argc || path)
				return usage_error("expected one FILE");
			path = argv[++i];
		} else if (a[0] == '-' && a[1]) {
			return usage_error("unknown option '%s'", a);
		} else if (path) {
			return usage_error("one FILE at a time ('%s' is a second)", a);
		} else {
			path = a;
		}
	}
	if (!path)
		return usage_error("missing FILE");
	if (from && (k = kind_named(from)) == K_NONE)
		return usage_error("--from '%s': expected supervisord, procfile or pm2", from);
	if (force && !out)
		return usage_error("--force goes with -o FILE");

	memset(&im, 0, sizeof(im));
	im.path = path;
	if (strrchr(path, '/'))
		dir = brm_xstrndup(path, (size_t)(strrchr(path, '/') - path));
	else
		dir = brm_xstrdup(".");
	im.dir = realpath(dir[0] ? dir : "/", dirbuf) ? dirbuf : dir;
	im.procs = cJSON_CreateObject();
	im.comments = cJSON_CreateObject();

	if (read_input(&im, &in) < 0 || check_text(&im) < 0)
		goto out_report;
	if (k == K_NONE)
		k = guess(&im);
	r = k == K_SUPERVISORD ? imp_supervisord(&im) : k == K_PM2 ? imp_pm2(&im) :
	    imp_procfile(&im);
	if (r < 0)
		goto out_report;
	if (!cJSON_GetArraySize(im.procs)) {
		imp_fail(&im, 0, 0, "no processes found in this %s", names[k]);
		goto out_report;
	}
	emit(&im, names[k], &o);
	if (im.notes.len)
		fwrite(im.notes.p, 1, im.notes.len, stderr);
	if (out) {
		ret = write_out(out, force, o.p, o.len) < 0 ? 1 : 0;
	} else {
		fwrite(o.p, 1, o.len, stdout);
		ret = fflush(stdout) == 0 ? 0 : 1;
	}
	goto out_free;

out_report:
	if (im.notes.len)
		fwrite(im.notes.p, 1, im.notes.len, stderr);
	fprintf(stderr, "brummctl: import: %s\n", im.err.p ? im.err.p : "failed");
out_free:
	brm_buf_finish(&o);
	brm_buf_finish(&in);
	brm_buf_finish(&im.notes);
	brm_buf_finish(&im.err);
	cJSON_Delete(im.procs);
	cJSON_Delete(im.comments);
	free(dir);
	return ret;
}
