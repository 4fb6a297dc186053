/*
 * NAME
 *	conf - table-driven loader for "Keyword value" configuration files
 * SYNOPSIS
 *	#include "conf.h"
 * DESCRIPTION
 *	conf_init() binds a daemon's keyword table to its value struct and
 *	applies each row's default.  conf_load_file() and conf_load_string()
 *	read opendkim.conf-style text: one keyword and its value per line,
 *	'#' to the end of the line is a comment, blank lines are skipped,
 *	a trailing carriage return is dropped.  Lines have no length limit
 *	below CONF_LINE_MAX.  An empty file (zero bytes: one being written,
 *	or truncated) is an error, not a file of defaults.
 *
 *	Every error in a file is reported, one line each, so that a checker
 *	can show them all at once; loading still fails on the first.
 *
 *	Memory: CONF_STR values are malloc'd copies owned by the value
 *	struct until conf_free(), which frees them and sets them to NULL.
 * DIAGNOSTICS
 *	The functions that read text return 0, or -1 with err holding one
 *	"file:line: why" line per problem (lines joined by newlines, no
 *	final newline).  Out of memory is reported the same way.
 * SEE ALSO
 *	dataset(3), hostlist(3) for values that name data sets.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "conf.h"
#include "dataset.h"
#include "dns.h"
#include "hostlist.h"

#define CONF_LINE_MAX	(1024 * 1024)	/* longest line accepted */
#define CONF_NAME_MAX	64		/* longest name conf_nearest() rates */

/* conf_err - append one "where: why" line to err */
__attribute__((format(printf, 4, 5)))
static void
conf_err(struct buf *err, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return;
	if (err->len > 0)
		buf_putc(err, '\n');
	if (line > 0)
		buf_printf(err, "%s:%d: ", file, line);
	else
		buf_printf(err, "%s: ", file);
	va_start(ap, fmt);
	buf_vprintf(err, fmt, ap);
	va_end(ap);
}

/* conf_parse_bool - 1, 0, or -1 when not a boolean word */
int
conf_parse_bool(const char *s)
{
	static const char *yes[] = { "yes", "true", "on", "1", "y" };
	static const char *no[] = { "no", "false", "off", "0", "n" };
	size_t i;

	if (s == NULL)
		return -1;
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return 1;
		if (strcasecmp(s, no[i]) == 0)
			return 0;
	}
	return -1;
}

/* conf_expect - describe the values a row accepts, for messages */
static void
conf_expect(const struct conf_kw *kw, struct buf *b)
{
	switch (kw->type) {
	case CONF_BOOL:
		buf_puts(b, "yes or no (also true/false, on/off, 1/0)");
		break;
	case CONF_INT:
		buf_printf(b, "an integer from %ld to %ld", kw->min, kw->max);
		break;
	default:
		buf_puts(b, "a value");
		break;
	}
}

/* conf_set - store one value at the row's offset; -1 with err set */
static int
conf_set(struct conf *c, size_t row, const char *value, const char *file,
    int line, struct buf *err)
{
	const struct conf_kw *kw = &c->table[row];
	char *dst = (char *)c->dst + kw->off;
	struct buf want = BUF_INIT;
	char *end, *copy;
	long n;
	int b;

	if (kw->type == CONF_IGNORED)
		return 0;
	conf_expect(kw, &want);
	if (value == NULL || *value == '\0') {
		conf_err(err, file, line, "%s: missing value (expected %s)",
		    kw->name, buf_str(&want));
		goto fail;
	}
	switch (kw->type) {
	case CONF_STR:
		if ((copy = strdup(value)) == NULL) {
			conf_err(err, file, line, "%s: out of memory",
			    kw->name);
			goto fail;
		}
		free(*(char **)(void *)dst);
		*(char **)(void *)dst = copy;
		break;
	case CONF_BOOL:
		if ((b = conf_parse_bool(value)) < 0) {
			conf_err(err, file, line, "%s: '%s' is not a boolean "
			    "(expected %s)", kw->name, value, buf_str(&want));
			goto fail;
		}
		*(int *)(void *)dst = b;
		break;
	case CONF_INT:
		errno = 0;
		n = strtol(value, &end, 10);
		if (end == value || *end != '\0' || !(isdigit(
		    (unsigned char)value[0]) || value[0] == '-' ||
		    value[0] == '+')) {
			conf_err(err, file, line, "%s: '%s' is not an integer "
			    "(expected %s)", kw->name, value, buf_str(&want));
			goto fail;
		}
		if (errno == ERANGE || n < kw->min || n > kw->max) {
			conf_err(err, file, line, "%s: %s is out of range "
			    "(expected %s)", kw->name, value, buf_str(&want));
			goto fail;
		}
		*(long *)(void *)dst = n;
		break;
	case CONF_IGNORED:
		break;
	}
	buf_free(&want);
	return 0;
fail:
	buf_free(&want);
	return -1;
}

