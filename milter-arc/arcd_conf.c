/*
 * NAME
 *	arcd_conf - milter-arc configuration: keywords, loading, checks
 * SYNOPSIS
 *	#include "arcd_conf.h"
 * DESCRIPTION
 *	arcd_conf_table lists every keyword of OpenARC 1.3.0's
 *	openarc.conf(5).  Those milter-arc implements keep OpenARC's
 *	meaning and default; the others are accepted with a warning that
 *	says why they have no effect, so an existing file loads unchanged.
 *	MinimumKeyBits (OpenDKIM's name) is taken as MinimumKeySizeRSA.
 *
 *	arcd_conf_load() reads the file (or the embedded default) and the
 *	file named by Include (read after it: its lines win), parses the
 *	values, opens InternalHosts and PeerList (files or inline lists),
 *	loads the sealing key (symbolic links are followed; with
 *	RequireSafeKeys, as in milter-dkim, a key others may read or
 *	replace is not used and mail to seal is refused for now), and
 *	creates the DNS resolver.
 * DIAGNOSTICS
 *	Errors name the file, the line and the keyword.  Warnings are lines
 *	in conf->warnings, which `-n` prints and the daemon logs at start.
 */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "arcd_conf.h"
#include "authres.h"
#include "safefile.h"

#define V(f)	offsetof(struct arcd_conf, v.f)
#define STR(n, f, d)	{ n, CONF_STR, d, V(f), 0, 0, NULL }
#define BOOL(n, f, d)	{ n, CONF_BOOL, d, V(f), 0, 0, NULL }
#define INT(n, f, d, lo, hi) { n, CONF_INT, d, V(f), lo, hi, NULL }
#define IGN(n, why)	{ n, CONF_IGNORED, NULL, 0, 0, 0, why }

const struct conf_kw arcd_conf_table[] = {
	DAEMON_CONF_KW(struct arcd_conf, v.daemon, "inet:8892@localhost"),
	IGN("AuthResComments", "the results are copied into the AAR as "
	    "written, comments included"),
	BOOL("AuthResIP", authres_ip, "yes"),
	STR("AuthservID", authservid, NULL),
	IGN("BaseDirectory", "paths are used as written; the service "
	    "manager's WorkingDirectory= sets the directory"),
	STR("Canonicalization", canon, "relaxed/simple"),
	IGN("ChangeRootDirectory", "use the service manager's "
	    "RootDirectory="),
	INT("DNSTimeout", dns_timeout, "10", 1, 300),
	STR("Domain", domain, NULL),
	IGN("EnableCoredumps", "core dumps follow the service manager "
	    "(LimitCORE=)"),
	BOOL("FinalReceiver", final_receiver, "no"),
	STR("FixedTimestamp", fixed_ts, NULL),
	STR("Include", include, NULL),
	STR("InternalHosts", internalhosts, "127.0.0.1"),
	IGN("KeepTemporaryFiles", "no temporary files are written"),
	STR("KeyFile", keyfile, NULL),
	INT("MaximumHeaders", max_headers, "65536", 0, 16777216),
	INT("MinimumKeyBits", min_key_bits, "1024", 0, 16384),
	INT("MinimumKeySizeRSA", min_key_rsa, "1024", 0, 16384),
	STR("Mode", mode, NULL),
	STR("Nameservers", nameservers, NULL),
	STR("OverSignHeaders", oversignheaders, NULL),
	STR("PeerList", peerlist, NULL),
	BOOL("PermitAuthenticationOverrides", override_cv, "no"),
	BOOL("RequireSafeKeys", require_safe, "yes"),
	STR("ResponseDisabled", resp_disabled, "accept"),
	STR("ResponseUnable", resp_unable, "tempfail"),
	STR("ResponseUnwilling", resp_unwilling, "reject"),
	IGN("SealHeaderChecks", "not supported: every message of a sealing "
	    "connection is sealed"),
	STR("Selector", selector, NULL),
	STR("SignatureAlgorithm", sigalg, "rsa-sha256"),
	INT("SignatureTTL", signature_ttl, "0", 0, 315360000),
	STR("SignHeaders", signheaders, NULL),
	BOOL("SoftwareHeader", software_header, "no"),
	IGN("TemporaryDirectory", "no temporary files are written"),
	IGN("TestKeys", "point Nameservers at a test DNS server instead"),
};
const size_t arcd_conf_ntable = sizeof(arcd_conf_table) /
    sizeof(arcd_conf_table[0]);

