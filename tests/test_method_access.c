/*
 * test_method_access.c — the permission of every protocol method for every
 * kind of peer, against a real brummd over its socket.
 *
 * The methods come from the daemon's own table (brm_methods[], the one the
 * server dispatches from), so a new method is covered by construction.
 * What each may do comes from proto/PROTOCOL.md, parsed at test time: the
 * "Access" section's list of read-only methods that readers may call. Taking
 * the expectation from the table's own `mutating` flag would make the test
 * agree with any mistake in the table (`signal` marked read-only would pass);
 * the document is the independent statement of the contract. A method in the
 * table without a "### name" section in PROTOCOL.md fails the test too.
 *
 * Peers: root; a user listed in access.users by uid; one through
 * access.groups; a reader by uid and one by group (access.readers); and an
 * unlisted uid. Each call is made by a forked child that setresuid()s.
 * Readers and strangers must get -32003 for what they may not call; everyone
 * else must get past the permission check (any other reply).
 *
 * `shutdown` ends brummd, so it is called last: first by every peer that
 * may not (brummd must stay up), then by root.
 *
 * Second, every method's parameters (in process, through the server's own
 * entry point, brm_server_dispatch): for every method of the table, an
 * unknown parameter, and for every parameter of its schema one of a type it
 * does not take, one out of range and, if required, none, each answered
 * -32602 with the one wording of proto/PROTOCOL.md "Parameter errors",
 * composed here from the schema. A method whose handler checked its own
 * params, or that skipped the central check, fails: its wording differs,
 * or (a mutating one) it queues a command instead of replying.
 */
#include <check.h>
#include <grp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/conf/access.h"
#include "daemon/conf/limits.h"
#include "daemon/rpc/methods.h"
#include "daemon/rpc/dispatch.h"
#include "daemon/rpc/server.h"
#include "lib/registry.h"
#include "tests/e2e.h"
#include "tests/harness.h"
#include "tests/suite.h"

static struct brmh H;

#define SOCK_GID 64010
enum { ROOT, USER_UID, USER_GROUP, READER_UID, READER_GROUP, STRANGER, NPEERS };

static const struct peer {
	const char *what;
	uid_t uid;
	gid_t gid;
	int level;            /* 2 all, 1 read-only, 0 nothing */
} peers[NPEERS] = {
	[ROOT] = { "root", 0, 0, 2 },
	[USER_UID] = { "access.users uid", 64011, 64011, 2 },
	[USER_GROUP] = { "access.groups member", 64012, 64020, 2 },
	[READER_UID] = { "access.readers uid", 64013, 64013, 1 },
	[READER_GROUP] = { "access.readers group member", 64014, 64021, 1 },
	[STRANGER] = { "unlisted uid", 64015, 64015, 0 },
};

#define PROTOCOL_MD "proto/PROTOCOL.md"

/* The methods PROTOCOL.md's "Access" section lets readers call. */
static int documented_readonly(char names[][32], int max, char **doc_out)
{
	const char *intro = "may call the read-only methods (";
	char *doc = brmh_read_file(PROTOCOL_MD), *p, *end;
	int n = 0;

	ck_assert_msg(doc, "cannot read %s (run from the checkout)", PROTOCOL_MD);
	p = strstr(doc, intro);
	ck_assert_msg(p, "%s: no '%s' in the Access section", PROTOCOL_MD, intro);
	p += strlen(intro);
	end = strchr(p, ')');
	ck_assert_ptr_nonnull(end);
	while (n < max && (p = strchr(p, '`')) && p < end) {
		char *q = strchr(p + 1, '`');

		ck_assert_msg(q && q < end && q - p - 1 < 32, "bad method list in %s", PROTOCOL_MD);
		snprintf(names[n++], 32, "%.*s", (int)(q - p - 1), p + 1);
		p = q + 1;
	}
	*doc_out = doc;
	return n;
}

/* True when a "### a, b" heading of @doc names @method. */
static bool documented(const char *doc, const char *method)
{
	size_t len = strlen(method);

	for (const char *l = doc; (l = strstr(l, "\n### ")); l++) {
		const char *p = l + 5, *eol = strchr(p, '\n');

		while (p && (!eol || p < eol)) {
			if (!strncmp(p, method, len) && (p[len] == ',' || p[len] == '\n'))
				return true;
			p = strchr(p, ',');
			if (p)
				p += 2;
		}
	}
	return false;
}

/* The reply's error code to @method called by @peer: 0 for a result, 1 for
 * no reply at all. */
static int call_as(const struct peer *peer, const char *method);

/* Did @peer get what the documented permission of @method says? Adds a
 * line to @fail when not. */
