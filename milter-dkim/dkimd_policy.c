/*
 * NAME
 *	dkimd_policy - who gets signed, with which key, and why
 * SYNOPSIS
 *	#include "dkimd_policy.h"
 * DESCRIPTION
 *	dkimd_policy_keys() loads the keys named by the KeyTable, or the
 *	single KeyFile, once, at configuration time, so that a bad key is
 *	reported by `-n` and at start-up rather than on the first message.
 *	A key file is opened, then judged by RequireSafeKeys' rules
 *	(safefile(3): what was opened, and every directory and symbolic
 *	link on its path), and only then read.
 *	A key that fails to load stays in the table with its error: mail
 *	that would be signed with it is temporarily refused, as OpenDKIM
 *	does, rather than sent unsigned.
 *
 *	dkimd_policy_decide() applies OpenDKIM's rules.  The SigningTable
 *	is searched, for a refile: table, for patterns matching
 *	"user@domain" in file order; for a file: table, for the keys
 *	"user@domain", "domain", then for each parent ".parent" the keys
 *	"user@.parent" and ".parent", then "user@*" and "*".  The first hit
 *	decides, or every hit with MultipleSignatures.  In a SigningTable
 *	value, "%" as the key name or in the signer stands for the
 *	sender's domain.
 * DIAGNOSTICS
 *	Reasons are appended to d->why in words an administrator can act
 *	on, naming the file and line that decided.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base64.h"
#include "buf.h"
#include "crypto.h"
#include "dataset.h"
#include "dkimd_policy.h"
#include "hostlist.h"
#include "safefile.h"

/* str_dup - strdup that tolerates NULL */
static char *
str_dup(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

/* key_free - release one key */
static void
key_free(struct dkimd_key *k)
{
	free(k->name);
	free(k->domain);
	free(k->selector);
	free(k->path);
	free(k->where);
	free(k->error);
	if (k->key != NULL)
		crypto_key_free(k->key);
}

/*
 * key_file - load k->key from the file k->path: opened first, then judged
 * (safefile(3)) before a byte is read.  With RequireSafeKeys a file that
 * others may read, or could replace, is not read at all.  The judgement is
 * a warning line; returns -1 on memory failure, 1 when the key's error is
 * already reported that way, else 0.
 */
static int
key_file(struct dkimd_key *k, const struct dkimd_keyrules *r,
    struct buf *msg, struct buf *warn)
{
	struct buf why = BUF_INIT;
	enum safefile_status ss;
	enum crypto_status st;
	int fd, e, reported = 0;

	ss = safefile_open(k->path, r->uid, r->gid, &fd, &why);
	if (ss == SAFEFILE_NOMEM || why.failed) {
		if (fd >= 0)
			close(fd);
		buf_free(&why);
		return -1;
	}
	if (ss == SAFEFILE_IO) {
		k->load_errno = errno;
		buf_printf(msg, "cannot load key file %s: %s", k->path,
		    strerror(k->load_errno));
	} else if (ss != SAFEFILE_OK) {
		buf_printf(warn, "%s: key file %s is %s%s%s\n", k->where,
		    k->path, ss == SAFEFILE_UNSAFE ? "not safe: " : "",
		    why.s, !r->require_safe ? "" : ss == SAFEFILE_UNSAFE ?
		    " (RequireSafeKeys: until that is fixed it is not used)" :
		    " (RequireSafeKeys: chmod 600 it; until then it is not "
		    "used)");
		if (r->require_safe) {
			buf_printf(msg, "key file %s is %s%s (RequireSafeKeys)",
			    k->path, ss == SAFEFILE_UNSAFE ? "not safe: " : "",
			    why.s);
			reported = 1;
		}
	}
	if (fd >= 0 && msg->len == 0) {
		st = crypto_key_load_private_fd(fd, &k->key);
		e = errno;
		if (st == CRYPTO_IO)
			k->load_errno = e;
		if (st != CRYPTO_OK)
			buf_printf(msg, "cannot load key file %s: %s", k->path,
			    st == CRYPTO_IO ? strerror(e) : crypto_strerror(st));
	}
	if (fd >= 0)
		close(fd);
	buf_free(&why);
	return reported;
}

/* key_load - load k->key from k->path or inline data; -1 on memory
 * failure, 1 when its error is already reported, else 0 */
static int
key_load(struct dkimd_key *k, const char *inline_data,
    const struct dkimd_keyrules *r, struct buf *warn)
{
	enum crypto_status st;
	struct buf der = BUF_INIT;
	struct buf msg = BUF_INIT;
	int reported = 0;

	if (k->path != NULL) {
		if ((reported = key_file(k, r, &msg, warn)) < 0) {
			buf_free(&msg);
			return -1;
		}
	} else if (strstr(inline_data, "-----BEGIN") != NULL) {
		st = crypto_key_load_private(inline_data, strlen(inline_data),
		    &k->key);
		if (st != CRYPTO_OK)
			buf_printf(&msg, "inline key: %s", crypto_strerror(st));
	} else if (base64_decode(&der, inline_data, strlen(inline_data)) !=
	    BASE64_OK) {
		buf_puts(&msg, "inline key is neither a file name nor base64");
	} else {
		st = crypto_key_load_private(der.s, der.len, &k->key);
		if (st != CRYPTO_OK)
			buf_printf(&msg, "inline key: %s", crypto_strerror(st));
	}
	if (msg.len > 0 && (k->error = buf_detach(&msg)) == NULL)
		reported = -1;
	buf_free(&msg);
	buf_free(&der);
	return reported;
}

/* keytable_entry - parse "domain:selector:keypath" into k */
static int
keytable_entry(struct dkimd_key *k, const struct dataset_entry *e,
    const char *file, const struct dkimd_keyrules *r, struct buf *warn)
{
	const char *v = e->value != NULL ? e->value : "";
	const char *c1, *c2, *rest;
	struct buf where = BUF_INIT;
	int reported;

	buf_printf(&where, "%s:%d", file != NULL ? file : "KeyTable", e->line);
	k->where = buf_detach(&where);
	k->name = strdup(e->key);
	if (k->where == NULL || k->name == NULL)
		return -1;
	if ((c1 = strchr(v, ':')) == NULL || (c2 = strchr(c1 + 1, ':')) == NULL ||
	    c1 == v || c2 == c1 + 1 || c2[1] == '\0') {
		k->error = strdup("KeyTable value is not domain:selector:keyfile");
		buf_printf(warn, "%s: key '%s': KeyTable value '%s' is not "
		    "domain:selector:keyfile\n", k->where, k->name, v);
		return k->error != NULL ? 0 : -1;
	}
	k->domain = strndup(v, (size_t)(c1 - v));
	k->selector = strndup(c1 + 1, (size_t)(c2 - c1 - 1));
	rest = c2 + 1;
	if (rest[0] == '/' || rest[0] == '.')
		k->path = strdup(rest);
	if (k->domain == NULL || k->selector == NULL ||
	    (k->path == NULL && (rest[0] == '/' || rest[0] == '.')))
		return -1;
	if ((reported = key_load(k, rest, r, warn)) < 0)
		return -1;
	if (k->error != NULL && !reported)
		buf_printf(warn, "%s: key '%s': %s\n", k->where, k->name,
		    k->error);
	return 0;
}

/* dkimd_policy_keys - load the KeyTable keys, or the single KeyFile */
int
dkimd_policy_keys(struct dkimd_policy *p, const char *keyfile,
    const char *selector, const struct dkimd_keyrules *r, struct buf *warn)
{
	size_t i;
	int reported;

	if (p->keytable != NULL) {
		p->keys = calloc(p->keytable->n ? p->keytable->n : 1,
		    sizeof(*p->keys));
		if (p->keys == NULL)
			return -1;
		for (i = 0; i < p->keytable->n; i++) {
			if (keytable_entry(&p->keys[i], &p->keytable->entries[i],
			    p->keytable->path, r, warn) < 0)
				return -1;
			p->nkeys++;
		}
		return 0;
	}
	if (keyfile == NULL && selector == NULL)
		return 0;
	if ((p->single = calloc(1, sizeof(*p->single))) == NULL)
		return -1;
	p->single->name = strdup("KeyFile");
	p->single->domain = strdup("%");
	p->single->selector = str_dup(selector);
	p->single->path = str_dup(keyfile);
	p->single->where = strdup("KeyFile");
	if (p->single->name == NULL || p->single->domain == NULL ||
	    p->single->where == NULL)
		return -1;
	if (keyfile == NULL || selector == NULL) {
		p->single->error = strdup(keyfile == NULL ?
		    "Selector is set but KeyFile is not" :
		    "KeyFile is set but Selector is not");
		buf_printf(warn, "%s\n", p->single->error);
		return 0;
	}
	if ((reported = key_load(p->single, NULL, r, warn)) < 0)
		return -1;
	if (p->single->error != NULL && !reported)
		buf_printf(warn, "KeyFile: %s\n", p->single->error);
	return 0;
}

/* dkimd_policy_key - the KeyTable key of that name, or NULL */
const struct dkimd_key *
dkimd_policy_key(const struct dkimd_policy *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->nkeys; i++)
		if (strcasecmp(p->keys[i].name, name) == 0)
			return &p->keys[i];
	return NULL;
}

