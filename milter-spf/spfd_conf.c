/*
 * NAME
 *	spfd_conf - milter-spf configuration: keywords, loading, checks
 * SYNOPSIS
 *	#include "spfd_conf.h"
 * DESCRIPTION
 *	spfd_conf_table lists every keyword.  The rejection settings keep
 *	policyd-spf's names and values; since policyd-spf.conf writes
 *	"Keyword = value", a leading "=" is skipped in their values, so
 *	lines copied from it work.  policyd-spf's other keywords are
 *	accepted with a warning that names the keyword to use instead.
 *
 *	spfd_conf_load() reads the file (or the embedded default), parses
 *	the settings, opens the host lists and data sets, and creates the
 *	DNS resolver.
 * DIAGNOSTICS
 *	Errors name the file, the line and the keyword.  Warnings are lines
 *	in conf->warnings, which `-n` prints and the daemon logs at start.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "authres.h"
#include "spfd_conf.h"

#define V(f)	offsetof(struct spfd_conf, v.f)
#define STR(n, f, d)	{ n, CONF_STR, d, V(f), 0, 0, NULL }
#define BOOL(n, f, d)	{ n, CONF_BOOL, d, V(f), 0, 0, NULL }
#define INT(n, f, d, lo, hi) { n, CONF_INT, d, V(f), lo, hi, NULL }
#define IGN(n, why)	{ n, CONF_IGNORED, NULL, 0, 0, 0, why }

const struct conf_kw spfd_conf_table[] = {
	DAEMON_CONF_KW(struct spfd_conf, v.daemon, "inet:8894@localhost"),
	STR("AuthservID", authservid, NULL),
	BOOL("AuthservIDWithJobID", authservid_jobid, "no"),
	IGN("Authserv_Id", "use AuthservID"),
	BOOL("CheckLocalSubmission", check_local, "no"),
	INT("CheckTimeLimit", time_limit, "20", 1, 300),
	IGN("debugLevel", "use LogResults, and MilterDebug for the protocol"),
	IGN("defaultSeedOnly", "use TestOnly yes for test mode (the "
	    "opposite sense)"),
	IGN("Domain_Whitelist", "use TrustedDomains"),
	IGN("Domain_Whitelist_PTR", "not supported; list the forwarders' "
	    "addresses in InternalHosts"),
	INT("DNSTimeout", dns_timeout, "10", 1, 300),
	STR("ExemptRecipients", exempt, "postmaster, abuse"),
	IGN("Header_Type", "Authentication-Results is always added; "
	    "Received-SPF with ReceivedSPFHeader"),
	IGN("HELO_pass_restriction", "Postfix restriction classes are not "
	    "returned by a milter"),
	STR("HELO_reject", helo_reject, "Fail"),
	IGN("HELO_Whitelist", "use TrustedHELO"),
	IGN("Hide_Receiver", "the recipient is never shown"),
	STR("InternalHosts", internalhosts, "127.0.0.1, ::1"),
	BOOL("LogResults", log_results, "yes"),
	IGN("Lookup_Time", "use CheckTimeLimit for the whole check of a "
	    "message, DNSTimeout for one query"),
	IGN("Mail_From_pass_restriction", "Postfix restriction classes are "
	    "not returned by a milter"),
	STR("Mail_From_reject", mailfrom_reject, "Fail"),
	IGN("Mock", "not needed: milters see the fields milter-spf adds"),
	STR("MTA", mtas, NULL),
	STR("Nameservers", nameservers, NULL),
	IGN("No_Mail", "not supported"),
	STR("PeerList", peerlist, NULL),
	STR("PermError_reject", permerror_reject, "no"),
	IGN("Prospective", "not supported"),
	IGN("QueueID", "the queue id is always logged"),
	IGN("Reason_Message", "the reply text is fixed; it carries the "
	    "domain's explanation"),
	BOOL("ReceivedSPFHeader", received_spf, "no"),
	IGN("Reject_Not_Pass_Domains", "not supported"),
	STR("RejectAt", reject_at, "rcpt"),
	IGN("skip_addresses", "use InternalHosts"),
	IGN("SPF_Enhanced_Status_Codes", "the codes of RFC 7372 are always "
	    "used"),
	STR("TempError_Defer", temperror_defer, "no"),
	STR("TestOnly", test_only_s, "no"),
	STR("TrustedDomains", trusted_domains, NULL),
	STR("TrustedHELO", trusted_helo, NULL),
	IGN("Void_Limit", "the limit of RFC 7208 (2) is fixed"),
	IGN("Whitelist", "use InternalHosts"),
	IGN("Whitelist_Lookup_Time", "use DNSTimeout"),
};
const size_t spfd_conf_ntable = sizeof(spfd_conf_table) /
    sizeof(spfd_conf_table[0]);

/* The embedded default: used when no file is given and none exists. */
const char spfd_conf_default[] =
    "Socket\t\tinet:8894@localhost\n"
    "InternalHosts\t127.0.0.1, ::1\n"
    "Syslog\t\tyes\n";

