/*
 * args.c — brummctl's command line: global options, a command, then its
 * arguments with options anywhere among them (so `brummctl status --json`
 * works), and for `add` the command to run after "--".
 *
 * Everything that can be checked without the daemon is checked here, so a
 * typo is a usage error (exit 2) before any connection is made.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/brummctl.h"
#include "cli/import.h"
#include "lib/pattern.h"
#include "lib/util.h"
#include "proto/proto.h"
#include "proto/selector.h"

static const struct cli_command commands[] = {
	{ "status", CMD_STATUS, ARGS_NAMES, "[NAME...] [--stats|--no-stats] [--ports]",
	  "show the state of every process, or of the named ones" },
	{ "start", CMD_START, ARGS_NAMES, "NAME...|--all [--no-wait] [--timeout SECS]",
	  "start processes and wait until they are running" },
	{ "stop", CMD_STOP, ARGS_NAMES, "NAME...|--all [--no-wait] [--timeout SECS]",
	  "stop processes and wait until they are down" },
	{ "restart", CMD_RESTART, ARGS_NAMES, "NAME...|--all [--no-wait] [--timeout SECS]",
	  "stop, then start processes and wait until they are running" },
	{ "signal", CMD_SIGNAL, ARGS_NAMES_SIG, "NAME... SIG|--all SIG [--group]",
	  "send a signal (HUP, SIGUSR1, 15, ...) to the main process, or its group" },
	{ "add", CMD_ADD, ARGS_NEW, "NAME [OPTIONS] -- CMD [ARGS...]",
	  "add a process (and start it, unless --no-autostart)" },
	{ "remove", CMD_REMOVE, ARGS_NAME, "NAME",
	  "stop a process and remove it" },
	{ "ping", CMD_PING, ARGS_NONE, "",
	  "check that brummd answers; print its version, pid and uptime" },
	{ "reload", CMD_RELOAD, ARGS_NONE, "",
	  "re-read the config file and apply the difference" },
	{ "logs", CMD_LOGS, ARGS_NAMES, "[NAME...] [-n N] [-f] [--since TIME] [--stdout|--stderr] [--grep RE] | --reopen",
	  "show the last lines of processes' output, of every process without a NAME"
	  " (-f: and follow it)" },
	{ "urls", CMD_URLS, ARGS_NAMES, "[NAME...]",
	  "list the http(s) URLs processes printed" },
	{ "errors", CMD_ERRORS, ARGS_NAME, "[NAME]",
	  "show recent error blocks (stack traces kept together)" },
	{ "events", CMD_EVENTS, ARGS_NAMES, "[NAME...] [-f] [--history|--since SEQ] [--count N]",
	  "print state and health changes as they happen, one line each" },
	{ "wait", CMD_WAIT, ARGS_NAMES, "NAME...|--all --state S [--health H] [--timeout SECS]",
	  "wait until processes reach a state (exit 0), or say why not (exit 1)" },
	{ "log", CMD_DLOG, ARGS_NONE, "[-n N] [-f] [--since TIME]",
	  "show brummd's own log (-f: and follow it)" },
	{ "shutdown", CMD_SHUTDOWN, ARGS_NONE, "",
	  "stop every process in dependency order, then brummd exits" },
	{ "metrics", CMD_METRICS, ARGS_NONE, "",
	  "print the processes' states and figures in the Prometheus text format" },
	{ "mcp", CMD_MCP, ARGS_NONE, "[--start] [--allow-changes]",
	  "serve the Model Context Protocol on stdin/stdout, for AI coding agents" },
	{ "top", CMD_TOP, ARGS_NONE, "",
	  "a live view of the processes: sort, filter, start/stop/restart, follow logs"
	  " (keys: ? in top)" },
	{ "run", CMD_RUN, ARGS_NAME, "NAME",
	  "start a process and print its output until it ends or ^C stops it;"
	  " exit with its status" },
};

enum opt_id {
	O_SOCKET, O_HOST, O_JSON, O_HELP, O_VERSION,
	O_ALL, O_WAIT, O_NO_WAIT, O_TIMEOUT,
	O_RESTART, O_TYPE, O_NO_AUTOSTART, O_CWD, O_ENV, O_START_SECS, O_START_RETRIES,
	O_STOP_SIGNAL, O_STOP_TIMEOUT, O_USER, O_GROUP, O_SHELL,
	O_NO_COLOR, O_LINES, O_FOLLOW, O_STDOUT, O_STDERR, O_GREP, O_SINCE_SEQ, O_REOPEN,
	O_HISTORY, O_SINCE, O_COUNT, O_STATE, O_HEALTH, O_STATS, O_NO_STATS, O_PORTS,
	O_TO_GROUP, O_MCP_START, O_ALLOW_CHANGES,
};

#define BIT(c) (1u << (c))
#define GLOBAL (~0u)
#define WAITERS (BIT(CMD_START) | BIT(CMD_STOP) | BIT(CMD_RESTART))
#define ADD BIT(CMD_ADD)
#define LOGS BIT(CMD_LOGS)
#define EVENTS BIT(CMD_EVENTS)
#define WAIT BIT(CMD_WAIT)
#define SIGNAL BIT(CMD_SIGNAL)
#define DLOG BIT(CMD_DLOG)
#define MCP BIT(CMD_MCP)

static const struct opt {
	const char *name;
	char short_name;
	bool has_arg;
	enum opt_id id;
	unsigned cmds;            /* commands that take it; GLOBAL for all */
	const char *values;       /* its values for completion (complete.c) */
} opts[] = {
	{ "socket", 's', true, O_SOCKET, GLOBAL, CLI_VALUES_FILE },
	{ "host", 'H', true, O_HOST, GLOBAL, NULL },
	{ "json", 0, false, O_JSON, GLOBAL, NULL },
	{ "help", 'h', false, O_HELP, GLOBAL, NULL },
	{ "version", 0, false, O_VERSION, GLOBAL, NULL },
	{ "all", 0, false, O_ALL, WAITERS | WAIT | SIGNAL, NULL },
	{ "wait", 0, false, O_WAIT, WAITERS, NULL },
	{ "no-wait", 0, false, O_NO_WAIT, WAITERS, NULL },
	{ "timeout", 0, true, O_TIMEOUT, WAITERS | WAIT, NULL },
	{ "restart", 0, true, O_RESTART, ADD, "always on-failure never" },
	{ "type", 0, true, O_TYPE, ADD, "simple oneshot" },
	{ "no-autostart", 0, false, O_NO_AUTOSTART, ADD, NULL },
	{ "cwd", 0, true, O_CWD, ADD, CLI_VALUES_DIR },
	{ "env", 0, true, O_ENV, ADD, NULL },
	{ "start-secs", 0, true, O_START_SECS, ADD, NULL },
	{ "start-retries", 0, true, O_START_RETRIES, ADD, NULL },
	{ "stop-signal", 0, true, O_STOP_SIGNAL, ADD, CLI_VALUES_SIGNAL },
	{ "stop-timeout", 0, true, O_STOP_TIMEOUT, ADD, NULL },
	{ "user", 0, true, O_USER, ADD, CLI_VALUES_USER },
	{ "group", 0, true, O_GROUP, ADD, CLI_VALUES_GROUP },
	{ "group", 0, false, O_TO_GROUP, SIGNAL, NULL },   /* same name, other command */
	{ "shell", 0, false, O_SHELL, ADD, NULL },
	{ "no-color", 0, false, O_NO_COLOR, GLOBAL, NULL },
	{ "lines", 'n', true, O_LINES, LOGS | DLOG, NULL },
	{ "follow", 'f', false, O_FOLLOW, LOGS | EVENTS | DLOG, NULL },
	{ "stdout", 0, false, O_STDOUT, LOGS, NULL },
	{ "stderr", 0, false, O_STDERR, LOGS, NULL },
	{ "grep", 0, true, O_GREP, LOGS, NULL },
	{ "since-seq", 0, true, O_SINCE_SEQ, LOGS, NULL },
	{ "reopen", 0, false, O_REOPEN, LOGS, NULL },
	{ "history", 0, false, O_HISTORY, EVENTS, NULL },
	{ "since", 0, true, O_SINCE, EVENTS | LOGS | DLOG, NULL },
	{ "count", 0, true, O_COUNT, EVENTS, NULL },
	{ "state", 0, true, O_STATE, WAIT, CLI_VALUES_STATE },
	{ "health", 0, true, O_HEALTH, WAIT, NULL },
	{ "stats", 0, false, O_STATS, BIT(CMD_STATUS), NULL },
	{ "no-stats", 0, false, O_NO_STATS, BIT(CMD_STATUS), NULL },
	{ "start", 0, false, O_MCP_START, MCP, NULL },
	{ "allow-changes", 0, false, O_ALLOW_CHANGES, MCP, NULL },
	{ "ports", 0, false, O_PORTS, BIT(CMD_STATUS), NULL },
};

