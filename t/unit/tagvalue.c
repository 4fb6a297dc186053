/*
 * tagvalue - RFC 6376 3.2 tag lists: folding, raw spans, errors
 */
#include <string.h>

#include "tagvalue.h"
#include "tap.h"

enum { T_V, T_A, T_B, T_H, T_MAX };
static const char *const names[T_MAX] = { "v", "a", "b", "h" };

static const struct {
	const char *in;
	enum tagvalue_status want;
	const char *v, *a, *b, *h;	/* expected values, NULL = absent */
	const char *name;
} cases[] = {
	{ "v=1; a=rsa-sha256; b=abc", TAGVALUE_OK, "1", "rsa-sha256", "abc", NULL,
	  "a simple list" },
	{ "v=1;a=x;", TAGVALUE_OK, "1", "x", NULL, NULL,
	  "a trailing semicolon is allowed" },
	{ " v = 1 ;\r\n\ta\t=\r\n x ", TAGVALUE_OK, "1", "x", NULL, NULL,
	  "FWS around names, = and values is dropped" },
	{ "b=ab\r\n cd\r\n ef; v=1", TAGVALUE_OK, "1", NULL, "ab\r\n cd\r\n ef",
	  NULL, "a folded value keeps its inner FWS" },
	{ "h=from : to :\n subject", TAGVALUE_OK, NULL, NULL, NULL,
	  "from : to :\n subject", "bare LF folding is FWS" },
	{ "v=; a=1", TAGVALUE_OK, "", "1", NULL, NULL,
	  "an empty value is present and empty" },
	{ "zz=unknown; v=1", TAGVALUE_OK, "1", NULL, NULL, NULL,
	  "unknown tags are ignored" },
	{ "", TAGVALUE_OK, NULL, NULL, NULL, NULL, "an empty list is valid" },
	{ "v=1; v=2", TAGVALUE_DUPLICATE, NULL, NULL, NULL, NULL,
	  "a duplicated known tag is refused" },
	{ "x=1; x=2", TAGVALUE_DUPLICATE, NULL, NULL, NULL, NULL,
	  "a duplicated unknown tag is refused" },
	{ "v=1; =2", TAGVALUE_SYNTAX, NULL, NULL, NULL, NULL,
	  "a missing tag name is refused" },
	{ "v 1", TAGVALUE_SYNTAX, NULL, NULL, NULL, NULL,
	  "a missing = is refused" },
	{ "1v=1", TAGVALUE_SYNTAX, NULL, NULL, NULL, NULL,
	  "a tag name must start with a letter" },
	{ "v=1;; a=2", TAGVALUE_SYNTAX, NULL, NULL, NULL, NULL,
	  "an empty tag-spec in the middle is refused" },
	{ "v=a\001b", TAGVALUE_SYNTAX, NULL, NULL, NULL, NULL,
	  "a control byte in a value is refused" },
	{ "v=DKIM1: g=*; k=rsa", TAGVALUE_OK, "DKIM1: g=*", NULL, NULL, NULL,
	  "= and : are value characters (a broken v=)" },
};

/* same - expected value vs parsed value */
static int
same(const struct tagvalue *t, const char *want)
{
	if (want == NULL)
		return t->value == NULL;
	return t->value != NULL && t->len == strlen(want) &&
	    memcmp(t->value, want, t->len) == 0;
}

int
main(void)
{
	struct tagvalue v[T_MAX];
	enum tagvalue_status st;
	size_t i, off, pos;
	const char *item, *in;
	size_t ilen;
	char big[TAGVALUE_MAX_TAGS * 8 + 16];
	int n;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		st = tagvalue_parse(cases[i].in, strlen(cases[i].in), names,
		    T_MAX, v, &off);
		ok(st == cases[i].want && (st != TAGVALUE_OK ||
		    (same(&v[T_V], cases[i].v) && same(&v[T_A], cases[i].a) &&
		    same(&v[T_B], cases[i].b) && same(&v[T_H], cases[i].h))),
		    "%s", cases[i].name);
	}
	ok(tagvalue_parse("v=1;; a=2", 9, names, T_MAX, v, &off) ==
	    TAGVALUE_SYNTAX && off == 4, "the error offset points at the fault");
	in = "v=1; k=rsa;\r\n\t k =ed25519; p=";
	off = 0;
	ok(tagvalue_parse(in, strlen(in), names, T_MAX, v, &off) ==
	    TAGVALUE_DUPLICATE && off == 15, "a duplicate tag: the offset "
	    "points at the second occurrence's name");
	in = "a=x; b= ab cd ;v=1";
	tagvalue_parse(in, strlen(in), names, T_MAX, v, NULL);
	ok(v[T_B].raw_start == 7 && v[T_B].raw_end == 14,
	    "the raw span of b= runs from after = to the semicolon");
	in = "h=from : To:subject::";
	tagvalue_parse(in, strlen(in), names, T_MAX, v, NULL);
	pos = 0;
	n = 0;
	while (tagvalue_next_item(&v[T_H], ':', &pos, &item, &ilen)) {
		static const char *const want[] = { "from", "To", "subject", "",
		    "" };
		if (n < 5 && ilen == strlen(want[n]) &&
		    memcmp(item, want[n], ilen) == 0)
			n++;
		else
			n = 100;
	}
	is_int(n, 5, "list items are split on : and trimmed, empty ones kept");
	for (i = 0, off = 0; i < TAGVALUE_MAX_TAGS + 1; i++)
		off += (size_t)snprintf(big + off, sizeof(big) - off,
		    "t%zu=1;", i);
	ok(tagvalue_parse(big, off, names, T_MAX, v, NULL) == TAGVALUE_TOOMANY,
	    "more than TAGVALUE_MAX_TAGS tags are refused");
	is_str(tagvalue_strerror(TAGVALUE_DUPLICATE), "duplicate tag",
	    "statuses have names");
	tagvalue_parse(in, strlen(in), names, T_MAX, v, NULL);
	ok(tagvalue_is(&v[T_H], "from : To:subject::") &&
	    !tagvalue_is(&v[T_V], "1"), "tagvalue_is compares present values");
	return done_testing();
}
