/*
 * test_mcp_res.c — what `brummctl mcp` gives beyond tools, as an agent
 * sees it against a real brummd (tests/harness.c): an agent adds a real
 * dev server (python3 -m http.server) and finds its URL, reads and
 * subscribes to the resources and gets notifications/resources/updated
 * after a request to the server and a stop; the rate limit of those
 * updates; and a uid in access.readers, which gets only the read-only
 * tools.
 */
#include <check.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/e2e.h"
#include "tests/harness.h"
#include "tests/mcpclient.h"
#include "tests/suite.h"

static struct brmh H;
static struct mcp M;

/* python3 on $PATH, as an absolute path, or NULL. */
static const char *python3(void)
{
	static char path[4096];
	const char *env = getenv("PATH");
	char *dirs, *save = NULL;

	if (!env)
		return NULL;
	dirs = strdup(env);
	for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		snprintf(path, sizeof(path), "%s/python3", d);
		if (*d == '/' && access(path, X_OK) == 0) {
			free(dirs);
			return path;
		}
	}
	free(dirs);
	return NULL;
}

/* A TCP port on 127.0.0.1 that nothing listens on just now. */
static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

/* GET / from 127.0.0.1:@port: true when the server answered. */
static bool http_get(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	const char *req = "GET / HTTP/1.0\r\n\r\n";
	char buf[256];
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	bool ok;

	ck_assert_int_ge(fd, 0);
	ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	     write(fd, req, strlen(req)) == (ssize_t)strlen(req) && poll(&p, 1, 10000) == 1 &&
	     read(fd, buf, sizeof(buf)) > 0;
	close(fd);
	return ok;
}

/* The first content's text of a resources/read of @uri (asserted a result). */
static char *read_resource(struct mcp *m, const char *uri, const char *mime)
{
	cJSON *r = mcp_call(m, "resources/read", brmh_fmt("{\"uri\":\"%s\"}", uri));
	const cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "result"),
								 "contents"), 0);
	char *text;

	ck_assert_msg(c, "resources/read %s: %s", uri, cJSON_PrintUnformatted(r));
	ck_assert_str_eq(brmh_str(c, "uri"), uri);
	ck_assert_str_eq(brmh_str(c, "mimeType"), mime);
	text = strdup(brmh_str(c, "text"));
	cJSON_Delete(r);
	return text;
}

static void expect_code(cJSON *r, int code, const char *needle)
{
	const char *msg;

	ck_assert_int_eq(error_of(r, &msg), code);
	ck_assert_msg(strstr(msg, needle), "'%s' not in '%s'", needle, msg);
	cJSON_Delete(r);
}

