/*
 * fanout.c — one command on several hosts (-H given more than once).
 *
 * brummctl forks itself once per host; each child runs the command as if
 * it had been given that one -H (main.c), with its stdout and stderr on
 * pipes. The parent reads every pipe as it comes, a whole line at a time,
 * and prints each line with "HOST: " in front (the -H value without
 * ssh://) on its own stdout or stderr, so lines of different hosts never
 * mix and `logs -f`, `events` and `wait` stream from all hosts at once.
 * Every command fans out, mutating ones too, as pssh and ansible do: the
 * user named the hosts.
 *
 * The exit status is the worst of the hosts': 3 (a host could not be
 * reached) before 2 before 1 (a host answered with an error) before 0.
 * SIGINT and SIGTERM are passed on to the children (a ^C on the terminal
 * reaches them anyway), which end `logs -f` with 0; the parent waits for
 * them and prints what they still had to say.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/brummctl.h"
#include "lib/util.h"

#define LINE_MAX_BYTES 65536   /* longer lines are cut into pieces this size */

struct out {
	int fd;                  /* -1 once at EOF */
	FILE *to;
	char *buf;
	size_t len;
};

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
	stop_signal = sig;
}

/* "HOST: " and @n bytes of @p, then a newline, on @to. */
static void put_line(FILE *to, const char *label, const char *p, size_t n)
{
	fprintf(to, "%s: %.*s\n", label, (int)n, p);
	fflush(to);
}

/* Read what @o's pipe has; print its whole lines. False at EOF. */
static bool drain(struct out *o, const char *label)
{
	ssize_t n;
	char *nl;

	n = read(o->fd, o->buf + o->len, LINE_MAX_BYTES - o->len);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0) {
		if (o->len)
			put_line(o->to, label, o->buf, o->len);
		o->len = 0;
		return false;
	}
	o->len += (size_t)n;
	while ((nl = memchr(o->buf, '\n', o->len))) {
		size_t k = (size_t)(nl - o->buf);

		put_line(o->to, label, o->buf, k);
		memmove(o->buf, nl + 1, o->len - k - 1);
		o->len -= k + 1;
	}
	if (o->len == LINE_MAX_BYTES) {
		put_line(o->to, label, o->buf, o->len);
		o->len = 0;
	}
	return true;
}

/* The worse of two exit codes: 3, 2, 1, 0 in that order. */
static int worse(int a, int b)
{
	return a > b ? a : b;
}

int cli_fanout(const struct cli_opts *o, size_t *host)
{
	size_t n = o->nhosts, live = 0;
	struct out *outs = brm_xcalloc(2 * n, sizeof(*outs));
	struct pollfd *pfd = brm_xcalloc(2 * n, sizeof(*pfd));
	pid_t *pids = brm_xcalloc(n, sizeof(*pids));
	struct sigaction sa = { .sa_handler = on_stop }, old_int, old_term;
	bool forwarded = false;
	int ret = CLI_EXIT_OK;

	fflush(NULL);
	for (size_t i = 0; i < n; i++) {
		int po[2], pe[2];

		if (pipe(po) < 0 || pipe(pe) < 0) {
			fprintf(stderr, "brummctl: cannot make a pipe: %s\n", strerror(errno));
			exit(CLI_EXIT_ERROR);
		}
		pids[i] = fork();
		if (pids[i] < 0) {
			fprintf(stderr, "brummctl: cannot fork: %s\n", strerror(errno));
			exit(CLI_EXIT_ERROR);
		}
		if (pids[i] == 0) {
			dup2(po[1], STDOUT_FILENO);
			dup2(pe[1], STDERR_FILENO);
			close(po[0]);
			close(po[1]);
			close(pe[0]);
			close(pe[1]);
			for (size_t k = 0; k < 2 * i; k++)
				close(outs[k].fd);
			free(outs);
			free(pfd);
			free(pids);
			*host = i;
			return -1;
		}
		close(po[1]);
		close(pe[1]);
		outs[2 * i] = (struct out){ .fd = po[0], .to = stdout };
		outs[2 * i + 1] = (struct out){ .fd = pe[0], .to = stderr };
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	for (size_t k = 0; k < 2 * n; k++) {
		outs[k].buf = brm_xmalloc(LINE_MAX_BYTES);
		live++;
	}

	while (live) {
		for (size_t k = 0; k < 2 * n; k++)
			pfd[k] = (struct pollfd){ .fd = outs[k].fd, .events = POLLIN };
		if (stop_signal && !forwarded) {
			for (size_t i = 0; i < n; i++)
				kill(pids[i], SIGTERM);
			forwarded = true;
		}
		if (poll(pfd, (nfds_t)(2 * n), -1) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "brummctl: poll: %s\n", strerror(errno));
			break;
		}
		for (size_t k = 0; k < 2 * n; k++) {
			if (outs[k].fd < 0 || !pfd[k].revents)
				continue;
			if (!drain(&outs[k], cli_host_label(o->hosts[k / 2]))) {
				close(outs[k].fd);
				outs[k].fd = -1;
				live--;
			}
		}
	}

	for (size_t i = 0; i < n; i++) {
		int st, code;

		while (waitpid(pids[i], &st, 0) < 0 && errno == EINTR)
			;
		code = WIFEXITED(st) ? WEXITSTATUS(st) : CLI_EXIT_ERROR;
		if (code == CLI_EXIT_CONNECT)
			fprintf(stderr, "brummctl: %s: could not be reached (see its lines above)\n",
				o->hosts[i]);
		ret = worse(ret, code > CLI_EXIT_CONNECT ? CLI_EXIT_ERROR : code);
	}
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	for (size_t k = 0; k < 2 * n; k++)
		free(outs[k].buf);
	free(outs);
	free(pfd);
	free(pids);
	return ret;
}
