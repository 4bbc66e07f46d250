/*
 * logfile.c — the writer thread behind logfile.h.
 *
 * What is trusted. The file's directory is often owned by the process's
 * user (the attacker we guard against), so nothing below it is looked up
 * by path. The directory is walked from / (or brummd's working directory
 * for a relative path) one component at a time with O_PATH | O_NOFOLLOW
 * (daemon/sup/pathwalk.c, shared with env_file).
 * A symbolic link on the way is followed only when no one but root (or
 * brummd's own uid) could have put it there: the link is owned by such a
 * uid, and so is its directory, which is also not writable by group or
 * others unless it is sticky (/tmp). That keeps root-made links such as
 * /var/run -> /run working and refuses /var/log/app/sub -> /etc planted by
 * the user. openat2(RESOLVE_NO_SYMLINKS) would refuse both, so it is not
 * used. The directory reached must be owned by root, brummd's uid or the
 * process's user, and must not be writable by everyone without the sticky
 * bit: a directory of some third user, or one anybody can plant in, is
 * refused as a whole with a message naming it.
 *
 * In that directory the file is opened with openat(O_NOFOLLOW | O_NONBLOCK)
 * (no symlink is followed; a FIFO cannot block the writer), created 0640
 * with O_EXCL right after a rotation, and fstat must show a regular file
 * with one link owned by root, brummd's uid or the process's user. A file
 * the user owns is accepted: appending to it gives the user nothing; a
 * hard link to a file elsewhere has two links and is refused even where
 * fs.protected_hardlinks is off. Rotation renames and unlinks relative to
 * the same directory descriptor (rename never follows a link).
 *
 * The directory descriptor is opened for each open or rotation and closed
 * after it: holding one per file would add a descriptor per process that
 * every spawn's exec has to close.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/log.h"
#include "daemon/sup/creds.h"
#include "daemon/logpub.h"
#include "daemon/sup/logfile.h"
#include "daemon/sup/pathwalk.h"
#include "lib/util.h"

/* A file that could not be opened is tried again this long after. */
#define RETRY_NS 1000000000ull
/* At most one error line per file in brummd's log this often. */
#define LOG_INTERVAL_NS 10000000000ull

struct chunk {
	struct chunk *next;
	struct brm_logfile *f;   /* data NULL + len 0: close f */
	size_t len;
	bool close;
	char data[];
};

struct brm_logfile {
	char *path;
	char *dir;               /* path before its last '/' ("": brummd's cwd) */
	char *base;              /* the name in it */
	uint64_t max_bytes;
	unsigned keep;
	/* writer only */
	int fd;
	uint64_t size;
	uint64_t reopen_gen;
	uint64_t user_seen;      /* user_gen last acted on */
	bool resolved;           /* have_run_as and run_as are current */
	bool have_run_as;
	uid_t run_as;
	uint64_t retry_ns;       /* no new open before this (monotonic) */
	uint64_t logged_ns;      /* last error line in brummd's log */
	unsigned suppressed;     /* error lines not logged since */
	bool err_logged;         /* the current error is in brummd's log */
	/* under W.lock */
	char *user;
	uint64_t user_gen;
	char err[BRM_LOGFILE_ERR_MAX];
	uint64_t dropped;
	uint64_t status_gen;
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct chunk *head, **tail;
	size_t queued;
	bool stop, running;
	pthread_t thread;
	void (*notify)(void *);
	void *notify_arg;
} W = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

/*
 * Publish @msg ("" : writing works) as the file's error; log it when it
 * changed, at most once per LOG_INTERVAL_NS, so a user who flips the path
 * between a link and a file cannot flood brummd's log.
 */
/*
 * Every close on the writer thread. Not inlined: tests/tsan.supp names it
 * (libuv closes its descriptors with syscall(SYS_close), which
 * ThreadSanitizer does not see, so a number the loop used for a child's pipe
 * and this thread gets again looks like a race with the loop's last read).
 */
static __attribute__((noinline)) int writer_close(int fd)
{
	return close(fd);
}

static void report(struct brm_logfile *f, const char *msg)
{
	uint64_t now;
	bool changed;

	pthread_mutex_lock(&W.lock);
	changed = strcmp(msg, f->err) != 0;
	if (changed) {
		snprintf(f->err, sizeof(f->err), "%s", msg);
		f->status_gen++;
	}
	pthread_mutex_unlock(&W.lock);
	if (!changed)
		return;
	if (!msg[0]) {
		if (f->err_logged)
			brm_log_info("log file '%s': writing again", f->path);
		f->err_logged = false;
	} else {
		now = brm_now_mono_ns();
		if (f->logged_ns && now - f->logged_ns < LOG_INTERVAL_NS) {
			f->suppressed++;
			f->err_logged = false;
		} else {
			if (f->suppressed)
				brm_log_error("%s (%u more messages about this file not logged)",
					      msg, f->suppressed);
			else
				brm_log_error("%s", msg);
			f->logged_ns = now;
			f->suppressed = 0;
			f->err_logged = true;
		}
	}
	if (W.notify)
		W.notify(W.notify_arg);
}

