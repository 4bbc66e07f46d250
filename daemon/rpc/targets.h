/*
 * targets.h — which processes a request means: its "name", "names" or
 * "all" params, each name a selector (proto/selector.h: a process, an
 * instance group, or a glob pattern), read once here and resolved here
 * for every method, so that status, logs, errors, events, start, stop,
 * restart, signal and wait agree on what a name addresses.
 *
 * Parsing is pure (any thread). Resolving walks a set of processes given
 * as a struct brm_target_src: the registry on a worker (readers), the
 * supervisor on the loop thread; the caller's context is the source's.
 */
#ifndef BRM_TARGETS_H
#define BRM_TARGETS_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"

struct cJSON;
struct brm_registry;

/* What a request names. */
struct brm_targets {
	bool all;          /* "all": true, or nothing named where that means all */
	size_t n;
	char **sel;        /* @n selectors, NULL-terminated; NULL with all */
};

enum {
	/* No "name"/"names"/"all": every process (status, logs, errors,
	 * events); without the flag that is an error. */
	BRM_TARGETS_NONE_IS_ALL = 1 << 0,
};

/*
 * Read "name", "names" and "all" from @params (an object, or NULL) into
 * @t, checking each selector and the bounds: at most @max_names entries in
 * "names" (0: no limit beyond the request size), at most
 * BRM_SELECTOR_MAX_PATTERNS patterns of at most BRM_SELECTOR_MAX_LEN bytes.
 * Returns 0, or -EINVAL with a message naming the parameter in @err
 * (reset first): the reply is -32602 with it.
 * Ownership: on success the caller frees with brm_targets_finish(), or
 * takes t->sel (then sets it NULL). On failure @t holds nothing.
 */
int brm_targets_parse(const struct cJSON *params, unsigned flags, size_t max_names,
		      struct brm_targets *t, struct brm_buf *err);

void brm_targets_finish(struct brm_targets *t);

/*
 * A set of processes to resolve against. @find looks a name up (NULL when
 * absent); @each calls @fn for every process; @name_of gives an item's
 * name (valid while the item is).
 */
struct brm_target_src {
	void *(*find)(void *ctx, const char *name);
	void (*each)(void *ctx, void (*fn)(void *item, void *arg), void *arg);
	const char *(*name_of)(const void *item);
	void *ctx;
};

/*
 * The processes @t names in @src, each once: with all, every one sorted by
 * name; otherwise selector by selector in the order given, the processes
 * of a group or pattern sorted by name (a process an earlier selector took
 * already is not repeated). Looks each plain name up directly and walks
 * @src once only when a group or pattern needs it.
 * Returns 0 with *@items (caller frees, never NULL) and *@n; or -ENOENT
 * when a selector takes nothing (a name that is neither a process nor a
 * group: `no such process 'x'`; a pattern: `no process matches 'x*'`),
 * with the message in @err (reset first): the reply is -32001 with it.
 */
int brm_targets_resolve(const struct brm_targets *t, const struct brm_target_src *src,
			void ***items, size_t *n, struct brm_buf *err);

/*
 * @src over the registry: items are struct brm_reg_entry.
 * Context: caller holds rcu_read_lock() while it resolves and uses them.
 */
void brm_targets_registry_src(struct brm_target_src *src, struct brm_registry *reg);

/*
 * Does @t take @name, judged by the name alone (brm_selector_matches):
 * for filters over processes that may be added later.
 */
bool brm_targets_match_name(const struct brm_targets *t, const char *name);

#endif
