/*
 * NAME
 *	rfc5322 - Internet message format: header fields, addresses, domains
 * SYNOPSIS
 *	#include "rfc5322.h"
 * DESCRIPTION
 *	rfc5322_next_field() walks the header of a raw message (as stored
 *	in an .eml file, lines ending in CRLF or bare LF).  Each call reads
 *	one field with its continuation lines and returns RFC5322_OK, or
 *	RFC5322_EOH at the empty line that ends the header (or at the end
 *	of the input when the message has no body).  A line that is not a
 *	field (no colon, or a name with characters outside ftext) is
 *	reported as RFC5322_NOCOLON or RFC5322_BADNAME, with raw and next
 *	set so that the caller can log it and go on, as MTAs do.  The last
 *	header line may lack its line end.
 *
 *	rfc5322_unfold() appends a field value to a buffer with every line
 *	break removed and leading and trailing white space trimmed.
 *
 *	rfc5322_from() parses the value of a From field as an address-list
 *	(mailbox-list plus the groups of RFC 6854, and the obsolete
 *	syntax: routes, empty list elements, phrases with dots, comments
 *	and folding anywhere).  It returns RFC5322_OK for exactly one
 *	address, RFC5322_MULTIPLE for several (all in the list),
 *	RFC5322_NOADDR for none, RFC5322_NODOMAIN when an address lacks
 *	"@domain", RFC5322_SYNTAX otherwise.  The list is empty unless the
 *	status is RFC5322_OK or RFC5322_MULTIPLE.
 *
 *	rfc5322_envelope() splits an SMTP envelope address as the MTA
 *	passes it ("<user@example.com>", "user@example.com", "<>", with a
 *	source route or not, ESMTP parameters already removed).
 *
 *	rfc5322_domain_valid() checks a domain for use as a DKIM d= or a
 *	DMARC From domain: LDH labels of 1-63 octets, no hyphen at either
 *	end of a label, 253 octets at most without the optional final dot,
 *	and a last label that is not all digits.  Underscores and octets
 *	>= 0x80 are refused unless the flags allow them: underscores occur
 *	in DNS names (_domainkey) but not in host names, and U-labels must
 *	be converted to A-labels before any DNS lookup.
 * DIAGNOSTICS
 *	Statuses as above; rfc5322_strerror() names them.
 * SEE ALSO
 *	RFC 5322, RFC 6532, RFC 6854, RFC 5321 section 4.1.2.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "rfc5322.h"

/* The parsing state of an address list. */
struct addr_ctx {
	struct buf	 local;
	struct buf	 domain;
	struct rfc5322_addrlist *list;
	int		 toomany;
};

static const char *fws(const char *, const char *);
static const char *word(const char *, const char *, struct buf *);
static const char *domain(const char *, const char *, struct buf *);

/* is_wsp - WSP */
static int
is_wsp(int c)
{
	return c == ' ' || c == '\t';
}

/* is_obs_ctl - obs-NO-WS-CTL */
static int
is_obs_ctl(unsigned char c)
{
	return (c >= 1 && c <= 8) || c == 11 || c == 12 ||
	    (c >= 14 && c <= 31) || c == 127;
}

/* is_atext - atext, with UTF8-non-ascii (RFC 6532) */
static int
is_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c >= 0x80)
		return 1;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* is_ctext - ctext / obs-ctext, with UTF-8 */
static int
is_ctext(unsigned char c)
{
	return (c >= 33 && c <= 39) || (c >= 42 && c <= 91) ||
	    (c >= 93 && c <= 126) || c >= 0x80 || is_obs_ctl(c);
}

/* is_qtext - qtext / obs-qtext, with UTF-8 */
static int
is_qtext(unsigned char c)
{
	return c == 33 || (c >= 35 && c <= 91) || (c >= 93 && c <= 126) ||
	    c >= 0x80 || is_obs_ctl(c);
}

/* is_dtext - dtext / obs-dtext, with UTF-8 */
static int
is_dtext(unsigned char c)
{
	return (c >= 33 && c <= 90) || (c >= 94 && c <= 126) ||
	    c >= 0x80 || is_obs_ctl(c);
}

