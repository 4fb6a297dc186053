/*
 * milter - the protocol engine against raw packets: negotiation, the
 * callbacks and their arguments, macros, replies and modifications, no
 * reply where agreed, out-of-order and malformed input, split and
 * pipelined packets, abort and close on every kind of ending, stop
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <libmilter/mfdef.h>

#include "buf.h"
#include "milter.h"
#include "tap.h"

#define MAXDATA	4096

/* stderr_to - point stderr (where the engine logs) at fd; the old one */
static int
stderr_to(int fd)
{
	int old = dup(STDERR_FILENO);

	dup2(fd, STDERR_FILENO);
	return old;
}

/* slurp_fd - the text written to fd so far, from its start */
static void
slurp_fd(int fd, struct buf *out)
{
	char c[512];
	ssize_t n;
	off_t off = 0;

	buf_reset(out);
	while ((n = pread(fd, c, sizeof(c), off)) > 0) {
		buf_append(out, c, (size_t)n);
		off += n;
	}
}

/* What the callbacks saw, one line each. */
static pthread_mutex_t ev_lock = PTHREAD_MUTEX_INITIALIZER;
static struct buf events = BUF_INIT;
static unsigned long nr_opts;		/* no-reply options to ask for */

/* ev - record one event */
__attribute__((format(printf, 1, 2)))
static void
ev(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&ev_lock);
	va_start(ap, fmt);
	buf_vprintf(&events, fmt, ap);
	va_end(ap);
	buf_putc(&events, '\n');
	pthread_mutex_unlock(&ev_lock);
}

/* events_take - the events so far (caller frees), after a short wait
 * for callbacks that run after the last reply */
static char *
events_take(void)
{
	char *s;

	usleep(20000);
	pthread_mutex_lock(&ev_lock);
	s = strdup(buf_str(&events));
	buf_reset(&events);
	pthread_mutex_unlock(&ev_lock);
	return s;
}

static sfsistat
t_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	*pf0 = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE;
	*pf1 = (nr_opts | SMFIP_NODATA | SMFIP_NOUNKNOWN) & f1;
	*pf2 = *pf3 = 0;
	return SMFIS_CONTINUE;
}

static sfsistat
t_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	char a[INET6_ADDRSTRLEN] = "-";
	int port = 0;

	if (sa != NULL && sa->sa_family == AF_INET) {
		inet_ntop(AF_INET, &((struct sockaddr_in *)sa)->sin_addr, a,
		    sizeof(a));
		port = ntohs(((struct sockaddr_in *)sa)->sin_port);
	} else if (sa != NULL && sa->sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)sa)->sin6_addr,
		    a, sizeof(a));
		port = ntohs(((struct sockaddr_in6 *)sa)->sin6_port);
	}
	ev("connect %s %s %d j=%s", host, a, port,
	    smfi_getsymval(ctx, "j") ? smfi_getsymval(ctx, "j") : "-");
	return SMFIS_CONTINUE;
}

static sfsistat
t_helo(SMFICTX *ctx, char *helo)
{
	ev("helo %s", helo);
	return SMFIS_CONTINUE;
}

static sfsistat
t_envfrom(SMFICTX *ctx, char **argv)
{
	const char *i = smfi_getsymval(ctx, "{i}");

	ev("mail %s%s%s i=%s", argv[0], argv[1] ? " " : "",
	    argv[1] ? argv[1] : "", i ? i : "-");
	return strcmp(argv[0], "<reject@x>") == 0 ? SMFIS_REJECT :
	    SMFIS_CONTINUE;
}

static sfsistat
t_envrcpt(SMFICTX *ctx, char **argv)
{
	ev("rcpt %s", argv[0]);
	if (strcmp(argv[0], "<bad@x>") == 0) {
		ev("setreply %d", smfi_setreply(ctx, "550", "5.1.1",
		    "no such user"));
		return SMFIS_REJECT;
	}
	return SMFIS_CONTINUE;
}

