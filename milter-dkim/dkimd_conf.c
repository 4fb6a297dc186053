/*
 * NAME
 *	dkimd_conf - milter-dkim configuration: keywords, loading, checks
 * SYNOPSIS
 *	#include "dkimd_conf.h"
 * DESCRIPTION
 *	dkimd_conf_table lists every keyword of opendkim.conf(5).  Those
 *	milter-dkim implements keep OpenDKIM's meaning and default; the
 *	others are accepted with a warning that says why they have no
 *	effect, so an existing file loads unchanged.
 *
 *	dkimd_conf_load() reads the file (or the embedded default), opens
 *	the data sets and host lists, loads every signing key, creates the
 *	DNS resolver, and collects warnings about settings that work but
 *	are probably not what the administrator meant (OpenDKIM's traps).
 *	As in OpenDKIM, with RequireSafeKeys (the default) a key file that
 *	others may read or write, or that lies in a directory others could
 *	change, is not used: the warning says so, and mail it would sign is
 *	refused for now.
 * DIAGNOSTICS
 *	Errors name the file, the line and the keyword.  Warnings are lines
 *	in conf->warnings, which `-n` prints and the daemon logs at start.
 */
#include <ctype.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "authres.h"
#include "crypto.h"
#include "dataset.h"
#include "daemon.h"
#include "dkim.h"
#include "dkimd_conf.h"
#include "dns.h"
#include "hostlist.h"

#define V(f)	offsetof(struct dkimd_conf, v.f)
#define STR(n, f, d)	{ n, CONF_STR, d, V(f), 0, 0, NULL }
#define BOOL(n, f, d)	{ n, CONF_BOOL, d, V(f), 0, 0, NULL }
#define INT(n, f, d, lo, hi) { n, CONF_INT, d, V(f), lo, hi, NULL }
#define IGN(n, why)	{ n, CONF_IGNORED, NULL, 0, 0, 0, why }

#define N_LUA	"Lua scripts are not supported"
#define N_REP	"reputation services are not supported"
#define N_LDAP	"LDAP data sets are not supported; use file: or refile:"
#define N_STATS	"statistics reporting is not supported"
#define N_VBR	"VBR (RFC 5518) is not supported"
#define N_ATPS	"ATPS (RFC 6541) is not supported"
#define N_REPORT "failure reports (RFC 6651) are not supported"
#define N_DNS	"DNS is queried through the system resolver or Nameservers"

