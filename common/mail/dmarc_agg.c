/*
 * NAME
 *	dmarc_agg - DMARC aggregate reports received from other receivers
 * SYNOPSIS
 *	#include "dmarc_agg.h"
 * DESCRIPTION
 *	dmarc_agg_parse() walks the XML's tags with xmltok and keeps the
 *	text of the elements it knows by their path from <feedback>
 *	(namespace prefixes dropped, so that RFC 7489's and RFC 9990's
 *	reports read alike); other elements are skipped.  Each field is
 *	trimmed and checked: a text field is bounded and free of control
 *	characters, a token field (results, policies) is letters, digits
 *	and '_' and is lowercased, the times and counts are decimal, a
 *	source address parses as IPv4 or IPv6.  Required: org_name,
 *	report_id, begin and end (begin <= end), the policy domain, and
 *	each record's source_ip, count and header_from.
 *
 *	dmarc_agg_mail() walks the MIME structure (RFC 2045, 2046): a
 *	multipart's parts by its boundary, a message/rfc822 part as a
 *	message of its own, and takes each leaf whose type is
 *	application/xml, text/xml, application/gzip, application/zip (and
 *	their x- forms) or whose file name ends in .xml, .gz or .zip,
 *	decoding base64 or quoted-printable.  One budget of inflated bytes
 *	(max) holds for a whole mail or file.
 * DIAGNOSTICS
 *	An enum dmarc_agg_status; why says what and where.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base64.h"
#include "dmarc_agg.h"
#include "unpack.h"
#include "xmltok.h"

/* The walk over one source. */
struct walk {
	dmarc_agg_fn	 fn;
	void		*arg;
	struct buf	*why;
	size_t		 max;		/* inflated bytes allowed in all */
	size_t		 budget;	/* inflated bytes still allowed */
	int		 reports, parts, stop;
};

/* dmarc_agg_free - release what a report holds */
void
dmarc_agg_free(struct dmarc_agg *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nrec; i++) {
		buf_free(&r->rec[i].dkim_auth);
		buf_free(&r->rec[i].spf_auth);
	}
	free(r->rec);
	r->rec = NULL;
	r->nrec = r->cap = 0;
}

/* trim - the text without surrounding white space, in place */
static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' ||
	    e[-1] == '\n'))
		*--e = '\0';
	return s;
}

/* text_field - a bounded text without control characters into out */
static int
text_field(const char *path, char *s, char *out, size_t size,
    struct buf *why)
{
	const unsigned char *p;

	s = trim(s);
	if (strlen(s) >= size) {
		buf_printf(why, "%s: longer than %zu bytes", path, size - 1);
		return -1;
	}
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f) {
			buf_printf(why, "%s: a control character", path);
			return -1;
		}
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

/* word_field - like text_field, without spaces or '|' (the separators
 * of the auth results kept as text) */
static int
word_field(const char *path, char *s, char *out, size_t size,
    struct buf *why)
{
	if (text_field(path, s, out, size, why) < 0)
		return -1;
	if (strpbrk(out, " \t|") != NULL) {
		buf_printf(why, "%s: a space or '|' in \"%.60s\"", path, out);
		return -1;
	}
	return 0;
}

/* token_field - letters, digits and '_', lowercased */
static int
token_field(const char *path, char *s, char *out, size_t size,
    struct buf *why)
{
	char *p;

	if (text_field(path, s, out, size, why) < 0)
		return -1;
	for (p = out; *p != '\0'; p++) {
		if (!isalnum((unsigned char)*p) && *p != '_') {
			buf_printf(why, "%s: \"%.40s\" is not a keyword", path,
			    out);
			return -1;
		}
		*p = (char)tolower((unsigned char)*p);
	}
	return 0;
}

/* number_field - a decimal number in [0, max] */
static int
number_field(const char *path, char *s, long long max, long long *out,
    struct buf *why)
{
	long long v = 0;

