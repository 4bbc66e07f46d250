/*
 * service.h — brummd as a service: tells the service manager (notify.h)
 * when it is ready, reloading and stopping, keeps a one-line STATUS= summary
 * ("12 running, 1 backoff") current, pings the watchdog, and logs the
 * progress of a shutdown.
 *
 * Context: loop thread only.
 */
#ifndef BRM_SERVICE_H
#define BRM_SERVICE_H

#include <uv.h>

#include "daemon/sup/supervise.h"

struct brm_service;

/* Installs itself as @sup's service observer. Starts the watchdog pings
 * when the manager asked for them. Ownership: brm_service_destroy(). */
struct brm_service *brm_service_create(uv_loop_t *loop, struct brm_supervisor *sup);

/* READY=1 with the current STATUS=. Call once the socket listens and the
 * autostart processes were launched; also ends a reload. */
void brm_service_ready(struct brm_service *svc);

/* RELOADING=1 (with MONOTONIC_USEC=, as Type=notify-reload expects). */
void brm_service_reloading(struct brm_service *svc);

/* STOPPING=1, and a progress line every second until destroy. */
void brm_service_stopping(struct brm_service *svc);

/* Close the handles (the loop must run once more to free them). */
void brm_service_destroy(struct brm_service *svc);

#endif
