/*
 * NAME
 *	arc_seal - a new ARC set (RFC 8617 section 5.1)
 * SYNOPSIS
 *	#include "arc.h"
 * DESCRIPTION
 *	arc_seal() works on a context that went through arc_eom(), so the
 *	header fields, the body hashes and the chain's validation are at
 *	hand.  It makes, for instance N+1:
 *
 *	ARC-Authentication-Results: "i=N+1; authserv-id; " and the results,
 *	    ours first, then those of every Authentication-Results field of
 *	    the message under the authserv-id (with this_hop, only those
 *	    above the topmost Received field when there is one: the MTA's
 *	    own for this hop, when it shows it, as Sendmail does and
 *	    Postfix does not),
 *	    each result unfolded, in header order ("none" when there is no
 *	    result at all);
 *	ARC-Message-Signature: a DKIM-style signature over the configured
 *	    header fields (each name once per instance present, From
 *	    always, oversigned names once more) and the body; the new AAR
 *	    counts as the topmost field;
 *	ARC-Seal: over the ARC sets 1..N then the new one, relaxed, or
 *	    over the new set alone when cv=fail (RFC 8617 5.1.2).
 *
 *	Tags are written i= first (RFC 8617 gives the instance first in
 *	each ARC field, and the maintained OpenARC refuses a set whose AMS
 *	or AS starts with another tag), then in alphabetical order, "; "
 *	between them, b= alone on its own line and never folded inside, so
 *	the fields hash the same whether a later hop unfolds them or not.
 *	With sorted_tags, i= takes its alphabetical place too: the form of
 *	the public ARC signing test suite's expected fields.
 *
 *	Nothing is made for a chain that arrived with cv=fail, or that
 *	already has ARC_MAX_SETS sets.
 * DIAGNOSTICS
 *	ARC_SEAL_OK, ARC_SEAL_SKIP (why set) or ARC_SEAL_ERROR (why set).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arc_int.h"
#include "authres.h"
#include "base64.h"

#define SEAL_COLUMNS	78

/* fold_tags - "t1; t2; ..." folded before a tag that would pass the
 * margin, b= always alone on its line; col is where the value starts */
static void
fold_tags(struct buf *out, const char *const *tags, size_t n, size_t col)
{
	size_t k, len;
	int isb, wasb = 0;

	for (k = 0; k < n; k++) {
		len = strlen(tags[k]);
		isb = tags[k][0] == 'b' && tags[k][1] == '=';
		if (k > 0) {
			buf_putc(out, ';');
			col++;
			if (isb || wasb || col + 1 + len + 1 > SEAL_COLUMNS) {
				buf_puts(out, "\r\n\t");
				col = 8;
			} else {
				buf_putc(out, ' ');
				col++;
			}
		}
		buf_puts(out, tags[k]);
		col += len;
		wasb = isb;
	}
}

/* add_name - append "name" (lower case) to an h= list */
static void
add_name(struct buf *h, const char *name)
{
	if (h->len > 0)
		buf_putc(h, ':');
	for (; *name != '\0'; name++)
		buf_putc(h, tolower((unsigned char)*name));
}

/* count_fields - instances of a name in the message */
static size_t
count_fields(const struct arc *a, const char *name)
{
	size_t i, n = 0, len = strlen(name);

	for (i = 0; i < a->hdrs.n; i++)
		if (canon_hdrs_name_is(&a->hdrs, i, name, len))
			n++;
	return n;
}

/* build_h - the AMS h= list: the sign list, each name once per instance
 * present (a name listed twice counts once; never ARC-Seal, nor
 * Authentication-Results, which hops rewrite), From added when the list
 * lacks it, then the oversigned names once each */
static void
build_h(const struct arc *a, const struct arc_seal_opts *o, struct buf *h)
{
	const char *const *sign = o->headers ? o->headers :
	    dkim_sign_default_headers;
	const char *const *p;
	size_t k, n;
	int from = 0;

	for (p = sign; *p != NULL; p++) {
		if (arc_kind(*p, strlen(*p)) == ARC_KIND_AS ||
		    strcasecmp(*p, "Authentication-Results") == 0)
			continue;
		for (k = 0; &sign[k] < p; k++)
			if (strcasecmp(sign[k], *p) == 0)
				break;
		if (&sign[k] < p)
			continue;
		if (strcasecmp(*p, "from") == 0)
			from = 1;
		for (n = count_fields(a, *p); n > 0; n--)
			add_name(h, *p);
	}
	if (!from)
		for (n = count_fields(a, "from"); n > 0; n--)
			add_name(h, "from");
	for (p = o->oversign; p != NULL && *p != NULL; p++)
		add_name(h, *p);
}

