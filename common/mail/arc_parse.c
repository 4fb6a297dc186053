/*
 * NAME
 *	arc_parse - ARC header fields (RFC 8617 section 4.1)
 * SYNOPSIS
 *	#include "arc.h"
 * DESCRIPTION
 *	arc_kind() names an ARC field.  arc_instance() reads i=: in an
 *	ARC-Authentication-Results value it must come first, "i" "=" digits
 *	";" with optional white space; in an ARC-Message-Signature or
 *	ARC-Seal it is a tag of a valid tag list.  Numbers saturate, so a
 *	huge i= is simply "too large".
 *
 *	arc_sig_parse() checks an AMS or AS tag list the way RFC 8617 4.1
 *	and RFC 6376 3.5 define the tags: required tags (AMS i a b bh d h s;
 *	AS i a b cv d s), a= rsa-sha256 or ed25519-sha256 (tag values are
 *	case-sensitive), c= (AMS; relaxed/relaxed when absent, the only
 *	canonicalization ARC sealers use), d= and s= names, t= and x=
 *	numbers, h= not naming ARC-Seal (AMS) and absent (AS), cv= none,
 *	pass or fail, b= and bh= base64.  The first problem found is kept
 *	as a short reason.
 * DIAGNOSTICS
 *	None: problems are reasons, never errors.
 */
#include <string.h>
#include <strings.h>

#include "arc_int.h"
#include "base64.h"
#include "tagvalue.h"

enum { T_I, T_A, T_B, T_BH, T_C, T_CV, T_D, T_H, T_S, T_T, T_X, T_MAX };
static const char *const arc_tags[T_MAX] = { "i", "a", "b", "bh", "c",
	"cv", "d", "h", "s", "t", "x" };

/* arc_kind - which ARC field a name is */
enum arc_kind
arc_kind(const char *name, size_t len)
{
	if (len == 26 && strncasecmp(name, ARC_AAR_HEADER, len) == 0)
		return ARC_KIND_AAR;
	if (len == 21 && strncasecmp(name, ARC_AMS_HEADER, len) == 0)
		return ARC_KIND_AMS;
	if (len == 8 && strncasecmp(name, ARC_SEAL_HEADER, len) == 0)
		return ARC_KIND_AS;
	return ARC_KIND_NONE;
}

/* instance_number - 1*DIGIT saturating at ARC_MAX_SETS + 1; 0 if none */
static unsigned
instance_number(const char *p, size_t len)
{
	unsigned n = 0;
	size_t k;

	if (len == 0)
		return 0;
	for (k = 0; k < len; k++) {
		if (p[k] < '0' || p[k] > '9')
			return 0;
		n = n * 10 + (unsigned)(p[k] - '0');
		if (n > ARC_MAX_SETS)
			n = ARC_MAX_SETS + 1;
	}
	return n;
}

/* is_fws - folding white space characters */
static int
is_fws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* aar_instance - "i" [FWS] "=" [FWS] 1*DIGIT [FWS] ";" at the start */
static unsigned
aar_instance(const char *p, size_t len)
{
	const char *end = p + len, *d;

	while (p < end && is_fws(*p))
		p++;
	if (p == end || *p++ != 'i')
		return 0;
	while (p < end && is_fws(*p))
		p++;
	if (p == end || *p++ != '=')
		return 0;
	while (p < end && is_fws(*p))
		p++;
	for (d = p; p < end && *p >= '0' && *p <= '9'; p++)
		;
	if (p == d)
		return 0;
	{
		unsigned n = instance_number(d, (size_t)(p - d));

		while (p < end && is_fws(*p))
			p++;
		return p < end && *p == ';' ? n : 0;
	}
}

/* arc_instance - i= of an ARC field value */
unsigned
arc_instance(enum arc_kind kind, const char *value, size_t len)
{
	static const char *const itag[1] = { "i" };
	struct tagvalue tv[1];

	if (kind == ARC_KIND_AAR)
		return aar_instance(value, len);
	if (tagvalue_parse(value, len, itag, 1, tv, NULL) != TAGVALUE_OK ||
	    tv[0].value == NULL)
		return 0;
	return instance_number(tv[0].value, tv[0].len);
}

/* arc_domain_ok - a domain name or selector: letters, digits, - _ . */
int
arc_domain_ok(const char *p, size_t len)
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

/* number_ok - 1*DIGIT, at most 20 of them */
static int
number_ok(const struct tagvalue *tv)
{
	size_t k;

	if (tv->len == 0 || tv->len > 20)
		return 0;
	for (k = 0; k < tv->len; k++)
		if (tv->value[k] < '0' || tv->value[k] > '9')
			return 0;
	return 1;
}

/* sig_required - the tags a kind must have; NULL or a reason */
static const char *
sig_required(enum arc_kind kind, const struct tagvalue *tv)
{
	static const int ams_req[] = { T_I, T_A, T_B, T_BH, T_D, T_H, T_S, -1 };
	static const int as_req[] = { T_I, T_A, T_B, T_CV, T_D, T_S, -1 };
	static const char *const why[T_MAX] = { "missing i=", "missing a=",
		"missing b=", "missing bh=", "missing c=", "missing cv=",
		"missing d=", "missing h=", "missing s=", "missing t=",
		"missing x=" };
	const int *r = kind == ARC_KIND_AMS ? ams_req : as_req;

	for (; *r >= 0; r++)
		if (tv[*r].value == NULL)
			return why[*r];
	return NULL;
}

