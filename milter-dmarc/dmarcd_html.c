/*
 * NAME
 *	dmarcd_html - milter-dmarc: a static HTML summary of the history
 * SYNOPSIS
 *	#include "dmarcd_html.h"
 * DESCRIPTION
 *	The domains are those of the period with messages in our history
 *	(a DMARC record found) or with reports received about them (a
 *	report's period overlapping ours).  For each, a page: our
 *	messages grouped by source address, then the received reports'
 *	records grouped by source address and by reporting organization.
 *	A received record passes DMARC when its policy evaluation has
 *	DKIM or SPF pass.  The charts count per UTC day (several days a
 *	bar when the period has more than DMARCD_HTML_BARS days); a
 *	received report's records count on the day its period begins.
 *	A table shows the DMARCD_HTML_ROWS source addresses with the most
 *	messages, and counts the others.
 *
 *	Each page is written to a temporary name and renamed into place.
 * DIAGNOSTICS
 *	-1 with why set: an SQL error, or a file that cannot be written.
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dmarcd_html.h"
#include "xmltok.h"

#define SECONDS_PER_DAY	86400LL

/* col - a text column, "" for NULL */
static const char *
col(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	return s != NULL ? (const char *)s : "";
}

/* day - a Unix time's UTC date, YYYY-MM-DD */
static void
day(long long t, char *out, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, size, "%Y-%m-%d", &tm);
}

/* page_name - a domain's file name: safe bytes only, and a hash of the
 * name when any byte had to be replaced (so that names stay apart) */
static void
page_name(const char *domain, char *out, size_t size)
{
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a */
	size_t n = 0;
	const char *p;
	int changed = 0;

	n = (size_t)snprintf(out, size, "domain-");
	for (p = domain; *p != '\0' && n + 22 < size; p++) {
		char c = *p;

		h ^= (unsigned char)c;
		h *= 1099511628211ULL;
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || (c == '.' && p != domain))) {
			c = '_';
			changed = 1;
		}
		out[n++] = c;
	}
	if (*p != '\0')
		changed = 1;
	if (changed)
		n += (size_t)snprintf(out + n, size - n, "-%08llx",
		    (unsigned long long)(h & 0xffffffffu));
	snprintf(out + n, size - n, ".html");
}

/* head - the start of a page */
static void
head(struct buf *b, const char *title)
{
	buf_puts(b, "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/"
	    "xhtml\" lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
	    "<title>");
	xml_escape(b, title);
	buf_puts(b, "</title>\n<style>\n"
	    "body { font-family: sans-serif; margin: 2em; color: #222; }\n"
	    "table { border-collapse: collapse; margin: 1em 0; }\n"
	    "th, td { border: 1px solid #bbb; padding: 0.2em 0.6em; }\n"
	    "td.n { text-align: right; }\n"
	    "th { background: #eee; }\n"
	    ".pass { color: #176617; } .fail { color: #a01515; }\n"
	    "</style>\n</head>\n<body>\n<h1>");
	xml_escape(b, title);
	buf_puts(b, "</h1>\n");
}

/* period - a line naming the period */
static void
period(struct buf *b, const struct dmarcd_html_opts *o)
{
	char d1[16], d2[16];

	day(o->begin, d1, sizeof(d1));
	day(o->end, d2, sizeof(d2));
	buf_printf(b, "<p>From %s to %s (UTC; Unix time %lld to %lld)", d1,
	    d2, o->begin, o->end);
	if (o->receiver != NULL && *o->receiver != '\0') {
		buf_puts(b, ", as seen by ");
		xml_escape(b, o->receiver);
	}
	buf_puts(b, ".</p>\n");
}

/* write_page - b into dir/name, through a temporary file */
static int
write_page(const char *dir, const char *name, const struct buf *b,
    struct buf *why)
{
	struct buf path = BUF_INIT, tmp = BUF_INIT;
	FILE *f;
	int rc = -1;

	buf_printf(&path, "%s/%s", dir, name);
	buf_printf(&tmp, "%s/.%s.tmp", dir, name);
	if (b->failed || path.failed || tmp.failed) {
		buf_printf(why, "out of memory");
		goto out;
	}
	if ((f = fopen(tmp.s, "w")) == NULL) {
		buf_printf(why, "%s: %s", tmp.s, strerror(errno));
		goto out;
	}
	if (fwrite(b->s, 1, b->len, f) != b->len) {
		buf_printf(why, "%s: %s", tmp.s, strerror(errno));
		fclose(f);
		unlink(tmp.s);
		goto out;
	}
	if (fclose(f) != 0 || rename(tmp.s, path.s) < 0) {
		buf_printf(why, "%s: %s", path.s, strerror(errno));
		unlink(tmp.s);
		goto out;
	}
	rc = 0;
out:
	buf_free(&path);
	buf_free(&tmp);
	return rc;
}

