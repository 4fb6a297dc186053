/*
 * NAME
 *	crypto - keys, signatures and digests on OpenSSL 3
 * SYNOPSIS
 *	#include "crypto.h"
 * DESCRIPTION
 *	A thin layer over EVP that knows two key types, RSA and Ed25519,
 *	and two digests, SHA-1 and SHA-256.  Keys are loaded from PEM or
 *	DER (the OpenSSL decoders detect PKCS#1 and PKCS#8), from an RFC
 *	8032 seed, or from the public key bytes DKIM publishes.  Every
 *	operation makes its own EVP context, so a loaded key is shared
 *	read-only between threads.
 * DIAGNOSTICS
 *	An enum crypto_status; crypto_strerror() names it.  The OpenSSL
 *	error queue is cleared after a failure so that it never leaks into
 *	an unrelated later call in the same thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "base64.h"
#include "crypto.h"

struct crypto_key {
	EVP_PKEY	*pkey;
	enum crypto_keytype type;
	int		 private;
};

struct crypto_hash_ctx {
	EVP_MD_CTX	*md;
};

/* crypto_fail - clear the OpenSSL error queue, pass the status on */
static enum crypto_status
crypto_fail(enum crypto_status st)
{
	ERR_clear_error();
	return st;
}

/* key_wrap - make a crypto_key around pkey (taking it over) */
static enum crypto_status
key_wrap(EVP_PKEY *pkey, int private, struct crypto_key **out)
{
	struct crypto_key *k;
	int id = EVP_PKEY_get_base_id(pkey);

	if (id != EVP_PKEY_RSA && id != EVP_PKEY_ED25519) {
		EVP_PKEY_free(pkey);
		return CRYPTO_UNSUPPORTED;
	}
	if ((k = calloc(1, sizeof(*k))) == NULL) {
		EVP_PKEY_free(pkey);
		return CRYPTO_NOMEM;
	}
	k->pkey = pkey;
	k->type = id == EVP_PKEY_RSA ? CRYPTO_KEY_RSA : CRYPTO_KEY_ED25519;
	k->private = private;
	*out = k;
	return CRYPTO_OK;
}

/* decode_private - PEM or DER private key through the OpenSSL decoders */
static EVP_PKEY *
decode_private(const void *data, size_t len)
{
	OSSL_DECODER_CTX *dctx;
	EVP_PKEY *pkey = NULL;
	const unsigned char *p = data;
	size_t left = len;

	dctx = OSSL_DECODER_CTX_new_for_pkey(&pkey, NULL, NULL, NULL,
	    OSSL_KEYMGMT_SELECT_KEYPAIR, NULL, NULL);
	if (dctx == NULL)
		return NULL;
	if (OSSL_DECODER_from_data(dctx, &p, &left) != 1) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
	OSSL_DECODER_CTX_free(dctx);
	return pkey;
}

/* crypto_key_from_ed25519_seed - Ed25519 private key from its seed */
enum crypto_status
crypto_key_from_ed25519_seed(const unsigned char *seed,
    struct crypto_key **out)
{
	EVP_PKEY *pkey;

	pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed,
	    CRYPTO_ED25519_LEN);
	if (pkey == NULL)
		return crypto_fail(CRYPTO_BADKEY);
	return key_wrap(pkey, 1, out);
}

/* seed_base64 - 1 and the seed when data is the base64 of 32 bytes */
static int
seed_base64(const void *data, size_t len, unsigned char *seed)
{
	struct buf b = BUF_INIT;
	int ok;

	if (len > 128)
		return 0;
	ok = base64_decode(&b, data, len) == BASE64_OK &&
	    b.len == CRYPTO_ED25519_LEN;
	if (ok)
		memcpy(seed, b.s, CRYPTO_ED25519_LEN);
	buf_free(&b);
	return ok;
}

/* crypto_key_load_private - private key from PEM, DER or an Ed25519 seed */
enum crypto_status
crypto_key_load_private(const void *data, size_t len, struct crypto_key **out)
{
	unsigned char seed[CRYPTO_ED25519_LEN];
	EVP_PKEY *pkey;
	enum crypto_status st;

	*out = NULL;
	if (memmem(data, len, "-----BEGIN", 10) == NULL) {
		if (len == CRYPTO_ED25519_LEN)
			return crypto_key_from_ed25519_seed(data, out);
		if (seed_base64(data, len, seed)) {
			st = crypto_key_from_ed25519_seed(seed, out);
			OPENSSL_cleanse(seed, sizeof(seed));
			return st;
		}
	}
	if ((pkey = decode_private(data, len)) == NULL)
		return crypto_fail(CRYPTO_BADKEY);
	return key_wrap(pkey, 1, out);
}

