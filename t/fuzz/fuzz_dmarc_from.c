/*
 * fuzz_dmarc_from - From domain extraction: the input is split at NUL
 * bytes into up to four From field values
 *
 * The domains kept must be distinct, valid LDH names in lower case
 * (A-labels), and their number must fit the status.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dmarc.h"
#include "rfc5322.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *z;
	struct dmarc_from f;
	enum dmarc_from_status st;
	size_t i, j, k;

	dmarc_from_init(&f);
	for (k = 0; k < 4 && p < end; k++) {
		z = memchr(p, '\0', (size_t)(end - p));
		dmarc_from_field(&f, p, (size_t)((z ? z : end) - p));
		p = z ? z + 1 : end;
	}
	st = dmarc_from_result(&f);
	if (st == DMARC_FROM_OK && f.ndomains != 1)
		abort();
	if (st == DMARC_FROM_DOMAINS && f.ndomains < 2)
		abort();
	for (i = 0; i < f.ndomains && (st == DMARC_FROM_OK ||
	    st == DMARC_FROM_DOMAINS || st == DMARC_FROM_FIELDS); i++) {
		if (!rfc5322_domain_valid(f.domain[i], strlen(f.domain[i]), 0))
			abort();
		for (j = 0; f.domain[i][j] != '\0'; j++)
			if (f.domain[i][j] >= 'A' && f.domain[i][j] <= 'Z')
				abort();
		for (j = 0; j < i; j++)
			if (strcmp(f.domain[i], f.domain[j]) == 0)
				abort();
	}
	return 0;
}
