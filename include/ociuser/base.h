/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>

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
	unsigned layer;   /* the layer the path comes from (later layers win) */
	uint64_t ordinal; /* its position in that layer's archive */
	unsigned mode;    /* permission bits */
	uint32_t uid;
	uint32_t gid;
	/*
	 * Symlink target as written; hard link target (relative, normalised),
	 * the file itself when the link names another hard link.
	 */
	char *link;
	struct archive_entry *entry; /* full header, only for captured paths */
	int content_fd;              /* captured regular file content (unlinked temp file), or -1 */
	int64_t size;
	bool hardlinked; /* a hard link of its layer names it (set on the file, not the links) */
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

/* Where the base comes from, and what the build needs from it. */
struct ou_base_options {
	const char *tarball;      /* a root file system tarball, or NULL */
	const char *oci_dir;      /* an OCI image layout, or NULL */
	const char *oci_tag;      /* the ref name in oci_dir; NULL: the only image */
	const char *architecture; /* wanted platform in an image index; NULL: the host's */
	const char *os;
	const char *variant;
	enum ou_blob_codec recompress; /* for a tarball in xz/bzip2: OU_BLOB_GZIP/ZSTD/TAR */
	const char *const *capture;    /* paths whose header and content are kept */
	size_t n_capture;
	/* paths kept only up to OU_MAX_CAPTURE_MEMORY bytes (files read into memory) */
	const char *const *capture_small;
	size_t n_capture_small;
	bool keep_dir_headers; /* keep every folder's full header (for squash) */
};

/*
 * Opens a base: a tarball is a one-layer image; an OCI layout (OCI or
 * Docker schema 2 media types) is followed from index.json through an
 * image index (by platform) to a manifest and config, every blob checked
 * against its digest and size as it is read. Each layer is read once: its
 * blob goes into @blob_dirfd (hard-linked when it can be, else copied),
 * its diff_id is computed and checked against the config, and its entries
 * are merged into the view as a runtime would (later layers win, ".wh."
 * whiteouts delete, ".wh..wh..opq" hides what lower layers put in a
 * folder). Errors name the file, blob or entry at fault.
 */
int ou_base_open(const struct ou_base_options *o, int blob_dirfd, struct ou_base **ret,
                 struct ou_error **err);

/* The base image's config (borrowed), or NULL for a tarball. */
json_t *ou_base_config(const struct ou_base *b);
/* The ref name the base was found under, or NULL (tarball, or no ref name). */
const char *ou_base_ref_name(const struct ou_base *b);
/* The base manifest's digest, or NULL for a tarball. */
const char *ou_base_manifest_digest(const struct ou_base *b);
/* The build host's OCI architecture name ("amd64", "arm64", ...). */
const char *ou_host_architecture(void);

/*
 * Calls @fn for every entry of the merged view, with its full header and a
 * way to read its content: first every folder (sorted by path), then the
 * other entries layer by layer in archive order. Whiteouts are applied and
 * never passed. A hard link comes after the file it names (same layer,
 * earlier in the archive), and names that file (see ou_base_node.link).
 * Needs keep_dir_headers. @fn returns <0 to stop.
 */
typedef ssize_t (*ou_base_read_fn)(void *rctx, void *buf, size_t len);
typedef int (*ou_base_entry_fn)(void *ctx, const char *path, struct archive_entry *h,
                                ou_base_read_fn read, void *rctx, struct ou_error **err);
int ou_base_replay(struct ou_base *b, ou_base_entry_fn fn, void *ctx, struct ou_error **err);

/*
 * Copies what @read_fn gives, up to its end (0), into a new unlinked
 * temporary file in $TMPDIR (else /tmp), without holding it in memory;
 * sets *ret_fd (caller closes) and *ret_size (when not NULL). This is how
 * base content is kept aside (content_fd). Errors name @what ("entry 'x'
 * of base 'y'"); a read that fails is EBADMSG.
 */
int ou_base_keep_content(ou_base_read_fn read_fn, void *rctx, const char *what, int *ret_fd,
                         int64_t *ret_size, struct ou_error **err);

/* ou_base_open() of a tarball alone, with @capture (kept for callers and tests). */
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
