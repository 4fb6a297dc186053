/*
 * NAME
 *	daemon_conn - the runtime's side of each milter connection
 * SYNOPSIS
 *	#include "daemon_conn.h"
 *
 *	void	daemon_conn_init(const struct daemon_desc *d,
 *		    struct smfiDesc *wrapped);
 *	int	daemon_conn_install(void *cfg);
 *	void	*daemon_conn_current(void);
 *	void	daemon_conn_stop(void);
 *	unsigned long daemon_conn_in_flight(void);
 *	void	daemon_conn_release(void);
 *
 *	#include "daemon.h"
 *
 *	void	*daemon_conn_config(SMFICTX *ctx);
 *	void	*daemon_conn_getpriv(SMFICTX *ctx);
 *	void	daemon_conn_setpriv(SMFICTX *ctx, void *priv);
 * DESCRIPTION
 *	daemon_conn_init() fills wrapped with callbacks that wrap the
 *	daemon's (d->milter) for the engine, milter(3).  The wrappers keep,
 *	in the engine's private-data slot, a per-connection state: the
 *	configuration the connection started with (a reference), the
 *	daemon's own data, whether a message is open, and the steps the MTA
 *	agreed not to wait for.
 *
 *	The steps without a reply: the runtime asks the MTA not to wait
 *	after connect, HELO, each header field, end of header and each body
 *	chunk (and after MAIL when the daemon has a RCPT callback).  A
 *	verdict other than "go on" that the daemon gives at such a step is
 *	held and given at the next step that replies (MAIL for connect and
 *	HELO, for every message of the connection; RCPT for MAIL; end of
 *	message for the rest), and the daemon is not called again until
 *	then.  A skip at a body step stops the rest of the body.  The
 *	negotiated steps are kept for the life of the MTA's connection,
 *	across SMFIC_QUIT_NC (a new SMTP session on the same milter
 *	connection, without a new negotiation).
 *
 *	The main thread's side: daemon_conn_install() makes cfg the current
 *	configuration, which new connections take; the one it replaces is
 *	freed (d->free_config) when its last connection closes; it returns
 *	-1 without taking cfg when out of memory.  daemon_conn_current()
 *	is the current configuration.  daemon_conn_stop() makes new
 *	connections and new messages get a temporary failure;
 *	daemon_conn_in_flight() counts the messages still open.
 *	daemon_conn_release() drops the current configuration at the end.
 *
 *	Inside the daemon's callbacks, daemon_conn_config() is the
 *	configuration the connection started with; daemon_conn_setpriv()
 *	and daemon_conn_getpriv() hold the daemon's per-connection data,
 *	which d->msg_reset is given at the end of each message and
 *	d->priv_free when the connection (or, after SMFIC_QUIT_NC, its SMTP
 *	session) ends.
 * DIAGNOSTICS
 *	A connection that cannot get memory for its state, or that starts
 *	while stopping, is answered with a temporary failure.
 * SEE ALSO
 *	daemon(3), milter(3).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "daemon.h"
#include "daemon_conn.h"
#include "daemon_metrics.h"
#include "log.h"
#include "milter.h"

/* TIMED - the daemon's callback call, its time recorded for stage st */
#define TIMED(st, call) __extension__ ({				\
	struct timespec t0_;						\
	sfsistat r_;							\
	clock_gettime(CLOCK_MONOTONIC, &t0_);				\
	r_ = (call);							\
	daemon_metrics_stage((st), &t0_);				\
	r_;								\
})

/* verdict_word - a verdict as the metrics name it */
static const char *
verdict_word(sfsistat r)
{
	switch (r) {
	case SMFIS_ACCEPT:	return "accept";
	case SMFIS_REJECT:	return "reject";
	case SMFIS_DISCARD:	return "discard";
	case SMFIS_TEMPFAIL:	return "tempfail";
	default:		return "continue";
	}
}

/* One loaded configuration and the connections that hold it. */
struct cfgref {
	void		*cfg;
	unsigned long	 refs;		/* +1 while it is the current one */
};

