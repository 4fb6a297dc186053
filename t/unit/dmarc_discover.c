/*
 * dmarc_discover - policy discovery and Organizational Domains on zone
 * data: the DNS Tree Walk of RFC 9989 (the names asked, in order, at
 * most eight; psd=y and psd=n; several records at one name discarded;
 * np= for non-existent subdomains; DNS errors), RFC 7489's public
 * suffix method, and relaxed and strict alignment in both
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmarc.h"
#include "dns_zone.h"
#include "tap.h"

/* The zone: each row a name and a TXT or A record. */
static const struct {
	const char	*name;
	enum dns_type	 type;
	const char	*rdata;
} zone[] = {
	{ "_dmarc.example.com", DNS_T_TXT, "\"v=DMARC1; p=reject; sp=quarantine\"" },
	{ "_dmarc.own.example.com", DNS_T_TXT, "\"v=DMARC1; p=none\"" },
	{ "www.example.com", DNS_T_A, "192.0.2.1" },
	{ "_dmarc.np.example", DNS_T_TXT, "\"v=DMARC1; p=none; sp=quarantine; np=reject\"" },
	{ "exists.np.example", DNS_T_A, "192.0.2.2" },
	{ "mx.np.example", DNS_T_MX, "10 exists.np.example" },
	{ "_dmarc.twice.example", DNS_T_TXT, "\"v=DMARC1; p=none\"" },
	{ "_dmarc.twice.example", DNS_T_TXT, "\"v=DMARC1; p=reject\"" },
	{ "_dmarc.example", DNS_T_TXT, "\"v=DMARC1; p=quarantine\"" },
	{ "_dmarc.spf.example", DNS_T_TXT, "\"v=spf1 -all\"" },
	{ "_dmarc.bad.example", DNS_T_TXT, "\"v=DMARC1; p=reject; junk\"" },
	{ "_dmarc.gov", DNS_T_TXT, "\"v=DMARC1; p=reject; psd=y\"" },
	{ "_dmarc.agency.gov", DNS_T_TXT, "\"v=DMARC1; p=none\"" },
	{ "_dmarc.bank", DNS_T_TXT, "\"v=DMARC1; p=reject; psd=y\"" },
	{ "_dmarc.corp.test", DNS_T_TXT, "\"v=DMARC1; p=none; psd=n\"" },
	{ "_dmarc.test", DNS_T_TXT, "\"v=DMARC1; p=reject; psd=y\"" },
	{ "_dmarc.b.a.org", DNS_T_TXT, "\"v=DMARC1; p=none\"" },
	{ "_dmarc.a.org", DNS_T_TXT, "\"v=DMARC1; p=none\"" },
	{ "_dmarc.fail.example.net", DNS_T_TXT, "SERVFAIL" },
	{ "_dmarc.slow.example.net", DNS_T_TXT, "TIMEOUT" },
	{ "_dmarc.example.co.uk", DNS_T_TXT, "\"v=DMARC1; p=reject\"" },
	{ "example.com._report._dmarc.reports.example", DNS_T_TXT,
	    "\"v=DMARC1\"" },
	{ "example.com._report._dmarc.spf.example", DNS_T_TXT,
	    "\"v=spf1 -all\"" },
};

struct trace {
	char	 names[16][300];
	size_t	 n;
};

static void
tracer(void *arg, const char *q, enum dns_status st, unsigned n,
    const char *note)
{
	struct trace *t = arg;

	(void)st, (void)n, (void)note;
	if (strncmp(q, "_dmarc.", 7) == 0 && t->n < 16)
		snprintf(t->names[t->n++], sizeof(t->names[0]), "%s", q + 7);
}