/* result_method_is - a resinfo starts with method "arc" */
static int
result_is_arc(const char *r, size_t len)
{
	return len >= 3 && strncasecmp(r, "arc", 3) == 0 &&
	    (len == 3 || r[3] == '=' || r[3] == '/' || r[3] == ' ');
}

/* add_result - one resinfo, unfolded, white space runs made one space */
static void
add_result(struct buf *out, size_t *nres, const char *p, size_t len,
    int drop_arc)
{
	size_t k, start = out->len;
	int wsp = 0;

	while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t' ||
	    p[len - 1] == '\r' || p[len - 1] == '\n'))
		len--;
	while (len > 0 && (*p == ' ' || *p == '\t' || *p == '\r' ||
	    *p == '\n')) {
		p++;
		len--;
	}
	if (len == 0 || (len == 4 && strncasecmp(p, "none", 4) == 0) ||
	    (drop_arc && result_is_arc(p, len)))
		return;
	if (*nres > 0)
		buf_puts(out, ";\r\n\t");
	for (k = 0; k < len; k++) {
		if (p[k] == '\r' || p[k] == '\n')
			continue;
		if (p[k] == ' ' || p[k] == '\t') {
			wsp = 1;
			continue;
		}
		if (wsp && out->len > start)
			buf_putc(out, ' ');
		wsp = 0;
		buf_putc(out, p[k]);
	}
	(*nres)++;
}

/* split_results - the resinfo of one A-R value, after the authserv-id:
 * split at ";" outside comments and quoted strings */
static void
split_results(struct buf *out, size_t *nres, const char *v, size_t len,
    int drop_arc)
{
	size_t k, start = 0;
	int depth = 0, quoted = 0, first = 1;

	for (k = 0; k <= len; k++) {
		char c = k < len ? v[k] : ';';

		if (quoted) {
			if (c == '\\' && k + 1 < len)
				k++;
			else if (c == '"')
				quoted = 0;
			continue;
		}
		if (c == '\\' && depth > 0 && k + 1 < len) {
			k++;
			continue;
		}
		if (c == '(')
			depth++;
		else if (c == ')' && depth > 0)
			depth--;
		else if (c == '"' && depth == 0)
			quoted = 1;
		else if (c == ';' && depth == 0) {
			if (!first)
				add_result(out, nres, v + start, k - start,
				    drop_arc);
			first = 0;
			start = k + 1;
		}
	}
}

/* build_aar - "i=N; id; results" */
static void
build_aar(const struct arc *a, const struct arc_seal_opts *o, unsigned inst,
    const char *own, struct buf *aar)
{
	const char *f, *colon;
	size_t i, flen, nres = 0, end = a->hdrs.n;
	struct buf val = BUF_INIT;

	buf_printf(aar, "i=%u; %s; ", inst, o->authserv_id);
	if (own != NULL)
		add_result(aar, &nres, own, strlen(own), 0);
	for (i = 0; o->this_hop && i < end; i++)
		if (canon_hdrs_name_is(&a->hdrs, i, "Received", 8))
			end = i;
	for (i = 0; i < end; i++) {
		if (!canon_hdrs_name_is(&a->hdrs, i, "Authentication-Results",
		    22))
			continue;
		f = canon_hdrs_field(&a->hdrs, i, &flen);
		if ((colon = memchr(f, ':', flen)) == NULL)
			continue;
		buf_reset(&val);
		buf_append(&val, colon + 1, flen - (size_t)(colon + 1 - f));
		if (val.failed)
			break;
		if (authres_is_ours(val.s, o->authserv_id) != 1)
			continue;
		split_results(aar, &nres, val.s, val.len, own != NULL);
	}
	buf_free(&val);
	if (nres == 0)
		buf_puts(aar, "none");
}

/* sign_b64 - sign a digest, base64 into out */
static int
sign_b64(const struct crypto_key *key, const unsigned char *dg,
    struct buf *out)
{
	struct buf sig = BUF_INIT;
	int r;

	r = crypto_sign_digest(key, CRYPTO_SHA256, dg, 32, &sig) == CRYPTO_OK &&
	    base64_encode(out, sig.s, sig.len) == BASE64_OK ? 0 : -1;
	buf_free(&sig);
	return r;
}

/* field_of - "Name: value" into f */
static void
field_of(struct buf *f, const char *name, const struct buf *value)
{
	buf_reset(f);
	buf_printf(f, "%s: %s", name, buf_str(value));
}

