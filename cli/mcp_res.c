/*
 * mcp_res.c — the resources of `brummctl mcp`, their subscriptions, and
 * the caller's role.
 *
 * Two kinds of resource: brummd://processes (the status of every process,
 * JSON) and brummd://logs/NAME (NAME's last lines, as the logs tool gives
 * them, capped the same way). Reading one runs the tool that shows it, so
 * the two cannot disagree.
 *
 * A subscription holds its own connection to brummd: an `events` follow for
 * brummd://processes (any state or health event is a change), a `logs`
 * follow of NAME for brummd://logs/NAME (any new line is one). mcp.c polls
 * their sockets with stdin; a change becomes notifications/resources/updated
 * at most once per MCP_SUB_MIN_GAP_NS per URI (one that comes sooner is
 * sent when the gap is over). A connection lost (brummd restarted) is tried
 * again once a second, and a successful retry counts as a change.
 */
#include <errno.h>
#include <poll.h>
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

#define URI_PROCESSES "brummd://processes"
#define URI_LOGS "brummd://logs/"
#define MCP_SUB_MIN_GAP_NS (250ull * 1000 * 1000)
#define MCP_SUB_RETRY_NS (1000ull * 1000 * 1000)

struct mcp_sub {
	char *uri;
	char *name;               /* brummd://logs/NAME: NAME; NULL for processes */
	struct brm_client *c;     /* the follow; NULL while brummd is away */
	uint64_t last_sent_ns;    /* the last notification (0: none yet) */
	uint64_t retry_ns;        /* with c NULL: when to connect again */
	bool changed;             /* a change not yet notified */
};

/* ---- the caller's role ------------------------------------------------------ */

bool mcp_is_reader(struct mcp_server *s)
{
	struct brm_rpc_err err = BRM_RPC_ERR_INIT;
	struct brm_client *c;
	const cJSON *role;
	cJSON *res = NULL;
	bool reader = false;
	char *why = NULL;

	/* ping changes nothing; a brummd that does not answer leaves every
	 * tool listed, and calling one says that brummd is away. */
	c = mcp_connect(s, &why);
	free(why);
	if (!c)
		return false;
	if (brm_client_call(c, "ping", NULL, &res, &err) == 0) {
		role = cJSON_GetObjectItemCaseSensitive(res, "role");
		reader = cJSON_IsString(role) && strcmp(role->valuestring, "reader") == 0;
	}
	cJSON_Delete(res);
	brm_rpc_err_finish(&err);
	brm_client_destroy(c);
	return reader;
}

/* ---- lists and reads ------------------------------------------------------------ */

cJSON *mcp_resources_list(void)
{
	cJSON *r = mcp_checked(cJSON_CreateObject()), *list = mcp_checked(cJSON_CreateArray());
	cJSON *d = mcp_checked(cJSON_CreateObject());

	mcp_add(d, "uri", cJSON_CreateString(URI_PROCESSES));
	mcp_add(d, "name", cJSON_CreateString("processes"));
	mcp_add(d, "title", cJSON_CreateString("Processes"));
	mcp_add(d, "description", cJSON_CreateString(
			"The status of every process brummd supervises (state, pid, uptime, "
			"restarts, health), as brummd's JSON."));
	mcp_add(d, "mimeType", cJSON_CreateString("application/json"));
	mcp_push(list, d);
	mcp_add(r, "resources", list);
	return r;
}

cJSON *mcp_resource_templates(void)
{
	cJSON *r = mcp_checked(cJSON_CreateObject()), *list = mcp_checked(cJSON_CreateArray());
	cJSON *d = mcp_checked(cJSON_CreateObject());

	mcp_add(d, "uriTemplate", cJSON_CreateString(URI_LOGS "{name}"));
	mcp_add(d, "name", cJSON_CreateString("logs"));
	mcp_add(d, "title", cJSON_CreateString("Process output"));
	mcp_add(d, "description", cJSON_CreateString(
			"The last lines of a process's stdout and stderr and brummd's lines about "
			"it, one 'DATE TIME NAME | text' a line, as the logs tool gives them."));
	mcp_add(d, "mimeType", cJSON_CreateString("text/plain"));
	mcp_push(list, d);
	mcp_add(r, "resourceTemplates", list);
	return r;
}

/*
 * The process name of brummd://logs/NAME, "" for brummd://processes, or
 * NULL for any other URI (MCP_RES_NOT_FOUND). Ownership: caller frees.
 */
static char *uri_name(const char *uri)
{
	const char *n;

	if (strcmp(uri, URI_PROCESSES) == 0)
		return brm_xstrdup("");
	if (strncmp(uri, URI_LOGS, strlen(URI_LOGS)) != 0)
		return NULL;
	n = uri + strlen(URI_LOGS);
	if (!*n || strlen(n) > 128 || strspn(n, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
					     "0123456789._:@-") != strlen(n))
		return NULL;
	return brm_xstrdup(n);
}

