/*
 * NAME
 *	dns - DNS lookups with a bounded cache, on name servers or another
 *	backend
 * SYNOPSIS
 *	#include "dns.h"
 * DESCRIPTION
 *	dns_query_limit() looks a query up in the cache; on a miss, it
 *	joins an identical query (same name and type) that another thread
 *	has in flight, or becomes that query itself and asks the backend.
 *	The threads that joined get a copy of its result; one whose own
 *	limit ends first stops waiting, and when the query's owner was cut
 *	short by its own limit, a waiter with time left asks again.
 *
 *	dns_new_system() is the backend of the daemons.  Each query goes
 *	over UDP to the servers in turn: a new try every timeout_ms /
 *	(2 x servers) milliseconds (at least DNS_TRY_MIN_MS), while the
 *	earlier tries keep listening, so a server that answers late but
 *	within timeout_ms is heard; the query as a whole ends after
 *	timeout_ms, or at the caller's deadline when that comes first.
 *	Queries carry RD and AD (RFC 6840 5.7: a validating resolver then
 *	reports the AD bit, without the cost of DO) and EDNS with a
 *	1232-byte buffer; a truncated answer is asked again of the same
 *	server over TCP, within the same budget.  Replies whose id or
 *	question do not match are dropped.  A server that answers SERVFAIL
 *	or REFUSED, or refuses the connection, is not asked again in that
 *	query.  While a query waits, the caller's stop condition is polled
 *	every DNS_POLL_MS.
 *
 *	The cache is keyed by lower-cased name and type, at most cache_max
 *	entries (the least recently used goes first); answers live for
 *	their smallest TTL, NXDOMAIN and NODATA for the negative TTL of the
 *	SOA (RFC 2308) or 60 s, capped by neg_ttl_max.  Failures are not
 *	cached.  The cache and the list of queries in flight each have a
 *	mutex.
 *
 *	dns_query() hands the caller a deep copy (dns_answer_free()).
 * DIAGNOSTICS
 *	Constructors return NULL with a message in err.  dns_query()
 *	returns a status: a server failure is DNS_TEMPFAIL, no answer in
 *	time DNS_TIMEOUT, a server that refused the connection or was
 *	unreachable (and no answer) DNS_UNREACHABLE; out of memory is
 *	DNS_NOMEM.
 * SEE ALSO
 *	dns_backend.h, t/dns_zone.c (the tests' backend)
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "dns.h"
#include "dns_backend.h"

#define DNS_NAME_MAX	253	/* octets of a name, without trailing dot */
#define DNS_LABEL_MAX	63
#define DNS_WIRE_MAX	255
#define DNS_NEG_TTL_MAX	300	/* default cap of negative caching */
#define DNS_TTL_MAX	86400	/* cap of positive caching (a day) */
#define DNS_TIMEOUT_MS	5000	/* default time budget of a query */
#define DNS_TRY_MIN_MS	100	/* shortest interval between tries */
#define DNS_ROUNDS	2	/* passes over the server list */
#define DNS_TRIES_MAX	(DNS_NS_MAX * DNS_ROUNDS)
#define DNS_EDNS_SIZE	1232	/* EDNS buffer size (DNS flag day 2020) */
#define DNS_NS_MAX	16	/* servers in a list */
#define DNS_MSG_MAX	65535	/* largest DNS message */

struct dns_server {
	struct sockaddr_storage sa;
	socklen_t	 salen;
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
	unsigned long	 hits, misses, shared;
};

/* A query in flight, which identical queries wait for. */
struct flight {
	struct flight	*next;
	char		*key;
	uint16_t	 type;
	unsigned	 waiters;
	int		 done;		/* the result below is final */
	int		 cut;		/* the owner's limit cut it short */
	struct dns_lookup lk;
	pthread_cond_t	 cv;
};

/* The system backend: the servers and the time budget of a query. */
struct sys {
	struct dns_server ns[DNS_NS_MAX];
	size_t		 nns;
	int		 timeout_ms;
};

