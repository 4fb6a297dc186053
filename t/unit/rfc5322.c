/*
 * rfc5322 - header field splitting, unfolding, From and envelope
 * addresses, domain syntax
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "rfc5322.h"
#include "tap.h"

/*
 * Messages and how they split: "Name[value]" per field, "!badname[raw]"
 * or "!nocolon[raw]" per malformed line, "|" then the body at the end.
 */
static const struct {
	const char *name, *msg, *want;
} split_tests[] = {
	{ "CRLF header and body", "From: a\r\nTo: b\r\n\r\nbody\r\n",
	  "From[ a]To[ b]|body\r\n" },
	{ "bare LF header and body", "From: a\nTo: b\n\nbody\n",
	  "From[ a]To[ b]|body\n" },
	{ "folded field keeps its folding",
	  "Subject: a\r\n b\r\n\tc\r\n\r\nx",
	  "Subject[ a\r\n b\r\n\tc]|x" },
	{ "mixed CRLF and LF folding", "A: 1\n\t2\r\nB: 3\n\nbody",
	  "A[ 1\n\t2]B[ 3]|body" },
	{ "missing body after the empty line", "From: a\r\n\r\n",
	  "From[ a]|" },
	{ "missing empty line and body", "From: a\r\n", "From[ a]|" },
	{ "last header line without newline", "From: a\r\nTo: b",
	  "From[ a]To[ b]|" },
	{ "folded last line without newline", "To: a,\r\n b",
	  "To[ a,\r\n b]|" },
	{ "empty header", "\r\nbody", "|body" },
	{ "empty input", "", "|" },
	{ "lone CR after the last field", "A: b\r\n\r", "A[ b]|" },
	{ "empty value", "X-Empty:\r\n\r\n", "X-Empty[]|" },
	{ "value without space after colon", "X:y\n\n", "X[y]|" },
	{ "obsolete white space before colon", "Subject : x\n\n",
	  "Subject[ x]|" },
	{ "line without colon is reported, next field read",
	  "From: a\r\nbogus line\r\nTo: b\r\n\r\n",
	  "From[ a]!nocolon[bogus line]To[ b]|" },
	{ "mbox From_ line reported", "From user@example.com Mon\nTo: a\n\n",
	  "!nocolon[From user@example.com Mon]To[ a]|" },
	{ "space inside a name is a bad name", "Fr om: x\n\n",
	  "!badname[Fr om: x]|" },
	{ "empty name", ": x\n\n", "!badname[: x]|" },
	{ "UTF-8 in a name", "S\xc3\xbc" "bject: x\n\n",
	  "!badname[S\xc3\xbc" "bject: x]|" },
	{ "continuation line before any field",
	  " x: y\nA: b\n\n", "!badname[ x: y]A[ b]|" },
	{ "bad line keeps its continuation lines",
	  "bogus\n more\nA: b\n\n", "!nocolon[bogus\n more]A[ b]|" },
	{ "body separator found after a bad line", "bad\n\nbody: x\n",
	  "!nocolon[bad]|body: x\n" },
	{ "colon inside the value", "Date: Mon, 1 Jan 2024 10:00:00\n\n",
	  "Date[ Mon, 1 Jan 2024 10:00:00]|" },
	{ "UTF-8 value (RFC 6532)", "Subject: gr\xc3\xbc\xc3\x9f" "e\n\n",
	  "Subject[ gr\xc3\xbc\xc3\x9f" "e]|" },
};

/* split - the fields of msg written out as split_tests describe */
static void
split(const char *msg, size_t len, struct buf *out)
{
	const char *p = msg, *end = msg + len;
	struct rfc5322_field f;
	enum rfc5322_status st;
	int guard = 0;

	while ((st = rfc5322_next_field(p, end, &f)) != RFC5322_EOH &&
	    guard++ < 100) {
		if (st == RFC5322_OK)
			buf_printf(out, "%.*s[%.*s]", (int)f.name_len, f.name,
			    (int)f.value_len, f.value);
		else
			buf_printf(out, "!%s[%.*s]", st == RFC5322_BADNAME ?
			    "badname" : "nocolon", (int)f.raw_len, f.raw);
		p = f.next;
	}
	buf_printf(out, "|%.*s", (int)(end - f.next), f.next);
}

