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
#include "daemon/rpc/request.h"
#include "lib/buf.h"
#include "lib/registry.h"
#include "lib/util.h"

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

#endif
