/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ociuser/blob.h"
#include "ociuser/entry.h"
#include "ociuser/error.h"

/* A base entry's full header, kept by the base module (libarchive inside). */
struct archive_entry;

enum ou_content_kind {
	OU_CONTENT_NONE = 0, /* directories, links, empty files */
	OU_CONTENT_MEMORY,   /* data/size below, owned by the entry */
	OU_CONTENT_HOST,     /* a file below host_root (opened with O_NOFOLLOW at each step) */
	OU_CONTENT_FD,       /* read from offset 0 of fd (borrowed) */
};

/*
 * One entry of a layer ociuser writes. Every header field is explicit: the
 * host's owners, times and xattrs never reach a layer. When @base is set,
 * the entry is a base entry rewritten (an account file, a [sensitive]
 * mode change): all of the base header is kept (owners, mtime, xattrs,
 * pax records) except the name, @mode when mode_set, and the size.
 */
struct ou_layer_entry {
	char *path; /* relative, normalised (no leading '/', no trailing '/') */
	enum ou_entry_type type;
	unsigned mode; /* permission bits (07777) */
	bool mode_set; /* for @base entries: replace the base's mode */
	uint32_t uid;
	uint32_t gid;
	const char *uname; /* borrowed, lives as long as the layer list */
	const char *gname;
	long long mtime;
	char *link; /* symlink target as is, or hard link target path (relative, normalised) */

	enum ou_content_kind content;
	char *data;      /* OU_CONTENT_MEMORY */
	int64_t size;    /* MEMORY: data's length; HOST and host FD: the size the walk saw */
	int host_root;   /* OU_CONTENT_HOST: directory fd (borrowed) */
	char *host_rel;  /* OU_CONTENT_HOST: path below host_root */
	char *host_name; /* host path for messages */
	dev_t host_dev;  /* OU_CONTENT_HOST: what the walk saw; a different file is an error */
	ino_t host_ino;
	int fd;                     /* OU_CONTENT_FD */
	struct archive_entry *base; /* borrowed template, or NULL */
};

/* A list of entries; ou_layer_list_sort() orders it by path bytewise. */
struct ou_layer_list {
	struct ou_layer_entry *v;
	size_t n;
	size_t cap;
};

/* Appends a zeroed entry (fd = -1, host_root = -1) and returns it. */
struct ou_layer_entry *ou_layer_list_add(struct ou_layer_list *l, const char *path);
/* Adds a deep copy of @src (from another list); borrowed fields stay borrowed. */
struct ou_layer_entry *ou_layer_list_add_copy(struct ou_layer_list *l,
                                              const struct ou_layer_entry *src);
/* Returns the entry for @path or NULL; the list must be sorted. */
struct ou_layer_entry *ou_layer_list_find(const struct ou_layer_list *l, const char *path);
void ou_layer_list_sort(struct ou_layer_list *l);
void ou_layer_list_release(struct ou_layer_list *l);

/*
 * Writes the sorted list @l as one pax tar layer through the blob writer
 * (codec OU_BLOB_TAR, OU_BLOB_GZIP or OU_BLOB_ZSTD) into @blob_dirfd, in
 * one streaming pass: file contents are copied in fixed-size chunks. A
 * host file that changed (another file, or a size that grew or shrank
 * while read) is an error naming it: a tar never lies about sizes.
 */
/*
 * The same as a stream: entries are added one at a time (in the order
 * they must appear), then finish() stores the blob. free() before finish()
 * drops everything written.
 */
struct ou_layer_writer;
int ou_layer_writer_new(int blob_dirfd, enum ou_blob_codec codec, struct ou_layer_writer **ret,
                        struct ou_error **err);
int ou_layer_writer_add(struct ou_layer_writer *w, const struct ou_layer_entry *e,
                        struct ou_error **err);
/*
 * Adds an entry whose header is given whole (a base entry being squashed:
 * every field kept), reading its content (size bytes) with @read_fn.
 */
int ou_layer_writer_add_raw(struct ou_layer_writer *w, struct archive_entry *h,
                            ssize_t (*read_fn)(void *rctx, void *buf, size_t len), void *rctx,
                            struct ou_error **err);
int ou_layer_writer_finish(struct ou_layer_writer *w, struct ou_blob_result *ret,
                           struct ou_error **err);
struct ou_layer_writer *ou_layer_writer_free(struct ou_layer_writer *w);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct ou_layer_writer *, ou_layer_writer_free)

int ou_layer_write(const struct ou_layer_list *l, int blob_dirfd, enum ou_blob_codec codec,
                   struct ou_blob_result *ret, struct ou_error **err);
