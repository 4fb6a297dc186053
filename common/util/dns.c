/*
 * NAME
 *	dns - DNS lookups with a bounded cache, on ldns or on zone data
 * SYNOPSIS
 *	#include "dns.h"
 * DESCRIPTION
 *	dns_new_system() resolves through ldns.  Each query builds its own
 *	ldns_resolver (ldns resolvers are not safe to share between
 *	threads) for one server at a time, so every server keeps its own
 *	port; the servers are tried in turn, twice, within the query's
 *	time budget.  Queries carry RD and AD (RFC 6840 5.7: a validating
 *	resolver then reports the AD bit, without the cost of DO) and
 *	EDNS with a 1232-byte buffer; a truncated answer is asked again
 *	of the same server over TCP, within the same budget.  Replies
 *	whose id or question do not match are dropped.
 *
 *	dns_new_zone() answers from records held in memory: a master file
 *	read with ldns (with $ORIGIN and $TTL) and records added with
 *	dns_zone_add().  It follows CNAMEs, tells NXDOMAIN from NODATA
 *	(empty non-terminals exist) and synthesises answers from wildcards
 *	as RFC 4592 describes for the simple cases.
 *
 *	Both backends share the cache: keyed by lower-cased name and type,
 *	at most cache_max entries (the least recently used goes first);
 *	answers live for their smallest TTL, NXDOMAIN and NODATA for the
 *	negative TTL of the SOA (RFC 2308) or 60 s, capped by neg_ttl_max.
 *	Failures are not cached.  The cache has its own mutex; the zone
 *	data a read-write lock.
 *
 *	dns_query() hands the caller a deep copy (dns_answer_free()).
 * DIAGNOSTICS
 *	Constructors return NULL with a message in err.  dns_query()
 *	returns a status; out of memory is DNS_NOMEM.
 * BUGS
 *	ldns waits for a TCP connection and then for the reply, each with
 *	the try's timeout, so a slow TCP try may take twice its share.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <ldns/ldns.h>

#include "dns.h"

#define DNS_CNAME_MAX	8	/* CNAME links followed */
#define DNS_NAME_MAX	253	/* octets of a name, without trailing dot */
#define DNS_LABEL_MAX	63
#define DNS_WIRE_MAX	255
#define DNS_ZONE_TTL	300	/* TTL of records without one */
#define DNS_NEG_TTL	60	/* negative TTL without an SOA */
#define DNS_NEG_TTL_MAX	300	/* default cap of negative caching */
#define DNS_TTL_MAX	86400	/* cap of positive caching (a day) */
#define DNS_TIMEOUT_MS	5000	/* default time budget of a query */
#define DNS_TRY_MIN_MS	100	/* shortest single try */
#define DNS_ROUNDS	2	/* passes over the server list */
#define DNS_EDNS_SIZE	1232	/* EDNS buffer size (DNS flag day 2020) */
#define DNS_NS_MAX	16	/* servers in a list */

enum dns_kind {
	DNS_KIND_ZONE,
	DNS_KIND_SYSTEM,
};

/* One record of zone data; special is DNS_TIMEOUT or DNS_TEMPFAIL for
 * the placeholders, DNS_OK for real records. */
struct zrec {
	char		*owner;		/* lower case, no trailing dot */
	uint16_t	 type;
	enum dns_status	 special;
	ldns_rr		*rr;		/* NULL for placeholders */
};

struct dns_server {
	ldns_rdf	*addr;		/* A or AAAA rdf */
	uint16_t	 port;
};

struct centry {
	struct centry	*hnext;		/* hash chain */
	struct centry	*prev, *next;	/* LRU list, most recent first */
	char		*name;
	uint16_t	 type;
	uint32_t	 hash;
	enum dns_status	 status;
	struct dns_answer *ans;		/* DNS_OK only */
	time_t		 expires;
};

struct cache {
	pthread_mutex_t	 mu;
	struct centry	**tab;
	size_t		 nb;		/* buckets, a power of two */
	size_t		 n, max;
	struct centry	 lru;		/* sentinel */
	uint32_t	 neg_max;
	unsigned long	 hits, misses;
};

struct dns_resolver {
	enum dns_kind	 kind;
	/* zone backend */
	pthread_rwlock_t zlock;
	struct zrec	*z;
	size_t		 zn, zcap;
	uint32_t	 zneg_ttl;
	/* system backend */
	struct dns_server ns[DNS_NS_MAX];
	size_t		 nns;
	int		 timeout_ms;
	/* both */
	struct cache	 cache;
	time_t		(*clock)(void *);
	void		*clock_arg;
};

/* The result of one backend lookup. */
struct lookup {
	enum dns_status	 status;
	struct dns_answer *ans;		/* DNS_OK only */
	uint32_t	 neg_ttl;	/* NXDOMAIN/NODATA */
};

static const struct {
	enum dns_type	 type;
	const char	*name;
} dns_types[] = {
	{ DNS_T_A, "A" },
	{ DNS_T_CNAME, "CNAME" },
	{ DNS_T_PTR, "PTR" },
	{ DNS_T_MX, "MX" },
	{ DNS_T_TXT, "TXT" },
	{ DNS_T_AAAA, "AAAA" },
	{ DNS_T_SPF, "SPF" },
};

/* dns_strerror - text of a status */
const char *
dns_strerror(enum dns_status s)
{
	switch (s) {
	case DNS_OK:		return "ok";
	case DNS_NXDOMAIN:	return "no such domain";
	case DNS_NODATA:	return "no record of that type";
	case DNS_TEMPFAIL:	return "temporary DNS failure";
	case DNS_TIMEOUT:	return "DNS timeout";
	case DNS_BADNAME:	return "invalid domain name";
	case DNS_NOMEM:		return "out of memory";
	}
	return "unknown DNS status";
}

