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

#include "daemon/limits.h"

struct cJSON;
struct brm_log_spec;
struct brm_orch_spec;

enum brm_restart {
	BRM_RESTART_ON_FAILURE = 0,  /* default: restart after a non-zero exit or a signal */
	BRM_RESTART_ALWAYS,
	BRM_RESTART_NEVER,
};
const char *brm_restart_name(enum brm_restart r);

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

#define BRM_MAX_ENV_FILES 16

/*
 * "type": a simple process is meant to stay up; a one-shot runs to
 * completion (exit 0 is success, and it is never restarted after it).
 */
enum brm_proc_type {
	BRM_TYPE_SIMPLE = 0,
	BRM_TYPE_ONESHOT,
};
/* "simple" | "oneshot" (static). */
const char *brm_proc_type_name(enum brm_proc_type t);

/* One process's specification. All strings owned by the spec. */
struct brm_proc_spec {
	char *name;
	char **argv;              /* NULL-terminated, argv[0] non-empty; with
	                             "shell": true, {"/bin/sh", "-c", CMD, NULL} */
	bool shell;
	char *cwd;                /* NULL: the daemon's working directory */
	char **env;               /* NULL-terminated "KEY=VALUE", added to (and
	                             overriding) the daemon's environment; may be NULL */
	bool autostart;           /* default true */
	enum brm_proc_type type;  /* default simple */
	enum brm_restart restart; /* default on-failure; never for a one-shot,
	                             which may not be always */
	double start_secs;        /* default 1 */
	unsigned start_retries;   /* default 3 */
	double backoff_secs;      /* default 0.1 (first delay; doubles per failure) */
	double backoff_max_secs;  /* default 30 */
	double min_uptime_secs;   /* default 10: an exit sooner than this (or than
	                             start_secs) after the spawn is a failed start */
	int stop_signal;          /* default SIGTERM */
	double stop_timeout_secs; /* default 10 */
	char *user;               /* NULL: unchanged */
	char *group;              /* NULL: the user's primary group, or unchanged */
	int umask;                /* -1: inherit the daemon's */
	struct brm_log_spec *log; /* logs.c: log_* keys and error_patterns, or NULL */
	bool orphan_keep;         /* "orphan": "keep": no parent-death signal, the
	                             process outlives a brummd that dies (default
	                             "kill"); an orderly shutdown still stops it */
	struct brm_orch_spec *orch; /* orchspec.c: depends_on, health, ready,
	                             notify_fd; NULL when none is set */
	char **env_file;          /* NULL-terminated absolute paths, each maybe
	                             with a leading '-' (a missing file is fine);
	                             read at each start (daemon/envfile.h); NULL: none */
	struct brm_rlimit_spec rlimits[BRM_RLIMIT_COUNT];
	bool nice_set;
	int nice;                 /* -20..19, with nice_set */
	bool oom_score_adj_set;
	int oom_score_adj;        /* -1000..1000, with oom_score_adj_set */
	long port;                /* "port" (+ the instance number); 0: none */
};

/* "access": user and group names (or decimal ids) as written; "*" is anyone. */
struct brm_access_spec {
	char **users;             /* every method (root and the daemon's uid always) */
	char **groups;
	char **reader_users;      /* read-only methods only */
	char **reader_groups;
};

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

/*
 * Parse one process spec (the value of processes.NAME, or an `add` request's
 * "spec") named @name. @path prefixes key paths in messages ("processes.web",
 * or "params.spec"). Also validates @name (proto.h: brm_name_valid).
 * Returns the spec, or NULL and *@err (lines as above, without SOURCE).
 * Ownership: caller frees with brm_spec_destroy() / free().
 */
struct brm_proc_spec *brm_spec_parse(const struct cJSON *obj, const char *name,
				     const char *path, char **err);

/* Defaults for @name, argv NULL. Ownership: caller, brm_spec_destroy(). */
struct brm_proc_spec *brm_spec_new(const char *name);
struct brm_proc_spec *brm_spec_dup(const struct brm_proc_spec *s);
void brm_spec_destroy(struct brm_proc_spec *s);

/*
 * Parse a duration: a non-negative number of seconds (fractions allowed) or
 * a string with a unit: "250ms", "10s", "2m", "1h", "1.5s". Returns 0 and
 * *@secs, or -EINVAL.
 */
int brm_duration_parse_json(const struct cJSON *v, double *secs);
int brm_duration_parse(const char *s, double *secs);

/*
 * A duration of at least @min seconds in @v. Returns NULL and *@secs, or a
 * message saying what is wrong and naming the accepted format:
 *   duration "5 s" has an unknown unit; expected a number of seconds like 5
 *   or 0.5, or a string like "250ms", "10s", "2m" or "1h"
 * Ownership: caller frees the message.
 */
char *brm_duration_check(const struct cJSON *v, double min, double *secs);

#endif
