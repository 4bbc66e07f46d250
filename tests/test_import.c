/*
 * test_import.c — `brummctl import` on configs like those people have: a
 * supervisord.conf (celery with numprocs and a padded process_name, gunicorn
 * with environment, directory and user, nginx with autorestart=unexpected),
 * a pm2 ecosystem.config.js (comments, single quotes, trailing commas, env
 * blocks) and a Procfile. Each is converted by the real bin/brummctl, the
 * output checked key by key and passed through `brummd --check-config`;
 * the notes on stderr name file, line and setting; garbage is exit 1 with
 * its line; -o never overwrites without --force.
 */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "lib/buf.h"
#include "lib/util.h"
#include "tests/harness.h"
#include "tests/suite.h"

static char dir[64];

static void put(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static char *slurp(const char *name)
{
	char path[256];
	char *s;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	s = brmh_read_file(path);
	return s ? s : strdup("");
}

/*
 * Run `brummctl import ARGS` in the scratch directory; its stdout and
 * stderr into *out and *err (caller frees); returns the exit code.
 */
static int import(char **out, char **err, const char *args)
{
	char *cmd = brm_xasprintf("cd '%s' && '%s' import %s >out.txt 2>err.txt", dir,
				  brmh_bin("brummctl"), args);
	int st = system(cmd);

	free(cmd);
	*out = slurp("out.txt");
	*err = slurp("err.txt");
	ck_assert_msg(WIFEXITED(st), "brummctl import %s did not exit", args);
	return WEXITSTATUS(st);
}

/* brummd --check-config on @text (written to a file): its exit code. */
static int check_config(const char *text, char **report)
{
	char *cmd;
	int st;

	put("converted.json", text);
	cmd = brm_xasprintf("cd '%s' && '%s' --check-config converted.json >check.txt 2>&1", dir,
			    brmh_bin("brummd"));
	st = system(cmd);
	free(cmd);
	*report = slurp("check.txt");
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* @text without its // comments (outside strings), parsed. */
static cJSON *parse_jsonc(const char *text)
{
	struct brm_buf b = BRM_BUF_INIT;
	bool in_str = false;
	cJSON *j;

	brm_buf_adds(&b, "");
	for (const char *p = text; *p; p++) {
		if (in_str) {
			if (*p == '\\' && p[1])
				brm_buf_addc(&b, *p++);
			else if (*p == '"')
				in_str = false;
		} else if (*p == '"') {
			in_str = true;
		} else if (p[0] == '/' && p[1] == '/') {
			p += strcspn(p, "\n");
			if (!*p)
				break;
		}
		brm_buf_addc(&b, *p);
	}
	j = cJSON_Parse(b.p);
	ck_assert_msg(j != NULL, "output is not JSON with comments:\n%s", text);
	brm_buf_finish(&b);
	return j;
}

static const cJSON *proc(const cJSON *conf, const char *name)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(conf, "processes"), name);

	ck_assert_msg(cJSON_IsObject(p), "no process '%s'", name);
	return p;
}

/* The JSON text of @key of process @name ("null" when absent). */
static const char *val(const cJSON *conf, const char *name, const char *key)
{
	static char buf[4][1024];
	static int n;
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(proc(conf, name), key);
	char *s = v ? cJSON_PrintUnformatted(v) : NULL;
	char *out = buf[n++ % 4];

	snprintf(out, sizeof(buf[0]), "%s", s ? s : "null");
	free(s);
	return out;
}

static void has(const char *text, const char *needle)
{
	ck_assert_msg(strstr(text, needle) != NULL, "'%s' not in:\n%s", needle, text);
}

