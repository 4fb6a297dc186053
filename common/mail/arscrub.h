/*
 * arscrub.h - removing Authentication-Results fields that claim our
 * authserv-id (RFC 8601 section 5)
 *
 * A milter sees the header fields one at a time and can only ask, at end
 * of message, to delete "the n-th field called Authentication-Results".
 * arscrub_header() is shown every field as it arrives; it counts the
 * Authentication-Results fields and notes the index of each one that
 * this milter must remove: one that claims our authserv-id (bare, or
 * with "/jobid" after it as AuthservIDWithJobID writes it) and holds a
 * result of this milter's method, or of a method no milter of the suite
 * writes, or cannot be parsed (see authres_claims()).  arscrub_edits()
 * then appends the deletions to a milter's edits, highest index first,
 * so that no deletion shifts another.
 *
 * Every milter of the suite (dkim, spf, dmarc, arc) keeps one struct
 * arscrub per connection: arscrub_init() with its method, arscrub_reset()
 * at each message, arscrub_free() at close.  The method string is
 * borrowed (a constant).  Out of memory sets the sticky failed flag; the
 * caller answers with its internal-error action.
 */
#ifndef COMMON_ARSCRUB_H
#define COMMON_ARSCRUB_H

#include <stddef.h>

#include "hdredit.h"

#define ARSCRUB_NAME	"Authentication-Results"

struct arscrub {
	const char	*method;	/* "dkim", "spf", "dmarc", "arc" */
	int		 total;		/* Authentication-Results seen */
	int		*del;		/* indexes (from 1) to delete */
	size_t		 n, cap;
	int		 failed;	/* out of memory: sticky */
};

void	arscrub_init(struct arscrub *, const char *method);
/* arscrub_header - one header field; id is our authserv-id */
void	arscrub_header(struct arscrub *, const char *id, const char *name,
	    const char *value);
/* arscrub_claims - 1 when a value claims id (or id/jobid) for method as
 * above, 0 when not, -1 when out of memory */
int	arscrub_claims(const char *value, const char *id, const char *method);
/* arscrub_count - the fields to delete */
size_t	arscrub_count(const struct arscrub *);
/* arscrub_edits - append their deletions to e, highest index first */
void	arscrub_edits(const struct arscrub *, struct hdr_edits *e);
/* arscrub_reset - forget the message's fields, keep the memory */
void	arscrub_reset(struct arscrub *);
void	arscrub_free(struct arscrub *);

#endif
