/*
 * hostlist - host and network lists: IPv4 and IPv6 networks, names and
 * domains, '*' patterns from refile:, negation and specificity, mapped
 * IPv4, bracketed names, which entry decided, malformed entries refused
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostlist.h"
#include "tap.h"

#define DATA "t/data/conf/"

/* a client, the verdict and the deciding entry (NULL: none) */
struct match_case {
	const char	*addr;
	const char	*host;
	int		 want;
	const char	*why;
	const char	*name;		/* what the case proves */
};

#define H DATA "hosts:"
static const struct match_case hosts_cases[] = {
	{ "127.0.0.1", NULL, 1, H "2: 127.0.0.1", "a single IPv4 address" },
	{ "127.0.0.2", NULL, 0, NULL, "an address next to a listed one" },
	{ "192.0.2.5", NULL, 1, H "4: 192.0.2.0/24", "inside an IPv4 /24" },
	{ "192.0.2.129", NULL, 0, H "5: !192.0.2.128/25",
	    "a negated /25 beats the /24 around it" },
	{ "192.0.2.200", NULL, 1, H "6: 192.0.2.200",
	    "a /32 beats the negated /25 around it" },
	{ "::ffff:192.0.2.5", NULL, 1, H "4: 192.0.2.0/24",
	    "an IPv4-mapped client matches as IPv4" },
	{ "::FFFF:192.0.2.129", NULL, 0, H "5: !192.0.2.128/25",
	    "an IPv4-mapped client meets IPv4 negations" },
	{ "[192.0.2.5]", NULL, 1, H "4: 192.0.2.0/24",
	    "an address in brackets" },
	{ "10.255.255.255", NULL, 1, H "7: 10.0.0.0/8",
	    "the last address of a /8" },
	{ "11.0.0.0", NULL, 0, NULL, "the first address after a /8" },
	{ "::1", NULL, 1, H "3: ::1", "the IPv6 loopback" },
	{ "0:0:0:0:0:0:0:1", NULL, 1, H "3: ::1",
	    "IPv6 in another spelling" },
	{ "2001:DB8:0:0::1", NULL, 1, H "8: 2001:db8::/32",
	    "inside an IPv6 /32, upper case" },
	{ "2001:db8:bad::1", NULL, 0, H "9: !2001:db8:bad::/48",
	    "a negated IPv6 /48 beats the /32" },
	{ "2001:db8:bad:ffff:ffff:ffff:ffff:ffff", NULL, 0,
	    H "9: !2001:db8:bad::/48", "the last address of the /48" },
	{ "2001:db8:bae::1", NULL, 1, H "8: 2001:db8::/32",
	    "just past the negated /48" },
	{ "2001:db9::1", NULL, 0, NULL, "outside the IPv6 /32" },
	{ "::ffff:127.0.0.1", NULL, 1, H "2: 127.0.0.1",
	    "mapped loopback is IPv4 loopback" },
	{ NULL, "mail.example.com", 1, H "10: mail.example.com",
	    "a host name exactly" },
	{ NULL, "MAIL.Example.COM.", 1, H "10: mail.example.com",
	    "a host name without case and trailing dot" },
	{ NULL, "x.mail.example.com", 0, NULL,
	    "a host name does not cover names under it" },
	{ NULL, "example.com", 0, NULL, "a host name's parent is not listed" },
	{ NULL, "example.org", 0, NULL,
	    "a .domain entry does not match the domain itself" },
	{ NULL, "a.example.org", 1, H "11: .example.org",
	    "a .domain entry matches a host under it" },
	{ NULL, "a.b.c.example.org", 1, H "11: .example.org",
	    "a .domain entry matches at any depth" },
	{ NULL, "bad.example.org", 0, H "12: !bad.example.org",
	    "a negated host name beats its parent domain" },
	{ NULL, "x.bad.example.org", 1, H "11: .example.org",
	    "a negated host name does not cover names under it" },
	{ NULL, "a.example.net", 1, H "13: *.example.net",
	    "*.domain in a file works as .domain" },
	{ NULL, "x.evil.example.net", 0, H "14: !*.evil.example.net",
	    "a negated sub-domain beats its parent" },
	{ NULL, "evil.example.net", 1, H "13: *.example.net",
	    "the negated sub-domain does not cover its own name" },
	{ NULL, "example.net.attacker.test", 0, NULL,
	    "a domain is a suffix, not a substring" },
	{ NULL, "[192.0.2.5]", 1, H "4: 192.0.2.0/24",
	    "a bracketed name is used as the address when none is given" },
	{ NULL, "[IPv6:2001:db8::1]", 1, H "8: 2001:db8::/32",
	    "a bracketed IPv6: name is used as the address" },
	{ "203.0.113.1", "[203.0.113.1]", 0, NULL,
	    "a bracketed name never matches name entries" },
	{ "203.0.113.1", "mail.example.com", 1, H "10: mail.example.com",
	    "the name alone may match" },
	{ "192.0.2.5", "bad.example.org", 1, H "4: 192.0.2.0/24",
	    "a negated name does not veto an address match (OpenDKIM)" },
	{ "192.0.2.129", "a.example.org", 1, H "11: .example.org",
	    "a negated address does not veto a name match (OpenDKIM)" },
	{ "192.0.2.129", "bad.example.org", 0, H "12: !bad.example.org",
	    "with both negated, the name's negation is named" },
	{ NULL, NULL, 0, NULL, "no address and no name match nothing" },
	{ "not an address", NULL, 0, NULL, "a bad address matches nothing" },
	{ "", "", 0, NULL, "empty address and name match nothing" },
	{ "192.0.2.5", "", 1, H "4: 192.0.2.0/24",
	    "an empty name leaves the address" },
};
#undef H

