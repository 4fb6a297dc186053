/*
 * spfd_hdr.h - milter-spf: header fields and reply texts from hostile input
 *
 * Everything the SMTP client chose (HELO name, MAIL FROM address, and
 * what an SPF record's explanation expands to) passes through
 * spfd_hdr_clean() before it reaches a header field or an SMTP reply:
 * bytes outside printable US-ASCII become '?', and values are cut to
 * SPFD_FIELD_MAX bytes.  The writers then quote or escape what the
 * syntax of the field needs, so no CR, LF, control character or
 * unbalanced quote or parenthesis can get through.
 *
 * The caller owns every buffer; the functions return 0, or -1 when the
 * buffer failed (out of memory).
 */
#ifndef SPFD_HDR_H
#define SPFD_HDR_H

#include <stddef.h>

#include "buf.h"
#include "spf.h"

#define SPFD_FIELD_MAX	255	/* bytes kept of one sender-supplied value */
#define SPFD_REPLY_MAX	400	/* bytes of an SMTP reply text */
#define SPFD_RSPF_NAME_LEN 14	/* "Received-SPF: " */
#define SPFD_FOLD_COLUMN 78

/* The content of one Received-SPF field (RFC 7208 section 9.1); strings
 * are borrowed and may come straight from the client (NULL: left out). */
struct spfd_rspf {
	enum spf_result	 result;
	const char	*receiver;	/* our host name */
	const char	*client_ip;
	const char	*envelope_from;	/* MAIL FROM, "" for the null sender */
	const char	*helo;
	const char	*identity;	/* "mailfrom" or "helo" */
	const char	*checked;	/* what was checked: local@domain or
					   the HELO name (for the comment) */
	const char	*mechanism;	/* the term that matched */
	const char	*problem;	/* why, for temperror and permerror */
};

/* spfd_hdr_clean - append s cleaned (non-printables as '?', at most max
 * bytes) to out */
int	spfd_hdr_clean(struct buf *out, const char *s, size_t max);
/* spfd_hdr_received_spf - append a Received-SPF value (after "Name: "),
 * folded with LF TAB before SPFD_FOLD_COLUMN */
int	spfd_hdr_received_spf(struct buf *out, const struct spfd_rspf *);
/* spfd_hdr_reply - dst (size bytes) gets text cleaned for smfi_setreply():
 * printable ASCII only, '%' doubled, cut to SPFD_REPLY_MAX bytes */
void	spfd_hdr_reply(char *dst, size_t size, const char *text);

#endif
