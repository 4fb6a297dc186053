/*
 * NAME
 *	dmarcd_msg - one SMTP transaction through milter-dmarc
 * SYNOPSIS
 *	#include "dmarcd_msg.h"
#include "dmarcd_ruf.h"
 * DESCRIPTION
 *	Clients in IgnoreHosts never get past connect; with
 *	IgnoreAuthenticatedClients, SMTP AUTH senders are not evaluated.
 *	Every other message is collected: the From fields (dmarc_from),
 *	the Authentication-Results fields, and, with DKIMSelfValidate,
 *	the whole message for our own DKIM verification.
 *
 *	Authentication-Results fields claiming our authserv-id that carry
 *	a dmarc= result (or a method none of the milters of this suite
 *	writes, or that cannot be parsed) are forgeries or stale: they are
 *	deleted, and never read.  The others, when their authserv-id is in
 *	TrustedAuthservIDs (default: AuthservID), give the DKIM results
 *	(header.d, header.s) and the SPF result (smtp.mailfrom, an
 *	address or a domain; smtp.helo only for the null sender).  SPFIgnoreResults
 *	ignores the SPF ones.  With no trusted DKIM result,
 *	DKIMSelfValidate uses our own verification; with no trusted SPF
 *	result, SPFSelfValidate runs our own SPF check (MAIL FROM, or the
 *	HELO name for the null sender).  A trusted arc=pass result with an
 *	arc.chain property (as an ARC verifier writes it) lets a DMARC
 *	failure through when one of the chain's sealers is in
 *	DomainWhitelist or DomainWhitelistFile: local policy, logged and
 *	noted in our field with the sealer.
 *
 *	At end of message each distinct From domain is evaluated (one
 *	normally; several when the From field lists addresses in several
 *	domains or there are several From fields, unless RequiredHeaders or
 *	RejectMultiValueFrom reject those outright); the strictest outcome
 *	wins, so an extra address cannot dilute a p=reject domain.  One
 *	Authentication-Results field is added, at the top, with one dmarc=
 *	result per domain:
 *		dmarc=fail (p=reject sp=reject dis=reject) header.from=d
 *	dmarc=none for a domain without a record; dmarc=permerror for a
 *	message without a usable From domain.  It is added even when the
 *	message is then rejected, so that logs and held mail show why.
 *
 *	The action: a fail whose disposition is reject is rejected (550
 *	5.7.1, RejectString) with RejectFailures; a temperror is deferred
 *	with RejectFailures; a fail whose disposition is quarantine is
 *	held (smfi_quarantine: Postfix's hold queue) with
 *	HoldQuarantinedMessages.  TestMode logs what would be done and does
 *	nothing.  CopyFailuresTo adds a recipient to failing mail.
 *
 *	Each evaluated domain becomes a history row (when it has a record,
 *	or always with RecordAllMessages), unless a recipient is in
 *	IgnoreMailTo; with FailureReports, a failure may also be reported
 *	(dmarcd_ruf: the header fields are kept for that).
 * DIAGNOSTICS
 *	One log line per evaluated domain, with the queue id.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>

#include "arc.h"
#include "arscrub.h"
#include "authres.h"
#include "dkim.h"
#include "dmarcd_hist.h"
#include "dmarcd_msg.h"
#include "dmarcd_ruf.h"
#include "log.h"
#include "rfc5322.h"
#include "spf.h"

#define DMARCD_HOST_MAX		256
#define DMARCD_ADDR_MAX		(INET6_ADDRSTRLEN + 1)
#define DMARCD_SKIP_MAX		200
#define DMARCD_QUARANTINE_MAX	300
#define DMARCD_ARC_CHAIN_MAX	1024
#define DMARCD_HEADERS_MAX	(64 * 1024)	/* kept for failure reports */

/* RFC 5322 3.6: fields that may occur at most once (Date and From once) */
static const char *const once[] = {
	"Date", "From", "Sender", "Reply-To", "To", "Cc", "Bcc",
	"Message-ID", "In-Reply-To", "References", "Subject",
};
#define NONCE	(sizeof(once) / sizeof(once[0]))

struct dk {
	char		 d[DMARC_NAME_MAX + 1];
	char		 s[64];
	enum dmarc_auth	 res;
};

struct dmarcd_msg {
	const struct dmarcd_conf *conf;
	/* connection */
	char			 host[DMARCD_HOST_MAX];
	char			 addr[DMARCD_ADDR_MAX];
	char			 mta[DMARCD_HOST_MAX];	/* macro j, or "" */
	char			*helo;
	/* message */
	char			 qid[64];
	char			*sender;	/* without <>; "" when null */
	char			 skip[DMARCD_SKIP_MAX];
	int			 started;	/* MAIL FROM seen */
	int			 ignore_to;	/* a recipient in IgnoreMailTo */
	int			 error;		/* out of memory, sticky */
	struct dmarc_from	 from;
	unsigned		 count[NONCE];
	/* trusted results */
	struct dk		 dkim[DMARC_MAX_DKIM];
	size_t			 ndkim;
	int			 have_dkim;	/* a trusted A-R had dkim= */
	enum dmarc_auth		 spf;
	char			 spf_domain[DMARC_NAME_MAX + 1];
	int			 spf_helo, have_spf;
	char			 arc_chain[DMARCD_ARC_CHAIN_MAX];	/* of a
					   trusted arc=pass, "" when none */
	/* our own verification */
	struct dkim_verify	*verify;
	struct arc		*arcv;		/* ARCSelfValidate */
	struct buf		 arcf;		/* a field for it, CRLF */
	struct buf		 headers;	/* for failure reports */
	/* header edits */
	struct arscrub		 ars;		/* forged A-Rs to delete */
	struct hdr_edits	 edits;
	char			 quarantine[DMARCD_QUARANTINE_MAX];
};

