/*
 * NAME
 *	authres - Authentication-Results header fields (RFC 8601)
 * SYNOPSIS
 *	#include "authres.h"
 * DESCRIPTION
 *	authres_write() appends "authserv-id [version]; resinfo; ..." to a
 *	buffer: each resinfo is "method[/version]=result (comment)
 *	reason=value ptype.property=value ...".  The authserv-id, reasons
 *	and property values are written as tokens when they are RFC 2045
 *	tokens (property values also as [local-part] "@" domain-name) and
 *	as quoted strings otherwise; comments are escaped.  Raw 8-bit
 *	bytes never go out: in quoted strings and comments every byte >=
 *	0x80 becomes "?", unless AUTHRES_UTF8 keeps well-formed UTF-8 (for
 *	a message that may carry it, RFC 6532); control characters become
 *	"?" too, CR and LF are left out.  Each resinfo
 *	starts a new line (";" then CRLF TAB, or LF TAB with AUTHRES_LF);
 *	a line is folded before AUTHRES_FOLD_COLUMN between elements; col
 *	is the column where the value starts (AUTHRES_NAME_LEN after
 *	"Authentication-Results: ").  With no result it writes
 *	"authserv-id; none".  It returns 0, or -1 when the buffer failed.
 *
 *	authres_parse() reads a header value: [CFWS] authserv-id [CFWS
 *	version] then "; none" or resinfo.  Comments (nested), folding and
 *	quoted strings are accepted wherever RFC 8601 allows CFWS.  It is
 *	lenient where common software is not compliant: property values
 *	may hold "/", "=", ":" unquoted (base64 header.b, IPv6 addresses),
 *	and "keyword=value" items without a ptype (Microsoft's
 *	"action=none") are skipped.  A header without any ";" is taken as
 *	carrying no results.
 *
 *	authres_authserv_id() extracts the authserv-id alone (comments
 *	skipped, quotes removed; when the value is malformed before the
 *	id, as a lenient reader would find it).  authres_is_ours()
 *	compares it with a given id, without case and ignoring one
 *	trailing dot on either side, so that a filter can delete every
 *	header field claiming its own id however it is disguised with
 *	comments, case, folding or quoting.
 *
 *	authres_find() iterates over the results of one method;
 *	authres_prop_get() returns the value of a property of a result.
 * DIAGNOSTICS
 *	authres_parse() returns AUTHRES_SYNTAX at the first error, keeping
 *	the authserv-id and the results complete before it; AUTHRES_TOOMANY
 *	past the limits of authres.h.  authres_is_ours() returns 1 or 0,
 *	or -1 when out of memory.
 * SEE ALSO
 *	RFC 8601, RFC 2045 (token), RFC 5322 (CFWS, quoted-string).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "authres.h"
#include "buf.h"
#include "rfc5322.h"

/* The writer's state: the output and the current column. */
struct writer {
	struct buf	*out;
	size_t		 col;
	const char	*eol;
	unsigned	 flags;
};

/* is_tspecial - RFC 2045 tspecials */
static int
is_tspecial(int c)
{
	return c != '\0' && strchr("()<>@,;:\\\"/[]?=", c) != NULL;
}

/* is_token_char - RFC 2045: US-ASCII but SPACE, CTLs and tspecials */
static int
is_token_char(unsigned char c)
{
	return c > 32 && c < 127 && !is_tspecial(c);
}

/* is_pvalue_char - lenient pvalue: token chars and "@/=:?[]", UTF-8 */
static int
is_pvalue_char(unsigned char c)
{
	return is_token_char(c) || c >= 0x80 ||
	    (c != '\0' && strchr("@/=:?[]", c) != NULL);
}

/* is_token - the whole string is an RFC 2045 token */
static int
is_token(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!is_token_char((unsigned char)*s))
			return 0;
	return 1;
}

/* is_dot_atom - dot-atom-text, ASCII only */
static int
is_dot_atom(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || s[0] == '.' || s[len - 1] == '.')
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.' ? s[i + 1] == '.' : !(c > 32 && c < 127 &&
		    strchr("()<>@,;:\\\"[]", c) == NULL))
			return 0;
	}
	return 1;
}

