/*
 * logcap_int.h — inside log capture: the capture record (struct
 * brm_logcap), shared by logcap.c (lines, ring, file, snapshot fields) and
 * detect.c (URLs and error blocks). Nothing else includes it.
 *
 * Context: loop thread only, like all of log capture.
 */
#ifndef BRM_LOGCAP_INT_H
#define BRM_LOGCAP_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/sup/logcap.h"
#include "lib/buf.h"

struct extra;
struct shared_re;

struct partial {
	char *buf;               /* line_max bytes, allocated on first use */
	size_t len;
	bool cont;               /* this line continues a cut one */
};

struct brm_logcap {
	char *name;
	struct brm_proc *owner;
	struct brm_logpub *pub;
	struct brm_log_settings set;
	struct shared_re *err_re;  /* NULL: no error detection */
	struct partial part[2];
	struct brm_logfile *file;
	uint64_t file_gen;
	uint64_t dropped;         /* the file writer's, as of the last extra_json */
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

/* detect.c */

/* Compile the pattern of a stack trace's context lines (once); aborts when
 * it cannot. */
void brm_detect_setup(void);
/* The compiled error patterns @pats, shared with every capture using the
 * same ones; NULL with *@why (caller frees) when they do not compile. */
struct shared_re *brm_detect_re_get(char *const *pats, char **why);
/* Drop one reference taken by brm_detect_re_get; NULL does nothing. */
void brm_detect_re_put(struct shared_re *s);
/* Record the URLs in line @s (@n bytes, escapes stripped) in @c. */
void brm_detect_urls(struct brm_logcap *c, const char *s, size_t n);
/* Feed line @s (@n bytes, escapes stripped; ring sequence @seq, time @ts,
 * @stream) to @c's error block detection. */
void brm_detect_errors(struct brm_logcap *c, uint64_t seq, int64_t ts, int stream,
		       const char *s, size_t n);
/* Publish @c's error block (open, or closed with @closing). */
void brm_detect_publish_errors(struct brm_logcap *c, bool closing);
/* Close and publish @c's open error block, if any. */
void brm_detect_close_block(struct brm_logcap *c);

#endif
