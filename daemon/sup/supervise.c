/*
 * supervise.c — the state machine of each supervised process.
 *
 * Every process has one record (struct brm_proc), owned by the loop thread.
 * Its state moves only here, and every move ends in brm_proc_publish(), which
 * builds a new immutable snapshot and hands it to the registry, where worker
 * threads read it without locks. Nothing else writes the registry.
 *
 * The events that move a process are few: a request (start, stop, restart,
 * signal, remove), its exit (the pidfd becomes readable: O(1) per exit, no
 * matter how many children there are, unlike libuv's waitpid sweep), and its
 * one timer, whose meaning follows the state:
 *
 *	starting   start_secs passed: the process counts as running
 *	running    min_uptime_secs passed: its failed starts are forgotten
 *	backoff    the retry delay passed: start again
 *	stopping   stop_timeout_secs passed: SIGKILL the process group; or,
 *	           once the main process is gone, poll until its group is empty
 *
 * Each child leads its own session and process group (spawn.c), so a stop
 * signal sent to the group reaches the grandchildren too. When a main
 * process exits on its own, what is left of its group is killed: a
 * grandchild must not outlive the process it belongs to and hold its port
 * or its files while the next instance starts.
 *
 * Removal and shutdown wait for the process group to be gone; libuv handles
 * are freed only in their close callbacks, so a record is freed when its
 * last handle has closed.
 *
 * The output pipes are pipes.c's and the collection of records is
 * supervisor.c's (supervise_int.h joins the three).
 *
 * Long because: what is left is one state machine, whose transitions (an
 * exit, a timer, a request) read and write the same fields and must agree
 * with one another; split further, checking one transition would mean
 * reading several files.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/log.h"
#include "daemon/spawnstat.h"
#include "daemon/sup/logcap.h"
#include "daemon/sup/proctree.h"
#include "daemon/sup/envfile.h"
#include "daemon/sup/loopcheck.h"
#include "daemon/sup/spawn.h"
#include "daemon/sup/supervise.h"
#include "daemon/sup/supervise_int.h"
#include "lib/buf.h"

/* After SIGKILL, how long a process group may take to disappear. */
#define GROUP_KILL_GRACE_MS 2000
/*
 * A running process that exits within min_uptime_secs of its spawn counts
 * as a failed start (backoff, then fatal). With min_uptime_secs 0, one that
 * exits sooner than this is still restarted after a backoff delay
 * (doubling per rapid exit in a row), not at once: with start_secs 0 a
 * crashing program would otherwise be restarted thousands of times a
 * second. One that ran longer restarts immediately.
 */
#define RAPID_EXIT_SECS 1.0
/* How often to look whether a process group is gone once its leader is. */
#define GROUP_POLL_MS 10

static void notify_observers(struct brm_supervisor *sup, struct brm_proc *p,
			     enum brm_proc_event ev);
static void do_spawn(struct brm_proc *p);
static void start_or_wait(struct brm_proc *p);
static void on_timer(uv_timer_t *t);
static void recheck_waiting(struct brm_proc *p);

/* ---- small helpers ------------------------------------------------------ */

static const char *restart_name(enum brm_restart r)
{
	return brm_restart_name(r);
}

static uint64_t secs_to_ms(double s)
{
	if (!(s > 0))
		return 0;
	if (s > 1e9)
		s = 1e9;
	return (uint64_t)llround(s * 1000.0);
}

char *brm_proc_join_argv(char *const *argv)
{
	struct brm_buf b = BRM_BUF_INIT;

	for (size_t i = 0; argv && argv[i]; i++) {
		if (i)
			brm_buf_addc(&b, ' ');
		if (argv[i][0] && !strpbrk(argv[i], " \t\n'\"\\$`")) {
			brm_buf_adds(&b, argv[i]);
		} else {
			brm_buf_addc(&b, '\'');
			for (const char *c = argv[i]; *c; c++) {
				if (*c == '\'')
					brm_buf_adds(&b, "'\\''");
				else
					brm_buf_addc(&b, *c);
			}
			brm_buf_addc(&b, '\'');
		}
	}
	return brm_buf_detach(&b);
}

static void set_error(struct brm_proc *p, const char *msg)
{
	free(p->error);
	p->error = msg ? brm_xstrdup(msg) : NULL;
}

static bool is_oneshot(const struct brm_proc *p)
{
	return p->spec->type == BRM_TYPE_ONESHOT;
}

static void set_cause(struct brm_proc *p, const char *why)
{
	free(p->cause);
	p->cause = why ? brm_xstrdup(why) : NULL;
}

void brm_proc_set_state(struct brm_proc *p, enum brm_state st)
{
	if (p->state == BRM_WAITING && st != BRM_WAITING) {
		free(p->waiting_for);
		p->waiting_for = NULL;
	}
	if (p->state != st) {
		brm_log_debug("%s: %s -> %s", p->spec->name, brm_state_name(p->state),
			      brm_state_name(st));
		if (p->pprev) {   /* linked: counted */
			p->sup->nstate[p->state]--;
			p->sup->nstate[st]++;
		}
		p->state = st;
		p->since_ms = brm_now_wall_ms();
		brm_proc_count_settled(p);
	}
}

