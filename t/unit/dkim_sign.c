/*
 * dkim_sign - the RFC 8463 signature reproduced exactly; determinism;
 * h= from the sign, oversign and omit lists; optional tags; folding
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dkim.h"
#include "rfc5322.h"
#include "files.h"
#include "tap.h"

#define D	"t/data/dkim/"

/* sign - the field value for msg, or "" on failure */
static enum dkim_status
sign(const struct dkim_sign_opts *o, const char *msg, struct buf *out)
{
	struct dkim_sign *s;
	enum dkim_status st;

	buf_reset(out);
	buf_append(out, "", 0);
	if ((s = dkim_sign_new(o)) == NULL)
		return DKIM_BADOPTS;
	st = dkim_sign_message(s, msg, strlen(msg));
	if (st == DKIM_OK)
		st = dkim_sign_eom(s, out);
	dkim_sign_free(s);
	return st;
}

/* tag - the value of tag name, white space removed, or NULL */
static const char *
tag(const char *sig, const char *name, struct buf *out)
{
	size_t nl = strlen(name);
	const char *p;

	buf_reset(out);
	buf_append(out, "", 0);
	for (p = sig; *p != '\0'; p++)
		if ((p == sig || strchr(" \t\n;", p[-1]) != NULL) &&
		    strncmp(p, name, nl) == 0 && p[nl] == '=')
			break;
	if (*p == '\0')
		return NULL;
	for (p += nl + 1; *p != '\0' && *p != ';'; p++)
		if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
			buf_putc(out, *p);
	return out->s;
}

/* test_rfc8463 - same key, tags and time as the RFC: same signature */
static void
test_rfc8463(void)
{
	static const char *const hdrs[] = { "from", "to", "subject", "date",
	    "message-id", NULL };
	static const char *const over[] = { "from", "subject", "date", NULL };
	struct dkim_sign_opts o;
	struct crypto_key *key = NULL;
	struct buf msg = BUF_INIT, path = BUF_INIT, out = BUF_INIT, t = BUF_INIT;
	const char *td = getenv("TESTDATA"), *body;

	buf_printf(&path, "%s/dkim/rfc8463/message.eml",
	    td ? td : "../shared/testdata");
	if (t_slurp(path.s, &msg) < 0) {
		skip("no test data", "RFC 8463 example: %s is missing (TESTDATA)",
		    path.s);
		buf_free(&msg);
		buf_free(&path);
		return;
	}
	if ((body = strstr(msg.s, "From:")) == NULL) {
		ok(0, "RFC 8463 example has a From field: %s", path.s);
		return;
	}
	crypto_key_load_private_file(D "ed25519.seed", &key);
	memset(&o, 0, sizeof(o));
	o.key = key;
	o.domain = "football.example.com";
	o.selector = "brisbane";
	o.identity = "@football.example.com";
	o.hcanon = o.bcanon = CANON_RELAXED;
	o.headers = hdrs;
	o.oversign = over;
	o.now = 1528637909;
	o.query_tag = 1;
	o.spaced_h = 1;
	ok(sign(&o, body, &out) == DKIM_OK, "the RFC 8463 message signs");
	is_str(tag(out.s, "b", &t), "/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQeh"
	    "SwhEIug4D11BusFa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==",
	    "Ed25519 signature equals RFC 8463's byte for byte");
	is_str(tag(out.s, "bh", &t), "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=",
	    "body hash equals RFC 8463's");
	is_str(tag(out.s, "h", &t), "from:to:subject:date:message-id:from:"
	    "subject:date", "h= lists present names, then the oversigned ones");
	crypto_key_free(key);
	buf_free(&msg);
	buf_free(&path);
	buf_free(&out);
	buf_free(&t);
}

static const char msg[] =
    "Received: from a by b; Mon, 1 Jan 2024 00:00:00 +0000\r\n"
    "From: Alice <alice@example.com>\r\n"
    "To: Bob <bob@example.net>\r\n"
    "Subject: Lunch\r\n"
    "Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n"
    "Message-ID: <1@example.com>\r\n"
    "X-Mailer: test\r\n"
    "\r\n"
    "Hello.\r\n";

