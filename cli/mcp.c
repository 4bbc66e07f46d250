/*
 * mcp.c — `brummctl mcp`: the Model Context Protocol's stdio transport and
 * lifecycle, for AI coding agents that drive brummd through tools.
 *
 * The transport is JSON-RPC 2.0, one message a line on stdin and stdout.
 * stdout carries protocol messages only; anything for a person goes to
 * stderr. A request gets exactly one reply; a notification (no "id") none,
 * whatever its method. Lines are bounded (MCP_MAX_LINE): a longer one is
 * read to its end and thrown away, answered with an error, and the server
 * goes on, as it does after a line that is not JSON.
 *
 * brummd is reached afresh for every tool call, so a brummd that was
 * restarted between two calls is simply found again; one that is not there
 * makes the call's result an error that says how to start it, not the
 * server fail. With --start, mcp_connect() starts one (detached, so it
 * outlives the session) when none answers.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli/brummctl.h"
#include "cli/mcp.h"
#include "lib/client.h"
#include "lib/util.h"

/* The revisions this server speaks, newest first. What 2025-06-18 added
 * (structuredContent, outputSchema) an older client ignores. */
static const char *const versions[] = {
	"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05",
};

enum {
	RPC_PARSE_ERROR = -32700,
	RPC_INVALID_REQUEST = -32600,
	RPC_METHOD_NOT_FOUND = -32601,
	RPC_INVALID_PARAMS = -32602,
};

/* ---- output -------------------------------------------------------------- */

static bool out_failed;

void mcp_send(cJSON *msg)
{
	char *text = cJSON_PrintUnformatted(msg);

	if (!text)
		brm_oom(0);
	if (fputs(text, stdout) == EOF || fputc('\n', stdout) == EOF || fflush(stdout) == EOF)
		out_failed = true;
	free(text);
	cJSON_Delete(msg);
}

static cJSON *reply_head(const cJSON *id)
{
	cJSON *msg = cJSON_CreateObject();

	if (!msg || !cJSON_AddStringToObject(msg, "jsonrpc", "2.0"))
		brm_oom(0);
	if (!cJSON_AddItemToObject(msg, "id", id ? cJSON_Duplicate(id, 1) : cJSON_CreateNull()))
		brm_oom(0);
	return msg;
}

static void send_result(const cJSON *id, cJSON *result)
{
	cJSON *msg = reply_head(id);

	if (!cJSON_AddItemToObject(msg, "result", result))
		brm_oom(0);
	mcp_send(msg);
}

static void send_error(const cJSON *id, int code, const char *message)
{
	cJSON *msg = reply_head(id), *e = cJSON_AddObjectToObject(msg, "error");

	if (!e || !cJSON_AddNumberToObject(e, "code", code) ||
	    !cJSON_AddStringToObject(e, "message", message))
		brm_oom(0);
	mcp_send(msg);
}

/* ---- reaching brummd ----------------------------------------------------- */

/* brummd beside this brummctl: the same build, or the same install. */
static char *brummd_path(void)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n <= 0)
		return brm_xstrdup("brummd");
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (!slash)
		return brm_xstrdup("brummd");
	slash[1] = '\0';
	return brm_xasprintf("%sbrummd", self);
}

/*
 * Start brummd on s->socket, detached (its own session, reparented away
 * from us, stdin/stdout/stderr on /dev/null: stdout is the protocol's),
 * and wait up to 20 s until it answers. 0, or -1 with *@why.
 */
