/*
 * spf_record - SPF record parsing and macro expansion without DNS, then
 * check_host() on zone data: results, response fields, the limits of
 * RFC 7208 4.6.4, DNS failures, and concurrent checks on one resolver
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dns_zone.h"
#include "spf.h"
#include "tap.h"

static const struct {
	const char	*text;
	enum spf_parse	 want;
	const char	*why;
} records[] = {
	{ "v=spf1", SPF_PARSE_OK, "a bare version is a record" },
	{ "V=SPF1 -ALL", SPF_PARSE_OK, "the version is case-insensitive" },
	{ "v=spf10 -all", SPF_PARSE_NOTSPF, "v=spf10 is not a record" },
	{ "v=spf1-all", SPF_PARSE_NOTSPF, "the version needs a space after" },
	{ "spf1 -all", SPF_PARSE_NOTSPF, "text without the version" },
	{ "v=spf1  a   mx  -all  ", SPF_PARSE_OK, "runs of spaces separate" },
	{ "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all", SPF_PARSE_OK,
	    "ip4 and ip6 networks" },
	{ "v=spf1 ip4:192.0.2.1/0 ip6:::/0", SPF_PARSE_OK,
	    "prefix length /0 is allowed" },
	{ "v=spf1 ip4:1.2.3", SPF_PARSE_SYNTAX, "short IPv4 address" },
	{ "v=spf1 ip4:1.2.3.4/33", SPF_PARSE_SYNTAX, "IPv4 prefix over 32" },
	{ "v=spf1 ip4:1.2.3.4/032", SPF_PARSE_SYNTAX, "leading zero in prefix" },
	{ "v=spf1 ip6:::1/129", SPF_PARSE_SYNTAX, "IPv6 prefix over 128" },
	{ "v=spf1 ip6::CAFE::BABE", SPF_PARSE_SYNTAX, "bad IPv6 address" },
	{ "v=spf1 ip4:", SPF_PARSE_SYNTAX, "ip4 without a network" },
	{ "v=spf1 a/24//64 mx//0 a:x.example/0", SPF_PARSE_OK,
	    "dual CIDR lengths on a and mx" },
	{ "v=spf1 a/24/64", SPF_PARSE_SYNTAX, "a single slash before ip6" },
	{ "v=spf1 a//129", SPF_PARSE_SYNTAX, "a with an IPv6 prefix over 128" },
	{ "v=spf1 a:foo:bar/baz.example.com", SPF_PARSE_OK,
	    "colon and slash inside a domain" },
	{ "v=spf1 a:example.com:8080", SPF_PARSE_SYNTAX,
	    "a port is not a top label" },
	{ "v=spf1 a:111.222.33.44", SPF_PARSE_SYNTAX, "numeric top label" },
	{ "v=spf1 a:museum", SPF_PARSE_SYNTAX, "single-label domain" },
	{ "v=spf1 a:museum.", SPF_PARSE_SYNTAX, "single label with a dot" },
	{ "v=spf1 a:foo.example.xn--zckzah", SPF_PARSE_OK,
	    "a dash in the top label" },
	{ "v=spf1 a:example.-com", SPF_PARSE_SYNTAX, "top label starts with -" },
	{ "v=spf1 a:", SPF_PARSE_SYNTAX, "empty domain-spec" },
	{ "v=spf1 exists:%{i}.%{d}", SPF_PARSE_OK, "a domain-spec ending in "
	    "a macro needs no top label" },
	{ "v=spf1 exists:%{c}.example.com", SPF_PARSE_SYNTAX,
	    "%{c} is only for explanations" },
	{ "v=spf1 exists:%{x}.example.com", SPF_PARSE_SYNTAX,
	    "unknown macro letter" },
	{ "v=spf1 exists:%{d0}.example.com", SPF_PARSE_SYNTAX,
	    "zero digits transformer" },
	{ "v=spf1 exists:%{d", SPF_PARSE_SYNTAX, "unterminated macro" },
	{ "v=spf1 exists:foo%.example.com", SPF_PARSE_SYNTAX, "lone percent" },
	{ "v=spf1 include", SPF_PARSE_SYNTAX, "include needs a domain" },
	{ "v=spf1 exists", SPF_PARSE_SYNTAX, "exists needs a domain" },
	{ "v=spf1 ptr ptr:example.com", SPF_PARSE_OK, "ptr with and without" },
	{ "v=spf1 ptr/24", SPF_PARSE_SYNTAX, "ptr takes no CIDR" },
	{ "v=spf1 all.", SPF_PARSE_SYNTAX, "all takes no argument" },
	{ "v=spf1 all/8", SPF_PARSE_SYNTAX, "all takes no CIDR" },
	{ "v=spf1 ip4:1.2.3.4 -all moo", SPF_PARSE_SYNTAX,
	    "an error after all is still an error" },
	{ "v=spf1 moo.cow-far_out=man:dog/cat -all", SPF_PARSE_OK,
	    "unknown modifier with a valid name" },
	{ "v=spf1 moo.cow/far_out=man:dog/cat", SPF_PARSE_SYNTAX,
	    "slash before = is not a modifier name" },
	{ "v=spf1 foo=%{q}", SPF_PARSE_SYNTAX, "unknown modifier, bad macro" },
	{ "v=spf1 redirect=a.example redirect=b.example", SPF_PARSE_SYNTAX,
	    "two redirect=" },
	{ "v=spf1 exp=a.example EXP=b.example", SPF_PARSE_SYNTAX, "two exp=" },
	{ "v=spf1 redirect=", SPF_PARSE_SYNTAX, "redirect= without domain" },
	{ "v=spf1 redirect:a.example", SPF_PARSE_SYNTAX, "redirect: is no "
	    "mechanism" },
	{ "v=spf1 -redirect=a.example", SPF_PARSE_SYNTAX,
	    "a modifier takes no qualifier" },
	{ "v=spf1 a:ctrl.example.com\rptr -all", SPF_PARSE_SYNTAX,
	    "CR is no separator" },
	{ "v=spf1 a:foo.example.com\tmx", SPF_PARSE_SYNTAX,
	    "TAB is no separator" },
	{ "v=spf1 \x80" "a:example.net -all", SPF_PARSE_SYNTAX,
	    "non-ASCII byte" },
	{ "v=spf1 +a -mx ~ptr ?all", SPF_PARSE_OK, "all four qualifiers" },
	{ "v=spf1 *all", SPF_PARSE_SYNTAX, "unknown qualifier" },
};

/* env_rfc - the RFC 7208 7.4 example environment */
static void
env_rfc(struct spf_macro_env *e, int six)
{
	memset(e, 0, sizeof(*e));
	e->local = "strong-bad";
	e->sender_domain = "email.example.com";
	e->domain = "email.example.com";
	e->helo = "mx.example.org";
	e->receiver = "mx.example.net";
	e->now = 1234567890;
	e->family = six ? AF_INET6 : AF_INET;
	inet_pton(e->family, six ? "2001:db8::cb01" : "192.0.2.3", e->addr);
}