/* Every change of the main pid goes here: settledness follows it. */
static void set_pid(struct brm_proc *p, pid_t pid)
{
	p->pid = pid;
	brm_proc_count_settled(p);
}

static bool group_alive(pid_t pgid)
{
	return pgid > 0 && kill(-pgid, 0) == 0;
}

/* The group, or at least the main process when the child left its group. */
static void signal_group(struct brm_proc *p, int sig)
{
	if (p->pgid > 0 && kill(-p->pgid, sig) == 0)
		return;
	if (p->pid > 0)
		kill(p->pid, sig);
}

/*
 * @sig to the group brummd made for the child and to the descendants that
 * left it (setsid) but still descend from the main process through living
 * parents; then SIGCONT to the same when @cont, since a stopped (SIGSTOP)
 * process would never see @sig. One walk of the tree serves both.
 */
void brm_proc_kill_group(struct brm_proc *p, int sig, bool cont)
{
	pid_t escaped[1024];
	int n = brm_proctree_escaped(p->pid, p->pgid, escaped, BRM_ARRAY_SIZE(escaped));

	if (n > 0)
		brm_log_info("%s: SIG%s also to %d descendant(s) outside its process group",
			     p->spec->name, brm_signal_name(sig), n);
	for (int i = 0; i < n; i++)
		kill(escaped[i], sig);
	signal_group(p, sig);
	if (!cont)
		return;
	for (int i = 0; i < n; i++)
		kill(escaped[i], SIGCONT);
	signal_group(p, SIGCONT);
}

/* ---- handle lifetimes --------------------------------------------------- */

static void proc_free_now(struct brm_proc *p)
{
	brm_spec_destroy(p->spec);
	brm_logcap_destroy(p->logs);
	free(p->cmd_display);
	free(p->error);
	free(p->health_output);
	free(p->waiting_for);
	free(p->cause);
	free(p);
}

void brm_proc_on_handle_closed(uv_handle_t *h)
{
	struct brm_proc *p = h->data;

	if (--p->closing == 0 && p->freed)
		proc_free_now(p);
}

void brm_proc_on_watch_closed(uv_handle_t *h)
{
	struct exitwatch *w = (struct exitwatch *)h;

	close(w->pidfd);
	free(w);
}

/* ---- publishing --------------------------------------------------------- */

void brm_proc_publish(struct brm_proc *p)
{
	struct brm_snapshot *s = brm_snapshot_create_ex(p->spec->name, p->error, p->cmd_display,
							p->health_output,
							p->state == BRM_WAITING ? p->waiting_for
										: NULL);
	struct brm_supervisor *sup = p->sup;

	s->generation = p->generation;
	s->state = p->state;
	s->pid = p->pid;
	s->exit_code = p->exit_code;
	s->exit_signal = p->exit_signal;
	s->restarts = p->restarts;
	s->start_failures = p->start_failures;
	s->since_ms = p->since_ms;
	s->started_ms = p->pid ? p->started_ms : 0;
	s->next_retry_ms = p->state == BRM_BACKOFF ? p->next_retry_ms : 0;
	s->autostart = p->spec->autostart;
	s->critical = p->spec->critical;
	s->restart = restart_name(p->spec->restart);
	s->type = brm_proc_type_name(p->spec->type);
	s->start_failures_total = p->start_failures_total;
	s->extra_json = brm_logcap_extra_json(p->logs);
	s->log_dropped = brm_logcap_dropped(p->logs);
	s->health = p->health;
	if (p->entry)
		brm_registry_publish(sup->reg, p->entry, s);
	else
		p->entry = brm_registry_insert(sup->reg, s);
	p->prev_state = p->pub_state;
	p->pub_state = (int)p->state;
	p->prev_pid = p->pub_pid;
	p->pub_pid = p->pid;
	p->prev_health = p->pub_health;
	p->pub_health = p->health;
	notify_observers(sup, p, BRM_EV_STATE);
	/* A stop carried out for a restart keeps its cause for the start. */
	if (p->state != BRM_STOPPING)
		set_cause(p, NULL);
}

/* Added observers first (they record: events), then the control's (it may
 * answer a request: the answer comes after the record), then the service's. */
static void notify_observers(struct brm_supervisor *sup, struct brm_proc *p,
			     enum brm_proc_event ev)
{
	for (int k = 0; k < BRM_MAX_OBSERVERS; k++) {
		int i = (k + 2) % BRM_MAX_OBSERVERS;
		if (sup->obs[i].fn)
			sup->obs[i].fn(sup->obs[i].arg, p, ev);
	}
}

/* ---- state machine ------------------------------------------------------ */

static void arm_timer(struct brm_proc *p, uint64_t ms)
{
	uv_update_time(p->sup->loop);
	uv_timer_start(&p->timer, on_timer, ms, 0);
}

