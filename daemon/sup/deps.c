/*
 * deps.c — dependencies, readiness and the glue to health checks (deps.h).
 *
 * Every decision is made again from the current states on each state
 * change (the supervisor's observer): no event ordering to get wrong. The
 * cost is a pass over the waiting processes per change, which is nothing
 * next to a spawn at the sizes brummd runs. Re-entry (a spawn publishes,
 * which calls the observer again) is folded into one more pass.
 *
 * Long because: dependencies, readiness (sd_notify's READY=1 pipe) and the
 * health glue decide together whether a process may start, is running and
 * must restart, all in the one pass above; the decisions read best side by
 * side.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/sup/deps.h"
#include "daemon/sup/health.h"
#include "daemon/sup/loopcheck.h"
#include "daemon/log.h"
#include "daemon/conf/orchspec.h"
#include "daemon/sup/spawn.h"
#include "daemon/sup/waitfor.h"
#include "lib/buf.h"
#include "lib/util.h"
#include "proto/selector.h"

struct notify_pipe {
	uv_pipe_t pipe;
	struct brm_proc *p;         /* NULL once abandoned */
};

struct brm_orch {
	struct brm_proc *p;
	struct brm_health *health;
	pid_t run_pid;              /* the run the health check follows */
	int notify_w;               /* write end between prepare and spawned */
	int notify_r;
	struct notify_pipe *np;
	char **env;                 /* with NOTIFY_SOCKET, for the spawn */
};

struct brm_deps {
	uv_loop_t *loop;
	struct brm_supervisor *sup;
	bool evaluating, again;
	int sd_fd;
	uv_poll_t *sd_poll;
	char sd_name[64];
};

static const struct brm_orch_spec *orch_of(struct brm_proc *p)
{
	return brm_proc_spec(p)->orch;
}

static struct brm_orch *oproc_get(struct brm_proc *p)
{
	struct brm_orch *op = brm_proc_orch(p);

	if (!op) {
		op = brm_xcalloc(1, sizeof(*op));
		op->p = p;
		op->notify_w = op->notify_r = -1;
		brm_proc_set_orch(p, op);
	}
	return op;
}

static void on_np_closed(uv_handle_t *h)
{
	free(h);
}

static void np_close(struct brm_orch *op)
{
	if (!op->np)
		return;
	op->np->p = NULL;
	uv_close((uv_handle_t *)&op->np->pipe, on_np_closed);
	op->np = NULL;
}

static void oproc_free(struct brm_orch *op)
{
	brm_health_destroy(op->health);
	np_close(op);
	if (op->notify_w >= 0)
		close(op->notify_w);
	if (op->notify_r >= 0)
		close(op->notify_r);
	brm_strv_free(op->env);
	free(op);
}

/* ---- dependency conditions ---------------------------------------------- */

static bool cond_met(struct brm_proc *q, enum brm_dep_cond c)
{
	enum brm_state st = brm_proc_state(q);
	const char *h;

	switch (c) {
	case BRM_DEP_STARTED:
		/* a one-shot that completed has been started and has run */
		return st == BRM_STARTING || st == BRM_RUNNING || brm_proc_completed(q);
	case BRM_DEP_RUNNING:
		return st == BRM_RUNNING || brm_proc_completed(q);
	case BRM_DEP_HEALTHY:
		h = brm_proc_health(q);
		return (st == BRM_STARTING || st == BRM_RUNNING) && h && !strcmp(h, "healthy");
	case BRM_DEP_COMPLETED:
		return st == BRM_EXITED && brm_proc_exit_code(q) == 0;
	}
	return false;
}

/* Why the condition can no longer be met without a new start, or NULL. */
static char *cond_failed(struct brm_proc *q, const struct brm_dep *d)
{
	enum brm_state st = brm_proc_state(q);

	if (st == BRM_FATAL)
		return brm_xasprintf("dependency '%s' is fatal", brm_proc_name(q));
	if (st == BRM_EXITED && d->cond == BRM_DEP_COMPLETED) {
		if (brm_proc_exit_code(q) >= 0)
			return brm_xasprintf("dependency '%s' did not complete: exited with code %d",
					     brm_proc_name(q), brm_proc_exit_code(q));
		return brm_xasprintf("dependency '%s' did not complete: killed by a signal",
				     brm_proc_name(q));
	}
	if (st == BRM_EXITED)
		return brm_xasprintf("dependency '%s' exited", brm_proc_name(q));
	return NULL;
}

