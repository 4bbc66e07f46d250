/*
 * server.h — the Unix-socket side of brummd: the listening socket, the
 * worker threads that own client connections, and the line framing of the
 * protocol. Requests are dispatched through the method table (methods.h).
 *
 * Threads: brm_server_create/start/stop are for the loop thread (main);
 * everything else in server.c runs on the workers. Each worker is an RCU
 * reader thread with its own epoll set; every worker waits on the shared
 * listening socket (EPOLLEXCLUSIVE) and keeps the connections it accepted.
 */
#ifndef BRM_SERVER_H
#define BRM_SERVER_H

#include <stdint.h>
#include <sys/types.h>

struct brm_registry;
struct brm_cmdq;

/* What request handlers may use; read-only after brm_server_start(). */
struct brm_ctx {
	struct brm_registry *reg;
	struct brm_cmdq *cmdq;
	pid_t pid;
	uint64_t start_mono_ns;
};

struct brm_server;

/*
 * Create the socket at @path and listen: creates a missing parent
 * directory (0700), replaces a stale socket nobody listens on, and refuses
 * when the path is not a socket or another daemon listens there.
 * Returns 0 and *@out, or -errno with *@err (caller frees).
 * Context: loop thread, before workers start.
 */
int brm_server_create(const char *path, int nworkers, const struct brm_ctx *ctx,
		      struct brm_server **out, char **err);

/*
 * Serve on @fd, a listening, non-blocking AF_UNIX stream socket made by
 * someone else (socket activation); takes ownership of @fd. The socket file
 * is not removed at stop: it belongs to whoever made it.
 * Returns 0 and *@out, or -errno with *@err. Context: as brm_server_create.
 */
int brm_server_adopt(int fd, int nworkers, const struct brm_ctx *ctx,
		     struct brm_server **out, char **err);

/* Start the worker threads. Returns 0 or -errno. Context: loop thread. */
int brm_server_start(struct brm_server *srv);

/*
 * Stop the workers (each first delivers the replies already handed back to
 * it), close every connection, join the threads, remove the socket file and
 * free the server. stop(NULL) does nothing. Context: loop thread.
 */
void brm_server_stop(struct brm_server *srv);

#endif
