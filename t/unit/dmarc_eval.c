/*
 * dmarc_eval - From domains (one address, several, groups, comments,
 * quoted-pairs, IDNs, the display-name bypass) and the evaluation:
 * results, the policy that applies, dispositions with t= and pct=, and
 * the bypasses known from OpenDMARC's history
 */
#include <stdio.h>
#include <string.h>

#include "dmarc.h"
#include "dns_zone.h"
#include "tap.h"

static const struct {
	const char		*fields[3];
	enum dmarc_from_status	 want;
	const char		*domain;	/* domain[0] */
	size_t			 ndomains;
	const char		*why;
} froms[] = {
	{ { "user@example.com" }, DMARC_FROM_OK, "example.com", 1,
	    "a bare address" },
	{ { "\"Some One\" <user@Example.COM>" }, DMARC_FROM_OK, "example.com",
	    1, "a display name; the domain lowercased" },
	{ { "\"a\\\" <x@victim.example>\" <y@attacker.example>" },
	    DMARC_FROM_OK, "attacker.example", 1, "a quoted-pair in the "
	    "display name does not end it: the address is the real one" },
	{ { "\"x@victim.example\" <y@attacker.example>" }, DMARC_FROM_OK,
	    "attacker.example", 1, "an address inside a display name is "
	    "not the address" },
	{ { "(x@victim.example) y@attacker.example (comment)" },
	    DMARC_FROM_OK, "attacker.example", 1, "comments are not "
	    "addresses" },
	{ { "y@attacker.example (\"x@victim.example\")" }, DMARC_FROM_OK,
	    "attacker.example", 1, "a quoted string inside a comment" },
	{ { "Friends: a@one.example, b@one.example;" }, DMARC_FROM_OK,
	    "one.example", 1, "a group of one domain" },
	{ { "a@one.example, b@two.example" }, DMARC_FROM_DOMAINS,
	    "one.example", 2, "two addresses, two domains: both kept" },
	{ { "a@one.example, b@ONE.example" }, DMARC_FROM_OK, "one.example",
	    1, "two addresses, one domain" },
	{ { "user@example.com", "other@example.net" }, DMARC_FROM_FIELDS,
	    "example.com", 2, "two From fields: both domains kept" },
	{ { "" }, DMARC_FROM_SYNTAX, "", 0, "an empty From" },
	{ { "Undisclosed:;" }, DMARC_FROM_SYNTAX, "", 0, "an empty group" },
	{ { "user" }, DMARC_FROM_SYNTAX, "", 0, "no domain" },
	{ { "<user@example.com" }, DMARC_FROM_SYNTAX, "", 0,
	    "an unclosed angle bracket" },
	{ { "user@b\xc3\xbc" "cher.example" }, DMARC_FROM_OK,
	    "xn--bcher-kva.example", 1, "a U-label becomes an A-label" },
	{ { "user@xn--bcher-kva.example" }, DMARC_FROM_OK,
	    "xn--bcher-kva.example", 1, "an A-label stays" },
	{ { "user@[192.0.2.1]" }, DMARC_FROM_BADDOMAIN, "", 0,
	    "an address literal is not a domain" },
	{ { NULL }, DMARC_FROM_NONE, "", 0, "no From field" },
};

static void
test_froms(void)
{
	size_t i, j;

	for (i = 0; i < sizeof(froms) / sizeof(froms[0]); i++) {
		struct dmarc_from f;
		enum dmarc_from_status st;

		dmarc_from_init(&f);
		for (j = 0; j < 3 && froms[i].fields[j] != NULL; j++)
			dmarc_from_field(&f, froms[i].fields[j],
			    strlen(froms[i].fields[j]));
		st = dmarc_from_result(&f);
		if (!is_int(st, froms[i].want, froms[i].why))
			diag("%s", dmarc_from_strerror(st));
		if (froms[i].ndomains > 0) {
			is_str(f.domain[0], froms[i].domain, "  ... domain");
			is_int((long)f.ndomains, (long)froms[i].ndomains,
			    "  ... distinct domains");
		}
	}
}

static const struct {
	const char	*name, *rdata;
} zone[] = {
	{ "_dmarc.reject.example", "\"v=DMARC1; p=reject\"" },
	{ "_dmarc.quar.example", "\"v=DMARC1; p=quarantine; sp=reject\"" },
	{ "_dmarc.none.example", "\"v=DMARC1; p=none\"" },
	{ "_dmarc.strict.example", "\"v=DMARC1; p=reject; adkim=s; aspf=s\"" },
	{ "_dmarc.testing.example", "\"v=DMARC1; p=reject; t=y\"" },
	{ "_dmarc.pct.example", "\"v=DMARC1; p=reject; pct=50\"" },
	{ "_dmarc.tfail.example", "SERVFAIL" },
};

#define BIS	DMARC_MODE_BIS
#define R7489	DMARC_MODE_7489
#define P	DMARC_AUTH_PASS
#define F	DMARC_AUTH_FAIL