/* crypto_key_load_private_fd - crypto_key_load_private() of what fd
 * reads; fd is left open (errno kept on CRYPTO_IO) */
enum crypto_status
crypto_key_load_private_fd(int fd, struct crypto_key **out)
{
	unsigned char *data;
	size_t len = 0;
	ssize_t n;
	enum crypto_status st;
	int saved;

	*out = NULL;
	if ((data = malloc(CRYPTO_KEYFILE_MAX)) == NULL)
		return CRYPTO_NOMEM;
	while (len < CRYPTO_KEYFILE_MAX &&
	    (n = read(fd, data + len, CRYPTO_KEYFILE_MAX - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			saved = errno;
			OPENSSL_cleanse(data, len);
			free(data);
			errno = saved;
			return CRYPTO_IO;
		}
		len += (size_t)n;
	}
	st = len == CRYPTO_KEYFILE_MAX ? CRYPTO_BADKEY :
	    crypto_key_load_private(data, len, out);
	OPENSSL_cleanse(data, len);
	free(data);
	return st;
}

/* crypto_key_load_private_file - crypto_key_load_private() of a file */
enum crypto_status
crypto_key_load_private_file(const char *path, struct crypto_key **out)
{
	enum crypto_status st;
	int fd, saved;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return CRYPTO_IO;
	st = crypto_key_load_private_fd(fd, out);
	saved = errno;
	close(fd);
	errno = saved;
	return st;
}

/*
 * Parsed public keys, shared by every thread: OpenSSL 3 spends far more on
 * decoding a key than on checking an RSA signature with it, and a verifier
 * sees the same few keys over and over.  A small table, replaced round
 * robin; each entry holds its own reference to the key.
 */
#define PUBCACHE_SLOTS	64
#define PUBCACHE_MAXDER	1024		/* RSA 4096 SubjectPublicKeyInfo: 550 */

static struct {
	pthread_mutex_t	 lock;
	struct {
		EVP_PKEY	*pkey;
		enum crypto_keytype type;
		size_t		 len;
		unsigned char	 der[PUBCACHE_MAXDER];
	} slot[PUBCACHE_SLOTS];
	unsigned	 next;
} pubcache = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* pubcache_get - a new reference to the cached key, or NULL */
static EVP_PKEY *
pubcache_get(enum crypto_keytype type, const unsigned char *der, size_t len)
{
	EVP_PKEY *pkey = NULL;
	unsigned i;

	if (len > PUBCACHE_MAXDER)
		return NULL;
	pthread_mutex_lock(&pubcache.lock);
	for (i = 0; i < PUBCACHE_SLOTS; i++)
		if (pubcache.slot[i].pkey != NULL &&
		    pubcache.slot[i].type == type &&
		    pubcache.slot[i].len == len &&
		    memcmp(pubcache.slot[i].der, der, len) == 0) {
			if (EVP_PKEY_up_ref(pubcache.slot[i].pkey) == 1)
				pkey = pubcache.slot[i].pkey;
			break;
		}
	pthread_mutex_unlock(&pubcache.lock);
	return pkey;
}

/* pubcache_put - remember a parsed key (the cache takes a reference) */
static void
pubcache_put(enum crypto_keytype type, const unsigned char *der, size_t len,
    EVP_PKEY *pkey)
{
	EVP_PKEY *old;
	unsigned i;

	if (len > PUBCACHE_MAXDER || EVP_PKEY_up_ref(pkey) != 1)
		return;
	pthread_mutex_lock(&pubcache.lock);
	i = pubcache.next++ % PUBCACHE_SLOTS;
	old = pubcache.slot[i].pkey;
	pubcache.slot[i].pkey = pkey;
	pubcache.slot[i].type = type;
	pubcache.slot[i].len = len;
	memcpy(pubcache.slot[i].der, der, len);
	pthread_mutex_unlock(&pubcache.lock);
	EVP_PKEY_free(old);
}

/* public_parse - the key of crypto_key_from_public, decoded */
static enum crypto_status
public_parse(enum crypto_keytype type, const unsigned char *der,
    size_t len, EVP_PKEY **out)
{
	const unsigned char *p = der;
	EVP_PKEY *pkey = NULL;

	*out = NULL;
	if (type == CRYPTO_KEY_ED25519 && len != CRYPTO_ED25519_LEN) {
		/* a SubjectPublicKeyInfo, as a few signers publish */
		if (len > 64 || (pkey = d2i_PUBKEY(NULL, &p, (long)len)) ==
		    NULL || p != der + len ||
		    EVP_PKEY_get_base_id(pkey) != EVP_PKEY_ED25519) {
			EVP_PKEY_free(pkey);
			return crypto_fail(CRYPTO_BADKEY);
		}
	} else if (type == CRYPTO_KEY_ED25519) {
		pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL,
		    der, len);
	} else if (type == CRYPTO_KEY_RSA) {
		if (len > 0x7fffffff)
			return CRYPTO_BADKEY;
		pkey = d2i_PUBKEY(NULL, &p, (long)len);
		if (pkey == NULL || p != der + len) {
			EVP_PKEY_free(pkey);
			p = der;
			pkey = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, (long)len);
			if (pkey != NULL && p != der + len) {
				EVP_PKEY_free(pkey);
				pkey = NULL;
			}
		}
		if (pkey != NULL && EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA) {
			EVP_PKEY_free(pkey);
			pkey = NULL;
		}
	} else
		return CRYPTO_UNSUPPORTED;
	if (pkey == NULL)
		return crypto_fail(CRYPTO_BADKEY);
	*out = pkey;
	return CRYPTO_OK;
}

