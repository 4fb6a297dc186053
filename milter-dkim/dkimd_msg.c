/*
 * NAME
 *	dkimd_msg - one message through milter-dkim, without libmilter
 * SYNOPSIS
 *	#include "dkimd_msg.h"
 * DESCRIPTION
 *	Header fields are kept until the end of the header, when the
 *	sender is known and the policy decides between signing and
 *	verifying; then they are fed to the DKIM engines, and the body
 *	streams through without being stored.
 *
 *	At end of message the outcome lists the header edits: every
 *	Authentication-Results field that claims our authserv-id with dkim
 *	results (arscrub(3)) is deleted (highest index first, so that no
 *	deletion shifts another), then our signatures and our
 *	Authentication-Results are inserted at the top.  The action
 *	follows the On-* settings.
 *
 *	A failure of our own (out of memory, an engine that cannot sign)
 *	sets a sticky error and the On-InternalError or On-SignatureError
 *	action applies at end of message; nothing is lost silently.  A
 *	header over a limit (DKIMD_MAX_FIELDS fields, MaximumHeaders bytes)
 *	is neither signed nor verified, but never passed in silence: a
 *	message to verify gets dkim=permerror, or dkim=none when it has no
 *	signature, with the limit as the comment and the On-BadSignature or
 *	On-NoSignature action; a message to sign gets On-SignatureError.
 *	Only From fields are kept past the limit, for the policy.
 * DIAGNOSTICS
 *	Every log line carries the queue id.
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
#include "dkim.h"
#include "dkimd_msg.h"
#include "dns.h"
#include "hostlist.h"
#include "log.h"
#include "rfc5322.h"

#define DKIMD_MAX_FIELDS	10000	/* header fields kept per message */
#define DKIMD_FROM_OVER		2	/* From fields kept past a limit */

/* The header limit a message went over: it is then neither signed nor
 * verified, but gets a result and the action configured for that. */
enum dkimd_limit {
	DKIMD_LIMIT_NONE,
	DKIMD_LIMIT_FIELDS,	/* more than DKIMD_MAX_FIELDS fields */
	DKIMD_LIMIT_BYTES,	/* larger than MaximumHeaders */
};

struct dkimd_msg {
	const struct dkimd_conf	*conf;
	/* connection */
	char			 host[256];
	char			 addr[INET6_ADDRSTRLEN + 2];
	char			 mta[256];	/* the MTA's name (macro j) */
	struct sockaddr_storage	 ss;
	int			 have_sa;
	/* message */
	char			 qid[64];
	char			*auth, *daemon;
	const char		*(*macro)(void *, const char *);
	void			*macro_arg;
	struct buf		 hdr;		/* raw fields, NUL-separated */
	size_t			 nfields;	/* fields kept */
	size_t			 nseen;		/* fields received */
	unsigned long long	 bytes_seen;	/* their bytes */
	int			 nfrom;		/* From fields kept */
	enum dkimd_limit	 over;		/* header over a limit */
	struct arscrub		 ars;		/* forged A-Rs to delete */
	int			 nsig;		/* DKIM-Signature fields seen */
	struct dkimd_decision	 dec;
	int			 decided;
	struct dkim_sign	*signer[DKIMD_MAX_SIGNREQ];
	size_t			 nsigner;
	struct dkim_verify	*verifier;
	int			 error;		/* internal error, sticky */
	int			 sigerr;	/* signing failed */
	/* outcome storage */
	struct hdr_edits	 edits;
};

/* dkimd_msg_new - a connection's context */
struct dkimd_msg *
dkimd_msg_new(const struct dkimd_conf *conf)
{
	struct dkimd_msg *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	m->conf = conf;
	buf_init(&m->hdr);
	buf_init(&m->dec.why);
	arscrub_init(&m->ars, "dkim");
	return m;
}