#define R DATA "trusted.refile:"
static const struct match_case refile_cases[] = {
	{ NULL, "a.example.com", 0, R "2: *.example.com",
	    "a refile: *.domain excludes a host under it, as in OpenDKIM" },
	{ NULL, "A.B.EXAMPLE.COM", 0, R "2: *.example.com",
	    "a refile: pattern ignores case, any depth" },
	{ NULL, "example.com", 0, NULL,
	    "a refile: *.domain does not match the domain itself" },
	{ NULL, "MX7.example.org", 1, R "3: mx*.example.org",
	    "a '*' inside a label" },
	{ NULL, "mail.example.org", 0, NULL, "a pattern that does not fit" },
	{ NULL, "a.example.com.evil", 0, R "4: !*.example.com.evil",
	    "a negated pattern" },
	{ "198.51.100.7", "unknown.test", 1, R "5: 198.51.100.0/24",
	    "a network in a refile: list" },
};
#undef R

/* to_sockaddr - make a sockaddr from text; family 0 when not parsable */
static const struct sockaddr *
to_sockaddr(const char *s, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (s == NULL)
		return NULL;
	if (inet_pton(AF_INET, s, &sin->sin_addr) == 1)
		sin->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, s, &sin6->sin6_addr) == 1)
		sin6->sin6_family = AF_INET6;
	else
		return NULL;
	return (struct sockaddr *)ss;
}

/* run_cases - each case through the text and the sockaddr interfaces */
static void
run_cases(const struct hostlist *hl, const struct match_case *c, size_t n)
{
	struct sockaddr_storage ss;
	const struct sockaddr *sa;
	const char *why;
	size_t i;
	int m;

	for (i = 0; i < n; i++) {
		is_int(hostlist_match_addr(hl, c[i].addr, c[i].host),
		    c[i].want, c[i].name);
		why = hostlist_why_addr(hl, c[i].addr, c[i].host, &m);
		is_str(why, c[i].why, "... and the deciding entry is named");
		is_int(m, c[i].want, "... and why agrees with match");
		sa = to_sockaddr(c[i].addr, &ss);
		if (sa == NULL && c[i].addr != NULL && c[i].addr[0] != '[')
			continue;	/* only the text form can carry it */
		if (c[i].addr != NULL && c[i].addr[0] == '[')
			continue;
		is_int(hostlist_match(hl, sa, c[i].host), c[i].want,
		    "... also given as a sockaddr");
		why = hostlist_why(hl, sa, c[i].host, &m);
		ok(m == c[i].want && (why == c[i].why || (why && c[i].why &&
		    strcmp(why, c[i].why) == 0)),
		    "... with the same deciding entry");
	}
}

