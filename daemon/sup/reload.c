/*
 * reload.c — start-up and reload of the desired set of processes
 * (reload.h), and the hook that keeps the persisted state current.
 *
 * Which processes belong to the config: the names the last applied config
 * defined (rl->names). A process added at runtime belongs to the state
 * file. When the config comes to define a name that was added at runtime,
 * the config wins: the runtime spec is forgotten and the config's applies.
 *
 * A process the config defines again while an earlier removal is still
 * stopping it (reload without it, then reload with it, within its
 * stop_timeout) is counted as added, like any name the previous config did
 * not have: the removal completes (whoever waits for it is answered), and
 * the observer adds the new spec and starts it the moment the old record is
 * gone (struct readd).
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/sup/critical.h"
#include "daemon/sup/deps.h"
#include "daemon/log.h"
#include "daemon/conf/logspec.h"
#include "daemon/notify.h"
#include "daemon/conf/orchspec.h"
#include "daemon/sup/reload.h"
#include "lib/util.h"
#include "proto/proto.h"
#include "proto/rpc.h"

/* A spec waiting for the removal of the process of the same name. */
struct readd {
	struct brm_proc_spec *spec;
	uint64_t gen;
	struct readd *next;
};

struct brm_reload {
	struct brm_supervisor *sup;
	struct brm_control *ctl;
	struct brm_service *svc;
	struct brm_persist *state;
	char *config_path;
	char **names;          /* defined by the config last applied */
	char *socket;          /* as started: changes need a restart */
	char *state_dir;
	int workers;
	struct brm_log_spec *log;  /* top-level log defaults, as started */
	int socket_mode;           /* access settings, as started: the server */
	char *socket_group;        /* and its workers hold them until a restart */
	char *metrics_host;        /* metrics_listen, as started: its thread and */
	int metrics_port;          /* socket stay until a restart */
	struct brm_access_spec access;
	struct brm_limits limits;
	struct readd *readds;      /* specs to add once their name is free */
	bool shutting_down;
};

/* ---- comparing specs ---------------------------------------------------- */

static bool rlimits_equal(const struct brm_proc_spec *a, const struct brm_proc_spec *b)
{
	for (int k = 0; k < BRM_RLIMIT_COUNT; k++) {
		const struct brm_rlimit_spec *x = &a->rlimits[k], *y = &b->rlimits[k];

		if (x->set != y->set || (x->set && (x->soft != y->soft || x->hard != y->hard)))
			return false;
	}
	return true;
}

enum brm_spec_change brm_spec_diff(const struct brm_proc_spec *a,
				   const struct brm_proc_spec *b, const char **field)
{
	const char *f = NULL;

#define RESTART_IF(cond, name) do { if (cond) { f = name; goto restart; } } while (0)
	RESTART_IF(!brm_strv_equal(a->argv, b->argv), "cmd");
	RESTART_IF(a->shell != b->shell, "shell");
	RESTART_IF(!brm_streq(a->cwd, b->cwd), "cwd");
	RESTART_IF(!brm_strv_equal(a->env, b->env), "env");
	RESTART_IF(!brm_streq(a->user, b->user), "user");
	RESTART_IF(!brm_streq(a->group, b->group), "group");
	RESTART_IF(a->umask != b->umask, "umask");
	RESTART_IF(a->orphan_keep != b->orphan_keep, "orphan");
	RESTART_IF(!brm_orch_ready_equal(a->orch, b->orch), "ready");
	RESTART_IF(!brm_strv_equal(a->env_file, b->env_file), "env_file");
	RESTART_IF(!rlimits_equal(a, b), "rlimits");
	RESTART_IF(a->nice_set != b->nice_set || a->nice != b->nice, "nice");
	RESTART_IF(a->oom_score_adj_set != b->oom_score_adj_set ||
		   a->oom_score_adj != b->oom_score_adj, "oom_score_adj");
#undef RESTART_IF
	if (a->autostart != b->autostart) f = "autostart";
	else if (a->type != b->type) f = "type";
	else if (a->restart != b->restart) f = "restart";
	else if (a->start_secs != b->start_secs) f = "start_secs";
	else if (a->start_retries != b->start_retries) f = "start_retries";
	else if (a->backoff_secs != b->backoff_secs) f = "backoff_secs";
	else if (a->backoff_max_secs != b->backoff_max_secs) f = "backoff_max_secs";
	else if (a->min_uptime_secs != b->min_uptime_secs) f = "min_uptime_secs";
	else if (a->stop_signal != b->stop_signal) f = "stop_signal";
	else if (a->stop_timeout_secs != b->stop_timeout_secs) f = "stop_timeout_secs";
	else if (a->critical != b->critical) f = "critical";
	else if (!brm_orch_deps_equal(a->orch, b->orch)) f = "depends_on";
	else if (!brm_health_spec_equal(a->orch ? a->orch->health : NULL,
					b->orch ? b->orch->health : NULL)) f = "health";
	if (field)
		*field = f;
	return f ? BRM_SPEC_LIVE : BRM_SPEC_SAME;
restart:
	if (field)
		*field = f;
	return BRM_SPEC_RESTART;
}

