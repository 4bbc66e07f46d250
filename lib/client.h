/*
 * client.h — talking to brummd: where its socket is, connecting, and
 * JSON-RPC 2.0 calls over the line protocol of proto/PROTOCOL.md.
 *
 * Shared by brummctl, the tests and the benchmarks; the daemon uses the
 * socket path functions too, so both sides agree on the default.
 *
 * A connection is a blocking Unix stream socket with a read buffer. One
 * request is in flight at a time: brm_client_call() writes a request and
 * reads lines until the reply with its id. Notifications (lines without an
 * id, the streams of later protocol versions) that arrive meanwhile are kept,
 * in order, for brm_client_next().
 *
 * Context: a struct brm_client is used by one thread at a time (it has no
 * lock); different clients are independent, so any number of threads may
 * each use their own. The socket path functions read the environment and
 * are safe from any thread that does not race with setenv().
 */
#ifndef BRM_CLIENT_H
#define BRM_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

struct cJSON;
struct brm_client;

/* The longest line a client accepts from the daemon (a status of many
 * thousand processes fits easily). A longer line is a protocol error. */
#define BRM_CLIENT_MAX_LINE (16u << 20)

/*
 * The default socket path: $XDG_RUNTIME_DIR/brummd/brummd.sock when
 * XDG_RUNTIME_DIR is set and non-empty; else /run/brummd/brummd.sock when
 * running as root (geteuid() == 0); else /tmp/brummd-UID/brummd.sock.
 * Ownership: caller frees with free().
 */
char *brm_socket_default_path(void);

/* Where a resolved socket path came from, for messages. */
enum brm_socket_origin {
	BRM_SOCKET_FROM_OPTION,   /* the --socket option (cli_opt) */
	BRM_SOCKET_FROM_ENV,      /* $BRUMMD_SOCKET */
	BRM_SOCKET_DEFAULT,       /* brm_socket_default_path() */
};

/*
 * The socket a client uses: @cli_opt when non-NULL, else $BRUMMD_SOCKET when
 * set and non-empty, else the default. brm_socket_resolve_origin() also
 * stores where it came from in *@origin (when @origin is non-NULL).
 * Ownership: caller frees the result with free().
 */
char *brm_socket_resolve(const char *cli_opt);
char *brm_socket_resolve_origin(const char *cli_opt, enum brm_socket_origin *origin);

/* "--socket", "$BRUMMD_SOCKET" or "default". Static string. */
const char *brm_socket_origin_name(enum brm_socket_origin origin);

/*
 * An error reply from the daemon: {"code":C,"message":M,"data":D}.
 * Ownership: the struct owns message and data; release them with
 * brm_rpc_err_finish(), which leaves the struct as after init and may be
 * called on an initialised struct that was never filled.
 */
struct brm_rpc_err {
	int code;                 /* proto.h: enum brm_rpc_error, or another code */
	char *message;            /* never NULL once filled */
	struct cJSON *data;       /* NULL when the reply has no "data" */
};

#define BRM_RPC_ERR_INIT { 0, NULL, NULL }

void brm_rpc_err_init(struct brm_rpc_err *e);
void brm_rpc_err_finish(struct brm_rpc_err *e);

/*
 * Connect to the daemon's socket at @path (AF_UNIX, SOCK_STREAM,
 * SOCK_CLOEXEC), after checking, before a byte is sent, that nobody but
 * root and the caller's uid could have put it there: its directory is
 * walked with brm_safedir_open() (lib/safedir.h; create = false) and the
 * socket must be a socket owned by root or the caller (a link root or the
 * caller owns is followed). $BRUMMD_SOCKET_TRUST_UID=UID also trusts that
 * one uid, for a brummd run by another user. A refused socket gives errnum
 * EPERM and "refusing socket '...': '/tmp/brummd-1001' is owned by uid
 * 1001, not by root or uid 1000 (...)". The connection is made through
 * /proc/self/fd to the very socket checked (by path when /proc is absent).
 * Returns the client, or NULL and *@err, e.g.
 * "cannot connect to brummd at '/x/brummd.sock': No such file or directory"
 * or "socket path '...' is too long (120 bytes, at most 107)". When @errnum
 * is non-NULL (brm_client_connect_errno), it receives the positive errno of
 * the failure (ENAMETOOLONG for a path that does not fit).
 * Ownership: caller destroys the client with brm_client_destroy() and frees
 * *@err with free(). @err may be NULL when the caller does not want it.
 */
