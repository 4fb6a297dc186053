/*
 * buf.h - growable, NUL-terminated byte buffer
 *
 * A struct buf owns its storage.  b->s is NULL until the first append and
 * is always NUL-terminated afterwards.  An allocation failure or a size
 * past BUF_MAX sets b->failed; every later append is then a no-op and
 * returns -1, so a caller may append many times and test once.
 */
#ifndef COMMON_BUF_H
#define COMMON_BUF_H

#include <stdarg.h>
#include <stddef.h>

#define BUF_MAX ((size_t)1 << 30)	/* 1 GiB: no single buffer grows past it */

struct buf {
	char   *s;			/* data, NUL-terminated, or NULL */
	size_t  len;			/* bytes used, without the NUL */
	size_t  cap;			/* bytes allocated */
	int     failed;			/* sticky allocation/size failure */
};

#define BUF_INIT { NULL, 0, 0, 0 }

void	 buf_init(struct buf *);
int	 buf_reserve(struct buf *, size_t);
int	 buf_append(struct buf *, const void *, size_t);
int	 buf_puts(struct buf *, const char *);
int	 buf_putc(struct buf *, int);
int	 buf_printf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
int	 buf_vprintf(struct buf *, const char *, va_list)
	    __attribute__((format(printf, 2, 0)));
void	 buf_truncate(struct buf *, size_t);
void	 buf_reset(struct buf *);
void	 buf_free(struct buf *);
char	*buf_detach(struct buf *);
const char *buf_str(const struct buf *);

#endif
