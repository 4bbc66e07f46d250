/*
 * notify.h — the service manager's notification protocol (sd_notify(3)):
 * one datagram of "KEY=VALUE" lines to the AF_UNIX socket named by
 * $NOTIFY_SOCKET (a path, or an abstract name written with a leading '@').
 *
 * Implemented here in ~100 lines instead of linking libsystemd: the
 * protocol is small, stable and documented; libsystemd would add a
 * dependency (and its own dependencies) to a daemon that must also run
 * where there is no systemd at all. Without $NOTIFY_SOCKET every call is a
 * no-op.
 *
 * Context: brm_notify_init from main before any thread starts (it edits the
 * environment); the rest from the loop thread.
 */
#ifndef BRM_NOTIFY_H
#define BRM_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Read and unset $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID (children
 * must not inherit them) and open the socket. Returns 0 (also when there
 * is no socket), or -errno when $NOTIFY_SOCKET is set but unusable.
 */
int brm_notify_init(void);

/* True when a notification socket is configured. */
bool brm_notify_enabled(void);

/* Send @msg ("READY=1\nSTATUS=..."). Returns 0, or -errno (logged once). */
int brm_notify_send(const char *msg);

/* The watchdog interval asked for by the service manager, 0 for none. */
uint64_t brm_notify_watchdog_usec(void);

/* Close the socket. */
void brm_notify_finish(void);

#endif