const struct cli_command *cli_command_at(size_t i)
{
	return i < BRM_ARRAY_SIZE(commands) ? &commands[i] : NULL;
}

bool cli_option_at(size_t i, const struct cli_command *cmd, struct cli_option *opt,
		   bool *applies)
{
	if (i >= BRM_ARRAY_SIZE(opts))
		return false;
	opt->name = opts[i].name;
	opt->short_name = opts[i].short_name;
	opt->has_arg = opts[i].has_arg;
	opt->global = opts[i].cmds == GLOBAL;
	opt->values = opts[i].values;
	*applies = opt->global || (cmd && (opts[i].cmds & BIT(cmd->id)));
	return true;
}

void cli_print_help(FILE *f)
{
	fputs("usage: brummctl [-H ssh://[USER@]HOST[:PORT]]... [--socket PATH] [--json]\n"
	      "                COMMAND [ARGS...]\n"
	      "\n"
	      "Control brummd, the process manager.\n"
	      "\n"
	      "commands:\n", f);
	for (size_t i = 0; i < BRM_ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-8s %s\n           %s\n", commands[i].name,
			commands[i].usage, commands[i].summary);
	fputs("  completion bash|zsh|fish\n"
	      "           print the shell completion script: source <(brummctl completion bash)\n"
	      "  init [--force] [DIR]\n"
	      "           write DIR/brummd.json: the project's package.json, Procfile and\n"
	      "           Makefile as processes (brummctl init --help)\n"
	      "  import [--from supervisord|procfile|pm2] [-o FILE [--force]] FILE\n"
	      "           convert a supervisord, Procfile or pm2 config into brummd's\n"
	      "           (brummctl import --help)\n"
	      "  dial-stdio [--socket PATH]\n"
	      "           copy stdin to the local brummd's socket and its replies to stdout\n"
	      "           (what -H runs on the other host through ssh)\n"
	      "\n"
	      "NAME is a process (web), an instance group (worker: worker:0, worker:1, ...)\n"
	      "or a glob pattern in quotes ('web*', 'worker:[02]', '?b'); at most 8\n"
	      "patterns, each at most 64 bytes. A NAME that takes nothing is an error.\n"
	      "\n"
	      "global options (before or after the command):\n"
	      "  -s, --socket PATH   brummd's socket; default: $BRUMMD_SOCKET, else\n"
	      "                      $XDG_RUNTIME_DIR/brummd/brummd.sock (as root\n"
	      "                      /run/brummd/brummd.sock, else /tmp/brummd-UID/brummd.sock);\n"
	      "                      refused unless root or you own it and its directories\n"
	      "                      ($BRUMMD_SOCKET_TRUST_UID=UID trusts one more user)\n"
	      "  -H, --host ssh://[USER@]HOST[:PORT]\n"
	      "                      the brummd of another host, through ssh (default:\n"
	      "                      $BRUMMD_HOST); there, 'brummctl dial-stdio' ($BRUMMCTL_REMOTE)\n"
	      "                      connects to brummd; --socket is then that host's socket.\n"
	      "                      ssh is $BRUMMCTL_SSH (default ssh; split at spaces).\n"
	      "                      Given more than once (at most 64): the command runs on\n"
	      "                      every host at once, each line prefixed 'HOST: ', with\n"
	      "                      ssh in BatchMode; exit status the worst host's (3, 1, 0)\n"
	      "      --json          print the result as one line of JSON (for scripts)\n"
	      "      --no-color      no colours, even on a terminal (so does NO_COLOR)\n"
	      "  -h, --help          show this help (after a command: that command's)\n"
	      "      --version       print brummctl's version\n"
	      "\n"
	      "start, stop, restart:\n"
	      "      --all           every process\n"
	      "      --no-wait       return once the request was applied, without\n"
	      "                      waiting for running (start) or down (stop)\n"
	      "      --timeout SECS  how long to wait (brummd's default: 60s)\n"
	      "\n"
	      "signal:\n"
	      "      --all           every process that runs (the others are listed as\n"
	      "                      skipped; exit 1 only when none was signalled)\n"
	      "      --group         the whole process group, not just the main process\n"
	      "\n"
	      "add:\n"
	      "      --restart always|on-failure|never   restart policy (default on-failure;\n"
	      "                      never for a one-shot)\n"
	      "      --type simple|oneshot   oneshot: a job run to completion (default simple)\n"
	      "      --no-autostart  add it stopped\n"
	      "      --cwd DIR       working directory\n"
	      "      --env K=V       environment variable (repeatable)\n"
	      "      --start-secs S  up this long counts as started (default 1)\n"
	      "      --start-retries N  failed starts before fatal (default 3)\n"
	      "      --stop-signal SIG  signal for stop (default TERM)\n"
	      "      --stop-timeout S   SIGKILL after this long (default 10)\n"
	      "      --user U, --group G  run as this user / group\n"
	      "      --shell         run CMD ARGS... joined by spaces with /bin/sh -c\n"
	      "  Durations are seconds (1.5) or take a unit: 250ms, 10s, 2m, 1h.\n"
	      "\n"
	      "logs:\n"
	      "  -n, --lines N       the last N lines (default 100, at most 10000)\n"
	      "  -f, --follow        then print new lines as they come, until ^C\n"
	      "      --stdout, --stderr  only that stream (default both, and brummd's\n"
	      "                      own lines about the process)\n"
	      "      --grep RE       only lines matching a POSIX extended regex\n"
	      "      --since-seq N   only lines from sequence number N on\n"
	      "      --since TIME    only lines from TIME on: a duration ago (30s, 10m,\n"
	      "                      2h, 1d) or a time (2026-12-05T10:00:00, local time\n"
	      "                      unless it ends in Z or +HH:MM)\n"
	      "      --reopen        reopen every log file (after an external logrotate)\n"
	      "  Lines read 'DATE TIME NAME | text': '|' stdout, '!' stderr, '-' brummd's\n"
	      "  lines (started, exited, ...); ' [cut]' ends a line cut at log_line_max.\n"
	      "  Colours of the process pass through on a terminal; otherwise escape\n"
	      "  sequences are removed. Other control bytes are shown as \\xHH.\n"
	      "status:\n"
	      "      --stats         CPU and memory per process (the default for the\n"
	      "                      table on a terminal; otherwise only when asked:\n"
	      "                      reading them costs brummd a few /proc reads per\n"
	      "                      process)\n"
	      "      --no-stats      without them\n"
	      "      --ports         the TCP ports each process tree listens on (a PORTS\n"
	      "                      column; brummd walks every descriptor of every\n"
	      "                      process: off by default)\n"
	      "\n"
	      "events:\n"
	      "  -f, --follow        accepted for habit's sake: events always follow\n"
	      "      --history       first the past events brummd still holds\n"
	      "      --since SEQ     first the events from sequence number SEQ on\n"
	      "      --count N       exit 0 after N events\n"
	      "  One line per event (TIME  NAME  FROM -> TO  pid PID  (REASON)); with --json\n"
	      "  each event's JSON object, and gap notices as {\"gap\":{...}}.\n"
	      "\n"
	      "wait:\n"
	      "      --state S       stopped|waiting|starting|running|backoff|stopping|exited|\n"
	      "                      fatal\n"
	      "      --health H      also wait for this health (e.g. healthy)\n"
	      "      --timeout SECS  give up after SECS (default 60s): exit 1, saying why\n"
	      "      --all           every process\n"
	      "\n"
	      "log (brummd's own log, its last lines kept in memory):\n"
	      "  -n, --lines N       the last N lines (default 100, at most 10000)\n"
	      "  -f, --follow        then print new lines as they come, until ^C\n"
	      "      --since TIME    only lines from TIME on (as for logs)\n"
	      "\n"
	      "shutdown:\n"
	      "  Stops every process (dependents before what they depend on), answers\n"
	      "  once all are down, then brummd exits 0.\n"
	      "\n"
	      "metrics:\n"
	      "  The Prometheus text format (0.0.4) for node_exporter's textfile\n"
	      "  collector: brummd_process_state{name,state}, _up, _restarts_total,\n"
	      "  _uptime_seconds, CPU, memory, health, log lines, and brummd's own\n"
	      "  uptime, memory, requests, clients and spawn times. brummd renders\n"
	      "  it: the same text its metrics_listen serves at GET /metrics.\n"
	      "\n"
	      "mcp:\n"
	      "  A Model Context Protocol server (stdio transport) for AI coding agents:\n"
	      "  tools list_processes, status, start, stop, restart, logs, errors, urls,\n"
	      "  wait (a reader in brummd's access gets only the read-only ones); the\n"
	      "  resources brummd://processes and brummd://logs/{name}, which can be\n"
	      "  subscribed to. Run by the agent, e.g.\n"
	      "  {\"command\": \"brummctl\", \"args\": [\"mcp\"]}.\n"
	      "      --start         start brummd (beside brummctl, on the socket above)\n"
	      "                      when none answers\n"
	      "      --allow-changes also the tools add and remove\n"
	      "\n"
	      "run:\n"
	      "  Starts one process and prints its output (stdout, stderr and brummd's\n"
	      "  notes) as it comes. Ends when the process ends: exited, fatal or\n"
	      "  stopped (a restart by its policy goes on). ^C or SIGTERM stops it and\n"
	      "  waits until it is down. The exit status is the process's: its code,\n"
	      "  or 128 + the signal that ended it; 1 when it could not be started.\n"
	      "\n"
	      "Options that take a value take it as '--name VALUE', '--name=VALUE',\n"
	      "and for one-letter ones also '-n VALUE' or '-nVALUE'.\n"
	      "\n"
	      "output:\n"
	      "  A table (coloured on a terminal unless NO_COLOR is set). With --json,\n"
	      "  the result as brummd sent it, on one line; errors as\n"
	      "  {\"error\":{\"code\":C,\"message\":M,\"data\":D}} (code null when brummd\n"
	      "  could not be reached), in addition to the message on stderr.\n"
	      "  logs --json prints one line object per line (NDJSON), also while\n"
	      "  following: {\"name\",\"seq\",\"ts\",\"stream\",\"line\"[,\"cut\":true]};\n"
	      "  missed lines as {\"gap\":{\"name\",\"missed\",\"next_seq\"}} (and on stderr).\n"
	      "  urls --json prints {\"urls\":[{\"name\":N,\"url\":U},...]}.\n"
	      "\n"
	      "exit codes:\n"
	      "  0  success\n"
	      "  1  brummd answered with an error (no such process, a wait that\n"
	      "     timed out or ended in another state, ...)\n"
	      "  2  usage error: unknown command or option, missing argument\n"
	      "  3  cannot reach brummd: no connection, or it closed the connection\n"
	      "     (during logs -f too; ^C or SIGTERM ends logs -f with 0)\n"
	      "     or answered with something that is not the protocol; with -H also\n"
	      "     when ssh, the remote brummctl or its connection to brummd failed\n"
	      "  With several -H: the worst host's, in the order 3, 2, 1, 0.\n", f);
}