/* check_file - the InternalHosts fixture */
static void
check_file(void)
{
	struct hostlist *hl = hostlist_new();
	struct buf err = BUF_INIT;

	is_int(hostlist_load(hl, "file:" DATA "hosts", &err), 0,
	    "a host list file loads");
	if (err.len)
		diag("%s", err.s);
	is_int((long)hostlist_count(hl), 13, "... with every entry");
	is_int(hostlist_has_all(hl), 0, "... and not everything");
	run_cases(hl, hosts_cases, sizeof(hosts_cases) /
	    sizeof(hosts_cases[0]));
	hostlist_free(hl);
	buf_free(&err);
}

/* check_refile - the TrustedHosts fixture given as refile: */
static void
check_refile(void)
{
	struct hostlist *hl = hostlist_new();
	struct buf err = BUF_INIT;

	is_int(hostlist_load(hl, "refile:" DATA "trusted.refile", &err), 0,
	    "a refile: host list loads");
	if (err.len)
		diag("%s", err.s);
	run_cases(hl, refile_cases, sizeof(refile_cases) /
	    sizeof(refile_cases[0]));
	ok(strstr(hostlist_warnings(hl), "trusted.refile:2: *.example.com: "
	    "in a refile: list, a pattern that begins with '*' excludes the "
	    "hosts it matches") != NULL && strstr(hostlist_warnings(hl),
	    "list '.example.com' in a file: list instead") != NULL,
	    "a refile: pattern beginning with '*' is named in a warning");
	ok(strstr(hostlist_warnings(hl), "mx*.example.org") == NULL,
	    "... a pattern with '*' further in is not");
	hostlist_free(hl);
	buf_free(&err);
}

/* a list given inline and clients tried against it */
struct inline_case {
	const char	*list;
	const char	*addr, *host;
	int		 want;
	const char	*why;
	const char	*name;
};

static const struct inline_case inline_cases[] = {
	{ "192.0.2.0/24, !192.0.2.1", "192.0.2.1", NULL, 0,
	    "inline: !192.0.2.1", "an inline list with a negated address" },
	{ "csl:192.0.2.0/24, !192.0.2.1", "192.0.2.2", NULL, 1,
	    "inline: 192.0.2.0/24", "a csl: list with spaces" },
	{ "!10.0.0.0/8, 10.1.0.0/16", "10.1.2.3", NULL, 1,
	    "inline: 10.1.0.0/16", "a longer prefix beats a negation" },
	{ "!10.0.0.0/8, 10.1.0.0/16", "10.2.0.0", NULL, 0,
	    "inline: !10.0.0.0/8", "... and the negation holds outside it" },
	{ "10.0.0.0/8, !10.0.0.0/8", "10.1.1.1", NULL, 0,
	    "inline: !10.0.0.0/8", "same prefix: negation wins (after)" },
	{ "!10.0.0.0/8, 10.0.0.0/8", "10.1.1.1", NULL, 0,
	    "inline: !10.0.0.0/8", "same prefix: negation wins (before)" },
	{ "example.com, !example.com", NULL, "example.com", 0,
	    "inline: !example.com", "same name: negation wins" },
	{ "!.example.com, mail.example.com", NULL, "mail.example.com", 1,
	    "inline: mail.example.com", "a host name beats its negated domain" },
	{ "!.example.com, mail.example.com", NULL, "www.example.com", 0,
	    "inline: !.example.com", "... and the domain stays negated" },
	{ ".example.com, !.sub.example.com", NULL, "a.sub.example.com", 0,
	    "inline: !.sub.example.com", "a nearer negated domain wins" },
	{ "*", NULL, "anything.test", 1, "inline: *",
	    "'*' alone matches any name" },
	{ "*", "192.0.2.1", NULL, 0, NULL, "'*' does not match addresses" },
	{ "0.0.0.0/0", "203.0.113.9", NULL, 1, "inline: 0.0.0.0/0",
	    "0.0.0.0/0 matches any IPv4 client" },
	{ "0.0.0.0/0", "2001:db8::1", NULL, 0, NULL,
	    "0.0.0.0/0 does not match IPv6 clients" },
	{ "0.0.0.0/0", "::ffff:203.0.113.9", NULL, 1, "inline: 0.0.0.0/0",
	    "0.0.0.0/0 matches mapped IPv4 clients" },
	{ "::/0", "2001:db8::1", NULL, 1, "inline: ::/0",
	    "::/0 matches any IPv6 client" },
	{ "[2001:db8::]/64", "2001:db8::ff", NULL, 1,
	    "inline: [2001:db8::]/64", "a bracketed network" },
	{ "[2001:db8::1]", "2001:db8::1", NULL, 1, "inline: [2001:db8::1]",
	    "a bracketed IPv6 address" },
	{ "::ffff:192.0.2.0/120", "192.0.2.7", NULL, 1,
	    "inline: ::ffff:192.0.2.0/120",
	    "a mapped network entry matches IPv4 clients" },
	{ "192.0.2.0/31", "192.0.2.1", NULL, 1, "inline: 192.0.2.0/31",
	    "a /31 holds its second address" },
	{ "192.0.2.128/25", "192.0.2.127", NULL, 0, NULL,
	    "a /25 does not hold the address before it" },
	{ "192.0.2.3/32", "192.0.2.3", NULL, 1, "inline: 192.0.2.3/32",
	    "an explicit /32" },
	{ "mail.example.com.", NULL, "mail.example.com", 1,
	    "inline: mail.example.com.", "an entry's trailing dot is ignored" },
	{ "Mail.Example.COM", NULL, "mail.example.com", 1,
	    "inline: Mail.Example.COM", "an entry's case is ignored" },
	{ "localhost", NULL, "LOCALHOST", 1, "inline: localhost",
	    "a single-label name" },
};

