/*
 * safedir.h — open a directory that root may write in without being
 * redirected: every component is walked with openat(O_NOFOLLOW) from "/",
 * and the directory handed back is one that nobody but root and a trusted
 * uid can change.
 *
 * The rule (systemd's chase() with CHASE_SAFE reasons the same way): a path
 * is safe when no step of it can be changed by an untrusted user.
 *  - A directory owned by an untrusted uid is unsafe: its owner can rename
 *    or replace whatever is below it.
 *  - A directory writable by group or others is unsafe, unless it is sticky
 *    (/tmp) and the next component is owned by a trusted uid (its entries
 *    cannot be renamed or removed by others then), or its group is root's.
 *  - A symbolic link is followed only when it is owned by a trusted uid
 *    (/var/run -> /run) and stands in a safe directory; its target is
 *    walked by the same rules. More than 16 links is -ELOOP.
 *  - The last directory must be owned by a trusted uid and must not be
 *    writable by group or others, sticky or not (the files brummd keeps in
 *    it are looked up by name).
 * Trusted uids are root and @o->uid (brummd's own, or brummctl's).
 *
 * Path operations relative to the returned descriptor (openat, unlinkat,
 * fchmodat, renameat, bind through /proc/self/fd/N/NAME) cannot then be
 * redirected, because nobody untrusted can change the directory.
 *
 * Context: any thread (it blocks on the file system: not on the loop thread
 * after start-up).
 */
#ifndef BRM_SAFEDIR_H
#define BRM_SAFEDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct brm_safedir_opts {
	uid_t uid;        /* trusted besides root */
	bool create;      /* create missing components (mode below) */
	mode_t mode;      /* for directories created: 0700, or 0750 with a group */
	gid_t gid;        /* (gid_t)-1, or the group created directories get and
			   * the last directory must have */
};

/*
 * Open @path (absolute) as an O_PATH|O_DIRECTORY descriptor after checking
 * every step as above.
 *
 * Returns the descriptor (close-on-exec), or a negative errno with a message
 * in @err naming the directory, its owner and mode and why it is refused:
 *   -EPERM      unsafe (owner, mode, or an untrusted link)
 *   -ENOTDIR    a component is not a directory
 *   -ELOOP      too many links
 *   other       from the system call, with its strerror
 */
int brm_safedir_open(const char *path, const struct brm_safedir_opts *o, char *err,
		     size_t errlen);

/*
 * Split @path into its directory (returned, caller frees with free()) and
 * its last component (*base points into @path). "/x" gives "/" and "x".
 * Returns NULL when @path has no '/' or ends with one.
 */
char *brm_path_split(const char *path, const char **base);

#endif
