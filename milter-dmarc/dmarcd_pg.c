/*
 * NAME
 *	dmarcd_pg - milter-dmarc: the history in PostgreSQL
 * SYNOPSIS
 *	#include "buf.h"
#include "dmarcd_hist.h"
 * DESCRIPTION
 *	For several MX hosts writing one history: HistoryDatabase
 *	postgresql://user@host/db (any libpq connection string).  The
 *	schema is SQLite's in PostgreSQL's words (BIGSERIAL ids, BIGINT
 *	times), with the same schema_version table and the same
 *	migrations; they run in one transaction under an advisory lock, so
 *	that hosts starting together migrate once.
 *
 *	dmarcd_pg_open() connects and migrates; dmarcd_pg_write() writes a
 *	batch in one transaction: the messages' ids drawn from their
 *	sequence, then the messages and their signatures each in one
 *	COPY.  On any failure the connection is
 *	closed; the history writer keeps the rows and reconnects later.
 * DIAGNOSTICS
 *	Errors are libpq's messages, in why.
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmarcd_hist.h"

#define PG_LOCK_KEY	"8893"	/* pg_advisory_xact_lock key */

static const char *const pg_migrations[DMARCD_HIST_VERSION] = {
	"CREATE TABLE messages ("
	" id BIGSERIAL PRIMARY KEY,"
	" received BIGINT NOT NULL,"
	" qid TEXT NOT NULL DEFAULT '',"
	" reporter TEXT NOT NULL DEFAULT '',"
	" ip TEXT NOT NULL DEFAULT '',"
	" from_domain TEXT NOT NULL DEFAULT '',"
	" env_domain TEXT NOT NULL DEFAULT '',"
	" policy_domain TEXT NOT NULL DEFAULT '',"
	" discovery TEXT NOT NULL DEFAULT 'treewalk',"
	" p TEXT, sp TEXT, adkim TEXT, aspf TEXT, pct INTEGER,"
	" rua TEXT,"
	" spf_domain TEXT, spf_scope TEXT, spf_result TEXT,"
	" dmarc_result TEXT NOT NULL,"
	" disposition TEXT NOT NULL,"
	" dkim_aligned INTEGER NOT NULL DEFAULT 0,"
	" spf_aligned INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX messages_domain_time ON messages(from_domain, received);"
	"CREATE TABLE signatures ("
	" message_id BIGINT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,"
	" domain TEXT NOT NULL, selector TEXT NOT NULL DEFAULT '',"
	" result TEXT NOT NULL, aligned INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX signatures_message ON signatures(message_id);",

	"ALTER TABLE messages ADD COLUMN np TEXT;"
	"ALTER TABLE messages ADD COLUMN testing INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE messages ADD COLUMN applied TEXT;"
	"ALTER TABLE messages ADD COLUMN action TEXT NOT NULL DEFAULT 'accept';",

	DMARCD_HIST_V3,

	DMARCD_HIST_V4("BIGSERIAL"),

	DMARCD_HIST_V5,

	DMARCD_HIST_V6,
};

/* run - one command; 0 when it did what was expected */
static int
run(PGconn *c, const char *sql, ExecStatusType want, struct buf *why)
{
	PGresult *r = PQexec(c, sql);
	int ok = r != NULL && PQresultStatus(r) == want;

	if (!ok)
		buf_printf(why, "%s", PQerrorMessage(c));
	PQclear(r);
	return ok ? 0 : -1;
}

/* pg_version - the schema version (0: none); -1 on error */
static int
pg_version(PGconn *c, struct buf *why)
{
	PGresult *r;
	int v = -1, exists;

	/* two questions: a query naming a missing table does not plan */
	r = PQexec(c, "SELECT to_regclass('schema_version') IS NOT NULL");
	if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK ||
	    PQntuples(r) != 1) {
		buf_printf(why, "%s", PQerrorMessage(c));
		PQclear(r);
		return -1;
	}
	exists = PQgetvalue(r, 0, 0)[0] == 't';
	PQclear(r);
	if (!exists)
		return 0;
	r = PQexec(c, "SELECT coalesce(max(version), 0) FROM schema_version");
	if (r != NULL && PQresultStatus(r) == PGRES_TUPLES_OK &&
	    PQntuples(r) == 1)
		v = atoi(PQgetvalue(r, 0, 0));
	else
		buf_printf(why, "%s", PQerrorMessage(c));
	PQclear(r);
	return v;
}

