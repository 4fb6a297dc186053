/*
 * fuzz_arc - ARC header parsing, chain validation and sealing on a raw
 * message
 *
 * The header fields go through arc_header(), the body in two halves (so
 * that it arrives in more than one chunk), with keys answered from a fixed table
 * (an RSA 1024-bit key at rsa._domainkey.example.com, an Ed25519 key, a
 * revoked key, a broken record and a DNS failure); then, whatever the
 * result, the next set is sealed with a fixed Ed25519 key and the AAR
 * collects the message's results.  The result must be one of the three
 * words, oldest-pass within 0..50 or -1, and a seal, when made, must
 * carry instance 1..50.  The first byte, when odd, asks for pass as the
 * recorded chain status instead of the validation's.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arc.h"
#include "rfc5322.h"

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
	static const unsigned char seed[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
	struct crypto_key *key = NULL;
	struct arc_seal_opts o;
	struct arc_set set;
	struct arc *a;
	const char *msg = (const char *)data, *why;
	enum arc_chain r;
	size_t half, pos;
	struct rfc5322_field f;
	const char *p = msg, *end = msg + len;
	int ok = 1;

	if ((a = arc_new(NULL, lookup, NULL)) == NULL)
		return 0;
	while (ok && rfc5322_next_field(p, end, &f) != RFC5322_EOH) {
		ok = arc_header(a, f.raw, f.raw_len) == ARC_OK;
		p = f.next;
	}
	pos = (size_t)(f.next - msg);
	half = pos + (len - pos) / 2;
	if (ok && arc_eoh(a) == ARC_OK &&
	    arc_body(a, data + pos, half - pos) == ARC_OK &&
	    arc_body(a, data + half, len - half) == ARC_OK &&
	    arc_eom(a) == ARC_OK) {
		r = arc_result(a);
		if (r > ARC_CHAIN_FAIL || arc_oldest_pass(a) < -1 ||
		    arc_oldest_pass(a) > ARC_MAX_SETS ||
		    strlen(arc_reason(a)) >= 160)
			abort();
		if (crypto_key_from_ed25519_seed(seed, &key) == CRYPTO_OK) {
			memset(&o, 0, sizeof(o));
			o.key = key;
			o.domain = "example.net";
			o.selector = "ed";
			o.authserv_id = "mx.example.net";
			o.now = 1764748800;
			if (arc_seal(a, &o, len > 0 && (data[0] & 1) ?
			    ARC_CHAIN_PASS : r, "arc=none", &set, &why) ==
			    ARC_SEAL_OK) {
				if (set.instance < 1 ||
				    set.instance > ARC_MAX_SETS ||
				    set.as.s == NULL || set.ams.s == NULL ||
				    set.aar.s == NULL)
					abort();
				arc_set_free(&set);
			}
			crypto_key_free(key);
		}
	}
	arc_free(a);
	return 0;
}
