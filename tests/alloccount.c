/*
 * alloccount.c — a per-thread count of heap allocations (alloccount.h).
 *
 * Why interpose rather than measure heap usage (mallinfo2): an allocation
 * freed again before the measurement would be missed, and that is exactly
 * the kind a read path would make.
 *
 * In a plain build this file defines malloc, calloc and realloc; the
 * dynamic linker binds every caller to them, liburcu and libc included, and
 * they forward to glibc's own allocator (__libc_malloc and friends), so
 * free(), memalign() and the rest stay consistent with it. Under a
 * sanitizer, which owns malloc, the sanitizer's allocation hook counts
 * instead. Valgrind replaces malloc even in the executable, so nothing can
 * be counted there (brm_alloc_counting() says so).
 *
 * The counter is thread-local: bumping it costs no atomic, and a thread
 * measuring its own loop does not see the writer thread beside it.
 */
#include <stdbool.h>
#include <stddef.h>

#include "tests/alloccount.h"

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

static __thread unsigned long nallocs;

unsigned long brm_alloc_count(void)
{
	return nallocs;
}

bool brm_alloc_counting(void)
{
	return !RUNNING_ON_VALGRIND;
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZER_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SANITIZER_BUILD 1
#endif
#endif

#ifdef SANITIZER_BUILD
int __sanitizer_install_malloc_and_free_hooks(
	void (*malloc_hook)(const volatile void *, size_t),
	void (*free_hook)(const volatile void *));

static void san_malloc_hook(const volatile void *p, size_t n)
{
	nallocs++;
}

static void san_free_hook(const volatile void *p)
{
}

void brm_alloc_count_start(void)
{
	static int installed;

	if (!__atomic_exchange_n(&installed, 1, __ATOMIC_RELAXED))
		__sanitizer_install_malloc_and_free_hooks(san_malloc_hook, san_free_hook);
}
#else
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t nmemb, size_t size);
extern void *__libc_realloc(void *p, size_t n);

void *malloc(size_t n);
void *calloc(size_t nmemb, size_t size);
void *realloc(void *p, size_t n);

void *malloc(size_t n)
{
	nallocs++;
	return __libc_malloc(n);
}

void *calloc(size_t nmemb, size_t size)
{
	nallocs++;
	return __libc_calloc(nmemb, size);
}

void *realloc(void *p, size_t n)
{
	nallocs++;
	return __libc_realloc(p, n);
}

void brm_alloc_count_start(void)
{
}
#endif