static const char *params_uri(const cJSON *params, char **msg)
{
	const cJSON *uri = cJSON_GetObjectItemCaseSensitive(params, "uri");

	if (!cJSON_IsString(uri)) {
		*msg = brm_xstrdup("params.uri: missing or not a string");
		return NULL;
	}
	return uri->valuestring;
}

static int not_found(const char *uri, const char *why, char **msg)
{
	size_t len;

	*msg = brm_xasprintf("resource not found: '%.200s'%s%s", uri, why ? ": " : "",
			     why ? why : " (the resources are " URI_PROCESSES " and "
			     URI_LOGS "{name})");
	len = strlen(*msg);
	while (len && (*msg)[len - 1] == '\n')
		(*msg)[--len] = '\0';
	return MCP_RES_NOT_FOUND;
}

int mcp_resource_read(struct mcp_server *s, const cJSON *params, cJSON **result, char **msg)
{
	const char *uri = params_uri(params, msg);
	cJSON *args = NULL, *res = NULL, *content, *block;
	const cJSON *text;
	char *name, *body;
	bool failed;
	int r;

	*result = NULL;
	if (!uri)
		return -32602;
	name = uri_name(uri);
	if (!name)
		return not_found(uri, NULL, msg);
	if (*name) {
		args = mcp_checked(cJSON_CreateObject());
		mcp_add(args, "names", cJSON_CreateStringArray((const char *const *)&name, 1));
	}
	r = mcp_tools_call(s, *name ? "logs" : "list_processes", args, &res, msg);
	cJSON_Delete(args);
	if (r != 0) {
		free(name);
		return r;
	}
	failed = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(res, "isError"));
	text = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(res, "content"), 0), "text");
	if (failed) {
		/* brummd's -32001: no process of that name. */
		if (cJSON_IsString(text) && strstr(text->valuestring, "(error -32001)"))
			r = not_found(uri, text->valuestring, msg);
		else
			*msg = brm_xasprintf("cannot read '%.200s': %s", uri,
					     cJSON_IsString(text) ? text->valuestring : "?");
		cJSON_Delete(res);
		free(name);
		return r ? r : -32603;
	}
	if (*name)
		body = brm_xstrdup(cJSON_IsString(text) ? text->valuestring : "");
	else
		body = cJSON_PrintUnformatted(
			cJSON_GetObjectItemCaseSensitive(res, "structuredContent"));
	if (!body)
		brm_oom(0);
	*result = mcp_checked(cJSON_CreateObject());
	content = mcp_checked(cJSON_CreateArray());
	block = mcp_checked(cJSON_CreateObject());
	mcp_add(block, "uri", cJSON_CreateString(uri));
	mcp_add(block, "mimeType", cJSON_CreateString(*name ? "text/plain" : "application/json"));
	mcp_add(block, "text", cJSON_CreateString(body));
	mcp_push(content, block);
	mcp_add(*result, "contents", content);
	free(body);
	cJSON_Delete(res);
	free(name);
	return 0;
}

/* ---- subscriptions ----------------------------------------------------------------- */

static void sub_destroy(struct mcp_sub *sub)
{
	if (!sub)
		return;
	brm_client_destroy(sub->c);
	free(sub->uri);
	free(sub->name);
	free(sub);
}

/*
 * Open @sub's follow: 0, or -1 with *@why (caller frees) and sub->c NULL.
 * A retry (@retry) never starts brummd, even with --start: one shut down
 * on purpose stays down until a request needs it.
 */