/* The chart's counts, one bar per bucket of days. */
struct chart {
	long long	 first;		/* the first day (days since 1970) */
	long long	 per;		/* days per bar */
	size_t		 nbars;
	long long	 pass[DMARCD_HTML_BARS], fail[DMARCD_HTML_BARS];
};

/* chart_init - no counts yet, the bars for the period */
static void
chart_init(struct chart *c, const struct dmarcd_html_opts *o)
{
	long long days = o->end / SECONDS_PER_DAY - o->begin /
	    SECONDS_PER_DAY + 1;

	memset(c, 0, sizeof(*c));
	c->first = o->begin / SECONDS_PER_DAY;
	c->per = (days + DMARCD_HTML_BARS - 1) / DMARCD_HTML_BARS;
	if (c->per < 1)
		c->per = 1;
	c->nbars = (size_t)((days + c->per - 1) / c->per);
}

/* chart_add - counts of a day (days since 1970) */
static void
chart_add(struct chart *c, long long d, long long pass, long long fail)
{
	long long i;

	if (d < c->first)
		d = c->first;
	i = (d - c->first) / c->per;
	if (i >= (long long)c->nbars)
		i = (long long)c->nbars - 1;
	c->pass[i] += pass;
	c->fail[i] += fail;
}

/* chart_svg - the counts as stacked bars, passes below failures */
static void
chart_svg(struct buf *b, const struct chart *c, const char *label)
{
	const int w = 720, h = 200, top = 10, bottom = 30, left = 50;
	long long max = 0;
	double bw, scale;
	char d1[16], d2[16];
	size_t i;

	for (i = 0; i < c->nbars; i++)
		if (c->pass[i] + c->fail[i] > max)
			max = c->pass[i] + c->fail[i];
	bw = (double)(w - left - 10) / (double)(c->nbars ? c->nbars : 1);
	scale = max > 0 ? (double)(h - top - bottom) / (double)max : 0;
	buf_printf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
	    "height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"",
	    w, h, w, h);
	xml_escape(b, label);
	buf_puts(b, "\">\n<title>");
	xml_escape(b, label);
	buf_puts(b, "</title>\n");
	buf_printf(b, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
	    "stroke=\"#888\"/>\n", left, h - bottom, w - 10, h - bottom);
	buf_printf(b, "<text x=\"%d\" y=\"%d\" font-size=\"11\" "
	    "text-anchor=\"end\">%lld</text>\n", left - 4, top + 10, max);
	buf_printf(b, "<text x=\"%d\" y=\"%d\" font-size=\"11\" "
	    "text-anchor=\"end\">0</text>\n", left - 4, h - bottom);
	for (i = 0; i < c->nbars; i++) {
		double x = left + bw * (double)i;
		double hp = (double)c->pass[i] * scale;
		double hf = (double)c->fail[i] * scale;
		double base = h - bottom;

		if (c->pass[i] + c->fail[i] == 0)
			continue;
		day((c->first + (long long)i * c->per) * SECONDS_PER_DAY, d1,
		    sizeof(d1));
		buf_printf(b, "<g><title>%s: %lld pass, %lld fail</title>",
		    d1, c->pass[i], c->fail[i]);
		buf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
		    "height=\"%.1f\" fill=\"#3a9a3a\"/>", x, base - hp,
		    bw * 0.9, hp);
		buf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
		    "height=\"%.1f\" fill=\"#c83232\"/></g>\n", x,
		    base - hp - hf, bw * 0.9, hf);
	}
	day(c->first * SECONDS_PER_DAY, d1, sizeof(d1));
	day((c->first + (long long)c->nbars * c->per - 1) * SECONDS_PER_DAY,
	    d2, sizeof(d2));
	buf_printf(b, "<text x=\"%d\" y=\"%d\" font-size=\"11\">%s</text>\n",
	    left, h - 10, d1);
	buf_printf(b, "<text x=\"%d\" y=\"%d\" font-size=\"11\" "
	    "text-anchor=\"end\">%s</text>\n", w - 10, h - 10, d2);
	buf_puts(b, "</svg>\n<p><span class=\"pass\">&#9632; DMARC pass"
	    "</span> <span class=\"fail\">&#9632; DMARC fail</span></p>\n");
}