static int start_brummd(struct mcp_server *s, char **why)
{
	char *exe = brummd_path();
	struct timespec t0, now;
	pid_t pid;
	int status;

	fprintf(stderr, "brummctl mcp: starting '%s --socket %s'\n", exe, s->socket);
	pid = fork();
	if (pid < 0) {
		*why = brm_xasprintf("cannot start brummd: fork: %s", strerror(errno));
		free(exe);
		return -1;
	}
	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR);

		setsid();
		if (fork() != 0)
			_exit(0);
		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl(exe, "brummd", "--socket", s->socket, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct brm_client *c = brm_client_connect(s->socket, NULL);

		if (c) {
			struct brm_rpc_err err = BRM_RPC_ERR_INIT;
			cJSON *res = NULL;
			int r = brm_client_call(c, "ping", NULL, &res, &err);

			cJSON_Delete(res);
			brm_rpc_err_finish(&err);
			brm_client_destroy(c);
			if (r == 0)
				break;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec >= 20) {
			*why = brm_xasprintf("started '%s --socket %s', but it did not answer "
					     "within 20 s (is the socket's directory writable? "
					     "run it by hand to see why)", exe, s->socket);
			free(exe);
			return -1;
		}
		usleep(50 * 1000);
	}
	free(exe);
	return 0;
}

struct brm_client *mcp_connect(struct mcp_server *s, char **why)
{
	char *err = NULL;
	int errnum = 0;
	struct brm_client *c = brm_client_connect_errno(s->socket, &err, &errnum);

	*why = NULL;
	if (c)
		return c;
	if (errnum == EPERM) {
		*why = brm_xasprintf("%s; choose another socket with --socket or $BRUMMD_SOCKET "
				     "in the server's command line", err);
		free(err);
		return NULL;
	}
	if (s->start) {
		free(err);
		err = NULL;
		if (start_brummd(s, why) < 0)
			return NULL;
		c = brm_client_connect(s->socket, &err);
		if (c)
			return c;
		*why = brm_xasprintf("started brummd, but then: %s", err);
		free(err);
		return NULL;
	}
	*why = brm_xasprintf("brummd is not running (%s). Start it with 'brummd --socket %s' "
			     "in the background, or run this server as 'brummctl mcp --start' "
			     "to have it started when needed", err, s->socket);
	free(err);
	return NULL;
}

/* ---- the lifecycle and the methods ---------------------------------------- */

static cJSON *initialize(const cJSON *params)
{
	const cJSON *asked = cJSON_GetObjectItemCaseSensitive(params, "protocolVersion");
	const char *version = versions[0];
	cJSON *r = cJSON_CreateObject(), *caps, *tools, *res, *info;

	/* The client's revision when we speak it; else our newest, and the
	 * client decides whether it can go on with that. */
	for (size_t i = 0; cJSON_IsString(asked) && i < BRM_ARRAY_SIZE(versions); i++)
		if (strcmp(asked->valuestring, versions[i]) == 0)
			version = versions[i];
	if (!r || !cJSON_AddStringToObject(r, "protocolVersion", version) ||
	    !(caps = cJSON_AddObjectToObject(r, "capabilities")) ||
	    !(tools = cJSON_AddObjectToObject(caps, "tools")) ||
	    !cJSON_AddFalseToObject(tools, "listChanged") ||
	    !(res = cJSON_AddObjectToObject(caps, "resources")) ||
	    !cJSON_AddTrueToObject(res, "subscribe") ||
	    !cJSON_AddFalseToObject(res, "listChanged") ||
	    !(info = cJSON_AddObjectToObject(r, "serverInfo")) ||
	    !cJSON_AddStringToObject(info, "name", "brummctl") ||
	    !cJSON_AddStringToObject(info, "version", BRM_VERSION) ||
	    !cJSON_AddStringToObject(r, "instructions",
				     "brummd supervises the processes of this project (servers, "
				     "workers, jobs). Use list_processes to see them and their "
				     "states, logs and errors to read their output, and start, "
				     "stop, restart and wait to control them. The resource "
				     "brummd://processes and brummd://logs/{name} can be "
				     "subscribed to: a change is notified."))
		brm_oom(0);
	return r;
}

static void tools_call(struct mcp_server *s, const cJSON *id, const cJSON *params)
{
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(params, "name");
	const cJSON *args = cJSON_GetObjectItemCaseSensitive(params, "arguments");
	cJSON *result = NULL;
	char *msg = NULL;

	if (!cJSON_IsString(name)) {
		send_error(id, RPC_INVALID_PARAMS, "params.name: missing or not a string");
		return;
	}
	if (args && !cJSON_IsObject(args) && !cJSON_IsNull(args)) {
		send_error(id, RPC_INVALID_PARAMS, "params.arguments: not an object");
		return;
	}
	if (mcp_tools_call(s, name->valuestring, cJSON_IsObject(args) ? args : NULL,
			   &result, &msg) == 0) {
		send_result(id, result);
	} else {
		send_error(id, RPC_INVALID_PARAMS, msg);
		free(msg);
	}
}

