/*
 * NAME
 *	verdict - a milter's answer at one step
 * SYNOPSIS
 *	#include "verdict.h"
 *
 *	void	verdict_set(struct verdict *v, enum verdict_action action,
 *		    const char *rcode, const char *xcode, const char *text);
 *	const char *verdict_name(enum verdict_action action);
 * DESCRIPTION
 *	verdict_set() fills v: the action, the SMTP reply code and enhanced
 *	code (string constants the verdict points to, or NULL) and a copy of
 *	text, cut to VERDICT_TEXT_MAX bytes.  The caller has made text safe
 *	for an SMTP reply.  verdict_name() names an action for logs.
 * SEE ALSO
 *	daemon_verdict(3), which hands a verdict to the MTA.
 */
#include <stdio.h>

#include "verdict.h"

/* verdict_set - fill v */
void
verdict_set(struct verdict *v, enum verdict_action action,
    const char *rcode, const char *xcode, const char *text)
{
	v->action = action;
	v->rcode = rcode;
	v->xcode = xcode;
	snprintf(v->text, sizeof(v->text), "%s", text != NULL ? text : "");
}

/* verdict_name - an action's name */
const char *
verdict_name(enum verdict_action a)
{
	static const char *const name[] = {
		[VERDICT_CONTINUE] = "continue",
		[VERDICT_ACCEPT] = "accept",
		[VERDICT_REJECT] = "reject",
		[VERDICT_TEMPFAIL] = "tempfail",
		[VERDICT_DISCARD] = "discard",
		[VERDICT_QUARANTINE] = "quarantine",
	};

	return (unsigned)a < sizeof(name) / sizeof(name[0]) ? name[a] : "?";
}