/*
 * How long after its spawn an exit still counts as a failed start:
 * min_uptime_secs, or start_secs when that is longer. A program that comes
 * up and dies again soon after (it lost a race for its port, a worker
 * crashed at its first request) is as broken as one that never came up.
 */
static double min_uptime(const struct brm_proc *p)
{
	return p->spec->start_secs > p->spec->min_uptime_secs ? p->spec->start_secs
							      : p->spec->min_uptime_secs;
}

static double up_secs(const struct brm_proc *p)
{
	return (double)(brm_now_mono_ns() - p->started_mono_ns) / 1e9;
}

/*
 * @p counts as started (start_secs passed, or it said it is ready). Its
 * failed starts are forgotten once it has stayed up min_uptime(): the
 * timer, idle while running, says when. A one-shot's failures count across
 * its runs: being up for a while says nothing about how its run ends.
 */
static void became_running(struct brm_proc *p)
{
	brm_proc_set_state(p, BRM_RUNNING);
	set_error(p, NULL);
	if (p->start_failures && !is_oneshot(p)) {
		double left = min_uptime(p) - up_secs(p);

		if (left > 0)
			arm_timer(p, secs_to_ms(left));
		else
			p->start_failures = 0;
	}
	brm_proc_publish(p);
}

/* The process reached a final stopped state; a pending start goes on. */

static void settle_stopped(struct brm_proc *p)
{
	uv_timer_stop(&p->timer);
	p->pgid = 0;
	p->killed = false;
	p->leader_gone = false;
	brm_proc_set_state(p, BRM_STOPPED);
	if (p->removing) {
		brm_proc_publish(p);
		brm_proc_finish_removal(p);
		return;
	}
	if (p->start_after_stop && !p->sup->shutting_down) {
		/* Straight on to starting: publishing "stopped" in between would
		 * tell a waiting restart that its process ended up stopped. */
		p->start_after_stop = false;
		p->start_failures = 0;
		set_error(p, NULL);
		start_or_wait(p);
		return;
	}
	p->start_after_stop = false;
	brm_proc_publish(p);
	brm_supervisor_maybe_stop_all_done(p->sup);
}

/* Give up on @p for @msg: fatal, said in the log, and perhaps the last to settle. */
static void go_fatal(struct brm_proc *p, const char *msg)
{
	set_error(p, msg);
	brm_proc_set_state(p, BRM_FATAL);
	brm_log_warn("%s: fatal: %s", p->spec->name, p->error);
	brm_proc_publish(p);
	brm_supervisor_maybe_stop_all_done(p->sup);
}

/* A start failed: back off and retry, or give up. */
static void failed_start(struct brm_proc *p, const char *why)
{
	uint64_t delay;
	double d;

	set_error(p, why);
	p->start_failures++;
	p->start_failures_total++;
	if (p->sup->shutting_down || p->removing) {
		settle_stopped(p);
		return;
	}
	if (p->start_failures > p->spec->start_retries) {
		char *msg = brm_xasprintf("%s; gave up after %u failed starts", why,
					  p->start_failures);
		go_fatal(p, msg);
		free(msg);
		return;
	}
	d = p->spec->backoff_secs * ldexp(1.0, (int)p->start_failures - 1);
	if (d > p->spec->backoff_max_secs)
		d = p->spec->backoff_max_secs;
	delay = secs_to_ms(d);
	p->next_retry_ms = brm_now_wall_ms() + (int64_t)delay;
	brm_proc_set_state(p, BRM_BACKOFF);
	brm_log_info("%s: start failed: %s; retry %u of %u in %.3gs", p->spec->name, why,
		     p->start_failures, p->spec->start_retries, (double)delay / 1000.0);
	brm_proc_publish(p);
	arm_timer(p, delay);
}

static void on_exit_readable(uv_poll_t *h, int status, int events);

/*
 * The spec's env_file variables, then its env over them, for this start.
 * Returns 0 and *@env (NULL: the spec's env as it is), or -errno and @err.
 * Ownership: caller frees *@env with brm_strv_free().
 */
static int start_env(const struct brm_proc_spec *s, char ***env, char *err, size_t errlen)
{
	size_t nf, ns = brm_strv_len(s->env);
	char **v;
	int r;

	*env = NULL;
	if (!s->env_file)
		return 0;
	r = brm_envfile_read(s->env_file, s->user, &v, err, errlen);
	if (r < 0)
		return r;
	nf = brm_strv_len(v);
	v = brm_xrealloc(v, (nf + ns + 1) * sizeof(*v));
	for (size_t i = 0; i < ns; i++)
		v[nf + i] = brm_xstrdup(s->env[i]);
	v[nf + ns] = NULL;
	*env = v;
	return 0;
}

/* The spec's rlimits, nice and oom_score_adj into @req (@rl: its storage). */
static void start_limits(const struct brm_proc_spec *s, struct brm_spawn_req *req,
			 struct brm_spawn_rlimit rl[BRM_RLIMIT_COUNT])
{
	size_t n = 0;

