/*
 * server.c — worker threads, connections and line framing.
 *
 * Why raw epoll and not libuv here: a worker is an RCU reader that owns
 * its connections outright. All N workers wait on the one listening socket
 * with EPOLLEXCLUSIVE (one is woken per new client) and keep what they
 * accept; a connection never moves between threads, so it needs no lock.
 * A worker's epoll set also holds an eventfd through which the loop thread
 * hands back finished commands (a wait-free queue, as in the other
 * direction) and asks the worker to stop.
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
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/conf/access.h"
#include "daemon/conf/limits.h"
#include "daemon/sup/events.h"
#include "daemon/log.h"
#include "daemon/rpc/methods.h"
#include "daemon/rpc/server.h"
#include "daemon/rpc/follow.h"
#include "daemon/rpc/sub.h"
#include "lib/registry.h"
#include "lib/safedir.h"
#include "proto/proto.h"
#include "proto/rpc.h"

#define READ_CHUNK 65536
#define WORKER_STACK (512u << 10)  /* cJSON recursion needs >= 256 KiB */

struct worker;

struct conn {
	int fd;
	struct worker *w;
	struct brm_buf in;
	size_t scanned;          /* in.p[0..scanned) has no newline */
	struct brm_buf out;
	int pending;             /* commands with the loop thread (0 or 1) */
	uint64_t cmd_serial;     /* the serial of the last one */
	bool rd_eof;             /* the client half-closed */
	bool close_after_flush;  /* a fatal protocol error was answered */
	bool dead;               /* fd closed; freed when pending drops to 0 */
	uint32_t events;         /* current epoll interest */
	void *stream;            /* log follower (rpc/follow.c), or NULL */
	struct brm_peer peer;    /* SO_PEERCRED at accept */
	uint64_t last_active_ns; /* for the idle timeout */
	void *evsub;             /* subscription (sub.h: events, daemon_log), or NULL */
	bool uid_counted;        /* counts against max_clients_per_uid */
	struct conn *prev, *next;
};

struct worker {
	pthread_t thread;
	struct brm_server *srv;
	int epfd;
	int evfd;
	struct cds_wfcq_head rhead;   /* commands handed back by the loop */
	struct cds_wfcq_tail rtail;
	struct conn *conns;
	struct conn *graveyard;       /* closed; freed after the current batch */
	struct brm_scratch scratch;
	uint64_t last_idle_scan_ns;
	int reserve_fd;               /* /dev/null, given up to refuse a client at EMFILE */
	uint64_t emfile_logged_ns;    /* last "out of descriptors" warning */
	unsigned long emfile_refused; /* clients refused since that warning */
	bool started;
};

struct brm_server {
	char *path;
	int listen_fd;
	int nworkers;
	struct worker *workers;
	struct brm_ctx ctx;
	struct brm_limits limits;     /* ctx.limits points here */
	int nclients;                 /* open connections, all workers (atomic) */
	int stopping;                 /* atomic: set by brm_server_stop */
	uid_t self_uid;               /* brummd's: like root, never capped per uid */
	pthread_mutex_t uid_lock;     /* guards uids: taken per accept and close */
	struct uid_slot *uids;        /* uids with connections or unlogged refusals */
	size_t nuids, uids_cap;
};

/* Connections of one uid, and its refusals since the last warning. */
struct uid_slot {
	uid_t uid;
	int count;
	unsigned long refused;
	uint64_t logged_ns;           /* last warning; 0: never */
};

/* epoll tags for the two non-connection descriptors. */
static char tag_listen, tag_event;

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

static void conn_update_events(struct conn *c)
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

static void uid_release(struct brm_server *srv, uid_t uid);

static void conn_close(struct conn *c)
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

static void bury_dead(struct worker *w)
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
static bool conn_flush(struct conn *c)
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

/* ---- one request -------------------------------------------------------- */

/* Deeper than @max? Checked before cJSON recurses. */
static bool too_deep(const char *s, size_t n, int max)
{
	int depth = 0;
	bool in_str = false;

	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (in_str) {
			if (ch == '\\')
				i++;
			else if (ch == '"')
				in_str = false;
		} else if (ch == '"') {
			in_str = true;
		} else if (ch == '{' || ch == '[') {
			if (++depth > max)
				return true;
		} else if (ch == '}' || ch == ']') {
			depth--;
		}
	}
	return false;
}