/* conf_row - index of a keyword in the table, or -1 */
static long
conf_row(const struct conf *c, const char *name)
{
	size_t i;

	if (name == NULL)
		return -1;
	for (i = 0; i < c->ntable; i++)
		if (strcasecmp(c->table[i].name, name) == 0)
			return (long)i;
	return -1;
}

/* conf_init - bind a table to a value struct and apply the defaults */
int
conf_init(struct conf *c, const struct conf_kw *table, size_t ntable,
    void *dst, struct buf *err)
{
	size_t i;
	int rc = 0;

	c->table = table;
	c->ntable = ntable;
	c->dst = dst;
	buf_init(&c->warnings);
	for (i = 0; i < ntable; i++) {
		char *p = (char *)dst + table[i].off;

		switch (table[i].type) {
		case CONF_STR:
			*(char **)(void *)p = NULL;
			break;
		case CONF_BOOL:
			*(int *)(void *)p = 0;
			break;
		case CONF_INT:
			*(long *)(void *)p = 0;
			break;
		case CONF_IGNORED:
			break;
		}
	}
	/* storage is initialised first: conf_free() works from here on */
	if ((c->loc = calloc(ntable ? ntable : 1, sizeof(*c->loc))) == NULL) {
		conf_err(err, "configuration", 0, "out of memory");
		return -1;
	}
	for (i = 0; i < ntable; i++) {
		if (table[i].def != NULL && table[i].type != CONF_IGNORED &&
		    conf_set(c, i, table[i].def, "default", 0, err) < 0)
			rc = -1;
	}
	return rc;
}

/* conf_mark - remember where a row was set */
static int
conf_mark(struct conf *c, size_t row, const char *file, int line)
{
	struct conf_loc *l = &c->loc[row];

	if (l->file == NULL || strcmp(l->file, file) != 0) {
		char *copy = strdup(file);

		if (copy == NULL)
			return -1;
		free(l->file);
		l->file = copy;
	}
	l->line = line;
	return 0;
}

/* conf_unknown - report an unknown keyword, with a suggestion */
static void
conf_unknown(const struct conf *c, const char *kw, const char *file,
    int line, struct buf *err)
{
	const char *near = conf_nearest(c, kw);

	if (near != NULL)
		conf_err(err, file, line,
		    "unknown keyword '%s'; did you mean '%s'?", kw, near);
	else
		conf_err(err, file, line, "unknown keyword '%s'", kw);
}

/* conf_line - handle one line of text (modified in place) */
static int
conf_line(struct conf *c, char *s, const char *file, int line,
    struct buf *err)
{
	char *kw, *value, *end;
	long row;

	if ((end = strchr(s, '#')) != NULL)
		*end = '\0';
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	while (isspace((unsigned char)*s))
		s++;
	if (*s == '\0')
		return 0;
	kw = s;
	while (*s != '\0' && !isspace((unsigned char)*s))
		s++;
	if (*s != '\0')
		*s++ = '\0';
	while (isspace((unsigned char)*s))
		s++;
	value = s;
	if ((row = conf_row(c, kw)) < 0) {
		conf_unknown(c, kw, file, line, err);
		return -1;
	}
	if (conf_set(c, (size_t)row, value, file, line, err) < 0)
		return -1;
	if (conf_mark(c, (size_t)row, file, line) < 0) {
		conf_err(err, file, line, "out of memory");
		return -1;
	}
	if (c->table[row].type == CONF_IGNORED)
		buf_printf(&c->warnings, "%s:%d: %s has no effect here: %s\n",
		    file, line, c->table[row].name,
		    c->table[row].note != NULL ? c->table[row].note :
		    "not implemented");
	return 0;
}