START_TEST(an_agent_runs_a_dev_server_and_follows_it)
{
	const char *py = python3();
	int port = free_port(), seen;
	char url[64], *text;
	cJSON *r, *res;
	const cJSON *caps;
	bool found = false;

	if (!py) {
		printf("SKIP: mcp: a real dev server (python3 not on PATH)\n");
		return;
	}
	brmh_check_start(&H, "{\"processes\":{}}");
	mcp_start(&M, H.sock, "--allow-changes", NULL);

	/* initialize advertises subscribable resources. */
	r = mcp_call(&M, "initialize", "{\"protocolVersion\":\"2025-11-25\",\"capabilities\":{},"
		     "\"clientInfo\":{\"name\":\"test\",\"version\":\"1\"}}");
	caps = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "result"),
						       "capabilities"), "resources");
	ck_assert_msg(cJSON_IsTrue(cJSON_GetObjectItem(caps, "subscribe")), "%s",
		      cJSON_PrintUnformatted(r));
	cJSON_Delete(r);
	mcp_send(&M, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
	ck_assert_str_eq(tool_names(&M), "list_processes,status,start,stop,restart,logs,"
			 "errors,urls,wait,add,remove");

	/* The resources and the template. */
	r = mcp_call(&M, "resources/list", NULL);
	ck_assert_str_eq(brmh_str(cJSON_GetArrayItem(cJSON_GetObjectItem(
		cJSON_GetObjectItem(r, "result"), "resources"), 0), "uri"), "brummd://processes");
	cJSON_Delete(r);
	r = mcp_call(&M, "resources/templates/list", NULL);
	ck_assert_str_eq(brmh_str(cJSON_GetArrayItem(cJSON_GetObjectItem(
		cJSON_GetObjectItem(r, "result"), "resourceTemplates"), 0), "uriTemplate"),
		"brummd://logs/{name}");
	cJSON_Delete(r);

	r = mcp_call(&M, "resources/subscribe", "{\"uri\":\"brummd://processes\"}");
	ck_assert_msg(cJSON_IsObject(cJSON_GetObjectItem(r, "result")), "%s",
		      cJSON_PrintUnformatted(r));
	cJSON_Delete(r);

	/* The agent adds a real dev server; its URL shows up in urls. */
	res = tool(&M, "add", brmh_fmt("{\"name\":\"site\",\"cmd\":[\"%s\",\"-m\",\"http.server\","
				       "\"%d\",\"--bind\",\"127.0.0.1\"],\"cwd\":\"%s\","
				       "\"env\":{\"PYTHONUNBUFFERED\":\"1\"}}", py, port, H.dir),
		   false);
	cJSON_Delete(res);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", port);
	for (int waited = 0; !found && waited < 30000; waited += 200) {
		res = tool(&M, "urls", "{}", false);
		found = strstr(text_of(res), url) != NULL;
		cJSON_Delete(res);
		if (!found)
			mcp_updates(&M, 200);
	}
	ck_assert_msg(found, "urls never showed %s", url);
	ck_assert(mcp_wait_update(&M, &M.upd_procs, 0, 10000));

	cJSON_Delete(tool(&M, "wait", "{\"names\":[\"site\"],\"state\":\"running\"}", false));
	/* Reading the resources: the status as JSON, the server's own lines. */
	text = read_resource(&M, "brummd://processes", "application/json");
	ck_assert_msg(strstr(text, "\"name\":\"site\"") && strstr(text, "\"state\":\"running\""),
		      "%.300s", text);
	free(text);
	text = read_resource(&M, "brummd://logs/site", "text/plain");
	ck_assert_msg(strstr(text, "Serving HTTP"), "%.300s", text);
	free(text);
	expect_code(mcp_call(&M, "resources/read", "{\"uri\":\"brummd://nope\"}"), -32002,
		    "resource not found");
	expect_code(mcp_call(&M, "resources/read", "{\"uri\":\"brummd://logs/ghost\"}"), -32002,
		    "ghost");
	expect_code(mcp_call(&M, "resources/subscribe", "{\"uri\":\"file:///etc/passwd\"}"),
		    -32002, "resource not found");

	/* A request the server logs is a new line of site's. */
	r = mcp_call(&M, "resources/subscribe", "{\"uri\":\"brummd://logs/site\"}");
	ck_assert(cJSON_IsObject(cJSON_GetObjectItem(r, "result")));
	cJSON_Delete(r);
	mcp_updates(&M, 1000);
	seen = M.upd_logs;
	ck_assert(http_get(port));
	ck_assert_msg(mcp_wait_update(&M, &M.upd_logs, seen, 10000),
		      "no update of brummd://logs/site after a request");

	/* Quiet, then a stop is an update of brummd://processes. */
	mcp_updates(&M, 1000);
	seen = M.upd_procs;
	res = tool(&M, "stop", "{\"names\":[\"site\"]}", false);
	ck_assert_str_eq(state_of(res, 0), "stopped");
	cJSON_Delete(res);
	ck_assert_msg(mcp_wait_update(&M, &M.upd_procs, seen, 10000),
		      "no update of brummd://processes after a stop");

	/* Unsubscribed: a start is not notified any more. */
	r = mcp_call(&M, "resources/unsubscribe", "{\"uri\":\"brummd://processes\"}");
	ck_assert(cJSON_IsObject(cJSON_GetObjectItem(r, "result")));
	cJSON_Delete(r);
	r = mcp_call(&M, "resources/unsubscribe", "{\"uri\":\"brummd://logs/site\"}");
	cJSON_Delete(r);
	mcp_updates(&M, 500);
	seen = M.upd_procs;
	res = tool(&M, "start", "{\"names\":[\"site\"]}", false);
	cJSON_Delete(res);
	mcp_updates(&M, 1000);
	ck_assert_int_eq(M.upd_procs, seen);
	res = tool(&M, "remove", "{\"name\":\"site\"}", false);
	cJSON_Delete(res);
	mcp_stop(&M);
	brmh_check_stop(&H);
}
END_TEST

START_TEST(updates_of_a_chatty_log_are_rate_limited)
{
	struct timespec t0, t1;
	double secs;
	cJSON *r;

	brmh_check_start(&H, "{\"processes\":{\"chatty\":{\"cmd\":[\"sh\",\"-c\",\"while :; do "
			 "echo tick; sleep 0.01; done\"],\"start_secs\":0}}}");
	ck_assert(brmh_wait_state(&H, "chatty", "running", 10000));
	mcp_start(&M, H.sock, NULL);
	r = mcp_call(&M, "resources/subscribe", "{\"uri\":\"brummd://logs/chatty\"}");
	ck_assert(cJSON_IsObject(cJSON_GetObjectItem(r, "result")));
	cJSON_Delete(r);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	mcp_updates(&M, 2000);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	/* ~100 lines a second; at most one update per 250 ms. */
	ck_assert_msg(M.upd_logs >= 2, "only %d updates in %.2f s", M.upd_logs, secs);
	ck_assert_msg(M.upd_logs <= (int)(secs / 0.25) + 2, "%d updates in %.2f s: over 4 a second",
		      M.upd_logs, secs);
	mcp_stop(&M);
	brmh_check_stop(&H);
}
END_TEST

