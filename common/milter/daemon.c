/*
 * NAME
 *	daemon - the milter runtime shared by the four daemons
 * SYNOPSIS
 *	#include "daemon.h"
 *
 *	int main(int argc, char **argv) {
 *		struct daemon_opts o;
 *		struct buf err = BUF_INIT;
 *
 *		if (daemon_args(&desc, argc, argv, &o, &err) < 0) { ... }
 *		return daemon_run(&desc, &o);
 *	}
 * DESCRIPTION
 *	daemon_args() reads the command line: -c FILE (or -x FILE, as
 *	OpenDKIM spells it), -C (the embedded default even when the default
 *	file exists), -f (foreground), -n (check the configuration and exit
 *	0 or 1), -V, -h, and keyword settings applied after the file:
 *	-O Keyword=value, and the option letters OpenDKIM and its siblings
 *	use (-p Socket, -P PidFile, -u UserID, plus the daemon's own, e.g.
 *	-d Domain); the words after the options are left to the caller in
 *	opts->argc/argv.
 *
 *	daemon_run() loads the configuration (-c FILE; else the daemon's
 *	default file if it exists; else its embedded default text), then in
 *	this order: locks the PidFile (refusing to start when another
 *	process holds it), sets the UMask, opens the milter socket (removing
 *	a stale UNIX socket, turning Nagle off on a TCP listener), detaches
 *	unless told to stay in the foreground, writes the PidFile, drops
 *	privileges to UserID and serves the MTA through milter(3).
 *
 *	The milter engine runs in its own threads, with SIGHUP, SIGUSR1,
 *	SIGTERM and SIGINT blocked, so the kernel delivers them to the main
 *	thread, whose handler writes the signal number to a pipe that the
 *	main thread reads.
 *	SIGHUP, SIGUSR1	reload the configuration; a failed reload logs why
 *			and keeps the old one.  Connections keep the config
 *			they started with until they close.
 *	SIGTERM, SIGINT	answer new connections and messages with a temporary
 *			failure, let messages in flight finish (at most
 *			DAEMON_DRAIN_SECONDS; a second signal cuts that
 *			short), stop the engine, remove the PidFile and
 *			return 0.  Connections idle between messages are
 *			closed.
 *
 *	Values that only take effect at start (Socket, PidFile, UserID,
 *	UMask, Background, MilterDebug, Syslog, SyslogFacility) are kept
 *	across a reload; a change is logged as needing a restart.
 *
 *	Milter packets may carry up to DAEMON_MAX_DATA_SIZE bytes, so that
 *	header fields up to that size (Postfix's header_size_limit is 100 KB
 *	by default) are processed instead of the connection being dropped.
 * DIAGNOSTICS
 *	Configuration and start-up errors are logged and make daemon_run()
 *	return 1.  Milter connections that cannot get memory for their state
 *	are answered with a temporary failure.
 * SEE ALSO
 *	conf(3) for the file format, log(3).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "crypto.h"
#include "daemon.h"
#include "log.h"
#include "milter.h"

#define DAEMON_PWBUF_MAX	(1024 * 1024)	/* getpwnam_r scratch bound */

/* One loaded configuration and the connections that hold it. */
struct cfgref {
	void		*cfg;
	unsigned long	 refs;		/* +1 while it is the current one */
};

/* Per-connection state, in the milter private-data slot. */
struct conn {
	struct cfgref	*ref;
	void		*priv;		/* the daemon's */
	int		 in_msg;	/* between MAIL and its end */
	unsigned long	 nr;		/* steps the MTA does not wait for */
	sfsistat	 held;		/* verdict from a reply-less step */
	int		 held_conn;	/* held for the whole connection */
	int		 skip_body;	/* the daemon has seen enough body */
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

/* Process-wide state: one runtime per process. */
static struct {
	const struct daemon_desc *desc;
	const struct daemon_opts *opts;
	pthread_mutex_t	 lock;		/* guards current, nmsg, stopping */
	struct cfgref	*current;
	unsigned long	 nmsg;		/* messages in flight */
	int		 stopping;	/* no new connections or messages */
	int		 lfd;		/* the listening socket */
	char		*unix_path;	/* its path, to remove at the end */
	struct smfiDesc	 wrapped;	/* the callbacks milter_run calls */
	int		 sig_pipe[2];	/* signal handler -> main thread */
	int		 pid_fd;	/* the locked PidFile, or -1 */
	char		*pid_path;
	int		 milter_status;	/* milter_run() result */
	long		 milter_debug;	/* MilterDebug at start */
} rt = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.lfd = -1,
	.sig_pipe = { -1, -1 },
	.pid_fd = -1,
};

/* Command line. */

/* Option letters every daemon has, as OpenDKIM, OpenARC and OpenDMARC. */
static const struct daemon_alias common_aliases[] = {
	{ 'p', "Socket" },
	{ 'P', "PidFile" },
	{ 'u', "UserID" },
	{ 0, NULL },
};

/* alias_find - the keyword an option letter sets, or NULL */
static const char *
alias_find(const struct daemon_desc *d, int opt)
{
	const struct daemon_alias *a;

	for (a = common_aliases; a->opt != 0; a++)
		if (a->opt == opt)
			return a->keyword;
	for (a = d != NULL ? d->aliases : NULL; a != NULL && a->opt != 0; a++)
		if (a->opt == opt)
			return a->keyword;
	return NULL;
}

/* add_override - "Keyword value" from -O Keyword=value or an alias */
static int
add_override(struct daemon_opts *o, const char *kw, const char *val,
    struct buf *err)
{
	if (strpbrk(val, "\r\n") != NULL) {
		buf_printf(err, "a value on the command line cannot span lines");
		return -1;
	}
	buf_printf(&o->overrides, "%s %s\n", kw, val);
	return o->overrides.failed ? -1 : 0;
}

