/*
 * NAME
 *	dkim_sign - DKIM signing (RFC 6376 section 5, RFC 8463)
 * SYNOPSIS
 *	#include "dkim.h"
 * DESCRIPTION
 *	A signing context keeps the raw header fields and hashes the
 *	canonical body as it streams.  At dkim_sign_eom() it builds h=:
 *	each name of the sign list (dkim_sign_default_headers unless the
 *	options give one, minus the omit list) once per instance present,
 *	then each oversign name once more, so that a field added later
 *	breaks the signature.  The algorithm follows from the key:
 *	ed25519-sha256 or rsa-sha256.
 *
 *	The field value is built folded (CRLF TAB, about 78 columns,
 *	counting "DKIM-Signature: " on the first line), hashed with an
 *	empty b=, signed, and the base64 signature is appended folded.
 *	With "now" fixed the output is deterministic (PKCS#1 v1.5 and
 *	Ed25519 signatures are).
 *
 *	The default sign list is RFC 6376 5.4.1's (the list OpenDKIM's
 *	library also uses) plus Message-ID and the MIME fields.
 * DIAGNOSTICS
 *	dkim_sign_new() returns NULL for options it cannot sign with (no
 *	private key, a d= or s= that is no domain name, an i= outside d=)
 *	or when out of memory; stages
 *	return DKIM_NOMEM (sticky), DKIM_BADSTAGE or DKIM_CRYPTO.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base64.h"
#include "dkim.h"
#include "rfc5322.h"

#define SIGN_COLUMNS	78
#define SIGN_PREFIX	16	/* strlen("DKIM-Signature: ") */

const char *const dkim_sign_default_headers[] = {
	"from", "reply-to", "subject", "date", "to", "cc", "resent-date",
	"resent-from", "resent-sender", "resent-to", "resent-cc",
	"in-reply-to", "references", "list-id", "list-help",
	"list-unsubscribe", "list-subscribe", "list-post", "list-owner",
	"list-archive", "message-id", "mime-version", "content-type",
	"content-transfer-encoding", NULL,
};

enum stage { ST_HEADER, ST_BODY, ST_DONE };

struct dkim_sign {
	struct dkim_sign_opts	 o;
	struct buf		 strings;	/* d, s, i copied */
	const char		*d, *s, *i;
	time_t			 now;
	enum stage		 stage;
	int			 nomem;
	struct canon_hdrs	 hdrs;
	struct canon_body	*cb;
	struct crypto_hash_ctx	*bhc;
	unsigned long long	 blen;
};

/* dkim_sign_header_name - the field name to insert */
const char *
dkim_sign_header_name(void)
{
	return DKIM_SIGNATURE_HEADER;
}

/* sign_body_out - canonical body bytes into the body hash */
static void
sign_body_out(void *arg, const unsigned char *p, size_t n)
{
	struct dkim_sign *s = arg;

	if (crypto_hash_update(s->bhc, p, n) < 0)
		s->nomem = 1;
	s->blen += n;
}

/* name_ok - a domain or selector: letters, digits, "-", "_", "." */
static int
name_ok(const char *p)
{
	if (*p == '\0' || strlen(p) > 253)
		return 0;
	for (; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
		    *p == '.'))
			return 0;
	return 1;
}

/* identity_ok - i= is [local] "@" d= or a subdomain of it */
static int
identity_ok(const char *i, const char *d)
{
	const char *at = strrchr(i, '@');
	size_t il, dl = strlen(d);

	if (at == NULL || strpbrk(i, " \t\r\n;") != NULL)
		return 0;
	at++;
	il = strlen(at);
	if (il == dl)
		return strcasecmp(at, d) == 0;
	return il > dl && at[il - dl - 1] == '.' &&
	    strcasecmp(at + il - dl, d) == 0;
}

