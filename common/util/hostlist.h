/*
 * hostlist.h - lists of hosts and networks (InternalHosts, PeerList, ...)
 *
 * Entries, from a data set spec (file:, refile:, csl:, a bare path, or an
 * inline comma list; the key of each data set line is the entry, a value
 * after it is ignored) or added one by one:
 *	192.0.2.1  2001:db8::1		one address (IPv4 or IPv6, inline too)
 *	192.0.2.0/24  2001:db8::/32	a network in CIDR notation; host bits
 *					set after the prefix are an error
 *	[2001:db8::1]  [192.0.2.0]/24	an address or network in brackets
 *	::ffff:192.0.2.0/120		IPv4-mapped: stored as 192.0.2.0/24
 *	mail.example.com		a host name, exactly
 *	.example.com  *.example.com	any host under example.com (not
 *					example.com itself)
 *	mail*.example.com  *		a pattern: '*' matches any run of
 *					characters (in any data set kind)
 *	!entry				negation: exclude what entry matches
 * Names compare without case; a trailing dot is ignored.
 *
 * Matching follows OpenDKIM (dkimf_checkhost() and dkimf_checkip()): the
 * client matches when its name matches or its address matches, each
 * decided on its own:
 *   name:    the name itself, then each parent domain (".example.com",
 *	      ".com"); at the first of these levels that some entry applies
 *	      to, a negated entry wins, else the plain one matches.  Exact
 *	      names and patterns apply at the first level.
 *   address: the longest matching prefix decides; at the same prefix
 *	      length a negated entry wins.
 * So "!mail.example.com" does not veto a match by address, as in OpenDKIM.
 * IPv4-mapped IPv6 clients (::ffff:192.0.2.1) are matched as IPv4.  A NULL
 * host name, or one in brackets ("[192.0.2.1]", "[IPv6:2001:db8::1]", as
 * MTAs pass when reverse DNS failed), matches by address only; when sa is
 * NULL the bracketed address is used as the client address.
 *
 * Differences from OpenDKIM, on purpose: addresses are compared in binary,
 * so any IPv6 spelling works (OpenDKIM needs inet_ntop's form).
 *
 * Kept from OpenDKIM, with a warning (hostlist_warnings()): "10.1.2.3/8"
 * never matches; and in a list loaded from refile:, a name pattern that
 * begins with '*' ("*.example.com") is a negation, because OpenDKIM also
 * matches it against the "!name" lookups it makes to find exclusions.
 *
 * Memory: the list owns all its memory; strings returned by hostlist_why()
 * stay valid until hostlist_free().  A loaded list is read-only and may be
 * shared by threads.
 */
#ifndef COMMON_HOSTLIST_H
#define COMMON_HOSTLIST_H

#include <stddef.h>
#include <sys/socket.h>

#include "buf.h"

struct hostlist;

/* hostlist_new - an empty list */
struct hostlist *hostlist_new(void);
/* hostlist_add - add one entry; -1 with err ("inline: 'text': why") */
int	hostlist_add(struct hostlist *, const char *entry, struct buf *err);
/* hostlist_load - add every entry of a data set; -1 with one err line
 * per bad entry ("FILE:LINE: 'text': why"); good entries are kept */
int	hostlist_load(struct hostlist *, const char *spec, struct buf *err);
/* hostlist_match - 1 when the client matches; sa or hostname may be NULL */
int	hostlist_match(const struct hostlist *, const struct sockaddr *sa,
	    const char *hostname);
/* hostlist_match_addr - same, with the address as text */
int	hostlist_match_addr(const struct hostlist *, const char *addr,
	    const char *hostname);
/*
 * hostlist_why - the entry that decided, "FILE:LINE: text" (or "inline:
 * text"), or NULL when no entry applies; *matched (if not NULL) gets what
 * hostlist_match() would return.  When the client matched, the matching
 * entry; when not, the negated entry that excluded it, if any.
 */
const char *hostlist_why(const struct hostlist *, const struct sockaddr *sa,
	    const char *hostname, int *matched);
/* hostlist_why_addr - same, with the address as text */
const char *hostlist_why_addr(const struct hostlist *, const char *addr,
	    const char *hostname, int *matched);
/* hostlist_count - number of entries */
size_t	hostlist_count(const struct hostlist *);
/* hostlist_has_all - 1 when 0.0.0.0/0 or ::/0 is listed, not negated */
int	hostlist_has_all(const struct hostlist *);
/* hostlist_warnings - "SRC: 'entry': why" lines for entries accepted
 * with a warning (e.g. "10.1.2.3/8", which never matches); "" if none */
const char *hostlist_warnings(const struct hostlist *);
void	hostlist_free(struct hostlist *);

#endif