static const struct {
	const char *in, *want;
} unfold_tests[] = {
	{ " a\r\n b ", "a b" },
	{ "\ta\n\tb\r\n", "a\tb" },
	{ "", "" },
	{ " \r\n\t ", "" },
	{ "a\r\n\r\n b", "a b" },
	{ "one two  three", "one two  three" },
	{ "a\rb", "a\rb" },
};

/* From values: status and "local@domain" list, comma separated */
static const struct {
	const char *name, *in;
	enum rfc5322_status st;
	const char *want;
} from_tests[] = {
	{ "plain addr-spec", "user@example.com", RFC5322_OK,
	  "user@example.com" },
	{ "display name, domain lowercased, local kept",
	  "User <User@Example.COM>", RFC5322_OK, "User@example.com" },
	{ "angle address alone", "<user@example.com>", RFC5322_OK,
	  "user@example.com" },
	{ "quoted display name with comma",
	  "\"Smith, John\" <john@example.com>", RFC5322_OK,
	  "john@example.com" },
	{ "quoted display name with escapes",
	  "\"a \\\"b\\\" \\\\c\" <x@y.example>", RFC5322_OK, "x@y.example" },
	{ "quoted local part kept with its quotes",
	  "\"john smith\"@example.com", RFC5322_OK,
	  "\"john smith\"@example.com" },
	{ "quoted local part with escape",
	  "Name <\"a\\\"b@c\"@example.com>", RFC5322_OK,
	  "\"a\\\"b@c\"@example.com" },
	{ "empty quoted local part", "\"\"@example.com", RFC5322_OK,
	  "\"\"@example.com" },
	{ "comments everywhere",
	  "(c1) user(c2)@(c3)example.com(c4)", RFC5322_OK,
	  "user@example.com" },
	{ "nested comments",
	  "Name (a (b (c))) <user@example.com> (x (y))", RFC5322_OK,
	  "user@example.com" },
	{ "comment with escaped parenthesis",
	  "(a \\) b@evil.example) user@example.com", RFC5322_OK,
	  "user@example.com" },
	{ "address inside a comment is not an address",
	  "(evil@attacker.example) user@example.com", RFC5322_OK,
	  "user@example.com" },
	{ "two addresses", "a@b.example, c@d.example", RFC5322_MULTIPLE,
	  "a@b.example,c@d.example" },
	{ "two name-addrs", "A <a@b.example>, \"C, D\" <c@d.example>",
	  RFC5322_MULTIPLE, "a@b.example,c@d.example" },
	{ "group with two members",
	  "Group: a@x.example, B <b@y.example>;", RFC5322_MULTIPLE,
	  "a@x.example,b@y.example" },
	{ "group with one member", "Group: a@x.example;", RFC5322_OK,
	  "a@x.example" },
	{ "empty group", "undisclosed-recipients:;", RFC5322_NOADDR, "" },
	{ "empty group then a mailbox", "Undisclosed:;, a@b.example",
	  RFC5322_OK, "a@b.example" },
	{ "group without final semicolon", "G: a@b.example", RFC5322_OK,
	  "a@b.example" },
	{ "empty value", "", RFC5322_NOADDR, "" },
	{ "only white space and a comment", "  (nothing)\r\n ",
	  RFC5322_NOADDR, "" },
	{ "obsolete empty list elements", ", ,a@b.example ,", RFC5322_OK,
	  "a@b.example" },
	{ "local part alone has no domain", "user", RFC5322_NODOMAIN, "" },
	{ "angle address without domain", "Name <user>", RFC5322_NODOMAIN,
	  "" },
	{ "bare angle address without domain", "<user>", RFC5322_NODOMAIN,
	  "" },
	{ "second address without domain", "a@b.example, Name <user>",
	  RFC5322_NODOMAIN, "" },
	{ "empty domain", "user@", RFC5322_SYNTAX, "" },
	{ "empty local part", "@example.com", RFC5322_SYNTAX, "" },
	{ "double at", "user@@example.com", RFC5322_SYNTAX, "" },
	{ "unclosed angle", "Name <user@example.com", RFC5322_SYNTAX, "" },
	{ "unclosed comment", "(open a@b.example", RFC5322_SYNTAX, "" },
	{ "unclosed quote", "\"open@example.com", RFC5322_SYNTAX, "" },
	{ "empty angle address", "<>", RFC5322_SYNTAX, "" },
	{ "two addresses without comma", "a@b.example c@d.example",
	  RFC5322_SYNTAX, "" },
	{ "at sign in unquoted display name",
	  "j@x.example <j@y.example>", RFC5322_SYNTAX, "" },
	{ "space inside domain", "user@exa mple.com", RFC5322_SYNTAX, "" },
	{ "trailing dot in local part", "a.@example.com", RFC5322_SYNTAX, "" },
	{ "trailing dot of domain removed", "user@Example.COM.", RFC5322_OK,
	  "user@example.com" },
	{ "domain literal", "user@[192.0.2.1]", RFC5322_OK,
	  "user@[192.0.2.1]" },
	{ "obsolete route", "<@relay.example,@other.example:user@example.com>",
	  RFC5322_OK, "user@example.com" },
	{ "obsolete phrase with dots",
	  "John Q. Public <jqp@example.com>", RFC5322_OK,
	  "jqp@example.com" },
	{ "obsolete local part and domain with CFWS",
	  "user . name @ example . com", RFC5322_OK,
	  "user.name@example.com" },
	{ "encoded-word display name",
	  "=?utf-8?q?J=C3=B6rg?= <j@example.de>", RFC5322_OK,
	  "j@example.de" },
	{ "UTF-8 display name, local part and domain",
	  "J\xc3\xb6rg <j\xc3\xb6rg@b\xc3\xbc" "cher.example>", RFC5322_OK,
	  "j\xc3\xb6rg@b\xc3\xbc" "cher.example" },
	{ "U-label kept, only ASCII lowercased",
	  "u@B\xc3\x9c" "CHER.Example", RFC5322_OK,
	  "u@b\xc3\x9c" "cher.example" },
	{ "A-label left as it is", "u@XN--bcher-kva.Example", RFC5322_OK,
	  "u@xn--bcher-kva.example" },
	{ "folded with CRLF", "Name\r\n <user@example.com>", RFC5322_OK,
	  "user@example.com" },
	{ "folded with bare LF", "Name\n\t<user@example.com>", RFC5322_OK,
	  "user@example.com" },
	{ "line break not followed by white space",
	  "Name\r\n<user@example.com>", RFC5322_SYNTAX, "" },
	{ "deeply nested comment refused",
	  "(((((((((((((((((((((((((((((((((x)))))))))))))))))))))))))))))))))"
	  " a@b.example", RFC5322_SYNTAX, "" },
};

