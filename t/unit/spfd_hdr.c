/*
 * spfd_hdr - milter-spf's Received-SPF fields and SMTP reply texts stay
 * well-formed whatever the client puts in HELO and MAIL FROM: no CR,
 * LF (but folds), control characters, unbalanced quotes or comments,
 * and no key=value pair the client did not earn.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../milter-spf/spfd_hdr.h"
#include "buf.h"
#include "tap.h"

/*
 * field_ok - 1 when v is a well-formed Received-SPF value: printable
 * ASCII, LF only as LF TAB folds, comments and quotes balanced, and the
 * keys outside quotes and comments exactly the expected ones.
 */
static int
field_ok(const char *v, const char *keys, struct buf *why)
{
	struct buf seen = BUF_INIT;
	int depth = 0, quoted = 0, r = 1;
	const char *p, *k;

	for (p = v; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '\n') {
			if (p[1] != '\t') {
				buf_printf(why, "bare LF at %zu", (size_t)(p - v));
				r = 0;
			}
			continue;
		}
		if (c == '\t' && p > v && p[-1] == '\n')
			continue;
		if (c < 0x20 || c >= 0x7f) {
			buf_printf(why, "byte 0x%02x at %zu", c, (size_t)(p - v));
			r = 0;
			continue;
		}
		if ((quoted || depth > 0) && c == '\\') {
			if (p[1] == '\0' || p[1] == '\n')
				r = 0;
			else
				p++;
			continue;
		}
		if (quoted) {
			quoted = c != '"';
			continue;
		}
		if (c == '(')
			depth++;
		else if (c == ')' && depth-- == 0)
			r = 0;
		else if (depth == 0 && c == '"')
			quoted = 1;
		else if (depth == 0 && c == '=') {
			/* the key before '=' */
			for (k = p; k > v && k[-1] != ' ' && k[-1] != '\t'; k--)
				;
			buf_append(&seen, k, (size_t)(p - k));
			buf_putc(&seen, ' ');
		}
	}
	if (quoted || depth != 0) {
		buf_printf(why, "unbalanced: quoted %d depth %d", quoted, depth);
		r = 0;
	}
	if (strcmp(buf_str(&seen), keys) != 0) {
		buf_printf(why, "keys '%s', want '%s'", buf_str(&seen), keys);
		r = 0;
	}
	buf_free(&seen);
	return r;
}

static const struct {
	const char *name, *helo, *from;
} hostile[] = {
	{ "CRLF and a new field in HELO", "a.test\r\nX-Evil: 1",
	  "u@a.test" },
	{ "bare LF in MAIL FROM", "a.test", "u@a.test\nReceived-SPF: pass" },
	{ "unbalanced quote in MAIL FROM", "a.test", "\"u@a.test" },
	{ "quote and semicolon smuggling a key", "a.test",
	  "u\"; client-ip=1.2.3.4; x=\"@a.test" },
	{ "comment smuggling in HELO", "a.test) receiver=evil (",
	  "u@a.test" },
	{ "backslash at the end", "a.test\\", "u@a.test\\" },
	{ "control and 8-bit bytes", "a\001b\033[31m\177\200\377",
	  "\tu@a.test" },
	{ "nested parentheses", "((((a.test", "u@(b).test)))" },
	{ "very long HELO",
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "\"\r\n", "u@a.test" },
	{ "empty values", "", "" },
};

