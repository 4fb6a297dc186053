/*
 * NAME
 *	histbench - milter-dmarc's history writer at a sustained rate
 * SYNOPSIS
 *	histbench [-s sqlite-path | -p pg-conninfo] [-r rows/s] [-t seconds]
 * DESCRIPTION
 *	Hands rows to dmarcd_hist_put(), the call the milter makes for each
 *	evaluated message, at the given rate (5000) for the given time (10),
 *	in steps of 1 ms, with realistic values (a few hundred domains and
 *	thousands of source addresses, one or two DKIM results).  Prints one
 *	line of figures:
 *
 *	    offered N rows/s, written W rows/s while offering (W of N),
 *	    dropped D, backlog at the end B rows, drained in T ms,
 *	    put p50 X us p99 Y us max Z us
 *
 *	"written while offering" counts the rows in the database when the
 *	offering ends: the writer keeps up when it is close to N.  The put
 *	times are what the milter waits: they must stay in microseconds
 *	whatever the database does.
 * EXIT STATUS
 *	0 when every row was written and none dropped, 1 otherwise, 2 on
 *	usage errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../milter-dmarc/dmarcd_hist.h"

/* now_ns - the monotonic clock in nanoseconds */
static long long
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* row - the n-th row: a domain of 300, an address of 5000 */
static void
row(struct dmarcd_hist_row *r, unsigned long n, time_t now)
{
	unsigned d = (unsigned)(n * 2654435761u % 300), a =
	    (unsigned)(n * 40503u % 5000);

	memset(r, 0, sizeof(*r));
	r->received = now;
	snprintf(r->qid, sizeof(r->qid), "Q%08lX", n);
	snprintf(r->reporter, sizeof(r->reporter), "mx.bench.test");
	snprintf(r->ip, sizeof(r->ip), "198.51.%u.%u", a / 250, a % 250 + 1);
	snprintf(r->from, sizeof(r->from), "sender%u.example", d);
	snprintf(r->mfrom, sizeof(r->mfrom), "sender%u.example", d);
	snprintf(r->pdomain, sizeof(r->pdomain), "sender%u.example", d);
	r->has_record = 1;
	r->p = r->sp = r->np = r->applied = DMARC_P_REJECT;
	r->pct = 100;
	snprintf(r->rua, sizeof(r->rua), "mailto:dmarc@sender%u.example", d);
	snprintf(r->spf_domain, sizeof(r->spf_domain), "sender%u.example", d);
	r->spf = n % 10 ? DMARC_AUTH_PASS : DMARC_AUTH_FAIL;
	r->nsig = 1 + n % 2;
	snprintf(r->sig[0].domain, sizeof(r->sig[0].domain),
	    "sender%u.example", d);
	snprintf(r->sig[0].selector, sizeof(r->sig[0].selector), "s1");
	r->sig[0].result = n % 7 ? DMARC_AUTH_PASS : DMARC_AUTH_FAIL;
	r->sig[0].aligned = 1;
	snprintf(r->sig[1].domain, sizeof(r->sig[1].domain), "esp.example");
	snprintf(r->sig[1].selector, sizeof(r->sig[1].selector), "k2");
	r->sig[1].result = DMARC_AUTH_PASS;
	r->dkim_aligned = r->sig[0].result == DMARC_AUTH_PASS;
	r->spf_aligned = r->spf == DMARC_AUTH_PASS;
	r->result = r->dkim_aligned || r->spf_aligned ? DMARC_RES_PASS :
	    DMARC_RES_FAIL;
	r->dis = r->result == DMARC_RES_PASS ? DMARC_DIS_NONE :
	    DMARC_DIS_REJECT;
	r->action = r->result == DMARC_RES_PASS ? DMARCD_ACT_ACCEPT :
	    DMARCD_ACT_REJECT;
}

static int
cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	const char *sqlite = NULL, *pg = NULL;
	struct dmarcd_hist *h;
	struct dmarcd_hist_row r;
	unsigned long rate = 5000, secs = 10, total, n = 0, due, w_end,
	    written, dropped, failures;
	long long t0, t, t1, *lat;
	struct timespec step = { 0, 1000000 };
	int c;

	while ((c = getopt(argc, argv, "s:p:r:t:")) != -1) {
		switch (c) {
		case 's': sqlite = optarg; break;
		case 'p': pg = optarg; break;
		case 'r': rate = strtoul(optarg, NULL, 10); break;
		case 't': secs = strtoul(optarg, NULL, 10); break;
		default: goto usage;
		}
	}
	if ((sqlite == NULL) == (pg == NULL) || rate == 0 || secs == 0 ||
	    rate > 1000000 || secs > 3600)
		goto usage;
	total = rate * secs;
	if ((lat = calloc(total, sizeof(*lat))) == NULL ||
	    (h = dmarcd_hist_new(sqlite, pg, NULL, DMARCD_HIST_QUEUE)) == NULL) {
		fprintf(stderr, "histbench: out of memory\n");
		return 1;
	}
	/* the first row opens (creates, migrates) the database: not timed */
	row(&r, total, time(NULL));
	dmarcd_hist_put(h, &r);
	if (dmarcd_hist_flush(h, 30000) < 0) {
		fprintf(stderr, "histbench: the database does not take a row\n");
		return 1;
	}
	t0 = now_ns();
	while (n < total) {
		due = (unsigned long)((now_ns() - t0) * (double)rate / 1e9);
		if (due > total)
			due = total;
		for (; n < due; n++) {
			row(&r, n, time(NULL));
			t = now_ns();
			dmarcd_hist_put(h, &r);
			lat[n] = now_ns() - t;
		}
		nanosleep(&step, NULL);
	}
	t1 = now_ns();
	dmarcd_hist_stats(h, &w_end, &dropped, &failures);
	c = dmarcd_hist_flush(h, 60000);
	dmarcd_hist_stats(h, &written, &dropped, &failures);
	qsort(lat, total, sizeof(*lat), cmp_ll);
	/* the untimed first row is among the written ones */
	w_end = w_end > 0 ? w_end - 1 : 0;
	written = written > 0 ? written - 1 : 0;
	printf("offered %.0f rows/s, written %.0f rows/s while offering "
	    "(%lu of %lu), dropped %lu, write failures %lu, backlog at the "
	    "end %lu rows, drained in %.0f ms, put p50 %.1f us p99 %.1f us "
	    "max %.1f us\n", total / ((t1 - t0) / 1e9), w_end / ((t1 - t0) /
	    1e9), w_end, total, dropped, failures, total - w_end,
	    (now_ns() - t1) / 1e6, lat[total / 2] / 1e3,
	    lat[total * 99 / 100] / 1e3, lat[total - 1] / 1e3);
	dmarcd_hist_free(h);
	free(lat);
	return c == 0 && written == total && dropped == 0 ? 0 : 1;
usage:
	fprintf(stderr, "usage: histbench -s sqlite-path | -p pg-conninfo "
	    "[-r rows/s] [-t seconds]\n");
	return 2;
}
