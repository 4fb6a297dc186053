/*
 * NAME
 *	milter-dkim-genkey - make a DKIM signing key and the record to publish
 * SYNOPSIS
 *	milter-dkim-genkey [-fTvV] [-b bits] [-d domain] [-D directory]
 *	    [-s selector] [-t rsa|ed25519]
 * DESCRIPTION
 *	Generates a private key (RSA of 1024 to 4096 bits, 2048 by default,
 *	or Ed25519) and writes two files into the directory:
 *		SELECTOR.private	the key as PKCS#8 PEM, mode 0600
 *		SELECTOR.txt		the TXT record as a master-file entry
 *	The entry is BIND syntax, the value split into quoted strings of at
 *	most 255 bytes, preceded by a comment naming the domain.  Standard
 *	output repeats the entry and gives the value in one piece, for the
 *	web forms of DNS providers.
 *
 *	Files are created with O_CREAT|O_EXCL and their final mode, so an
 *	existing file is never overwritten and the key is never readable by
 *	others, not even for a moment.  With -f a file is written under a
 *	temporary name in the same directory and renamed over the old one.
 *
 *	The domain defaults to the host's domain, as opendkim-genkey does:
 *	the host name after its first dot, else the same of the canonical
 *	name, else the "domain" or first "search" entry of resolv.conf.
 * DIAGNOSTICS
 *	Exit 0 on success, 1 on failure (message on standard error), 2 on
 *	usage errors.
 * SEE ALSO
 *	milter-dkim-genkey(8), milter-dkim-testkey(8)
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "crypto.h"
#include "dkim.h"
#include "dns.h"

#ifndef VERSION
#define VERSION "unknown"
#endif

#define PROG		"milter-dkim-genkey"
#define BITS_MIN	1024
#define BITS_MAX	4096
#define BITS_DEFAULT	2048
#define TXT_STRING_MAX	255	/* bytes of one character-string */
#define LABEL_MAX	63	/* bytes of one label */
#define RESOLV_CONF	"/etc/resolv.conf"

struct genkey {
	enum crypto_keytype type;
	unsigned	 bits;
	const char	*domain;
	const char	*selector;
	const char	*dir;
	int		 force;
	int		 testing;	/* publish t=y */
	int		 verbose;
};

/* usage - print the synopsis; exit with status */
static void
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: " PROG " [-fTvV] [-b bits] [-d domain] [-D directory]\n"
	    "\t[-s selector] [-t rsa|ed25519]\n"
	    "\t-b bits\t\tRSA key size, %u to %u (default %u)\n"
	    "\t-d domain\tthe signing domain (default: the host's domain)\n"
	    "\t-D directory\twhere to write the files (default .)\n"
	    "\t-f\t\toverwrite existing files\n"
	    "\t-s selector\tselector and file name (default \"default\")\n"
	    "\t-t type\t\trsa (default) or ed25519\n"
	    "\t-T\t\tpublish the key in testing mode (t=y)\n"
	    "\t-v\t\treport each step on standard error\n"
	    "\t-V\t\tprint the version\n",
	    BITS_MIN, BITS_MAX, BITS_DEFAULT);
	exit(status);
}

/* fail - print a message and exit 1 */
static void __attribute__((noreturn, format(printf, 1, 2)))
fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* domain_of - the part of a host name after its first dot, or NULL */
static const char *
domain_of(const char *host)
{
	const char *dot = strchr(host, '.');

	return dot != NULL && dot[1] != '\0' ? dot + 1 : NULL;
}

/* resolv_domain - the "domain" or first "search" name of resolv.conf */
static int
resolv_domain(struct buf *out)
{
	char line[1024], word[16], name[256];
	FILE *fp;
	int found = 0;

	if ((fp = fopen(RESOLV_CONF, "r")) == NULL)
		return 0;
	while (!found && fgets(line, sizeof(line), fp) != NULL)
		if (sscanf(line, "%15s %255s", word, name) == 2 &&
		    (strcmp(word, "domain") == 0 || strcmp(word, "search") == 0))
			found = buf_puts(out, name) == 0;
	fclose(fp);
	return found;
}

/* host_domain - the host's domain, as opendkim-genkey finds it */
static int
host_domain(struct buf *out)
{
	struct addrinfo hints, *res = NULL;
	char host[HOST_NAME_MAX + 1];
	const char *d = NULL;

	if (gethostname(host, sizeof(host)) != 0)
		return resolv_domain(out);
	host[sizeof(host) - 1] = '\0';
	if ((d = domain_of(host)) != NULL)
		return buf_puts(out, d) == 0;
	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_CANONNAME;
	if (getaddrinfo(host, NULL, &hints, &res) == 0 && res != NULL &&
	    res->ai_canonname != NULL &&
	    (d = domain_of(res->ai_canonname)) != NULL)
		buf_puts(out, d);
	if (res != NULL)
		freeaddrinfo(res);
	if (d != NULL)
		return !out->failed;
	return resolv_domain(out);
}

