/*
 * NAME
 *	milterclient - send one message through a milter, as an MTA would
 * SYNOPSIS
 *	milterclient -s inet:PORT@HOST|inet6:PORT@HOST|unix:/path
 *	    [-i client-ip] [-C client-name] [-H helo] [-f mailfrom] [-r rcpt]...
 *	    [-m macro=value]... [-q queueid] [-a auth_authen]
 *	    [-n count] [-c concurrency] [-t] [-T timeout]
 *	    [-L] [-N] [-R sessions] [-V first]
 *	    [-x abort-after=header|body] < message
 * DESCRIPTION
 *	Speaks the MTA side of the milter protocol, version 6.  It offers
 *	every action and protocol option, the way Postfix does, and follows
 *	what the milter answers: steps it declines are not sent, steps it
 *	declared reply-less are not waited for, and with SMFIP_HDR_LEADSPC
 *	header values keep their leading space (otherwise one space after
 *	the colon is removed, as Postfix and Sendmail do).
 *
 *	-L does not offer SMFIP_HDR_LEADSPC, as Sendmail before 8.14 and
 *	several milter proxies: one space after the colon is removed from
 *	the header values sent, and the values the milter adds are shown
 *	after "name: ", as such an MTA writes them.
 *
 *	The message on standard input is split into header fields (name and
 *	value at the first colon; folded lines joined with LF, as Postfix
 *	sends them) and a body, sent in chunks of up to 65535 bytes with
 *	line ends converted to CRLF.  A line in the header section that is
 *	not a header field starts the body, as in Postfix.
 *
 *	The connect step names the client -C client-name, or "[client-ip]"
 *	as Postfix does for a client without a name.
 *
 *	Macros: j, {daemon_name} and {client_addr} with the connection; i,
 *	{auth_authen} (with -a), {daemon_name}, {mail_addr} and every -m
 *	macro with MAIL; {rcpt_addr} with each RCPT; i with end of message.
 *
 *	It prints what the milter asked for, one line each, in the order
 *	received, values escaped (\n, \r, \\, \xHH) so that each is one line:
 *		ADDHEADER name: value
 *		INSHEADER idx name: value
 *		CHGHEADER idx name: value	(empty value: delete)
 *		CHGFROM addr [args]
 *		ADDRCPT addr [args], DELRCPT addr
 *		REPLBODY n bytes
 *		QUARANTINE reason
 *	and then the verdict: CONTINUE, ACCEPT, REJECT, TEMPFAIL, DISCARD,
 *	SHUTDOWN, CONNFAIL, or REPLYCODE text; a verdict given before end of
 *	message is followed by " at STAGE", and ends the message.
 *	Header values are shown as the MTA would insert them: after
 *	"name:" and a space, unless SMFIP_HDR_LEADSPC was negotiated.
 *
 *	-n count and -c concurrency send the message count times over as
 *	many connections, from concurrency threads; the actions of the
 *	first message are printed.  -t adds a line with the number of
 *	messages, errors, messages per second and the latency (connect to
 *	verdict) at the 50th and 99th percentiles.
 *
 *	-N leaves Nagle's algorithm on for TCP connections, as Postfix does
 *	(its milter client sets only SO_KEEPALIVE); by default TCP_NODELAY
 *	is set on the client side.
 *
 *	-V first varies the sender domain: message i (from 0) is sent from
 *	the local part of -f at d<first+i>.<domain of -f>, for instance
 *	sender@d1.example.org, sender@d2.example.org... with -V 1.
 *
 *	-R sessions sends the message that many times over one milter
 *	connection, as Sendmail reuses one for several SMTP sessions: after
 *	each verdict SMFIC_QUIT_NC (and a line "QUIT_NC"), then the
 *	connect step again, without a new negotiation.
 *
 *	-x abort-after=header hangs up after sending the header fields,
 *	-x abort-after=body after the first body chunk; it prints
 *	"HANGUP after header" (or body).
 * DIAGNOSTICS
 *	Exit 0 when every message got a verdict (or was hung up on as asked),
 *	1 on a connection or protocol error (the first one is printed on
 *	standard error), 2 on a usage error.  Every read is length-checked;
 *	each read and write times out after -T seconds (default 30).
 */
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <libmilter/mfapi.h>
#include <libmilter/mfdef.h>

#include "buf.h"

#define MC_PROTO_VERSION	6
#define MC_CHUNK		65535		/* body chunk, as Postfix */
#define MC_REPLY_MAX		(4 * 1024 * 1024) /* largest reply packet */
#define MC_INPUT_MAX		(64 * 1024 * 1024) /* largest message */
#define MC_COUNT_MAX		1000000		/* -n bound */
#define MC_THREADS_MAX		256		/* -c bound */
#define MC_LIST_MAX		100		/* -r and -m bound */
#define MC_TIMEOUT_MAX		3600		/* -T bound, seconds */
#define MC_SESSIONS_MAX		1000		/* -R bound */

