/*
 * dkimd_msg - one message through milter-dkim as the milter callbacks
 * drive it: signatures that verify, Authentication-Results with the
 * right result and properties, forged results claiming our authserv-id
 * deleted wherever and however often they stand, the On-* actions with
 * their SMTP replies, RemoveOldSignatures, and hostile input that ends
 * in a clean outcome.
 *
 * Messages are fed the way libmilter hands them over: header fields
 * split at the first colon, the value with its leading space and LF
 * line breaks inside folded values, the body in chunks with CRLF line
 * ends.  The outcome is then applied as an MTA would (sequentially,
 * deletions by index among the fields of that name, insertions at the
 * top) and the resulting message is verified again.  Keys are looked up
 * in t/data/dkimd/example.jp.zone through the zone resolver.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../milter-dkim/dkimd_conf.h"
#include "../../milter-dkim/dkimd_msg.h"
#include "authres.h"
#include "dns_zone.h"
#include "crypto.h"
#include "dkim.h"
#include "rfc5322.h"
#include "dns.h"
#include "log.h"
#include "files.h"
#include "tap.h"

#define DATA	"t/data/dkimd/"
#define ZONE	DATA "example.jp.zone"
#define ASID	"mx.blue.example.jp"

static char tmpdir[] = "/tmp/dkimd_msg.XXXXXX";

static const struct file {
	const char *name, *text;
} files[] = {
	{ "KeyTable", "default._domainkey.blue.example.jp "
	    "blue.example.jp:default:@D@/rsa2048.pem\n"
	    "ed._domainkey.blue.example.jp blue.example.jp:ed:@D@/ed25519.pem\n" },
	{ "SigningTable", "*@blue.example.jp default._domainkey.blue.example.jp\n"
	    "*@blue.example.jp ed._domainkey.blue.example.jp\n" },
	{ "TrustedHosts", "127.0.0.1\nlocalhost\n::1\n*.blue.example.jp\n" },
	{ "sign.conf", "AuthservID " ASID "\nKeyTable refile:@D@/KeyTable\n"
	    "SigningTable refile:@D@/SigningTable\nMultipleSignatures yes\n"
	    "InternalHosts refile:@D@/TrustedHosts\n"
	    "Canonicalization relaxed/simple\n"
	    "SignHeaders Date,From,To,Subject,Message-ID\n" },
	{ "remove.conf", "AuthservID " ASID "\nKeyTable refile:@D@/KeyTable\n"
	    "SigningTable refile:@D@/SigningTable\n"
	    "RemoveOldSignatures yes\n" },
	{ "verify.conf", "AuthservID " ASID "\n" },
	{ "always.conf", "AuthservID " ASID "\nAlwaysAddARHeader yes\n" },
	{ "badsig-reject.conf", "AuthservID " ASID "\nOn-BadSignature reject\n" },
	{ "badsig-discard.conf", "AuthservID " ASID "\nOn-BadSignature d\n" },
	{ "badsig-tempfail.conf", "AuthservID " ASID "\n"
	    "On-BadSignature tempfail\n" },
	{ "nokey-reject.conf", "AuthservID " ASID "\nOn-KeyNotFound reject\n" },
	{ "nosig-reject.conf", "AuthservID " ASID "\nOn-NoSignature reject\n" },
	{ "strict.conf", "AuthservID " ASID "\nOn-NoSignature reject\n"
	    "On-BadSignature reject\n" },
	{ "strict-small.conf", "AuthservID " ASID "\nOn-NoSignature reject\n"
	    "On-BadSignature reject\nMaximumHeaders 2048\n" },
	{ "default-quarantine.conf", "AuthservID " ASID "\n"
	    "On-Default quarantine\n" },
	{ "dnserr-accept.conf", "AuthservID " ASID "\nOn-DNSError accept\n" },
	{ "small.conf", "AuthservID " ASID "\nMaximumHeaders 2048\n" },
	{ "opendkim-size.conf", "AuthservID " ASID "\nMaximumHeaders 65536\n" },
	{ "peer.conf", "AuthservID " ASID "\nPeerList 192.0.2.0/24, "
	    "relay.example\nKeyTable refile:@D@/KeyTable\n"
	    "SigningTable refile:@D@/SigningTable\n"
	    "InternalHosts refile:@D@/TrustedHosts\n" },
	{ "jobid.conf", "AuthservID " ASID "\nAuthservIDWithJobID yes\n"
	    "SoftwareHeader yes\n" },
	{ "hdr1.conf", "KeyTable refile:@D@/KeyTable\nSigningTable "
	    "refile:@D@/SigningTable\nSignHeaders *,+X-Custom,-Date\n" },
	{ "hdr2.conf", "KeyTable refile:@D@/KeyTable\nSigningTable "
	    "refile:@D@/SigningTable\nSignHeaders Subject,Date\n" },
	{ "hdr3.conf", "KeyTable refile:@D@/KeyTable\nSigningTable "
	    "refile:@D@/SigningTable\nOmitHeaders From,Subject\n" },
	{ "hdr4.conf", "KeyTable refile:@D@/KeyTable\nSigningTable "
	    "refile:@D@/SigningTable\nSignHeaders *,+Received\n" },
	{ "hdr5.conf", "KeyTable refile:@D@/KeyTable\nSigningTable "
	    "refile:@D@/SigningTable\nOversignHeaders From,Subject\n" },
	{ "hdr6.conf", "KeyTable refile:@D@/KeyTable\nSigningTable "
	    "refile:@D@/SigningTable\nSignHeaders file:@D@/signheaders\n" },
	{ "hdr7.conf", "KeyTable refile:@D@/KeyTable\nSigningTable "
	    "refile:@D@/SigningTable\nSignHeaders X-Custom\n"
	    "OmitHeaders .\n" },
	{ "signheaders", "# the fields to sign\nTo\nFrom\n" },
	{ "big.conf", "AuthservID " ASID "\nMaximumHeaders 16777216\n" },
};

/* load - a configuration, its resolver replaced by the test zone */
static struct dkimd_conf *
load(const char *name)
{
	struct buf err = BUF_INIT;
	struct dkimd_conf *c;
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	if ((c = dkimd_conf_load(path, NULL, NULL, &err)) == NULL) {
		diag("%s: %s", name, buf_str(&err));
		exit(1);
	}
	dns_free(c->dns);
	buf_reset(&err);
	if ((c->dns = dns_new_zone(ZONE, &err)) == NULL) {
		diag("%s: %s", ZONE, buf_str(&err));
		exit(1);
	}
	buf_free(&err);
	return c;
}

/* One header field as the MTA passes it. */
struct field {
	char	*name, *value;
	int	 deleted;
};

/* A message split the milter's way, and what became of it. */
struct run {
	struct field	*f;
	size_t		 nf;
	struct buf	 body;		/* CRLF line ends */
	struct dkimd_msg *m;
	struct dkimd_outcome out;
	struct buf	 result;	/* after the edits */
};

/* split - text into fields and body, as milterclient and Postfix do */
static void
split(const char *text, size_t len, struct run *r)
{
	const char *p = text, *end = text + len, *nl, *colon;
	size_t n;

	memset(r, 0, sizeof(*r));
	r->f = calloc(20000, sizeof(*r->f));
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n == 0) {
			p = nl != NULL ? nl + 1 : end;
			break;
		}
		if ((*p == ' ' || *p == '\t') && r->nf > 0) {
			struct field *f = &r->f[r->nf - 1];
			size_t ol = strlen(f->value);

			f->value = realloc(f->value, ol + n + 2);
			f->value[ol] = '\n';
			memcpy(f->value + ol + 1, p, n);
			f->value[ol + n + 1] = '\0';
		} else if ((colon = memchr(p, ':', n)) != NULL) {
			r->f[r->nf].name = strndup(p, (size_t)(colon - p));
			r->f[r->nf].value = strndup(colon + 1,
			    n - (size_t)(colon + 1 - p));
			r->nf++;
		} else
			break;
		p = nl != NULL ? nl + 1 : end;
	}
	for (; p < end; p++) {
		if (*p == '\n' && (p == text || p[-1] != '\r'))
			buf_putc(&r->body, '\r');
		buf_putc(&r->body, *p);
	}
}

