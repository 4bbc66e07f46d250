/*
 * values.c — the typed getters of config parsing and durations (values.h).
 *
 * Each getter checks one JSON value, stores it, or reports what was
 * expected and what was found. No global state: safe from any thread.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "daemon/conf/diag.h"
#include "daemon/conf/values.h"
#include "lib/util.h"

#define MAX_DURATION_SECS (365.0 * 24 * 3600)

/* ---- values ------------------------------------------------------------- */

bool brm_conf_get_bool(struct brm_report *r, const char *path, const cJSON *v, bool *out)
{
	if (!cJSON_IsBool(v)) {
		brm_report(r, path, "expected true or false, got %s", brm_type_name(v));
		return false;
	}
	*out = cJSON_IsTrue(v);
	return true;
}

/* A non-empty string; replaces *@out. */
bool brm_conf_get_string(struct brm_report *r, const char *path, const cJSON *v, char **out)
{
	if (!cJSON_IsString(v)) {
		brm_report(r, path, "expected a non-empty string, got %s", brm_type_name(v));
		return false;
	}
	if (!v->valuestring[0]) {
		brm_report(r, path, "must not be empty");
		return false;
	}
	free(*out);
	*out = brm_xstrdup(v->valuestring);
	return true;
}

bool brm_conf_int_in(const cJSON *v, long lo, long hi)
{
	double d = v->valuedouble;

	return cJSON_IsNumber(v) && d >= (double)lo && d <= (double)hi &&
	       d == (double)(long)d;
}

bool brm_conf_get_int(struct brm_report *r, const char *path, const cJSON *v,
		      long lo, long hi, long *out)
{
	if (!cJSON_IsNumber(v)) {
		brm_report(r, path, "expected an integer from %ld to %ld, got %s",
			   lo, hi, brm_type_name(v));
		return false;
	}
	if (!brm_conf_int_in(v, lo, hi)) {
		brm_report(r, path, "expected an integer from %ld to %ld, got %g",
			   lo, hi, v->valuedouble);
		return false;
	}
	*out = (long)v->valuedouble;
	return true;
}

/*
 * A duration string: DIGITS[.DIGITS] or .DIGITS, then ms, s, m or h.
 * Returns NULL and *@secs, or what is wrong with it.
 */
static const char *duration_str(const char *s, double *secs)
{
	static const double pow10[] = { 1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9 };
	double mant = 0, v, unit;
	unsigned frac = 0;
	bool digits = false;
	const char *p = s;

	if (!*p)
		return "is empty";
	if (*p == '-')
		return "is negative";
	for (; isdigit((unsigned char)*p); p++, digits = true)
		mant = mant * 10 + (*p - '0');
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return "has no digits after the decimal point";
		for (; isdigit((unsigned char)*p); p++, digits = true) {
			if (frac < 9) {     /* nanoseconds are enough */
				mant = mant * 10 + (*p - '0');
				frac++;
			}
		}
	}
	if (!digits)
		return "does not start with a number";
	if (!strcmp(p, "ms"))
		unit = 0.001;
	else if (!strcmp(p, "s"))
		unit = 1;
	else if (!strcmp(p, "m"))
		unit = 60;
	else if (!strcmp(p, "h"))
		unit = 3600;
	else if (!*p)
		return "has no unit";
	else
		return "has an unknown unit";
	v = mant / pow10[frac] * unit;
	if (!(v <= MAX_DURATION_SECS))
		return "is longer than a year";
	*secs = v;
	return NULL;
}

static const char *duration_num(double d, double *secs)
{
	if (d != d)
		return "is not a number";
	if (d < 0)
		return "is negative";
	if (!(d <= MAX_DURATION_SECS))
		return "is longer than a year";
	*secs = d;
	return NULL;
}

#define DURATION_HINT "expected a number of seconds like 5 or 0.5, or a string like" \
	" \"250ms\", \"10s\", \"2m\" or \"1h\""

char *brm_duration_check(const cJSON *v, double min, double *secs)
{
	struct brm_quoted q;
	const char *why;
	double d = 0;

	if (cJSON_IsNumber(v)) {
		why = duration_num(v->valuedouble, &d);
		if (why)
			return brm_xasprintf("duration %g %s; " DURATION_HINT, v->valuedouble, why);
	} else if (cJSON_IsString(v)) {
		why = duration_str(v->valuestring, &d);
		if (why)
			return brm_xasprintf("duration %s %s; " DURATION_HINT,
					     brm_quote(&q, v->valuestring), why);
	} else {
		return brm_xasprintf(DURATION_HINT ", got %s", brm_type_name(v));
	}
	if (d < min) {
		if (cJSON_IsNumber(v))
			return brm_xasprintf("duration %g is shorter than the minimum of %gs",
					     v->valuedouble, min);
		return brm_xasprintf("duration %s is shorter than the minimum of %gs",
				     brm_quote(&q, v->valuestring), min);
	}
	*secs = d;
	return NULL;
}

bool brm_conf_get_duration(struct brm_report *r, const char *path, const cJSON *v,
			   double *out)
{
	char *why = brm_duration_check(v, 0, out);

	if (why)
		brm_report(r, path, "%s", why);
	free(why);
	return !why;
}

int brm_duration_parse(const char *s, double *secs)
{
	if (!s || duration_str(s, secs))
		return -EINVAL;
	return 0;
}

int brm_duration_parse_json(const cJSON *v, double *secs)
{
	if (cJSON_IsNumber(v))
		return duration_num(v->valuedouble, secs) ? -EINVAL : 0;
	if (cJSON_IsString(v))
		return brm_duration_parse(v->valuestring, secs);
	return -EINVAL;
}

bool brm_parse_hostport(const char *s, char **host, int *port)
{
	const char *colon;
	char *end;
	long p;
	size_t hl;

	if (s[0] == '[') {
		const char *rb = strchr(s, ']');
		if (!rb || rb[1] != ':')
			return false;
		colon = rb + 1;
		hl = (size_t)(rb - s - 1);
		s++;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return false;
		hl = (size_t)(colon - s);
	}
	p = strtol(colon + 1, &end, 10);
	if (!colon[1] || *end || p < 1 || p > 65535 || hl == 0 || hl > 63)
		return false;
	free(*host);
	*host = brm_xstrndup(s, hl);
	if (!strcmp(*host, "localhost")) {
		free(*host);
		*host = brm_xstrdup("127.0.0.1");
	}
	*port = (int)p;
	{
		unsigned char buf[16];
		return inet_pton(AF_INET, *host, buf) == 1 || inet_pton(AF_INET6, *host, buf) == 1;
	}
}
