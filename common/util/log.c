/*
 * NAME
 *	log - logging to syslog and/or stderr
 * SYNOPSIS
 *	#include "log.h"
 * DESCRIPTION
 *	log_open() chooses the destinations.  Before it is called, messages
 *	go to stderr.  Each line is formatted into a stack buffer and written
 *	with one call, so concurrent threads do not interleave within a line.
 *	Lines longer than LOG_LINE_MAX are cut.
 * DIAGNOSTICS
 *	log_fatal() exits with status 1; log_panic() aborts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"

#define LOG_LINE_MAX	2048
#define LOG_QID_MAX	128	/* queue id bytes kept in a line's prefix */

static const char *log_ident = "milter";
static int log_syslog;
static int log_stderr = 1;
static int log_debug_on;

/* log_open - choose destinations; ident must stay valid */
void
log_open(const char *ident, int use_syslog, int facility, int use_stderr)
{
	log_ident = ident;
	log_stderr = use_stderr;
	if (log_syslog)
		closelog();
	log_syslog = use_syslog;
	if (use_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, facility);
}

/* log_set_debug - turn debug lines on or off (the runtime: MilterDebug) */
void
log_set_debug(int on)
{
	log_debug_on = on;
}

/* log_facility - map a facility name to its value */
int
log_facility(const char *name)
{
	static const struct { const char *name; int val; } tab[] = {
		{ "mail", LOG_MAIL }, { "daemon", LOG_DAEMON },
		{ "user", LOG_USER }, { "local0", LOG_LOCAL0 },
		{ "local1", LOG_LOCAL1 }, { "local2", LOG_LOCAL2 },
		{ "local3", LOG_LOCAL3 }, { "local4", LOG_LOCAL4 },
		{ "local5", LOG_LOCAL5 }, { "local6", LOG_LOCAL6 },
		{ "local7", LOG_LOCAL7 },
	};
	size_t i;

	if (strncasecmp(name, "log_", 4) == 0)
		name += 4;
	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strcasecmp(name, tab[i].name) == 0)
			return tab[i].val;
	return -1;
}

/* log_emit - write one formatted line to the chosen destinations */
static void
log_emit(int level, const char *prefix, const char *fmt, va_list ap,
    const char *suffix)
{
	char line[LOG_LINE_MAX];
	size_t n = 0;
	int r;
	char *p;

	if (level == LOG_DEBUG && !log_debug_on)
		return;
	if (prefix != NULL) {
		r = snprintf(line, sizeof(line), "%s: ", prefix);
		n = r > 0 ? (size_t)r : 0;
		if (n >= sizeof(line))
			n = sizeof(line) - 1;
	}
	r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	if (r > 0)
		n += (size_t)r;
	if (n >= sizeof(line))
		n = sizeof(line) - 1;
	if (suffix != NULL) {
		r = snprintf(line + n, sizeof(line) - n, ": %s", suffix);
		if (r > 0)
			n += (size_t)r;
		if (n >= sizeof(line))
			n = sizeof(line) - 1;
	}
	/* Never let outside data put control characters into the log. */
	for (p = line; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	if (log_syslog)
		syslog(level, "%s", line);
	if (log_stderr) {
		char out[LOG_LINE_MAX + 64];
		int m = snprintf(out, sizeof(out), "%s[%ld]: %s\n", log_ident,
		    (long)getpid(), line);
		if (m > 0) {
			ssize_t w = write(STDERR_FILENO, out,
			    (size_t)m < sizeof(out) ? (size_t)m : sizeof(out) - 1);
			(void)w;
		}
	}
}

#define LOG_BODY(level, prefix, suffix) do {		\
	va_list ap;					\
	va_start(ap, fmt);				\
	log_emit(level, prefix, fmt, ap, suffix);	\
	va_end(ap);					\
} while (0)

/* log_info - an ordinary event */
void
log_info(const char *fmt, ...)
{
	LOG_BODY(LOG_INFO, NULL, NULL);
}

/* log_debug - detail shown only when debugging */
void
log_debug(const char *fmt, ...)
{
	LOG_BODY(LOG_DEBUG, NULL, NULL);
}

/* log_warn - bad outside input or service, with errno text */
void
log_warn(const char *fmt, ...)
{
	char ebuf[128];
	const char *e;
	int saved = errno;

	e = strerror_r(saved, ebuf, sizeof(ebuf));
	LOG_BODY(LOG_WARNING, "warning", e);
	errno = saved;
}

/* log_warnx - bad outside input or service */
void
log_warnx(const char *fmt, ...)
{
	LOG_BODY(LOG_WARNING, "warning", NULL);
}

/* log_fatal - bad configuration or environment, with errno text; exits */
void
log_fatal(const char *fmt, ...)
{
	char ebuf[128];
	const char *e;

	e = strerror_r(errno, ebuf, sizeof(ebuf));
	LOG_BODY(LOG_ERR, "fatal", e);
	exit(1);
}

/* log_fatalx - bad configuration or environment; exits */
void
log_fatalx(const char *fmt, ...)
{
	LOG_BODY(LOG_ERR, "fatal", NULL);
	exit(1);
}

/* log_panic - our own bug; aborts */
void
log_panic(const char *fmt, ...)
{
	LOG_BODY(LOG_CRIT, "panic", NULL);
	abort();
}

/* log_vmsg - per-message line, prefixed by the queue id (and at
 * LOG_WARNING by "warning: ", as log_warnx lines) */
void
log_vmsg(int level, const char *qid, const char *fmt, va_list ap)
{
	char prefix[LOG_QID_MAX + sizeof(": warning")];

	snprintf(prefix, sizeof(prefix), "%s%s", qid != NULL && *qid != '\0' ?
	    qid : "NOQUEUE", level == LOG_WARNING ? ": warning" : "");
	log_emit(level, prefix, fmt, ap, NULL);
}

/* log_msg - per-message line, prefixed by the queue id */
void
log_msg(int level, const char *qid, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, qid, fmt, ap);
	va_end(ap);
}
