/*
 * server.c — the server as brummd's main thread sees it: create (or adopt)
 * the listening socket and the workers, start them, stop them. The parts:
 * listen.c (the socket), worker.c (the threads and accepting), admit.c
 * (connections per uid), conn.c (a connection and its framing) and
 * dispatch.c (one request).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "daemon/rpc/follow.h"
#include "daemon/rpc/listen.h"
#include "daemon/rpc/server.h"
#include "daemon/rpc/server_types.h"
#include "daemon/rpc/worker.h"

#define WORKER_STACK (512u << 10)  /* cJSON recursion needs >= 256 KiB */

static const struct brm_limits default_limits = BRM_LIMITS_DEFAULT;

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

const struct brm_ctx *brm_server_ctx(const struct brm_server *srv)
{
	return &srv->ctx;
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
	srv->ctx.nclients = &srv->nclients;
	srv->workers = brm_xcalloc((size_t)srv->nworkers, sizeof(*srv->workers));
	brm_stream_workers(srv->nworkers);
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
	brm_stream_workers_done();
	close(srv->listen_fd);
	if (srv->path)
		unlink(srv->path);
	pthread_mutex_destroy(&srv->uid_lock);
	free(srv->uids);
	free(srv->workers);
	free(srv->path);
	free(srv);
}