/* policy_bool - a yes/no value, "= True" as in policyd-spf.conf too */
static int
policy_bool(const struct spfd_conf *c, const char *kw, const char *s,
    int *out, struct buf *err)
{
	char word[16];
	size_t n;

	while (*s == '=' || isspace((unsigned char)*s))
		s++;
	for (n = strlen(s); n > 0 && isspace((unsigned char)s[n - 1]); n--)
		;
	if (n < sizeof(word)) {
		memcpy(word, s, n);
		word[n] = '\0';
		if ((*out = conf_parse_bool(word)) >= 0)
			return 0;
	}
	conf_at(&c->conf, kw, err);
	buf_printf(err, "%s: '%s' is not a boolean (expected yes or no)", kw,
	    s);
	return -1;
}

/*
 * test_only - TestOnly yes/no.  policyd-spf.conf's "TestOnly = 1" means
 * the opposite (0 is test mode there), so that syntax is refused.
 */
static int
test_only(struct spfd_conf *c, struct buf *err)
{
	const char *s = c->v.test_only_s;

	if (*s == '=') {
		conf_at(&c->conf, "TestOnly", err);
		buf_printf(err, "TestOnly: '%s' is policyd-spf's syntax, where "
		    "TestOnly = 0 means test mode; write TestOnly yes (test "
		    "mode) or TestOnly no", s);
		return -1;
	}
	return policy_bool(c, "TestOnly", s, &c->v.test_only, err);
}

/* reject_mode - HELO_reject or Mail_From_reject */
static int
reject_mode(const struct spfd_conf *c, const char *kw, const char *s,
    enum spfd_reject *out, struct buf *err)
{
	int r;

	if ((r = spfd_reject_parse(s)) < 0) {
		conf_at(&c->conf, kw, err);
		buf_printf(err, "%s: '%s' is not Fail, Softfail, SPF_Not_Pass, "
		    "Null, False or No_Check", kw, s);
		return -1;
	}
	*out = (enum spfd_reject)r;
	return 0;
}

/* check_values - parse and cross-check what was loaded */
static int
check_values(struct spfd_conf *c, struct buf *err)
{
	struct spfd_policy *p = &c->policy;

	if (reject_mode(c, "HELO_reject", c->v.helo_reject,
	    &p->reject[SPFD_ID_HELO], err) < 0 ||
	    reject_mode(c, "Mail_From_reject", c->v.mailfrom_reject,
	    &p->reject[SPFD_ID_MAILFROM], err) < 0 ||
	    policy_bool(c, "PermError_reject", c->v.permerror_reject,
	    &p->permerror_reject, err) < 0 ||
	    policy_bool(c, "TempError_Defer", c->v.temperror_defer,
	    &p->temperror_defer, err) < 0 || test_only(c, err) < 0)
		return -1;
	if (strcasecmp(c->v.reject_at, "rcpt") == 0)
		c->reject_eom = 0;
	else if (strcasecmp(c->v.reject_at, "eom") == 0)
		c->reject_eom = 1;
	else {
		conf_at(&c->conf, "RejectAt", err);
		buf_printf(err, "RejectAt: '%s' is not rcpt or eom",
		    c->v.reject_at);
		return -1;
	}
	return 0;
}

