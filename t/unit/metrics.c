/*
 * metrics - the registry renders the Prometheus text format, histograms
 * are cumulative, series are bounded, recording is safe across threads,
 * and the HTTP side answers GET, refuses the rest and stops on demand
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "metrics.h"
#include "tap.h"

#define THREADS	4
#define ROUNDS	20000

static struct metrics_series *shared_counter, *shared_hist;
static int collected;

/* collect - a render-time callback */
static void
collect(void *arg)
{
	metrics_set(arg, 42);
	collected++;
}

/* hammer - record from several threads at once */
static void *
hammer(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < ROUNDS; i++) {
		metrics_add(shared_counter, 1);
		metrics_observe(shared_hist, (i % 3) * 0.01);
	}
	return NULL;
}

/* get - one HTTP request to 127.0.0.1:port, the whole answer in out */
static int
get(unsigned port, const char *request, struct buf *out)
{
	struct sockaddr_in sin;
	char chunk[4096];
	ssize_t n;
	int fd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    write(fd, request, strlen(request)) < 0) {
		close(fd);
		return -1;
	}
	shutdown(fd, SHUT_WR);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		buf_append(out, chunk, (size_t)n);
	close(fd);
	return 0;
}

/* listen_any - a listening socket on a free loopback port */
static int
listen_any(unsigned *port)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    listen(fd, 8) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) != 0)
		return -1;
	*port = ntohs(sin.sin_port);
	return fd;
}

