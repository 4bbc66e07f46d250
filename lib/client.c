/*
 * client.c — brummd's client side of the line protocol; see client.h.
 *
 * Reading: one buffer per connection holds what recv() returned and was not
 * consumed yet, from rstart to rlen. A line is found with memchr() from
 * where the last search stopped (scan), so a long reply arriving in many
 * small pieces is scanned once, not once per piece. The buffer is compacted
 * only when more data is needed, and grows up to BRM_CLIENT_MAX_LINE.
 *
 * Writing: the request is printed into one buffer with its newline and sent
 * with MSG_NOSIGNAL, so a daemon that went away gives EPIPE, not SIGPIPE.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "lib/buf.h"
#include "lib/client.h"
#include "lib/safedir.h"
#include "lib/util.h"

struct brm_client {
	int fd;
	uint64_t next_id;
	char *rbuf;
	size_t rstart, rlen, rcap, scan;
	cJSON *queue;             /* array of notifications not yet taken */
	struct brm_buf wbuf;
	char errmsg[256];
};

/* ---- socket paths ---- */

char *brm_socket_default_path(void)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	uid_t uid = geteuid();

	if (xdg && *xdg) {
		size_t n = strlen(xdg);

		while (n > 1 && xdg[n - 1] == '/')
			n--;
		return brm_xasprintf("%.*s/brummd/brummd.sock", (int)n, xdg);
	}
	if (uid == 0)
		return brm_xstrdup("/run/brummd/brummd.sock");
	return brm_xasprintf("/tmp/brummd-%u/brummd.sock", (unsigned)uid);
}

char *brm_socket_resolve_origin(const char *cli_opt, enum brm_socket_origin *origin)
{
	const char *env = getenv("BRUMMD_SOCKET");
	enum brm_socket_origin o;
	char *path;

	if (cli_opt) {
		o = BRM_SOCKET_FROM_OPTION;
		path = brm_xstrdup(cli_opt);
	} else if (env && *env) {
		o = BRM_SOCKET_FROM_ENV;
		path = brm_xstrdup(env);
	} else {
		o = BRM_SOCKET_DEFAULT;
		path = brm_socket_default_path();
	}
	if (origin)
		*origin = o;
	return path;
}

char *brm_socket_resolve(const char *cli_opt)
{
	return brm_socket_resolve_origin(cli_opt, NULL);
}

const char *brm_socket_origin_name(enum brm_socket_origin origin)
{
	switch (origin) {
	case BRM_SOCKET_FROM_OPTION: return "--socket";
	case BRM_SOCKET_FROM_ENV: return "$BRUMMD_SOCKET";
	case BRM_SOCKET_DEFAULT: break;
	}
	return "default";
}

/* ---- error replies ---- */

void brm_rpc_err_init(struct brm_rpc_err *e)
{
	e->code = 0;
	e->message = NULL;
	e->data = NULL;
}

void brm_rpc_err_finish(struct brm_rpc_err *e)
{
	free(e->message);
	cJSON_Delete(e->data);
	brm_rpc_err_init(e);
}

/* ---- connection ---- */

static void set_err(char **err, const char *fmt, ...) BRM_PRINTF(2, 3);
static void set_err(char **err, const char *fmt, ...)
{
	struct brm_buf b = BRM_BUF_INIT;
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	brm_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	*err = brm_buf_detach(&b);
}

/* The uid $BRUMMD_SOCKET_TRUST_UID names, or -1 when unset or invalid. */
static long trust_uid_env(void)
{
	const char *v = getenv("BRUMMD_SOCKET_TRUST_UID");
	char *end;
	long uid;

	if (!v || !*v)
		return -1;
	errno = 0;
	uid = strtol(v, &end, 10);
	if (*end || errno || uid < 0 || uid >= (long)(uid_t)-1)
		return -1;
	return uid;
}

static bool trusted_owner(uid_t who, uid_t trust)
{
	return who == 0 || who == geteuid() || who == trust;
}

/*
 * Open the socket at @path as an O_PATH descriptor after checking that no
 * uid but root, the caller's and (with $BRUMMD_SOCKET_TRUST_UID) the one
 * trusted could change its directory, and that it is a socket one of them
 * owns. A trusted link as the last component is followed (a few times).
 * Returns the descriptor, or a negative errno with the message in *@err:
 * -EPERM for a socket refused as unsafe.
 */
