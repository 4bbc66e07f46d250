/*
 * top.c — `brummctl top`: a live table of the processes.
 *
 * One connection to brummd carries both sources: an `events` subscription
 * (a state or health change shows at once) and, once a second, one
 * `status` with stats (CPU and memory, uptime, restarts; and the full list,
 * so a missed event heals within a second). Nothing else polls: the loop
 * sleeps in poll() on the socket and the terminal until a key, an event or
 * the next second. An event older than the row's last status (its "since")
 * is dropped: one that came before a status reply but is read after it
 * must not roll the row back.
 *
 * The actions (start, stop, restart) go on the same connection without
 * waiting; their effect arrives as events. An error reply (a reader's
 * "not permitted") goes to the status line. When brummd goes away, the
 * table stays with a message and top tries to connect again every second.
 * The log view (`l`) follows one process's log on a connection of its own,
 * closed when it returns.
 */
#include <curses.h>
#include <errno.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli/brummctl.h"
#include "cli/top.h"
#include "lib/client.h"
#include "lib/util.h"

/* The log view keeps this many lines (more than any screen shows). */
#define TOP_LOG_KEEP 1000
#define TOP_TICK_MS 1000

struct top_ctx {
	struct top t;
	const char *path;
	struct brm_client **c;    /* NULL *c: disconnected */
};

static volatile sig_atomic_t quit_requested;

