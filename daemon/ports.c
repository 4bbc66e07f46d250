/*
 * ports.c — listening TCP ports of a process tree from /proc (ports.h).
 *
 * A query reads the LISTEN lines of /proc/net/tcp and tcp6 once into a
 * table sorted by inode (one per network namespace met, at most NTABLES),
 * then walks /proc/PID/fd of each member and looks every socket inode up.
 * When a namespace has no listening socket at all, its processes' fds are
 * not walked: the answer is [] for each.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/ports.h"
#include "daemon/procstat.h"
#include "lib/registry.h"
#include "lib/util.h"

#define MAX_MEMBERS 1024
#define NTABLES 16
/* fds looked at per process tree: a server with a million connections is
 * not walked to the end (its listening sockets are usually its first fds) */
#define MAX_FDS (1u << 20)

struct lsock {
	unsigned long long inode;
	unsigned port;
	int len;                    /* 4 or 16 */
	unsigned char addr[16];
};

struct table {
	char ns[64];                /* readlink of /proc/PID/ns/net */
	struct lsock *v;
	size_t n, cap;
};

struct tables {
	char self_ns[64];
	struct table t[NTABLES];
	size_t n;
};

/* A hex number of exactly @digits digits at *@pp. */
static bool hex_field(const char **pp, int digits, unsigned long long *out)
{
	const char *p = *pp;
	unsigned long long v = 0;

	for (int i = 0; i < digits; i++, p++) {
		unsigned d;

		if (*p >= '0' && *p <= '9')
			d = (unsigned)(*p - '0');
		else if (*p >= 'A' && *p <= 'F')
			d = (unsigned)(*p - 'A' + 10);
		else if (*p >= 'a' && *p <= 'f')
			d = (unsigned)(*p - 'a' + 10);
		else
			return false;
		v = v << 4 | d;
	}
	*out = v;
	*pp = p;
	return true;
}

static const char *skip_token(const char *p)
{
	while (*p == ' ')
		p++;
	while (*p && *p != ' ')
		p++;
	return p;
}

bool brm_ports_parse_line(const char *line, unsigned long long *inode, unsigned *port,
			  unsigned char addr[16], int *len)
{
	/* "  0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000
	 *  00000000  1000 0 12345 1 ..." (tcp6: 32 hex digits per address, four
	 *  32-bit words each in host order) */
	const char *p = line, *a;
	unsigned long long v, st, ino = 0;
	int words;

	while (*p == ' ')
		p++;
	while (*p >= '0' && *p <= '9')
		p++;
	if (*p++ != ':' || *p++ != ' ')
		return false;
	while (*p == ' ')
		p++;
	a = p;
	while ((*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'F') || (*p >= 'a' && *p <= 'f'))
		p++;
	if (p - a == 8)
		words = 1;
	else if (p - a == 32)
		words = 4;
	else
		return false;
	if (*p != ':')
		return false;
	p++;
	if (!hex_field(&p, 4, &v) || *p != ' ')
		return false;
	*port = (unsigned)v;
	for (int i = 0; i < words; i++) {
		unsigned long long w = 0;
		uint32_t w32;

		hex_field(&a, 8, &w);
		w32 = (uint32_t)w;
		memcpy(addr + 4 * i, &w32, 4);   /* the kernel's words, host order */
	}
	*len = words * 4;
	p = skip_token(p);                  /* remote address */
	while (*p == ' ')
		p++;
	if (!hex_field(&p, 2, &st) || *p != ' ')
		return false;
	if (st != 0x0A)
		return false;
	for (int i = 0; i < 5; i++)         /* tx:rx tr:when retrnsmt uid timeout */
		p = skip_token(p);
	while (*p == ' ')
		p++;
	if (*p < '0' || *p > '9')
		return false;
	while (*p >= '0' && *p <= '9' && ino < (1ull << 60))
		ino = ino * 10 + (unsigned)(*p++ - '0');
	*inode = ino;
	return ino != 0;
}

