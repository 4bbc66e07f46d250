/*
 * mcp.h — `brummctl mcp`: a Model Context Protocol server on stdin/stdout
 * for AI coding agents, shared by its two files:
 *
 *   mcp.c        the transport and the lifecycle: newline-delimited JSON-RPC
 *                2.0 on stdio, initialize and version negotiation, ping,
 *                dispatch of tools/list and tools/call, reaching brummd
 *                (and starting it with --start)
 *   mcp_tools.c  the tools: one table of names, descriptions, arguments and
 *                output shapes, from which the JSON Schemas are made and
 *                arguments are checked, and each tool's call to brummd
 *
 * Everything runs on brummctl's only thread.
 */
#ifndef BRM_CLI_MCP_H
#define BRM_CLI_MCP_H

#include <stdbool.h>

struct cJSON;
struct cli_opts;
struct brm_client;
struct brm_rpc_err;

/* The longest request line read from stdin, newline included. */
#define MCP_MAX_LINE (1u << 20)

/* logs: at most this many lines, and this many bytes of text, per result. */
#define MCP_LOGS_MAX_LINES 1000
#define MCP_LOGS_DEFAULT_LINES 100
#define MCP_RESULT_MAX_BYTES (64u << 10)
/* wait, start, stop, restart: the longest timeout a tool call may ask for. */
#define MCP_MAX_TIMEOUT_SECS 300

/* The session: how to reach brummd, and what the client may do. */
struct mcp_server {
	const struct cli_opts *o;
	char *socket;             /* resolved socket path */
	bool start;               /* --start: start brummd when none answers */
	bool allow_changes;       /* --allow-changes: add and remove exist */
};

/* mcp.c */

/* Run the server until stdin ends: CLI_EXIT_OK, or CLI_EXIT_ERROR when
 * stdout cannot be written. */
int cli_mcp_run(const struct cli_opts *o);

/*
 * A connection to brummd for one tool call, or NULL with *@why set to a
 * message for the model (that brummd is not running and how to start it).
 * With --start, starts brummd first when none answers.
 * Ownership: caller destroys the client and frees *@why.
 */
struct brm_client *mcp_connect(struct mcp_server *s, char **why);

/* mcp_tools.c */

/* The "tools" array of tools/list. Ownership: caller deletes it. */
struct cJSON *mcp_tools_list(const struct mcp_server *s);

/*
 * tools/call of @name with @args (an object or NULL). Returns 0 and the
 * CallToolResult in *@result (isError true for a failure of the tool
 * itself: brummd not running, an error brummd answered), or -32602 with a
 * message naming the tool or the argument in *@msg.
 * Ownership: caller deletes *@result and frees *@msg.
 */
int mcp_tools_call(struct mcp_server *s, const char *name, const struct cJSON *args,
		   struct cJSON **result, char **msg);

#endif
