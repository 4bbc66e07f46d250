/*
 * harness.c — see harness.h. Deliberately independent of lib/client.c, so
 * the end-to-end tests check the wire protocol itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/harness.h"

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

void brmh_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

const char *brmh_bin(const char *name)
{
	static char buf[4][512];
	static int slot;
	const char *dir = getenv("BRM_BINDIR");
	char *b = buf[slot++ % 4];

	snprintf(b, 512, "%s/%s", dir && *dir ? dir : "bin", name);
	return b;
}

const char *brmh_child(void)
{
	static char path[512];

	if (!path[0]) {
		const char *b = brmh_bin("brm-testchild");
		if (b[0] != '/') {
			char cwd[256];
			if (getcwd(cwd, sizeof(cwd)))
				snprintf(path, sizeof(path), "%s/%s", cwd, b);
		} else {
			snprintf(path, sizeof(path), "%s", b);
		}
	}
	return path;
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

const char *brmh_socket_subdir;

static void rm_rf(const char *dir);

/* See harness.h: clean up after a test process that died mid-test. */
static void start_janitor(struct brmh *h)
{
	int p[2];
	pid_t pid;

	h->janitor = 0;
	h->janitor_fd = -1;
	if (pipe2(p, O_CLOEXEC) < 0)
		return;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return;
	}
	if (pid == 0) {
		char c;

		setsid();   /* out of the test's process group: a Check timeout kills that */
		for (int fd = 3; fd < 1024; fd++)
			if (fd != p[0])
				close(fd);
		while (read(p[0], &c, 1) < 0 && errno == EINTR)
			;
		for (int i = 0; i < 2000 && h->pid > 0 && brmh_pid_alive(h->pid); i++)
			brmh_sleep_ms(10);
		if (h->pid > 0 && brmh_pid_alive(h->pid))
			kill(h->pid, SIGKILL);
		rm_rf(h->dir);
		_exit(0);
	}
	close(p[0]);
	h->janitor = pid;
	h->janitor_fd = p[1];
}

static void stop_janitor(struct brmh *h)
{
	if (h->janitor_fd >= 0)
		close(h->janitor_fd);
	h->janitor_fd = -1;
	if (h->janitor > 0)
		waitpid(h->janitor, NULL, 0);
	h->janitor = 0;
}