/* is_addr_pvalue - [ [ local-part ] "@" ] domain-name, dot-atom local */
static int
is_addr_pvalue(const char *s)
{
	const char *at = strrchr(s, '@');
	const char *dom = at != NULL ? at + 1 : s;

	if (at != NULL && at != s && !is_dot_atom(s, at - s))
		return 0;
	return strchr(dom, '.') != NULL &&
	    rfc5322_domain_valid(dom, strlen(dom), RFC5322_DOM_UNDERSCORE);
}

/*
 * utf8_len - the length of the well-formed UTF-8 sequence of a non-ASCII
 * character at s (RFC 3629: no overlong form, no surrogate, at most
 * U+10FFFF), or 0
 */
static size_t
utf8_len(const unsigned char *s)
{
	size_t n, i;
	unsigned long c;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, c = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, c = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, c = s[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)	/* the NUL stops here too */
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
	    (n == 4 && (c < 0x10000 || c > 0x10ffff)))
		return 0;
	return n;
}

/*
 * put_text - the text of a quoted-string or comment, the characters in
 * special escaped: CR and LF are left out, other control characters
 * become "?", and so does every byte >= 0x80, unless AUTHRES_UTF8 keeps
 * the well-formed UTF-8 ones (RFC 6532); raw 8-bit bytes never go out
 */
static void
put_text(struct buf *b, const char *s, const char *special, unsigned flags)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;

	while (*p != '\0') {
		if (*p >= 0x80) {
			n = (flags & AUTHRES_UTF8) ? utf8_len(p) : 0;
			if (n > 0)
				buf_append(b, p, n);
			else
				buf_putc(b, '?');
			p += n > 0 ? n : 1;
			continue;
		}
		if (*p == '\r' || *p == '\n') {
			p++;
			continue;
		}
		if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
			buf_putc(b, '?');
		else {
			if (strchr(special, *p) != NULL)
				buf_putc(b, '\\');
			buf_putc(b, *p);
		}
		p++;
	}
}

/* put_value - value: token / quoted-string; addr allows the pvalue form */
static void
put_value(struct buf *b, const char *s, int addr, unsigned flags)
{
	if (is_token(s) || (addr && is_addr_pvalue(s)))
		buf_puts(b, s);
	else {
		buf_putc(b, '"');
		put_text(b, s, "\"\\", flags);
		buf_putc(b, '"');
	}
}

/* put_comment - "(" text ")" with parentheses and backslashes escaped */
static void
put_comment(struct buf *b, const char *s, unsigned flags)
{
	buf_putc(b, '(');
	put_text(b, s, "()\\", flags);
	buf_putc(b, ')');
}

/* emit - one element after a space, or on a new line when too long */
static void
emit(struct writer *w, const struct buf *elem, int newline)
{
	if (newline || (w->col > 8 &&
	    w->col + 1 + elem->len > AUTHRES_FOLD_COLUMN)) {
		buf_puts(w->out, w->eol);
		w->col = 8;
	} else {
		buf_putc(w->out, ' ');
		w->col++;
	}
	buf_append(w->out, elem->s != NULL ? elem->s : "", elem->len);
	w->col += elem->len;
}

/* write_resinfo - one resinfo, its elements folded as needed */
static void
write_resinfo(struct writer *w, const struct authres_resinfo *r,
    struct buf *e)
{
	size_t i;

	buf_truncate(e, 0);
	buf_puts(e, r->method);
	if (r->version > 0)
		buf_printf(e, "/%u", r->version);
	buf_putc(e, '=');
	buf_puts(e, r->result);
	emit(w, e, 1);
	if (r->comment != NULL) {
		buf_truncate(e, 0);
		put_comment(e, r->comment, w->flags);
		emit(w, e, 0);
	}
	if (r->reason != NULL) {
		buf_truncate(e, 0);
		buf_puts(e, "reason=");
		put_value(e, r->reason, 0, w->flags);
		emit(w, e, 0);
	}
	for (i = 0; i < r->nprops; i++) {
		buf_truncate(e, 0);
		buf_printf(e, "%s.%s=", r->props[i].ptype,
		    r->props[i].property);
		put_value(e, r->props[i].value, 1, w->flags);
		emit(w, e, 0);
	}
}

