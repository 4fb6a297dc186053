/*
 * dkimd_policy - milter-dkim decides to sign exactly when OpenDKIM would:
 * which client may sign (MTA, MacroList, InternalHosts, SMTP AUTH), which
 * SigningTable line or Domain entry chooses the key, in which order, with
 * which d=, s= and i=; a missing or broken key refuses the message for
 * now; Mode limits both directions; and the reasons name file and line.
 *
 * Configurations, tables and keys are written into a temporary directory
 * (keys copied from t/data/dkimd/ with mode 0600), so the paths in them
 * are absolute and the tests run from the repository root.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../milter-dkim/dkimd_conf.h"
#include "../../milter-dkim/dkimd_policy.h"
#include "files.h"
#include "tap.h"

#define DATA	"t/data/dkimd/"

static char tmpdir[] = "/tmp/dkimd_policy.XXXXXX";

/* The administrator's setup, as found on a production host. */
static const char admin_conf[] =
    "Domain\t\t\tblue.example.jp\n"
    "Canonicalization\trelaxed/simple\n"
    "ExternalIgnoreList\trefile:@D@/TrustedHosts\n"
    "InternalHosts\t\trefile:@D@/TrustedHosts\n"
    "KeyTable\t\trefile:@D@/KeyTable\n"
    "SigningTable\t\trefile:@D@/SigningTable\n"
    "Mode\t\t\tsv\n"
    "SignHeaders\t\tDate,From,To,Subject,Message-ID\n"
    "On-BadSignature\t\taccept\n"
    "RemoveOldSignatures\tno\n"
    "Syslog\t\t\tno\n";

/* Which configuration files exist, by name. */
static const struct file {
	const char	*name, *text;
} files[] = {
	{ "admin.conf", admin_conf },
	{ "KeyTable", "default._domainkey.blue.example.jp "
	    "blue.example.jp:default:@D@/rsa2048.pem\n" },
	{ "SigningTable", "*@blue.example.jp default._domainkey.blue.example.jp\n"
	    "* default._domainkey.blue.example.jp\n" },
	{ "TrustedHosts", "127.0.0.1\nlocalhost\n::1\n*.blue.example.jp\n" },
	/* the same with 0.0.0.0/0 added */
	{ "admin-all.conf", "InternalHosts refile:@D@/TrustedHostsAll\n"
	    "KeyTable refile:@D@/KeyTable\nSigningTable refile:@D@/SigningTable\n" },
	{ "TrustedHostsAll", "127.0.0.1\nlocalhost\n::1\n*.blue.example.jp\n"
	    "0.0.0.0/0\n" },
	/* file: SigningTable lookup order */
	{ "keys2", "rsa blue.example.jp:default:@D@/rsa2048.pem\n"
	    "ed blue.example.jp:ed:@D@/ed25519.pem\n"
	    "red red.example.jp:red:@D@/red.pem\n"
	    "sub sub.blue.example.jp:sub:@D@/rsa2048.pem\n"
	    "any %:any:@D@/red.pem\n"
	    "blue.example.jp blue.example.jp:pct:@D@/rsa2048.pem\n"
	    "red.example.jp red.example.jp:pct:@D@/red.pem\n"
	    "broken blue.example.jp:broken:@D@/nonexistent.pem\n"
	    "garbled just-a-word\n"
	    "unsafe blue.example.jp:unsafe:@D@/unsafe.pem\n" },
	{ "file.st", "# user@domain, domain, parents, user@*, *\n"
	    "alice@blue.example.jp ed\n"
	    "blue.example.jp rsa\n"
	    "bob@.example.jp red\n"
	    ".example.jp sub\n"
	    "carol@* any\n"
	    "* red\n" },
	{ "file.conf", "KeyTable file:@D@/keys2\nSigningTable file:@D@/file.st\n" },
	{ "file-multi.conf", "KeyTable file:@D@/keys2\n"
	    "SigningTable file:@D@/file.st\nMultipleSignatures yes\n" },
	/* refile: dual signing, first match only without MultipleSignatures */
	{ "dual.st", "*@blue.example.jp rsa\n*@blue.example.jp ed\n"
	    "*@*.example.jp sub\n" },
	{ "dual.conf", "KeyTable refile:@D@/keys2\n"
	    "SigningTable refile:@D@/dual.st\nMultipleSignatures yes\n" },
	{ "single-st.conf", "KeyTable refile:@D@/keys2\n"
	    "SigningTable refile:@D@/dual.st\n" },
	/* '%' as the key name and in the signer; KeyTable domain '%' */
	{ "pct.st", "*@*.example.jp % @%\nanyone@* any\nsomeone@* any %.signer@%\n"
	    "*@nokey.example % \n" },
	{ "pct.conf", "KeyTable refile:@D@/keys2\nSigningTable refile:@D@/pct.st\n" },
	/* keys that cannot be used */
	{ "bad.st", "*@missing.example nosuchkey\n*@broken.example broken\n"
	    "*@garbled.example garbled\n*@ok.example rsa\n"
	    "*@unsafe.example unsafe\n" },
	{ "unsafe-ok.conf", "KeyTable refile:@D@/keys2\n"
	    "SigningTable refile:@D@/bad.st\nRequireSafeKeys no\n" },
	{ "single-unsafe.conf", "Domain blue.example.jp\n"
	    "KeyFile @D@/unsafe.pem\nSelector sel\n" },
	{ "bad.conf", "KeyTable refile:@D@/keys2\nSigningTable refile:@D@/bad.st\n" },
	{ "bad-multi.conf", "KeyTable refile:@D@/keys2\n"
	    "SigningTable refile:@D@/bad-multi.st\nMultipleSignatures yes\n" },
	{ "bad-multi.st", "*@blue.example.jp rsa\n*@blue.example.jp nosuchkey\n" },
	/* Domain, KeyFile, Selector */
	{ "single.conf", "Domain blue.example.jp, red.example.jp\n"
	    "KeyFile @D@/rsa2048.pem\nSelector sel\n" },
	{ "single-sub.conf", "Domain blue.example.jp\nKeyFile @D@/rsa2048.pem\n"
	    "Selector sel\nSubDomains yes\n" },
	{ "single-star.conf", "Domain *\nKeyFile @D@/rsa2048.pem\nSelector sel\n" },
	{ "single-nokey.conf", "Domain blue.example.jp\nSelector sel\n" },
	{ "single-badkey.conf", "Domain blue.example.jp\n"
	    "KeyFile @D@/nonexistent.pem\nSelector sel\n" },
	{ "nothing.conf", "Mode sv\n" },
	/* origins */
	{ "mta.conf", "Domain blue.example.jp\nKeyFile @D@/rsa2048.pem\n"
	    "Selector sel\nInternalHosts 10.0.0.0/8, !10.9.9.9\n"
	    "MTA msa, submission\n" },
	{ "macro.conf", "Domain blue.example.jp\nKeyFile @D@/rsa2048.pem\n"
	    "Selector sel\nMacroList daemon_name=MSA|ORIG, auth_ssf\n" },
	/* Mode */
	{ "mode-s.conf", "Domain blue.example.jp\nKeyFile @D@/rsa2048.pem\n"
	    "Selector sel\nMode s\n" },
	{ "mode-v.conf", "Domain blue.example.jp\nKeyFile @D@/rsa2048.pem\n"
	    "Selector sel\nMode v\n" },
	{ "mode-v-bad.conf", "KeyTable refile:@D@/keys2\n"
	    "SigningTable refile:@D@/bad.st\nMode v\n" },
};