static int sub_connect(struct mcp_server *s, struct mcp_sub *sub, bool retry, char **why)
{
	struct brm_rpc_err err = BRM_RPC_ERR_INIT;
	cJSON *params = mcp_checked(cJSON_CreateObject()), *res = NULL;
	struct timeval tv = { .tv_sec = 30 };
	bool start = s->start;
	int r;

	if (retry)
		s->start = false;
	sub->c = mcp_connect(s, why);
	s->start = start;
	if (!sub->c) {
		cJSON_Delete(params);
		return -1;
	}
	/* A brummd that accepts but does not answer cannot hang the session. */
	setsockopt(brm_client_fd(sub->c), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (sub->name) {
		mcp_add(params, "names", cJSON_CreateStringArray((const char *const *)&sub->name, 1));
		mcp_add(params, "lines", cJSON_CreateNumber(0));
	}
	mcp_add(params, "follow", cJSON_CreateTrue());
	r = brm_client_call(sub->c, sub->name ? "logs" : "events", params, &res, &err);
	cJSON_Delete(res);
	if (r != 0) {
		*why = r > 0 ? brm_xasprintf("brummd: %s (error %d)", err.message, err.code) :
			brm_xasprintf("lost brummd: %s", brm_client_strerror(sub->c));
		brm_client_destroy(sub->c);
		sub->c = NULL;
	}
	brm_rpc_err_finish(&err);
	return r == 0 ? 0 : -1;
}

static struct mcp_sub **find_sub(struct mcp_server *s, const char *uri)
{
	for (size_t i = 0; i < s->nsubs; i++)
		if (strcmp(s->subs[i]->uri, uri) == 0)
			return &s->subs[i];
	return NULL;
}

int mcp_subscribe(struct mcp_server *s, const cJSON *params, bool on, cJSON **result,
		  char **msg)
{
	const char *uri = params_uri(params, msg);
	struct mcp_sub **at, *sub;
	char *name, *why = NULL;

	*result = NULL;
	if (!uri)
		return -32602;
	name = uri_name(uri);
	if (!name)
		return not_found(uri, NULL, msg);
	at = find_sub(s, uri);
	if (!on) {
		free(name);
		if (at) {
			sub_destroy(*at);
			*at = s->subs[--s->nsubs];
		}
		*result = mcp_checked(cJSON_CreateObject());
		return 0;
	}
	if (at) {
		free(name);
		*result = mcp_checked(cJSON_CreateObject());
		return 0;
	}
	if (s->nsubs == MCP_MAX_SUBS) {
		free(name);
		*msg = brm_xasprintf("too many subscriptions (at most %d): unsubscribe one first",
				     MCP_MAX_SUBS);
		return -32602;
	}
	sub = brm_xcalloc(1, sizeof(*sub));
	sub->uri = brm_xstrdup(uri);
	sub->name = *name ? name : NULL;
	if (!*name)
		free(name);
	if (sub_connect(s, sub, false, &why) < 0) {
		int r = why && strstr(why, "(error -32001)") ? not_found(uri, why, msg) : -32603;

		if (r == -32603)
			*msg = brm_xasprintf("cannot subscribe to '%.200s': %s", uri, why);
		free(why);
		sub_destroy(sub);
		return r;
	}
	s->subs[s->nsubs++] = sub;
	*result = mcp_checked(cJSON_CreateObject());
	return 0;
}

void mcp_subs_free(struct mcp_server *s)
{
	for (size_t i = 0; i < s->nsubs; i++)
		sub_destroy(s->subs[i]);
	s->nsubs = 0;
}

size_t mcp_subs_pollfds(struct mcp_server *s, struct pollfd *fds)
{
	size_t n = 0;

	for (size_t i = 0; i < s->nsubs; i++) {
		fds[i].fd = s->subs[i]->c ? brm_client_fd(s->subs[i]->c) : -1;
		fds[i].events = POLLIN;
		fds[i].revents = 0;
		n++;
	}
	return n;
}

int mcp_subs_timeout_ms(const struct mcp_server *s)
{
	uint64_t now = brm_now_mono_ns(), due = UINT64_MAX;

	for (size_t i = 0; i < s->nsubs; i++) {
		const struct mcp_sub *sub = s->subs[i];

		if (sub->changed && sub->last_sent_ns + MCP_SUB_MIN_GAP_NS < due)
			due = sub->last_sent_ns + MCP_SUB_MIN_GAP_NS;
		if (!sub->c && sub->retry_ns < due)
			due = sub->retry_ns;
	}
	if (due == UINT64_MAX)
		return -1;
	if (due <= now)
		return 0;
	return (int)((due - now) / 1000000) + 1;
}

/* Read what waits on @sub's follow; any notification is a change. */
static void sub_drain(struct mcp_sub *sub)
{
	for (;;) {
		cJSON *msg = NULL;
		int r = brm_client_next(sub->c, &msg, 0);

		if (r == -ETIMEDOUT)
			return;
		if (r < 0) {
			brm_client_destroy(sub->c);
			sub->c = NULL;
			sub->retry_ns = brm_now_mono_ns() + MCP_SUB_RETRY_NS;
			return;
		}
		if (cJSON_GetObjectItemCaseSensitive(msg, "method"))
			sub->changed = true;
		cJSON_Delete(msg);
	}
}

void mcp_subs_service(struct mcp_server *s, const struct pollfd *fds)
{
	uint64_t now;

	for (size_t i = 0; i < s->nsubs; i++) {
		struct mcp_sub *sub = s->subs[i];

		if (sub->c && fds[i].fd >= 0 && fds[i].revents)
			sub_drain(sub);
		now = brm_now_mono_ns();
		if (!sub->c && now >= sub->retry_ns) {
			char *why = NULL;

			if (sub_connect(s, sub, true, &why) == 0)
				sub->changed = true;
			else
				sub->retry_ns = now + MCP_SUB_RETRY_NS;
			free(why);
		}
		if (sub->changed && now >= sub->last_sent_ns + MCP_SUB_MIN_GAP_NS) {
			cJSON *msg = mcp_checked(cJSON_CreateObject()), *p;

			mcp_add(msg, "jsonrpc", cJSON_CreateString("2.0"));
			mcp_add(msg, "method", cJSON_CreateString("notifications/resources/updated"));
			p = mcp_checked(cJSON_CreateObject());
			mcp_add(p, "uri", cJSON_CreateString(sub->uri));
			mcp_add(msg, "params", p);
			mcp_send(msg);
			sub->changed = false;
			sub->last_sent_ns = now;
		}
	}
}
