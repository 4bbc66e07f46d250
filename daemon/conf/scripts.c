/*
 * scripts.c — "scripts_from": processes from a package.json, a Procfile
 * or a Makefile (scripts.h says what each becomes and why).
 *
 * Each entry is written as the spec a person would have written in
 * "processes" (a cJSON object) and read by brm_spec_read(), so it gets
 * exactly the same checks and defaults as a hand-written one.
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <glob.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "daemon/conf/diag.h"
#include "daemon/conf/scripts.h"
#include "daemon/conf/spec.h"
#include "lib/buf.h"
#include "lib/util.h"
#include "proto/proto.h"

#define MAX_SCRIPTS_FILE (1024 * 1024)

enum kind { K_PACKAGE_JSON, K_PROCFILE, K_MAKEFILE };

struct out {
	struct brm_report *r;
	const char *path;       /* key path for problems: scripts_from[I] */
	const char *file;       /* the file, for messages */
	char *dir;              /* its directory: the processes' cwd */
	char user[16];          /* "" or the owner's uid, when we are root */
	uid_t owner;            /* the last file's owner (open_checked) */
	struct brm_proc_spec ***procs;
	size_t *n, cap;
};

static bool taken(const struct out *o, const char *name)
{
	for (size_t i = 0; i < *o->n; i++)
		if (!strcmp((*o->procs)[i]->name, name))
			return true;
	return false;
}

/*
 * Append the process @raw_name running @cmd (a JSON array), autostart
 * @autostart. A script or target that is not autostarted is a task a
 * person runs (a build, a test, a dev server): one that fails at once is
 * not tried again behind their back ("start_retries": 0).
 */
