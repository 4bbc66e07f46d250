/*
 * test_envelope.c — Check suite for proto/envelope.c, the JSON-RPC envelope
 * of one request line, called directly (no daemon): good requests give
 * their method, id text and params; every malformed line gives the exact
 * reply brummd sends for it (PROTOCOL.md, "Requests" and "Error codes"),
 * with id null where no id could be read.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "proto/envelope.h"
#include "tests/suite.h"

#define DEPTH 32

static struct brm_buf tmp = BRM_BUF_INIT;

/* Decode @text (copied: the decoder writes line[len]) into @env and @out. */
static bool decode_n(struct brm_envelope *env, const char *text, size_t len, int depth,
		     struct brm_buf *out)
{
	char *line = malloc(len + 1);
	bool ok;

	memcpy(line, text, len);
	ok = brm_envelope_decode(env, line, len, depth, &tmp, out);
	/* The envelope points into its own tree, never into the line. */
	memset(line, 'x', len + 1);
	free(line);
	return ok;
}

static bool decode(struct brm_envelope *env, const char *text, struct brm_buf *out)
{
	return decode_n(env, text, strlen(text), DEPTH, out);
}

/* @text is refused with exactly the reply line @reply, and *env left empty. */
static void refused_n(const char *text, size_t len, int depth, const char *reply)
{
	struct brm_envelope env;
	struct brm_buf out = BRM_BUF_INIT;

	ck_assert_msg(!decode_n(&env, text, len, depth, &out), "accepted: %s", text);
	ck_assert_ptr_null(env.root);
	ck_assert_ptr_null(env.id_json);
	ck_assert_str_eq(out.p ? out.p : "", reply);
	brm_buf_finish(&out);
}

static void refused(const char *text, const char *reply)
{
	refused_n(text, strlen(text), DEPTH, reply);
}

#define ERR(id, code, msg) \
	"{\"jsonrpc\":\"2.0\",\"id\":" id ",\"error\":{\"code\":" #code ",\"message\":\"" msg "\"}}\n"

START_TEST(a_request_gives_method_id_and_params)
{
	struct brm_envelope env;
	struct brm_buf out = BRM_BUF_INIT;

	ck_assert(decode(&env, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"status\","
			       "\"params\":{\"name\":\"web\"}}", &out));
	ck_assert_str_eq(env.method, "status");
	ck_assert_str_eq(env.id_json, "7");
	ck_assert(!env.notify);
	ck_assert(cJSON_IsObject(env.params));
	ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(env.params, "name")->valuestring, "web");
	ck_assert(brm_envelope_check_params(&env, &out));
	ck_assert_uint_eq(out.len, 0);
	brm_envelope_finish(&env);
	ck_assert_ptr_null(env.root);
	ck_assert_ptr_null(env.id_json);
	brm_buf_finish(&out);
}
END_TEST

START_TEST(the_id_comes_back_as_sent)
{
	static const char *const ids[] = {
		"18446744073709551617", "1.50", "1e3", "-0", "\"a\\u0041\"", "null", "\"\"",
	};

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		struct brm_envelope env;
		struct brm_buf out = BRM_BUF_INIT;
		char *line = NULL;

		ck_assert_int_gt(asprintf(&line, "{\"jsonrpc\":\"2.0\",\"id\":%s,\"method\":\"ping\"}",
					  ids[i]), 0);
		ck_assert_msg(decode(&env, line, &out), "refused: %s", line);
		ck_assert_str_eq(env.id_json, ids[i]);
		ck_assert(!env.notify);
		brm_envelope_finish(&env);
		brm_buf_finish(&out);
		free(line);
	}
}
END_TEST

START_TEST(no_id_is_a_notification_and_null_params_are_none)
{
	struct brm_envelope env;
	struct brm_buf out = BRM_BUF_INIT;

	ck_assert(decode(&env, "{\"method\":\"ping\",\"params\":null,\"jsonrpc\":\"2.0\"}", &out));
	ck_assert(env.notify);
	ck_assert_ptr_null(env.id_json);
	ck_assert_ptr_null(env.params);
	ck_assert_str_eq(env.method, "ping");
	ck_assert(brm_envelope_check_params(&env, &out));
	ck_assert_uint_eq(out.len, 0);
	brm_envelope_finish(&env);
	brm_buf_finish(&out);
}
END_TEST