const struct conf_kw dkimd_conf_table[] = {
	DAEMON_CONF_KW(struct dkimd_conf, v.daemon, "inet:8891@localhost"),
	BOOL("AllowSHA1", allow_sha1, "no"),
	IGN("AllowSHA1Only", "rsa-sha1 is never used for signing; "
	    "AllowSHA1 decides whether it verifies"),
	BOOL("AlwaysAddARHeader", always_ar, "no"),
	IGN("ATPSDomains", N_ATPS),
	IGN("ATPSHashAlgorithm", N_ATPS),
	STR("AuthservID", authservid, NULL),
	BOOL("AuthservIDWithJobID", authservid_jobid, "no"),
	IGN("BaseDirectory", "paths are taken as written"),
	IGN("BodyLengthDB", "l= is never added: it lets others append "
	    "content to signed mail"),
	IGN("BogusKey", "DNSSEC validation is the resolver's; see TrustAnchorFile"),
	STR("Canonicalization", canonicalization, "simple/simple"),
	IGN("CaptureUnknownErrors", "not needed"),
	IGN("ChangeRootDirectory", "run it under a service manager's "
	    "sandbox instead"),
	INT("ClockDrift", clock_drift, "300", 0, 86400),
	IGN("DefaultSender", "the sender is always taken from From:"),
	IGN("Diagnostics", "z= is not added"),
	IGN("DiagnosticDirectory", "z= is not added"),
	IGN("DisableCryptoInit", "not needed with OpenSSL 3"),
	IGN("DNSConnect", N_DNS),
	INT("DNSTimeout", dns_timeout, "10", 1, 300),
	STR("Domain", domain, NULL),
	IGN("DomainKeysCompat", "DomainKeys is obsolete"),
	IGN("DontSignMailTo", "not supported yet"),
	IGN("EnableCoredumps", "set LimitCORE in the service unit instead"),
	IGN("ExemptDomains", "not supported yet"),
	STR("ExternalIgnoreList", exignore, NULL),
	IGN("FinalPolicyScript", N_LUA),
	IGN("FixCRLF", "line ends are always normalized to CRLF"),
	IGN("FlowData", N_REP),
	IGN("FlowDataFactor", N_REP),
	IGN("FlowDataTTL", N_REP),
	IGN("IdentityHeader", "not supported yet"),
	IGN("IdentityHeaderRemove", "not supported yet"),
	IGN("IgnoreMalformedMail", "malformed mail is always verified as far "
	    "as it can be"),
	IGN("Include", "not supported yet; copy the lines in"),
	STR("InternalHosts", internalhosts, "127.0.0.1"),
	IGN("KeepAuthResults", "our own Authentication-Results are always "
	    "replaced, others kept"),
	IGN("KeepTemporaryFiles", "no temporary files are written"),
	STR("KeyFile", keyfile, NULL),
	STR("KeyTable", keytable, NULL),
	IGN("LDAPAuthMechanism", N_LDAP), IGN("LDAPAuthName", N_LDAP),
	IGN("LDAPAuthRealm", N_LDAP), IGN("LDAPAuthUser", N_LDAP),
	IGN("LDAPBindPassword", N_LDAP), IGN("LDAPBindUser", N_LDAP),
	IGN("LDAPDisableCache", N_LDAP), IGN("LDAPKeepaliveIdle", N_LDAP),
	IGN("LDAPKeepaliveInterval", N_LDAP),
	IGN("LDAPKeepaliveProbes", N_LDAP), IGN("LDAPTimeout", N_LDAP),
	IGN("LDAPUseTLS", N_LDAP),
	BOOL("LogResults", logresults, "no"),
	BOOL("LogWhy", logwhy, "no"),
	IGN("LuaOnlySigning", N_LUA),
	STR("MacroList", macrolist, NULL),
	INT("MaximumHeaders", max_header_bytes, "1048576", 0, 16777216),
	IGN("MaximumSignedBytes", "l= is never added"),
	INT("MaximumSignaturesToVerify", max_verify, "3", 1, 1000),
	IGN("Minimum", "l= is never added"),
	INT("MinimumKeyBits", min_key_bits, "1024", 0, 16384),
	STR("Mode", mode, "sv"),
	STR("MTA", mtas, NULL),
	IGN("MTACommand", "reports are not sent"),
	BOOL("MultipleSignatures", multisig, "no"),
	IGN("MustBeSigned", "not supported yet"),
	STR("Nameservers", nameservers, NULL),
	IGN("NoHeaderB", "header.b is always added"),
	STR("OmitHeaders", omitheaders, NULL),
	STR("On-BadSignature", on[DKIMD_EV_BADSIG], NULL),
	STR("On-Default", on_default, NULL),
	STR("On-DNSError", on[DKIMD_EV_DNSERR], NULL),
	STR("On-InternalError", on[DKIMD_EV_INTERNAL], NULL),
	STR("On-KeyNotFound", on[DKIMD_EV_NOKEY], NULL),
	STR("On-NoSignature", on[DKIMD_EV_NOSIG], NULL),
	IGN("On-ReputationError", N_REP),
	STR("On-Security", on[DKIMD_EV_SECURITY], NULL),
	STR("On-SignatureError", on[DKIMD_EV_SIGERR], NULL),
	STR("OversignHeaders", oversignheaders, "From"),
	STR("PeerList", peerlist, NULL),
	IGN("POPDBFile", "use SMTP AUTH ({auth_authen}) instead"),
	IGN("Quarantine", "use On-BadSignature quarantine"),
	IGN("QueryCache", "answers are always cached, within their TTL"),
	IGN("RateLimits", N_REP),
	IGN("RedirectFailuresTo", "not supported"),
	IGN("RemoveARAll", "only Authentication-Results claiming our "
	    "AuthservID are removed"),
	IGN("RemoveARFrom", "only Authentication-Results claiming our "
	    "AuthservID are removed"),
	BOOL("RemoveOldSignatures", remove_old, "no"),
	IGN("ReplaceHeaders", "not supported"),
	IGN("ReplaceRules", "not supported"),
	IGN("ReportAddress", N_REPORT), IGN("ReportBccAddress", N_REPORT),
	IGN("ReputationCache", N_REP), IGN("ReputationCacheTTL", N_REP),
	IGN("ReputationDuplicates", N_REP), IGN("ReputationLimits", N_REP),
	IGN("ReputationLowTime", N_REP), IGN("ReputationMinimum", N_REP),
	IGN("ReputationLimitModifiers", N_REP),
	IGN("ReputationRatios", N_REP), IGN("ReputationRRDHashDepth", N_REP),
	IGN("ReputationRRDRoot", N_REP), IGN("ReputationSpamCheck", N_REP),
	IGN("ReputationTimeFactor", N_REP), IGN("ReputationTimeout", N_REP),
	IGN("RequestReports", N_REPORT),
	IGN("RequiredHeaders", "not supported"),
	BOOL("RequireSafeKeys", require_safe, "yes"),
	IGN("ResignAll", "use a catch-all '*' SigningTable entry"),
	IGN("ResignMailTo", "use a catch-all '*' SigningTable entry"),
	IGN("ResolverConfiguration", N_DNS),
	IGN("ResolverTracing", N_DNS),
	IGN("ScreenPolicyScript", N_LUA),
	STR("Selector", selector, NULL),
	IGN("SelectCanonicalizationHeader", "not supported"),
	IGN("SenderHeaders", "the sender is always taken from From:"),
	IGN("SenderMacro", "the sender is always taken from From:"),
	IGN("SendReports", N_REPORT),
	IGN("SetupPolicyScript", N_LUA),
	STR("SignatureAlgorithm", signalg, NULL),
	INT("SignatureTTL", signature_ttl, "0", 0, 315360000),
	STR("SignHeaders", signheaders, NULL),
	STR("SigningTable", signingtable, NULL),
	IGN("SMTPURI", "reports are not sent"),
	BOOL("SoftwareHeader", software_header, "no"),
	IGN("SoftStart", "a bad configuration always stops the start"),
	IGN("Statistics", N_STATS), IGN("StatisticsName", N_STATS),
	IGN("StatisticsPolicyScript", N_LUA), IGN("StatisticsPrefix", N_STATS),
	IGN("StrictHeaders", "not supported"),
	IGN("StrictTestMode", "t=y keys are reported, never trusted more"),
	BOOL("SubDomains", subdomains, "no"),
	IGN("SyslogName", "the program name is used"),
	BOOL("SyslogSuccess", syslog_success, "no"),
	IGN("TemporaryDirectory", "no temporary files are written"),
	IGN("TestDNSData", "not supported"),
	IGN("TestPublicKeys", "not supported"),
	IGN("TrustAnchorFile", "DNSSEC validation is left to the resolver; "
	    "its AD bit is reported"),
	IGN("TrustSignaturesFrom", "not supported"),
	IGN("UnprotectedKey", "DNSSEC validation is left to the resolver"),
	IGN("VBR-Certifiers", N_VBR), IGN("VBR-PurgeFields", N_VBR),
	IGN("VBR-TrustedCertifiers", N_VBR),
	IGN("VBR-TrustedCertifiersOnly", N_VBR), IGN("VBR-Type", N_VBR),
	IGN("WeakSyntaxChecks", "syntax is checked as the RFCs require"),
	IGN("X-Header", "use SoftwareHeader"),
};
const size_t dkimd_conf_ntable = sizeof(dkimd_conf_table) /
    sizeof(dkimd_conf_table[0]);

