/*
 * NAME
 *	daemon_metrics - the runtime's Prometheus metrics
 * SYNOPSIS
 *	#include "daemon_metrics.h"
 * DESCRIPTION
 *	See daemon_metrics.h.  One registry per process (util/metrics),
 *	made by daemon_metrics_init(); the families are declared there, and
 *	the series whose labels are known in advance (stages, verdicts) are
 *	made there too, so that recording them never takes the registry's
 *	lock.  The protocol engine's counters and the DNS observer's are
 *	read or fed through the same registry.
 *
 *	Families (every name starts with milter_):
 *	build_info{daemon,version}, connections, messages_total{verdict},
 *	refusals_total{step,verdict}, stage_seconds{stage} (histogram),
 *	reloads_total{outcome}, sessions_total, protocol_errors_total,
 *	hangups_total, threads, results_total{method,result},
 *	signatures_total{kind}, dns_queries_total{type,outcome},
 *	dns_query_seconds (histogram).
 * DIAGNOSTICS
 *	daemon_metrics_listen() explains a bad or busy address in err.
 * SEE ALSO
 *	metrics(3), milter-dkim.conf(5) MetricsSocket.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "daemon_metrics.h"
#include "dns.h"
#include "log.h"
#include "metrics.h"
#include "milter.h"

static const double latency_bounds[] = {
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
	0.1, 0.25, 0.5, 1, 2.5, 5, 10
};

static const char *const stage_name[DAEMON_STAGE_N] = {
	[DAEMON_STAGE_CONNECT] = "connect",
	[DAEMON_STAGE_HELO] = "helo",
	[DAEMON_STAGE_MAIL] = "mail",
	[DAEMON_STAGE_RCPT] = "rcpt",
	[DAEMON_STAGE_HEADER] = "header",
	[DAEMON_STAGE_EOH] = "eoh",
	[DAEMON_STAGE_BODY] = "body",
	[DAEMON_STAGE_EOM] = "eom",
	[DAEMON_STAGE_ABORT] = "abort",
};

static struct {
	struct metrics		*reg;
	int			 fd;		/* MetricsSocket, or -1 */
	int			 on;		/* MetricsSocket is set */
	struct metrics_series	*conns;
	struct metrics_series	*stage[DAEMON_STAGE_N];
	struct metrics_family	*messages, *refusals, *reloads, *results;
	struct metrics_family	*signatures, *dns_queries;
	struct metrics_series	*dns_seconds;
	struct metrics_series	*sessions, *errors, *hangups, *threads;
} dm = { .fd = -1 };

/* label1 - "name=\"value\"" with value escaped, into b */
static const char *
label1(struct buf *b, const char *name, const char *value)
{
	buf_reset(b);
	buf_printf(b, "%s=\"", name);
	metrics_label_escape(b, value);
	buf_putc(b, '"');
	return buf_str(b);
}

/* label2 - two labels */
static const char *
label2(struct buf *b, const char *n1, const char *v1, const char *n2,
    const char *v2)
{
	buf_reset(b);
	buf_printf(b, "%s=\"", n1);
	metrics_label_escape(b, v1);
	buf_printf(b, "\",%s=\"", n2);
	metrics_label_escape(b, v2);
	buf_putc(b, '"');
	return buf_str(b);
}

/* collect_engine - the protocol engine's counters, at each scrape */
static void
collect_engine(void *arg)
{
	struct milter_stats st;

	(void)arg;
	milter_stats(&st);
	metrics_set(dm.sessions, (int64_t)st.sessions);
	metrics_set(dm.errors, (int64_t)st.protocol_errors);
	metrics_set(dm.hangups, (int64_t)st.hangups);
	metrics_set(dm.threads, (int64_t)st.threads);
}

/* dns_seen - the DNS layer's observer: one finished query */
static void
dns_seen(const char *type, const char *outcome, double seconds)
{
	struct buf b = BUF_INIT;

	metrics_count(dm.dns_queries, label2(&b, "type", type, "outcome",
	    outcome), 1);
	metrics_observe(dm.dns_seconds, seconds);
	buf_free(&b);
}

/* family - declare one family (a failure only loses that family) */
static struct metrics_family *
family(const char *name, const char *help, enum metrics_type t)
{
	return metrics_family(dm.reg, name, help, t, latency_bounds,
	    t == METRICS_HISTOGRAM ? sizeof(latency_bounds) /
	    sizeof(latency_bounds[0]) : 0);
}

