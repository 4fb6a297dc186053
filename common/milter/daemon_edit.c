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

#include <string.h>
#include <strings.h>

#include "authres.h"
#include "daemon.h"
#include "daemon_conn.h"
#include "daemon_metrics.h"
#include "log.h"

/* count_added - the metrics of a field we add: each result of an
 * Authentication-Results field (ours, so method and result are words we
 * wrote), and each signature (DKIM-Signature, ARC-Seal) */
static void
count_added(const char *name, const char *value)
{
	struct authres ar;
	size_t i;

	if (!daemon_metrics_enabled())
		return;
	if (strcasecmp(name, "DKIM-Signature") == 0)
		daemon_metrics_signature("dkim");
	else if (strcasecmp(name, "ARC-Seal") == 0)
		daemon_metrics_signature("arc");
	else if (strcasecmp(name, "Authentication-Results") == 0 &&
	    authres_parse(value, strlen(value), &ar) == AUTHRES_OK) {
		for (i = 0; i < ar.nres; i++)
			daemon_metrics_result(ar.res[i].method,
			    ar.res[i].result);
		authres_free(&ar);
	}
}

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
		} else if (e[i].op != HDR_EDIT_DELETE)
			count_added(e[i].name, e[i].value);
	return 0;
}