/*
 * The embedded default: used when no file is given and none exists under
 * SYSCONFDIR.  It verifies everything and signs nothing until keys are
 * configured (on the command line or in a file).
 */
const char dkimd_conf_default[] =
    "Socket\t\tinet:8891@localhost\n"
    "Mode\t\tsv\n"
    "Canonicalization\trelaxed/simple\n"
    "InternalHosts\t127.0.0.1, ::1\n"
    "Syslog\t\tyes\n";

static const char *const action_names[] = {
	"accept", "reject", "tempfail", "discard", "quarantine",
};

/* dkimd_action_name - the word for an action */
const char *
dkimd_action_name(enum dkimd_action a)
{
	return action_names[a];
}

/* parse_action - "a", "accept", "r", "reject"... to an action; -1 if bad */
static int
parse_action(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(action_names) / sizeof(action_names[0]); i++)
		if (strcasecmp(s, action_names[i]) == 0 ||
		    (s[0] != '\0' && s[1] == '\0' &&
		    tolower((unsigned char)s[0]) == action_names[i][0]))
			return (int)i;
	return -1;
}

/* set_actions - OpenDKIM's defaults, On-Default, then each On-* */
static int
set_actions(struct dkimd_conf *c, struct buf *err)
{
	static const char *const kw[DKIMD_EV_MAX] = {
		"On-BadSignature", "On-NoSignature", "On-KeyNotFound",
		"On-DNSError", "On-InternalError", "On-SignatureError",
		"On-Security",
	};
	static const enum dkimd_action def[DKIMD_EV_MAX] = {
		DKIMD_ACCEPT, DKIMD_ACCEPT, DKIMD_ACCEPT, DKIMD_TEMPFAIL,
		DKIMD_TEMPFAIL, DKIMD_REJECT, DKIMD_TEMPFAIL,
	};
	int i, a, d = -1;

	if (c->v.on_default != NULL &&
	    (d = parse_action(c->v.on_default)) < 0) {
		conf_at(&c->conf, "On-Default", err);
		buf_printf(err, "On-Default: '%s' is not accept, reject, "
		    "tempfail, discard or quarantine", c->v.on_default);
		return -1;
	}
	for (i = 0; i < DKIMD_EV_MAX; i++) {
		c->action[i] = d >= 0 ? (enum dkimd_action)d : def[i];
		if (c->v.on[i] == NULL)
			continue;
		if ((a = parse_action(c->v.on[i])) < 0) {
			conf_at(&c->conf, kw[i], err);
			buf_printf(err, "%s: '%s' is not accept, reject, "
			    "tempfail, discard or quarantine", kw[i],
			    c->v.on[i]);
			return -1;
		}
		c->action[i] = (enum dkimd_action)a;
	}
	return 0;
}

