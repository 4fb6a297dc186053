/*
 * NAME
 *	dmarc_record - DMARC policy records (RFC 7489 6.3, RFC 9989 4.7)
 * SYNOPSIS
 *	#include "dmarc.h"
 * DESCRIPTION
 *	dmarc_record_parse() reads one TXT record.  It is a DMARC record
 *	when it starts with the version tag "v=DMARC1" (white space around
 *	"=", the value case-sensitive); what follows is a list of
 *	"tag=value" separated by ";".  Tag names are case-insensitive
 *	(ABNF strings), as are the keyword values.
 *
 *	As the standards ask, unknown tags are ignored, and so is a known
 *	tag whose value is not valid (its default applies): such tags are
 *	counted in rec->ignored and named in why.  A second occurrence of
 *	a tag is ignored the same way.  A DMARC record is refused
 *	outright only when it is not a tag list at all.
 *
 *	The modes differ where the standards do:
 *	DMARC_MODE_BIS	pct, rf and ri are not DMARCbis tags: ignored
 *			(pct stays 100).  A missing or invalid p acts as
 *			p=none.
 *	DMARC_MODE_7489	pct, rf and ri are parsed.  A missing or invalid
 *			p, or an invalid sp, make the record act as
 *			p=none when rua holds a valid URI, and leave the
 *			record unusable (DMARC_REC_NOPOLICY) otherwise
 *			(RFC 7489 6.6.3 step 6).  np, psd and t are read
 *			too: they do no harm.
 * DIAGNOSTICS
 *	dmarc_rec_strerror() names a status.
 * SEE ALSO
 *	RFC 7489 section 6.3 and 6.4, RFC 9989 section 4.7 and 4.8.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dmarc.h"

/* The tags, one enum value each; the table below is indexed by it. */
enum dmarc_tag {
	TAG_V, TAG_P, TAG_SP, TAG_NP, TAG_ADKIM, TAG_ASPF, TAG_T, TAG_FO,
	TAG_PSD, TAG_RUA, TAG_RUF, TAG_PCT, TAG_RF, TAG_RI, TAG_MAX,
};

static const char *const tag_names[TAG_MAX] = {
	[TAG_V] = "v", [TAG_P] = "p", [TAG_SP] = "sp", [TAG_NP] = "np",
	[TAG_ADKIM] = "adkim", [TAG_ASPF] = "aspf", [TAG_T] = "t",
	[TAG_FO] = "fo", [TAG_PSD] = "psd", [TAG_RUA] = "rua",
	[TAG_RUF] = "ruf", [TAG_PCT] = "pct", [TAG_RF] = "rf", [TAG_RI] = "ri",
};

/* One tag as found: pointers into the record. */
struct tagval {
	const char	*v;
	size_t		 len;
};

#define is_wsp(c)	((c) == ' ' || (c) == '\t')

/* trim - the span without surrounding WSP */
static void
trim(const char **s, size_t *len)
{
	while (*len > 0 && is_wsp(**s))
		(*s)++, (*len)--;
	while (*len > 0 && is_wsp((*s)[*len - 1]))
		(*len)--;
}

/* word_is - 1 when the span equals w, without case */
static int
word_is(const struct tagval *t, const char *w)
{
	return t->len == strlen(w) && strncasecmp(t->v, w, t->len) == 0;
}

/* tag_name - tag-name = ALPHA *(ALPHA / DIGIT / "_"); its length or 0 */
static size_t
tag_name(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || !isalpha((unsigned char)s[0]))
		return 0;
	for (i = 1; i < len && (isalnum((unsigned char)s[i]) || s[i] == '_');
	    i++)
		;
	return i;
}

/*
 * version - dmarc-version = "v" *WSP "=" *WSP %s"DMARC1", as the first
 * element; 1 when it is
 */
static int
version(const char *s, size_t len)
{
	trim(&s, &len);
	if (len < 1 || (s[0] != 'v' && s[0] != 'V'))
		return 0;
	s++, len--;
	while (len > 0 && is_wsp(*s))
		s++, len--;
	if (len < 1 || *s != '=')
		return 0;
	s++, len--;
	while (len > 0 && is_wsp(*s))
		s++, len--;
	return len == 6 && memcmp(s, "DMARC1", 6) == 0;
}

