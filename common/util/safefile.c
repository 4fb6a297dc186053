/*
 * NAME
 *	safefile - open a secret file, then judge who else could read or
 *	replace it
 * SYNOPSIS
 *	#include "safefile.h"
 *
 *	enum safefile_status safefile_open(const char *path, uid_t uid,
 *		    gid_t gid, int *fd, struct buf *why);
 *	int	safefile_readable_as(const char *const *paths, size_t n,
 *		    const char *user, uid_t uid, gid_t gid, int *errs);
 * DESCRIPTION
 *	safefile_open() opens path first and judges what it opened, so that
 *	the verdict is about the file that will be read, not about whatever
 *	the name pointed at a moment before.  The file itself (fstat): a
 *	regular file that others may not read, that neither its group nor
 *	others may write (SAFEFILE_EXPOSED otherwise), owned by root or by
 *	uid (SAFEFILE_UNSAFE otherwise).
 *
 *	Then the path is followed again, one name at a time, as the kernel
 *	did: each directory a name is looked up in is judged, including
 *	the directories holding the symbolic links followed on the way (a
 *	link lying in a directory others may write can be pointed
 *	elsewhere by them, so it is as unsafe as a file lying there).  A
 *	directory is unsafe when others may write it, unless it is sticky
 *	(as /tmp: entries stay their owners'); when its group may write it
 *	and the group is neither root's nor gid; when a user other than
 *	root and uid owns it and may write it.  As in OpenDKIM, a directory
 *	that neither its group nor others may enter ends the judging of
 *	what lies below it (no one else gets there), until a link leads
 *	the path out of it.  Last, the file the path ends at must be the
 *	one opened (device and inode), or the path changed meanwhile.
 *
 *	safefile_readable_as() forks a child that becomes user (initgroups,
 *	setgid, setuid) and tries to open each path; the parent collects
 *	one errno per path through a pipe.  It is meant for a configuration
 *	check run as root, before a daemon drops its privileges.
 * DIAGNOSTICS
 *	An enum safefile_status; safefile_strerror() names it.  On
 *	SAFEFILE_IO, errno says why; why holds one sentence naming the
 *	file or directory at fault.
 * SEE ALSO
 *	OpenDKIM's dkimf_securefile() for the rules this follows.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "safefile.h"

/* Where the walk is: the path resolved so far and what is left. */
struct walk {
	struct buf	 done;		/* resolved, no links; "" is "/" */
	struct buf	 todo;		/* names still to look up */
	struct buf	 sealed;	/* a directory no one else may enter,
					   or "" */
	int		 links;
};

/* dir_name - the directory as text ("" is the root) */
static const char *
dir_name(const struct buf *b)
{
	return b->len > 0 ? b->s : "/";
}

/* under_sealed - whether dir lies at or below the sealed directory */
static int
under_sealed(const struct walk *w)
{
	size_t n = w->sealed.len;

	if (n == 0)
		return 0;
	if (strcmp(dir_name(&w->sealed), "/") == 0)
		return 1;
	return w->done.len >= n && strncmp(w->done.s, w->sealed.s, n) == 0 &&
	    (w->done.s[n] == '\0' || w->done.s[n] == '/');
}

/* judge_dir - the directory w->done, which a name is looked up in */
static enum safefile_status
judge_dir(struct walk *w, uid_t uid, gid_t gid, struct buf *why)
{
	const char *d = dir_name(&w->done);
	struct stat st;

	if (under_sealed(w))
		return SAFEFILE_OK;
	if (stat(d, &st) < 0)
		return SAFEFILE_IO;
	if ((st.st_mode & S_IWOTH) && (st.st_mode & S_ISVTX))
		;		/* /tmp: entries stay their owners' */
	else if (st.st_mode & S_IWOTH) {
		buf_printf(why, "directory %s is writable by others", d);
		return SAFEFILE_UNSAFE;
	} else if ((st.st_mode & S_IWGRP) && st.st_gid != 0 &&
	    st.st_gid != gid) {
		buf_printf(why, "directory %s is writable by its group (gid "
		    "%u)", d, (unsigned)st.st_gid);
		return SAFEFILE_UNSAFE;
	} else if ((st.st_mode & S_IWUSR) && st.st_uid != 0 &&
	    st.st_uid != uid) {
		buf_printf(why, "directory %s belongs to uid %u, neither root "
		    "nor the milter's user", d, (unsigned)st.st_uid);
		return SAFEFILE_UNSAFE;
	}
	if (!(st.st_mode & (S_IXGRP | S_IXOTH))) {
		buf_reset(&w->sealed);	/* no one else gets below here */
		buf_puts(&w->sealed, d);
	}
	return w->sealed.failed ? SAFEFILE_NOMEM : SAFEFILE_OK;
}