/* feed - run the message through a fresh context for a client */
static void
feed(struct dkimd_conf *c, const char *addr, const char *auth,
    struct run *r, size_t chunk)
{
	struct sockaddr_in sin;
	size_t i, n;

	r->m = dkimd_msg_new(c);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	inet_pton(AF_INET, addr, &sin.sin_addr);
	dkimd_msg_connect(r->m, "client.example", (struct sockaddr *)&sin);
	dkimd_msg_envfrom(r->m, "QID1", auth, "mx", NULL, NULL);
	for (i = 0; i < r->nf; i++)
		dkimd_msg_header(r->m, r->f[i].name, r->f[i].value);
	dkimd_msg_eoh(r->m);
	for (i = 0; i < r->body.len; i += n) {
		n = r->body.len - i < chunk ? r->body.len - i : chunk;
		dkimd_msg_body(r->m, (const unsigned char *)r->body.s + i, n);
	}
	dkimd_msg_eom(r->m, &r->out);
}

/* apply - the edits on the fields, in order, as an MTA applies them */
static void
apply(struct run *r)
{
	struct buf top = BUF_INIT;
	size_t e, i;
	int k;
	const char *v;

	buf_reset(&r->result);
	for (e = 0; e < r->out.nedit; e++) {
		const struct hdr_edit *ed = &r->out.edit[e];
		struct buf one = BUF_INIT;

		if (ed->op == HDR_EDIT_DELETE) {
			for (i = 0, k = 0; i < r->nf; i++)
				if (!r->f[i].deleted &&
				    strcasecmp(r->f[i].name, ed->name) == 0 &&
				    ++k == ed->index) {
					r->f[i].deleted = 1;
					break;
				}
			continue;
		}
		/* inserted at the top: before what was inserted earlier */
		buf_printf(&one, "%s: ", ed->name);
		for (v = ed->value; *v != '\0'; v++) {
			if (*v == '\n')
				buf_putc(&one, '\r');
			buf_putc(&one, *v);
		}
		buf_puts(&one, "\r\n");
		buf_append(&one, top.s, top.len);
		buf_free(&top);
		top = one;
	}
	buf_append(&r->result, top.s, top.len);
	for (i = 0; i < r->nf; i++) {
		if (r->f[i].deleted)
			continue;
		buf_printf(&r->result, "%s:", r->f[i].name);
		for (v = r->f[i].value; *v != '\0'; v++) {
			if (*v == '\n')
				buf_putc(&r->result, '\r');
			buf_putc(&r->result, *v);
		}
		buf_puts(&r->result, "\r\n");
	}
	buf_puts(&r->result, "\r\n");
	buf_append(&r->result, r->body.s, r->body.len);
	buf_free(&top);
}

/* run_free - release a run */
static void
run_free(struct run *r)
{
	size_t i;

	dkimd_msg_free(r->m);
	for (i = 0; i < r->nf; i++) {
		free(r->f[i].name);
		free(r->f[i].value);
	}
	free(r->f);
	buf_free(&r->body);
	buf_free(&r->result);
	memset(r, 0, sizeof(*r));
}

/* go - split, feed and apply a message text */
static void
go(struct dkimd_conf *c, const char *addr, const char *text, size_t len,
    struct run *r)
{
	split(text, len, r);
	feed(c, addr, NULL, r, 65535);
	apply(r);
}

/* gos - go with a string from 127.0.0.1 */
static void
gos(struct dkimd_conf *c, const char *text, struct run *r)
{
	go(c, "127.0.0.1", text, strlen(text), r);
}

static struct dns_resolver *zone;

/* zone_lookup - the verifier's key lookup on the test zone */
static enum dkim_key_status
zone_lookup(void *arg, const char *qname, struct buf *rec, int *secure)
{
	struct dns_answer *a = NULL;

	*secure = 0;
	switch (dns_query(zone, qname, DNS_T_TXT, &a)) {
	case DNS_OK:
		buf_append(rec, a->rr[0].text, a->rr[0].text_len);
		dns_answer_free(a);
		return DKIM_KEY_OK;
	case DNS_NXDOMAIN:
	case DNS_NODATA:
		return DKIM_KEY_NOTFOUND;
	default:
		return DKIM_KEY_TEMPFAIL;
	}
}

/* verify_text - verify a whole message; results "result d s; ..." */
static void
verify_text(const struct buf *msg, struct buf *out)
{
	struct dkim_verify *v = dkim_verify_new(NULL, zone_lookup, NULL);
	size_t i;

	buf_reset(out);
	buf_append(out, "", 0);
	if (dkim_verify_message(v, msg->s, msg->len) != DKIM_OK ||
	    dkim_verify_eom(v) != DKIM_OK) {
		buf_puts(out, "error");
		dkim_verify_free(v);
		return;
	}
	for (i = 0; i < dkim_verify_count(v); i++) {
		const struct dkim_sig_result *res = dkim_verify_result(v, i);

		buf_printf(out, "%s%s d=%s s=%s", i ? "; " : "",
		    dkim_result_name(res->result), res->d, res->s);
	}
	dkim_verify_free(v);
}

/* sign_text - a message with a signature by red.example.jp prepended */
static void
sign_text(const char *text, const char *selector, struct buf *out)
{
	struct crypto_key *key = NULL;
	struct dkim_sign_opts o;
	struct dkim_sign *s;
	struct buf sig = BUF_INIT;

	if (crypto_key_load_private_file(DATA "red.pem", &key) != CRYPTO_OK) {
		diag("cannot load red.pem");
		exit(1);
	}
	memset(&o, 0, sizeof(o));
	o.key = key;
	o.domain = "red.example.jp";
	o.selector = selector;
	o.hcanon = CANON_RELAXED;
	o.bcanon = CANON_SIMPLE;
	s = dkim_sign_new(&o);
	dkim_sign_message(s, text, strlen(text));
	dkim_sign_eom(s, &sig);
	buf_reset(out);
	buf_printf(out, "DKIM-Signature: %s\r\n%s", buf_str(&sig), text);
	buf_free(&sig);
	dkim_sign_free(s);
	crypto_key_free(key);
}

static const char plain[] =
    "Received: from a by b; Mon, 1 Jan 2024 00:00:00 +0000\n"
    "From: Alice <alice@red.example.jp>\n"
    "To: bob@blue.example.jp\n"
    "Subject: Lunch\n"
    " on Friday?\n"
    "Date: Mon, 1 Jan 2024 00:00:00 +0000\n"
    "Message-ID: <1@red.example.jp>\n"
    "\n"
    "Hi Bob,\n"
    "\n"
    "  shall  we\tmeet at noon?   \n";

static const char internal[] =
    "Received: from a by b; Mon, 1 Jan 2024 00:00:00 +0000\n"
    "From: Taro <taro@blue.example.jp>\n"
    "To: hanako@example.net\n"
    "Subject: =?UTF-8?B?5LqI5a6a?=\n"
    "\tfolded\n"
    "Date: Mon, 1 Jan 2024 00:00:00 +0000\n"
    "Message-ID: <2@blue.example.jp>\n"
    "\n"
    "Body line\n";

/* first_edit - the first edit of an op and name, or NULL */
static const struct hdr_edit *
first_edit(const struct run *r, enum hdr_edit_op op, const char *name)
{
	size_t i;

	for (i = 0; i < r->out.nedit; i++)
		if (r->out.edit[i].op == op &&
		    strcasecmp(r->out.edit[i].name, name) == 0)
			return &r->out.edit[i];
	return NULL;
}

/* count_edits - edits of an op and name */
static size_t
count_edits(const struct run *r, enum hdr_edit_op op, const char *name)
{
	size_t i, n = 0;

	for (i = 0; i < r->out.nedit; i++)
		n += r->out.edit[i].op == op &&
		    strcasecmp(r->out.edit[i].name, name) == 0;
	return n;
}

