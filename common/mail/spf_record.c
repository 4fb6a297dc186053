/*
 * NAME
 *	spf_record - parse one SPF record (RFC 7208 4.6, 5, 6)
 * SYNOPSIS
 *	#include "spf.h"
 *
 *	int spf_record_is_spf(const char *text, size_t len);
 *	enum spf_parse spf_record_parse(const char *text, size_t len,
 *	    struct spf_record **out, struct buf *err);
 *	void spf_record_free(struct spf_record *);
 * DESCRIPTION
 *	spf_record_is_spf() tells whether TXT data is an SPF record: it
 *	starts with "v=spf1" (any case) followed by a space or the end.
 *
 *	spf_record_parse() reads the whole record before anything is
 *	evaluated, so that a syntax error anywhere is a permerror.  Terms
 *	are separated by one or more spaces (only SP).  Each domain-spec is
 *	checked as a macro-string that ends in a macro-expand or in
 *	"." toplabel ["."].  Unknown modifiers are checked and dropped.
 *	A NUL byte anywhere (TXT data may hold one) is a syntax error.
 *	The result is owned by the caller: spf_record_free().
 * DIAGNOSTICS
 *	SPF_PARSE_NOTSPF, SPF_PARSE_SYNTAX (err gets a short reason, such
 *	as "unknown mechanism 'foo'") or SPF_PARSE_NOMEM.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "spf.h"

#define SPF_VERSION	"v=spf1"
#define SPF_VERSION_LEN	6

static const struct {
	const char	*name;
	enum spf_mech	 mech;
} spf_mechs[] = {
	{ "all", SPF_M_ALL },
	{ "include", SPF_M_INCLUDE },
	{ "a", SPF_M_A },
	{ "mx", SPF_M_MX },
	{ "ptr", SPF_M_PTR },
	{ "ip4", SPF_M_IP4 },
	{ "ip6", SPF_M_IP6 },
	{ "exists", SPF_M_EXISTS },
};

/* spf_record_is_spf - 1 when text starts with "v=spf1" then SP or end */
int
spf_record_is_spf(const char *text, size_t len)
{
	if (len < SPF_VERSION_LEN ||
	    strncasecmp(text, SPF_VERSION, SPF_VERSION_LEN) != 0)
		return 0;
	return len == SPF_VERSION_LEN || text[SPF_VERSION_LEN] == ' ';
}

/* is_alpha, is_digit, is_alnum - ASCII classes */
static int
is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
is_alnum(char c)
{
	return is_alpha(c) || is_digit(c);
}

/*
 * toplabel - ( *alphanum ALPHA *alphanum ) /
 *	( 1*alphanum "-" *( alphanum / "-" ) alphanum )
 */
static int
toplabel(const char *s, size_t len)
{
	size_t i;
	int alpha = 0, dash = 0;

	if (len == 0 || !is_alnum(s[0]) || !is_alnum(s[len - 1]))
		return 0;
	for (i = 0; i < len; i++) {
		if (is_alpha(s[i]))
			alpha = 1;
		else if (s[i] == '-')
			dash = 1;
		else if (!is_digit(s[i]))
			return 0;
	}
	return alpha || dash;
}

/* ends_in_macro - the string ends with a complete macro-expand */
static int
ends_in_macro(const char *s, size_t len)
{
	size_t i;

	if (len < 4 || s[len - 1] != '}')
		return 0;
	for (i = len - 1; i > 0; i--) {
		if (s[i - 1] == '}')
			return 0;
		if (s[i - 1] == '{')
			return i >= 2 && s[i - 2] == '%' &&
			    spf_macro_check(s + i - 2, len - i + 2,
			    SPF_MACRO_DOMAIN) == 0;
	}
	return 0;
}

/* domain_spec - macro-string domain-end */
static int
domain_spec(const char *s, size_t len)
{
	size_t end, dot;

	if (len == 0 || spf_macro_check(s, len, SPF_MACRO_DOMAIN) != 0)
		return 0;
	if (ends_in_macro(s, len))
		return 1;
	end = s[len - 1] == '.' ? len - 1 : len;
	for (dot = end; dot > 0 && s[dot - 1] != '.'; dot--)
		;
	if (dot == 0)
		return 0;
	return toplabel(s + dot, end - dot);
}