/* opt_override - -O Keyword=value */
static int
opt_override(struct daemon_opts *o, const char *arg, struct buf *err)
{
	const char *eq = strchr(arg, '=');
	char kw[128];

	if (eq == NULL || eq == arg || (size_t)(eq - arg) >= sizeof(kw)) {
		buf_printf(err, "-O needs Keyword=value, not \"%s\"", arg);
		return -1;
	}
	memcpy(kw, arg, (size_t)(eq - arg));
	kw[eq - arg] = '\0';
	return add_override(o, kw, eq + 1, err);
}

/* daemon_args - parse argv; -1 with err set on a usage error */
int
daemon_args(const struct daemon_desc *d, int argc, char **argv,
    struct daemon_opts *o, struct buf *err)
{
	const char *p, *arg, *kw;
	int i, opt;

	memset(o, 0, sizeof(*o));
	buf_init(&o->overrides);
	for (i = 1; i < argc; i++) {
		p = argv[i];
		if (strcmp(p, "--") == 0) {
			i++;
			break;
		}
		if (p[0] != '-' || p[1] == '\0')
			break;
		for (p++; *p != '\0'; p++) {
			opt = *p;
			switch (opt) {
			case 'f': o->foreground = 1; continue;
			case 'n': o->check = 1; continue;
			case 'V': o->version = 1; continue;
			case 'h': o->help = 1; continue;
			case 'C': o->builtin = 1; continue;
			}
			kw = alias_find(d, opt);
			if (opt != 'c' && opt != 'x' && opt != 'O' && kw == NULL) {
				buf_printf(err, "unknown option -%c", opt);
				return -1;
			}
			/* the rest of this word, or the next, is the value */
			if (p[1] != '\0')
				arg = p + 1;
			else if (i + 1 < argc)
				arg = argv[++i];
			else {
				buf_printf(err, "option -%c needs a value", opt);
				return -1;
			}
			if (opt == 'c' || opt == 'x')
				o->config = arg;
			else if ((opt == 'O' ? opt_override(o, arg, err) :
			    add_override(o, kw, arg, err)) < 0)
				return -1;
			break;
		}
	}
	o->argc = argc - i;
	o->argv = argv + i;
	return 0;
}

/* daemon_opts_free - release what daemon_args allocated */
void
daemon_opts_free(struct daemon_opts *o)
{
	buf_free(&o->overrides);
}

/* daemon_usage - print the usage text to stderr */
void
daemon_usage(const struct daemon_desc *d)
{
	const struct daemon_alias *a;

	fprintf(stderr,
	    "usage: %s [-CfhnV] [-c config] [-O keyword=value]... "
	    "[-p socket] [-P pidfile] [-u user]\n"
	    "  -c file  configuration file (default %s if present)\n"
	    "  -x file  the same, as OpenDKIM spells it\n"
	    "  -C       use the built-in default configuration, not %s\n"
	    "  -O kw=v  set a keyword, after the file (may be repeated)\n"
	    "  -p spec  Socket; -P file: PidFile; -u user: UserID\n",
	    d->name, d->conf_path != NULL ? d->conf_path : "none",
	    d->conf_path != NULL ? d->conf_path : "a file");
	for (a = d->aliases; a != NULL && a->opt != 0; a++)
		fprintf(stderr, "  -%c val   %s\n", a->opt, a->keyword);
	fprintf(stderr,
	    "  -f       stay in the foreground\n"
	    "  -n       check the configuration and exit\n"
	    "  -V       print the version and exit\n"
	    "  -h       print this help and exit\n%s",
	    d->usage_extra != NULL ? d->usage_extra : "");
}

/* Socket specs. */

/* sock_port - parse a decimal port 1..65535; NULL if malformed */
static const char *
sock_port(const char *cp, unsigned *port)
{
	unsigned long v = 0;

	if (!isdigit((unsigned char)*cp))
		return NULL;
	for (; isdigit((unsigned char)*cp); cp++) {
		v = v * 10 + (unsigned long)(*cp - '0');
		if (v > 65535)
			return NULL;
	}
	if (v == 0)
		return NULL;
	*port = (unsigned)v;
	return cp;
}

/* sock_host - check and store the host after '@' */
static int
sock_host(const char *h, struct daemon_sock *s, struct buf *err)
{
	char lit[DAEMON_SOCK_HOST_MAX];
	size_t n = strlen(h);
	unsigned char a[sizeof(struct in6_addr)];
	const char *p;

	if (h[0] == '[') {
		if (n < 3 || h[n - 1] != ']') {
			buf_printf(err, "unbalanced brackets in host \"%s\"", h);
			return -1;
		}
		h++;
		n -= 2;
	}
	if (n == 0 || n >= sizeof(lit)) {
		buf_printf(err, "%s host after '@'", n ? "overlong" : "missing");
		return -1;
	}
	memcpy(lit, h, n);
	lit[n] = '\0';
	if (inet_pton(AF_INET6, lit, a) == 1) {
		if (s->family != DAEMON_SOCK_INET6) {
			buf_printf(err, "IPv6 address %s needs inet6:", lit);
			return -1;
		}
	} else if (inet_pton(AF_INET, lit, a) == 1) {
		if (s->family != DAEMON_SOCK_INET) {
			buf_printf(err, "IPv4 address %s needs inet:", lit);
			return -1;
		}
	} else {
		for (p = lit; *p != '\0'; p++)
			if (!isalnum((unsigned char)*p) && *p != '-' &&
			    *p != '.') {
				buf_printf(err, "bad host name \"%s\"", lit);
				return -1;
			}
	}
	memcpy(s->host, lit, n + 1);
	return 0;
}

