/*
 * control.c — mutating requests on the loop thread.
 *
 * A request is applied at once; what may take time is the answer. Without
 * "wait" the reply is written straight away with the targets' snapshots
 * (starting, stopping, ...). With "wait" a struct waiter remembers the
 * targets and the goal, and the supervisor's observer hook re-judges the
 * waiters on a process after each change it publishes; a one-shot timer
 * bounds the wait, and the client's going away cancels it.
 * `remove` always waits: its reply is the last snapshot, sent when the
 * process is gone.
 *
 * Several targets of `stop` (or --all) go down in reverse dependency
 * order; a `restart` of several is a struct restartset: all of them are
 * stopped that way first, then all are started (their dependencies order
 * the spawns). Its waiter, if any, judges nothing before the second phase.
 *
 * Operator intent: `stop` marks its targets stopped by request
 * (brm_proc_held); `start` and `restart` clear that for their targets and
 * everything those need, which their start may start on their behalf.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/conf/config.h"
#include "daemon/sup/control.h"
#include "daemon/sup/deps.h"
#include "daemon/log.h"
#include "daemon/rpc/targets.h"
#include "lib/snapjson.h"
#include "proto/proto.h"
#include "proto/rpc.h"

#define DEFAULT_WAIT_SECS 60.0

enum goal {
	GOAL_RUNNING,   /* start, restart */
	GOAL_STOPPED,   /* stop */
	GOAL_REMOVED,   /* remove */
	GOAL_STATE,     /* wait: want_state and/or want_health */
};

enum verdict { PENDING, REACHED, FAILED };

/*
 * One target of a waiter. While its process lives, the link is in the
 * control's index under that process, so that a change of one process
 * looks only at the waiters on it.
 */
struct wlink {
	struct waiter *w;
	struct brm_proc *p;          /* NULL once removed (then not indexed) */
	enum verdict verdict;        /* judge(w, p) at p's last change */
	bool final;                  /* FAILED and no use waiting for the others */
	struct wlink *prev, *next;   /* in the index bucket of p */
};

struct waiter {
	struct brm_control *ctl;
	struct brm_cmd *cmd;
	enum goal goal;
	size_t n;
	struct brm_proc **procs;   /* NULL entries: removed meanwhile */
	struct wlink *links;       /* [n]: links[i] watches procs[i] */
	size_t npending, nfailed;  /* links with that verdict */
	size_t nfinal;             /* links with final set */
	int want_state;            /* GOAL_STATE: enum brm_state, or -1 */
	char *want_health;         /* GOAL_STATE: or NULL */
	uv_timer_t *timer;         /* NULL without a timeout */
	double timeout_secs;
	struct waiter *ready_next; /* observe(): to answer after the pass */
	bool ready;
	struct restartset *rs;     /* its first phase still runs: judge nothing yet */
	struct waiter *prev, *next;
};

/* A restart of several processes: all stop (reverse dependency order), then all start. */
struct restartset {
	struct brm_proc **procs;   /* NULL entries: removed meanwhile */
	size_t n;
	struct waiter *w;          /* the request's wait, or NULL */
	struct restartset *next;
};

struct brm_control {
	uv_loop_t *loop;
	struct brm_supervisor *sup;
	struct restartset *sets;
	struct waiter *waiters;
	struct wlink **buckets;    /* the index: process -> links; power of two */
	size_t nbuckets;
	size_t nlinks;
	uint64_t generation;
	struct brm_control_hooks hooks;
	void (*shutdown)(void *arg, struct brm_cmd *cmd);
	void *shutdown_arg;
};

/* ---- replies ------------------------------------------------------------ */

static void snapshots_json(struct brm_buf *b, struct brm_proc **procs, size_t n)
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

static void reply_snapshots(struct brm_cmd *cmd, struct brm_proc **procs, size_t n)
{
	struct brm_buf b = BRM_BUF_INIT;

	snapshots_json(&b, procs, n);
	brm_rpc_result(&cmd->reply, cmd->id_json, b.p, b.len);
	brm_buf_finish(&b);
}

static void reply_one(struct brm_cmd *cmd, const struct brm_snapshot *s)
{
	struct brm_buf b = BRM_BUF_INIT;

	brm_snapshot_json(&b, s, brm_now_wall_ms());
	brm_rpc_result(&cmd->reply, cmd->id_json, b.p, b.len);
	brm_buf_finish(&b);
}

static void reply_error(struct brm_cmd *cmd, int code, const char *msg,
			struct brm_proc **procs, size_t n)
{
	struct brm_buf data = BRM_BUF_INIT;