/* daemon_metrics_init - the registry and its families */
void
daemon_metrics_init(const char *daemon, const char *version)
{
	struct metrics_family *f;
	struct buf b = BUF_INIT;
	int i;

	if (dm.reg != NULL || (dm.reg = metrics_new()) == NULL)
		return;
	f = family("milter_build_info", "The daemon and its version.",
	    METRICS_GAUGE);
	metrics_set(metrics_series(f, label2(&b, "daemon", daemon,
	    "version", version)), 1);
	dm.conns = metrics_series(family("milter_connections",
	    "MTA connections open now.", METRICS_GAUGE), NULL);
	dm.messages = family("milter_messages_total", "Messages, by the "
	    "verdict they ended with (aborted: the MTA ended them).",
	    METRICS_COUNTER);
	dm.refusals = family("milter_refusals_total", "Answers other than "
	    "continue at MAIL and RCPT.", METRICS_COUNTER);
	f = family("milter_stage_seconds", "Time the daemon's callback took, "
	    "by milter stage.", METRICS_HISTOGRAM);
	for (i = 0; i < DAEMON_STAGE_N; i++)
		dm.stage[i] = metrics_series(f, label1(&b, "stage",
		    stage_name[i]));
	dm.reloads = family("milter_reloads_total", "Configuration reloads, "
	    "by outcome.", METRICS_COUNTER);
	metrics_series(dm.reloads, "outcome=\"ok\"");
	metrics_series(dm.reloads, "outcome=\"failed\"");
	dm.sessions = metrics_series(family("milter_sessions_total",
	    "MTA connections served.", METRICS_COUNTER), NULL);
	dm.errors = metrics_series(family("milter_protocol_errors_total",
	    "Connections ended by a malformed or unexpected packet.",
	    METRICS_COUNTER), NULL);
	dm.hangups = metrics_series(family("milter_hangups_total",
	    "Connections the MTA closed or let time out without QUIT.",
	    METRICS_COUNTER), NULL);
	dm.threads = metrics_series(family("milter_threads",
	    "Protocol engine threads.", METRICS_GAUGE), NULL);
	dm.results = family("milter_results_total", "Authentication results "
	    "written, by method and result.", METRICS_COUNTER);
	dm.signatures = family("milter_signatures_total", "Signatures made, "
	    "by kind.", METRICS_COUNTER);
	dm.dns_queries = family("milter_dns_queries_total", "DNS queries, by "
	    "record type and outcome.", METRICS_COUNTER);
	dm.dns_seconds = metrics_series(family("milter_dns_query_seconds",
	    "Time DNS queries took.", METRICS_HISTOGRAM), NULL);
	metrics_collector(dm.reg, collect_engine, NULL);
	dns_set_observer(dns_seen);
	buf_free(&b);
}

/* daemon_metrics_listen - open the HTTP socket */
int
daemon_metrics_listen(const char *spec, struct buf *err)
{
	struct daemon_sock s;
	struct addrinfo hints, *res = NULL;
	char port[16];
	int fd = -1, on = 1, r;

	if (daemon_conf_socket(spec, &s, err) < 0)
		return -1;
	if (s.family == DAEMON_SOCK_UNIX) {
		buf_printf(err, "MetricsSocket %s: give an inet: or inet6: "
		    "address, which a scraper can reach", spec);
		return -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = s.family == DAEMON_SOCK_INET ? AF_INET : AF_INET6;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%u", s.port);
	if ((r = getaddrinfo(s.host[0] != '\0' ? s.host : NULL, port, &hints,
	    &res)) != 0) {
		buf_printf(err, "MetricsSocket %s: %s", spec, gai_strerror(r));
		return -1;
	}
	if ((fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0 ||
	    bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 16) < 0) {
		buf_printf(err, "MetricsSocket %s: %s", spec, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return -1;
	if (dm.fd >= 0)
		close(dm.fd);
	dm.fd = fd;
	dm.on = 1;
	return 0;
}

/* daemon_metrics_enabled - MetricsSocket is served */
int
daemon_metrics_enabled(void)
{
	return dm.on && dm.reg != NULL;
}

/* daemon_metrics_start - serve the socket from the registry's thread */
void
daemon_metrics_start(void)
{
	if (dm.fd < 0 || dm.reg == NULL)
		return;
	if (metrics_serve(dm.reg, dm.fd) < 0) {
		log_warn("MetricsSocket: cannot start serving");
		close(dm.fd);
	}
	dm.fd = -1;		/* the registry's now */
}

/* daemon_metrics_stop - stop serving, free everything */
void
daemon_metrics_stop(void)
{
	dns_set_observer(NULL);
	dm.on = 0;
	metrics_free(dm.reg);
	dm.reg = NULL;
	if (dm.fd >= 0)
		close(dm.fd);
	dm.fd = -1;
}

/* daemon_metrics_conn - connections open */
void
daemon_metrics_conn(int delta)
{
	metrics_add(dm.conns, delta);
}

/* daemon_metrics_stage - a callback's time */
void
daemon_metrics_stage(enum daemon_stage st, const struct timespec *t0)
{
	struct timespec t1;

	if (dm.reg == NULL || st >= DAEMON_STAGE_N)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	metrics_observe(dm.stage[st], (double)(t1.tv_sec - t0->tv_sec) +
	    (double)(t1.tv_nsec - t0->tv_nsec) / 1e9);
}

/* daemon_metrics_message - a message's end */
void
daemon_metrics_message(const char *verdict)
{
	struct buf b = BUF_INIT;

	if (dm.reg != NULL)
		metrics_count(dm.messages, label1(&b, "verdict", verdict), 1);
	buf_free(&b);
}

/* daemon_metrics_refusal - a refusal at MAIL or RCPT */
void
daemon_metrics_refusal(const char *step, const char *verdict)
{
	struct buf b = BUF_INIT;

	if (dm.reg != NULL)
		metrics_count(dm.refusals, label2(&b, "step", step, "verdict",
		    verdict), 1);
	buf_free(&b);
}

/* daemon_metrics_reload - a reload's outcome */
void
daemon_metrics_reload(int ok)
{
	if (dm.reg != NULL)
		metrics_count(dm.reloads, ok ? "outcome=\"ok\"" :
		    "outcome=\"failed\"", 1);
}

/* daemon_metrics_result - an authentication result */
void
daemon_metrics_result(const char *method, const char *result)
{
	struct buf b = BUF_INIT;

	if (dm.reg != NULL)
		metrics_count(dm.results, label2(&b, "method", method,
		    "result", result), 1);
	buf_free(&b);
}

/* daemon_metrics_signature - a signature made */
void
daemon_metrics_signature(const char *kind)
{
	struct buf b = BUF_INIT;

	if (dm.reg != NULL)
		metrics_count(dm.signatures, label1(&b, "kind", kind), 1);
	buf_free(&b);
}
