/*
 * persist.h — the persisted desired state: which processes were stopped by
 * request, and which were added at runtime (with the spec they were added
 * with), so that both survive a restart of brummd.
 *
 * The file is $BRUMMD_STATE_DIR/state.json, or the config's
 * "state_dir"/state.json; else it is specific to the instance: in
 * /var/lib/brummd as root, $XDG_STATE_HOME/brummd or
 * ~/.local/state/brummd (HOME, else the passwd entry's home) otherwise,
 * named state.json for the default socket and state-ESCAPED.json for any
 * other (the socket's path, escaped). There is no shared fallback.
 *
 * The directory is opened with brm_safedir_open (created 0700 if missing;
 * owned by brummd's uid or root, nobody else can change it) and every file
 * in it is opened relative to it, without following links. FILE.lock is
 * OFD-locked while brummd runs, with its pid in it: a second brummd on the
 * same state refuses to start. A state file that is a link, not regular,
 * not owned by brummd's uid or writable by others is refused (brummd does
 * not start); one that cannot be parsed is reported, renamed aside
 * (FILE.corrupt-TIME) and brummd starts as if it had none.
 *
 * It is rewritten whole after every change: a fresh temporary file
 * (O_EXCL|O_NOFOLLOW), fsync, rename, fsync of the directory, on libuv's
 * thread pool so the loop thread never waits for the disk.
 *
 * Context: loop thread only.
 */
#ifndef BRM_PERSIST_H
#define BRM_PERSIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

struct brm_persist;

/*
 * The state file's path as described above, for the instance listening on
 * @socket (NULL: the default one); NULL with *@err when there is no
 * directory to use. Ownership: caller frees both.
 */
char *brm_persist_path_resolve(const char *config_dir, const char *socket, char **err);

/*
 * Check and open the directory of @path, lock the state, and read it (a
 * missing file is an empty state; a corrupt one is logged and set aside).
 * NULL with *@err (caller frees) when the directory is unsafe, the state is
 * locked by another brummd (the message names its pid), or the file is
 * refused. Ownership: brm_persist_destroy(), after the loop has finished
 * (pending writes hold the loop alive). Context: start-up, before the loop
 * runs (it blocks on the file system).
 */
struct brm_persist *brm_persist_load(uv_loop_t *loop, const char *path, char **err);
void brm_persist_destroy(struct brm_persist *st);

/*
 * A failed write (disk full, out of descriptors) is retried after 1 s,
 * doubling per failed attempt to 30 s, until one succeeds; changes made
 * meanwhile neither start a write nor move the retry. Call this once
 * at shutdown, before the loop's last iteration: it closes the retry timer.
 * Context: loop thread.
 */
void brm_persist_shutdown(struct brm_persist *st);

/* Was @name stopped by request (and not started since)? */
bool brm_persist_stopped(const struct brm_persist *st, const char *name);
void brm_persist_set_stopped(struct brm_persist *st, const char *name, bool stopped);

/* The spec (JSON object text) @name was added with at runtime, or NULL. */
const char *brm_persist_added(const struct brm_persist *st, const char *name);
/* Record (@spec_json non-NULL) or forget a runtime-added process. */
void brm_persist_set_added(struct brm_persist *st, const char *name, const char *spec_json);

/* Forget everything about @name (it was removed). */
void brm_persist_forget(struct brm_persist *st, const char *name);

/* The names with a runtime-added spec, NULL-terminated, sorted.
 * Ownership: caller frees with brm_strv_free(). */
char **brm_persist_added_names(const struct brm_persist *st);

/*
 * Durable replies. The generation of the state in memory: every change
 * bumps it.
 */
uint64_t brm_persist_generation(const struct brm_persist *st);

/*
 * Hold @cmd's reply until the state as it is now (its current generation)
 * is on disk: replaces cmd->done with a gate that calls the original once a
 * write covering that generation has completed, at once when it already
 * has. When a write fails, or while the state file cannot be written, the
 * reply is replaced by a BRM_E_NOT_DURABLE error (the change stays applied
 * in memory and is written by the next successful retry). Call it while
 * executing @cmd, before cmd->done. Context: loop thread.
 */
struct brm_cmd;
void brm_persist_hold_reply(struct brm_persist *st, struct brm_cmd *cmd);

/*
 * The workers are about to go: answer every held reply now (with
 * BRM_E_NOT_DURABLE unless its write completed) and hold none from now on.
 * Context: loop thread.
 */
void brm_persist_close_replies(struct brm_persist *st);

/* The path of the state file (for messages). */
const char *brm_persist_path(const struct brm_persist *st);

/*
 * Process groups (daemon/leftovers.h). Record that @name's running process
 * leads process group @pgid, whose leader started at @start (ticks since
 * boot, /proc/PID/stat field 22), so that the next brummd can kill what is
 * left of it if this one dies; @pgid 0 forgets it. The file says which boot
 * the groups belong to.
 */
void brm_persist_set_group(struct brm_persist *st, const char *name, pid_t pgid,
			   unsigned long long start);

struct brm_persist_group {
	const char *name;     /* points into the state: valid until it changes */
	pid_t pgid;
	unsigned long long start;
};
/* Every recorded group, @n of them. Ownership: caller frees the array. */
struct brm_persist_group *brm_persist_groups(const struct brm_persist *st, size_t *n);
/* Forget every recorded group. */
void brm_persist_clear_groups(struct brm_persist *st);
/* The boot id the loaded file was written on (NULL: it named none), and
 * this boot's ("" when unknown). */
const char *brm_persist_loaded_boot_id(const struct brm_persist *st);
const char *brm_persist_boot_id(const struct brm_persist *st);

#endif
