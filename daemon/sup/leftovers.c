/*
 * leftovers.c — record each child's process group, and kill what a dead
 * brummd left of them (leftovers.h).
 *
 * The start-up pass reads /proc once: one small read of /proc/PID/stat per
 * process on the machine, and a binary search among the recorded groups.
 * It runs only when the state file holds groups, that is after a brummd
 * died without stopping its children.
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <time.h>
#include <unistd.h>

#include "daemon/sup/leftovers.h"
#include "daemon/sup/loopcheck.h"
#include "daemon/log.h"
#include "daemon/procstat.h"
#include "daemon/sup/proctree.h"
#include "lib/util.h"

#define WAIT_MS 2000
#define MAX_WAITED 4096       /* leftovers waited for; more are killed, not waited for */

struct group {
	const struct brm_persist_group *g;
	bool reused;          /* its leader's pid leads another group now */
};

struct victims {
	int fds[MAX_WAITED];
	pid_t pids[MAX_WAITED];
	const char *names[MAX_WAITED];
	size_t n;
	int killed;
};

static int cmp_group(const void *a, const void *b)
{
	pid_t x = ((const struct group *)a)->g->pgid, y = ((const struct group *)b)->g->pgid;

	return (x > y) - (x < y);
}

static struct group *find_group(struct group *v, size_t n, pid_t pgid)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid].g->pgid == pgid)
			return &v[mid];
		if (v[mid].g->pgid < pgid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Is @pid, now, a member of @g that started no earlier than its leader? */
static bool is_leftover(pid_t pid, const struct group *g)
{
	struct brm_pstat ps;

	return brm_pstat_read(pid, &ps) == 0 && ps.pgrp == g->g->pgid && ps.start >= g->g->start;
}

/*
 * SIGKILL @pid, a leftover of @g when the scan saw it. The pidfd pins the
 * process it was opened on; the check after opening it reads the stat of
 * the process that has the pid now, which is that one as long as it is
 * alive, and the signal through the pidfd reaches it only while it is.
 */
static void kill_one(struct victims *vs, pid_t pid, const struct group *g)
{
	char comm[32];
	int fd = pidfd_open(pid, 0);

	if (fd < 0) {
		if (errno != ESRCH)
			brm_log_warn("cannot open pid %d, left over from '%s': %s", (int)pid,
				     g->g->name, strerror(errno));
		return;
	}
	if (!is_leftover(pid, g)) {
		close(fd);
		return;
	}
	brm_proctree_comm(pid, comm, sizeof(comm));
	brm_log_warn("killing pid %d (%s), left over from '%s'", (int)pid, comm, g->g->name);
	if (pidfd_send_signal(fd, SIGKILL, NULL, 0) < 0) {
		if (errno != ESRCH)
			brm_log_warn("cannot kill pid %d (%s): %s", (int)pid, comm, strerror(errno));
		close(fd);
		return;
	}
	vs->killed++;
	if (vs->n == MAX_WAITED) {
		close(fd);
		return;
	}
	vs->fds[vs->n] = fd;
	vs->pids[vs->n] = pid;
	vs->names[vs->n] = g->g->name;
	vs->n++;
}

/* One pass over /proc: kill every leftover of the groups in @v. */
static void scan(struct group *v, size_t n, struct victims *vs)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	pid_t self = getpid();

	if (!d) {
		brm_log_error("cannot read /proc: %s; processes left over from the last brummd"
			      " are not looked for", strerror(errno));
		return;
	}
	while ((de = readdir(d))) {
		struct brm_pstat ps;
		struct group *g;
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end || pid <= 1 || pid == self)
			continue;
		/* a zombie holds nothing any more: its parent reaps it */
		if (brm_pstat_read((pid_t)pid, &ps) < 0 || ps.pgrp <= 1 || ps.state == 'Z')
			continue;
		g = find_group(v, n, ps.pgrp);
		if (g && !g->reused)
			kill_one(vs, (pid_t)pid, g);   /* which checks its start time */
	}
	closedir(d);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until every pidfd in @vs is readable (its process has exited). */
