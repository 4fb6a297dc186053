/*
 * dmarc.h - DMARC (RFC 7489, and DMARCbis: RFC 9989) without the milter
 *
 * Four parts, one file each:
 *	dmarc_record.c	a "v=DMARC1" policy record into a struct dmarc_record
 *	dmarc_discover.c	policy discovery and the Organizational Domain:
 *			the DNS Tree Walk of RFC 9989 (DMARC_MODE_BIS,
 *			the default) or RFC 7489's public suffix list
 *			(DMARC_MODE_7489, through libpsl)
 *	dmarc_from.c	the RFC5322.From domain(s) of a message's From
 *			fields, IDNs as A-labels
 *	dmarc_eval.c	identifier alignment and the evaluation: a result
 *			(pass, fail, none, temperror, permerror) and a
 *			disposition
 *
 * Everything works on caller-owned structs and a shared struct
 * dns_resolver: the functions are thread-safe.  Strings inside a struct
 * dmarc_record are malloc'd (dmarc_record_clear() frees them); the other
 * structs hold fixed arrays and need no freeing.  Out of memory is a
 * status (DMARC_REC_NOMEM, DMARC_FROM_NOMEM) or a temperror, never fatal.
 */
#ifndef COMMON_DMARC_H
#define COMMON_DMARC_H

#include <stddef.h>

#include "buf.h"
#include "dns.h"

#define DMARC_NAME_MAX		253	/* octets of a domain name */
#define DMARC_MAX_QUERIES	8	/* RFC 9989: queries in one tree walk */
#define DMARC_WALK_SKIP		7	/* ... a longer name jumps to this
					   many labels after the first query */
#define DMARC_RECORD_MAX	4096	/* longer TXT data is not a record */
#define DMARC_FROM_MAX		8	/* distinct From domains kept */
#define DMARC_PREFIX		"_dmarc."

enum dmarc_mode {
	DMARC_MODE_BIS = 0,	/* RFC 9989: tree walk, psd=, np=, t= */
	DMARC_MODE_7489,	/* RFC 7489: public suffix list, pct= */
};

enum dmarc_policy {
	DMARC_P_UNSPEC = 0,	/* tag absent (or invalid, then ignored) */
	DMARC_P_NONE,
	DMARC_P_QUARANTINE,
	DMARC_P_REJECT,
};

enum dmarc_align {
	DMARC_ALIGN_RELAXED = 0,
	DMARC_ALIGN_STRICT,
};

enum dmarc_psd {
	DMARC_PSD_U = 0,	/* absent or psd=u */
	DMARC_PSD_Y,
	DMARC_PSD_N,
};

/* fo= options */
#define DMARC_FO_0	0x1
#define DMARC_FO_1	0x2
#define DMARC_FO_D	0x4
#define DMARC_FO_S	0x8

/* ---- records (dmarc_record.c) ---- */

struct dmarc_record {
	enum dmarc_policy p, sp, np;
	int		 p_default;	/* p was absent or invalid: none */
	enum dmarc_align adkim, aspf;
	int		 testing;	/* t=y (DMARCbis) */
	unsigned	 fo;		/* DMARC_FO_* (default 0) */
	enum dmarc_psd	 psd;
	int		 pct;		/* RFC 7489 mode only; 100 otherwise */
	unsigned long	 ri;		/* RFC 7489 mode only; 86400 */
	int		 rf_afrf;	/* rf= includes afrf (default yes) */
	char		*rua, *ruf;	/* as written, or NULL */
	unsigned	 ignored;	/* tags with a bad value, ignored */
};

enum dmarc_rec_status {
	DMARC_REC_OK = 0,
	DMARC_REC_NOTDMARC,	/* does not start with v=DMARC1 */
	DMARC_REC_SYNTAX,	/* a DMARC record, but not a tag list */
	DMARC_REC_NOPOLICY,	/* RFC 7489: no valid p= and no valid rua */
	DMARC_REC_NOMEM,
};

/* dmarc_record_is_dmarc - 1 when text starts with "v=DMARC1" as a tag */
int	dmarc_record_is_dmarc(const char *text, size_t len);
/* dmarc_record_parse - parse one record; on DMARC_REC_OK *rec is set and
 * must be cleared; why (may be NULL) gets what was wrong or ignored */
