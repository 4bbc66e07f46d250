/*
 * testchild.c — brm-testchild, the program the test suites spawn. It does
 * exactly one thing per mode, so that tests need no shell scripts:
 *
 *   sleep SECS                 sleep (fractional seconds), exit 0
 *   exit CODE [DELAY]          sleep DELAY (default 0), exit CODE
 *   ignore-term [SECS]         ignore SIGTERM and SIGINT, print "ignoring TERM"
 *                              on stdout (readiness), sleep SECS (default
 *                              3600), exit 0
 *   raise SIG [DELAY]          sleep DELAY, then die of signal number SIG
 *                              (default action restored, no core file)
 *   sigreport [ignore-term]    fork a grandchild (same process group); each of
 *                              the two reports HUP, USR1 and USR2 by a line
 *                              "main got N" / "grandchild got N" on stdout,
 *                              optionally ignoring SIGTERM, and prints
 *                              "ready main PID" / "ready grandchild PID" once
 *                              its handlers are set; sleep forever
 *   prefork N                  a pre-fork server's master: set a SIGHUP handler
 *                              that prints "reload" (and keeps the workers),
 *                              fork N workers in its process group (SIGHUP
 *                              kills a worker: the default action), print
 *                              "worker PID" for each, then "ready master PID";
 *                              sleep forever
 *   grandchild PIDFILE [ignore-term]
 *                              fork a grandchild (same process group) that
 *                              sleeps forever, optionally ignoring SIGTERM;
 *                              write its pid to PIDFILE; sleep forever
 *   orphans N PIDFILE          leave N orphans: each of N children forks a
 *                              grandchild that sleeps 0.2 s and exits, and
 *                              exits at once (its grandchild goes to the
 *                              subreaper, or to init); write our pid to
 *                              PIDFILE once all N are left; sleep forever
 *   fds OUTFILE                write our open descriptors ("0 1 2") to
 *                              OUTFILE; sleep forever
 *   info OUTFILE               write one KEY=VALUE per line: pid, ppid, pgid,
 *                              sid, uid, gid, groups (comma-separated), umask
 *                              (octal), cwd, sigmask (hex, bit N-1 for signal
 *                              N), sigign (comma-separated signal numbers),
 *                              stdin/stdout/stderr (readlink of /proc/self/fd/N),
 *                              nice, oom_score_adj, rlimit_nofile, rlimit_nproc,
 *                              rlimit_core, rlimit_memlock (SOFT:HARD, each a
 *                              number or "infinity"), then every variable as
 *                              env:KEY=VALUE; sleep forever
 *   print [--exit] STREAM TEXT...
 *                              write each TEXT as a line to stdout (STREAM
 *                              "out") or stderr ("err"); then sleep forever,
 *                              or exit 0 with --exit
 *   flood BYTES                write BYTES bytes of 64-byte lines to stdout,
 *                              exit 0
 *   abort [DELAY]              sleep DELAY, then raise SIGABRT (no core file)
 *   pidfile FILE SECS          write our pid to FILE, sleep SECS, exit 0
 *   listen PORT [DELAY]        sleep DELAY, then listen on 127.0.0.1:PORT and
 *                              answer every connection with an HTTP 200
 *                              ("listening on PORT" on stdout first)
 *   listen-fork PORT           listen on 127.0.0.1:PORT, fork a child (same
 *                              process group) that keeps the socket too, print
 *                              "listening on PORT"; both sleep forever
 *   listen6 PORT               listen on [::1]:PORT ("listening on PORT" on
 *                              stdout), accept nothing; sleep forever
 *   connect PORT               connect to 127.0.0.1:PORT ("connected" on
 *                              stdout), listen on nothing; sleep forever
 *   notify-fd FD [DELAY]       sleep DELAY, write a newline to FD (s6-style
 *                              readiness), sleep forever
 *   sd-notify [DELAY]          sleep DELAY, send READY=1 to $NOTIFY_SOCKET,
 *                              sleep forever
 *   burn SECS [SLEEP]          spin on the CPU for SECS of CPU time, then
 *                              sleep SLEEP (default 3600), exit 0
 *   alloc MIB [SLEEP]          allocate and touch MIB MiB, then sleep SLEEP
 *                              (default 3600), exit 0
 *
 * Files are written atomically (a temporary file, then rename), so a test
 * polling for a file never reads half of it. An unknown mode or bad
 * arguments print a usage message and exit 2. Only libc is used.
 *
 * Long because: it is one program with a short function per mode; split,
 * it would be several programs (or files) for the Makefile to build and
 * the tests to find, for no gain in reading any one mode.
 */
