/*
 * NAME
 *	daemon_opts - the command line every daemon shares
 * SYNOPSIS
 *	#include "daemon.h"
 *
 *	int	daemon_opts_parse(const struct daemon_desc *d, int argc,
 *		    char **argv, struct daemon_opts *o, struct buf *err);
 *	void	daemon_opts_free(struct daemon_opts *o);
 *	void	daemon_opts_usage(const struct daemon_desc *d);
 * DESCRIPTION
 *	daemon_opts_parse() reads the command line: -c FILE (or -x FILE, as
 *	OpenDKIM spells it), -C (the embedded default even when the default
 *	file exists), -f (foreground), -n (check the configuration and exit
 *	0 or 1), -V, -h, and keyword settings applied after the file:
 *	-O Keyword=value, and the option letters OpenDKIM and its siblings
 *	use (-p Socket, -P PidFile, -u UserID, plus the daemon's own, e.g.
 *	-d Domain), collected as "Keyword value" lines in o->overrides; the
 *	words after the options are left to the caller in o->argc/argv
 *	(pointers into argv).  d may be NULL: then only the common letters.
 *
 *	daemon_opts_free() releases o->overrides.  daemon_opts_usage()
 *	prints the usage text to stderr.
 * DIAGNOSTICS
 *	daemon_opts_parse() returns -1 with err set on a usage error (an
 *	unknown letter, a missing value, a value with a line break).
 * SEE ALSO
 *	daemon(3), conf(3).
 */
#include <stdio.h>
#include <string.h>

#include "daemon.h"

/* Option letters every daemon has, as OpenDKIM, OpenARC and OpenDMARC. */
static const struct daemon_alias common_aliases[] = {
	{ 'p', "Socket" },
	{ 'P', "PidFile" },
	{ 'u', "UserID" },
	{ 0, NULL },
};

/* alias_find - the keyword an option letter sets, or NULL */
static const char *
alias_find(const struct daemon_desc *d, int opt)
{
	const struct daemon_alias *a;

	for (a = common_aliases; a->opt != 0; a++)
		if (a->opt == opt)
			return a->keyword;
	for (a = d != NULL ? d->aliases : NULL; a != NULL && a->opt != 0; a++)
		if (a->opt == opt)
			return a->keyword;
	return NULL;
}

/* add_override - "Keyword value" from -O Keyword=value or an alias */
static int
add_override(struct daemon_opts *o, const char *kw, const char *val,
    struct buf *err)
{
	if (strpbrk(val, "\r\n") != NULL) {
		buf_printf(err, "a value on the command line cannot span lines");
		return -1;
	}
	buf_printf(&o->overrides, "%s %s\n", kw, val);
	return o->overrides.failed ? -1 : 0;
}

/* opt_override - -O Keyword=value */
static int
opt_override(struct daemon_opts *o, const char *arg, struct buf *err)
{
	const char *eq = strchr(arg, '=');
	char kw[128];

	if (eq == NULL || eq == arg || (size_t)(eq - arg) >= sizeof(kw)) {
		buf_printf(err, "-O needs Keyword=value, not \"%s\"", arg);
		return -1;
	}
	memcpy(kw, arg, (size_t)(eq - arg));
	kw[eq - arg] = '\0';
	return add_override(o, kw, eq + 1, err);
}

/* daemon_opts_parse - parse argv; -1 with err set on a usage error */
int
daemon_opts_parse(const struct daemon_desc *d, int argc, char **argv,
    struct daemon_opts *o, struct buf *err)
{
	const char *p, *arg, *kw;
	int i, opt;

	memset(o, 0, sizeof(*o));
	buf_init(&o->overrides);
	for (i = 1; i < argc; i++) {
		p = argv[i];
		if (strcmp(p, "--") == 0) {
			i++;
			break;
		}
		if (p[0] != '-' || p[1] == '\0')
			break;
		for (p++; *p != '\0'; p++) {
			opt = *p;
			switch (opt) {
			case 'f': o->foreground = 1; continue;
			case 'n': o->check = 1; continue;
			case 'V': o->version = 1; continue;
			case 'h': o->help = 1; continue;
			case 'C': o->builtin = 1; continue;
			}
			kw = alias_find(d, opt);
			if (opt != 'c' && opt != 'x' && opt != 'O' && kw == NULL) {
				buf_printf(err, "unknown option -%c", opt);
				return -1;
			}
			/* the rest of this word, or the next, is the value */
			if (p[1] != '\0')
				arg = p + 1;
			else if (i + 1 < argc)
				arg = argv[++i];
			else {
				buf_printf(err, "option -%c needs a value", opt);
				return -1;
			}
			if (opt == 'c' || opt == 'x')
				o->config = arg;
			else if ((opt == 'O' ? opt_override(o, arg, err) :
			    add_override(o, kw, arg, err)) < 0)
				return -1;
			break;
		}
	}
	o->argc = argc - i;
	o->argv = argv + i;
	return 0;
}

/* daemon_opts_free - release what daemon_opts_parse allocated */
void
daemon_opts_free(struct daemon_opts *o)
{
	buf_free(&o->overrides);
}

/* daemon_opts_usage - print the usage text to stderr */
void
daemon_opts_usage(const struct daemon_desc *d)
{
	const struct daemon_alias *a;

	fprintf(stderr,
	    "usage: %s [-CfhnV] [-c config] [-O keyword=value]... "
	    "[-p socket] [-P pidfile] [-u user]\n"
	    "  -c file  configuration file (default %s if present)\n"
	    "  -x file  the same, as OpenDKIM spells it\n"
	    "  -C       use the built-in default configuration, not %s\n"
	    "  -O kw=v  set a keyword, after the file (may be repeated)\n"
	    "  -p spec  Socket; -P file: PidFile; -u user: UserID\n",
	    d->name, d->conf_path != NULL ? d->conf_path : "none",
	    d->conf_path != NULL ? d->conf_path : "a file");
	for (a = d->aliases; a != NULL && a->opt != 0; a++)
		fprintf(stderr, "  -%c val   %s\n", a->opt, a->keyword);
	fprintf(stderr,
	    "  -f       stay in the foreground\n"
	    "  -n       check the configuration and exit\n"
	    "  -V       print the version and exit\n"
	    "  -h       print this help and exit\n%s",
	    d->usage_extra != NULL ? d->usage_extra : "");
}
