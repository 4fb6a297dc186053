/*
 * base64 - RFC 4648 vectors, folded input, padding and alphabet errors
 */
#include <string.h>

#include "base64.h"
#include "tap.h"

static const struct {
	const char *plain, *enc;
} vectors[] = {			/* RFC 4648 section 10 */
	{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
	{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" },
	{ "foobar", "Zm9vYmFy" },
};

static const struct {
	const char *in;
	enum base64_status want;
	const char *out;
	const char *name;
} decodes[] = {
	{ "Zm9v\r\n\tYmFy", BASE64_OK, "foobar", "folding white space is skipped" },
	{ " Z m 9 v ", BASE64_OK, "foo", "spaces between every byte are skipped" },
	{ "Zm8", BASE64_OK, "fo", "missing padding is accepted" },
	{ "Zg", BASE64_OK, "f", "missing double padding is accepted" },
	{ "Zm9vY", BASE64_BADLEN, NULL, "a dangling sextet is refused" },
	{ "Zm9v!", BASE64_BADCHAR, NULL, "a byte outside the alphabet is refused" },
	{ "Zg==Zg==", BASE64_BADLEN, NULL, "data after padding is refused" },
	{ "Zm9=", BASE64_OK, "fo", "single padding after three sextets" },
	{ "Z===", BASE64_BADLEN, NULL, "three padding bytes are refused" },
	{ "====", BASE64_BADLEN, NULL, "padding alone is refused" },
	{ "Zm\0v", BASE64_BADCHAR, NULL, "a NUL byte is refused" },
};

int
main(void)
{
	struct buf b = BUF_INIT;
	size_t i, n;
	unsigned char all[256];
	enum base64_status st;

	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		buf_reset(&b);
		base64_encode(&b, vectors[i].plain, strlen(vectors[i].plain));
		ok(strcmp(buf_str(&b), vectors[i].enc) == 0,
		    "encode \"%s\" gives \"%s\"", vectors[i].plain,
		    vectors[i].enc);
		buf_reset(&b);
		st = base64_decode(&b, vectors[i].enc, strlen(vectors[i].enc));
		ok(st == BASE64_OK && strcmp(buf_str(&b), vectors[i].plain) == 0,
		    "decode \"%s\" gives \"%s\"", vectors[i].enc,
		    vectors[i].plain);
	}
	for (i = 0; i < sizeof(decodes) / sizeof(decodes[0]); i++) {
		buf_reset(&b);
		n = strlen(decodes[i].in);
		if (strcmp(decodes[i].name, "a NUL byte is refused") == 0)
			n = 4;
		st = base64_decode(&b, decodes[i].in, n);
		ok(st == decodes[i].want && (decodes[i].out == NULL ||
		    strcmp(buf_str(&b), decodes[i].out) == 0), "%s",
		    decodes[i].name);
	}
	for (i = 0; i < sizeof(all); i++)
		all[i] = (unsigned char)i;
	buf_reset(&b);
	base64_encode(&b, all, sizeof(all));
	{
		struct buf d = BUF_INIT;

		ok(base64_decode(&d, b.s, b.len) == BASE64_OK &&
		    d.len == sizeof(all) && memcmp(d.s, all, d.len) == 0,
		    "every byte value survives a round trip");
		buf_free(&d);
	}
	is_str(base64_strerror(BASE64_BADCHAR), "invalid base64 character",
	    "statuses have names");
	buf_free(&b);
	return done_testing();
}