/* dns_type_name - mnemonic of a type */
const char *
dns_type_name(enum dns_type t)
{
	size_t i;

	for (i = 0; i < sizeof(dns_types) / sizeof(dns_types[0]); i++)
		if (dns_types[i].type == t)
			return dns_types[i].name;
	return NULL;
}

/* dns_type_parse - type from its mnemonic */
int
dns_type_parse(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(dns_types) / sizeof(dns_types[0]); i++)
		if (strcasecmp(dns_types[i].name, s) == 0)
			return (int)dns_types[i].type;
	return -1;
}

/* dns_name_valid - labels of 1..63 octets, at most 253 in all */
int
dns_name_valid(const char *name)
{
	size_t len, i, label;

	if (name == NULL)
		return 0;
	len = strlen(name);
	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > DNS_NAME_MAX)
		return 0;
	label = 0;
	for (i = 0; i < len; i++) {
		if (name[i] == '.') {
			if (label == 0)
				return 0;
			label = 0;
		} else if (++label > DNS_LABEL_MAX)
			return 0;
	}
	return label > 0;
}

/* name_key - lower-case copy of a valid name without trailing dot */
static char *
name_key(const char *name)
{
	size_t len, i;
	char *k;

	len = strlen(name);
	if (len > 0 && name[len - 1] == '.')
		len--;
	if ((k = malloc(len + 1)) == NULL)
		return NULL;
	for (i = 0; i < len; i++)
		k[i] = (char)tolower((unsigned char)name[i]);
	k[len] = '\0';
	return k;
}

/* name_wire - a valid name as an ldns dname, byte for byte */
static ldns_rdf *
name_wire(const char *name)
{
	uint8_t wire[DNS_WIRE_MAX];
	size_t w, start, i, len;

	len = strlen(name);
	if (len > 0 && name[len - 1] == '.')
		len--;
	w = 0;
	start = 0;
	for (i = 0; i <= len; i++) {
		if (i < len && name[i] != '.')
			continue;
		wire[w++] = (uint8_t)(i - start);
		memcpy(wire + w, name + start, i - start);
		w += i - start;
		start = i + 1;
	}
	wire[w++] = 0;
	return ldns_dname_new_frm_data((uint16_t)w, wire);
}

/* dname_text - labels of a dname joined by dots; NULL when a label holds
 * a dot or a NUL (such a name cannot be given back to dns_query) */
static char *
dname_text(const ldns_rdf *d, int lower)
{
	const uint8_t *p;
	struct buf b = BUF_INIT;
	size_t size, pos, n, i;

	if (d == NULL || ldns_rdf_get_type(d) != LDNS_RDF_TYPE_DNAME)
		return NULL;
	p = ldns_rdf_data(d);
	size = ldns_rdf_size(d);
	buf_puts(&b, "");
	for (pos = 0; pos < size && p[pos] != 0; pos += n + 1) {
		n = p[pos];
		if (pos + 1 + n > size)
			goto fail;
		if (pos > 0)
			buf_putc(&b, '.');
		for (i = 0; i < n; i++) {
			if (p[pos + 1 + i] == '.' || p[pos + 1 + i] == '\0')
				goto fail;
			buf_putc(&b, lower ? tolower(p[pos + 1 + i]) :
			    p[pos + 1 + i]);
		}
	}
	if (b.failed)
		goto fail;
	return buf_detach(&b);
fail:
	buf_free(&b);
	return NULL;
}

/* dns_answer_free - release an answer and its records */
void
dns_answer_free(struct dns_answer *a)
{
	size_t i;

	if (a == NULL)
		return;
	for (i = 0; i < a->n; i++)
		free(a->rr[i].text);
	free(a->rr);
	free(a);
}

/* answer_new - an empty DNS_OK answer */
static struct dns_answer *
answer_new(void)
{
	struct dns_answer *a;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	a->status = DNS_OK;
	a->ttl = UINT32_MAX;
	return a;
}

/* answer_copy - deep copy, TTLs capped at left seconds */
static struct dns_answer *
answer_copy(const struct dns_answer *src, uint32_t left)
{
	struct dns_answer *a;
	size_t i;

	if ((a = answer_new()) == NULL)
		return NULL;
	*a = *src;
	a->n = 0;
	if ((a->rr = calloc(src->n ? src->n : 1, sizeof(*a->rr))) == NULL) {
		free(a);
		return NULL;
	}
	for (i = 0; i < src->n; i++) {
		a->rr[i] = src->rr[i];
		a->rr[i].text = NULL;
		if (src->rr[i].text != NULL) {
			a->rr[i].text = malloc(src->rr[i].text_len + 1);
			if (a->rr[i].text == NULL) {
				dns_answer_free(a);
				return NULL;
			}
			memcpy(a->rr[i].text, src->rr[i].text,
			    src->rr[i].text_len + 1);
		}
		if (a->rr[i].ttl > left)
			a->rr[i].ttl = left;
		a->n++;
	}
	if (a->ttl > left)
		a->ttl = left;
	return a;
}

/* rr_strings - TXT/SPF rdata: character-strings concatenated */
static int
rr_strings(const ldns_rr *rr, struct dns_rr *out)
{
	struct buf b = BUF_INIT;
	const uint8_t *p;
	size_t i;

	buf_puts(&b, "");
	for (i = 0; i < ldns_rr_rd_count(rr); i++) {
		p = ldns_rdf_data(ldns_rr_rdf(rr, i));
		if (ldns_rdf_size(ldns_rr_rdf(rr, i)) < 1 ||
		    (size_t)p[0] + 1 != ldns_rdf_size(ldns_rr_rdf(rr, i))) {
			buf_free(&b);
			return 0;
		}
		buf_append(&b, p + 1, p[0]);
	}
	if (b.failed) {
		buf_free(&b);
		return -1;
	}
	out->nstrings = (unsigned)ldns_rr_rd_count(rr);
	out->text_len = b.len;
	out->text = buf_detach(&b);
	return 1;
}

