/*
 * NAME
 *	arctool - validate or seal a message file with the ARC library
 * SYNOPSIS
 *	arctool verify [-k keyfile] [-m bits] < message
 *	arctool seal -K privkey -d domain -s selector -a authserv-id
 *		[-k keyfile] [-m bits] [-c hdr/body] [-h a:b:c] [-o a:b]
 *		[-t now] [-r own-result] [-C none|pass|fail] [-S] [-w]
 *		< message
 * DESCRIPTION
 *	verify prints "arc=RESULT", then " oldest-pass=N" when it applies,
 *	then " (reason)" on failure.
 *
 *	seal validates the chain first (keys from keyfile), then prints the
 *	new set as three fields, ARC-Seal first; with -w the message
 *	follows, so that the output can be sealed again.  -C forces the
 *	chain status recorded in cv=; -r gives our own result for the AAR.
 *	-S writes every tag of the AMS and AS in alphabetical order, i=
 *	included, as the public signing suite's expected fields have them
 *	(by default i= comes first).
 *	When no set is to be added it prints "skip: why" (and, with -w,
 *	the message unchanged).
 *
 *	Key files have one record a line, "name TXT-value" (the value bare
 *	or as "quoted" strings); a missing name is NOTFOUND, the value
 *	TEMPFAIL a temporary failure.
 * EXIT STATUS
 *	0 done (verify: whatever the result), 3 seal skipped, 1 failure,
 *	2 usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "arc.h"
#include "keyfile.h"

/* split_list - "a:b:c" into a NULL-terminated array (strings in s) */
static const char **
split_list(char *s)
{
	const char **list;
	size_t n = 2;
	char *p;

	for (p = s; *p != '\0'; p++)
		n += *p == ':' || *p == ',';
	if ((list = calloc(n, sizeof(*list))) == NULL)
		return NULL;
	n = 0;
	for (p = strtok_r(s, ":,", &s); p != NULL; p = strtok_r(NULL, ":,", &s))
		list[n++] = p;
	return list;
}

/* validate - read stdin and run the chain through a new context */
static struct arc *
validate(const char *keyfile, unsigned bits, struct buf *msg)
{
	struct arc_opts o = ARC_OPTS_INIT;
	struct arc *a;

	o.min_key_bits = bits;
	if (keyfile_read_all(stdin, msg) < 0 ||
	    (a = arc_new(&o, keyfile_lookup, (void *)keyfile)) == NULL) {
		fprintf(stderr, "arctool: cannot read the message\n");
		return NULL;
	}
	if (arc_message(a, msg->s, msg->len) != ARC_OK ||
	    arc_eom(a) != ARC_OK) {
		fprintf(stderr, "arctool: out of memory\n");
		arc_free(a);
		return NULL;
	}
	return a;
}

/* cmd_verify - validate stdin */
static int
cmd_verify(int argc, char **argv)
{
	struct buf msg = BUF_INIT;
	const char *keyfile = NULL;
	unsigned bits = 0;
	struct arc *a;
	int c;

	while ((c = getopt(argc, argv, "k:m:")) != -1)
		switch (c) {
		case 'k':
			keyfile = optarg;
			break;
		case 'm':
			bits = (unsigned)strtoul(optarg, NULL, 10);
			break;
		default:
			return 2;
		}
	if ((a = validate(keyfile, bits, &msg)) == NULL)
		return 1;
	printf("arc=%s", arc_chain_name(arc_result(a)));
	if (arc_oldest_pass(a) >= 0)
		printf(" oldest-pass=%d", arc_oldest_pass(a));
	if (arc_result(a) == ARC_CHAIN_FAIL)
		printf(" (%s)", arc_reason(a));
	printf("\n");
	arc_free(a);
	buf_free(&msg);
	return 0;
}

/* print_field - "Name: value" with LF line ends */
static void
print_field(const char *name, const struct buf *v)
{
	const char *p;

	printf("%s: ", name);
	for (p = buf_str(v); *p != '\0'; p++)
		if (*p != '\r')
			putchar(*p);
	putchar('\n');
}

/* cmd_seal - seal stdin */
static int
cmd_seal(int argc, char **argv)
{
	struct arc_seal_opts o;
	struct crypto_key *key = NULL;
	struct arc_set set;
	struct buf msg = BUF_INIT;
	const char *keyfile = NULL, *privfile = NULL, *own = NULL, *why;
	const char **hl = NULL, **ol = NULL;
	enum arc_seal_status st;
	enum arc_chain cv;
	int c, force = -1, whole = 0, rc = 1;
	unsigned bits = 0;
	struct arc *a;

	memset(&o, 0, sizeof(o));
	o.hcanon = o.bcanon = CANON_RELAXED;
	while ((c = getopt(argc, argv, "a:c:C:d:h:k:K:m:o:r:s:St:w")) != -1)
		switch (c) {
		case 'a':
			o.authserv_id = optarg;
			break;
		case 'c':
			if (canon_parse(optarg, strlen(optarg), &o.hcanon,
			    &o.bcanon) < 0)
				return 2;
			break;
		case 'C':
			force = strcmp(optarg, "pass") == 0 ? ARC_CHAIN_PASS :
			    strcmp(optarg, "fail") == 0 ? ARC_CHAIN_FAIL :
			    ARC_CHAIN_NONE;
			break;
		case 'd':
			o.domain = optarg;
			break;
		case 'h':
			hl = split_list(optarg);
			break;
		case 'k':
			keyfile = optarg;
			break;
		case 'K':
			privfile = optarg;
			break;
		case 'm':
			bits = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'o':
			ol = split_list(optarg);
			break;
		case 'r':
			own = optarg;
			break;
		case 's':
			o.selector = optarg;
			break;
		case 'S':
			o.sorted_tags = 1;
			break;
		case 't':
			o.now = (time_t)strtoll(optarg, NULL, 10);
			break;
		case 'w':
			whole = 1;
			break;
		default:
			return 2;
		}
	if (privfile == NULL ||
	    crypto_key_load_private_file(privfile, &key) != CRYPTO_OK) {
		fprintf(stderr, "arctool: cannot load the private key\n");
		return 2;
	}
	o.key = key;
	o.headers = hl;
	o.oversign = ol;
	if ((a = validate(keyfile, bits, &msg)) == NULL)
		goto out;
	cv = force >= 0 ? (enum arc_chain)force : arc_result(a);
	st = arc_seal(a, &o, cv, own, &set, &why);
	if (st == ARC_SEAL_OK) {
		print_field(ARC_SEAL_HEADER, &set.as);
		print_field(ARC_AMS_HEADER, &set.ams);
		print_field(ARC_AAR_HEADER, &set.aar);
		arc_set_free(&set);
		rc = 0;
	} else {
		printf("skip: %s\n", why);
		rc = st == ARC_SEAL_SKIP ? 3 : 1;
	}
	if (whole && rc != 1)
		fwrite(msg.s, 1, msg.len, stdout);
	arc_free(a);
out:
	crypto_key_free(key);
	buf_free(&msg);
	free(hl);
	free(ol);
	return rc;
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: arctool verify|seal [options]\n");
		return 2;
	}
	crypto_init();
	optind = 2;
	if (strcmp(argv[1], "verify") == 0)
		return cmd_verify(argc, argv);
	if (strcmp(argv[1], "seal") == 0)
		return cmd_seal(argc, argv);
	fprintf(stderr, "usage: arctool verify|seal [options]\n");
	return 2;
}
