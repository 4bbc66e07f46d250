/*
 * test_registry.c — Check suite for lib/registry.c: the API, readers racing
 * a publishing writer, walks racing inserts and deletes, shutdown with
 * entries left, and a read path that allocates nothing.
 *
 * RCU state is created inside each test (checked fixture), never in main():
 * a forked test would inherit a dead call_rcu helper thread.
 */
#include <check.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/registry.h"
#include "lib/util.h"
#include "tests/alloccount.h"
#include "tests/suite.h"

#ifdef BRM_TSAN
/*
 * ThreadSanitizer cannot see an RCU grace period (urcu-memb ends one with
 * membarrier(2)), nor the barriers inside liburcu, which is not built with
 * TSan. Suppressed, narrowly:
 * - frees by call_rcu callbacks racing the reads they waited for;
 * - the read-side counters (inlined from urcu/static/) and liburcu itself.
 * Snapshot publication is not suppressed: in a TSan build it uses
 * release/acquire atomics that TSan checks, and an entry's publication by
 * cds_lfht_add_unique is annotated (BRM_ENTRY_PUBLISH/FOUND, registry.h).
 */
const char *__tsan_default_suppressions(void);
const char *__tsan_default_suppressions(void)
{
	return "race:free_snapshot_rcu\n"
	       "race:free_entry_rcu\n"
	       "race:urcu/static/\n"
	       "race:liburcu-memb.so\n"
	       "race:liburcu-cds.so\n"
	       "race:liburcu-common.so\n";
}
#endif

/*
 * Under TSan each grace-period free is slow (the suppressed report is built
 * before it is suppressed), so a flat-out writer piles up call_rcu callbacks
 * faster than they run; there the writers drain the queue now and then.
 */
#ifdef BRM_TSAN
#define TSAN_DRAIN() rcu_barrier()
#else
#define TSAN_DRAIN() do { } while (0)
#endif

/* Helpers. */

static void setup(void)
{
	rcu_register_thread();
}

static void teardown(void)
{
	rcu_unregister_thread();
}

static uint64_t ms_since(uint64_t start_ns)
{
	return (brm_now_mono_ns() - start_ns) / 1000000;
}

static void start_thread(pthread_t *t, void *(*fn)(void *), void *arg)
{
	int ret = pthread_create(t, NULL, fn, arg);

	ck_assert_msg(ret == 0, "pthread_create: %s", strerror(ret));
}

/* 1. The API, single-threaded. */

