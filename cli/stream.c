/*
 * stream.c — `brummctl status` of all straight from the reply's text.
 *
 * At 1000 processes the reply is ~420 KB of JSON; a cJSON tree of it is
 * ~30,000 nodes and as many allocations, and finding the ten fields the
 * table shows in each snapshot is a linear search of its ~30 keys. Here
 * one scan of the text picks those fields out (strings unescaped into one
 * buffer, numbers read with strtod as cJSON reads them) and skips the
 * rest, so the command costs little more than the exec and the read.
 *
 * The scan accepts only the expected shape, {"jsonrpc":"2.0","id":ID,
 * "result":{"processes":[SNAP,...]}} with valid JSON throughout; anything
 * else (an error, another result, text cJSON would refuse) makes it give
 * up before printing anything, and the caller parses the text with cJSON
 * as for every other reply: the output is the same either way.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/brummctl.h"
#include "lib/util.h"

/* cJSON's CJSON_NESTING_LIMIT: deeper text is refused there, and here. */
#define MAX_DEPTH 1000

struct scan {
	const char *p, *end;
	char *out;           /* unescaped strings, each NUL-terminated; never moves */
	size_t olen;
};

static void ws(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

static bool eat(struct scan *s, char c)
{
	ws(s);
	if (s->p < s->end && *s->p == c) {
		s->p++;
		return true;
	}
	return false;
}

static int hex4(const char *p, unsigned *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];

		*v <<= 4;
		if (c >= '0' && c <= '9')
			*v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			*v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			*v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	return 0;
}

static void put(struct scan *s, char c)
{
	s->out[s->olen++] = c;
}

/* A \uXXXX escape at s->p (after the backslash and 'u'), as UTF-8; a
 * surrogate pair takes both escapes. As cJSON: a lone surrogate fails. */
static bool unicode(struct scan *s)
{
	unsigned cp, lo;

	if (s->end - s->p < 4 || hex4(s->p, &cp) < 0)
		return false;
	s->p += 4;
	if (cp >= 0xDC00 && cp <= 0xDFFF)
		return false;
	if (cp >= 0xD800 && cp <= 0xDBFF) {
		if (s->end - s->p < 6 || s->p[0] != '\\' || s->p[1] != 'u' ||
		    hex4(s->p + 2, &lo) < 0 || lo < 0xDC00 || lo > 0xDFFF)
			return false;
		s->p += 6;
		cp = 0x10000 + (((cp & 0x3FF) << 10) | (lo & 0x3FF));
	}
	if (cp < 0x80) {
		put(s, (char)cp);
	} else if (cp < 0x800) {
		put(s, (char)(0xC0 | (cp >> 6)));
		put(s, (char)(0x80 | (cp & 0x3F)));
	} else if (cp < 0x10000) {
		put(s, (char)(0xE0 | (cp >> 12)));
		put(s, (char)(0x80 | ((cp >> 6) & 0x3F)));
		put(s, (char)(0x80 | (cp & 0x3F)));
	} else {
		put(s, (char)(0xF0 | (cp >> 18)));
		put(s, (char)(0x80 | ((cp >> 12) & 0x3F)));
		put(s, (char)(0x80 | ((cp >> 6) & 0x3F)));
		put(s, (char)(0x80 | (cp & 0x3F)));
	}
	return true;
}

/*
 * A string at s->p (after ws), unescaped into s->out at *@at; kept there
 * (s->olen moves past it) only when @keep. The unescaped text is never
 * longer than the quoted one, so s->out (the text's length) has room.
 * Runs without a backslash are copied whole, and not at all when the
 * string is only skipped.
 */
