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
 *
 * The two detectors live in detect.c; logcap_int.h holds the record they
 * share with this file.
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
#include "daemon/sup/logcap_int.h"
#include "daemon/sup/loopcheck.h"
#include "lib/buf.h"
#include "lib/pattern.h"
#include "lib/util.h"

struct extra {
	struct rcu_head rcu;
	char s[];
};

static struct {
	uv_loop_t *loop;
	uv_async_t async;
	uv_signal_t usr1;
	struct brm_log_spec *top;
	void (*republish)(struct brm_proc *owner);
	struct brm_logcap *caps;
	bool up;
} L;

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
		  void (*republish)(struct brm_proc *owner))
{
	BRM_ASSERT_LOOP();
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
	BRM_ASSERT_LOOP();
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

struct brm_logcap *brm_logcap_create(const char *name, const struct brm_log_spec *spec,
				     struct brm_proc *owner)
{
	BRM_ASSERT_LOOP();
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
	BRM_ASSERT_LOOP();
	brm_logfile_set_user(c->file, user);
}

void brm_logcap_attach(struct brm_logcap *c, struct brm_reg_entry *e)
{
	BRM_ASSERT_LOOP();
	brm_rcu_assign(e->logs, c->pub);
}

static void free_extra(struct rcu_head *h)
{
	free(caa_container_of(h, struct extra, rcu));
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
	BRM_ASSERT_LOOP();
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
	BRM_ASSERT_LOOP();
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
	BRM_ASSERT_LOOP();
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
	BRM_ASSERT_LOOP();
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
	BRM_ASSERT_LOOP();
	brm_detect_close_block(c);
}

/* ---- the snapshot's fields ---------------------------------------------- */

bool brm_logcap_take_dirty(struct brm_logcap *c)
{
	BRM_ASSERT_LOOP();
	/* Cleared by brm_logcap_extra_json, which the publish calls. */
	return c->dirty;
}

uint64_t brm_logcap_dropped(const struct brm_logcap *c)
{
	BRM_ASSERT_LOOP();
	return c->dropped;
}

const char *brm_logcap_extra_json(struct brm_logcap *c)
{
	BRM_ASSERT_LOOP();
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
	c->dropped = dropped;
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
