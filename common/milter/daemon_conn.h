/*
 * daemon_conn.h - the runtime's connection side, as the main thread
 * sees it (private to common/milter; see daemon_conn.c)
 */
#ifndef COMMON_DAEMON_CONN_H
#define COMMON_DAEMON_CONN_H

#include "daemon.h"

/* daemon_conn_init - fill w with the wrappers of d's callbacks */
void	 daemon_conn_init(const struct daemon_desc *d, struct smfiDesc *w);
/* daemon_conn_install - make cfg current; -1 (cfg not taken) if no memory */
int	 daemon_conn_install(void *cfg);
/* daemon_conn_current - the current configuration, or NULL */
void	*daemon_conn_current(void);
/* daemon_conn_release - drop the current configuration at the end */
void	 daemon_conn_release(void);
/* daemon_conn_stop - new connections and messages get a tempfail */
void	 daemon_conn_stop(void);
/* daemon_conn_in_flight - the number of messages in flight */
unsigned long daemon_conn_in_flight(void);
/* daemon_conn_eats_space - whether the MTA of ctx drops the space after
 * the colon that the daemon asked it to keep (SMFIP_HDR_LEADSPC): then
 * values passed are taken as preceded by one, and values added get none */
int	 daemon_conn_eats_space(SMFICTX *ctx);
/* daemon_conn_desc - the daemon's descriptor */
const struct daemon_desc *daemon_conn_desc(void);
/* daemon_conn_common - the common values of the connection's config, or
 * NULL outside a connection that has one */
const struct daemon_conf *daemon_conn_common(SMFICTX *);

#endif
