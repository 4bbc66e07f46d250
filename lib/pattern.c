/*
 * pattern.c — bounded regular expressions on PCRE2 (see pattern.h).
 *
 * glibc's regcomp recursed once per nesting level on the caller's stack
 * (~650 bytes each: 800 nested parentheses overflowed a worker), expanded
 * {m,n} into automata ((a{1,400}){1,400} took 550 MB) and regexec had no
 * time limit. PCRE2 gives each of these a limit: the compile context
 * bounds length and nesting, the pattern's compiled size is checked after
 * compiling, and the match context bounds steps, depth and heap. Since
 * 10.30 the interpreter keeps its backtracking frames on the heap, and the
 * JIT runs on a fixed 32 KiB of machine stack, so a match needs a bounded,
 * small amount of the caller's stack whatever the pattern.
 *
 * The compile context is built once and only read afterwards, by any
 * thread; each pattern has its own match context (its limit depends on
 * the line) and match data. The JIT stack is per thread: a pthread key
 * frees it when the thread ends.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <errno.h>
#include <pcre2.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/pattern.h"
#include "lib/util.h"

#define STR_(x) #x
#define STR(x) STR_(x)

/*
 * ERE semantics where PCRE2's defaults differ: `$` only at the very end
 * (not before a final newline) and `.` matches a newline too, as regexec
 * without REG_NEWLINE did. NEVER_UTF: a pattern cannot switch to UTF mode
 * with (*UTF), in which invalid UTF-8 in a line would be an error.
 */
#define COMPILE_OPTIONS (PCRE2_DOLLAR_ENDONLY | PCRE2_DOTALL | PCRE2_NEVER_UTF)

struct one {
	pcre2_code *code;
	bool jit;
};

struct brm_pattern {
	struct one *v;
	size_t n;
	pcre2_match_data *md;
	pcre2_match_context *mctx;
	unsigned base;          /* fixed part of the match limit */
	int last;               /* the PCRE2 result of the last match that failed */
	uint32_t last_limit;
	size_t last_len;
	char msg[96];
};

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pcre2_compile_context *cctx;
static pthread_key_t jit_key;

static void jit_stack_free(void *js)
{
	pcre2_jit_stack_free(js);
}

static void contexts_init(void)
{
	cctx = pcre2_compile_context_create(NULL);
	if (!cctx || pthread_key_create(&jit_key, jit_stack_free) != 0)
		brm_oom(256);
	pcre2_set_parens_nest_limit(cctx, BRM_PATTERN_MAX_NEST);
	pcre2_set_max_pattern_length(cctx, BRM_PATTERN_MAX_LEN);
}

/* PCRE2 asks for the JIT stack at each JIT match: this thread's. NULL (no
 * memory) makes it use 32 KiB of the machine stack instead. */
static pcre2_jit_stack *jit_stack(void *unused)
{
	pcre2_jit_stack *js = pthread_getspecific(jit_key);

	(void)unused;
	if (!js) {
		js = pcre2_jit_stack_create(32u << 10, BRM_PATTERN_JIT_STACK, NULL);
		if (js && pthread_setspecific(jit_key, js) != 0) {
			pcre2_jit_stack_free(js);
			js = NULL;
		}
	}
	return js;
}

static void set_why(char **why, char *msg)
{
	if (why)
		*why = msg;
	else
		free(msg);
}

static int compile_one(const char *pat, struct one *o, char **why)
{
	size_t len = strlen(pat), size = 0;
	PCRE2_SIZE off = 0;
	int err = 0;

	if (len > BRM_PATTERN_MAX_LEN) {
		set_why(why, brm_xasprintf("pattern longer than %d bytes", BRM_PATTERN_MAX_LEN));
		return -E2BIG;
	}
	o->code = pcre2_compile((PCRE2_SPTR)pat, len, COMPILE_OPTIONS, &err, &off, cctx);
	if (!o->code) {
		PCRE2_UCHAR msg[160];

		switch (err) {
		case PCRE2_ERROR_PARENTHESES_NEST_TOO_DEEP:
			set_why(why, brm_xasprintf("pattern nests parentheses deeper than %d",
						   BRM_PATTERN_MAX_NEST));
			return -E2BIG;
		case PCRE2_ERROR_PATTERN_TOO_LARGE:
		case PCRE2_ERROR_PATTERN_TOO_COMPLICATED:
			set_why(why, brm_xasprintf("pattern compiles larger than %u bytes",
						   BRM_PATTERN_MAX_SIZE));
			return -E2BIG;
		case PCRE2_ERROR_PATTERN_STRING_TOO_LONG:
			set_why(why, brm_xasprintf("pattern longer than %d bytes",
						   BRM_PATTERN_MAX_LEN));
			return -E2BIG;
		case PCRE2_ERROR_HEAP_FAILED:
			set_why(why, brm_xasprintf("out of memory compiling the pattern"));
			return -ENOMEM;
		default:
			if (pcre2_get_error_message(err, msg, sizeof(msg)) < 0)
				snprintf((char *)msg, sizeof(msg), "error %d", err);
			set_why(why, brm_xasprintf("%s at offset %zu", (const char *)msg,
						   (size_t)off));
			return -EINVAL;
		}
	}
	if (pcre2_pattern_info(o->code, PCRE2_INFO_SIZE, &size) != 0 ||
	    size > BRM_PATTERN_MAX_SIZE) {
		pcre2_code_free(o->code);
		o->code = NULL;
		set_why(why, brm_xasprintf("pattern compiles larger than %u bytes",
					   BRM_PATTERN_MAX_SIZE));
		return -E2BIG;
	}
	/*
	 * The JIT compiler recurses once per copy of a repeated group ({m,n}
	 * is compiled as copies): up to ~32 bytes of stack per byte of
	 * compiled pattern, measured. Above BRM_PATTERN_JIT_MAX_SIZE, and where
	 * the JIT does not compile (no memory, an unsupported CPU), the
	 * interpreter runs the pattern, under the same limits; it keeps its
	 * state on the heap.
	 */
	if (size <= BRM_PATTERN_JIT_MAX_SIZE)
		o->jit = pcre2_jit_compile(o->code, PCRE2_JIT_COMPLETE) == 0;
	return 0;
}

