/*
 * dns_server - the system backend against a scripted name server on
 * 127.0.0.1: a query's time budget is the whole timeout_ms, a refused
 * TCP fallback after TC is reported as such, identical queries in
 * flight go out once, and a caller's limit (deadline, stop condition)
 * cuts a query short and stops sending.
 *
 * The server is a thread answering UDP queries for A records with
 * 192.0.2.1 after a set delay (several replies may be pending at once),
 * or with TC set and no record; it counts the queries it receives.
 * Nothing listens on TCP at its port.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "buf.h"
#include "dns.h"
#include "tap.h"

#define PENDING_MAX	64

struct pending {
	int64_t			 due;
	struct sockaddr_storage	 to;
	socklen_t		 tolen;
	uint8_t			*wire;
	size_t			 len;
};

static struct {
	pthread_mutex_t	 mu;
	int		 fd;
	int		 delay_ms;
	int		 tc;
	int		 quit;
	unsigned	 queries;
	struct pending	 p[PENDING_MAX];
	size_t		 np;
} srv = { .mu = PTHREAD_MUTEX_INITIALIZER, .fd = -1 };

/* reply_for - the wire reply to a query (malloc()ed), or NULL */
static uint8_t *
reply_for(const uint8_t *q, size_t qlen, size_t *len, int tc)
{
	ldns_pkt *in = NULL, *out;
	ldns_rr *rr = NULL, *qrr;
	uint8_t *w = NULL;

	if (ldns_wire2pkt(&in, q, qlen) != LDNS_STATUS_OK)
		return NULL;
	qrr = ldns_rr_list_rr(ldns_pkt_question(in), 0);
	out = ldns_pkt_new();
	ldns_pkt_set_id(out, ldns_pkt_id(in));
	ldns_pkt_set_qr(out, true);
	ldns_pkt_set_rd(out, ldns_pkt_rd(in));
	ldns_pkt_set_ra(out, true);
	ldns_pkt_push_rr(out, LDNS_SECTION_QUESTION, ldns_rr_clone(qrr));
	if (tc)
		ldns_pkt_set_tc(out, true);
	else if (ldns_rr_get_type(qrr) == LDNS_RR_TYPE_A) {
		char *owner = ldns_rdf2str(ldns_rr_owner(qrr));
		char line[300];

		snprintf(line, sizeof(line), "%s 60 IN A 192.0.2.1", owner);
		free(owner);
		if (ldns_rr_new_frm_str(&rr, line, 60, NULL, NULL) ==
		    LDNS_STATUS_OK)
			ldns_pkt_push_rr(out, LDNS_SECTION_ANSWER, rr);
	}
	if (ldns_pkt2wire(&w, out, len) != LDNS_STATUS_OK)
		w = NULL;
	ldns_pkt_free(in);
	ldns_pkt_free(out);
	return w;
}

/* server - receive, schedule, answer when due */
static void *
server(void *arg)
{
	uint8_t buf[4096];
	struct pollfd p;
	struct pending *e;
	int64_t now, wait;
	ssize_t n;
	size_t i;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&srv.mu);
		if (srv.quit) {
			pthread_mutex_unlock(&srv.mu);
			break;
		}
		now = dns_now_ms();
		wait = 50;
		for (i = 0; i < srv.np; ) {
			e = &srv.p[i];
			if (e->due <= now) {
				if (e->wire != NULL)
					(void)sendto(srv.fd, e->wire, e->len,
					    0, (struct sockaddr *)&e->to,
					    e->tolen);
				free(e->wire);
				srv.p[i] = srv.p[--srv.np];
				continue;
			}
			if (e->due - now < wait)
				wait = e->due - now;
			i++;
		}
		pthread_mutex_unlock(&srv.mu);
		p.fd = srv.fd;
		p.events = POLLIN;
		if (poll(&p, 1, (int)wait) <= 0)
			continue;
		pthread_mutex_lock(&srv.mu);
		e = &srv.p[srv.np];
		e->tolen = sizeof(e->to);
		n = recvfrom(srv.fd, buf, sizeof(buf), 0,
		    (struct sockaddr *)&e->to, &e->tolen);
		if (n > 0) {
			srv.queries++;
			if (srv.np < PENDING_MAX) {
				e->wire = reply_for(buf, (size_t)n, &e->len,
				    srv.tc);
				e->due = dns_now_ms() + srv.delay_ms;
				srv.np++;
			}
		}
		pthread_mutex_unlock(&srv.mu);
	}
	return NULL;
}

