/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>

#include "ociuser/digest.h"
#include "ociuser/error.h"

/* What a blob writer does with the bytes it is given. */
enum ou_blob_codec {
	OU_BLOB_STORE = 0, /* bytes are stored as given (an already compressed layer, JSON) */
	OU_BLOB_TAR,       /* an uncompressed tar: stored as given, diff_id == digest */
	OU_BLOB_GZIP,      /* an uncompressed tar, gzip-compressed on the way (no time, no name) */
	OU_BLOB_ZSTD,      /* an uncompressed tar, zstd-compressed on the way */
};

/*
 * A content-addressed blob being written: bytes go through the codec into
 * a temporary file in the blob folder while SHA-256 runs over the bytes
 * given (the diff_id, for a tar) and over the bytes stored (the digest).
 * Memory stays flat whatever the size. finish() fsyncs the file, makes it
 * 0644 and renames it to its hex digest; free() before finish() removes
 * the temporary file.
 */
struct ou_blob_writer;

int ou_blob_writer_new(int dirfd, enum ou_blob_codec codec, struct ou_blob_writer **ret,
                       struct ou_error **err);
int ou_blob_writer_write(struct ou_blob_writer *w, const void *data, size_t len,
                         struct ou_error **err);

struct ou_blob_result {
	char digest[OU_DIGEST_STRLEN];  /* of the stored bytes */
	char diff_id[OU_DIGEST_STRLEN]; /* of the bytes given; "" for OU_BLOB_STORE */
	int64_t size;                   /* stored bytes */
};

int ou_blob_writer_finish(struct ou_blob_writer *w, struct ou_blob_result *ret,
                          struct ou_error **err);
struct ou_blob_writer *ou_blob_writer_free(struct ou_blob_writer *w);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct ou_blob_writer *, ou_blob_writer_free)

/* The OCI layer media type for a codec (OU_BLOB_STORE has none: NULL). */
const char *ou_blob_layer_media_type(enum ou_blob_codec codec);