/*
 * Per-connection state, in the milter private-data slot: one SMTP
 * session's, made at its first callback and freed at close, which is
 * also the end of a session when the MTA reuses the connection
 * (SMFIC_QUIT_NC).  nr comes from the engine's negotiation, which
 * outlives the session.
 */
struct conn {
	struct cfgref	*ref;
	void		*priv;		/* the daemon's */
	int		 in_msg;	/* between MAIL and its end */
	unsigned long	 nr;		/* steps the MTA does not wait for */
	sfsistat	 held;		/* verdict from a reply-less step */
	int		 held_conn;	/* held for the whole session */
	int		 skip_body;	/* the daemon has seen enough body */
	int		 counted;	/* in the connections gauge */
};

/*
 * The steps the MTA need not wait for (no reply): the daemon's verdict at
 * one of them is held and given at the next step that replies, MAIL for
 * connect and HELO, end of message for header, end of header and body.
 * MAIL itself is reply-less when the daemon has a RCPT callback, whose
 * reply then carries what MAIL would have said; without one, MAIL
 * answers, so that a message refused there (while stopping, say) is
 * refused before its data.
 */
#define RT_NOREPLY	(SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_HDR | \
			 SMFIP_NR_EOH | SMFIP_NR_BODY)

/* Process-wide state, shared by the main thread and the connections. */
static struct {
	const struct daemon_desc *desc;
	pthread_mutex_t	 lock;		/* guards the rest */
	struct cfgref	*current;
	unsigned long	 nmsg;		/* messages in flight */
	int		 stopping;	/* no new connections or messages */
} rt = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
};

/* cfg_release - drop one reference; the last one frees the config */
static void
cfg_release(struct cfgref *ref)
{
	unsigned long left;

	if (ref == NULL)
		return;
	pthread_mutex_lock(&rt.lock);
	left = --ref->refs;
	pthread_mutex_unlock(&rt.lock);
	if (left == 0) {
		rt.desc->free_config(ref->cfg);
		free(ref);
	}
}

/* daemon_conn_install - make cfg current; -1 (cfg not taken) if no memory */
int
daemon_conn_install(void *cfg)
{
	struct cfgref *ref, *old;

	if ((ref = calloc(1, sizeof(*ref))) == NULL)
		return -1;
	ref->cfg = cfg;
	ref->refs = 1;
	pthread_mutex_lock(&rt.lock);
	old = rt.current;
	rt.current = ref;
	pthread_mutex_unlock(&rt.lock);
	cfg_release(old);
	return 0;
}

/* daemon_conn_current - the current configuration (main thread) */
void *
daemon_conn_current(void)
{
	return rt.current != NULL ? rt.current->cfg : NULL;
}

/* daemon_conn_release - drop the current configuration at the end */
void
daemon_conn_release(void)
{
	struct cfgref *ref;

	pthread_mutex_lock(&rt.lock);
	ref = rt.current;
	rt.current = NULL;
	pthread_mutex_unlock(&rt.lock);
	cfg_release(ref);
}

/* daemon_conn_stop - refuse new connections and messages from now on */
void
daemon_conn_stop(void)
{
	pthread_mutex_lock(&rt.lock);
	rt.stopping = 1;
	pthread_mutex_unlock(&rt.lock);
}

/* daemon_conn_in_flight - how many messages are in flight */
unsigned long
daemon_conn_in_flight(void)
{
	unsigned long n;

	pthread_mutex_lock(&rt.lock);
	n = rt.nmsg;
	pthread_mutex_unlock(&rt.lock);
	return n;
}

/* Per-connection state and the callback wrappers. */

/* conn_get - this connection's state, made on its first callback */
static struct conn *
conn_get(SMFICTX *ctx)
{
	struct conn *c;

	if ((c = smfi_getpriv(ctx)) != NULL)
		return c;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warnx("out of memory for a new connection");
		return NULL;
	}
	c->held = SMFIS_CONTINUE;
	/* after QUIT_NC, a new SMTP session on a negotiated connection */
	c->nr = milter_pflags(ctx) & (RT_NOREPLY | SMFIP_NR_MAIL);
	pthread_mutex_lock(&rt.lock);
	if (!rt.stopping) {
		c->ref = rt.current;
		c->ref->refs++;
	}
	pthread_mutex_unlock(&rt.lock);
	if (c->ref == NULL || smfi_setpriv(ctx, c) != MI_SUCCESS) {
		cfg_release(c->ref);
		free(c);
		return NULL;
	}
	daemon_metrics_conn(1);
	c->counted = 1;
	return c;
}

