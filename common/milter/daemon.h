/*
 * daemon.h - the milter runtime shared by the four daemons
 *
 * A daemon describes itself in a struct daemon_desc (names, default
 * configuration, callbacks) and hands its argv to daemon_main().  The
 * runtime parses the command line (daemon_opts.c), loads the
 * configuration (the common values: daemon_conf.c), opens the milter
 * socket, daemonizes, drops privileges, serves the MTA (milter(3), our
 * engine for the libmilter API, through the wrappers of daemon_conn.c)
 * and reloads the configuration on SIGHUP or SIGUSR1 without dropping
 * connections (daemon.c).
 *
 * Configuration objects are the daemon's own (void *): load_config()
 * allocates one, free_config() releases it.  The runtime keeps the one in
 * force behind a reference count; each milter connection holds the config
 * that was current when it started until it closes, so a reload never
 * changes the rules in the middle of a connection.  Inside a milter
 * callback, daemon_conn_config(ctx) returns that object.
 *
 * The runtime owns the milter private-data slot: daemons must use
 * daemon_conn_setpriv()/daemon_conn_getpriv(), never smfi_setpriv() or
 * smfi_getpriv().  It always registers MAIL, end-of-message and abort
 * callbacks (calling the daemon's when it has them) to know which messages are in flight:
 * on SIGTERM new messages get a temporary failure and the engine is only
 * stopped once those in flight are done.
 *
 * Signals: SIGHUP and SIGUSR1 reload, SIGTERM and SIGINT stop; the main
 * thread takes them, nothing else in a daemon may wait for them.
 *
 * The keywords every daemon accepts (Socket, PidFile, UserID, UMask,
 * Syslog, SyslogFacility, Background, MilterDebug, MaximumConnections,
 * MilterCommandTimeout, MilterMessageTimeout, MetricsSocket, and the AutoRestart
 * family, accepted and ignored) come from DAEMON_CONF_KW(); their values
 * land in a struct daemon_conf embedded in the daemon's value struct, and
 * the descriptor gives its offset within the config object.
 */
#ifndef COMMON_DAEMON_H
#define COMMON_DAEMON_H

#include <stddef.h>
#include <sys/types.h>

#include <libmilter/mfapi.h>

#include "buf.h"
#include "conf.h"
#include "hdredit.h"
#include "verdict.h"

/* Limits and defaults. */
#define DAEMON_MAX_DATA_SIZE	(1024 * 1024)	/* largest milter packet */
#define DAEMON_DRAIN_SECONDS	30	/* wait for messages in flight at stop */
#define DAEMON_MALLOC_ARENAS	2	/* glibc malloc arenas (M_ARENA_MAX) */
#define DAEMON_WAKE_MS		20	/* listener wake-up interval at stop */

/* The values behind the common keywords (strings are the loader's). */
struct daemon_conf {
	char	*socket;		/* Socket: milter socket spec */
	char	*pidfile;		/* PidFile, or NULL */
	char	*userid;		/* UserID: "user" or "user:group" */
	char	*umask;			/* UMask: octal text, or NULL */
	int	 syslog;		/* Syslog: log to syslog */
	char	*syslog_facility;	/* SyslogFacility: "mail", ... */
	int	 background;		/* Background: detach (-f overrides) */
	long	 milter_debug;		/* MilterDebug: protocol tracing */
	long	 max_connections;	/* MaximumConnections */
	long	 command_timeout;	/* MilterCommandTimeout: seconds */
	long	 message_timeout;	/* MilterMessageTimeout: seconds */
	/* not a keyword: set by the daemon's load_config; VERDICT_ACCEPT
	 * makes daemon_verdict_error() accept, else it answers tempfail */
	enum verdict_action on_error;
	char	*metrics_socket;	/* MetricsSocket: HTTP, or NULL */
};