/* rr_convert - one ldns record in answer form: 1 done, 0 skip, -1 nomem */
static int
rr_convert(const ldns_rr *rr, struct dns_rr *out)
{
	const ldns_rdf *d;
	uint16_t type = (uint16_t)ldns_rr_get_type(rr);
	size_t want;

	memset(out, 0, sizeof(*out));
	out->type = (enum dns_type)type;
	out->ttl = ldns_rr_ttl(rr) < DNS_TTL_MAX ? ldns_rr_ttl(rr) :
	    DNS_TTL_MAX;
	switch (type) {
	case DNS_T_A:
	case DNS_T_AAAA:
		want = type == DNS_T_A ? 4 : 16;
		d = ldns_rr_rdf(rr, 0);
		if (d == NULL || ldns_rdf_size(d) != want)
			return 0;
		memcpy(out->addr, ldns_rdf_data(d), want);
		return 1;
	case DNS_T_MX:
		d = ldns_rr_rdf(rr, 0);
		if (ldns_rr_rd_count(rr) != 2 || ldns_rdf_size(d) != 2)
			return 0;
		out->pref = ldns_rdf2native_int16(d);
		d = ldns_rr_rdf(rr, 1);
		break;
	case DNS_T_PTR:
	case DNS_T_CNAME:
		if (ldns_rr_rd_count(rr) != 1)
			return 0;
		d = ldns_rr_rdf(rr, 0);
		break;
	case DNS_T_TXT:
	case DNS_T_SPF:
		return rr_strings(rr, out);
	default:
		return 0;
	}
	if ((out->text = dname_text(d, 0)) == NULL)
		return 0;
	out->text_len = strlen(out->text);
	return 1;
}

/* answer_push - append one record; DNS_NOMEM on failure */
static enum dns_status
answer_push(struct dns_answer *a, const ldns_rr *rr)
{
	struct dns_rr *n;
	int r;

	if ((n = realloc(a->rr, (a->n + 1) * sizeof(*n))) == NULL)
		return DNS_NOMEM;
	a->rr = n;
	if ((r = rr_convert(rr, &a->rr[a->n])) < 0)
		return DNS_NOMEM;
	if (r == 1) {
		if (a->ttl > a->rr[a->n].ttl)
			a->ttl = a->rr[a->n].ttl;
		a->n++;
	}
	return DNS_OK;
}

/* soa_neg_ttl - negative TTL from an SOA: min(TTL, MINIMUM) */
static uint32_t
soa_neg_ttl(const ldns_rr *soa)
{
	const ldns_rdf *min;
	uint32_t t;

	if (soa == NULL || ldns_rr_get_type(soa) != LDNS_RR_TYPE_SOA ||
	    (min = ldns_rr_rdf(soa, 6)) == NULL || ldns_rdf_size(min) != 4)
		return DNS_NEG_TTL;
	t = ldns_rdf2native_int32(min);
	return t < ldns_rr_ttl(soa) ? t : ldns_rr_ttl(soa);
}

/*
 * The cache.
 */