/* crypto_key_from_public - public key from the bytes DKIM publishes */
enum crypto_status
crypto_key_from_public(enum crypto_keytype type, const unsigned char *der,
    size_t len, struct crypto_key **out)
{
	enum crypto_status st;
	EVP_PKEY *pkey;

	*out = NULL;
	if ((pkey = pubcache_get(type, der, len)) == NULL) {
		if ((st = public_parse(type, der, len, &pkey)) != CRYPTO_OK)
			return st;
		pubcache_put(type, der, len, pkey);
	}
	return key_wrap(pkey, 0, out);
}

/* crypto_key_generate - a fresh RSA or Ed25519 private key */
enum crypto_status
crypto_key_generate(enum crypto_keytype type, unsigned bits,
    struct crypto_key **out)
{
	EVP_PKEY *pkey;

	*out = NULL;
	if (type == CRYPTO_KEY_RSA) {
		if (bits < 512 || bits > 16384)
			return CRYPTO_UNSUPPORTED;
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
	} else if (type == CRYPTO_KEY_ED25519)
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	else
		return CRYPTO_UNSUPPORTED;
	if (pkey == NULL)
		return crypto_fail(CRYPTO_ERROR);
	return key_wrap(pkey, 1, out);
}

/* crypto_key_ref - another reference to k, freed on its own */
enum crypto_status
crypto_key_ref(struct crypto_key *k, struct crypto_key **out)
{
	struct crypto_key *r;

	*out = NULL;
	if ((r = malloc(sizeof(*r))) == NULL)
		return CRYPTO_NOMEM;
	if (EVP_PKEY_up_ref(k->pkey) != 1) {
		free(r);
		return crypto_fail(CRYPTO_ERROR);
	}
	*r = *k;
	*out = r;
	return CRYPTO_OK;
}

/* crypto_key_free - release a key; NULL is fine */
void
crypto_key_free(struct crypto_key *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);
	free(k);
}

/* crypto_key_type - RSA or Ed25519 */
enum crypto_keytype
crypto_key_type(const struct crypto_key *k)
{
	return k ? k->type : CRYPTO_KEY_NONE;
}

/* crypto_key_bits - modulus size for RSA, 256 for Ed25519 */
unsigned
crypto_key_bits(const struct crypto_key *k)
{
	int bits;

	if (k == NULL)
		return 0;
	if (k->type == CRYPTO_KEY_ED25519)
		return 256;
	bits = EVP_PKEY_get_bits(k->pkey);
	return bits > 0 ? (unsigned)bits : 0;
}

/* crypto_key_is_private - 1 when the key can sign */
int
crypto_key_is_private(const struct crypto_key *k)
{
	return k != NULL && k->private;
}

/* crypto_key_public_raw - SPKI DER (RSA) or 32 raw bytes (Ed25519) */
enum crypto_status
crypto_key_public_raw(const struct crypto_key *k, struct buf *out)
{
	unsigned char raw[CRYPTO_ED25519_LEN], *der = NULL;
	size_t rawlen = sizeof(raw);
	int n;

	if (k->type == CRYPTO_KEY_ED25519) {
		if (EVP_PKEY_get_raw_public_key(k->pkey, raw, &rawlen) != 1)
			return crypto_fail(CRYPTO_ERROR);
		return buf_append(out, raw, rawlen) < 0 ? CRYPTO_NOMEM :
		    CRYPTO_OK;
	}
	if ((n = i2d_PUBKEY(k->pkey, &der)) <= 0)
		return crypto_fail(CRYPTO_ERROR);
	buf_append(out, der, (size_t)n);
	OPENSSL_free(der);
	return out->failed ? CRYPTO_NOMEM : CRYPTO_OK;
}