static const struct {
	int		 six, kind;
	const char	*in, *want;	/* want NULL: an error */
} macros[] = {
	{ 0, 0, "%{s}", "strong-bad@email.example.com" },
	{ 0, 0, "%{o}", "email.example.com" },
	{ 0, 0, "%{d}", "email.example.com" },
	{ 0, 0, "%{d4}", "email.example.com" },
	{ 0, 0, "%{d3}", "email.example.com" },
	{ 0, 0, "%{d2}", "example.com" },
	{ 0, 0, "%{d1}", "com" },
	{ 0, 0, "%{dr}", "com.example.email" },
	{ 0, 0, "%{d2r}", "example.email" },
	{ 0, 0, "%{l}", "strong-bad" },
	{ 0, 0, "%{l-}", "strong.bad" },
	{ 0, 0, "%{lr}", "strong-bad" },
	{ 0, 0, "%{lr-}", "bad.strong" },
	{ 0, 0, "%{l1r-}", "strong" },
	{ 0, 0, "%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com" },
	{ 0, 0, "%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com" },
	{ 0, 0, "%{lr-}.lp.%{ir}.%{v}._spf.%{d2}",
	    "bad.strong.lp.3.2.0.192.in-addr._spf.example.com" },
	{ 0, 0, "%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}",
	    "3.2.0.192.in-addr.strong.lp._spf.example.com" },
	{ 0, 0, "%{d2}.trusted-domains.example.net",
	    "example.com.trusted-domains.example.net" },
	{ 1, 0, "%{ir}.%{v}._spf.%{d2}", "1.0.B.C.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
	    "0.0.0.0.0.0.8.B.D.0.1.0.0.2.ip6._spf.example.com" },
	{ 0, 0, "%{d999}", "email.example.com" },
	{ 0, 0, "%{h}.%{p}", "mx.example.org.unknown" },
	{ 0, 0, "%%%_%-", "% %20" },
	{ 0, 0, "%{S}", "strong-bad%40email.example.com" },
	{ 0, 0, "%{l+-}", "strong.bad" },
	{ 0, 1, "%{c} %{r} %{t}", "192.0.2.3 mx.example.net 1234567890" },
	{ 1, 1, "from %{c}", "from 2001:db8::cb01" },
	{ 0, 0, "%{c}", NULL },
	{ 0, 0, "%{r}", NULL },
	{ 0, 0, "%{t}", NULL },
	{ 0, 0, "a b", NULL },
	{ 0, 0, "%{d0}", NULL },
	{ 0, 0, "%{d2r.x}", NULL },
	{ 0, 0, "%", NULL },
	{ 0, 0, "%{", NULL },
	{ 0, 1, "caf\xc3\xa9", NULL },
};

