/*
 * NAME
 *	dataset - OpenDKIM-style data sets: file:, refile:, csl:, comma lists
 * SYNOPSIS
 *	#include "dataset.h"
 * DESCRIPTION
 *	dataset_open() reads the whole data set into memory at once; the
 *	result is read-only and may be shared by threads.
 *
 *	File format (file: and refile:): per line, '#' to the end of the
 *	line is a comment; the rest, with leading and trailing white space
 *	and a carriage return removed, is a key, then optionally white
 *	space (spaces or tabs) and a value.  Blank lines are skipped.
 *	Lines have no length limit below DATASET_LINE_MAX.
 *
 *	List format (csl: and bare lists): items separated by commas, each
 *	trimmed of white space; empty items are skipped.
 *
 *	Matching: keys compare without regard to case.  In refile: keys are
 *	patterns where '*' matches any run of characters (the empty one
 *	too); every other character stands for itself.
 *
 *	OpenDKIM's other data set types (db:, ldap:, mysql:, lua:, ...) are
 *	rejected with a message naming the type.
 * DIAGNOSTICS
 *	dataset_open() returns 0, or -1 with err saying why ("path: No such
 *	file or directory", "path:LINE: ...").
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dataset.h"

#define DATASET_LINE_MAX (1024 * 1024)	/* longest line accepted */

/* dataset_add - append one entry (copies key and value) */
static int
dataset_add(struct dataset *ds, const char *key, size_t klen,
    const char *value, int line)
{
	struct dataset_entry *e;
	size_t cap;

	if ((ds->n & (ds->n - 1)) == 0) {	/* 0, 1, 2, 4, ...: grow */
		cap = ds->n ? ds->n * 2 : 1;
		if ((e = reallocarray(ds->entries, cap, sizeof(*e))) == NULL)
			return -1;
		ds->entries = e;
	}
	e = &ds->entries[ds->n];
	e->line = line;
	e->value = NULL;
	if ((e->key = strndup(key, klen)) == NULL)
		return -1;
	if (value != NULL && (e->value = strdup(value)) == NULL) {
		free(e->key);
		return -1;
	}
	ds->n++;
	return 0;
}

/* dataset_trim - cut a comment and surrounding white space, in place */
static char *
dataset_trim(char *s)
{
	char *end;

	if ((end = strchr(s, '#')) != NULL)
		*end = '\0';
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	while (isspace((unsigned char)*s))
		s++;
	return s;
}

/* dataset_read_file - read "key [value]" lines */
static int
dataset_read_file(struct dataset *ds, struct buf *err)
{
	FILE *fp;
	char *line = NULL, *s, *v, ebuf[128];
	size_t cap = 0, klen;
	ssize_t n;
	int lineno = 0, rc = 0;

	if ((fp = fopen(ds->path, "r")) == NULL) {
		buf_printf(err, "%s: %s", ds->path,
		    strerror_r(errno, ebuf, sizeof(ebuf)));
		return -1;
	}
	while (rc == 0 && (n = getline(&line, &cap, fp)) != -1) {
		lineno++;
		if (n > DATASET_LINE_MAX) {
			buf_printf(err, "%s:%d: line longer than %d bytes",
			    ds->path, lineno, DATASET_LINE_MAX);
			rc = -1;
			break;
		}
		s = dataset_trim(line);
		if (*s == '\0')
			continue;
		for (klen = 0; s[klen] != '\0' &&
		    !isspace((unsigned char)s[klen]); klen++)
			;
		for (v = s + klen; isspace((unsigned char)*v); v++)
			;
		if (dataset_add(ds, s, klen, *v != '\0' ? v : NULL,
		    lineno) < 0) {
			buf_printf(err, "%s:%d: out of memory", ds->path,
			    lineno);
			rc = -1;
		}
	}
	if (rc == 0 && ferror(fp)) {
		buf_printf(err, "%s: read error: %s", ds->path,
		    strerror_r(errno, ebuf, sizeof(ebuf)));
		rc = -1;
	}
	free(line);
	fclose(fp);
	return rc;
}

/* dataset_read_list - split a comma-separated list */
static int
dataset_read_list(struct dataset *ds, const char *list, struct buf *err)
{
	const char *p = list, *end, *comma;

	while (*p != '\0') {
		if ((comma = strchr(p, ',')) == NULL)
			comma = p + strlen(p);
		while (p < comma && isspace((unsigned char)*p))
			p++;
		end = comma;
		while (end > p && isspace((unsigned char)end[-1]))
			end--;
		if (end > p && dataset_add(ds, p, (size_t)(end - p), NULL,
		    0) < 0) {
			buf_puts(err, "out of memory");
			return -1;
		}
		p = *comma == ',' ? comma + 1 : comma;
	}
	return 0;
}

