/*
 * authres - Authentication-Results: recognising our own authserv-id
 * through disguises, parsing real-world headers, writing and reading back
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authres.h"
#include "buf.h"
#include "tap.h"

#define ID "mx.example.com"

static const struct {
	const char *name, *value;
	int want;
} ours_tests[] = {
	{ "plain id", ID "; dkim=pass", 1 },
	{ "id in other case", "MX.Example.COM; dkim=pass", 1 },
	{ "comment before the id", "(comment) " ID "; spf=pass", 1 },
	{ "nested comment before the id",
	  "(nested (comment (" ID ")) here) " ID ";", 1 },
	{ "comment with escaped parenthesis before the id",
	  "(a\\) other.example) " ID "; none", 1 },
	{ "comment glued after the id", ID "(comment); dkim=pass", 1 },
	{ "folding before the id", "\r\n\t" ID "; dkim=pass", 1 },
	{ "bare LF folding before the id", "\n " ID "; dkim=pass", 1 },
	{ "folding after the id", ID "\r\n ; dkim=pass", 1 },
	{ "quoted id", "\"" ID "\"; dkim=pass", 1 },
	{ "quoted id in other case with version", "\"MX.example.COM\" 1; none",
	  1 },
	{ "quoted id with quoted-pairs", "\"mx\\.example\\.com\"; none", 1 },
	{ "id with a trailing dot", ID ".; none", 1 },
	{ "id with version", ID " 1; none", 1 },
	{ "id alone", ID, 1 },
	{ "id followed by garbage", ID "/x; dkim=pass", 1 },
	{ "other id, ours in a comment after it",
	  "other.example; dkim=pass (" ID ")", 0 },
	{ "ours in a comment, other id", "(" ID ") other.example; none", 0 },
	{ "our id as a prefix", ID ".evil.example; none", 0 },
	{ "our id as a suffix", "evil-" ID "; none", 0 },
	{ "shorter id", "mx.example.co; none", 0 },
	{ "quoted string holding more than the id",
	  "\"" ID " ; dkim=pass\"; none", 0 },
	{ "no id at all", "; dkim=pass", 0 },
	{ "empty value", "", 0 },
	{ "unclosed comment", "(" ID "; dkim=pass", 0 },
	{ "unclosed quote", "\"" ID "; dkim=pass", 0 },
	{ "empty quoted id", "\"\"; none", 0 },
	{ "id behind comments nested past the parser's limit",
	  "(((((((((((((((((((((((((((((((((("
	  "x)))))))))))))))))))))))))))))))))) " ID "; dkim=pass", 1 },
	{ "id behind a comment holding a bare CR",
	  "(a\rb) " ID "; dkim=pass", 1 },
	{ "id behind a comment holding a control byte",
	  "(\x7f\x01) " ID "; dkim=pass", 1 },
	{ "id after a bare CR", "\r" ID "; dkim=pass", 1 },
	{ "other id behind a deep comment holding ours",
	  "((((((((((((((((((((((((((((((((((" ID
	  ")))))))))))))))))))))))))))))))))) other.example; dkim=pass", 0 },
};

/*
 * Values and their parse: the status and "id[ version]" then
 * "; method[/v]=result[ (comment)][ reason=[r]] ptype.property=[value]".
 */
