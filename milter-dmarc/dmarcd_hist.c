/*
 * NAME
 *	dmarcd_hist - milter-dmarc: the history of evaluated messages
 * SYNOPSIS
 *	#include "dmarcd_hist.h"
 * DESCRIPTION
 *	A ring of row pointers under one mutex.  dmarcd_hist_put() copies
 *	the row, starts the writer thread the first time, and appends the
 *	copy (or drops it, counted, when the ring is full).  The writer
 *	takes up to DMARCD_HIST_BATCH rows at a time and writes them: to
 *	SQLite in one transaction, to the flat file in one append.  Once
 *	rows are there it waits up to DMARCD_HIST_GATHER_MS for a batch to
 *	fill, so that under load each transaction carries many rows.  Rows
 *	leave the ring only once written; after a failure the writer waits
 *	1, 2, 4... up to DMARCD_HIST_RETRY_MAX seconds before trying again,
 *	reopening the database.  Rows still unwritten when the drain time at
 *	stop is over go to the spool file, when there is one, and are
 *	queued again by the next writer that starts with it.
 *
 *	The schema: schema_version (one row), messages (one row per
 *	message and From domain) and signatures (the DKIM results of a
 *	message).  dmarcd_hist_open_db() creates it, or runs the
 *	migrations from the version found, each in its own transaction:
 *	version 1 is the first schema; version 2 adds the record's np and
 *	testing columns and the policy actually applied; version 3 the
 *	DKIM results of a message as one text (what reports group by) and
 *	an index by policy domain and time (what reports select by);
 *	version 4 the aggregate reports received from other receivers
 *	(received_reports and received_records, milter-dmarc-import).
 *
 *	The flat file is OpenDMARC's HistoryFile: "key value" lines per
 *	message, starting with "job"; policies as the ASCII codes of n, q,
 *	r; results in the codes of OpenDMARC's Authentication-Results
 *	parser (0 pass, 2 softfail, 3 neutral, 4 temperror, 5 permerror,
 *	6 none, 7 fail, 8 policy); alignment 4 pass, 5 fail.
 * DIAGNOSTICS
 *	Write failures are logged once per failure streak, with the number
 *	of rows waiting; drops are logged at the first and every 1000th.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dmarcd_hist.h"
#include "log.h"

struct dmarcd_hist {
	char			*db_path, *pg_info, *flat_path, *spool_path;
	int			 drain;		/* seconds to write out at stop */
	void			*pg;		/* PGconn, or NULL */
	pthread_mutex_t		 lock;
	pthread_cond_t		 more;		/* rows queued, or stop */
	pthread_cond_t		 empty;		/* the ring became empty */
	struct dmarcd_hist_row	**ring;
	size_t			 cap, head, n;
	int			 started, stop;
	pthread_t		 thread;
	unsigned long		 written, dropped, failures;
	sqlite3			*db;
	sqlite3_stmt		*ins_msg, *ins_sig;	/* prepared once */
};

/* The schema, one migration per version (index = version - 1). */
static const char *const migrations[DMARCD_HIST_VERSION] = {
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
	"CREATE INDEX signatures_message ON signatures(message_id);",

	"ALTER TABLE messages ADD COLUMN np TEXT;"
	"ALTER TABLE messages ADD COLUMN testing INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE messages ADD COLUMN applied TEXT;"
	"ALTER TABLE messages ADD COLUMN action TEXT NOT NULL DEFAULT 'accept';",

	DMARCD_HIST_V3,

	DMARCD_HIST_V4("INTEGER"),

	DMARCD_HIST_V5,

	DMARCD_HIST_V6,
};

/* version - the schema version of an open database; 0 when none, -1 on
 * error */
