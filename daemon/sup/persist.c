/*
 * persist.c — the desired state that outlives brummd (persist.h).
 *
 * The format, one object per process that has something to remember:
 *
 *	{"version":1,"boot_id":"5e1b...","processes":{
 *	   "web":{"stopped":true},
 *	   "job":{"added":{"cmd":["/usr/bin/job"],"restart":"never"}},
 *	   "api":{"group":{"pgid":4242,"start":1234567}}}}
 *
 * "added" keeps the spec exactly as the `add` request gave it, and it is
 * parsed again with brm_spec_parse at start-up: no second serialiser to
 * keep in step with the config keys. "group" is the process group of a
 * running process and its leader's start time, with the boot they belong
 * to, for the next brummd to find what is left of it if this one dies
 * (daemon/sup/leftovers.c).
 *
 * Writes: the loop thread renders the JSON text and hands it to one
 * thread-pool job at a time; a change while a job runs marks the state
 * dirty and the job's completion starts the next write with the newest
 * text (group commit: a burst of changes costs a few writes, not one
 * each).
 *
 * Durability: a command that changed the state (brm_persist_hold_reply)
 * gets its reply handed back only once a write that includes its
 * generation has completed (tmp, fsync, rename, fsync of the directory).
 * A failed write answers the replies it held with BRM_E_NOT_DURABLE. While
 * the state file cannot be written, a change still gets one prompt attempt
 * of its own (the disk may have been freed), so its reply waits for at most
 * one write; the scheduled retry is neither moved nor lengthened by it: the
 * backoff grows only when the retry itself fails.
 *
 * Long because: the format, the group-committed writer, the reply gate and
 * the reader share one record of the state and its generation; split, the
 * gate's promise (a reply only after the write that holds its change) would
 * be spread over files. Reading the file is brm_buf_read_file's.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <limits.h>
#include <pwd.h>
#include <time.h>
#include <unistd.h>

#include "daemon/sup/cmd.h"
#include "daemon/sup/loopcheck.h"
#include "daemon/log.h"
#include "daemon/sup/persist.h"
#include "lib/buf.h"
#include "lib/client.h"
#include "lib/safedir.h"
#include "lib/util.h"
#include "proto/proto.h"
#include "proto/rpc.h"

#define STATE_FILE "state.json"
#define MAX_STATE_BYTES (16u << 20)

struct item {
	char *name;
	size_t hash;          /* of @name, for the index */
	char *text;           /* its rendered entry, or NULL until the next render */
	bool stopped;
	char *added;          /* spec JSON text, or NULL */
	pid_t pgid;           /* its running process group, or 0 */
	unsigned long long pgid_start;  /* its leader's start, ticks since boot */
};

struct brm_persist {
	uv_loop_t *loop;
	char *dir;
	char *file;           /* the state file's name in @dir */
	char *tmp;            /* its temporary file's name */
	char *path;           /* dir/file, for messages */
	int dfd;              /* @dir, checked by brm_safedir_open (O_RDONLY) */
	int lock_fd;          /* file.lock, OFD-locked for our lifetime */
	struct item *items;
	size_t n, cap;
	/* The index of @items by name (open addressing, linear probing): a
	 * slot holds an item's position + 1, 0 is empty; @nslot is a power of
	 * two at least twice @n. A process's change finds its record without a
	 * pass over every process. */
	size_t *slot;
	size_t nslot;
	char boot_id[40];      /* this boot's, written with the groups */
	char *loaded_boot_id;  /* the file's as loaded, or NULL */

	/* Generations: every change bumps @gen; @job_gen is the generation
	 * of the text on the thread pool, @durable_gen the newest on disk. */
	uint64_t gen, job_gen, durable_gen;
	unsigned long writes;  /* completed writes (each costs two fsyncs) */

	uv_work_t work;
	bool writing;         /* a job is on the thread pool */
	bool dirty;           /* changed since the job's text was rendered */
	bool failing;         /* the last write failed; a retry is scheduled */
	bool retry_due;       /* the retry timer fired: the running write is it */
	char *text;           /* the job's text */
	int result;           /* the job's outcome, -errno */
	uv_timer_t retry;     /* unref'd: never keeps the loop alive */
	unsigned retry_ms;    /* the last retry's delay; 0 after a success */
	bool closed;          /* brm_persist_shutdown() was called */
	bool replies_closed;  /* the workers are going: hold no reply */

