/*
 * proto.h — what brummd and its clients agree on: process states, error
 * codes, signal names, limits. The specification is proto/PROTOCOL.md; this
 * header is its twin in C, shared by daemon/ and cli/ (as sway shares
 * include/ipc.h between sway and swaymsg).
 *
 * Everything here is safe from any thread.
 */
#ifndef BRM_PROTO_H
#define BRM_PROTO_H

#include <stdbool.h>
#include <stddef.h>

/* Process states; the order is part of no contract, the names are. */
enum brm_state {
	BRM_STOPPED = 0,
	BRM_STARTING,
	BRM_RUNNING,
	BRM_BACKOFF,
	BRM_STOPPING,
	BRM_EXITED,
	BRM_FATAL,
	BRM_WAITING,     /* start requested; its dependencies are not met yet */
	BRM_STATE_COUNT
};

/* "stopped", "starting", ...; "unknown" for an out-of-range value. */
const char *brm_state_name(enum brm_state s);
/* Returns the state or -1 for an unknown name. */
int brm_state_parse(const char *name);

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

/*
 * Signals by name: "TERM", "SIGTERM", "term" and "15" all give 15.
 * Returns the signal number or -1.
 */
int brm_signal_parse(const char *s);
/* "TERM" for 15, or NULL for an unknown number. */
const char *brm_signal_name(int signo);

#endif
