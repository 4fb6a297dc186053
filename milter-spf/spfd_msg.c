/*
 * NAME
 *	spfd_msg - one SMTP transaction through milter-spf, without libmilter
 * SYNOPSIS
 *	#include "spfd_msg.h"
 * DESCRIPTION
 *	At MAIL FROM the message is either skipped (PeerList clients never
 *	get this far; local submissions, InternalHosts, authenticated
 *	senders, MTA daemon names, TrustedHELO and TrustedDomains are
 *	skipped) or checked: the HELO identity with spf_check_helo(), the
 *	MAIL FROM identity with spf_check_host(), the null sender being
 *	postmaster@HELO (RFC 7208 section 2.4), whose check is then the
 *	HELO check and is not repeated.  spfd_policy_verdict() turns the
 *	results into a verdict and its SMTP reply.
 *
 *	All the DNS queries of one message (TrustedHELO, TrustedDomains,
 *	both identities) share one limit: CheckTimeLimit from MAIL FROM,
 *	and the caller's cancel condition (the MTA went away, the daemon
 *	is stopping).  A check cut short is temperror, and logged.
 *
 *	The verdict is given to each RCPT but those in ExemptRecipients
 *	(RejectAt rcpt), or at end of message unless an exempt recipient
 *	was seen (RejectAt eom).  TestOnly computes and logs it, and gives
 *	none.
 *
 *	At end of message every Authentication-Results field claiming our
 *	authserv-id (or our id and a job id) with spf results is deleted
 *	(arscrub(3): highest index first, so that no deletion shifts
 *	another) whether or not the message was checked; then, for
 *	a checked message, one Authentication-Results field with a resinfo
 *	per identity checked, and with ReceivedSPFHeader one Received-SPF
 *	field per identity, are inserted at the top.
 * DIAGNOSTICS
 *	Every log line carries the queue id.  Values from the client are
 *	cleaned (spfd_hdr_clean) before they are logged.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include "arscrub.h"
#include "authres.h"
#include "dns.h"
#include "log.h"
#include "spfd_msg.h"

#define SPFD_ADDR_MAX	(INET6_ADDRSTRLEN + 1)
#define SPFD_HOST_MAX	256
#define SPFD_SKIP_MAX	300

struct spfd_msg {
	const struct spfd_conf	*conf;
	/* connection */
	char			 host[SPFD_HOST_MAX];
	char			 addr[SPFD_ADDR_MAX];	/* "" when none */
	int			 local;		/* a local submission */
	char			*helo;
	/* message */
	char			 qid[64];
	char			*sender;	/* without <>; "" when null */
	char			 skip[SPFD_SKIP_MAX];	/* why not checked */
	int			 checked;
	int			 result[SPFD_ID_MAX];
	struct spf_response	 resp[SPFD_ID_MAX];
	enum spfd_verdict	 verdict;
	struct verdict		 reply;		/* the verdict's answer */
	int			 exempt_seen;
	int			 logged;	/* the result line is out */
	int			 error;		/* out of memory, sticky */
	struct arscrub		 ars;		/* forged A-Rs to delete */
	struct dns_limit	 limit;		/* of this message's checks */
	struct hdr_edits	 edits;
};

/* spfd_msg_new - a connection's context */
struct spfd_msg *
spfd_msg_new(const struct spfd_conf *conf)
{
	struct spfd_msg *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	m->conf = conf;
	m->result[SPFD_ID_HELO] = m->result[SPFD_ID_MAILFROM] =
	    SPFD_UNCHECKED;
	arscrub_init(&m->ars, "spf");
	return m;
}

/* is_loopback - 127.0.0.1 or ::1 as Postfix writes them */
static int
is_loopback(const char *addr)
{
	return strcmp(addr, "127.0.0.1") == 0 || strcmp(addr, "::1") == 0;
}

