/*
 * NAME
 *	spf - check_host() of RFC 7208 for the MAIL FROM and HELO identities
 * SYNOPSIS
 *	#include "spf.h"
 *
 *	enum spf_result spf_check_host(struct dns_resolver *dns,
 *	    const struct spf_request *req, struct spf_response *out);
 *	enum spf_result spf_check_helo(struct dns_resolver *dns,
 *	    const struct spf_request *req, struct spf_response *out);
 *	const char *spf_result_str(enum spf_result);
 *	void spf_response_free(struct spf_response *);
 * DESCRIPTION
 *	spf_check_host() checks the MAIL FROM identity (the null sender
 *	becomes postmaster@helo); spf_check_helo() checks the HELO name.
 *	Both fill *out (which the caller releases with spf_response_free())
 *	and return out->result.
 *
 *	The evaluation state (lookup counters, the parsed client address,
 *	the first error) lives in a struct spf_ctx on the stack, so any
 *	number of threads may share one resolver.  Every limit of RFC 7208
 *	4.6.4 is a named constant in spf.h: more than SPF_MAX_DNS_MECH
 *	DNS mechanisms (counted across include: and redirect=), more than
 *	SPF_MAX_VOID void lookups, or more than SPF_MAX_MX MX names is a
 *	permerror; only the first SPF_MAX_PTR PTR names are examined.  The
 *	client's validated PTR names are looked up once per check and
 *	shared by "ptr" and %{p}, so macros cannot multiply lookups.
 *	Target names that are not valid domain names (RFC 7208 4.3, after
 *	cutting to SPF_MAX_NAME) match nothing; for include: and redirect=
 *	they are a permerror.  A DNS error on the PTR lookup is no match.
 *
 *	The request's limit bounds the whole check: every query waits at
 *	most until its deadline, the stop condition is polled while a query
 *	waits, and once either is reached no query is sent and the result
 *	is temperror ("time limit reached" or "check cancelled"), whatever
 *	mechanisms remain (RFC 7208 4.6.4).
 *
 *	A fail result carries an explanation: the exp= text of the record
 *	that failed, or the default explanation when exp= is absent or any
 *	step of it fails.
 * DIAGNOSTICS
 *	Results, never fatal: DNS timeouts and server failures become
 *	temperror; out of memory becomes temperror ("out of memory").
 * SEE ALSO
 *	spf_record.c, spf_macro.c, RFC 7208
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "spf.h"

#define SPF_DEFAULT_EXP \
	"%{i} is not one of %{d}'s designated mail servers."

/* Outcome of one mechanism: a match, no match, or a final error */
enum spf_match {
	SPF_MATCH,
	SPF_NOMATCH,
	SPF_ERROR,		/* ctx->error holds temperror/permerror */
};

struct spf_ctx {
	struct dns_resolver *dns;
	const struct spf_request *req;
	int		 family;
	unsigned char	 addr[16];
	char		*local;
	char		*sender_domain;
	const char	*helo;
	unsigned	 lookups;
	unsigned	 voids;
	enum spf_result	 error;
	struct buf	 reason;	/* the first error, or the match */
	struct buf	 mechanism;
	struct buf	 explanation;
	int		 exp_default;
	int		 ptr_done;	/* the PTR names below are known */
	enum dns_status	 ptr_status;
	char		*ptr_valid[SPF_MAX_PTR];	/* validated names */
	size_t		 nptr;
	enum dns_status	 stopped;	/* DNS_TIMEOUT or DNS_CANCELLED once
					   the request's limit is reached */
};

/* spf_result_str - lower-case name of a result, as in Received-SPF */
const char *
spf_result_str(enum spf_result r)
{
	switch (r) {
	case SPF_NONE:
		return "none";
	case SPF_NEUTRAL:
		return "neutral";
	case SPF_PASS:
		return "pass";
	case SPF_FAIL:
		return "fail";
	case SPF_SOFTFAIL:
		return "softfail";
	case SPF_TEMPERROR:
		return "temperror";
	case SPF_PERMERROR:
		return "permerror";
	}
	return "unknown";
}

