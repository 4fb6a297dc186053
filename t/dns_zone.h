/*
 * dns_zone.h - a DNS backend answering from zone data in memory (tests)
 *
 * Linked into the tests, the test tools and the fuzzers, not into the
 * daemons.  The records come from master files (read with ldns, with
 * $ORIGIN and $TTL) and from dns_zone_add(); lookups follow CNAMEs (up
 * to 8 links), tell NXDOMAIN from NODATA (empty non-terminals exist) and
 * synthesise answers from wildcards as RFC 4592 describes for the
 * simple cases.  The resolver's cache and coalescing apply as for the
 * system backend.
 */
#ifndef T_DNS_ZONE_H
#define T_DNS_ZONE_H

#include "buf.h"
#include "dns.h"

/* dns_new_zone - zone backend, no cache; path is a master file or NULL */
struct dns_resolver *dns_new_zone(const char *path, struct buf *err);
/* dns_new_zone_opts - the same with a cache (only the cache_max and
 * neg_ttl_max options are used); opts may be NULL */
struct dns_resolver *dns_new_zone_opts(const char *path,
	    const struct dns_opts *, struct buf *err);
/* dns_zone_load - add the records of one more master file (0, or -1
 * with err set); adding flushes the cache */
int	dns_zone_load(struct dns_resolver *, const char *path, struct buf *err);
/*
 * dns_zone_add - add one record, rdata in master-file syntax:
 *	dns_zone_add(r, "example.com", DNS_T_TXT, "\"v=spf1 -all\"")
 * Special rdata: "TIMEOUT" makes lookups of (name, type) time out,
 * "SERVFAIL" makes them fail, "DELAY ms" makes them wait ms
 * milliseconds (within the caller's limit) before the answer; with
 * DNS_T_ANY a placeholder applies to every type of the name.  Names
 * inside rdata are absolute (trailing dot optional).  The record gets a
 * TTL of 300 s.  Returns 0, or -1 with err set.  Adding flushes the
 * cache.  The name may be a wildcard ("*.example.com").
 */
int	dns_zone_add(struct dns_resolver *, const char *name, enum dns_type,
	    const char *rdata, struct buf *err);
/* dns_zone_lookups - how many lookups reached the zone data */
unsigned long dns_zone_lookups(struct dns_resolver *);

#endif
