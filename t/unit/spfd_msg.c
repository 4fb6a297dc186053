/*
 * spfd_msg - milter-spf's per-message logic without libmilter: SPF
 * results for each identity under each rejection setting, where the
 * verdict lands (RCPT or end of message), exempt recipients, TestOnly,
 * trusted clients, forged Authentication-Results, and the fields added.
 * DNS answers come from zone data in memory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authres.h"
#include "dns.h"
#include "dns_zone.h"
#include "log.h"
#include "../../milter-spf/spfd_conf.h"
#include "../../milter-spf/spfd_msg.h"
#include "../../milter-spf/spfd_policy.h"
#include "tap.h"

#define IP	"192.0.2.1"

static const char *const zone[][3] = {
	{ "pass.test", "TXT", "\"v=spf1 ip4:192.0.2.1 -all\"" },
	{ "fail.test", "TXT", "\"v=spf1 -all\"" },
	{ "soft.test", "TXT", "\"v=spf1 ~all\"" },
	{ "neutral.test", "TXT", "\"v=spf1 ?all\"" },
	{ "none.test", "A", "192.0.2.9" },
	{ "perm.test", "TXT", "\"v=spf1 bogus:x -all\"" },
	{ "temp.test", "TXT", "TIMEOUT" },
	{ "exp.test", "TXT", "\"v=spf1 -all exp=why.exp.test\"" },
	{ "why.exp.test", "TXT", "\"Sender %{l} is not welcome\"" },
	{ "relay.test", "A", "192.0.2.1" },
	{ "fwd.test", "TXT", "\"v=spf1 ip4:192.0.2.0/24 -all\"" },
};

/* make_conf - a configuration from text, answering from the zone above */
static struct spfd_conf *
make_conf(const char *extra)
{
	struct buf text = BUF_INIT, err = BUF_INIT;
	struct spfd_conf *c;
	size_t i;

	buf_printf(&text, "AuthservID mx.test\nLogResults no\n%s", extra);
	c = spfd_conf_load(NULL, buf_str(&text), NULL, &err);
	if (c == NULL) {
		diag("config: %s", buf_str(&err));
		exit(1);
	}
	dns_free(c->dns);
	buf_reset(&err);
	if ((c->dns = dns_new_zone(NULL, &err)) == NULL)
		exit(1);
	for (i = 0; i < sizeof(zone) / sizeof(zone[0]); i++)
		if (dns_zone_add(c->dns, zone[i][0], dns_type_parse(zone[i][1]),
		    zone[i][2], &err) < 0) {
			diag("zone: %s", buf_str(&err));
			exit(1);
		}
	buf_free(&text);
	buf_free(&err);
	return c;
}

/* A transaction: what the client does and what milter-spf should say. */
struct tx {
	const char *name;
	const char *conf;		/* extra configuration lines */
	const char *helo, *from, *rcpt;
	const char *auth, *daemon;	/* macros */
	const char *want_rcpt;		/* "continue" or "550 5.7.23 ..." */
	const char *want_eom;		/* likewise, at end of message */
	const char *want_ar;		/* the A-R value, "" for none */
};

/* reply_str - "continue" or "rcode xcode text" */
static void
reply_str(const struct verdict *r, struct buf *out)
{
	buf_reset(out);
	if (r->action == VERDICT_CONTINUE)
		buf_puts(out, "continue");
	else
		buf_printf(out, "%s %s %s", r->rcode, r->xcode, r->text);
}

/* prefix_ok - want is a prefix of got */
static void
prefix_ok(const char *got, const char *want, const char *name,
    const char *what)
{
	int r = strncmp(got, want, strlen(want)) == 0;

	ok(r, "%s: %s", name, what);
	if (!r)
		diag("got '%s', want '%s...'", got, want);
}

/* ar_of - the inserted Authentication-Results value, or "" */
static const char *
ar_of(const struct spfd_outcome *o)
{
	size_t i;

	for (i = 0; i < o->nedit; i++)
		if (o->edit[i].op == HDR_EDIT_INSERT &&
		    strcmp(o->edit[i].name, "Authentication-Results") == 0)
			return o->edit[i].value;
	return "";
}