int brmh_start(struct brmh *h, const char *config_json, ...)
{
	char cfgpath[320];
	const char *args[32];
	int n = 0, logfd;
	va_list ap;
	const char *a;
	long deadline;

	memset(h, 0, sizeof(*h));
	h->fd = -1;
	h->janitor_fd = -1;
	/* A daemon that closes on us must fail an assertion, not kill the test. */
	signal(SIGPIPE, SIG_IGN);
	snprintf(h->dir, sizeof(h->dir), "/tmp/brmtest.XXXXXX");
	if (!mkdtemp(h->dir))
		return -1;
	if (brmh_socket_subdir)
		snprintf(h->sock, sizeof(h->sock), "%s/%s/brummd.sock", h->dir, brmh_socket_subdir);
	else
		snprintf(h->sock, sizeof(h->sock), "%s/brummd.sock", h->dir);
	snprintf(h->log, sizeof(h->log), "%s/brummd.log", h->dir);
	args[n++] = brmh_bin("brummd");
	args[n++] = "--socket";
	args[n++] = h->sock;
	if (config_json) {
		FILE *f;
		snprintf(cfgpath, sizeof(cfgpath), "%s/brummd.json", h->dir);
		f = fopen(cfgpath, "w");
		if (!f)
			return -1;
		fputs(config_json, f);
		fclose(f);
		args[n++] = "--config";
		args[n++] = cfgpath;
	}
	va_start(ap, config_json);
	while ((a = va_arg(ap, const char *)) && n < 30)
		args[n++] = a;
	va_end(ap);
	args[n] = NULL;

	logfd = open(h->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	h->pid = fork();
	if (h->pid < 0)
		return -1;
	if (h->pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		/* A test that dies (a failed assertion ends its process) must not
		 * leave brummd and its children running: SIGTERM stops them all. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(null, 0);
		dup2(logfd, 1);
		dup2(logfd, 2);
		unsetenv("BRUMMD_SOCKET");
		/* Each daemon keeps its state file in its own directory unless the
		 * test chose one (tests of persistence across restarts do). */
		if (!getenv("BRUMMD_STATE_DIR"))
			setenv("BRUMMD_STATE_DIR", h->dir, 1);
		execv(args[0], (char *const *)args);
		_exit(127);
	}
	close(logfd);
	start_janitor(h);
	deadline = now_ms() + 5000;
	while (now_ms() < deadline) {
		int st;
		if (waitpid(h->pid, &st, WNOHANG) == h->pid) {
			h->pid = 0;
			return -1;
		}
		h->rlen = 0;
		h->fd = connect_to(h->sock);
		if (h->fd >= 0)
			return 0;
		brmh_sleep_ms(5);
	}
	return -1;
}

int brmh_start_activated(struct brmh *h, const char *config_json)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char cfgpath[320];
	int lfd, logfd;
	long deadline;

	memset(h, 0, sizeof(*h));
	h->fd = -1;
	h->janitor_fd = -1;
	snprintf(h->dir, sizeof(h->dir), "/tmp/brmtest.XXXXXX");
	if (!mkdtemp(h->dir))
		return -1;
	snprintf(h->sock, sizeof(h->sock), "%s/activated.sock", h->dir);
	snprintf(h->log, sizeof(h->log), "%s/brummd.log", h->dir);
	snprintf(cfgpath, sizeof(cfgpath), "%s/brummd.json", h->dir);
	{
		FILE *f = fopen(cfgpath, "w");
		if (!f)
			return -1;
		fputs(config_json ? config_json : "{}", f);
		fclose(f);
	}
	if (strlen(h->sock) >= sizeof(sa.sun_path))
		return -1;
	memcpy(sa.sun_path, h->sock, strlen(h->sock) + 1);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 16) < 0)
		return -1;
	logfd = open(h->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	h->pid = fork();
	if (h->pid < 0)
		return -1;
	if (h->pid == 0) {
		char pid[32];
		int null = open("/dev/null", O_RDONLY);

		dup2(null, 0);
		dup2(logfd, 1);
		dup2(logfd, 2);
		dup2(lfd, 3);      /* dup2 clears close-on-exec */
		snprintf(pid, sizeof(pid), "%d", (int)getpid());
		setenv("LISTEN_PID", pid, 1);
		setenv("LISTEN_FDS", "1", 1);
		unsetenv("BRUMMD_SOCKET");
		if (!getenv("BRUMMD_STATE_DIR"))
			setenv("BRUMMD_STATE_DIR", h->dir, 1);
		execl(brmh_bin("brummd"), "brummd", "--config", cfgpath, (char *)NULL);
		_exit(127);
	}
	close(logfd);
	close(lfd);
	start_janitor(h);
	h->rlen = 0;
	h->fd = connect_to(h->sock);
	deadline = now_ms() + 5000;
	while (h->fd >= 0 && now_ms() < deadline) {
		cJSON *r = brmh_call(h, "ping", NULL);
		int code = -1;

		if (r && brmh_result(r, &code) && code == 0) {
			cJSON_Delete(r);
			return 0;
		}
		cJSON_Delete(r);
		brmh_sleep_ms(10);
	}
	return -1;
}

static void rm_rf(const char *dir)
{
	char cmd[400];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0) {
		/* best effort */
	}
}

int brmh_stop(struct brmh *h, int timeout_ms)
{
	long deadline = now_ms() + timeout_ms;
	int st = -1;

	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
	if (h->pid > 0) {
		kill(h->pid, SIGTERM);
		for (;;) {
			pid_t r = waitpid(h->pid, &st, WNOHANG);
			if (r == h->pid)
				break;
			if (now_ms() > deadline) {
				kill(h->pid, SIGKILL);
				waitpid(h->pid, NULL, 0);
				st = -1;
				break;
			}
			brmh_sleep_ms(5);
		}
		h->pid = 0;
	}
	if (getenv("BRMH_KEEP_LOG")) {
		char *log = brmh_read_file(h->log);
		fprintf(stderr, "---- brummd log ----\n%s----\n", log ? log : "");
		free(log);
	}
	rm_rf(h->dir);
	stop_janitor(h);
	return st;
}