enum mc_abort { MC_ABORT_NONE, MC_ABORT_HEADER, MC_ABORT_BODY };

struct mc_opts {
	const char	*sock;
	const char	*ip, *helo, *from, *qid, *auth;
	const char	*client_name;	/* -C, or NULL: "[ip]" */
	const char	*rcpt[MC_LIST_MAX];
	int		 nrcpt;
	const char	*macro[MC_LIST_MAX];
	int		 nmacro;
	long		 count, threads;
	long		 sessions;		/* -R: SMTP sessions per
						   connection */
	int		 timing;
	long		 timeout;		/* seconds */
	int		 nagle;			/* -N: no TCP_NODELAY */
	int		 no_leadspc;		/* -L: LEADSPC not offered */
	long		 vary;			/* -V: first domain number, or -1 */
	enum mc_abort	 abort_after;
};

struct mc_header {
	char	*name;
	char	*value;			/* after the colon, folds as LF */
};

struct mc_msg {
	struct mc_header *h;
	size_t		 nh;
	struct buf	 body;		/* CRLF line ends */
};

/* One connection to the milter. */
struct mc_conn {
	int		 fd;
	struct buf	 out;		/* packets not yet written */
	unsigned long	 pflags;	/* what the milter negotiated */
	struct buf	 pkt;		/* the last packet read */
	char		 cmd;		/* its command byte */
	const char	*from;		/* this message's sender */
};

/* What a verdict means for the rest of the message. */
enum mc_next { MC_GO, MC_SKIP, MC_DONE };

static const struct mc_opts *opts;
static const struct mc_msg *msg;

/* Shared by the sending threads. */
static struct {
	pthread_mutex_t	 lock;
	long		 next;		/* index of the next message */
	long		 errors;
	double		*latency;	/* ms, one per message */
	struct buf	 first_err;
	struct buf	 first_out;	/* actions of message 0 */
} run = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* now_ms - monotonic time in milliseconds */
static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Message input. */

/* is_header - a "name:" line? returns the colon, or NULL */
static const char *
is_header(const char *p, const char *end)
{
	const char *q = p;

	while (q < end && *q > ' ' && *q < 0x7f && *q != ':')
		q++;
	if (q == p)
		return NULL;
	while (q < end && (*q == ' ' || *q == '\t'))
		q++;
	return q < end && *q == ':' ? q : NULL;
}

/* body_crlf - append the body with every bare LF made CRLF */
static void
body_crlf(struct buf *b, const char *p, const char *end)
{
	const char *q;

	for (; p < end; p = q + 1) {
		if ((q = memchr(p, '\n', (size_t)(end - p))) == NULL) {
			buf_append(b, p, (size_t)(end - p));
			buf_append(b, "\r\n", 2);
			return;
		}
		buf_append(b, p, (size_t)(q - p));
		if (q > p && q[-1] == '\r')
			buf_append(b, "\n", 1);
		else
			buf_append(b, "\r\n", 2);
	}
}

/* add_header - start a new header field */
static int
add_header(struct mc_msg *m, const char *p, const char *colon,
    const char *eol)
{
	struct mc_header *h;
	const char *ne = p;

	if ((h = realloc(m->h, (m->nh + 1) * sizeof(*h))) == NULL)
		return -1;
	m->h = h;
	while (ne < colon && *ne != ' ' && *ne != '\t')
		ne++;
	h[m->nh].name = strndup(p, (size_t)(ne - p));
	h[m->nh].value = strndup(colon + 1, (size_t)(eol - colon - 1));
	if (h[m->nh].name == NULL || h[m->nh].value == NULL)
		return -1;
	m->nh++;
	return 0;
}

/* add_fold - append a continuation line to the last header field */
static int
add_fold(struct mc_msg *m, const char *p, const char *eol)
{
	struct buf v = BUF_INIT;
	struct mc_header *h = &m->h[m->nh - 1];

	buf_puts(&v, h->value);
	buf_putc(&v, '\n');
	buf_append(&v, p, (size_t)(eol - p));
	if (v.failed)
		return -1;
	free(h->value);
	h->value = buf_detach(&v);
	return 0;
}

/* parse_message - split text into header fields and a CRLF body */
static int
parse_message(const char *p, size_t n, struct mc_msg *m)
{
	const char *end = p + n, *nl, *eol, *colon;

	memset(m, 0, sizeof(*m));
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		eol = nl ? nl : end;
		if (eol > p && eol[-1] == '\r')
			eol--;
		if (eol == p) {			/* the empty line */
			p = nl ? nl + 1 : end;
			break;
		}
		if ((*p == ' ' || *p == '\t') && m->nh > 0) {
			if (add_fold(m, p, eol) < 0)
				return -1;
		} else if ((colon = is_header(p, eol)) != NULL) {
			if (add_header(m, p, colon, eol) < 0)
				return -1;
		} else
			break;			/* not a header: body starts */
		p = nl ? nl + 1 : end;
	}
	if (p < end)
		body_crlf(&m->body, p, end);
	return m->body.failed ? -1 : 0;
}