/* name_valid - sub-domain *("." sub-domain) (RFC 6376 3.1, 3.5) */
static int
name_valid(const char *s)
{
	size_t len = 0;

	for (;; s++) {
		if (*s == '.' || *s == '\0') {
			if (len == 0 || s[-1] == '-')
				return 0;
			if (*s == '\0')
				return 1;
			len = 0;
		} else if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || (*s == '-' && len > 0)) {
			if (++len > LABEL_MAX)
				return 0;
		} else
			return 0;
	}
}

/* make_record - the key record, with t=y before p= when asked */
static void
make_record(const struct genkey *g, const struct crypto_key *k,
    struct buf *rec)
{
	struct buf tmp = BUF_INIT;
	const char *p;

	if (dkim_key_record(k, &tmp) != 0 ||
	    (p = strstr(tmp.s, "p=")) == NULL)
		fail("cannot make the key record: out of memory");
	buf_append(rec, tmp.s, (size_t)(p - tmp.s));
	if (g->testing)
		buf_puts(rec, "t=y; ");
	buf_puts(rec, p);
	buf_free(&tmp);
	if (rec->failed)
		fail("out of memory");
}

/* zone_entry - the master-file text for the record */
static void
zone_entry(const struct genkey *g, const struct crypto_key *k,
    const char *rec, struct buf *out)
{
	const char *p = strstr(rec, "p=");
	size_t n;

	if (g->type == CRYPTO_KEY_ED25519)
		buf_printf(out, "; DKIM key %s for %s (ed25519)\n",
		    g->selector, g->domain);
	else
		buf_printf(out, "; DKIM key %s for %s (rsa, %u bits)\n",
		    g->selector, g->domain, crypto_key_bits(k));
	buf_printf(out, "%s._domainkey\tIN\tTXT\t( \"%.*s\"", g->selector,
	    (int)(p - rec), rec);
	for (; *p != '\0'; p += n) {
		n = strlen(p);
		if (n > TXT_STRING_MAX)
			n = TXT_STRING_MAX;
		buf_printf(out, "\n\t\"%.*s\"", (int)n, p);
	}
	buf_puts(out, " )\n");
	if (out->failed)
		fail("out of memory");
}

/* write_all - write a whole buffer; 0 or -1 with errno */
static int
write_all(int fd, const char *s, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, s, len)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

/* write_new - create path (O_EXCL, mode) and write data; 0 or -1 */
static int
write_new(const char *path, mode_t mode, const struct buf *data)
{
	int fd, saved;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, mode)) < 0)
		return -1;
	if (write_all(fd, data->s, data->len) != 0 || fsync(fd) != 0) {
		saved = errno;
		close(fd);
		unlink(path);
		errno = saved;
		return -1;
	}
	if (close(fd) != 0) {
		saved = errno;
		unlink(path);
		errno = saved;
		return -1;
	}
	return 0;
}

/* write_replace - write data under a temporary name, rename over path */
static int
write_replace(const char *path, mode_t mode, const struct buf *data)
{
	struct buf tmp = BUF_INIT;
	int rc = -1, saved, i;

	for (i = 0; i < 100 && rc != 0; i++) {
		buf_reset(&tmp);
		if (buf_printf(&tmp, "%s.%ld.%d.tmp", path, (long)getpid(),
		    i) < 0) {
			errno = ENOMEM;
			break;
		}
		rc = write_new(tmp.s, mode, data);
		if (rc != 0 && errno != EEXIST)
			break;
	}
	if (rc == 0 && rename(tmp.s, path) != 0) {
		saved = errno;
		unlink(tmp.s);
		errno = saved;
		rc = -1;
	}
	buf_free(&tmp);
	return rc;
}

/* write_file - create one output file, or replace it with -f */
static int
write_file(const struct genkey *g, const char *path, mode_t mode,
    const struct buf *data)
{
	int rc;

	rc = g->force ? write_replace(path, mode, data) :
	    write_new(path, mode, data);
	if (rc != 0)
		fprintf(stderr, PROG ": %s: %s%s\n", path, strerror(errno),
		    errno == EEXIST ? " (use -f to overwrite it)" : "");
	else if (g->verbose)
		fprintf(stderr, PROG ": wrote %s\n", path);
	return rc;
}

/* check_free - fail early when an output file exists (without -f) */
static void
check_free(const struct genkey *g, const char *path)
{
	struct stat st;

	if (!g->force && lstat(path, &st) == 0)
		fail("%s already exists (use -f to overwrite it)", path);
}

/* print_result - tell the administrator what to publish */
static void
print_result(const struct genkey *g, const char *privpath,
    const char *txtpath, const char *rec, const struct buf *zone)
{
	printf("Private key: %s (keep it secret; the signer must be able to "
	    "read it)\n", privpath);
	printf("DNS record:  %s\n\n", txtpath);
	printf("Zone file entry for the zone %s (BIND syntax):\n%s\n",
	    g->domain, zone->s);
	printf("For a DNS provider's web form (one TXT record):\n");
	printf("Name:  %s._domainkey.%s\n", g->selector, g->domain);
	printf("Type:  TXT\n");
	printf("Value: %s\n", rec);
}

