/*
 * dkim_verify - published vectors pass; every failure mode gives the
 * right RFC 8601 result and reason; chunking and bare LF do not matter;
 * hostile input stays bounded
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dkim.h"
#include "rfc5322.h"
#include "files.h"
#include "tap.h"

#define D	"t/data/dkim/"
#define PYDATA	"/usr/lib/python3/dist-packages/dkim/tests/data/"
#define NOW	1700000000

/* the key records: test.keys plus overrides for the current case */
struct keys {
	struct buf	 file;
	const char	*qname;		/* override this name ... */
	const char	*record;	/* ... with this record, or */
	enum dkim_key_status status;	/* ... this status when record NULL */
	int		 secure;
};

/* lookup - the key callback: an override, else a line of the key file */
static enum dkim_key_status
lookup(void *arg, const char *qname, struct buf *rec, int *secure)
{
	struct keys *k = arg;
	const char *p, *nl;
	size_t ql = strlen(qname);

	*secure = k->secure;
	if (k->qname != NULL && strcmp(k->qname, qname) == 0) {
		if (k->record == NULL)
			return k->status;
		buf_puts(rec, k->record);
		return DKIM_KEY_OK;
	}
	for (p = buf_str(&k->file); *p != '\0'; p = *nl ? nl + 1 : nl) {
		nl = p + strcspn(p, "\n");
		if ((size_t)(nl - p) > ql && strncmp(p, qname, ql) == 0 &&
		    p[ql] == ' ') {
			buf_append(rec, p + ql + 1, (size_t)(nl - p) - ql - 1);
			return DKIM_KEY_OK;
		}
	}
	return DKIM_KEY_NOTFOUND;
}

/* verify - run a message; returns the context (caller frees) */
static struct dkim_verify *
verify(const struct buf *msg, struct keys *k, struct dkim_verify_opts *o,
    size_t chunk)
{
	struct dkim_verify_opts def = DKIM_VERIFY_OPTS_INIT;
	struct dkim_verify *v;
	struct rfc5322_field f;
	const char *p;
	size_t pos, i, n;

	if (o == NULL) {
		def.now = NOW;
		o = &def;
	}
	v = dkim_verify_new(o, lookup, k);
	if (chunk == 0) {
		dkim_verify_message(v, msg->s, msg->len);
	} else {
		for (p = msg->s; rfc5322_next_field(p, msg->s + msg->len, &f) !=
		    RFC5322_EOH; p = f.next)
			dkim_verify_header(v, f.raw, f.raw_len);
		pos = (size_t)(f.next - msg->s);
		dkim_verify_eoh(v);
		for (i = pos; i < msg->len; i += n) {
			n = msg->len - i < chunk ? msg->len - i : chunk;
			dkim_verify_body(v, (unsigned char *)msg->s + i, n);
		}
	}
	dkim_verify_eom(v);
	return v;
}

/* sign - prepend our signature made with a fixture key */
static void
sign(const struct buf *msg, const char *keyname, struct dkim_sign_opts *o,
    struct buf *out)
{
	struct crypto_key *key = NULL;
	struct dkim_sign *s;
	struct buf path = BUF_INIT, val = BUF_INIT;

	buf_printf(&path, D "%s", keyname);
	crypto_key_load_private_file(path.s, &key);
	o->key = key;
	o->domain = o->domain ? o->domain : "example.com";
	if (o->selector == NULL)
		o->selector = strcmp(keyname, "ed25519.seed") == 0 ? "ed25519" :
		    strncmp(keyname, "rsa512", 6) == 0 ? "rsa512" :
		    strncmp(keyname, "rsa1024", 7) == 0 ? "rsa1024" : "rsa2048";
	if (o->now == 0)
		o->now = NOW;
	buf_reset(out);
	if ((s = dkim_sign_new(o)) != NULL && dkim_sign_message(s, msg->s,
	    msg->len) == DKIM_OK && dkim_sign_eom(s, &val) == DKIM_OK)
		buf_printf(out, "DKIM-Signature: %s\r\n", val.s);
	buf_append(out, msg->s, msg->len);
	dkim_sign_free(s);
	crypto_key_free(key);
	buf_free(&path);
	buf_free(&val);
}

/* expect - one signature with this result and reason */
static void
expect(struct dkim_verify *v, size_t n, enum dkim_result r, const char *why,
    const char *name)
{
	const struct dkim_sig_result *res = dkim_verify_result(v, n);
	struct buf text = BUF_INIT;
	int good;

	if (res != NULL)
		dkim_sig_reason(res, &text);
	good = res != NULL && res->result == r &&
	    (why == NULL || strcmp(buf_str(&text), why) == 0);
	ok(good, "%s", name);
	if (!good && res != NULL)
		diag("got %s (%s)", dkim_result_name(res->result),
		    buf_str(&text));
	else if (!good)
		diag("no result %zu", n);
	buf_free(&text);
}

