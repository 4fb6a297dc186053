/*
 * milter.h - the milter side of the Sendmail milter protocol (version 6)
 *
 *	milter_run() serves the connections that arrive on a listening
 *	socket, calling the callbacks of a struct smfiDesc as libmilter
 *	would; milter_stop() ends it.  Callbacks use the libmilter calls
 *	smfi_getsymval, smfi_setreply, smfi_addheader, smfi_insheader,
 *	smfi_chgheader, smfi_quarantine, smfi_addrcpt, smfi_setpriv and
 *	smfi_getpriv, which this module implements; see milter.c.
 */
#ifndef COMMON_MILTER_H
#define COMMON_MILTER_H

#include <stddef.h>

#include <libmilter/mfapi.h>

#define MILTER_TIMEOUT		7210	/* seconds to wait for a command to
					   begin (libmilter's timeout) */
#define MILTER_COMMAND_TIMEOUT	30	/* default: Postfix's
					   milter_command_timeout */
#define MILTER_MESSAGE_TIMEOUT	300	/* default: Postfix's
					   milter_content_timeout */
#define MILTER_MAX_CONNS	1024	/* default connection limit */
#define MILTER_MAX_THREADS	4096	/* the largest connection limit */
#define MILTER_IDLE_THREADS	16	/* waiting threads kept */
#define MILTER_PAUSE_MS		100	/* accept() out of descriptors: wait */
#define MILTER_LOG_EVERY	60	/* seconds between two such reports */
#define MILTER_READ_MIN		(64 * 1024)	/* an input buffer's first size */
#define MILTER_REFUSED_LOG_S	10	/* refusals are logged this often */
#define MILTER_TRIM_S		5	/* free memory goes back this often */

/*
 * The limits connections are served under (seconds, and a count).  A
 * command must arrive whole within command_s of its first byte, and the
 * MTA take each reply within command_s; a message's content (DATA, its
 * header fields, end of header, body, end of message) must arrive within
 * message_s of its first command; between commands the engine waits
 * idle_s.  At most max_conns connections are served at once: one more is
 * closed as soon as it is accepted, and that is logged.  A connection's
 * input buffer grows with the bytes received (doubling from
 * MILTER_READ_MIN), never to more than the largest packet (maxdata + 5),
 * whatever length a packet announces, and shrinks back when empty.
 */
struct milter_limits {
	unsigned	 command_s;
	unsigned	 message_s;
	unsigned	 idle_s;
	unsigned	 max_conns;	/* 1 .. MILTER_MAX_THREADS */
};
#define MILTER_LIMITS_DEFAULT { MILTER_COMMAND_TIMEOUT, \
	MILTER_MESSAGE_TIMEOUT, MILTER_TIMEOUT, MILTER_MAX_CONNS }

/* milter_run - serve lfd until milter_stop(); 0, or -1 if no thread
 * could be started.  maxdata bounds a packet's data (larger: the
 * connection is closed); desc must stay valid while it runs; debug 1
 * logs each negotiation, 2 and more also each command received. */
int	milter_run(int lfd, const struct smfiDesc *desc, size_t maxdata,
	    int debug);
/* milter_session - serve one connected socket to its end in the calling
 * thread (for tests and fuzzing); fd stays open */
void	milter_session(int fd, const struct smfiDesc *desc, size_t maxdata);
/* milter_pflags - the protocol options agreed at ctx's negotiation (0
 * before it); they hold for the connection's life, across QUIT_NC */
unsigned long milter_pflags(SMFICTX *ctx);
/* milter_close_idle - shut down the connections that are between two
 * messages (after HELO or a message's end), as a stopping daemon does;
 * their close callbacks run; any thread */
void	milter_close_idle(void);
/* milter_set_limits - the limits for connections that start from now
 * on (the connection limit applies at once); any thread */
void	milter_set_limits(const struct milter_limits *);
/* milter_input_stats - bytes waiting in, and bytes allocated for, the
 * input buffers of the connections being served (for tests) */
void	milter_input_stats(size_t *buffered, size_t *allocated);
/* milter_stop - stop accepting, close every connection (their abort and
 * close callbacks run), and make milter_run() return; any thread */
void	milter_stop(void);
/* milter_stats - the engine's counters since start: connections served,
 * those ended by a malformed or unexpected packet, those the MTA closed
 * or let time out without QUIT, and the threads running now */
struct milter_stats {
	unsigned long	sessions, protocol_errors, hangups;
	unsigned	threads;
};
void	milter_stats(struct milter_stats *);
/* milter_interrupted - from inside a callback: 1 when the MTA has closed
 * the connection or sent an abort or quit that waits behind the current
 * command, so that the callback's work is of no use any more */
int	milter_interrupted(SMFICTX *);

#endif