/* ---- the persisted state ------------------------------------------------ */

static void unstop_one(struct brm_proc *q, void *arg)
{
	struct brm_reload *rl = arg;

	brm_persist_set_stopped(rl->state, brm_proc_name(q), false);
}

/*
 * A request that sets desired state replies only once that state is on
 * disk, even when it was already so in memory: the earlier change that made
 * it so may still be on its way to the disk.
 */
static void on_applied(void *arg, struct brm_cmd *cmd, struct brm_proc *p)
{
	struct brm_reload *rl = arg;
	const char *name = brm_proc_name(p);

	switch (cmd->op->intent) {
	case BRM_INTENT_RUN:
		/* Neither it nor what its start starts on its behalf is stopped
		 * by request any more (as control.c released them). */
		brm_deps_each_needed(rl->sup, p, unstop_one, rl);
		break;
	case BRM_INTENT_STOP:
		brm_persist_set_stopped(rl->state, name, true);
		break;
	case BRM_INTENT_ADD:
		brm_persist_set_stopped(rl->state, name, false);
		brm_persist_set_added(rl->state, name, cmd->spec_json ? cmd->spec_json : "{}");
		break;
	case BRM_INTENT_FORGET:
		brm_persist_forget(rl->state, name);
		break;
	case BRM_INTENT_NONE:
		return;
	}
	brm_persist_hold_reply(rl->state, cmd);
}

/* ---- start-up ----------------------------------------------------------- */

static bool in_strv(char *const *v, const char *s)
{
	for (size_t i = 0; v && v[i]; i++)
		if (!strcmp(v[i], s))
			return true;
	return false;
}

static char **config_names(const struct brm_config *cfg)
{
	char **v = brm_xcalloc(cfg->nprocs + 1, sizeof(*v));

	for (size_t i = 0; i < cfg->nprocs; i++)
		v[i] = brm_xstrdup(cfg->procs[i]->name);
	return v;
}

/*
 * Processes added together (start-up, a reload) are all added before any
 * is started: a start must find every dependency it names, whatever the
 * order of the names.
 */
struct added {
	struct brm_proc **v;
	size_t n, cap;
};

/* Start those of @a with autostart that were not stopped by request. */
static void start_added(struct added *a)
{
	for (size_t i = 0; i < a->n; i++) {
		struct brm_proc *p = a->v[i];

		if (!brm_proc_spec(p)->autostart)
			continue;
		if (brm_proc_held(p))
			brm_log_info("%s: stopped by request before; not starting it",
				     brm_proc_name(p));
		else
			brm_proc_start(p);
	}
	free(a->v);
	a->v = NULL;
	a->n = a->cap = 0;
}

/* Add @spec (taken), stopped by request when the state says so; the
 * process joins @to (NULL: started at once when autostart). */
static void add_one(struct brm_reload *rl, struct brm_proc_spec *spec, uint64_t gen,
		    struct added *to)
{
	char *name = brm_xstrdup(spec->name);
	struct brm_proc *p;
	struct added one = { NULL, 0, 0 };
	int r = brm_supervisor_add(rl->sup, spec, gen, &p);

