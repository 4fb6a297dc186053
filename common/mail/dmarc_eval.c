/*
 * NAME
 *	dmarc_eval - DMARC identifier alignment and evaluation
 * SYNOPSIS
 *	#include "dmarc.h"
 * DESCRIPTION
 *	dmarc_aligned() compares the RFC5322.From domain with a DKIM d=
 *	or an SPF domain: strict alignment wants the same name, relaxed
 *	alignment the same Organizational Domain (dmarc_org_domain(): the
 *	tree walk, or the public suffix list in RFC 7489 mode).  Names are
 *	compared without case and without a final dot.  Names that do not
 *	share their last label are not aligned, without asking the DNS.
 *
 *	dmarc_evaluate() does the rest: policy discovery for the From
 *	domain (none without a record), the policy that applies (p= at
 *	the author domain; elsewhere np= for a non-existent author
 *	domain, else sp=, else p=), then DMARC passes when one passing
 *	DKIM signature or a passing SPF result is aligned.  On a fail the
 *	disposition is the policy, one step milder (reject to quarantine,
 *	quarantine to none) when the domain is testing: t=y in DMARCbis
 *	mode, a sample value at or above pct= in RFC 7489 mode.  A DNS
 *	failure during discovery, or one that leaves alignment undecided
 *	while nothing else passed, is a temperror; a From domain that is
 *	not a valid name is a permerror.
 * SEE ALSO
 *	RFC 7489 sections 3.1 and 6.6, RFC 9989 sections 4.4 and 4.10.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dmarc.h"

/* norm - a lowercased copy without a final dot into out */
static void
norm(const char *in, char *out)
{
	size_t n;

	snprintf(out, DMARC_NAME_MAX + 1, "%s", in != NULL ? in : "");
	for (n = 0; out[n] != '\0'; n++)
		if (out[n] >= 'A' && out[n] <= 'Z')
			out[n] = (char)(out[n] - 'A' + 'a');
	if (n > 0 && out[n - 1] == '.')
		out[n - 1] = '\0';
}

/* same_tld - do the names end in the same label? */
static int
same_tld(const char *a, const char *b)
{
	const char *da = strrchr(a, '.'), *db = strrchr(b, '.');

	return strcmp(da ? da + 1 : a, db ? db + 1 : b) == 0;
}

/*
 * align - from (normalised) against other; *org caches from's
 * Organizational Domain ("" until known)
 */
static int
align(struct dns_resolver *r, const struct dmarc_opts *o, const char *from,
    char *org, const char *other_in, enum dmarc_align mode)
{
	char other[DMARC_NAME_MAX + 1], oorg[DMARC_NAME_MAX + 1];
	enum dmarc_disc st;

	norm(other_in, other);
	if (other[0] == '\0')
		return 0;
	if (strcmp(from, other) == 0)
		return 1;
	if (mode == DMARC_ALIGN_STRICT || !same_tld(from, other))
		return 0;
	if (org[0] == '\0') {
		st = dmarc_org_domain(r, o, from, org);
		if (st == DMARC_DISC_TEMPERROR || st == DMARC_DISC_NOMEM) {
			org[0] = '\0';
			return -1;
		}
	}
	st = dmarc_org_domain(r, o, other, oorg);
	if (st == DMARC_DISC_TEMPERROR || st == DMARC_DISC_NOMEM)
		return -1;
	return strcmp(org, oorg) == 0;
}

/* dmarc_aligned - are the two domains aligned? */
int
dmarc_aligned(struct dns_resolver *r, const struct dmarc_opts *o,
    const char *from_in, const char *other, enum dmarc_align mode)
{
	char from[DMARC_NAME_MAX + 1], org[DMARC_NAME_MAX + 1] = "";

	norm(from_in, from);
	if (from[0] == '\0')
		return 0;
	return align(r, o, from, org, other, mode);
}

/* milder - one step less strict */
static enum dmarc_policy
milder(enum dmarc_policy p)
{
	return p == DMARC_P_REJECT ? DMARC_P_QUARANTINE : DMARC_P_NONE;
}

/* applicable - the policy of the record found for this author */
static enum dmarc_policy
applicable(const struct dmarc_found *f)
{
	const struct dmarc_record *rec = &f->rec;

	if (f->at_author)
		return rec->p;
	if (f->nonexistent && rec->np != DMARC_P_UNSPEC)
		return rec->np;
	return rec->sp != DMARC_P_UNSPEC ? rec->sp : rec->p;
}

