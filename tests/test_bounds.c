/*
 * test_bounds.c — memory and work per client stay bounded (issue 11,
 * section 6), end to end against a real brummd:
 *  - clients that pipeline status requests and never read do not grow
 *    brummd (replies wait for the client instead), other clients are still
 *    served, and every reply arrives in order once the client reads;
 *  - a wait whose client closed is cancelled: thousands of abandoned waits
 *    make neither a state change nor SIGTERM slow;
 *  - one uid cannot take every client slot (max_clients_per_uid), and root
 *    always finds one free (the reserved slots).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon/conf/config.h"
#include "tests/e2e.h"
#include "tests/harness.h"
#include "tests/suite.h"

static struct brmh H;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* @n processes named p0.. running the test child's sleep, with @extra
 * members each, into a config with @limits (the members of "limits"). */
static char *procs_config(int n, const char *extra, const char *limits)
{
	size_t cap = 256 + (size_t)n * (256 + strlen(extra)) + strlen(limits);
	char *s = malloc(cap);
	size_t len;

	ck_assert_ptr_nonnull(s);
	len = (size_t)snprintf(s, cap, "{\"limits\":{%s},\"processes\":{", limits);
	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(s + len, cap - len, "%s\"p%d\":{\"cmd\":[\"%s\",\"sleep\","
					"\"3600\"]%s}", i ? "," : "", i, brmh_child(), extra);
	snprintf(s + len, cap - len, "}}");
	return s;
}

