/*
 * pathwalk.c — the directory walk behind pathwalk.h, shared by log_file
 * (logfile.c) and env_file (envfile.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/sup/pathwalk.h"
#include "lib/util.h"

/*
 * Every close here. Not inlined: tests/tsan.supp names it, for the reason
 * it gives for logfile.c's writer_close (the walk runs on its writer thread).
 */
static __attribute__((noinline)) int pathwalk_close(int fd)
{
	return close(fd);
}

/* Root and brummd's own uid: the only ones whose links are followed. */
static bool admin_uid(const struct brm_pathwalk_trust *tr, uid_t uid)
{
	return uid == 0 || uid == tr->self;
}

bool brm_pathwalk_owner_ok(const struct brm_pathwalk_trust *tr, uid_t uid)
{
	return admin_uid(tr, uid) || (tr->have_user && uid == tr->user);
}

/*
 * Whether the link @lst found in directory @dst can only have been placed
 * by root or brummd's uid.
 */
static bool link_trusted(const struct brm_pathwalk_trust *tr, const struct stat *dst,
			 const struct stat *lst)
{
	if (!admin_uid(tr, lst->st_uid) || !admin_uid(tr, dst->st_uid))
		return false;
	return !(dst->st_mode & (S_IWGRP | S_IWOTH)) || (dst->st_mode & S_ISVTX);
}

int brm_pathwalk_dir(const char *dir, const struct brm_pathwalk_trust *tr,
		     struct brm_pathwalk_why *why)
{
	char comp[NAME_MAX + 1], target[PATH_MAX];
	struct stat cst, st;
	char *path = brm_xstrdup(dir), *p;
	int cur, next = -1, hops = 0;

	cur = open(dir[0] == '/' ? "/" : ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cur < 0 || fstat(cur, &cst) < 0)
		goto out_errno;
	p = path;
	for (;;) {
		size_t n;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		n = strcspn(p, "/");
		if (n > NAME_MAX) {
			errno = ENAMETOOLONG;
			goto out_errno;
		}
		memcpy(comp, p, n);
		comp[n] = '\0';
		p += n;
		if (!strcmp(comp, "."))
			continue;
		next = openat(cur, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0 || fstat(next, &st) < 0)
			goto out_errno;
		if (S_ISLNK(st.st_mode)) {
			char *rest;
			ssize_t len;

			if (!link_trusted(tr, &cst, &st)) {
				why->stop = BRM_PATHWALK_LINK;
				snprintf(why->shown, sizeof(why->shown), "%.*s", (int)(p - path),
					 path);
				why->dir = cst;
				why->link = st;
				goto out_close;
			}
			if (++hops > BRM_PATHWALK_MAX_LINKS) {
				errno = ELOOP;
				goto out_errno;
			}
			len = readlinkat(next, "", target, sizeof(target) - 1);
			if (len < 0)
				goto out_errno;
			target[len] = '\0';
			pathwalk_close(next);
			next = -1;
			rest = brm_xasprintf("%s/%s", target, p);
			free(path);
			path = p = rest;
			if (target[0] == '/') {
				pathwalk_close(cur);
				cur = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
				if (cur < 0 || fstat(cur, &cst) < 0)
					goto out_errno;
			}
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			errno = ENOTDIR;
			goto out_errno;
		}
		pathwalk_close(cur);
		cur = next;
		next = -1;
		cst = st;
	}
	if (!brm_pathwalk_owner_ok(tr, cst.st_uid)) {
		why->stop = BRM_PATHWALK_OWNER;
		why->dir = cst;
		goto out_close;
	}
	if ((cst.st_mode & S_IWOTH) && !(cst.st_mode & S_ISVTX)) {
		why->stop = BRM_PATHWALK_MODE;
		why->dir = cst;
		goto out_close;
	}
	free(path);
	return cur;

out_errno:
	why->stop = BRM_PATHWALK_ERRNO;
	why->err = errno;
out_close:
	if (next >= 0)
		pathwalk_close(next);
	if (cur >= 0)
		pathwalk_close(cur);
	free(path);
	return -1;
}
