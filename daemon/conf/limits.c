/*
 * limits.c — the "limits" key of the config (limits.h): each limit within
 * the bounds a config may set it to.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "daemon/conf/diag.h"
#include "daemon/conf/limits.h"
#include "daemon/conf/values.h"
#include "lib/util.h"

static const char *const limit_keys[] = {
	"max_message_bytes", "max_json_depth", "max_clients", "max_clients_per_uid",
	"max_queued_bytes", "idle_timeout_secs", "max_processes", "max_name_len", NULL
};

static void limit_one(struct brm_report *r, const char *p, const char *k, const cJSON *c,
		      void *ctx)
{
	struct brm_limits *l = ctx;
	long v;
	double d;

	if (!strcmp(k, "max_message_bytes")) {
		if (brm_conf_get_int(r, p, c, BRM_LIMIT_MESSAGE_MIN, BRM_LIMIT_MESSAGE_MAX, &v))
			l->max_message_bytes = (size_t)v;
	} else if (!strcmp(k, "max_json_depth")) {
		if (brm_conf_get_int(r, p, c, 2, BRM_LIMIT_DEPTH_MAX, &v))
			l->max_json_depth = (int)v;
	} else if (!strcmp(k, "max_clients")) {
		if (brm_conf_get_int(r, p, c, 1, BRM_LIMIT_CLIENTS_MAX, &v))
			l->max_clients = (int)v;
	} else if (!strcmp(k, "max_clients_per_uid")) {
		if (brm_conf_get_int(r, p, c, 1, BRM_LIMIT_CLIENTS_MAX, &v))
			l->max_clients_per_uid = (int)v;
	} else if (!strcmp(k, "max_queued_bytes")) {
		if (brm_conf_get_int(r, p, c, BRM_LIMIT_QUEUED_MIN, BRM_LIMIT_QUEUED_MAX, &v))
			l->max_queued_bytes = (size_t)v;
	} else if (!strcmp(k, "idle_timeout_secs")) {
		if (brm_conf_get_duration(r, p, c, &d))
			l->idle_timeout_secs = d;
	} else if (!strcmp(k, "max_processes")) {
		if (brm_conf_get_int(r, p, c, 1, BRM_LIMIT_PROCESSES_MAX, &v))
			l->max_processes = (int)v;
	} else {
		if (brm_conf_get_int(r, p, c, 1, BRM_MAX_NAME_LEN, &v))
			l->max_name_len = (int)v;
	}
}

/* "limits": the protocol's and the supervisor's (limits.h). */
void brm_limits_parse(struct brm_report *r, const char *path, const cJSON *v,
		      struct brm_limits *l)
{
	brm_parse_object_keys(r, path, v, limit_keys, l, limit_one);
}