struct dns_resolver {
	const struct dns_backend *be;
	void		*self;		/* the backend's */
	struct cache	 cache;
	pthread_mutex_t	 fmu;		/* guards flights */
	struct flight	*flights;
	time_t		(*clock)(void *);
	void		*clock_arg;
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
	case DNS_UNREACHABLE:	return "name server unreachable";
	case DNS_CANCELLED:	return "DNS query cancelled";
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
char *
dns_name_key(const char *name)
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
char *
dns_dname_text(const ldns_rdf *d, int lower)
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
struct dns_answer *
dns_answer_new(void)
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

	if ((a = dns_answer_new()) == NULL)
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
	if ((out->text = dns_dname_text(d, 0)) == NULL)
		return 0;
	out->text_len = strlen(out->text);
	return 1;
}

/* answer_push - append one record; DNS_NOMEM on failure */
enum dns_status
dns_answer_push(struct dns_answer *a, const ldns_rr *rr)
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
uint32_t
dns_soa_neg_ttl(const ldns_rr *soa)
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
    struct dns_lookup *lk)
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
    const struct dns_lookup *lk)
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
	st->shared = r->cache.shared;
	pthread_mutex_unlock(&r->cache.mu);
}

/* dns_set_clock - replace the cache's clock (tests) */
void
dns_set_clock(struct dns_resolver *r, time_t (*now)(void *), void *arg)
{
	r->clock = now ? now : clock_mono;
	r->clock_arg = arg;
}


/*
 * The resolver: backends, limits, queries in flight.
 */

/* dns_new_backend - a resolver on a backend */
struct dns_resolver *
dns_new_backend(const struct dns_backend *be, void *self,
    const struct dns_opts *o, struct buf *err)
{
	struct dns_resolver *r;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		be->free(self);
		buf_puts(err, "out of memory");
		return NULL;
	}
	r->be = be;
	r->self = self;
	r->clock = clock_mono;
	if (pthread_mutex_init(&r->fmu, NULL) != 0) {
		be->free(self);
		free(r);
		buf_puts(err, "cannot create lock");
		return NULL;
	}
	if (cache_init(&r->cache, o ? o->cache_max : 0,
	    o ? o->neg_ttl_max : 0) == -1) {
		be->free(self);
		pthread_mutex_destroy(&r->fmu);
		free(r->cache.tab);
		free(r);
		buf_puts(err, "out of memory");
		return NULL;
	}
	return r;
}

/* dns_backend_self - the backend's data when r runs on be */
void *
dns_backend_self(struct dns_resolver *r, const struct dns_backend *be)
{
	return r != NULL && r->be == be ? r->self : NULL;
}

/* dns_free - release a resolver, its cache and its backend */
void
dns_free(struct dns_resolver *r)
{
	if (r == NULL)
		return;
	if (r->cache.max > 0)
		cache_clear(&r->cache);
	free(r->cache.tab);
	pthread_mutex_destroy(&r->cache.mu);
	pthread_mutex_destroy(&r->fmu);
	r->be->free(r->self);
	free(r);
}

/* dns_now_ms - CLOCK_MONOTONIC in milliseconds */
int64_t
dns_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* dns_limit_init - a deadline ms from now and a stop condition */
void
dns_limit_init(struct dns_limit *l, int ms, int (*stop)(void *), void *arg)
{
	l->deadline_ms = ms > 0 ? dns_now_ms() + ms : 0;
	l->stop = stop;
	l->arg = arg;
}

/* dns_limit_check - whether the limit allows more */
enum dns_status
dns_limit_check(const struct dns_limit *l)
{
	if (l == NULL)
		return DNS_OK;
	if (l->stop != NULL && l->stop(l->arg))
		return DNS_CANCELLED;
	if (l->deadline_ms != 0 && dns_now_ms() >= l->deadline_ms)
		return DNS_TIMEOUT;
	return DNS_OK;
}

/* lookup_copy - a copy of a result for another thread */
static void
lookup_copy(struct dns_lookup *dst, const struct dns_lookup *src)
{
	*dst = *src;
	if (src->ans != NULL &&
	    (dst->ans = answer_copy(src->ans, src->ans->ttl)) == NULL)
		dst->status = DNS_NOMEM;
}

/* flight_find - the query in flight for (key, type); fmu held */
static struct flight *
flight_find(struct dns_resolver *r, const char *key, uint16_t type)
{
	struct flight *f;

	for (f = r->flights; f != NULL; f = f->next)
		if (f->type == type && strcmp(f->key, key) == 0)
			return f;
	return NULL;
}

