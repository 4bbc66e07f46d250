/*
 * import.h — `brummctl import FILE`: another process manager's config
 * (supervisord, a Procfile, pm2) turned into brummd's JSON config.
 *
 * import.c reads the file, decides its kind, and prints the result; each
 * reader (import_supervisord.c, import_pm2.c, the Procfile's in import.c)
 * fills a struct imp with process specs as cJSON objects, a comment per
 * key converted approximately, and a note per setting that could not be
 * converted. A reader that meets an unusable file stops with imp_fail().
 *
 * Context: brummctl's only thread.
 */
#ifndef BRM_CLI_IMPORT_H
#define BRM_CLI_IMPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"

struct cJSON;

/* Input files are read up to this size; a larger one is refused. */
#define IMP_MAX_BYTES (4u << 20)
/* Objects and arrays of a pm2 file nest at most this deep. */
#define IMP_MAX_DEPTH 32

struct imp {
	const char *path;          /* the input, as given */
	const char *dir;           /* its directory, absolute (for %(here)s, cwd) */
	const char *text;          /* its contents, NUL-terminated */
	size_t len;
	struct cJSON *procs;       /* name -> spec, in order */
	struct cJSON *comments;    /* name -> {key -> comment} */
	struct brm_buf notes;      /* "FILE:LINE: ...\n" lines for stderr */
	struct brm_buf err;        /* the reason the input is unusable */
};

/* Note a setting that was not converted: "FILE:LINE: WHERE: MSG". */
void imp_note(struct imp *im, int line, const char *where, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Comment @key of process @name in the output (approximately converted). */
void imp_comment(struct imp *im, const char *name, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The input is unusable: "FILE:LINE[:COL]: MSG" (col 0: none). Returns -1. */
int imp_fail(struct imp *im, int line, int col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * A new spec for process @name (made a valid brummd name: other characters
 * become '-'; a rename is commented). NULL, with a note, when the name is
 * taken or empty. Ownership: the spec belongs to @im.
 */
struct cJSON *imp_proc(struct imp *im, const char *name, int line, char **final_name);

/*
 * Set "cmd" of @spec from the command line @cmd: an argv when it splits
 * like a simple shell word list, else the string with "shell": true.
 * @force_shell makes it the shell form regardless. @cmd is taken as
 * brummd text: escape literal braces first (imp_escape).
 */
void imp_set_cmd(struct cJSON *spec, const char *cmd, bool force_shell);

/* Split @s into shell-like words (quotes, backslashes); NULL-terminated,
 * caller frees with brm_strv_free. NULL when it needs a shell (operators,
 * expansions, an unterminated quote). */
char **imp_split(const char *s);

/* @s with every brummd placeholder "{x}" escaped as "{{x}". Caller frees. */
char *imp_escape(const char *s);

/* The line of byte offset @off of the input (1-based), and its column. */
int imp_line_of(const struct imp *im, size_t off, int *col);

int imp_supervisord(struct imp *im);
int imp_pm2(struct imp *im);

/* `brummctl import ARGS...` (argv[0] is "import"): the exit code. */
int cli_import_main(int argc, char **argv);

#endif
