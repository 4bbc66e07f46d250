/*
 * main.c — brummctl: parse the command line, make one call to brummd,
 * print the result, and exit with a code a script can act on (see
 * `brummctl --help`).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli/brummctl.h"
#include "cli/mcp.h"
#include "lib/client.h"
#include "lib/util.h"
#include "proto/proto.h"

/* With --json, errors also go to stdout as {"error":{...}}; code may be NULL. */
static void json_error(const cJSON *code, const char *message, const cJSON *data)
{
	cJSON *root = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(root, "error");

	if (!root || !e)
		brm_oom(0);
	if (code)
		cJSON_AddNumberToObject(e, "code", code->valuedouble);
	else
		cJSON_AddNullToObject(e, "code");
	cJSON_AddStringToObject(e, "message", message);
	if (data)
		cJSON_AddItemToObject(e, "data", cJSON_Duplicate(data, 1));
	cli_print_json(stdout, root);
	cJSON_Delete(root);
}

/* The socket `make run` gives brummd, relative to the checkout (Makefile's RUNDIR). */
#define MAKE_RUN_SOCKET "run/brummd.sock"

/*
 * In a checkout where `make run` listens, the default socket is the wrong
 * one to try: say which to use instead.
 */
static void make_run_hint(void)
{
	struct stat st;
	char *cwd;

	if (lstat(MAKE_RUN_SOCKET, &st) < 0 || !S_ISSOCK(st.st_mode))
		return;
	cwd = getcwd(NULL, 0);
	if (!cwd)
		return;
	fprintf(stderr, "hint: 'make run' listens on '%s/" MAKE_RUN_SOCKET "' here: "
		"export BRUMMD_SOCKET=%s/" MAKE_RUN_SOCKET "\n", cwd, cwd);
	free(cwd);
}

static int cannot_connect(const struct cli_opts *o, const char *path,
			  enum brm_socket_origin origin, const char *err, int errnum)
{
	fprintf(stderr, "brummctl: %s\n", err);
	if (origin == BRM_SOCKET_DEFAULT) {
		fprintf(stderr, "hint: '%s' is the default socket; choose another with "
			"--socket or $BRUMMD_SOCKET\n", path);
		make_run_hint();
	} else
		fprintf(stderr, "hint: the socket path came from %s\n",
			brm_socket_origin_name(origin));
	/* A socket refused as unsafe (EPERM) was never tried: whether brummd
	 * runs is beside the point. */
	if (errnum != EPERM)
		fputs("hint: is brummd running? start it with 'brummd' or 'make run'\n", stderr);
	if (o->json)
		json_error(NULL, err, NULL);
	return CLI_EXIT_CONNECT;
}

static int rpc_error(const struct cli_opts *o, const struct brm_rpc_err *err)
{
	fprintf(stderr, "brummctl: %s\n", err->message);
	if (err->data)
		cli_print_error_processes(stderr, err->data);
	if (o->json) {
		cJSON *code = cJSON_CreateNumber(err->code);

		json_error(code, err->message, err->data);
		cJSON_Delete(code);
	}
	return CLI_EXIT_ERROR;
}

/* Where the command goes: the local socket, or a host through ssh. */
struct target {
	const char *path;            /* the socket, or the -H value */
	struct cli_host host;        /* host.url NULL: local */
	pid_t ssh;
};

static int lost(const struct cli_opts *o, struct target *t, struct brm_client *c)
{
	char *m;

	if (t->host.url) {
		/* ssh's end says what it was; it has nothing more to carry. */
		int st = cli_ssh_reap(t->ssh, 10000);

		t->ssh = -1;
		m = cli_ssh_why(&t->host, st, brm_client_strerror(c));
	} else {
		m = brm_xasprintf("lost brummd at '%s': %s", t->path, brm_client_strerror(c));
	}

	fprintf(stderr, "brummctl: %s\n", m);
	if (o->json)
		json_error(NULL, m, NULL);
	free(m);
	return CLI_EXIT_CONNECT;
}

static bool is_logs_cmd(enum cli_cmd_id id)
{
	return id == CMD_LOGS || id == CMD_URLS || id == CMD_ERRORS;
}

