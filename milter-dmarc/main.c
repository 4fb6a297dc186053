/*
 * NAME
 *	milter-dmarc - DMARC (RFC 7489, RFC 9989) policy milter
 * SYNOPSIS
 *	milter-dmarc [-fnVh] [-c file] [explain from-domain]
 * DESCRIPTION
 *	The daemon: the runtime (common/milter/daemon.c) does the command
 *	line, configuration, socket, logging and reloads; these callbacks
 *	hand each milter stage to dmarcd_msg and apply its outcome.  With
 *	"explain", it prints how the policy of a From domain is found,
 *	question by question, and what it is, without a message.
 * SEE ALSO
 *	milter-dmarc(8), milter-dmarc.conf(5)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "dmarcd_conf.h"
#include "dmarcd_msg.h"
#include "log.h"

/* conn - the per-connection context, or NULL */
static struct dmarcd_msg *
conn(SMFICTX *ctx)
{
	return daemon_conn_getpriv(ctx);
}

/* internal_error - what to answer when we cannot go on */
static sfsistat
internal_error(SMFICTX *ctx)
{
	return daemon_verdict_error(ctx);
}

/* mlfi_connect - a new SMTP client */
static sfsistat
mlfi_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	struct dmarcd_msg *m = dmarcd_msg_new(daemon_conn_config(ctx));
	char addr[INET6_ADDRSTRLEN];
	const char *a = NULL;

	if (m == NULL) {
		log_warnx("out of memory at connect");
		return internal_error(ctx);
	}
	daemon_conn_setpriv(ctx, m);
	dmarcd_msg_set_mta(m, smfi_getsymval(ctx, "j"));
	a = daemon_addr(sa, addr, sizeof(addr), NULL);
	if (dmarcd_msg_connect(m, host, a)) {
		log_debug("%s [%s]: in IgnoreHosts, not evaluated", host,
		    a ? a : "");
		return SMFIS_ACCEPT;
	}
	return SMFIS_CONTINUE;
}

/* mlfi_helo - the HELO or EHLO name */
static sfsistat
mlfi_helo(SMFICTX *ctx, char *helo)
{
	struct dmarcd_msg *m = conn(ctx);

	if (m == NULL)
		return internal_error(ctx);
	dmarcd_msg_helo(m, helo);
	return SMFIS_CONTINUE;
}

/* mlfi_envfrom - a new message */
static sfsistat
mlfi_envfrom(SMFICTX *ctx, char **argv)
{
	struct dmarcd_msg *m = conn(ctx);
	struct dmarcd_env env;

	if (m == NULL)
		return internal_error(ctx);
	env.qid = smfi_getsymval(ctx, "i");
	env.auth = smfi_getsymval(ctx, "{auth_authen}");
	dmarcd_msg_envfrom(m, argv[0], &env);
	return SMFIS_CONTINUE;
}

/* mlfi_envrcpt - one recipient */
static sfsistat
mlfi_envrcpt(SMFICTX *ctx, char **argv)
{
	struct dmarcd_msg *m = conn(ctx);

	if (m == NULL)
		return internal_error(ctx);
	dmarcd_msg_rcpt(m, argv[0]);
	return SMFIS_CONTINUE;
}

/* mlfi_header - one header field */
static sfsistat
mlfi_header(SMFICTX *ctx, char *name, char *value)
{
	struct dmarcd_msg *m = conn(ctx);

	if (m == NULL)
		return internal_error(ctx);
	dmarcd_msg_header(m, name, value);
	return SMFIS_CONTINUE;
}

/* mlfi_eoh - end of the header */
static sfsistat
mlfi_eoh(SMFICTX *ctx)
{
	struct dmarcd_msg *m = conn(ctx);

	if (m == NULL)
		return internal_error(ctx);
	dmarcd_msg_eoh(m);
	return SMFIS_CONTINUE;
}

/* mlfi_body - a body chunk */
static sfsistat
mlfi_body(SMFICTX *ctx, unsigned char *p, size_t n)
{
	struct dmarcd_msg *m = conn(ctx);

	if (m == NULL)
		return internal_error(ctx);
	dmarcd_msg_body(m, p, n);
	return SMFIS_CONTINUE;
}

/* mlfi_eom - end of message: apply the outcome */
static sfsistat
mlfi_eom(SMFICTX *ctx)
{
	struct dmarcd_msg *m = conn(ctx);
	struct dmarcd_outcome out;
	struct verdict v;

	if (m == NULL)
		return internal_error(ctx);
	dmarcd_msg_eom(m, smfi_getsymval(ctx, "i"), &out);
	if (daemon_edit_apply(ctx, dmarcd_msg_qid(m), out.edit,
	    out.nedit) < 0)
		return internal_error(ctx);
	if (out.addrcpt != NULL && smfi_addrcpt(ctx, (char *)out.addrcpt) !=
	    MI_SUCCESS)
		log_msg(LOG_WARNING, dmarcd_msg_qid(m), "CopyFailuresTo: the "
		    "MTA refused to add %s", out.addrcpt);
	if (out.quarantine != NULL && smfi_quarantine(ctx,
	    (char *)out.quarantine) != MI_SUCCESS)
		log_msg(LOG_WARNING, dmarcd_msg_qid(m), "the MTA refused to "
		    "hold the message");
	verdict_set(&v, out.action == DMARCD_REJECT ? VERDICT_REJECT :
	    out.action == DMARCD_TEMPFAIL ? VERDICT_TEMPFAIL :
	    VERDICT_CONTINUE, out.rcode, out.xcode, out.text);
	return daemon_verdict_send(ctx, &v);
}