static bool string(struct scan *s, bool keep, size_t *at, size_t *len)
{
	size_t start = s->olen;

	if (!eat(s, '"'))
		return false;
	for (;;) {
		const char *q = s->p, *e;
		const char *bs;

		e = memchr(q, '"', (size_t)(s->end - q));
		if (!e)
			return false;
		bs = memchr(q, '\\', (size_t)(e - q));
		if (!bs) {
			memcpy(s->out + s->olen, q, (size_t)(e - q));
			s->olen += (size_t)(e - q);
			s->p = e + 1;
			break;
		}
		memcpy(s->out + s->olen, q, (size_t)(bs - q));
		s->olen += (size_t)(bs - q);
		s->p = bs + 1;
		if (s->p >= s->end)
			return false;
		switch (*s->p++) {
		case '"': put(s, '"'); break;
		case '\\': put(s, '\\'); break;
		case '/': put(s, '/'); break;
		case 'b': put(s, '\b'); break;
		case 'f': put(s, '\f'); break;
		case 'n': put(s, '\n'); break;
		case 'r': put(s, '\r'); break;
		case 't': put(s, '\t'); break;
		case 'u':
			if (!unicode(s))
				return false;
			break;
		default:
			return false;
		}
	}
	*at = start;
	*len = s->olen - start;
	put(s, '\0');
	if (!keep)
		s->olen = start;
	return true;
}

static bool num_char(char c)
{
	return (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.' || c == 'e' || c == 'E';
}

static bool digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * The length of the JSON number at @p (@n bytes, all num_char()), or 0
 * when those bytes are not one: then strtod decides where it ends.
 */
static size_t json_number(const char *p, size_t n)
{
	size_t i = 0;

	if (i < n && p[i] == '-')
		i++;
	if (i < n && p[i] == '0')
		i++;
	else if (i < n && digit(p[i]))
		while (i < n && digit(p[i]))
			i++;
	else
		return 0;
	if (i < n && p[i] == '.') {
		if (++i >= n || !digit(p[i]))
			return 0;
		while (i < n && digit(p[i]))
			i++;
	}
	if (i < n && (p[i] == 'e' || p[i] == 'E')) {
		if (++i < n && (p[i] == '+' || p[i] == '-'))
			i++;
		if (i >= n || !digit(p[i]))
			return 0;
		while (i < n && digit(p[i]))
			i++;
	}
	return i == n ? n : 0;
}

/*
 * A number, read as cJSON reads it: the run of its characters, then strtod.
 * A run that is a plain JSON number ends where strtod would end it; a
 * value (@v) of up to 15 digits without fraction or exponent is exact as
 * an integer; anything else goes through strtod.
 */
static bool number(struct scan *s, double *v)
{
	char tmp[64], *end;
	size_t n = 0, len;
	bool skip = !v;
	double ignored;

	if (skip)
		v = &ignored;

	while (s->p + n < s->end && n < sizeof(tmp) - 1 && num_char(s->p[n]))
		n++;
	if (!n || n == sizeof(tmp) - 1)
		return false;
	len = json_number(s->p, n);
	if (len && skip) {
		s->p += len;
		return true;
	}
	if (len && n <= 16) {
		const char *q = s->p;
		bool neg = *q == '-';
		long long k = 0;
		size_t i = neg;

		while (i < n && digit(q[i]))
			k = k * 10 + (q[i++] - '0');
		if (i == n && n - neg <= 15) {
			*v = neg ? -(double)k : (double)k;
			s->p += n;
			return true;
		}
	}
	memcpy(tmp, s->p, n);
	tmp[n] = '\0';
	*v = strtod(tmp, &end);
	if (end == tmp)
		return false;
	s->p += end - tmp;
	return true;
}

static bool word(struct scan *s, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, w, n))
		return false;
	s->p += n;
	return true;
}

static bool skip_value(struct scan *s, int depth);

