/*
 * conf.h - table-driven configuration loader for "Keyword value" files
 *
 * The file format is opendkim.conf's: one "Keyword value" per line, the
 * keyword case-insensitive, the value the rest of the line with leading
 * and trailing white space removed (inner spaces are kept); '#' starts a
 * comment (a '#' inside the value ends it too, as in OpenDKIM); blank
 * lines are skipped; a carriage return before the newline is dropped.
 * Lines may be up to 1 MB long.
 *
 * Each daemon declares one table of struct conf_kw and one struct that
 * holds the values; the loader writes each value at its offset:
 *	CONF_STR	char *		(malloc'd copy; NULL when unset)
 *	CONF_BOOL	int		yes/no/true/false/on/off/1/0/y/n
 *	CONF_INT	long		decimal, within [min, max]
 *	CONF_IGNORED	(no storage)	accepted; a warning says it has no
 *					effect here, with the row's note as
 *					the reason
 * A keyword without a value is an error, except for CONF_IGNORED.
 * Defaults come from the row's def string, parsed like file text; a row
 * without def starts as NULL, 0 or 0.
 * Data sets and host lists are CONF_STR; the daemon opens them with
 * dataset_open() / hostlist_load() after loading.
 *
 * A keyword given twice: the last one wins (and conf_where() names it).
 *
 * Errors: every bad line of a text is reported, one line of err each,
 * joined by newlines without a final one; loading then returns -1 (the
 * good lines have been applied).  Messages name file, line and keyword:
 *	FILE:LINE: unknown keyword 'Sokcet'; did you mean 'Socket'?
 *	FILE:LINE: Syslog: 'maybe' is not a boolean (expected yes or no ...)
 *	FILE:LINE: MaximumHeaders: 0 is out of range (expected an integer
 *	    from 1 to 1000)
 *	FILE:LINE: Mode: missing value (expected a value)
 *	FILE: No such file or directory
 * A bad default in the table is reported by conf_init() as "default: ...".
 * The suggestion is the keyword at the smallest case-insensitive edit
 * distance (a swap of two letters counts one), if at most 1 + len/4
 * and at most 4.
 *
 * Memory: conf_init() must be paired with conf_free(), even when it
 * fails; the struct conf and the value struct belong to the caller.
 */
#ifndef COMMON_CONF_H
#define COMMON_CONF_H

#include <stddef.h>

#include "buf.h"

struct dataset;
struct dns_resolver;
struct hostlist;

enum conf_type {
	CONF_STR,
	CONF_BOOL,
	CONF_INT,
	CONF_IGNORED,
};

struct conf_kw {
	const char	*name;		/* keyword, as documented */
	enum conf_type	 type;
	const char	*def;		/* default as text, or NULL */
	size_t		 off;		/* offsetof() into the value struct */
	long		 min, max;	/* bounds for CONF_INT */
	const char	*note;		/* CONF_IGNORED: why it has no effect */
};

struct conf_loc {
	char	*file;			/* where the keyword was set, or NULL */
	int	 line;			/* 0 when set by default */
};

struct conf {
	const struct conf_kw	*table;
	size_t			 ntable;
	void			*dst;		/* the value struct */
	struct conf_loc		*loc;		/* one per table row */
	struct buf		 warnings;	/* "file:line: Keyword has no effect
						   here: note\n" lines */
};

/* conf_init - bind a table to a value struct and apply the defaults */
int	conf_init(struct conf *, const struct conf_kw *, size_t, void *dst,
	    struct buf *err);
/* conf_load_file - read a file; on error err holds "file:line: why" lines */
int	conf_load_file(struct conf *, const char *path, struct buf *err);
/* conf_load_string - read text (an embedded default); name for messages */
int	conf_load_string(struct conf *, const char *text, const char *name,
	    struct buf *err);
/* conf_load - what a daemon reads: the file at path, or text (its
 * built-in default, named "(built-in default)") when path is NULL, then
 * the command-line overrides ("(command line)") when not NULL */
int	conf_load(struct conf *, const char *path, const char *text,
	    const char *overrides, struct buf *err);
/* conf_find - the table row for a keyword (case-insensitive), or NULL */
const struct conf_kw *conf_find(const struct conf *, const char *name);
/* conf_where - where a keyword was set; NULL if never set (default) */
const struct conf_loc *conf_where(const struct conf *, const char *name);
/* conf_nearest - the known keyword closest to an unknown one, or NULL */
const char *conf_nearest(const struct conf *, const char *name);
/* conf_free - free the strings in dst and the loader's own memory */
void	conf_free(struct conf *);
/* conf_at - append "file:line: " where kw was set; nothing for a default */
void	conf_at(const struct conf *, const char *kw, struct buf *out);
/* conf_dataset - open the data set a keyword names; spec NULL: nothing
 * to do; on error err says "file:line: Keyword: why" */
int	conf_dataset(const struct conf *, const char *kw, const char *spec,
	    struct dataset **out, struct buf *err);
/* conf_hostlist - the same for a host list; the list's warnings are
 * appended to warn, each line naming the keyword */
int	conf_hostlist(const struct conf *, const char *kw, const char *spec,
	    struct hostlist **out, struct buf *err, struct buf *warn);
/* conf_resolver - the DNS resolver for Nameservers (NULL: the system's)
 * and a timeout in seconds; errors name the Nameservers line */
int	conf_resolver(const struct conf *, const char *nameservers,
	    long timeout_s, size_t cache_max, struct dns_resolver **out,
	    struct buf *err);
/* conf_parse_bool - 1, 0, or -1 when not a boolean word (no case) */
int	conf_parse_bool(const char *);

#endif