static void BRM_PRINTF(2, 3) reportf(struct brm_logfile *f, const char *fmt, ...)
{
	char msg[BRM_LOGFILE_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	report(f, msg);
}

/* ---- who may own the file and its directory ----------------------------- */

/* Root and brummd's own uid: the only ones whose links are followed. */
static bool admin_uid(uid_t uid)
{
	return uid == 0 || uid == geteuid();
}

/* Whom the walk and the file checks trust (pathwalk.h). */
static struct brm_pathwalk_trust trust(const struct brm_logfile *f)
{
	return (struct brm_pathwalk_trust){ .self = geteuid(), .have_user = f->have_run_as,
					    .user = f->run_as };
}

static bool owner_ok(const struct brm_logfile *f, uid_t uid)
{
	struct brm_pathwalk_trust tr = trust(f);

	return brm_pathwalk_owner_ok(&tr, uid);
}

/* The uid of the process's user, resolved in this thread (NSS may block). */
static void resolve_user(struct brm_logfile *f)
{
	char *user;

	pthread_mutex_lock(&W.lock);
	user = f->user ? brm_xstrdup(f->user) : NULL;
	pthread_mutex_unlock(&W.lock);
	f->resolved = true;
	f->have_run_as = true;
	f->run_as = geteuid();
	if (!user)
		return;
	if (!brm_creds_user_uid(user, &f->run_as))
		f->have_run_as = false;   /* the spawn fails too; trust root only */
	free(user);
}

static const char *type_name(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFDIR: return "a directory";
	case S_IFLNK: return "a symbolic link";
	case S_IFIFO: return "a FIFO";
	case S_IFSOCK: return "a socket";
	case S_IFCHR: return "a character device";
	case S_IFBLK: return "a block device";
	default: return "not a regular file";
	}
}

/* ---- reaching the directory --------------------------------------------- */

static void refuse_link(struct brm_logfile *f, const char *shown, const struct stat *dst,
			const struct stat *lst)
{
	if (!admin_uid(lst->st_uid))
		reportf(f, "log file '%s': '%s' is a symbolic link owned by uid %u; not following it",
			f->path, shown, (unsigned)lst->st_uid);
	else if (!admin_uid(dst->st_uid))
		reportf(f, "log file '%s': '%s' is a symbolic link in a directory owned by uid %u;"
			" not following it", f->path, shown, (unsigned)dst->st_uid);
	else
		reportf(f, "log file '%s': '%s' is a symbolic link in a directory writable by group"
			" or others (mode %04o); not following it", f->path, shown,
			(unsigned)(dst->st_mode & 07777));
}

/*
 * An O_PATH descriptor of the file's directory, reached as the essay at the
 * top says (pathwalk.h); -1 after reporting why not.
 */
static int open_dir(struct brm_logfile *f)
{
	struct brm_pathwalk_trust tr = trust(f);
	struct brm_pathwalk_why why;
	const char *what = f->dir[0] ? f->dir : ".";
	int fd;

	if (!f->base[0] || !strcmp(f->base, ".") || !strcmp(f->base, "..")) {
		reportf(f, "cannot open log file '%s': %s", f->path, strerror(EISDIR));
		return -1;
	}
	/* The start, not a step: "/" is root's, and "." (a relative log_file)
	 * is brummd's own working directory, chosen by whoever started it. */
	fd = brm_pathwalk_dir(f->dir, &tr, &why);
	if (fd >= 0)
		return fd;
	switch (why.stop) {
	case BRM_PATHWALK_LINK:
		refuse_link(f, why.shown, &why.dir, &why.link);
		break;
	case BRM_PATHWALK_OWNER:
		reportf(f, "log file '%s': directory '%s' is owned by uid %u, neither root nor the"
			" process's user; not writing there", f->path, what,
			(unsigned)why.dir.st_uid);
		break;
	case BRM_PATHWALK_MODE:
		reportf(f, "log file '%s': directory '%s' is writable by every user and not sticky"
			" (mode %04o); not writing there", f->path, what,
			(unsigned)(why.dir.st_mode & 07777));
		break;
	case BRM_PATHWALK_ERRNO:
	default:
		reportf(f, "cannot open log file '%s': %s", f->path, strerror(why.err));
		break;
	}
	return -1;
}

/* ---- the file ----------------------------------------------------------- */