static sfsistat
t_header(SMFICTX *ctx, char *name, char *value)
{
	ev("header %s=%s", name, value);
	return SMFIS_CONTINUE;
}

static sfsistat
t_eoh(SMFICTX *ctx)
{
	ev("eoh");
	return SMFIS_CONTINUE;
}

static sfsistat
t_body(SMFICTX *ctx, unsigned char *p, size_t n)
{
	ev("body %zu", n);
	return SMFIS_CONTINUE;
}

static sfsistat
t_eom(SMFICTX *ctx)
{
	const char *i = smfi_getsymval(ctx, "i");
	int r[5];

	ev("eom i=%s", i ? i : "-");
	r[0] = smfi_addheader(ctx, "X-A", " 1");
	r[1] = smfi_insheader(ctx, 0, "X-B", " 2");
	r[2] = smfi_chgheader(ctx, "Subject", 1, " new");
	r[3] = smfi_chgheader(ctx, "X-Old", 1, NULL);
	r[4] = smfi_quarantine(ctx, "held");
	ev("add %d ins %d chg %d del %d q %d", r[0], r[1], r[2], r[3], r[4]);
	r[0] = smfi_setreply(ctx, "250", NULL, "x");
	r[1] = smfi_setreply(ctx, "550", "4.1.1", "x");
	r[2] = smfi_setreply(ctx, "550", "5.1.1", "two\r\nlines");
	r[3] = smfi_addheader(ctx, "", "empty name");
	ev("refused %d %d %d %d", r[0], r[1], r[2], r[3]);
	if (i != NULL && strcmp(i, "REJ") == 0) {
		smfi_setreply(ctx, "550", "5.7.1", "rejected here");
		return SMFIS_REJECT;
	}
	if (i != NULL && strcmp(i, "TMP") == 0) {
		smfi_setreply(ctx, "550", "5.7.1", "wrong class");
		return SMFIS_TEMPFAIL;
	}
	return SMFIS_CONTINUE;
}

static sfsistat
t_abort(SMFICTX *ctx)
{
	ev("abort");
	return SMFIS_CONTINUE;
}

static sfsistat
t_close(SMFICTX *ctx)
{
	ev("close add=%d", smfi_addheader(ctx, "X-Late", "x"));
	return SMFIS_CONTINUE;
}

static struct smfiDesc desc = {
	.xxfi_name = "t",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE,
	.xxfi_connect = t_connect,
	.xxfi_helo = t_helo,
	.xxfi_envfrom = t_envfrom,
	.xxfi_envrcpt = t_envrcpt,
	.xxfi_header = t_header,
	.xxfi_eoh = t_eoh,
	.xxfi_body = t_body,
	.xxfi_eom = t_eom,
	.xxfi_abort = t_abort,
	.xxfi_close = t_close,
	.xxfi_negotiate = t_negotiate,
};

/* The client side. */

static struct sockaddr_un where;

/* pkt - append one packet */
static void
pkt(struct buf *b, char cmd, const void *data, size_t n)
{
	unsigned char h[5] = { (n + 1) >> 24, (n + 1) >> 16, (n + 1) >> 8,
	    n + 1, (unsigned char)cmd };

	buf_append(b, h, 5);
	buf_append(b, data, n);
}

/* optneg - the negotiation packet, as Postfix offers */
static void
optneg(struct buf *b, unsigned long actions)
{
	unsigned char d[12] = { 0, 0, 0, 6 };
	uint32_t a = htonl((uint32_t)actions), p = htonl(0x1fffff);

	memcpy(d + 4, &a, 4);
	memcpy(d + 8, &p, 4);
	pkt(b, SMFIC_OPTNEG, d, 12);
}

