/*
 * dmarcd_ruf.h - milter-dmarc: failure reports (RFC 6591 AFRF)
 *
 * dmarcd_ruf_send() decides whether a DMARC failure is reported (ruf=,
 * fo=, FailureReports, FailureReportsOnNone, the per-address rate
 * limit), builds the report and pipes it to ReportCommand.  The rate
 * limits live in the configuration (struct dmarcd_ruf_limits, shared
 * by threads under a lock).  Strings in struct dmarcd_ruf_in are
 * borrowed.
 */
#ifndef DMARCD_RUF_H
#define DMARCD_RUF_H

#include <stddef.h>

#include "dmarc.h"
#include "dmarcd_conf.h"

#define DMARCD_RUF_INTERVAL	60	/* seconds between reports to one address */
#define DMARCD_RUF_ADDRS	256	/* addresses remembered for that */
#define DMARCD_RUF_JOBS		4	/* reports being sent at once, at most */
#define DMARCD_RUF_DRAIN	10	/* seconds waited for them at exit */

struct dmarcd_ruf_in {
	const struct dmarc_eval	*e;
	const char		*qid, *ip, *mailfrom, *servid;
	const char		*headers;	/* "Name: value\n"..., or NULL */
	const enum dmarc_auth	*dkim;		/* the DKIM results */
	size_t			 ndkim;
	enum dmarc_auth		 spf;
};

struct dmarcd_ruf_limits *dmarcd_ruf_limits_new(void);
void	dmarcd_ruf_limits_free(struct dmarcd_ruf_limits *);
/* dmarcd_ruf_send - report this failure if due; 1 when a report was
 * handed to ReportCommand's thread */
int	dmarcd_ruf_send(const struct dmarcd_conf *, const struct dmarcd_ruf_in *);

#endif
