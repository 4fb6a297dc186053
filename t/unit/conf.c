/*
 * conf - the "Keyword value" loader: defaults, types, bounds, messages,
 * suggestions for misspelt keywords, ignored keywords, where a value came
 * from, files with CRLF line ends and very long lines
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "tap.h"

#define DATA "t/data/conf/"

struct cfg {
	int	 syslog;
	char	*socket;
	char	*domain;
	char	*mode;
	char	*umask;
	char	*alg;
	long	 maxhdrs;
	int	 safekeys;
	long	 negative;
};

static const struct conf_kw table[] = {
	{ "Syslog", CONF_BOOL, "yes", offsetof(struct cfg, syslog), 0, 0,
	    NULL },
	{ "Socket", CONF_STR, "inet:8891@127.0.0.1",
	    offsetof(struct cfg, socket), 0, 0, NULL },
	{ "Domain", CONF_STR, NULL, offsetof(struct cfg, domain), 0, 0, NULL },
	{ "Mode", CONF_STR, "sv", offsetof(struct cfg, mode), 0, 0, NULL },
	{ "UMask", CONF_STR, NULL, offsetof(struct cfg, umask), 0, 0, NULL },
	{ "SignatureAlgorithm", CONF_STR, "rsa-sha256",
	    offsetof(struct cfg, alg), 0, 0, NULL },
	{ "MaximumHeaders", CONF_INT, "32", offsetof(struct cfg, maxhdrs), 1,
	    1000, NULL },
	{ "RequireSafeKeys", CONF_BOOL, "true",
	    offsetof(struct cfg, safekeys), 0, 0, NULL },
	{ "Offset", CONF_INT, "-5", offsetof(struct cfg, negative), -10, 10,
	    NULL },
	{ "AutoRestart", CONF_IGNORED, NULL, 0, 0, 0,
	    "use the service manager to restart the daemon" },
};
#define NTABLE (sizeof(table) / sizeof(table[0]))

/* one line of text and what loading it must give */
struct line_case {
	const char	*name;		/* what the case proves */
	const char	*text;
	int		 rc;
	const char	*err;		/* expected message, or NULL */
};

static const struct line_case lines[] = {
	{ "a plain keyword and value load", "Mode s", 0, NULL },
	{ "white space before the keyword is allowed", "   \tMode s", 0, NULL },
	{ "a comment-only line is skipped", "# Mode", 0, NULL },
	{ "a blank line is skipped", "   \t  ", 0, NULL },
	{ "yes is a boolean", "Syslog yes", 0, NULL },
	{ "Off in any case is a boolean", "Syslog OFF", 0, NULL },
	{ "1 is a boolean", "Syslog 1", 0, NULL },
	{ "an integer at the lower bound loads", "MaximumHeaders 1", 0, NULL },
	{ "an integer at the upper bound loads", "MaximumHeaders 1000", 0,
	    NULL },
	{ "a negative integer in range loads", "Offset -10", 0, NULL },
	{ "an unknown keyword is named with the nearest known one",
	    "Sokcet inet:8891@localhost", -1,
	    "test:1: unknown keyword 'Sokcet'; did you mean 'Socket'?" },
	{ "a far-off unknown keyword gets no suggestion", "Frobnicate yes",
	    -1, "test:1: unknown keyword 'Frobnicate'" },
	{ "a suggestion ignores case", "maximumheader 5", -1,
	    "test:1: unknown keyword 'maximumheader'; did you mean "
	    "'MaximumHeaders'?" },
	{ "a bad boolean names the allowed words", "Syslog maybe", -1,
	    "test:1: Syslog: 'maybe' is not a boolean (expected yes or no "
	    "(also true/false, on/off, 1/0))" },
	{ "an integer above max names the range", "MaximumHeaders 1001", -1,
	    "test:1: MaximumHeaders: 1001 is out of range (expected an "
	    "integer from 1 to 1000)" },
	{ "an integer below min names the range", "MaximumHeaders 0", -1,
	    "test:1: MaximumHeaders: 0 is out of range (expected an integer "
	    "from 1 to 1000)" },
	{ "an integer with trailing junk is refused", "MaximumHeaders 12abc",
	    -1, "test:1: MaximumHeaders: '12abc' is not an integer (expected "
	    "an integer from 1 to 1000)" },
	{ "a hexadecimal integer is refused", "MaximumHeaders 0x10", -1,
	    "test:1: MaximumHeaders: '0x10' is not an integer (expected an "
	    "integer from 1 to 1000)" },
	{ "an integer overflowing long is out of range",
	    "MaximumHeaders 99999999999999999999999", -1,
	    "test:1: MaximumHeaders: 99999999999999999999999 is out of range "
	    "(expected an integer from 1 to 1000)" },
	{ "a string keyword without value is an error", "Socket", -1,
	    "test:1: Socket: missing value (expected a value)" },
	{ "a boolean keyword without value is an error", "Syslog   ", -1,
	    "test:1: Syslog: missing value (expected yes or no (also "
	    "true/false, on/off, 1/0))" },
	{ "an integer keyword without value is an error",
	    "MaximumHeaders # none", -1,
	    "test:1: MaximumHeaders: missing value (expected an integer from "
	    "1 to 1000)" },
	{ "an ignored keyword loads", "AutoRestart yes", 0, NULL },
	{ "an ignored keyword without value loads", "AutoRestart", 0, NULL },
};