/* flight_unlink - take f off the list; fmu held */
static void
flight_unlink(struct dns_resolver *r, struct flight *f)
{
	struct flight **pp;

	for (pp = &r->flights; *pp != NULL; pp = &(*pp)->next)
		if (*pp == f) {
			*pp = f->next;
			return;
		}
}

/* flight_free - release a finished flight; fmu held, no waiter left */
static void
flight_free(struct flight *f)
{
	pthread_cond_destroy(&f->cv);
	dns_answer_free(f->lk.ans);
	free(f->key);
	free(f);
}

/*
 * flight_wait - wait within the limit for f's result; fmu held.  1 with
 * *lk set when there is one to take, 0 when f was cut short by its
 * owner's limit (ask again), -1 with lk->status set when our own limit
 * ended the wait.
 */
static int
flight_wait(struct dns_resolver *r, struct flight *f,
    const struct dns_limit *limit, struct dns_lookup *lk)
{
	struct timespec ts;
	enum dns_status st;
	int64_t ms;
	int rc;

	f->waiters++;
	pthread_mutex_lock(&r->cache.mu);
	r->cache.shared++;
	pthread_mutex_unlock(&r->cache.mu);
	while (!f->done) {
		if ((st = dns_limit_check(limit)) != DNS_OK) {
			lk->status = st;
			rc = -1;
			goto out;
		}
		ms = DNS_POLL_MS;
		if (limit != NULL && limit->deadline_ms != 0 &&
		    limit->deadline_ms - dns_now_ms() < ms)
			ms = limit->deadline_ms - dns_now_ms();
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += (long)(ms > 0 ? ms : 1) * 1000000;
		ts.tv_sec += ts.tv_nsec / 1000000000;
		ts.tv_nsec %= 1000000000;
		(void)pthread_cond_timedwait(&f->cv, &r->fmu, &ts);
	}
	rc = f->cut ? 0 : 1;
	if (rc == 1)
		lookup_copy(lk, &f->lk);
out:
	if (--f->waiters == 0 && f->done)
		flight_free(f);
	return rc;
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
		[DNS_NOMEM] = "nomem", [DNS_UNREACHABLE] = "unreachable",
		[DNS_CANCELLED] = "cancelled",
	};

	return (size_t)s < sizeof(w) / sizeof(w[0]) && w[s] != NULL ? w[s] :
	    "other";
}

