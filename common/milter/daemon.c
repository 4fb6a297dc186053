/*
 * NAME
 *	daemon - the milter runtime shared by the four daemons
 * SYNOPSIS
 *	#include "daemon.h"
 *
 *	int main(int argc, char **argv) {
 *		return daemon_main(&desc, argc, argv);
 *	}
 *
 *	int	daemon_run(const struct daemon_desc *d,
 *		    const struct daemon_opts *o);
 *	void	*daemon_load(const struct daemon_desc *d,
 *		    const struct daemon_opts *o, struct buf *err);
 * DESCRIPTION
 *	daemon_main() is a daemon's whole main(): daemon_opts_parse() of the
 *	command line (daemon_opts.c), then daemon_run().
 *
 *	daemon_run() loads the configuration (-c FILE; else the daemon's
 *	default file if it exists; else its embedded default text), then in
 *	this order: locks the PidFile (refusing to start when another
 *	process holds it), sets the UMask, opens the milter socket (removing
 *	a stale UNIX socket, but refusing to start when anything else is at
 *	its path; turning Nagle off on a TCP listener), detaches unless
 *	told to stay in the foreground, writes the PidFile, drops
 *	privileges to UserID and serves the MTA through milter(3).  The
 *	UNIX socket is given to UserID without following a symbolic link,
 *	and removed at the end only if it is still the socket we made.
 *
 *	The milter engine runs in its own threads, with SIGHUP, SIGUSR1,
 *	SIGTERM and SIGINT blocked, so the kernel delivers them to the main
 *	thread, whose handler writes the signal number to a pipe that the
 *	main thread reads.
 *	SIGHUP, SIGUSR1	reload the configuration; a failed reload logs why
 *			and keeps the old one.  Connections keep the config
 *			they started with until they close.  The daemon's
 *			carry_over may take from the running config what the
 *			new one could not read (keys read as root at start).
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
 *	daemon_opts(3) the command line, daemon_conf(3) the common values,
 *	daemon_conn(3) the callback wrappers, conf(3) the file format,
 *	log(3).
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <grp.h>
#include <malloc.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
#include "daemon_conn.h"
#include "daemon_metrics.h"
#include "log.h"
#include "milter.h"

/* Process-wide state: one runtime per process. */
static struct {
	const struct daemon_desc *desc;
	const struct daemon_opts *opts;
	int		 lfd;		/* the listening socket */
	char		*unix_path;	/* its path, to remove at the end */
	dev_t		 unix_dev;	/* and the socket file we made */
	ino_t		 unix_ino;
	struct smfiDesc	 wrapped;	/* the callbacks milter_run calls */
	int		 sig_pipe[2];	/* signal handler -> main thread */
	int		 pid_fd;	/* the locked PidFile, or -1 */
	char		*pid_path;
	int		 milter_status;	/* milter_run() result */
	long		 milter_debug;	/* MilterDebug at start */
} rt = {
	.lfd = -1,
	.sig_pipe = { -1, -1 },
	.pid_fd = -1,
};

/* The configuration. */

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
 * unix_clear - make way for a UNIX socket at path: remove a stale socket
 * (start_listen has checked that no process serves it), but nothing
 * else, as libmilter; -1 with err set when something else is there
 */
static int
unix_clear(const char *path, struct buf *err)
{
	struct stat st;
	char ebuf[128];

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		buf_printf(err, "socket %s: %s", path,
		    strerror_r(errno, ebuf, sizeof(ebuf)));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		buf_printf(err, "socket %s: the path exists and is not a "
		    "socket (%s); not removing it", path, S_ISLNK(st.st_mode) ?
		    "a symbolic link" : S_ISDIR(st.st_mode) ? "a directory" :
		    S_ISREG(st.st_mode) ? "a regular file" : "a special file");
		return -1;
	}
	if (unlink(path) < 0 && errno != ENOENT) {
		buf_printf(err, "cannot remove the old socket %s: %s", path,
		    strerror_r(errno, ebuf, sizeof(ebuf)));
		return -1;
	}
	return 0;
}

/*
 * unix_own - remember the socket file bind() made, and give it to
 * UserID when chown_it; never through a symbolic link
 */