static const char *const over_from[] = { "from", NULL };

static const struct {
	const char *key;
	enum canon_alg hc, bc;
	int oversign;
	const char *find, *replace;	/* change after signing */
	const char *prepend;		/* a field added above the signature */
	const char *krec;		/* replaces the key record */
	enum dkim_key_status kst;	/* ... or this lookup status */
	enum dkim_result want;
	enum dkim_reason reason;	/* what a program decides on */
	const char *why, *name;		/* the text for people */
} mutations[] = {
	{ "rsa2048.pem", CANON_RELAXED, CANON_RELAXED, 0, NULL, NULL, NULL, NULL,
	  0, DKIM_RESULT_PASS, DKIM_REASON_NONE, "", "rsa-sha256 relaxed/relaxed passes" },
	{ "rsa2048.pem", CANON_SIMPLE, CANON_SIMPLE, 0, NULL, NULL, NULL, NULL,
	  0, DKIM_RESULT_PASS, DKIM_REASON_NONE, "", "rsa-sha256 simple/simple passes" },
	{ "ed25519.seed", CANON_RELAXED, CANON_SIMPLE, 0, NULL, NULL, NULL, NULL,
	  0, DKIM_RESULT_PASS, DKIM_REASON_NONE, "", "ed25519-sha256 relaxed/simple passes" },
	{ "ed25519.seed", CANON_SIMPLE, CANON_RELAXED, 0, NULL, NULL, NULL, NULL,
	  0, DKIM_RESULT_PASS, DKIM_REASON_NONE, "", "ed25519-sha256 simple/relaxed passes" },
	{ "rsa2048.pem", CANON_RELAXED, CANON_RELAXED, 0, "noon", "nine", NULL,
	  NULL, 0, DKIM_RESULT_FAIL, DKIM_REASON_BODY_HASH, "body hash did not verify",
	  "a changed body fails the body hash" },
	{ "ed25519.seed", CANON_RELAXED, CANON_RELAXED, 0, "shall  we",
	  "shall we", NULL, NULL, 0, DKIM_RESULT_PASS, DKIM_REASON_NONE, "",
	  "relaxed body: changed inner white space still passes" },
	{ "ed25519.seed", CANON_RELAXED, CANON_SIMPLE, 0, "shall  we",
	  "shall we", NULL, NULL, 0, DKIM_RESULT_FAIL, DKIM_REASON_BODY_HASH,
	  "body hash did not verify", "simple body: changed white space fails" },
	{ "rsa2048.pem", CANON_RELAXED, CANON_RELAXED, 0, "Lunch", "Dinner",
	  NULL, NULL, 0, DKIM_RESULT_FAIL, DKIM_REASON_SIGNATURE, "signature did not verify",
	  "a changed signed header fails the signature" },
	{ "rsa2048.pem", CANON_RELAXED, CANON_RELAXED, 0,
	  "Subject: Lunch\r\n on", "subject:  Lunch\ton", NULL, NULL, 0,
	  DKIM_RESULT_PASS, DKIM_REASON_NONE, "", "relaxed header: refolded and recased passes" },
	{ "rsa2048.pem", CANON_SIMPLE, CANON_RELAXED, 0,
	  "Subject: Lunch\r\n on", "Subject: Lunch on", NULL, NULL, 0,
	  DKIM_RESULT_FAIL, DKIM_REASON_SIGNATURE, "signature did not verify",
	  "simple header: refolding fails" },
	{ "rsa2048.pem", CANON_RELAXED, CANON_RELAXED, 0, NULL, NULL,
	  "From: Mallory <m@evil.example>", NULL, 0, DKIM_RESULT_PASS, DKIM_REASON_NONE, "",
	  "a From added on top is not seen without oversigning" },
	{ "rsa2048.pem", CANON_RELAXED, CANON_RELAXED, 1, NULL, NULL,
	  "From: Mallory <m@evil.example>", NULL, 0, DKIM_RESULT_FAIL, DKIM_REASON_SIGNATURE,
	  "signature did not verify", "an oversigned From added on top fails" },
	{ "rsa2048.pem", CANON_RELAXED, CANON_RELAXED, 1, NULL, NULL,
	  "X-Added: 1", NULL, 0, DKIM_RESULT_PASS, DKIM_REASON_NONE, "",
	  "an unsigned field added does not matter" },
	{ "rsa2048.pem", CANON_RELAXED, CANON_RELAXED, 0, NULL, NULL, NULL,
	  "v=DKIM1; p=", 0, DKIM_RESULT_PERMERROR, DKIM_REASON_KEY_REVOKED, "key revoked",
	  "an empty p= is a revoked key" },
	{ "rsa2048.pem", CANON_RELAXED, CANON_RELAXED, 0, NULL, NULL, NULL, NULL,
	  DKIM_KEY_NOTFOUND, DKIM_RESULT_PERMERROR, DKIM_REASON_KEY_NOTFOUND, "no key for signature",
	  "a missing key is permerror" },
	{ "rsa2048.pem", CANON_RELAXED, CANON_RELAXED, 0, NULL, NULL, NULL, NULL,
	  DKIM_KEY_TEMPFAIL, DKIM_RESULT_TEMPERROR, DKIM_REASON_KEY_TEMPFAIL, "key lookup failed",
	  "a DNS failure is temperror" },
	{ "rsa2048.pem", CANON_RELAXED, CANON_RELAXED, 0, NULL, NULL, NULL,
	  "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
	  0, DKIM_RESULT_PERMERROR, DKIM_REASON_KEY_MISMATCH, "key type does not match a=",
	  "an Ed25519 key for an rsa-sha256 signature is refused" },
	{ "rsa2048.pem", CANON_RELAXED, CANON_RELAXED, 0, NULL, NULL, NULL,
	  "v=DKIM1; h=sha1; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRi"
	  "Gs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDf"
	  "zwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3"
	  "G+2kryOTIKT+l/K4w3QIDAQAB", 0, DKIM_RESULT_PERMERROR, DKIM_REASON_KEY_HASH,
	  "hash not allowed by key", "a key restricted to sha1 refuses sha256" },
	{ "rsa2048.pem", CANON_RELAXED, CANON_RELAXED, 0, NULL, NULL, NULL,
	  "v=DKIM1; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6",
	  0, DKIM_RESULT_PERMERROR, DKIM_REASON_KEY_BAD_P, "key data invalid",
	  "a truncated key is permerror" },
	{ "rsa2048.pem", CANON_RELAXED, CANON_RELAXED, 0, NULL, NULL, NULL,
	  "v=DKIM1; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3"
	  "idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/"
	  "8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTI"
	  "KT+l/K4w3QIDAQAB", 0, DKIM_RESULT_FAIL, DKIM_REASON_SIGNATURE, "signature did not verify",
	  "another domain's key does not verify" },
	{ "rsa512.pem", CANON_RELAXED, CANON_RELAXED, 0, NULL, NULL, NULL, NULL,
	  0, DKIM_RESULT_POLICY, DKIM_REASON_KEY_TOO_SHORT, "key too short (512 bits)",
	  "a 512-bit key is below the minimum" },
};

