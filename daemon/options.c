/*
 * options.c — brummd's command line: --help, --version, --check-config
 * and the options of a run (config file, socket, log level).
 *
 * Context: main, before start-up.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "daemon/conf/config.h"
#include "daemon/daemon.h"
#include "daemon/log.h"

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
int brm_options_parse(int argc, char **argv, struct brm_options *o)
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
