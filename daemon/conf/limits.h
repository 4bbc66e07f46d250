/*
 * limits.h — the configurable limits of the protocol and the supervisor
 * (config key "limits", proto/PROTOCOL.md "Limits"), with their defaults
 * and the bounds a config may set them to.
 *
 * A struct brm_limits is filled once from the config (brm_limits_parse,
 * limits.c) before the workers start and is read-only afterwards: safe from
 * any thread.
 */
#ifndef BRM_LIMITS_H
#define BRM_LIMITS_H

#include <stddef.h>

#include "proto/proto.h"

struct cJSON;
struct brm_report;

struct brm_limits {
	size_t max_message_bytes;  /* one request line, newline included */
	int max_json_depth;        /* nesting of objects and arrays in a request */
	int max_clients;           /* connections open at once */
	int max_clients_per_uid;   /* of those, from one uid other than root and brummd's */
	size_t max_queued_bytes;   /* output queued to one client before it is cut */
	double idle_timeout_secs;  /* a connection with nothing in flight; 0: never */
	int max_processes;         /* supervised at once (config and `add`) */
	int max_name_len;          /* bytes in a process name (<= BRM_MAX_NAME_LEN) */
};

#define BRM_LIMITS_DEFAULT { \
	.max_message_bytes = BRM_MAX_MESSAGE_BYTES, \
	.max_json_depth = BRM_MAX_JSON_DEPTH, \
	.max_clients = 1024, \
	.max_clients_per_uid = 64, \
	.max_queued_bytes = 4u << 20, \
	.idle_timeout_secs = 300, \
	.max_processes = 4096, \
	.max_name_len = BRM_MAX_NAME_LEN, \
}

/*
 * Of max_clients, the slots only root and brummd's own uid may take, so
 * that other uids together can never lock them out: a quarter, at most 16.
 */
static inline int brm_limits_reserved_clients(const struct brm_limits *l)
{
	return l->max_clients / 4 < 16 ? l->max_clients / 4 : 16;
}

/*
 * The object at @path ("limits") into @l, each key within the bounds
 * below; problems go to @r (conf/diag.h).
 */
void brm_limits_parse(struct brm_report *r, const char *path, const struct cJSON *v,
		      struct brm_limits *l);

/* Bounds accepted in the config. */
#define BRM_LIMIT_MESSAGE_MIN 1024L
#define BRM_LIMIT_MESSAGE_MAX (64L << 20)
#define BRM_LIMIT_DEPTH_MAX 256     /* cJSON recursion stays far from the 512 KiB stack */
#define BRM_LIMIT_CLIENTS_MAX 65536
#define BRM_LIMIT_QUEUED_MIN (64L << 10)
#define BRM_LIMIT_QUEUED_MAX (1L << 30)
#define BRM_LIMIT_PROCESSES_MAX 100000

#endif