/* The members of an object after its '{', each value to @member. */
static bool members(struct scan *s, int depth,
		    bool (*member)(struct scan *s, const char *key, size_t len, void *arg, int depth),
		    void *arg)
{
	if (eat(s, '}'))
		return true;
	do {
		size_t at, len;

		ws(s);
		if (!string(s, true, &at, &len) || !eat(s, ':'))
			return false;
		s->olen = at;   /* the key's text stays readable until the next string */
		ws(s);
		if (!member(s, s->out + at, len, arg, depth))
			return false;
	} while (eat(s, ','));
	return eat(s, '}');
}

static bool skip_member(struct scan *s, const char *key, size_t len, void *arg, int depth)
{
	(void)key;
	(void)len;
	(void)arg;
	return skip_value(s, depth);
}

static bool skip_value(struct scan *s, int depth)
{
	size_t at, len;

	if (depth > MAX_DEPTH)
		return false;
	ws(s);
	if (s->p >= s->end)
		return false;
	switch (*s->p) {
	case '"':
		return string(s, false, &at, &len);
	case '{':
		s->p++;
		return members(s, depth + 1, skip_member, NULL);
	case '[':
		s->p++;
		if (eat(s, ']'))
			return true;
		do {
			if (!skip_value(s, depth + 1))
				return false;
		} while (eat(s, ','));
		return eat(s, ']');
	case 't':
		return word(s, "true");
	case 'f':
		return word(s, "false");
	case 'n':
		return word(s, "null");
	default:
		/* as cJSON: a number starts with '-' or a digit */
		return (*s->p == '-' || digit(*s->p)) && number(s, NULL);
	}
}

struct snaps {
	struct cli_row *v;
	size_t n, cap;
	unsigned seen_str, seen_num;   /* the current row's fields already set */
	bool seen_ports;
};

/* A member of one of "ports"' objects: its "port" (the first) is added. */
static bool port_member(struct scan *s, const char *key, size_t len, void *arg, int depth)
{
	bool *seen = ((void **)arg)[1];
	double d;

	if (len == 4 && !memcmp(key, "port", 4) && !*seen && s->p < s->end &&
	    (*s->p == '-' || (*s->p >= '0' && *s->p <= '9'))) {
		*seen = true;
		if (!number(s, &d))
			return false;
		cli_row_add_port(((void **)arg)[0], d);
		return true;
	}
	if (len == 4 && !memcmp(key, "port", 4))
		*seen = true;
	return skip_value(s, depth);
}

/* SNAP's "ports": [{"port": N, "addr": "..."}, ...], or anything else. */
static bool ports_value(struct scan *s, struct cli_row *row, int depth)
{
	if (s->p >= s->end || *s->p != '[')
		return skip_value(s, depth);
	s->p++;
	if (eat(s, ']'))
		return true;
	do {
		bool seen = false;
		void *arg[2] = { row, &seen };

		ws(s);
		if (s->p < s->end && *s->p == '{') {
			s->p++;
			if (!members(s, depth + 2, port_member, arg))
				return false;
		} else if (!skip_value(s, depth + 1)) {
			return false;
		}
	} while (eat(s, ','));
	return eat(s, ']');
}

/* A snapshot's member: the table's fields are kept, the first of a name
 * wins (as cJSON_GetObjectItem finds it). */
static bool snap_member(struct scan *s, const char *key, size_t len, void *arg, int depth)
{
	struct snaps *sn = arg;
	struct cli_row *row = &sn->v[sn->n];
	bool is_num;
	int i = cli_row_key(key, len, &is_num);
	size_t at, slen;
	double d;

	if (len == 11 && !memcmp(key, "cpu_percent", 11))
		row->has_cpu = true;
	if (len == 5 && !memcmp(key, "ports", 5)) {
		row->has_ports = true;
		if (sn->seen_ports)
			return skip_value(s, depth);
		sn->seen_ports = true;
		return ports_value(s, row, depth);
	}
	if (i < 0)
		return skip_value(s, depth);
	if (is_num) {
		bool first = !(sn->seen_num & (1u << i));

		sn->seen_num |= 1u << i;
		if (s->p < s->end && (*s->p == '-' || (*s->p >= '0' && *s->p <= '9'))) {
			if (!number(s, &d))
				return false;
			if (first) {
				row->num[i] = d;
				row->is_num |= 1u << i;
			}
			return true;
		}
		return skip_value(s, depth);
	}
	if (s->p < s->end && *s->p == '"') {
		bool first = !(sn->seen_str & (1u << i));

		sn->seen_str |= 1u << i;
		if (!string(s, first, &at, &slen))
			return false;
		if (first)
			row->str[i] = s->out + at;   /* s->out never moves */
		return true;
	}
	sn->seen_str |= 1u << i;
	return skip_value(s, depth);
}

