/*
 * NAME
 *	daemon_edit - apply a header edit list through the milter
 * SYNOPSIS
 *	#include "daemon.h"
 *
 *	int	daemon_edit_apply(SMFICTX *ctx, const char *qid,
 *		    const struct hdr_edit *e, size_t n);
 * DESCRIPTION
 *	At end of message, hands the n edits of an edit list (hdredit(3),
 *	which knows nothing of the milter) to the MTA in order: a deletion
 *	through smfi_chgheader(), an insertion through smfi_insheader() with
 *	the leading space the MTA keeps under SMFIP_HDR_LEADSPC.
 * DIAGNOSTICS
 *	-1, logged with the queue id qid, when the MTA refuses an edit (the
 *	later ones are not sent); 0 otherwise.
 * SEE ALSO
 *	hdredit(3), milter(3).
 */
#include <stdio.h>
#include <stdlib.h>

#include "daemon.h"
#include "daemon_conn.h"
#include "log.h"

/* edit_header - delete (value NULL) or insert one header field */
static int
edit_header(SMFICTX *ctx, const char *name, const char *value,
    int index)
{
	char *v;
	int r;

	if (value == NULL)
		return smfi_chgheader(ctx, (char *)name, index, NULL) ==
		    MI_SUCCESS ? 0 : -1;
	/* an MTA that keeps our leading space (SMFIP_HDR_LEADSPC) gets it;
	 * one that does not writes "name: value" itself (see rt_header) */
	if (daemon_conn_eats_space(ctx))
		return smfi_insheader(ctx, index, (char *)name,
		    (char *)value) == MI_SUCCESS ? 0 : -1;
	if (asprintf(&v, " %s", value) < 0)
		return -1;
	r = smfi_insheader(ctx, index, (char *)name, v);
	free(v);
	return r == MI_SUCCESS ? 0 : -1;
}

/* daemon_edit_apply - apply n edits in order; -1 when one is refused */
int
daemon_edit_apply(SMFICTX *ctx, const char *qid,
    const struct hdr_edit *e, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (edit_header(ctx, e[i].name, e[i].op ==
		    HDR_EDIT_DELETE ? NULL : e[i].value, e[i].index) < 0) {
			log_msg(LOG_ERR, qid, "the MTA refused to %s %s",
			    e[i].op == HDR_EDIT_DELETE ? "delete" : "add",
			    e[i].name);
			return -1;
		}
	return 0;
}

