/*
 * test_conf_features.c — config features end to end, with real children:
 * every problem of a config in one --check-config pass; {name},
 * {instance} and {port} in cmd, env, cwd, log_file and health targets;
 * "port" giving each instance PORT; env_file (re-read at each start, and
 * opened safely); rlimits, nice and oom_score_adj applied before exec.
 *
 * The child (brm-testchild info FILE) writes what it got: environment,
 * working directory, nice value, oom_score_adj and resource limits.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/sup/envfile.h"
#include "lib/util.h"
#include "tests/e2e.h"
#include "tests/harness.h"
#include "tests/suite.h"

static struct brmh H;

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_msg(f != NULL, "cannot write '%s': %s", path, strerror(errno));
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

/* The value of "KEY=" in the info file @text, or NULL. Caller frees. */
static char *info_get(const char *text, const char *key)
{
	size_t kl = strlen(key);

	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (!strncmp(p, key, kl) && p[kl] == '=') {
			const char *v = p + kl + 1;

			return strndup(v, strcspn(v, "\n"));
		}
	}
	return NULL;
}

static long info_pid(const char *text)
{
	char *v = info_get(text, "pid");
	long pid = v ? atol(v) : -1;

	free(v);
	return pid;
}

static void assert_info(const char *text, const char *key, const char *want)
{
	char *got = info_get(text, key);

	ck_assert_msg(got && !strcmp(got, want), "%s: got '%s', want '%s'\n%s", key,
		      got ? got : "(none)", want, text);
	free(got);
}

/* The info file at @path written by the run with pid other than @not_pid. */
static char *wait_info(const char *path, const char *name, long not_pid)
{
	for (int t = 0; t < 300; t++) {
		char *text = brmh_read_file(path);
		char *pid = text ? info_get(text, "pid") : NULL;
		cJSON *s = brmh_status(&H, name);
		long running = s ? brmh_int(s, "pid") : -1;
		bool fresh = pid && atol(pid) != not_pid && atol(pid) == running;

		cJSON_Delete(s);
		free(pid);
		if (fresh)
			return text;
		free(text);
		brmh_sleep_ms(10);
	}
	{
		cJSON *s = brmh_status(&H, name);
		char *st = s ? cJSON_PrintUnformatted(s) : NULL;

		ck_abort_msg("no info file '%s' from the current run of %s (status %s)", path,
			     name, st ? st : "none");
	}
	return NULL;
}

static long pid_of(const char *name)
{
	cJSON *s = brmh_status(&H, name);
	long pid = s ? brmh_int(s, "pid") : -1;

	cJSON_Delete(s);
	return pid;
}

static void call_ok(const char *method, const char *params)
{
	cJSON *r = brmh_call(&H, method, params);
	int code = -1;

	brmh_result(r, &code);
	ck_assert_msg(code == 0, "%s %s failed", method, params ? params : "");
	cJSON_Delete(r);
}

/* Wait until @name's status "error" contains @needle; returns a copy. */
static char *wait_error(const char *name, const char *needle)
{
	char *last = NULL;

	for (int t = 0; t < 300; t++) {
		cJSON *s = brmh_status(&H, name);
		const char *e = s ? brmh_str(s, "error") : NULL;

		free(last);
		last = e ? strdup(e) : NULL;
		cJSON_Delete(s);
		if (last && strstr(last, needle))
			return last;
		brmh_sleep_ms(10);
	}
	ck_abort_msg("%s: error never contained '%s' (last: %s)", name, needle,
		     last ? last : "(none)");
	return NULL;
}

/* ---- check-config ------------------------------------------------------- */

/* Bug: with "instances": "3" only that was reported; five more came after
 * fixing it. Every problem shows in one pass. */
