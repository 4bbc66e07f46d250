/*
 * httpm.c — GET /metrics over HTTP (httpm.h), on libmicrohttpd.
 *
 * Why a library: brummd runs as root, and the port may be reachable from a
 * network. HTTP parsing written here would be new attack surface; MHD is a
 * maintained server that bounds request size, connections and idle time
 * for us, and runs its own polling thread.
 *
 * The socket is made here, not by MHD, so that a failure to bind says why
 * (errno) with the config key and address. MHD's thread reads the registry:
 * the first request it handles registers it with RCU, and a thread-specific
 * key's destructor unregisters it when MHD's thread ends (liburcu's memb
 * flavour needs every reader registered, and unregistered before it exits).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/rpc/httpm.h"
#include "daemon/rpc/metrics.h"
#include "lib/buf.h"
#include "lib/registry.h"
#include "lib/util.h"

struct brm_httpm {
	struct MHD_Daemon *mhd;    /* NULL until brm_httpm_serve */
	const struct brm_ctx *ctx;
	int fd;                    /* MHD's once it serves */
	char *as_written;
};

static pthread_key_t rcu_key;
static pthread_once_t rcu_key_once = PTHREAD_ONCE_INIT;
static int rcu_key_err;
static __thread bool rcu_registered;

static void rcu_unregister(void *unused)
{
	rcu_unregister_thread();
}

static void make_rcu_key(void)
{
	rcu_key_err = pthread_key_create(&rcu_key, rcu_unregister);
}

/* Register the calling thread (MHD's) with RCU once; undone at its exit. */
static void ensure_rcu_reader(void)
{
	if (rcu_registered)
		return;
	rcu_register_thread();
	pthread_setspecific(rcu_key, &rcu_registered);
	rcu_registered = true;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *text,
			     const char *allow)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text,
								 MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	if (allow)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* A Content-Length other than 0, or any Transfer-Encoding: a body comes. */
static bool has_body(struct MHD_Connection *conn)
{
	const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_LENGTH);
	const char *te = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_TRANSFER_ENCODING);

	return te || (cl && strcmp(cl, "0") != 0);
}

/*
 * A refusal is answered at the request's first call, before any body is
 * read (a request that has one gets 413, and MHD closes the connection).
 * A scrape is answered at its second call, once MHD has the whole request,
 * so the connection can be kept alive for the next scrape. Per-process CPU
 * and memory only with ?stats=1: their /proc reads cost ~40 us a process
 * here, 40 ms at 1000 processes, against ~3 ms for all the rest.
 */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size,
				  void **req_cls)
{
	struct brm_httpm *h = cls;
	struct MHD_Response *r;
	struct brm_buf b = BRM_BUF_INIT;
	enum MHD_Result ret;
	const char *stats;
	size_t len;
	char *text;

	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n", "GET, HEAD");
	if (has_body(conn))
		return reply(conn, MHD_HTTP_CONTENT_TOO_LARGE, "no request body is accepted\n",
			     NULL);
	if (strcmp(url, "/metrics") != 0)
		return reply(conn, MHD_HTTP_NOT_FOUND, "not found: brummd serves /metrics\n", NULL);
	if (!*req_cls) {
		*req_cls = h;
		return MHD_YES;
	}
	ensure_rcu_reader();
	stats = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "stats");
	brm_metrics_render(h->ctx, &b, stats && !strcmp(stats, "1"));
	len = b.len;
	text = brm_buf_detach(&b);
	r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, BRM_METRICS_CONTENT_TYPE);
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/* A listening TCP socket on @host:@port, or -errno. */
static int listen_on(const char *host, int port)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, one = 1, family = strchr(host, ':') ? AF_INET6 : AF_INET;

	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
			return -EINVAL;
		sl = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
			return -EINVAL;
		sl = sizeof(*a);
	}
	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 64) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

int brm_httpm_listen(const char *host, int port, const char *as_written,
		     struct brm_httpm **out, char **err)
{
	struct brm_httpm *h;
	int fd;

	pthread_once(&rcu_key_once, make_rcu_key);
	if (rcu_key_err) {
		*err = brm_xasprintf("metrics_listen '%s': no thread key: %s", as_written,
				     strerror(rcu_key_err));
		return -rcu_key_err;
	}
	fd = listen_on(host, port);
	if (fd < 0) {
		*err = brm_xasprintf("metrics_listen '%s': cannot listen: %s", as_written,
				     strerror(-fd));
		return fd;
	}
	h = brm_xcalloc(1, sizeof(*h));
	h->fd = fd;
	h->as_written = brm_xstrdup(as_written);
	*out = h;
	return 0;
}

int brm_httpm_serve(struct brm_httpm *h, const struct brm_ctx *ctx, char **err)
{
	h->ctx = ctx;
	h->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL,
				  on_request, h,
				  MHD_OPTION_LISTEN_SOCKET, (MHD_socket)h->fd,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned)BRM_HTTPM_MAX_CONNS,
				  MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)BRM_HTTPM_MAX_PER_IP,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)BRM_HTTPM_TIMEOUT_SECS,
				  MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)BRM_HTTPM_MEMORY,
				  MHD_OPTION_END);
	if (!h->mhd) {
		*err = brm_xasprintf("metrics_listen '%s': cannot start the HTTP server",
				     h->as_written);
		return -EIO;
	}
	return 0;
}

void brm_httpm_stop(struct brm_httpm *h)
{
	if (!h)
		return;
	/* Joins MHD's thread (its RCU registration ends with it) and closes
	 * the listening socket. */
	if (h->mhd)
		MHD_stop_daemon(h->mhd);
	else
		close(h->fd);
	free(h->as_written);
	free(h);
}