/* show_list - "local@domain" joined with commas */
static void
show_list(const struct rfc5322_addrlist *l, struct buf *out)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		buf_printf(out, "%s%s@%s", i ? "," : "", l->addr[i].local,
		    l->addr[i].domain);
}

static const struct {
	const char *in;
	enum rfc5322_status st;
	const char *local, *domain;
} env_tests[] = {
	{ "<user@example.com>", RFC5322_OK, "user", "example.com" },
	{ "user@example.com", RFC5322_OK, "user", "example.com" },
	{ " <User@Example.COM> ", RFC5322_OK, "User", "example.com" },
	{ "<user@example.com.>", RFC5322_OK, "user", "example.com" },
	{ "<\"a b\"@example.com>", RFC5322_OK, "\"a b\"", "example.com" },
	{ "<user+tag@sub.example.com>", RFC5322_OK, "user+tag",
	  "sub.example.com" },
	{ "<@relay.example:user@example.com>", RFC5322_OK, "user",
	  "example.com" },
	{ "<user@[192.0.2.1]>", RFC5322_OK, "user", "[192.0.2.1]" },
	{ "<>", RFC5322_NULLSENDER, NULL, NULL },
	{ "", RFC5322_NULLSENDER, NULL, NULL },
	{ " <> ", RFC5322_NULLSENDER, NULL, NULL },
	{ "<postmaster>", RFC5322_NODOMAIN, NULL, NULL },
	{ "postmaster", RFC5322_NODOMAIN, NULL, NULL },
	{ "<user@example.com", RFC5322_SYNTAX, NULL, NULL },
	{ "<user@>", RFC5322_SYNTAX, NULL, NULL },
	{ "<@example.com>", RFC5322_SYNTAX, NULL, NULL },
	{ "<a@b@example.com>", RFC5322_SYNTAX, NULL, NULL },
	{ "<", RFC5322_SYNTAX, NULL, NULL },
};