static void print_cmd_help(FILE *f, const struct cli_command *cmd)
{
	fprintf(f, "usage: brummctl %s %s\n\n%s\n\n"
		"See 'brummctl --help' for the options and exit codes.\n",
		cmd->name, cmd->usage, cmd->summary);
}

enum cli_parse_result cli_usage_error(const struct cli_command *cmd, const char *fmt, ...)
{
	va_list ap;

	fputs("brummctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (cmd)
		fprintf(stderr, "usage: brummctl %s %s\n"
			"see 'brummctl %s --help' or 'brummctl --help'\n",
			cmd->name, cmd->usage, cmd->name);
	else
		fputs("see 'brummctl --help'\n", stderr);
	return CLI_PARSE_USAGE;
}

const struct cli_command *cli_command_find(const char *name)
{
	for (size_t i = 0; i < BRM_ARRAY_SIZE(commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/*
 * Look up the option in argv[*i] ("--name", "--name=value", "-s").
 * Returns the option and its value in *@value (NULL for flags), advancing
 * *@i past a separate value; or NULL after printing a usage error.
 */
static const struct opt *find_opt(int argc, char **argv, int *i,
				  const struct cli_command *cmd, const char **value)
{
	const char *arg = argv[*i], *eq = NULL;
	const struct opt *opt = NULL;
	size_t len;

	*value = NULL;
	if (arg[1] == '-') {
		const char *name = arg + 2;

		eq = strchr(name, '=');
		len = eq ? (size_t)(eq - name) : strlen(name);
		/* Two commands may give one name its own meaning (--group):
		 * the command's own entry wins. */
		for (size_t k = 0; k < BRM_ARRAY_SIZE(opts); k++)
			if (strlen(opts[k].name) == len && memcmp(opts[k].name, name, len) == 0 &&
			    (!opt || (cmd && (opts[k].cmds & BIT(cmd->id)))))
				opt = &opts[k];
	} else {
		/* "-n 5", and "-n5" for a short option that takes a value. */
		for (size_t k = 0; k < BRM_ARRAY_SIZE(opts); k++)
			if (opts[k].short_name && opts[k].short_name == arg[1] &&
			    (arg[2] == '\0' || opts[k].has_arg))
				opt = &opts[k];
		if (opt && arg[2])
			eq = arg + 1;   /* the value starts at arg[2] */
	}
	if (!opt) {
		cli_usage_error(cmd, "unknown option '%s'", arg);
		return NULL;
	}
	if (opt->cmds != GLOBAL) {
		if (!cmd) {
			cli_usage_error(NULL, "option '--%s' goes after the command", opt->name);
			return NULL;
		}
		if (!(opt->cmds & BIT(cmd->id))) {
			cli_usage_error(cmd, "'%s' does not take option '--%s'",
					cmd->name, opt->name);
			return NULL;
		}
	}
	if (!opt->has_arg) {
		if (eq) {   /* only "--name=value": "-xVALUE" matched no flag */
			cli_usage_error(cmd, "option '--%s' takes no value", opt->name);
			return NULL;
		}
		return opt;
	}
	if (eq) {
		*value = eq + 1;
	} else if (*i + 1 < argc) {
		*value = argv[++*i];
	} else {
		cli_usage_error(cmd, "option '%s' needs a value", arg);
		return NULL;
	}
	if (!**value) {
		cli_usage_error(cmd, "option '--%s' needs a non-empty value", opt->name);
		return NULL;
	}
	return opt;
}

static void set_opt(const char **slot, const char *value)
{
	/* The last one wins, as with most command-line tools. */
	*slot = value;
}

/* One more -H (or $BRUMMD_HOST, named by @from): checked now, so a bad
 * one is a usage error before any ssh runs. */
static enum cli_parse_result add_host(struct cli_opts *o, const char *url, const char *from)
{
	struct cli_host h;
	const char *why;

	if (!url)   /* find_opt gives every option that takes one a value */
		return cli_usage_error(o->cmd, "%s needs a value", from);
	why = cli_host_parse(url, &h);
	if (why)
		return cli_usage_error(o->cmd, "invalid %s '%.80s%s': %s", from, url,
				       strlen(url) > 80 ? "..." : "", why);
	cli_host_finish(&h);
	for (size_t i = 0; i < o->nhosts; i++)
		if (!strcmp(o->hosts[i], url))
			return cli_usage_error(o->cmd, "-H '%s' given twice", url);
	if (o->nhosts == CLI_MAX_HOSTS)
		return cli_usage_error(o->cmd, "more than %d -H", CLI_MAX_HOSTS);
	o->hosts[o->nhosts++] = url;
	return CLI_PARSE_RUN;
}

/* Apply one option. Returns CLI_PARSE_RUN to go on. */
static enum cli_parse_result apply_opt(struct cli_opts *o, const struct opt *opt,
				       const char *value)
{
	switch (opt->id) {
	case O_SOCKET: set_opt(&o->socket, value); break;
	case O_HOST: return add_host(o, value, "-H");
	case O_JSON: o->json = true; break;
	case O_HELP:
		if (o->cmd)
			print_cmd_help(stdout, o->cmd);
		else
			cli_print_help(stdout);
		return CLI_PARSE_DONE;
	case O_VERSION:
		printf("brummctl %s\n", BRM_VERSION);
		return CLI_PARSE_DONE;
	case O_ALL: o->all = true; break;
	case O_WAIT: o->no_wait = false; break;
	case O_NO_WAIT: o->no_wait = true; break;
	case O_TIMEOUT: set_opt(&o->timeout, value); break;
	case O_RESTART: set_opt(&o->restart, value); break;
	case O_TYPE: set_opt(&o->type, value); break;
	case O_NO_AUTOSTART: o->no_autostart = true; break;
	case O_CWD: set_opt(&o->cwd, value); break;
	case O_ENV:
		o->env = brm_xrealloc(o->env, (o->nenv + 1) * sizeof(*o->env));
		o->env[o->nenv++] = value;
		break;
	case O_START_SECS: set_opt(&o->start_secs, value); break;
	case O_START_RETRIES: set_opt(&o->start_retries, value); break;
	case O_STOP_SIGNAL: set_opt(&o->stop_signal, value); break;
	case O_STOP_TIMEOUT: set_opt(&o->stop_timeout, value); break;
	case O_USER: set_opt(&o->user, value); break;
	case O_GROUP: set_opt(&o->group, value); break;
	case O_SHELL: o->shell = true; break;
	case O_NO_COLOR: o->no_color = true; break;
	case O_LINES: set_opt(&o->lines, value); break;
	case O_FOLLOW: o->follow = true; break;
	case O_STDOUT:
	case O_STDERR:
		if (o->stream && strcmp(o->stream, opt->name) != 0)
			return cli_usage_error(o->cmd, "logs: give --stdout or --stderr, not both");
		o->stream = opt->name;
		break;
	case O_GREP: set_opt(&o->grep, value); break;
	case O_SINCE_SEQ: set_opt(&o->since_seq, value); break;
	case O_REOPEN: o->reopen = true; break;
	case O_HISTORY: o->history = true; break;
	case O_SINCE: set_opt(&o->since, value); break;
	case O_COUNT: set_opt(&o->count, value); break;
	case O_STATE: set_opt(&o->state, value); break;
	case O_HEALTH: set_opt(&o->health, value); break;
	case O_STATS: o->stats = 1; break;
	case O_NO_STATS: o->stats = -1; break;
	case O_PORTS: o->ports = true; break;
	case O_TO_GROUP: o->to_group = true; break;
	case O_MCP_START: o->mcp_start = true; break;
	case O_ALLOW_CHANGES: o->allow_changes = true; break;
	}
	return CLI_PARSE_RUN;
}

static bool is_uint(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* ---- durations and times ------------------------------------------------ */

struct unit {
	const char *name;
	double secs;
};

/* brummd's durations (daemon/conf/config.c): a plain number is seconds. */
static const struct unit timeout_units[] = {
	{ "", 1 }, { "ms", 0.001 }, { "s", 1 }, { "m", 60 }, { "h", 3600 },
};
/* --since's "ago": always with a unit, so it never reads as a number. */
static const struct unit ago_units[] = {
	{ "s", 1 }, { "m", 60 }, { "h", 3600 }, { "d", 86400 },
};

#define MAX_TIMEOUT_SECS (365.0 * 24 * 3600)   /* brummd's longest duration */

/* DIGITS[.DIGITS]UNIT with UNIT one of @units: *@secs. No sign, no exponent. */
static bool parse_duration(const char *s, const struct unit *units, size_t n, double *secs)
{
	const char *p = s;
	char *end;
	double v;

	while (*p >= '0' && *p <= '9')
		p++;
	if (p == s)
		return false;
	if (*p == '.') {
		const char *frac = ++p;

		while (*p >= '0' && *p <= '9')
			p++;
		if (p == frac)
			return false;
	}
	v = strtod(s, &end);
	if (end != p)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(p, units[i].name)) {
			*secs = v * units[i].secs;
			return isfinite(*secs);
		}
	}
	return false;
}

/* Exactly @n digits at *@p: their value, *@p moved past them. */
static bool take_digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return false;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return true;
}

/*
 * YYYY-MM-DD[(T| )HH:MM[:SS[.FFF]]][Z|(+|-)HH[:]MM]: seconds since the
 * epoch. Without a zone it is local time, as journalctl --since reads it.
 */
static bool parse_time(const char *s, double *out)
{
	const char *p = s;
	int y, mo, d, h = 0, mi = 0, sec = 0, zh, zm;
	double frac = 0;
	struct tm tm;
	time_t t;

	if (!take_digits(&p, 4, &y) || *p++ != '-' || !take_digits(&p, 2, &mo) ||
	    *p++ != '-' || !take_digits(&p, 2, &d))
		return false;
	if (*p == 'T' || *p == ' ') {
		p++;
		if (!take_digits(&p, 2, &h) || *p++ != ':' || !take_digits(&p, 2, &mi))
			return false;
		if (*p == ':') {
			p++;
			if (!take_digits(&p, 2, &sec))
				return false;
			if (*p == '.') {
				double scale = 0.1;

				if (p[1] < '0' || p[1] > '9')
					return false;
				for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
					frac += (*p - '0') * scale;
			}
		}
	}
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return false;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	if (!*p) {
		tm.tm_isdst = -1;
		t = mktime(&tm);
	} else if (!strcmp(p, "Z")) {
		t = timegm(&tm);
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1;

		if (!take_digits(&p, 2, &zh))
			return false;
		if (*p == ':')
			p++;
		if (!take_digits(&p, 2, &zm) || *p || zh > 23 || zm > 59)
			return false;
		t = timegm(&tm) - sign * (zh * 3600 + zm * 60);
	} else {
		return false;
	}
	if (t == (time_t)-1)
		return false;
	*out = (double)t + frac;
	return true;
}

/* --since TIME for logs and log: *@ts, seconds since the epoch. */
bool cli_parse_since(const char *s, double *ts)
{
	struct timespec now;
	double ago;

	if (parse_duration(s, ago_units, BRM_ARRAY_SIZE(ago_units), &ago)) {
		clock_gettime(CLOCK_REALTIME, &now);
		*ts = (double)now.tv_sec + now.tv_nsec / 1e9 - ago;
		if (*ts < 0)
			*ts = 0;
		return true;
	}
	return parse_time(s, ts);
}

static enum cli_parse_result check_since(struct cli_opts *o)
{
	if (!o->since)
		return CLI_PARSE_RUN;
	if (!cli_parse_since(o->since, &o->since_ts))
		return cli_usage_error(o->cmd, "invalid --since '%s' (expected a duration ago: a"
				       " number and s, m, h or d, as in 10m; or a time"
				       " YYYY-MM-DDTHH:MM[:SS], local unless it ends in Z or"
				       " +HH:MM, as in 2026-12-05T10:00:00)", o->since);
	o->have_since_ts = true;
	return CLI_PARSE_RUN;
}

/* --timeout for start, stop, restart and wait: more than nothing. */
static enum cli_parse_result check_timeout(const struct cli_opts *o)
{
	double secs;

	if (!o->timeout)
		return CLI_PARSE_RUN;
	if (!parse_duration(o->timeout, timeout_units, BRM_ARRAY_SIZE(timeout_units), &secs) ||
	    !(secs > 0) || secs > MAX_TIMEOUT_SECS)
		return cli_usage_error(o->cmd, "invalid --timeout '%s' (expected more than 0"
				       " and at most a year: seconds as in 30 or 1.5, or a"
				       " number with a unit: 250ms, 10s, 2m, 1h)", o->timeout);
	return CLI_PARSE_RUN;
}

/* Names, groups and glob patterns (proto/selector.h), with brummd's bounds. */
static enum cli_parse_result check_selectors(const struct cli_command *cmd,
					     const char *const *args, size_t n)
{
	unsigned npat = 0;

	for (size_t i = 0; i < n; i++) {
		const char *why = brm_selector_check(args[i]);

		if (why)
			return cli_usage_error(cmd, "invalid process name or pattern '%.80s%s': %s",
					       args[i], strlen(args[i]) > 80 ? "..." : "", why);
		if (brm_selector_is_pattern(args[i]) && ++npat > BRM_SELECTOR_MAX_PATTERNS)
			return cli_usage_error(cmd, "more than %d patterns ('%s')",
					       BRM_SELECTOR_MAX_PATTERNS, args[i]);
	}
	return CLI_PARSE_RUN;
}

static enum cli_parse_result check_names(const struct cli_opts *o)
{
	return check_selectors(o->cmd, o->args, o->nargs);
}

/* One process by its own name (add, remove): no group, no pattern. */
static enum cli_parse_result check_plain_name(const struct cli_opts *o)
{
	if (!brm_name_valid(o->args[0]))
		return cli_usage_error(o->cmd, "invalid process name '%s' (1-%d of "
				       "A-Z a-z 0-9 . _ : @ -, not starting with . or -)",
				       o->args[0], BRM_MAX_NAME_LEN);
	return CLI_PARSE_RUN;
}

static enum cli_parse_result check_add(struct cli_opts *o, bool dashdash)
{
	const struct cli_command *cmd = o->cmd;

	if (o->nargs == 0)
		return cli_usage_error(cmd, "add: missing NAME");
	if (o->nargs > 1 || !dashdash)
		return cli_usage_error(cmd, "add: missing '--' before the command to run");
	if (o->ncmd == 0)
		return cli_usage_error(cmd, "add: missing the command to run after '--'");
	if (check_plain_name(o) != CLI_PARSE_RUN)
		return CLI_PARSE_USAGE;
	if (o->restart && strcmp(o->restart, "always") != 0 &&
	    strcmp(o->restart, "on-failure") != 0 && strcmp(o->restart, "never") != 0)
		return cli_usage_error(cmd, "invalid --restart '%s' (expected always, "
				       "on-failure or never)", o->restart);
	if (o->type && strcmp(o->type, "simple") != 0 && strcmp(o->type, "oneshot") != 0)
		return cli_usage_error(cmd, "invalid --type '%s' (expected simple or oneshot)",
				       o->type);
	for (size_t i = 0; i < o->nenv; i++)
		if (o->env[i][0] == '=' || !strchr(o->env[i], '='))
			return cli_usage_error(cmd, "invalid --env '%s' (expected KEY=VALUE)",
					       o->env[i]);
	if (o->start_retries && !is_uint(o->start_retries))
		return cli_usage_error(cmd, "invalid --start-retries '%s' (expected a "
				       "non-negative integer)", o->start_retries);
	if (o->stop_signal && brm_signal_parse(o->stop_signal) < 0)
		return cli_usage_error(cmd, "unknown signal '%s' for --stop-signal",
				       o->stop_signal);
	return CLI_PARSE_RUN;
}

static enum cli_parse_result check_logs(struct cli_opts *o)
{
	const struct cli_command *cmd = o->cmd;

	if (o->reopen) {
		if (o->nargs || o->lines || o->follow || o->stream || o->grep || o->since_seq ||
		    o->since)
			return cli_usage_error(cmd, "logs: --reopen takes no names and no "
					       "other logs options");
		return CLI_PARSE_RUN;
	}
	if (o->nargs > CLI_LOGS_MAX_NAMES)
		return cli_usage_error(cmd, "logs: at most %d names", CLI_LOGS_MAX_NAMES);
	if (check_names(o) != CLI_PARSE_RUN)
		return CLI_PARSE_USAGE;
	if (o->lines && (!is_uint(o->lines) || strlen(o->lines) > 5 ||
			 atoi(o->lines) > CLI_LOGS_MAX_LINES))
		return cli_usage_error(cmd, "invalid --lines '%s' (expected an integer from "
				       "0 to %d)", o->lines, CLI_LOGS_MAX_LINES);
	if (o->since_seq && (!is_uint(o->since_seq) || strlen(o->since_seq) > 15))
		return cli_usage_error(cmd, "invalid --since-seq '%s' (expected a "
				       "non-negative integer)", o->since_seq);
	if (check_since(o) != CLI_PARSE_RUN)
		return CLI_PARSE_USAGE;
	if (o->grep) {
		/* The daemon's own check, so the same pattern fails the same way here. */
		char *msg = NULL;

		if (brm_pattern_check(o->grep, &msg) < 0) {
			enum cli_parse_result r = cli_usage_error(cmd, "invalid --grep '%.64s%s': %s",
								 o->grep, strlen(o->grep) > 64 ?
								 "..." : "", msg);
			free(msg);
			return r;
		}
	}
	return CLI_PARSE_RUN;
}

/* Per-command checks of the positional arguments. */
static enum cli_parse_result check_args(struct cli_opts *o, bool dashdash)
{
	const struct cli_command *cmd = o->cmd;

	switch (cmd->id) {
	case CMD_STATUS:
		return check_names(o);
	case CMD_START:
	case CMD_STOP:
	case CMD_RESTART:
		if (o->all && o->nargs)
			return cli_usage_error(cmd, "%s: give process names or --all, not both",
					       cmd->name);
		if (!o->all && !o->nargs)
			return cli_usage_error(cmd, "%s: missing NAME (or --all)", cmd->name);
		if (o->timeout && o->no_wait)
			return cli_usage_error(cmd, "%s: --timeout needs waiting; drop --no-wait",
					       cmd->name);
		if (check_timeout(o) != CLI_PARSE_RUN)
			return CLI_PARSE_USAGE;
		return check_names(o);
	case CMD_SIGNAL:
		/* The signal comes last: NAME... SIG, or --all SIG. */
		if (o->nargs == 0)
			return cli_usage_error(cmd, o->all ? "signal: missing SIG" :
					       "signal: missing NAME and SIG");
		if (o->nargs == 1 && !o->all)
			return cli_usage_error(cmd, "signal: missing SIG");
		if (o->nargs > 1 && o->all)
			return cli_usage_error(cmd, "signal: give process names or --all, not both");
		if (brm_signal_parse(o->args[o->nargs - 1]) < 0)
			return cli_usage_error(cmd, "unknown signal '%s'", o->args[o->nargs - 1]);
		o->nargs--;
		if (check_names(o) != CLI_PARSE_RUN)
			return CLI_PARSE_USAGE;
		o->sig = o->args[o->nargs];
		return CLI_PARSE_RUN;
	case CMD_ADD:
		return check_add(o, dashdash);
	case CMD_REMOVE:
		if (o->nargs == 0)
			return cli_usage_error(cmd, "remove: missing NAME");
		if (o->nargs > 1)
			return cli_usage_error(cmd, "remove: too many arguments (one NAME)");
		return check_plain_name(o);
	case CMD_PING:
		if (o->nargs)
			return cli_usage_error(cmd, "ping: takes no arguments");
		return CLI_PARSE_RUN;
	case CMD_RELOAD:
		if (o->nargs)
			return cli_usage_error(cmd, "reload: takes no arguments");
		return CLI_PARSE_RUN;
	case CMD_LOGS:
		return check_logs(o);
	case CMD_URLS:
		return check_names(o);
	case CMD_ERRORS:
		if (o->nargs > 1)
			return cli_usage_error(cmd, "errors: too many arguments (one NAME or none)");
		return check_names(o);
	case CMD_EVENTS:
		if (o->history && o->since)
			return cli_usage_error(cmd, "events: give --history or --since, not both");
		if (o->since && (!is_uint(o->since) || !strcmp(o->since, "0")))
			return cli_usage_error(cmd, "invalid --since '%s' (expected a sequence"
					       " number >= 1)", o->since);
		if (o->count && !is_uint(o->count))
			return cli_usage_error(cmd, "invalid --count '%s' (expected a"
					       " non-negative integer)", o->count);
		return check_names(o);
	case CMD_WAIT:
		if (o->all && o->nargs)
			return cli_usage_error(cmd, "wait: give process names or --all, not both");
		if (!o->all && !o->nargs)
			return cli_usage_error(cmd, "wait: missing NAME (or --all)");
		if (!o->state && !o->health)
			return cli_usage_error(cmd, "wait: missing --state (or --health)");
		if (o->state && brm_state_parse(o->state) < 0)
			return cli_usage_error(cmd, "unknown state '%s' for --state", o->state);
		if (check_timeout(o) != CLI_PARSE_RUN)
			return CLI_PARSE_USAGE;
		return check_names(o);
	case CMD_DLOG:
		if (o->nargs)
			return cli_usage_error(cmd, "log: takes no names (it is brummd's own log;"
					       " 'brummctl logs NAME' shows a process's)");
		if (o->lines && (!is_uint(o->lines) || strlen(o->lines) > 5 ||
				 atoi(o->lines) > CLI_LOGS_MAX_LINES))
			return cli_usage_error(cmd, "invalid --lines '%s' (expected an integer from "
					       "0 to %d)", o->lines, CLI_LOGS_MAX_LINES);
		return check_since(o);
	case CMD_SHUTDOWN:
		if (o->nargs)
			return cli_usage_error(cmd, "shutdown: takes no arguments");
		return CLI_PARSE_RUN;
	case CMD_RUN:
		if (o->nargs != 1)
			return cli_usage_error(cmd, o->nargs ? "run: too many arguments (one NAME)"
						      : "run: missing NAME");
		if (o->json)
			return cli_usage_error(cmd, "run: prints the process's output; --json"
					       " does not apply (use 'logs -f --json')");
		return check_plain_name(o);
	case CMD_METRICS:
		if (o->nargs)
			return cli_usage_error(cmd, "metrics: takes no arguments");
		if (o->json)
			return cli_usage_error(cmd, "metrics: prints the Prometheus text format;"
					       " --json does not apply");
		return CLI_PARSE_RUN;
	case CMD_MCP:
		if (o->nargs)
			return cli_usage_error(cmd, "mcp: takes no arguments");
		if (o->json)
			return cli_usage_error(cmd, "mcp: speaks JSON-RPC on stdout already;"
					       " --json does not apply");
		return CLI_PARSE_RUN;
	case CMD_TOP:
		if (o->nargs)
			return cli_usage_error(cmd, "top: takes no arguments");
		if (o->json)
			return cli_usage_error(cmd, "top: draws a live screen; --json does not apply"
					       " (use 'status --json' or 'events --json')");
		if (!isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO))
			return cli_usage_error(cmd, "top: needs a terminal on stdin and stdout"
					       " (for scripts: 'status', 'events')");
		return CLI_PARSE_RUN;
	}
	return CLI_PARSE_RUN;
}

/*
 * `dial-stdio [--socket PATH]` from argv[@i] on: global options only. It
 * always serves the local brummd: -H makes no sense and $BRUMMD_HOST is
 * not read (it may well be set on the host ssh lands on).
 */
static enum cli_parse_result parse_dial_stdio(int argc, char **argv, int i, struct cli_opts *o)
{
	const struct opt *opt;
	const char *value;
	enum cli_parse_result r;