/* is_ftext - ftext: printable ASCII but colon */
static int
is_ftext(unsigned char c)
{
	return (c >= 33 && c <= 57) || (c >= 59 && c <= 126);
}

/* put - append to an optional buffer */
static void
put(struct buf *b, const char *s, size_t n)
{
	if (b != NULL)
		buf_append(b, s, n);
}

/* put_nobreak - append, leaving out CR and LF */
static void
put_nobreak(struct buf *b, const char *s, const char *e)
{
	for (; b != NULL && s < e; s++)
		if (*s != '\r' && *s != '\n')
			buf_putc(b, (unsigned char)*s);
}

/* put_lower - append, lowercasing ASCII letters, leaving out CR and LF */
static void
put_lower(struct buf *b, const char *s, const char *e)
{
	for (; b != NULL && s < e; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\r' || c == '\n')
			continue;
		buf_putc(b, c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
	}
}

/* line_break - CRLF or a bare LF at p; its length or 0 */
static size_t
line_break(const char *p, const char *end)
{
	if (end - p >= 2 && p[0] == '\r' && p[1] == '\n')
		return 2;
	if (p < end && p[0] == '\n')
		return 1;
	return 0;
}

/*
 * fws - FWS / obs-FWS: white space and line breaks followed by white
 * space (a line break at the very end of the input is also taken);
 * NULL when there is none
 */
static const char *
fws(const char *p, const char *end)
{
	const char *start = p;
	size_t n;

	for (;;) {
		if (p < end && is_wsp(*p))
			p++;
		else if ((n = line_break(p, end)) > 0 &&
		    (p + n == end || is_wsp(p[n])))
			p += n;
		else
			break;
	}
	return p == start ? NULL : p;
}

/* rfc5322_comment - comment, nested up to RFC5322_MAX_NESTING */
const char *
rfc5322_comment(const char *p, const char *end, struct buf *out)
{
	const char *q;
	int depth = 0;

	if (p >= end || *p != '(')
		return NULL;
	for (;;) {
		if (p >= end)
			return NULL;
		if (*p == '(') {
			if (++depth > RFC5322_MAX_NESTING)
				return NULL;
			if (depth > 1)
				put(out, p, 1);
			p++;
		} else if (*p == ')') {
			if (--depth == 0)
				return p + 1;
			put(out, p, 1);
			p++;
		} else if (*p == '\\') {
			if (p + 1 >= end)
				return NULL;
			put(out, p + 1, 1);
			p += 2;
		} else if ((q = fws(p, end)) != NULL) {
			put_nobreak(out, p, q);
			p = q;
		} else if (is_ctext((unsigned char)*p)) {
			put(out, p, 1);
			p++;
		} else
			return NULL;
	}
}

/* rfc5322_cfws - [CFWS]: any white space, folding and comments */
const char *
rfc5322_cfws(const char *p, const char *end)
{
	const char *q;

	for (;;) {
		if ((q = fws(p, end)) != NULL)
			p = q;
		else if (p < end && *p == '(') {
			if ((p = rfc5322_comment(p, end, NULL)) == NULL)
				return NULL;
		} else
			return p;
	}
}

/* rfc5322_quoted_string - DQUOTE *([FWS] qcontent) [FWS] DQUOTE */
const char *
rfc5322_quoted_string(const char *p, const char *end, struct buf *out)
{
	const char *q;

	if (p >= end || *p != '"')
		return NULL;
	for (p++;;) {
		if (p >= end)
			return NULL;
		if (*p == '"')
			return p + 1;
		if (*p == '\\') {
			if (p + 1 >= end)
				return NULL;
			put(out, p + 1, 1);
			p += 2;
		} else if ((q = fws(p, end)) != NULL) {
			put_nobreak(out, p, q);
			p = q;
		} else if (is_qtext((unsigned char)*p)) {
			put(out, p, 1);
			p++;
		} else
			return NULL;
	}
}

/* atext_run - 1*atext */
static const char *
atext_run(const char *p, const char *end)
{
	const char *start = p;

	while (p < end && is_atext((unsigned char)*p))
		p++;
	return p == start ? NULL : p;
}

/*
 * word - atom / quoted-string, with the surrounding CFWS; the word as
 * written (quotes and backslashes kept, line breaks removed) goes to out
 */
static const char *
word(const char *p, const char *end, struct buf *out)
{
	const char *start, *q;

	if ((p = rfc5322_cfws(p, end)) == NULL)
		return NULL;
	start = p;
	if (p < end && *p == '"')
		q = rfc5322_quoted_string(p, end, NULL);
	else
		q = atext_run(p, end);
	if (q == NULL)
		return NULL;
	put_nobreak(out, start, q);
	return rfc5322_cfws(q, end);
}

/* local_part - dot-atom / quoted-string / obs-local-part */
static const char *
local_part(const char *p, const char *end, struct buf *out)
{
	if ((p = word(p, end, out)) == NULL)
		return NULL;
	while (p < end && *p == '.') {
		put(out, ".", 1);
		if ((p = word(p + 1, end, out)) == NULL)
			return NULL;
	}
	return p;
}

/* domain_literal - "[" *([FWS] dtext) [FWS] "]", obs-dtext included */
static const char *
domain_literal(const char *p, const char *end, struct buf *out)
{
	const char *start = p, *q;

	if (p >= end || *p != '[')
		return NULL;
	for (p++;;) {
		if (p >= end)
			return NULL;
		if (*p == ']')
			break;
		if (*p == '\\' && p + 1 < end)
			p += 2;
		else if ((q = fws(p, end)) != NULL)
			p = q;
		else if (is_dtext((unsigned char)*p))
			p++;
		else
			return NULL;
	}
	p++;
	put_lower(out, start, p);
	return p;
}

/*
 * domain - dot-atom / domain-literal / obs-domain, with surrounding
 * CFWS; lowercased into out, one trailing dot accepted and dropped
 */
static const char *
domain(const char *p, const char *end, struct buf *out)
{
	const char *q, *r;

	if ((p = rfc5322_cfws(p, end)) == NULL)
		return NULL;
	if (p < end && *p == '[') {
		if ((p = domain_literal(p, end, out)) == NULL)
			return NULL;
		return rfc5322_cfws(p, end);
	}
	if ((q = atext_run(p, end)) == NULL)
		return NULL;
	put_lower(out, p, q);
	for (;;) {
		if ((p = rfc5322_cfws(q, end)) == NULL)
			return NULL;
		if (p >= end || *p != '.')
			return p;
		if ((r = rfc5322_cfws(p + 1, end)) == NULL)
			return NULL;
		if ((q = atext_run(r, end)) == NULL)
			return r;		/* trailing dot */
		put(out, ".", 1);
		put_lower(out, r, q);
	}
}

/* addr_spec - local-part "@" domain */
static const char *
addr_spec(const char *p, const char *end, struct addr_ctx *ctx)
{
	buf_truncate(&ctx->local, 0);
	buf_truncate(&ctx->domain, 0);
	if ((p = local_part(p, end, &ctx->local)) == NULL)
		return NULL;
	if (p >= end || *p != '@')
		return NULL;
	return domain(p + 1, end, &ctx->domain);
}

/*
 * obs_route - obs-domain-list ":", where obs-domain-list is
 * *(CFWS / ",") "@" domain *("," [CFWS] ["@" domain])
 */
static const char *
obs_route(const char *p, const char *end)
{
	for (;;) {
		if ((p = rfc5322_cfws(p, end)) == NULL)
			return NULL;
		if (p >= end || *p != ',')
			break;
		p++;
	}
	if (p >= end || *p != '@')
		return NULL;
	if ((p = domain(p + 1, end, NULL)) == NULL)
		return NULL;
	while (p < end && *p == ',') {
		if ((p = rfc5322_cfws(p + 1, end)) == NULL)
			return NULL;
		if (p < end && *p == '@' &&
		    (p = domain(p + 1, end, NULL)) == NULL)
			return NULL;
	}
	return p < end && *p == ':' ? p + 1 : NULL;
}

/* angle_addr - [CFWS] "<" [obs-route] addr-spec ">" [CFWS] */
static const char *
angle_addr(const char *p, const char *end, struct addr_ctx *ctx)
{
	const char *q;

	if ((p = rfc5322_cfws(p, end)) == NULL)
		return NULL;
	if (p >= end || *p != '<')
		return NULL;
	p++;
	if ((q = obs_route(p, end)) != NULL)
		p = q;
	if ((p = addr_spec(p, end, ctx)) == NULL)
		return NULL;
	if (p >= end || *p != '>')
		return NULL;
	return rfc5322_cfws(p + 1, end);
}

/* phrase - 1*word / obs-phrase: word *(word / "." / CFWS) */
static const char *
phrase(const char *p, const char *end)
{
	const char *q;

	if ((p = word(p, end, NULL)) == NULL)
		return NULL;
	for (;;) {
		if ((q = word(p, end, NULL)) != NULL)
			p = q;
		else if (p < end && *p == '.')
			p++;
		else if ((q = rfc5322_cfws(p, end)) != NULL && q != p)
			p = q;
		else
			return p;
	}
}

/* at_term - at the end of input or at one of the given characters */
static int
at_term(const char *p, const char *end, const char *terms)
{
	return p == end || (*p != '\0' && strchr(terms, *p) != NULL);
}

/* list_add - move the parsed address into the list */
static int
list_add(struct addr_ctx *ctx)
{
	struct rfc5322_addrlist *l = ctx->list;
	struct rfc5322_addr *a;

	if (ctx->local.failed || ctx->domain.failed)
		return -1;
	if (l->n >= RFC5322_MAX_ADDRS) {
		ctx->toomany = 1;
		return -1;
	}
	if ((a = realloc(l->addr, (l->n + 1) * sizeof(*a))) == NULL)
		return -1;
	l->addr = a;
	a += l->n;
	a->local = buf_detach(&ctx->local);
	a->domain = buf_detach(&ctx->domain);
	if (a->local == NULL || a->domain == NULL) {
		free(a->local);
		free(a->domain);
		return -1;
	}
	l->n++;
	return 0;
}

/*
 * mailbox - name-addr / addr-spec, followed by one of terms; the
 * address is added to the list.  *err is set when adding fails.
 */
static const char *
mailbox(const char *p, const char *end, struct addr_ctx *ctx,
    const char *terms, int *err)
{
	const char *q, *r = NULL;

	if ((q = addr_spec(p, end, ctx)) != NULL && at_term(q, end, terms))
		r = q;
	else if ((q = phrase(p, end)) != NULL &&
	    (q = angle_addr(q, end, ctx)) != NULL && at_term(q, end, terms))
		r = q;
	else if ((q = angle_addr(p, end, ctx)) != NULL &&
	    at_term(q, end, terms))
		r = q;
	if (r != NULL && list_add(ctx) < 0) {
		*err = 1;
		return NULL;
	}
	return r;
}

/* group - display-name ":" [group-list] ";" [CFWS] */
static const char *
group(const char *p, const char *end, struct addr_ctx *ctx, int *err)
{
	if ((p = phrase(p, end)) == NULL)
		return NULL;
	if (p >= end || *p != ':')
		return NULL;
	for (p++;;) {
		if ((p = rfc5322_cfws(p, end)) == NULL)
			return NULL;
		if (p >= end)
			return p;	/* tolerated: ";" missing */
		if (*p == ';')
			return rfc5322_cfws(p + 1, end);
		if (*p == ',') {
			p++;
			continue;
		}
		if ((p = mailbox(p, end, ctx, ",;", err)) == NULL)
			return NULL;
	}
}

/* no_domain - an address without "@domain": local-part, or in <> */
static int
no_domain(const char *p, const char *end)
{
	const char *q;

	if ((q = local_part(p, end, NULL)) != NULL && at_term(q, end, ",;"))
		return 1;
	if ((q = phrase(p, end)) != NULL)
		p = q;
	if ((p = rfc5322_cfws(p, end)) == NULL || p >= end || *p != '<')
		return 0;
	p++;
	if ((q = obs_route(p, end)) != NULL)
		p = q;
	if ((p = local_part(p, end, NULL)) == NULL)
		return 0;
	return p < end && *p == '>';
}

/* address_list - address *("," address), obs-addr-list included */
static enum rfc5322_status
address_list(const char *p, const char *end, struct addr_ctx *ctx)
{
	const char *q;
	int err = 0;

	for (;;) {
		if ((p = rfc5322_cfws(p, end)) == NULL)
			return RFC5322_SYNTAX;
		if (p >= end)
			return RFC5322_OK;
		if (*p == ',') {
			p++;
			continue;
		}
		if ((q = mailbox(p, end, ctx, ",", &err)) == NULL && !err)
			q = group(p, end, ctx, &err);
		if (err)
			return ctx->toomany ? RFC5322_TOOMANY : RFC5322_NOMEM;
		if (q == NULL)
			return no_domain(p, end) ? RFC5322_NODOMAIN :
			    RFC5322_SYNTAX;
		p = q;
		if (p < end && *p != ',')
			return RFC5322_SYNTAX;
	}
}

/* rfc5322_addrlist_free - release the addresses of a list */
void
rfc5322_addrlist_free(struct rfc5322_addrlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		rfc5322_addr_free(&l->addr[i]);
	free(l->addr);
	l->addr = NULL;
	l->n = 0;
}

/* rfc5322_addr_free - release the strings of an address */
void
rfc5322_addr_free(struct rfc5322_addr *a)
{
	free(a->local);
	free(a->domain);
	a->local = NULL;
	a->domain = NULL;
}

/* rfc5322_from - the addresses of a From field value */
enum rfc5322_status
rfc5322_from(const char *value, size_t len, struct rfc5322_addrlist *list)
{
	struct addr_ctx ctx = { BUF_INIT, BUF_INIT, list, 0 };
	enum rfc5322_status st;

	list->addr = NULL;
	list->n = 0;
	st = address_list(value, value + len, &ctx);
	buf_free(&ctx.local);
	buf_free(&ctx.domain);
	if (st != RFC5322_OK) {
		rfc5322_addrlist_free(list);
		return st;
	}
	if (list->n == 0)
		return RFC5322_NOADDR;
	return list->n == 1 ? RFC5322_OK : RFC5322_MULTIPLE;
}

/* rfc5322_envelope - local part and domain of an SMTP envelope address */
enum rfc5322_status
rfc5322_envelope(const char *arg, size_t len, struct rfc5322_addr *out)
{
	struct addr_ctx ctx = { BUF_INIT, BUF_INIT, NULL, 0 };
	const char *p = arg, *end = arg + len, *q;
	enum rfc5322_status st = RFC5322_OK;

	out->local = out->domain = NULL;
	while (p < end && is_wsp(*p))
		p++;
	while (end > p && is_wsp(end[-1]))
		end--;
	if (p < end && *p == '<') {
		if (end - p < 2 || end[-1] != '>')
			return RFC5322_SYNTAX;
		p++;
		end--;
	}
	if (p == end)
		return RFC5322_NULLSENDER;
	if (*p == '@' && (p = obs_route(p, end)) == NULL)
		return RFC5322_SYNTAX;
	if ((q = addr_spec(p, end, &ctx)) == NULL || q != end) {
		q = local_part(p, end, NULL);
		st = q == end ? RFC5322_NODOMAIN : RFC5322_SYNTAX;
	} else if (ctx.local.failed || ctx.domain.failed)
		st = RFC5322_NOMEM;
	else {
		out->local = buf_detach(&ctx.local);
		out->domain = buf_detach(&ctx.domain);
		if (out->local == NULL || out->domain == NULL) {
			rfc5322_addr_free(out);
			st = RFC5322_NOMEM;
		}
	}
	buf_free(&ctx.local);
	buf_free(&ctx.domain);
	return st;
}

/* rfc5322_domain_valid - 1 when d is a usable domain name, else 0 */
int
rfc5322_domain_valid(const char *d, size_t len, unsigned flags)
{
	size_t i, label = 0;
	int digits = 1;

	if (len > 0 && d[len - 1] == '.')
		len--;
	if (len == 0 || len > RFC5322_MAX_DOMAIN)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)d[i];

		if (c == '.') {
			if (label == 0 || d[i - 1] == '-')
				return 0;
			label = 0;
			digits = 1;
			continue;
		}
		if (c >= '0' && c <= '9')
			;
		else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
			digits = 0;
		else if (c == '-' && label > 0)
			digits = 0;
		else if (c == '_' && (flags & RFC5322_DOM_UNDERSCORE))
			digits = 0;
		else if (c >= 0x80 && (flags & RFC5322_DOM_UTF8))
			digits = 0;
		else
			return 0;
		if (++label > RFC5322_MAX_LABEL)
			return 0;
	}
	return label > 0 && d[len - 1] != '-' && !digits;
}