/* validated_stub - a %{p} callback that knows one name */
static int
validated_stub(void *arg, const char *domain, struct buf *out)
{
	(void)domain;
	buf_puts(out, arg);
	return 0;
}

/* Zone data for the check_host() tests */
static const char *zone[][3] = {
	{ "fail.example", "TXT", "\"v=spf1 -all\"" },
	{ "exp.example", "TXT", "\"v=spf1 ip4:10.0.0.0/8 -all exp=why.exp.example\"" },
	{ "why.exp.example", "TXT", "\"%{l} at %{c} refused by \" \"%{d}\"" },
	{ "badexp.example", "TXT", "\"v=spf1 -all exp=nowhere.example\"" },
	{ "helo.example", "TXT", "\"v=spf1 a -all\"" },
	{ "helo.example", "A", "192.0.2.1" },
	{ "ip4.example", "TXT", "\"v=spf1 ip4:192.0.2.0/24 -all\"" },
	{ "redir.example", "TXT", "\"v=spf1 redirect=fail.example ip4:192.0.2.1\"" },
	{ "redir2.example", "TXT", "\"v=spf1 redirect=ip4.example\"" },
	{ "incnone.example", "TXT", "\"v=spf1 include:nothing.example -all\"" },
	{ "inctemp.example", "TXT", "\"v=spf1 include:slow.example -all\"" },
	{ "slow.example", "TXT", "TIMEOUT" },
	{ "servfail.example", "TXT", "SERVFAIL" },
	{ "atemp.example", "TXT", "\"v=spf1 a:slow.example -all\"" },
	{ "slow.example", "A", "TIMEOUT" },
	{ "two.example", "TXT", "\"v=spf1 -all\"" },
	{ "two.example", "TXT", "\"v=spf1 +all\"" },
	{ "ten.example", "TXT", "\"v=spf10 +all\"" },
	{ "void2.example", "TXT", "\"v=spf1 a:v1.example a:v2.example -all\"" },
	{ "void3.example", "TXT",
	    "\"v=spf1 a:v1.example a:v2.example a:v3.example -all\"" },
	{ "mx10.example", "TXT", "\"v=spf1 mx -all\"" },
	{ "mx11.example", "TXT", "\"v=spf1 mx -all\"" },
	{ "h.example", "A", "198.51.100.1" },
	{ "h.example", "AAAA", "2001:db8::99" },
	{ "lim10.example", "TXT", "\"v=spf1 a:h.example a:h.example "
	    "a:h.example a:h.example a:h.example include:lim5.example "
	    "a:h.example a:h.example a:h.example -all\"" },
	{ "lim5.example", "TXT", "\"v=spf1 a:h.example ?all\"" },
	{ "lim11.example", "TXT", "\"v=spf1 a:h.example a:h.example "
	    "a:h.example a:h.example a:h.example include:lim6.example "
	    "a:h.example a:h.example a:h.example -all\"" },
	{ "lim6.example", "TXT", "\"v=spf1 a:h.example a:h.example ?all\"" },
	{ "ptr.example", "TXT", "\"v=spf1 ptr -all\"" },
	{ "v6.example", "TXT", "\"v=spf1 a//64 -all\"" },
	{ "v6.example", "AAAA", "2001:db8::1" },
};

