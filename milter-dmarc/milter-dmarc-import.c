/*
 * NAME
 *	milter-dmarc-import - store DMARC aggregate reports from other
 *	receivers in milter-dmarc's history
 * SYNOPSIS
 *	milter-dmarc-import [-n] [-m] [-c file] [file ...]
 * DESCRIPTION
 *	Without file arguments, reads one mail on standard input (as a
 *	delivery agent or an alias pipe hands it over) and takes each
 *	attached report: XML, gzip or zip, by the part's type or file name,
 *	base64 or quoted-printable, in nested multiparts.  With file
 *	arguments, reads each file: .xml, .xml.gz or .zip, told by its
 *	content (-m: each file is a mail).
 *
 *	Every report goes into the history database that HistoryDatabase
 *	in the configuration file names (SQLite or PostgreSQL), in the
 *	tables received_reports and received_records, one transaction per
 *	report.  A report already there (the same org_name and report_id)
 *	is skipped and said so on standard error.  An input (the mail, or
 *	one file) with any error stores none of its reports.  -n parses
 *	and prints what would be stored, and opens no database.
 * DIAGNOSTICS
 *	Exit 0 when every report was stored or was already there, 1 on an
 *	error with the configuration, the history or reading a file, 2 on
 *	a usage error, 3 when an input is not a valid report (malformed
 *	XML, a damaged archive, a limit passed), 4 when a mail has no
 *	report attached.  With several inputs, the highest code.
 * SEE ALSO
 *	milter-dmarc-import(8), milter-dmarc-report(8), RFC 9990
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "dmarc_agg.h"
#include "dmarcd_conf.h"
#include "dmarcd_hist.h"

#define IMPORT_MAX_INPUT	((size_t)64 << 20)	/* bytes of an input */

#define EX_OK_		0
#define EX_HISTORY	1
#define EX_USAGE_	2
#define EX_REJECTED	3
#define EX_NOREPORT	4

struct store {
	void		*sqlite, *pg;
	int		 dry;
};

/* The reports of one input, kept until the whole input has parsed. */
struct found {
	struct dmarc_agg	**r;
	size_t			 n;
	int			 nomem;
};

static const char *progname = "milter-dmarc-import";

/* keep - the walk's callback: hold a report */
static int
keep(void *arg, struct dmarc_agg *r)
{
	struct found *f = arg;
	struct dmarc_agg **n = realloc(f->r, (f->n + 1) * sizeof(*n));

	if (n == NULL) {
		f->nomem = 1;
		dmarc_agg_free(r);
		free(r);
		return 1;
	}
	f->r = n;
	f->r[f->n++] = r;
	return 0;
}

/* found_free - release the reports of an input */
static void
found_free(struct found *f)
{
	size_t i;

	for (i = 0; i < f->n; i++) {
		dmarc_agg_free(f->r[i]);
		free(f->r[i]);
	}
	free(f->r);
	memset(f, 0, sizeof(*f));
}

/* read_all - a file (or standard input: fd 0) into b, bounded */
static int
read_all(int fd, const char *name, struct buf *b)
{
	char chunk[65536];
	ssize_t n;

	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "%s: %s: %s\n", progname, name,
			    strerror(errno));
			return EX_HISTORY;
		}
		if (b->len + (size_t)n > IMPORT_MAX_INPUT) {
			fprintf(stderr, "%s: %s: larger than %zu bytes; not "
			    "read\n", progname, name, IMPORT_MAX_INPUT);
			return EX_REJECTED;
		}
		if (buf_append(b, chunk, (size_t)n) < 0) {
			fprintf(stderr, "%s: %s: out of memory\n", progname,
			    name);
			return EX_HISTORY;
		}
	}
	return 0;
}

/* store_one - one report; an exit code */
static int
store_one(struct store *s, const char *input, const struct dmarc_agg *r)
{
	struct buf why = BUF_INIT;
	long long now = (long long)time(NULL);
	int rc = 0;

	if (s->dry) {
		size_t i;

		printf("%s: report %s from %s (%s) for %s, %lld to %lld, "
		    "%zu records\n", input, r->report_id, r->org_name,
		    r->email, r->domain, r->begin, r->end, r->nrec);
		for (i = 0; i < r->nrec; i++)
			printf("  %s count %lld disposition %s dkim %s spf %s "
			    "from %s\n", r->rec[i].source_ip, r->rec[i].count,
			    r->rec[i].disposition, r->rec[i].dkim,
			    r->rec[i].spf, r->rec[i].header_from);
		return 0;
	}
	if (s->sqlite != NULL)
		rc = dmarcd_hist_import(s->sqlite, r, now, &why);
	if (rc >= 0 && s->pg != NULL)
		rc = dmarcd_pg_import(s->pg, r, now, &why);
	if (rc < 0) {
		fprintf(stderr, "%s: %s: report %s from %s: %s\n", progname,
		    input, r->report_id, r->org_name, buf_str(&why));
		buf_free(&why);
		return EX_HISTORY;
	}
	buf_free(&why);
	if (rc == 1)
		fprintf(stderr, "%s: %s: report %s from %s is already in the "
		    "history; skipped\n", progname, input, r->report_id,
		    r->org_name);
	else
		printf("%s: report %s from %s for %s: %zu records stored\n",
		    input, r->report_id, r->org_name, r->domain, r->nrec);
	return 0;
}

