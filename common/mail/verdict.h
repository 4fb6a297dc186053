/*
 * verdict.h - what a milter answers the MTA at one step
 *
 * One type for every daemon's answer: an action and, for a refusal, the
 * SMTP reply.  The daemons' message modules fill one in without knowing
 * the milter protocol; the runtime hands it to the MTA
 * (daemon_verdict_send, common/milter/daemon_verdict.c).
 */
#ifndef COMMON_VERDICT_H
#define COMMON_VERDICT_H

#define VERDICT_TEXT_MAX	400	/* bytes of the reply text */

enum verdict_action {
	VERDICT_CONTINUE,	/* go on; at end of message, deliver */
	VERDICT_ACCEPT,		/* deliver without further checks */
	VERDICT_REJECT,		/* refuse, 5xx */
	VERDICT_TEMPFAIL,	/* refuse for now, 4xx */
	VERDICT_DISCARD,	/* accept and throw away */
	VERDICT_QUARANTINE,	/* deliver to the MTA's hold queue (text:
				   the reason) */
};

struct verdict {
	enum verdict_action action;
	const char	*rcode;		/* "550", a string constant; NULL:
					   the MTA's own reply */
	const char	*xcode;		/* "5.7.20", likewise; or NULL */
	char		 text[VERDICT_TEXT_MAX + 1];	/* reply text,
					   printable, no '%' escapes */
};

/* verdict_set - fill v; text (may be NULL) is cut to VERDICT_TEXT_MAX */
void	 verdict_set(struct verdict *v, enum verdict_action action,
	    const char *rcode, const char *xcode, const char *text);
/* verdict_name - "continue", "reject", ... */
const char *verdict_name(enum verdict_action);

#endif
