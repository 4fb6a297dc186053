/*
 * NAME
 *	dkim_verify - DKIM signature verification (RFC 6376 section 6)
 * SYNOPSIS
 *	#include "dkim.h"
 * DESCRIPTION
 *	dkim_verify_header() keeps every header field and parses each
 *	DKIM-Signature field as it arrives, up to max_sigs of them; the
 *	rest are only counted.  A signature with a syntax or semantic
 *	error gets its result (permerror) right away and costs nothing
 *	more.  At dkim_verify_eoh() one streaming body hash is started per
 *	distinct (body canonicalization, hash, l=) combination, so several
 *	signatures share the work and memory stays constant whatever the
 *	body size.  dkim_verify_eom() finishes the body hashes, then for
 *	each signature: key lookup and key record checks, body hash,
 *	header hash (fields picked from the bottom up, RFC 6376 5.4.2; a
 *	name signed more often than present contributes nothing, which is
 *	what makes oversigning work), and the signature itself.
 *
 *	Results use the RFC 8601 words.  Choices where the RFCs leave room:
 *	a malformed or unusable signature (missing tag, bad version,
 *	unknown algorithm or canonicalization, i= outside d=, From not
 *	signed, x= not after t=, t= in the future, expired) is permerror, as
 *	are key problems (no key, revoked, bad key record, type mismatch);
 *	a failed cryptographic check is fail; rsa-sha1 when not allowed is
 *	fail (RFC 8301); a key below min_key_bits and an l= leaving more
 *	than max_unsigned bytes unsigned are policy; a DNS failure is
 *	temperror.
 * DIAGNOSTICS
 *	Stages return DKIM_NOMEM (sticky) or DKIM_BADSTAGE; per-signature
 *	problems are results, never errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base64.h"
#include "dkim.h"
#include "rfc5322.h"
#include "tagvalue.h"

enum { S_V, S_A, S_B, S_BH, S_C, S_D, S_H, S_I, S_L, S_Q, S_S, S_T, S_X,
	S_MAX };
static const char *const sig_tags[S_MAX] = { "v", "a", "b", "bh", "c", "d",
	"h", "i", "l", "q", "s", "t", "x" };

enum stage { ST_HEADER, ST_BODY, ST_DONE };

struct bodyhash {
	enum canon_alg		 canon;
	enum crypto_hash	 hash;
	int			 has_l;
	unsigned long long	 l;
	struct canon_body	*cb;
	struct crypto_hash_ctx	*hc;
	unsigned long long	 total, hashed;
	unsigned char		 digest[CRYPTO_HASH_MAX];
};

struct sig {
	size_t			 field;		/* index in hdrs */
	size_t			 voff;		/* value offset in the field */
	int			 done;		/* res is final */
	enum crypto_keytype	 ktype;
	enum crypto_hash	 hash;
	enum canon_alg		 hc, bc;
	int			 has_l;
	unsigned long long	 l;
	int			 i_sub;		/* i= domain below d= */
	size_t			 h_off, h_len;	/* h= value, in the field */
	size_t			 b_start, b_end; /* raw b= span, in the field */
	struct buf		 bh, b;		/* decoded */
	size_t			 bhi;		/* index of its body hash */
	struct dkim_sig_result	 res;
};

struct dkim_verify {
	struct dkim_verify_opts	 o;
	dkim_key_fn		 lookup;
	void			*arg;
	time_t			 now;
	enum stage		 stage;
	int			 nomem;
	struct canon_hdrs	 hdrs;
	struct sig		*sigs;
	size_t			 nsigs, skipped, cap;
	struct bodyhash		*bh;	/* at most one per signature */
	size_t			 nbh;
};

/* sig_done - set a final result with a reason */
static void
sig_done(struct sig *s, enum dkim_result r, enum dkim_reason reason)
{
	s->done = 1;
	s->res.result = r;
	s->res.reason = reason;
}

/* copy_value - a tag value into a fixed field, cut if too long */
static void
copy_value(char *dst, size_t cap, const struct tagvalue *tv, int skip_ws)
{
	size_t i, n = 0;
	unsigned char c;

	if (tv->value == NULL)
		return;
	for (i = 0; i < tv->len && n + 1 < cap; i++) {
		c = (unsigned char)tv->value[i];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			if (skip_ws)
				continue;
			c = ' ';
		}
		dst[n++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	dst[n] = '\0';
}

/* domain_ok - a plain domain name: labels of letters, digits, - and _ */
static int
domain_ok(const char *p, size_t len)
{
	size_t i, lab = 0;

	if (len == 0 || len > 253)
		return 0;
	for (i = 0; i < len; i++) {
		if (p[i] == '.') {
			if (lab == 0)
				return 0;
			lab = 0;
			continue;
		}
		if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' &&
		    p[i] <= 'Z') || (p[i] >= '0' && p[i] <= '9') ||
		    p[i] == '-' || p[i] == '_') || ++lab > 63)
			return 0;
	}
	return lab > 0;
}