	if (procs)
		snapshots_json(&data, procs, n);
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
	reply_error(cmd, code, msg.p, NULL, 0);
	brm_buf_finish(&msg);
}

/* ---- waiters ------------------------------------------------------------ */

/*
 * Cost: a state change of one process costs O(links on it) (a hash from
 * the process to the links of the waiters that name it; each link keeps
 * its target's last verdict and the waiter counts them), so thousands of
 * waiters on other processes cost it nothing. A wait is dropped when its
 * connection closes (brm_op_cancel); there is at most one per connection.
 */

static size_t bucket_of(const struct brm_control *ctl, const struct brm_proc *p)
{
	uint64_t h = (uint64_t)(uintptr_t)p * 0x9E3779B97F4A7C15ull;

	return (size_t)(h >> 32) & (ctl->nbuckets - 1);
}

static void index_insert(struct brm_control *ctl, struct wlink *l)
{
	struct wlink **head = &ctl->buckets[bucket_of(ctl, l->p)];

	l->prev = NULL;
	l->next = *head;
	if (*head)
		(*head)->prev = l;
	*head = l;
}

/* Keep at most one link per bucket on average. */
static void index_grow(struct brm_control *ctl)
{
	struct wlink **old = ctl->buckets;
	size_t oldn = ctl->nbuckets;

	if (ctl->nlinks < ctl->nbuckets)
		return;
	ctl->nbuckets = oldn ? 2 * oldn : 64;
	ctl->buckets = brm_xcalloc(ctl->nbuckets, sizeof(*ctl->buckets));
	for (size_t i = 0; i < oldn; i++) {
		struct wlink *l = old[i], *next;
		for (; l; l = next) {
			next = l->next;
			index_insert(ctl, l);
		}
	}
	free(old);
}

static void index_add(struct brm_control *ctl, struct wlink *l)
{
	ctl->nlinks++;
	index_grow(ctl);
	index_insert(ctl, l);
}

static void index_del(struct brm_control *ctl, struct wlink *l)
{
	if (l->prev)
		l->prev->next = l->next;
	else
		ctl->buckets[bucket_of(ctl, l->p)] = l->next;
	if (l->next)
		l->next->prev = l->prev;
	l->prev = l->next = NULL;
	ctl->nlinks--;
}

static void on_timer_closed(uv_handle_t *h)
{
	free(h);
}

static void waiter_free(struct waiter *w)
{
	if (w->rs)
		w->rs->w = NULL;
	if (w->timer)
		uv_close((uv_handle_t *)w->timer, on_timer_closed);
	for (size_t i = 0; i < w->n; i++)
		if (w->links[i].p)
			index_del(w->ctl, &w->links[i]);
	free(w->links);
	free(w->procs);
	free(w->want_health);
	free(w);
}

static void waiter_unlink(struct waiter *w)
{
	if (w->prev)
		w->prev->next = w->next;
	else
		w->ctl->waiters = w->next;
	if (w->next)
		w->next->prev = w->prev;
	w->prev = w->next = NULL;
}

/* Finish @w: the reply is in w->cmd; hand it back and free the waiter. */
static void waiter_done(struct waiter *w)
{
	struct brm_cmd *cmd = w->cmd;

	waiter_unlink(w);
	waiter_free(w);
	cmd->done(cmd);
}

/* The health the process's snapshot reports, or NULL: it has no check. */
static const char *proc_health(const struct brm_proc *p)
{
	const struct brm_snapshot *s = brm_proc_snapshot(p);

	return s ? s->health : NULL;
}

/*
 * A one-shot is "up" once it completed: start and restart wait for that,
 * and so does a wait for state running. One that failed is fatal.
 */
static enum verdict judge_oneshot(const struct brm_proc *p)
{
	switch (brm_proc_state(p)) {
	case BRM_STARTING:
	case BRM_RUNNING:
	case BRM_BACKOFF:
	case BRM_STOPPING:
	case BRM_WAITING:
		return PENDING;
	default:
		return brm_proc_completed(p) ? REACHED : FAILED;
	}
}

/* wait: reached, still possible, or settled where nothing moves it on its own. */
static enum verdict judge_state(const struct waiter *w, const struct brm_proc *p)
{
	enum brm_state st = brm_proc_state(p);
	int goal = w->want_state >= 0 ? w->want_state : BRM_RUNNING;
	const char *health = w->want_health ? proc_health(p) : NULL;
	bool state_ok = w->want_state < 0 || (int)st == w->want_state;

