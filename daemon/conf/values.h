/*
 * values.h — typed values of the config: durations ("250ms", "10s", 1.5),
 * for any part of brummd, and the typed getters that conf/'s parsers share.
 *
 * Context: any thread (pure functions).
 */
#ifndef BRM_CONF_VALUES_H
#define BRM_CONF_VALUES_H

#include <stdbool.h>

struct cJSON;
struct brm_report;

/*
 * Parse a duration: a non-negative number of seconds (fractions allowed) or
 * a string with a unit: "250ms", "10s", "2m", "1h", "1.5s". Returns 0 and
 * *@secs, or -EINVAL.
 */
int brm_duration_parse_json(const struct cJSON *v, double *secs);
int brm_duration_parse(const char *s, double *secs);

/*
 * A duration of at least @min seconds in @v. Returns NULL and *@secs, or a
 * message saying what is wrong and naming the accepted format:
 *   duration "5 s" has an unknown unit; expected a number of seconds like 5
 *   or 0.5, or a string like "250ms", "10s", "2m" or "1h"
 * Ownership: caller frees the message.
 */
char *brm_duration_check(const struct cJSON *v, double min, double *secs);

/*
 * "HOST:PORT" with HOST an IPv4 literal, [IPv6] or localhost (given back
 * as 127.0.0.1) and PORT 1..65535: true with *@host (replaced, freed;
 * without brackets) and *@port, else false.
 */
bool brm_parse_hostport(const char *s, char **host, int *port);

/*
 * The getters of conf/'s parsers: each checks @v, stores it in *@out and
 * returns true, or reports at @path what was expected (diag.h) and returns
 * false, leaving *@out alone.
 */
bool brm_conf_get_bool(struct brm_report *r, const char *path, const struct cJSON *v,
		       bool *out);
/* A non-empty string; replaces *@out (freed). */
bool brm_conf_get_string(struct brm_report *r, const char *path, const struct cJSON *v,
			 char **out);
/* An integer from @lo to @hi. */
bool brm_conf_get_int(struct brm_report *r, const char *path, const struct cJSON *v,
		      long lo, long hi, long *out);
/* A duration (brm_duration_check with a minimum of 0). */
bool brm_conf_get_duration(struct brm_report *r, const char *path, const struct cJSON *v,
			   double *out);
/* Is @v a number that is an integer from @lo to @hi? */
bool brm_conf_int_in(const struct cJSON *v, long lo, long hi);

#endif