/*
 * DAEMON_CONF_KW - the common rows of a daemon's struct conf_kw table.
 * type is the daemon's value struct, member the struct daemon_conf in it,
 * sock the default Socket.  Use it inside the table's initializer:
 *	static const struct conf_kw table[] = {
 *		DAEMON_CONF_KW(struct values, daemon, "inet:8891@127.0.0.1"),
 *		{ "Domain", CONF_STR, NULL,
 *		    offsetof(struct values, domain), 0, 0, NULL },
 *	};
 */
#define DAEMON_CONF_OFF(type, member, field) \
	(offsetof(type, member) + offsetof(struct daemon_conf, field))
#define DAEMON_CONF_KW(type, member, sock)				\
	{ "AutoRestart", CONF_IGNORED, NULL, 0, 0, 0,			\
	    "use the service manager's restart policy" },		\
	{ "AutoRestartCount", CONF_IGNORED, NULL, 0, 0, 0,		\
	    "use the service manager's restart policy" },		\
	{ "AutoRestartRate", CONF_IGNORED, NULL, 0, 0, 0,		\
	    "use the service manager's restart policy" },		\
	{ "Background", CONF_BOOL, "yes",				\
	    DAEMON_CONF_OFF(type, member, background), 0, 0, NULL },	\
	{ "MaximumConnections", CONF_INT, "1024",			\
	    DAEMON_CONF_OFF(type, member, max_connections), 1, 4096,	\
	    NULL },							\
	{ "MetricsSocket", CONF_STR, NULL,				\
	    DAEMON_CONF_OFF(type, member, metrics_socket), 0, 0, NULL }, \
	{ "MilterCommandTimeout", CONF_INT, "30",			\
	    DAEMON_CONF_OFF(type, member, command_timeout), 1, 86400,	\
	    NULL },							\
	{ "MilterDebug", CONF_INT, "0",					\
	    DAEMON_CONF_OFF(type, member, milter_debug), 0, 6, NULL },	\
	{ "MilterMessageTimeout", CONF_INT, "300",			\
	    DAEMON_CONF_OFF(type, member, message_timeout), 1, 86400,	\
	    NULL },							\
	{ "PidFile", CONF_STR, NULL,					\
	    DAEMON_CONF_OFF(type, member, pidfile), 0, 0, NULL },	\
	{ "Socket", CONF_STR, sock,					\
	    DAEMON_CONF_OFF(type, member, socket), 0, 0, NULL },	\
	{ "Syslog", CONF_BOOL, "yes",					\
	    DAEMON_CONF_OFF(type, member, syslog), 0, 0, NULL },	\
	{ "SyslogFacility", CONF_STR, "mail",				\
	    DAEMON_CONF_OFF(type, member, syslog_facility), 0, 0, NULL }, \
	{ "UMask", CONF_STR, NULL,					\
	    DAEMON_CONF_OFF(type, member, umask), 0, 0, NULL },		\
	{ "UserID", CONF_STR, NULL,					\
	    DAEMON_CONF_OFF(type, member, userid), 0, 0, NULL }

/*
 * An option letter that sets a keyword, as OpenDKIM's -d, -s, -k do:
 * "-p inet:8891@localhost" is "Socket inet:8891@localhost".  Every daemon
 * has -p (Socket), -u (UserID) and -P (PidFile); a daemon adds its own.
 */
struct daemon_alias {
	int		 opt;
	const char	*keyword;
};

struct daemon_opts;