/* parse_canon - "relaxed/simple", "relaxed" (body simple) ... */
static int
parse_canon(struct dkimd_conf *c, struct buf *err)
{
	const char *s = c->v.canonicalization, *slash = strchr(s, '/');
	size_t hl = slash != NULL ? (size_t)(slash - s) : strlen(s);
	const char *b = slash != NULL ? slash + 1 : "simple";

	if ((hl == 6 && strncasecmp(s, "simple", 6) == 0) ||
	    (hl == 7 && strncasecmp(s, "relaxed", 7) == 0))
		c->hcanon = hl == 6 ? CANON_SIMPLE : CANON_RELAXED;
	else
		goto bad;
	if (strcasecmp(b, "simple") == 0)
		c->bcanon = CANON_SIMPLE;
	else if (strcasecmp(b, "relaxed") == 0)
		c->bcanon = CANON_RELAXED;
	else
		goto bad;
	return 0;
bad:
	conf_at(&c->conf, "Canonicalization", err);
	buf_printf(err, "Canonicalization: '%s' is not header/body with "
	    "each simple or relaxed", s);
	return -1;
}

/* parse_mode - letters s and v */
static int
parse_mode(struct dkimd_conf *c, struct buf *err)
{
	const char *p;

	for (p = c->v.mode; *p != '\0'; p++) {
		if (*p == 's' || *p == 'S')
			c->policy.sign_mode = 1;
		else if (*p == 'v' || *p == 'V')
			c->policy.verify_mode = 1;
		else {
			conf_at(&c->conf, "Mode", err);
			buf_printf(err, "Mode: '%s' is not made of s (sign) "
			    "and v (verify)", c->v.mode);
			return -1;
		}
	}
	return 0;
}

/* The default OmitHeaders: RFC 6376 5.4's "SHOULD NOT" list, as in
 * OpenDKIM. */
static const char *const omit_default[] = {
	"Return-Path", "Received", "Comments", "Keywords", "Bcc",
	"Resent-Bcc", "DKIM-Signature", NULL,
};

/* A header name list being built: offsets into one shared buffer. */
struct hdrlist {
	size_t	off[DKIMD_MAX_HDRLIST];
	size_t	n;
};

/* hl_find - the position of name in the list, or -1 */
static int
hl_find(const struct buf *all, const struct hdrlist *l, const char *name)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcasecmp(all->s + l->off[i], name) == 0)
			return (int)i;
	return -1;
}

/* hl_add - append a name unless present; -1 when the list is full */
static int
hl_add(struct buf *all, struct hdrlist *l, const char *name)
{
	if (*name == '\0' || hl_find(all, l, name) >= 0)
		return 0;
	if (l->n >= DKIMD_MAX_HDRLIST)
		return -1;
	l->off[l->n++] = all->len;
	buf_puts(all, name);
	buf_putc(all, '\0');
	return 0;
}

/* hl_del - remove a name if present */
static void
hl_del(const struct buf *all, struct hdrlist *l, const char *name)
{
	int i = hl_find(all, l, name);

	if (i < 0)
		return;
	memmove(&l->off[i], &l->off[i + 1], (l->n - (size_t)i - 1) *
	    sizeof(l->off[0]));
	l->n--;
}

/*
 * hl_build - one keyword's list, by OpenDKIM's rules: a data set (a
 * comma list, file:, refile: or csl:) that replaces the default, unless
 * one entry is "*": then the list is a change to the default, "+name"
 * (or "name") adding and "-name" removing a name.
 */
