/*
 * daemon.h — brummd's own record, shared by the files of its life:
 * options.c (the command line), start.c (start-up), main.c (main() and the
 * run: signals) and finish.c (shutdown and the frees after the loop).
 * Nothing else includes it.
 *
 * Context: the main thread, which becomes the loop thread.
 */
#ifndef BRM_DAEMON_H
#define BRM_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <uv.h>

#include "daemon/rpc/request.h"
#include "daemon/rpc/server.h"
#include "daemon/sup/cmd.h"

struct brm_access;
struct call_rcu_data;

struct brm_daemon {
	uv_loop_t loop;
	struct brm_signals *sigs;
	struct brm_registry *reg;
	struct brm_supervisor *sup;
	struct brm_deps *deps;
	struct brm_control *ctl;
	struct brm_cmdq cmdq;
	struct brm_server *srv;
	struct brm_httpm *httpm;   /* metrics_listen's HTTP server, or NULL */
	struct brm_service *svc;
	struct brm_persist *state;
	struct brm_reload *rl;
	bool stopping;
	int exit_status;      /* main()'s: 0, or a critical process's (critical.h) */
	/* `shutdown` requests, answered once every process is down and the
	 * state is on disk (then shutdown_answered). */
	struct brm_cmd **held;
	size_t nheld;
	bool shutdown_answered;
	/* from start-up to the end of brm_daemon_finish */
	struct brm_ctx ctx;
	struct brm_access *access;  /* read by the workers until they are joined */
	struct call_rcu_data *crdp;
	char *socket_path, *state_dir;
};

/* What the command line asked for. */
struct brm_options {
	const char *config_path, *socket_opt;
};

/* options.c */

/*
 * The command line into @o. Returns -1 to go on, or the exit status of a
 * run that ends here (--help, --version, --check-config, a usage error).
 */
int brm_options_parse(int argc, char **argv, struct brm_options *o);

/* start.c */

/*
 * Start-up, steps 1 to 5 of the comment at the top of main.c, up to
 * READY=1; @d zeroed by the caller. Returns 0 to run the loop, or the exit
 * status of a start that failed.
 */
int brm_daemon_start(struct brm_daemon *d, const struct brm_options *o);

/* main.c */

/* The signalfd's callback: SIGCHLD, SIGHUP (reload), or shut down. */
void brm_daemon_on_signal(int signo, pid_t pid, uid_t uid, void *arg);

/* finish.c */

/* Stop everything; the steps of the shutdown follow. */
void brm_daemon_begin_shutdown(struct brm_daemon *d, const char *who);
/* A critical process ended (daemon/sup/critical.h): shut down, exit @status. */
void brm_daemon_on_critical(void *arg, int status, const char *why);
/* A `shutdown` request (control.h): held until every process is down. */
void brm_daemon_on_shutdown_request(void *arg, struct brm_cmd *cmd);
/* After the loop has ended: free what is left and say so. */
void brm_daemon_finish(struct brm_daemon *d);

#endif