START_TEST(check_config_reports_every_problem)
{
	char dir[64], path[128], cmd[512];
	char *out;
	int st, lines = 0;

	ck_assert_ptr_nonnull(brmh_tmpdir(dir, sizeof(dir), "brmconf"));
	snprintf(path, sizeof(path), "%s/c.json", dir);
	write_file(path,
		"{\"processes\": {\n"
		"  \"web\": {\"cmd\": [\"/bin/app\", \"--port={prot}\"], \"instances\": \"3\",\n"
		"          \"restart\": \"sometimes\",\n"
		"          \"health\": {\"tcp\": \"127.0.0.1:80\", \"interval_secs\": \"5 s\"}},\n"
		"  \"db\": {\"cmd\": [\"/bin/db\"], \"nice\": 40, \"rlimits\": {\"nofiles\": 10}},\n"
		"  \"job\": {\"cmd\": [\"/bin/job\"], \"env_file\": \"relative.env\"}\n"
		"}}\n");
	snprintf(cmd, sizeof(cmd), "'%s' --check-config '%s' > '%s/out' 2>&1",
		 brmh_bin("brummd"), path, dir);
	st = system(cmd);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) != 0, "check-config passed a bad config");
	snprintf(path, sizeof(path), "%s/out", dir);
	out = brmh_read_file(path);
	ck_assert_ptr_nonnull(out);
	for (const char *p = out; *p; p++)
		lines += *p == '\n';
	ck_assert_msg(strstr(out, "processes.web.instances: expected an integer from 1 to 1000,"
			     " got a string"), "%s", out);
	ck_assert_msg(strstr(out, "processes.web.cmd[1]: unknown placeholder {prot}"), "%s", out);
	ck_assert_msg(strstr(out, "processes.web.restart: expected one of"), "%s", out);
	ck_assert_msg(strstr(out, "processes.web.health: interval_secs: duration \"5 s\" has an"
			     " unknown unit; expected a number of seconds like 5 or 0.5, or a"
			     " string like \"250ms\""), "%s", out);
	ck_assert_msg(!strstr(out, "10ms"), "%s", out);
	ck_assert_msg(strstr(out, "processes.db.nice: expected an integer from -20 to 19, got 40"),
		      "%s", out);
	ck_assert_msg(strstr(out, "processes.db.rlimits.nofiles: unknown key (did you mean"
			     " \"nofile\"?)"), "%s", out);
	ck_assert_msg(strstr(out, "processes.job.env_file: expected an absolute path"), "%s", out);
	ck_assert_msg(lines == 7, "expected 7 problems, got %d lines:\n%s", lines, out);
	free(out);
}
END_TEST

/* ---- placeholders and ports --------------------------------------------- */

START_TEST(placeholders_fill_per_instance_values)
{
	char dir[64];
	int port = 21000 + (int)(getpid() % 20000);

	ck_assert_ptr_nonnull(brmh_tmpdir(dir, sizeof(dir), "brmconf"));
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(mkdir(brmh_fmt("%s/%d", dir, i), 0755), 0);
	brmh_check_start(&H,
		"{\"processes\": {"
		" \"web\": {\"cmd\": [\"%s\", \"info\", \"%s/info-{name}\"], \"start_secs\": 0,"
		"   \"instances\": 2, \"port\": %d, \"cwd\": \"%s/{instance}\","
		"   \"env\": {\"WHO\": \"{name}/{instance}/{port}\", \"ESC\": \"{{name} ${HOME} {x y}\"}},"
		" \"lg\": {\"cmd\": [\"%s\", \"print\", \"out\", \"hello {name}\"], \"start_secs\": 0,"
		"   \"instances\": 2, \"log_file\": \"%s/lg-{instance}.log\"},"
		" \"one\": {\"cmd\": [\"%s\", \"info\", \"%s/info-{name}-{port}\"], \"start_secs\": 0,"
		"   \"port\": %d}}}",
		brmh_child(), dir, port, dir, brmh_child(), dir, brmh_child(), dir, port + 10);
	for (int i = 0; i < 2; i++) {
		char name[16], *text, *log = NULL;

		snprintf(name, sizeof(name), "web:%d", i);
		text = wait_info(brmh_fmt("%s/info-web:%d", dir, i), name, 0);
		assert_info(text, "env:PORT", brmh_fmt("%d", port + i));
		assert_info(text, "env:WHO", brmh_fmt("web:%d/%d/%d", i, i, port + i));
		assert_info(text, "env:BRUMMD_INSTANCE", brmh_fmt("%d", i));
		assert_info(text, "env:ESC", "{name} ${HOME} {x y}");
		assert_info(text, "cwd", brmh_fmt("%s/%d", dir, i));
		free(text);

		for (int t = 0; t < 300 && !(log && strstr(log, "hello lg:")); t++) {
			free(log);
			log = brmh_read_file(brmh_fmt("%s/lg-%d.log", dir, i));
			brmh_sleep_ms(10);
		}
		ck_assert_msg(log && strstr(log, brmh_fmt("hello lg:%d", i)),
			      "lg-%d.log: %s", i, log ? log : "(none)");
		free(log);
	}
	{
		char *text = wait_info(brmh_fmt("%s/info-one-%d", dir, port + 10), "one", 0);

		assert_info(text, "env:PORT", brmh_fmt("%d", port + 10));
		ck_assert_msg(!info_get(text, "env:BRUMMD_INSTANCE"), "%s", text);
		free(text);
	}
	brmh_check_stop(&H);
}
END_TEST

