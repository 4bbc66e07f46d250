/*
 * orphans.c — reap and finally stop the orphans brummd adopts as a child
 * subreaper (see orphans.h).
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/log.h"
#include "daemon/sup/loopcheck.h"
#include "daemon/sup/orphans.h"
#include "daemon/sup/proctree.h"
#include "daemon/sup/spawn.h"
#include "lib/util.h"

#define REAP_DELAY_MS 100     /* SIGCHLDs in this window share one pass */
#define STOP_POLL_MS 50

static struct {
	uv_loop_t *loop;
	uv_timer_t timer;
	bool inited, closed, subreaper;
	bool stopping;            /* brm_orphans_stop_all() under way */
	bool killed;              /* SIGKILL sent */
	uint64_t kill_at;         /* uv_now at which to send SIGKILL */
	void (*done)(void *);
	void *arg;
} O;

/*
 * Reap every exited child that is not brm_spawn()'s. Returns false when an
 * exited child of brm_spawn() (its watcher has not run yet) hides the rest
 * from waitid(P_ALL): the caller tries again a little later.
 */
static bool reap_adopted(void)
{
	for (;;) {
		siginfo_t si;
		pid_t pid;

		memset(&si, 0, sizeof(si));
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0 || si.si_pid == 0)
			return true;   /* no child at all (ECHILD), or none has exited */
		pid = si.si_pid;
		if (brm_spawn_owns(pid))
			return false;
		if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG) < 0)
			return true;
		brm_log_debug("reaped pid %d, an orphan adopted from a supervised process",
			      (int)pid);
	}
}

/* brummd's children that brm_spawn() did not start, into @out. */
static int adopted_running(pid_t *out, size_t max)
{
	int n = brm_proctree_children(getpid(), out, max), k = 0;

	for (int i = 0; i < n; i++)
		if (!brm_spawn_owns(out[i]))
			out[k++] = out[i];
	return k;
}

static void on_timer(uv_timer_t *t);

static void arm(uint64_t ms)
{
	if (!O.closed)
		uv_timer_start(&O.timer, on_timer, ms, 0);
}

static void stop_step(void)
{
	pid_t left[1024];
	int n;

	reap_adopted();
	n = adopted_running(left, BRM_ARRAY_SIZE(left));
	if (n == 0) {
		O.stopping = false;
		O.done(O.arg);
		return;
	}
	if (!O.killed && uv_now(O.loop) >= O.kill_at) {
		brm_log_warn("%d adopted orphan(s) still run after SIGTERM; sending SIGKILL", n);
		for (int i = 0; i < n; i++)
			kill(left[i], SIGKILL);
		O.killed = true;
	}
	arm(STOP_POLL_MS);
}

static void on_timer(uv_timer_t *t)
{
	(void)t;
	if (O.stopping) {
		stop_step();
		return;
	}
	if (!reap_adopted())
		arm(REAP_DELAY_MS);
}

void brm_orphans_init(uv_loop_t *loop)
{
	BRM_ASSERT_LOOP();
	O.loop = loop;
	uv_timer_init(loop, &O.timer);
	uv_unref((uv_handle_t *)&O.timer);
	O.inited = true;
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) == 0)
		O.subreaper = true;
	else
		brm_log_warn("cannot become a child subreaper: %s; orphans of supervised"
			     " processes go to init", strerror(errno));
}

void brm_orphans_sigchld(void)
{
	BRM_ASSERT_LOOP();
	if (O.inited && !O.stopping && !uv_is_active((uv_handle_t *)&O.timer))
		arm(REAP_DELAY_MS);
}

void brm_orphans_stop_all(unsigned grace_ms, void (*done)(void *arg), void *arg)
{
	BRM_ASSERT_LOOP();
	pid_t left[1024];
	int n;

	O.done = done;
	O.arg = arg;
	if (!O.inited || !O.subreaper) {
		done(arg);
		return;
	}
	reap_adopted();
	n = adopted_running(left, BRM_ARRAY_SIZE(left));
	if (n == 0) {
		done(arg);
		return;
	}
	for (int i = 0; i < n; i++) {
		char comm[32];

		brm_proctree_comm(left[i], comm, sizeof(comm));
		brm_log_info("stopping pid %d (%s), an orphan adopted from a supervised process",
			     (int)left[i], comm);
		kill(left[i], SIGTERM);
	}
	O.stopping = true;
	O.killed = false;
	O.kill_at = uv_now(O.loop) + grace_ms;
	uv_ref((uv_handle_t *)&O.timer);	/* the loop must live until they are gone */
	arm(STOP_POLL_MS);
}

void brm_orphans_close(void)
{
	BRM_ASSERT_LOOP();
	if (O.inited && !O.closed) {
		O.closed = true;
		uv_close((uv_handle_t *)&O.timer, NULL);
	}
}
