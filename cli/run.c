/*
 * run.c — `brummctl run NAME`: the `npm run dev` habit, supervised. Start
 * the process, print its output as it comes, and end when it ends, with
 * its exit status; Ctrl-C (or SIGTERM) stops it through brummd and waits
 * until it is down.
 *
 * Three connections, set up in this order so that nothing is missed: the
 * output (`logs` follow, from now on), the state changes (`events` of the
 * name), and one for the calls (`start`, later `stop` and `status`). The
 * process is done when it settles: exited, fatal or stopped (by anyone).
 * A restart by its policy is not an end: run goes on following, as a
 * person watching a dev server wants.
 *
 * The exit status is the process's: its exit code, 128 + the signal that
 * ended it (as a shell reports it), 1 when it could not be started
 * (fatal without an exit), and the usual 1/3 when brummd refuses or goes.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/brummctl.h"
#include "lib/client.h"
#include "lib/signame.h"
#include "lib/util.h"

struct run {
	const struct cli_opts *o;
	const char *name, *path;
	bool color;
	struct brm_client *logs, *events, *calls;
};

static int say_lost(const struct run *r, struct brm_client *c)
{
	fflush(stdout);
	fprintf(stderr, "brummctl: lost brummd at '%s': %s\n", r->path, brm_client_strerror(c));
	return CLI_EXIT_CONNECT;
}

/* A call on @c with @params (taken); 0 and *@res, or the exit status after saying why. */
static int call(const struct run *r, struct brm_client *c, const char *method, cJSON *params,
		cJSON **res)
{
	struct brm_rpc_err err = BRM_RPC_ERR_INIT;
	int rc = brm_client_call(c, method, params, res, &err);

	if (rc < 0)
		return say_lost(r, c);
	if (rc > 0) {
		fflush(stdout);
		fprintf(stderr, "brummctl: %s: %s\n", r->name, err.message);
		brm_rpc_err_finish(&err);
		return CLI_EXIT_ERROR;
	}
	return 0;
}

static cJSON *name_params(const char *name)
{
	cJSON *p = cJSON_CreateObject();

	if (!p || !cJSON_AddStringToObject(p, "name", name))
		brm_oom(0);
	return p;
}

static int connect_one(const struct run *r, struct brm_client **c)
{
	char *msg = NULL;
	int errnum;

	*c = brm_client_connect_errno(r->path, &msg, &errnum);
	if (*c)
		return 0;
	fprintf(stderr, "brummctl: %s\n", msg);
	free(msg);
	return CLI_EXIT_CONNECT;
}

/* The exit status @snap (a SNAP) stands for. */
static int exit_status(const cJSON *snap)
{
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(snap, "exit_code");
	const cJSON *sig = cJSON_GetObjectItemCaseSensitive(snap, "exit_signal");
	const cJSON *state = cJSON_GetObjectItemCaseSensitive(snap, "state");
	const cJSON *error = cJSON_GetObjectItemCaseSensitive(snap, "error");

	if (cJSON_IsString(sig)) {
		int n = brm_signal_parse(sig->valuestring);

		return 128 + (n > 0 ? n : 0);
	}
	if (cJSON_IsNumber(sig))
		return 128 + sig->valueint;
	if (cJSON_IsNumber(code))
		return code->valueint & 0xff;
	if (cJSON_IsString(error))
		fprintf(stderr, "brummctl: %s\n", error->valuestring);
	if (cJSON_IsString(state) && !strcmp(state->valuestring, "stopped"))
		return CLI_EXIT_OK;
	return CLI_EXIT_ERROR;
}

/* Print what is waiting on the output connection. Returns 0 or the exit status. */
static int drain_logs(const struct run *r, int timeout_ms)
{
	int width = (int)strlen(r->name);

	for (;;) {
		cJSON *m = NULL;
		int rc = brm_client_next(r->logs, &m, timeout_ms);

		if (rc == -ETIMEDOUT)
			return 0;
		if (rc < 0)
			return say_lost(r, r->logs);
		cli_logs_print_message(stdout, r->o, m, width, r->color);
		cJSON_Delete(m);
		timeout_ms = 0;
	}
}

