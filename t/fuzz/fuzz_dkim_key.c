/*
 * fuzz_dkim_key - the DKIM key record parser on arbitrary bytes
 *
 * A parsed key must be consistent: OK means a public key of a known type.
 */
#include <stdint.h>
#include <stdlib.h>

#include "dkim.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct dkim_key key;
	enum dkim_key_error e;

	e = dkim_key_parse((const char *)data, len, &key);
	if (e == DKIM_KEYREC_OK && (key.pk == NULL ||
	    (key.type != CRYPTO_KEY_RSA && key.type != CRYPTO_KEY_ED25519)))
		abort();
	if (dkim_key_strerror(e) == NULL)
		abort();
	dkim_key_clear(&key);
	return 0;
}