/* dmarcd_msg_new - a connection's context */
struct dmarcd_msg *
dmarcd_msg_new(const struct dmarcd_conf *conf)
{
	struct dmarcd_msg *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	m->conf = conf;
	dmarc_from_init(&m->from);
	arscrub_init(&m->ars, "dmarc");
	return m;
}

/* dmarcd_msg_connect - remember the client; 1 when it is ignored */
int
dmarcd_msg_connect(struct dmarcd_msg *m, const char *hostname,
    const char *addr)
{
	unsigned char a[16];

	snprintf(m->host, sizeof(m->host), "%s", hostname ? hostname : "");
	m->addr[0] = '\0';
	if (addr != NULL && (inet_pton(AF_INET, addr, a) == 1 ||
	    inet_pton(AF_INET6, addr, a) == 1))
		snprintf(m->addr, sizeof(m->addr), "%s", addr);
	if (m->conf->ignore_hosts == NULL)
		return 0;
	return hostlist_match_addr(m->conf->ignore_hosts,
	    m->addr[0] ? m->addr : NULL, m->host[0] ? m->host : NULL);
}

/* dmarcd_msg_set_mta - the MTA's own name (macro j) */
void
dmarcd_msg_set_mta(struct dmarcd_msg *m, const char *name)
{
	snprintf(m->mta, sizeof(m->mta), "%s", name != NULL ? name : "");
}

/* servid - our authserv-id: AuthservID; without one, as OpenDMARC and
 * milter-dkim do, the MTA's name, else the host's */
static const char *
servid(const struct dmarcd_msg *m)
{
	return m->conf->v.authservid == NULL && m->mta[0] != '\0' ? m->mta :
	    m->conf->authserv_id;
}

/* trusted - an authserv-id whose results we take (by default, ours) */
static int
trusted(const struct dmarcd_msg *m, const char *id)
{
	if (m->conf->trusted_ids == NULL && id != NULL &&
	    strcasecmp(id, servid(m)) == 0)
		return 1;
	return dmarcd_conf_trusted(m->conf, id);
}

/* dmarcd_msg_helo - the HELO or EHLO argument; the last one counts */
void
dmarcd_msg_helo(struct dmarcd_msg *m, const char *helo)
{
	free(m->helo);
	if ((m->helo = strdup(helo ? helo : "")) == NULL)
		m->error = 1;
}

/* dmarcd_msg_qid - the queue id for log lines */
const char *
dmarcd_msg_qid(const struct dmarcd_msg *m)
{
	return m->qid[0] != '\0' ? m->qid : "NOQUEUE";
}

/* set_qid - the queue id, once the MTA tells it */
static void
set_qid(struct dmarcd_msg *m, const char *qid)
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

/* key_lookup - the verifier's key lookup, through the resolver */
static enum dkim_key_status
key_lookup(void *arg, const char *qname, struct buf *record, int *secure)
{
	struct dmarcd_msg *m = arg;
	enum dns_status st;

	return dkim_key_dns(m->conf->dns, qname, record, secure, &st);
}

/* dmarcd_msg_envfrom - a new message */
void
dmarcd_msg_envfrom(struct dmarcd_msg *m, const char *sender,
    const struct dmarcd_env *env)
{
	dmarcd_msg_reset(m);
	m->started = 1;
	set_qid(m, env->qid);
	if ((m->sender = strip_brackets(sender)) == NULL) {
		m->error = 1;
		return;
	}
	if (m->conf->v.ignore_auth && env->auth != NULL && *env->auth != '\0')
		snprintf(m->skip, sizeof(m->skip), "authenticated sender");
	else if (m->conf->v.dkim_self &&
	    (m->verify = dkim_verify_new(NULL, key_lookup, m)) == NULL)
		m->error = 1;
	if (m->skip[0] == '\0' && m->conf->v.arc_self &&
	    (m->arcv = arc_new(NULL, key_lookup, m)) == NULL)
		m->error = 1;
}

/* dmarcd_msg_rcpt - note recipients whose mail stays out of the history */
void
dmarcd_msg_rcpt(struct dmarcd_msg *m, const char *rcpt)
{
	char *a;

	if (m->conf->ignore_to == NULL || (a = strip_brackets(rcpt)) == NULL)
		return;
	if (dataset_lookup(m->conf->ignore_to, a) != NULL)
		m->ignore_to = 1;
	free(a);
}