/* rfc5322_next_field - the next header field of a raw message */
enum rfc5322_status
rfc5322_next_field(const char *p, const char *end, struct rfc5322_field *f)
{
	const char *q, *le, *next, *fend, *n, *c;

	memset(f, 0, sizeof(*f));
	f->raw = p;
	if (p >= end || (*p == '\r' && p + 1 == end)) {
		f->next = end;
		return RFC5322_EOH;
	}
	if ((q = p + line_break(p, end)) != p) {
		f->next = q;
		return RFC5322_EOH;
	}
	for (q = p;;) {
		if ((le = memchr(q, '\n', end - q)) == NULL) {
			fend = next = end;
			break;
		}
		next = le + 1;
		if (next < end && is_wsp(*next)) {
			q = next;
			continue;
		}
		fend = le;
		break;
	}
	if (fend > p && fend[-1] == '\r')
		fend--;
	f->raw_len = fend - p;
	f->next = next;
	for (n = p; n < fend && is_ftext((unsigned char)*n); n++)
		;
	for (c = n; c < fend && is_wsp(*c); c++)
		;
	if (c < fend && *c == ':') {
		if (n == p)
			return RFC5322_BADNAME;
		f->name = p;
		f->name_len = n - p;
		f->value = c + 1;
		f->value_len = fend - (c + 1);
		return RFC5322_OK;
	}
	return memchr(p, ':', fend - p) != NULL ? RFC5322_BADNAME :
	    RFC5322_NOCOLON;
}

