/*
 * fuzz_dmarc_record - the DMARC policy record parser in both modes
 *
 * The input is one TXT record.  Whatever parses must have policies in
 * range, pct within 0..100, and a version tag the quick test agrees on.
 */
#include <stdint.h>
#include <stdlib.h>

#include "dmarc.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dmarc_record rec;
	struct buf why = BUF_INIT;
	int mode;

	for (mode = DMARC_MODE_BIS; mode <= DMARC_MODE_7489; mode++) {
		if (dmarc_record_parse((const char *)data, size,
		    (enum dmarc_mode)mode, &rec, &why) != DMARC_REC_OK) {
			buf_reset(&why);
			continue;
		}
		if (rec.p < DMARC_P_NONE || rec.p > DMARC_P_REJECT ||
		    rec.sp > DMARC_P_REJECT || rec.np > DMARC_P_REJECT ||
		    rec.pct < 0 || rec.pct > 100 ||
		    !dmarc_record_is_dmarc((const char *)data, size))
			abort();
		dmarc_record_clear(&rec);
		buf_reset(&why);
	}
	buf_free(&why);
	return 0;
}