/* domain_of - the domain of "local@domain" or of a bare domain */
static void
domain_of(const char *v, char *out)
{
	const char *at = v != NULL ? strrchr(v, '@') : NULL;

	if (dmarc_domain_alabel(at != NULL ? at + 1 : v, out) < 0)
		out[0] = '\0';
}

/* take_results - the dkim= and spf= results of a trusted field */
static void
take_results(struct dmarcd_msg *m, const struct authres *ar)
{
	size_t i;
	int r;

	for (i = 0; i < ar->nres; i++) {
		const struct authres_resinfo *ri = &ar->res[i];
		const char *v;

		if ((r = dmarc_auth_parse(ri->result)) < 0)
			continue;
		if (strcmp(ri->method, "dkim") == 0) {
			struct dk *k;

			m->have_dkim = 1;
			if (m->ndkim == DMARC_MAX_DKIM)
				continue;
			k = &m->dkim[m->ndkim];
			if ((v = authres_prop_get(ri, "header", "d")) != NULL)
				domain_of(v, k->d);
			else if ((v = authres_prop_get(ri, "header", "i")) !=
			    NULL)
				domain_of(v, k->d);
			else
				k->d[0] = '\0';
			v = authres_prop_get(ri, "header", "s");
			snprintf(k->s, sizeof(k->s), "%s", v ? v : "");
			k->res = (enum dmarc_auth)r;
			m->ndkim++;
		} else if (strcmp(ri->method, "arc") == 0 &&
		    r == DMARC_AUTH_PASS) {
			v = authres_prop_get(ri, "arc", "chain");
			snprintf(m->arc_chain, sizeof(m->arc_chain), "%s",
			    v != NULL ? v : "");
		} else if (strcmp(ri->method, "spf") == 0 &&
		    !m->conf->v.spf_ignore) {
			if ((v = authres_prop_get(ri, "smtp", "mailfrom")) !=
			    NULL && *v != '\0') {
				domain_of(v, m->spf_domain);
				m->spf = (enum dmarc_auth)r;
				m->spf_helo = 0;
				m->have_spf = 2;
			} else if (m->have_spf < 2 && m->sender != NULL &&
			    m->sender[0] == '\0' && (v = authres_prop_get(ri,
			    "smtp", "helo")) != NULL) {
				/* the HELO identity counts for the null
				 * sender only (RFC 7489 section 3.1.2) */
				domain_of(v, m->spf_domain);
				m->spf = (enum dmarc_auth)r;
				m->spf_helo = 1;
				m->have_spf = 1;
			}
		}
	}
}

/* auth_results - an Authentication-Results field from the message */
static void
auth_results(struct dmarcd_msg *m, const char *value)
{
	struct authres ar;
	size_t n;

	n = arscrub_count(&m->ars);
	arscrub_header(&m->ars, servid(m), ARSCRUB_NAME, value);
	if (m->ars.failed)
		m->error = 1;
	if (arscrub_count(&m->ars) > n)
		return;		/* ours, forged: not read */
	memset(&ar, 0, sizeof(ar));
	if (authres_parse(value, strlen(value), &ar) == AUTHRES_NOMEM)
		m->error = 1;
	else if (trusted(m, ar.authserv_id))
		take_results(m, &ar);
	authres_free(&ar);
}

/* arc_field - one header field to our ARC validator, CRLF line breaks as
 * the library wants them; a field it cannot take (hostile ARC sets) only
 * makes the chain fail, which it notes itself */
static void
arc_field(struct dmarcd_msg *m, const char *name, const char *value)
{
	const char *p;

	buf_reset(&m->arcf);
	buf_puts(&m->arcf, name);
	buf_putc(&m->arcf, ':');
	for (p = value; *p != '\0'; p++) {
		if (*p == '\n' && (p == value || p[-1] != '\r'))
			buf_putc(&m->arcf, '\r');
		buf_putc(&m->arcf, *p);
	}
	if (m->arcf.failed || arc_header(m->arcv, m->arcf.s, m->arcf.len) ==
	    ARC_NOMEM)
		m->error = 1;
}

/* own_arc - our ARC validation: a passing chain names its sealers, which
 * the override checks against DomainWhitelist as a trusted arc=pass
 * field would (a trusted field's chain wins when there is one) */
static void
own_arc(struct dmarcd_msg *m)
{
	struct buf d = BUF_INIT;

	if (m->arcv == NULL || m->arc_chain[0] != '\0')
		return;
	if (arc_eom(m->arcv) == ARC_NOMEM) {
		m->error = 1;
		return;
	}
	if (arc_result(m->arcv) == ARC_CHAIN_PASS &&
	    arc_domains(m->arcv, &d) == 0 && d.len > 0)
		snprintf(m->arc_chain, sizeof(m->arc_chain), "%s", d.s);
	log_msg(LOG_DEBUG, m->qid, "ARC: %s%s%s", arc_chain_name(
	    arc_result(m->arcv)), *arc_reason(m->arcv) ? ": " : "",
	    arc_reason(m->arcv));
	buf_free(&d);
}

