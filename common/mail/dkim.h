/*
 * dkim.h - DKIM signing and verifying (RFC 6376, RFC 8463, RFC 8301)
 *
 * Both directions follow the milter stages, so a test feeds a message
 * file without libmilter:
 *	_header	one whole raw header field "Name: value", folding included,
 *		without the final line break (bare LF inside counts as CRLF)
 *	_eoh	end of the header
 *	_body	raw body chunks of any size, CRLF or bare LF line ends
 *	_eom	end of message: verify, or produce the signature
 * The context returned by _new owns everything allocated for the message;
 * _free releases it (at eom, abort or close).  Out of memory is sticky:
 * stages return DKIM_NOMEM and eom gives no results/no signature.
 * Contexts are per message; keys and options may be shared by threads.
 */
#ifndef COMMON_DKIM_H
#define COMMON_DKIM_H

#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "canon.h"
#include "crypto.h"
#include "dns.h"

#define DKIM_SIGNATURE_HEADER	"DKIM-Signature"
#define DKIM_MAX_SIGS_DEFAULT	10
#define DKIM_MIN_KEY_BITS	1024
#define DKIM_CLOCK_DRIFT	300
#define DKIM_MAX_H		512	/* header names in one h= */
#define DKIM_KEY_RECORD_MAX	8192	/* bytes of one key TXT record */

enum dkim_status {
	DKIM_OK = 0,
	DKIM_NOMEM,		/* out of memory (sticky) */
	DKIM_BADSTAGE,		/* a stage called out of order */
	DKIM_BADOPTS,		/* bad signing options (no key, no d=...) */
	DKIM_CRYPTO,		/* the signing operation failed */
	DKIM_TOOBIG,		/* a header over CANON_HDRS_MAX_FIELDS or
				   CANON_HDRS_MAX_BYTES (signing) */
};

/* RFC 8601 dkim= result values */
enum dkim_result {
	DKIM_RESULT_NONE = 0,
	DKIM_RESULT_PASS,
	DKIM_RESULT_FAIL,
	DKIM_RESULT_NEUTRAL,
	DKIM_RESULT_POLICY,
	DKIM_RESULT_TEMPERROR,
	DKIM_RESULT_PERMERROR,
};

/* key lookup: the daemon wires it to DNS, tests to a file */
enum dkim_key_status {
	DKIM_KEY_OK = 0,	/* *record holds the TXT strings joined */
	DKIM_KEY_NOTFOUND,	/* NXDOMAIN or no TXT record */
	DKIM_KEY_TEMPFAIL,	/* try again later */
	DKIM_KEY_PERMFAIL,	/* e.g. several TXT records */
};
typedef enum dkim_key_status (*dkim_key_fn)(void *arg, const char *qname,
	    struct buf *record, int *secure);

/* ---- key records (dkim_key.c) ---- */

/* dkim_key_dns - the TXT record at qname through resolver r, as a
 * dkim_key_fn gives it; *why is the DNS status (for a log line on
 * DKIM_KEY_TEMPFAIL) */
enum dkim_key_status dkim_key_dns(struct dns_resolver *r, const char *qname,
	    struct buf *record, int *secure, enum dns_status *why);

enum dkim_key_error {
	DKIM_KEYREC_OK = 0,
	DKIM_KEYREC_SYNTAX,	/* not a tag list */
	DKIM_KEYREC_VERSION,	/* v= present but not first or not DKIM1 */
	DKIM_KEYREC_KEYTYPE,	/* unknown k= */
	DKIM_KEYREC_NOKEY,	/* p= missing */
	DKIM_KEYREC_REVOKED,	/* p= empty */
	DKIM_KEYREC_BADKEY,	/* p= does not decode to a key of type k= */
	DKIM_KEYREC_SERVICE,	/* s= does not include "*" or "email" */
	DKIM_KEYREC_NOMEM,
};

#define DKIM_KEYHASH_SHA1	0x1
#define DKIM_KEYHASH_SHA256	0x2

struct dkim_key {
	enum crypto_keytype	 type;
	unsigned		 hashes;	/* DKIM_KEYHASH_* allowed (h=) */
	int			 testing;	/* t=y */
	int			 strict;	/* t=s: i= domain must equal d= */
	struct crypto_key	*pk;		/* owned; NULL unless OK */
};

/* dkim_key_parse - a key record into *key (free with dkim_key_clear) */
enum dkim_key_error dkim_key_parse(const char *rec, size_t len,
	    struct dkim_key *key);
