/*
 * NAME
 *	milter - the milter side of the Sendmail milter protocol
 * SYNOPSIS
 *	#include "milter.h"
 *
 *	int	milter_run(int lfd, const struct smfiDesc *desc,
 *		    size_t maxdata, int debug);
 *	void	milter_stop(void);
 *	void	milter_close_idle(void);
 *	unsigned long milter_pflags(SMFICTX *ctx);
 *	void	milter_session(int fd, const struct smfiDesc *desc,
 *		    size_t maxdata);
 * DESCRIPTION
 *	The engine the daemons serve the MTA with, in place of libmilter's.
 *	It speaks protocol version 6 as libmilter does, calls the same
 *	callbacks with the same arguments in the same order, and implements
 *	the libmilter calls those callbacks make (smfi_getsymval,
 *	smfi_setreply, smfi_addheader, smfi_insheader, smfi_chgheader,
 *	smfi_quarantine, smfi_addrcpt, smfi_setpriv, smfi_getpriv) with libmilter's
 *	meaning, so the callbacks are written exactly as for libmilter and
 *	libmilter's header provides the types and protocol constants.
 *
 *	What differs is the cost per message.  Each connection is served by
 *	one thread from start to end: the threads take turns in accept()
 *	(no hand-over between a listener and a worker), a thread that
 *	finishes a connection goes back to accept(), and a new thread is
 *	started when none is left waiting (up to one more than the
 *	connection limit, so that one is always in accept(); at most
 *	MILTER_IDLE_THREADS wait).  A connection over the limit is closed as
 *	soon as it is accepted, so the MTA applies its default action at
 *	once instead of waiting for its time-out; that is logged.  Input is read in large blocks and split
 *	into packets in memory, so the commands an MTA sends without waiting
 *	(header fields and body chunks under SMFIP_NR_*, macros) cost no
 *	system call each; the modifications of end of message and the final
 *	reply leave in one write.  A TCP listening socket gets TCP_NODELAY,
 *	which the sockets it accepts inherit.
 *
 *	Time is bounded per command and per message, not per read (a peer
 *	sending a byte now and then gets no more time): see struct
 *	milter_limits in milter.h.  Input memory grows with the bytes
 *	received, not with the length a packet announces.
 *
 *	On a TCP connection every read that may wait is preceded by
 *	TCP_QUICKACK, which acknowledges at once what has arrived and what
 *	arrives next.  The MTA writes packets that get no reply (macros,
 *	and the steps agreed under SMFIP_NR_*) without waiting, with Nagle
 *	on (Postfix sets no TCP_NODELAY): its next small write is held until
 *	the earlier bytes are acknowledged, and with Linux's delayed
 *	acknowledgement that took about 40 ms per message, e.g. when the
 *	Postfix SMTP server hands the connection to its cleanup server,
 *	which then sends the header.  The option does not stick (the kernel
 *	goes back to delayed acknowledgements once we reply), hence once per
 *	read.
 *
 *	Every packet is length-checked field by field before a callback
 *	sees it: strings must end inside the packet, a packet longer than
 *	maxdata closes the connection, as do unknown commands and malformed
 *	connect or negotiation data.  Commands out of protocol order are
 *	treated as libmilter treats them: an open message is aborted and
 *	the command is taken as if after HELO, or ignored if it cannot
 *	follow HELO either.  QUIT is taken at any time.
 *
 *	When a connection ends, however it ends, the abort callback runs if
 *	a message was open, then the close callback.  milter_stop() shuts
 *	the listening socket and every connection down and waits for their
 *	threads; milter_close_idle() shuts down only the connections waiting
 *	between two messages.  milter_pflags() is what a connection's
 *	negotiation agreed, which holds across SMFIC_QUIT_NC (a new SMTP
 *	session on the same connection).
 * DIAGNOSTICS
 *	Protocol errors (each malformed packet), time-outs and failures to
 *	start a thread are logged as warnings; the connection concerned is
 *	closed, and the MTA applies its default action
 *	(milter_default_action in Postfix).  accept() running out of
 *	descriptors or memory is logged at most once per MILTER_LOG_EVERY
 *	seconds, and retried every MILTER_PAUSE_MS.
 * SEE ALSO
 *	Postfix src/milter/milter8.c for the MTA side; libmilter(3).
 */
#include <errno.h>
#include <limits.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <libmilter/mfdef.h>

#include "buf.h"
#include "log.h"
#include "milter.h"

/* Protocol states, as libmilter numbers the stages of a connection. */
enum st {
	ST_INIT, ST_OPTS, ST_CONN, ST_HELO, ST_MAIL, ST_RCPT, ST_DATA,
	ST_HDRS, ST_EOHS, ST_BODY, ST_ENDM, ST_QUIT, ST_ABRT, ST_UNKN, ST_Q_NC
};
#define BIT(s)	(1u << (s))

/* The states each state may be followed by. */
static const unsigned next_ok[] = {
	[ST_INIT] = BIT(ST_OPTS),
	[ST_OPTS] = BIT(ST_CONN) | BIT(ST_UNKN),
	[ST_CONN] = BIT(ST_HELO) | BIT(ST_MAIL) | BIT(ST_UNKN),
	[ST_HELO] = BIT(ST_HELO) | BIT(ST_MAIL) | BIT(ST_UNKN),
	[ST_MAIL] = BIT(ST_RCPT) | BIT(ST_ABRT) | BIT(ST_UNKN),
	[ST_RCPT] = BIT(ST_HDRS) | BIT(ST_EOHS) | BIT(ST_DATA) | BIT(ST_BODY) |
	    BIT(ST_ENDM) | BIT(ST_RCPT) | BIT(ST_ABRT) | BIT(ST_UNKN),
	[ST_DATA] = BIT(ST_EOHS) | BIT(ST_HDRS) | BIT(ST_ABRT),
	[ST_HDRS] = BIT(ST_EOHS) | BIT(ST_HDRS) | BIT(ST_ABRT),
	[ST_EOHS] = BIT(ST_BODY) | BIT(ST_ENDM) | BIT(ST_ABRT),
	[ST_BODY] = BIT(ST_ENDM) | BIT(ST_BODY) | BIT(ST_ABRT),
	[ST_ENDM] = BIT(ST_QUIT) | BIT(ST_MAIL) | BIT(ST_UNKN) | BIT(ST_Q_NC),
	[ST_QUIT] = 0,
	[ST_ABRT] = 0,
	[ST_UNKN] = BIT(ST_HELO) | BIT(ST_MAIL) | BIT(ST_RCPT) | BIT(ST_ABRT) |
	    BIT(ST_DATA) | BIT(ST_BODY) | BIT(ST_UNKN) | BIT(ST_QUIT) |
	    BIT(ST_Q_NC),
	[ST_Q_NC] = BIT(ST_CONN) | BIT(ST_UNKN),
};

/* Macro sets, by the command they came with; looked up newest first. */
enum mac { MAC_CONN, MAC_HELO, MAC_MAIL, MAC_RCPT, MAC_DATA, MAC_EOM,
	MAC_EOH, MAC_N };

