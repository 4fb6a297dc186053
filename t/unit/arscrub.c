/*
 * arscrub - which Authentication-Results fields each milter of the suite
 * removes: those under our authserv-id (bare, or with a job id) holding
 * its own method's results, a method none of the suite writes, or that
 * do not parse; never a sibling's or another host's.  Deletions come out
 * highest index first, and the scrubber starts afresh per message.
 */
#include <stdlib.h>
#include <string.h>

#include "arscrub.h"
#include "buf.h"
#include "hdredit.h"
#include "tap.h"

#define ID	"mx.example.net"

/* One message's header fields; indexes count the A-R fields from 1. */
static const struct {
	const char *name, *value;
} fields[] = {
	{ "Received", " from a by b" },
	{ "Authentication-Results", " " ID "; dkim=pass header.d=a.example" },
	{ "Authentication-Results", " " ID "; spf=pass smtp.mailfrom=a.example" },
	{ "X-Other", " x" },
	{ "Authentication-Results", " other.example; dkim=pass header.d=b" },
	{ "authentication-results", " (c) MX.Example.NET.; dmarc=pass" },
	{ "Authentication-Results", " " ID "; auth=pass smtp.auth=u" },
	{ "Authentication-Results", " \"" ID "/Q1\"; dkim=fail" },
	{ "Authentication-Results", " " ID "/Q2; arc=pass" },
	{ "Authentication-Results", " " ID "; spf=pass; ((unclosed" },
	{ "Authentication-Results", " " ID "; arc=pass smtp.remote-ip=1.2.3.4" },
	{ "Authentication-Results", " \"" ID "/Q3\"; spf=fail" },
};

/* deletions - "del N;" for each deletion a method's scrubber asks for */
static void
deletions(const char *method, struct buf *out)
{
	struct arscrub s;
	struct hdr_edits e = HDR_EDITS_INIT;
	size_t i;

	arscrub_init(&s, method);
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		arscrub_header(&s, ID, fields[i].name, fields[i].value);
	arscrub_edits(&s, &e);
	buf_reset(out);
	buf_append(out, "", 0);
	for (i = 0; i < e.n; i++)
		buf_printf(out, "del %d;", e.v[i].index);
	if (s.total != 10 || arscrub_count(&s) != e.n)
		buf_puts(out, " (miscounted)");
	hdr_edits_free(&e);
	arscrub_free(&s);
}

int
main(void)
{
	static const struct {
		const char *method, *want, *name;
	} t[] = {
		/* A-R 5 (auth=) and 8 (unclosed comment) are everyone's;
		 * 7 (id/job id in OpenDKIM's unquoted form) does not parse
		 * either */
		{ "dkim", "del 8;del 7;del 6;del 5;del 1;",
		    "milter-dkim: dkim=, quoted id/job id, unknown method, "
		    "unparseable" },
		{ "spf", "del 10;del 8;del 7;del 5;del 2;",
		    "milter-spf: spf=, quoted id/job id, unknown method, "
		    "unparseable" },
		{ "dmarc", "del 8;del 7;del 5;del 4;",
		    "milter-dmarc: dmarc= under a disguised id" },
		{ "arc", "del 9;del 8;del 7;del 5;",
		    "milter-arc: arc=" },
	};
	struct buf out = BUF_INIT;
	struct arscrub s;
	struct hdr_edits e = HDR_EDITS_INIT;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		deletions(t[i].method, &out);
		is_str(buf_str(&out), t[i].want, t[i].name);
	}

	/* a new message starts counting afresh */
	arscrub_init(&s, "dkim");
	arscrub_header(&s, ID, "Authentication-Results", " " ID "; dkim=pass");
	arscrub_reset(&s);
	arscrub_header(&s, ID, "Authentication-Results", " x.example; none");
	arscrub_header(&s, ID, "Authentication-Results", " " ID "; dkim=pass");
	arscrub_edits(&s, &e);
	ok(e.n == 1 && e.v[0].index == 2 && e.v[0].op == HDR_EDIT_DELETE &&
	    strcmp(e.v[0].name, "Authentication-Results") == 0,
	    "after arscrub_reset the indexes count from 1 again");
	arscrub_free(&s);
	hdr_edits_free(&e);

	is_int(arscrub_claims(" \"" ID "/J\"; dkim=pass", ID, "dkim"), 1,
	    "arscrub_claims: our id with a job id, quoted");
	is_int(arscrub_claims(" \"" ID "X/J\"; dkim=pass", ID, "dkim"), 0,
	    "arscrub_claims: a longer id with a job id is not ours");
	is_int(arscrub_claims(" \"" ID "/J\"; spf=pass", ID, "dkim"), 0,
	    "arscrub_claims: a sibling's result under our id/job id stays");
	buf_free(&out);
	return done_testing();
}