/* Every copy probed the same address; {port} gives each its own. Only
 * web:1 listens, on its own port: web:1 healthy, web:0 not. */
START_TEST(health_target_per_instance)
{
	int port = 22000 + (int)((getpid() + 3) % 20000);
	const char *health = NULL;
	cJSON *s = NULL;
	bool ok = false;

	brmh_check_start(&H,
		"{\"processes\": {\"web\": {\"shell\": true, \"start_secs\": 0, \"instances\": 2,"
		" \"port\": %d, \"cmd\": \"[ {instance} = 1 ] && exec %s listen {port};"
		" exec %s sleep 3600\","
		" \"health\": {\"tcp\": \"127.0.0.1:{port}\", \"interval_secs\": 0.05,"
		"   \"retries\": 1}}}}", port, brmh_child(), brmh_child());
	for (int t = 0; t < 300 && !ok; t++) {
		cJSON_Delete(s);
		s = brmh_status(&H, "web:1");
		health = s ? brmh_str(s, "health") : NULL;
		ok = health && !strcmp(health, "healthy");
		if (!ok)
			brmh_sleep_ms(10);
	}
	ck_assert_msg(ok, "web:1 never healthy (health %s)", health ? health : "null");
	cJSON_Delete(s);
	brmh_sleep_ms(200);
	s = brmh_status(&H, "web:0");
	health = s ? brmh_str(s, "health") : NULL;
	ck_assert_msg(health && !strcmp(health, "unhealthy"),
		      "web:0 probed someone else's port: health %s", health ? health : "null");
	cJSON_Delete(s);
	brmh_check_stop(&H);
}
END_TEST

/* An added process fills in {name} and {port} too; {instance} is refused. */
START_TEST(add_fills_in_placeholders)
{
	char dir[64], *text;
	int port = 23000 + (int)((getpid() + 5) % 20000), code;
	const cJSON *res;
	cJSON *r;

	ck_assert_ptr_nonnull(brmh_tmpdir(dir, sizeof(dir), "brmconf"));
	brmh_check_start(&H, "{\"processes\": {}}");
	call_ok("add", brmh_fmt("{\"name\":\"solo\",\"spec\":{\"cmd\":[\"%s\",\"info\","
				 "\"%s/info-{name}\"],\"start_secs\":0,\"port\":%d,"
				 "\"env\":{\"ME\":\"{name}@{port}\"}}}", brmh_child(), dir, port));
	text = wait_info(brmh_fmt("%s/info-solo", dir), "solo", 0);
	assert_info(text, "env:PORT", brmh_fmt("%d", port));
	assert_info(text, "env:ME", brmh_fmt("solo@%d", port));
	free(text);

	r = brmh_call(&H, "add", "{\"name\":\"bad\",\"spec\":{\"cmd\":[\"x\",\"{instance}\","
		      "\"{nope}\"]}}");
	res = brmh_result(r, &code);
	ck_assert_int_eq(code, -32602);
	ck_assert_ptr_null(res);
	{
		char *t = cJSON_PrintUnformatted(r);

		ck_assert_msg(strstr(t, "params.spec.cmd[1]: {instance} needs \\\"instances\\\"") &&
			      strstr(t, "params.spec.cmd[2]: unknown placeholder {nope}"), "%s", t);
		free(t);
	}
	cJSON_Delete(r);
	brmh_check_stop(&H);
}
END_TEST

