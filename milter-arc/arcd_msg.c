/*
 * NAME
 *	arcd_msg - one message through milter-arc
 * SYNOPSIS
 *	#include "arcd_msg.h"
 * DESCRIPTION
 *	At connect the client decides the mode when Mode is not set:
 *	InternalHosts seal, the others verify (OpenARC's rule); PeerList
 *	clients are not processed at all.  Every header field goes to the
 *	ARC library as received; Authentication-Results fields that claim
 *	our authserv-id with an arc= result (or a method none of the
 *	milters writes) are noted for deletion, since only we may write
 *	those.  At end of message the library validates the chain, then:
 *
 *	verify: an Authentication-Results field "id; arc=RESULT
 *	    [header.oldest-pass=N] [smtp.remote-ip=IP] [arc.chain=D:D]"
 *	    goes at the top;
 *	seal: a new ARC set goes above it (AS on top, then AMS, then AAR),
 *	    its AAR carrying the same arc= result and this hop's results
 *	    under our id.  With PermitAuthenticationOverrides an arc=
 *	    result of this hop's fields under our id gives the chain status
 *	    instead (an upstream milter-arc that trusted its client).
 *
 *	A header larger than MaximumHeaders gets ResponseUnwilling; our own
 *	failures (memory, an unusable key, a signing error) get
 *	ResponseUnable.
 * DIAGNOSTICS
 *	Per-message log lines carry the queue id.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arc.h"
#include "arcd_msg.h"
#include "arscrub.h"
#include "authres.h"
#include "log.h"

struct arcd_msg {
	const struct arcd_conf	*conf;
	unsigned		 mode;
	char			 host[256];
	char			 addr[64];
	char			 qid[64];
	struct arc		*arc;
	size_t			 hdr_bytes;
	int			 too_big, error, eoh;
	struct arscrub		 ars;			/* forged A-Rs to delete */
	int			 ar_override;		/* ARC_CHAIN_* + 1 */
	struct hdr_edits	 edits;
	struct buf		 field;
};

/* key_lookup - ARC key records through the resolver */
static enum dkim_key_status
key_lookup(void *arg, const char *qname, struct buf *record, int *secure)
{
	struct arcd_msg *m = arg;
	enum dkim_key_status k;
	enum dns_status st;

	k = dkim_key_dns(m->conf->dns, qname, record, secure, &st);
	if (k == DKIM_KEY_TEMPFAIL && st != DNS_OK)
		log_msg(LOG_WARNING, m->qid, "key lookup %s: %s", qname,
		    dns_strerror(st));
	return k;
}

/* arcd_msg_new - a connection's context */
struct arcd_msg *
arcd_msg_new(const struct arcd_conf *c)
{
	struct arcd_msg *m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	m->conf = c;
	m->mode = c->mode;
	buf_init(&m->field);
	arscrub_init(&m->ars, "arc");
	return m;
}

/* arcd_msg_connect - remember the client; 1 when it is a peer */
int
arcd_msg_connect(struct arcd_msg *m, const char *hostname, const char *addr)
{
	unsigned char a[16];
	const char *ad, *h;

	snprintf(m->host, sizeof(m->host), "%s", hostname ? hostname : "");
	m->addr[0] = '\0';
	if (addr != NULL && (inet_pton(AF_INET, addr, a) == 1 ||
	    inet_pton(AF_INET6, addr, a) == 1))
		snprintf(m->addr, sizeof(m->addr), "%s", addr);
	ad = m->addr[0] ? m->addr : NULL;
	h = m->host[0] && m->host[0] != '[' ? m->host : NULL;
	if (m->conf->peers != NULL &&
	    hostlist_match_addr(m->conf->peers, ad, h))
		return 1;
	if (m->conf->mode == 0)
		m->mode = m->conf->internal != NULL &&
		    hostlist_match_addr(m->conf->internal, ad, h) ?
		    ARCD_MODE_SIGN : ARCD_MODE_VERIFY;
	return 0;
}

/* arcd_msg_mode - the mode in force */
unsigned
arcd_msg_mode(const struct arcd_msg *m)
{
	return m->mode;
}

/* arcd_msg_set_qid - the MTA's queue id, once known */
void
arcd_msg_set_qid(struct arcd_msg *m, const char *qid)
{
	if (qid != NULL && *qid != '\0')
		snprintf(m->qid, sizeof(m->qid), "%s", qid);
}

/* arcd_msg_qid - the queue id, or "NOQUEUE" */
const char *
arcd_msg_qid(const struct arcd_msg *m)
{
	return m->qid[0] ? m->qid : "NOQUEUE";
}

/* start - the library context, at the first field */
static int
start(struct arcd_msg *m)
{
	struct arc_opts o = ARC_OPTS_INIT;

	if (m->arc != NULL)
		return 0;
	o.min_key_bits = m->conf->min_key_bits;
	if ((m->arc = arc_new(&o, key_lookup, m)) == NULL)
		m->error = 1;
	return m->error ? -1 : 0;
}

/* ar_field - an Authentication-Results field: ours to delete, or a
 * PermitAuthenticationOverrides result */