	s = trim(s);
	if (*s == '\0')
		goto bad;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || v > (max - (*s - '0')) / 10)
			goto bad;
		v = v * 10 + (*s - '0');
	}
	*out = v;
	return 0;
bad:
	buf_printf(why, "%s: not a number from 0 to %lld", path, max);
	return -1;
}

/* add_auth - "a b c" appended to an auth results text, '|'-separated */
static int
add_auth(struct buf *b, const char *a, const char *bb, const char *c)
{
	size_t n = 0;
	const char *p;

	for (p = b->s; p != NULL && *p != '\0'; p++)
		n += *p == '|';
	if (b->len > 0 && n + 1 >= DMARC_AGG_MAX_AUTH)
		return 0;	/* more than we keep: the rest is dropped */
	buf_printf(b, "%s%s %s %s", b->len ? "|" : "", a[0] ? a : "-",
	    bb[0] ? bb : "-", c[0] ? c : "-");
	return b->failed ? -1 : 0;
}

/* The fields of an auth result or reason being read. */
struct pending {
	char	 domain[DMARC_AGG_FIELD], selector[DMARC_AGG_FIELD];
	char	 result[32], scope[16];
	char	 rtype[32], comment[DMARC_AGG_FIELD];
};

/* under - the rest of path below prefix, or NULL */
static const char *
under(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);

	return strncmp(path, prefix, n) == 0 ? path + n : NULL;
}

/* end_metadata - a field of <report_metadata> (RFC 9990 3.1.1) */
static int
end_metadata(struct dmarc_agg *r, const char *rest, const char *path,
    char *t, int *seen, struct buf *why)
{
	if (strcmp(rest, "org_name") == 0)
		return text_field(path, t, r->org_name, sizeof(r->org_name),
		    why);
	if (strcmp(rest, "email") == 0)
		return text_field(path, t, r->email, sizeof(r->email), why);
	if (strcmp(rest, "report_id") == 0)
		return text_field(path, t, r->report_id,
		    sizeof(r->report_id), why);
	if (strcmp(rest, "date_range/begin") == 0) {
		*seen |= 1;
		return number_field(path, t, 1LL << 40, &r->begin, why);
	}
	if (strcmp(rest, "date_range/end") == 0) {
		*seen |= 2;
		return number_field(path, t, 1LL << 40, &r->end, why);
	}
	return 0;
}

/* end_policy - a field of <policy_published> (RFC 9990 3.1.2) */
static int
end_policy(struct dmarc_agg *r, const char *rest, const char *path,
    char *t, struct buf *why)
{
	long long v;

	if (strcmp(rest, "domain") == 0)
		return word_field(path, t, r->domain, sizeof(r->domain), why);
	if (strcmp(rest, "adkim") == 0)
		return token_field(path, t, r->adkim, sizeof(r->adkim), why);
	if (strcmp(rest, "aspf") == 0)
		return token_field(path, t, r->aspf, sizeof(r->aspf), why);
	if (strcmp(rest, "p") == 0)
		return token_field(path, t, r->p, sizeof(r->p), why);
	if (strcmp(rest, "sp") == 0)
		return token_field(path, t, r->sp, sizeof(r->sp), why);
	if (strcmp(rest, "np") == 0)
		return token_field(path, t, r->np, sizeof(r->np), why);
	if (strcmp(rest, "testing") == 0)
		return token_field(path, t, r->testing, sizeof(r->testing),
		    why);
	if (strcmp(rest, "discovery_method") == 0)
		return token_field(path, t, r->discovery,
		    sizeof(r->discovery), why);
	if (strcmp(rest, "pct") == 0) {
		if (number_field(path, t, 100, &v, why) < 0)
			return -1;
		r->pct = (int)v;
	}
	return 0;
}