/* dkim_sign_new - a signing context for one message */
struct dkim_sign *
dkim_sign_new(const struct dkim_sign_opts *o)
{
	struct dkim_sign *s;
	size_t doff, soff, ioff = 0;

	if (o == NULL || o->key == NULL || !crypto_key_is_private(o->key) ||
	    o->domain == NULL || o->selector == NULL || !name_ok(o->domain) ||
	    !name_ok(o->selector) || (o->identity != NULL &&
	    !identity_ok(o->identity, o->domain)))
		return NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->o = *o;
	buf_init(&s->strings);
	canon_hdrs_init(&s->hdrs);
	doff = 0;
	buf_append(&s->strings, o->domain, strlen(o->domain) + 1);
	soff = s->strings.len;
	buf_append(&s->strings, o->selector, strlen(o->selector) + 1);
	if (o->identity != NULL) {
		ioff = s->strings.len;
		buf_append(&s->strings, o->identity, strlen(o->identity) + 1);
	}
	s->bhc = crypto_hash_new(CRYPTO_SHA256);
	s->cb = canon_body_new(o->bcanon, sign_body_out, s);
	if (s->strings.failed || s->bhc == NULL || s->cb == NULL) {
		dkim_sign_free(s);
		return NULL;
	}
	s->d = s->strings.s + doff;
	s->s = s->strings.s + soff;
	s->i = o->identity ? s->strings.s + ioff : NULL;
	s->now = o->now ? o->now : time(NULL);
	return s;
}

/* dkim_sign_header - keep one raw header field */
enum dkim_status
dkim_sign_header(struct dkim_sign *s, const char *field, size_t len)
{
	if (s->nomem)
		return DKIM_NOMEM;
	if (s->stage != ST_HEADER)
		return DKIM_BADSTAGE;
	if (canon_hdrs_add(&s->hdrs, field, len) < 0 && s->hdrs.failed) {
		s->nomem = 1;
		return DKIM_NOMEM;
	}
	/* a signature over part of the header would be wrong */
	return s->hdrs.overflow ? DKIM_TOOBIG : DKIM_OK;
}

/* dkim_sign_eoh - end of the header */
enum dkim_status
dkim_sign_eoh(struct dkim_sign *s)
{
	if (s->nomem)
		return DKIM_NOMEM;
	if (s->stage != ST_HEADER)
		return DKIM_BADSTAGE;
	s->stage = ST_BODY;
	return DKIM_OK;
}

/* dkim_sign_body - a raw body chunk */
enum dkim_status
dkim_sign_body(struct dkim_sign *s, const unsigned char *p, size_t n)
{
	if (s->nomem)
		return DKIM_NOMEM;
	if (s->stage == ST_HEADER)
		s->stage = ST_BODY;
	if (s->stage != ST_BODY)
		return DKIM_BADSTAGE;
	canon_body_update(s->cb, p, n);
	return s->nomem ? DKIM_NOMEM : DKIM_OK;
}

/* in_list - a name in a NULL-terminated list, without case */
static int
in_list(const char *const *list, const char *name)
{
	for (; list != NULL && *list != NULL; list++)
		if (strcasecmp(*list, name) == 0)
			return 1;
	return 0;
}

/* count_fields - instances of a name in the header */
static size_t
count_fields(const struct canon_hdrs *h, const char *name)
{
	size_t i, n = 0, len = strlen(name);

	for (i = 0; i < h->n; i++)
		if (canon_hdrs_name_is(h, i, name, len))
			n++;
	return n;
}

/* build_hlist - the names to sign, in order, into a NULL-terminated array */
static const char **
build_hlist(const struct dkim_sign *s, size_t *np)
{
	const char *const *sign = s->o.headers ? s->o.headers :
	    dkim_sign_default_headers;
	const char *const *p;
	const char **list;
	size_t n = 0, k, cap = 0;

	for (p = sign; *p != NULL; p++)
		cap += count_fields(&s->hdrs, *p);
	for (p = s->o.oversign; p != NULL && *p != NULL; p++)
		cap++;
	if ((list = calloc(cap + 1, sizeof(*list))) == NULL)
		return NULL;
	for (p = sign; *p != NULL; p++) {
		if (in_list(s->o.omit, *p))
			continue;
		for (k = 0; k < (size_t)(p - sign); k++)
			if (strcasecmp(sign[k], *p) == 0)
				break;
		if (k < (size_t)(p - sign))
			continue;	/* listed twice */
		for (k = count_fields(&s->hdrs, *p); k > 0 && n < cap; k--)
			list[n++] = *p;
	}
	for (p = s->o.oversign; p != NULL && *p != NULL && n < cap; p++)
		list[n++] = *p;
	*np = n;
	return list;
}

