/*
 * logspec.h — the log keys of the config, at the top level (defaults for
 * every process) and per process (overriding them):
 *
 *   log_ring_bytes   in-memory ring per process (default 256 KiB)
 *   log_line_max     longer lines are cut and marked continued (64 KiB)
 *   log_file         append output here; "{name}" becomes the process name;
 *                    "" turns a top-level default off for one process
 *   log_max_bytes    rotate past this size (default 10 MiB; 0 never)
 *   log_keep         rotated files kept: NAME.1 ... NAME.N (default 5)
 *   error_patterns   POSIX extended regexes marking error lines (default:
 *                    C, Go, Python, Node/JS, Java and Rust failures)
 *
 * Context: any thread (pure parsing).
 */
#ifndef BRM_LOGSPEC_H
#define BRM_LOGSPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cJSON;

#define BRM_LOG_KEYS "log_ring_bytes", "log_line_max", "log_file", "log_max_bytes", \
	"log_keep", "error_patterns"

#define BRM_LOG_RING_DEFAULT (256u << 10)
#define BRM_LOG_LINE_DEFAULT (64u << 10)
#define BRM_LOG_MAX_BYTES_DEFAULT (10u << 20)
#define BRM_LOG_KEEP_DEFAULT 5

struct brm_log_spec {
	int64_t ring_bytes;      /* -1: unset (each field) */
	int64_t line_max;
	char *file;              /* NULL: unset */
	int64_t max_bytes;
	int64_t keep;
	char **error_patterns;   /* NULL: unset */
};

bool brm_log_spec_key(const char *key);
struct brm_log_spec *brm_log_spec_new(void);
struct brm_log_spec *brm_log_spec_dup(const struct brm_log_spec *s);  /* NULL -> NULL */
void brm_log_spec_destroy(struct brm_log_spec *s);
/* Same settings? NULL equals a spec with nothing set. */
bool brm_log_spec_equal(const struct brm_log_spec *a, const struct brm_log_spec *b);
/* Set @key from @v. Returns 0, or -EINVAL and *@why (caller frees). */
int brm_log_spec_set(struct brm_log_spec *s, const char *key, const struct cJSON *v, char **why);

/* The effective settings: @proc over @top over the built-in defaults. */
struct brm_log_settings {
	size_t ring_bytes;
	size_t line_max;
	char *file;              /* NULL: none; {name} expanded */
	uint64_t max_bytes;
	unsigned keep;
	char **error_patterns;   /* never NULL */
};
void brm_log_settings_resolve(struct brm_log_settings *out, const char *name,
			      const struct brm_log_spec *proc, const struct brm_log_spec *top);
void brm_log_settings_finish(struct brm_log_settings *s);

/* The built-in error patterns, NULL-terminated. */
extern const char *const brm_default_error_patterns[];

#endif