/* read_input - read all of standard input */
static int
read_input(struct buf *in)
{
	char chunk[65536];
	ssize_t r;

	while ((r = read(STDIN_FILENO, chunk, sizeof(chunk))) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (in->len + (size_t)r > MC_INPUT_MAX)
			return -1;
		buf_append(in, chunk, (size_t)r);
	}
	return in->failed ? -1 : 0;
}

/* Connection and packets. */

/* mc_connect - open the socket named by spec; -1 with err set */
static int
mc_connect(const char *spec, struct buf *err)
{
	char ebuf[128];
	struct sockaddr_un sun;
	struct addrinfo hints, *res = NULL, *ai;
	struct timeval tv = { .tv_sec = opts->timeout };
	char port[16], host[256];
	const char *rest = spec, *at;
	int fd = -1, on = 1, family = AF_UNSPEC, r;

	if (strncasecmp(spec, "unix:", 5) == 0 ||
	    strncasecmp(spec, "local:", 6) == 0 || spec[0] == '/') {
		rest = spec[0] == '/' ? spec : strchr(spec, ':') + 1;
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		if (strlen(rest) >= sizeof(sun.sun_path)) {
			buf_printf(err, "%s: path too long", spec);
			return -1;
		}
		strcpy(sun.sun_path, rest);
		if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0 ||
		    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
			goto fail;
		goto opts;
	}
	if (strncasecmp(spec, "inet:", 5) == 0)
		rest = spec + 5, family = AF_INET;
	else if (strncasecmp(spec, "inet6:", 6) == 0)
		rest = spec + 6, family = AF_INET6;
	if (family == AF_UNSPEC || (at = strchr(rest, '@')) == NULL ||
	    (size_t)(at - rest) >= sizeof(port) || strlen(at + 1) >= sizeof(host)) {
		buf_printf(err, "%s: use inet:PORT@HOST, inet6:PORT@HOST or "
		    "unix:/path", spec);
		return -1;
	}
	memcpy(port, rest, (size_t)(at - rest));
	port[at - rest] = '\0';
	strcpy(host, at + 1);
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	if ((r = getaddrinfo(host, port, &hints, &res)) != 0) {
		buf_printf(err, "%s: %s", spec, gai_strerror(r));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, SOCK_STREAM, 0)) < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		goto fail;
	if (!opts->nagle)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
opts:
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
fail:
	buf_printf(err, "connect %s: %s", spec,
	    strerror_r(errno, ebuf, sizeof(ebuf)));
	if (fd >= 0)
		close(fd);
	return -1;
}

/* put32 - append a 32-bit integer in network order */
static void
put32(struct buf *b, uint32_t v)
{
	unsigned char x[4] = { v >> 24, v >> 16, v >> 8, v };

	buf_append(b, x, 4);
}

/* get32 - read a 32-bit integer in network order */
static uint32_t
get32(const void *p)
{
	const unsigned char *x = p;

	return (uint32_t)x[0] << 24 | (uint32_t)x[1] << 16 |
	    (uint32_t)x[2] << 8 | x[3];
}

/* pkt_add - queue one packet: cmd and data */
static void
pkt_add(struct mc_conn *c, char cmd, const void *data, size_t len)
{
	put32(&c->out, (uint32_t)len + 1);
	buf_putc(&c->out, cmd);
	buf_append(&c->out, data, len);
}

/* flush - write the queued packets */
static int
flush(struct mc_conn *c, struct buf *err)
{
	char ebuf[128];
	size_t off = 0;
	ssize_t w;

	if (c->out.failed) {
		buf_puts(err, "out of memory");
		return -1;
	}
	while (off < c->out.len) {
		w = write(c->fd, c->out.s + off, c->out.len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			buf_printf(err, "write: %s", errno == EAGAIN ?
			    "timed out" : strerror_r(errno, ebuf,
			    sizeof(ebuf)));
			return -1;
		}
		off += (size_t)w;
	}
	buf_reset(&c->out);
	return 0;
}

/* read_full - read exactly n bytes */
static int
read_full(int fd, void *p, size_t n, struct buf *err)
{
	char ebuf[128];
	size_t off = 0;
	ssize_t r;

	while (off < n) {
		r = read(fd, (char *)p + off, n - off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			buf_printf(err, "read: %s", r == 0 ? "milter closed "
			    "the connection" : errno == EAGAIN ? "timed out" :
			    strerror_r(errno, ebuf, sizeof(ebuf)));
			return -1;
		}
		off += (size_t)r;
	}
	return 0;
}