/* A macro the MTA would pass, for MacroList cases. */
struct macros {
	const char *name, *value;
};

/* macro_fn - the MTA's macro lookup */
static const char *
macro_fn(void *arg, const char *name)
{
	const struct macros *m = arg;

	for (; m != NULL && m->name != NULL; m++)
		if (strcmp(m->name, name) == 0)
			return m->value;
	return NULL;
}

static const struct macros msa[] = { { "{daemon_name}", "msa" }, { 0, 0 } };
static const struct macros orig[] = { { "{daemon_name}", "ORIG" }, { 0, 0 } };
static const struct macros mx[] = { { "{daemon_name}", "mx" }, { 0, 0 } };
static const struct macros ssf[] = { { "{auth_ssf}", "256" }, { 0, 0 } };
static const struct macros ssf0[] = { { "{auth_ssf}", "" }, { 0, 0 } };

enum { NO, SIGN, VERIFY, TEMPFAIL, PASS };

static const struct pcase {
	const char	*name;
	const char	*conf;
	const char	*addr, *host, *auth, *daemon;
	const struct macros *macros;
	const char	*sender;
	int		 result;	/* SIGN, VERIFY, TEMPFAIL or PASS */
	const char	*sigs;		/* "d=.. s=.. [i=..]; ..." */
	const char	*why;		/* a substring of the reasons */
} cases[] = {
	/* the administrator's setup */
	{ "admin: 127.0.0.1, own domain: *@blue.example.jp line 1",
	    "admin.conf", "127.0.0.1", NULL, NULL, NULL, NULL,
	    "user@blue.example.jp", SIGN, "d=blue.example.jp s=default",
	    "@D@/SigningTable:1: SigningTable entry '*@blue.example.jp' "
	    "matches: key 'default._domainkey.blue.example.jp' "
	    "(@D@/KeyTable:1), d=blue.example.jp s=default" },
	{ "admin: From domain in upper case still matches line 1",
	    "admin.conf", "127.0.0.1", NULL, NULL, NULL, NULL,
	    "User@BLUE.Example.JP", SIGN, "d=blue.example.jp s=default",
	    "SigningTable:1:" },
	{ "admin: 127.0.0.1, foreign domain: the catch-all '*' on line 2",
	    "admin.conf", "127.0.0.1", NULL, NULL, NULL, NULL,
	    "someone@gmail.example", SIGN, "d=blue.example.jp s=default",
	    "@D@/SigningTable:2: SigningTable entry '*' matches" },
	{ "admin: ::1 is internal", "admin.conf", "::1", NULL, NULL, NULL,
	    NULL, "user@blue.example.jp", SIGN, "d=blue.example.jp s=default",
	    "InternalHosts @D@/TrustedHosts:3: ::1" },
	{ "admin: name 'localhost' is internal whatever the address",
	    "admin.conf", "192.0.2.9", "localhost", NULL, NULL, NULL,
	    "user@blue.example.jp", SIGN, "d=blue.example.jp s=default",
	    "TrustedHosts:2: localhost" },
	{ "admin: refile: '*.blue.example.jp' excludes a host under it by "
	    "name, as in OpenDKIM", "admin.conf", "192.0.2.7",
	    "mail.blue.example.jp", NULL, NULL, NULL, "user@blue.example.jp",
	    VERIFY, "", "excluded by InternalHosts @D@/TrustedHosts:4: "
	    "*.blue.example.jp" },
	{ "admin: blue.example.jp itself is not under *.blue.example.jp",
	    "admin.conf", "192.0.2.8", "blue.example.jp", NULL, NULL, NULL,
	    "user@blue.example.jp", VERIFY, "",
	    "is not internal and not authenticated" },
	{ "admin: external client sending as our domain is verified",
	    "admin.conf", "192.0.2.1", "mx.example.net", NULL, NULL, NULL,
	    "user@blue.example.jp", VERIFY, "",
	    "origin: client 192.0.2.1 (mx.example.net) is not internal and "
	    "not authenticated" },
	{ "admin: external but authenticated client is signed",
	    "admin.conf", "192.0.2.1", NULL, "user", NULL, NULL,
	    "user@blue.example.jp", SIGN, "d=blue.example.jp s=default",
	    "authenticated as 'user'" },
	{ "admin: empty auth is no authentication", "admin.conf",
	    "192.0.2.1", NULL, "", NULL, NULL, "user@blue.example.jp", VERIFY,
	    "", "not authenticated" },
	{ "admin: no From domain: nothing to sign, verified",
	    "admin.conf", "127.0.0.1", NULL, NULL, NULL, NULL, NULL, VERIFY,
	    "", "sign: no sender domain" },
	{ "admin with 0.0.0.0/0: every client is internal and signed",
	    "admin-all.conf", "192.0.2.1", NULL, NULL, NULL, NULL,
	    "user@blue.example.jp", SIGN, "d=blue.example.jp s=default",
	    "TrustedHostsAll:5: 0.0.0.0/0" },
	{ "admin with 0.0.0.0/0: even foreign senders get d=blue.example.jp",
	    "admin-all.conf", "198.51.100.1", NULL, NULL, NULL, NULL,
	    "x@spammer.example", SIGN, "d=blue.example.jp s=default",
	    "SigningTable:2:" },

	/* file: SigningTable lookup order */
	{ "file: user@domain first", "file.conf", "127.0.0.1", NULL, NULL,
	    NULL, NULL, "alice@blue.example.jp", SIGN,
	    "d=blue.example.jp s=ed", "@D@/file.st:2: SigningTable entry "
	    "'alice@blue.example.jp'" },
	{ "file: then the domain", "file.conf", "127.0.0.1", NULL, NULL,
	    NULL, NULL, "dave@blue.example.jp", SIGN,
	    "d=blue.example.jp s=default", "file.st:3: SigningTable entry "
	    "'blue.example.jp'" },
	{ "file: domain keys ignore case", "file.conf", "127.0.0.1", NULL,
	    NULL, NULL, NULL, "ALICE@Blue.Example.JP", SIGN,
	    "d=blue.example.jp s=ed", "file.st:2:" },
	{ "file: user@.parent before .parent", "file.conf", "127.0.0.1",
	    NULL, NULL, NULL, NULL, "bob@x.y.example.jp", SIGN,
	    "d=red.example.jp s=red", "file.st:4: SigningTable entry "
	    "'bob@.example.jp'" },
	{ "file: .parent matches a sub-subdomain", "file.conf", "127.0.0.1",
	    NULL, NULL, NULL, NULL, "eve@x.y.example.jp", SIGN,
	    "d=sub.blue.example.jp s=sub", "file.st:5: SigningTable entry "
	    "'.example.jp'" },
	{ "file: .parent does not match the parent itself", "file.conf",
	    "127.0.0.1", NULL, NULL, NULL, NULL, "eve@example.jp", SIGN,
	    "d=red.example.jp s=red", "file.st:7: SigningTable entry '*'" },
	{ "file: user@* before *", "file.conf", "127.0.0.1", NULL, NULL,
	    NULL, NULL, "carol@elsewhere.example", SIGN,
	    "d=elsewhere.example s=any", "file.st:6: SigningTable entry "
	    "'carol@*'" },
	{ "file: * last", "file.conf", "127.0.0.1", NULL, NULL, NULL, NULL,
	    "zed@elsewhere.example", SIGN, "d=red.example.jp s=red",
	    "file.st:7:" },
	{ "file: keys are exact, not patterns", "file.conf", "127.0.0.1",
	    NULL, NULL, NULL, NULL, "alice@blue.example.jpx", SIGN,
	    "d=red.example.jp s=red", "file.st:7:" },
	{ "file+MultipleSignatures: every level that matches, in order",
	    "file-multi.conf", "127.0.0.1", NULL, NULL, NULL, NULL,
	    "alice@blue.example.jp", SIGN, "d=blue.example.jp s=ed; "
	    "d=blue.example.jp s=default; d=sub.blue.example.jp s=sub; "
	    "d=red.example.jp s=red", "file.st:7:" },
	{ "file+MultipleSignatures: user@.parent, .parent, user@*, *",
	    "file-multi.conf", "127.0.0.1", NULL, NULL, NULL, NULL,
	    "carol@a.example.jp", SIGN, "d=sub.blue.example.jp s=sub; "
	    "d=a.example.jp s=any; d=red.example.jp s=red", "file.st:6:" },

	/* refile: file order, first match unless MultipleSignatures */
	{ "refile: first matching line only", "single-st.conf", "127.0.0.1",
	    NULL, NULL, NULL, NULL, "a@blue.example.jp", SIGN,
	    "d=blue.example.jp s=default", "dual.st:1:" },
	{ "refile+MultipleSignatures: RSA and Ed25519", "dual.conf",
	    "127.0.0.1", NULL, NULL, NULL, NULL, "a@blue.example.jp", SIGN,
	    "d=blue.example.jp s=default; d=blue.example.jp s=ed; "
	    "d=sub.blue.example.jp s=sub", "dual.st:2:" },
	{ "refile: '*' inside a pattern", "dual.conf", "127.0.0.1", NULL,
	    NULL, NULL, NULL, "a@deep.red.example.jp", SIGN,
	    "d=sub.blue.example.jp s=sub", "dual.st:3:" },
	{ "refile: no line matches: verified", "dual.conf", "127.0.0.1",
	    NULL, NULL, NULL, NULL, "a@example.org", VERIFY, "",
	    "sign: no SigningTable (@D@/dual.st) entry matches "
	    "'a@example.org'" },

	/* '%' */
	{ "'%' key name is the sender's domain; '@%' signer",
	    "pct.conf", "127.0.0.1", NULL, NULL, NULL, NULL,
	    "u@blue.example.jp", SIGN,
	    "d=blue.example.jp s=pct i=@blue.example.jp", "pct.st:1:" },
	{ "'%' key name, another domain, another key", "pct.conf",
	    "127.0.0.1", NULL, NULL, NULL, NULL, "u@red.example.jp", SIGN,
	    "d=red.example.jp s=pct i=@red.example.jp", "pct.st:1:" },
	{ "KeyTable domain '%' signs as the sender's domain", "pct.conf",
	    "127.0.0.1", NULL, NULL, NULL, NULL, "anyone@other.example", SIGN,
	    "d=other.example s=any", "pct.st:2:" },
	{ "'%' inside the signer", "pct.conf", "127.0.0.1", NULL, NULL,
	    NULL, NULL, "someone@other.example", SIGN,
	    "d=other.example s=any i=other.example.signer@other.example",
	    "pct.st:3:" },
	{ "'%' key name with no such key: refused for now", "pct.conf",
	    "127.0.0.1", NULL, NULL, NULL, NULL, "u@nokey.example", TEMPFAIL,
	    "", "pct.st:4: SigningTable entry '*@nokey.example' names key "
	    "'nokey.example', which the KeyTable lacks" },

	/* keys that cannot be used */
	{ "key missing from KeyTable: tempfail", "bad.conf", "127.0.0.1",
	    NULL, NULL, NULL, NULL, "u@missing.example", TEMPFAIL, "",
	    "bad.st:1: SigningTable entry '*@missing.example' names key "
	    "'nosuchkey', which the KeyTable lacks" },
	{ "key file that does not exist: tempfail", "bad.conf",
	    "127.0.0.1", NULL, NULL, NULL, NULL, "u@broken.example",
	    TEMPFAIL, "", "bad.st:2: key 'broken' (@D@/keys2:8) cannot be "
	    "used: cannot load key file @D@/nonexistent.pem" },
	{ "KeyTable value without colons: tempfail", "bad.conf",
	    "127.0.0.1", NULL, NULL, NULL, NULL, "u@garbled.example",
	    TEMPFAIL, "", "bad.st:3: key 'garbled' (@D@/keys2:9) cannot be "
	    "used: KeyTable value is not domain:selector:keyfile" },
	{ "the bad keys do not affect good lines", "bad.conf", "127.0.0.1",
	    NULL, NULL, NULL, NULL, "u@ok.example", SIGN,
	    "d=blue.example.jp s=default", "bad.st:4:" },
	{ "an external client never reaches the bad key", "bad.conf",
	    "192.0.2.1", NULL, NULL, NULL, NULL, "u@missing.example", VERIFY,
	    "", "not internal" },
	{ "key file readable by others, RequireSafeKeys: tempfail",
	    "bad.conf", "127.0.0.1", NULL, NULL, NULL, NULL,
	    "u@unsafe.example", TEMPFAIL, "", "bad.st:5: key 'unsafe' "
	    "(@D@/keys2:10) cannot be used: key file @D@/unsafe.pem is "
	    "readable by others (RequireSafeKeys)" },
	{ "key file readable by others, RequireSafeKeys no: signs",
	    "unsafe-ok.conf", "127.0.0.1", NULL, NULL, NULL, NULL,
	    "u@unsafe.example", SIGN, "d=blue.example.jp s=unsafe",
	    "bad.st:5:" },
	{ "KeyFile readable by others, RequireSafeKeys: tempfail",
	    "single-unsafe.conf", "127.0.0.1", NULL, NULL, NULL, NULL,
	    "u@blue.example.jp", TEMPFAIL, "", "the KeyFile key cannot be "
	    "used: key file @D@/unsafe.pem is readable by others" },
	{ "MultipleSignatures with one key missing: tempfail, not half "
	    "signed", "bad-multi.conf", "127.0.0.1", NULL, NULL, NULL, NULL,
	    "u@blue.example.jp", TEMPFAIL, NULL, "bad-multi.st:2:" },

	/* Domain, KeyFile, Selector */
	{ "Domain: listed domain signed with KeyFile/Selector",
	    "single.conf", "127.0.0.1", NULL, NULL, NULL, NULL,
	    "u@red.example.jp", SIGN, "d=red.example.jp s=sel",
	    "sign: 'red.example.jp' is in Domain: d=red.example.jp s=sel" },
	{ "Domain: case does not matter", "single.conf", "127.0.0.1", NULL,
	    NULL, NULL, NULL, "u@BLUE.example.JP", SIGN,
	    "d=blue.example.jp s=sel", "is in Domain" },
	{ "Domain without SubDomains: a subdomain is verified",
	    "single.conf", "127.0.0.1", NULL, NULL, NULL, NULL,
	    "u@sub.blue.example.jp", VERIFY, "",
	    "sign: 'sub.blue.example.jp' is not in Domain" },
	{ "Domain with SubDomains: a subdomain signs as the listed parent",
	    "single-sub.conf", "127.0.0.1", NULL, NULL, NULL, NULL,
	    "u@a.sub.blue.example.jp", SIGN, "d=blue.example.jp s=sel",
	    "sign: 'a.sub.blue.example.jp' is in Domain: d=blue.example.jp" },
	{ "Domain with SubDomains: a lookalike is not a subdomain",
	    "single-sub.conf", "127.0.0.1", NULL, NULL, NULL, NULL,
	    "u@notblue.example.jp", VERIFY, "", "(nor a subdomain)" },
	{ "Domain *: every domain", "single-star.conf", "127.0.0.1", NULL,
	    NULL, NULL, NULL, "u@anything.example", SIGN,
	    "d=anything.example s=sel", "is in Domain" },
	{ "Domain with Selector but no KeyFile: tempfail",
	    "single-nokey.conf", "127.0.0.1", NULL, NULL, NULL, NULL,
	    "u@blue.example.jp", TEMPFAIL, "",
	    "Selector is set but KeyFile is not" },
	{ "Domain with a KeyFile that does not load: tempfail",
	    "single-badkey.conf", "127.0.0.1", NULL, NULL, NULL, NULL,
	    "u@blue.example.jp", TEMPFAIL, "", "cannot load key file" },
	{ "no keys configured: internal mail is verified", "nothing.conf",
	    "127.0.0.1", NULL, NULL, NULL, NULL, "u@blue.example.jp", VERIFY,
	    "", "nothing is signed" },

	/* origins */
	{ "MTA: arrived on a listed daemon", "mta.conf", "192.0.2.1", NULL,
	    NULL, "submission", NULL, "u@blue.example.jp", SIGN,
	    "d=blue.example.jp s=sel", "arrived on MTA 'submission'" },
	{ "MTA: another daemon is not enough", "mta.conf", "192.0.2.1",
	    NULL, NULL, "mx", NULL, "u@blue.example.jp", VERIFY, "",
	    "not internal" },
	{ "InternalHosts network", "mta.conf", "10.1.2.3", NULL, NULL, NULL,
	    NULL, "u@blue.example.jp", SIGN, "d=blue.example.jp s=sel",
	    "InternalHosts inline: 10.0.0.0/8" },
	{ "InternalHosts negation excludes one address", "mta.conf",
	    "10.9.9.9", NULL, NULL, NULL, NULL, "u@blue.example.jp", VERIFY,
	    "", "excluded by InternalHosts inline: !10.9.9.9" },
	{ "InternalHosts replaces the default 127.0.0.1", "mta.conf",
	    "127.0.0.1", NULL, NULL, NULL, NULL, "u@blue.example.jp", VERIFY,
	    "", "not internal" },
	{ "MacroList: name=value matches", "macro.conf", "192.0.2.1", NULL,
	    NULL, NULL, msa, "u@blue.example.jp", SIGN,
	    "d=blue.example.jp s=sel",
	    "MacroList entry 'daemon_name=MSA|ORIG' matches" },
	{ "MacroList: the second value matches", "macro.conf", "192.0.2.1",
	    NULL, NULL, NULL, orig, "u@blue.example.jp", SIGN,
	    "d=blue.example.jp s=sel", "MacroList" },
	{ "MacroList: another value does not", "macro.conf", "192.0.2.1",
	    NULL, NULL, NULL, mx, "u@blue.example.jp", VERIFY, "",
	    "not internal" },
	{ "MacroList: a bare name matches when set", "macro.conf",
	    "192.0.2.1", NULL, NULL, NULL, ssf, "u@blue.example.jp", SIGN,
	    "d=blue.example.jp s=sel", "MacroList entry 'auth_ssf' matches" },
	{ "MacroList: a bare name set empty does not", "macro.conf",
	    "192.0.2.1", NULL, NULL, NULL, ssf0, "u@blue.example.jp", VERIFY,
	    "", "not internal" },
	{ "MacroList: still 127.0.0.1 by default", "macro.conf",
	    "127.0.0.1", NULL, NULL, NULL, mx, "u@blue.example.jp", SIGN,
	    "d=blue.example.jp s=sel", "InternalHosts" },

	/* Mode */
	{ "Mode s: internal mail signed", "mode-s.conf", "127.0.0.1", NULL,
	    NULL, NULL, NULL, "u@blue.example.jp", SIGN,
	    "d=blue.example.jp s=sel", "is in Domain" },
	{ "Mode s: external mail passed unchanged", "mode-s.conf",
	    "192.0.2.1", NULL, NULL, NULL, NULL, "u@blue.example.jp", PASS,
	    "", "verify: Mode does not include v: passed unchanged" },
	{ "Mode v: internal mail that would be signed passes unchanged (as "
	    "OpenDKIM)", "mode-v.conf", "127.0.0.1", NULL, NULL, NULL, NULL,
	    "u@blue.example.jp", PASS, "", "sign: Mode does not include s: "
	    "mail that would be signed is passed unchanged" },
	{ "Mode v: internal mail of another domain is verified",
	    "mode-v.conf", "127.0.0.1", NULL, NULL, NULL, NULL,
	    "u@other.example", VERIFY, "", "verify: the message is verified" },
	{ "Mode v: a key problem does not refuse mail that is not signed",
	    "mode-v-bad.conf", "127.0.0.1", NULL, NULL, NULL, NULL,
	    "u@missing.example", PASS, "", "names key 'nosuchkey'" },
	{ "Mode v: external mail verified", "mode-v.conf", "192.0.2.1", NULL,
	    NULL, NULL, NULL, "u@blue.example.jp", VERIFY, "",
	    "verify: the message is verified" },
};

