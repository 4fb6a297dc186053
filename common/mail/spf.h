/*
 * spf.h - Sender Policy Framework (RFC 7208) evaluation
 *
 * spf_check_host() evaluates the MAIL FROM identity, spf_check_helo() the
 * HELO identity, both through a shared struct dns_resolver.  All state
 * lives in a context on the caller's stack: the functions are thread-safe.
 * The caller owns the struct spf_response and releases what it points to
 * with spf_response_free() (the struct itself may be on the stack).
 * A check whose limit (request->limit: a deadline, a stop condition) is
 * reached sends no more queries and ends with temperror.
 *
 * The lower layers are public for tests and fuzzing:
 *	spf_record_parse()	one "v=spf1" record into terms (spf_record.c)
 *	spf_macro_expand()	macro-string expansion (spf_macro.c)
 */
#ifndef COMMON_SPF_H
#define COMMON_SPF_H

#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "dns.h"

/* Processing limits of RFC 7208 4.6.4 and 4.3 */
#define SPF_MAX_DNS_MECH	10	/* include a mx ptr exists redirect */
#define SPF_MAX_VOID		2	/* lookups answering NXDOMAIN/NODATA */
#define SPF_MAX_MX		10	/* MX names per "mx" (more: permerror) */
#define SPF_MAX_PTR		10	/* PTR names checked (others ignored) */
#define SPF_MAX_NAME		253	/* target names are cut to this */
#define SPF_MAX_LABEL		63
#define SPF_MAX_RECORD		4096	/* longer TXT data is not a record */
#define SPF_MAX_EXPANSION	8192	/* bytes produced by one macro-string */
#define SPF_MAX_DIGITS		128	/* transformer digits are capped */

enum spf_result {
	SPF_NONE = 0,
	SPF_NEUTRAL,
	SPF_PASS,
	SPF_FAIL,
	SPF_SOFTFAIL,
	SPF_TEMPERROR,
	SPF_PERMERROR,
};

/* spf_request - the inputs of check_host(); strings are borrowed */
struct spf_request {
	const char	*ip;		/* client address, IPv4 or IPv6 text;
					   IPv4-mapped IPv6 counts as IPv4 */
	const char	*sender;	/* MAIL FROM address without <>; NULL
					   or "" means the null sender */
	const char	*helo;		/* HELO/EHLO argument */
	const char	*receiver;	/* our host name, for %{r} (NULL:
					   "unknown") */
	time_t		 now;		/* for %{t} (0: time(NULL)) */
	const struct dns_limit *limit;	/* bounds the check's DNS queries
					   (RFC 7208 4.6.4), NULL: none */
};

/*
 * spf_response - the outcome; every pointer is NULL or malloc()ed and
 * released by spf_response_free().
 */
struct spf_response {
	enum spf_result	 result;
	char		*domain;	/* the domain checked first */
	char		*identity;	/* the identity checked, as used for
					   Received-SPF: "local@domain" */
	char		*mechanism;	/* the term that decided, e.g. "-all",
					   "include:x.example", "default" */
	char		*reason;	/* short human text: why this result */
	char		*explanation;	/* fail only: the exp= text, or the
					   default explanation */
	int		 explanation_default; /* 1 when the default was used */
	unsigned	 dns_lookups;	/* DNS mechanisms counted */
};

enum spf_result spf_check_host(struct dns_resolver *,
	    const struct spf_request *, struct spf_response *out);
enum spf_result spf_check_helo(struct dns_resolver *,
	    const struct spf_request *, struct spf_response *out);
const char *spf_result_str(enum spf_result);
void	spf_response_free(struct spf_response *);

/*
 * Records.  A term keeps its domain-spec unexpanded; ip4/ip6 keep the
 * network; cidr4/cidr6 are -1 when absent.
 */
enum spf_mech {
	SPF_M_ALL,
	SPF_M_INCLUDE,
	SPF_M_A,
	SPF_M_MX,
	SPF_M_PTR,
	SPF_M_IP4,
	SPF_M_IP6,
	SPF_M_EXISTS,
};

struct spf_term {
	char		 qualifier;	/* '+', '-', '~' or '?' */
	enum spf_mech	 mech;
	char		*domain;	/* domain-spec or NULL */
	int		 cidr4, cidr6;
	unsigned char	 addr[16];	/* ip4 (4 bytes) or ip6 network */
	char		*text;		/* the term as written */
};

struct spf_record {
	struct spf_term	*terms;
	size_t		 n;
	char		*redirect;	/* domain-spec of redirect= or NULL */
	char		*exp;		/* domain-spec of exp= or NULL */
};

enum spf_parse {
	SPF_PARSE_OK = 0,
	SPF_PARSE_NOTSPF,		/* not a "v=spf1" record at all */
	SPF_PARSE_SYNTAX,		/* a "v=spf1" record with errors */
	SPF_PARSE_NOMEM,
};

/* spf_record_is_spf - 1 when text starts with "v=spf1" then SP or end */
int	spf_record_is_spf(const char *text, size_t len);
/* spf_record_parse - parse a record; *out owned by the caller, set on OK;
 * err (may be NULL) receives the reason on SPF_PARSE_SYNTAX */
enum spf_parse spf_record_parse(const char *text, size_t len,
	    struct spf_record **out, struct buf *err);
void	spf_record_free(struct spf_record *);

/*
 * Macros.  The environment is borrowed.  validated() appends the %{p}
 * name for the domain to out and returns 0 (it may query the DNS); when
 * it is NULL, or returns -1, %{p} expands to "unknown".
 */
struct spf_macro_env {
	const char	*local;		/* sender local-part */
	const char	*sender_domain;	/* %{o} */
	const char	*domain;	/* %{d}: the current domain */
	int		 family;	/* AF_INET or AF_INET6 */
	unsigned char	 addr[16];
	const char	*helo;		/* %{h} */
	const char	*receiver;	/* %{r}, NULL: "unknown" */
	time_t		 now;		/* %{t} */
	int		(*validated)(void *arg, const char *domain,
			    struct buf *out);
	void		*arg;
};

#define SPF_MACRO_DOMAIN	0	/* domain-spec: no SP, no c r t */
#define SPF_MACRO_EXP		1	/* explanation text: SP and c r t */

/* spf_macro_check - 0 when s is a valid macro-string of that kind */
int	spf_macro_check(const char *s, size_t len, int kind);
/* spf_macro_expand - append the expansion to out; -1 on a syntax error
 * or when out failed */
int	spf_macro_expand(const struct spf_macro_env *, const char *s,
	    size_t len, int kind, struct buf *out);

#endif
