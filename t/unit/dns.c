/*
 * dns - zone backend (master file and added records), names, cache,
 * concurrent queries, and the system backend's option parsing and timeout
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "dns.h"
#include "dns_zone.h"
#include "tap.h"

#ifndef SRCDIR
#define SRCDIR "."
#endif
#define ZONE	"t/data/dns/example.zone"
#define REVZONE	"t/data/dns/reverse.zone"

/* render - all records of an answer as one line, " | " between them */
static void
render(const struct dns_answer *a, struct buf *b)
{
	char ip[INET6_ADDRSTRLEN];
	const struct dns_rr *rr;
	size_t i, j;

	buf_reset(b);
	buf_puts(b, "");
	for (i = 0; a != NULL && i < a->n; i++) {
		rr = &a->rr[i];
		if (i > 0)
			buf_puts(b, " | ");
		switch (rr->type) {
		case DNS_T_A:
		case DNS_T_AAAA:
			inet_ntop(rr->type == DNS_T_A ? AF_INET : AF_INET6,
			    rr->addr, ip, sizeof(ip));
			buf_puts(b, ip);
			break;
		case DNS_T_MX:
			buf_printf(b, "%u %s", rr->pref, rr->text);
			break;
		default:
			for (j = 0; j < rr->text_len; j++) {
				unsigned char c = (unsigned char)rr->text[j];

				if (c < 0x20 || c > 0x7e)
					buf_printf(b, "\\x%02x", c);
				else
					buf_putc(b, c);
			}
		}
	}
}

static const struct qcase {
	const char	*name;
	enum dns_type	 type;
	enum dns_status	 want;
	const char	*records;
	const char	*what;
} file_cases[] = {
	{ "example.com", DNS_T_A, DNS_OK, "192.0.2.1", "A at the apex" },
	{ "EXAMPLE.Com.", DNS_T_A, DNS_OK, "192.0.2.1",
	  "names are case-insensitive, trailing dot optional" },
	{ "example.com", DNS_T_AAAA, DNS_OK, "2001:db8::1", "AAAA" },
	{ "example.com", DNS_T_MX, DNS_OK,
	  "10 mail.example.com | 20 mail2.example.net",
	  "MX: relative and absolute exchanges, no trailing dot" },
	{ "mail2.example.com", DNS_T_A, DNS_OK, "192.0.2.26",
	  "owner names in the file are case-insensitive" },
	{ "example.com", DNS_T_TXT, DNS_OK, "v=spf1 ip4:192.0.2.0/24 -all",
	  "TXT" },
	{ "multi.example.com", DNS_T_TXT, DNS_OK,
	  "v=spf1 include:_spf.example.net ~all | second record",
	  "TXT strings are concatenated, one answer per record" },
	{ "esc.example.com", DNS_T_TXT, DNS_OK,
	  "a\\x00b\\x0d\\x0ac\"q\"x;y",
	  "TXT master-file escapes give NUL, CR, LF, quotes" },
	{ "spf.example.com", DNS_T_SPF, DNS_OK, "v=spf1 -all", "SPF type 99" },
	{ "alias.example.com", DNS_T_A, DNS_OK, "192.0.2.80",
	  "a chain of two CNAMEs is followed" },
	{ "alias.example.com", DNS_T_CNAME, DNS_OK, "www.example.com",
	  "a CNAME query returns the CNAME itself" },
	{ "alias.example.com", DNS_T_MX, DNS_NODATA, "",
	  "CNAME chain to a name without the type: NODATA" },
	{ "loop1.example.com", DNS_T_A, DNS_TEMPFAIL, "",
	  "a CNAME loop fails" },
	{ "dangling.example.com", DNS_T_A, DNS_NXDOMAIN, "",
	  "a CNAME to a missing name: NXDOMAIN" },
	{ "nothere.example.com", DNS_T_A, DNS_NXDOMAIN, "",
	  "missing name: NXDOMAIN" },
	{ "example.org", DNS_T_A, DNS_NXDOMAIN, "",
	  "name outside the zone: NXDOMAIN" },
	{ "mail.example.com", DNS_T_TXT, DNS_NODATA, "",
	  "name with other types only: NODATA" },
	{ "x.example.com", DNS_T_A, DNS_NODATA, "",
	  "empty non-terminal exists: NODATA" },
	{ "ent.x.example.com", DNS_T_TXT, DNS_NODATA, "",
	  "deeper empty non-terminal: NODATA" },
	{ "deep.ent.x.example.com", DNS_T_A, DNS_OK, "192.0.2.77",
	  "name below empty non-terminals" },
	{ "foo.wild.example.com", DNS_T_TXT, DNS_OK, "wildcard",
	  "wildcard answers for a missing name" },
	{ "a.b.wild.example.com", DNS_T_A, DNS_OK, "192.0.2.99",
	  "wildcard answers several labels down" },
	{ "foo.wild.example.com", DNS_T_AAAA, DNS_NODATA, "",
	  "wildcard without the type: NODATA" },
	{ "exact.wild.example.com", DNS_T_TXT, DNS_NODATA, "",
	  "an existing name is not covered by the wildcard" },
	{ "x.exact.wild.example.com", DNS_T_A, DNS_NXDOMAIN, "",
	  "below an existing name the wildcard of its parent does not apply" },
	{ "wild.example.com", DNS_T_A, DNS_NODATA, "",
	  "the wildcard's parent is an empty non-terminal" },
	{ "_dmarc.example.com", DNS_T_TXT, DNS_OK, "v=DMARC1; p=reject",
	  "underscore labels" },
	{ "1.2.0.192.in-addr.arpa", DNS_T_PTR, DNS_OK, "example.com",
	  "PTR from a second zone file" },
	{ "25.2.0.192.IN-ADDR.ARPA", DNS_T_PTR, DNS_OK,
	  "mail.example.com | mx.example.net", "two PTR records" },
	{ "", DNS_T_A, DNS_BADNAME, "", "empty name is bad" },
	{ ".", DNS_T_A, DNS_BADNAME, "", "root alone is bad" },
	{ "a..example.com", DNS_T_A, DNS_BADNAME, "", "empty label is bad" },
	{ ".example.com", DNS_T_A, DNS_BADNAME, "", "leading dot is bad" },
	{ "example.com..", DNS_T_A, DNS_BADNAME, "", "two trailing dots" },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com",
	  DNS_T_A, DNS_BADNAME, "", "label of 64 octets is bad" },
};