/* subst - "@D@" in s replaced by the directory, into out */
static void
subst(const char *s, struct buf *out)
{
	buf_reset(out);
	for (; *s != '\0'; s++) {
		if (strncmp(s, "@D@", 3) == 0) {
			buf_puts(out, tmpdir);
			s += 2;
		} else
			buf_putc(out, *s);
	}
	buf_append(out, "", 0);
}

/* load - a configuration from the directory; NULL with diagnostics */
static struct dkimd_conf *
load(const char *name, struct buf *err)
{
	char path[512];
	struct dkimd_conf *c;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	buf_reset(err);
	c = dkimd_conf_load(path, NULL, NULL, err);
	if (c == NULL)
		diag("%s: %s", name, buf_str(err));
	return c;
}

/* sigs_text - the signing requests as "d=.. s=.. i=..; ..." */
static void
sigs_text(const struct dkimd_decision *d, struct buf *out)
{
	size_t i;

	buf_reset(out);
	buf_append(out, "", 0);
	for (i = 0; i < d->nreq; i++)
		buf_printf(out, "%sd=%s s=%s%s%s", i ? "; " : "",
		    d->req[i].domain, d->req[i].key->selector,
		    d->req[i].identity ? " i=" : "",
		    d->req[i].identity ? d->req[i].identity : "");
}