static bool processes(struct scan *s, struct snaps *sn)
{
	if (!eat(s, '['))
		return false;
	if (eat(s, ']'))
		return true;
	do {
		ws(s);
		if (s->p < s->end && *s->p != '{') {
			if (!skip_value(s, 2))   /* not an object: no row, as cJSON's path */
				return false;
			continue;
		}
		s->p++;
		if (sn->n == sn->cap) {
			sn->cap = sn->cap ? 2 * sn->cap : 256;
			sn->v = brm_xrealloc(sn->v, sn->cap * sizeof(*sn->v));
		}
		memset(&sn->v[sn->n], 0, sizeof(sn->v[sn->n]));
		sn->seen_str = sn->seen_num = 0;
		sn->seen_ports = false;
		if (!members(s, 3, snap_member, sn))
			return false;
		sn->n++;
	} while (eat(s, ','));
	return eat(s, ']');
}

struct top {
	struct snaps *sn;
	uint64_t id;
	bool jsonrpc, has_id, result, procs;
	bool bad;            /* a member that sends the reply to cJSON's path */
};

static bool result_member(struct scan *s, const char *key, size_t len, void *arg, int depth)
{
	struct top *t = arg;

	if (len == 9 && !memcmp(key, "processes", 9) && !t->procs) {
		t->procs = true;
		return processes(s, t->sn);
	}
	return skip_value(s, depth);
}

static bool top_member(struct scan *s, const char *key, size_t len, void *arg, int depth)
{
	struct top *t = arg;
	size_t at, slen;
	double d;

	if (len == 7 && !memcmp(key, "jsonrpc", 7) && !t->jsonrpc) {
		t->jsonrpc = true;
		if (!string(s, false, &at, &slen))
			return false;
		t->bad |= strcmp(s->out + at, "2.0") != 0;
		return true;
	}
	if (len == 2 && !memcmp(key, "id", 2) && !t->has_id) {
		t->has_id = true;
		if (!number(s, &d))
			return false;
		t->bad |= d != (double)t->id;
		return true;
	}
	if (len == 6 && !memcmp(key, "result", 6) && !t->result) {
		t->result = true;
		if (!eat(s, '{'))
			return false;
		return members(s, depth + 1, result_member, t);
	}
	if (len == 5 && !memcmp(key, "error", 5))
		t->bad = true;
	return skip_value(s, depth);
}

bool cli_stream_status(FILE *f, const char *text, size_t len, uint64_t id, bool color)
{
	struct snaps sn = { NULL, 0, 0, 0, 0, false };
	struct top t = { &sn, id, false, false, false, false, false };
	struct scan s = { text, text + len, brm_xmalloc(len + 1), 0 };
	bool ok;

	ok = eat(&s, '{') && members(&s, 1, top_member, &t);
	ws(&s);
	ok = ok && s.p == s.end && !t.bad && t.jsonrpc && t.has_id && t.result && t.procs;
	if (ok) {
		cli_print_rows(f, sn.v, sn.n, color);
		if (sn.n == 0 && isatty(fileno(f)))
			fputs(CLI_NO_PROCESSES_HINT, f);
	}
	free(sn.v);
	free(s.out);
	return ok;
}