static void judge(const char *method, bool readonly, const struct peer *p, char *fail,
		  size_t size)
{
	bool allowed = p->level == 2 || (p->level == 1 && readonly);
	int code = call_as(p, method);
	bool ok = allowed ? code != -32003 && code != 1 && code != 99 : code == -32003;

	if (!ok) {
		size_t used = strlen(fail);
		snprintf(fail + used, size - used, "\n  %s as %s: got %d, want %s", method,
			 p->what, code, allowed ? "a reply past the permission check" : "-32003");
	}
}

static int call_as(const struct peer *peer, const char *method)
{
	int pfd[2], code = 99, st;
	pid_t pid;

	ck_assert_int_eq(pipe(pfd), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		gid_t groups[2] = { peer->gid, SOCK_GID };
		char line[256], buf[8192];
		size_t len = 0;
		cJSON *r = NULL;
		int fd;

		close(pfd[0]);
		if (setgroups(2, groups) < 0 || setresgid(peer->gid, peer->gid, peer->gid) < 0 ||
		    setresuid(peer->uid, peer->uid, peer->uid) < 0)
			_exit(90);
		fd = brmh_connect(&H);
		if (fd < 0)
			_exit(91);
		snprintf(line, sizeof(line), "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"%s\"}\n",
			 method);
		if (write(fd, line, strlen(line)) != (ssize_t)strlen(line))
			_exit(92);
		code = 1;
		while (len < sizeof(buf) - 1) {
			struct pollfd p = { fd, POLLIN, 0 };
			ssize_t n;
			char *nl;

			if (poll(&p, 1, 3000) <= 0)
				break;
			n = read(fd, buf + len, sizeof(buf) - 1 - len);
			if (n <= 0)
				break;
			len += (size_t)n;
			buf[len] = 0;
			nl = strchr(buf, '\n');
			if (nl) {
				*nl = 0;
				r = cJSON_Parse(buf);
				break;
			}
		}
		if (r)
			brmh_result(r, &code);
		if (write(pfd[1], &code, sizeof(code)) < 0)
			_exit(93);
		_exit(0);
	}
	close(pfd[1]);
	if (read(pfd[0], &code, sizeof(code)) != sizeof(code))
		code = 99;
	close(pfd[0]);
	waitpid(pid, &st, 0);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "client as %s exited %d",
		      peer->what, WEXITSTATUS(st));
	return code;
}

START_TEST(every_method_for_every_peer)
{
	static char fail[8192];
	char ro[32][32], *doc = NULL;
	int nro, nmethods = 0;
	bool shutdown_readonly = false;

	if (geteuid() != 0) {
		printf("SKIP: method_access: needs root to connect as other uids\n");
		return;
	}
	nro = documented_readonly(ro, 32, &doc);
	ck_assert_int_ge(nro, 2);
	/* brummd makes the socket's directory the group's (0750): it refuses
	 * the harness's own directory, which belongs to root's group. */
	brmh_socket_subdir = "run";
	brmh_check_start(&H,
		"{\"socket_mode\": \"0660\", \"socket_group\": %d,"
		" \"access\": {\"users\": [%u], \"groups\": [%u],"
		"   \"readers\": {\"users\": [%u], \"groups\": [%u]}},"
		" \"processes\": {\"p\": {\"cmd\": [\"%s\", \"sleep\", \"30\"], \"start_secs\": 0,"
		"   \"autostart\": false}}}",
		SOCK_GID, (unsigned)peers[USER_UID].uid, (unsigned)peers[USER_GROUP].gid,
		(unsigned)peers[READER_UID].uid, (unsigned)peers[READER_GROUP].gid, brmh_child());
	ck_assert_int_eq(chmod(H.dir, 0755), 0);
	fail[0] = 0;
	for (const struct brm_method *m = brm_methods; m->name; m++) {
		bool readonly = false;

		nmethods++;
		for (int i = 0; i < nro; i++)
			readonly |= !strcmp(ro[i], m->name);
		if (!documented(doc, m->name)) {
			size_t used = strlen(fail);
			snprintf(fail + used, sizeof(fail) - used,
				 "\n  %s: not documented in %s", m->name, PROTOCOL_MD);
		}
		if (!strcmp(m->name, "shutdown"))
			continue;   /* last, below */
		for (int k = 0; k < NPEERS; k++)
			judge(m->name, readonly, &peers[k], fail, sizeof(fail));
	}
	ck_assert_msg(brm_method_find("shutdown"), "no shutdown method");
	for (int i = 0; i < nro; i++)
		shutdown_readonly |= !strcmp(ro[i], "shutdown");
	for (int k = 0; k < NPEERS; k++)
		if (peers[k].level < 2)
			judge("shutdown", shutdown_readonly, &peers[k], fail, sizeof(fail));
	ck_assert_msg(brmh_pid_alive(H.pid), "brummd went away before root's shutdown");
	judge("shutdown", shutdown_readonly, &peers[ROOT], fail, sizeof(fail));
	free(doc);
	ck_assert_int_ge(nmethods, 10);
	/* Every documented read-only method exists. */
	for (int i = 0; i < nro; i++)
		ck_assert_msg(brm_method_find(ro[i]), "%s lists '%s', which is no method",
			      PROTOCOL_MD, ro[i]);
	ck_assert_msg(!fail[0], "permissions wrong:%s", fail);
	brmh_check_stop(&H);
	brmh_socket_subdir = NULL;
}
END_TEST