/* be_lookup - ask the backend, timed for the observer */
static void
be_lookup(struct dns_resolver *r, const char *name, const char *key,
    uint16_t type, const struct dns_limit *limit, struct dns_lookup *lk)
{
	void (*fn)(const char *, const char *, double) = observer;
	struct timespec t0, t1;
	const char *tn;

	if (fn == NULL) {
		r->be->lookup(r->self, name, key, type, limit, lk);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r->be->lookup(r->self, name, key, type, limit, lk);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	tn = dns_type_name((enum dns_type)type);
	fn(tn != NULL ? tn : "other", status_word(lk->status),
	    (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
}

/* flight_run - ask the backend for (name, type) as the owner of f */
static void
flight_run(struct dns_resolver *r, struct flight *f, const char *name,
    const struct dns_limit *limit, struct dns_lookup *lk)
{
	be_lookup(r, name, f->key, f->type, limit, lk);
	cache_put(r, f->key, f->type, lk);
	pthread_mutex_lock(&r->fmu);
	flight_unlink(r, f);
	f->done = 1;
	f->cut = (lk->status == DNS_TIMEOUT || lk->status == DNS_CANCELLED) &&
	    dns_limit_check(limit) != DNS_OK;
	if (f->waiters > 0) {
		if (!f->cut)
			lookup_copy(&f->lk, lk);
		pthread_cond_broadcast(&f->cv);
	} else
		flight_free(f);
	pthread_mutex_unlock(&r->fmu);
}

/*
 * lookup - the cache, else a query in flight, else the backend; on a
 * failure to get memory for the bookkeeping the backend is asked
 * without sharing.
 */
static void
lookup(struct dns_resolver *r, const char *name, const char *key,
    uint16_t type, const struct dns_limit *limit, struct dns_lookup *lk)
{
	struct flight *f;
	int rc;

	for (;;) {
		if (cache_get(r, key, type, lk))
			return;
		if ((lk->status = dns_limit_check(limit)) != DNS_OK)
			return;
		pthread_mutex_lock(&r->fmu);
		if ((f = flight_find(r, key, type)) != NULL) {
			rc = flight_wait(r, f, limit, lk);
			pthread_mutex_unlock(&r->fmu);
			if (rc != 0)
				return;
			continue;	/* the owner gave up: ask again */
		}
		if ((f = calloc(1, sizeof(*f))) == NULL ||
		    (f->key = strdup(key)) == NULL ||
		    pthread_cond_init(&f->cv, NULL) != 0) {
			pthread_mutex_unlock(&r->fmu);
			if (f != NULL)
				free(f->key);
			free(f);
			be_lookup(r, name, key, type, limit, lk);
			cache_put(r, key, type, lk);
			return;
		}
		f->type = type;
		f->next = r->flights;
		r->flights = f;
		pthread_mutex_unlock(&r->fmu);
		flight_run(r, f, name, limit, lk);
		return;
	}
}

/* dns_query_limit - look up (name, type) within a limit */
enum dns_status
dns_query_limit(struct dns_resolver *r, const char *name, enum dns_type type,
    const struct dns_limit *limit, struct dns_answer **out)
{
	struct dns_lookup lk = { DNS_TIMEOUT, NULL, DNS_NEG_TTL };
	char *key;

	if (out != NULL)
		*out = NULL;
	if (!dns_name_valid(name))
		return DNS_BADNAME;
	if ((key = dns_name_key(name)) == NULL)
		return DNS_NOMEM;
	lookup(r, name, key, (uint16_t)type, limit, &lk);
	free(key);
	if (lk.status == DNS_OK && out != NULL)
		*out = lk.ans;
	else
		dns_answer_free(lk.ans);
	return lk.status;
}

/* dns_query - look up (name, type) without a limit of the caller's */
enum dns_status
dns_query(struct dns_resolver *r, const char *name, enum dns_type type,
    struct dns_answer **out)
{
	return dns_query_limit(r, name, type, NULL, out);
}

/*
 * The system backend.
 */

/* ns_set - the socket address of a server from its address bytes */
static void
ns_set(struct dns_server *ns, int family, const unsigned char *addr,
    uint16_t port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&ns->sa;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ns->sa;

	memset(&ns->sa, 0, sizeof(ns->sa));
	if (family == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, addr, 4);
		ns->salen = sizeof(*sin);
	} else {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		memcpy(&sin6->sin6_addr, addr, 16);
		ns->salen = sizeof(*sin6);
	}
}

/* ns_add - one server "addr", "addr:port", "[v6]", "[v6]:port", or
 * OpenDKIM's "addr@port" */
static int
ns_add(struct sys *s, const char *spec, size_t len, struct buf *err)
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
	if (s->nns == DNS_NS_MAX) {
		buf_printf(err, "more than %d name servers", DNS_NS_MAX);
		return -1;
	}
	if (inet_pton(AF_INET, host, tmp) == 1)
		ns_set(&s->ns[s->nns++], AF_INET, tmp, (uint16_t)port);
	else if (inet_pton(AF_INET6, host, tmp) == 1)
		ns_set(&s->ns[s->nns++], AF_INET6, tmp, (uint16_t)port);
	else
		goto bad;
	return 0;
bad:
	buf_printf(err, "bad name server \"%.*s\"", (int)len, spec);
	return -1;
}

/* ns_parse - a comma or space separated list of servers */
static int
ns_parse(struct sys *s, const char *list, struct buf *err)
{
	const char *p = list;
	size_t n;

	for (;;) {
		p += strspn(p, ", \t");
		if (*p == '\0')
			break;
		n = strcspn(p, ", \t");
		if (ns_add(s, p, n, err) == -1)
			return -1;
		p += n;
	}
	if (s->nns == 0) {
		buf_puts(err, "no name server given");
		return -1;
	}
	return 0;
}

/* ns_resolv_conf - the servers of /etc/resolv.conf */
static int
ns_resolv_conf(struct sys *s, struct buf *err)
{
	ldns_resolver *res = NULL;
	const ldns_rdf *a;
	ldns_status st;
	size_t i;

	if ((st = ldns_resolver_new_frm_file(&res, NULL)) != LDNS_STATUS_OK) {
		buf_printf(err, "resolv.conf: %s", ldns_get_errorstr_by_id(st));
		return -1;
	}
	for (i = 0; i < ldns_resolver_nameserver_count(res) &&
	    s->nns < DNS_NS_MAX; i++) {
		a = ldns_resolver_nameservers(res)[i];
		if (ldns_rdf_get_type(a) == LDNS_RDF_TYPE_A &&
		    ldns_rdf_size(a) == 4)
			ns_set(&s->ns[s->nns++], AF_INET, ldns_rdf_data(a),
			    ldns_resolver_port(res));
		else if (ldns_rdf_get_type(a) == LDNS_RDF_TYPE_AAAA &&
		    ldns_rdf_size(a) == 16)
			ns_set(&s->ns[s->nns++], AF_INET6, ldns_rdf_data(a),
			    ldns_resolver_port(res));
	}
	ldns_resolver_deep_free(res);
	if (s->nns == 0) {
		buf_puts(err, "resolv.conf: no name server");
		return -1;
	}
	return 0;
}

static void sys_lookup(void *, const char *, const char *, uint16_t,
	    const struct dns_limit *, struct dns_lookup *);

static const struct dns_backend sys_backend = {
	"system", sys_lookup, free,
};

/* dns_new_system - the name servers' backend */
struct dns_resolver *
dns_new_system(const struct dns_opts *o, struct buf *err)
{
	struct sys *s;
	int rc;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		buf_puts(err, "out of memory");
		return NULL;
	}
	s->timeout_ms = o && o->timeout_ms > 0 ? o->timeout_ms :
	    DNS_TIMEOUT_MS;
	if (o != NULL && o->nameservers != NULL)
		rc = ns_parse(s, o->nameservers, err);
	else
		rc = ns_resolv_conf(s, err);
	if (rc == -1) {
		free(s);
		return NULL;
	}
	return dns_new_backend(&sys_backend, s, o, err);
}

