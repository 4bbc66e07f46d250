/*
 * test_config.c — Check suite for config parsing, daemon/conf/ (config.c,
 * spec.c, values.c, rlimits.c, accessspec.c, limits.c, diag.c): every key
 * parsed right, every kind of mistake reported with its key path and a
 * useful message.
 */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "daemon/conf/config.h"
#include "daemon/conf/logspec.h"
#include "daemon/conf/values.h"
#include "lib/util.h"

#define EPS 1e-9

static struct brm_config *parse_ok(const char *text)
{
	struct brm_config *cfg = NULL;
	char *err = NULL;
	int rc = brm_config_parse(text, strlen(text), "t.json", &cfg, &err);

	ck_assert_msg(rc == 0, "parse failed (%d): %s\ntext: %s", rc,
		      err ? err : "(no message)", text);
	ck_assert_ptr_null(err);
	ck_assert_ptr_nonnull(cfg);
	return cfg;
}

/* Ownership: caller frees the message. */
static char *parse_err(const char *text)
{
	struct brm_config *cfg = NULL;
	char *err = NULL;
	int rc = brm_config_parse(text, strlen(text), "t.json", &cfg, &err);

	ck_assert_msg(rc == -EINVAL, "expected -EINVAL, got %d for: %s", rc, text);
	ck_assert_ptr_null(cfg);
	ck_assert_msg(err && *err, "no message for: %s", text);
	return err;
}

/* A config with one process "web" whose spec body is @body. */
static char *with_proc(const char *body)
{
	return brm_xasprintf("{\"processes\": {\"web\": {%s}}}", body);
}

static struct brm_config *proc_ok(const char *body)
{
	char *text = with_proc(body);
	struct brm_config *cfg = parse_ok(text);

	free(text);
	ck_assert_uint_eq(cfg->nprocs, 1);
	return cfg;
}

static char *proc_err(const char *body)
{
	char *text = with_proc(body);
	char *err = parse_err(text);

	free(text);
	return err;
}

#define ck_assert_has(err, needle) \
	ck_assert_msg(strstr((err), (needle)), "expected '%s' in:\n%s", (needle), (err))

