/*
 * events.c — state and health events on the loop thread: the supervisor's
 * observer that turns each change into an event and appends it to the ring
 * (daemon/eventring.h says how an event is stored). The `events` method
 * that reads them on the workers is rpc/events.c.
 *
 * The loop thread is the ring's only writer, so the number an append will
 * get, the event's "seq", is known before it is made.
 */
#include <stdlib.h>
#include <string.h>

#include "daemon/sup/events.h"
#include "daemon/eventring.h"
#include "daemon/rpc/follow.h"
#include "lib/logring.h"
#include "lib/util.h"
#include "proto/proto.h"
#include "proto/rpc.h"

static struct brm_logring *ring;   /* the writer's handle on daemon/eventring.h's ring */

static void exit_text(struct brm_buf *b, const struct brm_snapshot *s)
{
	if (s->exit_signal) {
		const char *n = brm_signal_name(s->exit_signal);
		if (n)
			brm_buf_addf(b, "killed by SIG%s", n);
		else
			brm_buf_addf(b, "killed by signal %d", s->exit_signal);
	} else if (s->exit_code >= 0) {
		brm_buf_addf(b, "exited with code %d", s->exit_code);
	}
}

/*
 * A one-shot's run: "one-shot started", "one-shot completed", "one-shot
 * failed: ..." (its error says how, and whether it is retried), with the
 * cause of a start. False for the other changes, which read as any
 * process's.
 */
static bool oneshot_reason(struct brm_buf *b, int from, const struct brm_snapshot *s,
			   const char *cause)
{
	if (!s->type || strcmp(s->type, "oneshot"))
		return false;
	switch (s->state) {
	case BRM_RUNNING:
		/* Up for start_secs reads as any process's; with start_secs 0 a
		 * run starts as running. */
		if (from == BRM_STARTING || from == BRM_RUNNING)
			return false;
		/* fall through */
	case BRM_STARTING:
		if (from == BRM_BACKOFF)
			brm_buf_addf(b, "one-shot started (retry %u)", (unsigned)s->start_failures);
		else if (cause)
			brm_buf_addf(b, "one-shot started (%s)", cause);
		else
			brm_buf_adds(b, "one-shot started");
		return true;
	case BRM_EXITED:
		if (s->exit_code != 0 || s->exit_signal)
			return false;
		brm_buf_adds(b, "one-shot completed");
		return true;
	case BRM_BACKOFF:
	case BRM_FATAL:
		if (!s->error || strncmp(s->error, "one-shot failed", 15))
			return false;
		brm_buf_adds(b, s->error);
		return true;
	default:
		return false;
	}
}

/*
 * Why @s is in its state: the cause of the request that moved it (cause,
 * "unhealthy: exit 1: db down", "reload"), else what the snapshot tells.
 * Each part is said once: an error that already says why a process gave
 * up is not followed by a second "gave up".
 */