	if (r < 0) {
		brm_log_error("%s: cannot add: %s", name, strerror(-r));
		free(name);
		return;
	}
	free(name);
	brm_proc_set_held(p, brm_persist_stopped(rl->state, brm_proc_name(p)));
	if (!to)
		to = &one;
	if (to->n == to->cap) {
		to->cap = to->cap ? 2 * to->cap : 16;
		to->v = brm_xrealloc(to->v, to->cap * sizeof(*to->v));
	}
	to->v[to->n++] = p;
	if (to == &one)
		start_added(&one);
}

void brm_reload_startup(struct brm_reload *rl, struct brm_config *cfg)
{
	uint64_t gen = brm_control_next_generation(rl->ctl);
	struct added all = { NULL, 0, 0 };
	char **added;

	for (size_t i = 0; i < cfg->nprocs; i++) {
		struct brm_proc_spec *spec = cfg->procs[i];

		cfg->procs[i] = NULL;
		if (brm_persist_added(rl->state, spec->name)) {
			brm_log_warn("%s: the config defines it now; the spec it was added with"
				     " at runtime is dropped", spec->name);
			brm_persist_set_added(rl->state, spec->name, NULL);
		}
		add_one(rl, spec, gen, &all);
	}
	cfg->nprocs = 0;

	added = brm_persist_added_names(rl->state);
	for (size_t i = 0; added[i]; i++) {
		const char *name = added[i];
		cJSON *obj = cJSON_Parse(brm_persist_added(rl->state, name));
		struct brm_proc_spec *spec = NULL;
		char *err = NULL;

		if (obj)
			spec = brm_spec_parse(obj, name, "added", &err);
		cJSON_Delete(obj);
		if (!spec) {
			brm_log_error("%s: state file '%s': cannot use the spec it was added with"
				      " (%s); forgetting it", name, brm_persist_path(rl->state),
				      err ? err : "not JSON");
			free(err);
			brm_persist_forget(rl->state, name);
			continue;
		}
		brm_log_info("%s: added at runtime before the restart; adding it again", name);
		add_one(rl, spec, gen, &all);
	}
	brm_strv_free(added);
	start_added(&all);
}

/* ---- reload ------------------------------------------------------------- */

struct lists {
	struct brm_buf added, removed, restarted, updated, unchanged, not_applied;
};

static void list_add(struct brm_buf *b, const char *name)
{
	if (b->len)
		brm_buf_addc(b, ',');
	brm_json_str(b, name);
}

static struct readd **readd_find(struct brm_reload *rl, const char *name)
{
	struct readd **pp = &rl->readds;

	while (*pp && strcmp((*pp)->spec->name, name))
		pp = &(*pp)->next;
	return pp;
}

static void readd_drop(struct readd **pp)
{
	struct readd *ra = *pp;

	if (!ra)
		return;
	*pp = ra->next;
	brm_spec_destroy(ra->spec);
	free(ra);
}

/*
 * @spec (taken) for a name whose process is still being removed: added
 * once it is gone. Lists the name as added, or, when an earlier reload
 * queued it already, as unchanged or updated against that spec.
 */
static void readd_queue(struct brm_reload *rl, struct brm_proc_spec *spec, uint64_t gen,
			struct lists *l)
{
	struct readd **pp = readd_find(rl, spec->name), *ra = *pp;

	if (!ra) {
		list_add(&l->added, spec->name);
		brm_log_info("%s: added by reload; starts once its removal has completed",
			     spec->name);
		ra = brm_xcalloc(1, sizeof(*ra));
		ra->next = rl->readds;
		rl->readds = ra;
	} else if (brm_spec_diff(ra->spec, spec, NULL) == BRM_SPEC_SAME &&
		   brm_log_spec_equal(ra->spec->log, spec->log)) {
		list_add(&l->unchanged, spec->name);
		brm_spec_destroy(spec);
		return;
	} else {
		list_add(&l->updated, spec->name);
		brm_spec_destroy(ra->spec);
	}
	ra->spec = spec;
	ra->gen = gen;
}

/* Context: loop thread (the supervisor's observer). */
static void observe(void *arg, struct brm_proc *p, enum brm_proc_event ev)
{
	struct brm_reload *rl = arg;
	struct readd **pp, *ra;

	if (ev != BRM_EV_REMOVED || !rl->readds)
		return;
	pp = readd_find(rl, brm_proc_name(p));
	ra = *pp;
	if (!ra)
		return;
	*pp = ra->next;
	brm_log_info("%s: removed; adding it again as the config defines it", ra->spec->name);
	add_one(rl, ra->spec, ra->gen, NULL);
	free(ra);
}

