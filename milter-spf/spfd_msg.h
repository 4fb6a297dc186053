/*
 * spfd_msg.h - one SMTP transaction through milter-spf, without libmilter
 *
 * The milter callbacks hand each stage to these functions and apply
 * what they answer: a reply for RCPT, and at end of message a list of
 * header edits and a reply.  Tests drive the same code directly.
 *
 * The checks run at MAIL FROM, when the client address, the HELO name
 * and the sender are known, all within CheckTimeLimit and until the
 * environment's cancel condition holds; the verdict is given at RCPT (RejectAt
 * rcpt, so that ExemptRecipients still get their mail) or at end of
 * message (RejectAt eom).
 *
 * Ownership: the connection owns a struct spfd_msg for its lifetime;
 * spfd_msg_reset() drops the per-message state (at end of message and
 * on abort), spfd_msg_free() everything (at close).  Out of memory
 * during a message becomes a temporary failure at the next answer.
 */
#ifndef SPFD_MSG_H
#define SPFD_MSG_H

#include "hdredit.h"
#include "spf.h"
#include "spfd_conf.h"
#include "spfd_hdr.h"
#include "spfd_policy.h"
#include "verdict.h"

struct spfd_msg;

/* Deletions first (indexes as received, highest first), then inserts;
 * the reply: continue, reject or tempfail. */
struct spfd_outcome {
	struct hdr_edit	*edit;
	size_t			 nedit;
	struct verdict		 reply;
};

/* The MTA's macros at MAIL FROM (each may be NULL), and what tells
 * the checks to stop early (cancelled(cancel_arg) nonzero: the MTA
 * went away, the daemon is stopping; may be NULL). */
struct spfd_env {
	const char	*qid;		/* i */
	const char	*auth;		/* {auth_authen} */
	const char	*daemon;	/* {daemon_name} */
	int		(*cancelled)(void *);
	void		*cancel_arg;
};

struct spfd_msg *spfd_msg_new(const struct spfd_conf *);
/*
 * spfd_msg_connect - the client: its name, its address as text (NULL
 * when the MTA gave none) and its port (-1 when unknown).  Returns 1
 * when the client is in PeerList (leave it alone).
 */
int	spfd_msg_connect(struct spfd_msg *, const char *hostname,
	    const char *addr, int port);
void	spfd_msg_helo(struct spfd_msg *, const char *helo);
/* spfd_msg_set_qid - the queue id, once the MTA tells it (NULL: none) */
void	spfd_msg_set_qid(struct spfd_msg *, const char *qid);
/* spfd_msg_envfrom - a new message from sender ("<a@b>", "<>" or bare);
 * decides whether to check and runs the checks */
void	spfd_msg_envfrom(struct spfd_msg *, const char *sender,
	    const struct spfd_env *);
/* spfd_msg_rcpt - the answer to one recipient */
void	spfd_msg_rcpt(struct spfd_msg *, const char *rcpt,
	    struct verdict *out);
/* spfd_msg_header - one header field as the MTA passes it */
void	spfd_msg_header(struct spfd_msg *, const char *name,
	    const char *value);
/* spfd_msg_eom - fill out (valid until the next reset); qid may be NULL */
void	spfd_msg_eom(struct spfd_msg *, const char *qid,
	    struct spfd_outcome *out);
const char *spfd_msg_qid(const struct spfd_msg *);
/* spfd_msg_skipped - why the message is not checked, or NULL */
const char *spfd_msg_skipped(const struct spfd_msg *);
/* spfd_msg_result - an identity's result, or SPFD_UNCHECKED */
int	spfd_msg_result(const struct spfd_msg *, enum spfd_ident);
/* spfd_msg_reset, spfd_msg_free - the runtime's msg_reset and
 * priv_free hooks (hence void *): a struct spfd_msg */
void	spfd_msg_reset(void *);
void	spfd_msg_free(void *);

#endif