static const char supervisord_conf[] =
	"; supervisor config file, as apt installs it plus conf.d\n"
	"[unix_http_server]\n"
	"file=/var/run/supervisor.sock   ; (the path to the socket file)\n"
	"chmod=0700\n"
	"\n"
	"[supervisord]\n"
	"logfile=/var/log/supervisor/supervisord.log\n"
	"pidfile=/var/run/supervisord.pid\n"
	"\n"
	"[program:celery]\n"                                                    /* 10 */
	"command=/srv/app/venv/bin/celery -A proj worker --loglevel=INFO"
	" -n worker%(process_num)02d@%%h\n"
	"process_name=%(program_name)s_%(process_num)02d\n"
	"numprocs=4\n"
	"directory=/srv/app\n"
	"user=nobody\n"
	"autostart=true\n"
	"autorestart=true\n"
	"startsecs=10\n"
	"stopwaitsecs=600\n"                                                    /* 19 */
	"stopasgroup=true\n"
	"stdout_logfile=/var/log/celery/%(program_name)s_%(process_num)d.log\n"
	"redirect_stderr=true\n"
	"\n"
	"[program:gunicorn]\n"                                                  /* 24 */
	"command=/srv/app/venv/bin/gunicorn app.wsgi:application --bind 127.0.0.1:8000"
	" --workers 3 --access-logformat '%%(h)s %%(r)s'\n"
	"directory=%(here)s\n"
	"user=www-data\n"
	"environment=DJANGO_SETTINGS_MODULE=\"app.settings.prod\",LANG=en_US.UTF-8,\n"
	"    SECRET=\"a,b c\",HOME=%(ENV_HOME)s\n"
	"autostart=true\n"                                                      /* 30 */
	"autorestart=true\n"
	"startretries=5\n"
	"stopsignal=QUIT\n"
	"stdout_logfile=/var/log/gunicorn/out.log\n"
	"stdout_logfile_maxbytes=50MB\n"
	"stdout_logfile_backups=10\n"
	"stderr_logfile=/var/log/gunicorn/err.log\n"                            /* 37 */
	"priority=10\n"                                                         /* 38 */
	"\n"
	"[program:nginx]\n"                                                     /* 40 */
	"command=/usr/sbin/nginx -g \"daemon off;\"\n"
	"autorestart=unexpected\n"
	"exitcodes=0,2\n"                                                       /* 43 */
	"stopsignal=QUIT\n"
	"\n"
	"[program:report]\n"
	"command=/usr/bin/env REPORT_DIR=%(ENV_HOME)s/reports make report | tee -a /tmp/r.log\n"
	"autostart=false\n"
	"\n"
	"[group:web]\n"                                                         /* 50 */
	"programs=gunicorn,nginx\n"
	"\n"
	"[include]\n"                                                           /* 53 */
	"files = /etc/supervisor/conf.d/*.conf\n"
	"\n"
	"[program:cron-watch]\n"
	"command=tail -F /var/log/syslog | grep --line-buffered CRON\n"
	"\n"
	"[program:quoted]\n"                                                   /* 59 */
	"command=sh -c 'exec worker --home %(ENV_HOME)s'\n";