/* pkt_read - read one packet into c->cmd and c->pkt */
static int
pkt_read(struct mc_conn *c, struct buf *err)
{
	unsigned char hdr[5];
	uint32_t len;

	if (read_full(c->fd, hdr, 5, err) < 0)
		return -1;
	len = get32(hdr);
	if (len < 1 || len > MC_REPLY_MAX) {
		buf_printf(err, "bad reply length %lu", (unsigned long)len);
		return -1;
	}
	c->cmd = (char)hdr[4];
	buf_reset(&c->pkt);
	if (buf_reserve(&c->pkt, len - 1) < 0) {
		buf_puts(err, "out of memory");
		return -1;
	}
	if (read_full(c->fd, c->pkt.s, len - 1, err) < 0)
		return -1;
	c->pkt.len = len - 1;
	c->pkt.s[c->pkt.len] = '\0';
	return 0;
}

/* Replies. */

/* escape - append p, one line: \n, \r, \\ and other controls escaped */
static void
escape(struct buf *out, const char *p)
{
	for (; *p != '\0'; p++) {
		unsigned char ch = (unsigned char)*p;

		if (ch == '\n')
			buf_puts(out, "\\n");
		else if (ch == '\r')
			buf_puts(out, "\\r");
		else if (ch == '\\')
			buf_puts(out, "\\\\");
		else if (ch < 0x20 && ch != '\t')
			buf_printf(out, "\\x%02x", ch);
		else
			buf_putc(out, ch);
	}
}

/* pkt_str - the NUL-terminated string at *off in the packet; NULL if
 * the packet ends first */
static const char *
pkt_str(const struct mc_conn *c, size_t *off)
{
	const char *s = c->pkt.s + *off, *nul;

	if (*off >= c->pkt.len ||
	    (nul = memchr(s, '\0', c->pkt.len - *off)) == NULL)
		return NULL;
	*off += (size_t)(nul - s) + 1;
	return s;
}

/* header_action - ADDHEADER, INSHEADER, CHGHEADER */
static int
header_action(const struct mc_conn *c, const char *what, int indexed,
    struct buf *out)
{
	size_t off = indexed ? 4 : 0;
	const char *name, *value;

	if (c->pkt.len < off || (name = pkt_str(c, &off)) == NULL ||
	    (value = pkt_str(c, &off)) == NULL)
		return -1;
	buf_printf(out, "%s ", what);
	if (indexed)
		buf_printf(out, "%lu ", (unsigned long)get32(c->pkt.s));
	escape(out, name);
	buf_puts(out, (c->pflags & SMFIP_HDR_LEADSPC) ? ":" : ": ");
	escape(out, value);
	buf_putc(out, '\n');
	return 0;
}

/* addr_action - CHGFROM, ADDRCPT, DELRCPT, QUARANTINE: strings */
static int
addr_action(const struct mc_conn *c, const char *what, struct buf *out)
{
	size_t off = 0;
	const char *s;

	if ((s = pkt_str(c, &off)) == NULL)
		return -1;
	buf_printf(out, "%s ", what);
	escape(out, s);
	while ((s = pkt_str(c, &off)) != NULL) {
		buf_putc(out, ' ');
		escape(out, s);
	}
	buf_putc(out, '\n');
	return 0;
}

/* modification - print one modification action */
static int
modification(const struct mc_conn *c, struct buf *out, struct buf *err)
{
	int r;

	switch (c->cmd) {
	case SMFIR_ADDHEADER:
		r = header_action(c, "ADDHEADER", 0, out);
		break;
	case SMFIR_INSHEADER:
		r = header_action(c, "INSHEADER", 1, out);
		break;
	case SMFIR_CHGHEADER:
		r = header_action(c, "CHGHEADER", 1, out);
		break;
	case SMFIR_CHGFROM:
		r = addr_action(c, "CHGFROM", out);
		break;
	case SMFIR_ADDRCPT:
	case SMFIR_ADDRCPT_PAR:
		r = addr_action(c, "ADDRCPT", out);
		break;
	case SMFIR_DELRCPT:
		r = addr_action(c, "DELRCPT", out);
		break;
	case SMFIR_QUARANTINE:
		r = addr_action(c, "QUARANTINE", out);
		break;
	case SMFIR_REPLBODY:
		r = buf_printf(out, "REPLBODY %zu bytes\n", c->pkt.len);
		break;
	default:
		buf_printf(err, "unknown reply '%c' (0x%02x)", isprint(
		    (unsigned char)c->cmd) ? c->cmd : '?', (unsigned char)c->cmd);
		return -1;
	}
	if (r < 0)
		buf_printf(err, "malformed '%c' reply", c->cmd);
	return r;
}

/* verdict - print a verdict; stage is NULL at end of message */
static enum mc_next
verdict(const struct mc_conn *c, const char *word, const char *stage,
    struct buf *out)
{
	buf_puts(out, word);
	if (c->cmd == SMFIR_REPLYCODE) {
		buf_putc(out, ' ');
		escape(out, c->pkt.s);
	}
	if (stage != NULL)
		buf_printf(out, " at %s", stage);
	buf_putc(out, '\n');
	return MC_DONE;
}

