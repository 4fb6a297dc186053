/*
 * dataset.h - OpenDKIM-style data sets: file:, refile:, csl:, comma lists
 *
 * A spec names where the entries come from:
 *	file:/path	one entry per line: a key, then optionally white space
 *			and a value; '#' comments and blank lines skipped;
 *			keys match exactly, case-insensitively
 *	refile:/path	as file:, but keys are patterns in which '*' matches
 *			any run of characters; the first match in file order
 *			wins
 *	csl:a,b,c	a comma-separated list of keys, no values; items
 *			are trimmed of white space, empty items skipped
 *	/path		a bare absolute path is file:
 *	a,b,c		anything else is a comma-separated list
 * In files, key and value are separated by spaces or tabs; the value is
 * the rest of the line, trimmed (it may contain spaces); a carriage return
 * at the end of a line is dropped.  A "key=value" item in a csl: list is
 * not split (OpenDKIM does that): the whole item is the key.
 * OpenDKIM's other types (db:, ldap:, mysql:, lua:, ...) are refused with
 * a message naming the type.  A missing or unreadable file is an error
 * "PATH: strerror".
 * The data set owns all its memory; returned pointers stay valid until
 * dataset_free() or the next dataset_open() of the same object.
 */
#ifndef COMMON_DATASET_H
#define COMMON_DATASET_H

#include <stddef.h>

#include "buf.h"

enum dataset_kind {
	DATASET_FILE,
	DATASET_REFILE,
	DATASET_LIST,
};

struct dataset_entry {
	char	*key;
	char	*value;			/* NULL when the line had no value */
	int	 line;			/* line in the file; 0 for lists */
};

struct dataset {
	enum dataset_kind	 kind;
	char			*path;		/* file name, or NULL for lists */
	struct dataset_entry	*entries;
	size_t			 n;
};

/* dataset_open - read a data set; on error err says why (file and line) */
int	dataset_open(const char *spec, struct dataset **out, struct buf *err);
/* dataset_lookup - first entry whose key matches (pattern for refile:) */
const struct dataset_entry *dataset_lookup(const struct dataset *,
	    const char *key);
/* dataset_match - does a refile: pattern match? ('*' matches any run of
 * characters, the empty one too; everything else is literal; no case) */
int	dataset_match(const char *pattern, const char *str);
void	dataset_free(struct dataset *);

#endif