START_TEST(supervisord_programs_become_processes)
{
	char *out, *err, *report, *here;
	cJSON *conf;

	put("supervisord.conf", supervisord_conf);
	ck_assert_int_eq(import(&out, &err, "supervisord.conf"), 0);
	has(out, "// Converted by 'brummctl import' from the supervisord config 'supervisord.conf'");
	conf = parse_jsonc(out);

	/* celery: numprocs=4 is 4 instances, %(process_num) is {instance} */
	ck_assert_str_eq(val(conf, "celery", "instances"), "4");
	ck_assert_str_eq(val(conf, "celery", "cmd"),
			 "[\"/srv/app/venv/bin/celery\",\"-A\",\"proj\",\"worker\","
			 "\"--loglevel=INFO\",\"-n\",\"worker{instance}@%h\"]");
	ck_assert_str_eq(val(conf, "celery", "cwd"), "\"/srv/app\"");
	ck_assert_str_eq(val(conf, "celery", "user"), "\"nobody\"");
	ck_assert_str_eq(val(conf, "celery", "restart"), "\"always\"");
	ck_assert_str_eq(val(conf, "celery", "start_secs"), "10");
	ck_assert_str_eq(val(conf, "celery", "stop_timeout_secs"), "600");
	ck_assert_str_eq(val(conf, "celery", "autostart"), "true");
	ck_assert_str_eq(val(conf, "celery", "log_file"), "\"/var/log/celery/celery_{instance}.log\"");
	has(out, "copies celery:0 .. celery:3; the zero padding");

	/* gunicorn: environment with quotes and a comma inside them */
	ck_assert_str_eq(val(conf, "gunicorn", "cmd"),
			 "[\"/srv/app/venv/bin/gunicorn\",\"app.wsgi:application\",\"--bind\","
			 "\"127.0.0.1:8000\",\"--workers\",\"3\",\"--access-logformat\","
			 "\"%(h)s %(r)s\"]");
	ck_assert_str_eq(val(conf, "gunicorn", "env"),
			 "{\"DJANGO_SETTINGS_MODULE\":\"app.settings.prod\",\"LANG\":\"en_US.UTF-8\","
			 "\"SECRET\":\"a,b c\"}");
	here = realpath(dir, NULL);
	ck_assert_str_eq(val(conf, "gunicorn", "cwd"), brmh_fmt("\"%s\"", here));
	free(here);
	ck_assert_str_eq(val(conf, "gunicorn", "user"), "\"www-data\"");
	ck_assert_str_eq(val(conf, "gunicorn", "start_retries"), "5");
	ck_assert_str_eq(val(conf, "gunicorn", "stop_signal"), "\"QUIT\"");
	ck_assert_str_eq(val(conf, "gunicorn", "log_file"), "\"/var/log/gunicorn/out.log\"");
	ck_assert_str_eq(val(conf, "gunicorn", "log_max_bytes"), "52428800");
	ck_assert_str_eq(val(conf, "gunicorn", "log_keep"), "10");

	/* nginx: unexpected exits only; a quoted argument stays one word */
	ck_assert_str_eq(val(conf, "nginx", "restart"), "\"on-failure\"");
	ck_assert_str_eq(val(conf, "nginx", "cmd"), "[\"/usr/sbin/nginx\",\"-g\",\"daemon off;\"]");
	ck_assert_str_eq(val(conf, "nginx", "autostart"), "null");

	/* a pipe and an environment variable need the shell */
	ck_assert_str_eq(val(conf, "report", "shell"), "true");
	ck_assert_str_eq(val(conf, "report", "cmd"),
			 "\"/usr/bin/env REPORT_DIR=${HOME}/reports make report | tee -a /tmp/r.log\"");
	ck_assert_str_eq(val(conf, "report", "autostart"), "false");
	ck_assert_str_eq(val(conf, "cron-watch", "cmd"),
			 "\"tail -F /var/log/syslog | grep --line-buffered CRON\"");
	ck_assert_str_eq(val(conf, "cron-watch", "shell"), "true");
	/* in single quotes the shell would not expand ${HOME}: not converted */
	has(err, "supervisord.conf:60: [program:quoted] command=: not converted (%(ENV_HOME)s"
	    " in single quotes cannot be expressed)");
	ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(conf, "processes"), "quoted"));

	/* what was not converted: file, line, section, setting, why */
	has(err, "supervisord.conf:38: [program:gunicorn] priority=10: not converted (brummd starts"
	    " processes in dependency order; see \"depends_on\")\n");
	has(err, "supervisord.conf:43: [program:nginx] exitcodes=0,2: not converted");
	has(err, "supervisord.conf:37: [program:gunicorn] stderr_logfile=/var/log/gunicorn/err.log:"
	    " not converted");
	has(err, "supervisord.conf:28: [program:gunicorn] environment HOME=%(ENV_HOME)s: not"
	    " converted (%(ENV_HOME)s cannot be expressed");
	has(err, "supervisord.conf:12: [program:celery] process_name=");
	has(err, "supervisord.conf:2: [unix_http_server] section not converted");
	has(err, "supervisord.conf:6: [supervisord] section not converted");
	has(err, "supervisord.conf:50: [group:web] section not converted");
	has(err, "supervisord.conf:53: [include] section not converted");
	ck_assert_ptr_null(strstr(err, "stopasgroup"));

	ck_assert_msg(check_config(out, &report) == 0, "check-config refused it:\n%s\n%s",
		      report, out);
	has(report, "ok, 8 processes");
	cJSON_Delete(conf);
	free(report);
	free(out);
	free(err);
}
END_TEST

/* Values supervisord would refuse or brummd cannot take are notes, and the
 * rest still converts into a config brummd accepts. */