/* parse_number - 1*DIGIT, saturating; 0 or -1 */
static int
parse_number(const struct tagvalue *tv, unsigned long long *out)
{
	unsigned long long n = 0;
	size_t i;

	if (tv->len == 0 || tv->len > 76)
		return -1;
	for (i = 0; i < tv->len; i++) {
		if (tv->value[i] < '0' || tv->value[i] > '9')
			return -1;
		if (n > (~0ULL - 9) / 10)
			n = ~0ULL;
		else
			n = n * 10 + (unsigned)(tv->value[i] - '0');
	}
	*out = n;
	return 0;
}

/* identity_ok - i= is [local] "@" domain, the domain within d=; 0 if
 * not, 1 when the domain is d=, 2 when it is a subdomain of d= */
static int
identity_ok(const struct tagvalue *i, const struct tagvalue *d)
{
	const char *at = NULL, *dom;
	size_t k, dl;

	for (k = 0; k < i->len; k++)
		if (i->value[k] == '@')
			at = i->value + k;
	if (at == NULL)
		return 0;
	dom = at + 1;
	dl = i->len - (size_t)(dom - i->value);
	if (!domain_ok(dom, dl) || dl < d->len)
		return 0;
	if (dl == d->len)
		return strncasecmp(dom, d->value, dl) == 0;
	return dom[dl - d->len - 1] == '.' &&
	    strncasecmp(dom + dl - d->len, d->value, d->len) == 0 ? 2 : 0;
}

/* h_check - h= lists From, no empty name, at most DKIM_MAX_H names */
static enum dkim_reason
h_check(const struct tagvalue *h)
{
	const char *item;
	size_t pos = 0, len, n = 0;
	int from = 0;

	while (tagvalue_next_item(h, ':', &pos, &item, &len)) {
		if (len == 0)
			return DKIM_REASON_BAD_H;
		if (++n > DKIM_MAX_H)
			return DKIM_REASON_TOO_MANY_H;
		if (len == 4 && strncasecmp(item, "from", 4) == 0)
			from = 1;
	}
	return from ? DKIM_REASON_NONE : DKIM_REASON_FROM_UNSIGNED;
}

/* sig_algorithm - a= into key type and hash; a reason or NONE */
static enum dkim_reason
sig_algorithm(struct sig *s, const struct tagvalue *a)
{
	if (tagvalue_is(a, "rsa-sha256")) {
		s->ktype = CRYPTO_KEY_RSA;
		s->hash = CRYPTO_SHA256;
	} else if (tagvalue_is(a, "rsa-sha1")) {
		s->ktype = CRYPTO_KEY_RSA;
		s->hash = CRYPTO_SHA1;
	} else if (tagvalue_is(a, "ed25519-sha256")) {
		s->ktype = CRYPTO_KEY_ED25519;
		s->hash = CRYPTO_SHA256;
	} else
		return DKIM_REASON_ALGORITHM;
	return DKIM_REASON_NONE;
}

/* sig_times - t= and x= against the clock; a reason or NONE */
static enum dkim_reason
sig_times(const struct dkim_verify *v, const struct tagvalue *tv)
{
	unsigned long long t = 0, x = 0, now = (unsigned long long)v->now;
	unsigned long long drift = (unsigned long long)v->o.clock_drift;

	if (tv[S_T].value != NULL && parse_number(&tv[S_T], &t) < 0)
		return DKIM_REASON_BAD_T;
	if (tv[S_X].value != NULL && parse_number(&tv[S_X], &x) < 0)
		return DKIM_REASON_BAD_X;
	if (tv[S_T].value != NULL && tv[S_X].value != NULL && x <= t)
		return x < t ? DKIM_REASON_X_BEFORE_T : DKIM_REASON_X_EQUALS_T;
	if (tv[S_T].value != NULL && t > now + drift)
		return DKIM_REASON_FUTURE;
	if (tv[S_X].value != NULL && now > drift && x < now - drift)
		return DKIM_REASON_EXPIRED;
	return DKIM_REASON_NONE;
}

/* sig_required - the tags RFC 6376 3.5 requires; a reason or NONE */
static enum dkim_reason
sig_required(const struct tagvalue *tv)
{
	static const struct {
		int tag;
		enum dkim_reason why;
	} req[] = {
		{ S_V, DKIM_REASON_MISSING_V }, { S_A, DKIM_REASON_MISSING_A },
		{ S_B, DKIM_REASON_MISSING_B }, { S_BH, DKIM_REASON_MISSING_BH },
		{ S_D, DKIM_REASON_MISSING_D }, { S_H, DKIM_REASON_MISSING_H },
		{ S_S, DKIM_REASON_MISSING_S },
	};
	size_t k;

	for (k = 0; k < sizeof(req) / sizeof(req[0]); k++)
		if (tv[req[k].tag].value == NULL)
			return req[k].why;
	return DKIM_REASON_NONE;
}