enum dmarc_rec_status dmarc_record_parse(const char *text, size_t len,
	    enum dmarc_mode, struct dmarc_record *rec, struct buf *why);
void	dmarc_record_clear(struct dmarc_record *);
const char *dmarc_rec_strerror(enum dmarc_rec_status);
const char *dmarc_policy_name(enum dmarc_policy);

/* ---- discovery (dmarc_discover.c) ---- */

/* A trace of each DNS question asked, for "explain" and the logs. */
typedef void (*dmarc_trace_fn)(void *arg, const char *qname,
	    enum dns_status st, unsigned nrecords, const char *note);

struct dmarc_opts {
	enum dmarc_mode	 mode;
	const void	*psl;		/* psl_ctx_t for DMARC_MODE_7489; NULL:
					   libpsl's built-in list */
	dmarc_trace_fn	 trace;		/* may be NULL */
	void		*trace_arg;
};

enum dmarc_disc {
	DMARC_DISC_FOUND = 0,	/* a usable record */
	DMARC_DISC_NONE,	/* no record applies */
	DMARC_DISC_TEMPERROR,	/* a DNS error stopped the search */
	DMARC_DISC_BADNAME,	/* the domain is not a valid name */
	DMARC_DISC_NOMEM,
};

struct dmarc_found {
	char		 domain[DMARC_NAME_MAX + 1];	/* where it was found */
	char		 author[DMARC_NAME_MAX + 1];	/* the From domain */
	int		 at_author;	/* the record is the author domain's */
	int		 nonexistent;	/* the author domain does not exist
					   (asked only when it matters) */
	unsigned	 queries;	/* DNS questions for _dmarc names */
	struct dmarc_record rec;	/* valid on DMARC_DISC_FOUND */
};

/* dmarc_discover - the policy record that applies to the author domain;
 * clear out->rec (dmarc_found_clear) whatever the status */
enum dmarc_disc dmarc_discover(struct dns_resolver *, const struct dmarc_opts *,
	    const char *author, struct dmarc_found *out);
void	dmarc_found_clear(struct dmarc_found *);
/* dmarc_org_domain - the Organizational Domain of a name into org (at
 * least DMARC_NAME_MAX + 1 bytes) */
enum dmarc_disc dmarc_org_domain(struct dns_resolver *,
	    const struct dmarc_opts *, const char *domain, char *org);
/* dmarc_walk_names - the names a tree walk from domain asks about, in
 * order (suffixes of domain, pointers into it): the domain, then, for
 * a name of more than DMARC_WALK_SKIP labels, its last DMARC_WALK_SKIP
 * labels, then one label fewer each time down to one; their number */
size_t	dmarc_walk_names(const char *domain,
	    const char *names[DMARC_MAX_QUERIES]);
const char *dmarc_disc_strerror(enum dmarc_disc);
/* dmarc_report_allowed - may reports about domain go to an address at
 * rdomain?  1 when both have one Organizational Domain, or rdomain
 * publishes DOMAIN._report._dmarc.RDOMAIN with v=DMARC1 (RFC 9990
 * section 3.3, RFC 9991); 0 otherwise (a DNS failure too) */
int	dmarc_report_allowed(struct dns_resolver *, const struct dmarc_opts *,
	    const char *domain, const char *rdomain);

/* ---- From (dmarc_from.c) ---- */

enum dmarc_from_status {
	DMARC_FROM_OK = 0,	/* one domain (perhaps several addresses) */
	DMARC_FROM_NONE,	/* no From field */
	DMARC_FROM_FIELDS,	/* several From fields */
	DMARC_FROM_DOMAINS,	/* several addresses, several domains */
	DMARC_FROM_SYNTAX,	/* unparseable, or an address without a
				   domain, or an empty list */
	DMARC_FROM_BADDOMAIN,	/* not a valid domain, or IDNA failed */
	DMARC_FROM_NOMEM,
};

struct dmarc_from {
	unsigned	 nfields;	/* From fields seen */
	enum dmarc_from_status status;	/* the first failure, or OK */
	size_t		 ndomains;	/* distinct domains of all fields */
	char		 domain[DMARC_FROM_MAX][DMARC_NAME_MAX + 1];
};

