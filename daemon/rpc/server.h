/*
 * server.h — the Unix-socket side of brummd: the listening socket, the
 * worker threads that own client connections, and the line framing of the
 * protocol. Requests are dispatched through the method table (methods.h).
 *
 * Threads: brm_server_create/start/stop are for the loop thread (main);
 * the rest of rpc/ (worker.c, conn.c, dispatch.c) runs on the workers. Each worker is an RCU
 * reader thread with its own epoll set; every worker waits on the shared
 * listening socket (EPOLLEXCLUSIVE) and keeps the connections it accepted.
 */
#ifndef BRM_SERVER_H
#define BRM_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct brm_ctx;     /* rpc/request.h */
struct brm_server;

/*
 * Create the socket at @path and listen. Its directory is opened with
 * brm_safedir_open() (lib/safedir.h): created when missing (0700, or 0750
 * and the group's with socket_gid), refused (-EPERM, *@err naming the
 * directory, its owner or mode and why) when a uid other than root and
 * brummd's own could change any step of its path, or when with socket_gid
 * it belongs to another group. Then, relative to that directory: replaces
 * a stale socket nobody listens on, refuses when the name is not a socket
 * or another daemon listens there, binds (mode 0600 from the first
 * instant), and sets group and mode without path lookups.
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

/*
 * The context the workers answer with (its limits and client count are the
 * server's): for another reader of the registry, the HTTP metrics thread.
 * Valid until brm_server_stop(). Context: any thread.
 */
const struct brm_ctx *brm_server_ctx(const struct brm_server *srv);

/* Start the worker threads. Returns 0 or -errno. Context: loop thread. */
int brm_server_start(struct brm_server *srv);

/*
 * Stop the workers (each first delivers the replies already handed back to
 * it), close every connection, join the threads, remove the socket file and
 * free the server. stop(NULL) does nothing. Context: loop thread.
 */
void brm_server_stop(struct brm_server *srv);

#endif
