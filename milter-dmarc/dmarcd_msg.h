/*
 * dmarcd_msg.h - one SMTP transaction through milter-dmarc, without libmilter
 *
 * The milter callbacks hand each stage to these functions and apply
 * what they answer at end of message: a list of header edits, a reply
 * (continue, reject, tempfail), perhaps a quarantine reason (Postfix
 * HOLD) and a recipient to add (CopyFailuresTo).  Tests drive the same
 * code directly.
 *
 * Ownership: the connection owns a struct dmarcd_msg for its lifetime;
 * dmarcd_msg_reset() drops the per-message state (at end of message and
 * on abort), dmarcd_msg_free() everything (at close).  Out of memory
 * during a message becomes a temporary failure at end of message.
 */
#ifndef DMARCD_MSG_H
#define DMARCD_MSG_H

#include "dmarcd_conf.h"
#include "hdredit.h"

#define DMARCD_REPLY_MAX	400	/* bytes of an SMTP reply text */

struct dmarcd_msg;

enum dmarcd_action {
	DMARCD_CONTINUE,
	DMARCD_REJECT,
	DMARCD_TEMPFAIL,
};

/* What to do at end of message; valid until the next reset. */
struct dmarcd_outcome {
	struct hdr_edit	*edit;		/* deletions first, then inserts */
	size_t		 nedit;
	enum dmarcd_action action;
	const char	*rcode, *xcode;	/* static strings */
	char		 text[DMARCD_REPLY_MAX + 1];	/* for smfi_setreply */
	const char	*quarantine;	/* reason for smfi_quarantine, or NULL */
	const char	*addrcpt;	/* CopyFailuresTo, or NULL */
};

/* The MTA's macros at MAIL FROM (each may be NULL). */
struct dmarcd_env {
	const char	*qid;		/* i */
	const char	*auth;		/* {auth_authen} */
};

struct dmarcd_msg *dmarcd_msg_new(const struct dmarcd_conf *);
/* dmarcd_msg_connect - the client; 1 when it is in IgnoreHosts */
int	dmarcd_msg_connect(struct dmarcd_msg *, const char *hostname,
	    const char *addr);
/* dmarcd_msg_set_mta - the MTA's name (macro j): the authserv-id when
 * AuthservID is not set */
void	dmarcd_msg_set_mta(struct dmarcd_msg *, const char *name);
void	dmarcd_msg_helo(struct dmarcd_msg *, const char *helo);
void	dmarcd_msg_envfrom(struct dmarcd_msg *, const char *sender,
	    const struct dmarcd_env *);
void	dmarcd_msg_rcpt(struct dmarcd_msg *, const char *rcpt);
/* dmarcd_msg_header - one header field as the MTA passes it */
void	dmarcd_msg_header(struct dmarcd_msg *, const char *name,
	    const char *value);
void	dmarcd_msg_eoh(struct dmarcd_msg *);
void	dmarcd_msg_body(struct dmarcd_msg *, const unsigned char *, size_t);
/* dmarcd_msg_eom - the outcome; qid may be NULL */
void	dmarcd_msg_eom(struct dmarcd_msg *, const char *qid,
	    struct dmarcd_outcome *out);
const char *dmarcd_msg_qid(const struct dmarcd_msg *);
void	dmarcd_msg_reset(struct dmarcd_msg *);
void	dmarcd_msg_free(struct dmarcd_msg *);

#endif
