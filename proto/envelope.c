/*
 * envelope.c — a request line's JSON-RPC envelope (envelope.h): framing
 * checks, the JSON, the jsonrpc, id and method members, with the id's text
 * as sent and the keys given twice, which cJSON does not tell. The daemon's
 * dispatch (daemon/rpc/dispatch.c) keeps the permission check and the
 * method table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "proto/envelope.h"
#include "proto/proto.h"
#include "proto/rpc.h"

/* ---- the id as sent, and keys given twice ---------------------------- */

/*
 * A small scanner over text cJSON has already accepted, to recover what
 * cJSON does not keep: the exact text of a value. Whitespace is what cJSON
 * skips (every byte <= 32).
 */
static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (unsigned char)*p <= 32)
		p++;
	return p;
}

/* @p at an opening quote: the byte after the closing one. */
static const char *skip_string(const char *p, const char *end)
{
	for (p++; p < end; p++) {
		if (*p == '\\')
			p++;
		else if (*p == '"')
			return p + 1;
	}
	return end;
}

/* @p at a value: the byte after it. */
static const char *skip_value(const char *p, const char *end)
{
	size_t depth = 0;

	if (p < end && *p == '"')
		return skip_string(p, end);
	if (p < end && *p != '{' && *p != '[') {
		while (p < end && (unsigned char)*p > 32 && *p != ',' && *p != '}' && *p != ']')
			p++;
		return p;
	}
	for (; p < end; p++) {
		if (*p == '"') {
			p = skip_string(p, end) - 1;
		} else if (*p == '{' || *p == '[') {
			depth++;
		} else if (*p == '}' || *p == ']') {
			if (--depth == 0)
				return p + 1;
		}
	}
	return end;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* True when the JSON string at @p (an opening quote) decodes to @key, an
 * ASCII string. */
static bool key_is(const char *p, const char *end, const char *key)
{
	for (p++; p < end && *p != '"'; key++) {
		int c = (unsigned char)*p++;

		if (c == '\\' && p < end) {
			c = *p++;
			switch (c) {
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			case 'u':
				c = 0;
				for (int i = 0; i < 4; i++) {
					int h = p < end ? hexval(*p++) : -1;
					if (h < 0)
						return false;
					c = c * 16 + h;
				}
				break;
			default: break;   /* \" \\ \/ */
			}
		}
		if (!*key || c != (unsigned char)*key)
			return false;
	}
	return !*key;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? and nothing else. */
static bool json_number(const char *p, size_t n)
{
	const char *end = p + n;

	if (p < end && *p == '-')
		p++;
	if (p < end && *p == '0')
		p++;
	else if (p < end && *p >= '1' && *p <= '9')
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	else
		return false;
	if (p < end && *p == '.') {
		if (++p == end || *p < '0' || *p > '9')
			return false;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		if (++p < end && (*p == '+' || *p == '-'))
			p++;
		if (p == end || *p < '0' || *p > '9')
			return false;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	return p == end;
}

/* True when @s (@n bytes, a string's text with its quotes) may be copied
 * into a reply as it is: no control bytes, and valid UTF-8. */
static bool string_verbatim(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		size_t k;
		uint32_t cp;

		if (c < 0x20 || c == 0x7f)
			return false;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			k = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			k = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			k = 3, cp = c & 0x07;
		else
			return false;
		if (i + k >= n)
			return false;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + j] & 0x3f);
		}
		if ((k == 2 && cp < 0x800) || (k == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += k + 1;
	}
	return true;
}

/*
 * The reply id for @id, the "id" member of the request object parsed from
 * @json (@len bytes; the whole line cJSON parsed): its text exactly as the
 * client sent it (18446744073709551617 stays that, 1.50 stays 1.50), so
 * that no id is rounded through a double. A string id that holds control
 * or invalid UTF-8 bytes is re-encoded instead (escaped), so the reply
 * stays valid JSON. Returns NULL for a number outside JSON's grammar, which
 * cJSON tolerates (+1, 01, .5, 1.), or when no "id" member is found.
 * Ownership: caller frees.
 */
static char *id_text(const char *json, size_t len, const cJSON *id)
{
	const char *end = json + len, *p = skip_ws(json, end), *v = NULL, *vend;
	struct brm_buf b = BRM_BUF_INIT;

	if (cJSON_IsNull(id))
		return brm_xstrdup("null");
	if (p == end || *p != '{')
		return NULL;
	p = skip_ws(p + 1, end);
	while (p < end && *p == '"') {
		bool is_id = key_is(p, end, "id");

		p = skip_ws(skip_string(p, end), end);   /* at ':' */
		p = skip_ws(p + 1, end);
		vend = skip_value(p, end);
		if (is_id) {
			v = p;
			break;
		}
		p = skip_ws(vend, end);
		if (p < end && *p == ',')
			p = skip_ws(p + 1, end);
	}
	if (!v)
		return NULL;
	if (cJSON_IsNumber(id))
		return json_number(v, (size_t)(vend - v)) ? brm_xstrndup(v, (size_t)(vend - v))
							   : NULL;
	if (!cJSON_IsString(id))
		return NULL;
	if (string_verbatim((const unsigned char *)v, (size_t)(vend - v)))
		return brm_xstrndup(v, (size_t)(vend - v));
	brm_json_str(&b, id->valuestring);
	return brm_buf_detach(&b);
}

/* How many members of object @obj are named @key (case-sensitive). */
static size_t key_count(const cJSON *obj, const char *key)
{
	const cJSON *c;
	size_t n = 0;

	cJSON_ArrayForEach(c, obj)
		n += c->string && !strcmp(c->string, key);
	return n;
}

/* Where the walk is: the chain of keys (NULL for an array element). */
struct dup_path {
	const struct dup_path *up;
	const char *key;
	size_t index;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Objects with up to this many keys are checked pair by pair. */
#define DUP_SMALL 16

static const char *object_dup(const cJSON *obj)
{
	const char *small[DUP_SMALL], **v = small, *found = NULL;
	const cJSON *c;
	size_t n = 0;

	cJSON_ArrayForEach(c, obj)
		n++;
	if (n > DUP_SMALL)
		v = brm_xmalloc(n * sizeof(*v));
	n = 0;
	cJSON_ArrayForEach(c, obj)
		v[n++] = c->string ? c->string : "";
	if (n <= DUP_SMALL) {
		for (size_t i = 1; i < n && !found; i++)
			for (size_t j = 0; j < i && !found; j++)
				if (!strcmp(v[i], v[j]))
					found = v[i];
	} else {
		qsort(v, n, sizeof(*v), cmp_str);
		for (size_t i = 1; i < n && !found; i++)
			if (!strcmp(v[i], v[i - 1]))
				found = v[i];
		free(v);
	}
	return found;
}

static void path_text(struct brm_buf *b, const struct dup_path *p)
{
	if (!p || !p->up)
		return;            /* the root has no name */
	path_text(b, p->up);
	if (p->key) {
		if (p->up->up)
			brm_buf_addc(b, '.');
		brm_buf_adds(b, p->key);
	} else {
		brm_buf_addf(b, "[%zu]", p->index);
	}
}

static bool walk_dup(const cJSON *v, const struct dup_path *here, struct brm_buf *msg)
{
	const cJSON *c;
	struct dup_path sub = { here, NULL, 0 };
	const char *dup;

	if (cJSON_IsObject(v) && (dup = object_dup(v))) {
		brm_buf_adds(msg, "duplicate key ");
		brm_json_str(msg, dup);
		if (here->up) {
			brm_buf_adds(msg, " in ");
			path_text(msg, here);
		}
		return true;
	}
	if (!cJSON_IsObject(v) && !cJSON_IsArray(v))
		return false;
	cJSON_ArrayForEach(c, v) {
		sub.key = cJSON_IsObject(v) ? (c->string ? c->string : "") : NULL;
		if ((cJSON_IsObject(c) || cJSON_IsArray(c)) && walk_dup(c, &sub, msg))
			return true;
		sub.index++;
	}
	return false;
}

/*
 * Find a key that occurs twice in one object anywhere in @root (cJSON
 * keeps both and its lookups return the first). Returns false, or true
 * with `duplicate key "K"` (and ` in PATH` below the top level, like
 * `params.spec.env`) appended to @msg. O(n log n) in the number of keys;
 * recursion as deep as @root's nesting (which the caller bounds).
 */
static bool duplicate_key(const cJSON *root, struct brm_buf *msg)
{
	struct dup_path top = { NULL, NULL, 0 };

	return walk_dup(root, &top, msg);
}

/* ---- the envelope --------------------------------------------------------- */

/* Deeper than @max? Checked before cJSON recurses. */
static bool too_deep(const char *s, size_t n, int max)
{
	int depth = 0;
	bool in_str = false;

	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (in_str) {
			if (ch == '\\')
				i++;
			else if (ch == '"')
				in_str = false;
		} else if (ch == '"') {
			in_str = true;
		} else if (ch == '{' || ch == '[') {
			if (++depth > max)
				return true;
		} else if (ch == '}' || ch == ']') {
			depth--;
		}
	}
	return false;
}

/*
 * A "\u0000" escape inside a string? cJSON would cut the string there, so
 * "stop\u0000x" would run stop and a name would be checked short.
 */
static bool has_escaped_nul(const char *s, size_t n)
{
	for (size_t i = 0; i + 5 < n; i++) {
		if (s[i] != '\\')
			continue;
		if (s[i + 1] == 'u' && !memcmp(s + i + 2, "0000", 4))
			return true;
		i++;   /* skip the escaped character: "\\u0000" is no NUL */
	}
	return false;
}

bool brm_envelope_decode(struct brm_envelope *env, char *line, size_t len, int max_depth,
			 struct brm_buf *tmp, struct brm_buf *out)
{
	const char *end = NULL;
	cJSON *root, *id, *method, *params, *version;
	char *id_json = NULL;
	bool notify;

	memset(env, 0, sizeof(*env));
	while (len && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	if (!len)
		return false;
	if (memchr(line, '\0', len)) {
		brm_rpc_error(out, NULL, BRM_E_PARSE, "parse error: NUL byte in request", NULL);
		return false;
	}
	if (has_escaped_nul(line, len)) {
		brm_rpc_error(out, NULL, BRM_E_PARSE,
			      "parse error: \\u0000 in a string is not allowed", NULL);
		return false;
	}
	if (too_deep(line, len, max_depth)) {
		char msg[80];
		snprintf(msg, sizeof(msg), "request nested deeper than %d levels (max_json_depth)",
			 max_depth);
		brm_rpc_error(out, NULL, BRM_E_LIMIT, msg, NULL);
		return false;
	}
	line[len] = '\0';
	root = cJSON_ParseWithLengthOpts(line, len + 1, &end, 1);
	if (!root) {
		size_t off = end && end >= line ? (size_t)(end - line) : 0;
		char msg[96];
		snprintf(msg, sizeof(msg), "parse error: not valid JSON at byte %zu", off + 1);
		brm_rpc_error(out, NULL, BRM_E_PARSE, msg, NULL);
		return false;
	}
	if (cJSON_IsArray(root)) {
		brm_rpc_error(out, NULL, BRM_E_INVALID_REQUEST,
			      "invalid request: batch requests are not supported", NULL);
		goto fail;
	}
	if (!cJSON_IsObject(root)) {
		brm_rpc_error(out, NULL, BRM_E_INVALID_REQUEST,
			      "invalid request: expected a JSON-RPC 2.0 request object", NULL);
		goto fail;
	}
	id = cJSON_GetObjectItemCaseSensitive(root, "id");
	notify = id == NULL;
	if (key_count(root, "id") > 1) {
		brm_rpc_error(out, NULL, BRM_E_INVALID_REQUEST,
			      "invalid request: duplicate key \"id\"", NULL);
		goto fail;
	}
	if (id && !cJSON_IsNumber(id) && !cJSON_IsString(id) && !cJSON_IsNull(id)) {
		brm_rpc_error(out, NULL, BRM_E_INVALID_REQUEST,
			      "invalid request: \"id\" must be a number, a string or null", NULL);
		goto fail;
	}
	/* The id as sent: a reply never rounds it through a double. */
	id_json = id ? id_text(line, len, id) : NULL;
	if (id && !id_json) {
		brm_rpc_error(out, NULL, BRM_E_INVALID_REQUEST,
			      "invalid request: \"id\" is not a valid JSON number", NULL);
		goto fail;
	}
	brm_buf_reset(tmp);
	if (duplicate_key(root, tmp)) {
		char *msg = brm_xasprintf("invalid request: %s", tmp->p);
		brm_rpc_error(out, id_json, BRM_E_INVALID_REQUEST, msg, NULL);
		free(msg);
		goto fail;
	}
	version = cJSON_GetObjectItemCaseSensitive(root, "jsonrpc");
	if (!cJSON_IsString(version) || strcmp(version->valuestring, "2.0") != 0) {
		brm_rpc_error(out, id_json, BRM_E_INVALID_REQUEST,
			      "invalid request: \"jsonrpc\" must be \"2.0\"", NULL);
		goto fail;
	}
	method = cJSON_GetObjectItemCaseSensitive(root, "method");
	if (!cJSON_IsString(method)) {
		brm_rpc_error(out, id_json, BRM_E_INVALID_REQUEST,
			      "invalid request: \"method\" must be a string", NULL);
		goto fail;
	}
	params = cJSON_GetObjectItemCaseSensitive(root, "params");
	if (params && cJSON_IsNull(params))
		params = NULL;

	env->root = root;
	env->method = method->valuestring;
	env->params = params;
	env->id_json = id_json;
	env->notify = notify;
	return true;
fail:
	free(id_json);
	cJSON_Delete(root);
	return false;
}

bool brm_envelope_check_params(const struct brm_envelope *env, struct brm_buf *out)
{
	if (!env->params || cJSON_IsObject(env->params))
		return true;
	brm_rpc_error(out, env->id_json, BRM_E_INVALID_PARAMS, "params: expected an object", NULL);
	return false;
}

void brm_envelope_finish(struct brm_envelope *env)
{
	free(env->id_json);
	cJSON_Delete(env->root);
	memset(env, 0, sizeof(*env));
}

void brm_envelope_too_long(struct brm_buf *out, size_t max)
{
	char msg[96];

	snprintf(msg, sizeof(msg), "request line longer than %zu bytes (max_message_bytes); closing",
		 max);
	brm_rpc_error(out, NULL, BRM_E_LIMIT, msg, NULL);
}