static void on_quit_signal(int sig)
{
	(void)sig;
	quit_requested = 1;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_msg(struct top *t, bool error, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_msg(struct top *t, bool error, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->msg, sizeof(t->msg), fmt, ap);
	va_end(ap);
	t->msg_error = error;
}

/* ---- talking to brummd ---- */

static void lost(struct top_ctx *x)
{
	set_msg(&x->t, true, "lost brummd; reconnecting every second (%s)",
		brm_client_strerror(*x->c));
	brm_client_destroy(*x->c);
	*x->c = NULL;
	x->t.connected = false;
}

/* One status with stats; the model from it. 0, or -1 with the message set. */
static int refresh_status(struct top_ctx *x)
{
	struct brm_rpc_err err = BRM_RPC_ERR_INIT;
	cJSON *params = cJSON_CreateObject(), *result = NULL;
	int r;

	if (!params || !cJSON_AddTrueToObject(params, "stats"))
		brm_oom(0);
	r = brm_client_call(*x->c, "status", params, &result, &err);
	if (r < 0) {
		lost(x);
		return -1;
	}
	if (r > 0) {
		set_msg(&x->t, true, "status: %s", err.message);
		brm_rpc_err_finish(&err);
		return -1;
	}
	top_model_from_status(&x->t, result);
	cJSON_Delete(result);
	return 0;
}

/* Subscribe to new events. 0; 1 with *@err (brummd's error); -1: lost. */
static int subscribe(struct brm_client *c, struct brm_rpc_err *err)
{
	cJSON *result = NULL;
	int r = brm_client_call(c, "events", NULL, &result, err);

	cJSON_Delete(result);
	return r < 0 ? -1 : r;
}

static void try_reconnect(struct top_ctx *x)
{
	struct brm_rpc_err err = BRM_RPC_ERR_INIT;
	char *msg = NULL;
	int r;

	*x->c = brm_client_connect(x->path, &msg);
	if (!*x->c) {
		set_msg(&x->t, true, "brummd is gone; reconnecting every second (%s)", msg);
		free(msg);
		return;
	}
	r = subscribe(*x->c, &err);
	if (r < 0) {
		lost(x);
		return;
	}
	x->t.connected = true;
	if (r > 0) {
		set_msg(&x->t, true, "events: %s", err.message);
		brm_rpc_err_finish(&err);
	} else {
		set_msg(&x->t, false, "connected to brummd again");
	}
	refresh_status(x);
}

/* Start, stop or restart the selected process, without waiting. */
static void act(struct top_ctx *x, const char *method, const char *name)
{
	struct brm_rpc_err err = BRM_RPC_ERR_INIT;
	cJSON *params = cJSON_CreateObject(), *result = NULL;
	int r;

	if (!*x->c) {
		set_msg(&x->t, true, "%s %s: not connected to brummd", method, name);
		cJSON_Delete(params);
		return;
	}
	if (!params || !cJSON_AddStringToObject(params, "name", name))
		brm_oom(0);
	r = brm_client_call(*x->c, method, params, &result, &err);
	if (r < 0) {
		lost(x);
	} else if (r > 0) {
		set_msg(&x->t, true, "%s %s: %s", method, name, err.message);
		brm_rpc_err_finish(&err);
	} else {
		set_msg(&x->t, false, "%s %s: done", method, name);
	}
	cJSON_Delete(result);
}

/* Every message already on the connection, applied. */
static void drain(struct top_ctx *x)
{
	bool refresh = false;

	while (*x->c) {
		cJSON *msg = NULL;
		const char *m;
		int r = brm_client_next(*x->c, &msg, 0);

		if (r == -ETIMEDOUT)
			break;
		if (r < 0) {
			lost(x);
			break;
		}
		m = top_jstr(msg, "method");
		if (m && !strcmp(m, "events"))
			top_model_apply_event(&x->t, cJSON_GetObjectItemCaseSensitive(msg, "params"));
		else if (m && !strcmp(m, "events.gap"))
			refresh = true;   /* the status heals what was missed */
		cJSON_Delete(msg);
	}
	if (refresh && *x->c)
		refresh_status(x);
}

/* ---- the log view ---- */

static void log_push(char **lines, size_t *n, char *s)
{
	if (*n == TOP_LOG_KEEP) {
		free(lines[0]);
		memmove(lines, lines + 1, (TOP_LOG_KEEP - 1) * sizeof(*lines));
		(*n)--;
	}
	lines[(*n)++] = s;
}

static void log_push_line(char **lines, size_t *n, const cJSON *l)
{
	const char *stream = top_jstr(l, "stream"), *text = top_jstr(l, "line");

	log_push(lines, n, brm_xasprintf("%s%s", stream && !strcmp(stream, "stderr") ? "! " :
					 stream && !strcmp(stream, "brummd") ? "# " : "",
					 text ? text : ""));
}

/* Follow @name's log full screen until a key. */
static void log_view(struct top_ctx *x, const char *name)
{
	struct brm_rpc_err err = BRM_RPC_ERR_INIT;
	char **lines = brm_xcalloc(TOP_LOG_KEEP, sizeof(*lines)), *cerr = NULL;
	char title[256];
	size_t n = 0;
	struct brm_client *c = brm_client_connect(x->path, &cerr);
	cJSON *params, *result = NULL;
	const cJSON *l;
	int r;

	snprintf(title, sizeof(title), "log of %s (any key returns)", name);
	if (!c) {
		snprintf(title, sizeof(title), "log of %s: %s (any key returns)", name, cerr);
		goto out_wait;
	}
	params = cJSON_CreateObject();
	if (!params || !cJSON_AddStringToObject(params, "name", name) ||
	    !cJSON_AddNumberToObject(params, "lines", LINES > 1 ? LINES - 1 : 1) ||
	    !cJSON_AddTrueToObject(params, "follow"))
		brm_oom(0);
	r = brm_client_call(c, "logs", params, &result, &err);
	if (r != 0) {
		snprintf(title, sizeof(title), "log of %s: %s (any key returns)", name,
			 r > 0 ? err.message : brm_client_strerror(c));
		goto out_wait;
	}
	cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(result, "lines"))
		log_push_line(lines, &n, l);
	for (;;) {
		struct pollfd pfd[2] = { { 0, POLLIN, 0 }, { brm_client_fd(c), POLLIN, 0 } };
		cJSON *msg = NULL;
		int ch;

		while (c && (r = brm_client_next(c, &msg, 0)) != -ETIMEDOUT) {
			const char *m;

			if (r < 0) {
				snprintf(title, sizeof(title), "log of %s: %s (any key returns)",
					 name, brm_client_strerror(c));
				brm_client_destroy(c);
				c = NULL;
				break;
			}
			m = top_jstr(msg, "method");
			if (m && !strcmp(m, "logs"))
				log_push_line(lines, &n, cJSON_GetObjectItemCaseSensitive(msg, "params"));
			else if (m && !strcmp(m, "logs.gap"))
				log_push(lines, &n, brm_xasprintf("-- %.0f lines missed --",
					 top_jnum(cJSON_GetObjectItemCaseSensitive(msg, "params"),
					      "missed", 0)));
			cJSON_Delete(msg);
		}
		top_draw_logs(title, lines, n);
		if (quit_requested)
			break;
		if (!c)
			goto out_wait;
		poll(pfd, 2, -1);
		while ((ch = getch()) != ERR)
			if (ch != KEY_RESIZE)
				goto out_close;
	}
	goto out_close;
out_wait:
	for (;;) {
		struct pollfd pfd = { 0, POLLIN, 0 };
		int ch;

		top_draw_logs(title, lines, n);
		if (quit_requested)
			break;
		poll(&pfd, 1, -1);
		while ((ch = getch()) != ERR)
			if (ch != KEY_RESIZE)
				goto out_close;
	}
out_close:
	cJSON_Delete(result);
	brm_rpc_err_finish(&err);
	brm_client_destroy(c);
	free(cerr);
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
}

