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
 * Output that the client does not read stops the reading of its requests
 * once more than OUT_HIGH bytes are queued.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
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

#include "daemon/events.h"
#include "daemon/log.h"
#include "daemon/methods.h"
#include "daemon/server.h"
#include "daemon/stream.h"
#include "lib/registry.h"
#include "proto/proto.h"
#include "proto/rpc.h"

#define READ_CHUNK 65536
#define OUT_HIGH (4u << 20)        /* stop reading requests past this backlog */
#define WORKER_STACK (512u << 10)  /* cJSON recursion needs >= 256 KiB */

struct worker;

struct conn {
	int fd;
	struct worker *w;
	struct brm_buf in;
	size_t scanned;          /* in.p[0..scanned) has no newline */
	struct brm_buf out;
	int pending;             /* commands with the loop thread (0 or 1) */
	bool rd_eof;             /* the client half-closed */
	bool close_after_flush;  /* a fatal protocol error was answered */
	bool dead;               /* fd closed; freed when pending drops to 0 */
	uint32_t events;         /* current epoll interest */
	void *stream;            /* log follower (stream.c), or NULL */
	void *evsub;             /* event subscriber (events.c), or NULL */
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
	bool started;
};

struct brm_server {
	char *path;
	int listen_fd;
	int nworkers;
	struct worker *workers;
	struct brm_ctx ctx;
	volatile int stopping;
};

/* epoll tags for the two non-connection descriptors. */
static char tag_listen, tag_event;

/* ---- connections -------------------------------------------------------- */

static void conn_update_events(struct conn *c)
{
	uint32_t ev = 0;
	struct epoll_event e;

	if (c->dead)
		return;
	if (!c->pending && !c->rd_eof && !c->close_after_flush && c->out.len < OUT_HIGH)
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

static void conn_close(struct conn *c)
{
	struct worker *w = c->w;

	if (c->dead)
		return;
	epoll_ctl(w->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->dead = true;
	brm_stream_destroy(c->stream);
	c->stream = NULL;
	brm_events_sub_destroy(c->evsub);
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

/* Write what we can. Returns false when the connection was closed. */
static bool conn_flush(struct conn *c)
{
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

/* Deeper than BRM_MAX_JSON_DEPTH? Checked before cJSON recurses. */
static bool too_deep(const char *s, size_t n)
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
			if (++depth > BRM_MAX_JSON_DEPTH)
				return true;
		} else if (ch == '}' || ch == ']') {
			depth--;
		}
	}
	return false;
}

static void on_cmd_done(struct brm_cmd *cmd);

/*
 * Handle one request line (without its newline). Returns true when a
 * command went to the loop thread (stop reading further lines until it
 * comes back).
 */
static bool handle_line(struct conn *c, char *line, size_t len)
{
	struct worker *w = c->w;
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
		brm_rpc_error(&c->out, NULL, BRM_E_PARSE, "parse error: NUL byte in request", NULL);
		return false;
	}
	if (too_deep(line, len)) {
		brm_rpc_error(&c->out, NULL, BRM_E_LIMIT,
			      "request nested deeper than 32 levels", NULL);
		return false;
	}
	line[len] = '\0';
	root = cJSON_ParseWithLengthOpts(line, len + 1, &end, 1);
	if (!root) {
		size_t off = end && end >= line ? (size_t)(end - line) : 0;
		char msg[96];
		snprintf(msg, sizeof(msg), "parse error: not valid JSON at byte %zu", off + 1);
		brm_rpc_error(&c->out, NULL, BRM_E_PARSE, msg, NULL);
		return false;
	}
	if (cJSON_IsArray(root)) {
		brm_rpc_error(&c->out, NULL, BRM_E_INVALID_REQUEST,
			      "invalid request: batch requests are not supported", NULL);
		goto out;
	}
	if (!cJSON_IsObject(root)) {
		brm_rpc_error(&c->out, NULL, BRM_E_INVALID_REQUEST,
			      "invalid request: expected a JSON-RPC 2.0 request object", NULL);
		goto out;
	}
	id = cJSON_GetObjectItemCaseSensitive(root, "id");
	notify = id == NULL;
	if (id && !cJSON_IsNumber(id) && !cJSON_IsString(id) && !cJSON_IsNull(id)) {
		brm_rpc_error(&c->out, NULL, BRM_E_INVALID_REQUEST,
			      "invalid request: \"id\" must be a number, a string or null", NULL);
		goto out;
	}
	id_json = id ? cJSON_PrintUnformatted(id) : NULL;
	if (id && !id_json)
		brm_oom(len);
	version = cJSON_GetObjectItemCaseSensitive(root, "jsonrpc");
	if (!cJSON_IsString(version) || strcmp(version->valuestring, "2.0") != 0) {
		brm_rpc_error(&c->out, id_json, BRM_E_INVALID_REQUEST,
			      "invalid request: \"jsonrpc\" must be \"2.0\"", NULL);
		goto out;
	}
	method = cJSON_GetObjectItemCaseSensitive(root, "method");
	if (!cJSON_IsString(method)) {
		brm_rpc_error(&c->out, id_json, BRM_E_INVALID_REQUEST,
			      "invalid request: \"method\" must be a string", NULL);
		goto out;
	}
	params = cJSON_GetObjectItemCaseSensitive(root, "params");
	if (params && cJSON_IsNull(params))
		params = NULL;
	m = brm_method_find(method->valuestring);
	if (!m) {
		struct brm_buf *tmp = &w->scratch.tmp;
		brm_buf_reset(tmp);
		brm_buf_adds(tmp, "method not found: ");
		brm_json_str(tmp, method->valuestring);
		brm_rpc_error(notify ? &discard : &c->out, id_json, BRM_E_NO_METHOD, tmp->p, NULL);
		goto out;
	}
	if (params && !cJSON_IsObject(params)) {
		brm_rpc_error(notify ? &discard : &c->out, id_json, BRM_E_INVALID_PARAMS,
			      "params: expected an object", NULL);
		goto out;
	}

	req.ctx = &w->srv->ctx;
	req.params = params;
	req.id_json = id_json ? id_json : "null";
	req.out = notify ? &discard : &c->out;
	req.scratch = &w->scratch;
	req.stream = &c->stream;
	req.events = &c->evsub;
	if (m->handler(&req, &cmd) == BRM_QUEUED) {
		/* A notification is executed, but its reply is dropped. */
		cmd->no_reply = notify;
		cmd->owner = c;
		cmd->done = on_cmd_done;
		c->pending++;
		brm_cmdq_submit(w->srv->ctx.cmdq, cmd);
		queued = true;
	}
out:
	brm_buf_finish(&discard);
	free(id_json);
	cJSON_Delete(root);
	return queued;
}

