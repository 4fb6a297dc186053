/*
 * NAME
 *	testmilter - the smallest daemon on the shared milter runtime
 * SYNOPSIS
 *	testmilter [-fhnV] [-c config]
 * DESCRIPTION
 *	A milter for testing common/milter/daemon.c end to end.  At end of message
 *	it adds two header fields:
 *		X-Test-Milter: <HeaderValue>
 *		X-Test-Seen: headers=N longest=L body=B
 *	where N is the number of header fields it received, L the length of
 *	the longest value (with its leading space: it asks the MTA for
 *	SMFIP_HDR_LEADSPC, so it also writes the space before the values it
 *	adds) and B the number of body bytes.
 *
 *	A header field "X-Test-Action: reject" makes it reject the message
 *	with "550 5.7.1 rejected by test"; "X-Test-Action: edit" makes it
 *	also change the first Subject, delete the first X-Test-Action and
 *	insert X-Test-First at the top, to exercise clients.
 *
 *	Verdicts before end of message, to exercise the runtime's handling
 *	of steps the MTA does not wait for: "X-Test-Action: header-reject"
 *	(550 5.7.1 rejected at header), "header-tempfail" (451 4.7.1
 *	deferred at header), "header-accept" and "header-discard" are
 *	answered as soon as that field is seen; "body-skip" asks for no more
 *	body after the first chunk (X-Test-Seen then counts that chunk only).
 *	A sender containing "reject-mail" is rejected at MAIL (550 5.7.1
 *	rejected at mail), a recipient containing "reject-rcpt" at RCPT
 *	(550 5.7.1 rejected at rcpt).
 *
 *	A message with a header field "X-Test-Delay: MS" is held MS
 *	milliseconds (at most TM_DELAY_MAX) at end of message, to keep a
 *	connection busy across a reload or a stop.
 *
 *	Besides the common keywords of DAEMON_CONF_KW() it reads:
 *	HeaderValue	the value of X-Test-Milter (default "default")
 *	ConnectAction	continue (default), accept, reject (550 5.7.1 client
 *			rejected by test) or tempfail: the verdict at connect
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "conf.h"
#include "daemon.h"
#include "log.h"

#define TM_DELAY_MAX	60000		/* X-Test-Delay upper bound, ms */

struct tm_values {
	struct daemon_conf daemon;
	char	*header_value;
	char	*connect_action;
};

struct tm_config {
	struct conf	 conf;
	struct tm_values v;
};

/* Per-connection counters for the current message. */
struct tm_conn {
	unsigned long	 headers;
	size_t		 longest;
	unsigned long	 body;
	long		 delay;		/* X-Test-Delay, ms */
	int		 reject;	/* X-Test-Action: reject */
	int		 edit;		/* X-Test-Action: edit */
	int		 skip;		/* X-Test-Action: body-skip */
};

static const struct conf_kw tm_table[] = {
	DAEMON_CONF_KW(struct tm_values, daemon, "inet:8893@127.0.0.1"),
	{ "HeaderValue", CONF_STR, "default",
	    offsetof(struct tm_values, header_value), 0, 0, NULL },
	{ "ConnectAction", CONF_STR, "continue",
	    offsetof(struct tm_values, connect_action), 0, 0, NULL },
};

static const char tm_default[] =
	"# built-in default configuration of testmilter\n"
	"Socket inet:8893@127.0.0.1\n"
	"Syslog no\n";

/* tm_free_config - release a configuration */
static void
tm_free_config(void *p)
{
	struct tm_config *cfg = p;

	conf_free(&cfg->conf);
	free(cfg);
}

/* tm_load_config - read path (or text) into a new configuration */
static void *
tm_load_config(const char *path, const char *text, const char *overrides,
    struct buf *err)
{
	struct tm_config *cfg;

	if ((cfg = calloc(1, sizeof(*cfg))) == NULL) {
		buf_puts(err, "out of memory");
		return NULL;
	}
	if (daemon_conf_open(&cfg->conf, tm_table, sizeof(tm_table) /
	    sizeof(tm_table[0]), &cfg->v, &cfg->v.daemon, path, text,
	    overrides, err) < 0) {
		tm_free_config(cfg);
		return NULL;
	}
	buf_puts(err, buf_str(&cfg->conf.warnings));
	return cfg;
}

/* tm_conn_get - the counters, made on first use */
static struct tm_conn *
tm_conn_get(SMFICTX *ctx)
{
	struct tm_conn *c = daemon_conn_getpriv(ctx);

	if (c == NULL && (c = calloc(1, sizeof(*c))) != NULL)
		daemon_conn_setpriv(ctx, c);
	return c;
}

/* verdict - a verdict named by the tests, with its reply text */
static sfsistat
verdict(SMFICTX *ctx, const char *name, const char *stage)
{
	char text[64];

	snprintf(text, sizeof(text), "%s at %s", strcmp(name, "reject") == 0 ?
	    "rejected" : "deferred", stage);
	if (strcmp(name, "reject") == 0) {
		smfi_setreply(ctx, "550", "5.7.1", text);
		return SMFIS_REJECT;
	}
	if (strcmp(name, "tempfail") == 0) {
		smfi_setreply(ctx, "451", "4.7.1", text);
		return SMFIS_TEMPFAIL;
	}
	if (strcmp(name, "accept") == 0)
		return SMFIS_ACCEPT;
	if (strcmp(name, "discard") == 0)
		return SMFIS_DISCARD;
	return SMFIS_CONTINUE;
}