/* daemon_sock_parse - parse a Socket spec; -1 with err set if malformed */
int
daemon_sock_parse(const char *spec, struct daemon_sock *s, struct buf *err)
{
	const char *rest, *cp;
	size_t n;

	memset(s, 0, sizeof(*s));
	if (spec == NULL || *spec == '\0') {
		buf_puts(err, "empty socket specification");
		return -1;
	}
	if (spec[0] == '/') {
		rest = spec;
		s->family = DAEMON_SOCK_UNIX;
	} else if (strncasecmp(spec, "unix:", 5) == 0 ||
	    strncasecmp(spec, "local:", 6) == 0) {
		rest = strchr(spec, ':') + 1;
		s->family = DAEMON_SOCK_UNIX;
	} else if (strncasecmp(spec, "inet:", 5) == 0) {
		rest = spec + 5;
		s->family = DAEMON_SOCK_INET;
	} else if (strncasecmp(spec, "inet6:", 6) == 0) {
		rest = spec + 6;
		s->family = DAEMON_SOCK_INET6;
	} else {
		buf_printf(err, "socket \"%s\": unknown type (use inet:PORT@HOST,"
		    " inet6:PORT@HOST or unix:/path)", spec);
		return -1;
	}
	if (s->family == DAEMON_SOCK_UNIX) {
		n = strlen(rest);
		if (rest[0] != '/') {
			buf_printf(err, "socket \"%s\": the path must be "
			    "absolute", spec);
			return -1;
		}
		if (n >= sizeof(s->path)) {
			buf_printf(err, "socket \"%s\": path longer than %zu "
			    "bytes", spec, sizeof(s->path) - 1);
			return -1;
		}
		memcpy(s->path, rest, n + 1);
		return 0;
	}
	if ((cp = sock_port(rest, &s->port)) == NULL ||
	    (*cp != '\0' && *cp != '@')) {
		buf_printf(err, "socket \"%s\": the port must be a number "
		    "from 1 to 65535", spec);
		return -1;
	}
	if (*cp == '@') {
		struct buf why = BUF_INIT;

		if (sock_host(cp + 1, s, &why) < 0) {
			buf_printf(err, "socket \"%s\": %s", spec, buf_str(&why));
			buf_free(&why);
			return -1;
		}
		buf_free(&why);
	}
	return 0;
}

/* Common configuration values. */

/* daemon_umask_parse - octal UMask text to a mode; -1 if malformed */
int
daemon_umask_parse(const char *s, mode_t *m)
{
	unsigned long v = 0;
	const char *p;

	if (s == NULL || *s == '\0')
		return -1;
	for (p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '7')
			return -1;
		v = v * 8 + (unsigned long)(*p - '0');
		if (v > 0777)
			return -1;
	}
	*m = (mode_t)v;
	return 0;
}

/* pw_lookup - getpwnam_r with a growing buffer; -1 if unknown */
static int
pw_lookup(const char *name, uid_t *uid, gid_t *gid)
{
	struct passwd pw, *res = NULL;
	size_t len = 1024;
	char *b = NULL, *nb;
	int r;

	for (;;) {
		if ((nb = realloc(b, len)) == NULL)
			break;
		b = nb;
		r = getpwnam_r(name, &pw, b, len, &res);
		if (r != ERANGE || len >= DAEMON_PWBUF_MAX)
			break;
		len *= 2;
	}
	if (res != NULL) {
		*uid = pw.pw_uid;
		*gid = pw.pw_gid;
	}
	free(b);
	return res != NULL ? 0 : -1;
}

/* gr_lookup - getgrnam_r with a growing buffer; -1 if unknown */
static int
gr_lookup(const char *name, gid_t *gid)
{
	struct group gr, *res = NULL;
	size_t len = 1024;
	char *b = NULL, *nb;
	int r;

	for (;;) {
		if ((nb = realloc(b, len)) == NULL)
			break;
		b = nb;
		r = getgrnam_r(name, &gr, b, len, &res);
		if (r != ERANGE || len >= DAEMON_PWBUF_MAX)
			break;
		len *= 2;
	}
	if (res != NULL)
		*gid = gr.gr_gid;
	free(b);
	return res != NULL ? 0 : -1;
}

/* daemon_user_parse - "user[:group]" to ids; -1 with err set if unknown */
int
daemon_user_parse(const char *spec, uid_t *uid, gid_t *gid, struct buf *err)
{
	struct buf user = BUF_INIT;
	const char *colon = strchr(spec, ':');
	int r = -1;

	buf_append(&user, spec, colon ? (size_t)(colon - spec) : strlen(spec));
	if (user.failed)
		buf_puts(err, "out of memory");
	else if (user.len == 0)
		buf_printf(err, "UserID \"%s\": missing user name", spec);
	else if (pw_lookup(user.s, uid, gid) < 0)
		buf_printf(err, "UserID \"%s\": unknown user %s", spec, user.s);
	else if (colon != NULL && colon[1] == '\0')
		buf_printf(err, "UserID \"%s\": missing group name", spec);
	else if (colon != NULL && gr_lookup(colon + 1, gid) < 0)
		buf_printf(err, "UserID \"%s\": unknown group %s", spec,
		    colon + 1);
	else
		r = 0;
	buf_free(&user);
	return r;
}

