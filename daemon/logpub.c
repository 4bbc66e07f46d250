/*
 * logpub.c — the parts of logpub.h that are not types: the new-lines hook
 * and the reopen request, kept outside sup/ with their declarations, so a
 * worker that asks for a reopen (`logs_reopen`) calls nothing of the loop
 * thread's files.
 */
#include "daemon/logpub.h"

void (*brm_logs_on_lines)(void);

static uint64_t reopen_gen;

void brm_logfile_reopen_all(void)
{
	__atomic_add_fetch(&reopen_gen, 1, __ATOMIC_RELAXED);
}

uint64_t brm_logfile_reopen_gen(void)
{
	return __atomic_load_n(&reopen_gen, __ATOMIC_RELAXED);
}