/* await - read replies to one step; stage NULL means end of message */
static int
await(struct mc_conn *c, const char *stage, struct buf *out, struct buf *err)
{
	for (;;) {
		if (pkt_read(c, err) < 0)
			return -1;
		switch (c->cmd) {
		case SMFIR_PROGRESS:
			continue;
		case SMFIR_CONTINUE:
			if (stage == NULL)
				verdict(c, "CONTINUE", NULL, out);
			return MC_GO;
		case SMFIR_SKIP:
			return MC_SKIP;
		case SMFIR_ACCEPT:
			return verdict(c, "ACCEPT", stage, out);
		case SMFIR_REJECT:
			return verdict(c, "REJECT", stage, out);
		case SMFIR_TEMPFAIL:
			return verdict(c, "TEMPFAIL", stage, out);
		case SMFIR_DISCARD:
			return verdict(c, "DISCARD", stage, out);
		case SMFIR_SHUTDOWN:
			return verdict(c, "SHUTDOWN", stage, out);
		case SMFIR_CONN_FAIL:
			return verdict(c, "CONNFAIL", stage, out);
		case SMFIR_REPLYCODE:
			if (memchr(c->pkt.s, '\0', c->pkt.len) == NULL) {
				buf_puts(err, "malformed reply code");
				return -1;
			}
			return verdict(c, "REPLYCODE", stage, out);
		}
		if (stage != NULL) {
			buf_printf(err, "modification '%c' before end of "
			    "message (at %s)", isprint((unsigned char)c->cmd) ?
			    c->cmd : '?', stage);
			return -1;
		}
		if (modification(c, out, err) < 0)
			return -1;
	}
}

/* Sending a message. */

/* step - send one command; wait for its reply unless nr_bit says none */
static int
step(struct mc_conn *c, char cmd, const void *data, size_t len,
    unsigned long nr_bit, const char *stage, struct buf *out,
    struct buf *err)
{
	pkt_add(c, cmd, data, len);
	if (c->pflags & nr_bit)
		return MC_GO;		/* stays queued, goes with the next */
	if (flush(c, err) < 0)
		return -1;
	return await(c, stage, out, err);
}

/* macro - append one name\0value\0 pair, bracing long names */
static void
macro(struct buf *b, const char *name, size_t nlen, const char *value)
{
	if (nlen > 1 && name[0] != '{')
		buf_printf(b, "{%.*s}", (int)nlen, name);
	else
		buf_append(b, name, nlen);
	buf_putc(b, '\0');
	buf_puts(b, value);
	buf_putc(b, '\0');
}

/* macros_for - queue the macros of one stage (rcpt: for SMFIC_RCPT) */
static void
macros_for(struct mc_conn *c, char stage, const char *rcpt)
{
	struct buf b = BUF_INIT;
	const char *eq;
	int i;

	buf_putc(&b, stage);
	switch (stage) {
	case SMFIC_CONNECT:
		macro(&b, "j", 1, "mx.example.net");
		macro(&b, "daemon_name", 11, "milterclient");
		macro(&b, "client_addr", 11, opts->ip);
		break;
	case SMFIC_MAIL:
		macro(&b, "i", 1, opts->qid);
		macro(&b, "daemon_name", 11, "milterclient");
		macro(&b, "mail_addr", 9, c->from);
		if (opts->auth != NULL)
			macro(&b, "auth_authen", 11, opts->auth);
		for (i = 0; i < opts->nmacro; i++) {
			eq = strchr(opts->macro[i], '=');
			macro(&b, opts->macro[i], (size_t)(eq - opts->macro[i]),
			    eq + 1);
		}
		break;
	case SMFIC_RCPT:
		macro(&b, "rcpt_addr", 9, rcpt);
		break;
	case SMFIC_BODYEOB:
		macro(&b, "i", 1, opts->qid);
		break;
	}
	if (b.len > 1)
		pkt_add(c, SMFIC_MACRO, b.s, b.len);
	buf_free(&b);
}

/* negotiate - offer everything; keep what the milter chose */
static int
negotiate(struct mc_conn *c, struct buf *err)
{
	struct buf b = BUF_INIT;
	uint32_t version;
	unsigned long offered = SMFI_CURR_PROT &
	    ~(opts->no_leadspc ? SMFIP_HDR_LEADSPC : 0UL);

	put32(&b, MC_PROTO_VERSION);
	put32(&b, SMFI_CURR_ACTS);
	put32(&b, offered);
	pkt_add(c, SMFIC_OPTNEG, b.s, b.len);
	buf_free(&b);
	if (flush(c, err) < 0 || pkt_read(c, err) < 0)
		return -1;
	if (c->cmd != SMFIC_OPTNEG || c->pkt.len < 12) {
		buf_puts(err, "bad option negotiation reply");
		return -1;
	}
	version = get32(c->pkt.s);
	if (version < 2 || version > MC_PROTO_VERSION) {
		buf_printf(err, "milter speaks protocol version %lu",
		    (unsigned long)version);
		return -1;
	}
	c->pflags = get32(c->pkt.s + 8);
	if (c->pflags & ~offered) {
		buf_printf(err, "milter asks for protocol options 0x%lx, "
		    "not offered", c->pflags & ~offered);
		return -1;
	}
	return 0;
}

