/*
 * rpc.c — JSON-RPC 2.0 reply framing; see rpc.h.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "proto/rpc.h"

void brm_rpc_result(struct brm_buf *out, const char *id_json, const char *result_json,
		    size_t result_len)
{
	brm_buf_adds(out, "{\"jsonrpc\":\"2.0\",\"id\":");
	brm_buf_adds(out, id_json ? id_json : "null");
	brm_buf_adds(out, ",\"result\":");
	brm_buf_add(out, result_json, result_len);
	brm_buf_adds(out, "}\n");
}

void brm_rpc_error(struct brm_buf *out, const char *id_json, int code, const char *message,
		   const char *data_json)
{
	brm_buf_adds(out, "{\"jsonrpc\":\"2.0\",\"id\":");
	brm_buf_adds(out, id_json ? id_json : "null");
	brm_buf_addf(out, ",\"error\":{\"code\":%d,\"message\":", code);
	brm_json_str(out, message);
	if (data_json) {
		brm_buf_adds(out, ",\"data\":");
		brm_buf_adds(out, data_json);
	}
	brm_buf_adds(out, "}}\n");
}

/* ---- decoding requests -------------------------------------------------- */

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

char *brm_rpc_id_json(const char *json, size_t len, const cJSON *id)
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

size_t brm_rpc_key_count(const cJSON *obj, const char *key)
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

bool brm_rpc_duplicate_key(const cJSON *root, struct brm_buf *msg)
{
	struct dup_path top = { NULL, NULL, 0 };

	return walk_dup(root, &top, msg);
}

bool brm_rpc_int_in(const cJSON *v, int64_t lo, int64_t hi, int64_t *out)
{
	double d;

	if (!cJSON_IsNumber(v))
		return false;
	d = v->valuedouble;
	/* NaN fails every comparison; the range check comes before the cast. */
	if (!(d >= (double)lo && d <= (double)hi && d >= -(double)(BRM_RPC_INT_MAX + 1) &&
	      d <= (double)(BRM_RPC_INT_MAX + 1)) || d != floor(d))
		return false;
	if (out)
		*out = (int64_t)d;
	return true;
}
