/*
 * orchspec.h — the orchestration keys of a process spec: start-order
 * dependencies, health checks and readiness.
 *
 *   depends_on   {"db": "healthy", "migrate": "completed"} (conditions:
 *                started, running, healthy, completed), or ["db", ...]
 *                meaning "running" for each
 *   health       {"exec": [ARGV...]} | {"tcp": "HOST:PORT"} |
 *                {"http": "http://HOST:PORT/PATH"} | {"log": "REGEX"},
 *                plus interval_secs (5), timeout_secs (2), retries (3),
 *                start_period_secs (0), on_unhealthy ("ignore" | "restart")
 *   ready        "start_secs" (default) | "notify-fd" | "sd-notify" | "health"
 *   notify_fd    the descriptor number the child writes its newline to
 *                (3..255, default 3; with "ready": "notify-fd")
 *
 * HOST is a literal IPv4 or IPv6 address (IPv6 in brackets) or
 * "localhost": probes never block on name resolution.
 *
 * Context: any thread (pure parsing), except where noted.
 */
#ifndef BRM_ORCHSPEC_H
#define BRM_ORCHSPEC_H

#include <stdbool.h>
#include <stddef.h>

struct cJSON;

#define BRM_ORCH_KEYS "depends_on", "health", "ready", "notify_fd"

enum brm_dep_cond {
	BRM_DEP_STARTED,    /* it has been spawned (starting or running) */
	BRM_DEP_RUNNING,    /* running: past start_secs, or ready */
	BRM_DEP_HEALTHY,    /* its health check passed */
	BRM_DEP_COMPLETED,  /* it exited with code 0 */
};
const char *brm_dep_cond_name(enum brm_dep_cond c);

struct brm_dep {
	char *name;
	enum brm_dep_cond cond;
};

enum brm_health_kind {
	BRM_HEALTH_EXEC,
	BRM_HEALTH_TCP,
	BRM_HEALTH_HTTP,
	BRM_HEALTH_LOG,
};

struct brm_health_spec {
	enum brm_health_kind kind;
	char **exec;              /* EXEC: argv */
	char *host;               /* TCP, HTTP: literal address ("localhost" -> 127.0.0.1) */
	int port;
	char *path;               /* HTTP: request target, "/" by default */
	char *regex;              /* LOG: POSIX extended regex */
	double interval_secs;
	double timeout_secs;
	double start_period_secs;
	unsigned retries;         /* consecutive failures before unhealthy */
	bool restart_on_unhealthy;
};

enum brm_ready {
	BRM_READY_START_SECS = 0,
	BRM_READY_NOTIFY_FD,
	BRM_READY_SD_NOTIFY,
	BRM_READY_HEALTH,
};

struct brm_orch_spec {
	struct brm_dep *deps;
	size_t ndeps;
	struct brm_health_spec *health;  /* NULL: no check */
	enum brm_ready ready;
	int notify_fd;                   /* default 3 */
};

bool brm_orch_key(const char *key);
struct brm_orch_spec *brm_orch_spec_new(void);
struct brm_orch_spec *brm_orch_spec_dup(const struct brm_orch_spec *s);  /* NULL -> NULL */
void brm_orch_spec_destroy(struct brm_orch_spec *s);
/* Set @key from @v. Returns 0, or -EINVAL and *@why (caller frees; one
 * line per problem, joined by '\n'). */
int brm_orch_spec_set(struct brm_orch_spec *s, const char *key, const struct cJSON *v,
		      char **why);
/* Cross-key checks once every key is set (ready "health" needs a check). */
int brm_orch_spec_finish(struct brm_orch_spec *s, char **why);

struct brm_health_spec *brm_health_spec_dup(const struct brm_health_spec *h);
void brm_health_spec_destroy(struct brm_health_spec *h);
bool brm_health_spec_equal(const struct brm_health_spec *a, const struct brm_health_spec *b);
bool brm_orch_deps_equal(const struct brm_orch_spec *a, const struct brm_orch_spec *b);
/* Same ready / notify_fd (NULL equals the defaults). */
bool brm_orch_ready_equal(const struct brm_orch_spec *a, const struct brm_orch_spec *b);

#endif
