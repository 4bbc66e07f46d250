/*
 * brummctl.h — the parts of brummctl, one concern per file:
 *
 *   args.c     the command line: commands, options, help text
 *   request.c  turning parsed options into a JSON-RPC method and params
 *   table.c    printing results: tables, ping line, error details
 *   stream.c   the status table read straight from the reply's text
 *   logs.c     logs (and follow), urls, errors: their output
 *   dlog.c     log: brummd's own log (and follow)
 *   metrics.c  metrics: the Prometheus text format
 *   top.c      top: the live view (top.h; drawn by topdraw.c)
 *   complete.c shell completion: the scripts, and the candidates for a word
 *   import.c   import: another process manager's config as brummd's (import.h)
 *   mcp.c      mcp: an MCP server on stdio for AI agents (mcp.h, mcp_tools.c)
 *   remote.c   -H ssh://...: the -H value, starting ssh, what its end means
 *   dialstdio.c dial-stdio: the far end of -H, stdin/stdout to the socket
 *   fanout.c   several -H: a child per host, lines prefixed with the host
 *   main.c     connecting, calling, exit codes
 *
 * Everything here runs on brummctl's only thread.
 */
#ifndef BRM_CLI_BRUMMCTL_H
#define BRM_CLI_BRUMMCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct cJSON;

/* Exit codes; `brummctl --help` documents them. */
enum {
	CLI_EXIT_OK = 0,
	CLI_EXIT_ERROR = 1,     /* brummd answered with an error */
	CLI_EXIT_USAGE = 2,     /* bad command line */
	CLI_EXIT_CONNECT = 3,   /* cannot reach brummd, or lost it mid-call */
};

enum cli_cmd_id {
	CMD_STATUS,
	CMD_START,
	CMD_STOP,
	CMD_RESTART,
	CMD_SIGNAL,
	CMD_ADD,
	CMD_REMOVE,
	CMD_PING,
	CMD_RELOAD,
	CMD_LOGS,
	CMD_URLS,
	CMD_ERRORS,
	CMD_EVENTS,
	CMD_WAIT,
	CMD_DLOG,        /* `log`: brummd's own log */
	CMD_SHUTDOWN,
	CMD_METRICS,
	CMD_MCP,         /* an MCP server on stdio (mcp.c) */
	CMD_TOP,
	CMD_RUN,
};

/* What a command's positional arguments are, for completion (complete.c). */
enum cli_args {
	ARGS_NONE,        /* ping, reload, ...: nothing */
	ARGS_NAMES,       /* NAME...: processes of the running brummd */
	ARGS_NAME,        /* one NAME (remove, errors) */
	ARGS_NAMES_SIG,   /* NAME... SIG, or --all SIG (signal) */
	ARGS_NEW,         /* a new NAME, then -- CMD ARGS... (add) */
};

struct cli_command {
	const char *name;
	enum cli_cmd_id id;
	enum cli_args args;
	const char *usage;       /* after "brummctl NAME " */
	const char *summary;
};

/*
 * An option's values as completion offers them: a list of words separated
 * by spaces, or one of these kinds (complete.c expands them).
 */
#define CLI_VALUES_FILE   ":file"
#define CLI_VALUES_DIR    ":dir"
#define CLI_VALUES_USER   ":user"
#define CLI_VALUES_GROUP  ":group"
#define CLI_VALUES_SIGNAL ":signal"
#define CLI_VALUES_STATE  ":state"

/* One option of the table in args.c, as completion sees it. */
struct cli_option {
	const char *name;        /* long name, without "--" */
	char short_name;         /* 0 when none */
	bool has_arg;
	bool global;             /* taken before and after every command */
	const char *values;      /* CLI_VALUES_* or a word list; NULL: any */
};

/* At most this many -H: each costs a process and an ssh. */
#define CLI_MAX_HOSTS 64

/* The parsed command line. Strings point into argv; arrays are owned. */
struct cli_opts {
	int exit_code;           /* with CLI_PARSE_EXIT */
	const char *socket;      /* --socket, or NULL (with -H: the remote one) */
	const char *hosts[CLI_MAX_HOSTS];   /* -H values (or $BRUMMD_HOST), checked */
	size_t nhosts;
	bool dial_stdio;         /* `dial-stdio`: cmd is NULL */
	int color;               /* 1 / -1: decided for us (fan-out child); 0: look */
	bool json;
	bool no_color;
	const struct cli_command *cmd;