/* msg_begin - a message starts on c; -1 when stopping */
static int
msg_begin(struct conn *c)
{
	int r = -1;

	pthread_mutex_lock(&rt.lock);
	if (!rt.stopping) {
		if (!c->in_msg)
			rt.nmsg++;
		c->in_msg = 1;
		r = 0;
	}
	pthread_mutex_unlock(&rt.lock);
	return r;
}

/* msg_end - the message on c is over */
static void
msg_end(struct conn *c)
{
	pthread_mutex_lock(&rt.lock);
	if (c->in_msg)
		rt.nmsg--;
	c->in_msg = 0;
	pthread_mutex_unlock(&rt.lock);
}

/* msg_verdict - a verdict other than "go on" ends the message */
static sfsistat
msg_verdict(struct conn *c, sfsistat r)
{
	if (r != SMFIS_CONTINUE && r != SMFIS_SKIP && r != SMFIS_NOREPLY)
		msg_end(c);
	return r;
}

/* daemon_addr - a connect callback's address as text */
const char *
daemon_addr(const _SOCK_ADDR *sa, char *buf, size_t len, int *port)
{
	const struct sockaddr_in *in4 = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

	if (port != NULL)
		*port = -1;
	if (sa != NULL && sa->sa_family == AF_INET) {
		if (port != NULL)
			*port = ntohs(in4->sin_port);
		return inet_ntop(AF_INET, &in4->sin_addr, buf, (socklen_t)len);
	}
	if (sa != NULL && sa->sa_family == AF_INET6) {
		if (port != NULL)
			*port = ntohs(in6->sin6_port);
		return inet_ntop(AF_INET6, &in6->sin6_addr, buf,
		    (socklen_t)len);
	}
	return NULL;
}

/* daemon_cancelled - the callback's work is moot: we are stopping, or
 * the MTA aborted the message or went away */
int
daemon_cancelled(SMFICTX *ctx)
{
	int stopping;

	pthread_mutex_lock(&rt.lock);
	stopping = rt.stopping;
	pthread_mutex_unlock(&rt.lock);
	return stopping || milter_interrupted(ctx);
}

/* daemon_conn_config - the config this connection started with */
void *
daemon_conn_config(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);

	return c != NULL ? c->ref->cfg : NULL;
}

/* daemon_conn_common - the common values of that config, or NULL */
const struct daemon_conf *
daemon_conn_common(SMFICTX *ctx)
{
	void *cfg = daemon_conn_config(ctx);

	return cfg == NULL ? NULL : (const struct daemon_conf *)
	    ((const char *)cfg + rt.desc->conf_off);
}

/* daemon_conn_desc - the daemon's descriptor */
const struct daemon_desc *
daemon_conn_desc(void)
{
	return rt.desc;
}

/* daemon_conn_getpriv - the daemon's per-connection data, or NULL */
void *
daemon_conn_getpriv(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);

	return c != NULL ? c->priv : NULL;
}

/* daemon_conn_setpriv - set the daemon's per-connection data */
void
daemon_conn_setpriv(SMFICTX *ctx, void *p)
{
	struct conn *c = smfi_getpriv(ctx);

	if (c == NULL)
		log_panic("daemon_conn_setpriv outside a milter callback");
	c->priv = p;
}

#define M	(rt.desc->milter)

