/*
 * NAME
 *	metrics - counters, gauges and histograms in Prometheus text format
 * SYNOPSIS
 *	#include "metrics.h"
 * DESCRIPTION
 *	See metrics.h.  Values live in atomics so that recording never
 *	takes a lock once a series exists; a histogram's sum is a double
 *	updated by compare-and-swap on its bits.  The registry's mutex
 *	guards the lists of families and series, which only grow.
 *
 *	The HTTP side is the least a scraper needs: one request per
 *	connection, read up to METRICS_REQUEST_MAX bytes or the blank line,
 *	GET or HEAD of /metrics or /, an answer, close.  Each connection
 *	has METRICS_IO_TIMEOUT_MS to send its request, so a client that
 *	hangs holds the thread no longer than that.
 * DIAGNOSTICS
 *	A caller's misuse (bad name, unsorted bounds) returns NULL.  Errors
 *	of the HTTP side only end that connection.
 */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "buf.h"
#include "metrics.h"

struct metrics_series {
	const struct metrics_family *family;
	char			*labels;	/* "" when none */
	_Atomic int64_t		 value;		/* counter, gauge */
	_Atomic uint64_t	 count;		/* histogram observations */
	_Atomic uint64_t	 sum_bits;	/* histogram sum, a double */
	_Atomic uint64_t	 buckets[METRICS_BUCKETS_MAX];
};

struct metrics_family {
	struct metrics		*reg;
	char			*name;
	char			*help;
	enum metrics_type	 type;
	double			 bounds[METRICS_BUCKETS_MAX];
	size_t			 nbounds;
	struct metrics_series	*series[METRICS_SERIES_MAX];
	size_t			 nseries;
	struct metrics_family	*next;
};

struct metrics {
	pthread_mutex_t		 lock;
	struct metrics_family	*first, **tail;
	_Atomic int64_t		 dropped;	/* series refused: family full */
	struct {
		void		(*fn)(void *);
		void		*arg;
	}			 collect[METRICS_COLLECTORS_MAX];
	size_t			 ncollect;
	int			 fd;		/* listening socket, or -1 */
	int			 wake[2];	/* stop pipe */
	pthread_t		 thread;
	int			 serving;
};

/* metrics_new - an empty registry */
struct metrics *
metrics_new(void)
{
	struct metrics *m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	pthread_mutex_init(&m->lock, NULL);
	m->tail = &m->first;
	m->fd = m->wake[0] = m->wake[1] = -1;
	return m;
}

/* series_free - one series */
static void
series_free(struct metrics_series *s)
{
	free(s->labels);
	free(s);
}

/* metrics_free - everything the registry holds */
void
metrics_free(struct metrics *m)
{
	struct metrics_family *f, *next;
	size_t i;

	if (m == NULL)
		return;
	metrics_stop(m);
	for (f = m->first; f != NULL; f = next) {
		next = f->next;
		for (i = 0; i < f->nseries; i++)
			series_free(f->series[i]);
		free(f->name);
		free(f->help);
		free(f);
	}
	pthread_mutex_destroy(&m->lock);
	free(m);
}

/* valid_name - [a-zA-Z_:][a-zA-Z0-9_:]* */
static int
valid_name(const char *s)
{
	const char *p;

	if (s == NULL || *s == '\0' || (*s >= '0' && *s <= '9'))
		return 0;
	for (p = s; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '_' || *p == ':'))
			return 0;
	return 1;
}

/* metrics_family - declare a family */
struct metrics_family *
metrics_family(struct metrics *m, const char *name, const char *help,
    enum metrics_type type, const double *bounds, size_t nbounds)
{
	struct metrics_family *f;
	size_t i;