/* ---- keys ---- */

static void filter_key(struct top *t, int ch)
{
	size_t len = strlen(t->filter);

	if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
		t->mode = TOP_MODE_LIST;
	} else if (ch == 27) {
		t->filter[0] = '\0';
		t->mode = TOP_MODE_LIST;
	} else if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
		if (len)
			t->filter[len - 1] = '\0';
	} else if (ch > 0x20 && ch < 0x7f && len < TOP_FILTER_MAX) {
		t->filter[len] = (char)ch;
		t->filter[len + 1] = '\0';
	}
}

/* One key of the table; false: quit. */
static bool list_key(struct top_ctx *x, int ch)
{
	struct top *t = &x->t;
	size_t page = top_draw_rows() ? top_draw_rows() : 1;
	const char *sel = t->nview ? t->procs[t->view[t->sel]].name : NULL;

	switch (ch) {
	case 'q':
		return false;
	case KEY_UP: case 'k':
		top_select(t, t->sel ? t->sel - 1 : 0);
		break;
	case KEY_DOWN: case 'j':
		top_select(t, t->sel + 1);
		break;
	case KEY_PPAGE:
		top_select(t, t->sel > page ? t->sel - page : 0);
		break;
	case KEY_NPAGE:
		top_select(t, t->sel + page);
		break;
	case KEY_HOME: case 'g':
		top_select(t, 0);
		break;
	case KEY_END: case 'G':
		top_select(t, t->nview ? t->nview - 1 : 0);
		break;
	case '1': case '2': case '3': case '4': case '5': case '6': case '7': case '8':
		top_sort_by(t, (enum top_col)(ch - '1'));
		break;
	case '<':
		top_sort_by(t, t->sort ? t->sort - 1 : TOP_NCOLS - 1);
		break;
	case '>':
		top_sort_by(t, (t->sort + 1) % TOP_NCOLS);
		break;
	case 'i':
		t->desc = !t->desc;
		break;
	case '/':
		t->mode = TOP_MODE_FILTER;
		break;
	case '?':
		t->mode = TOP_MODE_HELP;
		break;
	case 's':
		if (sel)
			act(x, "start", sel);
		break;
	case 'S':
	case 'r':
		if (sel) {
			t->confirm_method = ch == 'S' ? "stop" : "restart";
			top_copy(t->confirm_name, sizeof(t->confirm_name), sel);
			t->mode = TOP_MODE_CONFIRM;
		}
		break;
	case 'l':
		if (sel) {
			char name[TOP_NAME_MAX + 1];

			top_copy(name, sizeof(name), sel);
			log_view(x, name);
			if (*x->c)
				refresh_status(x);
		}
		break;
	default:
		break;
	}
	return true;
}