/* run_cases - query each case, compare status and records */
static void
run_cases(struct dns_resolver *r, const struct qcase *c, size_t n)
{
	struct dns_answer *a;
	struct buf b = BUF_INIT;
	enum dns_status s;
	size_t i;

	for (i = 0; i < n; i++) {
		a = NULL;
		s = dns_query(r, c[i].name, c[i].type, &a);
		if (s != c[i].want) {
			ok(0, "%s", c[i].what);
			diag("%s %s: got %s, want %s", c[i].name,
			    dns_type_name(c[i].type), dns_strerror(s),
			    dns_strerror(c[i].want));
		} else {
			render(a, &b);
			is_str(b.s, c[i].records, c[i].what);
		}
		if (s != DNS_OK && a != NULL)
			ok(0, "answer set although status is %s",
			    dns_strerror(s));
		dns_answer_free(a);
	}
	buf_free(&b);
}

/* test_details - fields the table does not show */
static void
test_details(struct dns_resolver *r)
{
	struct dns_answer *a = NULL;
	char name[300];

	if (dns_query(r, "multi.example.com", DNS_T_TXT, &a) == DNS_OK &&
	    a->n == 2) {
		is_int(a->rr[0].nstrings, 3, "nstrings counts the strings");
		is_int((long)a->rr[0].text_len,
		    (long)strlen("v=spf1 include:_spf.example.net ~all"),
		    "text_len is the concatenated length");
		is_int(a->rr[0].ttl, 3600, "$TTL applies");
	} else
		ok(0, "multi-string TXT answer");
	dns_answer_free(a);
	a = NULL;
	if (dns_query(r, "esc.example.com", DNS_T_TXT, &a) == DNS_OK) {
		is_int((long)a->rr[0].text_len, 12, "text_len counts NUL bytes");
		ok(a->rr[0].text[12] == '\0', "text is NUL-terminated");
	} else
		ok(0, "escaped TXT answer");
	dns_answer_free(a);
	a = NULL;
	if (dns_query(r, "sel._domainkey.example.com", DNS_T_TXT, &a) == DNS_OK)
		ok(a->rr[0].nstrings == 2 && a->rr[0].text_len > 200,
		    "parenthesised multi-line TXT");
	else
		ok(0, "parenthesised multi-line TXT");
	dns_answer_free(a);
	a = NULL;
	if (dns_query(r, "short.example.com", DNS_T_A, &a) == DNS_OK)
		is_int(a->ttl, 60, "explicit TTL is reported");
	else
		ok(0, "explicit TTL is reported");
	dns_answer_free(a);
	a = NULL;
	if (dns_query(r, "alias.example.com", DNS_T_A, &a) == DNS_OK)
		ok(a->n == 1 && a->rr[0].type == DNS_T_A,
		    "a followed CNAME leaves only the type asked for");
	else
		ok(0, "a followed CNAME leaves only the type asked for");
	dns_answer_free(a);
	memset(name, 'a', sizeof(name));
	name[253] = '\0';
	for (int i = 63; i < 253; i += 64)
		name[i] = '.';
	ok(dns_name_valid(name), "a name of 253 octets is valid");
	name[253] = '.';
	name[254] = '\0';
	ok(dns_name_valid(name), "... with a trailing dot too");
	name[253] = 'a';
	ok(!dns_name_valid(name), "254 octets is too long");
	ok(dns_name_valid("a b.\\x.example"), "any octet but '.' is allowed");
}

