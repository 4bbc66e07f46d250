/*
 * test_metrics_http.c — GET /metrics of "metrics_listen" against a real
 * brummd, over a plain TCP socket: the series and their values (a process
 * restarted twice, one never started, brummd's request counters), the
 * refusals (405, 404, 413, the per-address connection bound), a malformed
 * value and a port in use, and what reload does with a changed address.
 * The port is found free by binding port 0 here first and closing it.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/e2e.h"
#include "tests/expo.h"
#include "tests/harness.h"
#include "tests/suite.h"

static struct brmh H;

/* A listening socket on 127.0.0.1 and a free port (*@port); -1 on failure. */
static int bound_socket(int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(fd, 4), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

static int free_port(void)
{
	int port, fd = bound_socket(&port);

	close(fd);
	return port;
}

/* A TCP connection from 127.0.0.@src to 127.0.0.1:@port, or -errno. */
static int tcp_connect_from(int port, int src)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct sockaddr_in from = { .sin_family = AF_INET };
	struct timeval tv = { .tv_sec = 20 };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	from.sin_addr.s_addr = htonl(0x7f000000u | (uint32_t)src);
	ck_assert_int_ge(fd, 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&from, sizeof(from)), 0);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

static char *read_all(int fd);

static int tcp_connect(int port)
{
	return tcp_connect_from(port, 1);
}

/* A connection from 127.0.0.@src that MHD has accepted: it answered a HEAD. */
static int answered_conn(int port, int src)
{
	const char *req = "HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
	int fd = tcp_connect_from(port, src);
	char buf[512];

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	ck_assert_msg(read(fd, buf, sizeof(buf)) > 0, "no answer to a connection from 127.0.0.%d",
		      src);
	return fd;
}

/* Asserts a connection from 127.0.0.@src is closed without an answer. */
static void refused_conn(int port, int src, const char *why)
{
	int fd = tcp_connect_from(port, src);
	char *rest;

	ck_assert_int_ge(fd, 0);
	(void)!write(fd, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 35);
	rest = read_all(fd);
	ck_assert_msg(!rest[0], "%s was answered: %zu bytes: %.300s", why, strlen(rest), rest);
	free(rest);
	close(fd);
}

/* Everything @fd sends until it closes (or 20 s pass), NUL-terminated. */
static char *read_all(int fd)
{
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	ssize_t n;

	ck_assert_ptr_nonnull(buf);
	while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += (size_t)n;
		if (cap - len < 4096) {
			cap *= 2;
			buf = realloc(buf, cap);
			ck_assert_ptr_nonnull(buf);
		}
	}
	buf[len] = '\0';
	return buf;
}

/*
 * Send @request (a whole HTTP request) to @port and return the response;
 * its status code in *@status (0 when there was none) and where the body
 * starts in *@body.
 */
static char *http(int port, const char *request, int *status, const char **body)
{
	int fd = tcp_connect(port);
	char *resp;
	const char *end;

	ck_assert_msg(fd >= 0, "cannot connect to 127.0.0.1:%d: %s", port, strerror(-fd));
	ck_assert_int_eq(write(fd, request, strlen(request)), (ssize_t)strlen(request));
	resp = read_all(fd);
	close(fd);
	*status = 0;
	sscanf(resp, "HTTP/1.%*d %d", status);
	end = strstr(resp, "\r\n\r\n");
	*body = end ? end + 4 : resp + strlen(resp);
	return resp;
}

/* GET /metrics: asserts 200 and returns the response (body in *@body). */
static char *scrape(int port, const char **body)
{
	int status;
	char *resp = http(port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
			  &status, body);

	ck_assert_msg(status == 200, "GET /metrics: status %d:\n%.2000s", status, resp);
	return resp;
}