	struct brm_cmd *held, **held_tail;  /* replies waiting for the disk */
};

/*
 * A file name for the instance on @socket: its path with '/' as '-', and
 * '-', '_' and anything but [A-Za-z0-9.] as _XX, so that two paths never
 * give one name ("/run/a.sock" -> "state-run-a.sock.json").
 */
static char *instance_file(const char *socket)
{
	struct brm_buf b = BRM_BUF_INIT;
	char cwd[PATH_MAX];

	brm_buf_adds(&b, "state-");
	if (socket[0] != '/' && getcwd(cwd, sizeof(cwd))) {
		char *abs = brm_xasprintf("%s/%s", cwd, socket);
		char *name = instance_file(abs);

		free(abs);
		brm_buf_finish(&b);
		return name;
	}
	for (const char *p = socket; *p == '/'; p++)
		socket = p + 1;
	for (const unsigned char *p = (const unsigned char *)socket; *p; p++) {
		if (*p == '/')
			brm_buf_addc(&b, '-');
		else if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			 (*p >= '0' && *p <= '9') || *p == '.')
			brm_buf_addc(&b, (char)*p);
		else
			brm_buf_addf(&b, "_%02x", *p);
	}
	brm_buf_adds(&b, ".json");
	return brm_buf_detach(&b);
}

/* The default instance keeps the historical name, state.json. */
static bool default_instance(const char *socket)
{
	char *def;
	bool r;

	if (!socket || (geteuid() == 0 && !strcmp(socket, "/run/brummd/brummd.sock")))
		return true;
	def = brm_socket_default_path();
	r = !strcmp(def, socket);
	free(def);
	return r;
}

char *brm_persist_path_resolve(const char *config_dir, const char *socket, char **err)
{
	const char *env = getenv("BRUMMD_STATE_DIR"), *xdg = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");
	struct passwd *pw;
	char *dir, *file, *path;

	*err = NULL;
	if (env && *env)
		return brm_xasprintf("%s/%s", env, STATE_FILE);
	if (config_dir && *config_dir)
		return brm_xasprintf("%s/%s", config_dir, STATE_FILE);
	if (geteuid() == 0) {
		dir = brm_xstrdup("/var/lib/brummd");
	} else if (xdg && *xdg == '/') {
		dir = brm_xasprintf("%s/brummd", xdg);
	} else if (home && *home == '/') {
		dir = brm_xasprintf("%s/.local/state/brummd", home);
	} else if ((pw = getpwuid(geteuid())) && pw->pw_dir && pw->pw_dir[0] == '/' &&
		   pw->pw_dir[1]) {
		/* No HOME in the environment: the user's own, never a shared one. */
		dir = brm_xasprintf("%s/.local/state/brummd", pw->pw_dir);
	} else {
		*err = brm_xasprintf("no state directory for uid %u: set BRUMMD_STATE_DIR, the"
				     " config's state_dir, XDG_STATE_HOME or HOME",
				     (unsigned)geteuid());
		return NULL;
	}
	file = default_instance(socket) ? brm_xstrdup(STATE_FILE) : instance_file(socket);
	path = brm_xasprintf("%s/%s", dir, file);
	free(dir);
	free(file);
	return path;
}

/* ---- items -------------------------------------------------------------- */

static size_t name_hash(const char *name)
{
	size_t h = 14695981039346656037ULL;   /* FNV-1a */

	for (const unsigned char *c = (const unsigned char *)name; *c; c++)
		h = (h ^ *c) * 1099511628211ULL;
	return h;
}

/* The slot that holds @name's position, or the empty one where it would go. */
static size_t *slot_of(const struct brm_persist *st, const char *name, size_t hash)
{
	size_t mask = st->nslot - 1;

	for (size_t i = hash & mask;; i = (i + 1) & mask) {
		size_t k = st->slot[i];

		if (!k || (st->items[k - 1].hash == hash && !strcmp(st->items[k - 1].name, name)))
			return &st->slot[i];
	}
}

static struct item *find(const struct brm_persist *st, const char *name)
{
	size_t k;

	if (!st->nslot)
		return NULL;
	k = *slot_of(st, name, name_hash(name));
	return k ? &st->items[k - 1] : NULL;
}