/* end_row - a field of a record's <row> (RFC 9990 3.1.3) */
static int
end_row(struct dmarc_agg_record *rec, struct pending *pd, const char *rest,
    const char *path, char *t, int *seen, struct buf *why)
{
	const char *pe = under(rest, "policy_evaluated/");
	unsigned char a[16];
	size_t len;

	if (strcmp(rest, "source_ip") == 0) {
		if (text_field(path, t, rec->source_ip,
		    sizeof(rec->source_ip), why) < 0)
			return -1;
		if (inet_pton(AF_INET, rec->source_ip, a) != 1 &&
		    inet_pton(AF_INET6, rec->source_ip, a) != 1) {
			buf_printf(why, "%s: \"%s\" is not an IP address",
			    path, rec->source_ip);
			return -1;
		}
		return 0;
	}
	if (strcmp(rest, "count") == 0) {
		if (number_field(path, t, 1LL << 40, &rec->count, why) < 0)
			return -1;
		*seen |= 4;
		return 0;
	}
	if (pe == NULL)
		return 0;
	if (strcmp(pe, "disposition") == 0)
		return token_field(path, t, rec->disposition,
		    sizeof(rec->disposition), why);
	if (strcmp(pe, "dkim") == 0)
		return token_field(path, t, rec->dkim, sizeof(rec->dkim), why);
	if (strcmp(pe, "spf") == 0)
		return token_field(path, t, rec->spf, sizeof(rec->spf), why);
	if (strcmp(pe, "reason/type") == 0)
		return token_field(path, t, pd->rtype, sizeof(pd->rtype), why);
	if (strcmp(pe, "reason/comment") == 0)
		return text_field(path, t, pd->comment, sizeof(pd->comment),
		    why);
	if (strcmp(pe, "reason") == 0) {
		len = strlen(rec->reasons);
		if (pd->rtype[0] != '\0' && strchr(pd->comment, '|') == NULL)
			snprintf(rec->reasons + len, sizeof(rec->reasons) -
			    len, "%s%s%s%s", len ? "|" : "", pd->rtype,
			    pd->comment[0] ? " " : "", pd->comment);
		memset(pd, 0, sizeof(*pd));
	}
	return 0;
}

/* end_identifiers - a field of a record's <identifiers> (RFC 9990 3.1.3) */
static int
end_identifiers(struct dmarc_agg_record *rec, const char *rest,
    const char *path, char *t, struct buf *why)
{
	if (strcmp(rest, "header_from") == 0)
		return word_field(path, t, rec->header_from,
		    sizeof(rec->header_from), why);
	if (strcmp(rest, "envelope_from") == 0)
		return word_field(path, t, rec->envelope_from,
		    sizeof(rec->envelope_from), why);
	if (strcmp(rest, "envelope_to") == 0)
		return word_field(path, t, rec->envelope_to,
		    sizeof(rec->envelope_to), why);
	return 0;
}

/* end_auth - a field of a record's <auth_results> (RFC 9990 3.1.3): a
 * <dkim> or <spf> that ended joins the record's results */
static int
end_auth(struct dmarc_agg_record *rec, struct pending *pd, const char *rest,
    const char *path, char *t, struct buf *why)
{
	int rc;

	if (strcmp(rest, "dkim/domain") == 0 ||
	    strcmp(rest, "spf/domain") == 0)
		return word_field(path, t, pd->domain, sizeof(pd->domain),
		    why);
	if (strcmp(rest, "dkim/selector") == 0)
		return word_field(path, t, pd->selector, sizeof(pd->selector),
		    why);
	if (strcmp(rest, "dkim/result") == 0 ||
	    strcmp(rest, "spf/result") == 0)
		return token_field(path, t, pd->result, sizeof(pd->result),
		    why);
	if (strcmp(rest, "spf/scope") == 0)
		return token_field(path, t, pd->scope, sizeof(pd->scope), why);
	if (strcmp(rest, "dkim") != 0 && strcmp(rest, "spf") != 0)
		return 0;
	rc = rest[0] == 'd' ? add_auth(&rec->dkim_auth, pd->domain,
	    pd->selector, pd->result) : add_auth(&rec->spf_auth, pd->domain,
	    pd->scope, pd->result);
	memset(pd, 0, sizeof(*pd));
	if (rc < 0)
		buf_printf(why, "out of memory");
	return rc;
}

