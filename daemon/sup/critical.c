/*
 * critical.c — end brummd when a critical process ends, or any process
 * fails with "exit_with": "first_failure" (see critical.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "daemon/log.h"
#include "daemon/sup/critical.h"
#include "daemon/sup/loopcheck.h"
#include "daemon/sup/supervise.h"
#include "lib/registry.h"
#include "lib/signame.h"
#include "lib/util.h"

static struct {
	uv_timer_t timer;
	bool inited, closed, fired;
	enum brm_exit_with exit_with;
	brm_critical_fn fn;
	void *arg;
	int status;
	char why[320];
} C;

/* The shell's status of an end: the code, or 128 + the signal. */
static int exit_status(const struct brm_snapshot *s, bool fatal)
{
	if (s->exit_signal > 0)
		return 128 + s->exit_signal;
	if (s->exit_code > 0)
		return s->exit_code;
	return fatal ? 1 : 0;
}

static void on_timer(uv_timer_t *t)
{
	(void)t;
	C.fn(C.arg, C.status, C.why);
}

static void observe(void *arg, struct brm_proc *p, enum brm_proc_event ev)
{
	const struct brm_proc_spec *spec;
	const struct brm_snapshot *s;
	enum brm_state st;
	bool fatal, failed;

	(void)arg;
	if (ev != BRM_EV_STATE || C.fired || C.closed || brm_proc_removing(p))
		return;
	st = brm_proc_state(p);
	if ((st != BRM_FATAL && st != BRM_EXITED) || (int)st == brm_proc_prev_state(p))
		return;
	spec = brm_proc_spec(p);
	s = brm_proc_snapshot(p);
	fatal = st == BRM_FATAL;
	failed = fatal || s->exit_signal > 0 || s->exit_code > 0;
	if (spec->critical) {
		if (!failed && spec->type == BRM_TYPE_ONESHOT)
			return;   /* a completed one-shot did its job */
	} else if (!(failed && C.exit_with == BRM_EXIT_WITH_FIRST_FAILURE)) {
		return;
	}
	C.fired = true;
	C.status = exit_status(s, fatal);
	if (fatal)
		snprintf(C.why, sizeof(C.why), "%s%s is fatal: %s", spec->name,
			 spec->critical ? " (critical)" : "", s->error ? s->error : "gave up");
	else if (s->exit_signal > 0)
		snprintf(C.why, sizeof(C.why), "%s%s was killed by SIG%s and is not restarted",
			 spec->name, spec->critical ? " (critical)" : "",
			 brm_signal_name(s->exit_signal) ? brm_signal_name(s->exit_signal) : "?");
	else
		snprintf(C.why, sizeof(C.why), "%s%s exited with code %d and is not restarted",
			 spec->name, spec->critical ? " (critical)" : "", s->exit_code);
	/* Not from inside the publish: the other observers see it first. */
	uv_timer_start(&C.timer, on_timer, 0, 0);
}

int brm_critical_watch(uv_loop_t *loop, struct brm_supervisor *sup, enum brm_exit_with w,
		       brm_critical_fn fn, void *arg)
{
	BRM_ASSERT_LOOP();
	C.exit_with = w;
	C.fn = fn;
	C.arg = arg;
	uv_timer_init(loop, &C.timer);
	C.inited = true;
	return brm_supervisor_add_observer(sup, observe, NULL);
}

void brm_critical_set_exit_with(enum brm_exit_with w)
{
	if (w != C.exit_with)
		brm_log_info("exit_with: %s", brm_exit_with_name(w));
	C.exit_with = w;
}

void brm_critical_close(void)
{
	BRM_ASSERT_LOOP();
	if (C.inited && !C.closed) {
		C.closed = true;
		uv_close((uv_handle_t *)&C.timer, NULL);
	}
}