/* envelope - connect, helo, mail, rcpt and data steps */
static int
envelope(struct mc_conn *c, struct buf *out, struct buf *err)
{
	struct buf b = BUF_INIT;
	unsigned char a[16];
	int r = MC_GO, i;

	if (!(c->pflags & SMFIP_NOCONNECT)) {
		macros_for(c, SMFIC_CONNECT, NULL);
		if (opts->client_name != NULL)
			buf_puts(&b, opts->client_name);
		else
			buf_printf(&b, "[%s]", opts->ip);
		buf_putc(&b, '\0');
		buf_putc(&b, inet_pton(AF_INET6, opts->ip, a) == 1 ?
		    SMFIA_INET6 : SMFIA_INET);
		buf_append(&b, "\0\0", 2);		/* port */
		buf_puts(&b, opts->ip);
		r = step(c, SMFIC_CONNECT, b.s, b.len + 1, SMFIP_NR_CONN,
		    "connect", out, err);
	}
	if (r == MC_GO && !(c->pflags & SMFIP_NOHELO))
		r = step(c, SMFIC_HELO, opts->helo, strlen(opts->helo) + 1,
		    SMFIP_NR_HELO, "helo", out, err);
	if (r == MC_GO && !(c->pflags & SMFIP_NOMAIL)) {
		macros_for(c, SMFIC_MAIL, NULL);
		buf_reset(&b);
		buf_printf(&b, "<%s>", c->from);
		r = step(c, SMFIC_MAIL, b.s, b.len + 1, SMFIP_NR_MAIL, "mail",
		    out, err);
	}
	for (i = 0; r == MC_GO && !(c->pflags & SMFIP_NORCPT) &&
	    i < opts->nrcpt; i++) {
		macros_for(c, SMFIC_RCPT, opts->rcpt[i]);
		buf_reset(&b);
		buf_printf(&b, "<%s>", opts->rcpt[i]);
		r = step(c, SMFIC_RCPT, b.s, b.len + 1, SMFIP_NR_RCPT, "rcpt",
		    out, err);
	}
	if (r == MC_GO && !(c->pflags & SMFIP_NODATA))
		r = step(c, SMFIC_DATA, NULL, 0, SMFIP_NR_DATA, "data", out,
		    err);
	if (b.failed) {
		buf_puts(err, "out of memory");
		r = -1;
	}
	buf_free(&b);
	return r == MC_SKIP ? MC_GO : r;
}

/* headers - one step per header field, then end of header */
static int
headers(struct mc_conn *c, struct buf *out, struct buf *err)
{
	struct buf b = BUF_INIT;
	const char *v;
	size_t i;
	int r = MC_GO;

	for (i = 0; r == MC_GO && !(c->pflags & SMFIP_NOHDRS) &&
	    i < msg->nh; i++) {
		v = msg->h[i].value;
		if (!(c->pflags & SMFIP_HDR_LEADSPC) && *v == ' ')
			v++;		/* as Postfix and Sendmail */
		buf_reset(&b);
		buf_puts(&b, msg->h[i].name);
		buf_putc(&b, '\0');
		buf_puts(&b, v);
		if (b.failed) {
			buf_puts(err, "out of memory");
			r = -1;
			break;
		}
		r = step(c, SMFIC_HEADER, b.s, b.len + 1, SMFIP_NR_HDR,
		    "header", out, err);
	}
	buf_free(&b);
	if (r == MC_GO && opts->abort_after == MC_ABORT_HEADER)
		return flush(c, err) < 0 ? -1 : MC_DONE;
	if (r == MC_GO && !(c->pflags & SMFIP_NOEOH))
		r = step(c, SMFIC_EOH, NULL, 0, SMFIP_NR_EOH, "eoh", out, err);
	return r == MC_SKIP ? MC_GO : r;
}

/* body - the body in chunks, then end of message */
static int
body(struct mc_conn *c, struct buf *out, struct buf *err)
{
	size_t off = 0, n;
	int r = MC_GO;

	while (r == MC_GO && !(c->pflags & SMFIP_NOBODY) &&
	    off < msg->body.len) {
		n = msg->body.len - off;
		if (n > MC_CHUNK)
			n = MC_CHUNK;
		r = step(c, SMFIC_BODY, msg->body.s + off, n, SMFIP_NR_BODY,
		    "body", out, err);
		off += n;
		if (r == MC_GO && opts->abort_after == MC_ABORT_BODY)
			return flush(c, err) < 0 ? -1 : MC_DONE;
	}
	if (r == MC_SKIP)
		r = MC_GO;
	if (r == MC_GO && opts->abort_after == MC_ABORT_BODY)
		return flush(c, err) < 0 ? -1 : MC_DONE;
	if (r != MC_GO)
		return r;
	macros_for(c, SMFIC_BODYEOB, NULL);
	pkt_add(c, SMFIC_BODYEOB, NULL, 0);
	if (flush(c, err) < 0)
		return -1;
	return await(c, NULL, out, err);
}