/*
 * A "\u0000" escape inside a string? cJSON would cut the string there, so
 * "stop\u0000x" would run stop and a name would be checked short.
 */
static bool has_escaped_nul(const char *s, size_t n)
{
	for (size_t i = 0; i + 5 < n; i++) {
		if (s[i] != '\\')
			continue;
		if (s[i + 1] == 'u' && !memcmp(s + i + 2, "0000", 4))
			return true;
		i++;   /* skip the escaped character: "\\u0000" is no NUL */
	}
	return false;
}

static void on_cmd_done(struct brm_cmd *cmd);

static const struct brm_limits default_limits = BRM_LIMITS_DEFAULT;

#define DENIED_LOG_EVERY_NS (10ull * 1000000000)

/*
 * A refused call is logged with its method, uid and pid, but at most once
 * every 10 s for all workers together, with the count of those not logged
 * since: a peer that may connect but not call must not be able to flood
 * brummd's log (a cost it controls).
 */
static void log_denied(const char *method, const struct brm_peer *peer)
{
	static uint64_t logged_ns;          /* atomic */
	static unsigned long unlogged;      /* atomic */
	uint64_t now = brm_now_mono_ns();
	uint64_t last = __atomic_load_n(&logged_ns, __ATOMIC_RELAXED);
	unsigned long more;

	if ((last && now - last < DENIED_LOG_EVERY_NS) ||
	    !__atomic_compare_exchange_n(&logged_ns, &last, now, false, __ATOMIC_RELAXED,
					 __ATOMIC_RELAXED)) {
		__atomic_add_fetch(&unlogged, 1, __ATOMIC_RELAXED);
		return;
	}
	more = __atomic_exchange_n(&unlogged, 0, __ATOMIC_RELAXED);
	if (more)
		brm_log_warn("denied '%s' to uid %u pid %d: not permitted (and %lu more calls"
			     " denied since the last such line)", method, (unsigned)peer->uid,
			     (int)peer->pid, more);
	else
		brm_log_warn("denied '%s' to uid %u pid %d: not permitted", method,
			     (unsigned)peer->uid, (int)peer->pid);
}

bool brm_server_dispatch(const struct brm_ctx *ctx, struct brm_scratch *scratch,
			 const struct brm_peer *peer, char *line, size_t len,
			 struct brm_buf *out, void **stream, void **evsub,
			 struct brm_cmd **cmdp)
{
	const struct brm_limits *lim = ctx->limits ? ctx->limits : &default_limits;
	const char *end = NULL;
	cJSON *root, *id, *method, *params, *version;
	char *id_json = NULL;
	const struct brm_method *m;
	struct brm_req req;
	struct brm_cmd *cmd = NULL;
	bool notify, queued = false;
	struct brm_buf discard = BRM_BUF_INIT;