/* prepare - a statement with the period (and domain) bound: ?1 begin,
 * ?2 end, ?3 the domain or NULL */
static sqlite3_stmt *
prepare(sqlite3 *db, const char *sql, const struct dmarcd_html_opts *o,
    const char *domain, struct buf *why)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		buf_printf(why, "%s", sqlite3_errmsg(db));
		sqlite3_finalize(st);
		return NULL;
	}
	sqlite3_bind_int64(st, 1, o->begin);
	sqlite3_bind_int64(st, 2, o->end);
	if (domain != NULL)
		sqlite3_bind_text(st, 3, domain, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, 3);
	return st;
}

/* finish - the end of a query's rows; 0, or -1 with why set */
static int
finish(sqlite3 *db, sqlite3_stmt *st, int rc, struct buf *why)
{
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		buf_printf(why, "%s", sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

/* td_n - a number cell */
static void
td_n(struct buf *b, long long n, const char *cls)
{
	if (cls != NULL && n > 0)
		buf_printf(b, "<td class=\"n %s\">%lld</td>", cls, n);
	else
		buf_printf(b, "<td class=\"n\">%lld</td>", n);
}

/* more_rows - the rows past DMARCD_HTML_ROWS, counted, not shown;
 * column 1 is the messages */
static void
more_rows(struct buf *b, long long rows, long long messages)
{
	if (rows > 0)
		buf_printf(b, "<p>%lld more source addresses (%lld messages) "
		    "not shown.</p>\n", rows, messages);
}

/* Our messages of a domain (p IS NOT NULL: a DMARC record was found),
 * from seen (see dmarcd_html.h): each row counts n messages. */
#define OURS "FROM seen WHERE received BETWEEN ?1 AND ?2 AND " \
	"p IS NOT NULL AND (?3 IS NULL OR policy_domain = ?3)"
/* how many of our messages have cond */
#define N_IF(cond) "sum(CASE WHEN " cond " THEN n ELSE 0 END)"
/* Received records of a domain, of reports overlapping the period. */
#define THEIRS "FROM received_records c JOIN received_reports r ON " \
	"r.id = c.report WHERE r.end_time >= ?1 AND r.begin_time <= ?2 " \
	"AND (?3 IS NULL OR lower(r.domain) = lower(?3))"
#define THEIR_PASS "(c.dkim = 'pass' OR c.spf = 'pass')"

/* ours - the section about our own messages */
static int
ours(sqlite3 *db, const struct dmarcd_html_opts *o, const char *domain,
    struct buf *b, struct buf *why)
{
	struct chart ch;
	sqlite3_stmt *st;
	long long more = 0, more_n = 0;
	int rc, rows = 0;

	buf_puts(b, "<h2>Messages we received</h2>\n");
	if ((st = prepare(db, "SELECT received / 86400, "
	    N_IF("dmarc_result = 'pass'") ", " N_IF("dmarc_result != 'pass'")
	    " " OURS
	    " GROUP BY 1", o, domain, why)) == NULL)
		return -1;
	chart_init(&ch, o);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		chart_add(&ch, sqlite3_column_int64(st, 0),
		    sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 2));
	if (finish(db, st, rc, why) < 0)
		return -1;
	if ((st = prepare(db, "SELECT ip, sum(n), "
	    N_IF("dmarc_result = 'pass'") ", " N_IF("dmarc_result != 'pass'")
	    ", " N_IF("dkim_aligned != 0") ", " N_IF("spf_aligned != 0") ", "
	    N_IF("action = 'accept'") ", " N_IF("action = 'quarantine'") ", "
	    N_IF("action = 'reject'") ", " N_IF("action = 'tempfail'") " " OURS
	    " GROUP BY ip ORDER BY 2 DESC, 1", o, domain, why)) == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int i;

		if (rows >= DMARCD_HTML_ROWS) {
			more++;
			more_n += sqlite3_column_int64(st, 1);
			continue;
		}
		if (rows++ == 0) {
			chart_svg(b, &ch, "DMARC results per day of the "
			    "messages we received");
			buf_puts(b, "<table>\n<tr><th>Source IP</th>"
			    "<th>Messages</th><th>DMARC pass</th>"
			    "<th>DMARC fail</th><th>DKIM aligned</th>"
			    "<th>SPF aligned</th><th>Accepted</th>"
			    "<th>Quarantined</th><th>Rejected</th>"
			    "<th>Tempfailed</th></tr>\n");
		}
		buf_puts(b, "<tr><td>");
		xml_escape(b, col(st, 0)[0] ? col(st, 0) : "(unknown)");
		buf_puts(b, "</td>");
		for (i = 1; i <= 9; i++)
			td_n(b, sqlite3_column_int64(st, i), i == 2 ? "pass" :
			    i == 3 ? "fail" : NULL);
		buf_puts(b, "</tr>\n");
	}
	if (finish(db, st, rc, why) < 0)
		return -1;
	if (rows > 0)
		buf_puts(b, "</table>\n");
	else
		buf_puts(b, "<p>None in this period.</p>\n");
	more_rows(b, more, more_n);
	return 0;
}

/* theirs - the section about reports received from other receivers */
static int
theirs(sqlite3 *db, const struct dmarcd_html_opts *o, const char *domain,
    struct buf *b, struct buf *why)
{
	struct chart ch;
	sqlite3_stmt *st;
	long long more = 0, more_n = 0;
	int rc, rows = 0, i;
	char d1[16], d2[16];

	if ((st = prepare(db, "SELECT r.begin_time / 86400, "
	    "sum(CASE WHEN " THEIR_PASS " THEN c.count ELSE 0 END), "
	    "sum(CASE WHEN " THEIR_PASS " THEN 0 ELSE c.count END) " THEIRS
	    " GROUP BY 1", o, domain, why)) == NULL)
		return -1;
	chart_init(&ch, o);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		chart_add(&ch, sqlite3_column_int64(st, 0),
		    sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 2));
		rows++;
	}
	if (finish(db, st, rc, why) < 0)
		return -1;
	if (rows == 0)
		return 0;
	buf_puts(b, "<h2>Reports received about your domain</h2>\n");
	chart_svg(b, &ch, "DMARC results per day that other receivers "
	    "reported");
	/* by reporter */
	if ((st = prepare(db, "SELECT r.org_name, count(DISTINCT r.id), "
	    "sum(c.count), sum(CASE WHEN " THEIR_PASS " THEN c.count ELSE 0 "
	    "END), min(r.begin_time), max(r.end_time) " THEIRS
	    " GROUP BY 1 ORDER BY 3 DESC, 1", o, domain, why)) == NULL)
		return -1;
	buf_puts(b, "<table>\n<tr><th>Reported by</th><th>Reports</th>"
	    "<th>Messages</th><th>DMARC pass</th><th>DMARC fail</th>"
	    "<th>From</th><th>To</th></tr>\n");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		long long n = sqlite3_column_int64(st, 2),
		    pass = sqlite3_column_int64(st, 3);

		buf_puts(b, "<tr><td>");
		xml_escape(b, col(st, 0));
		buf_puts(b, "</td>");
		td_n(b, sqlite3_column_int64(st, 1), NULL);
		td_n(b, n, NULL);
		td_n(b, pass, "pass");
		td_n(b, n - pass, "fail");
		day(sqlite3_column_int64(st, 4), d1, sizeof(d1));
		day(sqlite3_column_int64(st, 5), d2, sizeof(d2));
		buf_printf(b, "<td>%s</td><td>%s</td></tr>\n", d1, d2);
	}
	buf_puts(b, "</table>\n");
	if (finish(db, st, rc, why) < 0)
		return -1;
	/* by source address */
	if ((st = prepare(db, "SELECT c.source_ip, sum(c.count), "
	    "sum(CASE WHEN " THEIR_PASS " THEN c.count ELSE 0 END), "
	    "sum(CASE WHEN " THEIR_PASS " THEN 0 ELSE c.count END), "
	    "sum(CASE WHEN c.dkim = 'pass' THEN c.count ELSE 0 END), "
	    "sum(CASE WHEN c.spf = 'pass' THEN c.count ELSE 0 END), "
	    "sum(CASE WHEN c.disposition IN ('none', 'pass') THEN c.count "
	    "ELSE 0 END), "
	    "sum(CASE WHEN c.disposition = 'quarantine' THEN c.count ELSE 0 "
	    "END), "
	    "sum(CASE WHEN c.disposition = 'reject' THEN c.count ELSE 0 END), "
	    "group_concat(DISTINCT r.org_name) " THEIRS
	    " GROUP BY 1 ORDER BY 2 DESC, 1", o, domain, why)) == NULL)
		return -1;
	buf_puts(b, "<table>\n<tr><th>Source IP</th><th>Messages</th>"
	    "<th>DMARC pass</th><th>DMARC fail</th><th>DKIM aligned</th>"
	    "<th>SPF aligned</th><th>Delivered</th><th>Quarantined</th>"
	    "<th>Rejected</th><th>Reported by</th></tr>\n");
	rows = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (rows++ >= DMARCD_HTML_ROWS) {
			more++;
			more_n += sqlite3_column_int64(st, 1);
			continue;
		}
		buf_puts(b, "<tr><td>");
		xml_escape(b, col(st, 0));
		buf_puts(b, "</td>");
		for (i = 1; i <= 8; i++)
			td_n(b, sqlite3_column_int64(st, i), i == 2 ? "pass" :
			    i == 3 ? "fail" : NULL);
		buf_puts(b, "<td>");
		xml_escape(b, col(st, 9));
		buf_puts(b, "</td></tr>\n");
	}
	buf_puts(b, "</table>\n");
	more_rows(b, more, more_n);
	return finish(db, st, rc, why);
}

