/*
 * log.h - logging to syslog and/or stderr
 *
 * Levels have fixed meanings:
 *	log_warn/log_warnx	bad outside input or a failed outside service
 *				(log_warn appends strerror(errno))
 *	log_fatal/log_fatalx	bad configuration or environment: exit(1)
 *	log_panic		our own bug: abort()
 *	log_info, log_debug	ordinary events
 * Per-message lines go through log_msg(), which prefixes the MTA's queue
 * id ("NOQUEUE" when the MTA did not send one), and at LOG_WARNING the
 * same "warning: " tag as log_warn/log_warnx.  log_debug lines are
 * dropped unless log_set_debug(1).
 * All functions are thread-safe (each line is formatted on the stack).
 */
#ifndef COMMON_LOG_H
#define COMMON_LOG_H

#include <stdarg.h>
#include <syslog.h>

#define LOG_ATTR(f, a) __attribute__((format(printf, f, a)))

void	log_open(const char *ident, int use_syslog, int facility, int use_stderr);
void	log_set_debug(int);
int	log_facility(const char *name);	/* "mail", "local0"...; -1 if unknown */

void	log_info(const char *, ...) LOG_ATTR(1, 2);
void	log_debug(const char *, ...) LOG_ATTR(1, 2);
void	log_warn(const char *, ...) LOG_ATTR(1, 2);
void	log_warnx(const char *, ...) LOG_ATTR(1, 2);
void	log_fatal(const char *, ...) LOG_ATTR(1, 2) __attribute__((noreturn));
void	log_fatalx(const char *, ...) LOG_ATTR(1, 2) __attribute__((noreturn));
void	log_panic(const char *, ...) LOG_ATTR(1, 2) __attribute__((noreturn));
/* level is a syslog priority (LOG_INFO, LOG_WARNING, ...) */
void	log_msg(int level, const char *qid, const char *, ...) LOG_ATTR(3, 4);
void	log_vmsg(int level, const char *qid, const char *, va_list) LOG_ATTR(3, 0);

#endif
