/*
 * conn.c — one client connection on its worker: reading, line framing,
 * answering in order, writing, back-pressure and closing; and the commands
 * the loop thread hands back to it.
 *
 * Per connection, requests are answered in order: while a mutating
 * request is with the loop thread, further lines wait in the input buffer
 * and the socket is not read, which also bounds what a client can queue.
 *
 * Back-pressure: a client that sends requests and does not read the
 * replies must not make brummd grow. Once max_queued_bytes of replies wait
 * to be sent, no further request is answered (not even one already in the
 * input buffer) and the socket is not read; input is read only while no
 * complete request waits in the buffer, one READ_CHUNK at a time, so it
 * holds at most a partial line (< max_message_bytes) plus one chunk. When
 * the client reads (EPOLLOUT), the buffered requests are answered and
 * reading resumes. Memory per connection is so bounded by
 * max_queued_bytes + one reply + max_message_bytes + READ_CHUNK, and no
 * reply is lost. The epoll interest is level-triggered throughout.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/log.h"
#include "daemon/rpc/admit.h"
#include "daemon/rpc/conn.h"
#include "daemon/rpc/dispatch.h"
#include "daemon/rpc/follow.h"
#include "daemon/rpc/methods.h"
#include "daemon/rpc/reqstats.h"
#include "daemon/rpc/server_types.h"
#include "daemon/rpc/sub.h"
#include "daemon/sup/cmd.h"
#include "proto/envelope.h"
#include "proto/proto.h"
#include "proto/rpc.h"

#define READ_CHUNK 65536

static void on_cmd_done(struct brm_cmd *cmd);

/* ---- connections -------------------------------------------------------- */

static struct brm_server *srv_of(const struct conn *c)
{
	return c->w->srv;
}

/* Replies to send reached max_queued_bytes: answer nothing more for now. */
static bool conn_backpressured(const struct conn *c)
{
	return c->out.len >= c->w->srv->limits.max_queued_bytes;
}

/*
 * Read more requests? Not while one is with the loop, not past the limit
 * of queued replies, and not while the input buffer may still hold a
 * complete request (in.p[scanned..len) is unscanned).
 */
static bool conn_wants_input(const struct conn *c)
{
	return !c->dead && !c->pending && !c->rd_eof && !c->close_after_flush &&
	       !conn_backpressured(c) && c->scanned == c->in.len;
}

void conn_update_events(struct conn *c)
{
	uint32_t ev = 0;
	struct epoll_event e;

	if (c->dead)
		return;
	if (conn_wants_input(c))
		ev |= EPOLLIN | EPOLLRDHUP;
	if (c->out.len)
		ev |= EPOLLOUT;
	if (ev == c->events)
		return;
	e.events = ev;
	e.data.ptr = c;
	epoll_ctl(c->w->epfd, EPOLL_CTL_MOD, c->fd, &e);
	c->events = ev;
}

static void conn_free(struct conn *c)
{
	brm_buf_finish(&c->in);
	brm_buf_finish(&c->out);
	free(c);
}

/* Context: loop thread (a cancel's done callback). */
static void on_cancel_done(struct brm_cmd *cmd)
{
	brm_cmd_destroy(cmd);
}

/*
 * The client of a command still with the loop thread went away: tell the
 * loop, so that a wait does not outlive it (it would hold its targets'
 * observers, a timer and this connection until its timeout). The command
 * itself still comes back, and frees the connection then.
 */
static void cancel_pending(struct conn *c)
{
	struct brm_cmd *cmd = brm_cmd_create(&brm_op_cancel, NULL);

	cmd->cancel_serial = c->cmd_serial;
	cmd->no_reply = true;
	cmd->done = on_cancel_done;
	brm_cmdq_submit(c->w->srv->ctx.cmdq, cmd);
}

