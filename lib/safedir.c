/*
 * safedir.c — walk a path one component at a time from "/", never following
 * a link that an untrusted user could have planted, and check that nobody
 * untrusted can change any step of it (safedir.h states the rule).
 *
 * The walk keeps the rest of the path in a buffer; a trusted symbolic link
 * puts its target in front of the rest (and an absolute target starts again
 * at "/"), as the kernel's own lookup and systemd's chase() do.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/safedir.h"
#include "lib/util.h"

#define MAX_LINKS 16

static bool trusted(uid_t who, const struct brm_safedir_opts *o)
{
	return who == 0 || who == o->uid;
}

/* Others, or a group other than root's, may add, rename or remove entries. */
static bool writable_by_others(const struct stat *st)
{
	return (st->st_mode & S_IWOTH) || ((st->st_mode & S_IWGRP) && st->st_gid != 0);
}

static int refuse(char *err, size_t errlen, int rc, const char *fmt, ...) BRM_PRINTF(4, 5);
static int refuse(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

static int open_dir_at(int at, const char *name)
{
	return openat(at, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* Create @name in @at with mode and group from @o, whatever the umask (a
 * service's UMask=0077 would make a group's directory 0700); an existing
 * one is fine. */
static int create_at(int at, const char *name, const char *shown, const struct brm_safedir_opts *o,
		     char *err, size_t errlen)
{
	mode_t mode = o->mode ? o->mode : 0700;
	int fd, e;

	if (mkdirat(at, name, mode) < 0) {
		if (errno == EEXIST)
			return 0;
		return refuse(err, errlen, -errno, "cannot create directory '%s': %s", shown,
			      strerror(errno));
	}
	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return refuse(err, errlen, -errno, "cannot open directory '%s': %s", shown,
			      strerror(errno));
	if (o->gid != (gid_t)-1 && fchown(fd, (uid_t)-1, o->gid) < 0) {
		e = errno;
		close(fd);
		return refuse(err, errlen, -e, "cannot give directory '%s' to group %u: %s", shown,
			      (unsigned)o->gid, strerror(e));
	}
	if (fchmod(fd, mode) < 0) {
		e = errno;
		close(fd);
		return refuse(err, errlen, -e, "cannot set the mode of directory '%s': %s", shown,
			      strerror(e));
	}
	close(fd);
	return 0;
}

int brm_safedir_open(const char *path, const struct brm_safedir_opts *o, char *err,
		     size_t errlen)
{
	char rest[PATH_MAX], shown[PATH_MAX], comp[NAME_MAX + 1], target[PATH_MAX];
	struct stat cur_st, st;
	size_t shown_len;
	int cur = -1, links = 0, rc;
	bool created_last = false;

	if (!path || path[0] != '/')
		return refuse(err, errlen, -EINVAL, "'%s' is not an absolute path",
			      path ? path : "(null)");
	if (strlen(path) >= sizeof(rest))
		return refuse(err, errlen, -ENAMETOOLONG, "path '%.64s...' is too long", path);
	memcpy(rest, path, strlen(path) + 1);

restart:
	if (cur >= 0)
		close(cur);
	cur = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cur < 0 || fstat(cur, &cur_st) < 0)
		return refuse(err, errlen, -errno, "cannot open '/': %s", strerror(errno));
	shown[0] = '/';
	shown[1] = '\0';
	shown_len = 1;

	for (;;) {
		char *p = rest, *end;
		size_t n, parent_len;
		int next;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		end = strchrnul(p, '/');
		n = (size_t)(end - p);
		if (n > NAME_MAX) {
			rc = refuse(err, errlen, -ENAMETOOLONG, "a component of '%s' is too long", path);
			goto out_close;
		}
		memcpy(comp, p, n);
		comp[n] = '\0';
		memmove(rest, end, strlen(end) + 1);

		if (!trusted(cur_st.st_uid, o)) {
			rc = refuse(err, errlen, -EPERM,
				    "'%s' is owned by uid %u, not by root or uid %u", shown,
				    (unsigned)cur_st.st_uid, (unsigned)o->uid);
			goto out_close;
		}
		if (!strcmp(comp, "."))
			continue;
		if (!strcmp(comp, "..")) {
			/* Only lexically: ".." of a checked directory is its parent,
			 * which the walk from "/" checked already. */
			next = openat(cur, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
			if (next < 0) {
				rc = refuse(err, errlen, -errno, "cannot open '%s/..': %s", shown,
					    strerror(errno));
				goto out_close;
			}
			close(cur);
			cur = next;
			if (fstat(cur, &cur_st) < 0) {
				rc = -errno;
				goto out_close;
			}
			while (shown_len > 1 && shown[shown_len - 1] != '/')
				shown_len--;
			if (shown_len > 1)
				shown_len--;
			shown[shown_len] = '\0';
			continue;
		}
		if (shown_len + 1 + n + 1 > sizeof(shown)) {
			rc = refuse(err, errlen, -ENAMETOOLONG, "path '%.64s...' is too long", path);
			goto out_close;
		}
		parent_len = shown_len;
		if (shown_len > 1)
			shown[shown_len++] = '/';
		memcpy(shown + shown_len, comp, n + 1);
		shown_len += n;

		created_last = false;
		if (fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno != ENOENT || !o->create) {
				rc = refuse(err, errlen, -errno, "cannot use '%s': %s", shown,
					    strerror(errno));
				goto out_close;
			}
			if (writable_by_others(&cur_st) && !(cur_st.st_mode & S_ISVTX)) {
				rc = refuse(err, errlen, -EPERM,
					    "'%.*s' is writable by others (mode %04o)",
					    (int)parent_len, shown,
					    (unsigned)(cur_st.st_mode & 07777));
				goto out_close;
			}
			rc = create_at(cur, comp, shown, o, err, errlen);
			if (rc < 0)
				goto out_close;
			if (fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW) < 0) {
				rc = refuse(err, errlen, -errno, "cannot use '%s': %s", shown,
					    strerror(errno));
				goto out_close;
			}
			created_last = true;
		}
		/* A step in a directory others may write to is safe only in a
		 * sticky one, and only to an entry a trusted uid owns. */
		if (writable_by_others(&cur_st) &&
		    (!(cur_st.st_mode & S_ISVTX) || !trusted(st.st_uid, o))) {
			rc = refuse(err, errlen, -EPERM,
				    "'%s' is owned by uid %u in a directory others may write to"
				    " (mode %04o)", shown, (unsigned)st.st_uid,
				    (unsigned)(cur_st.st_mode & 07777));
			goto out_close;
		}
		if (S_ISLNK(st.st_mode)) {
			ssize_t len;

			if (!trusted(st.st_uid, o)) {
				rc = refuse(err, errlen, -EPERM,
					    "'%s' is a symbolic link owned by uid %u; not following it",
					    shown, (unsigned)st.st_uid);
				goto out_close;
			}
			if (++links > MAX_LINKS) {
				rc = refuse(err, errlen, -ELOOP, "too many symbolic links in '%s'",
					    path);
				goto out_close;
			}
			len = readlinkat(cur, comp, target, sizeof(target) - 1);
			if (len < 0 || (size_t)len + strlen(rest) + 2 > sizeof(rest)) {
				rc = refuse(err, errlen, len < 0 ? -errno : -ENAMETOOLONG,
					    "cannot read link '%s': %s", shown,
					    strerror(len < 0 ? errno : ENAMETOOLONG));
				goto out_close;
			}
			target[len] = '\0';
			/* rest = target + "/" + rest */
			memmove(rest + len + 1, rest, strlen(rest) + 1);
			memcpy(rest, target, (size_t)len);
			rest[len] = '/';
			if (target[0] == '/')
				goto restart;
			shown_len = parent_len;
			shown[shown_len] = '\0';
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			rc = refuse(err, errlen, -ENOTDIR, "'%s' is not a directory", shown);
			goto out_close;
		}
		next = open_dir_at(cur, comp);
		if (next < 0) {
			rc = refuse(err, errlen, -errno, "cannot open '%s': %s", shown, strerror(errno));
			goto out_close;
		}
		close(cur);
		cur = next;
		if (fstat(cur, &cur_st) < 0) {
			rc = refuse(err, errlen, -errno, "cannot stat '%s': %s", shown, strerror(errno));
			goto out_close;
		}
		/* Replaced between the fstatat and the open? */
		if (cur_st.st_ino != st.st_ino || cur_st.st_dev != st.st_dev) {
			rc = refuse(err, errlen, -EPERM, "'%s' changed while it was checked", shown);
			goto out_close;
		}
	}

	if (!trusted(cur_st.st_uid, o)) {
		rc = refuse(err, errlen, -EPERM, "'%s' is owned by uid %u, not by root or uid %u",
			    shown, (unsigned)cur_st.st_uid, (unsigned)o->uid);
		goto out_close;
	}
	if (cur_st.st_mode & (S_IWOTH | S_IWGRP)) {
		rc = refuse(err, errlen, -EPERM, "'%s' is writable by %s (mode %04o)", shown,
			    (cur_st.st_mode & S_IWOTH) ? "others" : "its group",
			    (unsigned)(cur_st.st_mode & 07777));
		goto out_close;
	}
	if (o->gid != (gid_t)-1 && cur_st.st_gid != o->gid) {
		rc = refuse(err, errlen, -EPERM, "'%s' belongs to group %u, not to group %u%s", shown,
			    (unsigned)cur_st.st_gid, (unsigned)o->gid,
			    created_last ? "" : " (give it to the group, or use a directory of its own)");
		goto out_close;
	}
	return cur;

out_close:
	close(cur);
	return rc;
}

char *brm_path_split(const char *path, const char **base)
{
	const char *slash = path ? strrchr(path, '/') : NULL;

	if (!slash || !slash[1])
		return NULL;
	*base = slash + 1;
	if (slash == path)
		return brm_xstrdup("/");
	return brm_xstrndup(path, (size_t)(slash - path));
}
