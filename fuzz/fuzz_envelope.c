/*
 * fuzz_envelope.c — libFuzzer target for the JSON-RPC envelope of one
 * request line alone (proto/envelope.c, brm_envelope_decode), without the
 * daemon: no registry, no method table, so every execution goes to the
 * decoder and many more lines per second reach its corners than through
 * fuzz_request.c (which fuzzes the whole dispatch, handlers included).
 *
 * What must hold for every line: a decoded request has a method and, unless
 * it is a notification, an id that is valid JSON on its own; a refused line
 * leaves the envelope empty and gets at most one reply, one complete line
 * of valid JSON carrying an "error"; the params reply is one line too.
 */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/line.h"
#include "lib/buf.h"
#include "proto/envelope.h"
#include "proto/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct brm_buf tmp = BRM_BUF_INIT;
static struct brm_buf out = BRM_BUF_INIT;

/* @b holds nothing, or one line of JSON with an "error" member. */
static void one_error_line(const struct brm_buf *b)
{
	cJSON *reply;

	if (!b->len)
		return;
	if (b->p[b->len - 1] != '\n' || memchr(b->p, '\n', b->len) != b->p + b->len - 1)
		abort();
	reply = cJSON_ParseWithLength(b->p, b->len);
	if (!reply || !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(reply, "error")))
		abort();
	cJSON_Delete(reply);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct brm_envelope env;
	int depth = BRM_MAX_JSON_DEPTH;
	char *line;
	size_t len;

	/* The first byte, when it is a small number, picks another depth limit. */
	if (size > 1 && data[0] < 8) {
		depth = data[0];
		data++;
		size--;
	}
	line = brm_fuzz_line(data, size, BRM_MAX_MESSAGE_BYTES, &len);
	if (!line)
		return 0;
	brm_buf_reset(&out);
	if (brm_envelope_decode(&env, line, len, depth, &tmp, &out)) {
		if (out.len || !env.root || !env.method || env.notify != !env.id_json)
			abort();
		if (env.id_json) {
			cJSON *id = cJSON_Parse(env.id_json);
			if (!id || cJSON_IsObject(id) || cJSON_IsArray(id) || cJSON_IsBool(id))
				abort();
			cJSON_Delete(id);
		}
		if (!brm_envelope_check_params(&env, &out) && !out.len)
			abort();
		one_error_line(&out);
		brm_envelope_finish(&env);
		if (env.root || env.id_json)
			abort();
	} else {
		if (env.root || env.id_json || env.method)
			abort();
		one_error_line(&out);
	}
	free(line);
	return 0;
}
