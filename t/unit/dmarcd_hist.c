/*
 * dmarcd_hist - milter-dmarc's history: a new database gets the current
 * schema; a database of every earlier schema version is migrated and
 * keeps its rows (and gets the tables of received reports); a newer one is refused; rows go through the queue to
 * SQLite and to OpenDMARC's flat file; a database that cannot be opened
 * keeps rows queued until it can, and a full queue drops and counts
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../milter-dmarc/dmarcd_hist.h"
#include "log.h"
#include "tap.h"

/* The schema of version 1, as the first release created it. */
static const char v1_schema[] =
	"CREATE TABLE schema_version (version INTEGER NOT NULL);"
	"INSERT INTO schema_version VALUES (1);"
	"CREATE TABLE messages ("
	" id INTEGER PRIMARY KEY,"
	" received INTEGER NOT NULL,"
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
	" message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,"
	" domain TEXT NOT NULL, selector TEXT NOT NULL DEFAULT '',"
	" result TEXT NOT NULL, aligned INTEGER NOT NULL DEFAULT 0);"
	"INSERT INTO messages (received, from_domain, dmarc_result, "
	" disposition) VALUES (1700000000, 'old.example', 'pass', 'none');";

static char dir[] = "/tmp/dmarcd_hist.XXXXXX";

