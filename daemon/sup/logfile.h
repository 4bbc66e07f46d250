/*
 * logfile.h — process output appended to files by one writer thread.
 *
 * Why a thread: write(2) to a file can block for as long as the disk or an
 * NFS server likes, and the loop thread must never wait on it. The loop
 * hands formatted chunks to a bounded queue (a mutex held only to link or
 * unlink a chunk, never during I/O); when the queue holds more than
 * BRM_LOGFILE_QUEUE_MAX bytes new chunks are dropped and counted, so a
 * stuck disk costs bounded memory and shows in the status, and neither the
 * child nor the loop ever waits. The writer appends, rotates by size
 * (NAME -> NAME.1 -> ... -> NAME.KEEP), and reopens every file on request
 * (SIGUSR1, `logs_reopen`) for an external logrotate.
 *
 * brummd writes these files as root, often in a directory that the
 * process's own user owns (/var/log/app). So a file is never opened by
 * path: the directory is reached component by component without following
 * a symbolic link that anyone but root could have placed, the file is
 * opened relative to that directory with O_NOFOLLOW (and O_EXCL right
 * after a rotation), and it is written only when fstat shows a regular
 * file with one link, owned by root, brummd's uid or the process's user.
 * Anything else is refused: logged (at most one line per file every few
 * seconds) and shown as the process's log_error, while its output still
 * goes to the ring; the next reopen or a retry a second later tries again.
 */
#ifndef BRM_LOGFILE_H
#define BRM_LOGFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BRM_LOGFILE_QUEUE_MAX (8u << 20)
/* Room for a log_error message, terminating NUL included. */
#define BRM_LOGFILE_ERR_MAX 512

struct brm_logfile;

/* Start / stop the writer thread (stop writes what is queued, closes all). */
int brm_logfile_start(void (*notify)(void *arg), void *arg);
void brm_logfile_stop(void);

/*
 * A file for @path; opened by the writer. @max_bytes 0: never rotate.
 * Ownership: caller, brm_logfile_close(). Context: loop thread.
 */
struct brm_logfile *brm_logfile_open(const char *path, uint64_t max_bytes, unsigned keep);
/*
 * The user the process runs as (a name or decimal uid as in the spec; NULL:
 * brummd's own uid), copied: a file or directory it owns is accepted. The
 * writer resolves it and reopens the file before its next write.
 * Context: loop thread.
 */
void brm_logfile_set_user(struct brm_logfile *f, const char *user);
/* Queue @n bytes (copied); dropped and counted when the queue is full. */
void brm_logfile_write(struct brm_logfile *f, const char *data, size_t n);
/* The writer closes and frees it after what is queued. */
void brm_logfile_close(struct brm_logfile *f);

/*
 * The last write error or refusal ("" when none) into @err (at most
 * BRM_LOGFILE_ERR_MAX bytes are useful), chunks dropped so far. Returns a
 * counter that changes whenever either changes. Context: any thread.
 */
uint64_t brm_logfile_status(struct brm_logfile *f, char *err, size_t errlen, uint64_t *dropped);

#endif