/* run_case - one row of the table */
static void
run_case(const struct pcase *t)
{
	struct buf err = BUF_INIT, want = BUF_INIT, got = BUF_INIT;
	struct dkimd_conf *c;
	struct dkimd_client cl;
	struct dkimd_decision d;
	char *local = NULL, *at;
	int result;

	if ((c = load(t->conf, &err)) == NULL) {
		ok(0, "%s: configuration loads", t->name);
		goto out;
	}
	memset(&cl, 0, sizeof(cl));
	cl.addr = t->addr;
	cl.hostname = t->host;
	cl.auth = t->auth;
	cl.daemon = t->daemon;
	if (t->macros != NULL) {
		cl.macro = macro_fn;
		cl.macro_arg = (void *)t->macros;
	}
	if (t->sender != NULL) {
		local = strdup(t->sender);
		at = strchr(local, '@');
		*at = '\0';
	}
	if (dkimd_policy_decide(&c->policy, &cl, local, local ? at + 1 : NULL,
	    &d) < 0) {
		ok(0, "%s: decides", t->name);
		dkimd_decision_free(&d);
		dkimd_conf_free(c);
		goto out;
	}
	result = d.sign ? SIGN : d.tempfail ? TEMPFAIL : d.verify ? VERIFY :
	    PASS;
	if (!is_int(result, t->result, t->name))
		diag("reasons:\n%s", buf_str(&d.why));
	if (t->sigs != NULL) {
		sigs_text(&d, &got);
		if (!is_str(buf_str(&got), t->sigs, t->name))
			diag("reasons:\n%s", buf_str(&d.why));
	}
	subst(t->why, &want);
	if (!ok(strstr(buf_str(&d.why), buf_str(&want)) != NULL,
	    "%s: reasons say '%s'", t->name, t->why))
		diag("reasons:\n%s", buf_str(&d.why));
	ok(result != SIGN || d.origin, "%s: signing implies origin", t->name);
	dkimd_decision_free(&d);
	dkimd_conf_free(c);
out:
	free(local);
	buf_free(&err);
	buf_free(&want);
	buf_free(&got);
}