/* test_add - records added one by one, placeholders, CNAME limits */
static void
test_add(void)
{
	static const struct qcase cases[] = {
		{ "added.test", DNS_T_A, DNS_OK, "192.0.2.5",
		  "added A record" },
		{ "ADDED.test.", DNS_T_AAAA, DNS_OK, "2001:db8::5",
		  "added AAAA record, any case" },
		{ "added.test", DNS_T_TXT, DNS_OK, "a\\x00bc\\x0d",
		  "added TXT with escapes" },
		{ "added.test", DNS_T_MX, DNS_OK, "5 mx.added.test",
		  "added MX" },
		{ "c.test", DNS_T_A, DNS_OK, "192.0.2.5", "added CNAME followed" },
		{ "to.test", DNS_T_TXT, DNS_TIMEOUT, "", "TIMEOUT placeholder" },
		{ "to.test", DNS_T_A, DNS_NODATA, "",
		  "a name with only a placeholder exists" },
		{ "sub.to.test", DNS_T_A, DNS_NXDOMAIN, "",
		  "below it nothing exists" },
		{ "sf.test", DNS_T_MX, DNS_TEMPFAIL, "", "SERVFAIL placeholder" },
		{ "c.to.test", DNS_T_TXT, DNS_TIMEOUT, "",
		  "a CNAME leads to the placeholder" },
		{ "l0.test", DNS_T_A, DNS_OK, "192.0.2.8",
		  "a chain of 8 CNAMEs is followed" },
		{ "m0.test", DNS_T_A, DNS_TEMPFAIL, "",
		  "a chain of 9 CNAMEs is not" },
		{ "x.any.test", DNS_T_TXT, DNS_OK, "star",
		  "added wildcard" },
		{ "all.test", DNS_T_MX, DNS_TIMEOUT, "",
		  "a placeholder for ANY covers MX" },
		{ "all.test", DNS_T_AAAA, DNS_TIMEOUT, "",
		  "... and AAAA" },
	};
	struct buf err = BUF_INIT;
	struct dns_resolver *r;
	char n1[32], n2[32];
	int i, fails = 0;

	r = dns_new_zone(NULL, &err);
	ok(r != NULL, "empty zone backend");
	if (r == NULL)
		return;
	fails += dns_zone_add(r, "Added.test", DNS_T_A, "192.0.2.5", &err);
	fails += dns_zone_add(r, "added.test.", DNS_T_AAAA, "2001:db8::5",
	    &err);
	fails += dns_zone_add(r, "added.test", DNS_T_TXT,
	    "\"a\" \"\\000b\" \"c\\013\"", &err);
	fails += dns_zone_add(r, "added.test", DNS_T_MX, "5 mx.added.test",
	    &err);
	fails += dns_zone_add(r, "c.test", DNS_T_CNAME, "added.test", &err);
	fails += dns_zone_add(r, "to.test", DNS_T_TXT, "TIMEOUT", &err);
	fails += dns_zone_add(r, "sf.test", DNS_T_MX, "SERVFAIL", &err);
	fails += dns_zone_add(r, "c.to.test", DNS_T_CNAME, "to.test", &err);
	fails += dns_zone_add(r, "*.any.test", DNS_T_TXT, "\"star\"", &err);
	fails += dns_zone_add(r, "all.test", DNS_T_ANY, "TIMEOUT", &err);
	for (i = 0; i < 8; i++) {
		snprintf(n1, sizeof(n1), "l%d.test", i);
		snprintf(n2, sizeof(n2), "l%d.test", i + 1);
		fails += dns_zone_add(r, n1, DNS_T_CNAME, n2, &err);
	}
	fails += dns_zone_add(r, "l8.test", DNS_T_A, "192.0.2.8", &err);
	for (i = 0; i < 9; i++) {
		snprintf(n1, sizeof(n1), "m%d.test", i);
		snprintf(n2, sizeof(n2), "m%d.test", i + 1);
		fails += dns_zone_add(r, n1, DNS_T_CNAME, n2, &err);
	}
	fails += dns_zone_add(r, "m9.test", DNS_T_A, "192.0.2.9", &err);
	ok(fails == 0, "dns_zone_add accepts good records");
	if (fails)
		diag("%s", buf_str(&err));
	run_cases(r, cases, sizeof(cases) / sizeof(cases[0]));

	buf_reset(&err);
	ok(dns_zone_add(r, "bad.test", DNS_T_A, "not-an-address", &err) == -1
	    && err.len > 0, "bad rdata is refused with a message");
	ok(dns_zone_add(r, "a..test", DNS_T_A, "192.0.2.1", &err) == -1,
	    "bad owner name is refused");
	ok(dns_query(r, "bad.test", DNS_T_A, NULL) == DNS_NXDOMAIN,
	    "a refused record is not stored");
	dns_free(r);
	buf_free(&err);
}