/* dkimd_msg_connect - remember the client; 1 when it is a peer */
int
dkimd_msg_connect(struct dkimd_msg *m, const char *hostname,
    const struct sockaddr *sa)
{
	const void *a = NULL;

	snprintf(m->host, sizeof(m->host), "%s", hostname ? hostname : "");
	m->addr[0] = '\0';
	m->have_sa = 0;
	if (sa != NULL && sa->sa_family == AF_INET) {
		memcpy(&m->ss, sa, sizeof(struct sockaddr_in));
		a = &((const struct sockaddr_in *)sa)->sin_addr;
	} else if (sa != NULL && sa->sa_family == AF_INET6) {
		memcpy(&m->ss, sa, sizeof(struct sockaddr_in6));
		a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
	}
	if (a != NULL) {
		m->have_sa = 1;
		inet_ntop(sa->sa_family, a, m->addr, sizeof(m->addr));
	}
	if (m->conf->peers == NULL)
		return 0;
	return m->have_sa ? hostlist_match(m->conf->peers,
	    (const struct sockaddr *)&m->ss, hostname) :
	    hostlist_match_addr(m->conf->peers, NULL, hostname);
}

/* dkimd_msg_set_mta - the MTA's own name (macro j), for the authserv-id */
void
dkimd_msg_set_mta(struct dkimd_msg *m, const char *name)
{
	if (name != NULL && *name != '\0' && strlen(name) < sizeof(m->mta) &&
	    strpbrk(name, " \t\r\n;()\"") == NULL)
		snprintf(m->mta, sizeof(m->mta), "%s", name);
}

/* authserv_id - AuthservID; without one, the MTA's name or the host's */
static const char *
authserv_id(const struct dkimd_msg *m)
{
	return m->conf->authserv_from_mta && m->mta[0] != '\0' ? m->mta :
	    m->conf->authserv_id;
}

/* dkimd_msg_set_qid - the queue id, once the MTA tells it */
void
dkimd_msg_set_qid(struct dkimd_msg *m, const char *qid)
{
	if (qid != NULL && *qid != '\0')
		snprintf(m->qid, sizeof(m->qid), "%s", qid);
}

/* dkimd_msg_qid - the queue id for log lines */
const char *
dkimd_msg_qid(const struct dkimd_msg *m)
{
	return m->qid[0] != '\0' ? m->qid : "NOQUEUE";
}

/* dkimd_msg_envfrom - start a message */
void
dkimd_msg_envfrom(struct dkimd_msg *m, const char *qid, const char *auth,
    const char *daemon, const char *(*fn)(void *, const char *), void *arg)
{
	dkimd_msg_reset(m);
	dkimd_msg_set_qid(m, qid);
	m->auth = auth != NULL && *auth != '\0' ? strdup(auth) : NULL;
	m->daemon = daemon != NULL ? strdup(daemon) : NULL;
	m->macro = fn;
	m->macro_arg = arg;
	if ((auth != NULL && *auth != '\0' && m->auth == NULL) ||
	    (daemon != NULL && m->daemon == NULL))
		m->error = 1;
}

/* dkimd_msg_header - keep one raw field "Name:value" with CRLF breaks */
void
dkimd_msg_header(struct dkimd_msg *m, const char *name, const char *value)
{
	const char *p;

	arscrub_header(&m->ars, authserv_id(m), name, value);
	if (m->ars.failed)
		m->error = 1;
	if (m->error)
		return;
	m->nseen++;
	m->bytes_seen += strlen(name) + strlen(value) + 1;
	if (strcasecmp(name, DKIM_SIGNATURE_HEADER) == 0)
		m->nsig++;
	if (m->over == DKIMD_LIMIT_NONE && m->nfields >= DKIMD_MAX_FIELDS)
		m->over = DKIMD_LIMIT_FIELDS;
	else if (m->over == DKIMD_LIMIT_NONE && m->hdr.len + strlen(name) +
	    strlen(value) > (size_t)m->conf->v.max_header_bytes)
		m->over = DKIMD_LIMIT_BYTES;
	/* past a limit, only From fields are kept: the policy's decision
	 * (sign or verify) still needs the author */
	if (strcasecmp(name, "From") == 0) {
		if (m->over != DKIMD_LIMIT_NONE && m->nfrom >= DKIMD_FROM_OVER)
			return;
		m->nfrom++;
	} else if (m->over != DKIMD_LIMIT_NONE)
		return;
	buf_puts(&m->hdr, name);
	buf_putc(&m->hdr, ':');
	for (p = value; *p != '\0'; p++) {
		if (*p == '\n' && (p == value || p[-1] != '\r'))
			buf_putc(&m->hdr, '\r');
		buf_putc(&m->hdr, *p);
	}
	buf_putc(&m->hdr, '\0');
	m->nfields++;
	if (m->hdr.failed)
		m->error = 1;
}