/* lines_ok - every line within 78 columns, continuations start with TAB */
static int
lines_ok(const char *value)
{
	const char *p = value, *nl;
	size_t col = 16;	/* "DKIM-Signature: " */

	for (;;) {
		nl = strstr(p, "\r\n");
		if (col + (size_t)((nl ? nl : p + strlen(p)) - p) > 78)
			return 0;
		if (nl == NULL)
			return 1;
		if (nl[2] != '\t')
			return 0;
		p = nl + 2;
		col = 0;
	}
}

static const char *const over_from[] = { "from", NULL };
static const char *const omit_to[] = { "to", NULL };
static const char *const only_cc[] = { "from", "cc", "from", NULL };

/* test_options - tags, lists and folding */
static void
test_options(void)
{
	struct crypto_key *rsa = NULL, *ed = NULL, *pub = NULL;
	struct dkim_sign_opts o;
	struct buf a = BUF_INIT, b = BUF_INIT, t = BUF_INIT, raw = BUF_INIT;

	crypto_key_load_private_file(D "rsa2048.pem", &rsa);
	crypto_key_load_private_file(D "ed25519.seed", &ed);
	memset(&o, 0, sizeof(o));
	o.key = rsa;
	o.domain = "example.com";
	o.selector = "rsa2048";
	o.now = 1700000000;
	sign(&o, msg, &a);
	sign(&o, msg, &b);
	ok(a.len > 0 && strcmp(a.s, b.s) == 0,
	    "RSA signing with a fixed time is deterministic");
	is_str(tag(a.s, "a", &t), "rsa-sha256", "an RSA key gives rsa-sha256");
	is_str(tag(a.s, "c", &t), "simple/simple",
	    "the zero options give simple/simple");
	is_str(tag(a.s, "t", &t), "1700000000", "t= is the signing time");
	ok(tag(a.s, "x", &t) == NULL && tag(a.s, "l", &t) == NULL &&
	    tag(a.s, "i", &t) == NULL && tag(a.s, "q", &t) == NULL,
	    "x=, l=, i= and q= only when asked for");
	is_str(tag(a.s, "h", &t), "from:subject:date:to:message-id",
	    "default list: present fields in list order, Received and "
	    "X-Mailer not signed");
	ok(lines_ok(a.s), "folded within 78 columns, continuations with TAB");
	ok(strncmp(a.s, "v=1; a=rsa-sha256;", 18) == 0,
	    "the value starts with v=1 and a=");

	o.key = ed;
	o.selector = "ed25519";
	o.hcanon = CANON_RELAXED;
	o.identity = "alice@mail.example.com";
	o.expire = 3600;
	o.body_length = 1;
	o.oversign = over_from;
	o.omit = omit_to;
	sign(&o, msg, &a);
	is_str(tag(a.s, "a", &t), "ed25519-sha256",
	    "an Ed25519 key gives ed25519-sha256");
	is_str(tag(a.s, "c", &t), "relaxed/simple", "c= follows the options");
	is_str(tag(a.s, "x", &t), "1700003600", "x= is t= plus the lifetime");
	is_str(tag(a.s, "l", &t), "8", "l= is the canonical body length");
	is_str(tag(a.s, "i", &t), "alice@mail.example.com", "i= as given");
	is_str(tag(a.s, "h", &t), "from:subject:date:message-id:from",
	    "omit drops To, oversign adds From once more");
	ok(lines_ok(a.s), "still within 78 columns");

	o.headers = only_cc;
	o.oversign = NULL;
	o.no_timestamp = 1;
	o.expire = 0;
	sign(&o, msg, &a);
	is_str(tag(a.s, "h", &t), "from",
	    "absent names are not signed, a name listed twice counts once");
	ok(tag(a.s, "t", &t) == NULL, "no_timestamp leaves t= out");

	crypto_key_public_raw(ed, &raw);
	crypto_key_from_public(CRYPTO_KEY_ED25519, (unsigned char *)raw.s,
	    raw.len, &pub);
	o.key = pub;
	ok(dkim_sign_new(&o) == NULL, "a public key cannot sign");
	o.key = ed;
	o.domain = NULL;
	ok(dkim_sign_new(&o) == NULL, "a domain is required");
	o.domain = "example.com; x=1";
	ok(dkim_sign_new(&o) == NULL, "a d= that is no domain name is refused");
	o.domain = "example.com";
	o.identity = "a@example.org";
	ok(dkim_sign_new(&o) == NULL, "an i= outside d= is refused");
	o.identity = "a@sub.example.com";
	{
		struct dkim_sign *s = dkim_sign_new(&o);

		dkim_sign_eoh(s);
		is_int(dkim_sign_header(s, "From: x", 7), DKIM_BADSTAGE,
		    "a header after eoh is a stage error");
		dkim_sign_body(s, (const unsigned char *)"x\r\n", 3);
		is_int(dkim_sign_eom(s, &a), DKIM_OK, "a body-only message signs");
		is_int(dkim_sign_eom(s, &a), DKIM_BADSTAGE, "eom works once");
		dkim_sign_free(s);
	}
	is_str(dkim_sign_header_name(), "DKIM-Signature", "the field name");
	crypto_key_free(rsa);
	crypto_key_free(ed);
	crypto_key_free(pub);
	buf_free(&a);
	buf_free(&b);
	buf_free(&t);
	buf_free(&raw);
}

