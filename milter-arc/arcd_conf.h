/*
 * arcd_conf.h - milter-arc configuration: keywords, loading, checks
 *
 * One table with every keyword of OpenARC 1.3.0's openarc.conf(5), each
 * implemented or accepted with the reason it has no effect, plus the
 * runtime's and Nameservers/DNSTimeout as in the other milters.
 *
 * A loaded configuration is read-only and shared by threads (the key
 * too); the runtime swaps it whole on reload.  arcd_conf_free()
 * releases it.
 */
#ifndef ARCD_CONF_H
#define ARCD_CONF_H

#include "arc.h"
#include "buf.h"
#include "conf.h"
#include "crypto.h"
#include "daemon.h"
#include "dns.h"
#include "hostlist.h"

#define ARCD_DNS_CACHE		4096	/* DNS answers cached */
#define ARCD_MAX_HDRLIST	256	/* names in SignHeaders and the like */

#define ARCD_MODE_SIGN		0x1
#define ARCD_MODE_VERIFY	0x2

/* what ResponseDisabled, ResponseUnable and ResponseUnwilling say */
enum arcd_action {
	ARCD_ACCEPT = 0,
	ARCD_DISCARD,
	ARCD_REJECT,
	ARCD_TEMPFAIL,
};

struct arcd_values {
	struct daemon_conf daemon;
	char	*authservid, *internalhosts, *peerlist, *domain, *selector;
	char	*keyfile, *mode, *canon, *signheaders, *oversignheaders;
	char	*sigalg, *fixed_ts, *include, *nameservers;
	char	*resp_disabled, *resp_unable, *resp_unwilling;
	int	 authres_ip, final_receiver, override_cv, require_safe;
	int	 software_header;
	long	 min_key_rsa, min_key_bits, max_headers, signature_ttl;
	long	 dns_timeout;
};

struct arcd_conf {
	struct arcd_values	 v;
	struct conf		 conf;		/* where each keyword was set */
	unsigned		 mode;		/* ARCD_MODE_*, 0: by client */
	enum canon_alg		 hcanon, bcanon;
	unsigned		 min_key_bits;
	time_t			 fixed_time;	/* FixedTimestamp, or 0 */
	enum arcd_action	 on_disabled, on_unable, on_unwilling;
	struct crypto_key	*key;		/* KeyFile, or NULL */
	char			*key_error;	/* why the key is not used */
	char			*hdrnames;	/* the strings of the lists */
	const char		*signhdrs[ARCD_MAX_HDRLIST + 1];
	const char		*oversign[ARCD_MAX_HDRLIST + 1];
	int			 signhdrs_set;	/* SignHeaders given */
	struct hostlist		*internal;	/* InternalHosts */
	struct hostlist		*peers;		/* PeerList */
	struct dns_resolver	*dns;
	char			*authserv_id;	/* AuthservID, resolved */
	struct buf		 warnings;	/* for -n and the start-up log */
};

extern const struct conf_kw arcd_conf_table[];
extern const size_t arcd_conf_ntable;
extern const char arcd_conf_default[];

/* arcd_conf_load - the runtime's load_config */
void	*arcd_conf_load(const char *path, const char *text,
	    const char *overrides, struct buf *err);
void	 arcd_conf_free(void *);
/* arcd_conf_check_dns - for -n: warn when the sealing key's public half
 * is not what DNS publishes */
void	 arcd_conf_check_dns(void *, struct buf *out);
const char *arcd_action_name(enum arcd_action);

#endif