/* check_where - "file:line: " for a keyword when c knows it */
static void
check_where(const struct conf *c, const char *kw, struct buf *err)
{
	const struct conf_loc *l;

	if (c != NULL && (l = conf_where(c, kw)) != NULL && l->file != NULL)
		buf_printf(err, "%s:%d: ", l->file, l->line);
	buf_printf(err, "%s: ", kw);
}

/* daemon_conf_open - see daemon.h */
int
daemon_conf_open(struct conf *c, const struct conf_kw *table, size_t n,
    void *values, const struct daemon_conf *dc, const char *path,
    const char *text, const char *overrides, struct buf *err)
{
	if (conf_init(c, table, n, values, err) < 0 ||
	    conf_load(c, path, text, overrides, err) < 0)
		return -1;
	return daemon_conf_check(dc, c, err);
}

/* daemon_conf_check - validate the common values; -1 with err set */
int
daemon_conf_check(const struct daemon_conf *dc, const struct conf *c,
    struct buf *err)
{
	struct daemon_sock s;
	struct buf why = BUF_INIT;
	const char *kw = NULL;
	mode_t m;
	uid_t uid;
	gid_t gid;

	if (dc->socket == NULL) {
		kw = "Socket";
		buf_puts(&why, "no socket given");
	} else if (daemon_sock_parse(dc->socket, &s, &why) < 0)
		kw = "Socket";
	else if (dc->umask != NULL && daemon_umask_parse(dc->umask, &m) < 0) {
		kw = "UMask";
		buf_printf(&why, "\"%s\" is not an octal mode", dc->umask);
	} else if (dc->userid != NULL &&
	    daemon_user_parse(dc->userid, &uid, &gid, &why) < 0)
		kw = "UserID";
	else if (dc->syslog_facility != NULL &&
	    log_facility(dc->syslog_facility) < 0) {
		kw = "SyslogFacility";
		buf_printf(&why, "unknown facility \"%s\"", dc->syslog_facility);
	} else if (dc->pidfile != NULL && dc->pidfile[0] != '/') {
		kw = "PidFile";
		buf_printf(&why, "\"%s\" is not an absolute path", dc->pidfile);
	}
	if (kw != NULL) {
		check_where(c, kw, err);
		buf_puts(err, buf_str(&why));
	}
	buf_free(&why);
	return kw != NULL ? -1 : 0;
}

/* Configuration objects and their references. */

/* dconf - the common values inside a daemon's config */
static const struct daemon_conf *
dconf(const void *cfg)
{
	return (const struct daemon_conf *)((const char *)cfg +
	    rt.desc->conf_off);
}

/* daemon_load - load the config the options select; caller frees it */
void *
daemon_load(const struct daemon_desc *d, const struct daemon_opts *o,
    struct buf *err)
{
	const char *path = o->config;
	struct stat st;

	if (path == NULL && !o->builtin && d->conf_path != NULL &&
	    (stat(d->conf_path, &st) == 0 || errno != ENOENT))
		path = d->conf_path;
	if (path == NULL && d->conf_text == NULL) {
		buf_printf(err, "no configuration file %s", d->conf_path ?
		    d->conf_path : "given");
		return NULL;
	}
	/* load_config checks the common values (daemon_conf_open) */
	return d->load_config(path, path == NULL ? d->conf_text : NULL,
	    o->overrides.len > 0 ? o->overrides.s : NULL, err);
}

/* cfg_install - make cfg the current config; returns the old one's ref */
static struct cfgref *
cfg_install(void *cfg)
{
	struct cfgref *ref, *old;

	if ((ref = calloc(1, sizeof(*ref))) == NULL)
		return NULL;
	ref->cfg = cfg;
	ref->refs = 1;
	pthread_mutex_lock(&rt.lock);
	old = rt.current;
	rt.current = ref;
	pthread_mutex_unlock(&rt.lock);
	return old;
}

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

/* daemon_config - the config this connection started with */
void *
daemon_config(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);

	return c != NULL ? c->ref->cfg : NULL;
}

/* daemon_getpriv - the daemon's per-connection data, or NULL */
void *
daemon_getpriv(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);

	return c != NULL ? c->priv : NULL;
}

/* daemon_setpriv - set the daemon's per-connection data */
void
daemon_setpriv(SMFICTX *ctx, void *p)
{
	struct conn *c = smfi_getpriv(ctx);

	if (c == NULL)
		log_panic("daemon_setpriv outside a milter callback");
	c->priv = p;
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
	return hold(c, M.xxfi_connect(ctx, host, sa), SMFIP_NR_CONN);
}

/* rt_helo - HELO/EHLO */
static sfsistat
rt_helo(SMFICTX *ctx, char *helo)
{
	struct conn *c = conn_get(ctx);

	if (c == NULL || held(c))
		return quiet(c, SMFIP_NR_HELO);
	return hold(c, M.xxfi_helo(ctx, helo), SMFIP_NR_HELO);
}

/* rt_envfrom - MAIL FROM: a message starts, unless we are stopping */
static sfsistat
rt_envfrom(SMFICTX *ctx, char **argv)
{
	struct conn *c = conn_get(ctx);

	if (c == NULL)
		return SMFIS_TEMPFAIL;
	if (held(c))			/* from connect or HELO: every MAIL */
		return quiet_held(c, SMFIP_NR_MAIL);
	if (msg_begin(c) < 0)
		return hold(c, SMFIS_TEMPFAIL, SMFIP_NR_MAIL);
	return hold(c, M.xxfi_envfrom != NULL ?
	    M.xxfi_envfrom(ctx, argv) : SMFIS_CONTINUE, SMFIP_NR_MAIL);
}

