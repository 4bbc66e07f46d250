/*
 * init.c — `brummctl init [DIR]`: a brummd config for a project, made from
 * what is there. It names the project's package.json, Procfile and
 * Makefile in "scripts_from" (brummd reads them at every start and reload,
 * daemon/conf/scripts.h), and keeps the project's brummd to itself: its
 * socket and state in DIR/.brummd. It writes DIR/brummd.json, never over
 * an existing one without --force, and says how to start brummd on it.
 *
 * Local: it never talks to brummd. Context: brummctl's only thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli/brummctl.h"
#include "lib/util.h"

/* A socket path must fit struct sockaddr_un's 108 bytes. */
#define MAX_SOCKET_PATH 107

static const char *const project_files[] = { "package.json", "Procfile", "Makefile" };

static const char init_help[] =
	"usage: brummctl init [--force] [DIR]\n"
	"\n"
	"Write DIR/brummd.json (DIR: the current directory) naming the project's\n"
	"package.json, Procfile and Makefile in \"scripts_from\": each script, line or\n"
	"phony target becomes a process (see brummd.json(5)). brummd's socket and\n"
	"state go to DIR/.brummd. Then: brummd -c DIR/brummd.json, and\n"
	"BRUMMD_SOCKET=DIR/.brummd/brummd.sock brummctl run NAME.\n"
	"\n"
	"      --force   replace an existing DIR/brummd.json\n";

static int fail(const char *fmt, ...) BRM_PRINTF(1, 2);
static int fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "brummctl: init: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CLI_EXIT_ERROR;
}

static bool is_file(const char *dir, const char *name)
{
	char path[PATH_MAX + 64];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return lstat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* The config's text: comments saying how to use it, then the JSON. */
static char *config_text(const char *dir, const cJSON *found, bool with_socket)
{
	cJSON *cfg = cJSON_CreateObject();
	char *sock = brm_xasprintf("%s/.brummd/brummd.sock", dir);
	char *state = brm_xasprintf("%s/.brummd", dir);
	char *json, *text;

	if (!cfg)
		brm_oom(0);
	if (with_socket)
		cJSON_AddStringToObject(cfg, "socket", sock);
	cJSON_AddStringToObject(cfg, "state_dir", state);
	cJSON_AddItemToObject(cfg, "scripts_from", cJSON_Duplicate(found, true));
	json = cJSON_Print(cfg);
	if (!json)
		brm_oom(0);
	text = brm_xasprintf("// brummd's config for %s, made by 'brummctl init'.\n"
			     "// Each script of package.json (run with its package manager),\n"
			     "// each line of a Procfile and each phony target of a Makefile is a\n"
			     "// process; brummd reads them again at every reload.\n"
			     "//   start:  brummd -c %s/brummd.json\n"
			     "//   then:   export BRUMMD_SOCKET=%s\n"
			     "//           brummctl status; brummctl run NAME\n"
			     "%s\n",
			     dir, dir, with_socket ? sock : "(the default socket)", json);
	cJSON_Delete(cfg);
	free(json);
	free(sock);
	free(state);
	return text;
}

int cli_init_main(int argc, char **argv)
{
	const char *arg = NULL;
	char dir[PATH_MAX], *path, *text, *list;
	bool force = false, with_socket;
	cJSON *found;
	ssize_t w;
	int fd;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--force")) {
			force = true;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(init_help, stdout);
			return CLI_EXIT_OK;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "brummctl: init: unknown option '%s'\n%s", argv[i], init_help);
			return CLI_EXIT_USAGE;
		} else if (arg) {
			fprintf(stderr, "brummctl: init: one DIR at most\n%s", init_help);
			return CLI_EXIT_USAGE;
		} else {
			arg = argv[i];
		}
	}
	if (!realpath(arg ? arg : ".", dir))
		return fail("'%s': %s", arg ? arg : ".", strerror(errno));
	if (strpbrk(dir, "\n\r"))
		return fail("'%s': a directory name with a line break", dir);
	found = cJSON_CreateArray();
	if (!found)
		brm_oom(0);
	for (size_t i = 0; i < sizeof(project_files) / sizeof(project_files[0]); i++)
		if (is_file(dir, project_files[i]))
			cJSON_AddItemToArray(found, cJSON_CreateString(project_files[i]));
	if (cJSON_GetArraySize(found) == 0) {
		cJSON_Delete(found);
		return fail("no package.json, Procfile or Makefile in '%s'", dir);
	}
	with_socket = strlen(dir) + strlen("/.brummd/brummd.sock") <= MAX_SOCKET_PATH;
	text = config_text(dir, found, with_socket);
	path = brm_xasprintf("%s/brummd.json", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | (force ? O_TRUNC : O_EXCL),
		  0644);
	if (fd < 0) {
		int e = errno;

		cJSON_Delete(found);
		free(text);
		if (e == EEXIST) {
			fail("'%s' exists (--force replaces it)", path);
		} else {
			fail("cannot write '%s': %s", path, strerror(e));
		}
		free(path);
		return CLI_EXIT_ERROR;
	}
	w = write(fd, text, strlen(text));
	if (w != (ssize_t)strlen(text) || close(fd) < 0) {
		fail("cannot write '%s': %s", path, w < 0 ? strerror(errno) : "short write");
		unlink(path);
		cJSON_Delete(found);
		free(text);
		free(path);
		return CLI_EXIT_ERROR;
	}
	list = cJSON_PrintUnformatted(found);
	printf("wrote %s: scripts from %s\n", path, list ? list : "?");
	printf("start brummd:  brummd -c %s\n", path);
	if (with_socket)
		printf("then:          export BRUMMD_SOCKET=%s/.brummd/brummd.sock\n", dir);
	else
		printf("(the directory's name is too long for a socket in it: brummd uses its"
		       " default socket)\n");
	printf("               brummctl status; brummctl run NAME\n");
	free(list);
	cJSON_Delete(found);
	free(text);
	free(path);
	return CLI_EXIT_OK;
}