/* A check_host() case: want result and the deciding term */
static const struct {
	const char	*ip, *sender, *helo;
	enum spf_result	 want;
	const char	*mechanism, *why;
} checks[] = {
	{ "192.0.2.1", "a@fail.example", "h", SPF_FAIL, "-all",
	    "-all fails" },
	{ "192.0.2.1", "a@ip4.example", "h", SPF_PASS, "ip4:192.0.2.0/24",
	    "ip4 network matches" },
	{ "::ffff:192.0.2.9", "a@ip4.example", "h", SPF_PASS,
	    "ip4:192.0.2.0/24", "an IPv4-mapped client is IPv4" },
	{ "2001:db8::1", "a@ip4.example", "h", SPF_FAIL, "-all",
	    "ip4 never matches an IPv6 client" },
	{ "2001:db8::ff", "a@v6.example", "h", SPF_PASS, "a//64",
	    "a//64 matches the IPv6 network" },
	{ "192.0.2.1", "", "helo.example", SPF_PASS, "a",
	    "the null sender checks postmaster@helo" },
	{ "192.0.2.1", "a@redir.example", "h", SPF_PASS, "ip4:192.0.2.1",
	    "redirect= only when no mechanism matched" },
	{ "192.0.2.1", "a@redir2.example", "h", SPF_PASS, "ip4:192.0.2.0/24",
	    "the redirect target decides" },
	{ "192.0.2.1", "a@incnone.example", "h", SPF_PERMERROR, NULL,
	    "include: of a domain without record is permerror" },
	{ "192.0.2.1", "a@inctemp.example", "h", SPF_TEMPERROR, NULL,
	    "include: passes a temperror up" },
	{ "192.0.2.1", "a@slow.example", "h", SPF_TEMPERROR, NULL,
	    "a TXT timeout is temperror" },
	{ "192.0.2.1", "a@servfail.example", "h", SPF_TEMPERROR, NULL,
	    "SERVFAIL is temperror" },
	{ "192.0.2.1", "a@atemp.example", "h", SPF_TEMPERROR, NULL,
	    "a timeout in a: is temperror" },
	{ "192.0.2.1", "a@two.example", "h", SPF_PERMERROR, NULL,
	    "two SPF records are permerror" },
	{ "192.0.2.1", "a@ten.example", "h", SPF_NONE, NULL,
	    "v=spf10 is no record" },
	{ "192.0.2.1", "a@nothing.example", "h", SPF_NONE, NULL,
	    "no record is none" },
	{ "192.0.2.1", "a@bad..example", "h", SPF_NONE, NULL,
	    "an empty label is none" },
	{ "192.0.2.1", "a@void2.example", "h", SPF_FAIL, "-all",
	    "two void lookups are allowed" },
	{ "192.0.2.1", "a@void3.example", "h", SPF_PERMERROR, NULL,
	    "a third void lookup is permerror" },
	{ "192.0.2.1", "a@mx10.example", "h", SPF_FAIL, "-all",
	    "ten MX names are allowed" },
	{ "192.0.2.1", "a@mx11.example", "h", SPF_PERMERROR, NULL,
	    "eleven MX names are permerror" },
	{ "192.0.2.1", "a@lim10.example", "h", SPF_FAIL, "-all",
	    "ten DNS mechanisms across include: are allowed" },
	{ "192.0.2.1", "a@lim11.example", "h", SPF_PERMERROR, NULL,
	    "an eleventh DNS mechanism is permerror" },
	{ "192.0.2.1", "a@ptr.example", "h", SPF_FAIL, "-all",
	    "only the first ten PTR names are checked" },
	{ "192.0.2.2", "a@ptr.example", "h", SPF_PASS, "ptr",
	    "a validated PTR name in the domain matches" },
	{ "999.1.1.1", "a@ip4.example", "h", SPF_PERMERROR, NULL,
	    "a bad client address is permerror" },
};