void	dkim_key_clear(struct dkim_key *);
const char *dkim_key_strerror(enum dkim_key_error);
/* dkim_key_record - append "v=DKIM1; k=...; p=..." for a key */
int	dkim_key_record(const struct crypto_key *, struct buf *out);

/* ---- verifying (dkim_verify.c) ---- */

struct dkim_verify_opts {
	unsigned	max_sigs;	/* signatures checked (0: 10) */
	int		allow_sha1;	/* accept rsa-sha1 (RFC 8301: no) */
	unsigned	min_key_bits;	/* RSA keys below fail (0: 1024) */
	long		clock_drift;	/* seconds of t=/x= leeway (<0: 300) */
	time_t		now;		/* 0: the clock */
	long long	max_unsigned;	/* l=: body bytes beyond l= that are
					   tolerated; -1 any (report only) */
};
#define DKIM_VERIFY_OPTS_INIT { 0, 0, 0, -1, 0, -1 }

/*
 * Why a signature did not pass.  Programs decide on these values (key
 * not found, DNS trouble, bad signature, body hash mismatch, syntax...);
 * dkim_reason_str() gives the short text for logs and
 * Authentication-Results, dkim_sig_reason() the same with the figures
 * of the result ("key too short (512 bits)").
 */
enum dkim_reason {
	DKIM_REASON_NONE = 0,		/* pass: no reason */
	/* the DKIM-Signature field (permerror) */
	DKIM_REASON_SYNTAX,		/* not a tag list */
	DKIM_REASON_DUPLICATE_TAG,
	DKIM_REASON_TOO_MANY_TAGS,	/* over TAGVALUE_MAX_TAGS */
	DKIM_REASON_MISSING_V,
	DKIM_REASON_MISSING_A,
	DKIM_REASON_MISSING_B,
	DKIM_REASON_MISSING_BH,
	DKIM_REASON_MISSING_D,
	DKIM_REASON_MISSING_H,
	DKIM_REASON_MISSING_S,
	DKIM_REASON_VERSION,		/* v= is not 1 */
	DKIM_REASON_ALGORITHM,		/* unknown a= */
	DKIM_REASON_CANON,		/* unknown c= */
	DKIM_REASON_QUERY,		/* q= without dns/txt */
	DKIM_REASON_BAD_D,
	DKIM_REASON_BAD_S,
	DKIM_REASON_I_NOT_IN_D,
	DKIM_REASON_BAD_H,		/* an empty name in h= */
	DKIM_REASON_TOO_MANY_H,		/* over DKIM_MAX_H names */
	DKIM_REASON_FROM_UNSIGNED,	/* h= lacks From */
	DKIM_REASON_BAD_L,
	DKIM_REASON_BAD_T,
	DKIM_REASON_BAD_X,
	DKIM_REASON_X_BEFORE_T,
	DKIM_REASON_X_EQUALS_T,
	DKIM_REASON_FUTURE,		/* t= after now + drift */
	DKIM_REASON_EXPIRED,		/* x= before now - drift */
	DKIM_REASON_BAD_BH,		/* bh= is not base64 */
	DKIM_REASON_BAD_B,		/* b= is not base64 */
	DKIM_REASON_EMPTY_B,
	DKIM_REASON_HEADER_TOO_LARGE,	/* a header limit lost fields */
	/* the key */
	DKIM_REASON_KEY_NOTFOUND,	/* NXDOMAIN or no TXT (permerror) */
	DKIM_REASON_KEY_TEMPFAIL,	/* DNS trouble (temperror) */
	DKIM_REASON_KEY_PERMFAIL,	/* e.g. several TXT records */
	DKIM_REASON_KEY_SYNTAX,		/* the DKIM_KEYREC_* errors */
	DKIM_REASON_KEY_VERSION,
	DKIM_REASON_KEY_TYPE,
	DKIM_REASON_KEY_NO_P,
	DKIM_REASON_KEY_REVOKED,
	DKIM_REASON_KEY_BAD_P,
	DKIM_REASON_KEY_SERVICE,
	DKIM_REASON_KEY_MISMATCH,	/* key type is not a='s */
	DKIM_REASON_KEY_HASH,		/* h= of the key refuses the hash */
	DKIM_REASON_KEY_STRICT,		/* t=s and i= below d= */
	DKIM_REASON_KEY_TOO_SHORT,	/* under min_key_bits (policy) */
	/* the check itself */
	DKIM_REASON_SHA1,		/* rsa-sha1 not allowed (fail) */
	DKIM_REASON_BODY_SHORT,		/* body shorter than l= (fail) */
	DKIM_REASON_BODY_HASH,		/* body hash mismatch (fail) */
	DKIM_REASON_SIGNATURE,		/* the signature is wrong (fail) */
	DKIM_REASON_UNSIGNED_BYTES,	/* l= leaves too much (policy) */
	DKIM_REASON_NOMEM,		/* out of memory (temperror) */
	DKIM_REASON_MAX
};