static const struct {
	const char *name, *value;
	enum authres_status st;
	const char *want;
} parse_tests[] = {
	{ "no result", "mx.example; none", AUTHRES_OK, "mx.example" },
	{ "no result with version and comments",
	  "mx.example (c) 1 (c) ; (c) none (c)", AUTHRES_OK, "mx.example 1" },
	{ "no result in upper case", "mx.example; NONE", AUTHRES_OK,
	  "mx.example" },
	{ "id alone", "mx.example", AUTHRES_OK, "mx.example" },
	{ "trailing semicolon", "mx.example; dkim=pass;", AUTHRES_OK,
	  "mx.example; dkim=pass" },
	{ "DKIM with unquoted base64 header.b",
	  "mx.example; dkim=pass header.d=example.com header.s=sel "
	  "header.b=abc/+=", AUTHRES_OK,
	  "mx.example; dkim=pass header.d=[example.com] header.s=[sel] "
	  "header.b=[abc/+=]" },
	{ "Gmail style",
	  "mx.google.com;\r\n       dkim=pass header.i=@example.com "
	  "header.s=20230601 header.b=\"Ab/cD+e\";\r\n       spf=pass "
	  "(google.com: domain of x@example.com designates 192.0.2.1 as "
	  "permitted sender) smtp.mailfrom=x@example.com;\r\n       "
	  "dmarc=pass (p=NONE sp=NONE dis=NONE) header.from=example.com",
	  AUTHRES_OK,
	  "mx.google.com; dkim=pass header.i=[@example.com] "
	  "header.s=[20230601] header.b=[Ab/cD+e]; spf=pass (google.com: "
	  "domain of x@example.com designates 192.0.2.1 as permitted sender) "
	  "smtp.mailfrom=[x@example.com]; dmarc=pass (p=NONE sp=NONE "
	  "dis=NONE) header.from=[example.com]" },
	{ "Microsoft style with stray keyword=value",
	  "mx.example; spf=pass (sender IP is 192.0.2.1) "
	  "smtp.mailfrom=example.com; dkim=none (message not signed) "
	  "header.d=none;dmarc=none action=none header.from=example.com;"
	  "compauth=pass reason=100", AUTHRES_OK,
	  "mx.example; spf=pass (sender IP is 192.0.2.1) "
	  "smtp.mailfrom=[example.com]; dkim=none (message not signed) "
	  "header.d=[none]; dmarc=none header.from=[example.com]; "
	  "compauth=pass reason=[100]" },
	{ "method version", "mx.example; dkim/1=pass header.d=a.example",
	  AUTHRES_OK, "mx.example; dkim/1=pass header.d=[a.example]" },
	{ "comments and folding everywhere",
	  "mx.example (c1) ;\r\n\t(c2) dkim (c3) = (c4) pass (c5 (n)) header "
	  "(c6) . (c7) d (c8) = (c9) example.com (c10)", AUTHRES_OK,
	  "mx.example; dkim=pass (c5 (n)) header.d=[example.com]" },
	{ "keywords lowercased, values kept",
	  "mx.example; DKIM=Pass Header.D=Example.COM", AUTHRES_OK,
	  "mx.example; dkim=pass header.d=[Example.COM]" },
	{ "quoted property value with escapes",
	  "mx.example; auth=pass smtp.auth=\"john \\\"j\\\" smith\"",
	  AUTHRES_OK, "mx.example; auth=pass smtp.auth=[john \"j\" smith]" },
	{ "quoted local part in a property",
	  "mx.example; spf=pass smtp.mailfrom=\"a b\"@example.com",
	  AUTHRES_OK, "mx.example; spf=pass smtp.mailfrom=[\"a b\"@example.com]" },
	{ "reason", "mx.example; dkim=fail reason=\"bad signature\" "
	  "header.d=x.example", AUTHRES_OK,
	  "mx.example; dkim=fail reason=[bad signature] header.d=[x.example]" },
	{ "IPv6 address unquoted",
	  "mx.example; iprev=pass policy.iprev=2001:db8::1", AUTHRES_OK,
	  "mx.example; iprev=pass policy.iprev=[2001:db8::1]" },
	{ "quoted authserv-id", "\"mx example\"; none", AUTHRES_OK,
	  "mx example" },
	{ "comment glued to a property value ends it (CVE-2022-48521)",
	  "mx.example; spf=pass smtp.mailfrom=example.net(.example.com)",
	  AUTHRES_OK, "mx.example; spf=pass smtp.mailfrom=[example.net]" },
	{ "unclosed comment after a property value drops the result",
	  "mx.example; dkim=pass header.d=a.example; spf=pass "
	  "smtp.mailfrom=example.net(.example.com", AUTHRES_SYNTAX,
	  "mx.example; dkim=pass header.d=[a.example]" },
	{ "address with a comment in its domain",
	  "mx.example; spf=pass smtp.mailfrom=user@example.net(@example.com)",
	  AUTHRES_OK, "mx.example; spf=pass smtp.mailfrom=[user@example.net]" },
	{ "results inside a comment are not results",
	  "mx.example; dkim=fail (x; dkim=pass header.d=bank.example) "
	  "header.d=evil.example", AUTHRES_OK,
	  "mx.example; dkim=fail (x; dkim=pass header.d=bank.example) "
	  "header.d=[evil.example]" },
	{ "results inside a quoted value are not results",
	  "mx.example; dkim=fail header.d=\"x; dkim=pass\"", AUTHRES_OK,
	  "mx.example; dkim=fail header.d=[x; dkim=pass]" },
	{ "missing semicolon after the id", "mx.example dkim=pass",
	  AUTHRES_SYNTAX, "mx.example" },
	{ "method without result", "mx.example; dkim", AUTHRES_SYNTAX,
	  "mx.example" },
	{ "second result broken, first kept", "mx.example; dkim=pass; spf",
	  AUTHRES_SYNTAX, "mx.example; dkim=pass" },
	{ "unterminated quoted value",
	  "mx.example; dkim=pass header.d=\"open", AUTHRES_SYNTAX,
	  "mx.example" },
	{ "unclosed comment after result", "mx.example; dkim=pass (open",
	  AUTHRES_SYNTAX, "mx.example" },
	{ "property without value separator",
	  "mx.example; dkim=pass header.d example.com", AUTHRES_SYNTAX,
	  "mx.example" },
	{ "none after a result is a method", "mx.example; dkim=pass; none",
	  AUTHRES_SYNTAX, "mx.example; dkim=pass" },
	{ "no authserv-id", "; dkim=pass", AUTHRES_SYNTAX, "" },
};