/* rt_envrcpt - RCPT TO; a verdict held since MAIL answers each one */
static sfsistat
rt_envrcpt(SMFICTX *ctx, char **argv)
{
	struct conn *c = conn_get(ctx);

	if (c == NULL)
		return SMFIS_TEMPFAIL;
	if (held(c))
		return c->held;
	return M.xxfi_envrcpt(ctx, argv);
}

/* rt_data - DATA */
static sfsistat
rt_data(SMFICTX *ctx)
{
	struct conn *c = conn_get(ctx);

	return c == NULL ? SMFIS_TEMPFAIL : msg_verdict(c, M.xxfi_data(ctx));
}

/* rt_header - one header field */
static sfsistat
rt_header(SMFICTX *ctx, char *name, char *value)
{
	struct conn *c = conn_get(ctx);

	if (c == NULL || held(c))	/* end of message answers */
		return quiet(c, SMFIP_NR_HDR);
	return hold(c, M.xxfi_header(ctx, name, value), SMFIP_NR_HDR);
}

/* rt_eoh - end of header */
static sfsistat
rt_eoh(SMFICTX *ctx)
{
	struct conn *c = conn_get(ctx);

	if (c == NULL || held(c))
		return quiet(c, SMFIP_NR_EOH);
	return hold(c, M.xxfi_eoh(ctx), SMFIP_NR_EOH);
}

/* rt_body - one body chunk; after a skip the rest is not passed on */
static sfsistat
rt_body(SMFICTX *ctx, unsigned char *p, size_t n)
{
	struct conn *c = conn_get(ctx);

	if (c == NULL || held(c) || c->skip_body)
		return quiet(c, SMFIP_NR_BODY);
	return hold(c, M.xxfi_body(ctx, p, n), SMFIP_NR_BODY);
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
		r = M.xxfi_eom != NULL ? M.xxfi_eom(ctx) : SMFIS_CONTINUE;
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
	r = M.xxfi_abort != NULL ? M.xxfi_abort(ctx) : SMFIS_CONTINUE;
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
	cfg_release(c->ref);
	free(c);
	return r;
}

/* rt_register - the wrapped callbacks the engine calls */
static void
rt_register(void)
{
	struct smfiDesc *w = &rt.wrapped;

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

/* Start-up steps, in the order start() and start_listen() take them. */

/* pidfile_lock - open and lock the PidFile; -1 if another process has it */
static int
pidfile_lock(const char *path)
{
	char text[32];
	ssize_t n;

	rt.pid_fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (rt.pid_fd < 0) {
		log_warn("PidFile %s", path);
		return -1;
	}
	if (flock(rt.pid_fd, LOCK_EX | LOCK_NB) < 0) {
		n = pread(rt.pid_fd, text, sizeof(text) - 1, 0);
		text[n > 0 ? n : 0] = '\0';
		text[strcspn(text, "\n")] = '\0';
		log_warnx("PidFile %s is held by running process %s; not "
		    "starting", path, text[0] ? text : "(unknown)");
		close(rt.pid_fd);
		rt.pid_fd = -1;
		return -1;
	}
	if ((rt.pid_path = strdup(path)) == NULL) {
		log_warnx("out of memory");
		return -1;
	}
	return 0;
}

/* pidfile_write - record our process id in the locked PidFile */
static int
pidfile_write(void)
{
	char text[32];
	int n;

	if (rt.pid_fd < 0)
		return 0;
	n = snprintf(text, sizeof(text), "%ld\n", (long)getpid());
	if (ftruncate(rt.pid_fd, 0) < 0 ||
	    pwrite(rt.pid_fd, text, (size_t)n, 0) != n) {
		log_warn("PidFile %s", rt.pid_path);
		return -1;
	}
	return 0;
}

/* pidfile_remove - remove the PidFile (or empty it if we may not) */
static void
pidfile_remove(void)
{
	if (rt.pid_fd < 0)
		return;
	if (unlink(rt.pid_path) < 0 && ftruncate(rt.pid_fd, 0) < 0)
		log_warn("cannot remove PidFile %s", rt.pid_path);
	close(rt.pid_fd);
	rt.pid_fd = -1;
	free(rt.pid_path);
	rt.pid_path = NULL;
}

/* sock_addr - the address a TCP socket spec names; -1 with err set */
static int
sock_addr(const struct daemon_sock *s, struct sockaddr_storage *ss,
    socklen_t *len, struct buf *err)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	struct addrinfo hints, *res;
	int family = s->family == DAEMON_SOCK_INET ? AF_INET : AF_INET6, r;

	memset(ss, 0, sizeof(*ss));
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	if (s->host[0] != '\0' && (r = getaddrinfo(s->host, NULL, &hints,
	    &res)) != 0) {
		buf_printf(err, "socket host \"%s\": %s", s->host,
		    gai_strerror(r));
		return -1;
	}
	if (s->host[0] != '\0') {
		memcpy(ss, res->ai_addr, res->ai_addrlen);
		freeaddrinfo(res);
	}
	ss->ss_family = (sa_family_t)family;
	if (family == AF_INET) {
		in4->sin_port = htons((uint16_t)s->port);
		*len = sizeof(*in4);
	} else {
		in6->sin6_port = htons((uint16_t)s->port);
		*len = sizeof(*in6);
	}
	return 0;
}

/*
 * listen_socket - open the listening socket: a UNIX socket replaces a
 * stale file (start_listen has checked that no process serves it); a TCP
 * one gets SO_REUSEADDR (milter_run adds TCP_NODELAY)
 */