/* check_lines - each line on its own, against a fresh configuration */
static void
check_lines(void)
{
	size_t i;

	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		struct cfg v;
		struct conf c;
		struct buf err = BUF_INIT;
		int rc;

		conf_init(&c, table, NTABLE, &v, &err);
		rc = conf_load_string(&c, lines[i].text, "test", &err);
		if (lines[i].err == NULL)
			ok(rc == lines[i].rc && err.len == 0, "%s",
			    lines[i].name);
		else {
			is_str(buf_str(&err), lines[i].err, lines[i].name);
			is_int(rc, lines[i].rc, "... and loading fails");
		}
		if (err.len > 0 && lines[i].err == NULL)
			diag("unexpected: %s", err.s);
		conf_free(&c);
		buf_free(&err);
	}
}

/* check_defaults - values before any file is read */
static void
check_defaults(void)
{
	struct cfg v;
	struct conf c;
	struct buf err = BUF_INIT;

	memset(&v, 0x5a, sizeof(v));
	is_int(conf_init(&c, table, NTABLE, &v, &err), 0,
	    "conf_init accepts the table's defaults");
	is_int(v.syslog, 1, "a boolean default is applied");
	is_str(v.socket, "inet:8891@127.0.0.1", "a string default is copied");
	ok(v.domain == NULL, "a string without default is NULL");
	is_int(v.maxhdrs, 32, "an integer default is parsed");
	is_int(v.negative, -5, "a negative integer default is parsed");
	is_int(v.safekeys, 1, "'true' as a default is a boolean");
	ok(conf_where(&c, "Socket") == NULL, "a default has no location");
	ok(conf_find(&c, "SOCKET") == &table[1],
	    "conf_find ignores case");
	ok(conf_find(&c, "Sock") == NULL, "conf_find wants the whole name");
	is_str(conf_nearest(&c, "Sockett"), "Socket",
	    "conf_nearest finds a one-letter slip");
	is_str(conf_nearest(&c, "SignatureAlgoritm"), "SignatureAlgorithm",
	    "conf_nearest finds a dropped letter in a long name");
	is_str(conf_nearest(&c, "Mdoe"), "Mode",
	    "conf_nearest counts a swap of two letters as one edit");
	ok(conf_nearest(&c, "X") == NULL, "one letter is near to nothing");
	ok(conf_nearest(&c, "Domainname") == NULL,
	    "six extra letters are too far");
	conf_free(&c);
	ok(v.socket == NULL && v.mode == NULL, "conf_free clears strings");
	buf_free(&err);
}