static int
hl_build(struct dkimd_conf *c, const char *kw, const char *spec,
    const char *const *base, struct buf *all, struct hdrlist *l,
    struct buf *err)
{
	struct dataset *ds = NULL;
	const char *k;
	size_t i;
	int delta = spec == NULL, r = 0;

	if (spec != NULL && conf_dataset(&c->conf, kw, spec, &ds, err) < 0)
		return -1;
	for (i = 0; ds != NULL && i < ds->n; i++)
		delta |= strcmp(ds->entries[i].key, "*") == 0;
	for (; delta && base != NULL && *base != NULL && r == 0; base++)
		r = hl_add(all, l, *base);
	for (i = 0; ds != NULL && i < ds->n && r == 0; i++) {
		k = ds->entries[i].key;
		if (strcmp(k, "*") == 0)
			continue;
		if (delta && *k == '-')
			hl_del(all, l, k + 1);
		else
			r = hl_add(all, l, delta && *k == '+' ? k + 1 : k);
	}
	if (ds != NULL)
		dataset_free(ds);
	if (r < 0) {
		conf_at(&c->conf, kw, err);
		buf_printf(err, "%s: more than %d header names", kw,
		    DKIMD_MAX_HDRLIST);
	}
	return r;
}

/* hl_fix - the finished list as pointers into the storage */
static void
hl_fix(const char *store, const struct hdrlist *l, const char **out)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		out[i] = store + l->off[i];
	out[l->n] = NULL;
}

/* header_lists - SignHeaders, OversignHeaders, OmitHeaders; From is
 * always signed and never omitted, as RFC 6376 requires */
static int
header_lists(struct dkimd_conf *c, struct buf *err)
{
	struct buf all = BUF_INIT;
	struct hdrlist sign, over, omit;

	memset(&sign, 0, sizeof(sign));
	memset(&over, 0, sizeof(over));
	memset(&omit, 0, sizeof(omit));
	if ((c->v.signheaders != NULL && (hl_build(c, "SignHeaders",
	    c->v.signheaders, dkim_sign_default_headers, &all, &sign,
	    err) < 0 || hl_add(&all, &sign, "From") < 0)) ||
	    hl_build(c, "OversignHeaders", c->v.oversignheaders, NULL, &all,
	    &over, err) < 0 ||
	    hl_build(c, "OmitHeaders", c->v.omitheaders, omit_default, &all,
	    &omit, err) < 0) {
		buf_free(&all);
		return -1;
	}
	hl_del(&all, &omit, "From");
	if (all.failed)
		return -1;
	c->hdrlists = buf_detach(&all);
	hl_fix(c->hdrlists, &sign, c->signhdrs);
	hl_fix(c->hdrlists, &over, c->oversign);
	hl_fix(c->hdrlists, &omit, c->omit);
	return 0;
}

/* open_tables - data sets and host lists named by the configuration */
static int
open_tables(struct dkimd_conf *c, struct buf *err)
{
	struct dkimd_policy *p = &c->policy;

	const struct conf *cf = &c->conf;

	if (conf_dataset(cf, "KeyTable", c->v.keytable, &p->keytable,
	    err) < 0 ||
	    conf_dataset(cf, "SigningTable", c->v.signingtable,
	    &p->signingtable, err) < 0 ||
	    conf_dataset(cf, "Domain", c->v.domain, &p->domains, err) < 0 ||
	    conf_dataset(cf, "MTA", c->v.mtas, &p->mtas, err) < 0 ||
	    conf_dataset(cf, "MacroList", c->v.macrolist, &p->macros,
	    err) < 0 ||
	    conf_hostlist(cf, "InternalHosts", c->v.internalhosts,
	    &p->internal, err, &c->warnings) < 0 ||
	    conf_hostlist(cf, "PeerList", c->v.peerlist, &c->peers, err,
	    &c->warnings) < 0 ||
	    conf_hostlist(cf, "ExternalIgnoreList", c->v.exignore,
	    &c->exignore, err, &c->warnings) < 0)
		return -1;
	p->subdomains = c->v.subdomains;
	p->multisig = c->v.multisig;
	return 0;
}

/* key_user - the user the key files should belong to: UserID, or us */
static void
key_user(const struct dkimd_conf *c, uid_t *uid, gid_t *gid)
{
	struct buf err = BUF_INIT;

	*uid = geteuid();
	*gid = getegid();
	if (c->v.daemon.userid != NULL)
		(void)daemon_conf_user(c->v.daemon.userid, uid, gid, &err);
	buf_free(&err);
}

