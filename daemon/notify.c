/*
 * notify.c — sd_notify(3) without libsystemd; notify.h says why.
 *
 * The datagram goes out with MSG_NOSIGNAL|MSG_DONTWAIT: a service manager
 * that stopped reading must never stall the loop thread. Sends are
 * connectionless (sendto each time), so a manager that re-creates its
 * socket is found again.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/log.h"
#include "daemon/notify.h"

static int notify_fd = -1;
static struct sockaddr_un notify_addr;
static socklen_t notify_len;
static uint64_t watchdog_usec;
static bool warned;

int brm_notify_init(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	const char *wd = getenv("WATCHDOG_USEC"), *wdpid = getenv("WATCHDOG_PID");
	size_t len;

	if (wd && *wd) {
		char *end;
		unsigned long long v = strtoull(wd, &end, 10);
		bool ours = !wdpid || !*wdpid || atol(wdpid) == (long)getpid();

		if (!*end && v > 0 && ours)
			watchdog_usec = v;
	}
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	if (!path || !*path) {
		unsetenv("NOTIFY_SOCKET");
		return 0;
	}
	len = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || len >= sizeof(notify_addr.sun_path)) {
		brm_log_warn("NOTIFY_SOCKET '%s': not an absolute path or @name; ignored", path);
		unsetenv("NOTIFY_SOCKET");
		return -EINVAL;
	}
	memset(&notify_addr, 0, sizeof(notify_addr));
	notify_addr.sun_family = AF_UNIX;
	memcpy(notify_addr.sun_path, path, len);
	if (path[0] == '@')
		notify_addr.sun_path[0] = '\0';   /* abstract namespace */
	notify_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len +
				 (path[0] == '/' ? 1 : 0));
	unsetenv("NOTIFY_SOCKET");
	notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (notify_fd < 0) {
		int e = errno;
		brm_log_warn("cannot create the notification socket: %s", strerror(e));
		return -e;
	}
	return 0;
}

bool brm_notify_enabled(void)
{
	return notify_fd >= 0;
}

int brm_notify_send(const char *msg)
{
	ssize_t n;

	if (notify_fd < 0)
		return 0;
	n = sendto(notify_fd, msg, strlen(msg), MSG_NOSIGNAL | MSG_DONTWAIT,
		   (struct sockaddr *)&notify_addr, notify_len);
	if (n < 0) {
		int e = errno;
		if (!warned)
			brm_log_warn("cannot notify the service manager: %s", strerror(e));
		warned = true;
		return -e;
	}
	brm_log_debug("notify: %s", msg);
	return 0;
}

uint64_t brm_notify_watchdog_usec(void)
{
	return watchdog_usec;
}

void brm_notify_finish(void)
{
	if (notify_fd >= 0)
		close(notify_fd);
	notify_fd = -1;
}