/* Policy discovery: author, expected status, where, policy, queries. */
static const struct {
	const char	*author;
	enum dmarc_mode	 mode;
	enum dmarc_disc	 want;
	const char	*where;
	const char	*asked;		/* the names asked, space-separated */
	const char	*why;
} walks[] = {
	{ "own.example.com", DMARC_MODE_BIS, DMARC_DISC_FOUND,
	    "own.example.com", "own.example.com",
	    "a record at the author domain: one query" },
	{ "www.example.com", DMARC_MODE_BIS, DMARC_DISC_FOUND, "example.com",
	    "www.example.com example.com",
	    "a subdomain without a record inherits its parent's" },
	{ "a.b.c.www.example.com", DMARC_MODE_BIS, DMARC_DISC_FOUND,
	    "example.com", "a.b.c.www.example.com b.c.www.example.com "
	    "c.www.example.com www.example.com example.com",
	    "the walk drops one label at a time" },
	{ "1.2.3.4.5.6.7.8.9.example.com", DMARC_MODE_BIS, DMARC_DISC_FOUND,
	    "example.com", "1.2.3.4.5.6.7.8.9.example.com "
	    "5.6.7.8.9.example.com 6.7.8.9.example.com 7.8.9.example.com "
	    "8.9.example.com 9.example.com example.com",
	    "eight labels or more: the second query has the last seven" },
	{ "1.2.3.4.5.6.7.8.9.nothing.invalid", DMARC_MODE_BIS,
	    DMARC_DISC_NONE, "", "1.2.3.4.5.6.7.8.9.nothing.invalid "
	    "5.6.7.8.9.nothing.invalid 6.7.8.9.nothing.invalid "
	    "7.8.9.nothing.invalid 8.9.nothing.invalid 9.nothing.invalid "
	    "nothing.invalid invalid", "no record: at most eight queries, "
	    "the last one at the top-level domain" },
	{ "x.twice.example", DMARC_MODE_BIS, DMARC_DISC_FOUND, "example",
	    "x.twice.example twice.example example",
	    "two records at one name are discarded, the walk goes on" },
	{ "twice.example", DMARC_MODE_7489, DMARC_DISC_NONE, "",
	    "twice.example", "RFC 7489: two records at the author domain "
	    "end discovery" },
	{ "spf.example", DMARC_MODE_BIS, DMARC_DISC_FOUND, "example",
	    "spf.example example", "a TXT record that is not DMARC is not a "
	    "record" },
	{ "bad.example", DMARC_MODE_BIS, DMARC_DISC_FOUND, "example",
	    "bad.example example", "an invalid record is ignored" },
	{ "mail.agency.gov", DMARC_MODE_BIS, DMARC_DISC_FOUND, "agency.gov",
	    "mail.agency.gov agency.gov", "the closest record wins over a "
	    "PSD record" },
	{ "shop.bank", DMARC_MODE_BIS, DMARC_DISC_FOUND, "bank",
	    "shop.bank bank", "a PSD record (psd=y at a TLD) applies to a "
	    "domain under it without its own" },
	{ "x.fail.example.net", DMARC_MODE_BIS, DMARC_DISC_TEMPERROR, "",
	    "x.fail.example.net fail.example.net",
	    "SERVFAIL in the walk is a temperror, not a walk past it" },
	{ "slow.example.net", DMARC_MODE_BIS, DMARC_DISC_TEMPERROR, "",
	    "slow.example.net", "a timeout is a temperror" },
	{ "a.b.sub.example.co.uk", DMARC_MODE_7489, DMARC_DISC_FOUND,
	    "example.co.uk", "a.b.sub.example.co.uk example.co.uk",
	    "RFC 7489: the author domain, then its public-suffix "
	    "Organizational Domain" },
	{ "nothing.example.org", DMARC_MODE_7489, DMARC_DISC_NONE, "",
	    "nothing.example.org example.org",
	    "RFC 7489: two queries at most" },
	{ "bad..name", DMARC_MODE_BIS, DMARC_DISC_BADNAME, "", "",
	    "an invalid name is not looked up" },
};

/* joined - the traced names, space-separated */
static void
joined(const struct trace *t, char *out, size_t size)
{
	size_t i, len = 0;

	out[0] = '\0';
	for (i = 0; i < t->n && len < size; i++)
		len += (size_t)snprintf(out + len, size - len, "%s%s",
		    i ? " " : "", t->names[i]);
}

static void
test_walks(struct dns_resolver *r)
{
	char got[2048];
	size_t i;

	for (i = 0; i < sizeof(walks) / sizeof(walks[0]); i++) {
		struct trace t = { .n = 0 };
		struct dmarc_opts o = { walks[i].mode, NULL, tracer, &t };
		struct dmarc_found f;
		enum dmarc_disc st;

		st = dmarc_discover(r, &o, walks[i].author, &f);
		is_int(st, walks[i].want, walks[i].why);
		if (st == DMARC_DISC_FOUND)
			is_str(f.domain, walks[i].where, "  ... found there");
		joined(&t, got, sizeof(got));
		is_str(got, walks[i].asked, "  ... asking these names");
		ok(t.n <= DMARC_MAX_QUERIES, "  ... at most eight queries");
		dmarc_found_clear(&f);
	}
}