struct brm_client *brm_client_connect(const char *path, char **err);
struct brm_client *brm_client_connect_errno(const char *path, char **err, int *errnum);

/*
 * A client on @fd, a stream socket already connected to brummd or to
 * something that carries its protocol (brummctl -H: one end of a
 * socketpair whose other end is ssh's stdin and stdout). No check is made:
 * the caller vouches for the peer. Ownership: takes @fd (closed by
 * brm_client_destroy()); caller destroys the client.
 */
struct brm_client *brm_client_from_fd(int fd);

/* Close the connection and free everything, queued notifications too.
 * brm_client_destroy(NULL) does nothing. */
void brm_client_destroy(struct brm_client *c);

/* The socket descriptor, for poll() by callers with their own loop. The
 * client still owns it; data may already wait in the client's buffer. */
int brm_client_fd(const struct brm_client *c);

/*
 * Call @method with @params (an object, or NULL for none) and wait for the
 * reply. Ids are assigned by the client, increasing from 1.
 *
 * Returns:
 *   0   *@result holds the reply's "result" (may be a JSON null).
 *       Ownership: caller frees it with cJSON_Delete().
 *   1   the daemon answered with an error: @err is filled (call
 *       brm_rpc_err_finish() on it afterwards); *@result is NULL. An error
 *       reply with "id": null (the daemon could not read the request, e.g.
 *       it was over the size limit) counts as the reply to this call.
 *   <0  a negative errno: -ECONNRESET/-EPIPE (the daemon closed the
 *       connection), -EPROTO (a malformed reply), -EMSGSIZE (a reply line
 *       over BRM_CLIENT_MAX_LINE), or another I/O error. *@result is NULL
 *       and brm_client_strerror() says what happened. The connection should
 *       not be used for more calls after such a failure.
 *
 * Ownership: takes ownership of @params in every case (even on failure).
 * @err must have been initialised (BRM_RPC_ERR_INIT / brm_rpc_err_init) and
 * be empty. Blocks until the reply arrives; there is no timeout.
 */
int brm_client_call(struct brm_client *c, const char *method, struct cJSON *params,
		    struct cJSON **result, struct brm_rpc_err *err);

/*
 * brm_client_call() in two halves, for a caller that reads a large reply
 * faster from its text than from a cJSON tree (brummctl's status table).
 * brm_client_call_text() sends the request (taking @params) and returns 0
 * with the next non-blank line from brummd in *@text (NUL-terminated,
 * *@len bytes; the client's buffer: valid until the next read on @c) and
 * the request's id in *@id, or a negative errno as brm_client_call(). The
 * caller either takes the text as the reply itself, or hands it to
 * brm_client_call_finish(), which returns exactly what brm_client_call()
 * would have (a notification before the reply is queued and the reply read
 * after it).
 */
int brm_client_call_text(struct brm_client *c, const char *method, struct cJSON *params,
			 const char **text, size_t *len, uint64_t *id);
int brm_client_call_finish(struct brm_client *c, const char *text, size_t len, uint64_t id,
			   struct cJSON **result, struct brm_rpc_err *err);

/*
 * The next message from the daemon that no brm_client_call() took as its
 * reply: notifications (no "id"; the streams of later protocol versions),
 * first those queued during brm_client_call(), then new lines from the
 * socket; or a stray reply, such as an error with "id": null that the
 * daemon sends before it closes a connection over a limit.
 * @timeout_ms < 0 waits for ever, 0 does not wait.
 * Returns 0 and *@msg (the whole message object; caller cJSON_Delete()s it),
 * -ETIMEDOUT when nothing came in time, or a negative errno as for
 * brm_client_call() (message in brm_client_strerror()).
 */
int brm_client_next(struct brm_client *c, struct cJSON **msg, int timeout_ms);

/*
 * What the last failed brm_client_call() / brm_client_next() returned a
 * negative errno for, as a message ("brummd closed the connection").
 * Ownership: the client's; valid until the next call on @c. Never NULL.
 */
const char *brm_client_strerror(const struct brm_client *c);

#endif
