/*
 * supervisor.c — the supervisor itself: the collection of process records
 * (add, find, each, count), its observers and hooks, the stop of all at
 * shutdown, and the plain accessors of a record. The state machine that
 * moves a record is supervise.c's.
 *
 * Context: loop thread only (supervise.h).
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/log.h"
#include "daemon/sup/logcap.h"
#include "daemon/sup/loopcheck.h"
#include "daemon/sup/supervise.h"
#include "daemon/sup/supervise_int.h"
#include "lib/util.h"

/* ---- the supervisor ----------------------------------------------------- */

struct brm_supervisor *brm_supervisor_create(uv_loop_t *loop, struct brm_registry *reg)
{
	struct brm_supervisor *sup = brm_xcalloc(1, sizeof(*sup));

	/* The thread that creates the supervisor runs its loop. */
	brm_loopcheck_set();
	sup->loop = loop;
	sup->reg = reg;
	return sup;
}

void brm_supervisor_set_observer(struct brm_supervisor *sup, brm_observer_fn fn, void *arg)
{
	BRM_ASSERT_LOOP();
	sup->obs[0].fn = fn;
	sup->obs[0].arg = arg;
}

void brm_supervisor_set_service_observer(struct brm_supervisor *sup, brm_observer_fn fn,
					  void *arg)
{
	BRM_ASSERT_LOOP();
	sup->obs[1].fn = fn;
	sup->obs[1].arg = arg;
}

int brm_supervisor_add_observer(struct brm_supervisor *sup, brm_observer_fn fn, void *arg)
{
	BRM_ASSERT_LOOP();
	for (int i = 2; i < BRM_MAX_OBSERVERS; i++) {
		if (!sup->obs[i].fn) {
			sup->obs[i].fn = fn;
			sup->obs[i].arg = arg;
			return 0;
		}
	}
	return -ENOSPC;
}

void brm_supervisor_remove_observer(struct brm_supervisor *sup, brm_observer_fn fn, void *arg)
{
	BRM_ASSERT_LOOP();
	for (int i = 2; i < BRM_MAX_OBSERVERS; i++) {
		if (sup->obs[i].fn == fn && sup->obs[i].arg == arg) {
			sup->obs[i].fn = NULL;
			sup->obs[i].arg = NULL;
		}
	}
}

int brm_supervisor_add(struct brm_supervisor *sup, struct brm_proc_spec *spec,
		       uint64_t generation, struct brm_proc **out)
{
	BRM_ASSERT_LOOP();
	struct brm_proc *p;

	if (sup->shutting_down) {
		brm_spec_destroy(spec);
		return -ESHUTDOWN;
	}
	if (brm_supervisor_find(sup, spec->name)) {
		brm_spec_destroy(spec);
		return -EEXIST;
	}
	p = brm_xcalloc(1, sizeof(*p));
	p->sup = sup;
	p->spec = spec;
	p->generation = generation;
	p->cmd_display = brm_proc_join_argv(spec->argv);
	p->logs = brm_logcap_create(spec->name, spec->log, p);
	brm_logcap_set_user(p->logs, spec->user);
	p->state = BRM_STOPPED;
	p->exit_code = -1;
	p->prev_state = -1;
	p->pub_state = -1;
	p->since_ms = brm_now_wall_ms();
	uv_timer_init(sup->loop, &p->timer);
	p->timer.data = p;
	brm_proc_publish(p);
	if (!p->entry) {
		/* Unreachable while brm_supervisor_find agrees with the registry. */
		brm_log_error("%s: registry refused the name", spec->name);
		p->freed = true;
		p->closing++;
		uv_close((uv_handle_t *)&p->timer, brm_proc_on_handle_closed);
		return -EEXIST;
	}
	p->entry->owner = p;
	brm_logcap_attach(p->logs, p->entry);
	p->next = sup->procs;
	if (p->next)
		p->next->pprev = &p->next;
	p->pprev = &sup->procs;
	sup->procs = p;
	sup->nprocs++;
	sup->nstate[p->state]++;
	if (brm_spec_has_deps(spec))
		sup->nwith_deps++;
	if (out)
		*out = p;
	return 0;
}

struct brm_proc *brm_supervisor_find(struct brm_supervisor *sup, const char *name)
{
	BRM_ASSERT_LOOP();
	struct brm_reg_entry *e;
	struct brm_proc *p = NULL;

	rcu_read_lock();
	e = brm_registry_find(sup->reg, name);
	if (e)
		p = e->owner;
	rcu_read_unlock();
	return p;
}

void brm_supervisor_each(struct brm_supervisor *sup,
			 void (*fn)(struct brm_proc *p, void *arg), void *arg)
{
	BRM_ASSERT_LOOP();
	struct brm_proc *p, *next;

	for (p = sup->procs; p; p = next) {
		next = p->next;
		fn(p, arg);
	}
}

size_t brm_supervisor_count(struct brm_supervisor *sup)
{
	BRM_ASSERT_LOOP();
	return sup->nprocs;
}