/* macro_match - does one MacroList entry ("name" or "name=v1|v2") hold? */
static int
macro_match(const struct dkimd_client *c, const char *entry)
{
	char name[128];
	const char *eq, *val, *v;
	size_t n;

	eq = strchr(entry, '=');
	n = eq != NULL ? (size_t)(eq - entry) : strlen(entry);
	if (n == 0 || n + 3 > sizeof(name) || c->macro == NULL)
		return 0;
	snprintf(name, sizeof(name), "{%.*s}", (int)n, entry);
	if ((val = c->macro(c->macro_arg, name)) == NULL || *val == '\0')
		return 0;
	if (eq == NULL)
		return 1;
	for (v = eq + 1; *v != '\0';) {
		size_t len = strcspn(v, "|");

		if (len == strlen(val) && strncasecmp(v, val, len) == 0)
			return 1;
		v += len;
		if (*v == '|')
			v++;
	}
	return 0;
}

/* decide_origin - may this client sign?  Sets d->origin, explains */
static void
decide_origin(const struct dkimd_policy *p, const struct dkimd_client *c,
    struct dkimd_decision *d)
{
	const struct dataset_entry *e;
	const char *why;
	size_t i;
	int matched = 0;

	if (p->mtas != NULL && c->daemon != NULL &&
	    (e = dataset_lookup(p->mtas, c->daemon)) != NULL) {
		buf_printf(&d->why, "origin: arrived on MTA '%s' (MTA list)\n",
		    c->daemon);
		d->origin = 1;
		return;
	}
	for (i = 0; p->macros != NULL && i < p->macros->n; i++)
		if (macro_match(c, p->macros->entries[i].key)) {
			buf_printf(&d->why, "origin: MacroList entry '%s' "
			    "matches\n", p->macros->entries[i].key);
			d->origin = 1;
			return;
		}
	why = p->internal == NULL ? NULL : c->sa != NULL ?
	    hostlist_why(p->internal, c->sa, c->hostname, &matched) :
	    hostlist_why_addr(p->internal, c->addr, c->hostname, &matched);
	if (matched) {
		buf_printf(&d->why, "origin: client %s%s%s%s is internal "
		    "(InternalHosts %s)\n", c->addr ? c->addr : "?",
		    c->hostname ? " (" : "", c->hostname ? c->hostname : "",
		    c->hostname ? ")" : "", why);
		d->origin = 1;
		return;
	}
	if (c->auth != NULL && *c->auth != '\0') {
		buf_printf(&d->why, "origin: client authenticated as '%s'\n",
		    c->auth);
		d->origin = 1;
		return;
	}
	buf_printf(&d->why, "origin: client %s%s%s%s is not internal%s%s and "
	    "not authenticated\n", c->addr ? c->addr : "?",
	    c->hostname ? " (" : "", c->hostname ? c->hostname : "",
	    c->hostname ? ")" : "", why != NULL ? ": excluded by InternalHosts " :
	    "", why != NULL ? why : "");
}

