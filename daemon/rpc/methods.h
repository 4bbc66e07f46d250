/*
 * methods.h — the table of protocol methods (one entry per method: name,
 * handler, read-only or mutating), as redis registers its commands and sway
 * its IPC handlers. The server parses a line, finds the method here and calls
 * its handler.
 *
 * Context: worker threads (registered RCU readers). Handlers of read-only
 * methods answer from the registry; handlers of mutating methods check their
 * params and return a struct brm_cmd for the loop thread.
 */
#ifndef BRM_METHODS_H
#define BRM_METHODS_H

#include <stdbool.h>

#include "daemon/sup/cmd.h"
#include "daemon/rpc/server.h"
#include "lib/buf.h"
#include "lib/registry.h"
#include "lib/util.h"

struct cJSON;

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
	void **stream;                /* the connection's log follower slot, or NULL */
	void **events;                /* the connection's subscription slot (sub.h) */
};

enum brm_method_result {
	BRM_REPLIED,   /* the reply (result or error) is in req->out */
	BRM_QUEUED,    /* *cmd is set: submit it; the loop thread replies */
};

/*
 * Who may call a method (access.h): the table writes the first two as
 * false and true.
 */
enum brm_method_access {
	BRM_METHOD_READ = 0,      /* read-only: readers too */
	BRM_METHOD_MUTATING = 1,  /* changes processes: not readers */
	BRM_METHOD_ADMIN = 2,     /* changes nothing, but not for readers either
				   * (brummd's own log, which names what others run) */
};

struct brm_method {
	const char *name;
	enum brm_method_access access;
	enum brm_method_result (*handler)(struct brm_req *req, struct brm_cmd **cmd);
};

/* The method called @name, or NULL. */
const struct brm_method *brm_method_find(const char *name);

/* Every method, NULL-terminated by name (for tests and documentation). */
extern const struct brm_method brm_methods[];

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

void brm_scratch_init(struct brm_scratch *s);
void brm_scratch_finish(struct brm_scratch *s);

#endif