/* Read what is there (non-blocking fd) into @buf; false on EOF or error. */
static bool read_some(int fd, char **buf, size_t *len, size_t *cap)
{
	for (;;) {
		ssize_t n;

		if (*cap - *len < 65536) {
			*cap = *cap * 2 + 65536;
			*buf = realloc(*buf, *cap);
			ck_assert_ptr_nonnull(*buf);
		}
		n = read(fd, *buf + *len, *cap - *len);
		if (n > 0) {
			*len += (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return true;
		return false;
	}
}

/* ---- pipelining clients that never read --------------------------------- */

#define PIPE_CLIENTS 8
#define PIPE_REQUESTS 1000
#define PIPE_PROCS 50

struct piper {
	int fd;
	size_t sent;        /* bytes of reqs written */
	char *in;           /* replies read, not yet checked */
	size_t inlen, incap;
	int next_id;        /* the id the next reply must carry */
	bool eof;
};

/* Check the complete reply lines in @p->in: ids in order, all results. */
static void piper_check_lines(struct piper *p, int k)
{
	char *start = p->in, *nl;

	while ((nl = memchr(start, '\n', (size_t)(p->in + p->inlen - start)))) {
		char prefix[64];
		int plen = snprintf(prefix, sizeof(prefix), "{\"jsonrpc\":\"2.0\",\"id\":%d,\"result\":",
				    p->next_id);

		ck_assert_msg(nl - start >= plen && !memcmp(start, prefix, (size_t)plen),
			      "client %d: reply %d is not the result of request %d: %.200s", k,
			      p->next_id, p->next_id, start);
		p->next_id++;
		start = nl + 1;
	}
	p->inlen = (size_t)(p->in + p->inlen - start);
	memmove(p->in, start, p->inlen);
}

START_TEST(never_reading_clients_stay_bounded)
{
	struct piper pipers[PIPE_CLIENTS];
	char *cfg = procs_config(PIPE_PROCS, ",\"start_secs\":0", "\"max_queued_bytes\":65536");
	char *reqs, name[16];
	size_t reqlen = 0, reqcap = (size_t)PIPE_REQUESTS * 64;
	long hwm0, hwm1, rss0, rss1;
	double t, deadline;
	cJSON *r;
	int code, done;

	brmh_check_start(&H, "%s", cfg);
	free(cfg);
	for (int i = 0; i < PIPE_PROCS; i++) {
		snprintf(name, sizeof(name), "p%d", i);
		ck_assert(brmh_wait_state(&H, name, "running", 5000));
	}
	r = brmh_call(&H, "status", NULL);
	ck_assert_ptr_nonnull(brmh_result(r, &code));
	cJSON_Delete(r);
	hwm0 = brmh_vm_kb(H.pid, "VmHWM:");
	rss0 = brmh_vm_kb(H.pid, "VmRSS:");

	reqs = malloc(reqcap);
	ck_assert_ptr_nonnull(reqs);
	for (int id = 1; id <= PIPE_REQUESTS; id++)
		reqlen += (size_t)snprintf(reqs + reqlen, reqcap - reqlen,
					   "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"status\"}\n", id);
	for (int k = 0; k < PIPE_CLIENTS; k++) {
		pipers[k] = (struct piper){ .fd = brmh_connect(&H), .next_id = 1 };
		ck_assert_int_ge(pipers[k].fd, 0);
		fcntl(pipers[k].fd, F_SETFL, fcntl(pipers[k].fd, F_GETFL) | O_NONBLOCK);
	}
	/* Send as much as brummd takes for a second; read nothing. */
	deadline = now_s() + 1.0;
	while (now_s() < deadline) {
		for (int k = 0; k < PIPE_CLIENTS; k++) {
			ssize_t n;

			if (pipers[k].sent == reqlen)
				continue;
			n = write(pipers[k].fd, reqs + pipers[k].sent, reqlen - pipers[k].sent);
			if (n > 0)
				pipers[k].sent += (size_t)n;
		}
		brmh_sleep_ms(10);
	}

	/* Others are served meanwhile. */
	t = now_s();
	r = brmh_call(&H, "ping", NULL);
	t = now_s() - t;
	ck_assert_ptr_nonnull(brmh_result(r, &code));
	cJSON_Delete(r);
	ck_assert_msg(t < 1.0, "ping took %.3f s beside %d clients that do not read", t,
		      PIPE_CLIENTS);

	hwm1 = brmh_vm_kb(H.pid, "VmHWM:");
	rss1 = brmh_vm_kb(H.pid, "VmRSS:");
	printf("bounds: %d clients pipelining %d status requests of %d processes, never reading:"
	       " brummd VmHWM %+ld KiB, VmRSS %+ld KiB\n", PIPE_CLIENTS, PIPE_REQUESTS,
	       PIPE_PROCS, hwm1 - hwm0, rss1 - rss0);
	fflush(stdout);
	ck_assert_msg(hwm1 - hwm0 < 16 * 1024, "brummd grew by %ld KiB (peak)", hwm1 - hwm0);

	/* Now they read: every reply, in order, none lost (TSan on a loaded
	 * machine served 4 of 8 in 40 s). */
	deadline = now_s() + (getenv("TSAN_OPTIONS") ? 150 : 40);
	do {
		struct pollfd pfd[PIPE_CLIENTS];

		done = 0;
		for (int k = 0; k < PIPE_CLIENTS; k++) {
			pfd[k].fd = pipers[k].fd;
			pfd[k].events = POLLIN | (pipers[k].sent < reqlen ? POLLOUT : 0);
			pfd[k].revents = 0;
		}
		poll(pfd, PIPE_CLIENTS, 200);
		for (int k = 0; k < PIPE_CLIENTS; k++) {
			struct piper *p = &pipers[k];

			if ((pfd[k].revents & POLLOUT) && p->sent < reqlen) {
				ssize_t n = write(p->fd, reqs + p->sent, reqlen - p->sent);
				if (n > 0)
					p->sent += (size_t)n;
			}
			if (pfd[k].revents & (POLLIN | POLLHUP) && !p->eof) {
				p->eof = !read_some(p->fd, &p->in, &p->inlen, &p->incap);
				piper_check_lines(p, k);
			}
			ck_assert_msg(!p->eof || p->next_id > PIPE_REQUESTS,
				      "client %d was closed after %d replies", k, p->next_id - 1);
			if (p->next_id > PIPE_REQUESTS)
				done++;
		}
	} while (done < PIPE_CLIENTS && now_s() < deadline);
	ck_assert_msg(done == PIPE_CLIENTS, "only %d of %d clients got every reply", done,
		      PIPE_CLIENTS);
	for (int k = 0; k < PIPE_CLIENTS; k++) {
		close(pipers[k].fd);
		free(pipers[k].in);
	}
	free(reqs);
	brmh_check_stop(&H);
}
END_TEST

/* ---- abandoned waits ---------------------------------------------------- */

#define WAIT_PROCS 40

/*
 * The quickest of @n waited stops of @name (each then started again): the
 * reply comes once the process stopped, so it pays for every state change
 * on the way and for what the waiters cost each of them.
 */
static double state_change_secs(const char *name, int n)
{
	char stop[96], start[64];
	double best = 1e9;

	snprintf(stop, sizeof(stop), "{\"name\":\"%s\",\"wait\":true,\"timeout_secs\":30}", name);
	snprintf(start, sizeof(start), "{\"name\":\"%s\"}", name);
	for (int i = 0; i < n; i++) {
		double t = now_s();
		cJSON *r = brmh_call(&H, "stop", stop);
		int code;

		t = now_s() - t;
		ck_assert_msg(brmh_result(r, &code), "stop %s: code %d", name, code);
		cJSON_Delete(r);
		if (t < best)
			best = t;
		r = brmh_call(&H, "start", start);
		ck_assert_msg(brmh_result(r, &code), "start %s: code %d", name, code);
		cJSON_Delete(r);
	}
	return best;
}

START_TEST(abandoned_waits_are_cancelled)
{
	static const char wait_line[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"wait\","
		"\"params\":{\"all\":true,\"health\":\"healthy\",\"timeout_secs\":3600}}\n";
	/* starting for an hour: a wait for a health stays pending */
	char *cfg = procs_config(WAIT_PROCS, ",\"start_secs\":3600", "");
	const char *env = getenv("BRM_BOUNDS_WAIT_CYCLES");
	int cycles = env ? atoi(env) : 3000;
	double t0, t1, tc, ts;
	int status, refused = 0;
	long rss0 = 0, rss1;

	brmh_check_start(&H, "%s", cfg);
	free(cfg);
	ck_assert(brmh_wait_state(&H, "p39", "starting", 5000));
	t0 = state_change_secs("p0", 3);

	tc = now_s();
	for (int i = 0; i < 2 * cycles; i++) {
		/* the first half warms the allocator up; the second must not
		 * grow brummd: each cancelled wait's memory is taken again */
		if (i == cycles) {
			brmh_sleep_ms(300);
			rss0 = brmh_vm_kb(H.pid, "VmRSS:");
		}
		int fd = brmh_connect(&H);

		ck_assert_int_ge(fd, 0);
		/* faster than brummd sees them go: max_clients may refuse a few */
		if (write(fd, wait_line, sizeof(wait_line) - 1) < 0)
			refused++;
		close(fd);
	}
	tc = now_s() - tc;
	ck_assert_msg(refused < cycles / 2, "%d of %d waits were refused", refused, 2 * cycles);
	brmh_sleep_ms(300);
	t1 = state_change_secs("p1", 3);
	/* What a wait holds (its connection, its targets, a timer) is freed
	 * with the connection, not an hour later. */
	rss1 = brmh_vm_kb(H.pid, "VmRSS:");
	printf("bounds: brummd VmRSS %+ld KiB over the second %d abandoned waits\n", rss1 - rss0,
	       cycles);

	ts = now_s();
	status = brmh_stop(&H, 5000);
	ts = now_s() - ts;
	printf("bounds: %d connect-wait-close cycles (%d refused) in %.2f s; a state change took %.2f ms"
	       " before and %.2f ms after; SIGTERM to exit %.2f s\n", 2 * cycles, refused, tc, t0 * 1e3,
	       t1 * 1e3, ts);
	fflush(stdout);
	/* Not cancelled, 3000 waits on 40 processes hold about 20 MiB; freed,
	 * the second batch reuses the first's memory (0.2-3 MiB). Not under
	 * ASan (its quarantine keeps freed memory) or TSan (shadow memory). */
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
	ck_assert_msg(rss1 - rss0 < cycles * 8 / 3, "brummd grew %ld KiB over %d abandoned waits:"
		      " they were not freed with their connections", rss1 - rss0, cycles);
#endif
	ck_assert_msg(t1 < 10 * t0 + 0.02, "a state change took %.2f ms after %d abandoned"
		      " waits, %.2f ms before", t1 * 1e3, cycles, t0 * 1e3);
	ck_assert_msg(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "brummd did not exit 0 within 5 s of SIGTERM (status %d)", status);
}
END_TEST

/* ---- connections per uid ------------------------------------------------ */

/* One line from a blocking @fd within @ms, or NULL. Caller frees. */
static char *line_within(int fd, int ms)
{
	char buf[1024];
	size_t len = 0;

	while (len < sizeof(buf) - 1) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, ms) <= 0)
			return NULL;
		n = read(fd, buf + len, 1);
		if (n <= 0)
			return NULL;
		if (buf[len] == '\n')
			break;
		len++;
	}
	buf[len] = '\0';
	return strdup(buf);
}