/* rt_negotiate - option negotiation: the daemon's, or pflags and steps */
static sfsistat
rt_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	const struct { int missing; unsigned long bit; } steps[] = {
		{ M.xxfi_connect == NULL, SMFIP_NOCONNECT },
		{ M.xxfi_helo == NULL, SMFIP_NOHELO },
		{ M.xxfi_envrcpt == NULL, SMFIP_NORCPT },
		{ M.xxfi_header == NULL, SMFIP_NOHDRS },
		{ M.xxfi_eoh == NULL, SMFIP_NOEOH },
		{ M.xxfi_body == NULL, SMFIP_NOBODY },
		{ M.xxfi_data == NULL, SMFIP_NODATA },
		{ M.xxfi_unknown == NULL, SMFIP_NOUNKNOWN },
	};	/* MAIL is always wanted: rt_envfrom tracks messages */
	struct conn *c = conn_get(ctx);
	unsigned long want;
	size_t i;

	/* without c (stopping, or out of memory) later steps get tempfail */
	if (M.xxfi_negotiate != NULL)
		return c == NULL ? SMFIS_REJECT :
		    M.xxfi_negotiate(ctx, f0, f1, f2, f3, pf0, pf1, pf2, pf3);
	if ((f0 & M.xxfi_flags) != M.xxfi_flags) {
		log_warnx("the MTA offers actions 0x%lx, this milter needs "
		    "0x%lx", f0, M.xxfi_flags);
		return SMFIS_REJECT;
	}
	want = rt.desc->pflags;
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (steps[i].missing)
			want |= steps[i].bit;
	*pf0 = M.xxfi_flags;
	if (c != NULL)
		want |= RT_NOREPLY | (M.xxfi_envrcpt != NULL ?
		    SMFIP_NR_MAIL : 0);
	*pf1 = want & f1;
	if (c != NULL)
		c->nr = *pf1 & (RT_NOREPLY | SMFIP_NR_MAIL);
	*pf2 = 0;
	*pf3 = 0;
	return SMFIS_CONTINUE;
}

/*
 * hold - the daemon's verdict r at a step that may be reply-less (bit):
 * when the MTA agreed not to wait, anything but "go on" is kept for the
 * next step that replies, and the MTA gets no reply now
 */
static sfsistat
hold(struct conn *c, sfsistat r, unsigned long bit)
{
	int whole_conn = (bit & (SMFIP_NR_CONN | SMFIP_NR_HELO)) != 0;

	if (!(c->nr & bit))
		return whole_conn ? r : msg_verdict(c, r);
	switch (r) {
	case SMFIS_CONTINUE:
	case SMFIS_NOREPLY:
		break;
	case SMFIS_SKIP:
		c->skip_body = 1;
		break;
	default:
		c->held = r;
		c->held_conn = whole_conn;
		break;
	}
	return SMFIS_NOREPLY;
}

/* held - whether a verdict is waiting, so the daemon is not called */
static int
held(const struct conn *c)
{
	return c->held != SMFIS_CONTINUE;
}

/* quiet - the answer at a step the daemon is not called for (c may be
 * NULL: then no step was made reply-less, see rt_negotiate) */
static sfsistat
quiet(const struct conn *c, unsigned long bit)
{
	if (c == NULL)
		return SMFIS_TEMPFAIL;
	return (c->nr & bit) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/* quiet_held - at a step that may be reply-less (bit), the held verdict:
 * no reply when the MTA does not wait, else the verdict itself */
static sfsistat
quiet_held(const struct conn *c, unsigned long bit)
{
	return (c->nr & bit) ? SMFIS_NOREPLY : c->held;
}

/* rt_connect - connection start: take the current config, then the daemon */
static sfsistat
rt_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	struct conn *c = conn_get(ctx);

	if (c == NULL)
		return SMFIS_TEMPFAIL;
	return hold(c, TIMED(DAEMON_STAGE_CONNECT, M.xxfi_connect(ctx, host,
	    sa)), SMFIP_NR_CONN);
}

/* rt_helo - HELO/EHLO */
static sfsistat
rt_helo(SMFICTX *ctx, char *helo)
{
	struct conn *c = conn_get(ctx);

	if (c == NULL || held(c))
		return quiet(c, SMFIP_NR_HELO);
	return hold(c, TIMED(DAEMON_STAGE_HELO, M.xxfi_helo(ctx, helo)),
	    SMFIP_NR_HELO);
}