/* dmarcd_msg_header - one header field */
void
dmarcd_msg_header(struct dmarcd_msg *m, const char *name, const char *value)
{
	size_t i;

	if (!m->started)
		return;
	if (strcasecmp(name, "Authentication-Results") == 0)
		auth_results(m, value);
	for (i = 0; i < NONCE; i++)
		if (strcasecmp(name, once[i]) == 0)
			m->count[i]++;
	if (strcasecmp(name, "From") == 0)
		dmarc_from_field(&m->from, value, strlen(value));
	if (m->conf->v.failure_reports &&
	    m->headers.len < DMARCD_HEADERS_MAX) {
		buf_printf(&m->headers, "%s:%s\n", name, value);
		if (m->headers.failed)
			buf_reset(&m->headers);
	}
	if (m->verify != NULL) {
		struct buf f = BUF_INIT;

		buf_printf(&f, "%s:%s", name, value);
		if (f.failed || dkim_verify_header(m->verify, f.s, f.len) ==
		    DKIM_NOMEM)
			m->error = 1;
		buf_free(&f);
	}
	if (m->arcv != NULL)
		arc_field(m, name, value);
}

/* dmarcd_msg_eoh - end of the header */
void
dmarcd_msg_eoh(struct dmarcd_msg *m)
{
	if (m->verify != NULL && dkim_verify_eoh(m->verify) == DKIM_NOMEM)
		m->error = 1;
	if (m->arcv != NULL && arc_eoh(m->arcv) == ARC_NOMEM)
		m->error = 1;
}

/* dmarcd_msg_body - a body chunk */
void
dmarcd_msg_body(struct dmarcd_msg *m, const unsigned char *p, size_t n)
{
	if (m->verify != NULL && dkim_verify_body(m->verify, p, n) ==
	    DKIM_NOMEM)
		m->error = 1;
	if (m->arcv != NULL && arc_body(m->arcv, p, n) == ARC_NOMEM)
		m->error = 1;
}

/* own_dkim - our verification's results, when no trusted field had any */
static void
own_dkim(struct dmarcd_msg *m)
{
	static const enum dmarc_auth map[] = {
		[DKIM_RESULT_NONE] = DMARC_AUTH_NONE,
		[DKIM_RESULT_PASS] = DMARC_AUTH_PASS,
		[DKIM_RESULT_FAIL] = DMARC_AUTH_FAIL,
		[DKIM_RESULT_NEUTRAL] = DMARC_AUTH_NEUTRAL,
		[DKIM_RESULT_POLICY] = DMARC_AUTH_POLICY,
		[DKIM_RESULT_TEMPERROR] = DMARC_AUTH_TEMPERROR,
		[DKIM_RESULT_PERMERROR] = DMARC_AUTH_PERMERROR,
	};
	size_t i, n;

	if (m->have_dkim || m->verify == NULL)
		return;
	if (dkim_verify_eom(m->verify) == DKIM_NOMEM) {
		m->error = 1;
		return;
	}
	n = dkim_verify_count(m->verify);
	for (i = 0; i < n && m->ndkim < DMARC_MAX_DKIM; i++) {
		const struct dkim_sig_result *r = dkim_verify_result(m->verify,
		    i);
		struct dk *k = &m->dkim[m->ndkim++];

		domain_of(r->d, k->d);
		snprintf(k->s, sizeof(k->s), "%.63s", r->s);
		k->res = map[r->result];
	}
}

/* own_spf - our SPF check, when no trusted field had a result */
static void
own_spf(struct dmarcd_msg *m)
{
	static const enum dmarc_auth map[] = {
		[SPF_NONE] = DMARC_AUTH_NONE, [SPF_NEUTRAL] = DMARC_AUTH_NEUTRAL,
		[SPF_PASS] = DMARC_AUTH_PASS, [SPF_FAIL] = DMARC_AUTH_FAIL,
		[SPF_SOFTFAIL] = DMARC_AUTH_SOFTFAIL,
		[SPF_TEMPERROR] = DMARC_AUTH_TEMPERROR,
		[SPF_PERMERROR] = DMARC_AUTH_PERMERROR,
	};
	struct spf_request req;
	struct spf_response resp;
	enum spf_result r;

	if (m->have_spf || !m->conf->v.spf_self || m->addr[0] == '\0')
		return;
	memset(&req, 0, sizeof(req));
	memset(&resp, 0, sizeof(resp));
	req.ip = m->addr;
	req.sender = m->sender;
	req.helo = m->helo != NULL ? m->helo : "";
	req.receiver = m->conf->authserv_id;
	if (m->sender != NULL && m->sender[0] != '\0') {
		r = spf_check_host(m->conf->dns, &req, &resp);
		domain_of(m->sender, m->spf_domain);
		m->spf_helo = 0;
	} else {
		if (req.helo[0] == '\0')
			return;
		r = spf_check_helo(m->conf->dns, &req, &resp);
		domain_of(req.helo, m->spf_domain);
		m->spf_helo = 1;
	}
	spf_response_free(&resp);
	m->spf = map[r];
	m->have_spf = 1;
}