static const char ping_line[] = "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"ping\"}\n";

/* Connect and ping; true when the ping was answered. */
static int served_connection(struct brmh *h)
{
	int fd = brmh_connect(h);
	char *s;
	bool ok;

	if (fd < 0)
		return -1;
	if (write(fd, ping_line, sizeof(ping_line) - 1) < 0) {
		close(fd);
		return -1;
	}
	s = line_within(fd, 3000);
	ok = s && strstr(s, "\"result\"");
	free(s);
	if (!ok) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Fork a child that becomes @uid (group nogroup), opens @hold served
 * connections, then, with @extra, one more whose first line it writes to
 * @report; then "held\n", and it keeps its connections until @hold_pipe
 * reads EOF. Exits 0, or 10 + the connection that was not served.
 */
static pid_t holder(uid_t uid, int hold, bool extra, int report, int hold_pipe[2])
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int hold_fd = hold_pipe[0];
		char c;

		close(hold_pipe[1]);

		if (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 ||
		    setresuid(uid, uid, uid) < 0)
			_exit(2);
		for (int i = 0; i < hold; i++)
			if (served_connection(&H) < 0)
				_exit(10 + i);
		if (extra) {
			int fd = brmh_connect(&H);
			char *s = fd >= 0 ? line_within(fd, 3000) : NULL;
			dprintf(report, "%s\n", s ? s : "(nothing)");
		}
		dprintf(report, "held\n");
		while (read(hold_fd, &c, 1) > 0)
			;
		_exit(0);
	}
	return pid;
}

