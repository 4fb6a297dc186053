/*
 * NAME
 *	nullmilter - t/tools/testmilter's work on Debian's libmilter
 * SYNOPSIS
 *	nullmilter SOCKET
 * DESCRIPTION
 *	The real-MTA benchmark's incumbent column for the null cell: the
 *	runtime that OpenDKIM, OpenARC and OpenDMARC are built on, doing
 *	what testmilter does on ours.  It counts the header fields, the
 *	longest value and the body bytes, and at end of message adds
 *		X-Test-Milter: default
 *		X-Test-Seen: headers=N longest=L body=B
 *	SOCKET is libmilter's (inet:PORT@ADDR or unix:PATH).  It runs in
 *	the foreground until SIGTERM.
 *
 *	Built by t/bench/mta.sh with -lmilter; not part of the project's
 *	binaries, which do not link libmilter.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libmilter/mfapi.h>

struct seen {
	unsigned headers;
	size_t longest;
	size_t body;
};

static sfsistat
nm_envfrom(SMFICTX *ctx, char **argv)
{
	struct seen *s = smfi_getpriv(ctx);

	if (s == NULL) {
		s = calloc(1, sizeof(*s));
		if (s == NULL)
			return SMFIS_TEMPFAIL;
		smfi_setpriv(ctx, s);
	}
	memset(s, 0, sizeof(*s));
	return SMFIS_CONTINUE;
}

static sfsistat
nm_header(SMFICTX *ctx, char *name, char *value)
{
	struct seen *s = smfi_getpriv(ctx);
	size_t len = strlen(value);

	s->headers++;
	if (len > s->longest)
		s->longest = len;
	return SMFIS_CONTINUE;
}

static sfsistat
nm_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	struct seen *s = smfi_getpriv(ctx);

	s->body += len;
	return SMFIS_CONTINUE;
}

static sfsistat
nm_eom(SMFICTX *ctx)
{
	struct seen *s = smfi_getpriv(ctx);
	char line[128];

	snprintf(line, sizeof(line), "headers=%u longest=%zu body=%zu",
	    s->headers, s->longest, s->body);
	if (smfi_addheader(ctx, "X-Test-Milter", "default") != MI_SUCCESS ||
	    smfi_addheader(ctx, "X-Test-Seen", line) != MI_SUCCESS)
		return SMFIS_TEMPFAIL;
	return SMFIS_CONTINUE;
}

static sfsistat
nm_close(SMFICTX *ctx)
{
	free(smfi_getpriv(ctx));
	smfi_setpriv(ctx, NULL);
	return SMFIS_CONTINUE;
}

int
main(int argc, char **argv)
{
	struct smfiDesc desc = {
		.xxfi_name = "nullmilter",
		.xxfi_version = SMFI_VERSION,
		.xxfi_flags = SMFIF_ADDHDRS,
		.xxfi_envfrom = nm_envfrom,
		.xxfi_header = nm_header,
		.xxfi_body = nm_body,
		.xxfi_eom = nm_eom,
		.xxfi_close = nm_close,
	};

	if (argc != 2) {
		fprintf(stderr, "usage: nullmilter SOCKET\n");
		return 2;
	}
	if (smfi_setconn(argv[1]) != MI_SUCCESS ||
	    smfi_register(desc) != MI_SUCCESS) {
		fprintf(stderr, "nullmilter: cannot use %s\n", argv[1]);
		return 1;
	}
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