/* crypto_key_private_pem - PKCS#8 PEM of a private key */
enum crypto_status
crypto_key_private_pem(const struct crypto_key *k, struct buf *out)
{
	BIO *bio;
	char *p;
	long n;

	if (!k->private)
		return CRYPTO_NOTPRIVATE;
	if ((bio = BIO_new(BIO_s_mem())) == NULL)
		return crypto_fail(CRYPTO_NOMEM);
	if (PEM_write_bio_PrivateKey(bio, k->pkey, NULL, NULL, 0, NULL,
	    NULL) != 1) {
		BIO_free(bio);
		return crypto_fail(CRYPTO_ERROR);
	}
	n = BIO_get_mem_data(bio, &p);
	buf_append(out, p, n > 0 ? (size_t)n : 0);
	BIO_free(bio);
	return out->failed ? CRYPTO_NOMEM : CRYPTO_OK;
}

/* The digests, fetched from the provider once rather than per use. */
static pthread_once_t md_once = PTHREAD_ONCE_INIT;
static EVP_MD *md_sha1, *md_sha256;

/* md_fetch - fetch both digests (NULL: fall back to implicit fetching) */
static void
md_fetch(void)
{
	md_sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
	md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	ERR_clear_error();
}

/* hash_md - the EVP digest of a hash name */
static const EVP_MD *
hash_md(enum crypto_hash h)
{
	pthread_once(&md_once, md_fetch);
	switch (h) {
	case CRYPTO_SHA1:
		return md_sha1 != NULL ? md_sha1 : EVP_sha1();
	case CRYPTO_SHA256:
		return md_sha256 != NULL ? md_sha256 : EVP_sha256();
	}
	return NULL;
}

