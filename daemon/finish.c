/*
 * finish.c — brummd's orderly shutdown (main.c's opening comment gives the
 * order): stop every child, dependents first, then the adopted orphans;
 * wait until the state file holds the last change; answer the `shutdown`
 * requests, then the others; stop the workers; and, after the loop, free
 * what is left.
 *
 * Context: loop thread.
 */
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "daemon/conf/access.h"
#include "daemon/daemon.h"
#include "daemon/log.h"
#include "daemon/notify.h"
#include "daemon/rpc/httpm.h"
#include "daemon/rpc/server.h"
#include "daemon/service.h"
#include "daemon/signals.h"
#include "daemon/sup/cmd.h"
#include "daemon/sup/control.h"
#include "daemon/sup/critical.h"
#include "daemon/sup/deps.h"
#include "daemon/sup/events.h"
#include "daemon/sup/logcap.h"
#include "daemon/sup/orphans.h"
#include "daemon/sup/persist.h"
#include "daemon/sup/reload.h"
#include "daemon/sup/supervise.h"
#include "lib/buf.h"
#include "lib/registry.h"
#include "lib/snapjson.h"
#include "proto/rpc.h"

/* How long adopted orphans get between SIGTERM and SIGKILL at shutdown. */
#define ORPHAN_GRACE_MS 5000

static void on_finish_timer_closed(uv_handle_t *h)
{
	free(h);
}

/* The last step, from a timer of its own: never inside the command
 * queue's drain (a `shutdown` request may have started it) nor inside the
 * state file's write callback. */
static void finish_shutdown(uv_timer_t *t)
{
	struct brm_daemon *d = t->data;

	uv_close((uv_handle_t *)t, on_finish_timer_closed);
	brm_control_cancel_all(d->ctl);
	brm_cmdq_close(&d->cmdq);
	brm_httpm_stop(d->httpm);   /* it reads with the server's ctx */
	d->httpm = NULL;
	brm_server_stop(d->srv);
	d->srv = NULL;
	brm_cmdq_discard(&d->cmdq);
	brm_service_destroy(d->svc);
	d->svc = NULL;
	brm_control_destroy(d->ctl);
	d->ctl = NULL;
	brm_events_shutdown(d->sup);
	brm_deps_destroy(d->deps);
	d->deps = NULL;
	brm_supervisor_destroy(d->sup);
	d->sup = NULL;
	brm_logs_shutdown();
	brm_persist_shutdown(d->state);
	brm_orphans_close();
	brm_critical_close();
	brm_signals_close(d->sigs);
	d->sigs = NULL;
	free(d->held);
	d->held = NULL;
}

static void collect_proc(struct brm_proc *p, void *arg)
{
	struct brm_proc ***v = arg;

	*(*v)++ = p;
}

static int cmp_proc(const void *a, const void *b)
{
	return strcmp(brm_proc_name(*(struct brm_proc *const *)a),
		      brm_proc_name(*(struct brm_proc *const *)b));
}

/* Answer @cmd (`shutdown`) with every process's last snapshot. */
static void answer_shutdown(struct brm_daemon *d, struct brm_cmd *cmd)
{
	size_t n = brm_supervisor_count(d->sup);
	struct brm_proc **procs = brm_xcalloc(n ? n : 1, sizeof(*procs)), **end = procs;
	struct brm_buf b = BRM_BUF_INIT;
	int64_t now = brm_now_wall_ms();

	brm_supervisor_each(d->sup, collect_proc, &end);
	qsort(procs, (size_t)(end - procs), sizeof(*procs), cmp_proc);
	brm_buf_adds(&b, "{\"processes\":[");
	for (struct brm_proc **p = procs; p < end; p++) {
		if (p > procs)
			brm_buf_addc(&b, ',');
		brm_snapshot_json(&b, brm_proc_snapshot(*p), now);
	}
	brm_buf_adds(&b, "]}");
	brm_rpc_result(&cmd->reply, cmd->id_json, b.p, b.len);
	brm_buf_finish(&b);
	free(procs);
	cmd->done(cmd);
}