/* Answer complete lines in the input buffer until one goes to the loop. */
static void conn_process(struct conn *c)
{
	while (!c->pending && !c->close_after_flush && c->in.len) {
		char *nl = memchr(c->in.p + c->scanned, '\n', c->in.len - c->scanned);
		size_t len;

		if (!nl) {
			c->scanned = c->in.len;
			if (c->in.len >= BRM_MAX_MESSAGE_BYTES) {
				brm_rpc_error(&c->out, NULL, BRM_E_LIMIT,
					      "request line longer than 1048576 bytes; closing", NULL);
				c->close_after_flush = true;
				brm_buf_reset(&c->in);
				return;
			}
			if (!c->rd_eof)
				return;
			/* The last line of a half-closed client needs no newline. */
			nl = c->in.p + c->in.len;
			brm_buf_grow(&c->in, 1);
			nl = c->in.p + c->in.len;
		}
		len = (size_t)(nl - c->in.p);
		if (len >= BRM_MAX_MESSAGE_BYTES) {
			brm_rpc_error(&c->out, NULL, BRM_E_LIMIT,
				      "request line longer than 1048576 bytes; closing", NULL);
			c->close_after_flush = true;
			brm_buf_reset(&c->in);
			return;
		}
		handle_line(c, c->in.p, len);
		brm_buf_consume(&c->in, len < c->in.len ? len + 1 : len);
		c->scanned = 0;
	}
}

static void conn_on_readable(struct conn *c)
{
	for (int rounds = 0; rounds < 4 && !c->rd_eof; rounds++) {
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
		if (c->in.len - c->scanned > BRM_MAX_MESSAGE_BYTES && !memchr(c->in.p + c->scanned, '\n', c->in.len - c->scanned))
			break;
	}
	conn_process(c);
	if (conn_flush(c))
		conn_update_events(c);
}

/* ---- commands coming back from the loop thread --------------------------- */

/* Context: loop thread. Hands @cmd back to the worker that owns it. */
static void on_cmd_done(struct brm_cmd *cmd)
{
	struct conn *c = cmd->owner;
	struct worker *w = c->w;
	uint64_t one = 1;

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
		struct conn *c = cmd->owner;

		c->pending--;
		if (c->dead) {
			if (!c->pending) {
				c->next = w->graveyard;
				w->graveyard = c;
			}
		} else {
			if (!cmd->no_reply)
				brm_buf_add(&c->out, cmd->reply.p, cmd->reply.len);
			conn_process(c);
			if (conn_flush(c))
				conn_update_events(c);
		}
		brm_cmd_destroy(cmd);
	}
}