static int
listen_socket(const struct daemon_sock *s, uid_t uid, gid_t gid,
    int chown_it, struct buf *err)
{
	struct sockaddr_storage ss;
	struct sockaddr_un *un = (struct sockaddr_un *)&ss;
	socklen_t len;
	int fd, on = 1;

	memset(&ss, 0, sizeof(ss));
	if (s->family == DAEMON_SOCK_UNIX) {
		un->sun_family = AF_UNIX;
		memcpy(un->sun_path, s->path, strlen(s->path) + 1);
		len = sizeof(*un);
		if (unlink(s->path) < 0 && errno != ENOENT) {
			buf_printf(err, "cannot remove the old socket %s: %s",
			    s->path, strerror(errno));
			return -1;
		}
	} else if (sock_addr(s, &ss, &len, err) < 0)
		return -1;
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		buf_printf(err, "socket: %s", strerror(errno));
		return -1;
	}
	if (s->family != DAEMON_SOCK_UNIX && setsockopt(fd, SOL_SOCKET,
	    SO_REUSEADDR, &on, sizeof(on)) < 0)
		log_warn("SO_REUSEADDR on the listening socket");
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 ||
	    listen(fd, SOMAXCONN) < 0) {
		buf_printf(err, "cannot listen on %s: %s", s->family ==
		    DAEMON_SOCK_UNIX ? s->path : "that address",
		    strerror(errno));
		close(fd);
		return -1;
	}
	if (s->family == DAEMON_SOCK_UNIX) {
		if (chown_it && chown(s->path, uid, gid) < 0)
			log_warn("chown %s", s->path);
		if ((rt.unix_path = strdup(s->path)) == NULL)
			log_warnx("out of memory");
	}
	rt.lfd = fd;
	return 0;
}

/* detach - fork into the background; returns the fd to report readiness
 * on, or -1 in the parent (which should exit with the child's verdict) */