/* rt_envfrom - MAIL FROM: a message starts, unless we are stopping */
static sfsistat
rt_envfrom(SMFICTX *ctx, char **argv)
{
	struct conn *c = conn_get(ctx);
	sfsistat r;

	if (c == NULL)
		return SMFIS_TEMPFAIL;
	if (held(c))			/* from connect or HELO: every MAIL */
		return quiet_held(c, SMFIP_NR_MAIL);
	if (msg_begin(c) < 0)
		return hold(c, SMFIS_TEMPFAIL, SMFIP_NR_MAIL);
	r = M.xxfi_envfrom != NULL ? TIMED(DAEMON_STAGE_MAIL,
	    M.xxfi_envfrom(ctx, argv)) : SMFIS_CONTINUE;
	if (r != SMFIS_CONTINUE)
		daemon_metrics_refusal("mail", verdict_word(r));
	return hold(c, r, SMFIP_NR_MAIL);
}

/* rt_envrcpt - RCPT TO; a verdict held since MAIL answers each one */
static sfsistat
rt_envrcpt(SMFICTX *ctx, char **argv)
{
	struct conn *c = conn_get(ctx);

	if (c == NULL)
		return SMFIS_TEMPFAIL;
	sfsistat r;

	if (held(c))
		return c->held;
	r = TIMED(DAEMON_STAGE_RCPT, M.xxfi_envrcpt(ctx, argv));
	if (r != SMFIS_CONTINUE)
		daemon_metrics_refusal("rcpt", verdict_word(r));
	return r;
}

/* rt_data - DATA */
static sfsistat
rt_data(SMFICTX *ctx)
{
	struct conn *c = conn_get(ctx);

	return c == NULL ? SMFIS_TEMPFAIL : msg_verdict(c, M.xxfi_data(ctx));
}

/* daemon_conn_eats_space - the daemon asked for SMFIP_HDR_LEADSPC and the
 * MTA did not agree to it (see rt_header) */
int
daemon_conn_eats_space(SMFICTX *ctx)
{
	return (rt.desc->pflags & SMFIP_HDR_LEADSPC) != 0 &&
	    M.xxfi_negotiate == NULL &&
	    (milter_pflags(ctx) & SMFIP_HDR_LEADSPC) == 0;
}

/*
 * rt_header - one header field.  A daemon that asks for
 * SMFIP_HDR_LEADSPC sees each value as it is in the message, from the
 * byte after the colon.  An MTA that does not agree to it (Sendmail
 * before 8.14, some milter proxies) drops one space after the colon and
 * writes "name: value" back; as in Sendmail's header model (and
 * OpenDKIM), each value it passes is taken as preceded by one space.
 */
static sfsistat
rt_header(SMFICTX *ctx, char *name, char *value)
{
	struct conn *c = conn_get(ctx);
	sfsistat r;
	char *v;

	if (c == NULL || held(c))	/* end of message answers */
		return quiet(c, SMFIP_NR_HDR);
	if (!daemon_conn_eats_space(ctx))
		return hold(c, TIMED(DAEMON_STAGE_HEADER, M.xxfi_header(ctx,
		    name, value)), SMFIP_NR_HDR);
	if (asprintf(&v, " %s", value) < 0) {
		log_warnx("out of memory for a header field");
		return hold(c, SMFIS_TEMPFAIL, SMFIP_NR_HDR);
	}
	r = TIMED(DAEMON_STAGE_HEADER, M.xxfi_header(ctx, name, v));
	free(v);
	return hold(c, r, SMFIP_NR_HDR);
}

/* rt_eoh - end of header */
static sfsistat
rt_eoh(SMFICTX *ctx)
{
	struct conn *c = conn_get(ctx);

	if (c == NULL || held(c))
		return quiet(c, SMFIP_NR_EOH);
	return hold(c, TIMED(DAEMON_STAGE_EOH, M.xxfi_eoh(ctx)), SMFIP_NR_EOH);
}

/* rt_body - one body chunk; after a skip the rest is not passed on */
static sfsistat
rt_body(SMFICTX *ctx, unsigned char *p, size_t n)
{
	struct conn *c = conn_get(ctx);

	if (c == NULL || held(c) || c->skip_body)
		return quiet(c, SMFIP_NR_BODY);
	return hold(c, TIMED(DAEMON_STAGE_BODY, M.xxfi_body(ctx, p, n)),
	    SMFIP_NR_BODY);
}