static void reason_text(struct brm_buf *b, int from, const struct brm_snapshot *s,
			const char *cause)
{
	size_t mark = b->len;

	if (oneshot_reason(b, from, s, cause))
		return;

	switch (s->state) {
	case BRM_STARTING:
		if (from == BRM_BACKOFF && s->start_failures)
			brm_buf_addf(b, "retry %u after backoff", (unsigned)s->start_failures);
		else if (from == BRM_BACKOFF)
			brm_buf_adds(b, "restart after backoff");
		else if (from == BRM_RUNNING || from == BRM_STARTING) {
			exit_text(b, s);
			brm_buf_adds(b, b->len > mark ? "; restarted by policy" : "restarted");
		} else if (cause)
			brm_buf_adds(b, cause);
		else if (from == BRM_STOPPING)
			brm_buf_adds(b, "restart");
		else if (from == BRM_WAITING)
			brm_buf_adds(b, "dependencies met");
		else
			brm_buf_adds(b, "start");
		break;
	case BRM_RUNNING:
		if (from == BRM_RUNNING) {
			exit_text(b, s);
			brm_buf_adds(b, b->len > mark ? "; restarted by policy" : "restarted");
		} else if (from == BRM_STARTING) {
			brm_buf_adds(b, "up for start_secs");
		} else if (cause) {
			brm_buf_adds(b, cause);     /* with start_secs 0: no starting */
		} else {
			brm_buf_adds(b, from == BRM_WAITING ? "dependencies met"
				     : from == BRM_STOPPING ? "restart" : "start");
		}
		break;
	case BRM_WAITING:
		if (s->waiting_for)
			brm_buf_addf(b, "waiting for %s", s->waiting_for);
		else
			brm_buf_adds(b, cause ? cause : "waiting");
		break;
	case BRM_STOPPING:
		brm_buf_adds(b, cause ? cause : "stop");
		break;
	case BRM_STOPPED:
		if (from < 0)
			brm_buf_adds(b, "added");
		else if (from == BRM_STOPPING)
			exit_text(b, s);
		else if (from == BRM_BACKOFF || from == BRM_WAITING)
			brm_buf_adds(b, cause ? cause : "stop");
		else if (s->error)
			brm_buf_adds(b, s->error);
		else
			exit_text(b, s);
		if (b->len == mark)
			brm_buf_adds(b, "stopped");
		break;
	case BRM_BACKOFF:
	case BRM_EXITED:
		if (s->error)
			brm_buf_adds(b, s->error);
		else
			exit_text(b, s);
		break;
	case BRM_FATAL:
		/* The error of a fatal process says why it gave up. */
		if (s->error)
			brm_buf_adds(b, s->error);
		else
			brm_buf_addf(b, "gave up after %u failed starts", (unsigned)s->start_failures);
		break;
	default:
		break;
	}
}

/* The fields every event starts with, after "NAME\n". */
static void event_head(struct brm_buf *b, uint64_t seq, int64_t ts, const char *name,
		       const char *kind)
{
	brm_buf_adds(b, name);
	brm_buf_addc(b, '\n');
	brm_buf_adds(b, "{\"seq\":");
	brm_json_uint(b, seq);
	brm_buf_addf(b, ",\"ts\":%lld.%03lld,\"name\":", (long long)(ts / 1000),
		     (long long)(ts % 1000));
	brm_json_str(b, name);
	brm_buf_adds(b, ",\"kind\":\"");
	brm_buf_adds(b, kind);
	brm_buf_adds(b, "\"");
}

static void event_pid(struct brm_buf *b, int pid)
{
	brm_buf_adds(b, ",\"pid\":");
	if (pid > 0)
		brm_json_int(b, pid);
	else
		brm_buf_adds(b, "null");
}

static void event_append(struct brm_buf *b, int64_t ts)
{
	brm_buf_addc(b, '}');
	brm_logring_append(ring, ts, BRM_LOG_META, 0, b->p, b->len);
	brm_stream_wake_all();
}

static void append_event(const char *name, int from, const char *to, int pid,
			 const struct brm_snapshot *s, const char *cause)
{
	struct brm_buf b = BRM_BUF_INIT, reason = BRM_BUF_INIT;
	uint64_t first, next;
	int64_t ts = brm_now_wall_ms();

	brm_logring_bounds(ring, &first, &next);
	event_head(&b, next, ts, name, "state");
	brm_buf_adds(&b, ",\"from\":");
	if (from >= 0)
		brm_json_str(&b, brm_state_name((enum brm_state)from));
	else
		brm_buf_adds(&b, "null");
	brm_buf_adds(&b, ",\"to\":");
	brm_json_str(&b, to);
	event_pid(&b, pid);
	brm_buf_adds(&b, ",\"health\":");
	brm_json_str(&b, s ? s->health : NULL);
	brm_buf_adds(&b, ",\"reason\":");
	if (s)
		reason_text(&reason, from, s, cause);
	else
		brm_buf_adds(&reason, "removed");
	brm_json_str(&b, reason.p);
	event_append(&b, ts);
	brm_buf_finish(&b);
	brm_buf_finish(&reason);
}