/* Room in the index for one more item. */
static void index_reserve(struct brm_persist *st)
{
	if (2 * (st->n + 1) <= st->nslot)
		return;
	free(st->slot);
	st->nslot = st->nslot ? 2 * st->nslot : 64;
	st->slot = brm_xcalloc(st->nslot, sizeof(*st->slot));
	for (size_t i = 0; i < st->n; i++)
		*slot_of(st, st->items[i].name, st->items[i].hash) = i + 1;
}

/* Empty @name's slot, moving later ones of the same run back into the gap
 * (deletion without tombstones). */
static void index_delete(struct brm_persist *st, const struct item *it)
{
	size_t mask = st->nslot - 1;
	size_t j = (size_t)(slot_of(st, it->name, it->hash) - st->slot), k = j;

	st->slot[j] = 0;
	for (;;) {
		size_t h;

		k = (k + 1) & mask;
		if (!st->slot[k])
			return;
		h = st->items[st->slot[k] - 1].hash & mask;
		/* Stays unless its home lies cyclically outside (j, k]. */
		if (j < k ? (h > j && h <= k) : (h > j || h <= k))
			continue;
		st->slot[j] = st->slot[k];
		st->slot[k] = 0;
		j = k;
	}
}

static struct item *get(struct brm_persist *st, const char *name)
{
	struct item *it = find(st, name);

	if (it)
		return it;
	index_reserve(st);
	if (st->n == st->cap) {
		st->cap = st->cap ? st->cap * 2 : 16;
		st->items = brm_xrealloc(st->items, st->cap * sizeof(*st->items));
	}
	it = &st->items[st->n++];
	memset(it, 0, sizeof(*it));
	it->name = brm_xstrdup(name);
	it->hash = name_hash(name);
	*slot_of(st, it->name, it->hash) = st->n;
	return it;
}

/* After every change of @it: forget its rendered text, and drop @it when
 * it has nothing left to remember. */
static void trim(struct brm_persist *st, struct item *it)
{
	struct item *last = &st->items[st->n - 1];

	free(it->text);
	it->text = NULL;
	if (it->stopped || it->added || it->pgid)
		return;
	index_delete(st, it);
	free(it->name);
	if (it != last) {
		index_delete(st, last);
		*it = *last;
		*slot_of(st, it->name, it->hash) = (size_t)(it - st->items) + 1;
	}
	st->n--;
}

/* ---- writing ------------------------------------------------------------ */

/* One process's entry, "NAME":{...}: kept until the item changes (trim()),
 * so a change costs the render of one entry and a copy of the others. */
static const char *item_text(struct item *it)
{
	struct brm_buf b = BRM_BUF_INIT;
	const char *sep = "";

	if (it->text)
		return it->text;
	brm_json_key(&b, it->name);
	brm_buf_addc(&b, '{');
	if (it->stopped) {
		brm_buf_adds(&b, "\"stopped\":true");
		sep = ",";
	}
	if (it->added) {
		brm_buf_adds(&b, sep);
		brm_buf_adds(&b, "\"added\":");
		brm_buf_adds(&b, it->added);
		sep = ",";
	}
	if (it->pgid)
		brm_buf_addf(&b, "%s\"group\":{\"pgid\":%d,\"start\":%llu}", sep,
			     (int)it->pgid, it->pgid_start);
	brm_buf_addc(&b, '}');
	it->text = brm_buf_detach(&b);
	return it->text;
}

static char *render(struct brm_persist *st)
{
	struct brm_buf b = BRM_BUF_INIT;

	brm_buf_adds(&b, "{\"version\":1,\"boot_id\":");
	brm_json_str(&b, st->boot_id);
	brm_buf_adds(&b, ",\"processes\":{");
	for (size_t i = 0; i < st->n; i++) {
		if (i)
			brm_buf_addc(&b, ',');
		brm_buf_adds(&b, "\n ");
		brm_buf_adds(&b, item_text(&st->items[i]));
	}
	brm_buf_adds(&b, "\n}}\n");
	return brm_buf_detach(&b);
}

/*
 * Close the temporary file on the thread pool. Not inlined: tests/tsan.supp
 * names it (libuv closes its descriptors with syscall(SYS_close), which
 * ThreadSanitizer does not see, so a number reused here looks like a race
 * with the loop's last read of a child's pipe).
 */
static __attribute__((noinline)) int tmp_close(int fd)
{
	return close(fd);
}