/* cidr_length - "/" ( "0" / %x31-39 0*2DIGIT ), at most max */
static int
cidr_length(const char *s, size_t len, int max)
{
	int v = 0;
	size_t i;

	if (len == 0 || len > 3 || (s[0] == '0' && len > 1))
		return -1;
	for (i = 0; i < len; i++) {
		if (!is_digit(s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v <= max ? v : -1;
}

/*
 * dual_cidr - take a trailing [ "/" ip4-cidr ] [ "//" ip6-cidr ] off the
 * argument; returns the length left, or -1 on a bad length.
 */
static long
dual_cidr(const char *s, size_t len, struct spf_term *t)
{
	size_t i = len;

	while (i > 0 && is_digit(s[i - 1]))
		i--;
	if (i < len && i >= 2 && s[i - 1] == '/' && s[i - 2] == '/') {
		if ((t->cidr6 = cidr_length(s + i, len - i, 128)) < 0)
			return -1;
		len = i - 2;
		for (i = len; i > 0 && is_digit(s[i - 1]); i--)
			;
	}
	if (i < len && i >= 1 && s[i - 1] == '/') {
		if ((t->cidr4 = cidr_length(s + i, len - i, 32)) < 0)
			return -1;
		len = i - 1;
	}
	if (len > 0 && s[len - 1] == '/')
		return -1;
	return (long)len;
}

/* mech_domain - [ ":" domain-spec ] or ":" domain-spec when required */
static int
mech_domain(const char *arg, size_t len, int required, struct spf_term *t)
{
	if (len == 0)
		return required ? -1 : 0;
	if (arg[0] != ':' || !domain_spec(arg + 1, len - 1))
		return -1;
	if ((t->domain = strndup(arg + 1, len - 1)) == NULL)
		return -2;
	return 0;
}

/* mech_ip - ip4/ip6 ":" network [ cidr ] */
static int
mech_ip(const char *arg, size_t len, struct spf_term *t)
{
	char net[INET6_ADDRSTRLEN + 1];
	size_t n;
	long left;
	int six = t->mech == SPF_M_IP6;

	if (len < 2 || arg[0] != ':')
		return -1;
	arg++, len--;
	for (n = len; n > 0 && arg[n - 1] != '/'; n--)
		;
	left = (long)len;
	if (n > 0) {
		int v = cidr_length(arg + n, len - n, six ? 128 : 32);
		if (v < 0)
			return -1;
		if (six)
			t->cidr6 = v;
		else
			t->cidr4 = v;
		left = (long)n - 1;
	}
	if (left <= 0 || (size_t)left >= sizeof(net))
		return -1;
	memcpy(net, arg, (size_t)left);
	net[left] = '\0';
	return inet_pton(six ? AF_INET6 : AF_INET, net, t->addr) == 1 ? 0 : -1;
}

/* mechanism - the arguments of one mechanism; -1 syntax, -2 no memory */
static int
mechanism(const char *arg, size_t len, struct spf_term *t)
{
	long left;

	switch (t->mech) {
	case SPF_M_ALL:
		return len == 0 ? 0 : -1;
	case SPF_M_INCLUDE:
	case SPF_M_EXISTS:
		return mech_domain(arg, len, 1, t);
	case SPF_M_PTR:
		return mech_domain(arg, len, 0, t);
	case SPF_M_A:
	case SPF_M_MX:
		if ((left = dual_cidr(arg, len, t)) < 0)
			return -1;
		return mech_domain(arg, (size_t)left, 0, t);
	case SPF_M_IP4:
	case SPF_M_IP6:
		return mech_ip(arg, len, t);
	}
	return -1;
}

/* record_add - append a term; -1 out of memory */
static int
record_add(struct spf_record *r, const struct spf_term *t)
{
	struct spf_term *n;

	n = realloc(r->terms, (r->n + 1) * sizeof(*n));
	if (n == NULL)
		return -1;
	r->terms = n;
	r->terms[r->n++] = *t;
	return 0;
}

/* modifier - name "=" value */
static enum spf_parse
modifier(struct spf_record *r, const char *name, size_t nlen,
    const char *val, size_t vlen, struct buf *err)
{
	char **slot = NULL;

	if (nlen == 8 && strncasecmp(name, "redirect", 8) == 0)
		slot = &r->redirect;
	else if (nlen == 3 && strncasecmp(name, "exp", 3) == 0)
		slot = &r->exp;
	if (slot == NULL) {
		if (spf_macro_check(val, vlen, SPF_MACRO_DOMAIN) == 0)
			return SPF_PARSE_OK;
		buf_printf(err, "bad value of modifier '%.*s'", (int)nlen,
		    name);
		return SPF_PARSE_SYNTAX;
	}
	if (*slot != NULL) {
		buf_printf(err, "duplicate modifier '%.*s'", (int)nlen, name);
		return SPF_PARSE_SYNTAX;
	}
	if (!domain_spec(val, vlen)) {
		buf_printf(err, "bad domain-spec in '%.*s'", (int)nlen, name);
		return SPF_PARSE_SYNTAX;
	}
	if ((*slot = strndup(val, vlen)) == NULL)
		return SPF_PARSE_NOMEM;
	return SPF_PARSE_OK;
}

/* directive - [ qualifier ] mechanism */
static enum spf_parse
directive(struct spf_record *r, const char *s, size_t len, struct buf *err)
{
	struct spf_term t;
	size_t i, nlen;
	const char *name = s;
	int rc;

	memset(&t, 0, sizeof(t));
	t.qualifier = '+';
	t.cidr4 = t.cidr6 = -1;
	if (len > 0 && strchr("+-~?", s[0]) != NULL)
		t.qualifier = *name++;
	for (nlen = 0; name + nlen < s + len && is_alnum(name[nlen]); nlen++)
		;
	for (i = 0; i < sizeof(spf_mechs) / sizeof(spf_mechs[0]); i++)
		if (strlen(spf_mechs[i].name) == nlen &&
		    strncasecmp(spf_mechs[i].name, name, nlen) == 0)
			break;
	if (i == sizeof(spf_mechs) / sizeof(spf_mechs[0])) {
		buf_printf(err, "unknown mechanism '%.*s'", (int)len, s);
		return SPF_PARSE_SYNTAX;
	}
	t.mech = spf_mechs[i].mech;
	rc = mechanism(name + nlen, (size_t)(s + len - name - nlen), &t);
	if (rc == 0 && (t.text = strndup(s, len)) == NULL)
		rc = -2;
	if (rc == 0 && record_add(r, &t) != 0)
		rc = -2;
	if (rc == 0)
		return SPF_PARSE_OK;
	free(t.domain);
	free(t.text);
	if (rc == -2)
		return SPF_PARSE_NOMEM;
	buf_printf(err, "bad mechanism '%.*s'", (int)len, s);
	return SPF_PARSE_SYNTAX;
}

/* term - directive / modifier */
static enum spf_parse
term(struct spf_record *r, const char *s, size_t len, struct buf *err)
{
	size_t n = 0;

	if (is_alpha(s[0]))
		for (n = 1; n < len && (is_alnum(s[n]) || s[n] == '-' ||
		    s[n] == '_' || s[n] == '.'); n++)
			;
	if (n > 0 && n < len && s[n] == '=')
		return modifier(r, s, n, s + n + 1, len - n - 1, err);
	return directive(r, s, len, err);
}

/* spf_record_parse - parse a whole record */
enum spf_parse
spf_record_parse(const char *text, size_t len, struct spf_record **out,
    struct buf *err)
{
	struct buf dummy = BUF_INIT;
	struct spf_record *r;
	enum spf_parse rc = SPF_PARSE_OK;
	size_t i, j;

	if (!spf_record_is_spf(text, len))
		return SPF_PARSE_NOTSPF;
	if (len > SPF_MAX_RECORD) {
		if (err != NULL)
			buf_puts(err, "record too long");
		return SPF_PARSE_SYNTAX;
	}
	if (memchr(text, '\0', len) != NULL) {
		/* terms are taken apart with C string functions */
		if (err != NULL)
			buf_puts(err, "NUL byte in record");
		return SPF_PARSE_SYNTAX;
	}
	if (err == NULL)
		err = &dummy;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return SPF_PARSE_NOMEM;
	for (i = SPF_VERSION_LEN; i < len && rc == SPF_PARSE_OK; i = j) {
		while (i < len && text[i] == ' ')
			i++;
		for (j = i; j < len && text[j] != ' '; j++)
			;
		if (j > i)
			rc = term(r, text + i, j - i, err);
	}
	buf_free(&dummy);
	if (rc != SPF_PARSE_OK) {
		spf_record_free(r);
		return rc;
	}
	*out = r;
	return SPF_PARSE_OK;
}

/* spf_record_free - release a parsed record */
void
spf_record_free(struct spf_record *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->n; i++) {
		free(r->terms[i].domain);
		free(r->terms[i].text);
	}
	free(r->terms);
	free(r->redirect);
	free(r->exp);
	free(r);
}