START_TEST(test_basics)
{
	struct brm_registry *reg = brm_registry_create();
	struct brm_reg_entry *e, *e2, *found;
	struct brm_snapshot *s, *n;
	struct brm_reg_iter it;
	int seen = 0;

	ck_assert_uint_eq(brm_registry_count(reg), 0);
	rcu_read_lock();
	ck_assert_ptr_null(brm_registry_find(reg, "web"));
	rcu_read_unlock();

	s = brm_snapshot_create("web", NULL, "sleep 10");
	ck_assert_str_eq(s->name, "web");
	ck_assert_ptr_null(s->error);
	ck_assert_str_eq(s->cmd, "sleep 10");
	ck_assert_int_eq(s->exit_code, -1);
	ck_assert_int_eq(s->pid, 0);
	ck_assert_uint_eq(s->version, 0);
	ck_assert_int_eq(s->state, BRM_STOPPED);
	ck_assert_ptr_null(s->restart);
	s->pid = 100;
	s->restart = "always";

	e = brm_registry_insert(reg, s);
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(e->name, "web");
	ck_assert_ptr_null(e->owner);
	ck_assert_uint_eq(brm_registry_count(reg), 1);

	/* Duplicate: NULL, and the snapshot is freed (valgrind checks that). */
	ck_assert_ptr_null(brm_registry_insert(reg, brm_snapshot_create("web", "x", NULL)));
	ck_assert_uint_eq(brm_registry_count(reg), 1);

	rcu_read_lock();
	found = brm_registry_find(reg, "web");
	ck_assert_ptr_eq(found, e);
	ck_assert_ptr_eq(brm_entry_snapshot(found), s);
	ck_assert_int_eq(brm_entry_snapshot(found)->pid, 100);
	ck_assert_ptr_null(brm_registry_find(reg, "we"));
	ck_assert_ptr_null(brm_registry_find(reg, "webx"));
	rcu_read_unlock();

	/* The writer may look up without a read-side section. */
	ck_assert_ptr_eq(brm_registry_find(reg, "web"), e);

	/* Publish: version counts up, the state is the new one. */
	n = brm_snapshot_dup(s, "spawn failed: no such file");
	ck_assert_ptr_ne(n->name, s->name);
	ck_assert_ptr_ne(n->cmd, s->cmd);
	ck_assert_str_eq(n->restart, "always");
	n->pid = 0;
	n->state = BRM_BACKOFF;
	n->exit_code = 127;
	brm_registry_publish(reg, e, n);
	rcu_read_lock();
	s = brm_entry_snapshot(brm_registry_find(reg, "web"));
	ck_assert_ptr_eq(s, n);
	ck_assert_uint_eq(s->version, 1);
	ck_assert_str_eq(s->name, "web");
	ck_assert_str_eq(s->error, "spawn failed: no such file");
	ck_assert_str_eq(s->cmd, "sleep 10");
	ck_assert_int_eq(s->state, BRM_BACKOFF);
	ck_assert_int_eq(s->exit_code, 127);
	rcu_read_unlock();

	n = brm_snapshot_dup(s, NULL);
	brm_registry_publish(reg, e, n);
	rcu_read_lock();
	s = brm_entry_snapshot(e);
	ck_assert_uint_eq(s->version, 2);
	ck_assert_ptr_null(s->error);
	ck_assert_int_eq(s->exit_code, 127);
	rcu_read_unlock();

	/* A NULL cmd is stored as "". */
	e2 = brm_registry_insert(reg, brm_snapshot_create("db", NULL, NULL));
	ck_assert_ptr_nonnull(e2);
	ck_assert_uint_eq(brm_registry_count(reg), 2);
	rcu_read_lock();
	ck_assert_str_eq(brm_entry_snapshot(e2)->cmd, "");
	brm_registry_for_each(reg, &it, found)
		seen++;
	rcu_read_unlock();
	ck_assert_int_eq(seen, 2);

	brm_registry_delete(reg, e);
	ck_assert_uint_eq(brm_registry_count(reg), 1);
	rcu_read_lock();
	ck_assert_ptr_null(brm_registry_find(reg, "web"));
	ck_assert_ptr_eq(brm_registry_find(reg, "db"), e2);
	rcu_read_unlock();

	/* The name can be added again once deleted. */
	e = brm_registry_insert(reg, brm_snapshot_create("web", NULL, "true"));
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(brm_registry_count(reg), 2);

	brm_registry_delete(reg, e);
	brm_registry_delete(reg, e2);
	ck_assert_uint_eq(brm_registry_count(reg), 0);
	brm_registry_destroy(reg);
}
END_TEST

START_TEST(test_hash_seeded)
{
	struct brm_registry *a = brm_registry_create();
	struct brm_registry *b = brm_registry_create();

	ck_assert_uint_eq(brm_registry_hash(a, "web"), brm_registry_hash(a, "web"));
	ck_assert_uint_ne(brm_registry_hash(a, "web"), brm_registry_hash(a, "web2"));
	/* Two random keys agree on a name with probability 2^-64. */
	ck_assert_uint_ne(brm_registry_hash(a, "web"), brm_registry_hash(b, "web"));
	brm_registry_destroy(a);
	brm_registry_destroy(b);
}
END_TEST

/* 2. Readers against a writer publishing as fast as it can. */

#define PUB_ENTRIES 4
#define PUB_READERS 3

struct pub_ctx {
	struct brm_registry *reg;
	int stop;
	unsigned long reads;
	unsigned long failures;
	char names[PUB_ENTRIES][16];
};

/* The snapshot of @name at @version encodes the version in every field. */
static struct brm_snapshot *make_versioned(const char *name, uint64_t v)
{
	char cmd[64], error[32];
	struct brm_snapshot *s;

	snprintf(cmd, sizeof(cmd), "run %s v%" PRIu64, name, v);
	snprintf(error, sizeof(error), "odd %" PRIu64, v);
	s = brm_snapshot_create(name, v % 2 ? error : NULL, cmd);
	s->pid = (int)(v * 7 + 3);
	s->restarts = (uint32_t)v;
	s->exit_code = (int)(v % 1000);
	s->since_ms = (int64_t)v * 11;
	s->state = (enum brm_state)(v % BRM_STATE_COUNT);
	return s;
}

