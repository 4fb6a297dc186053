/*
 * dns_backend.h - what a DNS backend gives the resolver, and the helpers
 * it may use
 *
 * The resolver of dns.h keeps the cache and the coalescing of identical
 * queries in flight; a backend answers the queries that get past them.
 * dns.c holds the system backend (queries to name servers); the tests'
 * zone-file backend (t/dns_zone.c) is linked into tests, tools and
 * fuzzers only, so the daemons do not carry it.
 *
 * A backend's lookup() fills a struct dns_lookup: a status, for DNS_OK
 * an answer (from dns_answer_new(), given to the resolver), and for
 * NXDOMAIN and NODATA the negative TTL.  It is called from any thread at
 * once, must keep to the limit (which may be NULL) and return
 * DNS_TIMEOUT or DNS_CANCELLED when the limit cuts it short.
 */
#ifndef COMMON_DNS_BACKEND_H
#define COMMON_DNS_BACKEND_H

#include <ldns/ldns.h>

#include "buf.h"
#include "dns.h"

#define DNS_CNAME_MAX	8	/* CNAME links followed */
#define DNS_NEG_TTL	60	/* negative TTL without an SOA */

struct dns_lookup {
	enum dns_status	 status;
	struct dns_answer *ans;		/* DNS_OK only */
	uint32_t	 neg_ttl;	/* NXDOMAIN/NODATA */
};

struct dns_backend {
	const char	*name;
	/* lookup - (name, type); key is name in lower case without a
	 * trailing dot, name as the caller wrote it (valid) */
	void		(*lookup)(void *self, const char *name,
			    const char *key, uint16_t type,
			    const struct dns_limit *, struct dns_lookup *);
	void		(*free)(void *self);
};

/* dns_new_backend - a resolver on be (self is taken over: be->free()
 * releases it with the resolver, or at once when this fails) */
struct dns_resolver *dns_new_backend(const struct dns_backend *be,
	    void *self, const struct dns_opts *, struct buf *err);
/* dns_backend_self - self of r when r runs on be, else NULL */
void	*dns_backend_self(struct dns_resolver *r, const struct dns_backend *be);

/* dns_answer_new - an empty DNS_OK answer (NULL: out of memory) */
struct dns_answer *dns_answer_new(void);
/* dns_answer_push - append rr in answer form (records of types that
 * dns.h does not know are skipped); DNS_NOMEM on failure */
enum dns_status dns_answer_push(struct dns_answer *, const ldns_rr *rr);
/* dns_soa_neg_ttl - negative TTL of an SOA (RFC 2308): min(TTL, MINIMUM) */
uint32_t dns_soa_neg_ttl(const ldns_rr *soa);
/* dns_dname_text - a dname's labels joined by dots (lower-cased when
 * lower is set), malloc()ed; NULL when a label holds '.' or NUL */
char	*dns_dname_text(const ldns_rdf *, int lower);
/* dns_name_key - lower-case copy of a valid name without trailing dot */
char	*dns_name_key(const char *name);

#endif
