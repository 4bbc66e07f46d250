/*
 * health.c — health probes (health.h).
 *
 * Each probe in flight is a heap object of its own (struct attempt) that
 * owns its handles and frees itself once the last of them has closed. The
 * health record only points at it; when the record goes away first it
 * clears the back pointer, kills an exec probe's process group, and the
 * attempt ends on its own without reporting.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/sup/events.h"
#include "daemon/sup/health.h"
#include "daemon/sup/loopcheck.h"
#include "daemon/log.h"
#include "daemon/sup/spawn.h"
#include "lib/buf.h"
#include "lib/pattern.h"
#include "lib/util.h"

#define OUTPUT_MAX 512          /* bytes of probe output kept for the snapshot */
#define LOG_LINE_MAX 4096

struct attempt;

struct brm_health {
	uv_loop_t *loop;
	struct brm_proc *p;
	struct brm_health_spec *spec;
	uv_timer_t *timer;          /* heap: closed and freed on destroy */
	struct attempt *cur;
	struct brm_pattern *re;     /* the `log` check's pattern, or NULL */
	bool running;               /* a run of the process is up */
	unsigned failures;
	uint64_t run_start_ms;      /* uv_now at the run's start */
	const char *status;
	char line[LOG_LINE_MAX];
	size_t linelen;
	bool line_cut;
};

struct attempt {
	struct brm_health *h;       /* NULL once abandoned or reported */
	enum brm_health_kind kind;
	int handles;                /* open handles; freed at 0 */
	bool reported;
	uv_timer_t tmo;
	/* exec */
	uv_poll_t poll;
	bool poll_open;
	int pidfd, outfd, errfd;
	pid_t pid;
	/* tcp, http */
	uv_tcp_t tcp;
	bool tcp_open;
	uv_connect_t creq;
	uv_write_t wreq;
	char *reqtext;
	char rbuf[256];
	size_t rlen;
};

static void schedule(struct brm_health *h);
static void run_probe(uv_timer_t *t);

static void on_timer_freed(uv_handle_t *hd)
{
	free(hd);
}

static void set_status(struct brm_health *h, const char *status, const char *output)
{
	h->status = status;
	brm_proc_set_health(h->p, status, output);
}

/* The verdict of one probe. May restart the process. */
static void verdict(struct brm_health *h, bool ok, const char *output)
{
	struct brm_proc *p = h->p;
	const struct brm_orch_spec *o = brm_proc_spec(p)->orch;

	if (ok) {
		h->failures = 0;
		set_status(h, "healthy", output);
		if (o && o->ready == BRM_READY_HEALTH && brm_proc_state(p) == BRM_STARTING)
			brm_proc_set_ready(p);
		return;
	}
	uv_update_time(h->loop);
	if (uv_now(h->loop) - h->run_start_ms < (uint64_t)(h->spec->start_period_secs * 1000)) {
		set_status(h, h->status, output);   /* in the start period: not counted */
		return;
	}
	if (++h->failures < h->spec->retries || !strcmp(h->status, "unhealthy")) {
		set_status(h, h->status, output);
		return;
	}
	brm_log_warn("%s: unhealthy after %u failed probes: %s", brm_proc_name(p),
		     h->failures, output ? output : "");
	set_status(h, "unhealthy", output);
	if (h->spec->restart_on_unhealthy &&
	    (brm_proc_state(p) == BRM_RUNNING || brm_proc_state(p) == BRM_STARTING)) {
		struct brm_buf why = BRM_BUF_INIT;

		brm_log_info("%s: restarting it (on_unhealthy: restart)", brm_proc_name(p));
		brm_buf_adds(&why, "unhealthy");
		if (output && *output) {
			brm_buf_adds(&why, ": ");
			brm_buf_add_line(&why, output, BRM_EVENT_OUTPUT_MAX);
		}
		brm_proc_restart_because(p, why.p);
		brm_buf_finish(&why);
	}
}

/* ---- attempts ----------------------------------------------------------- */