/* pg_migrate - bring the schema to DMARCD_HIST_VERSION */
static int
pg_migrate(PGconn *c, struct buf *why)
{
	char sql[160];
	int v;

	if (run(c, "BEGIN", PGRES_COMMAND_OK, why) < 0 ||
	    run(c, "SELECT pg_advisory_xact_lock(" PG_LOCK_KEY ")",
	    PGRES_TUPLES_OK, why) < 0 || (v = pg_version(c, why)) < 0)
		goto fail;
	if (v > DMARCD_HIST_VERSION) {
		buf_printf(why, "schema version %d is newer than this "
		    "program's (%d)", v, DMARCD_HIST_VERSION);
		goto fail;
	}
	if (v == 0 && run(c, "CREATE TABLE schema_version (version INTEGER "
	    "NOT NULL)", PGRES_COMMAND_OK, why) < 0)
		goto fail;
	for (; v < DMARCD_HIST_VERSION; v++) {
		snprintf(sql, sizeof(sql), "DELETE FROM schema_version; "
		    "INSERT INTO schema_version VALUES (%d)", v + 1);
		if (run(c, pg_migrations[v], PGRES_COMMAND_OK, why) < 0 ||
		    run(c, sql, PGRES_COMMAND_OK, why) < 0)
			goto fail;
	}
	return run(c, "COMMIT", PGRES_COMMAND_OK, why);
fail:
	PQclear(PQexec(c, "ROLLBACK"));
	return -1;
}

/* dmarcd_pg_open - connect and migrate; NULL with why set */
void *
dmarcd_pg_open(const char *conninfo, struct buf *why)
{
	PGconn *c = PQconnectdb(conninfo);

	if (c == NULL || PQstatus(c) != CONNECTION_OK) {
		buf_printf(why, "%s", c ? PQerrorMessage(c) : "out of memory");
		PQfinish(c);
		return NULL;
	}
	if (pg_migrate(c, why) < 0) {
		PQfinish(c);
		return NULL;
	}
	return c;
}

/* copy_val - one value of a COPY line in text format (NULL: \N) */
static void
copy_val(struct buf *b, const char *v, int first)
{
	if (!first)
		buf_putc(b, '\t');
	if (v == NULL) {
		buf_puts(b, "\\N");
		return;
	}
	for (; *v != '\0'; v++)
		switch (*v) {
		case '\\': buf_puts(b, "\\\\"); break;
		case '\t': buf_puts(b, "\\t"); break;
		case '\n': buf_puts(b, "\\n"); break;
		case '\r': buf_puts(b, "\\r"); break;
		default: buf_putc(b, *v); break;
		}
}

/* copy_in - COPY sql FROM STDIN with the lines in data; 0 or -1 */
static int
copy_in(PGconn *c, const char *sql, const struct buf *data, struct buf *why)
{
	PGresult *r = PQexec(c, sql);
	int ok;

	ok = r != NULL && PQresultStatus(r) == PGRES_COPY_IN;
	PQclear(r);
	if (!ok) {
		buf_printf(why, "%s", PQerrorMessage(c));
		return -1;
	}
	ok = PQputCopyData(c, data->s != NULL ? data->s : "",
	    (int)data->len) == 1;
	if (PQputCopyEnd(c, ok ? NULL : "cannot send") != 1)
		ok = 0;
	while ((r = PQgetResult(c)) != NULL) {
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			ok = 0;
		PQclear(r);
	}
	if (!ok)
		buf_printf(why, "%s", PQerrorMessage(c));
	return ok ? 0 : -1;
}

/*
 * dmarcd_pg_write - a batch in one transaction: ids for its messages
 * taken from their sequence in one query, then the messages and their
 * signatures each in one COPY: five round trips a batch, whatever its
 * size.  0, or -1 with why set.
 */
int
dmarcd_pg_write(void *arg, struct dmarcd_hist_row **rows, size_t n,
    struct buf *why)
{
	PGconn *c = arg;
	struct dmarcd_hist_vals v;
	struct buf msgs = BUF_INIT, sigs = BUF_INIT;
	char count[24];
	const char *pv[1] = { count };
	PGresult *r = NULL;
	size_t i, k, j;
	int rc = -1;