	for (int k = 0; k < BRM_RLIMIT_COUNT; k++) {
		if (!s->rlimits[k].set)
			continue;
		rl[n].resource = brm_rlimit_resource((enum brm_rlimit_res)k);
		rl[n].soft = s->rlimits[k].soft;
		rl[n].hard = s->rlimits[k].hard;
		n++;
	}
	req->rlimits = rl;
	req->nrlimits = n;
	req->set_nice = s->nice_set;
	req->nice = s->nice;
	req->set_oom_score_adj = s->oom_score_adj_set;
	req->oom_score_adj = s->oom_score_adj;
}

static void do_spawn(struct brm_proc *p)
{
	struct brm_spawn_req req = {
		.argv = p->spec->argv,
		.env = p->spec->env,
		.cwd = p->spec->cwd,
		.user = p->spec->user,
		.group = p->spec->group,
		.umask = p->spec->umask,
		.pdeathsig = p->spec->orphan_keep ? 0 : SIGKILL,
	};
	struct brm_spawn_rlimit rl[BRM_RLIMIT_COUNT];
	struct brm_proc_hooks *hk = &p->sup->hooks;
	struct brm_spawned out;
	char err[512], **env;
	struct exitwatch *w;
	uint64_t t0;
	int r;

	/* Read again at each start: an edit applies at the next restart. */
	if (start_env(p->spec, &env, err, sizeof(err)) < 0) {
		brm_log_warn("%s: cannot start: %s", p->spec->name, err);
		brm_logcap_meta(p->logs, "cannot start: %s", err);
		failed_start(p, err);
		return;
	}
	if (env)
		req.env = env;
	start_limits(p->spec, &req, rl);
	if (hk->prepare_spawn)
		hk->prepare_spawn(hk->arg, p, &req);
	t0 = brm_now_mono_ns();
	r = brm_spawn(&req, &out, err, sizeof(err));
	brm_spawnstat_record(brm_now_mono_ns() - t0);
	brm_strv_free(env);
	if (hk->spawned)
		hk->spawned(hk->arg, p, r == 0 ? out.pid : 0);
	if (r < 0) {
		brm_log_warn("%s: cannot start: %s", p->spec->name, err);
		brm_logcap_meta(p->logs, "cannot start: %s", err);
		failed_start(p, err);
		return;
	}
	set_pid(p, out.pid);
	p->pgid = out.pid;
	p->started_ms = brm_now_wall_ms();
	p->started_mono_ns = brm_now_mono_ns();
	p->killed = false;
	p->leader_gone = false;

	w = brm_xcalloc(1, sizeof(*w));
	w->pidfd = out.pidfd;
	w->p = p;
	r = uv_poll_init(p->sup->loop, &w->poll, out.pidfd);
	if (r == 0)
		r = uv_poll_start(&w->poll, UV_READABLE, on_exit_readable);
	if (r != 0) {
		/* Without a way to learn of its exit, the child can't be supervised. */
		brm_log_error("%s: cannot watch pid %d: %s; killing it", p->spec->name,
			      (int)out.pid, uv_strerror(r));
		kill(-out.pid, SIGKILL);
		w->p = NULL;
		uv_close((uv_handle_t *)&w->poll, brm_proc_on_watch_closed);
		close(out.stdout_fd);
		close(out.stderr_fd);
		set_pid(p, 0);
		failed_start(p, "cannot watch the process for its exit");
		return;
	}
	p->watch = w;
	brm_outpipe_attach(p, out.stdout_fd, 1);
	brm_outpipe_attach(p, out.stderr_fd, 2);

	p->next_retry_ms = 0;
	brm_proc_set_state(p, BRM_STARTING);
	brm_log_info("%s: %s, pid %d", p->spec->name,
		     is_oneshot(p) ? "one-shot started" : "started", (int)p->pid);
	brm_logcap_meta(p->logs, "started with pid %d", (int)p->pid);
	if (hk->ready_gated && hk->ready_gated(hk->arg, p)) {
		/* running once brm_proc_set_ready says so */
		brm_proc_publish(p);
		return;
	}
	if (p->spec->start_secs <= 0) {
		became_running(p);
		return;
	}
	brm_proc_publish(p);
	arm_timer(p, secs_to_ms(p->spec->start_secs));
}

static bool should_restart(const struct brm_proc *p, int code, int sig)
{
	switch (p->spec->restart) {
	case BRM_RESTART_ALWAYS:
		return true;
	case BRM_RESTART_ON_FAILURE:
		return sig != 0 || code != 0;
	case BRM_RESTART_NEVER:
		return false;
	}
	return false;
}

static void describe_exit(char *buf, size_t len, int code, int sig)
{
	if (sig) {
		const char *n = brm_signal_name(sig);
		if (n)
			snprintf(buf, len, "killed by SIG%s", n);
		else
			snprintf(buf, len, "killed by signal %d", sig);
	} else {
		snprintf(buf, len, "exited with code %d", code);
	}
}

