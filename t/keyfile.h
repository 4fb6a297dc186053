/*
 * keyfile.h - the test tools' message input and key files (dkimtool,
 * arctool)
 *
 * A key file has a line per key record: the query name (a final dot
 * optional), blanks, then the TXT value, plain or as quoted strings
 * ("a" "b" joined), or the word TEMPFAIL for a lookup that fails.
 */
#ifndef T_KEYFILE_H
#define T_KEYFILE_H

#include <stdio.h>

#include "buf.h"
#include "dkim.h"

#define KEYFILE_MSG_MAX	(64u << 20)	/* a message read, at most */

/* keyfile_read_all - a stream into a buffer (NUL-terminated), at most
 * KEYFILE_MSG_MAX bytes; 0 or -1 */
int	keyfile_read_all(FILE *, struct buf *);

/* keyfile_lookup - the key callback of dkim_verify_new() and arc_new():
 * arg is the key file's path */
enum dkim_key_status keyfile_lookup(void *arg, const char *qname,
	    struct buf *rec, int *secure);

#endif