/* macro_get - MacroList lookups go to the MTA's macros */
static const char *
macro_get(void *arg, const char *name)
{
	struct dkimd_msg *m = arg;

	return m->macro != NULL ? m->macro(m->macro_arg, name) : NULL;
}

/* from_address - the From: address, when there is exactly one; else
 * why not, in why */
static int
from_address(struct dkimd_msg *m, struct rfc5322_addr *out, struct buf *why)
{
	const char *f = m->hdr.s, *end = m->hdr.s + m->hdr.len;
	struct rfc5322_addrlist list;
	enum rfc5322_status st = RFC5322_NOADDR;
	int nfrom = 0;

	memset(&list, 0, sizeof(list));
	for (; f != NULL && f < end; f += strlen(f) + 1) {
		if (strncasecmp(f, "From:", 5) != 0)
			continue;
		if (nfrom++ > 0)
			break;
		st = rfc5322_from(f + 5, strlen(f + 5), &list);
	}
	if (nfrom != 1 || st != RFC5322_OK || list.n != 1) {
		buf_printf(why, "sign: %s\n", nfrom == 0 ?
		    "no From: field" : nfrom > 1 ? "several From: fields" :
		    rfc5322_strerror(st));
		rfc5322_addrlist_free(&list);
		return -1;
	}
	*out = list.addr[0];
	list.addr[0].local = list.addr[0].domain = NULL;
	rfc5322_addrlist_free(&list);
	return 0;
}

/* start_signers - one DKIM signing context per request */
static void
start_signers(struct dkimd_msg *m)
{
	const struct dkimd_conf *c = m->conf;
	struct dkim_sign_opts o;
	size_t i;

	for (i = 0; i < m->dec.nreq; i++) {
		const struct dkimd_signreq *r = &m->dec.req[i];

		memset(&o, 0, sizeof(o));
		o.key = r->key->key;
		o.domain = r->domain;
		o.selector = r->key->selector;
		o.identity = r->identity;
		o.hcanon = c->hcanon;
		o.bcanon = c->bcanon;
		o.headers = c->signhdrs[0] != NULL ? c->signhdrs : NULL;
		o.oversign = c->oversign;
		o.omit = c->omit;
		o.expire = (unsigned long)c->v.signature_ttl;
		if ((m->signer[m->nsigner] = dkim_sign_new(&o)) == NULL) {
			log_msg(LOG_ERR, m->qid, "cannot set up signing with "
			    "key %s", r->key->name);
			m->sigerr = 1;
			continue;
		}
		m->nsigner++;
	}
}

/* key_lookup - the verifier's key lookup, through the resolver */
static enum dkim_key_status
key_lookup(void *arg, const char *qname, struct buf *record, int *secure)
{
	struct dkimd_msg *m = arg;
	enum dkim_key_status k;
	enum dns_status st;

	k = dkim_key_dns(m->conf->dns, qname, record, secure, &st);
	if (k == DKIM_KEY_TEMPFAIL && st != DNS_OK)
		log_msg(LOG_WARNING, m->qid, "key lookup %s: %s", qname,
		    dns_strerror(st));
	return k;
}

/* start_verifier - the verification context */
static void
start_verifier(struct dkimd_msg *m)
{
	struct dkim_verify_opts o = DKIM_VERIFY_OPTS_INIT;

	o.max_sigs = (unsigned)m->conf->v.max_verify;
	o.allow_sha1 = m->conf->v.allow_sha1;
	/* MinimumKeyBits 0 means no minimum (the engine reads 0 as 1024) */
	o.min_key_bits = m->conf->v.min_key_bits > 0 ?
	    (unsigned)m->conf->v.min_key_bits : 1;
	o.clock_drift = m->conf->v.clock_drift;
	if ((m->verifier = dkim_verify_new(&o, key_lookup, m)) == NULL)
		m->error = 1;
}

