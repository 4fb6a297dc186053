/*
 * arc - chains sealed and validated in memory: 1 to 50 hops, RSA and
 * Ed25519, oldest-pass, a failed chain that stays failed, the 50-set
 * limit, MinimumKeyBits; the AAR's collection of results; hostile fields
 * (incomplete sets, "="-less tokens, duplicate instances, i=0, i=51, huge
 * i, too many fields) that must fail cleanly; bounded work on a 50-set
 * chain with 2 KB fields; the parser entry points; stage order
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "arc.h"
#include "files.h"
#include "tap.h"

#define D	"t/data/dkim/"
#define ID	"relay.example.net"

static struct buf keys = BUF_INIT;

static const char base[] =
    "Authentication-Results: " ID "; dkim=pass header.d=example.com;\r\n"
    "\tspf=pass smtp.mailfrom=example.com\r\n"
    "Authentication-Results: other.example; dkim=fail\r\n"
    "From: Alice <alice@example.com>\r\n"
    "To: bob@example.org\r\n"
    "Subject: ARC test\r\n"
    "Date: Thu, 3 Dec 2026 08:00:00 +0000\r\n"
    "Message-ID: <arc-test@example.com>\r\n"
    "\r\n"
    "Hello,\r\nthis travels through several hops.\r\n";

/* lookup - key records from t/data/dkim/test.keys */
static enum dkim_key_status
lookup(void *arg, const char *qname, struct buf *rec, int *secure)
{
	const char *p = keys.s, *e;
	size_t ql = strlen(qname);

	(void)arg;
	*secure = 0;
	for (; p != NULL && *p != '\0'; p = e + (*e != '\0')) {
		e = p + strcspn(p, "\n");
		if ((size_t)(e - p) > ql && strncasecmp(p, qname, ql) == 0 &&
		    p[ql] == ' ') {
			buf_append(rec, p + ql + 1, (size_t)(e - p) - ql - 1);
			return DKIM_KEY_OK;
		}
	}
	return DKIM_KEY_NOTFOUND;
}

/* verify - the chain's status; *oldest and *sets out (may be NULL) */
static enum arc_chain
verify(const char *msg, unsigned bits, int *oldest, const char **reason)
{
	static char why[160];
	struct arc_opts o = ARC_OPTS_INIT;
	struct arc *a;
	enum arc_chain r = ARC_CHAIN_NONE;

	o.min_key_bits = bits;
	if ((a = arc_new(&o, lookup, NULL)) == NULL)
		return ARC_CHAIN_NONE;
	if (arc_message(a, msg, strlen(msg)) == ARC_OK &&
	    arc_eom(a) == ARC_OK) {
		r = arc_result(a);
		if (oldest)
			*oldest = arc_oldest_pass(a);
		snprintf(why, sizeof(why), "%s", arc_reason(a));
		if (reason)
			*reason = why;
	} else
		r = (enum arc_chain)-1;
	arc_free(a);
	return r;
}

/* seal - prepend a new set to msg; the arc_seal status */
static enum arc_seal_status
seal(struct buf *msg, const struct crypto_key *key, const char *sel,
    const char *own, const char **why)
{
	struct arc_seal_opts o;
	struct arc_set set;
	struct arc *a;
	struct buf out = BUF_INIT;
	enum arc_seal_status st;

	memset(&o, 0, sizeof(o));
	o.key = key;
	o.domain = "example.com";
	o.selector = sel;
	o.authserv_id = ID;
	o.hcanon = o.bcanon = CANON_RELAXED;
	o.now = 1764748800;
	if ((a = arc_new(NULL, lookup, NULL)) == NULL)
		return ARC_SEAL_ERROR;
	if (arc_message(a, msg->s, msg->len) != ARC_OK ||
	    arc_eom(a) != ARC_OK) {
		arc_free(a);
		return ARC_SEAL_ERROR;
	}
	st = arc_seal(a, &o, arc_result(a), own, &set, why);
	if (st == ARC_SEAL_OK) {
		buf_printf(&out, "ARC-Seal: %s\r\nARC-Message-Signature: %s\r\n"
		    "ARC-Authentication-Results: %s\r\n%s", set.as.s,
		    set.ams.s, set.aar.s, msg->s);
		buf_reset(msg);
		buf_append(msg, out.s, out.len);
		arc_set_free(&set);
	}
	buf_free(&out);
	arc_free(a);
	return st;
}