static int
version(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	int v = 0, rc;

	rc = sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE "
	    "type = 'table' AND name = 'schema_version'", -1, &st, NULL);
	if (rc != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return -1;
	}
	v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (v == 0)
		return 0;
	if (sqlite3_prepare_v2(db, "SELECT max(version) FROM schema_version",
	    -1, &st, NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return -1;
	}
	v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* migrate - from version v to DMARCD_HIST_VERSION; -1 with why set */
static int
migrate(sqlite3 *db, int v, struct buf *why)
{
	char *msg = NULL;
	char sql[128];

	if (v == 0 && sqlite3_exec(db, "CREATE TABLE IF NOT EXISTS "
	    "schema_version (version INTEGER NOT NULL)", NULL, NULL, &msg) !=
	    SQLITE_OK)
		goto fail;
	for (; v < DMARCD_HIST_VERSION; v++) {
		snprintf(sql, sizeof(sql), "DELETE FROM schema_version; "
		    "INSERT INTO schema_version VALUES (%d)", v + 1);
		if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &msg) !=
		    SQLITE_OK)
			goto fail;
		if (sqlite3_exec(db, migrations[v], NULL, NULL, &msg) !=
		    SQLITE_OK || sqlite3_exec(db, sql, NULL, NULL, &msg) !=
		    SQLITE_OK) {
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			goto fail;
		}
		if (sqlite3_exec(db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK)
			goto fail;
	}
	return 0;
fail:
	buf_printf(why, "schema version %d: %s", v + 1, msg ? msg :
	    sqlite3_errmsg(db));
	sqlite3_free(msg);
	return -1;
}

/* dmarcd_hist_open_db - open, create or migrate */
void *
dmarcd_hist_open_db(const char *path, struct buf *why)
{
	sqlite3 *db = NULL;
	int v;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
		buf_printf(why, "%s: %s", path, db ? sqlite3_errmsg(db) :
		    "out of memory");
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_exec(db, "PRAGMA journal_mode = WAL; PRAGMA "
	    "foreign_keys = ON", NULL, NULL, NULL) != SQLITE_OK ||
	    (v = version(db)) < 0) {
		buf_printf(why, "%s: %s", path, sqlite3_errmsg(db));
		sqlite3_close(db);
		return NULL;
	}
	if (v > DMARCD_HIST_VERSION) {
		buf_printf(why, "%s: schema version %d is newer than this "
		    "program's (%d)", path, v, DMARCD_HIST_VERSION);
		sqlite3_close(db);
		return NULL;
	}
	if (v < DMARCD_HIST_VERSION && migrate(db, v, why) < 0) {
		sqlite3_close(db);
		return NULL;
	}
	return db;
}

/* dmarcd_hist_close_db - close a database */
void
dmarcd_hist_close_db(void *db)
{
	sqlite3_close(db);
}

/* dmarcd_hist_check - can the database be used? */
int
dmarcd_hist_check(const char *path, struct buf *why)
{
	struct stat sb;
	char *dir, *slash;
	sqlite3 *db;
	int ok;

	if (stat(path, &sb) == 0) {
		if ((db = dmarcd_hist_open_db(path, why)) == NULL)
			return -1;
		sqlite3_close(db);
		return 0;
	}
	if ((dir = strdup(path)) == NULL)
		return -1;
	if ((slash = strrchr(dir, '/')) == NULL)
		strcpy(dir, ".");
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	ok = access(dir, W_OK | X_OK) == 0;
	if (!ok)
		buf_printf(why, "%s: %s", dir, strerror(errno));
	free(dir);
	return ok ? 0 : -1;
}

/* dmarcd_hist_new - a writer; nothing opened yet */
struct dmarcd_hist *
dmarcd_hist_new(const char *db_path, const char *pg_info,
    const char *flat_path, size_t cap)
{
	struct dmarcd_hist *h = calloc(1, sizeof(*h));

	if (h == NULL)
		return NULL;
	h->cap = cap > 0 ? cap : DMARCD_HIST_QUEUE;
	if ((h->ring = calloc(h->cap, sizeof(*h->ring))) == NULL ||
	    (db_path != NULL && (h->db_path = strdup(db_path)) == NULL) ||
	    (pg_info != NULL && (h->pg_info = strdup(pg_info)) == NULL) ||
	    (flat_path != NULL && (h->flat_path = strdup(flat_path)) ==
	    NULL)) {
		free(h->ring);
		free(h->db_path);
		free(h->pg_info);
		free(h);
		return NULL;
	}
	h->drain = DMARCD_HIST_DRAIN;
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->more, NULL);
	pthread_cond_init(&h->empty, NULL);
	return h;
}

/* code_policy, code_auth, code_align - OpenDMARC's numbers */
static int
code_policy(enum dmarc_policy p)
{
	return p == DMARC_P_NONE ? 'n' : p == DMARC_P_QUARANTINE ? 'q' :
	    p == DMARC_P_REJECT ? 'r' : 0;
}

