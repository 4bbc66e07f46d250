/*
 * rlimits.c — the "rlimits" key of a process spec (rlimits.h): limits as
 * systemd's Limit*= takes them, a number, "infinity", sizes with K, M, G
 * or T, or "SOFT:HARD".
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <cjson/cJSON.h>

#include "daemon/conf/diag.h"
#include "daemon/conf/rlimits.h"
#include "daemon/conf/values.h"
#include "lib/util.h"

static const char *const rlimit_keys[] = { "nofile", "nproc", "core", "memlock", NULL };

const char *brm_rlimit_name(enum brm_rlimit_res res)
{
	return (unsigned)res < BRM_RLIMIT_COUNT ? rlimit_keys[res] : "unknown";
}

int brm_rlimit_resource(enum brm_rlimit_res res)
{
	static const int rs[] = { RLIMIT_NOFILE, RLIMIT_NPROC, RLIMIT_CORE, RLIMIT_MEMLOCK };

	return (unsigned)res < BRM_RLIMIT_COUNT ? rs[res] : -1;
}

/*
 * One limit as written in a string: "infinity", a number, and for sizes
 * (@bytes) a K, M, G or T suffix (powers of 1024, as systemd takes them).
 */
static bool rlimit_word(const char *s, size_t len, bool bytes, uint64_t *out)
{
	static const char units[] = "KMGT";
	uint64_t v = 0, mul = 1;
	size_t i = 0;

	if (len == 8 && !memcmp(s, "infinity", 8)) {
		*out = BRM_RLIM_INFINITY;
		return true;
	}
	if (bytes && len > 1) {
		const char *u = memchr(units, s[len - 1], 4);

		if (u && s[len - 1]) {
			for (long k = 0; k <= u - units; k++)
				mul *= 1024;
			len--;
		}
	}
	if (!len)
		return false;
	for (; i < len; i++) {
		if (!isdigit((unsigned char)s[i]) || v > (UINT64_MAX / 10 - 9))
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > (UINT64_MAX - 1) / mul)
		return false;
	*out = v * mul;
	return true;
}

/* A number, "infinity", or "SOFT:HARD" (each a number or "infinity"). */
static void get_rlimit(struct brm_report *r, const char *path, const cJSON *v, bool bytes,
		       struct brm_rlimit_spec *out)
{
	struct brm_quoted q;
	uint64_t soft, hard;

	if (cJSON_IsNumber(v)) {
		if (!brm_conf_int_in(v, 0, 1L << 53)) {
			brm_report(r, path, "expected a non-negative integer, \"infinity\" or"
				   " \"SOFT:HARD\", got %g", v->valuedouble);
			return;
		}
		soft = hard = (uint64_t)v->valuedouble;
	} else if (cJSON_IsString(v)) {
		const char *s = v->valuestring, *colon = strchr(s, ':');
		bool ok;

		if (colon)
			ok = rlimit_word(s, (size_t)(colon - s), bytes, &soft) &&
			     rlimit_word(colon + 1, strlen(colon + 1), bytes, &hard);
		else
			ok = rlimit_word(s, strlen(s), bytes, &soft) && (hard = soft, true);
		if (!ok) {
			brm_report(r, path, "expected a number%s, \"infinity\" or \"SOFT:HARD\","
				   " got %s", bytes ? " (K, M, G or T for sizes)" : "",
				   brm_quote(&q, s));
			return;
		}
		if (soft > hard) {
			brm_report(r, path, "the soft limit is above the hard limit in %s",
				   brm_quote(&q, s));
			return;
		}
	} else {
		brm_report(r, path, "expected a number, \"infinity\" or \"SOFT:HARD\", got %s",
			   brm_type_name(v));
		return;
	}
	out->set = true;
	out->soft = soft;
	out->hard = hard;
}

void brm_parse_rlimits(struct brm_report *r, const char *path, const cJSON *v,
		       struct brm_rlimit_spec out[BRM_RLIMIT_COUNT])
{
	const cJSON *c;
	bool *dup;
	size_t i = 0;

	if (!cJSON_IsObject(v)) {
		brm_report(r, path, "expected an object of limits (\"nofile\", \"nproc\", \"core\","
			   " \"memlock\"), got %s", brm_type_name(v));
		return;
	}
	dup = brm_dup_flags(v);
	cJSON_ArrayForEach(c, v) {
		char *p = brm_keypath(path, c->string);
		int k;

		for (k = 0; k < BRM_RLIMIT_COUNT; k++)
			if (!strcmp(c->string, rlimit_keys[k]))
				break;
		if (dup[i++])
			brm_report(r, p, "duplicate key");
		else if (k == BRM_RLIMIT_COUNT)
			brm_unknown_key(r, p, c->string, rlimit_keys);
		else
			get_rlimit(r, p, c, k == BRM_RLIMIT_CORE || k == BRM_RLIMIT_MEMLOCK,
				   &out[k]);
		free(p);
	}
	free(dup);
}