/* open_tables - host lists and data sets named by the configuration */
static int
open_tables(struct spfd_conf *c, struct buf *err)
{
	const struct conf *cf = &c->conf;

	return conf_hostlist(cf, "InternalHosts", c->v.internalhosts,
	    &c->internal, err, &c->warnings) < 0 ||
	    conf_hostlist(cf, "PeerList", c->v.peerlist, &c->peers, err,
	    &c->warnings) < 0 ||
	    conf_dataset(cf, "MTA", c->v.mtas, &c->mtas, err) < 0 ||
	    conf_dataset(cf, "ExemptRecipients", c->v.exempt, &c->exempt,
	    err) < 0 ||
	    conf_dataset(cf, "TrustedHELO", c->v.trusted_helo,
	    &c->trusted_helo, err) < 0 ||
	    conf_dataset(cf, "TrustedDomains", c->v.trusted_domains,
	    &c->trusted_domains, err) < 0 ? -1 : 0;
}

/* traps - settings that work but probably do not do what was meant */
static void
traps(struct spfd_conf *c)
{
	struct buf *w = &c->warnings;

	if (c->internal != NULL && hostlist_has_all(c->internal)) {
		conf_at(&c->conf, "InternalHosts", w);
		buf_puts(w, "InternalHosts lists 0.0.0.0/0 or ::/0: every "
		    "client is internal, so no mail is checked\n");
	}
	if (c->policy.reject[SPFD_ID_HELO] == SPFD_REJ_NO_CHECK &&
	    c->policy.reject[SPFD_ID_MAILFROM] == SPFD_REJ_NO_CHECK)
		buf_puts(w, "HELO_reject and Mail_From_reject are both "
		    "No_Check: no mail is checked\n");
	if (c->v.time_limit >= SPFD_MTA_TIMEOUT) {
		conf_at(&c->conf, "CheckTimeLimit", w);
		buf_printf(w, "CheckTimeLimit %ld is not below Postfix's "
		    "default milter_command_timeout (%d s): a slow check "
		    "gets the MTA's default action instead of temperror\n",
		    c->v.time_limit, SPFD_MTA_TIMEOUT);
	}
}

/* spfd_conf_load - the runtime's load_config */
void *
spfd_conf_load(const char *path, const char *text, const char *overrides,
    struct buf *err)
{
	struct spfd_conf *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	buf_init(&c->warnings);
	if (daemon_conf_open(&c->conf, spfd_conf_table, spfd_conf_ntable, c,
	    &c->v.daemon, path, text, overrides, err) < 0)
		goto fail;
	buf_puts(&c->warnings, buf_str(&c->conf.warnings));
	if (check_values(c, err) < 0 || open_tables(c, err) < 0 ||
	    (c->authserv_id = authres_servid_conf(c->v.authservid)) == NULL ||
	    conf_resolver(&c->conf, c->v.nameservers, c->v.dns_timeout,
	    SPFD_DNS_CACHE, &c->dns, err) < 0)
		goto fail;
	traps(c);
	if (c->warnings.failed)
		goto fail;
	buf_puts(err, buf_str(&c->warnings));
	return c;
fail:
	if (err->len == 0)
		buf_puts(err, "out of memory");
	spfd_conf_free(c);
	return NULL;
}

/* spfd_conf_free - release a configuration and all it owns */
void
spfd_conf_free(void *arg)
{
	struct spfd_conf *c = arg;

	if (c == NULL)
		return;
	if (c->internal != NULL)
		hostlist_free(c->internal);
	if (c->peers != NULL)
		hostlist_free(c->peers);
	dataset_free(c->mtas);
	dataset_free(c->exempt);
	dataset_free(c->trusted_helo);
	dataset_free(c->trusted_domains);
	if (c->dns != NULL)
		dns_free(c->dns);
	free(c->authserv_id);
	buf_free(&c->warnings);
	conf_free(&c->conf);
	free(c);
}