/* feed_headers - every kept field, in order, to every engine */
static void
feed_headers(struct dkimd_msg *m)
{
	const char *f = m->hdr.s, *end = m->hdr.s + m->hdr.len;
	enum dkim_status st;
	size_t i, len;

	for (; f != NULL && f < end; f += len + 1) {
		len = strlen(f);
		for (i = 0; i < m->nsigner; i++)
			if ((st = dkim_sign_header(m->signer[i], f, len)) !=
			    DKIM_OK && !m->sigerr) {
				log_msg(LOG_WARNING, m->qid, "not signed: %s",
				    dkim_strerror(st));
				m->sigerr = 1;
			}
		if (m->verifier != NULL &&
		    dkim_verify_header(m->verifier, f, len) != DKIM_OK)
			m->error = 1;
	}
	for (i = 0; i < m->nsigner; i++)
		if (dkim_sign_eoh(m->signer[i]) != DKIM_OK)
			m->sigerr = 1;
	if (m->verifier != NULL && dkim_verify_eoh(m->verifier) != DKIM_OK)
		m->error = 1;
}

/* log_decision - the policy's reasons, when LogWhy asks or it matters */
static void
log_decision(struct dkimd_msg *m, const char *local, const char *domain)
{
	const char *p = buf_str(&m->dec.why), *nl;

	if (!m->conf->v.logwhy && !(m->dec.origin && !m->dec.sign))
		return;
	for (; *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			nl = p + strlen(p);
		log_msg(LOG_INFO, m->qid, "%s@%s: %.*s", local, domain,
		    (int)(nl - p), p);
		if (*nl == '\0')
			break;
	}
}

/* dkimd_msg_eoh - decide, then start the engines */
void
dkimd_msg_eoh(struct dkimd_msg *m)
{
	struct rfc5322_addr from = { NULL, NULL };
	struct dkimd_client cl;
	struct buf fromwhy = BUF_INIT;

	if (m->error)
		return;
	memset(&cl, 0, sizeof(cl));
	cl.sa = m->have_sa ? (const struct sockaddr *)&m->ss : NULL;
	cl.addr = m->addr[0] != '\0' ? m->addr : NULL;
	cl.hostname = m->host[0] != '\0' ? m->host : NULL;
	cl.auth = m->auth;
	cl.daemon = m->daemon;
	cl.macro = macro_get;
	cl.macro_arg = m;
	buf_free(&m->dec.why);
	if (from_address(m, &from, &fromwhy) < 0)
		from.local = from.domain = NULL;
	/* the decision starts its reasons afresh; the From: problem,
	 * if any, follows them */
	if (dkimd_policy_decide(&m->conf->policy, &cl, from.local,
	    from.domain, &m->dec) < 0)
		m->error = 1;
	buf_puts(&m->dec.why, buf_str(&fromwhy));
	buf_free(&fromwhy);
	m->decided = 1;
	log_decision(m, from.local ? from.local : "", from.domain ?
	    from.domain : "");
	rfc5322_addr_free(&from);
	if (m->over != DKIMD_LIMIT_NONE)
		return;
	if (m->dec.sign)
		start_signers(m);
	else if (m->dec.verify)
		start_verifier(m);
	if (!m->error)
		feed_headers(m);
}

/* dkimd_msg_body - stream a body chunk through the engines */
void
dkimd_msg_body(struct dkimd_msg *m, const unsigned char *p, size_t n)
{
	size_t i;

	if (m->error)
		return;
	for (i = 0; i < m->nsigner; i++)
		if (dkim_sign_body(m->signer[i], p, n) != DKIM_OK)
			m->sigerr = 1;
	if (m->verifier != NULL && dkim_verify_body(m->verifier, p, n) !=
	    DKIM_OK)
		m->error = 1;
}

