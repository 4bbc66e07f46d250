/*
 * mcp_args.c — the arguments of `brummctl mcp`'s tools: the JSON Schemas
 * tools/list shows, made from each tool's list of arguments (mcp_tools.c),
 * and the check of a tools/call's arguments against the same list, so the
 * two cannot disagree. An argument that breaks its schema is a -32602
 * error naming it.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cjson/cJSON.h>

#include "cli/brummctl.h"
#include "cli/mcp.h"
#include "lib/client.h"
#include "lib/util.h"

#define MAX_STRING 4096
#define MAX_NAMES 64
#define MAX_NAME_BYTES 64
#define MAX_STRV 1024
#define MAX_ENV 1024

cJSON *mcp_checked(cJSON *v)
{
	if (!v)
		brm_oom(0);
	return v;
}

void mcp_add(cJSON *obj, const char *key, cJSON *v)
{
	if (!cJSON_AddItemToObject(obj, key, mcp_checked(v)))
		brm_oom(0);
}

void mcp_push(cJSON *arr, cJSON *v)
{
	if (!cJSON_AddItemToArray(arr, mcp_checked(v)))
		brm_oom(0);
}

static cJSON *strings(const char *const *v)
{
	cJSON *arr = mcp_checked(cJSON_CreateArray());

	for (; *v; v++)
		mcp_push(arr, cJSON_CreateString(*v));
	return arr;
}

/* ---- schemas ------------------------------------------------------------- */

static cJSON *arg_schema(const struct mcp_arg *a)
{
	cJSON *p = mcp_checked(cJSON_CreateObject()), *items;

	switch (a->type) {
	case MCP_ARG_STRING:
		mcp_add(p, "type", cJSON_CreateString("string"));
		if (a->values)
			mcp_add(p, "enum", strings(a->values));
		else
			mcp_add(p, "maxLength", cJSON_CreateNumber(MAX_STRING));
		break;
	case MCP_ARG_BOOL:
		mcp_add(p, "type", cJSON_CreateString("boolean"));
		break;
	case MCP_ARG_INTEGER:
		mcp_add(p, "type", cJSON_CreateString("integer"));
		mcp_add(p, "minimum", cJSON_CreateNumber(a->min));
		mcp_add(p, "maximum", cJSON_CreateNumber(a->max));
		break;
	case MCP_ARG_NUMBER:
		mcp_add(p, "type", cJSON_CreateString("number"));
		mcp_add(p, "exclusiveMinimum", cJSON_CreateNumber(a->min));
		mcp_add(p, "maximum", cJSON_CreateNumber(a->max));
		break;
	case MCP_ARG_NAMES:
	case MCP_ARG_STRV:
		mcp_add(p, "type", cJSON_CreateString("array"));
		items = mcp_checked(cJSON_CreateObject());
		mcp_add(items, "type", cJSON_CreateString("string"));
		mcp_add(items, "minLength", cJSON_CreateNumber(1));
		if (a->type == MCP_ARG_NAMES)
			mcp_add(items, "maxLength", cJSON_CreateNumber(MAX_NAME_BYTES));
		mcp_add(p, "items", items);
		mcp_add(p, "minItems", cJSON_CreateNumber(1));
		mcp_add(p, "maxItems", cJSON_CreateNumber(a->type == MCP_ARG_NAMES ? MAX_NAMES : MAX_STRV));
		break;
	case MCP_ARG_ENV:
		mcp_add(p, "type", cJSON_CreateString("object"));
		items = mcp_checked(cJSON_CreateObject());
		mcp_add(items, "type", cJSON_CreateString("string"));
		mcp_add(p, "additionalProperties", items);
		mcp_add(p, "maxProperties", cJSON_CreateNumber(MAX_ENV));
		break;
	}
	mcp_add(p, "description", cJSON_CreateString(a->desc));
	return p;
}