/* check_bad_default - a table whose default is wrong is reported */
static void
check_bad_default(void)
{
	static const struct conf_kw bad[] = {
		{ "Count", CONF_INT, "many", 0, 0, 10, NULL },
	};
	long n;
	struct conf c;
	struct buf err = BUF_INIT;

	is_int(conf_init(&c, bad, 1, &n, &err), -1,
	    "a default that does not parse fails conf_init");
	is_str(buf_str(&err), "default: Count: 'many' is not an integer "
	    "(expected an integer from 0 to 10)",
	    "... and says which keyword");
	conf_free(&c);
	buf_free(&err);
}

/* check_good_file - a complete file, as an administrator writes it */
static void
check_good_file(void)
{
	struct cfg v;
	struct conf c;
	struct buf err = BUF_INIT;
	const struct conf_loc *loc;

	conf_init(&c, table, NTABLE, &v, &err);
	is_int(conf_load_file(&c, DATA "good.conf", &err), 0,
	    "good.conf loads");
	if (err.len)
		diag("%s", err.s);
	is_str(v.socket, "local:/run/milter.sock",
	    "the last of two settings wins, whatever the keyword's case");
	loc = conf_where(&c, "socket");
	ok(loc != NULL && strcmp(loc->file, DATA "good.conf") == 0 &&
	    loc->line == 11, "conf_where names the line of the last setting");
	is_str(v.domain, "example.com, example.org,  example.net",
	    "a value keeps its inner spaces");
	is_str(v.mode, "sv", "a comment after the value is cut and trimmed");
	is_str(v.umask, "007", "a string of digits stays a string");
	is_int(v.maxhdrs, 64, "an integer is read");
	is_int(v.safekeys, 0, "off is false");
	is_str(buf_str(&c.warnings), DATA "good.conf:13: AutoRestart has no "
	    "effect here: use the service manager to restart the daemon\n",
	    "an ignored keyword leaves a warning with its reason");
	ok(conf_where(&c, "AutoRestart") != NULL,
	    "conf_where knows an ignored keyword was given");
	ok(conf_where(&c, "Nonsense") == NULL,
	    "conf_where of an unknown keyword is NULL");
	conf_free(&c);
	buf_free(&err);
}

/* check_bad_file - every error in a file is reported, each with its line */
static void
check_bad_file(void)
{
	struct cfg v;
	struct conf c;
	struct buf err = BUF_INIT;

	conf_init(&c, table, NTABLE, &v, &err);
	is_int(conf_load_file(&c, DATA "bad.conf", &err), -1,
	    "bad.conf fails to load");
	is_str(buf_str(&err),
	    DATA "bad.conf:1: Syslog: 'maybe' is not a boolean (expected yes "
	    "or no (also true/false, on/off, 1/0))\n"
	    DATA "bad.conf:2: unknown keyword 'Sokcet'; did you mean "
	    "'Socket'?\n"
	    DATA "bad.conf:3: MaximumHeaders: 100000 is out of range "
	    "(expected an integer from 1 to 1000)\n"
	    DATA "bad.conf:4: Mode: missing value (expected a value)\n"
	    DATA "bad.conf:5: MaximumHeaders: '12abc' is not an integer "
	    "(expected an integer from 1 to 1000)\n"
	    DATA "bad.conf:6: unknown keyword 'Frobnicate'\n"
	    DATA "bad.conf:7: Syslog: missing value (expected yes or no "
	    "(also true/false, on/off, 1/0))",
	    "every bad line is reported with file, line and keyword");
	is_int(v.maxhdrs, 32, "a refused value leaves the old one");
	ok(conf_where(&c, "MaximumHeaders") == NULL,
	    "a refused value does not count as set");
	conf_free(&c);
	buf_reset(&err);

	conf_init(&c, table, NTABLE, &v, &err);
	is_int(conf_load_file(&c, DATA "missing.conf", &err), -1,
	    "a missing file fails");
	is_str(buf_str(&err), DATA "missing.conf: No such file or directory",
	    "... with the path and the system's reason");
	conf_free(&c);
	buf_free(&err);
}