static void attempt_handle_closed(uv_handle_t *hd)
{
	struct attempt *a = hd->data;

	if (--a->handles == 0) {
		if (a->pidfd >= 0)
			close(a->pidfd);
		if (a->outfd >= 0)
			close(a->outfd);
		if (a->errfd >= 0)
			close(a->errfd);
		free(a->reqtext);
		free(a);
	}
}

static void attempt_close(struct attempt *a)
{
	uv_timer_stop(&a->tmo);
	uv_close((uv_handle_t *)&a->tmo, attempt_handle_closed);
	if (a->poll_open) {
		a->poll_open = false;
		uv_close((uv_handle_t *)&a->poll, attempt_handle_closed);
	} else if (a->tcp_open) {
		a->tcp_open = false;
		uv_close((uv_handle_t *)&a->tcp, attempt_handle_closed);
	}
}

/* Report once; the attempt is no longer the current one. */
static void attempt_report(struct attempt *a, bool ok, const char *output)
{
	struct brm_health *h = a->h;

	if (a->reported)
		return;
	a->reported = true;
	a->h = NULL;
	if (!h)
		return;
	h->cur = NULL;
	verdict(h, ok, output);
	/* verdict may have restarted the process; schedule only while it runs */
	if (h->running && !h->cur)
		schedule(h);
}

static struct attempt *attempt_new(struct brm_health *h)
{
	struct attempt *a = brm_xcalloc(1, sizeof(*a));

	a->h = h;
	a->kind = h->spec->kind;
	a->pidfd = a->outfd = a->errfd = -1;
	uv_timer_init(h->loop, &a->tmo);
	a->tmo.data = a;
	a->handles = 1;
	return a;
}

static void read_some(int fd, struct brm_buf *b)
{
	char tmp[OUTPUT_MAX];
	ssize_t n;

	if (fd < 0 || b->len >= OUTPUT_MAX)
		return;
	n = read(fd, tmp, OUTPUT_MAX - b->len);
	if (n > 0)
		brm_buf_add(b, tmp, (size_t)n);
}

static void exec_exited(uv_poll_t *ph, int status, int events)
{
	struct attempt *a = ph->data;
	struct brm_buf out = BRM_BUF_INIT;
	int wstatus = 0, r;

	(void)events;
	r = brm_spawn_reap(a->pidfd, &wstatus);
	if (r == 0 && status == 0)
		return;
	uv_poll_stop(&a->poll);
	if (a->pid > 0)
		kill(-a->pid, SIGKILL);   /* what is left of the probe's group */
	read_some(a->outfd, &out);
	read_some(a->errfd, &out);
	while (out.len && (out.p[out.len - 1] == '\n' || out.p[out.len - 1] == '\r'))
		out.len--;
	if (out.p)
		out.p[out.len] = '\0';
	if (!a->reported) {
		if (r > 0 && WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) {
			attempt_report(a, true, out.len ? out.p : "exit 0");
		} else {
			char *msg;

			if (r > 0 && WIFEXITED(wstatus))
				msg = brm_xasprintf("exit %d%s%s", WEXITSTATUS(wstatus),
						    out.len ? ": " : "", out.len ? out.p : "");
			else
				msg = brm_xasprintf("killed by signal %d", WTERMSIG(wstatus));
			attempt_report(a, false, msg);
			free(msg);
		}
	}
	brm_buf_finish(&out);
	attempt_close(a);
}

static void on_tmo(uv_timer_t *t)
{
	struct attempt *a = t->data;
	struct brm_health *h = a->h;
	char *msg = brm_xasprintf("timed out after %gs", h ? h->spec->timeout_secs : 0.0);

	if (a->kind == BRM_HEALTH_EXEC) {
		/* The poll cleans up once the killed probe is reaped. */
		if (a->pid > 0)
			kill(-a->pid, SIGKILL);
		attempt_report(a, false, msg);
	} else {
		attempt_report(a, false, msg);
		attempt_close(a);
	}
	free(msg);
}