	if (m == NULL || !valid_name(name))
		return NULL;
	if (type == METRICS_HISTOGRAM) {
		if (bounds == NULL || nbounds == 0 ||
		    nbounds > METRICS_BUCKETS_MAX)
			return NULL;
		for (i = 1; i < nbounds; i++)
			if (!(bounds[i - 1] < bounds[i]))
				return NULL;
	} else
		nbounds = 0;
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	f->reg = m;
	f->type = type;
	f->nbounds = nbounds;
	if (nbounds > 0)
		memcpy(f->bounds, bounds, nbounds * sizeof(*bounds));
	if ((f->name = strdup(name)) == NULL ||
	    (f->help = strdup(help != NULL ? help : "")) == NULL) {
		free(f->name);
		free(f);
		return NULL;
	}
	pthread_mutex_lock(&m->lock);
	*m->tail = f;
	m->tail = &f->next;
	pthread_mutex_unlock(&m->lock);
	return f;
}

/* metrics_series - find or make the series with these labels */
struct metrics_series *
metrics_series(struct metrics_family *f, const char *labels)
{
	struct metrics_series *s = NULL;
	size_t i;

	if (f == NULL)
		return NULL;
	if (labels == NULL)
		labels = "";
	if (strlen(labels) > METRICS_LABELS_MAX)
		return NULL;
	pthread_mutex_lock(&f->reg->lock);
	for (i = 0; i < f->nseries; i++)
		if (strcmp(f->series[i]->labels, labels) == 0) {
			s = f->series[i];
			goto out;
		}
	if (f->nseries == METRICS_SERIES_MAX) {
		atomic_fetch_add(&f->reg->dropped, 1);
		goto out;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		goto out;
	s->family = f;
	if ((s->labels = strdup(labels)) == NULL) {
		free(s);
		s = NULL;
		goto out;
	}
	f->series[f->nseries++] = s;
out:
	pthread_mutex_unlock(&f->reg->lock);
	return s;
}

/* metrics_add - add to a counter or gauge */
void
metrics_add(struct metrics_series *s, int64_t n)
{
	if (s == NULL || (n < 0 && s->family->type == METRICS_COUNTER))
		return;
	atomic_fetch_add(&s->value, n);
}

/* metrics_set - set a gauge */
void
metrics_set(struct metrics_series *s, int64_t v)
{
	if (s != NULL)
		atomic_store(&s->value, v);
}

/* bits_double, double_bits - a double through its bits */
static double
bits_double(uint64_t u)
{
	double d;

	memcpy(&d, &u, sizeof(d));
	return d;
}

static uint64_t
double_bits(double d)
{
	uint64_t u;

	memcpy(&u, &d, sizeof(u));
	return u;
}

/* metrics_observe - one value into a histogram series: the first
 * bucket whose bound is at least v (none: only +Inf, from count) */
void
metrics_observe(struct metrics_series *s, double v)
{
	uint64_t old, new;
	size_t i;

	if (s == NULL || isnan(v))
		return;
	for (i = 0; i < s->family->nbounds; i++)
		if (v <= s->family->bounds[i]) {
			atomic_fetch_add(&s->buckets[i], 1);
			break;
		}
	old = atomic_load(&s->sum_bits);
	do
		new = double_bits(bits_double(old) + v);
	while (!atomic_compare_exchange_weak(&s->sum_bits, &old, new));
	atomic_fetch_add(&s->count, 1);
}

/* metrics_count - add n to the series with these labels */
void
metrics_count(struct metrics_family *f, const char *labels, int64_t n)
{
	metrics_add(metrics_series(f, labels), n);
}

/* metrics_label_escape - a label value as the text format wants it */
void
metrics_label_escape(struct buf *b, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			buf_putc(b, '\\');
		if (*v == '\n')
			buf_puts(b, "\\n");
		else
			buf_putc(b, *v);
	}
}

/* help_escape - a HELP line's text: backslash and newline escaped */
static void
help_escape(struct buf *b, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\')
			buf_puts(b, "\\\\");
		else if (*v == '\n')
			buf_puts(b, "\\n");
		else
			buf_putc(b, *v);
	}
}

/* put_double - a sample value: integers plainly, +Inf as such, others
 * in the fewest digits that read back as the same double */
