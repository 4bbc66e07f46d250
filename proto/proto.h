/*
 * proto.h — what brummd and its clients agree on: process states, error
 * codes, signal names, limits. The specification is proto/PROTOCOL.md; this
 * header is its twin in C, shared by daemon/ and cli/ (as sway shares
 * include/ipc.h between sway and swaymsg). The states and signal names are
 * defined in lib/ (the registry's snapshots hold them) and included here.
 *
 * Everything here is safe from any thread.
 */
#ifndef BRM_PROTO_H
#define BRM_PROTO_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/procstate.h"   /* enum brm_state and its names */
#include "lib/signame.h"     /* signals by name */

/* JSON-RPC 2.0 error codes, and brummd's application codes. */
enum brm_rpc_error {
	BRM_E_PARSE = -32700,          /* not JSON */
	BRM_E_INVALID_REQUEST = -32600,/* JSON, but not a JSON-RPC request */
	BRM_E_NO_METHOD = -32601,      /* unknown method */
	BRM_E_INVALID_PARAMS = -32602, /* params wrong; the message says which */
	BRM_E_INTERNAL = -32603,       /* a bug or a resource failure in brummd */
	BRM_E_NO_PROCESS = -32001,     /* no process by that name */
	BRM_E_CONFLICT = -32002,       /* name exists, or wrong state for the request */
	BRM_E_NOT_PERMITTED = -32003,  /* peer credentials not allowed */
	BRM_E_LIMIT = -32004,          /* a protocol or resource limit was hit */
	BRM_E_TIMEOUT = -32005,        /* "wait" did not see the target state in time */
	BRM_E_CONFIG = -32006,         /* reload: the new config is invalid; nothing changed */
	BRM_E_NOT_DURABLE = -32007,    /* applied in memory, but the state file cannot be written */
};

/* Limits of the protocol (see PROTOCOL.md, "Limits"). */
#define BRM_MAX_MESSAGE_BYTES (1u << 20)   /* one request line, newline included */
#define BRM_MAX_JSON_DEPTH 32
#define BRM_MAX_NAME_LEN 64
/* A process's own environment (spec "env"): variables, and their bytes
 * counted as KEY=VALUE plus a NUL each; the kernel refuses an exec whose
 * argument and environment strings pass a quarter of the stack limit. */
#define BRM_MAX_ENV_ENTRIES 100000
#define BRM_MAX_ENV_BYTES (1u << 20)

/*
 * A process name is 1..64 bytes of [A-Za-z0-9._:@-], not starting with
 * '.' or '-'. Returns true when valid.
 */
bool brm_name_valid(const char *name);

#endif
