/*
 * NAME
 *	canon - DKIM simple and relaxed canonicalization
 * SYNOPSIS
 *	#include "canon.h"
 * DESCRIPTION
 *	canon_header() implements RFC 6376 3.4.1 (simple: the field as is,
 *	bare LF made CRLF) and 3.4.2 (relaxed: name lower-cased, lines
 *	unfolded, WSP runs made one SP, WSP around the colon and at the end
 *	removed).
 *
 *	The body canonicalizer is a byte-at-a-time state machine:
 *	pending_cr remembers a CR at the end of a chunk, pending_wsp a run
 *	of WSP that relaxed mode turns into one SP only if the line goes on,
 *	and empty_lines counts the empty lines not yet written, because
 *	both modes drop empty lines at the end of the body (3.4.3, 3.4.4).
 *	An empty body is CRLF in simple mode and nothing in relaxed mode.
 *	Output is batched in a small buffer inside the state.
 *
 *	canon_hdrs keeps raw header fields for the bottom-up selection of
 *	RFC 6376 5.4.2; limits CANON_HDRS_MAX_FIELDS and _BYTES bound it.
 * DIAGNOSTICS
 *	0 or -1 (out of memory, or a header limit: then overflow is set).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "canon.h"

#define CANON_OUTBUF	4096

struct canon_body {
	enum canon_alg	 alg;
	canon_out_fn	*out;
	void		*arg;
	int		 pending_cr;
	int		 pending_wsp;
	int		 line_content;	/* the current line has output */
	int		 any_output;
	unsigned long long empty_lines;
	size_t		 olen;
	unsigned char	 obuf[CANON_OUTBUF];
};

/* canon_parse - header/body algorithms from a c= value */
int
canon_parse(const char *s, size_t len, enum canon_alg *hdr,
    enum canon_alg *body)
{
	const char *slash = memchr(s, '/', len);
	size_t hl = slash ? (size_t)(slash - s) : len;

	if (hl == 6 && strncasecmp(s, "simple", 6) == 0)
		*hdr = CANON_SIMPLE;
	else if (hl == 7 && strncasecmp(s, "relaxed", 7) == 0)
		*hdr = CANON_RELAXED;
	else
		return -1;
	*body = CANON_SIMPLE;
	if (slash == NULL)
		return 0;
	len -= hl + 1;
	s = slash + 1;
	if (len == 6 && strncasecmp(s, "simple", 6) == 0)
		*body = CANON_SIMPLE;
	else if (len == 7 && strncasecmp(s, "relaxed", 7) == 0)
		*body = CANON_RELAXED;
	else
		return -1;
	return 0;
}

/* canon_name - "simple" or "relaxed" */
const char *
canon_name(enum canon_alg a)
{
	return a == CANON_RELAXED ? "relaxed" : "simple";
}

/* header_simple - the field as is, bare LF made CRLF */
static int
header_simple(const char *f, size_t len, struct buf *out)
{
	size_t i, start = 0;

	for (i = 0; i < len; i++)
		if (f[i] == '\n' && (i == 0 || f[i - 1] != '\r')) {
			buf_append(out, f + start, i - start);
			buf_append(out, "\r\n", 2);
			start = i + 1;
		}
	buf_append(out, f + start, len - start);
	return out->failed ? -1 : 0;
}

/* header_relaxed - RFC 6376 3.4.2; the result is never longer than the
 * field plus a colon, so it is written straight into the room reserved */