/* check_inline - lists given in the configuration line itself */
static void
check_inline(void)
{
	size_t i;

	for (i = 0; i < sizeof(inline_cases) / sizeof(inline_cases[0]); i++) {
		const struct inline_case *c = &inline_cases[i];
		struct hostlist *hl = hostlist_new();
		struct buf err = BUF_INIT;
		int rc = hostlist_load(hl, c->list, &err), m;
		const char *why;

		ok(rc == 0, "list '%s' loads", c->list);
		if (rc != 0)
			diag("%s: %s", c->list, buf_str(&err));
		is_int(hostlist_match_addr(hl, c->addr, c->host), c->want,
		    c->name);
		why = hostlist_why_addr(hl, c->addr, c->host, &m);
		is_str(why, c->why, "... and the deciding entry is named");
		hostlist_free(hl);
		buf_free(&err);
	}
}

/* check_has_all - lists that let every address through */
static void
check_has_all(void)
{
	static const struct { const char *list; int want; } c[] = {
		{ "0.0.0.0/0", 1 }, { "::/0", 1 }, { "127.0.0.1, ::/0", 1 },
		{ "0.0.0.0/0, !0.0.0.0/0", 0 }, { "!::/0", 0 },
		{ "0.0.0.0/1, 128.0.0.0/1", 0 }, { "*", 0 },
		{ "0.0.0.0/0, !::/0", 1 }, { "::ffff:0.0.0.0/96", 1 },
		{ "127.0.0.1", 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct hostlist *hl = hostlist_new();
		struct buf err = BUF_INIT;

		hostlist_load(hl, c[i].list, &err);
		is_int(hostlist_has_all(hl), c[i].want, c[i].list);
		hostlist_free(hl);
		buf_free(&err);
	}
	is_int(hostlist_has_all(NULL), 0, "a NULL list has not everything");
}

/* networks with host bits set load, never match, and are named */
static void
test_host_bits(void)
{
	static const struct {
		const char *list, *addr, *warn;
	} c[] = {
		{ "10.1.2.3/8", "10.1.2.3", "inline: '10.1.2.3/8': host bits "
		    "set after the prefix: this entry never matches (as in "
		    "OpenDKIM); did you mean 10.0.0.0/8?\n" },
		{ "2001:db8::1/64", "2001:db8::1", "inline: '2001:db8::1/64': "
		    "host bits set after the prefix: this entry never matches "
		    "(as in OpenDKIM); did you mean 2001:db8::/64?\n" },
		{ "0.0.0.1/0", "192.0.2.1", "inline: '0.0.0.1/0': host bits "
		    "set after the prefix: this entry never matches (as in "
		    "OpenDKIM); did you mean 0.0.0.0/0?\n" },
	};
	size_t i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct hostlist *hl = hostlist_new();
		struct buf err = BUF_INIT;

		is_int(hostlist_load(hl, c[i].list, &err), 0, c[i].list);
		is_int(hostlist_match_addr(hl, c[i].addr, NULL), 0,
		    "... never matches, even its own address");
		is_str(hostlist_warnings(hl), c[i].warn, "... with a warning");
		is_int(hostlist_has_all(hl), 0, "... and is not 'everything'");
		hostlist_free(hl);
		buf_free(&err);
	}
}

