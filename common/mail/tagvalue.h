/*
 * tagvalue.h - DKIM tag=value lists (RFC 6376 section 3.2)
 *
 * The caller names the tags it knows in a table indexed by its own enum;
 * tagvalue_parse() fills a parallel array of struct tagvalue.  Values
 * point into the caller's input (nothing is allocated, nothing to free).
 * Unknown tags are checked for syntax and duplicates, then ignored.
 */
#ifndef COMMON_TAGVALUE_H
#define COMMON_TAGVALUE_H

#include <stddef.h>

#define TAGVALUE_MAX_TAGS	128	/* more tags make the list invalid */

struct tagvalue {
	const char *value;	/* NULL when the tag is absent */
	size_t	    len;	/* value without surrounding white space */
	size_t	    raw_start;	/* offset just after the "=" */
	size_t	    raw_end;	/* offset of the ";" or of the end */
};

enum tagvalue_status {
	TAGVALUE_OK = 0,
	TAGVALUE_SYNTAX,	/* not a tag-list; *erroff says where */
	TAGVALUE_DUPLICATE,	/* a tag occurs twice; *erroff says where
				   the second one's name starts */
	TAGVALUE_TOOMANY,	/* more than TAGVALUE_MAX_TAGS tags */
};

/* tagvalue_parse - parse s[0..len) against names[0..n); vals[n] out */
enum tagvalue_status tagvalue_parse(const char *s, size_t len,
	    const char *const *names, size_t n, struct tagvalue *vals,
	    size_t *erroff);
/* tagvalue_is - 1 when a present value equals str (case-sensitive) */
int	tagvalue_is(const struct tagvalue *, const char *str);
/* tagvalue_next_item - iterate a "a : b : c" list in a value: *pos
 * starts at 0; returns 1 and the item (white space trimmed) or 0 at end */
int	tagvalue_next_item(const struct tagvalue *, int sep, size_t *pos,
	    const char **item, size_t *ilen);
const char *tagvalue_strerror(enum tagvalue_status);

#endif