/* What a daemon tells the runtime about itself. */
struct daemon_desc {
	const char	*name;		/* program name, for logs and usage */
	const char	*conf_path;	/* default file, e.g. SYSCONFDIR "/x.conf" */
	const char	*conf_text;	/* embedded default when that is absent */
	const char	*usage_extra;	/* more usage lines, or NULL */
	const char	*error_text;	/* 451 4.3.0 text of
					   daemon_verdict_error() */
	size_t		 conf_off;	/* offset of struct daemon_conf in a config */
	/* more option letters, ending with { 0, NULL }; or NULL */
	const struct daemon_alias *aliases;
	/*
	 * load_config - read path, or text when path is NULL, then the
	 * command-line overrides (text in the same format, or NULL); return
	 * a new config, or NULL with err set ("file:line: why").  On success
	 * err may hold warning lines, which the runtime logs.  It should
	 * start with daemon_conf_open().
	 */
	void		*(*load_config)(const char *path, const char *text,
			    const char *overrides, struct buf *err);
	void		 (*free_config)(void *);
	/*
	 * check_config - extra checks for -n only (e.g. ones that need the
	 * network); warning lines appended to out; may be NULL
	 */
	void		 (*check_config)(void *, struct buf *out);
	/*
	 * carry_over - on a reload, before cfg replaces running: take over
	 * from running what cfg could not load although running has it
	 * (keys that can no longer be read once privileges are dropped);
	 * warning lines appended to warn, which the runtime logs; may be
	 * NULL
	 */
	void		 (*carry_over)(void *cfg, const void *running,
			    struct buf *warn);
	/*
	 * A word that may follow the options (e.g. "explain"), and what
	 * runs it instead of the daemon, returning the exit status; NULL
	 * when there is none (then any such word is a usage error)
	 */
	const char	*command_name;
	int		 (*command)(const struct daemon_opts *);
	/*
	 * The daemon's per-connection data (daemon_conn_setpriv), when it has
	 * some: msg_reset is called each time a message ends (end of
	 * message, after the callback; abort), priv_free when the
	 * connection closes (after the close callback), or its SMTP
	 * session ends (SMFIC_QUIT_NC, when the MTA reuses the
	 * connection: the next session starts at connect again, with
	 * fresh data).  Either may be NULL.
	 */
	void		 (*msg_reset)(void *priv);
	void		 (*priv_free)(void *priv);
	/* milter callbacks, flags and version; xxfi_name may be NULL */
	struct smfiDesc	 milter;
	/*
	 * Protocol flags to request when milter.xxfi_negotiate is NULL
	 * (e.g. SMFIP_HDR_LEADSPC); when nonzero the runtime negotiates:
	 * these flags as far as the MTA offers them, plus "don't send" for
	 * every step without a callback.  With SMFIP_HDR_LEADSPC the header
	 * callback always sees values from the byte after the colon, and
	 * daemon_apply_edits() values get a leading space, whether or not
	 * the MTA offers it: with an MTA that does not, each value is taken
	 * as preceded by one space, as Sendmail writes it.
	 */
	unsigned long	 pflags;
};

/* The command line. */
struct daemon_opts {
	const char	*config;	/* -c FILE or -x FILE, or NULL */
	int		 builtin;	/* -C: the embedded default, even
					   when the default file exists */
	struct buf	 overrides;	/* "Keyword value" lines from -O and
					   the option letters of the daemon's
					   aliases, applied after the file */
	int		 foreground;	/* -f */
	int		 check;		/* -n: check the configuration, exit */
	int		 version;	/* -V */
	int		 help;		/* -h */
	int		 argc;		/* words after the options */
	char		**argv;		/* (pointers into the caller's argv) */
};

/* Where the milter listens: the parsed form of a Socket value. */
enum daemon_sock_family {
	DAEMON_SOCK_UNIX,
	DAEMON_SOCK_INET,
	DAEMON_SOCK_INET6,
};

#define DAEMON_SOCK_PATH_MAX	108	/* sizeof(sun_path) on Linux */
#define DAEMON_SOCK_HOST_MAX	256

struct daemon_sock {
	enum daemon_sock_family family;
	char		path[DAEMON_SOCK_PATH_MAX];	/* unix */
	char		host[DAEMON_SOCK_HOST_MAX];	/* inet: "" = any */
	unsigned	port;				/* inet */
};

