/*
 * ports.h — the TCP ports a supervised process listens on, read from /proc
 * on the worker that answers `status` with "ports": true (never the loop
 * thread; nothing is read while nobody asks). Display only: nothing acts
 * on a port.
 *
 * The members are those of procstat.h: the process group the main process
 * leads (the main process and its descendants still in its group). Each
 * member's sockets are the "socket:[INODE]" links of /proc/PID/fd; a
 * socket is listening when its inode is a LISTEN (state 0A) line of
 * /proc/net/tcp or /proc/net/tcp6 — read once per query, or, for a main
 * process in another network namespace than brummd's, its own
 * /proc/PID/net/tcp*, read once per namespace per query.
 *
 * Context: any thread but the loop thread; allocates.
 */
#ifndef BRM_PORTS_H
#define BRM_PORTS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "lib/buf.h"

struct brm_registry;

/* A process's ports, as the JSON array SNAP's "ports" holds. */
struct brm_ports {
	pid_t pid;
	char *json;          /* "[...]"; NULL: gone or unreadable (null) */
};

/* The ports of a status request: one per pid, sorted by pid. */
struct brm_ports_set {
	struct brm_ports *v;
	size_t n, cap;
};

/* The most ports one SNAP lists (and listening sockets kept per netns). */
#define BRM_PORTS_MAX 256
#define BRM_PORTS_MAX_LISTEN 65536

/*
 * Fill @set with the ports of @names (@n of them; every process when
 * @names is NULL), reading /proc outside any RCU read-side section.
 * Context: a registered RCU reader, not inside a read-side section.
 */
void brm_ports_collect(struct brm_registry *reg, const char *const *names, size_t n,
		       struct brm_ports_set *set);
const struct brm_ports *brm_ports_find(const struct brm_ports_set *set, pid_t pid);
void brm_ports_set_finish(struct brm_ports_set *set);

/* Append ,"ports":[...] (or null when @p is NULL or unread) to the SNAP just
 * written to @out, replacing its closing brace. */
void brm_ports_json(struct brm_buf *out, const struct brm_ports *p);

/*
 * One line of /proc/net/tcp or tcp6 (NUL-terminated, without its newline):
 * true when it is a LISTEN socket, with its inode, port and address
 * (@addr: 4 bytes for IPv4, 16 for IPv6, network order; @len set). For
 * tests.
 */
bool brm_ports_parse_line(const char *line, unsigned long long *inode, unsigned *port,
			  unsigned char addr[16], int *len);

#endif