/* sig_semantics - check and record everything but the crypto */
static enum dkim_reason
sig_semantics(struct dkim_verify *v, struct sig *s, const struct tagvalue *tv)
{
	enum dkim_reason why;
	const char *item;
	size_t pos = 0, len;
	int dnstxt = 0;

	if ((why = sig_required(tv)) != DKIM_REASON_NONE)
		return why;
	if (!tagvalue_is(&tv[S_V], "1"))
		return DKIM_REASON_VERSION;
	if ((why = sig_algorithm(s, &tv[S_A])) != DKIM_REASON_NONE)
		return why;
	s->hc = s->bc = CANON_SIMPLE;
	if (tv[S_C].value != NULL && canon_parse(tv[S_C].value, tv[S_C].len,
	    &s->hc, &s->bc) < 0)
		return DKIM_REASON_CANON;
	if (tv[S_Q].value != NULL) {
		while (tagvalue_next_item(&tv[S_Q], ':', &pos, &item, &len))
			if (len == 7 && memcmp(item, "dns/txt", 7) == 0)
				dnstxt = 1;
		if (!dnstxt)
			return DKIM_REASON_QUERY;
	}
	if (!domain_ok(tv[S_D].value, tv[S_D].len))
		return DKIM_REASON_BAD_D;
	if (!domain_ok(tv[S_S].value, tv[S_S].len) || tv[S_S].len +
	    tv[S_D].len + 13 > 255)
		return DKIM_REASON_BAD_S;
	if (tv[S_I].value != NULL &&
	    (s->i_sub = identity_ok(&tv[S_I], &tv[S_D])) == 0)
		return DKIM_REASON_I_NOT_IN_D;
	s->i_sub = s->i_sub == 2;
	if ((why = h_check(&tv[S_H])) != DKIM_REASON_NONE)
		return why;
	if (tv[S_L].value != NULL) {
		if (parse_number(&tv[S_L], &s->l) < 0)
			return DKIM_REASON_BAD_L;
		s->has_l = 1;
	}
	if ((why = sig_times(v, tv)) != DKIM_REASON_NONE)
		return why;
	if (base64_decode(&s->bh, tv[S_BH].value, tv[S_BH].len) != BASE64_OK)
		return s->bh.failed ? DKIM_REASON_NOMEM : DKIM_REASON_BAD_BH;
	if (base64_decode(&s->b, tv[S_B].value, tv[S_B].len) != BASE64_OK)
		return s->b.failed ? DKIM_REASON_NOMEM : DKIM_REASON_BAD_B;
	if (s->b.len == 0)
		return DKIM_REASON_EMPTY_B;
	return DKIM_REASON_NONE;
}

/* bodyhash_slot - the shared body hash for a signature; -1 no memory */
static int
bodyhash_slot(struct dkim_verify *v, struct sig *s)
{
	struct bodyhash *bh;
	size_t k;

	for (k = 0; k < v->nbh; k++) {
		bh = &v->bh[k];
		if (bh->canon == s->bc && bh->hash == s->hash &&
		    bh->has_l == s->has_l && (!s->has_l || bh->l == s->l)) {
			s->bhi = k;
			return 0;
		}
	}
	/* v->bh has room for one per signature */
	bh = &v->bh[v->nbh];
	memset(bh, 0, sizeof(*bh));
	bh->canon = s->bc;
	bh->hash = s->hash;
	bh->has_l = s->has_l;
	bh->l = s->l;
	s->bhi = v->nbh++;
	return 0;
}

/* sig_parse - parse the DKIM-Signature field at index idx */
static void
sig_parse(struct dkim_verify *v, size_t idx)
{
	struct sig *s = &v->sigs[v->nsigs++];
	struct tagvalue tv[S_MAX];
	const char *f, *colon;
	size_t flen;
	enum tagvalue_status st;
	enum dkim_reason why;

	memset(s, 0, sizeof(*s));
	buf_init(&s->bh);
	buf_init(&s->b);
	s->field = idx;
	f = canon_hdrs_field(&v->hdrs, idx, &flen);
	colon = memchr(f, ':', flen);
	s->voff = (size_t)(colon - f) + 1;
	st = tagvalue_parse(f + s->voff, flen - s->voff, sig_tags, S_MAX, tv,
	    NULL);
	if (st != TAGVALUE_OK) {
		sig_done(s, DKIM_RESULT_PERMERROR, st == TAGVALUE_DUPLICATE ?
		    DKIM_REASON_DUPLICATE_TAG : st == TAGVALUE_TOOMANY ?
		    DKIM_REASON_TOO_MANY_TAGS : DKIM_REASON_SYNTAX);
		return;
	}
	copy_value(s->res.d, sizeof(s->res.d), &tv[S_D], 0);
	copy_value(s->res.s, sizeof(s->res.s), &tv[S_S], 0);
	copy_value(s->res.i, sizeof(s->res.i), &tv[S_I], 0);
	copy_value(s->res.a, sizeof(s->res.a), &tv[S_A], 0);
	copy_value(s->res.b, sizeof(s->res.b), &tv[S_B], 1);
	if ((why = sig_semantics(v, s, tv)) != DKIM_REASON_NONE) {
		sig_done(s, DKIM_RESULT_PERMERROR, why);
		if (s->bh.failed || s->b.failed)
			v->nomem = 1;
		return;
	}
	s->res.has_l = s->has_l;
	s->h_off = s->voff + (size_t)(tv[S_H].value - (f + s->voff));
	s->h_len = tv[S_H].len;
	s->b_start = s->voff + tv[S_B].raw_start;
	s->b_end = s->voff + tv[S_B].raw_end;
	bodyhash_slot(v, s);
}

