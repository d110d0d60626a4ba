/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "ociuser/error.h"

/*
 * Image paths. Inside ociuser an image path is kept "relative": no leading
 * '/', no "./", no "//", no trailing '/', no "." components; "" is the root.
 * That is how tar entry names are spelt in layers (directories get a
 * trailing '/' only when written).
 */

/*
 * Normalises an absolute image path from the spec (@abs must start with
 * '/') into the relative form. Refuses (EINVAL, message says why) a path
 * with a ".." component, a NUL, a control character, or a component
 * starting with ".wh." (reserved for whiteouts in OCI layers).
 */
int ou_path_from_spec(const char *abs, char **ret_rel, struct ou_error **err);

/*
 * Normalises a tar entry name from a base layer ("./etc/", "/etc//x") into
 * the relative form. Refuses (EBADMSG) names with a ".." component or
 * empty after normalisation is fine (it is the root: ""). Sets *ret_rel.
 */
int ou_path_from_tar(const char *name, char **ret_rel, struct ou_error **err);

/* True when @name is a valid user or group name as Debian's useradd takes it:
 * ^[a-z_][a-z0-9_-]*[$]?$ and at most 32 bytes. */
bool ou_name_is_valid(const char *name);

/*
 * True when @ref matches the OCI image-spec grammar for
 * org.opencontainers.image.ref.name (alphanum components separated by
 * '-', '.', '_', ':', '@', '/', '+', or '--', e.g. "1.0",
 * "registry.example.com/team/app:1.0"); "" and "bad tag!" are not.
 */
bool ou_ref_name_is_valid(const char *ref);

/* Returns the parent of a relative image path ("" for a top-level name); caller frees. */
char *ou_path_parent(const char *rel);

/* Returns the last component of a relative image path (borrowed from @rel). */
const char *ou_path_basename(const char *rel);

/* Joins two relative image paths ("" is the root). Caller frees. */
char *ou_path_join(const char *a, const char *b);

/*
 * Opens @rel (a '/'-separated path relative to the directory @dirfd) one
 * component at a time with O_NOFOLLOW, so a symbolic link anywhere on the
 * way is never followed: that catches a directory swapped for a link while
 * the build runs. @flags are added for the last component (O_RDONLY,
 * O_DIRECTORY, O_PATH...). Returns the fd or -errno: -ELOOP when a
 * component is a symbolic link (with O_PATH in @flags a link as the last
 * component is opened as itself), -EINVAL for a ".." component (it would
 * climb out of @dirfd). "" (or "/" or ".") opens @dirfd's directory itself.
 */
int ou_path_open_beneath(int dirfd, const char *rel, int flags);