/* A rapid exit of a running process: restart after a growing delay. */
static void restart_later(struct brm_proc *p, const char *what, double up)
{
	uint64_t delay;
	double d;
	char *why;

	p->rapid_exits++;
	d = p->spec->backoff_secs * ldexp(1.0, (int)(p->rapid_exits < 30 ? p->rapid_exits : 30) - 1);
	if (d > p->spec->backoff_max_secs)
		d = p->spec->backoff_max_secs;
	delay = secs_to_ms(d);
	if (delay == 0) {
		/* backoff_secs 0: the user asked for no throttle. */
		start_or_wait(p);
		return;
	}
	why = brm_xasprintf("%s after %.3fs; restart %u in a row within %gs of its start,"
			    " next in %.3gs", what, up, p->rapid_exits, RAPID_EXIT_SECS,
			    (double)delay / 1000.0);
	set_error(p, why);
	free(why);
	p->next_retry_ms = brm_now_wall_ms() + (int64_t)delay;
	brm_proc_set_state(p, BRM_BACKOFF);
	brm_proc_publish(p);
	arm_timer(p, delay);
}

/*
 * A one-shot's run ended (starting or running alike: how long it ran does
 * not matter). Exit 0 completes it; anything else is retried under
 * "on-failure" while start_retries allows, else it is fatal, keeping its
 * exit code.
 */
static void oneshot_exit(struct brm_proc *p, int code, const char *what)
{
	uint64_t delay;
	double d;
	char *why;

	if (group_alive(p->pgid))
		kill(-p->pgid, SIGKILL);
	p->pgid = 0;
	uv_timer_stop(&p->timer);
	if (code == 0) {
		set_error(p, NULL);
		p->start_failures = 0;
		brm_proc_set_state(p, BRM_EXITED);
		brm_log_info("%s: one-shot completed", p->spec->name);
		brm_proc_publish(p);
		brm_supervisor_maybe_stop_all_done(p->sup);
		return;
	}
	p->start_failures++;
	p->start_failures_total++;
	if (p->spec->restart == BRM_RESTART_ON_FAILURE && !p->sup->shutting_down &&
	    !p->removing && p->start_failures <= p->spec->start_retries) {
		d = p->spec->backoff_secs * ldexp(1.0, (int)p->start_failures - 1);
		if (d > p->spec->backoff_max_secs)
			d = p->spec->backoff_max_secs;
		delay = secs_to_ms(d);
		why = brm_xasprintf("one-shot failed: %s; retry %u of %u in %.3gs", what,
				    p->start_failures, p->spec->start_retries,
				    (double)delay / 1000.0);
		set_error(p, why);
		free(why);
		brm_log_info("%s: %s", p->spec->name, p->error);
		p->next_retry_ms = brm_now_wall_ms() + (int64_t)delay;
		brm_proc_set_state(p, BRM_BACKOFF);
		brm_proc_publish(p);
		arm_timer(p, delay);
		return;
	}
	if (p->start_failures > 1)
		why = brm_xasprintf("one-shot failed: %s (run %u of %u)", what, p->start_failures,
				    p->spec->start_retries + 1);
	else
		why = brm_xasprintf("one-shot failed: %s", what);
	go_fatal(p, why);
	free(why);
}

static void handle_exit(struct brm_proc *p, int status)
{
	int code = -1, sig = 0;
	char what[64], why[160];
	double up;

	if (WIFEXITED(status))
		code = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		sig = WTERMSIG(status);
	p->exit_code = code;
	p->exit_signal = sig;
	up = up_secs(p);
	describe_exit(what, sizeof(what), code, sig);
	brm_log_info("%s: pid %d %s after %.3fs", p->spec->name, (int)p->pid, what, up);
	brm_proc_drain_pipes(p);
	brm_logcap_end_run(p->logs);
	brm_logcap_meta(p->logs, "pid %d %s", (int)p->pid, what);
	set_pid(p, 0);
	p->started_ms = 0;

	if (is_oneshot(p) && (p->state == BRM_STARTING || p->state == BRM_RUNNING)) {
		oneshot_exit(p, code, what);
		return;
	}
	switch (p->state) {
	case BRM_STOPPING:
		p->leader_gone = true;
		if (group_alive(p->pgid)) {
			/* Wait for the rest of the group, up to the SIGKILL. */
			uv_update_time(p->sup->loop);
			brm_proc_publish(p);
			arm_timer(p, GROUP_POLL_MS);
			return;
		}
		settle_stopped(p);
		return;

	case BRM_STARTING:
		if (group_alive(p->pgid))
			kill(-p->pgid, SIGKILL);
		p->pgid = 0;
		uv_timer_stop(&p->timer);
		if (code == 0 && p->spec->restart != BRM_RESTART_ALWAYS) {
			/* A clean, quick exit is a finished job, not a failed start. */
			set_error(p, NULL);
			p->start_failures = 0;
			brm_proc_set_state(p, BRM_EXITED);
			brm_proc_publish(p);
			brm_supervisor_maybe_stop_all_done(p->sup);
			return;
		}
		snprintf(why, sizeof(why), "%s after %.3fs, before start_secs (%gs)", what, up,
			 p->spec->start_secs);
		failed_start(p, why);
		return;

	case BRM_RUNNING:
		uv_timer_stop(&p->timer);
		if (group_alive(p->pgid))
			kill(-p->pgid, SIGKILL);
		p->pgid = 0;
		if (!p->sup->shutting_down && !p->removing && should_restart(p, code, sig)) {
			p->restarts++;
			if (up < min_uptime(p)) {
				snprintf(why, sizeof(why), "%s after %.3fs, within %gs of its start"
					 " (min_uptime_secs)", what, up, min_uptime(p));
				failed_start(p, why);
				return;
			}
			p->start_failures = 0;
			if (up >= RAPID_EXIT_SECS) {
				p->rapid_exits = 0;
				start_or_wait(p);
				return;
			}
			restart_later(p, what, up);
			return;
		}
		brm_proc_set_state(p, BRM_EXITED);
		brm_proc_publish(p);
		brm_supervisor_maybe_stop_all_done(p->sup);
		return;

	default:
		brm_log_error("%s: exit in state %s", p->spec->name, brm_state_name(p->state));
		p->pgid = 0;
		brm_proc_publish(p);
		return;
	}
}

