/*
 * NAME
 *	milter-spf - SPF (RFC 7208) checking milter
 * SYNOPSIS
 *	milter-spf [-fnVh] [-c file]
 * DESCRIPTION
 *	The daemon: the runtime (common/milter/daemon.c) does the command line,
 *	configuration, socket, logging and reloads; these callbacks hand
 *	each milter stage to spfd_msg and apply its answers.
 * SEE ALSO
 *	milter-spf(8), milter-spf.conf(5)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "log.h"
#include "spfd_conf.h"
#include "spfd_msg.h"

/* conn - the per-connection context, or NULL */
static struct spfd_msg *
conn(SMFICTX *ctx)
{
	return daemon_conn_getpriv(ctx);
}

/* mlfi_connect - a new SMTP client */
static sfsistat
mlfi_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	struct spfd_msg *m = spfd_msg_new(daemon_conn_config(ctx));
	char addr[INET6_ADDRSTRLEN];
	const char *a = NULL;
	int port = -1;

	if (m == NULL) {
		log_warnx("out of memory at connect");
		return daemon_verdict_error(ctx);
	}
	daemon_conn_setpriv(ctx, m);
	a = daemon_addr(sa, addr, sizeof(addr), &port);
	if (spfd_msg_connect(m, host, a, port)) {
		log_debug("%s: in PeerList, not processed", host);
		return SMFIS_ACCEPT;
	}
	return SMFIS_CONTINUE;
}

/* mlfi_helo - the HELO or EHLO name */
static sfsistat
mlfi_helo(SMFICTX *ctx, char *helo)
{
	struct spfd_msg *m = conn(ctx);

	if (m == NULL)
		return daemon_verdict_error(ctx);
	spfd_msg_helo(m, helo);
	return SMFIS_CONTINUE;
}

/* cancelled - the runtime's word on whether the checks should stop */
static int
cancelled(void *ctx)
{
	return daemon_cancelled(ctx);
}

/* mlfi_envfrom - a new message: check it */
static sfsistat
mlfi_envfrom(SMFICTX *ctx, char **argv)
{
	struct spfd_msg *m = conn(ctx);
	struct spfd_env env;

	if (m == NULL)
		return daemon_verdict_error(ctx);
	env.qid = smfi_getsymval(ctx, "i");
	env.auth = smfi_getsymval(ctx, "{auth_authen}");
	env.daemon = smfi_getsymval(ctx, "{daemon_name}");
	env.cancelled = cancelled;
	env.cancel_arg = ctx;
	spfd_msg_envfrom(m, argv[0], &env);
	return SMFIS_CONTINUE;
}

/* mlfi_envrcpt - one recipient: the verdict unless exempt */
static sfsistat
mlfi_envrcpt(SMFICTX *ctx, char **argv)
{
	struct spfd_msg *m = conn(ctx);
	struct verdict r;

	if (m == NULL)
		return daemon_verdict_error(ctx);
	spfd_msg_set_qid(m, smfi_getsymval(ctx, "i"));
	spfd_msg_rcpt(m, argv[0], &r);
	return daemon_verdict_send(ctx, &r);
}

/* mlfi_header - one header field */
static sfsistat
mlfi_header(SMFICTX *ctx, char *name, char *value)
{
	struct spfd_msg *m = conn(ctx);

	if (m == NULL)
		return daemon_verdict_error(ctx);
	spfd_msg_header(m, name, value);
	return SMFIS_CONTINUE;
}

/* mlfi_eom - end of message: apply the outcome */
static sfsistat
mlfi_eom(SMFICTX *ctx)
{
	struct spfd_msg *m = conn(ctx);
	struct spfd_outcome out;

	if (m == NULL)
		return daemon_verdict_error(ctx);
	spfd_msg_eom(m, smfi_getsymval(ctx, "i"), &out);
	if (daemon_edit_apply(ctx, spfd_msg_qid(m), out.edit,
	    out.nedit) < 0)
		return daemon_verdict_error(ctx);
	return daemon_verdict_send(ctx, &out.reply);
}

static const struct daemon_desc desc = {
	.name = "milter-spf",
	.conf_path = SYSCONFDIR "/milter-spf.conf",
	.conf_text = spfd_conf_default,
	.error_text = "Internal error in the SPF milter",
	.usage_extra = NULL,
	.conf_off = offsetof(struct spfd_conf, v.daemon),
	.load_config = spfd_conf_load,
	.free_config = spfd_conf_free,
	.msg_reset = spfd_msg_reset,
	.priv_free = spfd_msg_free,
	.milter = {
		.xxfi_name = "milter-spf",
		.xxfi_version = SMFI_VERSION,
		.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS,
		.xxfi_connect = mlfi_connect,
		.xxfi_helo = mlfi_helo,
		.xxfi_envfrom = mlfi_envfrom,
		.xxfi_envrcpt = mlfi_envrcpt,
		.xxfi_header = mlfi_header,
		.xxfi_eom = mlfi_eom,
	},
	.pflags = SMFIP_HDR_LEADSPC,
};

/* main - the runtime does it all */
int
main(int argc, char **argv)
{
	return daemon_main(&desc, argc, argv);
}
