/*
 * dkimd_conf.h - milter-dkim configuration: keywords, loading, checks
 *
 * One table of keywords (OpenDKIM's names and defaults), one value struct,
 * and the objects derived from it at load time: the signing policy with
 * its keys, the peer lists, the DNS resolver, the parsed header lists and
 * actions.  A loaded configuration is read-only and shared by threads;
 * the runtime swaps it whole on reload.
 */
#ifndef DKIMD_CONF_H
#define DKIMD_CONF_H

#include "buf.h"
#include "canon.h"
#include "conf.h"
#include "daemon.h"
#include "dkimd_policy.h"

/* What On-* keywords may say, in OpenDKIM's words. */
enum dkimd_action {
	DKIMD_ACCEPT,
	DKIMD_REJECT,
	DKIMD_TEMPFAIL,
	DKIMD_DISCARD,
	DKIMD_QUARANTINE,
};

/* The situations an On-* keyword names. */
enum dkimd_event {
	DKIMD_EV_BADSIG,	/* On-BadSignature */
	DKIMD_EV_NOSIG,		/* On-NoSignature */
	DKIMD_EV_NOKEY,		/* On-KeyNotFound */
	DKIMD_EV_DNSERR,	/* On-DNSError */
	DKIMD_EV_INTERNAL,	/* On-InternalError */
	DKIMD_EV_SIGERR,	/* On-SignatureError */
	DKIMD_EV_SECURITY,	/* On-Security */
	DKIMD_EV_MAX,
};

#define DKIMD_MAX_HDRLIST	64	/* names in SignHeaders and friends */
#define DKIMD_DNS_CACHE		4096	/* DNS answers cached */

struct dkimd_values {
	struct daemon_conf daemon;
	char	*domain, *selector, *keyfile, *keytable, *signingtable;
	char	*canonicalization, *mode, *authservid, *signalg;
	char	*internalhosts, *peerlist, *exignore, *mtas, *macrolist;
	char	*nameservers, *signheaders, *oversignheaders, *omitheaders;
	char	*on[DKIMD_EV_MAX], *on_default;
	int	 always_ar, authservid_jobid, logwhy, logresults, subdomains;
	int	 multisig, remove_old, require_safe, software_header;
	int	 allow_sha1, syslog_success;
	long	 signature_ttl, min_key_bits, max_verify, dns_timeout;
	long	 clock_drift, max_header_bytes;
};

struct dkimd_conf {
	struct dkimd_values	 v;
	struct conf		 conf;		/* where each keyword was set */
	struct dkimd_policy	 policy;
	struct hostlist		*peers;		/* PeerList */
	struct hostlist		*exignore;	/* ExternalIgnoreList */
	struct dns_resolver	*dns;
	enum canon_alg		 hcanon, bcanon;
	enum dkimd_action	 action[DKIMD_EV_MAX];
	char			*authserv_id;	/* AuthservID, resolved */
	int			 authserv_from_mta; /* unset: the MTA's j */
	const char		*signhdrs[DKIMD_MAX_HDRLIST + 1];
	const char		*oversign[DKIMD_MAX_HDRLIST + 1];
	const char		*omit[DKIMD_MAX_HDRLIST + 1];
	char			*hdrlists;	/* storage behind those */
	struct buf		 warnings;	/* for -n and the start-up log */
};

extern const struct conf_kw dkimd_conf_table[];
extern const size_t dkimd_conf_ntable;
extern const char dkimd_conf_default[];

/* dkimd_conf_load - the runtime's load_config: path, or text if NULL,
 * then the command-line overrides (or NULL) */
void	*dkimd_conf_load(const char *path, const char *text,
	    const char *overrides,
	    struct buf *err);
void	 dkimd_conf_free(void *);
/* dkimd_conf_check_dns - for -n: each key against its published record */
void	 dkimd_conf_check_dns(void *, struct buf *out);
/* dkimd_conf_check - the runtime's check_config (-n): as root with a
 * UserID, can that user read each key file; then dkimd_conf_check_dns */
void	 dkimd_conf_check(void *, struct buf *out);
/* dkimd_conf_carry_over - the runtime's carry_over: a key file the new
 * configuration could not read (errno), at the path of a key the running
 * one holds, keeps that key; each such key is a warning line */
void	 dkimd_conf_carry_over(void *cfg, const void *running,
	    struct buf *warn);
const char *dkimd_action_name(enum dkimd_action);

#endif