struct fold {
	struct buf	*out;
	size_t		 col;
};

/* fold_add - append a token, first breaking the line if it would not fit;
 * sep is what goes between tokens on one line ("" or " ") */
static void
fold_add(struct fold *f, const char *sep, const char *tok, size_t len)
{
	if (f->col + strlen(sep) + len > SIGN_COLUMNS && f->col > 1) {
		buf_append(f->out, "\r\n\t", 3);
		f->col = 8;
	} else {
		buf_puts(f->out, sep);
		f->col += strlen(sep);
	}
	buf_append(f->out, tok, len);
	f->col += len;
}

/* fold_tag - append "name=value;" as one token after a space */
static void __attribute__((format(printf, 2, 3)))
fold_tag(struct fold *f, const char *fmt, ...)
{
	struct buf t = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&t, fmt, ap);
	va_end(ap);
	if (t.failed)
		f->out->failed = 1;
	else
		fold_add(f, f->out->len ? " " : "", t.s, t.len);
	buf_free(&t);
}

/* fold_hlist - "h=a:b:c;" broken only after a colon */
static void
fold_hlist(struct fold *f, const char **list, size_t n, int spaced)
{
	struct buf t = BUF_INIT;
	size_t k;

	for (k = 0; k < n; k++) {
		const char *c;

		buf_reset(&t);
		buf_puts(&t, k == 0 ? "h=" : "");
		for (c = list[k]; *c != '\0'; c++)	/* names in lower case */
			buf_putc(&t, tolower((unsigned char)*c));
		buf_puts(&t, k + 1 == n ? ";" : spaced ? " :" : ":");
		fold_add(f, k == 0 || spaced ? " " : "", t.s, t.len);
	}
	buf_free(&t);
}

/* fold_b64 - the signature after "b=", cut to fill the lines */
static void
fold_b64(struct fold *f, const char *b, size_t len)
{
	size_t room, k;

	while (len > 0) {
		room = f->col < SIGN_COLUMNS ? SIGN_COLUMNS - f->col : 0;
		if (room == 0) {
			buf_append(f->out, "\r\n\t", 3);
			f->col = 8;
			continue;
		}
		k = len < room ? len : room;
		buf_append(f->out, b, k);
		f->col += k;
		b += k;
		len -= k;
	}
}

/* sign_header_hash - hash the signed fields and our own field */
static int
sign_header_hash(struct dkim_sign *s, const char **list, size_t n,
    const struct buf *value, unsigned char *digest)
{
	struct crypto_hash_ctx *hc;
	struct buf line = BUF_INIT;
	unsigned char *used;
	const char *f;
	size_t k, flen;
	long idx;
	int r = -1;

	if ((used = calloc(s->hdrs.n + 1, 1)) == NULL)
		return -1;
	if ((hc = crypto_hash_new(CRYPTO_SHA256)) == NULL)
		goto out;
	for (k = 0; k < n; k++) {
		if ((idx = canon_hdrs_pick(&s->hdrs, list[k], strlen(list[k]),
		    used)) < 0)
			continue;
		f = canon_hdrs_field(&s->hdrs, (size_t)idx, &flen);
		buf_reset(&line);
		canon_header(s->o.hcanon, f, flen, &line);
		buf_append(&line, "\r\n", 2);
		if (line.failed || crypto_hash_update(hc, line.s, line.len) < 0)
			goto out;
	}
	{
		struct buf self = BUF_INIT;

		buf_printf(&self, "%s: %s", DKIM_SIGNATURE_HEADER,
		    buf_str(value));
		buf_reset(&line);
		canon_header(s->o.hcanon, buf_str(&self), self.len, &line);
		r = self.failed || line.failed ||
		    crypto_hash_update(hc, line.s, line.len) < 0 ||
		    crypto_hash_final(hc, digest) < 0 ? -1 : 0;
		buf_free(&self);
	}
out:
	crypto_hash_free(hc);
	buf_free(&line);
	free(used);
	return r;
}

/* sign_tags - every tag up to and including "b=" */
static int
sign_tags(struct dkim_sign *s, const char **list, size_t n,
    struct fold *f)
{
	unsigned char bh[CRYPTO_HASH_MAX];
	struct buf b64 = BUF_INIT;
	int ed = crypto_key_type(s->o.key) == CRYPTO_KEY_ED25519;