/*
 * key_path_unsafe - why the directories above a key let someone else
 * replace it, as OpenDKIM's RequireSafeKeys judges them from the root
 * down: one others may write, one its group may write (unless the group
 * is root's or the milter user's), one another user owns and may write;
 * the check ends at a directory no one else may enter.  One difference
 * (milter-dkim.conf(5)): a sticky directory others may write, /tmp, is
 * passed, since no one else may replace what lies below it.  Returns
 * NULL (safe) or a reason the caller frees.
 */
static char *
key_path_unsafe(const char *path, uid_t uid, gid_t gid)
{
	char real[PATH_MAX], *slash, *why = NULL;
	struct stat st;
	int r = 0;

	if (realpath(path, real) == NULL)
		return NULL;		/* the key loaded: its file reports */
	for (slash = real; slash != NULL && why == NULL;
	    slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (stat(real[0] ? real : "/", &st) == 0 && S_ISDIR(st.st_mode)) {
			if ((st.st_mode & S_IWOTH) && (st.st_mode & S_ISVTX))
				;	/* /tmp: entries stay their owners' */
			else if (st.st_mode & S_IWOTH)
				r = asprintf(&why, "directory %s is writable "
				    "by others", real[0] ? real : "/");
			else if ((st.st_mode & S_IWGRP) && st.st_gid != 0 &&
			    st.st_gid != gid)
				r = asprintf(&why, "directory %s is writable "
				    "by its group (gid %u)", real[0] ? real :
				    "/", (unsigned)st.st_gid);
			else if ((st.st_mode & S_IWUSR) && st.st_uid != 0 &&
			    st.st_uid != uid)
				r = asprintf(&why, "directory %s belongs to uid "
				    "%u, neither root nor the milter's user",
				    real[0] ? real : "/", (unsigned)st.st_uid);
			else if (!(st.st_mode & (S_IXGRP | S_IXOTH))) {
				*slash = '/';
				break;	/* no one else gets below here */
			}
		}
		*slash = '/';
	}
	if (r < 0)
		why = NULL;
	if (why == NULL && stat(real, &st) == 0 && st.st_uid != 0 &&
	    st.st_uid != uid && asprintf(&why, "it belongs to uid %u, "
	    "neither root nor the milter's user", (unsigned)st.st_uid) < 0)
		why = NULL;
	return why;
}

/* key_traps - warnings about keys: unsafe files, mismatched names.
 * With RequireSafeKeys, a key others may read, or that others could
 * replace, is not used (as in OpenDKIM): mail it would sign is refused
 * for now. */
static int
key_traps(struct dkimd_conf *c, struct dkimd_key *k, uid_t uid, gid_t gid)
{
	struct stat st;
	const char *dot;
	char *why = NULL;
	const char *fix = " (RequireSafeKeys: chmod 600 it; until then it "
	    "is not used)";
	int r = 0;

	if (k->path != NULL && k->key != NULL && stat(k->path, &st) == 0) {
		if (st.st_mode & (S_IROTH | S_IWOTH | S_IWGRP))
			r = asprintf(&why, "key file %s is %s by others",
			    k->path, (st.st_mode & S_IROTH) ? "readable" :
			    "writable");
		else if ((why = key_path_unsafe(k->path, uid, gid)) != NULL) {
			char *w = why;

			r = asprintf(&why, "key file %s is not safe: %s",
			    k->path, w);
			free(w);
			fix = " (RequireSafeKeys: until that is fixed it is "
			    "not used)";
		}
		if (r < 0)
			return -1;
		if (why != NULL)
			buf_printf(&c->warnings, "%s: %s%s\n", k->where, why,
			    c->v.require_safe ? fix : "");
		if (why != NULL && c->v.require_safe && k->error == NULL) {
			if (asprintf(&k->error, "%s (RequireSafeKeys)", why) < 0)
				k->error = NULL;
		}
		free(why);
	}
	/* "sel._domainkey.red.example" signing as blue.example */
	if (k->name != NULL && k->domain != NULL &&
	    strcmp(k->domain, "%") != 0 &&
	    (dot = strstr(k->name, "._domainkey.")) != NULL &&
	    strcasecmp(dot + 12, k->domain) != 0)
		buf_printf(&c->warnings, "%s: key '%s' signs as d=%s, not as "
		    "%s as its name suggests\n", k->where, k->name, k->domain,
		    dot + 12);
	return 0;
}

/* policy_traps - the OpenDKIM traps that a working setup may hide;
 * -1 when out of memory */