/* dial - a connection to the engine */
static int
dial(void)
{
	struct timeval tv = { 5, 0 };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&where,
	    sizeof(where)) < 0) {
		diag("connect: %s", strerror(errno));
		exit(1);
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

/* send_all - write b, step bytes at a time (0: at once) */
static void
send_all(int fd, const struct buf *b, size_t step)
{
	size_t off = 0, n;

	while (off < b->len) {
		n = step == 0 || b->len - off < step ? b->len - off : step;
		if (write(fd, b->s + off, n) != (ssize_t)n)
			return;
		off += n;
		if (step != 0)
			usleep(200);
	}
}

/* replies - read n reply packets, one line each: "O v=6 a=0x.. p=0x..",
 * or the command letter, the index of 'i' and 'm' packets, and the
 * strings separated by '|'; "EOF" when the engine closed first */
static void
replies(int fd, int n, struct buf *out)
{
	unsigned char h[5], d[MAXDATA];
	uint32_t len;
	size_t got, i, from;
	ssize_t r;

	buf_reset(out);
	buf_append(out, "", 0);
	while (n-- > 0) {
		for (got = 0; got < 5; got += (size_t)r)
			if ((r = read(fd, h + got, 5 - got)) <= 0) {
				buf_puts(out, "EOF\n");
				return;
			}
		len = (uint32_t)h[0] << 24 | h[1] << 16 | h[2] << 8 | h[3];
		if (len == 0 || len - 1 > sizeof(d)) {
			buf_puts(out, "BAD LENGTH\n");
			return;
		}
		for (got = 0; got < len - 1; got += (size_t)r)
			if ((r = read(fd, d + got, len - 1 - got)) <= 0) {
				buf_puts(out, "EOF\n");
				return;
			}
		if (h[4] == SMFIC_OPTNEG && len == 13) {
			buf_printf(out, "O v=%u a=%#x p=%#x\n", d[3],
			    (unsigned)(d[4] << 24 | d[5] << 16 | d[6] << 8 |
			    d[7]), (unsigned)(d[8] << 24 | d[9] << 16 |
			    d[10] << 8 | d[11]));
			continue;
		}
		buf_putc(out, h[4]);
		from = 0;
		if ((h[4] == SMFIR_INSHEADER || h[4] == SMFIR_CHGHEADER) &&
		    len > 5) {
			buf_printf(out, " %u", (unsigned)(d[0] << 24 |
			    d[1] << 16 | d[2] << 8 | d[3]));
			from = 4;
		}
		if (len - 1 > from)
			buf_putc(out, ' ');
		for (i = from; i < len - 1; i++)
			buf_putc(out, d[i] == '\0' ? (i + 1 < len - 1 ?
			    '|' : '\n') : d[i]);
		if (len - 1 <= from)
			buf_putc(out, '\n');
	}
}

/* closed - whether the engine closed the connection */
static int
closed(int fd)
{
	char c;

	return read(fd, &c, 1) == 0;
}

/* macro - a SMFIC_MACRO packet for stage cmd: "name", "value", ... */
static void
macro(struct buf *b, char cmd, const char *name, const char *value)
{
	struct buf d = BUF_INIT;

	buf_putc(&d, cmd);
	buf_append(&d, name, strlen(name) + 1);
	buf_append(&d, value, strlen(value) + 1);
	pkt(b, SMFIC_MACRO, d.s, d.len);
	buf_free(&d);
}

/* connect_pkt - SMFIC_CONNECT for an IPv4 client */
static void
connect_pkt(struct buf *b, const char *host, char family, const char *addr)
{
	struct buf d = BUF_INIT;
	uint16_t port = htons(2525);

	buf_append(&d, host, strlen(host) + 1);
	buf_putc(&d, family);
	if (family != SMFIA_UNKNOWN) {
		buf_append(&d, &port, 2);
		buf_append(&d, addr, strlen(addr) + 1);
	}
	pkt(b, SMFIC_CONNECT, d.s, d.len);
	buf_free(&d);
}

/* message - a whole transaction after negotiation and connect */
static void
message(struct buf *b, const char *qid)
{
	macro(b, SMFIC_MAIL, "{i}", "MAILQ");
	pkt(b, SMFIC_MAIL, "<a@x>\0SIZE=10", 14);
	pkt(b, SMFIC_RCPT, "<c@y>", 6);
	pkt(b, SMFIC_HEADER, "Subject\0 hi", 12);
	pkt(b, SMFIC_EOH, NULL, 0);
	pkt(b, SMFIC_BODY, "body\r\n", 6);
	macro(b, SMFIC_BODYEOB, "i", qid);
	pkt(b, SMFIC_BODYEOB, NULL, 0);
}

/* now_s - the monotonic clock in seconds */
static double
now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/* engine_closed_within - whether the engine closes fd within secs
 * (reading and dropping whatever it sends meanwhile) */
static int
engine_closed_within(int fd, double secs)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	double end = now_s() + secs;
	char c[256];

	while (now_s() < end) {
		if (poll(&p, 1, 50) == 1 && read(fd, c, sizeof(c)) <= 0)
			return 1;
	}
	return 0;
}

