/*
 * dataset - file:, refile:, csl:, bare paths and bare lists: parsing,
 * case-insensitive lookups, '*' patterns in file order, error messages
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dataset.h"
#include "tap.h"

#define DATA "t/data/conf/"

/* pattern, string, expected dataset_match() */
static const struct {
	const char *pat, *str;
	int want;
} matches[] = {
	{ "*@example.com", "user@EXAMPLE.com", 1 },
	{ "*@example.com", "@example.com", 1 },
	{ "*@example.com", "user@example.com.evil", 0 },
	{ "*@example.com", "user@sub.example.com", 0 },
	{ "*", "", 1 },
	{ "*", "anything at all", 1 },
	{ "**", "", 1 },
	{ "", "", 1 },
	{ "", "x", 0 },
	{ "abc", "ABC", 1 },
	{ "abc", "abcd", 0 },
	{ "abcd", "abc", 0 },
	{ "a*", "a", 1 },
	{ "*a", "a", 1 },
	{ "*a", "ba", 1 },
	{ "*a", "ab", 0 },
	{ "a*b*c", "aXXbYYc", 1 },
	{ "a*b*c", "abc", 1 },
	{ "a*b*c", "acb", 0 },
	{ "a*b", "abab", 1 },
	{ "a*ab", "aab", 1 },
	{ "*.example.com", "mail.example.com", 1 },
	{ "*.example.com", "example.com", 0 },
	{ "*.example.com", ".example.com", 1 },
	{ "mx*.example.org", "MX1.Example.ORG", 1 },
	{ "mx*.example.org", "smx1.example.org", 0 },
	{ "*@*.example.com", "u@a.b.example.com", 1 },
	{ "user.*", "userX", 0 },
	{ "a?c", "abc", 0 },
	{ "a?c", "a?c", 1 },
	{ "[ab]", "a", 0 },
	{ "*aaa*", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab", 1 },
	{ "*a*a*a*a*a*a*a*a*c", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab", 0 },
};

/* check_match - the wildcard rules */
static void
check_match(void)
{
	size_t i;

	for (i = 0; i < sizeof(matches) / sizeof(matches[0]); i++)
		is_int(dataset_match(matches[i].pat, matches[i].str),
		    matches[i].want, matches[i].pat);
	is_int(dataset_match(NULL, "x"), 0, "a NULL pattern matches nothing");
	is_int(dataset_match("*", NULL), 0, "a NULL string is not matched");
}

/* check_file - a KeyTable read as file: and as a bare path */
static void
check_file(void)
{
	static const char *specs[] = { "file:" DATA "keytable",
	    DATA "keytable" };
	static const char *names[] = { "a file: data set opens",
	    "a bare absolute path opens as file:" };
	struct dataset *ds;
	struct buf err = BUF_INIT;
	const struct dataset_entry *e;
	char cwd[4096], abs[4200];

	if (getcwd(cwd, sizeof(cwd)) == NULL)
		cwd[0] = '\0';
	snprintf(abs, sizeof(abs), "%s/%s", cwd, DATA "keytable");
	specs[1] = abs;
	for (size_t i = 0; i < 2; i++) {
		is_int(dataset_open(specs[i], &ds, &err), 0, names[i]);
		if (ds == NULL) {
			diag("%s", buf_str(&err));
			continue;
		}
		is_int(ds->kind, DATASET_FILE, "... is a file data set");
		is_int((long)ds->n, 4, "... with four entries");
		e = dataset_lookup(ds, "sel1._domainkey.example.com");
		ok(e != NULL && strcmp(e->value,
		    "example.com:sel1:/etc/keys/example.com.private") == 0 &&
		    e->line == 2, "a tab separates key and value");
		e = dataset_lookup(ds, "sel2._domainkey.EXAMPLE.org");
		ok(e != NULL && strcmp(e->value,
		    "example.org:sel2:/etc/keys/example.org.private") == 0,
		    "keys ignore case; leading and trailing space is trimmed");
		e = dataset_lookup(ds, "nokey.example.net");
		ok(e != NULL && e->value == NULL && e->line == 5,
		    "a key without value has a NULL value");
		e = dataset_lookup(ds, "mixed._domainkey.example.net");
		ok(e != NULL && strcmp(e->value,
		    "example.net:mixed:/etc/keys/with space.private") == 0,
		    "tabs and spaces mixed separate; the value keeps spaces");
		ok(dataset_lookup(ds, "sel1._domainkey") == NULL,
		    "a file key matches whole, not as a prefix");
		ok(dataset_lookup(ds, "*") == NULL,
		    "'*' is not a wildcard in a file: lookup");
		dataset_free(ds);
	}
	buf_free(&err);
}

/* check_crlf - a data set file saved with Windows line ends */
static void
check_crlf(void)
{
	struct dataset *ds;
	struct buf err = BUF_INIT;
	const struct dataset_entry *e;

	is_int(dataset_open("file:" DATA "keytable.crlf", &ds, &err), 0,
	    "a CRLF data set file opens");
	ok(ds != NULL && ds->n == 2, "... the blank CRLF line is skipped");
	e = dataset_lookup(ds, "sel1._domainkey.example.com");
	is_str(e != NULL ? e->value : NULL, "example.com:sel1:/etc/keys/k1",
	    "... a value loses its CR");
	e = dataset_lookup(ds, "lonely");
	ok(e != NULL && e->value == NULL, "... a lone key loses its CR");
	dataset_free(ds);
	buf_free(&err);
}

/* check_refile - a SigningTable of patterns, first match wins */
static void
check_refile(void)
{
	static const struct { const char *key, *want; } look[] = {
		{ "u@sub.example.com", "subkey" },
		{ "u@example.com", "examplekey" },
		{ "U@Example.COM", "examplekey" },
		{ "u@other.example.com", "anysubkey" },
		{ "user@example.org", "userkey" },
		{ "other@example.org", "defaultkey" },
		{ "", "defaultkey" },
	};
	struct dataset *ds;
	struct buf err = BUF_INIT;
	const struct dataset_entry *e;
	size_t i;

	is_int(dataset_open("refile:" DATA "signingtable", &ds, &err), 0,
	    "a refile: data set opens");
	if (ds == NULL) {
		diag("%s", buf_str(&err));
		return;
	}
	is_int(ds->kind, DATASET_REFILE, "... as a pattern data set");
	for (i = 0; i < sizeof(look) / sizeof(look[0]); i++) {
		e = dataset_lookup(ds, look[i].key);
		is_str(e != NULL ? e->value : NULL, look[i].want, look[i].key);
	}
	e = dataset_lookup(ds, "u@sub.example.com");
	ok(e != NULL && e->line == 2, "an entry keeps its line number");
	dataset_free(ds);
	buf_free(&err);
}

/* check_lists - csl: and bare lists */
static void
check_lists(void)
{
	struct dataset *ds;
	struct buf err = BUF_INIT;

	is_int(dataset_open("csl: a.example , B.example,,c.example ,", &ds,
	    &err), 0, "a csl: list opens");
	ok(ds != NULL && ds->kind == DATASET_LIST && ds->n == 3,
	    "... with the empty items skipped");
	ok(ds != NULL && strcmp(ds->entries[0].key, "a.example") == 0 &&
	    strcmp(ds->entries[2].key, "c.example") == 0,
	    "... and each item trimmed");
	ok(dataset_lookup(ds, "b.EXAMPLE") != NULL,
	    "a list lookup ignores case");
	ok(dataset_lookup(ds, "d.example") == NULL,
	    "a list lookup misses what is not listed");
	ok(dataset_lookup(ds, "*") == NULL, "'*' is not a wildcard in a list");
	ok(ds != NULL && ds->entries[0].value == NULL &&
	    ds->entries[0].line == 0 && ds->path == NULL,
	    "list entries have no value, line or path");
	dataset_free(ds);

	is_int(dataset_open("127.0.0.1, ::1,localhost", &ds, &err), 0,
	    "a bare comma list opens");
	ok(ds != NULL && ds->kind == DATASET_LIST && ds->n == 3 &&
	    strcmp(ds->entries[1].key, "::1") == 0,
	    "... and a colon in an item does not make it a type");
	dataset_free(ds);

	is_int(dataset_open("example.com", &ds, &err), 0,
	    "a single word is a list of one");
	ok(ds != NULL && ds->n == 1, "... with one entry");
	dataset_free(ds);

	is_int(dataset_open("csl:", &ds, &err), 0, "an empty csl: opens");
	ok(ds != NULL && ds->n == 0, "... with no entries");
	dataset_free(ds);
	buf_free(&err);
}

/* bad specs and the message each must give */
static const struct {
	const char *spec, *err;
} bad[] = {
	{ "", "empty data set" },
	{ "   ", "empty data set" },
	{ "file:", "file:: no file name" },
	{ "refile:", "refile:: no file name" },
	{ "file:" DATA "nonexistent",
	    DATA "nonexistent: No such file or directory" },
	{ "refile:" DATA "nonexistent",
	    DATA "nonexistent: No such file or directory" },
	{ "/nonexistent/keytable",
	    "/nonexistent/keytable: No such file or directory" },
	{ "file:t/data", "t/data: read error: Is a directory" },
	{ "db:/etc/opendkim/keytable.db", "db:/etc/opendkim/keytable.db: "
	    "data set type 'db:' is not supported (use file:, refile: or "
	    "csl:)" },
	{ "mysql://user@host/db", "mysql://user@host/db: data set type "
	    "'mysql:' is not supported (use file:, refile: or csl:)" },
};

/* check_bad - refused specs */
static void
check_bad(void)
{
	struct dataset *ds;
	struct buf err = BUF_INIT;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		buf_reset(&err);
		ds = (struct dataset *)&err;	/* must be reset to NULL */
		rc = dataset_open(bad[i].spec, &ds, &err);
		ok(rc == -1 && ds == NULL, "'%s' is refused", bad[i].spec);
		is_str(buf_str(&err), bad[i].err, "... with its reason");
	}
	ok(dataset_lookup(NULL, "x") == NULL, "a lookup in NULL is NULL");
	dataset_free(NULL);
	buf_free(&err);
}

int
main(void)
{
	check_match();
	check_file();
	check_crlf();
	check_refile();
	check_lists();
	check_bad();
	return done_testing();
}
