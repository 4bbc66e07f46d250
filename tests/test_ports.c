/*
 * test_ports.c — listening TCP ports in `status` with "ports": true, end
 * to end (daemon/ports.c): a child listening on 127.0.0.1, a listener
 * forked by the main process (found through the process group), a socket
 * that the main process and its child both hold (listed once), a child
 * with only a connected socket (no port), a stopped process (null), an
 * IPv6 listener on ::1 (SKIP without IPv6 loopback), a process in its own
 * network namespace (SKIP unless root), the "fields" filter,
 * and the parser of /proc/net/tcp lines.
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/ports.h"
#include "tests/e2e.h"
#include "tests/harness.h"
#include "tests/suite.h"

static struct brmh H;

/* A port free on 127.0.0.1 (or ::1 with @v6) now; 0 when none can be had. */
static int free_port(bool v6)
{
	struct sockaddr_in6 sa6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = v6 ? sizeof(sa6) : sizeof(sa);
	int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0), port = 0;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return 0;
	if (bind(fd, v6 ? (struct sockaddr *)&sa6 : (struct sockaddr *)&sa, len) == 0 &&
	    getsockname(fd, v6 ? (struct sockaddr *)&sa6 : (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(v6 ? sa6.sin6_port : sa.sin_port);
	close(fd);
	return port;
}

/* The "ports" of @name as compact JSON ("null", "[...]"), or "absent". */
static char *ports_of(const char *name, bool ask)
{
	char params[160];
	const cJSON *res, *p;
	cJSON *r;
	char *s;
	int code;

	snprintf(params, sizeof(params), "{\"name\":\"%s\"%s}", name, ask ? ",\"ports\":true" : "");
	r = brmh_call(&H, "status", params);
	res = brmh_result(r, &code);
	ck_assert_int_eq(code, 0);
	p = cJSON_GetObjectItemCaseSensitive(res, "ports");
	s = p ? cJSON_PrintUnformatted(p) : strdup("absent");
	cJSON_Delete(r);
	return s;
}

/* Poll until the ports of @name are @want (10 s: TSan is slow). */
static void expect_ports(const char *name, const char *want)
{
	char *got = NULL;

	for (int t = 0; t < 200; t++) {
		free(got);
		got = ports_of(name, true);
		if (!strcmp(got, want))
			break;
		brmh_sleep_ms(50);
	}
	ck_assert_msg(!strcmp(got, want), "%s: ports %s, expected %s", name, got, want);
	free(got);
}

START_TEST(listeners_of_the_tree_and_not_connections)
{
	int p1 = free_port(false), p2, p3, lp;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	char cfg[2048], want[256];
	int lfd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	cJSON *r;
	const cJSON *procs;
	int code;

	/* four different ones (the kernel may hand out a freed one again) */
	do
		p2 = free_port(false);
	while (p2 == p1);
	do
		p3 = free_port(false);
	while (p3 == p1 || p3 == p2);
	do
		lp = free_port(false);
	while (lp == p1 || lp == p2 || lp == p3);
	ck_assert(p1 && p2 && p3 && lp);
	/* the test's own listener, for "conn" to connect to */
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((unsigned short)lp);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	ck_assert(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(lfd, 4) == 0);
	snprintf(cfg, sizeof(cfg),
		 "{\"processes\":{\"web\":{\"cmd\":[\"%s\",\"listen\",\"%d\"],\"start_secs\":0},"
		 "\"tree\":{\"cmd\":\"%s listen %d & %s sleep 3600 & wait\",\"shell\":true,"
		 "\"start_secs\":0},"
		 "\"conn\":{\"cmd\":[\"%s\",\"connect\",\"%d\"],\"start_secs\":0},"
		 "\"shared\":{\"cmd\":[\"%s\",\"listen-fork\",\"%d\"],\"start_secs\":0},"
		 "\"off\":{\"cmd\":[\"%s\",\"sleep\",\"10\"],\"autostart\":false}}}",
		 brmh_child(), p1, brmh_child(), p2, brmh_child(), brmh_child(), lp, brmh_child(), p3,
		 brmh_child());
	ck_assert(brmh_start(&H, cfg, NULL) == 0);

	snprintf(want, sizeof(want), "[{\"port\":%d,\"addr\":\"127.0.0.1\"}]", p1);
	expect_ports("web", want);
	/* the shell's child listens: found in the main process's group */
	snprintf(want, sizeof(want), "[{\"port\":%d,\"addr\":\"127.0.0.1\"}]", p2);
	expect_ports("tree", want);
	/* one socket held by the main process and its child: listed once */
	snprintf(want, sizeof(want), "[{\"port\":%d,\"addr\":\"127.0.0.1\"}]", p3);
	expect_ports("shared", want);
	/* a connected socket is no port */
	{
		char *line = brmh_wait_log(&H, "conn", "connected", 10000);

		ck_assert_ptr_nonnull(line);
		free(line);
	}
	expect_ports("conn", "[]");
	expect_ports("off", "null");
	{
		char *s = ports_of("web", false);

		ck_assert_str_eq(s, "absent");
		free(s);
	}

	/* status of all: each SNAP has its own; "fields" picks them */
	r = brmh_call(&H, "status", "{\"ports\":true,\"stats\":true,\"fields\":[\"ports\"]}");
	procs = cJSON_GetObjectItemCaseSensitive(brmh_result(r, &code), "processes");
	ck_assert_int_eq(code, 0);
	ck_assert_int_eq(cJSON_GetArraySize(procs), 5);
	{
		/* conn, off, shared, tree, web */
		const cJSON *tr = cJSON_GetArrayItem(procs, 3);
		char *s = cJSON_PrintUnformatted(cJSON_GetArrayItem(procs, 4));

		ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(tr, "cpu_secs"));
		snprintf(want, sizeof(want),
			 "{\"name\":\"web\",\"ports\":[{\"port\":%d,\"addr\":\"127.0.0.1\"}]}", p1);
		ck_assert_str_eq(s, want);
		free(s);
	}
	cJSON_Delete(r);
	/* brummctl: a PORTS column only with --ports (streamed table and one SNAP) */
	{
		char *out = NULL, *err = NULL, cell[32];

		snprintf(cell, sizeof(cell), "   %d   ", p1);
		ck_assert_int_eq(brmh_ctl(&H, &out, &err, "status", "--ports", NULL), 0);
		ck_assert_msg(strstr(out, "PORTS") && strstr(out, cell), "%s", out);
		free(out);
		free(err);
		ck_assert_int_eq(brmh_ctl(&H, &out, &err, "status", "web", "--ports", NULL), 0);
		ck_assert_msg(strstr(out, "PORTS") && strstr(out, cell), "%s", out);
		free(out);
		free(err);
		ck_assert_int_eq(brmh_ctl(&H, &out, &err, "status", NULL), 0);
		ck_assert_msg(!strstr(out, "PORTS"), "%s", out);
		free(out);
		free(err);
	}
	r = brmh_call(&H, "status", "{\"ports\":1}");
	brmh_result(r, &code);
	ck_assert_int_eq(code, -32602);
	cJSON_Delete(r);

	/* stopped: the whole tree is gone, and so are its ports */
	r = brmh_call(&H, "stop", "{\"names\":[\"web\",\"tree\"],\"wait\":true}");
	brmh_result(r, &code);
	ck_assert_int_eq(code, 0);
	cJSON_Delete(r);
	expect_ports("web", "null");
	expect_ports("tree", "null");
	close(lfd);
	brmh_check_stop(&H);
}
END_TEST

START_TEST(an_ipv6_listener)
{
	int p = free_port(true);
	char cfg[1024], want[256];

	if (!p) {
		printf("SKIP: ports: an_ipv6_listener (no IPv6 loopback on this machine)\n");
		return;
	}
	snprintf(cfg, sizeof(cfg),
		 "{\"processes\":{\"six\":{\"cmd\":[\"%s\",\"listen6\",\"%d\"],\"start_secs\":0}}}",
		 brmh_child(), p);
	ck_assert(brmh_start(&H, cfg, NULL) == 0);
	snprintf(want, sizeof(want), "[{\"port\":%d,\"addr\":\"::1\"}]", p);
	expect_ports("six", want);
	brmh_check_stop(&H);
}
END_TEST

/* A main process in a network namespace of its own: its /proc/PID/net/tcp. */
START_TEST(another_network_namespace)
{
	int p = free_port(false);
	char cfg[1024], want[256];

	if (geteuid() != 0 || access("/usr/bin/unshare", X_OK) != 0) {
		printf("SKIP: ports: another_network_namespace (needs root and /usr/bin/unshare)\n");
		return;
	}
	ck_assert_int_gt(p, 0);
	snprintf(cfg, sizeof(cfg),
		 "{\"processes\":{\"ns\":{\"cmd\":[\"/usr/bin/unshare\",\"-n\",\"%s\",\"listen\","
		 "\"%d\"],\"start_secs\":0}}}", brmh_child(), p);
	ck_assert(brmh_start(&H, cfg, NULL) == 0);
	{
		char *line = brmh_wait_log(&H, "ns", "listening on", 10000);

		ck_assert_ptr_nonnull(line);
		free(line);
	}
	snprintf(want, sizeof(want), "[{\"port\":%d,\"addr\":\"127.0.0.1\"}]", p);
	expect_ports("ns", want);
	brmh_check_stop(&H);
}
END_TEST

START_TEST(lines_of_proc_net_tcp)
{
	unsigned long long ino;
	unsigned port;
	unsigned char a[16];
	int len;
	char text[64];

	ck_assert(brm_ports_parse_line("   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 "
				       "00:00000000 00000000  1000        0 123456 1 "
				       "0000000000000000 100 0 0 10 0", &ino, &port, a, &len));
	ck_assert(ino == 123456);
	ck_assert_uint_eq(port, 8080);
	ck_assert_int_eq(len, 4);
	ck_assert_str_eq(inet_ntop(AF_INET, a, text, sizeof(text)), "127.0.0.1");
	/* established: not a listener */
	ck_assert(!brm_ports_parse_line("   1: 0100007F:1F90 0100007F:C350 01 00000000:00000000 "
					"00:00000000 00000000  1000        0 123457 1", &ino, &port,
					a, &len));
	ck_assert(brm_ports_parse_line("   0: 00000000000000000000000001000000:0050 "
				       "00000000000000000000000000000000:0000 0A 00000000:00000000 "
				       "00:00000000 00000000     0        0 99 1", &ino, &port, a,
				       &len));
	ck_assert_int_eq(len, 16);
	ck_assert_uint_eq(port, 80);
	ck_assert(ino == 99);
	ck_assert_str_eq(inet_ntop(AF_INET6, a, text, sizeof(text)), "::1");
	/* damaged lines */
	ck_assert(!brm_ports_parse_line("  sl  local_address rem_address   st", &ino, &port, a, &len));
	ck_assert(!brm_ports_parse_line("   0: 0100007:1F90 00000000:0000 0A", &ino, &port, a, &len));
	ck_assert(!brm_ports_parse_line("   0: 0100007F:1F90 00000000:0000 0A 0 0 0 0 0", &ino,
					&port, a, &len));
	ck_assert(!brm_ports_parse_line("", &ino, &port, a, &len));
}
END_TEST

BRM_TEST_CASE("ports", "ports", 60,
	listeners_of_the_tree_and_not_connections,
	an_ipv6_listener,
	another_network_namespace,
	lines_of_proc_net_tcp);
