/*
 * crypto.h - keys, signatures and digests on OpenSSL 3 (EVP)
 *
 * A struct crypto_key wraps one RSA or Ed25519 key, private or public.
 * It is immutable after it is made, so one key may be used by many
 * threads at once.  The functions that make a key return it through
 * *out; the caller frees it with crypto_key_free().
 *
 * Signatures work on a digest the caller computed (crypto_hash_*):
 *	RSA	PKCS#1 v1.5 over the DigestInfo of the digest (SHA-1 or
 *		SHA-256), i.e. what RSASSA-PKCS1-v1_5 produces for the data
 *		the digest was taken of
 *	Ed25519	PureEdDSA (RFC 8032) with the digest bytes as the message
 *		(RFC 8463 signs the SHA-256 hash this way)
 * Signature and key bytes are appended to a caller's struct buf.
 */
#ifndef COMMON_CRYPTO_H
#define COMMON_CRYPTO_H

#include <stddef.h>

#include "buf.h"

enum crypto_status {
	CRYPTO_OK = 0,
	CRYPTO_BADKEY,		/* key data cannot be parsed */
	CRYPTO_BADSIG,		/* the signature does not verify */
	CRYPTO_UNSUPPORTED,	/* key type or hash not supported */
	CRYPTO_NOTPRIVATE,	/* signing with a public key */
	CRYPTO_IO,		/* a key file cannot be read (errno) */
	CRYPTO_NOMEM,
	CRYPTO_ERROR,		/* any other library failure */
};

enum crypto_keytype {
	CRYPTO_KEY_NONE = 0,
	CRYPTO_KEY_RSA,
	CRYPTO_KEY_ED25519,
};

enum crypto_hash {
	CRYPTO_SHA1 = 1,
	CRYPTO_SHA256,
};

#define CRYPTO_HASH_MAX		32	/* bytes of the longest digest */
#define CRYPTO_ED25519_LEN	32	/* seed and public key bytes */
#define CRYPTO_KEYFILE_MAX	65536	/* a private key file is not larger */

struct crypto_key;
struct crypto_hash_ctx;

/* Private keys: PEM or DER, PKCS#1 or PKCS#8; or an RFC 8032 seed given
 * as 32 raw bytes or as their base64 (one line, as DKIM tools publish) */
enum crypto_status crypto_key_load_private(const void *data, size_t len,
	    struct crypto_key **out);
enum crypto_status crypto_key_load_private_file(const char *path,
	    struct crypto_key **out);
/* crypto_key_load_private_fd - the same from an open file (left open) */
enum crypto_status crypto_key_load_private_fd(int fd, struct crypto_key **out);
enum crypto_status crypto_key_from_ed25519_seed(const unsigned char *seed,
	    struct crypto_key **out);
/* Public keys as DKIM publishes them: RSA SubjectPublicKeyInfo DER (or a
 * bare PKCS#1 RSAPublicKey DER); Ed25519 the raw 32 bytes (or, leniently,
 * a SubjectPublicKeyInfo DER) */
enum crypto_status crypto_key_from_public(enum crypto_keytype,
	    const unsigned char *der, size_t len, struct crypto_key **out);
/* crypto_key_generate - a new key; bits is ignored for Ed25519 */
enum crypto_status crypto_key_generate(enum crypto_keytype, unsigned bits,
	    struct crypto_key **out);
/* crypto_key_ref - another reference to the same key (keys are
 * immutable), released with its own crypto_key_free() */
enum crypto_status crypto_key_ref(struct crypto_key *, struct crypto_key **out);
void	crypto_key_free(struct crypto_key *);

enum crypto_keytype crypto_key_type(const struct crypto_key *);
unsigned crypto_key_bits(const struct crypto_key *);
int	crypto_key_is_private(const struct crypto_key *);
/* crypto_key_public_raw - append the public key in the form above */
enum crypto_status crypto_key_public_raw(const struct crypto_key *,
	    struct buf *out);
/* crypto_key_private_pem - append the private key as PKCS#8 PEM */
enum crypto_status crypto_key_private_pem(const struct crypto_key *,
	    struct buf *out);

enum crypto_status crypto_sign_digest(const struct crypto_key *,
	    enum crypto_hash, const unsigned char *digest, size_t dlen,
	    struct buf *sig);
enum crypto_status crypto_verify_digest(const struct crypto_key *,
	    enum crypto_hash, const unsigned char *digest, size_t dlen,
	    const unsigned char *sig, size_t siglen);

/* Streaming digests: new, update any number of times, final once */
size_t	crypto_hash_len(enum crypto_hash);
struct crypto_hash_ctx *crypto_hash_new(enum crypto_hash);
int	crypto_hash_update(struct crypto_hash_ctx *, const void *, size_t);
/* crypto_hash_final - write the digest (crypto_hash_len bytes) to out */
int	crypto_hash_final(struct crypto_hash_ctx *, unsigned char *out);
void	crypto_hash_free(struct crypto_hash_ctx *);
/* crypto_digest - one-shot digest of data; 0 or -1 */
int	crypto_digest(enum crypto_hash, const void *, size_t,
	    unsigned char *out);

const char *crypto_strerror(enum crypto_status);
/* crypto_init - call once before threads start (daemons do it) */
void	crypto_init(void);

#endif
