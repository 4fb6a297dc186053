/*
 * NAME
 *	spf_macro - SPF macro-string checking and expansion (RFC 7208 7)
 * SYNOPSIS
 *	#include "spf.h"
 *
 *	int spf_macro_check(const char *s, size_t len, int kind);
 *	int spf_macro_expand(const struct spf_macro_env *env,
 *	    const char *s, size_t len, int kind, struct buf *out);
 * DESCRIPTION
 *	A macro-string is literal characters (%x21-24 / %x26-7E) and
 *	macro-expands: "%{" letter *DIGIT ["r"] *delimiter "}", "%%",
 *	"%_" and "%-".  kind SPF_MACRO_DOMAIN is a domain-spec: no spaces,
 *	and the letters c, r and t are errors.  kind SPF_MACRO_EXP is
 *	explanation text: spaces and every letter are allowed.
 *
 *	An upper-case letter URL-escapes its value.  The digits keep that
 *	many right-hand parts (after reversal with "r"); zero is an error;
 *	values above SPF_MAX_DIGITS count as SPF_MAX_DIGITS.  Parts are split
 *	at any of the delimiters (default ".") and joined with ".".
 * DIAGNOSTICS
 *	Both return -1 on a syntax error; spf_macro_expand() also when out
 *	has failed or the expansion passes SPF_MAX_EXPANSION.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "spf.h"

#define DELIMITERS	".-+,/_="

struct macro {
	char		 letter;	/* lower case */
	int		 upper;		/* URL-escape the value */
	unsigned	 digits;	/* 0: all parts */
	int		 reverse;
	char		 delim[sizeof(DELIMITERS)];
};

/* macro_letter_ok - letter is allowed in this kind of string */
static int
macro_letter_ok(char c, int kind)
{
	if (c == '\0')
		return 0;	/* strchr() would find the terminator */
	if (strchr("slodipvh", c) != NULL)
		return 1;
	return kind == SPF_MACRO_EXP && strchr("crt", c) != NULL;
}

/*
 * macro_expand_rule - parse "{" letter transformers *delimiter "}" after
 * "%"; returns the cursor past "}" or NULL.
 */
static const char *
macro_expand_rule(const char *p, const char *end, int kind, struct macro *m)
{
	unsigned long n = 0;
	int ndigits = 0;
	size_t nd = 0;
	char c;

	if (p >= end || *p++ != '{' || p >= end)
		return NULL;
	c = *p++;
	m->upper = c >= 'A' && c <= 'Z';
	m->letter = m->upper ? (char)(c - 'A' + 'a') : c;
	if (!macro_letter_ok(m->letter, kind))
		return NULL;
	while (p < end && *p >= '0' && *p <= '9') {
		if (n < 100000)
			n = n * 10 + (unsigned long)(*p - '0');
		ndigits++;
		p++;
	}
	if (ndigits > 0 && n == 0)
		return NULL;
	m->digits = n > SPF_MAX_DIGITS ? SPF_MAX_DIGITS : (unsigned)n;
	m->reverse = 0;
	if (p < end && (*p == 'r' || *p == 'R')) {
		m->reverse = 1;
		p++;
	}
	while (p < end && *p != '\0' && strchr(DELIMITERS, *p) != NULL) {
		if (memchr(m->delim, *p, nd) == NULL)
			m->delim[nd++] = *p;
		p++;
	}
	m->delim[nd] = '\0';
	if (p >= end || *p != '}')
		return NULL;
	return p + 1;
}

/* macro_literal_ok - c may appear literally in this kind of string */
static int
macro_literal_ok(unsigned char c, int kind)
{
	if (c == ' ')
		return kind == SPF_MACRO_EXP;
	return c >= 0x21 && c <= 0x7e && c != '%';
}

/* spf_macro_check - 0 when s is a valid macro-string of that kind */
int
spf_macro_check(const char *s, size_t len, int kind)
{
	const char *p = s, *end = s + len;
	struct macro m;

	while (p < end) {
		if (*p != '%') {
			if (!macro_literal_ok((unsigned char)*p, kind))
				return -1;
			p++;
			continue;
		}
		p++;
		if (p < end && (*p == '%' || *p == '_' || *p == '-')) {
			p++;
			continue;
		}
		memset(&m, 0, sizeof(m));
		if ((p = macro_expand_rule(p, end, kind, &m)) == NULL)
			return -1;
	}
	return 0;
}

/*
 * macro_ip_dotted - %{i}: dotted quad, or dotted nibbles for IPv6 (upper
 * case hex, as the reference implementation and the test suite have it)
 */
static void
macro_ip_dotted(const struct spf_macro_env *env, struct buf *b)
{
	int i;

	if (env->family == AF_INET) {
		buf_printf(b, "%u.%u.%u.%u", env->addr[0], env->addr[1],
		    env->addr[2], env->addr[3]);
		return;
	}
	for (i = 0; i < 16; i++)
		buf_printf(b, "%s%X.%X", i ? "." : "", env->addr[i] >> 4,
		    env->addr[i] & 15);
}