/* fake_clock - the test's clock for the cache */
static time_t
fake_clock(void *arg)
{
	return *(time_t *)arg;
}

/* test_cache - hits, TTL countdown, expiry, negative caching, bound */
static void
test_cache(void)
{
	struct dns_opts o = { NULL, 0, 3, 100 };
	struct dns_cache_stats st;
	struct dns_resolver *r;
	struct dns_answer *a = NULL;
	struct buf err = BUF_INIT;
	time_t now = 1000;

	r = dns_new_zone_opts(SRCDIR "/" ZONE, &o, &err);
	ok(r != NULL, "zone backend with a cache");
	if (r == NULL) {
		diag("%s", buf_str(&err));
		return;
	}
	dns_set_clock(r, fake_clock, &now);
	dns_query(r, "short.example.com", DNS_T_A, &a);
	dns_answer_free(a);
	now += 10;
	a = NULL;
	ok(dns_query(r, "SHORT.example.com.", DNS_T_A, &a) == DNS_OK &&
	    a->ttl == 50 && a->rr[0].ttl == 50,
	    "a cache hit reports the TTL left");
	dns_cache_stats(r, &st);
	ok(st.hits == 1 && st.misses == 1 && st.entries == 1,
	    "second query is a hit, whatever the case of the name");
	a->rr[0].addr[0] = 0;		/* the caller's copy is its own */
	dns_answer_free(a);
	a = NULL;
	now += 49;
	ok(dns_query(r, "short.example.com", DNS_T_A, &a) == DNS_OK &&
	    a->ttl == 1 && a->rr[0].addr[0] == 192,
	    "a hit one second before expiry; the cached copy is untouched");
	dns_answer_free(a);
	a = NULL;
	now += 1;
	ok(dns_query(r, "short.example.com", DNS_T_A, &a) == DNS_OK &&
	    a->ttl == 60, "after the TTL the answer is fetched again");
	dns_answer_free(a);
	dns_cache_stats(r, &st);
	is_int((long)st.misses, 2, "expiry counts as a miss");

	dns_cache_flush(r);
	dns_query(r, "nothere.example.com", DNS_T_A, NULL);
	now += 99;
	ok(dns_query(r, "nothere.example.com", DNS_T_A, NULL) ==
	    DNS_NXDOMAIN, "NXDOMAIN from the cache");
	dns_cache_stats(r, &st);
	ok(st.hits == 3, "NXDOMAIN is cached");
	now += 1;
	dns_query(r, "nothere.example.com", DNS_T_A, NULL);
	dns_cache_stats(r, &st);
	ok(st.hits == 3 && st.misses == 4,
	    "negative TTL is min(SOA minimum 120, cap 100)");

	dns_cache_flush(r);
	dns_query(r, "mail.example.com", DNS_T_TXT, NULL);
	dns_query(r, "mail.example.com", DNS_T_TXT, NULL);
	dns_cache_stats(r, &st);
	ok(st.hits == 4, "NODATA is cached");

	dns_cache_flush(r);
	dns_cache_stats(r, &st);
	is_int((long)st.entries, 0, "flush empties the cache");
	dns_zone_add(r, "slow.example.com", DNS_T_A, "TIMEOUT", &err);
	dns_zone_add(r, "fail.example.com", DNS_T_A, "SERVFAIL", &err);
	dns_query(r, "slow.example.com", DNS_T_A, NULL);
	dns_query(r, "fail.example.com", DNS_T_A, NULL);
	dns_cache_stats(r, &st);
	is_int((long)st.entries, 0, "TIMEOUT and TEMPFAIL are not cached");

	dns_query(r, "example.com", DNS_T_A, NULL);
	dns_query(r, "example.com", DNS_T_MX, NULL);
	dns_query(r, "example.com", DNS_T_AAAA, NULL);
	dns_query(r, "example.com", DNS_T_A, NULL);	/* now most recent */
	dns_query(r, "mail.example.com", DNS_T_A, NULL);
	dns_query(r, "ns.example.com", DNS_T_A, NULL);
	dns_cache_stats(r, &st);
	is_int((long)st.entries, 3, "the cache holds at most cache_max");
	dns_query(r, "example.com", DNS_T_A, NULL);
	dns_cache_stats(r, &st);
	unsigned long hits = st.hits;
	dns_query(r, "example.com", DNS_T_MX, NULL);
	dns_cache_stats(r, &st);
	ok(st.hits == hits && st.entries == 3,
	    "the least recently used entry was evicted, the recent one kept");
	dns_free(r);
	buf_free(&err);
}