/* one_input - parse a mail or a file whole, then store its reports */
static int
one_input(struct store *s, const char *name, int fd, int mail)
{
	struct buf in = BUF_INIT, why = BUF_INIT;
	struct found f = { NULL, 0, 0 };
	enum dmarc_agg_status st;
	size_t i;
	int rc, r;

	if ((rc = read_all(fd, name, &in)) != 0)
		goto out;
	if (mail)
		st = dmarc_agg_mail(in.s != NULL ? in.s : "", in.len,
		    DMARC_AGG_MAX_UNPACKED, keep, &f, &why);
	else
		st = dmarc_agg_data(in.s != NULL ? in.s : "", in.len, name,
		    DMARC_AGG_MAX_UNPACKED, keep, &f, &why);
	if (f.nomem)
		st = DMARC_AGG_NOMEM;
	if (st != DMARC_AGG_OK) {
		/* why begins with the file's or the attachment's name */
		if (why.len > 0 && mail)
			fprintf(stderr, "%s: %s: %s; nothing stored\n",
			    progname, name, buf_str(&why));
		else if (why.len > 0)
			fprintf(stderr, "%s: %s; nothing stored\n", progname,
			    buf_str(&why));
		else
			fprintf(stderr, "%s: %s: %s; nothing stored\n",
			    progname, name, dmarc_agg_strerror(st));
		rc = st == DMARC_AGG_NONE ? EX_NOREPORT : st ==
		    DMARC_AGG_NOMEM ? EX_HISTORY : EX_REJECTED;
		goto out;
	}
	for (i = 0; i < f.n; i++)
		if ((r = store_one(s, name, f.r[i])) > rc)
			rc = r;
out:
	found_free(&f);
	buf_free(&in);
	buf_free(&why);
	return rc;
}

/* usage - the synopsis on standard error */
static void
usage(void)
{
	fprintf(stderr, "usage: milter-dmarc-import [-n] [-m] [-c file] "
	    "[file ...]\n");
}

int
main(int argc, char **argv)
{
	const char *conf = SYSCONFDIR "/milter-dmarc.conf";
	struct store s;
	struct buf err = BUF_INIT;
	struct dmarcd_conf *c = NULL;
	int ch, mail = 0, rc = 0, r, i;

	memset(&s, 0, sizeof(s));
	while ((ch = getopt(argc, argv, "c:hmn")) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case 'm':
			mail = 1;
			break;
		case 'n':
			s.dry = 1;
			break;
		default:
			usage();
			return ch == 'h' ? 0 : EX_USAGE_;
		}
	}
	if (!s.dry) {
		if ((c = dmarcd_conf_load(conf, NULL, NULL, &err)) == NULL) {
			fprintf(stderr, "%s: %s\n", progname, buf_str(&err));
			buf_free(&err);
			return EX_HISTORY;
		}
		if (dmarcd_conf_history_sqlite(c) == NULL &&
		    dmarcd_conf_history_pg(c) == NULL) {
			fprintf(stderr, "%s: %s sets no HistoryDatabase\n",
			    progname, conf);
			rc = EX_HISTORY;
			goto out;
		}
		if (dmarcd_conf_history_sqlite(c) != NULL && (s.sqlite =
		    dmarcd_hist_open_db(dmarcd_conf_history_sqlite(c),
		    &err)) == NULL) {
			fprintf(stderr, "%s: %s\n", progname, buf_str(&err));
			rc = EX_HISTORY;
			goto out;
		}
		if (dmarcd_conf_history_pg(c) != NULL && (s.pg =
		    dmarcd_pg_open(dmarcd_conf_history_pg(c), &err)) == NULL) {
			fprintf(stderr, "%s: PostgreSQL: %s\n", progname,
			    buf_str(&err));
			rc = EX_HISTORY;
			goto out;
		}
	}
	if (optind == argc)
		rc = one_input(&s, "stdin", 0, 1);
	for (i = optind; i < argc; i++) {
		int fd = open(argv[i], O_RDONLY | O_CLOEXEC);

		if (fd < 0) {
			fprintf(stderr, "%s: %s: %s\n", progname, argv[i],
			    strerror(errno));
			r = EX_HISTORY;
		} else {
			r = one_input(&s, argv[i], fd, mail);
			close(fd);
		}
		if (r > rc)
			rc = r;
	}
out:
	if (s.sqlite != NULL)
		dmarcd_hist_close_db(s.sqlite);
	if (s.pg != NULL)
		dmarcd_pg_close(s.pg);
	buf_free(&err);
	dmarcd_conf_free(c);
	return rc;
}