static int open_checked_socket(const char *path, char **err)
{
	long env_uid = trust_uid_env();
	struct brm_safedir_opts so = { .uid = geteuid(), .create = false, .gid = (gid_t)-1 };
	char why[PATH_MAX + 256], cwd[PATH_MAX], *cur, *dir = NULL;
	const char *name;
	struct stat st;
	int dirfd = -1, fd = -1, r;

	if (path[0] == '/') {
		cur = brm_xstrdup(path);
	} else if (getcwd(cwd, sizeof(cwd))) {
		cur = brm_xasprintf("%s%s%s", cwd, strcmp(cwd, "/") ? "/" : "", path);
	} else {
		r = -errno;
		set_err(err, "cannot connect to brummd at '%s': %s", path, strerror(-r));
		return r;
	}
	for (int links = 0;; links++) {
		free(dir);
		dir = brm_path_split(cur, &name);
		if (!dir || !strcmp(name, ".") || !strcmp(name, "..")) {
			set_err(err, "cannot connect to brummd at '%s': not a socket path", path);
			r = -EINVAL;
			goto out_free;
		}
		so.uid = geteuid();
		dirfd = brm_safedir_open(dir, &so, why, sizeof(why));
		if ((dirfd == -EPERM || dirfd == -ELOOP) && env_uid >= 0 &&
		    (uid_t)env_uid != so.uid) {
			so.uid = (uid_t)env_uid;
			dirfd = brm_safedir_open(dir, &so, why, sizeof(why));
		}
		if (dirfd == -EPERM || dirfd == -ELOOP) {
			set_err(err, "refusing socket '%s': %s%s", path, why,
				env_uid >= 0 ? "" : " (to trust a user's socket, set"
				" BRUMMD_SOCKET_TRUST_UID to that uid)");
			r = -EPERM;
			goto out_free;
		}
		if (dirfd < 0) {
			set_err(err, "cannot connect to brummd at '%s': %s", path, strerror(-dirfd));
			r = dirfd;
			goto out_free;
		}
		fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &st) < 0) {
			r = -errno;
			set_err(err, "cannot connect to brummd at '%s': %s", path, strerror(errno));
			goto out_close;
		}
		if (!trusted_owner(st.st_uid, so.uid)) {
			set_err(err, "refusing socket '%s': '%s' is owned by uid %u, not by root or you"
				" (uid %u)", path, cur, (unsigned)st.st_uid, (unsigned)geteuid());
			r = -EPERM;
			goto out_close;
		}
		if (!S_ISLNK(st.st_mode))
			break;
		/* A link root or you made (/var/run -> /run style): follow it. */
		{
			char target[PATH_MAX];
			ssize_t n = readlinkat(dirfd, name, target, sizeof(target) - 1);
			char *next;

			if (n <= 0 || links >= 8) {
				r = n < 0 ? -errno : n == 0 ? -EINVAL : -ELOOP;
				set_err(err, "cannot connect to brummd at '%s': %s", path,
					strerror(-r));
				goto out_close;
			}
			target[n] = '\0';
			next = target[0] == '/' ? brm_xstrdup(target)
				: brm_xasprintf("%s/%s", strcmp(dir, "/") ? dir : "", target);
			free(cur);
			cur = next;
			close(fd);
			close(dirfd);
			fd = dirfd = -1;
		}
	}
	if (!S_ISSOCK(st.st_mode)) {
		set_err(err, "cannot connect to brummd at '%s': not a socket", path);
		r = -ENOTSOCK;
		goto out_close;
	}
	r = fd;
	fd = -1;
out_close:
	if (fd >= 0)
		close(fd);
	close(dirfd);
out_free:
	free(dir);
	free(cur);
	return r;
}

