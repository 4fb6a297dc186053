/*
 * NAME
 *	unpack - gzip and zip archives inflated into a bounded output
 * SYNOPSIS
 *	#include "unpack.h"
 * DESCRIPTION
 *	unpack_gzip() runs zlib's inflate (gzip wrapper) over the input,
 *	a chunk of output at a time, and checks the bound after each
 *	chunk; concatenated members are inflated one after the other.
 *
 *	unpack_zip() finds the end of central directory record in the
 *	last 64 KiB + 22 bytes, walks the central directory (bounds
 *	checked for every field), finds each member's data behind its
 *	local header, and inflates it raw (method 8) or copies it (method
 *	0), checking the sizes and the CRC-32 the directory gives.
 * DIAGNOSTICS
 *	An enum unpack_status; unpack_strerror() names it.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "unpack.h"

#define CHUNK	16384

/* unpack_is_gzip - the gzip magic and deflate method */
int
unpack_is_gzip(const void *p, size_t n)
{
	const unsigned char *b = p;

	return n >= 3 && b[0] == 0x1f && b[1] == 0x8b && b[2] == 8;
}

/* unpack_is_zip - a local file header or an empty archive's end record */
int
unpack_is_zip(const void *p, size_t n)
{
	return n >= 4 && (memcmp(p, "PK\3\4", 4) == 0 ||
	    memcmp(p, "PK\5\6", 4) == 0);
}

/* inflate_into - a zlib stream (wbits as inflateInit2's) from in into
 * out, at most max bytes of output in all; *used is the input consumed */
static enum unpack_status
inflate_into(const unsigned char *in, size_t n, int wbits, size_t max,
    struct buf *out, size_t *used)
{
	unsigned char chunk[CHUNK];
	z_stream z;
	int rc;
	size_t left = n;

	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, wbits) != Z_OK)
		return UNPACK_NOMEM;
	z.next_in = (unsigned char *)in;
	do {
		if (z.avail_in == 0) {
			z.avail_in = left > 1u << 30 ? 1u << 30 : (uInt)left;
			left -= z.avail_in;
		}
		z.next_out = chunk;
		z.avail_out = sizeof(chunk);
		rc = inflate(&z, Z_NO_FLUSH);
		if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
			inflateEnd(&z);
			return rc == Z_MEM_ERROR ? UNPACK_NOMEM :
			    UNPACK_CORRUPT;
		}
		if (sizeof(chunk) - z.avail_out > max - out->len) {
			inflateEnd(&z);
			return UNPACK_TOOBIG;
		}
		if (buf_append(out, chunk, sizeof(chunk) - z.avail_out) < 0) {
			inflateEnd(&z);
			return UNPACK_NOMEM;
		}
		if (rc == Z_BUF_ERROR && z.avail_in == 0 && left == 0) {
			inflateEnd(&z);
			return UNPACK_TRUNCATED;
		}
	} while (rc != Z_STREAM_END);
	*used = n - left - z.avail_in;
	inflateEnd(&z);
	return UNPACK_OK;
}

/* unpack_gzip - every member into out */
enum unpack_status
unpack_gzip(const void *in, size_t n, size_t max, struct buf *out)
{
	const unsigned char *p = in;
	enum unpack_status st;
	size_t used, members = 0;

	if (!unpack_is_gzip(in, n))
		return n < 3 ? UNPACK_TRUNCATED : UNPACK_CORRUPT;
	if (out->len > max)
		return UNPACK_TOOBIG;
	while (n > 0) {
		if (!unpack_is_gzip(p, n)) {
			/* padding after the last member is common */
			while (n > 0 && *p == 0) {
				p++;
				n--;
			}
			if (n == 0)
				break;
			return UNPACK_CORRUPT;
		}
		if (++members > UNPACK_ZIP_MEMBERS)
			return UNPACK_CORRUPT;
		if ((st = inflate_into(p, n, 15 + 16, max, out, &used)) !=
		    UNPACK_OK)
			return st;
		if (used == 0)
			return UNPACK_CORRUPT;
		p += used;
		n -= used;
	}
	return UNPACK_OK;
}

/* le16, le32 - little-endian integers of the zip format */
static uint16_t
le16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t
le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