/* conf_load_string - read text (an embedded default); name for messages */
int
conf_load_string(struct conf *c, const char *text, const char *name,
    struct buf *err)
{
	struct buf line = BUF_INIT;
	const char *p, *nl;
	int lineno = 0, rc = 0;

	for (p = text; p != NULL && *p != '\0'; p = nl ? nl + 1 : NULL) {
		nl = strchr(p, '\n');
		lineno++;
		buf_reset(&line);
		buf_append(&line, p, nl ? (size_t)(nl - p) : strlen(p));
		if (line.failed) {
			conf_err(err, name, lineno, "out of memory");
			rc = -1;
			break;
		}
		if (conf_line(c, line.s, name, lineno, err) < 0)
			rc = -1;
	}
	buf_free(&line);
	return rc;
}

/* conf_load_file - read a file; on error err holds "file:line: why" */
int
conf_load_file(struct conf *c, const char *path, struct buf *err)
{
	FILE *fp;
	char *line = NULL, ebuf[128];
	size_t cap = 0;
	ssize_t n;
	int lineno = 0, rc = 0;

	if ((fp = fopen(path, "r")) == NULL) {
		conf_err(err, path, 0, "%s",
		    strerror_r(errno, ebuf, sizeof(ebuf)));
		return -1;
	}
	while ((n = getline(&line, &cap, fp)) != -1) {
		lineno++;
		if (n > CONF_LINE_MAX) {
			conf_err(err, path, lineno, "line longer than %d bytes",
			    CONF_LINE_MAX);
			rc = -1;
			continue;
		}
		if (conf_line(c, line, path, lineno, err) < 0)
			rc = -1;
	}
	if (ferror(fp)) {
		conf_err(err, path, lineno, "read error: %s",
		    strerror_r(errno, ebuf, sizeof(ebuf)));
		rc = -1;
	} else if (lineno == 0) {
		/* half written, or truncated: not "every default" */
		conf_err(err, path, 0, "the file is empty; an empty "
		    "configuration file is refused");
		rc = -1;
	}
	free(line);
	fclose(fp);
	return rc;
}

/* conf_find - the table row for a keyword (case-insensitive), or NULL */
const struct conf_kw *
conf_find(const struct conf *c, const char *name)
{
	long row = conf_row(c, name);

	return row < 0 ? NULL : &c->table[row];
}

/* conf_where - where a keyword was set; NULL if never set (default) */
const struct conf_loc *
conf_where(const struct conf *c, const char *name)
{
	long row = conf_row(c, name);

	if (row < 0 || c->loc == NULL || c->loc[row].file == NULL)
		return NULL;
	return &c->loc[row];
}

/* conf_distance - case-insensitive edit distance, adjacent swaps count 1 */
static size_t
conf_distance(const char *a, const char *b)
{
	size_t r0[CONF_NAME_MAX + 1], r1[CONF_NAME_MAX + 1];
	size_t r2[CONF_NAME_MAX + 1];
	size_t *back2 = r0, *back = r1, *cur = r2, *t;
	size_t la = strlen(a), lb = strlen(b), i, j, v;
	int ca, cb;

	if (la > CONF_NAME_MAX || lb > CONF_NAME_MAX)
		return SIZE_MAX;
	for (j = 0; j <= lb; j++)
		back[j] = j;
	for (i = 1; i <= la; i++) {
		cur[0] = i;
		ca = tolower((unsigned char)a[i - 1]);
		for (j = 1; j <= lb; j++) {
			cb = tolower((unsigned char)b[j - 1]);
			v = back[j - 1] + (ca != cb);
			if (back[j] + 1 < v)
				v = back[j] + 1;
			if (cur[j - 1] + 1 < v)
				v = cur[j - 1] + 1;
			if (i > 1 && j > 1 &&
			    ca == tolower((unsigned char)b[j - 2]) &&
			    cb == tolower((unsigned char)a[i - 2]) &&
			    back2[j - 2] + 1 < v)
				v = back2[j - 2] + 1;
			cur[j] = v;
		}
		t = back2;
		back2 = back;
		back = cur;
		cur = t;
	}
	return back[lb];
}