/* set_msg - msg = s */
static void
set_msg(struct buf *msg, const char *s)
{
	buf_reset(msg);
	buf_puts(msg, s);
}

/* replace - the first occurrence of from in msg by to */
static int
replace(struct buf *msg, const char *from, const char *to)
{
	struct buf out = BUF_INIT;
	char *p = strstr(msg->s, from);

	if (p == NULL)
		return -1;
	buf_append(&out, msg->s, (size_t)(p - msg->s));
	buf_puts(&out, to);
	buf_puts(&out, p + strlen(from));
	buf_reset(msg);
	buf_append(msg, out.s, out.len);
	buf_free(&out);
	return 0;
}

/* test_parsers - arc_kind and arc_instance on hostile values */
static void
test_parsers(void)
{
	static const struct {
		enum arc_kind k;
		const char *v;
		unsigned want;
	} t[] = {
		{ ARC_KIND_AAR, " i=1; example.net; none", 1 },
		{ ARC_KIND_AAR, "i = 7 ;x", 7 },
		{ ARC_KIND_AAR, " i=1 example.net; none", 0 },
		{ ARC_KIND_AAR, " example.net; i=1", 0 },
		{ ARC_KIND_AAR, " i=; x", 0 },
		{ ARC_KIND_AAR, " i=0;", 0 },
		{ ARC_KIND_AAR, " i=51;", 51 },
		{ ARC_KIND_AAR, " i=99999999999999999999999999999;", 51 },
		{ ARC_KIND_AAR, "", 0 },
		{ ARC_KIND_AMS, " i=2; a=rsa-sha256", 2 },
		{ ARC_KIND_AMS, " a=rsa-sha256; i=50", 50 },
		{ ARC_KIND_AMS, " i=1; foo; a=rsa-sha256", 0 },
		{ ARC_KIND_AMS, " i=1; i=2", 0 },
		{ ARC_KIND_AMS, " i=0", 0 },
		{ ARC_KIND_AMS, " i=-1", 0 },
		{ ARC_KIND_AMS, " i=1x", 0 },
		{ ARC_KIND_AS, " i=18446744073709551617", 51 },
		{ ARC_KIND_AS, " ;;;", 0 },
		{ ARC_KIND_AS, " =", 0 },
		{ ARC_KIND_AS, "", 0 },
	};
	size_t k;

	ok(arc_kind("arc-seal", 8) == ARC_KIND_AS &&
	    arc_kind("ARC-Message-Signature", 21) == ARC_KIND_AMS &&
	    arc_kind("Arc-Authentication-Results", 26) == ARC_KIND_AAR &&
	    arc_kind("ARC-Sealx", 9) == ARC_KIND_NONE &&
	    arc_kind("DKIM-Signature", 14) == ARC_KIND_NONE,
	    "arc_kind names the three ARC fields, without case");
	for (k = 0; k < sizeof(t) / sizeof(t[0]); k++)
		is_int((long)arc_instance(t[k].k, t[k].v, strlen(t[k].v)),
		    (long)t[k].want, t[k].v);
}

