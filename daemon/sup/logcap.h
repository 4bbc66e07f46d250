/*
 * logcap.h — capture of child output on the loop thread: split into lines,
 * stamp, keep in the process's ring, append to its log file, spot URLs and
 * group error lines with their stack traces; what worker threads read of
 * it through the registry entry (struct brm_reg_entry.logs) is
 * daemon/logpub.h.
 */
#ifndef BRM_LOGS_H
#define BRM_LOGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "daemon/conf/logspec.h"
#include "daemon/logpub.h"
#include "lib/logring.h"
#include "lib/registry.h"

#define BRM_LOG_MAX_URLS 16
#define BRM_LOG_MAX_ERRORS 50
#define BRM_LOG_ERR_MAX_LINES 100
#define BRM_LOG_ERR_MAX_BYTES (16u << 10)

struct brm_logcap;
struct brm_proc;   /* the owner of a capture (supervise.h) */

/*
 * Start capture support: the file writer thread, SIGUSR1 (reopen log
 * files), and the top-level log defaults (@top may be NULL; copied).
 * @republish is called on the loop thread with a capture's owner when its
 * published status (urls, log file error) changed outside a feed.
 * Context: loop thread.
 */
int brm_logs_init(uv_loop_t *loop, const struct brm_log_spec *top,
		  void (*republish)(struct brm_proc *owner));
/* Stop the writer (after what is queued) and close the handles. */
void brm_logs_shutdown(void);

/*
 * A capture for process @name with its own log keys @spec (may be NULL),
 * owned by the record @owner (passed back to @republish).
 * Ownership: caller, brm_logcap_destroy(). Context: loop thread (all below).
 */
struct brm_logcap *brm_logcap_create(const char *name, const struct brm_log_spec *spec,
				     struct brm_proc *owner);
/* The user the process runs as (NULL: brummd's), for the log file's checks. */
void brm_logcap_set_user(struct brm_logcap *c, const char *user);
/* Make the capture readable through @e (sets e->logs). */
void brm_logcap_attach(struct brm_logcap *c, struct brm_reg_entry *e);
/* Free; what readers can reach is freed after a grace period. NULL is fine. */
void brm_logcap_destroy(struct brm_logcap *c);

/* Output from the child: @stream BRM_LOG_STDOUT or BRM_LOG_STDERR. */
void brm_logcap_feed(struct brm_logcap *c, int stream, const char *data, size_t n);
/* End of a stream: a partial last line becomes a line. */
void brm_logcap_flush(struct brm_logcap *c, int stream);
/* A lifecycle line ("started with pid 42"). */
void brm_logcap_meta(struct brm_logcap *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Close an open error block (the process exited). */
void brm_logcap_end_run(struct brm_logcap *c);

/* True once after the published fields changed: publish a new snapshot. */
bool brm_logcap_take_dirty(struct brm_logcap *c);
/*
 * JSON members for the snapshot (",\"urls\":[...],..."), valid until the
 * next change is published plus a grace period. Never NULL.
 */
const char *brm_logcap_extra_json(struct brm_logcap *c);
/* The log file's dropped chunks as of the last brm_logcap_extra_json(). */
uint64_t brm_logcap_dropped(const struct brm_logcap *c);

/* Strip ANSI escape sequences from @s (@n bytes) into @out; returns length. */
size_t brm_ansi_strip(const char *s, size_t n, char *out);

#endif