/* query_int - one integer from SQL, -1 on error */
static long
query_int(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	long v = -1;

	if (sqlite3_open(path, &db) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void
row(struct dmarcd_hist_row *r, const char *from, int n)
{
	memset(r, 0, sizeof(*r));
	r->received = 1800000000 + n;
	snprintf(r->qid, sizeof(r->qid), "Q%d", n);
	snprintf(r->reporter, sizeof(r->reporter), "mx.test");
	snprintf(r->ip, sizeof(r->ip), "192.0.2.1");
	snprintf(r->from, sizeof(r->from), "%s", from);
	snprintf(r->mfrom, sizeof(r->mfrom), "%s", from);
	snprintf(r->pdomain, sizeof(r->pdomain), "%s", from);
	r->has_record = 1;
	r->p = DMARC_P_REJECT;
	r->pct = 100;
	r->result = DMARC_RES_FAIL;
	r->dis = DMARC_DIS_REJECT;
	r->applied = DMARC_P_REJECT;
	r->action = DMARCD_ACT_REJECT;
	snprintf(r->spf_domain, sizeof(r->spf_domain), "%s", from);
	r->spf = DMARC_AUTH_FAIL;
	r->nsig = 1;
	snprintf(r->sig[0].domain, sizeof(r->sig[0].domain), "%s", from);
	snprintf(r->sig[0].selector, sizeof(r->sig[0].selector), "s1");
	r->sig[0].result = DMARC_AUTH_PASS;
}

static void
test_schema(void)
{
	char path[256];
	struct buf why = BUF_INIT;
	sqlite3 *db;

	snprintf(path, sizeof(path), "%s/new.sqlite", dir);
	db = dmarcd_hist_open_db(path, &why);
	ok(db != NULL, "a new database is created (%s)", buf_str(&why));
	sqlite3_close(db);
	is_int(query_int(path, "SELECT version FROM schema_version"),
	    DMARCD_HIST_VERSION, "  ... at the current schema version");
	is_int(query_int(path, "SELECT count(*) FROM schema_version"), 1,
	    "  ... one version row");

	/* from version 1 */
	snprintf(path, sizeof(path), "%s/v1.sqlite", dir);
	if (sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite3_exec(db, v1_schema, NULL, NULL, NULL) != SQLITE_OK)
		diag("cannot make a version 1 database");
	sqlite3_close(db);
	db = dmarcd_hist_open_db(path, &why);
	ok(db != NULL, "a version 1 database is migrated");
	sqlite3_close(db);
	is_int(query_int(path, "SELECT version FROM schema_version"),
	    DMARCD_HIST_VERSION, "  ... to the current version");
	is_int(query_int(path, "SELECT count(*) FROM messages WHERE "
	    "from_domain = 'old.example' AND action = 'accept' AND "
	    "testing = 0"), 1, "  ... its rows kept, new columns defaulted");
	is_int(query_int(path, "SELECT count(*) FROM received_reports r JOIN "
	    "received_records c ON c.report = r.id"), 0,
	    "  ... with the tables of received reports (version 4)");
	is_int(query_int(path, "SELECT count(*) FROM sqlite_master WHERE "
	    "type = 'index' AND name = 'messages_received'"), 1,
	    "  ... and the index on the time alone (version 5)");
	is_int(query_int(path, "SELECT count(*) FROM suppressed"), 0,
	    "  ... and the suppression list (version 6)");
	db = dmarcd_hist_open_db(path, &why);
	ok(db != NULL, "opening a migrated database again changes nothing");
	sqlite3_close(db);

	/* newer than us */
	snprintf(path, sizeof(path), "%s/v99.sqlite", dir);
	if (sqlite3_open(path, &db) == SQLITE_OK)
		sqlite3_exec(db, "CREATE TABLE schema_version (version "
		    "INTEGER); INSERT INTO schema_version VALUES (99)", NULL,
		    NULL, NULL);
	sqlite3_close(db);
	buf_reset(&why);
	db = dmarcd_hist_open_db(path, &why);
	ok(db == NULL && strstr(buf_str(&why), "newer") != NULL,
	    "a database of a newer schema is refused: %s", buf_str(&why));
	buf_reset(&why);
	ok(dmarcd_hist_check("/nonexistent/dir/h.sqlite", &why) < 0,
	    "-n check: a database in a missing directory is named");
	buf_free(&why);
}

static void
test_writes(void)
{
	char path[256], flat[256], sub[256];
	struct dmarcd_hist *h;
	struct dmarcd_hist_row r;
	unsigned long w, d, f;
	struct buf out = BUF_INIT;
	int i;

	snprintf(path, sizeof(path), "%s/w.sqlite", dir);
	snprintf(flat, sizeof(flat), "%s/history.dat", dir);
	h = dmarcd_hist_new(path, NULL, flat, 100);
	for (i = 0; i < 50; i++) {
		row(&r, i % 2 ? "a.example" : "b.example", i);
		dmarcd_hist_put(h, &r);
	}
	is_int(dmarcd_hist_flush(h, 20000), 0, "50 rows written within 20 s");
	dmarcd_hist_stats(h, &w, &d, &f);
	ok(w == 50 && d == 0 && f == 0, "  ... counted: %lu written, %lu "
	    "dropped, %lu failures", w, d, f);
	dmarcd_hist_free(h);
	is_int(query_int(path, "SELECT count(*) FROM messages"), 50,
	    "  ... 50 rows in SQLite");
	is_int(query_int(path, "SELECT count(*) FROM signatures"), 50,
	    "  ... with their DKIM results");
	is_int(query_int(path, "SELECT count(*) FROM messages WHERE "
	    "dmarc_result = 'fail' AND disposition = 'reject' AND action = "
	    "'reject' AND p = 'reject'"), 50, "  ... result, disposition, "
	    "action and policy as given");
	{
		FILE *fp = fopen(flat, "r");
		char line[512];
		int jobs = 0;

		while (fp != NULL && fgets(line, sizeof(line), fp) != NULL)
			jobs += strncmp(line, "job ", 4) == 0;
		if (fp != NULL)
			fclose(fp);
		is_int(jobs, 50, "  ... and 50 jobs in the flat file");
	}
	row(&r, "c.example", 1);
	dmarcd_hist_flat(&r, &out);
	ok(strstr(buf_str(&out), "\npolicy 16\n") != NULL &&
	    strstr(buf_str(&out), "\np 114\n") != NULL &&
	    strstr(buf_str(&out), "\ndkim c.example s1 0\n") != NULL &&
	    strstr(buf_str(&out), "\naction 0\n") != NULL,
	    "flat rows in OpenDMARC's codes (p=r is 114, reject action 0)");
	buf_free(&out);

	/* a database that cannot be opened yet: rows wait, then go */
	snprintf(sub, sizeof(sub), "%s/later", dir);
	snprintf(path, sizeof(path), "%s/later/h.sqlite", dir);
	h = dmarcd_hist_new(path, NULL, NULL, 5);
	for (i = 0; i < 8; i++) {
		row(&r, "d.example", i);
		dmarcd_hist_put(h, &r);
	}
	is_int(dmarcd_hist_flush(h, 300), -1, "a missing directory: the rows "
	    "stay queued");
	dmarcd_hist_stats(h, &w, &d, &f);
	ok(w == 0 && d == 3 && f >= 1, "  ... a queue of 5 took 5 of 8 rows "
	    "(%lu dropped, %lu failures)", d, f);
	mkdir(sub, 0700);
	is_int(dmarcd_hist_flush(h, 20000), 0, "once the directory exists "
	    "the queued rows are written");
	dmarcd_hist_free(h);
	is_int(query_int(path, "SELECT count(*) FROM messages"), 5,
	    "  ... all 5 of them");
}

/* rows still unwritten at stop wait in the spool for the next start */
static void
test_spool(void)
{
	char path[256], sub[256], spool[256];
	struct dmarcd_hist *h;
	struct dmarcd_hist_row r;
	struct stat sb;
	int i;

	snprintf(sub, sizeof(sub), "%s/down", dir);
	snprintf(path, sizeof(path), "%s/down/h.sqlite", dir);
	snprintf(spool, sizeof(spool), "%s/h.spool", dir);
	h = dmarcd_hist_new(path, NULL, NULL, 10);
	dmarcd_hist_set_spool(h, spool, 1);
	for (i = 0; i < 3; i++) {
		row(&r, "spool.example", i);
		dmarcd_hist_put(h, &r);
	}
	dmarcd_hist_free(h);
	ok(stat(spool, &sb) == 0 && (size_t)sb.st_size > 3 * sizeof(r),
	    "a database still down at stop: the 3 rows go to the spool");
	mkdir(sub, 0700);
	h = dmarcd_hist_new(path, NULL, NULL, 10);
	dmarcd_hist_set_spool(h, spool, 1);
	row(&r, "new.example", 9);
	dmarcd_hist_put(h, &r);
	is_int(dmarcd_hist_flush(h, 20000), 0, "the next start writes them");
	dmarcd_hist_free(h);
	is_int(query_int(path, "SELECT count(*) FROM messages WHERE "
	    "from_domain = 'spool.example'"), 3, "  ... all 3, beside the new "
	    "row");
	ok(stat(spool, &sb) < 0, "  ... and the spool is gone");
}

int
main(void)
{
	char cmd[300];

	log_open("dmarcd_hist", 0, LOG_MAIL, 0);	/* the writer's lines */
	if (mkdtemp(dir) == NULL) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	test_schema();
	test_writes();
	test_spool();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		diag("could not remove %s", dir);
	return done_testing();
}
