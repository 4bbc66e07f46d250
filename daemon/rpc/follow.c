/*
 * follow.c — log followers (see rpc/follow.h for the design).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/log.h"
#include "daemon/logpub.h"
#include "daemon/rpc/logquery.h"
#include "daemon/rpc/follow.h"
#include "lib/registry.h"
#include "lib/util.h"
#include "proto/selector.h"

struct brm_wake_slot {
	int evfd;
	int nfollow;     /* atomic: followers on this worker */
	int pending;     /* atomic: a wake-up is in flight */
};

/* One per worker of the server (brm_stream_workers), so none goes unwoken. */
static struct brm_wake_slot *slots;
static int slots_cap;
static int nslots;   /* atomic: how many workers took theirs */
static __thread struct brm_wake_slot *my_slot;

struct follow_name {
	char *name;
	uint64_t next;
	const void *pub;   /* the ring this position belongs to */
	bool fresh;        /* found by a rescan: start at its oldest line held */
	bool moved;        /* rescan: taken into the new list */
};

struct brm_stream {
	struct follow_name *names;   /* sorted by name */
	unsigned nnames;
	unsigned streams;
	struct brm_pattern *re;   /* grep, or NULL */
	unsigned turn;            /* the name a pump starts with */
	bool yielded;             /* the last pump ran out of its time slice */
	struct brm_wake_slot *slot;
	struct brm_targets targets;
	bool dynamic;             /* all, a group or a pattern: look again on changes */
	uint64_t changes;         /* brm_registry_changes when last looked */
};

/* Context: loop thread, after new lines. Never blocks. */
static void wake_followers(void)
{
	int n = __atomic_load_n(&nslots, __ATOMIC_ACQUIRE);
	uint64_t one = 1;

	for (int i = 0; i < n; i++) {
		struct brm_wake_slot *s = &slots[i];

		if (!__atomic_load_n(&s->nfollow, __ATOMIC_RELAXED))
			continue;
		if (__atomic_exchange_n(&s->pending, 1, __ATOMIC_ACQ_REL))
			continue;
		if (write(s->evfd, &one, sizeof(one)) < 0) {
			/* EAGAIN: the counter is saturated, the worker is awake */
		}
	}
}

void brm_stream_wake_all(void)
{
	wake_followers();
}

struct brm_wake_slot *brm_stream_hold(void)
{
	if (!my_slot)
		return NULL;
	__atomic_add_fetch(&my_slot->nfollow, 1, __ATOMIC_RELAXED);
	/* Something may have come between the reply and now: look at once. */
	if (my_slot->evfd >= 0) {
		uint64_t one = 1;
		if (write(my_slot->evfd, &one, sizeof(one)) < 0) {
			/* saturated: awake anyway */
		}
	}
	return my_slot;
}

void brm_stream_release(struct brm_wake_slot *slot)
{
	if (slot)
		__atomic_sub_fetch(&slot->nfollow, 1, __ATOMIC_RELAXED);
}

void brm_stream_init(void)
{
	brm_logs_on_lines = wake_followers;
}

void brm_stream_workers(int n)
{
	free(slots);
	slots = n > 0 ? brm_xcalloc((size_t)n, sizeof(*slots)) : NULL;
	slots_cap = n > 0 ? n : 0;
	__atomic_store_n(&nslots, 0, __ATOMIC_RELEASE);
}

void brm_stream_workers_done(void)
{
	brm_stream_workers(0);
}

void brm_stream_worker_init(int evfd)
{
	int i = __atomic_load_n(&nslots, __ATOMIC_RELAXED);

	/* Workers start one after another from the main thread, but be safe. */
	while (i < slots_cap &&
	       !__atomic_compare_exchange_n(&nslots, &i, i + 1, false, __ATOMIC_ACQ_REL,
					    __ATOMIC_RELAXED))
		;
	if (i >= slots_cap) {
		/* More workers than brm_stream_workers() was told: a bug. */
		brm_log_error("log follow: worker %d has no wake slot (%d made)", i + 1,
			      slots_cap);
		return;
	}
	slots[i].evfd = evfd;
	my_slot = &slots[i];
}

void brm_stream_worker_woken(void)
{
	if (my_slot)
		__atomic_store_n(&my_slot->pending, 0, __ATOMIC_RELEASE);
}