/* authres_write - append an Authentication-Results value */
int
authres_write(struct buf *out, size_t col, unsigned flags,
    const char *authserv_id, unsigned version,
    const struct authres_resinfo *res, size_t n)
{
	struct writer w = { out, 0, (flags & AUTHRES_LF) ? "\n\t" : "\r\n\t",
	    flags };
	struct buf e = BUF_INIT;
	size_t i, start = out->len;

	put_value(out, authserv_id, 0, flags);
	if (version > 0)
		buf_printf(out, " %u", version);
	w.col = col + (out->len - start);
	if (n == 0)
		buf_puts(out, "; none");
	for (i = 0; i < n; i++) {
		buf_putc(out, ';');
		w.col++;
		write_resinfo(&w, &res[i], &e);
	}
	if (e.failed)
		out->failed = 1;
	buf_free(&e);
	return out->failed ? -1 : 0;
}

/* keyword - Keyword (ldh-str, "_" tolerated), lowercased into out */
static const char *
keyword(const char *p, const char *end, struct buf *out)
{
	const char *start = p;

	for (; p < end; p++) {
		unsigned char c = (unsigned char)*p;

		if ((c >= 'A' && c <= 'Z'))
			c = c - 'A' + 'a';
		else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_'))
			break;
		buf_putc(out, c);
	}
	return p == start ? NULL : p;
}

/* value - token / quoted-string (RFC 2045), unquoted into out */
static const char *
value(const char *p, const char *end, struct buf *out)
{
	const char *start = p;

	if (p < end && *p == '"')
		return rfc5322_quoted_string(p, end, out);
	while (p < end && is_token_char((unsigned char)*p))
		p++;
	if (p == start)
		return NULL;
	buf_append(out, start, p - start);
	return p;
}

/*
 * pvalue - [CFWS] ( value / [ [ local-part ] "@" ] domain-name ) [CFWS];
 * a quoted local part keeps its quotes, a whole quoted value loses them
 */
static const char *
pvalue(const char *p, const char *end, struct buf *out)
{
	const char *start, *q;

	if ((p = rfc5322_cfws(p, end)) == NULL)
		return NULL;
	start = p;
	if (p < end && *p == '"') {
		if ((q = rfc5322_quoted_string(p, end, out)) == NULL)
			return NULL;
		if (q < end && *q == '@') {
			buf_truncate(out, 0);
			for (p = q + 1; p < end && is_pvalue_char(*p); p++)
				;
			buf_append(out, start, p - start);
			q = p;
		}
		return rfc5322_cfws(q, end);
	}
	while (p < end && is_pvalue_char((unsigned char)*p))
		p++;
	buf_append(out, start, p - start);
	return rfc5322_cfws(p, end);
}

/* digits - 1*DIGIT as an unsigned, saturating */
static const char *
digits(const char *p, const char *end, unsigned *v)
{
	const char *start = p;

	for (*v = 0; p < end && *p >= '0' && *p <= '9'; p++)
		*v = *v > 100000 ? *v : *v * 10 + (*p - '0');
	return p == start ? NULL : p;
}

/* take_str - the buffer's contents as a new string, the buffer emptied */
static char *
take_str(struct buf *b)
{
	char *s = buf_detach(b);

	buf_init(b);
	return s;
}

/* add_prop - a new, zeroed property of r; NULL when out of memory */
static struct authres_prop *
add_prop(struct authres_resinfo *r)
{
	struct authres_prop *v;

	if ((v = realloc(r->props, (r->nprops + 1) * sizeof(*v))) == NULL)
		return NULL;
	r->props = v;
	memset(&v[r->nprops], 0, sizeof(*v));
	return &v[r->nprops++];
}

/*
 * propspec - ptype [CFWS] "." [CFWS] property [CFWS] "=" pvalue, or a
 * reasonspec, or a stray "keyword=value" (skipped)
 */
static const char *
propspec(const char *p, const char *end, struct authres_resinfo *r,
    struct buf *t, enum authres_status *st)
{
	struct authres_prop *pr;
	struct buf prop = BUF_INIT;