/*
 * Write @len bytes of @text to the temporary file and fsync it; 0 or
 * -errno. Not inlined, for the same reason as tmp_close: its write() is the
 * first use of a number the loop may have had for a socket that libuv
 * closed unseen (seen in CI: a health probe's socket, test_deps).
 */
static __attribute__((noinline)) int tmp_fill(int fd, const char *text, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		off += (size_t)n;
	}
	return fsync(fd) < 0 ? -errno : 0;
}

/*
 * Thread pool: write st->text atomically, relative to the checked
 * directory: the temporary file is created afresh (O_EXCL|O_NOFOLLOW, after
 * removing a stale one), so nothing planted can redirect the write. Touches
 * only dfd, file, tmp, text, result.
 */
static void write_work(uv_work_t *w)
{
	struct brm_persist *st = w->data;
	int fd, r = 0;

	if (unlinkat(st->dfd, st->tmp, 0) < 0 && errno != ENOENT) {
		r = -errno;
		goto out;
	}
	fd = openat(st->dfd, st->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	r = tmp_fill(fd, st->text, strlen(st->text));
	if (tmp_close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && renameat(st->dfd, st->tmp, st->dfd, st->file) < 0)
		r = -errno;
	if (r < 0) {
		unlinkat(st->dfd, st->tmp, 0);
		goto out;
	}
	/* The rename itself must reach the disk before the reply goes. */
	if (fsync(st->dfd) < 0)
		r = -errno;
out:
	st->result = r;
}

/* ---- held replies ------------------------------------------------------- */

static void release(struct brm_cmd *cmd)
{
	void (*handback)(struct brm_cmd *) = cmd->handback;

	cmd->done = handback;
	cmd->handback = NULL;
	cmd->held_next = NULL;
	handback(cmd);
}

/* Replace @cmd's reply: applied, but not on disk. */
static void reply_not_durable(struct brm_persist *st, struct brm_cmd *cmd, const char *why)
{
	struct brm_buf msg = BRM_BUF_INIT;

	brm_buf_addf(&msg, "applied but not saved in state file '%s': %s; it is lost if brummd"
		       " stops before a retry succeeds", st->path, why);
	brm_buf_reset(&cmd->reply);
	brm_rpc_error(&cmd->reply, cmd->id_json, BRM_E_NOT_DURABLE, msg.p, NULL);
	brm_buf_finish(&msg);
}

static char *failure_text(const struct brm_persist *st)
{
	return brm_xasprintf("%s (next attempt in %u s)", strerror(-st->result),
			     (st->retry_ms + 999) / 1000);
}

/* The gate installed as cmd->done by brm_persist_hold_reply(). */
static void gate(struct brm_cmd *cmd)
{
	struct brm_persist *st = cmd->gate_arg;

	if (cmd->durable_gen <= st->durable_gen) {
		release(cmd);
	} else if (st->replies_closed) {
		reply_not_durable(st, cmd, "brummd is shutting down before the write completed");
		release(cmd);
	} else if (st->failing && !st->writing) {
		char *why = failure_text(st);

		reply_not_durable(st, cmd, why);
		free(why);
		release(cmd);
	} else {
		cmd->held_next = NULL;
		*st->held_tail = cmd;
		st->held_tail = &cmd->held_next;
	}
}

/* Hand back every held reply the disk now covers; with @why, all of them,
 * as errors. */
static void release_held(struct brm_persist *st, const char *why)
{
	struct brm_cmd *cmd = st->held, *next;

	st->held = NULL;
	st->held_tail = &st->held;
	for (; cmd; cmd = next) {
		next = cmd->held_next;
		if (cmd->durable_gen <= st->durable_gen) {
			release(cmd);
		} else if (why) {
			reply_not_durable(st, cmd, why);
			release(cmd);
		} else {
			cmd->held_next = NULL;
			*st->held_tail = cmd;
			st->held_tail = &cmd->held_next;
		}
	}
}

void brm_persist_hold_reply(struct brm_persist *st, struct brm_cmd *cmd)
{
	BRM_ASSERT_LOOP();
	if (cmd->durable_gen < st->gen)
		cmd->durable_gen = st->gen;
	if (cmd->done == gate)
		return;
	cmd->handback = cmd->done;
	cmd->gate_arg = st;
	cmd->done = gate;
}

static void close_replies_hook(void *arg)
{
	brm_persist_close_replies(arg);
}

void brm_persist_close_replies(struct brm_persist *st)
{
	BRM_ASSERT_LOOP();
	if (!st)
		return;
	st->replies_closed = true;
	release_held(st, "brummd is shutting down before the write completed");
}

uint64_t brm_persist_generation(const struct brm_persist *st)
{
	BRM_ASSERT_LOOP();
	return st->gen;
}

/* ---- the write cycle ---------------------------------------------------- */

static void write_now(struct brm_persist *st);

/* Context: loop thread. */
static void on_retry(uv_timer_t *t)
{
	struct brm_persist *st = t->data;

	st->retry_due = true;
	write_now(st);
}

/*
 * Context: loop thread. A success makes its generation durable and
 * releases the replies that waited for it. A failure answers every held
 * reply with BRM_E_NOT_DURABLE and schedules one retry: 1 s, doubling per
 * failed attempt up to 30 s. Changes meanwhile neither write nor move the
 * retry: they are in the retry's text.
 */
static void write_done(uv_work_t *w, int status)
{
	struct brm_persist *st = w->data;

	st->writing = false;
	free(st->text);
	st->text = NULL;
	if (status == 0 && st->result == 0) {
		uint64_t changes = st->job_gen - st->durable_gen;

		st->writes++;
		brm_log_debug("state written (gen %llu, %llu changes, %lu writes)",
			      (unsigned long long)st->job_gen, (unsigned long long)changes,
			      st->writes);
		if (st->failing)
			brm_log_info("state file '%s' written again", st->path);
		st->failing = false;
		st->retry_due = false;
		st->retry_ms = 0;
		uv_timer_stop(&st->retry);
		st->durable_gen = st->job_gen;
		release_held(st, NULL);
		if (st->dirty)
			write_now(st);
		return;
	}
	if (status != 0)
		st->result = status;
	if (st->failing && !st->retry_due) {
		/* a change's own attempt failed: the scheduled retry stands */
		brm_log_debug("cannot write state file '%s': %s; the retry stays due in %llu ms",
			      st->path, strerror(-st->result),
			      (unsigned long long)uv_timer_get_due_in(&st->retry));
		goto out_release;
	}
	st->retry_due = false;
	st->retry_ms = st->retry_ms ? st->retry_ms * 2 : 1000;
	if (st->retry_ms > 30000)
		st->retry_ms = 30000;
	if (!st->failing)
		brm_log_error("cannot write state file '%s': %s; retrying in 1 s, then less often",
			      st->path, strerror(-st->result));
	else
		brm_log_debug("cannot write state file '%s': %s; retrying in %u ms",
			      st->path, strerror(-st->result), st->retry_ms);
	if (!st->closed)
		uv_timer_start(&st->retry, on_retry, st->retry_ms, 0);
out_release:
	st->failing = true;
	{
		char *why = failure_text(st);

		release_held(st, why);
		free(why);
	}
}

/* Render the newest state and queue its write. Context: loop thread. */
static void write_now(struct brm_persist *st)
{
	if (st->writing) {
		st->dirty = true;
		return;
	}
	st->dirty = false;
	st->text = render(st);
	st->job_gen = st->gen;
	st->work.data = st;
	if (uv_queue_work(st->loop, &st->work, write_work, write_done) == 0) {
		st->writing = true;
		return;
	}
	brm_log_error("cannot queue the write of '%s'", st->path);
	free(st->text);
	st->text = NULL;
	st->result = -EAGAIN;
	st->dirty = true;
	st->writing = true;   /* write_done clears it */
	write_done(&st->work, 0);
}

/*
 * The state changed: group commit. One write at a time; changes made while
 * it runs are covered by the next one, started when it completes. While the
 * disk fails, a change still gets its own attempt (write_done leaves the
 * retry's schedule alone when that attempt fails).
 */
static void changed(struct brm_persist *st)
{
	st->gen++;
	write_now(st);   /* while one runs: dirty, and the next covers it */
}

/* ---- reading ------------------------------------------------------------ */

/*
 * Read the state file, refusing one brummd did not write: a link, not a
 * regular file, owned by another uid, or writable by group or others.
 * Returns the text, or NULL with *err (-ENOENT: there is none) and, for a
 * refused file, *why.
 */
static char *slurp(struct brm_persist *st, int *err, char **why)
{
	struct brm_buf b = BRM_BUF_INIT;
	struct stat sb;
	int fd = openat(st->dfd, st->file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

	*why = NULL;
	if (fd < 0) {
		*err = -errno;
		if (errno == ELOOP)
			*why = brm_xstrdup("it is a symbolic link");
		return NULL;
	}
	if (fstat(fd, &sb) < 0) {
		*err = -errno;
		close(fd);
		return NULL;
	}
	if (!S_ISREG(sb.st_mode))
		*why = brm_xstrdup("it is not a regular file");
	else if (sb.st_uid != geteuid())
		*why = brm_xasprintf("it is owned by uid %u, not %u", (unsigned)sb.st_uid,
				     (unsigned)geteuid());
	else if (sb.st_mode & 022)
		*why = brm_xasprintf("its mode %04o lets group or others write it",
				     (unsigned)(sb.st_mode & 07777));
	if (*why) {
		*err = -EPERM;
		close(fd);
		return NULL;
	}
	*err = brm_buf_read_file(&b, fd, MAX_STATE_BYTES);
	close(fd);
	if (*err < 0) {
		brm_buf_finish(&b);
		return NULL;
	}
	return brm_buf_detach(&b);
}

/* This boot's id into @buf ("" when the kernel does not say). */
static void read_boot_id(char *buf, size_t len)
{
	int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, len - 1) : -1;

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}

/* Parse @text into @st; returns NULL or a description of what is wrong. */
static const char *parse(struct brm_persist *st, const char *text)
{
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithLengthOpts(text, strlen(text) + 1, &end, 1);
	const cJSON *ver, *procs, *p, *boot;
	const char *why = NULL;

	if (!root)
		return "not valid JSON";
	ver = cJSON_GetObjectItemCaseSensitive(root, "version");
	procs = cJSON_GetObjectItemCaseSensitive(root, "processes");
	if (!cJSON_IsObject(root) || !cJSON_IsNumber(ver) || ver->valuedouble != 1) {
		why = "not a version 1 state file";
		goto out;
	}
	if (!cJSON_IsObject(procs)) {
		why = "\"processes\" is not an object";
		goto out;
	}
	boot = cJSON_GetObjectItemCaseSensitive(root, "boot_id");
	if (boot && (!cJSON_IsString(boot) || strlen(boot->valuestring) >= sizeof(st->boot_id))) {
		why = "\"boot_id\" is not a boot id";
		goto out;
	}
	if (boot) {
		free(st->loaded_boot_id);
		st->loaded_boot_id = brm_xstrdup(boot->valuestring);
	}
	cJSON_ArrayForEach(p, procs) {
		const cJSON *stopped = cJSON_GetObjectItemCaseSensitive(p, "stopped");
		const cJSON *added = cJSON_GetObjectItemCaseSensitive(p, "added");
		const cJSON *group = cJSON_GetObjectItemCaseSensitive(p, "group");
		int64_t pgid = 0, start = 0;
		struct item *it;

		if (!cJSON_IsObject(p) || !brm_name_valid(p->string) ||
		    (stopped && !cJSON_IsBool(stopped)) || (added && !cJSON_IsObject(added)) ||
		    (group && (!brm_rpc_int_in(cJSON_GetObjectItemCaseSensitive(group, "pgid"),
					       2, INT32_MAX, &pgid) ||
			       !brm_rpc_int_in(cJSON_GetObjectItemCaseSensitive(group, "start"),
					       0, (int64_t)1 << 53, &start)))) {
			why = "a process entry is malformed";
			goto out;
		}
		it = get(st, p->string);
		it->stopped = cJSON_IsTrue(stopped);
		if (added) {
			free(it->added);
			it->added = cJSON_PrintUnformatted(added);
		}
		it->pgid = (pid_t)pgid;
		it->pgid_start = (unsigned long long)start;
		trim(st, it);
	}
out:
	cJSON_Delete(root);
	return why;
}

static void clear(struct brm_persist *st)
{
	for (size_t i = 0; i < st->n; i++) {
		free(st->items[i].name);
		free(st->items[i].added);
		free(st->items[i].text);
	}
	st->n = 0;
	if (st->nslot)
		memset(st->slot, 0, st->nslot * sizeof(*st->slot));
}

/*
 * Take FILE.lock: an OFD write lock held as long as the descriptor is open
 * (close-on-exec for now: a re-exec for upgrades would have to pass it on),
 * with our pid written into it for the message another brummd gives.
 */
static int take_lock(struct brm_persist *st, char **err)
{
	char *name = brm_xasprintf("%s.lock", st->file), pid[32];
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	struct stat sb;
	int fd, n, r = 0;

	fd = openat(st->dfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		*err = brm_xasprintf("cannot open lock file '%s/%s': %s", st->dir, name,
				     strerror(errno));
		r = -1;
		goto out_free;
	}
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) || sb.st_uid != geteuid()) {
		*err = brm_xasprintf("lock file '%s/%s' is not a regular file owned by uid %u",
				     st->dir, name, (unsigned)geteuid());
		r = -1;
		goto out_close;
	}
	if (fcntl(fd, F_OFD_SETLK, &fl) < 0) {
		int e = errno;

		n = (int)pread(fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		if (e == EAGAIN || e == EACCES)
			*err = brm_xasprintf("state '%s' is in use by brummd pid %s", st->path,
					     *pid ? pid : "(unknown)");
		else
			*err = brm_xasprintf("cannot lock '%s/%s': %s", st->dir, name, strerror(e));
		r = -1;
		goto out_close;
	}
	n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)n, 0) != n)
		brm_log_warn("cannot write our pid into '%s/%s': %s", st->dir, name,
			     strerror(errno));
	st->lock_fd = fd;
	goto out_free;