/* The policy that applies: p at the author, np/sp below it. */
static void
test_np(struct dns_resolver *r)
{
	struct dmarc_input in = { 0 };
	struct dmarc_eval e;

	in.from = "nx.np.example";
	dmarc_evaluate(r, NULL, &in, &e);
	ok(e.found.nonexistent && e.policy == DMARC_P_REJECT,
	    "np= applies to a non-existent subdomain (policy %s)",
	    dmarc_policy_name(e.policy));
	dmarc_eval_clear(&e);
	in.from = "exists.np.example";
	dmarc_evaluate(r, NULL, &in, &e);
	ok(!e.found.nonexistent && e.policy == DMARC_P_QUARANTINE,
	    "sp= applies to an existing subdomain (policy %s)",
	    dmarc_policy_name(e.policy));
	dmarc_eval_clear(&e);
	in.from = "mx.np.example";
	dmarc_evaluate(r, NULL, &in, &e);
	ok(!e.found.nonexistent && e.policy == DMARC_P_QUARANTINE,
	    "a subdomain with only an MX record exists");
	dmarc_eval_clear(&e);
	in.from = "np.example";
	dmarc_evaluate(r, NULL, &in, &e);
	is_int(e.policy, DMARC_P_NONE, "p= applies at the author domain");
	dmarc_eval_clear(&e);
	in.from = "www.example.com";
	dmarc_evaluate(r, NULL, &in, &e);
	is_int(e.policy, DMARC_P_QUARANTINE, "sp= applies to a subdomain");
	dmarc_eval_clear(&e);
}

static const struct {
	const char	*name;
	enum dmarc_mode	 mode;
	const char	*org;
	const char	*why;
} orgs[] = {
	{ "mail.agency.gov", DMARC_MODE_BIS, "agency.gov",
	    "psd=y at gov: the Organizational Domain is one label below" },
	{ "x.y.agency.gov", DMARC_MODE_BIS, "agency.gov",
	    "psd=y: one label below it, however deep the name" },
	{ "gov", DMARC_MODE_BIS, "gov", "psd=y at the starting name: itself" },
	{ "a.corp.test", DMARC_MODE_BIS, "corp.test",
	    "psd=n stops the walk: that name" },
	{ "x.b.a.org", DMARC_MODE_BIS, "a.org",
	    "without psd: the record with the fewest labels" },
	{ "sub.nothing.invalid", DMARC_MODE_BIS, "sub.nothing.invalid",
	    "no record anywhere: the name is its own" },
	{ "www.example.com", DMARC_MODE_BIS, "example.com",
	    "the parent's record makes it the Organizational Domain" },
	{ "a.b.example.co.uk", DMARC_MODE_7489, "example.co.uk",
	    "RFC 7489: the public suffix list" },
	{ "co.uk", DMARC_MODE_7489, "co.uk", "RFC 7489: a public suffix is "
	    "its own" },
};

static void
test_orgs(struct dns_resolver *r)
{
	char org[DMARC_NAME_MAX + 1];
	size_t i;

	for (i = 0; i < sizeof(orgs) / sizeof(orgs[0]); i++) {
		struct dmarc_opts o = { orgs[i].mode, NULL, NULL, NULL };

		dmarc_org_domain(r, &o, orgs[i].name, org);
		is_str(org, orgs[i].org, orgs[i].why);
	}
}