	if (w->want_state == BRM_RUNNING && !w->want_health && brm_proc_is_oneshot(p))
		return judge_oneshot(p);

	if (state_ok && (!w->want_health || (health && !strcmp(health, w->want_health))))
		return REACHED;
	if ((st == BRM_STOPPED || st == BRM_EXITED || st == BRM_FATAL) && (int)st != goal)
		return FAILED;
	if (w->want_health && st == BRM_RUNNING && !health)
		return FAILED;   /* running without a health: it has no check */
	return PENDING;
}

static enum verdict judge(const struct waiter *w, const struct brm_proc *p)
{
	enum brm_state st;

	if (w->rs)
		return PENDING;
	if (!p)
		return w->goal == GOAL_RUNNING || w->goal == GOAL_STATE ? FAILED : REACHED;
	st = brm_proc_state(p);
	switch (w->goal) {
	case GOAL_STATE:
		return judge_state(w, p);
	case GOAL_RUNNING:
		if (brm_proc_is_oneshot(p))
			return judge_oneshot(p);
		if (st == BRM_RUNNING)
			return REACHED;
		if (st == BRM_STARTING || st == BRM_BACKOFF || st == BRM_STOPPING ||
		    st == BRM_WAITING)
			return PENDING;
		return FAILED;
	case GOAL_STOPPED:
		return brm_proc_settled(p) && st != BRM_BACKOFF ? REACHED : PENDING;
	case GOAL_REMOVED:
		return PENDING;
	}
	return PENDING;
}

/*
 * Whether failed target @p ends the whole wait at once. A wait (nothing
 * applied) fails as soon as one target cannot get there on its own; a
 * start or restart as soon as one is fatal, while a target that is
 * stopped or exited may still be on its way (an ordered restart stops
 * before it starts).
 */
static bool fails_at_once(const struct waiter *w, const struct brm_proc *p)
{
	return !p || w->goal == GOAL_STATE || brm_proc_state(p) == BRM_FATAL;
}

/* Judge link @l again; keeps its waiter's counts. */
static void link_judge(struct wlink *l)
{
	struct waiter *w = l->w;
	enum verdict v = judge(w, l->p);
	bool final = v == FAILED && fails_at_once(w, l->p);

	if (final != l->final) {
		if (final)
			w->nfinal++;
		else
			w->nfinal--;
		l->final = final;
	}
	if (v == l->verdict)
		return;
	if (l->verdict == PENDING)
		w->npending--;
	else if (l->verdict == FAILED)
		w->nfailed--;
	if (v == PENDING)
		w->npending++;
	else if (v == FAILED)
		w->nfailed++;
	l->verdict = v;
}

/* Does @w wait for its one-shot targets to complete? */
static bool wants_completion(const struct waiter *w)
{
	return w->goal == GOAL_RUNNING ||
	       (w->goal == GOAL_STATE && w->want_state == BRM_RUNNING && !w->want_health);
}

/* "NAME is STATE (error)" for the targets whose last verdict is @v. */
static void describe_states(struct brm_buf *b, const struct waiter *w, enum verdict v)
{
	bool first = true;

	for (size_t i = 0; i < w->n; i++) {
		const struct brm_proc *p = w->procs[i];
		const struct brm_snapshot *s;

		if (!p || w->links[i].verdict != v)
			continue;
		s = brm_proc_snapshot(p);
		brm_buf_addf(b, "%s%s is %s", first ? "" : "; ", brm_proc_name(p),
			     brm_state_name(brm_proc_state(p)));
		if (s && s->state == BRM_WAITING && s->waiting_for)
			brm_buf_addf(b, " for %s", s->waiting_for);
		if (v == PENDING && brm_proc_is_oneshot(p) && wants_completion(w))
			brm_buf_adds(b, ", a one-shot not completed yet");
		if (w->want_health) {
			const char *health = proc_health(p);
			if (health)
				brm_buf_addf(b, ", health %s", health);
			else
				brm_buf_adds(b, ", no health check");
		}
		if (s && s->error)
			brm_buf_addf(b, " (%s)", s->error);
		first = false;
	}
}

/* What @w waits for, in words. */
static void goal_text(struct brm_buf *b, const struct waiter *w)
{
	switch (w->goal) {
	case GOAL_RUNNING: brm_buf_adds(b, "running"); break;
	case GOAL_STOPPED: brm_buf_adds(b, "stopped"); break;
	case GOAL_REMOVED: brm_buf_adds(b, "removal"); break;
	case GOAL_STATE:
		if (w->want_state >= 0)
			brm_buf_addf(b, "state %s", brm_state_name((enum brm_state)w->want_state));
		if (w->want_health)
			brm_buf_addf(b, "%shealth %s", w->want_state >= 0 ? " and " : "",
				     w->want_health);
		break;
	}
}

