/*
 * main.c — brummd: options, start-up, the loop, and an orderly shutdown.
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
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <uv.h>

#include <grp.h>

#include "daemon/conf/access.h"
#include "daemon/sup/deps.h"
#include "daemon/activation.h"
#include "daemon/sup/cmd.h"
#include "daemon/conf/config.h"
#include "daemon/sup/control.h"
#include "daemon/sup/events.h"
#include "daemon/log.h"
#include "daemon/sup/logcap.h"
#include "daemon/notify.h"
#include "daemon/sup/leftovers.h"
#include "daemon/sup/orphans.h"
#include "daemon/sup/persist.h"
#include "daemon/sup/reload.h"
#include "daemon/rpc/server.h"
#include "daemon/service.h"
#include "daemon/signals.h"
#include "daemon/sup/spawn.h"
#include "daemon/rpc/follow.h"
#include "daemon/sup/supervise.h"
#include "lib/client.h"
#include "lib/registry.h"
#include "lib/snapjson.h"
#include "proto/rpc.h"

/* How long adopted orphans get between SIGTERM and SIGKILL at shutdown. */
#define ORPHAN_GRACE_MS 5000

struct brm_daemon {
	uv_loop_t loop;
	struct brm_signals *sigs;
	struct brm_registry *reg;
	struct brm_supervisor *sup;
	struct brm_deps *deps;
	struct brm_control *ctl;
	struct brm_cmdq cmdq;
	struct brm_server *srv;
	struct brm_service *svc;
	struct brm_persist *state;
	struct brm_reload *rl;
	bool stopping;
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

static void usage(FILE *f)
{
	fprintf(f,
		"usage: brummd [options]\n"
		"\n"
		"Supervise processes; serve their state and commands on a Unix socket.\n"
		"\n"
		"  -c, --config FILE        read the configuration from FILE (JSON, comments allowed);\n"
		"                           without it brummd starts with no processes\n"
		"      --check-config FILE  validate FILE, print any problems, exit 0 (valid) or 1\n"
		"  -s, --socket PATH        listen on PATH (beats $BRUMMD_SOCKET and the config)\n"
		"  -f, --foreground         run in the foreground (the default; for systemd and make run)\n"
		"      --log-level LEVEL    debug, info (default), warn or error\n"
		"  -h, --help               show this help\n"
		"  -V, --version            print the version\n"
		"\n"
		"Default socket: $XDG_RUNTIME_DIR/brummd/brummd.sock, or /run/brummd/brummd.sock as root,\n"
		"or /tmp/brummd-UID/brummd.sock.\n"
		"State file: in $BRUMMD_STATE_DIR, the config's state_dir, /var/lib/brummd as root, or\n"
		"$XDG_STATE_HOME/brummd, one per socket; it remembers processes stopped by request and\n"
		"added at runtime.\n"
		"SIGHUP reloads the config; SIGTERM stops every process, then brummd exits 0.\n"
		"Talk to it with brummctl, or any JSON-RPC 2.0 client: one JSON object per line.\n");
}

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

/* ---- shutdown ----------------------------------------------------------- */

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
	struct brm_cmd *marker = brm_cmd_create(BRM_CMD_SHUTDOWN, NULL);

	brm_log_info("every process has stopped; shutting down");
	marker->owner = d;
	marker->done = state_flushed;
	brm_persist_hold_reply(d->state, marker);
	marker->done(marker);
}

/* "SIGTERM from pid 812 (uid 0)", or "SIGTERM" when the kernel sent it. */
static void signal_origin(char *buf, size_t len, int signo, pid_t pid, uid_t uid)
{
	if (pid > 0)
		snprintf(buf, len, "SIG%s from pid %d (uid %u)", brm_signal_name(signo), (int)pid,
			 (unsigned)uid);
	else
		snprintf(buf, len, "SIG%s", brm_signal_name(signo));
}

