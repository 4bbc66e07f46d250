/*
 * control.c — mutating requests on the loop thread.
 *
 * A request is applied at once; what may take time is the answer. Without
 * "wait" the reply is written straight away with the targets' snapshots
 * (starting, stopping, ...). With "wait", and for every `remove`, the
 * answer is waiter.c's: it is sent once the targets reached the goal.
 *
 * Several targets of `stop` (or --all) go down in reverse dependency
 * order; a `restart` of several is a struct restartset: all of them are
 * stopped that way first, then all are started (their dependencies order
 * the spawns). Its waiter, if any, judges nothing before the second phase.
 *
 * Operator intent: `stop` marks its targets stopped by request
 * (brm_proc_held); `start` and `restart` clear that for their targets and
 * everything those need, which their start may start on their behalf.
 *
 * Context: loop thread only (control.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/conf/config.h"
#include "daemon/sup/control.h"
#include "daemon/sup/control_int.h"
#include "daemon/sup/deps.h"
#include "daemon/log.h"
#include "daemon/rpc/targets.h"
#include "lib/snapjson.h"
#include "proto/proto.h"
#include "proto/rpc.h"

#define DEFAULT_WAIT_SECS 60.0

/* ---- replies ------------------------------------------------------------ */

void brm_control_snapshots_json(struct brm_buf *b, struct brm_proc **procs, size_t n)
{
	int64_t now = brm_now_wall_ms();
	bool first = true;

	brm_buf_adds(b, "{\"processes\":[");
	for (size_t i = 0; i < n; i++) {
		const struct brm_snapshot *s = procs[i] ? brm_proc_snapshot(procs[i]) : NULL;
		if (!s)
			continue;
		if (!first)
			brm_buf_addc(b, ',');
		first = false;
		brm_snapshot_json(b, s, now);
	}
	brm_buf_adds(b, "]}");
}

void brm_control_reply_snapshots(struct brm_cmd *cmd, struct brm_proc **procs, size_t n)
{
	struct brm_buf b = BRM_BUF_INIT;

	brm_control_snapshots_json(&b, procs, n);
	brm_rpc_result(&cmd->reply, cmd->id_json, b.p, b.len);
	brm_buf_finish(&b);
}

void brm_control_reply_one(struct brm_cmd *cmd, const struct brm_snapshot *s)
{
	struct brm_buf b = BRM_BUF_INIT;

	brm_snapshot_json(&b, s, brm_now_wall_ms());
	brm_rpc_result(&cmd->reply, cmd->id_json, b.p, b.len);
	brm_buf_finish(&b);
}

void brm_control_reply_error(struct brm_cmd *cmd, int code, const char *msg,
			     struct brm_proc **procs, size_t n)
{
	struct brm_buf data = BRM_BUF_INIT;

	if (procs)
		brm_control_snapshots_json(&data, procs, n);
	brm_rpc_error(&cmd->reply, cmd->id_json, code, msg, procs ? data.p : NULL);
	brm_buf_finish(&data);
}

static void reply_errorf(struct brm_cmd *cmd, int code, const char *fmt, ...)
	BRM_PRINTF(3, 4);
static void reply_errorf(struct brm_cmd *cmd, int code, const char *fmt, ...)
{
	struct brm_buf msg = BRM_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	brm_buf_vaddf(&msg, fmt, ap);
	va_end(ap);
	brm_control_reply_error(cmd, code, msg.p, NULL, 0);
	brm_buf_finish(&msg);
}

/* ---- restart of several --------------------------------------------------- */

static bool going_down(const struct brm_proc *p)
{
	return brm_proc_stop_pending(p) || brm_proc_state(p) == BRM_STOPPING;
}

static void restartset_free(struct restartset *rs)
{
	if (rs->w)
		brm_waiter_set_restartset(rs->w, NULL);
	free(rs->procs);
	free(rs);
}

/*
 * The second phase: every member is down; start them all, one-shots first:
 * a completed one runs again (brm_proc_restart), and the members started
 * after it wait for that run, not the last one.
 */
static void restartset_start(struct restartset *rs)
{
	struct waiter *w = rs->w;

	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < rs->n; i++) {
			struct brm_proc *q = rs->procs[i];
			enum brm_state st;

			if (!q || brm_proc_is_oneshot(q) != (pass == 0))
				continue;
			st = brm_proc_state(q);
			brm_log_info("%s: restart: starting", brm_proc_name(q));
			/* Up again already (started by someone meanwhile): leave it. */
			if (st == BRM_STARTING || st == BRM_RUNNING || st == BRM_STOPPING)
				brm_proc_start(q);
			else
				brm_proc_restart(q);
		}
	}
	restartset_free(rs);
	if (w)
		brm_waiter_check(w);
}