/* malformed entries and the message each must give */
static const struct {
	const char *entry, *err;
} bad[] = {
	{ "", "inline: '': not a host name, address or network" },
	{ "!", "inline: '!': not a host name, address or network" },
	{ ".", "inline: '.': not a host name, address or network" },
	{ "300.1.1.1", "inline: '300.1.1.1': not a valid IPv4 address" },
	{ "1.2.3", "inline: '1.2.3': not a valid IPv4 address" },
	{ "192.0.2.0/33", "inline: '192.0.2.0/33': bad prefix length "
	    "(expected /0 to /32)" },
	{ "192.0.2.0/", "inline: '192.0.2.0/': bad prefix length (expected "
	    "/0 to /32)" },
	{ "192.0.2.0/24x", "inline: '192.0.2.0/24x': bad prefix length "
	    "(expected /0 to /32)" },
	{ "192.0.2.0/-1", "inline: '192.0.2.0/-1': bad prefix length "
	    "(expected /0 to /32)" },
	{ "192.0.2.0/99999999999", "inline: '192.0.2.0/99999999999': bad "
	    "prefix length (expected /0 to /32)" },
	{ "2001:db8::/129", "inline: '2001:db8::/129': bad prefix length "
	    "(expected /0 to /128)" },
	{ "2001:db8:::1", "inline: '2001:db8:::1': not a valid IPv6 "
	    "address" },
	{ "[192.0.2.1", "inline: '[192.0.2.1': missing ']'" },
	{ "[mail.example.com]", "inline: '[mail.example.com]': not a valid "
	    "IPv4 address" },
	{ "mail/example.com", "inline: 'mail/example.com': unexpected '/' "
	    "(expected a host name, address or network; a file needs file: "
	    "or an absolute path)" },
	{ "mail..example.com", "inline: 'mail..example.com': empty label in "
	    "host name" },
	{ "mail@example.com", "inline: 'mail@example.com': unexpected '@' "
	    "(expected a host name, address or network)" },
	{ "two words", "inline: 'two words': unexpected ' ' (expected a host "
	    "name, address or network)" },
	{ "b\xc3\xbc" "cher.example", "inline: 'b\xc3\xbc" "cher.example': "
	    "unexpected byte 0xc3 (expected a host name, address or "
	    "network)" },
	{ "!!example.com", "inline: '!!example.com': unexpected '!' "
	    "(expected a host name, address or network)" },
};

