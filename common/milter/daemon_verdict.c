/*
 * NAME
 *	daemon_verdict - hand a daemon's verdict to the MTA
 * SYNOPSIS
 *	#include "daemon.h"
 *
 *	sfsistat daemon_verdict_send(SMFICTX *ctx, const struct verdict *v);
 *	sfsistat daemon_verdict_error(SMFICTX *ctx);
 * DESCRIPTION
 *	daemon_verdict_send() is the one place where a verdict (verdict.h)
 *	becomes a milter answer: continue, accept, discard; reject and
 *	tempfail with the verdict's SMTP reply (smfi_setreply) when it has
 *	one; quarantine through smfi_quarantine() with the verdict's text
 *	as the reason (the daemon's name when it has none), the message
 *	going on.  A callback returns what it returns.
 *
 *	daemon_verdict_error() is the answer when the daemon cannot go on
 *	(out of memory, say): what the connection's configuration says in
 *	its struct daemon_conf on_error, accept when that is VERDICT_ACCEPT
 *	(milter-dkim's On-InternalError accept), otherwise a temporary
 *	failure with 451 4.3.0 and the daemon's error_text.
 * DIAGNOSTICS
 *	A reply the MTA's side refuses (malformed code) is logged, and the
 *	verdict is still given, with the MTA's default text.
 * SEE ALSO
 *	verdict(3), daemon_conn(3), smfi_setreply(3).
 */
#include "daemon.h"
#include "daemon_conn.h"
#include "log.h"

/* daemon_verdict_send - give v to the MTA; the status to return */
sfsistat
daemon_verdict_send(SMFICTX *ctx, const struct verdict *v)
{
	const struct daemon_desc *d = daemon_conn_desc();

	switch (v->action) {
	case VERDICT_CONTINUE:
		return SMFIS_CONTINUE;
	case VERDICT_ACCEPT:
		return SMFIS_ACCEPT;
	case VERDICT_DISCARD:
		return SMFIS_DISCARD;
	case VERDICT_QUARANTINE:
		if (smfi_quarantine(ctx, (char *)(v->text[0] != '\0' ?
		    v->text : d->name)) != MI_SUCCESS)
			log_warnx("the MTA refused to quarantine the message");
		return SMFIS_CONTINUE;
	case VERDICT_REJECT:
	case VERDICT_TEMPFAIL:
		if (v->rcode != NULL && smfi_setreply(ctx, (char *)v->rcode,
		    (char *)v->xcode, (char *)(v->text[0] != '\0' ? v->text :
		    NULL)) != MI_SUCCESS)
			log_warnx("cannot give the reply \"%s %s %s\"",
			    v->rcode, v->xcode != NULL ? v->xcode : "",
			    v->text);
		return v->action == VERDICT_REJECT ? SMFIS_REJECT :
		    SMFIS_TEMPFAIL;
	}
	log_panic("verdict with action %d", (int)v->action);
}

/* daemon_verdict_error - the answer when the daemon cannot go on */
sfsistat
daemon_verdict_error(SMFICTX *ctx)
{
	const struct daemon_conf *dc = daemon_conn_common(ctx);
	const struct daemon_desc *d = daemon_conn_desc();
	struct verdict v;

	if (dc != NULL && dc->on_error == VERDICT_ACCEPT)
		v.action = VERDICT_ACCEPT;
	else
		verdict_set(&v, VERDICT_TEMPFAIL, "451", "4.3.0",
		    d->error_text != NULL ? d->error_text : "Internal error");
	return daemon_verdict_send(ctx, &v);
}