/* The state file holds every change (@marker's gate let it through). */
static void state_flushed(struct brm_cmd *marker)
{
	struct brm_daemon *d = marker->owner;
	uv_timer_t *t;

	if (marker->reply.len)
		brm_log_warn("the state file was not saved before shutdown");
	brm_cmd_destroy(marker);
	d->shutdown_answered = true;
	for (size_t i = 0; i < d->nheld; i++)
		answer_shutdown(d, d->held[i]);
	d->nheld = 0;
	t = brm_xmalloc(sizeof(*t));
	uv_timer_init(&d->loop, t);
	t->data = d;
	uv_timer_start(t, finish_shutdown, 0, 0);
}

/* Every process and orphan is down: once the state is on disk, answer and
 * finish. A marker command goes through the state file's reply gate
 * (persist.h), which lets it through once the last change was written (or
 * its write failed). */
static void all_stopped(void *arg)
{
	struct brm_daemon *d = arg;
	struct brm_cmd *marker = brm_cmd_create(&brm_op_shutdown, NULL);

	brm_log_info("every process has stopped; shutting down");
	marker->owner = d;
	marker->done = state_flushed;
	brm_persist_hold_reply(d->state, marker);
	marker->done(marker);
}

/* Every supervised process is down: then the orphans adopted from them. */
static void supervised_stopped(void *arg)
{
	brm_orphans_stop_all(ORPHAN_GRACE_MS, all_stopped, arg);
}

/* Stop everything; all_stopped() follows. Context: loop thread. */
void brm_daemon_begin_shutdown(struct brm_daemon *d, const char *who)
{
	d->stopping = true;
	brm_log_info("%s: stopping %zu processes", who, brm_supervisor_count(d->sup));
	brm_service_stopping(d->svc);
	brm_reload_shutdown(d->rl);
	brm_supervisor_stop_all(d->sup, supervised_stopped, d);
}

/* Context: loop thread, from critical.c's timer. */
void brm_daemon_on_critical(void *arg, int status, const char *why)
{
	struct brm_daemon *d = arg;

	if (d->stopping)
		return;
	d->exit_status = status;
	brm_log_error("%s; brummd shuts down and exits with status %d", why, status);
	brm_daemon_begin_shutdown(d, why);
}

/* Context: loop thread, executing a `shutdown` request (control.h). */
void brm_daemon_on_shutdown_request(void *arg, struct brm_cmd *cmd)
{
	struct brm_daemon *d = arg;
	char who[96];

	if (d->shutdown_answered) {
		answer_shutdown(d, cmd);
		return;
	}
	d->held = brm_xrealloc(d->held, (d->nheld + 1) * sizeof(*d->held));
	d->held[d->nheld++] = cmd;
	if (d->stopping)
		return;
	snprintf(who, sizeof(who), "shutdown requested by pid %d (uid %u)", (int)cmd->peer_pid,
		 (unsigned)cmd->peer_uid);
	brm_daemon_begin_shutdown(d, who);
}

/* After the loop has ended (finish_shutdown closed the last handle): free
 * what is left and say so. */
void brm_daemon_finish(struct brm_daemon *d)
{
	int r;

	r = uv_loop_close(&d->loop);
	if (r != 0)
		brm_log_warn("loop closed with handles still open: %s", uv_strerror(r));
	brm_registry_destroy(d->reg);
	brm_reload_destroy(d->rl);
	brm_persist_destroy(d->state);
	brm_notify_finish();
	free(d->state_dir);
	set_thread_call_rcu_data(NULL);
	call_rcu_data_free(d->crdp);
	rcu_unregister_thread();
	free(d->socket_path);
	brm_access_destroy(d->access);
	brm_log_keep_stop();
	brm_log_info("stopped");
}
