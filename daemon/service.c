/*
 * service.c — readiness, status line, watchdog and shutdown progress.
 *
 * The STATUS= line is recomputed at most every STATUS_DELAY_MS after a
 * change (a one-shot timer armed by the supervisor's service observer)
 * from the counts the supervisor keeps on each transition, so it costs no
 * pass over the processes; an idle daemon has no timer armed. It is sent
 * only when its text changed.
 *
 * The watchdog ping runs on the loop thread, at half the interval the
 * manager asked for: a loop thread that hangs stops the pings, which is
 * exactly what the watchdog is for.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/log.h"
#include "daemon/notify.h"
#include "daemon/service.h"
#include "lib/buf.h"
#include "proto/proto.h"

#define STATUS_DELAY_MS 50
#define PROGRESS_MS 1000

struct brm_service {
	uv_loop_t *loop;
	struct brm_supervisor *sup;
	uv_timer_t status_timer;
	uv_timer_t watchdog;
	uv_timer_t progress;
	char *last_status;
	bool ready;
	bool stopping;
	int closing;
};

/* Names still up, during shutdown (the once-a-second progress line). */
struct pending {
	struct brm_buf names;
	size_t n;
};

static void pending_one(struct brm_proc *p, void *arg)
{
	struct pending *c = arg;

	if (!brm_proc_settled(p)) {
		if (c->n < 8)
			brm_buf_addf(&c->names, "%s%s", c->n ? ", " : "", brm_proc_name(p));
		c->n++;
	}
}

/* From the supervisor's counts, kept on each transition: no pass. */
static char *summary(struct brm_service *svc)
{
	static const enum brm_state order[] = {
		BRM_RUNNING, BRM_STARTING, BRM_WAITING, BRM_BACKOFF, BRM_STOPPING,
		BRM_STOPPED, BRM_EXITED, BRM_FATAL,
	};
	struct brm_buf b = BRM_BUF_INIT;

	for (size_t i = 0; i < BRM_ARRAY_SIZE(order); i++) {
		size_t n = brm_supervisor_count_state(svc->sup, order[i]);

		if (n)
			brm_buf_addf(&b, "%s%zu %s", b.len ? ", " : "", n, brm_state_name(order[i]));
	}
	if (!b.len)
		brm_buf_adds(&b, "no processes");
	return brm_buf_detach(&b);
}

/* Send @prefix (may be "") followed by STATUS= when it changed or @force. */
static void send_status(struct brm_service *svc, const char *prefix, bool force)
{
	char *st = summary(svc);
	char *msg;

	if (!force && svc->last_status && !strcmp(st, svc->last_status)) {
		free(st);
		return;
	}
	msg = brm_xasprintf("%sSTATUS=%s", prefix, st);
	brm_notify_send(msg);
	free(msg);
	free(svc->last_status);
	svc->last_status = st;
}

static void on_status_timer(uv_timer_t *t)
{
	struct brm_service *svc = t->data;

	if (svc->ready)
		send_status(svc, "", false);
}

static void observe(void *arg, struct brm_proc *p, enum brm_proc_event ev)
{
	struct brm_service *svc = arg;

	(void)p;
	(void)ev;
	if (!brm_notify_enabled() || !svc->ready || uv_is_active((uv_handle_t *)&svc->status_timer))
		return;
	uv_timer_start(&svc->status_timer, on_status_timer, STATUS_DELAY_MS, 0);
}

static void on_watchdog(uv_timer_t *t)
{
	(void)t;
	brm_notify_send("WATCHDOG=1");
}

static void on_progress(uv_timer_t *t)
{
	struct brm_service *svc = t->data;
	struct pending c = { BRM_BUF_INIT, 0 };

	brm_buf_init(&c.names);
	brm_supervisor_each(svc->sup, pending_one, &c);
	if (c.n)
		brm_log_info("shutdown: waiting for %zu process%s to stop: %s%s", c.n,
			     c.n == 1 ? "" : "es", c.names.p, c.n > 8 ? ", ..." : "");
	brm_buf_finish(&c.names);
}

struct brm_service *brm_service_create(uv_loop_t *loop, struct brm_supervisor *sup)
{
	struct brm_service *svc = brm_xcalloc(1, sizeof(*svc));
	uint64_t wd = brm_notify_watchdog_usec();

	svc->loop = loop;
	svc->sup = sup;
	uv_timer_init(loop, &svc->status_timer);
	uv_timer_init(loop, &svc->watchdog);
	uv_timer_init(loop, &svc->progress);
	svc->status_timer.data = svc->watchdog.data = svc->progress.data = svc;
	brm_supervisor_set_service_observer(sup, observe, svc);
	if (wd && brm_notify_enabled()) {
		uint64_t ms = wd / 2000;
		if (ms == 0)
			ms = 1;
		brm_log_info("watchdog: pinging every %llums", (unsigned long long)ms);
		uv_timer_start(&svc->watchdog, on_watchdog, ms, ms);
	}
	return svc;
}

void brm_service_ready(struct brm_service *svc)
{
	svc->ready = true;
	send_status(svc, "READY=1\n", true);
}

void brm_service_reloading(struct brm_service *svc)
{
	struct timespec ts;
	char msg[96];

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
		 (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000);
	brm_notify_send(msg);
}

void brm_service_stopping(struct brm_service *svc)
{
	svc->stopping = true;
	brm_notify_send("STOPPING=1");
	uv_timer_start(&svc->progress, on_progress, PROGRESS_MS, PROGRESS_MS);
}

static void on_closed(uv_handle_t *h)
{
	struct brm_service *svc = h->data;

	if (--svc->closing == 0) {
		free(svc->last_status);
		free(svc);
	}
}

void brm_service_destroy(struct brm_service *svc)
{
	if (!svc)
		return;
	brm_supervisor_set_service_observer(svc->sup, NULL, NULL);
	svc->closing = 3;
	uv_close((uv_handle_t *)&svc->status_timer, on_closed);
	uv_close((uv_handle_t *)&svc->watchdog, on_closed);
	uv_close((uv_handle_t *)&svc->progress, on_closed);
}