/* An older brummd, which knows no "fields" (or not one we asked for). */
static bool fields_refused(const struct brm_rpc_err *err)
{
	return err->code == BRM_E_INVALID_PARAMS &&
	       strncmp(err->message, "params.fields", strlen("params.fields")) == 0;
}

/*
 * `status` for the table: only the fields it shows (request.c), and the
 * table straight from the reply's text (stream.c); any other reply goes
 * the way of every command's. A brummd that refuses "fields" is asked
 * again without them. Returns as brm_client_call(); *@streamed when the
 * table is printed.
 */
static int status_table(struct brm_client *c, const struct cli_opts *o, cJSON *params,
			bool color, bool *streamed, cJSON **result, struct brm_rpc_err *err)
{
	const char *method, *text;
	size_t len;
	uint64_t id;
	int r;

	for (int again = 0;; again++) {
		r = brm_client_call_text(c, "status", params, &text, &len, &id);
		if (r == 0 && cli_stream_status(stdout, text, len, id, color)) {
			*streamed = true;
			return 0;
		}
		if (r == 0)
			r = brm_client_call_finish(c, text, len, id, result, err);
		if (r <= 0 || again || !fields_refused(err))
			return r;
		brm_rpc_err_finish(err);
		params = cli_request(o, &method);
		cJSON_DeleteItemFromObjectCaseSensitive(params, "fields");
	}
}

/* `dial-stdio`: the local brummd's socket on stdin and stdout. */
static int run_dial_stdio(const struct cli_opts *o)
{
	enum brm_socket_origin origin;
	struct brm_client *c;
	char *path, *msg = NULL;
	int errnum, ret;

	path = brm_socket_resolve_origin(o->socket, &origin);
	c = brm_client_connect_errno(path, &msg, &errnum);
	if (!c)
		ret = cannot_connect(o, path, origin, msg, errnum);
	else
		ret = cli_dial_stdio(brm_client_fd(c));
	brm_client_destroy(c);
	free(msg);
	free(path);
	return ret;
}

/* Connect to @t: the local socket, or ssh to host @host of o->hosts. */
static struct brm_client *connect_target(const struct cli_opts *o, size_t host,
					 struct target *t, char **path_buf, int *ret)
{
	enum brm_socket_origin origin;
	struct brm_client *c;
	char *msg = NULL;
	int errnum;

	memset(t, 0, sizeof(*t));
	t->ssh = -1;
	if (o->nhosts) {
		t->path = o->hosts[host];
		if (cli_host_parse(t->path, &t->host))
			abort();   /* cli_parse checked it */
		c = cli_ssh_connect(&t->host, o->socket, o->nhosts > 1, &t->ssh, &msg);
		if (!c) {
			char *m = brm_xasprintf("cannot reach brummd on '%s': %s", t->path, msg);

			fprintf(stderr, "brummctl: %s\n", m);
			if (o->json)
				json_error(NULL, m, NULL);
			free(m);
			*ret = CLI_EXIT_CONNECT;
		}
		free(msg);
		return c;
	}
	*path_buf = brm_socket_resolve_origin(o->socket, &origin);
	t->path = *path_buf;
	c = brm_client_connect_errno(t->path, &msg, &errnum);
	if (!c)
		*ret = cannot_connect(o, t->path, origin, msg, errnum);
	free(msg);
	return c;
}