/* ---- parameters ---------------------------------------------------------- */

static struct brm_ctx pctx;
static struct brm_scratch pscratch;
static const struct brm_limits plimits = BRM_LIMITS_DEFAULT;

/* A value @p takes, as JSON text. */
static const char *fitting(const struct brm_param *p, char *buf, size_t size)
{
	if (p->types & BRM_P_STRING)
		return "\"p\"";
	if (p->types & BRM_P_BOOL)
		return "true";
	if (p->types & (BRM_P_INT | BRM_P_NUMBER)) {
		snprintf(buf, size, "%lld", (long long)p->lo);
		return buf;
	}
	if (p->types & BRM_P_ARRAY)
		return "[\"p\"]";
	return "{}";
}

/*
 * Call @method with the params object "{@params}" (the schema's required
 * params other than @skip added with fitting values) as root; the reply's
 * error code and message must be -32602 and @want.
 */
static void expect_params_error(const struct brm_method *m, const char *skip,
				const char *params, const char *want, char *fail, size_t size)
{
	struct brm_peer peer = { .pid = 1, .uid = 0, .gid = 0, .level = BRM_ACCESS_ALL };
	struct brm_buf line = BRM_BUF_INIT, out = BRM_BUF_INIT;
	struct brm_cmd *cmd = NULL;
	const char *msg = NULL;
	int code = 0;
	cJSON *r = NULL;
	char num[32];

	brm_buf_addf(&line, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"%s\",\"params\":{%s",
		     m->name, params);
	for (const struct brm_param *p = m->params; p->name; p++)
		if (p->required && (!skip || strcmp(p->name, skip)) &&
		    !strstr(params, p->name))
			brm_buf_addf(&line, "%s\"%s\":%s", line.p[line.len - 1] == '{' ? "" : ",",
				     p->name, fitting(p, num, sizeof(num)));
	brm_buf_adds(&line, "}}");
	brm_buf_grow(&line, 1);
	if (brm_server_dispatch(&pctx, &pscratch, &peer, line.p, line.len, &out, NULL, NULL,
				&cmd)) {
		brm_cmd_destroy(cmd);
		msg = "(queued for the loop thread: no central check)";
	} else if ((r = cJSON_Parse(out.p))) {
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(r, "error");
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(e, "code");
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(e, "message");

		code = cJSON_IsNumber(c) ? (int)c->valuedouble : 0;
		msg = cJSON_IsString(t) ? t->valuestring : "(no error)";
	}
	if (code != -32602 || !msg || strcmp(msg, want)) {
		size_t used = strlen(fail);
		snprintf(fail + used, size - used, "\n  %s %s: got %d \"%s\", want -32602 \"%s\"",
			 m->name, params, code, msg ? msg : "(no reply)", want);
	}
	cJSON_Delete(r);
	brm_buf_finish(&line);
	brm_buf_finish(&out);
}

/* What @p allows, in the wording of PROTOCOL.md "Parameter errors". */
static void allowed(const struct brm_param *p, struct brm_buf *b)
{
	const char *w[8];
	char range[64];
	size_t n = 0;

	snprintf(range, sizeof(range), " from %lld to %lld", (long long)p->lo, (long long)p->hi);
	if (p->types & BRM_P_BOOL)
		w[n++] = "true", w[n++] = "false";
	if (p->types & BRM_P_STRING)
		w[n++] = "a string";
	if (p->types & BRM_P_INT)
		w[n++] = "an integer";
	if (p->types & BRM_P_NUMBER)
		w[n++] = "a number";
	if (p->types & BRM_P_ARRAY)
		w[n++] = "an array";
	if (p->types & BRM_P_OBJECT)
		w[n++] = "an object";
	for (size_t i = 0; i < n; i++) {
		brm_buf_addf(b, "%s%s", i == 0 ? "" : i + 1 == n ? " or " : ", ", w[i]);
		if (!strcmp(w[i], "an integer") ||
		    (!strcmp(w[i], "a number") && p->lo != p->hi))
			brm_buf_adds(b, range);
	}
	if (p->note)
		brm_buf_addf(b, " (%s)", p->note);
}

