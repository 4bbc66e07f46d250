/*
 * worker.c — the worker threads: accepting, admitting or refusing clients
 * (shedding them when out of descriptors), and the event loop of each.
 *
 * Why raw epoll and not libuv here: a worker is an RCU reader that owns
 * its connections outright. All N workers wait on the one listening socket
 * with EPOLLEXCLUSIVE (one is woken per new client) and keep what they
 * accept; a connection never moves between threads, so it needs no lock.
 * A worker's epoll set also holds an eventfd through which the loop thread
 * hands back finished commands (a wait-free queue, as in the other
 * direction) and asks the worker to stop.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "daemon/log.h"
#include "daemon/rpc/admit.h"
#include "daemon/rpc/conn.h"
#include "daemon/rpc/follow.h"
#include "daemon/rpc/server_types.h"
#include "daemon/rpc/sub.h"
#include "daemon/rpc/worker.h"
#include "proto/proto.h"
#include "proto/rpc.h"

/* epoll tags for the two non-connection descriptors. */
char tag_listen, tag_event;

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

void *worker_main(void *arg)
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
	/* Deliver what came back and what the followers have not had yet (the
	 * last events before the exit: a stop's "stopped" ones), then close
	 * everything. */
	drain_returns(w);
	pump_streams(w);
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