/* clock_mono - seconds of CLOCK_MONOTONIC */
static time_t
clock_mono(void *arg)
{
	struct timespec ts;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* cache_hash - FNV-1a of name and type */
static uint32_t
cache_hash(const char *name, uint16_t type)
{
	uint32_t h = 2166136261u;

	for (; *name != '\0'; name++)
		h = (h ^ (unsigned char)*name) * 16777619u;
	h = (h ^ (type & 0xff)) * 16777619u;
	return (h ^ (type >> 8)) * 16777619u;
}

/* cache_init - an empty cache of max entries (0: none) */
static int
cache_init(struct cache *c, size_t max, uint32_t neg_max)
{
	memset(c, 0, sizeof(*c));
	c->max = max;
	c->neg_max = neg_max ? neg_max : DNS_NEG_TTL_MAX;
	c->lru.next = c->lru.prev = &c->lru;
	if (pthread_mutex_init(&c->mu, NULL) != 0)
		return -1;
	if (max == 0)
		return 0;
	for (c->nb = 16; c->nb < max && c->nb < ((size_t)1 << 24); c->nb *= 2)
		;
	if ((c->tab = calloc(c->nb, sizeof(*c->tab))) == NULL)
		return -1;
	return 0;
}

/* cache_drop - take an entry out of its chain and the LRU list, free it */
static void
cache_drop(struct cache *c, struct centry *e)
{
	struct centry **pp;

	for (pp = &c->tab[e->hash & (c->nb - 1)]; *pp != e; pp = &(*pp)->hnext)
		;
	*pp = e->hnext;
	e->prev->next = e->next;
	e->next->prev = e->prev;
	c->n--;
	dns_answer_free(e->ans);
	free(e->name);
	free(e);
}

/* cache_clear - drop every entry; caller holds the lock */
static void
cache_clear(struct cache *c)
{
	while (c->lru.next != &c->lru)
		cache_drop(c, c->lru.next);
}

/* cache_get - a fresh entry as a lookup result; 0 on a miss */
static int
cache_get(struct dns_resolver *r, const char *key, uint16_t type,
    struct lookup *lk)
{
	struct cache *c = &r->cache;
	struct centry *e;
	uint32_t h;
	time_t now;
	int hit = 0;

	if (c->max == 0)
		return 0;
	h = cache_hash(key, type);
	now = r->clock(r->clock_arg);
	pthread_mutex_lock(&c->mu);
	for (e = c->tab[h & (c->nb - 1)]; e != NULL; e = e->hnext)
		if (e->hash == h && e->type == type && strcmp(e->name, key) == 0)
			break;
	if (e != NULL && e->expires <= now) {
		cache_drop(c, e);
		e = NULL;
	}
	if (e != NULL) {
		e->prev->next = e->next;
		e->next->prev = e->prev;
		e->next = c->lru.next;
		e->prev = &c->lru;
		c->lru.next->prev = e;
		c->lru.next = e;
		lk->status = e->status;
		lk->ans = NULL;
		hit = 1;
		c->hits++;
		if (e->ans != NULL &&
		    (lk->ans = answer_copy(e->ans,
		    (uint32_t)(e->expires - now))) == NULL)
			lk->status = DNS_NOMEM;
	} else
		c->misses++;
	pthread_mutex_unlock(&c->mu);
	return hit;
}

/* cache_put - remember a lookup result (copies it) */
static void
cache_put(struct dns_resolver *r, const char *key, uint16_t type,
    const struct lookup *lk)
{
	struct cache *c = &r->cache;
	struct centry *e, *old;
	uint32_t ttl, h;

	if (c->max == 0)
		return;
	if (lk->status == DNS_OK)
		ttl = lk->ans->ttl;
	else if (lk->status == DNS_NXDOMAIN || lk->status == DNS_NODATA)
		ttl = lk->neg_ttl < c->neg_max ? lk->neg_ttl : c->neg_max;
	else
		return;
	if (ttl == 0 || (e = calloc(1, sizeof(*e))) == NULL)
		return;
	h = cache_hash(key, type);
	e->hash = h;
	e->type = type;
	e->status = lk->status;
	e->expires = r->clock(r->clock_arg) + (time_t)ttl;
	if ((e->name = strdup(key)) == NULL || (lk->ans != NULL &&
	    (e->ans = answer_copy(lk->ans, ttl)) == NULL)) {
		free(e->name);
		free(e);
		return;
	}
	pthread_mutex_lock(&c->mu);
	for (old = c->tab[h & (c->nb - 1)]; old != NULL; old = old->hnext)
		if (old->hash == h && old->type == type &&
		    strcmp(old->name, key) == 0)
			break;
	if (old != NULL)
		cache_drop(c, old);
	while (c->n >= c->max)
		cache_drop(c, c->lru.prev);
	e->hnext = c->tab[h & (c->nb - 1)];
	c->tab[h & (c->nb - 1)] = e;
	e->next = c->lru.next;
	e->prev = &c->lru;
	c->lru.next->prev = e;
	c->lru.next = e;
	c->n++;
	pthread_mutex_unlock(&c->mu);
}

/* dns_cache_flush - drop every cached answer */
void
dns_cache_flush(struct dns_resolver *r)
{
	if (r == NULL || r->cache.max == 0)
		return;
	pthread_mutex_lock(&r->cache.mu);
	cache_clear(&r->cache);
	pthread_mutex_unlock(&r->cache.mu);
}

/* dns_cache_stats - entries, hits and misses */
void
dns_cache_stats(struct dns_resolver *r, struct dns_cache_stats *st)
{
	pthread_mutex_lock(&r->cache.mu);
	st->entries = r->cache.n;
	st->hits = r->cache.hits;
	st->misses = r->cache.misses;
	pthread_mutex_unlock(&r->cache.mu);
}

/* dns_set_clock - replace the cache's clock (tests) */
void
dns_set_clock(struct dns_resolver *r, time_t (*now)(void *), void *arg)
{
	r->clock = now ? now : clock_mono;
	r->clock_arg = arg;
}

/* resolver_new - common part of both constructors */
static struct dns_resolver *
resolver_new(enum dns_kind kind, const struct dns_opts *o, struct buf *err)
{
	struct dns_resolver *r;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		buf_puts(err, "out of memory");
		return NULL;
	}
	r->kind = kind;
	r->clock = clock_mono;
	if (pthread_rwlock_init(&r->zlock, NULL) != 0) {
		free(r);
		buf_puts(err, "cannot create lock");
		return NULL;
	}
	if (cache_init(&r->cache, o ? o->cache_max : 0,
	    o ? o->neg_ttl_max : 0) == -1) {
		pthread_rwlock_destroy(&r->zlock);
		free(r->cache.tab);
		free(r);
		buf_puts(err, "out of memory");
		return NULL;
	}
	r->timeout_ms = o && o->timeout_ms > 0 ? o->timeout_ms : DNS_TIMEOUT_MS;
	r->zneg_ttl = DNS_NEG_TTL;
	return r;
}

/* dns_free - release a resolver and its cache */
void
dns_free(struct dns_resolver *r)
{
	size_t i;

	if (r == NULL)
		return;
	if (r->cache.max > 0)
		cache_clear(&r->cache);
	free(r->cache.tab);
	pthread_mutex_destroy(&r->cache.mu);
	for (i = 0; i < r->zn; i++) {
		free(r->z[i].owner);
		ldns_rr_free(r->z[i].rr);
	}
	free(r->z);
	pthread_rwlock_destroy(&r->zlock);
	for (i = 0; i < r->nns; i++)
		ldns_rdf_deep_free(r->ns[i].addr);
	free(r);
}

/*
 * The zone backend.
 */

/* zone_push - append one record (owner taken over, rr taken over) */
static int
zone_push(struct dns_resolver *r, char *owner, uint16_t type,
    enum dns_status special, ldns_rr *rr)
{
	struct zrec *z;
	size_t cap;

	if (r->zn == r->zcap) {
		cap = r->zcap ? r->zcap * 2 : 64;
		if ((z = realloc(r->z, cap * sizeof(*z))) == NULL)
			return -1;
		r->z = z;
		r->zcap = cap;
	}
	r->z[r->zn].owner = owner;
	r->z[r->zn].type = type;
	r->z[r->zn].special = special;
	r->z[r->zn].rr = rr;
	r->zn++;
	if (rr != NULL && type == LDNS_RR_TYPE_SOA)
		r->zneg_ttl = soa_neg_ttl(rr);
	return 0;
}

/* zone_push_rr - add a parsed record (taken over, freed on failure) */
static int
zone_push_rr(struct dns_resolver *r, ldns_rr *rr, struct buf *err)
{
	char *owner;

	if ((owner = dname_text(ldns_rr_owner(rr), 1)) == NULL) {
		ldns_rr_free(rr);
		buf_puts(err, "owner name holds a dot or NUL in a label");
		return -1;
	}
	if (zone_push(r, owner, (uint16_t)ldns_rr_get_type(rr), DNS_OK,
	    rr) == -1) {
		free(owner);
		ldns_rr_free(rr);
		buf_puts(err, "out of memory");
		return -1;
	}
	return 0;
}

