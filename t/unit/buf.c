/*
 * buf - the growable buffer: appends, formatting, failure is sticky
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "tap.h"

int
main(void)
{
	struct buf b = BUF_INIT;
	char *s;
	int i;

	is_str(buf_str(&b), "", "an unwritten buffer reads as empty");
	buf_puts(&b, "abc");
	buf_putc(&b, 'd');
	buf_printf(&b, "-%d-%s", 42, "x");
	is_str(b.s, "abcd-42-x", "puts, putc and printf append in order");
	is_int((long)b.len, 9, "length counts bytes without the NUL");
	for (i = 0; i < 10000; i++)
		buf_append(&b, "0123456789", 10);
	is_int((long)b.len, 9 + 100000, "grows past many reallocations");
	ok(b.s[b.len] == '\0', "stays NUL-terminated");
	buf_truncate(&b, 4);
	is_str(b.s, "abcd", "truncate shortens");
	buf_append(&b, "\0z", 2);
	is_int((long)b.len, 6, "embedded NUL bytes are kept");
	ok(buf_reserve(&b, BUF_MAX) == -1 && b.failed, "oversize sets failed");
	ok(buf_puts(&b, "more") == -1, "failure is sticky");
	buf_reset(&b);
	ok(!b.failed && b.len == 0, "reset clears failure and content");
	buf_puts(&b, "kept");
	s = buf_detach(&b);
	is_str(s, "kept", "detach hands over the string");
	ok(b.s == NULL && b.len == 0, "detach leaves the buffer empty");
	free(s);
	s = buf_detach(&b);
	is_str(s, "", "detach of an empty buffer gives an empty string");
	free(s);
	buf_free(&b);
	return done_testing();
}
