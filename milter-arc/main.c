/*
 * NAME
 *	milter-arc - ARC (RFC 8617) validating and sealing milter
 * SYNOPSIS
 *	milter-arc [-fnVh] [-c file]
 * DESCRIPTION
 *	The daemon: the runtime (common/milter/daemon.c) does the command
 *	line, configuration, socket and signals; these callbacks hand each
 *	milter stage to arcd_msg and apply its outcome.
 * SEE ALSO
 *	milter-arc(8), milter-arc.conf(5)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arcd_conf.h"
#include "arcd_msg.h"
#include "daemon.h"
#include "log.h"

/* conn - the per-connection context, or NULL */
static struct arcd_msg *
conn(SMFICTX *ctx)
{
	return daemon_conn_getpriv(ctx);
}

/* answer - a configured action as the milter's reply */
static sfsistat
answer(SMFICTX *ctx, enum arcd_action a, const char *rcode,
    const char *xcode, const char *text)
{
	static const enum verdict_action map[] = {
		[ARCD_ACCEPT] = VERDICT_ACCEPT,
		[ARCD_DISCARD] = VERDICT_DISCARD,
		[ARCD_REJECT] = VERDICT_REJECT,
		[ARCD_TEMPFAIL] = VERDICT_TEMPFAIL,
	};
	struct verdict v;

	verdict_set(&v, map[a], rcode, xcode, text);
	return daemon_verdict_send(ctx, &v);
}

/* internal_error - ResponseUnable, when we cannot go on */
static sfsistat
internal_error(SMFICTX *ctx)
{
	const struct arcd_conf *c = daemon_conn_config(ctx);
	enum arcd_action a = c != NULL ? c->on_unable : ARCD_TEMPFAIL;

	return answer(ctx, a, a == ARCD_REJECT ? "550" : "451",
	    a == ARCD_REJECT ? "5.3.0" : "4.3.0",
	    "Internal error in the ARC milter");
}

/* mlfi_connect - a new SMTP client */
static sfsistat
mlfi_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	const struct arcd_conf *c = daemon_conn_config(ctx);
	struct arcd_msg *m = arcd_msg_new(c);
	char addr[INET6_ADDRSTRLEN];
	const char *a = NULL;

	if (m == NULL) {
		log_warnx("out of memory at connect");
		return internal_error(ctx);
	}
	daemon_conn_setpriv(ctx, m);
	a = daemon_addr(sa, addr, sizeof(addr), NULL);
	if (arcd_msg_connect(m, host, a)) {
		log_debug("%s: in PeerList, not processed", host);
		return answer(ctx, c->on_disabled, "550", "5.7.0",
		    "Not accepted from this host");
	}
	return SMFIS_CONTINUE;
}

/* mlfi_header - one header field */
static sfsistat
mlfi_header(SMFICTX *ctx, char *name, char *value)
{
	struct arcd_msg *m = conn(ctx);

	if (m == NULL)
		return internal_error(ctx);
	arcd_msg_header(m, name, value);
	return SMFIS_CONTINUE;
}

/* mlfi_eoh - end of the header */
static sfsistat
mlfi_eoh(SMFICTX *ctx)
{
	struct arcd_msg *m = conn(ctx);

	if (m == NULL)
		return internal_error(ctx);
	arcd_msg_set_qid(m, smfi_getsymval(ctx, "i"));
	arcd_msg_eoh(m);
	return SMFIS_CONTINUE;
}

/* mlfi_body - a body chunk */
static sfsistat
mlfi_body(SMFICTX *ctx, unsigned char *p, size_t n)
{
	struct arcd_msg *m = conn(ctx);

	if (m == NULL)
		return internal_error(ctx);
	arcd_msg_body(m, p, n);
	return SMFIS_CONTINUE;
}

/* mlfi_eom - end of message: apply the outcome */
static sfsistat
mlfi_eom(SMFICTX *ctx)
{
	struct arcd_msg *m = conn(ctx);
	struct arcd_outcome out;

	if (m == NULL)
		return internal_error(ctx);
	arcd_msg_set_qid(m, smfi_getsymval(ctx, "i"));
	arcd_msg_eom(m, &out);
	if (daemon_edit_apply(ctx, arcd_msg_qid(m), out.edit,
	    out.nedit) < 0)
		return internal_error(ctx);
	return answer(ctx, out.action, out.rcode, out.xcode, out.text);
}

/* msg_reset, msg_free - the runtime's hooks for our per-connection data */
static void
msg_reset(void *m)
{
	arcd_msg_reset(m);
}

static void
msg_free(void *m)
{
	arcd_msg_free(m);
}

static const struct daemon_desc desc = {
	.name = "milter-arc",
	.conf_path = SYSCONFDIR "/milter-arc.conf",
	.conf_text = arcd_conf_default,
	.error_text = "Internal error in the ARC milter",
	.usage_extra = NULL,
	.conf_off = offsetof(struct arcd_conf, v.daemon),
	.aliases = NULL,
	.load_config = arcd_conf_load,
	.free_config = arcd_conf_free,
	.check_config = arcd_conf_check_dns,
	.msg_reset = msg_reset,
	.priv_free = msg_free,
	.milter = {
		.xxfi_name = "milter-arc",
		.xxfi_version = SMFI_VERSION,
		.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS,
		.xxfi_connect = mlfi_connect,
		.xxfi_header = mlfi_header,
		.xxfi_eoh = mlfi_eoh,
		.xxfi_body = mlfi_body,
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