/* Every target settled (reached or failed), or one failed for good? A
 * removal waits for its event. */
static bool waiter_settled(const struct waiter *w)
{
	return w->goal != GOAL_REMOVED && (w->npending == 0 || w->nfinal > 0);
}

/* The unreached targets: the failed ones first, then those still on their way. */
static void describe_unreached(struct brm_buf *b, const struct waiter *w)
{
	size_t mark = b->len;

	describe_states(b, w, FAILED);
	if (!w->npending)
		return;
	brm_buf_adds(b, b->len > mark ? "; not there yet: " : "");
	describe_states(b, w, PENDING);
}

/* An error reply with data {"processes":[SNAP...],"failed":[NAME...]}. */
static void reply_waiter_error(struct waiter *w, int code, const char *msg)
{
	struct brm_buf data = BRM_BUF_INIT;
	bool first = true;

	snapshots_json(&data, w->procs, w->n);
	data.len--;   /* reopen the object */
	brm_buf_adds(&data, ",\"failed\":[");
	for (size_t i = 0; i < w->n; i++) {
		if (!w->procs[i] || w->links[i].verdict != FAILED)
			continue;
		if (!first)
			brm_buf_addc(&data, ',');
		first = false;
		brm_json_str(&data, brm_proc_name(w->procs[i]));
	}
	brm_buf_adds(&data, "]}");
	brm_rpc_error(&w->cmd->reply, w->cmd->id_json, code, msg, data.p);
	brm_buf_finish(&data);
}

/*
 * Judge every target again before answering: a change answers a waiter
 * from inside the publish of another (a dependency going fatal makes its
 * dependent fatal before this observer heard of the dependency).
 */
static void rejudge_all(struct waiter *w)
{
	for (size_t i = 0; i < w->n; i++)
		link_judge(&w->links[i]);
}

/* Answer a settled @w and free it. */
static void waiter_answer(struct waiter *w)
{
	struct brm_buf msg = BRM_BUF_INIT;

	rejudge_all(w);

	if (w->nfailed) {
		brm_buf_adds(&msg, "did not reach ");
		goal_text(&msg, w);
		brm_buf_adds(&msg, ": ");
		describe_unreached(&msg, w);
		reply_waiter_error(w, BRM_E_CONFLICT, msg.p);
		brm_buf_finish(&msg);
	} else {
		reply_snapshots(w->cmd, w->procs, w->n);
	}
	waiter_done(w);
}

/* Judge every target of a new @w; answer it when settled. */
static void waiter_check(struct waiter *w)
{
	rejudge_all(w);
	if (waiter_settled(w))
		waiter_answer(w);
}

static void on_wait_timeout(uv_timer_t *t)
{
	struct waiter *w = t->data;
	struct brm_buf msg = BRM_BUF_INIT;

	rejudge_all(w);
	brm_buf_addf(&msg, "timed out after %gs waiting for ", w->timeout_secs);
	goal_text(&msg, w);
	brm_buf_adds(&msg, ": ");
	describe_unreached(&msg, w);
	reply_waiter_error(w, BRM_E_TIMEOUT, msg.p);
	brm_buf_finish(&msg);
	waiter_done(w);
}

static struct waiter *waiter_add(struct brm_control *ctl, struct brm_cmd *cmd, enum goal goal,
				 struct brm_proc **procs, size_t n, double timeout_secs)
{
	struct waiter *w = brm_xcalloc(1, sizeof(*w));

	w->ctl = ctl;
	w->cmd = cmd;
	w->goal = goal;
	w->n = n;
	w->want_state = -1;
	w->procs = brm_xcalloc(n ? n : 1, sizeof(*w->procs));
	memcpy(w->procs, procs, n * sizeof(*procs));
	w->links = brm_xcalloc(n ? n : 1, sizeof(*w->links));
	for (size_t i = 0; i < n; i++) {
		w->links[i].w = w;
		w->links[i].p = procs[i];
		w->links[i].verdict = PENDING;
		index_add(ctl, &w->links[i]);
	}
	w->npending = n;
	w->timeout_secs = timeout_secs;
	if (timeout_secs > 0) {
		double ms = ceil(timeout_secs * 1000.0);
		w->timer = brm_xmalloc(sizeof(*w->timer));
		uv_timer_init(ctl->loop, w->timer);
		w->timer->data = w;
		uv_timer_start(w->timer, on_wait_timeout, ms > 1e12 ? (uint64_t)1e12 : (uint64_t)ms, 0);
	}
	w->next = ctl->waiters;
	if (ctl->waiters)
		ctl->waiters->prev = w;
	ctl->waiters = w;
	return w;
}