struct macros {
	char	*data;			/* the packet's copy */
	char	**v;			/* name, value, name, value, ..., NULL */
};

/* One connection: libmilter's SMFICTX. */
struct smfi_str {
	int		 fd;
	const struct smfiDesc *desc;
	enum st		 state;
	int		 waiting;	/* for the MTA's next command */
	unsigned	 skipped;	/* states of steps not sent */
	unsigned long	 aflags;	/* actions agreed */
	unsigned long	 pflags;	/* protocol options agreed */
	unsigned long	 mta_pflags;	/* what the MTA offered */
	int		 closed;	/* the close callback has run */
	void		*priv;
	char		*reply;		/* smfi_setreply text, or NULL */
	struct macros	 mac[MAC_N];
	unsigned char	*in;		/* input: [pos, len) not yet used */
	size_t		 in_cap, in_pos, in_len;
	size_t		 maxdata;
	int		 debug;
	struct milter_limits lim;	/* as when the connection started */
	int64_t		 msg_end;	/* a message's content must have
					   arrived by then (ms); 0: none */
	int		 tcp;		/* a TCP connection: see fill() */
	struct buf	 out;		/* packets waiting to be written */
	struct smfi_str	*next;		/* the list of live connections */
};

/* The server: one per process. */
static struct {
	pthread_mutex_t	 lock;
	pthread_cond_t	 done;		/* a thread ended */
	int		 lfd;
	const struct smfiDesc *desc;
	size_t		 maxdata;
	int		 debug;		/* MilterDebug */
	unsigned	 threads, idle;
	unsigned	 busy;		/* connections being served */
	int		 stopping;
	struct smfi_str	*live;
	struct milter_limits lim;
	unsigned long	 refused;	/* over the limit, not yet logged */
	int64_t		 refused_log;	/* when that was last logged (ms) */
	_Atomic unsigned long sessions, failed, hangups;
} srv = { .lock = PTHREAD_MUTEX_INITIALIZER,
	.done = PTHREAD_COND_INITIALIZER, .lfd = -1,
	.lim = MILTER_LIMITS_DEFAULT };

/* now_ms - the monotonic clock in milliseconds */
static int64_t
now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* set_state - move ctx to state s; milter_close_idle reads it from
 * another thread */
static void
set_state(SMFICTX *ctx, enum st s)
{
	__atomic_store_n(&ctx->state, s, __ATOMIC_RELEASE);
}

/* Output. */

/* put32 - append a 32-bit value in network order */
static void
put32(struct buf *b, uint32_t v)
{
	unsigned char c[4] = { v >> 24, v >> 16, v >> 8, v };

	buf_append(b, c, 4);
}

/* queue - append one packet: cmd and the n bytes of data */
static void
queue(SMFICTX *ctx, int cmd, const void *data, size_t n)
{
	char c = (char)cmd;

	put32(&ctx->out, (uint32_t)(n + 1));
	buf_append(&ctx->out, &c, 1);
	buf_append(&ctx->out, data, n);
}

/* flush - write what is queued; -1 on failure */
static int
flush(SMFICTX *ctx)
{
	size_t off = 0;
	ssize_t n;

	if (ctx->out.failed) {
		log_warnx("milter: out of memory for a reply");
		return -1;
	}
	while (off < ctx->out.len) {
		n = send(ctx->fd, ctx->out.s + off, ctx->out.len - off,
		    MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (errno == EAGAIN)
				log_warnx("milter: the MTA does not take our "
				    "reply (%u s, MilterCommandTimeout); closing "
				    "the connection", ctx->lim.command_s);
			else if (errno != EPIPE && errno != ECONNRESET)
				log_warn("milter: write");
			return -1;
		}
		off += (size_t)n;
	}
	buf_reset(&ctx->out);
	return 0;
}

/* Input. */

/* get32 - a 32-bit value in network order */
static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* What a read waits for, to name the limit that ran out. */
enum wait { W_IDLE, W_COMMAND, W_MESSAGE };

/* timed_out - log which limit ran out */
static void
timed_out(const SMFICTX *ctx, enum wait w)
{
	switch (w) {
	case W_IDLE:
		log_warnx("milter: no command from the MTA in %u s; closing "
		    "the connection", ctx->lim.idle_s);
		break;
	case W_COMMAND:
		log_warnx("milter: a command from the MTA did not arrive whole "
		    "within %u s (MilterCommandTimeout); closing the "
		    "connection", ctx->lim.command_s);
		break;
	case W_MESSAGE:
		log_warnx("milter: a message's content did not arrive within "
		    "%u s (MilterMessageTimeout); closing the connection",
		    ctx->lim.message_s);
		break;
	}
}

/* grow - room for more input: double, from MILTER_READ_MIN, up to need */
static int
grow(SMFICTX *ctx, size_t need)
{
	unsigned char *p;
	size_t cap;

	cap = ctx->in_cap < MILTER_READ_MIN ? MILTER_READ_MIN :
	    ctx->in_cap * 2;
	if (cap > need && need > MILTER_READ_MIN)
		cap = need;
	if ((p = realloc(ctx->in, cap)) == NULL) {
		log_warnx("milter: out of memory for a %zu-byte packet", need);
		return -1;
	}
	ctx->in = p;
	ctx->in_cap = cap;
	return 0;
}

/*
 * fill - make at least need bytes of input available by deadline (ms);
 * -1 on end, error or time-out (w names the limit).  The buffer grows
 * only as bytes arrive, never to more than need.
 */
static int
fill(SMFICTX *ctx, size_t need, int64_t deadline, enum wait w)
{
	struct pollfd pfd = { .fd = ctx->fd, .events = POLLIN };
	int64_t left;
	ssize_t n;
	int r, on = 1;

	if (ctx->in_len - ctx->in_pos >= need)
		return 0;
	if (ctx->in_pos > 0) {		/* keep the unread part at the start */
		memmove(ctx->in, ctx->in + ctx->in_pos,
		    ctx->in_len - ctx->in_pos);
		ctx->in_len -= ctx->in_pos;
		ctx->in_pos = 0;
	}
	while (ctx->in_len < need) {
		if (ctx->in_len == ctx->in_cap && grow(ctx, need) < 0)
			return -1;
		if ((left = deadline - now_ms()) <= 0) {
			timed_out(ctx, w);
			return -1;
		}
		if (ctx->tcp)		/* see DESCRIPTION */
			(void)setsockopt(ctx->fd, IPPROTO_TCP, TCP_QUICKACK,
			    &on, sizeof(on));
		r = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (r < 0 && errno != EINTR) {
			log_warn("milter: poll");
			return -1;
		}
		if (r <= 0)
			continue;	/* the deadline is checked above */
		n = read(ctx->fd, ctx->in + ctx->in_len,
		    ctx->in_cap - ctx->in_len);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0 && errno != ECONNRESET)
			log_warn("milter: read");
		if (n <= 0)
			return -1;
		ctx->in_len += (size_t)n;
	}
	return 0;
}

