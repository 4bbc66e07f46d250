/*
 * topdraw.c — `brummctl top` on the screen: a title line, the column
 * titles (the sort column marked), as many rows as fit, a help line and the
 * status line. Everything is drawn again on every change: at 1000 rows only
 * the visible ones cost anything, and curses sends the terminal only what
 * differs.
 */
#include <curses.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/brummctl.h"
#include "cli/top.h"

enum { PAIR_GOOD = 1, PAIR_BUSY, PAIR_BAD, PAIR_TITLE };

/* Rows above and below the table. */
#define TOP_HEAD 2
#define TOP_FOOT 2

static const struct {
	const char *title;
	int width;                /* 0: the name, which takes what is left */
	bool right;               /* numbers are right-aligned */
} cols[TOP_NCOLS] = {
	[TOP_COL_NAME] = { "NAME", 0, false },
	[TOP_COL_STATE] = { "STATE", 9, false },
	[TOP_COL_HEALTH] = { "HEALTH", 9, false },
	[TOP_COL_PID] = { "PID", 7, true },
	[TOP_COL_UPTIME] = { "UPTIME", 7, true },
	[TOP_COL_RESTARTS] = { "RESTARTS", 8, true },
	[TOP_COL_CPU] = { "CPU%", 6, true },
	[TOP_COL_MEM] = { "MEM", 7, true },
};

#define HELP_LINE "q quit  s start  S stop  r restart  l log  / filter  1-8 <> sort  i rev  ? help"

const char *top_col_title(enum top_col c)
{
	return cols[c].title;
}

void top_draw_init(struct top *t)
{
	if (!t->color || !has_colors()) {
		t->color = false;
		return;
	}
	start_color();
	use_default_colors();
	init_pair(PAIR_GOOD, COLOR_GREEN, -1);
	init_pair(PAIR_BUSY, COLOR_YELLOW, -1);
	init_pair(PAIR_BAD, COLOR_RED, -1);
	init_pair(PAIR_TITLE, COLOR_CYAN, -1);
}

size_t top_draw_rows(void)
{
	return LINES > TOP_HEAD + TOP_FOOT ? (size_t)(LINES - TOP_HEAD - TOP_FOOT) : 0;
}

static int name_width(void)
{
	int w = COLS;

	for (size_t c = 1; c < TOP_NCOLS; c++)
		w -= cols[c].width + 1;
	if (w < 8)
		w = 8;
	return w > TOP_NAME_MAX ? TOP_NAME_MAX : w;
}

static int state_pair(const char *state)
{
	if (!strcmp(state, "running"))
		return PAIR_GOOD;
	if (!strcmp(state, "starting") || !strcmp(state, "stopping") ||
	    !strcmp(state, "waiting"))
		return PAIR_BUSY;
	if (!strcmp(state, "backoff") || !strcmp(state, "fatal"))
		return PAIR_BAD;
	return 0;
}

static int health_pair(const char *health)
{
	if (!strcmp(health, "healthy"))
		return PAIR_GOOD;
	if (!strcmp(health, "unhealthy"))
		return PAIR_BAD;
	return 0;
}

static void mem_text(char *b, size_t size, double v)
{
	if (v < 0)
		snprintf(b, size, "-");
	else if (v < 1024.0 * 1024)
		snprintf(b, size, "%.0fK", v / 1024);
	else if (v < 1024.0 * 1024 * 1024)
		snprintf(b, size, "%.1fM", v / (1024.0 * 1024));
	else
		snprintf(b, size, "%.1fG", v / (1024.0 * 1024 * 1024));
}