/* load_zone - the zone backend with the records above */
static struct dns_resolver *
load_zone(void)
{
	struct dns_resolver *dns;
	struct buf err = BUF_INIT, name = BUF_INIT;
	size_t i;
	int bad = 0;

	if ((dns = dns_new_zone(NULL, &err)) == NULL)
		return NULL;
	for (i = 0; i < sizeof(zone) / sizeof(zone[0]); i++)
		bad |= dns_zone_add(dns, zone[i][0], strcmp(zone[i][1], "A") ==
		    0 ? DNS_T_A : strcmp(zone[i][1], "AAAA") == 0 ? DNS_T_AAAA :
		    DNS_T_TXT, zone[i][2], &err);
	for (i = 0; i < 11; i++) {
		buf_reset(&name);
		buf_printf(&name, "%zu mx%zu.example.", i, i);
		if (i < 10)
			bad |= dns_zone_add(dns, "mx10.example", DNS_T_MX,
			    name.s, &err);
		bad |= dns_zone_add(dns, "mx11.example", DNS_T_MX, name.s,
		    &err);
		/* 12 PTR names for 192.0.2.1; only the 11th is validated */
		buf_reset(&name);
		buf_printf(&name, "h%zu.ptr.example.", i);
		bad |= dns_zone_add(dns, "1.2.0.192.in-addr.arpa", DNS_T_PTR,
		    name.s, &err);
		bad |= dns_zone_add(dns, name.s, DNS_T_A, i == 10 ?
		    "192.0.2.1" : "192.0.2.200", &err);
	}
	bad |= dns_zone_add(dns, "1.2.0.192.in-addr.arpa", DNS_T_PTR,
	    "h11.ptr.example.", &err);
	bad |= dns_zone_add(dns, "2.2.0.192.in-addr.arpa", DNS_T_PTR,
	    "other.example.", &err);
	bad |= dns_zone_add(dns, "2.2.0.192.in-addr.arpa", DNS_T_PTR,
	    "mail.ptr.example.", &err);
	bad |= dns_zone_add(dns, "mail.ptr.example", DNS_T_A, "192.0.2.2",
	    &err);
	if (bad)
		diag("zone: %s", buf_str(&err));
	buf_free(&err);
	buf_free(&name);
	return dns;
}

/* test_checks - every case of the table */
static void
test_checks(struct dns_resolver *dns)
{
	struct spf_request req;
	struct spf_response res;
	size_t i;

	for (i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		memset(&req, 0, sizeof(req));
		req.ip = checks[i].ip;
		req.sender = checks[i].sender;
		req.helo = checks[i].helo;
		spf_check_host(dns, &req, &res);
		ok(res.result == checks[i].want && (checks[i].mechanism ==
		    NULL || (res.mechanism != NULL && strcmp(res.mechanism,
		    checks[i].mechanism) == 0)), "%s", checks[i].why);
		if (res.result != checks[i].want)
			diag("got %s (%s), want %s", spf_result_str(res.result),
			    res.reason ? res.reason : "",
			    spf_result_str(checks[i].want));
		ok(res.reason != NULL && res.reason[0] != '\0',
		    "%s: a reason is given", checks[i].why);
		spf_response_free(&res);
	}
}

