/*
 * log.c — see log.h.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon/log.h"
#include "lib/logring.h"

static enum brm_log_level min_level = BRM_LOG_INFO;
static int journal = -1;

/*
 * The kept lines. The ring has one writer at a time: the mutex makes the
 * writers (any thread) take turns; readers never take it. `kept` is
 * published with a release store after the ring is made, and read with an
 * acquire load.
 */
static pthread_mutex_t keep_lock = PTHREAD_MUTEX_INITIALIZER;
static struct brm_logring *kept;
static void (*kept_on_line)(void);

void brm_log_keep(size_t bytes, void (*on_line)(void))
{
	struct brm_logring *r = brm_logring_create(bytes);

	pthread_mutex_lock(&keep_lock);
	kept_on_line = on_line;
	__atomic_store_n(&kept, r, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&keep_lock);
}

const struct brm_logring *brm_log_ring(void)
{
	return __atomic_load_n(&kept, __ATOMIC_ACQUIRE);
}

void brm_log_keep_stop(void)
{
	struct brm_logring *r;

	pthread_mutex_lock(&keep_lock);
	r = kept;
	__atomic_store_n(&kept, NULL, __ATOMIC_RELEASE);
	kept_on_line = NULL;
	pthread_mutex_unlock(&keep_lock);
	brm_logring_destroy(r);
}

/* Append @msg (@len bytes, no newline) to the kept lines, if kept. */
static void keep_line(enum brm_log_level lvl, int64_t ts_ms, const char *msg, size_t len)
{
	void (*on_line)(void) = NULL;

	if (!__atomic_load_n(&kept, __ATOMIC_RELAXED))
		return;
	pthread_mutex_lock(&keep_lock);
	if (kept) {
		brm_logring_append(kept, ts_ms, (int)lvl, 0, msg, len);
		on_line = kept_on_line;
	}
	pthread_mutex_unlock(&keep_lock);
	if (on_line)
		on_line();
}

const char *brm_log_level_name(int lvl)
{
	static const char *const names[] = { "debug", "info", "warn", "error" };

	return lvl >= 0 && lvl < 4 ? names[lvl] : NULL;
}

void brm_log_set_level(enum brm_log_level min)
{
	min_level = min;
}

int brm_log_level_parse(const char *s)
{
	static const char *const names[] = { "debug", "info", "warn", "error" };

	for (int i = 0; i < 4; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

void brm_log(enum brm_log_level lvl, const char *fmt, ...)
{
	static const char *const tags[] = { "debug", "info ", "warn ", "error" };
	static const char prio[] = { '7', '6', '4', '3' };
	char line[2048];
	size_t n = 0, msg;
	struct timespec ts;
	va_list ap;
	int r;

	if (lvl < min_level)
		return;
	if (journal < 0)
		journal = getenv("JOURNAL_STREAM") != NULL;
	clock_gettime(CLOCK_REALTIME, &ts);
	if (journal) {
		r = snprintf(line, sizeof(line), "<%c>", prio[lvl]);
	} else {
		struct tm tm;
		gmtime_r(&ts.tv_sec, &tm);
		r = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s ",
			     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			     tm.tm_sec, ts.tv_nsec / 1000000, tags[lvl]);
	}
	n = r > 0 ? (size_t)r : 0;
	msg = n;
	va_start(ap, fmt);
	r = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (r > 0)
		n += (size_t)r < sizeof(line) - n - 1 ? (size_t)r : sizeof(line) - n - 2;
	keep_line(lvl, (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, line + msg, n - msg);
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, n) < 0) {
		/* nowhere left to report it */
	}
}