/* conf_warnings - what loading says about traps, with file:line */
static void
conf_warnings(void)
{
	static const struct {
		const char *conf, *want, *name;
	} w[] = {
		{ "admin.conf", "@D@/admin.conf:1: Domain is ignored because a "
		    "KeyTable is set", "admin: Domain with a KeyTable is "
		    "reported as ignored, with file:line" },
		{ "admin.conf", "ExternalIgnoreList", NULL },
		{ "admin-all.conf", "@D@/admin-all.conf:1: InternalHosts lists "
		    "0.0.0.0/0 or ::/0", "admin with 0.0.0.0/0: warned that "
		    "mail from anywhere gets signed" },
		{ "bad.conf", "@D@/bad.st:1: SigningTable entry "
		    "'*@missing.example' names key 'nosuchkey', which the "
		    "KeyTable lacks", "SigningTable line naming a missing key "
		    "is reported at load" },
		{ "bad.conf", "@D@/keys2:8: key 'broken': cannot load key file",
		    "KeyTable line whose key does not load is reported" },
		{ "bad.conf", "@D@/keys2:9: key 'garbled': KeyTable value "
		    "'just-a-word' is not domain:selector:keyfile",
		    "KeyTable line without colons is reported" },
		{ "bad.conf", "@D@/keys2:10: key file @D@/unsafe.pem is readable "
		    "by others (RequireSafeKeys: chmod 600 it; until then it is not used)",
		    "key file readable by others is reported" },
		{ "keys2-names.conf", "@D@/keys3:1: key "
		    "'sel._domainkey.red.example' signs as d=blue.example, not "
		    "as red.example", "KeyTable name and domain that disagree "
		    "are reported" },
		{ "single-nokey.conf", "Selector is set but KeyFile is not",
		    "Selector without KeyFile is reported" },
		{ "st-only.conf", "@D@/st-only.conf:1: SigningTable is set but "
		    "KeyTable is not: nothing will be signed",
		    "SigningTable without KeyTable is reported" },
	};
	struct buf err = BUF_INIT, want = BUF_INIT;
	struct dkimd_conf *c;
	size_t i;

	for (i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		if ((c = load(w[i].conf, &err)) == NULL) {
			ok(0, "%s loads", w[i].conf);
			continue;
		}
		subst(w[i].want, &want);
		if (w[i].name != NULL &&
		    !ok(strstr(buf_str(&c->warnings), buf_str(&want)) != NULL,
		    "%s", w[i].name))
			diag("warnings:\n%s", buf_str(&c->warnings));
		if (w[i].name == NULL) {
			subst("ExternalIgnoreList: @D@/TrustedHosts:4: "
			    "*.blue.example.jp: in a refile: list, a pattern "
			    "that begins with '*' excludes", &want);
			ok(strstr(buf_str(&c->warnings), buf_str(&want)) !=
			    NULL, "admin: ExternalIgnoreList loads; its "
			    "'*.blue.example.jp' trap is named");
		}
		dkimd_conf_free(c);
	}
	buf_free(&err);
	buf_free(&want);
}

