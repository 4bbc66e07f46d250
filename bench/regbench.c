/*
 * regbench.c — registry read-side micro-benchmarks.
 *
 * Reads one process's snapshot (lock, dereference, read fields, unlock)
 * through the real RCU registry (lib/registry.c, urcu-memb inlined through
 * _LGPL_SOURCE) against the same read under a pthread mutex, a pthread
 * rwlock, and a bare atomic acquire load of a pointer (the floor: what an
 * RCU read would cost if the read-side markers were free). Then a name
 * lookup among 1000 entries: cds_lfht (brm_registry_find) against a chained
 * hash map behind a mutex and behind an rwlock, with the registry's own
 * seeded SipHash so that only the synchronisation differs.
 *
 * Scenarios: 1 reader; 2 readers; 2 readers plus a writer publishing 1000
 * updates/s (a new snapshot through brm_registry_publish for RCU, an
 * in-place update under the lock for the locked variants).
 *
 * Keeping the work honest: every read feeds the fields it read into a
 * running sum that goes through an empty asm statement with the sum as an
 * in/out register operand ("+r") each iteration, so the compiler must
 * compute it every time; the pointer itself is loaded with a volatile or
 * atomic load (rcu_dereference, __atomic_load_n), which the compiler may
 * neither hoist out of the loop nor merge; and the sum is stored to a
 * global at the end. Lock calls are opaque library calls.
 *
 * Allocations are counted by tests/alloccount.c, linked into this program
 * (it interposes malloc/calloc/realloc, forwarding to glibc's __libc_*
 * functions, and bumps a thread-local counter); the count over each
 * reader's measured loop is printed per operation.
 *
 * Output: one line per measurement, "key value" (ns/op or allocs/op), for
 * bench/run.py to collect. Usage: regbench [SECONDS_PER_RUN] [REPEATS]
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/registry.h"
#include "lib/buf.h"
#include "lib/snapjson.h"
#include "lib/util.h"
#include "tests/alloccount.h"

/* --- common ------------------------------------------------------------- */

#define NAMES 1000
#define BATCH 256
#define CONSUME(x) __asm__ volatile("" : "+r"(x))

static double run_secs = 0.5;
static int repeats = 5;

static atomic_int stop_flag;
static atomic_int go_flag;
unsigned long bench_sink;

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

enum variant { V_ATOMIC, V_RCU, V_MUTEX, V_RWLOCK };
static const char *const vname[] = { "atomic", "rcu", "mutex", "rwlock" };

/* The mutable record the locked variants read (the same fields). */
struct locked_rec {
	int pid;
	int state;
	uint32_t restarts;
	uint64_t version;
};

static struct brm_registry *reg;
static struct brm_reg_entry *entries[NAMES];
static char names[NAMES][16];
static struct brm_snapshot *_Atomic atomic_snap;    /* for V_ATOMIC */
static pthread_mutex_t mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_rwlock_t rwl = PTHREAD_RWLOCK_INITIALIZER;
static struct locked_rec lrec;

/* Chained hash map for the locked lookup variants. */
struct hnode {
	struct hnode *next;
	unsigned long hash;
	const char *name;
	struct locked_rec rec;
};
#define HBUCKETS 1024
static struct hnode *hbuckets[HBUCKETS];
static struct hnode hnodes[NAMES];

static struct hnode *hmap_find(const char *name)
{
	unsigned long h = brm_registry_hash(reg, name);
	for (struct hnode *n = hbuckets[h & (HBUCKETS - 1)]; n; n = n->next)
		if (n->hash == h && strcmp(n->name, name) == 0)
			return n;
	return NULL;
}

struct reader_arg {
	enum variant v;
	bool lookup;
	int seed;
	double ns_per_op;
	double allocs_per_op;
};

static unsigned long read_one(enum variant v, unsigned long sum)
{
	switch (v) {
	case V_ATOMIC: {
		struct brm_snapshot *s = atomic_load_explicit(&atomic_snap, memory_order_acquire);
		sum += (unsigned long)s->pid + s->state + s->restarts + s->version;
		break;
	}
	case V_RCU: {
		rcu_read_lock();
		struct brm_snapshot *s = brm_entry_snapshot(entries[0]);
		sum += (unsigned long)s->pid + s->state + s->restarts + s->version;
		rcu_read_unlock();
		break;
	}
	case V_MUTEX:
		pthread_mutex_lock(&mtx);
		sum += (unsigned long)lrec.pid + lrec.state + lrec.restarts + lrec.version;
		pthread_mutex_unlock(&mtx);
		break;
	case V_RWLOCK:
		pthread_rwlock_rdlock(&rwl);
		sum += (unsigned long)lrec.pid + lrec.state + lrec.restarts + lrec.version;
		pthread_rwlock_unlock(&rwl);
		break;
	}
	return sum;
}