/* spf_response_free - release what a response points to */
void
spf_response_free(struct spf_response *r)
{
	if (r == NULL)
		return;
	free(r->domain);
	free(r->identity);
	free(r->mechanism);
	free(r->reason);
	free(r->explanation);
	memset(r, 0, sizeof(*r));
}

/* fail_with - record the first error and its reason; returns SPF_ERROR */
__attribute__((format(printf, 3, 4)))
static enum spf_match
fail_with(struct spf_ctx *ctx, enum spf_result r, const char *fmt, ...)
{
	va_list ap;

	if (ctx->error == SPF_NONE) {
		ctx->error = r;
		buf_reset(&ctx->reason);
		va_start(ap, fmt);
		buf_vprintf(&ctx->reason, fmt, ap);
		va_end(ap);
	}
	return SPF_ERROR;
}

/* dns_failed - the status is a failure to look up, not an answer */
static int
dns_failed(enum dns_status st)
{
	return st != DNS_OK && st != DNS_NXDOMAIN && st != DNS_NODATA &&
	    st != DNS_BADNAME;
}

/*
 * query - every DNS query of a check: within the request's limit; when
 * the limit is reached the check stops with temperror
 */
static enum dns_status
query(struct spf_ctx *ctx, const char *name, enum dns_type type,
    struct dns_answer **ans)
{
	enum dns_status st;

	*ans = NULL;
	if (ctx->stopped != DNS_OK)
		return ctx->stopped;
	st = dns_query_limit(ctx->dns, name, type, ctx->req->limit, ans);
	if ((st == DNS_TIMEOUT || st == DNS_CANCELLED) &&
	    (ctx->stopped = dns_limit_check(ctx->req->limit)) != DNS_OK)
		fail_with(ctx, SPF_TEMPERROR, "%s at %s",
		    ctx->stopped == DNS_CANCELLED ? "check cancelled" :
		    "time limit reached", name);
	return st;
}

/*
 * name_valid - RFC 7208 4.3: a fully qualified name of non-empty labels
 * of at most 63 bytes, 253 in all, not a domain literal.
 */
static int
name_valid(const char *name)
{
	size_t len = strlen(name), label = 0, labels = 0, i;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > SPF_MAX_NAME || name[0] == '[')
		return 0;
	for (i = 0; i <= len; i++) {
		if (i == len || name[i] == '.') {
			if (label == 0 || label > SPF_MAX_LABEL)
				return 0;
			labels++;
			label = 0;
		} else
			label++;
	}
	return labels >= 2;
}