	const char **args;       /* positional arguments before "--" */
	size_t nargs;

	/* start, stop, restart */
	bool all;
	bool no_wait;
	const char *timeout;

	/* signal: the signal (the last argument, taken off args) and --group */
	const char *sig;
	bool to_group;

	/* status: 1 --stats, -1 --no-stats, 0 the default (table: yes, --json: no) */
	int stats;
	bool ports;   /* status --ports */

	/* events */
	bool history;
	const char *since;
	const char *count;
	/* wait */
	const char *state;
	const char *health;

	/* add */
	const char *restart;
	const char *type;        /* "simple" | "oneshot" */
	bool no_autostart;
	const char *cwd;
	const char **env;        /* "K=V" */
	size_t nenv;
	const char *start_secs;
	const char *start_retries;
	const char *stop_signal;
	const char *stop_timeout;
	const char *user;
	const char *group;
	bool shell;
	char **cmdv;             /* after "--" (points into argv) */
	size_t ncmd;

	/* logs */
	const char *lines;       /* -n: a checked integer 0..CLI_LOGS_MAX_LINES */
	const char *since_seq;   /* a checked non-negative integer */
	const char *stream;      /* "stdout", "stderr" or NULL for both */
	const char *grep;        /* a POSIX extended regex that compiles */
	bool follow;
	bool reopen;
	/* logs, log: --since TIME as seconds since the epoch (set by cli_parse) */
	bool have_since_ts;
	double since_ts;

	/* mcp */
	bool mcp_start;          /* --start: start brummd when none answers */
	bool allow_changes;      /* --allow-changes: the add and remove tools */
};

/* brummd's limits for `logs`: "lines", and names per request. */
#define CLI_LOGS_MAX_LINES 10000
#define CLI_LOGS_MAX_NAMES 64

/* args.c */

/* What cli_parse() decided. */
enum cli_parse_result {
	CLI_PARSE_RUN,           /* run o->cmd */
	CLI_PARSE_DONE,          /* --help or --version printed: exit 0 */
	CLI_PARSE_USAGE,         /* a usage error was printed to stderr: exit 2 */
	CLI_PARSE_EXIT,          /* a local command ran (import): exit o->exit_code */
};

enum cli_parse_result cli_parse(int argc, char **argv, struct cli_opts *o);
void cli_opts_finish(struct cli_opts *o);
void cli_print_help(FILE *f);

/* A --since TIME (a duration ago, 10m; or a time, 2026-12-05T10:00:00) as
 * seconds since the epoch in *@ts; false when it is neither. */
bool cli_parse_since(const char *s, double *ts);

/* Print "brummctl: MSG" and a pointer to --help to stderr; returns
 * CLI_PARSE_USAGE. */