/* zone_load - read a master file */
static int
zone_load(struct dns_resolver *r, const char *path, struct buf *err)
{
	ldns_zone *zone = NULL;
	ldns_rr_list *rrs;
	ldns_status st;
	FILE *fp;
	size_t i;
	int line = 0, rc = 0;

	if ((fp = fopen(path, "r")) == NULL) {
		char ebuf[128];

		buf_printf(err, "%s: %s", path, strerror_r(errno, ebuf,
		    sizeof(ebuf)));
		return -1;
	}
	st = ldns_zone_new_frm_fp_l(&zone, fp, NULL, DNS_ZONE_TTL,
	    LDNS_RR_CLASS_IN, &line);
	fclose(fp);
	if (st != LDNS_STATUS_OK) {
		buf_printf(err, "%s:%d: %s", path, line,
		    ldns_get_errorstr_by_id(st));
		return -1;
	}
	if (ldns_zone_soa(zone) != NULL) {
		if (zone_push_rr(r, ldns_rr_clone(ldns_zone_soa(zone)),
		    err) == -1)
			rc = -1;
	}
	rrs = ldns_zone_rrs(zone);
	for (i = 0; rc == 0 && i < ldns_rr_list_rr_count(rrs); i++)
		if (zone_push_rr(r, ldns_rr_clone(ldns_rr_list_rr(rrs, i)),
		    err) == -1)
			rc = -1;
	ldns_zone_deep_free(zone);
	return rc;
}

/* dns_new_zone_opts - zone backend with a cache */
struct dns_resolver *
dns_new_zone_opts(const char *path, const struct dns_opts *o, struct buf *err)
{
	struct dns_resolver *r;

	if ((r = resolver_new(DNS_KIND_ZONE, o, err)) == NULL)
		return NULL;
	if (path != NULL && zone_load(r, path, err) == -1) {
		dns_free(r);
		return NULL;
	}
	return r;
}

/* dns_new_zone - zone backend without a cache */
struct dns_resolver *
dns_new_zone(const char *path, struct buf *err)
{
	return dns_new_zone_opts(path, NULL, err);
}

/* dns_zone_load - add a master file to the zone data */
int
dns_zone_load(struct dns_resolver *r, const char *path, struct buf *err)
{
	int rc;

	if (r->kind != DNS_KIND_ZONE) {
		buf_printf(err, "%s: not a zone resolver", path);
		return -1;
	}
	pthread_rwlock_wrlock(&r->zlock);
	rc = zone_load(r, path, err);
	pthread_rwlock_unlock(&r->zlock);
	dns_cache_flush(r);
	return rc;
}

/* dns_zone_add - add one record in master-file syntax, or a placeholder */
int
dns_zone_add(struct dns_resolver *r, const char *name, enum dns_type type,
    const char *rdata, struct buf *err)
{
	struct buf line = BUF_INIT;
	enum dns_status special = DNS_OK;
	ldns_rr *rr = NULL;
	ldns_status st;
	char *tname, *owner;
	int rc;

	if (r->kind != DNS_KIND_ZONE || !dns_name_valid(name)) {
		buf_printf(err, "%s: not a zone or not a valid name", name);
		return -1;
	}
	if (strcmp(rdata, "TIMEOUT") == 0)
		special = DNS_TIMEOUT;
	else if (strcmp(rdata, "SERVFAIL") == 0)
		special = DNS_TEMPFAIL;
	if (special != DNS_OK) {
		if ((owner = name_key(name)) == NULL) {
			buf_puts(err, "out of memory");
			return -1;
		}
		pthread_rwlock_wrlock(&r->zlock);
		rc = zone_push(r, owner, (uint16_t)type, special, NULL);
		pthread_rwlock_unlock(&r->zlock);
		if (rc == -1) {
			free(owner);
			buf_puts(err, "out of memory");
		}
		dns_cache_flush(r);
		return rc;
	}
	tname = ldns_rr_type2str((ldns_rr_type)type);
	buf_printf(&line, "%s%s %d IN %s %s", name,
	    name[strlen(name) - 1] == '.' ? "" : ".", DNS_ZONE_TTL,
	    tname ? tname : "?", rdata);
	free(tname);
	if (line.failed) {
		buf_free(&line);
		buf_puts(err, "out of memory");
		return -1;
	}
	st = ldns_rr_new_frm_str(&rr, line.s, DNS_ZONE_TTL, NULL, NULL);
	if (st != LDNS_STATUS_OK) {
		buf_printf(err, "%s: %s", line.s, ldns_get_errorstr_by_id(st));
		buf_free(&line);
		return -1;
	}
	buf_free(&line);
	pthread_rwlock_wrlock(&r->zlock);
	rc = zone_push_rr(r, rr, err);
	pthread_rwlock_unlock(&r->zlock);
	dns_cache_flush(r);
	return rc;
}

/* zone_has - 1 when some record is owned by name */
static int
zone_has(const struct dns_resolver *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->zn; i++)
		if (strcmp(r->z[i].owner, name) == 0)
			return 1;
	return 0;
}

/* zone_exists - name owns records or is an empty non-terminal */
static int
zone_exists(const struct dns_resolver *r, const char *name)
{
	size_t i, n = strlen(name), o;

	for (i = 0; i < r->zn; i++) {
		o = strlen(r->z[i].owner);
		if (o == n && memcmp(r->z[i].owner, name, n) == 0)
			return 1;
		if (o > n && r->z[i].owner[o - n - 1] == '.' &&
		    memcmp(r->z[i].owner + o - n, name, n) == 0)
			return 1;
	}
	return 0;
}