/* lf_copy - a copy of a CRLF-folded value with LF line breaks */
static char *
lf_copy(const char *s, size_t n)
{
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; i < n; i++)
		if (!(s[i] == '\r' && i + 1 < n && s[i + 1] == '\n'))
			buf_putc(&b, s[i]);
	return buf_detach(&b);
}

/* add_edit - append an edit; value is taken over */
static void
add_edit(struct dkimd_msg *m, enum hdr_edit_op op, const char *name,
    char *value, int index)
{
	hdr_edits_add(&m->edits, op, name, value, index);
	if (m->edits.failed)
		m->error = 1;
}

/* finish_signing - one DKIM-Signature edit per signer */
static void
finish_signing(struct dkimd_msg *m)
{
	struct buf sig = BUF_INIT;
	size_t i;

	for (i = 0; i < m->nsigner; i++) {
		buf_reset(&sig);
		if (dkim_sign_eom(m->signer[i], &sig) != DKIM_OK ||
		    sig.failed) {
			m->sigerr = 1;
			continue;
		}
		add_edit(m, HDR_EDIT_INSERT, DKIM_SIGNATURE_HEADER,
		    lf_copy(sig.s, sig.len), 0);
		if (m->conf->v.syslog_success)
			log_msg(LOG_INFO, m->qid, "DKIM-Signature field added "
			    "(s=%s d=%s)", m->dec.req[i].key->selector,
			    m->dec.req[i].domain);
	}
	buf_free(&sig);
}

/* result_comment - "(2048-bit key)" and friends */
static void
result_comment(const struct dkim_sig_result *r, struct buf *out)
{
	if (r->key_bits > 0)
		buf_printf(out, "%u-bit key", r->key_bits);
	if (r->testing)
		buf_printf(out, "%stesting key", out->len ? "; " : "");
	if (r->secure)
		buf_printf(out, "%sDNSSEC", out->len ? "; " : "");
	if (r->reason != DKIM_REASON_NONE) {
		if (out->len)
			buf_puts(out, "; ");
		dkim_sig_reason(r, out);
	}
	if (r->has_l)
		buf_printf(out, "%sl= covers %llu of %llu body bytes",
		    out->len ? "; " : "", r->body_signed, r->body_total);
}

/* log_result - one signature's result in the log */
static void
log_result(struct dkimd_msg *m, const struct dkim_sig_result *r)
{
	struct buf why = BUF_INIT;

	dkim_sig_reason(r, &why);
	log_msg(LOG_INFO, m->qid, "DKIM verification d=%s s=%s: %s%s%s",
	    r->d, r->s, dkim_result_name(r->result), why.len ? ": " : "",
	    buf_str(&why));
	buf_free(&why);
}

/* set_prop - fill one property */
static void
set_prop(struct authres_prop *p, const char *ptype, const char *prop,
    char *value)
{
	p->ptype = (char *)ptype;
	p->property = (char *)prop;
	p->value = value;
}

/* write_ar - the A-R value under our authserv-id (with the job id when
 * AuthservIDWithJobID says so) */
static void
write_ar(struct dkimd_msg *m, struct buf *ar,
    const struct authres_resinfo *ri, size_t n)
{
	struct buf id = BUF_INIT;

	if (authres_servid_job(&id, authserv_id(m),
	    m->conf->v.authservid_jobid ? dkimd_msg_qid(m) : NULL) < 0)
		m->error = 1;
	else
		authres_write(ar, AUTHRES_NAME_LEN, AUTHRES_LF, buf_str(&id), 0,
		    ri, n);
	buf_free(&id);
}

/*
 * worst - of the events the failed signatures of a message raised, the
 * one whose configured action weighs most (reject, discard, tempfail,
 * quarantine, accept; on a tie a bad signature before a missing key
 * before a DNS error).  Adding a signature whose key cannot be found
 * must not turn the reject of a tampered message into an accept.
 */