/* test_reason_texts - every reason has its own words */
static void
test_reason_texts(void)
{
	int r, bad = 0;

	ok(dkim_reason_str(DKIM_REASON_NONE)[0] == '\0',
	    "a pass has no reason text");
	for (r = 1; r < DKIM_REASON_MAX; r++)
		if (dkim_reason_str((enum dkim_reason)r)[0] == '\0' ||
		    strcmp(dkim_reason_str((enum dkim_reason)r),
		    "unknown reason") == 0) {
			diag("reason %d has no text", r);
			bad++;
		}
	ok(bad == 0, "every reason has a text");
	ok(strcmp(dkim_reason_str(DKIM_REASON_MAX), "unknown reason") == 0,
	    "an out-of-range reason is named unknown");
}

/* replace_first - out = in with the first find replaced */
static void
replace_first(const struct buf *in, const char *find, const char *rep,
    struct buf *out)
{
	const char *p = find ? strstr(in->s, find) : NULL;

	buf_reset(out);
	buf_append(out, "", 0);
	if (p == NULL) {
		buf_append(out, in->s, in->len);
		return;
	}
	buf_append(out, in->s, (size_t)(p - in->s));
	buf_puts(out, rep);
	buf_puts(out, p + strlen(find));
}

/* test_mutations - sign, change, verify */
static void
test_mutations(const struct buf *plain, struct keys *k)
{
	struct dkim_sign_opts o;
	struct buf signed_msg = BUF_INIT, m = BUF_INIT, tmp = BUF_INIT;
	struct dkim_verify *v;
	size_t i;

	for (i = 0; i < sizeof(mutations) / sizeof(mutations[0]); i++) {
		memset(&o, 0, sizeof(o));
		o.hcanon = mutations[i].hc;
		o.bcanon = mutations[i].bc;
		o.oversign = mutations[i].oversign ? over_from : NULL;
		sign(plain, mutations[i].key, &o, &signed_msg);
		replace_first(&signed_msg, mutations[i].find,
		    mutations[i].replace, &tmp);
		buf_reset(&m);
		if (mutations[i].prepend != NULL)
			buf_printf(&m, "%s\r\n", mutations[i].prepend);
		buf_append(&m, tmp.s, tmp.len);
		k->qname = NULL;
		if (mutations[i].krec != NULL || mutations[i].kst != 0) {
			k->qname = strncmp(mutations[i].key, "ed", 2) == 0 ?
			    "ed25519._domainkey.example.com" :
			    "rsa2048._domainkey.example.com";
			k->record = mutations[i].krec;
			k->status = mutations[i].kst;
		}
		v = verify(&m, k, NULL, 0);
		expect(v, 0, mutations[i].want, mutations[i].why,
		    mutations[i].name);
		ok(dkim_verify_result(v, 0) != NULL &&
		    dkim_verify_result(v, 0)->reason == mutations[i].reason,
		    "%s: reason %s", mutations[i].name,
		    dkim_reason_str(mutations[i].reason));
		dkim_verify_free(v);
	}
	k->qname = NULL;
	buf_free(&signed_msg);
	buf_free(&m);
	buf_free(&tmp);
}

