/* SPDX-License-Identifier: MIT */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "ociuser/blob.h"
#include "ociuser/strbuf.h"
#include "ociuser/xalloc.h"

struct ou_blob_writer {
	int dirfd;
	int fd;
	char tmpname[64];
	enum ou_blob_codec codec;
	struct ou_sha256 *given;  /* diff_id */
	struct ou_sha256 *stored; /* digest */
	int64_t size;
	struct archive *compressor; /* libarchive "raw" writer with a gzip/zstd filter */
	int write_errno;            /* first write(2) failure seen by the callback */
	bool finished;
};

static int store(struct ou_blob_writer *w, const void *data, size_t len)
{
	ou_sha256_update(w->stored, data, len);
	w->size += (int64_t)len;
	return ou_write_all(w->fd, data, len);
}

static la_ssize_t compressed_out(struct archive *a, void *data, const void *buf, size_t len)
{
	struct ou_blob_writer *w = data;
	int r = store(w, buf, len);

	if (r < 0) {
		if (!w->write_errno)
			w->write_errno = -r;
		archive_set_error(a, -r, "%s", strerror(-r));
		return -1;
	}
	return (la_ssize_t)len;
}

static int start_compressor(struct ou_blob_writer *w, struct ou_error **err)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e;
	int r;

	if (!a)
		return ou_error_set(err, ENOMEM, "cannot create a compressor");
	w->compressor = a;
	if (archive_write_set_format_raw(a) != ARCHIVE_OK)
		goto fail;
	if (w->codec == OU_BLOB_GZIP) {
		if (archive_write_add_filter_gzip(a) != ARCHIVE_OK)
			goto fail;
		/* No time in the gzip header: the same tar gives the same blob on any day. */
		if (archive_write_set_filter_option(a, "gzip", "timestamp", NULL) != ARCHIVE_OK)
			goto fail;
	} else {
		if (archive_write_add_filter_zstd(a) != ARCHIVE_OK)
			goto fail;
	}
	/* No block padding: zeros after the compressed stream are trailing garbage. */
	archive_write_set_bytes_per_block(a, 0);
	archive_write_set_bytes_in_last_block(a, 1);
	if (archive_write_open2(a, w, NULL, compressed_out, NULL, NULL) != ARCHIVE_OK)
		goto fail;
	e = archive_entry_new();
	archive_entry_set_pathname(e, "layer.tar");
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	r = archive_write_header(a, e);
	archive_entry_free(e);
	if (r != ARCHIVE_OK)
		goto fail;
	return 0;
fail:
	return ou_error_set(err, EIO, "cannot set up the layer compressor: %s",
	                    archive_error_string(a) ? archive_error_string(a) : "unknown error");
}

int ou_blob_writer_new(int dirfd, enum ou_blob_codec codec, struct ou_blob_writer **ret,
                       struct ou_error **err)
{
	_cleanup_(ou_blob_writer_freep) struct ou_blob_writer *w = NULL;
	static unsigned counter;
	int r;

	w = xcalloc(1, sizeof(*w));
	w->dirfd = dirfd;
	w->fd = -1;
	w->codec = codec;
	for (int tries = 0; tries < 100; tries++) {
		snprintf(w->tmpname, sizeof(w->tmpname), ".tmp-blob-%d-%u", (int)getpid(),
		         counter++);
		w->fd = openat(dirfd, w->tmpname, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (w->fd >= 0 || errno != EEXIST)
			break;
	}
	if (w->fd < 0)
		return ou_error_set(err, errno, "cannot create a blob file: %s", strerror(errno));
	w->given = ou_sha256_new();
	w->stored = ou_sha256_new();
	if (codec == OU_BLOB_GZIP || codec == OU_BLOB_ZSTD) {
		r = start_compressor(w, err);
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(w);
	return 0;
}

static int write_failed(struct ou_blob_writer *w, struct ou_error **err)
{
	int e = w->write_errno ? w->write_errno : EIO;

	if (w->write_errno)
		return ou_error_set(err, e, "cannot write blob: %s", strerror(e));
	return ou_error_set(err, e, "cannot compress blob: %s",
	                    archive_error_string(w->compressor)
	                            ? archive_error_string(w->compressor)
	                            : "unknown error");
}

int ou_blob_writer_write(struct ou_blob_writer *w, const void *data, size_t len,
                         struct ou_error **err)
{
	int r;

	if (!len)
		return 0;
	ou_sha256_update(w->given, data, len);
	if (!w->compressor) {
		r = store(w, data, len);
		if (r < 0)
			return ou_error_set(err, -r, "cannot write blob: %s", strerror(-r));
		return 0;
	}
	if (archive_write_data(w->compressor, data, len) < 0)
		return write_failed(w, err);
	return 0;
}

int ou_blob_writer_finish(struct ou_blob_writer *w, struct ou_blob_result *ret,
                          struct ou_error **err)
{
	struct ou_blob_result res = {0};

	if (w->compressor) {
		if (archive_write_close(w->compressor) != ARCHIVE_OK)
			return write_failed(w, err);
		archive_write_free(w->compressor);
		w->compressor = NULL;
	}
	if (fsync(w->fd) < 0)
		return ou_error_set(err, errno, "cannot write blob: %s", strerror(errno));
	if (fchmod(w->fd, 0644) < 0)
		return ou_error_set(err, errno, "cannot set blob mode: %s", strerror(errno));
	ou_sha256_final(w->stored, res.digest);
	if (w->codec == OU_BLOB_STORE)
		res.diff_id[0] = '\0';
	else if (w->codec == OU_BLOB_TAR)
		memcpy(res.diff_id, res.digest, sizeof(res.digest));
	else
		ou_sha256_final(w->given, res.diff_id);
	res.size = w->size;
	if (close(w->fd) < 0) {
		w->fd = -1;
		return ou_error_set(err, errno, "cannot write blob: %s", strerror(errno));
	}
	w->fd = -1;
	if (renameat(w->dirfd, w->tmpname, w->dirfd, res.digest + 7) < 0)
		return ou_error_set(err, errno, "cannot store blob %s: %s", res.digest,
		                    strerror(errno));
	w->finished = true;
	*ret = res;
	return 0;
}

struct ou_blob_writer *ou_blob_writer_free(struct ou_blob_writer *w)
{
	if (!w)
		return NULL;
	if (w->compressor)
		archive_write_free(w->compressor);
	if (w->fd >= 0)
		close(w->fd);
	if (!w->finished && w->tmpname[0])
		unlinkat(w->dirfd, w->tmpname, 0);
	ou_sha256_free(w->given);
	ou_sha256_free(w->stored);
	free(w);
	return NULL;
}

const char *ou_blob_layer_media_type(enum ou_blob_codec codec)
{
	switch (codec) {
	case OU_BLOB_TAR:
		return "application/vnd.oci.image.layer.v1.tar";
	case OU_BLOB_GZIP:
		return "application/vnd.oci.image.layer.v1.tar+gzip";
	case OU_BLOB_ZSTD:
		return "application/vnd.oci.image.layer.v1.tar+zstd";
	default:
		return NULL;
	}
}