START_TEST(trailing_blanks_are_ignored_and_a_blank_line_is_no_request)
{
	struct brm_envelope env;
	struct brm_buf out = BRM_BUF_INIT;

	ck_assert(decode(&env, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\r \t", &out));
	ck_assert_str_eq(env.method, "ping");
	brm_envelope_finish(&env);
	refused("", "");
	refused(" \r\t ", "");
	brm_buf_finish(&out);
}
END_TEST

START_TEST(what_is_not_json_is_a_parse_error)
{
	refused("{\"jsonrpc\":\"2.0\",", ERR("null", -32700, "parse error: not valid JSON at byte 18"));
	refused("hello", ERR("null", -32700, "parse error: not valid JSON at byte 1"));
	refused_n("{\"a\":\0}", 7, DEPTH, ERR("null", -32700, "parse error: NUL byte in request"));
	refused("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"stop\\u0000x\"}",
		ERR("null", -32700, "parse error: \\\\u0000 in a string is not allowed"));
}
END_TEST

START_TEST(an_escaped_backslash_before_u0000_is_no_nul)
{
	struct brm_envelope env;
	struct brm_buf out = BRM_BUF_INIT;

	/* The JSON string "a\\u0000" is a, a backslash, then the text u0000. */
	ck_assert(decode(&env, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\","
			       "\"params\":{\"s\":\"a\\\\u0000\"}}", &out));
	ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(env.params, "s")->valuestring,
			 "a\\u0000");
	ck_assert_uint_eq(out.len, 0);
	brm_envelope_finish(&env);
	brm_buf_finish(&out);
}
END_TEST

START_TEST(nesting_is_counted_outside_strings_up_to_the_limit)
{
	static const char three[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\","
				    "\"params\":{\"a\":[\"[[[{{{\\\"\"]}}";
	static const char four[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\","
				   "\"params\":{\"a\":[[1]]}}";
	struct brm_envelope env;
	struct brm_buf out = BRM_BUF_INIT;

	/* Three levels pass a limit of 3; brackets inside a string do not count. */
	ck_assert(decode_n(&env, three, strlen(three), 3, &out));
	brm_envelope_finish(&env);
	refused_n(four, strlen(four), 3,
		  ERR("null", -32004, "request nested deeper than 3 levels (max_json_depth)"));
	brm_buf_finish(&out);
}
END_TEST

START_TEST(what_is_no_request_object_is_an_invalid_request)
{
	refused("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]",
		ERR("null", -32600, "invalid request: batch requests are not supported"));
	refused("5", ERR("null", -32600, "invalid request: expected a JSON-RPC 2.0 request object"));
	refused("\"ping\"",
		ERR("null", -32600, "invalid request: expected a JSON-RPC 2.0 request object"));
	refused("{\"jsonrpc\":\"1.0\",\"id\":\"x\",\"method\":\"ping\"}",
		ERR("\"x\"", -32600, "invalid request: \\\"jsonrpc\\\" must be \\\"2.0\\\""));
	refused("{\"id\":2,\"method\":\"ping\"}",
		ERR("2", -32600, "invalid request: \\\"jsonrpc\\\" must be \\\"2.0\\\""));
	refused("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":5}",
		ERR("3", -32600, "invalid request: \\\"method\\\" must be a string"));
	refused("{\"jsonrpc\":\"2.0\",\"id\":3}",
		ERR("3", -32600, "invalid request: \\\"method\\\" must be a string"));
}
END_TEST

START_TEST(a_bad_id_is_answered_with_id_null)
{
	refused("{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"ping\"}",
		ERR("null", -32600, "invalid request: \\\"id\\\" must be a number, a string or null"));
	refused("{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"ping\"}",
		ERR("null", -32600, "invalid request: \\\"id\\\" must be a number, a string or null"));
	refused("{\"jsonrpc\":\"2.0\",\"id\":01,\"method\":\"ping\"}",
		ERR("null", -32600, "invalid request: \\\"id\\\" is not a valid JSON number"));
	refused("{\"jsonrpc\":\"2.0\",\"id\":1,\"id\":2,\"method\":\"ping\"}",
		ERR("null", -32600, "invalid request: duplicate key \\\"id\\\""));
}
END_TEST

START_TEST(a_key_twice_in_one_object_is_refused_with_its_path)
{
	refused("{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"start\",\"method\":\"stop\"}",
		ERR("4", -32600, "invalid request: duplicate key \\\"method\\\""));
	refused("{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"add\","
		"\"params\":{\"spec\":{\"env\":{\"A\":\"1\",\"A\":\"2\"}}}}",
		ERR("4", -32600, "invalid request: duplicate key \\\"A\\\" in params.spec.env"));
}
END_TEST

START_TEST(params_that_are_no_object_are_invalid_params)
{
	static const char *const params[] = { "[]", "5", "\"web\"", "true" };

	for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
		struct brm_envelope env;
		struct brm_buf out = BRM_BUF_INIT;
		char *line = NULL;

		ck_assert_int_gt(asprintf(&line, "{\"jsonrpc\":\"2.0\",\"id\":\"p\",\"method\":\"status\","
					  "\"params\":%s}", params[i]), 0);
		/* The envelope is good: the params reply comes after the method's. */
		ck_assert(decode(&env, line, &out));
		ck_assert_uint_eq(out.len, 0);
		ck_assert(!brm_envelope_check_params(&env, &out));
		ck_assert_str_eq(out.p, ERR("\"p\"", -32602, "params: expected an object"));
		brm_envelope_finish(&env);
		brm_buf_finish(&out);
		free(line);
	}
}
END_TEST

START_TEST(a_line_too_long_names_the_limit)
{
	struct brm_buf out = BRM_BUF_INIT;

	brm_envelope_too_long(&out, 1048576);
	ck_assert_str_eq(out.p, ERR("null", -32004, "request line longer than 1048576 bytes "
				    "(max_message_bytes); closing"));
	brm_buf_finish(&out);
}
END_TEST

BRM_TEST_CASE("envelope", "decode", 0,
	a_request_gives_method_id_and_params,
	the_id_comes_back_as_sent,
	no_id_is_a_notification_and_null_params_are_none,
	trailing_blanks_are_ignored_and_a_blank_line_is_no_request,
	what_is_not_json_is_a_parse_error,
	an_escaped_backslash_before_u0000_is_no_nul,
	nesting_is_counted_outside_strings_up_to_the_limit,
	what_is_no_request_object_is_an_invalid_request,
	a_bad_id_is_answered_with_id_null,
	a_key_twice_in_one_object_is_refused_with_its_path,
	params_that_are_no_object_are_invalid_params,
	a_line_too_long_names_the_limit);
