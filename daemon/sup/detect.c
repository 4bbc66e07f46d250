/*
 * detect.c — what log capture looks for in each line of a child's output,
 * with ANSI escapes stripped (logcap.c calls it per line): URLs
 * (deduplicated, capped, published in the snapshot) and error blocks. An
 * error block opens at a line matching the process's error patterns (one
 * combined ERE, compiled once per distinct set and shared) and collects the
 * context lines of a stack trace after it until a line that is none; it is
 * published as an immutable set behind an RCU pointer, republished as it
 * grows.
 *
 * Context: loop thread only (logcap_int.h).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/log.h"
#include "daemon/sup/logcap.h"
#include "daemon/sup/logcap_int.h"
#include "lib/buf.h"
#include "lib/pattern.h"
#include "lib/util.h"

static struct brm_pattern *cont_re;   /* loop thread only */

/* Context lines of a stack trace, in the languages of the default patterns. */
static const char cont_pattern[] =
	"^([[:space:]]|$)|^(at |Caused by|\\.\\.\\. [0-9]+ (more|common)|goroutine [0-9]+|"
	"created by |stack backtrace:|note: |During handling|The above exception|"
	"Traceback|  File |\\[signal |panic\\(|[[:alnum:]_./*()-]+\\(.*\\)( \\+0x[0-9a-f]+)?$|"
	"    at )";

/* Compile the pattern of a stack trace's context lines, once. */
void brm_detect_setup(void)
{
	char *why = NULL;

	if (!cont_re && brm_pattern_compile(cont_pattern, &cont_re, &why) < 0) {
		brm_log_error("cannot compile the stack trace pattern: %s", why);
		abort();
	}
	brm_pattern_set_base(cont_re, BRM_PATTERN_LOOP_BASE);
}

/*
 * Compiled error patterns, shared by the captures with the same patterns
 * (1000 processes on the defaults hold one). A shared pattern's match data
 * is used on the loop thread only.
 */
struct shared_re {
	char **pats;
	struct brm_pattern *re;
	unsigned refs;
	struct shared_re *next;
};

static struct shared_re *shared_res;

struct shared_re *brm_detect_re_get(char *const *pats, char **why)
{
	struct shared_re *s;

	for (s = shared_res; s; s = s->next) {
		if (brm_strv_equal(s->pats, pats)) {
			s->refs++;
			return s;
		}
	}
	s = brm_xcalloc(1, sizeof(*s));
	if (brm_pattern_compile_any(pats, &s->re, why, NULL) < 0) {
		free(s);
		return NULL;
	}
	brm_pattern_set_base(s->re, BRM_PATTERN_LOOP_BASE);
	s->pats = brm_strv_dup(pats);
	s->refs = 1;
	s->next = shared_res;
	shared_res = s;
	return s;
}

void brm_detect_re_put(struct shared_re *s)
{
	struct shared_re **pp;

	if (!s || --s->refs)
		return;
	for (pp = &shared_res; *pp != s; pp = &(*pp)->next)
		;
	*pp = s->next;
	brm_pattern_destroy(s->re);
	brm_strv_free(s->pats);
	free(s);
}

static void free_err(struct rcu_head *h)
{
	free(caa_container_of(h, struct brm_logerr, rcu));
}

static void free_errset(struct rcu_head *h)
{
	free(caa_container_of(h, struct brm_errset, rcu));
}

/* ---- detectors ---------------------------------------------------------- */

size_t brm_ansi_strip(const char *s, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch != 0x1b) {
			out[o++] = (char)ch;
			continue;
		}
		if (i + 1 >= n)
			break;
		if (s[i + 1] == '[') {            /* CSI: parameters, then a final byte */
			i += 2;
			while (i < n && !((unsigned char)s[i] >= 0x40 && (unsigned char)s[i] <= 0x7e))
				i++;
		} else if (s[i + 1] == ']') {     /* OSC: up to BEL or ESC \ */
			i += 2;
			while (i < n && s[i] != '\a' && !(s[i] == 0x1b && i + 1 < n && s[i + 1] == '\\'))
				i++;
			if (i < n && s[i] == 0x1b)
				i++;
		} else {
			i++;                      /* a two-byte escape */
		}
	}
	return o;
}

