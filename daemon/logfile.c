/*
 * logfile.c — the writer thread behind logfile.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/log.h"
#include "daemon/logfile.h"
#include "lib/util.h"

struct chunk {
	struct chunk *next;
	struct brm_logfile *f;   /* data NULL + len 0: close f */
	size_t len;
	bool close;
	char data[];
};

struct brm_logfile {
	char *path;
	uint64_t max_bytes;
	unsigned keep;
	/* writer only */
	int fd;
	uint64_t size;
	uint64_t reopen_gen;
	/* under W.lock */
	char err[256];
	uint64_t dropped;
	uint64_t status_gen;
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct chunk *head, **tail;
	size_t queued;
	bool stop, running;
	uint64_t reopen_gen;
	pthread_t thread;
	void (*notify)(void *);
	void *notify_arg;
} W = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

static void set_error(struct brm_logfile *f, const char *what, int err)
{
	char msg[256];
	bool changed;

	if (what)
		snprintf(msg, sizeof(msg), "%s '%s': %s", what, f->path, strerror(err));
	else
		msg[0] = '\0';
	pthread_mutex_lock(&W.lock);
	changed = strcmp(msg, f->err) != 0;
	if (changed) {
		memcpy(f->err, msg, sizeof(msg));
		f->status_gen++;
	}
	pthread_mutex_unlock(&W.lock);
	if (changed) {
		if (what)
			brm_log_error("log file: %s", msg);
		else
			brm_log_info("log file '%s': writing again", f->path);
		if (W.notify)
			W.notify(W.notify_arg);
	}
}

static void file_open(struct brm_logfile *f)
{
	struct stat st;

	f->fd = open(f->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
	if (f->fd < 0) {
		set_error(f, "cannot open", errno);
		return;
	}
	f->size = fstat(f->fd, &st) == 0 ? (uint64_t)st.st_size : 0;
}

static void rotate(struct brm_logfile *f)
{
	char from[4200], to[4200];

	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	if (f->keep == 0) {
		if (unlink(f->path) < 0 && errno != ENOENT)
			set_error(f, "cannot remove", errno);
	} else {
		for (unsigned i = f->keep; i > 0; i--) {
			if (i == 1)
				snprintf(from, sizeof(from), "%s", f->path);
			else
				snprintf(from, sizeof(from), "%s.%u", f->path, i - 1);
			snprintf(to, sizeof(to), "%s.%u", f->path, i);
			if (rename(from, to) < 0 && errno != ENOENT)
				set_error(f, "cannot rotate", errno);
		}
	}
	file_open(f);
}

static void file_write(struct brm_logfile *f, const char *p, size_t n)
{
	uint64_t gen = __atomic_load_n(&W.reopen_gen, __ATOMIC_RELAXED);

	if (f->reopen_gen != gen || f->fd < 0) {
		f->reopen_gen = gen;
		if (f->fd >= 0)
			close(f->fd);
		file_open(f);
		if (f->fd < 0)
			return;
	}
	if (f->max_bytes && f->size > 0 && f->size + n > f->max_bytes)
		rotate(f);
	if (f->fd < 0)
		return;
	while (n) {
		ssize_t w = write(f->fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			set_error(f, "cannot write", errno);
			/* Try again from a fresh open with the next chunk. */
			close(f->fd);
			f->fd = -1;
			return;
		}
		p += w;
		n -= (size_t)w;
		f->size += (uint64_t)w;
	}
	if (f->err[0])
		set_error(f, NULL, 0);
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
		if (c->close) {
			if (c->f->fd >= 0)
				close(c->f->fd);
			free(c->f->path);
			free(c->f);
		} else {
			file_write(c->f, c->data, c->len);
		}
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

	f->path = brm_xstrdup(path);
	f->max_bytes = max_bytes;
	f->keep = keep;
	f->fd = -1;
	return f;
}

void brm_logfile_write(struct brm_logfile *f, const char *data, size_t n)
{
	struct chunk *c;

	if (!n)
		return;
	c = brm_xmalloc(sizeof(*c) + n);
	c->f = f;
	c->len = n;
	c->close = false;
	memcpy(c->data, data, n);
	if (!W.running) {
		file_write(f, data, n);   /* tests without the thread */
		free(c);
		return;
	}
	enqueue(c, false);
}

void brm_logfile_close(struct brm_logfile *f)
{
	struct chunk *c;

	if (!f)
		return;
	if (!W.running) {
		if (f->fd >= 0)
			close(f->fd);
		free(f->path);
		free(f);
		return;
	}
	c = brm_xcalloc(1, sizeof(*c));
	c->f = f;
	c->close = true;
	enqueue(c, true);
}

void brm_logfile_reopen_all(void)
{
	__atomic_add_fetch(&W.reopen_gen, 1, __ATOMIC_RELAXED);
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