/* check_empty - a zero-length file is refused, a file of comments not */
static void
check_empty(void)
{
	char path[] = "/tmp/conf-empty-XXXXXX";
	struct cfg v;
	struct conf c;
	struct buf err = BUF_INIT;
	int fd;

	if ((fd = mkstemp(path)) < 0) {
		ok(0, "a temporary file can be made");
		return;
	}
	conf_init(&c, table, NTABLE, &v, &err);
	is_int(conf_load_file(&c, path, &err), -1, "an empty file is refused");
	ok(strstr(buf_str(&err), "the file is empty") != NULL, "... saying so: %s",
	    buf_str(&err));
	conf_free(&c);
	buf_reset(&err);
	if (write(fd, "# nothing set\n", 14) != 14)
		ok(0, "write");
	close(fd);
	conf_init(&c, table, NTABLE, &v, &err);
	is_int(conf_load_file(&c, path, &err), 0,
	    "a file of one comment loads (every default)");
	conf_free(&c);
	buf_free(&err);
	unlink(path);
}

/* check_crlf - a file saved with Windows line ends */
static void
check_crlf(void)
{
	struct cfg v;
	struct conf c;
	struct buf err = BUF_INIT;

	conf_init(&c, table, NTABLE, &v, &err);
	is_int(conf_load_file(&c, DATA "crlf.conf", &err), 0,
	    "a CRLF file loads");
	if (err.len)
		diag("%s", err.s);
	is_int(v.syslog, 0, "a boolean before CR is read");
	is_str(v.mode, "v", "a string loses the CR");
	is_int(v.maxhdrs, 10, "an integer before CR is read");
	conf_free(&c);
	buf_free(&err);
}

/* check_long_line - a 100 KB value is read whole */
static void
check_long_line(void)
{
	char path[] = "/tmp/conf-long-XXXXXX";
	struct cfg v;
	struct conf c;
	struct buf err = BUF_INIT, text = BUF_INIT;
	FILE *fp;
	int fd, i;

	if ((fd = mkstemp(path)) < 0 || (fp = fdopen(fd, "w")) == NULL) {
		ok(0, "a temporary file can be made");
		return;
	}
	buf_puts(&text, "Domain ");
	for (i = 0; i < 10000; i++)
		buf_puts(&text, "d.example,");
	buf_puts(&text, "end\nMode s\n");
	fputs(text.s, fp);
	fclose(fp);
	conf_init(&c, table, NTABLE, &v, &err);
	is_int(conf_load_file(&c, path, &err), 0, "a 100 KB line loads");
	ok(v.domain != NULL && strlen(v.domain) == 100003,
	    "... and the value is whole");
	is_str(v.mode, "s", "the line after it is read too");
	conf_free(&c);
	buf_reset(&err);

	conf_init(&c, table, NTABLE, &v, &err);
	is_int(conf_load_string(&c, text.s, "embedded", &err), 0,
	    "conf_load_string reads the same long text");
	ok(v.domain != NULL && strlen(v.domain) == 100003,
	    "... with the value whole");
	conf_free(&c);
	unlink(path);
	buf_free(&text);
	buf_free(&err);
}

/* check_bools - every boolean word and a few near misses */
static void
check_bools(void)
{
	static const struct { const char *s; int want; } b[] = {
		{ "yes", 1 }, { "YES", 1 }, { "true", 1 }, { "on", 1 },
		{ "1", 1 }, { "y", 1 }, { "no", 0 }, { "False", 0 },
		{ "off", 0 }, { "0", 0 }, { "n", 0 }, { "yess", -1 },
		{ "", -1 }, { "2", -1 }, { "enable", -1 }, { "yes no", -1 },
	};
	size_t i;
	int all = 1;

	for (i = 0; i < sizeof(b) / sizeof(b[0]); i++)
		if (conf_parse_bool(b[i].s) != b[i].want) {
			diag("conf_parse_bool(\"%s\") != %d", b[i].s,
			    b[i].want);
			all = 0;
		}
	ok(all, "conf_parse_bool knows exactly the documented words");
	is_int(conf_parse_bool(NULL), -1, "conf_parse_bool(NULL) is -1");
}

int
main(void)
{
	check_defaults();
	check_bad_default();
	check_lines();
	check_good_file();
	check_bad_file();
	check_crlf();
	check_empty();
	check_long_line();
	check_bools();
	return done_testing();
}