static void
put_double(struct buf *b, double d)
{
	char s[32];

	if (isinf(d))
		buf_puts(b, d > 0 ? "+Inf" : "-Inf");
	else if (d == (double)(int64_t)d && fabs(d) < 1e15)
		buf_printf(b, "%lld", (long long)d);
	else {
		snprintf(s, sizeof(s), "%.15g", d);
		if (strtod(s, NULL) != d)
			snprintf(s, sizeof(s), "%.17g", d);
		buf_puts(b, s);
	}
}

/* render_bucket - one _bucket line, le= joined to the series' labels */
static void
render_bucket(struct buf *b, const struct metrics_family *f,
    const struct metrics_series *s, double le, uint64_t n)
{
	buf_printf(b, "%s_bucket{%s%sle=\"", f->name, s->labels,
	    *s->labels != '\0' ? "," : "");
	put_double(b, le);
	buf_printf(b, "\"} %llu\n", (unsigned long long)n);
}

/* render_series - the sample lines of one series */
static void
render_series(struct buf *b, const struct metrics_family *f,
    const struct metrics_series *s)
{
	const char *open = *s->labels != '\0' ? "{" : "";
	const char *close = *s->labels != '\0' ? "}" : "";
	uint64_t cum = 0, count;
	size_t i;

	if (f->type != METRICS_HISTOGRAM) {
		buf_printf(b, "%s%s%s%s %lld\n", f->name, open, s->labels,
		    close, (long long)atomic_load(&s->value));
		return;
	}
	count = atomic_load(&s->count);
	for (i = 0; i < f->nbounds; i++) {
		cum += atomic_load(&s->buckets[i]);
		/* a concurrent observation may have reached its bucket but
		 * not yet count: never let a bucket exceed +Inf */
		render_bucket(b, f, s, f->bounds[i], cum < count ? cum : count);
	}
	render_bucket(b, f, s, INFINITY, count > cum ? count : cum);
	buf_printf(b, "%s_sum%s%s%s ", f->name, open, s->labels, close);
	put_double(b, bits_double(atomic_load(&s->sum_bits)));
	buf_printf(b, "\n%s_count%s%s%s %llu\n", f->name, open, s->labels,
	    close, (unsigned long long)(count > cum ? count : cum));
}

/* metrics_collector - a callback run before each render */
int
metrics_collector(struct metrics *m, void (*fn)(void *), void *arg)
{
	int r = -1;

	pthread_mutex_lock(&m->lock);
	if (m->ncollect < METRICS_COLLECTORS_MAX) {
		m->collect[m->ncollect].fn = fn;
		m->collect[m->ncollect++].arg = arg;
		r = 0;
	}
	pthread_mutex_unlock(&m->lock);
	return r;
}

/* metrics_render - the exposition text of every family */
void
metrics_render(struct metrics *m, struct buf *out)
{
	static const char *const type_name[] = {
		[METRICS_COUNTER] = "counter",
		[METRICS_GAUGE] = "gauge",
		[METRICS_HISTOGRAM] = "histogram",
	};
	const struct metrics_family *f;
	size_t i, n;

	pthread_mutex_lock(&m->lock);
	n = m->ncollect;
	pthread_mutex_unlock(&m->lock);
	for (i = 0; i < n; i++)		/* they may make series: unlocked */
		m->collect[i].fn(m->collect[i].arg);
	pthread_mutex_lock(&m->lock);
	for (f = m->first; f != NULL; f = f->next) {
		buf_printf(out, "# HELP %s ", f->name);
		help_escape(out, f->help);
		buf_printf(out, "\n# TYPE %s %s\n", f->name,
		    type_name[f->type]);
		for (i = 0; i < f->nseries; i++)
			render_series(out, f, f->series[i]);
	}
	buf_printf(out, "# HELP metrics_dropped_series_total Label sets not "
	    "recorded because their family was full.\n"
	    "# TYPE metrics_dropped_series_total counter\n"
	    "metrics_dropped_series_total %lld\n",
	    (long long)atomic_load(&m->dropped));
	pthread_mutex_unlock(&m->lock);
}

