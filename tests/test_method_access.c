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

#include "daemon/rpc/methods.h"
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

BRM_TEST_CASE("method_access", "method_access", 30,
	every_method_for_every_peer);
