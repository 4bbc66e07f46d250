/*
 * waiter.c — the waits on processes' states: a request with "wait", every
 * `remove` and the `wait` method are answered once each target reached the
 * goal, or failed, or the wait timed out.
 *
 * A struct waiter remembers the targets and the goal, and the supervisor's
 * observer hook (control.c) re-judges the waiters on a process after each
 * change it publishes; a one-shot timer bounds the wait, and the client's
 * going away cancels it. `remove` always waits: its reply is the last
 * snapshot, sent when the process is gone. A waiter of a restart of several
 * judges nothing before the restart's second phase.
 *
 * A file of its own because control.c applies a request at once, while
 * what waits for its effect (the judging, the index from a process to the
 * waits on it, the timers) is a machine of its own.
 *
 * Context: loop thread only (control.h).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/sup/control.h"
#include "daemon/sup/control_int.h"
#include "daemon/sup/supervise.h"
#include "lib/buf.h"
#include "lib/procstate.h"
#include "lib/util.h"
#include "proto/proto.h"
#include "proto/rpc.h"

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

/* One wait: a request's targets, its goal, and how far they got. */
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
	struct waiter *ready_next; /* brm_waiter_observe(): to answer after the pass */
	bool ready;
	struct restartset *rs;     /* its first phase still runs: judge nothing yet */
	struct waiter *prev, *next;
};

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

	brm_control_snapshots_json(&data, w->procs, w->n);
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
		brm_control_reply_snapshots(w->cmd, w->procs, w->n);
	}
	waiter_done(w);
}

/* Judge every target of a new @w; answer it when settled. */
void brm_waiter_check(struct waiter *w)
{
	rejudge_all(w);
	if (waiter_settled(w))
		waiter_answer(w);
}

void brm_waiter_set_restartset(struct waiter *w, struct restartset *rs)
{
	w->rs = rs;
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

struct waiter *brm_waiter_add(struct brm_control *ctl, struct brm_cmd *cmd,
			      enum goal goal, struct brm_proc **procs, size_t n,
			      double timeout_secs)
{
	struct waiter *w = brm_xcalloc(1, sizeof(*w));

	w->ctl = ctl;
	w->cmd = cmd;
	w->goal = goal;
	w->n = n;
	w->want_state = goal == GOAL_STATE ? cmd->want_state : -1;
	if (goal == GOAL_STATE && cmd->want_health)
		w->want_health = brm_xstrdup(cmd->want_health);
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
void brm_waiter_cancel(struct brm_control *ctl, uint64_t serial)
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
void brm_waiter_observe(struct brm_control *ctl, struct brm_proc *p,
			enum brm_proc_event ev)
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
				brm_control_reply_one(w->cmd, brm_proc_snapshot(p));
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

void brm_control_cancel_all(struct brm_control *ctl)
{
	while (ctl->waiters) {
		struct waiter *w = ctl->waiters;
		brm_control_reply_error(w->cmd, BRM_E_INTERNAL, "brummd is shutting down",
					w->procs, w->n);
		waiter_done(w);
	}
}

void brm_waiter_free_all(struct brm_control *ctl)
{
	while (ctl->waiters) {
		struct waiter *w = ctl->waiters;
		waiter_unlink(w);
		brm_cmd_destroy(w->cmd);
		waiter_free(w);
	}
	free(ctl->buckets);
	ctl->buckets = NULL;
	ctl->nbuckets = 0;
}