/* dataset_unsupported - name of an OpenDKIM type we do not read, or NULL */
static const char *
dataset_unsupported(const char *spec)
{
	static const char *types[] = {
		"db:", "dsn:", "ldap:", "ldaps:", "ldapi:", "lua:",
		"memcache:", "mdb:", "redis:", "erlang:", "socketmap:",
		"repute:", "mysql:", "pgsql:", "sqlite:", "sqlite3:",
		"odbc:", "oracle:", "freetds:", "ldb:",
	};
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strncasecmp(spec, types[i], strlen(types[i])) == 0)
			return types[i];
	return NULL;
}

/* dataset_open - read a data set; on error err says why (file and line) */
int
dataset_open(const char *spec, struct dataset **out, struct buf *err)
{
	struct dataset *ds;
	const char *type;
	int rc;

	*out = NULL;
	while (spec != NULL && isspace((unsigned char)*spec))
		spec++;
	if (spec == NULL || *spec == '\0') {
		buf_puts(err, "empty data set");
		return -1;
	}
	if ((type = dataset_unsupported(spec)) != NULL) {
		buf_printf(err, "%s: data set type '%s' is not supported "
		    "(use file:, refile: or csl:)", spec, type);
		return -1;
	}
	if ((ds = calloc(1, sizeof(*ds))) == NULL) {
		buf_puts(err, "out of memory");
		return -1;
	}
	if (strncasecmp(spec, "file:", 5) == 0 || spec[0] == '/') {
		ds->kind = DATASET_FILE;
		ds->path = strdup(spec[0] == '/' ? spec : spec + 5);
	} else if (strncasecmp(spec, "refile:", 7) == 0) {
		ds->kind = DATASET_REFILE;
		ds->path = strdup(spec + 7);
	} else
		ds->kind = DATASET_LIST;
	if (ds->kind != DATASET_LIST && ds->path == NULL) {
		buf_puts(err, "out of memory");
		rc = -1;
	} else if (ds->kind != DATASET_LIST && ds->path[0] == '\0') {
		buf_printf(err, "%s: no file name", spec);
		rc = -1;
	} else if (ds->kind == DATASET_LIST)
		rc = dataset_read_list(ds, strncasecmp(spec, "csl:", 4) == 0 ?
		    spec + 4 : spec, err);
	else
		rc = dataset_read_file(ds, err);
	if (rc < 0) {
		dataset_free(ds);
		return -1;
	}
	*out = ds;
	return 0;
}

/* dataset_match - does a refile: pattern match? ('*' wildcard, no case) */
int
dataset_match(const char *pat, const char *str)
{
	const char *star = NULL, *resume = NULL;

	if (pat == NULL || str == NULL)
		return 0;
	for (;;) {
		if (*pat == '*') {
			while (*pat == '*')
				pat++;
			if (*pat == '\0')
				return 1;
			star = pat;
			resume = str;
			continue;
		}
		if (*str == '\0')
			return *pat == '\0';
		if (*pat != '\0' && tolower((unsigned char)*pat) ==
		    tolower((unsigned char)*str)) {
			pat++;
			str++;
			continue;
		}
		if (star == NULL)
			return 0;
		/* let the last '*' swallow one more character, retry */
		pat = star;
		str = ++resume;
	}
}

/* dataset_lookup - first entry whose key matches (pattern for refile:) */
const struct dataset_entry *
dataset_lookup(const struct dataset *ds, const char *key)
{
	size_t i;

	if (ds == NULL || key == NULL)
		return NULL;
	for (i = 0; i < ds->n; i++) {
		if (ds->kind == DATASET_REFILE ?
		    dataset_match(ds->entries[i].key, key) :
		    strcasecmp(ds->entries[i].key, key) == 0)
			return &ds->entries[i];
	}
	return NULL;
}

/* dataset_free - release a data set and everything it holds */
void
dataset_free(struct dataset *ds)
{
	size_t i;

	if (ds == NULL)
		return;
	for (i = 0; i < ds->n; i++) {
		free(ds->entries[i].key);
		free(ds->entries[i].value);
	}
	free(ds->entries);
	free(ds->path);
	free(ds);
}