/* The embedded default: used when no file is given and none exists. */
const char arcd_conf_default[] =
    "Socket\t\tinet:8892@localhost\n"
    "Mode\t\tv\n"
    "Syslog\t\tyes\n";

/* arcd_action_name - the word of an action */
const char *
arcd_action_name(enum arcd_action a)
{
	static const char *const names[] = { "accept", "discard", "reject",
		"tempfail" };

	return (unsigned)a < 4 ? names[a] : "accept";
}

/* action - a Response* value */
static int
action(const struct arcd_conf *c, const char *kw, const char *s,
    enum arcd_action *out, struct buf *err)
{
	int k;

	for (k = 0; k < 4; k++)
		if (strcasecmp(s, arcd_action_name((enum arcd_action)k)) == 0) {
			*out = (enum arcd_action)k;
			return 0;
		}
	conf_at(&c->conf, kw, err);
	buf_printf(err, "%s: '%s' is not accept, discard, reject or tempfail",
	    kw, s);
	return -1;
}

/* mode - Mode: letters s and v, or unset (by client) */
static int
mode(struct arcd_conf *c, struct buf *err)
{
	const char *p;

	c->mode = 0;
	for (p = c->v.mode; p != NULL && *p != '\0'; p++) {
		if (*p == 's')
			c->mode |= ARCD_MODE_SIGN;
		else if (*p == 'v')
			c->mode |= ARCD_MODE_VERIFY;
		else {
			conf_at(&c->conf, "Mode", err);
			buf_printf(err, "Mode: '%s' is not made of s (seal) and "
			    "v (verify)", c->v.mode);
			return -1;
		}
	}
	return 0;
}

/* hdrlist - a comma (or colon) separated list of names into list */
static int
hdrlist(struct arcd_conf *c, const char *kw, const char *spec,
    struct buf *names, size_t *offs, size_t *n, struct buf *err)
{
	const char *p = spec, *e;

	*n = 0;
	while (p != NULL && *p != '\0') {
		while (*p == ',' || *p == ':' || isspace((unsigned char)*p))
			p++;
		for (e = p; *e != '\0' && *e != ',' && *e != ':' &&
		    !isspace((unsigned char)*e); e++)
			;
		if (e == p)
			break;
		if (*n == ARCD_MAX_HDRLIST) {
			conf_at(&c->conf, kw, err);
			buf_printf(err, "%s: more than %d names", kw,
			    ARCD_MAX_HDRLIST);
			return -1;
		}
		offs[(*n)++] = names->len;
		buf_append(names, p, (size_t)(e - p));
		buf_putc(names, '\0');
		p = e;
	}
	return names->failed ? -1 : 0;
}

/* header_lists - SignHeaders and OverSignHeaders */
static int
header_lists(struct arcd_conf *c, struct buf *err)
{
	size_t so[ARCD_MAX_HDRLIST], oo[ARCD_MAX_HDRLIST], ns = 0, no = 0, k;
	struct buf names = BUF_INIT;

	if (hdrlist(c, "SignHeaders", c->v.signheaders, &names, so, &ns,
	    err) < 0 || hdrlist(c, "OverSignHeaders", c->v.oversignheaders,
	    &names, oo, &no, err) < 0) {
		buf_free(&names);
		return -1;
	}
	c->hdrnames = buf_detach(&names);
	for (k = 0; k < ns; k++)
		c->signhdrs[k] = c->hdrnames + so[k];
	c->signhdrs[ns] = NULL;
	for (k = 0; k < no; k++)
		c->oversign[k] = c->hdrnames + oo[k];
	c->oversign[no] = NULL;
	c->signhdrs_set = ns > 0;
	return 0;
}

