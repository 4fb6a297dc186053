/*
 * NAME
 *	hostlist - lists of hosts and networks (InternalHosts, PeerList, ...)
 * SYNOPSIS
 *	#include "hostlist.h"
 * DESCRIPTION
 *	Entries are parsed once, when added: addresses and networks into
 *	binary form (IPv4-mapped IPv6 entries become IPv4), names into
 *	lower case without a trailing dot.  Each entry keeps its text and
 *	where it came from ("file:line" or "inline") for hostlist_why().
 *
 *	A match decides in two independent parts, as OpenDKIM's
 *	dkimf_checkhost() and dkimf_checkip() do, and the client matches
 *	when either part matches:
 *	    name	the client's name, then each parent domain with its
 *			leading dot (mail.example.com, .example.com, .com);
 *			at the first level where an entry applies, a negated
 *			entry wins over a plain one.  An exact name and a
 *			'*' pattern apply at the first level; ".example.com"
 *			and "*.example.com" apply at the ".example.com" level
 *			(so they do not match example.com itself).
 *	    address	the longest matching prefix decides; at the same
 *			length a negated entry wins.
 *	The list is read-only after loading and may be shared by threads.
 * DIAGNOSTICS
 *	hostlist_add() and hostlist_load() return -1 with err naming the
 *	entry (and its file and line) and why it was rejected.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dataset.h"
#include "hostlist.h"

#define HOSTLIST_NAME_MAX 255		/* longest host name (RFC 1035) */

enum hl_kind {
	HL_ADDR4,		/* IPv4 network: addr[0..3], plen 0..32 */
	HL_ADDR6,		/* IPv6 network: addr[0..15], plen 0..128 */
	HL_NAME,		/* exact host name */
	HL_SUFFIX,		/* ".example.com": any host under it */
	HL_GLOB,		/* host name pattern with '*' */
};

struct hl_entry {
	enum hl_kind	 kind;
	int		 neg;		/* entry started with '!' */
	unsigned char	 addr[16];	/* network, host bits zero */
	int		 plen;		/* prefix length */
	char		*name;		/* lower case, no trailing dot */
	char		*why;		/* "file:line: text" */
	int		 dead;		/* host bits set: never matches */
};

struct hostlist {
	struct hl_entry	*e;
	size_t		 n, cap;
	struct buf	 warnings;	/* "src: 'text': why\n" lines */
};

/* client - what is known about the connecting host */
struct client {
	int		 family;	/* AF_INET, AF_INET6, or 0: none */
	unsigned char	 addr[16];
	char		 name[HOSTLIST_NAME_MAX + 1];	/* "" if none */
};

/* hostlist_new - an empty list */
struct hostlist *
hostlist_new(void)
{
	return calloc(1, sizeof(struct hostlist));
}

/* hl_prefix - parse "/len" (or "" for a host); -1 on error */
static int
hl_prefix(const char *s, int max)
{
	int n = 0;

	if (*s == '\0')
		return max;
	if (*s++ != '/' || *s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (!isdigit((unsigned char)*s) || n > max)
			return -1;
		n = n * 10 + (*s - '0');
	}
	return n <= max ? n : -1;
}

/* hl_host_bits - 1 when addr has bits set past plen */
static int
hl_host_bits(const unsigned char *addr, int len, int plen)
{
	int i;

	for (i = plen; i < len * 8; i++)
		if (addr[i / 8] & (0x80 >> (i % 8)))
			return 1;
	return 0;
}

/* hl_unmap - turn an IPv4-mapped IPv6 address into IPv4, in place */
static int
hl_unmap(unsigned char *addr, int *plen)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0, 0xff, 0xff };

	if (memcmp(addr, mapped, 12) != 0 || (plen != NULL && *plen < 96))
		return 0;
	memmove(addr, addr + 12, 4);
	memset(addr + 4, 0, 12);
	if (plen != NULL)
		*plen -= 96;
	return 1;
}

/*
 * hl_parse_net - parse an address or network; -1 with err set.  A network
 * with host bits set after the prefix ("10.1.2.3/8") is accepted but marked
 * dead, with the warning in warn: OpenDKIM compares the masked client
 * address with the entry as written, so such an entry never matched there,
 * and an existing configuration keeps meaning what it meant.
 */
