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

#define MAX_LINES 10000
#define MAX_NAMES 64
/* 2^53: the largest integer a JSON number (a double) holds exactly. */
#define MAX_SEQ 9007199254740992.0
/* "since", in seconds since the epoch: far beyond any clock, and a bound
 * before the cast to milliseconds. */
#define MAX_SINCE 1e13

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

static const cJSON *param(const struct brm_req *req, const char *key)
{
	return req->params ? cJSON_GetObjectItemCaseSensitive(req->params, key) : NULL;
}

/* Parsed `logs` params, shared with rpc/follow.c for follow. */
int brm_logs_parse(struct brm_req *req, struct brm_logs_query *q)
{
	static const char *const keys[] = { "name", "names", "lines", "since_seq", "since",
					    "stream", "grep", "follow", NULL };
	const cJSON *it, *v;

	memset(q, 0, sizeof(*q));
	q->lines = 100;
	q->streams = 7;
	if (req->params) {
		cJSON_ArrayForEach(it, req->params) {
			bool ok = false;
			for (size_t i = 0; keys[i]; i++)
				ok |= !strcmp(it->string, keys[i]);
			if (!ok) {
				brm_req_invalid(req,
					        "params.%.64s: unknown parameter; expected \"name\", \"names\","
					        " \"lines\", \"since_seq\", \"since\", \"stream\", \"grep\","
					        " \"follow\"",
					        it->string);
				return -1;
			}
		}
	}
	if (brm_targets_parse(req->params, BRM_TARGETS_NONE_IS_ALL, MAX_NAMES, &q->targets,
			      &req->scratch->tmp) < 0) {
		brm_rpc_error(req->out, req->id_json, BRM_E_INVALID_PARAMS, req->scratch->tmp.p,
			      NULL);
		return -1;
	}
	if ((v = param(req, "lines"))) {
		if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) ||
		    !(v->valuedouble >= 0 && v->valuedouble <= MAX_LINES)) {
			brm_req_invalid(req,
				        "params.lines: expected an integer from 0 to %d", MAX_LINES);
			goto fail;
		}
		q->lines = (unsigned)v->valuedouble;
	}
	if ((v = param(req, "since_seq"))) {
		/* Checked before the cast: 1e300 cast to uint64_t is undefined. */
		if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) ||
		    !(v->valuedouble >= 0 && v->valuedouble <= MAX_SEQ)) {
			brm_req_invalid(req, "params.since_seq: expected an integer from 0 to"
				        " 9007199254740992 (2^53)");
			goto fail;
		}
		q->since_seq = (uint64_t)v->valuedouble;
		q->have_since = true;
	}
	if ((v = param(req, "since"))) {
		if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 && v->valuedouble <= MAX_SINCE)) {
			brm_req_invalid(req, "params.since: expected a time in seconds since the"
				        " epoch (a number from 0, fractions allowed)");
			goto fail;
		}
		q->since_ms = (int64_t)ceil(v->valuedouble * 1000.0 - 0.5);
	}
	if ((v = param(req, "stream"))) {
		if (cJSON_IsString(v) && !strcmp(v->valuestring, "stdout"))
			q->streams = 1 << BRM_LOG_STDOUT;
		else if (cJSON_IsString(v) && !strcmp(v->valuestring, "stderr"))
			q->streams = 1 << BRM_LOG_STDERR;
		else if (cJSON_IsString(v) && !strcmp(v->valuestring, "all"))
			q->streams = 7 << 1;
		else {
			brm_req_invalid(req, "params.stream: expected \"stdout\","
				        " \"stderr\" or \"all\"");
			goto fail;
		}
	} else {
		q->streams = 7 << 1;
	}
	if ((v = param(req, "grep"))) {
		char *why = NULL;

		if (!cJSON_IsString(v)) {
			brm_req_invalid(req,
				        "params.grep: expected a POSIX extended regex (a string)");
			goto fail;
		}
		if (brm_pattern_compile(v->valuestring, &q->re, &why) < 0) {
			brm_req_invalid(req, "params.grep: %s", why);
			free(why);
			goto fail;
		}
	}
	if ((v = param(req, "follow"))) {
		if (!cJSON_IsBool(v)) {
			brm_req_invalid(req, "params.follow: expected true or false");
			goto fail;
		}
		q->follow = cJSON_IsTrue(v);
	}
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