/* domain_page - one domain's page */
static int
domain_page(sqlite3 *db, const struct dmarcd_html_opts *o,
    const char *domain, const char *file, struct buf *why)
{
	struct buf b = BUF_INIT, title = BUF_INIT;
	int rc = -1;

	buf_printf(&title, "DMARC: %s", domain);
	head(&b, buf_str(&title) ? buf_str(&title) : "DMARC");
	buf_puts(&b, "<p><a href=\"index.html\">All domains</a></p>\n");
	period(&b, o);
	if (ours(db, o, domain, &b, why) < 0 ||
	    theirs(db, o, domain, &b, why) < 0)
		goto out;
	buf_puts(&b, "</body>\n</html>\n");
	rc = write_page(o->dir, file, &b, why);
out:
	buf_free(&b);
	buf_free(&title);
	return rc;
}

/* dmarcd_html_write - index.html and the domain pages */
int
dmarcd_html_write(void *arg, const struct dmarcd_html_opts *o,
    struct buf *why)
{
	sqlite3 *db = arg;
	sqlite3_stmt *st;
	struct buf b = BUF_INIT;
	char file[320];		/* "domain-" NAME "-HASH.html" */
	int rc, pages = 0;

	/* per domain: our messages, passes; received messages, passes */
	if ((st = prepare(db, "SELECT d, sum(cnt), sum(pass), sum(rn), "
	    "sum(rp) FROM (SELECT policy_domain AS d, sum(n) AS cnt, "
	    N_IF("dmarc_result = 'pass'") " AS pass, 0 AS rn, 0 AS rp " OURS
	    " GROUP BY 1 UNION ALL SELECT lower(r.domain), 0, 0, "
	    "sum(c.count), sum(CASE WHEN " THEIR_PASS " THEN c.count ELSE 0 "
	    "END) " THEIRS " GROUP BY 1) GROUP BY d ORDER BY d", o,
	    o->domain, why)) == NULL)
		return -1;
	head(&b, "DMARC summary");
	period(&b, o);
	buf_puts(&b, "<table>\n<tr><th rowspan=\"2\">Domain</th>"
	    "<th colspan=\"3\">Messages we received</th>"
	    "<th colspan=\"3\">Reports received about your domains</th></tr>\n"
	    "<tr><th>Messages</th><th>DMARC pass</th><th>DMARC fail</th>"
	    "<th>Messages</th><th>DMARC pass</th><th>DMARC fail</th></tr>\n");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *d = col(st, 0);
		long long n = sqlite3_column_int64(st, 1),
		    p = sqlite3_column_int64(st, 2),
		    rn = sqlite3_column_int64(st, 3),
		    rp = sqlite3_column_int64(st, 4);

		page_name(d, file, sizeof(file));
		if (domain_page(db, o, d, file, why) < 0) {
			sqlite3_finalize(st);
			buf_free(&b);
			return -1;
		}
		pages++;
		buf_printf(&b, "<tr><td><a href=\"%s\">", file);
		xml_escape(&b, d);
		buf_puts(&b, "</a></td>");
		td_n(&b, n, NULL);
		td_n(&b, p, "pass");
		td_n(&b, n - p, "fail");
		td_n(&b, rn, NULL);
		td_n(&b, rp, "pass");
		td_n(&b, rn - rp, "fail");
		buf_puts(&b, "</tr>\n");
	}
	if (finish(db, st, rc, why) < 0) {
		buf_free(&b);
		return -1;
	}
	buf_puts(&b, "</table>\n");
	if (pages == 0)
		buf_puts(&b, "<p>No messages and no reports in this "
		    "period.</p>\n");
	buf_puts(&b, "</body>\n</html>\n");
	rc = write_page(o->dir, "index.html", &b, why);
	buf_free(&b);
	return rc < 0 ? -1 : pages;
}