#define NTHREADS	8
#define NLOOPS		300

struct worker {
	struct dns_resolver *r;
	int		 id;
	int		 bad;
};

/* worker - query a mix of names, check every answer */
static void *
worker(void *arg)
{
	static const struct qcase mix[] = {
		{ "example.com", DNS_T_MX, DNS_OK,
		  "10 mail.example.com | 20 mail2.example.net", "" },
		{ "alias.example.com", DNS_T_A, DNS_OK, "192.0.2.80", "" },
		{ "multi.example.com", DNS_T_TXT, DNS_OK,
		  "v=spf1 include:_spf.example.net ~all | second record", "" },
		{ "nothere.example.com", DNS_T_A, DNS_NXDOMAIN, "", "" },
		{ "mail.example.com", DNS_T_TXT, DNS_NODATA, "", "" },
		{ "q.wild.example.com", DNS_T_TXT, DNS_OK, "wildcard", "" },
		{ "loop1.example.com", DNS_T_A, DNS_TEMPFAIL, "", "" },
	};
	struct worker *w = arg;
	struct dns_answer *a;
	struct buf b = BUF_INIT;
	const struct qcase *c;
	int i;

	for (i = 0; i < NLOOPS; i++) {
		c = &mix[(i * 7 + w->id) %
		    (int)(sizeof(mix) / sizeof(mix[0]))];
		a = NULL;
		if (dns_query(w->r, c->name, c->type, &a) != c->want)
			w->bad++;
		render(a, &b);
		if (strcmp(b.s, c->records) != 0)
			w->bad++;
		dns_answer_free(a);
	}
	buf_free(&b);
	return NULL;
}

