/*
 * signals.h — SIGTERM, SIGINT, SIGHUP and SIGCHLD read from a signalfd on the loop
 * thread, instead of through a signal handler.
 *
 * Why not uv_signal_t: a handler runs in whichever thread the kernel picks,
 * in async-signal context, and is one more thing a sanitizer runtime has to
 * defer and replay. Under GCC 12's ThreadSanitizer about 1 SIGTERM in 200
 * reached its handler never (the kernel delivered it to the loop thread,
 * idle in epoll_wait; TSan's pending set stayed empty). A signalfd has no
 * handler at all: the signals stay blocked in every thread for the life of
 * the process and are read like any other descriptor. systemd's sd-event
 * does the same. The read also tells who sent the signal, which goes into
 * the log.
 *
 * SIGUSR1 stays with uv_signal_t (daemon/sup/logcap.c): liburcu-cds's resize
 * worker unblocks SIGUSR1 (its SIGRCU) in its own thread, so it cannot be
 * blocked process-wide, and a signalfd never sees a signal that a thread
 * has unblocked.
 *
 * Ownership: struct brm_signals owns the signalfd and its uv_poll_t; free
 * it with brm_signals_close(), which closes both.
 */
#ifndef BRM_SIGNALS_H
#define BRM_SIGNALS_H

#include <signal.h>
#include <sys/types.h>
#include <uv.h>

struct brm_signals;

/* @signo arrived, sent by @pid (0 when the kernel sent it) running as @uid. */
typedef void (*brm_signal_fn)(int signo, pid_t pid, uid_t uid, void *arg);

/*
 * The signals brm_signals_start() reads: SIGTERM, SIGINT, SIGHUP, SIGCHLD
 * (for the orphans brummd adopts; its own children have pidfds). They must
 * be blocked in every thread, so block them (with brm_signals_mask()) before
 * the first thread is created and keep them blocked on the loop thread.
 */
void brm_signals_mask(sigset_t *set);

/*
 * Read the signals of brm_signals_mask() from a signalfd polled on @loop and
 * call @fn for each. A signal that came before this call (while blocked) is
 * delivered on the first loop iteration. Returns NULL with errno set when
 * the signalfd cannot be made.
 * Context: loop thread.
 */
struct brm_signals *brm_signals_start(uv_loop_t *loop, brm_signal_fn fn, void *arg);

/* Stop reading; the handle and descriptor are closed asynchronously.
 * Context: loop thread. */
void brm_signals_close(struct brm_signals *s);

#endif