/*
 * zone_owner - the owner whose records answer for name: name itself when
 * it exists, else the wildcard at the closest encloser (RFC 4592 3.3.1);
 * NULL for NXDOMAIN.  *wild receives a wildcard name to free.
 */
static const char *
zone_owner(const struct dns_resolver *r, const char *name, char **wild)
{
	const char *p;
	char *w;

	*wild = NULL;
	if (zone_exists(r, name))
		return name;
	for (p = strchr(name, '.'); p != NULL; p = strchr(p + 1, '.')) {
		if (asprintf(&w, "*%s", p) == -1)
			return NULL;
		if (zone_has(r, w)) {
			*wild = w;
			return w;
		}
		free(w);
		if (zone_exists(r, p + 1))
			return NULL;
	}
	return NULL;
}

/* zone_step - records of (owner, type): status, CNAME target in *next */
static enum dns_status
zone_step(const struct dns_resolver *r, const char *owner, uint16_t type,
    struct dns_answer *a, const ldns_rr **next)
{
	size_t i;
	enum dns_status s;

	*next = NULL;
	for (i = 0; i < r->zn; i++)
		if (r->z[i].special != DNS_OK && (r->z[i].type == type ||
		    r->z[i].type == DNS_T_ANY) &&
		    strcmp(r->z[i].owner, owner) == 0)
			return r->z[i].special;
	for (i = 0; i < r->zn; i++) {
		if (r->z[i].rr == NULL || strcmp(r->z[i].owner, owner) != 0)
			continue;
		if (r->z[i].type == type) {
			if ((s = answer_push(a, r->z[i].rr)) != DNS_OK)
				return s;
		} else if (r->z[i].type == DNS_T_CNAME)
			*next = r->z[i].rr;
	}
	if (a->n > 0) {
		*next = NULL;
		return DNS_OK;
	}
	return DNS_NODATA;
}

/* zone_lookup - answer (name, type) from the zone data */
static void
zone_lookup(struct dns_resolver *r, const char *key, uint16_t type,
    struct lookup *lk)
{
	const ldns_rr *cname;
	const char *owner;
	char *cur, *wild, *target;
	int links;

	if ((lk->ans = answer_new()) == NULL || (cur = strdup(key)) == NULL) {
		lk->status = DNS_NOMEM;
		return;
	}
	pthread_rwlock_rdlock(&r->zlock);
	lk->neg_ttl = r->zneg_ttl;
	for (links = 0;; links++) {
		if ((owner = zone_owner(r, cur, &wild)) == NULL) {
			lk->status = DNS_NXDOMAIN;
			break;
		}
		lk->status = zone_step(r, owner, type, lk->ans, &cname);
		free(wild);
		if (cname == NULL)
			break;
		if (links == DNS_CNAME_MAX) {
			lk->status = DNS_TEMPFAIL;	/* loop or long chain */
			break;
		}
		if (lk->ans->ttl > ldns_rr_ttl(cname))
			lk->ans->ttl = ldns_rr_ttl(cname);
		if ((target = dname_text(ldns_rr_rdf(cname, 0), 1)) == NULL) {
			lk->status = DNS_NXDOMAIN;
			break;
		}
		free(cur);
		cur = target;
	}
	pthread_rwlock_unlock(&r->zlock);
	free(cur);
	if (lk->status != DNS_OK) {
		dns_answer_free(lk->ans);
		lk->ans = NULL;
	}
}

/*
 * The system backend.
 */

/* ns_add - one server "addr", "addr:port", "[v6]", "[v6]:port", or
 * OpenDKIM's "addr@port" */
static int
ns_add(struct dns_resolver *r, const char *spec, size_t len, struct buf *err)
{
	char host[INET6_ADDRSTRLEN + 8], portstr[8];
	const char *colon, *hp = spec;
	unsigned char tmp[16];
	size_t hlen = len;
	long port = 53;
	char *end;

	portstr[0] = '\0';
	if ((colon = memchr(spec, '@', len)) != NULL) {
		hlen = (size_t)(colon - spec);
		if ((size_t)(spec + len - colon - 1) >= sizeof(portstr) ||
		    colon + 1 == spec + len)
			goto bad;
		memcpy(portstr, colon + 1, (size_t)(spec + len - colon - 1));
		portstr[spec + len - colon - 1] = '\0';
	} else if (len > 0 && spec[0] == '[') {
		if ((colon = memchr(spec, ']', len)) == NULL)
			goto bad;
		hp = spec + 1;
		hlen = (size_t)(colon - hp);
		if (colon + 1 < spec + len) {
			if (colon[1] != ':' ||
			    (size_t)(spec + len - colon - 2) >= sizeof(portstr))
				goto bad;
			memcpy(portstr, colon + 2, (size_t)(spec + len - colon - 2));
			portstr[spec + len - colon - 2] = '\0';
		}
	} else if ((colon = memchr(spec, ':', len)) != NULL &&
	    memchr(colon + 1, ':', (size_t)(spec + len - colon - 1)) == NULL) {
		hlen = (size_t)(colon - spec);
		if ((size_t)(spec + len - colon - 1) >= sizeof(portstr))
			goto bad;
		memcpy(portstr, colon + 1, (size_t)(spec + len - colon - 1));
		portstr[spec + len - colon - 1] = '\0';
	}
	if (hlen == 0 || hlen >= sizeof(host))
		goto bad;
	memcpy(host, hp, hlen);
	host[hlen] = '\0';
	if (portstr[0] != '\0') {
		errno = 0;
		port = strtol(portstr, &end, 10);
		if (*end != '\0' || errno != 0 || port < 1 || port > 65535)
			goto bad;
	}
	if (r->nns == DNS_NS_MAX) {
		buf_printf(err, "more than %d name servers", DNS_NS_MAX);
		return -1;
	}
	if (inet_pton(AF_INET, host, tmp) == 1)
		r->ns[r->nns].addr = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_A,
		    4, tmp);
	else if (inet_pton(AF_INET6, host, tmp) == 1)
		r->ns[r->nns].addr = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_AAAA,
		    16, tmp);
	else
		goto bad;
	if (r->ns[r->nns].addr == NULL) {
		buf_puts(err, "out of memory");
		return -1;
	}
	r->ns[r->nns++].port = (uint16_t)port;
	return 0;