/* syntax cases: a signature field put above plain.eml */
static const struct {
	const char *sig, *why, *name;
} syntax[] = {
	{ "v=1; a=rsa-sha256; d=example.com; s=x; h=from; b=AAAA",
	  "missing bh=", "a missing bh= is permerror" },
	{ "v=2; a=rsa-sha256; d=example.com; s=x; h=from; bh=AAAA; b=AAAA",
	  "unsupported version", "v=2 is permerror" },
	{ "v=1; a=rsa-md5; d=example.com; s=x; h=from; bh=AAAA; b=AAAA",
	  "unknown algorithm", "an unknown algorithm is permerror" },
	{ "v=1; a=rsa-sha256; c=fancy; d=example.com; s=x; h=from; bh=AAAA; "
	  "b=AAAA", "unknown canonicalization",
	  "an unknown canonicalization is permerror" },
	{ "v=1; a=rsa-sha256; d=example.com; s=x; h=to:subject; bh=AAAA; b=AAAA",
	  "From field not signed", "h= without From is permerror" },
	{ "v=1; a=rsa-sha256; d=example.com; s=x; h=from::to; bh=AAAA; b=AAAA",
	  "invalid h=", "an empty name in h= is permerror" },
	{ "v=1; a=rsa-sha256; d=example.com; i=a@example.org; s=x; h=from; "
	  "bh=AAAA; b=AAAA", "i= not within d=", "i= outside d= is permerror" },
	{ "v=1; a=rsa-sha256; d=example.com; i=a@badexample.com; s=x; h=from; "
	  "bh=AAAA; b=AAAA", "i= not within d=",
	  "i= must be d= or a subdomain, not a suffix match" },
	{ "v=1; a=rsa-sha256; d=example.com; s=x; h=from; bh=AAAA; b=AA!A",
	  "invalid b=", "invalid base64 in b= is permerror" },
	{ "v=1; a=rsa-sha256; d=example.com; s=x; h=from; bh=AAAA; b=AAAA; "
	  "t=1700000100; x=1700000000", "x= is before t=",
	  "x= before t= is permerror" },
	{ "v=1; a=rsa-sha256; d=example.com; s=x; h=from; bh=AAAA; b=AAAA; "
	  "t=1700000000; x=1700000000", "x= equals t=",
	  "x= equal to t= is permerror (x= must be greater)" },
	{ "v=1; a=rsa-sha256; d=example.com; s=x; h=from; bh=AAAA; b=AAAA; "
	  "x=1699990000", "signature expired", "an expired signature" },
	{ "v=1; a=rsa-sha256; d=example.com; s=x; h=from; bh=AAAA; b=AAAA; "
	  "t=1700090000", "signature timestamp in the future",
	  "a timestamp beyond the clock drift" },
	{ "v=1; a=rsa-sha256; d=example.com; s=x; h=from; bh=AAAA; b=AAAA; "
	  "q=http", "unsupported query method", "q= without dns/txt" },
	{ "v=1; a=rsa-sha256; d=legitimate.com(.attacker.com; s=x; h=from; "
	  "bh=AAAA; b=AAAA", "invalid d=", "a d= that is no domain name" },
	{ "v=1; a=rsa-sha256; d=example.com; s=x; h=from; bh=AAAA; b=AAAA; "
	  "l=12x", "invalid l=", "a non-numeric l=" },
	{ "v=1; v=1; a=rsa-sha256; d=example.com; s=x; h=from; bh=AAAA; b=AAAA",
	  "duplicate tag", "a duplicated tag" },
	{ "v=1; a=rsa-sha256 d=example.com", "missing b=",
	  "a missing semicolon swallows the next tag" },
	{ "v=1; a=rsa-sha256; =example.com", "signature syntax error",
	  "a broken tag list" },
};