/* make_ams - the AMS value into ams */
static int
make_ams(struct arc *a, const struct arc_seal_opts *o, unsigned inst,
    time_t now, const struct buf *aarf, struct buf *ams)
{
	struct buf h = BUF_INIT, bh = BUF_INIT, tbuf[10], field = BUF_INIT;
	struct buf b = BUF_INIT;
	const char *tags[10];
	unsigned char dg[CRYPTO_HASH_MAX];
	size_t n = 0, k, b_start, b_end, bi;
	int r = -1;

	for (k = 0; k < 10; k++)
		buf_init(&tbuf[k]);
	build_h(a, o, &h);
	base64_encode(&bh, a->bh[o->bcanon == CANON_RELAXED], 32);
	if (!o->sorted_tags)
		buf_printf(&tbuf[n++], "i=%u", inst);
	buf_printf(&tbuf[n++], "a=%s", crypto_key_type(o->key) ==
	    CRYPTO_KEY_ED25519 ? "ed25519-sha256" : "rsa-sha256");
	bi = n;
	buf_puts(&tbuf[n++], "b=");
	buf_printf(&tbuf[n++], "bh=%s", buf_str(&bh));
	buf_printf(&tbuf[n++], "c=%s/%s", canon_name(o->hcanon),
	    canon_name(o->bcanon));
	buf_printf(&tbuf[n++], "d=%s", o->domain);
	buf_printf(&tbuf[n++], "h=%s", buf_str(&h));
	if (o->sorted_tags)
		buf_printf(&tbuf[n++], "i=%u", inst);
	buf_printf(&tbuf[n++], "s=%s", o->selector);
	buf_printf(&tbuf[n++], "t=%lld", (long long)now);
	if (o->expire)
		buf_printf(&tbuf[n++], "x=%lld", (long long)now +
		    (long long)o->expire);
	for (k = 0; k < n; k++) {
		if (tbuf[k].failed)
			goto out;
		tags[k] = tbuf[k].s;
	}
	buf_reset(ams);
	fold_tags(ams, tags, n, sizeof(ARC_AMS_HEADER) + 1);
	field_of(&field, ARC_AMS_HEADER, ams);
	if (field.failed)
		goto out;
	b_start = (size_t)(strstr(field.s, "b=;") - field.s) + 2;
	b_end = b_start;
	if (arc_ams_digest(a, o->hcanon, h.s ? h.s : "", h.len, aarf->s,
	    aarf->len, field.s, field.len, b_start, b_end, dg) < 0 ||
	    sign_b64(o->key, dg, &b) < 0)
		goto out;
	buf_reset(&tbuf[bi]);
	buf_printf(&tbuf[bi], "b=%s", buf_str(&b));
	tags[bi] = tbuf[bi].s;
	buf_reset(ams);
	fold_tags(ams, tags, n, sizeof(ARC_AMS_HEADER) + 1);
	r = tbuf[bi].failed || ams->failed ? -1 : 0;
out:
	for (k = 0; k < 10; k++)
		buf_free(&tbuf[k]);
	buf_free(&h);
	buf_free(&bh);
	buf_free(&b);
	buf_free(&field);
	return r;
}

/* make_as - the AS value into as */
static int
make_as(struct arc *a, const struct arc_seal_opts *o, struct arc_set *set,
    time_t now, const struct buf *aarf, const struct buf *amsf)
{
	struct crypto_hash_ctx *h = NULL;
	struct buf tbuf[7], field = BUF_INIT, line = BUF_INIT, b = BUF_INIT;
	const char *tags[7];
	unsigned char dg[CRYPTO_HASH_MAX];
	size_t n = 0, k, bi;
	unsigned j;
	int r = -1;

	for (k = 0; k < 7; k++)
		buf_init(&tbuf[k]);
	if (!o->sorted_tags)
		buf_printf(&tbuf[n++], "i=%u", set->instance);
	buf_printf(&tbuf[n++], "a=%s", crypto_key_type(o->key) ==
	    CRYPTO_KEY_ED25519 ? "ed25519-sha256" : "rsa-sha256");
	bi = n;
	buf_puts(&tbuf[n++], "b=");
	buf_printf(&tbuf[n++], "cv=%s", arc_chain_name(set->cv));
	buf_printf(&tbuf[n++], "d=%s", o->domain);
	if (o->sorted_tags)
		buf_printf(&tbuf[n++], "i=%u", set->instance);
	buf_printf(&tbuf[n++], "s=%s", o->selector);
	buf_printf(&tbuf[n++], "t=%lld", (long long)now);
	for (k = 0; k < n; k++) {
		if (tbuf[k].failed)
			goto out;
		tags[k] = tbuf[k].s;
	}
	if ((h = crypto_hash_new(CRYPTO_SHA256)) == NULL)
		goto out;
	if (set->cv != ARC_CHAIN_FAIL)
		for (j = 1; j < set->instance; j++)
			for (k = 0; k < 3; k++)
				if (arc_field_canon(a, (enum arc_kind)k, j) < 0 ||
				    crypto_hash_update(h, a->canon[k][j].s,
				    a->canon[k][j].len) < 0)
					goto out;
	canon_header(CANON_RELAXED, aarf->s, aarf->len, &line);
	buf_append(&line, "\r\n", 2);
	canon_header(CANON_RELAXED, amsf->s, amsf->len, &line);
	buf_append(&line, "\r\n", 2);
	buf_reset(&set->as);
	fold_tags(&set->as, tags, n, sizeof(ARC_SEAL_HEADER) + 1);
	field_of(&field, ARC_SEAL_HEADER, &set->as);
	canon_header(CANON_RELAXED, buf_str(&field), field.len, &line);
	if (line.failed || field.failed ||
	    crypto_hash_update(h, line.s, line.len) < 0 ||
	    crypto_hash_final(h, dg) < 0 || sign_b64(o->key, dg, &b) < 0)
		goto out;
	buf_reset(&tbuf[bi]);
	buf_printf(&tbuf[bi], "b=%s", buf_str(&b));
	tags[bi] = tbuf[bi].s;
	buf_reset(&set->as);
	fold_tags(&set->as, tags, n, sizeof(ARC_SEAL_HEADER) + 1);
	r = tbuf[bi].failed || set->as.failed ? -1 : 0;
out:
	crypto_hash_free(h);
	for (k = 0; k < 7; k++)
		buf_free(&tbuf[k]);
	buf_free(&field);
	buf_free(&line);
	buf_free(&b);
	return r;
}

