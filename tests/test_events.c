/*
 * test_events.c — the `events` stream end to end: state changes arrive in
 * order with consecutive sequence numbers, history and resuming, the name
 * filter, a stalled subscriber gets a gap notice (and the daemon stays
 * bounded), and `brummctl events`.
 */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/e2e.h"
#include "tests/harness.h"
#include "tests/suite.h"

static struct brmh H;

/* A second raw connection: the subscriber. */
struct subconn {
	int fd;
	char buf[1 << 16];
	size_t len;
};

static void sub_open(struct subconn *s, const char *params)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char req[1024];
	int n;

	s->len = 0;
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(s->fd, 0);
	ck_assert_uint_lt(strlen(H.sock), sizeof(sa.sun_path));
	memcpy(sa.sun_path, H.sock, strlen(H.sock) + 1);
	ck_assert_int_eq(connect(s->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	n = snprintf(req, sizeof(req), "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"events\","
		     "\"params\":%s}\n", params ? params : "{}");
	ck_assert_int_eq(write(s->fd, req, (size_t)n), n);
}

/* The next line, parsed; NULL after @ms without one. */
static cJSON *sub_line(struct subconn *s, int ms)
{
	for (;;) {
		char *nl = memchr(s->buf, '\n', s->len);
		struct pollfd pfd = { .fd = s->fd, .events = POLLIN };
		ssize_t n;

		if (nl) {
			cJSON *j;
			*nl = '\0';
			j = cJSON_Parse(s->buf);
			s->len -= (size_t)(nl + 1 - s->buf);
			memmove(s->buf, nl + 1, s->len);
			ck_assert_ptr_nonnull(j);
			return j;
		}
		if (poll(&pfd, 1, ms) <= 0)
			return NULL;
		n = read(s->fd, s->buf + s->len, sizeof(s->buf) - 1 - s->len);
		if (n <= 0)
			return NULL;
		s->len += (size_t)n;
	}
}

static const cJSON *params_of(const cJSON *j, const char *method)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "method");

	if (!cJSON_IsString(m) || strcmp(m->valuestring, method))
		return NULL;
	return cJSON_GetObjectItemCaseSensitive(j, "params");
}

/* Read events until @name reaches @to; checks seq continuity from *@seq. */
static bool until(struct subconn *s, long *seq, const char *name, const char *to, int ms)
{
	for (;;) {
		cJSON *j = sub_line(s, ms);
		const cJSON *p;
		bool hit;

		if (!j)
			return false;
		ck_assert_msg(!params_of(j, "events.gap"), "unexpected gap notice");
		p = params_of(j, "events");
		ck_assert_ptr_nonnull(p);
		if (*seq)
			ck_assert_int_eq(brmh_int(p, "seq"), *seq + 1);
		*seq = brmh_int(p, "seq");
		hit = !strcmp(brmh_str(p, "name"), name) && !strcmp(brmh_str(p, "to"), to);
		cJSON_Delete(j);
		if (hit)
			return true;
	}
}