/* daemon.c: the daemon's life, from main() to the end */
/* daemon_main - daemon_opts_parse, then daemon_run: a whole main() */
int	 daemon_main(const struct daemon_desc *, int argc, char **argv);
/* daemon_run - do what the options say; returns the exit status */
int	 daemon_run(const struct daemon_desc *, const struct daemon_opts *);
/* daemon_load - load the config the options select; caller frees it */
void	*daemon_load(const struct daemon_desc *, const struct daemon_opts *,
	    struct buf *err);

/* daemon_opts.c: the command line */
/* daemon_opts_parse - parse argv; -1 with err set on a usage error; the
 * caller frees o->overrides (daemon_opts_free) */
int	 daemon_opts_parse(const struct daemon_desc *, int argc, char **argv,
	    struct daemon_opts *, struct buf *err);
/* daemon_opts_free - release what daemon_opts_parse allocated */
void	 daemon_opts_free(struct daemon_opts *);
/* daemon_opts_usage - print the usage text to stderr */
void	 daemon_opts_usage(const struct daemon_desc *);

/* daemon_conf.c: the common values, parsed and checked */
/* daemon_conf_socket - parse a Socket spec; -1 with err set if malformed */
int	 daemon_conf_socket(const char *spec, struct daemon_sock *,
	    struct buf *err);
/* daemon_conf_umask - octal UMask text to a mode; -1 if malformed */
int	 daemon_conf_umask(const char *, mode_t *);
/* daemon_conf_user - "user[:group]" to ids; -1 with err set if unknown */
int	 daemon_conf_user(const char *, uid_t *, gid_t *, struct buf *err);
/*
 * daemon_conf_check - validate the common values; -1 with err set.  c,
 * if not NULL, names the file and line of a bad value.
 */
int	 daemon_conf_check(const struct daemon_conf *, const struct conf *c,
	    struct buf *err);
/* daemon_conf_open - conf_init() and conf_load() of path (or text) and
 * the overrides into values, then daemon_conf_check() of dc (the common
 * part of values): what every load_config starts with; -1 with err set */
int	 daemon_conf_open(struct conf *c, const struct conf_kw *table,
	    size_t n, void *values, const struct daemon_conf *dc,
	    const char *path, const char *text, const char *overrides,
	    struct buf *err);

/* daemon_conn.c: inside milter callbacks */
/* daemon_conn_config - the config this connection started with */
void	*daemon_conn_config(SMFICTX *);
/* daemon_conn_getpriv - the daemon's per-connection data, or NULL */
void	*daemon_conn_getpriv(SMFICTX *);
/* daemon_conn_setpriv - set it; desc->priv_free releases it at close */
void	 daemon_conn_setpriv(SMFICTX *, void *);

/* daemon_addr - the client address of a connect callback as text into
 * buf (INET6_ADDRSTRLEN bytes at least), and its port into *port (may be
 * NULL; -1 when unknown); NULL when sa is no IPv4 or IPv6 address */
const char *daemon_addr(const _SOCK_ADDR *sa, char *buf, size_t len,
	    int *port);
/* daemon_cancelled - for a callback that takes long (e.g. DNS lookups),
 * polled while it works: 1 when the daemon is stopping, or the MTA has
 * aborted the message or closed the connection */
int	 daemon_cancelled(SMFICTX *);

/* daemon_verdict.c: answers */
/* daemon_verdict_send - hand v to the MTA; the status for the callback
 * to return */
sfsistat daemon_verdict_send(SMFICTX *, const struct verdict *v);
/* daemon_verdict_error - the answer when the daemon cannot go on:
 * accept or 451 4.3.0 error_text, as daemon_conf.on_error says */
sfsistat daemon_verdict_error(SMFICTX *);

/* daemon_edit.c: header edits */
/* daemon_edit_apply - at end of message, the n edits in order
 * (hdredit.h); -1, logged with the queue id, when the MTA refuses one */
int	 daemon_edit_apply(SMFICTX *, const char *qid,
	    const struct hdr_edit *, size_t n);

#endif