START_TEST(bad_values_are_notes_and_the_rest_converts)
{
	char *out, *err, *report;
	cJSON *conf;

	put("odd.conf",
	    "[program:a]\n"
	    "command=./run.sh\n"
	    "stopsignal=FOO\n"
	    "startsecs=abc\n"
	    "stdout_logfile=AUTO\n"
	    "autostart=maybe\n"
	    "environment==x,B=2\n"
	    "startretries=7\n");
	put("odd.config.js", "module.exports = {apps: [{name: 'w', script: 'w.sh',"
	    " env: {'': 'x', 'A=B': 'y', OK: true}}]}\n");
	ck_assert_int_eq(import(&out, &err, "odd.conf"), 0);
	has(err, "odd.conf:3: [program:a] stopsignal=FOO: not converted (not a signal name)\n");
	has(err, "odd.conf:4: [program:a] startsecs=abc: not converted (expected a number of"
	    " seconds)\n");
	has(err, "odd.conf:5: [program:a] stdout_logfile=AUTO: not converted");
	has(err, "odd.conf:6: [program:a] autostart=maybe: not converted (expected true or false)");
	has(err, "odd.conf:7: [program:a] environment =x: not converted (no name)");
	conf = parse_jsonc(out);
	ck_assert_str_eq(val(conf, "a", "env"), "{\"B\":\"2\"}");
	ck_assert_str_eq(val(conf, "a", "start_retries"), "7");
	ck_assert_str_eq(val(conf, "a", "stop_signal"), "null");
	ck_assert_msg(check_config(out, &report) == 0, "check-config refused it:\n%s", report);
	cJSON_Delete(conf);
	free(report);
	free(out);
	free(err);

	ck_assert_int_eq(import(&out, &err, "odd.config.js"), 0);
	has(err, "odd.config.js:1: apps[0] (w) env.A=B: not converted (not a variable name)");
	conf = parse_jsonc(out);
	ck_assert_str_eq(val(conf, "w", "cmd"), "[\"bash\",\"w.sh\"]");
	ck_assert_str_eq(val(conf, "w", "env"), "{\"OK\":\"true\"}");
	ck_assert_msg(check_config(out, &report) == 0, "check-config refused it:\n%s", report);
	cJSON_Delete(conf);
	free(report);
	free(out);
	free(err);
}
END_TEST

static const char pm2_js[] =
	"// pm2 ecosystem file\n"
	"/* generated by pm2 init, then edited */\n"
	"module.exports = {\n"
	"  apps: [\n"
	"    {\n"                                                               /* 5 */
	"      name: 'api',\n"
	"      script: './dist/server.js',\n"
	"      args: '--port 3000 --title \"my api\"',\n"
	"      instances: 4,\n"
	"      exec_mode: 'cluster', // use all cores\n"                        /* 10 */
	"      env: {\n"
	"        NODE_ENV: 'development',\n"
	"        PORT: 3000,\n"
	"        'API_URL': \"http://localhost:3000/{v}\",\n"
	"      },\n"
	"      env_production: {\n"                                             /* 16 */
	"        NODE_ENV: \"production\",\n"
	"      },\n"
	"      max_restarts: 10,\n"
	"      min_uptime: '5s',\n"
	"      restart_delay: 2000,\n"
	"      kill_timeout: 3000,\n"
	"      out_file: './logs/api.log',\n"
	"      error_file: './logs/api.log',\n"
	"      watch: ['src'],\n"                                               /* 25 */
	"    },\n"
	"    /* the queue worker */\n"
	"    {\n"                                                               /* 28 */
	"      name: \"queue-worker\",\n"
	"      script: \"worker.py\",\n"
	"      interpreter: '/usr/bin/python3',\n"
	"      cwd: '/srv/worker',\n"
	"      autorestart: false,\n"
	"      instances: 'max',\n"                                             /* 34 */
	"    },\n"
	"  ],\n"
	"};\n";

START_TEST(pm2_ecosystem_js_apps_become_processes)
{
	char *out, *err, *report, *here;
	cJSON *conf;

	put("ecosystem.config.js", pm2_js);
	ck_assert_int_eq(import(&out, &err, "ecosystem.config.js"), 0);
	has(out, "from the pm2 ecosystem file 'ecosystem.config.js'");
	conf = parse_jsonc(out);
	here = realpath(dir, NULL);

	ck_assert_str_eq(val(conf, "api", "cmd"),
			 "[\"node\",\"./dist/server.js\",\"--port\",\"3000\",\"--title\",\"my api\"]");
	ck_assert_str_eq(val(conf, "api", "cwd"), brmh_fmt("\"%s\"", here));
	ck_assert_str_eq(val(conf, "api", "instances"), "4");
	ck_assert_str_eq(val(conf, "api", "env"),
			 "{\"NODE_ENV\":\"development\",\"PORT\":\"3000\","
			 "\"API_URL\":\"http://localhost:3000/{{v}\"}");
	ck_assert_str_eq(val(conf, "api", "restart"), "\"always\"");
	ck_assert_str_eq(val(conf, "api", "start_retries"), "10");
	ck_assert_str_eq(val(conf, "api", "min_uptime_secs"), "5");
	ck_assert_str_eq(val(conf, "api", "backoff_secs"), "2");
	ck_assert_str_eq(val(conf, "api", "stop_timeout_secs"), "3");
	ck_assert_str_eq(val(conf, "api", "log_file"), brmh_fmt("\"%s/logs/api.log\"", here));
	has(out, "\"backoff_secs\": 2,  // restart_delay; brummd doubles it");

	ck_assert_str_eq(val(conf, "queue-worker", "cmd"), "[\"/usr/bin/python3\",\"worker.py\"]");
	ck_assert_str_eq(val(conf, "queue-worker", "cwd"), "\"/srv/worker\"");
	ck_assert_str_eq(val(conf, "queue-worker", "restart"), "\"never\"");
	ck_assert_str_eq(val(conf, "queue-worker", "instances"), "null");

	has(err, "ecosystem.config.js:10: apps[0] (api) exec_mode cluster: not converted");
	has(err, "ecosystem.config.js:16: apps[0] (api) env_production: not converted");
	has(err, "ecosystem.config.js:25: apps[0] (api) watch: not converted");
	has(err, "ecosystem.config.js:34: apps[1] (queue-worker) instances: not converted");
	ck_assert_ptr_null(strstr(err, "error_file"));   /* the same file as out_file */

	ck_assert_msg(check_config(out, &report) == 0, "check-config refused it:\n%s\n%s",
		      report, out);
	free(here);
	cJSON_Delete(conf);
	free(report);
	free(out);
	free(err);
}
END_TEST

