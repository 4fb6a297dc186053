/*
 * keyfile.h - is a private key file safe to use (OpenDKIM's RequireSafeKeys)
 *
 * keyfile_unsafe(path, uid, gid) returns NULL when the file is safe for
 * a daemon running as uid:gid, or a reason the caller frees: the file
 * readable or writable by others (or writable by its group), owned by
 * someone else than root or uid, or a directory on the way (after
 * symbolic links are resolved: a symlinked key is judged where it lies)
 * that someone else could change.  A sticky directory others may write
 * (/tmp) passes; the walk stops at a directory no one else may enter.
 */
#ifndef COMMON_KEYFILE_H
#define COMMON_KEYFILE_H

#include <sys/types.h>

char	*keyfile_unsafe(const char *path, uid_t uid, gid_t gid);

#endif