/* ---- the worker thread -------------------------------------------------- */

static void accept_all(struct worker *w)
{
	for (;;) {
		int fd = accept4(w->srv->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct epoll_event e;
		struct conn *c;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE)
				brm_log_warn("cannot accept a client: %s", strerror(errno));
			return;
		}
		c = brm_xcalloc(1, sizeof(*c));
		c->fd = fd;
		c->w = w;
		brm_buf_init(&c->in);
		brm_buf_init(&c->out);
		c->events = EPOLLIN | EPOLLRDHUP;
		e.events = c->events;
		e.data.ptr = c;
		if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &e) < 0) {
			brm_log_warn("cannot watch a client: %s", strerror(errno));
			close(fd);
			free(c);
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
			brm_events_pump(c->evsub, &c->out, &w->scratch.line);
		if (conn_flush(c))
			conn_update_events(c);
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct epoll_event evs[64];

	rcu_register_thread();
	brm_stream_worker_init(w->evfd);
	while (!w->srv->stopping) {
		int n = epoll_wait(w->epfd, evs, 64, -1);

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
				else if (ev & EPOLLOUT) {
					if (conn_flush(c))
						conn_update_events(c);
				}
				/* Gone both ways: nothing can be sent to it any more. */
				if ((ev & (EPOLLHUP | EPOLLERR)) && !c->dead)
					conn_close(c);
			}
		}
		if (brm_stream_worker_busy())
			pump_streams(w);
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

static int mkdir_parents(const char *path, char **err)
{
	char *dir = brm_xstrdup(path);
	char *slash = strrchr(dir, '/');
	int r = 0;

	if (!slash || slash == dir) {
		free(dir);
		return 0;
	}
	*slash = '\0';
	for (char *p = dir + 1; ; p++) {
		char saved = *p;
		if (*p != '/' && *p != '\0')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
			r = -errno;
			*err = brm_xasprintf("cannot create directory '%s': %s", dir, strerror(errno));
			break;
		}
		*p = saved;
		if (!saved)
			break;
	}
	free(dir);
	return r;
}

static int bind_socket(const char *path, char **err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	mode_t old;
	int fd, r;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		*err = brm_xasprintf("socket path '%s' is longer than %zu bytes", path,
				     sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	r = mkdir_parents(path, err);
	if (r < 0)
		return r;
	if (lstat(path, &st) == 0) {
		int probe;
		if (!S_ISSOCK(st.st_mode)) {
			*err = brm_xasprintf("'%s' exists and is not a socket; refusing to replace it",
					     path);
			return -EEXIST;
		}
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(probe);
			*err = brm_xasprintf("another brummd is already listening on '%s'", path);
			return -EADDRINUSE;
		}
		if (probe >= 0)
			close(probe);
		/* A stale socket nobody listens on. */
		unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		r = -errno;
		*err = brm_xasprintf("cannot create socket: %s", strerror(errno));
		return r;
	}
	old = umask(0177);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0 || listen(fd, 512) < 0) {
		r = -errno;
		*err = brm_xasprintf("cannot listen on '%s': %s", path, strerror(errno));
		close(fd);
		return r;
	}
	return fd;
}

int brm_server_create(const char *path, int nworkers, const struct brm_ctx *ctx,
		      struct brm_server **out, char **err)
{
	int fd = bind_socket(path, err);
	int r;

	if (fd < 0)
		return fd;
	r = brm_server_adopt(fd, nworkers, ctx, out, err);
	if (r == 0)
		(*out)->path = brm_xstrdup(path);
	return r;
}

int brm_server_adopt(int fd, int nworkers, const struct brm_ctx *ctx,
		     struct brm_server **out, char **err)
{
	struct brm_server *srv;

	srv = brm_xcalloc(1, sizeof(*srv));
	srv->listen_fd = fd;
	srv->nworkers = nworkers > 0 ? nworkers : 1;
	srv->ctx = *ctx;
	srv->workers = brm_xcalloc((size_t)srv->nworkers, sizeof(*srv->workers));
	for (int i = 0; i < srv->nworkers; i++) {
		struct worker *w = &srv->workers[i];
		struct epoll_event e;

		w->srv = srv;
		cds_wfcq_init(&w->rhead, &w->rtail);
		brm_scratch_init(&w->scratch);
		w->epfd = epoll_create1(EPOLL_CLOEXEC);
		w->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (w->epfd < 0 || w->evfd < 0) {
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
	srv->stopping = 1;
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
		brm_scratch_finish(&w->scratch);
	}
	close(srv->listen_fd);
	if (srv->path)
		unlink(srv->path);
	free(srv->workers);
	free(srv->path);
	free(srv);
}