static bool isalnum_ascii(char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static bool url_char(unsigned char ch)
{
	return ch > 0x20 && ch < 0x7f && !strchr("\"'<>`{}|\\^", ch);
}

void brm_detect_urls(struct brm_logcap *c, const char *s, size_t n)
{
	const char *end = s + n, *p = s;

	while (p < end && c->nurls < BRM_LOG_MAX_URLS) {
		const char *h = memmem(p, (size_t)(end - p), "http", 4), *q;
		size_t len;

		if (!h)
			return;
		q = h + 4;
		if (q < end && *q == 's')
			q++;
		if (end - q < 4 || memcmp(q, "://", 3) != 0 || (h > s && isalnum_ascii(h[-1]))) {
			p = h + 4;
			continue;
		}
		q += 3;
		while (q < end && url_char((unsigned char)*q))
			q++;
		while (q > h && strchr(".,;:!?)]", q[-1]))
			q--;
		len = (size_t)(q - h);
		p = q > h + 4 ? q : h + 4;
		if (len <= 10 || len > 2048)
			continue;
		{
			bool dup = false;
			for (size_t i = 0; i < c->nurls; i++)
				if (strlen(c->urls[i]) == len && !memcmp(c->urls[i], h, len))
					dup = true;
			if (!dup) {
				c->urls[c->nurls++] = brm_xstrndup(h, len);
				c->dirty = true;
			}
		}
	}
}

void brm_detect_publish_errors(struct brm_logcap *c, bool closing)
{
	struct brm_errset *old = c->pub->errs, *set;
	struct brm_logerr *rec;
	uint32_t keep = 0, skip = 0;
	bool replace = old && old->n && old->recs[old->n - 1]->open;

	rec = brm_xmalloc(sizeof(*rec) + c->blk.len + 1);
	memset(&rec->rcu, 0, sizeof(rec->rcu));
	rec->seq = c->blk_seq;
	rec->ts_ms = c->blk_ts;
	rec->stream = c->blk_stream;
	rec->nlines = c->blk_lines;
	rec->open = !closing;
	rec->len = c->blk.len;
	memcpy(rec->text, c->blk.p ? c->blk.p : "", c->blk.len);
	rec->text[c->blk.len] = '\0';

	if (old) {
		keep = old->n - (replace ? 1 : 0);
		if (keep >= BRM_LOG_MAX_ERRORS)
			skip = keep - (BRM_LOG_MAX_ERRORS - 1);
	}
	set = brm_xmalloc(sizeof(*set) + (keep - skip + 1) * sizeof(set->recs[0]));
	memset(&set->rcu, 0, sizeof(set->rcu));
	set->total = (old ? old->total : 0) + (replace ? 0 : 1);
	set->n = 0;
	for (uint32_t i = skip; i < keep; i++)
		set->recs[set->n++] = old->recs[i];
	set->recs[set->n++] = rec;
	brm_rcu_assign(c->pub->errs, set);
	if (old) {
		for (uint32_t i = 0; i < skip; i++)
			call_rcu(&old->recs[i]->rcu, free_err);
		if (replace)
			call_rcu(&old->recs[old->n - 1]->rcu, free_err);
		call_rcu(&old->rcu, free_errset);
	}
	c->blk_changed = false;
}

void brm_detect_close_block(struct brm_logcap *c)
{
	if (!c->blk_open)
		return;
	brm_detect_publish_errors(c, true);
	c->blk_open = false;
	brm_buf_reset(&c->blk);
}

static void block_add(struct brm_logcap *c, const char *s, size_t n)
{
	if (c->blk.len + n + 1 > BRM_LOG_ERR_MAX_BYTES)
		n = c->blk.len + 1 < BRM_LOG_ERR_MAX_BYTES ? BRM_LOG_ERR_MAX_BYTES - c->blk.len - 1 : 0;
	if (c->blk_lines)
		brm_buf_addc(&c->blk, '\n');
	brm_buf_add(&c->blk, s, n);
	c->blk_lines++;
	c->blk_changed = true;
	c->blk_last_indented = n && (s[0] == ' ' || s[0] == '\t');
}

void brm_detect_errors(struct brm_logcap *c, uint64_t seq, int64_t ts, int stream,
			  const char *s, size_t n)
{
	bool is_err, is_cont;

	if (!c->err_re)
		return;
	/* A line on which a pattern reaches a limit does not match (> 0). */
	is_err = brm_pattern_match(c->err_re->re, s, n) > 0;
	if (c->blk_open) {
		is_cont = brm_pattern_match(cont_re, s, n) > 0;
		/* A trace's last line ("ValueError: x" after indented frames) ends it. */
		if ((is_cont || (is_err && c->blk_last_indented)) &&
		    c->blk_lines < BRM_LOG_ERR_MAX_LINES) {
			block_add(c, s, n);
			return;
		}
		brm_detect_close_block(c);
	}
	if (!is_err)
		return;
	c->blk_open = true;
	c->blk_seq = seq;
	c->blk_ts = ts;
	c->blk_stream = stream;
	c->blk_lines = 0;
	brm_buf_reset(&c->blk);
	block_add(c, s, n);
}
