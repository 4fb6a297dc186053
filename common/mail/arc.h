/*
 * arc.h - Authenticated Received Chain (RFC 8617): validation and sealing
 *
 * One context per message serves both directions and follows the milter
 * stages, so a test feeds a message file without libmilter:
 *	_header	one whole raw header field "Name: value", folding included,
 *		without the final line break
 *	_eoh	end of the header
 *	_body	raw body chunks of any size
 *	_eom	end of message: the chain is validated
 * then arc_seal() makes the next ARC set for the same message.  The
 * context owns everything allocated for the message; arc_free releases
 * it.  Out of memory is sticky: stages return ARC_NOMEM.
 *
 * It is built on the DKIM engine: canonicalization and the header list
 * (canon.h), tag=value lists (tagvalue.h), key records and the key
 * lookup callback (dkim.h), signatures and digests (crypto.h).
 *
 * Work is bounded: at most ARC_MAX_FIELDS ARC header fields are parsed
 * (more make the chain fail), two body hashes are kept whatever the
 * chain, each header field is canonicalized once, and each distinct key
 * is looked up once per message.
 */
#ifndef COMMON_ARC_H
#define COMMON_ARC_H

#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "canon.h"
#include "crypto.h"
#include "dkim.h"

#define ARC_MAX_SETS		50	/* RFC 8617 4.2.1: i=1..50 */
#define ARC_MAX_FIELDS		(3 * ARC_MAX_SETS)
#define ARC_MAX_KEYS		16	/* distinct keys looked up per message:
					   beyond, older AMS count as failing
					   for oldest-pass, and a seal fails */

#define ARC_SEAL_HEADER		"ARC-Seal"
#define ARC_AMS_HEADER		"ARC-Message-Signature"
#define ARC_AAR_HEADER		"ARC-Authentication-Results"

enum arc_status {
	ARC_OK = 0,
	ARC_NOMEM,		/* out of memory (sticky) */
	ARC_BADSTAGE,		/* a stage called out of order */
	ARC_BADOPTS,		/* sealing options unusable (no key, d=...) */
	ARC_CRYPTO,		/* the signing operation failed */
};

/* the chain validation status: cv= values and the arc= result */
enum arc_chain {
	ARC_CHAIN_NONE = 0,
	ARC_CHAIN_PASS,
	ARC_CHAIN_FAIL,
};

struct arc_opts {
	unsigned	min_key_bits;	/* RSA keys below fail (0: 1024) */
};
#define ARC_OPTS_INIT { 0 }

struct arc;

/* arc_new - NULL when out of memory; opts may be NULL */
struct arc *arc_new(const struct arc_opts *, dkim_key_fn lookup, void *arg);
enum arc_status arc_header(struct arc *, const char *field, size_t len);
enum arc_status arc_eoh(struct arc *);
enum arc_status arc_body(struct arc *, const unsigned char *, size_t);
/* arc_eom - validate the chain (RFC 8617 5.2) */
enum arc_status arc_eom(struct arc *);
/* arc_message - header, eoh and body stages from a message in memory */
enum arc_status arc_message(struct arc *, const char *, size_t);

/* Results, valid after arc_eom */
enum arc_chain arc_result(const struct arc *);
/* arc_reason - why the chain failed ("" otherwise); owned by the context */
const char *arc_reason(const struct arc *);
/* arc_sets - the number of ARC sets found (the highest valid instance) */
unsigned arc_sets(const struct arc *);
/* arc_oldest_pass - RFC 8617 5.2 step 5 on a passing chain of two or
 * more sets: 0 when every AMS validates, else the lowest instance from
 * which on they all do; -1 when it does not apply */
int	arc_oldest_pass(const struct arc *);
/* arc_tempfail - 1 when a key lookup failed temporarily (the result is
 * fail, but another try may pass) */
int	arc_tempfail(const struct arc *);
/* arc_domains - "d1:d2:..." the AS d= of each set, oldest first */
int	arc_domains(const struct arc *, struct buf *out);
const char *arc_chain_name(enum arc_chain);
const char *arc_strerror(enum arc_status);

/* ---- sealing (arc_seal.c) ---- */

struct arc_seal_opts {
	const struct crypto_key *key;	/* borrowed; RSA or Ed25519 */
	const char	*domain;	/* d= */
	const char	*selector;	/* s= */
	const char	*authserv_id;	/* the AAR's and the A-R fields' id */
	enum canon_alg	 hcanon, bcanon;	/* the AMS c= */
	const char *const *headers;	/* names to sign, NULL-terminated;
					   NULL: dkim_sign_default_headers;
					   From is always signed, ARC-Seal
					   and Authentication-Results never */
	const char *const *oversign;	/* signed once more than present */
	time_t		 now;		/* t=; 0: the clock */
	unsigned long	 expire;	/* AMS x= = t= + expire; 0: none */
	int		 this_hop;	/* the AAR takes only the A-R fields
					   above the topmost Received field,
					   if any: those of this hop */
	int		 sorted_tags;	/* the AMS and AS tags all in
					   alphabetical order, as the public
					   signing suite has them; 0: i=
					   first, as RFC 8617's syntax and
					   every current validator expect */
};

/* The new set: field values (no name, folded with CRLF TAB) */
struct arc_set {
	unsigned	instance;
	enum arc_chain	cv;
	struct buf	aar, ams, as;
};

enum arc_seal_status {
	ARC_SEAL_OK = 0,	/* set holds the new ARC set */
	ARC_SEAL_SKIP,		/* nothing to add: *why says why */
	ARC_SEAL_ERROR,		/* out of memory, bad options, crypto */
};

/* arc_seal - after arc_eom: the next ARC set.  cv is the chain status to
 * record (normally arc_result()); the AAR collects the results of every
 * Authentication-Results field of the message under authserv_id, with
 * own (e.g. "arc=pass smtp.remote-ip=192.0.2.1", or NULL) first, in
 * which case their own arc= results are left out.  A chain that arrived
 * with cv=fail, or that has ARC_MAX_SETS sets, gets nothing.  Free the
 * set with arc_set_free. */
enum arc_seal_status arc_seal(struct arc *, const struct arc_seal_opts *,
	    enum arc_chain cv, const char *own, struct arc_set *set,
	    const char **why);
void	arc_set_free(struct arc_set *);
void	arc_free(struct arc *);

/* ---- header field parsing (arc_parse.c), for the above and the tests ---- */

enum arc_kind { ARC_KIND_AAR = 0, ARC_KIND_AMS, ARC_KIND_AS, ARC_KIND_NONE };

/* arc_kind - which ARC field a name is (len: the name's length) */
enum arc_kind arc_kind(const char *name, size_t len);
/* arc_instance - the i= of an AAR value ("i=N;" first) or of an AMS or
 * AS tag list: 1..ARC_MAX_SETS, 0 when absent or malformed, and
 * ARC_MAX_SETS + 1 when larger */
unsigned arc_instance(enum arc_kind, const char *value, size_t len);
/* arc_domain_ok - a d= or s= value: letters, digits, "-", "_", dots */
int	arc_domain_ok(const char *, size_t);

#endif
