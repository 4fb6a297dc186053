/*
 * NAME
 *	spfd_hdr - milter-spf: header fields and reply texts from hostile input
 * SYNOPSIS
 *	#include "spfd_hdr.h"
 * DESCRIPTION
 *	spfd_hdr_received_spf() writes
 *		result (receiver: comment) key=value; key=value ...
 *	with the keys of RFC 7208 section 9.1 in the order receiver,
 *	client-ip, envelope-from, helo, identity, mechanism, problem.  A
 *	value is written as a dot-atom when it is one, else as a quoted
 *	string with '"' and '\' escaped; the comment escapes '(', ')' and
 *	'\'.  Every value is cleaned first (spfd_hdr_clean), so the client
 *	cannot end the field, start another, or leave a quote open.
 *
 *	spfd_hdr_reply() prepares a reply text for smfi_setreply, which
 *	refuses CR and LF; Sendmail reads '%' as a format character and
 *	Postfix turns "%%" back into "%", so '%' is doubled.
 * SEE ALSO
 *	RFC 7208 section 9.1, RFC 5322 section 3.2 (atext, quoted-string),
 *	smfi_setreply(3)
 */
#include <string.h>

#include "spfd_hdr.h"

/* spfd_hdr_clean - printable ASCII only, at most max bytes */
int
spfd_hdr_clean(struct buf *out, const char *s, size_t max)
{
	size_t i;

	for (i = 0; s != NULL && s[i] != '\0' && i < max; i++) {
		unsigned char c = (unsigned char)s[i];

		buf_putc(out, c >= 0x20 && c < 0x7f ? c : '?');
	}
	if (out->s == NULL)
		buf_puts(out, "");
	return out->failed ? -1 : 0;
}

/* is_atext - RFC 5322 atext */
static int
is_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != '\0' &&
	    strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* is_dot_atom - RFC 5322 dot-atom-text */
static int
is_dot_atom(const char *s)
{
	const char *p;

	if (*s == '\0' || *s == '.')
		return 0;
	for (p = s; *p != '\0'; p++)
		if (*p == '.' ? p[1] == '.' || p[1] == '\0' :
		    !is_atext((unsigned char)*p))
			return 0;
	return 1;
}

/* put_value - a cleaned value as dot-atom or quoted-string */
static void
put_value(struct buf *out, const char *raw)
{
	struct buf c = BUF_INIT;
	const char *p;

	spfd_hdr_clean(&c, raw, SPFD_FIELD_MAX);
	if (c.s != NULL && is_dot_atom(c.s))
		buf_puts(out, c.s);
	else {
		buf_putc(out, '"');
		for (p = buf_str(&c); *p != '\0'; p++) {
			if (*p == '"' || *p == '\\')
				buf_putc(out, '\\');
			buf_putc(out, *p);
		}
		buf_putc(out, '"');
	}
	if (c.failed)
		out->failed = 1;
	buf_free(&c);
}

/* put_ctext - cleaned text for inside a comment */
static void
put_ctext(struct buf *out, const char *raw)
{
	struct buf c = BUF_INIT;
	const char *p;

	spfd_hdr_clean(&c, raw, SPFD_FIELD_MAX);
	for (p = buf_str(&c); *p != '\0'; p++) {
		if (*p == '(' || *p == ')' || *p == '\\')
			buf_putc(out, '\\');
		buf_putc(out, *p);
	}
	if (c.failed)
		out->failed = 1;
	buf_free(&c);
}

/* comment - "(receiver: what the result means)" */
static void
comment(struct buf *out, const struct spfd_rspf *h)
{
	static const struct {
		const char *before, *middle, *after;
	} text[] = {
		[SPF_NONE] = { "domain of ", " does not designate permitted "
		    "sender hosts", NULL },
		[SPF_NEUTRAL] = { NULL, " is neither permitted nor denied by "
		    "domain of ", NULL },
		[SPF_PASS] = { "domain of ", " designates ", " as permitted "
		    "sender" },
		[SPF_FAIL] = { "domain of ", " does not designate ", " as "
		    "permitted sender" },
		[SPF_SOFTFAIL] = { "domain of transitioning ", " does not "
		    "designate ", " as permitted sender" },
		[SPF_TEMPERROR] = { "error in processing during lookup of ",
		    "", NULL },
		[SPF_PERMERROR] = { "permanent error in processing domain of ",
		    "", NULL },
	};
	const char *who = h->checked ? h->checked : "";
	const char *ip = h->client_ip ? h->client_ip : "unknown";

	buf_putc(out, '(');
	put_ctext(out, h->receiver ? h->receiver : "unknown");
	buf_puts(out, ": ");
	if (h->result == SPF_NEUTRAL) {
		put_ctext(out, ip);
		buf_puts(out, text[SPF_NEUTRAL].middle);
		put_ctext(out, who);
	} else {
		buf_puts(out, text[h->result].before);
		put_ctext(out, who);
		buf_puts(out, text[h->result].middle);
		if (text[h->result].after != NULL) {
			put_ctext(out, ip);
			buf_puts(out, text[h->result].after);
		}
	}
	buf_putc(out, ')');
}

/* emit - one element after a space, or on a new line when too long */
static void
emit(struct buf *out, size_t *col, const struct buf *e)
{
	if (*col > 8 && *col + 1 + e->len > SPFD_FOLD_COLUMN) {
		buf_puts(out, "\n\t");
		*col = 8;
	} else {
		buf_putc(out, ' ');
		(*col)++;
	}
	buf_append(out, buf_str(e), e->len);
	*col += e->len;
}

/* spfd_hdr_received_spf - the value of a Received-SPF field */
int
spfd_hdr_received_spf(struct buf *out, const struct spfd_rspf *h)
{
	const struct {
		const char *key, *value;
	} kv[] = {
		{ "receiver", h->receiver }, { "client-ip", h->client_ip },
		{ "envelope-from", h->envelope_from }, { "helo", h->helo },
		{ "identity", h->identity }, { "mechanism", h->mechanism },
		{ "problem", h->problem },
	};
	struct buf e = BUF_INIT;
	size_t col, i, last = 0;

	buf_puts(out, spf_result_str(h->result));
	col = SPFD_RSPF_NAME_LEN + strlen(spf_result_str(h->result));
	comment(&e, h);
	emit(out, &col, &e);
	for (i = 0; i < sizeof(kv) / sizeof(kv[0]); i++)
		if (kv[i].value != NULL)
			last = i;
	for (i = 0; i < sizeof(kv) / sizeof(kv[0]); i++) {
		if (kv[i].value == NULL)
			continue;
		buf_truncate(&e, 0);
		buf_printf(&e, "%s=", kv[i].key);
		put_value(&e, kv[i].value);
		if (i != last)
			buf_putc(&e, ';');
		emit(out, &col, &e);
	}
	if (e.failed)
		out->failed = 1;
	buf_free(&e);
	return out->failed ? -1 : 0;
}

/* spfd_hdr_reply - a reply text safe for smfi_setreply() */
void
spfd_hdr_reply(char *dst, size_t size, const char *text)
{
	size_t i, o = 0, lim;

	if (size == 0)
		return;
	lim = size - 1 < SPFD_REPLY_MAX ? size - 1 : SPFD_REPLY_MAX;
	for (i = 0; text[i] != '\0'; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c == '%') {
			if (o + 2 > lim)
				break;
			dst[o++] = '%';
			dst[o++] = '%';
			continue;
		}
		if (o + 1 > lim)
			break;
		dst[o++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	dst[o] = '\0';
}