/* SIGKILL @name's pid and wait until it runs again with another pid. */
static void kill_and_wait_restart(const char *name)
{
	long pid = brmh_check_pid(&H, name), pid2 = -1;

	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(kill((pid_t)pid, SIGKILL), 0);
	for (int i = 0; i < 1000 && pid2 < 0; i++) {
		cJSON *s = brmh_status(&H, name);

		pid2 = brmh_int(s, "pid");
		if (!(pid2 > 0 && pid2 != pid && !strcmp(brmh_str(s, "state"), "running")))
			pid2 = -1;
		cJSON_Delete(s);
		if (pid2 < 0)
			brmh_sleep_ms(10);
	}
	ck_assert_msg(pid2 > 0, "%s was not restarted after SIGKILL", name);
}

static void start_on(int port, const char *procs)
{
	brmh_check_start(&H, "{\"metrics_listen\":\"127.0.0.1:%d\",\"processes\":{%s}}", port,
			 procs);
}

/* ---- tests ---- */

START_TEST(series_and_values)
{
	int port = free_port();
	const char *body;
	char *resp;
	cJSON *r;
	int code;

	start_on(port, brmh_fmt(
		"\"web\":{\"cmd\":[\"%s\",\"sleep\",\"60\"],\"start_secs\":0,\"backoff_secs\":0.05,"
		"\"start_retries\":10},"
		"\"idle\":{\"cmd\":[\"%s\",\"sleep\",\"60\"],\"autostart\":false}",
		brmh_child(), brmh_child()));
	ck_assert(brmh_wait_state(&H, "web", "running", 5000));
	kill_and_wait_restart("web");
	kill_and_wait_restart("web");
	/* Requests with known outcomes: 3 pings, a status of nobody, a method
	 * brummd does not know. */
	for (int i = 0; i < 3; i++)
		cJSON_Delete(brmh_call(&H, "ping", NULL));
	cJSON_Delete(brmh_call(&H, "status", "{\"name\":\"nobody\"}"));
	cJSON_Delete(brmh_call(&H, "bogus", NULL));

	resp = scrape(port, &body);
	ck_assert_msg(strstr(resp, "Content-Type: text/plain; version=0.0.4"),
		      "content type:\n%.500s", resp);
	brmt_has_line(body, "brummd_process_restarts_total{name=\"web\"} 2");
	brmt_has_line(body, "brummd_process_up{name=\"web\"} 1");
	brmt_has_line(body, "brummd_process_start_failures_total{name=\"web\"} 2");
	brmt_has_line(body, "brummd_process_state{name=\"web\",state=\"running\"} 1");
	brmt_has_line(body, "brummd_process_up{name=\"idle\"} 0");
	brmt_has_line(body, "brummd_process_state{name=\"idle\",state=\"stopped\"} 1");
	brmt_has_line(body, "brummd_process_state{name=\"idle\",state=\"running\"} 0");
	brmt_has_line(body, "brummd_process_uptime_seconds{name=\"idle\"} 0");
	brmt_has_line(body, "brummd_processes 2");
	brmt_has_line(body, "brummd_requests_total{method=\"ping\",outcome=\"ok\"} 3");
	brmt_has_line(body, "brummd_requests_total{method=\"ping\",outcome=\"error\"} 0");
	brmt_has_line(body, "brummd_requests_total{method=\"status\",outcome=\"error\"} 1");
	brmt_has_line(body, "brummd_requests_total{method=\"other\",outcome=\"error\"} 1");
	ck_assert_int_eq(brmt_check_format(body), 18);
	/* web's three starts, each timed on the loop thread; idle never started */
	brmt_has_line(body, "brummd_spawn_duration_seconds_count 3");
	brmt_has_line(body, "brummd_spawn_duration_seconds_bucket{le=\"+Inf\"} 3");
	/* No /proc figures unless asked for. */
	ck_assert_msg(!strstr(body, "brummd_process_resident_memory_bytes{"),
		      "memory without ?stats=1:\n%.3000s", body);
	brmt_promtool_check("metrics_http", body);
	free(resp);
	resp = http(port, "GET /metrics?stats=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		    &code, &body);
	ck_assert_int_eq(code, 200);
	ck_assert_msg(strstr(body, "\nbrummd_process_resident_memory_bytes{name=\"web\"} "),
		      "no memory of web:\n%.3000s", body);
	ck_assert_msg(strstr(body, "\nbrummd_process_cpu_seconds_total{name=\"web\"} "),
		      "no CPU of web:\n%.3000s", body);
	ck_assert_msg(!strstr(body, "brummd_process_resident_memory_bytes{name=\"idle\"}"),
		      "memory of a process without a pid:\n%.3000s", body);
	brmt_check_format(body);
	brmt_promtool_check("metrics_http", body);

	/* The same text as the metrics method, but for the figures that move. */
	r = brmh_call(&H, "metrics", NULL);
	ck_assert_ptr_nonnull(brmh_result(r, &code));
	ck_assert_msg(strstr(brmh_str(brmh_result(r, &code), "text"),
			     "brummd_process_restarts_total{name=\"web\"} 2\n"),
		      "the method says otherwise");
	cJSON_Delete(r);

	/* Both kills came within min_uptime_secs: failed starts. A restart by
	 * request begins a new series; the total keeps them. */
	brmt_has_line(body, "brummd_process_start_failures{name=\"web\"} 2");
	free(resp);
	r = brmh_call(&H, "restart", "{\"name\":\"web\"}");
	ck_assert_ptr_nonnull(brmh_result(r, &code));
	cJSON_Delete(r);
	ck_assert(brmh_wait_state(&H, "web", "running", 5000));
	resp = scrape(port, &body);
	brmt_has_line(body, "brummd_process_start_failures{name=\"web\"} 0");
	brmt_has_line(body, "brummd_process_start_failures_total{name=\"web\"} 2");
	free(resp);
	brmh_check_stop(&H);
}
END_TEST

START_TEST(refusals)
{
	int port = free_port(), status;
	const char *body;
	char *resp;

	start_on(port, "");
	resp = http(port, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
		    "Connection: close\r\n\r\n", &status, &body);
	ck_assert_msg(status == 405, "POST: %d:\n%.500s", status, resp);
	ck_assert_msg(strstr(resp, "\r\nAllow: GET, HEAD\r\n"), "no Allow:\n%.500s", resp);
	free(resp);
	resp = http(port, "GET /other HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", &status,
		    &body);
	ck_assert_msg(status == 404, "GET /other: %d", status);
	free(resp);
	resp = http(port, "GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
		    "Connection: close\r\n\r\nabc", &status, &body);
	ck_assert_msg(status == 413, "GET with a body: %d", status);
	free(resp);
	resp = http(port, "HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		    &status, &body);
	ck_assert_msg(status == 200 && !*body, "HEAD: %d, body '%.100s'", status, body);
	free(resp);

	brmh_check_stop(&H);
}
END_TEST

/*
 * At most 8 connections from one address: the 9th is closed unanswered.
 * At most 16 in all: the 17th waits in the listen backlog, unaccepted,
 * until one of the 16 goes. Once they are gone a scrape works again.
 */
START_TEST(connection_bounds)
{
	const char *get = "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	int port = free_port(), status, conns[16], fd;
	struct pollfd pfd;
	const char *body;
	char *resp;

	start_on(port, "");
	for (int i = 0; i < 8; i++)
		conns[i] = answered_conn(port, 1);
	refused_conn(port, 1, "a 9th connection from one address");
	for (int i = 8; i < 16; i++)
		conns[i] = answered_conn(port, 2);
	fd = tcp_connect_from(port, 3);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, get, strlen(get)), (ssize_t)strlen(get));
	pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
	ck_assert_msg(poll(&pfd, 1, 1000) == 0, "a 17th connection was served at once");
	close(conns[0]);
	resp = read_all(fd);
	ck_assert_msg(!strncmp(resp, "HTTP/1.1 200 ", 13),
		      "the 17th connection, once one of 16 closed: '%.200s'", resp);
	free(resp);
	close(fd);
	for (int i = 1; i < 16; i++)
		close(conns[i]);
	for (int i = 0; i < 500; i++) {
		resp = http(port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
			    &status, &body);
		free(resp);
		if (status == 200)
			break;
		brmh_sleep_ms(10);
	}
	ck_assert_int_eq(status, 200);
	brmh_check_stop(&H);
}
END_TEST