static void start_exec(struct brm_health *h, struct attempt *a)
{
	struct brm_spawn_req req = {
		.argv = h->spec->exec,
		.env = brm_proc_spec(h->p)->env,
		.cwd = brm_proc_spec(h->p)->cwd,
		.user = brm_proc_spec(h->p)->user,
		.group = brm_proc_spec(h->p)->group,
		.umask = -1,
		.pdeathsig = SIGKILL,
	};
	struct brm_spawned out;
	char err[256];

	if (brm_spawn(&req, &out, err, sizeof(err)) < 0) {
		attempt_report(a, false, err);
		attempt_close(a);
		return;
	}
	a->pid = out.pid;
	a->pidfd = out.pidfd;
	a->outfd = out.stdout_fd;
	a->errfd = out.stderr_fd;
	uv_poll_init(h->loop, &a->poll, a->pidfd);
	a->poll.data = a;
	a->poll_open = true;
	a->handles++;
	uv_poll_start(&a->poll, UV_READABLE, exec_exited);
}

static void http_read_alloc(uv_handle_t *hd, size_t sug, uv_buf_t *buf)
{
	struct attempt *a = hd->data;

	(void)sug;
	buf->base = a->rbuf + a->rlen;
	buf->len = sizeof(a->rbuf) - 1 - a->rlen;
}

static void http_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct attempt *a = s->data;
	char *eol;
	int code = 0;

	(void)buf;
	if (n > 0)
		a->rlen += (size_t)n;
	a->rbuf[a->rlen] = '\0';
	eol = strstr(a->rbuf, "\r\n");
	if (!eol && n >= 0 && a->rlen < sizeof(a->rbuf) - 1)
		return;
	if (eol)
		*eol = '\0';
	if (sscanf(a->rbuf, "HTTP/%*d.%*d %d", &code) == 1 && code >= 200 && code < 300) {
		attempt_report(a, true, a->rbuf);
	} else {
		char *msg = brm_xasprintf("bad response: %.120s", a->rlen ? a->rbuf : "(none)");
		attempt_report(a, false, msg);
		free(msg);
	}
	attempt_close(a);
}

static void on_connect(uv_connect_t *req, int status)
{
	struct attempt *a = req->data;
	struct brm_health *h = a->h;

	if (a->reported)
		return;   /* timed out; already closing */
	if (status < 0) {
		char *msg = brm_xasprintf("connect: %s", uv_strerror(status));
		attempt_report(a, false, msg);
		free(msg);
		attempt_close(a);
		return;
	}
	if (a->kind == BRM_HEALTH_TCP) {
		attempt_report(a, true, "connected");
		attempt_close(a);
		return;
	}
	a->reqtext = brm_xasprintf("GET %s HTTP/1.0\r\nHost: %s:%d\r\nUser-Agent: brummd\r\n"
				   "Connection: close\r\n\r\n", h->spec->path, h->spec->host,
				   h->spec->port);
	{
		uv_buf_t b = uv_buf_init(a->reqtext, (unsigned)strlen(a->reqtext));
		uv_write(&a->wreq, (uv_stream_t *)&a->tcp, &b, 1, NULL);
	}
	uv_read_start((uv_stream_t *)&a->tcp, http_read_alloc, http_read);
}

static void start_net(struct brm_health *h, struct attempt *a)
{
	struct sockaddr_storage ss;
	int r;

	if (strchr(h->spec->host, ':'))
		r = uv_ip6_addr(h->spec->host, h->spec->port, (struct sockaddr_in6 *)&ss);
	else
		r = uv_ip4_addr(h->spec->host, h->spec->port, (struct sockaddr_in *)&ss);
	uv_tcp_init(h->loop, &a->tcp);
	a->tcp.data = a;
	a->tcp_open = true;
	a->handles++;
	a->creq.data = a;
	if (r == 0)
		r = uv_tcp_connect(&a->creq, &a->tcp, (struct sockaddr *)&ss, on_connect);
	if (r < 0) {
		char *msg = brm_xasprintf("connect: %s", uv_strerror(r));
		attempt_report(a, false, msg);
		free(msg);
		attempt_close(a);
	}
}

