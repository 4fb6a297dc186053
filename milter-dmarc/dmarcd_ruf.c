/*
 * NAME
 *	dmarcd_ruf - milter-dmarc: failure reports (RFC 6591 AFRF, RFC 9991)
 * SYNOPSIS
 *	#include "dmarcd_ruf.h"
 * DESCRIPTION
 *	With FailureReports, a message that fails DMARC for a domain whose
 *	record has ruf= gets a failure report when fo= asks for one (0 or 1:
 *	any DMARC failure; d: a DKIM result other than pass; s: an SPF
 *	result other than pass) and, unless FailureReportsOnNone, the
 *	policy is not none.  The report goes to the ruf mailto: addresses
 *	that dmarc_report_allowed() accepts (external ones must publish
 *	_report._dmarc), at most one per address every
 *	DMARCD_RUF_INTERVAL seconds, plus FailureReportsBcc; it is an
 *	RFC 6591 multipart/report with the message's header, piped to
 *	ReportCommand (sendmail -t by default) by a thread of its own, so
 *	that the message being answered does not wait for the command; at
 *	most DMARCD_RUF_JOBS run at once (a report beyond them is dropped
 *	and logged), and at exit the program waits up to DMARCD_RUF_DRAIN
 *	seconds for those still running.
 * DIAGNOSTICS
 *	Each report sent, or refused, is logged with the queue id.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>

#include "dmarcd_ruf.h"
#include "log.h"

struct limit_entry {
	char	 addr[DMARC_NAME_MAX + 72];
	time_t	 last;
};

struct dmarcd_ruf_limits {
	pthread_mutex_t		 lock;
	struct limit_entry	 e[DMARCD_RUF_ADDRS];
};

/* A report on its way: what the sending thread needs, copied. */
struct ruf_job {
	char		*cmd, *qid, *author, *to;
	struct buf	 m;
};

static pthread_mutex_t jobs_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t jobs_done = PTHREAD_COND_INITIALIZER;
static int jobs_running;
static pthread_once_t drain_once = PTHREAD_ONCE_INIT;

/* drain - at exit, wait a while for the reports still being sent */
static void
drain(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += DMARCD_RUF_DRAIN;
	pthread_mutex_lock(&jobs_lock);
	while (jobs_running > 0 &&
	    pthread_cond_timedwait(&jobs_done, &jobs_lock, &ts) == 0)
		;
	pthread_mutex_unlock(&jobs_lock);
}

static void
drain_register(void)
{
	atexit(drain);
}

static void
job_free(struct ruf_job *j)
{
	free(j->cmd);
	free(j->qid);
	free(j->author);
	free(j->to);
	buf_free(&j->m);
	free(j);
}

/* job_done - one report fewer on its way */
static void
job_done(void)
{
	pthread_mutex_lock(&jobs_lock);
	jobs_running--;
	pthread_cond_broadcast(&jobs_done);
	pthread_mutex_unlock(&jobs_lock);
}

/* job_run - the thread: the report into ReportCommand */
static void *
job_run(void *arg)
{
	struct ruf_job *j = arg;
	FILE *p;

	if ((p = popen(j->cmd, "w")) == NULL)
		log_msg(LOG_WARNING, j->qid, "DMARC failure report for %s: "
		    "cannot run %s", j->author, j->cmd);
	else {
		fwrite(j->m.s, 1, j->m.len, p);
		if (pclose(p) != 0)
			log_msg(LOG_WARNING, j->qid, "DMARC failure report for "
			    "%s: %s failed", j->author, j->cmd);
		else
			log_msg(LOG_INFO, j->qid, "DMARC failure report for %s "
			    "sent to %s", j->author, j->to);
	}
	job_free(j);
	job_done();
	return NULL;
}

/* job_start - hand the report m to a thread of its own; 1, or 0 when it
 * cannot go (logged) */
