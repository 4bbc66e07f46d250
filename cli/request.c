/*
 * request.c — the JSON-RPC method and params for a parsed command line,
 * shaped as proto/PROTOCOL.md describes them.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli/brummctl.h"
#include "lib/buf.h"
#include "lib/util.h"

static cJSON *checked(cJSON *v)
{
	if (!v)
		brm_oom(sizeof(cJSON));
	return v;
}

static void add_item(cJSON *obj, const char *key, cJSON *v)
{
	if (!cJSON_AddItemToObject(obj, key, checked(v)))
		brm_oom(0);
}

static void add_str(cJSON *obj, const char *key, const char *s)
{
	add_item(obj, key, cJSON_CreateString(s));
}

static void add_str_opt(cJSON *obj, const char *key, const char *s)
{
	if (s)
		add_str(obj, key, s);
}

/* True for [+-]digits[.digits]: what a person means as a plain number. */
static bool plain_number(const char *s)
{
	bool digits = false;

	if (*s == '+' || *s == '-')
		s++;
	for (; *s >= '0' && *s <= '9'; s++)
		digits = true;
	if (*s == '.') {
		s++;
		for (; *s >= '0' && *s <= '9'; s++)
			digits = true;
	}
	return digits && *s == '\0';
}

cJSON *cli_number_or_string(const char *s)
{
	if (plain_number(s))
		return checked(cJSON_CreateNumber(strtod(s, NULL)));
	return checked(cJSON_CreateString(s));
}

static void add_num_opt(cJSON *obj, const char *key, const char *s)
{
	if (s)
		add_item(obj, key, cli_number_or_string(s));
}

/* --since TIME as "since": seconds since the epoch, to the millisecond. */
static void add_since(cJSON *obj, const struct cli_opts *o)
{
	if (o->have_since_ts)
		add_item(obj, "since", cJSON_CreateNumber(floor(o->since_ts * 1000.0) / 1000.0));
}

/* "name": N for one name, "names": [...] for more, "all": true for --all. */
static cJSON *target_params(const struct cli_opts *o)
{
	cJSON *p = checked(cJSON_CreateObject());

	if (o->all) {
		add_item(p, "all", cJSON_CreateTrue());
	} else if (o->nargs == 1) {
		add_str(p, "name", o->args[0]);
	} else if (o->nargs > 1) {
		cJSON *names = checked(cJSON_CreateArray());

		for (size_t i = 0; i < o->nargs; i++)
			if (!cJSON_AddItemToArray(names, checked(cJSON_CreateString(o->args[i]))))
				brm_oom(0);
		add_item(p, "names", names);
	}
	return p;
}

static cJSON *add_spec(const struct cli_opts *o)
{
	cJSON *spec = checked(cJSON_CreateObject());

	if (o->shell) {
		struct brm_buf b = BRM_BUF_INIT;

		for (size_t i = 0; i < o->ncmd; i++) {
			if (i)
				brm_buf_addc(&b, ' ');
			brm_buf_adds(&b, o->cmdv[i]);
		}
		add_str(spec, "cmd", b.p);
		brm_buf_finish(&b);
		add_item(spec, "shell", cJSON_CreateTrue());
	} else {
		cJSON *argv = checked(cJSON_CreateArray());

		for (size_t i = 0; i < o->ncmd; i++)
			if (!cJSON_AddItemToArray(argv, checked(cJSON_CreateString(o->cmdv[i]))))
				brm_oom(0);
		add_item(spec, "cmd", argv);
	}
	add_str_opt(spec, "restart", o->restart);
	add_str_opt(spec, "type", o->type);
	if (o->no_autostart)
		add_item(spec, "autostart", cJSON_CreateFalse());
	add_str_opt(spec, "cwd", o->cwd);
	if (o->nenv) {
		cJSON *env = checked(cJSON_CreateObject());

		for (size_t i = 0; i < o->nenv; i++) {
			const char *eq = strchr(o->env[i], '=');
			char *key = brm_xstrndup(o->env[i], (size_t)(eq - o->env[i]));

			/* A repeated key: the last one wins. */
			cJSON_DeleteItemFromObjectCaseSensitive(env, key);
			add_str(env, key, eq + 1);
			free(key);
		}
		add_item(spec, "env", env);
	}
	add_num_opt(spec, "start_secs", o->start_secs);
	add_num_opt(spec, "start_retries", o->start_retries);
	add_num_opt(spec, "stop_signal", o->stop_signal);
	add_num_opt(spec, "stop_timeout_secs", o->stop_timeout);
	add_str_opt(spec, "user", o->user);
	add_str_opt(spec, "group", o->group);
	return spec;
}