static void
unix_own(const char *path, uid_t uid, gid_t gid, int chown_it)
{
	struct stat st;

	if (lstat(path, &st) < 0 || !S_ISSOCK(st.st_mode)) {
		log_warnx("socket %s: not a socket right after bind; it will "
		    "not be changed or removed", path);
		return;
	}
	if ((rt.unix_path = strdup(path)) == NULL) {
		log_warnx("out of memory");
		return;
	}
	rt.unix_dev = st.st_dev;
	rt.unix_ino = st.st_ino;
	if (chown_it && fchownat(AT_FDCWD, path, uid, gid,
	    AT_SYMLINK_NOFOLLOW) < 0)
		log_warn("chown %s", path);
}

/* unix_remove - at the end, remove our socket file if it still is ours */
static void
unix_remove(void)
{
	struct stat st;

	if (rt.unix_path == NULL)
		return;
	if (lstat(rt.unix_path, &st) < 0) {
		if (errno != ENOENT)
			log_warn("socket %s", rt.unix_path);
	} else if (!S_ISSOCK(st.st_mode) || st.st_dev != rt.unix_dev ||
	    st.st_ino != rt.unix_ino)
		log_warnx("socket %s was replaced while we ran; leaving it",
		    rt.unix_path);
	else if (unlink(rt.unix_path) < 0 && errno != ENOENT)
		log_warn("cannot remove the socket %s", rt.unix_path);
	free(rt.unix_path);
	rt.unix_path = NULL;
}

/*
 * listen_socket - open the listening socket: a UNIX socket replaces a
 * stale socket file, nothing else (unix_clear); a TCP one gets
 * SO_REUSEADDR (milter_run adds TCP_NODELAY)
 */
static int
listen_socket(const struct daemon_sock *s, uid_t uid, gid_t gid,
    int chown_it, struct buf *err)
{
	struct sockaddr_storage ss;
	struct sockaddr_un *un = (struct sockaddr_un *)&ss;
	socklen_t len;
	char ebuf[128];
	int fd, on = 1;

	memset(&ss, 0, sizeof(ss));
	if (s->family == DAEMON_SOCK_UNIX) {
		un->sun_family = AF_UNIX;
		memcpy(un->sun_path, s->path, strlen(s->path) + 1);
		len = sizeof(*un);
		if (unix_clear(s->path, err) < 0)
			return -1;
	} else if (sock_addr(s, &ss, &len, err) < 0)
		return -1;
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		buf_printf(err, "socket: %s",
		    strerror_r(errno, ebuf, sizeof(ebuf)));
		return -1;
	}
	if (s->family != DAEMON_SOCK_UNIX && setsockopt(fd, SOL_SOCKET,
	    SO_REUSEADDR, &on, sizeof(on)) < 0)
		log_warn("SO_REUSEADDR on the listening socket");
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 ||
	    listen(fd, SOMAXCONN) < 0) {
		buf_printf(err, "cannot listen on %s: %s", s->family ==
		    DAEMON_SOCK_UNIX ? s->path : "that address",
		    strerror_r(errno, ebuf, sizeof(ebuf)));
		close(fd);
		return -1;
	}
	if (s->family == DAEMON_SOCK_UNIX)
		unix_own(s->path, uid, gid, chown_it);
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
	const char *kw[9];
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
	if (str_differs(o->metrics_socket, n->metrics_socket))
		kw[k++] = "MetricsSocket";
	for (i = 0; i < k; i++)
		log_warnx("%s changed; it takes effect at the next start",
		    kw[i]);
}

/* set_limits - the engine's limits from the common values; they apply
 * to connections that start from now on */
static void
set_limits(const struct daemon_conf *dc)
{
	struct milter_limits l = MILTER_LIMITS_DEFAULT;

	l.command_s = (unsigned)dc->command_timeout;
	l.message_s = (unsigned)dc->message_timeout;
	l.max_conns = (unsigned)dc->max_connections;
	milter_set_limits(&l);
}

