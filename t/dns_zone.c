/*
 * NAME
 *	dns_zone - a DNS backend answering from zone data in memory (tests)
 * SYNOPSIS
 *	#include "dns_zone.h"
 * DESCRIPTION
 *	Records are kept in one array behind a read-write lock: master
 *	files read with ldns and records added with dns_zone_add(), plus
 *	placeholders (TIMEOUT, SERVFAIL, DELAY) that stand for a name's
 *	failure or slowness.  A lookup finds the owner that answers (the
 *	name, or the wildcard at its closest encloser), collects the
 *	records of the type asked for, and follows CNAMEs.
 * DIAGNOSTICS
 *	Loading and adding return -1 with a message in err.
 * SEE ALSO
 *	dns_backend.h, dns.c
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dns_backend.h"
#include "dns_zone.h"

#define ZONE_TTL	300	/* TTL of records without one */

/* One record; special is DNS_TIMEOUT or DNS_TEMPFAIL for the failure
 * placeholders, DNS_OK for real records and DELAY placeholders. */
struct zrec {
	char		*owner;		/* lower case, no trailing dot */
	uint16_t	 type;
	enum dns_status	 special;
	int		 delay_ms;	/* DELAY placeholder */
	ldns_rr		*rr;		/* NULL for placeholders */
};

struct zone {
	pthread_rwlock_t lock;
	struct zrec	*z;
	size_t		 n, cap;
	uint32_t	 neg_ttl;
	pthread_mutex_t	 mu;		/* guards lookups */
	unsigned long	 lookups;
};

static void zone_lookup(void *, const char *, const char *, uint16_t,
	    const struct dns_limit *, struct dns_lookup *);
static void zone_free(void *);

static const struct dns_backend zone_backend = {
	"zone", zone_lookup, zone_free,
};

/* zone_free - release the zone data */
static void
zone_free(void *self)
{
	struct zone *zn = self;
	size_t i;

	if (zn == NULL)
		return;
	for (i = 0; i < zn->n; i++) {
		free(zn->z[i].owner);
		ldns_rr_free(zn->z[i].rr);
	}
	free(zn->z);
	pthread_rwlock_destroy(&zn->lock);
	pthread_mutex_destroy(&zn->mu);
	free(zn);
}

/* zone_push - append one record (owner and rr taken over) */
static int
zone_push(struct zone *zn, char *owner, uint16_t type,
    enum dns_status special, int delay_ms, ldns_rr *rr)
{
	struct zrec *z;
	size_t cap;

	if (zn->n == zn->cap) {
		cap = zn->cap ? zn->cap * 2 : 64;
		if ((z = realloc(zn->z, cap * sizeof(*z))) == NULL)
			return -1;
		zn->z = z;
		zn->cap = cap;
	}
	zn->z[zn->n].owner = owner;
	zn->z[zn->n].type = type;
	zn->z[zn->n].special = special;
	zn->z[zn->n].delay_ms = delay_ms;
	zn->z[zn->n].rr = rr;
	zn->n++;
	if (rr != NULL && type == LDNS_RR_TYPE_SOA)
		zn->neg_ttl = dns_soa_neg_ttl(rr);
	return 0;
}

/* zone_push_rr - add a parsed record (taken over, freed on failure) */
static int
zone_push_rr(struct zone *zn, ldns_rr *rr, struct buf *err)
{
	char *owner;

	if ((owner = dns_dname_text(ldns_rr_owner(rr), 1)) == NULL) {
		ldns_rr_free(rr);
		buf_puts(err, "owner name holds a dot or NUL in a label");
		return -1;
	}
	if (zone_push(zn, owner, (uint16_t)ldns_rr_get_type(rr), DNS_OK, 0,
	    rr) == -1) {
		free(owner);
		ldns_rr_free(rr);
		buf_puts(err, "out of memory");
		return -1;
	}
	return 0;
}

