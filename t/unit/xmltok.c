/*
 * xmltok - the bounded XML tokenizer: what it reads (tags, text,
 * CDATA, references, comments, PIs, empty elements, prefixes) and what
 * it refuses (DTDs, other entities, bad references, mismatched or
 * unclosed tags, a second root, text outside the root, every bound);
 * and unpack: gzip and zip within a bound, damage and bombs refused
 */
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "tap.h"
#include "unpack.h"
#include "xmltok.h"

/* trace - the tokens of a document as "<a <b b=text >a", or "ERR: ..." */
static void
trace(const char *doc, size_t len, struct buf *out)
{
	struct xmltok x;
	enum xmltok_tok t;

	xmltok_init(&x, doc, len);
	while ((t = xmltok_next(&x)) == XMLTOK_START || t == XMLTOK_END) {
		if (t == XMLTOK_START)
			buf_printf(out, "<%s ", x.name);
		else if (x.text.len > 0)
			buf_printf(out, "%s=%s ", x.name, x.text.s);
		else
			buf_printf(out, ">%s ", x.name);
	}
	if (t == XMLTOK_ERROR)
		buf_printf(out, "ERR: %s", x.error);
	xmltok_free(&x);
}

static const struct {
	const char *doc, *want, *name;
} cases[] = {
	{ "<?xml version=\"1.0\"?>\n<a><b>x</b></a>\n", "<a <b b=x >a ",
	  "a declaration, nested elements and their text" },
	{ "\xef\xbb\xbf<a/>", "<a >a ", "a byte order mark and an empty element" },
	{ "<p:a xmlns:p=\"u\"><p:b k='v' j=\"w\">t</p:b></p:a>",
	  "<a <b b=t >a ", "prefixes dropped, attributes skipped" },
	{ "<a>&lt;&gt;&amp;&quot;&apos;&#65;&#x263a;</a>",
	  "<a a=<>&\"'A\xe2\x98\xba ", "the predefined entities and character references" },
	{ "<a><![CDATA[<&>]]>x<!-- c --><?pi x?>y</a>", "<a a=<&>xy ",
	  "CDATA is text; comments and PIs are skipped" },
	{ "<!DOCTYPE a [<!ENTITY e \"x\">]><a>&e;</a>",
	  "ERR: at byte 0: a document type declaration (DTDs are not accepted)",
	  "a DTD is refused" },
	{ "<a>&e;</a>", "<a ERR: at byte 4: an entity other than the five predefined ones",
	  "an undeclared entity is refused" },
	{ "<a>&#0;</a>", "<a ERR: at byte 7: a reference to a character XML does not allow (0)",
	  "a reference to NUL is refused" },
	{ "<a>&#xD800;</a>", "<a ERR: at byte 11: a reference to a character XML does not allow (55296)",
	  "a reference to a surrogate is refused" },
	{ "<a>&#99999999999;</a>", "<a ERR: at byte 13: a character reference out of range",
	  "a huge reference is refused" },
	{ "<a><b></a>", "<a <b ERR: at byte 9: </a> ends <b>", "a mismatched end tag" },
	{ "<a><b>", "<a <b ERR: at byte 6: the document ends inside <b> (truncated?)",
	  "a truncated document" },
	{ "<a/><b/>", "<a >a ERR: at byte 4: a second root element", "a second root" },
	{ "x<a/>", "ERR: at byte 0: text outside the root element", "text before the root" },
	{ "<a/>&amp;", "<a >a ERR: at byte 4: a reference outside the root element",
	  "a reference after the root" },
	{ "", "ERR: at byte 0: no root element", "an empty document" },
	{ "<a b=c/>", "ERR: at byte 5: an attribute value without quotes",
	  "an unquoted attribute" },
	{ "<a>\x01</a>", "<a ERR: at byte 3: a control character (0x01)",
	  "a control character" },
	{ "<a><!-- x</a>", "<a ERR: at byte 7: the document ends in a comment",
	  "an unclosed comment" },
};

static void
test_limits(void)
{
	struct buf doc = BUF_INIT, out = BUF_INIT;
	int i;

	for (i = 0; i < XMLTOK_MAX_DEPTH + 1; i++)
		buf_puts(&doc, "<a>");
	trace(doc.s, doc.len, &out);
	ok(strstr(buf_str(&out), "nested deeper than 32") != NULL,
	    "nesting past the bound is refused");
	buf_reset(&doc);
	buf_reset(&out);
	buf_puts(&doc, "<");
	for (i = 0; i < XMLTOK_MAX_NAME + 1; i++)
		buf_putc(&doc, 'n');
	buf_puts(&doc, "/>");
	trace(doc.s, doc.len, &out);
	ok(strstr(buf_str(&out), "a name longer than 64 bytes") != NULL,
	    "a name past the bound is refused");
	buf_reset(&doc);
	buf_reset(&out);
	buf_puts(&doc, "<a>");
	for (i = 0; i < XMLTOK_MAX_TEXT + 1; i++)
		buf_puts(&doc, i % 2 ? "x" : "&lt;");
	buf_puts(&doc, "</a>");
	trace(doc.s, doc.len, &out);
	ok(strstr(buf_str(&out), "text is longer than 65536 bytes") != NULL,
	    "text past the bound is refused");
	buf_reset(&doc);
	buf_reset(&out);
	buf_puts(&doc, "<a");
	for (i = 0; i < XMLTOK_MAX_ATTRS + 1; i++)
		buf_printf(&doc, " a%d='x'", i);
	buf_puts(&doc, "/>");
	trace(doc.s, doc.len, &out);
	ok(strstr(buf_str(&out), "more than 32 attributes") != NULL,
	    "attributes past the bound are refused");
	buf_free(&doc);
	buf_free(&out);
}