/* test_syntax - malformed signatures give permerror with a reason */
static void
test_syntax(const struct buf *plain, struct keys *k)
{
	struct buf m = BUF_INIT;
	struct dkim_verify *v;
	size_t i;

	for (i = 0; i < sizeof(syntax) / sizeof(syntax[0]); i++) {
		buf_reset(&m);
		buf_printf(&m, "DKIM-Signature: %s\r\n%s", syntax[i].sig,
		    plain->s);
		v = verify(&m, k, NULL, 0);
		expect(v, 0, DKIM_RESULT_PERMERROR, syntax[i].why,
		    syntax[i].name);
		dkim_verify_free(v);
	}
	/* a NUL byte inside the field */
	buf_reset(&m);
	buf_puts(&m, "DKIM-Signature: v=1; a=rsa-sha256; d=exa");
	buf_append(&m, "\0", 1);
	buf_puts(&m, "mple.com; s=x; h=from; bh=AAAA; b=AAAA\r\n");
	buf_append(&m, plain->s, plain->len);
	v = verify(&m, k, NULL, 0);
	expect(v, 0, DKIM_RESULT_PERMERROR, "signature syntax error",
	    "a NUL byte in the signature is a syntax error");
	dkim_verify_free(v);
	buf_free(&m);
}

/* crlf_to_lf - out = in with every CRLF made LF */
static void
crlf_to_lf(const struct buf *in, struct buf *out)
{
	size_t i;

	buf_reset(out);
	buf_append(out, "", 0);
	for (i = 0; i < in->len; i++)
		if (!(in->s[i] == '\r' && i + 1 < in->len && in->s[i + 1] == '\n'))
			buf_putc(out, in->s[i]);
}

/* test_rfc8463 - the RFC 8463 example, whole, chunked and with bare LF */
static void
test_rfc8463(void)
{
	struct keys k = { BUF_INIT, NULL, NULL, 0, 1 };
	struct dkim_verify_opts o = DKIM_VERIFY_OPTS_INIT;
	struct buf msg = BUF_INIT, lf = BUF_INIT, path = BUF_INIT;
	const struct dkim_sig_result *r;
	struct dkim_verify *v;
	const char *td = getenv("TESTDATA");
	static const size_t chunks[] = { 0, 1, 2, 7 };
	size_t i;

	buf_printf(&path, "%s/dkim/rfc8463/", td ? td : "../shared/testdata");
	buf_puts(&path, "message.eml");
	if (t_slurp(path.s, &msg) < 0) {
		skip("no test data", "RFC 8463 example: %s is missing (TESTDATA)",
		    path.s);
		buf_free(&msg);
		buf_free(&path);
		return;
	}
	buf_truncate(&path, path.len - strlen("message.eml"));
	buf_puts(&path, "dns.txt");
	t_slurp(path.s, &k.file);
	o.now = 1528637909;
	for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		v = verify(&msg, &k, &o, chunks[i]);
		ok(dkim_verify_count(v) == 2 &&
		    dkim_verify_result(v, 0)->result == DKIM_RESULT_PASS &&
		    dkim_verify_result(v, 1)->result == DKIM_RESULT_PASS,
		    "RFC 8463 example: both signatures pass (body chunk %zu)",
		    chunks[i]);
		if (i == 0) {
			r = dkim_verify_result(v, 0);
			ok(strcmp(r->d, "football.example.com") == 0 &&
			    strcmp(r->s, "brisbane") == 0 &&
			    strcmp(r->a, "ed25519-sha256") == 0 &&
			    strcmp(r->i, "@football.example.com") == 0 &&
			    strncmp(r->b, "/gCrinpcQOoIfuH", 15) == 0 &&
			    r->key_bits == 256 && r->secure && !r->testing &&
			    !r->has_l && r->body_total == r->body_signed &&
			    r->body_total > 0, "the result reports d, s, a, i, "
			    "b, key bits, secure and the body length");
			is_int(dkim_verify_result(v, 1)->key_bits, 1024,
			    "the RSA key is reported as 1024 bits");
		}
		dkim_verify_free(v);
	}
	crlf_to_lf(&msg, &lf);
	v = verify(&lf, &k, &o, 3);
	ok(dkim_verify_result(v, 0)->result == DKIM_RESULT_PASS &&
	    dkim_verify_result(v, 1)->result == DKIM_RESULT_PASS,
	    "RFC 8463 example with bare LF line ends passes");
	dkim_verify_free(v);
	o.min_key_bits = 2048;
	v = verify(&msg, &k, &o, 0);
	expect(v, 1, DKIM_RESULT_POLICY, "key too short (1024 bits)",
	    "min_key_bits applies to RSA only");
	expect(v, 0, DKIM_RESULT_PASS, "", "... not to Ed25519");
	dkim_verify_free(v);
	buf_free(&msg);
	buf_free(&lf);
	buf_free(&path);
	buf_free(&k.file);
}

