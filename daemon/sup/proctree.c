/*
 * proctree.c — walk a process's descendants through /proc (see proctree.h).
 */
#include <stdio.h>
#include <string.h>

#include "daemon/procstat.h"
#include "daemon/sup/proctree.h"
#include "lib/util.h"

#define MAX_DESCENDANTS 1024

int brm_proctree_escaped(pid_t root, pid_t pgid, pid_t *out, size_t max)
{
	pid_t q[MAX_DESCENDANTS];
	size_t nq = 0, n = 0;
	struct brm_pstat ps;

	if (root <= 0 || brm_pstat_read(root, &ps) < 0)
		return 0;
	/* breadth first; each process has one parent, so none comes twice */
	brm_pstat_children(root, ps.nthreads, q, &nq, BRM_ARRAY_SIZE(q));
	for (size_t i = 0; i < nq; i++) {
		if (brm_pstat_read(q[i], &ps) < 0)
			continue;	/* gone meanwhile */
		if (ps.pgrp != pgid && n < max)
			out[n++] = q[i];
		brm_pstat_children(q[i], ps.nthreads, q, &nq, BRM_ARRAY_SIZE(q));
	}
	return (int)n;
}

int brm_proctree_children(pid_t parent, pid_t *out, size_t max)
{
	struct brm_pstat ps;
	size_t n = 0;
	int r = brm_pstat_read(parent, &ps);

	if (r < 0)
		return r;
	brm_pstat_children(parent, ps.nthreads, out, &n, max);
	return (int)n;
}

void brm_proctree_comm(pid_t pid, char *buf, size_t len)
{
	char path[32];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	snprintf(buf, len, "?");
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(buf, (int)len, f))
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}
