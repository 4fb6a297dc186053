/*
 * NAME
 *	daemon_conf - the common configuration values, parsed and checked
 * SYNOPSIS
 *	#include "daemon.h"
 *
 *	int	daemon_conf_socket(const char *spec, struct daemon_sock *s,
 *		    struct buf *err);
 *	int	daemon_conf_umask(const char *text, mode_t *m);
 *	int	daemon_conf_user(const char *spec, uid_t *uid, gid_t *gid,
 *		    struct buf *err);
 *	int	daemon_conf_check(const struct daemon_conf *dc,
 *		    const struct conf *c, struct buf *err);
 *	int	daemon_conf_open(struct conf *c, const struct conf_kw *table,
 *		    size_t n, void *values, const struct daemon_conf *dc,
 *		    const char *path, const char *text,
 *		    const char *overrides, struct buf *err);
 * DESCRIPTION
 *	Pure functions over the values of the keywords every daemon has
 *	(DAEMON_CONF_KW): nothing here opens a socket or changes the
 *	process.
 *
 *	daemon_conf_socket() parses a Socket value: unix:PATH, local:PATH
 *	or an absolute PATH (shorter than DAEMON_SOCK_PATH_MAX);
 *	inet:PORT[@HOST] and inet6:PORT[@HOST], HOST a name, an address of
 *	the matching family, or one in brackets.
 *
 *	daemon_conf_umask() reads octal UMask text (at most 0777).
 *	daemon_conf_user() resolves "user[:group]" (the user's own group
 *	when none is given) through the thread-safe password database
 *	calls.
 *
 *	daemon_conf_check() validates Socket, UMask, UserID,
 *	SyslogFacility and PidFile (absolute); c, when not NULL, gives the
 *	file and line of a bad value.  daemon_conf_open() is what every
 *	daemon's load_config begins with: conf_init() and conf_load() of
 *	path (or text) and the overrides into values, then
 *	daemon_conf_check() of dc, the common part of values.
 * DIAGNOSTICS
 *	Each returns 0, or -1 with err (when it takes one) set to one line
 *	naming the value and what is wrong with it.
 * SEE ALSO
 *	conf(3), daemon(3).
 */
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "daemon.h"
#include "log.h"

#define DAEMON_PWBUF_MAX	(1024 * 1024)	/* getpwnam_r scratch bound */

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

/* daemon_conf_socket - parse a Socket spec; -1 with err set if malformed */
int
daemon_conf_socket(const char *spec, struct daemon_sock *s, struct buf *err)
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

/* daemon_conf_umask - octal UMask text to a mode; -1 if malformed */
int
daemon_conf_umask(const char *s, mode_t *m)
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

/* daemon_conf_user - "user[:group]" to ids; -1 with err set if unknown */
int
daemon_conf_user(const char *spec, uid_t *uid, gid_t *gid, struct buf *err)
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
	} else if (daemon_conf_socket(dc->socket, &s, &why) < 0)
		kw = "Socket";
	else if (dc->umask != NULL && daemon_conf_umask(dc->umask, &m) < 0) {
		kw = "UMask";
		buf_printf(&why, "\"%s\" is not an octal mode", dc->umask);
	} else if (dc->userid != NULL &&
	    daemon_conf_user(dc->userid, &uid, &gid, &why) < 0)
		kw = "UserID";
	else if (dc->syslog_facility != NULL &&
	    log_facility(dc->syslog_facility) < 0) {
		kw = "SyslogFacility";
		buf_printf(&why, "unknown facility \"%s\"", dc->syslog_facility);
	} else if (dc->metrics_socket != NULL && (daemon_conf_socket(
	    dc->metrics_socket, &s, &why) < 0 || (s.family == DAEMON_SOCK_UNIX &&
	    buf_puts(&why, "give an inet: or inet6: address") == 0))) {
		kw = "MetricsSocket";
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
