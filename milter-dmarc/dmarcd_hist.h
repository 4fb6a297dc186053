/*
 * dmarcd_hist.h - milter-dmarc: the history of evaluated messages
 *
 * Each evaluated message becomes one row, handed to dmarcd_hist_put(),
 * which copies it into a bounded queue and returns at once: the milter
 * never waits for a disk or a database.  One writer thread, started by
 * the first row, writes the rows in batches to an SQLite database
 * (HistoryDatabase sqlite:PATH; WAL; the schema created and migrated by
 * the program, its version in the schema_version table) or to
 * PostgreSQL (HistoryDatabase postgresql://...; dmarcd_pg.c), and/or appends
 * them to OpenDMARC's flat HistoryFile, in the format
 * opendmarc-import(8) reads.
 *
 * A write that fails leaves the rows queued, to be tried again after a
 * pause; when the queue is full a new row is dropped, counted, and the
 * count logged.  dmarcd_hist_free() writes what is still queued (for at
 * most DMARCD_HIST_DRAIN seconds), keeps what it could not write in the
 * spool file (HistorySpool) for the next start, and stops the writer.
 */
#ifndef DMARCD_HIST_H
#define DMARCD_HIST_H

#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "dmarc.h"
#include "dmarc_agg.h"

#define DMARCD_HIST_QUEUE	20000	/* rows waiting at most */
#define DMARCD_HIST_BATCH	500	/* rows per transaction */
#define DMARCD_HIST_GATHER_MS	100	/* waiting for a batch to fill */
#define DMARCD_HIST_DRAIN	10	/* seconds to write out at stop */
#define DMARCD_HIST_RETRY_MAX	30	/* seconds between retries, at most */
#define DMARCD_HIST_SIGS	8	/* DKIM results kept per row */
#define DMARCD_HIST_VERSION	6	/* the schema this program writes */

struct dmarcd_hist_sig {
	char		 domain[DMARC_NAME_MAX + 1];
	char		 selector[64];
	enum dmarc_auth	 result;
	int		 aligned;
};

struct dmarcd_hist_row {
	time_t		 received;
	char		 qid[64];
	char		 reporter[256];		/* our authserv-id */
	char		 ip[64];
	char		 from[DMARC_NAME_MAX + 1];
	char		 mfrom[DMARC_NAME_MAX + 1];	/* envelope domain */
	char		 pdomain[DMARC_NAME_MAX + 1];	/* record found at */
	enum dmarc_mode	 mode;
	int		 has_record;
	enum dmarc_policy p, sp, np, applied;
	enum dmarc_align adkim, aspf;
	int		 pct, testing;
	char		 rua[512];
	char		 spf_domain[DMARC_NAME_MAX + 1];
	int		 spf_helo;
	enum dmarc_auth	 spf;
	size_t		 nsig;
	struct dmarcd_hist_sig sig[DMARCD_HIST_SIGS];
	enum dmarc_result result;
	enum dmarc_dis	 dis;		/* what the domain asked */
	int		 action;	/* DMARCD_ACT_*: what we did */
	int		 dkim_aligned, spf_aligned;
};

/* What was done with the message, as OpenDMARC's history counts it. */
#define DMARCD_ACT_ACCEPT	0
#define DMARCD_ACT_REJECT	1
#define DMARCD_ACT_QUARANTINE	2
#define DMARCD_ACT_TEMPFAIL	3

struct dmarcd_hist;

/* dmarcd_hist_new - a writer for an SQLite path or a PostgreSQL
 * connection string, and/or a flat file (each may be NULL); nothing is
 * opened until the first row; NULL when out of memory */
struct dmarcd_hist *dmarcd_hist_new(const char *sqlite_path,
	    const char *pg_conninfo, const char *flat_file, size_t queue_max);
/* dmarcd_hist_set_spool - the file where rows still unwritten at stop
 * are kept for the next start (NULL: none), and the seconds to try at
 * stop (DMARCD_HIST_DRAIN by default); before the first row; -1 when
 * out of memory */
int	dmarcd_hist_set_spool(struct dmarcd_hist *, const char *path, int drain);
/* dmarcd_hist_put - queue a copy of a row; never blocks on I/O */
void	dmarcd_hist_put(struct dmarcd_hist *, const struct dmarcd_hist_row *);
/* dmarcd_hist_stats - rows written, dropped (queue full or given up at
 * stop) and write failures so far */
void	dmarcd_hist_stats(struct dmarcd_hist *, unsigned long *written,
	    unsigned long *dropped, unsigned long *failures);
/* dmarcd_hist_flush - wait (at most timeout_ms) until the queue is
 * empty; 0 when it is, -1 otherwise (for tests and the report tool) */
int	dmarcd_hist_flush(struct dmarcd_hist *, int timeout_ms);
void	dmarcd_hist_free(struct dmarcd_hist *);

/* dmarcd_hist_open_db - open (create) the database and bring its schema
 * to DMARCD_HIST_VERSION; the sqlite3 handle, NULL with why set */
void	*dmarcd_hist_open_db(const char *path, struct buf *why);
/* dmarcd_hist_close_db - close what dmarcd_hist_open_db() opened */
void	dmarcd_hist_close_db(void *);
/* dmarcd_hist_check - for -n: can the database be opened and migrated
 * (an absent file: can its directory be written)?  0, or -1 with why */
int	dmarcd_hist_check(const char *path, struct buf *why);
/* The columns of messages an INSERT fills, and their values as text
 * (NULL for SQL NULL), in that order: for SQLite and PostgreSQL alike */
