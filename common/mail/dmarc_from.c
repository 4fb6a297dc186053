/*
 * NAME
 *	dmarc_from - the RFC5322.From domain of a message
 * SYNOPSIS
 *	#include "dmarc.h"
 * DESCRIPTION
 *	Every From field of the message goes to dmarc_from_field(), which
 *	parses it with rfc5322_from() (quoted strings with
 *	quoted-pairs, comments, groups and the obsolete syntax), so that
 *	a display name such as "a\" <x@victim.example>" is a display name
 *	and never an address.  Each domain is lowercased and its U-labels
 *	turned into A-labels (IDNA 2008, libidn2), the form DNS names and
 *	DKIM d= take, so that comparisons are between A-labels.
 *
 *	dmarc_from_result() then says what there is: one domain (one
 *	address, or several sharing one domain: RFC 7489 6.6.1 lets a
 *	receiver evaluate that domain once), several domains (all kept,
 *	up to DMARC_FROM_MAX, so that the caller can evaluate each
 *	and keep the strictest outcome, or reject), several From fields,
 *	none, or something unparseable.
 * SEE ALSO
 *	RFC 7489 section 6.6.1, RFC 9989 section 4.4, RFC 5890.
 */
#include <idn2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmarc.h"
#include "rfc5322.h"

/* dmarc_from_init - before the first field */
void
dmarc_from_init(struct dmarc_from *f)
{
	memset(f, 0, sizeof(*f));
	f->status = DMARC_FROM_NONE;
}

/* ascii - no byte above 127 */
static int
ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s > 127)
			return 0;
	return 1;
}

/*
 * dmarc_domain_alabel - lowercased, A-labels, validated.  A name of
 * ASCII only without a final dot skips IDNA: whether libidn2 takes it or
 * refuses it, what comes out is the name itself, lowercased, validated
 * the same way.
 */
int
dmarc_domain_alabel(const char *in, char *out)
{
	char *ascii_name = NULL;
	size_t n;
	int rc;

	out[0] = '\0';
	if (in == NULL || (n = strlen(in)) == 0 || n > DMARC_NAME_MAX)
		return -1;
	if (ascii(in) && in[n - 1] != '.')
		memcpy(out, in, n + 1);
	else if ((rc = idn2_to_ascii_8z(in, &ascii_name,
	    IDN2_NONTRANSITIONAL)) != IDN2_OK) {
		/* plain LDH names that IDNA refuses (e.g. "_x") stay */
		if (!rfc5322_domain_valid(in, n, 0))
			return -1;
		memcpy(out, in, n + 1);
	} else {
		n = strlen(ascii_name);
		if (n > DMARC_NAME_MAX) {
			idn2_free(ascii_name);
			return -1;
		}
		memcpy(out, ascii_name, n + 1);
		idn2_free(ascii_name);
	}
	for (n = 0; out[n] != '\0'; n++)
		if (out[n] >= 'A' && out[n] <= 'Z')
			out[n] = (char)(out[n] - 'A' + 'a');
	if (n > 0 && out[n - 1] == '.')
		out[--n] = '\0';
	return rfc5322_domain_valid(out, n, 0) ? 0 : -1;
}

/* add_domain - keep a distinct domain; -1 when invalid */
static int
add_domain(struct dmarc_from *f, const char *d)
{
	char a[DMARC_NAME_MAX + 1];
	size_t i;

	if (dmarc_domain_alabel(d, a) < 0)
		return -1;
	for (i = 0; i < f->ndomains; i++)
		if (strcmp(f->domain[i], a) == 0)
			return 0;
	if (f->ndomains < DMARC_FROM_MAX)
		memcpy(f->domain[f->ndomains++], a, sizeof(a));
	return 0;
}

/* dmarc_from_field - one From field's value; the domains of every field
 * are kept, and the first failure sticks */
void
dmarc_from_field(struct dmarc_from *f, const char *value, size_t len)
{
	struct rfc5322_addrlist list;
	enum dmarc_from_status fs = DMARC_FROM_OK;
	size_t i;

	f->nfields++;
	switch (rfc5322_from(value, len, &list)) {
	case RFC5322_OK:
	case RFC5322_MULTIPLE:
		for (i = 0; i < list.n; i++)
			if (list.addr[i].domain == NULL ||
			    add_domain(f, list.addr[i].domain) < 0) {
				fs = DMARC_FROM_BADDOMAIN;
				break;
			}
		break;
	case RFC5322_NOMEM:
		fs = DMARC_FROM_NOMEM;
		break;
	default:
		fs = DMARC_FROM_SYNTAX;
		break;
	}
	rfc5322_addrlist_free(&list);
	if (f->status == DMARC_FROM_NONE || f->status == DMARC_FROM_OK ||
	    f->status == DMARC_FROM_DOMAINS)
		f->status = fs != DMARC_FROM_OK ? fs : f->ndomains > 1 ?
		    DMARC_FROM_DOMAINS : DMARC_FROM_OK;
}

/* dmarc_from_result - what the From fields give */
enum dmarc_from_status
dmarc_from_result(const struct dmarc_from *f)
{
	if (f->nfields == 0)
		return DMARC_FROM_NONE;
	if (f->status != DMARC_FROM_OK && f->status != DMARC_FROM_DOMAINS)
		return f->status;
	return f->nfields > 1 ? DMARC_FROM_FIELDS : f->status;
}

/* dmarc_from_strerror - a status in words */
const char *
dmarc_from_strerror(enum dmarc_from_status st)
{
	switch (st) {
	case DMARC_FROM_OK:
		return "one From domain";
	case DMARC_FROM_NONE:
		return "no From field";
	case DMARC_FROM_FIELDS:
		return "several From fields";
	case DMARC_FROM_DOMAINS:
		return "several From addresses in different domains";
	case DMARC_FROM_SYNTAX:
		return "unparseable From field";
	case DMARC_FROM_BADDOMAIN:
		return "invalid From domain";
	case DMARC_FROM_NOMEM:
		return "out of memory";
	}
	return "unknown status";
}