/* After every change: a set whose members are all down goes on to start them. */
static void observe_sets(struct brm_control *ctl, struct brm_proc *p, enum brm_proc_event ev)
{
	struct restartset **pp = &ctl->sets, *done = NULL;

	while (*pp) {
		struct restartset *rs = *pp;
		bool down = true;

		for (size_t i = 0; i < rs->n; i++) {
			if (rs->procs[i] == p && ev == BRM_EV_REMOVED)
				rs->procs[i] = NULL;
			if (rs->procs[i] && going_down(rs->procs[i]))
				down = false;
		}
		if (!down) {
			pp = &rs->next;
			continue;
		}
		*pp = rs->next;   /* out of the list before starting re-enters */
		rs->next = done;
		done = rs;
	}
	while (done) {
		struct restartset *rs = done;

		done = rs->next;
		restartset_start(rs);
	}
}

static void observe(void *arg, struct brm_proc *p, enum brm_proc_event ev)
{
	struct brm_control *ctl = arg;

	if (ctl->nlinks)
		brm_waiter_observe(ctl, p, ev);
	if (ctl->sets)
		observe_sets(ctl, p, ev);
}

/* ---- executing requests ------------------------------------------------- */

/* ---- the supervisor as a source of targets (targets.h) -------------------- */

static void *sup_find(void *ctx, const char *name)
{
	return brm_supervisor_find(ctx, name);
}

struct sup_walk {
	void (*fn)(void *item, void *arg);
	void *arg;
};

static void sup_walk_one(struct brm_proc *p, void *arg)
{
	struct sup_walk *w = arg;

	w->fn(p, w->arg);
}

static void sup_each(void *ctx, void (*fn)(void *item, void *arg), void *arg)
{
	struct sup_walk w = { fn, arg };

	brm_supervisor_each(ctx, sup_walk_one, &w);
}

static const char *sup_name(const void *item)
{
	return brm_proc_name(item);
}

/*
 * Resolve the command's targets (names, groups, patterns or all:
 * targets.h). Returns the array (caller frees) and its length, or NULL
 * after writing an error reply.
 */
static struct brm_proc **resolve(struct brm_control *ctl, struct brm_cmd *cmd, size_t *n)
{
	struct brm_target_src src = { sup_find, sup_each, sup_name, ctl->sup };
	struct brm_targets t = { cmd->all, brm_strv_len(cmd->names), cmd->names };
	struct brm_buf err = BRM_BUF_INIT;
	void **items;

	if (brm_targets_resolve(&t, &src, &items, n, &err) < 0) {
		brm_control_reply_error(cmd, BRM_E_NO_PROCESS, err.p, NULL, 0);
		brm_buf_finish(&err);
		return NULL;
	}
	brm_buf_finish(&err);
	return (struct brm_proc **)items;
}

static const char *errno_text(int r)
{
	switch (r) {
	case -ESHUTDOWN: return "brummd is shutting down";
	case -EBUSY: return "it is being removed";
	case -ESRCH: return "it is not running";
	default: return strerror(-r);
	}
}

static void release_one(struct brm_proc *q, void *arg)
{
	(void)arg;
	brm_proc_set_held(q, false);
}

/* An operator's start or restart of @p: it, and what it needs, may start. */
static void operator_start(struct brm_control *ctl, struct brm_proc *p)
{
	brm_deps_each_needed(ctl->sup, p, release_one, NULL);
}

/* Several targets, or all: stops go in reverse dependency order. */
static bool as_set(const struct brm_cmd *cmd, size_t n)
{
	return (cmd->op == &brm_op_stop || cmd->op == &brm_op_restart) && (cmd->all || n > 1);
}

/* A restart of a set checks up front what brm_proc_restart would refuse;
 * false after replying with the error. */
static bool restartable(struct brm_cmd *cmd, struct brm_proc **procs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct brm_supervisor *sup = brm_proc_supervisor(procs[i]);
		int r = brm_supervisor_shutting_down(sup) ? -ESHUTDOWN
			: brm_proc_removing(procs[i]) ? -EBUSY : 0;

		if (r < 0) {
			struct brm_buf msg = BRM_BUF_INIT;

			brm_buf_addf(&msg, "cannot restart '%s': %s", brm_proc_name(procs[i]),
				     errno_text(r));
			brm_control_reply_error(cmd, BRM_E_CONFLICT, msg.p, procs, n);
			brm_buf_finish(&msg);
			return false;
		}
	}
	return true;
}