/* test_stream - chunked and bare-LF input give the same signature */
static void
test_stream(void)
{
	struct crypto_key *ed = NULL;
	struct dkim_sign_opts o;
	struct dkim_sign *s;
	struct buf whole = BUF_INIT, chunked = BUF_INIT, lf = BUF_INIT;
	const char *body = strstr(msg, "\r\n\r\n") + 4, *f, *p;
	struct rfc5322_field fld;
	size_t i;
	int c;

	crypto_key_load_private_file(D "ed25519.seed", &ed);
	memset(&o, 0, sizeof(o));
	o.key = ed;
	o.domain = "example.com";
	o.selector = "ed25519";
	o.now = 1700000000;
	for (c = 0; c < 2; c++) {
		o.bcanon = o.hcanon = c ? CANON_RELAXED : CANON_SIMPLE;
		sign(&o, msg, &whole);
		s = dkim_sign_new(&o);
		for (p = msg; rfc5322_next_field(p, msg + strlen(msg), &fld) !=
		    RFC5322_EOH; p = fld.next)
			dkim_sign_header(s, fld.raw, fld.raw_len);
		dkim_sign_eoh(s);
		for (i = 0; body[i] != '\0'; i++)
			dkim_sign_body(s, (const unsigned char *)body + i, 1);
		buf_reset(&chunked);
		dkim_sign_eom(s, &chunked);
		dkim_sign_free(s);
		is_str(chunked.s, whole.s, c ? "relaxed: one-byte body chunks "
		    "sign the same" : "simple: one-byte body chunks sign the same");
		buf_reset(&lf);
		for (f = msg; *f != '\0'; f++)
			if (*f != '\r')
				buf_putc(&lf, *f);
		sign(&o, lf.s, &chunked);
		is_str(chunked.s, whole.s, c ? "relaxed: bare LF input signs the "
		    "same" : "simple: bare LF input signs the same");
	}
	/* a header past the limits of what is kept is not signed: a
	 * signature over part of it would pick the wrong fields */
	buf_reset(&lf);
	for (i = 0; i < CANON_HDRS_MAX_FIELDS; i++)
		buf_puts(&lf, "X-Pad: x\r\n");
	buf_puts(&lf, msg);
	is_int(sign(&o, lf.s, &chunked), DKIM_TOOBIG, "10000 fields and "
	    "a message: DKIM_TOOBIG, no signature");
	crypto_key_free(ed);
	buf_free(&whole);
	buf_free(&chunked);
	buf_free(&lf);
}

int
main(void)
{
	test_rfc8463();
	test_options();
	test_stream();
	return done_testing();
}
