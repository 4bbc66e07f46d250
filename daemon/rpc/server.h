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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct brm_peer;
struct brm_scratch;
struct brm_buf;
struct brm_cmd;

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
 * Parse and dispatch one request line (@len bytes at @line, no newline;
 * line[len] must be writable) from @peer: checks framing limits, JSON, the
 * JSON-RPC envelope and permissions, then calls the method's handler. A reply
 * (or nothing, for a notification) is appended to @out. Returns true with
 * *@cmd set when the method must go to the loop thread: the caller routes
 * it (cmd->no_reply is already set for notifications). @stream is the
 * connection's log-follow slot (rpc/follow.c) and @evsub its event subscription
 * (events.c), or NULL where there are none.
 * Pure apart from @scratch and reading the registry: the fuzz target's
 * entry point. Context: a registered RCU reader thread.
 */
bool brm_server_dispatch(const struct brm_ctx *ctx, struct brm_scratch *scratch,
			 const struct brm_peer *peer, char *line, size_t len,
			 struct brm_buf *out, void **stream, void **evsub,
			 struct brm_cmd **cmd);

/* Start the worker threads. Returns 0 or -errno. Context: loop thread. */
int brm_server_start(struct brm_server *srv);

/*
 * Stop the workers (each first delivers the replies already handed back to
 * it), close every connection, join the threads, remove the socket file and
 * free the server. stop(NULL) does nothing. Context: loop thread.
 */
void brm_server_stop(struct brm_server *srv);

#endif