/* sig_h - the AMS h= list: no ARC-Seal; an empty name (as in "a::b")
 * is tolerated and names nothing */
static const char *
sig_h(const struct tagvalue *h, size_t *nh)
{
	const char *item;
	size_t pos = 0, len;

	*nh = 0;
	if (h->len == 0)
		return NULL;
	while (tagvalue_next_item(h, ':', &pos, &item, &len)) {
		if (++*nh > DKIM_MAX_H)
			return "too many header fields in h=";
		if (arc_kind(item, len) == ARC_KIND_AS)
			return "h= signs ARC-Seal";
	}
	return NULL;
}

/* sig_semantics - every tag but the crypto; NULL or a reason */
static const char *
sig_semantics(enum arc_kind kind, const struct tagvalue *tv,
    struct arc_sig *s)
{
	struct buf tmp = BUF_INIT;
	const char *why;

	if ((why = sig_required(kind, tv)) != NULL)
		return why;
	if (tagvalue_is(&tv[T_A], "rsa-sha256"))
		s->ktype = CRYPTO_KEY_RSA;
	else if (tagvalue_is(&tv[T_A], "ed25519-sha256"))
		s->ktype = CRYPTO_KEY_ED25519;
	else
		return "unknown algorithm";
	if (!arc_domain_ok(tv[T_D].value, tv[T_D].len))
		return "invalid d=";
	if (!arc_domain_ok(tv[T_S].value, tv[T_S].len) ||
	    tv[T_S].len + tv[T_D].len + 13 > 255)
		return "invalid s=";
	if (tv[T_T].value != NULL && !number_ok(&tv[T_T]))
		return "invalid t=";
	if (tv[T_X].value != NULL && !number_ok(&tv[T_X]))
		return "invalid x=";
	if (kind == ARC_KIND_AS) {
		if (tv[T_H].value != NULL)
			return "h= in ARC-Seal";
		if (tagvalue_is(&tv[T_CV], "none"))
			s->cv = ARC_CHAIN_NONE;
		else if (tagvalue_is(&tv[T_CV], "pass"))
			s->cv = ARC_CHAIN_PASS;
		else if (tagvalue_is(&tv[T_CV], "fail"))
			s->cv = ARC_CHAIN_FAIL;
		else
			return "invalid cv=";
	} else {
		s->hc = s->bc = CANON_RELAXED;
		if (tv[T_C].value != NULL && canon_parse(tv[T_C].value,
		    tv[T_C].len, &s->hc, &s->bc) < 0)
			return "unknown canonicalization";
		if ((why = sig_h(&tv[T_H], &s->nh)) != NULL)
			return why;
		if (base64_decode(&tmp, tv[T_BH].value, tv[T_BH].len) !=
		    BASE64_OK || tmp.len != 32) {
			buf_free(&tmp);
			return "invalid bh=";
		}
		memcpy(s->bh, tmp.s, 32);
		buf_free(&tmp);
	}
	if (base64_decode(&s->b, tv[T_B].value, tv[T_B].len) != BASE64_OK ||
	    s->b.len == 0)
		return "invalid b=";
	memcpy(s->d, tv[T_D].value, tv[T_D].len);
	s->d[tv[T_D].len] = '\0';
	memcpy(s->s, tv[T_S].value, tv[T_S].len);
	s->s[tv[T_S].len] = '\0';
	return NULL;
}

/* arc_sig_parse - parse an AMS or AS field into s */
void
arc_sig_parse(enum arc_kind kind, const char *f, size_t flen,
    struct arc_sig *s)
{
	struct tagvalue tv[T_MAX];
	const char *colon = memchr(f, ':', flen), *why;
	enum tagvalue_status st;

	memset(s, 0, sizeof(*s));
	buf_init(&s->b);
	s->parsed = -1;
	if (colon == NULL) {
		s->why = "no colon";
		return;
	}
	s->voff = (size_t)(colon - f) + 1;
	st = tagvalue_parse(f + s->voff, flen - s->voff, arc_tags, T_MAX, tv,
	    NULL);
	if (st != TAGVALUE_OK) {
		s->why = st == TAGVALUE_SYNTAX ? "tag list syntax error" :
		    tagvalue_strerror(st);
		return;
	}
	if ((why = sig_semantics(kind, tv, s)) != NULL) {
		s->why = why;
		return;
	}
	if (kind == ARC_KIND_AMS) {
		s->h_off = s->voff + (size_t)(tv[T_H].value - (f + s->voff));
		s->h_len = tv[T_H].len;
	}
	s->b_start = s->voff + tv[T_B].raw_start;
	s->b_end = s->voff + tv[T_B].raw_end;
	s->parsed = 1;
}

/* arc_sig_clear - release a parsed signature */
void
arc_sig_clear(struct arc_sig *s)
{
	buf_free(&s->b);
	memset(s, 0, sizeof(*s));
}