/* ar_check - parse our inserted A-R; the first dkim result's fields */
static int
ar_check(const struct run *r, const char *result, const char *d,
    const char *s, const char *name)
{
	const struct hdr_edit *e = first_edit(r, HDR_EDIT_INSERT,
	    "Authentication-Results");
	struct authres ar;
	const struct authres_resinfo *ri;
	size_t it = 0;
	const char *b;
	int good;

	memset(&ar, 0, sizeof(ar));
	if (e == NULL) {
		ok(0, "%s: an Authentication-Results is inserted", name);
		return 0;
	}
	if (authres_parse(e->value, strlen(e->value), &ar) != AUTHRES_OK ||
	    (ri = authres_find(&ar, "dkim", &it)) == NULL) {
		ok(0, "%s: the inserted A-R parses: %s", name, e->value);
		authres_free(&ar);
		return 0;
	}
	b = authres_prop_get(ri, "header", "b");
	good = strcmp(ar.authserv_id, ASID) == 0 &&
	    strcmp(ri->result, result) == 0 &&
	    strcmp(authres_prop_get(ri, "header", "d") ?: "", d) == 0 &&
	    strcmp(authres_prop_get(ri, "header", "s") ?: "", s) == 0 &&
	    b != NULL && strlen(b) >= 8;
	if (!ok(good, "%s: A-R says %s; dkim=%s header.d=%s header.s=%s "
	    "header.b=...", name, ASID, result, d, s))
		diag("A-R: %s", e->value);
	authres_free(&ar);
	return good;
}

/* ar_limit - our inserted A-R says dkim=result with a comment naming a
 * header limit (containing limit) */
static int
ar_limit(const struct run *r, const char *result, const char *limit,
    const char *name)
{
	const struct hdr_edit *e = first_edit(r, HDR_EDIT_INSERT,
	    "Authentication-Results");
	struct authres ar;
	const struct authres_resinfo *ri = NULL;
	size_t it = 0;
	int good;

	memset(&ar, 0, sizeof(ar));
	good = e != NULL && authres_parse(e->value, strlen(e->value), &ar) ==
	    AUTHRES_OK && (ri = authres_find(&ar, "dkim", &it)) != NULL &&
	    strcmp(ar.authserv_id, ASID) == 0 &&
	    strcmp(ri->result, result) == 0 && ri->comment != NULL &&
	    strstr(ri->comment, limit) != NULL;
	if (!ok(good, "%s: A-R says dkim=%s (... %s ...)", name, result,
	    limit))
		diag("A-R: %s", e != NULL ? e->value : "(none)");
	authres_free(&ar);
	return good;
}

/* test_sign - internal mail gets RSA and Ed25519 signatures that verify */
static void
test_sign(void)
{
	struct dkimd_conf *c = load("sign.conf");
	struct buf v = BUF_INIT;
	struct run r;
	const struct hdr_edit *e;
	size_t sizes[] = { 1, 7, 65535 };
	size_t k;

	go(c, "127.0.0.1", internal, strlen(internal), &r);
	is_int(r.out.verdict.action, VERDICT_CONTINUE, "sign: accepted");
	is_int((long)count_edits(&r, HDR_EDIT_INSERT, "DKIM-Signature"), 2,
	    "sign: two DKIM-Signature fields (MultipleSignatures, two "
	    "SigningTable lines)");
	ok(first_edit(&r, HDR_EDIT_INSERT, "Authentication-Results") == NULL,
	    "sign: no Authentication-Results on mail we sign");
	e = first_edit(&r, HDR_EDIT_INSERT, "DKIM-Signature");
	ok(e != NULL && strstr(e->value, "\r") == NULL &&
	    strstr(e->value, "\n\t") != NULL,
	    "sign: the value is folded with LF TAB, no CR (for the MTA)");
	ok(e != NULL && e->value[0] != ' ',
	    "sign: the value has no leading space (the callback adds it)");
	ok(e != NULL && strstr(e->value, "c=relaxed/simple") != NULL &&
	    strstr(e->value, "d=blue.example.jp") != NULL,
	    "sign: c=relaxed/simple d=blue.example.jp");
	{
		struct buf u = BUF_INIT;
		const char *p;

		for (p = e != NULL ? e->value : ""; *p != '\0'; p++)
			if (*p != '\n' && *p != '\t' && *p != ' ')
				buf_putc(&u, *p);
		buf_append(&u, "", 0);
		if (!ok(strcasestr(buf_str(&u), "h=date:from:to:subject:"
		    "message-id:from;") != NULL,
		    "sign: h= is SignHeaders with From oversigned (OpenDKIM's "
		    "default OversignHeaders)"))
			diag("%s", buf_str(&u));
		buf_free(&u);
	}
	verify_text(&r.result, &v);
	is_str(buf_str(&v), "pass d=blue.example.jp s=ed; "
	    "pass d=blue.example.jp s=default",
	    "sign: both signatures verify on the message as the MTA "
	    "delivers it");
	run_free(&r);

	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		split(internal, strlen(internal), &r);
		feed(c, "127.0.0.1", NULL, &r, sizes[k]);
		apply(&r);
		verify_text(&r.result, &v);
		is_str(buf_str(&v), "pass d=blue.example.jp s=ed; "
		    "pass d=blue.example.jp s=default", sizes[k] == 1 ?
		    "sign: body in 1-byte chunks" : "sign: body in chunks");
		run_free(&r);
	}

	/* the signed message fed back from outside verifies */
	go(c, "127.0.0.1", internal, strlen(internal), &r);
	{
		struct buf signed_msg = BUF_INIT;
		struct run r2;

		buf_append(&signed_msg, r.result.s, r.result.len);
		go(c, "192.0.2.1", signed_msg.s, signed_msg.len, &r2);
		ok(ar_check(&r2, "pass", "blue.example.jp", "ed",
		    "our signature fed back"), "our signature fed back "
		    "verifies in verify mode");
		ok(strstr(first_edit(&r2, HDR_EDIT_INSERT,
		    "Authentication-Results")->value,
		    "header.s=default") != NULL,
		    "our signature fed back: both results listed");
		run_free(&r2);
		buf_free(&signed_msg);
	}
	run_free(&r);

	/* authenticated external client: signed */
	split(internal, strlen(internal), &r);
	feed(c, "192.0.2.1", "taro", &r, 65535);
	is_int((long)count_edits(&r, HDR_EDIT_INSERT, "DKIM-Signature"), 2,
	    "sign: SMTP AUTH from outside is signed");
	run_free(&r);
	buf_free(&v);
	dkimd_conf_free(c);
}