/* test_response - the fields of a response */
static void
test_response(struct dns_resolver *dns)
{
	struct spf_request req;
	struct spf_response res;

	memset(&req, 0, sizeof(req));
	req.ip = "192.0.2.1";
	req.sender = "joe@fail.example";
	req.helo = "helo.example";
	spf_check_host(dns, &req, &res);
	is_str(res.explanation, "192.0.2.1 is not one of fail.example's "
	    "designated mail servers.", "fail without exp= explains by default");
	ok(res.explanation_default == 1, "the default is flagged");
	is_str(res.identity, "joe@fail.example", "identity is the sender");
	is_str(res.domain, "fail.example", "domain is the sender's");
	spf_response_free(&res);

	req.sender = "joe@exp.example";
	spf_check_host(dns, &req, &res);
	is_str(res.explanation, "joe at 192.0.2.1 refused by exp.example",
	    "exp= text is expanded with %{c}");
	ok(res.explanation_default == 0, "exp= text is not the default");
	spf_response_free(&res);

	req.sender = "joe@badexp.example";
	spf_check_host(dns, &req, &res);
	ok(res.result == SPF_FAIL && res.explanation_default == 1,
	    "exp= without a TXT record falls back to the default");
	spf_response_free(&res);

	req.sender = "joe@ip4.example";
	spf_check_host(dns, &req, &res);
	ok(res.result == SPF_PASS && res.explanation == NULL,
	    "pass has no explanation");
	spf_response_free(&res);

	req.sender = "joe@fail.example";
	spf_check_helo(dns, &req, &res);
	ok(res.result == SPF_PASS && res.identity != NULL &&
	    strcmp(res.identity, "postmaster@helo.example") == 0,
	    "spf_check_helo checks postmaster@helo");
	spf_response_free(&res);

	ok(strcmp(spf_result_str(SPF_SOFTFAIL), "softfail") == 0 &&
	    strcmp(spf_result_str(SPF_TEMPERROR), "temperror") == 0,
	    "result names as in Received-SPF");
}

#define THREADS	4
#define ROUNDS	100

/* worker - repeat the checks; counts the disagreements */
static void *
worker(void *arg)
{
	struct dns_resolver *dns = arg;
	struct spf_request req;
	struct spf_response res;
	size_t i, n, bad = 0;

	for (n = 0; n < ROUNDS; n++) {
		i = n % (sizeof(checks) / sizeof(checks[0]));
		memset(&req, 0, sizeof(req));
		req.ip = checks[i].ip;
		req.sender = checks[i].sender;
		req.helo = checks[i].helo;
		if (spf_check_host(dns, &req, &res) != checks[i].want)
			bad++;
		spf_response_free(&res);
	}
	return (void *)bad;
}

/* test_threads - concurrent checks on one resolver agree */
static void
test_threads(struct dns_resolver *dns)
{
	pthread_t t[THREADS];
	void *bad;
	size_t total = 0;
	int i, started = 0;

	for (i = 0; i < THREADS; i++)
		if (pthread_create(&t[i], NULL, worker, dns) == 0)
			started++;
	for (i = 0; i < started; i++) {
		pthread_join(t[i], &bad);
		total += (size_t)bad;
	}
	ok(started == THREADS && total == 0, "%d threads, %d checks each, "
	    "all as expected", THREADS, ROUNDS);
}

/* slow_zone - the record: 9 "mx:" of 10 MX names each, every
 * name answering after ms milliseconds */