START_TEST(events_in_order_without_gaps)
{
	struct subconn s;
	cJSON *j, *r;
	const cJSON *res, *p;
	long seq = 0, first_seq;
	int code;

	brmh_check_start(&H, "{\"processes\":{\"a\":{\"cmd\":[\"%s\",\"sleep\",\"3600\"],\"start_secs\":0.05},"
		  "\"b\":{\"cmd\":[\"%s\",\"exit\",\"3\"],\"restart\":\"never\",\"start_secs\":0}}}",
		  brmh_child(), brmh_child());
	ck_assert(brmh_wait_state(&H, "a", "running", 3000));
	ck_assert(brmh_wait_state(&H, "b", "exited", 3000));

	/* The history from the start: a and b added, started, ... */
	sub_open(&s, "{\"history\":true}");
	j = sub_line(&s, 2000);
	res = brmh_result(j, &code);
	ck_assert_int_eq(code, 0);
	first_seq = brmh_int(res, "first_seq");
	ck_assert_int_eq(first_seq, 1);
	ck_assert_int_eq(brmh_int(res, "from_seq"), 1);
	cJSON_Delete(j);
	ck_assert(until(&s, &seq, "b", "exited", 2000));

	/* Live: a restart of a gives stopping, stopped/starting, running, in order. */
	r = brmh_call(&H, "restart", "{\"name\":\"a\",\"wait\":true}");
	ck_assert_int_eq((brmh_result(r, &code), code), 0);
	cJSON_Delete(r);
	ck_assert(until(&s, &seq, "a", "stopping", 2000));
	ck_assert(until(&s, &seq, "a", "running", 2000));

	/* A burst: 20 processes added and removed, nothing lost. */
	for (int i = 0; i < 20; i++) {
		char params[512];
		snprintf(params, sizeof(params), "{\"name\":\"x%d\",\"spec\":{\"cmd\":[\"%s\","
			 "\"sleep\",\"3600\"],\"start_secs\":0}}", i, brmh_child());
		r = brmh_call(&H, "add", params);
		cJSON_Delete(r);
	}
	for (int i = 0; i < 20; i++) {
		char params[64];
		snprintf(params, sizeof(params), "{\"name\":\"x%d\"}", i);
		r = brmh_call(&H, "remove", params);
		cJSON_Delete(r);
	}
	ck_assert(until(&s, &seq, "x19", "removed", 3000));
	close(s.fd);

	/* Resume from a sequence number: exactly that event comes first. */
	sub_open(&s, "{\"since_seq\":3}");
	j = sub_line(&s, 2000);
	cJSON_Delete(j);
	j = sub_line(&s, 2000);
	p = params_of(j, "events");
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(brmh_int(p, "seq"), 3);
	cJSON_Delete(j);
	close(s.fd);

	/* The name filter, and the fields of an exit event. */
	sub_open(&s, "{\"name\":\"b\",\"history\":true}");
	j = sub_line(&s, 2000);
	cJSON_Delete(j);
	for (int got = 0;; got++) {
		j = sub_line(&s, 5000);
		ck_assert_msg(j, "after %d events of b, nothing for 5 s (%zu bytes unparsed)", got,
			      s.len);
		p = params_of(j, "events");
		ck_assert_str_eq(brmh_str(p, "name"), "b");
		if (!strcmp(brmh_str(p, "to"), "exited")) {
			ck_assert_str_eq(brmh_str(p, "from"), "running");
			ck_assert_int_gt(brmh_int(p, "pid"), 0);
			ck_assert_str_eq(brmh_str(p, "reason"), "exited with code 3");
			cJSON_Delete(j);
			break;
		}
		cJSON_Delete(j);
	}
	close(s.fd);

	/* A since_seq beyond the newest event is refused. */
	r = brmh_call(&H, "events", "{\"since_seq\":999999,\"follow\":false}");
	ck_assert_ptr_null(brmh_result(r, &code));
	ck_assert_int_eq(code, -32602);
	cJSON_Delete(r);
	brmh_check_stop(&H);
}
END_TEST

START_TEST(stalled_subscriber_gets_gap_notice)
{
	struct subconn s;
	cJSON *j, *r;
	const cJSON *res, *p;
	long next = 0, start;
	int code, bufsize = 4096;
	bool gap = false;
	char spec[4096];
	size_t off = 0;

	/* A small history; events are made by adding and removing a process. */
	setenv("BRUMMD_EVENT_HISTORY_KIB", "4", 1);
	off += (size_t)snprintf(spec + off, sizeof(spec) - off, "{\"processes\":{}}");
	brmh_check_start(&H, "%s", spec);
	unsetenv("BRUMMD_EVENT_HISTORY_KIB");

	sub_open(&s, "{}");
	setsockopt(s.fd, SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof(bufsize));
	j = sub_line(&s, 2000);
	res = brmh_result(j, &code);
	ck_assert_int_eq(code, 0);
	start = brmh_int(res, "next_seq");
	cJSON_Delete(j);

	/*
	 * Not reading: make far more events than fit anywhere (about 1400 fill
	 * the kernel's socket buffer, the 64 KiB queue and the 4 KiB history).
	 */
	snprintf(spec, sizeof(spec), "{\"name\":\"g\",\"spec\":{\"cmd\":[\"%s\"],"
		 "\"autostart\":false}}", brmh_child());
	for (int i = 0; i < 2000; i++) {
		r = brmh_call(&H, "add", spec);
		cJSON_Delete(r);
		r = brmh_call(&H, "remove", "{\"name\":\"g\"}");
		cJSON_Delete(r);
	}
	r = brmh_call(&H, "events", "{\"follow\":false}");
	next = brmh_int(brmh_result(r, &code), "next_seq");
	cJSON_Delete(r);
	ck_assert_int_ge(next - start, 4000);

	/* Now read: a gap notice comes, and then events again in order. */
	for (int i = 0; i < 20000 && !gap; i++) {
		j = sub_line(&s, 2000);
		ck_assert_ptr_nonnull(j);
		if ((p = params_of(j, "events.gap"))) {
			ck_assert_int_gt(brmh_int(p, "missed"), 0);
			ck_assert_int_gt(brmh_int(p, "next_seq"), start);
			next = brmh_int(p, "next_seq");
			gap = true;
		}
		cJSON_Delete(j);
	}
	ck_assert(gap);
	j = sub_line(&s, 2000);
	ck_assert_ptr_nonnull(j);
	p = params_of(j, "events");
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(brmh_int(p, "seq"), next);
	cJSON_Delete(j);
	close(s.fd);
	brmh_check_stop(&H);
}
END_TEST