static const struct {
	const char	*from;
	enum dmarc_mode	 mode;
	const char	*dkim_d;
	enum dmarc_auth	 dkim;
	const char	*spf_d;
	enum dmarc_auth	 spf;
	unsigned	 sample;
	enum dmarc_result want;
	enum dmarc_dis	 dis;
	const char	*why;
} evals[] = {
	{ "reject.example", BIS, "reject.example", P, NULL, 0, 0,
	    DMARC_RES_PASS, DMARC_DIS_PASS, "aligned DKIM pass" },
	{ "reject.example", BIS, NULL, 0, "reject.example", P, 0,
	    DMARC_RES_PASS, DMARC_DIS_PASS, "aligned SPF pass" },
	{ "reject.example", BIS, "mail.reject.example", P, NULL, 0, 0,
	    DMARC_RES_PASS, DMARC_DIS_PASS, "relaxed: a subdomain's "
	    "signature aligns" },
	{ "reject.example", BIS, "reject.example", F, "reject.example", F, 0,
	    DMARC_RES_FAIL, DMARC_DIS_REJECT, "both fail: p=reject" },
	{ "reject.example", BIS, "attacker.example", P, "attacker.example",
	    P, 0, DMARC_RES_FAIL, DMARC_DIS_REJECT, "passing but unaligned "
	    "identifiers do not count" },
	{ "sub.quar.example", BIS, NULL, 0, NULL, 0, 0, DMARC_RES_FAIL,
	    DMARC_DIS_REJECT, "a subdomain without its own record gets its "
	    "organization's sp=" },
	{ "quar.example", BIS, NULL, 0, NULL, 0, 0, DMARC_RES_FAIL,
	    DMARC_DIS_QUARANTINE, "p=quarantine" },
	{ "none.example", BIS, NULL, 0, NULL, 0, 0, DMARC_RES_FAIL,
	    DMARC_DIS_NONE, "p=none: fail, delivered" },
	{ "strict.example", BIS, "mail.strict.example", P,
	    "mail.strict.example", P, 0, DMARC_RES_FAIL, DMARC_DIS_REJECT,
	    "adkim=s and aspf=s: a subdomain does not align" },
	{ "testing.example", BIS, NULL, 0, NULL, 0, 0, DMARC_RES_FAIL,
	    DMARC_DIS_QUARANTINE, "t=y: reject becomes quarantine" },
	{ "testing.example", R7489, NULL, 0, NULL, 0, 0, DMARC_RES_FAIL,
	    DMARC_DIS_REJECT, "RFC 7489 has no t=" },
	{ "pct.example", R7489, NULL, 0, NULL, 0, 10, DMARC_RES_FAIL,
	    DMARC_DIS_REJECT, "RFC 7489 pct=50, sampled in: reject" },
	{ "pct.example", R7489, NULL, 0, NULL, 0, 70, DMARC_RES_FAIL,
	    DMARC_DIS_QUARANTINE, "RFC 7489 pct=50, sampled out: quarantine" },
	{ "pct.example", BIS, NULL, 0, NULL, 0, 70, DMARC_RES_FAIL,
	    DMARC_DIS_REJECT, "DMARCbis ignores pct" },
	{ "norecord.example", BIS, NULL, 0, NULL, 0, 0, DMARC_RES_NONE,
	    DMARC_DIS_NONE, "no record: none" },
	{ "tfail.example", BIS, "tfail.example", P, NULL, 0, 0,
	    DMARC_RES_TEMPERROR, DMARC_DIS_NONE, "a DNS error: temperror" },
	{ "bad..example", BIS, NULL, 0, NULL, 0, 0, DMARC_RES_PERMERROR,
	    DMARC_DIS_NONE, "an invalid From domain: permerror" },
};

static void
test_evals(struct dns_resolver *r)
{
	size_t i;

	for (i = 0; i < sizeof(evals) / sizeof(evals[0]); i++) {
		struct dmarc_opts o = { evals[i].mode, NULL, NULL, NULL };
		struct dmarc_dkim_in dk = { evals[i].dkim_d, "s", evals[i].dkim };
		struct dmarc_input in = { 0 };
		struct dmarc_eval e;

		in.from = evals[i].from;
		in.dkim = &dk;
		in.ndkim = evals[i].dkim_d != NULL;
		in.spf_domain = evals[i].spf_d;
		in.spf = evals[i].spf;
		in.sample = evals[i].sample;
		dmarc_evaluate(r, &o, &in, &e);
		if (!ok(e.result == evals[i].want && e.dis == evals[i].dis,
		    "%s", evals[i].why))
			diag("got %s dis=%s (%s)", dmarc_result_name(e.result),
			    dmarc_dis_name(e.dis), e.reason);
		dmarc_eval_clear(&e);
	}
}

/* The second DKIM signature may be the aligned one. */
static void
test_many_sigs(struct dns_resolver *r)
{
	struct dmarc_dkim_in dk[3] = {
		{ "attacker.example", "a", DMARC_AUTH_PASS },
		{ "reject.example", "b", DMARC_AUTH_FAIL },
		{ "reject.example", "c", DMARC_AUTH_PASS },
	};
	struct dmarc_input in = { 0 };
	struct dmarc_eval e;

	in.from = "reject.example";
	in.dkim = dk;
	in.ndkim = 3;
	dmarc_evaluate(r, NULL, &in, &e);
	ok(e.result == DMARC_RES_PASS && e.dkim_aligned == 3,
	    "the third signature is the aligned pass (%d)", e.dkim_aligned);
	dmarc_eval_clear(&e);
}

int
main(void)
{
	struct buf err = BUF_INIT;
	struct dns_resolver *r;
	size_t i;

	test_froms();
	if ((r = dns_new_zone(NULL, &err)) == NULL) {
		printf("Bail out! %s\n", buf_str(&err));
		return 1;
	}
	for (i = 0; i < sizeof(zone) / sizeof(zone[0]); i++)
		if (dns_zone_add(r, zone[i].name, DNS_T_TXT, zone[i].rdata,
		    &err) < 0) {
			printf("Bail out! %s\n", buf_str(&err));
			return 1;
		}
	test_evals(r);
	test_many_sigs(r);
	dns_free(r);
	buf_free(&err);
	return done_testing();
}