/* dkim_verify_new - a verification context for one message */
struct dkim_verify *
dkim_verify_new(const struct dkim_verify_opts *opts, dkim_key_fn lookup,
    void *arg)
{
	struct dkim_verify_opts def = DKIM_VERIFY_OPTS_INIT;
	struct dkim_verify *v;

	if ((v = calloc(1, sizeof(*v))) == NULL)
		return NULL;
	v->o = opts ? *opts : def;
	if (v->o.max_sigs == 0)
		v->o.max_sigs = DKIM_MAX_SIGS_DEFAULT;
	if (v->o.min_key_bits == 0)
		v->o.min_key_bits = DKIM_MIN_KEY_BITS;
	if (v->o.clock_drift < 0)
		v->o.clock_drift = DKIM_CLOCK_DRIFT;
	v->now = v->o.now ? v->o.now : time(NULL);
	v->lookup = lookup;
	v->arg = arg;
	canon_hdrs_init(&v->hdrs);
	return v;
}

/* sigs_grow - room for one more signature and body hash */
static int
sigs_grow(struct dkim_verify *v)
{
	struct sig *s;
	struct bodyhash *bh;
	size_t cap;

	if (v->nsigs < v->cap)
		return 0;
	cap = v->cap ? v->cap * 2 : 4;
	if (cap > v->o.max_sigs)
		cap = v->o.max_sigs;
	if ((s = realloc(v->sigs, cap * sizeof(*s))) == NULL)
		return -1;
	v->sigs = s;
	if ((bh = realloc(v->bh, cap * sizeof(*bh))) == NULL)
		return -1;
	v->bh = bh;
	v->cap = cap;
	return 0;
}

/* is_signature - a raw field named DKIM-Signature */
static int
is_signature(const char *f, size_t len)
{
	size_t n = sizeof(DKIM_SIGNATURE_HEADER) - 1;

	if (len <= n || strncasecmp(f, DKIM_SIGNATURE_HEADER, n) != 0)
		return 0;
	while (n < len && (f[n] == ' ' || f[n] == '\t'))
		n++;
	return n < len && f[n] == ':';
}

/*
 * sig_lost - a DKIM-Signature past the header limits of canon_hdrs: it
 * cannot be checked, but counts, as permerror, so that a padded header
 * does not turn a signed message into an unsigned one
 */
static void
sig_lost(struct dkim_verify *v)
{
	struct sig *s;

	if (v->nsigs == v->o.max_sigs) {
		v->skipped++;
		return;
	}
	if (sigs_grow(v) < 0) {
		v->nomem = 1;
		return;
	}
	s = &v->sigs[v->nsigs++];
	memset(s, 0, sizeof(*s));
	buf_init(&s->bh);
	buf_init(&s->b);
	sig_done(s, DKIM_RESULT_PERMERROR, DKIM_REASON_HEADER_TOO_LARGE);
}

/* dkim_verify_header - one raw header field */
enum dkim_status
dkim_verify_header(struct dkim_verify *v, const char *field, size_t len)
{
	size_t idx = v->hdrs.n;

	if (v->nomem)
		return DKIM_NOMEM;
	if (v->stage != ST_HEADER)
		return DKIM_BADSTAGE;
	if (canon_hdrs_add(&v->hdrs, field, len) < 0) {
		if (v->hdrs.failed)
			v->nomem = 1;
		else if (is_signature(field, len))
			sig_lost(v);
		return v->nomem ? DKIM_NOMEM : DKIM_OK;
	}
	if (!canon_hdrs_name_is(&v->hdrs, idx, DKIM_SIGNATURE_HEADER, 14) ||
	    memchr(field, ':', len) == NULL)
		return DKIM_OK;
	if (v->nsigs == v->o.max_sigs)
		v->skipped++;
	else if (sigs_grow(v) < 0)
		v->nomem = 1;
	else
		sig_parse(v, idx);
	return v->nomem ? DKIM_NOMEM : DKIM_OK;
}