/*
 * dribble - send b one byte every gap seconds until the engine closes
 * the connection or every byte is sent; the seconds until it closed, or
 * -1 if it did not (within the bytes plus 2 s)
 */
static double
dribble(int fd, const struct buf *b, double gap)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	double t0 = now_s();
	size_t i;
	char c;

	for (i = 0; i < b->len; i++) {
		if (send(fd, b->s + i, 1, MSG_NOSIGNAL) != 1)
			return now_s() - t0;
		if (poll(&p, 1, (int)(gap * 1000)) == 1 &&
		    read(fd, &c, 1) <= 0)
			return now_s() - t0;
	}
	return engine_closed_within(fd, 2) ? now_s() - t0 : -1;
}

/* session_thread - milter_session over one end of a socket pair */
static void *
session_thread(void *arg)
{
	milter_session(*(int *)arg, &desc, 1024 * 1024);
	return NULL;
}

/* input_allocated_when - wait (at most 3 s) until the engine holds at
 * least want_buffered bytes of input, or at most want_alloc allocated;
 * the bytes allocated then */
static size_t
input_wait(size_t want_buffered, size_t want_alloc)
{
	size_t buffered = 0, alloc = 0;
	double end = now_s() + 3;

	while (now_s() < end) {
		milter_input_stats(&buffered, &alloc);
		if (want_buffered > 0 ? buffered >= want_buffered :
		    alloc <= want_alloc)
			break;
		usleep(5000);
	}
	return alloc;
}