static bool limits_equal(const struct brm_limits *a, const struct brm_limits *b)
{
	return a->max_message_bytes == b->max_message_bytes &&
	       a->max_json_depth == b->max_json_depth && a->max_clients == b->max_clients &&
	       a->max_clients_per_uid == b->max_clients_per_uid &&
	       a->max_queued_bytes == b->max_queued_bytes &&
	       a->idle_timeout_secs == b->idle_timeout_secs &&
	       a->max_processes == b->max_processes && a->max_name_len == b->max_name_len;
}

static void apply(struct brm_reload *rl, struct brm_config *cfg, struct lists *l)
{
	uint64_t gen = brm_control_next_generation(rl->ctl);
	char **names = config_names(cfg);
	struct added fresh = { NULL, 0, 0 };

	/* In the order of the keys' names, as every list of the reply. */
	if (!brm_strv_equal(cfg->access.users, rl->access.users) ||
	    !brm_strv_equal(cfg->access.groups, rl->access.groups) ||
	    !brm_strv_equal(cfg->access.reader_users, rl->access.reader_users) ||
	    !brm_strv_equal(cfg->access.reader_groups, rl->access.reader_groups))
		list_add(&l->not_applied, "access");
	if (!limits_equal(&cfg->limits, &rl->limits))
		list_add(&l->not_applied, "limits");
	/* Captures are built when a process is added; their settings don't
	 * change under a running ring or file yet. */
	if (!brm_log_spec_equal(cfg->log, rl->log))
		list_add(&l->not_applied, "log_*");
	if (!brm_streq(cfg->metrics_host, rl->metrics_host) ||
	    cfg->metrics_port != rl->metrics_port)
		list_add(&l->not_applied, "metrics_listen");
	if (!brm_streq(cfg->socket, rl->socket))
		list_add(&l->not_applied, "socket");
	if (!brm_streq(cfg->socket_group, rl->socket_group))
		list_add(&l->not_applied, "socket_group");
	if (cfg->socket_mode != rl->socket_mode)
		list_add(&l->not_applied, "socket_mode");
	if (!brm_streq(cfg->state_dir, rl->state_dir))
		list_add(&l->not_applied, "state_dir");
	if (cfg->workers != rl->workers)
		list_add(&l->not_applied, "workers");
	brm_critical_set_exit_with(cfg->exit_with);

	for (size_t i = 0; i < cfg->nprocs; i++) {
		struct brm_proc_spec *spec = cfg->procs[i];
		struct brm_proc *p = brm_supervisor_find(rl->sup, spec->name);
		const char *field = NULL;
		enum brm_state st;

		cfg->procs[i] = NULL;
		if (brm_persist_added(rl->state, spec->name)) {
			brm_log_info("%s: now defined by the config", spec->name);
			brm_persist_set_added(rl->state, spec->name, NULL);
		}
		if (!p) {
			list_add(&l->added, spec->name);
			brm_log_info("%s: added by reload", spec->name);
			add_one(rl, spec, gen, &fresh);
			continue;
		}
		if (brm_proc_removing(p)) {
			readd_queue(rl, spec, gen, l);
			continue;
		}
		if (!brm_log_spec_equal(brm_proc_spec(p)->log, spec->log)) {
			char *what = brm_xasprintf("processes.%s.log_*", spec->name);
			list_add(&l->not_applied, what);
			free(what);
			brm_log_warn("%s: log settings changed; they apply once the process is"
				     " removed and added again", spec->name);
			/* The spec keeps describing the capture that runs. */
			brm_log_spec_destroy(spec->log);
			spec->log = brm_log_spec_dup(brm_proc_spec(p)->log);
		}
		switch (brm_spec_diff(brm_proc_spec(p), spec, &field)) {
		case BRM_SPEC_SAME:
			list_add(&l->unchanged, spec->name);
			brm_spec_destroy(spec);
			break;
		case BRM_SPEC_LIVE:
			list_add(&l->updated, spec->name);
			brm_log_info("%s: %s changed; applied live", spec->name, field);
			brm_proc_update_spec(p, spec, gen);
			break;
		case BRM_SPEC_RESTART:
			st = brm_proc_state(p);
			brm_proc_update_spec(p, spec, gen);
			if (st == BRM_STARTING || st == BRM_RUNNING) {
				list_add(&l->restarted, brm_proc_name(p));
				char *why = brm_xasprintf("reload: %s changed", field);

				brm_log_info("%s: %s changed; restarting", brm_proc_name(p), field);
				brm_proc_restart_because(p, why);
				free(why);
			} else {
				list_add(&l->updated, brm_proc_name(p));
				brm_log_info("%s: %s changed; applies at its next start",
					     brm_proc_name(p), field);
			}
			break;
		}
	}
	cfg->nprocs = 0;
	start_added(&fresh);

	for (size_t i = 0; rl->names && rl->names[i]; i++) {
		const char *name = rl->names[i];
		struct brm_proc *p;

		if (in_strv(names, name) || brm_persist_added(rl->state, name))
			continue;
		p = brm_supervisor_find(rl->sup, name);
		if (!p)
			continue;
		list_add(&l->removed, name);
		readd_drop(readd_find(rl, name));
		brm_log_info("%s: no longer in the config; stopping and removing it", name);
		brm_persist_forget(rl->state, name);
		brm_proc_remove(p);
	}
	brm_strv_free(rl->names);
	rl->names = names;
}

