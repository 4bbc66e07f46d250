/*
 * reqstats.c — request counters by method and outcome (reqstats.h): one
 * relaxed atomic per (method, outcome), in a table indexed like the
 * method table, plus one row for "other".
 */
#include <string.h>

#include "daemon/rpc/methods.h"
#include "daemon/rpc/reqstats.h"
#include "daemon/rpc/request.h"

/* Comfortably more than the method table holds (checked at count time). */
#define MAX_METHODS 64

static unsigned long long counts[MAX_METHODS + 1][2];

static size_t nmethods(void)
{
	size_t n = 0;

	while (brm_methods[n].name)
		n++;
	return n < MAX_METHODS ? n : MAX_METHODS;
}

/* The row of @m: its index in the table, or the last for "other". */
static size_t row_of(const struct brm_method *m)
{
	size_t i = m ? (size_t)(m - brm_methods) : MAX_METHODS;

	return i < nmethods() ? i : MAX_METHODS;
}

static bool is_error(const char *id_json, const char *reply, size_t len)
{
	static const char head[] = "{\"jsonrpc\":\"2.0\",\"id\":";
	static const char err[] = ",\"error\"";
	size_t hl = sizeof(head) - 1, il = strlen(id_json), el = sizeof(err) - 1;

	return len >= hl + il + el && !memcmp(reply, head, hl) &&
	       !memcmp(reply + hl, id_json, il) && !memcmp(reply + hl + il, err, el);
}

void brm_reqstats_count(const struct brm_method *m, const char *id_json, const char *reply,
			size_t len)
{
	brm_reqstats_add(m, is_error(id_json ? id_json : "null", reply, len));
}

void brm_reqstats_add(const struct brm_method *m, bool error)
{
	__atomic_add_fetch(&counts[row_of(m)][error], 1, __ATOMIC_RELAXED);
}

unsigned long long brm_reqstats_get(const char *method, bool error)
{
	const struct brm_method *m = strcmp(method, "other") ? brm_method_find(method) : NULL;

	return __atomic_load_n(&counts[row_of(m)][error], __ATOMIC_RELAXED);
}

static void put_count(struct brm_buf *b, const char *method, size_t row)
{
	for (int e = 0; e < 2; e++)
		brm_buf_addf(b, "brummd_requests_total{method=\"%s\",outcome=\"%s\"} %llu\n",
			     method, e ? "error" : "ok",
			     __atomic_load_n(&counts[row][e], __ATOMIC_RELAXED));
}

void brm_reqstats_render(struct brm_buf *b, const struct brm_ctx *ctx)
{
	size_t n = nmethods();

	brm_buf_adds(b, "# HELP brummd_requests_total Requests answered on the socket, by method"
		     " and outcome (error: a JSON-RPC error reply).\n"
		     "# TYPE brummd_requests_total counter\n");
	for (size_t i = 0; i < n; i++)
		put_count(b, brm_methods[i].name, i);
	put_count(b, "other", MAX_METHODS);
	if (ctx->nclients) {
		brm_buf_adds(b, "# HELP brummd_clients Open connections on brummd's socket.\n"
			     "# TYPE brummd_clients gauge\n");
		brm_buf_addf(b, "brummd_clients %d\n",
			     __atomic_load_n(ctx->nclients, __ATOMIC_RELAXED));
	}
}