/* test_verify - pass, fail, none, AlwaysAddARHeader */
static void
test_verify(void)
{
	struct dkimd_conf *c = load("verify.conf");
	struct dkimd_conf *ca = load("always.conf");
	struct buf m = BUF_INIT;
	struct run r;
	char *p;

	sign_text(plain, "red", &m);
	go(c, "192.0.2.1", m.s, m.len, &r);
	is_int(r.out.verdict.action, VERDICT_CONTINUE, "verify good: accepted");
	ar_check(&r, "pass", "red.example.jp", "red", "verify good");
	ok(strstr(first_edit(&r, HDR_EDIT_INSERT,
	    "Authentication-Results")->value, "2048-bit key") != NULL,
	    "verify good: comment gives the key size");
	is_int((long)r.out.nedit, 1, "verify good: one edit only");
	run_free(&r);

	/* tampered body */
	p = strstr(m.s, "noon");
	p[0] = 'N';
	go(c, "192.0.2.1", m.s, m.len, &r);
	is_int(r.out.verdict.action, VERDICT_CONTINUE, "tampered: accepted by "
	    "default (On-BadSignature accept)");
	ar_check(&r, "fail", "red.example.jp", "red", "tampered body");
	run_free(&r);
	p[0] = 'n';

	/* tampered signed header (relaxed: case of the name is fine) */
	p = strstr(m.s, "Subject: Lunch");
	p[9] = 'l';
	go(c, "192.0.2.1", m.s, m.len, &r);
	ar_check(&r, "fail", "red.example.jp", "red", "tampered Subject");
	run_free(&r);
	p[9] = 'L';

	/* no signature */
	go(c, "192.0.2.1", plain, strlen(plain), &r);
	is_int((long)r.out.nedit, 0, "no signature: no edit");
	is_int(r.out.verdict.action, VERDICT_CONTINUE,
	    "no signature: accepted");
	run_free(&r);
	go(ca, "192.0.2.1", plain, strlen(plain), &r);
	{
		const struct hdr_edit *e = first_edit(&r, HDR_EDIT_INSERT,
		    "Authentication-Results");

		ok(e != NULL && strcmp(e->value, ASID ";\n\tdkim=none") == 0,
		    "no signature + AlwaysAddARHeader: '" ASID "; dkim=none'");
		if (e != NULL)
			diag("A-R: %s", e->value);
	}
	run_free(&r);

	/* revoked key and unknown selector */
	sign_text(plain, "revoked", &m);
	go(c, "192.0.2.1", m.s, m.len, &r);
	ar_check(&r, "permerror", "red.example.jp", "revoked",
	    "revoked key (p= empty)");
	run_free(&r);
	sign_text(plain, "nosuch", &m);
	go(c, "192.0.2.1", m.s, m.len, &r);
	is_int(r.out.verdict.action, VERDICT_CONTINUE,
	    "key not found: accepted by default");
	ar_check(&r, "permerror", "red.example.jp", "nosuch",
	    "key not found");
	run_free(&r);

	buf_free(&m);
	dkimd_conf_free(c);
	dkimd_conf_free(ca);
}

/* with_ars - plain signed, with A-R fields inserted at given places */
static void
with_ars(const char *const *ars, size_t nars, const size_t *pos,
    struct buf *out)
{
	struct buf msg = BUF_INIT;
	const char *p = plain;
	size_t line = 0, i;

	for (;;) {
		for (i = 0; i < nars; i++)
			if (pos[i] == line)
				buf_printf(&msg, "Authentication-Results: %s\n",
				    ars[i]);
		if (*p == '\n' || *p == '\0')
			break;
		do
			buf_putc(&msg, *p);
		while (*p++ != '\n');
		while (*p == ' ' || *p == '\t')
			do
				buf_putc(&msg, *p);
			while (*p++ != '\n');
		line++;
	}
	buf_puts(&msg, p);
	sign_text(buf_str(&msg), "red", out);
	buf_free(&msg);
}

/* count_ars - Authentication-Results in a message, and ours */
static void
count_ars(const struct buf *msg, int *all, int *ours)
{
	struct rfc5322_field f;
	const char *p;

	*all = *ours = 0;
	for (p = msg->s; rfc5322_next_field(p, msg->s + msg->len, &f) !=
	    RFC5322_EOH; p = f.next) {
		if (f.name_len == 22 && strncasecmp(f.name,
		    "Authentication-Results", 22) == 0) {
			char *v = strndup(f.value, f.value_len);

			(*all)++;
			*ours += authres_is_ours(v, ASID) == 1;
			free(v);
		}
	}
}

/* edits_ordered - deletions first, each name highest index first */
static int
edits_ordered(const struct run *r)
{
	size_t i;
	int seen_insert = 0, last = 1 << 30;

	for (i = 0; i < r->out.nedit; i++) {
		const struct hdr_edit *e = &r->out.edit[i];

		if (e->op == HDR_EDIT_INSERT) {
			seen_insert = 1;
			continue;
		}
		if (seen_insert || e->index >= last || e->index < 1)
			return 0;
		last = e->index;
	}
	return 1;
}

/* test_forged - our authserv-id's results go, others stay */
static void
test_forged(void)
{
	static const char *const disguise[] = {
		ASID "; dkim=pass header.d=red.example.jp",
		"MX.Blue.Example.JP; dkim=pass",
		"(a comment) " ASID " (another); dkim=pass",
		"\n\t" ASID ";\n\tdkim=pass header.d=red.example.jp",
		"\"" ASID "\"; dkim=pass",
		ASID ". ; dkim=pass",
		ASID " 1; dkim=pass",
		ASID "; spf=pass smtp.mailfrom=red.example.jp; dkim=pass",
		"other.example; dkim=pass header.d=red.example.jp",
		"mx.blue.example.jp.evil.example; dkim=pass",
		"evil.mx.blue.example.jp; dkim=pass",
	};
	static const size_t pos3[] = { 0, 3, 6 };
	struct dkimd_conf *c = load("verify.conf");
	struct dkimd_conf *cs = load("sign.conf");
	struct buf m = BUF_INIT, v = BUF_INIT;
	const char *ars[100];
	size_t pos[100], i;
	struct run r;
	int all, ours;

	/* three, at the top, in the middle and at the end of the header */
	for (i = 0; i < 3; i++)
		ars[i] = disguise[0];
	with_ars(ars, 3, pos3, &m);
	go(c, "192.0.2.1", m.s, m.len, &r);
	is_int((long)count_edits(&r, HDR_EDIT_DELETE,
	    "Authentication-Results"), 3, "3 forged A-Rs: 3 deletions");
	ok(edits_ordered(&r), "3 forged A-Rs: deletions highest index "
	    "first, before insertions");
	count_ars(&r.result, &all, &ours);
	is_int(ours, 1, "3 forged A-Rs: only our own remains");
	is_int(all, 1, "3 forged A-Rs: none of theirs is left");
	ar_check(&r, "pass", "red.example.jp", "red",
	    "3 forged A-Rs: the message still verifies");
	run_free(&r);

	/* every disguise, one of each, spread over the header */
	for (i = 0; i < sizeof(disguise) / sizeof(disguise[0]); i++) {
		ars[i] = disguise[i];
		pos[i] = i % 7;
	}
	with_ars(ars, i, pos, &m);
	go(c, "192.0.2.1", m.s, m.len, &r);
	is_int((long)count_edits(&r, HDR_EDIT_DELETE,
	    "Authentication-Results"), 8, "disguises (case, comments, "
	    "folding, quotes, trailing dot, version, mixed): all 8 deleted");
	ok(edits_ordered(&r), "disguises: deletions in order");
	count_ars(&r.result, &all, &ours);
	is_int(ours, 1, "disguises: only our own A-R claims our id");
	is_int(all, 4, "disguises: the 3 A-Rs of other ids are kept");
	ok(strstr(r.result.s, "other.example; dkim=pass") != NULL &&
	    strstr(r.result.s, "evil.mx.blue.example.jp;") != NULL &&
	    strstr(r.result.s, "blue.example.jp.evil.example;") != NULL,
	    "disguises: the kept ones are the lookalikes and other.example");
	run_free(&r);

	/* a hundred, interleaved with the real fields */
	for (i = 0; i < 100; i++) {
		ars[i] = i % 10 == 9 ? disguise[8] : disguise[i % 8];
		pos[i] = i % 7;
	}
	with_ars(ars, 100, pos, &m);
	go(c, "192.0.2.1", m.s, m.len, &r);
	is_int((long)count_edits(&r, HDR_EDIT_DELETE,
	    "Authentication-Results"), 90, "100 A-Rs, 90 ours: 90 deletions");
	ok(edits_ordered(&r), "100 A-Rs: deletions highest index first, "
	    "before insertions");
	count_ars(&r.result, &all, &ours);
	is_int(ours, 1, "100 A-Rs: only our own remains");
	is_int(all, 11, "100 A-Rs: the 10 of other.example are kept");
	ar_check(&r, "pass", "red.example.jp", "red",
	    "100 A-Rs: the message still verifies");
	run_free(&r);

	/* forged results also go from mail we sign, and mail not signed */
	with_ars(ars, 3, pos3, &m);
	split(m.s, m.len, &r);
	free(r.f[0].name);
	free(r.f[0].value);
	memmove(&r.f[0], &r.f[1], (r.nf - 1) * sizeof(r.f[0]));
	r.nf--;
	for (i = 0; i < r.nf; i++)
		if (strcasecmp(r.f[i].name, "From") == 0) {
			free(r.f[i].value);
			r.f[i].value = strdup(" taro@blue.example.jp");
		}
	feed(cs, "127.0.0.1", NULL, &r, 65535);
	apply(&r);
	is_int((long)count_edits(&r, HDR_EDIT_DELETE,
	    "Authentication-Results"), 3, "signing: forged A-Rs deleted too");
	ok(edits_ordered(&r), "signing: deletions before the signatures");
	verify_text(&r.result, &v);
	is_str(buf_str(&v), "pass d=blue.example.jp s=ed; "
	    "pass d=blue.example.jp s=default",
	    "signing: signatures verify after the deletions");
	run_free(&r);
	with_ars(ars, 3, pos3, &m);
	{
		struct dkimd_conf *cm = load("small.conf");

		/* "ourid/jobid" is ours too, with or without AuthservIDWithJobID */
	{
		static const char *const j[] = {
			ASID "/ABC123; dkim=pass",
			ASID "/; dkim=pass",
			ASID "x/ABC; dkim=pass",
		};
		static const size_t jp[] = { 0, 2, 4 };
		struct dkimd_conf *cj = load("jobid.conf");
		const struct hdr_edit *e;

		with_ars(j, 3, jp, &m);
		go(c, "192.0.2.1", m.s, m.len, &r);
		is_int((long)count_edits(&r, HDR_EDIT_DELETE,
		    "Authentication-Results"), 2, "'" ASID "/jobid' A-Rs are "
		    "deleted, '" ASID "x/...' kept");
		run_free(&r);
		go(cj, "192.0.2.1", m.s, m.len, &r);
		e = first_edit(&r, HDR_EDIT_INSERT, "Authentication-Results");
		if (!ok(e != NULL && strncmp(e->value, "\"" ASID "/QID1\";",
		    strlen(ASID) + 8) == 0, "AuthservIDWithJobID: our A-R says "
		    "\"" ASID "/QID1\" (quoted: '/' is not a token character)"))
			diag("A-R: %s", e ? e->value : "none");
		e = first_edit(&r, HDR_EDIT_INSERT, "DKIM-Filter");
		ok(e != NULL && strncmp(e->value, "milter-dkim v", 13) == 0 &&
		    strstr(e->value, " " ASID " QID1") != NULL,
		    "SoftwareHeader: DKIM-Filter: milter-dkim vX " ASID " QID1");
		if (e != NULL)
			diag("DKIM-Filter: %s", e->value);
		run_free(&r);
		go(c, "192.0.2.1", m.s, m.len, &r);
		ok(first_edit(&r, HDR_EDIT_INSERT, "DKIM-Filter") == NULL,
		    "SoftwareHeader no: no DKIM-Filter field");
		run_free(&r);
		go(cj, "192.0.2.1", plain, strlen(plain), &r);
		ok(first_edit(&r, HDR_EDIT_INSERT, "DKIM-Filter") != NULL,
		    "SoftwareHeader: also on verified mail without signature");
		run_free(&r);
		dkimd_conf_free(cj);
	}
	with_ars(ars, 3, pos3, &m);

	/* too big a header: no DKIM, but the forgeries still go */
		buf_reset(&v);
		buf_puts(&v, "X-Big: ");
		for (i = 0; i < 3000; i++)
			buf_putc(&v, 'x');
		buf_puts(&v, "\r\n");
		buf_append(&v, m.s, m.len);
		go(cm, "192.0.2.1", v.s, v.len, &r);
		is_int((long)count_edits(&r, HDR_EDIT_DELETE,
		    "Authentication-Results"), 3, "header over MaximumHeaders: "
		    "forged A-Rs still deleted");
		ok(r.out.verdict.action == VERDICT_CONTINUE, "header over MaximumHeaders: "
		    "accepted (On-BadSignature accept)");
		ar_limit(&r, "permerror", "MaximumHeaders: more than 2048 "
		    "bytes", "header over MaximumHeaders, signed");
		run_free(&r);
		dkimd_conf_free(cm);
	}
	buf_free(&m);
	buf_free(&v);
	dkimd_conf_free(c);
	dkimd_conf_free(cs);
}

