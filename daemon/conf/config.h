/*
 * config.h — brummd's configuration: parse and validate JSON (comments
 * allowed) into plain structs.
 *
 * The key names are a contract (issue 2, README "Configuration"). Every
 * error names its key path and what was expected, with a suggestion for a
 * near-miss key:  processes.web.restrt: unknown key (did you mean "restart"?)
 *
 * Parsing is pure: no global state, no libuv, safe from any thread (workers
 * parse the "spec" of an `add` request with brm_spec_parse). It does not
 * resolve users, groups or binaries: those may appear after the config was
 * written, so the supervisor resolves them at each start.
 */
#ifndef BRM_CONFIG_H
#define BRM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "daemon/conf/accessspec.h"
#include "daemon/conf/limits.h"
#include "daemon/conf/spec.h"

struct brm_log_spec;

/*
 * "exit_with": what besides a signal or a `shutdown` request ends brummd
 * (daemon/sup/critical.h): the end of a process with "critical": true, or
 * also the first failure of any process.
 */
enum brm_exit_with {
	BRM_EXIT_WITH_CRITICAL = 0,  /* default */
	BRM_EXIT_WITH_FIRST_FAILURE,
};
/* "critical" | "first_failure" (static). */
const char *brm_exit_with_name(enum brm_exit_with w);

struct brm_config {
	char *source;             /* file name, or "<default>" */
	char *socket;             /* NULL: not set in the file */
	char *state_dir;          /* NULL: not set (see daemon/state.h) */
	int workers;              /* default 4, 1..64 */
	int socket_mode;          /* default 0600 */
	char *socket_group;       /* NULL: the daemon's group */
	struct brm_access_spec access;
	struct brm_limits limits; /* BRM_LIMITS_DEFAULT */
	size_t nprocs;
	struct brm_proc_spec **procs; /* sorted by name */
	struct brm_log_spec *log; /* top-level log_* defaults, or NULL */
	enum brm_exit_with exit_with;
	/* "metrics_listen": the value as written (for messages), and its
	 * address; NULL and 0: not set, no HTTP metrics. */
	char *metrics_listen;
	char *metrics_host;       /* an IP literal, without brackets */
	int metrics_port;
};

/*
 * Parse a whole config from @text (@len bytes, need not be NUL-terminated).
 * @source names it in messages ("brummd.json").
 * Returns 0 and *@out, or -EINVAL and *@err: one line per problem, each
 * "SOURCE: KEY.PATH: message", all problems found, not just the first.
 * Ownership: caller frees *@out with brm_config_destroy(), *@err with free().
 */
int brm_config_parse(const char *text, size_t len, const char *source,
		     struct brm_config **out, char **err);

/* brm_config_parse on a file's contents; a read error is reported in *@err. */
int brm_config_load(const char *path, struct brm_config **out, char **err);

/* The embedded default: no socket set, 4 workers, no processes. */
struct brm_config *brm_config_default(void);

void brm_config_destroy(struct brm_config *cfg);

#endif