static void on_exit_readable(uv_poll_t *h, int status, int events)
{
	struct exitwatch *w = (struct exitwatch *)h;
	struct brm_proc *p = w->p;
	int wstatus = 0, r;

	(void)events;
	r = brm_spawn_reap(w->pidfd, &wstatus);
	if (r == 0 && status == 0)
		return;   /* spurious wake-up: it still runs */
	if (r < 0) {
		brm_log_error("%s: cannot reap: %s", p ? p->spec->name : "?", strerror(-r));
		wstatus = W_EXITCODE(255, 0);
	}
	uv_poll_stop(&w->poll);
	uv_close((uv_handle_t *)&w->poll, brm_proc_on_watch_closed);
	if (!p)
		return;
	w->p = NULL;
	p->watch = NULL;
	handle_exit(p, wstatus);
}

static void on_timer(uv_timer_t *t)
{
	struct brm_proc *p = t->data;

	switch (p->state) {
	case BRM_STARTING:
		became_running(p);
		break;

	case BRM_RUNNING:
		/* up for min_uptime_secs: a failed start again begins a new count */
		p->start_failures = 0;
		brm_proc_publish(p);
		break;

	case BRM_BACKOFF:
		start_or_wait(p);
		break;

	case BRM_STOPPING:
		if (p->leader_gone && !group_alive(p->pgid)) {
			settle_stopped(p);
			break;
		}
		if (uv_now(p->sup->loop) >= p->stop_deadline) {
			if (!p->killed) {
				brm_log_warn("%s: did not stop within %gs; sending SIGKILL",
					     p->spec->name, p->spec->stop_timeout_secs);
				brm_proc_kill_group(p, SIGKILL, false);
				p->killed = true;
				p->stop_deadline = uv_now(p->sup->loop) + GROUP_KILL_GRACE_MS;
			} else if (p->leader_gone) {
				brm_log_error("%s: process group %d still exists after SIGKILL;"
					      " giving up on it", p->spec->name, (int)p->pgid);
				settle_stopped(p);
				break;
			}
		}
		if (p->leader_gone) {
			arm_timer(p, GROUP_POLL_MS);
		} else {
			uint64_t now = uv_now(p->sup->loop);
			arm_timer(p, p->stop_deadline > now ? p->stop_deadline - now : GROUP_POLL_MS);
		}
		break;

	default:
		break;
	}
}

/* ---- requests ----------------------------------------------------------- */

void brm_proc_begin_stop(struct brm_proc *p)
{
	uint64_t ms = secs_to_ms(p->spec->stop_timeout_secs);

	brm_proc_set_state(p, BRM_STOPPING);
	p->killed = false;
	p->leader_gone = false;
	brm_proc_kill_group(p, p->spec->stop_signal, p->spec->stop_signal != SIGKILL);
	uv_update_time(p->sup->loop);
	p->stop_deadline = uv_now(p->sup->loop) + ms;
	brm_proc_publish(p);
	arm_timer(p, ms);
}

/*
 * What a start and a restart check first: neither while brummd shuts down
 * or @p is being removed, and one asked for while @p stops runs after the
 * stop. Returns 1 when the caller goes on by @p's state, else what the
 * request returns (0 or a negative errno).
 */
static int request_guard(struct brm_proc *p, const char *why)
{
	if (p->sup->shutting_down)
		return -ESHUTDOWN;
	if (p->removing)
		return -EBUSY;
	if (p->state == BRM_STOPPING) {
		p->start_after_stop = true;
		set_cause(p, why);
		return 0;
	}
	return 1;
}

/*
 * A start request; @again: run a one-shot that completed once more
 * (restart), where a start leaves it completed.
 */