/* end_elem - the text of an element that ended, by its path */
static int
end_elem(struct dmarc_agg *r, struct pending *pd, const char *path,
    char *t, int *seen, struct buf *why)
{
	struct dmarc_agg_record *rec = r->nrec > 0 ? &r->rec[r->nrec - 1] :
	    NULL;
	const char *rest;

	if ((rest = under(path, "/feedback/report_metadata/")) != NULL)
		return end_metadata(r, rest, path, t, seen, why);
	if ((rest = under(path, "/feedback/policy_published/")) != NULL)
		return end_policy(r, rest, path, t, why);
	if (rec == NULL)
		return 0;
	if ((rest = under(path, "/feedback/record/row/")) != NULL)
		return end_row(rec, pd, rest, path, t, seen, why);
	if ((rest = under(path, "/feedback/record/identifiers/")) != NULL)
		return end_identifiers(rec, rest, path, t, why);
	if ((rest = under(path, "/feedback/record/auth_results/")) != NULL)
		return end_auth(rec, pd, rest, path, t, why);
	if (strcmp(path, "/feedback/record") == 0) {
		if (rec->source_ip[0] == '\0' || !(*seen & 4) ||
		    rec->header_from[0] == '\0') {
			buf_printf(why, "record %zu: no source_ip, count or "
			    "header_from", r->nrec);
			return -1;
		}
		*seen &= ~4;
	}
	return 0;
}

/* new_record - room for one more <record> */
static int
new_record(struct dmarc_agg *r, struct buf *why)
{
	struct dmarc_agg_record *n;

	if (r->nrec == DMARC_AGG_MAX_RECORDS) {
		buf_printf(why, "more than %d records", DMARC_AGG_MAX_RECORDS);
		return -1;
	}
	if (r->nrec == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;

		if ((n = realloc(r->rec, cap * sizeof(*n))) == NULL) {
			buf_printf(why, "out of memory");
			return -1;
		}
		r->rec = n;
		r->cap = cap;
	}
	memset(&r->rec[r->nrec], 0, sizeof(r->rec[0]));
	r->nrec++;
	return 0;
}

/* dmarc_agg_parse - one report */
enum dmarc_agg_status
dmarc_agg_parse(const char *data, size_t n, struct dmarc_agg *r,
    struct buf *why)
{
	struct xmltok x;
	struct pending pd;
	enum xmltok_tok t;
	enum dmarc_agg_status st = DMARC_AGG_REPORT;
	char path[XMLTOK_MAX_DEPTH * (XMLTOK_MAX_NAME + 1) + 1];
	size_t plen = 0;
	int seen = 0;

	memset(r, 0, sizeof(*r));
	memset(&pd, 0, sizeof(pd));
	r->pct = -1;
	path[0] = '\0';
	xmltok_init(&x, data, n);
	while ((t = xmltok_next(&x)) == XMLTOK_START || t == XMLTOK_END) {
		if (t == XMLTOK_START) {
			if (x.depth == 1 && strcmp(x.name, "feedback") != 0) {
				buf_printf(why, "the root element is <%s>, not "
				    "<feedback>", x.name);
				goto out;
			}
			plen += (size_t)snprintf(path + plen, sizeof(path) -
			    plen, "/%s", x.name);
			if (strcmp(path, "/feedback/record") == 0 &&
			    new_record(r, why) < 0) {
				st = DMARC_AGG_XML;
				goto out;
			}
			continue;
		}
		if (buf_str(&x.text) != NULL && x.text.failed) {
			buf_printf(why, "out of memory");
			st = DMARC_AGG_NOMEM;
			goto out;
		}
		if (end_elem(r, &pd, path, x.text.s != NULL ? x.text.s :
		    (char[1]){ '\0' }, &seen, why) < 0)
			goto out;
		while (plen > 0 && path[plen - 1] != '/')
			plen--;
		if (plen > 0)
			plen--;
		path[plen] = '\0';
	}
	if (t == XMLTOK_ERROR) {
		buf_printf(why, "malformed XML %s", x.error);
		st = DMARC_AGG_XML;
		goto out;
	}
	if (r->org_name[0] == '\0' || r->report_id[0] == '\0' ||
	    (seen & 3) != 3 || r->domain[0] == '\0') {
		buf_printf(why, "not an aggregate report: no %s",
		    r->org_name[0] == '\0' ? "org_name" :
		    r->report_id[0] == '\0' ? "report_id" :
		    (seen & 3) != 3 ? "date_range" : "policy domain");
		goto out;
	}
	if (r->begin > r->end) {
		buf_printf(why, "the date range ends before it begins");
		goto out;
	}
	st = DMARC_AGG_OK;
out:
	xmltok_free(&x);
	return st;
}