/* One message that parsed as JSON. */
static void handle(struct mcp_server *s, const cJSON *msg)
{
	const cJSON *id, *method, *params;
	bool is_request;

	if (cJSON_IsArray(msg)) {
		send_error(NULL, RPC_INVALID_REQUEST, "batches are not supported: send one "
			   "message per line");
		return;
	}
	if (!cJSON_IsObject(msg)) {
		send_error(NULL, RPC_INVALID_REQUEST, "a message is a JSON object");
		return;
	}
	id = cJSON_GetObjectItemCaseSensitive(msg, "id");
	method = cJSON_GetObjectItemCaseSensitive(msg, "method");
	params = cJSON_GetObjectItemCaseSensitive(msg, "params");
	is_request = id != NULL;
	if (id && !cJSON_IsString(id) && !cJSON_IsNumber(id)) {
		send_error(NULL, RPC_INVALID_REQUEST, "id: not a string or a number");
		return;
	}
	if (!method) {
		/* A reply to a request of ours: we send none, so drop it. */
		if (cJSON_GetObjectItemCaseSensitive(msg, "result") ||
		    cJSON_GetObjectItemCaseSensitive(msg, "error"))
			return;
		if (is_request)
			send_error(id, RPC_INVALID_REQUEST, "method: missing");
		return;
	}
	if (!cJSON_IsString(method)) {
		if (is_request)
			send_error(id, RPC_INVALID_REQUEST, "method: not a string");
		return;
	}
	if (!is_request) {
		/* notifications/initialized, notifications/cancelled (every
		 * call has finished before the next line is read), and any
		 * other: never a reply. */
		return;
	}
	if (params && !cJSON_IsObject(params)) {
		send_error(id, RPC_INVALID_PARAMS, "params: not an object");
		return;
	}
	if (strcmp(method->valuestring, "initialize") == 0) {
		send_result(id, initialize(params));
	} else if (strcmp(method->valuestring, "ping") == 0) {
		cJSON *r = cJSON_CreateObject();

		if (!r)
			brm_oom(0);
		send_result(id, r);
	} else if (strcmp(method->valuestring, "tools/list") == 0) {
		cJSON *r = cJSON_CreateObject();

		if (!r || !cJSON_AddItemToObject(r, "tools", mcp_tools_list(s)))
			brm_oom(0);
		send_result(id, r);
	} else if (strcmp(method->valuestring, "tools/call") == 0) {
		tools_call(s, id, params);
	} else if (strcmp(method->valuestring, "resources/list") == 0) {
		send_result(id, mcp_resources_list());
	} else if (strcmp(method->valuestring, "resources/templates/list") == 0) {
		send_result(id, mcp_resource_templates());
	} else if (strcmp(method->valuestring, "resources/read") == 0 ||
		   strcmp(method->valuestring, "resources/subscribe") == 0 ||
		   strcmp(method->valuestring, "resources/unsubscribe") == 0) {
		const char *m = method->valuestring + strlen("resources/");
		cJSON *result = NULL;
		char *why = NULL;
		int r = strcmp(m, "read") == 0 ? mcp_resource_read(s, params, &result, &why) :
			mcp_subscribe(s, params, strcmp(m, "subscribe") == 0, &result, &why);

		if (r == 0)
			send_result(id, result);
		else
			send_error(id, r, why);
		free(why);
	} else {
		char *m = brm_xasprintf("method not found: '%.100s'", method->valuestring);

		send_error(id, RPC_METHOD_NOT_FOUND, m);
		free(m);
	}
}