static int
worst(const struct dkimd_conf *c, const int *seen)
{
	static const int weight[] = {
		[DKIMD_ACCEPT] = 0, [DKIMD_QUARANTINE] = 1,
		[DKIMD_TEMPFAIL] = 2, [DKIMD_DISCARD] = 3, [DKIMD_REJECT] = 4,
	};
	static const int order[] = {
		DKIMD_EV_BADSIG, DKIMD_EV_NOKEY, DKIMD_EV_DNSERR,
	};
	int ev = DKIMD_EV_BADSIG, best = -1, w;
	size_t i;

	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (!seen[order[i]])
			continue;
		w = weight[c->action[order[i]]];
		if (w > best) {
			best = w;
			ev = order[i];
		}
	}
	return ev;
}

/*
 * over_limit - a header over a limit: neither signed nor verified, but
 * never passed in silence.  A message to verify gets dkim=permerror
 * (dkim=none when it has no signature) with the limit as the reason, and
 * the action for a bad or missing signature; a message to sign, the
 * action for a signing failure.  Returns the event.
 */
static int
over_limit(struct dkimd_msg *m, struct buf *ar)
{
	struct authres_resinfo ri;
	struct buf why = BUF_INIT;
	int ev = -1;

	if (m->over == DKIMD_LIMIT_FIELDS)
		buf_printf(&why, "message header over the field limit: more "
		    "than %d fields", DKIMD_MAX_FIELDS);
	else
		buf_printf(&why, "message header over MaximumHeaders: more "
		    "than %ld bytes", m->conf->v.max_header_bytes);
	if (m->dec.sign) {
		log_msg(LOG_WARNING, m->qid, "%s (%zu fields, %llu bytes): "
		    "not signed", buf_str(&why), m->nseen, m->bytes_seen);
		ev = DKIMD_EV_SIGERR;
	} else if (m->dec.verify) {
		memset(&ri, 0, sizeof(ri));
		ri.method = (char *)"dkim";
		ri.result = (char *)(m->nsig > 0 ? "permerror" : "none");
		ri.comment = why.failed ? NULL : why.s;
		log_msg(LOG_WARNING, m->qid, "%s (%zu fields, %llu bytes, %d "
		    "DKIM-Signature): not verified, dkim=%s", buf_str(&why),
		    m->nseen, m->bytes_seen, m->nsig, ri.result);
		write_ar(m, ar, &ri, 1);
		ev = m->nsig > 0 ? DKIMD_EV_BADSIG : DKIMD_EV_NOSIG;
	}
	if (why.failed)
		m->error = 1;
	buf_free(&why);
	return ev;
}

/* verify_results - build the A-R value; returns the message's event */
static int
verify_results(struct dkimd_msg *m, struct buf *ar)
{
	size_t n = dkim_verify_count(m->verifier), i;
	struct authres_resinfo *ri = calloc(n ? n : 1, sizeof(*ri));
	struct authres_prop *pr = calloc(n ? n * 5 : 1, sizeof(*pr));
	struct buf *cm = calloc(n ? n : 1, sizeof(*cm));
	int pass = 0, seen[DKIMD_EV_MAX] = { 0 }, ev;

	if (ri == NULL || pr == NULL || cm == NULL) {
		m->error = 1;
		ev = DKIMD_EV_INTERNAL;
		goto out;
	}
	for (i = 0; i < n; i++) {
		const struct dkim_sig_result *r =
		    dkim_verify_result(m->verifier, i);

		ri[i].method = (char *)"dkim";
		ri[i].result = (char *)dkim_result_name(r->result);
		result_comment(r, &cm[i]);
		ri[i].comment = cm[i].len ? cm[i].s : NULL;
		ri[i].props = &pr[i * 5];
		set_prop(&ri[i].props[ri[i].nprops++], "header", "d",
		    (char *)r->d);
		set_prop(&ri[i].props[ri[i].nprops++], "header", "i",
		    (char *)(r->i[0] ? r->i : NULL));
		if (r->i[0] == '\0')
			ri[i].nprops--;
		set_prop(&ri[i].props[ri[i].nprops++], "header", "s",
		    (char *)r->s);
		set_prop(&ri[i].props[ri[i].nprops++], "header", "a",
		    (char *)r->a);
		set_prop(&ri[i].props[ri[i].nprops++], "header", "b",
		    (char *)r->b);
		pass |= r->result == DKIM_RESULT_PASS;
		if (r->result == DKIM_RESULT_TEMPERROR)
			seen[DKIMD_EV_DNSERR] = 1;
		else if (r->reason == DKIM_REASON_KEY_NOTFOUND)
			seen[DKIMD_EV_NOKEY] = 1;
		else if (r->result != DKIM_RESULT_PASS)
			seen[DKIMD_EV_BADSIG] = 1;
		if (m->conf->v.logresults || m->conf->v.syslog_success ||
		    r->result != DKIM_RESULT_PASS)
			log_result(m, r);
	}
	if (dkim_verify_skipped(m->verifier) > 0)
		log_msg(LOG_INFO, m->qid, "%zu DKIM-Signature field(s) beyond "
		    "MaximumSignaturesToVerify (%ld) not checked",
		    dkim_verify_skipped(m->verifier), m->conf->v.max_verify);
	ev = n == 0 ? DKIMD_EV_NOSIG : pass ? -1 : worst(m->conf, seen);
	if (n > 0 || m->conf->v.always_ar) {
		if (n == 0) {	/* AlwaysAddARHeader: "dkim=none" */
			ri[0].method = (char *)"dkim";
			ri[0].result = (char *)"none";
		}
		write_ar(m, ar, ri, n ? n : 1);
	}
out:
	for (i = 0; cm != NULL && i < n; i++)
		buf_free(&cm[i]);
	free(cm);
	free(pr);
	free(ri);
	return ev;
}