/* lower_dup - lower-cased copy */
static char *
lower_dup(const char *s)
{
	char *r = strdup(s), *q;

	for (q = r; q != NULL && *q != '\0'; q++)
		*q = (char)tolower((unsigned char)*q);
	return r;
}

/* subst_domain - copy tmpl with each "%" replaced by the domain */
static char *
subst_domain(const char *tmpl, size_t len, const char *domain)
{
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; i < len; i++) {
		if (tmpl[i] == '%')
			buf_puts(&b, domain);
		else
			buf_putc(&b, tmpl[i]);
	}
	return buf_detach(&b);
}

/* add_request - turn a SigningTable hit into a signing request */
static int
add_request(const struct dkimd_policy *p, const struct dataset_entry *e,
    const char *domain, struct dkimd_decision *d)
{
	const char *v = e->value != NULL ? e->value : "";
	size_t klen = strcspn(v, " \t");
	const char *signer = v + klen;
	struct dkimd_signreq *r;
	char *keyname;
	const struct dkimd_key *k;

	while (*signer == ' ' || *signer == '\t')
		signer++;
	if ((keyname = subst_domain(v, klen, domain)) == NULL)
		return -1;
	k = dkimd_policy_key(p, keyname);
	if (k == NULL) {
		buf_printf(&d->why, "sign: %s:%d: SigningTable entry '%s' names "
		    "key '%s', which the KeyTable lacks\n",
		    p->signingtable->path, e->line, e->key, keyname);
		d->tempfail = 1;
		free(keyname);
		return 0;
	}
	free(keyname);
	if (k->error != NULL || k->key == NULL) {
		buf_printf(&d->why, "sign: %s:%d: key '%s' (%s) cannot be used: "
		    "%s\n", p->signingtable->path, e->line, k->name, k->where,
		    k->error ? k->error : "not loaded");
		d->tempfail = 1;
		return 0;
	}
	if (d->nreq >= DKIMD_MAX_SIGNREQ)
		return 0;
	r = &d->req[d->nreq];
	r->key = k;
	r->domain = strcmp(k->domain, "%") == 0 ? strdup(domain) :
	    strdup(k->domain);
	r->identity = *signer != '\0' ?
	    subst_domain(signer, strlen(signer), domain) : NULL;
	if (asprintf(&r->where, "%s:%d", p->signingtable->path ?
	    p->signingtable->path : "SigningTable", e->line) < 0)
		r->where = NULL;
	if (r->domain == NULL || r->where == NULL)
		return -1;
	d->nreq++;
	buf_printf(&d->why, "sign: %s: SigningTable entry '%s' matches: key "
	    "'%s' (%s), d=%s s=%s\n", r->where, e->key, k->name, k->where,
	    r->domain, k->selector);
	return 0;
}

