/*
 * NAME
 *	arc_chain - ARC chain validation (RFC 8617 section 5.2)
 * SYNOPSIS
 *	#include "arc.h"
 * DESCRIPTION
 *	arc_header() keeps every header field (for the AMS header hashes)
 *	and files each ARC field by kind and instance as it arrives: an
 *	instance that is missing, malformed, 0, above ARC_MAX_SETS or taken
 *	twice breaks the chain's structure, as do more than ARC_MAX_FIELDS
 *	ARC fields (those beyond are not even read).  Two body hashes
 *	(simple and relaxed SHA-256) stream from arc_body(), enough for any
 *	AMS and for our own seal.
 *
 *	arc_eom() then decides, cheapest checks first:
 *	  1. no ARC field: none;
 *	  2. the structure: instances 1..N, each with exactly one AAR, AMS
 *	     and AS; every AMS and AS a valid tag list; AS(1) cv=none, the
 *	     others cv=pass (an AS with cv=fail means the chain arrived
 *	     failed, and it stays failed);
 *	  3. AMS(N) must validate;
 *	  4. oldest-pass: AMS(N-1) down to AMS(1) until one fails;
 *	  5. every AS from N down to 1 must validate, AS(i) over the sets
 *	     1..i in order (AAR, AMS, AS), relaxed, AS(i)'s b= empty.
 *	Any failure is fail with a short reason.  Keys come through the
 *	DKIM key callback and are checked as DKIM keys are (type matches
 *	a=, sha256 allowed, RSA at least min_key_bits); each distinct key
 *	is fetched once per message.
 * DIAGNOSTICS
 *	Stages return ARC_NOMEM (sticky) or ARC_BADSTAGE; everything wrong
 *	with the message is a result.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arc_int.h"
#include "rfc5322.h"
#include "tagvalue.h"

/* arc_new - a context for one message */
struct arc *
arc_new(const struct arc_opts *opts, dkim_key_fn lookup, void *arg)
{
	struct arc *a;
	int k, i;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	if (opts != NULL)
		a->o = *opts;
	if (a->o.min_key_bits == 0)
		a->o.min_key_bits = DKIM_MIN_KEY_BITS;
	a->lookup = lookup;
	a->arg = arg;
	a->oldest = -1;
	canon_hdrs_init(&a->hdrs);
	for (k = 0; k < 3; k++)
		for (i = 0; i <= ARC_MAX_SETS; i++) {
			a->field[k][i] = -1;
			buf_init(&a->canon[k][i]);
		}
	return a;
}

/* broken - record the first structural problem */
static void
broken(struct arc *a, const char *why)
{
	if (a->broken == NULL)
		a->broken = why;
}

/* arc_header - keep one raw header field, file it if it is ARC's */
enum arc_status
arc_header(struct arc *a, const char *field, size_t len)
{
	const char *colon;
	enum arc_kind kind;
	size_t idx = a->hdrs.n, nl;
	unsigned inst;

	if (a->nomem)
		return ARC_NOMEM;
	if (a->stage != ARC_ST_HEADER)
		return ARC_BADSTAGE;
	if (canon_hdrs_add(&a->hdrs, field, len) < 0) {
		if (a->hdrs.failed)
			a->nomem = 1;
		else
			broken(a, "message header too large");
		return a->nomem ? ARC_NOMEM : ARC_OK;
	}
	if ((colon = memchr(field, ':', len)) == NULL)
		return ARC_OK;
	nl = a->hdrs.f[idx].name_len;
	if ((kind = arc_kind(field, nl)) == ARC_KIND_NONE)
		return ARC_OK;
	if (++a->narc > ARC_MAX_FIELDS) {
		broken(a, "too many ARC header fields");
		return ARC_OK;
	}
	inst = arc_instance(kind, colon + 1, len - (size_t)(colon + 1 - field));
	if (inst == 0)
		broken(a, "ARC field without a valid i=");
	else if (inst > ARC_MAX_SETS)
		broken(a, "ARC instance above 50");
	else if (a->field[kind][inst] >= 0)
		broken(a, "duplicate ARC field for one instance");
	else {
		a->field[kind][inst] = (long)idx;
		if (inst > a->maxinst)
			a->maxinst = inst;
	}
	return ARC_OK;
}

/* bodyhash_out - canonical body bytes into one hash */
static void
bodyhash_out(void *arg, const unsigned char *p, size_t n)
{
	crypto_hash_update(arg, p, n);
}

