/*
 * top.h — `brummctl top`, a live view of the processes, in two files:
 *
 *   top.c      the connection to brummd and its reconnects, the loop,
 *              keys, the log view
 *   topmodel.c the rows (from `status`, changed by `events`) and the view
 *   topdraw.c  drawing them with curses
 *
 * Context: brummctl's only thread, between newterm() and endwin().
 */
#ifndef BRM_CLI_TOP_H
#define BRM_CLI_TOP_H

#include <stdbool.h>
#include <stddef.h>

/* A process name is at most 64 bytes (proto: max_name_len). */
#define TOP_NAME_MAX 64
/* The most rows top keeps: a reply with more is cut there (it says so). */
#define TOP_MAX_PROCS 100000
/* The longest filter. */
#define TOP_FILTER_MAX 64

/* One row. Numbers are negative when the snapshot had none. */
struct top_proc {
	char name[TOP_NAME_MAX + 1];
	char state[16];
	char health[16];          /* "" without a health check */
	long pid;
	double uptime;
	long restarts;
	double cpu;               /* cpu_percent */
	double rss;               /* rss_bytes */
	double since;             /* the last state change (status or event) */
};

/* The columns, in their order on screen; keys 1-8 sort by them. */
enum top_col {
	TOP_COL_NAME, TOP_COL_STATE, TOP_COL_HEALTH, TOP_COL_PID, TOP_COL_UPTIME,
	TOP_COL_RESTARTS, TOP_COL_CPU, TOP_COL_MEM, TOP_NCOLS
};

enum top_mode {
	TOP_MODE_LIST,            /* the table */
	TOP_MODE_FILTER,          /* typing after '/' */
	TOP_MODE_CONFIRM,         /* "stop web? (y/n)" */
	TOP_MODE_HELP,            /* '?' */
};

struct top {
	struct top_proc *procs;   /* unordered; owned */
	size_t n, cap;
	size_t *view;             /* indexes into procs: filtered, sorted; owned */
	size_t nview;
	enum top_col sort;
	bool desc;
	char filter[TOP_FILTER_MAX + 1];
	size_t sel;               /* selected row, an index into view */
	size_t first;             /* the view's row drawn at the top */
	char sel_name[TOP_NAME_MAX + 1];   /* keeps the selection across sorts */
	enum top_mode mode;
	const char *confirm_method;        /* "stop" or "restart" */
	char confirm_name[TOP_NAME_MAX + 1];
	char msg[320];            /* the status line */
	bool msg_error;
	bool connected;
	bool truncated;           /* brummd has more than TOP_MAX_PROCS */
	bool color;
};

/* topmodel.c */

struct cJSON;

/* Every row anew from a `status` result ({"processes": [SNAP...]}). */
void top_model_from_status(struct top *t, const struct cJSON *result);
/*
 * One EVENT (proto/PROTOCOL.md "Events") applied to its row: a new name
 * adds one, "removed" drops it; an event older than the row's "since" is
 * ignored (it was queued behind the status that already shows more).
 */
void top_model_apply_event(struct top *t, const struct cJSON *ev);
/* Filter and sort the rows into t->view; the selection follows its name. */
void top_view_update(struct top *t);
/* Select row @i of the view (clamped to its end). */
void top_select(struct top *t, size_t i);
/* Sort by @c; by the same column again: the other way round. */
void top_sort_by(struct top *t, enum top_col c);
/* Free the rows and the view. */
void top_finish(struct top *t);

/* The string or number member @key of @o, or NULL / @dflt. */
const char *top_jstr(const struct cJSON *o, const char *key);
double top_jnum(const struct cJSON *o, const char *key, double dflt);
/* @src (NULL: "") into @dst, cut to @size. */
void top_copy(char *dst, size_t size, const char *src);

/* topdraw.c */

/* Start curses colours when @t->color (and the terminal has them). */
void top_draw_init(struct top *t);
/* Draw the whole screen for @t's mode. */
void top_draw(struct top *t);
/* How many table rows fit on the screen now. */
size_t top_draw_rows(void);
/* Column @c's title, as the help and the sort line say it. */
const char *top_col_title(enum top_col c);
/*
 * The log view: title on the first row, then the last lines of @lines
 * (@n of them, oldest first) that fit, each made harmless (control bytes
 * and escape sequences dropped).
 */
void top_draw_logs(const char *title, char *const *lines, size_t n);

#endif
