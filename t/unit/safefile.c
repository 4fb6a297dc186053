/*
 * safefile - a secret file is judged after it is opened: its own mode and
 * owner, every directory on its path and the directories holding the
 * symbolic links followed; symlinks between safe directories pass
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "safefile.h"
#include "tap.h"

static char top[4096];

/* at - top/rel in a static-free way: into out */
static const char *
at(char *out, size_t n, const char *rel)
{
	snprintf(out, n, "%s/%s", top, rel);
	return out;
}

/* mk - a directory with a mode */
static void
mk(const char *rel, mode_t mode)
{
	char p[4200];

	if (mkdir(at(p, sizeof(p), rel), mode) < 0 && errno != EEXIST)
		perror(p);
	chmod(p, mode);
}

/* put - a file with a mode */
static void
put(const char *rel, mode_t mode)
{
	char p[4200];
	FILE *f = fopen(at(p, sizeof(p), rel), "w");

	if (f != NULL) {
		fputs("secret\n", f);
		fclose(f);
	}
	chmod(p, mode);
}

/* link_to - rel is a symbolic link to target (relative to top if it
 * does not start with '/') */
static void
link_to(const char *rel, const char *target, int absolute)
{
	char p[4200], t[4200];

	if (symlink(absolute ? at(t, sizeof(t), target) : target,
	    at(p, sizeof(p), rel)) < 0)
		perror(p);
}

static const struct {
	const char *path;
	enum safefile_status want;
	const char *why;		/* a part of the reason, or NULL */
	const char *name;
} cases[] = {
	{ "safe/key", SAFEFILE_OK, NULL, "a 600 file in a 755 directory" },
	{ "safe/shown", SAFEFILE_EXPOSED, "readable by others",
	    "a 644 file: others may read it" },
	{ "safe/grpw", SAFEFILE_EXPOSED, "writable by others",
	    "a 620 file: its group may write it" },
	{ "open/key", SAFEFILE_UNSAFE, "/open is writable by others",
	    "a file in a directory others may write" },
	{ "open/link", SAFEFILE_UNSAFE, "/open is writable by others",
	    "a symlink in that directory to a safe file" },
	{ "safe/toopen", SAFEFILE_UNSAFE, "/open is writable by others",
	    "a safe symlink to a file in that directory" },
	{ "safe/opendir/link", SAFEFILE_UNSAFE, "/open is writable by others",
	    "a path through a symlink to that directory" },
	{ "safe/rel", SAFEFILE_OK, NULL,
	    "a relative symlink between safe directories" },
	{ "safe/abs", SAFEFILE_OK, NULL,
	    "an absolute symlink between safe directories" },
	{ "safe/../safe/./key", SAFEFILE_OK, NULL, "dot and dot-dot" },
	{ "sticky/key", SAFEFILE_OK, NULL,
	    "a sticky directory others may write (as /tmp)" },
	{ "closed/open/key", SAFEFILE_OK, NULL,
	    "below a directory no one else may enter" },
	{ "closed/out", SAFEFILE_UNSAFE, "/open is writable by others",
	    "a link leading out of that directory is judged again" },
	{ "safe/loop", SAFEFILE_IO, NULL, "a symlink loop" },
	{ "safe/missing", SAFEFILE_IO, NULL, "a missing file" },
};

int
main(void)
{
	char p[4200], bad[4200];
	const char *tmp = getenv("TMPDIR");
	struct buf why = BUF_INIT;
	enum safefile_status st;
	size_t i;
	int fd, errs[2];
	const char *paths[2];

	snprintf(top, sizeof(top), "%s/safefile.XXXXXX", tmp != NULL &&
	    *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(top) == NULL) {
		printf("1..0 # SKIP cannot make a directory: %s\n",
		    strerror(errno));
		return 0;
	}
	chmod(top, 0755);
	mk("safe", 0755);
	mk("safe2", 0755);
	mk("open", 0777);
	mk("sticky", 01777);
	mk("closed", 0700);
	mk("closed/open", 0777);
	put("safe/key", 0600);
	put("safe/shown", 0644);
	put("safe/grpw", 0620);
	put("safe2/key", 0600);
	put("open/key", 0600);
	put("sticky/key", 0600);
	put("closed/open/key", 0600);
	link_to("open/link", "safe/key", 1);
	link_to("safe/toopen", "open/key", 1);
	link_to("safe/opendir", "open", 1);
	link_to("safe/rel", "../safe2/key", 0);
	link_to("safe/abs", "safe2/key", 1);
	link_to("closed/out", "open/key", 1);
	link_to("safe/loop", "loop", 0);

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_reset(&why);
		st = safefile_open(at(p, sizeof(p), cases[i].path), geteuid(),
		    getegid(), &fd, &why);
		ok(st == cases[i].want && (cases[i].why == NULL ||
		    strstr(buf_str(&why), cases[i].why) != NULL) &&
		    ((fd >= 0) == (st != SAFEFILE_IO)), "%s: %s (%s)",
		    cases[i].name, safefile_strerror(st), buf_str(&why));
		if (fd >= 0)
			close(fd);
	}

	/* the verdict is about the opened file, which is then read */
	buf_reset(&why);
	st = safefile_open(at(p, sizeof(p), "safe/abs"), geteuid(),
	    getegid(), &fd, &why);
	ok(st == SAFEFILE_OK && fd >= 0 && read(fd, bad, 7) == 7 &&
	    memcmp(bad, "secret\n", 7) == 0,
	    "the descriptor returned reads the file judged");
	if (fd >= 0)
		close(fd);

	/* the file's owner: another user's file is not safe */
	if (geteuid() == 0) {
		put("safe/theirs", 0600);
		if (chown(at(p, sizeof(p), "safe/theirs"), 65534, 65534) == 0) {
			buf_reset(&why);
			st = safefile_open(p, 0, 0, &fd, &why);
			ok(st == SAFEFILE_UNSAFE && strstr(buf_str(&why),
			    "belongs to uid 65534") != NULL,
			    "a file another user owns: %s", buf_str(&why));
			if (fd >= 0)
				close(fd);
		}
		paths[0] = at(p, sizeof(p), "safe/key");
		paths[1] = at(bad, sizeof(bad), "safe/shown");
		errs[0] = errs[1] = -1;
		st = safefile_readable_as(paths, 2, "nobody", 65534, 65534,
		    errs) == 0 ? SAFEFILE_OK : SAFEFILE_IO;
		ok(st == SAFEFILE_OK && errs[0] == EACCES,
		    "readable_as nobody: not the 600 file (%s)",
		    strerror(errs[0]));
		if (errs[1] == EACCES)	/* TMPDIR closed to others */
			ok(1, "# SKIP nobody cannot reach %s", top);
		else
			ok(errs[1] == 0, "readable_as nobody: the 644 file "
			    "(%s)", strerror(errs[1]));
	} else
		ok(1, "# SKIP ownership checks need root");

	buf_free(&why);
	snprintf(p, sizeof(p), "rm -rf '%s'", top);
	if (system(p) != 0)
		diag("cannot remove %s", top);
	return done_testing();
}