/* One query: what is asked, until when, and the tries in flight. */
struct query {
	const struct sys *sys;
	ldns_pkt	*q;		/* the question (id set per try) */
	const ldns_rdf	*qname;
	int64_t		 deadline;
	const struct dns_limit *limit;
	struct pollfd	 pfd[DNS_TRIES_MAX];
	uint16_t	 id[DNS_TRIES_MAX];
	size_t		 server[DNS_TRIES_MAX];
	size_t		 ntries;
	int		 failed[DNS_NS_MAX];	/* not to be asked again */
	enum dns_status	 status;	/* if no answer comes */
	int64_t		 next_send;	/* time of the next try */
	unsigned char	*buf;		/* DNS_MSG_MAX bytes */
};

/* query_wire - the question with id in wire form (malloc()ed) */
static uint8_t *
query_wire(struct query *qr, uint16_t id, size_t *len)
{
	uint8_t *w = NULL;

	ldns_pkt_set_id(qr->q, id);
	if (ldns_pkt2wire(&w, qr->q, len) != LDNS_STATUS_OK) {
		free(w);
		return NULL;
	}
	return w;
}

/* reply_matches - the reply answers our question with that id */
static int
reply_matches(const ldns_pkt *q, uint16_t id, const ldns_pkt *a)
{
	const ldns_rr *qq, *aq;

	if (ldns_pkt_id(a) != id || !ldns_pkt_qr(a) ||
	    ldns_pkt_qdcount(a) != 1)
		return 0;
	qq = ldns_rr_list_rr(ldns_pkt_question(q), 0);
	aq = ldns_rr_list_rr(ldns_pkt_question(a), 0);
	return qq != NULL && aq != NULL &&
	    ldns_rr_get_type(qq) == ldns_rr_get_type(aq) &&
	    ldns_rr_get_class(qq) == ldns_rr_get_class(aq) &&
	    ldns_dname_compare(ldns_rr_owner(qq), ldns_rr_owner(aq)) == 0;
}

/* worse - the status to report: a refusal or failure says more than a
 * timeout, a server failure more than a refusal */
