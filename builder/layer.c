/* SPDX-License-Identifier: MIT */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "ociuser/layer.h"
#include "ociuser/path.h"
#include "ociuser/xalloc.h"

#define CHUNK (128 * 1024)

struct ou_layer_entry *ou_layer_list_add(struct ou_layer_list *l, const char *path)
{
	struct ou_layer_entry *e;

	xgrow((void **)&l->v, &l->cap, l->n + 1, sizeof(*l->v));
	e = &l->v[l->n++];
	memset(e, 0, sizeof(*e));
	e->path = xstrdup(path);
	e->fd = -1;
	e->host_root = -1;
	return e;
}

struct ou_layer_entry *ou_layer_list_add_copy(struct ou_layer_list *l,
                                              const struct ou_layer_entry *src)
{
	struct ou_layer_entry *e = ou_layer_list_add(l, src->path);
	char *path = e->path;

	*e = *src;
	e->path = path;
	e->link = src->link ? xstrdup(src->link) : NULL;
	e->data = src->data ? xmemdup(src->data, (size_t)src->size) : NULL;
	e->host_rel = src->host_rel ? xstrdup(src->host_rel) : NULL;
	e->host_name = src->host_name ? xstrdup(src->host_name) : NULL;
	return e;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct ou_layer_entry *)a)->path,
	              ((const struct ou_layer_entry *)b)->path);
}

void ou_layer_list_sort(struct ou_layer_list *l)
{
	if (l->n)
		qsort(l->v, l->n, sizeof(*l->v), cmp_entry);
}

struct ou_layer_entry *ou_layer_list_find(const struct ou_layer_list *l, const char *path)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(l->v[mid].path, path);
		if (c == 0)
			return &l->v[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

void ou_layer_list_release(struct ou_layer_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].path);
		free(l->v[i].link);
		free(l->v[i].data);
		free(l->v[i].host_rel);
		free(l->v[i].host_name);
	}
	free(l->v);
	*l = (struct ou_layer_list){0};
}

struct sink {
	struct ou_blob_writer *blob;
	struct ou_error *err; /* the blob writer's own error, kept for the caller */
};

static la_ssize_t tar_out(struct archive *a, void *data, const void *buf, size_t len)
{
	struct sink *s = data;

	if (ou_blob_writer_write(s->blob, buf, len, &s->err) < 0) {
		archive_set_error(a, s->err->code, "%s", s->err->message);
		return -1;
	}
	return (la_ssize_t)len;
}

static int tar_error(struct archive *a, struct sink *s, const char *what, const char *path,
                     struct ou_error **err)
{
	if (s->err) {
		*err = ou_error_free(*err);
		*err = TAKE_PTR(s->err);
		return ou_error_prefix(err, "cannot write layer entry '%s'", path);
	}
	return ou_error_set(err, EIO, "cannot %s '%s' in layer: %s", what, path,
	                    archive_error_string(a) ? archive_error_string(a) : "unknown error");
}

/*
 * libarchive reads a LIBARCHIVE.xattr.X record and a SCHILY.xattr.X record
 * (bsdtar writes both) as two xattrs named X: keep one, the last, so that a
 * base entry written again carries each record once.
 */
static void dedupe_xattrs(struct archive_entry *h)
{
	struct archive_entry *src;
	const char **names;
	const void **values;
	size_t *sizes;
	int n = archive_entry_xattr_reset(h);

	if (n < 2)
		return;
	src = archive_entry_clone(h);
	names = xcalloc((size_t)n, sizeof(*names));
	values = xcalloc((size_t)n, sizeof(*values));
	sizes = xcalloc((size_t)n, sizeof(*sizes));
	archive_entry_xattr_reset(src);
	for (int i = 0; i < n; i++)
		archive_entry_xattr_next(src, &names[i], &values[i], &sizes[i]);
	archive_entry_xattr_clear(h);
	for (int i = 0; i < n; i++) {
		bool later = false;
		for (int k = i + 1; k < n && !later; k++)
			later = strcmp(names[i], names[k]) == 0;
		if (!later)
			archive_entry_xattr_add_entry(h, names[i], values[i], sizes[i]);
	}
	free(names);
	free(values);
	free(sizes);
	archive_entry_free(src);
}

static struct archive_entry *make_header(const struct ou_layer_entry *e)
{
	struct archive_entry *h;
	char *name;