static int
code_auth(enum dmarc_auth a)
{
	static const int codes[] = {
		[DMARC_AUTH_NONE] = 6, [DMARC_AUTH_PASS] = 0,
		[DMARC_AUTH_FAIL] = 7, [DMARC_AUTH_SOFTFAIL] = 2,
		[DMARC_AUTH_NEUTRAL] = 3, [DMARC_AUTH_POLICY] = 8,
		[DMARC_AUTH_TEMPERROR] = 4, [DMARC_AUTH_PERMERROR] = 5,
	};

	return (size_t)a < sizeof(codes) / sizeof(codes[0]) ? codes[a] : 6;
}

/* dmarcd_hist_flat - one row as OpenDMARC's HistoryFile has it */
void
dmarcd_hist_flat(const struct dmarcd_hist_row *r, struct buf *out)
{
	/* OpenDMARC's DMARC_POLICY_*: absent, pass, reject, quarantine, none */
	int policy = !r->has_record ? 14 : r->result == DMARC_RES_PASS ? 15 :
	    r->dis == DMARC_DIS_REJECT ? 16 :
	    r->dis == DMARC_DIS_QUARANTINE ? 17 : 18;
	/* OpenDMARC's action codes: 0 reject, 2 none, 4 quarantine */
	int action = r->action == DMARCD_ACT_REJECT ? 0 :
	    r->action == DMARCD_ACT_QUARANTINE ? 4 : 2;
	size_t i;

	buf_printf(out, "job %s\nreporter %s\nreceived %lld\nipaddr %s\n"
	    "from %s\nmfrom %s\n", r->qid[0] ? r->qid : "NOQUEUE",
	    r->reporter, (long long)r->received, r->ip, r->from,
	    r->mfrom[0] ? r->mfrom : "-");
	if (r->spf_domain[0] != '\0')
		buf_printf(out, "spf %d\n", code_auth(r->spf));
	for (i = 0; i < r->nsig; i++)
		buf_printf(out, "dkim %s %s %d\n", r->sig[i].domain,
		    r->sig[i].selector[0] ? r->sig[i].selector : "-",
		    code_auth(r->sig[i].result));
	buf_printf(out, "pdomain %s\npolicy %d\n", r->pdomain[0] ?
	    r->pdomain : r->from, policy);
	buf_printf(out, "rua %s\n", r->rua[0] ? r->rua : "-");
	buf_printf(out, "pct %d\nadkim %d\naspf %d\np %d\nsp %d\n"
	    "align_dkim %d\nalign_spf %d\naction %d\n", r->pct,
	    r->adkim == DMARC_ALIGN_STRICT ? 's' : 'r',
	    r->aspf == DMARC_ALIGN_STRICT ? 's' : 'r', code_policy(r->p),
	    code_policy(r->sp), r->dkim_aligned ? 4 : 5,
	    r->spf_aligned ? 4 : 5, action);
}

static const char *
pol(enum dmarc_policy p)
{
	return p == DMARC_P_UNSPEC ? NULL : dmarc_policy_name(p);
}

static const char *const action_names[] = {
	[DMARCD_ACT_ACCEPT] = "accept", [DMARCD_ACT_REJECT] = "reject",
	[DMARCD_ACT_QUARANTINE] = "quarantine",
	[DMARCD_ACT_TEMPFAIL] = "tempfail",
};

/* or_null - NULL for "" (optional columns) */
static const char *
or_null(const char *s)
{
	return s != NULL && *s != '\0' ? s : NULL;
}

/* dkim_text - "domain selector result|..." sorted, or NULL when none */
static const char *
dkim_text(const struct dmarcd_hist_row *r, char *out, size_t size)
{
	size_t idx[DMARCD_HIST_SIGS], n = r->nsig < DMARCD_HIST_SIGS ?
	    r->nsig : DMARCD_HIST_SIGS, i, j, len = 0;

	if (n == 0)
		return NULL;
	for (i = 0; i < n; i++) {
		for (j = i; j > 0 && (strcmp(r->sig[idx[j - 1]].domain,
		    r->sig[i].domain) > 0 || (strcmp(r->sig[idx[j - 1]].domain,
		    r->sig[i].domain) == 0 && strcmp(r->sig[idx[j - 1]].selector,
		    r->sig[i].selector) > 0)); j--)
			idx[j] = idx[j - 1];
		idx[j] = i;
	}
	out[0] = '\0';
	for (i = 0; i < n && len < size; i++)
		len += (size_t)snprintf(out + len, size - len, "%s%s %s %s",
		    i ? "|" : "", r->sig[idx[i]].domain,
		    r->sig[idx[i]].selector[0] ? r->sig[idx[i]].selector : "-",
		    dmarc_auth_name(r->sig[idx[i]].result));
	return out;
}