/*
 * The processes a dependency on @name stands for: the process of that
 * name or, when there is none, every instance of the group of that name
 * ("worker" for worker:0, worker:1, ...; proto/selector.h). A dependency
 * on a group is met when it is met by every instance.
 */
struct dep_set {
	struct brm_proc *one;
	struct brm_proc **v;      /* &one, or an array of the group's */
	size_t n, cap;
	const char *group;
};

static void dep_set_add(struct brm_proc *q, void *arg)
{
	struct dep_set *s = arg;

	if (!brm_name_in_group(s->group, brm_proc_name(q)))
		return;
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 8;
		s->v = brm_xrealloc(s->v, s->cap * sizeof(*s->v));
	}
	s->v[s->n++] = q;
}

static void dep_set_of(struct brm_supervisor *sup, const char *name, struct dep_set *s)
{
	memset(s, 0, sizeof(*s));
	s->one = brm_supervisor_find(sup, name);
	if (s->one) {
		s->v = &s->one;
		s->n = 1;
		return;
	}
	s->group = name;
	brm_supervisor_each(sup, dep_set_add, s);
}

static void dep_set_get(struct brm_deps *dd, const char *name, struct dep_set *s)
{
	dep_set_of(dd->sup, name, s);
}

static void dep_set_free(struct dep_set *s)
{
	if (s->v != &s->one)
		free(s->v);
	s->v = NULL;
	s->n = 0;
}

/* Does a dependency on @name take @q (by name, or as its group)? */
static bool dep_takes(struct brm_deps *dd, const char *name, struct brm_proc *q)
{
	if (!strcmp(name, brm_proc_name(q)))
		return true;
	return brm_name_in_group(name, brm_proc_name(q)) && !brm_supervisor_find(dd->sup, name);
}

/* A path "a -> b -> a" when following depends_on from @start comes back. */
static bool find_cycle(struct brm_deps *dd, struct brm_proc *start, struct brm_proc *cur,
		       struct brm_buf *path, int depth)
{
	const struct brm_orch_spec *o = orch_of(cur);

	if (depth > 64 || !o)
		return false;
	for (size_t i = 0; i < o->ndeps; i++) {
		struct dep_set ds;

		dep_set_get(dd, o->deps[i].name, &ds);
		for (size_t k = 0; k < ds.n; k++) {
			struct brm_proc *q = ds.v[k];
			size_t len = path->len;

			brm_buf_addf(path, " -> %s", brm_proc_name(q));
			if (q == start || find_cycle(dd, start, q, path, depth + 1)) {
				dep_set_free(&ds);
				return true;
			}
			path->len = len;
			path->p[len] = '\0';
		}
		dep_set_free(&ds);
	}
	return false;
}

/* Say what @p waits for: the first dependency of @o not met (for a group,
 * its first copy not met, by that copy's name), or nothing. */
static void set_waiting_for(struct brm_deps *dd, struct brm_proc *p,
			    const struct brm_orch_spec *o)
{
	char *what = NULL;

	for (size_t i = 0; o && i < o->ndeps && !what; i++) {
		struct dep_set ds;

		dep_set_get(dd, o->deps[i].name, &ds);
		if (!ds.n)
			what = brm_waiting_for(&o->deps[i], NULL);
		for (size_t k = 0; k < ds.n && !what; k++) {
			struct brm_dep one = { (char *)brm_proc_name(ds.v[k]), o->deps[i].cond };

			if (!cond_met(ds.v[k], one.cond))
				what = brm_waiting_for(ds.one ? &o->deps[i] : &one, ds.v[k]);
		}
		dep_set_free(&ds);
	}
	brm_proc_set_waiting_for(p, what);
	free(what);
}

