/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "ociuser/blob.h"
#include "ociuser/entry.h"
#include "ociuser/error.h"

/* A base entry's full header (libarchive's), kept for rewriting it. */
struct archive_entry;

/* Account files bigger than this in a base are refused. */
#define OU_MAX_CAPTURE_MEMORY (16 * 1024 * 1024)

/* What ociuser remembers of one path of the base's merged file system. */
struct ou_base_node {
	enum ou_entry_type type;
	unsigned mode; /* permission bits */
	uint32_t uid;
	uint32_t gid;
	char *link; /* symlink target as written; hard link target (relative, normalised) */
	struct archive_entry *entry; /* full header, only for captured paths */
	int content_fd;              /* captured regular file content (unlinked temp file), or -1 */
	int64_t size;
};

/* One layer of the base as it goes into the output. */
struct ou_base_layer {
	char digest[OU_DIGEST_STRLEN];
	char diff_id[OU_DIGEST_STRLEN];
	int64_t size;
	const char *media_type; /* static string */
	bool reused;            /* the blob is the input's bytes as they are */
};

struct ou_base;

/*
 * Opens a root file system tarball (plain, gzip, zstd, xz or bzip2, told
 * apart by its first bytes) in one pass over the file: its bytes are stored
 * into @blob_dirfd as they are when they are a plain, gzip or zstd tar
 * (the OCI media types), else decompressed and re-encoded once with
 * @recompress (OU_BLOB_GZIP, OU_BLOB_ZSTD or OU_BLOB_TAR); the diff_id is
 * computed on the way, and every entry is noted (type, owner, mode, link
 * target). The full header and content of each path in @capture (relative,
 * normalised) are kept for rewriting. Nothing is unpacked to disk but the
 * captured contents (unlinked temporary files). Errors are EBADMSG naming
 * the file and the entry (a corrupt archive, a name with "..").
 */
int ou_base_open_tarball(const char *path, int blob_dirfd, enum ou_blob_codec recompress,
			 const char *const *capture, size_t n_capture, struct ou_base **ret,
			 struct ou_error **err);

/* Reads the base again and captures @paths too (for paths found only after resolution). */
int ou_base_capture(struct ou_base *b, const char *const *paths, size_t n, struct ou_error **err);

/* The base's layers, bottom first (borrowed). */
const struct ou_base_layer *ou_base_layers(const struct ou_base *b, size_t *ret_n);

/* The node at exactly @path (relative, normalised; "" is the root), or NULL. */
const struct ou_base_node *ou_base_lookup(const struct ou_base *b, const char *path);

/*
 * Resolves @path through the base's symbolic links, as a runtime would
 * inside the root (absolute targets start at the root). The last component
 * is followed only with @follow_last. A link leading out of the root
 * (through "..") is refused (EINVAL), and so is a loop (ELOOP). Sets
 * *ret_path (relative, normalised; caller frees).
 */
int ou_base_resolve(const struct ou_base *b, const char *path, bool follow_last, char **ret_path,
		    struct ou_error **err);

/*
 * Reads the captured regular file at @path into memory (at most @max
 * bytes). *ret_present is false (and *ret_data NULL) when the base has no
 * such path. A path that is not a regular file (a symbolic or hard link,
 * a directory) is refused (EBADMSG), naming it.
 */
int ou_base_read_captured(const struct ou_base *b, const char *path, size_t max, char **ret_data,
			  size_t *ret_len, bool *ret_present, struct ou_error **err);

/* Host description of the base for messages and history ("base.tar.gz"). */
const char *ou_base_name(const struct ou_base *b);

struct ou_base *ou_base_free(struct ou_base *b);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct ou_base *, ou_base_free)