/* script - how the server answers from now on; the count restarts */
static void
script(int delay_ms, int tc)
{
	pthread_mutex_lock(&srv.mu);
	srv.delay_ms = delay_ms;
	srv.tc = tc;
	srv.queries = 0;
	pthread_mutex_unlock(&srv.mu);
}

/* queries - how many queries the server received */
static unsigned
queries(void)
{
	unsigned n;

	pthread_mutex_lock(&srv.mu);
	n = srv.queries;
	pthread_mutex_unlock(&srv.mu);
	return n;
}

/* resolver - for the server, with a timeout and a cache size */
static struct dns_resolver *
resolver(const char *spec, int timeout_ms, size_t cache)
{
	struct dns_opts o = { spec, timeout_ms, cache, 0 };
	struct buf err = BUF_INIT;
	struct dns_resolver *r = dns_new_system(&o, &err);

	if (r == NULL)
		diag("resolver: %s", buf_str(&err));
	buf_free(&err);
	return r;
}

/* settle - wait until replies still scheduled have gone */
static void
settle(void)
{
	struct timespec ts = { 0, 50 * 1000 * 1000 };
	int i;

	for (i = 0; i < 100; i++) {
		pthread_mutex_lock(&srv.mu);
		if (srv.np == 0) {
			pthread_mutex_unlock(&srv.mu);
			return;
		}
		pthread_mutex_unlock(&srv.mu);
		nanosleep(&ts, NULL);
	}
}

struct asker {
	struct dns_resolver *r;
	enum dns_status	 st;
	int		 addr_ok;
};

/* ask - one thread's query for the shared name */
static void *
ask(void *arg)
{
	struct asker *a = arg;
	struct dns_answer *ans = NULL;

	a->st = dns_query(a->r, "same.example", DNS_T_A, &ans);
	a->addr_ok = ans != NULL && ans->n == 1 &&
	    memcmp(ans->rr[0].addr, "\300\000\002\001", 4) == 0;
	dns_answer_free(ans);
	return NULL;
}

/* stop_after - a stop condition that holds from a given time on */
static int
stop_after(void *arg)
{
	return dns_now_ms() >= *(int64_t *)arg;
}

/* test_budget - one server answering in 700 ms, timeout_ms 1000 */
static void
test_budget(const char *spec)
{
	struct dns_resolver *r = resolver(spec, 1000, 0);
	int64_t t0;

	if (r == NULL) {
		ok(0, "resolver");
		return;
	}
	script(700, 0);
	t0 = dns_now_ms();
	is_int(dns_query(r, "slow.example", DNS_T_A, NULL), DNS_OK,
	    "a server answering in 700 ms is heard with timeout_ms 1000 "
	    "(not two tries of 500 ms)");
	ok(dns_now_ms() - t0 >= 650 && dns_now_ms() - t0 < 1000,
	    "the answer came after the server's delay (%lld ms)",
	    (long long)(dns_now_ms() - t0));
	settle();
	dns_free(r);
}

/* test_tc - a truncated reply and nothing on TCP */
static void
test_tc(const char *spec)
{
	struct dns_resolver *r = resolver(spec, 2000, 0);
	int64_t t0;
	enum dns_status st;

	if (r == NULL) {
		ok(0, "resolver");
		return;
	}
	script(0, 1);
	t0 = dns_now_ms();
	st = dns_query(r, "big.example", DNS_T_A, NULL);
	is_int(st, DNS_UNREACHABLE, "TC then a refused TCP connection: "
	    "unreachable, not a timeout");
	ok(dns_now_ms() - t0 < 1000, "... found out at once (%lld ms)",
	    (long long)(dns_now_ms() - t0));
	is_str(dns_strerror(st), "name server unreachable", "... its text");
	settle();
	dns_free(r);
}