/* spfd_msg_connect - remember the client; 1 when it is a peer */
int
spfd_msg_connect(struct spfd_msg *m, const char *hostname, const char *addr,
    int port)
{
	unsigned char a[16];

	snprintf(m->host, sizeof(m->host), "%s", hostname ? hostname : "");
	m->addr[0] = '\0';
	if (addr != NULL && (inet_pton(AF_INET, addr, a) == 1 ||
	    inet_pton(AF_INET6, addr, a) == 1))
		snprintf(m->addr, sizeof(m->addr), "%s", addr);
	/*
	 * Sendmail passes no address for local mail; Postfix's cleanup(8)
	 * pretends a client "localhost" at 127.0.0.1 port 0, where a real
	 * TCP peer always has a port.
	 */
	m->local = m->addr[0] == '\0' || (port == 0 &&
	    strcasecmp(m->host, "localhost") == 0 && is_loopback(m->addr));
	if (m->conf->peers == NULL)
		return 0;
	return hostlist_match_addr(m->conf->peers, m->addr[0] ? m->addr :
	    NULL, m->host[0] ? m->host : NULL);
}

/* spfd_msg_helo - the HELO or EHLO argument; the last one counts */
void
spfd_msg_helo(struct spfd_msg *m, const char *helo)
{
	free(m->helo);
	if ((m->helo = strdup(helo ? helo : "")) == NULL)
		m->error = 1;
}

/* spfd_msg_qid - the queue id for log lines */
const char *
spfd_msg_qid(const struct spfd_msg *m)
{
	return m->qid[0] != '\0' ? m->qid : "NOQUEUE";
}

/* spfd_msg_set_qid - the queue id, once the MTA tells it */
void
spfd_msg_set_qid(struct spfd_msg *m, const char *qid)
{
	if (qid != NULL && *qid != '\0')
		snprintf(m->qid, sizeof(m->qid), "%s", qid);
}

/* strip_brackets - a copy of an address without its <> */
static char *
strip_brackets(const char *s)
{
	size_t n;

	if (s == NULL)
		return strdup("");
	s += strspn(s, " \t");
	n = strlen(s);
	if (n >= 2 && s[0] == '<' && s[n - 1] == '>')
		return strndup(s + 1, n - 2);
	return strdup(s);
}

/* helo_has_addr - does the HELO name resolve to the client address? */
static int
helo_has_addr(struct spfd_msg *m)
{
	unsigned char a[16];
	struct dns_answer *ans = NULL;
	enum dns_type t = DNS_T_A;
	size_t i, len = 4;
	int found = 0;

	if (inet_pton(AF_INET6, m->addr, a) == 1)
		t = DNS_T_AAAA, len = 16;
	else if (inet_pton(AF_INET, m->addr, a) != 1)
		return 0;
	if (dns_query_limit(m->conf->dns, m->helo, t, &m->limit, &ans) !=
	    DNS_OK)
		return 0;
	for (i = 0; i < ans->n && !found; i++)
		found = memcmp(ans->rr[i].addr, a, len) == 0;
	dns_answer_free(ans);
	return found;
}

/* trusted_domain - the TrustedDomains entry whose SPF passes the client */
static const char *
trusted_domain(struct spfd_msg *m)
{
	const struct dataset *ds = m->conf->trusted_domains;
	struct spf_request req;
	struct spf_response resp;
	char sender[300];
	size_t i;
	int pass;

	for (i = 0; ds != NULL && i < ds->n; i++) {
		memset(&req, 0, sizeof(req));
		snprintf(sender, sizeof(sender), "postmaster@%s",
		    ds->entries[i].key);
		req.ip = m->addr;
		req.sender = sender;
		req.helo = m->helo;
		req.receiver = m->conf->authserv_id;
		req.limit = &m->limit;
		pass = spf_check_host(m->conf->dns, &req, &resp) == SPF_PASS;
		spf_response_free(&resp);
		if (pass)
			return ds->entries[i].key;
	}
	return NULL;
}

/* skip_reason - why this message is not checked; "" to check it */
static void
skip_reason(struct spfd_msg *m, const struct spfd_env *env)
{
	const struct spfd_conf *c = m->conf;
	const char *d;

	if (m->local && !c->v.check_local)
		snprintf(m->skip, sizeof(m->skip), "local submission");
	else if (m->addr[0] == '\0')
		snprintf(m->skip, sizeof(m->skip), "no client address");
	else if (c->internal != NULL && hostlist_match_addr(c->internal,
	    m->addr, m->host[0] ? m->host : NULL))
		snprintf(m->skip, sizeof(m->skip), "client in InternalHosts");
	else if (env->auth != NULL && env->auth[0] != '\0')
		snprintf(m->skip, sizeof(m->skip), "authenticated sender");
	else if (c->mtas != NULL && env->daemon != NULL &&
	    dataset_lookup(c->mtas, env->daemon) != NULL)
		snprintf(m->skip, sizeof(m->skip), "MTA %s", env->daemon);
	else if (c->trusted_helo != NULL && m->helo != NULL &&
	    dataset_lookup(c->trusted_helo, m->helo) != NULL &&
	    helo_has_addr(m))
		snprintf(m->skip, sizeof(m->skip), "HELO name in TrustedHELO");
	else if ((d = trusted_domain(m)) != NULL)
		snprintf(m->skip, sizeof(m->skip), "SPF of TrustedDomains "
		    "entry %s passes", d);
}