out_close:
	close(fd);
out_free:
	free(name);
	return r;
}

struct brm_persist *brm_persist_load(uv_loop_t *loop, const char *path, char **err)
{
	BRM_ASSERT_LOOP();
	struct brm_persist *st = brm_xcalloc(1, sizeof(*st));
	struct brm_safedir_opts o = { .uid = geteuid(), .create = true, .mode = 0700,
				      .gid = (gid_t)-1 };
	const char *base, *why;
	char msg[512], *text, *refused;
	int err_no = 0, pfd;

	*err = NULL;
	st->loop = loop;
	st->dfd = st->lock_fd = -1;
	read_boot_id(st->boot_id, sizeof(st->boot_id));
	st->held_tail = &st->held;
	st->path = brm_xstrdup(path);
	st->dir = brm_path_split(path, &base);
	if (!st->dir || !*base) {
		*err = brm_xasprintf("state file '%s': not an absolute path", path);
		goto out_fail;
	}
	st->file = brm_xstrdup(base);
	st->tmp = brm_xasprintf("%s.tmp", base);
	pfd = brm_safedir_open(st->dir, &o, msg, sizeof(msg));
	if (pfd < 0) {
		*err = brm_xasprintf("state directory: %s", msg);
		goto out_fail;
	}
	st->dfd = openat(pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	close(pfd);
	if (st->dfd < 0) {
		*err = brm_xasprintf("cannot open state directory '%s': %s", st->dir,
				     strerror(errno));
		goto out_fail;
	}
	if (take_lock(st, err) < 0)
		goto out_fail;
	text = slurp(st, &err_no, &refused);
	if (refused) {
		*err = brm_xasprintf("state file '%s' is refused: %s; remove it (or fix it) and"
				     " start again", st->path, refused);
		free(refused);
		goto out_fail;
	}
	brm_cmdq_set_close_hook(close_replies_hook, st);
	uv_timer_init(loop, &st->retry);
	uv_unref((uv_handle_t *)&st->retry);
	st->retry.data = st;
	if (!text) {
		if (err_no != -ENOENT)
			brm_log_error("cannot read state file '%s': %s; starting without it",
				      st->path, strerror(-err_no));
		return st;
	}
	why = parse(st, text);
	free(text);
	if (why) {
		char *aside = brm_xasprintf("%s.corrupt-%lld", st->file, (long long)time(NULL));

		clear(st);
		if (renameat(st->dfd, st->file, st->dfd, aside) == 0)
			brm_log_error("state file '%s' is corrupt (%s); moved it to '%s/%s' and"
				      " started without it", st->path, why, st->dir, aside);
		else
			brm_log_error("state file '%s' is corrupt (%s) and cannot be moved aside"
				      " (%s); starting without it", st->path, why, strerror(errno));
		free(aside);
	}
	return st;

out_fail:
	st->closed = true;
	brm_persist_destroy(st);
	return NULL;
}

void brm_persist_shutdown(struct brm_persist *st)
{
	BRM_ASSERT_LOOP();
	if (st && !st->closed) {
		st->closed = true;
		uv_close((uv_handle_t *)&st->retry, NULL);
	}
}

void brm_persist_destroy(struct brm_persist *st)
{
	BRM_ASSERT_LOOP();
	if (!st)
		return;
	if (st->lock_fd >= 0 || st->dfd >= 0)
		brm_cmdq_set_close_hook(NULL, NULL);
	clear(st);
	free(st->items);
	free(st->slot);
	free(st->loaded_boot_id);
	free(st->text);
	free(st->dir);
	free(st->file);
	free(st->tmp);
	free(st->path);
	if (st->dfd >= 0)
		close(st->dfd);
	if (st->lock_fd >= 0)
		close(st->lock_fd);   /* releases the lock */
	free(st);
}

/* ---- queries and changes ------------------------------------------------ */

bool brm_persist_stopped(const struct brm_persist *st, const char *name)
{
	BRM_ASSERT_LOOP();
	const struct item *it = find(st, name);

	return it && it->stopped;
}

void brm_persist_set_stopped(struct brm_persist *st, const char *name, bool stopped)
{
	BRM_ASSERT_LOOP();
	struct item *it = find(st, name);

	if ((it ? it->stopped : false) == stopped)
		return;
	it = get(st, name);
	it->stopped = stopped;
	trim(st, it);
	changed(st);
}

const char *brm_persist_added(const struct brm_persist *st, const char *name)
{
	BRM_ASSERT_LOOP();
	const struct item *it = find(st, name);

	return it ? it->added : NULL;
}

void brm_persist_set_added(struct brm_persist *st, const char *name, const char *spec_json)
{
	BRM_ASSERT_LOOP();
	struct item *it = find(st, name);

	if (!it && !spec_json)
		return;
	it = get(st, name);
	free(it->added);
	it->added = spec_json ? brm_xstrdup(spec_json) : NULL;
	trim(st, it);
	changed(st);
}

void brm_persist_forget(struct brm_persist *st, const char *name)
{
	BRM_ASSERT_LOOP();
	struct item *it = find(st, name);

	if (!it)
		return;
	it->stopped = false;
	free(it->added);
	it->added = NULL;
	trim(st, it);
	changed(st);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char **brm_persist_added_names(const struct brm_persist *st)
{
	BRM_ASSERT_LOOP();
	char **v = brm_xcalloc(st->n + 1, sizeof(*v));
	size_t k = 0;

	for (size_t i = 0; i < st->n; i++)
		if (st->items[i].added)
			v[k++] = brm_xstrdup(st->items[i].name);
	qsort(v, k, sizeof(*v), cmp_str);
	return v;
}

const char *brm_persist_path(const struct brm_persist *st)
{
	BRM_ASSERT_LOOP();
	return st->path;
}

/* ---- process groups ----------------------------------------------------- */

void brm_persist_set_group(struct brm_persist *st, const char *name, pid_t pgid,
			   unsigned long long start)
{
	BRM_ASSERT_LOOP();
	struct item *it = find(st, name);

	if (it ? it->pgid == pgid && it->pgid_start == start : pgid == 0)
		return;
	it = get(st, name);
	it->pgid = pgid;
	it->pgid_start = pgid ? start : 0;
	trim(st, it);
	write_now(st);   /* not changed(): no reply waits for a group's record */
}

struct brm_persist_group *brm_persist_groups(const struct brm_persist *st, size_t *n)
{
	BRM_ASSERT_LOOP();
	struct brm_persist_group *v = brm_xcalloc(st->n + 1, sizeof(*v));

	*n = 0;
	for (size_t i = 0; i < st->n; i++) {
		if (!st->items[i].pgid)
			continue;
		v[*n].name = st->items[i].name;
		v[*n].pgid = st->items[i].pgid;
		v[*n].start = st->items[i].pgid_start;
		(*n)++;
	}
	return v;
}

const char *brm_persist_loaded_boot_id(const struct brm_persist *st)
{
	BRM_ASSERT_LOOP();
	return st->loaded_boot_id;
}

const char *brm_persist_boot_id(const struct brm_persist *st)
{
	BRM_ASSERT_LOOP();
	return st->boot_id;
}

void brm_persist_clear_groups(struct brm_persist *st)
{
	BRM_ASSERT_LOOP();
	bool any = false;

	for (size_t i = st->n; i-- > 0;) {
		struct item *it = &st->items[i];

		if (!it->pgid)
			continue;
		it->pgid = 0;
		it->pgid_start = 0;
		trim(st, it);
		any = true;
	}
	if (any)
		write_now(st);
}
