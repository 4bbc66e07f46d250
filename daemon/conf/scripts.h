/*
 * scripts.h — processes from a project's own files: the config key
 * "scripts_from" names a package.json (its "scripts"), a Procfile (each
 * line a process) or a Makefile (its .PHONY targets), and each entry
 * becomes a process spec, as `npm run dev`, foreman or `make` would run it.
 *
 * package.json: the process NAME runs `PM run NAME` in the file's
 * directory, autostart off; PM is the "packageManager" field's tool, else
 * the one whose lockfile is there (bun, pnpm, yarn, npm), else npm.
 * Procfile: "NAME: COMMAND" runs `/bin/sh -c COMMAND` there, autostart on
 * (what a Procfile means). Makefile: `make TARGET` there, autostart off.
 * A name outside [A-Za-z0-9._:@-] has those characters turned into '-';
 * one still invalid, or taken by the config's "processes" (which win) or
 * an earlier file, is left out. Run as root, brummd runs what a file
 * defines as the file's owner ("user": its uid), never as root unless
 * root owns the file.
 *
 * Files are opened without following a symlink in their last component,
 * must be regular files of at most 1 MiB owned by their directory's owner
 * (a hard link to someone else's file is refused), and are read again at
 * each (re)load. Context: any thread (pure parsing plus the reads).
 */
#ifndef BRM_CONF_SCRIPTS_H
#define BRM_CONF_SCRIPTS_H

#include <stddef.h>

struct brm_report;
struct brm_proc_spec;
struct cJSON;

/*
 * Read the files of @v ("scripts_from": a path or an array of paths;
 * relative ones from the directory of @config_path, when that is a path)
 * and append a spec to *@procs (*@n of them, capacity grown as needed) for
 * each entry whose name none of them has yet. Problems go to @r under the
 * key path "scripts_from" (or "scripts_from[I]").
 * Ownership: the appended specs are the caller's.
 */
void brm_scripts_read(struct brm_report *r, const struct cJSON *v, const char *config_path,
		      struct brm_proc_spec ***procs, size_t *n);

#endif