static void exec_lifecycle(struct brm_control *ctl, struct brm_cmd *cmd)
{
	struct brm_proc **procs;
	size_t n = 0;
	enum goal goal = cmd->op == &brm_op_stop ? GOAL_STOPPED : GOAL_RUNNING;
	struct restartset *rs = NULL;
	struct waiter *w;

	procs = resolve(ctl, cmd, &n);
	if (!procs) {
		cmd->done(cmd);
		return;
	}
	if (cmd->op == &brm_op_restart && as_set(cmd, n) && !restartable(cmd, procs, n)) {
		free(procs);
		cmd->done(cmd);
		return;
	}
	if (as_set(cmd, n))
		for (size_t i = 0; i < n; i++)
			brm_proc_mark_stop(procs[i]);
	for (size_t i = 0; i < n; i++) {
		int r;
		if (cmd->op == &brm_op_start) {
			operator_start(ctl, procs[i]);
			r = brm_proc_start(procs[i]);
		} else if (cmd->op == &brm_op_stop) {
			brm_proc_set_held(procs[i], true);
			r = as_set(cmd, n) ? brm_proc_stop_after_dependents(procs[i])
					   : brm_proc_stop(procs[i]);
		} else {
			operator_start(ctl, procs[i]);
			r = as_set(cmd, n) ? brm_proc_stop_after_dependents(procs[i])
					   : brm_proc_restart(procs[i]);
		}
		if (r == 0 && ctl->hooks.applied)
			ctl->hooks.applied(ctl->hooks.arg, cmd, procs[i]);
		if (r < 0) {
			struct brm_buf msg = BRM_BUF_INIT;
			brm_buf_addf(&msg, "cannot %s '%s': %s", cmd->op->name,
				     brm_proc_name(procs[i]), errno_text(r));
			if (r == -ESRCH)
				brm_buf_addf(&msg, " (state %s)", brm_state_name(brm_proc_state(procs[i])));
			brm_control_reply_error(cmd, BRM_E_CONFLICT, msg.p, procs, n);
			brm_buf_finish(&msg);
			free(procs);
			cmd->done(cmd);
			return;
		}
	}
	if (cmd->op == &brm_op_restart && as_set(cmd, n)) {
		rs = brm_xcalloc(1, sizeof(*rs));
		rs->procs = brm_xcalloc(n ? n : 1, sizeof(*rs->procs));
		memcpy(rs->procs, procs, n * sizeof(*procs));
		rs->n = n;
	}
	if (!cmd->wait) {
		brm_control_reply_snapshots(cmd, procs, n);
		free(procs);
		cmd->done(cmd);
		w = NULL;
	} else {
		w = brm_waiter_add(ctl, cmd, goal, procs, n,
				   cmd->timeout_secs > 0 ? cmd->timeout_secs : DEFAULT_WAIT_SECS);
		free(procs);
	}
	if (rs) {
		rs->w = w;
		if (w)
			brm_waiter_set_restartset(w, rs);
		rs->next = ctl->sets;
		ctl->sets = rs;
		/* Members already down (or none with dependents) go on at once. */
		observe_sets(ctl, NULL, BRM_EV_STATE);
		return;
	}
	if (w)
		brm_waiter_check(w);
}

/*
 * signal: to every target that has a pid, like pkill; the others are
 * listed as "skipped" with their state. Only when none could be signalled
 * is it an error, with every target's snapshot in its data.
 */