/* shrink - give back a large input buffer once it is empty */
static void
shrink(SMFICTX *ctx)
{
	if (ctx->in_pos == ctx->in_len && ctx->in_cap > 2 * MILTER_READ_MIN) {
		free(ctx->in);
		ctx->in = NULL;
		ctx->in_cap = ctx->in_pos = ctx->in_len = 0;
	}
}

/*
 * next_packet - the next command and its data (valid until the next
 * call); -1 on end of input, error, time-out or an oversized packet.
 * The wait for a command to begin is bounded by the idle limit, or within
 * a message's content by what is left of the message limit; once begun,
 * the command must arrive whole within the command limit.
 */
static int
next_packet(SMFICTX *ctx, char *cmd, char **data, size_t *len)
{
	int64_t deadline;
	enum wait w = W_COMMAND;
	uint32_t n;

	shrink(ctx);
	if (ctx->msg_end != 0) {
		if (fill(ctx, 1, ctx->msg_end, W_MESSAGE) < 0)
			return -1;
	} else if (fill(ctx, 1, now_ms() + (int64_t)ctx->lim.idle_s * 1000,
	    W_IDLE) < 0)
		return -1;
	deadline = now_ms() + (int64_t)ctx->lim.command_s * 1000;
	if (ctx->msg_end != 0 && ctx->msg_end < deadline) {
		deadline = ctx->msg_end;
		w = W_MESSAGE;
	}
	if (fill(ctx, 4, deadline, w) < 0)
		return -1;
	n = get32(ctx->in + ctx->in_pos);
	if (n == 0 || n - 1 > ctx->maxdata) {
		log_warnx("milter: packet of %lu bytes from the MTA (at most "
		    "%zu); closing the connection", (unsigned long)n,
		    ctx->maxdata + 1);
		return -1;
	}
	if (fill(ctx, 4 + (size_t)n, deadline, w) < 0)
		return -1;
	*cmd = (char)ctx->in[ctx->in_pos + 4];
	*data = (char *)ctx->in + ctx->in_pos + 5;
	*len = n - 1;
	ctx->in_pos += 4 + (size_t)n;
	return 0;
}

/* Macros. */

/* macros_clear - drop the sets from index from on */
static void
macros_clear(SMFICTX *ctx, int from)
{
	int i;

	for (i = from; i < MAC_N; i++) {
		free(ctx->mac[i].data);
		free(ctx->mac[i].v);
		ctx->mac[i].data = NULL;
		ctx->mac[i].v = NULL;
	}
}

/* split - the NUL-terminated strings of data[0, len) into a new
 * NULL-terminated vector over a copy (*copy); NULL if data does not end
 * in NUL or memory is short */
static char **
split(const char *data, size_t len, char **copy, size_t *count)
{
	char **v, *d;
	size_t n = 0, i, k = 0;

	if (len == 0 || data[len - 1] != '\0')
		return NULL;
	for (i = 0; i < len; i++)
		n += data[i] == '\0';
	if ((d = malloc(len)) == NULL || (v = calloc(n + 1,
	    sizeof(*v))) == NULL) {
		free(d);
		return NULL;
	}
	memcpy(d, data, len);
	for (i = 0; i < len; i += strlen(d + i) + 1)
		v[k++] = d + i;
	*copy = d;
	*count = n;
	return v;
}

/* macros_set - a SMFIC_MACRO packet: the stage letter, then name and
 * value strings; unknown stages are ignored, as libmilter does */
static int
macros_set(SMFICTX *ctx, const char *data, size_t len)
{
	static const char stages[MAC_N] = { SMFIC_CONNECT, SMFIC_HELO,
	    SMFIC_MAIL, SMFIC_RCPT, SMFIC_DATA, SMFIC_BODYEOB, SMFIC_EOH };
	const char *at;
	char *copy;
	char **v;
	size_t n;

	if (len < 1) {
		log_warnx("milter: malformed macro packet (empty)");
		return -1;
	}
	if ((at = memchr(stages, data[0], MAC_N)) == NULL || len == 1)
		return 0;
	if (data[len - 1] != '\0') {
		log_warnx("milter: malformed macro packet (unterminated)");
		return -1;
	}
	if ((v = split(data + 1, len - 1, &copy, &n)) == NULL) {
		log_warnx("milter: out of memory for %zu bytes of macros", len);
		return -1;
	}
	if (n % 2 == 1)			/* a name without a value */
		v[n - 1] = NULL;
	macros_clear(ctx, (int)(at - stages));
	ctx->mac[at - stages].data = copy;
	ctx->mac[at - stages].v = v;
	return 0;
}

/* smfi_getsymval - a macro's value: "x" and "{x}" are the same name */
char *
smfi_getsymval(SMFICTX *ctx, char *name)
{
	char one[2] = "", braces[4] = "";
	char **s;
	int i;

	if (ctx == NULL || name == NULL || *name == '\0')
		return NULL;
	if (strlen(name) == 3 && name[0] == '{' && name[2] == '}') {
		one[0] = name[1];
		one[1] = '\0';
	}
	if (strlen(name) == 1)
		snprintf(braces, sizeof(braces), "{%c}", name[0]);
	for (i = MAC_N - 1; i >= 0; i--)
		for (s = ctx->mac[i].v; s != NULL && s[0] != NULL &&
		    s[1] != NULL; s += 2)
			if (strcmp(s[0], name) == 0 || (one[0] != '\0' &&
			    strcmp(s[0], one) == 0) || (braces[0] != '\0' &&
			    strcmp(s[0], braces) == 0))
				return s[1];
	return NULL;
}

/* Calls for the callbacks. */

/* smfi_setpriv - the callbacks' per-connection pointer */
int
smfi_setpriv(SMFICTX *ctx, void *p)
{
	if (ctx == NULL)
		return MI_FAILURE;
	ctx->priv = p;
	return MI_SUCCESS;
}

/* milter_pflags - the protocol options agreed on this connection */
unsigned long
milter_pflags(SMFICTX *ctx)
{
	return ctx->pflags;
}

/* smfi_getpriv - see smfi_setpriv */
void *
smfi_getpriv(SMFICTX *ctx)
{
	return ctx != NULL ? ctx->priv : NULL;
}

/* reply_code_ok - "4xx" or "5xx", and an x.y.z of the same class */
static int
reply_code_ok(const char *rcode, const char *xcode)
{
	const char *p = xcode;
	int parts = 0, digits;

	if (strlen(rcode) != 3 || (rcode[0] != '4' && rcode[0] != '5') ||
	    rcode[1] < '0' || rcode[1] > '9' || rcode[2] < '0' ||
	    rcode[2] > '9')
		return 0;
	if (xcode == NULL)
		return 1;
	if (xcode[0] != rcode[0] || xcode[1] != '.')
		return 0;
	while (*p != '\0' && parts < 3) {
		for (digits = 0; p[digits] >= '0' && p[digits] <= '9'; digits++)
			;
		if (digits == 0 || digits > 3)
			return 0;
		p += digits;
		parts++;
		if (*p == '.')
			p++;
		else
			break;
	}
	return parts == 3 && *p == '\0';
}

