/*
 * dkimd_policy.h - who gets signed, with which key, and why
 *
 * The decision is OpenDKIM's.  A message is signed when both hold:
 *	origin	the client may send as our domains: it arrived on a daemon
 *		listed in MTA, or a MacroList macro matches, or the client
 *		is in InternalHosts, or it authenticated with SMTP AUTH;
 *	key	the sender (From: address) has a signing rule: with a
 *		KeyTable, a SigningTable entry; without one, the Domain list
 *		(and SubDomains) with the single KeyFile/Selector key.
 * Anything not signed is verified (when Mode includes v), except, as in
 * OpenDKIM, mail that would be signed when Mode lacks s: it is passed
 * on unchanged.  The same code answers the daemon and the explain mode,
 * and records in plain words
 * which configuration lines decided.
 *
 * The policy owns its data sets, host lists and loaded keys; it is
 * read-only after dkimd_policy_load() and shared by threads.
 */
#ifndef DKIMD_POLICY_H
#define DKIMD_POLICY_H

#include <sys/socket.h>
#include <sys/types.h>

#include "buf.h"

struct crypto_key;
struct dataset;
struct hostlist;

/* One signing key: a KeyTable entry, or Domain/Selector/KeyFile. */
struct dkimd_key {
	char			*name;		/* KeyTable key name */
	char			*domain;	/* d=; "%" = the sender's */
	char			*selector;	/* s= */
	char			*path;		/* key file, or NULL if inline */
	char			*where;		/* "FILE:LINE" of the entry */
	struct crypto_key	*key;		/* NULL when it failed to load */
	char			*error;		/* why it failed, or NULL */
	int			 load_errno;	/* the file could not be opened
						   or read: errno; else 0 */
};

/* How key files are read. */
struct dkimd_keyrules {
	uid_t			 uid;		/* the milter's user and group */
	gid_t			 gid;		/* (UserID, or the process's) */
	int			 require_safe;	/* RequireSafeKeys */
};

#define DKIMD_MAX_SIGNREQ	8	/* signatures on one message */

struct dkimd_signreq {
	const struct dkimd_key	*key;
	char			*domain;	/* d= after "%" substitution */
	char			*identity;	/* i=, or NULL */
	char			*where;		/* the rule that chose it */
};

struct dkimd_policy {
	struct dataset		*keytable;
	struct dataset		*signingtable;
	struct dataset		*domains;	/* Domain */
	struct dataset		*mtas;		/* MTA */
	struct dataset		*macros;	/* MacroList */
	struct hostlist		*internal;	/* InternalHosts */
	struct dkimd_key	*keys;
	size_t			 nkeys;
	struct dkimd_key	*single;	/* Domain/Selector/KeyFile */
	int			 subdomains;
	int			 multisig;	/* MultipleSignatures */
	int			 sign_mode, verify_mode;
	int			 domain_ignored;	/* KeyTable overrides */
};

/* What the policy is asked about: the client and the sender. */
struct dkimd_client {
	const struct sockaddr	*sa;		/* or NULL, then addr */
	const char		*addr;		/* textual address */
	const char		*hostname;	/* or NULL */
	const char		*auth;		/* {auth_authen}, or NULL */
	const char		*daemon;	/* {daemon_name}, or NULL */
	const char		*(*macro)(void *, const char *); /* or NULL */
	void			*macro_arg;
};

struct dkimd_decision {
	int			 origin;	/* client may sign */
	int			 sign;		/* will sign */
	int			 verify;	/* will verify */
	int			 tempfail;	/* a chosen key did not load */
	size_t			 nreq;
	struct dkimd_signreq	 req[DKIMD_MAX_SIGNREQ];
	struct buf		 why;		/* reasons, one per line */
};

/* dkimd_policy_keys - load every KeyTable key (and KeyFile); warnings go
 * to warn, one per line; returns -1 only on memory failure */
int	dkimd_policy_keys(struct dkimd_policy *, const char *keyfile,
	    const char *selector, const struct dkimd_keyrules *,
	    struct buf *warn);
/* dkimd_policy_decide - fill d (caller frees with _decision_free) */
int	dkimd_policy_decide(const struct dkimd_policy *,
	    const struct dkimd_client *, const char *local,
	    const char *domain, struct dkimd_decision *d);
void	dkimd_decision_free(struct dkimd_decision *);
const struct dkimd_key *dkimd_policy_key(const struct dkimd_policy *,
	    const char *name);
void	dkimd_policy_free(struct dkimd_policy *);

#endif