	if (n == 0)
		return 0;
	if (run(c, "BEGIN", PGRES_COMMAND_OK, why) < 0)
		return -1;
	snprintf(count, sizeof(count), "%zu", n);
	r = PQexecParams(c, "SELECT nextval(pg_get_serial_sequence('messages', "
	    "'id')) FROM generate_series(1, $1::integer)", 1, NULL, pv, NULL,
	    NULL, 0);
	if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK ||
	    (size_t)PQntuples(r) != n) {
		buf_printf(why, "%s", PQerrorMessage(c));
		goto fail;
	}
	for (i = 0; i < n; i++) {
		const char *id = PQgetvalue(r, (int)i, 0);

		dmarcd_hist_values(rows[i], &v);
		copy_val(&msgs, id, 1);
		for (j = 0; j < DMARCD_HIST_NCOLS; j++)
			copy_val(&msgs, v.v[j], 0);
		buf_putc(&msgs, '\n');
		for (k = 0; k < rows[i]->nsig && k < DMARCD_HIST_SIGS; k++) {
			const struct dmarcd_hist_sig *sg = &rows[i]->sig[k];

			copy_val(&sigs, id, 1);
			copy_val(&sigs, sg->domain, 0);
			copy_val(&sigs, sg->selector, 0);
			copy_val(&sigs, dmarc_auth_name(sg->result), 0);
			copy_val(&sigs, sg->aligned ? "1" : "0", 0);
			buf_putc(&sigs, '\n');
		}
	}
	if (msgs.failed || sigs.failed) {
		buf_puts(why, "out of memory");
		goto fail;
	}
	if (copy_in(c, "COPY messages (id, " DMARCD_HIST_COLUMNS
	    ") FROM STDIN", &msgs, why) < 0 || (sigs.len > 0 && copy_in(c,
	    "COPY signatures (message_id, domain, selector, result, aligned) "
	    "FROM STDIN", &sigs, why) < 0))
		goto fail;
	rc = run(c, "COMMIT", PGRES_COMMAND_OK, why);
	goto out;
fail:
	PQclear(PQexec(c, "ROLLBACK"));
out:
	PQclear(r);
	buf_free(&msgs);
	buf_free(&sigs);
	return rc;
}

/* dmarcd_pg_close - end the connection */
void
dmarcd_pg_close(void *c)
{
	PQfinish(c);
}

/* dmarcd_pg_check - for -n: can we connect, and is the schema one we
 * can migrate?  Nothing is changed. */
int
dmarcd_pg_check(const char *conninfo, struct buf *why)
{
	PGconn *c = PQconnectdb(conninfo);
	int v = -1;

	if (c == NULL || PQstatus(c) != CONNECTION_OK)
		buf_printf(why, "%s", c ? PQerrorMessage(c) : "out of memory");
	else if ((v = pg_version(c, why)) > DMARCD_HIST_VERSION) {
		buf_printf(why, "schema version %d is newer than this "
		    "program's (%d)", v, DMARCD_HIST_VERSION);
		v = -1;
	}
	PQfinish(c);
	return v < 0 ? -1 : 0;
}

/* dmarcd_pg_import - one received report, in one transaction */
int
dmarcd_pg_import(void *arg, const struct dmarc_agg *r, long long now,
    struct buf *why)
{
	PGconn *c = arg;
	struct dmarcd_import_vals v;
	struct dmarcd_import_rvals rv;
	PGresult *res;
	char id[24];
	size_t i;

	if (run(c, "BEGIN", PGRES_COMMAND_OK, why) < 0)
		return -1;
	dmarcd_import_values(r, now, &v);
	res = PQexecParams(c, "INSERT INTO received_reports ("
	    DMARCD_IMPORT_REPORT_COLUMNS ") VALUES ($1, $2, $3, $4, $5, $6, "
	    "$7, $8, $9, $10, $11, $12, $13, $14, $15, $16) ON CONFLICT "
	    "(org_name, report_id) DO NOTHING RETURNING id",
	    DMARCD_IMPORT_REPORT_NCOLS, NULL, v.v, NULL, NULL, 0);
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
		buf_printf(why, "%s", PQerrorMessage(c));
		PQclear(res);
		goto fail;
	}
	if (PQntuples(res) == 0) {
		PQclear(res);
		PQclear(PQexec(c, "ROLLBACK"));
		return 1;
	}
	snprintf(id, sizeof(id), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	for (i = 0; i < r->nrec; i++) {
		dmarcd_import_rvalues(&r->rec[i], id, &rv);
		res = PQexecParams(c, "INSERT INTO received_records ("
		    DMARCD_IMPORT_RECORD_COLUMNS ") VALUES ($1, $2, $3, $4, "
		    "$5, $6, $7, $8, $9, $10, $11, $12)",
		    DMARCD_IMPORT_RECORD_NCOLS, NULL, rv.v, NULL, NULL, 0);
		if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK) {
			buf_printf(why, "%s", PQerrorMessage(c));
			PQclear(res);
			goto fail;
		}
		PQclear(res);
	}
	return run(c, "COMMIT", PGRES_COMMAND_OK, why);
fail:
	PQclear(PQexec(c, "ROLLBACK"));
	return -1;
}
