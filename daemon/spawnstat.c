/*
 * spawnstat.c — the spawn-time histogram (spawnstat.h).
 */
#include "daemon/spawnstat.h"
#include "lib/util.h"

/* Upper bounds in nanoseconds; the last range is everything above. */
static const uint64_t bounds_ns[] = {
	50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000, 50000000,
};
static const char *const bounds_text[] = {
	"5e-05", "0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.05",
};
#define NB BRM_ARRAY_SIZE(bounds_ns)

static uint64_t counts[NB + 1];   /* atomic: spawns per range, not cumulative */
static uint64_t sum_ns;           /* atomic */

void brm_spawnstat_record(uint64_t ns)
{
	size_t i = 0;

	while (i < NB && ns > bounds_ns[i])
		i++;
	__atomic_add_fetch(&counts[i], 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&sum_ns, ns, __ATOMIC_RELAXED);
}

void brm_spawnstat_render(struct brm_buf *b)
{
	uint64_t c[NB + 1], cum = 0;

	for (size_t i = 0; i <= NB; i++)
		c[i] = __atomic_load_n(&counts[i], __ATOMIC_RELAXED);
	brm_buf_adds(b, "# HELP brummd_spawn_duration_seconds Time the loop thread spent starting"
		     " a child, up to its pid.\n# TYPE brummd_spawn_duration_seconds histogram\n");
	for (size_t i = 0; i < NB; i++) {
		cum += c[i];
		brm_buf_addf(b, "brummd_spawn_duration_seconds_bucket{le=\"%s\"} %llu\n",
			     bounds_text[i], (unsigned long long)cum);
	}
	cum += c[NB];
	brm_buf_addf(b, "brummd_spawn_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
		     "brummd_spawn_duration_seconds_sum %.9g\n"
		     "brummd_spawn_duration_seconds_count %llu\n", (unsigned long long)cum,
		     (double)__atomic_load_n(&sum_ns, __ATOMIC_RELAXED) / 1e9,
		     (unsigned long long)cum);
}