/* The text of cell @c of @p into @b. */
static const char *cell(const struct top_proc *p, enum top_col c, char *b, size_t size)
{
	switch (c) {
	case TOP_COL_NAME:
		return p->name;
	case TOP_COL_STATE:
		return p->state;
	case TOP_COL_HEALTH:
		return p->health[0] ? p->health : "-";
	case TOP_COL_PID:
		if (p->pid < 0)
			return "-";
		snprintf(b, size, "%ld", p->pid);
		return b;
	case TOP_COL_UPTIME:
		return p->uptime < 0 ? "-" : cli_human_secs(p->uptime, b, size);
	case TOP_COL_RESTARTS:
		snprintf(b, size, "%ld", p->restarts < 0 ? 0 : p->restarts);
		return b;
	case TOP_COL_CPU:
		if (p->cpu < 0)
			return "-";
		snprintf(b, size, "%.1f", p->cpu);
		return b;
	case TOP_COL_MEM:
		mem_text(b, size, p->rss);
		return b;
	case TOP_NCOLS:
		break;
	}
	return "";
}

/* Put @s in a field of @w columns at (@y, @x), cut or padded, and cut at
 * the screen's right edge (curses would wrap it onto the next row). */
static void field(int y, int x, int w, bool right, const char *s)
{
	int len = (int)strlen(s);

	if (x + w > COLS)
		w = COLS - x;
	if (len > w)
		len = w;
	if (right)
		mvprintw(y, x, "%*.*s", w, len, s);
	else
		mvprintw(y, x, "%-*.*s", w, len, s);
}

static void draw_row(const struct top *t, int y, const struct top_proc *p, bool selected)
{
	int x = 0, nw = name_width();
	char b[32];

	if (selected)
		attron(A_REVERSE);
	mvhline(y, 0, ' ', COLS);
	for (size_t c = 0; c < TOP_NCOLS && x < COLS; c++) {
		int w = c == TOP_COL_NAME ? nw : cols[c].width;
		int pair = c == TOP_COL_STATE ? state_pair(p->state)
			: c == TOP_COL_HEALTH ? health_pair(p->health) : 0;

		if (t->color && pair)
			attron(COLOR_PAIR(pair));
		field(y, x, w, cols[c].right, cell(p, (enum top_col)c, b, sizeof(b)));
		if (t->color && pair)
			attroff(COLOR_PAIR(pair));
		x += w + 1;
	}
	if (selected)
		attroff(A_REVERSE);
}

static void draw_titles(const struct top *t)
{
	int x = 0, nw = name_width();
	char title[16];

	attron(A_BOLD | A_REVERSE);
	mvhline(1, 0, ' ', COLS);
	for (size_t c = 0; c < TOP_NCOLS && x < COLS; c++) {
		int w = c == TOP_COL_NAME ? nw : cols[c].width;

		snprintf(title, sizeof(title), "%s%s", cols[c].title,
			 c == t->sort ? (t->desc ? "v" : "^") : "");
		field(1, x, w, cols[c].right, title);
		x += w + 1;
	}
	attroff(A_BOLD | A_REVERSE);
}

static void draw_top_line(const struct top *t)
{
	char line[256], clock[16];
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
	snprintf(line, sizeof(line), "brummctl top%s  %zu processes%s, %zu shown  sort %s %s%s%s",
		 t->connected ? "" : " [disconnected]",
		 t->n, t->truncated ? " (more not shown)" : "", t->nview,
		 cols[t->sort].title, t->desc ? "desc" : "asc",
		 t->filter[0] ? "  filter " : "", t->filter);
	if (t->color)
		attron(COLOR_PAIR(PAIR_TITLE));
	mvaddnstr(0, 0, line, COLS);
	if (t->color)
		attroff(COLOR_PAIR(PAIR_TITLE));
	if (COLS > (int)strlen(line) + 10)
		mvaddstr(0, COLS - 8, clock);
}

static void harmless(const char *s, char *out, size_t size);

