/*
 * procstat.c — per-process CPU and memory from /proc (procstat.h).
 *
 * One /proc/PID/stat per member gives its group, CPU ticks, start time and
 * RSS; /proc/PID/task/TID/children gives the next members to look at. So a
 * single-threaded process without children costs two small reads.
 *
 * CPU percent needs two samples. They are kept in a small table shared by
 * the workers (slot = pid modulo its size, checked against the pid and its
 * start time so a reused pid starts afresh) under a mutex that only the
 * workers take, for a few instructions per process.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon/procstat.h"
#include "lib/registry.h"
#include "lib/util.h"

#define MAX_MEMBERS 1024
#define NSAMPLES 4096
#define MIN_WINDOW_NS 250000000ull
#define REBASE_NS 1000000000ull

struct sample {
	pid_t pid;
	unsigned long long start;   /* the leader's start time, in ticks since boot */
	uint64_t t_ns;              /* CLOCK_BOOTTIME of the base sample */
	unsigned long long ticks;   /* the group's CPU ticks then */
	double pct;                 /* the last percentage computed */
};

static struct sample samples[NSAMPLES];
static pthread_mutex_t samples_lock = PTHREAD_MUTEX_INITIALIZER;

static ssize_t read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0)
		n = -errno;
	else
		buf[n] = '\0';
	close(fd);
	return n;
}

/* One space-separated decimal field at *@pp (a '-' allowed); false if none. */
static bool stat_field(const char **pp, long long *out)
{
	const char *p = *pp;
	unsigned long long v = 0;
	bool neg = false;

	while (*p == ' ')
		p++;
	if (*p == '-') {
		neg = true;
		p++;
	}
	if (*p < '0' || *p > '9')
		return false;
	while (*p >= '0' && *p <= '9')
		v = v * 10 + (unsigned)(*p++ - '0');
	*out = neg ? -(long long)v : (long long)v;
	*pp = p;
	return true;
}

int brm_pstat_parse(const char *text, struct brm_pstat *sl)
{
	/* fields 3.. : state ppid pgrp session tty tpgid flags minflt cminflt
	 * majflt cmajflt utime stime cutime cstime priority nice num_threads
	 * itrealvalue starttime vsize rss; f[N] is field N */
	long long f[25];
	const char *p = strrchr(text, ')');   /* the name may hold spaces and parens */
	char state;

	if (!p || p[1] != ' ' || !p[2] || p[2] == ' ')
		return -EINVAL;
	state = p[2];
	p += 3;
	for (int i = 4; i <= 24; i++)
		if (!stat_field(&p, &f[i]))
			return -EINVAL;
	sl->state = state;
	sl->pgrp = (pid_t)f[5];
	sl->nthreads = (long)f[20];
	sl->start = (unsigned long long)f[22];
	sl->rss_pages = (long)f[24];
	sl->ticks = (unsigned long long)f[14] + (unsigned long long)f[15] +
		    (unsigned long long)(f[16] > 0 ? f[16] : 0) +
		    (unsigned long long)(f[17] > 0 ? f[17] : 0);
	return 0;
}

int brm_pstat_read(pid_t pid, struct brm_pstat *sl)
{
	char path[64], buf[1024];

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_small(path, buf, sizeof(buf)) <= 0)
		return -ESRCH;
	return brm_pstat_parse(buf, sl);
}

void brm_pstat_children(pid_t pid, long nthreads, pid_t *q, size_t *nq, size_t max)
{
	char path[96], buf[4096];
	DIR *d = NULL;
	struct dirent *de;
	pid_t tid = pid;

	if (nthreads > 1) {
		snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
		d = opendir(path);
	}
	do {
		if (d) {
			de = readdir(d);
			if (!de)
				break;
			if (de->d_name[0] < '0' || de->d_name[0] > '9')
				continue;
			tid = (pid_t)atoi(de->d_name);
		}
		snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid, (int)tid);
		if (read_small(path, buf, sizeof(buf)) > 0) {
			char *s = buf, *end;
			for (;;) {
				long c = strtol(s, &end, 10);
				if (end == s || *nq >= max)
					break;
				q[(*nq)++] = (pid_t)c;
				s = end;
			}
		}
	} while (d);
	if (d)
		closedir(d);
}