bool brm_stream_worker_busy(void)
{
	return my_slot && __atomic_load_n(&my_slot->nfollow, __ATOMIC_RELAXED) > 0;
}

void brm_stream_destroy(struct brm_stream *st)
{
	if (!st)
		return;
	if (st->slot)
		__atomic_sub_fetch(&st->slot->nfollow, 1, __ATOMIC_RELAXED);
	for (unsigned i = 0; i < st->nnames; i++)
		free(st->names[i].name);
	free(st->names);
	brm_pattern_destroy(st->re);
	brm_targets_finish(&st->targets);
	free(st);
}

static int cmp_follow(const void *a, const void *b)
{
	return strcmp(((const struct follow_name *)a)->name, ((const struct follow_name *)b)->name);
}

/* Is a name among @names (@n of them)? */
static bool listed(char **names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(names[i], name))
			return true;
	return false;
}

void brm_stream_follow(struct brm_stream **slot, struct brm_logs_query *q, char **names,
		       const uint64_t *nexts, size_t n, uint64_t changes)
{
	struct brm_stream *st = brm_xcalloc(1, sizeof(*st));

	brm_stream_destroy(*slot);
	st->names = brm_xcalloc(n ? n : 1, sizeof(*st->names));
	st->nnames = (unsigned)n;
	for (size_t i = 0; i < n; i++) {
		st->names[i].name = names[i];
		st->names[i].next = nexts[i];
		st->names[i].pub = NULL;
	}
	qsort(st->names, n, sizeof(*st->names), cmp_follow);
	st->targets = q->targets;
	memset(&q->targets, 0, sizeof(q->targets));
	/* Only names that are processes themselves: the list is final. */
	st->dynamic = st->targets.all;
	for (size_t j = 0; j < st->targets.n; j++)
		if (brm_selector_is_pattern(st->targets.sel[j]) ||
		    !listed(names, n, st->targets.sel[j]))
			st->dynamic = true;
	free(names);
	st->changes = changes;
	st->streams = q->streams;
	st->re = q->re;
	q->re = NULL;
	st->slot = my_slot;
	if (my_slot)
		__atomic_add_fetch(&my_slot->nfollow, 1, __ATOMIC_RELAXED);
	*slot = st;
	/* Lines may have come between the reply and now: look at once. */
	if (my_slot && my_slot->evfd >= 0) {
		uint64_t one = 1;
		if (write(my_slot->evfd, &one, sizeof(one)) < 0) {
			/* saturated: awake anyway */
		}
	}
}

/*
 * A name was added or deleted since @st last looked: follow what its
 * targets take now, keeping the position of every name it had, starting
 * new ones at their oldest line, dropping those that are gone.
 * Context: caller holds rcu_read_lock().
 */
static void rescan(struct brm_stream *st, struct brm_registry *reg)
{
	struct follow_name *nv = NULL, key = { 0 };
	struct brm_reg_iter it;
	struct brm_reg_entry *e;
	size_t n = 0, cap = 0;

	st->changes = brm_registry_changes(reg);
	brm_registry_for_each(reg, &it, e) {
		struct follow_name *old;

		if (!brm_targets_match_name(&st->targets, e->name))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			nv = brm_xrealloc(nv, cap * sizeof(*nv));
		}
		key.name = (char *)e->name;
		old = st->nnames ? bsearch(&key, st->names, st->nnames, sizeof(*st->names),
					   cmp_follow) : NULL;
		if (old && !old->moved) {
			nv[n] = *old;
			old->moved = true;
		} else {
			nv[n].name = brm_xstrdup(e->name);
			nv[n].next = 0;
			nv[n].pub = NULL;
			nv[n].fresh = true;
			nv[n].moved = false;
		}
		n++;
	}
	for (unsigned i = 0; i < st->nnames; i++)
		if (!st->names[i].moved)
			free(st->names[i].name);
	free(st->names);
	if (n)
		qsort(nv, n, sizeof(*nv), cmp_follow);
	st->names = nv;
	st->nnames = (unsigned)n;
	st->turn = 0;
}