/* next_name - take the next name off w->todo into name; 0 when none */
static int
next_name(struct walk *w, struct buf *name)
{
	const char *p = buf_str(&w->todo), *e;
	size_t off;

	while (*p == '/')
		p++;
	if (*p == '\0')
		return 0;
	e = p + strcspn(p, "/");
	buf_reset(name);
	buf_append(name, p, (size_t)(e - p));
	off = (size_t)(e - buf_str(&w->todo));
	memmove(w->todo.s, w->todo.s + off, w->todo.len - off + 1);
	w->todo.len -= off;
	return 1;
}

/* follow_link - replace the link cand by its target in front of todo */
static enum safefile_status
follow_link(struct walk *w, const char *cand, off_t size)
{
	struct buf rest = BUF_INIT;
	char *target;
	ssize_t n;
	size_t cap = size > 0 && size < 65536 ? (size_t)size + 1 : 4096;

	if (++w->links > SAFEFILE_MAXLINKS) {
		errno = ELOOP;
		return SAFEFILE_IO;
	}
	if ((target = malloc(cap)) == NULL)
		return SAFEFILE_NOMEM;
	if ((n = readlink(cand, target, cap)) < 0 || (size_t)n >= cap) {
		if (n >= 0)
			errno = ENAMETOOLONG;
		free(target);
		return SAFEFILE_IO;
	}
	target[n] = '\0';
	buf_puts(&rest, target);
	buf_putc(&rest, '/');
	buf_puts(&rest, buf_str(&w->todo));
	free(target);
	if (rest.failed) {
		buf_free(&rest);
		return SAFEFILE_NOMEM;
	}
	buf_free(&w->todo);
	w->todo = rest;
	if (rest.s[0] == '/')
		buf_reset(&w->done);	/* from the root again */
	return SAFEFILE_OK;
}

/* walk_path - follow path, judging each directory; *end is what it ends
 * at (lstat) */
static enum safefile_status
walk_path(struct walk *w, const char *path, uid_t uid, gid_t gid,
    struct stat *end, struct buf *why)
{
	struct buf name = BUF_INIT, cand = BUF_INIT;
	enum safefile_status st = SAFEFILE_OK;
	char *cwd, *slash;
	int found = 0;

	if (path[0] != '/') {
		if ((cwd = getcwd(NULL, 0)) == NULL)
			return SAFEFILE_IO;
		buf_puts(&w->todo, cwd);
		buf_putc(&w->todo, '/');
		free(cwd);
	}
	buf_puts(&w->todo, path);
	while (st == SAFEFILE_OK && next_name(w, &name)) {
		if (strcmp(name.s, ".") == 0)
			continue;
		if (strcmp(name.s, "..") == 0) {
			if ((slash = strrchr(dir_name(&w->done), '/')) != NULL
			    && w->done.len > 0)
				buf_truncate(&w->done, (size_t)(slash -
				    w->done.s));
			found = 0;
			continue;
		}
		if ((st = judge_dir(w, uid, gid, why)) != SAFEFILE_OK)
			break;
		buf_reset(&cand);
		buf_printf(&cand, "%s/%s", w->done.len > 0 ? w->done.s : "",
		    name.s);
		if (cand.failed || name.failed) {
			st = SAFEFILE_NOMEM;
			break;
		}
		if (lstat(cand.s, end) < 0) {
			st = SAFEFILE_IO;
			break;
		}
		if (S_ISLNK(end->st_mode)) {
			st = follow_link(w, cand.s, end->st_size);
			found = 0;
			continue;
		}
		buf_reset(&w->done);
		buf_puts(&w->done, cand.s);
		found = 1;
	}
	if (st == SAFEFILE_OK && (w->done.failed || w->todo.failed))
		st = SAFEFILE_NOMEM;
	if (st == SAFEFILE_OK && !found && stat(dir_name(&w->done), end) < 0)
		st = SAFEFILE_IO;	/* ends in "..": judge that */
	buf_free(&name);
	buf_free(&cand);
	return st;
}