/*
 * A health event: @s's health became healthy or unhealthy (from @from, the
 * health of the snapshot before). The probe output goes in as one line of
 * at most BRM_EVENT_OUTPUT_MAX bytes: an event is a line for people too.
 */
static void append_health_event(const char *name, const char *from,
				const struct brm_snapshot *s)
{
	struct brm_buf b = BRM_BUF_INIT, out = BRM_BUF_INIT;
	uint64_t first, next;
	int64_t ts = brm_now_wall_ms();

	brm_logring_bounds(ring, &first, &next);
	brm_buf_add_line(&out, s->health_output, BRM_EVENT_OUTPUT_MAX);
	event_head(&b, next, ts, name, "health");
	brm_buf_adds(&b, ",\"from\":");
	brm_json_str(&b, from);
	brm_buf_adds(&b, ",\"to\":");
	brm_json_str(&b, s->health);
	brm_buf_adds(&b, ",\"state\":");
	brm_json_str(&b, brm_state_name(s->state));
	event_pid(&b, s->pid);
	brm_buf_adds(&b, ",\"health\":");
	brm_json_str(&b, s->health);
	brm_buf_adds(&b, ",\"output\":");
	brm_json_str(&b, out.len ? out.p : NULL);
	brm_buf_adds(&b, ",\"reason\":");
	if (out.len) {
		struct brm_buf r = BRM_BUF_INIT;

		brm_buf_addf(&r, "%s: %s", s->health, out.p);
		brm_json_str(&b, r.p);
		brm_buf_finish(&r);
	} else {
		brm_json_str(&b, s->health);
	}
	event_append(&b, ts);
	brm_buf_finish(&b);
	brm_buf_finish(&out);
}

/* Context: loop thread (the supervisor's observer). */
static void observe(void *arg, struct brm_proc *p, enum brm_proc_event ev)
{
	const struct brm_snapshot *s = brm_proc_snapshot(p);
	int from = brm_proc_prev_state(p);
	const char *hfrom = brm_proc_prev_health(p);

	(void)arg;
	if (!ring || !s)
		return;
	if (ev == BRM_EV_REMOVED) {
		append_event(brm_proc_name(p), (int)s->state, "removed", s->pid, NULL, NULL);
		return;
	}
	/* The same state and pid: an error, spec or log field changed. The same
	 * state with a new pid: it ended and was restarted between two
	 * publishes (start_secs 0), which is an event. */
	if (from != (int)s->state || (s->pid != brm_proc_prev_pid(p) && s->pid > 0))
		append_event(brm_proc_name(p), from, brm_state_name(s->state),
			     s->pid > 0 ? s->pid : brm_proc_prev_pid(p), s, brm_proc_cause(p));
	/* A verdict that changed the health; "unknown" (a new run, no check
	 * yet) is not one. */
	if (s->health && !brm_streq(s->health, hfrom) &&
	    (!strcmp(s->health, "healthy") || !strcmp(s->health, "unhealthy")))
		append_health_event(brm_proc_name(p), hfrom, s);
}

void brm_events_init(struct brm_supervisor *sup, size_t bytes)
{
	const char *env = getenv("BRUMMD_EVENT_HISTORY_KIB");

	if (!bytes && env) {
		char *end;
		unsigned long kib = strtoul(env, &end, 10);
		if (*env && !*end && kib >= 4 && kib <= (1ul << 20))
			bytes = (size_t)kib << 10;
	}
	ring = brm_eventring_create(bytes);
	brm_supervisor_add_observer(sup, observe, NULL);
}

void brm_events_shutdown(struct brm_supervisor *sup)
{
	if (sup)
		brm_supervisor_remove_observer(sup, observe, NULL);
	brm_eventring_destroy();
	ring = NULL;
}
