/*
 * loopcheck.c — the loop thread's id, for BRM_ASSERT_LOOP() (loopcheck.h).
 * Developer builds only; otherwise this file is empty.
 *
 * The id is written once, before other threads run sup/ code, and read by
 * every checked call: an atomic flag published with release order makes the
 * id visible to a thread that sees the flag.
 */
#include "daemon/sup/loopcheck.h"

#ifdef BRM_DEVELOPER
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "daemon/log.h"

static pthread_t loop_thread;
static atomic_bool loop_known;

void brm_loopcheck_set(void)
{
	loop_thread = pthread_self();
	atomic_store_explicit(&loop_known, true, memory_order_release);
}

bool brm_loopcheck_off_loop(void)
{
	return atomic_load_explicit(&loop_known, memory_order_acquire) &&
	       !pthread_equal(pthread_self(), loop_thread);
}

void brm_loopcheck_fail(const char *func)
{
	brm_log_error("%s: called off the loop thread (its Context is the loop thread only)",
		      func);
	abort();
}
#endif