/* signtable_file - the lookup order of a file: SigningTable */
static int
signtable_file(const struct dkimd_policy *p, const char *local,
    const char *domain, struct dkimd_decision *d)
{
	const struct dataset_entry *e;
	const char *dot;
	char *key;
	int r;

	for (dot = NULL;;) {
		/* "user@domain", "domain", then "user@.parent", ".parent" */
		const char *dom = dot != NULL ? dot : domain;
		int pass;

		for (pass = 0; pass < 2; pass++) {
			if (pass == 0 && asprintf(&key, "%s@%s", local, dom) < 0)
				return -1;
			if (pass == 1 && (key = strdup(dom)) == NULL)
				return -1;
			e = dataset_lookup(p->signingtable, key);
			free(key);
			if (e != NULL) {
				if ((r = add_request(p, e, domain, d)) < 0)
					return r;
				if (!p->multisig)
					return 0;
			}
		}
		dot = strchr(dot != NULL ? dot + 1 : domain, '.');
		if (dot == NULL)
			break;
	}
	if (asprintf(&key, "%s@*", local) < 0)
		return -1;
	e = dataset_lookup(p->signingtable, key);
	free(key);
	if (e != NULL && ((r = add_request(p, e, domain, d)) < 0 ||
	    !p->multisig))
		return r < 0 ? r : 0;
	if ((e = dataset_lookup(p->signingtable, "*")) != NULL)
		return add_request(p, e, domain, d);
	return 0;
}

/* signtable_re - the lookup of a refile: SigningTable, in file order */
static int
signtable_re(const struct dkimd_policy *p, const char *local,
    const char *domain, struct dkimd_decision *d)
{
	char *addr;
	size_t i;
	int r = 0;

	if (asprintf(&addr, "%s@%s", local, domain) < 0)
		return -1;
	for (i = 0; i < p->signingtable->n; i++) {
		const struct dataset_entry *e = &p->signingtable->entries[i];

		if (!dataset_match(e->key, addr))
			continue;
		if ((r = add_request(p, e, domain, d)) < 0 || !p->multisig)
			break;
	}
	free(addr);
	return r;
}

/* decide_domains - the Domain list with the single key */
static int
decide_domains(const struct dkimd_policy *p, const char *domain,
    struct dkimd_decision *d)
{
	const char *dom = domain;
	struct dkimd_signreq *r;

