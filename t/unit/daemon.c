/*
 * daemon - socket specs, command line, UMask and UserID parsing, and the
 * check of the common configuration values
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "daemon.h"
#include "tap.h"

/* Socket specs: input, expected libmilter form or NULL, error fragment. */
static const struct {
	const char	*spec;
	const char	*conn;		/* NULL: must be rejected */
	const char	*why;		/* fragment of the error */
} socks[] = {
	{ "inet:8891@127.0.0.1", "inet:8891@[127.0.0.1]", NULL },
	{ "inet:8891@[127.0.0.1]", "inet:8891@[127.0.0.1]", NULL },
	{ "inet:8891", "inet:8891", NULL },
	{ "INET:25@localhost", "inet:25@localhost", NULL },
	{ "inet:65535@mx-1.example.net", "inet:65535@mx-1.example.net", NULL },
	{ "inet6:8891@::1", "inet6:8891@[::1]", NULL },
	{ "inet6:8891@[2001:db8::1]", "inet6:8891@[2001:db8::1]", NULL },
	{ "inet6:8891", "inet6:8891", NULL },
	{ "unix:/run/milter/dkim.sock", "unix:/run/milter/dkim.sock", NULL },
	{ "local:/run/milter/dkim.sock", "unix:/run/milter/dkim.sock", NULL },
	{ "/run/milter/dkim.sock", "unix:/run/milter/dkim.sock", NULL },
	{ "", NULL, "empty" },
	{ "inet:", NULL, "port" },
	{ "inet:0@127.0.0.1", NULL, "port" },
	{ "inet:65536@127.0.0.1", NULL, "port" },
	{ "inet:99999999999999999999", NULL, "port" },
	{ "inet:smtp@127.0.0.1", NULL, "port" },
	{ "inet:8891@", NULL, "missing host" },
	{ "inet:8891:127.0.0.1", NULL, "port" },
	{ "inet:8891@[127.0.0.1", NULL, "brackets" },
	{ "inet:8891@::1", NULL, "inet6" },
	{ "inet6:8891@127.0.0.1", NULL, "inet:" },
	{ "inet:8891@bad_host!", NULL, "bad host" },
	{ "tcp:8891@127.0.0.1", NULL, "unknown type" },
	{ "unix:", NULL, "absolute" },
	{ "unix:relative/path", NULL, "absolute" },
	{ "unix:/a/very/long/path/that/goes/on/and/on/and/on/past/the/limit/"
	  "of/the/sun_path/field/of/a/unix/socket/address/x", NULL, "longer" },
};

/* sock_format - a parsed spec written back, hosts that are addresses
 * in brackets: what the parser understood */
static int
sock_format(const struct daemon_sock *s, struct buf *out)
{
	unsigned char a[sizeof(struct in6_addr)];
	int literal;

	if (s->family == DAEMON_SOCK_UNIX)
		return buf_printf(out, "unix:%s", s->path);
	buf_printf(out, "%s:%u", s->family == DAEMON_SOCK_INET ? "inet" :
	    "inet6", s->port);
	if (s->host[0] == '\0')
		return out->failed ? -1 : 0;
	/* "[literal]" is an address, anything else a name */
	literal = inet_pton(s->family == DAEMON_SOCK_INET ? AF_INET : AF_INET6,
	    s->host, a) == 1;
	return buf_printf(out, literal ? "@[%s]" : "@%s", s->host);
}

static void
test_sockets(void)
{
	struct daemon_sock s;
	struct buf err = BUF_INIT, conn = BUF_INIT;
	size_t i;
	int r;

	for (i = 0; i < sizeof(socks) / sizeof(socks[0]); i++) {
		buf_reset(&err);
		buf_reset(&conn);
		r = daemon_conf_socket(socks[i].spec, &s, &err);
		if (socks[i].conn != NULL) {
			ok(r == 0 && sock_format(&s, &conn) == 0 &&
			    strcmp(buf_str(&conn), socks[i].conn) == 0,
			    "socket \"%s\" is read as %s", socks[i].spec,
			    socks[i].conn);
			if (r != 0)
				diag("error: %s", buf_str(&err));
			else if (strcmp(buf_str(&conn), socks[i].conn) != 0)
				diag("got %s", buf_str(&conn));
		} else {
			ok(r < 0 && strstr(buf_str(&err), socks[i].why) != NULL,
			    "socket \"%s\" is refused: %s", socks[i].spec,
			    socks[i].why);
			if (r == 0 || strstr(buf_str(&err), socks[i].why) == NULL)
				diag("error: %s", buf_str(&err));
		}
	}
	buf_free(&err);
	buf_free(&conn);
}

