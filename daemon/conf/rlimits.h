/*
 * rlimits.h — the resource limits a process spec may set ("rlimits"), as
 * systemd's Limit*=; the supervisor applies them before exec.
 *
 * Context: any thread (pure functions).
 */
#ifndef BRM_CONF_RLIMITS_H
#define BRM_CONF_RLIMITS_H

#include <stdbool.h>
#include <stdint.h>

struct cJSON;
struct brm_report;

/* "rlimits": the resources a spec may limit, as systemd's Limit*= */
enum brm_rlimit_res {
	BRM_RLIMIT_NOFILE,
	BRM_RLIMIT_NPROC,
	BRM_RLIMIT_CORE,
	BRM_RLIMIT_MEMLOCK,
	BRM_RLIMIT_COUNT
};
#define BRM_RLIM_INFINITY UINT64_MAX

struct brm_rlimit_spec {
	bool set;                 /* false: inherited from brummd */
	uint64_t soft, hard;      /* BRM_RLIM_INFINITY: unlimited */
};

/* The config key of @r ("nofile") and its resource (RLIMIT_NOFILE). */
const char *brm_rlimit_name(enum brm_rlimit_res r);
int brm_rlimit_resource(enum brm_rlimit_res r);

/*
 * The object at @path ("processes.web.rlimits") into @out, indexed by
 * enum brm_rlimit_res; problems go to @r (diag.h).
 */
void brm_parse_rlimits(struct brm_report *r, const char *path, const struct cJSON *v,
		       struct brm_rlimit_spec out[BRM_RLIMIT_COUNT]);

#endif
