/*
 * NAME
 *	milter - the milter side of the Sendmail milter protocol
 * SYNOPSIS
 *	#include "milter.h"
 *
 *	int	milter_run(int lfd, const struct smfiDesc *desc,
 *		    size_t maxdata, int debug);
 *	void	milter_stop(void);
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
 *	started when none is left waiting (up to MILTER_MAX_THREADS; at most
 *	MILTER_IDLE_THREADS wait).  Input is read in large blocks and split
 *	into packets in memory, so the commands an MTA sends without waiting
 *	(header fields and body chunks under SMFIP_NR_*, macros) cost no
 *	system call each; the modifications of end of message and the final
 *	reply leave in one write.  A TCP listening socket gets TCP_NODELAY,
 *	which the sockets it accepts inherit.
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
 *	threads.
 * DIAGNOSTICS
 *	Protocol errors, time-outs and failures to start a thread are
 *	logged as warnings; the connection concerned is closed, and the MTA
 *	applies its default action (milter_default_action in Postfix).
 * SEE ALSO
 *	Postfix src/milter/milter8.c for the MTA side; libmilter(3).
 */
#include <errno.h>
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

#define MILTER_READ_MIN	(64 * 1024)	/* first input buffer size */

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
	int		 stopping;
	struct smfi_str	*live;
} srv = { .lock = PTHREAD_MUTEX_INITIALIZER,
	.done = PTHREAD_COND_INITIALIZER, .lfd = -1 };

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
				    "reply (%d s)", MILTER_TIMEOUT);
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

/* fill - make at least need bytes of input available; -1 on end or error */
static int
fill(SMFICTX *ctx, size_t need)
{
	unsigned char *p;
	size_t cap;
	ssize_t n;

	if (ctx->in_len - ctx->in_pos >= need)
		return 0;
	if (ctx->in_pos > 0) {		/* keep the unread part at the start */
		memmove(ctx->in, ctx->in + ctx->in_pos,
		    ctx->in_len - ctx->in_pos);
		ctx->in_len -= ctx->in_pos;
		ctx->in_pos = 0;
	}
	if (need > ctx->in_cap) {
		cap = need > MILTER_READ_MIN ? need : MILTER_READ_MIN;
		if ((p = realloc(ctx->in, cap)) == NULL) {
			log_warnx("milter: out of memory for a %zu-byte "
			    "packet", need);
			return -1;
		}
		ctx->in = p;
		ctx->in_cap = cap;
	}
	while (ctx->in_len < need) {
		n = read(ctx->fd, ctx->in + ctx->in_len,
		    ctx->in_cap - ctx->in_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			log_warnx("milter: no command from the MTA in %d s",
			    MILTER_TIMEOUT);
		else if (n < 0 && errno != ECONNRESET)
			log_warn("milter: read");
		if (n <= 0)
			return -1;
		ctx->in_len += (size_t)n;
	}
	return 0;
}

/* next_packet - the next command and its data (valid until the next
 * call); -1 on end of input, error or an oversized packet */
static int
next_packet(SMFICTX *ctx, char *cmd, char **data, size_t *len)
{
	uint32_t n;

	if (fill(ctx, 4) < 0)
		return -1;
	n = get32(ctx->in + ctx->in_pos);
	if (n == 0 || n - 1 > ctx->maxdata) {
		log_warnx("milter: packet of %lu bytes from the MTA (at most "
		    "%zu); closing the connection", (unsigned long)n,
		    ctx->maxdata + 1);
		return -1;
	}
	if (fill(ctx, 4 + (size_t)n) < 0)
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

	if (len < 1)
		return -1;
	if ((at = memchr(stages, data[0], MAC_N)) == NULL || len == 1)
		return 0;
	if ((v = split(data + 1, len - 1, &copy, &n)) == NULL)
		return -1;
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
		ctx->state = ST_HELO;	/* the message is over */
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
		ctx->state = ST_HELO;
		if (!may_follow(ctx, ST_HELO, (enum st)next))
			return GO_ON;	/* ignored */
	}
	ctx->state = (enum st)next;
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
		if (!terminated(data, len))
			return FAIL;
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
		if (!terminated(data, len))
			return FAIL;
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

/* session - serve one connection to its end */
static void
session(int fd, const struct smfiDesc *desc, size_t maxdata, int debug)
{
	SMFICTX ctx;
	struct timeval tv = { MILTER_TIMEOUT, 0 };
	char cmd, *data;
	size_t len;
	enum next next = GO_ON;

	memset(&ctx, 0, sizeof(ctx));
	ctx.fd = fd;
	ctx.state = ST_INIT;
	buf_init(&ctx.out);
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	ctx.desc = desc;
	ctx.maxdata = maxdata;
	ctx.debug = debug;
	pthread_mutex_lock(&srv.lock);
	ctx.next = srv.live;
	srv.live = &ctx;
	if (srv.stopping)
		(void)shutdown(fd, SHUT_RDWR);
	pthread_mutex_unlock(&srv.lock);

	while (next == GO_ON && next_packet(&ctx, &cmd, &data, &len) == 0)
		next = command(&ctx, cmd, data, len);
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

/* accept_error - whether an accept() failure is worth going on after */
static int
accept_error(int e)
{
	struct timespec pause = { 0, 100 * 1000 * 1000 };

	switch (e) {
	case EINTR:
	case ECONNABORTED:
	case EAGAIN:
	case EPROTO:
		return 1;
	case EMFILE:
	case ENFILE:
	case ENOBUFS:
	case ENOMEM:
		log_warnx("milter: accept: %s; pausing", strerror(e));
		nanosleep(&pause, NULL);
		return 1;
	}
	return 0;
}

/* worker - take connections until stopped or not needed */
static void *
worker(void *arg)
{
	int fd, e;

	(void)arg;
	for (;;) {
		fd = accept4(srv.lfd, NULL, NULL, SOCK_CLOEXEC);
		e = errno;
		pthread_mutex_lock(&srv.lock);
		if (srv.stopping || (fd < 0 && !accept_error(e))) {
			if (fd < 0 && !srv.stopping)
				log_warnx("milter: accept: %s", strerror(e));
			if (fd >= 0)
				close(fd);
			break;
		}
		if (fd < 0) {
			pthread_mutex_unlock(&srv.lock);
			continue;
		}
		srv.idle--;
		if (srv.idle == 0 && srv.threads < MILTER_MAX_THREADS)
			(void)spawn();
		pthread_mutex_unlock(&srv.lock);

		session(fd, srv.desc, srv.maxdata, srv.debug);
		close(fd);

		pthread_mutex_lock(&srv.lock);
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
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int on = 1;

	/* accepted TCP sockets inherit it: no reply of several packets
	 * waits for the MTA's delayed acknowledgement */
	memset(&ss, 0, sizeof(ss));
	if (getsockname(lfd, (struct sockaddr *)&ss, &sl) == 0 &&
	    (ss.ss_family == AF_INET || ss.ss_family == AF_INET6) &&
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
	while (!srv.stopping || srv.threads > 0)
		pthread_cond_wait(&srv.done, &srv.lock);
	pthread_mutex_unlock(&srv.lock);
	return 0;
}

/* milter_session - see milter.h */
void
milter_session(int fd, const struct smfiDesc *desc, size_t maxdata)
{
	session(fd, desc, maxdata, 0);
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