/* arc_eoh - start the body hashes */
enum arc_status
arc_eoh(struct arc *a)
{
	int k;

	if (a->nomem)
		return ARC_NOMEM;
	if (a->stage != ARC_ST_HEADER)
		return ARC_BADSTAGE;
	a->stage = ARC_ST_BODY;
	for (k = 0; k < ARC_BODYHASHES; k++) {
		a->hc[k] = crypto_hash_new(CRYPTO_SHA256);
		a->cb[k] = a->hc[k] == NULL ? NULL :
		    canon_body_new(k == 0 ? CANON_SIMPLE : CANON_RELAXED,
		    bodyhash_out, a->hc[k]);
		if (a->cb[k] == NULL) {
			a->nomem = 1;
			return ARC_NOMEM;
		}
	}
	return ARC_OK;
}

/* body_stage - ARC_OK once in the body */
static enum arc_status
body_stage(struct arc *a)
{
	if (a->nomem)
		return ARC_NOMEM;
	if (a->stage == ARC_ST_HEADER && arc_eoh(a) != ARC_OK)
		return ARC_NOMEM;
	return a->stage == ARC_ST_BODY ? ARC_OK : ARC_BADSTAGE;
}

/* arc_body - a raw body chunk */
enum arc_status
arc_body(struct arc *a, const unsigned char *p, size_t n)
{
	enum arc_status st;
	int k;

	if ((st = body_stage(a)) != ARC_OK)
		return st;
	for (k = 0; k < ARC_BODYHASHES; k++)
		canon_body_update(a->cb[k], p, n);
	return ARC_OK;
}

/* fail - the result fail with a reason: "what inst: why", or why */
static void
fail(struct arc *a, const char *what, unsigned inst, const char *why)
{
	a->result = ARC_CHAIN_FAIL;
	if (what == NULL)
		snprintf(a->reason, sizeof(a->reason), "%s", why);
	else
		snprintf(a->reason, sizeof(a->reason), "%s %u: %s", what, inst,
		    why);
}

/* arc_field_canon - the relaxed form of an ARC field, made once; 0/-1 */
int
arc_field_canon(struct arc *a, enum arc_kind kind, unsigned inst)
{
	struct buf *c = &a->canon[kind][inst];
	const char *f;
	size_t flen;

	if (c->len > 0)
		return 0;
	f = canon_hdrs_field(&a->hdrs, (size_t)a->field[kind][inst], &flen);
	if (canon_header(CANON_RELAXED, f, flen, c) < 0 ||
	    buf_append(c, "\r\n", 2) < 0) {
		a->nomem = 1;
		return -1;
	}
	return 0;
}

/* structure - step 2: complete sets, valid tags, cv= states */
static int
structure(struct arc *a)
{
	const char *f;
	size_t flen;
	unsigned i;
	int k;

	if (a->broken != NULL) {
		fail(a, NULL, 0, a->broken);
		return -1;
	}
	for (i = 1; i <= a->maxinst; i++)
		for (k = 0; k < 3; k++)
			if (a->field[k][i] < 0) {
				fail(a, "ARC set", i, "incomplete");
				return -1;
			}
	a->nsets = a->maxinst;
	a->complete = 1;
	for (i = 1; i <= a->nsets; i++) {
		f = canon_hdrs_field(&a->hdrs, (size_t)a->field[ARC_KIND_AS][i],
		    &flen);
		arc_sig_parse(ARC_KIND_AS, f, flen, &a->as[i]);
		if (a->as[i].parsed < 0) {
			fail(a, "ARC-Seal", i, a->as[i].why);
			return -1;
		}
		if (a->as[i].cv == ARC_CHAIN_FAIL)
			a->any_cv_fail = 1;
		f = canon_hdrs_field(&a->hdrs,
		    (size_t)a->field[ARC_KIND_AMS][i], &flen);
		arc_sig_parse(ARC_KIND_AMS, f, flen, &a->ams[i]);
		if (a->ams[i].parsed < 0) {
			fail(a, "ARC-Message-Signature", i,
			    a->ams[i].why);
			return -1;
		}
	}
	for (i = a->nsets; i >= 1; i--)
		if (a->as[i].cv != (i == 1 ? ARC_CHAIN_NONE : ARC_CHAIN_PASS)) {
			fail(a, "ARC-Seal", i,
			    a->as[i].cv == ARC_CHAIN_FAIL ? "chain already failed" :
			    "wrong cv=");
			return -1;
		}
	{
		size_t total = 0;

		for (i = 1; i <= a->nsets; i++)
			total += a->ams[i].nh;
		if (total > ARC_MAX_H_TOTAL) {
			fail(a, NULL, 0,
			    "costly chain: too many signed fields");
			return -1;
		}
	}
	return 0;
}

