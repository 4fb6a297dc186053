/*
 * NAME
 *	dmarcd_conf - milter-dmarc configuration: keywords, loading, checks
 * SYNOPSIS
 *	#include "dmarcd_conf.h"
 * DESCRIPTION
 *	dmarcd_conf_table lists every keyword: OpenDMARC 1.4.2's, with
 *	its defaults, so that an opendmarc.conf loads unchanged, and
 *	milter-dmarc's own.  dmarcd_conf_load() reads the file (or the
 *	embedded default), opens the host lists and data sets, the public
 *	suffix list when PolicyDiscovery is psl, and the DNS resolver, and
 *	notes the traps: settings that load but do not do what was
 *	probably meant.  dmarcd_conf_check() adds the -n checks that look
 *	at the file system.
 * DIAGNOSTICS
 *	Errors name the file, the line and the keyword.  Warnings are lines
 *	in conf->warnings, which -n prints and the daemon logs at start.
 */
#include <errno.h>
#include <fcntl.h>
#include <libpsl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "authres.h"
#include "dmarcd_conf.h"
#include "dmarcd_hist.h"
#include "dmarcd_ruf.h"

#define V(f)	offsetof(struct dmarcd_conf, v.f)
#define STR(n, f, d)	{ n, CONF_STR, d, V(f), 0, 0, NULL }
#define BOOL(n, f, d)	{ n, CONF_BOOL, d, V(f), 0, 0, NULL }
#define INT(n, f, d, lo, hi) { n, CONF_INT, d, V(f), lo, hi, NULL }
#define IGN(n, why)	{ n, CONF_IGNORED, NULL, 0, 0, 0, why }


const struct conf_kw dmarcd_conf_table[] = {
	DAEMON_CONF_KW(struct dmarcd_conf, v.daemon, "inet:8893@localhost"),
	STR("AuthservID", authservid, NULL),
	BOOL("AuthservIDWithJobID", authservid_jobid, "no"),
	IGN("BaseDirectory", "give absolute paths, or WorkingDirectory= in "
	    "the systemd unit"),
	IGN("ChangeRootDirectory", "use the service manager's "
	    "RootDirectory="),
	STR("CopyFailuresTo", copy_failures_to, NULL),
	BOOL("ARCSelfValidate", arc_self, "no"),
	BOOL("DKIMSelfValidate", dkim_self, "no"),
	INT("DNSTimeout", dns_timeout, "5", 0, 300),
	STR("DomainWhitelist", arc_list, NULL),
	STR("DomainWhitelistFile", arc_file, NULL),
	IGN("DomainWhitelistSize", "the list grows as needed"),
	IGN("EnableCoredumps", "use the service manager's LimitCORE="),
	BOOL("FailureReports", failure_reports, "no"),
	STR("FailureReportsBcc", failure_reports_bcc, NULL),
	BOOL("FailureReportsOnNone", failure_reports_none, "no"),
	STR("FailureReportsSentBy", failure_reports_by, NULL),
	STR("HistoryDatabase", history_db, NULL),
	STR("HistoryFile", history_file, NULL),
	STR("HistorySpool", history_spool, NULL),
	BOOL("HoldQuarantinedMessages", hold_quarantined, "no"),
	BOOL("IgnoreAuthenticatedClients", ignore_auth, "no"),
	STR("IgnoreDomains", ignore_domains, NULL),
	STR("IgnoreHosts", ignore_hosts, "127.0.0.1"),
	STR("IgnoreMailFrom", ignore_from, NULL),
	STR("IgnoreMailTo", ignore_to, NULL),
	STR("Nameservers", nameservers, NULL),
	STR("PolicyDiscovery", discovery, "treewalk"),
	STR("PublicSuffixList", psl_file, NULL),
	BOOL("RecordAllMessages", record_all, "no"),
	BOOL("RejectFailures", reject_failures, "no"),
	BOOL("RejectMultiValueFrom", reject_multi_from, "no"),
	STR("RejectString", reject_string, "rejected by DMARC policy for %s"),
	STR("ReportCommand", report_command, "/usr/sbin/sendmail -t"),
	BOOL("RequiredHeaders", required_headers, "no"),
	BOOL("SoftwareHeader", software_header, "no"),
	BOOL("SPFIgnoreResults", spf_ignore, "no"),
	BOOL("SPFSelfValidate", spf_self, "no"),
	BOOL("TestMode", test_mode, "no"),
	STR("TrustedAuthservIDs", trusted_ids, NULL),
};
const size_t dmarcd_conf_ntable = sizeof(dmarcd_conf_table) /
    sizeof(dmarcd_conf_table[0]);