/* Command lines: argv (NULL-terminated), then what must come out. */
static const struct {
	const char	*argv[8];
	int		 ok;
	const char	*config;
	int		 f, n, V, h;
	int		 rest;		/* words left over */
	const char	*first;		/* first of them */
} cmdlines[] = {
	{ { "d", NULL }, 1, NULL, 0, 0, 0, 0, 0, NULL },
	{ { "d", "-c", "/etc/x.conf", NULL }, 1, "/etc/x.conf", 0, 0, 0, 0, 0,
	    NULL },
	{ { "d", "-x", "/etc/x.conf", NULL }, 1, "/etc/x.conf", 0, 0, 0, 0, 0,
	    NULL },
	{ { "d", "-c/etc/y.conf", "-f", NULL }, 1, "/etc/y.conf", 1, 0, 0, 0,
	    0, NULL },
	{ { "d", "-fnc", "z.conf", NULL }, 1, "z.conf", 1, 1, 0, 0, 0, NULL },
	{ { "d", "-V", NULL }, 1, NULL, 0, 0, 1, 0, 0, NULL },
	{ { "d", "-h", NULL }, 1, NULL, 0, 0, 0, 1, 0, NULL },
	{ { "d", "-c", "a.conf", "explain", "a@b", "192.0.2.1", NULL }, 1,
	    "a.conf", 0, 0, 0, 0, 3, "explain" },
	{ { "d", "--", "-f", NULL }, 1, NULL, 0, 0, 0, 0, 1, "-f" },
	{ { "d", "-", NULL }, 1, NULL, 0, 0, 0, 0, 1, "-" },
	{ { "d", "-c", NULL }, 0, NULL, 0, 0, 0, 0, 0, NULL },
	{ { "d", "-q", NULL }, 0, NULL, 0, 0, 0, 0, 0, NULL },
	{ { "d", "-fz", NULL }, 0, NULL, 0, 0, 0, 0, 0, NULL },
};

static void
test_args(void)
{
	struct daemon_opts o;
	struct buf err = BUF_INIT;
	size_t i;
	int argc, r;

	for (i = 0; i < sizeof(cmdlines) / sizeof(cmdlines[0]); i++) {
		char **argv = (char **)cmdlines[i].argv;
		struct buf name = BUF_INIT;

		for (argc = 0; argv[argc] != NULL; argc++)
			buf_printf(&name, "%s%s", argc ? " " : "", argv[argc]);
		buf_reset(&err);
		r = daemon_opts_parse(NULL, argc, argv, &o, &err);
		if (!cmdlines[i].ok) {
			ok(r < 0 && err.len > 0, "command line \"%s\" is a "
			    "usage error (%s)", name.s, buf_str(&err));
		} else {
			ok(r == 0 && ((o.config == NULL &&
			    cmdlines[i].config == NULL) || (o.config != NULL &&
			    cmdlines[i].config != NULL &&
			    strcmp(o.config, cmdlines[i].config) == 0)) &&
			    o.foreground == cmdlines[i].f &&
			    o.check == cmdlines[i].n &&
			    o.version == cmdlines[i].V &&
			    o.help == cmdlines[i].h &&
			    o.argc == cmdlines[i].rest &&
			    (o.argc == 0 || strcmp(o.argv[0],
			    cmdlines[i].first) == 0),
			    "command line \"%s\" is read right", name.s);
		}
		buf_free(&name);
	}
	buf_free(&err);
}

/* -O, the common option letters and a daemon's own set keywords */
static void
test_overrides(void)
{
	static const struct daemon_alias al[] = {
		{ 'd', "Domain" }, { 's', "Selector" }, { 0, NULL },
	};
	struct daemon_desc d;
	struct daemon_opts o;
	struct buf err = BUF_INIT;
	char *argv1[] = { "d", "-p", "inet:1@127.0.0.1", "-Oa=b c", "-d",
	    "example.com", "-fsSEL", "-P/run/x.pid", "-u", "nobody", "-C",
	    NULL };
	char *argv2[] = { "d", "-O", "novalue", NULL };
	char *argv3[] = { "d", "-O", "Socket=x\nUserID=root", NULL };
	char *argv4[] = { "d", "-d", "example.com", NULL };

	memset(&d, 0, sizeof(d));
	d.aliases = al;
	is_int(daemon_opts_parse(&d, 11, argv1, &o, &err), 0,
	    "-O, -p, -P, -u and a daemon's own letters parse");
	is_str(buf_str(&o.overrides), "Socket inet:1@127.0.0.1\na b c\n"
	    "Domain example.com\nSelector SEL\nPidFile /run/x.pid\n"
	    "UserID nobody\n", "... into keyword lines, in order");
	ok(o.foreground && o.builtin, "... with -f and -C kept");
	daemon_opts_free(&o);
	buf_reset(&err);
	is_int(daemon_opts_parse(&d, 3, argv2, &o, &err), -1,
	    "-O without '=' is a usage error");
	daemon_opts_free(&o);
	buf_reset(&err);
	is_int(daemon_opts_parse(&d, 3, argv3, &o, &err), -1,
	    "-O cannot smuggle a second line");
	daemon_opts_free(&o);
	buf_reset(&err);
	is_int(daemon_opts_parse(NULL, 3, argv4, &o, &err), -1,
	    "a letter the daemon does not define is unknown");
	daemon_opts_free(&o);
	buf_free(&err);
}

