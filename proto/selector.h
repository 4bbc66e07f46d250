/*
 * selector.h — how a request names processes (proto/PROTOCOL.md,
 * "Addressing processes"). A selector is one of:
 *
 *   a name      "web": the process of that name; when there is none, its
 *               instance group: every process named "web:N" (N decimal),
 *               which "instances": N in the config makes
 *   a pattern   "web*", "w?b", "[ab]pi": a glob (any of * ? [ in it),
 *               matched against whole process names; * and ? match any
 *               character, ':' too; [abc], [a-z], [!a] or [^a] one of a set
 *
 * Names never hold * ? [ ] (proto.h), so a selector is a pattern exactly
 * when it holds one of them. Patterns come from any client, so their cost
 * is bounded: at most BRM_SELECTOR_MAX_LEN bytes each, at most
 * BRM_SELECTOR_MAX_PATTERNS per request, and the matcher is iterative with
 * one backtracking point: O(pattern x name) steps, no recursion, whatever
 * the pattern ("*a*a*a*a*a*a*a*a*b" against a 64-byte name is a few
 * thousand steps).
 *
 * Shared by brummd and brummctl (which checks the same bounds before it
 * connects). Everything here is pure and safe from any thread.
 */
#ifndef BRM_SELECTOR_H
#define BRM_SELECTOR_H

#include <stdbool.h>
#include <stddef.h>

#define BRM_SELECTOR_MAX_LEN 64        /* bytes of one name or pattern */
#define BRM_SELECTOR_MAX_PATTERNS 8    /* patterns in one request */

/* Does @s hold a glob character (* ? [)? */
bool brm_selector_is_pattern(const char *s);

/*
 * Is @s a valid selector? Returns NULL when it is, else a message for a
 * person (static text) saying what is wrong: `longer than 64 bytes`,
 * `'[' without its ']'`, or the rule for names.
 */
const char *brm_selector_check(const char *s);

/*
 * Does the glob @pat match all of @name? @pat must have passed
 * brm_selector_check. Runs in O(strlen(pat) * strlen(name)).
 */
bool brm_glob_match(const char *pat, const char *name);

/* Is @name an instance of group @group: @group ":" digits ("web:3")? */
bool brm_name_in_group(const char *group, const char *name);

/*
 * Does selector @sel take @name, judged by the name alone (for filters
 * that also apply to processes added later: event and log streams)? A
 * pattern matches it; a name is it or has it as its group.
 */
bool brm_selector_matches(const char *sel, const char *name);

#endif
