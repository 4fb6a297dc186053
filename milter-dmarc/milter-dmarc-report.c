/*
 * NAME
 *	milter-dmarc-report - DMARC aggregate reports from milter-dmarc's history
 * SYNOPSIS
 *	milter-dmarc-report [-n] [-c file] [-d domain] [-b begin] [-e end]
 *	    [-m email] [-o dir | -s] [-S sendmail]
 *	milter-dmarc-report --html -o dir [-c file] [-d domain] [-b begin]
 *	    [-e end]
 * DESCRIPTION
 *	Reads the SQLite history that HistoryDatabase in the configuration
 *	file names and writes one aggregate report (RFC 9990 XML, the
 *	urn:ietf:params:xml:ns:dmarc-2.0 namespace) per policy domain for
 *	the period [begin, end]: the policy published (the latest row's),
 *	and one <record> per source address and set of results, with a
 *	count.  Each report is compressed with gzip and named as RFC 9990
 *	says: receiver!domain!begin!end!id.xml.gz, where receiver is the
 *	AuthservID and id the report id.
 *
 *	-b and -e take Unix seconds or ISO 8601 UTC (2026-12-02T00:00:00Z,
 *	or a bare date); the default period is the previous UTC day.  -d
 *	limits the reports to one policy domain.  -o writes the files to a
 *	directory; -n prints, for each report, its file name, the rua
 *	destinations and the XML, and writes nothing.  -m sets the
 *	contact address (default postmaster@ the AuthservID).
 *
 *	-s (--send) mails each report to the mailto: addresses of its rua
 *	through "sendmail -t -i" (-S names another program): a MIME
 *	message with the gzip file attached, the subject RFC 9990 gives.
 *	An address outside the policy domain's organization gets reports
 *	only when its domain publishes DOMAIN._report._dmarc.ITS-DOMAIN
 *	(v=DMARC1); the others are named on standard error and skipped.
 *	With -n, -s says whom each report would go to.
 *
 *	--html -o dir writes a static HTML summary of the period instead
 *	(dmarcd_html.c): dir/index.html and a page per policy domain, from
 *	our history and the reports received from other receivers
 *	(milter-dmarc-import).
 * DIAGNOSTICS
 *	Exit 0 when every report was written (or there was none to write),
 *	1 on an error with the history or a file, 2 on a usage error.
 * SEE ALSO
 *	milter-dmarc(8), milter-dmarc.conf(5), RFC 9990
 */
#include <ctype.h>
#include <errno.h>
#include <libpq-fe.h>
#include <getopt.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "base64.h"
#include "buf.h"
#include "dmarcd_conf.h"
#include "dmarcd_hist.h"
#include "dmarcd_html.h"
#include "xmltok.h"

#define REPORT_NS	"urn:ietf:params:xml:ns:dmarc-2.0"

struct opts {
	const char	*conf, *domain, *dir, *email, *sendmail;
	long long	 begin, end;
	int		 dry, send, html;
	int		 from_pg;	/* agg and pub copied from PostgreSQL */
};

/* The suppressed destinations, lower case, in the order of the table */
struct supp {
	char	**addr;
	size_t	  n;
};

struct ctx {
	const struct opts	*o;
	struct dmarcd_conf	*c;
	sqlite3			*db;
	const struct supp	*supp;
};

static const char *col(sqlite3_stmt *, int);

/* The history, for the suppression list: one of the two is open */
struct hist {
	sqlite3	*sq;
	PGconn	*pg;
};

/* hist_open - the configured history, created and migrated; 0 or -1 */
static int
hist_open(const struct dmarcd_conf *c, struct hist *h, struct buf *why)
{
	memset(h, 0, sizeof(*h));
	if (dmarcd_conf_history_sqlite(c) != NULL)
		h->sq = dmarcd_hist_open_db(dmarcd_conf_history_sqlite(c), why);
	else if (dmarcd_conf_history_pg(c) != NULL)
		h->pg = dmarcd_pg_open(dmarcd_conf_history_pg(c), why);
	else
		buf_puts(why, "no HistoryDatabase");
	return h->sq != NULL || h->pg != NULL ? 0 : -1;
}

static void
hist_close(struct hist *h)
{
	if (h->sq != NULL)
		sqlite3_close(h->sq);
	if (h->pg != NULL)
		dmarcd_pg_close(h->pg);
}

/*
 * hist_sql - one statement with text parameters on either database
 * ($1.. in PostgreSQL's words, ?1.. in SQLite's, from the same text);
 * each row's columns to fn.  0, or -1 with why set.
 */
static int
hist_sql(struct hist *h, const char *sql, int np, const char *const *pv,
    void (*fn)(void *, int, const char *const *), void *arg,
    struct buf *why)
{
	const char *cols[8];
	int i, j, rc;

	if (h->pg != NULL) {
		PGresult *r = PQexecParams(h->pg, sql, np, NULL, pv, NULL,
		    NULL, 0);

		rc = r != NULL && (PQresultStatus(r) == PGRES_TUPLES_OK ||
		    PQresultStatus(r) == PGRES_COMMAND_OK) ? 0 : -1;
		if (rc < 0)
			buf_printf(why, "%s", PQerrorMessage(h->pg));
		for (i = 0; rc == 0 && fn != NULL && i < PQntuples(r); i++) {
			for (j = 0; j < PQnfields(r) && j < 8; j++)
				cols[j] = PQgetvalue(r, i, j);
			fn(arg, j, cols);
		}
		PQclear(r);
		return rc;
	} else {
		struct buf q = BUF_INIT;
		sqlite3_stmt *st = NULL;
		const char *p;

		for (p = sql; *p != '\0'; p++)	/* $N -> ?N */
			buf_putc(&q, *p == '$' ? '?' : *p);
		if (q.failed || sqlite3_prepare_v2(h->sq, buf_str(&q), -1, &st,
		    NULL) != SQLITE_OK) {
			buf_printf(why, "%s", sqlite3_errmsg(h->sq));
			buf_free(&q);
			return -1;
		}
		buf_free(&q);
		for (i = 0; i < np; i++)
			sqlite3_bind_text(st, i + 1, pv[i], -1, SQLITE_STATIC);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			for (j = 0; j < sqlite3_column_count(st) && j < 8; j++)
				cols[j] = col(st, j);
			if (fn != NULL)
				fn(arg, j, cols);
		}
		if (rc != SQLITE_DONE)
			buf_printf(why, "%s", sqlite3_errmsg(h->sq));
		sqlite3_finalize(st);
		return rc == SQLITE_DONE ? 0 : -1;
	}
}