/* check_values - parse and cross-check what was loaded */
static int
check_values(struct arcd_conf *c, struct buf *err)
{
	const struct conf_loc *rsa = conf_where(&c->conf, "MinimumKeySizeRSA");
	char *end;

	if (mode(c, err) < 0 ||
	    action(c, "ResponseDisabled", c->v.resp_disabled,
	    &c->on_disabled, err) < 0 ||
	    action(c, "ResponseUnable", c->v.resp_unable, &c->on_unable,
	    err) < 0 ||
	    action(c, "ResponseUnwilling", c->v.resp_unwilling,
	    &c->on_unwilling, err) < 0 || header_lists(c, err) < 0)
		return -1;
	/* what the runtime answers when we cannot go on */
	c->v.daemon.on_error = c->on_unable == ARCD_ACCEPT ? VERDICT_ACCEPT :
	    VERDICT_TEMPFAIL;
	if (canon_parse(c->v.canon, strlen(c->v.canon), &c->hcanon,
	    &c->bcanon) < 0) {
		conf_at(&c->conf, "Canonicalization", err);
		buf_printf(err, "Canonicalization: '%s' is not simple or "
		    "relaxed, or two of them joined by /", c->v.canon);
		return -1;
	}
	if (strcasecmp(c->v.sigalg, "rsa-sha256") != 0 &&
	    strcasecmp(c->v.sigalg, "ed25519-sha256") != 0) {
		conf_at(&c->conf, "SignatureAlgorithm", err);
		buf_printf(err, "SignatureAlgorithm: '%s' is not rsa-sha256 "
		    "or ed25519-sha256", c->v.sigalg);
		return -1;
	}
	if (c->v.fixed_ts != NULL) {
		c->fixed_time = (time_t)strtoll(c->v.fixed_ts, &end, 10);
		if (*end != '\0' || c->fixed_time <= 0) {
			conf_at(&c->conf, "FixedTimestamp", err);
			buf_printf(err, "FixedTimestamp: '%s' is not a time in "
			    "seconds", c->v.fixed_ts);
			return -1;
		}
	}
	/* 0 means no minimum; the engine reads 0 as its default */
	c->min_key_bits = (unsigned)(rsa != NULL ? c->v.min_key_rsa :
	    c->v.min_key_bits);
	if (c->min_key_bits == 0)
		c->min_key_bits = 1;
	return 0;
}

/* key_user - the user the key should belong to: UserID, or us */
static void
key_user(const struct arcd_conf *c, uid_t *uid, gid_t *gid)
{
	struct buf err = BUF_INIT;

	*uid = geteuid();
	*gid = getegid();
	if (c->v.daemon.userid != NULL)
		(void)daemon_conf_user(c->v.daemon.userid, uid, gid, &err);
	buf_free(&err);
}

