/*
 * spec.h — one process's specification: the struct, its defaults, copy
 * and free, and its parsing from JSON (processes.NAME in the config, or an
 * `add` request's "spec").
 *
 * Parsing is pure: no global state, no libuv, safe from any thread
 * (workers parse the "spec" of an `add` request with brm_spec_parse). It
 * does not resolve users, groups or binaries: those may appear after the
 * config was written, so the supervisor resolves them at each start.
 */
#ifndef BRM_CONF_SPEC_H
#define BRM_CONF_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/conf/rlimits.h"

struct cJSON;
struct brm_log_spec;
struct brm_orch_spec;
struct brm_report;

enum brm_restart {
	BRM_RESTART_ON_FAILURE = 0,  /* default: restart after a non-zero exit or a signal */
	BRM_RESTART_ALWAYS,
	BRM_RESTART_NEVER,
};
const char *brm_restart_name(enum brm_restart r);

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
	struct brm_log_spec *log; /* sup/logcap.c: log_* keys and error_patterns, or NULL */
	bool orphan_keep;         /* "orphan": "keep": no parent-death signal, the
	                             process outlives a brummd that dies (default
	                             "kill"); an orderly shutdown still stops it */
	struct brm_orch_spec *orch; /* orchspec.c: depends_on, health, ready,
	                             notify_fd; NULL when none is set */
	char **env_file;          /* NULL-terminated absolute paths, each maybe
	                             with a leading '-' (a missing file is fine);
	                             read at each start (daemon/sup/envfile.h); NULL: none */
	struct brm_rlimit_spec rlimits[BRM_RLIMIT_COUNT];
	bool nice_set;
	int nice;                 /* -20..19, with nice_set */
	bool oom_score_adj_set;
	int oom_score_adj;        /* -1000..1000, with oom_score_adj_set */
	long port;                /* "port" (+ the instance number); 0: none */
	bool critical;            /* default false: its end for good ends brummd
	                             (daemon/sup/critical.h) */
};

/*
 * Parse one process spec (the value of processes.NAME, or an `add` request's
 * "spec") named @name. @path prefixes key paths in messages ("processes.web",
 * or "params.spec"). Also validates @name (proto.h: brm_name_valid).
 * Returns the spec, or NULL and *@err (lines as brm_config_parse's in
 * config.h, without SOURCE).
 * Ownership: caller frees with brm_spec_destroy() / free().
 */
struct brm_proc_spec *brm_spec_parse(const struct cJSON *obj, const char *name,
				     const char *path, char **err);

/* Defaults for @name, argv NULL. Ownership: caller, brm_spec_destroy(). */
struct brm_proc_spec *brm_spec_new(const char *name);
struct brm_proc_spec *brm_spec_dup(const struct brm_proc_spec *s);
void brm_spec_destroy(struct brm_proc_spec *s);

/* ---- for conf/'s parsers (config.c) ---- */

/*
 * The spec in @orig named @name, problems reported into @r under @base
 * (diag.h); NULL after reporting that @orig is not an object. @instance is
 * the instance number, or -1 for a process without "instances". A spec is
 * returned even when problems were reported: the caller compares r->n
 * before and after. Ownership: caller, brm_spec_destroy().
 */
struct brm_proc_spec *brm_spec_read(struct brm_report *r, const struct cJSON *orig,
				    const char *name, const char *base, long instance);

/* "port" of @obj (the first port of a process or its instances), or 0. */
long brm_spec_port(struct brm_report *r, const char *base, const struct cJSON *obj);

/* One of the log keys into *@ls (created if NULL); logspec.c checks it. */
void brm_log_key(struct brm_report *r, const char *path, const char *k,
		 const struct cJSON *v, struct brm_log_spec **ls);

#endif