/* test_actions - On-* settings map to actions and SMTP replies */
static void
test_actions(void)
{
	static const struct {
		const char *conf, *selector;
		int tamper, action;
		const char *rcode, *xcode, *name;
	} t[] = {
		{ "badsig-reject.conf", "red", 1, VERDICT_REJECT,
		    "550", "5.7.20", "On-BadSignature reject: 550 5.7.20" },
		{ "badsig-tempfail.conf", "red", 1, VERDICT_TEMPFAIL, "451",
		    "4.7.20", "On-BadSignature tempfail: 451 4.7.20" },
		{ "badsig-discard.conf", "red", 1, VERDICT_DISCARD, NULL, NULL,
		    "On-BadSignature d(iscard)" },
		{ "badsig-reject.conf", "red", 0, VERDICT_CONTINUE, NULL, NULL,
		    "On-BadSignature reject: a good signature is accepted" },
		{ "nokey-reject.conf", "nosuch", 0, VERDICT_REJECT,
		    "550", "5.7.20", "On-KeyNotFound reject" },
		{ "nokey-reject.conf", "red", 1, VERDICT_CONTINUE, NULL, NULL,
		    "On-KeyNotFound reject: a bad signature is not a missing key" },
		{ "nosig-reject.conf", NULL, 0, VERDICT_REJECT, "550", "5.7.20",
		    "On-NoSignature reject" },
		{ "default-quarantine.conf", "red", 1, VERDICT_QUARANTINE, NULL,
		    NULL, "On-Default quarantine applies to bad signatures" },
		{ "default-quarantine.conf", "red", 0, VERDICT_CONTINUE,
		    NULL, NULL, "On-Default quarantine: a pass is accepted" },
		{ "verify.conf", "timeout", 0, VERDICT_TEMPFAIL, "451", "4.4.3",
		    "On-DNSError default: tempfail 451 4.4.3" },
		{ "dnserr-accept.conf", "timeout", 0, VERDICT_CONTINUE,
		    NULL, NULL, "On-DNSError accept" },
	};
	struct buf m = BUF_INIT, err = BUF_INIT;
	struct run r;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct dkimd_conf *c = load(t[i].conf);

		dns_zone_add(c->dns, "timeout._domainkey.red.example.jp",
		    DNS_T_TXT, "TIMEOUT", &err);
		if (t[i].selector != NULL)
			sign_text(plain, t[i].selector, &m);
		else {
			buf_reset(&m);
			buf_puts(&m, plain);
		}
		if (t[i].tamper)
			*strstr(m.s, "noon") = 'N';
		go(c, "192.0.2.1", m.s, m.len, &r);
		const struct verdict *v = &r.out.verdict;

		is_int(v->action, t[i].action, t[i].name);
		ok(t[i].rcode == NULL ? v->rcode == NULL ||
		    t[i].action != VERDICT_REJECT :
		    v->rcode != NULL && strcmp(v->rcode, t[i].rcode) == 0 &&
		    strcmp(v->xcode, t[i].xcode) == 0 && v->text[0] != '\0',
		    "%s: reply %s %s", t[i].name, t[i].rcode ? t[i].rcode : "-",
		    t[i].xcode ? t[i].xcode : "-");
		if (v->rcode != NULL)
			diag("%s %s %s", v->rcode, v->xcode, v->text);
		ok(t[i].action == VERDICT_QUARANTINE ? strcmp(v->text, "DKIM")
		    == 0 : 1, "%s: the quarantine reason", t[i].name);
		ok(t[i].action == VERDICT_CONTINUE ||
		    t[i].action == VERDICT_QUARANTINE ?
		    r.out.nedit > 0 || t[i].selector == NULL : r.out.nedit == 0,
		    "%s: edits only when the message is kept", t[i].name);
		run_free(&r);
		dkimd_conf_free(c);
	}
	buf_free(&m);
	buf_free(&err);
}