/* smfi_setreply - the text of the next reject or temporary failure */
int
smfi_setreply(SMFICTX *ctx, char *rcode, char *xcode, char *message)
{
	struct buf b = BUF_INIT;

	if (ctx == NULL || rcode == NULL || !reply_code_ok(rcode, xcode) ||
	    (message != NULL && strpbrk(message, "\r\n") != NULL))
		return MI_FAILURE;
	buf_printf(&b, "%s %s%s%s", rcode, xcode != NULL ? xcode :
	    rcode[0] == '4' ? "4.0.0" : "5.0.0", message != NULL ? " " : "",
	    message != NULL ? message : "");
	if (b.failed) {
		buf_free(&b);
		return MI_FAILURE;
	}
	free(ctx->reply);
	ctx->reply = buf_detach(&b);
	return MI_SUCCESS;
}

/* may_modify - at end of message, with the action agreed */
static int
may_modify(const SMFICTX *ctx, unsigned long action)
{
	return ctx != NULL && ctx->state == ST_ENDM &&
	    (ctx->aflags & action) == action;
}

/* header_packet - queue cmd [index] name value */
static int
header_packet(SMFICTX *ctx, int cmd, int with_index, int index,
    const char *name, const char *value)
{
	struct buf b = BUF_INIT;

	if (with_index)
		put32(&b, (uint32_t)index);
	buf_append(&b, name, strlen(name) + 1);
	buf_append(&b, value, strlen(value) + 1);
	if (!b.failed)
		queue(ctx, cmd, b.s, b.len);
	buf_free(&b);
	return b.failed || ctx->out.failed ? MI_FAILURE : MI_SUCCESS;
}

/* smfi_addheader - append a header field */
int
smfi_addheader(SMFICTX *ctx, char *name, char *value)
{
	if (!may_modify(ctx, SMFIF_ADDHDRS) || name == NULL ||
	    *name == '\0' || value == NULL)
		return MI_FAILURE;
	return header_packet(ctx, SMFIR_ADDHEADER, 0, 0, name, value);
}

/* smfi_insheader - insert a header field at index (0: the top) */
int
smfi_insheader(SMFICTX *ctx, int index, char *name, char *value)
{
	if (!may_modify(ctx, SMFIF_ADDHDRS) || name == NULL ||
	    *name == '\0' || value == NULL || index < 0)
		return MI_FAILURE;
	return header_packet(ctx, SMFIR_INSHEADER, 1, index, name, value);
}

/* smfi_chgheader - change the index'th (from 1) field of that name;
 * a NULL value deletes it */
int
smfi_chgheader(SMFICTX *ctx, char *name, int index, char *value)
{
	if (!may_modify(ctx, SMFIF_CHGHDRS) || name == NULL ||
	    *name == '\0' || index < 0)
		return MI_FAILURE;
	return header_packet(ctx, SMFIR_CHGHEADER, 1, index, name,
	    value != NULL ? value : "");
}

/* smfi_quarantine - put the message in the MTA's hold queue */
int
smfi_quarantine(SMFICTX *ctx, char *reason)
{
	if (!may_modify(ctx, SMFIF_QUARANTINE) || reason == NULL ||
	    *reason == '\0')
		return MI_FAILURE;
	queue(ctx, SMFIR_QUARANTINE, reason, strlen(reason) + 1);
	return ctx->out.failed ? MI_FAILURE : MI_SUCCESS;
}

/* smfi_addrcpt - add an envelope recipient */
int
smfi_addrcpt(SMFICTX *ctx, char *rcpt)
{
	if (!may_modify(ctx, SMFIF_ADDRCPT) || rcpt == NULL || *rcpt == '\0')
		return MI_FAILURE;
	queue(ctx, SMFIR_ADDRCPT, rcpt, strlen(rcpt) + 1);
	return ctx->out.failed ? MI_FAILURE : MI_SUCCESS;
}

/* Commands. */

/* What a command handler asks of the session loop. */
enum next { GO_ON, END, FAIL };

/* nr_bit - the "no reply" option of a state, or 0 */
static unsigned long
nr_bit(enum st s)
{
	switch (s) {
	case ST_CONN:
		return SMFIP_NR_CONN;
	case ST_HELO:
		return SMFIP_NR_HELO;
	case ST_MAIL:
		return SMFIP_NR_MAIL;
	case ST_RCPT:
		return SMFIP_NR_RCPT;
	case ST_DATA:
		return SMFIP_NR_DATA;
	case ST_UNKN:
		return SMFIP_NR_UNKN;
	case ST_HDRS:
		return SMFIP_NR_HDR;
	case ST_EOHS:
		return SMFIP_NR_EOH;
	case ST_BODY:
		return SMFIP_NR_BODY;
	default:
		return 0;
	}
}

/*
 * answer - send the callback's verdict r for the current state.  A step
 * agreed to be reply-less gets none whatever r says; SMFIS_NOREPLY where
 * the MTA waits becomes "continue".  A verdict other than continue ends
 * the message, except at RCPT and unknown commands (keep the state).
 */
static enum next
answer(SMFICTX *ctx, sfsistat r, int keep_state)
{
	unsigned long bit = nr_bit(ctx->state);
	int cmd;

	if (bit != 0 && (ctx->pflags & bit) != 0) {
		if (r != SMFIS_NOREPLY && r != SMFIS_CONTINUE)
			log_warnx("milter: verdict %d at a step without "
			    "reply is lost", r);
		return GO_ON;
	}
	switch (r) {
	case SMFIS_TEMPFAIL:
	case SMFIS_REJECT:
		if (ctx->reply != NULL && ctx->reply[0] ==
		    (r == SMFIS_TEMPFAIL ? '4' : '5')) {
			queue(ctx, SMFIR_REPLYCODE, ctx->reply,
			    strlen(ctx->reply) + 1);
		} else
			queue(ctx, r == SMFIS_REJECT ? SMFIR_REJECT :
			    SMFIR_TEMPFAIL, NULL, 0);
		break;
	case SMFIS_DISCARD:
		queue(ctx, SMFIR_DISCARD, NULL, 0);
		break;
	case SMFIS_ACCEPT:
		queue(ctx, SMFIR_ACCEPT, NULL, 0);
		break;
	case SMFIS_SKIP:
		cmd = ctx->state == ST_BODY && (ctx->mta_pflags & SMFIP_SKIP) ?
		    SMFIR_SKIP : SMFIR_CONTINUE;
		queue(ctx, cmd, NULL, 0);
		r = SMFIS_CONTINUE;
		break;
	default:
		queue(ctx, SMFIR_CONTINUE, NULL, 0);
		r = SMFIS_CONTINUE;
		break;
	}
	free(ctx->reply);		/* a text is for one reply only */
	ctx->reply = NULL;
	if (flush(ctx) < 0)
		return FAIL;
	if (r != SMFIS_CONTINUE && !keep_state)
		set_state(ctx, ST_HELO);	/* the message is over */
	return GO_ON;
}