/* bodyhash_out - canonical body bytes into one body hash */
static void
bodyhash_out(void *arg, const unsigned char *p, size_t n)
{
	struct bodyhash *bh = arg;
	unsigned long long take = n;

	bh->total += n;
	if (bh->has_l && take > bh->l - bh->hashed)
		take = bh->l - bh->hashed;
	if (take > 0 && crypto_hash_update(bh->hc, p, (size_t)take) == 0)
		bh->hashed += take;
}

/* dkim_verify_eoh - start the body hashes */
enum dkim_status
dkim_verify_eoh(struct dkim_verify *v)
{
	struct bodyhash *bh;
	size_t k;

	if (v->nomem)
		return DKIM_NOMEM;
	if (v->stage != ST_HEADER)
		return DKIM_BADSTAGE;
	v->stage = ST_BODY;
	for (k = 0; k < v->nbh; k++) {
		bh = &v->bh[k];
		bh->hc = crypto_hash_new(bh->hash);
		bh->cb = canon_body_new(bh->canon, bodyhash_out, bh);
		if (bh->hc == NULL || bh->cb == NULL) {
			v->nomem = 1;
			return DKIM_NOMEM;
		}
	}
	return DKIM_OK;
}

/* body_stage - DKIM_OK once in the body (ending the header if needed) */
static enum dkim_status
body_stage(struct dkim_verify *v)
{
	if (v->nomem)
		return DKIM_NOMEM;
	if (v->stage == ST_HEADER && dkim_verify_eoh(v) != DKIM_OK)
		return DKIM_NOMEM;
	if (v->stage != ST_BODY)
		return DKIM_BADSTAGE;
	return DKIM_OK;
}

/* dkim_verify_body - a raw body chunk */
enum dkim_status
dkim_verify_body(struct dkim_verify *v, const unsigned char *p, size_t n)
{
	enum dkim_status st;
	size_t k;

	if ((st = body_stage(v)) != DKIM_OK)
		return st;
	for (k = 0; k < v->nbh; k++)
		canon_body_update(v->bh[k].cb, p, n);
	return DKIM_OK;
}

/* header_digest - hash the selected fields and the signature field */
static int
header_digest(struct dkim_verify *v, struct sig *s, unsigned char *digest)
{
	struct crypto_hash_ctx *hc;
	struct buf line = BUF_INIT;
	struct tagvalue h;
	unsigned char *used;
	const char *f, *item;
	size_t flen, pos = 0, ilen;
	long idx;
	int r = -1;

	f = canon_hdrs_field(&v->hdrs, s->field, &flen);
	memset(&h, 0, sizeof(h));
	h.value = f + s->h_off;
	h.len = s->h_len;
	if ((used = calloc(v->hdrs.n + 1, 1)) == NULL)
		return -1;
	if ((hc = crypto_hash_new(s->hash)) == NULL)
		goto out;
	while (tagvalue_next_item(&h, ':', &pos, &item, &ilen)) {
		idx = canon_hdrs_pick(&v->hdrs, item, ilen, used);
		if (idx < 0)
			continue;
		f = canon_hdrs_field(&v->hdrs, (size_t)idx, &flen);
		buf_reset(&line);
		canon_header(s->hc, f, flen, &line);
		buf_append(&line, "\r\n", 2);
		if (line.failed || crypto_hash_update(hc, line.s, line.len) < 0)
			goto out;
		f = canon_hdrs_field(&v->hdrs, s->field, &flen);
		h.value = f + s->h_off;
	}
	/* the signature field itself, b= emptied, no final CRLF */
	f = canon_hdrs_field(&v->hdrs, s->field, &flen);
	{
		struct buf blank = BUF_INIT;

		buf_append(&blank, f, s->b_start);
		buf_append(&blank, f + s->b_end, flen - s->b_end);
		buf_reset(&line);
		canon_header(s->hc, blank.s, blank.len, &line);
		r = blank.failed || line.failed ||
		    crypto_hash_update(hc, line.s, line.len) < 0 ||
		    crypto_hash_final(hc, digest) < 0 ? -1 : 0;
		buf_free(&blank);
	}
out:
	crypto_hash_free(hc);
	buf_free(&line);
	free(used);
	return r;
}

/* key_reason - the reason for a key record error */
static enum dkim_reason
key_reason(enum dkim_key_error ke)
{
	static const enum dkim_reason map[] = {
		[DKIM_KEYREC_OK] = DKIM_REASON_NONE,
		[DKIM_KEYREC_SYNTAX] = DKIM_REASON_KEY_SYNTAX,
		[DKIM_KEYREC_VERSION] = DKIM_REASON_KEY_VERSION,
		[DKIM_KEYREC_KEYTYPE] = DKIM_REASON_KEY_TYPE,
		[DKIM_KEYREC_NOKEY] = DKIM_REASON_KEY_NO_P,
		[DKIM_KEYREC_REVOKED] = DKIM_REASON_KEY_REVOKED,
		[DKIM_KEYREC_BADKEY] = DKIM_REASON_KEY_BAD_P,
		[DKIM_KEYREC_SERVICE] = DKIM_REASON_KEY_SERVICE,
		[DKIM_KEYREC_NOMEM] = DKIM_REASON_NOMEM,
	};

	return (size_t)ke < sizeof(map) / sizeof(map[0]) ? map[ke] :
	    DKIM_REASON_KEY_SYNTAX;
}