static void add(struct out *o, const char *raw_name, cJSON *cmd, bool autostart)
{
	char name[BRM_MAX_NAME_LEN + 1], *p;
	cJSON *spec;
	struct brm_proc_spec *s;
	unsigned before = o->r->n;
	size_t i;

	for (i = 0; i < BRM_MAX_NAME_LEN && raw_name[i]; i++) {
		char c = raw_name[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || strchr("._:@-", c);

		name[i] = ok ? c : '-';
	}
	name[i] = '\0';
	if (raw_name[i] || !brm_name_valid(name) || taken(o, name)) {
		cJSON_Delete(cmd);
		return;
	}
	spec = cJSON_CreateObject();
	cJSON_AddItemToObject(spec, "cmd", cmd);
	cJSON_AddStringToObject(spec, "cwd", o->dir);
	cJSON_AddBoolToObject(spec, "autostart", autostart);
	if (!autostart)
		cJSON_AddNumberToObject(spec, "start_retries", 0);
	if (o->user[0])
		cJSON_AddStringToObject(spec, "user", o->user);
	p = brm_xasprintf("%s:%s", o->path, name);
	s = brm_spec_read(o->r, spec, name, p, -1);
	free(p);
	cJSON_Delete(spec);
	if (!s)
		return;
	if (o->r->n != before) {
		brm_spec_destroy(s);
		return;
	}
	if (*o->n == o->cap) {
		o->cap = o->cap * 2 + 16;
		*o->procs = brm_xrealloc(*o->procs, o->cap * sizeof(**o->procs));
	}
	(*o->procs)[(*o->n)++] = s;
}

static cJSON *argv3(const char *a, const char *b, const char *c)
{
	cJSON *v = cJSON_CreateArray();

	cJSON_AddItemToArray(v, cJSON_CreateString(a));
	cJSON_AddItemToArray(v, cJSON_CreateString(b));
	cJSON_AddItemToArray(v, cJSON_CreateString(c));
	return v;
}

static bool exists_in(int dfd, const char *name)
{
	return faccessat(dfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

/* The package manager: "packageManager" ("pnpm@9.1.0"), else a lockfile, else npm. */
static const char *package_manager(const cJSON *root, int dfd)
{
	static const char *const known[] = { "npm", "yarn", "pnpm", "bun" };
	const cJSON *pm = cJSON_GetObjectItemCaseSensitive(root, "packageManager");

	if (cJSON_IsString(pm)) {
		for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
			size_t k = strlen(known[i]);

			if (!strncmp(pm->valuestring, known[i], k) &&
			    (pm->valuestring[k] == '@' || pm->valuestring[k] == '\0'))
				return known[i];
		}
	}
	if (exists_in(dfd, "bun.lockb") || exists_in(dfd, "bun.lock"))
		return "bun";
	if (exists_in(dfd, "pnpm-lock.yaml"))
		return "pnpm";
	if (exists_in(dfd, "yarn.lock"))
		return "yarn";
	return "npm";
}

#define MAX_WORKSPACE_PACKAGES 256

static int open_checked(struct out *o, const char *dir, const char *base, const char *file,
			struct brm_buf *b);

/* The scripts of one workspace package in @pkgdir, named DIRNAME/SCRIPT
 * (the '/' becomes '-'), run in @pkgdir by the root's @pm. */
static void read_workspace_package(struct out *o, const char *pkgdir, const char *pm)
{
	struct brm_buf b = BRM_BUF_INIT;
	const char *slash = strrchr(pkgdir, '/');
	char *file = brm_xasprintf("%s/package.json", pkgdir), *root_dir = o->dir;
	char root_user[sizeof(o->user)];
	uid_t root_owner = o->owner;
	cJSON *pkg = NULL;
	int dfd;

	memcpy(root_user, o->user, sizeof(root_user));
	if (faccessat(AT_FDCWD, file, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
		goto out;   /* a directory the pattern took that is no package */
	dfd = open_checked(o, pkgdir, "package.json", file, &b);
	if (dfd < 0)
		goto out;
	close(dfd);
	/* A pattern (or a link in the project) may reach another user's
	 * project: its scripts would run as that user. */
	if (o->owner != root_owner) {
		brm_report(o->r, o->path, "'%s': owned by uid %u, not by the project's owner"
			   " (uid %u)", file, (unsigned)o->owner, (unsigned)root_owner);
		goto out;
	}
	pkg = cJSON_ParseWithLength(b.p, b.len);
	if (!pkg) {
		brm_report(o->r, o->path, "'%s': not valid JSON", file);
		goto out;
	}
	o->dir = (char *)pkgdir;
	{
		const cJSON *it, *scripts = cJSON_GetObjectItemCaseSensitive(pkg, "scripts");

		if (!cJSON_IsObject(scripts))
			scripts = NULL;
		cJSON_ArrayForEach(it, scripts) {
			char *name = brm_xasprintf("%s/%s", slash ? slash + 1 : pkgdir, it->string);

			if (cJSON_IsString(it))
				add(o, name, argv3(pm, "run", it->string), false);
			free(name);
		}
	}
	o->dir = root_dir;
out:
	memcpy(o->user, root_user, sizeof(root_user));
	o->owner = root_owner;
	cJSON_Delete(pkg);
	brm_buf_finish(&b);
	free(file);
}

/*
 * pnpm-workspace.yaml's "packages:" list, the one part of it that names
 * packages, read as the subset pnpm writes: a top-level "packages:" line,
 * then "- PATTERN" items (quoted or not, a '#' comment after); those
 * starting with '!' exclude what they match. Returns a cJSON array (the
 * exclusions in *@excl, also an array), or NULL when the file is not there
 * (or was reported).
 */
static cJSON *pnpm_workspace_patterns(struct out *o, int dfd, cJSON **excl)
{
	struct brm_buf b = BRM_BUF_INIT;
	char *file = brm_xasprintf("%s/pnpm-workspace.yaml", o->dir), *l, *next;
	char user[sizeof(o->user)];
	cJSON *list = NULL;
	bool in_packages = false;
	int fd;

	if (faccessat(dfd, "pnpm-workspace.yaml", F_OK, AT_SYMLINK_NOFOLLOW) < 0)
		goto out;
	uid_t owner = o->owner;

	memcpy(user, o->user, sizeof(user));
	fd = open_checked(o, o->dir, "pnpm-workspace.yaml", file, &b);
	memcpy(o->user, user, sizeof(user));
	o->owner = owner;
	if (fd < 0)
		goto out;
	close(fd);
	list = cJSON_CreateArray();
	*excl = cJSON_CreateArray();
	for (l = b.p; l && *l; l = next) {
		char *end;

		next = strchr(l, '\n');
		if (next)
			*next++ = '\0';
		if (*l != ' ' && *l != '\t' && *l != '-') {   /* a top-level key */
			in_packages = !strncmp(l, "packages:", 9);
			continue;
		}
		if (!in_packages)
			continue;
		while (*l == ' ' || *l == '\t')
			l++;
		if (*l != '-')
			continue;
		for (l++; *l == ' ' || *l == '\t'; l++)
			;
		if (*l == '"' || *l == '\'') {
			end = strchr(l + 1, *l);
			if (!end)
				continue;
			l++;
		} else {
			end = l + strcspn(l, "#");
			while (end > l && strchr(" \t\r", end[-1]))
				end--;
		}
		*end = '\0';
		if (*l == '!' && l[1])
			cJSON_AddItemToArray(*excl, cJSON_CreateString(l + 1));
		else if (*l && *l != '!')
			cJSON_AddItemToArray(list, cJSON_CreateString(l));
	}
out:
	brm_buf_finish(&b);
	free(file);
	return list;
}

/* Does one of @excl's patterns take the package directory @rel? */
static bool excluded(const cJSON *excl, const char *rel)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, excl)
		if (fnmatch(it->valuestring, rel, FNM_PATHNAME) == 0)
			return true;
	return false;
}

/*
 * npm's and yarn's "workspaces": ["packages/STAR"] (yarn also
 * {"packages": [...]}), and pnpm's pnpm-workspace.yaml: each package's
 * scripts, as DIR/SCRIPT. Patterns stay inside the project: none
 * absolute, none with "..".
 */
static void read_workspaces(struct out *o, const cJSON *root, const char *pm, int dfd)
{
	const cJSON *ws = cJSON_GetObjectItemCaseSensitive(root, "workspaces"), *it;
	cJSON *pnpm = NULL, *excl = NULL;
	size_t taken = 0;

	if (cJSON_IsObject(ws))
		ws = cJSON_GetObjectItemCaseSensitive(ws, "packages");
	if (!ws)
		ws = pnpm = pnpm_workspace_patterns(o, dfd, &excl);
	if (!cJSON_IsArray(ws))
		return;
	cJSON_ArrayForEach(it, ws) {
		glob_t g;
		char *pat;

		if (!cJSON_IsString(it) || !it->valuestring[0] || it->valuestring[0] == '/' ||
		    strstr(it->valuestring, "..")) {
			brm_report(o->r, o->path, "'%s': workspace '%s': not a pattern inside the"
				   " project", o->file, cJSON_IsString(it) ? it->valuestring : "?");
			continue;
		}
		pat = brm_xasprintf("%s/%s", o->dir, it->valuestring);
		if (glob(pat, GLOB_ONLYDIR, NULL, &g) == 0) {
			for (size_t i = 0; i < g.gl_pathc; i++) {
				if (++taken > MAX_WORKSPACE_PACKAGES) {
					brm_report(o->r, o->path, "'%s': more than %d workspace"
						   " packages", o->file, MAX_WORKSPACE_PACKAGES);
					break;
				}
				if (!excluded(excl, g.gl_pathv[i] + strlen(o->dir) + 1))
					read_workspace_package(o, g.gl_pathv[i], pm);
			}
			globfree(&g);
		}
		free(pat);
		if (taken > MAX_WORKSPACE_PACKAGES)
			break;
	}
	cJSON_Delete(pnpm);
	cJSON_Delete(excl);
}

static void read_package_json(struct out *o, const char *text, size_t len, int dfd)
{
	cJSON *root = cJSON_ParseWithLength(text, len);
	const cJSON *scripts, *it;
	const char *pm;

	if (!root) {
		size_t at = (size_t)(cJSON_GetErrorPtr() - text);
		unsigned line = 1, col = 1;

		for (size_t i = 0; i < at && i < len; i++, col++)
			if (text[i] == '\n')
				line++, col = 0;
		brm_report(o->r, o->path, "'%s': not valid JSON (at line %u, column %u)", o->file,
			   line, col);
		return;
	}
	scripts = cJSON_GetObjectItemCaseSensitive(root, "scripts");
	if (scripts && !cJSON_IsObject(scripts)) {
		brm_report(o->r, o->path, "'%s': \"scripts\" is %s, not an object", o->file,
			   brm_type_name(scripts));
	} else {
		pm = package_manager(root, dfd);
		cJSON_ArrayForEach(it, scripts)
			if (cJSON_IsString(it))
				add(o, it->string, argv3(pm, "run", it->string), false);
		read_workspaces(o, root, pm, dfd);
	}
	cJSON_Delete(root);
}

/* "NAME: COMMAND" lines; '#' comments and blank lines are skipped. */
static void read_procfile(struct out *o, char *text)
{
	unsigned line = 0;

	for (char *l = text, *next; l && *l; l = next) {
		char *colon, *cmd, *end;

		next = strchr(l, '\n');
		if (next)
			*next++ = '\0';
		line++;
		while (*l == ' ' || *l == '\t')
			l++;
		if (!*l || *l == '#')
			continue;
		colon = strchr(l, ':');
		if (!colon || colon == l) {
			brm_report(o->r, o->path, "'%s' line %u: expected \"NAME: COMMAND\"", o->file,
				   line);
			continue;
		}
		*colon = '\0';
		for (end = colon; end > l && (end[-1] == ' ' || end[-1] == '\t'); end--)
			end[-1] = '\0';
		cmd = colon + 1;
		while (*cmd == ' ' || *cmd == '\t')
			cmd++;
		for (end = cmd + strlen(cmd); end > cmd && strchr(" \t\r", end[-1]); end--)
			end[-1] = '\0';
		if (!*cmd) {
			brm_report(o->r, o->path, "'%s' line %u: '%s' has no command", o->file, line, l);
			continue;
		}
		add(o, l, argv3("/bin/sh", "-c", cmd), true);
	}
}

/* The targets of every ".PHONY:" line (continued by a trailing '\'). */
static void read_makefile(struct out *o, char *text)
{
	bool phony = false;

	for (char *l = text, *next; l && *l; l = next) {
		size_t len;
		bool cont;

		next = strchr(l, '\n');
		if (next)
			*next++ = '\0';
		len = strlen(l);
		cont = len && l[len - 1] == '\\';
		if (cont)
			l[len - 1] = '\0';
		if (!phony) {
			if (strncmp(l, ".PHONY", 6) != 0)
				continue;
			l += 6;
			while (*l == ' ' || *l == '\t')
				l++;
			if (*l != ':')
				continue;
			l++;
		}
		phony = cont;
		for (char *save = NULL, *t = strtok_r(l, " \t\r", &save); t;
		     t = strtok_r(NULL, " \t\r", &save)) {
			cJSON *cmd = cJSON_CreateArray();

			cJSON_AddItemToArray(cmd, cJSON_CreateString("make"));
			cJSON_AddItemToArray(cmd, cJSON_CreateString(t));
			add(o, t, cmd, false);
		}
	}
}

static enum kind kind_of(const char *base, bool *ok)
{
	*ok = true;
	if (!strcmp(base, "package.json"))
		return K_PACKAGE_JSON;
	if (!strcmp(base, "Procfile") || !strncmp(base, "Procfile.", 9))
		return K_PROCFILE;
	if (!strcmp(base, "Makefile") || !strcmp(base, "makefile") || !strcmp(base, "GNUmakefile"))
		return K_MAKEFILE;
	*ok = false;
	return K_PACKAGE_JSON;
}

/*
 * Open @base in the directory @dir as the rules say (scripts.h), set
 * o->user, and read it into @b (NUL-terminated). @file names it in
 * messages. Returns the directory's descriptor (caller closes), or -1
 * after reporting why.
 */
static int open_checked(struct out *o, const char *dir, const char *base, const char *file,
			struct brm_buf *b)
{
	struct stat dst, fst;
	int dfd, fd = -1, rc;

	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fstat(dfd, &dst) < 0) {
		brm_report(o->r, o->path, "'%s': cannot open its directory: %s", file,
			   strerror(errno));
		goto fail;
	}
	fd = openat(dfd, base, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		brm_report(o->r, o->path, "'%s': cannot open: %s%s", file, strerror(errno),
			   errno == ELOOP ? " (a symlink: name the file itself)" : "");
		goto fail;
	}
	if (fstat(fd, &fst) < 0 || !S_ISREG(fst.st_mode)) {
		brm_report(o->r, o->path, "'%s': not a regular file", file);
		goto fail;
	}
	/* A file its directory's owner does not own (a hard link to another
	 * user's file, root's included) is nobody's project. */
	if (fst.st_uid != dst.st_uid) {
		brm_report(o->r, o->path, "'%s': owned by uid %u, but its directory by uid %u",
			   file, (unsigned)fst.st_uid, (unsigned)dst.st_uid);
		goto fail;
	}
	o->owner = fst.st_uid;
	o->user[0] = '\0';
	if (geteuid() == 0 && fst.st_uid != 0)
		snprintf(o->user, sizeof(o->user), "%u", (unsigned)fst.st_uid);
	rc = brm_buf_read_file(b, fd, MAX_SCRIPTS_FILE);
	if (rc < 0) {
		brm_report(o->r, o->path, "'%s': %s", file,
			   rc == -EFBIG ? "larger than 1 MiB" : strerror(-rc));
		goto fail;
	}
	if (memchr(b->p ? b->p : "", '\0', b->len)) {
		brm_report(o->r, o->path, "'%s': contains a NUL byte", file);
		goto fail;
	}
	brm_buf_addc(b, '\0');
	b->len--;
	close(fd);
	return dfd;
fail:
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	return -1;
}

/* One file of "scripts_from" (@file: as given; @full: resolved). */
static void read_one(struct out *o, const char *full)
{
	struct brm_buf b = BRM_BUF_INIT;
	const char *slash = strrchr(full, '/');
	const char *base = slash ? slash + 1 : full;
	enum kind k;
	bool known;
	int dfd;

	k = kind_of(base, &known);
	if (!known) {
		brm_report(o->r, o->path, "'%s': not a package.json, Procfile or Makefile", o->file);
		return;
	}
	o->dir = slash ? (slash == full ? brm_xstrdup("/") : brm_xstrndup(full, (size_t)(slash - full)))
		       : brm_xstrdup(".");
	dfd = open_checked(o, o->dir, base, o->file, &b);
	if (dfd >= 0) {
		if (k == K_PACKAGE_JSON)
			read_package_json(o, b.p, b.len, dfd);
		else if (k == K_PROCFILE)
			read_procfile(o, b.p);
		else
			read_makefile(o, b.p);
		close(dfd);
	}
	brm_buf_finish(&b);
	free(o->dir);
	o->dir = NULL;
}

void brm_scripts_read(struct brm_report *r, const cJSON *v, const char *config_path,
		      struct brm_proc_spec ***procs, size_t *n)
{
	const char *cslash = config_path ? strrchr(config_path, '/') : NULL;
	struct out o = { .r = r, .procs = procs, .n = n, .cap = *n };
	const cJSON *it;
	int i = 0;

	if (!cJSON_IsString(v) && !cJSON_IsArray(v)) {
		brm_report(r, "scripts_from", "expected a path or an array of paths, got %s",
			   brm_type_name(v));
		return;
	}
	for (it = cJSON_IsArray(v) ? v->child : v; it; it = cJSON_IsArray(v) ? it->next : NULL, i++) {
		char *path = cJSON_IsArray(v) ? brm_xasprintf("scripts_from[%d]", i)
					      : brm_xstrdup("scripts_from");
		char *full;

		if (!cJSON_IsString(it) || !it->valuestring[0]) {
			brm_report(r, path, "expected a path, got %s",
				   cJSON_IsString(it) ? "an empty string" : brm_type_name(it));
			free(path);
			continue;
		}
		if (it->valuestring[0] == '/' || !cslash)
			full = brm_xstrdup(it->valuestring);
		else
			full = brm_xasprintf("%.*s/%s", (int)(cslash - config_path), config_path,
					     it->valuestring);
		if (full[0] != '/') {   /* a process's cwd is absolute */
			char cwd[4096], *rel = full;

			full = brm_xasprintf("%s/%s", getcwd(cwd, sizeof(cwd)) ? cwd : "", rel);
			free(rel);
		}
		o.path = path;
		o.file = full;
		o.user[0] = '\0';
		read_one(&o, full);
		free(full);
		free(path);
	}
}