/* One line (without its newline; @len bytes, not NUL-terminated inside). */
static void handle_line(struct mcp_server *s, const char *line, size_t len)
{
	const char *end = NULL;
	cJSON *msg;

	while (len && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	if (len == 0)
		return;
	if (memchr(line, '\0', len)) {
		send_error(NULL, RPC_PARSE_ERROR, "parse error: a NUL byte in the line");
		return;
	}
	/* cJSON would end a string at \u0000: "web\u0000x" must not become
	 * "web" on its way to brummd. */
	if (memmem(line, len, "\\u0000", 6)) {
		send_error(NULL, RPC_PARSE_ERROR, "parse error: \\u0000 in a string");
		return;
	}
	msg = cJSON_ParseWithLengthOpts(line, len, &end, false);
	if (!msg) {
		char *m = brm_xasprintf("parse error: not JSON at byte %zu",
					end ? (size_t)(end - line) : (size_t)0);

		send_error(NULL, RPC_PARSE_ERROR, m);
		free(m);
		return;
	}
	if (end && (size_t)(end - line) < len) {
		send_error(NULL, RPC_PARSE_ERROR, "parse error: more after the JSON value "
			   "(one message per line)");
		cJSON_Delete(msg);
		return;
	}
	handle(s, msg);
	cJSON_Delete(msg);
}

/*
 * Read stdin line by line into a buffer of MCP_MAX_LINE bytes. A line
 * that does not fit is skipped to its newline and answered once. Requests
 * are handled one at a time; between them, and while stdin is quiet, poll
 * also reads the subscriptions' follows and sends what they notify.
 */
static void serve(struct mcp_server *s)
{
	char *buf = brm_xmalloc(MCP_MAX_LINE);
	size_t len = 0;
	bool skipping = false;

	while (!out_failed) {
		struct pollfd fds[1 + MCP_MAX_SUBS];
		size_t nsubs = mcp_subs_pollfds(s, fds + 1);
		char *nl;
		ssize_t n;

		fds[0].fd = STDIN_FILENO;
		fds[0].events = POLLIN;
		fds[0].revents = 0;
		if (poll(fds, 1 + nsubs, mcp_subs_timeout_ms(s)) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "brummctl mcp: poll: %s\n", strerror(errno));
			break;
		}
		/* Before stdin: an unsubscribe there reorders the list. */
		mcp_subs_service(s, fds + 1);
		if (!fds[0].revents)
			continue;
		n = read(STDIN_FILENO, buf + len, MCP_MAX_LINE - len);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			if (len && !skipping)
				handle_line(s, buf, len);
			break;
		}
		len += (size_t)n;
		while ((nl = memchr(buf, '\n', len))) {
			size_t linelen = (size_t)(nl - buf);

			if (skipping) {
				char *m = brm_xasprintf("request line longer than %u bytes; "
							"it was skipped", MCP_MAX_LINE);

				send_error(NULL, RPC_INVALID_REQUEST, m);
				free(m);
				skipping = false;
			} else {
				handle_line(s, buf, linelen);
			}
			memmove(buf, nl + 1, len - linelen - 1);
			len -= linelen + 1;
		}
		if (len == MCP_MAX_LINE) {
			/* No newline in a full buffer: over the limit. */
			skipping = true;
			len = 0;
		}
	}
	free(buf);
}

int cli_mcp_run(const struct cli_opts *o)
{
	struct mcp_server s = {
		.o = o,
		.socket = brm_socket_resolve(o->socket),
		.start = o->mcp_start,
		.allow_changes = o->allow_changes,
	};

	/* A client gone away is an EPIPE on the next write, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	if (s.start) {
		char *why = NULL;
		struct brm_client *c = mcp_connect(&s, &why);

		if (!c)
			fprintf(stderr, "brummctl mcp: %s\n", why);
		brm_client_destroy(c);
		free(why);
	}
	serve(&s);
	mcp_subs_free(&s);
	free(s.socket);
	if (out_failed) {
		fprintf(stderr, "brummctl mcp: cannot write to stdout: %s\n", strerror(errno));
		return CLI_EXIT_ERROR;
	}
	return CLI_EXIT_OK;
}
