/*
 * logcap.c — capture of child output on the loop thread.
 *
 * A read from a child's pipe is split into lines here. Per stream, an
 * incomplete line waits in a buffer of at most log_line_max bytes; a line
 * that reaches the limit is cut there and marked continued, so memory per
 * process is bounded whatever the child writes (ring + two line buffers +
 * one error block). Each line goes to the ring (readers: workers), to the
 * log file queue (writer thread, never waited for), and through two
 * detectors that look at it with ANSI escapes stripped: URLs (deduplicated,
 * capped, published in the snapshot) and error patterns (one combined
 * POSIX ERE), which open an error block that collects the context lines
 * after it (indented lines, "at ...", "Caused by", blank lines, Go's
 * "goroutine" dumps) until a line that is none of these.
 *
 * The error blocks are published as an immutable set (struct brm_errset)
 * behind an RCU pointer; an open block is republished as it grows, at most
 * once per read, so a reader sees a crash's trace even while the process
 * hangs after it.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/log.h"
#include "daemon/sup/logfile.h"
#include "daemon/sup/logcap.h"
#include "lib/buf.h"
#include "lib/pattern.h"
#include "lib/util.h"

void (*brm_logs_on_lines)(void);

struct extra {
	struct rcu_head rcu;
	char s[];
};

struct partial {
	char *buf;               /* line_max bytes, allocated on first use */
	size_t len;
	bool cont;               /* this line continues a cut one */
};

struct brm_logcap {
	char *name;
	void *owner;
	struct brm_logpub *pub;
	struct brm_log_settings set;
	struct shared_re *err_re;  /* NULL: no error detection */
	struct partial part[2];
	struct brm_logfile *file;
	uint64_t file_gen;
	struct brm_buf fbuf;     /* file text of the current read */
	struct brm_buf strip;    /* scratch: a line without ANSI escapes */
	char *urls[BRM_LOG_MAX_URLS];
	size_t nurls;
	struct extra *extra;     /* in the current snapshot */
	struct extra *retired;   /* in the one before: freed at the next change */
	bool dirty;
	/* the error block being collected */
	struct brm_buf blk;
	uint64_t blk_seq;
	int64_t blk_ts;
	int blk_stream;
	uint32_t blk_lines;
	bool blk_open, blk_changed, blk_last_indented;
	struct brm_logcap *prev, *next;
};

static struct {
	uv_loop_t *loop;
	uv_async_t async;
	uv_signal_t usr1;
	struct brm_log_spec *top;
	void (*republish)(void *owner);
	struct brm_logcap *caps;
	bool up;
} L;

static struct brm_pattern *cont_re;   /* loop thread only */

/* Context lines of a stack trace, in the languages of the default patterns. */
static const char cont_pattern[] =
	"^([[:space:]]|$)|^(at |Caused by|\\.\\.\\. [0-9]+ (more|common)|goroutine [0-9]+|"
	"created by |stack backtrace:|note: |During handling|The above exception|"
	"Traceback|  File |\\[signal |panic\\(|[[:alnum:]_./*()-]+\\(.*\\)( \\+0x[0-9a-f]+)?$|"
	"    at )";

/* Compile the pattern of a stack trace's context lines, once. */
static void brm_detect_setup(void)
{
	char *why = NULL;

	if (!cont_re && brm_pattern_compile(cont_pattern, &cont_re, &why) < 0) {
		brm_log_error("cannot compile the stack trace pattern: %s", why);
		abort();
	}
	brm_pattern_set_base(cont_re, BRM_PATTERN_LOOP_BASE);
}

static int64_t now_ms(void)
{
	return brm_now_wall_ms();
}

/* ---- set-up ------------------------------------------------------------- */

static void on_file_status(void *arg)
{
	(void)arg;
	uv_async_send(&L.async);   /* writer thread -> loop thread */
}

static void on_async(uv_async_t *h)
{
	(void)h;
	for (struct brm_logcap *c = L.caps; c; c = c->next) {
		char err[8];
		uint64_t dropped;

		if (c->file && brm_logfile_status(c->file, err, sizeof(err), &dropped) != c->file_gen) {
			c->dirty = true;
			if (L.republish)
				L.republish(c->owner);
		}
	}
}

static void on_usr1(uv_signal_t *h, int sig)
{
	(void)h;
	(void)sig;
	brm_log_info("SIGUSR1: reopening log files");
	brm_logfile_reopen_all();
}

int brm_logs_init(uv_loop_t *loop, const struct brm_log_spec *top,
		  void (*republish)(void *owner))
{
	int r;

	L.loop = loop;
	L.top = brm_log_spec_dup(top);
	L.republish = republish;
	uv_async_init(loop, &L.async, on_async);
	uv_signal_init(loop, &L.usr1);
	uv_signal_start(&L.usr1, on_usr1, SIGUSR1);
	r = brm_logfile_start(on_file_status, NULL);
	if (r < 0)
		return r;
	L.up = true;
	return 0;
}

static void on_closed(uv_handle_t *h)
{
	(void)h;
}