void conn_close(struct conn *c)
{
	struct worker *w = c->w;

	if (c->dead)
		return;
	if (c->pending)
		cancel_pending(c);
	if (c->uid_counted)
		uid_release(srv_of(c), c->peer.uid);
	epoll_ctl(w->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->dead = true;
	brm_stream_destroy(c->stream);
	c->stream = NULL;
	__atomic_fetch_sub(&w->srv->nclients, 1, __ATOMIC_RELAXED);
	brm_sub_destroy(c->evsub);
	c->evsub = NULL;
	if (c->prev)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = NULL;
	c->next = NULL;
	/* Freed after this epoll batch, which may still name it; or, with a
	 * command outstanding, once that command came back. */
	if (!c->pending) {
		c->next = w->graveyard;
		w->graveyard = c;
	}
}

void bury_dead(struct worker *w)
{
	while (w->graveyard) {
		struct conn *c = w->graveyard;
		w->graveyard = c->next;
		conn_free(c);
	}
}

/*
 * More than twice max_queued_bytes waits for a client that does not read
 * (only a stream can get there: replies stop the answering of requests at
 * max_queued_bytes, so they wait for the client instead). Keep the line
 * being sent, drop the rest, add a notice and close once it is out: memory
 * never grows without bound.
 */
static void conn_cut_slow_reader(struct conn *c)
{
	char *nl = memchr(c->out.p, '\n', c->out.len);
	size_t keep = nl ? (size_t)(nl - c->out.p) + 1 : 0;

	brm_log_warn("client uid %u pid %d: %zu bytes queued and not read; cutting it off",
		     (unsigned)c->peer.uid, (int)c->peer.pid, c->out.len);
	c->out.len = keep;
	c->out.p[keep] = '\0';
	brm_rpc_error(&c->out, NULL, BRM_E_LIMIT,
		      "output queued past the limit (max_queued_bytes); closing", NULL);
	c->close_after_flush = true;
}

/* Write what we can. Returns false when the connection was closed. */
bool conn_flush(struct conn *c)
{
	if (c->out.len > 2 * c->w->srv->limits.max_queued_bytes && !c->close_after_flush &&
	    (c->stream || c->evsub))
		conn_cut_slow_reader(c);
	while (c->out.len) {
		ssize_t n = send(c->fd, c->out.p, c->out.len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			conn_close(c);
			return false;
		}
		brm_buf_consume(&c->out, (size_t)n);
	}
	if (!c->out.len && !c->pending &&
	    (c->close_after_flush || (c->rd_eof && c->in.len == 0))) {
		conn_close(c);
		return false;
	}
	return true;
}

/*
 * Handle one request line (without its newline). Returns true when a
 * command went to the loop thread (stop reading further lines until it
 * comes back).
 */
static bool handle_line(struct conn *c, char *line, size_t len)
{
	struct worker *w = c->w;
	struct brm_cmd *cmd = NULL;

	if (!brm_server_dispatch(&w->srv->ctx, &w->scratch, &c->peer, line, len, &c->out,
				 &c->stream, &c->evsub, &cmd))
		return false;
	cmd->owner = c;
	cmd->done = on_cmd_done;
	cmd->peer_pid = c->peer.pid;
	cmd->peer_uid = c->peer.uid;
	c->cmd_serial = cmd->serial;
	c->pending++;
	brm_cmdq_submit(w->srv->ctx.cmdq, cmd);
	return true;
}

/*
 * Answer complete lines in the input buffer until one goes to the loop or
 * the replies waiting to be sent reach max_queued_bytes. The answered lines
 * leave the buffer in one move at the end.
 */
static void conn_process(struct conn *c)
{
	size_t max = c->w->srv->limits.max_message_bytes;
	size_t pos = 0;   /* in.p[0..pos) was answered */

	while (!c->pending && !c->close_after_flush && pos < c->in.len && !conn_backpressured(c)) {
		char *nl;
		size_t len;

		if (c->scanned < pos)
			c->scanned = pos;
		nl = memchr(c->in.p + c->scanned, '\n', c->in.len - c->scanned);
		if (!nl) {
			c->scanned = c->in.len;
			if (c->in.len - pos >= max) {
				brm_envelope_too_long(&c->out, max);
				c->close_after_flush = true;
				brm_buf_reset(&c->in);
				c->scanned = 0;
				return;
			}
			if (!c->rd_eof)
				break;
			/* The last line of a half-closed client needs no newline. */
			brm_buf_grow(&c->in, 1);	/* may move c->in.p */
			nl = c->in.p + c->in.len;
		}
		len = (size_t)(nl - (c->in.p + pos));
		if (len >= max) {
			brm_envelope_too_long(&c->out, max);
			c->close_after_flush = true;
			brm_buf_reset(&c->in);
			c->scanned = 0;
			return;
		}
		handle_line(c, c->in.p + pos, len);
		pos += pos + len < c->in.len ? len + 1 : len;
	}
	brm_buf_consume(&c->in, pos);
	c->scanned = c->scanned > pos ? c->scanned - pos : 0;
}

/*
 * Answer what the input buffer holds and send what the socket takes, for
 * as long as the client keeps reading; then set the epoll interest.
 * Returns false when the connection was closed.
 */
bool conn_service(struct conn *c)
{
	for (;;) {
		conn_process(c);
		if (!conn_flush(c))
			return false;
		if (c->pending || c->close_after_flush || c->scanned == c->in.len ||
		    conn_backpressured(c))
			break;
	}
	conn_update_events(c);
	return true;
}

/* Read a chunk at a time, answering it before the next is read. */
void conn_on_readable(struct conn *c)
{
	c->last_active_ns = brm_now_mono_ns();
	for (int rounds = 0; rounds < 4 && conn_wants_input(c); rounds++) {
		ssize_t n;

		brm_buf_grow(&c->in, READ_CHUNK);
		n = recv(c->fd, c->in.p + c->in.len, READ_CHUNK, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			conn_close(c);
			return;
		}
		if (n == 0) {
			c->rd_eof = true;
			break;
		}
		c->in.len += (size_t)n;
		c->in.p[c->in.len] = '\0';
		conn_process(c);
		/* A short read drained the socket: don't pay a recv for EAGAIN. */
		if ((size_t)n < READ_CHUNK)
			break;
	}
	conn_service(c);
}

/* ---- commands coming back from the loop thread --------------------------- */

/* Context: loop thread. Hands @cmd back to the worker that owns it. */
static void on_cmd_done(struct brm_cmd *cmd)
{
	struct conn *c = cmd->owner;
	struct worker *w = c->w;
	uint64_t one = 1;

	BRM_HANDOFF_RELEASE(cmd);
	cds_wfcq_enqueue(&w->rhead, &w->rtail, &cmd->ret_node);
	if (write(w->evfd, &one, sizeof(one)) < 0) {
		/* the counter is saturated: the worker is awake anyway */
	}
}

void drain_returns(struct worker *w)
{
	struct cds_wfcq_node *node;

	while ((node = cds_wfcq_dequeue_blocking(&w->rhead, &w->rtail))) {
		struct brm_cmd *cmd = caa_container_of(node, struct brm_cmd, ret_node);
		const struct brm_method *m;
		struct conn *c;

		BRM_HANDOFF_ACQUIRE(cmd);
		m = brm_method_by_op(cmd->op);
		if (m)
			brm_reqstats_count(m, cmd->id_json, cmd->reply.p, cmd->reply.len);
		c = cmd->owner;
		c->pending--;
		if (c->dead) {
			if (!c->pending) {
				c->next = w->graveyard;
				w->graveyard = c;
			}
		} else {
			c->last_active_ns = brm_now_mono_ns();
			if (!cmd->no_reply)
				brm_buf_add(&c->out, cmd->reply.p, cmd->reply.len);
			conn_service(c);
		}
		brm_cmd_destroy(cmd);
	}
}
