/*
 * NAME
 *	milter-dkim-testkey - check a published DKIM key record
 * SYNOPSIS
 *	milter-dkim-testkey [-v] -d domain -s selector [-k keyfile]
 *	    [-n nameservers] [-W seconds]
 * DESCRIPTION
 *	Looks up the TXT record at selector._domainkey.domain through the
 *	resolver of common/util/dns.c (the servers of -n, else those of
 *	resolv.conf), parses it as verifiers do (dkim_key_parse) and
 *	reports, one line each, what is wrong with it: no record, a DNS
 *	failure, several records, a syntax error (naming the tag), a
 *	revoked key, a key that is too short, hashes that exclude sha256.
 *	Testing mode (t=y) and keys shorter than 2048 bits are warnings.
 *	Whether the answer was DNSSEC-validated (AD bit) is reported for
 *	information.
 *
 *	With -k the private key file is read too: its type must match k=
 *	and its public half must equal the published key, compared as the
 *	bytes DKIM publishes (SubjectPublicKeyInfo DER for RSA, the 32 raw
 *	bytes for Ed25519).  A key file that other users may read or write
 *	draws a warning.
 * DIAGNOSTICS
 *	Errors and warnings go to standard error, information and the final
 *	"key OK" to standard output.  Exit 0 when the key is usable
 *	(warnings allowed), 1 when it is not, 2 on usage errors.
 * SEE ALSO
 *	milter-dkim-testkey(8), milter-dkim-genkey(8)
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base64.h"
#include "buf.h"
#include "crypto.h"
#include "dkim.h"
#include "dns.h"
#include "tagvalue.h"

#ifndef VERSION
#define VERSION "unknown"
#endif

#define PROG		"milter-dkim-testkey"
#define BITS_GOOD	2048	/* recommended RSA size */
#define BITS_MAX	4096	/* RFC 8301: verifiers need not go beyond */
#define TIMEOUT_DEFAULT	5	/* seconds (the resolver's default) */
#define TIMEOUT_MAX	300	/* seconds of -W */
#define SHOW_MAX	40	/* bytes of a tag value quoted in a message */

enum level { INFO, WARNING, ERROR };

struct testkey {
	const char	*domain;
	const char	*selector;
	const char	*keyfile;
	const char	*nameservers;
	int		 timeout;	/* seconds, 0: the resolver's */
	int		 verbose;
	struct buf	 qname;
	unsigned	 errors;
	unsigned	 warnings;
};

/* The tags named in messages, as dkim_key.c knows them. */
enum { T_V, T_H, T_K, T_P, T_S, T_T, T_MAX };
static const char *const tag_names[T_MAX] = { "v", "h", "k", "p", "s", "t" };

/* usage - print the synopsis; exit with status */
static void
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: " PROG " [-v] -d domain -s selector [-k keyfile]\n"
	    "\t[-n nameservers] [-W seconds]\n"
	    "\t-d domain\tthe signing domain (d=)\n"
	    "\t-s selector\tthe selector (s=)\n"
	    "\t-k keyfile\tcheck that this private key matches the record\n"
	    "\t-n servers\tname servers to ask, \"addr[:port]\" separated by "
	    "commas\n"
	    "\t\t\t(default: those of /etc/resolv.conf)\n"
	    "\t-W seconds\tDNS timeout (default 5)\n"
	    "\t-v\t\tshow the record and each check passed\n"
	    "\t-V\t\tprint the version\n");
	exit(status);
}

/* say - one message about the key; errors and warnings are counted */
static void __attribute__((format(printf, 3, 4)))
say(struct testkey *t, enum level lv, const char *fmt, ...)
{
	FILE *fp = lv == INFO ? stdout : stderr;
	va_list ap;

	if (lv == ERROR)
		t->errors++;
	else if (lv == WARNING)
		t->warnings++;
	if (lv != INFO)
		fprintf(fp, PROG ": ");
	fprintf(fp, "%s: %s", t->qname.s, lv == ERROR ? "error: " :
	    lv == WARNING ? "warning: " : "");
	va_start(ap, fmt);
	vfprintf(fp, fmt, ap);
	va_end(ap);
	fputc('\n', fp);
	fflush(fp);
}