/* gz - data compressed in gzip format */
static void
gz(const char *data, size_t n, struct buf *out)
{
	z_stream z;
	unsigned char chunk[4096];
	int rc;

	memset(&z, 0, sizeof(z));
	deflateInit2(&z, 9, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY);
	z.next_in = (unsigned char *)data;
	z.avail_in = (uInt)n;
	do {
		z.next_out = chunk;
		z.avail_out = sizeof(chunk);
		rc = deflate(&z, Z_FINISH);
		buf_append(out, chunk, sizeof(chunk) - z.avail_out);
	} while (rc == Z_OK);
	deflateEnd(&z);
}

/* zip_stored - a one-member zip archive, method 0 */
static void
zip_stored(const char *name, const char *data, size_t n, unsigned long crc,
    struct buf *out)
{
	unsigned char h[46];
	size_t nl = strlen(name), cdoff;

#define LE16(p, v) ((p)[0] = (unsigned char)(v), (p)[1] = (unsigned char)((v) >> 8))
#define LE32(p, v) (LE16(p, v), LE16((p) + 2, (v) >> 16))
	memset(h, 0, sizeof(h));
	LE32(h, 0x04034b50UL);
	LE32(h + 14, crc);
	LE32(h + 18, n);
	LE32(h + 22, n);
	LE16(h + 26, nl);
	buf_append(out, h, 30);
	buf_puts(out, name);
	buf_append(out, data, n);
	cdoff = out->len;
	memset(h, 0, sizeof(h));
	LE32(h, 0x02014b50UL);
	LE32(h + 16, crc);
	LE32(h + 20, n);
	LE32(h + 24, n);
	LE16(h + 28, nl);
	buf_append(out, h, 46);
	buf_puts(out, name);
	memset(h, 0, sizeof(h));
	LE32(h, 0x06054b50UL);
	LE16(h + 8, 1);
	LE16(h + 10, 1);
	LE32(h + 12, 46 + nl);
	LE32(h + 16, cdoff);
	buf_append(out, h, 22);
}

static int
count_member(void *arg, const char *name, const char *data, size_t len)
{
	(void)name;
	(void)data;
	*(size_t *)arg += len;
	return 0;
}

static void
test_unpack(void)
{
	static char zeros[1 << 20];
	struct buf z = BUF_INIT, out = BUF_INIT;
	size_t got = 0;
	const char *doc = "<a>hello</a>";
	unsigned long crc = crc32(0L, (const Bytef *)doc, (uInt)strlen(doc));

	gz(doc, strlen(doc), &z);
	ok(unpack_is_gzip(z.s, z.len) && unpack_gzip(z.s, z.len, 100, &out) ==
	    UNPACK_OK && strcmp(buf_str(&out), doc) == 0, "gzip inflates");
	buf_reset(&out);
	gz(doc, strlen(doc), &z);	/* two members */
	ok(unpack_gzip(z.s, z.len, 100, &out) == UNPACK_OK && out.len ==
	    2 * strlen(doc), "  ... every member of a gzip file");
	buf_reset(&out);
	is_int(unpack_gzip(z.s, z.len / 3, 100, &out), UNPACK_TRUNCATED,
	    "  ... a truncated one is named");
	buf_reset(&z);
	buf_reset(&out);
	gz(zeros, sizeof(zeros), &z);
	is_int(unpack_gzip(z.s, z.len, 65536, &out), UNPACK_TOOBIG,
	    "  ... a bomb stops at the bound");
	ok(out.len <= 65536, "  ... having inflated no more than it (%zu)",
	    out.len);
	buf_reset(&z);
	zip_stored("r.xml", doc, strlen(doc), crc, &z);
	ok(unpack_is_zip(z.s, z.len) && unpack_zip(z.s, z.len, 100,
	    count_member, &got, NULL) == UNPACK_OK && got == strlen(doc),
	    "a stored zip member is read");
	is_int(unpack_zip(z.s, z.len, 5, count_member, &got, NULL),
	    UNPACK_TOOBIG, "  ... within the bound");
	is_int(unpack_zip(z.s, z.len - 30, 100, count_member, &got, NULL),
	    UNPACK_TRUNCATED, "  ... a truncated archive is named");
	buf_reset(&z);
	zip_stored("r.xml", doc, strlen(doc), crc ^ 1, &z);
	is_int(unpack_zip(z.s, z.len, 100, count_member, &got, NULL),
	    UNPACK_CORRUPT, "  ... a wrong CRC-32 is refused");
	buf_free(&z);
	buf_free(&out);
}

int
main(void)
{
	struct buf out = BUF_INIT;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_reset(&out);
		trace(cases[i].doc, strlen(cases[i].doc), &out);
		is_str(buf_str(&out) ? buf_str(&out) : "", cases[i].want,
		    cases[i].name);
	}
	buf_free(&out);
	test_limits();
	test_unpack();
	{
		struct buf e = BUF_INIT;

		xml_escape(&e, "a<b>&\"c'\td\x01\x7f");
		is_str(buf_str(&e), "a&lt;b&gt;&amp;&quot;c&apos;\td",
		    "xml_escape: the five specials as entities, TAB kept, "
		    "other control characters dropped");
		buf_free(&e);
	}
	return done_testing();
}
