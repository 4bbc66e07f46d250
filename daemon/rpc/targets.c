/*
 * targets.c — reading and resolving a request's targets (targets.h).
 *
 * Resolution looks every plain name up first (a status of one process
 * stays one hash lookup). Only when a name is not a process (it may be a
 * group) or a pattern was given does it walk the set once, judging each
 * process against the patterns (bounded: at most 8, each O(64 x 64)) and
 * its group name, if it has one, against the missing names (a binary
 * search). The picks are then put in order and made unique by sorting.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/rpc/request.h"
#include "daemon/rpc/targets.h"
#include "lib/registry.h"
#include "lib/util.h"
#include "proto/selector.h"

/* Check one selector @v at @path; counts patterns in *@npat. */
static bool check_one(const cJSON *v, const char *path, unsigned *npat, struct brm_buf *err)
{
	const char *why;

	if (!cJSON_IsString(v)) {
		brm_buf_addf(err, "%s: expected a process name, group or pattern (a string), got %s",
			     path, brm_json_type(v));
		return false;
	}
	why = brm_selector_check(v->valuestring);
	if (why) {
		brm_buf_addf(err, "%s: invalid name or pattern \"%.80s%s\": %s", path,
			     v->valuestring, strlen(v->valuestring) > 80 ? "..." : "", why);
		return false;
	}
	if (brm_selector_is_pattern(v->valuestring) && ++*npat > BRM_SELECTOR_MAX_PATTERNS) {
		brm_buf_addf(err, "%s: more than %d patterns in one request", path,
			     BRM_SELECTOR_MAX_PATTERNS);
		return false;
	}
	return true;
}

int brm_targets_parse(const cJSON *params, unsigned flags, size_t max_names,
		      struct brm_targets *t, struct brm_buf *err)
{
	const cJSON *name = NULL, *names = NULL, *all = NULL, *it;
	unsigned npat = 0;
	int given;
	size_t i = 0;

	memset(t, 0, sizeof(*t));
	brm_buf_reset(err);
	if (params) {
		name = cJSON_GetObjectItemCaseSensitive(params, "name");
		names = cJSON_GetObjectItemCaseSensitive(params, "names");
		all = cJSON_GetObjectItemCaseSensitive(params, "all");
	}
	given = !!name + !!names + !!all;
	if (given > 1) {
		brm_buf_adds(err, "params: give only one of \"name\", \"names\" and \"all\"");
		return -EINVAL;
	}
	if (!given) {
		if (flags & BRM_TARGETS_NONE_IS_ALL) {
			t->all = true;
			return 0;
		}
		brm_buf_adds(err, "params: missing \"name\" (or \"names\", or \"all\": true)");
		return -EINVAL;
	}
	if (all) {
		if (!cJSON_IsTrue(all)) {
			brm_buf_addf(err, "params.all: expected true, got %s",
				     cJSON_IsFalse(all) ? "false" : brm_json_type(all));
			return -EINVAL;
		}
		t->all = true;
		return 0;
	}
	if (name) {
		if (!check_one(name, "params.name", &npat, err))
			return -EINVAL;
		t->sel = brm_xcalloc(2, sizeof(char *));
		t->sel[0] = brm_xstrdup(name->valuestring);
		t->n = 1;
		return 0;
	}
	if (!cJSON_IsArray(names) || cJSON_GetArraySize(names) == 0 ||
	    (max_names && (size_t)cJSON_GetArraySize(names) > max_names)) {
		if (max_names)
			brm_buf_addf(err, "params.names: expected an array of 1 to %zu process"
				     " names, groups or patterns, got %s", max_names,
				     cJSON_IsArray(names) ? (cJSON_GetArraySize(names) ? "more" :
							     "an empty array") : brm_json_type(names));
		else
			brm_buf_addf(err, "params.names: expected a non-empty array of process"
				     " names, groups or patterns, got %s",
				     cJSON_IsArray(names) ? "an empty array" : brm_json_type(names));
		return -EINVAL;
	}
	cJSON_ArrayForEach(it, names) {
		char path[40];

		snprintf(path, sizeof(path), "params.names[%zu]", i++);
		if (!check_one(it, path, &npat, err))
			return -EINVAL;
	}
	t->n = i;
	t->sel = brm_xcalloc(i + 1, sizeof(char *));
	i = 0;
	cJSON_ArrayForEach(it, names)
		t->sel[i++] = brm_xstrdup(it->valuestring);
	return 0;
}

