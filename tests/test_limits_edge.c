/*
 * test_limits_edge.c — every protocol limit at its boundary and one past
 * it, against a real brummd with small limits: max_message_bytes (a line
 * of exactly the limit, newline included, is served; one byte more gets
 * -32004 with id null and the connection is closed), max_json_depth,
 * max_clients (each of max_clients clients is served; the next gets the
 * -32004 line and is closed), max_name_len, max_processes and
 * idle_timeout_secs.
 *
 * max_queued_bytes is left to test_faults: where it bites depends on the
 * kernel's socket buffer sizes, so no boundary is deterministic here.
 */
#include <check.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/e2e.h"
#include "tests/harness.h"
#include "tests/suite.h"

static struct brmh H;

#define MAX_MSG 1024
#define MAX_DEPTH 4
#define MAX_CLIENTS 3
#define MAX_NAME 8
#define MAX_PROCS 3

static void start(void)
{
	brmh_check_start(&H,
		"{\"limits\": {\"max_message_bytes\": %d, \"max_json_depth\": %d,"
		" \"max_clients\": %d, \"max_name_len\": %d, \"max_processes\": %d},"
		" \"processes\": {"
		"  \"a\": {\"cmd\": [\"%s\", \"sleep\", \"30\"], \"autostart\": false},"
		"  \"b\": {\"cmd\": [\"%s\", \"sleep\", \"30\"], \"autostart\": false}}}",
		MAX_MSG, MAX_DEPTH, MAX_CLIENTS, MAX_NAME, MAX_PROCS, brmh_child(), brmh_child());
}

static void send_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		ck_assert_msg(n > 0, "write to brummd failed");
		p += n;
		len -= (size_t)n;
	}
}

/*
 * The next line from @fd, parsed (NULL after 3 s or at EOF). *@eof_after
 * (if given) tells whether the connection was closed right after it.
 */
static cJSON *read_reply(int fd, bool *eof_after)
{
	static char buf[65536];
	size_t len = 0;
	char *nl = NULL;
	cJSON *r;

	while (!nl && len < sizeof(buf) - 1) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t n;

		if (poll(&p, 1, 3000) <= 0)
			return NULL;
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			return NULL;
		len += (size_t)n;
		buf[len] = 0;
		nl = strchr(buf, '\n');
	}
	if (!nl)
		return NULL;
	*nl = 0;
	r = cJSON_Parse(buf);
	if (eof_after) {
		struct pollfd p = { fd, POLLIN, 0 };
		char c;

		*eof_after = nl + 1 == buf + len && poll(&p, 1, 3000) == 1 && read(fd, &c, 1) == 0;
	}
	return r;
}

static int code_of(const cJSON *r)
{
	int code = 1;

	if (r)
		brmh_result(r, &code);
	return code;
}

static const char *message_of(const cJSON *r)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(r, "error");

	return e ? brmh_str(e, "message") : "";
}

/* A ping request line of exactly @total bytes, newline included (padded
 * with JSON whitespace after the opening brace). */
static char *ping_line(size_t total)
{
	const char *body = "\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"ping\"}\n";
	size_t pad = total - 1 - strlen(body);
	char *line = malloc(total + 1);

	line[0] = '{';
	memset(line + 1, ' ', pad);
	strcpy(line + 1 + pad, body);
	ck_assert_uint_eq(strlen(line), total);
	return line;
}

