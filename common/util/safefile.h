/*
 * safefile.h - open a secret file and judge who else could read or
 *	replace it (OpenDKIM's RequireSafeKeys rules)
 *
 * safefile_open() opens the file first and then judges what it opened:
 * the file's own mode and owner from fstat(), and every directory the
 * lookup of the path went through, including the directories holding
 * each symbolic link followed (whoever may write one of those may
 * point the link elsewhere).  The caller decides what an unsafe file
 * means; the descriptor is open either way.
 *
 * "uid" and "gid" are the user and group the program serves as (they
 * and root may own and write what they like).
 */
#ifndef COMMON_SAFEFILE_H
#define COMMON_SAFEFILE_H

#include <sys/types.h>

#include "buf.h"

enum safefile_status {
	SAFEFILE_OK = 0,
	SAFEFILE_EXPOSED,	/* opened; others may read or write the file
				   itself (a chmod fixes it) */
	SAFEFILE_UNSAFE,	/* opened; someone else could replace it: a
				   directory on the way, or the file's owner */
	SAFEFILE_IO,		/* not opened, or the path cannot be
				   followed: errno says why */
	SAFEFILE_NOMEM,
};

#define SAFEFILE_MAXLINKS	40	/* symbolic links followed, as Linux */

/* safefile_open - open path read-only (O_CLOEXEC) into *fd and judge it;
 * on EXPOSED, why says how ("readable by others"), on UNSAFE why
 * ("directory /k is writable by others", "it belongs to uid 7, ..."), in
 * words that follow the file's name; *fd is -1 on IO and NOMEM */
enum safefile_status safefile_open(const char *path, uid_t uid, gid_t gid,
	    int *fd, struct buf *why);
/* safefile_readable_as - whether each of the n paths can be opened for
 * reading by user (name, uid, gid, with the user's supplementary groups),
 * tried in a child process that takes that identity (the caller must be
 * root); errs[i] is 0 or the errno of paths[i]; -1 (errno) if the child
 * cannot be run */
int	safefile_readable_as(const char *const *paths, size_t n,
	    const char *user, uid_t uid, gid_t gid, int *errs);
const char *safefile_strerror(enum safefile_status);

#endif