void brm_targets_finish(struct brm_targets *t)
{
	if (t->sel)
		for (size_t i = 0; i < t->n; i++)
			free(t->sel[i]);
	free(t->sel);
	memset(t, 0, sizeof(*t));
}

bool brm_targets_match_name(const struct brm_targets *t, const char *name)
{
	if (t->all)
		return true;
	for (size_t i = 0; i < t->n; i++)
		if (brm_selector_matches(t->sel[i], name))
			return true;
	return false;
}

/* ---- resolving ---------------------------------------------------------- */

struct pick {
	void *item;
	const char *name;
	size_t sel;            /* the first selector that took it */
};

/* A name that is not a process: maybe a group. */
struct missing {
	const char *name;
	size_t sel;
};

struct walk {
	const struct brm_targets *t;
	const struct brm_target_src *src;
	struct pick *picks;
	size_t n, cap;
	bool *hit;              /* [t->n] */
	struct missing *miss;   /* sorted by name, then sel */
	size_t nmiss;
	size_t *pats;           /* indexes of the patterns */
	size_t npats;
};

static void add_pick(struct walk *w, void *item, const char *name, size_t sel)
{
	if (w->n == w->cap) {
		w->cap = w->cap ? 2 * w->cap : 16;
		w->picks = brm_xrealloc(w->picks, w->cap * sizeof(*w->picks));
	}
	w->picks[w->n].item = item;
	w->picks[w->n].name = name;
	w->picks[w->n].sel = sel;
	w->n++;
}

static int cmp_missing(const void *a, const void *b)
{
	const struct missing *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return x->sel < y->sel ? -1 : x->sel > y->sel;
}

/* The first missing entry named @group (@len bytes), or NULL. */
static const struct missing *find_missing(const struct walk *w, const char *group, size_t len)
{
	size_t lo = 0, hi = w->nmiss;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strncmp(w->miss[mid].name, group, len);

		if (!c && w->miss[mid].name[len])
			c = 1;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < w->nmiss && !strncmp(w->miss[lo].name, group, len) && !w->miss[lo].name[len])
		return &w->miss[lo];
	return NULL;
}

/* The length of @name's group ("web" of "web:12"), or 0 when it has none. */
static size_t group_len(const char *name)
{
	const char *colon = strrchr(name, ':'), *d;

	if (!colon || colon == name || !colon[1])
		return 0;
	for (d = colon + 1; *d; d++)
		if (*d < '0' || *d > '9')
			return 0;
	return (size_t)(colon - name);
}

static void walk_one(void *item, void *arg)
{
	struct walk *w = arg;
	const char *name = w->src->name_of(item);
	size_t first = (size_t)-1, glen;

	if (w->t->all) {
		add_pick(w, item, name, 0);
		return;
	}
	if (w->nmiss && (glen = group_len(name))) {
		const struct missing *m = find_missing(w, name, glen);

		if (m) {
			first = m->sel;
			for (; m < w->miss + w->nmiss && !strncmp(m->name, name, glen) &&
			       !m->name[glen]; m++)
				w->hit[m->sel] = true;
		}
	}
	for (size_t k = 0; k < w->npats; k++) {
		size_t j = w->pats[k];

		if (brm_glob_match(w->t->sel[j], name)) {
			w->hit[j] = true;
			if (j < first)
				first = j;
		}
	}
	if (first != (size_t)-1)
		add_pick(w, item, name, first);
}