/* copy_response - a deep copy of an SPF response; -1 out of memory */
static int
copy_response(struct spf_response *dst, const struct spf_response *src)
{
	*dst = *src;
	dst->domain = src->domain ? strdup(src->domain) : NULL;
	dst->identity = src->identity ? strdup(src->identity) : NULL;
	dst->mechanism = src->mechanism ? strdup(src->mechanism) : NULL;
	dst->reason = src->reason ? strdup(src->reason) : NULL;
	dst->explanation = src->explanation ? strdup(src->explanation) :
	    NULL;
	if ((src->domain && !dst->domain) ||
	    (src->identity && !dst->identity) ||
	    (src->mechanism && !dst->mechanism) ||
	    (src->reason && !dst->reason) ||
	    (src->explanation && !dst->explanation)) {
		spf_response_free(dst);
		return -1;
	}
	return 0;
}

/* run_checks - the HELO and MAIL FROM checks the settings ask for */
static void
run_checks(struct spfd_msg *m)
{
	const struct spfd_policy *p = &m->conf->policy;
	struct spf_request req;
	int null = m->sender[0] == '\0';

	memset(&req, 0, sizeof(req));
	req.ip = m->addr;
	req.sender = m->sender;
	req.helo = m->helo != NULL ? m->helo : "";
	req.receiver = m->conf->authserv_id;
	req.limit = &m->limit;
	if (p->reject[SPFD_ID_HELO] != SPFD_REJ_NO_CHECK && req.helo[0])
		m->result[SPFD_ID_HELO] = (int)spf_check_helo(m->conf->dns,
		    &req, &m->resp[SPFD_ID_HELO]);
	if (p->reject[SPFD_ID_MAILFROM] == SPFD_REJ_NO_CHECK)
		return;
	if (null && m->result[SPFD_ID_HELO] != SPFD_UNCHECKED) {
		if (copy_response(&m->resp[SPFD_ID_MAILFROM],
		    &m->resp[SPFD_ID_HELO]) < 0) {
			m->error = 1;
			return;
		}
		m->result[SPFD_ID_MAILFROM] = m->result[SPFD_ID_HELO];
	} else
		m->result[SPFD_ID_MAILFROM] = (int)spf_check_host(
		    m->conf->dns, &req, &m->resp[SPFD_ID_MAILFROM]);
}

/* set_reply - the SMTP answer to the verdict */
static void
set_reply(struct spfd_msg *m, enum spfd_ident who)
{
	const struct spf_response *r = &m->resp[who];
	const char *what = who == SPFD_ID_HELO ? "HELO" : "MAIL FROM";
	const char *dom = r->domain ? r->domain : "";
	struct buf t = BUF_INIT;

	if (m->verdict == SPFD_V_DEFER) {
		verdict_set(&m->reply, VERDICT_TEMPFAIL, "451", "4.7.24", NULL);
		buf_printf(&t, "SPF %s check: temporary error looking up the "
		    "SPF record of %s; try again later", what, dom);
	} else if (r->result == SPF_PERMERROR) {
		verdict_set(&m->reply, VERDICT_REJECT, "550", "5.7.24", NULL);
		buf_printf(&t, "SPF %s check: permanent error in the SPF "
		    "record of %s: %s", what, dom, r->reason ? r->reason :
		    "invalid record");
	} else {
		verdict_set(&m->reply, VERDICT_REJECT, "550", "5.7.23", NULL);
		if (r->result == SPF_FAIL && r->explanation != NULL &&
		    !r->explanation_default)
			buf_printf(&t, "SPF %s check failed: the domain %s "
			    "explains: %s", what, dom, r->explanation);
		else if (r->result == SPF_FAIL && r->explanation != NULL)
			buf_printf(&t, "SPF %s check failed: %s", what,
			    r->explanation);
		else
			buf_printf(&t, "SPF %s check failed: %s does not "
			    "designate %s as permitted sender (%s)", what, dom,
			    m->addr, spf_result_str(r->result));
	}
	spfd_hdr_reply(m->reply.text, sizeof(m->reply.text),
	    t.failed ? "SPF check failed" : buf_str(&t));
	buf_free(&t);
}