struct dkim_sig_result {
	enum dkim_result result;
	enum dkim_reason reason;	/* DKIM_REASON_NONE on pass */
	char	d[256], s[256], a[32];
	char	i[384];			/* "" when no i= (then @d applies) */
	char	b[16];			/* first 15 characters of b= */
	int	has_l;			/* l= was present */
	unsigned long long body_signed;	/* canonical body bytes covered */
	unsigned long long body_total;	/* canonical body length */
	unsigned key_bits;		/* 0 when no key was obtained */
	int	testing;		/* the key says t=y */
	int	secure;			/* the key lookup was DNSSEC-secure */
};

struct dkim_verify;

/* dkim_verify_new - NULL when out of memory; opts may be NULL */
struct dkim_verify *dkim_verify_new(const struct dkim_verify_opts *,
	    dkim_key_fn lookup, void *arg);
enum dkim_status dkim_verify_header(struct dkim_verify *, const char *field,
	    size_t len);
enum dkim_status dkim_verify_eoh(struct dkim_verify *);
enum dkim_status dkim_verify_body(struct dkim_verify *,
	    const unsigned char *, size_t);
enum dkim_status dkim_verify_eom(struct dkim_verify *);
/* dkim_verify_count - signatures checked (at most max_sigs) */
size_t	dkim_verify_count(const struct dkim_verify *);
/* dkim_verify_skipped - DKIM-Signature fields beyond max_sigs */
size_t	dkim_verify_skipped(const struct dkim_verify *);
/* dkim_verify_result - result n (< count); owned by the context */
const struct dkim_sig_result *dkim_verify_result(const struct dkim_verify *,
	    size_t n);
void	dkim_verify_free(struct dkim_verify *);

/* ---- signing (dkim_sign.c) ---- */

struct dkim_sign_opts {
	const struct crypto_key *key;	/* borrowed; RSA or Ed25519 */
	const char	*domain;	/* d= */
	const char	*selector;	/* s= */
	const char	*identity;	/* i=, NULL for none */
	enum canon_alg	 hcanon, bcanon;	/* c= */
	const char *const *headers;	/* names to sign, NULL-terminated;
					   NULL: dkim_sign_default_headers */
	const char *const *oversign;	/* signed once more than present */
	const char *const *omit;	/* never signed */
	unsigned long	 expire;	/* x= = t= + expire; 0: no x= */
	int		 body_length;	/* add l= */
	int		 no_timestamp;	/* leave out t= */
	time_t		 now;		/* 0: the clock */
	int		 query_tag;	/* add q=dns/txt */
	int		 spaced_h;	/* h=a : b (as RFC examples print) */
};

extern const char *const dkim_sign_default_headers[];

struct dkim_sign;

/* dkim_sign_new - NULL on bad options or out of memory */
struct dkim_sign *dkim_sign_new(const struct dkim_sign_opts *);
enum dkim_status dkim_sign_header(struct dkim_sign *, const char *field,
	    size_t len);
enum dkim_status dkim_sign_eoh(struct dkim_sign *);
enum dkim_status dkim_sign_body(struct dkim_sign *,
	    const unsigned char *, size_t);
/* dkim_sign_eom - append the header field value (no name, no final
 * CRLF, folded with CRLF TAB) to out */
enum dkim_status dkim_sign_eom(struct dkim_sign *, struct buf *out);
/* dkim_sign_header_name - "DKIM-Signature" */
const char *dkim_sign_header_name(void);
void	dkim_sign_free(struct dkim_sign *);

/* For tools and tests, a whole message in memory: the header, eoh and
 * body stages in one call (eom is still the caller's); the header is
 * split by rfc5322_next_field() */
enum dkim_status dkim_verify_message(struct dkim_verify *, const char *,
	    size_t);
enum dkim_status dkim_sign_message(struct dkim_sign *, const char *, size_t);

const char *dkim_result_name(enum dkim_result);
/* dkim_reason_str - short, human: "body hash did not verify" ("" for
 * DKIM_REASON_NONE) */
const char *dkim_reason_str(enum dkim_reason);
/* dkim_sig_reason - append the reason of a result with its figures
 * ("key too short (512 bits)", "l= leaves 14 bytes unsigned") */
void	dkim_sig_reason(const struct dkim_sig_result *, struct buf *out);
const char *dkim_strerror(enum dkim_status);

#endif