static void draw_status(const struct top *t)
{
	char line[400];
	int pair = 0;

	if (t->mode == TOP_MODE_FILTER)
		snprintf(line, sizeof(line), "filter: %s_  (Enter keeps it, Esc clears it)",
			 t->filter);
	else if (t->mode == TOP_MODE_CONFIRM)
		snprintf(line, sizeof(line), "%s %s? (y/n)", t->confirm_method, t->confirm_name);
	else {
		harmless(t->msg, line, sizeof(line));
		pair = t->msg_error ? PAIR_BAD : 0;
	}
	if (t->mode == TOP_MODE_CONFIRM)
		attron(A_BOLD);
	if (t->color && pair)
		attron(COLOR_PAIR(pair));
	mvaddnstr(LINES - 1, 0, line, COLS);
	if (t->color && pair)
		attroff(COLOR_PAIR(pair));
	attroff(A_BOLD);
}

static void draw_help(const struct top *t)
{
	static const char *const lines[] = {
		"brummctl top: keys",
		"",
		"  Up/Down, k/j     select a process",
		"  PgUp/PgDn        a page up or down",
		"  Home/End, g/G    the first or the last process",
		"  1-8              sort by column N (again: reverse)",
		"  < >              sort by the column left or right",
		"  i                reverse the order",
		"  /                filter by name (Enter keeps, Esc clears)",
		"  s                start the selected process",
		"  S                stop it (asks y/n)",
		"  r                restart it (asks y/n)",
		"  l                follow its log (any key returns)",
		"  q                quit",
		"",
		"columns: 1 NAME  2 STATE  3 HEALTH  4 PID  5 UPTIME  6 RESTARTS  7 CPU%  8 MEM",
		"",
		"press any key",
	};

	(void)t;
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]) && (int)i < LINES; i++)
		mvaddnstr((int)i, 0, lines[i], COLS);
}

void top_draw(struct top *t)
{
	size_t rows = top_draw_rows();

	erase();
	if (t->mode == TOP_MODE_HELP) {
		draw_help(t);
		refresh();
		return;
	}
	/* Keep the selection on the screen. */
	if (t->sel < t->first)
		t->first = t->sel;
	if (rows && t->sel >= t->first + rows)
		t->first = t->sel - rows + 1;
	if (t->first + rows > t->nview)
		t->first = t->nview > rows ? t->nview - rows : 0;
	draw_top_line(t);
	draw_titles(t);
	for (size_t i = 0; i < rows && t->first + i < t->nview; i++)
		draw_row(t, TOP_HEAD + (int)i, &t->procs[t->view[t->first + i]],
			 t->first + i == t->sel);
	if (!t->nview && rows)
		mvaddnstr(TOP_HEAD, 0, t->n ? "(no process matches the filter)" : "(no processes)",
			  COLS);
	if (LINES >= TOP_HEAD + TOP_FOOT) {
		attron(A_DIM);
		mvaddnstr(LINES - 2, 0, HELP_LINE, COLS);
		attroff(A_DIM);
	}
	draw_status(t);
	refresh();
}

/* @s without escape sequences and control bytes, into @out (@size). */
static void harmless(const char *s, char *out, size_t size)
{
	size_t o = 0;

	while (*s && o + 1 < size) {
		unsigned char ch = (unsigned char)*s++;

		if (ch == 0x1b) {
			if (*s == '[') {
				for (s++; *s && !(*s >= 0x40 && *s <= 0x7e); s++)
					;
				if (*s)
					s++;
			} else if (*s) {
				s++;
			}
			continue;
		}
		out[o++] = ch < 0x20 || ch == 0x7f ? ' ' : (char)ch;
	}
	out[o] = '\0';
}

void top_draw_logs(const char *title, char *const *lines, size_t n)
{
	size_t rows = LINES > 1 ? (size_t)LINES - 1 : 0, from = n > rows ? n - rows : 0;
	char buf[1024];

	erase();
	attron(A_REVERSE);
	mvhline(0, 0, ' ', COLS);
	mvaddnstr(0, 0, title, COLS);
	attroff(A_REVERSE);
	for (size_t i = from; i < n; i++) {
		harmless(lines[i], buf, sizeof(buf));
		mvaddnstr(1 + (int)(i - from), 0, buf, COLS);
	}
	refresh();
}