/* test_python_vectors - python-dkim's signed test messages */
static void
test_python_vectors(void)
{
	static const struct {
		const char *file;
		size_t n;
		const char *name;
	} vec[] = {
		{ "rfc6376.signed.msg", 2, "python-dkim rfc6376.signed.msg: "
		  "Ed25519 and RSA simple/simple pass" },
		{ "rfc6376.signed.rsa.msg", 1, "python-dkim rfc6376.signed.rsa.msg "
		  "passes" },
		{ "test2.message", 1, "python-dkim test2.message (degenerate "
		  "folding, gmail.com) passes" },
	};
	struct keys k = { BUF_INIT, NULL, NULL, 0, 0 };
	struct buf msg = BUF_INIT, path = BUF_INIT;
	struct dkim_verify_opts o = DKIM_VERIFY_OPTS_INIT;
	struct dkim_verify *v;
	size_t i, j;
	int good;

	t_slurp(D "python-dkim.keys", &k.file);
	o.now = 1528637909;
	for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		buf_reset(&path);
		buf_printf(&path, PYDATA "%s", vec[i].file);
		if (t_slurp(path.s, &msg) < 0) {
			ok(1, "# SKIP python3-dkim test data not installed");
			continue;
		}
		v = verify(&msg, &k, &o, 0);
		good = dkim_verify_count(v) == vec[i].n;
		for (j = 0; good && j < vec[i].n; j++)
			good = dkim_verify_result(v, j)->result ==
			    DKIM_RESULT_PASS;
		ok(good, "%s", vec[i].name);
		dkim_verify_free(v);
	}
	if (t_slurp(PYDATA "test.message.baddomain", &msg) == 0) {
		v = verify(&msg, &k, &o, 0);
		expect(v, 0, DKIM_RESULT_PERMERROR, "invalid d=",
		    "python-dkim test.message.baddomain is refused");
		dkim_verify_free(v);
	}
	buf_free(&msg);
	buf_free(&path);
	buf_free(&k.file);
}

