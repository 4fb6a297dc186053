/*
 * fuzz_dmarc_import - aggregate reports from strangers: the XML
 * tokenizer, the report parser, gzip and zip inflation and the MIME
 * walk (no database)
 *
 * The input is given both as a file (XML, gzip or zip by its first
 * bytes) and as a mail.  Every report that comes out must be complete
 * (org_name, report_id, a domain, begin <= end) with each record's
 * fields within their bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dmarc_agg.h"

#define FUZZ_MAX_UNPACKED	((size_t)4 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* check - a report must be whole and bounded */
static int
check(void *arg, struct dmarc_agg *r)
{
	size_t i;

	(void)arg;
	if (r->org_name[0] == '\0' || r->report_id[0] == '\0' ||
	    r->domain[0] == '\0' || r->begin > r->end ||
	    r->nrec > DMARC_AGG_MAX_RECORDS || r->pct > 100 ||
	    memchr(r->org_name, '\0', sizeof(r->org_name)) == NULL)
		abort();
	for (i = 0; i < r->nrec; i++)
		if (r->rec[i].source_ip[0] == '\0' ||
		    r->rec[i].header_from[0] == '\0' || r->rec[i].count < 0 ||
		    strchr(r->rec[i].header_from, '|') != NULL)
			abort();
	dmarc_agg_free(r);
	free(r);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf why = BUF_INIT;

	dmarc_agg_data((const char *)data, size, "fuzz", FUZZ_MAX_UNPACKED,
	    check, NULL, &why);
	buf_reset(&why);
	dmarc_agg_mail((const char *)data, size, FUZZ_MAX_UNPACKED, check,
	    NULL, &why);
	buf_free(&why);
	return 0;
}