/* conf_errors - configurations that must not load, and why */
static void
conf_errors(void)
{
	static const struct {
		const char *name, *text, *want;
	} e[] = {
		{ "Mode with another letter", "Syslog no\nMode sx\n",
		    "@D@/e.conf:2: Mode: 'sx' is not made of s" },
		{ "Canonicalization misspelt", "Canonicalization relaxed/simpel\n",
		    "@D@/e.conf:1: Canonicalization: 'relaxed/simpel'" },
		{ "On-BadSignature not an action", "On-BadSignature bounce\n",
		    "@D@/e.conf:1: On-BadSignature: 'bounce' is not accept" },
		{ "KeyTable file missing", "KeyTable file:@D@/nonexistent\n",
		    "@D@/e.conf:1: KeyTable: @D@/nonexistent: No such file" },
		{ "SigningTable of an unsupported type",
		    "KeyTable refile:@D@/KeyTable\nSigningTable db:/x.db\n",
		    "@D@/e.conf:2: SigningTable: " },
		{ "InternalHosts with a bad entry", "\n\nInternalHosts 300.1.1.1/8\n",
		    "@D@/e.conf:3: InternalHosts: " },
		{ "unknown keyword with suggestion", "SigingTable x\n",
		    "did you mean 'SigningTable'?" },
	};
	struct buf err = BUF_INIT, want = BUF_INIT;
	struct dkimd_conf *c;
	size_t i;

	for (i = 0; i < sizeof(e) / sizeof(e[0]); i++) {
		t_put(tmpdir, "e.conf", e[i].text, 0644);
		c = load("e.conf", &err);
		ok(c == NULL, "bad configuration refused: %s", e[i].name);
		subst(e[i].want, &want);
		if (!ok(strstr(buf_str(&err), buf_str(&want)) != NULL,
		    "%s: the error names file:line and keyword", e[i].name))
			diag("got: %s\nwant: %s", buf_str(&err), buf_str(&want));
		if (c != NULL)
			dkimd_conf_free(c);
	}
	buf_free(&err);
	buf_free(&want);
}