/* sig_key - look up and check the key; 0, or -1 with the result set */
static int
sig_key(struct dkim_verify *v, struct sig *s, struct dkim_key *key)
{
	struct buf qname = BUF_INIT, rec = BUF_INIT;
	enum dkim_key_status ks;
	enum dkim_key_error ke;
	int secure = 0;

	buf_printf(&qname, "%s._domainkey.%s", s->res.s, s->res.d);
	if (qname.failed) {
		v->nomem = 1;
		sig_done(s, DKIM_RESULT_TEMPERROR, DKIM_REASON_NOMEM);
		return -1;
	}
	ks = v->lookup ? v->lookup(v->arg, qname.s, &rec, &secure) :
	    DKIM_KEY_TEMPFAIL;
	buf_free(&qname);
	if (ks != DKIM_KEY_OK) {
		buf_free(&rec);
		if (ks == DKIM_KEY_NOTFOUND)
			sig_done(s, DKIM_RESULT_PERMERROR,
			    DKIM_REASON_KEY_NOTFOUND);
		else if (ks == DKIM_KEY_TEMPFAIL)
			sig_done(s, DKIM_RESULT_TEMPERROR,
			    DKIM_REASON_KEY_TEMPFAIL);
		else
			sig_done(s, DKIM_RESULT_PERMERROR,
			    DKIM_REASON_KEY_PERMFAIL);
		return -1;
	}
	s->res.secure = secure;
	ke = dkim_key_parse(buf_str(&rec), rec.len, key);
	buf_free(&rec);
	if (ke != DKIM_KEYREC_OK) {
		sig_done(s, ke == DKIM_KEYREC_NOMEM ? DKIM_RESULT_TEMPERROR :
		    DKIM_RESULT_PERMERROR, key_reason(ke));
		return -1;
	}
	s->res.testing = key->testing;
	s->res.key_bits = crypto_key_bits(key->pk);
	if (key->type != s->ktype)
		sig_done(s, DKIM_RESULT_PERMERROR, DKIM_REASON_KEY_MISMATCH);
	else if (!(key->hashes & (s->hash == CRYPTO_SHA1 ? DKIM_KEYHASH_SHA1 :
	    DKIM_KEYHASH_SHA256)))
		sig_done(s, DKIM_RESULT_PERMERROR, DKIM_REASON_KEY_HASH);
	else if (key->strict && s->i_sub)
		sig_done(s, DKIM_RESULT_PERMERROR, DKIM_REASON_KEY_STRICT);
	return s->done ? -1 : 0;
}

/* sig_verify - everything after the key: policy, body, header, crypto */
static void
sig_verify(struct dkim_verify *v, struct sig *s, const struct dkim_key *key)
{
	const struct bodyhash *bh = &v->bh[s->bhi];
	unsigned char digest[CRYPTO_HASH_MAX];
	enum crypto_status cst;

	if (key->type == CRYPTO_KEY_RSA && s->res.key_bits < v->o.min_key_bits) {
		sig_done(s, DKIM_RESULT_POLICY, DKIM_REASON_KEY_TOO_SHORT);
		return;
	}
	if (s->hash == CRYPTO_SHA1 && !v->o.allow_sha1) {
		sig_done(s, DKIM_RESULT_FAIL, DKIM_REASON_SHA1);
		return;
	}
	if (s->has_l && s->l > bh->total) {
		sig_done(s, DKIM_RESULT_FAIL, DKIM_REASON_BODY_SHORT);
		return;
	}
	if (s->bh.len != crypto_hash_len(s->hash) ||
	    memcmp(s->bh.s, bh->digest, s->bh.len) != 0) {
		sig_done(s, DKIM_RESULT_FAIL, DKIM_REASON_BODY_HASH);
		return;
	}
	if (header_digest(v, s, digest) < 0) {
		v->nomem = 1;
		sig_done(s, DKIM_RESULT_TEMPERROR, DKIM_REASON_NOMEM);
		return;
	}
	cst = crypto_verify_digest(key->pk, s->hash, digest,
	    crypto_hash_len(s->hash), (unsigned char *)s->b.s, s->b.len);
	if (cst != CRYPTO_OK) {
		sig_done(s, cst == CRYPTO_NOMEM ? DKIM_RESULT_TEMPERROR :
		    DKIM_RESULT_FAIL, cst == CRYPTO_NOMEM ? DKIM_REASON_NOMEM :
		    DKIM_REASON_SIGNATURE);
		return;
	}
	if (s->has_l && v->o.max_unsigned >= 0 &&
	    bh->total - s->l > (unsigned long long)v->o.max_unsigned) {
		sig_done(s, DKIM_RESULT_POLICY, DKIM_REASON_UNSIGNED_BYTES);
		return;
	}
	sig_done(s, DKIM_RESULT_PASS, DKIM_REASON_NONE);
}