static enum dns_status
worse(enum dns_status have, enum dns_status seen)
{
	if (have == DNS_TEMPFAIL || seen == DNS_TIMEOUT)
		return have;
	return seen;
}

/*
 * wait_fd - wait until fd is ready for events, the deadline passes or
 * the stop condition holds: 1 ready, 0 deadline, -1 stopped
 */
static int
wait_fd(struct query *qr, int fd, short events)
{
	struct pollfd p;
	int64_t ms;

	for (;;) {
		if (dns_limit_check(qr->limit) == DNS_CANCELLED)
			return -1;
		if ((ms = qr->deadline - dns_now_ms()) <= 0)
			return 0;
		if (ms > DNS_POLL_MS && qr->limit != NULL &&
		    qr->limit->stop != NULL)
			ms = DNS_POLL_MS;
		p.fd = fd;
		p.events = events;
		if (poll(&p, 1, (int)ms) > 0)
			return 1;
	}
}

/* io_all - send or receive exactly n bytes on a TCP socket in time */
static enum dns_status
io_all(struct query *qr, int fd, unsigned char *p, size_t n, int out)
{
	ssize_t k;
	int w;

	while (n > 0) {
		if ((w = wait_fd(qr, fd, out ? POLLOUT : POLLIN)) <= 0)
			return w < 0 ? DNS_CANCELLED : DNS_TIMEOUT;
		k = out ? send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT) :
		    recv(fd, p, n, MSG_DONTWAIT);
		if (k < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (k < 0 && (errno == ECONNREFUSED || errno == ECONNRESET))
			return DNS_UNREACHABLE;
		if (k <= 0)
			return DNS_TEMPFAIL;
		p += k;
		n -= (size_t)k;
	}
	return DNS_OK;
}

/*
 * tcp_ask - the question again over TCP to server i (after TC); the
 * reply, or NULL with *st set
 */
static ldns_pkt *
tcp_ask(struct query *qr, size_t i, enum dns_status *st)
{
	const struct dns_server *ns = &qr->sys->ns[i];
	unsigned char len[2];
	uint8_t *w = NULL;
	ldns_pkt *a = NULL;
	uint16_t id = ldns_get_random();
	size_t wlen, n;
	socklen_t sl = sizeof(int);
	int fd, e = 0;

	*st = DNS_NOMEM;
	if ((w = query_wire(qr, id, &wlen)) == NULL)
		return NULL;
	*st = DNS_TEMPFAIL;
	if ((fd = socket(ns->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) < 0)
		goto done;
	if (connect(fd, (const struct sockaddr *)&ns->sa, ns->salen) < 0 &&
	    errno != EINPROGRESS) {
		*st = errno == ECONNREFUSED ? DNS_UNREACHABLE : DNS_TEMPFAIL;
		goto done;
	}
	if ((e = wait_fd(qr, fd, POLLOUT)) <= 0) {
		*st = e < 0 ? DNS_CANCELLED : DNS_TIMEOUT;
		goto done;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &sl) < 0 || e != 0) {
		*st = e == ECONNREFUSED || e == ENETUNREACH ||
		    e == EHOSTUNREACH ? DNS_UNREACHABLE : DNS_TEMPFAIL;
		goto done;
	}
	len[0] = (unsigned char)(wlen >> 8);
	len[1] = (unsigned char)wlen;
	if ((*st = io_all(qr, fd, len, 2, 1)) != DNS_OK ||
	    (*st = io_all(qr, fd, w, wlen, 1)) != DNS_OK ||
	    (*st = io_all(qr, fd, len, 2, 0)) != DNS_OK)
		goto done;
	n = (size_t)len[0] << 8 | len[1];
	if ((*st = io_all(qr, fd, qr->buf, n, 0)) != DNS_OK)
		goto done;
	*st = DNS_TEMPFAIL;
	if (ldns_wire2pkt(&a, qr->buf, n) != LDNS_STATUS_OK ||
	    !reply_matches(qr->q, id, a)) {
		ldns_pkt_free(a);
		a = NULL;
	}
done:
	if (fd >= 0)
		close(fd);
	free(w);
	return a;
}

/* try_close - forget try t */
static void
try_close(struct query *qr, size_t t)
{
	if (qr->pfd[t].fd >= 0)
		close(qr->pfd[t].fd);
	qr->pfd[t].fd = -1;
}