enum cli_parse_result cli_usage_error(const struct cli_command *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The command of that name, or NULL. */
const struct cli_command *cli_command_find(const char *name);
/* The @i-th command of the table, or NULL past its end. */
const struct cli_command *cli_command_at(size_t i);
/*
 * The @i-th entry of the option table in *@opt; false past its end. An
 * entry applies to @cmd when opt->global or @cmd takes it (with @cmd NULL:
 * only the global ones); cli_option_applies() says which.
 */
bool cli_option_at(size_t i, const struct cli_command *cmd, struct cli_option *opt,
		   bool *applies);

/* complete.c */

/*
 * Print the completion script for @shell ("bash", "zsh", "fish") to @f.
 * Returns 0, or -1 for another shell.
 */
int cli_completion_script(FILE *f, const char *shell);
/*
 * `brummctl __complete CWORD WORD0 WORD1 ...` (argv from CWORD on): print
 * the candidates for word CWORD of the command line, one a line, quietly:
 * nothing on stderr, exit 0, also when brummd cannot be reached.
 */
int cli_complete(int argc, char **argv);

/* remote.c */

/* One -H value, taken apart. Ownership: cli_host_finish() frees it. */
struct cli_host {
	const char *url;         /* as given */
	char *user;              /* NULL: ssh's choice */
	char *host;              /* without [] */
	char *port;              /* NULL: ssh's choice; else 1..65535 */
};

/* Parse ssh://[USER@]HOST[:PORT] into @h: NULL, or why not (a static
 * string; @h then holds nothing to free). */
const char *cli_host_parse(const char *url, struct cli_host *h);
void cli_host_finish(struct cli_host *h);
/* @url without "ssh://", for messages and the fan-out's line prefix. */
const char *cli_host_label(const char *url);
/* $BRUMMCTL_REMOTE, else "brummctl". */
const char *cli_remote_program(void);

/*
 * Start ssh to @h running `brummctl dial-stdio [--socket @socket]` there
 * (@batch: -o BatchMode=yes) and return a client on it, *@pid the ssh
 * process; or NULL and *@err (caller frees) when ssh cannot be run.
 * Nothing is known about the host yet: a failure shows up as the first
 * call failing; cli_ssh_reap() and cli_ssh_why() then say what it was.
 */
struct brm_client *cli_ssh_connect(const struct cli_host *h, const char *socket, bool batch,
				   pid_t *pid, char **err);
/* Wait for ssh @pid at most @timeout_ms (then SIGTERM it): its wait
 * status, or -1 when it had to be stopped. */
int cli_ssh_reap(pid_t pid, int timeout_ms);
/* What went wrong with @h, from ssh's wait @status (-1: unknown) and the
 * client's own message. Ownership: caller frees. */
char *cli_ssh_why(const struct cli_host *h, int status, const char *conn_err);

/* dialstdio.c: bridge stdin/stdout and the connected socket @sock until
 * one side closes. Returns the exit code (0 on a clean close). */
int cli_dial_stdio(int sock);

/*
 * fanout.c: run @o on each of its hosts (o->nhosts > 1) in a child of its
 * own. The parent prints the children's lines prefixed with their host and
 * returns the worst exit code (>= 0) once all ended; in each child it
 * returns -1 with *@host the index of the host that child serves (its
 * stdout and stderr are then pipes to the parent).
 */
int cli_fanout(const struct cli_opts *o, size_t *host);

/* request.c */

/*
 * The method and params for o->cmd. Ownership: caller owns the params
 * (NULL for none) and passes them to brm_client_call().
 */
struct cJSON *cli_request(const struct cli_opts *o, const char **method);

/* A duration or count from the command line: a JSON number when @s is a
 * plain decimal number ("10", "1.5", "-1"), else the string ("10s").
 * Ownership: caller. */
struct cJSON *cli_number_or_string(const char *s);

/*
 * events.c: print the notifications of `brummctl events` once the
 * subscription was confirmed on @c, until --count events came (0) or brummd
 * went away (-1; brm_client_strerror tells why).
 */
struct brm_client;
int cli_events_follow(const struct cli_opts *o, struct brm_client *c);

/* table.c */

/* The fields of a snapshot the table shows, however they were read (a
 * cJSON tree, or stream.c's scan of the reply's text). */
enum cli_row_str {
	CLI_ROW_NAME, CLI_ROW_STATE, CLI_ROW_HEALTH, CLI_ROW_EXIT_SIGNAL, CLI_ROW_ERROR,
	CLI_ROW_WAITING_FOR, CLI_ROW_TYPE, CLI_ROW_NSTR
};
enum cli_row_num {
	CLI_ROW_PID, CLI_ROW_UPTIME, CLI_ROW_CPU, CLI_ROW_RSS, CLI_ROW_RESTARTS,
	CLI_ROW_EXIT_CODE, CLI_ROW_NNUM
};
struct cli_row {
	const char *str[CLI_ROW_NSTR];   /* NULL: absent or not a string */
	double num[CLI_ROW_NNUM];
	unsigned is_num;                 /* bit i: num[i] was a number */
	bool has_cpu;                    /* "cpu_percent" present, whatever its value */
	bool has_ports;                  /* "ports" present (status --ports) */
	unsigned last_port;              /* the last port added to ports[] */
	char ports[48];                  /* "8080,9090": each port once; ",..." ends it
					  * when more would not fit */
};

/* Add one "port" of a SNAP's "ports" to @row (both parsers, in order). */
void cli_row_add_port(struct cli_row *row, double port);

/* The SNAP members struct cli_row holds, as `status` {"fields": [...]}. */
struct cJSON *cli_row_fields(bool ports);

/* Which field of struct cli_row the snapshot key @key (@len bytes) fills:
 * its index (in str[] or, *@is_num, num[]), or -1 for none. */
int cli_row_key(const char *key, size_t len, bool *is_num);

/* After an empty table of `status` on a terminal. */
#define CLI_NO_PROCESSES_HINT "(no processes; add one with 'brummctl add NAME -- CMD [ARGS...]')\n"

/* The process table of @rows on @f, columns sized to their content. */
void cli_print_rows(FILE *f, const struct cli_row *rows, size_t n, bool color);

/* @v as one line of compact JSON (NDJSON, for --json) on @f. */
void cli_print_json(FILE *f, const struct cJSON *v);

/* Format @secs like 45s, 3m12s, 2h05m, 3d04h into @buf. */
const char *cli_human_secs(double secs, char *buf, size_t size);

/* A timestamp @ts (seconds since the epoch) in milliseconds, to the
 * nearest; 0 when it is not a positive, finite time that fits. */
long long cli_ts_ms(double ts);

/* Print a result the human way: the table of its snapshots, or for ping
 * the version line. */
void cli_print_result(FILE *f, enum cli_cmd_id cmd, const struct cJSON *result, bool color);

/* One line per snapshot in @snaps ({"processes": [...]}), for errors. */
void cli_print_error_processes(FILE *f, const struct cJSON *data);

/*
 * stream.c: the reply to `status` of all, as the text brm_client_call_text
 * gave (@len bytes; request @id): when it is {"processes": [...]} as
 * expected, print the table on @f straight from the text and return true;
 * otherwise print nothing and return false (then parse it as any reply).
 */
bool cli_stream_status(FILE *f, const char *text, size_t len, uint64_t id, bool color);

/* Whether stdout gets colour: a terminal, and NO_COLOR not set. */
bool cli_want_color(void);

/* logs.c */

/*
 * Print the result of logs, urls or errors (the `status` result for urls)
 * as @o asks: human lines, or with --json NDJSON LINEs (logs), {"urls":[...]}
 * (urls) or the result itself (errors).
 */
void cli_logs_print_result(FILE *f, const struct cli_opts *o, const struct cJSON *result,
			   bool color);

/*
 * `logs --follow` after its first reply: print the notifications on @c to
 * @f until SIGINT or SIGTERM (returns 0) or until the connection fails
 * (returns a negative errno; brm_client_strerror() says why). Gap notices
 * go to stderr (and with --json also to @f as {"gap":{...}}).
 * cli_logs_catch_signals() must have been called before the request.
 */
struct brm_client;
int cli_logs_follow(FILE *f, struct brm_client *c, const struct cli_opts *o, bool color);
void cli_logs_catch_signals(void);
/* Did SIGINT or SIGTERM come since cli_logs_catch_signals()? */
bool cli_logs_stop_requested(void);
/* Print one message of a `logs` follow (a line, a gap, a stray error) as
 * cli_logs_follow() does, names padded to @width. */
void cli_logs_print_message(FILE *f, const struct cli_opts *o, const struct cJSON *m,
			    int width, bool color);

/* init.c: `init [--force] [DIR]` (@argv[0] is "init"): the exit status. */
int cli_init_main(int argc, char **argv);

/*
 * run.c: `run NAME`: start the process, print its output until it ends (or
 * ^C stops it); the process's exit status, or CLI_EXIT_* after saying why.
 * @calls is a connection to @path, which it opens twice more.
 */
int cli_run(const struct cli_opts *o, struct brm_client *calls, const char *path, bool color);
/* A text from brummd or a child, with escape sequences and control bytes
 * made harmless (see logs.c); true when a colour sequence passed. */
bool cli_put_text(FILE *f, const char *s, bool color);

/* dlog.c: `log`'s lines, and its follow (as cli_logs_follow). */
void cli_dlog_print_result(FILE *f, const struct cli_opts *o, const struct cJSON *result,
			   bool color);
int cli_dlog_follow(FILE *f, struct brm_client *c, const struct cli_opts *o, bool color);

/*
 * metrics.c: print the text of @result, the `metrics` method's, on @f.
 * Returns 0, or -1 (nothing printed) when it has no "text".
 */
int cli_metrics_print(FILE *f, const struct cJSON *result);

/*
 * top.c: `brummctl top` on @c, connected to @path: subscribe to events,
 * then the live view until q (CLI_EXIT_OK). An error before the screen is
 * up is printed and returned as an exit code. *@c may be replaced (a
 * reconnect) or NULL at the end; the caller destroys it.
 */
int cli_top(const struct cli_opts *o, const char *path, struct brm_client **c);

#endif
