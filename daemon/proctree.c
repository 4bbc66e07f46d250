/*
 * proctree.c — process table walks over /proc (see proctree.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/proctree.h"
#include "lib/util.h"

struct pent {
	pid_t pid, ppid, pgid;
};

/* The cached table, sorted by ppid; trusted for PROCTREE_TTL_MS. */
static struct {
	struct pent *e;
	size_t n, cap;
	uint64_t taken_ns;
	bool valid;
} T;

/* Fill @e from /proc/@pid/stat; false if the process is gone. */
static bool read_stat(pid_t pid, struct pent *e)
{
	char path[32], buf[512], *p;
	ssize_t n;
	int fd, ppid, pgid;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	/* "pid (comm) S ppid pgrp ...": comm may hold spaces and parentheses */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %*c %d %d", &ppid, &pgid) != 2)
		return false;
	e->pid = pid;
	e->ppid = ppid;
	e->pgid = pgid;
	return true;
}

static int by_ppid(const void *a, const void *b)
{
	const struct pent *x = a, *y = b;

	return (x->ppid > y->ppid) - (x->ppid < y->ppid);
}

static int scan(void)
{
	DIR *d = opendir("/proc");
	struct dirent *de;

	if (!d)
		return -errno;
	T.n = 0;
	while ((de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end || pid <= 0)
			continue;
		if (T.n == T.cap) {
			T.cap = T.cap ? T.cap * 2 : 256;
			T.e = brm_xrealloc(T.e, T.cap * sizeof(*T.e));
		}
		if (read_stat((pid_t)pid, &T.e[T.n]))
			T.n++;
	}
	closedir(d);
	if (T.n)
		qsort(T.e, T.n, sizeof(*T.e), by_ppid);
	return 0;
}

/* Index of the first entry whose ppid is @ppid, or T.n. */
static size_t first_child(pid_t ppid)
{
	size_t lo = 0, hi = T.n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (T.e[mid].ppid < ppid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int brm_proctree_signal_escaped(pid_t root, pid_t pgid, int sig)
{
	uint64_t now = brm_now_mono_ns();
	pid_t *queue;
	size_t head = 0, tail = 0;
	int sent = 0;

	if (root <= 0)
		return 0;
	if (!T.valid || now - T.taken_ns > (uint64_t)PROCTREE_TTL_MS * 1000000) {
		if (scan() < 0)
			return 0;
		T.valid = true;
		T.taken_ns = brm_now_mono_ns();	/* after the walk, which takes a while */
	}
	/* breadth first; each process has one parent, so none comes twice */
	queue = brm_xmalloc((T.n + 1) * sizeof(*queue));
	queue[tail++] = root;
	while (head < tail) {
		pid_t parent = queue[head++];

		for (size_t i = first_child(parent); i < T.n && T.e[i].ppid == parent; i++) {
			if (tail > T.n)
				break;	/* a cycle in a torn table: stop */
			queue[tail++] = T.e[i].pid;
			if (T.e[i].pgid != pgid && kill(T.e[i].pid, sig) == 0)
				sent++;
		}
	}
	free(queue);
	return sent;
}

int brm_proctree_children(pid_t parent, pid_t *out, size_t max)
{
	int r = scan(), found = 0;

	T.valid = false;	/* read outside the tick cache */
	if (r < 0)
		return r;
	for (size_t i = first_child(parent); i < T.n && T.e[i].ppid == parent; i++) {
		if ((size_t)found < max)
			out[found] = T.e[i].pid;
		found++;
	}
	return found;
}

void brm_proctree_free(void)
{
	free(T.e);
	memset(&T, 0, sizeof(T));
}