/* has_suffix - does a name end in suffix, any case? */
static int
has_suffix(const char *name, const char *suffix)
{
	size_t n = strlen(name), s = strlen(suffix);

	return n >= s && strcasecmp(name + n - s, suffix) == 0;
}

/* looks_xml - does the content start like an XML document? */
static int
looks_xml(const char *d, size_t n)
{
	if (n >= 3 && memcmp(d, "\xef\xbb\xbf", 3) == 0) {
		d += 3;
		n -= 3;
	}
	while (n > 0 && (*d == ' ' || *d == '\t' || *d == '\r' || *d == '\n')) {
		d++;
		n--;
	}
	return n > 0 && *d == '<';
}

/* xml_report - parse one XML and hand the report on */
static enum dmarc_agg_status
xml_report(struct walk *w, const char *name, const char *d, size_t n)
{
	struct dmarc_agg *r;
	enum dmarc_agg_status st;
	struct buf why = BUF_INIT;

	if (++w->reports > DMARC_AGG_MAX_REPORTS) {
		buf_printf(w->why, "more than %d reports in one source",
		    DMARC_AGG_MAX_REPORTS);
		return DMARC_AGG_REPORT;
	}
	if ((r = malloc(sizeof(*r))) == NULL)
		return DMARC_AGG_NOMEM;
	if ((st = dmarc_agg_parse(d, n, r, &why)) != DMARC_AGG_OK) {
		buf_printf(w->why, "%s: %s", name, buf_str(&why) ?
		    buf_str(&why) : "error");
		buf_free(&why);
		dmarc_agg_free(r);
		free(r);
		return st;
	}
	buf_free(&why);
	snprintf(r->source, sizeof(r->source), "%s", name);
	if (w->fn(w->arg, r) != 0)
		w->stop = 1;
	return DMARC_AGG_OK;
}

/* zip_member - a member of a zip archive */
static int
zip_member(void *arg, const char *name, const char *d, size_t n)
{
	struct walk *w = arg;
	enum dmarc_agg_status st;

	w->budget -= n;		/* unpack keeps the members within it */
	if (!has_suffix(name, ".xml") && !looks_xml(d, n))
		return 0;
	st = xml_report(w, name, d, n);
	return st != DMARC_AGG_OK ? (int)st : w->stop ? -1 : 0;
}

/* unpacked - the status of an archive error */
static enum dmarc_agg_status
unpacked(struct walk *w, const char *name, enum unpack_status us)
{
	if (us == UNPACK_TOOBIG)
		buf_printf(w->why, "%s: it inflates past the limit of %zu "
		    "bytes (a compression bomb?)", name, w->max);
	else
		buf_printf(w->why, "%s: %s", name, unpack_strerror(us));
	return us == UNPACK_TOOBIG ? DMARC_AGG_TOOBIG : us == UNPACK_NOMEM ?
	    DMARC_AGG_NOMEM : DMARC_AGG_ARCHIVE;
}