cJSON *mcp_input_schema(const struct mcp_tool *t)
{
	cJSON *s = mcp_checked(cJSON_CreateObject()), *props = mcp_checked(cJSON_CreateObject());
	cJSON *req = mcp_checked(cJSON_CreateArray());

	mcp_add(s, "type", cJSON_CreateString("object"));
	for (const struct mcp_arg *a = t->args; a < t->args + MCP_MAX_ARGS && a->name; a++) {
		mcp_add(props, a->name, arg_schema(a));
		if (a->required)
			mcp_push(req, cJSON_CreateString(a->name));
	}
	mcp_add(s, "properties", props);
	if (cJSON_GetArraySize(req))
		mcp_add(s, "required", req);
	else
		cJSON_Delete(req);
	mcp_add(s, "additionalProperties", cJSON_CreateFalse());
	return s;
}

/* {"type":"object","properties":{KEY:{"type":TYPE},...},"required":[KEY...]} */
static cJSON *object_schema(const char *const *keys, const char *const *kinds, size_t n)
{
	cJSON *s = mcp_checked(cJSON_CreateObject()), *props = mcp_checked(cJSON_CreateObject());
	cJSON *req = mcp_checked(cJSON_CreateArray());

	mcp_add(s, "type", cJSON_CreateString("object"));
	for (size_t i = 0; i < n; i++) {
		cJSON *p = mcp_checked(cJSON_CreateObject());

		mcp_add(p, "type", cJSON_CreateString(kinds[i]));
		mcp_add(props, keys[i], p);
		mcp_push(req, cJSON_CreateString(keys[i]));
	}
	mcp_add(s, "properties", props);
	mcp_add(s, "required", req);
	return s;
}

cJSON *mcp_output_schema(enum mcp_out out)
{
	static const char *const procs[] = { "processes" }, *const procs_k[] = { "array" };
	static const char *const snap[] = { "name", "state" };
	static const char *const snap_k[] = { "string", "string" };
	static const char *const logs[] = { "lines", "truncated" };
	static const char *const errs[] = { "errors", "truncated" };
	static const char *const list_k[] = { "array", "boolean" };
	static const char *const urls[] = { "urls" };

	switch (out) {
	case MCP_OUT_PROCS: return object_schema(procs, procs_k, 1);
	case MCP_OUT_SNAP: return object_schema(snap, snap_k, 2);
	case MCP_OUT_LOGS: return object_schema(logs, list_k, 2);
	case MCP_OUT_ERRORS: return object_schema(errs, list_k, 2);
	case MCP_OUT_URLS: return object_schema(urls, procs_k, 1);
	}
	return NULL;
}

/* ---- checking arguments --------------------------------------------------- */

int mcp_bad(struct mcp_call *c, const char *fmt, ...)
{
	char *m;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&m, fmt, ap) < 0)
		brm_oom(0);
	va_end(ap);
	free(c->msg);
	c->msg = brm_xasprintf("tool '%s': %s", c->t->name, m);
	free(m);
	return -32602;
}

static const struct mcp_arg *find_arg(const struct mcp_tool *t, const char *name)
{
	for (const struct mcp_arg *a = t->args; a < t->args + MCP_MAX_ARGS && a->name; a++)
		if (strcmp(a->name, name) == 0)
			return a;
	return NULL;
}

static int check_string(struct mcp_call *c, const char *name, const cJSON *v, size_t max)
{
	if (!cJSON_IsString(v))
		return mcp_bad(c, "arguments.%s: not a string", name);
	if (!v->valuestring[0])
		return mcp_bad(c, "arguments.%s: empty", name);
	if (strlen(v->valuestring) > max)
		return mcp_bad(c, "arguments.%s: longer than %zu bytes", name, max);
	return 0;
}

