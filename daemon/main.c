/*
 * main.c — brummd: options, start-up, the loop, and an orderly shutdown.
 * Each has its file (options.c, start.c, finish.c; daemon.h joins them);
 * this one holds main() and the run: the loop and what a signal does.
 *
 * The main thread becomes the loop thread: the only writer of the registry
 * and the owner of every child. Start-up order matters:
 *
 *  1. mark every inherited descriptor close-on-exec, raise RLIMIT_NOFILE;
 *  2. load the config (or the embedded default);
 *  3. block all signals, create our own call_rcu thread (so it is joined at
 *     exit and takes no signals), bind the socket, start the workers (they
 *     inherit the blocked mask), then unblock signals on this thread only,
 *     except SIGTERM, SIGINT, SIGHUP and SIGCHLD: those stay blocked
 *     everywhere and are read from a signalfd (daemon/signals.c), made
 *     right after the loop; brummd becomes a child subreaper
 *     (daemon/sup/orphans.c);
 *  4. read the state file; kill what a brummd that died left running of
 *     its children's process groups (daemon/sup/leftovers.c);
 *  5. add the configured processes and those added at runtime in an earlier
 *     life (the state file), start those with autostart that were not
 *     stopped by request, and tell the service manager READY=1.
 *
 * A socket passed by the service manager (LISTEN_FDS) is served instead of
 * binding one; $NOTIFY_SOCKET gets READY/RELOADING/STOPPING/STATUS/WATCHDOG
 * (daemon/service.c). SIGHUP reloads the config (daemon/sup/reload.c).
 *
 * Shutdown (SIGTERM, SIGINT, or the `shutdown` method): stop every child
 * within its stop timeout, dependents before what they depend on (deps.c's
 * defer_stop), then the orphans adopted from them (SIGTERM, SIGKILL after
 * 5 s); wait until the state file holds what the last change made of it;
 * answer the `shutdown` requests, then the other outstanding ones; stop
 * the workers, free everything after a grace period (rcu_barrier), exit 0.
 * The same shutdown follows the end of a critical process (or, with
 * "exit_with": "first_failure", any failure; daemon/sup/critical.h), and
 * brummd then exits with that process's status: as a container's init
 * (PID 1), the container ends with its service's status.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "daemon/daemon.h"
#include "daemon/log.h"
#include "daemon/sup/orphans.h"
#include "daemon/sup/reload.h"

/* "SIGTERM from pid 812 (uid 0)", or "SIGTERM" when the kernel sent it. */
static void signal_origin(char *buf, size_t len, int signo, pid_t pid, uid_t uid)
{
	if (pid > 0)
		snprintf(buf, len, "SIG%s from pid %d (uid %u)", brm_signal_name(signo), (int)pid,
			 (unsigned)uid);
	else
		snprintf(buf, len, "SIG%s", brm_signal_name(signo));
}

/* Context: loop thread. */
void brm_daemon_on_signal(int signo, pid_t pid, uid_t uid, void *arg)
{
	struct brm_daemon *d = arg;
	char who[96];

	if (signo == SIGCHLD) {
		brm_orphans_sigchld();
		return;
	}
	signal_origin(who, sizeof(who), signo, pid, uid);
	if (signo == SIGHUP) {
		if (d->stopping) {
			brm_log_info("%s: shutting down; not reloading", who);
			return;
		}
		if (pid > 0)
			brm_log_info("%s", who);
		brm_reload_signal(d->rl);
		return;
	}
	if (d->stopping) {
		brm_log_info("%s: already shutting down", who);
		return;
	}
	brm_daemon_begin_shutdown(d, who);
}

int main(int argc, char **argv)
{
	struct brm_options o = { 0 };
	struct brm_daemon d;
	int r;

	r = brm_options_parse(argc, argv, &o);
	if (r >= 0)
		return r;
	memset(&d, 0, sizeof(d));
	r = brm_daemon_start(&d, &o);
	if (r != 0)
		return r;
	uv_run(&d.loop, UV_RUN_DEFAULT);
	brm_daemon_finish(&d);
	return d.exit_status;
}
