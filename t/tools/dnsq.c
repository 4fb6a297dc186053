/*
 * NAME
 *	dnsq - look up one name through common/util/dns.c
 * SYNOPSIS
 *	dnsq [-s nameservers] [-z zonefile] [-t timeout_ms] [-n count]
 *	    NAME TYPE
 * DESCRIPTION
 *	Queries NAME for TYPE (A, AAAA, MX, TXT, SPF, PTR, CNAME) through
 *	the system backend (the servers of -s, else /etc/resolv.conf) or,
 *	with -z, through the zone backend loaded from zonefile.  Prints
 *	"status: STATUS" (OK, NXDOMAIN, NODATA, TEMPFAIL, TIMEOUT,
 *	BADNAME, NOMEM), then for an answer "secure: 0|1", "ttl: N" and
 *	one line per record:
 *		A 3600 192.0.2.1
 *		MX 3600 10 mail.example.com
 *		TXT 3600 strings=2 len=12 text
 *	where text bytes outside printable ASCII, and the backslash, are
 *	written \DDD (decimal, as in master files).  With -n the query is
 *	repeated count times through a cache and the last result printed.
 * DIAGNOSTICS
 *	Exit 0 when a status was printed, 2 on bad usage or setup.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "dns.h"
#include "dns_zone.h"

static const char *status_names[] = {
	[DNS_OK] = "OK", [DNS_NXDOMAIN] = "NXDOMAIN", [DNS_NODATA] = "NODATA",
	[DNS_TEMPFAIL] = "TEMPFAIL", [DNS_TIMEOUT] = "TIMEOUT",
	[DNS_UNREACHABLE] = "UNREACHABLE", [DNS_CANCELLED] = "CANCELLED",
	[DNS_BADNAME] = "BADNAME", [DNS_NOMEM] = "NOMEM",
};

/* print_text - record text with unprintable bytes as \DDD */
static void
print_text(const char *s, size_t len)
{
	unsigned char c;
	size_t i;

	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c < 0x20 || c > 0x7e || c == '\\')
			printf("\\%03u", c);
		else
			putchar(c);
	}
}

/* print_rr - one record line */
static void
print_rr(const struct dns_rr *rr)
{
	char ip[INET6_ADDRSTRLEN];
	const char *t = dns_type_name(rr->type);

	printf("%s %u ", t ? t : "?", rr->ttl);
	switch (rr->type) {
	case DNS_T_A:
	case DNS_T_AAAA:
		inet_ntop(rr->type == DNS_T_A ? AF_INET : AF_INET6, rr->addr,
		    ip, sizeof(ip));
		printf("%s", ip);
		break;
	case DNS_T_MX:
		printf("%u ", rr->pref);
		print_text(rr->text, rr->text_len);
		break;
	case DNS_T_TXT:
	case DNS_T_SPF:
		printf("strings=%u len=%zu ", rr->nstrings, rr->text_len);
		print_text(rr->text, rr->text_len);
		break;
	default:
		print_text(rr->text, rr->text_len);
	}
	putchar('\n');
}

static void
usage(void)
{
	fprintf(stderr, "usage: dnsq [-s nameservers] [-z zonefile] "
	    "[-t timeout_ms] [-n count] name type\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct dns_opts o = { NULL, 0, 0, 0 };
	struct dns_resolver *r;
	struct dns_answer *a = NULL;
	struct buf err = BUF_INIT;
	enum dns_status s = DNS_NOMEM;
	const char *zone = NULL;
	int ch, type, count = 1, i;
	size_t k;

	while ((ch = getopt(argc, argv, "n:s:t:z:")) != -1) {
		switch (ch) {
		case 'n':
			count = atoi(optarg);
			break;
		case 's':
			o.nameservers = optarg;
			break;
		case 't':
			o.timeout_ms = atoi(optarg);
			break;
		case 'z':
			zone = optarg;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 2 || count < 1)
		usage();
	if ((type = dns_type_parse(argv[optind + 1])) == -1) {
		fprintf(stderr, "dnsq: unknown type %s\n", argv[optind + 1]);
		return 2;
	}
	if (count > 1)
		o.cache_max = 16;
	r = zone ? dns_new_zone_opts(zone, &o, &err) : dns_new_system(&o, &err);
	if (r == NULL) {
		fprintf(stderr, "dnsq: %s\n", buf_str(&err));
		return 2;
	}
	for (i = 0; i < count; i++) {
		dns_answer_free(a);
		a = NULL;
		s = dns_query(r, argv[optind], (enum dns_type)type, &a);
	}
	printf("status: %s\n", status_names[s]);
	if (a != NULL) {
		printf("secure: %d\nttl: %u\n", a->secure, a->ttl);
		for (k = 0; k < a->n; k++)
			print_rr(&a->rr[k]);
	}
	dns_answer_free(a);
	dns_free(r);
	buf_free(&err);
	return 0;
}