/* ---- env_file ----------------------------------------------------------- */

/* The syntax's corners, on the parser alone. */
START_TEST(env_file_syntax)
{
	static const struct {
		const char *text, *want;    /* want: the entries joined by '|', or the error */
	} cases[] = {
		{ "A=1\r\nB = 2 \t\n", "A=1|B=2" },
		{ "A=x\\ \\ \n", "A=x  " },                 /* escaped blanks stay */
		{ "A=\"q\" \t\n", "A=q" },
		{ "A=", "A=" },
		{ "A=#not a comment", "A=#not a comment" },
		{ "A=\"\\a\\n\"", "A=\\a\\n" },          /* other escapes are kept */
		{ "A=\"open\n", "env_file 'f' line 1: the double quote is not closed" },
		{ "\n\nA='x' y\n", "env_file 'f' line 3: text after the closing quote: \"y\"" },
		{ "1A=x", "env_file 'f' line 1: invalid variable name \"1A\"" },
		{ "=x", "env_file 'f' line 1: invalid variable name \"\"" },
		{ "A=1\nnothing\n", "env_file 'f' line 2: expected KEY=VALUE, got \"nothing\"" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[256] = "", got[256] = "", **vars = NULL;
		size_t n = 0, o = 0;
		int rc = brm_envfile_parse(cases[i].text, strlen(cases[i].text), "f", &vars, &n,
					   err, sizeof(err));

		for (size_t k = 0; rc == 0 && k < n; k++)
			o += (size_t)snprintf(got + o, sizeof(got) - o, "%s%s", k ? "|" : "",
					      vars[k]);
		if (rc < 0)
			ck_assert_msg(!strncmp(err, cases[i].want, strlen(cases[i].want)),
				      "case %zu: got error '%s', want '%s'", i, err, cases[i].want);
		else
			ck_assert_msg(!strcmp(got, cases[i].want), "case %zu: got '%s', want '%s'",
				      i, got, cases[i].want);
		brm_strv_free(vars);
	}
}
END_TEST

START_TEST(env_file_read_at_each_start)
{
	char dir[64], *text;
	long pid;

	ck_assert_ptr_nonnull(brmh_tmpdir(dir, sizeof(dir), "brmconf"));
	write_file(brmh_fmt("%s/app.env", dir),
		"# a comment\n"
		"  ; another\n"
		"\n"
		"PLAIN = some value  \n"
		"DQ=\"a \\\"quoted\\\" $x\"\n"
		"SQ='single \\n kept'\n"
		"CONT=one \\\n"
		"two\n"
		"MULTI=\"line1\n"
		"line2\"\n"
		"OVER=from-file\n");
	write_file(brmh_fmt("%s/second.env", dir), "PLAIN=second wins\n");
	brmh_check_start(&H,
		"{\"processes\": {\"p\": {\"cmd\": [\"%s\", \"info\", \"%s/info\"],"
		" \"start_secs\": 0, \"start_retries\": 0,"
		" \"env_file\": [\"%s/app.env\", \"-%s/missing.env\", \"%s/second.env\"],"
		" \"env\": {\"OVER\": \"from-env\"}}}}",
		brmh_child(), dir, dir, dir, dir);
	text = wait_info(brmh_fmt("%s/info", dir), "p", 0);
	assert_info(text, "env:PLAIN", "second wins");
	assert_info(text, "env:DQ", "a \"quoted\" $x");
	assert_info(text, "env:SQ", "single \\n kept");
	assert_info(text, "env:CONT", "one two");
	assert_info(text, "env:OVER", "from-env");
	ck_assert_msg(strstr(text, "env:MULTI=line1\nline2\n"), "%s", text);
	pid = info_pid(text);
	free(text);

	/* An edit applies at the next start. */
	write_file(brmh_fmt("%s/second.env", dir), "PLAIN=edited\n");
	call_ok("restart", "{\"name\":\"p\"}");
	text = wait_info(brmh_fmt("%s/info", dir), "p", pid);
	assert_info(text, "env:PLAIN", "edited");
	free(text);

	/* A syntax error: the process does not start, and says where. */
	write_file(brmh_fmt("%s/second.env", dir), "GOOD=1\nexport BAD\n");
	call_ok("restart", "{\"name\":\"p\"}");
	free(wait_error("p", brmh_fmt("env_file '%s/second.env' line 2: expected KEY=VALUE,"
				      " got \"export BAD\"", dir)));
	ck_assert(brmh_wait_state(&H, "p", "fatal", 3000));
	free(wait_error("p", "gave up"));
	ck_assert(brmh_pid_alive(H.pid));

	/* A required file that is missing. */
	write_file(brmh_fmt("%s/second.env", dir), "PLAIN=x\n");
	ck_assert_int_eq(unlink(brmh_fmt("%s/app.env", dir)), 0);
	call_ok("start", "{\"name\":\"p\"}");
	free(wait_error("p", brmh_fmt("cannot read env_file '%s/app.env': No such file", dir)));
	brmh_check_stop(&H);
}
END_TEST

/*
 * brummd is root: a user must not get it to read a file they could not
 * (a link to /etc/shadow), nor give a root process their variables.
 */
START_TEST(env_file_opened_safely)
{
	char dir[64], secret[200];
	const char *child = brmh_child_public();
	char *text;

	ck_assert_ptr_nonnull(child);
	ck_assert_ptr_nonnull(brmh_tmpdir(dir, sizeof(dir), "brmconf"));
	ck_assert_int_eq(chmod(dir, 0755), 0);
	/* nobody's directory, with nobody's file and a link nobody made */
	ck_assert_int_eq(mkdir(brmh_fmt("%s/u", dir), 0755), 0);
	ck_assert_int_eq(chown(brmh_fmt("%s/u", dir), 65534, 65534), 0);
	write_file(brmh_fmt("%s/u/own.env", dir), "MINE=yes\n");
	ck_assert_int_eq(chown(brmh_fmt("%s/u/own.env", dir), 65534, 65534), 0);
	snprintf(secret, sizeof(secret), "%s/secret.env", dir);
	write_file(secret, "SECRET=root-only\n");
	ck_assert_int_eq(chmod(secret, 0600), 0);
	ck_assert_int_eq(symlink(secret, brmh_fmt("%s/u/link.env", dir)), 0);
	ck_assert_int_eq(lchown(brmh_fmt("%s/u/link.env", dir), 65534, 65534), 0);
	ck_assert_int_eq(link(secret, brmh_fmt("%s/u/hard.env", dir)), 0);

	brmh_check_start(&H,
		"{\"processes\": {"
		" \"own\": {\"cmd\": [\"%s\", \"info\", \"%s/u/info\"], \"user\": \"nobody\","
		"   \"start_secs\": 0, \"env_file\": \"%s/u/own.env\"},"
		" \"link\": {\"cmd\": [\"%s\", \"sleep\", \"60\"], \"user\": \"nobody\","
		"   \"start_retries\": 0, \"env_file\": \"%s/u/link.env\"},"
		" \"hard\": {\"cmd\": [\"%s\", \"sleep\", \"60\"], \"user\": \"nobody\","
		"   \"start_retries\": 0, \"env_file\": \"%s/u/hard.env\"},"
		" \"rootp\": {\"cmd\": [\"%s\", \"sleep\", \"60\"],"
		"   \"start_retries\": 0, \"env_file\": \"%s/u/own.env\"}}}",
		child, dir, dir, child, dir, child, dir, child, dir);
	text = wait_info(brmh_fmt("%s/u/info", dir), "own", 0);
	assert_info(text, "env:MINE", "yes");
	free(text);
	free(wait_error("link", "is a symbolic link; not following it"));
	free(wait_error("hard", "has 2 hard links"));
	free(wait_error("rootp", "its directory is owned by uid 65534, neither root nor the"
			" process's user"));
	ck_assert(brmh_wait_state(&H, "link", "fatal", 3000));
	brmh_check_stop(&H);
}
END_TEST

/* ---- rlimits, nice, oom_score_adj --------------------------------------- */

START_TEST(rlimits_nice_oom_applied_before_exec)
{
	char dir[64], nproc_hard[24], *text;
	const char *child = brmh_child_public();
	struct rlimit rl;
	long pid;

	ck_assert_ptr_nonnull(child);
	ck_assert_ptr_nonnull(brmh_tmpdir(dir, sizeof(dir), "brmconf"));
	ck_assert_int_eq(chmod(dir, 0777), 0);
	/* Raising a hard limit needs CAP_SYS_RESOURCE, which containers drop:
	 * keep to the hard limit brummd has. */
	ck_assert_int_eq(getrlimit(RLIMIT_NPROC, &rl), 0);
	if (rl.rlim_max == RLIM_INFINITY)
		snprintf(nproc_hard, sizeof(nproc_hard), "infinity");
	else
		snprintf(nproc_hard, sizeof(nproc_hard), "%llu", (unsigned long long)rl.rlim_max);
	brmh_check_start(&H,
		"{\"processes\": {"
		" \"p\": {\"cmd\": [\"%s\", \"info\", \"%s/p\"], \"start_secs\": 0,"
		"   \"rlimits\": {\"nofile\": \"1000:2000\", \"nproc\": \"500:%s\","
		"     \"core\": 0, \"memlock\": \"64K:1M\"}, \"nice\": 7, \"oom_score_adj\": 321},"
		/* as another user: a negative nice needs root (CAP_SYS_NICE), so it
		 * is set before setuid */
		" \"u\": {\"cmd\": [\"%s\", \"info\", \"%s/u\"], \"start_secs\": 0,"
		"   \"user\": \"nobody\", \"nice\": -5, \"oom_score_adj\": 400,"
		"   \"rlimits\": {\"nofile\": 1234}},"
		" \"big\": {\"cmd\": [\"%s\", \"sleep\", \"60\"], \"start_retries\": 0,"
		"   \"rlimits\": {\"nofile\": 2000000000}}}}",
		child, dir, nproc_hard, child, dir, child);
	text = wait_info(brmh_fmt("%s/p", dir), "p", 0);
	assert_info(text, "rlimit_nofile", "1000:2000");
	assert_info(text, "rlimit_nproc", brmh_fmt("500:%s", nproc_hard));
	assert_info(text, "rlimit_core", "0:0");
	assert_info(text, "rlimit_memlock", "65536:1048576");
	assert_info(text, "nice", "7");
	assert_info(text, "oom_score_adj", "321");
	pid = info_pid(text);
	free(text);

	text = wait_info(brmh_fmt("%s/u", dir), "u", 0);
	assert_info(text, "uid", "65534");
	assert_info(text, "nice", "-5");
	assert_info(text, "oom_score_adj", "400");
	assert_info(text, "rlimit_nofile", "1234:1234");
	free(text);

	free(wait_error("big", "setrlimit RLIMIT_NOFILE 2000000000:2000000000: Operation not"
			" permitted"));

	/* A changed limit restarts the process with it. */
	write_file(brmh_fmt("%s/brummd.json", H.dir), brmh_fmt(
		"{\"processes\": {"
		" \"p\": {\"cmd\": [\"%s\", \"info\", \"%s/p\"], \"start_secs\": 0,"
		"   \"rlimits\": {\"nofile\": \"1000:2000\", \"nproc\": \"500:%s\","
		"     \"core\": 0, \"memlock\": \"64K:1M\"}, \"nice\": 3, \"oom_score_adj\": 321}}}",
		child, dir, nproc_hard));
	call_ok("reload", NULL);
	text = wait_info(brmh_fmt("%s/p", dir), "p", pid);
	assert_info(text, "nice", "3");
	free(text);
	ck_assert(pid_of("p") != pid);
	brmh_check_stop(&H);
}
END_TEST

BRM_TEST_CASE("conf_features", "conf", 30,
	check_config_reports_every_problem,
	placeholders_fill_per_instance_values,
	health_target_per_instance,
	add_fills_in_placeholders,
	env_file_syntax,
	env_file_read_at_each_start,
	env_file_opened_safely,
	rlimits_nice_oom_applied_before_exec);