/* check_bad - malformed entries are refused, each with a message */
static void
check_bad(void)
{
	struct hostlist *hl = hostlist_new();
	struct buf err = BUF_INIT;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		buf_reset(&err);
		is_int(hostlist_add(hl, bad[i].entry, &err), -1, bad[i].err);
		is_str(buf_str(&err), bad[i].err, "... with its message");
	}
	is_int((long)hostlist_count(hl), 0, "no refused entry was added");
	buf_reset(&err);
	{
		char longname[300];

		memset(longname, 'a', sizeof(longname) - 1);
		longname[sizeof(longname) - 1] = '\0';
		is_int(hostlist_add(hl, longname, &err), -1,
		    "a name longer than 255 is refused");
	}
	is_int(hostlist_add(hl, "192.0.2.1", NULL), 0,
	    "hostlist_add works without an error buffer");
	is_int(hostlist_add(hl, " \t!192.0.2.1 \r\n", NULL), 0,
	    "hostlist_add trims white space around an entry");
	is_str(hostlist_why_addr(hl, "192.0.2.1", NULL, NULL),
	    "inline: !192.0.2.1", "... and names the trimmed entry");
	is_int(hostlist_add(hl, "bad entry", NULL), -1,
	    "... and still refuses a bad entry");
	hostlist_free(hl);

	hl = hostlist_new();
	buf_reset(&err);
	is_int(hostlist_load(hl, "file:" DATA "badhosts", &err), -1,
	    "a file with bad entries fails");
	is_str(buf_str(&err),
	    DATA "badhosts:3: '300.1.1.1': not a valid IPv4 address\n"
	    DATA "badhosts:4: '2001:db8::/129': bad prefix length (expected "
	    "/0 to /128)\n"
	    DATA "badhosts:5: 'mail/example.com': unexpected '/' (expected a "
	    "host name, address or network; a file needs file: or an "
	    "absolute path)\n"
	    DATA "badhosts:6: '[192.0.2.1': missing ']'\n"
	    DATA "badhosts:7: 'mail..example.com': empty label in host name\n"
	    DATA "badhosts:8: 'mail@example.com': unexpected '@' (expected a "
	    "host name, address or network)",
	    "... naming every bad entry with file and line");
	is_int((long)hostlist_count(hl), 3, "... keeping the good entries");
	is_str(hostlist_warnings(hl), DATA "badhosts:2: '10.1.2.3/8': host "
	    "bits set after the prefix: this entry never matches (as in "
	    "OpenDKIM); did you mean 10.0.0.0/8?\n",
	    "... and warning about a network with host bits set");
	hostlist_free(hl);

	hl = hostlist_new();
	buf_reset(&err);
	is_int(hostlist_load(hl, DATA "hosts", &err), -1,
	    "a relative path without file: is an inline entry");
	is_str(buf_str(&err), "inline: '" DATA "hosts': unexpected '/' "
	    "(expected a host name, address or network; a file needs file: "
	    "or an absolute path)", "... and the message says what to do");
	hostlist_free(hl);

	hl = hostlist_new();
	buf_reset(&err);
	is_int(hostlist_load(hl, "file:" DATA "nonexistent", &err), -1,
	    "a missing host list file fails");
	is_str(buf_str(&err), DATA "nonexistent: No such file or directory",
	    "... with the path and the system's reason");
	hostlist_free(hl);
	hostlist_free(NULL);
	is_int(hostlist_match_addr(NULL, "127.0.0.1", NULL), 0,
	    "a NULL list matches nothing");
	buf_free(&err);
}

/* check_crlf - a host list file saved with Windows line ends */
static void
check_crlf(void)
{
	struct hostlist *hl = hostlist_new();
	struct buf err = BUF_INIT;

	is_int(hostlist_load(hl, "file:" DATA "hosts.crlf", &err), 0,
	    "a CRLF host list file loads");
	if (err.len)
		diag("%s", err.s);
	is_str(hostlist_why_addr(hl, "192.0.2.9", NULL, NULL),
	    DATA "hosts.crlf:1: 192.0.2.0/24", "... a network loses its CR");
	is_int(hostlist_match_addr(hl, NULL, "a.example.com"), 1,
	    "... a domain loses its CR");
	hostlist_free(hl);
	buf_free(&err);
}

/* check_other_family - a Unix socket client has no address */
static void
check_other_family(void)
{
	struct hostlist *hl = hostlist_new();
	struct sockaddr sa;

	hostlist_load(hl, "0.0.0.0/0, ::/0, localhost", NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_family = AF_UNIX;
	is_int(hostlist_match(hl, &sa, NULL), 0,
	    "an AF_UNIX client matches no network");
	is_int(hostlist_match(hl, &sa, "localhost"), 1,
	    "... but may match by name");
	hostlist_free(hl);
}

int
main(void)
{
	check_file();
	check_refile();
	check_inline();
	check_has_all();
	test_host_bits();
	check_bad();
	check_crlf();
	check_other_family();
	return done_testing();
}
