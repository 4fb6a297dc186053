/*
 * spfd_policy.h - milter-spf: what to do with a pair of SPF results
 *
 * The settings come from HELO_reject, Mail_From_reject, PermError_reject,
 * TempError_Defer and TestOnly (the first four as in policyd-spf(1));
 * spfd_policy_verdict() turns the results of the HELO and MAIL FROM
 * checks into one verdict: nothing, reject or defer, and which identity
 * caused it.  Pure functions: no allocation, no DNS.
 */
#ifndef SPFD_POLICY_H
#define SPFD_POLICY_H

#include "spf.h"

/* HELO_reject and Mail_From_reject values, in policyd-spf's words. */
enum spfd_reject {
	SPFD_REJ_FAIL,		/* Fail: reject fail */
	SPFD_REJ_SOFTFAIL,	/* Softfail: reject fail and softfail */
	SPFD_REJ_NOT_PASS,	/* SPF_Not_Pass: fail softfail neutral
				   permerror */
	SPFD_REJ_NULL,		/* Null: reject fail for the null sender */
	SPFD_REJ_FALSE,		/* False: check, never reject */
	SPFD_REJ_NO_CHECK,	/* No_Check: do not check at all */
};

/* The identities checked. */
enum spfd_ident {
	SPFD_ID_HELO,
	SPFD_ID_MAILFROM,
	SPFD_ID_MAX,
};

enum spfd_verdict {
	SPFD_V_NONE,		/* accept */
	SPFD_V_REJECT,		/* 550 */
	SPFD_V_DEFER,		/* 451 */
};

struct spfd_policy {
	enum spfd_reject reject[SPFD_ID_MAX];
	int		 permerror_reject;	/* PermError_reject */
	int		 temperror_defer;	/* TempError_Defer */
};

/* A result that was not computed (identity not checked or skipped). */
#define SPFD_UNCHECKED	(-1)

/* spfd_reject_parse - a HELO_reject value (no case; a leading "=" and
 * blanks, as in policyd-spf.conf, are skipped); -1 if unknown */
int	spfd_reject_parse(const char *);
const char *spfd_reject_name(enum spfd_reject);
/*
 * spfd_policy_verdict - the verdict for results r[SPFD_ID_*] (an enum
 * spf_result or SPFD_UNCHECKED); null is 1 for the null sender.  *who
 * gets the identity behind a verdict other than SPFD_V_NONE.  A reject
 * for either identity wins over a deferral; HELO is considered first.
 */
enum spfd_verdict spfd_policy_verdict(const struct spfd_policy *,
	    const int r[SPFD_ID_MAX], int null, enum spfd_ident *who);
const char *spfd_verdict_name(enum spfd_verdict);
const char *spfd_ident_name(enum spfd_ident);

#endif