	if (p->domains == NULL || p->single == NULL) {
		buf_puts(&d->why, "sign: no KeyTable/SigningTable and no "
		    "Domain with KeyFile and Selector: nothing is signed\n");
		return 0;
	}
	while (dataset_lookup(p->domains, dom) == NULL &&
	    dataset_lookup(p->domains, "*") == NULL) {
		if (!p->subdomains || (dom = strchr(dom, '.')) == NULL ||
		    *++dom == '\0') {
			buf_printf(&d->why, "sign: '%s' is not in Domain%s\n",
			    domain, p->subdomains ? " (nor a subdomain)" : "");
			return 0;
		}
	}
	if (p->single->error != NULL || p->single->key == NULL) {
		buf_printf(&d->why, "sign: the KeyFile key cannot be used: %s\n",
		    p->single->error ? p->single->error : "not loaded");
		d->tempfail = 1;
		return 0;
	}
	r = &d->req[d->nreq];
	r->key = p->single;
	r->domain = strdup(dataset_lookup(p->domains, dom) != NULL ? dom :
	    domain);
	r->identity = NULL;
	r->where = strdup("Domain");
	if (r->domain == NULL || r->where == NULL)
		return -1;
	d->nreq++;
	buf_printf(&d->why, "sign: '%s' is in Domain: d=%s s=%s with KeyFile "
	    "%s\n", domain, r->domain, p->single->selector, p->single->path);
	return 0;
}

/* drop_requests - forget the signing requests and key problems */
static void
drop_requests(struct dkimd_decision *d)
{
	size_t i;

	for (i = 0; i < d->nreq; i++) {
		free(d->req[i].domain);
		free(d->req[i].identity);
		free(d->req[i].where);
	}
	d->nreq = 0;
	d->tempfail = 0;
}

/* dkimd_policy_decide - apply the rules to one message */
int
dkimd_policy_decide(const struct dkimd_policy *p, const struct dkimd_client *c,
    const char *local, const char *domain, struct dkimd_decision *d)
{
	char *dom = NULL;
	int r = 0, held = 0;

	memset(d, 0, sizeof(*d));
	buf_init(&d->why);
	decide_origin(p, c, d);
	if (d->origin) {
		if (domain == NULL || *domain == '\0') {
			buf_puts(&d->why, "sign: no sender domain (From:)\n");
		} else if ((dom = lower_dup(domain)) == NULL) {
			r = -1;
		} else if (p->keytable != NULL && p->signingtable != NULL) {
			r = p->signingtable->kind == DATASET_REFILE ?
			    signtable_re(p, local ? local : "", dom, d) :
			    signtable_file(p, local ? local : "", dom, d);
			if (r == 0 && d->nreq == 0 && !d->tempfail)
				buf_printf(&d->why, "sign: no SigningTable "
				    "(%s) entry matches '%s@%s'\n",
				    p->signingtable->path ?
				    p->signingtable->path : "inline",
				    local ? local : "", dom);
		} else {
			r = decide_domains(p, dom, d);
		}
	}
	free(dom);
	/* OpenDKIM: mail that would be signed, with Mode lacking s, is
	 * passed on unchanged, neither signed nor verified */
	if (!p->sign_mode && (d->nreq > 0 || d->tempfail)) {
		held = 1;
		drop_requests(d);
		buf_puts(&d->why, "sign: Mode does not include s: mail that "
		    "would be signed is passed unchanged\n");
	}
	/* a key that cannot be used refuses the message for now, even when
	 * other keys would sign it (OpenDKIM: no half-signed mail) */
	d->sign = d->nreq > 0 && !d->tempfail;
	d->verify = !d->sign && !d->tempfail && !held && p->verify_mode;
	if (!d->sign && !d->tempfail && !held)
		buf_puts(&d->why, d->verify ? "verify: the message is verified\n"
		    : "verify: Mode does not include v: passed unchanged\n");
	if (d->why.failed)
		r = -1;
	return r;
}

/* dkimd_decision_free - release a decision's strings */
void
dkimd_decision_free(struct dkimd_decision *d)
{
	drop_requests(d);
	buf_free(&d->why);
}

/* dkimd_policy_free - release everything the policy owns */
void
dkimd_policy_free(struct dkimd_policy *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->nkeys; i++)
		key_free(&p->keys[i]);
	free(p->keys);
	if (p->single != NULL) {
		key_free(p->single);
		free(p->single);
	}
	if (p->keytable != NULL)
		dataset_free(p->keytable);
	if (p->signingtable != NULL)
		dataset_free(p->signingtable);
	if (p->domains != NULL)
		dataset_free(p->domains);
	if (p->mtas != NULL)
		dataset_free(p->mtas);
	if (p->macros != NULL)
		dataset_free(p->macros);
	if (p->internal != NULL)
		hostlist_free(p->internal);
	memset(p, 0, sizeof(*p));
}