static void lists_finish(struct lists *l)
{
	brm_buf_finish(&l->added);
	brm_buf_finish(&l->removed);
	brm_buf_finish(&l->restarted);
	brm_buf_finish(&l->updated);
	brm_buf_finish(&l->unchanged);
	brm_buf_finish(&l->not_applied);
}

/*
 * Reload. Returns 0 with the result object in @out, or -errno with the
 * problems in *@err (one per line; caller frees).
 */
static int reload(struct brm_reload *rl, struct brm_buf *out, char **err)
{
	struct brm_config *cfg = NULL;
	struct lists l;
	int r;

	*err = NULL;
	if (rl->shutting_down) {
		*err = brm_xstrdup("brummd is shutting down");
		return -ESHUTDOWN;
	}
	if (rl->config_path) {
		r = brm_config_load(rl->config_path, &cfg, err);
		if (r < 0)
			return r;
	} else {
		cfg = brm_config_default();
	}
	memset(&l, 0, sizeof(l));
	brm_buf_init(&l.added);
	brm_buf_init(&l.removed);
	brm_buf_init(&l.restarted);
	brm_buf_init(&l.updated);
	brm_buf_init(&l.unchanged);
	brm_buf_init(&l.not_applied);
	apply(rl, cfg, &l);
	brm_buf_adds(out, "{\"config\":");
	brm_json_str(out, cfg->source);
	brm_buf_addf(out, ",\"added\":[%s],\"removed\":[%s],\"restarted\":[%s],"
		     "\"updated\":[%s],\"unchanged\":[%s],\"not_applied\":[%s]}",
		     l.added.len ? l.added.p : "", l.removed.len ? l.removed.p : "",
		     l.restarted.len ? l.restarted.p : "", l.updated.len ? l.updated.p : "",
		     l.unchanged.len ? l.unchanged.p : "", l.not_applied.len ? l.not_applied.p : "");
	if (l.not_applied.len)
		brm_log_warn("reload: changes to %s need a restart of brummd; not applied",
			     l.not_applied.p);
	lists_finish(&l);
	brm_config_destroy(cfg);
	return 0;
}