/* judge_file - the opened file itself */
static enum safefile_status
judge_file(const struct stat *st, uid_t uid,
    struct buf *why)
{
	if (!S_ISREG(st->st_mode)) {
		buf_puts(why, "it is not a regular file");
		return SAFEFILE_UNSAFE;
	}
	if (st->st_mode & (S_IROTH | S_IWOTH | S_IWGRP)) {
		buf_printf(why, "%s by others", (st->st_mode & S_IROTH) ?
		    "readable" : "writable");
		return SAFEFILE_EXPOSED;
	}
	if (st->st_uid != 0 && st->st_uid != uid) {
		buf_printf(why, "it belongs to uid %u, neither root nor the "
		    "milter's user", (unsigned)st->st_uid);
		return SAFEFILE_UNSAFE;
	}
	return SAFEFILE_OK;
}

/* safefile_open - see safefile.h */
enum safefile_status
safefile_open(const char *path, uid_t uid, gid_t gid, int *fd,
    struct buf *why)
{
	struct walk w = { BUF_INIT, BUF_INIT, BUF_INIT, 0 };
	struct stat opened, end;
	enum safefile_status st, file_st;
	struct buf dirwhy = BUF_INIT;
	int saved;

	if ((*fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
		return SAFEFILE_IO;
	if (fstat(*fd, &opened) < 0)
		goto io;
	file_st = judge_file(&opened, uid, why);
	if (file_st == SAFEFILE_EXPOSED)
		return file_st;		/* the mode says it all */
	st = walk_path(&w, path, uid, gid, &end, &dirwhy);
	if (st == SAFEFILE_OK && (end.st_dev != opened.st_dev ||
	    end.st_ino != opened.st_ino)) {
		buf_puts(&dirwhy, "it changed while it was being checked");
		st = SAFEFILE_UNSAFE;
	}
	saved = errno;
	buf_free(&w.done);
	buf_free(&w.todo);
	buf_free(&w.sealed);
	errno = saved;
	if (st == SAFEFILE_IO)
		goto io;
	if (st == SAFEFILE_NOMEM || dirwhy.failed) {
		buf_free(&dirwhy);
		close(*fd);
		*fd = -1;
		return SAFEFILE_NOMEM;
	}
	if (st == SAFEFILE_UNSAFE) {	/* the directories first */
		buf_reset(why);
		buf_puts(why, dirwhy.s);
	}
	buf_free(&dirwhy);
	return st != SAFEFILE_OK ? st : file_st;
io:
	saved = errno;
	buf_free(&dirwhy);
	close(*fd);
	*fd = -1;
	errno = saved;
	return SAFEFILE_IO;
}

/* try_as - the child: become the user, try each path, report; no return */
static void
try_as(int out, const char *const *paths, size_t n, const char *user,
    uid_t uid, gid_t gid)
{
	size_t i;
	int e, fd;

	if (initgroups(user, gid) < 0 || setgid(gid) < 0 || setuid(uid) < 0)
		_exit(2);
	for (i = 0; i < n; i++) {
		e = 0;
		if ((fd = open(paths[i], O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
			e = errno;
		else
			close(fd);
		if (write(out, &e, sizeof(e)) != (ssize_t)sizeof(e))
			_exit(3);
	}
	_exit(0);
}

/* safefile_readable_as - see safefile.h */
int
safefile_readable_as(const char *const *paths, size_t n, const char *user,
    uid_t uid, gid_t gid, int *errs)
{
	int p[2], status, saved;
	size_t i, got = 0;
	ssize_t r;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	if ((pid = fork()) < 0) {
		saved = errno;
		close(p[0]);
		close(p[1]);
		errno = saved;
		return -1;
	}
	if (pid == 0) {
		close(p[0]);
		try_as(p[1], paths, n, user, uid, gid);
	}
	close(p[1]);
	for (i = 0; i < n; i++) {
		while ((r = read(p[0], &errs[i], sizeof(errs[i]))) < 0 &&
		    errno == EINTR)
			;
		if (r != (ssize_t)sizeof(errs[i]))
			break;
		got++;
	}
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (got < n) {
		errno = EPERM;		/* the child could not become user */
		return -1;
	}
	return 0;
}

/* safefile_strerror - the status in words */
const char *
safefile_strerror(enum safefile_status st)
{
	switch (st) {
	case SAFEFILE_OK:
		return "safe";
	case SAFEFILE_EXPOSED:
		return "others may read or write the file";
	case SAFEFILE_UNSAFE:
		return "someone else could replace the file";
	case SAFEFILE_IO:
		return "cannot open the file";
	case SAFEFILE_NOMEM:
		return "out of memory";
	}
	return "unknown status";
}
