/*
 * instances.h — "instances": N on a process in the config runs N copies,
 * NAME:0 ... NAME:N-1, each with BRUMMD_INSTANCE=i in its environment.
 * The copies are ordinary processes from then on: config parsing expands
 * them (daemon/conf/config.c), so reload adds and removes copies by name like
 * any process and leaves the unchanged ones alone.
 *
 * Context: any thread (pure functions).
 */
#ifndef BRM_INSTANCES_H
#define BRM_INSTANCES_H

#include <stdbool.h>
#include <stddef.h>

#include "daemon/conf/spec.h"

#define BRM_MAX_INSTANCES 1000

/* "web:3" into @buf. Returns false when it would not be a valid name. */
bool brm_instance_name(char *buf, size_t size, const char *base, unsigned i);

/* Set BRUMMD_INSTANCE=@i in @s's environment, replacing one given there. */
void brm_instance_env(struct brm_proc_spec *s, unsigned i);

#endif
