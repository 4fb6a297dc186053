/*
 * NAME
 *	dmarc_discover - DMARC policy discovery and Organizational Domains
 * SYNOPSIS
 *	#include "dmarc.h"
 * DESCRIPTION
 *	dmarc_discover() finds the policy record that applies to an author
 *	(RFC5322.From) domain; dmarc_org_domain() finds a name's
 *	Organizational Domain.  Each question is a TXT query for
 *	"_dmarc." + name.  At one name, answers that do not start with
 *	v=DMARC1 are discarded; when several DMARC records remain they are
 *	all discarded; a record that does not parse is ignored like an
 *	absent one.
 *
 *	DMARC_MODE_BIS (RFC 9989 section 4.10, the DNS Tree Walk): the
 *	names asked are the author domain, then (for a name of eight
 *	labels or more) its last seven labels, then one label fewer each
 *	time down to the top-level domain: at most eight queries.
 *	Policy discovery stops at the first usable record.  The
 *	Organizational Domain walk goes on: it stops at a record with
 *	psd=n (that name is the Organizational Domain) or psd=y (the name
 *	one label below it is; at the starting name, the starting name
 *	is); otherwise the record found with the fewest labels names it;
 *	with no record at all, the name is its own.
 *
 *	DMARC_MODE_7489 (RFC 7489 section 6.6.3): the author domain, then
 *	its Organizational Domain from the public suffix list (libpsl)
 *	when it differs.  Several DMARC records at the author domain end
 *	the search there (step 4), no record is used.
 *
 *	When the record found is not the author domain's and it has np=,
 *	the author domain is tested for existence (NXDOMAIN or NODATA for
 *	A, AAAA and MX: RFC 9989's non-existent domain).
 *
 *	A DNS failure (SERVFAIL, timeout) stops either search with
 *	DMARC_DISC_TEMPERROR: guessing past it could pick a parent's
 *	weaker policy.  NXDOMAIN and NODATA are "no record".
 * SEE ALSO
 *	RFC 9989 section 4.10, RFC 7489 section 3.2 and 6.6.3, RFC 9091.
 */
#include <libpsl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dmarc.h"

/* What one question found. */
enum ask_status {
	ASK_FOUND,		/* exactly one valid record */
	ASK_NONE,		/* no DMARC record (or one that is invalid) */
	ASK_MULTIPLE,		/* several DMARC records: all discarded */
	ASK_TEMPERROR,
	ASK_NOMEM,
};

/* labels - the number of labels of a name */
static unsigned
labels(const char *s)
{
	unsigned n = *s != '\0';

	for (; *s != '\0'; s++)
		if (*s == '.')
			n++;
	return n;
}

/* suffix - the last n labels of a name (a pointer into it) */
static const char *
suffix(const char *name, unsigned n)
{
	unsigned have = labels(name);

	while (have > n) {
		const char *dot = strchr(name, '.');

		if (dot == NULL)
			break;
		name = dot + 1;
		have--;
	}
	return name;
}

/* dmarc_walk_names - the names of a tree walk from domain */
size_t
dmarc_walk_names(const char *domain, const char *names[DMARC_MAX_QUERIES])
{
	unsigned n = labels(domain), next;
	size_t k = 0;

	if (n == 0)
		return 0;
	names[k++] = domain;
	next = n > DMARC_WALK_SKIP ? DMARC_WALK_SKIP : n - 1;
	for (; next >= 1 && k < DMARC_MAX_QUERIES; next--)
		names[k++] = suffix(domain, next);
	return k;
}

/* trace - report a question */
static void
trace(const struct dmarc_opts *o, const char *q, enum dns_status st,
    unsigned n, const char *note)
{
	if (o != NULL && o->trace != NULL)
		o->trace(o->trace_arg, q, st, n, note);
}

/* ask - the DMARC record at _dmarc.name */
static enum ask_status
ask(struct dns_resolver *r, const struct dmarc_opts *o, const char *name,
    struct dmarc_record *rec)
{
	enum dmarc_mode mode = o != NULL ? o->mode : DMARC_MODE_BIS;
	struct dns_answer *ans = NULL;
	struct buf why = BUF_INIT;
	char q[DMARC_NAME_MAX + sizeof(DMARC_PREFIX) + 1];
	enum dmarc_rec_status rs;
	enum dns_status st;
	enum ask_status as = ASK_NONE;
	size_t i, which = 0;
	unsigned n = 0;

