/*
 * accessspec.c — the "access" key of the config (accessspec.h): who may
 * connect, as user and group names or ids, and who may only read.
 * Names are resolved later, by access.c.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "daemon/conf/accessspec.h"
#include "daemon/conf/diag.h"
#include "daemon/conf/values.h"
#include "lib/util.h"

static const char *const access_keys[] = { "users", "groups", "readers", NULL };
static const char *const reader_keys[] = { "users", "groups", NULL };

/* An array of user or group names, or ids (stored as decimal strings). */
static void parse_idlist(struct brm_report *r, const char *path, const cJSON *v, char ***out)
{
	const cJSON *c;
	size_t n = 0, i = 0;

	if (!cJSON_IsArray(v)) {
		brm_report(r, path, "expected an array of names or ids, got %s", brm_type_name(v));
		return;
	}
	brm_strv_free(*out);
	cJSON_ArrayForEach(c, v)
		n++;
	*out = brm_xcalloc(n + 1, sizeof(char *));
	cJSON_ArrayForEach(c, v) {
		char *p = brm_xasprintf("%s[%zu]", path, i);
		if (cJSON_IsString(c) && c->valuestring[0] && strlen(c->valuestring) < 256)
			(*out)[i++] = brm_xstrdup(c->valuestring);
		else if (brm_conf_int_in(c, 0, 0xfffffffeL))
			(*out)[i++] = brm_xasprintf("%ld", (long)c->valuedouble);
		else
			brm_report(r, p, "expected a user or group name or a non-negative id, got %s",
				   brm_type_name(c));
		free(p);
	}
}


static void reader_one(struct brm_report *r, const char *p, const char *k, const cJSON *c,
		       void *ctx)
{
	struct brm_access_spec *a = ctx;

	parse_idlist(r, p, c, !strcmp(k, "users") ? &a->reader_users : &a->reader_groups);
}

static void access_one(struct brm_report *r, const char *p, const char *k, const cJSON *c,
		       void *ctx)
{
	struct brm_access_spec *a = ctx;

	if (!strcmp(k, "readers"))
		brm_parse_object_keys(r, p, c, reader_keys, a, reader_one);
	else
		parse_idlist(r, p, c, !strcmp(k, "users") ? &a->users : &a->groups);
}


/* "access": who may connect, users and groups, and readers. */
void brm_access_spec_parse(struct brm_report *r, const char *path, const cJSON *v,
			   struct brm_access_spec *a)
{
	brm_parse_object_keys(r, path, v, access_keys, a, access_one);
}