/* skip_steps - the states of the steps the MTA agreed not to send */
static void
skip_steps(SMFICTX *ctx)
{
	static const struct { unsigned long opt; enum st st; } skip[] = {
		{ SMFIP_NOCONNECT, ST_CONN }, { SMFIP_NOHELO, ST_HELO },
		{ SMFIP_NOMAIL, ST_MAIL }, { SMFIP_NORCPT, ST_RCPT },
		{ SMFIP_NODATA, ST_DATA }, { SMFIP_NOHDRS, ST_HDRS },
		{ SMFIP_NOEOH, ST_EOHS }, { SMFIP_NOBODY, ST_BODY },
	};
	size_t k;

	ctx->skipped = 0;
	for (k = 0; k < sizeof(skip) / sizeof(skip[0]); k++)
		if (ctx->pflags & skip[k].opt)
			ctx->skipped |= BIT(skip[k].st);
}

/*
 * may_follow - whether state next may follow the current one: directly,
 * or after the following states in protocol order that the MTA skips
 */
static int
may_follow(const SMFICTX *ctx, enum st from, enum st next)
{
	unsigned s = from;

	for (;;) {
		if (next_ok[s] & BIT(next))
			return 1;
		if (++s > ST_Q_NC || !(ctx->skipped & BIT(s)))
			return 0;
	}
}

/* negotiate - SMFIC_OPTNEG: version, actions, protocol options */
static enum next
negotiate(SMFICTX *ctx, const char *data, size_t len)
{
	const struct smfiDesc *d = ctx->desc;
	unsigned long f0, f1, a, p, f2 = 0, f3 = 0;
	uint32_t version;
	sfsistat r;
	struct buf b = BUF_INIT;

	if (len < MILTER_OPTLEN) {
		log_warnx("milter: negotiation packet of %zu bytes", len);
		return FAIL;
	}
	version = get32((const unsigned char *)data);
	f0 = get32((const unsigned char *)data + 4);
	f1 = get32((const unsigned char *)data + 8);
	if (version < 2) {
		log_warnx("milter: the MTA speaks protocol version %lu",
		    (unsigned long)version);
		return FAIL;
	}
	if (f0 == 0)
		f0 = SMFI_V1_ACTS;
	if (f1 == 0)
		f1 = SMFI_V1_PROT;
	a = d->xxfi_flags;
	p = 0;
	if (d->xxfi_negotiate != NULL) {
		r = d->xxfi_negotiate(ctx, f0, f1, 0, 0, &a, &p, &f2, &f3);
		if (r == SMFIS_ALL_OPTS) {
			a = f0;
			p = 0;
		} else if (r != SMFIS_CONTINUE)
			return FAIL;	/* the milter refuses this MTA */
	}
	if ((a & f0) != a) {
		log_warnx("milter: the MTA offers actions 0x%lx, the milter "
		    "needs 0x%lx", f0, a);
		return FAIL;
	}
	p &= ~((SMFIP_NODATA | SMFIP_NOUNKNOWN) & ~f1);	/* old MTAs */
	if ((p & f1) != p) {
		log_warnx("milter: the MTA offers protocol options 0x%lx, "
		    "the milter needs 0x%lx", f1, p);
		return FAIL;
	}
	ctx->aflags = a;
	ctx->pflags = p;
	ctx->mta_pflags = f1;
	skip_steps(ctx);
	if (ctx->debug >= 1)
		log_info("milter: MTA protocol %lu, actions 0x%lx, options "
		    "0x%lx; agreed actions 0x%lx, options 0x%lx",
		    (unsigned long)version, f0, f1, a, p);
	put32(&b, version < SMFI_PROT_VERSION ? version : SMFI_PROT_VERSION);
	put32(&b, (uint32_t)a);
	put32(&b, (uint32_t)p);
	queue(ctx, SMFIC_OPTNEG, b.s, b.len);
	buf_free(&b);
	return flush(ctx) < 0 ? FAIL : GO_ON;
}

/* connect_info - SMFIC_CONNECT: host name, family, port, address */
static enum next
connect_info(SMFICTX *ctx, char *data, size_t len)
{
	union {
		struct sockaddr sa;
		struct sockaddr_in in4;
		struct sockaddr_in6 in6;
		struct sockaddr_un un;
	} addr;
	const char *a;
	size_t hl;
	char family;
	uint16_t port;

	memset(&addr, 0, sizeof(addr));
	if ((a = memchr(data, '\0', len)) == NULL || (hl = (size_t)(a - data))
	    + 2 > len) {
		log_warnx("milter: malformed connect packet");
		return FAIL;
	}
	family = data[hl + 1];
	if (family == SMFIA_UNKNOWN)
		return answer(ctx, ctx->desc->xxfi_connect(ctx, data, NULL), 0);
	if (hl + 4 >= len || data[len - 1] != '\0') {
		log_warnx("milter: malformed connect packet");
		return FAIL;
	}
	memcpy(&port, data + hl + 2, 2);	/* network order, kept */
	a = data + hl + 4;
	if (family == SMFIA_INET && inet_pton(AF_INET, a,
	    &addr.in4.sin_addr) == 1) {
		addr.in4.sin_family = AF_INET;
		addr.in4.sin_port = port;
	} else if (family == SMFIA_INET6 && inet_pton(AF_INET6,
	    strncasecmp(a, "IPv6:", 5) == 0 ? a + 5 : a,
	    &addr.in6.sin6_addr) == 1) {
		addr.in6.sin6_family = AF_INET6;
		addr.in6.sin6_port = port;
	} else if (family == SMFIA_UNIX && strlen(a) <
	    sizeof(addr.un.sun_path)) {
		addr.un.sun_family = AF_UNIX;
		memcpy(addr.un.sun_path, a, strlen(a) + 1);
	} else {
		log_warnx("milter: connect packet with family '%c' and "
		    "address \"%.64s\"", family, a);
		return FAIL;
	}
	return answer(ctx, ctx->desc->xxfi_connect(ctx, data, &addr.sa), 0);
}

/* with_argv - MAIL or RCPT: the arguments as a NULL-terminated vector */
static enum next
with_argv(SMFICTX *ctx, sfsistat (*fn)(SMFICTX *, char **),
    const char *data, size_t len, int keep_state)
{
	char **v, *copy;
	size_t n;
	enum next next;

	if ((v = split(data, len, &copy, &n)) == NULL || n == 0) {
		if (v != NULL) {
			free(v);
			free(copy);
		}
		log_warnx("milter: malformed %s packet", keep_state ?
		    "RCPT" : "MAIL");
		return FAIL;
	}
	next = answer(ctx, fn(ctx, v), keep_state);
	free(v);
	free(copy);
	return next;
}