/* data - a file's content, by its first bytes */
static enum dmarc_agg_status
data(struct walk *w, const char *d, size_t n, const char *name)
{
	enum dmarc_agg_status st = DMARC_AGG_OK;
	enum unpack_status us;
	struct buf out = BUF_INIT;
	int reports = w->reports, stopped = 0;

	if (unpack_is_gzip(d, n)) {
		if ((us = unpack_gzip(d, n, w->budget, &out)) != UNPACK_OK)
			st = unpacked(w, name, us);
		else {
			w->budget -= out.len;
			st = xml_report(w, name, out.s != NULL ? out.s : "",
			    out.len);
		}
	} else if (unpack_is_zip(d, n)) {
		us = unpack_zip(d, n, w->budget, zip_member, w, &stopped);
		if (us != UNPACK_OK)
			st = unpacked(w, name, us);
		else if (stopped > 0)
			st = (enum dmarc_agg_status)stopped;
		else if (w->reports == reports && !w->stop) {
			buf_printf(w->why, "%s: no XML file in the zip archive",
			    name);
			st = DMARC_AGG_REPORT;
		}
	} else if (looks_xml(d, n))
		st = xml_report(w, name, d, n);
	else {
		buf_printf(w->why, "%s: not XML, gzip or zip", name);
		st = DMARC_AGG_REPORT;
	}
	buf_free(&out);
	return st;
}

/* dmarc_agg_data - a file's content */
enum dmarc_agg_status
dmarc_agg_data(const char *d, size_t n, const char *name, size_t max,
    dmarc_agg_fn fn, void *arg, struct buf *why)
{
	struct walk w = { fn, arg, why, max, max, 0, 0, 0 };

	return data(&w, d, n, name);
}

/* The MIME fields of a part that matter here. */
struct part {
	char	 type[128];		/* type/subtype, lowercase */
	char	 boundary[128];
	char	 name[128];		/* filename= or name= */
	char	 cte[32];		/* lowercase */
};

/* param - the value of a parameter (name= or name*=) in a field body */
static void
param(const char *body, const char *pname, char *out, size_t size)
{
	const char *p = body;
	size_t n = strlen(pname), len;

	while ((p = strchr(p, ';')) != NULL) {
		p++;
		p += strspn(p, " \t");
		if (strncasecmp(p, pname, n) != 0 ||
		    (p[n] != '=' && !(p[n] == '*' && p[n + 1] == '=')))
			continue;
		p += n + (p[n] == '*') + 1;
		if (p[-2] == '*') {	/* RFC 2231: charset'lang'value */
			const char *q = strchr(p, '\'');

			if (q != NULL && (q = strchr(q + 1, '\'')) != NULL)
				p = q + 1;
		}
		if (*p == '"') {
			p++;
			len = strcspn(p, "\"");
		} else
			len = strcspn(p, "; \t");
		if (len >= size)
			len = size - 1;
		memcpy(out, p, len);
		out[len] = '\0';
		return;
	}
}

/* header - the fields that matter from a header block; the body's
 * offset, or n when the header has no end */
