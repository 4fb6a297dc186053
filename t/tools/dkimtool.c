/*
 * NAME
 *	dkimtool - sign or verify a message file with the DKIM library
 * SYNOPSIS
 *	dkimtool verify [-k keyfile] [-n now] [-1] [-m bits] < message
 *	dkimtool sign -d domain -s selector -k keyfile [-c hdr/body]
 *		[-i identity] [-t now] [-x expire] [-l] [-h a:b:c]
 *		[-o oversign] < message
 *	dkimtool keygen rsa|ed25519 [bits] privfile
 *	dkimtool record privfile
 * DESCRIPTION
 *	verify prints one line per signature:
 *		result d=D s=S a=A reason
 *	followed by "skipped N" when more than the maximum were present.
 *	Keys come from keyfile, one record a line: "name TXT-value", the
 *	value unquoted or as one or more "quoted" strings.  A name with no
 *	line is NOTFOUND; a value "TEMPFAIL" fails temporarily.
 *
 *	sign writes the message with "DKIM-Signature: value" prepended.
 *	keygen writes a new private key (PEM); record prints the key
 *	record to publish for a private key.
 * EXIT STATUS
 *	0 when all went well (verify: at least one pass), 1 otherwise,
 *	2 on usage errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base64.h"
#include "dkim.h"
#include "keyfile.h"

/* cmd_verify - verify stdin */
static int
cmd_verify(int argc, char **argv)
{
	struct dkim_verify_opts o = DKIM_VERIFY_OPTS_INIT;
	const struct dkim_sig_result *r;
	struct dkim_verify *v;
	struct buf msg = BUF_INIT, why = BUF_INIT;
	const char *keyfile = NULL;
	size_t k;
	int c, pass = 0;

	while ((c = getopt(argc, argv, "1k:m:n:M:")) != -1)
		switch (c) {
		case '1':
			o.allow_sha1 = 1;
			break;
		case 'k':
			keyfile = optarg;
			break;
		case 'm':
			o.min_key_bits = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'M':
			o.max_sigs = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'n':
			o.now = (time_t)strtoll(optarg, NULL, 10);
			break;
		default:
			return 2;
		}
	if (keyfile_read_all(stdin, &msg) < 0 ||
	    (v = dkim_verify_new(&o, keyfile_lookup, (void *)keyfile)) ==
	    NULL) {
		fprintf(stderr, "dkimtool: cannot read the message\n");
		return 1;
	}
	if (dkim_verify_message(v, msg.s, msg.len) != DKIM_OK ||
	    dkim_verify_eom(v) != DKIM_OK)
		fprintf(stderr, "dkimtool: out of memory\n");
	for (k = 0; k < dkim_verify_count(v); k++) {
		r = dkim_verify_result(v, k);
		buf_reset(&why);
		dkim_sig_reason(r, &why);
		printf("%s d=%s s=%s a=%s %s\n", dkim_result_name(r->result),
		    r->d, r->s, r->a, buf_str(&why));
		pass |= r->result == DKIM_RESULT_PASS;
	}
	if (dkim_verify_count(v) == 0)
		printf("none\n");
	if (dkim_verify_skipped(v) > 0)
		printf("skipped %zu\n", dkim_verify_skipped(v));
	dkim_verify_free(v);
	buf_free(&msg);
	buf_free(&why);
	return pass ? 0 : 1;
}

/* split_list - "a:b:c" into a NULL-terminated array (strings in s) */
static const char **
split_list(char *s)
{
	const char **list;
	size_t n = 2;
	char *p;

	for (p = s; *p != '\0'; p++)
		n += *p == ':';
	if ((list = calloc(n, sizeof(*list))) == NULL)
		return NULL;
	n = 0;
	for (p = strtok_r(s, ":", &s); p != NULL; p = strtok_r(NULL, ":", &s))
		list[n++] = p;
	return list;
}