static const struct tx txs[] = {
	/* MAIL FROM results under the default Mail_From_reject Fail */
	{ "pass", "", "relay.test", "<a@pass.test>", "<u@rcpt.test>", 0, 0,
	  "continue", "continue",
	  "mx.test;\n\tspf=pass smtp.mailfrom=pass.test;\n\tspf=none "
	  "smtp.helo=relay.test" },
	{ "fail rejected at RCPT", "", "relay.test", "<a@fail.test>",
	  "<u@rcpt.test>", 0, 0, "550 5.7.23 SPF MAIL FROM check failed: "
	  "192.0.2.1 is not one of fail.test's designated mail servers.",
	  "continue", NULL },
	{ "softfail accepted by default", "", "relay.test", "<a@soft.test>",
	  "<u@rcpt.test>", 0, 0, "continue", "continue",
	  "mx.test;\n\tspf=softfail smtp.mailfrom=soft.test;\n\tspf=none "
	  "smtp.helo=relay.test" },
	{ "neutral accepted by default", "", "relay.test",
	  "<a@neutral.test>", "<u@rcpt.test>", 0, 0, "continue", "continue",
	  "mx.test;\n\tspf=neutral smtp.mailfrom=neutral.test;\n\tspf=none "
	  "smtp.helo=relay.test" },
	{ "none accepted", "", "relay.test", "<a@none.test>",
	  "<u@rcpt.test>", 0, 0, "continue", "continue",
	  "mx.test;\n\tspf=none smtp.mailfrom=none.test;\n\tspf=none "
	  "smtp.helo=relay.test" },
	{ "permerror accepted by default", "", "relay.test",
	  "<a@perm.test>", "<u@rcpt.test>", 0, 0, "continue", "continue",
	  "mx.test;\n\tspf=permerror (unknown mechanism 'bogus:x' at "
	  "perm.test)\n\tsmtp.mailfrom=perm.test;\n\tspf=none "
	  "smtp.helo=relay.test" },
	{ "temperror accepted by default", "", "relay.test",
	  "<a@temp.test>", "<u@rcpt.test>", 0, 0, "continue", "continue",
	  "mx.test;\n\tspf=temperror" },
	/* other settings */
	{ "softfail rejected with Mail_From_reject Softfail",
	  "Mail_From_reject Softfail\n", "relay.test", "<a@soft.test>",
	  "<u@rcpt.test>", 0, 0, "550 5.7.23 SPF MAIL FROM check failed: "
	  "soft.test does not designate 192.0.2.1 as permitted sender "
	  "(softfail)", "continue", NULL },
	{ "neutral rejected with SPF_Not_Pass",
	  "Mail_From_reject = SPF_Not_Pass\n", "relay.test",
	  "<a@neutral.test>", "<u@rcpt.test>", 0, 0, "550 5.7.23 ",
	  "continue", NULL },
	{ "none accepted with SPF_Not_Pass", "Mail_From_reject SPF_Not_Pass\n",
	  "relay.test", "<a@none.test>", "<u@rcpt.test>", 0, 0, "continue",
	  "continue", "mx.test;\n\tspf=none smtp.mailfrom=none.test" },
	{ "fail accepted with Mail_From_reject False",
	  "Mail_From_reject False\n", "relay.test", "<a@fail.test>",
	  "<u@rcpt.test>", 0, 0, "continue", "continue",
	  "mx.test;\n\tspf=fail smtp.mailfrom=fail.test" },
	{ "MAIL FROM unchecked with No_Check", "Mail_From_reject No_Check\n",
	  "relay.test", "<a@fail.test>", "<u@rcpt.test>", 0, 0, "continue",
	  "continue", "mx.test;\n\tspf=none smtp.helo=relay.test" },
	{ "permerror rejected with PermError_reject",
	  "PermError_reject yes\n", "relay.test", "<a@perm.test>",
	  "<u@rcpt.test>", 0, 0, "550 5.7.24 SPF MAIL FROM check: permanent "
	  "error in the SPF record of perm.test: unknown mechanism", "continue",
	  NULL },
	{ "temperror deferred with TempError_Defer",
	  "TempError_Defer = True\n", "relay.test", "<a@temp.test>",
	  "<u@rcpt.test>", 0, 0, "451 4.7.24 SPF MAIL FROM check: temporary "
	  "error looking up the SPF record of temp.test", "continue", NULL },
	{ "temperror not deferred when Mail_From_reject is False",
	  "TempError_Defer yes\nMail_From_reject False\n", "relay.test",
	  "<a@temp.test>", "<u@rcpt.test>", 0, 0, "continue", "continue",
	  "mx.test;\n\tspf=temperror" },
	{ "explanation of the domain in the reply", "", "relay.test",
	  "<a%b\"c@exp.test>", "<u@rcpt.test>", 0, 0,
	  "550 5.7.23 SPF MAIL FROM check failed: the domain exp.test "
	  "explains: Sender a%%b\"c is not welcome", "continue", NULL },
	/* HELO identity */
	{ "HELO fail rejected by default", "", "fail.test", "<a@pass.test>",
	  "<u@rcpt.test>", 0, 0, "550 5.7.23 SPF HELO check failed: "
	  "192.0.2.1 is not one of fail.test's designated mail servers.",
	  "continue", NULL },
	{ "HELO softfail accepted by default", "", "soft.test",
	  "<a@pass.test>", "<u@rcpt.test>", 0, 0, "continue", "continue",
	  "mx.test;\n\tspf=pass smtp.mailfrom=pass.test;\n\tspf=softfail "
	  "smtp.helo=soft.test" },
	{ "HELO softfail rejected with HELO_reject Softfail",
	  "HELO_reject Softfail\n", "soft.test", "<a@pass.test>",
	  "<u@rcpt.test>", 0, 0, "550 5.7.23 SPF HELO check failed", "continue",
	  NULL },
	{ "HELO neutral rejected with HELO_reject SPF_Not_Pass",
	  "HELO_reject SPF_Not_Pass\n", "neutral.test", "<a@pass.test>",
	  "<u@rcpt.test>", 0, 0, "550 5.7.23 SPF HELO check failed",
	  "continue", NULL },
	{ "HELO fail accepted with HELO_reject Null and a sender",
	  "HELO_reject Null\n", "fail.test", "<a@pass.test>",
	  "<u@rcpt.test>", 0, 0, "continue", "continue",
	  "mx.test;\n\tspf=pass smtp.mailfrom=pass.test;\n\tspf=fail "
	  "smtp.helo=fail.test" },
	{ "HELO fail rejected with HELO_reject Null and a null sender",
	  "HELO_reject Null\nMail_From_reject False\n", "fail.test", "<>",
	  "<u@rcpt.test>", 0, 0, "550 5.7.23 SPF HELO check failed",
	  "continue", NULL },
	{ "HELO fail accepted with HELO_reject False",
	  "HELO_reject False\n", "fail.test", "<a@pass.test>",
	  "<u@rcpt.test>", 0, 0, "continue", "continue",
	  "mx.test;\n\tspf=pass smtp.mailfrom=pass.test;\n\tspf=fail "
	  "smtp.helo=fail.test" },
	{ "HELO unchecked with HELO_reject No_Check",
	  "HELO_reject No_Check\n", "fail.test", "<a@pass.test>",
	  "<u@rcpt.test>", 0, 0, "continue", "continue",
	  "mx.test;\n\tspf=pass smtp.mailfrom=pass.test" },
	{ "HELO rejection wins over a MAIL FROM deferral",
	  "TempError_Defer yes\n", "fail.test", "<a@temp.test>",
	  "<u@rcpt.test>", 0, 0, "550 5.7.23 SPF HELO", "continue", NULL },
	{ "MAIL FROM rejection wins over a HELO deferral",
	  "TempError_Defer yes\n", "temp.test", "<a@fail.test>",
	  "<u@rcpt.test>", 0, 0, "550 5.7.23 SPF MAIL FROM", "continue",
	  NULL },
	/* the null sender is postmaster@HELO */
	{ "null sender checked as postmaster@HELO, pass", "", "pass.test",
	  "<>", "<u@rcpt.test>", 0, 0, "continue", "continue",
	  "mx.test;\n\tspf=pass smtp.mailfrom=pass.test;\n\tspf=pass "
	  "smtp.helo=pass.test" },
	{ "null sender checked as postmaster@HELO, fail",
	  "HELO_reject False\n", "fail.test", "<>", "<u@rcpt.test>", 0, 0,
	  "550 5.7.23 SPF MAIL FROM check failed", "continue", NULL },
	/* where and for whom the verdict applies */
	{ "postmaster exempt at RCPT", "", "relay.test", "<a@fail.test>",
	  "<postmaster@rcpt.test>", 0, 0, "continue", "continue",
	  "mx.test;\n\tspf=fail smtp.mailfrom=fail.test" },
	{ "abuse exempt at RCPT, local part in any case", "", "relay.test",
	  "<a@fail.test>", "<ABUSE@rcpt.test>", 0, 0, "continue", "continue",
	  "mx.test;\n\tspf=fail smtp.mailfrom=fail.test" },
	{ "whole address in ExemptRecipients",
	  "ExemptRecipients spam-reports@rcpt.test\n", "relay.test",
	  "<a@fail.test>", "<spam-reports@rcpt.test>", 0, 0, "continue",
	  "continue", "mx.test;\n\tspf=fail" },
	{ "postmaster not exempt once the list is changed",
	  "ExemptRecipients abuse\n", "relay.test", "<a@fail.test>",
	  "<postmaster@rcpt.test>", 0, 0, "550 5.7.23 ", "continue", NULL },
	{ "RejectAt eom: RCPT accepted, message rejected", "RejectAt eom\n",
	  "relay.test", "<a@fail.test>", "<u@rcpt.test>", 0, 0, "continue",
	  "550 5.7.23 SPF MAIL FROM check failed", "" },
	{ "RejectAt eom: deferred at end of message",
	  "RejectAt eom\nTempError_Defer yes\n", "relay.test",
	  "<a@temp.test>", "<u@rcpt.test>", 0, 0, "continue", "451 4.7.24 ",
	  "" },
	{ "RejectAt eom: exempt recipient, message accepted",
	  "RejectAt eom\n", "relay.test", "<a@fail.test>",
	  "<postmaster@rcpt.test>", 0, 0, "continue", "continue",
	  "mx.test;\n\tspf=fail smtp.mailfrom=fail.test" },
	{ "TestOnly annotates and never rejects", "TestOnly yes\n",
	  "fail.test", "<a@fail.test>", "<u@rcpt.test>", 0, 0, "continue",
	  "continue", "mx.test;\n\tspf=fail smtp.mailfrom=fail.test;\n\t"
	  "spf=fail smtp.helo=fail.test" },
	{ "TestOnly never defers", "TestOnly yes\nTempError_Defer yes\n",
	  "relay.test", "<a@temp.test>", "<u@rcpt.test>", 0, 0, "continue",
	  "continue", "mx.test;\n\tspf=temperror" },
	/* trusted clients are not checked */
	{ "authenticated sender skipped", "", "fail.test", "<a@fail.test>",
	  "<u@rcpt.test>", "alice", 0, "continue", "continue", "" },
	{ "MTA daemon name skipped", "MTA ORIGINATING, submission\n",
	  "fail.test", "<a@fail.test>", "<u@rcpt.test>", 0, "ORIGINATING",
	  "continue", "continue", "" },
	{ "other daemon name checked", "MTA ORIGINATING\n", "fail.test",
	  "<a@fail.test>", "<u@rcpt.test>", 0, "smtpd", "550 5.7.23 ",
	  "continue", NULL },
	{ "client in InternalHosts skipped", "InternalHosts 192.0.2.0/24\n",
	  "fail.test", "<a@fail.test>", "<u@rcpt.test>", 0, 0, "continue",
	  "continue", "" },
	{ "TrustedHELO whose address is the client's skipped",
	  "TrustedHELO relay.test\n", "relay.test", "<a@fail.test>",
	  "<u@rcpt.test>", 0, 0, "continue", "continue", "" },
	{ "TrustedHELO not resolving to the client checked",
	  "TrustedHELO none.test\n", "none.test", "<a@fail.test>",
	  "<u@rcpt.test>", 0, 0, "550 5.7.23 ", "continue", NULL },
	{ "TrustedDomains whose SPF passes the client skipped",
	  "TrustedDomains other.test, fwd.test\n", "relay.test",
	  "<a@fail.test>", "<u@rcpt.test>", 0, 0, "continue", "continue",
	  "" },
	{ "TrustedDomains whose SPF fails the client checked",
	  "TrustedDomains fail.test\n", "relay.test", "<a@fail.test>",
	  "<u@rcpt.test>", 0, 0, "550 5.7.23 ", "continue", NULL },
};

