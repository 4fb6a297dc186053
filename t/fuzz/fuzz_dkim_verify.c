/*
 * fuzz_dkim_verify - the whole verify path on a raw message
 *
 * The message goes through dkim_verify_message() in two halves (so that
 * the body arrives in more than one chunk) with keys answered from a fixed
 * table: an RSA 1024-bit key, an Ed25519 key, a revoked key, a key record
 * with syntax errors and a DNS failure.  Every result must be one of the
 * RFC 8601 values and its strings NUL-terminated.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dkim.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const struct {
	const char *name, *record;
	enum dkim_key_status st;
} keys[] = {
	{ "rsa._domainkey.example.com",
	    "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDv36"
	    "5X/Vfs1AVoiCcH3BNJe6Clt3Q4kF0DXgmQSHkzTrnvPj3/JN4Z+riWO8JvHt"
	    "T9DgGI+NCbSXLM6RPmCkEZy0I7Wa1HQ87zfTUWihRsKTDSRr+LR/yQ9hqZHC"
	    "+0CIwgzEi6A5p0kTjQ2+07Jo60hB2Z3hYnAt/B5uP2v2GT3QIDAQAB"
	    , DKIM_KEY_OK },
	{ "ed._domainkey.example.com", "v=DKIM1; k=ed25519; "
	    "p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=", DKIM_KEY_OK },
	{ "revoked._domainkey.example.com", "v=DKIM1; p=", DKIM_KEY_OK },
	{ "bad._domainkey.example.com", "v=DKIM1; k=rsa; p=!!!; =", DKIM_KEY_OK },
	{ "dnserr._domainkey.example.com", NULL, DKIM_KEY_TEMPFAIL },
};

/* lookup - answer from the table */
static enum dkim_key_status
lookup(void *arg, const char *qname, struct buf *rec, int *secure)
{
	size_t i;

	(void)arg;
	*secure = 0;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(qname, keys[i].name) == 0) {
			if (keys[i].record != NULL)
				buf_puts(rec, keys[i].record);
			return keys[i].st;
		}
	return DKIM_KEY_NOTFOUND;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct dkim_verify_opts o = DKIM_VERIFY_OPTS_INIT;
	struct dkim_verify *v;
	size_t i, n;

	o.now = 1700000000;
	if ((v = dkim_verify_new(&o, lookup, NULL)) == NULL)
		return 0;
	if (dkim_verify_message(v, (const char *)data, len) == DKIM_OK &&
	    dkim_verify_eom(v) == DKIM_OK) {
		n = dkim_verify_count(v);
		for (i = 0; i < n; i++) {
			const struct dkim_sig_result *r = dkim_verify_result(v, i);

			if (r->result > DKIM_RESULT_PERMERROR ||
			    r->reason >= DKIM_REASON_MAX ||
			    (r->result == DKIM_RESULT_PASS) !=
			    (r->reason == DKIM_REASON_NONE) ||
			    memchr(r->d, '\0', sizeof(r->d)) == NULL ||
			    memchr(r->b, '\0', sizeof(r->b)) == NULL)
				abort();
		}
	}
	dkim_verify_free(v);
	return 0;
}
