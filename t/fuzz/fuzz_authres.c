/*
 * fuzz_authres - the Authentication-Results parser, authserv-id matching,
 * and a write-then-parse round trip of whatever parsed
 *
 * The input is one header value.  What authres_parse() accepts is
 * written back with authres_write() and must parse again to the same
 * number of results; with the same authserv-id when that is printable
 * ASCII (authres_write writes other bytes as '?', on purpose).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "authres.h"
#include "buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* printable - every byte of s is printable ASCII */
static int
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct authres ar, again;
	struct buf b = BUF_INIT;
	char *s;

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	authres_is_ours(s, "mx.example.com");
	if (authres_parse((const char *)data, size, &ar) == AUTHRES_OK &&
	    ar.authserv_id[0] != '\0' && strlen(ar.authserv_id) ==
	    strcspn(ar.authserv_id, "\r\n")) {
		authres_write(&b, AUTHRES_NAME_LEN, 0, ar.authserv_id,
		    ar.version, ar.res, ar.nres);
		if (authres_parse(b.s, b.len, &again) != AUTHRES_OK ||
		    again.nres != ar.nres)
			abort();
		if (printable(ar.authserv_id) &&
		    (strcmp(again.authserv_id, ar.authserv_id) != 0 ||
		    authres_is_ours(b.s, ar.authserv_id) != 1))
			abort();
		authres_free(&again);
	}
	authres_free(&ar);
	buf_free(&b);
	free(s);
	return 0;
}