	snprintf(q, sizeof(q), "%s%s", DMARC_PREFIX, name);
	st = dns_query(r, q, DNS_T_TXT, &ans);
	if (st == DNS_TEMPFAIL || st == DNS_TIMEOUT || st == DNS_NOMEM) {
		trace(o, q, st, 0, "DNS error");
		return st == DNS_NOMEM ? ASK_NOMEM : ASK_TEMPERROR;
	}
	if (st != DNS_OK) {
		trace(o, q, st, 0, "no record");
		return ASK_NONE;
	}
	for (i = 0; i < ans->n; i++)
		if (dmarc_record_is_dmarc(ans->rr[i].text,
		    ans->rr[i].text_len))
			n++, which = i;
	if (n == 0)
		trace(o, q, st, 0, "no DMARC record among the TXT records");
	else if (n > 1) {
		trace(o, q, st, n, "several DMARC records: all discarded");
		as = ASK_MULTIPLE;
	} else {
		rs = dmarc_record_parse(ans->rr[which].text,
		    ans->rr[which].text_len, mode, rec, &why);
		if (rs == DMARC_REC_OK) {
			struct buf t = BUF_INIT;

			buf_printf(&t, "record: %s", ans->rr[which].text);
			if (why.len > 0)
				buf_printf(&t, " (ignored: %s)", buf_str(&why));
			trace(o, q, st, 1, t.failed ? "record" : buf_str(&t));
			buf_free(&t);
			as = ASK_FOUND;
		} else if (rs == DMARC_REC_NOMEM)
			as = ASK_NOMEM;
		else {
			struct buf t = BUF_INIT;

			buf_printf(&t, "invalid record, ignored: %s%s%s",
			    dmarc_rec_strerror(rs), why.len ? ": " : "",
			    buf_str(&why));
			trace(o, q, st, 1, t.failed ? "invalid" : buf_str(&t));
			buf_free(&t);
		}
	}
	buf_free(&why);
	dns_answer_free(ans);
	return as;
}

/* nonexistent - RFC 9989: NXDOMAIN or NODATA for A, AAAA and MX; -1 on
 * a DNS error */
static int
nonexistent(struct dns_resolver *r, const struct dmarc_opts *o,
    const char *name)
{
	static const enum dns_type types[] = { DNS_T_A, DNS_T_AAAA, DNS_T_MX };
	struct dns_answer *ans = NULL;
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		enum dns_status st = dns_query(r, name, types[i], &ans);

		if (st == DNS_OK) {
			dns_answer_free(ans);
			trace(o, name, st, 0, "the author domain exists");
			return 0;
		}
		if (st != DNS_NXDOMAIN && st != DNS_NODATA) {
			trace(o, name, st, 0, "DNS error on the existence test");
			return -1;
		}
	}
	trace(o, name, DNS_NXDOMAIN, 0, "the author domain does not exist "
	    "(no A, AAAA or MX)");
	return 1;
}

/* psl_org - RFC 7489's Organizational Domain of name into org */
static void
psl_org(const struct dmarc_opts *o, const char *name, char *org)
{
	const psl_ctx_t *psl = o != NULL && o->psl != NULL ? o->psl :
	    psl_builtin();
	const char *reg = psl != NULL ? psl_registrable_domain(psl, name) :
	    NULL;

	snprintf(org, DMARC_NAME_MAX + 1, "%s", reg != NULL ? reg : name);
}

/* found - fill out for a record found at name */
static enum dmarc_disc
found(struct dns_resolver *r, const struct dmarc_opts *o,
    struct dmarc_found *out, const char *name)
{
	int ne;

	snprintf(out->domain, sizeof(out->domain), "%s", name);
	out->at_author = strcmp(name, out->author) == 0;
	if (!out->at_author && out->rec.np != DMARC_P_UNSPEC) {
		if ((ne = nonexistent(r, o, out->author)) < 0) {
			dmarc_record_clear(&out->rec);
			return DMARC_DISC_TEMPERROR;
		}
		out->nonexistent = ne;
	}
	return DMARC_DISC_FOUND;
}

/* valid_name - a domain we may look up */
static int
valid_name(const char *d)
{
	return d != NULL && *d != '\0' && strlen(d) <= DMARC_NAME_MAX &&
	    dns_name_valid(d);
}