/* A JSON ecosystem file, and --from forcing the kind of an unnamed file. */
START_TEST(pm2_json_and_from)
{
	char *out, *err, *report;
	cJSON *conf;

	put("apps.txt", "{\"apps\": [{\"name\": \"web app\", \"script\": \"server\","
	    " \"args\": [\"--port\", 8080], \"autorestart\": true}]}\n");
	ck_assert_int_eq(import(&out, &err, "--from pm2 apps.txt"), 0);
	conf = parse_jsonc(out);
	ck_assert_str_eq(val(conf, "web-app", "cmd"), "[\"server\",\"--port\",\"8080\"]");
	has(out, "was 'web app'");
	ck_assert_msg(check_config(out, &report) == 0, "check-config refused it:\n%s", report);
	cJSON_Delete(conf);
	free(report);
	free(out);
	free(err);
}
END_TEST

START_TEST(procfile_lines_run_by_the_shell)
{
	char *out, *err, *report;
	cJSON *conf;

	put("Procfile",
	    "# processes for foreman\n"
	    "web: bundle exec puma -C config/puma.rb -p $PORT\n"
	    "worker: bundle exec sidekiq -q default -q {mailers}\n"
	    "\n"
	    "release: ./bin/rails db:migrate\r\n");
	ck_assert_int_eq(import(&out, &err, "Procfile"), 0);
	conf = parse_jsonc(out);
	ck_assert_str_eq(val(conf, "web", "cmd"), "\"bundle exec puma -C config/puma.rb -p $PORT\"");
	ck_assert_str_eq(val(conf, "web", "shell"), "true");
	/* a literal {word} is escaped, not taken for a placeholder */
	ck_assert_str_eq(val(conf, "worker", "cmd"),
			 "\"bundle exec sidekiq -q default -q {{mailers}\"");
	ck_assert_str_eq(val(conf, "release", "cmd"), "\"./bin/rails db:migrate\"");
	ck_assert_str_eq(err, "");
	ck_assert_msg(check_config(out, &report) == 0, "check-config refused it:\n%s", report);
	cJSON_Delete(conf);
	free(report);
	free(out);
	free(err);

	put("Procfile.bad", "web: ./server\nthis line has no name\n");
	ck_assert_int_eq(import(&out, &err, "Procfile.bad"), 1);
	has(err, "Procfile.bad:2: expected 'NAME: COMMAND'");
	ck_assert_str_eq(out, "");
	free(out);
	free(err);
}
END_TEST

/* Unusable input: exit 1, the reason and where, and nothing on stdout. */
static void refused(const char *name, const char *args, const char *want)
{
	char *out, *err;

	ck_assert_msg(import(&out, &err, args) == 1, "%s was not refused", name);
	has(err, want);
	ck_assert_str_eq(out, "");
	free(out);
	free(err);
}

