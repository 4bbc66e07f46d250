/*
 * server_types.h — the server's insides, shared by the files that make it up
 * and by nobody else: a connection (conn.c), a worker thread (worker.c),
 * the per-uid connection counts (admit.c) and the server that holds them
 * (server.c). Everything here belongs to one worker, except where a field
 * says it is atomic or guarded by a lock.
 */
#ifndef BRM_SERVER_TYPES_H
#define BRM_SERVER_TYPES_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "daemon/conf/access.h"
#include "daemon/conf/limits.h"
#include "daemon/rpc/request.h"
#include "lib/buf.h"
#include "lib/registry.h"

struct worker;
struct brm_stream;   /* rpc/follow.h */
struct brm_sub;      /* rpc/sub.h */

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
	struct brm_stream *stream;   /* log follower (rpc/follow.c), or NULL */
	struct brm_peer peer;    /* SO_PEERCRED at accept */
	uint64_t last_active_ns; /* for the idle timeout */
	struct brm_sub *evsub;       /* subscription (sub.h: events, daemon_log), or NULL */
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

#endif