/* addr_match - the first bits of a and b agree */
static int
addr_match(const unsigned char *a, const unsigned char *b, int bits)
{
	int full = bits / 8, rest = bits % 8;
	unsigned char mask;

	if (memcmp(a, b, (size_t)full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	mask = (unsigned char)(0xff << (8 - rest));
	return (a[full] & mask) == (b[full] & mask);
}

/* client_match - the client is in the network of rr's address */
static int
client_match(const struct spf_ctx *ctx, const struct dns_rr *rr,
    const struct spf_term *t)
{
	if (ctx->family == AF_INET && rr->type == DNS_T_A)
		return addr_match(ctx->addr, rr->addr,
		    t->cidr4 < 0 ? 32 : t->cidr4);
	if (ctx->family == AF_INET6 && rr->type == DNS_T_AAAA)
		return addr_match(ctx->addr, rr->addr,
		    t->cidr6 < 0 ? 128 : t->cidr6);
	return 0;
}

/* count_lookup - one more DNS mechanism; SPF_ERROR past the limit */
static enum spf_match
count_lookup(struct spf_ctx *ctx, const char *what)
{
	if (++ctx->lookups > SPF_MAX_DNS_MECH)
		return fail_with(ctx, SPF_PERMERROR,
		    "more than %d DNS lookups (at %s)", SPF_MAX_DNS_MECH, what);
	return SPF_NOMATCH;
}

/*
 * lookup - a DNS query for a mechanism: void answers are counted,
 * timeouts and failures are a temperror.  Returns SPF_MATCH with *ans
 * set when there are records.
 */
static enum spf_match
lookup(struct spf_ctx *ctx, const char *name, enum dns_type type,
    struct dns_answer **ans)
{
	enum dns_status st = query(ctx, name, type, ans);

	switch (st) {
	case DNS_OK:
		return SPF_MATCH;
	case DNS_NXDOMAIN:
	case DNS_NODATA:
		if (++ctx->voids > SPF_MAX_VOID)
			return fail_with(ctx, SPF_PERMERROR,
			    "more than %d void lookups (at %s)", SPF_MAX_VOID,
			    name);
		return SPF_NOMATCH;
	case DNS_BADNAME:
		return SPF_NOMATCH;
	case DNS_NOMEM:
		return fail_with(ctx, SPF_TEMPERROR, "out of memory");
	default:
		return fail_with(ctx, SPF_TEMPERROR, "%s for %s",
		    dns_strerror(st), name);
	}
}

/* addr_type - the address record type of the client's family */
static enum dns_type
addr_type(const struct spf_ctx *ctx)
{
	return ctx->family == AF_INET ? DNS_T_A : DNS_T_AAAA;
}

/* validated_name - 1 when name has an address record equal to the client */
static int
validated_name(struct spf_ctx *ctx, const char *name)
{
	struct dns_answer *ans;
	size_t i;
	int hit = 0;

	if (query(ctx, name, addr_type(ctx), &ans) != DNS_OK)
		return 0;
	for (i = 0; i < ans->n && !hit; i++)
		hit = ans->rr[i].type == addr_type(ctx) &&
		    memcmp(ans->rr[i].addr, ctx->addr,
		    ctx->family == AF_INET ? 4 : 16) == 0;
	dns_answer_free(ans);
	return hit;
}

/* in_domain - name is domain or one of its subdomains */
static int
in_domain(const char *name, const char *domain)
{
	size_t n = strlen(name), d = strlen(domain);

	if (d > 0 && domain[d - 1] == '.')
		d--;
	if (n > 0 && name[n - 1] == '.')
		n--;
	if (n == d)
		return strncasecmp(name, domain, n) == 0;
	return n > d && name[n - d - 1] == '.' &&
	    strncasecmp(name + n - d, domain, d) == 0;
}

/* reverse_name - the in-addr.arpa or ip6.arpa name of the client */
static void
reverse_name(const struct spf_ctx *ctx, struct buf *b)
{
	int i;

	if (ctx->family == AF_INET) {
		buf_printf(b, "%u.%u.%u.%u.in-addr.arpa", ctx->addr[3],
		    ctx->addr[2], ctx->addr[1], ctx->addr[0]);
		return;
	}
	for (i = 15; i >= 0; i--)
		buf_printf(b, "%x.%x.", ctx->addr[i] & 15, ctx->addr[i] >> 4);
	buf_puts(b, "ip6.arpa");
}

/*
 * validated_ptrs - look up the client's PTR names once per check and keep
 * those of the first SPF_MAX_PTR that resolve back to the client; returns
 * the status of the PTR query.
 */
static enum dns_status
validated_ptrs(struct spf_ctx *ctx)
{
	struct buf rev = BUF_INIT;
	struct dns_answer *ans = NULL;
	const char *name;
	size_t i;

	if (ctx->ptr_done)
		return ctx->ptr_status;
	ctx->ptr_done = 1;
	reverse_name(ctx, &rev);
	ctx->ptr_status = rev.failed ? DNS_NOMEM :
	    query(ctx, rev.s, DNS_T_PTR, &ans);
	buf_free(&rev);
	if (ctx->ptr_status != DNS_OK)
		return ctx->ptr_status;
	for (i = 0; i < ans->n && i < SPF_MAX_PTR; i++) {
		name = ans->rr[i].text;
		if (ans->rr[i].type != DNS_T_PTR || name == NULL ||
		    !validated_name(ctx, name))
			continue;
		if ((ctx->ptr_valid[ctx->nptr] = strdup(name)) != NULL)
			ctx->nptr++;
	}
	dns_answer_free(ans);
	return ctx->ptr_status;
}

/*
 * macro_validated - %{p}: among the validated PTR names, the domain
 * itself, else the first subdomain of it, else the first one; -1 when
 * there is none ("unknown").
 */
static int
macro_validated(void *arg, const char *domain, struct buf *out)
{
	struct spf_ctx *ctx = arg;
	const char *sub = NULL, *exact = NULL, *name;
	size_t i, dlen = strlen(domain);

	if (dlen > 0 && domain[dlen - 1] == '.')
		dlen--;
	validated_ptrs(ctx);
	for (i = 0; i < ctx->nptr && exact == NULL; i++) {
		name = ctx->ptr_valid[i];
		if (!in_domain(name, domain))
			continue;
		if (strlen(name) == dlen || (strlen(name) == dlen + 1 &&
		    name[dlen] == '.'))
			exact = name;
		else if (sub == NULL)
			sub = name;
	}
	name = exact ? exact : sub ? sub : ctx->nptr ? ctx->ptr_valid[0] :
	    NULL;
	if (name != NULL)
		buf_puts(out, name);
	return name != NULL ? 0 : -1;
}

/* macro_env - the environment for expanding in the current domain */
static void
macro_env(struct spf_ctx *ctx, const char *domain, struct spf_macro_env *e)
{
	memset(e, 0, sizeof(*e));
	e->local = ctx->local;
	e->sender_domain = ctx->sender_domain;
	e->domain = domain;
	e->family = ctx->family;
	memcpy(e->addr, ctx->addr, sizeof(e->addr));
	e->helo = ctx->helo ? ctx->helo : "";
	e->receiver = ctx->req->receiver;
	e->now = ctx->req->now ? ctx->req->now : time(NULL);
	e->validated = macro_validated;
	e->arg = ctx;
}

/*
 * name_finish - drop a trailing dot, cut the name to SPF_MAX_NAME from the
 * left (RFC 7208 4.8, 7.3); 1 when the result is a valid name
 */
static int
name_finish(struct buf *b)
{
	const char *s;

	if (b->failed || b->len == 0)
		return 0;
	if (b->s[b->len - 1] == '.')
		buf_truncate(b, b->len - 1);
	s = b->s;
	while (strlen(s) > SPF_MAX_NAME && strchr(s, '.') != NULL)
		s = strchr(s, '.') + 1;
	if (s != b->s) {
		memmove(b->s, s, strlen(s) + 1);
		b->len = strlen(b->s);
	}
	return name_valid(b->s);
}

/*
 * target_name - expand a domain-spec (or take the current domain) into a
 * name to query.  SPF_NOMATCH when the result is no valid domain name:
 * the mechanism cannot match, and include: or redirect= find no record.
 */
static enum spf_match
target_name(struct spf_ctx *ctx, const char *spec, const char *domain,
    struct buf *out)
{
	struct spf_macro_env env;

	if (spec == NULL) {
		buf_puts(out, domain);
	} else {
		macro_env(ctx, domain, &env);
		if (spf_macro_expand(&env, spec, strlen(spec),
		    SPF_MACRO_DOMAIN, out) != 0 && !out->failed)
			return fail_with(ctx, SPF_PERMERROR,
			    "bad macro in '%s'", spec);
	}
	if (out->failed)
		return fail_with(ctx, SPF_TEMPERROR, "out of memory");
	return name_finish(out) ? SPF_MATCH : SPF_NOMATCH;
}

/* mech_a - "a": an address of the target is the client's */
static enum spf_match
mech_a(struct spf_ctx *ctx, const struct spf_term *t, const char *name)
{
	struct dns_answer *ans;
	enum spf_match m;
	size_t i;

	if ((m = lookup(ctx, name, addr_type(ctx), &ans)) != SPF_MATCH)
		return m;
	for (i = 0, m = SPF_NOMATCH; i < ans->n && m == SPF_NOMATCH; i++)
		if (client_match(ctx, &ans->rr[i], t))
			m = SPF_MATCH;
	dns_answer_free(ans);
	return m;
}

/* mech_mx - "mx": an address of one of the MX hosts is the client's */
static enum spf_match
mech_mx(struct spf_ctx *ctx, const struct spf_term *t, const char *name)
{
	struct dns_answer *mx, *ans;
	enum dns_status st;
	enum spf_match m;
	size_t i, j;

	if ((m = lookup(ctx, name, DNS_T_MX, &mx)) != SPF_MATCH)
		return m;
	if (mx->n > SPF_MAX_MX) {
		dns_answer_free(mx);
		return fail_with(ctx, SPF_PERMERROR, "more than %d MX names "
		    "for %s", SPF_MAX_MX, name);
	}
	for (i = 0, m = SPF_NOMATCH; i < mx->n && m == SPF_NOMATCH; i++) {
		const char *host = mx->rr[i].text;
		if (mx->rr[i].type != DNS_T_MX || host == NULL ||
		    host[0] == '\0')
			continue;
		st = query(ctx, host, addr_type(ctx), &ans);
		if (dns_failed(st))
			m = fail_with(ctx, SPF_TEMPERROR, "%s for %s",
			    dns_strerror(st), host);
		if (st != DNS_OK)
			continue;
		for (j = 0; j < ans->n && m == SPF_NOMATCH; j++)
			if (client_match(ctx, &ans->rr[j], t))
				m = SPF_MATCH;
		dns_answer_free(ans);
	}
	dns_answer_free(mx);
	return m;
}

/* mech_ptr - "ptr": a validated PTR name lies in the target domain */
static enum spf_match
mech_ptr(struct spf_ctx *ctx, const char *name)
{
	enum dns_status st = validated_ptrs(ctx);
	size_t i;

	if ((st == DNS_NXDOMAIN || st == DNS_NODATA) &&
	    ++ctx->voids > SPF_MAX_VOID)
		return fail_with(ctx, SPF_PERMERROR,
		    "more than %d void lookups (at ptr)", SPF_MAX_VOID);
	for (i = 0; i < ctx->nptr; i++)
		if (in_domain(ctx->ptr_valid[i], name))
			return SPF_MATCH;
	return SPF_NOMATCH;
}

/* mech_exists - "exists": the name has an A record */
static enum spf_match
mech_exists(struct spf_ctx *ctx, const char *name)
{
	struct dns_answer *ans;
	enum spf_match m;

	if ((m = lookup(ctx, name, DNS_T_A, &ans)) == SPF_MATCH)
		dns_answer_free(ans);
	return m;
}

static enum spf_result check_host(struct spf_ctx *, const char *, int);

/* mech_include - "include": the target's result is pass */
static enum spf_match
mech_include(struct spf_ctx *ctx, const char *name)
{
	switch (check_host(ctx, name, 0)) {
	case SPF_PASS:
		return SPF_MATCH;
	case SPF_FAIL:
	case SPF_SOFTFAIL:
	case SPF_NEUTRAL:
		return SPF_NOMATCH;
	case SPF_TEMPERROR:
		return fail_with(ctx, SPF_TEMPERROR, "temperror in include:%s",
		    name);
	case SPF_NONE:
		return fail_with(ctx, SPF_PERMERROR, "no SPF record at "
		    "include:%s", name);
	default:
		return fail_with(ctx, SPF_PERMERROR, "permerror in include:%s",
		    name);
	}
}

/* ip_match - "ip4"/"ip6": the client is in the network */
static enum spf_match
ip_match(const struct spf_ctx *ctx, const struct spf_term *t)
{
	if (t->mech == SPF_M_IP4 && ctx->family == AF_INET)
		return addr_match(ctx->addr, t->addr,
		    t->cidr4 < 0 ? 32 : t->cidr4) ? SPF_MATCH : SPF_NOMATCH;
	if (t->mech == SPF_M_IP6 && ctx->family == AF_INET6)
		return addr_match(ctx->addr, t->addr,
		    t->cidr6 < 0 ? 128 : t->cidr6) ? SPF_MATCH : SPF_NOMATCH;
	return SPF_NOMATCH;
}

/* mechanism - evaluate one directive's mechanism in the domain */
static enum spf_match
mechanism(struct spf_ctx *ctx, const struct spf_term *t, const char *domain)
{
	struct buf name = BUF_INIT;
	enum spf_match m;

	switch (t->mech) {
	case SPF_M_ALL:
		return SPF_MATCH;
	case SPF_M_IP4:
	case SPF_M_IP6:
		return ip_match(ctx, t);
	default:
		break;
	}
	if ((m = count_lookup(ctx, t->text)) == SPF_ERROR)
		return m;
	if ((m = target_name(ctx, t->domain, domain, &name)) != SPF_MATCH) {
		if (m == SPF_NOMATCH && t->mech == SPF_M_INCLUDE)
			m = fail_with(ctx, SPF_PERMERROR, "invalid domain "
			    "'%s' in '%s'", buf_str(&name), t->text);
		goto done;
	}
	switch (t->mech) {
	case SPF_M_INCLUDE:
		m = mech_include(ctx, name.s);
		break;
	case SPF_M_A:
		m = mech_a(ctx, t, name.s);
		break;
	case SPF_M_MX:
		m = mech_mx(ctx, t, name.s);
		break;
	case SPF_M_PTR:
		m = mech_ptr(ctx, name.s);
		break;
	default:
		m = mech_exists(ctx, name.s);
		break;
	}
done:
	buf_free(&name);
	return m;
}

/* qualifier_result - the result a matching directive gives */
static enum spf_result
qualifier_result(char q)
{
	switch (q) {
	case '-':
		return SPF_FAIL;
	case '~':
		return SPF_SOFTFAIL;
	case '?':
		return SPF_NEUTRAL;
	default:
		return SPF_PASS;
	}
}

/* explain_text - the exp= text; -1 when any step fails */
static int
explain_text(struct spf_ctx *ctx, const char *spec, const char *domain,
    struct buf *out)
{
	struct spf_macro_env env;
	struct buf name = BUF_INIT;
	struct dns_answer *ans = NULL;
	int rc = -1;

	macro_env(ctx, domain, &env);
	if (spf_macro_expand(&env, spec, strlen(spec), SPF_MACRO_DOMAIN,
	    &name) != 0 || !name_finish(&name) ||
	    ctx->stopped != DNS_OK || dns_query_limit(ctx->dns, name.s,
	    DNS_T_TXT, ctx->req->limit, &ans) != DNS_OK ||
	    ans->n != 1 || ans->rr[0].type != DNS_T_TXT)
		goto done;
	rc = spf_macro_expand(&env, ans->rr[0].text, ans->rr[0].text_len,
	    SPF_MACRO_EXP, out);
done:
	dns_answer_free(ans);
	buf_free(&name);
	return rc;
}

/* explain - set the explanation of a fail in domain */
static void
explain(struct spf_ctx *ctx, const struct spf_record *rec, const char *domain)
{
	struct spf_macro_env env;

	buf_reset(&ctx->explanation);
	ctx->exp_default = 0;
	if (rec->exp != NULL &&
	    explain_text(ctx, rec->exp, domain, &ctx->explanation) == 0)
		return;
	buf_reset(&ctx->explanation);
	ctx->exp_default = 1;
	macro_env(ctx, domain, &env);
	spf_macro_expand(&env, SPF_DEFAULT_EXP, strlen(SPF_DEFAULT_EXP),
	    SPF_MACRO_EXP, &ctx->explanation);
}

/*
 * select_record - the one "v=spf1" TXT record of the domain, parsed:
 * SPF_PASS when found, else the result to return.
 */
static enum spf_result
select_record(struct spf_ctx *ctx, const char *domain,
    struct spf_record **rec)
{
	struct dns_answer *ans;
	struct buf err = BUF_INIT;
	enum dns_status st;
	enum spf_parse p;
	size_t i, which = 0, found = 0;

	st = query(ctx, domain, DNS_T_TXT, &ans);
	if (dns_failed(st)) {
		fail_with(ctx, SPF_TEMPERROR, "%s for TXT of %s",
		    dns_strerror(st), domain);
		return SPF_TEMPERROR;
	}
	if (st != DNS_OK)
		goto none;
	for (i = 0; i < ans->n; i++)
		if (ans->rr[i].type == DNS_T_TXT && ans->rr[i].text != NULL &&
		    spf_record_is_spf(ans->rr[i].text, ans->rr[i].text_len)) {
			which = i;
			found++;
		}
	if (found > 1) {
		dns_answer_free(ans);
		fail_with(ctx, SPF_PERMERROR, "%zu SPF records at %s", found,
		    domain);
		return SPF_PERMERROR;
	}
	if (found == 0) {
		dns_answer_free(ans);
		goto none;
	}
	p = spf_record_parse(ans->rr[which].text, ans->rr[which].text_len,
	    rec, &err);
	dns_answer_free(ans);
	if (p != SPF_PARSE_OK) {
		fail_with(ctx, p == SPF_PARSE_NOMEM ? SPF_TEMPERROR :
		    SPF_PERMERROR, "%s at %s", p == SPF_PARSE_NOMEM ?
		    "out of memory" : buf_str(&err), domain);
		buf_free(&err);
		return ctx->error;
	}
	buf_free(&err);
	return SPF_PASS;
none:
	if (ctx->error == SPF_NONE) {
		buf_reset(&ctx->reason);
		buf_printf(&ctx->reason, "no SPF record at %s", domain);
	}
	return SPF_NONE;
}

/* redirect - apply redirect= after no mechanism matched */
static enum spf_result
redirect(struct spf_ctx *ctx, const struct spf_record *rec,
    const char *domain, int top)
{
	struct buf name = BUF_INIT;
	enum spf_result r;

	if (count_lookup(ctx, "redirect") == SPF_ERROR ||
	    target_name(ctx, rec->redirect, domain, &name) != SPF_MATCH) {
		fail_with(ctx, SPF_PERMERROR, "invalid domain '%s' in "
		    "redirect=", buf_str(&name));
		buf_free(&name);
		return ctx->error;
	}
	if (top) {
		buf_reset(&ctx->mechanism);
		buf_printf(&ctx->mechanism, "redirect=%s", name.s);
	}
	r = check_host(ctx, name.s, top);
	if (r == SPF_NONE)
		fail_with(ctx, r = SPF_PERMERROR, "no SPF record at "
		    "redirect=%s", name.s);
	buf_free(&name);
	return r;
}

/*
 * check_host - RFC 7208 4: the result for the client in domain; top is
 * set for the domain asked about and the targets of its redirect=
 * chain, whose decisions go into the response.
 */
static enum spf_result
check_host(struct spf_ctx *ctx, const char *domain, int top)
{
	struct spf_record *rec = NULL;
	enum spf_result r;
	enum spf_match m = SPF_NOMATCH;
	size_t i;

	if (!name_valid(domain)) {
		if (ctx->error == SPF_NONE) {
			buf_reset(&ctx->reason);
			buf_printf(&ctx->reason, "invalid domain '%s'", domain);
		}
		return SPF_NONE;
	}
	if ((r = select_record(ctx, domain, &rec)) != SPF_PASS)
		return r;
	for (i = 0; i < rec->n; i++) {
		m = mechanism(ctx, &rec->terms[i], domain);
		if (ctx->stopped != DNS_OK)
			m = SPF_ERROR;	/* the limit: nothing more counts */
		if (m != SPF_NOMATCH)
			break;
	}
	if (m == SPF_ERROR) {
		r = ctx->error;
	} else if (m == SPF_MATCH) {
		r = qualifier_result(rec->terms[i].qualifier);
		if (top) {
			buf_reset(&ctx->mechanism);
			buf_puts(&ctx->mechanism, rec->terms[i].text);
			buf_reset(&ctx->reason);
			buf_printf(&ctx->reason, "matched '%s' at %s",
			    rec->terms[i].text, domain);
			if (r == SPF_FAIL)
				explain(ctx, rec, domain);
		}
	} else if (rec->redirect != NULL) {
		r = redirect(ctx, rec, domain, top);
	} else {
		r = SPF_NEUTRAL;
		if (top) {
			buf_reset(&ctx->mechanism);
			buf_puts(&ctx->mechanism, "default");
			buf_reset(&ctx->reason);
			buf_printf(&ctx->reason, "no mechanism matched at %s",
			    domain);
		}
	}
	spf_record_free(rec);
	return r;
}

/* parse_ip - the client address; IPv4-mapped IPv6 becomes IPv4 */
static int
parse_ip(struct spf_ctx *ctx, const char *ip)
{
	static const unsigned char mapped[12] =
	    { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (ip == NULL)
		return -1;
	memset(ctx->addr, 0, sizeof(ctx->addr));
	if (inet_pton(AF_INET, ip, ctx->addr) == 1) {
		ctx->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, ip, ctx->addr) != 1)
		return -1;
	ctx->family = AF_INET6;
	if (memcmp(ctx->addr, mapped, sizeof(mapped)) == 0) {
		memmove(ctx->addr, ctx->addr + 12, 4);
		memset(ctx->addr + 4, 0, 12);
		ctx->family = AF_INET;
	}
	return 0;
}

/* split_sender - local-part and domain; no local-part is "postmaster" */
static int
split_sender(struct spf_ctx *ctx, const char *sender, const char *helo)
{
	const char *at;

	if (sender == NULL || sender[0] == '\0') {
		ctx->local = strdup("postmaster");
		ctx->sender_domain = strdup(helo ? helo : "");
	} else if ((at = strrchr(sender, '@')) == NULL) {
		ctx->local = strdup("postmaster");
		ctx->sender_domain = strdup(sender);
	} else {
		ctx->local = at == sender ? strdup("postmaster") :
		    strndup(sender, (size_t)(at - sender));
		ctx->sender_domain = strdup(at + 1);
	}
	return ctx->local && ctx->sender_domain ? 0 : -1;
}

/* spf_run - common part of the two checks */
static enum spf_result
spf_run(struct dns_resolver *dns, const struct spf_request *req,
    const char *sender, struct spf_response *out)
{
	struct spf_ctx ctx;
	enum spf_result r;

	memset(out, 0, sizeof(*out));
	memset(&ctx, 0, sizeof(ctx));
	ctx.dns = dns;
	ctx.req = req;
	ctx.helo = req->helo;
	buf_init(&ctx.reason);
	buf_init(&ctx.mechanism);
	buf_init(&ctx.explanation);
	if (split_sender(&ctx, sender, req->helo) != 0) {
		r = SPF_TEMPERROR;
		buf_puts(&ctx.reason, "out of memory");
	} else if (parse_ip(&ctx, req->ip) != 0) {
		r = SPF_PERMERROR;
		buf_printf(&ctx.reason, "bad client address '%s'",
		    req->ip ? req->ip : "");
	} else {
		r = check_host(&ctx, ctx.sender_domain, 1);
	}
	out->result = r;
	out->dns_lookups = ctx.lookups;
	if (ctx.sender_domain != NULL) {
		out->domain = strdup(ctx.sender_domain);
		if (asprintf(&out->identity, "%s@%s", ctx.local,
		    ctx.sender_domain) < 0)
			out->identity = NULL;
	}
	if (ctx.mechanism.len > 0 && (r != SPF_TEMPERROR &&
	    r != SPF_PERMERROR && r != SPF_NONE))
		out->mechanism = buf_detach(&ctx.mechanism);
	if (ctx.reason.len > 0)
		out->reason = buf_detach(&ctx.reason);
	if (r == SPF_FAIL) {
		out->explanation = buf_detach(&ctx.explanation);
		out->explanation_default = ctx.exp_default;
	}
	buf_free(&ctx.reason);
	buf_free(&ctx.mechanism);
	buf_free(&ctx.explanation);
	free(ctx.local);
	free(ctx.sender_domain);
	while (ctx.nptr > 0)
		free(ctx.ptr_valid[--ctx.nptr]);
	return r;
}

/* spf_check_host - check the MAIL FROM identity */
enum spf_result
spf_check_host(struct dns_resolver *dns, const struct spf_request *req,
    struct spf_response *out)
{
	return spf_run(dns, req, req->sender, out);
}

/* spf_check_helo - check the HELO identity */
enum spf_result
spf_check_helo(struct dns_resolver *dns, const struct spf_request *req,
    struct spf_response *out)
{
	return spf_run(dns, req, NULL, out);
}