static void
test_umask(void)
{
	static const struct { const char *s; int ok; mode_t m; } t[] = {
		{ "007", 1, 07 }, { "0022", 1, 022 }, { "777", 1, 0777 },
		{ "0", 1, 0 }, { "", 0, 0 }, { "8", 0, 0 }, { "1000", 0, 0 },
		{ "22x", 0, 0 }, { "-1", 0, 0 },
	};
	size_t i;
	mode_t m;
	int r;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		m = 01234;
		r = daemon_conf_umask(t[i].s, &m);
		ok(t[i].ok ? r == 0 && m == t[i].m : r < 0,
		    "UMask \"%s\" is %s", t[i].s, t[i].ok ? "read as octal" :
		    "refused");
	}
}

static void
test_user(void)
{
	struct buf err = BUF_INIT;
	uid_t uid = 99;
	gid_t gid = 99;

	ok(daemon_conf_user("root", &uid, &gid, &err) == 0 && uid == 0 &&
	    gid == 0, "UserID root resolves to 0:0");
	ok(daemon_conf_user("root:root", &uid, &gid, &err) == 0 && gid == 0,
	    "UserID root:root resolves the group too");
	buf_reset(&err);
	ok(daemon_conf_user("no-such-user-here", &uid, &gid, &err) < 0 &&
	    strstr(buf_str(&err), "unknown user") != NULL,
	    "an unknown user is named");
	buf_reset(&err);
	ok(daemon_conf_user("root:no-such-group-here", &uid, &gid, &err) < 0 &&
	    strstr(buf_str(&err), "unknown group") != NULL,
	    "an unknown group is named");
	buf_reset(&err);
	ok(daemon_conf_user(":root", &uid, &gid, &err) < 0 &&
	    strstr(buf_str(&err), "missing user") != NULL,
	    "a missing user name is refused");
	buf_reset(&err);
	ok(daemon_conf_user("root:", &uid, &gid, &err) < 0 &&
	    strstr(buf_str(&err), "missing group") != NULL,
	    "a missing group name is refused");
	buf_free(&err);
}

static void
test_conf_check(void)
{
	struct daemon_conf dc;
	struct buf err = BUF_INIT;

	memset(&dc, 0, sizeof(dc));
	dc.socket = "inet:8891@127.0.0.1";
	dc.syslog_facility = "mail";
	ok(daemon_conf_check(&dc, NULL, &err) == 0, "good values pass");
	dc.socket = NULL;
	ok(daemon_conf_check(&dc, NULL, &err) < 0 &&
	    strstr(buf_str(&err), "Socket: no socket") != NULL,
	    "a missing Socket is reported");
	dc.socket = "unix:/run/x.sock";
	buf_reset(&err);
	dc.umask = "9";
	ok(daemon_conf_check(&dc, NULL, &err) < 0 &&
	    strstr(buf_str(&err), "UMask") != NULL, "a bad UMask is reported");
	dc.umask = NULL;
	buf_reset(&err);
	dc.syslog_facility = "nosuch";
	ok(daemon_conf_check(&dc, NULL, &err) < 0 &&
	    strstr(buf_str(&err), "SyslogFacility") != NULL,
	    "an unknown SyslogFacility is reported");
	dc.syslog_facility = "local3";
	buf_reset(&err);
	dc.pidfile = "relative.pid";
	ok(daemon_conf_check(&dc, NULL, &err) < 0 &&
	    strstr(buf_str(&err), "PidFile") != NULL,
	    "a relative PidFile is reported");
	buf_free(&err);
}

/* The common keyword rows, as a daemon embeds them. */
struct values {
	int			 before;
	struct daemon_conf	 d;
};

static const struct conf_kw rows[] = {
	DAEMON_CONF_KW(struct values, d, "inet:1@127.0.0.1"),
};

static void
test_rows(void)
{
	size_t i, n = sizeof(rows) / sizeof(rows[0]);
	int socket = 0, sorted = 1;

	for (i = 0; i < n; i++) {
		if (strcmp(rows[i].name, "Socket") == 0)
			socket = rows[i].type == CONF_STR &&
			    rows[i].off == offsetof(struct values, d.socket) &&
			    strcmp(rows[i].def, "inet:1@127.0.0.1") == 0;
		if (i > 0 && strcasecmp(rows[i - 1].name, rows[i].name) >= 0)
			sorted = 0;
	}
	ok(socket, "DAEMON_CONF_KW puts Socket at its offset with the "
	    "daemon's default");
	ok(sorted, "DAEMON_CONF_KW rows are in keyword order");
}

int
main(void)
{
	test_sockets();
	test_args();
	test_overrides();
	test_umask();
	test_user();
	test_conf_check();
	test_rows();
	return done_testing();
}
