/*
 * base64.h - RFC 4648 base64 encoding and decoding into a struct buf
 *
 * Both functions append to the caller's buffer (the caller owns and
 * frees it).  The decoder skips white space (SP, TAB, CR, LF), as DKIM
 * tag values may be folded, and accepts input with or without the final
 * "=" padding; anything else that is not in the alphabet is an error.
 */
#ifndef COMMON_BASE64_H
#define COMMON_BASE64_H

#include <stddef.h>

#include "buf.h"

enum base64_status {
	BASE64_OK = 0,
	BASE64_BADCHAR,		/* a byte outside the alphabet */
	BASE64_BADLEN,		/* a dangling sextet or bad padding */
	BASE64_NOMEM,
};

/* base64_encode - append the encoding of in[0..n) to out */
enum base64_status base64_encode(struct buf *out, const void *in, size_t n);
/* base64_decode - append the decoding of in[0..n) to out */
enum base64_status base64_decode(struct buf *out, const char *in, size_t n);
const char *base64_strerror(enum base64_status);

#endif