START_TEST(config_errors)
{
	char dir[64], *out = NULL, *err = NULL, *log;
	int port, held, st;
	FILE *f;
	pid_t pid;

	/* A malformed value: a diagnostic with its key path, and no start. */
	ck_assert_ptr_nonnull(brmh_tmpdir(dir, sizeof(dir), "brm-mhttp"));
	f = fopen(brmh_fmt("%s/bad.json", dir), "w");
	ck_assert_ptr_nonnull(f);
	fputs("{\"metrics_listen\": \"127.0.0.1\", \"metrics_listn\": 1}\n", f);
	fclose(f);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fd = open(brmh_fmt("%s/out", dir), O_WRONLY | O_CREAT | O_TRUNC, 0600);

		dup2(fd, 1);
		dup2(fd, 2);
		execl(brmh_bin("brummd"), "brummd", "--check-config", brmh_fmt("%s/bad.json", dir),
		      (char *)NULL);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 1, "--check-config: status %d", st);
	out = brmh_read_file(brmh_fmt("%s/out", dir));
	ck_assert_msg(out && strstr(out, "bad.json: metrics_listen: expected \"HOST:PORT\""),
		      "no diagnostic for the value: %s", out);
	ck_assert_msg(strstr(out, "metrics_listn: unknown key (did you mean \"metrics_listen\"?)"),
		      "no suggestion for the typo: %s", out);
	free(out);

	/* A port in use: brummd does not start and says which key and address. */
	held = bound_socket(&port);
	ck_assert_int_ne(brmh_start(&H, brmh_fmt("{\"metrics_listen\":\"127.0.0.1:%d\","
						 "\"processes\":{}}", port), NULL), 0);
	log = brmh_read_file(H.log);
	ck_assert_msg(log && strstr(log, brmh_fmt("not started: metrics_listen '127.0.0.1:%d':"
						  " cannot listen: Address already in use", port)),
		      "log: %s", log);
	free(log);
	close(held);
	brmh_stop(&H, 5000);
	free(err);
}
END_TEST