START_TEST(brummctl_events_prints_lines)
{
	char *out = NULL, *err = NULL;
	int rc;

	brmh_check_start(&H, "{\"processes\":{\"a\":{\"cmd\":[\"%s\",\"sleep\",\"3600\"],"
		  "\"start_secs\":0.05}}}", brmh_child());
	ck_assert(brmh_wait_state(&H, "a", "running", 3000));
	rc = brmh_ctl(&H, &out, &err, "events", "--history", "--count", "3", NULL);
	ck_assert_msg(rc == 0, "rc %d: %s", rc, err);
	ck_assert_msg(strstr(out, "a") && strstr(out, "stopped -> starting") &&
		      strstr(out, "starting -> running"), "%s", out);
	free(out);
	free(err);
	rc = brmh_ctl(&H, &out, &err, "--json", "events", "--history", "--count", "1", NULL);
	ck_assert_msg(rc == 0, "rc %d: %s", rc, err);
	ck_assert_msg(strstr(out, "\"seq\":1") && strstr(out, "\"to\":\"stopped\""), "%s", out);
	free(out);
	free(err);
	brmh_check_stop(&H);
}
END_TEST

/* Scripts reading `--json events` get the error as JSON too when brummd goes. */
START_TEST(brummctl_events_json_reports_a_lost_daemon_as_json)
{
	char out_path[400], err_path[400], *out;
	pid_t pid;
	int rc;

	brmh_check_start(&H, "{\"processes\":{\"a\":{\"cmd\":[\"%s\",\"sleep\",\"3600\"],"
		  "\"start_secs\":0.05}}}", brmh_child());
	ck_assert(brmh_wait_state(&H, "a", "running", 3000));
	snprintf(out_path, sizeof(out_path), "/tmp/brm-events-out.%d", (int)getpid());
	snprintf(err_path, sizeof(err_path), "/tmp/brm-events-err.%d", (int)getpid());
	pid = brmh_ctl_spawn(&H, out_path, err_path, "--json", "events", "--history", NULL);
	ck_assert_int_gt(pid, 0);
	out = brmh_wait_file(out_path, 3000);	/* subscribed: the history came */
	ck_assert_ptr_nonnull(out);
	free(out);
	brmh_check_stop(&H);
	rc = brmh_wait_exit(pid, 5000);
	out = brmh_read_file(out_path);
	ck_assert_msg(rc == 3, "exit %d", rc);
	ck_assert_msg(out && strstr(out, "{\"error\":{\"code\":null,\"message\":\"lost brummd"),
		      "stdout: %s", out ? out : "");
	free(out);
	unlink(out_path);
	unlink(err_path);
}
END_TEST

/*
 * A history longer than what one pump sends (BRM_EVENTS_OUT_MAX, 64 KiB)
 * arrives whole to a subscriber that reads at once, with no new event to
 * wake its worker.
 */
START_TEST(a_long_history_arrives_whole)
{
	struct subconn s;
	cJSON *j, *r;
	long seq = 0, last = 0;
	int code;

	brmh_check_start(&H, "{}");
	for (int i = 0; i < 400; i++) {
		char params[512];

		snprintf(params, sizeof(params), "{\"name\":\"h%03d\",\"spec\":{\"cmd\":[\"%s\","
			 "\"sleep\",\"3600\"],\"start_secs\":0}}", i, brmh_child());
		r = brmh_call(&H, "add", params);
		cJSON_Delete(r);
		snprintf(params, sizeof(params), "{\"name\":\"h%03d\",\"wait\":true}", i);
		r = brmh_call(&H, "remove", params);
		cJSON_Delete(r);
	}
	sub_open(&s, "{\"history\":true}");
	j = sub_line(&s, 3000);
	ck_assert_ptr_nonnull(brmh_result(j, &code));
	last = brmh_int(brmh_result(j, &code), "next_seq") - 1;
	cJSON_Delete(j);
	ck_assert_msg(last > 600, "only %ld events", last);
	while (seq < last) {
		const cJSON *p;

		j = sub_line(&s, 3000);
		ck_assert_msg(j, "history stalled after seq %ld of %ld", seq, last);
		p = params_of(j, "events");
		ck_assert_ptr_nonnull(p);
		seq = brmh_int(p, "seq");
		cJSON_Delete(j);
	}
	close(s.fd);
	brmh_check_stop(&H);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("events");
	TCase *tc = tcase_create("events");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, events_in_order_without_gaps);
	tcase_add_test(tc, brummctl_events_prints_lines);
	tcase_add_test(tc, a_long_history_arrives_whole);
	tcase_add_test(tc, brummctl_events_json_reports_a_lost_daemon_as_json);
	suite_add_tcase(s, tc);

	/*
	 * 4000 adds and removes, each written to disk before its reply: about
	 * 10 s alone, three times that on a loaded machine.
	 */
	tc = tcase_create("stalled");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, stalled_subscriber_gets_gap_notice);
	suite_add_tcase(s, tc);
	return s;
}

Suite *brm_test_suite(void)
{
	return suite();
}