/* dmarcd_hist_values - a row as the text of the INSERT's parameters */
void
dmarcd_hist_values(const struct dmarcd_hist_row *r, struct dmarcd_hist_vals *v)
{
	const char **c = v->v;
	int i = 0;

	snprintf(v->received, sizeof(v->received), "%lld",
	    (long long)r->received);
	snprintf(v->pct, sizeof(v->pct), "%d", r->pct);
	c[i++] = v->received;
	c[i++] = r->qid;
	c[i++] = r->reporter;
	c[i++] = r->ip;
	c[i++] = r->from;
	c[i++] = r->mfrom;
	c[i++] = r->pdomain;
	c[i++] = r->mode == DMARC_MODE_7489 ? "psl" : "treewalk";
	c[i++] = pol(r->p);
	c[i++] = pol(r->sp);
	c[i++] = pol(r->np);
	c[i++] = r->has_record ? r->adkim == DMARC_ALIGN_STRICT ? "s" : "r" :
	    NULL;
	c[i++] = r->has_record ? r->aspf == DMARC_ALIGN_STRICT ? "s" : "r" :
	    NULL;
	c[i++] = r->has_record ? v->pct : NULL;
	c[i++] = r->testing ? "1" : "0";
	c[i++] = or_null(r->rua);
	c[i++] = or_null(r->spf_domain);
	c[i++] = r->spf_domain[0] ? r->spf_helo ? "helo" : "mfrom" : NULL;
	c[i++] = r->spf_domain[0] ? dmarc_auth_name(r->spf) : NULL;
	c[i++] = dmarc_result_name(r->result);
	c[i++] = dmarc_dis_name(r->dis);
	c[i++] = pol(r->applied);
	c[i++] = r->action >= 0 && r->action <= 3 ? action_names[r->action] :
	    "accept";
	c[i++] = r->dkim_aligned ? "1" : "0";
	c[i++] = r->spf_aligned ? "1" : "0";
	c[i++] = dkim_text(r, v->dkim, sizeof(v->dkim));
}

/* insert - one row; SQLite status */
static int
insert(sqlite3 *db, sqlite3_stmt *ms, sqlite3_stmt *ss,
    const struct dmarcd_hist_row *r)
{
	struct dmarcd_hist_vals v;
	sqlite3_int64 id;
	size_t i;
	int rc;

	dmarcd_hist_values(r, &v);
	sqlite3_reset(ms);
	sqlite3_clear_bindings(ms);
	for (i = 0; i < DMARCD_HIST_NCOLS; i++)
		if (v.v[i] == NULL)
			sqlite3_bind_null(ms, (int)i + 1);
		else
			sqlite3_bind_text(ms, (int)i + 1, v.v[i], -1,
			    SQLITE_TRANSIENT);
	if ((rc = sqlite3_step(ms)) != SQLITE_DONE)
		return rc;
	id = sqlite3_last_insert_rowid(db);
	for (i = 0; i < r->nsig && i < DMARCD_HIST_SIGS; i++) {
		sqlite3_reset(ss);
		sqlite3_bind_int64(ss, 1, id);
		sqlite3_bind_text(ss, 2, r->sig[i].domain, -1,
		    SQLITE_TRANSIENT);
		sqlite3_bind_text(ss, 3, r->sig[i].selector, -1,
		    SQLITE_TRANSIENT);
		sqlite3_bind_text(ss, 4, dmarc_auth_name(r->sig[i].result), -1,
		    SQLITE_STATIC);
		sqlite3_bind_int(ss, 5, r->sig[i].aligned);
		if ((rc = sqlite3_step(ss)) != SQLITE_DONE)
			return rc;
	}
	return SQLITE_DONE;
}

/* close_db - the writer's connection and its statements */
static void
close_db(struct dmarcd_hist *h)
{
	sqlite3_finalize(h->ins_msg);
	sqlite3_finalize(h->ins_sig);
	h->ins_msg = h->ins_sig = NULL;
	sqlite3_close(h->db);
	h->db = NULL;
}

/*
 * open_writer - the writer's connection and its two statements, kept
 * between batches.  In WAL mode with synchronous NORMAL a commit does
 * not wait for the disk: the database cannot be corrupted, and what a
 * power loss can take is the last commits, which a crash of the program
 * cannot.  0, or -1 with why set.
 */