/* reload - load the configuration again and make it current */
static void
reload(void)
{
	struct buf err = BUF_INIT;
	void *cfg;

	if ((cfg = daemon_load(rt.desc, rt.opts, &err)) == NULL) {
		log_lines("reload failed, keeping the running configuration: ",
		    &err);
		buf_free(&err);
		daemon_metrics_reload(0);
		return;
	}
	if (rt.desc->carry_over != NULL)
		rt.desc->carry_over(cfg, daemon_conn_current(), &err);
	log_lines(NULL, &err);
	buf_free(&err);
	warn_restart(dconf(daemon_conn_current()), dconf(cfg));
	if (daemon_conn_install(cfg) < 0) {
		log_warnx("reload failed, keeping the running configuration: "
		    "out of memory");
		rt.desc->free_config(cfg);
		daemon_metrics_reload(0);
		return;
	}
	set_limits(dconf(cfg));
	daemon_metrics_reload(1);
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

/* begin_stop - refuse new connections and messages from now on */
static void
begin_stop(int sig, struct timespec *t0)
{
	log_info("stopping on signal %d", sig);
	daemon_conn_stop();
	clock_gettime(CLOCK_MONOTONIC, t0);
}

/* may_stop_milter - whether the wait for messages in flight is over */
static int
may_stop_milter(const struct timespec *t0, int hurry)
{
	struct timespec t;
	unsigned long n = daemon_conn_in_flight();

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
		} else if (stopping && !stopped)
			milter_close_idle();	/* and those idle since */
	}
	pthread_join(t, NULL);
	close(rt.lfd);
	rt.lfd = -1;
	unix_remove();
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

	if (dc->umask != NULL && daemon_conf_umask(dc->umask, &mask) == 0)
		umask(mask);
	daemon_conn_init(rt.desc, &rt.wrapped);
	rt.milter_debug = dc->milter_debug;
	set_limits(dc);
	if (dc->pidfile != NULL && pidfile_lock(dc->pidfile) < 0)
		return -1;
	if (daemon_conf_socket(dc->socket, &s, err) < 0)
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

	/* a thread per connection would otherwise get up to 8 malloc
	 * arenas per CPU, whose free memory is rarely given back: the
	 * resident size would creep up for hours (MALLOC_ARENA_MAX in the
	 * environment still decides when set) */
	if (getenv("MALLOC_ARENA_MAX") == NULL)
		(void)mallopt(M_ARENA_MAX, DAEMON_MALLOC_ARENAS);
	facility = log_facility(dc->syslog_facility ? dc->syslog_facility :
	    "mail");
	log_open(rt.desc->name, dc->syslog, facility, 1);
	log_set_debug(dc->milter_debug > 0);
	if (dc->userid != NULL) {
		if (daemon_conf_user(dc->userid, &uid, &gid, &err) < 0)
			goto fail;
		become = geteuid() == 0;
		if (!become && uid != geteuid()) {
			buf_printf(&err, "UserID %s: only root can change user",
			    dc->userid);
			goto fail;
		}
	}
	if (daemon_conn_install(cfg) < 0) {
		buf_puts(&err, "out of memory");
		goto fail;
	}
	daemon_metrics_init(rt.desc->name, VERSION);
	if (signals_init() < 0 || start_listen(dc, uid, gid, become, &err) < 0 ||
	    (dc->metrics_socket != NULL &&
	    daemon_metrics_listen(dc->metrics_socket, &err) < 0))
		goto fail;
	if (dc->background && !rt.opts->foreground) {
		fflush(NULL);
		if ((ready = detach(&status)) < 0)
			_exit(status);
	}
	if (pidfile_write() < 0 ||
	    (become && drop_privileges(dc->userid, uid, gid) < 0))
		goto fail;
	daemon_metrics_start();
	log_info("%s %s listening on %s", rt.desc->name, VERSION, dc->socket);
	if (dc->metrics_socket != NULL)
		log_info("metrics on %s", dc->metrics_socket);
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
	daemon_metrics_stop();
	log_info("%s stopped", rt.desc->name);
	pidfile_remove();
	daemon_conn_release();
	return status;
fail:
	daemon_metrics_stop();
	if (err.len > 0)
		log_warnx("%s", buf_str(&err));
	buf_free(&err);
	pidfile_remove();
	if (daemon_conn_current() != NULL)
		daemon_conn_release();
	else
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

	if (daemon_opts_parse(d, argc, argv, &o, &err) < 0) {
		fprintf(stderr, "%s: %s\n", d->name, buf_str(&err));
		daemon_opts_usage(d);
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
		daemon_opts_usage(d);
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
		daemon_opts_usage(d);
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

