/*
 * NAME
 *	hdredit - the header edits a milter asks for at end of message
 * SYNOPSIS
 *	#include "hdredit.h"
 * DESCRIPTION
 *	A growable list of header deletions and insertions, shared by the
 *	daemons' message modules; daemon_edit_apply() (common/milter/daemon_edit.c) hands it to the MTA.
 *	Out of memory never loses an edit silently: the list's failed flag
 *	is set, and the caller answers with its internal-error action.
 * SEE ALSO
 *	hdredit.h, daemon(3)
 */
#include <stdlib.h>

#include "hdredit.h"

/* hdr_grow - see hdredit.h */
int
hdr_grow(void **arr, size_t *cap, size_t n, size_t size)
{
	void *p;
	size_t c;

	if (n < *cap)
		return 0;
	c = *cap ? *cap * 2 : 8;
	if ((p = reallocarray(*arr, c, size)) == NULL)
		return -1;
	*arr = p;
	*cap = c;
	return 0;
}

/* hdr_edits_add - see hdredit.h */
void
hdr_edits_add(struct hdr_edits *e, enum hdr_edit_op op, const char *name,
    char *value, int index)
{
	if ((op == HDR_EDIT_INSERT && value == NULL) ||
	    hdr_grow((void **)&e->v, &e->cap, e->n, sizeof(*e->v)) < 0) {
		free(value);
		e->failed = 1;
		return;
	}
	e->v[e->n].op = op;
	e->v[e->n].name = name;
	e->v[e->n].value = value;
	e->v[e->n].index = index;
	e->n++;
}

/* hdr_edits_order - deletions first (their indexes count the fields as
 * received), then insertions, each group keeping its order */
void
hdr_edits_order(struct hdr_edits *e)
{
	struct hdr_edit t;
	size_t i, j;

	for (i = 1; i < e->n; i++) {
		t = e->v[i];
		for (j = i; j > 0 && t.op == HDR_EDIT_DELETE &&
		    e->v[j - 1].op == HDR_EDIT_INSERT; j--)
			e->v[j] = e->v[j - 1];
		e->v[j] = t;
	}
}

/* hdr_edits_clear - see hdredit.h */
void
hdr_edits_clear(struct hdr_edits *e)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		free(e->v[i].value);
	e->n = 0;
	e->failed = 0;
}

/* hdr_edits_free - release; the list is empty afterwards */
void
hdr_edits_free(struct hdr_edits *e)
{
	hdr_edits_clear(e);
	free(e->v);
	e->v = NULL;
	e->cap = 0;
}
