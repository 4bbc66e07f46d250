/*
 * sockbench.c — socket-side measurements for bench/run.py, plain sockets.
 *
 *   sockbench echo PATH THREADS
 *       a bare Unix-socket line echo server: THREADS threads, each with its
 *       own epoll set over the listening socket (EPOLLEXCLUSIVE) and the
 *       connections it accepted — the same shape as brummd's workers.
 *       Runs until killed. The baseline for latency and throughput.
 *   sockbench lat PATH COUNT LINE
 *       one persistent connection; COUNT requests of LINE (a newline is
 *       added), one at a time; prints p50/p99/mean in microseconds and the
 *       reply size. The first 5% are warm-up and not counted.
 *   sockbench tput PATH CLIENTS SECS LINE
 *       CLIENTS threads, each with a persistent connection, one request in
 *       flight per connection, for SECS; prints requests/s and p50 latency.
 *   sockbench crash PATH KILLS NAME...
 *       for each kill (names in turn): read NAME's pid over the socket,
 *       SIGKILL it, then ask status in a tight loop until it shows another
 *       pid; prints p50/p99/mean/max microseconds of kill -> new pid seen.
 *   sockbench cmd COUNT PROGRAM ARGS...
 *       run the program COUNT times (stdout/stderr to /dev/null), prints the
 *       p50/p99/mean wall time in microseconds of a whole run; exit codes
 *       other than 0 are counted and printed.
 *
 * Output lines are "key value", for run.py.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void report(const char *pfx, double *v, size_t n)
{
	double sum = 0;
	if (n == 0) {
		printf("%s_n 0\n", pfx);
		return;
	}
	qsort(v, n, sizeof(*v), cmp_d);
	for (size_t i = 0; i < n; i++)
		sum += v[i];
	printf("%s_p50 %.2f\n%s_p99 %.2f\n%s_mean %.2f\n%s_max %.2f\n%s_n %zu\n", pfx,
	       v[n / 2], pfx, v[(size_t)((double)(n - 1) * 0.99)], pfx, sum / (double)n, pfx,
	       v[n - 1], pfx, n);
}

/* --- client connection with a line reader --------------------------------- */

struct conn {
	int fd;
	char *buf;
	size_t len, cap;
};

static void conn_open(struct conn *c, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("connect");
	c->cap = 1 << 16;
	c->buf = malloc(c->cap);
	c->len = 0;
}

static void send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			die("write");
		}
		p += w;
		n -= (size_t)w;
	}
}

/* Read one reply line; returns its length (without newline), the line is
 * at c->buf and is consumed by the next call. */
static size_t conn_line(struct conn *c, size_t *consumed)
{
	char *nl;
	if (*consumed) {
		memmove(c->buf, c->buf + *consumed, c->len - *consumed);
		c->len -= *consumed;
		*consumed = 0;
	}
	while (!(nl = memchr(c->buf, '\n', c->len))) {
		if (c->len == c->cap) {
			c->cap *= 2;
			c->buf = realloc(c->buf, c->cap);
		}
		ssize_t r = read(c->fd, c->buf + c->len, c->cap - c->len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			fprintf(stderr, "sockbench: connection closed\n");
			exit(1);
		}
		c->len += (size_t)r;
	}
	*consumed = (size_t)(nl - c->buf) + 1;
	return (size_t)(nl - c->buf);
}

static size_t roundtrip(struct conn *c, const char *req, size_t reqlen, size_t *consumed)
{
	send_all(c->fd, req, reqlen);
	return conn_line(c, consumed);
}

/* --- echo server ---------------------------------------------------------- */

static int echo_lfd;

static void *echo_thread(void *arg)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN | EPOLLEXCLUSIVE, .data.fd = echo_lfd };
	struct epoll_event evs[64];
	char buf[65536];

	epoll_ctl(ep, EPOLL_CTL_ADD, echo_lfd, &ev);
	for (;;) {
		int n = epoll_wait(ep, evs, 64, -1);
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == echo_lfd) {
				int c = accept4(echo_lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
				if (c >= 0) {
					struct epoll_event ce = { .events = EPOLLIN, .data.fd = c };
					epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce);
				}
				continue;
			}
			ssize_t r = read(fd, buf, sizeof(buf));
			if (r <= 0) {
				if (r < 0 && errno == EAGAIN)
					continue;
				close(fd);
				continue;
			}
			send_all(fd, buf, (size_t)r);
		}
	}
	return NULL;
}

static int cmd_echo(const char *path, int threads)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	pthread_t t;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	unlink(path);
	echo_lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (bind(echo_lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(echo_lfd, 512) < 0)
		die("bind");
	for (int i = 0; i < threads; i++)
		pthread_create(&t, NULL, echo_thread, NULL);
	pause();
	return 0;
}

/* --- latency -------------------------------------------------------------- */

static char *request_line(const char *line, size_t *len)
{
	char *r;
	*len = strlen(line) + 1;
	r = malloc(*len + 1);
	memcpy(r, line, *len - 1);
	r[*len - 1] = '\n';
	r[*len] = 0;
	return r;
}

static int cmd_lat(const char *path, long count, const char *line)
{
	struct conn c;
	size_t rl, consumed = 0, replylen = 0;
	char *req = request_line(line, &rl);
	long warm = count / 20 + 1;
	double *v = malloc(sizeof(double) * (size_t)count);
	size_t n = 0;

	conn_open(&c, path);
	for (long i = 0; i < warm + count; i++) {
		double t0 = now_us();
		replylen = roundtrip(&c, req, rl, &consumed);
		double t1 = now_us();
		if (i >= warm)
			v[n++] = t1 - t0;
	}
	printf("reply_bytes %zu\n", replylen);
	report("lat", v, n);
	return 0;
}