	name = e->type == OU_ENTRY_DIR ? xasprintf("%s/", e->path) : xstrdup(e->path);
	if (e->base) {
		h = archive_entry_clone(e->base);
		archive_entry_set_pathname(h, name);
		if (e->mode_set)
			archive_entry_set_perm(h, e->mode);
		if (e->type == OU_ENTRY_FILE)
			archive_entry_set_size(h, e->size);
		dedupe_xattrs(h);
		free(name);
		return h;
	}
	h = archive_entry_new();
	archive_entry_set_pathname(h, name);
	free(name);
	archive_entry_set_uid(h, e->uid);
	archive_entry_set_gid(h, e->gid);
	archive_entry_set_uname(h, e->uname);
	archive_entry_set_gname(h, e->gname);
	archive_entry_set_mtime(h, e->mtime, 0);
	switch (e->type) {
	case OU_ENTRY_FILE:
		archive_entry_set_filetype(h, AE_IFREG);
		archive_entry_set_size(h, e->size);
		break;
	case OU_ENTRY_DIR:
		archive_entry_set_filetype(h, AE_IFDIR);
		archive_entry_set_size(h, 0);
		break;
	case OU_ENTRY_SYMLINK:
		archive_entry_set_filetype(h, AE_IFLNK);
		archive_entry_set_symlink(h, e->link);
		archive_entry_set_size(h, 0);
		break;
	case OU_ENTRY_HARDLINK:
	case OU_ENTRY_OTHER: /* never planned; written as a link would be refused earlier */
		archive_entry_set_filetype(h, AE_IFREG);
		archive_entry_set_hardlink(h, e->link);
		archive_entry_set_size(h, 0);
		break;
	}
	archive_entry_set_perm(h, e->mode & 07777);
	return h;
}

static int open_content(const struct ou_layer_entry *e, int *ret_fd, int64_t *ret_size,
                        struct ou_error **err)
{
	struct stat st;
	int fd;

	if (e->content == OU_CONTENT_FD) {
		if (fstat(e->fd, &st) < 0)
			return ou_error_set(err, errno, "cannot stat content of '%s': %s", e->path,
			                    strerror(errno));
		if (e->host_name && st.st_size != e->size)
			return ou_error_set(
			        err, EAGAIN,
			        "'%s' changed size during the build (%lld, now %lld bytes)",
			        e->host_name, (long long)e->size, (long long)st.st_size);
		*ret_fd = -1;
		*ret_size = st.st_size;
		return 0;
	}
	fd = ou_path_open_beneath(e->host_root, e->host_rel, O_RDONLY);
	if (fd < 0)
		return ou_error_set(err, -fd, "cannot open '%s': %s", e->host_name, strerror(-fd));
	if (fstat(fd, &st) < 0) {
		int r = errno;
		close(fd);
		return ou_error_set(err, r, "cannot stat '%s': %s", e->host_name, strerror(r));
	}
	if (!S_ISREG(st.st_mode) || st.st_dev != e->host_dev || st.st_ino != e->host_ino) {
		close(fd);
		return ou_error_set(err, EAGAIN,
		                    "'%s' was replaced by another file during the build",
		                    e->host_name);
	}
	/* The size the plan saw is the size the header will say, or it is an error. */
	if (st.st_size != e->size) {
		close(fd);
		return ou_error_set(err, EAGAIN,
		                    "'%s' changed size during the build (%lld, now %lld bytes)",
		                    e->host_name, (long long)e->size, (long long)st.st_size);
	}
	*ret_fd = fd;
	*ret_size = st.st_size;
	return 0;
}

/* Copies exactly @size bytes of @fd (from offset 0 for a borrowed fd) into the tar. */
static int copy_content(struct archive *a, struct sink *s, const struct ou_layer_entry *e, int fd,
                        bool borrowed, int64_t size, char *buf, struct ou_error **err)
{
	const char *name = e->host_name ? e->host_name : e->path;
	int64_t done = 0;

	while (done < size) {
		size_t want = (size - done) > CHUNK ? CHUNK : (size_t)(size - done);
		ssize_t n = borrowed ? pread(fd, buf, want, done) : read(fd, buf, want);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return ou_error_set(err, errno, "cannot read '%s': %s", name,
			                    strerror(errno));
		}
		if (n == 0)
			return ou_error_set(err, EAGAIN,
			                    "'%s' shrank while it was read (%lld of %lld bytes)",
			                    name, (long long)done, (long long)size);
		if (archive_write_data(a, buf, (size_t)n) < 0)
			return tar_error(a, s, "write data of", e->path, err);
		done += n;
	}
	if (!borrowed) {
		ssize_t n = read(fd, buf, 1);
		if (n > 0)
			return ou_error_set(err, EAGAIN,
			                    "'%s' grew while it was read (over %lld bytes)", name,
			                    (long long)size);
	}
	return 0;
}

static int write_entry(struct archive *a, struct sink *s, const struct ou_layer_entry *e, char *buf,
                       struct ou_error **err)
{
	struct ou_layer_entry copy = *e;
	struct archive_entry *h;
	_cleanup_close_ int fd = -1;
	int64_t size = 0;
	int r;