/* get_key - the key of a signature, looked up once per message */
static const struct arc_keyslot *
get_key(struct arc *a, const struct arc_sig *s)
{
	struct arc_keyslot *k;
	struct buf rec = BUF_INIT;
	enum dkim_key_status ks;
	enum dkim_key_error ke;
	char qname[520];
	size_t n;
	int secure = 0;

	snprintf(qname, sizeof(qname), "%s._domainkey.%s", s->s, s->d);
	for (n = 0; n < a->nkeys; n++)
		if (strcasecmp(a->keys[n].qname, qname) == 0)
			return &a->keys[n];
	if (a->nkeys == ARC_MAX_KEYS)
		return NULL;
	k = &a->keys[a->nkeys++];
	memset(k, 0, sizeof(*k));
	memcpy(k->qname, qname, sizeof(qname));
	ks = a->lookup ? a->lookup(a->arg, qname, &rec, &secure) :
	    DKIM_KEY_TEMPFAIL;
	if (ks != DKIM_KEY_OK) {
		k->why = ks == DKIM_KEY_NOTFOUND ? "no key" :
		    "key lookup failed";
		k->temp = ks == DKIM_KEY_TEMPFAIL;
	} else if ((ke = dkim_key_parse(buf_str(&rec), rec.len, &k->key)) !=
	    DKIM_KEYREC_OK) {
		k->why = dkim_key_strerror(ke);
		if (ke == DKIM_KEYREC_NOMEM)
			a->nomem = 1;
	} else if (!(k->key.hashes & DKIM_KEYHASH_SHA256))
		k->why = "hash not allowed by key";
	else if (k->key.type == CRYPTO_KEY_RSA &&
	    crypto_key_bits(k->key.pk) < a->o.min_key_bits)
		k->why = "key too short";
	else
		k->ok = 1;
	buf_free(&rec);
	return k;
}

/* check_sig - verify a digest with a signature's key; NULL or a reason */
static const char *
check_sig(struct arc *a, const struct arc_sig *s, const unsigned char *dg)
{
	const struct arc_keyslot *k;

	if ((k = get_key(a, s)) == NULL)
		return "too many distinct keys";
	if (!k->ok) {
		if (k->temp)
			a->tempfail = 1;
		return k->why;
	}
	if (k->key.type != s->ktype)
		return "key type does not match a=";
	if (crypto_verify_digest(k->key.pk, CRYPTO_SHA256, dg, 32,
	    (const unsigned char *)s->b.s, s->b.len) != CRYPTO_OK)
		return "signature did not verify";
	return NULL;
}

/* pick - the bottom-most unused field named name; top (above the
 * message) comes last; -1 none, -2 top */
static long
pick(struct arc *a, const char *name, size_t nlen, unsigned char *used,
    const char *top, size_t toplen, int *top_used)
{
	long idx = canon_hdrs_pick(&a->hdrs, name, nlen, used);
	const char *c;

	if (idx >= 0 || top == NULL || *top_used ||
	    (c = memchr(top, ':', toplen)) == NULL)
		return idx;
	while (c > top && (c[-1] == ' ' || c[-1] == '\t'))
		c--;
	if ((size_t)(c - top) != nlen || strncasecmp(top, name, nlen) != 0)
		return -1;
	*top_used = 1;
	return -2;
}

