/*
 * proctreebench.c — what a stop's /proc walk (daemon/proctree.c) costs on
 * the loop thread, against the floor of listing /proc alone, in the same
 * run, with the machine's process count as it is and with EXTRA sleeping
 * children added.
 *
 *   make bin/bench_proctreebench && bin/bench_proctreebench [EXTRA]
 *
 * One walk = brm_proctree_signal_escaped() with a cold cache (signal 0, so
 * nothing is disturbed): readdir /proc, read every /proc/N/stat, sort,
 * and a breadth-first pass from this process. The floor = readdir alone.
 */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon/proctree.h"

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int count_procs(void)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		n += de->d_name[0] >= '1' && de->d_name[0] <= '9';
	closedir(d);
	return n;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void measure(const char *label)
{
	enum { RUNS = 101 };
	double walk[RUNS], floor_[RUNS];
	int n = count_procs(), sent = 0;

	for (int i = 0; i < RUNS; i++) {
		double t0 = now_us();

		count_procs();
		floor_[i] = now_us() - t0;
		/* past the cache's lifetime: every call walks */
		usleep(PROCTREE_TTL_MS * 1000 + 1000);
		t0 = now_us();
		sent += brm_proctree_signal_escaped(getpid(), getpgrp(), 0);
		walk[i] = now_us() - t0;
	}
	qsort(walk, RUNS, sizeof(double), cmp_double);
	qsort(floor_, RUNS, sizeof(double), cmp_double);
	printf("%-22s %5d processes: walk p50 %7.1f us (%.2f us/process), readdir-only floor"
	       " %6.1f us  [checksum %d]\n", label, n, walk[RUNS / 2], walk[RUNS / 2] / n,
	       floor_[RUNS / 2], sent);
}

int main(int argc, char **argv)
{
	int extra = argc > 1 ? atoi(argv[1]) : 300;
	pid_t *kids = calloc((size_t)extra + 1, sizeof(*kids));

	measure("as the machine is");
	for (int i = 0; i < extra; i++) {
		kids[i] = fork();
		if (kids[i] == 0) {
			pause();
			_exit(0);
		}
	}
	measure("with extra children");
	for (int i = 0; i < extra; i++)
		if (kids[i] > 0)
			kill(kids[i], SIGKILL);
	for (int i = 0; i < extra; i++)
		if (kids[i] > 0)
			waitpid(kids[i], NULL, 0);
	free(kids);
	brm_proctree_free();
	return 0;
}