/* lower - s in lower case, in place (NULL stays NULL) */
static char *
lower(char *s)
{
	char *p;

	for (p = s; p != NULL && *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return s;
}

/* suppress - add (or refresh) an address; 0 or -1 */
static int
suppress(struct hist *h, const char *addr, const char *reason,
    struct buf *why)
{
	char *a = lower(strdup(addr)), since[24];
	const char *pv[3];
	int rc;

	if (a == NULL || strchr(a, '@') == NULL) {
		buf_printf(why, "%s: not an address", addr);
		free(a);
		return -1;
	}
	snprintf(since, sizeof(since), "%lld", (long long)time(NULL));
	pv[0] = a;
	pv[1] = reason != NULL ? reason : "";
	pv[2] = since;
	rc = hist_sql(h, "INSERT INTO suppressed (address, reason, since) "
	    "VALUES ($1, $2, $3) ON CONFLICT (address) DO UPDATE SET reason "
	    "= excluded.reason, since = excluded.since", 3, pv, NULL, NULL,
	    why);
	free(a);
	return rc;
}

/* supp_row - a suppressed address into the list */
static void
supp_row(void *arg, int n, const char *const *v)
{
	struct supp *s = arg;
	char **na;

	if (n < 1 || (na = realloc(s->addr, (s->n + 1) * sizeof(*na))) ==
	    NULL)
		return;
	s->addr = na;
	if ((s->addr[s->n] = strdup(v[0])) != NULL)
		s->n++;
}

/* list_row - one line of --list-suppressed */
static void
list_row(void *arg, int n, const char *const *v)
{
	time_t t;
	struct tm tm;
	char when[32] = "";

	(void)arg;
	if (n < 3)
		return;
	t = (time_t)strtoll(v[2], NULL, 10);
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("%s\t%s\t%s\n", v[0], when, v[1]);
}

/* suppressed - is addr in the list? */
static int
suppressed(const struct supp *s, const char *addr)
{
	size_t i;

	for (i = 0; s != NULL && i < s->n; i++)
		if (strcasecmp(s->addr[i], addr) == 0)
			return 1;
	return 0;
}

/* count_row - counts the rows of a query */
static void
count_row(void *arg, int n, const char *const *v)
{
	(void)n;
	(void)v;
	(*(int *)arg)++;
}

/*
 * destination - is addr a report destination the history knows of (a
 * mailto: of the rua of some message's policy)?  1, 0, or -1 with why
 * set.  A notice from anyone can then take off only an address our
 * reports go to, not stop whatever address it names.
 */
static int
destination(struct hist *h, const char *addr, struct buf *why)
{
	struct buf pat = BUF_INIT;
	const char *pv[1], *p;
	int n = 0, rc;

	buf_puts(&pat, "%mailto:");
	for (p = addr; *p != '\0'; p++) {
		if (*p == '%' || *p == '_' || *p == '\\')
			buf_putc(&pat, '\\');
		buf_putc(&pat, tolower((unsigned char)*p));
	}
	buf_putc(&pat, '%');
	if (pat.failed) {
		buf_free(&pat);
		buf_puts(why, "out of memory");
		return -1;
	}
	pv[0] = buf_str(&pat);
	rc = hist_sql(h, "SELECT 1 FROM messages WHERE rua IS NOT NULL AND "
	    "lower(rua) LIKE $1 ESCAPE '\\' LIMIT 1", 1, pv, count_row, &n,
	    why);
	buf_free(&pat);
	return rc < 0 ? -1 : n > 0;
}

/*
 * bounce - the permanent failures a delivery status notification (RFC
 * 3464) on fp reports, suppressed: in its message/delivery-status part,
 * each recipient whose Action is failed and whose Status is 5.x.x (a
 * delay or a 4.x.x failure is not a reason), when it is a report
 * destination of the history.  Prints each address; returns the count
 * suppressed, or -1 on an error.
 */
static int
bounce(struct hist *h, FILE *fp, struct buf *why)
{
	char line[1024], rcpt[512] = "", status[32] = "", *v;
	int in = 0, failed = 0, n = 0, lines = 0;

	for (;;) {
		char *got = fgets(line, sizeof(line), fp);
		int end;

		if (got != NULL && ++lines > 200000)
			got = NULL;	/* far more than any notice */
		if (got != NULL)
			line[strcspn(line, "\r\n")] = '\0';
		if (!in) {
			if (got == NULL)
				break;
			if (strncasecmp(line, "Content-Type:", 13) == 0 &&
			    strcasestr(line, "message/delivery-status"))
				in = 1;
			continue;
		}
		end = got == NULL || strncmp(line, "--", 2) == 0;
		if (end || line[0] == '\0' ||
		    strncasecmp(line, "Final-Recipient:", 16) == 0) {
			if (failed && rcpt[0] != '\0' && status[0] == '5') {
				char reason[64];
				int d;

				snprintf(reason, sizeof(reason),
				    "bounce, status %s", status);
				if ((d = destination(h, rcpt, why)) < 0 ||
				    (d && suppress(h, rcpt, reason, why) < 0))
					return -1;
				if (d) {
					printf("%s suppressed (%s)\n", rcpt,
					    reason);
					n++;
				} else
					printf("%s not suppressed: no rua of "
					    "the history names it\n", rcpt);
			}
			if (line[0] == '\0' || end)
				rcpt[0] = status[0] = '\0', failed = 0;
			if (end) {
				if (got == NULL)
					break;
				in = 0;
				continue;
			}
		}
		if ((v = strchr(line, ':')) == NULL)
			continue;
		for (v++; *v == ' ' || *v == '\t'; v++)
			;
		if (strncasecmp(line, "Final-Recipient:", 16) == 0) {
			rcpt[0] = status[0] = '\0';
			failed = 0;
			if (strncasecmp(v, "rfc822;", 7) == 0) {
				v += 7 + strspn(v + 7, " \t<");
				snprintf(rcpt, sizeof(rcpt), "%.*s",
				    (int)strcspn(v, " \t>"), v);
			}
		} else if (strncasecmp(line, "Action:", 7) == 0)
			failed = strncasecmp(v, "failed", 6) == 0;
		else if (strncasecmp(line, "Status:", 7) == 0)
			snprintf(status, sizeof(status), "%.*s",
			    (int)strcspn(v, " \t("), v);
	}
	return n;
}

/* elem - "<name>text</name>" at an indent, when text is not empty */
static void
elem(struct buf *b, int indent, const char *name, const char *text)
{
	if (text == NULL || *text == '\0')
		return;
	buf_printf(b, "%*s<%s>", indent, "", name);
	xml_escape(b, text);
	buf_printf(b, "</%s>\n", name);
}

/* col - a text column, "" for NULL */
static const char *
col(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	return s != NULL ? (const char *)s : "";
}

/* parse_time - Unix seconds, or ISO 8601 UTC; -1 if neither */
static long long
parse_time(const char *s)
{
	struct tm tm;
	char *end;
	long long n;
	const char *p;

	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno == 0 && *end == '\0' && end != s)
		return n;
	memset(&tm, 0, sizeof(tm));
	if ((p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL &&
	    (p = strptime(s, "%Y-%m-%d %H:%M:%S", &tm)) == NULL &&
	    (p = strptime(s, "%Y-%m-%d", &tm)) == NULL)
		return -1;
	if (*p == 'Z')
		p++;
	if (*p != '\0')
		return -1;
	return (long long)timegm(&tm);
}

/* report_id - a stable id for (receiver, domain, begin, end) */
static void
report_id(char *out, size_t size, const char *receiver, const char *domain,
    long long begin, long long end)
{
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a */
	const char *parts[2] = { receiver, domain };
	int i;

	for (i = 0; i < 2; i++)
		for (const char *p = parts[i]; *p != '\0'; p++) {
			h ^= (unsigned char)*p;
			h *= 1099511628211ULL;
		}
	snprintf(out, size, "%lld.%lld.%016llx", begin, end,
	    (unsigned long long)h);
}

/* published - <policy_published> from the latest row of the domain */
static int
published(sqlite3 *db, const struct opts *o, const char *domain,
    struct buf *b, struct buf *rua)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sqlite3_prepare_v2(db, o->from_pg ? "SELECT p, sp, np, adkim, "
	    "aspf, discovery, testing, rua FROM pub WHERE policy_domain = ?" :
	    "SELECT p, sp, np, adkim, aspf, "
	    "discovery, testing, rua FROM messages WHERE policy_domain = ? "
	    "AND received BETWEEN ? AND ? AND p IS NOT NULL ORDER BY received "
	    "DESC, id DESC LIMIT 1", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, domain, -1, SQLITE_STATIC);
	if (!o->from_pg) {
		sqlite3_bind_int64(st, 2, o->begin);
		sqlite3_bind_int64(st, 3, o->end);
	}
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return -1;
	}
	buf_puts(b, "  <policy_published>\n");
	elem(b, 4, "domain", domain);
	elem(b, 4, "p", col(st, 0));
	elem(b, 4, "sp", col(st, 1));
	elem(b, 4, "np", col(st, 2));
	elem(b, 4, "adkim", col(st, 3));
	elem(b, 4, "aspf", col(st, 4));
	elem(b, 4, "discovery_method", col(st, 5));
	elem(b, 4, "testing", sqlite3_column_int(st, 6) ? "y" : "n");
	buf_puts(b, "  </policy_published>\n");
	buf_puts(rua, col(st, 7));
	sqlite3_finalize(st);
	return 0;
}

