/*
 * pathwalk.h — reach the directory of a file brummd opens for a process
 * (log_file, env_file) without being redirected by a link the process's
 * user planted. The reasoning is in the essay at the top of daemon/sup/logfile.c.
 *
 * Contract of brm_pathwalk_dir(@dir):
 *  - The walk starts at "/" when @dir is absolute, else at "." (brummd's
 *    working directory; "" is "." itself). The start is not checked: "/" is
 *    root's, and the working directory was chosen by whoever started brummd.
 *  - Every component is opened with openat(O_PATH | O_NOFOLLOW); "." is
 *    skipped, ".." is opened like any name (it is never a link), a component
 *    longer than NAME_MAX is ENAMETOOLONG, one that is neither a directory
 *    nor a link is ENOTDIR.
 *  - A symbolic link is followed only when it is trusted: the link and the
 *    directory holding it are owned by root or tr->self (never by the
 *    process's user), and that directory is not writable by group or others
 *    unless it is sticky. Its target (read with readlinkat) replaces it in
 *    the walk; an absolute target restarts at "/". More than
 *    BRM_PATHWALK_MAX_LINKS links is ELOOP.
 *  - The directory reached must be owned by root, tr->self or the process's
 *    user (tr->user, when tr->have_user), and must not be writable by others
 *    unless it is sticky.
 *
 * The caller gets an O_PATH | O_DIRECTORY descriptor (close-on-exec; the
 * caller closes it) of that directory and opens the final component of its
 * path relative to it, itself, with O_NOFOLLOW; checking that component
 * ("", "." and "..") is the caller's. On refusal the caller gets -1 and the
 * reason in @why, from which it words its own message.
 *
 * Context: any thread; it blocks on the file system (logfile.c's writer
 * thread, and envfile.c on the loop thread just before a spawn).
 */
#ifndef BRM_PATHWALK_H
#define BRM_PATHWALK_H

#include <limits.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

#define BRM_PATHWALK_MAX_LINKS 40

/* Who is trusted. */
struct brm_pathwalk_trust {
	uid_t self;           /* brummd's effective uid (trusted like root) */
	bool have_user;
	uid_t user;           /* the process's user, with have_user: may own the
			       * directory reached, never a link on the way */
};

enum brm_pathwalk_stop {
	BRM_PATHWALK_ERRNO,   /* a system call failed, or see the contract: err */
	BRM_PATHWALK_LINK,    /* an untrusted link: shown, dir, link */
	BRM_PATHWALK_OWNER,   /* the directory reached has an untrusted owner: dir */
	BRM_PATHWALK_MODE,    /* it is writable by others and not sticky: dir */
};

struct brm_pathwalk_why {
	enum brm_pathwalk_stop stop;
	int err;              /* BRM_PATHWALK_ERRNO: the errno */
	char shown[PATH_MAX]; /* BRM_PATHWALK_LINK: the walk up to and including
			       * the link (what is left of @dir after the links
			       * followed before it), cut to PATH_MAX - 1 */
	struct stat dir;      /* the directory holding the link, or reached */
	struct stat link;     /* BRM_PATHWALK_LINK: the link (lstat) */
};

/* Root, tr->self, or the process's user (when known). */
bool brm_pathwalk_owner_ok(const struct brm_pathwalk_trust *tr, uid_t uid);

/*
 * Open the directory @dir as the contract above says. Returns the
 * descriptor, or -1 with @why filled in.
 */
int brm_pathwalk_dir(const char *dir, const struct brm_pathwalk_trust *tr,
		     struct brm_pathwalk_why *why);

#endif
