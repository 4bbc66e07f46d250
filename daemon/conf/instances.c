/*
 * instances.c — names and environment of a process's copies (instances.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/conf/instances.h"
#include "lib/util.h"
#include "proto/proto.h"

#define ENV_KEY "BRUMMD_INSTANCE="

bool brm_instance_name(char *buf, size_t size, const char *base, unsigned i)
{
	int n = snprintf(buf, size, "%s:%u", base, i);

	return n > 0 && (size_t)n < size && brm_name_valid(buf);
}

void brm_instance_env(struct brm_proc_spec *s, unsigned i)
{
	size_t n = brm_strv_len(s->env);
	char *var = brm_xasprintf(ENV_KEY "%u", i);

	for (size_t k = 0; k < n; k++) {
		if (!strncmp(s->env[k], ENV_KEY, strlen(ENV_KEY))) {
			free(s->env[k]);
			s->env[k] = var;
			return;
		}
	}
	s->env = brm_xrealloc(s->env, (n + 2) * sizeof(*s->env));
	s->env[n] = var;
	s->env[n + 1] = NULL;
}