static void
ar_field(struct arcd_msg *m, const char *value)
{
	struct authres ar;
	const struct authres_resinfo *r;
	size_t pos = 0;
	int claims;

	arscrub_header(&m->ars, m->conf->authserv_id, ARSCRUB_NAME, value);
	if (m->ars.failed)
		m->error = 1;
	claims = authres_claims(value, m->conf->authserv_id, "arc");
	if (!m->conf->v.override_cv || claims == 0 ||
	    authres_is_ours(value, m->conf->authserv_id) != 1)
		return;
	memset(&ar, 0, sizeof(ar));
	if (authres_parse(value, strlen(value), &ar) == AUTHRES_OK &&
	    (r = authres_find(&ar, "arc", &pos)) != NULL) {
		if (strcmp(r->result, "pass") == 0)
			m->ar_override = ARC_CHAIN_PASS + 1;
		else if (strcmp(r->result, "fail") == 0)
			m->ar_override = ARC_CHAIN_FAIL + 1;
		else if (strcmp(r->result, "none") == 0)
			m->ar_override = ARC_CHAIN_NONE + 1;
	}
	authres_free(&ar);
}

/* arcd_msg_header - one field to the library, CRLF line breaks */
void
arcd_msg_header(struct arcd_msg *m, const char *name, const char *value)
{
	const char *p;

	if (strcasecmp(name, "Authentication-Results") == 0)
		ar_field(m, value);
	if (m->error || m->too_big || start(m) < 0)
		return;
	m->hdr_bytes += strlen(name) + strlen(value) + 3;
	if (m->conf->v.max_headers > 0 &&
	    m->hdr_bytes > (size_t)m->conf->v.max_headers) {
		m->too_big = 1;
		return;
	}
	buf_reset(&m->field);
	buf_puts(&m->field, name);
	buf_putc(&m->field, ':');
	for (p = value; *p != '\0'; p++) {
		if (*p == '\n' && (p == value || p[-1] != '\r'))
			buf_putc(&m->field, '\r');
		buf_putc(&m->field, *p);
	}
	if (m->field.failed || arc_header(m->arc, m->field.s,
	    m->field.len) != ARC_OK)
		m->error = 1;
}

/* arcd_msg_eoh - end of the header */
void
arcd_msg_eoh(struct arcd_msg *m)
{
	if (m->error || m->too_big || start(m) < 0)
		return;
	m->eoh = 1;
	if (arc_eoh(m->arc) != ARC_OK)
		m->error = 1;
}

/* arcd_msg_body - a body chunk */
void
arcd_msg_body(struct arcd_msg *m, const unsigned char *p, size_t n)
{
	if (m->error || m->too_big)
		return;
	if (!m->eoh)
		arcd_msg_eoh(m);
	if (!m->error && arc_body(m->arc, p, n) != ARC_OK)
		m->error = 1;
}

/* lf_fold - a library value (CRLF folding) as the MTA wants it (LF) */
static char *
lf_fold(const struct buf *v)
{
	const char *p;
	char *out, *q;

	if (v->failed || v->s == NULL || (out = malloc(v->len + 1)) == NULL)
		return NULL;
	for (p = v->s, q = out; *p != '\0'; p++)
		if (*p != '\r')
			*q++ = *p;
	*q = '\0';
	return out;
}

/* own_result - "arc=R [header.oldest-pass=N] [smtp.remote-ip=IP]" */
static void
own_result(struct arcd_msg *m, enum arc_chain r, struct buf *out)
{
	int oldest = arc_oldest_pass(m->arc);

	buf_printf(out, "arc=%s", arc_chain_name(r));
	if (r == ARC_CHAIN_FAIL && arc_reason(m->arc)[0] != '\0')
		buf_printf(out, " (%s)", arc_reason(m->arc));
	if (r == ARC_CHAIN_PASS && oldest >= 0)
		buf_printf(out, " header.oldest-pass=%d", oldest);
	if (m->conf->v.authres_ip && m->addr[0] != '\0')
		buf_printf(out, strchr(m->addr, ':') ? " smtp.remote-ip=\"%s\"" :
		    " smtp.remote-ip=%s", m->addr);
}

/* add - append an insertion at the top */
static void
add(struct arcd_msg *m, const char *name, char *value)
{
	hdr_edits_add(&m->edits, HDR_EDIT_INSERT, name, value, 0);
}