/* tm_connect - the verdict ConnectAction names */
static sfsistat
tm_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	const struct tm_config *cfg = daemon_conn_config(ctx);

	(void)host;
	(void)sa;
	return verdict(ctx, cfg->v.connect_action, "connect");
}

/* tm_envfrom - a new message: reset the counters */
static sfsistat
tm_envfrom(SMFICTX *ctx, char **argv)
{
	struct tm_conn *c = tm_conn_get(ctx);

	if (c == NULL)
		return SMFIS_TEMPFAIL;
	memset(c, 0, sizeof(*c));
	return strstr(argv[0], "reject-mail") != NULL ?
	    verdict(ctx, "reject", "mail") : SMFIS_CONTINUE;
}

/* tm_envrcpt - refuse recipients that ask for it */
static sfsistat
tm_envrcpt(SMFICTX *ctx, char **argv)
{
	return strstr(argv[0], "reject-rcpt") != NULL ?
	    verdict(ctx, "reject", "rcpt") : SMFIS_CONTINUE;
}

/* tm_header - count a header field */
static sfsistat
tm_header(SMFICTX *ctx, char *name, char *value)
{
	struct tm_conn *c = tm_conn_get(ctx);
	size_t n = strlen(value);

	if (c == NULL)
		return SMFIS_TEMPFAIL;
	if (strcasecmp(name, "X-Test-Delay") == 0) {
		c->delay = strtol(value, NULL, 10);
		if (c->delay < 0 || c->delay > TM_DELAY_MAX)
			c->delay = TM_DELAY_MAX;
	}
	if (strcasecmp(name, "X-Test-Action") == 0) {
		c->reject |= strcmp(value, " reject") == 0;
		c->edit |= strcmp(value, " edit") == 0;
		c->skip |= strcmp(value, " body-skip") == 0;
		if (strncmp(value, " header-", 8) == 0)
			return verdict(ctx, value + 8, "header");
	}
	c->headers++;
	if (n > c->longest)
		c->longest = n;
	return SMFIS_CONTINUE;
}

/* tm_body - count body bytes */
static sfsistat
tm_body(SMFICTX *ctx, unsigned char *p, size_t n)
{
	struct tm_conn *c = tm_conn_get(ctx);

	(void)p;
	if (c == NULL)
		return SMFIS_TEMPFAIL;
	c->body += n;
	return c->skip ? SMFIS_SKIP : SMFIS_CONTINUE;
}

/* tm_eom - add the two header fields */
static sfsistat
tm_eom(SMFICTX *ctx)
{
	const struct tm_config *cfg = daemon_conn_config(ctx);
	struct tm_conn *c = tm_conn_get(ctx);
	struct timespec ts;
	char value[1024], seen[128];

	if (c == NULL)
		return SMFIS_TEMPFAIL;
	if (c->delay > 0) {
		ts.tv_sec = c->delay / 1000;
		ts.tv_nsec = (c->delay % 1000) * 1000000L;
		nanosleep(&ts, NULL);
	}
	if (c->reject) {
		smfi_setreply(ctx, "550", "5.7.1", "rejected by test");
		return SMFIS_REJECT;
	}
	if (c->edit && (smfi_chgheader(ctx, "Subject", 1, " changed") !=
	    MI_SUCCESS || smfi_chgheader(ctx, "X-Test-Action", 1, NULL) !=
	    MI_SUCCESS || smfi_insheader(ctx, 0, "X-Test-First", " first") !=
	    MI_SUCCESS))
		return SMFIS_TEMPFAIL;
	/* with SMFIP_HDR_LEADSPC the MTA inserts values verbatim */
	snprintf(value, sizeof(value), " %s", cfg->v.header_value);
	snprintf(seen, sizeof(seen), " headers=%lu longest=%zu body=%lu",
	    c->headers, c->longest, c->body);
	if (smfi_addheader(ctx, "X-Test-Milter", value) != MI_SUCCESS ||
	    smfi_addheader(ctx, "X-Test-Seen", seen) != MI_SUCCESS)
		return SMFIS_TEMPFAIL;
	return SMFIS_CONTINUE;
}

static const struct daemon_desc tm_desc = {
	.name = "testmilter",
	.conf_path = SYSCONFDIR "/testmilter.conf",
	.conf_text = tm_default,
	.conf_off = offsetof(struct tm_config, v.daemon),
	.load_config = tm_load_config,
	.free_config = tm_free_config,
	.priv_free = free,
	.milter = {
		.xxfi_name = "testmilter",
		.xxfi_version = SMFI_VERSION,
		.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS,
		.xxfi_connect = tm_connect,
		.xxfi_envfrom = tm_envfrom,
		.xxfi_envrcpt = tm_envrcpt,
		.xxfi_header = tm_header,
		.xxfi_body = tm_body,
		.xxfi_eom = tm_eom,
	},
	.pflags = SMFIP_HDR_LEADSPC,
};

int
main(int argc, char **argv)
{
	return daemon_main(&tm_desc, argc, argv);
}