/* A waiting process: spawn it, fail it, or leave it waiting. */
static void evaluate(struct brm_deps *dd, struct brm_proc *p)
{
	const struct brm_orch_spec *o = orch_of(p);
	struct brm_buf path = BRM_BUF_INIT;
	bool all = true;

	brm_buf_adds(&path, brm_proc_name(p));
	if (find_cycle(dd, p, p, &path, 0)) {
		char *why = brm_xasprintf("dependency cycle %s", path.p);

		brm_buf_finish(&path);
		brm_proc_deps_failed(p, why);
		free(why);
		return;
	}
	brm_buf_finish(&path);
	for (size_t i = 0; o && i < o->ndeps; i++) {
		struct dep_set ds;

		dep_set_get(dd, o->deps[i].name, &ds);
		if (!ds.n)
			all = false;   /* a name a runtime `add` may bring */
		for (size_t k = 0; k < ds.n; k++) {
			struct brm_proc *q = ds.v[k];
			char *why;

			if (cond_met(q, o->deps[i].cond))
				continue;
			all = false;
			/* One stopped by request (an operator's start releases
			 * it): waiting, not failed. */
			why = brm_proc_held(q) ? NULL : cond_failed(q, &o->deps[i]);
			if (why) {
				dep_set_free(&ds);
				brm_proc_deps_failed(p, why);
				free(why);
				return;
			}
		}
		dep_set_free(&ds);
	}
	if (all) {
		brm_log_info("%s: dependencies met; starting", brm_proc_name(p));
		brm_proc_deps_met(p);
		return;
	}
	set_waiting_for(dd, p, o);
}

/* Shutdown: true while a process that depends on @p is not down; a stop
 * of a set: while one that is being stopped too is not down. */
static bool has_live_dependent(struct brm_deps *dd, struct brm_proc *p);

static void eval_one(struct brm_proc *p, void *arg)
{
	struct brm_deps *dd = arg;

	if (brm_proc_state(p) == BRM_WAITING)
		evaluate(dd, p);
	else if (brm_proc_stop_pending(p) && !has_live_dependent(dd, p))
		brm_proc_stop(p);
}

static void stop_ready_one(struct brm_proc *p, void *arg)
{
	struct brm_deps *dd = arg;
	enum brm_state st = brm_proc_state(p);

	if ((st == BRM_STARTING || st == BRM_RUNNING) && !has_live_dependent(dd, p))
		brm_proc_stop(p);
}

static void evaluate_all(struct brm_deps *dd)
{
	/* Without any depends_on (the common case) a publish costs nothing
	 * here: the supervisor keeps the count, no pass over the processes. */
	if (!brm_supervisor_count_with_deps(dd->sup))
		return;
	if (dd->evaluating) {
		dd->again = true;
		return;
	}
	dd->evaluating = true;
	do {
		dd->again = false;
		if (brm_supervisor_shutting_down(dd->sup))
			brm_supervisor_each(dd->sup, stop_ready_one, dd);
		else
			brm_supervisor_each(dd->sup, eval_one, dd);
	} while (dd->again);
	dd->evaluating = false;
}

struct live_ctx {
	struct brm_deps *dd;
	struct brm_proc *target;
	bool found;
};

static void live_one(struct brm_proc *q, void *arg)
{
	struct live_ctx *c = arg;
	const struct brm_orch_spec *o = orch_of(q);

	if (c->found || q == c->target || !o || brm_proc_settled(q))
		return;
	/* A stop of a set waits for the members only (brm_proc_mark_stop): a
	 * dependent that stays up does not hold it; at shutdown all go. */
	if (!brm_supervisor_shutting_down(brm_proc_supervisor(q)) && !brm_proc_stop_pending(q) &&
	    brm_proc_state(q) != BRM_STOPPING)
		return;
	for (size_t i = 0; i < o->ndeps; i++)
		if (dep_takes(c->dd, o->deps[i].name, c->target))
			c->found = true;
}

static bool has_live_dependent(struct brm_deps *dd, struct brm_proc *p)
{
	struct live_ctx c = { dd, p, false };

	/* None has depends_on: no pass (stop of all asks this of each). */
	if (!brm_supervisor_count_with_deps(dd->sup))
		return false;
	brm_supervisor_each(dd->sup, live_one, &c);
	return c.found;
}

/* ---- what a process needs ------------------------------------------------ */

struct needed {
	struct brm_supervisor *sup;
	struct brm_proc **seen;
	size_t n, cap;
	void (*fn)(struct brm_proc *q, void *arg);
	void *arg;
};

static void needed_walk(struct needed *w, struct brm_proc *p, int depth)
{
	const struct brm_orch_spec *o;

	for (size_t i = 0; i < w->n; i++)
		if (w->seen[i] == p)
			return;
	if (w->n == w->cap) {
		w->cap = w->cap ? 2 * w->cap : 16;
		w->seen = brm_xrealloc(w->seen, w->cap * sizeof(*w->seen));
	}
	w->seen[w->n++] = p;
	w->fn(p, w->arg);
	o = orch_of(p);
	if (depth >= 64 || !o)
		return;
	for (size_t i = 0; i < o->ndeps; i++) {
		struct dep_set ds;

		dep_set_of(w->sup, o->deps[i].name, &ds);
		for (size_t k = 0; k < ds.n; k++)
			needed_walk(w, ds.v[k], depth + 1);
		dep_set_free(&ds);
	}
}