struct brm_client *brm_client_connect_errno(const char *path, char **err, int *errnum)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = strlen(path);
	int fd, sfd, e;

	if (errnum)
		*errnum = 0;
	if (len >= sizeof(sa.sun_path)) {
		set_err(err, "cannot connect to brummd at '%s': socket path is too long "
			"(%zu bytes, at most %zu)", path, len, sizeof(sa.sun_path) - 1);
		if (errnum)
			*errnum = ENAMETOOLONG;
		return NULL;
	}
	if (len == 0) {
		set_err(err, "cannot connect to brummd: empty socket path");
		if (errnum)
			*errnum = EINVAL;
		return NULL;
	}
	sfd = open_checked_socket(path, err);
	if (sfd < 0) {
		if (errnum)
			*errnum = -sfd;
		return NULL;
	}
	/* Connect to the very socket checked, through its descriptor; without
	 * /proc, by its path (every step of it is trusted). */
	if (access("/proc/self/fd", X_OK) == 0)
		snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d", sfd);
	else
		memcpy(sa.sun_path, path, len + 1);

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		e = errno;
		goto out_err;
	}
	while (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno == EINTR)
			continue;
		e = errno;
		close(fd);
		goto out_err;
	}
	close(sfd);
	return brm_client_from_fd(fd);

out_err:
	close(sfd);
	set_err(err, "cannot connect to brummd at '%s': %s", path, strerror(e));
	if (errnum)
		*errnum = e;
	return NULL;
}

struct brm_client *brm_client_from_fd(int fd)
{
	struct brm_client *c = brm_xcalloc(1, sizeof(*c));

	c->fd = fd;
	c->next_id = 1;
	brm_buf_init(&c->wbuf);
	return c;
}

struct brm_client *brm_client_connect(const char *path, char **err)
{
	return brm_client_connect_errno(path, err, NULL);
}

void brm_client_destroy(struct brm_client *c)
{
	if (!c)
		return;
	close(c->fd);
	free(c->rbuf);
	cJSON_Delete(c->queue);
	brm_buf_finish(&c->wbuf);
	free(c);
}

int brm_client_fd(const struct brm_client *c)
{
	return c->fd;
}

const char *brm_client_strerror(const struct brm_client *c)
{
	return c->errmsg[0] ? c->errmsg : "no error";
}

static int fail(struct brm_client *c, int ret, const char *fmt, ...) BRM_PRINTF(3, 4);
static int fail(struct brm_client *c, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->errmsg, sizeof(c->errmsg), fmt, ap);
	va_end(ap);
	/* Callers test for < 0; a failure must never look like a length. */
	return ret < 0 ? ret : -EIO;
}

/* ---- reading lines ---- */

/* Make room for at least one more read. */
static void make_room(struct brm_client *c)
{
	if (c->rstart) {
		memmove(c->rbuf, c->rbuf + c->rstart, c->rlen - c->rstart);
		c->rlen -= c->rstart;
		c->scan -= c->rstart;
		c->rstart = 0;
	}
	if (c->rcap - c->rlen < 4096) {
		size_t cap = c->rcap ? c->rcap * 2 : 64 * 1024;

		c->rbuf = brm_xrealloc(c->rbuf, cap);
		c->rcap = cap;
	}
}

/* Wait until the socket is readable: 0, -ETIMEDOUT or -errno. */
static int wait_readable(struct brm_client *c, int timeout_ms, uint64_t deadline_ns)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	int r, ms = timeout_ms;

	for (;;) {
		if (timeout_ms >= 0) {
			uint64_t now = brm_now_mono_ns();

			ms = now >= deadline_ns ? 0
				: (int)((deadline_ns - now + 999999) / 1000000);
		}
		r = poll(&pfd, 1, ms);
		if (r > 0)
			return 0;
		if (r == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return fail(c, -errno, "cannot read from brummd: %s", strerror(errno));
	}
}

/*
 * The next line, without its newline and NUL-terminated, in *@line (points
 * into the buffer: valid until the next read). Returns its length, or
 * -ETIMEDOUT or another negative errno.
 */
