/*
 * harness.h — end-to-end test support: start a real brummd on a socket in
 * a temporary directory, talk to it over the real protocol with a raw
 * client (no lib/client.c), run brummctl, and clean up.
 *
 * Programs are found in $BRM_BINDIR (make check sets it), else ./bin.
 * Everything here is for one test thread.
 */
#ifndef BRM_HARNESS_H
#define BRM_HARNESS_H

#include <stdbool.h>
#include <sys/types.h>
#include <cjson/cJSON.h>

struct brmh {
	char dir[256];        /* temporary directory, removed by brmh_stop */
	char sock[300];       /* socket path inside dir */
	char log[300];        /* brummd's stderr */
	pid_t pid;            /* brummd */
	int fd;               /* persistent raw client connection, -1 if none */
	int next_id;
	char rbuf[1 << 16];
	size_t rlen;
	pid_t janitor;        /* removes dir once the test process is gone */
	int janitor_fd;       /* its pipe: closing it (or dying) wakes it */
};

/* $BRM_BINDIR/NAME (static buffer per call site: copy it if you keep it). */
const char *brmh_bin(const char *name);
/* The test child program, as a JSON string literal body (no quotes). */
const char *brmh_child(void);

/*
 * A copy of the test child that every user can run: in a 0755 directory
 * under /tmp, made once per process and removed when it ends (brmh_tmpdir).
 * For children run as another user (`nobody`), who may not be able to
 * enter the checkout (a 0700 home directory). NULL on failure.
 */
const char *brmh_child_public(void);

/*
 * Start brummd with @config_json (NULL: no config file, the embedded
 * default) in a fresh temporary directory; waits until it answers ping.
 * Extra arguments may follow, NULL-terminated. Returns 0 or -1.
 */
int brmh_start(struct brmh *h, const char *config_json, ...);

/*
 * When non-NULL, brmh_start() puts the socket in h->dir/SUBDIR/, a
 * directory brummd creates itself (0700, or 0750 and socket_group's group:
 * brummd refuses an existing directory of another group). A test that sets
 * it resets it to NULL.
 */
extern const char *brmh_socket_subdir;

/*
 * Like brmh_start, but the test binds the listening socket (h->sock) and
 * passes it as fd 3 with LISTEN_FDS=1 and LISTEN_PID set to brummd's pid,
 * as systemd's socket activation does; brummd gets no --socket.
 * Waits until it answers ping on that socket. Returns 0 or -1.
 */
int brmh_start_activated(struct brmh *h, const char *config_json);

/*
 * (Both starts also fork a janitor in its own session: when the test
 * process ends without brmh_stop — a failed assertion ends it, a Check
 * timeout kills its process group — it waits for brummd, which its
 * PDEATHSIG stops, to be gone, then removes dir.)
 */

/* SIGTERM brummd and wait (up to @timeout_ms); returns its exit status as
 * waitpid reports it, or -1 on timeout (it is then SIGKILLed). Removes the
 * temporary directory. */
int brmh_stop(struct brmh *h, int timeout_ms);

/* Send @line (a newline is added) on the persistent connection and return
 * the next reply line, parsed. Caller cJSON_Deletes. NULL on failure. */
cJSON *brmh_raw(struct brmh *h, const char *line);

/* Read the next reply line on the persistent connection, parsed; NULL on
 * EOF or after @timeout_ms. */
cJSON *brmh_read_reply(struct brmh *h, int timeout_ms);

/* Call @method with @params_json (may be NULL). Returns the whole reply. */
cJSON *brmh_call(struct brmh *h, const char *method, const char *params_json);

/* The reply's "result", or NULL; the error code in *code (0 when ok). */
const cJSON *brmh_result(const cJSON *reply, int *code);

/* Fetch status of @name into a new cJSON (caller deletes) or NULL. */
cJSON *brmh_status(struct brmh *h, const char *name);

/* Poll status every 10 ms until @name is in @state; false on timeout. */
bool brmh_wait_state(struct brmh *h, const char *name, const char *state, int timeout_ms);

/* An integer field of a status object, -1 when null/absent. */
long brmh_int(const cJSON *obj, const char *key);
const char *brmh_str(const cJSON *obj, const char *key);

/* Run brummctl with --socket h->sock and @args (NULL-terminated); capture
 * stdout and stderr (caller frees). Returns the exit code, or -1. */
int brmh_ctl(struct brmh *h, char **out, char **err, ...);

/* Start brummctl like brmh_ctl, in the background, with stdout and stderr
 * to the files @out_path and @err_path (created or truncated). Returns its
 * pid, or -1. */
pid_t brmh_ctl_spawn(struct brmh *h, const char *out_path, const char *err_path, ...);

/* Wait up to @timeout_ms for child @pid: its exit code, -2 when killed by
 * a signal, -1 on timeout (it is then SIGKILLed and reaped). */
int brmh_wait_exit(pid_t pid, int timeout_ms);

/* True when process @pid exists and is not a zombie. */
bool brmh_pid_alive(pid_t pid);
/* Wait until @pid is gone (or a zombie); false on timeout. */
bool brmh_wait_pid_gone(pid_t pid, int timeout_ms);
/* Read a whole small file; NULL when missing. Caller frees. */
char *brmh_read_file(const char *path);
/* Poll until @path exists and is non-empty; returns its contents or NULL. */
char *brmh_wait_file(const char *path, int timeout_ms);
/* Sleep @ms milliseconds. */
void brmh_sleep_ms(int ms);

/* Every event still held for @name (NULL: all), oldest first: the
 * "events" array of a non-following history request, detached; caller
 * cJSON_Deletes. NULL on failure. */
cJSON *brmh_events(struct brmh *h, const char *name);

/* Poll @name's log (its last 10000 lines) until a line contains @needle;
 * a copy of that line (caller frees), or NULL after @timeout_ms. */
char *brmh_wait_log(struct brmh *h, const char *name, const char *needle, int timeout_ms);

/*
 * Make a directory /tmp/PREFIX.XXXXXX into @buf, removed with everything
 * in it once the calling process ends, however it ends (a janitor in its
 * own session waits for that). Returns @buf, or NULL when mkdtemp fails.
 */
char *brmh_tmpdir(char *buf, size_t len, const char *prefix);

/*
 * printf into one of four static 8 KiB buffers, used in turn: up to four
 * results may be live at once (one call's arguments). Not thread-safe.
 */
char *brmh_fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));

/* A new raw connection to h->sock; -1 on failure. Caller closes. */
int brmh_connect(struct brmh *h);
/* Open descriptors of @pid (entries of /proc/PID/fd), -1 when unknown. */
int brmh_fd_count(pid_t pid);
/* Resident set size of @pid in KiB, -1 when unknown. */
long brmh_rss_kb(pid_t pid);
/* The "@key" line of /proc/PID/status ("VmHWM:"), in KiB; -1 if absent. */
long brmh_vm_kb(pid_t pid, const char *key);
/*
 * From /proc/@pid/stat: its state letter, its parent, and the CPU seconds
 * (user + system) it has used; any output may be NULL. False when @pid is
 * gone or the line cannot be read.
 */
bool brmh_proc_stat(pid_t pid, char *state, pid_t *ppid, double *cpu_secs);
/* Zombie children of @pid right now, -1 when unknown. */
int brmh_zombie_children(pid_t pid);
/*
 * Wait up to 2 s until @pid holds at most @fds0 descriptors and has no
 * zombie child; *@fds and *@zombies get the last counts either way (for
 * the test's own assertions and message).
 */
void brmh_wait_settled(pid_t pid, int fds0, int *fds, int *zombies);

#endif