/* show - a parsed header written out as parse_tests describe */
static void
show(const struct authres *ar, struct buf *b)
{
	size_t i, j;

	buf_puts(b, ar->authserv_id != NULL ? ar->authserv_id : "");
	if (ar->version > 0)
		buf_printf(b, " %u", ar->version);
	for (i = 0; i < ar->nres; i++) {
		const struct authres_resinfo *r = &ar->res[i];

		buf_printf(b, "; %s", r->method);
		if (r->version > 0)
			buf_printf(b, "/%u", r->version);
		buf_printf(b, "=%s", r->result);
		if (r->comment != NULL)
			buf_printf(b, " (%s)", r->comment);
		if (r->reason != NULL)
			buf_printf(b, " reason=[%s]", r->reason);
		for (j = 0; j < r->nprops; j++)
			buf_printf(b, " %s.%s=[%s]", r->props[j].ptype,
			    r->props[j].property, r->props[j].value);
	}
}

static void
test_ours(void)
{
	size_t i;

	for (i = 0; i < sizeof(ours_tests) / sizeof(ours_tests[0]); i++)
		is_int(authres_is_ours(ours_tests[i].value, ID),
		    ours_tests[i].want, ours_tests[i].name);
	is_int(authres_is_ours(ID "; none", "MX.EXAMPLE.COM."), 1,
	    "our own id given in other case with a final dot");
}

