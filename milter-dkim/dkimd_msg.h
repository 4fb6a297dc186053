/*
 * dkimd_msg.h - one message through milter-dkim, without libmilter
 *
 * The milter callbacks hand each stage to these functions; the outcome
 * at end of message is a list of header edits and one action, which the
 * callbacks apply.  Tests drive the same code from .eml files.
 *
 * Ownership: the connection owns a struct dkimd_msg for its lifetime;
 * dkimd_msg_reset() drops the per-message state (at end of message and
 * on abort), dkimd_msg_free() everything (at close).
 */
#ifndef DKIMD_MSG_H
#define DKIMD_MSG_H

#include <sys/socket.h>

#include "buf.h"
#include "dkimd_conf.h"
#include "hdredit.h"
#include "verdict.h"

struct dkimd_msg;

/* The edits are in the order to apply them: deletions (whose indexes
 * count the fields as received), then insertions. */
struct dkimd_outcome {
	struct hdr_edit	*edit;
	size_t			 nedit;
	struct verdict		 verdict;
};

struct dkimd_msg *dkimd_msg_new(const struct dkimd_conf *);
/* dkimd_msg_connect - 1 when the client is in PeerList (leave it alone) */
int	dkimd_msg_connect(struct dkimd_msg *, const char *hostname,
	    const struct sockaddr *);
/* dkimd_msg_envfrom - the per-message macros; fn looks up others */
void	dkimd_msg_envfrom(struct dkimd_msg *, const char *qid,
	    const char *auth, const char *daemon,
	    const char *(*fn)(void *, const char *), void *arg);
void	dkimd_msg_set_qid(struct dkimd_msg *, const char *qid);
/* dkimd_msg_set_mta - the MTA's name (macro j): the authserv-id when
 * AuthservID is not set, as in OpenDKIM */
void	dkimd_msg_set_mta(struct dkimd_msg *, const char *name);
/* dkimd_msg_header - a field as the MTA passes it (value with its
 * leading space when the MTA keeps it; LF or CRLF line breaks) */
void	dkimd_msg_header(struct dkimd_msg *, const char *name,
	    const char *value);
void	dkimd_msg_eoh(struct dkimd_msg *);
void	dkimd_msg_body(struct dkimd_msg *, const unsigned char *, size_t);
/* dkimd_msg_eom - fill out (valid until the next reset) */
void	dkimd_msg_eom(struct dkimd_msg *, struct dkimd_outcome *out);
const char *dkimd_msg_qid(const struct dkimd_msg *);
/* dkimd_msg_reset, dkimd_msg_free - the runtime's msg_reset and
 * priv_free hooks (hence void *): a struct dkimd_msg */
void	dkimd_msg_reset(void *);
void	dkimd_msg_free(void *);

#endif