START_TEST(reload_keeps_the_listener)
{
	int port = free_port(), port2 = free_port(), fd, code = -1;
	const char *body;
	const cJSON *res, *na;
	char *resp, *log;
	bool listed = false;
	cJSON *r, *it;
	FILE *f;

	start_on(port, "");
	f = fopen(brmh_fmt("%s/brummd.json", H.dir), "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "{\"metrics_listen\":\"127.0.0.1:%d\",\"processes\":{}}\n", port2);
	fclose(f);
	r = brmh_call(&H, "reload", NULL);
	res = brmh_result(r, &code);
	ck_assert_msg(code == 0 && res, "reload failed: %d", code);
	na = cJSON_GetObjectItemCaseSensitive(res, "not_applied");
	cJSON_ArrayForEach(it, na)
		listed |= cJSON_IsString(it) && !strcmp(it->valuestring, "metrics_listen");
	ck_assert_msg(listed, "metrics_listen not in not_applied");
	cJSON_Delete(r);
	/* brummd's own log says it too (its stderr here). */
	for (int i = 0; i < 500; i++) {
		log = brmh_read_file(H.log);
		if (log && strstr(log, "\"metrics_listen\" need a restart of brummd"))
			break;
		free(log);
		log = NULL;
		brmh_sleep_ms(10);
	}
	ck_assert_msg(log, "no line about metrics_listen in brummd's log");
	free(log);
	/* Still served where it was, not at the new address. */
	resp = scrape(port, &body);
	free(resp);
	fd = tcp_connect(port2);
	ck_assert_msg(fd == -ECONNREFUSED, "the new address listens: %d", fd);
	brmh_check_stop(&H);
}
END_TEST

BRM_TEST_CASE("metrics_http", "metrics_http", 60, series_and_values, refusals, connection_bounds,
	      config_errors, reload_keeps_the_listener);