	buf_truncate(t, 0);
	if ((p = keyword(p, end, t)) == NULL ||
	    (p = rfc5322_cfws(p, end)) == NULL || p >= end)
		return NULL;
	if (*p == '=') {
		int reason = r->reason == NULL && strcmp(buf_str(t), "reason") == 0;

		buf_truncate(t, 0);
		if ((p = rfc5322_cfws(p + 1, end)) == NULL ||
		    (p = reason ? value(p, end, t) : pvalue(p, end, t)) == NULL)
			return NULL;
		if (reason && (r->reason = take_str(t)) == NULL)
			*st = AUTHRES_NOMEM;
		return rfc5322_cfws(p, end);
	}
	if (*p != '.' || (p = rfc5322_cfws(p + 1, end)) == NULL ||
	    (p = keyword(p, end, &prop)) == NULL ||
	    (p = rfc5322_cfws(p, end)) == NULL || p >= end || *p != '=') {
		buf_free(&prop);
		return NULL;
	}
	if (r->nprops >= AUTHRES_MAX_PROPS) {
		*st = AUTHRES_TOOMANY;
		buf_free(&prop);
		return NULL;
	}
	if ((pr = add_prop(r)) == NULL) {
		*st = AUTHRES_NOMEM;
		buf_free(&prop);
		return NULL;
	}
	pr->ptype = take_str(t);
	pr->property = take_str(&prop);
	p = pvalue(p + 1, end, t);
	pr->value = take_str(t);
	if (pr->ptype == NULL || pr->property == NULL || pr->value == NULL)
		*st = AUTHRES_NOMEM;
	return p;
}

/*
 * methodspec - [CFWS] method [ [CFWS] "/" [CFWS] version ] [CFWS] "="
 * [CFWS] result, then the first comment after the result, kept
 */
static const char *
methodspec(const char *p, const char *end, struct authres_resinfo *r,
    struct buf *t)
{
	const char *q;

	buf_truncate(t, 0);
	if ((p = keyword(p, end, t)) == NULL ||
	    (r->method = take_str(t)) == NULL || (p = rfc5322_cfws(p, end)) == NULL)
		return NULL;
	if (p < end && *p == '/') {
		if ((p = rfc5322_cfws(p + 1, end)) == NULL ||
		    (p = digits(p, end, &r->version)) == NULL ||
		    (p = rfc5322_cfws(p, end)) == NULL)
			return NULL;
	}
	if (p >= end || *p != '=' || (p = rfc5322_cfws(p + 1, end)) == NULL ||
	    (p = keyword(p, end, t)) == NULL || (r->result = take_str(t)) == NULL)
		return NULL;
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
		p++;
	if (p < end && *p == '(') {
		if ((q = rfc5322_comment(p, end, t)) == NULL)
			return NULL;
		r->comment = take_str(t);
		p = q;
	}
	return rfc5322_cfws(p, end);
}

/* resinfo - methodspec [CFWS reasonspec] [CFWS 1*propspec], after ";" */
static const char *
resinfo(const char *p, const char *end, struct authres_resinfo *r,
    struct buf *t, enum authres_status *st)
{
	if ((p = methodspec(p, end, r, t)) == NULL) {
		if (t->failed)
			*st = AUTHRES_NOMEM;
		return NULL;
	}
	while (p < end && *p != ';')
		if ((p = propspec(p, end, r, t, st)) == NULL)
			return NULL;
	return p;
}

/* authserv_id - [CFWS] authserv-id, unquoted into out */
static const char *
authserv_id(const char *p, const char *end, struct buf *out)
{
	if ((p = rfc5322_cfws(p, end)) == NULL)
		return NULL;
	return value(p, end, out);
}

/* is_none - [CFWS] "none" [CFWS] at the end of the value */
static int
is_none(const char *p, const char *end)
{
	if (end - p < 4 || strncasecmp(p, "none", 4) != 0)
		return 0;
	p = rfc5322_cfws(p + 4, end);
	return p == end;
}

/* resinfo_free - release the strings of one result */
static void
resinfo_free(struct authres_resinfo *r)
{
	size_t j;

	for (j = 0; j < r->nprops; j++) {
		free(r->props[j].ptype);
		free(r->props[j].property);
		free(r->props[j].value);
	}
	free(r->props);
	free(r->method);
	free(r->result);
	free(r->reason);
	free(r->comment);
	memset(r, 0, sizeof(*r));
}

/* results - ( no-result / 1*resinfo ) [CFWS] */
static enum authres_status
results(const char *p, const char *end, struct authres *ar, struct buf *t)
{
	enum authres_status st = AUTHRES_OK;
	struct authres_resinfo *v;

	while (p < end) {
		if (*p != ';' || (p = rfc5322_cfws(p + 1, end)) == NULL)
			return AUTHRES_SYNTAX;
		if (p == end || (ar->nres == 0 && is_none(p, end)))
			return AUTHRES_OK;
		if (ar->nres >= AUTHRES_MAX_RESULTS)
			return AUTHRES_TOOMANY;
		if ((v = realloc(ar->res, (ar->nres + 1) * sizeof(*v))) == NULL)
			return AUTHRES_NOMEM;
		ar->res = v;
		v += ar->nres;
		memset(v, 0, sizeof(*v));
		ar->nres++;
		if ((p = resinfo(p, end, v, t, &st)) == NULL ||
		    st != AUTHRES_OK) {
			resinfo_free(v);
			ar->nres--;
			return st != AUTHRES_OK ? st : AUTHRES_SYNTAX;
		}
	}
	return AUTHRES_OK;
}