/* what a milter for one method removes: its results under our id */
static const struct {
	const char *value, *method;
	int want;
	const char *name;
} claims_tests[] = {
	{ ID "; dkim=pass header.d=a.example", "dkim", 1,
	    "dkim= under our id: milter-dkim removes it" },
	{ ID "; dkim=pass header.d=a.example", "spf", 0,
	    "dkim= under our id: milter-spf leaves it (a sibling's)" },
	{ ID "; spf=pass smtp.mailfrom=a.example; dkim=fail", "spf", 1,
	    "mixed results under our id: milter-spf removes it" },
	{ ID "; spf=pass smtp.mailfrom=a.example; dkim=fail", "dkim", 1,
	    "mixed results under our id: milter-dkim removes it" },
	{ "(c) MX.Example.COM. ; DKIM=pass", "dkim", 1,
	    "disguised id, method in upper case: removed" },
	{ ID "; none", "dkim", 0, "'none' under our id claims no result" },
	{ ID "; dkim=pass (unclosed", "spf", 1,
	    "unparseable under our id: removed by any of us" },
	{ "other.example; dkim=pass", "dkim", 0,
	    "another id: never removed" },
	{ ID "; auth=pass smtp.auth=admin", "dkim", 1,
	    "a method no milter of the suite writes (auth=): removed by any" },
	{ ID "; iprev=pass policy.iprev=192.0.2.1", "spf", 1,
	    "iprev= under our id: removed by any" },
	{ ID "; dmarc=pass header.from=a.example", "dkim", 0,
	    "dmarc= under our id: left to the DMARC milter" },
	{ ID "; arc=pass", "spf", 0, "arc= under our id: left to the ARC milter" },
	{ ID "; spf=pass dkim=pass header.d=bank.example", "dkim", 1,
	    "dkim= glued into an spf resinfo (no ';'): removed" },
	{ ID "; spf=pass smtp.mailfrom=a.example\r\n\tdkim = pass", "dkim", 1,
	    "dkim= glued into an spf resinfo after folding: removed" },
	{ ID "; spf=pass (c)dkim=pass", "dkim", 1,
	    "dkim= glued into an spf resinfo right after a comment: removed" },
	{ ID "; spf=pass smtp.mailfrom=a.example (dkim=pass)", "dkim", 0,
	    "dkim= only in a comment of a sibling's result: left" },
	{ ID "; spf=pass reason=\"dkim=pass\"", "dkim", 0,
	    "dkim= only in a quoted reason of a sibling's result: left" },
	{ ID "; spf=pass smtp.mailfrom=dkim.example", "dkim", 0,
	    "a property value naming dkim: left" },
};

static void
test_claims(void)
{
	size_t i;

	for (i = 0; i < sizeof(claims_tests) / sizeof(claims_tests[0]); i++)
		is_int(authres_claims(claims_tests[i].value, ID,
		    claims_tests[i].method), claims_tests[i].want,
		    claims_tests[i].name);
}

static void
test_parse(void)
{
	struct authres ar;
	struct buf b = BUF_INIT;
	enum authres_status st;
	size_t i;

	for (i = 0; i < sizeof(parse_tests) / sizeof(parse_tests[0]); i++) {
		buf_truncate(&b, 0);
		st = authres_parse(parse_tests[i].value,
		    strlen(parse_tests[i].value), &ar);
		show(&ar, &b);
		if (!is_int(st, parse_tests[i].st, parse_tests[i].name))
			diag("status: %s", authres_strerror(st));
		is_str(buf_str(&b), parse_tests[i].want, parse_tests[i].name);
		authres_free(&ar);
	}
	buf_free(&b);
}

static void
test_find(void)
{
	static const char v[] = "mx.example; dkim=fail header.d=a.example; "
	    "spf=pass smtp.mailfrom=b.example; dkim=pass header.d=c.example";
	const struct authres_resinfo *r;
	struct authres ar;
	size_t it = 0;

	authres_parse(v, strlen(v), &ar);
	r = authres_find(&ar, "DKIM", &it);
	ok(r != NULL && strcmp(authres_prop_get(r, "header", "d"),
	    "a.example") == 0, "find gives the first dkim result");
	r = authres_find(&ar, "dkim", &it);
	ok(r != NULL && strcmp(r->result, "pass") == 0 &&
	    strcmp(authres_prop_get(r, "Header", "D"), "c.example") == 0,
	    "find goes on to the second dkim result");
	ok(authres_find(&ar, "dkim", &it) == NULL, "then there is no more");
	it = 0;
	r = authres_find(&ar, "spf", &it);
	ok(r != NULL && authres_prop_get(r, "header", "d") == NULL,
	    "a missing property is NULL");
	authres_free(&ar);
	ok(ar.res == NULL && ar.nres == 0, "free leaves an empty header");
	authres_free(&ar);
}

/* max_line - the longest line of s in columns, the first from col */
static size_t
max_line(const char *s, size_t col)
{
	size_t max = 0, c = col;

	for (; *s != '\0'; s++) {
		if (*s == '\n') {
			max = c > max ? c : max;
			c = 0;
		} else if (*s == '\t')
			c = 8;
		else if (*s != '\r')
			c++;
	}
	return c > max ? c : max;
}

