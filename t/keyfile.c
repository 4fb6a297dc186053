/*
 * keyfile.c - the test tools' message input and key files: see keyfile.h
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "keyfile.h"

/* keyfile_read_all - a stream into a buffer */
int
keyfile_read_all(FILE *fp, struct buf *b)
{
	char chunk[65536];
	size_t n;

	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		if (b->len + n > KEYFILE_MSG_MAX || buf_append(b, chunk, n) < 0)
			return -1;
	buf_append(b, "", 0);
	return ferror(fp) ? -1 : 0;
}

/* txt_value - unquote a key file value into out */
static void
txt_value(const char *p, struct buf *out)
{
	if (*p != '"') {
		buf_puts(out, p);
		return;
	}
	while (*p == '"') {
		for (p++; *p != '\0' && *p != '"'; p++) {
			if (*p == '\\' && p[1] != '\0')
				p++;
			buf_putc(out, *p);
		}
		if (*p == '"')
			p++;
		while (*p == ' ' || *p == '\t')
			p++;
	}
}

/* keyfile_lookup - the key callback over a key file */
enum dkim_key_status
keyfile_lookup(void *arg, const char *qname, struct buf *rec, int *secure)
{
	const char *path = arg;
	char line[16384], *v, *e;
	size_t ql = strlen(qname);
	FILE *fp;

	*secure = 0;
	if (path == NULL || (fp = fopen(path, "r")) == NULL)
		return DKIM_KEY_TEMPFAIL;
	while (fgets(line, sizeof(line), fp) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		v = line + strcspn(line, " \t");
		if (*v == '\0')
			continue;
		*v++ = '\0';
		e = line + strlen(line);
		if (e > line && e[-1] == '.')
			*--e = '\0';
		if ((size_t)(e - line) != ql || strcasecmp(line, qname) != 0)
			continue;
		v += strspn(v, " \t");
		fclose(fp);
		if (strcmp(v, "TEMPFAIL") == 0)
			return DKIM_KEY_TEMPFAIL;
		txt_value(v, rec);
		return DKIM_KEY_OK;
	}
	fclose(fp);
	return DKIM_KEY_NOTFOUND;
}