cJSON *cli_request(const struct cli_opts *o, const char **method)
{
	cJSON *p = NULL;

	*method = o->cmd->name;
	switch (o->cmd->id) {
	case CMD_STATUS:
		if (o->nargs)
			p = target_params(o);
		/* On a terminal by default; a script (or a pipe) asks with --stats:
		 * brummd reads /proc for every process it reports. */
		if (o->stats > 0 || (o->stats == 0 && !o->json && isatty(STDOUT_FILENO))) {
			if (!p)
				p = checked(cJSON_CreateObject());
			add_item(p, "stats", cJSON_CreateTrue());
		}
		/* Only when asked: each process's descriptors are walked. */
		if (o->ports) {
			if (!p)
				p = checked(cJSON_CreateObject());
			add_item(p, "ports", cJSON_CreateTrue());
		}
		/* The table shows a third of each SNAP: brummd writes, and we
		 * read, only that third (main.c asks again without, of a brummd
		 * that knows no "fields"). */
		if (!o->json) {
			if (!p)
				p = checked(cJSON_CreateObject());
			add_item(p, "fields", cli_row_fields(o->ports));
		}
		break;
	case CMD_START:
	case CMD_STOP:
	case CMD_RESTART:
		p = target_params(o);
		add_item(p, "wait", cJSON_CreateBool(!o->no_wait));
		add_num_opt(p, "timeout_secs", o->timeout);
		break;
	case CMD_SIGNAL:
		p = target_params(o);
		add_num_opt(p, "signal", o->sig);
		if (o->to_group)
			add_str(p, "to", "group");
		break;
	case CMD_ADD:
		p = checked(cJSON_CreateObject());
		add_str(p, "name", o->args[0]);
		add_item(p, "spec", add_spec(o));
		break;
	case CMD_REMOVE:
		p = checked(cJSON_CreateObject());
		add_str(p, "name", o->args[0]);
		break;
	case CMD_PING:
	case CMD_RELOAD:
		break;
	case CMD_LOGS:
		if (o->reopen) {
			*method = "logs_reopen";
			break;
		}
		p = target_params(o);
		add_num_opt(p, "lines", o->lines);
		add_num_opt(p, "since_seq", o->since_seq);
		add_since(p, o);
		add_str_opt(p, "stream", o->stream);
		add_str_opt(p, "grep", o->grep);
		if (o->follow)
			add_item(p, "follow", cJSON_CreateTrue());
		break;
	case CMD_URLS:
		/* Always "names" when named, so the result is {"processes":[...]}. */
		*method = "status";
		if (o->nargs) {
			cJSON *names = checked(cJSON_CreateArray());

			for (size_t i = 0; i < o->nargs; i++)
				if (!cJSON_AddItemToArray(names,
							  checked(cJSON_CreateString(o->args[i]))))
					brm_oom(0);
			p = checked(cJSON_CreateObject());
			add_item(p, "names", names);
		}
		break;
	case CMD_ERRORS:
		if (o->nargs)
			p = target_params(o);
		break;
	case CMD_EVENTS:
		p = target_params(o);
		if (o->history)
			add_item(p, "history", cJSON_CreateTrue());
		add_num_opt(p, "since_seq", o->since);
		break;
	case CMD_WAIT:
		p = target_params(o);
		add_str_opt(p, "state", o->state);
		add_str_opt(p, "health", o->health);
		add_num_opt(p, "timeout_secs", o->timeout);
		break;
	case CMD_DLOG:
		*method = "daemon_log";
		p = checked(cJSON_CreateObject());
		add_num_opt(p, "lines", o->lines);
		add_since(p, o);
		if (o->follow)
			add_item(p, "follow", cJSON_CreateTrue());
		break;
	case CMD_SHUTDOWN:
	case CMD_MCP:
		break;
	case CMD_RUN:   /* run.c makes its own calls */
		break;
	case CMD_METRICS:
		break;
	case CMD_TOP:
		/* top makes its own calls (top.c). */
		break;
	}
	return p;
}