START_TEST(garbage_is_refused_with_its_line)
{
	struct brm_buf big = BRM_BUF_INIT;

	put("bin.conf", "[program:x]\ncommand=ls\n\x7f" "ELF\x02\x01\x01");
	refused("binary", "bin.conf", "bin.conf:3:5: binary data (byte 0x02): not a config file");
	put("g.conf", "[program:x]\ncommand=foo\n\nthis is not ini\n");
	refused("not ini", "g.conf", "g.conf:4:1: expected 'key = value' or a [section]");
	put("h.conf", "[program:x\ncommand=foo\n");
	refused("header", "h.conf", "h.conf:1:1: section header without ']'");
	put("code.config.js", "const path = require('path');\nmodule.exports = {\n"
	    "  apps: [{ name: 'x', script: path.join(__dirname, 'a.js') }],\n};\n");
	refused("code", "code.config.js", "code.config.js:3:31: not plain data: 'path' is code");
	put("fn.config.js", "module.exports = {\n  apps: [{ name: 'x', script: 'a.js',\n"
	    "    env() { return {}; } }]\n}\n");
	refused("method", "fn.config.js", "fn.config.js:3:8: not plain data: a method");
	put("unterminated.js", "module.exports = {\n  apps: [{ name: 'x }]\n}\n");
	refused("string", "unterminated.js", "unterminated.js:2:18: string without its closing quote");
	put("nodata.js", "console.log('hello')\n");
	refused("no export", "nodata.js", "not a pm2 ecosystem file");
	put("empty.conf", "; only comments\n");
	refused("empty", "empty.conf", "no processes found");

	/* nesting is bounded: 10,000 brackets fail at the 33rd level */
	brm_buf_adds(&big, "module.exports = {apps:");
	for (int i = 0; i < 10000; i++)
		brm_buf_addc(&big, '[');
	put("deep.js", big.p);
	refused("deep", "deep.js", "deep.js:1:56: nested too deep (more than 32 levels)");

	/* and so is the size */
	brm_buf_reset(&big);
	for (int i = 0; i < 80000; i++)
		brm_buf_adds(&big, "; a comment line of about sixty bytes in a huge file\n");
	put("huge.conf", big.p);
	refused("huge", "huge.conf", "huge.conf: larger than 4 MiB");
	brm_buf_finish(&big);
}
END_TEST

START_TEST(output_file_is_never_overwritten_without_force)
{
	char *out, *err, *file;

	put("Procfile", "web: ./server\n");
	ck_assert_int_eq(import(&out, &err, "-o brummd.json Procfile"), 0);
	ck_assert_str_eq(out, "");
	free(out);
	free(err);
	file = slurp("brummd.json");
	has(file, "\"web\": {");
	free(file);

	put("brummd.json", "{\"processes\": {}}  // mine\n");
	ck_assert_int_eq(import(&out, &err, "-o brummd.json Procfile"), 1);
	has(err, "'brummd.json' exists; not overwriting it without --force");
	free(out);
	free(err);
	file = slurp("brummd.json");
	ck_assert_str_eq(file, "{\"processes\": {}}  // mine\n");
	free(file);

	ck_assert_int_eq(import(&out, &err, "--force -o brummd.json Procfile"), 0);
	free(out);
	free(err);
	file = slurp("brummd.json");
	has(file, "\"web\": {");
	free(file);

	ck_assert_int_eq(import(&out, &err, "--help"), 0);
	has(out, "usage: brummctl import [--from supervisord|procfile|pm2]");
	free(out);
	free(err);

	/* usage errors are exit 2 */
	ck_assert_int_eq(import(&out, &err, ""), 2);
	has(err, "missing FILE");
	free(out);
	free(err);
	ck_assert_int_eq(import(&out, &err, "--from upstart Procfile"), 2);
	has(err, "--from 'upstart': expected supervisord, procfile or pm2");
	free(out);
	free(err);
	ck_assert_int_eq(import(&out, &err, "--force Procfile"), 2);
	free(out);
	free(err);
	ck_assert_int_eq(import(&out, &err, "Procfile other"), 2);
	free(out);
	free(err);
}
END_TEST

Suite *brm_test_suite(void)
{
	const TTest *const tests[] = {
		supervisord_programs_become_processes,
		pm2_ecosystem_js_apps_become_processes,
		pm2_json_and_from,
		bad_values_are_notes_and_the_rest_converts,
		procfile_lines_run_by_the_shell,
		garbage_is_refused_with_its_line,
		output_file_is_never_overwritten_without_force,
		NULL,
	};

	if (!brmh_tmpdir(dir, sizeof(dir), "brmimport")) {
		perror("mkdtemp");
		return NULL;
	}
	return brm_test_one_case("import", "convert", 60, tests);
}
