/*
 * conn.h — a client connection on its worker (conn.c): what the worker's
 * event loop calls on it. The struct is in server_types.h.
 * Context: the worker that owns the connection.
 */
#ifndef BRM_CONN_H
#define BRM_CONN_H

#include <stdbool.h>

struct conn;
struct worker;

/* Set the epoll interest from the connection's state. */
void conn_update_events(struct conn *c);
/* Close the socket and unlink the connection; it is freed by bury_dead()
 * after the current batch, or once its command came back. */
void conn_close(struct conn *c);
/* Free the connections closed during the current batch. */
void bury_dead(struct worker *w);
/* Write what we can. Returns false when the connection was closed. */
bool conn_flush(struct conn *c);
/*
 * Answer what the input buffer holds and send what the socket takes, for
 * as long as the client keeps reading; then set the epoll interest.
 * Returns false when the connection was closed.
 */
bool conn_service(struct conn *c);
/* Read a chunk at a time, answering it before the next is read. */
void conn_on_readable(struct conn *c);
/* Deliver the commands the loop thread handed back to @w's connections. */
void drain_returns(struct worker *w);

#endif