static int
policy_traps(struct dkimd_conf *c)
{
	struct dkimd_policy *p = &c->policy;
	struct buf *w = &c->warnings;
	size_t i;
	uid_t uid;
	gid_t gid;

	key_user(c, &uid, &gid);
	if (p->keytable != NULL && c->v.domain != NULL) {
		conf_at(&c->conf, "Domain", w);
		buf_puts(w, "Domain is ignored because a KeyTable is set; "
		    "signing follows the SigningTable\n");
	}
	if (p->keytable != NULL && p->signingtable == NULL) {
		conf_at(&c->conf, "KeyTable", w);
		buf_puts(w, "KeyTable is set but SigningTable is not: nothing "
		    "will be signed\n");
	}
	if (p->signingtable != NULL && p->keytable == NULL) {
		conf_at(&c->conf, "SigningTable", w);
		buf_puts(w, "SigningTable is set but KeyTable is not: nothing "
		    "will be signed\n");
	}
	if (p->internal != NULL && hostlist_has_all(p->internal)) {
		conf_at(&c->conf, "InternalHosts", w);
		buf_puts(w, "InternalHosts lists 0.0.0.0/0 or ::/0: every "
		    "client is internal, so mail from anywhere gets signed\n");
	}
	for (i = 0; p->signingtable != NULL && p->keytable != NULL &&
	    i < p->signingtable->n; i++) {
		const struct dataset_entry *e = &p->signingtable->entries[i];
		char name[256];
		size_t n = e->value ? strcspn(e->value, " \t") : 0;

		if (n == 0 || n >= sizeof(name) || strchr(e->value, '%'))
			continue;
		memcpy(name, e->value, n);
		name[n] = '\0';
		if (dkimd_policy_key(p, name) == NULL)
			buf_printf(w, "%s:%d: SigningTable entry '%s' names "
			    "key '%s', which the KeyTable lacks: such mail is "
			    "refused with a temporary error\n",
			    p->signingtable->path ? p->signingtable->path :
			    "SigningTable", e->line, e->key, name);
	}
	for (i = 0; i < p->nkeys; i++)
		if (key_traps(c, &p->keys[i], uid, gid) < 0)
			return -1;
	if (p->single != NULL && key_traps(c, p->single, uid, gid) < 0)
		return -1;
	return 0;
}

/* resolve_authserv - AuthservID, or the host name; unset, as OpenDKIM,
 * the MTA's name (macro j) is used where the MTA gives it */
static int
resolve_authserv(struct dkimd_conf *c)
{
	c->authserv_from_mta = c->v.authservid == NULL;
	c->authserv_id = authres_servid_conf(c->v.authservid);
	return c->authserv_id != NULL ? 0 : -1;
}

/* check_values - parse and cross-check what was loaded */
static int
check_values(struct dkimd_conf *c, struct buf *err)
{
	if (set_actions(c, err) < 0 || parse_canon(c, err) < 0 ||
	    parse_mode(c, err) < 0)
		return -1;
	if (c->v.signalg != NULL && strcasecmp(c->v.signalg, "rsa-sha256") &&
	    strcasecmp(c->v.signalg, "ed25519-sha256") &&
	    strcasecmp(c->v.signalg, "rsa-sha1")) {
		conf_at(&c->conf, "SignatureAlgorithm", err);
		buf_printf(err, "SignatureAlgorithm: '%s' is not rsa-sha256 or "
		    "ed25519-sha256", c->v.signalg);
		return -1;
	}
	/* OpenDKIM's "0: no limit"; a limit stays, memory being finite */
	if (c->v.max_header_bytes == 0)
		c->v.max_header_bytes = 16777216;
	if (c->v.signalg != NULL) {
		conf_at(&c->conf, "SignatureAlgorithm", &c->warnings);
		buf_puts(&c->warnings, "SignatureAlgorithm has no effect: the "
		    "algorithm follows from each key (RSA: rsa-sha256, "
		    "Ed25519: ed25519-sha256)\n");
	}
	return 0;
}

/* dkimd_conf_load - the runtime's load_config */
void *
dkimd_conf_load(const char *path, const char *text, const char *overrides,
    struct buf *err)
{
	struct dkimd_conf *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	buf_init(&c->warnings);
	if (daemon_conf_open(&c->conf, dkimd_conf_table, dkimd_conf_ntable, c,
	    &c->v.daemon, path, text, overrides, err) < 0)
		goto fail;
	buf_puts(&c->warnings, buf_str(&c->conf.warnings));
	if (check_values(c, err) < 0 || open_tables(c, err) < 0 ||
	    header_lists(c, err) < 0 || resolve_authserv(c) < 0)
		goto fail;
	if (dkimd_policy_keys(&c->policy, c->v.keyfile, c->v.selector,
	    &c->warnings) < 0)
		goto fail;
	if (policy_traps(c) < 0 || conf_resolver(&c->conf, c->v.nameservers,
	    c->v.dns_timeout, DKIMD_DNS_CACHE, &c->dns, err) < 0)
		goto fail;
	if (c->warnings.failed)
		goto fail;
	buf_puts(err, buf_str(&c->warnings));
	return c;
fail:
	if (err->len == 0)
		buf_puts(err, "out of memory");
	dkimd_conf_free(c);
	return NULL;
}

