/*
 * NAME
 *	tagvalue - DKIM tag=value lists
 * SYNOPSIS
 *	#include "tagvalue.h"
 * DESCRIPTION
 *	tagvalue_parse() reads a tag-list as RFC 6376 section 3.2 defines
 *	it; one function per ABNF rule:
 *
 *	tag-list  = tag-spec *( ";" tag-spec ) [ ";" ]
 *	tag-spec  = [FWS] tag-name [FWS] "=" [FWS] tag-value [FWS]
 *	tag-name  = ALPHA *ALNUMPUNC
 *	tag-value = [ tval *( 1*(WSP / FWS) tval ) ]
 *	tval      = 1*VALCHAR	; %x21-3A / %x3C-7E
 *
 *	FWS is taken as any run of SP, TAB, CR and LF (bare LF folding is
 *	seen in the wild).  Bytes 0x80-0xff are accepted in values (UTF-8
 *	in i= under RFC 8616); other control bytes, NUL included, are not.
 *	The text of a known tag is recorded both trimmed (value, len) and
 *	raw (raw_start..raw_end, the span a verifier blanks for "b=").
 * DIAGNOSTICS
 *	An enum tagvalue_status; on TAGVALUE_SYNTAX *erroff is the offset
 *	of the offending byte, on TAGVALUE_DUPLICATE the offset of the
 *	second occurrence's tag name.
 */
#include <string.h>

#include "tagvalue.h"

/* tv_fws - skip folding white space */
static const char *
tv_fws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
		p++;
	return p;
}

/* tv_tag_name - ALPHA *ALNUMPUNC; NULL if none */
static const char *
tv_tag_name(const char *p, const char *end)
{
	if (p >= end || !((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
		return NULL;
	for (p++; p < end; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '_'))
			break;
	return p;
}

/* tv_valchar - 1 for VALCHAR (and 8-bit bytes) */
static int
tv_valchar(unsigned char c)
{
	return (c >= 0x21 && c <= 0x7e && c != ';') || c >= 0x80;
}

/* tv_tag_value - tval *(FWS tval); returns the end of the last tval */
static const char *
tv_tag_value(const char *p, const char *end)
{
	const char *last = p, *q;

	while (p < end && tv_valchar((unsigned char)*p)) {
		while (p < end && tv_valchar((unsigned char)*p))
			p++;
		last = p;
		q = tv_fws(p, end);
		if (q == p)
			break;
		p = q;
	}
	return last;
}

/* tv_lookup - index of a name in the caller's table, or n */
static size_t
tv_lookup(const char *const *names, size_t n, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strlen(names[i]) == len && memcmp(names[i], name, len) == 0)
			return i;
	return n;
}

/* tv_seen - 1 when an earlier tag had the same name */
static int
tv_seen(const char **seen, const size_t *seenlen, size_t nseen,
    const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < nseen; i++)
		if (seenlen[i] == len && memcmp(seen[i], name, len) == 0)
			return 1;
	return 0;
}

/* tagvalue_parse - parse a tag-list */
enum tagvalue_status
tagvalue_parse(const char *s, size_t len, const char *const *names, size_t n,
    struct tagvalue *vals, size_t *erroff)
{
	const char *seen[TAGVALUE_MAX_TAGS];
	size_t seenlen[TAGVALUE_MAX_TAGS], nseen = 0, i;
	const char *p = s, *end = s + len, *name, *q, *vstart, *vend;

	for (i = 0; i < n; i++)
		memset(&vals[i], 0, sizeof(vals[i]));
	for (;;) {
		p = tv_fws(p, end);
		if (p == end)
			return TAGVALUE_OK;	/* empty list or trailing ";" */
		name = p;
		if ((q = tv_tag_name(p, end)) == NULL)
			goto syntax;
		p = tv_fws(q, end);
		if (p == end || *p != '=')
			goto syntax;
		if (nseen == TAGVALUE_MAX_TAGS)
			return TAGVALUE_TOOMANY;
		if (tv_seen(seen, seenlen, nseen, name, (size_t)(q - name))) {
			if (erroff != NULL)
				*erroff = (size_t)(name - s);
			return TAGVALUE_DUPLICATE;
		}
		seen[nseen] = name;
		seenlen[nseen++] = (size_t)(q - name);
		i = tv_lookup(names, n, name, (size_t)(q - name));
		vstart = ++p;
		p = tv_fws(p, end);
		vend = tv_tag_value(p, end);
		if (i < n) {
			vals[i].value = p;
			vals[i].len = (size_t)(vend - p);
			vals[i].raw_start = (size_t)(vstart - s);
		}
		p = tv_fws(vend, end);
		if (i < n)
			vals[i].raw_end = (size_t)(p - s);
		if (p == end)
			return TAGVALUE_OK;
		if (*p != ';')
			goto syntax;
		p++;
	}
syntax:
	if (erroff != NULL)
		*erroff = (size_t)(p - s);
	return TAGVALUE_SYNTAX;
}

/* tagvalue_is - compare a present value with a string */
int
tagvalue_is(const struct tagvalue *v, const char *str)
{
	return v->value != NULL && strlen(str) == v->len &&
	    memcmp(v->value, str, v->len) == 0;
}

/* tagvalue_next_item - next sep-separated item of a value */
int
tagvalue_next_item(const struct tagvalue *v, int sep, size_t *pos,
    const char **item, size_t *ilen)
{
	const char *p, *end, *q, *e;

	if (v->value == NULL || *pos > v->len)
		return 0;
	p = v->value + *pos;
	end = v->value + v->len;
	for (q = p; q < end && *q != sep; q++)
		;
	*pos = (size_t)(q - v->value) + 1;
	p = tv_fws(p, q);
	for (e = q; e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' ||
	    e[-1] == '\n'); e--)
		;
	*item = p;
	*ilen = (size_t)(e - p);
	return 1;
}

/* tagvalue_strerror - name a status */
const char *
tagvalue_strerror(enum tagvalue_status st)
{
	switch (st) {
	case TAGVALUE_OK:
		return "ok";
	case TAGVALUE_SYNTAX:
		return "tag list syntax error";
	case TAGVALUE_DUPLICATE:
		return "duplicate tag";
	case TAGVALUE_TOOMANY:
		return "too many tags";
	}
	return "unknown tag list status";
}
