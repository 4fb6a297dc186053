/*
 * canon - RFC 6376 3.4 header and body canonicalization, streaming and
 * chunking, and the bottom-up header selection
 */
#include <stdlib.h>
#include <string.h>

#include "canon.h"
#include "tap.h"

static const struct {
	enum canon_alg alg;
	const char *in, *out, *name;
} headers[] = {
	{ CANON_RELAXED, "A: X", "a:X", "RFC 6376 3.4.5 relaxed header A" },
	{ CANON_RELAXED, "B : Y\t\r\n\tZ  ", "b:Y Z",
	  "RFC 6376 3.4.5 relaxed header B (folding, tabs, WSP before colon)" },
	{ CANON_SIMPLE, "B : Y\t\r\n\tZ  ", "B : Y\t\r\n\tZ  ",
	  "simple header is unchanged" },
	{ CANON_SIMPLE, "Subject: a\n b", "Subject: a\r\n b",
	  "simple header: a bare LF becomes CRLF" },
	{ CANON_RELAXED, "Subject: a\n\tb", "subject:a b",
	  "relaxed header: bare LF folding unfolds" },
	{ CANON_RELAXED, "SUBJECT:   x  :  y   ", "subject:x : y",
	  "relaxed header: colons in the value keep their single spaces" },
	{ CANON_RELAXED, "X-Empty:", "x-empty:", "relaxed header: empty value" },
	{ CANON_RELAXED, "X-Blank:  \r\n  ", "x-blank:",
	  "relaxed header: white-space-only value becomes empty" },
};

static const struct {
	enum canon_alg alg;
	const char *in, *out, *name;
} bodies[] = {
	{ CANON_SIMPLE, " C \r\nD \t E\r\n\r\n\r\n", " C \r\nD \t E\r\n",
	  "RFC 6376 3.4.5 simple body" },
	{ CANON_RELAXED, " C \r\nD \t E\r\n\r\n\r\n", " C\r\nD E\r\n",
	  "RFC 6376 3.4.5 relaxed body" },
	{ CANON_SIMPLE, "", "\r\n", "simple: an empty body is CRLF" },
	{ CANON_RELAXED, "", "", "relaxed: an empty body is empty" },
	{ CANON_SIMPLE, "\r\n\r\n", "\r\n", "simple: only empty lines is CRLF" },
	{ CANON_RELAXED, " \r\n\t\r\n", "",
	  "relaxed: only white-space lines is empty" },
	{ CANON_SIMPLE, "a", "a\r\n", "simple: a missing final CRLF is added" },
	{ CANON_RELAXED, "a  ", "a\r\n",
	  "relaxed: trailing WSP of an unterminated line is dropped" },
	{ CANON_SIMPLE, "a\nb\n\n", "a\r\nb\r\n", "simple: bare LF is CRLF" },
	{ CANON_RELAXED, "a \n\n b\n", "a\r\n\r\n b\r\n",
	  "relaxed: inner empty lines are kept" },
	{ CANON_SIMPLE, "a\rb\r\n", "a\rb\r\n", "a bare CR is an ordinary byte" },
	{ CANON_SIMPLE, "a\r\n \r\n", "a\r\n \r\n",
	  "simple: a line of one space is not empty" },
	{ CANON_RELAXED, "a\r\n \r\n", "a\r\n",
	  "relaxed: a line of one space is empty" },
	{ CANON_SIMPLE, "x\r", "x\r\r\n", "a CR at the very end is kept" },
};

/* collect - output function appending to a buf */
static void
collect(void *arg, const unsigned char *p, size_t n)
{
	buf_append(arg, p, n);
}

/* run_body - canonicalize in chunks of size step (0: one chunk) */
static void
run_body(enum canon_alg a, const char *in, size_t len, size_t step,
    struct buf *out)
{
	struct canon_body *cb = canon_body_new(a, collect, out);
	size_t i, k;

	buf_reset(out);
	buf_append(out, "", 0);
	if (step == 0)
		step = len ? len : 1;
	for (i = 0; i < len; i += k) {
		k = len - i < step ? len - i : step;
		canon_body_update(cb, (const unsigned char *)in + i, k);
	}
	canon_body_final(cb);
	canon_body_free(cb);
}

/*
 * ref_body - RFC 6376 3.4.3/3.4.4 written plainly, on the whole body: a
 * line ends at LF (one CR before it belongs to the line end), a last
 * unterminated line counts, trailing empty lines go
 */
static void
ref_body(enum canon_alg a, const char *in, size_t len, struct buf *out)
{
	struct buf line = BUF_INIT;
	size_t i = 0, e, keep = 0, j;
	int wsp;

	buf_reset(out);
	buf_append(out, "", 0);
	while (i < len) {
		for (e = i; e < len && in[e] != '\n'; e++)
			;
		j = e < len && e > i && in[e - 1] == '\r' ? e - 1 : e;
		buf_reset(&line);
		buf_append(&line, "", 0);
		for (wsp = 0; i < j; i++) {
			if (a == CANON_RELAXED && (in[i] == ' ' || in[i] == '\t')) {
				wsp = 1;
				continue;
			}
			if (wsp)
				buf_putc(&line, ' ');
			wsp = 0;
			buf_putc(&line, in[i]);
		}
		buf_append(out, line.s, line.len);
		buf_puts(out, "\r\n");
		if (line.len > 0)
			keep = out->len;
		i = e + 1;
	}
	out->len = keep;
	out->s[keep] = '\0';
	if (a == CANON_SIMPLE && keep == 0)
		buf_puts(out, "\r\n");
	buf_free(&line);
}

