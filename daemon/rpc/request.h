/*
 * request.h — what a protocol method's handler is given and what it may
 * use: the daemon-wide context (struct brm_ctx), the worker's scratch
 * memory, the request itself, and the error-reply helpers. Kept apart from
 * the server (server.h) and the method table (methods.h) so that handlers,
 * the server and the table depend on this header and not on each other.
 *
 * Context: worker threads (registered RCU readers), except where noted.
 */
#ifndef BRM_REQUEST_H
#define BRM_REQUEST_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/buf.h"
#include "lib/util.h"

struct brm_registry;
struct brm_cmdq;
struct brm_limits;
struct brm_access;
struct brm_peer;
struct brm_snapshot;
struct brm_cmd;
struct brm_stream;   /* rpc/follow.h */
struct brm_sub;      /* rpc/sub.h */
struct cJSON;

/* What request handlers may use; read-only after brm_server_start(). */
struct brm_ctx {
	struct brm_registry *reg;
	struct brm_cmdq *cmdq;
	pid_t pid;
	uint64_t start_mono_ns;
	const struct brm_limits *limits;  /* NULL: BRM_LIMITS_DEFAULT */
	const struct brm_access *access;  /* NULL: root and the daemon's uid only */
	unsigned socket_mode;             /* 0: 0600 */
	gid_t socket_gid;                 /* (gid_t)-1 or 0: the daemon's group */
	const int *nclients;              /* atomic: open connections (the server's), or NULL */
};

/* Per-worker memory reused from request to request (no allocation once grown). */
struct brm_scratch {
	struct brm_snapshot **snaps;
	size_t cap;
	struct brm_buf tmp;
	struct brm_buf line;          /* a log line copied out of a ring */
};

struct brm_req {
	const struct brm_ctx *ctx;
	const struct cJSON *params;   /* an object, or NULL */
	const char *id_json;          /* "null" for notifications too */
	struct brm_buf *out;          /* the reply line goes here */
	struct brm_scratch *scratch;
	struct brm_stream **stream;   /* the connection's log follower slot, or NULL */
	struct brm_sub **events;      /* the connection's subscription slot (sub.h) */
	const struct brm_peer *peer;  /* who asked (conf/access.h) */
};

enum brm_method_result {
	BRM_REPLIED,   /* the reply (result or error) is in req->out */
	BRM_QUEUED,    /* *cmd is set: submit it; the loop thread replies */
};

/*
 * Put the error reply @code with a printf-style message into req->out,
 * formatted in the worker's scratch (no allocation once it has grown).
 * Returns BRM_REPLIED, so a handler can `return brm_req_error(...)`.
 * brm_req_invalid is the same with BRM_E_INVALID_PARAMS (-32602).
 */
enum brm_method_result brm_req_error(struct brm_req *req, int code, const char *fmt, ...)
	BRM_PRINTF(3, 4);
enum brm_method_result brm_req_invalid(struct brm_req *req, const char *fmt, ...)
	BRM_PRINTF(2, 3);

/* The param @key of @req, or NULL. */
const struct cJSON *brm_req_param(const struct brm_req *req, const char *key);

/* The kind of @v for a message: "a string", "a number", "null", ... */
const char *brm_json_type(const struct cJSON *v);

/* Ownership: memory the caller provides; finish frees what init's user grew. */
void brm_scratch_init(struct brm_scratch *s);
void brm_scratch_finish(struct brm_scratch *s);

#endif