/* set_action - the outcome's action and SMTP reply for an event */
static void
set_action(struct dkimd_msg *m, struct dkimd_outcome *out, int ev)
{
	static const struct {
		const char *rcode, *xcode, *text;
	} reply[DKIMD_EV_MAX] = {
		[DKIMD_EV_BADSIG] = { "550", "5.7.20",
		    "No valid DKIM signature found" },
		[DKIMD_EV_NOSIG] = { "550", "5.7.20",
		    "No DKIM signature found" },
		[DKIMD_EV_NOKEY] = { "550", "5.7.20", "DKIM key not found" },
		[DKIMD_EV_DNSERR] = { "451", "4.4.3",
		    "DNS error while verifying DKIM signature" },
		[DKIMD_EV_INTERNAL] = { "451", "4.3.0",
		    "Internal error while processing DKIM" },
		[DKIMD_EV_SIGERR] = { "451", "4.3.0",
		    "Could not sign the message" },
		[DKIMD_EV_SECURITY] = { "451", "4.7.0",
		    "Message not processed for security reasons" },
	};
	static const enum verdict_action verdict[] = {
		[DKIMD_ACCEPT] = VERDICT_CONTINUE,	/* with our edits */
		[DKIMD_REJECT] = VERDICT_REJECT,
		[DKIMD_TEMPFAIL] = VERDICT_TEMPFAIL,
		[DKIMD_DISCARD] = VERDICT_DISCARD,
		[DKIMD_QUARANTINE] = VERDICT_QUARANTINE,
	};
	struct verdict *v = &out->verdict;
	enum dkimd_action a;

	verdict_set(v, VERDICT_CONTINUE, NULL, NULL, NULL);
	if (ev < 0)
		return;
	a = m->conf->action[ev];
	if (a == DKIMD_REJECT)
		verdict_set(v, VERDICT_REJECT, "550", "5.7.20", reply[ev].text);
	else if (a == DKIMD_TEMPFAIL)
		verdict_set(v, VERDICT_TEMPFAIL, "451", reply[ev].rcode[0] ==
		    '5' ? "4.7.20" : reply[ev].xcode, reply[ev].text);
	else
		verdict_set(v, verdict[a], NULL, NULL, a == DKIMD_QUARANTINE ?
		    "DKIM" : NULL);
	if (a != DKIMD_ACCEPT)
		log_msg(LOG_NOTICE, m->qid, "%s: %s", reply[ev].text,
		    dkimd_action_name(a));
}