/* conf_nearest - the known keyword closest to an unknown one, or NULL */
const char *
conf_nearest(const struct conf *c, const char *name)
{
	const char *best = NULL;
	size_t i, d, bestd = SIZE_MAX, limit;

	if (name == NULL || *name == '\0')
		return NULL;
	/* close means: about one edit per four letters, at most four */
	limit = 1 + strlen(name) / 4;
	if (limit > 4)
		limit = 4;
	for (i = 0; i < c->ntable; i++) {
		d = conf_distance(name, c->table[i].name);
		if (d <= limit && d < bestd) {
			bestd = d;
			best = c->table[i].name;
		}
	}
	return best;
}

/* conf_free - free the strings in dst and the loader's own memory */
void
conf_free(struct conf *c)
{
	size_t i;

	for (i = 0; i < c->ntable; i++) {
		if (c->table[i].type == CONF_STR && c->dst != NULL) {
			char **p = (char **)(void *)((char *)c->dst +
			    c->table[i].off);

			free(*p);
			*p = NULL;
		}
		if (c->loc != NULL)
			free(c->loc[i].file);
	}
	free(c->loc);
	c->loc = NULL;
	buf_free(&c->warnings);
}

/* conf_at - append "file:line: " where kw was set; nothing for a default */
void
conf_at(const struct conf *c, const char *kw, struct buf *out)
{
	const struct conf_loc *l = conf_where(c, kw);

	if (l != NULL && l->file != NULL)
		buf_printf(out, "%s:%d: ", l->file, l->line);
}

/* conf_dataset - open the data set a keyword names */
int
conf_dataset(const struct conf *c, const char *kw, const char *spec,
    struct dataset **out, struct buf *err)
{
	struct buf why = BUF_INIT;
	int r = 0;

	if (spec != NULL && dataset_open(spec, out, &why) < 0) {
		conf_at(c, kw, err);
		buf_printf(err, "%s: %s", kw, buf_str(&why));
		r = -1;
	}
	buf_free(&why);
	return r;
}

/* conf_hostlist - open the host list a keyword names; warnings kept */
int
conf_hostlist(const struct conf *c, const char *kw, const char *spec,
    struct hostlist **out, struct buf *err, struct buf *warn)
{
	struct buf why = BUF_INIT;
	const char *w;

	if (spec == NULL)
		return 0;
	if ((*out = hostlist_new()) == NULL)
		return -1;
	if (hostlist_load(*out, spec, &why) < 0) {
		conf_at(c, kw, err);
		buf_printf(err, "%s: %s", kw, buf_str(&why));
		buf_free(&why);
		return -1;
	}
	buf_free(&why);
	w = hostlist_warnings(*out);
	if (*w != '\0') {
		conf_at(c, kw, warn);
		buf_printf(warn, "%s: %s", kw, w);
	}
	return 0;
}

/* conf_load - the file or the built-in text, then the overrides */
int
conf_load(struct conf *c, const char *path, const char *text,
    const char *overrides, struct buf *err)
{
	if (path != NULL ? conf_load_file(c, path, err) < 0 :
	    conf_load_string(c, text, "(built-in default)", err) < 0)
		return -1;
	if (overrides != NULL &&
	    conf_load_string(c, overrides, "(command line)", err) < 0)
		return -1;
	return 0;
}

/* conf_resolver - the DNS resolver a configuration asks for */
int
conf_resolver(const struct conf *c, const char *nameservers, long timeout_s,
    size_t cache_max, struct dns_resolver **out, struct buf *err)
{
	struct dns_opts o;
	struct buf why = BUF_INIT;

	memset(&o, 0, sizeof(o));
	o.nameservers = nameservers;
	o.timeout_ms = (int)timeout_s * 1000;
	o.cache_max = cache_max;
	if ((*out = dns_new_system(&o, &why)) == NULL) {
		conf_at(c, "Nameservers", err);
		buf_printf(err, "DNS: %s", buf_str(&why));
	}
	buf_free(&why);
	return *out != NULL ? 0 : -1;
}

