/*
 * hdredit.h - the header edits a milter asks for at end of message
 *
 * A list of deletions ("the index-th field called name", counting the
 * fields as received) and insertions ("name: value" at index, 0 = the
 * top), kept in the order the MTA must apply them once hdr_edits_order()
 * has put the deletions first.  The list owns the values; names are the
 * caller's (string constants).
 */
#ifndef COMMON_HDREDIT_H
#define COMMON_HDREDIT_H

#include <stddef.h>

enum hdr_edit_op {
	HDR_EDIT_INSERT,	/* insert name: value at index (0 = top) */
	HDR_EDIT_DELETE,	/* delete the index-th field called name */
};

struct hdr_edit {
	enum hdr_edit_op	 op;
	const char		*name;
	char			*value;		/* LF-folded, for the MTA */
	int			 index;
};

struct hdr_edits {
	struct hdr_edit	*v;
	size_t		 n, cap;
	int		 failed;	/* sticky: an edit could not be kept */
};

#define HDR_EDITS_INIT	{ NULL, 0, 0, 0 }

/* hdr_edits_add - append an edit, taking value over; an insertion whose
 * value is NULL (its maker ran out of memory), or no memory here, sets
 * e->failed instead */
void	hdr_edits_add(struct hdr_edits *, enum hdr_edit_op, const char *name,
	    char *value, int index);
/* hdr_edits_order - deletions first, each group keeping its order */
void	hdr_edits_order(struct hdr_edits *);
/* hdr_edits_clear - drop every edit (and the failure), keep the room */
void	hdr_edits_clear(struct hdr_edits *);
void	hdr_edits_free(struct hdr_edits *);
/* hdr_grow - room for element n of an array of cap elements of size
 * bytes (doubling, from 8); -1 when out of memory */
int	hdr_grow(void **arr, size_t *cap, size_t n, size_t size);

#endif