#define DMARCD_HIST_COLUMNS "received, qid, reporter, ip, from_domain, " \
	"env_domain, policy_domain, discovery, p, sp, np, adkim, aspf, pct, " \
	"testing, rua, spf_domain, spf_scope, spf_result, dmarc_result, " \
	"disposition, applied, action, dkim_aligned, spf_aligned, " \
	"dkim_results"
#define DMARCD_HIST_NCOLS	26
/* Version 3 of the schema, the same for SQLite and PostgreSQL */
#define DMARCD_HIST_V3 \
	"ALTER TABLE messages ADD COLUMN dkim_results TEXT;" \
	"CREATE INDEX messages_policy_time ON messages(policy_domain, received);"
/* Version 6: report destinations that bounce (milter-dmarc-report
 * --bounce, --suppress): no report goes there */
#define DMARCD_HIST_V6 \
	"CREATE TABLE suppressed (address TEXT PRIMARY KEY," \
	" reason TEXT NOT NULL DEFAULT '', since BIGINT NOT NULL);"

/* Version 5: an index on the time of evaluation alone, so that a report
 * for a period reads that period's rows in the order they were written
 * instead of domain by domain all over the table */
#define DMARCD_HIST_V5 \
	"CREATE INDEX messages_received ON messages(received);"

/* Version 4: the aggregate reports other receivers sent us
 * (milter-dmarc-import), one row per report, unique by organization and
 * report id, and their records; ID is the type of an id column that
 * numbers itself (INTEGER in SQLite, BIGSERIAL in PostgreSQL) */
#define DMARCD_HIST_V4(ID) \
	"CREATE TABLE received_reports (" \
	" id " ID " PRIMARY KEY," \
	" org_name TEXT NOT NULL," \
	" email TEXT NOT NULL DEFAULT ''," \
	" report_id TEXT NOT NULL," \
	" begin_time BIGINT NOT NULL," \
	" end_time BIGINT NOT NULL," \
	" domain TEXT NOT NULL," \
	" adkim TEXT, aspf TEXT, p TEXT, sp TEXT, np TEXT, pct INTEGER," \
	" testing TEXT, discovery TEXT," \
	" source TEXT NOT NULL DEFAULT ''," \
	" imported BIGINT NOT NULL," \
	" UNIQUE (org_name, report_id));" \
	"CREATE INDEX received_reports_domain ON " \
	" received_reports(domain, begin_time);" \
	"CREATE TABLE received_records (" \
	" report BIGINT NOT NULL REFERENCES received_reports(id)" \
	"  ON DELETE CASCADE," \
	" source_ip TEXT NOT NULL," \
	" count BIGINT NOT NULL," \
	" disposition TEXT, dkim TEXT, spf TEXT, reasons TEXT," \
	" header_from TEXT NOT NULL, envelope_from TEXT, envelope_to TEXT," \
	" dkim_results TEXT, spf_results TEXT);" \
	"CREATE INDEX received_records_report ON received_records(report);"
struct dmarcd_hist_vals {
	const char	*v[DMARCD_HIST_NCOLS];
	char		 received[24], pct[12];	/* storage for three of them */
	char		 dkim[DMARCD_HIST_SIGS * (DMARC_NAME_MAX + 80)];
};
void	dmarcd_hist_values(const struct dmarcd_hist_row *,
	    struct dmarcd_hist_vals *);

/* PostgreSQL (dmarcd_pg.c): a connection (NULL with why set), a batch
 * in one transaction (0, or -1 with why set), the -n check */
void	*dmarcd_pg_open(const char *conninfo, struct buf *why);
int	 dmarcd_pg_write(void *, struct dmarcd_hist_row **, size_t,
	    struct buf *why);
void	 dmarcd_pg_close(void *);
int	 dmarcd_pg_check(const char *conninfo, struct buf *why);

/* Received aggregate reports (milter-dmarc-import): the columns of
 * received_reports and received_records an INSERT fills, and their
 * values as text (NULL for SQL NULL), for SQLite and PostgreSQL alike;
 * the records' first column is the report's id, which the caller sets */
#define DMARCD_IMPORT_REPORT_COLUMNS "org_name, email, report_id, " \
	"begin_time, end_time, domain, adkim, aspf, p, sp, np, pct, " \
	"testing, discovery, source, imported"
#define DMARCD_IMPORT_REPORT_NCOLS	16
#define DMARCD_IMPORT_RECORD_COLUMNS "report, source_ip, count, " \
	"disposition, dkim, spf, reasons, header_from, envelope_from, " \
	"envelope_to, dkim_results, spf_results"
#define DMARCD_IMPORT_RECORD_NCOLS	12
struct dmarcd_import_vals {
	const char	*v[DMARCD_IMPORT_REPORT_NCOLS];
	char		 begin[24], end[24], pct[12], imported[24];
};
struct dmarcd_import_rvals {
	const char	*v[DMARCD_IMPORT_RECORD_NCOLS];
	char		 count[24];
};
void	dmarcd_import_values(const struct dmarc_agg *, long long now,
	    struct dmarcd_import_vals *);
void	dmarcd_import_rvalues(const struct dmarc_agg_record *,
	    const char *report, struct dmarcd_import_rvals *);
/* dmarcd_hist_import, dmarcd_pg_import - one report in one transaction
 * into an open database: 0 stored, 1 already there (the same org_name
 * and report_id; nothing changed), -1 with why set */
int	dmarcd_hist_import(void *sqlite, const struct dmarc_agg *,
	    long long now, struct buf *why);
int	dmarcd_pg_import(void *pg, const struct dmarc_agg *, long long now,
	    struct buf *why);

/* dmarcd_hist_flat - append a row in HistoryFile format to out */
void	dmarcd_hist_flat(const struct dmarcd_hist_row *, struct buf *out);

#endif
