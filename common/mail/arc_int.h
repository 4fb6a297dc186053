/*
 * arc_int.h - the ARC context, shared by arc_chain.c and arc_seal.c only
 *
 * Field indexes point into the message's header list (hdrs); one slot
 * per instance and kind, -1 when that field is missing.  Parsed
 * signatures (AMS and AS) keep offsets into their field, never
 * pointers, since the header list may move as it grows.
 */
#ifndef COMMON_ARC_INT_H
#define COMMON_ARC_INT_H

#include "arc.h"

#define ARC_MAX_H_TOTAL	2048	/* h= names of all AMS of one message */
#define ARC_BODYHASHES	2	/* simple and relaxed, SHA-256 */

enum arc_stage { ARC_ST_HEADER = 0, ARC_ST_BODY, ARC_ST_DONE };

struct arc_sig {
	int			 parsed;	/* 1 ok, -1 bad (why says why) */
	const char		*why;
	enum crypto_keytype	 ktype;
	enum canon_alg		 hc, bc;
	size_t			 voff;		/* value offset in the field */
	size_t			 h_off, h_len;	/* AMS h=, in the field */
	size_t			 b_start, b_end; /* raw b= span, in the field */
	size_t			 nh;		/* names in h= */
	struct buf		 b;		/* decoded b= */
	unsigned char		 bh[CRYPTO_HASH_MAX];	/* AMS bh= */
	char			 d[254], s[254];
	enum arc_chain		 cv;		/* AS cv= */
};

struct arc_keyslot {
	char			 qname[520];
	int			 ok;		/* key usable */
	int			 temp;		/* lookup failed temporarily */
	const char		*why;
	struct dkim_key		 key;
};

struct arc {
	struct arc_opts		 o;
	dkim_key_fn		 lookup;
	void			*arg;
	enum arc_stage		 stage;
	int			 nomem;
	struct canon_hdrs	 hdrs;
	/* the ARC fields as they arrived */
	size_t			 narc;
	long			 field[3][ARC_MAX_SETS + 1];
	unsigned		 maxinst;
	const char		*broken;	/* structure error, first one */
	int			 complete;	/* sets 1..maxinst all there */
	int			 any_cv_fail;	/* some AS says cv=fail */
	struct arc_sig		 ams[ARC_MAX_SETS + 1], as[ARC_MAX_SETS + 1];
	struct buf		 canon[3][ARC_MAX_SETS + 1];	/* relaxed */
	/* body hashes: [CANON_SIMPLE], [CANON_RELAXED] */
	struct canon_body	*cb[ARC_BODYHASHES];
	struct crypto_hash_ctx	*hc[ARC_BODYHASHES];
	unsigned char		 bh[ARC_BODYHASHES][CRYPTO_HASH_MAX];
	struct arc_keyslot	 keys[ARC_MAX_KEYS];
	size_t			 nkeys;
	/* results */
	enum arc_chain		 result;
	char			 reason[160];
	int			 oldest;
	int			 tempfail;
	unsigned		 nsets;
};

/* arc_parse.c */
void	arc_sig_parse(enum arc_kind, const char *field, size_t len,
	    struct arc_sig *);
void	arc_sig_clear(struct arc_sig *);
/* arc_chain.c */
int	arc_field_canon(struct arc *, enum arc_kind, unsigned inst);
/* arc_ams_digest - the AMS header hash: the fields named in hl (a
 * "a:b:c" list) picked bottom-up, top (a field above the message's,
 * or NULL) last, then self with its b= value (b_start..b_end) left out */
int	arc_ams_digest(struct arc *, enum canon_alg, const char *hl,
	    size_t hlen, const char *top, size_t toplen, const char *self,
	    size_t selflen, size_t b_start, size_t b_end, unsigned char *);

#endif