/* The next line of the children's report pipe. */
static char *report_line(int fd, pid_t kid)
{
	char *s = line_within(fd, 10000);
	int status = -1;

	if (!s && waitpid(kid, &status, WNOHANG) != kid)
		status = -1;
	ck_assert_msg(s, "a child did not report (status %d: 2 no setresuid, 10+n connection n"
		      " not served)", status);
	return s;
}

static int count_in_file(const char *path, const char *needle)
{
	char *text = brmh_read_file(path), *p = text;
	int n = 0;

	while (p && (p = strstr(p, needle))) {
		n++;
		p += strlen(needle);
	}
	free(text);
	return n;
}

START_TEST(one_uid_cannot_take_every_slot)
{
	int rep[2], hold[2], status, fds[3];
	pid_t kids[3];
	char *s;

	if (geteuid() != 0) {
		printf("SKIP: one_uid_cannot_take_every_slot needs root (setresuid to nobody)\n");
		return;
	}
	/* 10 clients, 2 of them kept for root; 3 per uid. brummd makes the
	 * socket's directory nogroup's (it refuses root's group's). */
	brmh_socket_subdir = "run";
	brmh_check_start(&H, "{\"socket_mode\":\"0660\",\"socket_group\":\"nogroup\","
			 "\"access\":{\"readers\":{\"users\":[\"*\"]}},"
			 "\"limits\":{\"max_clients\":10,\"max_clients_per_uid\":3}}");
	ck_assert_int_eq(chmod(H.dir, 0711), 0);
	close(H.fd);   /* count from zero */
	H.fd = -1;
	brmh_sleep_ms(100);
	ck_assert_int_eq(pipe(rep), 0);
	ck_assert_int_eq(pipe(hold), 0);

	/* nobody: three served, the fourth refused with the reason */
	kids[0] = holder(65534, 3, true, rep[1], hold);
	s = report_line(rep[0], kids[0]);
	ck_assert_msg(strstr(s, "-32004") &&
		      strstr(s, "too many connections from uid 65534 (max_clients_per_uid 3)"),
		      "the fourth connection of nobody got: %s", s);
	free(s);
	s = report_line(rep[0], kids[0]);
	ck_assert_str_eq(s, "held");
	free(s);
	/* daemon (uid 1) holds 3, bin (uid 2) 2: the 8 slots of other uids are
	 * full, so bin's third is refused though under its own cap */
	kids[1] = holder(1, 3, false, rep[1], hold);
	s = report_line(rep[0], kids[1]);
	ck_assert_str_eq(s, "held");
	free(s);
	kids[2] = holder(2, 2, true, rep[1], hold);
	s = report_line(rep[0], kids[2]);
	ck_assert_msg(strstr(s, "-32004") && strstr(s, "too many clients (max_clients 10"),
		      "bin's third connection got: %s", s);
	free(s);
	s = report_line(rep[0], kids[2]);
	ck_assert_str_eq(s, "held");
	free(s);

	/* root (brummd's own uid here) still gets the reserved slots, and no more */
	fds[0] = served_connection(&H);
	ck_assert_msg(fds[0] >= 0, "root was locked out");
	/* a refused connection holds its slot until its worker has closed it:
	 * under load that can lag behind the refusal's line */
	for (int i = 0; i < 50 && (fds[1] = served_connection(&H)) < 0; i++)
		brmh_sleep_ms(100);
	ck_assert_msg(fds[1] >= 0, "root got only one of the two reserved slots");
	fds[2] = brmh_connect(&H);
	s = line_within(fds[2], 3000);
	ck_assert_msg(s && strstr(s, "too many clients (max_clients 10)"), "got %s", s ? s : "");
	free(s);
	for (int i = 0; i < 3; i++)
		close(fds[i]);

	close(hold[1]);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(waitpid(kids[i], &status, 0), kids[i]);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			      "child %d: status %d (10+n: connection n not served)", i, status);
	}
	close(hold[0]);
	brmh_sleep_ms(100);
	/* one more refusal of nobody inside 10 s: still the one warning */
	ck_assert_int_eq(pipe(hold), 0);
	kids[0] = holder(65534, 3, true, rep[1], hold);
	s = report_line(rep[0], kids[0]);
	ck_assert_msg(strstr(s, "too many connections from uid 65534"), "got %s", s);
	free(s);
	s = report_line(rep[0], kids[0]);
	free(s);
	close(hold[1]);
	waitpid(kids[0], &status, 0);
	close(hold[0]);
	close(rep[0]);
	close(rep[1]);
	ck_assert_int_eq(count_in_file(H.log, "(max_clients_per_uid 3)"), 1);
	ck_assert_int_eq(count_in_file(H.log, "from uid 65534"), 1);
	brmh_check_stop(&H);
	brmh_socket_subdir = NULL;
}
END_TEST

