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

struct dkim_sig_result {
	enum dkim_result result;
	char	reason[96];		/* short, human: "body hash did not
					   verify" ("" on pass) */
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
 * body stages in one call (eom is still the caller's) */
enum dkim_status dkim_verify_message(struct dkim_verify *, const char *,
	    size_t);
enum dkim_status dkim_sign_message(struct dkim_sign *, const char *, size_t);
/* dkim_message_field - the next raw header field (folding kept, final
 * line break dropped); 0 at the end of the header, and *pos is then the
 * offset of the body */
int	dkim_message_field(const char *msg, size_t len, size_t *pos,
	    const char **field, size_t *flen);

const char *dkim_result_name(enum dkim_result);
const char *dkim_strerror(enum dkim_status);

#endif