static ssize_t read_line(struct brm_client *c, char **line, int timeout_ms)
{
	uint64_t deadline = 0;
	ssize_t n;
	int r;

	if (timeout_ms >= 0)
		deadline = brm_now_mono_ns() + (uint64_t)timeout_ms * 1000000;
	for (;;) {
		char *nl = c->rlen > c->scan ? memchr(c->rbuf + c->scan, '\n', c->rlen - c->scan)
					     : NULL;

		if (nl) {
			size_t len = (size_t)(nl - (c->rbuf + c->rstart));

			*nl = '\0';
			*line = c->rbuf + c->rstart;
			c->rstart = c->scan = (size_t)(nl - c->rbuf) + 1;
			return (ssize_t)len;
		}
		c->scan = c->rlen;
		if (c->rlen - c->rstart >= BRM_CLIENT_MAX_LINE)
			return fail(c, -EMSGSIZE, "reply from brummd is longer than %u bytes",
				    BRM_CLIENT_MAX_LINE);
		make_room(c);
		if (timeout_ms >= 0) {
			r = wait_readable(c, timeout_ms, deadline);
			if (r < 0)
				return r;
		}
		/* Leave a byte for the NUL that terminates a line at the end. */
		n = recv(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen - 1, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return fail(c, -errno, "cannot read from brummd: %s", strerror(errno));
		}
		if (n == 0) {
			if (c->rlen > c->rstart)
				return fail(c, -ECONNRESET,
					    "brummd closed the connection in the middle of a reply");
			return fail(c, -ECONNRESET, "brummd closed the connection");
		}
		c->rlen += (size_t)n;
	}
}

/*
 * GCC 12's -fanalyzer loses *line through read_line()'s loop and reports
 * a NULL dereference here (make lint); read_line() sets *line whenever it
 * returns >= 0, the only case in which this is called.
 */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 10
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wanalyzer-null-dereference"
#endif
static bool blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return false;
	return true;
}
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 10
#pragma GCC diagnostic pop
#endif

/*
 * Read the next message: a JSON object with "jsonrpc": "2.0".
 * Returns 0 and *@msg (caller deletes it) or a negative errno.
 */
static ssize_t read_text(struct brm_client *c, char **line, int timeout_ms)
{
	ssize_t len;

	do {
		len = read_line(c, line, timeout_ms);
		if (len < 0)
			return len;
	} while (blank(*line, (size_t)len));
	return len;
}

/* @line (@len bytes, NUL-terminated) as a message; as read_message. */
static int parse_message(struct brm_client *c, const char *line, size_t len, cJSON **msg)
{
	const char *end = NULL;
	const cJSON *v;
	cJSON *m;

	*msg = NULL;
	m = cJSON_ParseWithLengthOpts(line, len + 1, &end, 1);
	if (!m)
		return fail(c, -EPROTO, "malformed reply from brummd: not JSON: '%.60s%s'",
			    line, len > 60 ? "..." : "");
	if (!cJSON_IsObject(m)) {
		cJSON_Delete(m);
		return fail(c, -EPROTO, "malformed reply from brummd: not a JSON object: '%.60s%s'",
			    line, len > 60 ? "..." : "");
	}
	v = cJSON_GetObjectItemCaseSensitive(m, "jsonrpc");
	if (!cJSON_IsString(v) || strcmp(v->valuestring, "2.0") != 0) {
		cJSON_Delete(m);
		return fail(c, -EPROTO, "malformed reply from brummd: \"jsonrpc\" is not \"2.0\"");
	}
	*msg = m;
	return 0;
}

static int read_message(struct brm_client *c, cJSON **msg, int timeout_ms)
{
	char *line = NULL;
	ssize_t len;

	*msg = NULL;
	len = read_text(c, &line, timeout_ms);
	if (len < 0)
		return (int)len;
	return parse_message(c, line, (size_t)len, msg);
}

static bool is_notification(const cJSON *m)
{
	return !cJSON_GetObjectItemCaseSensitive(m, "id");
}

static void enqueue(struct brm_client *c, cJSON *m)
{
	if (!c->queue) {
		c->queue = cJSON_CreateArray();
		if (!c->queue)
			brm_oom(sizeof(cJSON));
	}
	cJSON_AddItemToArray(c->queue, m);
}

/* ---- calls ---- */