/* Has an event on the state connection said the process settled? */
static int settled(const struct run *r, bool *done)
{
	for (;;) {
		cJSON *m = NULL;
		const cJSON *p, *name, *kind, *to;
		int rc = brm_client_next(r->events, &m, 0);

		if (rc == -ETIMEDOUT)
			return 0;
		if (rc < 0)
			return say_lost(r, r->events);
		p = cJSON_GetObjectItemCaseSensitive(m, "params");
		name = cJSON_GetObjectItemCaseSensitive(p, "name");
		kind = cJSON_GetObjectItemCaseSensitive(p, "kind");
		to = cJSON_GetObjectItemCaseSensitive(p, "to");
		if (cJSON_IsString(name) && !strcmp(name->valuestring, r->name) &&
		    cJSON_IsString(kind) && !strcmp(kind->valuestring, "state") &&
		    cJSON_IsString(to) &&
		    (!strcmp(to->valuestring, "exited") || !strcmp(to->valuestring, "fatal") ||
		     !strcmp(to->valuestring, "stopped")))
			*done = true;
		cJSON_Delete(m);
	}
}

static int follow(struct run *r)
{
	bool done = false, stopping = false;
	cJSON *res = NULL;
	int rc;

	while (!done) {
		struct pollfd pfd[2] = {
			{ brm_client_fd(r->logs), POLLIN, 0 },
			{ brm_client_fd(r->events), POLLIN, 0 },
		};

		if ((rc = drain_logs(r, 0)) || (rc = settled(r, &done)))
			return rc;
		if (done)
			break;
		if (cli_logs_stop_requested() && !stopping) {
			cJSON *p = name_params(r->name);

			stopping = true;
			fflush(stdout);
			fprintf(stderr, "brummctl: stopping %s\n", r->name);
			cJSON_AddTrueToObject(p, "wait");
			rc = call(r, r->calls, "stop", p, &res);
			cJSON_Delete(res);
			res = NULL;
			if (rc)
				return rc;
			continue;
		}
		fflush(stdout);
		if (poll(pfd, 2, 200) < 0 && errno != EINTR)
			return say_lost(r, r->logs);
	}
	/* The last lines, written before the exit, may still be on their way. */
	if ((rc = drain_logs(r, 100)))
		return rc;
	fflush(stdout);
	rc = call(r, r->calls, "status", name_params(r->name), &res);
	if (rc)
		return rc;
	rc = exit_status(res);
	cJSON_Delete(res);
	return rc;
}

int cli_run(const struct cli_opts *o, struct brm_client *calls, const char *path, bool color)
{
	struct run r = { .o = o, .name = o->args[0], .path = path, .color = color,
			 .calls = calls };
	cJSON *p, *res = NULL;
	int rc;

	/* One process: a group's copies end one by one, and have no one status. */
	if ((rc = call(&r, r.calls, "status", name_params(r.name), &res)))
		return rc;
	if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(res, "name"))) {
		fprintf(stderr, "brummctl: run: '%s' is a group of %d processes; run one of them\n",
			r.name, cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(res, "processes")));
		cJSON_Delete(res);
		return CLI_EXIT_USAGE;
	}
	cJSON_Delete(res);
	res = NULL;
	cli_logs_catch_signals();
	if ((rc = connect_one(&r, &r.logs)))
		return rc;
	if ((rc = connect_one(&r, &r.events)))
		goto out;
	p = name_params(r.name);
	cJSON_AddTrueToObject(p, "follow");
	cJSON_AddNumberToObject(p, "lines", 0);
	cJSON_AddStringToObject(p, "stream", "all");
	if ((rc = call(&r, r.logs, "logs", p, &res)))
		goto out;
	cJSON_Delete(res);
	res = NULL;
	if ((rc = call(&r, r.events, "events", name_params(r.name), &res)))
		goto out;
	cJSON_Delete(res);
	res = NULL;
	p = name_params(r.name);
	cJSON_AddFalseToObject(p, "wait");
	if ((rc = call(&r, r.calls, "start", p, &res)))
		goto out;
	cJSON_Delete(res);
	rc = follow(&r);
out:
	if (r.events)
		brm_client_destroy(r.events);
	brm_client_destroy(r.logs);
	return rc;
}