/* arc_seal - the next ARC set */
enum arc_seal_status
arc_seal(struct arc *a, const struct arc_seal_opts *o, enum arc_chain cv,
    const char *own, struct arc_set *set, const char **why)
{
	struct buf aarf = BUF_INIT, amsf = BUF_INIT;
	time_t now;
	unsigned inst;

	memset(set, 0, sizeof(*set));
	buf_init(&set->aar);
	buf_init(&set->ams);
	buf_init(&set->as);
	*why = NULL;
	if (a->stage != ARC_ST_DONE) {
		*why = "message not complete";
		return ARC_SEAL_ERROR;
	}
	if (o == NULL || o->key == NULL || !crypto_key_is_private(o->key) ||
	    o->domain == NULL || o->selector == NULL ||
	    o->authserv_id == NULL ||
	    !arc_domain_ok(o->domain, strlen(o->domain)) ||
	    !arc_domain_ok(o->selector, strlen(o->selector))) {
		*why = "invalid sealing options";
		return ARC_SEAL_ERROR;
	}
	if (a->any_cv_fail) {
		*why = "the chain arrived failed (cv=fail)";
		return ARC_SEAL_SKIP;
	}
	inst = arc_sets(a) + 1;
	if (inst > ARC_MAX_SETS) {
		*why = "the chain has 50 sets";
		return ARC_SEAL_SKIP;
	}
	if (!a->complete && a->narc > 0)
		cv = ARC_CHAIN_FAIL;	/* the sets cannot be covered */
	if (inst == 1)
		cv = a->narc > 0 ? ARC_CHAIN_FAIL : ARC_CHAIN_NONE;
	else if (cv == ARC_CHAIN_NONE)
		cv = ARC_CHAIN_PASS;
	if (inst == 1 && cv == ARC_CHAIN_FAIL) {
		/* ARC fields, none of them usable: instance 1 must say none */
		*why = "the chain is unusable";
		return ARC_SEAL_SKIP;
	}
	set->instance = inst;
	set->cv = cv;
	now = o->now ? o->now : time(NULL);
	build_aar(a, o, inst, own, &set->aar);
	field_of(&aarf, ARC_AAR_HEADER, &set->aar);
	if (aarf.failed || make_ams(a, o, inst, now, &aarf, &set->ams) < 0)
		goto fail;
	field_of(&amsf, ARC_AMS_HEADER, &set->ams);
	if (amsf.failed || make_as(a, o, set, now, &aarf, &amsf) < 0)
		goto fail;
	buf_free(&aarf);
	buf_free(&amsf);
	return ARC_SEAL_OK;
fail:
	buf_free(&aarf);
	buf_free(&amsf);
	arc_set_free(set);
	*why = a->nomem ? "out of memory" : "signing failed";
	return ARC_SEAL_ERROR;
}

/* arc_set_free - release a set's strings */
void
arc_set_free(struct arc_set *set)
{
	buf_free(&set->aar);
	buf_free(&set->ams);
	buf_free(&set->as);
}
