/*
 * NAME
 *	milter-dkim - DKIM signing and verifying milter
 * SYNOPSIS
 *	milter-dkim [-fnVh] [-c file] [explain sender client [auth-user]]
 * DESCRIPTION
 *	The daemon: the runtime (common/milter/daemon.c) does the command line,
 *	configuration, socket and signals; these callbacks hand each milter
 *	stage to dkimd_msg and apply its outcome.  With "explain", it
 *	prints what would happen to a message from that sender and client,
 *	using the same policy code as the daemon, and exits 0 (would sign),
 *	1 (would verify only) or 2 (error).
 * SEE ALSO
 *	milter-dkim(8), milter-dkim.conf(5)
 */
#include <stddef.h>
#include <stdio.h>

#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "dkimd_conf.h"
#include "dkimd_msg.h"
#include "dkimd_policy.h"
#include "log.h"

/* conn - the per-connection context, or NULL */
static struct dkimd_msg *
conn(SMFICTX *ctx)
{
	return daemon_conn_getpriv(ctx);
}

/* internal_error - what to answer when we cannot go on */
static sfsistat
internal_error(SMFICTX *ctx)
{
	const struct dkimd_conf *c = daemon_conn_config(ctx);

	if (c != NULL && c->action[DKIMD_EV_INTERNAL] == DKIMD_ACCEPT)
		return SMFIS_ACCEPT;
	smfi_setreply(ctx, "451", "4.3.0", "Internal error in DKIM milter");
	return SMFIS_TEMPFAIL;
}

/* mlfi_connect - a new SMTP client */
static sfsistat
mlfi_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	struct dkimd_msg *m = dkimd_msg_new(daemon_conn_config(ctx));

	if (m == NULL) {
		log_warnx("out of memory at connect");
		return internal_error(ctx);
	}
	daemon_conn_setpriv(ctx, m);
	dkimd_msg_set_mta(m, smfi_getsymval(ctx, "j"));
	if (dkimd_msg_connect(m, host, sa)) {
		log_debug("%s: in PeerList, not processed", host);
		return SMFIS_ACCEPT;
	}
	return SMFIS_CONTINUE;
}

/* macro - MacroList lookups */
static const char *
macro(void *ctx, const char *name)
{
	return smfi_getsymval(ctx, (char *)name);
}

/* mlfi_envfrom - a new message */
static sfsistat
mlfi_envfrom(SMFICTX *ctx, char **argv)
{
	struct dkimd_msg *m = conn(ctx);
	const char *auth;

	if (m == NULL)
		return internal_error(ctx);
	if ((auth = smfi_getsymval(ctx, "{auth_authen}")) == NULL)
		auth = smfi_getsymval(ctx, "{auth_type}");
	dkimd_msg_envfrom(m, smfi_getsymval(ctx, "i"), auth,
	    smfi_getsymval(ctx, "{daemon_name}"), macro, ctx);
	return SMFIS_CONTINUE;
}

/* mlfi_header - one header field */
static sfsistat
mlfi_header(SMFICTX *ctx, char *name, char *value)
{
	struct dkimd_msg *m = conn(ctx);

	if (m == NULL)
		return internal_error(ctx);
	dkimd_msg_header(m, name, value);
	return SMFIS_CONTINUE;
}

/* mlfi_eoh - end of the header: decide */
static sfsistat
mlfi_eoh(SMFICTX *ctx)
{
	struct dkimd_msg *m = conn(ctx);

	if (m == NULL)
		return internal_error(ctx);
	dkimd_msg_set_qid(m, smfi_getsymval(ctx, "i"));
	dkimd_msg_eoh(m);
	return SMFIS_CONTINUE;
}

/* mlfi_body - a body chunk */
static sfsistat
mlfi_body(SMFICTX *ctx, unsigned char *p, size_t n)
{
	struct dkimd_msg *m = conn(ctx);

	if (m == NULL)
		return internal_error(ctx);
	dkimd_msg_body(m, p, n);
	return SMFIS_CONTINUE;
}

/* mlfi_eom - end of message: apply the outcome */
static sfsistat
mlfi_eom(SMFICTX *ctx)
{
	struct dkimd_msg *m = conn(ctx);
	struct dkimd_outcome out;
	sfsistat r = SMFIS_CONTINUE;

	if (m == NULL)
		return internal_error(ctx);
	dkimd_msg_set_qid(m, smfi_getsymval(ctx, "i"));
	dkimd_msg_eom(m, &out);
	if (daemon_edit_apply(ctx, dkimd_msg_qid(m), out.edit,
	    out.nedit) < 0)
		return internal_error(ctx);
	switch (out.action) {
	case DKIMD_ACCEPT:
		break;
	case DKIMD_QUARANTINE:
		smfi_quarantine(ctx, out.text[0] ? out.text : (char *)"DKIM");
		break;
	case DKIMD_DISCARD:
		r = SMFIS_DISCARD;
		break;
	case DKIMD_REJECT:
	case DKIMD_TEMPFAIL:
		smfi_setreply(ctx, (char *)out.rcode, (char *)out.xcode,
		    out.text);
		r = out.action == DKIMD_REJECT ? SMFIS_REJECT : SMFIS_TEMPFAIL;
		break;
	}
	return r;
}