/* True when @s is a consistent snapshot of @name. Allocates nothing. */
static bool versioned_ok(const struct brm_snapshot *s, const char *name)
{
	uint64_t v = s->version;
	char buf[64];

	if (s->pid != (int)(v * 7 + 3) || s->restarts != (uint32_t)v ||
	    s->exit_code != (int)(v % 1000) || s->since_ms != (int64_t)v * 11 ||
	    s->state != (enum brm_state)(v % BRM_STATE_COUNT))
		return false;
	if (strcmp(s->name, name) != 0)
		return false;
	snprintf(buf, sizeof(buf), "run %s v%" PRIu64, name, v);
	if (strcmp(s->cmd, buf) != 0)
		return false;
	if (v % 2 == 0)
		return s->error == NULL;
	snprintf(buf, sizeof(buf), "odd %" PRIu64, v);
	return s->error && strcmp(s->error, buf) == 0;
}

static void *pub_reader(void *arg)
{
	struct pub_ctx *c = arg;
	uint64_t last[PUB_ENTRIES] = { 0 };
	unsigned long reads = 0, failures = 0;
	struct brm_reg_entry *e;
	struct brm_snapshot *s;
	int i;

	rcu_register_thread();
	while (!__atomic_load_n(&c->stop, __ATOMIC_RELAXED)) {
		for (i = 0; i < PUB_ENTRIES; i++) {
			rcu_read_lock();
			e = brm_registry_find(c->reg, c->names[i]);
			if (!e) {
				failures++;
			} else {
				s = brm_entry_snapshot(e);
				if (!versioned_ok(s, c->names[i]) || s->version < last[i])
					failures++;
				last[i] = s->version;
			}
			rcu_read_unlock();
			reads++;
		}
	}
	rcu_unregister_thread();
	__atomic_add_fetch(&c->reads, reads, __ATOMIC_RELAXED);
	__atomic_add_fetch(&c->failures, failures, __ATOMIC_RELAXED);
	return NULL;
}

START_TEST(test_publish_concurrent)
{
	struct pub_ctx c = { .reg = brm_registry_create() };
	struct brm_reg_entry *e[PUB_ENTRIES];
	pthread_t readers[PUB_READERS];
	unsigned long publishes = 0, bad = 0;
	uint64_t start, v;
	int i;

	for (i = 0; i < PUB_ENTRIES; i++) {
		snprintf(c.names[i], sizeof(c.names[i]), "proc-%d", i);
		e[i] = brm_registry_insert(c.reg, make_versioned(c.names[i], 0));
		ck_assert_ptr_nonnull(e[i]);
	}
	for (i = 0; i < PUB_READERS; i++)
		start_thread(&readers[i], pub_reader, &c);

	start = brm_now_mono_ns();
	do {
		for (i = 0; i < PUB_ENTRIES; i++) {
			/* The writer reads its own entries without a read lock. */
			v = brm_entry_snapshot(e[i])->version + 1;
			brm_registry_publish(c.reg, e[i], make_versioned(c.names[i], v));
			if (brm_entry_snapshot(e[i])->version != v)
				bad++;
			publishes++;
		}
		if (publishes % 1024 == 0)
			TSAN_DRAIN();
	} while ((publishes & 1023) || ms_since(start) < 1000);

	__atomic_store_n(&c.stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < PUB_READERS; i++)
		pthread_join(readers[i], NULL);

	ck_assert_uint_eq(bad, 0);
	ck_assert_uint_gt(c.reads, 0);
	ck_assert_msg(c.failures == 0, "%lu of %lu reads saw a torn or stale snapshot",
		      c.failures, c.reads);
	ck_assert_uint_eq(brm_registry_count(c.reg), PUB_ENTRIES);
	brm_registry_destroy(c.reg);
}
END_TEST

/* 3. Walks against a writer inserting and deleting. */

#define WALK_STABLE 50
#define WALK_CHURN 600
#define WALK_READERS 2

struct walk_ctx {
	struct brm_registry *reg;
	int stop;
	unsigned long walks;
	unsigned long failures;
};