bad:
	buf_printf(err, "bad name server \"%.*s\"", (int)len, spec);
	return -1;
}

/* ns_parse - a comma or space separated list of servers */
static int
ns_parse(struct dns_resolver *r, const char *list, struct buf *err)
{
	const char *p = list;
	size_t n;

	for (;;) {
		p += strspn(p, ", \t");
		if (*p == '\0')
			break;
		n = strcspn(p, ", \t");
		if (ns_add(r, p, n, err) == -1)
			return -1;
		p += n;
	}
	if (r->nns == 0) {
		buf_puts(err, "no name server given");
		return -1;
	}
	return 0;
}

/* ns_resolv_conf - the servers of /etc/resolv.conf */
static int
ns_resolv_conf(struct dns_resolver *r, struct buf *err)
{
	ldns_resolver *res = NULL;
	ldns_status st;
	size_t i;

	if ((st = ldns_resolver_new_frm_file(&res, NULL)) != LDNS_STATUS_OK) {
		buf_printf(err, "resolv.conf: %s", ldns_get_errorstr_by_id(st));
		return -1;
	}
	for (i = 0; i < ldns_resolver_nameserver_count(res) &&
	    r->nns < DNS_NS_MAX; i++) {
		r->ns[r->nns].addr =
		    ldns_rdf_clone(ldns_resolver_nameservers(res)[i]);
		r->ns[r->nns].port = ldns_resolver_port(res);
		if (r->ns[r->nns].addr != NULL)
			r->nns++;
	}
	ldns_resolver_deep_free(res);
	if (r->nns == 0) {
		buf_puts(err, "resolv.conf: no name server");
		return -1;
	}
	return 0;
}

/* dns_new_system - ldns backend */
struct dns_resolver *
dns_new_system(const struct dns_opts *o, struct buf *err)
{
	struct dns_resolver *r;
	int rc;

	if ((r = resolver_new(DNS_KIND_SYSTEM, o, err)) == NULL)
		return NULL;
	if (o != NULL && o->nameservers != NULL)
		rc = ns_parse(r, o->nameservers, err);
	else
		rc = ns_resolv_conf(r, err);
	if (rc == -1) {
		dns_free(r);
		return NULL;
	}
	return r;
}

/* now_ms - CLOCK_MONOTONIC in milliseconds */
static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* reply_matches - the reply answers our query (id, QR, question) */
static int
reply_matches(const ldns_pkt *q, const ldns_pkt *a)
{
	const ldns_rr *qq, *aq;

	if (ldns_pkt_id(q) != ldns_pkt_id(a) || !ldns_pkt_qr(a) ||
	    ldns_pkt_qdcount(a) != 1)
		return 0;
	qq = ldns_rr_list_rr(ldns_pkt_question(q), 0);
	aq = ldns_rr_list_rr(ldns_pkt_question(a), 0);
	return qq != NULL && aq != NULL &&
	    ldns_rr_get_type(qq) == ldns_rr_get_type(aq) &&
	    ldns_rr_get_class(qq) == ldns_rr_get_class(aq) &&
	    ldns_dname_compare(ldns_rr_owner(qq), ldns_rr_owner(aq)) == 0;
}

/* sys_send - one try at one server, over UDP or TCP; the reply or NULL */
static ldns_pkt *
sys_send(const struct dns_server *ns, const ldns_rdf *qname, uint16_t type,
    int64_t ms, int tcp)
{
	ldns_resolver *res;
	ldns_pkt *q = NULL, *a = NULL;
	struct timeval tv;

	if ((res = ldns_resolver_new()) == NULL)
		return NULL;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	ldns_resolver_set_timeout(res, tv);
	ldns_resolver_set_retry(res, 1);
	ldns_resolver_set_port(res, ns->port);
	ldns_resolver_set_recursive(res, true);
	ldns_resolver_set_fallback(res, false);	/* TCP retry is ours */
	ldns_resolver_set_usevc(res, tcp);
	ldns_resolver_set_random(res, false);
	ldns_resolver_set_dnssec(res, false);
	ldns_resolver_set_edns_udp_size(res, DNS_EDNS_SIZE);
	if (ldns_resolver_push_nameserver(res, ns->addr) != LDNS_STATUS_OK ||
	    ldns_resolver_prepare_query_pkt(&q, res, qname,
	    (ldns_rr_type)type, LDNS_RR_CLASS_IN, LDNS_RD | LDNS_AD) !=
	    LDNS_STATUS_OK)
		goto done;
	if (ldns_resolver_send_pkt(&a, res, q) != LDNS_STATUS_OK ||
	    (a != NULL && !reply_matches(q, a))) {
		ldns_pkt_free(a);
		a = NULL;
	}
done:
	ldns_pkt_free(q);
	ldns_resolver_deep_free(res);
	return a;
}

/* reply_neg_ttl - negative TTL from the SOA of the authority section */
static uint32_t
reply_neg_ttl(const ldns_pkt *p)
{
	const ldns_rr_list *auth = ldns_pkt_authority(p);
	size_t i;

	for (i = 0; i < ldns_rr_list_rr_count(auth); i++)
		if (ldns_rr_get_type(ldns_rr_list_rr(auth, i)) ==
		    LDNS_RR_TYPE_SOA)
			return soa_neg_ttl(ldns_rr_list_rr(auth, i));
	return DNS_NEG_TTL;
}

/* reply_answer - follow the CNAME chain through the answer section */
static void
reply_answer(const ldns_pkt *p, const ldns_rdf *qname, uint16_t type,
    struct lookup *lk)
{
	const ldns_rr_list *an = ldns_pkt_answer(p);
	const ldns_rdf *cur = qname, *next;
	const ldns_rr *rr;
	size_t i;
	int links;