/* The embedded default: used when no file is given and none exists. */
const char dmarcd_conf_default[] =
    "Socket\t\tinet:8893@localhost\n"
    "Syslog\t\tyes\n";

/* dmarcd_conf_history_sqlite - the SQLite path of HistoryDatabase */
const char *
dmarcd_conf_history_sqlite(const struct dmarcd_conf *c)
{
	const char *h = c->v.history_db;

	return h != NULL && strncmp(h, "sqlite:", 7) == 0 ? h + 7 : NULL;
}

/* dmarcd_conf_history_pg - the PostgreSQL connection string, or NULL */
const char *
dmarcd_conf_history_pg(const struct dmarcd_conf *c)
{
	const char *h = c->v.history_db;

	return h != NULL && (strncmp(h, "postgresql://", 13) == 0 ||
	    strncmp(h, "postgres://", 11) == 0) ? h : NULL;
}

/* check_values - parse and cross-check what was loaded */
static int
check_values(struct dmarcd_conf *c, struct buf *err)
{
	const char *rs = c->v.reject_string, *pct;

	if (strcasecmp(c->v.discovery, "treewalk") == 0)
		c->dmarc.mode = DMARC_MODE_BIS;
	else if (strcasecmp(c->v.discovery, "psl") == 0)
		c->dmarc.mode = DMARC_MODE_7489;
	else {
		conf_at(&c->conf, "PolicyDiscovery", err);
		buf_printf(err, "PolicyDiscovery: '%s' is not treewalk "
		    "(RFC 9989) or psl (RFC 7489)", c->v.discovery);
		return -1;
	}
	/* one %s and no other conversion: it is a printf format */
	pct = strchr(rs, '%');
	if (pct != NULL && (pct[1] != 's' || strchr(pct + 2, '%') != NULL)) {
		conf_at(&c->conf, "RejectString", err);
		buf_printf(err, "RejectString: '%s' may hold one %%s (the From "
		    "domain) and no other %%", rs);
		return -1;
	}
	if (c->v.history_db != NULL && dmarcd_conf_history_pg(c) == NULL &&
	    strncmp(c->v.history_db, "sqlite:", 7) != 0) {
		conf_at(&c->conf, "HistoryDatabase", err);
		buf_printf(err, "HistoryDatabase: '%s' is not sqlite:PATH or "
		    "postgresql://...", c->v.history_db);
		return -1;
	}
	if (c->v.dns_timeout == 0) {
		conf_at(&c->conf, "DNSTimeout", &c->warnings);
		buf_puts(&c->warnings, "DNSTimeout 0 (wait forever) is taken "
		    "as 30 seconds\n");
		c->v.dns_timeout = 30;
	}
	return 0;
}

/* open_psl - the public suffix list for PolicyDiscovery psl */
static int
open_psl(struct dmarcd_conf *c, struct buf *err)
{
	if (c->dmarc.mode != DMARC_MODE_7489) {
		if (c->v.psl_file != NULL) {
			conf_at(&c->conf, "PublicSuffixList", &c->warnings);
			buf_puts(&c->warnings, "PublicSuffixList is not used "
			    "with PolicyDiscovery treewalk (the default); "
			    "the DNS tree walk of RFC 9989 replaces it\n");
		}
		return 0;
	}
	if (c->v.psl_file != NULL) {
		if ((c->psl = psl_load_file(c->v.psl_file)) == NULL) {
			conf_at(&c->conf, "PublicSuffixList", err);
			buf_printf(err, "PublicSuffixList: cannot load %s",
			    c->v.psl_file);
			return -1;
		}
	} else
		c->psl = psl_latest(NULL);
	c->dmarc.psl = c->psl;
	return 0;
}

