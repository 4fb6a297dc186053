/*
 * spfd_conf.h - milter-spf configuration: keywords, loading, checks
 *
 * One table of keywords: the runtime's (Socket, PidFile, UserID...),
 * those shared with milter-dkim (AuthservID, InternalHosts, PeerList,
 * MTA, Nameservers, DNSTimeout), policyd-spf's rejection settings under
 * their own names (HELO_reject, Mail_From_reject, PermError_reject,
 * TempError_Defer), and milter-spf's own.  policyd-spf's other keywords
 * are accepted with a warning naming the keyword to use instead.
 *
 * A loaded configuration is read-only and shared by threads; the
 * runtime swaps it whole on reload.  spfd_conf_free() releases it.
 */
#ifndef SPFD_CONF_H
#define SPFD_CONF_H

#include "buf.h"
#include "conf.h"
#include "daemon.h"
#include "dataset.h"
#include "dns.h"
#include "hostlist.h"
#include "spfd_policy.h"

#define SPFD_DNS_CACHE	4096	/* answers kept */
#define SPFD_MTA_TIMEOUT 30	/* Postfix's milter_command_timeout */

struct spfd_values {
	struct daemon_conf daemon;
	char	*authservid, *internalhosts, *peerlist, *mtas, *nameservers;
	char	*helo_reject, *mailfrom_reject, *permerror_reject;
	char	*temperror_defer, *reject_at, *exempt, *trusted_helo;
	char	*trusted_domains, *test_only_s;
	int	 test_only, received_spf, check_local, log_results;
	int	 authservid_jobid;
	long	 dns_timeout;
	long	 time_limit;	/* CheckTimeLimit: seconds per message */
};

struct spfd_conf {
	struct spfd_values	 v;
	struct conf		 conf;		/* where each keyword was set */
	struct spfd_policy	 policy;
	int			 reject_eom;	/* RejectAt eom */
	struct hostlist		*internal;	/* InternalHosts */
	struct hostlist		*peers;		/* PeerList */
	struct dataset		*mtas;		/* MTA */
	struct dataset		*exempt;	/* ExemptRecipients */
	struct dataset		*trusted_helo;	/* TrustedHELO */
	struct dataset		*trusted_domains; /* TrustedDomains */
	struct dns_resolver	*dns;
	char			*authserv_id;	/* AuthservID, resolved */
	struct buf		 warnings;	/* for -n and the start-up log */
};

extern const struct conf_kw spfd_conf_table[];
extern const size_t spfd_conf_ntable;
extern const char spfd_conf_default[];

/* spfd_conf_load - the runtime's load_config: path, or text if NULL,
 * then the command-line overrides (or NULL) */
void	*spfd_conf_load(const char *path, const char *text,
	    const char *overrides, struct buf *err);
void	 spfd_conf_free(void *);

#endif