void brm_deps_each_needed(struct brm_supervisor *sup, struct brm_proc *p,
			  void (*fn)(struct brm_proc *q, void *arg), void *arg)
{
	BRM_ASSERT_LOOP();
	struct needed w = { sup, NULL, 0, 0, fn, arg };

	needed_walk(&w, p, 0);
	free(w.seen);
}

/* ---- hooks -------------------------------------------------------------- */

static bool must_wait(void *arg, struct brm_proc *p)
{
	struct brm_deps *dd = arg;
	const struct brm_orch_spec *o = orch_of(p);
	struct brm_buf path = BRM_BUF_INIT;
	bool wait = false;

	if (!o || !o->ndeps)
		return false;
	brm_buf_adds(&path, brm_proc_name(p));
	if (find_cycle(dd, p, p, &path, 0)) {
		/* Only a runtime `add` can make one; the config rejects cycles. */
		brm_log_error("%s: dependency cycle %s", brm_proc_name(p), path.p);
		brm_buf_finish(&path);
		return true;   /* waiting; evaluation cannot help: see below */
	}
	brm_buf_finish(&path);
	for (size_t i = 0; i < o->ndeps; i++) {
		struct dep_set ds;

		dep_set_get(dd, o->deps[i].name, &ds);
		if (!ds.n)
			wait = true;   /* until a process of that name exists */
		for (size_t k = 0; k < ds.n; k++) {
			struct brm_proc *q = ds.v[k];
			enum brm_state st;

			if (cond_met(q, o->deps[i].cond))
				continue;
			wait = true;
			st = brm_proc_state(q);
			/* Starting one starts what it needs, except what an
			 * operator stopped: only an operator's start releases
			 * that. A waiting one is asked again: what it waits for
			 * may be released now; a stopping one starts once
			 * stopped. */
			if (brm_proc_held(q)) {
				brm_log_info("%s: its dependency '%s' was stopped by request;"
					     " waiting", brm_proc_name(p), brm_proc_name(q));
			} else if (st == BRM_STOPPED || st == BRM_FATAL || st == BRM_WAITING ||
				   st == BRM_STOPPING ||
				   (st == BRM_EXITED && o->deps[i].cond != BRM_DEP_COMPLETED) ||
				   (st == BRM_EXITED && brm_proc_exit_code(q) != 0)) {
				char *why = brm_xasprintf("needed by %s", brm_proc_name(p));

				brm_log_info("%s: starting its dependency '%s'", brm_proc_name(p),
					     brm_proc_name(q));
				brm_proc_start_because(q, why);
				free(why);
			}
		}
		dep_set_free(&ds);
	}
	/* After the starts above: what is missing now. */
	set_waiting_for(dd, p, o);
	return wait;
}

static bool ready_gated(void *arg, struct brm_proc *p)
{
	const struct brm_orch_spec *o = orch_of(p);

	(void)arg;
	return o && o->ready != BRM_READY_START_SECS;
}

static bool defer_stop(void *arg, struct brm_proc *p)
{
	return has_live_dependent(arg, p);
}

static void on_np_alloc(uv_handle_t *h, size_t s, uv_buf_t *buf)
{
	static char scratch[256];

	(void)h;
	(void)s;
	buf->base = scratch;
	buf->len = sizeof(scratch);
}

static void on_np_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct notify_pipe *np = (struct notify_pipe *)s;
	struct brm_proc *p = np->p;

	if (n > 0 && p && memchr(buf->base, '\n', (size_t)n)) {
		brm_log_info("%s: ready (notification fd)", brm_proc_name(p));
		brm_proc_set_ready(p);
	}
	if (n < 0 || (n > 0 && p && memchr(buf->base, '\n', (size_t)n))) {
		/* One notification per run; EOF or done: close our end. */
		if (p) {
			struct brm_orch *op = brm_proc_orch(p);
			if (op && op->np == np)
				op->np = NULL;
		}
		np->p = NULL;
		uv_close((uv_handle_t *)&np->pipe, on_np_closed);
	}
}

static int sd_socket(struct brm_deps *dd);