/* sender - the sender of message i: -f, or with -V a numbered domain */
static int
sender(long i, struct buf *from, struct buf *err)
{
	const char *at = strrchr(opts->from, '@');

	if (opts->vary < 0 || at == NULL)
		buf_puts(from, opts->from);
	else
		buf_printf(from, "%.*s@d%ld.%s", (int)(at - opts->from),
		    opts->from, opts->vary + i, at + 1);
	if (from->failed) {
		buf_puts(err, "out of memory");
		return -1;
	}
	return 0;
}

/* message - message i over one new connection; -1 with err set */
static int
message(long i, struct buf *out, struct buf *err)
{
	struct mc_conn c = { .fd = -1, .out = BUF_INIT, .pkt = BUF_INIT };
	struct buf from = BUF_INIT;
	long n;
	int r;

	if (sender(i, &from, err) < 0 ||
	    (c.fd = mc_connect(opts->sock, err)) < 0) {
		buf_free(&from);
		return -1;
	}
	c.from = buf_str(&from);
	r = negotiate(&c, err);
	for (n = 0; r >= 0 && n < opts->sessions; n++) {
		if (n > 0) {		/* a new SMTP session, same milter */
			pkt_add(&c, SMFIC_QUIT_NC, NULL, 0);
			buf_puts(out, "QUIT_NC\n");
		}
		r = envelope(&c, out, err);
		if (r == MC_GO)
			r = headers(&c, out, err);
		if (r == MC_GO)
			r = body(&c, out, err);
		if (opts->abort_after != MC_ABORT_NONE)
			break;
	}
	if (r >= 0 && opts->abort_after != MC_ABORT_NONE)
		buf_printf(out, "HANGUP after %s\n", opts->abort_after ==
		    MC_ABORT_HEADER ? "header" : "body");
	else if (r >= 0) {
		struct buf ignored = BUF_INIT;

		/* the verdict is in: a milter gone by now is no error */
		pkt_add(&c, SMFIC_QUIT, NULL, 0);
		(void)flush(&c, &ignored);
		buf_free(&ignored);
	}
	close(c.fd);
	buf_free(&from);
	buf_free(&c.out);
	buf_free(&c.pkt);
	return r < 0 ? -1 : 0;
}

/* Several messages, several threads. */

/* worker - send messages until count is reached */
static void *
worker(void *arg)
{
	struct buf out = BUF_INIT, err = BUF_INIT;
	double t0;
	long i;
	int r;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&run.lock);
		i = run.next < opts->count ? run.next++ : -1;
		pthread_mutex_unlock(&run.lock);
		if (i < 0)
			break;
		buf_reset(&out);
		buf_reset(&err);
		t0 = now_ms();
		r = message(i, &out, &err);
		run.latency[i] = now_ms() - t0;
		pthread_mutex_lock(&run.lock);
		if (r < 0 && run.errors++ == 0)
			buf_puts(&run.first_err, buf_str(&err));
		if (i == 0)
			buf_puts(&run.first_out, buf_str(&out));
		pthread_mutex_unlock(&run.lock);
	}
	buf_free(&out);
	buf_free(&err);
	return NULL;
}

/* cmp_double - qsort order */
static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* percentile - the p-th percentile of sorted values */
static double
percentile(const double *v, long n, double p)
{
	long i = (long)(p / 100.0 * (double)n + 0.5) - 1;

	if (i < 0)
		i = 0;
	if (i >= n)
		i = n - 1;
	return v[i];
}

