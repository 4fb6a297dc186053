/*
 * NAME
 *	keyfile - RequireSafeKeys: may anyone else read or replace a key
 * SYNOPSIS
 *	#include "keyfile.h"
 * DESCRIPTION
 *	The checks OpenDKIM applies with RequireSafeKeys, on the real path
 *	of the key (symbolic links followed): the file's own mode and
 *	owner, then each directory from the root down.  A directory others
 *	may write is unsafe unless sticky; one its group may write is
 *	unsafe unless the group is root's or the daemon's; one another
 *	user owns is unsafe; the walk ends at a directory that neither
 *	group nor others may enter.
 * DIAGNOSTICS
 *	NULL (safe, or the path does not resolve: loading the key reports
 *	that) or a malloc'd reason; NULL too when out of memory.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "keyfile.h"

/* dir_unsafe - why a directory lets someone else change it, or NULL */
static char *
dir_unsafe(const char *dir, const struct stat *st, uid_t uid, gid_t gid)
{
	char *why = NULL;

	if ((st->st_mode & S_IWOTH) && (st->st_mode & S_ISVTX))
		return NULL;
	if (st->st_mode & S_IWOTH) {
		if (asprintf(&why, "directory %s is writable by others",
		    dir) < 0)
			why = NULL;
	} else if ((st->st_mode & S_IWGRP) && st->st_gid != 0 &&
	    st->st_gid != gid) {
		if (asprintf(&why, "directory %s is writable by its group "
		    "(gid %u)", dir, (unsigned)st->st_gid) < 0)
			why = NULL;
	} else if ((st->st_mode & S_IWUSR) && st->st_uid != 0 &&
	    st->st_uid != uid) {
		if (asprintf(&why, "directory %s belongs to uid %u, neither "
		    "root nor the milter's user", dir,
		    (unsigned)st->st_uid) < 0)
			why = NULL;
	}
	return why;
}

/* keyfile_unsafe - NULL when safe, else why (malloc'd) */
char *
keyfile_unsafe(const char *path, uid_t uid, gid_t gid)
{
	char real[PATH_MAX], *slash, *why = NULL;
	struct stat st;

	if (realpath(path, real) == NULL || stat(real, &st) != 0)
		return NULL;
	if (st.st_mode & (S_IROTH | S_IWOTH | S_IWGRP)) {
		if (asprintf(&why, "%s is %s", path, (st.st_mode & S_IROTH) ?
		    "readable by others" : (st.st_mode & S_IWOTH) ?
		    "writable by others" : "writable by its group") < 0)
			why = NULL;
		return why;
	}
	if (st.st_uid != 0 && st.st_uid != uid) {
		if (asprintf(&why, "%s belongs to uid %u, neither root nor "
		    "the milter's user", path, (unsigned)st.st_uid) < 0)
			why = NULL;
		return why;
	}
	for (slash = real; slash != NULL && why == NULL;
	    slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (stat(real[0] ? real : "/", &st) == 0 &&
		    S_ISDIR(st.st_mode)) {
			why = dir_unsafe(real[0] ? real : "/", &st, uid, gid);
			if (why == NULL && !(st.st_mode & (S_IXGRP | S_IXOTH))) {
				*slash = '/';
				break;
			}
		}
		*slash = '/';
	}
	return why;
}
