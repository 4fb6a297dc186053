/*
 * NAME
 *	dkim_key - DKIM key records (RFC 6376 section 3.6.1, RFC 8463)
 * SYNOPSIS
 *	#include "dkim.h"
 * DESCRIPTION
 *	dkim_key_parse() reads the TXT record published at
 *	selector._domainkey.domain: v= (DKIM1, and first if present),
 *	k= (rsa, the default, or ed25519), h= (acceptable hashes), s=
 *	(service types: "*" or "email" must be listed), t= (flags y and s)
 *	and p= (base64; empty means revoked).  RSA keys are accepted as
 *	SubjectPublicKeyInfo or as a bare RSAPublicKey; Ed25519 keys are
 *	the 32 raw bytes.  Unknown tags and unknown hash names are ignored.
 *
 *	dkim_key_record() writes the record to publish for a key.
 * DIAGNOSTICS
 *	An enum dkim_key_error; dkim_key_strerror() gives the short reason
 *	used in results ("key revoked", ...).
 */
#include <string.h>

#include "base64.h"
#include "dkim.h"
#include "dns.h"
#include "tagvalue.h"

enum { K_V, K_H, K_K, K_P, K_S, K_T, K_MAX };
static const char *const key_tags[K_MAX] = { "v", "h", "k", "p", "s", "t" };

/* key_v_first - 1 when the record starts with the v= tag */
static int
key_v_first(const char *rec, const struct tagvalue *v)
{
	const char *p = rec, *end = rec + v->raw_start;

	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
		p++;
	if (p == end || *p++ != 'v')
		return 0;
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
		p++;
	return p + 1 == end && *p == '=';
}

/* key_item_is - compare a list item with a word */
static int
key_item_is(const char *item, size_t len, const char *word)
{
	return len == strlen(word) && memcmp(item, word, len) == 0;
}

/* key_lists - h=, s= and t= */
static enum dkim_key_error
key_lists(const struct tagvalue *tv, struct dkim_key *key)
{
	const char *item;
	size_t pos, len;
	int svc_ok = 0;

	key->hashes = DKIM_KEYHASH_SHA1 | DKIM_KEYHASH_SHA256;
	if (tv[K_H].value != NULL) {
		key->hashes = 0;
		for (pos = 0; tagvalue_next_item(&tv[K_H], ':', &pos, &item,
		    &len);) {
			if (key_item_is(item, len, "sha1"))
				key->hashes |= DKIM_KEYHASH_SHA1;
			else if (key_item_is(item, len, "sha256"))
				key->hashes |= DKIM_KEYHASH_SHA256;
		}
	}
	if (tv[K_S].value != NULL) {
		for (pos = 0; tagvalue_next_item(&tv[K_S], ':', &pos, &item,
		    &len);)
			if (key_item_is(item, len, "*") ||
			    key_item_is(item, len, "email"))
				svc_ok = 1;
		if (!svc_ok)
			return DKIM_KEYREC_SERVICE;
	}
	if (tv[K_T].value != NULL)
		for (pos = 0; tagvalue_next_item(&tv[K_T], ':', &pos, &item,
		    &len);) {
			if (key_item_is(item, len, "y"))
				key->testing = 1;
			else if (key_item_is(item, len, "s"))
				key->strict = 1;
		}
	return DKIM_KEYREC_OK;
}

