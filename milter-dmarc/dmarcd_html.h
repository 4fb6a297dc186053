/*
 * dmarcd_html.h - milter-dmarc: a static HTML summary of the history
 *
 * dmarcd_html_write() writes DIR/index.html and one page per policy
 * domain (DIR/domain-NAME.html): per source address, the messages, the
 * DMARC passes and failures, DKIM and SPF alignment and what was done;
 * passes and failures per day as an inline SVG chart; and, when the
 * history holds aggregate reports other receivers sent
 * (milter-dmarc-import), the same about them.  The pages are XHTML
 * that an HTML or an XML parser reads, with their style inline: no
 * script, no external resource; every text from the database is
 * escaped.
 */
#ifndef DMARCD_HTML_H
#define DMARCD_HTML_H

#include "buf.h"

#define DMARCD_HTML_BARS	400	/* bars of a chart, at most */
#define DMARCD_HTML_ROWS	1000	/* source addresses of a table, at most */

struct dmarcd_html_opts {
	const char	*dir;		/* where the pages go */
	const char	*domain;	/* only this policy domain, or NULL */
	const char	*receiver;	/* our AuthservID, for the titles */
	long long	 begin, end;	/* the period, Unix seconds */
};

/*
 * Our messages are read from a table or view "seen" with the columns of
 * DMARCD_HTML_SEEN, each row counting n messages: over an SQLite
 * history, the view DMARCD_HTML_SEEN_VIEW (one row a message); from
 * PostgreSQL, the server's counts per day and result set copied into a
 * database in memory, with the received reports of the period.
 */
#define DMARCD_HTML_SEEN "received, ip, policy_domain, p, dmarc_result, " \
	"dkim_aligned, spf_aligned, action"
#define DMARCD_HTML_SEEN_VIEW "CREATE TEMP VIEW seen AS SELECT " \
	DMARCD_HTML_SEEN ", 1 AS n FROM messages"

/* dmarcd_html_write - the pages from an open SQLite database holding
 * seen, received_reports and received_records; the number of domain
 * pages written, or -1 with why set */
int	dmarcd_html_write(void *sqlite, const struct dmarcd_html_opts *,
	    struct buf *why);

#endif