/* --- throughput ----------------------------------------------------------- */

struct tput_arg {
	const char *path, *req;
	size_t rl;
	double secs;
	long ops;
	double p50;
};

static atomic_int tput_go;

static void *tput_thread(void *p)
{
	struct tput_arg *a = p;
	struct conn c;
	size_t consumed = 0, cap = 1 << 16, n = 0;
	double *v = malloc(sizeof(double) * cap), t_end;

	conn_open(&c, a->path);
	roundtrip(&c, a->req, a->rl, &consumed);     /* warm */
	while (!atomic_load(&tput_go))
		;
	t_end = now_us() + a->secs * 1e6;
	for (;;) {
		double t0 = now_us();
		if (t0 >= t_end)
			break;
		roundtrip(&c, a->req, a->rl, &consumed);
		if (n == cap)
			v = realloc(v, sizeof(double) * (cap *= 2));
		v[n++] = now_us() - t0;
	}
	a->ops = (long)n;
	qsort(v, n, sizeof(*v), cmp_d);
	a->p50 = n ? v[n / 2] : 0;
	close(c.fd);
	return NULL;
}

static int cmd_tput(const char *path, int clients, double secs, const char *line)
{
	pthread_t t[256];
	struct tput_arg a[256];
	size_t rl;
	char *req = request_line(line, &rl);
	long ops = 0;
	double p50[256];

	if (clients > 256)
		clients = 256;
	for (int i = 0; i < clients; i++) {
		a[i] = (struct tput_arg){ path, req, rl, secs, 0, 0 };
		pthread_create(&t[i], NULL, tput_thread, &a[i]);
	}
	usleep(100000);
	atomic_store(&tput_go, 1);
	for (int i = 0; i < clients; i++) {
		pthread_join(t[i], NULL);
		ops += a[i].ops;
		p50[i] = a[i].p50;
	}
	qsort(p50, (size_t)clients, sizeof(double), cmp_d);
	printf("tput_rps %.0f\ntput_p50 %.2f\n", (double)ops / secs, p50[clients / 2]);
	return 0;
}

/* --- crash to new pid ----------------------------------------------------- */

static long reply_pid(const char *buf, size_t len)
{
	const char *p = memmem(buf, len, "\"pid\":", 6);
	if (!p)
		return -1;
	return strtol(p + 6, NULL, 10);    /* "null" gives 0 */
}

static int cmd_crash(const char *path, long kills, int nnames, char **names)
{
	struct conn c;
	size_t consumed = 0, rl, len;
	double *v = malloc(sizeof(double) * (size_t)kills);
	char line[512];
	long polls = 0;
	const char *pe = getenv("BRM_BENCH_POLL_US");
	long poll_us = pe ? atol(pe) : 0;

	conn_open(&c, path);
	for (long k = 0; k < kills; k++) {
		const char *name = names[k % nnames];
		long pid, npid;
		snprintf(line, sizeof(line),
			 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"status\",\"params\":{\"name\":\"%s\"}}\n",
			 name);
		rl = strlen(line);
		/* wait until it runs (a previous kill of the same name may still be restarting) */
		for (int tries = 0;; tries++) {
			len = roundtrip(&c, line, rl, &consumed);
			pid = reply_pid(c.buf, len);
			if (pid > 0)
				break;
			if (tries > 20000) {
				fprintf(stderr, "sockbench: %s has no pid\n", name);
				return 1;
			}
			usleep(100);
		}
		double t0 = now_us();
		if (kill((pid_t)pid, SIGKILL) < 0)
			die("kill");
		for (;;) {
			len = roundtrip(&c, line, rl, &consumed);
			polls++;
			if (poll_us)
				usleep((useconds_t)poll_us);    /* leave the CPU to the daemon */
			npid = reply_pid(c.buf, len);
			if (npid > 0 && npid != pid)
				break;
			if (now_us() - t0 > 10e6) {
				fprintf(stderr, "sockbench: no new pid for %s after 10 s\n", name);
				return 1;
			}
		}
		v[k] = now_us() - t0;
		usleep(20000);    /* let the new child settle (exec'd, running) */
	}
	printf("crash_polls_per_kill %.1f\n", (double)polls / (double)kills);
	report("crash", v, (size_t)kills);
	return 0;
}

/* --- whole commands ------------------------------------------------------- */

static int cmd_cmd(long count, char **argv)
{
	double *v = malloc(sizeof(double) * (size_t)count);
	posix_spawn_file_actions_t fa;
	long bad = 0;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	for (long i = 0; i < count; i++) {
		pid_t pid;
		int st;
		double t0 = now_us();
		if (posix_spawn(&pid, argv[0], &fa, NULL, argv, environ) != 0)
			die("posix_spawn");
		waitpid(pid, &st, 0);
		v[i] = now_us() - t0;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			bad++;
	}
	printf("cmd_failed %ld\n", bad);
	report("cmd", v, (size_t)count);
	return 0;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc >= 4 && !strcmp(argv[1], "echo"))
		return cmd_echo(argv[2], atoi(argv[3]));
	if (argc >= 5 && !strcmp(argv[1], "lat"))
		return cmd_lat(argv[2], atol(argv[3]), argv[4]);
	if (argc >= 6 && !strcmp(argv[1], "tput"))
		return cmd_tput(argv[2], atoi(argv[3]), atof(argv[4]), argv[5]);
	if (argc >= 5 && !strcmp(argv[1], "crash"))
		return cmd_crash(argv[2], atol(argv[3]), argc - 4, argv + 4);
	if (argc >= 4 && !strcmp(argv[1], "cmd"))
		return cmd_cmd(atol(argv[2]), argv + 3);
	fprintf(stderr, "usage: see the top of bench/sockbench.c\n");
	return 2;
}
