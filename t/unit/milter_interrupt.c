/*
 * milter_interrupt - milter_interrupted() from inside a long callback:
 * the MTA's abort or quit waiting behind the current command (in the
 * engine's buffer or still in the socket) and a hang-up interrupt it;
 * a RCPT sent without waiting for MAIL's reply (SMFIP_NR_MAIL) does not
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <libmilter/mfdef.h>

#include "buf.h"
#include "milter.h"
#include "tap.h"

#define WAIT_MS	600		/* how long the callback watches */

static _Atomic int seen;	/* what the callback found: 1 interrupted */
static _Atomic long seen_ms;	/* after how long */

/* now_ms - CLOCK_MONOTONIC in milliseconds */
static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* t_envfrom - a long piece of work that watches for interruptions */
static sfsistat
t_envfrom(SMFICTX *ctx, char **argv)
{
	struct timespec pause = { 0, 10 * 1000 * 1000 };
	long t0 = now_ms();

	(void)argv;
	seen = 0;
	while (now_ms() - t0 < WAIT_MS) {
		if (milter_interrupted(ctx)) {
			seen = 1;
			break;
		}
		nanosleep(&pause, NULL);
	}
	seen_ms = now_ms() - t0;
	return SMFIS_CONTINUE;
}

/* t_connect - nothing to do */
static sfsistat
t_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	(void)ctx;
	(void)host;
	(void)sa;
	return SMFIS_CONTINUE;
}

static struct smfiDesc desc = {
	.xxfi_name = "t",
	.xxfi_version = SMFI_VERSION,
	.xxfi_connect = t_connect,
	.xxfi_envfrom = t_envfrom,
};

/* pkt - append one packet */
static void
pkt(struct buf *b, char cmd, const void *data, size_t n)
{
	unsigned char h[5] = { (n + 1) >> 24, (n + 1) >> 16, (n + 1) >> 8,
	    n + 1, (unsigned char)cmd };

	buf_append(b, h, 5);
	buf_append(b, data, n);
}

/* start - negotiation, connect and MAIL */
static void
start(struct buf *b)
{
	unsigned char d[12] = { 0, 0, 0, 6, 0, 0, 0x01, 0xff, 0, 0x1f, 0xff,
	    0xff };

	pkt(b, SMFIC_OPTNEG, d, 12);
	pkt(b, SMFIC_CONNECT, "c.test\0" "4\x09\xc5" "192.0.2.1", 20);
	pkt(b, SMFIC_MAIL, "<a@x>", 6);
}

static void *
serve(void *arg)
{
	milter_session(*(int *)arg, &desc, 4096);
	return NULL;
}

/*
 * run - send the start, then (50 ms later, while the callback works)
 * what follows, or everything at once; hang up after it when asked
 */
static void
run(const char *what, const char *then, size_t n, int together,
    int hangup, int want)
{
	struct timespec pause = { 0, 50 * 1000 * 1000 };
	struct buf b = BUF_INIT, rest = BUF_INIT;
	pthread_t t;
	int sv[2], i;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) {
		ok(0, "socketpair");
		return;
	}
	start(&b);
	if (n > 0)
		buf_append(&rest, then, n);
	if (together && rest.len > 0) {
		buf_append(&b, rest.s, rest.len);
		buf_reset(&rest);
	}
	pthread_create(&t, NULL, serve, &sv[1]);
	(void)write(sv[0], b.s, b.len);
	nanosleep(&pause, NULL);
	if (rest.len > 0)
		(void)write(sv[0], rest.s, rest.len);
	if (hangup)
		shutdown(sv[0], SHUT_WR);
	for (i = 0; !hangup && seen_ms == 0 && i < 40; i++)
		nanosleep(&pause, NULL);
	shutdown(sv[0], SHUT_WR);
	pthread_join(t, NULL);		/* the session ends at end of input */
	ok(seen == want && (!want || seen_ms < WAIT_MS / 2), "%s: %s "
	    "(after %ld ms)", what, seen ? "interrupted" : "not interrupted",
	    seen_ms);
	seen_ms = 0;
	close(sv[0]);
	close(sv[1]);
	buf_free(&b);
	buf_free(&rest);
}

int
main(void)
{
	struct buf p = BUF_INIT;

	run("nothing more", NULL, 0, 0, 0, 0);
	pkt(&p, SMFIC_RCPT, "<c@y>", 6);
	run("RCPT without waiting for MAIL's reply", p.s, p.len, 0, 0, 0);
	buf_reset(&p);
	pkt(&p, SMFIC_ABORT, NULL, 0);
	run("an abort while the callback works", p.s, p.len, 0, 0, 1);
	buf_reset(&p);
	pkt(&p, SMFIC_RCPT, "<c@y>", 6);
	pkt(&p, SMFIC_ABORT, NULL, 0);
	run("an abort behind a RCPT", p.s, p.len, 0, 0, 1);
	run("an abort read with the MAIL, in the engine's buffer", p.s,
	    p.len, 1, 0, 1);
	buf_reset(&p);
	pkt(&p, SMFIC_QUIT, NULL, 0);
	run("a quit", p.s, p.len, 0, 0, 1);
	run("the MTA hangs up", NULL, 0, 0, 1, 1);
	buf_free(&p);
	return done_testing();
}