/*
 * test_limits - padding the header past a limit does not get a message
 * past On-BadSignature or On-NoSignature reject: it gets a result naming
 * the limit and the action configured for that result; a message to
 * sign gets On-SignatureError (whose default is reject)
 */
static void
test_limits(void)
{
	static const struct {
		const char *conf, *selector, *text;
		int tamper, pad, action;
		const char *result, *limit, *name;
	} t[] = {
		{ "strict.conf", "red", plain, 1, 10001, VERDICT_REJECT,
		    "permerror", "more than 10000 fields",
		    "tampered + 10001 X-Pad fields" },
		{ "strict.conf", NULL, plain, 0, 10001, VERDICT_REJECT,
		    "none", "more than 10000 fields",
		    "unsigned + 10001 X-Pad fields" },
		{ "strict.conf", "red", plain, 0, 10001, VERDICT_REJECT,
		    "permerror", "more than 10000 fields",
		    "good signature + 10001 X-Pad fields: cannot be verified" },
		{ "strict.conf", NULL, plain, 0, 9990, VERDICT_REJECT,
		    "none", "", "unsigned + 9990 X-Pad fields (within limits)" },
		{ "strict-small.conf", NULL, plain, 0, 300, VERDICT_REJECT,
		    "none", "MaximumHeaders: more than 2048 bytes",
		    "unsigned, over MaximumHeaders 2048" },
		{ "verify.conf", NULL, plain, 0, 10001, VERDICT_CONTINUE,
		    "none", "more than 10000 fields",
		    "unsigned + 10001 X-Pad fields, On-NoSignature accept" },
		{ "sign.conf", NULL, internal, 0, 10001, VERDICT_REJECT,
		    NULL, NULL, "internal mail + 10001 X-Pad fields: not signed, "
		    "On-SignatureError reject" },
	};
	struct buf m = BUF_INIT, body = BUF_INIT;
	struct run r;
	size_t i;
	int k;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct dkimd_conf *c = load(t[i].conf);

		if (t[i].selector != NULL)
			sign_text(t[i].text, t[i].selector, &body);
		else {
			buf_reset(&body);
			buf_puts(&body, t[i].text);
		}
		if (t[i].tamper)
			*strstr(body.s, "noon") = 'N';
		/* the padding on top: From and the signature come after
		 * the limit */
		buf_reset(&m);
		for (k = 0; k < t[i].pad; k++)
			buf_puts(&m, "X-Pad: x\n");
		buf_append(&m, body.s, body.len);
		go(c, t[i].text == internal ? "127.0.0.1" : "192.0.2.1", m.s,
		    m.len, &r);
		is_int(r.out.verdict.action, t[i].action, t[i].name);
		if (t[i].result != NULL && t[i].action == VERDICT_CONTINUE)
			ar_limit(&r, t[i].result, t[i].limit, t[i].name);
		if (t[i].action == VERDICT_REJECT)
			ok(r.out.verdict.rcode != NULL &&
			    strcmp(r.out.verdict.rcode, "550") == 0,
			    "%s: 550", t[i].name);
		ok(first_edit(&r, HDR_EDIT_INSERT, DKIM_SIGNATURE_HEADER) ==
		    NULL, "%s: no signature added", t[i].name);
		run_free(&r);
		dkimd_conf_free(c);
	}
	buf_free(&m);
	buf_free(&body);
}

/* test_remove_old - RemoveOldSignatures deletes every old signature */
static void
test_remove_old(void)
{
	struct dkimd_conf *cr = load("remove.conf");
	struct dkimd_conf *ck = load("sign.conf");
	struct buf m = BUF_INIT, m2 = BUF_INIT, v = BUF_INIT;
	struct run r;

	sign_text(internal, "red", &m);
	sign_text(m.s, "revoked", &m2);
	go(cr, "127.0.0.1", m2.s, m2.len, &r);
	is_int((long)count_edits(&r, HDR_EDIT_DELETE, "DKIM-Signature"), 2,
	    "RemoveOldSignatures yes: both old signatures deleted");
	ok(edits_ordered(&r), "RemoveOldSignatures: deletions 2 then 1, "
	    "before the insertion");
	verify_text(&r.result, &v);
	is_str(buf_str(&v), "pass d=blue.example.jp s=default",
	    "RemoveOldSignatures: only our new signature remains, and passes");
	run_free(&r);
	go(ck, "127.0.0.1", m2.s, m2.len, &r);
	is_int((long)count_edits(&r, HDR_EDIT_DELETE, "DKIM-Signature"), 0,
	    "RemoveOldSignatures no: nothing deleted");
	verify_text(&r.result, &v);
	is_str(buf_str(&v), "pass d=blue.example.jp s=ed; pass "
	    "d=blue.example.jp s=default; permerror d=red.example.jp s=revoked; "
	    "pass d=red.example.jp s=red",
	    "RemoveOldSignatures no: old ones kept after ours");
	run_free(&r);
	buf_free(&m);
	buf_free(&m2);
	buf_free(&v);
	dkimd_conf_free(cr);
	dkimd_conf_free(ck);
}