int brm_pattern_compile_any(char *const *pats, struct brm_pattern **out, char **why,
			    size_t *idx)
{
	struct brm_pattern *p;
	size_t n = brm_strv_len(pats);
	int r;

	pthread_once(&once, contexts_init);
	*out = NULL;
	p = brm_xcalloc(1, sizeof(*p));
	p->v = brm_xcalloc(n ? n : 1, sizeof(*p->v));
	for (p->n = 0; p->n < n; p->n++) {
		r = compile_one(pats[p->n], &p->v[p->n], why);
		if (r < 0) {
			if (idx)
				*idx = p->n;
			goto out_destroy;
		}
	}
	/* One pair: the caller asks only whether a line matches. */
	p->md = pcre2_match_data_create(1, NULL);
	p->mctx = pcre2_match_context_create(NULL);
	if (!p->md || !p->mctx) {
		set_why(why, brm_xasprintf("out of memory compiling the pattern"));
		r = -ENOMEM;
		goto out_destroy;
	}
	pcre2_set_depth_limit(p->mctx, BRM_PATTERN_DEPTH_LIMIT);
	pcre2_set_heap_limit(p->mctx, BRM_PATTERN_HEAP_KIB);
	pcre2_jit_stack_assign(p->mctx, jit_stack, NULL);
	p->base = BRM_PATTERN_MATCH_LIMIT;
	*out = p;
	return 0;

out_destroy:
	brm_pattern_destroy(p);
	return r;
}

int brm_pattern_compile(const char *pat, struct brm_pattern **out, char **why)
{
	char *v[2] = { (char *)pat, NULL };

	return brm_pattern_compile_any(v, out, why, NULL);
}

int brm_pattern_check(const char *pat, char **why)
{
	struct brm_pattern *p;
	int r = brm_pattern_compile(pat, &p, why);

	brm_pattern_destroy(p);
	return r;
}

void brm_pattern_destroy(struct brm_pattern *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		pcre2_code_free(p->v[i].code);
	free(p->v);
	pcre2_match_data_free(p->md);
	pcre2_match_context_free(p->mctx);
	free(p);
}

void brm_pattern_set_base(struct brm_pattern *p, unsigned base)
{
	p->base = base;
}

void brm_pattern_trim(struct brm_pattern *p)
{
	pcre2_match_data *md;

	if (brm_pattern_jit(p))
		return;
	md = pcre2_match_data_create(1, NULL);
	if (md) {
		pcre2_match_data_free(p->md);
		p->md = md;
	}
}

int brm_pattern_match(struct brm_pattern *p, const char *s, size_t n)
{
	uint64_t limit = p->base + (uint64_t)n * BRM_PATTERN_STEPS_PER_BYTE;
	int limited = 0;

	p->last = 0;
	p->last_limit = limit > UINT32_MAX ? UINT32_MAX : (uint32_t)limit;
	p->last_len = n;
	pcre2_set_match_limit(p->mctx, p->last_limit);
	for (size_t i = 0; i < p->n; i++) {
		int r = pcre2_match(p->v[i].code, (PCRE2_SPTR)s, n, 0, 0, p->md, p->mctx);

		if (r >= 0)
			return 1;
		if (r != PCRE2_ERROR_NOMATCH) {
			/* A limit (or no memory): the others may still match. */
			p->last = r;
			limited = -E2BIG;
		}
	}
	return limited;
}

const char *brm_pattern_limit(struct brm_pattern *p)
{
	switch (p->last) {
	case 0:
		return "";
	case PCRE2_ERROR_MATCHLIMIT:
		snprintf(p->msg, sizeof(p->msg), "the match limit (%lu steps for a %zu-byte line)",
			 (unsigned long)p->last_limit, p->last_len);
		return p->msg;
	case PCRE2_ERROR_DEPTHLIMIT:
		return "the depth limit (" STR(BRM_PATTERN_DEPTH_LIMIT) " nested backtracks)";
	case PCRE2_ERROR_HEAPLIMIT:
		return "the heap limit (" STR(BRM_PATTERN_HEAP_KIB) " KiB)";
	case PCRE2_ERROR_JIT_STACKLIMIT:
		snprintf(p->msg, sizeof(p->msg), "the JIT stack limit (%u KiB)",
			 BRM_PATTERN_JIT_STACK >> 10);
		return p->msg;
	case PCRE2_ERROR_NOMEMORY:
		return "the memory available";
	default:
		return "an internal limit of the regex engine";
	}
}

bool brm_pattern_jit(const struct brm_pattern *p)
{
	for (size_t i = 0; i < p->n; i++)
		if (!p->v[i].jit)
			return false;
	return true;
}
