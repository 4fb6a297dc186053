/*
 * fuzz_header - a raw message through header field splitting,
 * unfolding, From extraction, envelope splitting and domain checks
 *
 * Every field is unfolded; every From field (and the value of every
 * field whose name starts with "Return-Path") is parsed as an address
 * list or an envelope address.  Checks that the iterator always makes
 * progress and stays inside the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "rfc5322.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* check_from - parse a From value and check what comes out */
static void
check_from(const char *v, size_t len)
{
	struct rfc5322_addrlist l;
	enum rfc5322_status st;
	size_t i;

	st = rfc5322_from(v, len, &l);
	if ((st == RFC5322_OK && l.n != 1) ||
	    (st == RFC5322_MULTIPLE && l.n < 2) ||
	    (st != RFC5322_OK && st != RFC5322_MULTIPLE && l.n != 0))
		abort();
	for (i = 0; i < l.n; i++) {
		if (l.addr[i].local == NULL || l.addr[i].domain == NULL ||
		    l.addr[i].local[0] == '\0' || l.addr[i].domain[0] == '\0')
			abort();
		rfc5322_domain_valid(l.addr[i].domain,
		    strlen(l.addr[i].domain), RFC5322_DOM_UTF8);
	}
	rfc5322_addrlist_free(&l);
}

/* check_envelope - split a value as an envelope address */
static void
check_envelope(const char *v, size_t len)
{
	struct rfc5322_addr a;

	if (rfc5322_envelope(v, len, &a) == RFC5322_OK &&
	    (a.local == NULL || a.domain == NULL))
		abort();
	rfc5322_addr_free(&a);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	struct rfc5322_field f;
	struct buf b = BUF_INIT;
	enum rfc5322_status st;

	while ((st = rfc5322_next_field(p, end, &f)) != RFC5322_EOH) {
		if (f.next <= p || f.next > end ||
		    f.raw + f.raw_len > end)
			abort();
		if (st == RFC5322_OK) {
			if (f.value < f.raw || f.value + f.value_len > end)
				abort();
			buf_truncate(&b, 0);
			rfc5322_unfold(&b, f.value, f.value_len);
			if (memchr(buf_str(&b), '\n', b.len) != NULL)
				abort();
			if (f.name_len == 4 && strncasecmp(f.name, "From", 4) == 0)
				check_from(f.value, f.value_len);
			if (f.name_len == 11 &&
			    strncasecmp(f.name, "Return-Path", 11) == 0)
				check_envelope(b.s, b.len);
		}
		p = f.next;
	}
	if (f.next < p || f.next > end)
		abort();
	buf_free(&b);
	return 0;
}