/* test_hostile - floods and odd bytes end in a clean outcome */
static void
test_hostile(void)
{
	struct dkimd_conf *c = load("verify.conf");
	struct dkimd_conf *cb = load("big.conf");
	struct dkimd_conf *cs = load("sign.conf");
	struct dkimd_conf *co = load("opendkim-size.conf");
	struct buf m = BUF_INIT, s = BUF_INIT, v = BUF_INIT;
	struct run r;
	size_t i;

	/* 5000 DKIM-Signature fields in front of a good one: over
	 * OpenDKIM's MaximumHeaders, they pass unprocessed */
	sign_text(plain, "red", &s);
	for (i = 0; i < 5000; i++)
		buf_printf(&m, "DKIM-Signature: v=1; a=rsa-sha256; d=x%zu."
		    "example; s=s; h=from; bh=AAAA; b=AAAA\n", i);
	buf_append(&m, s.s, s.len);
	go(co, "192.0.2.1", m.s, m.len, &r);
	ok(r.out.verdict.action == VERDICT_CONTINUE, "5000 DKIM-Signature fields, 400 KB: "
	    "over MaximumHeaders 65536, accepted (On-BadSignature accept)");
	ar_limit(&r, "permerror", "MaximumHeaders: more than 65536 bytes",
	    "5000 DKIM-Signature fields over MaximumHeaders");
	run_free(&r);
	/* and within the default limit, the verifier checks only a few */
	go(c, "192.0.2.1", m.s, m.len, &r);
	ok(r.out.verdict.action == VERDICT_CONTINUE ||
	    r.out.verdict.action == VERDICT_TEMPFAIL,
	    "5000 DKIM-Signature fields: a clean outcome (%d)",
	    r.out.verdict.action);
	{
		const struct hdr_edit *e = first_edit(&r, HDR_EDIT_INSERT,
		    "Authentication-Results");
		size_t n = 0;
		const char *p;

		for (p = e ? e->value : ""; (p = strstr(p, "dkim=")) != NULL;
		    p++)
			n++;
		ok(e != NULL && n >= 1 && n <= 3, "5000 DKIM-Signature fields: "
		    "at most MaximumSignaturesToVerify (3) results (%zu)", n);
	}
	run_free(&r);

	/* a 100 KB header field (Postfix's header_size_limit): verified
	 * under the default MaximumHeaders; passed unprocessed over
	 * OpenDKIM's */
	buf_reset(&m);
	buf_puts(&m, "X-Long:");
	for (i = 0; i < 100 * 1024 / 64; i++)
		buf_puts(&m, " 0123456789012345678901234567890123456789012345"
		    "678901234567\n");
	buf_append(&m, s.s, s.len);
	go(c, "192.0.2.1", m.s, m.len, &r);
	ar_check(&r, "pass", "red.example.jp", "red",
	    "100 KB header field: verified under the default MaximumHeaders");
	run_free(&r);
	go(co, "192.0.2.1", m.s, m.len, &r);
	ok(r.out.verdict.action == VERDICT_CONTINUE, "100 KB header field: over "
	    "MaximumHeaders 65536, accepted (On-BadSignature accept)");
	ar_limit(&r, "permerror", "MaximumHeaders: more than 65536 bytes",
	    "100 KB header field over MaximumHeaders");
	run_free(&r);

	/* 15000 small fields: over the field limit, passed unprocessed,
	 * and the 100 forged results among them still deleted */
	buf_reset(&m);
	for (i = 0; i < 15000; i++)
		buf_printf(&m, i % 150 == 0 ? "Authentication-Results: " ASID
		    "; dkim=pass\n" : "X-F: %zu\n", i);
	buf_append(&m, s.s, s.len);
	go(cb, "192.0.2.1", m.s, m.len, &r);
	ok(r.out.verdict.action == VERDICT_CONTINUE, "15000 header fields: accepted "
	    "(On-BadSignature accept)");
	ar_limit(&r, "permerror", "more than 10000 fields",
	    "15000 header fields: the field limit is named");
	is_int((long)count_edits(&r, HDR_EDIT_DELETE,
	    "Authentication-Results"), 100, "15000 header fields: the 100 "
	    "forged A-Rs among them are deleted");
	ok(edits_ordered(&r), "15000 header fields: deletions in order");
	run_free(&r);

	/* raw 8-bit bytes in d= and s= do not reach the A-R field */
	buf_reset(&m);
	buf_puts(&m, "DKIM-Signature: v=1; a=rsa-sha256; d=ex\xe4mple.jp; "
	    "s=s\xff\xfe; h=from; bh=AAAA; b=AAAA\n");
	buf_puts(&m, plain);
	go(c, "192.0.2.1", m.s, m.len, &r);
	{
		const struct hdr_edit *e = first_edit(&r, HDR_EDIT_INSERT,
		    "Authentication-Results");
		const unsigned char *p;
		int eight = 0;

		for (p = (const unsigned char *)(e ? e->value : ""); *p; p++)
			eight |= *p >= 0x80;
		ok(e != NULL && !eight && strstr(e->value, "dkim=permerror") &&
		    strstr(e->value, "header.d=\"ex?mple.jp\"") &&
		    strstr(e->value, "header.s=\"s\?\?\""),
		    "8-bit d= and s=: dkim=permerror, written with \"?\", no "
		    "raw 8-bit byte in the A-R");
		if (e != NULL)
			diag("A-R: %s", e->value);
	}
	run_free(&r);

	/* NUL bytes and bare CR in the body, bare LF in values */
	buf_reset(&m);
	buf_puts(&m, "From: taro@blue.example.jp\nSubject: a\rb\n"
	    "To: x@example.net\n\nline\n");
	buf_append(&m, "nul\0nul\0\0\r\rcr\n", 15);
	split(m.s, m.len, &r);
	feed(cs, "127.0.0.1", NULL, &r, 3);
	apply(&r);
	verify_text(&r.result, &v);
	is_str(buf_str(&v), "pass d=blue.example.jp s=ed; "
	    "pass d=blue.example.jp s=default",
	    "NUL and bare CR in the body, CR in a value: signed, verifies");
	run_free(&r);

	/* a body with bare LF line ends signs as if they were CRLF */
	split(internal, strlen(internal), &r);
	r.m = dkimd_msg_new(cs);
	dkimd_msg_connect(r.m, "localhost", NULL);
	dkimd_msg_envfrom(r.m, "LF", NULL, NULL, NULL, NULL);
	for (i = 0; i < r.nf; i++)
		dkimd_msg_header(r.m, r.f[i].name, r.f[i].value);
	dkimd_msg_eoh(r.m);
	dkimd_msg_body(r.m, (const unsigned char *)"Body line\n", 10);
	dkimd_msg_eom(r.m, &r.out);
	apply(&r);
	verify_text(&r.result, &v);
	is_str(buf_str(&v), "pass d=blue.example.jp s=ed; "
	    "pass d=blue.example.jp s=default",
	    "bare LF body: signed as CRLF, verifies");
	run_free(&r);

	/* a message without a header at all, and without From */
	go(cs, "127.0.0.1", "\nbody only\n", strlen("\nbody only\n"), &r);
	ok(r.out.verdict.action == VERDICT_CONTINUE &&
	    first_edit(&r, HDR_EDIT_INSERT, "DKIM-Signature") == NULL,
	    "no header: accepted, not signed");
	run_free(&r);
	gos(cs, "From: a@blue.example.jp\nFrom: b@blue.example.jp\n\nx\n", &r);
	ok(r.out.verdict.action == VERDICT_CONTINUE &&
	    first_edit(&r, HDR_EDIT_INSERT, "DKIM-Signature") == NULL,
	    "two From fields: accepted, not signed");
	run_free(&r);
	gos(cs, "From: a@blue.example.jp, b@blue.example.jp\n\nx\n", &r);
	ok(r.out.verdict.action == VERDICT_CONTINUE &&
	    first_edit(&r, HDR_EDIT_INSERT, "DKIM-Signature") == NULL,
	    "two addresses in From: accepted, not signed");
	run_free(&r);
	gos(cs, "From: <<<@@@>>>\n\nx\n", &r);
	ok(r.out.verdict.action == VERDICT_CONTINUE, "garbage From: accepted");
	run_free(&r);

	/* eom without eoh (the MTA skipped it) still decides */
	split(internal, strlen(internal), &r);
	r.m = dkimd_msg_new(cs);
	{
		struct sockaddr_in sin;

		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_addr.s_addr = htonl(0x7f000001);
		dkimd_msg_connect(r.m, "localhost", (struct sockaddr *)&sin);
	}
	dkimd_msg_envfrom(r.m, NULL, NULL, NULL, NULL, NULL);
	for (i = 0; i < r.nf; i++)
		dkimd_msg_header(r.m, r.f[i].name, r.f[i].value);
	dkimd_msg_body(r.m, (const unsigned char *)r.body.s, r.body.len);
	dkimd_msg_eom(r.m, &r.out);
	ok(r.out.verdict.action == VERDICT_CONTINUE,
	    "eom without eoh: a clean outcome");
	/* a second message on the same connection after reset */
	dkimd_msg_reset(r.m);
	dkimd_msg_envfrom(r.m, "QID2", NULL, NULL, NULL, NULL);
	for (i = 0; i < r.nf; i++)
		dkimd_msg_header(r.m, r.f[i].name, r.f[i].value);
	dkimd_msg_eoh(r.m);
	dkimd_msg_body(r.m, (const unsigned char *)r.body.s, r.body.len);
	dkimd_msg_eom(r.m, &r.out);
	apply(&r);
	verify_text(&r.result, &v);
	is_str(buf_str(&v), "pass d=blue.example.jp s=ed; "
	    "pass d=blue.example.jp s=default",
	    "second message on a connection: signed and verifies");
	is_str(dkimd_msg_qid(r.m), "QID2", "second message: its queue id");
	run_free(&r);

	buf_free(&m);
	buf_free(&s);
	buf_free(&v);
	dkimd_conf_free(c);
	dkimd_conf_free(cb);
	dkimd_conf_free(co);
	dkimd_conf_free(cs);
}