static void exec_signal(struct brm_control *ctl, struct brm_cmd *cmd)
{
	struct brm_buf b = BRM_BUF_INIT, skipped = BRM_BUF_INIT, msg = BRM_BUF_INIT;
	int64_t now = brm_now_wall_ms();
	struct brm_proc **procs;
	size_t n = 0, nsent = 0, nskipped = 0;

	procs = resolve(ctl, cmd, &n);
	if (!procs) {
		cmd->done(cmd);
		return;
	}
	brm_buf_adds(&b, "{\"processes\":[");
	for (size_t i = 0; i < n; i++) {
		int r = brm_proc_signal(procs[i], cmd->signo, cmd->to_group);
		const char *name = brm_proc_name(procs[i]);
		const char *state = brm_state_name(brm_proc_state(procs[i]));

		if (r == 0) {
			if (ctl->hooks.applied)
				ctl->hooks.applied(ctl->hooks.arg, cmd, procs[i]);
			if (nsent++)
				brm_buf_addc(&b, ',');
			brm_snapshot_json(&b, brm_proc_snapshot(procs[i]), now);
			continue;
		}
		brm_buf_adds(&skipped, nskipped ? ",{\"name\":" : "{\"name\":");
		brm_json_str(&skipped, name);
		brm_buf_adds(&skipped, ",\"state\":");
		brm_json_str(&skipped, state);
		brm_buf_adds(&skipped, ",\"reason\":");
		brm_json_str(&skipped, r == -ESRCH ? "not running" : errno_text(r));
		brm_buf_addc(&skipped, '}');
		brm_buf_addf(&msg, "%s%s is %s", nskipped ? ", " : "", name, state);
		if (r != -ESRCH)
			brm_buf_addf(&msg, " (%s)", errno_text(r));
		nskipped++;
	}
	brm_buf_adds(&b, "],\"skipped\":[");
	brm_buf_add(&b, skipped.p, skipped.len);
	brm_buf_adds(&b, "]}");
	if (nsent) {
		brm_rpc_result(&cmd->reply, cmd->id_json, b.p, b.len);
	} else if (n == 0) {
		reply_errorf(cmd, BRM_E_NO_PROCESS, "cannot signal: there is no process");
	} else {
		struct brm_buf why = BRM_BUF_INIT;

		if (n == 1)
			brm_buf_addf(&why, "cannot signal '%s': it is not running (state %s)",
				     brm_proc_name(procs[0]), brm_state_name(brm_proc_state(procs[0])));
		else
			brm_buf_addf(&why, "cannot signal: none of the %zu targets is running: %s",
				     n, msg.p);
		brm_control_reply_error(cmd, BRM_E_CONFLICT, why.p, procs, n);
		brm_buf_finish(&why);
	}
	brm_buf_finish(&b);
	brm_buf_finish(&skipped);
	brm_buf_finish(&msg);
	free(procs);
	cmd->done(cmd);
}

/* wait: nothing is applied; answer when every target reached the goal. */
static void exec_wait(struct brm_control *ctl, struct brm_cmd *cmd)
{
	struct brm_proc **procs;
	size_t n = 0;
	struct waiter *w;

	procs = resolve(ctl, cmd, &n);
	if (!procs) {
		cmd->done(cmd);
		return;
	}
	w = brm_waiter_add(ctl, cmd, GOAL_STATE, procs, n,
			   cmd->timeout_secs > 0 ? cmd->timeout_secs : DEFAULT_WAIT_SECS);
	free(procs);
	brm_waiter_check(w);
}

static void exec_add(struct brm_control *ctl, struct brm_cmd *cmd)
{
	struct brm_proc_spec *spec = cmd->spec;
	struct brm_proc *p;
	char *name = brm_xstrdup(spec->name);
	int r;

	cmd->spec = NULL;
	if (cmd->max_procs && brm_supervisor_count(ctl->sup) >= (size_t)cmd->max_procs) {
		reply_errorf(cmd, BRM_E_LIMIT, "cannot add '%s': %d processes is the limit"
			     " (max_processes)", name, cmd->max_procs);
		brm_spec_destroy(spec);
		free(name);
		cmd->done(cmd);
		return;
	}
	r = brm_supervisor_add(ctl->sup, spec, brm_control_next_generation(ctl), &p);
	if (r == -EEXIST) {
		reply_errorf(cmd, BRM_E_CONFLICT, "process '%s' exists already", name);
	} else if (r < 0) {
		reply_errorf(cmd, BRM_E_CONFLICT, "cannot add '%s': %s", name, errno_text(r));
	} else {
		brm_log_info("%s: added", name);
		if (ctl->hooks.applied)
			ctl->hooks.applied(ctl->hooks.arg, cmd, p);
		if (brm_proc_spec(p)->autostart)
			brm_proc_start(p);
		brm_control_reply_one(cmd, brm_proc_snapshot(p));
	}
	free(name);
	cmd->done(cmd);
}

