/*
 * NAME
 *	arscrub - removing Authentication-Results fields that claim our
 *	authserv-id
 * SYNOPSIS
 *	#include "arscrub.h"
 * DESCRIPTION
 *	RFC 8601 section 5: a receiver removes, or renames, the
 *	Authentication-Results fields that claim its own authserv-id before
 *	adding its own, since a sender could have forged them.  Milters on
 *	one host usually share an authserv-id, and an MTA shows each milter
 *	the fields the milters before it added, so a milter removes only
 *	the fields it could have written itself or that none of the suite
 *	writes (authres_claims()); a field under our id with a job id
 *	("id/jobid", AuthservIDWithJobID) counts as ours whether or not
 *	this milter adds job ids, so that turning the setting on or off
 *	does not let old forgeries through.
 *
 *	The indexes are those of the milter protocol: the n-th field named
 *	Authentication-Results, counted from 1 as the fields arrived.
 *	Deleting from the highest index down keeps the others valid.
 * DIAGNOSTICS
 *	Out of memory for the list of indexes sets failed; a field whose
 *	check ran out of memory is counted as one to delete, so that a
 *	forgery is never kept for that reason.
 * SEE ALSO
 *	RFC 8601 section 5, authres(3), hdredit(3)
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arscrub.h"
#include "authres.h"
#include "buf.h"

/* arscrub_init - an empty scrubber for one method */
void
arscrub_init(struct arscrub *s, const char *method)
{
	memset(s, 0, sizeof(*s));
	s->method = method;
}

/* arscrub_claims - ours, bare or with a job id, for this method? */
int
arscrub_claims(const char *value, const char *id, const char *method)
{
	struct buf got = BUF_INIT;
	size_t n = strlen(id);
	int r;

	if ((r = authres_claims(value, id, method)) != 0)
		return r;
	if (authres_authserv_id(value, strlen(value), &got) < 0)
		r = got.failed ? -1 : 0;
	else if (got.len > n && got.s[n] == '/' &&
	    strncasecmp(got.s, id, n) == 0)
		r = authres_claims(value, got.s, method);
	buf_free(&got);
	return r;
}

/* arscrub_header - count an A-R field, note it when it is to go */
void
arscrub_header(struct arscrub *s, const char *id, const char *name,
    const char *value)
{
	int r;

	if (strcasecmp(name, ARSCRUB_NAME) != 0)
		return;
	s->total++;
	/* r < 0, out of memory: the field goes rather than stay forged */
	if ((r = arscrub_claims(value, id, s->method)) == 0)
		return;
	if (hdr_grow((void **)&s->del, &s->cap, s->n, sizeof(*s->del)) < 0)
		s->failed = 1;
	else
		s->del[s->n++] = s->total;
}

/* arscrub_count - the fields to delete */
size_t
arscrub_count(const struct arscrub *s)
{
	return s->n;
}

/* arscrub_edits - the deletions, highest index first */
void
arscrub_edits(const struct arscrub *s, struct hdr_edits *e)
{
	size_t i;

	for (i = s->n; i-- > 0;)
		hdr_edits_add(e, HDR_EDIT_DELETE, ARSCRUB_NAME, NULL,
		    s->del[i]);
}

/* arscrub_reset - a new message */
void
arscrub_reset(struct arscrub *s)
{
	s->total = 0;
	s->n = 0;
	s->failed = 0;
}

/* arscrub_free - release the memory; the scrubber can be initialised
 * again */
void
arscrub_free(struct arscrub *s)
{
	free(s->del);
	s->del = NULL;
	s->n = s->cap = 0;
	s->total = 0;
}