/* msg_over - the message has ended: forget its held verdict and skip,
 * and let the daemon reset its per-message data */
static void
msg_over(struct conn *c)
{
	if (!c->held_conn)
		c->held = SMFIS_CONTINUE;
	c->skip_body = 0;
	if (c->priv != NULL && rt.desc->msg_reset != NULL)
		rt.desc->msg_reset(c->priv);
	msg_end(c);
}

/*
 * rt_eom - end of message: the message is over whatever the verdict.  A
 * verdict held since a header or body step is given now; the daemon,
 * which gave it, sees the message aborted rather than ended.
 */
static sfsistat
rt_eom(SMFICTX *ctx)
{
	struct conn *c = conn_get(ctx);
	sfsistat r;

	if (c == NULL)
		return SMFIS_TEMPFAIL;
	if (held(c)) {
		r = c->held;
		if (M.xxfi_abort != NULL)
			(void)M.xxfi_abort(ctx);
	} else
		r = M.xxfi_eom != NULL ? TIMED(DAEMON_STAGE_EOM, M.xxfi_eom(ctx)) :
		    SMFIS_CONTINUE;
	daemon_metrics_message(verdict_word(r));
	msg_over(c);
	return r;
}

/* rt_abort - message aborted */
static sfsistat
rt_abort(SMFICTX *ctx)
{
	struct conn *c = conn_get(ctx);
	sfsistat r;

	if (c == NULL)
		return SMFIS_CONTINUE;
	r = M.xxfi_abort != NULL ? TIMED(DAEMON_STAGE_ABORT,
	    M.xxfi_abort(ctx)) : SMFIS_CONTINUE;
	if (c->in_msg)
		daemon_metrics_message("aborted");
	msg_over(c);
	return r;
}

/* rt_unknown - unknown SMTP command */
static sfsistat
rt_unknown(SMFICTX *ctx, const char *cmd)
{
	return conn_get(ctx) == NULL ? SMFIS_TEMPFAIL :
	    M.xxfi_unknown(ctx, cmd);
}

/* rt_close - connection end: the daemon first, then drop the config */
static sfsistat
rt_close(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);
	sfsistat r = SMFIS_CONTINUE;

	if (c == NULL)
		return r;
	if (M.xxfi_close != NULL)
		r = M.xxfi_close(ctx);
	if (c->priv != NULL && rt.desc->priv_free != NULL)
		rt.desc->priv_free(c->priv);
	smfi_setpriv(ctx, NULL);
	msg_end(c);
	if (c->counted)
		daemon_metrics_conn(-1);
	cfg_release(c->ref);
	free(c);
	return r;
}

/* daemon_conn_init - the wrapped callbacks the engine calls */
void
daemon_conn_init(const struct daemon_desc *d, struct smfiDesc *w)
{
	rt.desc = d;

	*w = M;
	w->xxfi_name = (char *)(M.xxfi_name != NULL ? M.xxfi_name :
	    rt.desc->name);
	w->xxfi_negotiate = rt_negotiate;
	w->xxfi_connect = M.xxfi_connect ? rt_connect : NULL;
	w->xxfi_helo = M.xxfi_helo ? rt_helo : NULL;
	w->xxfi_envfrom = rt_envfrom;	/* these three track messages */
	w->xxfi_envrcpt = M.xxfi_envrcpt ? rt_envrcpt : NULL;
	w->xxfi_data = M.xxfi_data ? rt_data : NULL;
	w->xxfi_header = M.xxfi_header ? rt_header : NULL;
	w->xxfi_eoh = M.xxfi_eoh ? rt_eoh : NULL;
	w->xxfi_body = M.xxfi_body ? rt_body : NULL;
	w->xxfi_eom = rt_eom;
	w->xxfi_abort = rt_abort;
	w->xxfi_unknown = M.xxfi_unknown ? rt_unknown : NULL;
	w->xxfi_close = rt_close;
}

#undef M