/* arc_ams_digest - the AMS header hash */
int
arc_ams_digest(struct arc *a, enum canon_alg hc, const char *hl, size_t hlen,
    const char *top, size_t toplen, const char *self, size_t selflen,
    size_t b_start, size_t b_end, unsigned char *digest)
{
	struct crypto_hash_ctx *h;
	struct buf line = BUF_INIT, blank = BUF_INIT;
	struct tagvalue tv;
	unsigned char *used;
	const char *item, *f;
	size_t pos = 0, ilen, flen;
	long idx;
	int r = -1, top_used = 0;

	memset(&tv, 0, sizeof(tv));
	tv.value = hl;
	tv.len = hlen;
	if ((used = calloc(a->hdrs.n + 1, 1)) == NULL)
		return -1;
	if ((h = crypto_hash_new(CRYPTO_SHA256)) == NULL)
		goto out;
	while (hlen > 0 && tagvalue_next_item(&tv, ':', &pos, &item, &ilen)) {
		idx = ilen == 0 ? -1 :
		    pick(a, item, ilen, used, top, toplen, &top_used);
		if (idx == -1)
			continue;
		if (idx == -2) {
			f = top;
			flen = toplen;
		} else
			f = canon_hdrs_field(&a->hdrs, (size_t)idx, &flen);
		buf_reset(&line);
		canon_header(hc, f, flen, &line);
		buf_append(&line, "\r\n", 2);
		if (line.failed || crypto_hash_update(h, line.s, line.len) < 0)
			goto out;
	}
	buf_append(&blank, self, b_start);
	buf_append(&blank, self + b_end, selflen - b_end);
	buf_reset(&line);
	canon_header(hc, buf_str(&blank), blank.len, &line);
	if (blank.failed || line.failed ||
	    crypto_hash_update(h, line.s, line.len) < 0 ||
	    crypto_hash_final(h, digest) < 0)
		goto out;
	r = 0;
out:
	crypto_hash_free(h);
	buf_free(&line);
	buf_free(&blank);
	free(used);
	if (r < 0)
		a->nomem = 1;
	return r;
}

/* ams_verify - AMS(i); NULL or a reason */
static const char *
ams_verify(struct arc *a, unsigned i)
{
	const struct arc_sig *s = &a->ams[i];
	unsigned char dg[CRYPTO_HASH_MAX];
	const char *f;
	size_t flen;

	if (memcmp(s->bh, a->bh[s->bc == CANON_RELAXED], 32) != 0)
		return "body hash did not verify";
	f = canon_hdrs_field(&a->hdrs, (size_t)a->field[ARC_KIND_AMS][i],
	    &flen);
	if (arc_ams_digest(a, s->hc, f + s->h_off, s->h_len, NULL, 0, f, flen,
	    s->b_start, s->b_end, dg) < 0)
		return "out of memory";
	return check_sig(a, s, dg);
}

/* as_verify - AS(i) over the sets 1..i; NULL or a reason */
static const char *
as_verify(struct arc *a, unsigned i)
{
	const struct arc_sig *s = &a->as[i];
	struct crypto_hash_ctx *h;
	struct buf blank = BUF_INIT, line = BUF_INIT;
	unsigned char dg[CRYPTO_HASH_MAX];
	const char *f;
	size_t flen;
	unsigned j;
	int k, bad = 0;

	if ((h = crypto_hash_new(CRYPTO_SHA256)) == NULL) {
		a->nomem = 1;
		return "out of memory";
	}
	for (j = 1; j <= i && !bad; j++)
		for (k = 0; k < 3 && !bad; k++) {
			if (j == i && k == ARC_KIND_AS)
				break;
			bad = arc_field_canon(a, k, j) < 0 ||
			    crypto_hash_update(h, a->canon[k][j].s,
			    a->canon[k][j].len) < 0;
		}
	f = canon_hdrs_field(&a->hdrs, (size_t)a->field[ARC_KIND_AS][i], &flen);
	buf_append(&blank, f, s->b_start);
	buf_append(&blank, f + s->b_end, flen - s->b_end);
	canon_header(CANON_RELAXED, buf_str(&blank), blank.len, &line);
	bad = bad || blank.failed || line.failed ||
	    crypto_hash_update(h, line.s, line.len) < 0 ||
	    crypto_hash_final(h, dg) < 0;
	crypto_hash_free(h);
	buf_free(&blank);
	buf_free(&line);
	if (bad) {
		a->nomem = 1;
		return "out of memory";
	}
	return check_sig(a, s, dg);
}

/* validate - steps 3 to 5 */
static void
validate(struct arc *a)
{
	const char *why;
	unsigned i;

	if ((why = ams_verify(a, a->nsets)) != NULL) {
		fail(a, "ARC-Message-Signature", a->nsets, why);
		return;
	}
	if (a->nsets > 1) {
		a->oldest = 0;
		for (i = a->nsets - 1; i >= 1; i--)
			if (ams_verify(a, i) != NULL) {
				a->oldest = (int)i + 1;
				break;
			}
	}
	for (i = a->nsets; i >= 1; i--)
		if ((why = as_verify(a, i)) != NULL) {
			a->oldest = -1;
			fail(a, "ARC-Seal", i, why);
			return;
		}
	a->result = ARC_CHAIN_PASS;
	a->reason[0] = '\0';
}