/* macro_value - the raw value of a macro letter */
static void
macro_value(const struct spf_macro_env *env, char letter, struct buf *b)
{
	char text[INET6_ADDRSTRLEN];
	size_t mark;

	switch (letter) {
	case 's':
		buf_printf(b, "%s@%s", env->local, env->sender_domain);
		break;
	case 'l':
		buf_puts(b, env->local);
		break;
	case 'o':
		buf_puts(b, env->sender_domain);
		break;
	case 'd':
		buf_puts(b, env->domain);
		break;
	case 'i':
		macro_ip_dotted(env, b);
		break;
	case 'p':
		mark = b->len;
		if (env->validated == NULL ||
		    env->validated(env->arg, env->domain, b) != 0) {
			buf_truncate(b, mark);
			buf_puts(b, "unknown");
		}
		break;
	case 'v':
		buf_puts(b, env->family == AF_INET ? "in-addr" : "ip6");
		break;
	case 'h':
		buf_puts(b, env->helo);
		break;
	case 'c':
		if (inet_ntop(env->family, env->addr, text, sizeof(text)))
			buf_puts(b, text);
		break;
	case 'r':
		buf_puts(b, env->receiver ? env->receiver : "unknown");
		break;
	case 't':
		buf_printf(b, "%lld", (long long)env->now);
		break;
	}
}

/* macro_is_delim - c is one of the delimiters */
static int
macro_is_delim(const char *delim, char c)
{
	return c != '\0' && strchr(delim, c) != NULL;
}

/* macro_transform - split, reverse, keep the right-hand parts, join */
static void
macro_transform(const struct macro *m, const char *v, size_t len,
    struct buf *out)
{
	const char *delim = m->delim[0] ? m->delim : ".";
	size_t n = 1, keep, skip, i, e, b, cnt;

	for (i = 0; i < len; i++)
		if (macro_is_delim(delim, v[i]))
			n++;
	keep = m->digits && m->digits < n ? m->digits : n;
	if (!m->reverse) {
		/* the last keep parts, in order */
		for (i = 0, skip = n - keep; skip > 0; i++)
			if (macro_is_delim(delim, v[i]))
				skip--;
		for (; i < len; i++)
			buf_putc(out, macro_is_delim(delim, v[i]) ? '.' : v[i]);
		return;
	}
	/* reversed, the last keep parts are the first keep, backwards */
	for (e = 0, cnt = 0; e < len; e++)
		if (macro_is_delim(delim, v[e]) && ++cnt == keep)
			break;
	for (;;) {
		for (b = e; b > 0 && !macro_is_delim(delim, v[b - 1]); b--)
			;
		buf_append(out, v + b, e - b);
		if (b == 0)
			break;
		buf_putc(out, '.');
		e = b - 1;
	}
}

/* macro_escape - URL-escape everything outside the unreserved set */
static void
macro_escape(const char *v, size_t len, struct buf *out)
{
	size_t i;
	unsigned char c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)v[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("-._~", c) != NULL)
			buf_putc(out, c);
		else
			buf_printf(out, "%%%02X", c);
	}
}

/* macro_one - append one macro-expand */
static int
macro_one(const struct spf_macro_env *env, const struct macro *m,
    struct buf *out)
{
	struct buf raw = BUF_INIT, t = BUF_INIT;
	int rc = 0;

	macro_value(env, m->letter, &raw);
	if (raw.failed || raw.len > SPF_MAX_EXPANSION) {
		rc = -1;
		goto done;
	}
	macro_transform(m, buf_str(&raw), raw.len, &t);
	if (m->upper)
		macro_escape(buf_str(&t), t.len, out);
	else
		buf_append(out, buf_str(&t), t.len);
	if (t.failed || out->failed)
		rc = -1;
done:
	buf_free(&raw);
	buf_free(&t);
	return rc;
}

/* spf_macro_expand - append the expansion of s to out */
int
spf_macro_expand(const struct spf_macro_env *env, const char *s, size_t len,
    int kind, struct buf *out)
{
	const char *p = s, *end = s + len;
	size_t base = out->len;
	struct macro m;

	while (p < end) {
		if (out->failed || out->len - base > SPF_MAX_EXPANSION)
			return -1;
		if (*p != '%') {
			if (!macro_literal_ok((unsigned char)*p, kind))
				return -1;
			buf_putc(out, *p++);
			continue;
		}
		p++;
		if (p < end && (*p == '%' || *p == '_' || *p == '-')) {
			buf_puts(out, *p == '%' ? "%" : *p == '_' ? " " :
			    "%20");
			p++;
			continue;
		}
		memset(&m, 0, sizeof(m));
		if ((p = macro_expand_rule(p, end, kind, &m)) == NULL)
			return -1;
		if (macro_one(env, &m, out) != 0)
			return -1;
	}
	if (out->failed || out->len - base > SPF_MAX_EXPANSION)
		return -1;
	return 0;
}