/* member - one central directory entry's data, checked, to each() */
static enum unpack_status
member(const unsigned char *in, size_t n, const unsigned char *cd,
    size_t max, size_t *total, int (*each)(void *, const char *,
    const char *, size_t), void *arg, int *stopped)
{
	uint16_t flags = le16(cd + 8), method = le16(cd + 10);
	uint32_t crc = le32(cd + 16), csize = le32(cd + 20),
	    usize = le32(cd + 24), loff = le32(cd + 42);
	uint16_t nlen = le16(cd + 28);
	char name[256];
	const unsigned char *lh, *data;
	struct buf out = BUF_INIT;
	enum unpack_status st = UNPACK_OK;
	size_t used, room;
	int rc;

	snprintf(name, sizeof(name), "%.*s", nlen, (const char *)cd + 46);
	if (nlen > 0 && cd[46 + nlen - 1] == '/')
		return UNPACK_OK;	/* a directory */
	if (flags & 1)
		return UNPACK_UNSUPPORTED;	/* encrypted */
	if (csize == 0xffffffffu || usize == 0xffffffffu ||
	    loff == 0xffffffffu)
		return UNPACK_UNSUPPORTED;	/* Zip64 */
	if (method != 0 && method != 8)
		return UNPACK_UNSUPPORTED;
	if (loff > n || n - loff < 30)
		return UNPACK_TRUNCATED;
	lh = in + loff;
	if (le32(lh) != 0x04034b50)
		return UNPACK_CORRUPT;
	used = 30 + (size_t)le16(lh + 26) + le16(lh + 28);
	if (n - loff < used || n - loff - used < csize)
		return UNPACK_TRUNCATED;
	data = lh + used;
	room = max - *total;
	if (usize > room)
		return UNPACK_TOOBIG;
	if (method == 0) {
		if (csize != usize)
			return UNPACK_CORRUPT;
		buf_append(&out, data, csize);
		if (out.failed)
			st = UNPACK_NOMEM;
	} else
		st = inflate_into(data, csize, -15, room, &out, &used);
	if (st == UNPACK_OK && (out.len != usize ||
	    crc32(0L, (const Bytef *)(out.s != NULL ? out.s : ""),
	    (uInt)out.len) != crc))
		st = UNPACK_CORRUPT;
	if (st == UNPACK_OK) {
		*total += out.len;
		if ((rc = each(arg, name, out.s != NULL ? out.s : "",
		    out.len)) != 0 && stopped != NULL)
			*stopped = rc;
	}
	buf_free(&out);
	return st;
}

/* unpack_zip - each member through the central directory */
enum unpack_status
unpack_zip(const void *in, size_t n, size_t max, int (*each)(void *,
    const char *, const char *, size_t), void *arg, int *stopped)
{
	const unsigned char *p = in, *eocd = NULL, *cd;
	size_t i, total = 0, entries, cdoff, cdsize, pos;
	enum unpack_status st;

	if (stopped != NULL)
		*stopped = 0;
	if (n < 22)
		return n >= 4 && unpack_is_zip(in, n) ? UNPACK_TRUNCATED :
		    UNPACK_CORRUPT;
	for (i = n - 22; ; i--) {
		if (le32(p + i) == 0x06054b50 &&
		    (size_t)le16(p + i + 20) == n - i - 22) {
			eocd = p + i;
			break;
		}
		if (i == 0 || n - i > 65535 + 22)
			break;
	}
	if (eocd == NULL)
		return unpack_is_zip(in, n) ? UNPACK_TRUNCATED :
		    UNPACK_CORRUPT;
	entries = le16(eocd + 10);
	cdsize = le32(eocd + 12);
	cdoff = le32(eocd + 16);
	if (le16(eocd + 4) != 0 || le16(eocd + 6) != 0 ||
	    entries != le16(eocd + 8))
		return UNPACK_UNSUPPORTED;	/* multi-disk */
	if (cdoff == 0xffffffffu || entries == 0xffff)
		return UNPACK_UNSUPPORTED;	/* Zip64 */
	if (entries > UNPACK_ZIP_MEMBERS)
		return UNPACK_CORRUPT;
	if (cdoff > (size_t)(eocd - p) || cdsize > (size_t)(eocd - p) - cdoff)
		return UNPACK_CORRUPT;
	for (i = 0, pos = cdoff; i < entries; i++) {
		size_t len;

		if (cdoff + cdsize - pos < 46)
			return UNPACK_CORRUPT;
		cd = p + pos;
		if (le32(cd) != 0x02014b50)
			return UNPACK_CORRUPT;
		len = 46 + (size_t)le16(cd + 28) + le16(cd + 30) +
		    le16(cd + 32);
		if (cdoff + cdsize - pos < len)
			return UNPACK_CORRUPT;
		if ((st = member(p, n, cd, max, &total, each, arg, stopped)) !=
		    UNPACK_OK)
			return st;
		if (stopped != NULL && *stopped != 0)
			return UNPACK_OK;
		pos += len;
	}
	return UNPACK_OK;
}

/* unpack_strerror - a status in words */
const char *
unpack_strerror(enum unpack_status st)
{
	switch (st) {
	case UNPACK_OK:
		return "ok";
	case UNPACK_TOOBIG:
		return "it inflates past the size limit (a compression bomb?)";
	case UNPACK_TRUNCATED:
		return "truncated";
	case UNPACK_CORRUPT:
		return "damaged, or not gzip or zip";
	case UNPACK_UNSUPPORTED:
		return "a zip method other than stored or deflate, "
		    "encryption, Zip64 or several disks";
	case UNPACK_NOMEM:
		return "out of memory";
	}
	return "unknown error";
}