#define DKIMD_CHECK_DNS_MAX	100	/* published keys compared by -n */

/* check_published - compare one key with what DNS publishes for it */
static void
check_published(struct dkimd_conf *c, const struct dkimd_key *k,
    const char *domain, struct buf *out)
{
	struct dns_answer *a = NULL;
	struct dkim_key pub;
	struct buf qname = BUF_INIT, mine = BUF_INIT, theirs = BUF_INIT;
	enum dns_status st;

	memset(&pub, 0, sizeof(pub));
	buf_printf(&qname, "%s._domainkey.%s", k->selector, domain);
	st = dns_query(c->dns, buf_str(&qname), DNS_T_TXT, &a);
	if (st == DNS_NXDOMAIN || st == DNS_NODATA)
		buf_printf(out, "%s: key '%s': no key record is published at "
		    "%s: signatures made with it will not verify\n", k->where,
		    k->name, buf_str(&qname));
	else if (st != DNS_OK)
		buf_printf(out, "%s: key '%s': cannot look up %s: %s\n",
		    k->where, k->name, buf_str(&qname), dns_strerror(st));
	else if (a->n != 1)
		buf_printf(out, "%s: key '%s': %s has %zu TXT records, "
		    "verifiers need exactly one\n", k->where, k->name,
		    buf_str(&qname), a->n);
	else if (dkim_key_parse(a->rr[0].text, a->rr[0].text_len, &pub) !=
	    DKIM_KEYREC_OK)
		buf_printf(out, "%s: key '%s': the record at %s is not a "
		    "usable key\n", k->where, k->name, buf_str(&qname));
	else if (crypto_key_public_raw(k->key, &mine) != CRYPTO_OK ||
	    crypto_key_public_raw(pub.pk, &theirs) != CRYPTO_OK ||
	    mine.len != theirs.len || memcmp(mine.s, theirs.s, mine.len) != 0)
		buf_printf(out, "%s: key '%s': the private key does not match "
		    "the public key published at %s: signatures will fail\n",
		    k->where, k->name, buf_str(&qname));
	dkim_key_clear(&pub);
	dns_answer_free(a);
	buf_free(&qname);
	buf_free(&mine);
	buf_free(&theirs);
}

/*
 * dkimd_conf_check_dns - for -n: does DNS publish the public half of each
 * usable key?  Keys whose domain is "%" are checked for the Domain list's
 * names (the single KeyFile key), at most DKIMD_CHECK_DNS_MAX lookups.
 */
void
dkimd_conf_check_dns(void *arg, struct buf *out)
{
	struct dkimd_conf *c = arg;
	struct dkimd_policy *p = &c->policy;
	size_t i, n = 0;

	for (i = 0; i < p->nkeys && n < DKIMD_CHECK_DNS_MAX; i++) {
		const struct dkimd_key *k = &p->keys[i];

		if (k->key == NULL || k->selector == NULL ||
		    strchr(k->domain, '%') != NULL)
			continue;
		check_published(c, k, k->domain, out);
		n++;
	}
	for (i = 0; p->single != NULL && p->single->key != NULL &&
	    p->domains != NULL && i < p->domains->n &&
	    n < DKIMD_CHECK_DNS_MAX; i++) {
		const char *dom = p->domains->entries[i].key;

		if (strchr(dom, '*') != NULL)
			continue;
		check_published(c, p->single, dom, out);
		n++;
	}
}

/* dkimd_conf_free - release a configuration and all it owns */
void
dkimd_conf_free(void *arg)
{
	struct dkimd_conf *c = arg;

	if (c == NULL)
		return;
	dkimd_policy_free(&c->policy);
	if (c->peers != NULL)
		hostlist_free(c->peers);
	if (c->exignore != NULL)
		hostlist_free(c->exignore);
	if (c->dns != NULL)
		dns_free(c->dns);
	free(c->authserv_id);
	free(c->hdrlists);
	buf_free(&c->warnings);
	conf_free(&c->conf);
	free(c);
}