/* read_request - the request head, up to the blank line; -1 on error */
static int
read_request(int fd, struct buf *req)
{
	char chunk[1024];
	ssize_t n;

	while (req->len < METRICS_REQUEST_MAX) {
		if ((n = read(fd, chunk, sizeof(chunk))) <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			return -1;
		}
		if (buf_append(req, chunk, (size_t)n) != 0)
			return -1;
		if (strstr(req->s, "\r\n\r\n") != NULL ||
		    strstr(req->s, "\n\n") != NULL)
			return 0;
	}
	return -1;
}

/* write_all - the whole buffer, or -1 */
static int
write_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = send(fd, p, len, MSG_NOSIGNAL)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* answer - one HTTP exchange on a connected socket */
static void
answer(struct metrics *m, int fd)
{
	struct buf req = BUF_INIT, body = BUF_INIT, head = BUF_INIT;
	struct timeval tv = { METRICS_IO_TIMEOUT_MS / 1000,
	    (METRICS_IO_TIMEOUT_MS % 1000) * 1000 };
	const char *status = "200 OK", *type = "text/plain; version=0.0.4; "
	    "charset=utf-8";
	int head_only = 0;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (read_request(fd, &req) != 0)
		goto out;
	if (strncmp(req.s, "HEAD ", 5) == 0)
		head_only = 1;
	else if (strncmp(req.s, "GET ", 4) != 0) {
		status = "405 Method Not Allowed";
		goto reply;
	}
	if (strncmp(req.s + (head_only ? 5 : 4), "/metrics ", 9) != 0 &&
	    strncmp(req.s + (head_only ? 5 : 4), "/metrics?", 9) != 0 &&
	    strncmp(req.s + (head_only ? 5 : 4), "/ ", 2) != 0) {
		status = "404 Not Found";
		goto reply;
	}
	metrics_render(m, &body);
reply:
	if (strncmp(status, "200", 3) != 0) {
		type = "text/plain; charset=utf-8";
		buf_printf(&body, "%s\n", status);
	}
	if (body.failed)
		goto out;
	buf_printf(&head, "HTTP/1.0 %s\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n\r\n", status,
	    type, body.len);
	if (head.failed || write_all(fd, head.s, head.len) != 0)
		goto out;
	if (!head_only && body.len > 0)
		write_all(fd, body.s, body.len);
out:
	buf_free(&req);
	buf_free(&body);
	buf_free(&head);
}

/* serve - the HTTP thread: accept until the stop pipe is written */
static void *
serve(void *arg)
{
	struct metrics *m = arg;
	struct pollfd p[2];
	int c;

	for (;;) {
		p[0].fd = m->fd;
		p[0].events = POLLIN;
		p[1].fd = m->wake[0];
		p[1].events = POLLIN;
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents != 0)
			break;
		if ((p[0].revents & POLLIN) == 0)
			continue;
		if ((c = accept(m->fd, NULL, NULL)) < 0) {
			if (errno == EMFILE || errno == ENFILE)
				poll(NULL, 0, 100);
			continue;
		}
		answer(m, c);
		close(c);
	}
	return NULL;
}

/* metrics_serve - answer HTTP on fd from a thread of the registry's */
int
metrics_serve(struct metrics *m, int fd)
{
	int e;

	if (m->serving) {
		errno = EBUSY;
		return -1;
	}
	if (pipe(m->wake) != 0)
		return -1;
	m->fd = fd;
	if ((e = pthread_create(&m->thread, NULL, serve, m)) != 0) {
		close(m->wake[0]);
		close(m->wake[1]);
		m->wake[0] = m->wake[1] = m->fd = -1;
		errno = e;
		return -1;
	}
	m->serving = 1;
	return 0;
}

/* metrics_stop - end the HTTP thread, close its sockets */
void
metrics_stop(struct metrics *m)
{
	if (m == NULL || !m->serving)
		return;
	(void)!write(m->wake[1], "x", 1);
	pthread_join(m->thread, NULL);
	close(m->wake[0]);
	close(m->wake[1]);
	close(m->fd);
	m->wake[0] = m->wake[1] = m->fd = -1;
	m->serving = 0;
}
