/*
 * spfd_conf - milter-spf's configuration: defaults, policyd-spf's
 * "Keyword = value" lines, errors naming file, line and keyword,
 * warnings for policyd-spf keywords, and every keyword documented in
 * man/milter-spf.conf.5 as an ".It Cm Keyword" item.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../milter-spf/spfd_conf.h"
#include "buf.h"
#include "tap.h"

#define MANPAGE	"man/milter-spf.conf.5"

/* load - a configuration from text; NULL with err set on failure */
static struct spfd_conf *
load(const char *text, struct buf *err)
{
	buf_reset(err);
	return spfd_conf_load(NULL, text, NULL, err);
}

/* test_defaults - what an empty file means */
static void
test_defaults(void)
{
	struct buf err = BUF_INIT;
	struct spfd_conf *c = load("", &err);

	if (!ok(c != NULL, "empty configuration loads")) {
		diag("%s", buf_str(&err));
		return;
	}
	is_str(c->v.daemon.socket, "inet:8894@localhost",
	    "Socket defaults to inet:8894@localhost");
	is_int(c->policy.reject[SPFD_ID_HELO], SPFD_REJ_FAIL,
	    "HELO_reject defaults to Fail");
	is_int(c->policy.reject[SPFD_ID_MAILFROM], SPFD_REJ_FAIL,
	    "Mail_From_reject defaults to Fail");
	is_int(c->policy.permerror_reject, 0, "PermError_reject defaults to no");
	is_int(c->policy.temperror_defer, 0, "TempError_Defer defaults to no");
	is_int(c->reject_eom, 0, "RejectAt defaults to rcpt");
	is_int(c->v.test_only, 0, "TestOnly defaults to no");
	ok(c->internal != NULL && hostlist_match_addr(c->internal,
	    "127.0.0.1", NULL) && hostlist_match_addr(c->internal, "::1",
	    NULL) && !hostlist_match_addr(c->internal, "192.0.2.1", NULL),
	    "InternalHosts defaults to 127.0.0.1 and ::1");
	ok(c->exempt != NULL && dataset_lookup(c->exempt, "postmaster") &&
	    dataset_lookup(c->exempt, "abuse"),
	    "ExemptRecipients defaults to postmaster and abuse");
	ok(c->authserv_id != NULL && c->authserv_id[0] != '\0',
	    "AuthservID defaults to the host name");
	spfd_conf_free(c);
	buf_free(&err);
}

/* test_policyd_lines - lines copied from policyd-spf.conf */
static void
test_policyd_lines(void)
{
	struct buf err = BUF_INIT;
	struct spfd_conf *c = load("HELO_reject = SPF_Not_Pass\n"
	    "Mail_From_reject = softfail\nPermError_reject = True\n"
	    "TempError_Defer = 1\nskip_addresses = 127.0.0.0/8,::1\n"
	    "Whitelist = 192.0.2.0/24\nRejectAt EOM\n", &err);

	if (!ok(c != NULL, "policyd-spf style lines load")) {
		diag("%s", buf_str(&err));
		return;
	}
	is_int(c->policy.reject[SPFD_ID_HELO], SPFD_REJ_NOT_PASS,
	    "HELO_reject = SPF_Not_Pass");
	is_int(c->policy.reject[SPFD_ID_MAILFROM], SPFD_REJ_SOFTFAIL,
	    "Mail_From_reject = softfail, any case");
	is_int(c->policy.permerror_reject, 1, "PermError_reject = True");
	is_int(c->policy.temperror_defer, 1, "TempError_Defer = 1");
	is_int(c->reject_eom, 1, "RejectAt EOM, any case");
	ok(strstr(buf_str(&c->warnings), "(built-in default):5: "
	    "skip_addresses has no effect here: use InternalHosts") != NULL,
	    "skip_addresses warns, naming InternalHosts");
	ok(strstr(buf_str(&c->warnings), "Whitelist has no effect here: "
	    "use InternalHosts") != NULL, "Whitelist warns, naming "
	    "InternalHosts");
	spfd_conf_free(c);
	buf_free(&err);
}