	for (; i < argc; i++) {
		if (argv[i][0] != '-' || !argv[i][1])
			return cli_usage_error(NULL, "dial-stdio: takes no arguments");
		opt = find_opt(argc, argv, &i, NULL, &value);
		if (!opt)
			return CLI_PARSE_USAGE;
		r = apply_opt(o, opt, value);
		if (r != CLI_PARSE_RUN)
			return r;
	}
	if (o->nhosts)
		return cli_usage_error(NULL, "dial-stdio: serves the local brummd; -H does"
				       " not apply");
	o->dial_stdio = true;
	return CLI_PARSE_RUN;
}

enum cli_parse_result cli_parse(int argc, char **argv, struct cli_opts *o)
{
	const struct opt *opt;
	const char *value;
	bool dashdash = false;
	enum cli_parse_result r;
	int i = 1;

	memset(o, 0, sizeof(*o));
	/* Global options, then the command. */
	for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		if (strcmp(argv[i], "--") == 0)
			return cli_usage_error(NULL, "missing command before '--'");
		opt = find_opt(argc, argv, &i, NULL, &value);
		if (!opt)
			return CLI_PARSE_USAGE;
		r = apply_opt(o, opt, value);
		if (r != CLI_PARSE_RUN)
			return r;
	}
	if (i >= argc)
		return cli_usage_error(NULL, "missing command");
	if (strcmp(argv[i], "help") == 0) {
		const struct cli_command *cmd = i + 1 < argc ? cli_command_find(argv[i + 1]) : NULL;
		static char *import_help[] = { "import", "--help", NULL };

		if (i + 1 < argc && strcmp(argv[i + 1], "import") == 0)
			cli_import_main(2, import_help);
		else if (cmd)
			print_cmd_help(stdout, cmd);
		else
			cli_print_help(stdout);
		return CLI_PARSE_DONE;
	}
	if (strcmp(argv[i], "completion") == 0) {
		if (i + 2 != argc)
			return cli_usage_error(NULL, "usage: brummctl completion bash|zsh|fish");
		if (cli_completion_script(stdout, argv[i + 1]) < 0)
			return cli_usage_error(NULL, "completion: unknown shell '%s' (expected "
					       "bash, zsh or fish)", argv[i + 1]);
		return CLI_PARSE_DONE;
	}
	if (strcmp(argv[i], "init") == 0) {
		/* local: writes a config, never talks to brummd (init.c) */
		o->exit_code = cli_init_main(argc - i, argv + i);
		return CLI_PARSE_EXIT;
	}
	if (strcmp(argv[i], "import") == 0) {
		/* local: reads a file, never talks to brummd (import.c) */
		o->exit_code = cli_import_main(argc - i, argv + i);
		return CLI_PARSE_EXIT;
	}
	if (strcmp(argv[i], "dial-stdio") == 0)
		return parse_dial_stdio(argc, argv, i + 1, o);
	o->cmd = cli_command_find(argv[i]);
	if (!o->cmd)
		return cli_usage_error(NULL, "unknown command '%s'", argv[i]);
	i++;

