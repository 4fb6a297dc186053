/*
 * dns.h - DNS lookups with a bounded cache
 *
 * One resolver object is shared by all threads.  dns_new_system() sends
 * real queries to the servers of /etc/resolv.conf or to a given list.
 * Other backends plug in through dns_backend.h (the tests' zone-file
 * backend, t/dns_zone.h); all go through the same cache, the same
 * coalescing of identical queries in flight, and the same answer format.
 *
 * A query returns a status and, when it is DNS_OK, an answer that the
 * caller owns (dns_answer_free()).  Names are compared without case; a
 * trailing dot is optional; a name is taken byte for byte (no backslash
 * escapes), so any octet but '.' may appear in a label.  CNAMEs are
 * followed (the zone backend does it itself, up to 8 links) and the
 * answer holds only the records of the type asked for (CNAMEs only when
 * DNS_T_CNAME was asked).  Domain names in answers are given the same
 * way: labels byte for byte, joined by dots, no trailing dot.
 *
 * The system backend sets AD in its queries (RFC 6840 5.7), not DO, and
 * reports the AD bit of the reply in answer->secure: trust it only when
 * the path to a validating resolver is trusted (e.g. on 127.0.0.1).
 * It asks over TCP when a reply is truncated.
 *
 * A caller may bound its queries with a struct dns_limit: a deadline
 * (each query waits at most until then, whatever timeout_ms says) and a
 * stop condition polled while waiting (e.g. the MTA went away).  Once
 * the limit is reached no query is sent any more.
 * The options and search list of resolv.conf are not used; names are
 * always absolute.
 */
#ifndef COMMON_DNS_H
#define COMMON_DNS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"

enum dns_status {
	DNS_OK = 0,		/* answer has at least one record */
	DNS_NXDOMAIN,		/* the name does not exist */
	DNS_NODATA,		/* the name exists, no record of the type */
	DNS_TEMPFAIL,		/* SERVFAIL, REFUSED, network error */
	DNS_TIMEOUT,		/* no answer in time */
	DNS_BADNAME,		/* the name is not a valid domain name */
	DNS_NOMEM,
	DNS_UNREACHABLE,	/* a server refused the connection or was
				   unreachable (e.g. no TCP after TC), and
				   none answered */
	DNS_CANCELLED,		/* the caller's stop condition said so */
};

enum dns_type {
	DNS_T_A = 1,
	DNS_T_CNAME = 5,
	DNS_T_PTR = 12,
	DNS_T_MX = 15,
	DNS_T_TXT = 16,
	DNS_T_AAAA = 28,
	DNS_T_SPF = 99,
	DNS_T_ANY = 255,	/* only for the test zone's placeholders */
};

struct dns_rr {
	enum dns_type	 type;
	uint32_t	 ttl;
	/*
	 * TXT/SPF: text is the record's strings concatenated (NUL bytes
	 * inside are kept; text_len counts them), nstrings how many there
	 * were.  MX: pref and text (the exchange, no trailing dot).  PTR
	 * and CNAME: text (no trailing dot).  A/AAAA: addr (4 or 16 bytes).
	 * text is always NUL-terminated (NULL for A/AAAA).
	 */
	char		*text;
	size_t		 text_len;
	unsigned	 nstrings;
	unsigned	 pref;
	unsigned char	 addr[16];
};

struct dns_answer {
	enum dns_status	 status;
	int		 secure;	/* the AD bit was set (DNSSEC-validated) */
	uint32_t	 ttl;		/* smallest TTL of the records (and of
					   the CNAMEs followed); from the
					   cache: what is left of it */
	size_t		 n;
	struct dns_rr	*rr;
};

struct dns_opts {
	const char	*nameservers;	/* "addr[:port]" or "[v6addr]:port",
					   comma/space separated; NULL for
					   /etc/resolv.conf */
	int		 timeout_ms;	/* per query, all tries and servers
					   (0: 5000) */
	size_t		 cache_max;	/* entries (0: no cache) */
	uint32_t	 neg_ttl_max;	/* cap on negative caching (0: 300 s) */
};

struct dns_resolver;

/*
 * dns_limit - what bounds a caller's queries (e.g. one message's SPF
 * checks): a deadline in dns_now_ms() time (0: none) and a stop
 * condition, polled at least every DNS_POLL_MS while a query waits
 * (NULL: none).  The resolver only reads it; stop(arg) is called from
 * the thread that queries.
 */
struct dns_limit {
	int64_t		 deadline_ms;
	int		(*stop)(void *arg);
	void		*arg;
};

#define DNS_POLL_MS	100	/* how often a waiting query polls stop() */

/* dns_now_ms - CLOCK_MONOTONIC in milliseconds */
int64_t	dns_now_ms(void);
/* dns_limit_init - a deadline ms from now (ms <= 0: none) and a stop
 * condition (may be NULL) */
void	dns_limit_init(struct dns_limit *, int ms, int (*stop)(void *),
	    void *arg);
/* dns_limit_check - DNS_OK while the limit allows more (also for NULL),
 * else DNS_CANCELLED or DNS_TIMEOUT */
enum dns_status dns_limit_check(const struct dns_limit *);

/* dns_new_system - ldns backend; NULL with err set on bad options */
struct dns_resolver *dns_new_system(const struct dns_opts *, struct buf *err);

/* dns_query - look up (name, type); *out is set only when DNS_OK */
enum dns_status dns_query(struct dns_resolver *, const char *name,
	    enum dns_type, struct dns_answer **out);
/* dns_query_limit - the same within a limit (may be NULL); when the
 * limit is reached first, DNS_TIMEOUT or DNS_CANCELLED */
enum dns_status dns_query_limit(struct dns_resolver *, const char *name,
	    enum dns_type, const struct dns_limit *, struct dns_answer **out);
void	dns_answer_free(struct dns_answer *);
/* dns_cache_flush - drop every cached answer (on reload) */
void	dns_cache_flush(struct dns_resolver *);
/* dns_cache_stats - entries held, hits and misses so far, and the
 * queries that waited for an identical one in flight */
struct dns_cache_stats {
	size_t		 entries;
	unsigned long	 hits, misses, shared;
};
void	dns_cache_stats(struct dns_resolver *, struct dns_cache_stats *);
void	dns_free(struct dns_resolver *);
const char *dns_strerror(enum dns_status);
/* dns_name_valid - 1 when name is a syntactically valid domain name */
int	dns_name_valid(const char *name);
/* dns_type_name - "A", "TXT"...; "TYPEnnn" is not produced: NULL when
 * the type is not one of enum dns_type */
const char *dns_type_name(enum dns_type);
/* dns_type_parse - the type named (any case), or -1 */
int	dns_type_parse(const char *);

/* dns_set_clock - for tests: the cache reads time (seconds, monotonic)
 * from now(arg) instead of CLOCK_MONOTONIC; call before any query */
void	dns_set_clock(struct dns_resolver *, time_t (*now)(void *), void *arg);
/* dns_set_observer - fn is told of every query the system backend sends
 * out (cache misses): the type's mnemonic, the outcome as one word (ok,
 * nxdomain, nodata, tempfail, timeout...) and the seconds it took; from
 * any thread.  NULL: nobody.  Process-wide. */
void	dns_set_observer(void (*fn)(const char *type, const char *outcome,
	    double seconds));

#endif