START_TEST(max_clients_per_uid_is_configurable)
{
	struct brm_config *cfg = NULL;
	char *err = NULL;
	const char *ok = "{\"limits\": {\"max_clients_per_uid\": 5}}";
	const char *bad = "{\"limits\": {\"max_clients_per_uid\": 0}}";

	ck_assert_int_eq(brm_config_parse("{}", 2, "t.json", &cfg, &err), 0);
	ck_assert_int_eq(cfg->limits.max_clients_per_uid, 64);
	brm_config_destroy(cfg);
	ck_assert_int_eq(brm_config_parse(ok, strlen(ok), "t.json", &cfg, &err), 0);
	ck_assert_int_eq(cfg->limits.max_clients_per_uid, 5);
	brm_config_destroy(cfg);
	ck_assert_int_eq(brm_config_parse(bad, strlen(bad), "t.json", &cfg, &err), -EINVAL);
	ck_assert_msg(err && strstr(err, "limits.max_clients_per_uid"), "%s", err ? err : "");
	free(err);
}
END_TEST

/* ---- refused calls in brummd's log ------------------------------------- */

#define DENIED_CALLS 500

/* A uid that may connect but not call sends 500 calls: each is refused, and
 * brummd's log gets one line for them, not 500. */
START_TEST(refused_calls_cannot_flood_the_log)
{
	int status;
	pid_t kid;

	if (geteuid() != 0) {
		printf("SKIP: refused_calls_cannot_flood_the_log needs root (setresuid to nobody)\n");
		return;
	}
	brmh_socket_subdir = "run";
	brmh_check_start(&H, "{\"socket_mode\":\"0660\",\"socket_group\":\"nogroup\"}");
	ck_assert_int_eq(chmod(H.dir, 0711), 0);
	kid = fork();
	ck_assert_int_ge(kid, 0);
	if (kid == 0) {
		static const char call[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"stop\","
			"\"params\":{\"name\":\"x\"}}\n";
		int fd;

		if (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 ||
		    setresuid(65534, 65534, 65534) < 0)
			_exit(2);
		fd = brmh_connect(&H);
		if (fd < 0)
			_exit(3);
		for (int i = 0; i < DENIED_CALLS; i++) {
			char *s;

			if (write(fd, call, sizeof(call) - 1) != (ssize_t)(sizeof(call) - 1))
				_exit(4);
			s = line_within(fd, 5000);
			if (!s || !strstr(s, "-32003"))
				_exit(5);
			free(s);
		}
		_exit(0);
	}
	ck_assert_int_eq(waitpid(kid, &status, 0), kid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "the refused client failed (status %d: 2 setresuid, 3 connect, 5 no -32003)",
		      status);
	/* the first is logged with who and what; the rest within 10 s are not */
	ck_assert_int_eq(count_in_file(H.log, "denied 'stop' to uid 65534 pid "), 1);
	brmh_check_stop(&H);
	brmh_socket_subdir = NULL;
}
END_TEST

BRM_TEST_CASE("bounds", "bounds", 240,
	max_clients_per_uid_is_configurable,
	one_uid_cannot_take_every_slot,
	abandoned_waits_are_cancelled,
	never_reading_clients_stay_bounded,
	refused_calls_cannot_flood_the_log);
