/*
 * authres.h - Authentication-Results header fields (RFC 8601)
 *
 * Writer: authres_write() appends a complete header value to a buffer
 * from an array of results the caller owns.  Parser: authres_parse()
 * fills a struct authres whose strings it allocates; authres_free()
 * releases them (safe on a zeroed or already freed object).
 * authres_is_ours() needs no allocation beyond a small buffer and says
 * whether a header value claims a given authserv-id.
 *
 * In parsed results, method, result, ptype and property are lowercased
 * (they are case-insensitive keywords); authserv_id, reason, comment and
 * property values are unquoted but otherwise kept as written.
 * Out of memory is AUTHRES_NOMEM, never fatal.
 */
#ifndef COMMON_AUTHRES_H
#define COMMON_AUTHRES_H

#include <stddef.h>

#include "buf.h"

#define AUTHRES_MAX_RESULTS	64	/* resinfo per header */
#define AUTHRES_MAX_PROPS	32	/* properties per resinfo */
#define AUTHRES_FOLD_COLUMN	78	/* writer folds before this column */
#define AUTHRES_NAME_LEN	24	/* "Authentication-Results: " */

enum authres_status {
	AUTHRES_OK = 0,
	AUTHRES_SYNTAX,		/* malformed; what came before is kept */
	AUTHRES_TOOMANY,	/* more than the limits above */
	AUTHRES_NOMEM,
};

struct authres_prop {
	char	*ptype;			/* "smtp", "header", "body", "policy" */
	char	*property;		/* "mailfrom", "d", "from", "b" ... */
	char	*value;
};

struct authres_resinfo {
	char	*method;		/* "dkim", "spf", "dmarc" ... */
	unsigned version;		/* method-version; 0 when absent */
	char	*result;		/* "pass", "fail", "none" ... */
	char	*reason;		/* reason="..." or NULL */
	char	*comment;		/* first comment after the result or NULL */
	struct authres_prop *props;
	size_t	 nprops;
};

struct authres {
	char	*authserv_id;
	unsigned version;		/* authres-version; 0 when absent */
	struct authres_resinfo *res;	/* none: nres == 0 */
	size_t	 nres;
};

/* Flags of authres_write(). */
#define AUTHRES_LF	0x01		/* fold with LF TAB, not CRLF TAB */
#define AUTHRES_UTF8	0x02		/* keep well-formed UTF-8 in quoted
					   strings and comments (RFC 6532);
					   without it bytes >= 0x80 are "?" */

int	 authres_write(struct buf *, size_t, unsigned, const char *,
	    unsigned, const struct authres_resinfo *, size_t);
enum authres_status authres_parse(const char *, size_t, struct authres *);
void	 authres_free(struct authres *);
int	 authres_authserv_id(const char *, size_t, struct buf *);
int	 authres_is_ours(const char *, const char *);
/* The methods the milters of this suite write results for. */
#define AUTHRES_SUITE_METHODS	"dkim", "spf", "dmarc", "arc"
/* authres_claims - claims the id and has a result of method, or of a
 * method outside the suite, or is unparseable: the field a milter for
 * that method removes */
int	 authres_claims(const char *, const char *, const char *);
const struct authres_resinfo *authres_find(const struct authres *,
	    const char *, size_t *);
const char *authres_prop_get(const struct authres_resinfo *, const char *,
	    const char *);
const char *authres_strerror(enum authres_status);
/* authres_servid_job - append id, or "id/job" when job is not NULL (the
 * job id of AuthservIDWithJobID, as OpenDKIM writes it; authres_write
 * quotes it); 0, or -1 when out of memory */
int	 authres_servid_job(struct buf *, const char *id, const char *job);
/* authres_servid_conf - an AuthservID setting's value, or the host name
 * for NULL or "HOSTNAME"; malloc'd, NULL when out of memory */
char	*authres_servid_conf(const char *value);

#endif