/* arc_eom - finish the body hashes and validate the chain */
enum arc_status
arc_eom(struct arc *a)
{
	enum arc_status st;
	int k;

	if ((st = body_stage(a)) != ARC_OK)
		return st;
	a->stage = ARC_ST_DONE;
	for (k = 0; k < ARC_BODYHASHES; k++) {
		canon_body_final(a->cb[k]);
		if (crypto_hash_final(a->hc[k], a->bh[k]) < 0)
			a->nomem = 1;
	}
	if (a->nomem)
		return ARC_NOMEM;
	a->result = ARC_CHAIN_NONE;
	if (a->narc == 0 && a->broken == NULL)
		return ARC_OK;
	if (structure(a) == 0)
		validate(a);
	return a->nomem ? ARC_NOMEM : ARC_OK;
}

/* arc_message - header, eoh and body stages from a whole message */
enum arc_status
arc_message(struct arc *a, const char *msg, size_t len)
{
	enum arc_status st = ARC_OK;
	struct rfc5322_field f;
	const char *p = msg, *end = msg + len;

	/* a line that is no field is kept as one, as an MTA passes it */
	while (st == ARC_OK && rfc5322_next_field(p, end, &f) != RFC5322_EOH) {
		st = arc_header(a, f.raw, f.raw_len);
		p = f.next;
	}
	if (st == ARC_OK)
		st = arc_eoh(a);
	if (st == ARC_OK)
		st = arc_body(a, (const unsigned char *)f.next,
		    (size_t)(end - f.next));
	return st;
}

/* arc_result - the chain's status */
enum arc_chain
arc_result(const struct arc *a)
{
	return a->result;
}

/* arc_reason - why it failed */
const char *
arc_reason(const struct arc *a)
{
	return a->reason;
}

/* arc_sets - sets found */
unsigned
arc_sets(const struct arc *a)
{
	return a->nsets ? a->nsets : a->maxinst;
}

/* arc_oldest_pass - see arc.h */
int
arc_oldest_pass(const struct arc *a)
{
	return a->result == ARC_CHAIN_PASS ? a->oldest : -1;
}

/* arc_tempfail - a key lookup failed temporarily */
int
arc_tempfail(const struct arc *a)
{
	return a->tempfail;
}

/* arc_domains - the sealers' domains, oldest first */
int
arc_domains(const struct arc *a, struct buf *out)
{
	unsigned i;

	for (i = 1; i <= a->nsets; i++)
		if (a->as[i].parsed > 0)
			buf_printf(out, "%s%s", i > 1 ? ":" : "", a->as[i].d);
	return out->failed ? -1 : 0;
}

/* arc_chain_name - the RFC 8617 word */
const char *
arc_chain_name(enum arc_chain c)
{
	switch (c) {
	case ARC_CHAIN_NONE:
		return "none";
	case ARC_CHAIN_PASS:
		return "pass";
	case ARC_CHAIN_FAIL:
		return "fail";
	}
	return "unknown";
}

/* arc_strerror - name a status */
const char *
arc_strerror(enum arc_status st)
{
	switch (st) {
	case ARC_OK:
		return "ok";
	case ARC_NOMEM:
		return "out of memory";
	case ARC_BADSTAGE:
		return "stage called out of order";
	case ARC_BADOPTS:
		return "invalid sealing options";
	case ARC_CRYPTO:
		return "signing failed";
	}
	return "unknown ARC status";
}

/* arc_free - release the context; NULL is fine */
void
arc_free(struct arc *a)
{
	size_t n;
	int k, i;

	if (a == NULL)
		return;
	for (i = 0; i <= ARC_MAX_SETS; i++) {
		arc_sig_clear(&a->ams[i]);
		arc_sig_clear(&a->as[i]);
		for (k = 0; k < 3; k++)
			buf_free(&a->canon[k][i]);
	}
	for (k = 0; k < ARC_BODYHASHES; k++) {
		canon_body_free(a->cb[k]);
		crypto_hash_free(a->hc[k]);
	}
	for (n = 0; n < a->nkeys; n++)
		dkim_key_clear(&a->keys[n].key);
	canon_hdrs_free(&a->hdrs);
	free(a);
}