/* msg_reset, msg_free - the runtime's hooks for our per-connection data */
static void
msg_reset(void *m)
{
	dmarcd_msg_reset(m);
}

static void
msg_free(void *m)
{
	dmarcd_msg_free(m);
}

static int explain(const struct daemon_opts *);

static const struct daemon_desc desc = {
	.name = "milter-dmarc",
	.conf_path = SYSCONFDIR "/milter-dmarc.conf",
	.conf_text = dmarcd_conf_default,
	.error_text = "Internal error in the DMARC milter",
	.usage_extra = "       milter-dmarc [-c file] explain from-domain\n",
	.conf_off = offsetof(struct dmarcd_conf, v.daemon),
	.load_config = dmarcd_conf_load,
	.free_config = dmarcd_conf_free,
	.check_config = dmarcd_conf_check,
	.command_name = "explain",
	.command = explain,
	.msg_reset = msg_reset,
	.priv_free = msg_free,
	.milter = {
		.xxfi_name = "milter-dmarc",
		.xxfi_version = SMFI_VERSION,
		.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS |
		    SMFIF_QUARANTINE | SMFIF_ADDRCPT,
		.xxfi_connect = mlfi_connect,
		.xxfi_helo = mlfi_helo,
		.xxfi_envfrom = mlfi_envfrom,
		.xxfi_envrcpt = mlfi_envrcpt,
		.xxfi_header = mlfi_header,
		.xxfi_eoh = mlfi_eoh,
		.xxfi_body = mlfi_body,
		.xxfi_eom = mlfi_eom,
	},
	.pflags = SMFIP_HDR_LEADSPC,
};

/* trace - print one DNS question of the walk */
static void
trace(void *arg, const char *q, enum dns_status st, unsigned n,
    const char *note)
{
	unsigned *k = arg;

	(void)n;
	printf("  %u. %s TXT: %s: %s\n", ++*k, q, dns_strerror(st), note);
}

/* explain - how the policy of a From domain is found, and what it is */
static int
explain(const struct daemon_opts *o)
{
	struct buf err = BUF_INIT;
	struct dmarcd_conf *c;
	struct dmarc_opts d;
	struct dmarc_found f;
	char dom[DMARC_NAME_MAX + 1], org[DMARC_NAME_MAX + 1];
	enum dmarc_disc st;
	const struct dmarc_record *r = &f.rec;
	unsigned k = 0;
	int bis;

	if (o->argc != 2) {
		fprintf(stderr, "usage: milter-dmarc [-c file] explain "
		    "from-domain\n");
		return 2;
	}
	if ((c = daemon_load(&desc, o, &err)) == NULL) {
		fprintf(stderr, "milter-dmarc: %s\n", buf_str(&err));
		buf_free(&err);
		return 2;
	}
	buf_free(&err);
	if (dmarc_domain_alabel(o->argv[1], dom) < 0) {
		fprintf(stderr, "milter-dmarc: '%s' is not a domain name\n",
		    o->argv[1]);
		dmarcd_conf_free(c);
		return 2;
	}
	d = c->dmarc;
	d.trace = trace;
	d.trace_arg = &k;
	bis = d.mode == DMARC_MODE_BIS;
	printf("policy discovery for %s (%s):\n", dom, bis ?
	    "RFC 9989 DNS tree walk" : "RFC 7489, public suffix list");
	st = dmarc_discover(c->dns, &d, dom, &f);
	if (st == DMARC_DISC_FOUND) {
		enum dmarc_policy p = f.at_author ? r->p : f.nonexistent &&
		    r->np != DMARC_P_UNSPEC ? r->np : r->sp != DMARC_P_UNSPEC ?
		    r->sp : r->p;

		printf("record: at %s (%s)\n", f.domain, f.at_author ?
		    "the author domain: p= applies" : f.nonexistent &&
		    r->np != DMARC_P_UNSPEC ? "above it, and the author "
		    "domain does not exist: np= applies" : r->sp !=
		    DMARC_P_UNSPEC ? "above it: sp= applies" :
		    "above it, no sp=: p= applies");
		printf("policy: %s%s\n", dmarc_policy_name(p), r->p_default ?
		    " (p= absent or invalid: none)" : "");
		printf("alignment: adkim=%s aspf=%s\n", r->adkim ==
		    DMARC_ALIGN_STRICT ? "s (strict)" : "r (relaxed)",
		    r->aspf == DMARC_ALIGN_STRICT ? "s (strict)" :
		    "r (relaxed)");
		if (bis && r->testing)
			printf("testing: t=y: a failing message gets the "
			    "next milder policy\n");
		if (!bis && r->pct < 100)
			printf("pct: %d%% of failing messages get the "
			    "policy, the others the next milder one\n",
			    r->pct);
		if (r->rua != NULL)
			printf("rua: %s\n", r->rua);
	} else
		printf("no policy: %s\n", dmarc_disc_strerror(st));
	dmarc_found_clear(&f);
	if (st == DMARC_DISC_FOUND || st == DMARC_DISC_NONE) {
		k = 0;
		printf("organizational domain of %s:\n", dom);
		if (!bis)
			printf("  (public suffix list)\n");
		dmarc_org_domain(c->dns, &d, dom, org);
		printf("organizational domain: %s\n", org);
	}
	dmarcd_conf_free(c);
	return st == DMARC_DISC_FOUND ? 0 : st == DMARC_DISC_NONE ? 1 : 2;
}

/* main - the runtime does it all */
int
main(int argc, char **argv)
{
	return daemon_main(&desc, argc, argv);
}