/* load_key - KeyFile, and what sealing needs with it */
static int
load_key(struct arcd_conf *c, struct buf *err)
{
	enum crypto_status st;
	enum safefile_status ss;
	struct buf why = BUF_INIT;
	int ed, fd;
	uid_t uid;
	gid_t gid;

	if (c->mode != 0 && !(c->mode & ARCD_MODE_SIGN))
		return 0;
	if (c->v.keyfile == NULL || c->v.domain == NULL ||
	    c->v.selector == NULL) {
		if (c->mode == 0 && c->v.keyfile == NULL &&
		    c->v.domain == NULL && c->v.selector == NULL) {
			buf_puts(&c->warnings, "no Mode, Domain, Selector or "
			    "KeyFile: mail from InternalHosts is passed "
			    "without a seal\n");
			return 0;
		}
		conf_at(&c->conf, "Mode", err);
		buf_puts(err, "sealing needs Domain, Selector and KeyFile");
		return -1;
	}
	if (!arc_domain_ok(c->v.domain, strlen(c->v.domain)) ||
	    !arc_domain_ok(c->v.selector, strlen(c->v.selector))) {
		conf_at(&c->conf, "Domain", err);
		buf_printf(err, "Domain '%s' or Selector '%s' is not a domain "
		    "name", c->v.domain, c->v.selector);
		return -1;
	}
	key_user(c, &uid, &gid);
	ss = safefile_open(c->v.keyfile, uid, gid, &fd, &why);
	if (ss == SAFEFILE_NOMEM || why.failed) {
		if (fd >= 0)
			close(fd);
		buf_free(&why);
		buf_puts(err, "out of memory");
		return -1;
	}
	if (ss == SAFEFILE_IO) {
		conf_at(&c->conf, "KeyFile", err);
		buf_printf(err, "KeyFile: %s: %s", c->v.keyfile,
		    strerror(errno));
		buf_free(&why);
		return -1;
	}
	/* judged on what was opened; the key is read from that descriptor */
	st = crypto_key_load_private_fd(fd, &c->key);
	close(fd);
	if (st != CRYPTO_OK) {
		conf_at(&c->conf, "KeyFile", err);
		buf_printf(err, "KeyFile: %s: %s", c->v.keyfile,
		    crypto_strerror(st));
		buf_free(&why);
		return -1;
	}
	ed = crypto_key_type(c->key) == CRYPTO_KEY_ED25519;
	if (ed != (strcasecmp(c->v.sigalg, "ed25519-sha256") == 0)) {
		conf_at(&c->conf, "SignatureAlgorithm", err);
		buf_printf(err, "SignatureAlgorithm %s does not fit the %s key "
		    "of KeyFile", c->v.sigalg, ed ? "Ed25519" : "RSA");
		buf_free(&why);
		return -1;
	}
	if (ss != SAFEFILE_OK) {
		conf_at(&c->conf, "KeyFile", &c->warnings);
		buf_printf(&c->warnings, "key file %s is %s%s%s\n",
		    c->v.keyfile, ss == SAFEFILE_UNSAFE ? "not safe: " : "",
		    why.s, c->v.require_safe ? " (RequireSafeKeys: until that "
		    "is fixed it is not used, and mail to seal is refused for "
		    "now)" : "");
		if (c->v.require_safe && asprintf(&c->key_error, "key file is "
		    "%s%s (RequireSafeKeys)", ss == SAFEFILE_UNSAFE ?
		    "not safe: " : "", why.s) < 0)
			c->key_error = NULL;
	}
	buf_free(&why);
	return 0;
}

/* traps - settings that work but probably do not do what was meant */
static void
traps(struct arcd_conf *c)
{
	struct buf *w = &c->warnings;

	if (c->internal != NULL && hostlist_has_all(c->internal)) {
		conf_at(&c->conf, "InternalHosts", w);
		buf_puts(w, "InternalHosts lists 0.0.0.0/0 or ::/0: every "
		    "client is internal\n");
	}
	if (c->peers != NULL && hostlist_has_all(c->peers)) {
		conf_at(&c->conf, "PeerList", w);
		buf_puts(w, "PeerList lists 0.0.0.0/0 or ::/0: no mail is "
		    "processed\n");
	}
}