static const struct {
	const char *text, *want;
} bad[] = {
	{ "HELO_reject Maybe\n", "(built-in default):1: HELO_reject: 'Maybe' "
	  "is not Fail, Softfail, SPF_Not_Pass, Null, False or No_Check" },
	{ "Syslog no\nMail_From_reject = Reject\n", "(built-in default):2: "
	  "Mail_From_reject: '= Reject' is not Fail" },
	{ "PermError_reject = sometimes\n", "(built-in default):1: "
	  "PermError_reject: 'sometimes' is not a boolean" },
	{ "TempError_Defer 2\n", "TempError_Defer: '2' is not a boolean" },
	{ "TestOnly = 1\n", "TestOnly: '= 1' is policyd-spf's syntax, where "
	  "TestOnly = 0 means test mode" },
	{ "TestOnly perhaps\n", "TestOnly: 'perhaps' is not a boolean" },
	{ "RejectAt data\n", "(built-in default):1: RejectAt: 'data' is not "
	  "rcpt or eom" },
	{ "InternalHosts 10.0.0.0/33\n", "InternalHosts: " },
	{ "DNSTimeout 0\n", "DNSTimeout: 0 is out of range" },
	{ "Sokcet inet:1@localhost\n", "did you mean 'Socket'?" },
	{ "HELO_Reject\n", ":1: HELO_reject: missing value" },
	{ "Nameservers not-an-address\n", "DNS: " },
	{ "MTA file:/nonexistent/mta\n", "MTA: /nonexistent/mta: " },
};

/* test_errors - bad values are refused with a precise message */
static void
test_errors(void)
{
	struct buf err = BUF_INIT;
	struct spfd_conf *c;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		c = load(bad[i].text, &err);
		ok(c == NULL && strstr(buf_str(&err), bad[i].want) != NULL,
		    "refused: %.*s", (int)strcspn(bad[i].text, "\n"),
		    bad[i].text);
		if (c != NULL || strstr(buf_str(&err), bad[i].want) == NULL)
			diag("got '%s', want '%s'", buf_str(&err),
			    bad[i].want);
		spfd_conf_free(c);
	}
	buf_free(&err);
}

/* test_traps - warnings for settings that check nothing */
static void
test_traps(void)
{
	struct buf err = BUF_INIT;
	struct spfd_conf *c;

	c = load("InternalHosts 0.0.0.0/0\n", &err);
	ok(c != NULL && strstr(buf_str(&c->warnings), "no mail is checked"),
	    "InternalHosts 0.0.0.0/0 warns that nothing is checked");
	spfd_conf_free(c);
	c = load("HELO_reject No_Check\nMail_From_reject No_Check\n", &err);
	ok(c != NULL && strstr(buf_str(&c->warnings), "no mail is checked"),
	    "No_Check for both identities warns that nothing is checked");
	spfd_conf_free(c);
	c = load("CheckTimeLimit 45\n", &err);
	ok(c != NULL && strstr(buf_str(&c->warnings), "CheckTimeLimit 45 is "
	    "not below Postfix's default milter_command_timeout"),
	    "CheckTimeLimit past the MTA's timeout warns");
	spfd_conf_free(c);
	c = load("LogResults yes\n", &err);
	ok(c != NULL && c->v.time_limit == 20 &&
	    strstr(buf_str(&c->warnings), "CheckTimeLimit") == NULL,
	    "CheckTimeLimit is 20 s by default, without a warning");
	spfd_conf_free(c);
	buf_free(&err);
}

/* test_manpage - every keyword has an ".It Cm Keyword" item */
static void
test_manpage(void)
{
	struct buf page = BUF_INIT, item = BUF_INIT;
	char line[1024];
	FILE *f = fopen(MANPAGE, "r");
	const char *p, *nl;
	size_t i, nitems = 0;

	if (f == NULL) {
		ok(1, "# SKIP %s not found from the current directory",
		    MANPAGE);
		return;
	}
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, ".It Cm ", 7) == 0) {
			buf_putc(&page, '\n');
			buf_append(&page, line + 7, strcspn(line + 7,
			    " \n"));
		}
	buf_putc(&page, '\n');
	fclose(f);
	/* the reverse: every item names a keyword of the table */
	for (p = buf_str(&page) + 1; *p != '\0'; p = nl + 1) {
		nl = strchr(p, '\n');
		for (i = 0; i < spfd_conf_ntable; i++)
			if (strlen(spfd_conf_table[i].name) == (size_t)(nl - p) &&
			    strncmp(spfd_conf_table[i].name, p, nl - p) == 0)
				break;
		if (i == spfd_conf_ntable)
			ok(0, "%.*s in %s is a keyword", (int)(nl - p), p,
			    MANPAGE);
		else
			nitems++;
	}
	is_int((long)nitems, (long)spfd_conf_ntable, "the man page has one "
	    ".It Cm item per keyword, and no other");
	for (i = 0; i < spfd_conf_ntable; i++) {
		buf_reset(&item);
		buf_printf(&item, "\n%s\n", spfd_conf_table[i].name);
		ok(strstr(buf_str(&page), buf_str(&item)) != NULL,
		    "%s is documented in %s", spfd_conf_table[i].name,
		    MANPAGE);
	}
	buf_free(&page);
	buf_free(&item);
}

int
main(void)
{
	test_defaults();
	test_policyd_lines();
	test_errors();
	test_traps();
	test_manpage();
	return done_testing();
}