/* rfc5322_unfold - append a value without line breaks, trimmed */
int
rfc5322_unfold(struct buf *out, const char *v, size_t len)
{
	const char *end = v + len;

	while (v < end && (is_wsp(*v) || *v == '\r' || *v == '\n'))
		v++;
	while (end > v && (is_wsp(end[-1]) || end[-1] == '\r' ||
	    end[-1] == '\n'))
		end--;
	buf_reserve(out, end - v);
	for (; v < end; v++) {
		if (*v == '\n' || (*v == '\r' && v + 1 < end && v[1] == '\n'))
			continue;
		buf_putc(out, (unsigned char)*v);
	}
	return out->failed ? -1 : 0;
}

/* rfc5322_strerror - a status as text */
const char *
rfc5322_strerror(enum rfc5322_status st)
{
	switch (st) {
	case RFC5322_OK:	return "ok";
	case RFC5322_EOH:	return "end of header";
	case RFC5322_BADNAME:	return "bad header field name";
	case RFC5322_NOCOLON:	return "header line without colon";
	case RFC5322_SYNTAX:	return "address syntax error";
	case RFC5322_NOADDR:	return "no address";
	case RFC5322_MULTIPLE:	return "more than one address";
	case RFC5322_NODOMAIN:	return "address without domain";
	case RFC5322_NULLSENDER: return "null sender";
	case RFC5322_TOOMANY:	return "too many addresses";
	case RFC5322_NOMEM:	return "out of memory";
	}
	return "unknown status";
}