/* zone_read - read a master file */
static int
zone_read(struct zone *zn, const char *path, struct buf *err)
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
	st = ldns_zone_new_frm_fp_l(&zone, fp, NULL, ZONE_TTL,
	    LDNS_RR_CLASS_IN, &line);
	fclose(fp);
	if (st != LDNS_STATUS_OK) {
		buf_printf(err, "%s:%d: %s", path, line,
		    ldns_get_errorstr_by_id(st));
		return -1;
	}
	if (ldns_zone_soa(zone) != NULL &&
	    zone_push_rr(zn, ldns_rr_clone(ldns_zone_soa(zone)), err) == -1)
		rc = -1;
	rrs = ldns_zone_rrs(zone);
	for (i = 0; rc == 0 && i < ldns_rr_list_rr_count(rrs); i++)
		if (zone_push_rr(zn, ldns_rr_clone(ldns_rr_list_rr(rrs, i)),
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
	struct zone *zn;

	if ((zn = calloc(1, sizeof(*zn))) == NULL) {
		buf_puts(err, "out of memory");
		return NULL;
	}
	pthread_rwlock_init(&zn->lock, NULL);
	pthread_mutex_init(&zn->mu, NULL);
	zn->neg_ttl = DNS_NEG_TTL;
	if (path != NULL && zone_read(zn, path, err) == -1) {
		zone_free(zn);
		return NULL;
	}
	if ((r = dns_new_backend(&zone_backend, zn, o, err)) == NULL)
		return NULL;
	return r;
}

/* dns_new_zone - zone backend without a cache */
struct dns_resolver *
dns_new_zone(const char *path, struct buf *err)
{
	return dns_new_zone_opts(path, NULL, err);
}

/* self - the zone of a resolver, or NULL with err set */
static struct zone *
self(struct dns_resolver *r, const char *what, struct buf *err)
{
	struct zone *zn = dns_backend_self(r, &zone_backend);

	if (zn == NULL)
		buf_printf(err, "%s: not a zone resolver", what);
	return zn;
}

/* dns_zone_load - add a master file to the zone data */
int
dns_zone_load(struct dns_resolver *r, const char *path, struct buf *err)
{
	struct zone *zn;
	int rc;

	if ((zn = self(r, path, err)) == NULL)
		return -1;
	pthread_rwlock_wrlock(&zn->lock);
	rc = zone_read(zn, path, err);
	pthread_rwlock_unlock(&zn->lock);
	dns_cache_flush(r);
	return rc;
}

/* add_special - a placeholder for (name, type) */
static int
add_special(struct dns_resolver *r, struct zone *zn, const char *name,
    enum dns_type type, enum dns_status special, int delay_ms,
    struct buf *err)
{
	char *owner;
	int rc;

	if ((owner = dns_name_key(name)) == NULL) {
		buf_puts(err, "out of memory");
		return -1;
	}
	pthread_rwlock_wrlock(&zn->lock);
	rc = zone_push(zn, owner, (uint16_t)type, special, delay_ms, NULL);
	pthread_rwlock_unlock(&zn->lock);
	if (rc == -1) {
		free(owner);
		buf_puts(err, "out of memory");
	}
	dns_cache_flush(r);
	return rc;
}

/* dns_zone_add - add one record in master-file syntax, or a placeholder */
int
dns_zone_add(struct dns_resolver *r, const char *name, enum dns_type type,
    const char *rdata, struct buf *err)
{
	struct buf line = BUF_INIT;
	struct zone *zn;
	ldns_rr *rr = NULL;
	ldns_status st;
	char *tname;
	int rc, ms;

	if ((zn = self(r, name, err)) == NULL)
		return -1;
	if (!dns_name_valid(name)) {
		buf_printf(err, "%s: not a valid name", name);
		return -1;
	}
	if (strcmp(rdata, "TIMEOUT") == 0)
		return add_special(r, zn, name, type, DNS_TIMEOUT, 0, err);
	if (strcmp(rdata, "SERVFAIL") == 0)
		return add_special(r, zn, name, type, DNS_TEMPFAIL, 0, err);
	if (sscanf(rdata, "DELAY %d", &ms) == 1 && ms >= 0)
		return add_special(r, zn, name, type, DNS_OK, ms, err);
	tname = ldns_rr_type2str((ldns_rr_type)type);
	buf_printf(&line, "%s%s %d IN %s %s", name,
	    name[strlen(name) - 1] == '.' ? "" : ".", ZONE_TTL,
	    tname ? tname : "?", rdata);
	free(tname);
	if (line.failed) {
		buf_free(&line);
		buf_puts(err, "out of memory");
		return -1;
	}
	st = ldns_rr_new_frm_str(&rr, line.s, ZONE_TTL, NULL, NULL);
	if (st != LDNS_STATUS_OK) {
		buf_printf(err, "%s: %s", line.s, ldns_get_errorstr_by_id(st));
		buf_free(&line);
		return -1;
	}
	buf_free(&line);
	pthread_rwlock_wrlock(&zn->lock);
	rc = zone_push_rr(zn, rr, err);
	pthread_rwlock_unlock(&zn->lock);
	dns_cache_flush(r);
	return rc;
}

/* dns_zone_lookups - lookups that reached the zone data */
unsigned long
dns_zone_lookups(struct dns_resolver *r)
{
	struct zone *zn = dns_backend_self(r, &zone_backend);
	unsigned long n;

	if (zn == NULL)
		return 0;
	pthread_mutex_lock(&zn->mu);
	n = zn->lookups;
	pthread_mutex_unlock(&zn->mu);
	return n;
}

/* has - 1 when some record is owned by name */
static int
has(const struct zone *zn, const char *name)
{
	size_t i;

	for (i = 0; i < zn->n; i++)
		if (strcmp(zn->z[i].owner, name) == 0)
			return 1;
	return 0;
}

/* exists - name owns records or is an empty non-terminal */
static int
exists(const struct zone *zn, const char *name)
{
	size_t i, n = strlen(name), o;

	for (i = 0; i < zn->n; i++) {
		o = strlen(zn->z[i].owner);
		if (o == n && memcmp(zn->z[i].owner, name, n) == 0)
			return 1;
		if (o > n && zn->z[i].owner[o - n - 1] == '.' &&
		    memcmp(zn->z[i].owner + o - n, name, n) == 0)
			return 1;
	}
	return 0;
}

/*
 * owner_of - the owner whose records answer for name: name itself when
 * it exists, else the wildcard at the closest encloser (RFC 4592 3.3.1);
 * NULL for NXDOMAIN.  *wild receives a wildcard name to free.
 */
static const char *
owner_of(const struct zone *zn, const char *name, char **wild)
{
	const char *p;
	char *w;

	*wild = NULL;
	if (exists(zn, name))
		return name;
	for (p = strchr(name, '.'); p != NULL; p = strchr(p + 1, '.')) {
		if (asprintf(&w, "*%s", p) == -1)
			return NULL;
		if (has(zn, w)) {
			*wild = w;
			return w;
		}
		free(w);
		if (exists(zn, p + 1))
			return NULL;
	}
	return NULL;
}

/* step - records of (owner, type): status, CNAME target in *next */
static enum dns_status
step(const struct zone *zn, const char *owner, uint16_t type,
    struct dns_answer *a, const ldns_rr **next)
{
	size_t i;
	enum dns_status s;

	*next = NULL;
	for (i = 0; i < zn->n; i++)
		if (zn->z[i].special != DNS_OK && (zn->z[i].type == type ||
		    zn->z[i].type == DNS_T_ANY) &&
		    strcmp(zn->z[i].owner, owner) == 0)
			return zn->z[i].special;
	for (i = 0; i < zn->n; i++) {
		if (zn->z[i].rr == NULL || strcmp(zn->z[i].owner, owner) != 0)
			continue;
		if (zn->z[i].type == type) {
			if ((s = dns_answer_push(a, zn->z[i].rr)) != DNS_OK)
				return s;
		} else if (zn->z[i].type == DNS_T_CNAME)
			*next = zn->z[i].rr;
	}
	if (a->n > 0) {
		*next = NULL;
		return DNS_OK;
	}
	return DNS_NODATA;
}

/* delay_at - the DELAY placeholder's milliseconds for (owner, type) */
static int
delay_at(const struct zone *zn, const char *owner, uint16_t type)
{
	size_t i;
	int ms = 0;

	for (i = 0; i < zn->n; i++)
		if (zn->z[i].rr == NULL && zn->z[i].special == DNS_OK &&
		    (zn->z[i].type == type || zn->z[i].type == DNS_T_ANY) &&
		    strcmp(zn->z[i].owner, owner) == 0)
			ms = zn->z[i].delay_ms;
	return ms;
}

/* delay_of - the delay of (key, type): its own placeholder, else that
 * of the closest wildcard above it */
static int
delay_of(struct zone *zn, const char *key, uint16_t type)
{
	const char *p;
	char *w;
	int ms;

	pthread_rwlock_rdlock(&zn->lock);
	ms = delay_at(zn, key, type);
	for (p = strchr(key, '.'); ms == 0 && p != NULL;
	    p = strchr(p + 1, '.')) {
		if (asprintf(&w, "*%s", p) == -1)
			break;
		ms = delay_at(zn, w, type);
		free(w);
	}
	pthread_rwlock_unlock(&zn->lock);
	return ms;
}

/* wait_ms - sleep ms within the limit; its status when cut short */
static enum dns_status
wait_ms(int ms, const struct dns_limit *limit)
{
	int64_t end = dns_now_ms() + ms, left;
	struct timespec ts;
	enum dns_status st;

	while ((left = end - dns_now_ms()) > 0) {
		if ((st = dns_limit_check(limit)) != DNS_OK)
			return st;
		if (left > DNS_POLL_MS)
			left = DNS_POLL_MS;
		ts.tv_sec = left / 1000;
		ts.tv_nsec = (long)(left % 1000) * 1000000;
		nanosleep(&ts, NULL);
	}
	return dns_limit_check(limit);
}

/* zone_lookup - answer (name, type) from the zone data */
static void
zone_lookup(void *arg, const char *name, const char *key, uint16_t type,
    const struct dns_limit *limit, struct dns_lookup *lk)
{
	struct zone *zn = arg;
	const ldns_rr *cname;
	const char *owner;
	char *cur, *wild, *target;
	int links, ms;

	(void)name;
	pthread_mutex_lock(&zn->mu);
	zn->lookups++;
	pthread_mutex_unlock(&zn->mu);
	if ((ms = delay_of(zn, key, type)) > 0 &&
	    (lk->status = wait_ms(ms, limit)) != DNS_OK)
		return;
	if ((lk->ans = dns_answer_new()) == NULL ||
	    (cur = strdup(key)) == NULL) {
		lk->status = DNS_NOMEM;
		return;
	}
	pthread_rwlock_rdlock(&zn->lock);
	lk->neg_ttl = zn->neg_ttl;
	for (links = 0;; links++) {
		if ((owner = owner_of(zn, cur, &wild)) == NULL) {
			lk->status = DNS_NXDOMAIN;
			break;
		}
		lk->status = step(zn, owner, type, lk->ans, &cname);
		free(wild);
		if (cname == NULL)
			break;
		if (links == DNS_CNAME_MAX) {
			lk->status = DNS_TEMPFAIL;	/* loop or long chain */
			break;
		}
		if (lk->ans->ttl > ldns_rr_ttl(cname))
			lk->ans->ttl = ldns_rr_ttl(cname);
		if ((target = dns_dname_text(ldns_rr_rdf(cname, 0), 1)) ==
		    NULL) {
			lk->status = DNS_NXDOMAIN;
			break;
		}
		free(cur);
		cur = target;
	}
	pthread_rwlock_unlock(&zn->lock);
	free(cur);
	if (lk->status != DNS_OK) {
		dns_answer_free(lk->ans);
		lk->ans = NULL;
	}
}
