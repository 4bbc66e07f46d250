/*
 * config.c — parse and validate brummd's JSON config: the whole text,
 * its top-level keys and "processes" (the spec of each is spec.c's).
 *
 * Problems are reported as diag.h says, all of them, not just the first.
 *
 * Comments are blanked out in a private copy (replaced by spaces, newlines
 * kept) instead of being removed with cJSON_Minify: the stripped text then
 * has the same offsets as the file, so a syntax error can name its line and
 * column.
 *
 * No global state (cJSON_GetErrorPtr() is not used): safe from any thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "daemon/conf/accessspec.h"
#include "daemon/conf/config.h"
#include "daemon/conf/depcheck.h"
#include "daemon/conf/diag.h"
#include "daemon/conf/instances.h"
#include "daemon/conf/logspec.h"
#include "daemon/conf/scripts.h"
#include "daemon/conf/spec.h"
#include "daemon/conf/values.h"
#include "lib/buf.h"
#include "lib/util.h"
#include "proto/proto.h"

#define MAX_CONFIG_BYTES (4u << 20)
#define MAX_SOCKET_PATH (sizeof(((struct sockaddr_un *)0)->sun_path) - 1)

static const char *const top_keys[] = {
	"socket", "workers", "processes", "scripts_from", "state_dir",
	"socket_mode", "socket_group", "access", "limits", "exit_with", "metrics_listen",
	BRM_LOG_KEYS, NULL
};

const char *brm_exit_with_name(enum brm_exit_with w)
{
	return w == BRM_EXIT_WITH_FIRST_FAILURE ? "first_failure" : "critical";
}

/*
 * "metrics_listen": "HOST:PORT", where GET /metrics is served (rpc/httpm.h).
 * Only an IP literal or localhost: brummd does no name lookups.
 */
static void get_metrics_listen(struct brm_report *r, const char *path, const cJSON *v,
			       struct brm_config *cfg)
{
	if (!brm_conf_get_string(r, path, v, &cfg->metrics_listen))
		return;
	if (!brm_parse_hostport(cfg->metrics_listen, &cfg->metrics_host, &cfg->metrics_port)) {
		brm_report(r, path, "expected \"HOST:PORT\" with an IP address or localhost and a"
			   " port from 1 to 65535, like \"127.0.0.1:9721\", got \"%.100s\"",
			   cfg->metrics_listen);
		free(cfg->metrics_listen);
		free(cfg->metrics_host);
		cfg->metrics_listen = cfg->metrics_host = NULL;
		cfg->metrics_port = 0;
	}
}

static void get_exit_with(struct brm_report *r, const char *path, const cJSON *v,
			  enum brm_exit_with *out)
{
	struct brm_quoted q;

	if (cJSON_IsString(v) && !strcmp(v->valuestring, "critical"))
		*out = BRM_EXIT_WITH_CRITICAL;
	else if (cJSON_IsString(v) && !strcmp(v->valuestring, "first_failure"))
		*out = BRM_EXIT_WITH_FIRST_FAILURE;
	else
		brm_report(r, path, "expected \"critical\" or \"first_failure\", got %s",
			   cJSON_IsString(v) ? brm_quote(&q, v->valuestring) : brm_type_name(v));
}

/* Line and column (from 1, in bytes) of offset @pos in @s. */
static void line_col(const char *s, size_t pos, unsigned *line, unsigned *col)
{
	size_t bol = 0;

	*line = 1;
	for (size_t i = 0; i < pos; i++) {
		if (s[i] == '\n') {
			(*line)++;
			bol = i + 1;
		}
	}
	*col = (unsigned)(pos - bol + 1);
}

/* ---- the whole config --------------------------------------------------- */

/*
 * Blank out // and block comments in place, newlines kept, so that offsets
 * still match the original text. Reports an unterminated block comment.
 */