static struct dns_resolver *
slow_zone(int ms)
{
	struct dns_resolver *dns;
	struct buf err = BUF_INIT, rec = BUF_INIT, n = BUF_INIT, v = BUF_INIT;
	size_t i, j;
	int bad = 0;

	if ((dns = dns_new_zone(NULL, &err)) == NULL)
		return NULL;
	buf_puts(&rec, "\"v=spf1");
	for (i = 0; i < 9; i++) {
		buf_printf(&rec, " mx:m%zu.slow.example", i);
		buf_reset(&n);
		buf_printf(&n, "m%zu.slow.example", i);
		for (j = 0; j < 10; j++) {
			buf_reset(&v);
			buf_printf(&v, "%zu h%zu-%zu.slow.example.", j, i, j);
			bad |= dns_zone_add(dns, n.s, DNS_T_MX, v.s, &err);
		}
	}
	buf_puts(&rec, " -all\"");
	bad |= dns_zone_add(dns, "slow.example", DNS_T_TXT, rec.s, &err);
	buf_reset(&v);
	buf_printf(&v, "DELAY %d", ms);
	bad |= dns_zone_add(dns, "*.slow.example", DNS_T_ANY, v.s, &err);
	bad |= dns_zone_add(dns, "slow.example", DNS_T_ANY, v.s, &err);
	if (bad)
		diag("slow zone: %s", buf_str(&err));
	buf_free(&err);
	buf_free(&rec);
	buf_free(&n);
	buf_free(&v);
	return dns;
}

/* stop_at - a stop condition: the zone has seen that many lookups */
struct stop_at {
	struct dns_resolver *dns;
	unsigned long	 n;
};

static int
stop_at(void *arg)
{
	struct stop_at *s = arg;

	return dns_zone_lookups(s->dns) >= s->n;
}

/* test_limit - a check that would take too long ends with temperror */
static void
test_limit(void)
{
	struct dns_resolver *dns = slow_zone(10);
	struct spf_request req;
	struct spf_response res;
	struct dns_limit l;
	struct stop_at sa;
	unsigned long before;
	int64_t t0;

	if (dns == NULL) {
		ok(0, "slow zone");
		return;
	}
	memset(&req, 0, sizeof(req));
	req.ip = "192.0.2.1";
	req.sender = "a@slow.example";
	req.helo = "h";
	spf_check_host(dns, &req, &res);
	ok(res.result == SPF_FAIL && dns_zone_lookups(dns) == 100,
	    "without a limit: 100 lookups, then -all (%lu)",
	    dns_zone_lookups(dns));
	spf_response_free(&res);

	before = dns_zone_lookups(dns);
	dns_limit_init(&l, 300, NULL, NULL);
	req.limit = &l;
	t0 = dns_now_ms();
	spf_check_host(dns, &req, &res);
	ok(res.result == SPF_TEMPERROR && res.reason != NULL &&
	    strstr(res.reason, "time limit reached") != NULL,
	    "a deadline: temperror, \"time limit reached\" (%s)",
	    res.reason ? res.reason : "");
	ok(dns_now_ms() - t0 < 600 && dns_zone_lookups(dns) - before < 45,
	    "... at the deadline, no later (%lld ms, %lu lookups)",
	    (long long)(dns_now_ms() - t0), dns_zone_lookups(dns) - before);
	spf_response_free(&res);
	before = dns_zone_lookups(dns);
	req.helo = "slow.example";
	spf_check_helo(dns, &req, &res);
	ok(res.result == SPF_TEMPERROR && dns_zone_lookups(dns) == before,
	    "the limit is shared: a second identity after it sends nothing");
	spf_response_free(&res);

	sa.dns = dns;
	sa.n = dns_zone_lookups(dns) + 3;
	dns_limit_init(&l, 0, stop_at, &sa);
	spf_check_host(dns, &req, &res);
	ok(res.result == SPF_TEMPERROR && res.reason != NULL &&
	    strstr(res.reason, "check cancelled") != NULL,
	    "a stop condition: temperror, \"check cancelled\" (%s)",
	    res.reason ? res.reason : "");
	ok(dns_zone_lookups(dns) == sa.n, "... and no lookup after it");
	spf_response_free(&res);
	dns_free(dns);
}