static void gap_notice(struct brm_buf *out, const char *name, uint64_t missed, uint64_t next)
{
	brm_buf_adds(out, "{\"jsonrpc\":\"2.0\",\"method\":\"logs.gap\",\"params\":{\"name\":");
	brm_json_str(out, name);
	brm_buf_adds(out, ",\"missed\":");
	brm_json_uint(out, missed);
	brm_buf_adds(out, ",\"next_seq\":");
	brm_json_uint(out, next);
	brm_buf_adds(out, "}}\n");
}

/* A line the grep could not judge within its limits: said, then skipped. */
static void skip_notice(struct brm_buf *out, const char *name, uint64_t seq, const char *why)
{
	brm_buf_adds(out, "{\"jsonrpc\":\"2.0\",\"method\":\"logs.skipped\",\"params\":{\"name\":");
	brm_json_str(out, name);
	brm_buf_adds(out, ",\"seq\":");
	brm_json_uint(out, seq);
	brm_buf_adds(out, ",\"reason\":");
	brm_json_str(out, why);
	brm_buf_adds(out, "}}\n");
}

/*
 * With a grep, one pump searches for at most BRM_STREAM_GREP_SLICE_MS, then
 * wakes its worker again and returns, so that a costly pattern on a busy
 * process delays the worker's other connections by one slice at most.
 */
void brm_stream_pump(struct brm_stream *st, struct brm_registry *reg, struct brm_buf *out,
		     struct brm_buf *line)
{
	struct brm_logs_query q;
	uint64_t t0 = brm_now_mono_ns();
	unsigned searched = 0;
	bool more = false;

	memset(&q, 0, sizeof(q));
	q.streams = st->streams;
	q.re = st->re;
	rcu_read_lock();
	if (st->dynamic && brm_registry_changes(reg) != st->changes)
		rescan(st, reg);
	/* After a pump that ran out of time, the next starts at the next name:
	 * a busy one cannot starve the rest. */
	if (st->yielded && st->nnames)
		st->turn = (st->turn + 1) % st->nnames;
	for (unsigned k = 0; k < st->nnames && out->len < BRM_STREAM_OUT_MAX && !more; k++) {
		struct follow_name *fn = &st->names[(st->turn + k) % st->nnames];
		bool exists;
		struct brm_logpub *pub = brm_logs_find(reg, fn->name, &exists);
		uint64_t first, next;

		if (!pub)
			continue;
		if (fn->pub && fn->pub != pub)
			fn->next = 1;   /* removed and added again: a new ring */
		fn->pub = pub;
		brm_logring_bounds(pub->ring, &first, &next);
		if (fn->fresh) {
			fn->next = first;
			fn->fresh = false;
		}
		brm_buf_reset(line);
		brm_buf_grow(line, brm_logring_max_line(pub->ring) + 1);
		while (fn->next < next && out->len < BRM_STREAM_OUT_MAX) {
			struct brm_logline l;
			int r, m;

			if (q.re && ++searched % 16 == 0 &&
			    brm_now_mono_ns() - t0 > BRM_STREAM_GREP_SLICE_MS * 1000000ull) {
				more = true;
				break;
			}
			r = brm_logring_read(pub->ring, fn->next, &l, line->p, line->cap - 1);

			if (r == -ENOENT) {
				uint64_t to = brm_logring_resume(pub->ring, fn->next);

				gap_notice(out, fn->name, to - fn->next, to);
				fn->next = to;
				continue;
			}
			if (r < 0)
				break;
			fn->next++;
			m = brm_logs_match(&q, &l, line->p);
			if (m < 0)
				skip_notice(out, fn->name, l.seq, brm_pattern_limit(q.re));
			if (m <= 0)
				continue;
			brm_buf_adds(out, "{\"jsonrpc\":\"2.0\",\"method\":\"logs\",\"params\":");
			brm_logline_json(out, fn->name, &l, line->p);
			brm_buf_adds(out, "}\n");
		}
	}
	rcu_read_unlock();
	st->yielded = more;
	if (st->re)
		brm_pattern_trim(st->re);
	if (more && st->slot && st->slot->evfd >= 0) {
		uint64_t one = 1;
		if (write(st->slot->evfd, &one, sizeof(one)) < 0) {
			/* saturated: awake anyway */
		}
	}
}