/* dkim_verify_eom - finish the body, check every signature */
enum dkim_status
dkim_verify_eom(struct dkim_verify *v)
{
	struct dkim_key key;
	struct bodyhash *bh;
	struct sig *s;
	enum dkim_status st;
	size_t k;

	if ((st = body_stage(v)) != DKIM_OK)
		return st;
	v->stage = ST_DONE;
	for (k = 0; k < v->nbh; k++) {
		bh = &v->bh[k];
		canon_body_final(bh->cb);
		if (crypto_hash_final(bh->hc, bh->digest) < 0)
			v->nomem = 1;
	}
	for (k = 0; k < v->nsigs; k++) {
		s = &v->sigs[k];
		if (s->done)
			continue;
		s->res.body_total = v->bh[s->bhi].total;
		s->res.body_signed = v->bh[s->bhi].hashed;
		if (v->hdrs.overflow) {
			sig_done(s, DKIM_RESULT_PERMERROR,
			    DKIM_REASON_HEADER_TOO_LARGE);
			continue;
		}
		if (v->nomem) {
			sig_done(s, DKIM_RESULT_TEMPERROR, DKIM_REASON_NOMEM);
			continue;
		}
		memset(&key, 0, sizeof(key));
		if (sig_key(v, s, &key) == 0)
			sig_verify(v, s, &key);
		dkim_key_clear(&key);
	}
	return v->nomem ? DKIM_NOMEM : DKIM_OK;
}

/* dkim_verify_count - signatures checked */
size_t
dkim_verify_count(const struct dkim_verify *v)
{
	return v->nsigs;
}

/* dkim_verify_skipped - signatures beyond max_sigs */
size_t
dkim_verify_skipped(const struct dkim_verify *v)
{
	return v->skipped;
}

/* dkim_verify_result - the result of signature n */
const struct dkim_sig_result *
dkim_verify_result(const struct dkim_verify *v, size_t n)
{
	return n < v->nsigs ? &v->sigs[n].res : NULL;
}

/* dkim_verify_free - release the context; NULL is fine */
void
dkim_verify_free(struct dkim_verify *v)
{
	size_t k;

	if (v == NULL)
		return;
	for (k = 0; v->sigs != NULL && k < v->nsigs; k++) {
		buf_free(&v->sigs[k].bh);
		buf_free(&v->sigs[k].b);
	}
	for (k = 0; v->bh != NULL && k < v->nbh; k++) {
		canon_body_free(v->bh[k].cb);
		crypto_hash_free(v->bh[k].hc);
	}
	free(v->sigs);
	free(v->bh);
	canon_hdrs_free(&v->hdrs);
	free(v);
}

/* dkim_result_name - the RFC 8601 word */
const char *
dkim_result_name(enum dkim_result r)
{
	switch (r) {
	case DKIM_RESULT_NONE:
		return "none";
	case DKIM_RESULT_PASS:
		return "pass";
	case DKIM_RESULT_FAIL:
		return "fail";
	case DKIM_RESULT_NEUTRAL:
		return "neutral";
	case DKIM_RESULT_POLICY:
		return "policy";
	case DKIM_RESULT_TEMPERROR:
		return "temperror";
	case DKIM_RESULT_PERMERROR:
		return "permerror";
	}
	return "unknown";
}