static int
hl_parse_net(struct hl_entry *e, const char *s, struct buf *err,
    struct buf *warn)
{
	char text[INET6_ADDRSTRLEN + 8];
	const char *slash, *close;
	size_t len;
	int v6, bytes;

	if (*s == '[') {
		if ((close = strchr(s, ']')) == NULL) {
			buf_puts(err, "missing ']'");
			return -1;
		}
		s++;
		len = (size_t)(close - s);
		slash = close + 1;
	} else {
		slash = s + strcspn(s, "/");
		len = (size_t)(slash - s);
	}
	if (len >= sizeof(text)) {
		buf_puts(err, "not a valid address");
		return -1;
	}
	memcpy(text, s, len);
	text[len] = '\0';
	v6 = strchr(text, ':') != NULL;
	if (inet_pton(v6 ? AF_INET6 : AF_INET, text, e->addr) != 1) {
		buf_printf(err, "not a valid IPv%d address", v6 ? 6 : 4);
		return -1;
	}
	bytes = v6 ? 16 : 4;
	if ((e->plen = hl_prefix(slash, bytes * 8)) < 0) {
		buf_printf(err, "bad prefix length (expected /0 to /%d)",
		    bytes * 8);
		return -1;
	}
	if (hl_host_bits(e->addr, bytes, e->plen)) {
		char net[INET6_ADDRSTRLEN];
		int i;

		for (i = e->plen; i < bytes * 8; i++)
			e->addr[i / 8] &= (unsigned char)~(0x80 >> (i % 8));
		inet_ntop(v6 ? AF_INET6 : AF_INET, e->addr, net, sizeof(net));
		buf_printf(warn, "host bits set after the prefix: this entry "
		    "never matches (as in OpenDKIM); did you mean %s/%d?", net,
		    e->plen);
		e->dead = 1;
	}
	e->kind = v6 ? HL_ADDR6 : HL_ADDR4;
	if (v6 && hl_unmap(e->addr, &e->plen))
		e->kind = HL_ADDR4;
	return 0;
}