static size_t
header(const char *m, size_t n, struct part *pt)
{
	struct buf f = BUF_INIT;
	size_t i = 0, ls, le;

	memset(pt, 0, sizeof(*pt));
	while (i < n) {
		ls = i;
		while (i < n && m[i] != '\n')
			i++;
		le = i > ls && m[i - 1] == '\r' ? i - 1 : i;
		if (i < n)
			i++;
		if (le == ls)
			break;		/* the empty line */
		if ((m[ls] == ' ' || m[ls] == '\t') && f.len > 0) {
			if (f.len < 4096)
				buf_append(&f, m + ls, le - ls);
		} else {
			buf_truncate(&f, 0);
			buf_append(&f, m + ls, le - ls < 4096 ? le - ls : 4096);
		}
		/* peek: is the next line a continuation? */
		if (i < n && (m[i] == ' ' || m[i] == '\t'))
			continue;
		if (f.failed || f.s == NULL)
			continue;
		if (strncasecmp(f.s, "Content-Type:", 13) == 0) {
			const char *v = f.s + 13;
			size_t k, len;

			v += strspn(v, " \t");
			len = strcspn(v, "; \t");
			if (len >= sizeof(pt->type))
				len = sizeof(pt->type) - 1;
			for (k = 0; k < len; k++)
				pt->type[k] = (char)tolower((unsigned char)v[k]);
			pt->type[len] = '\0';
			param(v, "boundary", pt->boundary,
			    sizeof(pt->boundary));
			if (pt->name[0] == '\0')
				param(v, "name", pt->name, sizeof(pt->name));
		} else if (strncasecmp(f.s, "Content-Disposition:", 20) == 0)
			param(f.s + 20, "filename", pt->name, sizeof(pt->name));
		else if (strncasecmp(f.s, "Content-Transfer-Encoding:", 26) ==
		    0) {
			const char *v = f.s + 26;
			size_t k, len;

			v += strspn(v, " \t");
			len = strcspn(v, " \t;");
			if (len >= sizeof(pt->cte))
				len = sizeof(pt->cte) - 1;
			for (k = 0; k < len; k++)
				pt->cte[k] = (char)tolower((unsigned char)v[k]);
			pt->cte[len] = '\0';
		}
		buf_truncate(&f, 0);
	}
	buf_free(&f);
	return i;
}

/* hexval - a hex digit's value, -1 if not one */
static int
hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ?
	    c - 'A' + 10 : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* qp_decode - quoted-printable (RFC 2045 6.7) into out */
static void
qp_decode(const char *s, size_t n, struct buf *out)
{
	size_t i = 0;

	while (i < n) {
		if (s[i] != '=') {
			buf_putc(out, s[i++]);
			continue;
		}
		if (i + 2 < n && hexval((unsigned char)s[i + 1]) >= 0 &&
		    hexval((unsigned char)s[i + 2]) >= 0) {
			buf_putc(out, hexval((unsigned char)s[i + 1]) * 16 +
			    hexval((unsigned char)s[i + 2]));
			i += 3;
			continue;
		}
		/* a soft line break: '=', blanks, end of line */
		i++;
		while (i < n && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i < n && s[i] == '\r')
			i++;
		if (i < n && s[i] == '\n')
			i++;
	}
}

/* is_report_part - does a leaf's type or name say report? */
static int
is_report_part(const struct part *pt)
{
	static const char *const types[] = {
		"application/xml", "text/xml", "application/gzip",
		"application/x-gzip", "application/zip", "application/x-zip",
		"application/x-zip-compressed", "application/gzip-compressed",
	};
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(pt->type, types[i]) == 0)
			return 1;
	return has_suffix(pt->name, ".xml") || has_suffix(pt->name, ".gz") ||
	    has_suffix(pt->name, ".zip");
}

static enum dmarc_agg_status entity(struct walk *, const char *, size_t,
	    int);

/* multipart - each part between the boundary's delimiter lines */
static enum dmarc_agg_status
multipart(struct walk *w, const char *b, size_t n, const char *boundary,
    int depth)
{
	size_t blen = strlen(boundary), i = 0, start = 0, ls, le;
	enum dmarc_agg_status st;
	int in = 0;

	if (blen == 0) {
		buf_printf(w->why, "a multipart without a boundary");
		return DMARC_AGG_MIME;
	}
	while (i < n && !w->stop) {
		ls = i;
		while (i < n && b[i] != '\n')
			i++;
		le = i;
		if (i < n)
			i++;
		if (le - ls < 2 + blen || b[ls] != '-' || b[ls + 1] != '-' ||
		    memcmp(b + ls + 2, boundary, blen) != 0)
			continue;
		if (in) {
			/* the part ends before the line break before ls */
			size_t end = ls;

			if (end > start && b[end - 1] == '\n')
				end--;
			if (end > start && b[end - 1] == '\r')
				end--;
			if ((st = entity(w, b + start, end - start, depth + 1)) !=
			    DMARC_AGG_OK)
				return st;
		}
		if (le - ls >= 4 + blen && b[ls + 2 + blen] == '-' &&
		    b[ls + 3 + blen] == '-')
			return DMARC_AGG_OK;	/* the close delimiter */
		in = 1;
		start = i;
	}
	if (in && !w->stop) {
		buf_printf(w->why, "a multipart without its closing "
		    "boundary (truncated?)");
		return DMARC_AGG_MIME;
	}
	return DMARC_AGG_OK;
}