/* test_threads - concurrent queries through a small cache */
static void
test_threads(void)
{
	struct dns_opts o = { NULL, 0, 4, 0 };
	struct worker w[NTHREADS];
	pthread_t t[NTHREADS];
	struct dns_resolver *r;
	struct buf err = BUF_INIT;
	int i, bad = 0, started = 0;

	if ((r = dns_new_zone_opts(SRCDIR "/" ZONE, &o, &err)) == NULL) {
		ok(0, "zone for threads: %s", buf_str(&err));
		return;
	}
	for (i = 0; i < NTHREADS; i++) {
		w[i].r = r;
		w[i].id = i;
		w[i].bad = 0;
		if (pthread_create(&t[i], NULL, worker, &w[i]) == 0)
			started++;
	}
	for (i = 0; i < started; i++) {
		pthread_join(t[i], NULL);
		bad += w[i].bad;
	}
	ok(started == NTHREADS && bad == 0,
	    "%d threads x %d queries through a 4-entry cache all correct",
	    NTHREADS, NLOOPS);
	dns_free(r);
	buf_free(&err);
}

struct zasker {
	struct dns_resolver *r;
	int		 limit_ms;	/* 0: none */
	enum dns_status	 st;
};

/* zask - one thread's query for the slow name */
static void *
zask(void *arg)
{
	struct zasker *a = arg;
	struct dns_limit l;

	dns_limit_init(&l, a->limit_ms, NULL, NULL);
	a->st = dns_query_limit(a->r, "slow.test", DNS_T_A,
	    a->limit_ms ? &l : NULL, NULL);
	return NULL;
}

/*
 * test_inflight - identical queries in flight are asked once; a waiter
 * whose limit ends first stops alone; an owner cut short by its own
 * limit leaves the question to a waiter with time left
 */
static void
test_inflight(void)
{
	struct buf err = BUF_INIT;
	struct dns_resolver *r = dns_new_zone(NULL, &err);
	struct zasker a[6];
	pthread_t t[6];
	size_t i, n = 0, good = 0;
	struct timespec pause = { 0, 100 * 1000 * 1000 };

	if (r == NULL || dns_zone_add(r, "slow.test", DNS_T_A, "192.0.2.7",
	    &err) != 0 || dns_zone_add(r, "slow.test", DNS_T_A, "DELAY 500",
	    &err) != 0) {
		ok(0, "zone with a slow name: %s", buf_str(&err));
		dns_free(r);
		buf_free(&err);
		return;
	}
	for (i = 0; i < 6; i++) {
		a[i].r = r;
		a[i].limit_ms = i == 5 ? 150 : 0;
		if (pthread_create(&t[i], NULL, zask, &a[i]) == 0)
			n++;
		if (i == 0)
			nanosleep(&pause, NULL);	/* i = 0 owns it */
	}
	for (i = 0; i < n; i++) {
		pthread_join(t[i], NULL);
		good += i < 5 && a[i].st == DNS_OK;
	}
	ok(n == 6 && good == 5, "five identical queries in flight all get "
	    "the answer");
	is_int((int)dns_zone_lookups(r), 1, "... which was looked up once");
	is_int(a[5].st, DNS_TIMEOUT, "a waiter with a shorter limit stops "
	    "at its own deadline");

	/* the owner's limit is short, the waiter's is not */
	a[0].limit_ms = 150;
	a[1].limit_ms = 0;
	pthread_create(&t[0], NULL, zask, &a[0]);
	nanosleep(&pause, NULL);
	pthread_create(&t[1], NULL, zask, &a[1]);
	pthread_join(t[0], NULL);
	pthread_join(t[1], NULL);
	ok(a[0].st == DNS_TIMEOUT && a[1].st == DNS_OK, "an owner cut short "
	    "by its limit: the waiter asks again and gets the answer");
	is_int((int)dns_zone_lookups(r), 3, "... with a lookup of its own");
	dns_free(r);
	buf_free(&err);
}