/* terminated - data is one string ending at its last byte */
static int
terminated(const char *data, size_t len)
{
	return len > 0 && data[len - 1] == '\0';
}

/* header - SMFIC_HEADER: name and value */
static enum next
header(SMFICTX *ctx, char *data, size_t len)
{
	char *nul;

	if (!terminated(data, len) || (nul = memchr(data, '\0', len)) ==
	    data + len - 1) {
		log_warnx("milter: malformed header packet");
		return FAIL;
	}
	return answer(ctx, ctx->desc->xxfi_header(ctx, data, nul + 1), 0);
}

/* end_of_body - SMFIC_BODYEOB, which may carry a last body chunk */
static enum next
end_of_body(SMFICTX *ctx, char *data, size_t len)
{
	sfsistat r = SMFIS_CONTINUE;

	if (len > 0 && ctx->desc->xxfi_body != NULL)
		r = ctx->desc->xxfi_body(ctx, (unsigned char *)data, len);
	if (r == SMFIS_CONTINUE || r == SMFIS_NOREPLY || r == SMFIS_SKIP)
		r = ctx->desc->xxfi_eom != NULL ? ctx->desc->xxfi_eom(ctx) :
		    SMFIS_CONTINUE;
	return answer(ctx, r, 0);
}

/* close_conn - the close callback, once */
static void
close_conn(SMFICTX *ctx)
{
	if (!ctx->closed && ctx->desc->xxfi_close != NULL)
		(void)ctx->desc->xxfi_close(ctx);
	ctx->closed = 1;
}

/* abort_msg - the abort callback, when a message is open */
static void
abort_msg(SMFICTX *ctx)
{
	if (ctx->state >= ST_MAIL && ctx->state < ST_ENDM &&
	    ctx->desc->xxfi_abort != NULL)
		(void)ctx->desc->xxfi_abort(ctx);
}

/* The state each command moves to, or -1 (macros: no move). */
static int
command_state(char cmd)
{
	switch (cmd) {
	case SMFIC_ABORT:	return ST_ABRT;
	case SMFIC_BODY:	return ST_BODY;
	case SMFIC_CONNECT:	return ST_CONN;
	case SMFIC_BODYEOB:	return ST_ENDM;
	case SMFIC_HELO:	return ST_HELO;
	case SMFIC_HEADER:	return ST_HDRS;
	case SMFIC_MAIL:	return ST_MAIL;
	case SMFIC_OPTNEG:	return ST_OPTS;
	case SMFIC_EOH:		return ST_EOHS;
	case SMFIC_QUIT:	return ST_QUIT;
	case SMFIC_DATA:	return ST_DATA;
	case SMFIC_RCPT:	return ST_RCPT;
	case SMFIC_UNKNOWN:	return ST_UNKN;
	case SMFIC_QUIT_NC:	return ST_Q_NC;
	default:		return -2;
	}
}

/* in_content - whether a state is inside a message's content */
static int
in_content(enum st s)
{
	return s == ST_DATA || s == ST_HDRS || s == ST_EOHS || s == ST_BODY;
}

/* command - one packet from the MTA */
static enum next
command(SMFICTX *ctx, char cmd, char *data, size_t len)
{
	const struct smfiDesc *d = ctx->desc;
	int next;

	if (ctx->debug >= 2)
		log_info("milter: command '%c', %zu bytes", cmd >= ' ' &&
		    cmd < 127 ? cmd : '?', len);
	if (cmd == SMFIC_MACRO)
		return macros_set(ctx, data, len) < 0 ? FAIL : GO_ON;
	if ((next = command_state(cmd)) == -2) {
		log_warnx("milter: unknown command 0x%02x from the MTA",
		    (unsigned char)cmd);
		return FAIL;
	}
	if (next == ST_QUIT || next == ST_Q_NC)
		abort_msg(ctx);		/* a quit may come at any time */
	else if (!may_follow(ctx, ctx->state, (enum st)next)) {
		/* out of order: end an open message, go on as after HELO */
		abort_msg(ctx);
		set_state(ctx, ST_HELO);
		if (!may_follow(ctx, ST_HELO, (enum st)next))
			return GO_ON;	/* ignored */
	}
	set_state(ctx, (enum st)next);
	if (in_content(ctx->state) && ctx->msg_end == 0)
		ctx->msg_end = now_ms() + (int64_t)ctx->lim.message_s * 1000;
	switch (cmd) {
	case SMFIC_OPTNEG:
		return negotiate(ctx, data, len);
	case SMFIC_CONNECT:
		macros_clear(ctx, MAC_HELO);
		if (d->xxfi_connect == NULL)
			return answer(ctx, SMFIS_CONTINUE, 0);
		return connect_info(ctx, data, len);
	case SMFIC_HELO:
		macros_clear(ctx, MAC_MAIL);
		if (!terminated(data, len)) {
			log_warnx("milter: malformed HELO packet");
			return FAIL;
		}
		return answer(ctx, d->xxfi_helo != NULL ?
		    d->xxfi_helo(ctx, data) : SMFIS_CONTINUE, 0);
	case SMFIC_MAIL:
		macros_clear(ctx, MAC_RCPT);
		if (d->xxfi_envfrom == NULL)
			return answer(ctx, SMFIS_CONTINUE, 0);
		return with_argv(ctx, d->xxfi_envfrom, data, len, 0);
	case SMFIC_RCPT:
		macros_clear(ctx, MAC_DATA);
		if (d->xxfi_envrcpt == NULL)
			return answer(ctx, SMFIS_CONTINUE, 1);
		return with_argv(ctx, d->xxfi_envrcpt, data, len, 1);
	case SMFIC_DATA:
		return answer(ctx, d->xxfi_data != NULL ? d->xxfi_data(ctx) :
		    SMFIS_CONTINUE, 0);
	case SMFIC_HEADER:
		if (d->xxfi_header == NULL)
			return answer(ctx, SMFIS_CONTINUE, 0);
		return header(ctx, data, len);
	case SMFIC_EOH:
		return answer(ctx, d->xxfi_eoh != NULL ? d->xxfi_eoh(ctx) :
		    SMFIS_CONTINUE, 0);
	case SMFIC_BODY:
		return answer(ctx, d->xxfi_body != NULL ? d->xxfi_body(ctx,
		    (unsigned char *)data, len) : SMFIS_CONTINUE, 0);
	case SMFIC_BODYEOB:
		return end_of_body(ctx, data, len);
	case SMFIC_ABORT:
		if (d->xxfi_abort != NULL)
			(void)d->xxfi_abort(ctx);
		macros_clear(ctx, MAC_MAIL);
		return GO_ON;		/* no reply */
	case SMFIC_UNKNOWN:
		if (!terminated(data, len)) {
			log_warnx("milter: malformed UNKNOWN packet");
			return FAIL;
		}
		return answer(ctx, d->xxfi_unknown != NULL ?
		    d->xxfi_unknown(ctx, data) : SMFIS_CONTINUE, 1);
	case SMFIC_QUIT:
		close_conn(ctx);
		return END;
	case SMFIC_QUIT_NC:
		close_conn(ctx);
		ctx->closed = 0;	/* a new connection follows */
		macros_clear(ctx, MAC_CONN);
		return GO_ON;
	}
	return FAIL;
}