static void on_reload_cmd(void *arg, struct brm_cmd *cmd)
{
	struct brm_reload *rl = arg;
	struct brm_buf res = BRM_BUF_INIT;
	char *err = NULL;
	uint64_t gen = brm_persist_generation(rl->state);
	int r;

	brm_log_info("reload requested over the socket");
	brm_service_reloading(rl->svc);
	r = reload(rl, &res, &err);
	/* A reload that changed the persisted state (a runtime-added process
	 * the config now defines, or removes) replies once that is on disk. */
	if (brm_persist_generation(rl->state) != gen)
		brm_persist_hold_reply(rl->state, cmd);
	if (r < 0) {
		struct brm_buf data = BRM_BUF_INIT, msg = BRM_BUF_INIT;
		char *line, *save = NULL;

		brm_log_error("reload rejected; nothing changed:\n%s", err);
		brm_buf_adds(&data, "{\"errors\":[");
		for (line = strtok_r(err, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			list_add(&msg, line);   /* reuse: a JSON list of the lines */
		}
		brm_buf_adds(&data, msg.len ? msg.p : "");
		brm_buf_adds(&data, "]}");
		brm_rpc_error(&cmd->reply, cmd->id_json,
			      r == -ESHUTDOWN ? BRM_E_CONFLICT : BRM_E_CONFIG,
			      r == -ESHUTDOWN ? "brummd is shutting down"
					      : "the new configuration is invalid; nothing changed",
			      data.p);
		brm_buf_finish(&data);
		brm_buf_finish(&msg);
	} else {
		brm_log_info("reload: %s", res.p);
		brm_rpc_result(&cmd->reply, cmd->id_json, res.p, res.len);
	}
	brm_service_ready(rl->svc);
	free(err);
	brm_buf_finish(&res);
	cmd->done(cmd);
}

void brm_reload_signal(struct brm_reload *rl)
{
	struct brm_buf res = BRM_BUF_INIT;
	char *err = NULL;

	brm_log_info("SIGHUP: reloading %s", rl->config_path ? rl->config_path : "<default>");
	brm_service_reloading(rl->svc);
	if (reload(rl, &res, &err) < 0)
		brm_log_error("reload rejected; nothing changed:\n%s", err);
	else
		brm_log_info("reload: %s", res.p);
	brm_service_ready(rl->svc);
	free(err);
	brm_buf_finish(&res);
}

/* ---- lifetime ----------------------------------------------------------- */

struct brm_reload *brm_reload_create(struct brm_supervisor *sup, struct brm_control *ctl,
				     struct brm_service *svc, struct brm_persist *state,
				     const char *config_path, const struct brm_config *cfg)
{
	struct brm_reload *rl = brm_xcalloc(1, sizeof(*rl));
	struct brm_control_hooks hooks = { on_applied, on_reload_cmd, rl };

	rl->sup = sup;
	rl->ctl = ctl;
	rl->svc = svc;
	rl->state = state;
	rl->config_path = config_path ? brm_xstrdup(config_path) : NULL;
	rl->names = config_names(cfg);
	rl->socket = cfg->socket ? brm_xstrdup(cfg->socket) : NULL;
	rl->state_dir = cfg->state_dir ? brm_xstrdup(cfg->state_dir) : NULL;
	rl->log = brm_log_spec_dup(cfg->log);
	rl->socket_mode = cfg->socket_mode;
	rl->socket_group = cfg->socket_group ? brm_xstrdup(cfg->socket_group) : NULL;
	rl->metrics_host = cfg->metrics_host ? brm_xstrdup(cfg->metrics_host) : NULL;
	rl->metrics_port = cfg->metrics_port;
	rl->access.users = brm_strv_dup(cfg->access.users);
	rl->access.groups = brm_strv_dup(cfg->access.groups);
	rl->access.reader_users = brm_strv_dup(cfg->access.reader_users);
	rl->access.reader_groups = brm_strv_dup(cfg->access.reader_groups);
	rl->limits = cfg->limits;
	rl->workers = cfg->workers;
	brm_control_set_hooks(ctl, &hooks);
	if (brm_supervisor_add_observer(sup, observe, rl) < 0)
		brm_log_error("reload: no observer slot left");
	return rl;
}

void brm_reload_shutdown(struct brm_reload *rl)
{
	rl->shutting_down = true;
	brm_supervisor_remove_observer(rl->sup, observe, rl);
	while (rl->readds)
		readd_drop(&rl->readds);
}

void brm_reload_destroy(struct brm_reload *rl)
{
	if (!rl)
		return;
	while (rl->readds)
		readd_drop(&rl->readds);
	brm_strv_free(rl->names);
	free(rl->config_path);
	free(rl->socket);
	free(rl->state_dir);
	brm_log_spec_destroy(rl->log);
	free(rl->socket_group);
	free(rl->metrics_host);
	brm_strv_free(rl->access.users);
	brm_strv_free(rl->access.groups);
	brm_strv_free(rl->access.reader_users);
	brm_strv_free(rl->access.reader_groups);
	free(rl);
}