/* test_coalesce - eight threads ask the same question at once */
static void
test_coalesce(const char *spec)
{
	struct dns_resolver *r = resolver(spec, 3000, 0);
	struct dns_cache_stats cs;
	struct asker a[8];
	pthread_t t[8];
	size_t i, started = 0, good = 0;

	if (r == NULL) {
		ok(0, "resolver");
		return;
	}
	script(400, 0);
	for (i = 0; i < 8; i++) {
		a[i].r = r;
		a[i].st = DNS_NOMEM;
		a[i].addr_ok = 0;
		if (pthread_create(&t[i], NULL, ask, &a[i]) == 0)
			started++;
	}
	for (i = 0; i < started; i++) {
		pthread_join(t[i], NULL);
		good += a[i].st == DNS_OK && a[i].addr_ok;
	}
	ok(started == 8 && good == 8, "eight concurrent queries all get "
	    "the answer (%zu of %zu)", good, started);
	is_int(queries(), 1, "... from one query sent (no cache)");
	dns_cache_stats(r, &cs);
	is_int((int)cs.shared, 7, "... seven of them shared it");
	settle();
	dns_free(r);
}

/* test_limit - a caller's deadline and stop condition */
static void
test_limit(const char *spec)
{
	struct dns_resolver *r = resolver(spec, 5000, 0);
	struct dns_limit l;
	int64_t t0, when;

	if (r == NULL) {
		ok(0, "resolver");
		return;
	}
	script(3000, 0);
	dns_limit_init(&l, 300, NULL, NULL);
	t0 = dns_now_ms();
	is_int(dns_query_limit(r, "late.example", DNS_T_A, &l, NULL),
	    DNS_TIMEOUT, "a deadline 300 ms away ends a 5 s query");
	ok(dns_now_ms() - t0 >= 250 && dns_now_ms() - t0 < 800,
	    "... after about 300 ms (%lld)", (long long)(dns_now_ms() - t0));
	when = dns_now_ms() + 200;
	dns_limit_init(&l, 0, stop_after, &when);
	t0 = dns_now_ms();
	is_int(dns_query_limit(r, "late2.example", DNS_T_A, &l, NULL),
	    DNS_CANCELLED, "a stop condition ends a waiting query");
	ok(dns_now_ms() - t0 < 600, "... within a poll interval of it "
	    "(%lld ms)", (long long)(dns_now_ms() - t0));
	script(0, 0);
	is_int(dns_query_limit(r, "late3.example", DNS_T_A, &l, NULL),
	    DNS_CANCELLED, "once stopped, a query is refused at once");
	is_int(queries(), 0, "... and nothing is sent");
	dns_limit_init(&l, 2000, NULL, NULL);
	is_int(dns_query_limit(r, "fine.example", DNS_T_A, &l, NULL), DNS_OK,
	    "within the limit, a query is answered");
	dns_free(r);
}

int
main(void)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	pthread_t t;
	char spec[64];

	srv.fd = socket(AF_INET, SOCK_DGRAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (srv.fd == -1 || bind(srv.fd, (struct sockaddr *)&sin,
	    sizeof(sin)) == -1 || getsockname(srv.fd,
	    (struct sockaddr *)&sin, &sl) == -1 ||
	    pthread_create(&t, NULL, server, NULL) != 0) {
		printf("1..0 # SKIP no UDP socket on 127.0.0.1\n");
		return 0;
	}
	snprintf(spec, sizeof(spec), "127.0.0.1:%u", ntohs(sin.sin_port));
	test_budget(spec);
	test_tc(spec);
	test_coalesce(spec);
	test_limit(spec);
	pthread_mutex_lock(&srv.mu);
	srv.quit = 1;
	pthread_mutex_unlock(&srv.mu);
	pthread_join(t, NULL);
	close(srv.fd);
	return done_testing();
}