	o->args = brm_xcalloc((size_t)argc, sizeof(*o->args));
	for (; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0) {
			dashdash = true;
			i++;
			break;
		}
		if (a[0] == '-' && a[1]) {
			opt = find_opt(argc, argv, &i, o->cmd, &value);
			if (!opt)
				return CLI_PARSE_USAGE;
			r = apply_opt(o, opt, value);
			if (r != CLI_PARSE_RUN)
				return r;
			continue;
		}
		/* "add web python3 -m ...": say what is missing, not that -m is
		 * an unknown option. */
		if (o->cmd->id == CMD_ADD && o->nargs == 1)
			return cli_usage_error(o->cmd, "add: missing '--' before the command to run");
		o->args[o->nargs++] = a;
	}
	/* After "--": add's command line, or names for the other commands. */
	if (o->cmd->id == CMD_ADD) {
		o->cmdv = argv + i;
		o->ncmd = (size_t)(argc - i);
	} else {
		for (; i < argc; i++)
			o->args[o->nargs++] = argv[i];
	}
	if (!o->nhosts) {
		const char *env = getenv("BRUMMD_HOST");

		if (env && *env && add_host(o, env, "$BRUMMD_HOST") != CLI_PARSE_RUN)
			return CLI_PARSE_USAGE;
	}
	return check_args(o, dashdash);
}

void cli_opts_finish(struct cli_opts *o)
{
	free(o->args);
	free(o->env);
	memset(o, 0, sizeof(*o));
}
