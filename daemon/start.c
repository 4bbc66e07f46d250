/*
 * start.c — brummd's start-up (main.c's opening comment lists the steps and
 * why their order matters): hand-overs from the service manager, limits,
 * the config, signals, the loop and every module on it, the state file and
 * what a brummd that died left running, the socket and the workers.
 *
 * Context: main, which becomes the loop thread.
 */
#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <uv.h>

#include "daemon/activation.h"
#include "daemon/conf/access.h"
#include "daemon/conf/config.h"
#include "daemon/daemon.h"
#include "daemon/log.h"
#include "daemon/notify.h"
#include "daemon/rpc/follow.h"
#include "daemon/rpc/httpm.h"
#include "daemon/rpc/request.h"
#include "daemon/rpc/server.h"
#include "daemon/service.h"
#include "daemon/signals.h"
#include "daemon/sup/cmd.h"
#include "daemon/sup/control.h"
#include "daemon/sup/critical.h"
#include "daemon/sup/deps.h"
#include "daemon/sup/events.h"
#include "daemon/sup/leftovers.h"
#include "daemon/sup/logcap.h"
#include "daemon/sup/orphans.h"
#include "daemon/sup/persist.h"
#include "daemon/sup/reload.h"
#include "daemon/sup/spawn.h"
#include "daemon/sup/supervise.h"
#include "lib/client.h"
#include "lib/registry.h"

/* Children get the limit brummd started with (brm_spawn_set_child_nofile). */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		brm_spawn_set_child_nofile(&rl);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			brm_log_warn("cannot raise the open-file limit: %s", strerror(errno));
	}
}

/* Access control, socket mode and group, and limits from @cfg into @ctx;
 * *@accessp the access rules, for the caller to free at exit. */
static int harden_ctx(const struct brm_config *cfg, struct brm_ctx *ctx,
		      struct brm_access **accessp)
{
	struct brm_access *access = NULL;
	char *err = NULL;

	ctx->limits = &cfg->limits;
	ctx->socket_mode = (unsigned)cfg->socket_mode;
	ctx->socket_gid = 0;
	if (cfg->socket_group) {
		const char *g = cfg->socket_group;
		char *end;
		unsigned long id = strtoul(g, &end, 10);
		struct group *gr = (*g >= '0' && *g <= '9' && !*end) ? NULL : getgrnam(g);

		if (!gr && (*g < '0' || *g > '9' || *end)) {
			fprintf(stderr, "brummd: socket_group: no such group '%s'\n", g);
			return -1;
		}
		ctx->socket_gid = gr ? gr->gr_gid : (gid_t)id;
	}
	if (brm_access_create(&cfg->access, geteuid(), &access, &err) < 0) {
		fprintf(stderr, "brummd: %s\n", err);
		free(err);
		return -1;
	}
	/* Read by the workers until they are joined; freed at exit. */
	ctx->access = *accessp = access;
	return 0;
}

/*
 * Start-up, steps 1 to 5 of the comment at the top, up to READY=1.
 * Returns 0 to run the loop, or the exit status of a start that failed.
 */