static int
open_writer(struct dmarcd_hist *h, struct buf *why)
{
	if ((h->db = dmarcd_hist_open_db(h->db_path, why)) == NULL)
		return -1;
	if (sqlite3_exec(h->db, "PRAGMA synchronous = NORMAL", NULL, NULL,
	    NULL) == SQLITE_OK && sqlite3_prepare_v2(h->db, "INSERT INTO "
	    "messages (" DMARCD_HIST_COLUMNS ") VALUES (?, ?, ?, ?, ?, ?, ?, "
	    "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", -1,
	    &h->ins_msg, NULL) == SQLITE_OK && sqlite3_prepare_v2(h->db,
	    "INSERT INTO signatures (message_id, domain, selector, result, "
	    "aligned) VALUES (?, ?, ?, ?, ?)", -1, &h->ins_sig, NULL) ==
	    SQLITE_OK)
		return 0;
	buf_printf(why, "%s: %s", h->db_path, sqlite3_errmsg(h->db));
	close_db(h);
	return -1;
}

/* write_db - a batch in one transaction; 0, or -1 with why set */
static int
write_db(struct dmarcd_hist *h, struct dmarcd_hist_row **rows, size_t n,
    struct buf *why)
{
	size_t i;

	if (h->db == NULL && open_writer(h, why) < 0)
		return -1;
	if (sqlite3_exec(h->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK)
		goto fail;
	for (i = 0; i < n; i++)
		if (insert(h->db, h->ins_msg, h->ins_sig, rows[i]) !=
		    SQLITE_DONE) {
			sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
			goto fail;
		}
	if (sqlite3_exec(h->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
		goto fail;
	}
	return 0;
fail:
	buf_printf(why, "%s: %s", h->db_path, sqlite3_errmsg(h->db));
	close_db(h);
	return -1;
}

/* write_flat - a batch appended to the flat file; 0 or -1 */
static int
write_flat(struct dmarcd_hist *h, struct dmarcd_hist_row **rows, size_t n,
    struct buf *why)
{
	struct buf out = BUF_INIT;
	FILE *f;
	size_t i;
	int rc = 0;

	for (i = 0; i < n; i++)
		dmarcd_hist_flat(rows[i], &out);
	if (out.failed || (f = fopen(h->flat_path, "a")) == NULL) {
		buf_printf(why, "%s: %s", h->flat_path, out.failed ?
		    "out of memory" : strerror(errno));
		buf_free(&out);
		return -1;
	}
	if (fwrite(out.s, 1, out.len, f) != out.len)
		rc = -1;
	if (fclose(f) != 0)
		rc = -1;
	if (rc < 0)
		buf_printf(why, "%s: %s", h->flat_path, strerror(errno));
	buf_free(&out);
	return rc;
}

/* write_pg - a batch to PostgreSQL; 0, or -1 with why set */
static int
write_pg(struct dmarcd_hist *h, struct dmarcd_hist_row **rows, size_t n,
    struct buf *why)
{
	if (h->pg == NULL && (h->pg = dmarcd_pg_open(h->pg_info, why)) ==
	    NULL)
		goto fail;
	if (dmarcd_pg_write(h->pg, rows, n, why) == 0)
		return 0;
	dmarcd_pg_close(h->pg);
	h->pg = NULL;
fail:
	while (why->len > 0 && (why->s[why->len - 1] == '\n' ||
	    why->s[why->len - 1] == ' '))
		buf_truncate(why, why->len - 1);
	return -1;
}

/* The spool: rows still unwritten at stop, as raw records after a
 * header that names this program's row layout. */
struct spool_head {
	char		magic[8];
	uint32_t	version, rowsize;
};
#define SPOOL_MAGIC	"DMHSPOOL"

/* spool_save - the queued rows into the spool file (lock held); the
 * rows saved leave the ring */
static void
spool_save(struct dmarcd_hist *h)
{
	struct spool_head hd;
	struct stat sb;
	size_t saved = 0;
	FILE *f;

	if (h->spool_path == NULL || h->n == 0)
		return;
	if ((f = fopen(h->spool_path, "ab")) == NULL) {
		log_warn("history: spool %s", h->spool_path);
		return;
	}
	memset(&hd, 0, sizeof(hd));
	memcpy(hd.magic, SPOOL_MAGIC, sizeof(hd.magic));
	hd.version = DMARCD_HIST_VERSION;
	hd.rowsize = (uint32_t)sizeof(struct dmarcd_hist_row);
	if (fstat(fileno(f), &sb) == 0 && sb.st_size == 0 &&
	    fwrite(&hd, sizeof(hd), 1, f) != 1) {
		fclose(f);
		return;
	}
	while (h->n > 0 && fwrite(h->ring[h->head], sizeof(**h->ring), 1, f) ==
	    1) {
		free(h->ring[h->head]);
		h->head = (h->head + 1) % h->cap;
		h->n--;
		saved++;
	}
	if (fclose(f) != 0)
		log_warn("history: spool %s", h->spool_path);
	log_warnx("history: %zu rows saved in %s, to be written at the next "
	    "start", saved, h->spool_path);
}

/* spool_load - rows a previous run left in the spool into the ring (lock
 * held); the file goes once read */
static void
spool_load(struct dmarcd_hist *h)
{
	struct spool_head hd;
	struct dmarcd_hist_row *r;
	size_t loaded = 0;
	FILE *f;

	if (h->spool_path == NULL || (f = fopen(h->spool_path, "rb")) == NULL)
		return;
	if (fread(&hd, sizeof(hd), 1, f) != 1 ||
	    memcmp(hd.magic, SPOOL_MAGIC, sizeof(hd.magic)) != 0 ||
	    hd.rowsize != sizeof(struct dmarcd_hist_row)) {
		log_warnx("history: %s is not a spool of this version; left "
		    "alone", h->spool_path);
		fclose(f);
		return;
	}
	while (h->n < h->cap && (r = malloc(sizeof(*r))) != NULL) {
		if (fread(r, sizeof(*r), 1, f) != 1) {
			free(r);
			break;
		}
		h->ring[(h->head + h->n) % h->cap] = r;
		h->n++;
		loaded++;
	}
	fclose(f);
	unlink(h->spool_path);
	if (loaded > 0)
		log_info("history: %zu rows from %s queued again", loaded,
		    h->spool_path);
}

/* dmarcd_hist_set_spool - where rows unwritten at stop are kept (NULL:
 * nowhere) and how long to try at stop */
int
dmarcd_hist_set_spool(struct dmarcd_hist *h, const char *path, int drain)
{
	free(h->spool_path);
	h->spool_path = NULL;
	if (path != NULL && (h->spool_path = strdup(path)) == NULL)
		return -1;
	h->drain = drain;
	return 0;
}

/* gather - with the lock held, wait up to DMARCD_HIST_GATHER_MS for a
 * batch to fill (or a stop), so that under load a transaction carries
 * many rows rather than one each */
static void
gather(struct dmarcd_hist *h)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += DMARCD_HIST_GATHER_MS * 1000000L;
	ts.tv_sec += ts.tv_nsec / 1000000000L;
	ts.tv_nsec %= 1000000000L;
	while (!h->stop && h->n < DMARCD_HIST_BATCH &&
	    pthread_cond_timedwait(&h->more, &h->lock, &ts) != ETIMEDOUT)
		;
}

/* writer - the thread: batches out of the ring until told to stop */
static void *
writer(void *arg)
{
	struct dmarcd_hist *h = arg;
	struct dmarcd_hist_row *batch[DMARCD_HIST_BATCH];
	struct buf why = BUF_INIT;
	unsigned pause = 1;
	int failing = 0, flat_done = 0;
	time_t stop_at = 0;
	size_t n, i, flat_n = 0;

	pthread_mutex_lock(&h->lock);
	spool_load(h);
	for (;;) {
		while (h->n == 0 && !h->stop)
			pthread_cond_wait(&h->more, &h->lock);
		if (h->n == 0)
			break;
		if (!failing)
			gather(h);
		if (h->stop && stop_at == 0)
			stop_at = time(NULL) + h->drain;
		n = h->n < DMARCD_HIST_BATCH ? h->n : DMARCD_HIST_BATCH;
		if (flat_done)
			n = flat_n;	/* the same rows again, for SQLite */
		for (i = 0; i < n; i++)
			batch[i] = h->ring[(h->head + i) % h->cap];
		pthread_mutex_unlock(&h->lock);

		buf_reset(&why);
		/* the flat file gets a batch once, even if SQLite fails */
		if (h->flat_path != NULL && !flat_done &&
		    write_flat(h, batch, n, &why) == 0) {
			flat_done = 1;
			flat_n = n;
		}
		if ((h->flat_path == NULL || flat_done) && (h->db_path == NULL ||
		    write_db(h, batch, n, &why) == 0) && (h->pg_info == NULL ||
		    write_pg(h, batch, n, &why) == 0)) {
			pthread_mutex_lock(&h->lock);
			for (i = 0; i < n; i++)
				free(batch[i]);
			h->head = (h->head + n) % h->cap;
			h->n -= n;
			h->written += n;
			if (h->n == 0)
				pthread_cond_broadcast(&h->empty);
			if (failing)
				log_info("history: writing again; %zu rows "
				    "waiting", h->n);
			failing = flat_done = 0;
			pause = 1;
			continue;
		}
		pthread_mutex_lock(&h->lock);
		h->failures++;
		if (!failing)
			log_warnx("history: %s; %zu rows kept to try again",
			    buf_str(&why), h->n);
		failing = 1;
		if (h->stop && time(NULL) >= stop_at) {
			spool_save(h);
			if (h->n > 0)
				log_warnx("history: giving up at stop; %zu rows "
				    "lost", h->n);
			h->dropped += h->n;
			while (h->n > 0) {
				free(h->ring[h->head]);
				h->head = (h->head + 1) % h->cap;
				h->n--;
			}
			pthread_cond_broadcast(&h->empty);
			break;
		}
		{
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += h->stop ? 1 : pause;
			pthread_cond_timedwait(&h->more, &h->lock, &ts);
		}
		if (pause < DMARCD_HIST_RETRY_MAX)
			pause *= 2;
	}
	pthread_mutex_unlock(&h->lock);
	buf_free(&why);
	return NULL;
}

/* dmarcd_hist_put - queue a copy of a row */
void
dmarcd_hist_put(struct dmarcd_hist *h, const struct dmarcd_hist_row *r)
{
	struct dmarcd_hist_row *copy;

	if (h == NULL)
		return;
	copy = malloc(sizeof(*copy));
	pthread_mutex_lock(&h->lock);
	if (!h->started && !h->stop) {
		if (pthread_create(&h->thread, NULL, writer, h) == 0)
			h->started = 1;
		else
			log_warn("history: cannot start the writer");
	}
	if (copy == NULL || h->n == h->cap || !h->started || h->stop) {
		h->dropped++;
		if (h->dropped == 1 || h->dropped % 1000 == 0)
			log_warnx("history: %lu rows dropped so far (queue of "
			    "%zu full, or no writer)", h->dropped, h->cap);
		pthread_mutex_unlock(&h->lock);
		free(copy);
		return;
	}
	*copy = *r;
	h->ring[(h->head + h->n) % h->cap] = copy;
	h->n++;
	/* the writer waits for a first row, or for a batch to fill */
	if (h->n == 1 || h->n == DMARCD_HIST_BATCH)
		pthread_cond_signal(&h->more);
	pthread_mutex_unlock(&h->lock);
}

/* dmarcd_hist_stats - the counters */
void
dmarcd_hist_stats(struct dmarcd_hist *h, unsigned long *written,
    unsigned long *dropped, unsigned long *failures)
{
	pthread_mutex_lock(&h->lock);
	*written = h->written;
	*dropped = h->dropped;
	*failures = h->failures;
	pthread_mutex_unlock(&h->lock);
}

/* dmarcd_hist_flush - wait for the ring to empty */
int
dmarcd_hist_flush(struct dmarcd_hist *h, int timeout_ms)
{
	struct timespec ts;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&h->lock);
	while (h->n > 0 && rc == 0)
		rc = pthread_cond_timedwait(&h->empty, &h->lock, &ts);
	rc = h->n == 0 ? 0 : -1;
	pthread_mutex_unlock(&h->lock);
	return rc;
}

