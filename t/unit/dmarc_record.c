/*
 * dmarc_record - DMARC policy record parsing in both modes: what makes
 * a record, which tags count in which mode, and what an invalid value
 * falls back to
 */
#include <stdio.h>
#include <string.h>

#include "dmarc.h"
#include "tap.h"

#define BIS	DMARC_MODE_BIS
#define R7489	DMARC_MODE_7489

static const struct {
	const char		*text;
	enum dmarc_mode		 mode;
	enum dmarc_rec_status	 want;
	enum dmarc_policy	 p, sp, np;
	int			 pct;
	unsigned		 ignored;
	const char		*why;
} cases[] = {
	{ "v=DMARC1; p=reject", BIS, DMARC_REC_OK, DMARC_P_REJECT, 0, 0,
	    100, 0, "the smallest usual record" },
	{ "v = DMARC1 ; p = quarantine ;", BIS, DMARC_REC_OK,
	    DMARC_P_QUARANTINE, 0, 0, 100, 0, "white space around = and ;, "
	    "a final ;" },
	{ "v=dmarc1; p=reject", BIS, DMARC_REC_NOTDMARC, 0, 0, 0, 100, 0,
	    "the version value is case-sensitive" },
	{ "p=reject; v=DMARC1", BIS, DMARC_REC_NOTDMARC, 0, 0, 0, 100, 0,
	    "v= must come first" },
	{ "v=DMARC1p=reject", BIS, DMARC_REC_NOTDMARC, 0, 0, 0, 100, 0,
	    "v=DMARC1 needs a separator" },
	{ "v=spf1 -all", BIS, DMARC_REC_NOTDMARC, 0, 0, 0, 100, 0,
	    "an SPF record is not a DMARC record" },
	{ "v=DMARC1", BIS, DMARC_REC_OK, DMARC_P_NONE, 0, 0, 100, 0,
	    "DMARCbis: a record without p acts as p=none" },
	{ "v=DMARC1", R7489, DMARC_REC_NOPOLICY, 0, 0, 0, 100, 0,
	    "RFC 7489: no p and no rua: not usable" },
	{ "v=DMARC1; rua=mailto:d@example.com", R7489, DMARC_REC_OK,
	    DMARC_P_NONE, 0, 0, 100, 0, "RFC 7489: no p but a valid rua: "
	    "p=none" },
	{ "v=DMARC1; p=bogus; rua=mailto:d@example.com", R7489, DMARC_REC_OK,
	    DMARC_P_NONE, 0, 0, 100, 1, "RFC 7489: invalid p with rua: "
	    "p=none" },
	{ "v=DMARC1; p=reject; sp=bogus", R7489, DMARC_REC_NOPOLICY, 0, 0, 0,
	    100, 1, "RFC 7489: invalid sp and no rua: not usable" },
	{ "v=DMARC1; p=reject; sp=bogus", BIS, DMARC_REC_OK, DMARC_P_REJECT,
	    0, 0, 100, 1, "DMARCbis: an invalid sp is ignored, p applies" },
	{ "v=DMARC1; p=reject; sp=none; np=quarantine", BIS, DMARC_REC_OK,
	    DMARC_P_REJECT, DMARC_P_NONE, DMARC_P_QUARANTINE, 100, 0,
	    "p, sp and np" },
	{ "v=DMARC1; P=Reject; SP=NONE", BIS, DMARC_REC_OK, DMARC_P_REJECT,
	    DMARC_P_NONE, 0, 100, 0, "tag names and keywords ignore case" },
	{ "v=DMARC1; p=reject; pct=20", R7489, DMARC_REC_OK, DMARC_P_REJECT,
	    0, 0, 20, 0, "RFC 7489 reads pct" },
	{ "v=DMARC1; p=reject; pct=20; rf=afrf; ri=3600", BIS, DMARC_REC_OK,
	    DMARC_P_REJECT, 0, 0, 100, 3, "DMARCbis ignores pct, rf and ri" },
	{ "v=DMARC1; p=reject; pct=101", R7489, DMARC_REC_OK, DMARC_P_REJECT,
	    0, 0, 100, 1, "pct over 100 is ignored" },
	{ "v=DMARC1; p=reject; pct=-1", R7489, DMARC_REC_OK, DMARC_P_REJECT,
	    0, 0, 100, 1, "a negative pct is ignored" },
	{ "v=DMARC1; p=reject; foo=bar; x_y=1", BIS, DMARC_REC_OK,
	    DMARC_P_REJECT, 0, 0, 100, 0, "unknown tags are ignored" },
	{ "v=DMARC1; p=none; p=reject", BIS, DMARC_REC_OK, DMARC_P_NONE, 0, 0,
	    100, 1, "a repeated tag: the first counts" },
	{ "v=DMARC1; p=reject; adkim=x; aspf=s", BIS, DMARC_REC_OK,
	    DMARC_P_REJECT, 0, 0, 100, 1, "an invalid adkim is ignored" },
	{ "v=DMARC1; p=reject; garbage", BIS, DMARC_REC_SYNTAX, 0, 0, 0, 100,
	    0, "an element without = is not a tag list" },
	{ "v=DMARC1; p=reject; 9x=1", BIS, DMARC_REC_SYNTAX, 0, 0, 0, 100, 0,
	    "a tag name starts with a letter" },
	{ "v=DMARC1; p=reject; fo=1:d:s", BIS, DMARC_REC_OK, DMARC_P_REJECT,
	    0, 0, 100, 0, "fo list" },
	{ "v=DMARC1; p=reject; fo=1:x", BIS, DMARC_REC_OK, DMARC_P_REJECT, 0,
	    0, 100, 1, "a bad fo is ignored" },
	{ "v=DMARC1; p=reject; rua=bogus", BIS, DMARC_REC_OK, DMARC_P_REJECT,
	    0, 0, 100, 1, "rua without a valid URI is ignored" },
	{ "v=DMARC1; p=reject; psd=maybe", BIS, DMARC_REC_OK, DMARC_P_REJECT,
	    0, 0, 100, 1, "an invalid psd is ignored" },
};