/* log_results - once per checked message: both results, the verdict */
static void
log_results(struct spfd_msg *m)
{
	struct buf h = BUF_INIT, s = BUF_INIT;
	int would = m->conf->v.test_only && m->verdict != SPFD_V_NONE;

	if (!m->checked || m->logged || (!m->conf->v.log_results &&
	    m->verdict == SPFD_V_NONE))
		return;
	m->logged = 1;

	spfd_hdr_clean(&h, m->helo ? m->helo : "", SPFD_FIELD_MAX);
	spfd_hdr_clean(&s, m->sender, SPFD_FIELD_MAX);
	log_msg(LOG_INFO, m->qid, "SPF client=%s helo=<%s> from=<%s>: "
	    "helo=%s mailfrom=%s: %s%s", m->addr, buf_str(&h), buf_str(&s),
	    m->result[SPFD_ID_HELO] == SPFD_UNCHECKED ? "unchecked" :
	    spf_result_str(m->resp[SPFD_ID_HELO].result),
	    m->result[SPFD_ID_MAILFROM] == SPFD_UNCHECKED ? "unchecked" :
	    spf_result_str(m->resp[SPFD_ID_MAILFROM].result),
	    would ? "TestOnly, would " : "", spfd_verdict_name(m->verdict));
	buf_free(&h);
	buf_free(&s);
}

/* log_cut - say why the checks were cut short, if they were */
static void
log_cut(struct spfd_msg *m, int64_t t0)
{
	enum dns_status st = dns_limit_check(&m->limit);

	if (st == DNS_TIMEOUT)
		log_msg(LOG_INFO, m->qid, "SPF check stopped after %lld ms: "
		    "CheckTimeLimit of %ld s reached", (long long)(dns_now_ms()
		    - t0), m->conf->v.time_limit);
	else if (st == DNS_CANCELLED)
		log_msg(LOG_INFO, m->qid, "SPF check stopped after %lld ms: "
		    "the MTA went away or the daemon is stopping",
		    (long long)(dns_now_ms() - t0));
}

/* spfd_msg_envfrom - start a message, and check it unless skipped */
void
spfd_msg_envfrom(struct spfd_msg *m, const char *sender,
    const struct spfd_env *env)
{
	enum spfd_ident who = SPFD_ID_MAILFROM;
	int64_t t0 = dns_now_ms();

	spfd_msg_reset(m);
	spfd_msg_set_qid(m, env->qid);
	if ((m->sender = strip_brackets(sender)) == NULL) {
		m->error = 1;
		return;
	}
	dns_limit_init(&m->limit, (int)m->conf->v.time_limit * 1000,
	    env->cancelled, env->cancel_arg);
	skip_reason(m, env);
	if (m->skip[0] == '\0')
		run_checks(m);
	log_cut(m, t0);
	m->limit.stop = NULL;	/* its argument lives only until we return */
	if (m->skip[0] != '\0') {
		log_msg(LOG_DEBUG, m->qid, "SPF not checked: %s", m->skip);
		return;
	}
	m->checked = 1;
	m->verdict = spfd_policy_verdict(&m->conf->policy, m->result,
	    m->sender[0] == '\0', &who);
	if (m->verdict != SPFD_V_NONE)
		set_reply(m, who);
}

/* is_exempt - is the recipient in ExemptRecipients (address or local
 * part)? */
static int
is_exempt(const struct spfd_msg *m, const char *rcpt)
{
	const struct dataset *ds = m->conf->exempt;
	char *a, *at;
	int r;

	if (ds == NULL || (a = strip_brackets(rcpt)) == NULL)
		return 0;
	r = dataset_lookup(ds, a) != NULL;
	if (!r && (at = strrchr(a, '@')) != NULL) {
		*at = '\0';
		r = dataset_lookup(ds, a) != NULL;
	}
	free(a);
	return r;
}

