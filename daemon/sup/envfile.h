/*
 * envfile.h — "env_file": environment variables from files in systemd's
 * EnvironmentFile= syntax, read each time the process starts.
 *
 *   # a comment, as is a line starting with ';'
 *   KEY=VALUE              whitespace around KEY and before VALUE is dropped,
 *                          and after an unquoted VALUE; \ escapes a character
 *   KEY="a \"b\" $c"       double quotes: \" \\ \$ \` are escapes, may span lines
 *   KEY='single quoted'    taken as written, may span lines
 *   KEY=long \
 *       continued          a backslash at the end of a line joins the next
 *
 * A path with a '-' first is optional: a missing file is skipped.
 *
 * brummd runs as root and the files are often in a directory the process's
 * user owns, so a file is opened the way log files are (daemon/sup/logfile.c):
 * the path is walked from / one component at a time without following a
 * symbolic link that root (or brummd's own uid) did not make; the directory
 * reached and the file must be owned by root, brummd's uid or the
 * process's user, the directory not writable by everyone unless sticky,
 * and the file must be a regular file with one link, not writable by
 * everyone, at most BRM_ENVFILE_MAX_BYTES. Otherwise a user could have
 * brummd read /etc/shadow into the environment of a process of theirs, or
 * set LD_PRELOAD for a process of root's.
 *
 * Context: any thread; it blocks on the file system and on NSS (the
 * process's user is looked up), as spawning does.
 */
#ifndef BRM_ENVFILE_H
#define BRM_ENVFILE_H

#include <stddef.h>

#define BRM_ENVFILE_MAX_BYTES (1u << 20)

/*
 * Read @files (NULL-terminated, as brm_proc_spec.env_file) for a process
 * that runs as @user (name or numeric id; NULL: brummd's own uid).
 * Returns 0 and *@out, the variables as "KEY=VALUE" in the order read (a
 * later one of the same KEY is meant to win), or -errno with a message in
 * @err naming the file and, for syntax, its line:
 *   env_file '/etc/app.env' line 3: expected KEY=VALUE, got "oops"
 * Ownership: caller frees *@out with brm_strv_free().
 */
int brm_envfile_read(char *const *files, const char *user, char ***out, char *err,
		     size_t errlen);

/*
 * Parse @len bytes of @text (EnvironmentFile syntax), appending "KEY=VALUE"
 * entries to the NULL-terminated *@vars (which may be NULL; *@n counts
 * them). @name is the file's name in messages. Returns 0, or -EINVAL with
 * a message in @err. Ownership: *@vars stays the caller's.
 */
int brm_envfile_parse(const char *text, size_t len, const char *name, char ***vars,
		      size_t *n, char *err, size_t errlen);

#endif