static void table_read(struct table *t, const char *path)
{
	char line[512];
	FILE *f = fopen(path, "re");

	if (!f)
		return;
	if (!fgets(line, sizeof(line), f)) {   /* the header */
		fclose(f);
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		struct lsock s;

		if (!strchr(line, '\n')) {         /* longer than any real line: skip it */
			int c;
			while ((c = getc(f)) != EOF && c != '\n')
				;
			continue;
		}
		if (!brm_ports_parse_line(line, &s.inode, &s.port, s.addr, &s.len))
			continue;
		if (t->n >= BRM_PORTS_MAX_LISTEN)
			break;
		if (t->n == t->cap) {
			t->cap = t->cap ? t->cap * 2 : 64;
			t->v = brm_xrealloc(t->v, t->cap * sizeof(*t->v));
		}
		t->v[t->n++] = s;
	}
	fclose(f);
}

static int cmp_inode(const void *a, const void *b)
{
	unsigned long long x = ((const struct lsock *)a)->inode, y = ((const struct lsock *)b)->inode;

	return x < y ? -1 : x > y;
}

static void table_load(struct table *t, const char *ns, pid_t pid)
{
	char path[64];

	snprintf(t->ns, sizeof(t->ns), "%s", ns);
	t->n = 0;
	if (pid) {
		snprintf(path, sizeof(path), "/proc/%d/net/tcp", (int)pid);
		table_read(t, path);
		snprintf(path, sizeof(path), "/proc/%d/net/tcp6", (int)pid);
		table_read(t, path);
	} else {
		table_read(t, "/proc/net/tcp");
		table_read(t, "/proc/net/tcp6");
	}
	if (t->n)
		qsort(t->v, t->n, sizeof(*t->v), cmp_inode);
}

