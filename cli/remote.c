/*
 * remote.c — brummctl -H ssh://[user@]host[:port]: the same protocol to a
 * brummd on another host, carried by OpenSSH.
 *
 * brummctl starts `ssh [-p PORT] [-l USER] -T -- HOST 'REMOTE dial-stdio
 * [--socket PATH]'` with its stdin and stdout on one end of a socketpair
 * and talks to the other end exactly as to brummd's Unix socket
 * (brm_client_from_fd), so every command works unchanged. On the far side
 * `brummctl dial-stdio` (dialstdio.c) copies bytes between ssh and the
 * local brummd socket. There is no listener and no authentication of our
 * own: ssh is the trust boundary, and brummd's socket rules apply to the
 * remote user.
 *
 * "--" goes before the host, so no host (nor anything after it) can ever
 * be read as an ssh option; the parser below refuses a host or user that
 * starts with '-' all the same, so the message is ours and clear. ssh joins
 * the remote command with spaces and the remote shell reads it: the socket
 * path is quoted for that shell; $BRUMMCTL_REMOTE is the user's own and
 * passes as written (so "sudo -n brummctl" works).
 *
 * BatchMode is not set for one host: ssh may ask for a password or a host
 * key on the terminal, as docker -H ssh:// lets it. The fan-out (several
 * -H, fanout.c) sets it: parallel prompts on one terminal cannot be
 * answered, so a host that needs one fails with ssh's message instead.
 *
 * Failures show up as the connection closing; ssh's exit status then says
 * which: 255 ssh itself, 127 no such remote program, 3 dial-stdio could not
 * connect (the messages themselves went to our stderr, which ssh shares).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/brummctl.h"
#include "lib/buf.h"
#include "lib/client.h"
#include "lib/util.h"

#define MAX_SSH_WORDS 32   /* words of $BRUMMCTL_SSH */

/* ---- ssh://[user@]host[:port] ---- */

static bool host_char(char c, bool bracketed)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '-' || c == '_' || (bracketed && (c == ':' || c == '%'));
}

static bool user_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '-' || c == '_' || c == '$';
}

const char *cli_host_parse(const char *url, struct cli_host *h)
{
	const char *p, *at, *hs, *he, *colon;
	bool bracketed = false;

	memset(h, 0, sizeof(*h));
	h->url = url;
	if (strncmp(url, "ssh://", 6) != 0)
		return "expected ssh://[USER@]HOST[:PORT]";
	p = url + 6;
	if (strlen(p) > 255)
		return "longer than 255 bytes after ssh://";
	at = strchr(p, '@');
	if (at) {
		if (at == p)
			return "empty user before '@'";
		if (*p == '-')
			return "a user may not start with '-'";
		for (const char *u = p; u < at; u++)
			if (!user_char(*u))
				return "a user has only A-Z a-z 0-9 . _ - $";
		p = at + 1;
	}
	if (*p == '[') {
		bracketed = true;
		hs = p + 1;
		he = strchr(hs, ']');
		if (!he)
			return "missing ']' after an IPv6 address";
		colon = he + 1;
		if (*colon && *colon != ':')
			return "only :PORT may follow ']'";
	} else {
		hs = p;
		he = hs + strcspn(hs, ":");
		colon = he;
	}
	if (he == hs)
		return "empty host";
	if (*hs == '-')
		return "a host may not start with '-' (ssh would read it as an option)";
	for (const char *c = hs; c < he; c++)
		if (!host_char(*c, bracketed))
			return bracketed ? "an address in [] has only hex digits, '.', ':' and '%'"
				: "a host has only A-Z a-z 0-9 . _ - (IPv6 goes in [])";
	if (*colon == ':') {
		const char *port = colon + 1;
		long v = 0;

		if (!*port)
			return "empty port after ':'";
		for (const char *d = port; *d; d++) {
			if (*d < '0' || *d > '9')
				return "a port is a number from 1 to 65535";
			v = v * 10 + (*d - '0');
			if (v > 65535)
				return "a port is a number from 1 to 65535";
		}
		if (v == 0)
			return "a port is a number from 1 to 65535";
		h->port = brm_xasprintf("%ld", v);
	}
	h->host = brm_xasprintf("%.*s", (int)(he - hs), hs);
	if (at)
		h->user = brm_xasprintf("%.*s", (int)(at - (url + 6)), url + 6);
	return NULL;
}

void cli_host_finish(struct cli_host *h)
{
	free(h->user);
	free(h->host);
	free(h->port);
	memset(h, 0, sizeof(*h));
}

const char *cli_host_label(const char *url)
{
	return strncmp(url, "ssh://", 6) == 0 ? url + 6 : url;
}

/* ---- starting ssh ---- */

/* @s as one word for a POSIX shell: in single quotes, ' as '\''. */
static void add_quoted(struct brm_buf *b, const char *s)
{
	brm_buf_addc(b, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			brm_buf_adds(b, "'\\''");
		else
			brm_buf_addc(b, *s);
	}
	brm_buf_addc(b, '\'');
}

/* The command line ssh runs there: "$BRUMMCTL_REMOTE dial-stdio [--socket 'PATH']". */
static char *remote_command(const char *socket)
{
	const char *prog = getenv("BRUMMCTL_REMOTE");
	struct brm_buf b = BRM_BUF_INIT;

	brm_buf_adds(&b, prog && *prog ? prog : "brummctl");
	brm_buf_adds(&b, " dial-stdio");
	if (socket) {
		brm_buf_adds(&b, " --socket ");
		add_quoted(&b, socket);
	}
	return brm_buf_detach(&b);
}

