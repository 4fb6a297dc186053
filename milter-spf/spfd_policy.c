/*
 * NAME
 *	spfd_policy - milter-spf: what to do with a pair of SPF results
 * SYNOPSIS
 *	#include "spfd_policy.h"
 * DESCRIPTION
 *	spfd_policy_verdict() applies the reject settings of each identity
 *	to its result:
 *		Fail		reject on fail
 *		Softfail	reject on fail and softfail
 *		SPF_Not_Pass	reject on fail, softfail, neutral, permerror
 *		Null		reject on fail, for the null sender only
 *		False, No_Check	never reject nor defer
 *	then, unless the setting is False or No_Check, PermError_reject
 *	rejects a permerror and TempError_Defer defers a temperror, as
 *	policyd-spf does.  A rejection for either identity wins over a
 *	deferral; between two of a kind, HELO comes first.
 * SEE ALSO
 *	policyd-spf.conf(5), RFC 7208 section 8
 */
#include <ctype.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "spfd_policy.h"

static const char *const reject_names[] = {
	"Fail", "Softfail", "SPF_Not_Pass", "Null", "False", "No_Check",
};

/* spfd_reject_parse - a reject setting; -1 if unknown */
int
spfd_reject_parse(const char *s)
{
	size_t i, n;

	while (*s == '=' || isspace((unsigned char)*s))
		s++;
	for (n = strlen(s); n > 0 && isspace((unsigned char)s[n - 1]); n--)
		;
	for (i = 0; i < sizeof(reject_names) / sizeof(reject_names[0]); i++)
		if (n > 0 && strncasecmp(s, reject_names[i], n) == 0 &&
		    reject_names[i][n] == '\0')
			return (int)i;
	return -1;
}

/* spfd_reject_name - the word for a reject setting */
const char *
spfd_reject_name(enum spfd_reject r)
{
	return reject_names[r];
}

/* rejects - does setting rej reject result r? */
static int
rejects(enum spfd_reject rej, int r, int null)
{
	switch (rej) {
	case SPFD_REJ_FAIL:
		return r == SPF_FAIL;
	case SPFD_REJ_SOFTFAIL:
		return r == SPF_FAIL || r == SPF_SOFTFAIL;
	case SPFD_REJ_NOT_PASS:
		return r == SPF_FAIL || r == SPF_SOFTFAIL ||
		    r == SPF_NEUTRAL || r == SPF_PERMERROR;
	case SPFD_REJ_NULL:
		return null && r == SPF_FAIL;
	default:
		return 0;
	}
}

/* one - the verdict for one identity */
static enum spfd_verdict
one(const struct spfd_policy *p, enum spfd_ident id, int r, int null)
{
	enum spfd_reject rej = p->reject[id];

	if (r == SPFD_UNCHECKED || rej == SPFD_REJ_FALSE ||
	    rej == SPFD_REJ_NO_CHECK)
		return SPFD_V_NONE;
	if (rejects(rej, r, null) ||
	    (r == SPF_PERMERROR && p->permerror_reject))
		return SPFD_V_REJECT;
	if (r == SPF_TEMPERROR && p->temperror_defer)
		return SPFD_V_DEFER;
	return SPFD_V_NONE;
}

/* spfd_policy_verdict - the verdict for both identities */
enum spfd_verdict
spfd_policy_verdict(const struct spfd_policy *p, const int r[SPFD_ID_MAX],
    int null, enum spfd_ident *who)
{
	enum spfd_verdict v[SPFD_ID_MAX], want;
	int i;

	for (i = 0; i < SPFD_ID_MAX; i++)
		v[i] = one(p, (enum spfd_ident)i, r[i], null);
	for (want = SPFD_V_REJECT; want != SPFD_V_NONE;
	    want = want == SPFD_V_REJECT ? SPFD_V_DEFER : SPFD_V_NONE)
		for (i = 0; i < SPFD_ID_MAX; i++)
			if (v[i] == want) {
				*who = (enum spfd_ident)i;
				return want;
			}
	return SPFD_V_NONE;
}

/* spfd_verdict_name - for logs */
const char *
spfd_verdict_name(enum spfd_verdict v)
{
	return v == SPFD_V_REJECT ? "reject" : v == SPFD_V_DEFER ? "defer" :
	    "accept";
}

/* spfd_ident_name - "helo" or "mailfrom", as in Received-SPF */
const char *
spfd_ident_name(enum spfd_ident id)
{
	return id == SPFD_ID_HELO ? "helo" : "mailfrom";
}
