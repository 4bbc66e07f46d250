/*
 * envfile.c — read "env_file" files (envfile.h).
 *
 * The walk to the file is daemon/sup/pathwalk.c's, as for log_file (the
 * essay in daemon/sup/logfile.c says why each rule is there); here it reads
 * instead of appending, and runs on the loop thread just before a spawn, once
 * per file. A file is at most 1 MiB and is opened O_NONBLOCK (a FIFO cannot
 * stall the loop).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/sup/creds.h"
#include "daemon/sup/envfile.h"
#include "daemon/sup/pathwalk.h"
#include "lib/buf.h"
#include "lib/util.h"
#include "proto/proto.h"

#define ENV_VAR_MAX (128u << 10)   /* the kernel's MAX_ARG_STRLEN, NUL included */
#define QUOTE_MAX 40

/* ---- the syntax --------------------------------------------------------- */

/* The line at @s (up to @len bytes), quoted and cut for a message. */
static const char *quote_line(char *buf, size_t size, const char *s, size_t len)
{
	size_t o = 0;

	buf[o++] = '"';
	for (size_t i = 0; i < len && s[i] != '\n' && o + 6 < size; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i == QUOTE_MAX) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (c < 0x20 || c == 0x7f || c == '"' || c == '\\')
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static bool valid_key(const char *k, size_t n)
{
	if (!n || !(isalpha((unsigned char)k[0]) || k[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!(isalnum((unsigned char)k[i]) || k[i] == '_'))
			return false;
	return true;
}

static void push(char ***vars, size_t *n, char *var)
{
	*vars = brm_xrealloc(*vars, (*n + 2) * sizeof(**vars));
	(*vars)[(*n)++] = var;
	(*vars)[*n] = NULL;
}

int brm_envfile_parse(const char *t, size_t len, const char *name, char ***vars,
		      size_t *n, char *err, size_t errlen)
{
	struct brm_buf v = BRM_BUF_INIT;
	char q[QUOTE_MAX * 4 + 8];
	unsigned line = 1;
	size_t i = 0;
	const char *nul = memchr(t, '\0', len);

	if (nul) {
		for (const char *p = t; p < nul; p++)
			line += *p == '\n';
		return brm_fail_err(err, errlen, EINVAL,
				    "env_file '%s' line %u: contains a NUL byte", name, line);
	}
	while (i < len) {
		size_t ks, ke, keep;
		unsigned at;

		while (i < len && blank(t[i]))
			i++;
		if (i >= len)
			break;
		if (t[i] == '\n') {
			line++;
			i++;
			continue;
		}
		if (t[i] == '#' || t[i] == ';') {
			while (i < len && t[i] != '\n')
				i++;
			continue;
		}
		at = line;
		ks = i;
		while (i < len && t[i] != '=' && t[i] != '\n')
			i++;
		if (i >= len || t[i] != '=')
			return brm_fail_err(err, errlen, EINVAL,
					    "env_file '%s' line %u: expected KEY=VALUE, got %s",
					    name, at, quote_line(q, sizeof(q), t + ks, len - ks));
		for (ke = i; ke > ks && blank(t[ke - 1]); ke--)
			;
		if (!valid_key(t + ks, ke - ks))
			return brm_fail_err(err, errlen, EINVAL,
					    "env_file '%s' line %u: invalid variable name %s"
					    " (letters, digits and '_', not starting with a digit)",
					    name, at, quote_line(q, sizeof(q), t + ks, ke - ks));
		i++;
		while (i < len && blank(t[i]))
			i++;
		brm_buf_add(&v, t + ks, ke - ks);
		brm_buf_addc(&v, '=');
		if (i < len && (t[i] == '\'' || t[i] == '"')) {
			char quote = t[i++];

			for (;;) {
				if (i >= len) {
					brm_buf_finish(&v);
					return brm_fail_err(err, errlen, EINVAL,
							    "env_file '%s' line %u: the %s"
							    " quote is not closed", name, at,
							    quote == '"' ? "double" : "single");
				}
				if (t[i] == quote) {
					i++;
					break;
				}
				if (quote == '"' && t[i] == '\\' && i + 1 < len) {
					if (t[i + 1] == '\n') {
						line++;
						i += 2;
						continue;
					}
					if (strchr("\"\\`$", t[i + 1])) {
						brm_buf_addc(&v, t[i + 1]);
						i += 2;
						continue;
					}
				}
				line += t[i] == '\n';
				brm_buf_addc(&v, t[i++]);
			}
			while (i < len && blank(t[i]))
				i++;
			if (i < len && t[i] != '\n') {
				brm_buf_finish(&v);
				return brm_fail_err(err, errlen, EINVAL,
						    "env_file '%s' line %u: text after the"
						    " closing quote: %s", name, line,
						    quote_line(q, sizeof(q), t + i, len - i));
			}
		} else {
			keep = v.len;
			while (i < len && t[i] != '\n') {
				if (t[i] == '\\' && i + 1 < len) {
					if (t[i + 1] == '\n')
						line++;
					else
						brm_buf_addc(&v, t[i + 1]);
					i += 2;
					keep = v.len;
					continue;
				}
				if (t[i] == '\\') {     /* at the very end: nothing to escape */
					i++;
					continue;
				}
				brm_buf_addc(&v, t[i++]);
				if (!blank(t[i - 1]))
					keep = v.len;
			}
			v.len = keep;      /* trailing blanks go, escaped ones stay */
			v.p[v.len] = '\0';
		}
		if (v.len >= ENV_VAR_MAX) {
			brm_buf_finish(&v);
			return brm_fail_err(err, errlen, E2BIG,
					    "env_file '%s' line %u: KEY=VALUE is longer"
					    " than %u bytes, more than exec takes", name, at,
					    ENV_VAR_MAX - 1);
		}
		if (*n >= BRM_MAX_ENV_ENTRIES) {
			brm_buf_finish(&v);
			return brm_fail_err(err, errlen, E2BIG,
					    "env_file '%s' line %u: more than %d variables",
					    name, at, BRM_MAX_ENV_ENTRIES);
		}
		push(vars, n, brm_buf_detach(&v));
	}
	return 0;
}

/* ---- opening the file safely -------------------------------------------- */

/* The process's uid from @user (a name or a decimal id). */
static int resolve_user(const char *user, struct brm_pathwalk_trust *tr, char *err,
			size_t errlen)
{
	tr->self = geteuid();
	tr->have_user = false;
	if (!user)
		return 0;
	if (!brm_creds_user_uid(user, &tr->user))
		return brm_fail_err(err, errlen, ENOENT, "user '%s': no such user", user);
	tr->have_user = true;
	return 0;
}

/*
 * The directory of @path (absolute), walked from "/" as pathwalk.h says.
 * Returns an O_PATH descriptor, or -errno.
 */
static int open_dir(const char *path, const struct brm_pathwalk_trust *tr, char *err,
		    size_t errlen)
{
	const char *base = strrchr(path, '/');
	struct brm_pathwalk_why why;
	char *dir;
	int fd;

	/* "/x" is in "/": the walk starts there either way. */
	dir = base == path ? brm_xstrdup("/") : brm_xstrndup(path, (size_t)(base - path));
	fd = brm_pathwalk_dir(dir, tr, &why);
	free(dir);
	if (fd >= 0)
		return fd;
	switch (why.stop) {
	case BRM_PATHWALK_LINK:
		return brm_fail_err(err, errlen, EPERM, "env_file '%s': '%s' is a symbolic link"
				    " owned by uid %u in a directory of uid %u (mode %04o);"
				    " not following it", path, why.shown,
				    (unsigned)why.link.st_uid, (unsigned)why.dir.st_uid,
				    (unsigned)(why.dir.st_mode & 07777));
	case BRM_PATHWALK_OWNER:
		return brm_fail_err(err, errlen, EPERM, "env_file '%s': its directory is owned by"
				    " uid %u, neither root nor the process's user; not reading it",
				    path, (unsigned)why.dir.st_uid);
	case BRM_PATHWALK_MODE:
		return brm_fail_err(err, errlen, EPERM, "env_file '%s': its directory is writable"
				    " by every user and not sticky (mode %04o); not reading it",
				    path, (unsigned)(why.dir.st_mode & 07777));
	case BRM_PATHWALK_ERRNO:
	default:
		return brm_fail_err(err, errlen, why.err, "cannot read env_file '%s': %s", path,
				    strerror(why.err));
	}
}

/* Read one file into @b, checked as envfile.h says. */
static int read_one(const char *path, const struct brm_pathwalk_trust *tr, struct brm_buf *b,
		    char *err, size_t errlen)
{
	const char *base = strrchr(path, '/') + 1;
	struct stat st;
	int dfd, fd, rc = 0;

	if (!*base || !strcmp(base, ".") || !strcmp(base, ".."))
		return brm_fail_err(err, errlen, EISDIR, "cannot read env_file '%s': %s", path,
				    strerror(EISDIR));
	dfd = open_dir(path, tr, err, errlen);
	if (dfd < 0)
		return dfd;
	fd = openat(dfd, base, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		if (rc == -ELOOP)
			brm_fail_err(err, errlen, EPERM,
				     "env_file '%s': is a symbolic link; not following it",
				     path);
		else
			brm_fail_err(err, errlen, -rc, "cannot read env_file '%s': %s", path,
				     strerror(-rc));
		goto out_close_dir;
	}
	if (fstat(fd, &st) < 0) {
		rc = brm_fail_err(err, errlen, errno, "cannot read env_file '%s': %s", path,
				  strerror(errno));
	} else if (!S_ISREG(st.st_mode)) {
		rc = brm_fail_err(err, errlen, EPERM, "env_file '%s': not a regular file", path);
	} else if (st.st_nlink != 1) {
		rc = brm_fail_err(err, errlen, EPERM,
				  "env_file '%s': has %lu hard links; not reading a"
				  " file linked elsewhere", path, (unsigned long)st.st_nlink);
	} else if (!brm_pathwalk_owner_ok(tr, st.st_uid)) {
		rc = brm_fail_err(err, errlen, EPERM,
				  "env_file '%s': owned by uid %u, neither root nor"
				  " the process's user; not reading it", path, (unsigned)st.st_uid);
	} else if (st.st_mode & S_IWOTH) {
		rc = brm_fail_err(err, errlen, EPERM, "env_file '%s': writable by every user (mode"
				  " %04o); not reading it", path, (unsigned)(st.st_mode & 07777));
	} else if (st.st_size > (off_t)BRM_ENVFILE_MAX_BYTES) {
		rc = brm_fail_err(err, errlen, EFBIG, "env_file '%s': larger than %u bytes", path,
				  BRM_ENVFILE_MAX_BYTES);
	}
	if (rc < 0)
		goto out_close;
	b->len = 0;
	rc = brm_buf_read_file(b, fd, BRM_ENVFILE_MAX_BYTES);
	if (rc == -EFBIG)   /* it grew since fstat */
		brm_fail_err(err, errlen, EFBIG, "env_file '%s': larger than %u bytes", path,
			     BRM_ENVFILE_MAX_BYTES);
	else if (rc < 0)
		brm_fail_err(err, errlen, -rc, "cannot read env_file '%s': %s", path,
			     strerror(-rc));
out_close:
	close(fd);
out_close_dir:
	close(dfd);
	return rc;
}

int brm_envfile_read(char *const *files, const char *user, char ***out, char *err,
		     size_t errlen)
{
	struct brm_buf b = BRM_BUF_INIT;
	struct brm_pathwalk_trust tr;
	char **vars = NULL;
	size_t n = 0;
	int rc;

	*out = NULL;
	rc = resolve_user(user, &tr, err, errlen);
	if (rc < 0)
		return rc;
	for (size_t i = 0; files && files[i]; i++) {
		bool optional = files[i][0] == '-';
		const char *path = files[i] + optional;

		if (path[0] != '/') {
			rc = brm_fail_err(err, errlen, EINVAL,
					  "env_file '%s': not an absolute path", path);
			break;
		}
		rc = read_one(path, &tr, &b, err, errlen);
		if (rc == -ENOENT && optional) {
			rc = 0;
			continue;
		}
		if (rc < 0)
			break;
		rc = brm_envfile_parse(b.p ? b.p : "", b.len, path, &vars, &n, err, errlen);
		if (rc < 0)
			break;
	}
	brm_buf_finish(&b);
	if (rc < 0) {
		brm_strv_free(vars);
		return rc;
	}
	*out = vars;
	return 0;
}