static unsigned long lookup_one(enum variant v, const char *name, unsigned long sum)
{
	switch (v) {
	case V_RCU: {
		rcu_read_lock();
		struct brm_reg_entry *e = brm_registry_find(reg, name);
		struct brm_snapshot *s = brm_entry_snapshot(e);
		sum += (unsigned long)s->pid + s->state + s->version;
		rcu_read_unlock();
		break;
	}
	case V_MUTEX: {
		pthread_mutex_lock(&mtx);
		struct hnode *n = hmap_find(name);
		sum += (unsigned long)n->rec.pid + n->rec.state + n->rec.version;
		pthread_mutex_unlock(&mtx);
		break;
	}
	case V_RWLOCK: {
		pthread_rwlock_rdlock(&rwl);
		struct hnode *n = hmap_find(name);
		sum += (unsigned long)n->rec.pid + n->rec.state + n->rec.version;
		pthread_rwlock_unlock(&rwl);
		break;
	}
	default:
		abort();
	}
	return sum;
}

static void *reader(void *p)
{
	struct reader_arg *a = p;
	unsigned long sum = 0, ops = 0, a0;
	unsigned idx = (unsigned)a->seed * 7919u;
	double t0;

	rcu_register_thread();
	while (!atomic_load(&go_flag))
		;
	a0 = brm_alloc_count();
	t0 = now_ns();
	while (!atomic_load_explicit(&stop_flag, memory_order_relaxed)) {
		if (a->lookup) {
			for (int i = 0; i < BATCH; i++) {
				idx = idx * 1103515245u + 12345u;
				sum = lookup_one(a->v, names[(idx >> 8) % NAMES], sum);
				CONSUME(sum);
			}
		} else {
			for (int i = 0; i < BATCH; i++) {
				sum = read_one(a->v, sum);
				CONSUME(sum);
			}
		}
		ops += BATCH;
	}
	a->ns_per_op = (now_ns() - t0) / (double)ops;
	a->allocs_per_op = (double)(brm_alloc_count() - a0) / (double)ops;
	__atomic_fetch_add(&bench_sink, sum, __ATOMIC_RELAXED);
	rcu_unregister_thread();
	return NULL;
}

struct writer_arg {
	enum variant v;
	bool lookup;
	unsigned long updates;
};