/* dmarcd_hist_free - write out what is queued, stop, release */
void
dmarcd_hist_free(struct dmarcd_hist *h)
{
	if (h == NULL)
		return;
	pthread_mutex_lock(&h->lock);
	h->stop = 1;
	pthread_cond_broadcast(&h->more);
	pthread_mutex_unlock(&h->lock);
	if (h->started)
		pthread_join(h->thread, NULL);
	while (h->n > 0) {
		free(h->ring[h->head]);
		h->head = (h->head + 1) % h->cap;
		h->n--;
	}
	if (h->written > 0 || h->dropped > 0)
		log_info("history: %lu rows written, %lu dropped, %lu write "
		    "failures", h->written, h->dropped, h->failures);
	close_db(h);
	if (h->pg != NULL)
		dmarcd_pg_close(h->pg);
	pthread_cond_destroy(&h->more);
	pthread_cond_destroy(&h->empty);
	pthread_mutex_destroy(&h->lock);
	free(h->ring);
	free(h->db_path);
	free(h->pg_info);
	free(h->flat_path);
	free(h->spool_path);
	free(h);
}

/* dmarcd_import_values - a received report as the INSERT's parameters */
void
dmarcd_import_values(const struct dmarc_agg *r, long long now,
    struct dmarcd_import_vals *v)
{
	const char **c = v->v;
	int i = 0;