/* limits - time limits, the connection limit and input memory */
static void
limits(void)
{
	struct milter_limits l = MILTER_LIMITS_DEFAULT;
	struct buf b = BUF_INIT, r = BUF_INIT, big = BUF_INIT;
	unsigned char head[5];
	double t;
	size_t alloc, n = 1024 * 1024;
	int fd, fd2, fd3, sv[2], i;
	pthread_t st;

	/* a peer that announces 1 MiB and sends 1000 bytes */
	nr_opts = 0;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return;
	pthread_create(&st, NULL, session_thread, &sv[1]);
	optneg(&b, 0x1ff);
	connect_pkt(&b, "big", SMFIA_INET, "192.0.2.9");
	pkt(&b, SMFIC_MAIL, "<a@x>", 6);
	pkt(&b, SMFIC_RCPT, "<c@y>", 6);
	send_all(sv[0], &b, 0);
	replies(sv[0], 4, &r);
	head[0] = (unsigned char)(n >> 24);
	head[1] = (unsigned char)(n >> 16);
	head[2] = (unsigned char)(n >> 8);
	head[3] = (unsigned char)n;
	head[4] = SMFIC_HEADER;
	buf_append(&big, head, 5);
	buf_append(&big, "X-Big", 6);
	while (big.len < 4 + n - 1)	/* the length counts the command */
		buf_putc(&big, 'a');
	buf_putc(&big, '\0');
	if (write(sv[0], big.s, 1005) != 1005)
		diag("write: %s", strerror(errno));
	alloc = input_wait(1005, 0);
	ok(alloc < 256 * 1024, "a packet announcing 1 MiB with 1000 bytes "
	    "sent: %zu bytes of input buffer, not 1 MiB", alloc);
	send_all(sv[0], &(struct buf){ big.s + 1005, big.len - 1005, 0, 0 },
	    0);
	replies(sv[0], 1, &r);
	is_str(buf_str(&r), "c\n", "once all of it is sent, the 1 MiB "
	    "header field is taken");
	alloc = input_wait(0, 64 * 1024);
	ok(alloc <= 64 * 1024, "and the input buffer shrinks back once "
	    "empty (%zu bytes)", alloc);
	close(sv[0]);
	pthread_join(st, NULL);
	close(sv[1]);
	free(events_take());

	l.command_s = 1;
	l.message_s = 3;
	milter_set_limits(&l);

	/* one byte every 0.2 s: cut off at the command limit, 1 s */
	fd = dial();
	buf_reset(&b);
	optneg(&b, 0x1ff);
	send_all(fd, &b, 0);
	replies(fd, 1, &r);
	buf_reset(&b);
	pkt(&b, SMFIC_HELO, "a-helo-name-sent-one-byte-at-a-time.example", 44);
	t = dribble(fd, &b, 0.2);
	ok(t >= 0.8 && t < 3.5, "a command dribbled a byte every 0.2 s is "
	    "cut off at MilterCommandTimeout 1 s (after %.1f s of %zu "
	    "bytes' %.1f s)", t, b.len, b.len * 0.2);
	close(fd);
	free(events_take());

	/* whole commands every 0.5 s within one message: cut off at the
	 * message limit, 3 s after its first header */
	fd = dial();
	buf_reset(&b);
	optneg(&b, 0x1ff);
	connect_pkt(&b, "slow", SMFIA_INET, "192.0.2.9");
	pkt(&b, SMFIC_MAIL, "<a@x>", 6);
	pkt(&b, SMFIC_RCPT, "<c@y>", 6);
	send_all(fd, &b, 0);
	replies(fd, 4, &r);
	t = now_s();
	for (i = 0; i < 20; i++) {
		buf_reset(&b);
		pkt(&b, SMFIC_HEADER, "X-Slow\0 1", 10);
		if (send(fd, b.s, b.len, MSG_NOSIGNAL) != (ssize_t)b.len ||
		    engine_closed_within(fd, 0.5))
			break;
	}
	t = now_s() - t;
	ok(i < 20 && t >= 2.5 && t < 5, "header fields sent whole every "
	    "0.5 s are cut off at MilterMessageTimeout 3 s (after %.1f s)",
	    t);
	close(fd);
	free(events_take());

	/* the connection limit: one over it is closed at once */
	l = (struct milter_limits)MILTER_LIMITS_DEFAULT;
	l.max_conns = 1;
	milter_set_limits(&l);
	fd = dial();
	buf_reset(&b);
	optneg(&b, 0x1ff);
	send_all(fd, &b, 0);
	replies(fd, 1, &r);
	is_str(buf_str(&r), "O v=6 a=0x31 p=0x300\n", "MaximumConnections 1: "
	    "the first connection is served");
	t = now_s();
	fd2 = dial();
	send_all(fd2, &b, 0);
	replies(fd2, 1, &r);
	t = now_s() - t;
	ok(strcmp(buf_str(&r), "EOF\n") == 0 && t < 1, "the second is "
	    "closed at once (%.2f s), not left to time out", t);
	close(fd2);
	close(fd);
	for (i = 0; i < 100; i++) {	/* until the first one has ended */
		fd3 = dial();
		send_all(fd3, &b, 0);
		replies(fd3, 1, &r);
		if (strcmp(buf_str(&r), "EOF\n") != 0)
			break;
		close(fd3);
		usleep(20000);
	}
	is_str(buf_str(&r), "O v=6 a=0x31 p=0x300\n", "once it has ended, "
	    "a new one is served");
	close(fd3);
	l.max_conns = MILTER_MAX_CONNS;
	milter_set_limits(&l);
	free(events_take());
	buf_free(&b);
	buf_free(&r);
	buf_free(&big);
}