static int
job_start(const char *cmd, const char *qid, const char *author,
    const char *to, struct buf *m)
{
	struct ruf_job *j = calloc(1, sizeof(*j));
	pthread_attr_t at;
	pthread_t t;
	int busy, rc = -1;

	pthread_once(&drain_once, drain_register);
	pthread_mutex_lock(&jobs_lock);
	if (!(busy = jobs_running >= DMARCD_RUF_JOBS))
		jobs_running++;
	pthread_mutex_unlock(&jobs_lock);
	if (busy) {
		log_msg(LOG_WARNING, qid, "DMARC failure report for %s not "
		    "sent: %d reports are being sent already", author,
		    DMARCD_RUF_JOBS);
		free(j);
		return 0;
	}
	if (j != NULL && (j->cmd = strdup(cmd)) != NULL &&
	    (j->qid = strdup(qid)) != NULL &&
	    (j->author = strdup(author)) != NULL &&
	    (j->to = strdup(to)) != NULL && pthread_attr_init(&at) == 0) {
		j->m = *m;
		*m = (struct buf)BUF_INIT;
		pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
		rc = pthread_create(&t, &at, job_run, j);
		pthread_attr_destroy(&at);
	}
	if (rc == 0)
		return 1;
	log_msg(LOG_WARNING, qid, "DMARC failure report for %s not sent: "
	    "out of memory or threads", author);
	if (j != NULL)
		job_free(j);
	job_done();
	return 0;
}

/* dmarcd_ruf_limits_new, _free - the per-address rate limits */
struct dmarcd_ruf_limits *
dmarcd_ruf_limits_new(void)
{
	struct dmarcd_ruf_limits *l = calloc(1, sizeof(*l));

	if (l != NULL)
		pthread_mutex_init(&l->lock, NULL);
	return l;
}

void
dmarcd_ruf_limits_free(struct dmarcd_ruf_limits *l)
{
	if (l == NULL)
		return;
	pthread_mutex_destroy(&l->lock);
	free(l);
}

/* allowed_now - 1 when addr may get a report now (and note it) */
static int
allowed_now(struct dmarcd_ruf_limits *l, const char *addr, time_t now)
{
	size_t i, oldest = 0;
	int ok = 1;

	pthread_mutex_lock(&l->lock);
	for (i = 0; i < DMARCD_RUF_ADDRS; i++) {
		if (strcasecmp(l->e[i].addr, addr) == 0) {
			ok = now - l->e[i].last >= DMARCD_RUF_INTERVAL;
			if (ok)
				l->e[i].last = now;
			pthread_mutex_unlock(&l->lock);
			return ok;
		}
		if (l->e[i].last < l->e[oldest].last)
			oldest = i;
	}
	snprintf(l->e[oldest].addr, sizeof(l->e[oldest].addr), "%s", addr);
	l->e[oldest].last = now;
	pthread_mutex_unlock(&l->lock);
	return 1;
}

/* wanted - does the record's fo= ask for a report of this failure? */
static int
wanted(const struct dmarcd_ruf_in *in)
{
	unsigned fo = in->e->found.rec.fo;
	size_t i;

	if (fo == 0 || (fo & (DMARC_FO_0 | DMARC_FO_1)))
		return 1;
	if (fo & DMARC_FO_D)
		for (i = 0; i < in->ndkim; i++)
			if (in->dkim[i] != DMARC_AUTH_PASS)
				return 1;
	return (fo & DMARC_FO_S) && in->spf != DMARC_AUTH_PASS;
}

/* clean - printable ASCII of s, for header fields */
static void
clean(struct buf *b, const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		buf_putc(b, (unsigned char)*s >= 0x20 && *s != 0x7f ? *s : '?');
}

/* destinations - the allowed, not rate-limited ruf addresses */
static void
destinations(const struct dmarcd_conf *c, const struct dmarcd_ruf_in *in,
    struct buf *to)
{
	const char *domain = in->e->found.domain;
	char *list = strdup(in->e->found.rec.ruf), *u, *save = NULL, *at;
	char rd[DMARC_NAME_MAX + 1];
	time_t now = time(NULL);