START_TEST(every_method_checks_its_params_in_one_wording)
{
	static char fail[16384];
	struct brm_buf want = BRM_BUF_INIT, params = BRM_BUF_INIT;
	int nchecks = 0;

	fail[0] = 0;
	rcu_register_thread();
	pctx.reg = brm_registry_create();
	pctx.pid = 4242;
	pctx.limits = &plimits;
	brm_scratch_init(&pscratch);
	for (const struct brm_method *m = brm_methods; m->name; m++) {
		/* An unknown parameter. */
		brm_buf_reset(&want);
		brm_buf_addf(&want, "params.bogus: unknown parameter; %s takes", m->name);
		if (!m->params[0].name)
			brm_buf_adds(&want, " none");
		for (const struct brm_param *p = m->params; p->name; p++)
			brm_buf_addf(&want, "%s\"%s\"", p == m->params ? " " :
				     p[1].name ? ", " : " or ", p->name);
		expect_params_error(m, NULL, "\"bogus\":1", want.p, fail, sizeof(fail));
		nchecks++;
		for (const struct brm_param *p = m->params; p->name; p++) {
			/* A type it does not take: an object, else a string. */
			const bool obj = p->types & BRM_P_OBJECT;

			brm_buf_reset(&params);
			brm_buf_addf(&params, "\"%s\":%s", p->name, obj ? "\"s\"" : "{}");
			brm_buf_reset(&want);
			brm_buf_addf(&want, "params.%s: expected ", p->name);
			allowed(p, &want);
			brm_buf_adds(&want, obj ? ", got a string" : ", got an object");
			expect_params_error(m, NULL, params.p, want.p, fail, sizeof(fail));
			nchecks++;
			/* Out of range: one above the top. */
			if ((p->types & BRM_P_INT) ||
			    ((p->types & BRM_P_NUMBER) && p->lo != p->hi)) {
				/* 2^53 + 1 reads as 2^53, a double's next is + 2. */
				long long over = (double)(p->hi + 1) == (double)p->hi ?
						 (long long)p->hi + 2 : (long long)p->hi + 1;

				brm_buf_reset(&params);
				brm_buf_addf(&params, "\"%s\":%lld", p->name, over);
				brm_buf_reset(&want);
				brm_buf_addf(&want, "params.%s: expected ", p->name);
				allowed(p, &want);
				brm_buf_addf(&want, ", got %lld", over);
				expect_params_error(m, NULL, params.p, want.p, fail, sizeof(fail));
				nchecks++;
			}
			/* Required, and missing. */
			if (p->required) {
				brm_buf_reset(&want);
				brm_buf_addf(&want, "params: missing \"%s\"", p->name);
				expect_params_error(m, p->name, "", want.p, fail, sizeof(fail));
				nchecks++;
			}
		}
	}
	ck_assert_int_ge(nchecks, 50);
	ck_assert_msg(!fail[0], "parameter errors not in the one wording:%s", fail);
	brm_buf_finish(&want);
	brm_buf_finish(&params);
	brm_scratch_finish(&pscratch);
	brm_registry_destroy(pctx.reg);
	rcu_unregister_thread();
}
END_TEST

/* The table is sorted (brm_method_find bisects it), says who may call
 * each method with the access classes only, and which thread runs it. */
START_TEST(the_table_is_sorted)
{
	for (const struct brm_method *m = brm_methods; m->name; m++) {
		ck_assert_msg(!m[1].name || strcmp(m->name, m[1].name) < 0,
			      "%s before %s", m->name, m[1].name);
		ck_assert_ptr_eq(brm_method_find(m->name), m);
		ck_assert(m->access == BRM_METHOD_READ || m->access == BRM_METHOD_MUTATING ||
			  m->access == BRM_METHOD_ADMIN);
		ck_assert_ptr_nonnull(m->handler);
		/* A loop method's op is its own. */
		ck_assert_msg(!m->loop || (!strcmp(m->loop->name, m->name) && m->loop->exec),
			      "%s: loop op %s", m->name, m->loop ? m->loop->name : "");
	}
	/* Readers may call wait, which runs on the loop thread: the two are apart. */
	ck_assert_int_eq(brm_method_find("wait")->access, BRM_METHOD_READ);
	ck_assert_ptr_eq(brm_method_find("wait")->loop, &brm_op_wait);
	ck_assert_ptr_null(brm_method_find("status")->loop);
	ck_assert_ptr_null(brm_method_find("nosuch"));
}
END_TEST

BRM_TEST_CASE("method_access", "method_access", 30,
	every_method_for_every_peer,
	every_method_checks_its_params_in_one_wording,
	the_table_is_sorted);