static const struct {
	const char *d;
	unsigned flags;
	int want;
} dom_tests[] = {
	{ "example.com", 0, 1 },
	{ "Example.COM.", 0, 1 },
	{ "localhost", 0, 1 },
	{ "a-b.example", 0, 1 },
	{ "123.example", 0, 1 },
	{ "xn--bcher-kva.example", 0, 1 },
	{ "", 0, 0 },
	{ ".", 0, 0 },
	{ ".example.com", 0, 0 },
	{ "a..b", 0, 0 },
	{ "example.com..", 0, 0 },
	{ "-a.example", 0, 0 },
	{ "a-.example", 0, 0 },
	{ "a.example-", 0, 0 },
	{ "exa mple.com", 0, 0 },
	{ "[192.0.2.1]", 0, 0 },
	{ "192.0.2.1", 0, 0 },
	{ "example.123", 0, 0 },
	{ "_dmarc.example.com", 0, 0 },
	{ "_dmarc.example.com", RFC5322_DOM_UNDERSCORE, 1 },
	{ "b\xc3\xbc" "cher.example", 0, 0 },
	{ "b\xc3\xbc" "cher.example", RFC5322_DOM_UTF8, 1 },
};

/* long_domain - labels of 63 octets joined to a total of len */
static void
long_domain(struct buf *b, size_t label, size_t len)
{
	buf_truncate(b, 0);
	while (b->len < len) {
		size_t n = label;

		if (b->len > 0)
			buf_putc(b, '.');
		if (n > len - b->len)
			n = len - b->len;
		while (n-- > 0)
			buf_putc(b, 'a');
	}
}

static void
test_split(void)
{
	static const char nul[] = "A: x\0y\n\nb\0dy";
	struct rfc5322_field f;
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; i < sizeof(split_tests) / sizeof(split_tests[0]); i++) {
		buf_truncate(&b, 0);
		split(split_tests[i].msg, strlen(split_tests[i].msg), &b);
		is_str(buf_str(&b), split_tests[i].want, split_tests[i].name);
	}
	rfc5322_next_field(nul, nul + 12, &f);
	ok(f.value_len == 4 && memcmp(f.value, " x\0y", 4) == 0,
	    "a NUL byte inside a value is kept");
	ok(rfc5322_next_field(f.next, nul + 12, &f) == RFC5322_EOH &&
	    f.next == nul + 8, "the body starts after the empty line");
	buf_free(&b);
}

static void
test_unfold(void)
{
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; i < sizeof(unfold_tests) / sizeof(unfold_tests[0]); i++) {
		char name[64];

		buf_truncate(&b, 0);
		rfc5322_unfold(&b, unfold_tests[i].in,
		    strlen(unfold_tests[i].in));
		snprintf(name, sizeof(name), "unfold case %zu", i + 1);
		is_str(buf_str(&b), unfold_tests[i].want, name);
	}
	buf_free(&b);
}