static int
detach(int *parent_status)
{
	int p[2];
	pid_t pid;
	char c;

	if (pipe(p) < 0)
		log_fatal("pipe");
	if ((pid = fork()) < 0)
		log_fatal("fork");
	if (pid > 0) {
		/* the signal handlers would write to the child's pipe */
		signal(SIGHUP, SIG_DFL);
		signal(SIGUSR1, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		close(p[1]);
		*parent_status = read(p[0], &c, 1) == 1 ? 0 : 1;
		return -1;
	}
	close(p[0]);
	if (setsid() < 0)
		log_warn("setsid");
	if (chdir("/") < 0)
		log_warn("chdir /");
	return p[1];
}

/* quiet_stdio - point stdin, stdout and stderr at /dev/null */
static void
quiet_stdio(void)
{
	int fd;

	if ((fd = open("/dev/null", O_RDWR)) < 0)
		return;
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
}

/* drop_privileges - become UserID (uid/gid already resolved) */
static int
drop_privileges(const char *spec, uid_t uid, gid_t gid)
{
	struct buf user = BUF_INIT;
	int r = -1;

	buf_append(&user, spec, strcspn(spec, ":"));
	if (user.failed)
		log_warnx("out of memory");
	else if (initgroups(user.s, gid) < 0)
		log_warn("initgroups %s", user.s);
	else if (setgid(gid) < 0)
		log_warn("setgid %ld", (long)gid);
	else if (setuid(uid) < 0)
		log_warn("setuid %ld", (long)uid);
	else if (uid != 0 && setuid(0) == 0)
		log_warnx("could regain root after dropping privileges");
	else
		r = 0;
	buf_free(&user);
	return r;
}

/* unix_in_use - whether a process accepts connections on a UNIX socket */
static int
unix_in_use(const char *path)
{
	struct sockaddr_un sun;
	int fd, r;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return 0;
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return 0;
	r = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
	close(fd);
	return r;
}

/* Reload, signals and the main loop. */

/* log_lines - log each line of b as a warning, after prefix if any */
static void
log_lines(const char *prefix, const struct buf *b)
{
	const char *p = buf_str(b), *nl;
	int n;

	while (*p != '\0') {
		nl = strchr(p, '\n');
		n = (int)(nl != NULL ? nl - p : (long)strlen(p));
		if (n > 0)
			log_warnx("%s%.*s", prefix ? prefix : "", n, p);
		if (nl == NULL)
			break;
		p = nl + 1;
	}
}

/* str_differs - two optional strings differ */
static int
str_differs(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a != b;
	return strcmp(a, b) != 0;
}

/* warn_restart - name the start-up values a reload cannot change */
static void
warn_restart(const struct daemon_conf *o, const struct daemon_conf *n)
{
	const char *kw[8];
	int k = 0, i;

	if (str_differs(o->socket, n->socket))
		kw[k++] = "Socket";
	if (str_differs(o->pidfile, n->pidfile))
		kw[k++] = "PidFile";
	if (str_differs(o->userid, n->userid))
		kw[k++] = "UserID";
	if (str_differs(o->umask, n->umask))
		kw[k++] = "UMask";
	if (str_differs(o->syslog_facility, n->syslog_facility))
		kw[k++] = "SyslogFacility";
	if (o->syslog != n->syslog)
		kw[k++] = "Syslog";
	if (o->background != n->background)
		kw[k++] = "Background";
	if (o->milter_debug != n->milter_debug)
		kw[k++] = "MilterDebug";
	for (i = 0; i < k; i++)
		log_warnx("%s changed; it takes effect at the next start",
		    kw[i]);
}

/* reload - load the configuration again and make it current */
static void
reload(void)
{
	struct buf err = BUF_INIT;
	struct cfgref *old;
	void *cfg;

	if ((cfg = daemon_load(rt.desc, rt.opts, &err)) == NULL) {
		log_lines("reload failed, keeping the running configuration: ",
		    &err);
		buf_free(&err);
		return;
	}
	log_lines(NULL, &err);
	buf_free(&err);
	warn_restart(dconf(rt.current->cfg), dconf(cfg));
	old = rt.current;
	if (cfg_install(cfg) != old) {
		log_warnx("reload failed, keeping the running configuration: "
		    "out of memory");
		rt.desc->free_config(cfg);
		return;
	}
	cfg_release(old);
	log_info("configuration reloaded");
}

/* on_signal - hand the signal number to the main thread */
static void
on_signal(int sig)
{
	int saved = errno;
	unsigned char c = (unsigned char)sig;
	ssize_t w;

	w = write(rt.sig_pipe[1], &c, 1);
	(void)w;
	errno = saved;
}

/* signals_init - the pipe and the handlers (see DESCRIPTION) */
static int
signals_init(void)
{
	static const int sigs[] = { SIGHUP, SIGUSR1, SIGTERM, SIGINT };
	struct sigaction sa;
	size_t i;

	if (pipe2(rt.sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		log_warn("pipe");
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	/* SA_NODEFER keeps the main thread a taker even inside the handler */
	sa.sa_flags = SA_RESTART | SA_NODEFER;
	sa.sa_handler = on_signal;
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, NULL) < 0) {
			log_warn("sigaction");
			return -1;
		}
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

/* milter_thread - run the engine; tell the main thread when it returns */
static void *
milter_thread(void *arg)
{
	unsigned char c = 0;
	ssize_t w;

	(void)arg;
	rt.milter_status = milter_run(rt.lfd, &rt.wrapped,
	    DAEMON_MAX_DATA_SIZE, (int)rt.milter_debug) == 0 ? 0 : 1;
	w = write(rt.sig_pipe[1], &c, 1);
	(void)w;
	return NULL;
}

/* next_event - the next signal number (0: the engine ended; -1: none
 * within ms milliseconds) */
static int
next_event(int ms)
{
	struct pollfd pfd = { .fd = rt.sig_pipe[0], .events = POLLIN };
	unsigned char c;

	for (;;) {
		if (read(rt.sig_pipe[0], &c, 1) == 1)
			return c;
		if (poll(&pfd, 1, ms) == 0)
			return -1;
	}
}

/* in_flight - how many messages are in flight */
static unsigned long
in_flight(void)
{
	unsigned long n;

	pthread_mutex_lock(&rt.lock);
	n = rt.nmsg;
	pthread_mutex_unlock(&rt.lock);
	return n;
}

/* begin_stop - refuse new connections and messages from now on */
static void
begin_stop(int sig, struct timespec *t0)
{
	log_info("stopping on signal %d", sig);
	pthread_mutex_lock(&rt.lock);
	rt.stopping = 1;
	pthread_mutex_unlock(&rt.lock);
	clock_gettime(CLOCK_MONOTONIC, t0);
}

/* may_stop_milter - whether the wait for messages in flight is over */
static int
may_stop_milter(const struct timespec *t0, int hurry)
{
	struct timespec t;
	unsigned long n = in_flight();

	clock_gettime(CLOCK_MONOTONIC, &t);
	if (n > 0 && !hurry && t.tv_sec - t0->tv_sec < DAEMON_DRAIN_SECONDS)
		return 0;
	if (n > 0)
		log_warnx("stopping with %lu messages in flight", n);
	return 1;
}

/*
 * serve - run the engine in its own thread and handle signals here.
 * Stopping: new connections and messages get a temporary failure while
 * the messages in flight finish; only then is the engine told to stop,
 * which closes every connection at once.
 */
static int
serve(void)
{
	sigset_t set, old;
	pthread_t t;
	struct timespec t0 = { 0, 0 };
	int ev, stopping = 0, hurry = 0, stopped = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	ev = pthread_create(&t, NULL, milter_thread, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ev != 0) {
		errno = ev;
		log_warn("cannot start the milter thread");
		return 1;
	}
	while ((ev = next_event(stopping ? DAEMON_WAKE_MS : -1)) != 0) {
		if ((ev == SIGHUP || ev == SIGUSR1) && !stopping)
			reload();
		else if ((ev == SIGTERM || ev == SIGINT) && stopping)
			hurry = 1;
		else if (ev == SIGTERM || ev == SIGINT) {
			begin_stop(ev, &t0);
			stopping = 1;
		}
		if (stopping && !stopped && may_stop_milter(&t0, hurry)) {
			stopped = 1;
			milter_stop();
		}
	}
	pthread_join(t, NULL);
	close(rt.lfd);
	rt.lfd = -1;
	if (rt.unix_path != NULL && unlink(rt.unix_path) < 0 &&
	    errno != ENOENT)
		log_warn("cannot remove the socket %s", rt.unix_path);
	free(rt.unix_path);
	rt.unix_path = NULL;
	return rt.milter_status;
}

/* Putting it together. */

#ifndef VERSION
#define VERSION "unknown"
#endif

/* start_listen - the steps up to an open socket; -1 with err set */
static int
start_listen(const struct daemon_conf *dc, uid_t uid, gid_t gid, int become,
    struct buf *err)
{
	struct daemon_sock s;
	mode_t mask;

	if (dc->umask != NULL && daemon_umask_parse(dc->umask, &mask) == 0)
		umask(mask);
	rt_register();
	rt.milter_debug = dc->milter_debug;
	if (dc->pidfile != NULL && pidfile_lock(dc->pidfile) < 0)
		return -1;
	if (daemon_sock_parse(dc->socket, &s, err) < 0)
		return -1;
	if (s.family == DAEMON_SOCK_UNIX && unix_in_use(s.path)) {
		buf_printf(err, "socket %s is in use by another process",
		    s.path);
		return -1;
	}
	return listen_socket(&s, uid, gid, become, err);
}

/* start - from a loaded config to serving; returns the exit status */
static int
start(void *cfg)
{
	const struct daemon_conf *dc = dconf(cfg);
	struct buf err = BUF_INIT;
	uid_t uid = geteuid();
	gid_t gid = getegid();
	int become = 0, ready = -1, status = 1, facility;

	facility = log_facility(dc->syslog_facility ? dc->syslog_facility :
	    "mail");
	log_open(rt.desc->name, dc->syslog, facility, 1);
	if (dc->userid != NULL) {
		if (daemon_user_parse(dc->userid, &uid, &gid, &err) < 0)
			goto fail;
		become = geteuid() == 0;
		if (!become && uid != geteuid()) {
			buf_printf(&err, "UserID %s: only root can change user",
			    dc->userid);
			goto fail;
		}
	}
	(void)cfg_install(cfg);		/* the first: there is no old one */
	if (rt.current == NULL) {
		buf_puts(&err, "out of memory");
		goto fail;
	}
	if (signals_init() < 0 || start_listen(dc, uid, gid, become, &err) < 0)
		goto fail;
	if (dc->background && !rt.opts->foreground) {
		fflush(NULL);
		if ((ready = detach(&status)) < 0)
			_exit(status);
	}
	if (pidfile_write() < 0 ||
	    (become && drop_privileges(dc->userid, uid, gid) < 0))
		goto fail;
	log_info("%s %s listening on %s", rt.desc->name, VERSION, dc->socket);
	/* from now on, with Syslog yes, only syslog: under a service manager
	 * that also reads stderr, each line would be logged twice */
	if (ready >= 0 || dc->syslog)
		log_open(rt.desc->name, dc->syslog, facility, !dc->syslog);
	if (ready >= 0) {
		quiet_stdio();
		if (write(ready, "", 1) != 1)
			log_warn("cannot report readiness");
		close(ready);
	}
	status = serve();
	log_info("%s stopped", rt.desc->name);
	pidfile_remove();
	cfg_release(rt.current);
	rt.current = NULL;
	return status;
fail:
	if (err.len > 0)
		log_warnx("%s", buf_str(&err));
	buf_free(&err);
	pidfile_remove();
	if (rt.current != NULL) {
		cfg_release(rt.current);
		rt.current = NULL;
	} else
		rt.desc->free_config(cfg);
	return 1;
}

/* daemon_main - see daemon.h */
int
daemon_main(const struct daemon_desc *d, int argc, char **argv)
{
	struct daemon_opts o;
	struct buf err = BUF_INIT;
	int rc;

	if (daemon_args(d, argc, argv, &o, &err) < 0) {
		fprintf(stderr, "%s: %s\n", d->name, buf_str(&err));
		daemon_usage(d);
		buf_free(&err);
		return 2;
	}
	rc = daemon_run(d, &o);
	daemon_opts_free(&o);
	return rc;
}

/* daemon_run - do what the options say; returns the exit status */
int
daemon_run(const struct daemon_desc *d, const struct daemon_opts *o)
{
	struct buf err = BUF_INIT;
	void *cfg;

	rt.desc = d;
	rt.opts = o;
	crypto_init();
	if (o->help) {
		daemon_usage(d);
		return 0;
	}
	if (o->version) {
		printf("%s %s\n", d->name, VERSION);
		return 0;
	}
	if (o->argc > 0 && d->command != NULL &&
	    strcmp(o->argv[0], d->command_name) == 0)
		return d->command(o);
	if (o->argc > 0) {
		fprintf(stderr, "%s: unexpected argument \"%s\"\n", d->name,
		    o->argv[0]);
		daemon_usage(d);
		return 2;
	}
	log_open(d->name, 0, LOG_MAIL, 1);
	if ((cfg = daemon_load(d, o, &err)) == NULL) {
		log_lines(NULL, &err);
		buf_free(&err);
		return 1;
	}
	log_lines(NULL, &err);
	buf_free(&err);
	if (o->check) {
		if (d->check_config != NULL) {
			d->check_config(cfg, &err);
			log_lines(NULL, &err);
		}
		buf_free(&err);
		d->free_config(cfg);
		return 0;
	}
	return start(cfg);
}

/* edit_header - delete (value NULL) or insert one header field */
static int
edit_header(SMFICTX *ctx, const char *name, const char *value,
    int index)
{
	char *v;
	int r;

	if (value == NULL)
		return smfi_chgheader(ctx, (char *)name, index, NULL) ==
		    MI_SUCCESS ? 0 : -1;
	/* the MTA keeps our leading space (SMFIP_HDR_LEADSPC) */
	if (asprintf(&v, " %s", value) < 0)
		return -1;
	r = smfi_insheader(ctx, index, (char *)name, v);
	free(v);
	return r == MI_SUCCESS ? 0 : -1;
}

/* daemon_apply_edits - apply n edits in order; -1 when one is refused */
int
daemon_apply_edits(SMFICTX *ctx, const char *qid,
    const struct hdr_edit *e, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (edit_header(ctx, e[i].name, e[i].op ==
		    HDR_EDIT_DELETE ? NULL : e[i].value, e[i].index) < 0) {
			log_msg(LOG_ERR, qid, "the MTA refused to %s %s",
			    e[i].op == HDR_EDIT_DELETE ? "delete" : "add",
			    e[i].name);
			return -1;
		}
	return 0;
}

