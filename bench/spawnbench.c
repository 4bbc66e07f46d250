/*
 * spawnbench.c — how long the spawning thread is busy per child, at 0 and
 * at 256 MiB of touched heap: brummd's brm_spawn (clone CLONE_VM|CLONE_VFORK,
 * returns once the child has exec'd, plus pipes and a pidfd) against
 * fork() + execve in the child (the parent is busy until fork returns) and
 * posix_spawn (glibc: clone(CLONE_VM|CLONE_VFORK)).
 *
 * The child is `brm-testchild exit 0`; each child is reaped outside the
 * timed section. Usage: spawnbench TESTCHILD COUNT [MIB...]
 * With BRM_BENCH_FDS=K, K extra CLOEXEC descriptors are open first (as in
 * a daemon with K/3 children); the keys then end in "mibfds". With
 * BRM_BENCH_SLOTS=1, brm_spawn_reserve_fds() is called before anything is
 * opened, as brummd does at start-up (the child then gets no copy of the
 * table); the keys end in "slots".
 * Prints "spawn.<how>.<MiB>mib_us_p50 X" lines, and "..._done_us_p50" for
 * the time until the child has exited (exec finished, the descriptors it
 * inherited closed, `exit 0` run) and is reaped.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon/sup/spawn.h"

extern char **environ;

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	char *child[] = { argv[1], "exit", "0", NULL };
	int count = argc > 2 ? atoi(argv[2]) : 200;
	double *v = malloc(sizeof(double) * (size_t)count);
	double *done = malloc(sizeof(double) * (size_t)count);
	size_t held = 0;
	const char *fe = getenv("BRM_BENCH_FDS");
	int extra = fe ? atoi(fe) : 0;
	bool slots = getenv("BRM_BENCH_SLOTS") && atoi(getenv("BRM_BENCH_SLOTS"));
	const char *tag = extra ? (slots ? "fdsslots" : "fds") : (slots ? "slots" : "");

	if (slots && brm_spawn_reserve_fds() < 0) {
		perror("brm_spawn_reserve_fds");
		return 1;
	}

	/* Open descriptors like a daemon with many children has (3 per child). */
	for (int i = 0; i + 1 < extra; i += 2) {
		int p[2];
		if (pipe2(p, O_CLOEXEC) < 0) {
			perror("pipe2");
			return 1;
		}
	}

	for (int ai = 3; ai < argc || ai == 3; ai++) {
		size_t mib = ai < argc ? (size_t)atol(argv[ai]) : 0;
		if (mib > held) {
			char *p = malloc((mib - held) << 20);
			memset(p, 1, (mib - held) << 20);    /* touched: resident */
			held = mib;
		}
		for (int how = 0; how < 3; how++) {
			static const char *const hn[] = { "brm_spawn", "fork_exec", "posix_spawn" };
			for (int i = 0; i < count; i++) {
				pid_t pid = 0;
				struct brm_spawned out;
				char err[256];
				struct brm_spawn_req req = { .argv = child, .umask = -1 };
				double t0 = now_us();
				if (how == 0) {
					if (brm_spawn(&req, &out, err, sizeof(err)) < 0) {
						fprintf(stderr, "brm_spawn: %s\n", err);
						return 1;
					}
					pid = out.pid;
				} else if (how == 1) {
					pid = fork();
					if (pid == 0) {
						execve(child[0], child, environ);
						_exit(127);
					}
				} else {
					posix_spawn(&pid, child[0], NULL, NULL, child, environ);
				}
				v[i] = now_us() - t0;
				waitpid(pid, NULL, 0);
				done[i] = now_us() - t0;
				if (how == 0) {
					close(out.pidfd);
					close(out.stdout_fd);
					close(out.stderr_fd);
				}
			}
			qsort(v, (size_t)count, sizeof(double), cmp_d);
			qsort(done, (size_t)count, sizeof(double), cmp_d);
			printf("spawn.%s.%zumib%s_us_p50 %.1f\n", hn[how], held, tag, v[count / 2]);
			printf("spawn.%s.%zumib%s_us_p99 %.1f\n", hn[how], held, tag,
			       v[(size_t)((count - 1) * 0.99)]);
			printf("spawn.%s.%zumib%s_done_us_p50 %.1f\n", hn[how], held, tag,
			       done[count / 2]);
			fflush(stdout);
		}
		if (ai >= argc)
			break;
	}
	return 0;
}