START_TEST(max_message_bytes_boundary)
{
	char *line;
	cJSON *r;
	bool eof;
	int fd;

	start();
	/* exactly the limit: served, the connection stays */
	fd = brmh_connect(&H);
	ck_assert_int_ge(fd, 0);
	line = ping_line(MAX_MSG);
	send_all(fd, line, MAX_MSG);
	free(line);
	r = read_reply(fd, NULL);
	ck_assert_msg(r && code_of(r) == 0 && brmh_int(r, "id") == 7,
		      "a %d-byte line was not served", MAX_MSG);
	cJSON_Delete(r);
	close(fd);

	/* one byte more: -32004, id null, closed */
	fd = brmh_connect(&H);
	ck_assert_int_ge(fd, 0);
	line = ping_line(MAX_MSG + 1);
	send_all(fd, line, MAX_MSG + 1);
	free(line);
	r = read_reply(fd, &eof);
	ck_assert_msg(r, "no reply to a %d-byte line", MAX_MSG + 1);
	ck_assert_int_eq(code_of(r), -32004);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(r, "id")));
	ck_assert_msg(strstr(message_of(r), "max_message_bytes"), "message: %s", message_of(r));
	ck_assert_msg(eof, "the connection stayed open after an oversized line");
	cJSON_Delete(r);
	close(fd);
	brmh_check_stop(&H);
}
END_TEST

START_TEST(max_json_depth_boundary)
{
	char line[256];
	cJSON *r;
	int fd;

	start();
	fd = brmh_connect(&H);
	ck_assert_int_ge(fd, 0);
	/* request object, params, two arrays: depth 4, the limit */
	snprintf(line, sizeof(line),
		 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":{\"x\":[[1]]}}\n");
	send_all(fd, line, strlen(line));
	r = read_reply(fd, NULL);
	ck_assert_msg(r && brmh_int(r, "id") == 1 && code_of(r) != -32004,
		      "depth %d was refused: %s", MAX_DEPTH, r ? message_of(r) : "no reply");
	cJSON_Delete(r);
	/* depth 5: -32004 with id null, and the connection stays usable */
	snprintf(line, sizeof(line),
		 "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\",\"params\":{\"x\":[[[1]]]}}\n");
	send_all(fd, line, strlen(line));
	r = read_reply(fd, NULL);
	ck_assert_msg(r, "no reply at depth %d", MAX_DEPTH + 1);
	ck_assert_int_eq(code_of(r), -32004);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(r, "id")));
	ck_assert_msg(strstr(message_of(r), "max_json_depth"), "message: %s", message_of(r));
	cJSON_Delete(r);
	snprintf(line, sizeof(line), "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"ping\"}\n");
	send_all(fd, line, strlen(line));
	r = read_reply(fd, NULL);
	ck_assert_msg(r && code_of(r) == 0 && brmh_int(r, "id") == 3, "not usable after");
	cJSON_Delete(r);
	close(fd);
	brmh_check_stop(&H);
}
END_TEST

START_TEST(max_clients_boundary)
{
	const char *ping = "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"ping\"}\n";
	int fds[MAX_CLIENTS], over;
	bool eof, served = false;
	cJSON *r;

	start();
	/* the harness's own connection is client 1 */
	fds[0] = H.fd;
	for (int i = 1; i < MAX_CLIENTS; i++) {
		fds[i] = brmh_connect(&H);
		ck_assert_int_ge(fds[i], 0);
	}
	for (int i = 0; i < MAX_CLIENTS; i++) {
		send_all(fds[i], ping, strlen(ping));
		r = read_reply(fds[i], NULL);
		ck_assert_msg(r && code_of(r) == 0 && brmh_int(r, "id") == 5,
			      "client %d of %d was not served", i + 1, MAX_CLIENTS);
		cJSON_Delete(r);
	}
	over = brmh_connect(&H);
	ck_assert_int_ge(over, 0);
	r = read_reply(over, &eof);
	ck_assert_msg(r, "client %d got no refusal", MAX_CLIENTS + 1);
	ck_assert_int_eq(code_of(r), -32004);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(r, "id")));
	ck_assert_msg(strstr(message_of(r), "max_clients"), "message: %s", message_of(r));
	ck_assert_msg(eof, "the refused client was not closed");
	cJSON_Delete(r);
	close(over);
	/* the others are still served; once one leaves, a newcomer is */
	send_all(fds[1], ping, strlen(ping));
	r = read_reply(fds[1], NULL);
	ck_assert_int_eq(code_of(r), 0);
	cJSON_Delete(r);
	close(fds[MAX_CLIENTS - 1]);
	for (int t = 0; t < 100 && !served; t++) {
		int fd = brmh_connect(&H);

		ck_assert_int_ge(fd, 0);
		/* still refused: brummd may have closed it before the write */
		if (write(fd, ping, strlen(ping)) == (ssize_t)strlen(ping)) {
			r = read_reply(fd, NULL);
			served = code_of(r) == 0;
		} else {
			r = NULL;
		}
		cJSON_Delete(r);
		close(fd);
		if (!served)
			brmh_sleep_ms(20);   /* the close is noticed asynchronously */
	}
	ck_assert_msg(served, "no client served after one left");
	for (int i = 1; i < MAX_CLIENTS - 1; i++)
		close(fds[i]);
	brmh_check_stop(&H);
}
END_TEST