static void
test_write(void)
{
	struct authres_prop dkim_props[] = {
		{ "header", "d", "example.com" },
		{ "header", "s", "sel" },
		{ "header", "b", "abc/def" },
	};
	struct authres_prop spf_props[] = {
		{ "smtp", "mailfrom", "user+tag@example.com" },
	};
	struct authres_prop odd_props[] = {
		{ "smtp", "mailfrom", "a b@example.com" },
		{ "smtp", "helo", "" },
		{ "smtp", "auth", "say \"hi\" \\o/" },
		{ "header", "i", "@example.com" },
	};
	struct authres_resinfo res[] = {
		{ "dkim", 0, "pass", NULL, "2048-bit key", dkim_props, 3 },
		{ "spf", 0, "pass", NULL, NULL, spf_props, 1 },
		{ "auth", 1, "fail", "no such user", "a (b) c\\", odd_props, 4 },
	};
	struct buf b = BUF_INIT, s = BUF_INIT;
	struct authres ar;
	size_t i;

	authres_write(&b, AUTHRES_NAME_LEN, 0, ID, 0, NULL, 0);
	is_str(buf_str(&b), ID "; none", "no result written as '; none'");
	buf_truncate(&b, 0);
	authres_write(&b, AUTHRES_NAME_LEN, 0, ID, 1, NULL, 0);
	is_str(buf_str(&b), ID " 1; none", "version after the id");
	buf_truncate(&b, 0);
	authres_write(&b, AUTHRES_NAME_LEN, 0, "mx example", 0, NULL, 0);
	is_str(buf_str(&b), "\"mx example\"; none",
	    "an id that is not a token is quoted");
	buf_truncate(&b, 0);
	authres_write(&b, AUTHRES_NAME_LEN, 0, ID, 0, res, 2);
	is_str(buf_str(&b), ID ";\r\n\tdkim=pass (2048-bit key) "
	    "header.d=example.com header.s=sel\r\n\theader.b=\"abc/def\";"
	    "\r\n\tspf=pass smtp.mailfrom=user+tag@example.com",
	    "results on their own lines, folded before column 78, "
	    "non-token values quoted, addresses not");
	buf_truncate(&b, 0);
	authres_write(&b, AUTHRES_NAME_LEN, AUTHRES_LF, ID, 0, res + 2, 1);
	is_str(buf_str(&b), ID ";\n\tauth/1=fail (a \\(b\\) c\\\\) "
	    "reason=\"no such user\"\n\tsmtp.mailfrom=\"a b@example.com\" "
	    "smtp.helo=\"\"\n\tsmtp.auth=\"say \\\"hi\\\" \\\\o/\" "
	    "header.i=@example.com",
	    "LF folding; comments, reasons and odd values escaped");

	/* round trip: write, check line lengths, parse, compare */
	for (i = 0; i < 3; i++) {
		struct authres_prop many[12];
		struct authres_resinfo r[3];
		char val[12][40];
		size_t j, k;

		memcpy(r, res, sizeof(r));
		for (j = 0; j < 12; j++) {
			snprintf(val[j], sizeof(val[j]), "v%zu%.*s", j,
			    (int)(i * 10), "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
			many[j].ptype = "policy";
			many[j].property = "p";
			many[j].value = val[j];
		}
		r[1].props = many;
		r[1].nprops = 12;
		buf_truncate(&b, 0);
		buf_truncate(&s, 0);
		authres_write(&b, AUTHRES_NAME_LEN, 0, ID, 1, r, 3);
		ok(max_line(b.s, AUTHRES_NAME_LEN) <= AUTHRES_FOLD_COLUMN,
		    "round trip %zu: no line longer than 78 columns", i);
		is_int(authres_parse(b.s, b.len, &ar), AUTHRES_OK,
		    "round trip: what is written parses");
		show(&ar, &s);
		buf_truncate(&b, 0);
		buf_printf(&b, ID " 1");
		for (j = 0; j < 3; j++) {
			buf_printf(&b, "; %s", r[j].method);
			if (r[j].version)
				buf_printf(&b, "/%u", r[j].version);
			buf_printf(&b, "=%s", r[j].result);
			if (r[j].comment)
				buf_printf(&b, " (%s)", r[j].comment);
			if (r[j].reason)
				buf_printf(&b, " reason=[%s]", r[j].reason);
			for (k = 0; k < r[j].nprops; k++)
				buf_printf(&b, " %s.%s=[%s]",
				    r[j].props[k].ptype, r[j].props[k].property,
				    r[j].props[k].value);
		}
		is_str(s.s, b.s, "round trip: every field read back");
		authres_free(&ar);
	}
	buf_free(&b);
	buf_free(&s);
}

static void
test_limits(void)
{
	struct buf b = BUF_INIT;
	struct authres ar;
	size_t i;

	buf_puts(&b, ID);
	for (i = 0; i < AUTHRES_MAX_RESULTS + 1; i++)
		buf_puts(&b, "; dkim=pass");
	is_int(authres_parse(b.s, b.len, &ar), AUTHRES_TOOMANY,
	    "more than AUTHRES_MAX_RESULTS results refused");
	ok(ar.nres == AUTHRES_MAX_RESULTS, "the results before are kept");
	authres_free(&ar);
	buf_truncate(&b, 0);
	buf_puts(&b, ID "; dkim=pass");
	for (i = 0; i < AUTHRES_MAX_PROPS + 1; i++)
		buf_puts(&b, " header.d=x");
	is_int(authres_parse(b.s, b.len, &ar), AUTHRES_TOOMANY,
	    "more than AUTHRES_MAX_PROPS properties refused");
	authres_free(&ar);
	buf_free(&b);
}

/* has_8bit - any byte >= 0x80 */
static int
has_8bit(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return 1;
	return 0;
}

/* test_write_8bit - raw 8-bit bytes (a d= or s= from a hostile
 * signature) never go into the field: "?" instead, or well-formed UTF-8
 * with AUTHRES_UTF8 */
static void
test_write_8bit(void)
{
	struct authres_prop p[] = {
		{ "header", "d", "ex\xe4mple.jp" },		/* Latin-1 */
		{ "header", "s", "sel\xff\xfe" },		/* not UTF-8 */
		{ "header", "i", "@\xe4\xbe\x8b.jp" },	/* UTF-8 */
		{ "header", "b", "a\x01" "b\x7f\xc0\xaf" "c\xed\xa0\x80" },
	};
	struct authres_resinfo r = { "dkim", 0, "permerror", NULL,
	    "bad \xe9 \xe4\xbe\x8b", p, 4 };
	struct buf b = BUF_INIT;
	struct authres ar;

	authres_write(&b, AUTHRES_NAME_LEN, 0, ID, 0, &r, 1);
	ok(!has_8bit(buf_str(&b)), "8-bit bytes in values and comments are "
	    "not written raw");
	is_str(buf_str(&b), ID ";\r\n\tdkim=permerror (bad ? \?\?\?) "
	    "header.d=\"ex?mple.jp\" header.s=\"sel\?\?\"\r\n\t"
	    "header.i=\"@\?\?\?.jp\" header.b=\"a?b\?\?\?c\?\?\?\"",
	    "... each becomes \"?\", and so do control characters");
	is_int(authres_parse(b.s, b.len, &ar), AUTHRES_OK, "... and it parses");
	authres_free(&ar);
	buf_truncate(&b, 0);
	authres_write(&b, AUTHRES_NAME_LEN, AUTHRES_UTF8, ID, 0, &r, 1);
	is_str(buf_str(&b), ID ";\r\n\tdkim=permerror (bad ? \xe4\xbe\x8b) "
	    "header.d=\"ex?mple.jp\" header.s=\"sel\?\?\"\r\n\t"
	    "header.i=\"@\xe4\xbe\x8b.jp\" header.b=\"a?b\?\?\?c\?\?\?\"",
	    "AUTHRES_UTF8: well-formed UTF-8 kept; overlong, surrogate and "
	    "stray bytes still \"?\"");
	buf_free(&b);
}

int
main(void)
{
	test_ours();
	test_claims();
	test_parse();
	test_find();
	test_write();
	test_write_8bit();
	test_limits();
	return done_testing();
}