static void
test_from(void)
{
	struct rfc5322_addrlist l;
	struct buf b = BUF_INIT;
	enum rfc5322_status st;
	size_t i;

	for (i = 0; i < sizeof(from_tests) / sizeof(from_tests[0]); i++) {
		buf_truncate(&b, 0);
		st = rfc5322_from(from_tests[i].in, strlen(from_tests[i].in),
		    &l);
		show_list(&l, &b);
		if (!is_int(st, from_tests[i].st, from_tests[i].name))
			diag("status: %s", rfc5322_strerror(st));
		is_str(buf_str(&b), from_tests[i].want, from_tests[i].name);
		rfc5322_addrlist_free(&l);
	}
	buf_truncate(&b, 0);
	for (i = 0; i < RFC5322_MAX_ADDRS + 1; i++)
		buf_printf(&b, "u%zu@example.com,", i);
	st = rfc5322_from(b.s, b.len, &l);
	is_int(st, RFC5322_TOOMANY, "more than RFC5322_MAX_ADDRS addresses");
	ok(l.n == 0 && l.addr == NULL, "the list is empty after an error");
	buf_truncate(&b, 0);
	for (i = 0; i < RFC5322_MAX_ADDRS; i++)
		buf_printf(&b, "u%zu@example.com,", i);
	st = rfc5322_from(b.s, b.len, &l);
	ok(st == RFC5322_MULTIPLE && l.n == RFC5322_MAX_ADDRS,
	    "RFC5322_MAX_ADDRS addresses are accepted");
	rfc5322_addrlist_free(&l);
	buf_free(&b);
}

static void
test_envelope(void)
{
	struct rfc5322_addr a;
	enum rfc5322_status st;
	size_t i;

	for (i = 0; i < sizeof(env_tests) / sizeof(env_tests[0]); i++) {
		char name[128];

		snprintf(name, sizeof(name), "envelope '%s'", env_tests[i].in);
		st = rfc5322_envelope(env_tests[i].in,
		    strlen(env_tests[i].in), &a);
		is_int(st, env_tests[i].st, name);
		ok((a.local == NULL ? env_tests[i].local == NULL :
		    env_tests[i].local != NULL &&
		    strcmp(a.local, env_tests[i].local) == 0) &&
		    (a.domain == NULL ? env_tests[i].domain == NULL :
		    env_tests[i].domain != NULL &&
		    strcmp(a.domain, env_tests[i].domain) == 0),
		    "%s: local part and domain", name);
		rfc5322_addr_free(&a);
	}
}

static void
test_domain(void)
{
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; i < sizeof(dom_tests) / sizeof(dom_tests[0]); i++)
		is_int(rfc5322_domain_valid(dom_tests[i].d,
		    strlen(dom_tests[i].d), dom_tests[i].flags),
		    dom_tests[i].want, dom_tests[i].d);
	long_domain(&b, 63, 63);
	buf_puts(&b, ".example");
	ok(rfc5322_domain_valid(b.s, b.len, 0), "63-octet label accepted");
	long_domain(&b, 64, 64);
	buf_puts(&b, ".example");
	ok(!rfc5322_domain_valid(b.s, b.len, 0), "64-octet label refused");
	long_domain(&b, 63, 253);
	ok(rfc5322_domain_valid(b.s, b.len, 0), "253-octet domain accepted");
	buf_putc(&b, '.');
	ok(rfc5322_domain_valid(b.s, b.len, 0),
	    "253 octets plus the final dot accepted");
	long_domain(&b, 63, 254);
	ok(!rfc5322_domain_valid(b.s, b.len, 0), "254-octet domain refused");
	buf_free(&b);
}

int
main(void)
{
	test_split();
	test_unfold();
	test_from();
	test_envelope();
	test_domain();
	is_str(rfc5322_strerror(RFC5322_NODOMAIN), "address without domain",
	    "statuses have names");
	return done_testing();
}
