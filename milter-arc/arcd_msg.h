/*
 * arcd_msg.h - one message through milter-arc, without libmilter
 *
 * The milter callbacks hand each stage to these functions; the outcome
 * at end of message is a list of header edits and one action, which the
 * callbacks apply.  Tests drive the same code from .eml files.
 *
 * Ownership: the connection owns a struct arcd_msg for its lifetime;
 * arcd_msg_reset() drops the per-message state (at end of message and on
 * abort), arcd_msg_free() everything (at close).
 */
#ifndef ARCD_MSG_H
#define ARCD_MSG_H

#include "arcd_conf.h"
#include "hdredit.h"

struct arcd_msg;

/* The edits are in the order to apply them: deletions (whose indexes
 * count the fields as received), then insertions at the top. */
struct arcd_outcome {
	struct hdr_edit		*edit;
	size_t			 nedit;
	enum arcd_action	 action;
	const char		*rcode, *xcode;	/* SMTP reply if not accept */
	char			 text[160];
};

struct arcd_msg *arcd_msg_new(const struct arcd_conf *);
/* arcd_msg_connect - the client (addr "" or NULL when unknown); 1 when
 * it is in PeerList: leave the connection alone */
int	arcd_msg_connect(struct arcd_msg *, const char *hostname,
	    const char *addr);
/* arcd_msg_mode - ARCD_MODE_* in force for this connection */
unsigned arcd_msg_mode(const struct arcd_msg *);
void	arcd_msg_set_qid(struct arcd_msg *, const char *qid);
/* arcd_msg_header - a field as the MTA passes it (value with its
 * leading space when the MTA keeps it; LF or CRLF line breaks) */
void	arcd_msg_header(struct arcd_msg *, const char *name,
	    const char *value);
void	arcd_msg_eoh(struct arcd_msg *);
void	arcd_msg_body(struct arcd_msg *, const unsigned char *, size_t);
/* arcd_msg_eom - fill out (valid until the next reset) */
void	arcd_msg_eom(struct arcd_msg *, struct arcd_outcome *out);
const char *arcd_msg_qid(const struct arcd_msg *);
void	arcd_msg_reset(struct arcd_msg *);
void	arcd_msg_free(struct arcd_msg *);

#endif