/* test_system - option parsing, and a timeout against a silent server */
static void
test_system(void)
{
	static const char *bad[] = {
		"127.0.0.1:0", "127.0.0.1:65536", "[::1", "[::1]x",
		"ns.example.com", "127.0.0.1:53x", "", " , ", "127.0.0.1@",
		"127.0.0.1@x", "@53",
	};
	struct dns_opts o = { "127.0.0.1:5353, [::1]:5353 192.0.2.1 ::1 "
	    "127.0.0.1@5353,::1@5353",
	    300, 0, 0 };
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	struct timespec t0, t1;
	struct dns_resolver *r;
	struct buf err = BUF_INIT;
	char spec[64];
	size_t i;
	long ms;
	int fd;

	r = dns_new_system(&o, &err);
	ok(r != NULL, "server list with ports, brackets, bare IPv6 and "
	    "OpenDKIM's addr@port");
	if (r != NULL)
		ok(dns_query(r, "a..b", DNS_T_A, NULL) == DNS_BADNAME,
		    "a bad name is refused before any query");
	dns_free(r);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		buf_reset(&err);
		o.nameservers = bad[i];
		r = dns_new_system(&o, &err);
		ok(r == NULL && err.len > 0, "bad server list \"%s\" refused",
		    bad[i]);
		dns_free(r);
	}

	/* a UDP socket that never answers */
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd == -1 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &sl) == -1) {
		ok(0, "silent UDP socket");
		return;
	}
	snprintf(spec, sizeof(spec), "127.0.0.1:%u", ntohs(sin.sin_port));
	o.nameservers = spec;
	o.timeout_ms = 300;
	buf_reset(&err);
	if ((r = dns_new_system(&o, &err)) == NULL) {
		ok(0, "resolver for the silent server: %s", buf_str(&err));
		close(fd);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	is_int(dns_query(r, "example.com", DNS_T_TXT, NULL), DNS_TIMEOUT,
	    "a silent server times out");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	ok(ms >= 250 && ms < 1000, "within timeout_ms (%ld ms for 300)", ms);
	dns_free(r);
	snprintf(spec, sizeof(spec), "127.0.0.1@%u", ntohs(sin.sin_port));
	if ((r = dns_new_system(&o, &err)) != NULL)
		is_int(dns_query(r, "example.com", DNS_T_TXT, NULL),
		    DNS_TIMEOUT, "addr@port reaches that port too");
	else
		ok(0, "addr@port: %s", buf_str(&err));
	dns_free(r);
	close(fd);
	buf_free(&err);
}

int
main(void)
{
	struct buf err = BUF_INIT;
	struct dns_resolver *r;

	r = dns_new_zone(SRCDIR "/" ZONE, &err);
	ok(r != NULL, "zone backend loads the fixture");
	if (r == NULL) {
		diag("%s", buf_str(&err));
		return done_testing();
	}
	ok(dns_zone_load(r, SRCDIR "/" REVZONE, &err) == 0,
	    "a second zone file loads");
	run_cases(r, file_cases, sizeof(file_cases) / sizeof(file_cases[0]));
	test_details(r);
	dns_free(r);
	buf_reset(&err);
	ok(dns_new_zone("/nonexistent/zone", &err) == NULL && err.len > 0,
	    "a missing zone file is an error");
	buf_reset(&err);
	ok(dns_new_zone(SRCDIR "/t/data/dns/bad.zone", &err) == NULL &&
	    strstr(buf_str(&err), "bad.zone:3:") != NULL,
	    "a zone file syntax error names the file and line");
	diag("%s", buf_str(&err));
	test_add();
	test_cache();
	test_threads();
	test_inflight();
	test_system();
	buf_free(&err);
	return done_testing();
}
