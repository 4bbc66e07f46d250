/*
 * pattern.h — regular expressions whose cost is bounded, whoever wrote them.
 *
 * Every pattern brummd or brummctl compiles goes through here: a reader's
 * `logs` grep, follow streams, error_patterns and the stack-trace pattern,
 * the health `log` regex, and brummctl's local check of --grep. The engine
 * is PCRE2 (8-bit, bytes: no UTF mode, so log lines that are not valid UTF-8
 * match as bytes, as glibc's regexec did in the C locale), with fixed
 * limits, so that no pattern can take more than a bounded amount of time,
 * memory or stack:
 *
 *   compile   at most BRM_PATTERN_MAX_LEN bytes of pattern, parentheses
 *             nested at most BRM_PATTERN_MAX_NEST deep, at most
 *             BRM_PATTERN_MAX_SIZE bytes compiled; PCRE2 compiles bounded
 *             repeats ({m,n}) without expanding them into automata; the
 *             JIT compiles patterns up to BRM_PATTERN_JIT_MAX_SIZE compiled
 *             bytes (its compiler needs up to ~32 bytes of stack per byte:
 *             at most ~160 KiB in all), larger ones are interpreted
 *   match     at most BRM_PATTERN_MATCH_LIMIT + 16 steps per byte of the
 *             line (a linear bound: steps are backtracks, and a usual
 *             pattern needs 1-3 per byte; brm_pattern_set_base() lowers the
 *             fixed part for patterns run on the loop thread); the JIT (used
 *             where it compiles) runs on a stack of its own, one per
 *             thread, at most BRM_PATTERN_JIT_STACK bytes, allocated on the
 *             first match; the interpreter keeps its backtracking frames on
 *             the heap, at most BRM_PATTERN_HEAP_KIB and
 *             BRM_PATTERN_DEPTH_LIMIT deep. Either way a match needs only a
 *             small, fixed amount of the caller's stack.
 *
 * Syntax: POSIX extended regular expressions as users write them keep
 * working (alternation, anchors, bracket expressions, [[:digit:]] and the
 * other classes, {m,n}, backreferences). What differs from glibc's regcomp
 * is in README.md ("Patterns"): a backslash inside brackets escapes,
 * PCRE2's own syntax (\d, (?i), lazy quantifiers) is accepted, and the
 * match is leftmost-first (the same lines match; only which part differs).
 *
 * Threads: compiling is safe from any thread. A compiled pattern holds its
 * own match data, so it is used (brm_pattern_match) by one thread at a time;
 * a pattern used by several threads is compiled once per thread.
 */
#ifndef BRM_PATTERN_H
#define BRM_PATTERN_H

#include <stdbool.h>
#include <stddef.h>

#define BRM_PATTERN_MAX_LEN      4096      /* bytes of pattern text */
#define BRM_PATTERN_MAX_NEST     32        /* nested parentheses */
#define BRM_PATTERN_MAX_SIZE     (64u << 10) /* bytes of compiled pattern */
#define BRM_PATTERN_JIT_MAX_SIZE 4096      /* larger: interpreted (JIT compile stack) */
#define BRM_PATTERN_MATCH_LIMIT  1000000   /* steps per match, + 16 per byte */
#define BRM_PATTERN_STEPS_PER_BYTE 16
#define BRM_PATTERN_DEPTH_LIMIT  100000    /* nested backtracking frames */
#define BRM_PATTERN_HEAP_KIB     1024      /* backtracking frames, KiB */
#define BRM_PATTERN_JIT_STACK    (1u << 20) /* per thread */
#define BRM_PATTERN_LOOP_BASE    20000     /* brm_pattern_set_base on the loop */

struct brm_pattern;

/*
 * Compile the alternatives in @pats (a NULL-terminated vector) into *@out:
 * one pattern that matches where any of them does. Each is compiled on its
 * own (nothing is pasted together, so no pattern changes another's meaning
 * or group numbers). Returns 0; -EINVAL for a syntax error; -E2BIG for a
 * pattern over a limit; -ENOMEM. On an error *@why (unless @why is NULL)
 * is set to a message for a person, naming the limit or the error and
 * where, without the key it came from (`nests parentheses deeper than 32`;
 * `missing closing parenthesis at offset 3`), and *@idx (unless NULL) to
 * the index of the pattern that failed.
 * Ownership: the caller destroys *@out with brm_pattern_destroy() and frees
 * *@why with free().
 */
int brm_pattern_compile_any(char *const *pats, struct brm_pattern **out, char **why,
			    size_t *idx);

/* The same for one pattern. */
int brm_pattern_compile(const char *pat, struct brm_pattern **out, char **why);

/* Check @pat without keeping it: brm_pattern_compile, then destroy. */
int brm_pattern_check(const char *pat, char **why);

void brm_pattern_destroy(struct brm_pattern *p);

/*
 * Does @p match somewhere in the @n bytes at @s (which may hold NUL bytes and
 * invalid UTF-8)? Returns 1 (match), 0 (no match), or -E2BIG when the match
 * reached a limit (then brm_pattern_limit() names it). A caller that cannot
 * fail (error detection, health) takes a limit as "no match".
 * Context: one thread at a time per @p (it uses @p's match data); allocates
 * nothing after the first call.
 */
int brm_pattern_match(struct brm_pattern *p, const char *s, size_t n);

/*
 * The limit the last brm_pattern_match() of @p reached, for a message:
 * "the match limit (1002416 steps for a 151-byte line)"; "" when none was.
 * Context: as brm_pattern_match, on the same thread.
 */
const char *brm_pattern_limit(struct brm_pattern *p);

/*
 * Lower the fixed part of @p's match limit to @base steps (the per-byte
 * part stays): for patterns matched on the loop thread, where a line must
 * cost microseconds, not milliseconds. Context: the thread that uses @p.
 */
void brm_pattern_set_base(struct brm_pattern *p, unsigned base);

/*
 * Give back the interpreter's backtracking frames kept from the last
 * match (up to BRM_PATTERN_HEAP_KIB; the JIT keeps none): for a pattern
 * held long between matches, such as a follow stream's.
 * Context: the thread that uses @p.
 */
void brm_pattern_trim(struct brm_pattern *p);

/* Was @p compiled by the JIT? (Benchmarks and tests.) */
bool brm_pattern_jit(const struct brm_pattern *p);

#endif
