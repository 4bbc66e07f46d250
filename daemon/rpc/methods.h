/*
 * methods.h — the table of protocol methods, as redis registers its
 * commands and sway its IPC handlers. One entry per method says all there
 * is to say about it: its name, who may call it, its parameters (a schema
 * the server checks once, centrally, before the handler runs: one wording
 * for an unknown parameter, a missing one, and one of the wrong type or out
 * of range; proto/PROTOCOL.md "Parameter errors") and its handler. The
 * server parses a line, finds the method here and calls brm_method_call().
 * Who may call a method and which thread runs it are separate: `wait`
 * changes nothing, so readers may call it, and runs on the loop thread.
 *
 * Context: worker threads (registered RCU readers). Handlers of worker
 * methods answer from the registry; handlers of loop methods check what the
 * schema cannot (a name's characters, which of several params go together)
 * and fill in a struct brm_cmd for the loop thread.
 */
#ifndef BRM_METHODS_H
#define BRM_METHODS_H

#include <stdbool.h>

#include "daemon/sup/cmd.h"
#include "daemon/rpc/request.h"
#include "lib/buf.h"
#include "lib/registry.h"
#include "lib/util.h"

/* Who may call a method (access.h). */
enum brm_method_access {
	BRM_METHOD_READ = 0,      /* read-only: readers too */
	BRM_METHOD_MUTATING = 1,  /* changes processes: not readers */
	BRM_METHOD_ADMIN = 2,     /* changes nothing, but not for readers either
				   * (brummd's own log, which names what others run) */
};

/* The JSON values a parameter may take: a mask of these. */
enum brm_param_type {
	BRM_P_BOOL = 1 << 0,     /* true or false */
	BRM_P_INT = 1 << 1,      /* an integer from lo to hi (proto/rpc.h brm_rpc_int_in) */
	BRM_P_NUMBER = 1 << 2,   /* a number from lo to hi, fractions allowed; lo == hi: any */
	BRM_P_STRING = 1 << 3,
	BRM_P_ARRAY = 1 << 4,
	BRM_P_OBJECT = 1 << 5,
};

/* One parameter of a method's schema. */
struct brm_param {
	const char *name;
	unsigned types;               /* enum brm_param_type mask */
	bool required;
	int64_t lo, hi;               /* BRM_P_INT, BRM_P_NUMBER */
	const char *note;             /* what the value means, for the message; or NULL */
};

/* The most parameters one method takes, plus the terminating entry. */
#define BRM_PARAMS_MAX 10

struct brm_method {
	const char *name;
	enum brm_method_access access;
	/*
	 * Which thread runs it: NULL, the worker (the handler replies); else
	 * the loop thread, which executes this op (cmd.h, control.c) on the
	 * command the handler filled in and replies.
	 */
	const struct brm_cmd_op *loop;
	/*
	 * Called once the params fit the schema, with *cmd NULL for a worker
	 * method and a fresh command of op @loop for a loop method. Returns
	 * BRM_REPLIED (having replied; brm_method_call frees *cmd) or, with
	 * @loop only, BRM_QUEUED (*cmd filled in, for the loop thread).
	 */
	enum brm_method_result (*handler)(struct brm_req *req, struct brm_cmd **cmd);
	/* Every parameter the method takes, ended by one with a NULL name. */
	struct brm_param params[BRM_PARAMS_MAX];
};

/*
 * The `metrics` method's handler, {"text": EXPOSITION}: defined in
 * rpc/metrics.c, but declared here, not in metrics.h, because the renderer
 * depends on this table (its request counters name every method), and the
 * table must not depend on it in turn.
 */
enum brm_method_result brm_m_metrics(struct brm_req *req, struct brm_cmd **cmd);

/* The method called @name, or NULL. */
const struct brm_method *brm_method_find(const char *name);

/* The method whose loop op is @op, or NULL (brm_op_cancel: no method). */
const struct brm_method *brm_method_by_op(const struct brm_cmd_op *op);

/* Every method, NULL-terminated by name (for tests and documentation). */
extern const struct brm_method brm_methods[];

/*
 * Check @req's params against @m's schema, then call its handler. A
 * param not in the schema, a required one missing, or one whose value the
 * schema does not allow is answered here with -32602, and the handler is
 * not called:
 *   params.KEY: unknown parameter; METHOD takes "A", "B" or "C"
 *   params.KEY: unknown parameter; METHOD takes none
 *   params: missing "KEY"
 *   params.KEY: expected ALLOWED, got WHAT
 * where ALLOWED lists what the schema allows ("true or false", "a string
 * or an integer from 1 to 64"), followed by the param's note in
 * parentheses when it has one, and WHAT is the value's kind ("a string",
 * "null") or, for a number, the number itself.
 * Returns BRM_REPLIED, or BRM_QUEUED with *@cmd to submit to the loop
 * thread (methods with a `loop` op only).
 */
enum brm_method_result brm_method_call(const struct brm_method *m, struct brm_req *req,
				       struct brm_cmd **cmd);

#endif