/* test_chains - 1 to 5 hops, RSA and Ed25519 mixed, oldest-pass */
static void
test_chains(struct crypto_key *rsa, struct crypto_key *ed)
{
	struct buf msg = BUF_INIT;
	const char *why = NULL;
	int oldest = -2, hop;
	char name[64];

	ok(verify(base, 0, NULL, NULL) == ARC_CHAIN_NONE,
	    "a message without ARC fields is arc=none");
	set_msg(&msg, base);
	for (hop = 1; hop <= 5; hop++) {
		ok(seal(&msg, hop % 2 ? rsa : ed, hop % 2 ? "rsa1024" :
		    "ed25519", NULL, &why) == ARC_SEAL_OK, "hop %d sealed", hop);
		snprintf(name, sizeof(name), "%d hops (RSA and Ed25519): pass",
		    hop);
		oldest = -2;
		ok(verify(msg.s, 0, &oldest, &why) == ARC_CHAIN_PASS, "%s", name);
		is_int(oldest, hop == 1 ? -1 : 0,
		    "oldest-pass 0 when every AMS validates (-1 for one set)");
	}
	ok(strstr(msg.s, "; a=ed25519-sha256;") != NULL,
	    "Ed25519 seals are written as ed25519-sha256");
	ok(strncmp(msg.s, "ARC-Seal: i=", 12) == 0,
	    "the instance is the first tag of a seal");
	/* a body change by hop 6, which then seals: only AMS(6) holds */
	replace(&msg, "several hops", "several hops, and a footer");
	ok(verify(msg.s, 0, NULL, NULL) == ARC_CHAIN_FAIL,
	    "a changed body fails the newest AMS: arc=fail");
	ok(seal(&msg, rsa, "rsa1024", NULL, &why) == ARC_SEAL_OK,
	    "a failed chain is sealed once, with cv=fail");
	ok(strstr(msg.s, "cv=fail") != NULL, "that seal says cv=fail");
	ok(verify(msg.s, 0, &oldest, &why) == ARC_CHAIN_FAIL,
	    "a chain with a cv=fail seal stays failed");
	ok(seal(&msg, rsa, "rsa1024", NULL, &why) == ARC_SEAL_SKIP,
	    "and is never extended again (%s)", why ? why : "");
	buf_free(&msg);

	/* oldest-pass: hops 1-2 sign Subject, hop 3 does not, the subject
	 * changes between 2 and 3 */
	set_msg(&msg, base);
	seal(&msg, rsa, "rsa1024", NULL, &why);
	seal(&msg, rsa, "rsa1024", NULL, &why);
	replace(&msg, "Subject: ARC test", "Subject: [list] ARC test");
	ok(verify(msg.s, 0, NULL, NULL) == ARC_CHAIN_FAIL,
	    "a changed Subject breaks AMS(2)");
	{
		struct arc_seal_opts o;
		struct arc_set set;
		struct arc *a = arc_new(NULL, lookup, NULL);
		static const char *const hl[] = { "from", "to", "date", NULL };
		struct buf out = BUF_INIT;

		memset(&o, 0, sizeof(o));
		o.key = rsa;
		o.domain = "example.com";
		o.selector = "rsa1024";
		o.authserv_id = ID;
		o.headers = hl;
		arc_message(a, msg.s, msg.len);
		arc_eom(a);
		/* the list forwards and vouches: it records pass */
		ok(arc_seal(a, &o, ARC_CHAIN_PASS, "arc=pass", &set, &why) ==
		    ARC_SEAL_OK, "hop 3 seals with cv=pass");
		buf_printf(&out, "ARC-Seal: %s\r\nARC-Message-Signature: %s\r\n"
		    "ARC-Authentication-Results: %s\r\n%s", set.as.s, set.ams.s,
		    set.aar.s, msg.s);
		ok(verify(out.s, 0, &oldest, &why) == ARC_CHAIN_PASS,
		    "the chain passes on the newest AMS");
		is_int(oldest, 3, "oldest-pass=3: AMS(2) and AMS(1) fail");
		arc_set_free(&set);
		arc_free(a);
		buf_free(&out);
	}
	buf_free(&msg);
}