static void prepare_spawn(void *arg, struct brm_proc *p, struct brm_spawn_req *req)
{
	struct brm_deps *dd = arg;
	const struct brm_orch_spec *o = orch_of(p);
	struct brm_orch *op;

	if (!o || o->ready == BRM_READY_START_SECS || o->ready == BRM_READY_HEALTH)
		return;
	op = oproc_get(p);
	np_close(op);
	if (o->ready == BRM_READY_NOTIFY_FD) {
		int fds[2];

		if (pipe2(fds, O_CLOEXEC) < 0) {
			brm_log_error("%s: cannot make the notification pipe: %s",
				      brm_proc_name(p), strerror(errno));
			return;
		}
		op->notify_r = fds[0];
		op->notify_w = fds[1];
		req->extra_fd = fds[1];
		req->extra_fd_num = o->notify_fd;
	} else if (o->ready == BRM_READY_SD_NOTIFY) {
		size_t n = 0;
		char **env;

		if (sd_socket(dd) < 0)
			return;
		/* req->env: the spec's, or env_file's and the spec's for this start */
		while (req->env && req->env[n])
			n++;
		env = brm_xcalloc(n + 2, sizeof(*env));
		for (size_t i = 0; i < n; i++)
			env[i] = brm_xstrdup(req->env[i]);
		env[n] = brm_xasprintf("NOTIFY_SOCKET=@%s", dd->sd_name + 1);
		brm_strv_free(op->env);
		op->env = env;
		req->env = env;
	}
}

static void spawned(void *arg, struct brm_proc *p, int pid)
{
	struct brm_deps *dd = arg;
	struct brm_orch *op = brm_proc_orch(p);

	if (!op)
		return;
	if (op->notify_w >= 0) {
		close(op->notify_w);
		op->notify_w = -1;
	}
	if (op->notify_r >= 0) {
		if (pid > 0) {
			struct notify_pipe *np = brm_xcalloc(1, sizeof(*np));

			uv_pipe_init(dd->loop, &np->pipe, 0);
			if (uv_pipe_open(&np->pipe, op->notify_r) == 0) {
				np->p = p;
				op->np = np;
				uv_read_start((uv_stream_t *)&np->pipe, on_np_alloc, on_np_read);
			} else {
				close(op->notify_r);
				uv_close((uv_handle_t *)&np->pipe, on_np_closed);
			}
		} else {
			close(op->notify_r);
		}
		op->notify_r = -1;
	}
}

static void output(void *arg, struct brm_proc *p, const char *data, size_t n)
{
	struct brm_orch *op = brm_proc_orch(p);

	(void)arg;
	if (op && op->health)
		brm_health_output(op->health, data, n);
}

/* ---- sd_notify ---------------------------------------------------------- */

struct find_pid {
	pid_t pid, pgid;
	struct brm_proc *found;
};

static void find_pid_one(struct brm_proc *p, void *arg)
{
	struct find_pid *f = arg;
	pid_t pid = brm_proc_pid(p);

	if (pid > 0 && (pid == f->pid || pid == f->pgid))
		f->found = p;
}

static void on_sd(uv_poll_t *h, int status, int events)
{
	struct brm_deps *dd = h->data;

	(void)status;
	(void)events;
	for (;;) {
		char buf[4096], cbuf[CMSG_SPACE(sizeof(struct ucred))];
		struct iovec iov = { buf, sizeof(buf) - 1 };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
				     .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
		struct ucred *cred = NULL;
		struct find_pid f = { 0, 0, NULL };
		ssize_t n = recvmsg(dd->sd_fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

		if (n < 0)
			return;
		buf[n] = '\0';
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS)
				cred = (struct ucred *)CMSG_DATA(c);
		if (!cred || cred->pid <= 0)
			continue;
		f.pid = cred->pid;
		f.pgid = getpgid(cred->pid);
		brm_supervisor_each(dd->sup, find_pid_one, &f);
		if (!f.found || !orch_of(f.found) || orch_of(f.found)->ready != BRM_READY_SD_NOTIFY)
			continue;
		char *save = NULL;

		for (char *line = strtok_r(buf, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save)) {
			if (!strcmp(line, "READY=1")) {
				brm_log_info("%s: ready (sd_notify)", brm_proc_name(f.found));
				brm_proc_set_ready(f.found);
			}
		}
	}
}