/* dkim_key_parse - parse one key record */
enum dkim_key_error
dkim_key_parse(const char *rec, size_t len, struct dkim_key *key)
{
	struct tagvalue tv[K_MAX];
	struct buf der = BUF_INIT;
	enum dkim_key_error err;
	enum crypto_status cst;

	memset(key, 0, sizeof(*key));
	if (len > DKIM_KEY_RECORD_MAX ||
	    tagvalue_parse(rec, len, key_tags, K_MAX, tv, NULL) != TAGVALUE_OK)
		return DKIM_KEYREC_SYNTAX;
	if (tv[K_V].value != NULL && (!key_v_first(rec, &tv[K_V]) ||
	    !tagvalue_is(&tv[K_V], "DKIM1")))
		return DKIM_KEYREC_VERSION;
	if (tv[K_K].value == NULL || tagvalue_is(&tv[K_K], "rsa"))
		key->type = CRYPTO_KEY_RSA;
	else if (tagvalue_is(&tv[K_K], "ed25519"))
		key->type = CRYPTO_KEY_ED25519;
	else
		return DKIM_KEYREC_KEYTYPE;
	if ((err = key_lists(tv, key)) != DKIM_KEYREC_OK)
		return err;
	if (tv[K_P].value == NULL)
		return DKIM_KEYREC_NOKEY;
	if (tv[K_P].len == 0)
		return DKIM_KEYREC_REVOKED;
	if (base64_decode(&der, tv[K_P].value, tv[K_P].len) != BASE64_OK) {
		err = der.failed ? DKIM_KEYREC_NOMEM : DKIM_KEYREC_BADKEY;
		buf_free(&der);
		return err;
	}
	cst = crypto_key_from_public(key->type, (unsigned char *)der.s,
	    der.len, &key->pk);
	buf_free(&der);
	if (cst == CRYPTO_NOMEM)
		return DKIM_KEYREC_NOMEM;
	return cst == CRYPTO_OK ? DKIM_KEYREC_OK : DKIM_KEYREC_BADKEY;
}

/* dkim_key_clear - release the key inside */
void
dkim_key_clear(struct dkim_key *key)
{
	crypto_key_free(key->pk);
	memset(key, 0, sizeof(*key));
}

/* dkim_key_strerror - the reason text of a key error */
const char *
dkim_key_strerror(enum dkim_key_error e)
{
	switch (e) {
	case DKIM_KEYREC_OK:
		return "ok";
	case DKIM_KEYREC_SYNTAX:
		return "key record syntax error";
	case DKIM_KEYREC_VERSION:
		return "key record has a bad version";
	case DKIM_KEYREC_KEYTYPE:
		return "unknown key type";
	case DKIM_KEYREC_NOKEY:
		return "key record has no p=";
	case DKIM_KEYREC_REVOKED:
		return "key revoked";
	case DKIM_KEYREC_BADKEY:
		return "key data invalid";
	case DKIM_KEYREC_SERVICE:
		return "key not for email";
	case DKIM_KEYREC_NOMEM:
		return "out of memory";
	}
	return "unknown key error";
}

/* dkim_key_record - the TXT record to publish for a key */
int
dkim_key_record(const struct crypto_key *k, struct buf *out)
{
	struct buf raw = BUF_INIT;

	if (crypto_key_public_raw(k, &raw) != CRYPTO_OK) {
		buf_free(&raw);
		return -1;
	}
	buf_printf(out, "v=DKIM1; k=%s; p=", crypto_key_type(k) ==
	    CRYPTO_KEY_ED25519 ? "ed25519" : "rsa");
	base64_encode(out, raw.s, raw.len);
	buf_free(&raw);
	return out->failed ? -1 : 0;
}

/* dkim_key_dns - a key record through the resolver */
enum dkim_key_status
dkim_key_dns(struct dns_resolver *r, const char *qname, struct buf *record,
    int *secure, enum dns_status *why)
{
	struct dns_answer *a = NULL;

	switch (*why = dns_query(r, qname, DNS_T_TXT, &a)) {
	case DNS_OK:
		break;
	case DNS_NXDOMAIN:
	case DNS_NODATA:
		return DKIM_KEY_NOTFOUND;
	case DNS_BADNAME:
		return DKIM_KEY_PERMFAIL;
	default:
		return DKIM_KEY_TEMPFAIL;
	}
	buf_append(record, a->rr[0].text, a->rr[0].text_len);
	*secure = a->secure;
	dns_answer_free(a);
	return record->failed ? DKIM_KEY_TEMPFAIL : DKIM_KEY_OK;
}