/* dmarc_discover - the policy record that applies to the author domain */
enum dmarc_disc
dmarc_discover(struct dns_resolver *r, const struct dmarc_opts *o,
    const char *author, struct dmarc_found *out)
{
	const char *names[DMARC_MAX_QUERIES];
	char org[DMARC_NAME_MAX + 1];
	size_t n, i;

	memset(out, 0, sizeof(*out));
	if (!valid_name(author))
		return DMARC_DISC_BADNAME;
	snprintf(out->author, sizeof(out->author), "%s", author);
	if (o != NULL && o->mode == DMARC_MODE_7489) {
		names[0] = out->author;
		n = 1;
		psl_org(o, out->author, org);
		if (strcmp(org, out->author) != 0)
			names[n++] = org;
	} else
		n = dmarc_walk_names(out->author, names);
	for (i = 0; i < n; i++) {
		out->queries++;
		switch (ask(r, o, names[i], &out->rec)) {
		case ASK_FOUND:
			return found(r, o, out, names[i]);
		case ASK_TEMPERROR:
			return DMARC_DISC_TEMPERROR;
		case ASK_NOMEM:
			return DMARC_DISC_NOMEM;
		case ASK_MULTIPLE:
			if (o != NULL && o->mode == DMARC_MODE_7489)
				return DMARC_DISC_NONE;
			break;
		case ASK_NONE:
			break;
		}
	}
	return DMARC_DISC_NONE;
}

/* dmarc_found_clear - free what a discovery holds */
void
dmarc_found_clear(struct dmarc_found *f)
{
	dmarc_record_clear(&f->rec);
}

/* dmarc_org_domain - the Organizational Domain of a name */
enum dmarc_disc
dmarc_org_domain(struct dns_resolver *r, const struct dmarc_opts *o,
    const char *domain, char *org)
{
	const char *names[DMARC_MAX_QUERIES], *best = NULL;
	struct dmarc_record rec;
	size_t n, i;

	if (!valid_name(domain)) {
		snprintf(org, DMARC_NAME_MAX + 1, "%s", domain ? domain : "");
		return DMARC_DISC_BADNAME;
	}
	if (o != NULL && o->mode == DMARC_MODE_7489) {
		psl_org(o, domain, org);
		return DMARC_DISC_FOUND;
	}
	n = dmarc_walk_names(domain, names);
	for (i = 0; i < n; i++) {
		enum ask_status as = ask(r, o, names[i], &rec);

		if (as == ASK_TEMPERROR || as == ASK_NOMEM) {
			snprintf(org, DMARC_NAME_MAX + 1, "%s", domain);
			return as == ASK_NOMEM ? DMARC_DISC_NOMEM :
			    DMARC_DISC_TEMPERROR;
		}
		if (as != ASK_FOUND)
			continue;
		dmarc_record_clear(&rec);
		if (rec.psd == DMARC_PSD_N) {
			best = names[i];
			break;
		}
		if (rec.psd == DMARC_PSD_Y) {
			best = i == 0 ? names[0] :
			    suffix(domain, labels(names[i]) + 1);
			break;
		}
		best = names[i];
	}
	snprintf(org, DMARC_NAME_MAX + 1, "%s", best != NULL ? best : domain);
	return best != NULL ? DMARC_DISC_FOUND : DMARC_DISC_NONE;
}

/* dmarc_report_allowed - the external destination check */
int
dmarc_report_allowed(struct dns_resolver *r, const struct dmarc_opts *o,
    const char *domain, const char *rdomain)
{
	char o1[DMARC_NAME_MAX + 1], o2[DMARC_NAME_MAX + 1];
	char q[2 * DMARC_NAME_MAX + 32];
	struct dns_answer *a = NULL;
	size_t i;
	int ok = 0;

	if (strcasecmp(domain, rdomain) == 0)
		return 1;
	if (dmarc_org_domain(r, o, domain, o1) != DMARC_DISC_TEMPERROR &&
	    dmarc_org_domain(r, o, rdomain, o2) != DMARC_DISC_TEMPERROR &&
	    strcasecmp(o1, o2) == 0)
		return 1;
	if ((size_t)snprintf(q, sizeof(q), "%s._report._dmarc.%s", domain,
	    rdomain) >= sizeof(q))
		return 0;
	if (dns_query(r, q, DNS_T_TXT, &a) == DNS_OK) {
		for (i = 0; i < a->n && !ok; i++)
			ok = dmarc_record_is_dmarc(a->rr[i].text,
			    a->rr[i].text_len);
		dns_answer_free(a);
	}
	return ok;
}

/* dmarc_disc_strerror - a status in words */
const char *
dmarc_disc_strerror(enum dmarc_disc st)
{
	switch (st) {
	case DMARC_DISC_FOUND:
		return "found";
	case DMARC_DISC_NONE:
		return "no DMARC record";
	case DMARC_DISC_TEMPERROR:
		return "DNS error";
	case DMARC_DISC_BADNAME:
		return "not a valid domain name";
	case DMARC_DISC_NOMEM:
		return "out of memory";
	}
	return "unknown status";
}
