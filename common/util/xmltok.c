/*
 * NAME
 *	xmltok - a bounded XML tokenizer for documents from strangers
 * SYNOPSIS
 *	#include "xmltok.h"
 * DESCRIPTION
 *	A pull tokenizer over a document in memory, one function per
 *	production of XML 1.0 that it accepts: the prolog (an XML
 *	declaration, comments, processing instructions; no doctypedecl),
 *	one root element, and after it only white space, comments and
 *	processing instructions.  The input is taken as UTF-8 bytes; a NUL
 *	byte or a control character other than TAB, CR and LF is an error.
 *
 *	References: &lt; &gt; &amp; &quot; &apos; and &#N; / &#xH; for a
 *	character XML allows; any other name is an error, so a DTD's
 *	entities could not be used even if a DTD were read.  Tags are
 *	matched by their full names, and returned without a prefix.
 * DIAGNOSTICS
 *	XMLTOK_ERROR with x->error, which names the byte offset.  Every
 *	later call returns XMLTOK_ERROR again.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "xmltok.h"

/* fail - set the error (the first one stays) and return XMLTOK_ERROR */
static enum xmltok_tok
fail(struct xmltok *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static enum xmltok_tok
fail(struct xmltok *x, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (x->error[0] == '\0') {
		n = snprintf(x->error, sizeof(x->error), "at byte %zu: ",
		    (size_t)(x->p - x->base));
		va_start(ap, fmt);
		if (n > 0 && (size_t)n < sizeof(x->error))
			vsnprintf(x->error + n, sizeof(x->error) - (size_t)n,
			    fmt, ap);
		va_end(ap);
	}
	return XMLTOK_ERROR;
}

/* xmltok_init - start at the beginning of data */
void
xmltok_init(struct xmltok *x, const char *data, size_t len)
{
	memset(x, 0, sizeof(*x));
	buf_init(&x->text);
	x->base = x->p = data;
	x->end = data + len;
	if (len > XMLTOK_MAX_SIZE) {
		fail(x, "the document is larger than %zu bytes",
		    XMLTOK_MAX_SIZE);
		return;
	}
	/* a UTF-8 byte order mark */
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		x->p += 3;
}

/* xmltok_free - release the text buffer */
void
xmltok_free(struct xmltok *x)
{
	buf_free(&x->text);
}

/* is_space - XML's white space (S) */
static int
is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* name_start, name_char - NameStartChar and NameChar, any byte of a
 * multibyte UTF-8 sequence taken as a letter */
static int
name_start(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	    c == ':' || c >= 0x80;
}

static int
name_char(int c)
{
	return name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

/* skip_space - past white space */
static void
skip_space(struct xmltok *x)
{
	while (x->p < x->end && is_space((unsigned char)*x->p))
		x->p++;
}

/* starts - does the input at p begin with s? */
static int
starts(const struct xmltok *x, const char *s)
{
	size_t n = strlen(s);

	return (size_t)(x->end - x->p) >= n && memcmp(x->p, s, n) == 0;
}

/* skip_past - move past the next occurrence of s; -1 when absent */
static int
skip_past(struct xmltok *x, const char *s)
{
	const char *q = memmem(x->p, (size_t)(x->end - x->p), s, strlen(s));

	if (q == NULL)
		return -1;
	x->p = q + strlen(s);
	return 0;
}

/* bad_byte - a byte XML does not allow in a document */
static int
bad_byte(int c)
{
	return c < 0x20 && c != '\t' && c != '\r' && c != '\n';
}

/* Name - an element or attribute name into out (NUL-terminated) */
static enum xmltok_tok
name(struct xmltok *x, char *out, const char *what)
{
	size_t n = 0;

	if (x->p >= x->end)
		return fail(x, "the document ends in a %s", what);
	if (!name_start((unsigned char)*x->p))
		return fail(x, "a %s does not begin with a name", what);
	while (x->p < x->end && name_char((unsigned char)*x->p)) {
		if (n == XMLTOK_MAX_NAME)
			return fail(x, "a name longer than %d bytes",
			    XMLTOK_MAX_NAME);
		out[n++] = *x->p++;
	}
	out[n] = '\0';
	return XMLTOK_START;
}

/* put_utf8 - a code point as UTF-8 */
static void
put_utf8(struct buf *b, unsigned long c)
{
	if (c < 0x80)
		buf_putc(b, (int)c);
	else if (c < 0x800) {
		buf_putc(b, (int)(0xc0 | c >> 6));
		buf_putc(b, (int)(0x80 | (c & 0x3f)));
	} else if (c < 0x10000) {
		buf_putc(b, (int)(0xe0 | c >> 12));
		buf_putc(b, (int)(0x80 | (c >> 6 & 0x3f)));
		buf_putc(b, (int)(0x80 | (c & 0x3f)));
	} else {
		buf_putc(b, (int)(0xf0 | c >> 18));
		buf_putc(b, (int)(0x80 | (c >> 12 & 0x3f)));
		buf_putc(b, (int)(0x80 | (c >> 6 & 0x3f)));
		buf_putc(b, (int)(0x80 | (c & 0x3f)));
	}
}

/* Reference - "&...;" at p, decoded into out (NULL: checked only) */
static enum xmltok_tok
reference(struct xmltok *x, struct buf *out)
{
	static const struct {
		const char *name;
		char c;
	} predef[] = {
		{ "lt;", '<' }, { "gt;", '>' }, { "amp;", '&' },
		{ "quot;", '"' }, { "apos;", '\'' },
	};
	unsigned long c = 0;
	size_t i;
	int digits = 0, hex;

	x->p++;		/* & */
	for (i = 0; i < sizeof(predef) / sizeof(predef[0]); i++)
		if (starts(x, predef[i].name)) {
			x->p += strlen(predef[i].name);
			if (out != NULL)
				buf_putc(out, predef[i].c);
			return XMLTOK_START;
		}
	if (!starts(x, "#"))
		return fail(x, "an entity other than the five predefined "
		    "ones");
	x->p++;
	hex = starts(x, "x");
	x->p += hex;
	for (; x->p < x->end && *x->p != ';'; x->p++, digits++) {
		int d = (unsigned char)*x->p, v;

		if (d >= '0' && d <= '9')
			v = d - '0';
		else if (hex && d >= 'a' && d <= 'f')
			v = d - 'a' + 10;
		else if (hex && d >= 'A' && d <= 'F')
			v = d - 'A' + 10;
		else
			return fail(x, "a bad character reference");
		if (digits >= 8)
			return fail(x, "a character reference out of range");
		c = c * (hex ? 16 : 10) + (unsigned long)v;
	}
	if (x->p >= x->end || digits == 0)
		return fail(x, "a bad character reference");
	x->p++;
	if ((c < 0x20 && c != '\t' && c != '\r' && c != '\n') ||
	    (c >= 0xd800 && c <= 0xdfff) || c == 0xfffe || c == 0xffff ||
	    c > 0x10ffff)
		return fail(x, "a reference to a character XML does not "
		    "allow (%lu)", c);
	if (out != NULL)
		put_utf8(out, c);
	return XMLTOK_START;
}

/* text_limit - has the element's text outgrown the bound? */
static enum xmltok_tok
text_limit(struct xmltok *x)
{
	if (x->text.failed)
		return fail(x, "out of memory");
	if (x->text.len > XMLTOK_MAX_TEXT)
		return fail(x, "an element's text is longer than %d bytes",
		    XMLTOK_MAX_TEXT);
	return XMLTOK_START;
}

/* CharData - text up to the next '<', references decoded */
static enum xmltok_tok
chardata(struct xmltok *x)
{
	while (x->p < x->end && *x->p != '<') {
		int c = (unsigned char)*x->p;
		const char *run = x->p;

		if (c == '&') {
			if (x->depth == 0)
				return fail(x, "a reference outside the root "
				    "element");
			if (reference(x, &x->text) == XMLTOK_ERROR)
				return XMLTOK_ERROR;
		} else if (bad_byte(c)) {
			return fail(x, "a control character (0x%02x)", c);
		} else if (x->depth == 0 && !is_space(c)) {
			return fail(x, "text outside the root element");
		} else {
			while (x->p < x->end && *x->p != '<' && *x->p != '&' &&
			    !bad_byte((unsigned char)*x->p) &&
			    (x->depth > 0 || is_space((unsigned char)*x->p)))
				x->p++;
			if (x->depth > 0)
				buf_append(&x->text, run, (size_t)(x->p - run));
		}
		if (text_limit(x) == XMLTOK_ERROR)
			return XMLTOK_ERROR;
	}
	return XMLTOK_START;
}

/* Attribute - name = "value" (checked, not kept) */
static enum xmltok_tok
attribute(struct xmltok *x)
{
	char an[XMLTOK_MAX_NAME + 1];
	char q;

	if (name(x, an, "attribute") == XMLTOK_ERROR)
		return XMLTOK_ERROR;
	skip_space(x);
	if (!starts(x, "="))
		return fail(x, "an attribute without '='");
	x->p++;
	skip_space(x);
	if (x->p >= x->end || (*x->p != '"' && *x->p != '\''))
		return fail(x, "an attribute value without quotes");
	q = *x->p++;
	while (x->p < x->end && *x->p != q) {
		if (*x->p == '<' || bad_byte((unsigned char)*x->p))
			return fail(x, "a bad byte in an attribute value");
		if (*x->p == '&') {
			if (reference(x, NULL) == XMLTOK_ERROR)
				return XMLTOK_ERROR;
		} else
			x->p++;
	}
	if (x->p >= x->end)
		return fail(x, "the document ends in an attribute value");
	x->p++;
	return XMLTOK_START;
}

/* local - a name without its prefix */
static const char *
local(const char *qname)
{
	const char *c = strrchr(qname, ':');

	return c != NULL ? c + 1 : qname;
}

/* STag - "<name attr... >" or "<name .../>" */
static enum xmltok_tok
start_tag(struct xmltok *x)
{
	char *n;
	int attrs = 0;

	if (x->closed)
		return fail(x, "a second root element");
	if (x->depth == XMLTOK_MAX_DEPTH)
		return fail(x, "elements nested deeper than %d",
		    XMLTOK_MAX_DEPTH);
	if (++x->elements > XMLTOK_MAX_ELEMENTS)
		return fail(x, "more than %d elements", XMLTOK_MAX_ELEMENTS);
	x->p++;		/* < */
	n = x->stack[x->depth];
	if (name(x, n, "start tag") == XMLTOK_ERROR)
		return XMLTOK_ERROR;
	for (;;) {
		int sp = x->p < x->end && is_space((unsigned char)*x->p);

		skip_space(x);
		if (x->p >= x->end)
			return fail(x, "the document ends in a start tag");
		if (*x->p == '>' || starts(x, "/>"))
			break;
		if (!sp)
			return fail(x, "no space before an attribute");
		if (++attrs > XMLTOK_MAX_ATTRS)
			return fail(x, "more than %d attributes",
			    XMLTOK_MAX_ATTRS);
		if (attribute(x) == XMLTOK_ERROR)
			return XMLTOK_ERROR;
	}
	if (*x->p == '/') {
		x->empty = 1;
		x->p++;
	}
	x->p++;
	x->depth++;
	x->name = local(n);
	buf_reset(&x->text);
	return XMLTOK_START;
}


/* pop - the innermost open element ends */
static enum xmltok_tok
pop(struct xmltok *x)
{
	x->depth--;
	x->name = local(x->stack[x->depth]);
	if (x->depth == 0)
		x->closed = 1;
	x->ended = 1;
	return XMLTOK_END;
}
/* ETag - "</name>", the name the open element's */
static enum xmltok_tok
end_tag(struct xmltok *x)
{
	char n[XMLTOK_MAX_NAME + 1];

	x->p += 2;	/* </ */
	if (name(x, n, "end tag") == XMLTOK_ERROR)
		return XMLTOK_ERROR;
	skip_space(x);
	if (!starts(x, ">"))
		return fail(x, "an end tag without '>'");
	if (x->depth == 0)
		return fail(x, "an end tag outside the root element");
	if (strcmp(n, x->stack[x->depth - 1]) != 0)
		return fail(x, "</%s> ends <%s>", n, x->stack[x->depth - 1]);
	x->p++;
	return pop(x);
}

/* markup - a comment, CDATA, PI, or a declaration (refused) */
static enum xmltok_tok
markup(struct xmltok *x)
{
	if (starts(x, "<!--")) {
		x->p += 4;
		if (skip_past(x, "-->") < 0)
			return fail(x, "the document ends in a comment");
		return XMLTOK_START;
	}
	if (starts(x, "<![CDATA[")) {
		const char *s;

		if (x->depth == 0)
			return fail(x, "CDATA outside the root element");
		x->p += 9;
		s = x->p;
		if (skip_past(x, "]]>") < 0)
			return fail(x, "the document ends in CDATA");
		buf_append(&x->text, s, (size_t)(x->p - 3 - s));
		for (; s < x->p - 3; s++)
			if (bad_byte((unsigned char)*s))
				return fail(x, "a control character in CDATA");
		return text_limit(x);
	}
	if (starts(x, "<?")) {
		x->p += 2;
		if (skip_past(x, "?>") < 0)
			return fail(x, "the document ends in a processing "
			    "instruction");
		return XMLTOK_START;
	}
	if (starts(x, "<!DOCTYPE"))
		return fail(x, "a document type declaration (DTDs are not "
		    "accepted)");
	return fail(x, "an unknown declaration");
}

/* xmltok_next - the next start or end tag, the end, or an error */
enum xmltok_tok
xmltok_next(struct xmltok *x)
{
	if (x->error[0] != '\0')
		return XMLTOK_ERROR;
	if (x->ended) {		/* the text of the last end tag is read */
		x->ended = 0;
		buf_reset(&x->text);
	}
	if (x->empty) {
		x->empty = 0;
		return pop(x);
	}
	for (;;) {
		if (chardata(x) == XMLTOK_ERROR)
			return XMLTOK_ERROR;
		if (x->p >= x->end) {
			if (x->depth > 0)
				return fail(x, "the document ends inside <%s> "
				    "(truncated?)", x->stack[x->depth - 1]);
			if (!x->closed)
				return fail(x, "no root element");
			return XMLTOK_EOF;
		}
		if (starts(x, "</"))
			return end_tag(x);
		if (starts(x, "<!") || starts(x, "<?")) {
			if (markup(x) == XMLTOK_ERROR)
				return XMLTOK_ERROR;
			continue;
		}
		return start_tag(x);
	}
}

/* xml_escape - see xmltok.h */
void
xml_escape(struct buf *b, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		switch (*s) {
		case '&':
			buf_puts(b, "&amp;");
			break;
		case '<':
			buf_puts(b, "&lt;");
			break;
		case '>':
			buf_puts(b, "&gt;");
			break;
		case '"':
			buf_puts(b, "&quot;");
			break;
		case '\'':
			buf_puts(b, "&apos;");
			break;
		default:
			/* no other control character is allowed in XML */
			if ((unsigned char)*s >= 0x20 ? *s != 0x7f : *s == '\t')
				buf_putc(b, *s);
			break;
		}
	}
}