/* dmarc_record_is_dmarc - does the text start with the version tag? */
int
dmarc_record_is_dmarc(const char *text, size_t len)
{
	const char *semi = memchr(text, ';', len);

	return version(text, semi != NULL ? (size_t)(semi - text) : len);
}

/* note - say in why what was ignored */
static void
note(struct dmarc_record *rec, struct buf *why, const char *what,
    const struct tagval *t, const char *name)
{
	rec->ignored++;
	if (why == NULL)
		return;
	if (why->len > 0)
		buf_puts(why, "; ");
	buf_printf(why, "%s %s", what, name);
	if (t != NULL)
		buf_printf(why, "=%.*s", (int)(t->len > 40 ? 40 : t->len),
		    t->v);
}

/* policy - "none" / "quarantine" / "reject" */
static enum dmarc_policy
policy(const struct tagval *t)
{
	if (word_is(t, "none"))
		return DMARC_P_NONE;
	if (word_is(t, "quarantine"))
		return DMARC_P_QUARANTINE;
	if (word_is(t, "reject"))
		return DMARC_P_REJECT;
	return DMARC_P_UNSPEC;
}

/* number - 1*DIGIT up to max; -1 if not */
static long
number(const struct tagval *t, long max)
{
	long n = 0;
	size_t i;

	if (t->len == 0 || t->len > 10)
		return -1;
	for (i = 0; i < t->len; i++) {
		if (!isdigit((unsigned char)t->v[i]))
			return -1;
		n = n * 10 + (t->v[i] - '0');
	}
	return n <= max ? n : -1;
}

/* fo_list - fo = 1*("0" / "1" / "d" / "s") separated by ":"; -1 if bad */
static int
fo_list(const struct tagval *t)
{
	unsigned fo = 0;
	size_t i;
	int want_item = 1;

	for (i = 0; i < t->len; i++) {
		char c = (char)tolower((unsigned char)t->v[i]);

		if (is_wsp(c))
			continue;
		if (want_item) {
			if (c == '0')
				fo |= DMARC_FO_0;
			else if (c == '1')
				fo |= DMARC_FO_1;
			else if (c == 'd')
				fo |= DMARC_FO_D;
			else if (c == 's')
				fo |= DMARC_FO_S;
			else
				return -1;
			want_item = 0;
		} else if (c == ':')
			want_item = 1;
		else
			return -1;
	}
	return want_item ? -1 : (int)fo;
}

/* rf_list - Keyword *(":" Keyword); 1 when afrf is among them, -1 if bad */
static int
rf_list(const struct tagval *t)
{
	const char *s = t->v, *end = t->v + t->len, *c;
	int afrf = 0;

	while (s <= end) {
		struct tagval w;

		c = memchr(s, ':', (size_t)(end - s));
		w.v = s;
		w.len = (size_t)((c ? c : end) - s);
		trim(&w.v, &w.len);
		if (tag_name(w.v, w.len) != w.len)
			return -1;
		if (word_is(&w, "afrf"))
			afrf = 1;
		if (c == NULL)
			break;
		s = c + 1;
	}
	return afrf;
}

/*
 * uri_list - dmarc-uri *(*WSP "," *WSP dmarc-uri); the number of valid
 * URIs (scheme ":" then no white space), 0 when none is
 */
static int
uri_list(const struct tagval *t)
{
	const char *s = t->v, *end = t->v + t->len, *c;
	int valid = 0;

	while (s <= end) {
		struct tagval u;
		size_t i, scheme;

		c = memchr(s, ',', (size_t)(end - s));
		u.v = s;
		u.len = (size_t)((c ? c : end) - s);
		trim(&u.v, &u.len);
		scheme = 0;
		if (u.len > 0 && isalpha((unsigned char)u.v[0]))
			for (scheme = 1; scheme < u.len &&
			    (isalnum((unsigned char)u.v[scheme]) ||
			    strchr("+-.", u.v[scheme]) != NULL); scheme++)
				;
		if (scheme > 0 && scheme + 1 < u.len && u.v[scheme] == ':') {
			for (i = scheme + 1; i < u.len; i++)
				if ((unsigned char)u.v[i] <= ' ')
					break;
			if (i == u.len)
				valid++;
		}
		if (c == NULL)
			break;
		s = c + 1;
	}
	return valid;
}

