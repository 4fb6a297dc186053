/*
 * fuzz_milter - the milter protocol engine on whatever an MTA could send
 *
 * The input is the byte stream from the MTA.  A thread writes it into one
 * end of a socket pair and reads every reply until the engine closes; the
 * engine serves the other end with callbacks that read macros, set reply
 * texts, edit the header at end of message and give every kind of
 * verdict, chosen from the bytes they are handed.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "milter.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const sfsistat verdicts[] = { SMFIS_CONTINUE, SMFIS_REJECT,
	SMFIS_DISCARD, SMFIS_ACCEPT, SMFIS_TEMPFAIL, SMFIS_NOREPLY,
	SMFIS_SKIP, SMFIS_CONTINUE };

/* pick - a verdict from a byte, mostly "continue" */
static sfsistat
pick(unsigned char c)
{
	return c < 0xf0 ? SMFIS_CONTINUE : verdicts[c & 7];
}

static sfsistat
f_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	*pf0 = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE;
	*pf1 = f1 & (SMFIP_NR_HDR | SMFIP_NR_BODY | SMFIP_NR_CONN |
	    SMFIP_HDR_LEADSPC | SMFIP_NOUNKNOWN);
	*pf2 = *pf3 = 0;
	return (f1 & 0x80000000UL) ? SMFIS_REJECT : SMFIS_CONTINUE;
}

static sfsistat
f_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	(void)smfi_getsymval(ctx, "j");
	smfi_setpriv(ctx, host[0] ? NULL : ctx);
	return pick((unsigned char)host[0]);
}

static sfsistat
f_helo(SMFICTX *ctx, char *helo)
{
	return pick((unsigned char)helo[0]);
}

static sfsistat
f_envfrom(SMFICTX *ctx, char **argv)
{
	size_t i;

	for (i = 0; argv[i] != NULL; i++)
		(void)smfi_getsymval(ctx, argv[i]);
	(void)smfi_setreply(ctx, argv[0], argv[1], argv[1] ? argv[2] : NULL);
	return pick((unsigned char)argv[0][0]);
}

static sfsistat
f_envrcpt(SMFICTX *ctx, char **argv)
{
	(void)smfi_setreply(ctx, "550", "5.1.1", argv[0]);
	return pick((unsigned char)argv[0][0]);
}

static sfsistat
f_header(SMFICTX *ctx, char *name, char *value)
{
	(void)smfi_getsymval(ctx, name);
	(void)smfi_addheader(ctx, name, value);	/* refused here */
	return pick((unsigned char)value[0]);
}

static sfsistat
f_eoh(SMFICTX *ctx)
{
	return SMFIS_CONTINUE;
}

static sfsistat
f_body(SMFICTX *ctx, unsigned char *p, size_t n)
{
	return pick(n > 0 ? p[0] : 0);
}

static sfsistat
f_eom(SMFICTX *ctx)
{
	const char *i = smfi_getsymval(ctx, "i");
	char *v = (char *)(i != NULL ? i : "x");

	(void)smfi_addheader(ctx, "X-Fuzz", v);
	(void)smfi_insheader(ctx, 0, v, v);
	(void)smfi_chgheader(ctx, v, 1, NULL);
	(void)smfi_quarantine(ctx, v);
	(void)smfi_setreply(ctx, "451", NULL, v);
	return pick((unsigned char)v[0]);
}

static sfsistat
f_abort(SMFICTX *ctx)
{
	return SMFIS_CONTINUE;
}

static sfsistat
f_close(SMFICTX *ctx)
{
	smfi_setpriv(ctx, NULL);
	return SMFIS_CONTINUE;
}

static sfsistat
f_unknown(SMFICTX *ctx, const char *cmd)
{
	return pick((unsigned char)cmd[0]);
}

static const struct smfiDesc desc = {
	.xxfi_name = "fuzz",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE,
	.xxfi_connect = f_connect,
	.xxfi_helo = f_helo,
	.xxfi_envfrom = f_envfrom,
	.xxfi_envrcpt = f_envrcpt,
	.xxfi_header = f_header,
	.xxfi_eoh = f_eoh,
	.xxfi_body = f_body,
	.xxfi_eom = f_eom,
	.xxfi_abort = f_abort,
	.xxfi_close = f_close,
	.xxfi_unknown = f_unknown,
	.xxfi_negotiate = f_negotiate,
};

struct feed {
	int		 fd;
	const uint8_t	*data;
	size_t		 size;
};

/* mta - write the input, then read replies until the engine closes */
static void *
mta(void *arg)
{
	struct feed *f = arg;
	char sink[4096];
	size_t off = 0;
	ssize_t n;

	while (off < f->size && (n = send(f->fd, f->data + off,
	    f->size - off, MSG_NOSIGNAL)) > 0)
		off += (size_t)n;
	shutdown(f->fd, SHUT_WR);
	while (read(f->fd, sink, sizeof(sink)) > 0)
		;
	return NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct feed f = { -1, data, size };
	pthread_t t;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return 0;
	f.fd = sv[0];
	if (pthread_create(&t, NULL, mta, &f) != 0) {
		close(sv[0]);
		close(sv[1]);
		return 0;
	}
	milter_session(sv[1], &desc, 4096);
	close(sv[1]);
	pthread_join(t, NULL);
	close(sv[0]);
	return 0;
}