static void wait_gone(struct victims *vs)
{
	struct pollfd pfd[MAX_WAITED];
	int64_t deadline = now_ms() + WAIT_MS;
	size_t left = vs->n;

	for (size_t i = 0; i < vs->n; i++)
		pfd[i] = (struct pollfd){ .fd = vs->fds[i], .events = POLLIN };
	while (left) {
		int64_t ms = deadline - now_ms();
		int r;

		if (ms <= 0)
			break;
		r = poll(pfd, vs->n, (int)ms);
		if (r < 0 && errno != EINTR)
			break;
		left = 0;
		for (size_t i = 0; i < vs->n; i++) {
			if (pfd[i].revents)
				pfd[i].fd = -1;   /* exited: poll ignores it from now on */
			pfd[i].revents = 0;
			if (pfd[i].fd >= 0)
				left++;
		}
	}
	for (size_t i = 0; i < vs->n; i++) {
		if (pfd[i].fd >= 0)
			brm_log_error("pid %d, left over from '%s', is still there %d ms after"
				      " SIGKILL", (int)vs->pids[i], vs->names[i], WAIT_MS);
		close(vs->fds[i]);
	}
}

int brm_leftovers_kill(struct brm_persist *st)
{
	BRM_ASSERT_LOOP();
	const char *was = brm_persist_loaded_boot_id(st), *now = brm_persist_boot_id(st);
	struct brm_persist_group *recorded;
	struct victims *vs;
	struct group *v;
	size_t n;
	int killed;

	recorded = brm_persist_groups(st, &n);
	if (n == 0) {
		free(recorded);
		return 0;
	}
	if (!was || !*now || strcmp(was, now) != 0) {
		brm_log_info("the state file's %zu process group(s) are from another boot;"
			     " not looking for what is left of them", n);
		free(recorded);
		brm_persist_clear_groups(st);
		return 0;
	}
	v = brm_xcalloc(n, sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		struct brm_pstat ps;

		v[i].g = &recorded[i];
		/* A process with the leader's pid that leads the group but is
		 * not the recorded leader: the group is a new one. */
		if (brm_pstat_read(recorded[i].pgid, &ps) == 0 && ps.pgrp == recorded[i].pgid &&
		    ps.start != recorded[i].start) {
			v[i].reused = true;
			brm_log_debug("%s: process group %d is another one now (its leader's pid was"
				      " reused); left alone", recorded[i].name, (int)recorded[i].pgid);
		}
	}
	qsort(v, n, sizeof(*v), cmp_group);
	vs = brm_xcalloc(1, sizeof(*vs));
	scan(v, n, vs);
	wait_gone(vs);
	killed = vs->killed;
	if (killed)
		brm_log_warn("killed %d process(es) left over from a brummd that did not stop"
			     " its processes", killed);
	free(vs);
	free(v);
	free(recorded);
	brm_persist_clear_groups(st);
	return killed;
}

/* ---- recording ---------------------------------------------------------- */

/*
 * A new main process: record its group (it leads one: spawn.c makes it a
 * session leader). Settled (no pid, nothing left of its group): forget it.
 * Other publishes (output, health) cost two comparisons.
 */
static void observe(void *arg, struct brm_proc *p, enum brm_proc_event ev)
{
	struct brm_persist *st = arg;
	pid_t pid = ev == BRM_EV_STATE ? brm_proc_pid(p) : 0;
	int prev;

	if (ev == BRM_EV_REMOVED) {
		brm_persist_set_group(st, brm_proc_name(p), 0, 0);
		return;
	}
	if (pid > 0 && pid != brm_proc_prev_pid(p)) {
		struct brm_pstat ps;

		if (!brm_proc_spec(p)->orphan_keep && brm_pstat_read(pid, &ps) == 0)
			brm_persist_set_group(st, brm_proc_name(p), pid, ps.start);
		return;
	}
	prev = brm_proc_prev_state(p);
	if (pid == 0 && brm_proc_settled(p) &&
	    (brm_proc_prev_pid(p) > 0 || prev == BRM_STOPPING || prev == BRM_STARTING))
		brm_persist_set_group(st, brm_proc_name(p), 0, 0);
}

int brm_leftovers_watch(struct brm_supervisor *sup, struct brm_persist *st)
{
	BRM_ASSERT_LOOP();
	return brm_supervisor_add_observer(sup, observe, st);
}