/* test_connect - PeerList, and clients without an address */
static void
test_connect(void)
{
	struct dkimd_conf *c = load("peer.conf");
	struct dkimd_msg *m = dkimd_msg_new(c);
	struct sockaddr_in sin;
	struct sockaddr_in6 s6;
	struct run r;
	size_t i;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	inet_pton(AF_INET, "192.0.2.77", &sin.sin_addr);
	is_int(dkimd_msg_connect(m, "[192.0.2.77]", (struct sockaddr *)&sin),
	    1, "PeerList: a listed network is left alone");
	inet_pton(AF_INET, "198.51.100.1", &sin.sin_addr);
	is_int(dkimd_msg_connect(m, "relay.example", (struct sockaddr *)&sin),
	    1, "PeerList: a listed host name is left alone");
	is_int(dkimd_msg_connect(m, "other.example", (struct sockaddr *)&sin),
	    0, "PeerList: others are processed");
	memset(&s6, 0, sizeof(s6));
	s6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "::ffff:192.0.2.5", &s6.sin6_addr);
	is_int(dkimd_msg_connect(m, "x", (struct sockaddr *)&s6), 1,
	    "PeerList: an IPv4-mapped client matches the IPv4 network");
	is_int(dkimd_msg_connect(m, "localhost", NULL), 0,
	    "no address (a UNIX-socket client): not a peer");
	dkimd_msg_free(m);

	/* a client without an address, named localhost, is internal */
	split(internal, strlen(internal), &r);
	r.m = dkimd_msg_new(c);
	dkimd_msg_connect(r.m, "localhost", NULL);
	dkimd_msg_envfrom(r.m, "Q", NULL, NULL, NULL, NULL);
	for (i = 0; i < r.nf; i++)
		dkimd_msg_header(r.m, r.f[i].name, r.f[i].value);
	dkimd_msg_eoh(r.m);
	dkimd_msg_body(r.m, (const unsigned char *)r.body.s, r.body.len);
	dkimd_msg_eom(r.m, &r.out);
	ok(first_edit(&r, HDR_EDIT_INSERT, "DKIM-Signature") != NULL,
	    "no address, host name 'localhost' in InternalHosts: signed");
	run_free(&r);
	/* and an address outside every list is external */
	split(internal, strlen(internal), &r);
	feed(c, "198.51.100.9", NULL, &r, 65535);
	ok(first_edit(&r, HDR_EDIT_INSERT, "DKIM-Signature") == NULL &&
	    r.out.verdict.action == VERDICT_CONTINUE,
	    "an external client is not signed");
	run_free(&r);
	dkimd_conf_free(c);
}

/* h_tag - the h= of the first DKIM-Signature edit, unfolded, lower case */
static void
h_tag(const struct run *r, struct buf *out)
{
	const struct hdr_edit *e = first_edit(r, HDR_EDIT_INSERT,
	    "DKIM-Signature");
	const char *p;

	buf_reset(out);
	buf_append(out, "", 0);
	if (e == NULL || (p = strstr(e->value, "h=")) == NULL)
		return;
	for (p += 2; *p != '\0' && *p != ';'; p++)
		if (*p != '\n' && *p != '\t' && *p != ' ')
			buf_putc(out, (char)tolower((unsigned char)*p));
}

/* test_headers - SignHeaders, OversignHeaders, OmitHeaders as OpenDKIM */
static void
test_headers(void)
{
	static const struct {
		const char *conf, *h, *name;
	} t[] = {
		{ "sign.conf", "date:from:to:subject:message-id:from",
		    "SignHeaders list, From oversigned" },
		{ "hdr1.conf", "from:subject:to:message-id:x-custom:from",
		    "SignHeaders *,+X-Custom,-Date: a change to the default" },
		{ "hdr2.conf", "subject:date:from:from",
		    "SignHeaders without From: From is signed anyway" },
		{ "hdr3.conf", "from:date:to:message-id:from",
		    "OmitHeaders From,Subject: From cannot be omitted" },
		{ "hdr4.conf", "from:subject:date:to:message-id:from",
		    "SignHeaders *,+Received: Received stays omitted (the "
		    "default OmitHeaders)" },
		{ "hdr5.conf", "from:subject:date:to:message-id:from:subject",
		    "OversignHeaders From,Subject" },
		{ "hdr6.conf", "to:from:from", "SignHeaders file:" },
		{ "hdr7.conf", "x-custom:from:from", "SignHeaders X-Custom and "
		    "OmitHeaders .: X-Custom and From only" },
	};
	struct buf msg = BUF_INIT, h = BUF_INIT, v = BUF_INIT;
	struct run r;
	size_t i;

	buf_printf(&msg, "X-Custom: yes\n%s", internal);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct dkimd_conf *c = load(t[i].conf);

		go(c, "127.0.0.1", msg.s, msg.len, &r);
		h_tag(&r, &h);
		is_str(buf_str(&h), t[i].h, t[i].name);
		verify_text(&r.result, &v);
		ok(strncmp(buf_str(&v), "pass", 4) == 0, "%s: verifies",
		    t[i].name);
		run_free(&r);
		dkimd_conf_free(c);
	}
	{
		struct buf e = BUF_INIT, text = BUF_INIT;
		char path[512];
		struct dkimd_conf *c;

		buf_puts(&text, "SignHeaders ");
		for (i = 0; i < 70; i++)
			buf_printf(&text, "%sX-H%zu", i ? "," : "", i);
		buf_puts(&text, "\n");
		t_put(tmpdir, "hdrbad.conf", buf_str(&text), 0644);
		snprintf(path, sizeof(path), "%s/hdrbad.conf", tmpdir);
		c = dkimd_conf_load(path, NULL, NULL, &e);
		ok(c == NULL && strstr(buf_str(&e), "hdrbad.conf:1: SignHeaders: "
		    "more than 64 header names") != NULL,
		    "SignHeaders with 70 names: refused, naming file:line");
		if (c != NULL)
			dkimd_conf_free(c);
		buf_free(&e);
		buf_free(&text);
	}
	buf_free(&msg);
	buf_free(&h);
	buf_free(&v);
}

/* max_rss_kb - the peak resident size so far */
static long
max_rss_kb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

/* test_big_body - 50 MB in 64 KB chunks, signed, memory flat */
static void
test_big_body(void)
{
	struct dkimd_conf *cs = load("sign.conf");
	struct dkimd_conf *c = load("verify.conf");
	unsigned char chunk[65536];
	struct run r;
	size_t i, total = 50u << 20;
	long before, after;
	const struct hdr_edit *e;

	for (i = 0; i < sizeof(chunk); i++)
		chunk[i] = i % 80 == 79 ? '\n' : (unsigned char)('a' + i % 26);
	before = max_rss_kb();
	split(internal, strlen(internal), &r);
	buf_reset(&r.body);
	feed(cs, "127.0.0.1", NULL, &r, 65535);	/* header only */
	/* feed ran eom on an empty body: start over by hand */
	dkimd_msg_reset(r.m);
	dkimd_msg_envfrom(r.m, "BIG", NULL, NULL, NULL, NULL);
	for (i = 0; i < r.nf; i++)
		dkimd_msg_header(r.m, r.f[i].name, r.f[i].value);
	dkimd_msg_eoh(r.m);
	for (i = 0; i < total; i += sizeof(chunk))
		dkimd_msg_body(r.m, chunk, sizeof(chunk));
	dkimd_msg_eom(r.m, &r.out);
	after = max_rss_kb();
	e = first_edit(&r, HDR_EDIT_INSERT, "DKIM-Signature");
	ok(r.out.verdict.action == VERDICT_CONTINUE && e != NULL,
	    "50 MB body in 64 KB chunks: signed");
	ok(after - before < 8 * 1024, "50 MB body: peak memory grew by "
	    "%ld KB (< 8 MB): the body is streamed, not stored",
	    after - before);
	run_free(&r);
	dkimd_conf_free(cs);
	dkimd_conf_free(c);
}

int
main(void)
{
	struct buf err = BUF_INIT;
	size_t i;

	log_open("dkimd_msg", 0, LOG_MAIL, 0);
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	t_copy(tmpdir, DATA "rsa2048.pem", "rsa2048.pem", 0600);
	t_copy(tmpdir, DATA "ed25519.pem", "ed25519.pem", 0600);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		t_put(tmpdir, files[i].name, files[i].text, 0644);
	if ((zone = dns_new_zone(ZONE, &err)) == NULL) {
		diag("%s: %s", ZONE, buf_str(&err));
		return 1;
	}

	test_sign();
	test_verify();
	test_forged();
	test_actions();
	test_limits();
	test_remove_old();
	test_hostile();
	test_connect();
	test_headers();
	test_big_body();

	dns_free(zone);
	buf_free(&err);
	{
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			diag("could not remove %s", tmpdir);
	}
	return done_testing();
}
