/*
 * placeholders.h — per-process values in a spec's strings: {name},
 * {instance} and {port} in cmd, env values, cwd, log_file and the health
 * check's exec, tcp and http targets.
 *
 *   {name}      the process's name ("web:2" for an instance)
 *   {instance}  the instance number (only with "instances")
 *   {port}      "port" + the instance number (only with "port")
 *
 * A placeholder is '{', a name of letters, digits and '_' not starting with
 * a digit, '}'. Anything else is left as written: "${HOME}" (the shell's),
 * "{print $1}", "{{.Names}}". "{{name}" is the escape for a literal
 * "{name}". An unknown name is an error, so a typo cannot start a process
 * with "{prot}" in its arguments.
 *
 * Context: any thread (pure functions).
 */
#ifndef BRM_PLACEHOLDERS_H
#define BRM_PLACEHOLDERS_H

#include <stddef.h>

struct cJSON;

/* Expanded strings are at most this long (exec's MAX_ARG_STRLEN, NUL included). */
#define BRM_PLACEHOLDER_STR_MAX (128u << 10)
/* All the strings of one spec grow by at most this much. */
#define BRM_PLACEHOLDER_GROWTH_MAX (1u << 20)

struct brm_placeholders {
	const char *name;     /* the process's name */
	long instance;        /* -1: not an instance */
	long port;            /* 0: no "port" */
	size_t growth;        /* bytes added so far (start at 0) */
};

/*
 * Expand the placeholders in the strings of process spec @spec in place
 * (only the keys listed above; the rest is not touched). Each problem is
 * passed to @report with the key path below the spec ("cmd[1]",
 * "env.URL", "health.http") and a message:
 *   unknown placeholder {prot} (known: {name}, {instance}, {port})
 * Returns the number of problems.
 */
unsigned brm_placeholders_apply(struct cJSON *spec, struct brm_placeholders *v,
				void (*report)(void *ctx, const char *key, const char *msg),
				void *ctx);

/*
 * Expand @in into *@out. Returns 0, or -EINVAL with a message in *@why.
 * Ownership: caller frees *@out / *@why.
 */
int brm_placeholders_expand(const char *in, struct brm_placeholders *v, char **out,
			    char **why);

#endif