static uint64_t now_boot_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static double cpu_percent(pid_t pid, unsigned long long start, unsigned long long ticks,
			  double hz, uint64_t now)
{
	struct sample *s = &samples[(unsigned)pid % NSAMPLES];
	double pct;

	pthread_mutex_lock(&samples_lock);
	if (s->pid != pid || s->start != start || ticks < s->ticks) {
		/* First look: the average since the process started. */
		double up = (double)now / 1e9 - (double)start / hz;

		pct = up > 0 ? (double)ticks / hz / up * 100.0 : 0;
		s->pid = pid;
		s->start = start;
		s->t_ns = now;
		s->ticks = ticks;
		s->pct = pct;
	} else if (now - s->t_ns < MIN_WINDOW_NS) {
		pct = s->pct;
	} else {
		pct = (double)(ticks - s->ticks) / hz / ((double)(now - s->t_ns) / 1e9) * 100.0;
		s->pct = pct;
		if (now - s->t_ns >= REBASE_NS) {
			s->t_ns = now;
			s->ticks = ticks;
		}
	}
	pthread_mutex_unlock(&samples_lock);
	return pct;
}

int brm_procstat_read(pid_t pid, struct brm_procstat *st)
{
	static long hz, pagesize;
	pid_t q[MAX_MEMBERS];
	size_t nq = 0;
	struct brm_pstat lead, sl;
	unsigned long long ticks;
	uint64_t rss;
	int r;

	memset(st, 0, sizeof(*st));
	st->pid = pid;
	if (!hz) {
		hz = sysconf(_SC_CLK_TCK);
		pagesize = sysconf(_SC_PAGESIZE);
		if (hz <= 0)
			hz = 100;
	}
	if (pid <= 0)
		return -ESRCH;
	r = brm_pstat_read(pid, &lead);
	if (r < 0)
		return r;
	ticks = lead.ticks;
	rss = (uint64_t)(lead.rss_pages > 0 ? lead.rss_pages : 0);
	st->nprocs = 1;
	brm_pstat_children(pid, lead.nthreads, q, &nq, MAX_MEMBERS);
	for (size_t i = 0; i < nq; i++) {
		if (brm_pstat_read(q[i], &sl) < 0 || sl.pgrp != lead.pgrp)
			continue;
		ticks += sl.ticks;
		rss += (uint64_t)(sl.rss_pages > 0 ? sl.rss_pages : 0);
		st->nprocs++;
		brm_pstat_children(q[i], sl.nthreads, q, &nq, MAX_MEMBERS);
	}
	st->cpu_secs = (double)ticks / (double)hz;
	st->rss_bytes = rss * (uint64_t)pagesize;
	st->cpu_percent = cpu_percent(pid, lead.start, ticks, (double)hz, now_boot_ns());
	st->ok = true;
	return 0;
}

/* ---- for status --------------------------------------------------------- */

static void set_add(struct brm_procstat_set *set, pid_t pid)
{
	if (pid <= 0)
		return;
	if (set->n == set->cap) {
		set->cap = set->cap ? set->cap * 2 : 64;
		set->v = brm_xrealloc(set->v, set->cap * sizeof(*set->v));
	}
	set->v[set->n++].pid = pid;
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = ((const struct brm_procstat *)a)->pid, y = ((const struct brm_procstat *)b)->pid;

	return x < y ? -1 : x > y;
}

void brm_procstat_collect(struct brm_registry *reg, const char *const *names, size_t n,
			  struct brm_procstat_set *set)
{
	struct brm_reg_iter it;
	struct brm_reg_entry *e;

	set->n = 0;
	rcu_read_lock();
	if (names) {
		for (size_t i = 0; i < n; i++)
			if ((e = brm_registry_find(reg, names[i])))
				set_add(set, brm_entry_snapshot(e)->pid);
	} else {
		brm_registry_for_each(reg, &it, e)
			set_add(set, brm_entry_snapshot(e)->pid);
	}
	rcu_read_unlock();
	for (size_t i = 0; i < set->n; i++)
		brm_procstat_read(set->v[i].pid, &set->v[i]);
	if (set->n)
		qsort(set->v, set->n, sizeof(*set->v), cmp_pid);
}

const struct brm_procstat *brm_procstat_find(const struct brm_procstat_set *set, pid_t pid)
{
	struct brm_procstat key = { .pid = pid };

	if (pid <= 0 || !set->n)
		return NULL;
	return bsearch(&key, set->v, set->n, sizeof(*set->v), cmp_pid);
}

void brm_procstat_set_finish(struct brm_procstat_set *set)
{
	free(set->v);
	memset(set, 0, sizeof(*set));
}

void brm_procstat_json(struct brm_buf *out, const struct brm_procstat *st)
{
	if (out->len && out->p[out->len - 1] == '}')
		out->len--;
	if (st && st->ok)
		brm_buf_addf(out, ",\"cpu_percent\":%.1f,\"cpu_secs\":%.2f,\"rss_bytes\":%llu}",
			     st->cpu_percent, st->cpu_secs, (unsigned long long)st->rss_bytes);
	else
		brm_buf_adds(out, ",\"cpu_percent\":null,\"cpu_secs\":null,\"rss_bytes\":null}");
}