/* hl_parse_name - parse a host name, domain or pattern; -1 with err set */
static int
hl_parse_name(struct hl_entry *e, const char *s, struct buf *err)
{
	size_t len = strlen(s), i;
	char *p;

	if (len > 0 && s[len - 1] == '.')
		len--;
	if (len == 0 || len > HOSTLIST_NAME_MAX) {
		buf_puts(err, "not a host name, address or network");
		return -1;
	}
	for (i = 0; i < len; i++) {
		if (s[i] == '/') {
			buf_puts(err, "unexpected '/' (expected a host name, "
			    "address or network; a file needs file: or an "
			    "absolute path)");
			return -1;
		}
		if (!isalnum((unsigned char)s[i]) && strchr("-_.*", s[i]) ==
		    NULL) {
			if (isprint((unsigned char)s[i]))
				buf_printf(err, "unexpected '%c'", s[i]);
			else
				buf_printf(err, "unexpected byte 0x%02x",
				    (unsigned char)s[i]);
			buf_puts(err, " (expected a host name, address or "
			    "network)");
			return -1;
		}
		if (s[i] == '.' && i + 1 < len && s[i + 1] == '.') {
			buf_puts(err, "empty label in host name");
			return -1;
		}
	}
	if (s[0] == '*' && len > 2 && s[1] == '.' &&
	    memchr(s + 1, '*', len - 1) == NULL) {
		s++;			/* "*.example.com" is ".example.com" */
		len--;
	}
	if ((e->name = strndup(s, len)) == NULL) {
		buf_puts(err, "out of memory");
		return -1;
	}
	for (p = e->name; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	if (strchr(e->name, '*') != NULL)
		e->kind = HL_GLOB;
	else if (e->name[0] == '.')
		e->kind = HL_SUFFIX;
	else
		e->kind = HL_NAME;
	return 0;
}

/* hl_is_net - does the text look like an address or network? */
static int
hl_is_net(const char *s)
{
	int digits = 0;

	if (*s == '[' || strchr(s, ':') != NULL)
		return 1;
	for (; *s != '\0' && *s != '/'; s++) {
		if (isdigit((unsigned char)*s))
			digits++;
		else if (*s != '.')
			return 0;
	}
	return digits > 0;
}

/* hl_add - parse one entry and append it; src names where it came from */
static int
hl_add(struct hostlist *hl, const char *text, const char *src,
    struct buf *err)
{
	struct hl_entry e;
	struct buf why = BUF_INIT, warn = BUF_INIT;
	const char *s = text;
	size_t start = err->len;
	int rc;

	memset(&e, 0, sizeof(e));
	if (*s == '!') {
		e.neg = 1;
		s++;
	}
	rc = hl_is_net(s) ? hl_parse_net(&e, s, err, &warn) :
	    hl_parse_name(&e, s, err);
	if (warn.len > 0)
		buf_printf(&hl->warnings, "%s: '%s': %s\n", src, text,
		    warn.s);
	buf_free(&warn);
	if (rc < 0) {
		/* put "src: 'text': " in front of what the parser said */
		buf_printf(&why, "%s%s: '%s': %s", start > 0 ? "\n" : "",
		    src, text, err->s != NULL ? err->s + start : "");
		buf_truncate(err, start);
		buf_puts(err, buf_str(&why));
		buf_free(&why);
		free(e.name);
		return -1;
	}
	buf_printf(&why, "%s: %s", src, text);
	if (why.failed)
		goto oom;
	if (hl->n == hl->cap) {
		size_t cap = hl->cap ? hl->cap * 2 : 16;
		struct hl_entry *ne = reallocarray(hl->e, cap, sizeof(*ne));

		if (ne == NULL)
			goto oom;
		hl->e = ne;
		hl->cap = cap;
	}
	e.why = buf_detach(&why);
	hl->e[hl->n++] = e;
	return 0;
oom:
	buf_free(&why);
	free(e.name);
	buf_printf(err, "%s%s: out of memory", start > 0 ? "\n" : "", src);
	return -1;
}

/*
 * hl_refile_trap - OpenDKIM looks a client's name up as "!name" before
 * "name", to find exclusions; in a refile: list a pattern that begins
 * with '*' matches "!name" too, so it excludes the hosts it names instead
 * of including them.  An existing setup keeps meaning that: the entry
 * becomes a negation, and a warning says so.
 */
static void
hl_refile_trap(struct hostlist *hl, struct hl_entry *e, const char *text)
{
	if ((e->kind != HL_GLOB && e->kind != HL_SUFFIX) || e->neg ||
	    text[0] != '*')
		return;
	e->neg = 1;
	buf_printf(&hl->warnings, "%s: in a refile: list, a pattern that "
	    "begins with '*' excludes the hosts it matches, as in OpenDKIM "
	    "(which matches it against its own \"!name\" lookups); to "
	    "include them, list '%s' in a file: list instead\n", e->why,
	    e->kind == HL_SUFFIX ? e->name : "the domain with a leading dot");
}

/* hostlist_add - add one entry; -1 with err set when it does not parse */
int
hostlist_add(struct hostlist *hl, const char *entry, struct buf *err)
{
	struct buf mine = BUF_INIT, text = BUF_INIT;
	size_t len;
	int rc;

	if (hl == NULL || entry == NULL)
		return -1;
	while (isspace((unsigned char)*entry))
		entry++;
	len = strlen(entry);
	while (len > 0 && isspace((unsigned char)entry[len - 1]))
		len--;
	if (buf_append(&text, entry, len) < 0)
		rc = -1;
	else
		rc = hl_add(hl, text.s, "inline", err != NULL ? err : &mine);
	buf_free(&text);
	buf_free(&mine);
	return rc;
}

/* hostlist_load - add every entry named by a data set spec */
int
hostlist_load(struct hostlist *hl, const char *spec, struct buf *err)
{
	struct dataset *ds;
	struct buf src = BUF_INIT, mine = BUF_INIT;
	size_t i;
	int rc = 0;

	if (err == NULL)
		err = &mine;
	if (hl == NULL || dataset_open(spec, &ds, err) < 0) {
		buf_free(&mine);
		return -1;
	}
	for (i = 0; i < ds->n; i++) {
		buf_reset(&src);
		if (ds->path != NULL)
			buf_printf(&src, "%s:%d", ds->path,
			    ds->entries[i].line);
		else
			buf_puts(&src, "inline");
		if (src.failed) {
			buf_puts(err, "out of memory");
			rc = -1;
			break;
		}
		if (hl_add(hl, ds->entries[i].key, src.s, err) < 0)
			rc = -1;
		else if (ds->kind == DATASET_REFILE)
			hl_refile_trap(hl, &hl->e[hl->n - 1],
			    ds->entries[i].key);
	}
	buf_free(&src);
	buf_free(&mine);
	dataset_free(ds);
	return rc;
}

/* hl_net_match - does a network entry contain the address? */
static int
hl_net_match(const struct hl_entry *e, const unsigned char *addr)
{
	int full = e->plen / 8, rest = e->plen % 8;

	if (memcmp(e->addr, addr, (size_t)full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((e->addr[full] ^ addr[full]) & (0xff00 >> rest) & 0xff) == 0;
}

/* hl_decide_addr - the entry deciding for an address, or NULL */
static const struct hl_entry *
hl_decide_addr(const struct hostlist *hl, const struct client *c)
{
	const struct hl_entry *best = NULL, *e;
	enum hl_kind kind = c->family == AF_INET ? HL_ADDR4 : HL_ADDR6;
	size_t i;

	if (c->family == 0)
		return NULL;
	for (i = 0; i < hl->n; i++) {
		e = &hl->e[i];
		if (e->kind != kind || e->dead || !hl_net_match(e, c->addr))
			continue;
		if (best == NULL || e->plen > best->plen ||
		    (e->plen == best->plen && e->neg && !best->neg))
			best = e;
	}
	return best;
}

/* hl_name_level - does an entry apply to the name at this level? */
static int
hl_name_level(const struct hl_entry *e, const char *cand, int level)
{
	switch (e->kind) {
	case HL_NAME:
		return level == 0 && strcmp(e->name, cand) == 0;
	case HL_GLOB:
		return level == 0 && dataset_match(e->name, cand);
	case HL_SUFFIX:
		return level > 0 && strcmp(e->name, cand) == 0;
	default:
		return 0;
	}
}

/* hl_decide_name - the entry deciding for a host name, or NULL */
static const struct hl_entry *
hl_decide_name(const struct hostlist *hl, const struct client *c)
{
	const struct hl_entry *pos;
	const char *cand;
	size_t i;
	int level;

	if (c->name[0] == '\0')
		return NULL;
	for (cand = c->name, level = 0; cand != NULL;
	    cand = strchr(cand + 1, '.'), level++) {
		pos = NULL;
		for (i = 0; i < hl->n; i++) {
			if (!hl_name_level(&hl->e[i], cand, level))
				continue;
			if (hl->e[i].neg)
				return &hl->e[i];
			if (pos == NULL)
				pos = &hl->e[i];
		}
		if (pos != NULL)
			return pos;
	}
	return NULL;
}

/* hl_client_addr - parse an address text ("[...]", "IPv6:" allowed) */
static int
hl_client_addr(struct client *c, const char *s)
{
	char text[INET6_ADDRSTRLEN + 8];
	size_t len = strlen(s);

	if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
		s++;
		len -= 2;
	}
	if (len > 5 && strncasecmp(s, "IPv6:", 5) == 0) {
		s += 5;
		len -= 5;
	}
	if (len >= sizeof(text))
		return -1;
	memcpy(text, s, len);
	text[len] = '\0';
	if (inet_pton(AF_INET, text, c->addr) == 1)
		c->family = AF_INET;
	else if (inet_pton(AF_INET6, text, c->addr) == 1)
		c->family = hl_unmap(c->addr, NULL) ? AF_INET : AF_INET6;
	else
		return -1;
	return 0;
}

/* hl_client - normalise what the MTA told us about the client */
static void
hl_client(struct client *c, const struct sockaddr *sa, const char *addr,
    const char *hostname)
{
	size_t len, i;

	memset(c, 0, sizeof(*c));
	if (sa != NULL && sa->sa_family == AF_INET) {
		memcpy(c->addr, &((const struct sockaddr_in *)(const void *)
		    sa)->sin_addr, 4);
		c->family = AF_INET;
	} else if (sa != NULL && sa->sa_family == AF_INET6) {
		memcpy(c->addr, &((const struct sockaddr_in6 *)(const void *)
		    sa)->sin6_addr, 16);
		c->family = hl_unmap(c->addr, NULL) ? AF_INET : AF_INET6;
	} else if (addr != NULL && hl_client_addr(c, addr) < 0)
		memset(c, 0, sizeof(*c));
	if (hostname == NULL || hostname[0] == '[') {
		/* no name, or an address literal: only addresses match */
		if (c->family == 0 && hostname != NULL &&
		    hl_client_addr(c, hostname) < 0)
			memset(c, 0, sizeof(*c));
		return;
	}
	len = strlen(hostname);
	if (len > 0 && hostname[len - 1] == '.')
		len--;
	if (len > HOSTLIST_NAME_MAX)
		return;
	for (i = 0; i < len; i++)
		c->name[i] = (char)tolower((unsigned char)hostname[i]);
	c->name[len] = '\0';
}

/* hl_decide - the deciding entry and the verdict */
static const struct hl_entry *
hl_decide(const struct hostlist *hl, const struct sockaddr *sa,
    const char *addr, const char *hostname, int *matched)
{
	const struct hl_entry *byname, *byaddr;
	struct client c;

	*matched = 0;
	if (hl == NULL)
		return NULL;
	hl_client(&c, sa, addr, hostname);
	byname = hl_decide_name(hl, &c);
	byaddr = hl_decide_addr(hl, &c);
	if (byname != NULL && !byname->neg) {
		*matched = 1;
		return byname;
	}
	if (byaddr != NULL && !byaddr->neg) {
		*matched = 1;
		return byaddr;
	}
	return byname != NULL ? byname : byaddr;
}

/* hostlist_match - 1 when the client matches; sa or hostname may be NULL */
int
hostlist_match(const struct hostlist *hl, const struct sockaddr *sa,
    const char *hostname)
{
	int matched;

	(void)hl_decide(hl, sa, NULL, hostname, &matched);
	return matched;
}

/* hostlist_match_addr - same, with the address as text */
int
hostlist_match_addr(const struct hostlist *hl, const char *addr,
    const char *hostname)
{
	int matched;

	(void)hl_decide(hl, NULL, addr, hostname, &matched);
	return matched;
}

/* hostlist_why - the entry that decided, as "file:line: text", or NULL */
const char *
hostlist_why(const struct hostlist *hl, const struct sockaddr *sa,
    const char *hostname, int *matched)
{
	const struct hl_entry *e;
	int m;

	e = hl_decide(hl, sa, NULL, hostname, &m);
	if (matched != NULL)
		*matched = m;
	return e != NULL ? e->why : NULL;
}

/* hostlist_why_addr - same, with the address as text */
const char *
hostlist_why_addr(const struct hostlist *hl, const char *addr,
    const char *hostname, int *matched)
{
	const struct hl_entry *e;
	int m;

	e = hl_decide(hl, NULL, addr, hostname, &m);
	if (matched != NULL)
		*matched = m;
	return e != NULL ? e->why : NULL;
}

/* hostlist_has_all - 1 when 0.0.0.0/0 or ::/0 is listed, not negated */
int
hostlist_has_all(const struct hostlist *hl)
{
	int pos[2] = { 0, 0 }, neg[2] = { 0, 0 };
	size_t i;
	int f;

	if (hl == NULL)
		return 0;
	for (i = 0; i < hl->n; i++) {
		if ((hl->e[i].kind != HL_ADDR4 && hl->e[i].kind != HL_ADDR6) ||
		    hl->e[i].plen != 0 || hl->e[i].dead)
			continue;
		f = hl->e[i].kind == HL_ADDR6;
		if (hl->e[i].neg)
			neg[f] = 1;
		else
			pos[f] = 1;
	}
	return (pos[0] && !neg[0]) || (pos[1] && !neg[1]);
}

/* hostlist_count - number of entries */
size_t
hostlist_count(const struct hostlist *hl)
{
	return hl != NULL ? hl->n : 0;
}

/* hostlist_free - release the list */
void
hostlist_free(struct hostlist *hl)
{
	size_t i;

	if (hl == NULL)
		return;
	for (i = 0; i < hl->n; i++) {
		free(hl->e[i].name);
		free(hl->e[i].why);
	}
	free(hl->e);
	buf_free(&hl->warnings);
	free(hl);
}

/* hostlist_warnings - entries accepted with a warning, one per line */
const char *
hostlist_warnings(const struct hostlist *hl)
{
	return buf_str(&hl->warnings);
}