/* arcd_conf_load - the runtime's load_config */
void *
arcd_conf_load(const char *path, const char *text, const char *overrides,
    struct buf *err)
{
	struct arcd_conf *c;
	const struct conf *cf;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	buf_init(&c->warnings);
	cf = &c->conf;
	if (daemon_conf_open(&c->conf, arcd_conf_table, arcd_conf_ntable, c,
	    &c->v.daemon, path, text, overrides, err) < 0)
		goto fail;
	if (c->v.include != NULL) {
		char *inc = strdup(c->v.include);

		if (inc == NULL || conf_load_file(&c->conf, inc, err) < 0 ||
		    daemon_conf_check(&c->v.daemon, cf, err) < 0) {
			free(inc);
			goto fail;
		}
		free(inc);
	}
	buf_puts(&c->warnings, buf_str(&c->conf.warnings));
	if (check_values(c, err) < 0 || load_key(c, err) < 0 ||
	    conf_hostlist(cf, "InternalHosts", c->v.internalhosts,
	    &c->internal, err, &c->warnings) < 0 ||
	    conf_hostlist(cf, "PeerList", c->v.peerlist, &c->peers, err,
	    &c->warnings) < 0 ||
	    (c->authserv_id = authres_servid_conf(c->v.authservid)) == NULL ||
	    conf_resolver(cf, c->v.nameservers, c->v.dns_timeout,
	    ARCD_DNS_CACHE, &c->dns, err) < 0)
		goto fail;
	traps(c);
	if (c->warnings.failed)
		goto fail;
	buf_puts(err, buf_str(&c->warnings));
	return c;
fail:
	if (err->len == 0)
		buf_puts(err, "out of memory");
	arcd_conf_free(c);
	return NULL;
}

/* arcd_conf_check_dns - for -n: does DNS publish the sealing key's
 * public half at Selector._domainkey.Domain? */
void
arcd_conf_check_dns(void *arg, struct buf *out)
{
	struct arcd_conf *c = arg;
	struct dns_answer *a = NULL;
	struct dkim_key pub;
	struct buf qname = BUF_INIT, mine = BUF_INIT, theirs = BUF_INIT;
	enum dns_status st;
	size_t start = out->len;

	if (c->key == NULL)
		return;
	memset(&pub, 0, sizeof(pub));
	buf_printf(&qname, "%s._domainkey.%s", c->v.selector, c->v.domain);
	conf_at(&c->conf, "KeyFile", out);
	st = dns_query(c->dns, buf_str(&qname), DNS_T_TXT, &a);
	if (st == DNS_NXDOMAIN || st == DNS_NODATA)
		buf_printf(out, "no key record is published at %s: seals made "
		    "with KeyFile will not validate\n", buf_str(&qname));
	else if (st != DNS_OK)
		buf_printf(out, "cannot look up %s: %s\n", buf_str(&qname),
		    dns_strerror(st));
	else if (a->n != 1)
		buf_printf(out, "%s has %zu TXT records, validators need "
		    "exactly one\n", buf_str(&qname), a->n);
	else if (dkim_key_parse(a->rr[0].text, a->rr[0].text_len, &pub) !=
	    DKIM_KEYREC_OK)
		buf_printf(out, "the record at %s is not a usable key\n",
		    buf_str(&qname));
	else if (crypto_key_public_raw(c->key, &mine) != CRYPTO_OK ||
	    crypto_key_public_raw(pub.pk, &theirs) != CRYPTO_OK ||
	    mine.len != theirs.len || memcmp(mine.s, theirs.s, mine.len) != 0)
		buf_printf(out, "KeyFile does not match the public key "
		    "published at %s: seals will fail\n", buf_str(&qname));
	else
		buf_truncate(out, start);	/* published: nothing to say */
	dkim_key_clear(&pub);
	if (a != NULL)
		dns_answer_free(a);
	buf_free(&qname);
	buf_free(&mine);
	buf_free(&theirs);
}

/* arcd_conf_free - release a configuration and all it owns */
void
arcd_conf_free(void *arg)
{
	struct arcd_conf *c = arg;

	if (c == NULL)
		return;
	if (c->internal != NULL)
		hostlist_free(c->internal);
	if (c->peers != NULL)
		hostlist_free(c->peers);
	if (c->dns != NULL)
		dns_free(c->dns);
	crypto_key_free(c->key);
	free(c->key_error);
	free(c->hdrnames);
	free(c->authserv_id);
	buf_free(&c->warnings);
	conf_free(&c->conf);
	free(c);
}