static void run_probe(uv_timer_t *t)
{
	struct brm_health *h = t->data;
	struct attempt *a;

	if (h->cur || !h->running)
		return;
	a = attempt_new(h);
	h->cur = a;
	uv_timer_start(&a->tmo, on_tmo, (uint64_t)(h->spec->timeout_secs * 1000), 0);
	if (a->kind == BRM_HEALTH_EXEC)
		start_exec(h, a);
	else
		start_net(h, a);
}

static void schedule(struct brm_health *h)
{
	if (h->spec->kind == BRM_HEALTH_LOG)
		return;
	uv_timer_start(h->timer, run_probe, (uint64_t)(h->spec->interval_secs * 1000), 0);
}

static void abandon(struct brm_health *h)
{
	struct attempt *a = h->cur;

	uv_timer_stop(h->timer);
	if (!a)
		return;
	h->cur = NULL;
	a->h = NULL;
	a->reported = true;
	if (a->kind == BRM_HEALTH_EXEC) {
		if (a->pid > 0)
			kill(-a->pid, SIGKILL);
		if (a->pidfd < 0)
			attempt_close(a);
	} else {
		attempt_close(a);
	}
}

/* ---- the record --------------------------------------------------------- */

struct brm_health *brm_health_create(uv_loop_t *loop, struct brm_proc *p,
				     const struct brm_health_spec *spec)
{
	BRM_ASSERT_LOOP();
	struct brm_health *h = brm_xcalloc(1, sizeof(*h));

	h->loop = loop;
	h->p = p;
	h->spec = brm_health_spec_dup(spec);
	h->timer = brm_xmalloc(sizeof(*h->timer));
	uv_timer_init(loop, h->timer);
	h->timer->data = h;
	h->status = "unknown";
	if (spec->kind == BRM_HEALTH_LOG &&
	    brm_pattern_compile(spec->regex, &h->re, NULL) == 0)   /* checked with the config */
		brm_pattern_set_base(h->re, BRM_PATTERN_LOOP_BASE);
	return h;
}

void brm_health_destroy(struct brm_health *h)
{
	BRM_ASSERT_LOOP();
	if (!h)
		return;
	abandon(h);
	uv_close((uv_handle_t *)h->timer, on_timer_freed);
	brm_pattern_destroy(h->re);
	brm_health_spec_destroy(h->spec);
	free(h);
}

const struct brm_health_spec *brm_health_spec(const struct brm_health *h)
{
	BRM_ASSERT_LOOP();
	return h->spec;
}

void brm_health_run_started(struct brm_health *h)
{
	BRM_ASSERT_LOOP();
	abandon(h);
	h->running = true;
	h->failures = 0;
	h->linelen = 0;
	h->line_cut = false;
	uv_update_time(h->loop);
	h->run_start_ms = uv_now(h->loop);
	set_status(h, "unknown", NULL);
	schedule(h);
}

void brm_health_run_ended(struct brm_health *h)
{
	BRM_ASSERT_LOOP();
	abandon(h);
	h->running = false;
	h->failures = 0;
	h->status = "unknown";
}

static void log_line(struct brm_health *h, const char *line)
{
	/* A line on which the pattern reaches a limit does not match (> 0). */
	if (h->re && brm_pattern_match(h->re, line, strlen(line)) > 0 &&
	    strcmp(h->status, "healthy"))
		verdict(h, true, line);
}

void brm_health_output(struct brm_health *h, const char *data, size_t n)
{
	BRM_ASSERT_LOOP();
	if (h->spec->kind != BRM_HEALTH_LOG || !h->running)
		return;
	for (size_t i = 0; i < n; i++) {
		char c = data[i];

		if (c == '\n') {
			h->line[h->linelen] = '\0';
			if (!h->line_cut)
				log_line(h, h->line);
			h->linelen = 0;
			h->line_cut = false;
		} else if (h->linelen < sizeof(h->line) - 1) {
			h->line[h->linelen++] = c == '\0' ? ' ' : c;
		} else if (!h->line_cut) {
			h->line[h->linelen] = '\0';
			log_line(h, h->line);
			h->line_cut = true;
		}
	}
}