/*
 * The connection of command @serial closed: drop its wait without an
 * answer (the worker discards what comes back for a closed connection).
 * The command may have been answered already: then nothing is found.
 */
static void waiter_cancel(struct brm_control *ctl, uint64_t serial)
{
	for (struct waiter *w = ctl->waiters; w; w = w->next) {
		if (w->cmd->serial != serial)
			continue;
		w->cmd->no_reply = true;
		waiter_done(w);
		return;
	}
}

/*
 * @p changed or is going: judge the links on it, then answer the waiters
 * that settled (answering frees links, so not during the walk).
 */
static void observe_links(struct brm_control *ctl, struct brm_proc *p, enum brm_proc_event ev)
{
	struct waiter *ready = NULL;
	struct wlink *l, *next;

	for (l = ctl->buckets[bucket_of(ctl, p)]; l; l = next) {
		struct waiter *w = l->w;

		next = l->next;
		if (l->p != p || w->ready)
			continue;
		if (ev == BRM_EV_REMOVED) {
			if (w->goal == GOAL_REMOVED) {
				reply_one(w->cmd, brm_proc_snapshot(p));
				w->ready = true;
				w->ready_next = ready;
				ready = w;
				continue;
			}
			/* the pointer dies: out of the index */
			index_del(ctl, l);
			l->p = NULL;
			w->procs[l - w->links] = NULL;
		}
		link_judge(l);
		if (waiter_settled(w)) {
			w->ready = true;
			w->ready_next = ready;
			ready = w;
		}
	}
	while (ready) {
		struct waiter *w = ready;

		ready = w->ready_next;
		if (w->goal == GOAL_REMOVED)
			waiter_done(w);
		else
			waiter_answer(w);
	}
}

/* ---- restart of several --------------------------------------------------- */

static bool going_down(const struct brm_proc *p)
{
	return brm_proc_stop_pending(p) || brm_proc_state(p) == BRM_STOPPING;
}

static void restartset_free(struct restartset *rs)
{
	if (rs->w)
		rs->w->rs = NULL;
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
		waiter_check(w);
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
		observe_links(ctl, p, ev);
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
		reply_error(cmd, BRM_E_NO_PROCESS, err.p, NULL, 0);
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
			reply_error(cmd, BRM_E_CONFLICT, msg.p, procs, n);
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
			reply_error(cmd, BRM_E_CONFLICT, msg.p, procs, n);
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
		reply_snapshots(cmd, procs, n);
		free(procs);
		cmd->done(cmd);
		w = NULL;
	} else {
		w = waiter_add(ctl, cmd, goal, procs, n,
			       cmd->timeout_secs > 0 ? cmd->timeout_secs : DEFAULT_WAIT_SECS);
		free(procs);
	}
	if (rs) {
		rs->w = w;
		if (w)
			w->rs = rs;
		rs->next = ctl->sets;
		ctl->sets = rs;
		/* Members already down (or none with dependents) go on at once. */
		observe_sets(ctl, NULL, BRM_EV_STATE);
		return;
	}
	if (w)
		waiter_check(w);
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
		reply_error(cmd, BRM_E_CONFLICT, why.p, procs, n);
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
	w = waiter_add(ctl, cmd, GOAL_STATE, procs, n,
		       cmd->timeout_secs > 0 ? cmd->timeout_secs : DEFAULT_WAIT_SECS);
	w->want_state = cmd->want_state;
	w->want_health = cmd->want_health ? brm_xstrdup(cmd->want_health) : NULL;
	free(procs);
	waiter_check(w);
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
		reply_one(cmd, brm_proc_snapshot(p));
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
	waiter_add(ctl, cmd, GOAL_REMOVED, procs, 1, 0);
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
	waiter_cancel(ctl, cmd->cancel_serial);
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

void brm_control_cancel_all(struct brm_control *ctl)
{
	while (ctl->waiters) {
		struct waiter *w = ctl->waiters;
		reply_error(w->cmd, BRM_E_INTERNAL, "brummd is shutting down", w->procs, w->n);
		waiter_done(w);
	}
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
	while (ctl->waiters) {
		struct waiter *w = ctl->waiters;
		waiter_unlink(w);
		brm_cmd_destroy(w->cmd);
		waiter_free(w);
	}
	free(ctl->buckets);
	free(ctl);
}