	snprintf(v->begin, sizeof(v->begin), "%lld", r->begin);
	snprintf(v->end, sizeof(v->end), "%lld", r->end);
	snprintf(v->pct, sizeof(v->pct), "%d", r->pct);
	snprintf(v->imported, sizeof(v->imported), "%lld", now);
	c[i++] = r->org_name;
	c[i++] = r->email;
	c[i++] = r->report_id;
	c[i++] = v->begin;
	c[i++] = v->end;
	c[i++] = r->domain;
	c[i++] = or_null(r->adkim);
	c[i++] = or_null(r->aspf);
	c[i++] = or_null(r->p);
	c[i++] = or_null(r->sp);
	c[i++] = or_null(r->np);
	c[i++] = r->pct >= 0 ? v->pct : NULL;
	c[i++] = or_null(r->testing);
	c[i++] = or_null(r->discovery);
	c[i++] = r->source;
	c[i++] = v->imported;
}

/* dmarcd_import_rvalues - a received record as the INSERT's parameters */
void
dmarcd_import_rvalues(const struct dmarc_agg_record *rec,
    const char *report, struct dmarcd_import_rvals *v)
{
	const char **c = v->v;
	int i = 0;

	snprintf(v->count, sizeof(v->count), "%lld", rec->count);
	c[i++] = report;
	c[i++] = rec->source_ip;
	c[i++] = v->count;
	c[i++] = or_null(rec->disposition);
	c[i++] = or_null(rec->dkim);
	c[i++] = or_null(rec->spf);
	c[i++] = or_null(rec->reasons);
	c[i++] = rec->header_from;
	c[i++] = or_null(rec->envelope_from);
	c[i++] = or_null(rec->envelope_to);
	c[i++] = or_null(buf_str(&rec->dkim_auth));
	c[i++] = or_null(buf_str(&rec->spf_auth));
}

