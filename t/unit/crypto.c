/*
 * crypto - key loading in every accepted form, sign/verify round trips,
 * determinism, tamper detection and the digests
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "crypto.h"
#include "tap.h"

#define PYDATA "/usr/lib/python3/dist-packages/dkim/tests/data/"

/* the p= values of test.txt (SPKI) and of an RSAPublicKey record */
static const char spki_1024[] =
    "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08"
    "a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR"
    "+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l"
    "/K4w3QIDAQAB";
static const char rsapub_1024[] =
    "MIGJAoGBALppqRbOu5gApf05051Icx6apV0ZC6s1gsLUfs79PYtAgdVuQoXooqOWAUzu"
    "WvyyR9kyEl78pEYy9WMJXllqRkgZ4/ceLWpcIS+aNLgSWkw8w/I+tmKC33mKmrLA9hkl"
    "YdtGInTzlV2RIK0tS+jmzKkDSdMl7KcSi4A37/AFoI7pAgMBAAE=";
static const char ed_seed[] = "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=";
static const char ed_pub[] = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";

static const struct {
	enum crypto_hash h;
	const char *in, *hex;
} digests[] = {
	{ CRYPTO_SHA1, "abc", "a9993e364706816aba3e25717850c26c9cd0d89d" },
	{ CRYPTO_SHA256, "abc",
	  "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
	{ CRYPTO_SHA256, "",
	  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
};

/* hex - lower-case hex of n bytes into out (2n+1 bytes) */
static void
hex(const unsigned char *p, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", p[i]);
}

/* pubkey - key from a base64 p= value */
static enum crypto_status
pubkey(enum crypto_keytype t, const char *b64, struct crypto_key **k)
{
	struct buf d = BUF_INIT;
	enum crypto_status st;

	base64_decode(&d, b64, strlen(b64));
	st = crypto_key_from_public(t, (unsigned char *)d.s, d.len, k);
	buf_free(&d);
	return st;
}

/* roundtrip - sign a digest, check it verifies, twice equal, tamper fails */
static void
roundtrip(const struct crypto_key *k, enum crypto_hash h, const char *what)
{
	unsigned char dg[CRYPTO_HASH_MAX];
	struct buf s1 = BUF_INIT, s2 = BUF_INIT;
	size_t dl = crypto_hash_len(h);

	crypto_digest(h, what, strlen(what), dg);
	ok(crypto_sign_digest(k, h, dg, dl, &s1) == CRYPTO_OK &&
	    crypto_sign_digest(k, h, dg, dl, &s2) == CRYPTO_OK &&
	    s1.len == s2.len && memcmp(s1.s, s2.s, s1.len) == 0,
	    "%s: signing is deterministic", what);
	ok(crypto_verify_digest(k, h, dg, dl, (unsigned char *)s1.s, s1.len) ==
	    CRYPTO_OK, "%s: the signature verifies", what);
	dg[0] ^= 1;
	ok(crypto_verify_digest(k, h, dg, dl, (unsigned char *)s1.s, s1.len) ==
	    CRYPTO_BADSIG, "%s: a changed digest does not verify", what);
	dg[0] ^= 1;
	s1.s[s1.len / 2] ^= 0x40;
	ok(crypto_verify_digest(k, h, dg, dl, (unsigned char *)s1.s, s1.len) ==
	    CRYPTO_BADSIG, "%s: a changed signature does not verify", what);
	ok(crypto_verify_digest(k, h, dg, dl, (unsigned char *)s1.s, 3) ==
	    CRYPTO_BADSIG, "%s: a truncated signature does not verify", what);
	buf_free(&s1);
	buf_free(&s2);
}

/* test_digests - known answers, streaming equals one-shot */
static void
test_digests(void)
{
	unsigned char d1[CRYPTO_HASH_MAX], d2[CRYPTO_HASH_MAX];
	char hx[2 * CRYPTO_HASH_MAX + 1];
	struct crypto_hash_ctx *c;
	size_t i;

	for (i = 0; i < sizeof(digests) / sizeof(digests[0]); i++) {
		crypto_digest(digests[i].h, digests[i].in,
		    strlen(digests[i].in), d1);
		hex(d1, crypto_hash_len(digests[i].h), hx);
		is_str(hx, digests[i].hex, digests[i].h == CRYPTO_SHA1 ?
		    "SHA-1 known answer" : "SHA-256 known answer");
	}
	c = crypto_hash_new(CRYPTO_SHA256);
	for (i = 0; i < 1000; i++)
		crypto_hash_update(c, "0123456789", i % 11);
	crypto_hash_final(c, d1);
	crypto_hash_free(c);
	{
		struct buf all = BUF_INIT;

		for (i = 0; i < 1000; i++)
			buf_append(&all, "0123456789", i % 11);
		crypto_digest(CRYPTO_SHA256, all.s, all.len, d2);
		buf_free(&all);
	}
	ok(memcmp(d1, d2, 32) == 0, "streaming digest equals one-shot digest");
}

/* test_loading - every accepted private and public form */
static void
test_loading(void)
{
	struct crypto_key *k = NULL, *p = NULL;
	struct buf b = BUF_INIT, e = BUF_INIT;
	FILE *f;
	char line[128];

	ok(crypto_key_load_private_file(PYDATA "test.private", &k) ==
	    CRYPTO_OK && crypto_key_type(k) == CRYPTO_KEY_RSA &&
	    crypto_key_bits(k) == 1024 && crypto_key_is_private(k),
	    "PKCS#1 PEM RSA private key loads (1024 bits)");
	ok(pubkey(CRYPTO_KEY_RSA, spki_1024, &p) == CRYPTO_OK &&
	    !crypto_key_is_private(p) && crypto_key_bits(p) == 1024,
	    "SubjectPublicKeyInfo public key loads");
	if (k != NULL) {
		crypto_key_public_raw(k, &b);
		base64_encode(&e, b.s, b.len);
		is_str(e.s, spki_1024, "public part exports as the DKIM p= value");
		roundtrip(k, CRYPTO_SHA256, "rsa-sha256");
		roundtrip(k, CRYPTO_SHA1, "rsa-sha1");
	}
	crypto_key_free(p);
	ok(pubkey(CRYPTO_KEY_RSA, rsapub_1024, &p) == CRYPTO_OK &&
	    crypto_key_bits(p) == 1024, "bare RSAPublicKey DER also loads");
	crypto_key_free(p);
	ok(pubkey(CRYPTO_KEY_RSA, "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDk",
	    &p) == CRYPTO_BADKEY && p == NULL, "a truncated RSA key is refused");
	ok(pubkey(CRYPTO_KEY_ED25519, spki_1024, &p) == CRYPTO_BADKEY,
	    "an RSA key is not taken as Ed25519");
	ok(pubkey(CRYPTO_KEY_RSA, ed_pub, &p) == CRYPTO_BADKEY,
	    "Ed25519 bytes are not taken as RSA");
	ok(pubkey(CRYPTO_KEY_ED25519, "MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvP"
	    "apiMlrwIaaPcHURo=", &p) == CRYPTO_OK && crypto_key_bits(p) == 256,
	    "an Ed25519 SubjectPublicKeyInfo is accepted too");
	crypto_key_free(p);
	p = NULL;
	crypto_key_free(k);
	ok(crypto_key_load_private_file(PYDATA "2048_testkey_PKCS8.key", &k) ==
	    CRYPTO_OK && crypto_key_bits(k) == 2048,
	    "PKCS#8 PEM RSA private key loads (2048 bits)");
	/* the same key as DER: the base64 between the PEM markers */
	buf_reset(&b);
	buf_reset(&e);
	if ((f = fopen(PYDATA "2048_testkey_PKCS8.key", "r")) != NULL) {
		while (fgets(line, sizeof(line), f) != NULL)
			if (line[0] != '-')
				buf_puts(&e, line);
		fclose(f);
	}
	base64_decode(&b, e.s, e.len);
	crypto_key_free(p);
	ok(crypto_key_load_private(b.s, b.len, &p) == CRYPTO_OK &&
	    crypto_key_bits(p) == 2048, "PKCS#8 DER private key loads");
	crypto_key_free(k);
	crypto_key_free(p);
	ok(crypto_key_load_private(ed_seed, strlen(ed_seed), &k) == CRYPTO_OK &&
	    crypto_key_type(k) == CRYPTO_KEY_ED25519,
	    "a base64 Ed25519 seed loads");
	buf_reset(&b);
	buf_reset(&e);
	crypto_key_public_raw(k, &b);
	base64_encode(&e, b.s, b.len);
	is_str(e.s, ed_pub, "the RFC 8032 seed gives the RFC 8463 public key");
	roundtrip(k, CRYPTO_SHA256, "ed25519-sha256");
	ok(crypto_key_load_private("garbage", 7, &p) == CRYPTO_BADKEY &&
	    p == NULL, "garbage is not a private key");
	ok(crypto_key_load_private_file("/nonexistent/key", &p) == CRYPTO_IO,
	    "a missing key file is an I/O error");
	crypto_key_free(k);
	buf_free(&b);
	buf_free(&e);
}

/* test_generate - fresh keys sign, export and reload */
static void
test_generate(void)
{
	struct crypto_key *k, *r, *pub;
	struct buf pem = BUF_INIT, raw = BUF_INIT;
	unsigned char dg[32];
	struct buf sig = BUF_INIT;
	enum crypto_keytype types[2] = { CRYPTO_KEY_RSA, CRYPTO_KEY_ED25519 };
	int i;

	crypto_digest(CRYPTO_SHA256, "x", 1, dg);
	for (i = 0; i < 2; i++) {
		k = r = pub = NULL;
		buf_reset(&pem);
		buf_reset(&raw);
		buf_reset(&sig);
		ok(crypto_key_generate(types[i], 1024, &k) == CRYPTO_OK &&
		    crypto_key_type(k) == types[i], "generate %s key",
		    i ? "Ed25519" : "RSA");
		crypto_key_private_pem(k, &pem);
		crypto_key_public_raw(k, &raw);
		ok(crypto_key_load_private(pem.s, pem.len, &r) == CRYPTO_OK &&
		    crypto_key_from_public(types[i], (unsigned char *)raw.s, raw.len,
		    &pub) == CRYPTO_OK, "its PEM and public bytes reload");
		crypto_sign_digest(r, CRYPTO_SHA256, dg, 32, &sig);
		ok(crypto_verify_digest(pub, CRYPTO_SHA256, dg, 32,
		    (unsigned char *)sig.s, sig.len) == CRYPTO_OK,
		    "the reloaded private key signs for the public key");
		buf_reset(&sig);
		ok(crypto_sign_digest(pub, CRYPTO_SHA256, dg, 32, &sig) ==
		    CRYPTO_NOTPRIVATE, "a public key does not sign");
		crypto_key_free(k);
		crypto_key_free(r);
		crypto_key_free(pub);
	}
	buf_free(&pem);
	buf_free(&raw);
	buf_free(&sig);
}

/*
 * test_pubcache - parsed public keys are shared: keys of equal length are
 * told apart, a key outlives its cache slot, and more keys than slots
 * (70 > 64) still load and verify correctly
 */
static void
test_pubcache(void)
{
	struct crypto_key *priv[70], *a, *b, *held;
	struct buf raw[70], sig = BUF_INIT;
	unsigned char dg[32];
	int i, good = 0, wrong = 0, pass;

	crypto_digest(CRYPTO_SHA256, "cache", 5, dg);
	for (i = 0; i < 70; i++) {
		buf_init(&raw[i]);
		crypto_key_generate(CRYPTO_KEY_ED25519, 0, &priv[i]);
		crypto_key_public_raw(priv[i], &raw[i]);
	}
	/* the first key, taken from the cache, then pushed out of it */
	crypto_key_from_public(CRYPTO_KEY_ED25519, (unsigned char *)raw[0].s,
	    raw[0].len, &held);
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < 70; i++) {
			buf_reset(&sig);
			crypto_sign_digest(priv[i], CRYPTO_SHA256, dg, 32, &sig);
			a = b = NULL;
			crypto_key_from_public(CRYPTO_KEY_ED25519,
			    (unsigned char *)raw[i].s, raw[i].len, &a);
			crypto_key_from_public(CRYPTO_KEY_ED25519,
			    (unsigned char *)raw[(i + 1) % 70].s,
			    raw[(i + 1) % 70].len, &b);
			good += a != NULL && crypto_verify_digest(a,
			    CRYPTO_SHA256, dg, 32, (unsigned char *)sig.s,
			    sig.len) == CRYPTO_OK;
			wrong += b != NULL && crypto_verify_digest(b,
			    CRYPTO_SHA256, dg, 32, (unsigned char *)sig.s,
			    sig.len) == CRYPTO_OK;
			crypto_key_free(a);
			crypto_key_free(b);
		}
	is_int(good, 140, "each of 70 keys, loaded twice through the cache, "
	    "verifies its own signature");
	is_int(wrong, 0, "no key verifies its neighbour's signature");
	buf_reset(&sig);
	crypto_sign_digest(priv[0], CRYPTO_SHA256, dg, 32, &sig);
	ok(crypto_verify_digest(held, CRYPTO_SHA256, dg, 32,
	    (unsigned char *)sig.s, sig.len) == CRYPTO_OK,
	    "a key held while its cache slot was reused still verifies");
	crypto_key_free(held);
	for (i = 0; i < 70; i++) {
		crypto_key_free(priv[i]);
		buf_free(&raw[i]);
	}
	buf_free(&sig);
}

int
main(void)
{
	test_digests();
	test_loading();
	test_generate();
	test_pubcache();
	return done_testing();
}
