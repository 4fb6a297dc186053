/*
 * daemon_metrics.h - the runtime's Prometheus metrics (MetricsSocket)
 *
 * The runtime records, for every daemon: connections open, messages by
 * the verdict they ended with, answers other than "go on" at MAIL and
 * RCPT, the time each milter stage's callback took, reloads and their
 * outcome, and the protocol engine's sessions and protocol errors.  A
 * daemon adds its authentication results (daemon_metrics_result) and
 * the signatures it makes (daemon_metrics_signature).  The DNS layer's
 * queries and their latency come through dns_set_observer().
 *
 * Recording is cheap and lock-free once a series exists, and does
 * nothing before daemon_metrics_init(); serving is off unless
 * MetricsSocket names an address.  The listening socket is opened by
 * daemon_metrics_listen() before privileges are dropped, and served from
 * a thread started by daemon_metrics_start() after the process has
 * detached.
 */
#ifndef COMMON_DAEMON_METRICS_H
#define COMMON_DAEMON_METRICS_H

#include <time.h>

#include "buf.h"

/* The milter stages whose callback latency is recorded. */
enum daemon_stage {
	DAEMON_STAGE_CONNECT,
	DAEMON_STAGE_HELO,
	DAEMON_STAGE_MAIL,
	DAEMON_STAGE_RCPT,
	DAEMON_STAGE_HEADER,
	DAEMON_STAGE_EOH,
	DAEMON_STAGE_BODY,
	DAEMON_STAGE_EOM,
	DAEMON_STAGE_ABORT,
	DAEMON_STAGE_N
};

/* daemon_metrics_init - make the registry (once, from the main thread) */
void	daemon_metrics_init(const char *daemon, const char *version);
/* daemon_metrics_listen - open spec (inet:PORT@ADDR or inet6:...) for
 * HTTP; -1 with err set */
int	daemon_metrics_listen(const char *spec, struct buf *err);
/* daemon_metrics_start - serve the socket opened by _listen, if any */
void	daemon_metrics_start(void);
/* daemon_metrics_stop - stop serving and free the registry */
void	daemon_metrics_stop(void);

/* daemon_metrics_enabled - whether MetricsSocket is served (to skip
 * work whose only use is a metric) */
int	daemon_metrics_enabled(void);
/* daemon_metrics_conn - a connection opened (+1) or closed (-1) */
void	daemon_metrics_conn(int delta);
/* daemon_metrics_stage - a stage's callback took from t0 to now */
void	daemon_metrics_stage(enum daemon_stage, const struct timespec *t0);
/* daemon_metrics_message - a message ended with this verdict
 * ("continue", "accept", "reject", "tempfail", "discard", "aborted") */
void	daemon_metrics_message(const char *verdict);
/* daemon_metrics_refusal - a refusal at MAIL or RCPT ("mail", "rcpt") */
void	daemon_metrics_refusal(const char *step, const char *verdict);
/* daemon_metrics_reload - a reload succeeded (1) or failed (0) */
void	daemon_metrics_reload(int ok);
/* daemon_metrics_result - an authentication result written, e.g.
 * ("dkim", "pass"); both words must come from a fixed set, not from
 * the message */
void	daemon_metrics_result(const char *method, const char *result);
/* daemon_metrics_signature - a signature (DKIM, ARC seal) was made */
void	daemon_metrics_signature(const char *kind);

#endif