static void exec_remove(struct brm_control *ctl, struct brm_cmd *cmd)
{
	struct brm_proc **procs;
	int r;

	/* One process by its own name: never a group or a pattern. */
	procs = brm_xcalloc(1, sizeof(*procs));
	procs[0] = cmd->names && cmd->names[0] && !cmd->names[1] ?
		   brm_supervisor_find(ctl->sup, cmd->names[0]) : NULL;
	if (!procs[0]) {
		reply_errorf(cmd, BRM_E_NO_PROCESS, "no such process '%s'",
			     cmd->names && cmd->names[0] ? cmd->names[0] : "");
		free(procs);
		cmd->done(cmd);
		return;
	}
	/* Registered first: removal may complete inside brm_proc_remove. */
	brm_waiter_add(ctl, cmd, GOAL_REMOVED, procs, 1, 0);
	brm_log_info("%s: removing", brm_proc_name(procs[0]));
	if (ctl->hooks.applied)
		ctl->hooks.applied(ctl->hooks.arg, cmd, procs[0]);
	r = brm_proc_remove(procs[0]);
	if (r < 0)
		brm_log_error("%s: remove: %s", brm_proc_name(procs[0]), errno_text(r));
	free(procs);
}

static void exec_cancel(struct brm_control *ctl, struct brm_cmd *cmd)
{
	brm_waiter_cancel(ctl, cmd->cancel_serial);
	cmd->done(cmd);
}

static void exec_reload(struct brm_control *ctl, struct brm_cmd *cmd)
{
	if (ctl->hooks.reload) {
		ctl->hooks.reload(ctl->hooks.arg, cmd);
		return;
	}
	reply_errorf(cmd, BRM_E_INTERNAL, "reload is not available");
	cmd->done(cmd);
}

static void exec_shutdown(struct brm_control *ctl, struct brm_cmd *cmd)
{
	if (ctl->shutdown) {
		ctl->shutdown(ctl->shutdown_arg, cmd);
		return;
	}
	reply_errorf(cmd, BRM_E_INTERNAL, "shutdown is not available");
	cmd->done(cmd);
}

/* The loop side of each method that runs here (cmd.h); the rest of what
 * there is to say about a method is its entry in rpc/methods.c's table. */
const struct brm_cmd_op brm_op_start = { "start", exec_lifecycle, BRM_INTENT_RUN };
const struct brm_cmd_op brm_op_stop = { "stop", exec_lifecycle, BRM_INTENT_STOP };
const struct brm_cmd_op brm_op_restart = { "restart", exec_lifecycle, BRM_INTENT_RUN };
const struct brm_cmd_op brm_op_signal = { "signal", exec_signal, BRM_INTENT_NONE };
const struct brm_cmd_op brm_op_add = { "add", exec_add, BRM_INTENT_ADD };
const struct brm_cmd_op brm_op_remove = { "remove", exec_remove, BRM_INTENT_FORGET };
const struct brm_cmd_op brm_op_wait = { "wait", exec_wait, BRM_INTENT_NONE };
const struct brm_cmd_op brm_op_reload = { "reload", exec_reload, BRM_INTENT_NONE };
const struct brm_cmd_op brm_op_shutdown = { "shutdown", exec_shutdown, BRM_INTENT_NONE };
const struct brm_cmd_op brm_op_cancel = { "cancel", exec_cancel, BRM_INTENT_NONE };

void brm_control_execute(struct brm_cmd *cmd, void *arg)
{
	cmd->op->exec(arg, cmd);
}

/* ---- lifetime ----------------------------------------------------------- */

struct brm_control *brm_control_create(uv_loop_t *loop, struct brm_supervisor *sup)
{
	struct brm_control *ctl = brm_xcalloc(1, sizeof(*ctl));

	ctl->loop = loop;
	ctl->sup = sup;
	brm_supervisor_set_observer(sup, observe, ctl);
	return ctl;
}

void brm_control_set_hooks(struct brm_control *ctl, const struct brm_control_hooks *hooks)
{
	ctl->hooks = *hooks;
}

void brm_control_set_shutdown(struct brm_control *ctl,
			      void (*fn)(void *arg, struct brm_cmd *cmd), void *arg)
{
	ctl->shutdown = fn;
	ctl->shutdown_arg = arg;
}

uint64_t brm_control_next_generation(struct brm_control *ctl)
{
	return ++ctl->generation;
}

void brm_control_destroy(struct brm_control *ctl)
{
	if (!ctl)
		return;
	brm_supervisor_set_observer(ctl->sup, NULL, NULL);
	while (ctl->sets) {
		struct restartset *rs = ctl->sets;
		ctl->sets = rs->next;
		restartset_free(rs);
	}
	brm_waiter_free_all(ctl);
	free(ctl);
}