/* applied - the disposition applied, RFC 9990's words */
static const char *
applied(const char *action, const char *result)
{
	if (strcmp(action, "reject") == 0)
		return "reject";
	if (strcmp(action, "quarantine") == 0)
		return "quarantine";
	return strcmp(result, "pass") == 0 ? "pass" : "none";
}

/*
 * aggregate - the period's rows counted by domain, source address and
 * set of results, once, into the temporary table agg (indexed by
 * domain): one pass over the period in the order the rows were written
 * (the index on received), where a query per domain would visit the
 * whole table's pages once per domain.  0, or -1 (sqlite3_errmsg).
 */
static int
aggregate(sqlite3 *db, const struct opts *o)
{
	struct buf q = BUF_INIT;
	sqlite3_stmt *st = NULL;
	int rc;

	/* the sort may use a second thread; memory stays SQLite's cache */
	(void)sqlite3_exec(db, "PRAGMA threads = 2", NULL, NULL, NULL);
	buf_printf(&q, "CREATE TEMP TABLE agg AS SELECT policy_domain, ip, "
	    "from_domain, env_domain, dmarc_result, disposition, action, "
	    "dkim_aligned, spf_aligned, spf_domain, spf_scope, spf_result, "
	    "testing, coalesce(dkim_results, (SELECT group_concat(domain || "
	    "' ' || CASE selector WHEN '' THEN '-' ELSE selector END || ' ' "
	    "|| result, '|') FROM (SELECT * FROM signatures s WHERE "
	    "s.message_id = m.id ORDER BY domain, selector))) AS sigs, "
	    "count(*) AS n FROM messages m %s WHERE %s received BETWEEN ?1 "
	    "AND ?2 AND p IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, "
	    "11, 12, 13, 14", o->domain != NULL ? "" :
	    "INDEXED BY messages_received", o->domain != NULL ?
	    "policy_domain = ?3 AND" : "");
	if (q.failed || sqlite3_prepare_v2(db, buf_str(&q), -1, &st, NULL) !=
	    SQLITE_OK) {
		buf_free(&q);
		return -1;
	}
	buf_free(&q);
	sqlite3_bind_int64(st, 1, o->begin);
	sqlite3_bind_int64(st, 2, o->end);
	if (o->domain != NULL)
		sqlite3_bind_text(st, 3, o->domain, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE || sqlite3_exec(db, "CREATE INDEX temp.agg_d ON "
	    "agg(policy_domain, n DESC, ip)", NULL, NULL, NULL) != SQLITE_OK)
		return -1;
	return 0;
}