static char *read_line(struct brmh *h, int timeout_ms)
{
	long deadline = now_ms() + timeout_ms;

	for (;;) {
		char *nl = memchr(h->rbuf, '\n', h->rlen);
		struct pollfd pfd = { h->fd, POLLIN, 0 };
		ssize_t n;

		if (nl) {
			size_t len = (size_t)(nl - h->rbuf);
			char *line = malloc(len + 1);
			memcpy(line, h->rbuf, len);
			line[len] = '\0';
			memmove(h->rbuf, nl + 1, h->rlen - len - 1);
			h->rlen -= len + 1;
			return line;
		}
		if (h->rlen == sizeof(h->rbuf))
			return NULL;
		if (now_ms() > deadline)
			return NULL;
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		n = read(h->fd, h->rbuf + h->rlen, sizeof(h->rbuf) - h->rlen);
		if (n <= 0)
			return NULL;
		h->rlen += (size_t)n;
	}
}

cJSON *brmh_raw(struct brmh *h, const char *line)
{
	size_t len = strlen(line);
	char *reply;
	cJSON *j;

	if (h->fd < 0) {
		/* A new connection: what was buffered from the old one is not its. */
		h->rlen = 0;
		h->fd = connect_to(h->sock);
	}
	if (h->fd < 0)
		return NULL;
	if (write(h->fd, line, len) != (ssize_t)len || write(h->fd, "\n", 1) != 1)
		return NULL;
	reply = read_line(h, 20000);
	if (!reply)
		return NULL;
	j = cJSON_Parse(reply);
	free(reply);
	return j;
}

cJSON *brmh_read_reply(struct brmh *h, int timeout_ms)
{
	char *reply = read_line(h, timeout_ms);
	cJSON *j;

	if (!reply)
		return NULL;
	j = cJSON_Parse(reply);
	free(reply);
	return j;
}

cJSON *brmh_call(struct brmh *h, const char *method, const char *params_json)
{
	char *line;
	cJSON *r;
	int id = ++h->next_id;

	if (params_json)
		line = NULL, (void)!asprintf(&line,
			"{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"%s\",\"params\":%s}", id, method,
			params_json);
	else
		line = NULL, (void)!asprintf(&line, "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"%s\"}",
					     id, method);
	r = brmh_raw(h, line);
	free(line);
	return r;
}

const cJSON *brmh_result(const cJSON *reply, int *code)
{
	const cJSON *err = cJSON_GetObjectItemCaseSensitive(reply, "error");

	*code = 0;
	if (err) {
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(err, "code");
		*code = cJSON_IsNumber(c) ? c->valueint : 1;
		return NULL;
	}
	return cJSON_GetObjectItemCaseSensitive(reply, "result");
}

cJSON *brmh_status(struct brmh *h, const char *name)
{
	char params[200];
	cJSON *reply, *res;
	int code;

	snprintf(params, sizeof(params), "{\"name\":\"%s\"}", name);
	reply = brmh_call(h, "status", params);
	if (!reply)
		return NULL;
	res = (cJSON *)brmh_result(reply, &code);
	if (!res) {
		cJSON_Delete(reply);
		return NULL;
	}
	res = cJSON_Duplicate(res, 1);
	cJSON_Delete(reply);
	return res;
}

bool brmh_wait_state(struct brmh *h, const char *name, const char *state, int timeout_ms)
{
	long deadline = now_ms() + timeout_ms;

	do {
		cJSON *s = brmh_status(h, name);
		const char *st = s ? brmh_str(s, "state") : NULL;
		bool ok = st && strcmp(st, state) == 0;
		cJSON_Delete(s);
		if (ok)
			return true;
		brmh_sleep_ms(10);
	} while (now_ms() < deadline);
	return false;
}

long brmh_int(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsNumber(v) ? (long)v->valuedouble : -1;
}

