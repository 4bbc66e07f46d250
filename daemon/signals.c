/*
 * signals.c — SIGTERM, SIGINT and SIGHUP from a signalfd (see signals.h for
 * why not a handler).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "daemon/log.h"
#include "daemon/signals.h"
#include "lib/util.h"

struct brm_signals {
	uv_poll_t poll;
	int fd;
	brm_signal_fn fn;
	void *arg;
};

void brm_signals_mask(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGCHLD);
}

/* Context: loop thread. */
static void on_readable(uv_poll_t *h, int status, int events)
{
	struct brm_signals *s = h->data;
	struct signalfd_siginfo si[8];
	ssize_t n;

	(void)events;
	if (status < 0) {
		brm_log_error("signalfd: %s", uv_strerror(status));
		return;
	}
	for (;;) {
		n = read(s->fd, si, sizeof(si));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			if (errno != EAGAIN)
				brm_log_error("signalfd: read: %s", strerror(errno));
			return;
		}
		for (size_t i = 0; i < (size_t)n / sizeof(si[0]); i++)
			s->fn((int)si[i].ssi_signo, (pid_t)si[i].ssi_pid, (uid_t)si[i].ssi_uid,
			      s->arg);
		if ((size_t)n < sizeof(si))
			return;
	}
}

struct brm_signals *brm_signals_start(uv_loop_t *loop, brm_signal_fn fn, void *arg)
{
	struct brm_signals *s;
	sigset_t set;
	int r;

	brm_signals_mask(&set);
	s = brm_xcalloc(1, sizeof(*s));
	s->fn = fn;
	s->arg = arg;
	s->fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (s->fd < 0) {
		free(s);
		return NULL;
	}
	s->poll.data = s;
	r = uv_poll_init(loop, &s->poll, s->fd);
	if (r == 0)
		r = uv_poll_start(&s->poll, UV_READABLE, on_readable);
	if (r < 0) {
		close(s->fd);
		free(s);
		errno = -r;
		return NULL;
	}
	s->poll.data = s;	/* uv_poll_init cleared it */
	return s;
}

static void on_closed(uv_handle_t *h)
{
	struct brm_signals *s = h->data;

	close(s->fd);
	free(s);
}

void brm_signals_close(struct brm_signals *s)
{
	if (s)
		uv_close((uv_handle_t *)&s->poll, on_closed);
}
