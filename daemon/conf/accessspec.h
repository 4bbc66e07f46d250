/*
 * accessspec.h — the config's "access" section as written: user and group
 * names (or decimal ids), "*" for anyone. access.h resolves it and checks
 * peers against it.
 *
 * Context: any thread (pure parsing).
 */
#ifndef BRM_CONF_ACCESSSPEC_H
#define BRM_CONF_ACCESSSPEC_H

struct cJSON;
struct brm_report;

/* "access": user and group names (or decimal ids) as written; "*" is anyone. */
struct brm_access_spec {
	char **users;             /* every method (root and the daemon's uid always) */
	char **groups;
	char **reader_users;      /* read-only methods only */
	char **reader_groups;
};

/* The object at @path ("access") into @a; problems go to @r (diag.h). */
void brm_access_spec_parse(struct brm_report *r, const char *path, const struct cJSON *v,
			   struct brm_access_spec *a);

#endif