/* sockaddr_origin - InternalHosts by sockaddr, IPv4-mapped as IPv4 */
static void
sockaddr_origin(void)
{
	struct buf err = BUF_INIT;
	struct dkimd_conf *c;
	struct dkimd_client cl;
	struct dkimd_decision d;
	struct sockaddr_in6 s6;

	if ((c = load("admin.conf", &err)) == NULL) {
		ok(0, "admin.conf loads");
		return;
	}
	memset(&s6, 0, sizeof(s6));
	s6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &s6.sin6_addr);
	memset(&cl, 0, sizeof(cl));
	cl.sa = (const struct sockaddr *)&s6;
	cl.addr = "::ffff:127.0.0.1";
	dkimd_policy_decide(&c->policy, &cl, "u", "blue.example.jp", &d);
	ok(d.sign && d.origin, "IPv4-mapped 127.0.0.1 (sockaddr) is internal");
	dkimd_decision_free(&d);
	inet_pton(AF_INET6, "2001:db8::1", &s6.sin6_addr);
	cl.addr = "2001:db8::1";
	dkimd_policy_decide(&c->policy, &cl, "u", "blue.example.jp", &d);
	ok(!d.sign && !d.origin && d.verify,
	    "2001:db8::1 (sockaddr) is external and verified");
	dkimd_decision_free(&d);
	dkimd_conf_free(c);
	buf_free(&err);
}

int
main(void)
{
	size_t i;

	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	t_copy(tmpdir, DATA "rsa2048.pem", "rsa2048.pem", 0600);
	t_copy(tmpdir, DATA "ed25519.pem", "ed25519.pem", 0600);
	t_copy(tmpdir, DATA "red.pem", "red.pem", 0600);
	t_copy(tmpdir, DATA "rsa2048.pem", "unsafe.pem", 0644);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		t_put(tmpdir, files[i].name, files[i].text, 0644);
	t_put(tmpdir, "keys3", "sel._domainkey.red.example blue.example:sel:"
	    "@D@/red.pem\n", 0644);
	t_put(tmpdir, "keys2-names.conf", "KeyTable file:@D@/keys3\n"
	    "SigningTable refile:@D@/SigningTable\n", 0644);
	t_put(tmpdir, "st-only.conf", "SigningTable refile:@D@/SigningTable\n", 0644);

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i]);
	conf_warnings();
	conf_errors();
	sockaddr_origin();

	{
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			diag("could not remove %s", tmpdir);
	}
	return done_testing();
}