	lk->status = DNS_NOMEM;
	if ((lk->ans = answer_new()) == NULL)
		return;
	lk->ans->secure = ldns_pkt_ad(p);
	for (links = 0; links <= DNS_CNAME_MAX; links++) {
		next = NULL;
		for (i = 0; i < ldns_rr_list_rr_count(an); i++) {
			rr = ldns_rr_list_rr(an, i);
			if (ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN ||
			    ldns_dname_compare(ldns_rr_owner(rr), cur) != 0)
				continue;
			if ((uint16_t)ldns_rr_get_type(rr) == type) {
				if (answer_push(lk->ans, rr) != DNS_OK)
					goto fail;
			} else if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME &&
			    ldns_rr_rd_count(rr) == 1) {
				next = ldns_rr_rdf(rr, 0);
				if (lk->ans->ttl > ldns_rr_ttl(rr))
					lk->ans->ttl = ldns_rr_ttl(rr);
			}
		}
		if (lk->ans->n > 0 || next == NULL)
			break;
		cur = next;
	}
	if (lk->ans->n > 0) {
		lk->status = DNS_OK;
		return;
	}
	lk->status = ldns_pkt_get_rcode(p) == LDNS_RCODE_NXDOMAIN ?
	    DNS_NXDOMAIN : DNS_NODATA;
	lk->neg_ttl = reply_neg_ttl(p);
fail:
	dns_answer_free(lk->ans);
	lk->ans = NULL;
}

/* try_ms - time for one try: an even share of what is left */
static int64_t
try_ms(int64_t left, size_t tries_left)
{
	int64_t ms = left / (int64_t)tries_left;

	if (ms < DNS_TRY_MIN_MS)
		ms = left < DNS_TRY_MIN_MS ? left : DNS_TRY_MIN_MS;
	return ms;
}

/* sys_lookup - ask the servers in turn within the time budget */
static void
sys_lookup(struct dns_resolver *r, const char *name, uint16_t type,
    struct lookup *lk)
{
	ldns_rdf *qname;
	ldns_pkt *p;
	int64_t deadline, left;
	size_t tries, t, i;
	int failed[DNS_NS_MAX] = { 0 };
	ldns_pkt_rcode rcode;

	lk->status = DNS_NOMEM;
	if ((qname = name_wire(name)) == NULL)
		return;
	lk->status = DNS_TIMEOUT;
	deadline = now_ms() + r->timeout_ms;
	tries = r->nns * DNS_ROUNDS;
	for (t = 0; t < tries; t++) {
		i = t % r->nns;
		if (failed[i])
			continue;
		if ((left = deadline - now_ms()) <= 0)
			break;
		if ((p = sys_send(&r->ns[i], qname, type,
		    try_ms(left, tries - t), 0)) == NULL)
			continue;
		if (ldns_pkt_tc(p)) {	/* truncated: the same server, TCP */
			ldns_pkt_free(p);
			if ((left = deadline - now_ms()) <= 0)
				break;
			if ((p = sys_send(&r->ns[i], qname, type,
			    try_ms(left, tries - t), 1)) == NULL)
				continue;
		}
		rcode = ldns_pkt_get_rcode(p);
		if (rcode == LDNS_RCODE_NOERROR || rcode == LDNS_RCODE_NXDOMAIN) {
			reply_answer(p, qname, type, lk);
			ldns_pkt_free(p);
			break;
		}
		ldns_pkt_free(p);
		failed[i] = 1;		/* SERVFAIL, REFUSED...: next server */
		lk->status = DNS_TEMPFAIL;
	}
	ldns_rdf_deep_free(qname);
}

/* The observer of finished queries (dns_set_observer), or NULL. */
static void (*_Atomic observer)(const char *, const char *, double);

/* dns_set_observer - see dns.h */
void
dns_set_observer(void (*fn)(const char *type, const char *outcome,
    double seconds))
{
	observer = fn;
}

/* status_word - a status as one word, for the observer */
static const char *
status_word(enum dns_status s)
{
	static const char *const w[] = {
		[DNS_OK] = "ok", [DNS_NXDOMAIN] = "nxdomain",
		[DNS_NODATA] = "nodata", [DNS_TEMPFAIL] = "tempfail",
		[DNS_TIMEOUT] = "timeout", [DNS_BADNAME] = "badname",
		[DNS_NOMEM] = "nomem",
	};

	return (size_t)s < sizeof(w) / sizeof(w[0]) ? w[s] : "other";
}

/* observed_lookup - sys_lookup, timed for the observer */
static void
observed_lookup(struct dns_resolver *r, const char *name, uint16_t type,
    struct lookup *lk)
{
	void (*fn)(const char *, const char *, double) = observer;
	struct timespec t0, t1;

	if (fn == NULL) {
		sys_lookup(r, name, type, lk);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	sys_lookup(r, name, type, lk);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fn(dns_type_name((enum dns_type)type), status_word(lk->status),
	    (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
}

/* dns_query - look up (name, type) through the cache */
enum dns_status
dns_query(struct dns_resolver *r, const char *name, enum dns_type type,
    struct dns_answer **out)
{
	struct lookup lk = { DNS_TIMEOUT, NULL, DNS_NEG_TTL };
	char *key;

	if (out != NULL)
		*out = NULL;
	if (!dns_name_valid(name))
		return DNS_BADNAME;
	if ((key = name_key(name)) == NULL)
		return DNS_NOMEM;
	if (!cache_get(r, key, (uint16_t)type, &lk)) {
		if (r->kind == DNS_KIND_ZONE)
			zone_lookup(r, key, (uint16_t)type, &lk);
		else
			observed_lookup(r, name, (uint16_t)type, &lk);
		cache_put(r, key, (uint16_t)type, &lk);
	}
	free(key);
	if (lk.status == DNS_OK && out != NULL)
		*out = lk.ans;
	else
		dns_answer_free(lk.ans);
	return lk.status;
}