	for (u = list != NULL ? strtok_r(list, ",", &save) : NULL; u != NULL;
	    u = strtok_r(NULL, ",", &save)) {
		u += strspn(u, " \t");
		u[strcspn(u, " \t!")] = '\0';
		if (strncasecmp(u, "mailto:", 7) != 0)
			continue;
		u += 7;
		if ((at = strrchr(u, '@')) == NULL || strpbrk(u, "\r\n<>\",") ||
		    strlen(u) >= DMARC_NAME_MAX + 72 ||
		    dmarc_domain_alabel(at + 1, rd) < 0)
			continue;
		if (!dmarc_report_allowed(c->dns, &c->dmarc, domain, rd)) {
			log_msg(LOG_INFO, in->qid, "DMARC failure report for "
			    "%s not sent to %s: no %s._report._dmarc.%s",
			    domain, u, domain, rd);
			continue;
		}
		if (!allowed_now(c->ruf_limits, u, now)) {
			log_msg(LOG_INFO, in->qid, "DMARC failure report for "
			    "%s not sent to %s: one in the last %d s", domain,
			    u, DMARCD_RUF_INTERVAL);
			continue;
		}
		buf_printf(to, "%s%s", to->len ? ", " : "", u);
	}
	free(list);
}

/* dmarcd_ruf_send - a failure report, if one is due; 1 when sent */
int
dmarcd_ruf_send(const struct dmarcd_conf *c, const struct dmarcd_ruf_in *in)
{
	const struct dmarc_eval *e = in->e;
	struct buf to = BUF_INIT, m = BUF_INIT;
	char date[64];
	time_t now = time(NULL);
	struct tm tm;
	int sent = 0;

	if (!c->v.failure_reports || e->result != DMARC_RES_FAIL ||
	    e->found.rec.ruf == NULL || c->ruf_limits == NULL ||
	    (e->policy == DMARC_P_NONE && !c->v.failure_reports_none) ||
	    !wanted(in))
		return 0;
	destinations(c, in, &to);
	if (to.len == 0 && c->v.failure_reports_bcc == NULL)
		goto out;
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	buf_puts(&m, "From: ");
	if (c->v.failure_reports_by != NULL)
		clean(&m, c->v.failure_reports_by);
	else
		buf_printf(&m, "postmaster@%s", in->servid);
	buf_printf(&m, "\nTo: %s\n", to.len ? to.s : "undisclosed-recipients:;");
	if (c->v.failure_reports_bcc != NULL) {
		buf_puts(&m, "Bcc: ");
		clean(&m, c->v.failure_reports_bcc);
		buf_putc(&m, '\n');
	}
	buf_printf(&m, "Date: %s\nSubject: DMARC failure report for %s\n"
	    "Message-ID: <ruf.%lld.%s@%s>\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/report; report-type=feedback-report;\n"
	    "\tboundary=\"=_ruf\"\n\n--=_ruf\nContent-Type: text/plain; "
	    "charset=us-ascii\n\nA message claiming to be from %s failed "
	    "DMARC at %s.\n\n--=_ruf\nContent-Type: message/feedback-report"
	    "\n\nFeedback-Type: auth-failure\nUser-Agent: milter-dmarc/%s\n"
	    "Version: 1\n", date, e->found.author, (long long)now, in->qid,
	    in->servid, e->found.author, in->servid, VERSION);
	buf_puts(&m, "Original-Envelope-Id: ");
	clean(&m, in->qid);
	buf_puts(&m, "\nOriginal-Mail-From: <");
	clean(&m, in->mailfrom);
	buf_puts(&m, ">\nSource-IP: ");
	clean(&m, in->ip);
	buf_printf(&m, "\nReported-Domain: %s\nAuth-Failure: dmarc\n"
	    "Authentication-Results: %s; dmarc=fail header.from=%s\n\n"
	    "--=_ruf\nContent-Type: text/rfc822-headers\n\n",
	    e->found.author, in->servid, e->found.author);
	buf_puts(&m, in->headers != NULL ? in->headers : "");
	buf_puts(&m, "\n--=_ruf--\n");
	if (m.failed) {
		log_msg(LOG_WARNING, in->qid, "DMARC failure report for %s not "
		    "sent: out of memory", e->found.author);
		goto out;
	}
	sent = job_start(c->v.report_command, in->qid, e->found.author,
	    to.len ? to.s : "the Bcc", &m);
out:
	buf_free(&to);
	buf_free(&m);
	return sent;
}