/* milter_stats - see milter.h */
void
milter_stats(struct milter_stats *st)
{
	st->sessions = srv.sessions;
	st->protocol_errors = srv.failed;
	st->hangups = srv.hangups;
	pthread_mutex_lock(&srv.lock);
	st->threads = srv.threads;
	pthread_mutex_unlock(&srv.lock);
}

/* Connections and threads. */

/* live_remove - take a finished connection off the list */
static void
live_remove(SMFICTX *ctx)
{
	SMFICTX **pp;

	pthread_mutex_lock(&srv.lock);
	for (pp = &srv.live; *pp != NULL; pp = &(*pp)->next)
		if (*pp == ctx) {
			*pp = ctx->next;
			break;
		}
	pthread_mutex_unlock(&srv.lock);
}

/* is_tcp - whether socket fd is a TCP (IPv4 or IPv6) socket */
static int
is_tcp(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	memset(&ss, 0, sizeof(ss));
	return getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 &&
	    (ss.ss_family == AF_INET || ss.ss_family == AF_INET6);
}

/* session - serve one connection to its end */
static void
session(int fd, const struct smfiDesc *desc, size_t maxdata, int debug)
{
	SMFICTX ctx;
	struct timeval tv = { 0, 0 };
	char cmd, *data;
	size_t len;
	enum next next = GO_ON;

	memset(&ctx, 0, sizeof(ctx));
	ctx.fd = fd;
	ctx.tcp = is_tcp(fd);
	ctx.state = ST_INIT;
	buf_init(&ctx.out);
	ctx.desc = desc;
	ctx.maxdata = maxdata;
	ctx.debug = debug;
	pthread_mutex_lock(&srv.lock);
	ctx.lim = srv.lim;
	ctx.next = srv.live;
	srv.live = &ctx;
	if (srv.stopping)
		(void)shutdown(fd, SHUT_RDWR);
	pthread_mutex_unlock(&srv.lock);
	tv.tv_sec = ctx.lim.command_s;	/* a reply must be taken by then */
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));

	for (;;) {
		__atomic_store_n(&ctx.waiting, 1, __ATOMIC_RELEASE);
		if (next_packet(&ctx, &cmd, &data, &len) < 0)
			break;
		__atomic_store_n(&ctx.waiting, 0, __ATOMIC_RELEASE);
		next = command(&ctx, cmd, data, len);
		if (!in_content(ctx.state))
			ctx.msg_end = 0;	/* the message is over */
		if (next != GO_ON)
			break;
	}
	srv.sessions++;
	if (next == FAIL)
		srv.failed++;
	else if (next != END)
		srv.hangups++;
	if (next != END) {
		abort_msg(&ctx);
		close_conn(&ctx);
	}

	live_remove(&ctx);
	macros_clear(&ctx, MAC_CONN);
	free(ctx.reply);
	free(ctx.in);
	buf_free(&ctx.out);
}

static void *worker(void *);

/*
 * give_back - return the allocator's free pages to the system.  Memory
 * freed at the end of each message stays with malloc, scattered between
 * blocks still in use; without this the resident size of a busy daemon
 * grows by a tenth in its first hour, although nothing leaks.  Called
 * every MILTER_TRIM_S seconds while connections have been served; it
 * takes each arena's lock for well under a millisecond.
 */
static void
give_back(void)
{
#ifdef __GLIBC__
	(void)malloc_trim(0);
#endif
}

/* spawn - one more thread in accept(); called with srv.lock held */
static int
spawn(void)
{
	pthread_attr_t attr;
	pthread_t t;
	int r;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	r = pthread_create(&t, &attr, worker, NULL);
	pthread_attr_destroy(&attr);
	if (r != 0) {
		errno = r;
		log_warn("milter: cannot start a thread (%u running)",
		    srv.threads);
		return -1;
	}
	srv.threads++;
	srv.idle++;
	return 0;
}

/*
 * accept_error - what to do after accept() failed with e: ACC_STOP, or go
 * on, at once or after a pause (out of descriptors or memory: logged at
 * most once per MILTER_LOG_EVERY seconds, with the count of failures in
 * between).  Called with srv.lock held.
 */
enum acc { ACC_STOP, ACC_AGAIN, ACC_PAUSE };

static enum acc
accept_error(int e)
{
	static time_t last;		/* under srv.lock */
	static unsigned long quiet;
	char ebuf[128];
	time_t now;

	switch (e) {
	case EINTR:
	case ECONNABORTED:
	case EAGAIN:
	case EPROTO:
		return ACC_AGAIN;
	case EMFILE:
	case ENFILE:
	case ENOBUFS:
	case ENOMEM:
		now = time(NULL);
		if (last != 0 && now - last < MILTER_LOG_EVERY) {
			quiet++;
			return ACC_PAUSE;
		}
		if (quiet > 0)
			log_warnx("milter: accept: %s; pausing (%lu more since "
			    "the last report)", strerror_r(e, ebuf,
			    sizeof(ebuf)), quiet);
		else
			log_warnx("milter: accept: %s; pausing",
			    strerror_r(e, ebuf, sizeof(ebuf)));
		last = now;
		quiet = 0;
		return ACC_PAUSE;
	}
	return ACC_STOP;
}

/*
 * refuse - close a connection over the connection limit at once, so that
 * the MTA applies its default action now rather than after its time-out;
 * logged when the limit is first reached, then at most every
 * MILTER_REFUSED_LOG_S seconds with a count.  Called with srv.lock held;
 * returns with it released.
 */
static void
refuse(int fd)
{
	int64_t now = now_ms();
	unsigned long n = 0;
	unsigned busy = srv.busy;

	close(fd);
	srv.refused++;
	if (srv.refused_log == 0 ||
	    now - srv.refused_log >= MILTER_REFUSED_LOG_S * 1000) {
		n = srv.refused;
		srv.refused = 0;
		srv.refused_log = now;
	}
	pthread_mutex_unlock(&srv.lock);
	if (n > 0)
		log_warnx("milter: %u connection%s served, the limit "
		    "(MaximumConnections): %lu new connection%s refused", busy,
		    busy == 1 ? "" : "s", n, n == 1 ? "" : "s");
}