/* fields - tags other than the policies */
static void
fields(void)
{
	static const char all[] = "v=DMARC1; p=reject; adkim=s; aspf=r; "
	    "t=y; psd=y; fo=0:1:d:s; rua=mailto:a@example.com, "
	    "mailto:b@example.net; ruf=mailto:f@example.com";
	struct dmarc_record rec;
	struct buf why = BUF_INIT;

	ok(dmarc_record_parse(all, strlen(all), BIS, &rec, &why) ==
	    DMARC_REC_OK, "a record with every DMARCbis tag");
	is_int(rec.adkim, DMARC_ALIGN_STRICT, "adkim=s");
	is_int(rec.aspf, DMARC_ALIGN_RELAXED, "aspf=r");
	is_int(rec.testing, 1, "t=y");
	is_int(rec.psd, DMARC_PSD_Y, "psd=y");
	is_int(rec.fo, DMARC_FO_0 | DMARC_FO_1 | DMARC_FO_D | DMARC_FO_S,
	    "fo=0:1:d:s");
	is_str(rec.rua, "mailto:a@example.com, mailto:b@example.net",
	    "rua kept as written");
	is_str(rec.ruf, "mailto:f@example.com", "ruf kept");
	dmarc_record_clear(&rec);
	buf_reset(&why);
	ok(dmarc_record_parse("v=DMARC1; p=reject; pct=20", 26, BIS, &rec,
	    &why) == DMARC_REC_OK && strstr(buf_str(&why), "pct") != NULL,
	    "why names the tag DMARCbis ignores: %s", buf_str(&why));
	dmarc_record_clear(&rec);
	ok(dmarc_record_parse("v=DMARC1; p=reject; rf=iodef; ri=60", 35,
	    R7489, &rec, NULL) == DMARC_REC_OK && rec.rf_afrf == 0 &&
	    rec.ri == 60, "RFC 7489: rf and ri read");
	dmarc_record_clear(&rec);
	buf_free(&why);
}

int
main(void)
{
	struct dmarc_record rec;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum dmarc_rec_status st = dmarc_record_parse(cases[i].text,
		    strlen(cases[i].text), cases[i].mode, &rec, NULL);

		if (!is_int(st, cases[i].want, cases[i].why))
			continue;
		if (st != DMARC_REC_OK)
			continue;
		ok(rec.p == cases[i].p && rec.sp == cases[i].sp &&
		    rec.np == cases[i].np && rec.pct == cases[i].pct &&
		    rec.ignored == cases[i].ignored,
		    "%s: p=%s sp=%s np=%s pct=%d ignored=%u", cases[i].why,
		    dmarc_policy_name(rec.p), dmarc_policy_name(rec.sp),
		    dmarc_policy_name(rec.np), rec.pct, rec.ignored);
		dmarc_record_clear(&rec);
	}
	fields();
	return done_testing();
}
