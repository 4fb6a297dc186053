/*
 * fuzz_tagvalue - the DKIM tag=value list parser on arbitrary bytes
 *
 * Parses the input against the DKIM-Signature tag names, checks that every
 * value found lies inside the input, and walks the h= item list.
 */
#include <stdint.h>
#include <stdlib.h>

#include "tagvalue.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char *const names[] = {
	"v", "a", "b", "bh", "c", "d", "h", "i", "l", "q", "s", "t", "x", "z",
};
#define NNAMES (sizeof(names) / sizeof(names[0]))

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct tagvalue v[NNAMES];
	const char *s = (const char *)data, *item;
	size_t erroff = 0, i, pos = 0, ilen;

	if (tagvalue_parse(s, len, names, NNAMES, v, &erroff) != TAGVALUE_OK) {
		if (erroff > len)
			abort();
		return 0;
	}
	for (i = 0; i < NNAMES; i++)
		if (v[i].value != NULL && (v[i].value < s ||
		    v[i].value + v[i].len > s + len))
			abort();
	while (tagvalue_next_item(&v[6], ':', &pos, &item, &ilen))
		if (item < s || item + ilen > s + len)
			abort();
	return 0;
}
