/*
 * alloccount.h — counts the heap allocations each thread makes, for the
 * test and the benchmark that show a read path allocates nothing
 * (tests/test_registry.c, bench/regbench.c).
 *
 * Linked only into those two programs (Makefile: ALLOCCOUNT_OBJ): in a
 * plain build alloccount.c defines malloc, calloc and realloc itself,
 * which every other program must not get. It lives in tests/, not bench/
 * or lib/, so that nothing in lib/ appears to call into a benchmark.
 */
#ifndef BRM_TESTS_ALLOCCOUNT_H
#define BRM_TESTS_ALLOCCOUNT_H

#include <stdbool.h>

/*
 * Starts counting: under a sanitizer, which owns malloc, installs its
 * allocation hook (once); in a plain build the counting is always on and
 * this does nothing. Call it before the first count that matters.
 * Context: any thread.
 */
void brm_alloc_count_start(void);

/*
 * How many times the calling thread has called malloc, calloc or realloc
 * since it started (every library included: the dynamic linker binds
 * liburcu's and libc's calls to the counting ones too). Subtract two
 * readings around the code to measure.
 * Context: any thread; counts only that thread's allocations.
 */
unsigned long brm_alloc_count(void);

/*
 * False where allocations cannot be counted: under valgrind, which
 * replaces malloc even in the executable. Callers then measure nothing
 * rather than report a count of zero.
 */
bool brm_alloc_counting(void);

#endif