/* test_random - random bodies in random chunks against ref_body */
static void
test_random(void)
{
	static const char alphabet[] = "ab \t\r\n\r\n";
	struct buf in = BUF_INIT, got = BUF_INIT, want = BUF_INIT;
	struct canon_body *cb;
	unsigned long seed = 20261123;
	size_t i, k, len;
	int a, n, bad[2] = { 0, 0 };

	for (n = 0; n < 4000; n++) {
		seed = seed * 6364136223846793005UL + 1442695040888963407UL;
		len = (seed >> 33) % 400;
		buf_reset(&in);
		for (i = 0; i < len; i++) {
			seed = seed * 6364136223846793005UL + 1;
			buf_putc(&in, alphabet[(seed >> 33) % 8]);
		}
		for (a = 0; a < 2; a++) {
			ref_body(a ? CANON_RELAXED : CANON_SIMPLE, in.s, in.len,
			    &want);
			buf_reset(&got);
			buf_append(&got, "", 0);
			cb = canon_body_new(a ? CANON_RELAXED : CANON_SIMPLE,
			    collect, &got);
			for (i = 0; i < in.len; i += k) {
				seed = seed * 6364136223846793005UL + 1;
				k = 1 + (seed >> 33) % 50;
				if (k > in.len - i)
					k = in.len - i;
				canon_body_update(cb,
				    (const unsigned char *)in.s + i, k);
			}
			canon_body_final(cb);
			canon_body_free(cb);
			bad[a] += got.len != want.len ||
			    memcmp(got.s, want.s, got.len) != 0;
		}
	}
	is_int(bad[0], 0, "simple: 4000 random bodies in random chunks match "
	    "a plain reading of RFC 6376");
	is_int(bad[1], 0, "relaxed: the same 4000 bodies match too");
	buf_free(&in);
	buf_free(&got);
	buf_free(&want);
}

/* test_selection - bottom-up picking, oversigning, limits */
static void
test_selection(void)
{
	struct canon_hdrs h;
	unsigned char used[8] = { 0 };
	const char *f;
	size_t len;
	int i;

	canon_hdrs_init(&h);
	canon_hdrs_add(&h, "Received: 1", 11);
	canon_hdrs_add(&h, "From: a", 7);
	canon_hdrs_add(&h, "Received: 2", 11);
	canon_hdrs_add(&h, "subject : s", 11);
	is_int(canon_hdrs_pick(&h, "received", 8, used), 2,
	    "the bottom-most instance is picked first");
	is_int(canon_hdrs_pick(&h, "RECEIVED", 8, used), 0,
	    "the next pick goes upwards, names compare without case");
	is_int(canon_hdrs_pick(&h, "received", 8, used), -1,
	    "a name signed more often than present picks nothing (oversigning)");
	is_int(canon_hdrs_pick(&h, "subject", 7, used), 3,
	    "WSP before the colon is not part of the name");
	f = canon_hdrs_field(&h, 1, &len);	/* sets len: call it first */
	ok(strncmp(f, "From: a", len) == 0 && len == 7,
	    "fields are kept verbatim");
	canon_hdrs_free(&h);
	canon_hdrs_init(&h);
	for (i = 0; i < CANON_HDRS_MAX_FIELDS; i++)
		canon_hdrs_add(&h, "X: y", 4);
	ok(canon_hdrs_add(&h, "X: y", 4) == -1 && h.overflow &&
	    h.n == CANON_HDRS_MAX_FIELDS, "the field count is bounded");
	canon_hdrs_free(&h);
}

int
main(void)
{
	struct buf out = BUF_INIT, big = BUF_INIT, ref = BUF_INIT;
	enum canon_alg hc, bc;
	size_t i, step;
	int allok;

	for (i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
		buf_reset(&out);
		canon_header(headers[i].alg, headers[i].in,
		    strlen(headers[i].in), &out);
		is_str(out.s, headers[i].out, headers[i].name);
	}
	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		run_body(bodies[i].alg, bodies[i].in, strlen(bodies[i].in), 0,
		    &out);
		is_str(out.s, bodies[i].out, bodies[i].name);
		allok = 1;
		for (step = 1; step < 4; step++) {
			run_body(bodies[i].alg, bodies[i].in,
			    strlen(bodies[i].in), step, &out);
			allok &= strcmp(out.s, bodies[i].out) == 0;
		}
		ok(allok, "%s, in chunks of 1, 2 and 3 bytes", bodies[i].name);
	}
	/* a large body: CR/LF split across chunks, output beyond the batch */
	for (i = 0; i < 3000; i++)
		buf_puts(&big, i % 7 ? "line \t with  space \r\n" : "\r\n");
	buf_puts(&big, "\r\n\r\n");
	run_body(CANON_RELAXED, big.s, big.len, 0, &ref);
	run_body(CANON_RELAXED, big.s, big.len, 4097, &out);
	ok(out.len == ref.len && memcmp(out.s, ref.s, out.len) == 0 &&
	    strstr(ref.s, "line with space\r\n") != NULL,
	    "a 60 KB body gives the same output whole or in 4097-byte chunks");
	ok(canon_parse("relaxed/simple", 14, &hc, &bc) == 0 &&
	    hc == CANON_RELAXED && bc == CANON_SIMPLE, "c=relaxed/simple");
	ok(canon_parse("relaxed", 7, &hc, &bc) == 0 && hc == CANON_RELAXED &&
	    bc == CANON_SIMPLE, "c=relaxed means relaxed/simple");
	ok(canon_parse("relaxed/", 8, &hc, &bc) == -1 &&
	    canon_parse("nowsp/simple", 12, &hc, &bc) == -1,
	    "unknown canonicalizations are refused");
	test_selection();
	test_random();
	buf_free(&out);
	buf_free(&big);
	buf_free(&ref);
	return done_testing();
}