void brm_logs_shutdown(void)
{
	if (!L.up)
		return;
	L.up = false;
	brm_logfile_stop();
	uv_close((uv_handle_t *)&L.async, on_closed);
	uv_close((uv_handle_t *)&L.usr1, on_closed);
	brm_log_spec_destroy(L.top);
	L.top = NULL;
}

/* ---- the capture -------------------------------------------------------- */

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

static struct shared_re *brm_detect_re_get(char *const *pats, char **why)
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

static void brm_detect_re_put(struct shared_re *s)
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

struct brm_logcap *brm_logcap_create(const char *name, const struct brm_log_spec *spec,
				     void *owner)
{
	struct brm_logcap *c = brm_xcalloc(1, sizeof(*c));
	char *why = NULL;

	brm_detect_setup();
	c->name = brm_xstrdup(name);
	c->owner = owner;
	brm_log_settings_resolve(&c->set, name, spec, L.top);
	c->pub = brm_xcalloc(1, sizeof(*c->pub));
	c->pub->ring = brm_logring_create(c->set.ring_bytes);
	if (c->set.line_max > brm_logring_max_line(c->pub->ring))
		c->set.line_max = brm_logring_max_line(c->pub->ring);
	if (c->set.error_patterns[0]) {
		c->err_re = brm_detect_re_get(c->set.error_patterns, &why);
		if (!c->err_re)
			brm_log_warn("%s: error_patterns: %s; error detection off", name, why);
		free(why);
	}
	if (c->set.file)
		c->file = brm_logfile_open(c->set.file, c->set.max_bytes, c->set.keep);
	c->dirty = true;
	c->next = L.caps;
	if (L.caps)
		L.caps->prev = c;
	L.caps = c;
	return c;
}

void brm_logcap_set_user(struct brm_logcap *c, const char *user)
{
	brm_logfile_set_user(c->file, user);
}

void brm_logcap_attach(struct brm_logcap *c, struct brm_reg_entry *e)
{
	brm_rcu_assign(e->logs, c->pub);
}

static void free_extra(struct rcu_head *h)
{
	free(caa_container_of(h, struct extra, rcu));
}

static void free_err(struct rcu_head *h)
{
	free(caa_container_of(h, struct brm_logerr, rcu));
}

static void free_errset(struct rcu_head *h)
{
	free(caa_container_of(h, struct brm_errset, rcu));
}

static void free_pub(struct rcu_head *h)
{
	struct brm_logpub *pub = caa_container_of(h, struct brm_logpub, rcu);

	if (pub->errs) {
		for (uint32_t i = 0; i < pub->errs->n; i++)
			free(pub->errs->recs[i]);
		free(pub->errs);
	}
	brm_logring_destroy(pub->ring);
	free(pub);
}