/* cmd_sign - sign stdin */
static int
cmd_sign(int argc, char **argv)
{
	struct dkim_sign_opts o;
	struct crypto_key *key = NULL;
	struct dkim_sign *s;
	struct buf msg = BUF_INIT, out = BUF_INIT;
	const char **hl = NULL, **ol = NULL;
	const char *keyfile = NULL;
	enum crypto_status cst;
	int c, rc = 1;

	memset(&o, 0, sizeof(o));
	o.hcanon = o.bcanon = CANON_RELAXED;
	while ((c = getopt(argc, argv, "c:d:h:i:k:lo:qs:St:x:")) != -1)
		switch (c) {
		case 'c':
			if (canon_parse(optarg, strlen(optarg), &o.hcanon,
			    &o.bcanon) < 0)
				return 2;
			break;
		case 'd':
			o.domain = optarg;
			break;
		case 'h':
			o.headers = hl = split_list(optarg);
			break;
		case 'i':
			o.identity = optarg;
			break;
		case 'k':
			keyfile = optarg;
			break;
		case 'l':
			o.body_length = 1;
			break;
		case 'o':
			o.oversign = ol = split_list(optarg);
			break;
		case 'q':
			o.query_tag = 1;
			break;
		case 's':
			o.selector = optarg;
			break;
		case 'S':
			o.spaced_h = 1;
			break;
		case 't':
			o.now = (time_t)strtoll(optarg, NULL, 10);
			break;
		case 'x':
			o.expire = strtoul(optarg, NULL, 10);
			break;
		default:
			return 2;
		}
	if (keyfile == NULL || o.domain == NULL || o.selector == NULL)
		return 2;
	if ((cst = crypto_key_load_private_file(keyfile, &key)) != CRYPTO_OK) {
		fprintf(stderr, "dkimtool: %s: %s\n", keyfile,
		    crypto_strerror(cst));
		return 1;
	}
	o.key = key;
	if (keyfile_read_all(stdin, &msg) == 0 &&
	    (s = dkim_sign_new(&o)) != NULL) {
		if (dkim_sign_message(s, msg.s, msg.len) == DKIM_OK &&
		    dkim_sign_eom(s, &out) == DKIM_OK) {
			printf("%s: %s\r\n", dkim_sign_header_name(), out.s);
			fwrite(msg.s, 1, msg.len, stdout);
			rc = 0;
		}
		dkim_sign_free(s);
	}
	if (rc != 0)
		fprintf(stderr, "dkimtool: signing failed\n");
	crypto_key_free(key);
	buf_free(&msg);
	buf_free(&out);
	free(hl);
	free(ol);
	return rc;
}

/* cmd_keygen - write a new private key */
static int
cmd_keygen(int argc, char **argv)
{
	struct crypto_key *k;
	struct buf pem = BUF_INIT;
	enum crypto_keytype t;
	FILE *fp;
	int rc = 1;

	if (argc < 3)
		return 2;
	t = strcmp(argv[1], "ed25519") == 0 ? CRYPTO_KEY_ED25519 :
	    CRYPTO_KEY_RSA;
	if (crypto_key_generate(t, argc > 3 ? (unsigned)atoi(argv[2]) : 2048,
	    &k) != CRYPTO_OK)
		return 1;
	crypto_key_private_pem(k, &pem);
	if ((fp = fopen(argv[argc - 1], "w")) != NULL) {
		rc = fwrite(pem.s, 1, pem.len, fp) == pem.len ? 0 : 1;
		rc |= fclose(fp) != 0;
	}
	crypto_key_free(k);
	buf_free(&pem);
	return rc;
}

/* cmd_record - print the key record for a private key */
static int
cmd_record(int argc, char **argv)
{
	struct crypto_key *k;
	struct buf rec = BUF_INIT;

	if (argc < 2 || crypto_key_load_private_file(argv[1], &k) != CRYPTO_OK)
		return 1;
	dkim_key_record(k, &rec);
	printf("%s\n", buf_str(&rec));
	crypto_key_free(k);
	buf_free(&rec);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: dkimtool verify|sign|keygen|record ...\n");
		return 2;
	}
	if (strcmp(argv[1], "verify") == 0)
		return cmd_verify(argc - 1, argv + 1);
	if (strcmp(argv[1], "sign") == 0)
		return cmd_sign(argc - 1, argv + 1);
	if (strcmp(argv[1], "keygen") == 0)
		return cmd_keygen(argc - 1, argv + 1);
	if (strcmp(argv[1], "record") == 0)
		return cmd_record(argc - 1, argv + 1);
	fprintf(stderr, "usage: dkimtool verify|sign|keygen|record ...\n");
	return 2;
}