/* test_hostile - malformed chains fail cleanly */
static void
test_hostile(struct crypto_key *rsa)
{
	struct buf msg = BUF_INIT, one = BUF_INIT;
	const char *why = NULL, *reason = "";
	char *p;

	set_msg(&one, base);
	seal(&one, rsa, "rsa1024", NULL, &why);

	set_msg(&msg, one.s);
	p = strstr(msg.s, "ARC-Authentication-Results:");
	replace(&msg, "ARC-Authentication-Results:", "X-Dropped:");
	ok(p != NULL && verify(msg.s, 0, NULL, &reason) == ARC_CHAIN_FAIL,
	    "incomplete set (no AAR): fail (%s)", reason);
	{
		struct arc *a = arc_new(NULL, lookup, NULL);
		struct arc_seal_opts o;
		struct arc_set set;

		memset(&o, 0, sizeof(o));
		o.key = rsa;
		o.domain = "example.com";
		o.selector = "rsa1024";
		o.authserv_id = ID;
		arc_message(a, msg.s, msg.len);
		arc_eom(a);
		ok(arc_seal(a, &o, ARC_CHAIN_PASS, NULL, &set, &why) ==
		    ARC_SEAL_OK && set.cv == ARC_CHAIN_FAIL && set.instance == 2,
		    "sealing an incomplete chain records cv=fail, whatever the "
		    "caller asks");
		arc_set_free(&set);
		arc_free(a);
	}

	set_msg(&msg, one.s);
	replace(&msg, "ARC-Seal: i=1; a=", "ARC-Seal: i=1; i=1; a=");
	ok(verify(msg.s, 0, NULL, &reason) == ARC_CHAIN_FAIL,
	    "duplicate tag in AS: fail (%s)", reason);

	set_msg(&msg, one.s);
	replace(&msg, "ARC-Message-Signature: i=1; a=",
	    "ARC-Message-Signature: i=1; junk; a=");
	ok(verify(msg.s, 0, NULL, &reason) == ARC_CHAIN_FAIL,
	    "\"=\"-less token in AMS: fail (%s)", reason);

	set_msg(&msg, one.s);
	buf_puts(&msg, "");
	{
		struct buf dup = BUF_INIT;

		buf_printf(&dup, "ARC-Authentication-Results: i=1; x; none\r\n%s",
		    one.s);
		ok(verify(dup.s, 0, NULL, &reason) == ARC_CHAIN_FAIL,
		    "duplicate instance (two AAR i=1): fail (%s)", reason);
		buf_reset(&dup);
		buf_printf(&dup, "ARC-Seal: i=0; a=rsa-sha256; b=AA==; cv=none;"
		    " d=example.com; s=x\r\n%s", base);
		ok(verify(dup.s, 0, NULL, &reason) == ARC_CHAIN_FAIL,
		    "i=0: fail (%s)", reason);
		buf_reset(&dup);
		buf_printf(&dup, "ARC-Seal: i=51; cv=pass\r\n"
		    "ARC-Message-Signature: i=51\r\n"
		    "ARC-Authentication-Results: i=51; x; none\r\n%s", one.s);
		ok(verify(dup.s, 0, NULL, &reason) == ARC_CHAIN_FAIL,
		    "i=51: fail (%s)", reason);
		buf_reset(&dup);
		buf_printf(&dup, "ARC-Seal: i=340282366920938463463374607431768"
		    "211457; cv=pass\r\n%s", one.s);
		ok(verify(dup.s, 0, NULL, &reason) == ARC_CHAIN_FAIL,
		    "huge i: fail (%s)", reason);
		buf_reset(&dup);
		buf_printf(&dup, "ARC-Seal: i=3; a=rsa-sha256; b=AA==; cv=pass;"
		    " d=example.com; s=x\r\nARC-Message-Signature: i=3\r\n"
		    "ARC-Authentication-Results: i=3; x; none\r\n%s", one.s);
		ok(verify(dup.s, 0, NULL, &reason) == ARC_CHAIN_FAIL,
		    "a gap (sets 1 and 3): fail (%s)", reason);
		buf_reset(&dup);
		buf_printf(&dup, "ARC-Seal:\r\nARC-Message-Signature\r\n"
		    "ARC-Authentication-Results: \r\n%s", base);
		ok(verify(dup.s, 0, NULL, &reason) == ARC_CHAIN_FAIL,
		    "empty ARC fields: fail (%s)", reason);
		{
			int k;

			buf_reset(&dup);
			for (k = 0; k < 200; k++)
				buf_printf(&dup, "ARC-Seal: i=%d\r\n", k % 60);
			buf_puts(&dup, base);
			ok(verify(dup.s, 0, NULL, &reason) == ARC_CHAIN_FAIL,
			    "200 ARC fields: fail (%s)", reason);
			ok(seal(&dup, rsa, "rsa1024", NULL, &why) != ARC_SEAL_OK,
			    "and no seal is added to it");
		}
		buf_free(&dup);
	}

	set_msg(&msg, one.s);
	replace(&msg, "cv=none", "cv=pass");
	ok(verify(msg.s, 0, NULL, &reason) == ARC_CHAIN_FAIL,
	    "AS(1) with cv=pass: fail (%s)", reason);

	/* MinimumKeyBits */
	{
		struct crypto_key *k512 = NULL;

		crypto_key_load_private_file(D "rsa512.pem", &k512);
		set_msg(&msg, base);
		seal(&msg, k512, "rsa512", NULL, &why);
		ok(verify(msg.s, 0, NULL, &reason) == ARC_CHAIN_FAIL,
		    "a 512-bit key fails at the 1024-bit default (%s)", reason);
		ok(verify(msg.s, 512, NULL, NULL) == ARC_CHAIN_PASS,
		    "and passes with min_key_bits 512");
		crypto_key_free(k512);
	}
	buf_free(&msg);
	buf_free(&one);
}