/* authres_parse - parse an Authentication-Results value */
enum authres_status
authres_parse(const char *s, size_t len, struct authres *ar)
{
	const char *p, *q, *end = s + len;
	struct buf t = BUF_INIT;
	enum authres_status st;

	memset(ar, 0, sizeof(*ar));
	if ((p = authserv_id(s, end, &t)) == NULL) {
		buf_free(&t);
		return AUTHRES_SYNTAX;
	}
	if ((ar->authserv_id = take_str(&t)) == NULL)
		return AUTHRES_NOMEM;
	if ((p = rfc5322_cfws(p, end)) == NULL) {
		buf_free(&t);
		return AUTHRES_SYNTAX;
	}
	if ((q = digits(p, end, &ar->version)) != NULL &&
	    (q = rfc5322_cfws(q, end)) != NULL)
		p = q;
	st = results(p, end, ar, &t);
	buf_free(&t);
	return st;
}

/* authres_free - release a parsed header */
void
authres_free(struct authres *ar)
{
	size_t i;

	for (i = 0; i < ar->nres; i++)
		resinfo_free(&ar->res[i]);
	free(ar->res);
	free(ar->authserv_id);
	memset(ar, 0, sizeof(*ar));
}

/*
 * loose_cfws - white space, CR and LF in any arrangement and comments
 * nested to any depth holding any byte, as lenient readers skip them;
 * NULL when a comment is not closed
 */
static const char *
loose_cfws(const char *p, const char *end)
{
	size_t depth;

	for (;;) {
		while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' ||
		    *p == '\n'))
			p++;
		if (p >= end || *p != '(')
			return p;
		for (depth = 0; p < end; p++) {
			if (*p == '\\' && p + 1 < end)
				p++;
			else if (*p == '(')
				depth++;
			else if (*p == ')' && --depth == 0)
				break;
		}
		if (p >= end)
			return NULL;
		p++;
	}
}

/*
 * authres_authserv_id - the authserv-id of a value into out; 0 or -1.
 * When the value breaks RFC 8601 before the id (comments nested past
 * RFC5322_MAX_NESTING, a bare CR), the id is read as a lenient reader
 * would find it, so that such a field cannot hide a claim of our id.
 */
int
authres_authserv_id(const char *s, size_t len, struct buf *out)
{
	size_t mark = out->len;
	const char *p;

	if (authserv_id(s, s + len, out) == NULL) {
		buf_truncate(out, mark);
		if ((p = loose_cfws(s, s + len)) == NULL ||
		    value(p, s + len, out) == NULL)
			return -1;
	}
	return out->failed ? -1 : 0;
}

/* same_id - equal domain names or values: no case, one final dot */
static int
same_id(const char *a, size_t alen, const char *b, size_t blen)
{
	if (alen == 0 || blen == 0)
		return 0;
	if (a[alen - 1] == '.')
		alen--;
	if (b[blen - 1] == '.')
		blen--;
	return alen == blen && strncasecmp(a, b, alen) == 0;
}

/* authres_is_ours - 1 when the value claims authserv_id, else 0; -1 nomem */
int
authres_is_ours(const char *s, const char *id)
{
	struct buf t = BUF_INIT;
	int r;

	if (authres_authserv_id(s, strlen(s), &t) < 0)
		r = t.failed ? -1 : 0;
	else
		r = same_id(buf_str(&t), t.len, id, strlen(id));
	buf_free(&t);
	return r;
}

/* authres_find - the next result of method after *iter (start at 0) */
const struct authres_resinfo *
authres_find(const struct authres *ar, const char *method, size_t *iter)
{
	while (*iter < ar->nres) {
		const struct authres_resinfo *r = &ar->res[(*iter)++];

		if (r->method != NULL && strcasecmp(r->method, method) == 0)
			return r;
	}
	return NULL;
}

