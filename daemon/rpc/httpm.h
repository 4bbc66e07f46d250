/*
 * httpm.h — GET /metrics over HTTP on "metrics_listen" (README.md
 * "Prometheus"): the text of rpc/metrics.h for a Prometheus server to
 * scrape, without authentication and off unless configured.
 *
 * libmicrohttpd (Debian's libmicrohttpd-dev) parses HTTP on one thread of
 * its own (its internal polling thread, epoll), which registers with RCU
 * and reads the registry like a worker; the loop thread is not involved.
 * Bounded: BRM_HTTPM_MAX_CONNS connections (more wait in the listen
 * backlog, 64, until one goes), BRM_HTTPM_MAX_PER_IP from one address
 * (more are closed at once), BRM_HTTPM_TIMEOUT_SECS of inactivity, BRM_HTTPM_MEMORY bytes
 * of request per connection; GET and HEAD of /metrics only (405 for other
 * methods, 404 for other paths, 413 for a request with a body).
 * GET /metrics?stats=1 adds each process's CPU and memory (from /proc, as
 * `brummctl metrics` has them); without it those families are empty, which
 * keeps a scrape of 1000 processes within a few milliseconds.
 */
#ifndef BRM_RPC_HTTPM_H
#define BRM_RPC_HTTPM_H

struct brm_ctx;
struct brm_httpm;

#define BRM_HTTPM_MAX_CONNS 16
#define BRM_HTTPM_MAX_PER_IP 8
#define BRM_HTTPM_TIMEOUT_SECS 10
#define BRM_HTTPM_MEMORY (16u << 10)

/*
 * Listen on @host (an IP literal) port @port; nothing is served yet.
 * @as_written is the config's value, for messages. Returns 0 and *@out,
 * or -errno and *@err (caller frees): "metrics_listen '127.0.0.1:9721':
 * cannot listen: Address already in use".
 * Context: the main thread at start-up, before anything else listens.
 */
int brm_httpm_listen(const char *host, int port, const char *as_written,
		     struct brm_httpm **out, char **err);

/*
 * Start serving from @ctx (valid until brm_httpm_stop) on MHD's thread.
 * Returns 0, or -EIO with *@err.
 * Context: the main thread at start-up, with every signal blocked (the
 * HTTP thread inherits the mask).
 */
int brm_httpm_serve(struct brm_httpm *h, const struct brm_ctx *ctx, char **err);

/* Stop serving, join the thread, close the socket; also after listen
 * alone. stop(NULL) does nothing.
 * Context: the main (loop) thread. */
void brm_httpm_stop(struct brm_httpm *h);

#endif