int
main(void)
{
	struct dns_resolver *dns;
	struct spf_record *r;
	struct spf_macro_env env;
	struct buf b = BUF_INIT;
	const char *text;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(records) / sizeof(records[0]); i++) {
		r = NULL;
		buf_reset(&b);
		is_int(spf_record_parse(records[i].text, strlen(records[i].text),
		    &r, &b), records[i].want, records[i].why);
		spf_record_free(r);
	}

	r = NULL;
	text = "v=spf1 ~a:x.example/24//64 ip4:192.0.2.0/24 "
	    "redirect=r.example exp=e.example";
	rc = spf_record_parse(text, strlen(text), &r, NULL);
	ok(rc == SPF_PARSE_OK && r->n == 2, "terms are collected in order");
	if (rc == SPF_PARSE_OK) {
		ok(r->terms[0].qualifier == '~' && r->terms[0].mech ==
		    SPF_M_A && r->terms[0].cidr4 == 24 &&
		    r->terms[0].cidr6 == 64, "qualifier and dual CIDR kept");
		is_str(r->terms[0].domain, "x.example", "domain-spec kept "
		    "without the CIDR");
		ok(r->terms[1].cidr4 == 24 && r->terms[1].cidr6 == -1 &&
		    memcmp(r->terms[1].addr, "\xc0\x00\x02\x00", 4) == 0,
		    "ip4 network and length");
		is_str(r->redirect, "r.example", "redirect= kept");
		is_str(r->exp, "e.example", "exp= kept");
		spf_record_free(r);
	}
	r = NULL;
	rc = spf_record_parse("v=spf1 a:foo.example.com\0", 25, &r, NULL);
	is_int(rc, SPF_PARSE_SYNTAX, "a NUL byte in a record is an error");
	spf_record_free(r);
	r = NULL;
	rc = spf_record_parse("v=spf1 \0all", sizeof("v=spf1 \0all") - 1, &r,
	    NULL);
	is_int(rc, SPF_PARSE_SYNTAX, "a NUL byte is no qualifier: "
	    "\"\\0all\" is an error, not +all");
	spf_record_free(r);
	r = NULL;
	text = "v=spf1 ip4:192.0.2.1\0x -all";
	rc = spf_record_parse(text, 27, &r, NULL);
	is_int(rc, SPF_PARSE_SYNTAX, "a NUL byte does not end an ip4 "
	    "network");
	spf_record_free(r);

	for (i = 0; i < sizeof(macros) / sizeof(macros[0]); i++) {
		env_rfc(&env, macros[i].six);
		buf_reset(&b);
		rc = spf_macro_expand(&env, macros[i].in, strlen(macros[i].in),
		    macros[i].kind, &b);
		if (macros[i].want == NULL) {
			ok(rc == -1 && spf_macro_check(macros[i].in,
			    strlen(macros[i].in), macros[i].kind) == -1,
			    "'%s' is rejected", macros[i].in);
			continue;
		}
		ok(rc == 0 && strcmp(buf_str(&b), macros[i].want) == 0,
		    "'%s' expands to '%s'", macros[i].in, macros[i].want);
		if (rc != 0 || strcmp(buf_str(&b), macros[i].want) != 0)
			diag("got '%s' rc %d", buf_str(&b), rc);
	}
	env_rfc(&env, 0);
	env.validated = validated_stub;
	env.arg = "mx.email.example.com";
	buf_reset(&b);
	spf_macro_expand(&env, "%{p2}", 5, SPF_MACRO_DOMAIN, &b);
	is_str(buf_str(&b), "example.com", "%{p} takes the validated name");
	env.local = "Macro Error";
	buf_reset(&b);
	rc = spf_macro_expand(&env, "%{L}", 4, SPF_MACRO_DOMAIN, &b);
	is_str(buf_str(&b), "Macro%20Error", "upper-case letters URL-escape");
	env_rfc(&env, 0);
	buf_reset(&b);
	rc = spf_macro_expand(&env, "x %{\0} y", 8, SPF_MACRO_EXP, &b);
	ok(rc == -1 && spf_macro_check("x %{\0} y", 8, SPF_MACRO_EXP) == -1,
	    "a NUL byte is no macro letter (exp= text from DNS)");
	buf_free(&b);

	if ((dns = load_zone()) == NULL) {
		ok(0, "zone backend");
		return done_testing();
	}
	test_checks(dns);
	test_response(dns);
	test_threads(dns);
	dns_free(dns);
	test_limit();
	return done_testing();
}