/* authres_prop_get - the value of ptype.property in r, or NULL */
const char *
authres_prop_get(const struct authres_resinfo *r, const char *ptype,
    const char *property)
{
	size_t i;

	for (i = 0; i < r->nprops; i++)
		if (strcasecmp(r->props[i].ptype, ptype) == 0 &&
		    strcasecmp(r->props[i].property, property) == 0)
			return r->props[i].value;
	return NULL;
}

/* authres_strerror - a status as text */
const char *
authres_strerror(enum authres_status st)
{
	switch (st) {
	case AUTHRES_OK:	return "ok";
	case AUTHRES_SYNTAX:	return "syntax error";
	case AUTHRES_TOOMANY:	return "too many results or properties";
	case AUTHRES_NOMEM:	return "out of memory";
	}
	return "unknown status";
}

/*
 * stray_method - 1 when "method =" appears as a word outside comments
 * and quoted strings: a result the lenient parser skipped as a stray
 * "keyword=value" inside another method's resinfo (a missing ";")
 */
static int
stray_method(const char *s, const char *end, const char *method)
{
	size_t n = strlen(method);
	const char *p = s, *q;

	while (p < end) {
		q = NULL;
		if (*p == '(')
			q = rfc5322_comment(p, end, NULL);
		else if (*p == '"')
			q = rfc5322_quoted_string(p, end, NULL);
		else if ((p == s || (p[-1] != '\0' &&
		    strchr(" \t\r\n;)", p[-1]) != NULL)) &&
		    (size_t)(end - p) > n && strncasecmp(p, method, n) == 0) {
			for (q = p + n; q < end && (*q == ' ' || *q == '\t' ||
			    *q == '\r' || *q == '\n'); q++)
				;
			if (q < end && *q == '=')
				return 1;
			q = NULL;
		}
		p = q != NULL ? q : p + 1;
	}
	return 0;
}

/* claims_method - does a result of method m concern a milter for method? */
static int
claims_method(const char *m, const char *method)
{
	static const char *const suite[] = { AUTHRES_SUITE_METHODS };
	size_t i;

	if (strcasecmp(m, method) == 0)
		return 1;
	for (i = 0; i < sizeof(suite) / sizeof(suite[0]); i++)
		if (strcasecmp(m, suite[i]) == 0)
			return 0;
	return 1;
}

/*
 * authres_claims - should a milter for one method remove this field?  1
 * when the value claims authserv_id and either carries a result of that
 * method (also one glued into another resinfo without its ";", which the
 * lenient parser skips but other readers may take) or cannot be parsed;
 * 0 otherwise; -1 when out of memory.
 *
 * Milters on one host usually share an authserv-id, and an MTA such as
 * Postfix shows each milter the fields the milters before it added.  A
 * field that claims our id but holds only results of the suite's other
 * methods (AUTHRES_SUITE_METHODS: dkim, spf, dmarc, arc) may be a
 * sibling's, and a forgery of it is that sibling's to remove; a result of
 * any other method under our id is claimed by every milter of the suite,
 * since none of them adds one.  So forgeries go, in any order of milters.
 */
int
authres_claims(const char *s, const char *id, const char *method)
{
	struct authres ar;
	size_t i;
	int r;

	if ((r = authres_is_ours(s, id)) <= 0)
		return r;
	memset(&ar, 0, sizeof(ar));
	if (authres_parse(s, strlen(s), &ar) != AUTHRES_OK) {
		authres_free(&ar);
		return 1;
	}
	for (i = 0, r = 0; i < ar.nres && !r; i++)
		r = ar.res[i].method != NULL &&
		    claims_method(ar.res[i].method, method);
	authres_free(&ar);
	return r || stray_method(s, s + strlen(s), method);
}

/* authres_servid_job - "id", or "id/job" for AuthservIDWithJobID */
int
authres_servid_job(struct buf *out, const char *id, const char *job)
{
	buf_puts(out, id);
	if (job != NULL)
		buf_printf(out, "/%s", job);
	return out->failed ? -1 : 0;
}

/* authres_servid_conf - AuthservID, or the host name */
char *
authres_servid_conf(const char *value)
{
	char host[256];

	if (value != NULL && strcmp(value, "HOSTNAME") != 0)
		return strdup(value);
	if (gethostname(host, sizeof(host)) != 0)
		return strdup("localhost");
	host[sizeof(host) - 1] = '\0';
	return strdup(host);
}