/* 1000 updates per second: one every millisecond, absolute deadlines. */
static void *writer(void *p)
{
	struct writer_arg *w = p;
	struct timespec next;
	unsigned k = 0;

	rcu_register_thread();
	while (!atomic_load(&go_flag))
		;
	clock_gettime(CLOCK_MONOTONIC, &next);
	while (!atomic_load(&stop_flag)) {
		next.tv_nsec += 1000000;
		if (next.tv_nsec >= 1000000000) {
			next.tv_nsec -= 1000000000;
			next.tv_sec++;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
		unsigned i = w->lookup ? (k * 37u) % NAMES : 0;
		k++;
		switch (w->v) {
		case V_ATOMIC: {
			struct brm_snapshot *old = atomic_load(&atomic_snap);
			struct brm_snapshot *s = brm_snapshot_dup(old, NULL);
			s->pid++;
			s->version++;
			atomic_store_explicit(&atomic_snap, s, memory_order_release);
			/* never freed during the run: the floor has no reclamation */
			break;
		}
		case V_RCU: {
			struct brm_snapshot *s = brm_snapshot_dup(entries[i]->snap, NULL);
			s->pid++;
			brm_registry_publish(reg, entries[i], s);
			break;
		}
		case V_MUTEX:
			pthread_mutex_lock(&mtx);
			if (w->lookup) {
				hnodes[i].rec.pid++;
				hnodes[i].rec.version++;
			} else {
				lrec.pid++;
				lrec.version++;
			}
			pthread_mutex_unlock(&mtx);
			break;
		case V_RWLOCK:
			pthread_rwlock_wrlock(&rwl);
			if (w->lookup) {
				hnodes[i].rec.pid++;
				hnodes[i].rec.version++;
			} else {
				lrec.pid++;
				lrec.version++;
			}
			pthread_rwlock_unlock(&rwl);
			break;
		}
		w->updates++;
	}
	rcu_unregister_thread();
	return NULL;
}

/* One run: @nreaders readers (+ a writer when @with_writer); returns the
 * mean ns/op over the readers and the max allocs/op. */
static double run_once(enum variant v, bool lookup, int nreaders, bool with_writer,
		       double *allocs)
{
	pthread_t rt[2], wt;
	struct reader_arg ra[2];
	struct writer_arg wa = { v, lookup, 0 };
	struct timespec d = { (time_t)run_secs,
			      (long)((run_secs - (time_t)run_secs) * 1e9) };
	double ns = 0;

	atomic_store(&stop_flag, 0);
	atomic_store(&go_flag, 0);
	for (int i = 0; i < nreaders; i++) {
		ra[i] = (struct reader_arg){ v, lookup, i + 1, 0, 0 };
		pthread_create(&rt[i], NULL, reader, &ra[i]);
	}
	if (with_writer)
		pthread_create(&wt, NULL, writer, &wa);
	atomic_store(&go_flag, 1);
	nanosleep(&d, NULL);
	atomic_store(&stop_flag, 1);
	*allocs = 0;
	for (int i = 0; i < nreaders; i++) {
		pthread_join(rt[i], NULL);
		ns += ra[i].ns_per_op;
		if (ra[i].allocs_per_op > *allocs)
			*allocs = ra[i].allocs_per_op;
	}
	if (with_writer)
		pthread_join(wt, NULL);
	return ns / nreaders;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void measure(const char *what, enum variant v, bool lookup, int nreaders,
		    bool with_writer)
{
	double r[32], allocs = 0, al;
	int n = repeats < 32 ? repeats : 32;

	for (int i = 0; i < n; i++) {
		r[i] = run_once(v, lookup, nreaders, with_writer, &al);
		if (al > allocs)
			allocs = al;
	}
	qsort(r, (size_t)n, sizeof(r[0]), cmp_d);
	printf("%s.%s.%s ns %.3f\n", what, vname[v],
	       with_writer ? "2r+w" : nreaders == 1 ? "1r" : "2r", r[n / 2]);
	printf("%s.%s.%s allocs %.6f\n", what, vname[v],
	       with_writer ? "2r+w" : nreaders == 1 ? "1r" : "2r", allocs);
	fflush(stdout);
}

/* Allocations of a whole `status NAME` reply body on a warmed buffer. */
static void status_path_allocs(void)
{
	struct brm_buf b = BRM_BUF_INIT;
	unsigned long a0;
	int64_t now = brm_now_wall_ms();

	for (int i = 0; i < 16; i++) {    /* warm the buffer */
		brm_buf_reset(&b);
		brm_snapshot_json(&b, entries[i]->snap, now);
	}
	a0 = brm_alloc_count();
	for (int i = 0; i < 10000; i++) {
		brm_buf_reset(&b);
		rcu_read_lock();
		struct brm_reg_entry *e = brm_registry_find(reg, names[i % NAMES]);
		brm_snapshot_json(&b, brm_entry_snapshot(e), now);
		rcu_read_unlock();
	}
	printf("status_json.rcu.1r allocs %.6f\n", (double)(brm_alloc_count() - a0) / 10000.0);
	brm_buf_finish(&b);
}

int main(int argc, char **argv)
{
	if (argc > 1)
		run_secs = atof(argv[1]);
	if (argc > 2)
		repeats = atoi(argv[2]);

	brm_alloc_count_start();
	rcu_register_thread();
	reg = brm_registry_create();
	for (int i = 0; i < NAMES; i++) {
		snprintf(names[i], sizeof(names[i]), "proc-%04d", i);
		struct brm_snapshot *s = brm_snapshot_create(names[i], NULL,
							     "brm-testchild sleep 3600");
		s->pid = 1000 + i;
		s->state = BRM_RUNNING;
		entries[i] = brm_registry_insert(reg, s);
		hnodes[i].name = names[i];
		hnodes[i].hash = brm_registry_hash(reg, names[i]);
		hnodes[i].rec.pid = 1000 + i;
		hnodes[i].next = hbuckets[hnodes[i].hash & (HBUCKETS - 1)];
		hbuckets[hnodes[i].hash & (HBUCKETS - 1)] = &hnodes[i];
	}
	atomic_snap = brm_snapshot_dup(entries[0]->snap, NULL);
	lrec.pid = 1000;

	for (enum variant v = V_ATOMIC; v <= V_RWLOCK; v++) {
		measure("read", v, false, 1, false);
		measure("read", v, false, 2, false);
		measure("read", v, false, 2, true);
	}
	for (enum variant v = V_RCU; v <= V_RWLOCK; v++) {
		measure("lookup", v, true, 1, false);
		measure("lookup", v, true, 2, false);
		measure("lookup", v, true, 2, true);
	}
	status_path_allocs();
	printf("sink %lu\n", bench_sink & 1);
	brm_registry_destroy(reg);
	rcu_unregister_thread();
	return 0;
}