/* internal_error - the answer when we cannot go on */
static void
internal_error(struct verdict *out)
{
	verdict_set(out, VERDICT_TEMPFAIL, "451", "4.3.0",
	    "Internal error in the SPF milter");
}

/* spfd_msg_rcpt - the verdict, for all but exempt recipients */
void
spfd_msg_rcpt(struct spfd_msg *m, const char *rcpt, struct verdict *out)
{
	verdict_set(out, VERDICT_CONTINUE, NULL, NULL, NULL);
	if (m->error) {
		internal_error(out);
		return;
	}
	if (m->verdict == SPFD_V_NONE || m->conf->v.test_only)
		return;
	if (is_exempt(m, rcpt)) {
		struct buf r = BUF_INIT;

		m->exempt_seen = 1;
		spfd_hdr_clean(&r, rcpt, SPFD_FIELD_MAX);
		log_msg(LOG_INFO, m->qid, "SPF verdict %s not applied to %s: "
		    "in ExemptRecipients", spfd_verdict_name(m->verdict),
		    buf_str(&r));
		buf_free(&r);
		return;
	}
	if (!m->conf->reject_eom) {
		log_results(m);
		*out = m->reply;
	}
}

/* spfd_msg_header - note Authentication-Results fields claiming our id
 * with spf= results (other methods' are siblings') */
void
spfd_msg_header(struct spfd_msg *m, const char *name, const char *value)
{
	arscrub_header(&m->ars, m->conf->authserv_id, name, value);
	if (m->ars.failed)
		m->error = 1;
}

/* add_edit - append an edit; value is taken over */
static void
add_edit(struct spfd_msg *m, enum hdr_edit_op op, const char *name,
    char *value, int index)
{
	hdr_edits_add(&m->edits, op, name, value, index);
	if (m->edits.failed)
		m->error = 1;
}

/* auth_results - the Authentication-Results value */
static char *
auth_results(struct spfd_msg *m)
{
	struct authres_resinfo ri[SPFD_ID_MAX];
	struct authres_prop pr[SPFD_ID_MAX];
	struct buf v[SPFD_ID_MAX], cm[SPFD_ID_MAX], out = BUF_INIT;
	static const enum spfd_ident order[SPFD_ID_MAX] = {
		SPFD_ID_MAILFROM, SPFD_ID_HELO,
	};
	struct buf asid = BUF_INIT;
	size_t n = 0, i;

	memset(ri, 0, sizeof(ri));
	for (i = 0; i < SPFD_ID_MAX; i++) {
		enum spfd_ident id = order[i];
		const struct spf_response *r = &m->resp[id];

		buf_init(&v[i]);
		buf_init(&cm[i]);
		if (m->result[id] == SPFD_UNCHECKED)
			continue;
		spfd_hdr_clean(&v[i], id == SPFD_ID_HELO ? m->helo :
		    r->domain ? r->domain : "", SPFD_FIELD_MAX);
		if ((r->result == SPF_TEMPERROR || r->result == SPF_PERMERROR)
		    && r->reason != NULL)
			spfd_hdr_clean(&cm[i], r->reason, SPFD_FIELD_MAX);
		ri[n].method = (char *)"spf";
		ri[n].result = (char *)spf_result_str(r->result);
		ri[n].comment = cm[i].len ? cm[i].s : NULL;
		pr[n].ptype = (char *)"smtp";
		pr[n].property = (char *)(id == SPFD_ID_HELO ? "helo" :
		    "mailfrom");
		pr[n].value = (char *)buf_str(&v[i]);
		ri[n].props = &pr[n];
		ri[n].nprops = 1;
		n++;
	}
	if (authres_servid_job(&asid, m->conf->authserv_id,
	    m->conf->v.authservid_jobid ? spfd_msg_qid(m) : NULL) < 0)
		out.failed = 1;
	else
		authres_write(&out, AUTHRES_NAME_LEN, AUTHRES_LF,
		    buf_str(&asid), 0, ri, n);
	buf_free(&asid);
	for (i = 0; i < SPFD_ID_MAX; i++) {
		if (v[i].failed || cm[i].failed)
			out.failed = 1;
		buf_free(&v[i]);
		buf_free(&cm[i]);
	}
	if (out.failed) {
		buf_free(&out);
		return NULL;
	}
	return buf_detach(&out);
}