#define NOBODY 65534
#define MCP_SOCK_GID 64030

/* The role brummd's ping gives NOBODY (in the socket's group): "?" when
 * there is none. */
static const char *role_as_nobody(void)
{
	static char role[32];
	int pfd[2], st;
	pid_t pid;

	ck_assert_int_eq(pipe(pfd), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		gid_t groups[2] = { NOBODY, MCP_SOCK_GID };
		const char *req = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n";
		char buf[4096] = "", out[32] = "?";
		struct pollfd p;
		const char *got;
		cJSON *r;
		ssize_t n;
		int fd;

		close(pfd[0]);
		if (setgroups(2, groups) < 0 || setresgid(NOBODY, NOBODY, NOBODY) < 0 ||
		    setresuid(NOBODY, NOBODY, NOBODY) < 0 || (fd = brmh_connect(&H)) < 0 ||
		    write(fd, req, strlen(req)) != (ssize_t)strlen(req))
			_exit(1);
		p = (struct pollfd){ .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 10000) == 1 && (n = read(fd, buf, sizeof(buf) - 1)) > 0) {
			buf[n] = '\0';
			r = cJSON_Parse(buf);
			got = brmh_str(cJSON_GetObjectItem(r, "result"), "role");
			if (got)
				snprintf(out, sizeof(out), "%s", got);
		}
		_exit(write(pfd[1], out, strlen(out) + 1) > 0 ? 0 : 1);
	}
	close(pfd[1]);
	snprintf(role, sizeof(role), "?");
	if (read(pfd[0], role, sizeof(role) - 1) <= 0)
		snprintf(role, sizeof(role), "?");
	role[sizeof(role) - 1] = '\0';
	close(pfd[0]);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	return role;
}

START_TEST(a_reader_gets_only_the_read_only_tools)
{
	cJSON *res, *r;

	if (geteuid() != 0) {
		printf("SKIP: mcp: a reader's tools (needs root to run brummctl as nobody)\n");
		return;
	}
	/* As test_method_access does: the socket's group for the reader,
	 * brummd makes the socket's directory the group's. */
	brmh_socket_subdir = "run";
	brmh_check_start(&H,
		"{\"socket_mode\":\"0660\",\"socket_group\":%d,"
		" \"access\":{\"readers\":{\"users\":[%d]}},"
		" \"processes\":{\"p\":{\"cmd\":[\"%s\",\"sleep\",\"60\"],\"start_secs\":0}}}",
		MCP_SOCK_GID, NOBODY, brmh_child());
	ck_assert_int_eq(chmod(H.dir, 0755), 0);
	ck_assert(brmh_wait_state(&H, "p", "running", 10000));
	/* ping tells the caller's role: root is an operator. */
	r = brmh_call(&H, "ping", NULL);
	ck_assert_str_eq(brmh_str(cJSON_GetObjectItem(r, "result"), "role"), "operator");
	cJSON_Delete(r);
	ck_assert_str_eq(role_as_nobody(), "reader");

	run_as_uid = NOBODY;
	run_as_groups[0] = NOBODY;
	run_as_groups[1] = MCP_SOCK_GID;
	mcp_start(&M, H.sock, "--allow-changes", NULL);
	run_as_uid = 0;
	ck_assert_str_eq(tool_names(&M), "list_processes,status,logs,errors,urls,wait");
	res = tool(&M, "list_processes", "{}", false);
	ck_assert_msg(strstr(text_of(res), "running"), "%s", text_of(res));
	cJSON_Delete(res);
	res = tool(&M, "stop", "{\"names\":[\"p\"]}", true);
	ck_assert_msg(strstr(text_of(res), "not permitted") && strstr(text_of(res), "access.readers"),
		      "%s", text_of(res));
	cJSON_Delete(res);
	mcp_stop(&M);
	ck_assert(brmh_wait_state(&H, "p", "running", 1000));
	brmh_check_stop(&H);
	brmh_socket_subdir = NULL;
}
END_TEST

Suite *brm_test_suite(void)
{
	const TTest *const tests[] = {
		an_agent_runs_a_dev_server_and_follows_it,
		updates_of_a_chatty_log_are_rate_limited,
		a_reader_gets_only_the_read_only_tools,
		NULL,
	};

	signal(SIGPIPE, SIG_IGN);
	return brm_test_one_case("mcp_res", "mcp_res", 120, tests);
}