/*
 * pg_copy - the rows of a query to PostgreSQL (parameters: begin, end,
 * domain or NULL) into a new table of mem, created by create and filled
 * by insert; the table's declared types convert the text PostgreSQL
 * gives.  0, or -1 with why set.
 */
static int
pg_copy(PGconn *c, sqlite3 *mem, const char *query, const struct opts *o,
    const char *create, const char *insert, struct buf *why)
{
	char b[24], e[24];
	const char *pv[3] = { b, e, o->domain };
	PGresult *r;
	sqlite3_stmt *st = NULL;
	int i, j, rc = -1;

	snprintf(b, sizeof(b), "%lld", o->begin);
	snprintf(e, sizeof(e), "%lld", o->end);
	r = PQexecParams(c, query, 3, NULL, pv, NULL, NULL, 0);
	if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK) {
		buf_printf(why, "%s", PQerrorMessage(c));
		PQclear(r);
		return -1;
	}
	if (sqlite3_exec(mem, create, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(mem, insert, -1, &st, NULL) != SQLITE_OK)
		goto sqlerr;
	for (i = 0; i < PQntuples(r); i++) {
		sqlite3_reset(st);
		for (j = 0; j < PQnfields(r); j++)
			if (PQgetisnull(r, i, j))
				sqlite3_bind_null(st, j + 1);
			else
				sqlite3_bind_text(st, j + 1, PQgetvalue(r, i, j),
				    -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) != SQLITE_DONE)
			goto sqlerr;
	}
	rc = 0;
	goto out;
sqlerr:
	buf_printf(why, "%s", sqlite3_errmsg(mem));
out:
	sqlite3_finalize(st);
	PQclear(r);
	return rc;
}

/* the messages of the period with a DMARC record, in PostgreSQL */
#define PG_PERIOD "FROM messages m WHERE received BETWEEN $1 AND $2 AND " \
	"p IS NOT NULL AND ($3::text IS NULL OR policy_domain = $3)"

/*
 * aggregate_pg - the same counts from a PostgreSQL history, computed by
 * the server and copied into the tables agg and pub of mem (an
 * in-memory SQLite database), with, for each domain, the policy of its
 * latest row in pub.  0, or -1 with why set.
 */
static int
aggregate_pg(sqlite3 *mem, PGconn *c, const struct opts *o,
    struct buf *why)
{
	if (pg_copy(c, mem, "SELECT policy_domain, ip, "
	    "from_domain, env_domain, dmarc_result, disposition, action, "
	    "dkim_aligned, spf_aligned, spf_domain, spf_scope, spf_result, "
	    "testing, coalesce(dkim_results, (SELECT string_agg(s.domain || "
	    "' ' || CASE s.selector WHEN '' THEN '-' ELSE s.selector END || "
	    "' ' || s.result, '|' ORDER BY s.domain, s.selector) FROM "
	    "signatures s WHERE s.message_id = m.id)) AS sigs, count(*) "
	    PG_PERIOD " GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14",
	    o, "CREATE TABLE agg (policy_domain TEXT, ip TEXT, from_domain "
	    "TEXT, env_domain TEXT, dmarc_result TEXT, disposition TEXT, "
	    "action TEXT, dkim_aligned INTEGER, spf_aligned INTEGER, "
	    "spf_domain TEXT, spf_scope TEXT, spf_result TEXT, testing "
	    "INTEGER, sigs TEXT, n INTEGER)", "INSERT INTO agg VALUES (?, ?, "
	    "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", why) < 0 ||
	    pg_copy(c, mem, "SELECT DISTINCT ON (policy_domain) "
	    "policy_domain, p, sp, np, adkim, aspf, discovery, testing, rua "
	    PG_PERIOD " ORDER BY policy_domain, received DESC, id DESC", o,
	    "CREATE TABLE pub (policy_domain TEXT, p TEXT, sp TEXT, np TEXT, "
	    "adkim TEXT, aspf TEXT, discovery TEXT, testing INTEGER, rua "
	    "TEXT)", "INSERT INTO pub VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
	    why) < 0)
		return -1;
	if (sqlite3_exec(mem, "CREATE INDEX agg_d ON agg(policy_domain, "
	    "n DESC, ip); CREATE INDEX pub_d ON pub(policy_domain)", NULL,
	    NULL, NULL) != SQLITE_OK) {
		buf_printf(why, "%s", sqlite3_errmsg(mem));
		return -1;
	}
	return 0;
}

/* the received reports overlapping the period, in PostgreSQL */
#define PG_REPORTS "FROM received_reports r WHERE r.end_time >= $1 AND " \
	"r.begin_time <= $2 AND ($3::text IS NULL OR lower(r.domain) = " \
	"lower($3))"

/*
 * html_pg - what the HTML summary reads, from a PostgreSQL history into
 * mem: our messages counted per UTC day and result set (the table seen,
 * dmarcd_html.h), and the received reports of the period with their
 * records.  0, or -1 with why set.
 */
