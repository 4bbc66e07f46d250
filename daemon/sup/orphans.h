/*
 * orphans.h — brummd as a child subreaper (PR_SET_CHILD_SUBREAPER).
 *
 * A descendant of a supervised process whose parent exits (a double-forking
 * daemon, a setsid() grandchild left behind) is re-parented to brummd
 * instead of to init. brummd reaps such adopted orphans when they exit (no
 * zombies), and at shutdown, once every supervised process has stopped, it
 * sends SIGTERM to those still running, then SIGKILL to what is left after
 * the grace period. So an orderly shutdown leaves no process behind even
 * without systemd's cgroup. (If brummd itself is SIGKILLed, its adopted
 * orphans go on to init: only a cgroup, KillMode=mixed, catches that.)
 *
 * Its own children (brm_spawn_owns) are left to their pidfd watchers.
 */
#ifndef BRM_ORPHANS_H
#define BRM_ORPHANS_H

#include <uv.h>

/* Become a subreaper. Context: loop thread, at start-up. */
void brm_orphans_init(uv_loop_t *loop);

/* A SIGCHLD came: reap adopted orphans that exited (soon, coalesced).
 * Context: loop thread. */
void brm_orphans_sigchld(void);

/*
 * Stop the adopted orphans still running: SIGTERM now, SIGKILL after
 * @grace_ms; @done(@arg) runs once none is left (at once when there are
 * none). Context: loop thread.
 */
void brm_orphans_stop_all(unsigned grace_ms, void (*done)(void *arg), void *arg);

/* Close the timer. Context: loop thread, at shutdown. */
void brm_orphans_close(void);

#endif
