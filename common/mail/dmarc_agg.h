/*
 * dmarc_agg.h - DMARC aggregate reports received from other receivers
 *	(RFC 9990, and RFC 7489's appendix C format)
 *
 * A report arrives as XML, gzip'd XML or a zip archive, alone or
 * attached to a mail (nested multipart, base64 or quoted-printable).
 * All of it comes from strangers: the XML goes through xmltok (no DTD,
 * bounded), archives through unpack (bounded output), the MIME walk is
 * bounded in depth and parts, and every field of a report is checked
 * and bounded before it is kept.
 *
 * dmarc_agg_data() and dmarc_agg_mail() hand each report found to a
 * callback, which owns it from then on (dmarc_agg_free()).  A source
 * with any error (a damaged archive, malformed XML, a field out of
 * bounds) gives an error status: the caller decides whether to keep
 * the reports it was given before.
 */
#ifndef COMMON_DMARC_AGG_H
#define COMMON_DMARC_AGG_H

#include <stddef.h>

#include "buf.h"

#define DMARC_AGG_MAX_UNPACKED	((size_t)50 << 20)	/* bytes inflated */
#define DMARC_AGG_MAX_RECORDS	100000	/* <record>s of a report */
#define DMARC_AGG_MAX_AUTH	16	/* <dkim>/<spf> kept per record */
#define DMARC_AGG_MAX_PARTS	64	/* MIME parts of a mail */
#define DMARC_AGG_MAX_NEST	8	/* multipart nesting */
#define DMARC_AGG_MAX_REPORTS	64	/* reports in one source */
#define DMARC_AGG_FIELD		256	/* bytes of a kept text field */

struct dmarc_agg_record {
	char		 source_ip[64];
	long long	 count;
	char		 disposition[16];	/* none, quarantine, reject, pass */
	char		 dkim[16], spf[16];	/* policy evaluated: pass, fail */
	char		 reasons[DMARC_AGG_FIELD];	/* "type comment|..." */
	char		 header_from[DMARC_AGG_FIELD];
	char		 envelope_from[DMARC_AGG_FIELD];
	char		 envelope_to[DMARC_AGG_FIELD];
	struct buf	 dkim_auth;	/* "domain selector result|...", or empty */
	struct buf	 spf_auth;	/* "domain scope result|...", or empty */
};

struct dmarc_agg {
	char		 org_name[DMARC_AGG_FIELD];
	char		 email[DMARC_AGG_FIELD];
	char		 report_id[DMARC_AGG_FIELD];
	long long	 begin, end;
	char		 domain[DMARC_AGG_FIELD];	/* policy published */
	char		 adkim[4], aspf[4], p[16], sp[16], np[16];
	char		 testing[4], discovery[16];
	int		 pct;			/* -1: not given */
	size_t		 nrec, cap;
	struct dmarc_agg_record *rec;
	char		 source[128];		/* file or attachment name */
};

enum dmarc_agg_status {
	DMARC_AGG_OK = 0,
	DMARC_AGG_XML,		/* not well-formed, or past a bound */
	DMARC_AGG_REPORT,	/* XML, but not a valid aggregate report */
	DMARC_AGG_ARCHIVE,	/* a damaged or unsupported gzip or zip */
	DMARC_AGG_TOOBIG,	/* inflates past the bound */
	DMARC_AGG_MIME,		/* a mail that cannot be taken apart */
	DMARC_AGG_NONE,		/* a mail without a report attached */
	DMARC_AGG_NOMEM,
};

/* the callback: a report, now the callee's; non-zero stops the walk */
typedef int (*dmarc_agg_fn)(void *arg, struct dmarc_agg *);

/* dmarc_agg_parse - one report's XML into r (cleared first; freed with
 * dmarc_agg_free() whatever the result); why says what is wrong */
enum dmarc_agg_status dmarc_agg_parse(const char *xml, size_t n,
	    struct dmarc_agg *r, struct buf *why);
/* dmarc_agg_data - a file's content: XML, gzip or zip, told by its
 * first bytes; name names it in messages and in r->source */
enum dmarc_agg_status dmarc_agg_data(const char *data, size_t n,
	    const char *name, size_t max, dmarc_agg_fn, void *arg,
	    struct buf *why);
/* dmarc_agg_mail - a whole message (RFC 5322): each attachment that is
 * XML, gzip or zip, by its type or its file name */
enum dmarc_agg_status dmarc_agg_mail(const char *msg, size_t n,
	    size_t max, dmarc_agg_fn, void *arg, struct buf *why);
void	dmarc_agg_free(struct dmarc_agg *);
const char *dmarc_agg_strerror(enum dmarc_agg_status);

#endif