static int
html_pg(sqlite3 *mem, PGconn *c, const struct opts *o, struct buf *why)
{
	return pg_copy(c, mem, "SELECT min(received), ip, policy_domain, p, "
	    "dmarc_result, dkim_aligned, spf_aligned, action, count(*) "
	    PG_PERIOD " GROUP BY received / 86400, 2, 3, 4, 5, 6, 7, 8", o,
	    "CREATE TABLE seen (received INTEGER, ip TEXT, policy_domain "
	    "TEXT, p TEXT, dmarc_result TEXT, dkim_aligned INTEGER, "
	    "spf_aligned INTEGER, action TEXT, n INTEGER)", "INSERT INTO seen "
	    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", why) < 0 ||
	    pg_copy(c, mem, "SELECT id, org_name, domain, begin_time, "
	    "end_time " PG_REPORTS, o, "CREATE TABLE received_reports (id "
	    "INTEGER PRIMARY KEY, org_name TEXT, domain TEXT, begin_time "
	    "INTEGER, end_time INTEGER)", "INSERT INTO received_reports "
	    "VALUES (?, ?, ?, ?, ?)", why) < 0 ||
	    pg_copy(c, mem, "SELECT c.report, c.source_ip, c.count, c.dkim, "
	    "c.spf, c.disposition FROM received_records c WHERE c.report IN "
	    "(SELECT r.id " PG_REPORTS ")", o, "CREATE TABLE received_records "
	    "(report INTEGER, source_ip TEXT, count INTEGER, dkim TEXT, spf "
	    "TEXT, disposition TEXT)", "INSERT INTO received_records VALUES "
	    "(?, ?, ?, ?, ?, ?)", why) < 0 ? -1 : 0;
}

/* records - one <record> per source address and set of results */
static int
records(sqlite3 *db, const struct opts *o, const char *domain,
    struct buf *b, long *nrec)
{
	sqlite3_stmt *st = NULL;
	int rc;

	(void)o;
	rc = sqlite3_prepare_v2(db, "SELECT ip, from_domain, env_domain, "
	    "dmarc_result, disposition, action, dkim_aligned, spf_aligned, "
	    "spf_domain, spf_scope, spf_result, testing, sigs, n FROM "
	    "agg WHERE policy_domain = ? ORDER BY n DESC, ip", -1, &st,
	    NULL);
	if (rc != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, domain, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *result = col(st, 3), *asked = col(st, 4);
		const char *act = applied(col(st, 5), result);
		char *sigs = strdup(col(st, 12)), *s, *save = NULL;

		(*nrec)++;
		buf_puts(b, "  <record>\n    <row>\n");
		elem(b, 6, "source_ip", col(st, 0)[0] ? col(st, 0) : "0.0.0.0");
		buf_printf(b, "      <count>%lld</count>\n",
		    (long long)sqlite3_column_int64(st, 13));
		buf_puts(b, "      <policy_evaluated>\n");
		elem(b, 8, "disposition", act);
		elem(b, 8, "dkim", sqlite3_column_int(st, 6) ? "pass" : "fail");
		elem(b, 8, "spf", sqlite3_column_int(st, 7) ? "pass" : "fail");
		if (strcmp(result, "pass") != 0 && strcmp(act, asked) != 0) {
			buf_puts(b, "        <reason>\n");
			elem(b, 10, "type", sqlite3_column_int(st, 11) ?
			    "policy_test_mode" : "local_policy");
			buf_puts(b, "        </reason>\n");
		}
		buf_puts(b, "      </policy_evaluated>\n    </row>\n");
		buf_puts(b, "    <identifiers>\n");
		elem(b, 6, "header_from", col(st, 1));
		elem(b, 6, "envelope_from", col(st, 2));
		buf_puts(b, "    </identifiers>\n    <auth_results>\n");
		for (s = sigs != NULL ? strtok_r(sigs, "|", &save) : NULL;
		    s != NULL; s = strtok_r(NULL, "|", &save)) {
			char d[300], sel[128], r[32];

			if (sscanf(s, "%299s %127s %31s", d, sel, r) != 3)
				continue;
			if (strcmp(r, "softfail") == 0)
				snprintf(r, sizeof(r), "fail");
			buf_puts(b, "      <dkim>\n");
			elem(b, 8, "domain", d);
			buf_printf(b, "        <selector>");
			xml_escape(b, strcmp(sel, "-") == 0 ? "" : sel);
			buf_puts(b, "</selector>\n");
			elem(b, 8, "result", r);
			buf_puts(b, "      </dkim>\n");
		}
		free(sigs);
		if (col(st, 8)[0] != '\0' && strcmp(col(st, 9), "mfrom") == 0) {
			buf_puts(b, "      <spf>\n");
			elem(b, 8, "domain", col(st, 8));
			elem(b, 8, "scope", "mfrom");
			elem(b, 8, "result", col(st, 10));
			buf_puts(b, "      </spf>\n");
		}
		buf_puts(b, "    </auth_results>\n  </record>\n");
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* write_gz - the report into dir/name; 0 or -1 */
static int
write_gz(const char *dir, const char *name, const struct buf *x)
{
	struct buf path = BUF_INIT, tmp = BUF_INIT;
	gzFile gz;
	int rc = -1;

	buf_printf(&path, "%s/%s", dir, name);
	buf_printf(&tmp, "%s/.%s.tmp", dir, name);
	if (path.failed || tmp.failed)
		goto out;
	if ((gz = gzopen(tmp.s, "wb9")) == NULL) {
		fprintf(stderr, "milter-dmarc-report: %s: %s\n", tmp.s,
		    strerror(errno));
		goto out;
	}
	if (gzwrite(gz, x->s, (unsigned)x->len) != (int)x->len) {
		gzclose(gz);
		fprintf(stderr, "milter-dmarc-report: %s: write error\n",
		    tmp.s);
		unlink(tmp.s);
		goto out;
	}
	if (gzclose(gz) != Z_OK || rename(tmp.s, path.s) < 0) {
		fprintf(stderr, "milter-dmarc-report: %s: %s\n", path.s,
		    strerror(errno));
		unlink(tmp.s);
		goto out;
	}
	printf("%s\n", path.s);
	rc = 0;
out:
	buf_free(&path);
	buf_free(&tmp);
	return rc;
}

/* gzip_buf - x compressed in gzip format into out; -1 on failure */
static int
gzip_buf(const struct buf *x, struct buf *out)
{
	z_stream z;
	unsigned char chunk[16384];
	int rc;

	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK)
		return -1;
	z.next_in = (unsigned char *)x->s;
	z.avail_in = (uInt)x->len;
	do {
		z.next_out = chunk;
		z.avail_out = sizeof(chunk);
		rc = deflate(&z, Z_FINISH);
		buf_append(out, chunk, sizeof(chunk) - z.avail_out);
	} while (rc == Z_OK);
	deflateEnd(&z);
	return rc == Z_STREAM_END && !out->failed ? 0 : -1;
}

/* dry_suppressed - for -n: which mailto: addresses of rua are suppressed */
static void
dry_suppressed(const struct ctx *x, const char *rua)
{
	char *list = rua != NULL ? strdup(rua) : NULL, *u, *save = NULL;

	for (u = list != NULL ? strtok_r(list, ",", &save) : NULL; u != NULL;
	    u = strtok_r(NULL, ",", &save)) {
		u += strspn(u, " \t");
		u[strcspn(u, " \t!")] = '\0';
		if (strncasecmp(u, "mailto:", 7) == 0 &&
		    suppressed(x->supp, u + 7))
			printf("suppressed: %s (on the suppression list, "
			    "nothing is sent there)\n", u + 7);
	}
	free(list);
}

/* recipients - the verified mailto: addresses of rua, comma-separated */
static void
recipients(const struct ctx *x, const char *domain, const char *rua,
    struct buf *to)
{
	char *list = strdup(rua), *u, *save = NULL, *at, *bang;
	char rd[DMARC_NAME_MAX + 1];

	for (u = list != NULL ? strtok_r(list, ",", &save) : NULL; u != NULL;
	    u = strtok_r(NULL, ",", &save)) {
		u += strspn(u, " \t");
		u[strcspn(u, " \t")] = '\0';
		if (strncasecmp(u, "mailto:", 7) != 0)
			continue;
		u += 7;
		if ((bang = strchr(u, '!')) != NULL)
			*bang = '\0';	/* the obsolete size limit */
		if ((at = strrchr(u, '@')) == NULL || strpbrk(u, "\r\n<>\"") ||
		    dmarc_domain_alabel(at + 1, rd) < 0)
			continue;
		if (suppressed(x->supp, u)) {
			fprintf(stderr, "milter-dmarc-report: %s: %s is on the "
			    "suppression list: not sent there\n", domain, u);
			continue;
		}
		if (!dmarc_report_allowed(x->c->dns, &x->c->dmarc, domain,
		    rd)) {
			fprintf(stderr, "milter-dmarc-report: %s: %s does not "
			    "accept reports for %s (no %s._report._dmarc.%s): "
			    "not sent there\n", domain, u, domain, domain, rd);
			continue;
		}
		buf_printf(to, "%s%s", to->len ? ", " : "", u);
	}
	free(list);
}

/* send_report - mail the report through sendmail -t (RFC 9990 3.2.1) */
static int
send_report(const struct ctx *x, const char *receiver, const char *domain,
    const char *id, const char *name, const struct buf *xmlb,
    const char *rua)
{
	const struct opts *o = x->o;
	struct buf to = BUF_INIT, gz = BUF_INIT, b64 = BUF_INIT, m = BUF_INIT;
	char date[64], boundary[128];
	time_t now = time(NULL);
	struct tm tm;
	FILE *p;
	size_t i;
	int rc = -1;

	recipients(x, domain, rua, &to);
	if (to.len == 0) {
		fprintf(stderr, "milter-dmarc-report: %s: no verified rua "
		    "address; not sent\n", domain);
		rc = 0;
		goto out;
	}
	if (gzip_buf(xmlb, &gz) < 0 || base64_encode(&b64, gz.s, gz.len) !=
	    BASE64_OK)
		goto out;
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	snprintf(boundary, sizeof(boundary), "=_%s", id);
	buf_printf(&m, "From: ");
	if (o->email != NULL)
		buf_printf(&m, "%s\n", o->email);
	else
		buf_printf(&m, "postmaster@%s\n", receiver);
	buf_printf(&m, "To: %s\nDate: %s\nSubject: Report Domain: %s "
	    "Submitter: %s Report-ID: <%s>\nMessage-ID: <%s@%s>\n"
	    "MIME-Version: 1.0\nContent-Type: multipart/mixed; "
	    "boundary=\"%s\"\n\n", to.s, date, domain, receiver, id, id,
	    receiver, boundary);
	buf_printf(&m, "--%s\nContent-Type: text/plain; charset=us-ascii\n\n"
	    "This is a DMARC aggregate report for %s from %s,\nfor %lld to "
	    "%lld (Unix time).\n\n--%s\nContent-Type: application/gzip\n"
	    "Content-Transfer-Encoding: base64\nContent-Disposition: "
	    "attachment; filename=\"%s\"\n\n", boundary, domain, receiver,
	    o->begin, o->end, boundary, name);
	for (i = 0; i < b64.len; i += 76)
		buf_printf(&m, "%.*s\n", (int)(b64.len - i < 76 ? b64.len - i :
		    76), b64.s + i);
	buf_printf(&m, "--%s--\n", boundary);
	if (m.failed)
		goto out;
	if (o->dry) {
		printf("would send %s to %s\n", name, to.s);
		rc = 0;
		goto out;
	}
	{
		struct buf cmd = BUF_INIT;

		buf_printf(&cmd, "%s -t -i", o->sendmail);
		p = cmd.failed ? NULL : popen(cmd.s, "w");
		buf_free(&cmd);
	}
	if (p == NULL) {
		fprintf(stderr, "milter-dmarc-report: %s: %s\n", o->sendmail,
		    strerror(errno));
		goto out;
	}
	fwrite(m.s, 1, m.len, p);
	if (pclose(p) != 0)
		fprintf(stderr, "milter-dmarc-report: %s failed for %s\n",
		    o->sendmail, name);
	else {
		printf("sent %s to %s\n", name, to.s);
		rc = 0;
	}
out:
	buf_free(&to);
	buf_free(&gz);
	buf_free(&b64);
	buf_free(&m);
	return rc;
}

/* one_report - the report of one policy domain; 0, or -1 on an error */
static int
one_report(const struct ctx *cx, const char *receiver, const char *domain)
{
	const struct opts *o = cx->o;
	sqlite3 *db = cx->db;
	struct buf x = BUF_INIT, rua = BUF_INIT, name = BUF_INIT;
	char id[96];
	long nrec = 0;
	int rc = -1;

	report_id(id, sizeof(id), receiver, domain, o->begin, o->end);
	buf_puts(&x, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	buf_puts(&x, "<feedback xmlns=\"" REPORT_NS "\">\n");
	buf_puts(&x, "  <version>1.0</version>\n  <report_metadata>\n");
	elem(&x, 4, "org_name", receiver);
	if (o->email != NULL)
		elem(&x, 4, "email", o->email);
	else {
		buf_puts(&x, "    <email>postmaster@");
		xml_escape(&x, receiver);
		buf_puts(&x, "</email>\n");
	}
	elem(&x, 4, "report_id", id);
	buf_printf(&x, "    <date_range>\n      <begin>%lld</begin>\n"
	    "      <end>%lld</end>\n    </date_range>\n", o->begin, o->end);
	elem(&x, 4, "generator", "milter-dmarc-report " VERSION);
	buf_puts(&x, "  </report_metadata>\n");
	if (published(db, o, domain, &x, &rua) < 0 ||
	    records(db, o, domain, &x, &nrec) < 0) {
		fprintf(stderr, "milter-dmarc-report: %s: %s\n", domain,
		    sqlite3_errmsg(db));
		goto out;
	}
	buf_puts(&x, "</feedback>\n");
	buf_printf(&name, "%s!%s!%lld!%lld!%s.xml.gz", receiver, domain,
	    o->begin, o->end, id);
	if (x.failed || name.failed || rua.failed) {
		fprintf(stderr, "milter-dmarc-report: out of memory\n");
		goto out;
	}
	if (o->send)
		rc = rua.len ? send_report(cx, receiver, domain, id, name.s,
		    &x, rua.s) : 0;
	else if (o->dry) {
		printf("report %s (%ld records) for %s\n", name.s, nrec,
		    rua.len ? rua.s : "(no rua)");
		dry_suppressed(cx, rua.s);
		fputs(x.s, stdout);
		rc = 0;
	} else
		rc = write_gz(o->dir, name.s, &x);
out:
	buf_free(&x);
	buf_free(&rua);
	buf_free(&name);
	return rc;
}

static void
usage(void)
{
	fprintf(stderr, "usage: milter-dmarc-report [-n] [-c file] "
	    "[-d domain] [-b|--begin T] [-e|--end T] [-m email]\n"
	    "           [-o dir | -s|--send] [-S sendmail]\n"
	    "       milter-dmarc-report --html -o dir [-c file] [-d domain] "
	    "[-b|--begin T] [-e|--end T]\n"
	    "       milter-dmarc-report [-c file] --suppress address "
	    "[--reason text] | --unsuppress address |\n"
	    "           --list-suppressed | --bounce < notice\n");
}

/* What --suppress, --unsuppress, --list-suppressed or --bounce asked. */
struct manage {
	int		 what;		/* the option's letter; 0: none */
	const char	*addr, *reason;
};

/* parse_args - the command line into o and m; -1 to go on, or the exit
 * status */
static int
parse_args(int argc, char **argv, struct opts *o, struct manage *m)
{
	static const struct option longopts[] = {
		{ "begin", required_argument, NULL, 'b' },
		{ "end", required_argument, NULL, 'e' },
		{ "domain", required_argument, NULL, 'd' },
		{ "send", no_argument, NULL, 's' },
		{ "sendmail", required_argument, NULL, 'S' },
		{ "html", no_argument, NULL, 'H' },
		{ "suppress", required_argument, NULL, 'U' },
		{ "unsuppress", required_argument, NULL, 'u' },
		{ "reason", required_argument, NULL, 'R' },
		{ "list-suppressed", no_argument, NULL, 'L' },
		{ "bounce", no_argument, NULL, 'B' },
		{ NULL, 0, NULL, 0 },
	};
	time_t now = time(NULL);
	int ch;

	while ((ch = getopt_long(argc, argv, "b:c:d:e:hm:no:sS:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'b':
		case 'e':
			if ((*(ch == 'b' ? &o->begin : &o->end) =
			    parse_time(optarg)) < 0) {
				fprintf(stderr, "milter-dmarc-report: '%s' is "
				    "not Unix seconds or ISO 8601 UTC\n",
				    optarg);
				return 2;
			}
			break;
		case 'c':
			o->conf = optarg;
			break;
		case 'd':
			o->domain = optarg;
			break;
		case 'H':
			o->html = 1;
			break;
		case 'U':
		case 'u':
		case 'L':
		case 'B':
			if (m->what != 0 && m->what != ch)
				goto use;
			m->what = ch;
			m->addr = optarg;
			break;
		case 'R':
			m->reason = optarg;
			break;
		case 'm':
			o->email = optarg;
			break;
		case 'n':
			o->dry = 1;
			break;
		case 'o':
			o->dir = optarg;
			break;
		case 's':
			o->send = 1;
			break;
		case 'S':
			o->sendmail = optarg;
			break;
		default:
			usage();
			return ch == 'h' ? 0 : 2;
		}
	}
	if (optind != argc)
		goto use;
	if (m->what != 0)
		return -1;
	if ((o->dir == NULL && !o->dry && !o->send) ||
	    (o->dir != NULL && o->send) || (o->html && (o->dir == NULL ||
	    o->dry || o->send)))
		goto use;
	if (o->begin < 0)
		o->begin = (long long)(now - now % 86400 - 86400);
	if (o->end < 0)
		o->end = o->begin + 86399;
	if (o->end < o->begin) {
		fprintf(stderr, "milter-dmarc-report: the period ends before "
		    "it begins\n");
		return 2;
	}
	return -1;
use:
	usage();
	return 2;
}

/* manage_list - change or show the suppression list; the exit status */
static int
manage_list(const struct opts *o, const struct manage *m)
{
	struct buf err = BUF_INIT;
	struct dmarcd_conf *c;
	struct hist h;
	int rc;

	if ((c = dmarcd_conf_load(o->conf, NULL, NULL, &err)) == NULL ||
	    hist_open(c, &h, &err) < 0) {
		fprintf(stderr, "milter-dmarc-report: %s\n", buf_str(&err));
		buf_free(&err);
		dmarcd_conf_free(c);
		return 1;
	}
	if (m->what == 'U')
		rc = suppress(&h, m->addr, m->reason != NULL ? m->reason :
		    "by hand", &err);
	else if (m->what == 'u') {
		char *a = lower(strdup(m->addr));
		const char *pv[1] = { a };

		rc = a == NULL ? -1 : hist_sql(&h, "DELETE FROM suppressed "
		    "WHERE address = $1", 1, pv, NULL, NULL, &err);
		free(a);
	} else if (m->what == 'L')
		rc = hist_sql(&h, "SELECT address, reason, since FROM "
		    "suppressed ORDER BY address", 0, NULL, list_row, NULL,
		    &err);
	else
		rc = bounce(&h, stdin, &err) < 0 ? -1 : 0;
	if (rc < 0)
		fprintf(stderr, "milter-dmarc-report: %s\n",
		    err.len ? buf_str(&err) : "out of memory");
	hist_close(&h);
	buf_free(&err);
	dmarcd_conf_free(c);
	return rc < 0 ? 1 : 0;
}

/*
 * open_reading - the database the reports are read from: the SQLite
 * history, or for PostgreSQL the period's counts in a database in memory
 * (o->from_pg set); NULL with why set
 */
static sqlite3 *
open_reading(const struct dmarcd_conf *c, struct opts *o, struct buf *why)
{
	sqlite3 *db = NULL;
	PGconn *pg;

	if (dmarcd_conf_history_sqlite(c) != NULL) {
		db = dmarcd_hist_open_db(dmarcd_conf_history_sqlite(c), why);
		if (db != NULL && o->html && sqlite3_exec(db,
		    DMARCD_HTML_SEEN_VIEW, NULL, NULL, NULL) != SQLITE_OK) {
			buf_printf(why, "%s", sqlite3_errmsg(db));
			sqlite3_close(db);
			return NULL;
		}
		return db;
	}
	if (dmarcd_conf_history_pg(c) == NULL) {
		buf_printf(why, "%s sets no HistoryDatabase", o->conf);
		return NULL;
	}
	o->from_pg = 1;
	if (sqlite3_open(":memory:", &db) != SQLITE_OK) {
		buf_puts(why, "out of memory");
		sqlite3_close(db);
		return NULL;
	}
	if ((pg = dmarcd_pg_open(dmarcd_conf_history_pg(c), why)) == NULL ||
	    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
	    (o->html ? html_pg(db, pg, o, why) : aggregate_pg(db, pg, o,
	    why)) < 0 || sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		if (why->len == 0)
			buf_printf(why, "%s", sqlite3_errmsg(db));
		dmarcd_pg_close(pg);
		sqlite3_close(db);
		return NULL;
	}
	dmarcd_pg_close(pg);
	return db;
}

/* all_reports - a report for each domain of the period; the exit status */
static int
all_reports(const struct opts *o, struct dmarcd_conf *c, sqlite3 *db)
{
	struct supp supp = { NULL, 0 };
	struct ctx cx = { o, c, db, &supp };
	struct buf err = BUF_INIT;
	sqlite3_stmt *st = NULL;
	struct hist h;
	int rc = 0, n = 0;

	if ((!o->from_pg && aggregate(db, o) < 0) || sqlite3_prepare_v2(db,
	    "SELECT DISTINCT policy_domain FROM agg ORDER BY 1", -1, &st,
	    NULL) != SQLITE_OK) {
		fprintf(stderr, "milter-dmarc-report: %s\n", sqlite3_errmsg(db));
		return 1;
	}
	/* the suppression list, from the same history */
	if (hist_open(c, &h, &err) == 0) {
		(void)hist_sql(&h, "SELECT address FROM suppressed", 0, NULL,
		    supp_row, &supp, &err);
		hist_close(&h);
	}
	buf_free(&err);
	while (sqlite3_step(st) == SQLITE_ROW) {
		n++;
		if (one_report(&cx, c->authserv_id, col(st, 0)) < 0)
			rc = 1;
	}
	sqlite3_finalize(st);
	while (supp.n > 0)
		free(supp.addr[--supp.n]);
	free(supp.addr);
	if (n == 0)
		fprintf(stderr, "milter-dmarc-report: no history rows from "
		    "%lld to %lld%s%s\n", o->begin, o->end, o->domain ?
		    " for " : "", o->domain ? o->domain : "");
	return rc;
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct manage m = { 0, NULL, NULL };
	struct buf err = BUF_INIT;
	struct dmarcd_conf *c;
	sqlite3 *db;
	int rc, n;

	memset(&o, 0, sizeof(o));
	o.conf = SYSCONFDIR "/milter-dmarc.conf";
	o.sendmail = "/usr/sbin/sendmail";
	o.begin = o.end = -1;
	if ((rc = parse_args(argc, argv, &o, &m)) >= 0)
		return rc;
	if (m.what != 0)
		return manage_list(&o, &m);
	if ((c = dmarcd_conf_load(o.conf, NULL, NULL, &err)) == NULL ||
	    (db = open_reading(c, &o, &err)) == NULL) {
		fprintf(stderr, "milter-dmarc-report: %s\n", buf_str(&err));
		buf_free(&err);
		dmarcd_conf_free(c);
		return 1;
	}
	if (o.html) {
		struct dmarcd_html_opts ho = { o.dir, o.domain, c->authserv_id,
		    o.begin, o.end };

		rc = 0;
		if ((n = dmarcd_html_write(db, &ho, &err)) < 0) {
			fprintf(stderr, "milter-dmarc-report: %s\n",
			    buf_str(&err));
			rc = 1;
		} else
			printf("%s/index.html (%d domains)\n", o.dir, n);
	} else
		rc = all_reports(&o, c, db);
	buf_free(&err);
	sqlite3_close(db);
	dmarcd_conf_free(c);
	return rc;
}