/* open_tables - host lists and data sets named by the configuration */
static int
open_tables(struct dmarcd_conf *c, struct buf *err)
{
	const struct conf *cf = &c->conf;
	const char *from = c->v.ignore_from != NULL ? c->v.ignore_from :
	    c->v.ignore_domains;
	const char *fromkw = c->v.ignore_from != NULL ? "IgnoreMailFrom" :
	    "IgnoreDomains";

	if (c->v.ignore_from != NULL && c->v.ignore_domains != NULL) {
		conf_at(cf, "IgnoreDomains", err);
		buf_puts(err, "IgnoreDomains: IgnoreMailFrom is set too; "
		    "they are the same list, give one");
		return -1;
	}
	return conf_hostlist(cf, "IgnoreHosts", c->v.ignore_hosts,
	    &c->ignore_hosts, err, &c->warnings) < 0 ||
	    conf_dataset(cf, fromkw, from, &c->ignore_from, err) < 0 ||
	    conf_dataset(cf, "IgnoreMailTo", c->v.ignore_to, &c->ignore_to,
	    err) < 0 ||
	    conf_dataset(cf, "TrustedAuthservIDs", c->v.trusted_ids,
	    &c->trusted_ids, err) < 0 ||
	    conf_dataset(cf, "DomainWhitelist", c->v.arc_list, &c->arc_list,
	    err) < 0 ||
	    conf_dataset(cf, "DomainWhitelistFile", c->v.arc_file,
	    &c->arc_file, err) < 0 ? -1 : 0;
}

/* dmarcd_conf_arc_sealer - is a domain in DomainWhitelist(File)? */
int
dmarcd_conf_arc_sealer(const struct dmarcd_conf *c, const char *d)
{
	return (c->arc_list != NULL && dataset_lookup(c->arc_list, d) !=
	    NULL) || (c->arc_file != NULL && dataset_lookup(c->arc_file, d) !=
	    NULL);
}

/* dmarcd_conf_trusted - is id one whose results we take? */
int
dmarcd_conf_trusted(const struct dmarcd_conf *c, const char *id)
{
	if (id == NULL)
		return 0;
	if (c->trusted_ids == NULL)
		return strcasecmp(id, c->authserv_id) == 0;
	if (dataset_lookup(c->trusted_ids, id) != NULL)
		return 1;
	/* "HOSTNAME" in the list stands for our host name */
	return dataset_lookup(c->trusted_ids, "HOSTNAME") != NULL &&
	    strcasecmp(id, c->authserv_id) == 0;
}

/* traps - settings that work but probably do not do what was meant */
static void
traps(struct dmarcd_conf *c)
{
	struct buf *w = &c->warnings;

	if (c->trusted_ids != NULL && c->v.authservid != NULL &&
	    !dmarcd_conf_trusted(c, c->authserv_id)) {
		conf_at(&c->conf, "TrustedAuthservIDs", w);
		buf_printf(w, "TrustedAuthservIDs does not include %s, the "
		    "AuthservID milter-dkim and milter-spf write when they "
		    "share ours: their results are not used, and %s\n",
		    c->authserv_id, c->v.dkim_self ? "only our own DKIM "
		    "verification counts" : "mail looks unauthenticated");
	}
	if (c->v.reject_failures && !c->v.dkim_self && !c->v.spf_self) {
		conf_at(&c->conf, "RejectFailures", w);
		buf_puts(w, "RejectFailures is on, DKIMSelfValidate and "
		    "SPFSelfValidate are off: DKIM and SPF results come only "
		    "from the Authentication-Results fields of "
		    "TrustedAuthservIDs; unless milter-dkim or milter-spf runs "
		    "before this milter, every message from a p=reject domain "
		    "is rejected\n");
	}
	if (c->v.reject_failures && c->v.spf_ignore && !c->v.spf_self) {
		conf_at(&c->conf, "SPFIgnoreResults", w);
		buf_puts(w, "SPFIgnoreResults without SPFSelfValidate: SPF "
		    "never counts, so DMARC passes only by DKIM\n");
	}
	if (c->ignore_hosts != NULL && hostlist_has_all(c->ignore_hosts)) {
		conf_at(&c->conf, "IgnoreHosts", w);
		buf_puts(w, "IgnoreHosts lists 0.0.0.0/0 or ::/0: no mail is "
		    "checked\n");
	}
	if (c->v.test_mode && c->v.reject_failures) {
		conf_at(&c->conf, "TestMode", w);
		buf_puts(w, "TestMode is on: RejectFailures and "
		    "HoldQuarantinedMessages only log what they would do\n");
	}
}