/* test_features - l=, t=y, rsa-sha1, several signatures, empty body */
static void
test_features(const struct buf *plain, struct keys *k)
{
	struct dkim_verify_opts o = DKIM_VERIFY_OPTS_INIT;
	struct dkim_sign_opts so;
	struct buf m = BUF_INIT, m2 = BUF_INIT, sha1 = BUF_INIT;
	const struct dkim_sig_result *r;
	struct dkim_verify *v;
	int good, i;

	o.now = NOW;
	memset(&so, 0, sizeof(so));
	so.body_length = 1;
	sign(plain, "ed25519.seed", &so, &m);
	buf_append(&m, "appended\r\n", 10);
	v = verify(&m, k, &o, 0);
	r = dkim_verify_result(v, 0);
	/* the two empty lines before the appended text count as well */
	ok(r->result == DKIM_RESULT_PASS && r->has_l &&
	    r->body_total == r->body_signed + 14,
	    "l=: appended text passes, covered and total lengths reported");
	dkim_verify_free(v);
	o.max_unsigned = 0;
	v = verify(&m, k, &o, 0);
	expect(v, 0, DKIM_RESULT_POLICY, "l= leaves 14 bytes unsigned",
	    "l=: max_unsigned 0 makes unsigned text a policy result");
	dkim_verify_free(v);
	o.max_unsigned = -1;

	memset(&so, 0, sizeof(so));
	sign(plain, "rsa1024.pem", &so, &m);
	k->qname = "rsa1024._domainkey.example.com";
	k->record = NULL;
	k->status = DKIM_KEY_NOTFOUND;
	{
		const char *p = strstr(buf_str(&k->file), "rsa1024._domainkey");
		struct buf rec = BUF_INIT;

		buf_append(&rec, p + 31, strcspn(p + 31, "\n"));
		buf_puts(&rec, "; t=y");
		k->record = rec.s;
		v = verify(&m, k, &o, 0);
		r = dkim_verify_result(v, 0);
		ok(r->result == DKIM_RESULT_PASS && r->testing,
		    "a t=y key is reported as testing");
		dkim_verify_free(v);
		buf_free(&rec);
	}
	k->qname = NULL;

	if (t_slurp(D "rsa-sha1.eml", &sha1) == 0) {
		o.now = 0;
		v = verify(&sha1, k, &o, 0);
		expect(v, 0, DKIM_RESULT_FAIL, "rsa-sha1 not allowed",
		    "rsa-sha1 fails by default (RFC 8301)");
		dkim_verify_free(v);
		o.allow_sha1 = 1;
		v = verify(&sha1, k, &o, 0);
		expect(v, 0, DKIM_RESULT_PASS, "",
		    "rsa-sha1 (signed by python-dkim) passes when allowed");
		dkim_verify_free(v);
		o.allow_sha1 = 0;
		o.now = NOW;
	}

	/* i= in a subdomain of d=; a t=s key wants them equal */
	memset(&so, 0, sizeof(so));
	so.identity = "alice@mail.example.com";
	sign(plain, "ed25519.seed", &so, &m);
	v = verify(&m, k, &o, 0);
	r = dkim_verify_result(v, 0);
	ok(r->result == DKIM_RESULT_PASS &&
	    strcmp(r->i, "alice@mail.example.com") == 0,
	    "i= in a subdomain of d= passes and is reported");
	dkim_verify_free(v);
	k->qname = "ed25519._domainkey.example.com";
	k->record = "v=DKIM1; k=ed25519; t=s; "
	    "p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
	v = verify(&m, k, &o, 0);
	expect(v, 0, DKIM_RESULT_PERMERROR, "i= domain must equal d= (t=s)",
	    "a t=s key refuses an i= in a subdomain");
	dkim_verify_free(v);
	/* the same with an i= too long for the reported copy: the check
	 * must look at the whole domain, not at a cut one */
	memset(&so, 0, sizeof(so));
	buf_reset(&m2);
	for (i = 0; i < 371; i++)
		buf_putc(&m2, 'a');
	buf_puts(&m2, "@example.com.example.com");
	so.identity = m2.s;
	sign(plain, "ed25519.seed", &so, &m);
	v = verify(&m, k, &o, 0);
	expect(v, 0, DKIM_RESULT_PERMERROR, "i= domain must equal d= (t=s)",
	    "a t=s key refuses a subdomain i= even when i= is too long to "
	    "report whole");
	dkim_verify_free(v);
	k->qname = NULL;

	/* four signatures, four canonicalizations, one message */
	buf_reset(&m);
	buf_append(&m, plain->s, plain->len);
	for (i = 0; i < 4; i++) {
		memset(&so, 0, sizeof(so));
		so.hcanon = i & 1 ? CANON_RELAXED : CANON_SIMPLE;
		so.bcanon = i & 2 ? CANON_RELAXED : CANON_SIMPLE;
		sign(&m, i & 1 ? "ed25519.seed" : "rsa2048.pem", &so, &m2);
		buf_reset(&m);
		buf_append(&m, m2.s, m2.len);
	}
	v = verify(&m, k, &o, 5);
	good = dkim_verify_count(v) == 4;
	for (i = 0; good && i < 4; i++)
		good = dkim_verify_result(v, (size_t)i)->result ==
		    DKIM_RESULT_PASS;
	ok(good, "four stacked signatures with the four canonicalizations "
	    "pass (each signer saw the ones below)");
	dkim_verify_free(v);

	/* empty bodies */
	for (i = 0; i < 2; i++) {
		buf_reset(&m2);
		buf_puts(&m2, "From: a@example.com\r\nSubject: x\r\n");
		if (i)
			buf_puts(&m2, "\r\n\r\n\r\n");
		memset(&so, 0, sizeof(so));
		so.hcanon = so.bcanon = CANON_SIMPLE;
		sign(&m2, "ed25519.seed", &so, &m);
		buf_reset(&m2);
		buf_append(&m2, m.s, m.len);
		memset(&so, 0, sizeof(so));
		so.hcanon = so.bcanon = CANON_RELAXED;
		sign(&m2, "ed25519.seed", &so, &m);
		v = verify(&m, k, &o, 0);
		ok(dkim_verify_result(v, 0)->result == DKIM_RESULT_PASS &&
		    dkim_verify_result(v, 1)->result == DKIM_RESULT_PASS &&
		    dkim_verify_result(v, 0)->body_total == 0 &&
		    dkim_verify_result(v, 1)->body_total == 2,
		    "%s: simple hashes CRLF, relaxed nothing",
		    i ? "a body of empty lines" : "no body at all");
		dkim_verify_free(v);
	}
	buf_free(&m);
	buf_free(&m2);
	buf_free(&sha1);
}