static int start_request(struct brm_proc *p, const char *why, bool again)
{
	int rc;

	p->stop_pending = false;
	rc = request_guard(p, why);
	if (rc <= 0)
		return rc;
	switch (p->state) {
	case BRM_STARTING:
	case BRM_RUNNING:
		return 0;
	case BRM_WAITING:
		/* Again: what it needs may have been released or stopped since. */
		recheck_waiting(p);
		return 0;
	case BRM_EXITED:
		if (!again && brm_proc_completed(p))
			return 0;
		/* fall through */
	case BRM_BACKOFF:
		uv_timer_stop(&p->timer);
		/* fall through */
	case BRM_STOPPED:
	case BRM_FATAL:
	default:
		p->start_failures = 0;
		p->rapid_exits = 0;
		set_error(p, NULL);
		set_cause(p, why);
		start_or_wait(p);
		return 0;
	}
}

/* A start of a waiting process: the hooks start what it needs, or it goes. */
static void recheck_waiting(struct brm_proc *p)
{
	struct brm_proc_hooks *hk = &p->sup->hooks;

	if (hk->must_wait && hk->must_wait(hk->arg, p))
		return;
	brm_proc_deps_met(p);
}

int brm_proc_start_because(struct brm_proc *p, const char *why)
{
	BRM_ASSERT_LOOP();
	return start_request(p, why, false);
}

int brm_proc_start(struct brm_proc *p)
{
	BRM_ASSERT_LOOP();
	return brm_proc_start_because(p, NULL);
}

bool brm_proc_completed(const struct brm_proc *p)
{
	BRM_ASSERT_LOOP();
	return is_oneshot(p) && p->state == BRM_EXITED && p->exit_code == 0;
}

bool brm_proc_is_oneshot(const struct brm_proc *p)
{
	BRM_ASSERT_LOOP();
	return is_oneshot(p);
}

/* Spawn now, or wait in `waiting` for the dependencies (the hooks' call). */
static void start_or_wait(struct brm_proc *p)
{
	struct brm_proc_hooks *hk = &p->sup->hooks;

	if (hk->must_wait && hk->must_wait(hk->arg, p)) {
		p->next_retry_ms = 0;
		brm_proc_set_state(p, BRM_WAITING);
		brm_proc_publish(p);
		return;
	}
	do_spawn(p);
}

void brm_proc_deps_met(struct brm_proc *p)
{
	BRM_ASSERT_LOOP();
	if (p->state == BRM_WAITING && !p->removing && !p->sup->shutting_down)
		do_spawn(p);
}

void brm_proc_set_held(struct brm_proc *p, bool held)
{
	BRM_ASSERT_LOOP();
	p->held = held;
}

bool brm_proc_held(const struct brm_proc *p)
{
	BRM_ASSERT_LOOP();
	return p->held;
}

void brm_proc_deps_failed(struct brm_proc *p, const char *why)
{
	BRM_ASSERT_LOOP();
	if (p->state != BRM_WAITING)
		return;
	set_error(p, why);
	brm_proc_set_state(p, BRM_FATAL);
	brm_log_warn("%s: fatal: %s", p->spec->name, why);
	brm_proc_publish(p);
}

void brm_proc_set_ready(struct brm_proc *p)
{
	BRM_ASSERT_LOOP();
	if (p->state != BRM_STARTING)
		return;
	uv_timer_stop(&p->timer);
	became_running(p);
}

void brm_proc_set_waiting_for(struct brm_proc *p, const char *what)
{
	BRM_ASSERT_LOOP();
	if ((!what && !p->waiting_for) || (what && p->waiting_for && !strcmp(what, p->waiting_for)))
		return;
	free(p->waiting_for);
	p->waiting_for = what ? brm_xstrdup(what) : NULL;
	if (p->state == BRM_WAITING)
		brm_proc_publish(p);
}

const char *brm_proc_cause(const struct brm_proc *p)
{
	BRM_ASSERT_LOOP();
	return p->cause;
}

void brm_proc_set_health(struct brm_proc *p, const char *health, const char *output)
{
	BRM_ASSERT_LOOP();
	bool same = p->health == health &&
		    ((!output && !p->health_output) ||
		     (output && p->health_output && !strcmp(output, p->health_output)));

	if (same)
		return;
	p->health = health;
	free(p->health_output);
	p->health_output = output ? brm_xstrdup(output) : NULL;
	brm_proc_publish(p);
}

const char *brm_proc_health(const struct brm_proc *p)
{
	BRM_ASSERT_LOOP();
	return p->health;
}

pid_t brm_proc_pid(const struct brm_proc *p)
{
	BRM_ASSERT_LOOP();
	return p->pid;
}

int brm_proc_exit_code(const struct brm_proc *p)
{
	BRM_ASSERT_LOOP();
	return p->exit_code;
}

struct brm_orch *brm_proc_orch(const struct brm_proc *p)
{
	BRM_ASSERT_LOOP();
	return p->orch;
}

void brm_proc_set_orch(struct brm_proc *p, struct brm_orch *orch)
{
	BRM_ASSERT_LOOP();
	p->orch = orch;
}

int brm_proc_stop(struct brm_proc *p)
{
	BRM_ASSERT_LOOP();
	return brm_proc_stop_because(p, NULL);
}

