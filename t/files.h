/*
 * files.h - test fixtures on disk, for the unit test programs
 *
 *	t_slurp(path, b)		the file into b (NUL-terminated);
 *					-1 when it cannot be read
 *	t_put(dir, name, text, mode)	write text to dir/name with mode,
 *					each "@D@" replaced by dir
 *	t_copy(dir, src, name, mode)	the file src into dir/name
 * t_put and t_copy exit the test program when they cannot do their job.
 * Header-only, like tap.h.
 */
#ifndef T_FILES_H
#define T_FILES_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"

__attribute__((unused))
static int
t_slurp(const char *path, struct buf *b)
{
	char chunk[8192];
	size_t n;
	FILE *fp;

	buf_reset(b);
	buf_append(b, "", 0);
	if ((fp = fopen(path, "rb")) == NULL)
		return -1;
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		buf_append(b, chunk, n);
	fclose(fp);
	return 0;
}

__attribute__((unused))
static void
t_put(const char *dir, const char *name, const char *text, int mode)
{
	char path[512];
	FILE *fp;
	const char *p;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fp = fopen(path, "w")) == NULL) {
		perror(path);
		exit(1);
	}
	for (p = text; *p != '\0'; p++) {
		if (strncmp(p, "@D@", 3) == 0) {
			fputs(dir, fp);
			p += 2;
		} else
			fputc(*p, fp);
	}
	fclose(fp);
	chmod(path, (mode_t)mode);
}

__attribute__((unused))
static void
t_copy(const char *dir, const char *src, const char *name, int mode)
{
	struct buf b = BUF_INIT;

	if (t_slurp(src, &b) < 0) {
		perror(src);
		exit(1);
	}
	t_put(dir, name, buf_str(&b), mode);
	buf_free(&b);
}

#endif