/* run_tx - one transaction; checks the RCPT and end-of-message answers */
static void
run_tx(const struct tx *t)
{
	struct spfd_conf *c = make_conf(t->conf);
	struct spfd_msg *m = spfd_msg_new(c);
	struct spfd_env env = { "QID1", t->auth, t->daemon, NULL, NULL };
	struct verdict r;
	struct spfd_outcome o;
	struct buf got = BUF_INIT;

	if (spfd_msg_connect(m, "client.test", IP, 25000) != 0)
		ok(0, "%s: not a peer", t->name);
	spfd_msg_helo(m, t->helo);
	spfd_msg_envfrom(m, t->from, &env);
	spfd_msg_rcpt(m, t->rcpt, &r);
	reply_str(&r, &got);
	prefix_ok(buf_str(&got), t->want_rcpt, t->name, "RCPT answer");
	if (r.action == VERDICT_CONTINUE) {
		spfd_msg_header(m, "Subject", " test");
		spfd_msg_eom(m, NULL, &o);
		reply_str(&o.reply, &got);
		prefix_ok(buf_str(&got), t->want_eom, t->name,
		    "end-of-message answer");
		if (t->want_ar != NULL)
			prefix_ok(ar_of(&o), t->want_ar, t->name,
			    "Authentication-Results");
	}
	buf_free(&got);
	spfd_msg_free(m);
	spfd_conf_free(c);
}

