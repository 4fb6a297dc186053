/*
 * metrics.h - counters, gauges and histograms in Prometheus text format
 *
 * A registry holds metric families (a name, a help line, a type, and for
 * a histogram its bucket bounds), each with series told apart by their
 * labels.  Families are declared once, before any thread records into
 * them; series are made on first use.  Recording is lock-free (atomic
 * adds) once a series exists; finding or making one takes the registry's
 * lock.  metrics_render() writes the text exposition format (version
 * 0.0.4), families in declaration order, series in creation order.
 *
 * metrics_serve() answers HTTP GET requests for that text on a listening
 * socket the caller opened, from a thread of its own, one short
 * connection at a time (Connection: close); metrics_stop() ends it.
 *
 * Memory: the registry owns its families and series; nothing is freed
 * before metrics_free().  A family holds at most METRICS_SERIES_MAX
 * series; past that, recording into a new label set is dropped and
 * counted in metrics_dropped_series_total, so a label fed from outside
 * input cannot grow memory without bound.
 */
#ifndef COMMON_METRICS_H
#define COMMON_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define METRICS_SERIES_MAX	256	/* label sets per family */
#define METRICS_BUCKETS_MAX	16	/* histogram bounds per family */
#define METRICS_LABELS_MAX	256	/* bytes of one label set */
#define METRICS_REQUEST_MAX	8192	/* bytes of one HTTP request */
#define METRICS_IO_TIMEOUT_MS	2000	/* per HTTP connection */
#define METRICS_COLLECTORS_MAX	8	/* render-time callbacks */

enum metrics_type {
	METRICS_COUNTER,
	METRICS_GAUGE,
	METRICS_HISTOGRAM,
};

struct metrics;
struct metrics_family;
struct metrics_series;

/* metrics_new - an empty registry; NULL when out of memory */
struct metrics *metrics_new(void);
/* metrics_free - the registry, its families and series; stops serving */
void	 metrics_free(struct metrics *);

/*
 * metrics_family - declare a family; bounds (ascending, at most
 * METRICS_BUCKETS_MAX) only for a histogram.  NULL when out of memory or
 * when the arguments are wrong (a caller bug: the name is not a valid
 * metric name, or the bounds are missing or unsorted).
 */
struct metrics_family *metrics_family(struct metrics *, const char *name,
	    const char *help, enum metrics_type, const double *bounds,
	    size_t nbounds);

/*
 * metrics_series - the series of a family with these labels, made on
 * first use.  labels is the text between the braces, e.g.
 * "verdict=\"accept\"", or NULL/"" for none; label values must already
 * be escaped (metrics_label_escape).  NULL when the family is full or
 * out of memory; recording into NULL does nothing.
 */
struct metrics_series *metrics_series(struct metrics_family *,
	    const char *labels);

/* metrics_add - add to a counter or a gauge (a counter ignores n < 0) */
void	 metrics_add(struct metrics_series *, int64_t n);
/* metrics_set - set a gauge */
void	 metrics_set(struct metrics_series *, int64_t v);
/* metrics_observe - record one value in a histogram */
void	 metrics_observe(struct metrics_series *, double v);
/* metrics_count - metrics_add(metrics_series(f, labels), n) */
void	 metrics_count(struct metrics_family *, const char *labels,
	    int64_t n);

/* metrics_label_escape - append v escaped for a label value (\\ \" \n) */
void	 metrics_label_escape(struct buf *, const char *v);

/* metrics_collector - fn(arg) runs at the start of every render, to set
 * gauges and counters read from elsewhere (at most METRICS_COLLECTORS_MAX;
 * -1 past that) */
int	 metrics_collector(struct metrics *, void (*fn)(void *), void *arg);

/* metrics_render - append the exposition text of every family */
void	 metrics_render(struct metrics *, struct buf *out);

/*
 * metrics_serve - answer HTTP on the listening socket fd (which the
 * registry then owns) from a new thread; -1 with errno when the thread
 * cannot start.  metrics_stop - stop serving, close the socket, wait
 * for the thread.
 */
int	 metrics_serve(struct metrics *, int fd);
void	 metrics_stop(struct metrics *);

#endif