#include <dirent.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/banned.h"

static void usage(void)
{
	fprintf(stderr,
		"usage: brm-testchild MODE ARGS...\n"
		"modes: sleep SECS | exit CODE [DELAY] | ignore-term [SECS] |\n"
		"       grandchild PIDFILE [ignore-term] | orphans N PIDFILE |\n"
		"       fds OUTFILE | info OUTFILE |\n"
		"       print [--exit] out|err TEXT... | flood BYTES | abort [DELAY] |\n"
		"       pidfile FILE SECS | burn SECS [SLEEP] | alloc MIB [SLEEP] |\n"
		"       raise SIG [DELAY] | sigreport [ignore-term] | prefork N\n");
	exit(2);
}

static double num(const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || v < 0)
		usage();
	return v;
}

static void sleep_secs(double secs)
{
	struct timespec ts;

	ts.tv_sec = (time_t)secs;
	ts.tv_nsec = (long)((secs - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void sleep_forever(void)
{
	for (;;)
		pause();
}

static void die(const char *what, const char *subject)
{
	fprintf(stderr, "brm-testchild: %s '%s': %s\n", what, subject, strerror(errno));
	exit(3);
}

/* Write @len bytes of @data to @path through a temporary file and rename. */
static void write_atomic(const char *path, const char *data, size_t len)
{
	char tmp[4096];
	int fd;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
		die("path too long", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		die("cannot open", tmp);
	while (len) {
		ssize_t n = write(fd, data, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("cannot write", tmp);
		}
		data += n;
		len -= (size_t)n;
	}
	if (close(fd) < 0)
		die("cannot close", tmp);
	if (rename(tmp, path) < 0)
		die("cannot rename", tmp);
}

/* A text accumulated in memory (open_memstream), then written atomically. */
static FILE *mem_open(char **p, size_t *len)
{
	FILE *f = open_memstream(p, len);

	if (!f)
		die("open_memstream", "");
	return f;
}

static void mem_commit(FILE *f, char **p, size_t *len, const char *path)
{
	if (fclose(f) != 0)
		die("fclose", path);
	write_atomic(path, *p, *len);
	free(*p);
}

static void ignore(int sig)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(sig, &sa, NULL);
}

static int mode_orphans(const char *count, const char *pidfile)
{
	int n = (int)num(count), len;
	char buf[32];

	for (int i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid < 0)
			die("fork", "orphan");
		if (pid == 0) {
			pid_t g = fork();

			if (g == 0) {
				sleep_secs(0.2);
				_exit(0);
			}
			_exit(g < 0 ? 1 : 0);
		}
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	len = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	write_atomic(pidfile, buf, (size_t)len);
	sleep_forever();
	return 0;
}

static int mode_grandchild(int argc, char **argv)
{
	char buf[32];
	pid_t pid;
	int n;

	if (argc < 3 || (argc > 3 && strcmp(argv[3], "ignore-term") != 0))
		usage();
	pid = fork();
	if (pid < 0)
		die("fork", "grandchild");
	if (pid == 0) {
		if (argc > 3)
			ignore(SIGTERM);
		sleep_forever();
	}
	n = snprintf(buf, sizeof(buf), "%d\n", (int)pid);
	write_atomic(argv[2], buf, (size_t)n);
	sleep_forever();
	return 0;
}

static const char *report_who = "main";

/* Async-signal-safe: one write(2) of "WHO got N\n". */
static void on_report(int sig)
{
	char buf[64];
	size_t n = strlen(report_who);
	int saved = errno;

	memcpy(buf, report_who, n);
	memcpy(buf + n, " got ", 5);
	n += 5;
	if (sig >= 10)
		buf[n++] = (char)('0' + sig / 10);
	buf[n++] = (char)('0' + sig % 10);
	buf[n++] = '\n';
	if (write(1, buf, n) < 0)
		errno = saved;
	errno = saved;
}

static void report_ready(void)
{
	static const int sigs[] = { SIGHUP, SIGUSR1, SIGUSR2 };
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_report;
	sa.sa_flags = SA_RESTART;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	printf("ready %s %d\n", report_who, (int)getpid());
	fflush(stdout);
}

static int mode_sigreport(int argc, char **argv)
{
	pid_t pid;

	if (argc > 3 || (argc == 3 && strcmp(argv[2], "ignore-term") != 0))
		usage();
	if (argc == 3)
		ignore(SIGTERM);
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die("fork", "grandchild");
	if (pid == 0)
		report_who = "grandchild";
	report_ready();
	sleep_forever();
	return 0;
}

static void on_reload(int sig)
{
	static const char msg[] = "reload\n";
	int saved = errno;

	(void)sig;
	if (write(1, msg, sizeof(msg) - 1) < 0)
		errno = saved;
	errno = saved;
}

static int mode_prefork(const char *arg)
{
	struct sigaction sa;
	double n = num(arg);

	if (n < 1 || n > 64)
		usage();
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_reload;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGHUP, &sa, NULL);
	fflush(stdout);
	for (int i = 0; i < (int)n; i++) {
		pid_t pid = fork();

		if (pid < 0)
			die("fork", "worker");
		if (pid == 0) {
			signal(SIGHUP, SIG_DFL);
			sleep_forever();
		}
		printf("worker %d\n", (int)pid);
	}
	printf("ready master %d\n", (int)getpid());
	fflush(stdout);
	sleep_forever();
	return 0;
}

static int mode_fds(const char *out)
{
	char *p;
	size_t len;
	FILE *f = mem_open(&p, &len);
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int first = 1, skip;

	if (!d)
		die("opendir", "/proc/self/fd");
	skip = dirfd(d);
	/* open_memstream holds no descriptor; the directory's is skipped. */
	while ((de = readdir(d))) {
		int fd;

		if (de->d_name[0] == '.')
			continue;
		fd = atoi(de->d_name);
		if (fd == skip)
			continue;
		fprintf(f, "%s%d", first ? "" : " ", fd);
		first = 0;
	}
	closedir(d);
	mem_commit(f, &p, &len, out);
	sleep_forever();
	return 0;
}

static void fd_link(FILE *f, const char *key, int fd)
{
	char path[64], target[4096];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		fprintf(f, "%s=closed\n", key);
	else
		fprintf(f, "%s=%.*s\n", key, (int)n, target);
}

static void rlimit_value(FILE *f, rlim_t v)
{
	if (v == RLIM_INFINITY)
		fputs("infinity", f);
	else
		fprintf(f, "%llu", (unsigned long long)v);
}

/* "rlimit_NAME=SOFT:HARD" */
static void rlimit_line(FILE *f, const char *name, int resource)
{
	struct rlimit rl;

	fprintf(f, "rlimit_%s=", name);
	if (getrlimit(resource, &rl) == 0) {
		rlimit_value(f, rl.rlim_cur);
		fputc(':', f);
		rlimit_value(f, rl.rlim_max);
	} else {
		fputc('?', f);
	}
	fputc('\n', f);
}

static int mode_info(const char *out)
{
	extern char **environ;
	char *p, cwd[4096];
	size_t len;
	FILE *f = mem_open(&p, &len);
	gid_t groups[1024];
	int ng = getgroups(1024, groups);
	sigset_t mask;
	unsigned long long bits = 0;
	mode_t um = umask(0);
	int first = 1;

	umask(um);
	fprintf(f, "pid=%d\nppid=%d\npgid=%d\nsid=%d\n", (int)getpid(),
		(int)getppid(), (int)getpgid(0), (int)getsid(0));
	fprintf(f, "uid=%u\ngid=%u\ngroups=", (unsigned)getuid(), (unsigned)getgid());
	for (int i = 0; i < ng; i++)
		fprintf(f, "%s%u", i ? "," : "", (unsigned)groups[i]);
	fprintf(f, "\numask=%04o\ncwd=%s\n", (unsigned)um,
		getcwd(cwd, sizeof(cwd)) ? cwd : "?");
	sigprocmask(SIG_SETMASK, NULL, &mask);
	for (int sig = 1; sig < 65 && sig < NSIG; sig++)
		if (sigismember(&mask, sig) == 1)
			bits |= 1ULL << (sig - 1);
	fprintf(f, "sigmask=%llx\nsigign=", bits);
	for (int sig = 1; sig < NSIG; sig++) {
		struct sigaction sa;

		if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN) {
			fprintf(f, "%s%d", first ? "" : ",", sig);
			first = 0;
		}
	}
	fputc('\n', f);
	fd_link(f, "stdin", 0);
	fd_link(f, "stdout", 1);
	fd_link(f, "stderr", 2);
	errno = 0;
	fprintf(f, "nice=%d\n", getpriority(PRIO_PROCESS, 0));
	{
		FILE *o = fopen("/proc/self/oom_score_adj", "r");
		int adj = 0;

		if (!o || fscanf(o, "%d", &adj) != 1)
			adj = -9999;
		if (o)
			fclose(o);
		fprintf(f, "oom_score_adj=%d\n", adj);
	}
	rlimit_line(f, "nofile", RLIMIT_NOFILE);
	rlimit_line(f, "nproc", RLIMIT_NPROC);
	rlimit_line(f, "core", RLIMIT_CORE);
	rlimit_line(f, "memlock", RLIMIT_MEMLOCK);
	for (char **e = environ; *e; e++)
		fprintf(f, "env:%s\n", *e);
	mem_commit(f, &p, &len, out);
	sleep_forever();
	return 0;
}

static int mode_print(int argc, char **argv)
{
	int i = 2, do_exit = 0;
	FILE *f;

	if (i < argc && strcmp(argv[i], "--exit") == 0) {
		do_exit = 1;
		i++;
	}
	if (i >= argc)
		usage();
	if (strcmp(argv[i], "out") == 0)
		f = stdout;
	else if (strcmp(argv[i], "err") == 0)
		f = stderr;
	else
		usage();
	for (i++; i < argc; i++)
		fprintf(f, "%s\n", argv[i]);
	fflush(f);
	if (do_exit)
		return 0;
	sleep_forever();
	return 0;
}

static int mode_flood(const char *arg)
{
	char line[64];
	double want = num(arg);
	unsigned long long left = (unsigned long long)want;

	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\n';
	while (left) {
		size_t n = left < sizeof(line) ? (size_t)left : sizeof(line);
		const char *s = line + sizeof(line) - n;  /* ends with '\n' */
		ssize_t w = write(1, s, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		left -= (unsigned long long)w;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode;

	if (argc < 2)
		usage();
	mode = argv[1];

	if (strcmp(mode, "sleep") == 0) {
		if (argc != 3)
			usage();
		sleep_secs(num(argv[2]));
		return 0;
	}
	if (strcmp(mode, "exit") == 0) {
		if (argc < 3 || argc > 4)
			usage();
		if (argc == 4)
			sleep_secs(num(argv[3]));
		return (int)num(argv[2]) & 0xff;
	}
	if (strcmp(mode, "raise") == 0) {
		struct rlimit rl = { 0, 0 };
		struct sigaction sa;
		sigset_t set;
		int sig;

		if (argc < 3 || argc > 4)
			usage();
		sig = (int)num(argv[2]);
		if (argc == 4)
			sleep_secs(num(argv[3]));
		setrlimit(RLIMIT_CORE, &rl);
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_DFL;
		sigaction(sig, &sa, NULL);
		sigemptyset(&set);
		sigaddset(&set, sig);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		raise(sig);
		return 1;
	}
	if (strcmp(mode, "sigreport") == 0)
		return mode_sigreport(argc, argv);
	if (strcmp(mode, "ignore-term") == 0) {
		ignore(SIGTERM);
		ignore(SIGINT);
		printf("ignoring TERM\n");
		fflush(stdout);
		sleep_secs(argc > 2 ? num(argv[2]) : 3600);
		return 0;
	}
	if (strcmp(mode, "grandchild") == 0)
		return mode_grandchild(argc, argv);
	if (strcmp(mode, "orphans") == 0) {
		if (argc != 4)
			usage();
		return mode_orphans(argv[2], argv[3]);
	}
	if (strcmp(mode, "prefork") == 0) {
		if (argc != 3)
			usage();
		return mode_prefork(argv[2]);
	}
	if (strcmp(mode, "fds") == 0) {
		if (argc != 3)
			usage();
		return mode_fds(argv[2]);
	}
	if (strcmp(mode, "info") == 0) {
		if (argc != 3)
			usage();
		return mode_info(argv[2]);
	}
	if (strcmp(mode, "print") == 0)
		return mode_print(argc, argv);
	if (strcmp(mode, "flood") == 0) {
		if (argc != 3)
			usage();
		return mode_flood(argv[2]);
	}
	if (strcmp(mode, "abort") == 0) {
		struct rlimit rl = { 0, 0 };
		struct sigaction sa;
		sigset_t set;

		if (argc > 2)
			sleep_secs(num(argv[2]));
		setrlimit(RLIMIT_CORE, &rl);
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_DFL;
		sigaction(SIGABRT, &sa, NULL);
		sigemptyset(&set);
		sigaddset(&set, SIGABRT);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		raise(SIGABRT);
		return 1;
	}
	if (strcmp(mode, "pidfile") == 0) {
		char buf[32];
		int n;

		if (argc != 4)
			usage();
		n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
		write_atomic(argv[2], buf, (size_t)n);
		sleep_secs(num(argv[3]));
		return 0;
	}
	if (strcmp(mode, "listen") == 0) {
		struct sockaddr_in sa = { .sin_family = AF_INET };
		int one = 1, fd;

		if (argc < 3 || argc > 4)
			usage();
		if (argc == 4)
			sleep_secs(num(argv[3]));
		fd = socket(AF_INET, SOCK_STREAM, 0);
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		sa.sin_port = htons((unsigned short)num(argv[2]));
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0) {
			perror("listen");
			return 1;
		}
		printf("listening on %s\n", argv[2]);
		fflush(stdout);
		for (;;) {
			static const char resp[] = "HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nok\n";
			char req[1024];
			int c = accept(fd, NULL, NULL);

			if (c < 0)
				continue;
			(void)!read(c, req, sizeof(req));
			(void)!write(c, resp, sizeof(resp) - 1);
			close(c);
		}
	}
	if (strcmp(mode, "listen-fork") == 0) {
		struct sockaddr_in sa = { .sin_family = AF_INET };
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		pid_t pid;

		if (argc != 3)
			usage();
		sa.sin_port = htons((unsigned short)num(argv[2]));
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0) {
			perror("listen-fork");
			return 1;
		}
		pid = fork();
		if (pid < 0)
			return 1;
		if (pid > 0) {
			printf("listening on %s\n", argv[2]);
			fflush(stdout);
		}
		sleep_secs(3600);
		return 0;
	}
	if (strcmp(mode, "listen6") == 0) {
		struct sockaddr_in6 sa6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
		int fd = socket(AF_INET6, SOCK_STREAM, 0);

		if (argc != 3)
			usage();
		sa6.sin6_port = htons((unsigned short)num(argv[2]));
		if (fd < 0 || bind(fd, (struct sockaddr *)&sa6, sizeof(sa6)) < 0 || listen(fd, 16) < 0) {
			perror("listen6");
			return 1;
		}
		printf("listening on %s\n", argv[2]);
		fflush(stdout);
		sleep_secs(3600);
		return 0;
	}
	if (strcmp(mode, "connect") == 0) {
		struct sockaddr_in sa = { .sin_family = AF_INET };
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		if (argc != 3)
			usage();
		sa.sin_port = htons((unsigned short)num(argv[2]));
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			perror("connect");
			return 1;
		}
		printf("connected\n");
		fflush(stdout);
		sleep_secs(3600);
		return 0;
	}
	if (strcmp(mode, "notify-fd") == 0) {
		if (argc < 3 || argc > 4)
			usage();
		if (argc == 4)
			sleep_secs(num(argv[3]));
		if (write((int)num(argv[2]), "\n", 1) != 1)
			return 1;
		sleep_secs(3600);
		return 0;
	}
	if (strcmp(mode, "sd-notify") == 0) {
		const char *ns = getenv("NOTIFY_SOCKET");
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		socklen_t len;
		int fd;

		if (argc > 3 || !ns || !ns[0] || strlen(ns) >= sizeof(sa.sun_path))
			usage();
		if (argc == 3)
			sleep_secs(num(argv[2]));
		memcpy(sa.sun_path, ns, strlen(ns));
		if (ns[0] == '@')
			sa.sun_path[0] = '\0';
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(ns));
		fd = socket(AF_UNIX, SOCK_DGRAM, 0);
		if (fd < 0 || sendto(fd, "STATUS=up\nREADY=1\n", 19, 0, (struct sockaddr *)&sa, len) < 0) {
			perror("sd-notify");
			return 1;
		}
		sleep_secs(3600);
		return 0;
	}
	if (strcmp(mode, "burn") == 0) {
		double want;
		volatile unsigned long spin = 0;

		if (argc < 3 || argc > 4)
			usage();
		want = num(argv[2]);
		for (;;) {
			struct timespec ts;
			for (int i = 0; i < 1000000; i++)
				spin++;
			clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
			if ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9 >= want)
				break;
		}
		sleep_secs(argc > 3 ? num(argv[3]) : 3600);
		return 0;
	}
	if (strcmp(mode, "alloc") == 0) {
		size_t bytes;
		char *mem;

		if (argc < 3 || argc > 4)
			usage();
		bytes = (size_t)num(argv[2]) << 20;
		mem = malloc(bytes ? bytes : 1);
		if (!mem)
			return 1;
		for (size_t i = 0; i < bytes; i += 4096)
			mem[i] = (char)(i >> 12 | 1);
		sleep_secs(argc > 3 ? num(argv[3]) : 3600);
		free(mem);
		return 0;
	}
	fprintf(stderr, "brm-testchild: unknown mode '%s'\n", mode);
	usage();
	return 2;
}