	canon_body_final(s->cb);
	if (crypto_hash_final(s->bhc, bh) < 0 || s->nomem)
		return -1;
	base64_encode(&b64, bh, 32);
	fold_tag(f, "v=1;");
	fold_tag(f, "a=%s;", ed ? "ed25519-sha256" : "rsa-sha256");
	fold_tag(f, "c=%s/%s;", canon_name(s->o.hcanon),
	    canon_name(s->o.bcanon));
	fold_tag(f, "d=%s;", s->d);
	if (s->i != NULL)
		fold_tag(f, "i=%s;", s->i);
	if (s->o.query_tag)
		fold_tag(f, "q=dns/txt;");
	fold_tag(f, "s=%s;", s->s);
	if (!s->o.no_timestamp)
		fold_tag(f, "t=%lld;", (long long)s->now);
	if (s->o.expire)
		fold_tag(f, "x=%lld;", (long long)s->now +
		    (long long)s->o.expire);
	if (s->o.body_length)
		fold_tag(f, "l=%llu;", s->blen);
	if (n > 0)
		fold_hlist(f, list, n, s->o.spaced_h);
	fold_tag(f, "bh=%s;", buf_str(&b64));
	fold_add(f, " ", "b=", 2);
	buf_free(&b64);
	return f->out->failed ? -1 : 0;
}

/* dkim_sign_eom - the DKIM-Signature field value */
enum dkim_status
dkim_sign_eom(struct dkim_sign *s, struct buf *out)
{
	unsigned char digest[CRYPTO_HASH_MAX];
	struct buf value = BUF_INIT, sig = BUF_INIT, b64 = BUF_INIT;
	struct fold f = { &value, SIGN_PREFIX };
	const char **list;
	size_t n = 0;
	enum dkim_status st = DKIM_NOMEM;

	if (s->nomem)
		return DKIM_NOMEM;
	if (s->stage == ST_DONE)
		return DKIM_BADSTAGE;
	s->stage = ST_DONE;
	if (s->hdrs.overflow)
		return DKIM_TOOBIG;
	if ((list = build_hlist(s, &n)) == NULL)
		goto out;
	if (sign_tags(s, list, n, &f) < 0 ||
	    sign_header_hash(s, list, n, &value, digest) < 0)
		goto out;
	st = DKIM_CRYPTO;
	if (crypto_sign_digest(s->o.key, CRYPTO_SHA256, digest, 32, &sig) !=
	    CRYPTO_OK)
		goto out;
	st = DKIM_NOMEM;
	if (base64_encode(&b64, sig.s, sig.len) != BASE64_OK)
		goto out;
	fold_b64(&f, b64.s, b64.len);
	if (value.failed || buf_append(out, value.s, value.len) < 0)
		goto out;
	st = DKIM_OK;
out:
	if (st == DKIM_NOMEM)
		s->nomem = 1;
	free(list);
	buf_free(&value);
	buf_free(&sig);
	buf_free(&b64);
	return st;
}

/* dkim_sign_message - header, eoh and body stages from a whole message */
enum dkim_status
dkim_sign_message(struct dkim_sign *s, const char *msg, size_t len)
{
	enum dkim_status st = DKIM_OK;
	struct rfc5322_field f;
	const char *p = msg, *end = msg + len;

	/* a line that is no field is kept as one, as an MTA passes it */
	while (st == DKIM_OK && rfc5322_next_field(p, end, &f) != RFC5322_EOH) {
		st = dkim_sign_header(s, f.raw, f.raw_len);
		p = f.next;
	}
	if (st == DKIM_OK)
		st = dkim_sign_eoh(s);
	if (st == DKIM_OK)
		st = dkim_sign_body(s, (const unsigned char *)f.next,
		    (size_t)(end - f.next));
	return st;
}

/* dkim_sign_free - release the context; NULL is fine */
void
dkim_sign_free(struct dkim_sign *s)
{
	if (s == NULL)
		return;
	buf_free(&s->strings);
	canon_hdrs_free(&s->hdrs);
	canon_body_free(s->cb);
	crypto_hash_free(s->bhc);
	free(s);
}