/* The text of each reason, for logs and Authentication-Results. */
static const char *const reason_text[DKIM_REASON_MAX] = {
	[DKIM_REASON_NONE] = "",
	[DKIM_REASON_SYNTAX] = "signature syntax error",
	[DKIM_REASON_DUPLICATE_TAG] = "duplicate tag",
	[DKIM_REASON_TOO_MANY_TAGS] = "too many tags",
	[DKIM_REASON_MISSING_V] = "missing v=",
	[DKIM_REASON_MISSING_A] = "missing a=",
	[DKIM_REASON_MISSING_B] = "missing b=",
	[DKIM_REASON_MISSING_BH] = "missing bh=",
	[DKIM_REASON_MISSING_D] = "missing d=",
	[DKIM_REASON_MISSING_H] = "missing h=",
	[DKIM_REASON_MISSING_S] = "missing s=",
	[DKIM_REASON_VERSION] = "unsupported version",
	[DKIM_REASON_ALGORITHM] = "unknown algorithm",
	[DKIM_REASON_CANON] = "unknown canonicalization",
	[DKIM_REASON_QUERY] = "unsupported query method",
	[DKIM_REASON_BAD_D] = "invalid d=",
	[DKIM_REASON_BAD_S] = "invalid s=",
	[DKIM_REASON_I_NOT_IN_D] = "i= not within d=",
	[DKIM_REASON_BAD_H] = "invalid h=",
	[DKIM_REASON_TOO_MANY_H] = "too many header fields in h=",
	[DKIM_REASON_FROM_UNSIGNED] = "From field not signed",
	[DKIM_REASON_BAD_L] = "invalid l=",
	[DKIM_REASON_BAD_T] = "invalid t=",
	[DKIM_REASON_BAD_X] = "invalid x=",
	[DKIM_REASON_X_BEFORE_T] = "x= is before t=",
	[DKIM_REASON_X_EQUALS_T] = "x= equals t=",
	[DKIM_REASON_FUTURE] = "signature timestamp in the future",
	[DKIM_REASON_EXPIRED] = "signature expired",
	[DKIM_REASON_BAD_BH] = "invalid bh=",
	[DKIM_REASON_BAD_B] = "invalid b=",
	[DKIM_REASON_EMPTY_B] = "empty b=",
	[DKIM_REASON_HEADER_TOO_LARGE] = "message header too large",
	[DKIM_REASON_KEY_NOTFOUND] = "no key for signature",
	[DKIM_REASON_KEY_TEMPFAIL] = "key lookup failed",
	[DKIM_REASON_KEY_PERMFAIL] = "key lookup failed",
	[DKIM_REASON_KEY_SYNTAX] = "key record syntax error",
	[DKIM_REASON_KEY_VERSION] = "key record has a bad version",
	[DKIM_REASON_KEY_TYPE] = "unknown key type",
	[DKIM_REASON_KEY_NO_P] = "key record has no p=",
	[DKIM_REASON_KEY_REVOKED] = "key revoked",
	[DKIM_REASON_KEY_BAD_P] = "key data invalid",
	[DKIM_REASON_KEY_SERVICE] = "key not for email",
	[DKIM_REASON_KEY_MISMATCH] = "key type does not match a=",
	[DKIM_REASON_KEY_HASH] = "hash not allowed by key",
	[DKIM_REASON_KEY_STRICT] = "i= domain must equal d= (t=s)",
	[DKIM_REASON_KEY_TOO_SHORT] = "key too short",
	[DKIM_REASON_SHA1] = "rsa-sha1 not allowed",
	[DKIM_REASON_BODY_SHORT] = "body shorter than l=",
	[DKIM_REASON_BODY_HASH] = "body hash did not verify",
	[DKIM_REASON_SIGNATURE] = "signature did not verify",
	[DKIM_REASON_UNSIGNED_BYTES] = "l= leaves bytes unsigned",
	[DKIM_REASON_NOMEM] = "out of memory",
};

/* dkim_reason_str - the short text of a reason */
const char *
dkim_reason_str(enum dkim_reason r)
{
	if ((size_t)r >= DKIM_REASON_MAX || reason_text[r] == NULL)
		return "unknown reason";
	return reason_text[r];
}

/* dkim_sig_reason - the reason of a result, with its figures */
void
dkim_sig_reason(const struct dkim_sig_result *r, struct buf *out)
{
	switch (r->reason) {
	case DKIM_REASON_KEY_TOO_SHORT:
		buf_printf(out, "key too short (%u bits)", r->key_bits);
		break;
	case DKIM_REASON_UNSIGNED_BYTES:
		buf_printf(out, "l= leaves %llu bytes unsigned",
		    r->body_total - r->body_signed);
		break;
	default:
		buf_puts(out, dkim_reason_str(r->reason));
		break;
	}
}

/* dkim_strerror - name a status */
const char *
dkim_strerror(enum dkim_status st)
{
	switch (st) {
	case DKIM_OK:
		return "ok";
	case DKIM_NOMEM:
		return "out of memory";
	case DKIM_BADSTAGE:
		return "stage called out of order";
	case DKIM_BADOPTS:
		return "invalid signing options";
	case DKIM_CRYPTO:
		return "signing failed";
	case DKIM_TOOBIG:
		return "message header over the signer's limits (10000 fields or 4 MiB)";
	}
	return "unknown DKIM status";
}

/* dkim_verify_message - header, eoh and body stages from a whole message */
enum dkim_status
dkim_verify_message(struct dkim_verify *v, const char *msg, size_t len)
{
	enum dkim_status st = DKIM_OK;
	struct rfc5322_field f;
	const char *p = msg, *end = msg + len;

	/* a line that is no field is kept as one, as an MTA passes it */
	while (st == DKIM_OK && rfc5322_next_field(p, end, &f) != RFC5322_EOH) {
		st = dkim_verify_header(v, f.raw, f.raw_len);
		p = f.next;
	}
	if (st == DKIM_OK)
		st = dkim_verify_eoh(v);
	if (st == DKIM_OK)
		st = dkim_verify_body(v, (const unsigned char *)f.next,
		    (size_t)(end - f.next));
	return st;
}
