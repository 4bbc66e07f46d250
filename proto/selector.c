/*
 * selector.c — names, groups and glob patterns (selector.h).
 *
 * The matcher is the classic iterative glob: walk pattern and name
 * together; at a '*' remember where it was and how much of the name it
 * took; at a mismatch let the last '*' take one more character and go on
 * from just after it. Every other pattern element takes exactly one
 * character, so only the last '*' ever needs retrying (an earlier star
 * could only take more of the name, which the last one can take as well):
 * at most strlen(name) retries, each re-reading at most the rest of the
 * pattern. fnmatch(3) in glibc recurses per '*' instead and takes
 * exponential time on "*a*a*a*...b".
 */
#include <string.h>

#include "proto/proto.h"
#include "proto/selector.h"

static bool name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-' || c == ':' || c == '@';
}

bool brm_selector_is_pattern(const char *s)
{
	return s && strpbrk(s, "*?[") != NULL;
}

/* The bracket expression at @p ('[' ... ']'), checked: the byte after
 * its ']', or NULL when it is not well formed. */
static const char *class_end(const char *p)
{
	const char *q = p + 1;

	if (*q == '!' || *q == '^')
		q++;
	if (*q == ']')
		return NULL;   /* empty: names hold no ']' to put first */
	while (*q && *q != ']') {
		if (!name_char((unsigned char)*q))
			return NULL;
		if (q[1] == '-' && q[2] && q[2] != ']') {
			if (!name_char((unsigned char)q[2]) || (unsigned char)q[2] < (unsigned char)*q)
				return NULL;
			q += 3;
		} else {
			q++;
		}
	}
	return *q == ']' ? q + 1 : NULL;
}

const char *brm_selector_check(const char *s)
{
	size_t n;

	if (!s || !*s)
		return "empty";
	n = strnlen(s, BRM_SELECTOR_MAX_LEN + 1);
	if (n > BRM_SELECTOR_MAX_LEN)
		return "longer than 64 bytes";
	if (!brm_selector_is_pattern(s)) {
		if (!brm_name_valid(s))
			return "use 1-64 characters of A-Z a-z 0-9 . _ : @ -, not starting with"
			       " '.' or '-' (or a pattern with * ? [...])";
		return NULL;
	}
	for (const char *p = s; *p;) {
		if (*p == '[') {
			const char *end = class_end(p);

			if (!end)
				return "'[' without its ']', or a bracket expression that is empty,"
				       " holds a character no name has, or a range backwards";
			p = end;
		} else if (*p == '*' || *p == '?' || name_char((unsigned char)*p)) {
			p++;
		} else {
			return "a pattern holds A-Z a-z 0-9 . _ : @ - and * ? [...] only";
		}
	}
	return NULL;
}

/* Does the bracket expression at @p ('[') take @c? *@next: after it. */
static bool class_match(const char *p, char c, const char **next)
{
	const char *q = p + 1;
	bool negate = false, hit = false;

	if (*q == '!' || *q == '^') {
		negate = true;
		q++;
	}
	while (*q && *q != ']') {
		if (q[1] == '-' && q[2] && q[2] != ']') {
			if ((unsigned char)c >= (unsigned char)q[0] &&
			    (unsigned char)c <= (unsigned char)q[2])
				hit = true;
			q += 3;
		} else {
			if (*q == c)
				hit = true;
			q++;
		}
	}
	*next = *q ? q + 1 : q;
	return hit != negate;
}

bool brm_glob_match(const char *pat, const char *name)
{
	const char *p = pat, *s = name, *star_p = NULL, *star_s = NULL;

	while (*s) {
		const char *next = p + 1;

		if (*p == '*') {
			star_p = ++p;
			star_s = s;
			continue;
		}
		if (*p && (*p == '?' || (*p == '[' ? class_match(p, *s, &next) : *p == *s))) {
			p = next;
			s++;
			continue;
		}
		if (!star_p)
			return false;
		/* The last '*' takes one more character; retry after it. */
		p = star_p;
		s = ++star_s;
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

bool brm_name_in_group(const char *group, const char *name)
{
	size_t n = strlen(group);

	if (strncmp(group, name, n) || name[n] != ':' || !name[n + 1])
		return false;
	for (const char *d = name + n + 1; *d; d++)
		if (*d < '0' || *d > '9')
			return false;
	return true;
}

bool brm_selector_matches(const char *sel, const char *name)
{
	if (brm_selector_is_pattern(sel))
		return brm_glob_match(sel, name);
	return !strcmp(sel, name) || brm_name_in_group(sel, name);
}
