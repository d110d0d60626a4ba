/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ociuser/entry.h"
#include "ociuser/error.h"

/* One file, directory or symbolic link found below a source folder. */
struct ou_host_item {
	char *rel;               /* path below the source root, '/'-separated */
	enum ou_entry_type type; /* FILE, DIR or SYMLINK */
	mode_t mode;
	int64_t size;
	dev_t dev;
	ino_t ino;
	nlink_t nlink;
	char *link; /* symlink target, byte for byte */
};

/*
 * A host source as [files] names it: a folder walked with openat() and
 * O_NOFOLLOW relative to directory descriptors (a path string is never
 * resolved twice), or a single file.
 */
struct ou_host_tree {
	char *source; /* host path as resolved by the spec reader, for messages */
	bool is_dir;
	int root_fd;                /* the folder (O_DIRECTORY), or the single file (O_RDONLY) */
	struct ou_host_item root;   /* the source itself (rel "") */
	struct ou_host_item *items; /* everything below a folder, sorted by rel */
	size_t n_items;
	size_t cap;
	char *skipped; /* the first folder left out because it is in @skip (host path), or NULL */
};

/*
 * Walks @source. Folders that are one of @skip (OUT and its staging folder,
 * which must never copy themselves into the image) are left out, the first
 * noted in skipped; a @source that is one of them is an error. Entries matching an exclude pattern
 * (gitignore-like: a pattern without '/' matches a name at any depth, one with '/' matches the path
 * from the source root, a trailing '/' matches folders only) are left out with everything below
 * them. Fails (EINVAL/EACCES/...) naming the host path: a FIFO, socket or device, a name starting
 * with ".wh.", an unreadable folder, a folder swapped while walked.
 */
int ou_hostwalk(const char *source, const char *const *excludes, size_t n_excludes,
                const struct ou_file_id *skip, size_t n_skip, struct ou_host_tree *ret,
                struct ou_error **err);

/* True when @rel (path below a source root) is excluded by one of the patterns. */
bool ou_hostwalk_excluded(const char *rel, bool is_dir, const char *const *excludes,
                          size_t n_excludes);

void ou_host_tree_release(struct ou_host_tree *t);
