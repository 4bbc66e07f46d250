/*
 * log.h — brummd's own log: one line per event on stderr.
 *
 * In the foreground a line reads "2026-11-26T17:03:12.123Z info  web: started, pid 4242".
 * Under systemd (JOURNAL_STREAM set) the timestamp is left to the journal and
 * the line starts with a syslog priority prefix ("<6>") so levels survive.
 * Context: any thread; each line is written with one write(2).
 *
 * Kept lines: after brm_log_keep() every line written also goes into a
 * bounded ring in memory (lib/logring.h), without its timestamp and level
 * prefix, which the ring's line header holds (ts_ms, and the level as the
 * line's `stream` byte), so `brummctl log` can show brummd's recent log
 * whatever stderr is connected to. Writers (any thread) append under one
 * mutex; readers (worker threads) read the ring lock-free as the ring
 * allows.
 */
#ifndef BRM_LOG_H
#define BRM_LOG_H

#include "lib/util.h"

enum brm_log_level { BRM_LOG_DEBUG, BRM_LOG_INFO, BRM_LOG_WARN, BRM_LOG_ERROR };

/* Lines below @min are dropped. Context: before threads start. */
void brm_log_set_level(enum brm_log_level min);
/* Parse "debug", "info", "warn", "error"; -1 when unknown. */
int brm_log_level_parse(const char *s);

void brm_log(enum brm_log_level lvl, const char *fmt, ...) BRM_PRINTF(2, 3);

/* "debug", "info", "warn", "error"; NULL for anything else. */
const char *brm_log_level_name(int lvl);

/* The default size of the ring of kept lines: about 2000 lines. */
#define BRM_LOG_RING_DEFAULT (256u << 10)

/*
 * Keep the lines from now on in a ring of @bytes (lib/logring.h rounds and
 * clamps it), and call @on_line (may be NULL) after each kept line, outside
 * the lock: it must not block and must not log. Context: before the
 * threads that read the ring start.
 */
void brm_log_keep(size_t bytes, void (*on_line)(void));
/*
 * The ring of kept lines, or NULL before brm_log_keep(). Valid until
 * brm_log_keep_stop(). Context: any thread; reading only.
 */
const struct brm_logring *brm_log_ring(void);
/* Stop keeping lines and free the ring. Context: after every reader has
 * stopped (the workers are joined). */
void brm_log_keep_stop(void);

#define brm_log_debug(...) brm_log(BRM_LOG_DEBUG, __VA_ARGS__)
#define brm_log_info(...) brm_log(BRM_LOG_INFO, __VA_ARGS__)
#define brm_log_warn(...) brm_log(BRM_LOG_WARN, __VA_ARGS__)
#define brm_log_error(...) brm_log(BRM_LOG_ERROR, __VA_ARGS__)

#endif