static size_t count_lines(const char *s)
{
	size_t n = 1;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* ---- good configs ------------------------------------------------------- */

static const char full_example[] =
	"{\n"
	"  \"socket\": \"/run/brummd/brummd.sock\",\n"
	"  \"workers\": 8,\n"
	"  \"processes\": {\n"
	"    \"web\": {\n"
	"      \"cmd\": [\"python3\", \"-m\", \"http.server\", \"8080\"],\n"
	"      \"shell\": false,\n"
	"      \"cwd\": \"/srv/app\", \"env\": {\"PORT\": \"8080\", \"MODE\": \"prod\"},\n"
	"      \"autostart\": false,\n"
	"      \"restart\": \"always\",\n"
	"      \"start_secs\": 2,\n"
	"      \"start_retries\": 5,\n"
	"      \"backoff_secs\": 0.5, \"backoff_max_secs\": \"1m\", \"min_uptime_secs\": \"2.5s\",\n"
	"      \"stop_signal\": \"INT\",\n"
	"      \"stop_timeout_secs\": \"1500ms\",\n"
	"      \"user\": \"www-data\", \"group\": \"www-grp\",\n"
	"      \"umask\": \"027\"\n"
	"    }\n"
	"  }\n"
	"}\n";

START_TEST(full_example_every_field)
{
	struct brm_config *cfg = parse_ok(full_example);
	struct brm_proc_spec *s;

	ck_assert_str_eq(cfg->source, "t.json");
	ck_assert_str_eq(cfg->socket, "/run/brummd/brummd.sock");
	ck_assert_int_eq(cfg->workers, 8);
	ck_assert_uint_eq(cfg->nprocs, 1);
	s = cfg->procs[0];
	ck_assert_str_eq(s->name, "web");
	ck_assert_uint_eq(brm_strv_len(s->argv), 4);
	ck_assert_str_eq(s->argv[0], "python3");
	ck_assert_str_eq(s->argv[3], "8080");
	ck_assert_ptr_null(s->argv[4]);
	ck_assert(!s->shell);
	ck_assert_str_eq(s->cwd, "/srv/app");
	ck_assert_uint_eq(brm_strv_len(s->env), 2);
	ck_assert_str_eq(s->env[0], "PORT=8080");
	ck_assert_str_eq(s->env[1], "MODE=prod");
	ck_assert(!s->autostart);
	ck_assert_int_eq(s->restart, BRM_RESTART_ALWAYS);
	ck_assert_double_eq_tol(s->start_secs, 2, EPS);
	ck_assert_uint_eq(s->start_retries, 5);
	ck_assert_double_eq_tol(s->backoff_secs, 0.5, EPS);
	ck_assert_double_eq_tol(s->backoff_max_secs, 60, EPS);
	ck_assert_double_eq_tol(s->min_uptime_secs, 2.5, EPS);
	ck_assert_int_eq(s->stop_signal, SIGINT);
	ck_assert_double_eq_tol(s->stop_timeout_secs, 1.5, EPS);
	ck_assert_str_eq(s->user, "www-data");
	ck_assert_str_eq(s->group, "www-grp");
	ck_assert_int_eq(s->umask, 027);
	brm_config_destroy(cfg);
}
END_TEST

START_TEST(defaults)
{
	struct brm_config *cfg = parse_ok("{}");
	struct brm_proc_spec *s;

	ck_assert_ptr_null(cfg->socket);
	ck_assert_int_eq(cfg->workers, 4);
	ck_assert_uint_eq(cfg->nprocs, 0);
	brm_config_destroy(cfg);

	cfg = proc_ok("\"cmd\": [\"true\"]");
	s = cfg->procs[0];
	ck_assert_str_eq(s->argv[0], "true");
	ck_assert_ptr_null(s->argv[1]);
	ck_assert(!s->shell);
	ck_assert_ptr_null(s->cwd);
	ck_assert_ptr_null(s->env);
	ck_assert(s->autostart);
	ck_assert_int_eq(s->restart, BRM_RESTART_ON_FAILURE);
	ck_assert_double_eq_tol(s->start_secs, 1, EPS);
	ck_assert_uint_eq(s->start_retries, 3);
	ck_assert_double_eq_tol(s->backoff_secs, 0.1, EPS);
	ck_assert_double_eq_tol(s->backoff_max_secs, 30, EPS);
	ck_assert_double_eq_tol(s->min_uptime_secs, 10, EPS);
	ck_assert_int_eq(s->stop_signal, SIGTERM);
	ck_assert_double_eq_tol(s->stop_timeout_secs, 10, EPS);
	ck_assert_ptr_null(s->user);
	ck_assert_ptr_null(s->group);
	ck_assert_int_eq(s->umask, -1);
	brm_config_destroy(cfg);
}
END_TEST

START_TEST(config_default)
{
	struct brm_config *cfg = brm_config_default();

	ck_assert_str_eq(cfg->source, "<default>");
	ck_assert_ptr_null(cfg->socket);
	ck_assert_int_eq(cfg->workers, 4);
	ck_assert_uint_eq(cfg->nprocs, 0);
	brm_config_destroy(cfg);
	brm_config_destroy(NULL);
}
END_TEST

START_TEST(comments_stripped)
{
	struct brm_config *cfg = parse_ok(
		"// brummd config\n"
		"{ /* block\n comment */ \"workers\": 2, // trailing\n"
		"  \"socket\": \"/tmp/a//b/*c*/.sock\",\n"
		"  \"processes\": { \"w\": { \"cmd\": [\"echo\", \"\\\"//\"] } }\n"
		"} // end");

	ck_assert_int_eq(cfg->workers, 2);
	ck_assert_str_eq(cfg->socket, "/tmp/a//b/*c*/.sock");
	ck_assert_str_eq(cfg->procs[0]->argv[1], "\"//");
	brm_config_destroy(cfg);
}
END_TEST

START_TEST(unterminated_comment)
{
	char *err = parse_err("{\n  \"workers\": 2 /* oops\n}");

	ck_assert_has(err, "t.json: unterminated comment starting at line 2, column 16");
	free(err);
}
END_TEST

START_TEST(procs_sorted_by_name)
{
	struct brm_config *cfg = parse_ok(
		"{\"processes\": {\"b\": {\"cmd\": [\"x\"]}, \"a\": {\"cmd\": [\"x\"]},"
		" \"c\": {\"cmd\": [\"x\"]}}}");

	ck_assert_uint_eq(cfg->nprocs, 3);
	ck_assert_str_eq(cfg->procs[0]->name, "a");
	ck_assert_str_eq(cfg->procs[1]->name, "b");
	ck_assert_str_eq(cfg->procs[2]->name, "c");
	brm_config_destroy(cfg);
}
END_TEST

/* ---- durations ---------------------------------------------------------- */

START_TEST(duration_strings)
{
	static const struct {
		const char *s;
		double secs;
	} good[] = {
		{ "250ms", 0.25 }, { "10s", 10 }, { "2m", 120 }, { "1h", 3600 },
		{ "1.5s", 1.5 }, { "0s", 0 }, { ".5s", 0.5 }, { "8760h", 31536000 },
	};
	static const char *const bad[] = {
		"", "10", "10x", "10 s", " 10s", "-1s", "s", "1.s", "1e3s", "nan",
		"inf", "8761h", "0x10s", "10S",
	};
	double v;

	for (size_t i = 0; i < BRM_ARRAY_SIZE(good); i++) {
		v = -1;
		ck_assert_msg(brm_duration_parse(good[i].s, &v) == 0, "'%s' rejected", good[i].s);
		ck_assert_msg(v >= good[i].secs - EPS && v <= good[i].secs + EPS,
			      "'%s' gave %g, expected %g", good[i].s, v, good[i].secs);
	}
	for (size_t i = 0; i < BRM_ARRAY_SIZE(bad); i++)
		ck_assert_msg(brm_duration_parse(bad[i], &v) == -EINVAL, "'%s' accepted", bad[i]);
}
END_TEST

START_TEST(duration_json)
{
	cJSON *v;
	double secs = -1;

	v = cJSON_CreateNumber(2.5);
	ck_assert_int_eq(brm_duration_parse_json(v, &secs), 0);
	ck_assert_double_eq_tol(secs, 2.5, EPS);
	cJSON_Delete(v);
	v = cJSON_CreateNumber(-0.5);
	ck_assert_int_eq(brm_duration_parse_json(v, &secs), -EINVAL);
	cJSON_Delete(v);
	v = cJSON_CreateNumber(1e9);
	ck_assert_int_eq(brm_duration_parse_json(v, &secs), -EINVAL);
	cJSON_Delete(v);
	v = cJSON_CreateString("2m");
	ck_assert_int_eq(brm_duration_parse_json(v, &secs), 0);
	ck_assert_double_eq_tol(secs, 120, EPS);
	cJSON_Delete(v);
	v = cJSON_CreateTrue();
	ck_assert_int_eq(brm_duration_parse_json(v, &secs), -EINVAL);
	cJSON_Delete(v);
}
END_TEST

START_TEST(duration_errors)
{
	char *err;

	err = proc_err("\"cmd\": [\"x\"], \"start_secs\": -1");
	ck_assert_has(err, "t.json: processes.web.start_secs: duration -1 is negative");
	free(err);
	err = proc_err("\"cmd\": [\"x\"], \"stop_timeout_secs\": \"10x\"");
	ck_assert_has(err, "processes.web.stop_timeout_secs: duration \"10x\" has an unknown unit; expected a number of seconds like 5 or 0.5, or a string like \"250ms\"");
	free(err);
	err = proc_err("\"cmd\": [\"x\"], \"backoff_secs\": true");
	ck_assert_has(err, "processes.web.backoff_secs: expected a number of seconds like 5 or 0.5, or a string like \"250ms\", \"10s\", \"2m\" or \"1h\", got a boolean");
	free(err);
	err = proc_err("\"cmd\": [\"x\"], \"start_secs\": 1e9");
	ck_assert_has(err, "processes.web.start_secs: duration 1e+09 is longer than a year");
	free(err);
	err = proc_err("\"cmd\": [\"x\"], \"start_secs\": \"10\"");
	ck_assert_has(err, "processes.web.start_secs: duration \"10\" has no unit");
	free(err);
}
END_TEST

START_TEST(backoff_max_below_backoff)
{
	struct brm_config *cfg;
	char *err;

	err = proc_err("\"cmd\": [\"x\"], \"backoff_secs\": 5, \"backoff_max_secs\": 1");
	ck_assert_has(err, "processes.web.backoff_max_secs: must be at least backoff_secs (5), got 1");
	free(err);
	/* Without a maximum of its own, the maximum follows a long first delay. */
	cfg = proc_ok("\"cmd\": [\"x\"], \"backoff_secs\": \"1m\"");
	ck_assert_double_eq_tol(cfg->procs[0]->backoff_max_secs, 60, EPS);
	brm_config_destroy(cfg);
}
END_TEST

/* ---- unknown keys ------------------------------------------------------- */

START_TEST(log_keys_top_level_and_per_process)
{
	struct brm_config *cfg = parse_ok(
		"{\"log_file\": \"/var/log/b/{name}.log\", \"log_keep\": 2, \"log_max_bytes\": 1000,"
		" \"processes\": {\"a\": {\"cmd\": [\"x\"], \"log_ring_bytes\": 8192,"
		" \"error_patterns\": [\"^E \"]}, \"b\": {\"cmd\": [\"x\"], \"log_file\": \"\"}}}");
	struct brm_log_settings s;

	ck_assert_ptr_nonnull(cfg->log);
	brm_log_settings_resolve(&s, "a", cfg->procs[0]->log, cfg->log);
	ck_assert_str_eq(s.file, "/var/log/b/a.log");
	ck_assert_uint_eq(s.ring_bytes, 8192);
	ck_assert_uint_eq(s.keep, 2);
	ck_assert_uint_eq(s.max_bytes, 1000);
	ck_assert_uint_eq(s.line_max, BRM_LOG_LINE_DEFAULT);
	ck_assert_str_eq(s.error_patterns[0], "^E ");
	ck_assert_ptr_null(s.error_patterns[1]);
	brm_log_settings_finish(&s);
	brm_log_settings_resolve(&s, "b", cfg->procs[1]->log, cfg->log);
	ck_assert_ptr_null(s.file);
	ck_assert_uint_eq(s.ring_bytes, BRM_LOG_RING_DEFAULT);
	ck_assert_str_eq(s.error_patterns[0], brm_default_error_patterns[0]);
	brm_log_settings_finish(&s);
	brm_config_destroy(cfg);
}
END_TEST

START_TEST(log_keys_bad_values)
{
	char *err = parse_err("{\"log_keep\": -1, \"processes\": {\"a\": {\"cmd\": [\"x\"],"
			      " \"error_patterns\": [\"(\"], \"log_file\": 3}}}");

	ck_assert_has(err, "log_keep: expected an integer from 0 to 1000");
	ck_assert_has(err, "processes.a.error_patterns: element 0: not a valid extended regex");
	ck_assert_has(err, "processes.a.log_file: expected a file path");
	free(err);
}
END_TEST

START_TEST(unknown_key_suggestions)
{
	static const struct {
		const char *text;
		const char *needle;
	} cases[] = {
		{ "{\"worker\": 2}", "t.json: worker: unknown key (did you mean \"workers\"?)" },
		{ "{\"sokcet\": \"/a\"}", "t.json: sokcet: unknown key (did you mean \"socket\"?)" },
		{ "{\"proceses\": {}}", "proceses: unknown key (did you mean \"processes\"?)" },
		{ "{\"processes\": {\"web\": {\"cmd\": [\"x\"], \"restrt\": \"never\"}}}",
		  "t.json: processes.web.restrt: unknown key (did you mean \"restart\"?)" },
		{ "{\"processes\": {\"web\": {\"cmd\": [\"x\"], \"stop_sigal\": 9}}}",
		  "processes.web.stop_sigal: unknown key (did you mean \"stop_signal\"?)" },
		{ "{\"processes\": {\"web\": {\"cmd\": [\"x\"], \"backof_max_secs\": 9}}}",
		  "processes.web.backof_max_secs: unknown key (did you mean \"backoff_max_secs\"?)" },
		{ "{\"processes\": {\"web\": {\"cmd\": [\"x\"], \"Autostart\": true}}}",
		  "processes.web.Autostart: unknown key (did you mean \"autostart\"?)" },
		{ "{\"processes\": {\"web\": {\"cmd\": [\"x\"], \"umaks\": \"022\"}}}",
		  "processes.web.umaks: unknown key (did you mean \"umask\"?)" },
		{ "{\"processes\": {\"web\": {\"cmd\": [\"x\"], \"environment\": {}}}}",
		  "processes.web.environment: unknown key (known keys: \"cmd\", \"shell\"" },
		{ "{\"xyzzy\": 1}",
		  "t.json: xyzzy: unknown key (known keys: \"socket\", \"workers\", \"processes\"" },
		{ "{\"a b\\n\": 1}", "t.json: \"a b\\x0a\": unknown key" },
	};

	for (size_t i = 0; i < BRM_ARRAY_SIZE(cases); i++) {
		char *err = parse_err(cases[i].text);

		ck_assert_has(err, cases[i].needle);
		ck_assert_msg(count_lines(err) == 1, "one problem expected:\n%s", err);
		free(err);
	}
}
END_TEST

/* ---- wrong types and impossible values ---------------------------------- */

START_TEST(wrong_types_top)
{
	static const struct {
		const char *text;
		const char *needle;
	} cases[] = {
		{ "{\"socket\": 5}", "t.json: socket: expected a non-empty string, got a number" },
		{ "{\"socket\": \"\"}", "t.json: socket: must not be empty" },
		{ "{\"workers\": \"4\"}", "t.json: workers: expected an integer from 1 to 64, got a string" },
		{ "{\"workers\": 0}", "t.json: workers: expected an integer from 1 to 64, got 0" },
		{ "{\"workers\": 65}", "workers: expected an integer from 1 to 64, got 65" },
		{ "{\"workers\": 2.5}", "workers: expected an integer from 1 to 64, got 2.5" },
		{ "{\"processes\": []}", "t.json: processes: expected an object of process specs by name, got an array" },
		{ "{\"processes\": {\"web\": [\"ls\"]}}", "t.json: processes.web: expected an object, got an array" },
	};

	for (size_t i = 0; i < BRM_ARRAY_SIZE(cases); i++) {
		char *err = parse_err(cases[i].text);

		ck_assert_has(err, cases[i].needle);
		free(err);
	}
}
END_TEST

START_TEST(socket_path_length)
{
	char path[109], *text, *err;
	struct brm_config *cfg;

	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	path[107] = '\0';
	text = brm_xasprintf("{\"socket\": \"%s\"}", path);
	cfg = parse_ok(text);
	ck_assert_uint_eq(strlen(cfg->socket), 107);
	brm_config_destroy(cfg);
	free(text);

	path[107] = 'a';
	path[108] = '\0';
	text = brm_xasprintf("{\"socket\": \"%s\"}", path);
	err = parse_err(text);
	ck_assert_has(err, "t.json: socket: longer than 107 bytes, the limit for a unix socket path");
	free(err);
	free(text);
}
END_TEST

START_TEST(wrong_types_spec)
{
	static const struct {
		const char *body;
		const char *needle;
	} cases[] = {
		{ "\"cmd\": 5", "processes.web.cmd: expected an array of strings, got a number" },
		{ "\"cmd\": [\"ls\", 1]", "processes.web.cmd: element 1: expected a string, got a number" },
		{ "\"cmd\": [\"\"]", "processes.web.cmd: element 0: the program must not be empty" },
		{ "\"cmd\": []", "processes.web.cmd: must not be empty; give at least the program to run" },
		{ "\"shell\": \"yes\", \"cmd\": [\"x\"]", "processes.web.shell: expected true or false, got a string" },
		{ "\"cmd\": [\"x\"], \"cwd\": 1", "processes.web.cwd: expected a non-empty string, got a number" },
		{ "\"cmd\": [\"x\"], \"cwd\": \"\"", "processes.web.cwd: must not be empty" },
		{ "\"cmd\": [\"x\"], \"env\": []", "processes.web.env: expected an object of strings, got an array" },
		{ "\"cmd\": [\"x\"], \"env\": {\"PORT\": 8080}", "processes.web.env.PORT: expected a string, got a number" },
		{ "\"cmd\": [\"x\"], \"env\": {\"A=B\": \"x\"}", "processes.web.env.\"A=B\": variable name must not contain '='" },
		{ "\"cmd\": [\"x\"], \"env\": {\"\": \"x\"}", "processes.web.env.\"\": variable name must not be empty" },
		{ "\"cmd\": [\"x\"], \"autostart\": 1", "processes.web.autostart: expected true or false, got a number" },
		{ "\"cmd\": [\"x\"], \"restart\": \"sometimes\"",
		  "processes.web.restart: expected one of \"always\", \"on-failure\", \"never\", got \"sometimes\"" },
		{ "\"cmd\": [\"x\"], \"restart\": false",
		  "processes.web.restart: expected one of \"always\", \"on-failure\", \"never\", got a boolean" },
		{ "\"cmd\": [\"x\"], \"start_retries\": -1", "processes.web.start_retries: expected an integer from 0 to 1000, got -1" },
		{ "\"cmd\": [\"x\"], \"start_retries\": 1001", "processes.web.start_retries: expected an integer from 0 to 1000, got 1001" },
		{ "\"cmd\": [\"x\"], \"start_retries\": \"3\"", "processes.web.start_retries: expected an integer from 0 to 1000, got a string" },
		{ "\"cmd\": [\"x\"], \"stop_signal\": true", "processes.web.stop_signal: expected a signal name like \"TERM\" or a number, got a boolean" },
		{ "\"cmd\": [\"x\"], \"stop_signal\": \"FOO\"", "processes.web.stop_signal: unknown signal \"FOO\"; use a name like \"TERM\"" },
		{ "\"cmd\": [\"x\"], \"stop_signal\": 0", "processes.web.stop_signal: expected a signal number from 1 to 64, got 0" },
		{ "\"cmd\": [\"x\"], \"stop_signal\": 65", "processes.web.stop_signal: expected a signal number from 1 to 64, got 65" },
		{ "\"cmd\": [\"x\"], \"stop_timeout_secs\": null", "processes.web.stop_timeout_secs: expected a number of seconds like 5 or 0.5, or a string like \"250ms\", \"10s\", \"2m\" or \"1h\", got null" },
		{ "\"cmd\": [\"x\"], \"user\": \"\"", "processes.web.user: must not be empty" },
		{ "\"cmd\": [\"x\"], \"user\": 33", "processes.web.user: expected a non-empty string, got a number" },
		{ "\"cmd\": [\"x\"], \"group\": []", "processes.web.group: expected a non-empty string, got an array" },
		{ "\"cmd\": [\"x\"], \"umask\": \"999\"", "processes.web.umask: expected an octal string from \"000\" to \"0777\", like \"022\", got \"999\"" },
		{ "\"cmd\": [\"x\"], \"umask\": \"0o22\"", "processes.web.umask: expected an octal string" },
		{ "\"cmd\": [\"x\"], \"umask\": \"1777\"", "processes.web.umask: expected an octal string" },
		{ "\"cmd\": [\"x\"], \"umask\": \"\"", "processes.web.umask: expected an octal string" },
		{ "\"cmd\": [\"x\"], \"umask\": \"00022\"", "processes.web.umask: expected an octal string" },
		{ "\"cmd\": [\"x\"], \"umask\": 512", "processes.web.umask: expected an integer from 0 to 511 or an octal string like \"022\", got 512" },
		{ "\"cmd\": [\"x\"], \"umask\": true", "processes.web.umask: expected an octal string like \"022\", got a boolean" },
		{ "\"shell\": true", "t.json: processes.web: missing \"cmd\"" },
	};

	for (size_t i = 0; i < BRM_ARRAY_SIZE(cases); i++) {
		char *err = proc_err(cases[i].body);

		ck_assert_has(err, cases[i].needle);
		ck_assert_msg(count_lines(err) == 1, "one problem expected:\n%s", err);
		free(err);
	}
}
END_TEST

/* ---- duplicates and names ----------------------------------------------- */

START_TEST(duplicate_process_names)
{
	char *err = parse_err(
		"{\"processes\": {\"web\": {\"cmd\": [\"a\"]}, \"db\": {\"cmd\": [\"b\"]},"
		" \"web\": {\"cmd\": [\"c\"]}}}");

	ck_assert_has(err, "t.json: processes.web: duplicate process name");
	ck_assert_msg(count_lines(err) == 1, "one problem expected:\n%s", err);
	free(err);
}
END_TEST

START_TEST(duplicate_keys)
{
	char *err;

	err = parse_err("{\"workers\": 2, \"socket\": \"/a\", \"workers\": 3}");
	ck_assert_has(err, "t.json: workers: duplicate key");
	ck_assert_msg(count_lines(err) == 1, "one problem expected:\n%s", err);
	free(err);
	err = proc_err("\"cmd\": [\"x\"], \"restart\": \"never\", \"restart\": \"always\"");
	ck_assert_has(err, "t.json: processes.web.restart: duplicate key");
	free(err);
	err = proc_err("\"cmd\": [\"x\"], \"env\": {\"A\": \"1\", \"B\": \"2\", \"A\": \"3\"}");
	ck_assert_has(err, "t.json: processes.web.env.A: duplicate key");
	free(err);
	/* Keys differing in case are different keys. */
	err = proc_err("\"cmd\": [\"x\"], \"env\": {\"A\": \"1\", \"a\": \"2\"}, \"cwd\": 1");
	ck_assert_msg(!strstr(err, "duplicate"), "case-insensitive duplicate:\n%s", err);
	free(err);
}
END_TEST

START_TEST(process_names)
{
	static const char *const bad[] = {
		".hidden", "-x", "a b", "",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", /* 65 */
	};
	struct brm_config *cfg;
	char *text, *err;

	for (size_t i = 0; i < BRM_ARRAY_SIZE(bad); i++) {
		text = brm_xasprintf("{\"processes\": {\"%s\": {\"cmd\": [\"x\"]}}}", bad[i]);
		err = parse_err(text);
		ck_assert_has(err, ": invalid process name: use 1 to 64 letters, digits or '.', '_', ':', '@', '-', not starting with '.' or '-'");
		ck_assert_has(err, "t.json: processes.");
		free(err);
		free(text);
	}
	/* The spec of a badly named process is still checked. */
	err = parse_err("{\"processes\": {\"a b\": {\"cmd\": [\"x\"], \"restrat\": 1}}}");
	ck_assert_has(err, "t.json: processes.\"a b\": invalid process name");
	ck_assert_has(err, "t.json: processes.\"a b\".restrat: unknown key (did you mean \"restart\"?)");
	free(err);

	cfg = parse_ok("{\"processes\": {\"a.b:c@d-e_F9\": {\"cmd\": [\"x\"]}}}");
	ck_assert_str_eq(cfg->procs[0]->name, "a.b:c@d-e_F9");
	brm_config_destroy(cfg);
}
END_TEST

/* ---- cmd, umask, signals ------------------------------------------------ */

START_TEST(shell_string_vs_array)
{
	struct brm_config *cfg;
	char *err;

	err = proc_err("\"cmd\": \"python3 -m http.server\"");
	ck_assert_has(err, "t.json: processes.web.cmd: a string needs \"shell\": true; use an array of arguments");
	free(err);

	/* "shell" after "cmd" counts too. */
	cfg = proc_ok("\"cmd\": \"exec sleep 1 | cat\", \"shell\": true");
	ck_assert(cfg->procs[0]->shell);
	ck_assert_uint_eq(brm_strv_len(cfg->procs[0]->argv), 3);
	ck_assert_str_eq(cfg->procs[0]->argv[0], "/bin/sh");
	ck_assert_str_eq(cfg->procs[0]->argv[1], "-c");
	ck_assert_str_eq(cfg->procs[0]->argv[2], "exec sleep 1 | cat");
	brm_config_destroy(cfg);

	err = proc_err("\"shell\": true, \"cmd\": [\"ls\", \"-l\"]");
	ck_assert_has(err, "processes.web.cmd: with \"shell\": true, expected a string, got an array");
	free(err);
	err = proc_err("\"shell\": true, \"cmd\": \"\"");
	ck_assert_has(err, "processes.web.cmd: must not be empty");
	free(err);
}
END_TEST

START_TEST(umask_forms)
{
	static const struct {
		const char *val;
		int umask;
	} cases[] = {
		{ "\"022\"", 022 }, { "\"0022\"", 022 }, { "18", 022 }, { "\"0\"", 0 },
		{ "\"777\"", 0777 }, { "0", 0 }, { "511", 0777 }, { "\"0777\"", 0777 },
	};

	for (size_t i = 0; i < BRM_ARRAY_SIZE(cases); i++) {
		char *body = brm_xasprintf("\"cmd\": [\"x\"], \"umask\": %s", cases[i].val);
		struct brm_config *cfg = proc_ok(body);

		ck_assert_msg(cfg->procs[0]->umask == cases[i].umask, "umask %s gave %o",
			      cases[i].val, (unsigned)cfg->procs[0]->umask);
		brm_config_destroy(cfg);
		free(body);
	}
}
END_TEST

START_TEST(signal_names_and_numbers)
{
	static const struct {
		const char *val;
		int sig;
	} cases[] = {
		{ "\"TERM\"", SIGTERM }, { "\"SIGKILL\"", SIGKILL }, { "\"hup\"", SIGHUP },
		{ "\"sigusr1\"", SIGUSR1 }, { "9", SIGKILL }, { "\"15\"", SIGTERM }, { "64", 64 },
	};

	for (size_t i = 0; i < BRM_ARRAY_SIZE(cases); i++) {
		char *body = brm_xasprintf("\"cmd\": [\"x\"], \"stop_signal\": %s", cases[i].val);
		struct brm_config *cfg = proc_ok(body);

		ck_assert_msg(cfg->procs[0]->stop_signal == cases[i].sig, "%s gave %d",
			      cases[i].val, cfg->procs[0]->stop_signal);
		brm_config_destroy(cfg);
		free(body);
	}
}
END_TEST

/* ---- all problems at once ----------------------------------------------- */

START_TEST(multiple_errors_reported)
{
	char *err = parse_err(
		"{\"workers\": 0, \"sockt\": \"/a\",\n"
		" \"processes\": {\n"
		"  \"web\": {\"cmd\": \"ls\", \"restart\": \"sometimes\"},\n"
		"  \"db\": {\"start_secs\": \"5 s\"}}}");

	ck_assert_has(err, "t.json: workers: expected an integer from 1 to 64, got 0");
	ck_assert_has(err, "t.json: sockt: unknown key (did you mean \"socket\"?)");
	ck_assert_has(err, "t.json: processes.web.cmd: a string needs \"shell\": true");
	ck_assert_has(err, "t.json: processes.web.restart: expected one of");
	ck_assert_has(err, "t.json: processes.db.start_secs: duration \"5 s\" has an unknown unit");
	ck_assert_has(err, "t.json: processes.db: missing \"cmd\"");
	ck_assert_msg(count_lines(err) == 6, "six lines expected:\n%s", err);
	ck_assert_msg(err[strlen(err) - 1] != '\n', "trailing newline:\n%s", err);
	free(err);
}
END_TEST

START_TEST(too_many_errors_capped)
{
	char *text, *err, *p;
	size_t n = 0, cap = 200 * 16 + 64;

	text = brm_xmalloc(cap);
	n += (size_t)snprintf(text + n, cap - n, "{");
	for (int i = 0; i < 200; i++)
		n += (size_t)snprintf(text + n, cap - n, "%s\"k%d\": 1", i ? "," : "", i);
	snprintf(text + n, cap - n, "}");
	err = parse_err(text);
	ck_assert_msg(count_lines(err) == 101, "%zu lines", count_lines(err));
	p = strrchr(err, '\n');
	ck_assert_str_eq(p + 1, "t.json: 100 more problems not shown");
	free(err);
	free(text);
}
END_TEST

/* ---- not JSON ----------------------------------------------------------- */

START_TEST(not_json)
{
	char *err;

	err = parse_err("{\n  \"workers\": 2,\n  \"socket\" \"/a\"\n}");
	ck_assert_has(err, "t.json: not valid JSON at line 3, column 12, near \"\\\"/a\\\"\\x0a}\"");
	free(err);
	/* Offsets survive comments. */
	err = parse_err("{ /* a\n b */ \"workers\": 2 // c\n ,, }");
	ck_assert_has(err, "t.json: not valid JSON at line 3, column 4, near \" }\"");
	free(err);
	err = parse_err("{\"workers\": 2");
	ck_assert_has(err, "t.json: not valid JSON at line 1, column 14: unexpected end of the text");
	free(err);
	err = parse_err("workers = 2");
	ck_assert_has(err, "t.json: not valid JSON at line 1, column 1, near \"workers = 2\"");
	free(err);
	err = parse_err("  // nothing\n");
	ck_assert_has(err, "t.json: empty, expected a JSON object");
	free(err);
}
END_TEST

START_TEST(trailing_garbage)
{
	char *err;

	err = parse_err("{\"workers\": 2}\n}");
	ck_assert_has(err, "t.json: unexpected text after the JSON object at line 2, column 1, near \"}\"");
	free(err);
	err = parse_err("{} {}");
	ck_assert_has(err, "unexpected text after the JSON object at line 1, column 4");
	free(err);
}
END_TEST

START_TEST(embedded_nul)
{
	static const char text[] = "{\"workers\": 2}\0 junk";
	struct brm_config *cfg = NULL;
	char *err = NULL;

	ck_assert_int_eq(brm_config_parse(text, sizeof(text) - 1, "t.json", &cfg, &err), -EINVAL);
	ck_assert_ptr_null(cfg);
	ck_assert_has(err, "t.json: contains a NUL byte at line 1, column 15");
	free(err);
	/* @len bounds the text: no NUL terminator needed. */
	ck_assert_int_eq(brm_config_parse("{\"workers\": 7}XYZ", 14, "t.json", &cfg, &err), 0);
	ck_assert_int_eq(cfg->workers, 7);
	brm_config_destroy(cfg);
}
END_TEST

START_TEST(top_level_not_object)
{
	static const struct {
		const char *text;
		const char *needle;
	} cases[] = {
		{ "[]", "t.json: expected a JSON object at the top level, got an array" },
		{ "\"x\"", "t.json: expected a JSON object at the top level, got a string" },
		{ "null", "t.json: expected a JSON object at the top level, got null" },
		{ "42", "t.json: expected a JSON object at the top level, got a number" },
	};

	for (size_t i = 0; i < BRM_ARRAY_SIZE(cases); i++) {
		char *err = parse_err(cases[i].text);

		ck_assert_has(err, cases[i].needle);
		free(err);
	}
}
END_TEST

/* ---- files -------------------------------------------------------------- */

static char *write_temp(const char *data, size_t len)
{
	char *path = brm_xstrdup("/tmp/brm-test-config-XXXXXX");
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
	return path;
}

START_TEST(load_missing_file)
{
	struct brm_config *cfg = (struct brm_config *)1;
	char *err = NULL;
	int rc = brm_config_load("/nonexistent/brummd.json", &cfg, &err);

	ck_assert_int_eq(rc, -ENOENT);
	ck_assert_ptr_null(cfg);
	ck_assert_str_eq(err, "cannot read config '/nonexistent/brummd.json': No such file or directory");
	free(err);
}
END_TEST

START_TEST(load_temp_file)
{
	struct brm_config *cfg = NULL;
	char *path, *err = NULL, *needle;

	path = write_temp(full_example, strlen(full_example));
	ck_assert_msg(brm_config_load(path, &cfg, &err) == 0, "load: %s", err);
	ck_assert_str_eq(cfg->source, path);
	ck_assert_int_eq(cfg->workers, 8);
	ck_assert_str_eq(cfg->procs[0]->name, "web");
	brm_config_destroy(cfg);
	unlink(path);
	free(path);

	path = write_temp("{\"workers\": 99}", 15);
	ck_assert_int_eq(brm_config_load(path, &cfg, &err), -EINVAL);
	ck_assert_ptr_null(cfg);
	needle = brm_xasprintf("%s: workers: expected an integer from 1 to 64, got 99", path);
	ck_assert_has(err, needle);
	free(needle);
	free(err);
	unlink(path);
	free(path);
}
END_TEST

START_TEST(load_too_large)
{
	size_t len = (4u << 20) + 1;
	char *big = brm_xmalloc(len), *path, *err = NULL;
	struct brm_config *cfg = NULL;

	memset(big, ' ', len);
	big[0] = '{';
	big[len - 1] = '}';
	path = write_temp(big, len);
	ck_assert_int_eq(brm_config_load(path, &cfg, &err), -EFBIG);
	ck_assert_ptr_null(cfg);
	ck_assert_has(err, "larger than 4 MiB");
	free(err);
	unlink(path);
	free(path);
	free(big);
}
END_TEST

/* ---- brm_spec_parse and friends ----------------------------------------- */

START_TEST(spec_parse_with_prefix)
{
	cJSON *obj = cJSON_Parse("{\"cmd\": [\"sleep\", \"9\"], \"restart\": \"never\"}");
	struct brm_proc_spec *s;
	char *err = (char *)1;

	s = brm_spec_parse(obj, "sleeper", "params.spec", &err);
	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_null(err);
	ck_assert_str_eq(s->name, "sleeper");
	ck_assert_str_eq(s->argv[1], "9");
	ck_assert_int_eq(s->restart, BRM_RESTART_NEVER);
	brm_spec_destroy(s);
	cJSON_Delete(obj);

	obj = cJSON_Parse("{\"cmd\": [\"x\"], \"restart\": \"sometimes\", \"stop_signal\": \"NOPE\"}");
	s = brm_spec_parse(obj, "web", "params.spec", &err);
	ck_assert_ptr_null(s);
	ck_assert_str_eq(err,
		"params.spec.restart: expected one of \"always\", \"on-failure\", \"never\", got \"sometimes\"\n"
		"params.spec.stop_signal: unknown signal \"NOPE\"; use a name like \"TERM\" or \"SIGTERM\", or a number from 1 to 64");
	free(err);

	s = brm_spec_parse(obj, "bad name", "params.spec", &err);
	ck_assert_ptr_null(s);
	ck_assert_has(err, "params.spec: invalid process name \"bad name\"");
	free(err);
	cJSON_Delete(obj);

	obj = cJSON_CreateString("ls");
	s = brm_spec_parse(obj, "web", "params.spec", &err);
	ck_assert_ptr_null(s);
	ck_assert_str_eq(err, "params.spec: expected an object, got a string");
	free(err);
	cJSON_Delete(obj);
}
END_TEST

START_TEST(spec_new_dup_destroy)
{
	struct brm_config *cfg = parse_ok(full_example);
	struct brm_proc_spec *a = cfg->procs[0], *b = brm_spec_dup(a), *n;

	ck_assert_ptr_ne(a->argv, b->argv);
	ck_assert(brm_strv_equal(a->argv, b->argv));
	ck_assert(brm_strv_equal(a->env, b->env));
	ck_assert_ptr_ne(a->cwd, b->cwd);
	ck_assert_str_eq(b->cwd, "/srv/app");
	ck_assert_str_eq(b->user, "www-data");
	ck_assert_str_eq(b->group, "www-grp");
	ck_assert_int_eq(b->umask, 027);
	ck_assert_double_eq_tol(b->backoff_max_secs, 60, EPS);
	brm_config_destroy(cfg);   /* b must not share anything with a */
	ck_assert_str_eq(b->argv[2], "http.server");
	brm_spec_destroy(b);

	n = brm_spec_new("x");
	ck_assert_str_eq(n->name, "x");
	ck_assert_ptr_null(n->argv);
	ck_assert_int_eq(n->umask, -1);
	b = brm_spec_dup(n);
	ck_assert_ptr_null(b->argv);
	ck_assert_ptr_null(b->cwd);
	brm_spec_destroy(b);
	brm_spec_destroy(n);
	brm_spec_destroy(NULL);
}
END_TEST

START_TEST(restart_names)
{
	ck_assert_str_eq(brm_restart_name(BRM_RESTART_ALWAYS), "always");
	ck_assert_str_eq(brm_restart_name(BRM_RESTART_ON_FAILURE), "on-failure");
	ck_assert_str_eq(brm_restart_name(BRM_RESTART_NEVER), "never");
	ck_assert_str_eq(brm_restart_name((enum brm_restart)42), "unknown");
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("parse");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, full_example_every_field);
	tcase_add_test(tc, defaults);
	tcase_add_test(tc, config_default);
	tcase_add_test(tc, comments_stripped);
	tcase_add_test(tc, unterminated_comment);
	tcase_add_test(tc, procs_sorted_by_name);
	tcase_add_test(tc, duration_strings);
	tcase_add_test(tc, duration_json);
	tcase_add_test(tc, duration_errors);
	tcase_add_test(tc, backoff_max_below_backoff);
	tcase_add_test(tc, unknown_key_suggestions);
	tcase_add_test(tc, log_keys_top_level_and_per_process);
	tcase_add_test(tc, log_keys_bad_values);
	tcase_add_test(tc, wrong_types_top);
	tcase_add_test(tc, socket_path_length);
	tcase_add_test(tc, wrong_types_spec);
	tcase_add_test(tc, duplicate_process_names);
	tcase_add_test(tc, duplicate_keys);
	tcase_add_test(tc, process_names);
	tcase_add_test(tc, shell_string_vs_array);
	tcase_add_test(tc, umask_forms);
	tcase_add_test(tc, signal_names_and_numbers);
	tcase_add_test(tc, multiple_errors_reported);
	tcase_add_test(tc, too_many_errors_capped);
	tcase_add_test(tc, not_json);
	tcase_add_test(tc, trailing_garbage);
	tcase_add_test(tc, embedded_nul);
	tcase_add_test(tc, top_level_not_object);
	tcase_add_test(tc, load_missing_file);
	tcase_add_test(tc, load_temp_file);
	tcase_add_test(tc, load_too_large);
	tcase_add_test(tc, spec_parse_with_prefix);
	tcase_add_test(tc, spec_new_dup_destroy);
	tcase_add_test(tc, restart_names);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(config_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