/* Verdicts of the policy alone: results x settings x identities. */
static const struct {
	const char *name;
	enum spfd_reject helo, mfrom;
	int perm, temp, null;
	int rh, rm;			/* results, or SPFD_UNCHECKED */
	enum spfd_verdict want;
	enum spfd_ident who;
} verdicts[] = {
	{ "Fail/Fail: pass pass", SPFD_REJ_FAIL, SPFD_REJ_FAIL, 0, 0, 0,
	  SPF_PASS, SPF_PASS, SPFD_V_NONE, 0 },
	{ "Fail: mailfrom fail", SPFD_REJ_FAIL, SPFD_REJ_FAIL, 0, 0, 0,
	  SPF_NONE, SPF_FAIL, SPFD_V_REJECT, SPFD_ID_MAILFROM },
	{ "Fail: mailfrom softfail", SPFD_REJ_FAIL, SPFD_REJ_FAIL, 0, 0, 0,
	  SPF_NONE, SPF_SOFTFAIL, SPFD_V_NONE, 0 },
	{ "Softfail: mailfrom softfail", SPFD_REJ_FAIL, SPFD_REJ_SOFTFAIL, 0,
	  0, 0, SPF_NONE, SPF_SOFTFAIL, SPFD_V_REJECT, SPFD_ID_MAILFROM },
	{ "Softfail: mailfrom neutral", SPFD_REJ_FAIL, SPFD_REJ_SOFTFAIL, 0, 0,
	  0, SPF_NONE, SPF_NEUTRAL, SPFD_V_NONE, 0 },
	{ "SPF_Not_Pass: mailfrom neutral", SPFD_REJ_FAIL, SPFD_REJ_NOT_PASS,
	  0, 0, 0, SPF_NONE, SPF_NEUTRAL, SPFD_V_REJECT, SPFD_ID_MAILFROM },
	{ "SPF_Not_Pass: mailfrom permerror", SPFD_REJ_FAIL,
	  SPFD_REJ_NOT_PASS, 0, 0, 0, SPF_NONE, SPF_PERMERROR, SPFD_V_REJECT,
	  SPFD_ID_MAILFROM },
	{ "SPF_Not_Pass: mailfrom none", SPFD_REJ_FAIL, SPFD_REJ_NOT_PASS, 0,
	  0, 0, SPF_NONE, SPF_NONE, SPFD_V_NONE, 0 },
	{ "SPF_Not_Pass: mailfrom temperror", SPFD_REJ_FAIL,
	  SPFD_REJ_NOT_PASS, 0, 0, 0, SPF_NONE, SPF_TEMPERROR, SPFD_V_NONE, 0 },
	{ "Null: mailfrom fail, sender", SPFD_REJ_FAIL, SPFD_REJ_NULL, 0, 0,
	  0, SPF_NONE, SPF_FAIL, SPFD_V_NONE, 0 },
	{ "Null: mailfrom fail, null sender", SPFD_REJ_FAIL, SPFD_REJ_NULL, 0,
	  0, 1, SPF_NONE, SPF_FAIL, SPFD_V_REJECT, SPFD_ID_MAILFROM },
	{ "False: mailfrom fail", SPFD_REJ_FAIL, SPFD_REJ_FALSE, 1, 1, 0,
	  SPF_NONE, SPF_FAIL, SPFD_V_NONE, 0 },
	{ "False: permerror with PermError_reject", SPFD_REJ_FAIL,
	  SPFD_REJ_FALSE, 1, 1, 0, SPF_NONE, SPF_PERMERROR, SPFD_V_NONE, 0 },
	{ "No_Check: unchecked", SPFD_REJ_NO_CHECK, SPFD_REJ_NO_CHECK, 1, 1,
	  0, SPFD_UNCHECKED, SPFD_UNCHECKED, SPFD_V_NONE, 0 },
	{ "PermError_reject: mailfrom permerror", SPFD_REJ_FAIL,
	  SPFD_REJ_FAIL, 1, 0, 0, SPF_NONE, SPF_PERMERROR, SPFD_V_REJECT,
	  SPFD_ID_MAILFROM },
	{ "PermError_reject off: mailfrom permerror", SPFD_REJ_FAIL,
	  SPFD_REJ_FAIL, 0, 1, 0, SPF_NONE, SPF_PERMERROR, SPFD_V_NONE, 0 },
	{ "TempError_Defer: mailfrom temperror", SPFD_REJ_FAIL,
	  SPFD_REJ_FAIL, 0, 1, 0, SPF_NONE, SPF_TEMPERROR, SPFD_V_DEFER,
	  SPFD_ID_MAILFROM },
	{ "TempError_Defer off: mailfrom temperror", SPFD_REJ_FAIL,
	  SPFD_REJ_FAIL, 1, 0, 0, SPF_NONE, SPF_TEMPERROR, SPFD_V_NONE, 0 },
	{ "TempError_Defer: helo temperror", SPFD_REJ_FAIL, SPFD_REJ_FAIL, 0,
	  1, 0, SPF_TEMPERROR, SPF_PASS, SPFD_V_DEFER, SPFD_ID_HELO },
	{ "PermError_reject: helo permerror", SPFD_REJ_FAIL, SPFD_REJ_FAIL, 1,
	  0, 0, SPF_PERMERROR, SPF_PASS, SPFD_V_REJECT, SPFD_ID_HELO },
	{ "helo fail before mailfrom fail", SPFD_REJ_FAIL, SPFD_REJ_FAIL, 0,
	  0, 0, SPF_FAIL, SPF_FAIL, SPFD_V_REJECT, SPFD_ID_HELO },
	{ "mailfrom reject beats helo defer", SPFD_REJ_FAIL, SPFD_REJ_FAIL, 0,
	  1, 0, SPF_TEMPERROR, SPF_FAIL, SPFD_V_REJECT, SPFD_ID_MAILFROM },
	{ "helo Softfail: helo softfail", SPFD_REJ_SOFTFAIL, SPFD_REJ_FAIL, 0,
	  0, 0, SPF_SOFTFAIL, SPF_PASS, SPFD_V_REJECT, SPFD_ID_HELO },
	{ "helo Null: helo fail with a sender", SPFD_REJ_NULL, SPFD_REJ_FALSE,
	  0, 0, 0, SPF_FAIL, SPF_PASS, SPFD_V_NONE, 0 },
	{ "helo Null: helo fail, null sender", SPFD_REJ_NULL, SPFD_REJ_FALSE,
	  0, 0, 1, SPF_FAIL, SPF_FAIL, SPFD_V_REJECT, SPFD_ID_HELO },
	{ "helo False: helo fail", SPFD_REJ_FALSE, SPFD_REJ_FAIL, 0, 0, 0,
	  SPF_FAIL, SPF_PASS, SPFD_V_NONE, 0 },
	{ "helo SPF_Not_Pass: helo neutral", SPFD_REJ_NOT_PASS, SPFD_REJ_FAIL,
	  0, 0, 0, SPF_NEUTRAL, SPF_PASS, SPFD_V_REJECT, SPFD_ID_HELO },
};