/* bind_all - text parameters, NULL for SQL NULL */
static void
bind_all(sqlite3_stmt *st, const char *const *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i] == NULL)
			sqlite3_bind_null(st, (int)i + 1);
		else
			sqlite3_bind_text(st, (int)i + 1, v[i], -1,
			    SQLITE_TRANSIENT);
}

/* dmarcd_hist_import - one received report, in one transaction */
int
dmarcd_hist_import(void *arg, const struct dmarc_agg *r, long long now,
    struct buf *why)
{
	sqlite3 *db = arg;
	sqlite3_stmt *rs = NULL, *cs = NULL;
	struct dmarcd_import_vals v;
	struct dmarcd_import_rvals rv;
	char id[24];
	size_t i;
	int rc = -1, began = 0;

	if (sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO received_reports ("
	    DMARCD_IMPORT_REPORT_COLUMNS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, "
	    "?, ?, ?, ?, ?, ?, ?)", -1, &rs, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO received_records ("
	    DMARCD_IMPORT_RECORD_COLUMNS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, "
	    "?, ?, ?)", -1, &cs, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	began = 1;
	dmarcd_import_values(r, now, &v);
	bind_all(rs, v.v, DMARCD_IMPORT_REPORT_NCOLS);
	if (sqlite3_step(rs) != SQLITE_DONE)
		goto fail;
	if (sqlite3_changes(db) == 0) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		rc = 1;
		goto out;
	}
	snprintf(id, sizeof(id), "%lld",
	    (long long)sqlite3_last_insert_rowid(db));
	for (i = 0; i < r->nrec; i++) {
		dmarcd_import_rvalues(&r->rec[i], id, &rv);
		sqlite3_reset(cs);
		sqlite3_clear_bindings(cs);
		bind_all(cs, rv.v, DMARCD_IMPORT_RECORD_NCOLS);
		if (sqlite3_step(cs) != SQLITE_DONE)
			goto fail;
	}
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	rc = 0;
	goto out;
fail:
	buf_printf(why, "%s", sqlite3_errmsg(db));
	if (began)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
out:
	sqlite3_finalize(rs);
	sqlite3_finalize(cs);
	return rc;
}