	if (e->type == OU_ENTRY_FILE) {
		if (e->content == OU_CONTENT_HOST || e->content == OU_CONTENT_FD) {
			r = open_content(e, &fd, &size, err);
			if (r < 0)
				return r;
		} else if (e->content == OU_CONTENT_MEMORY) {
			size = e->size;
		}
	}
	copy.size = size;
	h = make_header(&copy);
	r = archive_write_header(a, h);
	archive_entry_free(h);
	if (r < ARCHIVE_WARN)
		return tar_error(a, s, "add", e->path, err);
	if (e->type != OU_ENTRY_FILE || size == 0)
		return 0;
	if (e->content == OU_CONTENT_MEMORY) {
		if (archive_write_data(a, e->data, (size_t)size) < 0)
			return tar_error(a, s, "write data of", e->path, err);
		return 0;
	}
	if (e->content == OU_CONTENT_FD)
		return copy_content(a, s, e, e->fd, true, size, buf, err);
	return copy_content(a, s, e, fd, false, size, buf, err);
}

struct ou_layer_writer {
	struct ou_blob_writer *blob;
	struct archive *a;
	struct sink s;
	char *buf;
};

int ou_layer_writer_new(int blob_dirfd, enum ou_blob_codec codec, struct ou_layer_writer **ret,
                        struct ou_error **err)
{
	_cleanup_(ou_layer_writer_freep) struct ou_layer_writer *w = xcalloc(1, sizeof(*w));
	int r;

	r = ou_blob_writer_new(blob_dirfd, codec, &w->blob, err);
	if (r < 0)
		return r;
	w->s.blob = w->blob;
	w->a = archive_write_new();
	if (!w->a)
		return ou_error_set(err, ENOMEM, "cannot create a tar writer");
	/*
	 * Restricted pax: plain ustar headers, with pax records only where a
	 * field does not fit (long names, ids over 2097151, xattrs of base
	 * entries). Names are bytes: under the UTF-8 locale main() sets, a
	 * name that is not UTF-8 gets hdrcharset=BINARY and is kept as it is.
	 */
	if (archive_write_set_format_pax_restricted(w->a) != ARCHIVE_OK ||
	    archive_write_set_format_option(w->a, "pax", "xattrheader", "SCHILY") != ARCHIVE_OK ||
	    archive_write_open2(w->a, &w->s, NULL, tar_out, NULL, NULL) != ARCHIVE_OK)
		return tar_error(w->a, &w->s, "set up", "tar writer", err);
	w->buf = xmalloc(CHUNK);
	*ret = TAKE_PTR(w);
	return 0;
}

int ou_layer_writer_add(struct ou_layer_writer *w, const struct ou_layer_entry *e,
                        struct ou_error **err)
{
	return write_entry(w->a, &w->s, e, w->buf, err);
}

int ou_layer_writer_add_raw(struct ou_layer_writer *w, struct archive_entry *h,
                            ssize_t (*read_fn)(void *rctx, void *buf, size_t len), void *rctx,
                            struct ou_error **err)
{
	const char *path = archive_entry_pathname(h);
	int64_t size = archive_entry_size(h), done = 0;

	if (archive_entry_hardlink(h) || archive_entry_filetype(h) != AE_IFREG) {
		archive_entry_set_size(h, 0);
		size = 0;
	}
	dedupe_xattrs(h);
	if (archive_write_header(w->a, h) < ARCHIVE_WARN)
		return tar_error(w->a, &w->s, "add", path, err);
	while (done < size) {
		size_t want = (size - done) > CHUNK ? CHUNK : (size_t)(size - done);
		ssize_t n = read_fn ? read_fn(rctx, w->buf, want) : 0;
		if (n < 0)
			return ou_error_set(err, EBADMSG, "cannot read the content of '%s'", path);
		if (n == 0)
			return ou_error_set(err, EBADMSG, "'%s' is shorter than its header says",
			                    path);
		if (archive_write_data(w->a, w->buf, (size_t)n) < 0)
			return tar_error(w->a, &w->s, "write data of", path, err);
		done += n;
	}
	return 0;
}

int ou_layer_writer_finish(struct ou_layer_writer *w, struct ou_blob_result *ret,
                           struct ou_error **err)
{
	if (archive_write_close(w->a) != ARCHIVE_OK)
		return tar_error(w->a, &w->s, "finish", "tar writer", err);
	return ou_blob_writer_finish(w->blob, ret, err);
}

struct ou_layer_writer *ou_layer_writer_free(struct ou_layer_writer *w)
{
	if (!w)
		return NULL;
	if (w->a)
		archive_write_free(w->a);
	ou_error_free(w->s.err);
	ou_blob_writer_free(w->blob);
	free(w->buf);
	free(w);
	return NULL;
}

int ou_layer_write(const struct ou_layer_list *l, int blob_dirfd, enum ou_blob_codec codec,
                   struct ou_blob_result *ret, struct ou_error **err)
{
	_cleanup_(ou_layer_writer_freep) struct ou_layer_writer *w = NULL;
	int r;

	r = ou_layer_writer_new(blob_dirfd, codec, &w, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < l->n; i++) {
		r = ou_layer_writer_add(w, &l->v[i], err);
		if (r < 0)
			return r;
	}
	return ou_layer_writer_finish(w, ret, err);
}