const char *cli_remote_program(void)
{
	const char *prog = getenv("BRUMMCTL_REMOTE");

	return prog && *prog ? prog : "brummctl";
}

struct brm_client *cli_ssh_connect(const struct cli_host *h, const char *socket, bool batch,
				   pid_t *pid, char **err)
{
	const char *env = getenv("BRUMMCTL_SSH");
	char *words = brm_xstrdup(env && *env ? env : "ssh"), *save = NULL, *w;
	const char *argv[MAX_SSH_WORDS + 16];
	char *cmd = remote_command(socket);
	int n = 0, sv[2], ep[2], e = 0;
	struct brm_client *c = NULL;
	ssize_t got;

	*pid = -1;
	for (w = strtok_r(words, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		if (n == MAX_SSH_WORDS) {
			*err = brm_xasprintf("$BRUMMCTL_SSH has more than %d words", MAX_SSH_WORDS);
			goto out_free;
		}
		argv[n++] = w;
	}
	if (n == 0) {
		*err = brm_xstrdup("$BRUMMCTL_SSH names no program");
		goto out_free;
	}
	if (h->port) {
		argv[n++] = "-p";
		argv[n++] = h->port;
	}
	if (h->user) {
		argv[n++] = "-l";
		argv[n++] = h->user;
	}
	if (batch) {
		argv[n++] = "-o";
		argv[n++] = "BatchMode=yes";
	}
	argv[n++] = "-T";            /* no terminal: the channel carries bytes */
	argv[n++] = "--";
	argv[n++] = h->host;
	argv[n++] = cmd;
	argv[n] = NULL;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		*err = brm_xasprintf("cannot make a socket pair: %s", strerror(errno));
		goto out_free;
	}
	if (pipe2(ep, O_CLOEXEC) < 0) {
		*err = brm_xasprintf("cannot make a pipe: %s", strerror(errno));
		goto out_close_pair;
	}
	fflush(NULL);
	*pid = fork();
	if (*pid < 0) {
		*err = brm_xasprintf("cannot fork: %s", strerror(errno));
		close(ep[0]);
		close(ep[1]);
		goto out_close_pair;
	}
	if (*pid == 0) {
		/* ssh's stdin and stdout: our socket; stderr: the user's. */
		if (dup2(sv[1], STDIN_FILENO) < 0 || dup2(sv[1], STDOUT_FILENO) < 0)
			e = errno;
		else
			execvp(argv[0], (char *const *)argv);
		e = e ? e : errno;
		if (write(ep[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	close(ep[1]);
	close(sv[1]);
	do
		got = read(ep[0], &e, sizeof(e));
	while (got < 0 && errno == EINTR);
	close(ep[0]);
	if (got == (ssize_t)sizeof(e)) {
		*err = brm_xasprintf("cannot run ssh '%s': %s (set $BRUMMCTL_SSH to the ssh to use)",
				     argv[0], strerror(e));
		waitpid(*pid, NULL, 0);
		*pid = -1;
		close(sv[0]);
		goto out_free;
	}
	c = brm_client_from_fd(sv[0]);
	goto out_free;

out_close_pair:
	close(sv[0]);
	close(sv[1]);
out_free:
	free(cmd);
	free(words);
	return c;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

int cli_ssh_reap(pid_t pid, int timeout_ms)
{
	long deadline = now_ms() + timeout_ms;
	struct timespec tick = { 0, 5 * 1000 * 1000 };
	int st;

	if (pid <= 0)
		return -1;
	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			return st;
		if (r < 0 && errno != EINTR)
			return -1;
		if (now_ms() >= deadline)
			break;
		nanosleep(&tick, NULL);
	}
	/* ssh hangs on: it has nothing more to carry for us. */
	kill(pid, SIGTERM);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return -1;
}

char *cli_ssh_why(const struct cli_host *h, int status, const char *conn_err)
{
	const char *label = cli_host_label(h->url);

	if (status == -1)
		return brm_xasprintf("cannot reach brummd on '%s': %s", h->url, conn_err);
	if (WIFSIGNALED(status))
		return brm_xasprintf("cannot reach brummd on '%s': ssh was killed by signal %d",
				     h->url, WTERMSIG(status));
	switch (WEXITSTATUS(status)) {
	case 255:
		return brm_xasprintf("cannot reach brummd on '%s': ssh to %s failed (exit status"
				     " 255; ssh's own message is above)", h->url, label);
	case 126:
	case 127:
		return brm_xasprintf("cannot reach brummd on '%s': cannot run '%s' on %s (exit"
				     " status %d: not found or not executable there; set"
				     " $BRUMMCTL_REMOTE to its path on that host)", h->url,
				     cli_remote_program(), label, WEXITSTATUS(status));
	case CLI_EXIT_CONNECT:
		return brm_xasprintf("cannot reach brummd on '%s': brummctl dial-stdio on %s"
				     " cannot connect to brummd there (its message is above)",
				     h->url, label);
	case CLI_EXIT_USAGE:
		return brm_xasprintf("cannot reach brummd on '%s': '%s' on %s refused"
				     " 'dial-stdio' (exit status 2): an older brummctl?",
				     h->url, cli_remote_program(), label);
	default:
		return brm_xasprintf("cannot reach brummd on '%s': %s (ssh exit status %d)",
				     h->url, conn_err, WEXITSTATUS(status));
	}
}