/* received_spf - the Received-SPF value for one identity */
static char *
received_spf(struct spfd_msg *m, enum spfd_ident id)
{
	const struct spf_response *r = &m->resp[id];
	struct spfd_rspf h;
	struct buf out = BUF_INIT;

	memset(&h, 0, sizeof(h));
	h.result = r->result;
	h.receiver = m->conf->authserv_id;
	h.client_ip = m->addr;
	h.envelope_from = m->sender;
	h.helo = m->helo ? m->helo : "";
	h.identity = spfd_ident_name(id);
	h.checked = id == SPFD_ID_HELO ? m->helo : r->identity;
	h.mechanism = r->mechanism;
	if (r->result == SPF_TEMPERROR || r->result == SPF_PERMERROR)
		h.problem = r->reason;
	if (spfd_hdr_received_spf(&out, &h) < 0) {
		buf_free(&out);
		return NULL;
	}
	return buf_detach(&out);
}

/* add_fields - our header fields, inserted at the top */
static void
add_fields(struct spfd_msg *m)
{
	int i;

	if (m->conf->v.received_spf)
		for (i = SPFD_ID_MAX - 1; i >= 0; i--)
			if (m->result[i] != SPFD_UNCHECKED)
				add_edit(m, HDR_EDIT_INSERT, "Received-SPF",
				    received_spf(m, (enum spfd_ident)i), 0);
	add_edit(m, HDR_EDIT_INSERT, "Authentication-Results",
	    auth_results(m), 0);
}

/* spfd_msg_eom - the outcome of the message */
void
spfd_msg_eom(struct spfd_msg *m, const char *qid, struct spfd_outcome *out)
{
	memset(out, 0, sizeof(*out));
	verdict_set(&out->reply, VERDICT_CONTINUE, NULL, NULL, NULL);
	spfd_msg_set_qid(m, qid);
	/* forged results claiming our authserv-id go, whatever else */
	arscrub_edits(&m->ars, &m->edits);
	if (m->edits.failed)
		m->error = 1;
	if (arscrub_count(&m->ars) > 0)
		log_msg(LOG_INFO, m->qid, "removed %zu Authentication-Results "
		    "field(s) claiming our authserv-id %s",
		    arscrub_count(&m->ars), m->conf->authserv_id);
	log_results(m);
	if (m->checked && m->verdict != SPFD_V_NONE &&
	    !m->conf->v.test_only && m->conf->reject_eom && !m->exempt_seen) {
		out->reply = m->reply;
		return;
	}
	if (m->checked)
		add_fields(m);
	if (m->error) {
		internal_error(&out->reply);
		return;
	}
	out->edit = m->edits.v;
	out->nedit = m->edits.n;
}

/* spfd_msg_skipped - why the message is not checked, or NULL */
const char *
spfd_msg_skipped(const struct spfd_msg *m)
{
	return m->skip[0] != '\0' ? m->skip : NULL;
}

/* spfd_msg_result - an identity's result, or SPFD_UNCHECKED */
int
spfd_msg_result(const struct spfd_msg *m, enum spfd_ident id)
{
	return m->result[id];
}

/* spfd_msg_reset - drop the per-message state */
void
spfd_msg_reset(void *p)
{
	struct spfd_msg *m = p;
	size_t i;

	log_results(m);
	for (i = 0; i < SPFD_ID_MAX; i++) {
		spf_response_free(&m->resp[i]);
		m->result[i] = SPFD_UNCHECKED;
	}
	hdr_edits_clear(&m->edits);
	free(m->sender);
	m->sender = NULL;
	m->skip[0] = '\0';
	m->qid[0] = '\0';
	m->checked = m->exempt_seen = m->error = m->logged = 0;
	m->verdict = SPFD_V_NONE;
	memset(&m->reply, 0, sizeof(m->reply));
	arscrub_reset(&m->ars);
}

/* spfd_msg_free - release a connection's context */
void
spfd_msg_free(void *p)
{
	struct spfd_msg *m = p;

	if (m == NULL)
		return;
	spfd_msg_reset(m);
	free(m->helo);
	arscrub_free(&m->ars);
	hdr_edits_free(&m->edits);
	free(m);
}