int
main(void)
{
	static const double bounds[] = { 0.001, 0.01, 0.1 };
	static const double unsorted[] = { 0.1, 0.01 };
	struct metrics *m = metrics_new();
	struct metrics_family *msgs, *conns, *lat, *big;
	struct buf b = BUF_INIT, labels = BUF_INIT;
	pthread_t t[THREADS];
	unsigned port = 0;
	int i, fd;
	char name[64];

	ok(m != NULL, "a registry is made");
	ok(metrics_family(m, "9bad", "x", METRICS_COUNTER, NULL, 0) == NULL,
	    "a name starting with a digit is refused");
	ok(metrics_family(m, "bad-name", "x", METRICS_COUNTER, NULL, 0) ==
	    NULL, "a name with a dash is refused");
	ok(metrics_family(m, "h", "x", METRICS_HISTOGRAM, unsorted, 2) ==
	    NULL, "unsorted histogram bounds are refused");
	ok(metrics_family(m, "h", "x", METRICS_HISTOGRAM, NULL, 0) == NULL,
	    "a histogram without bounds is refused");

	msgs = metrics_family(m, "milter_messages_total",
	    "Messages by verdict.\nSecond line \\ here.", METRICS_COUNTER,
	    NULL, 0);
	conns = metrics_family(m, "milter_connections", "Open connections.",
	    METRICS_GAUGE, NULL, 0);
	lat = metrics_family(m, "milter_stage_seconds", "Stage latency.",
	    METRICS_HISTOGRAM, bounds, 3);
	ok(msgs != NULL && conns != NULL && lat != NULL, "families declared");

	metrics_count(msgs, "verdict=\"accept\"", 2);
	metrics_count(msgs, "verdict=\"reject\"", 1);
	metrics_count(msgs, "verdict=\"accept\"", 3);
	metrics_add(metrics_series(conns, NULL), 5);
	metrics_add(metrics_series(conns, NULL), -2);
	metrics_add(metrics_series(msgs, "verdict=\"accept\""), -7);
	metrics_observe(metrics_series(lat, "stage=\"eom\""), 0.0005);
	metrics_observe(metrics_series(lat, "stage=\"eom\""), 0.05);
	metrics_observe(metrics_series(lat, "stage=\"eom\""), 0.05);
	metrics_observe(metrics_series(lat, "stage=\"eom\""), 3.0);
	metrics_render(m, &b);
	is_str(b.s,
	    "# HELP milter_messages_total Messages by verdict.\\nSecond line"
	    " \\\\ here.\n"
	    "# TYPE milter_messages_total counter\n"
	    "milter_messages_total{verdict=\"accept\"} 5\n"
	    "milter_messages_total{verdict=\"reject\"} 1\n"
	    "# HELP milter_connections Open connections.\n"
	    "# TYPE milter_connections gauge\n"
	    "milter_connections 3\n"
	    "# HELP milter_stage_seconds Stage latency.\n"
	    "# TYPE milter_stage_seconds histogram\n"
	    "milter_stage_seconds_bucket{stage=\"eom\",le=\"0.001\"} 1\n"
	    "milter_stage_seconds_bucket{stage=\"eom\",le=\"0.01\"} 1\n"
	    "milter_stage_seconds_bucket{stage=\"eom\",le=\"0.1\"} 3\n"
	    "milter_stage_seconds_bucket{stage=\"eom\",le=\"+Inf\"} 4\n"
	    "milter_stage_seconds_sum{stage=\"eom\"} 3.1005\n"
	    "milter_stage_seconds_count{stage=\"eom\"} 4\n"
	    "# HELP metrics_dropped_series_total Label sets not recorded "
	    "because their family was full.\n"
	    "# TYPE metrics_dropped_series_total counter\n"
	    "metrics_dropped_series_total 0\n",
	    "text format: escaped help, counters ignore decrements, gauges "
	    "move both ways, histogram buckets are cumulative");

	metrics_label_escape(&labels, "a\"b\\c\nd");
	is_str(labels.s, "a\\\"b\\\\c\\nd", "label values are escaped");

	big = metrics_family(m, "big_total", "x", METRICS_COUNTER, NULL, 0);
	for (i = 0; i < METRICS_SERIES_MAX + 10; i++) {
		snprintf(name, sizeof(name), "n=\"%d\"", i);
		metrics_count(big, name, 1);
	}
	buf_reset(&b);
	metrics_render(m, &b);
	ok(strstr(b.s, "big_total{n=\"255\"} 1\n") != NULL &&
	    strstr(b.s, "big_total{n=\"256\"}") == NULL,
	    "a family stops at %d series", METRICS_SERIES_MAX);
	ok(strstr(b.s, "metrics_dropped_series_total 10\n") != NULL,
	    "the label sets past the bound are counted as dropped");

	shared_counter = metrics_series(msgs, "verdict=\"tempfail\"");
	shared_hist = metrics_series(lat, "stage=\"body\"");
	for (i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, hammer, NULL);
	for (i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	buf_reset(&b);
	metrics_render(m, &b);
	snprintf(name, sizeof(name), "{verdict=\"tempfail\"} %d\n",
	    THREADS * ROUNDS);
	ok(strstr(b.s, name) != NULL, "%d threads' increments all counted",
	    THREADS);
	snprintf(name, sizeof(name), "stage_seconds_count{stage=\"body\"} %d\n",
	    THREADS * ROUNDS);
	ok(strstr(b.s, name) != NULL, "and all their observations");

	metrics_collector(m, collect, metrics_series(conns, "kind=\"pulled\""));
	buf_reset(&b);
	metrics_render(m, &b);
	ok(collected == 1 && strstr(b.s, "milter_connections{kind=\"pulled\"} "
	    "42\n") != NULL, "a collector runs before the render and sets a "
	    "gauge it shows");

	fd = listen_any(&port);
	ok(fd >= 0 && metrics_serve(m, fd) == 0, "serving on port %u", port);
	buf_reset(&b);
	get(port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", &b);
	ok(strncmp(buf_str(&b), "HTTP/1.0 200 OK\r\n", 17) == 0 &&
	    strstr(b.s, "Content-Type: text/plain; version=0.0.4") != NULL &&
	    strstr(b.s, "\r\n\r\n# HELP milter_messages_total") != NULL,
	    "GET /metrics answers 200 with the text format");
	buf_reset(&b);
	get(port, "GET /other HTTP/1.0\r\n\r\n", &b);
	ok(strncmp(buf_str(&b), "HTTP/1.0 404", 12) == 0,
	    "another path is 404");
	buf_reset(&b);
	get(port, "POST /metrics HTTP/1.0\r\n\r\n", &b);
	ok(strncmp(buf_str(&b), "HTTP/1.0 405", 12) == 0, "POST is 405");
	buf_reset(&b);
	get(port, "HEAD /metrics HTTP/1.0\r\n\r\n", &b);
	ok(strncmp(buf_str(&b), "HTTP/1.0 200", 12) == 0 &&
	    strstr(b.s, "# HELP") == NULL, "HEAD has no body");
	buf_reset(&b);
	get(port, "GET /metrics", &b);
	ok(b.len == 0, "a request cut short gets no answer, and the "
	    "server goes on");
	buf_reset(&b);
	get(port, "GET / HTTP/1.0\r\n\r\n", &b);
	ok(strncmp(buf_str(&b), "HTTP/1.0 200", 12) == 0, "so does /");
	metrics_stop(m);
	buf_reset(&b);
	ok(get(port, "GET / HTTP/1.0\r\n\r\n", &b) != 0,
	    "after metrics_stop the port is closed");

	buf_free(&b);
	buf_free(&labels);
	metrics_free(m);
	return done_testing();
}