/* send_all - run the workers; print the first message's actions */
static int
send_all(void)
{
	pthread_t tid[MC_THREADS_MAX];
	double t0, secs;
	long i, started = 0;

	if ((run.latency = calloc((size_t)opts->count, sizeof(double))) ==
	    NULL) {
		fprintf(stderr, "milterclient: out of memory\n");
		return 1;
	}
	t0 = now_ms();
	for (i = 0; i < opts->threads; i++)
		if (pthread_create(&tid[i], NULL, worker, NULL) == 0)
			started++;
	if (started == 0)
		worker(NULL);
	for (i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	secs = (now_ms() - t0) / 1e3;
	fputs(buf_str(&run.first_out), stdout);
	if (opts->timing) {
		qsort(run.latency, (size_t)opts->count, sizeof(double),
		    cmp_double);
		printf("TIMING messages=%ld errors=%ld seconds=%.3f "
		    "rate=%.1f/s p50=%.3fms p99=%.3fms\n", opts->count,
		    run.errors, secs, secs > 0 ? (double)opts->count / secs : 0,
		    percentile(run.latency, opts->count, 50),
		    percentile(run.latency, opts->count, 99));
	}
	if (run.errors > 0)
		fprintf(stderr, "milterclient: %ld of %ld failed; first: %s\n",
		    run.errors, opts->count, buf_str(&run.first_err));
	free(run.latency);
	return run.errors > 0 ? 1 : 0;
}

/* Command line. */

/* usage - print usage and return the usage status */
static int
usage(const char *why)
{
	if (why != NULL)
		fprintf(stderr, "milterclient: %s\n", why);
	fprintf(stderr, "usage: milterclient -s socket [-i client-ip] "
	    "[-C client-name] [-H helo] [-f mailfrom]\n"
	    "    [-r rcpt]... [-m macro=value]... [-q queueid] "
	    "[-a auth_authen]\n"
	    "    [-n count] [-c concurrency] [-t] [-T timeout] [-L] [-N] "
	    "[-R sessions] [-V first]\n"
	    "    [-x abort-after=header|body] < message\n");
	return 2;
}

/* number - parse a decimal option value within [min, max] */
static int
number(const char *s, long min, long max, long *v)
{
	char *end;

	errno = 0;
	*v = strtol(s, &end, 10);
	return errno == 0 && end != s && *end == '\0' && *v >= min &&
	    *v <= max ? 0 : -1;
}

/* parse_opts - the command line into o; -1 on a usage error */
static int
parse_opts(int argc, char **argv, struct mc_opts *o)
{
	unsigned char a[16];
	int ch;

	while ((ch = getopt(argc, argv, "a:C:c:f:hH:i:Lm:n:Nq:r:R:s:tT:V:x:"))
	    != -1) {
		switch (ch) {
		case 'a': o->auth = optarg; break;
		case 'C': o->client_name = optarg; break;
		case 'f': o->from = optarg; break;
		case 'H': o->helo = optarg; break;
		case 'i': o->ip = optarg; break;
		case 'q': o->qid = optarg; break;
		case 's': o->sock = optarg; break;
		case 't': o->timing = 1; break;
		case 'N': o->nagle = 1; break;
		case 'L': o->no_leadspc = 1; break;
		case 'V':
			if (number(optarg, 0, MC_COUNT_MAX, &o->vary) < 0)
				return -1;
			break;
		case 'c':
			if (number(optarg, 1, MC_THREADS_MAX, &o->threads) < 0)
				return -1;
			break;
		case 'n':
			if (number(optarg, 1, MC_COUNT_MAX, &o->count) < 0)
				return -1;
			break;
		case 'R':
			if (number(optarg, 1, MC_SESSIONS_MAX, &o->sessions) <
			    0)
				return -1;
			break;
		case 'T':
			if (number(optarg, 1, MC_TIMEOUT_MAX, &o->timeout) < 0)
				return -1;
			break;
		case 'm':
			if (o->nmacro == MC_LIST_MAX || optarg[0] == '=' ||
			    strchr(optarg, '=') == NULL)
				return -1;
			o->macro[o->nmacro++] = optarg;
			break;
		case 'r':
			if (o->nrcpt == MC_LIST_MAX)
				return -1;
			o->rcpt[o->nrcpt++] = optarg;
			break;
		case 'x':
			if (strcmp(optarg, "abort-after=header") == 0)
				o->abort_after = MC_ABORT_HEADER;
			else if (strcmp(optarg, "abort-after=body") == 0)
				o->abort_after = MC_ABORT_BODY;
			else
				return -1;
			break;
		default:
			return -1;
		}
	}
	if (optind != argc || o->sock == NULL)
		return -1;
	if (inet_pton(AF_INET, o->ip, a) != 1 &&
	    inet_pton(AF_INET6, o->ip, a) != 1)
		return -1;
	if (o->nrcpt == 0)
		o->rcpt[o->nrcpt++] = "recipient@example.com";
	return 0;
}

int
main(int argc, char **argv)
{
	static struct mc_opts o = {
		.ip = "192.0.2.1", .helo = "client.example.org",
		.from = "sender@example.org", .qid = "4ABC123DEF",
		.count = 1, .threads = 1, .timeout = 30, .vary = -1,
		.sessions = 1,
	};
	static struct mc_msg m;
	struct buf in = BUF_INIT;
	int r;

	if (parse_opts(argc, argv, &o) < 0)
		return usage(NULL);
	if (read_input(&in) < 0) {
		fprintf(stderr, "milterclient: cannot read the message (at most "
		    "%d bytes)\n", MC_INPUT_MAX);
		return 1;
	}
	if (parse_message(buf_str(&in), in.len, &m) < 0) {
		fprintf(stderr, "milterclient: out of memory\n");
		return 1;
	}
	buf_free(&in);
	opts = &o;
	msg = &m;
	signal(SIGPIPE, SIG_IGN);
	r = send_all();
	while (m.nh > 0) {
		m.nh--;
		free(m.h[m.nh].name);
		free(m.h[m.nh].value);
	}
	free(m.h);
	buf_free(&m.body);
	buf_free(&run.first_out);
	buf_free(&run.first_err);
	return r;
}