/* Why the file @st may not be written, in @why; false when it may. */
static bool refused(const struct brm_logfile *f, const struct stat *st, char *why, size_t len)
{
	if (S_ISLNK(st->st_mode))
		snprintf(why, len, "log file '%s': is a symbolic link; not following it"
			 " (owner uid %u)", f->path, (unsigned)st->st_uid);
	else if (!S_ISREG(st->st_mode))
		snprintf(why, len, "log file '%s': is %s, not a regular file (owner uid %u)",
			 f->path, type_name(st->st_mode), (unsigned)st->st_uid);
	else if (st->st_nlink != 1)
		snprintf(why, len, "log file '%s': has %lu hard links; not writing to a file"
			 " linked elsewhere (owner uid %u)", f->path, (unsigned long)st->st_nlink,
			 (unsigned)st->st_uid);
	else if (!owner_ok(f, st->st_uid))
		snprintf(why, len, "log file '%s': is owned by uid %u, neither root nor the"
			 " process's user; not writing to it", f->path, (unsigned)st->st_uid);
	else
		return false;
	return true;
}

/*
 * Open the file in @dirfd for appending; with @excl it must be new (right
 * after a rotation: whatever is there was planted), and what is there then
 * gets the ordinary checks. Returns the descriptor or -1 after reporting.
 */
