/*
 * dmarc_agg - received aggregate reports: the fields kept and checked
 * (required ones, numbers, addresses, keywords, separators), and the
 * MIME walk (nested multiparts, a forwarded message, RFC 2231 file
 * names, quoted-printable, a missing closing boundary, the bounds on
 * nesting and parts)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmarc_agg.h"
#include "tap.h"

#define HEAD "<feedback><report_metadata><org_name>o</org_name>" \
	"<report_id>id</report_id><date_range><begin>10</begin><end>20</end>" \
	"</date_range></report_metadata><policy_published><domain>d.example" \
	"</domain><p>Reject</p></policy_published>"
#define REC(ip, count, from) "<record><row><source_ip>" ip "</source_ip>" \
	"<count>" count "</count></row><identifiers><header_from>" from \
	"</header_from></identifiers></record>"
#define GOOD HEAD REC("192.0.2.1", "3", "d.example") "</feedback>"

static const struct {
	const char *xml, *why, *name;
} reports[] = {
	{ GOOD, NULL, "a minimal report" },
	{ "<feedback><report_metadata><report_id>x</report_id>"
	  "</report_metadata></feedback>", "no org_name", "org_name is required" },
	{ HEAD "</feedback>", NULL, "a report without records" },
	{ "<feedback><report_metadata><org_name>o</org_name><report_id>i"
	  "</report_id><date_range><begin>20</begin><end>10</end></date_range>"
	  "</report_metadata><policy_published><domain>d</domain>"
	  "</policy_published></feedback>", "ends before it begins",
	  "a period that ends before it begins" },
	{ HEAD REC("192.0.2.1", "-3", "d.example") "</feedback>",
	  "not a number", "a negative count" },
	{ HEAD REC("192.0.2.1", "99999999999999999999", "d.example")
	  "</feedback>", "not a number", "a count past the bound" },
	{ HEAD REC("192.0.2.300", "1", "d.example") "</feedback>",
	  "is not an IP address", "a source that is not an address" },
	{ HEAD REC("192.0.2.1", "1", "d.example|x") "</feedback>",
	  "a space or '|'", "a separator in header_from" },
	{ HEAD "<record><row><source_ip>192.0.2.1</source_ip></row>"
	  "</record></feedback>", "no source_ip, count or header_from",
	  "a record without its count" },
	{ HEAD "<record><row><source_ip>192.0.2.1</source_ip><count>1</count>"
	  "<policy_evaluated><disposition>drop table</disposition>"
	  "</policy_evaluated></row></record></feedback>", "is not a keyword",
	  "a disposition that is not a keyword" },
	{ "<x:feedback xmlns:x='urn:ietf:params:xml:ns:dmarc-2.0'>"
	  "<x:report_metadata><x:org_name>o</x:org_name><x:report_id>i"
	  "</x:report_id><x:date_range><x:begin>1</x:begin><x:end>2</x:end>"
	  "</x:date_range></x:report_metadata><x:policy_published><x:domain>d"
	  "</x:domain></x:policy_published></x:feedback>", NULL,
	  "a report with a namespace prefix" },
};

/* keep_one - a callback that counts and frees */
static int
keep_one(void *arg, struct dmarc_agg *r)
{
	(*(int *)arg)++;
	dmarc_agg_free(r);
	free(r);
	return 0;
}

static void
test_reports(void)
{
	struct dmarc_agg r;
	struct buf why = BUF_INIT;
	size_t i;

	for (i = 0; i < sizeof(reports) / sizeof(reports[0]); i++) {
		enum dmarc_agg_status st;

		buf_reset(&why);
		st = dmarc_agg_parse(reports[i].xml, strlen(reports[i].xml), &r,
		    &why);
		if (reports[i].why == NULL)
			ok(st == DMARC_AGG_OK, "%s: read (%s)", reports[i].name,
			    buf_str(&why) ? buf_str(&why) : "");
		else
			ok(st != DMARC_AGG_OK && buf_str(&why) != NULL &&
			    strstr(buf_str(&why), reports[i].why) != NULL,
			    "%s: refused (%s)", reports[i].name,
			    buf_str(&why) ? buf_str(&why) : "no reason");
		dmarc_agg_free(&r);
	}
	dmarc_agg_parse(GOOD, strlen(GOOD), &r, &why);
	ok(strcmp(r.p, "reject") == 0 && r.nrec == 1 && r.rec[0].count == 3 &&
	    r.begin == 10 && r.end == 20 && r.pct == -1,
	    "the fields as given, keywords lowercased, pct absent");
	dmarc_agg_free(&r);
	buf_free(&why);
}