static void *
server(void *arg)
{
	int *lfd = arg;

	milter_run(*lfd, &desc, MAXDATA, 0);
	return NULL;
}

int
main(void)
{
	char dir[] = "/tmp/milter-unit.XXXXXX", *e;
	struct buf b = BUF_INIT, r = BUF_INIT;
	pthread_t t;
	int lfd, fd, step;

	if (mkdtemp(dir) == NULL)
		return 1;
	signal(SIGPIPE, SIG_IGN);	/* writes to connections the engine
					   has closed fail with EPIPE */
	where.sun_family = AF_UNIX;
	snprintf(where.sun_path, sizeof(where.sun_path), "%s/s", dir);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (bind(lfd, (struct sockaddr *)&where, sizeof(where)) < 0 ||
	    listen(lfd, 16) < 0)
		return 1;
	pthread_create(&t, NULL, server, &lfd);

	/* a whole message, whole and then one byte at a time */
	for (step = 0; step < 2; step++) {
		fd = dial();
		buf_reset(&b);
		optneg(&b, 0x1ff);
		macro(&b, SMFIC_CONNECT, "j", "mx.test");
		connect_pkt(&b, "client.test", SMFIA_INET, "192.0.2.7");
		pkt(&b, SMFIC_HELO, "helo.test", 10);
		message(&b, "EOMQ");
		pkt(&b, SMFIC_QUIT, NULL, 0);
		send_all(fd, &b, step);
		replies(fd, 14, &r);
		is_str(buf_str(&r), "O v=6 a=0x31 p=0x300\n" "c\nc\nc\nc\nc\n"
		    "c\nc\n" "h X-A| 1\n" "i 0 X-B| 2\n" "m 1 Subject| new\n"
		    "m 1 X-Old|\n" "q held\n" "c\n", step ? "the same "
		    "replies when packets arrive a byte at a time" :
		    "negotiation, a reply per step, the modifications of end "
		    "of message in order before its verdict");
		e = events_take();
		is_str(e, "connect client.test 192.0.2.7 2525 j=mx.test\n"
		    "helo helo.test\nmail <a@x> SIZE=10 i=MAILQ\nrcpt <c@y>\n"
		    "header Subject= hi\neoh\nbody 6\neom i=EOMQ\n"
		    "add 0 ins 0 chg 0 del 0 q 0\nrefused -1 -1 -1 -1\n"
		    "close add=-1\n", step ? "the same callbacks" : "each "
		    "callback with its arguments; {i} and i are one macro, "
		    "the newest stage's first; modifications refused outside "
		    "end of message, bad reply codes and texts refused");
		free(e);
		ok(closed(fd), "QUIT ends the connection");
		close(fd);
	}

	/* no reply where agreed: everything pipelined, three replies */
	nr_opts = SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_HDR |
	    SMFIP_NR_EOH | SMFIP_NR_BODY;
	fd = dial();
	buf_reset(&b);
	optneg(&b, 0x1ff);
	connect_pkt(&b, "unknown", SMFIA_UNKNOWN, NULL);
	pkt(&b, SMFIC_HELO, "h", 2);
	message(&b, "REJ");
	send_all(fd, &b, 0);
	replies(fd, 4, &r);
	is_str(buf_str(&r), "O v=6 a=0x31 p=0xc3380\nc\nc\n"
	    "h X-A| 1\n", "with no-reply steps agreed, only MAIL, RCPT and "
	    "end of message are answered");
	replies(fd, 5, &r);
	is_str(buf_str(&r), "i 0 X-B| 2\nm 1 Subject| new\nm 1 X-Old|\n"
	    "q held\ny 550 5.7.1 rejected here\n", "a reject with its "
	    "reply text");
	e = events_take();
	ok(strstr(e, "connect unknown - 0") != NULL, "a connect of unknown "
	    "family has no address");
	free(e);
	buf_reset(&b);
	message(&b, "TMP");
	send_all(fd, &b, 0);
	replies(fd, 8, &r);
	ok(strstr(buf_str(&r), "q held\nt\n") != NULL, "a temporary "
	    "failure whose text is of the wrong class is sent bare");
	buf_reset(&b);
	pkt(&b, SMFIC_MAIL, "<reject@x>", 11);
	pkt(&b, SMFIC_HEADER, "Late\0 field", 12);
	pkt(&b, SMFIC_MAIL, "<a@x>", 6);
	send_all(fd, &b, 0);
	replies(fd, 2, &r);
	is_str(buf_str(&r), "r\nc\n", "after a MAIL reject, a header "
	    "field out of order is ignored and the next MAIL served");
	e = events_take();
	ok(strstr(e, "Late") == NULL && strstr(e, "abort") == NULL,
	    "... without a callback for it");
	if (strstr(e, "Late") != NULL || strstr(e, "abort") != NULL)
		diag("%s", e);
	free(e);
	close(fd);
	e = events_take();
	is_str(e, "abort\nclose add=-1\n", "a hang-up inside a message "
	    "aborts it, then closes");
	free(e);
	nr_opts = 0;

	/* RCPT reject keeps the message; abort; QUIT_NC */
	fd = dial();
	buf_reset(&b);
	optneg(&b, 0x1ff);
	connect_pkt(&b, "v6.test", SMFIA_INET6, "IPv6:2001:db8::1");
	pkt(&b, SMFIC_MAIL, "<a@x>", 6);
	pkt(&b, SMFIC_RCPT, "<bad@x>", 8);
	pkt(&b, SMFIC_RCPT, "<c@y>", 6);
	pkt(&b, SMFIC_ABORT, NULL, 0);
	pkt(&b, SMFIC_QUIT_NC, NULL, 0);
	connect_pkt(&b, "again.test", SMFIA_INET, "198.51.100.1");
	send_all(fd, &b, 0);
	replies(fd, 6, &r);
	is_str(buf_str(&r), "O v=6 a=0x31 p=0x300\nc\nc\n"
	    "y 550 5.1.1 no such user\nc\nc\n", "a refused recipient does "
	    "not end the message; QUIT_NC is followed by a new connect");
	e = events_take();
	is_str(e, "connect v6.test 2001:db8::1 2525 j=-\nmail <a@x> i=-\n"
	    "rcpt <bad@x>\nsetreply 0\nrcpt <c@y>\nabort\nclose add=-1\n"
	    "connect again.test 198.51.100.1 2525 j=-\n", "IPv6: prefix "
	    "removed; abort and close callbacks; no macros left over");
	free(e);
	close(fd);
	free(events_take());

	/* hostile input: each closes the connection, after close runs */
	{
		static const struct { const char *what; char cmd;
		    const char *data; size_t n; } bad[] = {
			{ "an unknown command", 'Z', "", 0 },
			{ "a connect without its address", SMFIC_CONNECT,
			  "host\0" "4\x01\x02" "1.2.3.4", 13 },
			{ "a connect with a bad address", SMFIC_CONNECT,
			  "host\0" "4\x01\x02" "1.2.3.x", 14 },
			{ "a connect with an unknown family", SMFIC_CONNECT,
			  "host\0" "X\x01\x02" "1.2.3.4", 14 },
			{ "a header without a value", SMFIC_HEADER,
			  "Subject", 8 },
			{ "a MAIL without its NUL", SMFIC_MAIL, "<a@x>", 5 },
			{ "a macro packet without its NUL", SMFIC_MACRO,
			  "Mi\0v", 4 },
			{ "an empty macro packet", SMFIC_MACRO, "", 0 },
			{ "a HELO without its NUL", SMFIC_HELO, "h.example",
			  9 },
			{ "an unknown SMTP command without its NUL",
			  SMFIC_UNKNOWN, "XYZZY", 5 },
		};
		char logname[] = "/tmp/milter-unit-log.XXXXXX";
		struct buf log = BUF_INIT;
		size_t i;
		int logfd = mkstemp(logname), saved;

		unlink(logname);
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			if (ftruncate(logfd, 0) < 0 ||
			    lseek(logfd, 0, SEEK_SET) < 0)
				ok(0, "ftruncate");
			saved = stderr_to(logfd);
			fd = dial();
			buf_reset(&b);
			optneg(&b, 0x1ff);
			if (bad[i].cmd != SMFIC_CONNECT)
				connect_pkt(&b, "h", SMFIA_INET, "192.0.2.1");
			if (bad[i].cmd == SMFIC_HEADER) {
				pkt(&b, SMFIC_MAIL, "<a@x>", 6);
				pkt(&b, SMFIC_RCPT, "<b@x>", 6);
			}
			pkt(&b, bad[i].cmd, bad[i].data, bad[i].n);
			send_all(fd, &b, 0);
			replies(fd, 6, &r);
			ok(strstr(buf_str(&r), "EOF") != NULL,
			    "%s closes the connection", bad[i].what);
			close(fd);
			e = events_take();
			ok(strstr(e, "close add=-1") != NULL, "... and the "
			    "close callback runs");
			free(e);
			dup2(saved, STDERR_FILENO);
			close(saved);
			slurp_fd(logfd, &log);
			ok(strstr(buf_str(&log), "warning: milter: ") != NULL,
			    "... after a log line saying why: %s",
			    buf_str(&log));
		}
		close(logfd);
		buf_free(&log);
	}
	fd = dial();
	buf_reset(&b);
	optneg(&b, 0x1ff);
	{
		unsigned char big[5] = { 0, 0, 0x20, 0, SMFIC_HEADER };

		buf_append(&b, big, 5);		/* 8 KB > MAXDATA */
	}
	send_all(fd, &b, 0);
	replies(fd, 2, &r);
	is_str(buf_str(&r), "O v=6 a=0x31 p=0x300\nEOF\n", "a packet "
	    "longer than the limit closes the connection at once");
	close(fd);
	free(events_take());
	fd = dial();
	buf_reset(&b);
	optneg(&b, SMFIF_ADDHDRS);
	send_all(fd, &b, 0);
	replies(fd, 1, &r);
	is_str(buf_str(&r), "EOF\n", "an MTA that lacks an action the "
	    "milter needs is refused");
	close(fd);
	free(events_take());

	limits();

	/* stop closes an idle connection and ends milter_run */
	fd = dial();
	buf_reset(&b);
	optneg(&b, 0x1ff);
	connect_pkt(&b, "idle", SMFIA_INET, "192.0.2.9");
	pkt(&b, SMFIC_MAIL, "<a@x>", 6);
	send_all(fd, &b, 0);
	replies(fd, 3, &r);
	milter_stop();
	ok(closed(fd), "milter_stop closes open connections");
	pthread_join(t, NULL);
	e = events_take();
	ok(strstr(e, "abort\nclose") != NULL, "... aborting their message "
	    "and closing them, and milter_run returns");
	free(e);
	close(fd);
	buf_free(&b);
	buf_free(&r);
	buf_free(&events);
	unlink(where.sun_path);
	rmdir(dir);
	return done_testing();
}