	while (len && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	if (!len)
		return false;
	if (memchr(line, '\0', len)) {
		brm_rpc_error(out, NULL, BRM_E_PARSE, "parse error: NUL byte in request", NULL);
		return false;
	}
	if (has_escaped_nul(line, len)) {
		brm_rpc_error(out, NULL, BRM_E_PARSE,
			      "parse error: \\u0000 in a string is not allowed", NULL);
		return false;
	}
	if (too_deep(line, len, lim->max_json_depth)) {
		char msg[80];
		snprintf(msg, sizeof(msg), "request nested deeper than %d levels (max_json_depth)",
			 lim->max_json_depth);
		brm_rpc_error(out, NULL, BRM_E_LIMIT, msg, NULL);
		return false;
	}
	line[len] = '\0';
	root = cJSON_ParseWithLengthOpts(line, len + 1, &end, 1);
	if (!root) {
		size_t off = end && end >= line ? (size_t)(end - line) : 0;
		char msg[96];
		snprintf(msg, sizeof(msg), "parse error: not valid JSON at byte %zu", off + 1);
		brm_rpc_error(out, NULL, BRM_E_PARSE, msg, NULL);
		return false;
	}
	if (cJSON_IsArray(root)) {
		brm_rpc_error(out, NULL, BRM_E_INVALID_REQUEST,
			      "invalid request: batch requests are not supported", NULL);
		goto out;
	}
	if (!cJSON_IsObject(root)) {
		brm_rpc_error(out, NULL, BRM_E_INVALID_REQUEST,
			      "invalid request: expected a JSON-RPC 2.0 request object", NULL);
		goto out;
	}
	id = cJSON_GetObjectItemCaseSensitive(root, "id");
	notify = id == NULL;
	if (brm_rpc_key_count(root, "id") > 1) {
		brm_rpc_error(out, NULL, BRM_E_INVALID_REQUEST,
			      "invalid request: duplicate key \"id\"", NULL);
		goto out;
	}
	if (id && !cJSON_IsNumber(id) && !cJSON_IsString(id) && !cJSON_IsNull(id)) {
		brm_rpc_error(out, NULL, BRM_E_INVALID_REQUEST,
			      "invalid request: \"id\" must be a number, a string or null", NULL);
		goto out;
	}
	/* The id as sent: a reply never rounds it through a double. */
	id_json = id ? brm_rpc_id_json(line, len, id) : NULL;
	if (id && !id_json) {
		brm_rpc_error(out, NULL, BRM_E_INVALID_REQUEST,
			      "invalid request: \"id\" is not a valid JSON number", NULL);
		goto out;
	}
	brm_buf_reset(&scratch->tmp);
	if (brm_rpc_duplicate_key(root, &scratch->tmp)) {
		struct brm_buf *tmp = &scratch->tmp;
		char *msg = brm_xasprintf("invalid request: %s", tmp->p);
		brm_rpc_error(out, id_json, BRM_E_INVALID_REQUEST, msg, NULL);
		free(msg);
		goto out;
	}
	version = cJSON_GetObjectItemCaseSensitive(root, "jsonrpc");
	if (!cJSON_IsString(version) || strcmp(version->valuestring, "2.0") != 0) {
		brm_rpc_error(out, id_json, BRM_E_INVALID_REQUEST,
			      "invalid request: \"jsonrpc\" must be \"2.0\"", NULL);
		goto out;
	}
	method = cJSON_GetObjectItemCaseSensitive(root, "method");
	if (!cJSON_IsString(method)) {
		brm_rpc_error(out, id_json, BRM_E_INVALID_REQUEST,
			      "invalid request: \"method\" must be a string", NULL);
		goto out;
	}
	params = cJSON_GetObjectItemCaseSensitive(root, "params");
	if (params && cJSON_IsNull(params))
		params = NULL;
	m = brm_method_find(method->valuestring);
	if (m && !brm_access_allows(peer, m->access != BRM_METHOD_READ)) {
		log_denied(m->name, peer);
		brm_rpc_error(notify ? &discard : out, id_json, BRM_E_NOT_PERMITTED,
			      m->access == BRM_METHOD_MUTATING ?
			      "not permitted: your uid may not change processes" :
			      m->access == BRM_METHOD_ADMIN ?
			      "not permitted: your uid may not administer brummd" :
			      "not permitted: your uid may not query brummd", NULL);
		goto out;
	}
	if (!m) {
		struct brm_buf *tmp = &scratch->tmp;
		brm_buf_reset(tmp);
		brm_buf_adds(tmp, "method not found: ");
		brm_json_str(tmp, method->valuestring);
		brm_rpc_error(notify ? &discard : out, id_json, BRM_E_NO_METHOD, tmp->p, NULL);
		goto out;
	}
	if (params && !cJSON_IsObject(params)) {
		brm_rpc_error(notify ? &discard : out, id_json, BRM_E_INVALID_PARAMS,
			      "params: expected an object", NULL);
		goto out;
	}

	req.ctx = ctx;
	req.params = params;
	req.id_json = id_json ? id_json : "null";
	req.out = notify ? &discard : out;
	req.scratch = scratch;
	req.stream = stream;
	req.events = evsub;
	if (brm_method_call(m, &req, &cmd) == BRM_QUEUED) {
		/* A notification is executed, but its reply is dropped. */
		cmd->no_reply = notify;
		*cmdp = cmd;
		queued = true;
	}
out:
	brm_buf_finish(&discard);
	free(id_json);
	cJSON_Delete(root);
	return queued;
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

static void line_too_long(struct conn *c, size_t max)
{
	char msg[96];

	snprintf(msg, sizeof(msg), "request line longer than %zu bytes (max_message_bytes); closing",
		 max);
	brm_rpc_error(&c->out, NULL, BRM_E_LIMIT, msg, NULL);
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
				line_too_long(c, max);
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
			line_too_long(c, max);
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
static bool conn_service(struct conn *c)
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
static void conn_on_readable(struct conn *c)
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

static void drain_returns(struct worker *w)
{
	struct cds_wfcq_node *node;

	while ((node = cds_wfcq_dequeue_blocking(&w->rhead, &w->rtail))) {
		struct brm_cmd *cmd = caa_container_of(node, struct brm_cmd, ret_node);
		struct conn *c;

		BRM_HANDOFF_ACQUIRE(cmd);
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

/* ---- the worker thread -------------------------------------------------- */

/* One client too many: tell it why (best effort, never blocks), close. */
static void refuse_client(struct worker *w, int fd, const char *msg)
{
	struct brm_buf b = BRM_BUF_INIT;

	brm_rpc_error(&b, NULL, BRM_E_LIMIT, msg, NULL);
	if (send(fd, b.p, b.len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
		/* it will see the close */
	}
	brm_buf_finish(&b);
	close(fd);
	__atomic_fetch_sub(&w->srv->nclients, 1, __ATOMIC_RELAXED);
}

/*
 * Close connections with nothing in flight (no command with the loop, no
 * output queued, no partial request) idle for longer than the timeout.
 */
static void close_idle(struct worker *w, uint64_t now)
{
	uint64_t limit = (uint64_t)(w->srv->limits.idle_timeout_secs * 1e9);
	struct conn *c, *next;

	w->last_idle_scan_ns = now;
	for (c = w->conns; c; c = next) {
		next = c->next;
		if (c->pending || c->out.len || c->close_after_flush || c->stream || c->evsub ||
		    now - c->last_active_ns < limit)
			continue;
		brm_rpc_error(&c->out, NULL, BRM_E_LIMIT,
			      "idle for too long (idle_timeout_secs); closing", NULL);
		c->close_after_flush = true;
		if (conn_flush(c))
			conn_update_events(c);
	}
}

/*
 * The reserve descriptor can be lost: another thread may take the slot
 * shed_clients() freed before it reopens /dev/null. Take it back as soon
 * as descriptors are free again (worker_timeout_ms() wakes us to try).
 */
static void ensure_reserve(struct worker *w)
{
	if (w->reserve_fd < 0)
		w->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

/* How often idle connections are looked for; -1: no need. */
static int idle_scan_ms(struct worker *w)
{
	if (!w->conns || !(w->srv->limits.idle_timeout_secs > 0))
		return -1;
	return w->srv->limits.idle_timeout_secs < 1 ? 100 : 1000;
}

/* epoll_wait timeout: wake for the idle scan, and every second while the
 * reserve descriptor is to be taken back. */
static int worker_timeout_ms(struct worker *w)
{
	int t = idle_scan_ms(w);

	if (w->reserve_fd < 0 && (t < 0 || t > 1000))
		t = 1000;
	return t;
}

/*
 * accept() failed with EMFILE or ENFILE. The client stays queued, and the
 * level-triggered listening socket would wake this worker again at once,
 * forever. So, like libuv's loop->emfile_fd: give up the reserve
 * descriptor, accept the client, tell it why and close it, take the reserve
 * back; until the queue is empty. Returns false when even that failed (the
 * other workers took the descriptor): the caller backs off a little.
 */
static bool shed_clients(struct worker *w, int err)
{
	uint64_t now = brm_now_mono_ns();
	char msg[128];
	int fd, aerr;

	snprintf(msg, sizeof(msg), "brummd is out of file descriptors (%s); try again later",
		 strerror(err));
	for (;;) {
		if (w->reserve_fd < 0)
			return false;
		close(w->reserve_fd);
		w->reserve_fd = -1;
		fd = accept4(w->srv->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		aerr = errno;
		if (fd >= 0) {
			__atomic_add_fetch(&w->srv->nclients, 1, __ATOMIC_RELAXED);
			refuse_client(w, fd, msg);
			w->emfile_refused++;
		}
		ensure_reserve(w);
		if (fd < 0)
			break;
	}
	/* at most one warning per worker every 10 s, with the count since */
	if (w->emfile_refused && now - w->emfile_logged_ns >= 10ull * 1000000000) {
		brm_log_warn("out of file descriptors (%s): refused %lu client(s); the limit is"
			     " RLIMIT_NOFILE (ulimit -n, LimitNOFILE=)", strerror(err),
			     w->emfile_refused);
		w->emfile_logged_ns = now;
		w->emfile_refused = 0;
	}
	return aerr == EAGAIN || aerr == EWOULDBLOCK;
}

/* ---- connections per uid ------------------------------------------------ */

#define UID_LOG_EVERY_NS (10ull * 1000000000)

/*
 * Caller holds uid_lock. Forget slot @i once it holds no connection and
 * its last warning is 10 s old (so that a uid that comes back at once is
 * still rate-limited); what it refused since is told now.
 */
static bool uid_forget_if_idle(struct brm_server *srv, size_t i, uint64_t now)
{
	struct uid_slot *u = &srv->uids[i];

	if (u->count || (u->logged_ns && now - u->logged_ns < UID_LOG_EVERY_NS))
		return false;
	if (u->refused)
		brm_log_warn("refused %lu more connection(s) from uid %u (max_clients_per_uid %d)",
			     u->refused, (unsigned)u->uid, srv->limits.max_clients_per_uid);
	*u = srv->uids[--srv->nuids];
	return true;
}

/*
 * Caller holds uid_lock. The table holds the uids with connections open
 * and those warned about in the last 10 s: small, so a linear search.
 * Adding a uid first forgets the idle ones.
 */
static struct uid_slot *uid_find(struct brm_server *srv, uid_t uid, bool add)
{
	uint64_t now;

	for (size_t i = 0; i < srv->nuids; i++)
		if (srv->uids[i].uid == uid)
			return &srv->uids[i];
	if (!add)
		return NULL;
	now = brm_now_mono_ns();
	for (size_t i = 0; i < srv->nuids; )
		if (!uid_forget_if_idle(srv, i, now))
			i++;
	if (srv->nuids == srv->uids_cap) {
		srv->uids_cap = srv->uids_cap ? 2 * srv->uids_cap : 16;
		srv->uids = brm_xrealloc(srv->uids, srv->uids_cap * sizeof(*srv->uids));
	}
	srv->uids[srv->nuids] = (struct uid_slot){ .uid = uid };
	return &srv->uids[srv->nuids++];
}

static void uid_release(struct brm_server *srv, uid_t uid)
{
	struct uid_slot *u;

	pthread_mutex_lock(&srv->uid_lock);
	u = uid_find(srv, uid, false);
	if (u) {
		u->count--;
		uid_forget_if_idle(srv, (size_t)(u - srv->uids), brm_now_mono_ns());
	}
	pthread_mutex_unlock(&srv->uid_lock);
}

/*
 * May @peer take one more connection? Root and brummd's own uid may use
 * every one of max_clients; other uids together leave the reserved slots
 * (brm_limits_reserved_clients) free, and each holds at most
 * max_clients_per_uid. @n is nclients with this one counted (at once
 * after accept, so that clients are counted in the order they came). Counts
 * it per uid (*@counted) when it may; else writes why into @msg. Refusals
 * by the per-uid cap are logged at most once per uid every 10 s, with
 * their count.
 */
static bool admit(struct brm_server *srv, const struct brm_peer *peer, int n, bool *counted,
		  char *msg, size_t size)
{
	const struct brm_limits *l = &srv->limits;
	bool privileged = peer->uid == 0 || peer->uid == srv->self_uid;
	int max = privileged ? l->max_clients : l->max_clients - brm_limits_reserved_clients(l);
	struct uid_slot *u;
	bool ok = true;

	*counted = false;
	if (n > max) {
		if (privileged)
			snprintf(msg, size, "too many clients (max_clients %d); try again later",
				 l->max_clients);
		else
			snprintf(msg, size, "too many clients (max_clients %d, of which %d are kept"
				 " for root); try again later", l->max_clients,
				 brm_limits_reserved_clients(l));
		return false;
	}
	if (privileged)
		return true;
	pthread_mutex_lock(&srv->uid_lock);
	u = uid_find(srv, peer->uid, true);
	if (u->count < l->max_clients_per_uid) {
		u->count++;
		*counted = true;
	} else {
		uint64_t now = brm_now_mono_ns();

		ok = false;
		u->refused++;
		if (!u->logged_ns || now - u->logged_ns >= UID_LOG_EVERY_NS) {
			brm_log_warn("refused %lu connection(s) from uid %u: it holds %d"
				     " (max_clients_per_uid %d)", u->refused, (unsigned)peer->uid,
				     u->count, l->max_clients_per_uid);
			u->logged_ns = now;
			u->refused = 0;
		}
		snprintf(msg, size, "too many connections from uid %u (max_clients_per_uid %d)",
			 (unsigned)peer->uid, l->max_clients_per_uid);
	}
	pthread_mutex_unlock(&srv->uid_lock);
	return ok;
}

/* ---- accepting ------------------------------------------------------------ */

static void accept_all(struct worker *w)
{
	for (;;) {
		int fd = accept4(w->srv->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct epoll_event e;
		struct brm_peer peer;
		bool counted;
		char msg[160];
		int n;
		struct conn *c;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if ((errno == EMFILE || errno == ENFILE) && !shed_clients(w, errno)) {
				/* not even the reserve: let the others free some */
				struct timespec ts = { 0, 10 * 1000000 };

				nanosleep(&ts, NULL);
			}
			return;
		}
		n = __atomic_add_fetch(&w->srv->nclients, 1, __ATOMIC_RELAXED);
		if (brm_access_peer(w->srv->ctx.access, fd, &peer) < 0)
			brm_log_warn("cannot read a client's credentials: %s; it may not call"
				     " anything", strerror(errno));
		if (!admit(w->srv, &peer, n, &counted, msg, sizeof(msg))) {
			refuse_client(w, fd, msg);
			continue;
		}
		c = brm_xcalloc(1, sizeof(*c));
		c->fd = fd;
		c->w = w;
		c->last_active_ns = brm_now_mono_ns();
		c->peer = peer;
		c->uid_counted = counted;
		brm_buf_init(&c->in);
		brm_buf_init(&c->out);
		c->events = EPOLLIN | EPOLLRDHUP;
		e.events = c->events;
		e.data.ptr = c;
		if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &e) < 0) {
			brm_log_warn("cannot watch a client: %s", strerror(errno));
			close(fd);
			if (counted)
				uid_release(w->srv, peer.uid);
			free(c);
			__atomic_fetch_sub(&w->srv->nclients, 1, __ATOMIC_RELAXED);
			continue;
		}
		c->next = w->conns;
		if (w->conns)
			w->conns->prev = c;
		w->conns = c;
	}
}

/* Give every following connection what is new, as far as it reads. */
static void pump_streams(struct worker *w)
{
	struct conn *c, *next;

	for (c = w->conns; c; c = next) {
		next = c->next;
		if ((!c->stream && !c->evsub) || c->dead || c->out.len >= BRM_STREAM_OUT_MAX)
			continue;
		if (c->stream)
			brm_stream_pump(c->stream, w->srv->ctx.reg, &c->out, &w->scratch.line);
		if (c->evsub)
			brm_sub_pump(c->evsub, &c->out, &w->scratch.line);
		conn_service(c);
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct epoll_event evs[64];

	rcu_register_thread();
	brm_stream_worker_init(w->evfd);
	while (!__atomic_load_n(&w->srv->stopping, __ATOMIC_ACQUIRE)) {
		int n;

		ensure_reserve(w);
		n = epoll_wait(w->epfd, evs, 64, worker_timeout_ms(w));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			brm_log_error("worker: epoll_wait: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			void *tag = evs[i].data.ptr;

			if (tag == &tag_listen) {
				accept_all(w);
			} else if (tag == &tag_event) {
				uint64_t v;
				if (read(w->evfd, &v, sizeof(v)) < 0) {
					/* EAGAIN: already drained */
				}
				brm_stream_worker_woken();
				drain_returns(w);
			} else {
				struct conn *c = tag;
				uint32_t ev = evs[i].events;

				if (c->dead)
					continue;
				if ((ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) &&
				    !c->rd_eof && !c->pending)
					conn_on_readable(c);
				else if (ev & EPOLLOUT)
					conn_service(c);   /* it read: answer what waits */
				/* Gone both ways: nothing can be sent to it any more. */
				if ((ev & (EPOLLHUP | EPOLLERR)) && !c->dead)
					conn_close(c);
			}
		}
		if (brm_stream_worker_busy())
			pump_streams(w);
		if (w->conns && w->srv->limits.idle_timeout_secs > 0) {
			uint64_t now = brm_now_mono_ns();
			if (now - w->last_idle_scan_ns >= (uint64_t)idle_scan_ms(w) * 1000000u)
				close_idle(w, now);
		}
		bury_dead(w);
	}
	/* Deliver what came back, then close everything. */
	drain_returns(w);
	while (w->conns) {
		struct conn *c = w->conns;
		conn_flush(c);
		if (w->conns == c) {
			c->pending = 0;   /* their commands are freed by the loop thread */
			conn_close(c);
		}
	}
	bury_dead(w);
	rcu_unregister_thread();
	return NULL;
}

/* ---- the listening socket ----------------------------------------------- */

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
static char *absolute_path(const char *path)
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

static int bind_socket(const char *path, mode_t mode, gid_t gid, char **err)
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

int brm_server_create(const char *path, int nworkers, const struct brm_ctx *ctx,
		      struct brm_server **out, char **err)
{
	gid_t gid = ctx->socket_gid ? ctx->socket_gid : (gid_t)-1;
	int fd = bind_socket(path, ctx->socket_mode ? (mode_t)ctx->socket_mode : 0600, gid, err);
	int r;

	if (fd < 0)
		return fd;
	r = brm_server_adopt(fd, nworkers, ctx, out, err);
	if (r == 0)
		(*out)->path = absolute_path(path);
	return r;
}

int brm_server_adopt(int fd, int nworkers, const struct brm_ctx *ctx,
		     struct brm_server **out, char **err)
{
	struct brm_server *srv;

	srv = brm_xcalloc(1, sizeof(*srv));
	srv->listen_fd = fd;
	srv->nworkers = nworkers > 0 ? nworkers : 1;
	srv->self_uid = geteuid();
	pthread_mutex_init(&srv->uid_lock, NULL);
	srv->ctx = *ctx;
	srv->limits = ctx->limits ? *ctx->limits : default_limits;
	srv->ctx.limits = &srv->limits;
	srv->workers = brm_xcalloc((size_t)srv->nworkers, sizeof(*srv->workers));
	/* brm_server_stop() on a half-made server closes only what exists */
	for (int i = 0; i < srv->nworkers; i++)
		srv->workers[i].epfd = srv->workers[i].evfd = srv->workers[i].reserve_fd = -1;
	for (int i = 0; i < srv->nworkers; i++) {
		struct worker *w = &srv->workers[i];
		struct epoll_event e;

		w->srv = srv;
		cds_wfcq_init(&w->rhead, &w->rtail);
		brm_scratch_init(&w->scratch);
		w->epfd = epoll_create1(EPOLL_CLOEXEC);
		w->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		w->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (w->epfd < 0 || w->evfd < 0 || w->reserve_fd < 0) {
			*err = brm_xasprintf("cannot create worker %d: %s", i, strerror(errno));
			brm_server_stop(srv);
			return -EMFILE;
		}
		e.events = EPOLLIN | EPOLLEXCLUSIVE;
		e.data.ptr = &tag_listen;
		epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &e);
		e.events = EPOLLIN;
		e.data.ptr = &tag_event;
		epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->evfd, &e);
	}
	*out = srv;
	return 0;
}

int brm_server_start(struct brm_server *srv)
{
	pthread_attr_t attr;
	sigset_t all, old;
	int r = 0;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, WORKER_STACK);
	/* Workers take no signals: those belong to the loop thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (int i = 0; i < srv->nworkers; i++) {
		r = -pthread_create(&srv->workers[i].thread, &attr, worker_main, &srv->workers[i]);
		if (r < 0)
			break;
		srv->workers[i].started = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	return r;
}

void brm_server_stop(struct brm_server *srv)
{
	uint64_t one = 1;

	if (!srv)
		return;
	__atomic_store_n(&srv->stopping, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < srv->nworkers; i++) {
		struct worker *w = &srv->workers[i];
		if (w->evfd >= 0 && write(w->evfd, &one, sizeof(one)) < 0) {
			/* saturated: awake anyway */
		}
	}
	for (int i = 0; i < srv->nworkers; i++) {
		struct worker *w = &srv->workers[i];
		if (w->started)
			pthread_join(w->thread, NULL);
		if (w->epfd >= 0)
			close(w->epfd);
		if (w->evfd >= 0)
			close(w->evfd);
		if (w->reserve_fd >= 0)
			close(w->reserve_fd);
		brm_scratch_finish(&w->scratch);
	}
	close(srv->listen_fd);
	if (srv->path)
		unlink(srv->path);
	pthread_mutex_destroy(&srv->uid_lock);
	free(srv->uids);
	free(srv->workers);
	free(srv->path);
	free(srv);
}