/* printable - s[0..len) with bytes outside printable ASCII as \DDD */
static const char *
printable(struct buf *out, const char *s, size_t len)
{
	unsigned char c;
	size_t i;

	buf_reset(out);
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c < 0x20 || c > 0x7e || c == '\\')
			buf_printf(out, "\\%03u", c);
		else
			buf_putc(out, c);
	}
	buf_append(out, "", 0);
	return out->failed ? "(out of memory)" : out->s;
}

/* lookup - the one TXT record at the key's name; 0, or -1 (reported) */
static int
lookup(struct testkey *t, struct dns_resolver *r, struct buf *rec,
    int *secure)
{
	struct dns_answer *a = NULL;
	enum dns_status st;

	if (t->verbose)
		say(t, INFO, "asking %s for TXT", t->nameservers != NULL ?
		    t->nameservers : "the servers of /etc/resolv.conf");
	switch ((st = dns_query(r, t->qname.s, DNS_T_TXT, &a))) {
	case DNS_OK:
		break;
	case DNS_NXDOMAIN:
		say(t, ERROR, "no key record: the name does not exist "
		    "(NXDOMAIN)");
		return -1;
	case DNS_NODATA:
		say(t, ERROR, "no key record: the name has no TXT record "
		    "(NODATA)");
		return -1;
	case DNS_TIMEOUT:
		say(t, ERROR, "DNS timeout: no answer from %s in %d s",
		    t->nameservers != NULL ? t->nameservers :
		    "the name servers of /etc/resolv.conf", t->timeout ?
		    t->timeout : TIMEOUT_DEFAULT);
		return -1;
	default:
		say(t, ERROR, "DNS error: %s (a server failure, a refusal or "
		    "a network error)", dns_strerror(st));
		return -1;
	}
	*secure = a->secure;
	if (a->n != 1) {
		say(t, ERROR, "%zu TXT records: a key must be published as "
		    "exactly one record (verifiers take several as an error)",
		    a->n);
		dns_answer_free(a);
		return -1;
	}
	buf_append(rec, a->rr[0].text, a->rr[0].text_len);
	if (t->verbose)
		say(t, INFO, "TXT record in %u string%s, %zu bytes",
		    a->rr[0].nstrings, a->rr[0].nstrings == 1 ? "" : "s",
		    a->rr[0].text_len);
	dns_answer_free(a);
	if (rec->failed) {
		say(t, ERROR, "out of memory");
		return -1;
	}
	return 0;
}

