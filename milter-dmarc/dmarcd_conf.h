/*
 * dmarcd_conf.h - milter-dmarc configuration: keywords, loading, checks
 *
 * One table of keywords: the runtime's (Socket, PidFile, UserID...),
 * every keyword of OpenDMARC 1.4.2's opendmarc.conf under its own name
 * and with its default (those that have no effect here are accepted
 * with a warning giving the reason), and milter-dmarc's own
 * (DKIMSelfValidate, HistoryDatabase, Nameservers, PolicyDiscovery,
 * TestMode).
 *
 * A loaded configuration is read-only and shared by threads, but for
 * the history writer it owns, which has its own lock; the runtime swaps
 * the configuration whole on reload.  dmarcd_conf_free() releases it
 * (and writes out the history rows still queued).
 */
#ifndef DMARCD_CONF_H
#define DMARCD_CONF_H

#include "buf.h"
#include "conf.h"
#include "daemon.h"
#include "dataset.h"
#include "dmarc.h"
#include "dns.h"
#include "hostlist.h"

#define DMARCD_DNS_CACHE	4096	/* answers kept */

struct dmarcd_hist;
struct dmarcd_ruf_limits;

struct dmarcd_values {
	struct daemon_conf daemon;
	char	*authservid, *trusted_ids, *ignore_hosts, *ignore_from;
	char	*ignore_domains, *ignore_to, *copy_failures_to, *history_file;
	char	*history_db, *nameservers, *discovery, *psl_file;
	char	*reject_string, *arc_list, *arc_file, *history_spool;
	char	*failure_reports_bcc, *failure_reports_by, *report_command;
	int	 failure_reports, failure_reports_none;
	int	 authservid_jobid, dkim_self, hold_quarantined, ignore_auth;
	int	 arc_self;		/* ARCSelfValidate */
	int	 record_all, reject_failures, reject_multi_from;
	int	 required_headers, software_header, spf_ignore, spf_self;
	int	 test_mode;
	long	 dns_timeout;
};

struct dmarcd_conf {
	struct dmarcd_values	 v;
	struct conf		 conf;		/* where each keyword was set */
	struct dmarc_opts	 dmarc;		/* mode and public suffix list */
	void			*psl;		/* psl_ctx_t we loaded, or NULL */
	struct hostlist		*ignore_hosts;	/* IgnoreHosts */
	struct dataset		*ignore_from;	/* IgnoreMailFrom, IgnoreDomains */
	struct dataset		*ignore_to;	/* IgnoreMailTo */
	struct dataset		*trusted_ids;	/* TrustedAuthservIDs */
	struct dataset		*arc_list;	/* DomainWhitelist */
	struct dataset		*arc_file;	/* DomainWhitelistFile */
	struct dns_resolver	*dns;
	char			*authserv_id;	/* AuthservID, resolved */
	struct dmarcd_hist	*hist;		/* history writer, or NULL */
	struct dmarcd_ruf_limits *ruf_limits;	/* with FailureReports */
	struct buf		 warnings;	/* for -n and the start-up log */
};

extern const struct conf_kw dmarcd_conf_table[];
extern const size_t dmarcd_conf_ntable;
extern const char dmarcd_conf_default[];

/* dmarcd_conf_load - the runtime's load_config */
void	*dmarcd_conf_load(const char *path, const char *text,
	    const char *overrides, struct buf *err);
/* dmarcd_conf_check - the -n checks that look outside the file */
void	 dmarcd_conf_check(void *, struct buf *out);
void	 dmarcd_conf_free(void *);
/* dmarcd_conf_history_sqlite, _pg - HistoryDatabase's SQLite path or
 * PostgreSQL connection string, or NULL */
const char *dmarcd_conf_history_sqlite(const struct dmarcd_conf *);
const char *dmarcd_conf_history_pg(const struct dmarcd_conf *);
/* dmarcd_conf_arc_sealer - is a domain a trusted ARC sealer? */
int	 dmarcd_conf_arc_sealer(const struct dmarcd_conf *, const char *);
/* dmarcd_conf_trusted - is an authserv-id one whose results we use? */
int	 dmarcd_conf_trusted(const struct dmarcd_conf *, const char *id);

#endif
