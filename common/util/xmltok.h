/*
 * xmltok.h - a bounded XML tokenizer for documents from strangers
 *
 * Enough XML for data documents such as DMARC aggregate reports, and
 * nothing that lets a document make work for us: no DTD (a document
 * with <!DOCTYPE is refused, and with it every custom or external
 * entity), only the five predefined entities and numeric character
 * references; attributes are checked for form and skipped; comments and
 * processing instructions are skipped; CDATA is text.  Every dimension
 * is bounded (XMLTOK_MAX_*); past a bound the document is refused.
 *
 * xmltok_next() returns the next start or end tag.  At an end tag,
 * x->text holds the character data directly inside the element since
 * its last child (all of it for an element without children), decoded.
 * Names are given without their namespace prefix.  Nothing is
 * allocated but x->text; xmltok_free() releases it.
 */
#ifndef COMMON_XMLTOK_H
#define COMMON_XMLTOK_H

#include <stddef.h>

#include "buf.h"

#define XMLTOK_MAX_SIZE		((size_t)64 << 20)	/* document bytes */
#define XMLTOK_MAX_DEPTH	32	/* elements open at once */
#define XMLTOK_MAX_NAME		64	/* bytes of an element name */
#define XMLTOK_MAX_TEXT		65536	/* bytes of one element's text */
#define XMLTOK_MAX_ELEMENTS	2000000	/* elements in a document */
#define XMLTOK_MAX_ATTRS	32	/* attributes of an element */

enum xmltok_tok {
	XMLTOK_EOF = 0,		/* the document is complete */
	XMLTOK_START,		/* x->name, x->depth (the root is 1) */
	XMLTOK_END,		/* x->name, x->text, x->depth (before it) */
	XMLTOK_ERROR,		/* x->error says what and where */
};

struct xmltok {
	const char	*base, *p, *end;
	int		 depth;
	int		 closed;	/* the root element has ended */
	int		 empty;		/* <a/> pending its end */
	int		 ended;		/* the last token was an end tag */
	unsigned long	 elements;
	char		 stack[XMLTOK_MAX_DEPTH][XMLTOK_MAX_NAME + 1];
	const char	*name;		/* local name of the tag returned */
	struct buf	 text;
	char		 error[160];
};

/* xmltok_init - a tokenizer over data[0..len) (not copied) */
void	xmltok_init(struct xmltok *, const char *data, size_t len);
enum xmltok_tok xmltok_next(struct xmltok *);
void	xmltok_free(struct xmltok *);
/* xml_escape - s appended to b for XML or HTML text and attribute
 * values: the five specials as entities, control characters other than
 * TAB dropped */
void	xml_escape(struct buf *, const char *);

#endif