/* dmarc_from_init, dmarc_from_field, dmarc_from_status - feed every From
 * field's value (folding kept), then ask; domain[0] is the domain when
 * DMARC_FROM_OK, domain[] every distinct domain of all the fields with
 * DMARC_FROM_DOMAINS and DMARC_FROM_FIELDS */
void	dmarc_from_init(struct dmarc_from *);
void	dmarc_from_field(struct dmarc_from *, const char *value, size_t len);
enum dmarc_from_status dmarc_from_result(const struct dmarc_from *);
/* dmarc_domain_alabel - a domain lowercased with U-labels as A-labels
 * into out (DMARC_NAME_MAX + 1 bytes); -1 when not a valid name */
int	dmarc_domain_alabel(const char *in, char *out);
const char *dmarc_from_strerror(enum dmarc_from_status);

/* ---- evaluation (dmarc_eval.c) ---- */

enum dmarc_result {
	DMARC_RES_NONE = 0,
	DMARC_RES_PASS,
	DMARC_RES_FAIL,
	DMARC_RES_TEMPERROR,
	DMARC_RES_PERMERROR,
};

/* RFC 8601 results of the inputs, as A-R writes them */
enum dmarc_auth {
	DMARC_AUTH_NONE = 0,
	DMARC_AUTH_PASS,
	DMARC_AUTH_FAIL,
	DMARC_AUTH_SOFTFAIL,
	DMARC_AUTH_NEUTRAL,
	DMARC_AUTH_POLICY,
	DMARC_AUTH_TEMPERROR,
	DMARC_AUTH_PERMERROR,
};

enum dmarc_dis {
	DMARC_DIS_NONE = 0,	/* deliver */
	DMARC_DIS_PASS,		/* RFC 9990: passed, delivered */
	DMARC_DIS_QUARANTINE,
	DMARC_DIS_REJECT,
};

#define DMARC_MAX_DKIM	16	/* signature results considered */

struct dmarc_dkim_in {
	const char	*domain;	/* d= */
	const char	*selector;	/* s=, may be NULL */
	enum dmarc_auth	 result;
};

struct dmarc_input {
	const char	*from;		/* RFC5322.From domain, A-labels */
	const struct dmarc_dkim_in *dkim;
	size_t		 ndkim;
	const char	*spf_domain;	/* MAIL FROM domain (HELO for <>) */
	enum dmarc_auth	 spf;
	int		 spf_helo;	/* spf_domain is the HELO identity */
	unsigned	 sample;	/* 0..99, against pct (RFC 7489) */
};

struct dmarc_eval {
	enum dmarc_result result;
	enum dmarc_policy policy;	/* p, sp or np, whichever applies */
	enum dmarc_dis	 dis;		/* what the domain asks, after t=/pct */
	int		 dkim_aligned;	/* index+1 of the aligned passing
					   signature, 0 none */
	int		 spf_aligned;
	int		 sampled_out;	/* t=y or outside pct: one step
					   milder */
	char		 org[DMARC_NAME_MAX + 1];	/* the From's */
	char		 reason[128];	/* why, for logs and A-R comments */
	struct dmarc_found found;
};

/* dmarc_aligned - 1 when the two domains are aligned in that mode, 0
 * not, -1 temperror (an Organizational Domain could not be found) */
int	dmarc_aligned(struct dns_resolver *, const struct dmarc_opts *,
	    const char *from, const char *other, enum dmarc_align);
/* dmarc_evaluate - discovery, alignment and disposition; clear out with
 * dmarc_eval_clear() */
enum dmarc_result dmarc_evaluate(struct dns_resolver *,
	    const struct dmarc_opts *, const struct dmarc_input *,
	    struct dmarc_eval *out);
void	dmarc_eval_clear(struct dmarc_eval *);
const char *dmarc_result_name(enum dmarc_result);
const char *dmarc_dis_name(enum dmarc_dis);
/* dmarc_auth_parse - an RFC 8601 result word (no case); -1 if unknown */
int	dmarc_auth_parse(const char *);
const char *dmarc_auth_name(enum dmarc_auth);

#endif