static int cmp_item(const void *a, const void *b)
{
	const struct pick *x = a, *y = b;

	if (x->item != y->item)
		return (uintptr_t)x->item < (uintptr_t)y->item ? -1 : 1;
	return x->sel < y->sel ? -1 : x->sel > y->sel;
}

static int cmp_order(const void *a, const void *b)
{
	const struct pick *x = a, *y = b;

	if (x->sel != y->sel)
		return x->sel < y->sel ? -1 : 1;
	return strcmp(x->name, y->name);
}

int brm_targets_resolve(const struct brm_targets *t, const struct brm_target_src *src,
			void ***items, size_t *n, struct brm_buf *err)
{
	struct walk w = { .t = t, .src = src };
	size_t kept = 0;
	int r = 0;

	brm_buf_reset(err);
	*items = NULL;
	*n = 0;
	if (!t->all) {
		w.hit = brm_xcalloc(t->n ? t->n : 1, sizeof(*w.hit));
		w.miss = brm_xcalloc(t->n ? t->n : 1, sizeof(*w.miss));
		w.pats = brm_xcalloc(t->n ? t->n : 1, sizeof(*w.pats));
		for (size_t j = 0; j < t->n; j++) {
			void *item;

			if (brm_selector_is_pattern(t->sel[j])) {
				w.pats[w.npats++] = j;
			} else if ((item = src->find(src->ctx, t->sel[j]))) {
				w.hit[j] = true;
				add_pick(&w, item, src->name_of(item), j);
			} else {
				w.miss[w.nmiss].name = t->sel[j];
				w.miss[w.nmiss].sel = j;
				w.nmiss++;
			}
		}
		qsort(w.miss, w.nmiss, sizeof(*w.miss), cmp_missing);
	}
	if (t->all || w.nmiss || w.npats)
		src->each(src->ctx, walk_one, &w);
	for (size_t j = 0; !t->all && j < t->n; j++) {
		if (w.hit[j])
			continue;
		if (brm_selector_is_pattern(t->sel[j]))
			brm_buf_addf(err, "no process matches '%s'", t->sel[j]);
		else
			brm_buf_addf(err, "no such process '%s'", t->sel[j]);
		r = -ENOENT;
		goto out;
	}
	/* Each item once, at its first selector; then in request order. */
	if (w.n > 1) {
		qsort(w.picks, w.n, sizeof(*w.picks), cmp_item);
		for (size_t i = 0; i < w.n; i++)
			if (!kept || w.picks[kept - 1].item != w.picks[i].item)
				w.picks[kept++] = w.picks[i];
		w.n = kept;
		qsort(w.picks, w.n, sizeof(*w.picks), cmp_order);
	}
	*items = brm_xcalloc(w.n ? w.n : 1, sizeof(void *));
	for (size_t i = 0; i < w.n; i++)
		(*items)[i] = w.picks[i].item;
	*n = w.n;
out:
	free(w.picks);
	free(w.hit);
	free(w.miss);
	free(w.pats);
	return r;
}

/* ---- the registry as a source ------------------------------------------- */

static void *reg_find(void *ctx, const char *name)
{
	return brm_registry_find(ctx, name);
}

static void reg_each(void *ctx, void (*fn)(void *item, void *arg), void *arg)
{
	struct brm_reg_iter it;
	struct brm_reg_entry *e;

	brm_registry_for_each((struct brm_registry *)ctx, &it, e)
		fn(e, arg);
}

static const char *reg_name(const void *item)
{
	return ((const struct brm_reg_entry *)item)->name;
}

void brm_targets_registry_src(struct brm_target_src *src, struct brm_registry *reg)
{
	src->find = reg_find;
	src->each = reg_each;
	src->name_of = reg_name;
	src->ctx = reg;
}