size_t brm_supervisor_count_state(struct brm_supervisor *sup, enum brm_state st)
{
	BRM_ASSERT_LOOP();
	return (int)st >= 0 && st < BRM_STATE_COUNT ? sup->nstate[st] : 0;
}

size_t brm_supervisor_count_with_deps(struct brm_supervisor *sup)
{
	BRM_ASSERT_LOOP();
	return sup->nwith_deps;
}

bool brm_proc_settled(const struct brm_proc *p)
{
	BRM_ASSERT_LOOP();
	return p->pid == 0 && p->state != BRM_STOPPING && p->state != BRM_STARTING;
}

bool brm_proc_removing(const struct brm_proc *p)
{
	BRM_ASSERT_LOOP();
	return p->removing;
}

void brm_proc_count_settled(struct brm_proc *p)
{
	bool unsettled = p->pprev && !brm_proc_settled(p);

	if (unsettled != p->unsettled) {
		p->unsettled = unsettled;
		if (unsettled)
			p->sup->nunsettled++;
		else
			p->sup->nunsettled--;
	}
}

/* O(1) per call: it runs on every exit while shutting down. */
void brm_supervisor_maybe_stop_all_done(struct brm_supervisor *sup)
{
	void (*done)(void *);

	if (!sup->shutting_down || !sup->stop_all_done || sup->nunsettled)
		return;
	done = sup->stop_all_done;
	sup->stop_all_done = NULL;
	done(sup->stop_all_arg);
}

void brm_supervisor_stop_all(struct brm_supervisor *sup, void (*done)(void *arg), void *arg)
{
	BRM_ASSERT_LOOP();
	struct brm_proc *p, *next;

	sup->shutting_down = true;
	sup->stop_all_done = done;
	sup->stop_all_arg = arg;
	for (p = sup->procs; p; p = next) {
		next = p->next;
		p->start_after_stop = false;
		if (p->state == BRM_BACKOFF || p->state == BRM_WAITING) {
			uv_timer_stop(&p->timer);
			brm_proc_set_state(p, BRM_STOPPED);
			brm_proc_publish(p);
		} else if (p->state == BRM_STARTING || p->state == BRM_RUNNING) {
			/* Dependents first: the hooks stop @p once they are down. */
			if (!(sup->hooks.defer_stop && sup->hooks.defer_stop(sup->hooks.arg, p)))
				brm_proc_begin_stop(p);
		}
	}
	brm_supervisor_maybe_stop_all_done(sup);
}

void brm_supervisor_destroy(struct brm_supervisor *sup)
{
	BRM_ASSERT_LOOP();
	if (!sup)
		return;
	memset(sup->obs, 0, sizeof(sup->obs));
	while (sup->procs) {
		struct brm_proc *p = sup->procs;
		if (p->watch) {
			/* Not settled: the caller broke the contract; don't leak the child. */
			brm_proc_kill_group(p, SIGKILL, false);
			p->watch->p = NULL;
			uv_close((uv_handle_t *)&p->watch->poll, brm_proc_on_watch_closed);
			p->watch = NULL;
		}
		brm_proc_finish_removal(p);
	}
	free(sup);
}

const char *brm_proc_name(const struct brm_proc *p)
{
	BRM_ASSERT_LOOP();
	return p->spec->name;
}

enum brm_state brm_proc_state(const struct brm_proc *p)
{
	BRM_ASSERT_LOOP();
	return p->state;
}

const struct brm_snapshot *brm_proc_snapshot(const struct brm_proc *p)
{
	BRM_ASSERT_LOOP();
	/* The loop thread is the only writer: its own pointer is stable. */
	return p->entry ? rcu_dereference(p->entry->snap) : NULL;
}

int brm_proc_prev_state(const struct brm_proc *p)
{
	BRM_ASSERT_LOOP();
	return p->prev_state;
}

int brm_proc_prev_pid(const struct brm_proc *p)
{
	BRM_ASSERT_LOOP();
	return p->prev_pid;
}

const char *brm_proc_prev_health(const struct brm_proc *p)
{
	BRM_ASSERT_LOOP();
	return p->prev_health;
}

const struct brm_proc_spec *brm_proc_spec(const struct brm_proc *p)
{
	BRM_ASSERT_LOOP();
	return p->spec;
}

bool brm_supervisor_shutting_down(const struct brm_supervisor *sup)
{
	BRM_ASSERT_LOOP();
	return sup->shutting_down;
}

struct brm_supervisor *brm_proc_supervisor(const struct brm_proc *p)
{
	BRM_ASSERT_LOOP();
	return p->sup;
}

void brm_supervisor_set_hooks(struct brm_supervisor *sup, const struct brm_proc_hooks *hooks)
{
	BRM_ASSERT_LOOP();
	if (hooks)
		sup->hooks = *hooks;
	else
		memset(&sup->hooks, 0, sizeof(sup->hooks));
}