#define AAR_START "ARC-Authentication-Results: i=1; " ID \
	"; arc=none smtp.remote-ip=192.0.2.1;\r\n\t"

/* test_aar - the results the AAR collects */
static void
test_aar(struct crypto_key *rsa)
{
	struct buf msg = BUF_INIT;
	const char *why;
	char *aar, *end;

	set_msg(&msg, base);
	replace(&msg, "From:", "Authentication-Results: " ID "; arc=pass\r\n"
	    "From:");
	seal(&msg, rsa, "rsa1024", "arc=none smtp.remote-ip=192.0.2.1", &why);
	aar = strstr(msg.s, "ARC-Authentication-Results: ");
	end = aar ? strstr(aar, "\r\nARC-Seal") : NULL;
	if (end == NULL && aar != NULL)
		end = strstr(aar, "\r\nAuthentication-Results");
	if (aar != NULL && end != NULL)
		*end = '\0';
	ok(aar != NULL && strncmp(aar, AAR_START, strlen(AAR_START)) == 0,
	    "AAR: instance, our id, our own result first");
	ok(aar != NULL && strstr(aar, "dkim=pass header.d=example.com") &&
	    strstr(aar, "spf=pass smtp.mailfrom=example.com") &&
	    strstr(aar, "dkim=fail") == NULL && strstr(aar, "arc=pass") == NULL,
	    "AAR: our id's results, not another id's, and no forged arc=");
	if (aar == NULL)
		diag("no AAR in %s", msg.s);
	{
		static const char *const hl[] = { "Authentication-Results",
			"arc-seal", "subject", NULL };
		struct arc *a = arc_new(NULL, lookup, NULL);
		struct arc_seal_opts o;
		struct arc_set set;

		memset(&o, 0, sizeof(o));
		o.key = rsa;
		o.domain = "example.com";
		o.selector = "rsa1024";
		o.authserv_id = ID;
		o.headers = hl;
		set_msg(&msg, base);
		arc_message(a, msg.s, msg.len);
		arc_eom(a);
		ok(arc_seal(a, &o, ARC_CHAIN_NONE, NULL, &set, &why) ==
		    ARC_SEAL_OK && strstr(set.ams.s, "h=subject:from;") != NULL,
		    "AMS h=: Authentication-Results and ARC-Seal are never "
		    "signed, From always is");
		if (set.ams.s != NULL && strstr(set.ams.s, "h=subject:from;") ==
		    NULL)
			diag("AMS: %s", set.ams.s);
		arc_set_free(&set);
		arc_free(a);
	}
	buf_free(&msg);
}