static int check_arg(struct mcp_call *c, const struct mcp_arg *a, const cJSON *v)
{
	const cJSON *it;
	size_t n = 0, bytes = 0;

	switch (a->type) {
	case MCP_ARG_STRING:
		if (check_string(c, a->name, v, MAX_STRING))
			return -32602;
		if (a->values) {
			for (const char *const *p = a->values; *p; p++)
				if (strcmp(*p, v->valuestring) == 0)
					return 0;
			return mcp_bad(c, "arguments.%s: '%.64s' is not one of the values the schema "
				   "lists", a->name, v->valuestring);
		}
		return 0;
	case MCP_ARG_BOOL:
		return cJSON_IsBool(v) ? 0 : mcp_bad(c, "arguments.%s: not a boolean", a->name);
	case MCP_ARG_INTEGER:
		if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble))
			return mcp_bad(c, "arguments.%s: not an integer", a->name);
		if (v->valuedouble < a->min || v->valuedouble > a->max)
			return mcp_bad(c, "arguments.%s: %g is out of range (%g to %g)", a->name,
				   v->valuedouble, a->min, a->max);
		return 0;
	case MCP_ARG_NUMBER:
		if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
			return mcp_bad(c, "arguments.%s: not a number", a->name);
		if (!(v->valuedouble > a->min) || v->valuedouble > a->max)
			return mcp_bad(c, "arguments.%s: %g is out of range (more than %g, at most %g)",
				   a->name, v->valuedouble, a->min, a->max);
		return 0;
	case MCP_ARG_NAMES:
	case MCP_ARG_STRV:
		if (!cJSON_IsArray(v))
			return mcp_bad(c, "arguments.%s: not an array", a->name);
		cJSON_ArrayForEach(it, v) {
			char where[64];

			snprintf(where, sizeof(where), "%s[%zu]", a->name, n);
			if (++n > (a->type == MCP_ARG_NAMES ? MAX_NAMES : MAX_STRV))
				return mcp_bad(c, "arguments.%s: more than %d entries", a->name,
					   a->type == MCP_ARG_NAMES ? MAX_NAMES : MAX_STRV);
			if (check_string(c, where, it, a->type == MCP_ARG_NAMES ? MAX_NAME_BYTES :
					 MAX_STRING))
				return -32602;
		}
		if (n == 0)
			return mcp_bad(c, "arguments.%s: empty", a->name);
		return 0;
	case MCP_ARG_ENV:
		if (!cJSON_IsObject(v))
			return mcp_bad(c, "arguments.%s: not an object", a->name);
		cJSON_ArrayForEach(it, v) {
			if (++n > MAX_ENV)
				return mcp_bad(c, "arguments.%s: more than %d variables", a->name, MAX_ENV);
			if (!cJSON_IsString(it))
				return mcp_bad(c, "arguments.%s.%.64s: not a string", a->name, it->string);
			bytes += strlen(it->string) + strlen(it->valuestring) + 2;
			if (bytes > (1u << 20))
				return mcp_bad(c, "arguments.%s: more than 1 MiB", a->name);
		}
		return 0;
	}
	return 0;
}

int mcp_check_args(struct mcp_call *c)
{
	const cJSON *v;

	cJSON_ArrayForEach(v, c->args) {
		const struct mcp_arg *a = find_arg(c->t, v->string);

		if (!a)
			return mcp_bad(c, "arguments.%.64s: unknown argument", v->string);
		if (check_arg(c, a, v))
			return -32602;
	}
	for (const struct mcp_arg *a = c->t->args; a < c->t->args + MCP_MAX_ARGS && a->name; a++)
		if (a->required && !cJSON_GetObjectItemCaseSensitive(c->args, a->name))
			return mcp_bad(c, "arguments.%s: missing (required)", a->name);
	return 0;
}

const cJSON *mcp_arg_get(const struct mcp_call *c, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(c->args, name);
}

bool mcp_arg_true(const struct mcp_call *c, const char *name, bool dflt)
{
	const cJSON *v = mcp_arg_get(c, name);

	return v ? cJSON_IsTrue(v) : dflt;
}

/* Copy the argument @name, when given, into @params as @key. */
void mcp_pass(const struct mcp_call *c, cJSON *params, const char *name, const char *key)
{
	const cJSON *v = mcp_arg_get(c, name);

	if (v)
		mcp_add(params, key, cJSON_Duplicate(v, 1));
}