void brm_logcap_destroy(struct brm_logcap *c)
{
	if (!c)
		return;
	if (c->prev)
		c->prev->next = c->next;
	else if (L.caps == c)
		L.caps = c->next;
	if (c->next)
		c->next->prev = c->prev;
	brm_logfile_close(c->file);
	brm_detect_re_put(c->err_re);
	for (int i = 0; i < 2; i++)
		free(c->part[i].buf);
	for (size_t i = 0; i < c->nurls; i++)
		free(c->urls[i]);
	if (c->extra)
		call_rcu(&c->extra->rcu, free_extra);
	if (c->retired)
		call_rcu(&c->retired->rcu, free_extra);
	call_rcu(&c->pub->rcu, free_pub);
	brm_buf_finish(&c->fbuf);
	brm_buf_finish(&c->strip);
	brm_buf_finish(&c->blk);
	brm_log_settings_finish(&c->set);
	free(c->name);
	free(c);
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

static void brm_detect_urls(struct brm_logcap *c, const char *s, size_t n)
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

static void brm_detect_publish_errors(struct brm_logcap *c, bool closing)
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

static void brm_detect_close_block(struct brm_logcap *c)
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

static void brm_detect_errors(struct brm_logcap *c, uint64_t seq, int64_t ts, int stream,
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

/* ---- lines -------------------------------------------------------------- */

static const char *stream_tag(int stream)
{
	return stream == BRM_LOG_STDOUT ? "out" : stream == BRM_LOG_STDERR ? "err" : "---";
}

static void file_line(struct brm_logcap *c, int64_t ts, int stream, unsigned flags,
		      const char *s, size_t n)
{
	time_t t = (time_t)(ts / 1000);
	struct tm tm;
	char stamp[40];

	if (!c->file)
		return;
	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	brm_buf_addf(&c->fbuf, "%s.%03dZ %s%s ", stamp, (int)(ts % 1000), stream_tag(stream),
		     flags & BRM_LOGLINE_CUT ? "+" : "");
	brm_buf_add(&c->fbuf, s, n);
	brm_buf_addc(&c->fbuf, '\n');
}

static void emit(struct brm_logcap *c, int stream, unsigned flags, const char *s, size_t n)
{
	int64_t ts = now_ms();
	uint64_t seq = brm_logring_append(c->pub->ring, ts, stream, flags, s, n);
	size_t z;

	file_line(c, ts, stream, flags, s, n);
	brm_buf_grow(&c->strip, n + 1);
	z = brm_ansi_strip(s, n, c->strip.p);
	brm_detect_urls(c, c->strip.p, z);
	if (stream != BRM_LOG_META)
		brm_detect_errors(c, seq, ts, stream, c->strip.p, z);
}

static void after_lines(struct brm_logcap *c)
{
	if (c->fbuf.len && c->file) {
		brm_logfile_write(c->file, c->fbuf.p, c->fbuf.len);
		brm_buf_reset(&c->fbuf);
		if (c->fbuf.cap > (1u << 20))
			brm_buf_finish(&c->fbuf);
	}
	if (c->blk_open && c->blk_changed)
		brm_detect_publish_errors(c, false);
	if (brm_logs_on_lines)
		brm_logs_on_lines();
}

void brm_logcap_feed(struct brm_logcap *c, int stream, const char *data, size_t n)
{
	struct partial *pt = &c->part[stream == BRM_LOG_STDERR];
	const char *end = data + n;

	while (data < end) {
		const char *nl = memchr(data, '\n', (size_t)(end - data));
		size_t len = nl ? (size_t)(nl - data) : (size_t)(end - data);
		size_t room;

		if (nl && pt->len == 0 && len <= c->set.line_max) {
			/* The common case: a whole line in the read buffer. */
			emit(c, stream, pt->cont ? BRM_LOGLINE_CUT : 0, data, len);
			pt->cont = false;
			data = nl + 1;
			continue;
		}
		/* A partial line, or one longer than line_max: it is gathered. */
		if (!pt->buf)
			pt->buf = brm_xmalloc(c->set.line_max);
		room = c->set.line_max - pt->len;
		if (len > room)
			len = room;
		memcpy(pt->buf + pt->len, data, len);
		pt->len += len;
		data += len;
		if (pt->len == c->set.line_max) {
			/* At the limit: cut here; what follows continues it. */
			emit(c, stream, BRM_LOGLINE_CUT, pt->buf, pt->len);
			pt->len = 0;
			pt->cont = true;
			if (data < end && *data == '\n') {
				pt->cont = false;
				data++;
			}
		} else if (data < end && *data == '\n') {
			emit(c, stream, pt->cont ? BRM_LOGLINE_CUT : 0, pt->buf, pt->len);
			pt->len = 0;
			pt->cont = false;
			data++;
		}
	}
	after_lines(c);
}

void brm_logcap_flush(struct brm_logcap *c, int stream)
{
	struct partial *pt = &c->part[stream == BRM_LOG_STDERR];

	if (pt->len) {
		emit(c, stream, pt->cont ? BRM_LOGLINE_CUT : 0, pt->buf, pt->len);
		pt->len = 0;
		pt->cont = false;
		after_lines(c);
	}
}

void brm_logcap_meta(struct brm_logcap *c, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	emit(c, BRM_LOG_META, 0, line, (size_t)n);
	after_lines(c);
}

void brm_logcap_end_run(struct brm_logcap *c)
{
	brm_detect_close_block(c);
}

/* ---- the snapshot's fields ---------------------------------------------- */

bool brm_logcap_take_dirty(struct brm_logcap *c)
{
	/* Cleared by brm_logcap_extra_json, which the publish calls. */
	return c->dirty;
}

const char *brm_logcap_extra_json(struct brm_logcap *c)
{
	struct brm_buf b = BRM_BUF_INIT;
	struct extra *x;
	char err[BRM_LOGFILE_ERR_MAX] = "";
	uint64_t dropped = 0;

	if (c->extra && !c->dirty)
		return c->extra->s;
	brm_buf_adds(&b, ",\"urls\":[");
	for (size_t i = 0; i < c->nurls; i++) {
		if (i)
			brm_buf_addc(&b, ',');
		brm_json_str(&b, c->urls[i]);
	}
	brm_buf_adds(&b, "],\"log_file\":");
	brm_json_str(&b, c->set.file);
	if (c->file)
		c->file_gen = brm_logfile_status(c->file, err, sizeof(err), &dropped);
	brm_buf_adds(&b, ",\"log_error\":");
	brm_json_str(&b, err[0] ? err : NULL);
	brm_buf_adds(&b, ",\"log_dropped\":");
	brm_json_uint(&b, dropped);
	x = brm_xmalloc(sizeof(*x) + b.len + 1);
	memset(&x->rcu, 0, sizeof(x->rcu));
	memcpy(x->s, b.p, b.len + 1);
	brm_buf_finish(&b);
	/*
	 * The snapshot holding c->extra is still published until the caller
	 * publishes the new one; the one before it was replaced earlier, so its
	 * readers are covered by a grace period that starts now.
	 */
	if (c->retired)
		call_rcu(&c->retired->rcu, free_extra);
	c->retired = c->extra;
	c->extra = x;
	c->dirty = false;
	return x->s;
}