static void *walk_reader(void *arg)
{
	struct walk_ctx *c = arg;
	unsigned long walks = 0, failures = 0;
	int seen[WALK_STABLE];
	struct brm_reg_iter it;
	struct brm_reg_entry *e;
	struct brm_snapshot *s;
	char *end;
	long idx;
	int i;

	rcu_register_thread();
	while (!__atomic_load_n(&c->stop, __ATOMIC_RELAXED)) {
		memset(seen, 0, sizeof(seen));
		rcu_read_lock();
		brm_registry_for_each(c->reg, &it, e) {
			s = brm_entry_snapshot(e);
			if (strcmp(s->name, e->name) != 0)
				failures++;
			if (strncmp(e->name, "stable-", 7) != 0)
				continue;
			idx = strtol(e->name + 7, &end, 10);
			if (*end || idx < 0 || idx >= WALK_STABLE || s->pid != (int)idx)
				failures++;
			else
				seen[idx]++;
		}
		rcu_read_unlock();
		for (i = 0; i < WALK_STABLE; i++)
			if (seen[i] != 1)
				failures++;
		walks++;
	}
	rcu_unregister_thread();
	__atomic_add_fetch(&c->walks, walks, __ATOMIC_RELAXED);
	__atomic_add_fetch(&c->failures, failures, __ATOMIC_RELAXED);
	return NULL;
}

static struct brm_snapshot *make_named(const char *prefix, int i)
{
	char name[32];
	struct brm_snapshot *s;

	snprintf(name, sizeof(name), "%s-%d", prefix, i);
	s = brm_snapshot_create(name, NULL, "true");
	s->pid = i;
	return s;
}

START_TEST(test_walk_during_churn)
{
	struct walk_ctx c = { .reg = brm_registry_create() };
	struct brm_reg_entry *stable[WALK_STABLE];
	static struct brm_reg_entry *churn[WALK_CHURN];
	pthread_t readers[WALK_READERS];
	unsigned long rounds = 0;
	struct brm_reg_iter it;
	struct brm_reg_entry *e;
	struct brm_snapshot *s;
	uint64_t start;
	int i;

	for (i = 0; i < WALK_STABLE; i++) {
		stable[i] = brm_registry_insert(c.reg, make_named("stable", i));
		ck_assert_ptr_nonnull(stable[i]);
	}
	for (i = 0; i < WALK_READERS; i++)
		start_thread(&readers[i], walk_reader, &c);

	/*
	 * Grow to WALK_STABLE + WALK_CHURN entries and back, so the table
	 * also resizes under the walkers. Every other round deletes from
	 * inside a walk of the writer's own, the current entry each time.
	 */
	start = brm_now_mono_ns();
	while (ms_since(start) < 1000) {
		for (i = 0; i < WALK_CHURN; i++) {
			churn[i] = brm_registry_insert(c.reg, make_named("churn", i));
			ck_assert_ptr_nonnull(churn[i]);
		}
		ck_assert_uint_eq(brm_registry_count(c.reg), WALK_STABLE + WALK_CHURN);
		s = brm_snapshot_dup(brm_entry_snapshot(stable[rounds % WALK_STABLE]), NULL);
		brm_registry_publish(c.reg, stable[rounds % WALK_STABLE], s);
		if (rounds % 2) {
			rcu_read_lock();
			brm_registry_for_each(c.reg, &it, e)
				if (strncmp(e->name, "churn-", 6) == 0)
					brm_registry_delete(c.reg, e);
			rcu_read_unlock();
		} else {
			for (i = WALK_CHURN - 1; i >= 0; i--)
				brm_registry_delete(c.reg, churn[i]);
		}
		ck_assert_uint_eq(brm_registry_count(c.reg), WALK_STABLE);
		TSAN_DRAIN();
		rounds++;
	}

	__atomic_store_n(&c.stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < WALK_READERS; i++)
		pthread_join(readers[i], NULL);

	ck_assert_uint_gt(rounds, 1);
	ck_assert_uint_gt(c.walks, 0);
	ck_assert_msg(c.failures == 0, "%lu failures in %lu walks", c.failures, c.walks);
	brm_registry_destroy(c.reg);
}
END_TEST

/* 4. Destroy frees what is left (valgrind: no definite leaks). */

START_TEST(test_destroy_with_entries)
{
	struct brm_registry *reg = brm_registry_create();
	struct brm_reg_entry *e;
	int i, j;

	for (i = 0; i < 200; i++) {
		e = brm_registry_insert(reg, make_named("left", i));
		ck_assert_ptr_nonnull(e);
		for (j = 0; j < i % 4; j++)
			brm_registry_publish(reg, e, brm_snapshot_dup(brm_entry_snapshot(e), "e"));
		if (i % 10 == 0)
			brm_registry_delete(reg, e);
	}
	ck_assert_uint_eq(brm_registry_count(reg), 180);
	brm_registry_destroy(reg);
	brm_registry_destroy(NULL);

	/* A second registry works after the first is gone. */
	reg = brm_registry_create();
	ck_assert_ptr_nonnull(brm_registry_insert(reg, make_named("again", 0)));
	brm_registry_destroy(reg);
}
END_TEST

