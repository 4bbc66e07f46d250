/*
 * mcp_reply.c — a tool's call to brummd and the result it makes: a text
 * block a model reads well (the tables brummctl prints) and, on success,
 * structuredContent with brummd's JSON; whatever brummd refused is a
 * result with isError and its message. Results of logs and errors are cut
 * to MCP_RESULT_MAX_BYTES of text, oldest entries first, and say so.
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

/* ---- results --------------------------------------------------------------- */

/* A CallToolResult of @text; takes @structured (NULL for none). */
cJSON *mcp_result(const char *text, cJSON *structured, bool is_error)
{
	cJSON *r = mcp_checked(cJSON_CreateObject()), *content = mcp_checked(cJSON_CreateArray());
	cJSON *block = mcp_checked(cJSON_CreateObject());

	mcp_add(block, "type", cJSON_CreateString("text"));
	mcp_add(block, "text", cJSON_CreateString(text));
	mcp_push(content, block);
	mcp_add(r, "content", content);
	if (structured)
		mcp_add(r, "structuredContent", structured);
	mcp_add(r, "isError", cJSON_CreateBool(is_error));
	return r;
}

int mcp_fail(struct mcp_call *c, const char *text)
{
	c->result = mcp_result(text, NULL, true);
	return 0;
}

FILE *mcp_text_open(struct mcp_text *t)
{
	t->p = NULL;
	t->len = 0;
	t->f = open_memstream(&t->p, &t->len);
	if (!t->f)
		brm_oom(0);
	return t->f;
}

/* Close the stream: t->p holds the text (caller frees). */
char *mcp_text_close(struct mcp_text *t)
{
	if (fclose(t->f) != 0)
		brm_oom(0);
	return t->p;
}

/*
 * Call brummd: 0 and *@res, or 1 after filling c->result with the failure
 * (brummd not reached, its error, the connection lost). A reply is awaited
 * at most @wait_secs (plus a margin) so a stuck brummd cannot hang the
 * session. Takes @params.
 */
int mcp_call_brummd(struct mcp_call *c, const char *method, cJSON *params, double wait_secs,
		       cJSON **res)
{
	struct brm_rpc_err err = BRM_RPC_ERR_INIT;
	struct timeval tv = { .tv_sec = (time_t)wait_secs + 30 };
	struct brm_client *cl;
	char *why = NULL;
	int r;

	*res = NULL;
	cl = mcp_connect(c->s, &why);
	if (!cl) {
		cJSON_Delete(params);
		mcp_fail(c, why);
		free(why);
		return 1;
	}
	setsockopt(brm_client_fd(cl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	r = brm_client_call(cl, method, params, res, &err);
	if (r < 0) {
		char *m = brm_xasprintf("lost brummd at '%s': %s", c->s->socket,
					brm_client_strerror(cl));

		mcp_fail(c, m);
		free(m);
	} else if (r > 0) {
		struct mcp_text t;
		char *s;

		fprintf(mcp_text_open(&t), "brummd: %s (error %d)\n", err.message, err.code);
		if (err.data)
			cli_print_error_processes(t.f, err.data);
		s = mcp_text_close(&t);
		mcp_fail(c, s);
		free(s);
	}
	brm_rpc_err_finish(&err);
	brm_client_destroy(cl);
	return r != 0;
}

/* {"processes":[...]} whatever brummd answered: a single SNAP is wrapped. */
cJSON *mcp_as_procs(cJSON *res)
{
	cJSON *out, *arr;

	if (cJSON_IsObject(res) && cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(res, "processes")))
		return res;
	out = mcp_checked(cJSON_CreateObject());
	arr = mcp_checked(cJSON_AddArrayToObject(out, "processes"));
	if (cJSON_IsObject(res))
		mcp_push(arr, res);
	else
		cJSON_Delete(res);
	return out;
}

/* The process table of @procs, after @head (may be NULL). */
char *mcp_table_text(const char *head, const cJSON *procs)
{
	struct mcp_text t;
	FILE *f = mcp_text_open(&t);

	if (head)
		fprintf(f, "%s\n", head);
	if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(procs, "processes")) == 0)
		fputs("(no processes)\n", f);
	else
		cli_print_result(f, CMD_STATUS, procs, false);
	return mcp_text_close(&t);
}

int mcp_procs_result(struct mcp_call *c, const char *head, cJSON *res)
{
	cJSON *procs = mcp_as_procs(res);
	char *text = mcp_table_text(head, procs);

	c->result = mcp_result(text, procs, false);
	free(text);
	return 0;
}

/* Cut @s (@n bytes; NULL: none) in place to at most @max bytes, on a UTF-8
 * character boundary: whether it was longer. */
static bool cut_utf8(char *s, size_t n, size_t max)
{
	if (!s || n <= max)
		return false;
	while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
		max--;
	s[max] = '\0';
	return true;
}

/*
 * Keep the newest entries of the array @key of @res whose text, as @print
 * makes it, fits MCP_RESULT_MAX_BYTES; each entry's @field cut to
 * @field_max bytes first. Returns the text; *@dropped the entries left out.
 */
char *mcp_fit(struct mcp_call *c, cJSON *res, const char *key, const char *field,
		 size_t field_max, enum cli_cmd_id cmd, size_t *dropped)
{
	struct cli_command cmdinfo = { .name = c->t->name, .id = cmd };
	struct cli_opts o;
	cJSON *arr = cJSON_GetObjectItemCaseSensitive(res, key), *it;
	char *text;

	memset(&o, 0, sizeof(o));
	o.cmd = &cmdinfo;
	*dropped = 0;
	cJSON_ArrayForEach(it, arr) {
		cJSON *v = cJSON_GetObjectItemCaseSensitive(it, field);

		size_t len = cJSON_IsString(v) ? strlen(v->valuestring) : 0;
		char *marked;

		if (!cut_utf8(cJSON_IsString(v) ? v->valuestring : NULL, len, field_max))
			continue;
		/* Said in the text itself, where the model reads it. */
		marked = brm_xasprintf("%s [... %zu more bytes]", v->valuestring,
				       len - strlen(v->valuestring));
		if (!cJSON_SetValuestring(v, marked))
			brm_oom(0);
		free(marked);
		mcp_add(it, "mcp_cut", cJSON_CreateTrue());
	}
	for (;;) {
		struct mcp_text t;
		size_t n = (size_t)cJSON_GetArraySize(arr), drop;

		cli_logs_print_result(mcp_text_open(&t), &o, res, false);
		text = mcp_text_close(&t);
		if (t.len <= MCP_RESULT_MAX_BYTES || n == 0)
			return text;
		free(text);
		/* Drop the oldest, in proportion to the excess, at least one. */
		drop = (size_t)((double)n * (double)(t.len - MCP_RESULT_MAX_BYTES) /
				(double)t.len) + 1;
		for (size_t i = 0; i < drop && i < n; i++)
			cJSON_DeleteItemFromArray(arr, 0);
		*dropped += drop < n ? drop : n;
	}
}

char *mcp_with_note(char *text, size_t dropped, const char *what, const char *empty)
{
	char *out;

	if (!*text && !dropped) {
		free(text);
		return brm_xasprintf("%s\n", empty);
	}
	if (!dropped)
		return text;
	out = brm_xasprintf("[%zu earlier %s left out to keep this result under %u KiB; ask "
			    "for fewer, narrow with names, grep or since]\n%s", dropped, what,
			    MCP_RESULT_MAX_BYTES >> 10, text);
	free(text);
	return out;
}
