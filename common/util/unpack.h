/*
 * unpack.h - gzip and zip archives from strangers, inflated with zlib
 *	into a bounded output
 *
 * Every function appends what it inflates to a caller's struct buf and
 * stops with UNPACK_TOOBIG as soon as the output would pass max bytes
 * (a "zip bomb" costs us max bytes and the time to inflate them, no
 * more).  Zip archives are read through their central directory; only
 * the methods stored (0) and deflate (8) are accepted, without
 * encryption or Zip64; each member's size and CRC-32 are checked.
 */
#ifndef COMMON_UNPACK_H
#define COMMON_UNPACK_H

#include <stddef.h>

#include "buf.h"

#define UNPACK_ZIP_MEMBERS	64	/* members of a zip archive, at most */

enum unpack_status {
	UNPACK_OK = 0,
	UNPACK_TOOBIG,		/* the output would pass the bound */
	UNPACK_TRUNCATED,	/* the input ends early */
	UNPACK_CORRUPT,		/* not gzip or zip, or damaged */
	UNPACK_UNSUPPORTED,	/* a zip method, encryption or Zip64 */
	UNPACK_NOMEM,
};

/* unpack_is_gzip, unpack_is_zip - by the first bytes */
int	unpack_is_gzip(const void *, size_t);
int	unpack_is_zip(const void *, size_t);
/* unpack_gzip - the members of a gzip file, one after the other, into
 * out */
enum unpack_status unpack_gzip(const void *in, size_t n, size_t max,
	    struct buf *out);
/* unpack_zip - each member of a zip archive (directories skipped) to
 * each(arg, name, data, len); the members together stay within max; a
 * non-zero return from each stops the walk and is returned in *stopped
 * (which may be NULL) */
enum unpack_status unpack_zip(const void *in, size_t n, size_t max,
	    int (*each)(void *arg, const char *name, const char *data,
	    size_t len), void *arg, int *stopped);
const char *unpack_strerror(enum unpack_status);

#endif