static int send_all(struct brm_client *c, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EPIPE || errno == ECONNRESET)
				return fail(c, -errno, "brummd closed the connection");
			return fail(c, -errno, "cannot write to brummd: %s", strerror(errno));
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int write_request(struct brm_client *c, uint64_t id, const char *method, cJSON *params)
{
	cJSON *req = cJSON_CreateObject();
	char *text;

	if (!req || !cJSON_AddStringToObject(req, "jsonrpc", "2.0") ||
	    !cJSON_AddNumberToObject(req, "id", (double)id) ||
	    !cJSON_AddStringToObject(req, "method", method))
		brm_oom(0);
	if (params && !cJSON_AddItemToObject(req, "params", params))
		brm_oom(0);
	text = cJSON_PrintUnformatted(req);
	cJSON_Delete(req);
	if (!text)
		brm_oom(0);

	brm_buf_reset(&c->wbuf);
	brm_buf_adds(&c->wbuf, text);
	brm_buf_addc(&c->wbuf, '\n');
	free(text);
	return send_all(c, c->wbuf.p, c->wbuf.len);
}

/* Fill @err from an "error" member; 1, or -EPROTO for a malformed one. */
static int take_error(struct brm_client *c, cJSON *error, struct brm_rpc_err *err)
{
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(error, "code");
	const cJSON *message = cJSON_GetObjectItemCaseSensitive(error, "message");
	cJSON *data;

	if (!cJSON_IsObject(error) || !cJSON_IsNumber(code) || !cJSON_IsString(message))
		return fail(c, -EPROTO, "malformed reply from brummd: \"error\" needs "
			    "a numeric \"code\" and a string \"message\"");
	err->code = code->valueint;
	err->message = brm_xstrdup(message->valuestring);
	data = cJSON_DetachItemFromObjectCaseSensitive(error, "data");
	err->data = data;
	return 1;
}

int brm_client_call_text(struct brm_client *c, const char *method, cJSON *params,
			 const char **text, size_t *len, uint64_t *id)
{
	char *line = NULL;
	ssize_t n;
	int r;

	*text = NULL;
	*len = 0;
	*id = c->next_id++;
	c->errmsg[0] = '\0';
	r = write_request(c, *id, method, params);
	if (r < 0)
		return r;
	n = read_text(c, &line, -1);
	if (n < 0)
		return (int)n;
	*text = line;
	*len = (size_t)n;
	return 0;
}

int brm_client_call_finish(struct brm_client *c, const char *text, size_t len, uint64_t id,
			   cJSON **result, struct brm_rpc_err *err)
{
	cJSON *m = NULL, *res, *error;
	const cJSON *rid;
	int r;

	*result = NULL;
	r = parse_message(c, text, len, &m);
	for (;;) {
		if (r < 0)
			return r;
		if (is_notification(m)) {
			enqueue(c, m);
			r = read_message(c, &m, -1);
			continue;
		}
		rid = cJSON_GetObjectItemCaseSensitive(m, "id");
		error = cJSON_GetObjectItemCaseSensitive(m, "error");
		if (cJSON_IsNumber(rid) && rid->valuedouble == (double)id)
			break;
		if (cJSON_IsNull(rid) && error)
			break;
		cJSON_Delete(m);
		return fail(c, -EPROTO, "malformed reply from brummd: unexpected id "
			    "(waiting for the reply to request %llu)", (unsigned long long)id);
	}

	res = cJSON_GetObjectItemCaseSensitive(m, "result");
	error = cJSON_GetObjectItemCaseSensitive(m, "error");
	if (!res == !error) {
		r = fail(c, -EPROTO, "malformed reply from brummd: it needs exactly "
			 "one of \"result\" and \"error\"");
	} else if (error) {
		r = take_error(c, error, err);
	} else {
		*result = cJSON_DetachItemViaPointer(m, res);
		r = 0;
	}
	cJSON_Delete(m);
	return r;
}

int brm_client_call(struct brm_client *c, const char *method, cJSON *params,
		    cJSON **result, struct brm_rpc_err *err)
{
	const char *text;
	size_t len;
	uint64_t id;
	int r;

	*result = NULL;
	r = brm_client_call_text(c, method, params, &text, &len, &id);
	if (r < 0)
		return r;
	return brm_client_call_finish(c, text, len, id, result, err);
}

int brm_client_next(struct brm_client *c, cJSON **msg, int timeout_ms)
{
	*msg = NULL;
	c->errmsg[0] = '\0';
	if (c->queue && c->queue->child) {
		*msg = cJSON_DetachItemFromArray(c->queue, 0);
		return 0;
	}
	return read_message(c, msg, timeout_ms);
}
