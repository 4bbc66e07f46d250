/*
 * loopcheck.h — BRM_ASSERT_LOOP(): the `Context: loop thread` of the sup/
 * headers, checked. Placed at the top of a loop-thread entry point, it
 * aborts with a message naming the function when another thread calls it,
 * as redis checks its main thread. The loop thread is the one that called
 * brm_loopcheck_set() (brm_supervisor_create does, on the thread that runs
 * the loop); before that nothing is checked, so a unit test that drives a
 * module without a supervisor is not affected.
 *
 * Developer builds only (make DEVELOPER=1 defines BRM_DEVELOPER); otherwise
 * the macro is empty and costs nothing.
 */
#ifndef BRM_LOOPCHECK_H
#define BRM_LOOPCHECK_H

#ifdef BRM_DEVELOPER
#include <stdbool.h>

#include "lib/util.h"

/* Record the calling thread as the loop thread. Context: the loop thread,
 * before any other thread may call an entry point. */
void brm_loopcheck_set(void);
/* True when the loop thread is recorded and is not the calling thread.
 * Context: any thread. */
bool brm_loopcheck_off_loop(void);
/* Log that @func was called off the loop thread, then abort(). */
BRM_NORETURN void brm_loopcheck_fail(const char *func);

#define BRM_ASSERT_LOOP() \
	do { \
		if (brm_loopcheck_off_loop()) \
			brm_loopcheck_fail(__func__); \
	} while (0)
#else
static inline void brm_loopcheck_set(void)
{
}
#define BRM_ASSERT_LOOP() do { } while (0)
#endif

#endif