/* reply_text - dst gets text made safe for smfi_setreply */
static void
reply_text(char *dst, size_t size, const char *text)
{
	size_t o = 0;

	for (; *text != '\0' && o + 2 < size && o < DMARCD_REPLY_MAX; text++) {
		unsigned char c = (unsigned char)*text;

		if (c == '%') {
			dst[o++] = '%';
			dst[o++] = '%';
		} else
			dst[o++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	dst[o] = '\0';
}

/* set_reply - the SMTP answer */
static void
set_reply(struct dmarcd_outcome *out, enum dmarcd_action a,
    const char *rcode, const char *xcode, const char *text)
{
	out->action = a;
	out->rcode = rcode;
	out->xcode = xcode;
	reply_text(out->text, sizeof(out->text), text);
}

/* internal_error - the answer when we cannot go on */
static void
internal_error(struct dmarcd_outcome *out)
{
	set_reply(out, DMARCD_TEMPFAIL, "451", "4.3.0",
	    "Internal error in the DMARC milter");
}

/* add_edit - append an edit; value is taken over */
static void
add_edit(struct dmarcd_msg *m, enum hdr_edit_op op, const char *name,
    char *value, int index)
{
	hdr_edits_add(&m->edits, op, name, value, index);
	if (m->edits.failed)
		m->error = 1;
}

/* The evaluation of one From domain and what it asks for. */
struct dom_verdict {
	struct dmarc_eval	 e;
	int			 action;	/* DMARCD_ACT_* */
	int			 ignored;	/* in IgnoreMailFrom */
	char			 sealer[DMARC_NAME_MAX + 1];	/* ARC
					   override by this sealer, or "" */
};

/* arc_sealer - the first trusted sealer of a passing ARC chain, or 0 */
static int
arc_sealer(const struct dmarcd_msg *m, char *out)
{
	const char *p = m->arc_chain, *e;
	char d[DMARC_NAME_MAX + 1];
	size_t n;

	while (*p != '\0') {
		e = p + strcspn(p, ":, ");
		n = (size_t)(e - p);
		if (n > 0 && n <= DMARC_NAME_MAX) {
			memcpy(d, p, n);
			d[n] = '\0';
			if (dmarcd_conf_arc_sealer(m->conf, d)) {
				memcpy(out, d, n + 1);
				return 1;
			}
		}
		p = *e != '\0' ? e + 1 : e;
	}
	return 0;
}

/* severity - for choosing the strictest outcome */
static int
severity(int act)
{
	return act == DMARCD_ACT_REJECT ? 3 : act == DMARCD_ACT_TEMPFAIL ? 2 :
	    act == DMARCD_ACT_QUARANTINE ? 1 : 0;
}

/* decide - what this evaluation makes us do */
static int
decide(const struct dmarcd_msg *m, const struct dmarc_eval *e)
{
	const struct dmarcd_values *v = &m->conf->v;

	if (e->result == DMARC_RES_FAIL && e->dis == DMARC_DIS_REJECT &&
	    v->reject_failures)
		return DMARCD_ACT_REJECT;
	if (e->result == DMARC_RES_TEMPERROR && v->reject_failures)
		return DMARCD_ACT_TEMPFAIL;
	if (e->result == DMARC_RES_FAIL && e->dis == DMARC_DIS_QUARANTINE &&
	    v->hold_quarantined)
		return DMARCD_ACT_QUARANTINE;
	return DMARCD_ACT_ACCEPT;
}

/* comment - "p=... sp=... dis=..." for the A-R field */
static void
comment(const struct dmarc_eval *e, struct buf *c)
{
	const struct dmarc_record *r = &e->found.rec;

	if (e->result == DMARC_RES_NONE || e->result == DMARC_RES_PERMERROR ||
	    (e->result == DMARC_RES_TEMPERROR && e->policy == DMARC_P_UNSPEC))
		return;
	buf_printf(c, "p=%s sp=%s", dmarc_policy_name(r->p),
	    dmarc_policy_name(r->sp != DMARC_P_UNSPEC ? r->sp : r->p));
	if (r->np != DMARC_P_UNSPEC)
		buf_printf(c, " np=%s", dmarc_policy_name(r->np));
	buf_printf(c, " dis=%s", e->dis == DMARC_DIS_PASS ? "none" :
	    dmarc_dis_name(e->dis));
}

/* field - the Authentication-Results value for the verdicts */
static char *
field(struct dmarcd_msg *m, struct dom_verdict *vd, size_t n)
{
	struct authres_resinfo ri[DMARC_FROM_MAX];
	struct authres_prop pr[DMARC_FROM_MAX];
	struct buf cm[DMARC_FROM_MAX], out = BUF_INIT, id = BUF_INIT;
	size_t i, k = 0;

	buf_puts(&id, servid(m));
	if (m->conf->v.authservid_jobid && m->qid[0] != '\0')
		buf_printf(&id, "/%s", m->qid);
	memset(ri, 0, sizeof(ri));
	for (i = 0; i < n; i++) {
		buf_init(&cm[i]);
		if (vd[i].ignored)
			continue;
		comment(&vd[i].e, &cm[i]);
		if (vd[i].sealer[0] != '\0')
			buf_printf(&cm[i], "; overridden: ARC sealed by %s",
			    vd[i].sealer);
		ri[k].method = (char *)"dmarc";
		ri[k].result = (char *)dmarc_result_name(vd[i].e.result);
		ri[k].comment = cm[i].len ? cm[i].s : NULL;
		if (vd[i].e.found.author[0] != '\0') {
			pr[k].ptype = (char *)"header";
			pr[k].property = (char *)"from";
			pr[k].value = vd[i].e.found.author;
			ri[k].props = &pr[k];
			ri[k].nprops = 1;
		}
		k++;
	}
	if (n == 0) {
		/* no usable From domain */
		ri[0].method = (char *)"dmarc";
		ri[0].result = (char *)"permerror";
		k = 1;
	}
	authres_write(&out, AUTHRES_NAME_LEN, AUTHRES_LF, buf_str(&id), 0, ri,
	    k);
	for (i = 0; i < n; i++) {
		if (cm[i].failed)
			out.failed = 1;
		buf_free(&cm[i]);
	}
	if (id.failed)
		out.failed = 1;
	buf_free(&id);
	if (out.failed) {
		buf_free(&out);
		return NULL;
	}
	return buf_detach(&out);
}

/* history - one row per evaluated domain */
static void
history(struct dmarcd_msg *m, const struct dom_verdict *vd, int action)
{
	const struct dmarc_eval *e = &vd->e;
	const struct dmarc_record *rec = &e->found.rec;
	int has = e->found.domain[0] != '\0';
	struct dmarcd_hist_row *r;
	size_t i;

	if (m->conf->hist == NULL || m->ignore_to || vd->ignored ||
	    (!has && !m->conf->v.record_all))
		return;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return;
	r->received = time(NULL);
	snprintf(r->qid, sizeof(r->qid), "%s", m->qid);
	snprintf(r->reporter, sizeof(r->reporter), "%s", servid(m));
	snprintf(r->ip, sizeof(r->ip), "%s", m->addr);
	snprintf(r->from, sizeof(r->from), "%s", e->found.author);
	if (m->sender != NULL)
		domain_of(m->sender, r->mfrom);
	snprintf(r->pdomain, sizeof(r->pdomain), "%s", e->found.domain);
	r->mode = m->conf->dmarc.mode;
	r->has_record = has;
	if (has) {
		r->p = rec->p;
		r->sp = rec->sp;
		r->np = rec->np;
		r->adkim = rec->adkim;
		r->aspf = rec->aspf;
		r->pct = rec->pct;
		r->testing = rec->testing;
		snprintf(r->rua, sizeof(r->rua), "%s", rec->rua ? rec->rua :
		    "");
	}
	r->applied = e->policy;
	snprintf(r->spf_domain, sizeof(r->spf_domain), "%s",
	    m->have_spf ? m->spf_domain : "");
	r->spf_helo = m->spf_helo;
	r->spf = m->spf;
	for (i = 0; i < m->ndkim && i < DMARCD_HIST_SIGS; i++) {
		snprintf(r->sig[i].domain, sizeof(r->sig[i].domain), "%s",
		    m->dkim[i].d);
		snprintf(r->sig[i].selector, sizeof(r->sig[i].selector), "%s",
		    m->dkim[i].s);
		r->sig[i].result = m->dkim[i].res;
		r->sig[i].aligned = e->dkim_aligned == (int)i + 1;
	}
	r->nsig = i;
	r->result = e->result;
	r->dis = e->dis;
	r->action = action;
	r->dkim_aligned = e->dkim_aligned != 0;
	r->spf_aligned = e->spf_aligned;
	dmarcd_hist_put(m->conf->hist, r);
	free(r);
}

/* log_verdict - one line per evaluated domain */
static void
log_verdict(struct dmarcd_msg *m, const struct dom_verdict *vd, int act,
    int test)
{
	static const char *const what[] = {
		[DMARCD_ACT_ACCEPT] = "accepted", [DMARCD_ACT_REJECT] =
		"rejected", [DMARCD_ACT_QUARANTINE] = "held",
		[DMARCD_ACT_TEMPFAIL] = "deferred",
	};
	const struct dmarc_eval *e = &vd->e;

	log_msg(LOG_INFO, m->qid, "DMARC header.from=%s: %s (policy %s at %s, "
	    "dis=%s; %s): %s%s", e->found.author, dmarc_result_name(e->result),
	    dmarc_policy_name(e->policy), e->found.domain[0] ?
	    e->found.domain : "-", dmarc_dis_name(e->dis), e->reason,
	    test && act != DMARCD_ACT_ACCEPT ? "TestMode, would be " : "",
	    what[act]);
}

/* failure_report - RFC 6591 report of a failure, when one is due */
static void
failure_report(struct dmarcd_msg *m, const struct dmarc_eval *e)
{
	struct dmarcd_ruf_in in;
	enum dmarc_auth dk[DMARC_MAX_DKIM];
	size_t i;

	if (!m->conf->v.failure_reports || m->conf->v.test_mode)
		return;
	for (i = 0; i < m->ndkim; i++)
		dk[i] = m->dkim[i].res;
	memset(&in, 0, sizeof(in));
	in.e = e;
	in.qid = dmarcd_msg_qid(m);
	in.ip = m->addr;
	in.mailfrom = m->sender != NULL ? m->sender : "";
	in.servid = servid(m);
	in.headers = buf_str(&m->headers);
	in.dkim = dk;
	in.ndkim = m->ndkim;
	in.spf = m->have_spf ? m->spf : DMARC_AUTH_NONE;
	dmarcd_ruf_send(m->conf, &in);
}

/* required_ok - RFC 5322 3.6 field counts */
static int
required_ok(const struct dmarcd_msg *m)
{
	size_t i;

	for (i = 0; i < NONCE; i++)
		if (m->count[i] > 1)
			return 0;
	return m->count[0] == 1 && m->count[1] == 1;
}

/* evaluate - every From domain; the strictest action */
static int
evaluate(struct dmarcd_msg *m, struct dom_verdict *vd, size_t n)
{
	struct dmarc_dkim_in dk[DMARC_MAX_DKIM];
	struct dmarc_input in;
	size_t i;
	int worst = DMARCD_ACT_ACCEPT, act;

	own_dkim(m);
	own_arc(m);
	own_spf(m);
	for (i = 0; i < m->ndkim; i++) {
		dk[i].domain = m->dkim[i].d;
		dk[i].selector = m->dkim[i].s;
		dk[i].result = m->dkim[i].res;
	}
	memset(&in, 0, sizeof(in));
	in.dkim = dk;
	in.ndkim = m->ndkim;
	in.spf_domain = m->have_spf ? m->spf_domain : NULL;
	in.spf = m->have_spf ? m->spf : DMARC_AUTH_NONE;
	in.spf_helo = m->spf_helo;
	for (i = 0; i < n; i++) {
		if (m->conf->ignore_from != NULL &&
		    dataset_lookup(m->conf->ignore_from, m->from.domain[i]) !=
		    NULL) {
			vd[i].ignored = 1;
			log_msg(LOG_DEBUG, m->qid, "DMARC header.from=%s: in "
			    "IgnoreMailFrom, not evaluated", m->from.domain[i]);
			continue;
		}
		in.from = m->from.domain[i];
		in.sample = arc4random_uniform(100);
		dmarc_evaluate(m->conf->dns, &m->conf->dmarc, &in, &vd[i].e);
		act = decide(m, &vd[i].e);
		if (vd[i].e.result == DMARC_RES_FAIL && act !=
		    DMARCD_ACT_ACCEPT && arc_sealer(m, vd[i].sealer)) {
			log_msg(LOG_INFO, m->qid, "DMARC header.from=%s: fail "
			    "overridden (local_policy): a passing ARC chain "
			    "sealed by %s, in DomainWhitelist", in.from,
			    vd[i].sealer);
			act = DMARCD_ACT_ACCEPT;
		}
		vd[i].action = m->conf->v.test_mode ? DMARCD_ACT_ACCEPT : act;
		log_verdict(m, &vd[i], act, m->conf->v.test_mode);
		history(m, &vd[i], vd[i].action);
		failure_report(m, &vd[i].e);
		if (severity(vd[i].action) > severity(worst))
			worst = vd[i].action;
	}
	return worst;
}

/* refuse - RequiredHeaders or RejectMultiValueFrom: why, or NULL */
static const char *
refuse(const struct dmarcd_msg *m, enum dmarc_from_status fs)
{
	if (m->conf->v.required_headers && (!required_ok(m) ||
	    (fs != DMARC_FROM_OK && fs != DMARC_FROM_DOMAINS)))
		return "message header does not conform to RFC 5322 "
		    "section 3.6";
	if (m->conf->v.reject_multi_from && (fs == DMARC_FROM_DOMAINS ||
	    fs == DMARC_FROM_FIELDS))
		return "multi-valued From field detected";
	return NULL;
}

/* subst - RejectString with its %s replaced by the domain */
static void
subst(struct buf *t, const char *fmt, const char *dom)
{
	const char *p = strstr(fmt, "%s");

	if (p == NULL) {
		buf_puts(t, fmt);
		return;
	}
	buf_append(t, fmt, (size_t)(p - fmt));
	buf_puts(t, dom);
	buf_puts(t, p + 2);
}

/* apply - the answer for the strictest action */
static void
apply(struct dmarcd_msg *m, struct dom_verdict *vd, size_t n, int worst,
    struct dmarcd_outcome *out)
{
	const char *dom = "";
	struct buf t = BUF_INIT;
	size_t i;

	for (i = 0; i < n; i++)
		if (!vd[i].ignored && vd[i].action == worst)
			dom = vd[i].e.found.author;
	switch (worst) {
	case DMARCD_ACT_REJECT:
		subst(&t, m->conf->v.reject_string, dom);
		set_reply(out, DMARCD_REJECT, "550", "5.7.1",
		    t.failed ? "rejected by DMARC policy" : buf_str(&t));
		break;
	case DMARCD_ACT_TEMPFAIL:
		buf_printf(&t, "temporary error evaluating the DMARC policy of "
		    "%s; try again later", dom);
		set_reply(out, DMARCD_TEMPFAIL, "451", "4.7.5",
		    t.failed ? "temporary DMARC error" : buf_str(&t));
		break;
	case DMARCD_ACT_QUARANTINE:
		snprintf(m->quarantine, sizeof(m->quarantine), "DMARC "
		    "quarantine policy of %s", dom);
		out->quarantine = m->quarantine;
		break;
	}
	buf_free(&t);
	for (i = 0; i < n; i++)
		if (m->conf->v.copy_failures_to != NULL && !vd[i].ignored &&
		    vd[i].e.result == DMARC_RES_FAIL)
			out->addrcpt = m->conf->v.copy_failures_to;
}

/* dmarcd_msg_eom - the outcome of the message */
void
dmarcd_msg_eom(struct dmarcd_msg *m, const char *qid,
    struct dmarcd_outcome *out)
{
	struct dom_verdict vd[DMARC_FROM_MAX];
	enum dmarc_from_status fs = dmarc_from_result(&m->from);
	const char *why;
	size_t i, n = 0, ignored = 0;
	int worst = DMARCD_ACT_ACCEPT;
	char *v;

	memset(out, 0, sizeof(*out));
	out->action = DMARCD_CONTINUE;
	set_qid(m, qid);
	arscrub_edits(&m->ars, &m->edits);
	if (m->edits.failed)
		m->error = 1;
	if (arscrub_count(&m->ars) > 0)
		log_msg(LOG_INFO, m->qid, "removed %zu Authentication-Results "
		    "field(s) claiming our authserv-id %s",
		    arscrub_count(&m->ars), servid(m));
	memset(vd, 0, sizeof(vd));
	if (m->skip[0] != '\0') {
		log_msg(LOG_DEBUG, m->qid, "DMARC not evaluated: %s", m->skip);
		goto done;
	}
	if ((why = refuse(m, fs)) != NULL && !m->conf->v.test_mode) {
		log_msg(LOG_INFO, m->qid, "DMARC: %s (%s): rejected", why,
		    dmarc_from_strerror(fs));
		set_reply(out, DMARCD_REJECT, "550", "5.7.1", why);
		return;
	}
	if (fs == DMARC_FROM_OK || fs == DMARC_FROM_DOMAINS ||
	    fs == DMARC_FROM_FIELDS) {
		n = m->from.ndomains;
		worst = evaluate(m, vd, n);
	} else
		log_msg(LOG_INFO, m->qid, "DMARC: %s: permerror",
		    dmarc_from_strerror(fs));
	for (i = 0; i < n; i++)
		ignored += vd[i].ignored;
	if (n == 0 || ignored < n) {
		if (m->conf->v.software_header) {
			struct buf s = BUF_INIT;

			buf_printf(&s, "milter-dmarc v%s %s %s", VERSION,
			    servid(m), dmarcd_msg_qid(m));
			add_edit(m, HDR_EDIT_INSERT, "DMARC-Filter",
			    buf_detach(&s), 0);
		}
		v = field(m, vd, n);
		add_edit(m, HDR_EDIT_INSERT, "Authentication-Results", v, 0);
	}
	apply(m, vd, n, worst, out);
	for (i = 0; i < n; i++)
		dmarc_eval_clear(&vd[i].e);
done:
	if (m->error) {
		internal_error(out);
		out->quarantine = out->addrcpt = NULL;
		return;
	}
	out->edit = m->edits.v;
	out->nedit = m->edits.n;
}

/* dmarcd_msg_reset - drop the per-message state */
void
dmarcd_msg_reset(struct dmarcd_msg *m)
{
	dkim_verify_free(m->verify);
	arc_free(m->arcv);
	m->arcv = NULL;
	m->verify = NULL;
	hdr_edits_clear(&m->edits);
	buf_reset(&m->headers);
	free(m->sender);
	m->sender = NULL;
	m->skip[0] = m->qid[0] = m->quarantine[0] = '\0';
	m->started = m->ignore_to = m->error = 0;
	dmarc_from_init(&m->from);
	memset(m->count, 0, sizeof(m->count));
	m->ndkim = 0;
	m->have_dkim = m->have_spf = m->spf_helo = 0;
	m->spf = DMARC_AUTH_NONE;
	m->spf_domain[0] = m->arc_chain[0] = '\0';
	arscrub_reset(&m->ars);
}

/* dmarcd_msg_free - release a connection's context */
void
dmarcd_msg_free(struct dmarcd_msg *m)
{
	if (m == NULL)
		return;
	dmarcd_msg_reset(m);
	free(m->helo);
	arscrub_free(&m->ars);
	buf_free(&m->headers);
	buf_free(&m->arcf);
	hdr_edits_free(&m->edits);
	free(m);
}