static const struct {
	const char	*from, *other;
	enum dmarc_align mode;
	enum dmarc_mode	 dmode;
	int		 want;
	const char	*why;
} aligns[] = {
	{ "example.com", "example.com", DMARC_ALIGN_STRICT, DMARC_MODE_BIS, 1,
	    "strict: the same name" },
	{ "Example.COM.", "example.com", DMARC_ALIGN_STRICT, DMARC_MODE_BIS,
	    1, "strict: case and a final dot do not matter" },
	{ "www.example.com", "example.com", DMARC_ALIGN_STRICT,
	    DMARC_MODE_BIS, 0, "strict: a parent is not aligned" },
	{ "www.example.com", "example.com", DMARC_ALIGN_RELAXED,
	    DMARC_MODE_BIS, 1, "relaxed: the same Organizational Domain" },
	{ "www.example.com", "mail.example.com", DMARC_ALIGN_RELAXED,
	    DMARC_MODE_BIS, 1, "relaxed: two siblings" },
	{ "example.com", "example.net", DMARC_ALIGN_RELAXED, DMARC_MODE_BIS,
	    0, "relaxed: different top-level domains" },
	{ "mail.agency.gov", "other.gov", DMARC_ALIGN_RELAXED,
	    DMARC_MODE_BIS, 0, "relaxed: two organizations under a PSD" },
	{ "x.agency.gov", "y.agency.gov", DMARC_ALIGN_RELAXED,
	    DMARC_MODE_BIS, 1, "relaxed: one organization under a PSD" },
	{ "evilexample.com", "example.com", DMARC_ALIGN_RELAXED,
	    DMARC_MODE_BIS, 0, "relaxed: a suffix that is not a label "
	    "boundary" },
	{ "www.example.co.uk", "example.co.uk", DMARC_ALIGN_RELAXED,
	    DMARC_MODE_7489, 1, "RFC 7489 relaxed: the public suffix list" },
	{ "example.co.uk", "other.co.uk", DMARC_ALIGN_RELAXED,
	    DMARC_MODE_7489, 0, "RFC 7489 relaxed: siblings under a public "
	    "suffix" },
	{ "example.com", "", DMARC_ALIGN_RELAXED, DMARC_MODE_BIS, 0,
	    "an empty identifier is never aligned" },
	{ "x.fail.example.net", "fail.example.net", DMARC_ALIGN_RELAXED,
	    DMARC_MODE_BIS, -1, "relaxed: a DNS error leaves it undecided" },
};

static void
test_aligns(struct dns_resolver *r)
{
	size_t i;

	for (i = 0; i < sizeof(aligns) / sizeof(aligns[0]); i++) {
		struct dmarc_opts o = { aligns[i].dmode, NULL, NULL, NULL };

		is_int(dmarc_aligned(r, &o, aligns[i].from, aligns[i].other,
		    aligns[i].mode), aligns[i].want, aligns[i].why);
	}
}

static void
test_walk_names(void)
{
	const char *names[DMARC_MAX_QUERIES];

	is_int((long)dmarc_walk_names("com", names), 1, "one label: one name");
	is_int((long)dmarc_walk_names("a.b.c.d.e.f.g.h", names), 8,
	    "eight labels: eight names");
	is_str(names[1], "b.c.d.e.f.g.h", "  ... the second has seven");
	is_int((long)dmarc_walk_names("a.b.c.d.e.f.g", names), 7,
	    "seven labels: seven names");
	is_int((long)dmarc_walk_names("1.2.3.4.5.6.7.8.9.10.11.12.13.14.15."
	    "16.17.18.19.20", names), 8, "twenty labels: eight names");
	is_str(names[7], "20", "  ... the last is the top-level domain");
}

/* RFC 9990 3.3: reports to another organization need its consent */
static void
test_report_allowed(struct dns_resolver *r)
{
	ok(dmarc_report_allowed(r, NULL, "example.com", "example.com"),
	    "reports for a domain may go to an address at the same domain");
	ok(dmarc_report_allowed(r, NULL, "www.example.com", "example.com"),
	    "  ... or in the same organization");
	ok(dmarc_report_allowed(r, NULL, "example.com", "reports.example"),
	    "  ... or outside it, when it publishes _report._dmarc");
	ok(!dmarc_report_allowed(r, NULL, "example.com", "elsewhere.example"),
	    "not to an outside domain without that record");
	ok(!dmarc_report_allowed(r, NULL, "example.com", "spf.example"),
	    "not when the record there is not v=DMARC1");
}

int
main(void)
{
	struct buf err = BUF_INIT;
	struct dns_resolver *r;
	size_t i;

	if ((r = dns_new_zone(NULL, &err)) == NULL) {
		printf("Bail out! %s\n", buf_str(&err));
		return 1;
	}
	for (i = 0; i < sizeof(zone) / sizeof(zone[0]); i++)
		if (dns_zone_add(r, zone[i].name, zone[i].type, zone[i].rdata,
		    &err) < 0) {
			printf("Bail out! %s: %s\n", zone[i].name,
			    buf_str(&err));
			return 1;
		}
	test_walk_names();
	test_walks(r);
	test_np(r);
	test_orgs(r);
	test_aligns(r);
	test_report_allowed(r);
	dns_free(r);
	buf_free(&err);
	return done_testing();
}