/* genkey - make the key, write both files, print the record */
static int
genkey(const struct genkey *g)
{
	struct buf privpath = BUF_INIT, txtpath = BUF_INIT, pem = BUF_INIT;
	struct buf rec = BUF_INIT, zone = BUF_INIT;
	struct crypto_key *k = NULL;
	enum crypto_status st;
	int rc = 1;

	buf_printf(&privpath, "%s/%s.private", g->dir, g->selector);
	buf_printf(&txtpath, "%s/%s.txt", g->dir, g->selector);
	if (privpath.failed || txtpath.failed)
		fail("out of memory");
	check_free(g, privpath.s);
	check_free(g, txtpath.s);
	if (g->verbose && g->type == CRYPTO_KEY_ED25519)
		fprintf(stderr, PROG ": generating an Ed25519 key\n");
	else if (g->verbose)
		fprintf(stderr, PROG ": generating a %u-bit RSA key\n",
		    g->bits);
	if ((st = crypto_key_generate(g->type, g->bits, &k)) != CRYPTO_OK)
		fail("cannot generate the key: %s", crypto_strerror(st));
	if ((st = crypto_key_private_pem(k, &pem)) != CRYPTO_OK)
		fail("cannot encode the key: %s", crypto_strerror(st));
	make_record(g, k, &rec);
	zone_entry(g, k, rec.s, &zone);
	if (write_file(g, privpath.s, 0600, &pem) == 0) {
		if (write_file(g, txtpath.s, 0644, &zone) == 0)
			rc = 0;
		else if (!g->force)
			unlink(privpath.s);
	}
	if (rc == 0)
		print_result(g, privpath.s, txtpath.s, rec.s, &zone);
	crypto_key_free(k);
	if (pem.s != NULL)
		explicit_bzero(pem.s, pem.len);
	buf_free(&pem);
	buf_free(&rec);
	buf_free(&zone);
	buf_free(&privpath);
	buf_free(&txtpath);
	return rc;
}

/* parse_bits - the -b argument */
static unsigned
parse_bits(const char *s)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (*s < '0' || *s > '9' || *end != '\0' || errno != 0 ||
	    v < BITS_MIN || v > BITS_MAX)
		fail("bad key size \"%s\": RSA keys have %u to %u bits "
		    "(%u recommended)", s, BITS_MIN, BITS_MAX, BITS_DEFAULT);
	return (unsigned)v;
}

/* parse_type - the -t argument */
static enum crypto_keytype
parse_type(const char *s)
{
	if (strcmp(s, "rsa") == 0)
		return CRYPTO_KEY_RSA;
	if (strcmp(s, "ed25519") == 0)
		return CRYPTO_KEY_ED25519;
	fail("bad key type \"%s\": rsa or ed25519", s);
}

int
main(int argc, char **argv)
{
	struct genkey g = { CRYPTO_KEY_RSA, BITS_DEFAULT, NULL, "default",
	    ".", 0, 0, 0 };
	struct buf hostdom = BUF_INIT, dom = BUF_INIT;
	const char *bits = NULL;
	int ch, rc;

	while ((ch = getopt(argc, argv, "b:d:D:fhs:t:TvV")) != -1) {
		switch (ch) {
		case 'b':
			bits = optarg;
			break;
		case 'd':
			g.domain = optarg;
			break;
		case 'D':
			g.dir = optarg;
			break;
		case 'f':
			g.force = 1;
			break;
		case 'h':
			usage(0);
			break;
		case 's':
			g.selector = optarg;
			break;
		case 't':
			g.type = parse_type(optarg);
			break;
		case 'T':
			g.testing = 1;
			break;
		case 'v':
			g.verbose = 1;
			break;
		case 'V':
			printf(PROG " %s\n", VERSION);
			return 0;
		default:
			usage(2);
		}
	}
	if (optind != argc)
		usage(2);
	if (bits != NULL && g.type == CRYPTO_KEY_ED25519)
		fail("-b applies to RSA keys only (Ed25519 keys have a fixed "
		    "size)");
	if (bits != NULL)
		g.bits = parse_bits(bits);
	if (!name_valid(g.selector))
		fail("bad selector \"%s\": letters, digits and hyphens, in "
		    "labels separated by dots", g.selector);
	if (g.domain == NULL) {
		if (!host_domain(&hostdom))
			fail("cannot find the host's domain name; give it "
			    "with -d domain");
		g.domain = hostdom.s;
		if (g.verbose)
			fprintf(stderr, PROG ": domain %s (the host's)\n",
			    g.domain);
	}
	if (buf_puts(&dom, g.domain) < 0)
		fail("out of memory");
	if (dom.len > 1 && dom.s[dom.len - 1] == '.')
		buf_truncate(&dom, dom.len - 1);
	if (!dns_name_valid(dom.s) || !name_valid(dom.s))
		fail("bad domain name \"%s\"", g.domain);
	g.domain = dom.s;
	rc = genkey(&g);
	buf_free(&hostdom);
	buf_free(&dom);
	return rc;
}