const char *brmh_str(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static char *slurp_fd(int fd)
{
	size_t len = 0, cap = 4096;
	char *b = malloc(cap);
	ssize_t n;

	while ((n = read(fd, b + len, cap - len - 1)) > 0) {
		len += (size_t)n;
		if (cap - len < 2)
			b = realloc(b, cap *= 2);
	}
	b[len] = '\0';
	return b;
}

/* Fork `brummctl --socket SOCK ARGS...` (@ap, NULL-ended), stdout to @ofd, stderr to @efd. */
static pid_t ctl_fork(struct brmh *h, int ofd, int efd, va_list ap)
{
	const char *args[40];
	int n = 0;
	const char *a;
	pid_t pid;

	args[n++] = brmh_bin("brummctl");
	args[n++] = "--socket";
	args[n++] = h->sock;
	while ((a = va_arg(ap, const char *)) && n < 38)
		args[n++] = a;
	args[n] = NULL;
	pid = fork();
	if (pid == 0) {
		dup2(ofd, 1);
		dup2(efd, 2);
		execv(args[0], (char *const *)args);
		_exit(127);
	}
	return pid;
}

int brmh_ctl(struct brmh *h, char **out, char **err, ...)
{
	char outp[320], errp[320];
	int st, ofd, efd;
	va_list ap;
	pid_t pid;

	snprintf(outp, sizeof(outp), "%s/ctl.out", h->dir);
	snprintf(errp, sizeof(errp), "%s/ctl.err", h->dir);
	ofd = open(outp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	efd = open(errp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	va_start(ap, err);
	pid = ctl_fork(h, ofd, efd, ap);
	va_end(ap);
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	lseek(ofd, 0, SEEK_SET);
	lseek(efd, 0, SEEK_SET);
	if (out)
		*out = slurp_fd(ofd);
	if (err)
		*err = slurp_fd(efd);
	close(ofd);
	close(efd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

pid_t brmh_ctl_spawn(struct brmh *h, const char *out_path, const char *err_path, ...)
{
	int ofd, efd;
	va_list ap;
	pid_t pid;

	ofd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	efd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (ofd < 0 || efd < 0)
		return -1;
	va_start(ap, err_path);
	pid = ctl_fork(h, ofd, efd, ap);
	va_end(ap);
	close(ofd);
	close(efd);
	return pid;
}

int brmh_wait_exit(pid_t pid, int timeout_ms)
{
	long deadline = now_ms() + timeout_ms;
	int st;

	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : -2;
		if (r < 0)
			return -1;
		if (now_ms() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			return -1;
		}
		brmh_sleep_ms(5);
	}
}

bool brmh_pid_alive(pid_t pid)
{
	char path[64], buf[512];
	char *p;
	FILE *f;
	size_t n;

	if (pid <= 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

bool brmh_wait_pid_gone(pid_t pid, int timeout_ms)
{
	long deadline = now_ms() + timeout_ms;

	while (brmh_pid_alive(pid)) {
		if (now_ms() > deadline)
			return false;
		brmh_sleep_ms(5);
	}
	return true;
}

char *brmh_read_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *s;

	if (fd < 0)
		return NULL;
	s = slurp_fd(fd);
	close(fd);
	return s;
}

char *brmh_wait_file(const char *path, int timeout_ms)
{
	long deadline = now_ms() + timeout_ms;

	do {
		char *s = brmh_read_file(path);
		if (s && *s)
			return s;
		free(s);
		brmh_sleep_ms(5);
	} while (now_ms() < deadline);
	return NULL;
}

int brmh_connect(struct brmh *h)
{
	return connect_to(h->sock);
}

int brmh_fd_count(pid_t pid)
{
	char path[64];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

long brmh_vm_kb(pid_t pid, const char *key)
{
	char path[64], line[256];
	size_t klen = strlen(key);
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && sscanf(line + klen, " %ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

long brmh_rss_kb(pid_t pid)
{
	return brmh_vm_kb(pid, "VmRSS:");
}

bool brmh_proc_stat(pid_t pid, char *state, pid_t *ppid, double *cpu_secs)
{
	char path[64], buf[1024], *p;
	unsigned long ut, st;
	char c;
	int pp, fd, n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = (int)read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	/* after "pid (comm)", which may hold spaces and parentheses: state ppid
	 * pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &c, &pp,
			 &ut, &st) != 4)
		return false;
	if (state)
		*state = c;
	if (ppid)
		*ppid = (pid_t)pp;
	if (cpu_secs)
		*cpu_secs = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
	return true;
}

int brmh_zombie_children(pid_t pid)
{
	struct dirent *de;
	DIR *d = opendir("/proc");
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		char state;
		pid_t ppid;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		if (brmh_proc_stat((pid_t)atoi(de->d_name), &state, &ppid, NULL) && ppid == pid &&
		    state == 'Z')
			n++;
	}
	closedir(d);
	return n;
}

void brmh_wait_settled(pid_t pid, int fds0, int *fds, int *zombies)
{
	for (int i = 0; i < 100; i++) {
		*fds = brmh_fd_count(pid);
		*zombies = brmh_zombie_children(pid);
		if (*fds <= fds0 && *zombies == 0)
			return;
		brmh_sleep_ms(20);
	}
}

cJSON *brmh_events(struct brmh *h, const char *name)
{
	char params[512];
	cJSON *r;
	const cJSON *res;
	cJSON *ev;
	int code;

	if (name)
		snprintf(params, sizeof(params),
			 "{\"name\":\"%s\",\"history\":true,\"follow\":false}", name);
	else
		snprintf(params, sizeof(params), "{\"history\":true,\"follow\":false}");
	r = brmh_call(h, "events", params);
	res = brmh_result(r, &code);
	ev = res ? cJSON_DetachItemFromObjectCaseSensitive((cJSON *)res, "events") : NULL;
	cJSON_Delete(r);
	return ev;
}

char *brmh_wait_log(struct brmh *h, const char *name, const char *needle, int timeout_ms)
{
	long deadline = now_ms() + timeout_ms;
	char params[512];

	snprintf(params, sizeof(params), "{\"name\":\"%s\",\"lines\":10000}", name);
	do {
		cJSON *r = brmh_call(h, "logs", params);
		int code;
		const cJSON *res = brmh_result(r, &code), *line;
		const cJSON *lines = cJSON_GetObjectItemCaseSensitive(res, "lines");

		cJSON_ArrayForEach(line, lines) {
			const char *text = brmh_str(line, "line");

			if (text && strstr(text, needle)) {
				char *copy = strdup(text);

				cJSON_Delete(r);
				return copy;
			}
		}
		cJSON_Delete(r);
		brmh_sleep_ms(10);
	} while (now_ms() < deadline);
	return NULL;
}

static char public_dir[64];

const char *brmh_child_public(void)
{
	static char path[128];
	static pid_t owner;
	char buf[65536];
	int in, out = -1;
	ssize_t n;
	bool ok = false;

	if (path[0] && owner == getpid())
		return path;
	if (!brmh_tmpdir(public_dir, sizeof(public_dir), "brmchild") ||
	    chmod(public_dir, 0755) < 0)
		return NULL;
	snprintf(path, sizeof(path), "%s/brm-testchild", public_dir);
	in = open(brmh_child(), O_RDONLY | O_CLOEXEC);
	if (in >= 0)
		out = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
	if (out >= 0) {
		ok = true;
		while ((n = read(in, buf, sizeof(buf))) > 0)
			if (write(out, buf, (size_t)n) != n)
				ok = false;
		ok = ok && n == 0;
		ok = close(out) == 0 && ok;
	}
	if (in >= 0)
		close(in);
	if (!ok || chmod(path, 0755) < 0) {
		path[0] = 0;
		return NULL;
	}
	owner = getpid();
	return path;
}

char *brmh_fmt(const char *f, ...)
{
	static char buf[4][8192];
	static unsigned slot;
	char *b = buf[slot++ & 3];
	va_list ap;

	va_start(ap, f);
	vsnprintf(b, sizeof(buf[0]), f, ap);
	va_end(ap);
	return b;
}

char *brmh_tmpdir(char *buf, size_t len, const char *prefix)
{
	int p[2];
	pid_t pid;

	snprintf(buf, len, "/tmp/%s.XXXXXX", prefix);
	if (!mkdtemp(buf))
		return NULL;
	if (pipe2(p, O_CLOEXEC) < 0)
		return buf;
	pid = fork();
	if (pid == 0) {
		char c;

		setsid();
		for (int fd = 3; fd < 1024; fd++)
			if (fd != p[0])
				close(fd);
		while (read(p[0], &c, 1) < 0 && errno == EINTR)
			;
		rm_rf(buf);
		_exit(0);
	}
	close(p[0]);
	if (pid < 0)
		close(p[1]);
	/* p[1] stays open until this process ends */
	return buf;
}
