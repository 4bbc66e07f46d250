/*
 * activation.c — take over a listening socket passed by the service manager.
 *
 * The protocol (sd_listen_fds(3)): descriptors start at 3; LISTEN_FDS says
 * how many; LISTEN_PID must be our pid, otherwise the variables were meant
 * for another process (a parent that exec'd us without cleaning up) and are
 * ignored. brummd serves one socket: with more than one, it takes the first
 * and closes the rest, with a warning.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/activation.h"
#include "daemon/log.h"
#include "lib/util.h"

#define LISTEN_FDS_START 3

static void unset_all(void)
{
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
}

int brm_activation_listen_fd(char **err)
{
	const char *pid_s = getenv("LISTEN_PID"), *n_s = getenv("LISTEN_FDS");
	int fd = LISTEN_FDS_START, type = 0, acc = 0, flags;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(type);
	long n;
	char *end;

	if (!pid_s || !n_s || atol(pid_s) != (long)getpid()) {
		unset_all();
		return -ENOENT;
	}
	n = strtol(n_s, &end, 10);
	unset_all();
	if (*end || n < 1)
		return -ENOENT;
	for (long i = 1; i < n; i++) {
		brm_log_warn("socket activation: %ld sockets passed, serving on fd %d only", n,
			     LISTEN_FDS_START);
		close(LISTEN_FDS_START + (int)i);
	}
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_STREAM) {
		*err = brm_xasprintf("socket activation: fd %d is not a stream socket", fd);
		return -ENOTSOCK;
	}
	len = sizeof(acc);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) < 0 || !acc) {
		*err = brm_xasprintf("socket activation: fd %d is not listening", fd);
		return -EINVAL;
	}
	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0 || ss.ss_family != AF_UNIX) {
		*err = brm_xasprintf("socket activation: fd %d is not a unix socket", fd);
		return -EAFNOSUPPORT;
	}
	/* Workers share the socket through epoll; accept must never block. */
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		int e = errno;
		*err = brm_xasprintf("socket activation: fd %d: %s", fd, strerror(e));
		return -e;
	}
	return fd;
}