static int read_ns(pid_t pid, char *buf, size_t size)
{
	char path[64];
	ssize_t n;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	else
		snprintf(path, sizeof(path), "/proc/self/ns/net");
	n = readlink(path, buf, size - 1);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

/*
 * The listening sockets of @pid's network namespace: brummd's own table
 * (slot 0) unless its namespace differs. NULL when @pid is gone.
 */
static struct table *table_for(struct tables *ts, pid_t pid)
{
	char ns[64];
	struct table *t;

	if (read_ns(pid, ns, sizeof(ns)) < 0)
		return NULL;
	for (size_t i = 0; i < ts->n; i++)
		if (!strcmp(ts->t[i].ns, ns))
			return &ts->t[i];
	/* a new one; when all slots are taken, the last is reused */
	t = &ts->t[ts->n < NTABLES ? ts->n++ : NTABLES - 1];
	table_load(t, ns, strcmp(ns, ts->self_ns) ? pid : 0);
	return t;
}

static int cmp_hit(const void *a, const void *b)
{
	const struct lsock *x = a, *y = b;

	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return memcmp(x->addr, y->addr, (size_t)x->len);
}

/* Look the sockets of @pid's fds up in @t; add the listening ones to @hits. */
static void member_sockets(pid_t pid, const struct table *t, struct lsock *hits, size_t *nhits,
			   size_t *budget)
{
	char path[64], link[64];
	DIR *d;
	struct dirent *de;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (!d)
		return;
	while (*budget && (de = readdir(d))) {
		struct lsock key, *s;
		ssize_t n;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		(*budget)--;
		n = readlinkat(dirfd(d), de->d_name, link, sizeof(link) - 1);
		if (n < 10 || memcmp(link, "socket:[", 8) != 0)
			continue;
		link[n] = '\0';
		key.inode = strtoull(link + 8, NULL, 10);
		s = bsearch(&key, t->v, t->n, sizeof(*t->v), cmp_inode);
		if (s && *nhits < BRM_PORTS_MAX)
			hits[(*nhits)++] = *s;
	}
	closedir(d);
}

/* The ports of the group led by @pid, as a JSON array; NULL when gone. */
static char *ports_of(struct tables *ts, pid_t pid)
{
	static struct lsock none;
	struct lsock *hits;
	size_t nhits = 0, nq = 0, budget = MAX_FDS;
	pid_t *q;
	struct brm_pstat lead, sl;
	struct table *t;
	struct brm_buf out;
	char addr[INET6_ADDRSTRLEN];

	if (pid <= 0 || brm_pstat_read(pid, &lead) < 0)
		return NULL;
	t = table_for(ts, pid);
	if (!t)
		return NULL;
	if (!t->n)
		return brm_xstrdup("[]");
	brm_buf_init(&out);
	hits = brm_xcalloc(BRM_PORTS_MAX, sizeof(*hits));
	q = brm_xcalloc(MAX_MEMBERS, sizeof(*q));
	member_sockets(pid, t, hits, &nhits, &budget);
	brm_pstat_children(pid, lead.nthreads, q, &nq, MAX_MEMBERS);
	for (size_t i = 0; i < nq; i++) {
		if (brm_pstat_read(q[i], &sl) < 0 || sl.pgrp != lead.pgrp)
			continue;
		member_sockets(q[i], t, hits, &nhits, &budget);
		brm_pstat_children(q[i], sl.nthreads, q, &nq, MAX_MEMBERS);
	}
	if (nhits)
		qsort(hits, nhits, sizeof(*hits), cmp_hit);
	brm_buf_addc(&out, '[');
	for (size_t i = 0, k = 0; i < nhits; i++) {
		const struct lsock *prev = i ? &hits[i - 1] : &none;

		if (i && !cmp_hit(prev, &hits[i]))
			continue;   /* the same socket in two members, or one address twice */
		inet_ntop(hits[i].len == 4 ? AF_INET : AF_INET6, hits[i].addr, addr, sizeof(addr));
		brm_buf_addf(&out, "%s{\"port\":%u,\"addr\":\"%s\"}", k++ ? "," : "", hits[i].port,
			     addr);
	}
	brm_buf_addc(&out, ']');
	free(hits);
	free(q);
	return brm_buf_detach(&out);
}

/* ---- for status --------------------------------------------------------- */

static void set_add(struct brm_ports_set *set, pid_t pid)
{
	if (pid <= 0)
		return;
	if (set->n == set->cap) {
		set->cap = set->cap ? set->cap * 2 : 64;
		set->v = brm_xrealloc(set->v, set->cap * sizeof(*set->v));
	}
	set->v[set->n].pid = pid;
	set->v[set->n++].json = NULL;
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = ((const struct brm_ports *)a)->pid, y = ((const struct brm_ports *)b)->pid;

	return x < y ? -1 : x > y;
}

void brm_ports_collect(struct brm_registry *reg, const char *const *names, size_t n,
		       struct brm_ports_set *set)
{
	struct brm_reg_iter it;
	struct brm_reg_entry *e;
	struct tables *ts;

	set->n = 0;
	rcu_read_lock();
	if (names) {
		for (size_t i = 0; i < n; i++)
			if ((e = brm_registry_find(reg, names[i])))
				set_add(set, brm_entry_snapshot(e)->pid);
	} else {
		brm_registry_for_each(reg, &it, e)
			set_add(set, brm_entry_snapshot(e)->pid);
	}
	rcu_read_unlock();
	if (!set->n)
		return;
	ts = brm_xcalloc(1, sizeof(*ts));
	if (read_ns(0, ts->self_ns, sizeof(ts->self_ns)) < 0)
		snprintf(ts->self_ns, sizeof(ts->self_ns), "?");
	for (size_t i = 0; i < set->n; i++)
		set->v[i].json = ports_of(ts, set->v[i].pid);
	for (size_t i = 0; i < ts->n; i++)
		free(ts->t[i].v);
	free(ts);
	qsort(set->v, set->n, sizeof(*set->v), cmp_pid);
}

const struct brm_ports *brm_ports_find(const struct brm_ports_set *set, pid_t pid)
{
	struct brm_ports key = { .pid = pid };

	if (pid <= 0 || !set->n)
		return NULL;
	return bsearch(&key, set->v, set->n, sizeof(*set->v), cmp_pid);
}

void brm_ports_set_finish(struct brm_ports_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		free(set->v[i].json);
	free(set->v);
	memset(set, 0, sizeof(*set));
}

void brm_ports_json(struct brm_buf *out, const struct brm_ports *p)
{
	if (out->len && out->p[out->len - 1] == '}')
		out->len--;
	brm_buf_adds(out, ",\"ports\":");
	brm_buf_adds(out, p && p->json ? p->json : "null");
	brm_buf_addc(out, '}');
}
