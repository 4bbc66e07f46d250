/*
 * listen.c — the listening socket: a safe directory, stale-socket
 * detection, bind with the right mode and group from the first instant.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/rpc/listen.h"
#include "lib/safedir.h"
#include "lib/util.h"

/*
 * The socket's directory is opened with brm_safedir_open(): every step of
 * its path from "/" is one that only root or brummd's own uid can change,
 * so a user cannot pre-create /tmp/brummd-UID, or swap a directory or a
 * link on the way, to receive brummd's socket. Everything after that
 * happens relative to the checked directory descriptor: the stale-socket
 * check, the probe, the unlink, the bind (through /proc/self/fd/N/NAME,
 * which the kernel resolves to that very directory) and the mode and group.
 */

/* @path made absolute against the working directory; caller frees. */
char *absolute_path(const char *path)
{
	char cwd[PATH_MAX];

	if (path[0] == '/')
		return brm_xstrdup(path);
	if (!getcwd(cwd, sizeof(cwd)))
		return NULL;
	return brm_xasprintf("%s%s%s", cwd, strcmp(cwd, "/") ? "/" : "", path);
}

/*
 * Put into @sa the address of @name in the directory @dirfd: through
 * /proc/self/fd when that fits and /proc is there, else @path itself (safe
 * too: every step of it is one only trusted uids can change).
 */
static void socket_addr_at(struct sockaddr_un *sa, int dirfd, const char *name,
			   const char *path)
{
	int n = snprintf(sa->sun_path, sizeof(sa->sun_path), "/proc/self/fd/%d/%s", dirfd, name);

	if (n < 0 || (size_t)n >= sizeof(sa->sun_path) || access("/proc/self/fd", X_OK) < 0)
		memcpy(sa->sun_path, path, strlen(path) + 1);   /* fits: checked by the caller */
}

/* Does a brummd listen on the socket @name in @dirfd (@path)? Probed
 * through an O_PATH descriptor of that socket, so the one checked is the
 * one tried; by @path without /proc. */
static bool someone_listens(int dirfd, const char *name, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int sfd, probe;
	bool yes = false;

	sfd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (sfd < 0)
		return false;
	if (access("/proc/self/fd", X_OK) == 0)
		snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d", sfd);
	else
		memcpy(sa.sun_path, path, strlen(path) + 1);   /* fits: checked by the caller */
	probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		yes = true;
	if (probe >= 0)
		close(probe);
	close(sfd);
	return yes;
}

int bind_socket(const char *path, mode_t mode, gid_t gid, char **err)
{
	struct brm_safedir_opts so = { .uid = geteuid(), .create = true,
				       .mode = gid != (gid_t)-1 ? 0750 : 0700, .gid = gid };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char why[PATH_MAX + 256];
	const char *name;
	char *abs, *dir = NULL;
	struct stat st;
	mode_t old;
	int dirfd, fd, r;

	abs = absolute_path(path);
	if (!abs) {
		r = -errno;
		*err = brm_xasprintf("cannot resolve socket path '%s': %s", path, strerror(-r));
		return r;
	}
	if (strlen(abs) >= sizeof(sa.sun_path)) {
		*err = brm_xasprintf("socket path '%s' is longer than %zu bytes", abs,
				     sizeof(sa.sun_path) - 1);
		r = -ENAMETOOLONG;
		goto out_free;
	}
	dir = brm_path_split(abs, &name);
	if (!dir || !strcmp(name, ".") || !strcmp(name, "..")) {
		*err = brm_xasprintf("socket path '%s' does not name a file", path);
		r = -EINVAL;
		goto out_free;
	}
	dirfd = brm_safedir_open(dir, &so, why, sizeof(why));
	if (dirfd < 0) {
		r = dirfd;
		*err = brm_xasprintf("%s socket directory: %s",
				     r == -EPERM ? "unsafe" : "cannot use", why);
		goto out_free;
	}
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			*err = brm_xasprintf("'%s' exists and is not a socket; refusing to replace it",
					     abs);
			r = -EEXIST;
			goto out_close_dir;
		}
		if (someone_listens(dirfd, name, abs)) {
			*err = brm_xasprintf("another brummd is already listening on '%s'", abs);
			r = -EADDRINUSE;
			goto out_close_dir;
		}
		/* A stale socket nobody listens on. */
		if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT) {
			r = -errno;
			*err = brm_xasprintf("cannot remove stale socket '%s': %s", abs,
					     strerror(errno));
			goto out_close_dir;
		}
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		r = -errno;
		*err = brm_xasprintf("cannot create socket: %s", strerror(errno));
		goto out_close_dir;
	}
	socket_addr_at(&sa, dirfd, name, abs);
	/* 0600 from the first instant; the group is set before the mode is
	 * widened to it, both on the entry in the checked directory. */
	old = umask(0177);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r == 0 && gid != (gid_t)-1 && fchownat(dirfd, name, (uid_t)-1, gid,
						   AT_SYMLINK_NOFOLLOW) < 0)
		r = -1;
	if (r == 0 && mode != 0600 && fchmodat(dirfd, name, mode, 0) < 0)
		r = -1;
	if (r < 0 || listen(fd, 512) < 0) {
		r = -errno;
		*err = brm_xasprintf("cannot listen on '%s': %s", abs, strerror(errno));
		close(fd);
		goto out_close_dir;
	}
	r = fd;
out_close_dir:
	close(dirfd);
out_free:
	free(dir);
	free(abs);
	return r;
}