/* test_verdicts - the policy table */
static void
test_verdicts(void)
{
	struct spfd_policy p;
	enum spfd_ident who;
	int r[SPFD_ID_MAX];
	size_t i;

	for (i = 0; i < sizeof(verdicts) / sizeof(verdicts[0]); i++) {
		p.reject[SPFD_ID_HELO] = verdicts[i].helo;
		p.reject[SPFD_ID_MAILFROM] = verdicts[i].mfrom;
		p.permerror_reject = verdicts[i].perm;
		p.temperror_defer = verdicts[i].temp;
		r[SPFD_ID_HELO] = verdicts[i].rh;
		r[SPFD_ID_MAILFROM] = verdicts[i].rm;
		who = SPFD_ID_MAX;
		is_str(spfd_verdict_name(spfd_policy_verdict(&p, r,
		    verdicts[i].null, &who)),
		    spfd_verdict_name(verdicts[i].want), verdicts[i].name);
		if (verdicts[i].want != SPFD_V_NONE)
			ok(who == verdicts[i].who, "%s: identity %s",
			    verdicts[i].name, spfd_ident_name(verdicts[i].who));
	}
}

/* test_parse - reject settings as written in either file format */
static void
test_parse(void)
{
	static const struct {
		const char *s;
		int want;
	} t[] = {
		{ "Fail", SPFD_REJ_FAIL }, { "fail", SPFD_REJ_FAIL },
		{ "= Softfail", SPFD_REJ_SOFTFAIL },
		{ "=SPF_Not_Pass ", SPFD_REJ_NOT_PASS },
		{ "NULL", SPFD_REJ_NULL }, { "False", SPFD_REJ_FALSE },
		{ "No_Check", SPFD_REJ_NO_CHECK }, { "Fai", -1 },
		{ "Failure", -1 }, { "", -1 }, { "=", -1 }, { "Fail x", -1 },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		is_int(spfd_reject_parse(t[i].s), t[i].want, t[i].s);
}

/* test_clients - who is skipped at connect and at MAIL FROM */
static void
test_clients(void)
{
	struct spfd_conf *c = make_conf("PeerList 198.51.100.0/24\n");
	struct spfd_conf *c2 = make_conf("InternalHosts 10.0.0.1\n"
	    "CheckLocalSubmission yes\n");
	struct spfd_conf *c3 = make_conf("InternalHosts 10.0.0.1\n");
	struct spfd_msg *m = spfd_msg_new(c);
	struct spfd_env env = { "Q", NULL, NULL, NULL, NULL };
	struct spfd_outcome o;

	is_int(spfd_msg_connect(m, "x.test", "198.51.100.7", 25000), 1,
	    "PeerList client is left alone");
	is_int(spfd_msg_connect(m, "x.test", IP, 25000), 0,
	    "other client is processed");
	spfd_msg_connect(m, "localhost", "127.0.0.1", 0);
	spfd_msg_helo(m, "localhost");
	spfd_msg_envfrom(m, "<a@fail.test>", &env);
	is_str(spfd_msg_skipped(m), "local submission",
	    "Postfix local submission (localhost, 127.0.0.1, port 0) skipped");
	spfd_msg_connect(m, "localhost", NULL, 0);
	spfd_msg_envfrom(m, "<a@fail.test>", &env);
	is_str(spfd_msg_skipped(m), "local submission",
	    "connection without a client address skipped");
	spfd_msg_connect(m, "[127.0.0.1]", "127.0.0.1", 25000);
	spfd_msg_envfrom(m, "<a@fail.test>", &env);
	is_str(spfd_msg_skipped(m), "client in InternalHosts",
	    "SMTP client 127.0.0.1 skipped by the default InternalHosts");
	spfd_msg_connect(m, "[::1]", "::1", 25000);
	spfd_msg_envfrom(m, "<a@fail.test>", &env);
	is_str(spfd_msg_skipped(m), "client in InternalHosts",
	    "SMTP client ::1 skipped by the default InternalHosts");
	spfd_msg_free(m);

	m = spfd_msg_new(c2);
	spfd_msg_connect(m, "localhost", "127.0.0.1", 0);
	spfd_msg_helo(m, "fail.test");
	spfd_msg_envfrom(m, "<a@fail.test>", &env);
	ok(spfd_msg_skipped(m) == NULL && spfd_msg_result(m,
	    SPFD_ID_MAILFROM) == SPF_FAIL,
	    "CheckLocalSubmission yes checks local submissions");
	spfd_msg_free(m);
	m = spfd_msg_new(c3);
	spfd_msg_connect(m, "localhost", "127.0.0.1", 41234);
	spfd_msg_helo(m, "fail.test");
	spfd_msg_envfrom(m, "<a@fail.test>", &env);
	ok(spfd_msg_skipped(m) == NULL, "SMTP client localhost at 127.0.0.1 "
	    "with a port is checked");
	spfd_msg_connect(m, "[127.0.0.1]", "127.0.0.1", 0);
	spfd_msg_envfrom(m, "<a@fail.test>", &env);
	ok(spfd_msg_skipped(m) == NULL, "port 0 but not named localhost: "
	    "checked");
	spfd_msg_connect(m, "[192.0.2.1]", IP, 25000);
	spfd_msg_helo(m, "");
	spfd_msg_envfrom(m, "<>", &env);
	is_int(spfd_msg_result(m, SPFD_ID_HELO), SPFD_UNCHECKED,
	    "no HELO name: HELO identity unchecked");
	is_int(spfd_msg_result(m, SPFD_ID_MAILFROM), SPF_NONE,
	    "no HELO name, null sender: MAIL FROM none");
	spfd_msg_eom(m, "Q", &o);
	is_int((long)o.nedit, 1, "one field added even so");
	spfd_msg_free(m);
	spfd_conf_free(c);
	spfd_conf_free(c2);
	spfd_conf_free(c3);
}

/* test_forged - our forged results go, others stay, indexes correct */
static void
test_forged(void)
{
	static const char *const skip_conf[] = { "", "TestOnly yes\n",
	    "InternalHosts 192.0.2.1\n" };
	struct spfd_env env = { "Q", NULL, NULL, NULL, NULL };
	struct spfd_outcome o;
	struct buf d = BUF_INIT;
	size_t i, k;

	for (k = 0; k < 3; k++) {
		struct spfd_conf *c = make_conf(skip_conf[k]);
		struct spfd_msg *m = spfd_msg_new(c);

		spfd_msg_connect(m, "x.test", IP, 25000);
		spfd_msg_helo(m, "relay.test");
		spfd_msg_envfrom(m, "<a@pass.test>", &env);
		spfd_msg_header(m, "Authentication-Results",
		    " other.test; spf=pass smtp.mailfrom=a.test");
		spfd_msg_header(m, "Authentication-Results",
		    " mx.test; spf=pass smtp.mailfrom=forged.test");
		spfd_msg_header(m, "Received", " from x");
		spfd_msg_header(m, "authentication-results",
		    " (c) MX.TEST.; dkim=pass");
		spfd_msg_eom(m, "Q", &o);
		buf_reset(&d);
		for (i = 0; i < o.nedit; i++)
			buf_printf(&d, "%s %d;", o.edit[i].op ==
			    HDR_EDIT_DELETE ? "del" : "ins", o.edit[i].index);
		/* the dkim= field under our id is milter-dkim's to judge */
		is_str(buf_str(&d), k < 2 ? "del 2;ins 0;" : "del 2;",
		    k == 0 ? "forged spf= field deleted, then ours inserted; "
		    "a dkim= one left to milter-dkim" : k == 1 ? "TestOnly "
		    "deletes forged fields too" : "unchecked client: forged "
		    "fields deleted, nothing added");
		spfd_msg_free(m);
		spfd_conf_free(c);
	}
	buf_free(&d);
}

/*
 * test_jobid - AuthservIDWithJobID: our A-R says "mx.test/QID" (quoted:
 * "/" is no token character), and with or without the setting, forged
 * spf= fields under our id with a job id go, quoted or not (unquoted, as
 * OpenDKIM writes it, the field does not parse and every milter removes
 * it), while a dkim= one under our quoted id/job id is milter-dkim's
 */
static void
test_jobid(void)
{
	static const char *const conf[] = { "", "AuthservIDWithJobID yes\n" };
	static const char *const ars[] = {
		" \"mx.test/OLD1\"; spf=pass smtp.mailfrom=forged.test",
		" \"mx.test/OLD2\"; dkim=pass header.d=a.test",
		" mx.test/OLD3; spf=pass smtp.mailfrom=b.test",
		" \"mx.testing/OLD4\"; spf=pass smtp.mailfrom=c.test",
	};
	struct spfd_env env = { "QID7", NULL, NULL, NULL, NULL };
	struct spfd_outcome o;
	struct buf d = BUF_INIT;
	const char *want;
	size_t i, k;

	for (k = 0; k < 2; k++) {
		struct spfd_conf *c = make_conf(conf[k]);
		struct spfd_msg *m = spfd_msg_new(c);

		spfd_msg_connect(m, "x.test", IP, 25000);
		spfd_msg_helo(m, "relay.test");
		spfd_msg_envfrom(m, "<a@pass.test>", &env);
		for (i = 0; i < sizeof(ars) / sizeof(ars[0]); i++)
			spfd_msg_header(m, "Authentication-Results", ars[i]);
		spfd_msg_eom(m, "QID7", &o);
		buf_reset(&d);
		for (i = 0; i < o.nedit; i++)
			if (o.edit[i].op == HDR_EDIT_DELETE)
				buf_printf(&d, "del %d;", o.edit[i].index);
		is_str(buf_str(&d), "del 3;del 1;", k ? "AuthservIDWithJobID: "
		    "forged spf= fields under our id/job id deleted, others "
		    "kept" : "without AuthservIDWithJobID the same");
		want = k ? "\"mx.test/QID7\";" : "mx.test;";
		is_str(strstr(ar_of(&o), want) == ar_of(&o) ? want : ar_of(&o),
		    want, k ? "AuthservIDWithJobID: our A-R says "
		    "\"mx.test/QID7\"" : "without it: our A-R says mx.test");
		spfd_msg_free(m);
		spfd_conf_free(c);
	}
	buf_free(&d);
}

/* test_received_spf - ReceivedSPFHeader adds one field per identity */
static void
test_received_spf(void)
{
	struct spfd_conf *c = make_conf("ReceivedSPFHeader yes\n");
	struct spfd_msg *m = spfd_msg_new(c);
	struct spfd_env env = { "Q", NULL, NULL, NULL, NULL };
	struct spfd_outcome o;
	size_t i, n = 0;

	spfd_msg_connect(m, "x.test", IP, 25000);
	spfd_msg_helo(m, "relay.test");
	spfd_msg_envfrom(m, "<a@pass.test>", &env);
	spfd_msg_eom(m, "Q", &o);
	for (i = 0; i < o.nedit; i++)
		if (strcmp(o.edit[i].name, "Received-SPF") == 0) {
			n++;
			if (strstr(o.edit[i].value, "identity=mailfrom"))
				is_str(o.edit[i].value, "pass\n\t(mx.test: "
				    "domain of a@pass.test designates 192.0.2.1 "
				    "as permitted sender)\n\treceiver=mx.test; "
				    "client-ip=192.0.2.1; envelope-from="
				    "\"a@pass.test\";\n\thelo=relay.test; "
				    "identity=mailfrom; mechanism="
				    "\"ip4:192.0.2.1\"",
				    "Received-SPF for MAIL FROM");
		}
	is_int((long)n, 2, "two Received-SPF fields: helo and mailfrom");
	spfd_msg_free(m);
	spfd_conf_free(c);
}

/* test_hostile_ar - a hostile HELO cannot break Authentication-Results */
static void
test_hostile_ar(void)
{
	static const char *const helos[] = {
		"evil.test\r\nX-Injected: yes",
		"a\"; spf=pass smtp.mailfrom=paypal.com",
		"(unclosed comment",
		"\\\"\\",
		"x\001\177\377y",
	};
	struct spfd_conf *c = make_conf("");
	struct spfd_env env = { "Q", NULL, NULL, NULL, NULL };
	struct spfd_outcome o;
	struct authres ar;
	size_t i;

	for (i = 0; i < sizeof(helos) / sizeof(helos[0]); i++) {
		struct spfd_msg *m = spfd_msg_new(c);
		const struct authres_resinfo *ri;
		size_t it = 0;
		int pass = 0, n = 0;

		spfd_msg_connect(m, "x.test", IP, 25000);
		spfd_msg_helo(m, helos[i]);
		spfd_msg_envfrom(m, "<>", &env);
		spfd_msg_eom(m, "Q", &o);
		memset(&ar, 0, sizeof(ar));
		ok(strpbrk(ar_of(&o), "\r") == NULL &&
		    authres_parse(ar_of(&o), strlen(ar_of(&o)), &ar) ==
		    AUTHRES_OK && ar.nres == 2,
		    "hostile HELO %zu: A-R parses with two results", i);
		while ((ri = authres_find(&ar, "spf", &it)) != NULL) {
			n++;
			pass |= strcmp(ri->result, "pass") == 0;
		}
		ok(n == 2 && !pass, "hostile HELO %zu: no smuggled pass", i);
		authres_free(&ar);
		spfd_msg_free(m);
	}
	spfd_conf_free(c);
}

/* stop_flag - a cancel condition the test sets */
static int
stop_flag(void *arg)
{
	return *(int *)arg;
}

/*
 * test_limits - CheckTimeLimit bounds both identities together; the
 * cancel condition stops the checks; both give temperror
 */
static void
test_limits(void)
{
	struct spfd_conf *c = make_conf("CheckTimeLimit 1\n"
	    "TempError_Defer yes\n");
	struct spfd_msg *m = spfd_msg_new(c);
	struct spfd_env env = { "Q", NULL, NULL, NULL, NULL };
	struct verdict r;
	struct buf err = BUF_INIT;
	int stop = 0;
	int64_t t0;
	unsigned long n;

	is_int((int)c->v.time_limit, 1, "CheckTimeLimit is read");
	dns_zone_add(c->dns, "slowhelo.test", DNS_T_TXT,
	    "\"v=spf1 a:x.slow.test a:z.slow.test -all\"", &err);
	dns_zone_add(c->dns, "slowfrom.test", DNS_T_TXT,
	    "\"v=spf1 a:y.slow.test a:w.slow.test -all\"", &err);
	dns_zone_add(c->dns, "*.slow.test", DNS_T_A, "DELAY 600", &err);
	spfd_msg_connect(m, "client.test", IP, 25000);
	spfd_msg_helo(m, "slowhelo.test");
	t0 = dns_now_ms();
	spfd_msg_envfrom(m, "<a@slowfrom.test>", &env);
	ok(dns_now_ms() - t0 >= 900 && dns_now_ms() - t0 < 1400,
	    "two identities of 1.2 s each end together at CheckTimeLimit "
	    "1 s (%lld ms)", (long long)(dns_now_ms() - t0));
	ok(spfd_msg_result(m, SPFD_ID_HELO) == SPF_TEMPERROR &&
	    spfd_msg_result(m, SPFD_ID_MAILFROM) == SPF_TEMPERROR,
	    "... both with temperror");
	spfd_msg_rcpt(m, "<u@rcpt.test>", &r);
	ok(r.action == VERDICT_TEMPFAIL && strcmp(r.rcode, "451") == 0,
	    "... deferred under TempError_Defer");

	env.cancelled = stop_flag;
	env.cancel_arg = &stop;
	stop = 1;
	n = dns_zone_lookups(c->dns);
	t0 = dns_now_ms();
	spfd_msg_envfrom(m, "<a@slowfrom.test>", &env);
	ok(spfd_msg_result(m, SPFD_ID_HELO) == SPF_TEMPERROR &&
	    spfd_msg_result(m, SPFD_ID_MAILFROM) == SPF_TEMPERROR &&
	    dns_zone_lookups(c->dns) == n && dns_now_ms() - t0 < 300,
	    "cancelled (the MTA went away): temperror at once, no lookup");
	spfd_msg_free(m);
	spfd_conf_free(c);
	buf_free(&err);
}

int
main(void)
{
	size_t i;

	if (getenv("VERBOSE") == NULL)
		log_open("spfd_msg", 0, LOG_MAIL, 0);
	test_parse();
	test_verdicts();
	for (i = 0; i < sizeof(txs) / sizeof(txs[0]); i++)
		run_tx(&txs[i]);
	test_clients();
	test_forged();
	test_jobid();
	test_received_spf();
	test_hostile_ar();
	test_limits();
	return done_testing();
}
