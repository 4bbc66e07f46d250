/*
 * log.h — brummd's own log: one line per event on stderr.
 *
 * In the foreground a line reads "2026-11-26T17:03:12.123Z info  web: started, pid 4242".
 * Under systemd (JOURNAL_STREAM set) the timestamp is left to the journal and
 * the line starts with a syslog priority prefix ("<6>") so levels survive.
 * Context: any thread; each line is written with one write(2).
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

#define brm_log_debug(...) brm_log(BRM_LOG_DEBUG, __VA_ARGS__)
#define brm_log_info(...) brm_log(BRM_LOG_INFO, __VA_ARGS__)
#define brm_log_warn(...) brm_log(BRM_LOG_WARN, __VA_ARGS__)
#define brm_log_error(...) brm_log(BRM_LOG_ERROR, __VA_ARGS__)

#endif