/* Every supervised process is down: then the orphans adopted from them. */
static void supervised_stopped(void *arg)
{
	brm_orphans_stop_all(ORPHAN_GRACE_MS, all_stopped, arg);
}

/* Stop everything; all_stopped() follows. Context: loop thread. */
static void brm_daemon_begin_shutdown(struct brm_daemon *d, const char *who)
{
	d->stopping = true;
	brm_log_info("%s: stopping %zu processes", who, brm_supervisor_count(d->sup));
	brm_service_stopping(d->svc);
	brm_reload_shutdown(d->rl);
	brm_supervisor_stop_all(d->sup, supervised_stopped, d);
}

/* Context: loop thread. */
static void brm_daemon_on_signal(int signo, pid_t pid, uid_t uid, void *arg)
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

/* Context: loop thread, executing a `shutdown` request (control.h). */
static void brm_daemon_on_shutdown_request(void *arg, struct brm_cmd *cmd)
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

/* ---- start-up ----------------------------------------------------------- */

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

static int check_config(const char *path)
{
	struct brm_config *cfg = NULL;
	char *err = NULL;

	if (brm_config_load(path, &cfg, &err) < 0) {
		fprintf(stderr, "%s\n", err);
		free(err);
		return 1;
	}
	printf("%s: ok, %zu process%s\n", path, cfg->nprocs, cfg->nprocs == 1 ? "" : "es");
	brm_config_destroy(cfg);
	return 0;
}

/*
 * The command line into @o. Returns -1 to go on, or the exit status of a
 * run that ends here (--help, --version, --check-config, a usage error).
 */
static int brm_options_parse(int argc, char **argv, struct brm_options *o)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", required_argument, NULL, 'C' },
		{ "socket", required_argument, NULL, 's' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "log-level", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c, r;

	while ((c = getopt_long(argc, argv, "c:s:fhV", opts, NULL)) != -1) {
		switch (c) {
		case 'c': o->config_path = optarg; break;
		case 'C': return check_config(optarg);
		case 's': o->socket_opt = optarg; break;
		case 'f': break;
		case 'L':
			r = brm_log_level_parse(optarg);
			if (r < 0) {
				fprintf(stderr, "brummd: --log-level: expected debug, info, warn or"
					" error, got '%s'\n", optarg);
				return 2;
			}
			brm_log_set_level((enum brm_log_level)r);
			break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("brummd %s\n", BRM_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "brummd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	return -1;
}

/*
 * Start-up, steps 1 to 5 of the comment at the top, up to READY=1.
 * Returns 0 to run the loop, or the exit status of a start that failed.
 */
static int brm_daemon_start(struct brm_daemon *d, const struct brm_options *o)
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

	rcu_register_thread();
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	d->crdp = create_call_rcu_data(0, -1);
	/* Only this thread calls call_rcu(); its helper takes no signals. */
	set_thread_call_rcu_data(d->crdp);

	uv_loop_init(&d->loop);
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
	d->state = brm_persist_load(&d->loop, d->state_dir, &err);
	if (!d->state) {
		fprintf(stderr, "brummd: not started: %s\n", err);
		free(err);
		return 1;
	}
	/* Before anything starts: a leftover may hold the port it needs. */
	brm_leftovers_kill(d->state);
	if (brm_leftovers_watch(d->sup, d->state) < 0)
		brm_log_error("cannot record process groups: no observer slot left; processes"
			      " left over if brummd dies will not be found");
	d->rl = brm_reload_create(d->sup, d->ctl, d->svc, d->state, config_path, cfg);

	d->ctx.reg = d->reg;
	d->ctx.cmdq = &d->cmdq;
	d->ctx.pid = getpid();
	d->ctx.start_mono_ns = brm_now_mono_ns();
	if (harden_ctx(cfg, &d->ctx, &d->access) < 0)
		return 1;
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

/* After the loop has ended (finish_shutdown closed the last handle): free
 * what is left and say so. */
static void brm_daemon_finish(struct brm_daemon *d)
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
	return 0;
}