static bool strip_comments(struct brm_report *r, char *s, size_t len)
{
	size_t i = 0, start;
	unsigned line, col;

	while (i < len) {
		if (s[i] == '"') {
			for (i++; i < len && s[i] != '"'; i++)
				if (s[i] == '\\')
					i++;
			i++;
		} else if (s[i] == '/' && i + 1 < len && s[i + 1] == '/') {
			while (i < len && s[i] != '\n')
				s[i++] = ' ';
		} else if (s[i] == '/' && i + 1 < len && s[i + 1] == '*') {
			start = i;
			s[i++] = ' ';
			s[i++] = ' ';
			while (i < len && !(s[i] == '*' && i + 1 < len && s[i + 1] == '/')) {
				if (s[i] != '\n')
					s[i] = ' ';
				i++;
			}
			if (i >= len) {
				line_col(s, start, &line, &col);
				brm_report(r, NULL, "unterminated comment starting at line %u, column %u",
					   line, col);
				return false;
			}
			s[i++] = ' ';
			s[i++] = ' ';
		} else {
			i++;
		}
	}
	return true;
}

static const char *skip_space(const char *p)
{
	while (*p && (unsigned char)*p <= ' ')
		p++;
	return p;
}

/* Parse the NUL-terminated @s (@len bytes before the NUL), or report where it fails. */
static cJSON *parse_json(struct brm_report *r, const char *s, size_t len)
{
	const char *end = NULL;
	struct brm_quoted q;
	unsigned line, col;
	cJSON *root;

	if (!*skip_space(s)) {
		brm_report(r, NULL, "empty, expected a JSON object");
		return NULL;
	}
	root = cJSON_ParseWithLengthOpts(s, len + 1, &end, 0);
	if (!root) {
		size_t pos = end && end >= s && end <= s + len ? (size_t)(end - s) : 0;

		line_col(s, pos, &line, &col);
		if (!s[pos])
			brm_report(r, NULL, "not valid JSON at line %u, column %u: unexpected end of the text",
				   line, col);
		else
			brm_report(r, NULL, "not valid JSON at line %u, column %u, near %s",
				   line, col, brm_quote_n(&q, s + pos, 20));
		return NULL;
	}
	end = skip_space(end);
	if (*end) {
		line_col(s, (size_t)(end - s), &line, &col);
		brm_report(r, NULL, "unexpected text after the JSON object at line %u, column %u, near %s",
			   line, col, brm_quote_n(&q, end, 20));
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

static int spec_cmp(const void *a, const void *b)
{
	const struct brm_proc_spec *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

/*
 * processes.NAME with "instances": N (daemon/conf/instances.h): N specs named
 * NAME:0 .. NAME:N-1 from the same object, each with BRUMMD_INSTANCE set.
 * Problems of the spec are reported once, under processes.NAME.
 */
static void parse_instances(struct brm_report *r, const cJSON *c, const char *p,
			    struct brm_config *cfg, size_t *cap)
{
	const cJSON *inst = cJSON_GetObjectItemCaseSensitive(c, "instances");
	char *ip = brm_keypath(p, "instances"), name[BRM_MAX_NAME_LEN + 1];
	struct brm_report quiet_port = { BRM_BUF_INIT, NULL, 0 };  /* brm_spec_read reports it */
	cJSON *copy;
	long n, port;

	copy = cJSON_Duplicate(c, 1);
	if (!copy)
		brm_oom(0);
	cJSON_DeleteItemFromObjectCaseSensitive(copy, "instances");
	if (!brm_conf_get_int(r, ip, inst, 1, BRM_MAX_INSTANCES, &n))
		goto out_check_spec;
	if (!brm_instance_name(name, sizeof(name), c->string, (unsigned)n - 1)) {
		brm_report(r, ip, "the instance names (\"%s:%ld\") would be longer than %d bytes",
			   c->string, n - 1, BRM_MAX_NAME_LEN);
		goto out_check_spec;
	}
	port = brm_spec_port(&quiet_port, p, copy);
	brm_buf_finish(&quiet_port.buf);
	if (port && port + n - 1 > 65535) {
		char *pp = brm_keypath(p, "port");

		brm_report(r, pp, "%ld instances from port %ld would go up to %ld, above 65535",
			   n, port, port + n - 1);
		free(pp);
		goto out_check_spec;
	}
	if (cfg->nprocs + (size_t)n > *cap) {
		*cap = cfg->nprocs + (size_t)n + 16;
		cfg->procs = brm_xrealloc(cfg->procs, *cap * sizeof(*cfg->procs));
	}
	for (long i = 0; i < n; i++) {
		struct brm_report quiet = { BRM_BUF_INIT, NULL, 0 };
		struct brm_proc_spec *s;

		brm_instance_name(name, sizeof(name), c->string, (unsigned)i);
		s = brm_spec_read(i ? &quiet : r, copy, name, p, i);
		brm_buf_finish(&quiet.buf);
		if (!s)
			break;
		brm_instance_env(s, (unsigned)i);
		cfg->procs[cfg->nprocs++] = s;
	}
	cJSON_Delete(copy);
	free(ip);
	return;

out_check_spec:
	/* The count is wrong, but every other problem of the spec shows now too. */
	brm_spec_destroy(brm_spec_read(r, copy, c->string, p, 0));
	cJSON_Delete(copy);
	free(ip);
}

static void parse_processes(struct brm_report *r, const cJSON *v, struct brm_config *cfg)
{
	const cJSON *c;
	bool *dup;
	size_t n = 0, i = 0;

	if (!cJSON_IsObject(v)) {
		brm_report(r, "processes", "expected an object of process specs by name, got %s",
			   brm_type_name(v));
		return;
	}
	cJSON_ArrayForEach(c, v)
		n++;
	cfg->procs = brm_xcalloc(n ? n : 1, sizeof(*cfg->procs));
	dup = brm_dup_flags(v);
	cJSON_ArrayForEach(c, v) {
		char *p = brm_keypath("processes", c->string);
		struct brm_proc_spec *s;

		if (dup[i++]) {
			brm_report(r, p, "duplicate process name");
		} else if (!brm_name_valid(c->string)) {
			brm_report(r, p, "invalid process name: use 1 to %d letters, digits or '.', '_', ':', '@', '-', not starting with '.' or '-'",
				   BRM_MAX_NAME_LEN);
			brm_spec_destroy(brm_spec_read(r, c, c->string, p, -1));
		} else if (cJSON_IsObject(c) && cJSON_GetObjectItemCaseSensitive(c, "instances")) {
			parse_instances(r, c, p, cfg, &n);
		} else {
			s = brm_spec_read(r, c, c->string, p, -1);
			if (s) {
				if (cfg->nprocs == n) {
					n = n * 2 + 16;
					cfg->procs = brm_xrealloc(cfg->procs, n * sizeof(*cfg->procs));
				}
				cfg->procs[cfg->nprocs++] = s;
			}
		}
		free(p);
	}
	free(dup);
	qsort(cfg->procs, cfg->nprocs, sizeof(*cfg->procs), spec_cmp);
	/* An instance's name may also be given on its own ("web:0" beside "web"). */
	for (i = 1; i < cfg->nprocs; i++) {
		if (strcmp(cfg->procs[i - 1]->name, cfg->procs[i]->name))
			continue;
		{
			char *p = brm_keypath("processes", cfg->procs[i]->name);
			brm_report(r, p, "defined twice: on its own and as an instance (\"instances\")");
			free(p);
		}
	}
}

/* The hardening keys of the top level; false for any other key. */
static bool parse_harden_key(struct brm_report *r, const char *p, const char *k, const cJSON *c,
			     struct brm_config *cfg)
{
	long v;

	if (!strcmp(k, "socket_mode")) {
		/* "0660" (octal, as chmod takes it) or a number (decimal 432 = 0660) */
		if (cJSON_IsString(c)) {
			char *end;
			errno = 0;
			v = strtol(c->valuestring, &end, 8);
			if (!c->valuestring[0] || *end || errno || v < 0 || v > 0777)
				brm_report(r, p, "expected an octal mode like \"0660\", got \"%.16s\"",
					   c->valuestring);
			else if (v & 0007)
				brm_report(r, p, "must not give access to others (mode %04lo); use"
					   " socket_group and access.readers instead", v);
			else
				cfg->socket_mode = (int)v;
		} else {
			brm_report(r, p, "expected an octal mode string like \"0660\", got %s",
				   brm_type_name(c));
		}
		return true;
	}
	if (!strcmp(k, "socket_group")) {
		if (cJSON_IsNumber(c) && brm_conf_int_in(c, 0, 0xfffffffeL)) {
			free(cfg->socket_group);
			cfg->socket_group = brm_xasprintf("%ld", (long)c->valuedouble);
		} else {
			brm_conf_get_string(r, p, c, &cfg->socket_group);
		}
		return true;
	}
	if (!strcmp(k, "access")) {
		brm_access_spec_parse(r, p, c, &cfg->access);
		return true;
	}
	if (!strcmp(k, "limits")) {
		brm_limits_parse(r, p, c, &cfg->limits);
		return true;
	}
	return false;
}

/*
 * The same limit `add` applies: a configured name may not dodge it. Checked
 * once all is parsed ("limits" may come after "processes"), once per key:
 * for "instances": N, the longest name, NAME:N-1.
 */
static void check_name_lengths(struct brm_report *r, const cJSON *procs,
			       const struct brm_config *cfg)
{
	size_t max = (size_t)cfg->limits.max_name_len;
	const cJSON *c;

	if (!cJSON_IsObject(procs))
		return;
	cJSON_ArrayForEach(c, procs) {
		const cJSON *inst = cJSON_GetObjectItemCaseSensitive(c, "instances");
		char name[BRM_MAX_NAME_LEN + 1], *p;

		if (!c->string)
			continue;
		if (cJSON_IsNumber(inst) && inst->valuedouble >= 1 &&
		    inst->valuedouble <= BRM_MAX_INSTANCES) {
			if (!brm_instance_name(name, sizeof(name), c->string,
					       (unsigned)inst->valuedouble - 1) ||
			    strlen(name) <= max)
				continue;	/* too long for any limit: reported already */
			p = brm_keypath("processes", c->string);
			brm_report(r, p, "instance names up to \"%s\" (%zu bytes) are longer than"
				   " limits.max_name_len (%zu)", name, strlen(name), max);
		} else {
			if (strlen(c->string) <= max)
				continue;
			p = brm_keypath("processes", c->string);
			brm_report(r, p, "name is %zu bytes, longer than limits.max_name_len (%zu)",
				   strlen(c->string), max);
		}
		free(p);
	}
}

static void parse_top(struct brm_report *r, const cJSON *root, struct brm_config *cfg)
{
	const cJSON *c, *scripts = NULL;
	bool *dup;
	size_t i = 0;
	long l;

	if (!cJSON_IsObject(root)) {
		brm_report(r, NULL, "expected a JSON object at the top level, got %s",
			   brm_type_name(root));
		return;
	}
	dup = brm_dup_flags(root);
	cJSON_ArrayForEach(c, root) {
		const char *k = c->string;
		char *p = brm_keypath(NULL, k);

		if (dup[i++]) {
			brm_report(r, p, "duplicate key");
		} else if (!strcmp(k, "socket")) {
			if (brm_conf_get_string(r, p, c, &cfg->socket) &&
			    strlen(cfg->socket) > MAX_SOCKET_PATH)
				brm_report(r, p, "longer than %zu bytes, the limit for a unix socket path",
					   MAX_SOCKET_PATH);
		} else if (!strcmp(k, "state_dir")) {
			if (brm_conf_get_string(r, p, c, &cfg->state_dir) && cfg->state_dir[0] != '/')
				brm_report(r, p, "expected an absolute path");
		} else if (!strcmp(k, "workers")) {
			if (brm_conf_get_int(r, p, c, 1, 64, &l))
				cfg->workers = (int)l;
		} else if (!strcmp(k, "processes")) {
			parse_processes(r, c, cfg);
		} else if (!strcmp(k, "scripts_from")) {
			scripts = c;   /* after "processes", which win */
		} else if (!strcmp(k, "exit_with")) {
			get_exit_with(r, p, c, &cfg->exit_with);
		} else if (!strcmp(k, "metrics_listen")) {
			get_metrics_listen(r, p, c, cfg);
		} else if (brm_log_spec_key(k)) {
			brm_log_key(r, p, k, c, &cfg->log);
		} else if (parse_harden_key(r, p, k, c, cfg)) {
			/* socket_mode, socket_group, access, limits */
		} else {
			brm_unknown_key(r, p, k, top_keys);
		}
		free(p);
	}
	free(dup);
	if (scripts) {
		brm_scripts_read(r, scripts, cfg->source, &cfg->procs, &cfg->nprocs);
		qsort(cfg->procs, cfg->nprocs, sizeof(*cfg->procs), spec_cmp);
	}
	if (cfg->nprocs > (size_t)cfg->limits.max_processes)
		brm_report(r, "limits.max_processes", "is %d but %zu processes are configured",
			   cfg->limits.max_processes, cfg->nprocs);
	check_name_lengths(r, cJSON_GetObjectItemCaseSensitive(root, "processes"), cfg);
}

static void report_orch(void *ctx, const char *path, const char *msg)
{
	brm_report(ctx, path, "%s", msg);
}

int brm_config_parse(const char *text, size_t len, const char *source,
		     struct brm_config **out, char **err)
{
	struct brm_report r = { BRM_BUF_INIT, source ? source : "<config>", 0 };
	struct brm_config *cfg;
	const char *nul;
	unsigned line, col;
	cJSON *root = NULL;
	char *copy;

	*out = NULL;
	*err = NULL;
	if (len > MAX_CONFIG_BYTES) {
		brm_report(&r, NULL, "larger than 4 MiB");
		goto out_fail;
	}
	copy = brm_xmalloc(len + 1);
	memcpy(copy, text, len);
	copy[len] = '\0';
	nul = memchr(copy, '\0', len);
	if (nul) {
		line_col(copy, (size_t)(nul - copy), &line, &col);
		brm_report(&r, NULL, "contains a NUL byte at line %u, column %u", line, col);
	} else if (strip_comments(&r, copy, len)) {
		root = parse_json(&r, copy, len);
	}
	free(copy);
	if (!root)
		goto out_fail;

	cfg = brm_config_default();
	free(cfg->source);
	cfg->source = brm_xstrdup(r.source);
	parse_top(&r, root, cfg);
	cJSON_Delete(root);
	brm_orch_validate(cfg->procs, cfg->nprocs, report_orch, &r);
	if (r.n) {
		brm_config_destroy(cfg);
		goto out_fail;
	}
	brm_buf_finish(&r.buf);
	*out = cfg;
	return 0;

out_fail:
	*err = brm_report_finish(&r);
	return -EINVAL;
}

int brm_config_load(const char *path, struct brm_config **out, char **err)
{
	struct brm_buf b = BRM_BUF_INIT;
	ssize_t n;
	int fd, ret;

	*out = NULL;
	*err = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		goto out_read_error;
	}
	for (;;) {
		brm_buf_grow(&b, 64 * 1024);
		n = read(fd, b.p + b.len, b.cap - b.len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			close(fd);
			goto out_read_error;
		}
		if (n == 0)
			break;
		b.len += (size_t)n;
		if (b.len > MAX_CONFIG_BYTES) {
			close(fd);
			brm_buf_finish(&b);
			*err = brm_xasprintf("cannot read config '%s': larger than 4 MiB", path);
			return -EFBIG;
		}
	}
	close(fd);
	ret = brm_config_parse(b.p, b.len, path, out, err);
	brm_buf_finish(&b);
	return ret;

out_read_error:
	brm_buf_finish(&b);
	*err = brm_xasprintf("cannot read config '%s': %s", path, strerror(-ret));
	return ret;
}

struct brm_config *brm_config_default(void)
{
	struct brm_config *cfg = brm_xcalloc(1, sizeof(*cfg));

	cfg->source = brm_xstrdup("<default>");
	cfg->workers = 4;
	cfg->socket_mode = 0600;
	cfg->limits = (struct brm_limits)BRM_LIMITS_DEFAULT;
	return cfg;
}

void brm_config_destroy(struct brm_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->nprocs; i++)
		brm_spec_destroy(cfg->procs[i]);
	free(cfg->procs);
	brm_log_spec_destroy(cfg->log);
	free(cfg->socket);
	free(cfg->state_dir);
	free(cfg->socket_group);
	free(cfg->metrics_listen);
	free(cfg->metrics_host);
	brm_strv_free(cfg->access.users);
	brm_strv_free(cfg->access.groups);
	brm_strv_free(cfg->access.reader_users);
	brm_strv_free(cfg->access.reader_groups);
	free(cfg->source);
	free(cfg);
}
