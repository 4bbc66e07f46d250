/*
 * depcheck.h — the config-level check of the orchestration keys
 * (orchspec.h) over all processes, once each spec is parsed.
 *
 * Context: any thread (pure function).
 */
#ifndef BRM_CONF_DEPCHECK_H
#define BRM_CONF_DEPCHECK_H

#include <stddef.h>

struct brm_proc_spec;

/*
 * Config-level checks over all processes (@procs sorted by name): unknown
 * dependency names, "healthy" on a process without a health check, and
 * cycles, each reported once with its path:
 *   processes.api.depends_on: dependency cycle api -> migrate -> api
 * @report is called once per problem with a key path and a message.
 */
void brm_orch_validate(struct brm_proc_spec *const *procs, size_t n,
		       void (*report)(void *ctx, const char *path, const char *msg),
		       void *ctx);

#endif