/* seal - the new set, inserted above everything; -1 on our failure */
static int
seal(struct arcd_msg *m, enum arc_chain r, const char *own)
{
	const struct arcd_conf *c = m->conf;
	struct arc_seal_opts o;
	struct arc_set set;
	enum arc_seal_status st;
	const char *why;

	if (c->key == NULL)
		return 0;		/* no sealing configured */
	if (c->key_error != NULL) {
		log_msg(LOG_ERR, m->qid, "cannot seal: %s", c->key_error);
		return -1;
	}
	memset(&o, 0, sizeof(o));
	o.key = c->key;
	o.domain = c->v.domain;
	o.selector = c->v.selector;
	o.authserv_id = c->authserv_id;
	o.hcanon = c->hcanon;
	o.bcanon = c->bcanon;
	o.headers = c->signhdrs_set ? c->signhdrs : NULL;
	o.oversign = c->oversign;
	o.now = c->fixed_time;
	o.expire = (unsigned long)c->v.signature_ttl;
	o.this_hop = 1;
	if (m->ar_override)
		r = (enum arc_chain)(m->ar_override - 1);
	st = arc_seal(m->arc, &o, r, own, &set, &why);
	if (st == ARC_SEAL_SKIP) {
		log_msg(LOG_INFO, m->qid, "not sealed: %s", why);
		return 0;
	}
	if (st != ARC_SEAL_OK) {
		log_msg(LOG_ERR, m->qid, "sealing failed: %s", why);
		return -1;
	}
	add(m, ARC_AAR_HEADER, lf_fold(&set.aar));
	add(m, ARC_AMS_HEADER, lf_fold(&set.ams));
	add(m, ARC_SEAL_HEADER, lf_fold(&set.as));
	log_msg(LOG_INFO, m->qid, "sealed: i=%u cv=%s", set.instance,
	    arc_chain_name(set.cv));
	arc_set_free(&set);
	return 0;
}

/* set_action - the reply for an action */
static void
set_action(struct arcd_msg *m, struct arcd_outcome *out,
    enum arcd_action a, const char *text)
{
	out->action = a;
	if (a == ARCD_REJECT || a == ARCD_TEMPFAIL) {
		out->rcode = a == ARCD_REJECT ? "550" : "451";
		out->xcode = a == ARCD_REJECT ? "5.7.0" : "4.7.0";
		snprintf(out->text, sizeof(out->text), "%s", text);
	}
	if (a != ARCD_ACCEPT)
		log_msg(LOG_NOTICE, m->qid, "%s: %s", text,
		    arcd_action_name(a));
}

/* arcd_msg_eom - the outcome of the message */
void
arcd_msg_eom(struct arcd_msg *m, struct arcd_outcome *out)
{
	struct buf own = BUF_INIT, ar = BUF_INIT, chain = BUF_INIT;
	enum arc_chain r;
	int failed = 0;

	memset(out, 0, sizeof(out[0]));
	if (m->too_big) {
		set_action(m, out, m->conf->on_unwilling, "message header "
		    "larger than MaximumHeaders");
		goto done;
	}
	if (!m->error && start(m) == 0 && arc_eom(m->arc) != ARC_OK)
		m->error = 1;
	if (m->error) {
		set_action(m, out, m->conf->on_unable, "internal error in the "
		    "ARC milter");
		goto done;
	}
	r = arc_result(m->arc);
	own_result(m, r, &own);
	log_msg(LOG_INFO, m->qid, "%s", buf_str(&own));
	/* forged results claiming our authserv-id go, whatever else */
	arscrub_edits(&m->ars, &m->edits);
	if (m->mode & ARCD_MODE_VERIFY) {
		buf_printf(&ar, "%s; %s", m->conf->authserv_id, buf_str(&own));
		if (m->conf->v.final_receiver && arc_domains(m->arc,
		    &chain) == 0 && chain.len > 0)
			buf_printf(&ar, " arc.chain=\"%s\"", chain.s);
		add(m, "Authentication-Results", ar.failed ? NULL :
		    buf_detach(&ar));
	}
	if ((m->mode & ARCD_MODE_SIGN) && seal(m, r, own.s) < 0)
		failed = 1;
	if (m->conf->v.software_header) {
		struct buf v = BUF_INIT;

		buf_printf(&v, "milter-arc v%s %s %s", VERSION,
		    m->conf->authserv_id, arcd_msg_qid(m));
		add(m, "ARC-Filter", v.failed ? NULL : buf_detach(&v));
		buf_free(&v);
	}
	if (failed || own.failed || m->edits.failed) {
		hdr_edits_clear(&m->edits);
		set_action(m, out, m->conf->on_unable, "internal error in the "
		    "ARC milter");
	}
done:
	buf_free(&own);
	buf_free(&ar);
	buf_free(&chain);
	hdr_edits_order(&m->edits);
	out->edit = m->edits.v;
	out->nedit = out->action == ARCD_ACCEPT ? m->edits.n : 0;
}

/* arcd_msg_reset - drop the per-message state */
void
arcd_msg_reset(struct arcd_msg *m)
{
	arc_free(m->arc);
	m->arc = NULL;
	hdr_edits_clear(&m->edits);
	buf_reset(&m->field);
	m->hdr_bytes = 0;
	m->too_big = m->error = m->eoh = 0;
	arscrub_reset(&m->ars);
	m->ar_override = 0;
	m->qid[0] = '\0';
}

/* arcd_msg_free - release a connection's context */
void
arcd_msg_free(struct arcd_msg *m)
{
	if (m == NULL)
		return;
	arcd_msg_reset(m);
	buf_free(&m->field);
	arscrub_free(&m->ars);
	hdr_edits_free(&m->edits);
	free(m);
}