int brm_daemon_start(struct brm_daemon *d, const struct brm_options *o)
{
	const char *config_path = o->config_path, *socket_opt = o->socket_opt;
	struct brm_config *cfg = NULL;
	sigset_t all, old, keep, brm_sigs;
	char *err = NULL;
	int r, listen_fd;

	/* From the first line on, for `brummctl log`; followers are woken. */
	brm_log_keep(BRM_LOG_RING_DEFAULT, brm_stream_wake_all);

	/* Service manager hand-overs; both edit the environment children get. */
	listen_fd = brm_activation_listen_fd(&err);
	if (listen_fd < 0 && listen_fd != -ENOENT) {
		fprintf(stderr, "brummd: %s\n", err);
		free(err);
		return 1;
	}
	brm_notify_init();
	/* No inherited descriptor may reach a child. */
	close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
	/* While the table is still short: a spawn's cost then does not grow
	 * with the descriptors brummd holds (daemon/sup/spawn.h). */
	r = brm_spawn_reserve_fds();
	if (r < 0)
		brm_log_warn("spawn descriptor slots: %s; every spawn copies the"
			     " descriptor table", strerror(-r));
	raise_nofile();
	signal(SIGPIPE, SIG_IGN);

	if (config_path) {
		if (brm_config_load(config_path, &cfg, &err) < 0) {
			fprintf(stderr, "%s\n", err);
			fprintf(stderr, "brummd: not started: fix the configuration (check it with"
				" 'brummd --check-config %s')\n", config_path);
			free(err);
			return 1;
		}
	} else {
		cfg = brm_config_default();
	}
	if (socket_opt)
		d->socket_path = brm_xstrdup(socket_opt);
	else if (getenv("BRUMMD_SOCKET") && *getenv("BRUMMD_SOCKET"))
		d->socket_path = brm_xstrdup(getenv("BRUMMD_SOCKET"));
	else if (cfg->socket)
		d->socket_path = brm_xstrdup(cfg->socket);
	else
		d->socket_path = brm_socket_default_path();
	d->state_dir = brm_persist_path_resolve(cfg->state_dir, d->socket_path, &err);
	if (!d->state_dir) {
		fprintf(stderr, "brummd: not started: %s\n", err);
		free(err);
		free(d->socket_path);
		brm_config_destroy(cfg);
		return 1;
	}
	/* The state directory and its lock before any thread or child: a
	 * refusal (in use, not ours, cannot be made) leaves nothing behind. */
	uv_loop_init(&d->loop);
	d->state = brm_persist_load(&d->loop, d->state_dir, &err);
	if (!d->state) {
		fprintf(stderr, "brummd: not started: %s\n", err);
		free(err);
		uv_loop_close(&d->loop);
		free(d->state_dir);
		free(d->socket_path);
		brm_config_destroy(cfg);
		return 1;
	}

	rcu_register_thread();
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	d->crdp = create_call_rcu_data(0, -1);
	/* Only this thread calls call_rcu(); its helper takes no signals. */
	set_thread_call_rcu_data(d->crdp);

	/* Before anything is started or counted: a signal that comes while
	 * blocked waits in the signalfd for the loop's first iteration. */
	d->sigs = brm_signals_start(&d->loop, brm_daemon_on_signal, d);
	if (!d->sigs) {
		fprintf(stderr, "brummd: cannot make a signalfd: %s\n", strerror(errno));
		return 1;
	}
	d->reg = brm_registry_create();
	brm_orphans_init(&d->loop);
	d->sup = brm_supervisor_create(&d->loop, d->reg);
	/* Observers run in the order added: events record a change before
	 * deps reacts to it (which may publish further changes). */
	brm_events_init(d->sup, 0);
	d->deps = brm_deps_create(&d->loop, d->sup);
	brm_stream_init();
	if (brm_logs_init(&d->loop, cfg->log, brm_proc_republish) < 0) {
		fprintf(stderr, "brummd: cannot start the log writer thread\n");
		return 1;
	}
	d->ctl = brm_control_create(&d->loop, d->sup);
	brm_control_set_shutdown(d->ctl, brm_daemon_on_shutdown_request, d);
	brm_cmdq_init(&d->cmdq, &d->loop, brm_control_execute, d->ctl);
	d->svc = brm_service_create(&d->loop, d->sup);
	/* Before anything starts: a leftover may hold the port it needs. */
	brm_leftovers_kill(d->state);
	if (brm_leftovers_watch(d->sup, d->state) < 0)
		brm_log_error("cannot record process groups: no observer slot left; processes"
			      " left over if brummd dies will not be found");
	d->rl = brm_reload_create(d->sup, d->ctl, d->svc, d->state, config_path, cfg);
	if (brm_critical_watch(&d->loop, d->sup, cfg->exit_with, brm_daemon_on_critical, d) < 0)
		brm_log_error("cannot watch critical processes: no observer slot left");

	d->ctx.reg = d->reg;
	d->ctx.cmdq = &d->cmdq;
	d->ctx.pid = getpid();
	d->ctx.start_mono_ns = brm_now_mono_ns();
	if (harden_ctx(cfg, &d->ctx, &d->access) < 0)
		return 1;
	/* Before the socket listens and any process starts: a port in use
	 * stops brummd, naming the key and the address. */
	if (cfg->metrics_host &&
	    brm_httpm_listen(cfg->metrics_host, cfg->metrics_port, cfg->metrics_listen,
			     &d->httpm, &err) < 0) {
		fprintf(stderr, "brummd: not started: %s\n", err);
		free(err);
		return 1;
	}
	if (listen_fd >= 0) {
		r = brm_server_adopt(listen_fd, cfg->workers, &d->ctx, &d->srv, &err);
		free(d->socket_path);
		d->socket_path = brm_xasprintf("fd %d (socket activation)", listen_fd);
	} else {
		r = brm_server_create(d->socket_path, cfg->workers, &d->ctx, &d->srv, &err);
	}
	if (r < 0) {
		fprintf(stderr, "brummd: %s\n", err);
		free(err);
		return 1;
	}
	if (d->httpm && brm_httpm_serve(d->httpm, brm_server_ctx(d->srv), &err) < 0) {
		fprintf(stderr, "brummd: not started: %s\n", err);
		free(err);
		return 1;
	}
	if (d->httpm)
		brm_log_info("serving metrics at http://%s/metrics (no authentication)",
			     cfg->metrics_listen);
	/* Processes are in the registry before the first request is read. */
	brm_log_info("brummd %s (pid %d) listening on %s, config %s, %zu processes, %d workers,"
		     " state %s", BRM_VERSION, (int)getpid(), d->socket_path, cfg->source,
		     cfg->nprocs, cfg->workers, brm_persist_path(d->state));
	brm_reload_startup(d->rl, cfg);
	brm_config_destroy(cfg);
	r = brm_server_start(d->srv);
	if (r < 0) {
		fprintf(stderr, "brummd: cannot start worker threads: %s\n", strerror(-r));
		return 1;
	}
	brm_signals_mask(&brm_sigs);
	keep = old;
	for (int s = 1; s < NSIG; s++)
		if (sigismember(&brm_sigs, s) == 1)
			sigaddset(&keep, s);
	pthread_sigmask(SIG_SETMASK, &keep, NULL);

	brm_service_ready(d->svc);
	return 0;
}