static bool handle_key(struct top_ctx *x, int ch)
{
	struct top *t = &x->t;

	if (ch == KEY_RESIZE)
		return true;
	switch (t->mode) {
	case TOP_MODE_FILTER:
		filter_key(t, ch);
		break;
	case TOP_MODE_CONFIRM:
		t->mode = TOP_MODE_LIST;
		if (ch == 'y' || ch == 'Y')
			act(x, t->confirm_method, t->confirm_name);
		else
			set_msg(t, false, "%s %s: cancelled", t->confirm_method, t->confirm_name);
		break;
	case TOP_MODE_HELP:
		t->mode = TOP_MODE_LIST;
		break;
	case TOP_MODE_LIST:
		return list_key(x, ch);
	}
	return true;
}

/* ---- the loop ---- */

static void loop(struct top_ctx *x)
{
	long long next_tick = now_ms() + TOP_TICK_MS;

	for (;;) {
		struct pollfd pfd[2] = { { 0, POLLIN, 0 }, { -1, POLLIN, 0 } };
		long long wait;
		int ch;

		drain(x);
		top_view_update(&x->t);
		top_draw(&x->t);
		wait = next_tick - now_ms();
		if (wait > 0 && !quit_requested) {
			pfd[1].fd = *x->c ? brm_client_fd(*x->c) : -1;
			poll(pfd, 2, (int)wait);
		}
		while ((ch = getch()) != ERR) {
			if (!handle_key(x, ch))
				return;
			top_view_update(&x->t);
		}
		if (quit_requested)
			return;
		if (now_ms() >= next_tick) {
			next_tick = now_ms() + TOP_TICK_MS;
			if (*x->c)
				refresh_status(x);
			else
				try_reconnect(x);
		}
	}
}

int cli_top(const struct cli_opts *o, const char *path, struct brm_client **c)
{
	struct brm_rpc_err err = BRM_RPC_ERR_INIT;
	struct top_ctx x = { .path = path, .c = c };
	struct sigaction sa = { .sa_handler = on_quit_signal };
	SCREEN *scr;
	int r;

	/* The first subscription and status before the screen: an error
	 * then is printed and exits as every command's does. */
	r = subscribe(*c, &err);
	if (r > 0) {
		fprintf(stderr, "brummctl: %s\n", err.message);
		brm_rpc_err_finish(&err);
		return CLI_EXIT_ERROR;
	}
	if (r < 0) {
		fprintf(stderr, "brummctl: lost brummd at '%s': %s\n", path,
			brm_client_strerror(*c));
		return CLI_EXIT_CONNECT;
	}
	if (refresh_status(&x) < 0) {
		/* Lost (lost() closed *c) or brummd's error. */
		fprintf(stderr, "brummctl: %s\n", *c ? x.t.msg : "lost brummd");
		r = *c ? CLI_EXIT_ERROR : CLI_EXIT_CONNECT;
		goto out_free;
	}
	x.t.connected = true;
	x.t.color = cli_want_color() && !o->no_color;

	setlocale(LC_ALL, "");
	scr = newterm(NULL, stdout, stdin);
	if (!scr) {
		fprintf(stderr, "brummctl: top: cannot drive terminal type '%s'\n",
			getenv("TERM") ? getenv("TERM") : "(TERM unset)");
		r = CLI_EXIT_USAGE;
		goto out_free;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	top_draw_init(&x.t);
	set_msg(&x.t, false, "connected to brummd at '%s'; ? for help", path);
	loop(&x);
	endwin();
	delscreen(scr);
	r = CLI_EXIT_OK;
out_free:
	top_finish(&x.t);
	return r;
}