static int open_in(struct brm_logfile *f, int dirfd, bool excl)
{
	char why[BRM_LOGFILE_ERR_MAX];
	struct stat st;
	int fd, err;

	fd = openat(dirfd, f->base, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC |
		    O_NOCTTY | O_NONBLOCK | (excl ? O_EXCL : 0), 0640);
	if (fd < 0) {
		err = errno;
		if (excl && err == EEXIST)
			return open_in(f, dirfd, false);
		/* A link (ELOOP), a FIFO without reader (ENXIO), a directory... */
		if (fstatat(dirfd, f->base, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    refused(f, &st, why, sizeof(why)))
			report(f, why);
		else
			reportf(f, "cannot open log file '%s': %s", f->path, strerror(err));
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		err = errno;
		writer_close(fd);
		reportf(f, "cannot open log file '%s': %s", f->path, strerror(err));
		return -1;
	}
	if (refused(f, &st, why, sizeof(why))) {
		writer_close(fd);
		report(f, why);
		return -1;
	}
	f->size = (uint64_t)st.st_size;
	return fd;
}

static void file_open(struct brm_logfile *f)
{
	int dirfd;

	if (!f->resolved)
		resolve_user(f);
	dirfd = open_dir(f);
	if (dirfd < 0)
		return;
	f->fd = open_in(f, dirfd, false);
	writer_close(dirfd);
}

static void rotate(struct brm_logfile *f)
{
	char from[NAME_MAX + 16], to[NAME_MAX + 16];
	int dirfd;

	if (f->fd >= 0)
		writer_close(f->fd);
	f->fd = -1;
	dirfd = open_dir(f);
	if (dirfd < 0)
		return;
	if (f->keep == 0) {
		if (unlinkat(dirfd, f->base, 0) < 0 && errno != ENOENT)
			reportf(f, "cannot remove log file '%s': %s", f->path, strerror(errno));
	} else {
		for (unsigned i = f->keep; i > 0; i--) {
			if (i == 1)
				snprintf(from, sizeof(from), "%s", f->base);
			else
				snprintf(from, sizeof(from), "%s.%u", f->base, i - 1);
			snprintf(to, sizeof(to), "%s.%u", f->base, i);
			if (renameat(dirfd, from, dirfd, to) < 0 && errno != ENOENT)
				reportf(f, "cannot rotate log file '%s' to '%s': %s", f->path, to,
					strerror(errno));
		}
	}
	f->fd = open_in(f, dirfd, true);
	writer_close(dirfd);
}

static void file_write(struct brm_logfile *f, const char *p, size_t n)
{
	uint64_t gen = brm_logfile_reopen_gen();
	uint64_t ugen = __atomic_load_n(&f->user_gen, __ATOMIC_RELAXED);

	if (f->reopen_gen != gen || f->user_seen != ugen) {
		/* Asked to reopen, or the process's user changed: resolve the
		 * user again too, the user database may have changed. */
		f->reopen_gen = gen;
		f->user_seen = ugen;
		f->resolved = false;
		if (f->fd >= 0)
			writer_close(f->fd);
		f->fd = -1;
		f->retry_ns = 0;
	}
	if (f->fd < 0) {
		uint64_t now = brm_now_mono_ns();

		if (now < f->retry_ns)
			return;
		file_open(f);
		if (f->fd < 0) {
			f->retry_ns = now + RETRY_NS;
			return;
		}
	}
	if (f->max_bytes && f->size > 0 && f->size + n > f->max_bytes) {
		rotate(f);
		if (f->fd < 0) {
			f->retry_ns = brm_now_mono_ns() + RETRY_NS;
			return;
		}
	}
	while (n) {
		ssize_t w = write(f->fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			reportf(f, "cannot write log file '%s': %s", f->path, strerror(errno));
			/* Try again from a fresh open a little later. */
			writer_close(f->fd);
			f->fd = -1;
			f->retry_ns = brm_now_mono_ns() + RETRY_NS;
			return;
		}
		p += w;
		n -= (size_t)w;
		f->size += (uint64_t)w;
	}
	if (f->err[0])
		report(f, "");
}

/* ---- the thread and the queue ------------------------------------------- */

static void file_free(struct brm_logfile *f)
{
	if (f->fd >= 0)
		writer_close(f->fd);
	free(f->path);
	free(f->dir);
	free(f->base);
	free(f->user);
	free(f);
}

static void *writer_main(void *arg)
{
	sigset_t all;

	(void)arg;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	pthread_mutex_lock(&W.lock);
	for (;;) {
		struct chunk *c;

		while (!W.head && !W.stop)
			pthread_cond_wait(&W.cond, &W.lock);
		if (!W.head && W.stop)
			break;
		c = W.head;
		W.head = c->next;
		if (!W.head)
			W.tail = &W.head;
		W.queued -= c->len;
		pthread_mutex_unlock(&W.lock);
		if (c->close)
			file_free(c->f);
		else
			file_write(c->f, c->data, c->len);
		free(c);
		pthread_mutex_lock(&W.lock);
	}
	pthread_mutex_unlock(&W.lock);
	return NULL;
}

int brm_logfile_start(void (*notify)(void *arg), void *arg)
{
	int r;

	W.head = NULL;
	W.tail = &W.head;
	W.stop = false;
	W.notify = notify;
	W.notify_arg = arg;
	r = pthread_create(&W.thread, NULL, writer_main, NULL);
	if (r)
		return -r;
	W.running = true;
	return 0;
}

void brm_logfile_stop(void)
{
	if (!W.running)
		return;
	pthread_mutex_lock(&W.lock);
	W.stop = true;
	pthread_cond_signal(&W.cond);
	pthread_mutex_unlock(&W.lock);
	pthread_join(W.thread, NULL);
	W.running = false;
	W.notify = NULL;
}

static void enqueue(struct chunk *c, bool force)
{
	pthread_mutex_lock(&W.lock);
	if (!force && W.queued + c->len > BRM_LOGFILE_QUEUE_MAX) {
		c->f->dropped++;
		c->f->status_gen++;
		pthread_mutex_unlock(&W.lock);
		free(c);
		return;
	}
	c->next = NULL;
	*W.tail = c;
	W.tail = &c->next;
	W.queued += c->len;
	pthread_cond_signal(&W.cond);
	pthread_mutex_unlock(&W.lock);
}

struct brm_logfile *brm_logfile_open(const char *path, uint64_t max_bytes, unsigned keep)
{
	struct brm_logfile *f = brm_xcalloc(1, sizeof(*f));
	const char *slash = strrchr(path, '/');

	f->path = brm_xstrdup(path);
	if (!slash) {
		f->dir = brm_xstrdup("");
		f->base = brm_xstrdup(path);
	} else {
		f->dir = slash == path ? brm_xstrdup("/") : brm_xstrndup(path, (size_t)(slash - path));
		f->base = brm_xstrdup(slash + 1);
	}
	f->max_bytes = max_bytes;
	f->keep = keep;
	f->fd = -1;
	return f;
}

void brm_logfile_set_user(struct brm_logfile *f, const char *user)
{
	if (!f)
		return;
	pthread_mutex_lock(&W.lock);
	if (!(user ? f->user && !strcmp(f->user, user) : !f->user)) {
		free(f->user);
		f->user = user ? brm_xstrdup(user) : NULL;
		__atomic_add_fetch(&f->user_gen, 1, __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&W.lock);
}

void brm_logfile_write(struct brm_logfile *f, const char *data, size_t n)
{
	struct chunk *c;

	if (!n)
		return;
	if (!W.running) {
		file_write(f, data, n);   /* tests without the thread */
		return;
	}
	c = brm_xmalloc(sizeof(*c) + n);
	c->f = f;
	c->len = n;
	c->close = false;
	memcpy(c->data, data, n);
	enqueue(c, false);
}

void brm_logfile_close(struct brm_logfile *f)
{
	struct chunk *c;

	if (!f)
		return;
	if (!W.running) {
		file_free(f);
		return;
	}
	c = brm_xcalloc(1, sizeof(*c));
	c->f = f;
	c->close = true;
	enqueue(c, true);
}

uint64_t brm_logfile_status(struct brm_logfile *f, char *err, size_t errlen, uint64_t *dropped)
{
	uint64_t gen;

	pthread_mutex_lock(&W.lock);
	snprintf(err, errlen, "%s", f->err);
	*dropped = f->dropped;
	gen = f->status_gen;
	pthread_mutex_unlock(&W.lock);
	return gen;
}
