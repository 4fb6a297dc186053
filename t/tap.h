/*
 * tap.h - minimal Test Anything Protocol output for unit tests
 *
 *	ok(cond, fmt, ...)	one test point
 *	is_str(got, want, name)	string comparison with diagnostics
 *	is_int(got, want, name)	integer comparison with diagnostics
 *	skip(why, fmt, ...)	a test point skipped for reason WHY
 *	diag(fmt, ...)		a comment line
 *	done_testing()		prints the plan; returns the exit status
 * Header-only: each test is one .c file with its own main().
 */
#ifndef T_TAP_H
#define T_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

__attribute__((format(printf, 2, 3), unused))
static int
ok(int cond, const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	printf("%sok %d - ", cond ? "" : "not ", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond)
		tap_failed++;
	fflush(stdout);
	return cond;
}

__attribute__((format(printf, 2, 3), unused))
static void
skip(const char *why, const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	printf("ok %d - ", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(" # SKIP %s\n", why);
	fflush(stdout);
}

__attribute__((format(printf, 1, 2), unused))
static void
diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

__attribute__((unused))
static int
is_str(const char *got, const char *want, const char *name)
{
	int r = got != NULL && want != NULL ? strcmp(got, want) == 0 :
	    got == want;

	ok(r, "%s", name);
	if (!r)
		diag("got '%s', want '%s'", got ? got : "(null)",
		    want ? want : "(null)");
	return r;
}

__attribute__((unused))
static int
is_int(long got, long want, const char *name)
{
	ok(got == want, "%s", name);
	if (got != want)
		diag("got %ld, want %ld", got, want);
	return got == want;
}

__attribute__((unused))
static int
done_testing(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