/* dup_span - a NUL-terminated copy */
static char *
dup_span(const struct tagval *t)
{
	char *s = malloc(t->len + 1);

	if (s != NULL) {
		memcpy(s, t->v, t->len);
		s[t->len] = '\0';
	}
	return s;
}

/* split - the tags after the version into tv[]; -1 when not a tag list */
static int
split(struct dmarc_record *rec, const char *s, const char *end,
    struct tagval tv[TAG_MAX], struct buf *why)
{
	while (s < end) {
		const char *semi = memchr(s, ';', (size_t)(end - s));
		const char *e = semi != NULL ? semi : end;
		const char *p = s, *eq;
		size_t len = (size_t)(e - s), n;
		struct tagval name, val;
		int i;

		s = semi != NULL ? semi + 1 : end;
		trim(&p, &len);
		if (len == 0)
			continue;	/* ";;" or a final ";" */
		if ((n = tag_name(p, len)) == 0)
			return -1;
		name.v = p;
		name.len = n;
		eq = p + n;
		while (eq < p + len && is_wsp(*eq))
			eq++;
		if (eq == p + len || *eq != '=')
			return -1;
		val.v = eq + 1;
		val.len = (size_t)(p + len - val.v);
		trim(&val.v, &val.len);
		for (i = 0; i < TAG_MAX; i++)
			if (word_is(&name, tag_names[i]))
				break;
		if (i == TAG_MAX)
			continue;	/* unknown: ignored */
		if (i == TAG_V || tv[i].v != NULL) {
			note(rec, why, "repeated tag", NULL, tag_names[i]);
			continue;
		}
		tv[i] = val;
	}
	return 0;
}

/* apply - the values of the tags into rec */
static void
apply(struct dmarc_record *rec, struct tagval tv[TAG_MAX],
    enum dmarc_mode mode, struct buf *why)
{
	enum dmarc_policy *pol[3] = { &rec->p, &rec->sp, &rec->np };
	static const enum dmarc_tag ptag[3] = { TAG_P, TAG_SP, TAG_NP };
	long n;
	int i, r;

	for (i = 0; i < 3; i++)
		if (tv[ptag[i]].v != NULL &&
		    (*pol[i] = policy(&tv[ptag[i]])) == DMARC_P_UNSPEC)
			note(rec, why, "invalid", &tv[ptag[i]],
			    tag_names[ptag[i]]);
	if (tv[TAG_ADKIM].v != NULL) {
		if (word_is(&tv[TAG_ADKIM], "s"))
			rec->adkim = DMARC_ALIGN_STRICT;
		else if (!word_is(&tv[TAG_ADKIM], "r"))
			note(rec, why, "invalid", &tv[TAG_ADKIM], "adkim");
	}
	if (tv[TAG_ASPF].v != NULL) {
		if (word_is(&tv[TAG_ASPF], "s"))
			rec->aspf = DMARC_ALIGN_STRICT;
		else if (!word_is(&tv[TAG_ASPF], "r"))
			note(rec, why, "invalid", &tv[TAG_ASPF], "aspf");
	}
	if (tv[TAG_T].v != NULL) {
		if (word_is(&tv[TAG_T], "y"))
			rec->testing = 1;
		else if (!word_is(&tv[TAG_T], "n"))
			note(rec, why, "invalid", &tv[TAG_T], "t");
	}
	if (tv[TAG_PSD].v != NULL) {
		if (word_is(&tv[TAG_PSD], "y"))
			rec->psd = DMARC_PSD_Y;
		else if (word_is(&tv[TAG_PSD], "n"))
			rec->psd = DMARC_PSD_N;
		else if (!word_is(&tv[TAG_PSD], "u"))
			note(rec, why, "invalid", &tv[TAG_PSD], "psd");
	}
	if (tv[TAG_FO].v != NULL) {
		if ((r = fo_list(&tv[TAG_FO])) < 0)
			note(rec, why, "invalid", &tv[TAG_FO], "fo");
		else
			rec->fo = (unsigned)r;
	}
	if (mode == DMARC_MODE_BIS) {
		for (i = TAG_PCT; i <= TAG_RI; i++)
			if (tv[i].v != NULL)
				note(rec, why, "not a DMARCbis tag:", NULL,
				    tag_names[i]);
		return;
	}
	if (tv[TAG_PCT].v != NULL) {
		if ((n = number(&tv[TAG_PCT], 100)) < 0)
			note(rec, why, "invalid", &tv[TAG_PCT], "pct");
		else
			rec->pct = (int)n;
	}
	if (tv[TAG_RI].v != NULL) {
		if ((n = number(&tv[TAG_RI], 4294967295L)) < 0)
			note(rec, why, "invalid", &tv[TAG_RI], "ri");
		else
			rec->ri = (unsigned long)n;
	}
	if (tv[TAG_RF].v != NULL) {
		if ((r = rf_list(&tv[TAG_RF])) < 0)
			note(rec, why, "invalid", &tv[TAG_RF], "rf");
		else
			rec->rf_afrf = r;
	}
}