/* test_hostile - thousands of signatures, huge tags: bounded, clean */
static void
test_hostile(const struct buf *plain, struct keys *k)
{
	struct buf m = BUF_INIT;
	struct dkim_verify *v;
	clock_t c0 = clock();
	size_t i;
	int good;

	for (i = 0; i < 5000; i++)
		buf_printf(&m, "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/"
		    "relaxed; d=example.com; s=rsa2048; l=%zu; h=from; "
		    "bh=AAAA; b=AAAA\r\n", i);
	buf_append(&m, plain->s, plain->len);
	v = verify(&m, k, NULL, 0);
	good = dkim_verify_count(v) == DKIM_MAX_SIGS_DEFAULT &&
	    dkim_verify_skipped(v) == 5000 - DKIM_MAX_SIGS_DEFAULT;
	for (i = 0; good && i < dkim_verify_count(v); i++)
		good = dkim_verify_result(v, i)->result != DKIM_RESULT_PASS;
	ok(good, "5000 signatures: 10 checked, 4990 reported skipped");
	ok((double)(clock() - c0) / CLOCKS_PER_SEC < 5.0,
	    "... in bounded time");
	dkim_verify_free(v);
	buf_reset(&m);
	buf_puts(&m, "DKIM-Signature: v=1; a=rsa-sha256; d=example.com; "
	    "s=rsa2048; h=from; bh=AAAA; b=");
	for (i = 0; i < 100000; i++)
		buf_putc(&m, 'A' + (int)(i % 26));
	buf_puts(&m, "; z=");
	for (i = 0; i < 50000; i++)
		buf_putc(&m, 'x');
	buf_puts(&m, "\r\n");
	buf_append(&m, plain->s, plain->len);
	v = verify(&m, k, NULL, 0);
	expect(v, 0, DKIM_RESULT_FAIL, "body hash did not verify",
	    "kilobyte tags are parsed and fail cleanly");
	dkim_verify_free(v);
	buf_reset(&m);
	buf_puts(&m, "DKIM-Signature: v=1; a=rsa-sha256; d=example.com; "
	    "s=rsa2048; h=");
	for (i = 0; i < DKIM_MAX_H + 1; i++)
		buf_puts(&m, "from:");
	buf_puts(&m, "from; bh=AAAA; b=AAAA\r\n");
	buf_append(&m, plain->s, plain->len);
	v = verify(&m, k, NULL, 0);
	expect(v, 0, DKIM_RESULT_PERMERROR, "too many header fields in h=",
	    "an h= with more than DKIM_MAX_H names is refused");
	dkim_verify_free(v);
	{
		/* a signature past the header limits counts, as permerror:
		 * padding does not make a signed message unsigned */
		struct dkim_sign_opts o;
		struct buf sm = BUF_INIT;

		memset(&o, 0, sizeof(o));
		o.hcanon = o.bcanon = CANON_RELAXED;
		sign(plain, "rsa2048.pem", &o, &sm);
		buf_reset(&m);
		for (i = 0; i < CANON_HDRS_MAX_FIELDS; i++)
			buf_puts(&m, "X-Pad: x\r\n");
		buf_append(&m, sm.s, sm.len);
		v = verify(&m, k, NULL, 0);
		is_int((long)dkim_verify_count(v), 1, "a signature past "
		    "CANON_HDRS_MAX_FIELDS is counted");
		expect(v, 0, DKIM_RESULT_PERMERROR, "message header too large",
		    "... as permerror: message header too large");
		dkim_verify_free(v);
		buf_free(&sm);
	}
	v = dkim_verify_new(NULL, lookup, k);
	dkim_verify_eoh(v);
	is_int(dkim_verify_header(v, "From: x", 7), DKIM_BADSTAGE,
	    "a header after eoh is a stage error");
	dkim_verify_eom(v);
	is_int(dkim_verify_count(v), 0, "a message without signatures has "
	    "no results");
	dkim_verify_free(v);
	buf_free(&m);
}

int
main(void)
{
	struct keys k = { BUF_INIT, NULL, NULL, 0, 0 };
	struct buf plain = BUF_INIT;

	if (t_slurp(D "test.keys", &k.file) < 0 || t_slurp(D "plain.eml",
	    &plain) < 0) {
		ok(0, "test data in " D " readable (run from the top directory)");
		return done_testing();
	}
	test_reason_texts();
	test_rfc8463();
	test_python_vectors();
	test_mutations(&plain, &k);
	test_syntax(&plain, &k);
	test_features(&plain, &k);
	test_hostile(&plain, &k);
	buf_free(&plain);
	buf_free(&k.file);
	return done_testing();
}
