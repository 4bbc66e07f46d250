/*
 * health.h — the health check of one process (orchspec.h "health"): exec,
 * tcp and http probes on a timer, or a regex on the output (log).
 *
 * Probes never block the loop: an exec probe is a child spawned like any
 * other (brm_spawn, its own process group, watched through its pidfd,
 * SIGKILLed at its timeout); tcp and http probes are non-blocking libuv
 * connections with a timeout timer. The result goes to the snapshot
 * (brm_proc_set_health): "unknown" until the first verdict, "healthy" after
 * a passing probe, "unhealthy" after `retries` failures in a row (failures
 * within start_period_secs of the start do not count). With "on_unhealthy":
 * "restart" the process is restarted when it turns unhealthy; with "ready":
 * "health" it becomes running at its first passing probe.
 *
 * Context: loop thread only.
 */
#ifndef BRM_HEALTH_H
#define BRM_HEALTH_H

#include <stddef.h>
#include <uv.h>

#include "daemon/conf/orchspec.h"
#include "daemon/sup/supervise.h"

struct brm_health;

/* Ownership: caller, brm_health_destroy (a probe in flight is abandoned
 * and killed; its handles free themselves). @spec is copied. */
struct brm_health *brm_health_create(uv_loop_t *loop, struct brm_proc *p,
				     const struct brm_health_spec *spec);
void brm_health_destroy(struct brm_health *h);
const struct brm_health_spec *brm_health_spec(const struct brm_health *h);
/* A new run of the process started / the run ended. */
void brm_health_run_started(struct brm_health *h);
void brm_health_run_ended(struct brm_health *h);
/* Output of the process (for "log" checks). */
void brm_health_output(struct brm_health *h, const char *data, size_t n);

#endif
