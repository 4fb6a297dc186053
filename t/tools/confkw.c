/*
 * NAME
 *	confkw - print the configuration keywords a daemon accepts
 * SYNOPSIS
 *	confkw -l
 *	confkw DAEMON
 *	confkw -d DAEMON
 * DESCRIPTION
 *	Reads the keyword tables linked into the daemons (the same arrays
 *	the configuration loader uses), so that tests compare the manual
 *	pages with what the binaries accept rather than with the C text.
 *
 *	With -l, prints the names of the daemons whose table is known, one
 *	per line.  With a daemon name (e.g. milter-dkim), prints one line
 *	per keyword of its table, in table order, four fields separated by
 *	tabs:
 *		NAME	TYPE	DEFAULT	EXTRA
 *	TYPE is string, boolean, integer or ignored; DEFAULT is the
 *	default text or "-" when there is none; EXTRA is "MIN..MAX" for an
 *	integer, the reason for an ignored keyword, "-" otherwise.
 *
 *	With -d and a daemon name, prints the configuration text built into
 *	the daemon, used when it finds no configuration file.
 *
 *	A new daemon's table is added to the tables[] array below.
 * DIAGNOSTICS
 *	Exit 0 on success, 2 on bad usage or an unknown daemon.
 */
#include <stdio.h>
#include <string.h>

#include "conf.h"

/* The daemons' tables (milter-dkim/dkimd_conf.c, milter-spf/spfd_conf.c,
 * milter-arc/arcd_conf.c, milter-dmarc/dmarcd_conf.c). */
extern const struct conf_kw dkimd_conf_table[];
extern const size_t dkimd_conf_ntable;
extern const char dkimd_conf_default[];
extern const struct conf_kw spfd_conf_table[];
extern const size_t spfd_conf_ntable;
extern const char spfd_conf_default[];
extern const struct conf_kw arcd_conf_table[];
extern const size_t arcd_conf_ntable;
extern const char arcd_conf_default[];
extern const struct conf_kw dmarcd_conf_table[];
extern const size_t dmarcd_conf_ntable;
extern const char dmarcd_conf_default[];

static const struct {
	const char		*daemon;
	const struct conf_kw	*table;
	const size_t		*ntable;
	const char		*builtin;	/* embedded default */
} tables[] = {
	{ "milter-dkim", dkimd_conf_table, &dkimd_conf_ntable,
	    dkimd_conf_default },
	{ "milter-spf", spfd_conf_table, &spfd_conf_ntable,
	    spfd_conf_default },
	{ "milter-arc", arcd_conf_table, &arcd_conf_ntable,
	    arcd_conf_default },
	{ "milter-dmarc", dmarcd_conf_table, &dmarcd_conf_ntable,
	    dmarcd_conf_default },
};

#define NTABLES	(sizeof(tables) / sizeof(tables[0]))

/* type_name - the word for a keyword type */
static const char *
type_name(enum conf_type t)
{
	switch (t) {
	case CONF_STR:
		return "string";
	case CONF_BOOL:
		return "boolean";
	case CONF_INT:
		return "integer";
	case CONF_IGNORED:
		return "ignored";
	}
	return "unknown";
}

/* print_table - one line per keyword */
static void
print_table(const struct conf_kw *t, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		printf("%s\t%s\t%s\t", t[i].name, type_name(t[i].type),
		    t[i].def != NULL ? t[i].def : "-");
		if (t[i].type == CONF_INT)
			printf("%ld..%ld\n", t[i].min, t[i].max);
		else if (t[i].type == CONF_IGNORED && t[i].note != NULL)
			printf("%s\n", t[i].note);
		else
			printf("-\n");
	}
}

int
main(int argc, char **argv)
{
	const char *name;
	size_t i;
	int builtin;

	if (argc == 2 && strcmp(argv[1], "-l") == 0) {
		for (i = 0; i < NTABLES; i++)
			printf("%s\n", tables[i].daemon);
		return 0;
	}
	builtin = argc == 3 && strcmp(argv[1], "-d") == 0;
	if (argc != 2 && !builtin) {
		fprintf(stderr, "usage: confkw -l | confkw [-d] DAEMON\n");
		return 2;
	}
	name = argv[argc - 1];
	for (i = 0; i < NTABLES; i++) {
		if (strcmp(name, tables[i].daemon) != 0)
			continue;
		if (builtin)
			fputs(tables[i].builtin, stdout);
		else
			print_table(tables[i].table, *tables[i].ntable);
		return 0;
	}
	fprintf(stderr, "confkw: no keyword table for %s\n", name);
	return 2;
}
