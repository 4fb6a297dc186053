/*
 * hostlist.h - lists of hosts and networks (InternalHosts, PeerList, ...)
 *
 * Entries, from a data set spec (file:, refile:, csl:, a bare path, or an
 * inline comma list) or added one by one:
 *	192.0.2.1  2001:db8::1		one address (IPv4 or IPv6, inline too)
 *	192.0.2.0/24  2001:db8::/32	a network in CIDR notation
 *	[2001:db8::1]			an address in brackets
 *	mail.example.com		a host name, exactly
 *	.example.com  *.example.com	any host under example.com
 *	!entry				negation: exclude what entry matches
 * The semantics are OpenDKIM's: the most specific matching entry decides
 * (a longer prefix beats a shorter one, a host name beats its parent
 * domains); between an entry and its negation at the same specificity the
 * negation wins.  IPv4-mapped IPv6 clients (::ffff:192.0.2.1) are matched
 * as IPv4.
 */
#ifndef COMMON_HOSTLIST_H
#define COMMON_HOSTLIST_H

#include <sys/socket.h>

#include "buf.h"

struct hostlist;

/* hostlist_new - an empty list */
struct hostlist *hostlist_new(void);
/* hostlist_add - add one entry; -1 with err set when it does not parse */
int	hostlist_add(struct hostlist *, const char *entry, struct buf *err);
/* hostlist_load - add every entry named by a data set spec */
int	hostlist_load(struct hostlist *, const char *spec, struct buf *err);
/* hostlist_match - 1 when the client matches; sa or hostname may be NULL */
int	hostlist_match(const struct hostlist *, const struct sockaddr *sa,
	    const char *hostname);
/* hostlist_match_addr - same, with the address as text */
int	hostlist_match_addr(const struct hostlist *, const char *addr,
	    const char *hostname);
/* hostlist_has_all - 1 when 0.0.0.0/0 or ::/0 is listed, not negated */
int	hostlist_has_all(const struct hostlist *);
void	hostlist_free(struct hostlist *);

#endif