/* set_spool - HistorySpool, or PATH.spool beside an SQLite history */
static int
set_spool(struct dmarcd_conf *c)
{
	struct buf p = BUF_INIT;
	int rc;

	if (c->v.history_spool != NULL)
		buf_puts(&p, c->v.history_spool);
	else if (dmarcd_conf_history_sqlite(c) != NULL)
		buf_printf(&p, "%s.spool", dmarcd_conf_history_sqlite(c));
	rc = p.failed ? -1 : dmarcd_hist_set_spool(c->hist, p.len ? p.s :
	    NULL, DMARCD_HIST_DRAIN);
	buf_free(&p);
	return rc;
}

/* dmarcd_conf_load - the runtime's load_config */
void *
dmarcd_conf_load(const char *path, const char *text, const char *overrides,
    struct buf *err)
{
	struct dmarcd_conf *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	buf_init(&c->warnings);
	if (daemon_conf_open(&c->conf, dmarcd_conf_table, dmarcd_conf_ntable,
	    c, &c->v.daemon, path, text, overrides, err) < 0)
		goto fail;
	buf_puts(&c->warnings, buf_str(&c->conf.warnings));
	if (check_values(c, err) < 0 || open_psl(c, err) < 0 ||
	    open_tables(c, err) < 0 ||
	    (c->authserv_id = authres_servid_conf(c->v.authservid)) == NULL ||
	    conf_resolver(&c->conf, c->v.nameservers, c->v.dns_timeout,
	    DMARCD_DNS_CACHE, &c->dns, err) < 0)
		goto fail;
	if ((c->v.history_db != NULL || c->v.history_file != NULL) &&
	    (c->hist = dmarcd_hist_new(dmarcd_conf_history_sqlite(c),
	    dmarcd_conf_history_pg(c), c->v.history_file,
	    DMARCD_HIST_QUEUE)) == NULL)
		goto fail;
	if (c->hist != NULL && set_spool(c) < 0)
		goto fail;
	if (c->v.failure_reports &&
	    (c->ruf_limits = dmarcd_ruf_limits_new()) == NULL)
		goto fail;
	traps(c);
	if (c->warnings.failed)
		goto fail;
	buf_puts(err, buf_str(&c->warnings));
	return c;
fail:
	if (err->len == 0)
		buf_puts(err, "out of memory");
	dmarcd_conf_free(c);
	return NULL;
}

/* writable - can this process create or append to path? */
static int
writable(const char *path, struct buf *why)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0640);

	if (fd < 0) {
		buf_printf(why, "%s: %s", path, strerror(errno));
		return 0;
	}
	close(fd);
	return 1;
}

/* dmarcd_conf_check - the -n checks outside the file */
void
dmarcd_conf_check(void *arg, struct buf *out)
{
	struct dmarcd_conf *c = arg;
	struct buf why = BUF_INIT;

	if (c->v.history_file != NULL && !writable(c->v.history_file, &why)) {
		conf_at(&c->conf, "HistoryFile", out);
		buf_printf(out, "HistoryFile cannot be written (%s): no "
		    "history is kept\n", buf_str(&why));
	}
	buf_reset(&why);
	if ((dmarcd_conf_history_sqlite(c) != NULL &&
	    dmarcd_hist_check(dmarcd_conf_history_sqlite(c), &why) < 0) ||
	    (dmarcd_conf_history_pg(c) != NULL &&
	    dmarcd_pg_check(dmarcd_conf_history_pg(c), &why) < 0)) {
		while (why.len > 0 && why.s[why.len - 1] == '\n')
			buf_truncate(&why, why.len - 1);
		conf_at(&c->conf, "HistoryDatabase", out);
		buf_printf(out, "HistoryDatabase cannot be used (%s): no "
		    "history is kept\n", buf_str(&why));
	}
	buf_free(&why);
}

/* dmarcd_conf_free - release a configuration and all it owns */
void
dmarcd_conf_free(void *arg)
{
	struct dmarcd_conf *c = arg;

	if (c == NULL)
		return;
	dmarcd_hist_free(c->hist);
	dmarcd_ruf_limits_free(c->ruf_limits);
	if (c->ignore_hosts != NULL)
		hostlist_free(c->ignore_hosts);
	dataset_free(c->ignore_from);
	dataset_free(c->ignore_to);
	dataset_free(c->trusted_ids);
	dataset_free(c->arc_list);
	dataset_free(c->arc_file);
	if (c->dns != NULL)
		dns_free(c->dns);
	if (c->psl != NULL)
		psl_free(c->psl);
	free(c->authserv_id);
	buf_free(&c->warnings);
	conf_free(&c->conf);
	free(c);
}
