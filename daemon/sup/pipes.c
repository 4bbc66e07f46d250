/*
 * pipes.c — the child output pipes of the supervisor: each run's stdout and
 * stderr are read on the loop, so that a child never blocks on a full pipe,
 * and handed to the process's capture (sup/logcap.c). A pipe outlives the
 * run that opened it (a grandchild may hold it) and is closed at end of file
 * or when its record goes.
 *
 * Context: loop thread only (supervise_int.h).
 */
#include <stdlib.h>
#include <unistd.h>

#include "daemon/log.h"
#include "daemon/sup/logcap.h"
#include "daemon/sup/loopcheck.h"
#include "daemon/sup/supervise.h"
#include "daemon/sup/supervise_int.h"
#include "lib/util.h"

struct outpipe {
	uv_pipe_t pipe;
	struct brm_proc *p;       /* NULL once the record is gone */
	struct outpipe *next;
	int stream;               /* 1 stdout, 2 stderr */
};

static void on_pipe_closed(uv_handle_t *h)
{
	free(h);
}

void brm_outpipe_close(struct outpipe *op)
{
	struct brm_proc *p = op->p;

	if (p) {
		struct outpipe **pp = &p->pipes;
		while (*pp && *pp != op)
			pp = &(*pp)->next;
		if (*pp)
			*pp = op->next;
		op->p = NULL;
	}
	uv_close((uv_handle_t *)&op->pipe, on_pipe_closed);
}

/* ---- output ------------------------------------------------------------- */

/*
 * Output is read so that a child never blocks on a full pipe, and handed
 * to the process's capture (sup/logcap.c): lines, ring, file, URLs, errors.
 */
static char read_scratch[65536];

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	(void)h;
	(void)suggested;
	buf->base = read_scratch;
	buf->len = sizeof(read_scratch);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct outpipe *op = (struct outpipe *)s;
	struct brm_proc *p = op->p;

	if (p && n > 0) {
		brm_logcap_feed(p->logs, op->stream, buf->base, (size_t)n);
		if (p->sup->hooks.output)
			p->sup->hooks.output(p->sup->hooks.arg, p, buf->base, (size_t)n);
	}
	if (n < 0) {
		if (p)
			brm_logcap_flush(p->logs, op->stream);
		brm_outpipe_close(op);
	}
	if (p && brm_logcap_take_dirty(p->logs))
		brm_proc_publish(p);
}

/* Read what the pipes hold now, so a process's last words precede its exit line. */
void brm_proc_drain_pipes(struct brm_proc *p)
{
	for (struct outpipe *op = p->pipes; op; op = op->next) {
		uv_os_fd_t fd;
		size_t total = 0;

		if (uv_fileno((uv_handle_t *)&op->pipe, &fd) != 0)
			continue;
		while (total < (1u << 20)) {
			ssize_t n = read(fd, read_scratch, sizeof(read_scratch));
			if (n <= 0)
				break;
			total += (size_t)n;
			brm_logcap_feed(p->logs, op->stream, read_scratch, (size_t)n);
		}
		brm_logcap_flush(p->logs, op->stream);
	}
}

void brm_proc_republish(struct brm_proc *p)
{
	BRM_ASSERT_LOOP();
	brm_proc_publish(p);
}

void brm_outpipe_attach(struct brm_proc *p, int fd, int stream)
{
	struct outpipe *op = brm_xcalloc(1, sizeof(*op));
	int r;

	r = uv_pipe_init(p->sup->loop, &op->pipe, 0);
	if (r == 0)
		r = uv_pipe_open(&op->pipe, fd);
	if (r != 0) {
		brm_log_warn("%s: cannot watch output pipe: %s", p->spec->name, uv_strerror(r));
		close(fd);
		uv_close((uv_handle_t *)&op->pipe, on_pipe_closed);
		return;
	}
	op->p = p;
	op->stream = stream;
	op->next = p->pipes;
	p->pipes = op;
	uv_read_start((uv_stream_t *)&op->pipe, on_alloc, on_read);
}
