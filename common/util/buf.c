/*
 * NAME
 *	buf - growable, NUL-terminated byte buffer
 * SYNOPSIS
 *	#include "buf.h"
 * DESCRIPTION
 *	buf_append() and friends grow the buffer geometrically.  They return
 *	0 on success and -1 when the buffer has failed (out of memory or
 *	larger than BUF_MAX); the failure is sticky, so callers may test
 *	b->failed once after a series of appends.
 *
 *	buf_detach() hands the storage to the caller (free() it) and leaves
 *	the buffer empty.  buf_str() returns "" for a buffer never written.
 *
 *	Out of memory is never fatal here: the caller turns a failed buffer
 *	into its "internal error" answer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

/* buf_init - make an empty buffer */
void
buf_init(struct buf *b)
{
	b->s = NULL;
	b->len = 0;
	b->cap = 0;
	b->failed = 0;
}

/* buf_reserve - make room for n more bytes plus the NUL */
int
buf_reserve(struct buf *b, size_t n)
{
	size_t need, cap;
	char *p;

	if (b->failed)
		return -1;
	if (n >= BUF_MAX || b->len >= BUF_MAX - n) {
		b->failed = 1;
		return -1;
	}
	need = b->len + n + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap * 2;
	if (cap > BUF_MAX + 1)
		cap = BUF_MAX + 1;
	if ((p = realloc(b->s, cap)) == NULL) {
		b->failed = 1;
		return -1;
	}
	b->s = p;
	b->s[b->len] = '\0';
	b->cap = cap;
	return 0;
}

/* buf_append - append n bytes */
int
buf_append(struct buf *b, const void *data, size_t n)
{
	if (buf_reserve(b, n) < 0)
		return -1;
	if (n > 0)
		memcpy(b->s + b->len, data, n);
	b->len += n;
	b->s[b->len] = '\0';
	return 0;
}

/* buf_puts - append a C string */
int
buf_puts(struct buf *b, const char *str)
{
	return buf_append(b, str, strlen(str));
}

/* buf_putc - append one byte (the canonicalizers' loop: room already
 * there costs no call) */
int
buf_putc(struct buf *b, int c)
{
	char ch = (char)c;

	if (!b->failed && b->cap > 0 && b->len + 1 < b->cap) {
		b->s[b->len++] = ch;
		b->s[b->len] = '\0';
		return 0;
	}
	return buf_append(b, &ch, 1);
}

/* buf_vprintf - append formatted text */
int
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list aq;
	int n;

	if (b->failed)
		return -1;
	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0 || buf_reserve(b, (size_t)n) < 0) {
		b->failed = 1;
		return -1;
	}
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

/* buf_printf - append formatted text */
int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return r;
}

/* buf_truncate - shorten to n bytes (no-op if already shorter) */
void
buf_truncate(struct buf *b, size_t n)
{
	if (b->s != NULL && n < b->len) {
		b->len = n;
		b->s[n] = '\0';
	}
}

/* buf_reset - empty the buffer, keep its memory, clear a failure */
void
buf_reset(struct buf *b)
{
	b->len = 0;
	b->failed = 0;
	if (b->s != NULL)
		b->s[0] = '\0';
}

/* buf_free - release the storage */
void
buf_free(struct buf *b)
{
	free(b->s);
	buf_init(b);
}

/* buf_detach - hand the storage to the caller; NULL if failed */
char *
buf_detach(struct buf *b)
{
	char *s;

	if (b->failed) {
		buf_free(b);
		return NULL;
	}
	if (b->s == NULL && buf_reserve(b, 0) < 0)
		return NULL;
	if (b->s != NULL)
		b->s[b->len] = '\0';
	s = b->s;
	buf_init(b);
	return s;
}

/* buf_str - the contents as a C string, "" when empty */
const char *
buf_str(const struct buf *b)
{
	return b->s != NULL ? b->s : "";
}