/* entity - a MIME entity: header and body */
static enum dmarc_agg_status
entity(struct walk *w, const char *m, size_t n, int depth)
{
	struct part pt;
	struct buf dec = BUF_INIT;
	enum dmarc_agg_status st = DMARC_AGG_OK;
	size_t off;
	const char *name;

	if (depth > DMARC_AGG_MAX_NEST) {
		buf_printf(w->why, "MIME parts nested deeper than %d",
		    DMARC_AGG_MAX_NEST);
		return DMARC_AGG_MIME;
	}
	if (++w->parts > DMARC_AGG_MAX_PARTS) {
		buf_printf(w->why, "more than %d MIME parts",
		    DMARC_AGG_MAX_PARTS);
		return DMARC_AGG_MIME;
	}
	off = header(m, n, &pt);
	if (strncmp(pt.type, "multipart/", 10) == 0)
		return multipart(w, m + off, n - off, pt.boundary, depth);
	if (strcmp(pt.type, "message/rfc822") == 0)
		return entity(w, m + off, n - off, depth + 1);
	if (!is_report_part(&pt))
		return DMARC_AGG_OK;
	name = pt.name[0] ? pt.name : pt.type;
	if (strcmp(pt.cte, "base64") == 0) {
		enum base64_status bs = base64_decode(&dec, m + off, n - off);

		if (bs != BASE64_OK) {
			buf_printf(w->why, "%s: bad base64 (%s)", name,
			    base64_strerror(bs));
			buf_free(&dec);
			return bs == BASE64_NOMEM ? DMARC_AGG_NOMEM :
			    DMARC_AGG_MIME;
		}
	} else if (strcmp(pt.cte, "quoted-printable") == 0)
		qp_decode(m + off, n - off, &dec);
	else
		buf_append(&dec, m + off, n - off);
	if (dec.failed)
		st = DMARC_AGG_NOMEM;
	else
		st = data(w, dec.s != NULL ? dec.s : "", dec.len, name);
	buf_free(&dec);
	return st;
}

/* dmarc_agg_mail - each report attached to a message */
enum dmarc_agg_status
dmarc_agg_mail(const char *msg, size_t n, size_t max, dmarc_agg_fn fn,
    void *arg, struct buf *why)
{
	struct walk w = { fn, arg, why, max, max, 0, 0, 0 };
	enum dmarc_agg_status st;

	if ((st = entity(&w, msg, n, 0)) != DMARC_AGG_OK)
		return st;
	if (w.reports == 0) {
		buf_printf(why, "no report attached (no XML, gzip or zip "
		    "part)");
		return DMARC_AGG_NONE;
	}
	return DMARC_AGG_OK;
}

/* dmarc_agg_strerror - a status in words */
const char *
dmarc_agg_strerror(enum dmarc_agg_status st)
{
	switch (st) {
	case DMARC_AGG_OK:
		return "ok";
	case DMARC_AGG_XML:
		return "malformed XML";
	case DMARC_AGG_REPORT:
		return "not a valid aggregate report";
	case DMARC_AGG_ARCHIVE:
		return "a damaged or unsupported archive";
	case DMARC_AGG_TOOBIG:
		return "inflates past the size limit";
	case DMARC_AGG_MIME:
		return "a mail that cannot be taken apart";
	case DMARC_AGG_NONE:
		return "no report attached";
	case DMARC_AGG_NOMEM:
		return "out of memory";
	}
	return "unknown error";
}
