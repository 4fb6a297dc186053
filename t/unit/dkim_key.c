/*
 * dkim_key - key record parsing: tags, defaults, flags and every error
 */
#include <string.h>

#include "dkim.h"
#include "tap.h"

#define RSA1024 "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6" \
	"Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8u" \
	"BsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTI" \
	"KT+l/K4w3QIDAQAB"
#define ED "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="

static const struct {
	const char *rec;
	enum dkim_key_error want;
	enum crypto_keytype type;
	unsigned hashes;
	int testing, strict;
	const char *name;
} cases[] = {
	{ "v=DKIM1; k=rsa; p=" RSA1024, DKIM_KEYREC_OK, CRYPTO_KEY_RSA, 3, 0, 0,
	  "an RSA record" },
	{ "p=" RSA1024, DKIM_KEYREC_OK, CRYPTO_KEY_RSA, 3, 0, 0,
	  "v= and k= are optional, rsa is the default" },
	{ "v=DKIM1; k=ed25519; p=" ED, DKIM_KEYREC_OK, CRYPTO_KEY_ED25519, 3, 0,
	  0, "an Ed25519 record (RFC 8463)" },
	{ "v=DKIM1; h=sha256; t=y:s; s=email; p=" RSA1024, DKIM_KEYREC_OK,
	  CRYPTO_KEY_RSA, DKIM_KEYHASH_SHA256, 1, 1, "h=, t=y:s and s=email" },
	{ "h=sha1 : foo; s=*; t=x; p=" RSA1024, DKIM_KEYREC_OK, CRYPTO_KEY_RSA,
	  DKIM_KEYHASH_SHA1, 0, 0, "unknown hashes and flags are ignored" },
	{ "v=DKIM1; p= MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6"
	  " NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ"
	  "/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G"
	  "+2kryOTIKT+l/K4w3QIDAQAB ", DKIM_KEYREC_OK, CRYPTO_KEY_RSA, 3, 0, 0,
	  "white space inside p= is skipped" },
	{ "k=rsa; v=DKIM1; p=" RSA1024, DKIM_KEYREC_VERSION, 0, 0, 0, 0,
	  "v= not first is refused" },
	{ "v=DKIM1: g=*; k=rsa; p=" RSA1024, DKIM_KEYREC_VERSION, 0, 0, 0, 0,
	  "a broken v= is refused (python-dkim badversion.txt)" },
	{ "v=DKIM2; p=" RSA1024, DKIM_KEYREC_VERSION, 0, 0, 0, 0,
	  "v=DKIM2 is refused" },
	{ "k=ed25519-sha256; p=" RSA1024, DKIM_KEYREC_KEYTYPE, 0, 0, 0, 0,
	  "an unknown k= is refused (python-dkim badk.txt)" },
	{ "v=DKIM1; p=", DKIM_KEYREC_REVOKED, 0, 0, 0, 0,
	  "an empty p= means revoked" },
	{ "v=DKIM1; k=rsa", DKIM_KEYREC_NOKEY, 0, 0, 0, 0, "no p= is refused" },
	{ "s=tlsrpt; p=" RSA1024, DKIM_KEYREC_SERVICE, 0, 0, 0, 0,
	  "a key not for email is refused" },
	{ "p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3",
	  DKIM_KEYREC_BADKEY, 0, 0, 0, 0, "a truncated key is refused" },
	{ "p=!!!!", DKIM_KEYREC_BADKEY, 0, 0, 0, 0, "invalid base64 is refused" },
	{ "k=ed25519; p=" RSA1024, DKIM_KEYREC_BADKEY, 0, 0, 0, 0,
	  "an RSA key under k=ed25519 is refused" },
	{ "k=rsa; p=" ED, DKIM_KEYREC_BADKEY, 0, 0, 0, 0,
	  "an Ed25519 key under k=rsa is refused" },
	{ "v=DKIM1; p=" RSA1024 "; p=x", DKIM_KEYREC_SYNTAX, 0, 0, 0, 0,
	  "a duplicated tag is a syntax error" },
	{ "garbage", DKIM_KEYREC_SYNTAX, 0, 0, 0, 0, "garbage is refused" },
};

int
main(void)
{
	struct dkim_key k;
	struct crypto_key *priv;
	struct buf rec = BUF_INIT;
	enum dkim_key_error e;
	size_t i;
	int good;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		e = dkim_key_parse(cases[i].rec, strlen(cases[i].rec), &k);
		good = e == cases[i].want;
		if (good && e == DKIM_KEYREC_OK)
			good = k.type == cases[i].type && k.pk != NULL &&
			    k.hashes == cases[i].hashes &&
			    k.testing == cases[i].testing &&
			    k.strict == cases[i].strict;
		if (good && e != DKIM_KEYREC_OK)
			good = k.pk == NULL;
		ok(good, "%s", cases[i].name);
		if (!good)
			diag("got %s", dkim_key_strerror(e));
		dkim_key_clear(&k);
	}
	is_str(dkim_key_strerror(DKIM_KEYREC_REVOKED), "key revoked",
	    "the revoked reason reads as results show it");
	{
		struct buf big = BUF_INIT;

		buf_puts(&big, "p=");
		while (big.len <= DKIM_KEY_RECORD_MAX)
			buf_puts(&big, "AAAA");
		ok(dkim_key_parse(big.s, big.len, &k) == DKIM_KEYREC_SYNTAX,
		    "an oversized record is refused");
		buf_free(&big);
	}
	if (crypto_key_generate(CRYPTO_KEY_ED25519, 0, &priv) == CRYPTO_OK) {
		dkim_key_record(priv, &rec);
		ok(strncmp(rec.s, "v=DKIM1; k=ed25519; p=", 22) == 0 &&
		    dkim_key_parse(rec.s, rec.len, &k) == DKIM_KEYREC_OK &&
		    k.type == CRYPTO_KEY_ED25519,
		    "the record written for a key parses back");
		dkim_key_clear(&k);
		crypto_key_free(priv);
	}
	buf_free(&rec);
	return done_testing();
}