static int add(const char *name)
{
	char params[512];
	cJSON *r;
	int code;

	snprintf(params, sizeof(params),
		 "{\"name\":\"%s\",\"spec\":{\"cmd\":[\"%s\",\"sleep\",\"30\"],\"autostart\":false}}",
		 name, brmh_child());
	r = brmh_call(&H, "add", params);
	ck_assert_ptr_nonnull(r);
	brmh_result(r, &code);
	if (code)
		ck_assert_msg(strstr(message_of(r), code == -32004 ? "max_processes" : "max_name_len"),
			      "add '%s': %d %s", name, code, message_of(r));
	cJSON_Delete(r);
	return code;
}

START_TEST(max_name_len_boundary)
{
	start();
	ck_assert_int_eq(add("abcdefgh"), 0);          /* 8 bytes: the limit */
	ck_assert_int_eq(add("abcdefghi"), -32602);    /* 9 */
	brmh_check_stop(&H);
}
END_TEST

START_TEST(max_processes_boundary)
{
	start();                                        /* 2 from the config */
	ck_assert_int_eq(add("c"), 0);                  /* 3: the limit */
	ck_assert_int_eq(add("d"), -32004);             /* 4 */
	/* a removal makes room again */
	{
		cJSON *r = brmh_call(&H, "remove", "{\"name\":\"c\"}");
		ck_assert_int_eq(code_of(r), 0);
		cJSON_Delete(r);
	}
	ck_assert_int_eq(add("d"), 0);
	brmh_check_stop(&H);
}
END_TEST

/*
 * idle_timeout_secs: a client active more often than the timeout stays,
 * however long it stays; one idle past it gets the -32004 line (id null)
 * and is closed.
 */
START_TEST(idle_timeout_boundary)
{
	const char *ping = "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"ping\"}\n";
	struct timespec t0, t1;
	double idle;
	bool eof;
	cJSON *r;
	int fd;

	brmh_check_start(&H, "{\"limits\": {\"idle_timeout_secs\": 0.5}}");
	fd = brmh_connect(&H);
	ck_assert_int_ge(fd, 0);
	/* 1.2 s of a request every 0.1 s: never idle for 0.5 s */
	for (int i = 0; i < 12; i++) {
		send_all(fd, ping, strlen(ping));
		r = read_reply(fd, NULL);
		ck_assert_msg(r && code_of(r) == 0, "an active client was cut after %d pings", i);
		cJSON_Delete(r);
		brmh_sleep_ms(100);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = read_reply(fd, &eof);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	idle = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	ck_assert_msg(r, "an idle client got no notice");
	ck_assert_int_eq(code_of(r), -32004);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(r, "id")));
	ck_assert_msg(strstr(message_of(r), "idle_timeout_secs"), "message: %s", message_of(r));
	ck_assert_msg(eof, "the idle client was not closed");
	ck_assert_msg(idle > 0.3, "closed after %.3fs idle, before the 0.5 s timeout", idle);
	cJSON_Delete(r);
	close(fd);
	brmh_check_stop(&H);
}
END_TEST

BRM_TEST_CASE("limits_edge", "limits_edge", 20,
	max_message_bytes_boundary,
	max_json_depth_boundary,
	max_clients_boundary,
	max_name_len_boundary,
	max_processes_boundary,
	idle_timeout_boundary);