/* dmarc_evaluate - the DMARC result of one From domain */
enum dmarc_result
dmarc_evaluate(struct dns_resolver *r, const struct dmarc_opts *o,
    const struct dmarc_input *in, struct dmarc_eval *out)
{
	char from[DMARC_NAME_MAX + 1];
	const struct dmarc_record *rec = &out->found.rec;
	enum dmarc_policy pol;
	size_t i;
	int a, undecided = 0, bis = o == NULL || o->mode == DMARC_MODE_BIS;

	memset(out, 0, sizeof(*out));
	norm(in->from, from);
	switch (dmarc_discover(r, o, from, &out->found)) {
	case DMARC_DISC_FOUND:
		break;
	case DMARC_DISC_NONE:
		snprintf(out->reason, sizeof(out->reason), "no DMARC record");
		return out->result = DMARC_RES_NONE;
	case DMARC_DISC_BADNAME:
		snprintf(out->reason, sizeof(out->reason), "invalid From "
		    "domain");
		return out->result = DMARC_RES_PERMERROR;
	case DMARC_DISC_TEMPERROR:
	case DMARC_DISC_NOMEM:
		snprintf(out->reason, sizeof(out->reason), "DNS error looking "
		    "up the DMARC record");
		return out->result = DMARC_RES_TEMPERROR;
	}
	out->policy = applicable(&out->found);

	for (i = 0; i < in->ndkim && i < DMARC_MAX_DKIM; i++) {
		if (in->dkim[i].result != DMARC_AUTH_PASS)
			continue;
		a = align(r, o, from, out->org, in->dkim[i].domain, rec->adkim);
		if (a > 0) {
			out->dkim_aligned = (int)i + 1;
			break;
		}
		undecided |= a < 0;
	}
	if (in->spf == DMARC_AUTH_PASS) {
		a = align(r, o, from, out->org, in->spf_domain, rec->aspf);
		out->spf_aligned = a > 0;
		undecided |= a < 0;
	}
	if (out->dkim_aligned || out->spf_aligned) {
		out->result = DMARC_RES_PASS;
		out->dis = DMARC_DIS_PASS;
		snprintf(out->reason, sizeof(out->reason), "%s%s%s",
		    out->dkim_aligned ? "aligned DKIM pass (d=" : "",
		    out->dkim_aligned ? in->dkim[out->dkim_aligned - 1].domain :
		    "", out->dkim_aligned ? ")" : "aligned SPF pass");
		return out->result;
	}
	if (undecided) {
		snprintf(out->reason, sizeof(out->reason), "DNS error while "
		    "checking alignment");
		return out->result = DMARC_RES_TEMPERROR;
	}
	out->result = DMARC_RES_FAIL;
	pol = out->policy;
	if ((bis && rec->testing) || (!bis && (int)in->sample >= rec->pct)) {
		if (pol == DMARC_P_QUARANTINE || pol == DMARC_P_REJECT) {
			out->sampled_out = 1;
			pol = milder(pol);
		}
	}
	out->dis = pol == DMARC_P_REJECT ? DMARC_DIS_REJECT :
	    pol == DMARC_P_QUARANTINE ? DMARC_DIS_QUARANTINE : DMARC_DIS_NONE;
	snprintf(out->reason, sizeof(out->reason), "no aligned DKIM or SPF "
	    "pass%s", out->sampled_out ? bis ? "; t=y: policy one step "
	    "milder" : "; outside pct: policy one step milder" : "");
	return out->result;
}

/* dmarc_eval_clear - free what an evaluation holds */
void
dmarc_eval_clear(struct dmarc_eval *e)
{
	dmarc_found_clear(&e->found);
}

/* dmarc_result_name - the RFC 8601 word */
const char *
dmarc_result_name(enum dmarc_result res)
{
	switch (res) {
	case DMARC_RES_NONE:
		return "none";
	case DMARC_RES_PASS:
		return "pass";
	case DMARC_RES_FAIL:
		return "fail";
	case DMARC_RES_TEMPERROR:
		return "temperror";
	case DMARC_RES_PERMERROR:
		return "permerror";
	}
	return "permerror";
}

/* dmarc_dis_name - the RFC 9990 word */
const char *
dmarc_dis_name(enum dmarc_dis d)
{
	switch (d) {
	case DMARC_DIS_NONE:
		return "none";
	case DMARC_DIS_PASS:
		return "pass";
	case DMARC_DIS_QUARANTINE:
		return "quarantine";
	case DMARC_DIS_REJECT:
		return "reject";
	}
	return "none";
}

static const char *const auth_names[] = {
	[DMARC_AUTH_NONE] = "none", [DMARC_AUTH_PASS] = "pass",
	[DMARC_AUTH_FAIL] = "fail", [DMARC_AUTH_SOFTFAIL] = "softfail",
	[DMARC_AUTH_NEUTRAL] = "neutral", [DMARC_AUTH_POLICY] = "policy",
	[DMARC_AUTH_TEMPERROR] = "temperror",
	[DMARC_AUTH_PERMERROR] = "permerror",
};

/* dmarc_auth_parse - an RFC 8601 result word; -1 when unknown */
int
dmarc_auth_parse(const char *s)
{
	size_t i;

	if (s == NULL)
		return -1;
	for (i = 0; i < sizeof(auth_names) / sizeof(auth_names[0]); i++)
		if (strcasecmp(s, auth_names[i]) == 0)
			return (int)i;
	return -1;
}

/* dmarc_auth_name - the RFC 8601 word */
const char *
dmarc_auth_name(enum dmarc_auth a)
{
	return (size_t)a < sizeof(auth_names) / sizeof(auth_names[0]) ?
	    auth_names[a] : "none";
}