int brm_proc_stop_because(struct brm_proc *p, const char *why)
{
	BRM_ASSERT_LOOP();
	p->start_after_stop = false;
	p->stop_pending = false;
	switch (p->state) {
	case BRM_STARTING:
	case BRM_RUNNING:
		set_cause(p, why);
		brm_proc_begin_stop(p);
		return 0;
	case BRM_STOPPING:
		set_cause(p, why);
		return 0;
	case BRM_BACKOFF:
	case BRM_WAITING:
		set_cause(p, why);
		uv_timer_stop(&p->timer);
		brm_proc_set_state(p, BRM_STOPPED);
		brm_proc_publish(p);
		brm_supervisor_maybe_stop_all_done(p->sup);
		return 0;
	default:
		return 0;
	}
}

void brm_proc_mark_stop(struct brm_proc *p)
{
	BRM_ASSERT_LOOP();
	if (p->state == BRM_STARTING || p->state == BRM_RUNNING) {
		p->start_after_stop = false;
		p->stop_pending = true;
	}
}

int brm_proc_stop_after_dependents(struct brm_proc *p)
{
	BRM_ASSERT_LOOP();
	struct brm_supervisor *sup = p->sup;

	if ((p->state == BRM_STARTING || p->state == BRM_RUNNING) && sup->hooks.defer_stop &&
	    sup->hooks.defer_stop(sup->hooks.arg, p)) {
		p->start_after_stop = false;
		p->stop_pending = true;
		return 0;
	}
	return brm_proc_stop(p);
}

bool brm_proc_stop_pending(const struct brm_proc *p)
{
	BRM_ASSERT_LOOP();
	return p->stop_pending;
}

int brm_proc_restart(struct brm_proc *p)
{
	BRM_ASSERT_LOOP();
	return brm_proc_restart_because(p, NULL);
}

int brm_proc_restart_because(struct brm_proc *p, const char *why)
{
	int rc;

	BRM_ASSERT_LOOP();
	rc = request_guard(p, why);
	if (rc <= 0)
		return rc;
	switch (p->state) {
	case BRM_STARTING:
	case BRM_RUNNING:
		p->start_after_stop = true;
		set_cause(p, why);
		brm_proc_begin_stop(p);
		return 0;
	default:
		return start_request(p, why, true);
	}
}

/*
 * The main process by default: a pre-fork server's master reloads on HUP
 * and manages its workers itself. The pid is our unreaped child, so it
 * cannot have been reused.
 */
int brm_proc_signal(struct brm_proc *p, int signo, bool group)
{
	BRM_ASSERT_LOOP();
	if (p->pid <= 0)
		return -ESRCH;
	if (group && p->pgid > 0 && kill(-p->pgid, signo) == 0)
		return 0;
	if (kill(p->pid, signo) < 0)
		return -errno;
	return 0;
}

void brm_proc_finish_removal(struct brm_proc *p)
{
	struct brm_supervisor *sup = p->sup;

	if (p->pprev) {
		*p->pprev = p->next;
		if (p->next)
			p->next->pprev = p->pprev;
		p->pprev = NULL;
		brm_proc_count_settled(p);
		sup->nstate[p->state]--;
		if (brm_spec_has_deps(p->spec))
			sup->nwith_deps--;
	}
	sup->nprocs--;
	/*
	 * Unlinked before the observers run: the reply to `remove` they send
	 * must not reach a client that can still find the name. The read lock
	 * keeps the entry and its last snapshot alive for them.
	 */
	rcu_read_lock();
	brm_registry_delete(sup->reg, p->entry);
	notify_observers(sup, p, BRM_EV_REMOVED);
	rcu_read_unlock();
	p->entry = NULL;
	while (p->pipes)
		brm_outpipe_close(p->pipes);
	p->freed = true;
	p->closing++;
	uv_close((uv_handle_t *)&p->timer, brm_proc_on_handle_closed);
	brm_supervisor_maybe_stop_all_done(sup);
}

int brm_proc_remove(struct brm_proc *p)
{
	BRM_ASSERT_LOOP();
	if (p->removing)
		return 0;
	p->removing = true;
	p->start_after_stop = false;
	switch (p->state) {
	case BRM_STARTING:
	case BRM_RUNNING:
		brm_proc_begin_stop(p);
		return 0;
	case BRM_STOPPING:
		return 0;
	default:
		uv_timer_stop(&p->timer);
		brm_proc_finish_removal(p);
		return 0;
	}
}

void brm_proc_update_spec(struct brm_proc *p, struct brm_proc_spec *spec, uint64_t generation)
{
	BRM_ASSERT_LOOP();
	if (p->pprev)
		p->sup->nwith_deps += (size_t)brm_spec_has_deps(spec) -
				      (size_t)brm_spec_has_deps(p->spec);
	brm_spec_destroy(p->spec);
	p->spec = spec;
	p->generation = generation;
	brm_logcap_set_user(p->logs, spec->user);
	free(p->cmd_display);
	p->cmd_display = brm_proc_join_argv(spec->argv);
	brm_proc_publish(p);
}