static int run(const struct cli_opts *o, size_t host)
{
	struct brm_rpc_err err = BRM_RPC_ERR_INIT;
	struct brm_client *c;
	struct target t;
	const char *method;
	cJSON *params, *result = NULL;
	char *path = NULL;
	int r, ret;
	bool streamed = false;

	bool color = o->color ? o->color > 0 : cli_want_color() && !o->no_color;

	if ((o->cmd->id == CMD_LOGS || o->cmd->id == CMD_DLOG) && o->follow)
		cli_logs_catch_signals();
	c = connect_target(o, host, &t, &path, &ret);
	if (!c)
		goto out_free_path;
	if (o->cmd->id == CMD_TOP) {
		ret = cli_top(o, path, &c);
		brm_client_destroy(c);
		goto out_free_path;
	}
	if (o->cmd->id == CMD_RUN) {
		ret = cli_run(o, c, path, color);
		brm_client_destroy(c);
		goto out_free_path;
	}
	params = cli_request(o, &method);
	if (o->cmd->id == CMD_STATUS && !o->json) {
		r = status_table(c, o, params, color, &streamed, &result, &err);
	} else {
		r = brm_client_call(c, method, params, &result, &err);
	}
	if (r < 0) {
		ret = lost(o, &t, c);
	} else if (r > 0) {
		ret = rpc_error(o, &err);
	} else if (streamed) {
		ret = CLI_EXIT_OK;
	} else if (o->cmd->id == CMD_EVENTS) {
		/* The reply only confirms the subscription; events follow. */
		ret = cli_events_follow(o, c) < 0 ? lost(o, &t, c) : CLI_EXIT_OK;
	} else {
		if (o->cmd->id == CMD_METRICS) {
			if (cli_metrics_print(stdout, result) == 0) {
				ret = CLI_EXIT_OK;
			} else {
				fprintf(stderr, "brummctl: metrics: brummd's reply has no \"text\"\n");
				ret = CLI_EXIT_ERROR;
			}
			goto out_result;
		}
		if (is_logs_cmd(o->cmd->id))
			cli_logs_print_result(stdout, o, result, color);
		else if (o->cmd->id == CMD_DLOG)
			cli_dlog_print_result(stdout, o, result, color);
		else if (o->json)
			cli_print_json(stdout, result);
		else
			cli_print_result(stdout, o->cmd->id, result, color);
		ret = CLI_EXIT_OK;
		if (o->cmd->id == CMD_LOGS && o->follow) {
			fflush(stdout);
			if (cli_logs_follow(stdout, c, o, color) < 0)
				ret = lost(o, &t, c);
		}
		if (o->cmd->id == CMD_DLOG && o->follow) {
			fflush(stdout);
			if (cli_dlog_follow(stdout, c, o, color) < 0)
				ret = lost(o, &t, c);
		}
		if (o->cmd->id == CMD_SHUTDOWN && !o->json)
			puts("every process is down; brummd exits");
	}
out_result:
	cJSON_Delete(result);
	brm_rpc_err_finish(&err);
	brm_client_destroy(c);
	/* Our end is closed: ssh passes that on and ends. */
	if (t.ssh > 0)
		cli_ssh_reap(t.ssh, 5000);
out_free_path:
	cli_host_finish(&t.host);
	free(path);
	return ret;
}

int main(int argc, char **argv)
{
	struct cli_opts o;
	int ret;

	/* Completion's own call, from the scripts (complete.c): never parsed
	 * as a command line, never a usage error. */
	if (argc > 1 && strcmp(argv[1], "__complete") == 0)
		return cli_complete(argc - 2, argv + 2);
	switch (cli_parse(argc, argv, &o)) {
	case CLI_PARSE_DONE:
		ret = CLI_EXIT_OK;
		break;
	case CLI_PARSE_USAGE:
		ret = CLI_EXIT_USAGE;
		break;
	case CLI_PARSE_EXIT:
		ret = o.exit_code;
		break;
	case CLI_PARSE_RUN:
	default:
		if (o.dial_stdio) {   /* o.cmd is NULL */
			ret = run_dial_stdio(&o);
		} else if (o.nhosts && (o.cmd->id == CMD_MCP || o.cmd->id == CMD_TOP ||
					o.cmd->id == CMD_RUN)) {
			/* They open connections of their own, to the local socket. */
			fprintf(stderr, "brummctl: %s: not over -H (run it on that host)\n",
				o.cmd->name);
			ret = CLI_EXIT_USAGE;
		} else if (o.cmd->id == CMD_MCP) {
			ret = cli_mcp_run(&o);
		} else if (o.nhosts > 1) {
			size_t host = 0;

			if (!o.no_color && cli_want_color())
				o.color = 1;
			else
				o.color = -1;
			ret = cli_fanout(&o, &host);
			if (ret < 0)
				ret = run(&o, host);   /* the child for that host */
		} else {
			ret = run(&o, 0);
		}
		break;
	}
	cli_opts_finish(&o);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "brummctl: cannot write to stdout: %s\n", strerror(errno));
		if (ret == CLI_EXIT_OK)
			ret = CLI_EXIT_ERROR;
	}
	return ret;
}