/* msg_reset, msg_free - the runtime's hooks for our per-connection data */
static void
msg_reset(void *m)
{
	dkimd_msg_reset(m);
}

static void
msg_free(void *m)
{
	dkimd_msg_free(m);
}

/* OpenDKIM's option letters for keywords */
static const struct daemon_alias aliases[] = {
	{ 'b', "Mode" },
	{ 'd', "Domain" },
	{ 'k', "KeyFile" },
	{ 'o', "OmitHeaders" },
	{ 's', "Selector" },
	{ 0, NULL },
};

static int explain(const struct daemon_opts *);

static const struct daemon_desc desc = {
	.name = "milter-dkim",
	.conf_path = SYSCONFDIR "/milter-dkim.conf",
	.conf_text = dkimd_conf_default,
	.usage_extra = "       milter-dkim [-c file] explain sender "
	    "client-ip|host[client-ip] [auth-user]\n",
	.conf_off = offsetof(struct dkimd_conf, v.daemon),
	.aliases = aliases,
	.load_config = dkimd_conf_load,
	.free_config = dkimd_conf_free,
	.check_config = dkimd_conf_check_dns,
	.command_name = "explain",
	.command = explain,
	.msg_reset = msg_reset,
	.priv_free = msg_free,
	.milter = {
		.xxfi_name = "milter-dkim",
		.xxfi_version = SMFI_VERSION,
		.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS |
		    SMFIF_QUARANTINE,
		.xxfi_connect = mlfi_connect,
		.xxfi_envfrom = mlfi_envfrom,
		.xxfi_header = mlfi_header,
		.xxfi_eoh = mlfi_eoh,
		.xxfi_body = mlfi_body,
		.xxfi_eom = mlfi_eom,
	},
	.pflags = SMFIP_HDR_LEADSPC,
};

/* explain - what would happen to mail from sender via client-ip */
static int
explain(const struct daemon_opts *o)
{
	struct buf err = BUF_INIT;
	struct dkimd_conf *c;
	struct dkimd_client cl;
	struct dkimd_decision d;
	char *local, *at, *client, *bracket;
	size_t n;
	int rc;

	if (o->argc < 3 || o->argc > 4) {
		fprintf(stderr, "usage: milter-dkim [-c file] explain sender "
		    "client-ip|host[client-ip] [auth-user]\n");
		return 2;
	}
	if ((c = daemon_load(&desc, o, &err)) == NULL) {
		fprintf(stderr, "milter-dkim: %s\n", buf_str(&err));
		buf_free(&err);
		return 2;
	}
	if (err.len > 0)
		fprintf(stderr, "%s", buf_str(&err));
	buf_free(&err);
	if ((local = strdup(o->argv[1])) == NULL ||
	    (at = strrchr(local, '@')) == NULL) {
		fprintf(stderr, "milter-dkim: sender '%s' is not "
		    "user@domain\n", o->argv[1]);
		free(local);
		dkimd_conf_free(c);
		return 2;
	}
	*at = '\0';
	memset(&cl, 0, sizeof(cl));
	if ((client = strdup(o->argv[2])) == NULL) {
		fprintf(stderr, "milter-dkim: out of memory\n");
		free(local);
		dkimd_conf_free(c);
		return 2;
	}
	cl.addr = client;
	/* "host[addr]", as Postfix logs a client */
	n = strlen(client);
	if ((bracket = strchr(client, '[')) != NULL && bracket > client &&
	    client[n - 1] == ']') {
		client[n - 1] = '\0';
		*bracket = '\0';
		cl.hostname = client;
		cl.addr = bracket + 1;
	}
	cl.auth = o->argc == 4 ? o->argv[3] : NULL;
	if (dkimd_policy_decide(&c->policy, &cl, local, at + 1, &d) < 0) {
		fprintf(stderr, "milter-dkim: out of memory\n");
		rc = 2;
	} else {
		fputs(buf_str(&d.why), stdout);
		printf("result: %s\n", d.sign ? "sign" : d.tempfail ?
		    "refuse for now (key problem)" : d.verify ? "verify" :
		    "pass unchanged");
		rc = d.sign ? 0 : d.tempfail ? 2 : 1;
	}
	dkimd_decision_free(&d);
	free(client);
	free(local);
	dkimd_conf_free(c);
	return rc;
}

int
main(int argc, char **argv)
{
	return daemon_main(&desc, argc, argv);
}