/* add_software - SoftwareHeader: say which filter processed the message */
static void
add_software(struct dkimd_msg *m)
{
	struct buf v = BUF_INIT;

	buf_printf(&v, "milter-dkim v%s %s %s", VERSION, authserv_id(m),
	    dkimd_msg_qid(m));
	add_edit(m, HDR_EDIT_INSERT, "DKIM-Filter", v.failed ? NULL :
	    buf_detach(&v), 0);
	buf_free(&v);
}

/* dkimd_msg_eom - the outcome of the message */
void
dkimd_msg_eom(struct dkimd_msg *m, struct dkimd_outcome *out)
{
	struct buf ar = BUF_INIT;
	int ev = -1, i;

	memset(out, 0, sizeof(*out));
	if (!m->decided && !m->error)
		dkimd_msg_eoh(m);
	if (m->dec.tempfail) {
		log_msg(LOG_ERR, m->qid, "a signing key cannot be used (see "
		    "above): message refused for now");
		ev = DKIMD_EV_INTERNAL;
	} else if (!m->error && m->over != DKIMD_LIMIT_NONE) {
		ev = over_limit(m, &ar);
		if (ar.len > 0 && !ar.failed)
			add_edit(m, HDR_EDIT_INSERT, "Authentication-Results",
			    strdup(ar.s), 0);
	} else if (!m->error && m->nsigner > 0) {
		if (m->conf->v.remove_old)
			for (i = m->nsig; i > 0; i--)
				add_edit(m, HDR_EDIT_DELETE,
				    DKIM_SIGNATURE_HEADER, NULL, i);
		finish_signing(m);
	} else if (!m->error && m->verifier != NULL &&
	    dkim_verify_eom(m->verifier) == DKIM_OK) {
		ev = verify_results(m, &ar);
		if (ar.len > 0 && !ar.failed)
			add_edit(m, HDR_EDIT_INSERT, "Authentication-Results",
			    strdup(ar.s), 0);
	} else if (m->verifier != NULL) {
		m->error = 1;
	}
	/* forged results claiming our authserv-id go, whatever else */
	arscrub_edits(&m->ars, &m->edits);
	if (m->edits.failed)
		m->error = 1;
	if (m->conf->v.software_header && (m->nsigner > 0 ||
	    m->verifier != NULL || (m->over != DKIMD_LIMIT_NONE &&
	    (m->dec.sign || m->dec.verify))))
		add_software(m);
	if (m->sigerr && ev < 0)
		ev = DKIMD_EV_SIGERR;
	if (m->error || ar.failed)
		ev = DKIMD_EV_INTERNAL;
	buf_free(&ar);
	set_action(m, out, ev);
	hdr_edits_order(&m->edits);
	out->edit = m->edits.v;
	out->nedit = out->verdict.action == VERDICT_CONTINUE ||
	    out->verdict.action == VERDICT_QUARANTINE ? m->edits.n : 0;
}

/* dkimd_msg_reset - drop the per-message state */
void
dkimd_msg_reset(void *p)
{
	struct dkimd_msg *m = p;
	size_t i;

	for (i = 0; i < m->nsigner; i++)
		dkim_sign_free(m->signer[i]);
	m->nsigner = 0;
	if (m->verifier != NULL)
		dkim_verify_free(m->verifier);
	m->verifier = NULL;
	hdr_edits_clear(&m->edits);
	dkimd_decision_free(&m->dec);
	buf_reset(&m->hdr);
	free(m->auth);
	free(m->daemon);
	m->auth = m->daemon = NULL;
	m->nfields = m->nseen = 0;
	m->bytes_seen = 0;
	m->nfrom = 0;
	m->over = DKIMD_LIMIT_NONE;
	m->error = m->sigerr = m->decided = 0;
	arscrub_reset(&m->ars);
	m->nsig = 0;
	m->qid[0] = '\0';
}

/* dkimd_msg_free - release a connection's context */
void
dkimd_msg_free(void *p)
{
	struct dkimd_msg *m = p;

	if (m == NULL)
		return;
	dkimd_msg_reset(m);
	buf_free(&m->hdr);
	arscrub_free(&m->ars);
	hdr_edits_free(&m->edits);
	free(m);
}
