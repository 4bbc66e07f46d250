/*
 * logquery.c — the parameters of a `logs` query (lines, since, stream,
 * grep, follow, the targets) and what both answers to it share, the
 * one-shot reply (logs.c) and the follow stream (follow.c): the filter, a
 * process's ring, and a line as the protocol's line object.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/rpc/logquery.h"
#include "lib/pattern.h"
#include "lib/registry.h"
#include "lib/util.h"
#include "proto/proto.h"
#include "proto/rpc.h"

#define MAX_NAMES 64

const char *brm_log_stream_name(int stream)
{
	switch (stream) {
	case BRM_LOG_STDOUT: return "stdout";
	case BRM_LOG_STDERR: return "stderr";
	default: return "brummd";
	}
}

void brm_logline_json(struct brm_buf *out, const char *name, const struct brm_logline *l,
		      const char *text)
{
	brm_buf_adds(out, "{\"name\":");
	brm_json_str(out, name);
	brm_buf_adds(out, ",\"seq\":");
	brm_json_uint(out, l->seq);
	brm_buf_adds(out, ",\"ts\":");
	brm_buf_addf(out, "%lld.%03lld", (long long)(l->ts_ms / 1000), (long long)(l->ts_ms % 1000));
	brm_buf_adds(out, ",\"stream\":\"");
	brm_buf_adds(out, brm_log_stream_name(l->stream));
	brm_buf_adds(out, "\",\"line\":");
	brm_json_strn(out, text, l->len);
	if (l->flags & BRM_LOGLINE_CUT)
		brm_buf_adds(out, ",\"cut\":true");
	brm_buf_addc(out, '}');
}

/*
 * Parsed `logs` params, shared with rpc/follow.c for follow. Their types
 * and ranges are the method table's schema's to check (methods.c).
 */
int brm_logs_parse(struct brm_req *req, struct brm_logs_query *q)
{
	const cJSON *v;

	memset(q, 0, sizeof(*q));
	q->lines = 100;
	q->streams = 7;
	if (brm_targets_parse(req->params, BRM_TARGETS_NONE_IS_ALL, MAX_NAMES, &q->targets,
			      &req->scratch->tmp) < 0) {
		brm_rpc_error(req->out, req->id_json, BRM_E_INVALID_PARAMS, req->scratch->tmp.p,
			      NULL);
		return -1;
	}
	/* In range (the schema): 1e300 never reaches a cast. */
	if ((v = brm_req_param(req, "lines")))
		q->lines = (unsigned)v->valuedouble;
	if ((v = brm_req_param(req, "since_seq"))) {
		q->since_seq = (uint64_t)v->valuedouble;
		q->have_since = true;
	}
	if ((v = brm_req_param(req, "since")))
		q->since_ms = (int64_t)ceil(v->valuedouble * 1000.0 - 0.5);
	if ((v = brm_req_param(req, "stream"))) {
		if (!strcmp(v->valuestring, "stdout"))
			q->streams = 1 << BRM_LOG_STDOUT;
		else if (!strcmp(v->valuestring, "stderr"))
			q->streams = 1 << BRM_LOG_STDERR;
		else if (!strcmp(v->valuestring, "all"))
			q->streams = 7 << 1;
		else {
			brm_req_invalid(req, "params.stream: expected \"stdout\","
				        " \"stderr\" or \"all\"");
			goto fail;
		}
	} else {
		q->streams = 7 << 1;
	}
	if ((v = brm_req_param(req, "grep"))) {
		char *why = NULL;

		if (brm_pattern_compile(v->valuestring, &q->re, &why) < 0) {
			brm_req_invalid(req, "params.grep: %s", why);
			free(why);
			goto fail;
		}
	}
	if ((v = brm_req_param(req, "follow")))
		q->follow = cJSON_IsTrue(v);
	return 0;

fail:
	brm_logs_query_finish(q);
	return -1;
}

void brm_logs_query_finish(struct brm_logs_query *q)
{
	brm_pattern_destroy(q->re);
	q->re = NULL;
	brm_targets_finish(&q->targets);
}

int brm_logs_match(struct brm_logs_query *q, const struct brm_logline *l, const char *text)
{
	if (!(q->streams & (1u << l->stream)))
		return 0;
	if (!q->re)
		return 1;
	return brm_pattern_match(q->re, text, l->len);
}

struct brm_logpub *brm_logs_find(struct brm_registry *reg, const char *name, bool *exists)
{
	struct brm_reg_entry *e = brm_registry_find(reg, name);

	*exists = e != NULL;
	return e ? brm_rcu_deref(e->logs) : NULL;
}
