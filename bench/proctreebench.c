/*
 * proctreebench.c — what a stop's descendant walk (daemon/sup/proctree.c)
 * costs on the loop thread, with 0 and with EXTRA children below the
 * walking process, against one /proc/self/stat read in the same run.
 *
 *   make bin/bench_proctreebench && bin/bench_proctreebench [EXTRA]
 *
 * One walk = brm_proctree_escaped() from this process; each child calls
 * setpgid, so every one counts as outside the group.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon/procstat.h"
#include "daemon/sup/proctree.h"

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void measure(int nkids)
{
	enum { RUNS = 201 };
	double walk[RUNS], one[RUNS];
	struct brm_pstat ps;
	pid_t out[1024];
	int sent = 0;

	for (int i = 0; i < RUNS; i++) {
		double t0 = now_us();

		brm_pstat_read(getpid(), &ps);
		one[i] = now_us() - t0;
		t0 = now_us();
		sent += brm_proctree_escaped(getpid(), getpgrp(), out, 1024);
		walk[i] = now_us() - t0;
	}
	qsort(walk, RUNS, sizeof(double), cmp_double);
	qsort(one, RUNS, sizeof(double), cmp_double);
	printf("%4d children: walk p50 %7.1f us; one stat read %5.1f us  [escaped %d]\n",
	       nkids, walk[RUNS / 2], one[RUNS / 2], sent / RUNS);
}

int main(int argc, char **argv)
{
	int extra = argc > 1 ? atoi(argv[1]) : 300;
	pid_t *kids = calloc((size_t)extra + 1, sizeof(*kids));

	measure(0);
	for (int i = 0; i < extra; i++) {
		kids[i] = fork();
		if (kids[i] == 0) {
			setpgid(0, 0);
			pause();
			_exit(0);
		}
	}
	usleep(200000);
	measure(extra);
	for (int i = 0; i < extra; i++)
		if (kids[i] > 0)
			kill(kids[i], SIGKILL);
	for (int i = 0; i < extra; i++)
		if (kids[i] > 0)
			waitpid(kids[i], NULL, 0);
	free(kids);
	return 0;
}