/* server_failed - server i is not asked again: close its tries */
static void
server_failed(struct query *qr, size_t i, enum dns_status why)
{
	size_t t;

	qr->failed[i] = 1;
	qr->status = worse(qr->status, why);
	qr->next_send = dns_now_ms();	/* ask the next server now */
	for (t = 0; t < qr->ntries; t++)
		if (qr->server[t] == i)
			try_close(qr, t);
}

/* try_send - one more try over UDP to server i; -1 when none was sent */
static int
try_send(struct query *qr, size_t i)
{
	const struct dns_server *ns = &qr->sys->ns[i];
	size_t t = qr->ntries, wlen;
	uint16_t id = ldns_get_random();
	uint8_t *w;
	int fd;

	if ((w = query_wire(qr, id, &wlen)) == NULL)
		return -1;
	if ((fd = socket(ns->sa.ss_family, SOCK_DGRAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) < 0) {
		free(w);
		return -1;
	}
	if (connect(fd, (const struct sockaddr *)&ns->sa, ns->salen) < 0 ||
	    send(fd, w, wlen, 0) < 0) {
		server_failed(qr, i, errno == ECONNREFUSED ||
		    errno == ENETUNREACH || errno == EHOSTUNREACH ?
		    DNS_UNREACHABLE : DNS_TEMPFAIL);
		close(fd);
		free(w);
		return -1;
	}
	free(w);
	qr->pfd[t].fd = fd;
	qr->pfd[t].events = POLLIN;
	qr->id[t] = id;
	qr->server[t] = i;
	qr->ntries++;
	return 0;
}

/*
 * try_read - a datagram on try t: 1 with *reply set when it is the
 * answer (after TCP when it was truncated), else 0
 */
static int
try_read(struct query *qr, size_t t, ldns_pkt **reply)
{
	ldns_pkt *a = NULL;
	ldns_pkt_rcode rc;
	enum dns_status st;
	size_t i = qr->server[t];
	ssize_t n;

	n = recv(qr->pfd[t].fd, qr->buf, DNS_MSG_MAX, MSG_DONTWAIT);
	if (n < 0) {
		if (errno == ECONNREFUSED)	/* ICMP port unreachable */
			server_failed(qr, i, DNS_UNREACHABLE);
		return 0;
	}
	if (ldns_wire2pkt(&a, qr->buf, (size_t)n) != LDNS_STATUS_OK ||
	    !reply_matches(qr->q, qr->id[t], a)) {
		ldns_pkt_free(a);
		return 0;		/* not ours: keep listening */
	}
	if (ldns_pkt_tc(a)) {
		ldns_pkt_free(a);
		if ((a = tcp_ask(qr, i, &st)) == NULL) {
			if (st == DNS_CANCELLED)
				qr->status = st;
			else
				server_failed(qr, i, st);
			return 0;
		}
	}
	rc = ldns_pkt_get_rcode(a);
	if (rc == LDNS_RCODE_NOERROR || rc == LDNS_RCODE_NXDOMAIN) {
		*reply = a;
		return 1;
	}
	ldns_pkt_free(a);
	server_failed(qr, i, DNS_TEMPFAIL);	/* SERVFAIL, REFUSED... */
	return 0;
}

/* next_server - the server of try n, skipping failed ones; -1: none */
static long
next_server(const struct query *qr, size_t n)
{
	size_t k, i;

	for (k = 0; k < qr->sys->nns; k++) {
		i = (n + k) % qr->sys->nns;
		if (!qr->failed[i])
			return (long)i;
	}
	return -1;
}

/* open_tries - how many tries have a socket */
static size_t
open_tries(const struct query *qr)
{
	size_t t, n = 0;

	for (t = 0; t < qr->ntries; t++)
		n += qr->pfd[t].fd >= 0;
	return n;
}

/*
 * exchange - the tries of one query: send a new one every interval,
 * listen to all of them, until an answer, the deadline, or every server
 * has failed.  The reply, or NULL with qr->status set.
 */
static ldns_pkt *
exchange(struct query *qr)
{
	const size_t tries = qr->sys->nns * DNS_ROUNDS;
	int64_t interval, now, ms;
	ldns_pkt *reply = NULL;
	size_t t;
	long i;

	interval = qr->sys->timeout_ms / (int64_t)tries;
	if (interval < DNS_TRY_MIN_MS)
		interval = DNS_TRY_MIN_MS;
	qr->next_send = dns_now_ms();
	for (;;) {
		if (dns_limit_check(qr->limit) == DNS_CANCELLED) {
			qr->status = DNS_CANCELLED;
			return NULL;
		}
		if ((now = dns_now_ms()) >= qr->deadline)
			return NULL;
		if (qr->ntries < tries && now >= qr->next_send) {
			if ((i = next_server(qr, qr->ntries)) < 0) {
				if (open_tries(qr) == 0)
					return NULL;	/* all failed */
				qr->next_send = qr->deadline;
			} else if (try_send(qr, (size_t)i) == 0) {
				qr->next_send = now + interval;
			} else if (!qr->failed[i]) {
				qr->status = worse(qr->status, DNS_TEMPFAIL);
				return NULL;		/* no socket */
			}
			continue;
		}
		if (open_tries(qr) == 0 && qr->ntries == tries)
			return NULL;
		ms = qr->deadline - now;
		if (qr->ntries < tries && qr->next_send - now < ms)
			ms = qr->next_send - now;
		if (ms > DNS_POLL_MS && qr->limit != NULL &&
		    qr->limit->stop != NULL)
			ms = DNS_POLL_MS;
		if (poll(qr->pfd, qr->ntries, (int)ms) <= 0)
			continue;
		for (t = 0; t < qr->ntries; t++)
			if (qr->pfd[t].fd >= 0 && qr->pfd[t].revents != 0 &&
			    try_read(qr, t, &reply))
				return reply;
	}
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
			return dns_soa_neg_ttl(ldns_rr_list_rr(auth, i));
	return DNS_NEG_TTL;
}

/* reply_answer - follow the CNAME chain through the answer section */
static void
reply_answer(const ldns_pkt *p, const ldns_rdf *qname, uint16_t type,
    struct dns_lookup *lk)
{
	const ldns_rr_list *an = ldns_pkt_answer(p);
	const ldns_rdf *cur = qname, *next;
	const ldns_rr *rr;
	size_t i;
	int links;

	lk->status = DNS_NOMEM;
	if ((lk->ans = dns_answer_new()) == NULL)
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
				if (dns_answer_push(lk->ans, rr) != DNS_OK)
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


/* sys_lookup - ask the servers within the time budget and the limit */
static void
sys_lookup(void *self, const char *name, const char *key, uint16_t type,
    const struct dns_limit *limit, struct dns_lookup *lk)
{
	struct query qr;
	ldns_rdf *qname;
	ldns_pkt *p;
	size_t t;

	(void)key;
	memset(&qr, 0, sizeof(qr));
	for (t = 0; t < DNS_TRIES_MAX; t++)
		qr.pfd[t].fd = -1;
	qr.sys = self;
	qr.limit = limit;
	qr.status = DNS_TIMEOUT;
	qr.deadline = dns_now_ms() + qr.sys->timeout_ms;
	if (limit != NULL && limit->deadline_ms != 0 &&
	    limit->deadline_ms < qr.deadline)
		qr.deadline = limit->deadline_ms;
	lk->status = DNS_NOMEM;
	if ((qname = name_wire(name)) == NULL)
		return;
	qr.qname = qname;
	if ((qr.q = ldns_pkt_query_new(ldns_rdf_clone(qname),
	    (ldns_rr_type)type, LDNS_RR_CLASS_IN, LDNS_RD | LDNS_AD)) == NULL ||
	    (qr.buf = malloc(DNS_MSG_MAX)) == NULL)
		goto done;
	ldns_pkt_set_edns_udp_size(qr.q, DNS_EDNS_SIZE);
	if ((p = exchange(&qr)) != NULL) {
		reply_answer(p, qname, type, lk);
		ldns_pkt_free(p);
	} else
		lk->status = qr.status;
done:
	for (t = 0; t < qr.ntries; t++)
		try_close(&qr, t);
	ldns_pkt_free(qr.q);
	free(qr.buf);
	ldns_rdf_deep_free(qname);
}
