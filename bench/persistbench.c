/*
 * persistbench.c — what a durable reply costs: a real brummd (built by the
 * same make), its state file on the machine's disk.
 *
 *   bench_persistbench BRUMMD [STOPS [CONNS [SINGLE]]]
 *
 * Starts BRUMMD with SINGLE + STOPS processes (autostart false: nothing is
 * spawned, each stop is one change of the persisted state), then
 *  - single: SINGLE stops one after another on one connection; the reply
 *    time of each (it includes the write: tmp, fsync, rename, fsync dir);
 *  - burst: STOPS stops sent at once over CONNS connections (a connection
 *    has one mutating request in flight, so CONNS bounds a batch); the wall
 *    time until every reply is in, and the state writes brummd made for
 *    them, counted from its "state written" debug lines (two fsyncs each).
 * Prints "key value" lines for bench/run.py.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return fd;
	if (fd >= 0)
		close(fd);
	return -1;
}

static void write_all(int fd, const char *s, size_t len)
{
	while (len) {
		ssize_t n = write(fd, s, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			perror("persistbench: write");
			exit(1);
		}
		s += n;
		len -= (size_t)n;
	}
}

/* Read until @want newlines arrived on @fd; counts error replies. */
static void read_lines(int fd, int want, int *errors)
{
	static char buf[1 << 16];
	int got = 0;

	while (got < want) {
		ssize_t n = read(fd, buf, sizeof(buf) - 1);

		if (n <= 0) {
			fprintf(stderr, "persistbench: brummd closed the connection\n");
			exit(1);
		}
		buf[n] = '\0';
		for (char *p = buf; (p = memchr(p, '\n', (size_t)(buf + n - p))); p++)
			got++;
		for (char *p = buf; (p = strstr(p, "\"error\":{")); p++)
			(*errors)++;
	}
}

static int count_writes(const char *log)
{
	FILE *f = fopen(log, "r");
	char line[1024];
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "state written (gen "))
			n++;
	fclose(f);
	return n;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	int stops = argc > 2 ? atoi(argv[2]) : 1000;
	int conns = argc > 3 ? atoi(argv[3]) : 50;
	int single = argc > 4 ? atoi(argv[4]) : 200;
	char dir[] = "/tmp/brmpersistbench.XXXXXX", sock[128], cfg[128], log[128], state[128];
	char line[256], cmd[256];
	double *lat, t0, burst_us;
	int *fds, errors = 0, w0, w1, fd;
	FILE *f;
	pid_t pid;

	if (argc < 2 || stops <= 0 || conns <= 0 || single <= 0) {
		fprintf(stderr, "usage: bench_persistbench BRUMMD [STOPS [CONNS [SINGLE]]]\n");
		return 2;
	}
	if (!mkdtemp(dir)) {
		perror("persistbench: mkdtemp");
		return 1;
	}
	snprintf(sock, sizeof(sock), "%s/s", dir);
	snprintf(cfg, sizeof(cfg), "%s/brummd.json", dir);
	snprintf(log, sizeof(log), "%s/brummd.log", dir);
	snprintf(state, sizeof(state), "%s/state", dir);
	f = fopen(cfg, "w");
	if (!f)
		return 1;
	fputs("{\"processes\": {", f);
	for (int i = 0; i < single + stops; i++)
		fprintf(f, "%s\"p%d\": {\"cmd\": [\"/bin/true\"], \"autostart\": false}", i ? "," : "", i);
	fputs("}}\n", f);
	fclose(f);

	pid = fork();
	if (pid == 0) {
		int lfd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

		dup2(lfd, 1);
		dup2(lfd, 2);
		setenv("BRUMMD_STATE_DIR", state, 1);
		execl(argv[1], "brummd", "--socket", sock, "--config", cfg, "--log-level", "debug",
		      (char *)NULL);
		_exit(127);
	}
	fd = -1;
	for (int i = 0; i < 500 && (fd = connect_to(sock)) < 0; i++)
		usleep(10000);
	if (fd < 0) {
		fprintf(stderr, "persistbench: brummd did not come up (log: %s)\n", log);
		return 1;
	}

	/* One at a time: each reply waits for its own write. */
	lat = calloc((size_t)single, sizeof(*lat));
	for (int i = 0; i < single; i++) {
		int n = snprintf(line, sizeof(line), "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"stop\","
				 "\"params\":{\"name\":\"p%d\"}}\n", i, i);
		t0 = now_us();
		write_all(fd, line, (size_t)n);
		read_lines(fd, 1, &errors);
		lat[i] = now_us() - t0;
	}
	qsort(lat, (size_t)single, sizeof(*lat), cmp_double);
	close(fd);

	/* The burst. */
	fds = calloc((size_t)conns, sizeof(*fds));
	for (int c = 0; c < conns; c++)
		if ((fds[c] = connect_to(sock)) < 0) {
			fprintf(stderr, "persistbench: cannot connect\n");
			return 1;
		}
	w0 = count_writes(log);
	t0 = now_us();
	for (int c = 0; c < conns; c++) {
		size_t cap = (size_t)(stops / conns + 1) * 96, len = 0;
		char *reqs = malloc(cap);

		for (int i = c; i < stops; i += conns)
			len += (size_t)snprintf(reqs + len, cap - len,
						"{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"stop\","
						"\"params\":{\"name\":\"p%d\"}}\n", i, single + i);
		write_all(fds[c], reqs, len);
		free(reqs);
	}
	for (int c = 0; c < conns; c++)
		read_lines(fds[c], stops / conns + (c < stops % conns), &errors);
	burst_us = now_us() - t0;
	w1 = count_writes(log);
	for (int c = 0; c < conns; c++)
		close(fds[c]);

	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	printf("persist.single_stop_us_p50 %.0f\n", lat[single / 2]);
	printf("persist.single_stop_us_p99 %.0f\n", lat[single * 99 / 100]);
	printf("persist.single_writes %d\n", w0);
	printf("persist.burst_stops %d\n", stops);
	printf("persist.burst_conns %d\n", conns);
	printf("persist.burst_ms %.1f\n", burst_us / 1e3);
	printf("persist.burst_ms_per_change %.3f\n", burst_us / 1e3 / stops);
	printf("persist.burst_writes %d\n", w1 - w0);
	printf("persist.burst_fsyncs_per_change %.3f\n", 2.0 * (w1 - w0) / stops);
	printf("persist.errors %d\n", errors);
	free(lat);
	free(fds);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "persistbench: cannot remove %s\n", dir);
	return errors ? 1 : 0;
}