/* rsa_ctx - a PKCS#1 v1.5 context for sign (1) or verify (0) */
static EVP_PKEY_CTX *
rsa_ctx(const struct crypto_key *k, enum crypto_hash h, int sign)
{
	EVP_PKEY_CTX *ctx;

	if ((ctx = EVP_PKEY_CTX_new(k->pkey, NULL)) == NULL)
		return NULL;
	if ((sign ? EVP_PKEY_sign_init(ctx) : EVP_PKEY_verify_init(ctx)) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_signature_md(ctx, hash_md(h)) != 1) {
		EVP_PKEY_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* crypto_sign_digest - sign a digest (see crypto.h for the schemes) */
enum crypto_status
crypto_sign_digest(const struct crypto_key *k, enum crypto_hash h,
    const unsigned char *digest, size_t dlen, struct buf *sig)
{
	EVP_PKEY_CTX *ctx;
	EVP_MD_CTX *md;
	size_t n = 0;
	int r;

	if (!k->private)
		return CRYPTO_NOTPRIVATE;
	if (hash_md(h) == NULL || dlen != crypto_hash_len(h))
		return CRYPTO_UNSUPPORTED;
	if (k->type == CRYPTO_KEY_RSA) {
		if ((ctx = rsa_ctx(k, h, 1)) == NULL)
			return crypto_fail(CRYPTO_ERROR);
		r = EVP_PKEY_sign(ctx, NULL, &n, digest, dlen) == 1 &&
		    buf_reserve(sig, n) == 0 &&
		    EVP_PKEY_sign(ctx, (unsigned char *)sig->s + sig->len, &n,
		    digest, dlen) == 1;
		EVP_PKEY_CTX_free(ctx);
	} else {
		if ((md = EVP_MD_CTX_new()) == NULL)
			return crypto_fail(CRYPTO_NOMEM);
		r = EVP_DigestSignInit(md, NULL, NULL, NULL, k->pkey) == 1 &&
		    EVP_DigestSign(md, NULL, &n, digest, dlen) == 1 &&
		    buf_reserve(sig, n) == 0 &&
		    EVP_DigestSign(md, (unsigned char *)sig->s + sig->len, &n,
		    digest, dlen) == 1;
		EVP_MD_CTX_free(md);
	}
	if (!r)
		return crypto_fail(sig->failed ? CRYPTO_NOMEM : CRYPTO_ERROR);
	sig->len += n;
	sig->s[sig->len] = '\0';
	return CRYPTO_OK;
}

/* crypto_verify_digest - check a signature over a digest */
enum crypto_status
crypto_verify_digest(const struct crypto_key *k, enum crypto_hash h,
    const unsigned char *digest, size_t dlen, const unsigned char *sig,
    size_t siglen)
{
	EVP_PKEY_CTX *ctx;
	EVP_MD_CTX *md;
	int r;

	if (hash_md(h) == NULL || dlen != crypto_hash_len(h))
		return CRYPTO_UNSUPPORTED;
	if (k->type == CRYPTO_KEY_RSA) {
		if ((ctx = rsa_ctx(k, h, 0)) == NULL)
			return crypto_fail(CRYPTO_ERROR);
		r = EVP_PKEY_verify(ctx, sig, siglen, digest, dlen);
		EVP_PKEY_CTX_free(ctx);
	} else {
		if ((md = EVP_MD_CTX_new()) == NULL)
			return crypto_fail(CRYPTO_NOMEM);
		r = EVP_DigestVerifyInit(md, NULL, NULL, NULL, k->pkey) == 1 ?
		    EVP_DigestVerify(md, sig, siglen, digest, dlen) : -1;
		EVP_MD_CTX_free(md);
	}
	if (r == 1)
		return CRYPTO_OK;
	return crypto_fail(CRYPTO_BADSIG);
}

/* crypto_hash_len - digest size in bytes */
size_t
crypto_hash_len(enum crypto_hash h)
{
	switch (h) {
	case CRYPTO_SHA1:
		return 20;
	case CRYPTO_SHA256:
		return 32;
	}
	return 0;
}

/* crypto_hash_new - start a digest; NULL when out of memory */
struct crypto_hash_ctx *
crypto_hash_new(enum crypto_hash h)
{
	struct crypto_hash_ctx *c;

	if (hash_md(h) == NULL || (c = malloc(sizeof(*c))) == NULL)
		return NULL;
	if ((c->md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(c->md, hash_md(h), NULL) != 1) {
		EVP_MD_CTX_free(c->md);
		free(c);
		crypto_fail(CRYPTO_ERROR);
		return NULL;
	}
	return c;
}

/* crypto_hash_update - feed bytes; 0 or -1 */
int
crypto_hash_update(struct crypto_hash_ctx *c, const void *p, size_t n)
{
	if (n == 0)
		return 0;
	return EVP_DigestUpdate(c->md, p, n) == 1 ? 0 : -1;
}

/* crypto_hash_final - write the digest; 0 or -1 */
int
crypto_hash_final(struct crypto_hash_ctx *c, unsigned char *out)
{
	unsigned int n;

	return EVP_DigestFinal_ex(c->md, out, &n) == 1 ? 0 : -1;
}

/* crypto_hash_free - release a digest context; NULL is fine */
void
crypto_hash_free(struct crypto_hash_ctx *c)
{
	if (c == NULL)
		return;
	EVP_MD_CTX_free(c->md);
	free(c);
}

/* crypto_digest - one-shot digest; 0 or -1 */
int
crypto_digest(enum crypto_hash h, const void *p, size_t n, unsigned char *out)
{
	struct crypto_hash_ctx *c;
	int r;

	if ((c = crypto_hash_new(h)) == NULL)
		return -1;
	r = crypto_hash_update(c, p, n) == 0 && crypto_hash_final(c, out) == 0;
	crypto_hash_free(c);
	return r ? 0 : -1;
}

/* crypto_strerror - name a status */
const char *
crypto_strerror(enum crypto_status st)
{
	switch (st) {
	case CRYPTO_OK:
		return "ok";
	case CRYPTO_BADKEY:
		return "invalid key data";
	case CRYPTO_BADSIG:
		return "signature did not verify";
	case CRYPTO_UNSUPPORTED:
		return "unsupported key type or hash";
	case CRYPTO_NOTPRIVATE:
		return "not a private key";
	case CRYPTO_IO:
		return "cannot read key file";
	case CRYPTO_NOMEM:
		return "out of memory";
	case CRYPTO_ERROR:
		return "cryptographic library error";
	}
	return "unknown crypto status";
}

/*
 * crypto_init - OpenSSL's exit-time cleanup frees only the exiting
 * thread's per-thread state; the random generators of libmilter's pooled
 * worker threads would then be lost (and reported by leak checkers).
 * Leave everything to the end of the process instead.
 */
void
crypto_init(void)
{
	OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL);
}