/* 5. find, snapshot, field reads and walks allocate nothing. */

#define NOALLOC_ENTRIES 100

struct noalloc_ctx {
	struct brm_registry *reg;
	struct brm_reg_entry *e[NOALLOC_ENTRIES];
	int stop;
};

static void *noalloc_writer(void *arg)
{
	struct noalloc_ctx *c = arg;
	struct brm_snapshot *s;
	unsigned long n = 0;

	rcu_register_thread();
	while (!__atomic_load_n(&c->stop, __ATOMIC_RELAXED)) {
		struct brm_reg_entry *e = c->e[n++ % NOALLOC_ENTRIES];

		s = brm_snapshot_dup(brm_entry_snapshot(e), n % 2 ? "flap" : NULL);
		s->pid = (int)n;
		brm_registry_publish(c->reg, e, s);
		/* Concurrent, not flat out: under TSan every free is slow. */
		usleep(20);
	}
	rcu_unregister_thread();
	return NULL;
}

START_TEST(test_read_path_no_alloc)
{
	static struct noalloc_ctx c;
	void *(*volatile alloc_fn)(size_t) = malloc;
	unsigned long sink = 0, walked = 0, allocs, before;
	struct brm_reg_iter it;
	struct brm_reg_entry *e;
	struct brm_snapshot *s;
	char names[NOALLOC_ENTRIES][16];
	pthread_t writer;
	bool counting = brm_alloc_counting();
	void *p;
	int i;

	brm_alloc_count_start();
	memset(&c, 0, sizeof(c));
	c.reg = brm_registry_create();
	for (i = 0; i < NOALLOC_ENTRIES; i++) {
		snprintf(names[i], sizeof(names[i]), "svc-%d", i);
		c.e[i] = brm_registry_insert(c.reg, brm_snapshot_create(names[i], NULL, "x"));
		ck_assert_ptr_nonnull(c.e[i]);
	}

	/*
	 * The counter works: a deliberate allocation is seen, so the test
	 * cannot pass by counting nothing.
	 */
	before = brm_alloc_count();
	p = alloc_fn(32);
	allocs = brm_alloc_count() - before;
	free(p);
	if (counting)
		ck_assert_uint_eq(allocs, 1);

	/*
	 * The writer publishes meanwhile (its allocations are its thread's,
	 * not counted here).
	 */
	start_thread(&writer, noalloc_writer, &c);
	before = brm_alloc_count();
	for (i = 0; i < 100000; i++) {
		rcu_read_lock();
		e = brm_registry_find(c.reg, names[i % NOALLOC_ENTRIES]);
		s = brm_entry_snapshot(e);
		sink += (unsigned long)s->pid + s->version + strlen(s->name) + strlen(s->cmd) +
			(s->error ? strlen(s->error) : 0);
		if (i % 1000 == 0) {
			brm_registry_for_each(c.reg, &it, e)
				walked += brm_entry_snapshot(e)->version > 0;
		}
		rcu_read_unlock();
	}
	(void)brm_registry_count(c.reg);
	allocs = brm_alloc_count() - before;

	__atomic_store_n(&c.stop, 1, __ATOMIC_RELAXED);
	pthread_join(writer, NULL);
	if (counting)
		ck_assert_msg(allocs == 0, "the read path allocated %lu times", allocs);
	ck_assert_uint_gt(sink, 0);
	(void)walked;
	brm_registry_destroy(c.reg);
}
END_TEST

static Suite *registry_suite(void)
{
	Suite *s = suite_create("registry");
	TCase *tc;

	tc = tcase_create("api");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_basics);
	tcase_add_test(tc, test_hash_seeded);
	tcase_add_test(tc, test_destroy_with_entries);
	tcase_add_test(tc, test_read_path_no_alloc);
	suite_add_tcase(s, tc);

	tc = tcase_create("concurrency");
	tcase_add_checked_fixture(tc, setup, teardown);
	/* About 1 s of work each; room for a slow, shared machine. */
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_publish_concurrent);
	tcase_add_test(tc, test_walk_during_churn);
	suite_add_tcase(s, tc);
	return s;
}

Suite *brm_test_suite(void)
{
	return registry_suite();
}
