/*
 * depcheck.c — the orchestration keys checked across all processes of a
 * config (depcheck.h): dependency names that match no process or instance
 * group, "healthy" on a process without a health check, and cycles,
 * found by a depth-first walk.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/conf/depcheck.h"
#include "daemon/conf/orchspec.h"
#include "daemon/conf/spec.h"
#include "lib/buf.h"
#include "lib/util.h"
#include "proto/selector.h"

static int spec_find(struct brm_proc_spec *const *procs, size_t n, const char *name)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(procs[mid]->name, name);

		if (!c)
			return (int)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/*
 * The specs a dependency on @name stands for: the process of that name,
 * or the instances of the group of that name (proto/selector.h). Every
 * "NAME:..." name sorts together, so the candidates are the range
 * [*@lo, *@hi) of @procs (sorted by name); takes() tells the members.
 */
static void spec_range(struct brm_proc_spec *const *procs, size_t n, const char *name,
		       size_t *lo_out, size_t *hi_out)
{
	int j = spec_find(procs, n, name);
	size_t lo = 0, hi = n, len = strlen(name);

	if (j >= 0) {
		*lo_out = (size_t)j;
		*hi_out = (size_t)j + 1;
		return;
	}
	/* The first name that does not sort below "NAME:". */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strncmp(procs[mid]->name, name, len);

		if (c == 0)
			c = (unsigned char)procs[mid]->name[len] < ':' ? -1 : 0;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*lo_out = hi = lo;
	while (hi < n && !strncmp(procs[hi]->name, name, len) && procs[hi]->name[len] == ':')
		hi++;
	*hi_out = hi;
}

/* Does a dependency on @name (whose candidates spec_range gave) take @s? */
static bool takes(const char *name, const struct brm_proc_spec *s)
{
	return !strcmp(name, s->name) || brm_name_in_group(name, s->name);
}

struct walk {
	struct brm_proc_spec *const *procs;
	size_t n;
	unsigned char *color;    /* 0 white, 1 on the stack, 2 done */
	size_t *stack;
	size_t depth;
	void (*report)(void *ctx, const char *path, const char *msg);
	void *ctx;
};

static void visit(struct walk *w, size_t i);

/* The edge from the top of the stack to @j. */
static void visit_dep(struct walk *w, size_t j)
{
	if (w->color[j] == 1) {
		struct brm_buf b = BRM_BUF_INIT;
		size_t k = 0;
		char *path;

		while (w->stack[k] != j)
			k++;
		brm_buf_adds(&b, "dependency cycle ");
		for (size_t m = k; m < w->depth; m++)
			brm_buf_addf(&b, "%s -> ", w->procs[w->stack[m]]->name);
		brm_buf_adds(&b, w->procs[j]->name);
		path = brm_xasprintf("processes.%s.depends_on", w->procs[j]->name);
		w->report(w->ctx, path, b.p);
		free(path);
		brm_buf_finish(&b);
	} else if (w->color[j] == 0) {
		visit(w, j);
	}
}

static void visit(struct walk *w, size_t i)
{
	const struct brm_orch_spec *o = w->procs[i]->orch;

	w->color[i] = 1;
	w->stack[w->depth++] = i;
	for (size_t d = 0; o && d < o->ndeps; d++) {
		size_t lo, hi;

		spec_range(w->procs, w->n, o->deps[d].name, &lo, &hi);
		for (size_t j = lo; j < hi; j++)
			if (takes(o->deps[d].name, w->procs[j]))
				visit_dep(w, j);
	}
	w->depth--;
	w->color[i] = 2;
}

void brm_orch_validate(struct brm_proc_spec *const *procs, size_t n,
		       void (*report)(void *ctx, const char *path, const char *msg),
		       void *ctx)
{
	struct walk w = { procs, n, NULL, NULL, 0, report, ctx };

	for (size_t i = 0; i < n; i++) {
		const struct brm_orch_spec *o = procs[i]->orch;

		for (size_t d = 0; o && d < o->ndeps; d++) {
			char *path = brm_xasprintf("processes.%s.depends_on.%s", procs[i]->name,
						   o->deps[d].name);
			size_t lo, hi, found = 0;
			bool health = true;

			spec_range(procs, n, o->deps[d].name, &lo, &hi);
			for (size_t j = lo; j < hi; j++) {
				if (!takes(o->deps[d].name, procs[j]))
					continue;
				found++;
				if (!(procs[j]->orch && procs[j]->orch->health))
					health = false;
			}
			if (!found)
				report(ctx, path, "no such process or instance group in the config");
			else if (o->deps[d].cond == BRM_DEP_HEALTHY && !health)
				report(ctx, path, "\"healthy\" needs a \"health\" check on that process");
			free(path);
		}
	}
	w.color = brm_xcalloc(n ? n : 1, 1);
	w.stack = brm_xcalloc(n ? n : 1, sizeof(*w.stack));
	for (size_t i = 0; i < n; i++)
		if (!w.color[i])
			visit(&w, i);
	free(w.color);
	free(w.stack);
}
