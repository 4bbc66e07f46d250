/*
 * topmodel.c — what `brummctl top` shows, apart from how: the rows from a
 * `status` reply, changed by each event in between, and the view of them
 * (filtered by name, sorted by a column, the selection kept on its name).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/top.h"
#include "lib/util.h"

const char *top_jstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

double top_jnum(const cJSON *o, const char *key, double dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

void top_copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

static long find_proc(const struct top *t, const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->procs[i].name, name))
			return (long)i;
	return -1;
}

/* A new row for @name at the end; NULL past TOP_MAX_PROCS. */
static struct top_proc *add_proc(struct top *t, const char *name)
{
	struct top_proc *p;

	if (t->n >= TOP_MAX_PROCS) {
		t->truncated = true;
		return NULL;
	}
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->procs = brm_xrealloc(t->procs, t->cap * sizeof(*t->procs));
		t->view = brm_xrealloc(t->view, t->cap * sizeof(*t->view));
	}
	p = &t->procs[t->n];
	memset(p, 0, sizeof(*p));
	top_copy(p->name, sizeof(p->name), name);
	p->pid = -1;
	p->uptime = p->cpu = p->rss = -1;
	t->n++;
	return p;
}

/* Every row from a `status` result ({"processes": [SNAP...]}). */
void top_model_from_status(struct top *t, const cJSON *result)
{
	const cJSON *snaps = cJSON_GetObjectItemCaseSensitive(result, "processes"), *s;

	t->n = 0;
	t->truncated = false;
	cJSON_ArrayForEach(s, snaps) {
		const char *name = top_jstr(s, "name");
		struct top_proc *p;

		if (!name || !(p = add_proc(t, name)))
			continue;
		top_copy(p->state, sizeof(p->state), top_jstr(s, "state"));
		top_copy(p->health, sizeof(p->health), top_jstr(s, "health"));
		p->pid = (long)top_jnum(s, "pid", -1);
		p->uptime = top_jnum(s, "uptime_secs", -1);
		p->restarts = (long)top_jnum(s, "restarts", 0);
		p->cpu = top_jnum(s, "cpu_percent", -1);
		p->rss = top_jnum(s, "rss_bytes", -1);
		p->since = top_jnum(s, "since", 0);
	}
}

static bool is_down(const char *state)
{
	return !strcmp(state, "stopped") || !strcmp(state, "exited") || !strcmp(state, "fatal") ||
	       !strcmp(state, "backoff") || !strcmp(state, "waiting");
}

/* One EVENT (proto/PROTOCOL.md "Events") applied to its row. */
void top_model_apply_event(struct top *t, const cJSON *ev)
{
	const char *name = top_jstr(ev, "name"), *kind = top_jstr(ev, "kind"), *to = top_jstr(ev, "to");
	double ts = top_jnum(ev, "ts", 0);
	struct top_proc *p;
	long i;

	if (!name || !to)
		return;
	i = find_proc(t, name);
	if (kind && !strcmp(kind, "health")) {
		if (i >= 0)
			top_copy(t->procs[i].health, sizeof(t->procs[i].health), to);
		return;
	}
	if (!strcmp(to, "removed")) {
		if (i >= 0) {
			t->procs[i] = t->procs[t->n - 1];
			t->n--;
		}
		return;
	}
	if (i >= 0 && ts < t->procs[i].since)
		return;   /* older than the row's status */
	p = i >= 0 ? &t->procs[i] : add_proc(t, name);
	if (!p)
		return;
	top_copy(p->state, sizeof(p->state), to);
	top_copy(p->health, sizeof(p->health), top_jstr(ev, "health"));
	p->pid = is_down(to) ? -1 : (long)top_jnum(ev, "pid", -1);
	if (is_down(to))
		p->uptime = p->cpu = p->rss = -1;
	p->since = ts;
}

static int cmp_num(double a, double b)
{
	return a < b ? -1 : a > b;
}

static int cmp_rows(const void *a, const void *b, void *arg)
{
	const struct top *t = arg;
	const struct top_proc *x = &t->procs[*(const size_t *)a];
	const struct top_proc *y = &t->procs[*(const size_t *)b];
	int r = 0;

	switch (t->sort) {
	case TOP_COL_NAME:
		break;
	case TOP_COL_STATE:
		r = strcmp(x->state, y->state);
		break;
	case TOP_COL_HEALTH:
		r = strcmp(x->health, y->health);
		break;
	case TOP_COL_PID:
		r = cmp_num((double)x->pid, (double)y->pid);
		break;
	case TOP_COL_UPTIME:
		r = cmp_num(x->uptime, y->uptime);
		break;
	case TOP_COL_RESTARTS:
		r = cmp_num((double)x->restarts, (double)y->restarts);
		break;
	case TOP_COL_CPU:
		r = cmp_num(x->cpu, y->cpu);
		break;
	case TOP_COL_MEM:
		r = cmp_num(x->rss, y->rss);
		break;
	case TOP_NCOLS:
		break;
	}
	if (!r)
		r = strcmp(x->name, y->name);
	return t->desc ? -r : r;
}

/* The rows the filter lets through, sorted; the selection follows its name. */
void top_view_update(struct top *t)
{
	t->nview = 0;
	for (size_t i = 0; i < t->n; i++)
		if (!t->filter[0] || strstr(t->procs[i].name, t->filter))
			t->view[t->nview++] = i;
	qsort_r(t->view, t->nview, sizeof(*t->view), cmp_rows, t);
	for (size_t i = 0; i < t->nview; i++)
		if (!strcmp(t->procs[t->view[i]].name, t->sel_name)) {
			t->sel = i;
			return;
		}
	if (t->sel >= t->nview)
		t->sel = t->nview ? t->nview - 1 : 0;
	top_copy(t->sel_name, sizeof(t->sel_name), t->nview ? t->procs[t->view[t->sel]].name : "");
}

void top_select(struct top *t, size_t i)
{
	if (!t->nview)
		return;
	t->sel = i >= t->nview ? t->nview - 1 : i;
	top_copy(t->sel_name, sizeof(t->sel_name), t->procs[t->view[t->sel]].name);
}

void top_sort_by(struct top *t, enum top_col c)
{
	if (c == t->sort)
		t->desc = !t->desc;
	else {
		t->sort = c;
		/* Names and words read A-Z; figures read biggest first. */
		t->desc = c >= TOP_COL_UPTIME;
	}
}

void top_finish(struct top *t)
{
	free(t->procs);
	free(t->view);
	t->procs = NULL;
	t->view = NULL;
	t->n = t->cap = t->nview = 0;
}