/* is_fws - 1 for the white space of tag lists */
static int
is_fws(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* spec_around - the tag-spec holding offset off, white space cut */
static void
spec_around(const char *rec, size_t len, size_t off, size_t *b, size_t *e)
{
	if (off > len)
		off = len;
	for (*b = off; *b > 0 && rec[*b - 1] != ';'; (*b)--)
		;
	for (*e = off; *e < len && rec[*e] != ';'; (*e)++)
		;
	while (*b < *e && is_fws(rec[*b]))
		(*b)++;
	while (*e > *b && is_fws(rec[*e - 1]))
		(*e)--;
}

/* syntax_error - say where a record that is no tag list goes wrong */
static void
syntax_error(struct testkey *t, const char *rec, size_t len)
{
	struct tagvalue tv[T_MAX];
	struct buf show = BUF_INIT;
	enum tagvalue_status st;
	size_t off = 0, b, e;

	if (len > DKIM_KEY_RECORD_MAX) {
		say(t, ERROR, "syntax error: the record has %zu bytes, "
		    "more than the %u verifiers accept", len,
		    DKIM_KEY_RECORD_MAX);
		return;
	}
	st = tagvalue_parse(rec, len, tag_names, T_MAX, tv, &off);
	if (st == TAGVALUE_DUPLICATE) {
		/* off is where the repeated tag-name (ALNUMPUNC) starts */
		for (e = off; e < len && (isalnum((unsigned char)rec[e]) ||
		    rec[e] == '_'); e++)
			;
		say(t, ERROR, "syntax error: tag %.*s= appears more than "
		    "once", (int)(e - off), rec + off);
	} else if (st == TAGVALUE_SYNTAX) {
		spec_around(rec, len, off, &b, &e);
		say(t, ERROR, "syntax error at byte %zu, in \"%s\": not "
		    "tag=value", off + 1, printable(&show, rec + b,
		    e - b < SHOW_MAX ? e - b : SHOW_MAX));
	} else
		say(t, ERROR, "syntax error: %s", tagvalue_strerror(st));
	buf_free(&show);
}

/* bad_key - say why p= does not decode to a key of type k= */
static void
bad_key(struct testkey *t, const struct tagvalue *p, const char *kname)
{
	struct buf der = BUF_INIT;
	struct crypto_key *other = NULL;

	if (base64_decode(&der, p->value, p->len) != BASE64_OK)
		say(t, ERROR, "p= is not valid base64");
	else if (strcmp(kname, "ed25519") == 0)
		say(t, ERROR, "p= holds %zu bytes, not an Ed25519 key (32 "
		    "bytes)%s", der.len, crypto_key_from_public(CRYPTO_KEY_RSA,
		    (unsigned char *)der.s, der.len, &other) == CRYPTO_OK ?
		    "; it is an RSA key: k=rsa is wanted" : "");
	else
		say(t, ERROR, "p= is not an RSA public key%s",
		    der.len == CRYPTO_ED25519_LEN ? " (its 32 bytes look like "
		    "an Ed25519 key: k=ed25519 is wanted)" : "");
	crypto_key_free(other);
	buf_free(&der);
}

/* show_value - a tag's value for a message */
static const char *
show_value(struct buf *b, const struct tagvalue *v)
{
	return printable(b, v->value, v->len < SHOW_MAX ? v->len : SHOW_MAX);
}

/* check_record - parse the record as verifiers do; 0 when usable */
static int
check_record(struct testkey *t, const struct buf *rec, struct dkim_key *key)
{
	struct tagvalue tv[T_MAX];
	struct buf show = BUF_INIT, k = BUF_INIT;
	enum dkim_key_error e;
	const char *kname;

	if (t->verbose)
		say(t, INFO, "record: %s", printable(&show, rec->s, rec->len));
	if ((e = dkim_key_parse(rec->s, rec->len, key)) == DKIM_KEYREC_SYNTAX)
		syntax_error(t, rec->s, rec->len);
	if (e == DKIM_KEYREC_OK || e == DKIM_KEYREC_SYNTAX ||
	    tagvalue_parse(rec->s, rec->len, tag_names, T_MAX, tv, NULL) !=
	    TAGVALUE_OK) {
		buf_free(&show);
		return e == DKIM_KEYREC_OK ? 0 : -1;
	}
	kname = tv[T_K].value == NULL ? "rsa" : show_value(&k, &tv[T_K]);
	switch (e) {
	case DKIM_KEYREC_VERSION:
		say(t, ERROR, "v=%s: when present, v= must be the first tag "
		    "and say DKIM1", show_value(&show, &tv[T_V]));
		break;
	case DKIM_KEYREC_KEYTYPE:
		say(t, ERROR, "k=%s: unknown key type (rsa or ed25519)", kname);
		break;
	case DKIM_KEYREC_NOKEY:
		say(t, ERROR, "no p= tag: the record holds no public key");
		break;
	case DKIM_KEYREC_REVOKED:
		say(t, ERROR, "key revoked: p= is empty");
		break;
	case DKIM_KEYREC_BADKEY:
		bad_key(t, &tv[T_P], kname);
		break;
	case DKIM_KEYREC_SERVICE:
		say(t, ERROR, "s=%s: the key is not for email (s= must list "
		    "email or *)", show_value(&show, &tv[T_S]));
		break;
	default:
		say(t, ERROR, "%s", dkim_key_strerror(e));
	}
	buf_free(&show);
	buf_free(&k);
	return -1;
}

/* check_key - size, hashes and flags of a parsed key */
static void
check_key(struct testkey *t, const struct dkim_key *key)
{
	unsigned bits = crypto_key_bits(key->pk);

	if (key->type == CRYPTO_KEY_ED25519 && t->verbose)
		say(t, INFO, "Ed25519 key");
	else if (key->type == CRYPTO_KEY_RSA && bits < DKIM_MIN_KEY_BITS)
		say(t, ERROR, "key too short: %u-bit RSA key; verifiers "
		    "reject keys under %u bits (RFC 8301), make a %u-bit key",
		    bits, DKIM_MIN_KEY_BITS, BITS_GOOD);
	else if (key->type == CRYPTO_KEY_RSA && bits < BITS_GOOD)
		say(t, WARNING, "%u-bit RSA key: %u bits are recommended",
		    bits, BITS_GOOD);
	else if (key->type == CRYPTO_KEY_RSA && bits > BITS_MAX)
		say(t, WARNING, "%u-bit RSA key: verifiers need not handle "
		    "keys over %u bits (RFC 8301)", bits, BITS_MAX);
	else if (t->verbose)
		say(t, INFO, "%u-bit RSA key", bits);
	if (!(key->hashes & DKIM_KEYHASH_SHA256))
		say(t, ERROR, "h= does not list sha256, the only hash "
		    "verifiers accept (RFC 8301)");
	if (key->testing)
		say(t, WARNING, "t=y: the key is in testing mode; verifiers "
		    "may treat failures leniently");
	if (key->strict && t->verbose)
		say(t, INFO, "t=s: i= must be in the domain itself, not in "
		    "a subdomain");
}

/* key_mode - warn when others may read or write the key file */
static void
key_mode(struct testkey *t)
{
	struct stat st;

	if (stat(t->keyfile, &st) != 0 || !(st.st_mode & (S_IRWXO | S_IWGRP)))
		return;
	say(t, WARNING, "%s can be read or written by other users (mode "
	    "%04o): chmod 600 it, or 640 for the signer's group", t->keyfile,
	    (unsigned)(st.st_mode & 07777));
}

/* load_private - the key file of -k; NULL when it cannot be used */
static struct crypto_key *
load_private(struct testkey *t)
{
	struct crypto_key *k = NULL;
	enum crypto_status st;

	if ((st = crypto_key_load_private_file(t->keyfile, &k)) != CRYPTO_OK) {
		if (st == CRYPTO_IO)
			say(t, ERROR, "cannot read %s: %s", t->keyfile,
			    strerror(errno));
		else
			say(t, ERROR, "%s: %s", t->keyfile,
			    st == CRYPTO_BADKEY ? "no private key in it" :
			    crypto_strerror(st));
		return NULL;
	}
	key_mode(t);
	return k;
}

/* check_match - the private key against the published one */
static void
check_match(struct testkey *t, const struct crypto_key *priv,
    const struct dkim_key *key)
{
	struct buf a = BUF_INIT, b = BUF_INIT;
	enum crypto_keytype pt = crypto_key_type(priv);

	if (pt != key->type) {
		say(t, ERROR, "key type mismatch: the record says k=%s, %s "
		    "holds an %s key", key->type == CRYPTO_KEY_RSA ? "rsa" :
		    "ed25519", t->keyfile, pt == CRYPTO_KEY_RSA ? "RSA" :
		    "Ed25519");
		return;
	}
	if (crypto_key_public_raw(priv, &a) != CRYPTO_OK ||
	    crypto_key_public_raw(key->pk, &b) != CRYPTO_OK)
		say(t, ERROR, "cannot compare the keys: out of memory");
	else if (a.len != b.len || memcmp(a.s, b.s, a.len) != 0)
		say(t, ERROR, "the published key does not match the private "
		    "key in %s", t->keyfile);
	else if (t->verbose)
		say(t, INFO, "the private key in %s matches", t->keyfile);
	buf_free(&a);
	buf_free(&b);
}

/* testkey - every check; the exit status */
static int
testkey(struct testkey *t)
{
	struct dns_opts o = { NULL, 0, 0, 0 };
	struct dns_resolver *r;
	struct crypto_key *priv = NULL;
	struct dkim_key key;
	struct buf rec = BUF_INIT, err = BUF_INIT;
	int secure = 0;

	memset(&key, 0, sizeof(key));
	o.nameservers = t->nameservers;
	o.timeout_ms = (t->timeout ? t->timeout : TIMEOUT_DEFAULT) * 1000;
	if ((r = dns_new_system(&o, &err)) == NULL) {
		fprintf(stderr, PROG ": %s\n", err.failed ? "out of memory" :
		    buf_str(&err));
		buf_free(&err);
		return 2;
	}
	if (t->keyfile != NULL)
		priv = load_private(t);
	if (lookup(t, r, &rec, &secure) == 0 &&
	    check_record(t, &rec, &key) == 0) {
		check_key(t, &key);
		if (priv != NULL)
			check_match(t, priv, &key);
		say(t, INFO, "%s", secure ? "key secure (DNSSEC-validated "
		    "answer)" : "key not secure (the answer was not "
		    "DNSSEC-validated)");
	}
	if (t->errors == 0)
		say(t, INFO, "key OK%s", t->warnings ? " (see the warnings)" :
		    "");
	dkim_key_clear(&key);
	crypto_key_free(priv);
	dns_free(r);
	buf_free(&rec);
	buf_free(&err);
	return t->errors == 0 ? 0 : 1;
}

/* parse_timeout - the -W argument */
static int
parse_timeout(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (*s < '0' || *s > '9' || *end != '\0' || errno != 0 || v < 1 ||
	    v > TIMEOUT_MAX) {
		fprintf(stderr, PROG ": bad timeout \"%s\" (1 to %d seconds)\n",
		    s, TIMEOUT_MAX);
		exit(2);
	}
	return (int)v;
}

int
main(int argc, char **argv)
{
	struct testkey t;
	int ch, rc;

	memset(&t, 0, sizeof(t));
	while ((ch = getopt(argc, argv, "d:hk:n:s:vVW:")) != -1) {
		switch (ch) {
		case 'd':
			t.domain = optarg;
			break;
		case 'h':
			usage(0);
			break;
		case 'k':
			t.keyfile = optarg;
			break;
		case 'n':
			t.nameservers = optarg;
			break;
		case 's':
			t.selector = optarg;
			break;
		case 'v':
			t.verbose = 1;
			break;
		case 'V':
			printf(PROG " %s\n", VERSION);
			return 0;
		case 'W':
			t.timeout = parse_timeout(optarg);
			break;
		default:
			usage(2);
		}
	}
	if (optind != argc || t.domain == NULL || t.selector == NULL)
		usage(2);
	buf_printf(&t.qname, "%s._domainkey.%s", t.selector, t.domain);
	if (t.qname.failed || !dns_name_valid(t.qname.s) ||
	    !dns_name_valid(t.selector) || !dns_name_valid(t.domain) ||
	    t.selector[strlen(t.selector) - 1] == '.') {
		fprintf(stderr, PROG ": bad selector or domain: \"%s\"\n",
		    t.qname.failed ? "" : t.qname.s);
		buf_free(&t.qname);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	rc = testkey(&t);
	buf_free(&t.qname);
	return rc;
}
