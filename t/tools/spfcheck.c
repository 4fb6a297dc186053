/*
 * NAME
 *	spfcheck - evaluate SPF for one client from the command line
 * SYNOPSIS
 *	spfcheck [-s nameservers | -z zonefile | -d recordfile]
 *	    [-r receiver] [-t time] IP MAILFROM HELO
 * DESCRIPTION
 *	Runs check_host() for MAILFROM (the HELO identity when MAILFROM is
 *	empty) and prints "result:", "mechanism:", "reason:", "lookups:"
 *	and, for fail, "explanation:" and "explanation-default:" lines.
 *
 *	DNS answers come from the system resolver (-s: a list of servers
 *	instead of /etc/resolv.conf), from a master file (-z), or from a
 *	record file (-d): one record a line, NAME TAB TYPE TAB RDATA with
 *	RDATA in master-file syntax (\DDD escapes inside quoted strings) or
 *	the word TIMEOUT; TYPE is A, AAAA, MX, TXT, SPF, PTR or CNAME.
 * DIAGNOSTICS
 *	Exit status 0 when a result was printed, 2 on usage or setup errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "dns.h"
#include "dns_zone.h"
#include "spf.h"

static const struct {
	const char	*name;
	enum dns_type	 type;
} types[] = {
	{ "A", DNS_T_A }, { "AAAA", DNS_T_AAAA }, { "MX", DNS_T_MX },
	{ "TXT", DNS_T_TXT }, { "SPF", DNS_T_SPF }, { "PTR", DNS_T_PTR },
	{ "CNAME", DNS_T_CNAME },
};

/* usage - print the synopsis and exit */
static void
usage(void)
{
	fprintf(stderr, "usage: spfcheck [-s nameservers | -z zonefile | "
	    "-d recordfile] [-r receiver] [-t time] IP MAILFROM HELO\n");
	exit(2);
}

/* load_records - feed a record file to the zone backend */
static int
load_records(struct dns_resolver *dns, const char *path)
{
	FILE *fp;
	char *line = NULL, *name, *type, *rdata;
	size_t cap = 0, i;
	ssize_t n;
	struct buf err = BUF_INIT;
	int rc = 0, lineno = 0;

	if ((fp = fopen(path, "r")) == NULL) {
		perror(path);
		return -1;
	}
	while (rc == 0 && (n = getline(&line, &cap, fp)) > 0) {
		lineno++;
		if (line[n - 1] == '\n')
			line[n - 1] = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		name = line;
		if ((type = strchr(name, '\t')) == NULL ||
		    (rdata = strchr(type + 1, '\t')) == NULL) {
			fprintf(stderr, "%s:%d: bad line\n", path, lineno);
			rc = -1;
			break;
		}
		*type++ = '\0';
		*rdata++ = '\0';
		for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (strcasecmp(types[i].name, type) == 0)
				break;
		if (i == sizeof(types) / sizeof(types[0]) ||
		    dns_zone_add(dns, name, types[i].type, rdata, &err) != 0) {
			fprintf(stderr, "%s:%d: %s %s %s: %s\n", path, lineno,
			    name, type, rdata, buf_str(&err));
			rc = -1;
		}
	}
	free(line);
	buf_free(&err);
	fclose(fp);
	return rc;
}

int
main(int argc, char **argv)
{
	struct dns_opts opts;
	struct dns_resolver *dns;
	struct spf_request req;
	struct spf_response res;
	struct buf err = BUF_INIT;
	const char *servers = NULL, *zone = NULL, *records = NULL;
	int c;

	memset(&req, 0, sizeof(req));
	while ((c = getopt(argc, argv, "d:r:s:t:z:")) != -1) {
		switch (c) {
		case 'd':
			records = optarg;
			break;
		case 'r':
			req.receiver = optarg;
			break;
		case 's':
			servers = optarg;
			break;
		case 't':
			req.now = (time_t)strtoll(optarg, NULL, 10);
			break;
		case 'z':
			zone = optarg;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 3 || (servers && (zone || records)))
		usage();
	req.ip = argv[optind];
	req.sender = argv[optind + 1];
	req.helo = argv[optind + 2];
	if (zone != NULL || records != NULL) {
		dns = dns_new_zone(zone, &err);
	} else {
		memset(&opts, 0, sizeof(opts));
		opts.nameservers = servers;
		opts.cache_max = 1000;
		dns = dns_new_system(&opts, &err);
	}
	if (dns == NULL) {
		fprintf(stderr, "spfcheck: %s\n", buf_str(&err));
		return 2;
	}
	if (records != NULL && load_records(dns, records) != 0) {
		dns_free(dns);
		return 2;
	}
	if (req.sender[0] == '\0')
		spf_check_helo(dns, &req, &res);
	else
		spf_check_host(dns, &req, &res);
	printf("result: %s\n", spf_result_str(res.result));
	printf("identity: %s\n", res.identity ? res.identity : "");
	printf("mechanism: %s\n", res.mechanism ? res.mechanism : "");
	printf("reason: %s\n", res.reason ? res.reason : "");
	printf("lookups: %u\n", res.dns_lookups);
	if (res.explanation != NULL) {
		printf("explanation: %s\n", res.explanation);
		printf("explanation-default: %d\n", res.explanation_default);
	}
	spf_response_free(&res);
	dns_free(dns);
	buf_free(&err);
	return 0;
}