static int
header_relaxed(const char *f, size_t len, struct buf *out)
{
	const char *colon = memchr(f, ':', len), *p, *end = f + len;
	size_t nlen = colon ? (size_t)(colon - f) : len, i;
	int wsp = 0, started = 0;
	char *o;

	while (nlen > 0 && (f[nlen - 1] == ' ' || f[nlen - 1] == '\t'))
		nlen--;
	if (buf_reserve(out, len + 1) < 0)
		return -1;
	o = out->s + out->len;
	for (i = 0; i < nlen; i++) {
		char c = f[i];

		*o++ = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	*o++ = ':';
	if (colon != NULL)
		for (p = colon + 1; p < end; p++) {
			if (*p == '\r' || *p == '\n')
				continue;
			if (*p == ' ' || *p == '\t') {
				wsp = 1;
				continue;
			}
			if (wsp && started)
				*o++ = ' ';
			wsp = 0;
			started = 1;
			*o++ = *p;
		}
	out->len = (size_t)(o - out->s);
	out->s[out->len] = '\0';
	return 0;
}

/* canon_header - append the canonical form of one field */
int
canon_header(enum canon_alg a, const char *field, size_t len, struct buf *out)
{
	if (buf_append(out, "", 0) < 0)
		return -1;
	return a == CANON_RELAXED ? header_relaxed(field, len, out) :
	    header_simple(field, len, out);
}

/* canon_body_new - start a body */
struct canon_body *
canon_body_new(enum canon_alg a, canon_out_fn *out, void *arg)
{
	struct canon_body *cb;

	if ((cb = calloc(1, sizeof(*cb))) == NULL)
		return NULL;
	cb->alg = a;
	cb->out = out;
	cb->arg = arg;
	return cb;
}

/* body_emit - queue output bytes */
static void
body_emit(struct canon_body *cb, const char *p, size_t n)
{
	while (n > 0) {
		size_t room = CANON_OUTBUF - cb->olen, k = n < room ? n : room;

		memcpy(cb->obuf + cb->olen, p, k);
		cb->olen += k;
		p += k;
		n -= k;
		if (cb->olen == CANON_OUTBUF) {
			cb->out(cb->arg, cb->obuf, cb->olen);
			cb->olen = 0;
		}
	}
	cb->any_output = 1;
}

/* body_run - n bytes of line content, none of them CR, LF or (relaxed)
 * white space: the empty lines and white space held back go first */
static void
body_run(struct canon_body *cb, const unsigned char *p, size_t n)
{
	for (; cb->empty_lines > 0; cb->empty_lines--)
		body_emit(cb, "\r\n", 2);
	if (cb->pending_wsp) {
		body_emit(cb, " ", 1);
		cb->pending_wsp = 0;
	}
	body_emit(cb, (const char *)p, n);
	cb->line_content = 1;
}

/* body_char - one byte of line content */
static void
body_char(struct canon_body *cb, unsigned char c)
{
	if (cb->alg == CANON_RELAXED && (c == ' ' || c == '\t')) {
		cb->pending_wsp = 1;
		return;
	}
	body_run(cb, &c, 1);
}

/* plain_run - how many bytes from p on are plain line content */
static size_t
plain_run(const struct canon_body *cb, const unsigned char *p, size_t n)
{
	static const unsigned char stop[256] = {
		['\r'] = 1, ['\n'] = 1, [' '] = 1, ['\t'] = 1,
	};
	const unsigned char *e, *r;
	size_t k;

	if (cb->alg == CANON_SIMPLE) {
		/* up to the line's end, then a CR inside the line */
		e = memchr(p, '\n', n);
		k = e != NULL ? (size_t)(e - p) : n;
		r = memchr(p, '\r', k);
		return r != NULL ? (size_t)(r - p) : k;
	}
	for (k = 0; k < n && !stop[p[k]]; k++)
		;
	return k;
}

/* body_eol - the end of a line */
static void
body_eol(struct canon_body *cb)
{
	cb->pending_wsp = 0;
	if (cb->line_content) {
		body_emit(cb, "\r\n", 2);
		cb->line_content = 0;
	} else
		cb->empty_lines++;
}

/*
 * simple_span - at a line start, the length of the complete lines from p
 * on that simple canonicalization leaves as they are: each non-empty and
 * ending in CRLF (empty lines may have to be held back, and a bare LF
 * becomes CRLF)
 */
static size_t
simple_span(const unsigned char *p, size_t n)
{
	const unsigned char *e;
	size_t i = 0, k;

	while (i < n && (e = memchr(p + i, '\n', n - i)) != NULL) {
		k = (size_t)(e - p);
		if (k < i + 2 || p[k - 1] != '\r')
			break;		/* an empty line, or a bare LF */
		i = k + 1;
	}
	return i;
}

/* simple_pass - output a span of simple_span() unchanged, after the empty
 * lines held back and the queued output */
static void
simple_pass(struct canon_body *cb, const unsigned char *p, size_t n)
{
	for (; cb->empty_lines > 0; cb->empty_lines--)
		body_emit(cb, "\r\n", 2);
	if (cb->olen > 0) {
		cb->out(cb->arg, cb->obuf, cb->olen);
		cb->olen = 0;
	}
	cb->out(cb->arg, p, n);
	cb->any_output = 1;
}

/* canon_body_update - canonicalize one raw chunk */
void
canon_body_update(struct canon_body *cb, const unsigned char *p, size_t n)
{
	size_t i, k;

	for (i = 0; i < n; i++) {
		/* simple: whole lines that stay as they are, passed at once */
		if (cb->alg == CANON_SIMPLE && !cb->pending_cr &&
		    !cb->line_content && (k = simple_span(p + i, n - i)) > 0) {
			simple_pass(cb, p + i, k);
			i += k - 1;
			continue;
		}
		/* the common case: a run of ordinary bytes, copied at once */
		if (!cb->pending_cr && (k = plain_run(cb, p + i, n - i)) > 0) {
			body_run(cb, p + i, k);
			i += k - 1;
			continue;
		}
		if (cb->pending_cr) {
			cb->pending_cr = 0;
			if (p[i] == '\n') {
				body_eol(cb);
				continue;
			}
			body_char(cb, '\r');
		}
		if (p[i] == '\r')
			cb->pending_cr = 1;
		else if (p[i] == '\n')
			body_eol(cb);
		else
			body_char(cb, p[i]);
	}
	if (cb->olen > 0) {
		cb->out(cb->arg, cb->obuf, cb->olen);
		cb->olen = 0;
	}
}

/* canon_body_final - finish the last line, apply the empty-body rule */
void
canon_body_final(struct canon_body *cb)
{
	if (cb->pending_cr) {
		cb->pending_cr = 0;
		body_char(cb, '\r');
	}
	if (cb->line_content)
		body_eol(cb);
	if (cb->alg == CANON_SIMPLE && !cb->any_output)
		body_emit(cb, "\r\n", 2);
	if (cb->olen > 0) {
		cb->out(cb->arg, cb->obuf, cb->olen);
		cb->olen = 0;
	}
}

/* canon_body_free - release; NULL is fine */
void
canon_body_free(struct canon_body *cb)
{
	free(cb);
}

/* canon_hdrs_init - an empty header store */
void
canon_hdrs_init(struct canon_hdrs *h)
{
	memset(h, 0, sizeof(*h));
	buf_init(&h->text);
}

/* canon_hdrs_add - copy one field in */
int
canon_hdrs_add(struct canon_hdrs *h, const char *field, size_t len)
{
	struct canon_hdr *f;
	const char *colon;
	size_t cap, nl;

	if (h->failed || h->overflow)
		return -1;
	if (h->n == CANON_HDRS_MAX_FIELDS ||
	    h->text.len + len > CANON_HDRS_MAX_BYTES) {
		h->overflow = 1;
		return -1;
	}
	if (h->n == h->cap) {
		cap = h->cap ? h->cap * 2 : 32;
		if ((f = realloc(h->f, cap * sizeof(*f))) == NULL) {
			h->failed = 1;
			return -1;
		}
		h->f = f;
		h->cap = cap;
	}
	colon = memchr(field, ':', len);
	nl = colon ? (size_t)(colon - field) : len;
	while (nl > 0 && (field[nl - 1] == ' ' || field[nl - 1] == '\t'))
		nl--;
	h->f[h->n].off = h->text.len;
	h->f[h->n].len = len;
	h->f[h->n].name_len = nl;
	if (buf_append(&h->text, field, len) < 0) {
		h->failed = 1;
		return -1;
	}
	h->n++;
	return 0;
}

/* canon_hdrs_field - field i */
const char *
canon_hdrs_field(const struct canon_hdrs *h, size_t i, size_t *len)
{
	*len = h->f[i].len;
	return h->text.s + h->f[i].off;
}

/* canon_hdrs_name_is - compare field i's name without case */
int
canon_hdrs_name_is(const struct canon_hdrs *h, size_t i, const char *name,
    size_t nlen)
{
	return h->f[i].name_len == nlen &&
	    strncasecmp(h->text.s + h->f[i].off, name, nlen) == 0;
}

/* canon_hdrs_pick - bottom-most unused field with this name */
long
canon_hdrs_pick(const struct canon_hdrs *h, const char *name, size_t nlen,
    unsigned char *used)
{
	size_t i;

	for (i = h->n; i-- > 0;)
		if (!used[i] && canon_hdrs_name_is(h, i, name, nlen)) {
			used[i] = 1;
			return (long)i;
		}
	return -1;
}

/* canon_hdrs_free - release the fields */
void
canon_hdrs_free(struct canon_hdrs *h)
{
	buf_free(&h->text);
	free(h->f);
	canon_hdrs_init(h);
}
