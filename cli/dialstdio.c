/*
 * dialstdio.c — `brummctl dial-stdio`: the far end of brummctl -H
 * (remote.c). It copies stdin to brummd's socket and the socket to stdout
 * until one side closes: EOF on stdin half-closes the socket
 * (shutdown(SHUT_WR)), so brummd answers what it got and then closes; the
 * socket closing ends the bridge. Blocking writes keep the back-pressure of
 * either side: while one side cannot take more, nothing more is read for it.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli/brummctl.h"

#define CHUNK 65536

/* Write all of @p to @fd; false when the other side is gone. */
static bool put(int fd, bool sock, const char *p, size_t n)
{
	while (n) {
		ssize_t w = sock ? send(fd, p, n, MSG_NOSIGNAL) : write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		p += w;
		n -= (size_t)w;
	}
	return true;
}

int cli_dial_stdio(int sock)
{
	struct pollfd pfd[2] = {
		{ .fd = STDIN_FILENO, .events = POLLIN },
		{ .fd = sock, .events = POLLIN },
	};
	static char buf[CHUNK];

	/* stdout closing under us (ssh gone) is an end, not a crash. */
	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		ssize_t n;

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "brummctl: dial-stdio: poll: %s\n", strerror(errno));
			return CLI_EXIT_CONNECT;
		}
		if (pfd[1].revents) {
			n = recv(sock, buf, sizeof(buf), 0);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				fprintf(stderr, "brummctl: dial-stdio: cannot read from brummd: %s\n",
					strerror(errno));
				return CLI_EXIT_CONNECT;
			}
			if (n == 0)
				return CLI_EXIT_OK;         /* brummd closed: the end */
			if (!put(STDOUT_FILENO, false, buf, (size_t)n))
				return CLI_EXIT_OK;         /* nobody reads any more */
		}
		if (pfd[0].revents) {
			n = read(STDIN_FILENO, buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				/* No more requests: let brummd finish and close. */
				shutdown(sock, SHUT_WR);
				pfd[0].fd = -1;
				continue;
			}
			/* brummd closed: what it said last still goes out below. */
			if (!put(sock, true, buf, (size_t)n))
				pfd[0].fd = -1;
		}
	}
}