/* worker - take connections until stopped or not needed */
static void *
worker(void *arg)
{
	struct timespec pause = { 0, MILTER_PAUSE_MS * 1000 * 1000 };
	enum acc next = ACC_AGAIN;
	char ebuf[128];
	int fd, e;

	(void)arg;
	for (;;) {
		fd = accept4(srv.lfd, NULL, NULL, SOCK_CLOEXEC);
		e = errno;
		pthread_mutex_lock(&srv.lock);
		if (srv.stopping || (fd < 0 &&
		    (next = accept_error(e)) == ACC_STOP)) {
			if (fd < 0 && !srv.stopping)
				log_warnx("milter: accept: %s",
				    strerror_r(e, ebuf, sizeof(ebuf)));
			if (fd >= 0)
				close(fd);
			break;
		}
		if (fd < 0) {
			pthread_mutex_unlock(&srv.lock);
			if (next == ACC_PAUSE)	/* not holding the lock */
				nanosleep(&pause, NULL);
			continue;
		}
		if (srv.busy >= srv.lim.max_conns) {
			refuse(fd);	/* unlocks */
			continue;
		}
		srv.idle--;
		srv.busy++;
		/* one thread more than the limit: there is always one in
		 * accept() to refuse at once what is over it */
		if (srv.idle == 0 && srv.threads <= srv.lim.max_conns)
			(void)spawn();
		pthread_mutex_unlock(&srv.lock);

		session(fd, srv.desc, srv.maxdata, srv.debug);
		close(fd);

		pthread_mutex_lock(&srv.lock);
		srv.busy--;
		srv.idle++;
		if (srv.idle > MILTER_IDLE_THREADS && !srv.stopping)
			break;
		pthread_mutex_unlock(&srv.lock);
	}
	srv.idle--;
	srv.threads--;
	pthread_cond_broadcast(&srv.done);
	pthread_mutex_unlock(&srv.lock);
	return NULL;
}

/* milter_run - see milter.h */
int
milter_run(int lfd, const struct smfiDesc *desc, size_t maxdata, int debug)
{
	struct timespec until;
	unsigned long trimmed = 0;
	int on = 1;

	/* accepted TCP sockets inherit it: no reply of several packets
	 * waits for the MTA's delayed acknowledgement */
	if (is_tcp(lfd) &&
	    setsockopt(lfd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) < 0)
		log_warn("milter: TCP_NODELAY on the listening socket");
	pthread_mutex_lock(&srv.lock);
	if (srv.stopping) {		/* stopped before it started */
		pthread_mutex_unlock(&srv.lock);
		return 0;
	}
	srv.lfd = lfd;
	srv.desc = desc;
	srv.maxdata = maxdata;
	srv.debug = debug;
	if (spawn() < 0) {
		pthread_mutex_unlock(&srv.lock);
		return -1;
	}
	clock_gettime(CLOCK_REALTIME, &until);
	while (!srv.stopping || srv.threads > 0) {
		if (pthread_cond_timedwait(&srv.done, &srv.lock, &until) !=
		    ETIMEDOUT)
			continue;	/* a thread ended */
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += MILTER_TRIM_S;
		if (srv.sessions != trimmed) {
			trimmed = srv.sessions;
			pthread_mutex_unlock(&srv.lock);
			give_back();
			pthread_mutex_lock(&srv.lock);
		}
	}
	pthread_mutex_unlock(&srv.lock);
	return 0;
}

/* milter_session - see milter.h */
void
milter_session(int fd, const struct smfiDesc *desc, size_t maxdata)
{
	session(fd, desc, maxdata, 0);
}

/* milter_close_idle - see milter.h */
void
milter_close_idle(void)
{
	SMFICTX *c;
	enum st s;

	pthread_mutex_lock(&srv.lock);
	for (c = srv.live; c != NULL; c = c->next) {
		s = __atomic_load_n(&c->state, __ATOMIC_ACQUIRE);
		/* waiting between messages; not a connection being opened
		 * (its answer to connect is on the way) */
		if (__atomic_load_n(&c->waiting, __ATOMIC_ACQUIRE) &&
		    (s == ST_HELO || s == ST_ENDM || s == ST_ABRT ||
		    s == ST_Q_NC))
			(void)shutdown(c->fd, SHUT_RDWR);
	}
	pthread_mutex_unlock(&srv.lock);
}

/* milter_set_limits - see milter.h */
void
milter_set_limits(const struct milter_limits *l)
{
	pthread_mutex_lock(&srv.lock);
	srv.lim = *l;
	if (srv.lim.max_conns < 1)
		srv.lim.max_conns = 1;
	if (srv.lim.max_conns > MILTER_MAX_THREADS)
		srv.lim.max_conns = MILTER_MAX_THREADS;
	pthread_mutex_unlock(&srv.lock);
}

/* milter_input_stats - see milter.h; the counts are read while the
 * sessions run, so they are a snapshot, for tests */
void
milter_input_stats(size_t *buffered, size_t *allocated)
{
	SMFICTX *c;

	*buffered = *allocated = 0;
	pthread_mutex_lock(&srv.lock);
	for (c = srv.live; c != NULL; c = c->next) {
		*buffered += c->in_len - c->in_pos;
		*allocated += c->in_cap;
	}
	pthread_mutex_unlock(&srv.lock);
}

/* milter_stop - see milter.h */
void
milter_stop(void)
{
	SMFICTX *c;

	pthread_mutex_lock(&srv.lock);
	srv.stopping = 1;
	if (srv.lfd >= 0)
		(void)shutdown(srv.lfd, SHUT_RDWR);	/* wakes accept() */
	for (c = srv.live; c != NULL; c = c->next)
		(void)shutdown(c->fd, SHUT_RDWR);
	pthread_cond_broadcast(&srv.done);
	pthread_mutex_unlock(&srv.lock);
}

/* Interruptions, for callbacks that take long. */

#define MILTER_PEEK_MAX	(16 * 1024)	/* input looked at for an abort */

/* ends_message - the packets in a then b hold an abort or a quit */
static int
ends_message(const unsigned char *a, size_t alen, const unsigned char *b,
    size_t blen)
{
	size_t off = 0, i, total = alen + blen;
	unsigned char h[5];
	uint32_t n;

	while (off + 5 <= total) {
		for (i = 0; i < 5; i++)
			h[i] = off + i < alen ? a[off + i] : b[off + i - alen];
		n = get32(h);
		if (h[4] == SMFIC_ABORT || h[4] == SMFIC_QUIT ||
		    h[4] == SMFIC_QUIT_NC)
			return 1;
		if (n == 0)
			return 0;	/* malformed: next_packet says so */
		off += 4 + (size_t)n;
	}
	return 0;
}

/* milter_interrupted - see milter.h */
int
milter_interrupted(SMFICTX *ctx)
{
	unsigned char peek[MILTER_PEEK_MAX];
	struct pollfd p;
	ssize_t n;

	p.fd = ctx->fd;
	p.events = POLLIN | POLLRDHUP;
	p.revents = 0;
	if (poll(&p, 1, 0) < 0)
		return 0;
	if (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL))
		return 1;
	n = 0;
	if ((p.revents & POLLIN) && (n = recv(ctx->fd, peek, sizeof(peek),
	    MSG_PEEK | MSG_DONTWAIT)) == 0)
		return 1;
	return ends_message(ctx->in + ctx->in_pos, ctx->in_len - ctx->in_pos,
	    peek, n > 0 ? (size_t)n : 0);
}
