/*
 * rfc5322.h - Internet message format: header fields, addresses, domains
 *
 * RFC 5322 with the obsolete syntax accepted on input, and RFC 6532
 * UTF-8 tolerated wherever text is allowed (any octet >= 0x80 counts as
 * atext, qtext, ctext or dtext; it is not checked to be well-formed).
 *
 * Memory: rfc5322_next_field() only points into the caller's message.
 * rfc5322_from() and rfc5322_envelope() allocate the strings of their
 * results; the caller releases them with rfc5322_addrlist_free() and
 * rfc5322_addr_free() (both safe on a zeroed or already freed object).
 * Out of memory is RFC5322_NOMEM, never fatal.
 *
 * Domains are normalised: ASCII letters lowercased, one trailing dot
 * removed.  A-labels ("xn--...") are left as they are; U-labels are kept
 * as UTF-8 (no IDNA conversion is done here).  Local parts are kept as
 * written on the wire (quotes and backslashes kept, comments and folding
 * removed), so they can be written out again.
 */
#ifndef COMMON_RFC5322_H
#define COMMON_RFC5322_H

#include <stddef.h>

#include "buf.h"

#define RFC5322_MAX_ADDRS	64	/* addresses in one From field */
#define RFC5322_MAX_NESTING	32	/* comments inside comments */
#define RFC5322_MAX_DOMAIN	253	/* octets in a domain, no final dot */
#define RFC5322_MAX_LABEL	63	/* octets in a label */

enum rfc5322_status {
	RFC5322_OK = 0,
	RFC5322_EOH,		/* end of header: empty line or end of input */
	RFC5322_BADNAME,	/* field name empty or with a bad character */
	RFC5322_NOCOLON,	/* header line without a colon */
	RFC5322_SYNTAX,		/* address syntax error */
	RFC5322_NOADDR,		/* no address (empty list, empty group) */
	RFC5322_MULTIPLE,	/* more than one address (list filled) */
	RFC5322_NODOMAIN,	/* an address without "@domain" */
	RFC5322_NULLSENDER,	/* envelope sender "<>" */
	RFC5322_TOOMANY,	/* more than RFC5322_MAX_ADDRS addresses */
	RFC5322_NOMEM,
};

/*
 * One header field as found in a raw message.  raw covers the whole
 * field (name, colon, value and its folding) without the line end that
 * terminates it; value is what follows the colon, folding kept.  For a
 * malformed line, raw covers the line and its continuation lines and
 * name/value are empty.  next is the first byte after the field; after
 * RFC5322_EOH it is the start of the body (end when there is none).
 */
struct rfc5322_field {
	const char	*name;
	size_t		 name_len;
	const char	*value;
	size_t		 value_len;
	const char	*raw;
	size_t		 raw_len;
	const char	*next;
};

struct rfc5322_addr {
	char	*local;			/* as written, quotes kept */
	char	*domain;		/* normalised; NULL for "<>" */
};

struct rfc5322_addrlist {
	struct rfc5322_addr *addr;
	size_t	 n;
};

/* Flags of rfc5322_domain_valid(). */
#define RFC5322_DOM_UNDERSCORE	0x01	/* allow '_' in labels */
#define RFC5322_DOM_UTF8	0x02	/* allow octets >= 0x80 (U-labels) */

enum rfc5322_status rfc5322_next_field(const char *, const char *,
	    struct rfc5322_field *);
int	 rfc5322_unfold(struct buf *, const char *, size_t);
enum rfc5322_status rfc5322_from(const char *, size_t,
	    struct rfc5322_addrlist *);
void	 rfc5322_addrlist_free(struct rfc5322_addrlist *);
enum rfc5322_status rfc5322_envelope(const char *, size_t,
	    struct rfc5322_addr *);
void	 rfc5322_addr_free(struct rfc5322_addr *);
int	 rfc5322_domain_valid(const char *, size_t, unsigned);
const char *rfc5322_strerror(enum rfc5322_status);

/*
 * Cursor functions shared with other header parsers (authres): each
 * takes a cursor and the end of input and returns the advanced cursor,
 * or NULL when the rule does not match.
 *	rfc5322_cfws()		[CFWS]; NULL only on an unclosed comment
 *	rfc5322_comment()	one comment, nested; its text (without the
 *				outer parentheses, quoted-pairs resolved,
 *				line breaks removed) is appended to out
 *				when out is not NULL
 *	rfc5322_quoted_string()	DQUOTE ... DQUOTE without surrounding
 *				CFWS; the content, unquoted, is appended
 *				to out when out is not NULL
 */
const char *rfc5322_cfws(const char *, const char *);
const char *rfc5322_comment(const char *, const char *, struct buf *);
const char *rfc5322_quoted_string(const char *, const char *, struct buf *);

#endif