/* test_limits - 50 sets with 2 KB AARs: pass, quickly; no 51st */
static void
test_limits(struct crypto_key *rsa)
{
	struct buf msg = BUF_INIT, own = BUF_INIT;
	const char *why = NULL;
	struct timespec t0, t1;
	double ms;
	int k, sealed = 0, oldest = -2;

	buf_puts(&own, "arc=pass policy.note=");
	for (k = 0; k < 2000; k++)
		buf_putc(&own, 'a' + k % 26);
	set_msg(&msg, base);
	for (k = 0; k < ARC_MAX_SETS; k++)
		sealed += seal(&msg, rsa, "rsa1024", own.s, &why) == ARC_SEAL_OK;
	is_int(sealed, 50, "50 sets sealed");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ok(verify(msg.s, 0, &oldest, NULL) == ARC_CHAIN_PASS,
	    "a 50-set chain with 2 KB AARs passes");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	diag("50-set chain validated in %.1f ms (%zu bytes)", ms, msg.len);
	ok(ms < 3000, "in bounded time (%.1f ms; the margin is wide for "
	    "shared and sanitized builds)", ms);
	is_int(oldest, 0, "oldest-pass 0");
	ok(seal(&msg, rsa, "rsa1024", NULL, &why) == ARC_SEAL_SKIP,
	    "no 51st set (%s)", why ? why : "");
	buf_free(&msg);
	buf_free(&own);
}

/* test_stages - out of order calls */
static void
test_stages(struct crypto_key *rsa)
{
	struct arc *a = arc_new(NULL, lookup, NULL);
	struct arc_seal_opts o;
	struct arc_set set;
	const char *why;

	memset(&o, 0, sizeof(o));
	o.key = rsa;
	o.domain = "example.com";
	o.selector = "rsa1024";
	o.authserv_id = ID;
	ok(arc_seal(a, &o, ARC_CHAIN_NONE, NULL, &set, &why) == ARC_SEAL_ERROR,
	    "sealing before the end of the message is an error");
	arc_header(a, "From: a@example.com", 19);
	arc_eoh(a);
	ok(arc_header(a, "To: b@example.com", 17) == ARC_BADSTAGE,
	    "a header field after eoh: ARC_BADSTAGE");
	ok(arc_eom(a) == ARC_OK && arc_result(a) == ARC_CHAIN_NONE,
	    "eom without a body: none");
	ok(arc_eom(a) == ARC_BADSTAGE, "eom twice: ARC_BADSTAGE");
	o.domain = "bad domain";
	ok(arc_seal(a, &o, ARC_CHAIN_NONE, NULL, &set, &why) == ARC_SEAL_ERROR,
	    "a d= that is no domain: error (%s)", why);
	arc_free(a);
	arc_free(NULL);
}

int
main(void)
{
	struct crypto_key *rsa = NULL, *ed = NULL;

	crypto_init();
	if (t_slurp(D "test.keys", &keys) < 0 ||
	    crypto_key_load_private_file(D "rsa1024.pem", &rsa) != CRYPTO_OK ||
	    crypto_key_load_private_file(D "ed25519.seed", &ed) != CRYPTO_OK) {
		ok(0, "test keys in " D);
		return done_testing();
	}
	test_parsers();
	test_chains(rsa, ed);
	test_hostile(rsa);
	test_aar(rsa);
	test_limits(rsa);
	test_stages(rsa);
	crypto_key_free(rsa);
	crypto_key_free(ed);
	buf_free(&keys);
	return done_testing();
}
