/*
 * hdredit - the end-of-message edit list: order (deletions first, each
 * group in its order), the failure flag, clearing and reuse
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "hdredit.h"
#include "tap.h"

/* listing - "D name index" / "I name index value" lines */
static void
listing(const struct hdr_edits *e, struct buf *out)
{
	size_t i;

	buf_reset(out);
	buf_append(out, "", 0);
	for (i = 0; i < e->n; i++)
		buf_printf(out, "%c %s %d%s%s\n", e->v[i].op ==
		    HDR_EDIT_DELETE ? 'D' : 'I', e->v[i].name, e->v[i].index,
		    e->v[i].value ? " " : "", e->v[i].value ? e->v[i].value : "");
}

int
main(void)
{
	struct hdr_edits e = HDR_EDITS_INIT;
	struct buf out = BUF_INIT;
	int i, cap_ok = 1;

	hdr_edits_add(&e, HDR_EDIT_INSERT, "A", strdup("1"), 0);
	hdr_edits_add(&e, HDR_EDIT_DELETE, "X", NULL, 3);
	hdr_edits_add(&e, HDR_EDIT_INSERT, "B", strdup("2"), 1);
	hdr_edits_add(&e, HDR_EDIT_DELETE, "X", NULL, 1);
	hdr_edits_order(&e);
	listing(&e, &out);
	is_str(out.s, "D X 3\nD X 1\nI A 0 1\nI B 1 2\n",
	    "deletions first, then insertions, each group in its order");
	ok(!e.failed, "no failure so far");
	hdr_edits_add(&e, HDR_EDIT_INSERT, "C", NULL, 0);
	ok(e.failed && e.n == 4, "an insertion without a value (its maker "
	    "ran out of memory) is not kept, and marks the list failed");
	hdr_edits_clear(&e);
	ok(e.n == 0 && !e.failed && e.cap >= 4, "clearing empties the list "
	    "and its failure, keeping the room");
	for (i = 0; i < 100; i++) {
		hdr_edits_add(&e, HDR_EDIT_INSERT, "N", strdup("v"), i);
		cap_ok &= e.n <= e.cap;
	}
	ok(cap_ok && e.n == 100 && e.v[99].index == 99, "100 edits grow the "
	    "list in order");
	hdr_edits_free(&e);
	ok(e.v == NULL && e.n == 0 && e.cap == 0, "freeing leaves it empty");
	buf_free(&out);
	return done_testing();
}
