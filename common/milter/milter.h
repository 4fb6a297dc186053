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

#define MILTER_TIMEOUT		7210	/* seconds a read or write may wait */
#define MILTER_MAX_THREADS	4096	/* connections served at once */
#define MILTER_IDLE_THREADS	16	/* waiting threads kept */

/* milter_run - serve lfd until milter_stop(); 0, or -1 if no thread
 * could be started.  maxdata bounds a packet's data (larger: the
 * connection is closed); desc must stay valid while it runs; debug 1
 * logs each negotiation, 2 and more also each command received. */
int	milter_run(int lfd, const struct smfiDesc *desc, size_t maxdata,
	    int debug);
/* milter_session - serve one connected socket to its end in the calling
 * thread (for tests and fuzzing); fd stays open */
void	milter_session(int fd, const struct smfiDesc *desc, size_t maxdata);
/* milter_stop - stop accepting, close every connection (their abort and
 * close callbacks run), and make milter_run() return; any thread */
void	milter_stop(void);

#endif