/* test_hostile - every hostile pair, every result, stays well-formed */
static void
test_hostile(void)
{
	struct spfd_rspf h;
	struct buf out = BUF_INIT, why = BUF_INIT;
	size_t i;
	int r;

	for (i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++)
		for (r = SPF_NONE; r <= SPF_PERMERROR; r++) {
			memset(&h, 0, sizeof(h));
			h.result = (enum spf_result)r;
			h.receiver = "mx.test";
			h.client_ip = "2001:db8::1";
			h.envelope_from = hostile[i].from;
			h.helo = hostile[i].helo;
			h.identity = "mailfrom";
			h.checked = hostile[i].from;
			h.mechanism = r == SPF_PASS ? "a:x\"y" : NULL;
			h.problem = r >= SPF_TEMPERROR ? hostile[i].helo : NULL;
			buf_reset(&out);
			buf_reset(&why);
			ok(spfd_hdr_received_spf(&out, &h) == 0 &&
			    field_ok(buf_str(&out), r == SPF_PASS ?
			    "receiver client-ip envelope-from helo identity "
			    "mechanism " : r >= SPF_TEMPERROR ? "receiver "
			    "client-ip envelope-from helo identity problem " :
			    "receiver client-ip envelope-from helo identity ",
			    &why), "%s, %s: well-formed", hostile[i].name,
			    spf_result_str(h.result));
			if (why.len > 0)
				diag("%s: %s", buf_str(&why), buf_str(&out));
		}
	buf_free(&out);
	buf_free(&why);
}

/* test_exact - the field for ordinary values, byte for byte */
static void
test_exact(void)
{
	struct spfd_rspf h = { SPF_FAIL, "mx.test", "192.0.2.1", "", "a.test",
	    "helo", "a.test", "-all", NULL };
	struct buf out = BUF_INIT;

	spfd_hdr_received_spf(&out, &h);
	is_str(buf_str(&out), "fail\n\t(mx.test: domain of a.test does not "
	    "designate 192.0.2.1 as permitted sender)\n\treceiver=mx.test; "
	    "client-ip=192.0.2.1; envelope-from=\"\"; helo=a.test;\n\t"
	    "identity=helo; mechanism=-all", "fail for HELO, null sender");
	buf_reset(&out);
	h.result = SPF_NEUTRAL;
	h.mechanism = "?all";
	h.helo = "a \"quoted\" \\ name";
	spfd_hdr_received_spf(&out, &h);
	is_str(buf_str(&out), "neutral\n\t(mx.test: 192.0.2.1 is neither "
	    "permitted nor denied by domain of a.test)\n\treceiver=mx.test; "
	    "client-ip=192.0.2.1; envelope-from=\"\";\n\thelo=\"a \\\"quoted"
	    "\\\" \\\\ name\"; identity=helo; mechanism=?all",
	    "neutral, HELO with quotes and a backslash quoted");
	buf_free(&out);
}

/* test_clean - what the cleaner keeps */
static void
test_clean(void)
{
	struct buf b = BUF_INIT;
	char big[600];

	spfd_hdr_clean(&b, "a\r\nb\tc\001\377~", 100);
	is_str(buf_str(&b), "a??b?c??~", "control and 8-bit bytes become ?");
	buf_reset(&b);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	spfd_hdr_clean(&b, big, SPFD_FIELD_MAX);
	is_int((long)b.len, SPFD_FIELD_MAX, "values are cut");
	buf_reset(&b);
	spfd_hdr_clean(&b, NULL, 10);
	is_str(buf_str(&b), "", "NULL is empty");
	buf_free(&b);
}

/* test_reply - reply texts for smfi_setreply() */
static void
test_reply(void)
{
	char t[SPFD_REPLY_MAX + 1], small[8], big[1000];
	size_t i;

	spfd_hdr_reply(t, sizeof(t), "100% sure\r\n550 injected\001");
	is_str(t, "100%% sure??550 injected?",
	    "percent doubled, CR LF and controls replaced");
	spfd_hdr_reply(small, sizeof(small), "abcde%%");
	is_str(small, "abcde%%", "a doubled percent fits exactly");
	spfd_hdr_reply(small, sizeof(small), "abcdef%");
	is_str(small, "abcdef", "a doubled percent is never cut in half");
	memset(big, '%', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	spfd_hdr_reply(t, sizeof(t), big);
	for (i = 0; t[i] != '\0' && t[i] == '%'; i++)
		;
	ok(t[i] == '\0' && i % 2 == 0 && i <= SPFD_REPLY_MAX,
	    "a text of percents is cut to an even count within the limit");
}

int
main(void)
{
	test_hostile();
	test_exact();
	test_clean();
	test_reply();
	return done_testing();
}
