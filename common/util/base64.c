/*
 * NAME
 *	base64 - RFC 4648 base64 encoding and decoding
 * SYNOPSIS
 *	#include "base64.h"
 * DESCRIPTION
 *	base64_encode() appends the padded encoding of a byte string to a
 *	struct buf.  base64_decode() appends the decoded bytes; it skips
 *	SP, TAB, CR and LF anywhere (folded DKIM values), accepts a missing
 *	final padding, and rejects any other byte, data after padding, and
 *	a dangling single sextet.
 * DIAGNOSTICS
 *	An enum base64_status; base64_strerror() names it.  On an error
 *	the output buffer may hold a partial result.
 */
#include <string.h>

#include "base64.h"

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* base64_encode - append the encoding of in[0..n) to out */
enum base64_status
base64_encode(struct buf *out, const void *in, size_t n)
{
	const unsigned char *p = in;
	char q[4];
	size_t i;
	unsigned long v;

	if (buf_reserve(out, (n + 2) / 3 * 4) < 0 || buf_append(out, "", 0) < 0)
		return BASE64_NOMEM;
	for (i = 0; i + 3 <= n; i += 3) {
		v = (unsigned long)p[i] << 16 | (unsigned long)p[i + 1] << 8 |
		    p[i + 2];
		q[0] = b64_alphabet[v >> 18 & 63];
		q[1] = b64_alphabet[v >> 12 & 63];
		q[2] = b64_alphabet[v >> 6 & 63];
		q[3] = b64_alphabet[v & 63];
		buf_append(out, q, 4);
	}
	if (n - i == 1) {
		v = (unsigned long)p[i] << 16;
		q[0] = b64_alphabet[v >> 18 & 63];
		q[1] = b64_alphabet[v >> 12 & 63];
		q[2] = q[3] = '=';
		buf_append(out, q, 4);
	} else if (n - i == 2) {
		v = (unsigned long)p[i] << 16 | (unsigned long)p[i + 1] << 8;
		q[0] = b64_alphabet[v >> 18 & 63];
		q[1] = b64_alphabet[v >> 12 & 63];
		q[2] = b64_alphabet[v >> 6 & 63];
		q[3] = '=';
		buf_append(out, q, 4);
	}
	return out->failed ? BASE64_NOMEM : BASE64_OK;
}

/* b64_value - the sextet of an alphabet byte, or -1 */
static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* base64_decode - append the decoding of in[0..n) to out */
enum base64_status
base64_decode(struct buf *out, const char *in, size_t n)
{
	unsigned long acc = 0;
	unsigned char c, o[3];
	size_t i, nsext = 0, npad = 0;
	int v;

	if (buf_reserve(out, n / 4 * 3 + 3) < 0 || buf_append(out, "", 0) < 0)
		return BASE64_NOMEM;
	for (i = 0; i < n; i++) {
		c = (unsigned char)in[i];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		if (c == '=') {
			npad++;
			continue;
		}
		if ((v = b64_value(c)) < 0)
			return BASE64_BADCHAR;
		if (npad > 0)
			return BASE64_BADLEN;
		acc = acc << 6 | (unsigned long)v;
		if (++nsext == 4) {
			o[0] = acc >> 16 & 0xff;
			o[1] = acc >> 8 & 0xff;
			o[2] = acc & 0xff;
			buf_append(out, o, 3);
			acc = 0;
			nsext = 0;
		}
	}
	if (nsext == 1 || (npad > 0 && nsext + npad != 4) ||
	    (nsext == 0 && npad > 0))
		return BASE64_BADLEN;
	if (nsext == 2) {
		o[0] = acc >> 4 & 0xff;
		buf_append(out, o, 1);
	} else if (nsext == 3) {
		o[0] = acc >> 10 & 0xff;
		o[1] = acc >> 2 & 0xff;
		buf_append(out, o, 2);
	}
	return out->failed ? BASE64_NOMEM : BASE64_OK;
}

/* base64_strerror - name a status */
const char *
base64_strerror(enum base64_status st)
{
	switch (st) {
	case BASE64_OK:
		return "ok";
	case BASE64_BADCHAR:
		return "invalid base64 character";
	case BASE64_BADLEN:
		return "invalid base64 length or padding";
	case BASE64_NOMEM:
		return "out of memory";
	}
	return "unknown base64 status";
}