static const struct {
	const char *mail;
	enum dmarc_agg_status want;
	int reports;
	const char *name;
} mails[] = {
	{ "Content-Type: multipart/mixed; boundary=a\n\n--a\n"
	  "Content-Type: message/rfc822\n\nFrom: x\nContent-Type: "
	  "application/xml\n\n" GOOD "\n--a--\n", DMARC_AGG_OK, 1,
	  "a report in a forwarded message" },
	{ "Content-Type: multipart/mixed; boundary=a\n\n--a\n"
	  "Content-Type: application/octet-stream\nContent-Disposition: "
	  "attachment;\n filename*=utf-8''r%20.xml\n\n" GOOD "\n--a--\n",
	  DMARC_AGG_OK, 1, "an RFC 2231 file name ending in .xml" },
	{ "Content-Type: multipart/mixed; boundary=a\n\n--a\n"
	  "Content-Type: text/plain; name=r.txt\n\n" GOOD "\n--a--\n",
	  DMARC_AGG_NONE, 0, "a text/plain part is not a report" },
	{ "Content-Type: multipart/mixed; boundary=a\n\n--a\n"
	  "Content-Type: application/xml\n\n" GOOD "\n", DMARC_AGG_MIME, 0,
	  "a multipart without its closing boundary" },
	{ "Content-Type: application/xml\nContent-Transfer-Encoding: "
	  "Quoted-Printable\n\n<feedback><report_metadata><org_name>o=3D=\n"
	  "1</org_name><report_id>i</report_id><date_range><begin>1</begin>"
	  "<end>2</end></date_range></report_metadata><policy_published>"
	  "<domain>d</domain></policy_published></feedback>\n", DMARC_AGG_OK,
	  1, "quoted-printable with a soft line break" },
	{ "Content-Type: application/gzip\nContent-Transfer-Encoding: base64"
	  "\n\n!!!!\n", DMARC_AGG_MIME, 0, "bad base64" },
	{ "Content-Type: multipart/mixed\n\n--a\n", DMARC_AGG_MIME, 0,
	  "a multipart without a boundary" },
};

/* nested - a report inside multiparts nested levels deep */
static void
nested(struct buf *m, int levels)
{
	int i;

	buf_reset(m);
	buf_printf(m, "Content-Type: application/xml\n\n%s", GOOD);
	for (i = 0; i < levels; i++) {
		struct buf outer = BUF_INIT;

		buf_printf(&outer, "Content-Type: multipart/mixed; "
		    "boundary=b%d\n\n--b%d\n%s\n--b%d--\n", i, i,
		    buf_str(m), i);
		buf_free(m);
		*m = outer;
	}
}

static void
test_mails(void)
{
	struct buf why = BUF_INIT, m = BUF_INIT;
	size_t i;
	int n;

	for (i = 0; i < sizeof(mails) / sizeof(mails[0]); i++) {
		enum dmarc_agg_status st;

		n = 0;
		buf_reset(&why);
		st = dmarc_agg_mail(mails[i].mail, strlen(mails[i].mail),
		    DMARC_AGG_MAX_UNPACKED, keep_one, &n, &why);
		ok(st == mails[i].want && n == mails[i].reports,
		    "%s: %s, %d reports (%s)", mails[i].name,
		    dmarc_agg_strerror(st), n, buf_str(&why) ?
		    buf_str(&why) : "");
	}
	/* nesting up to the bound, and past it */
	nested(&m, DMARC_AGG_MAX_NEST);
	n = 0;
	buf_reset(&why);
	ok(dmarc_agg_mail(m.s, m.len, DMARC_AGG_MAX_UNPACKED, keep_one, &n,
	    &why) == DMARC_AGG_OK && n == 1, "multiparts nested %d deep",
	    DMARC_AGG_MAX_NEST);
	nested(&m, DMARC_AGG_MAX_NEST + 1);
	n = 0;
	buf_reset(&why);
	ok(dmarc_agg_mail(m.s, m.len, DMARC_AGG_MAX_UNPACKED, keep_one, &n,
	    &why) == DMARC_AGG_MIME && n == 0 && strstr(buf_str(&why),
	    "nested deeper") != NULL, "multiparts nested past the bound: %s",
	    buf_str(&why));
	/* parts past the bound */
	buf_reset(&m);
	buf_puts(&m, "Content-Type: multipart/mixed; boundary=p\n\n");
	for (i = 0; i < DMARC_AGG_MAX_PARTS + 1; i++)
		buf_puts(&m, "--p\nContent-Type: text/plain\n\nx\n");
	buf_puts(&m, "--p--\n");
	buf_reset(&why);
	ok(dmarc_agg_mail(m.s, m.len, DMARC_AGG_MAX_UNPACKED, keep_one, &n,
	    &why) == DMARC_AGG_MIME && strstr(buf_str(&why), "more than 64 "
	    "MIME parts") != NULL, "parts past the bound: %s", buf_str(&why));
	/* a file that is none of the three */
	buf_reset(&why);
	ok(dmarc_agg_data("hello", 5, "f.txt", 100, keep_one, &n, &why) ==
	    DMARC_AGG_REPORT && strstr(buf_str(&why), "not XML, gzip or zip") !=
	    NULL, "a file that is not XML, gzip or zip: %s", buf_str(&why));
	buf_free(&why);
	buf_free(&m);
}

int
main(void)
{
	test_reports();
	test_mails();
	return done_testing();
}