/* dmarc_record_parse - one record */
enum dmarc_rec_status
dmarc_record_parse(const char *text, size_t len, enum dmarc_mode mode,
    struct dmarc_record *rec, struct buf *why)
{
	struct tagval tv[TAG_MAX];
	const char *semi, *end = text + len;
	int rua_ok = 0;

	memset(rec, 0, sizeof(*rec));
	rec->pct = 100;
	rec->ri = 86400;
	rec->rf_afrf = 1;
	if (len > DMARC_RECORD_MAX || !dmarc_record_is_dmarc(text, len))
		return DMARC_REC_NOTDMARC;
	memset(tv, 0, sizeof(tv));
	semi = memchr(text, ';', len);
	if (semi != NULL && split(rec, semi + 1, end, tv, why) < 0) {
		if (why != NULL)
			buf_puts(why, "not a tag list");
		return DMARC_REC_SYNTAX;
	}
	apply(rec, tv, mode, why);
	if (tv[TAG_RUA].v != NULL) {
		if ((rua_ok = uri_list(&tv[TAG_RUA])) == 0)
			note(rec, why, "no valid URI in", NULL, "rua");
		else if ((rec->rua = dup_span(&tv[TAG_RUA])) == NULL)
			return DMARC_REC_NOMEM;
	}
	if (tv[TAG_RUF].v != NULL) {
		if (uri_list(&tv[TAG_RUF]) == 0)
			note(rec, why, "no valid URI in", NULL, "ruf");
		else if ((rec->ruf = dup_span(&tv[TAG_RUF])) == NULL) {
			dmarc_record_clear(rec);
			return DMARC_REC_NOMEM;
		}
	}
	if (rec->p == DMARC_P_UNSPEC || (mode == DMARC_MODE_7489 &&
	    tv[TAG_SP].v != NULL && rec->sp == DMARC_P_UNSPEC)) {
		if (mode == DMARC_MODE_7489 && !rua_ok) {
			dmarc_record_clear(rec);
			if (why != NULL) {
				if (why->len > 0)
					buf_puts(why, "; ");
				buf_puts(why, "no valid p= or sp=, and no rua");
			}
			return DMARC_REC_NOPOLICY;
		}
		rec->p = DMARC_P_NONE;
		rec->p_default = 1;
		if (mode == DMARC_MODE_7489)
			rec->sp = DMARC_P_UNSPEC;
	}
	return DMARC_REC_OK;
}

/* dmarc_record_clear - free what a record holds */
void
dmarc_record_clear(struct dmarc_record *rec)
{
	free(rec->rua);
	free(rec->ruf);
	rec->rua = rec->ruf = NULL;
}

/* dmarc_rec_strerror - a status in words */
const char *
dmarc_rec_strerror(enum dmarc_rec_status st)
{
	switch (st) {
	case DMARC_REC_OK:
		return "valid";
	case DMARC_REC_NOTDMARC:
		return "not a DMARC record";
	case DMARC_REC_SYNTAX:
		return "not a tag list";
	case DMARC_REC_NOPOLICY:
		return "no valid policy and no valid rua";
	case DMARC_REC_NOMEM:
		return "out of memory";
	}
	return "unknown status";
}

/* dmarc_policy_name - "none", "quarantine", "reject" ("unspecified") */
const char *
dmarc_policy_name(enum dmarc_policy p)
{
	switch (p) {
	case DMARC_P_NONE:
		return "none";
	case DMARC_P_QUARANTINE:
		return "quarantine";
	case DMARC_P_REJECT:
		return "reject";
	default:
		return "unspecified";
	}
}