/* The shared notification socket, made on first use. */
static int sd_socket(struct brm_deps *dd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int one = 1, fd;
	socklen_t len;

	if (dd->sd_fd >= 0)
		return 0;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		goto out_fail;
	/* Abstract: no file to clean up, nothing to collide with on disk. */
	snprintf(dd->sd_name, sizeof(dd->sd_name), "%cbrummd/%d/notify", '\0', (int)getpid());
	memcpy(sa.sun_path, dd->sd_name, sizeof(dd->sd_name));
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(dd->sd_name + 1));
	if (bind(fd, (struct sockaddr *)&sa, len) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0) {
		close(fd);
		goto out_fail;
	}
	dd->sd_fd = fd;
	dd->sd_poll = brm_xcalloc(1, sizeof(*dd->sd_poll));
	uv_poll_init(dd->loop, dd->sd_poll, fd);
	dd->sd_poll->data = dd;
	uv_poll_start(dd->sd_poll, UV_READABLE, on_sd);
	return 0;

out_fail:
	brm_log_error("cannot make the sd_notify socket: %s", strerror(errno));
	return -1;
}

/* ---- the observer ------------------------------------------------------- */

/* Keep the health check in step with the spec and the process's run. */
static void follow_health(struct brm_deps *dd, struct brm_proc *p)
{
	const struct brm_orch_spec *o = orch_of(p);
	const struct brm_health_spec *hs = o ? o->health : NULL;
	struct brm_orch *op = brm_proc_orch(p);
	pid_t pid = brm_proc_pid(p);

	if (!hs && (!op || !op->health))
		return;
	op = oproc_get(p);
	if (op->health && !brm_health_spec_equal(brm_health_spec(op->health), hs)) {
		brm_health_destroy(op->health);   /* changed by a reload: start over */
		op->health = NULL;
		op->run_pid = 0;
		if (!hs) {
			brm_proc_set_health(p, NULL, NULL);
			return;
		}
	}
	if (!op->health) {
		op->health = brm_health_create(dd->loop, p, hs);
		brm_proc_set_health(p, "unknown", NULL);   /* re-enters; harmless */
	}
	if (pid > 0 && pid != op->run_pid && brm_proc_state(p) != BRM_STOPPING) {
		op->run_pid = pid;
		brm_health_run_started(op->health);
	} else if (pid == 0 && op->run_pid) {
		op->run_pid = 0;
		brm_health_run_ended(op->health);
		brm_proc_set_health(p, "unknown", NULL);
	}
}

static void observe(void *arg, struct brm_proc *p, enum brm_proc_event ev)
{
	struct brm_deps *dd = arg;

	if (ev == BRM_EV_REMOVED) {
		struct brm_orch *op = brm_proc_orch(p);

		if (op) {
			brm_proc_set_orch(p, NULL);
			oproc_free(op);
		}
		evaluate_all(dd);
		return;
	}
	follow_health(dd, p);
	evaluate_all(dd);
}

/* ---- lifetime ----------------------------------------------------------- */

struct brm_deps *brm_deps_create(uv_loop_t *loop, struct brm_supervisor *sup)
{
	BRM_ASSERT_LOOP();
	struct brm_deps *dd = brm_xcalloc(1, sizeof(*dd));
	struct brm_proc_hooks hooks = {
		.arg = dd,
		.must_wait = must_wait,
		.prepare_spawn = prepare_spawn,
		.spawned = spawned,
		.ready_gated = ready_gated,
		.output = output,
		.defer_stop = defer_stop,
	};

	dd->loop = loop;
	dd->sup = sup;
	dd->sd_fd = -1;
	brm_supervisor_set_hooks(sup, &hooks);
	if (brm_supervisor_add_observer(sup, observe, dd) < 0)
		brm_log_error("deps: no observer slot left");
	return dd;
}

static void on_sd_closed(uv_handle_t *h)
{
	free(h);
}

static void drop_one(struct brm_proc *p, void *arg)
{
	struct brm_orch *op = brm_proc_orch(p);

	(void)arg;
	if (op) {
		brm_proc_set_orch(p, NULL);
		oproc_free(op);
	}
}

void brm_deps_destroy(struct brm_deps *dd)
{
	BRM_ASSERT_LOOP();
	if (!dd)
		return;
	brm_supervisor_remove_observer(dd->sup, observe, dd);
	brm_supervisor_set_hooks(dd->sup, NULL);
	brm_supervisor_each(dd->sup, drop_one, NULL);
	if (dd->sd_poll) {
		uv_close((uv_handle_t *)dd->sd_poll, on_sd_closed);
		close(dd->sd_fd);
	}
	free(dd);
}
