/* SPDX-License-Identifier: MIT */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "ociuser/base.h"
#include "ociuser/digest.h"
#include "ociuser/path.h"
#include "ociuser/strbuf.h"
#include "ociuser/strmap.h"
#include "ociuser/xalloc.h"

#define BUFSZ (128 * 1024)
#define MAX_LINKS 40

struct ou_base {
	char *path;
	char *name;
	struct ou_strmap nodes;   /* path -> struct ou_base_node */
	struct ou_strmap capture; /* paths whose header and content are kept */
	struct ou_base_layer layer;
};

/* One pass over a base tarball: file -> (store) -> decompress -> (diff_id, re-encode) -> tar. */
struct pass {
	struct ou_base *base;
	int fd;
	bool record;                 /* note every entry (first pass) */
	struct ou_blob_writer *keep; /* stores the file's bytes as they are */
	struct ou_blob_writer *reencode;
	struct ou_sha256 *diff;
	struct archive *raw;
	struct ou_error *err; /* first failure inside a callback */
	char inbuf[BUFSZ];
	char rawbuf[BUFSZ];
};

static void node_free(void *p)
{
	struct ou_base_node *n = p;

	if (!n)
		return;
	free(n->link);
	if (n->entry)
		archive_entry_free(n->entry);
	if (n->content_fd >= 0)
		close(n->content_fd);
	free(n);
}

static la_ssize_t file_in(struct archive *a, void *data, const void **buf)
{
	struct pass *p = data;
	ssize_t n;

	do
		n = read(p->fd, p->inbuf, sizeof(p->inbuf));
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		archive_set_error(a, errno, "read failed: %s", strerror(errno));
		return -1;
	}
	if (n > 0 && p->keep && ou_blob_writer_write(p->keep, p->inbuf, (size_t)n, &p->err) < 0) {
		archive_set_error(a, EIO, "%s", p->err->message);
		return -1;
	}
	*buf = p->inbuf;
	return n;
}

static la_ssize_t tar_in(struct archive *a, void *data, const void **buf)
{
	struct pass *p = data;
	la_ssize_t n = archive_read_data(p->raw, p->rawbuf, sizeof(p->rawbuf));

	if (n < 0) {
		if (!p->err)
			ou_error_set(&p->err, EBADMSG, "%s", archive_error_string(p->raw));
		archive_set_error(a, EIO, "%s", p->err->message);
		return -1;
	}
	if (n > 0) {
		ou_sha256_update(p->diff, p->rawbuf, (size_t)n);
		if (p->reencode &&
		    ou_blob_writer_write(p->reencode, p->rawbuf, (size_t)n, &p->err) < 0) {
			archive_set_error(a, EIO, "%s", p->err->message);
			return -1;
		}
	}
	*buf = p->rawbuf;
	return n;
}

/* The outermost compression of @path as libarchive sees it, and how many filters. */
static int detect_filter(const char *path, int *ret_code, int *ret_count, struct ou_error **err)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	int r;

	archive_read_support_filter_all(a);
	archive_read_support_format_raw(a);
	r = archive_read_open_filename(a, path, BUFSZ);
	if (r == ARCHIVE_OK)
		r = archive_read_next_header(a, &e);
	if (r < ARCHIVE_WARN) {
		r = ou_error_set(err, EBADMSG, "cannot read base '%s': %s", path,
				 archive_error_string(a) ? archive_error_string(a) : "empty file");
		archive_read_free(a);
		return r;
	}
	*ret_count = archive_filter_count(a) - 1;
	*ret_code = archive_filter_code(a, 0);
	archive_read_free(a);
	return 0;
}

static int spill(struct archive *t, struct ou_base_node *n, const char *name, struct ou_error **err)
{
	const char *tmpdir = getenv("TMPDIR");
	char buf[65536];
	la_ssize_t got;
	int fd;

	if (!tmpdir || !*tmpdir)
		tmpdir = "/tmp";
	fd = open(tmpdir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0) {
		char *tmpl = xasprintf("%s/ociuser-XXXXXX", tmpdir);
		fd = mkostemp(tmpl, O_CLOEXEC);
		if (fd >= 0)
			unlink(tmpl);
		free(tmpl);
	}
	if (fd < 0)
		return ou_error_set(err, errno, "cannot create a temporary file in '%s': %s", tmpdir,
				    strerror(errno));
	n->content_fd = fd;
	while ((got = archive_read_data(t, buf, sizeof(buf))) > 0) {
		const char *q = buf;
		while (got > 0) {
			ssize_t w = write(fd, q, (size_t)got);
			if (w < 0) {
				if (errno == EINTR)
					continue;
				return ou_error_set(err, errno,
						    "cannot keep a copy of base entry '%s': %s",
						    name, strerror(errno));
			}
			q += w;
			got -= w;
		}
	}
	if (got < 0)
		return ou_error_set(err, EBADMSG, "cannot read base entry '%s': %s", name,
				    archive_error_string(t));
	return 0;
}

static enum ou_entry_type entry_type(struct archive_entry *e)
{
	if (archive_entry_hardlink(e))
		return OU_ENTRY_HARDLINK;
	switch (archive_entry_filetype(e)) {
	case AE_IFREG:
		return OU_ENTRY_FILE;
	case AE_IFDIR:
		return OU_ENTRY_DIR;
	case AE_IFLNK:
		return OU_ENTRY_SYMLINK;
	default:
		return OU_ENTRY_OTHER;
	}
}

static int note_entry(struct pass *p, struct archive *t, struct archive_entry *e,
		      struct ou_error **err)
{
	struct ou_base *b = p->base;
	_cleanup_free_ char *rel = NULL;
	const char *name = archive_entry_pathname(e);
	bool captured;
	struct ou_base_node *n;
	int r;

	if (!name)
		return ou_error_set(err, EBADMSG, "an entry of base '%s' has no readable name",
				    b->path);
	r = ou_path_from_tar(name, &rel, err);
	if (r < 0)
		return ou_error_prefix(err, "base '%s'", b->path);
	captured = ou_strmap_get(&b->capture, rel) != NULL;
	if (!p->record && !captured)
		return 0;

	n = xcalloc(1, sizeof(*n));
	n->content_fd = -1;
	n->type = entry_type(e);
	n->mode = archive_entry_perm(e) & 07777;
	n->uid = (uint32_t)archive_entry_uid(e);
	n->gid = (uint32_t)archive_entry_gid(e);
	n->size = archive_entry_size(e);
	if (n->type == OU_ENTRY_HARDLINK) {
		r = ou_path_from_tar(archive_entry_hardlink(e), &n->link, err);
		if (r < 0) {
			node_free(n);
			return ou_error_prefix(err, "base '%s': hard link '%s'", b->path, name);
		}
	} else if (n->type == OU_ENTRY_SYMLINK) {
		const char *target = archive_entry_symlink(e);
		n->link = xstrdup(target ? target : "");
	}
	if (captured) {
		n->entry = archive_entry_clone(e);
		if (n->type == OU_ENTRY_FILE) {
			r = spill(t, n, name, err);
			if (r < 0) {
				node_free(n);
				return ou_error_prefix(err, "base '%s'", b->path);
			}
		}
	}
	if (!p->record) {
		/* A later pass only adds what it captured to the node already noted. */
		struct ou_base_node *old = ou_strmap_get(&b->nodes, rel);
		if (old) {
			if (old->entry)
				archive_entry_free(old->entry);
			if (old->content_fd >= 0)
				close(old->content_fd);
			old->entry = TAKE_PTR(n->entry);
			old->content_fd = n->content_fd;
			n->content_fd = -1;
		}
		node_free(n);
		return 0;
	}
	/* The same path twice: the later entry wins, as on extraction. */
	node_free(ou_strmap_put(&b->nodes, rel, n));
	return 0;
}

/* Runs one pass over the base file; @p is set up by the caller. */
static int run_pass(struct pass *p, struct ou_error **err)
{
	struct ou_base *b = p->base;
	struct archive *t = NULL;
	struct archive_entry *e;
	const char *last = NULL;
	_cleanup_free_ char *last_name = NULL;
	int r;

	p->fd = open(b->path, O_RDONLY | O_CLOEXEC);
	if (p->fd < 0)
		return ou_error_set(err, errno, "cannot open base '%s': %s", b->path,
				    strerror(errno));
	p->diff = ou_sha256_new();
	p->raw = archive_read_new();
	archive_read_support_filter_all(p->raw);
	archive_read_support_format_raw(p->raw);
	if (archive_read_open(p->raw, p, NULL, file_in, NULL) != ARCHIVE_OK ||
	    archive_read_next_header(p->raw, &e) < ARCHIVE_WARN) {
		r = ou_error_set(err, EBADMSG, "cannot read base '%s': %s", b->path,
				 p->err ? p->err->message : archive_error_string(p->raw));
		goto out;
	}
	t = archive_read_new();
	archive_read_support_format_tar(t);
	if (archive_read_open(t, p, NULL, tar_in, NULL) != ARCHIVE_OK) {
		r = ou_error_set(err, EBADMSG, "base '%s' is not a tar archive: %s", b->path,
				 p->err ? p->err->message : archive_error_string(t));
		goto out;
	}
	for (;;) {
		r = archive_read_next_header(t, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			if (last_name)
				r = ou_error_set(err, EBADMSG,
						 "base '%s' is corrupt after entry '%s': %s",
						 b->path, last_name,
						 p->err ? p->err->message : archive_error_string(t));
			else
				r = ou_error_set(err, EBADMSG, "base '%s' is not a tar archive: %s",
						 b->path,
						 p->err ? p->err->message
							: archive_error_string(t));
			goto out;
		}
		last = archive_entry_pathname(e);
		free(last_name);
		last_name = xstrdup(last ? last : "?");
		r = note_entry(p, t, e, err);
		if (r < 0)
			goto out;
		if (archive_read_data_skip(t) < ARCHIVE_WARN) {
			r = ou_error_set(err, EBADMSG, "base '%s' is corrupt in entry '%s': %s",
					 b->path, last_name,
					 p->err ? p->err->message : archive_error_string(t));
			goto out;
		}
	}
	/* The diff_id covers every uncompressed byte, padding after the end marker too. */
	for (;;) {
		const void *buf;
		la_ssize_t n = tar_in(t, p, &buf);
		if (n < 0) {
			r = ou_error_set(err, EBADMSG, "base '%s' is corrupt at its end: %s", b->path,
					 p->err ? p->err->message : "read error");
			goto out;
		}
		if (n == 0)
			break;
	}
	/* Bytes after the compressed stream still belong to the blob kept as is. */
	if (p->keep) {
		const void *buf;
		for (;;) {
			la_ssize_t n = file_in(p->raw, p, &buf);
			if (n < 0) {
				r = ou_error_set(err, EIO, "cannot read base '%s': %s", b->path,
						 p->err ? p->err->message : strerror(errno));
				goto out;
			}
			if (n == 0)
				break;
		}
	}
	r = 0;
out:
	if (t)
		archive_read_free(t);
	archive_read_free(p->raw);
	p->raw = NULL;
	close(p->fd);
	p->fd = -1;
	ou_error_free(p->err);
	p->err = NULL;
	return r;
}

int ou_base_open_tarball(const char *path, int blob_dirfd, enum ou_blob_codec recompress,
			 const char *const *capture, size_t n_capture, struct ou_base **ret,
			 struct ou_error **err)
{
	_cleanup_(ou_base_freep) struct ou_base *b = NULL;
	_cleanup_(ou_blob_writer_freep) struct ou_blob_writer *keep = NULL;
	_cleanup_(ou_blob_writer_freep) struct ou_blob_writer *reencode = NULL;
	struct ou_blob_result res;
	struct pass *p;
	const char *slash;
	int code = 0, count = 0, r;

	b = xcalloc(1, sizeof(*b));
	b->path = xstrdup(path);
	slash = strrchr(path, '/');
	b->name = xstrdup(slash ? slash + 1 : path);
	for (size_t i = 0; i < n_capture; i++)
		ou_strmap_put(&b->capture, capture[i], (void *)1);

	r = detect_filter(path, &code, &count, err);
	if (r < 0)
		return r;
	if (count == 0 || (count == 1 && (code == ARCHIVE_FILTER_GZIP || code == ARCHIVE_FILTER_ZSTD))) {
		/* Already in an OCI layer encoding: the file is the blob, byte for byte. */
		enum ou_blob_codec c = count == 0 ? OU_BLOB_TAR : OU_BLOB_STORE;
		r = ou_blob_writer_new(blob_dirfd, c, &keep, err);
		b->layer.reused = true;
		b->layer.media_type = count == 0 ? ou_blob_layer_media_type(OU_BLOB_TAR)
				      : code == ARCHIVE_FILTER_GZIP
					      ? ou_blob_layer_media_type(OU_BLOB_GZIP)
					      : ou_blob_layer_media_type(OU_BLOB_ZSTD);
	} else {
		r = ou_blob_writer_new(blob_dirfd, recompress, &reencode, err);
		b->layer.media_type = ou_blob_layer_media_type(recompress);
	}
	if (r < 0)
		return r;

	p = xcalloc(1, sizeof(*p));
	p->base = b;
	p->fd = -1;
	p->record = true;
	p->keep = keep;
	p->reencode = reencode;
	r = run_pass(p, err);
	if (r >= 0) {
		char diff[OU_DIGEST_STRLEN];
		ou_sha256_final(p->diff, diff);
		r = ou_blob_writer_finish(keep ? keep : reencode, &res, err);
		if (r >= 0) {
			memcpy(b->layer.digest, res.digest, sizeof(res.digest));
			memcpy(b->layer.diff_id, diff, sizeof(diff));
			b->layer.size = res.size;
		}
	}
	ou_sha256_free(p->diff);
	free(p);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(b);
	return 0;
}

int ou_base_capture(struct ou_base *b, const char *const *paths, size_t n, struct ou_error **err)
{
	struct pass *p;
	bool needed = false;
	int r;

	for (size_t i = 0; i < n; i++) {
		if (ou_strmap_get(&b->capture, paths[i]))
			continue;
		ou_strmap_put(&b->capture, paths[i], (void *)1);
		needed = true;
	}
	if (!needed)
		return 0;
	p = xcalloc(1, sizeof(*p));
	p->base = b;
	p->fd = -1;
	r = run_pass(p, err);
	ou_sha256_free(p->diff);
	free(p);
	return r;
}

const struct ou_base_layer *ou_base_layers(const struct ou_base *b, size_t *ret_n)
{
	*ret_n = 1;
	return &b->layer;
}

const struct ou_base_node *ou_base_lookup(const struct ou_base *b, const char *path)
{
	return ou_strmap_get(&b->nodes, path);
}

const char *ou_base_name(const struct ou_base *b)
{
	return b->name;
}

int ou_base_resolve(const struct ou_base *b, const char *path, bool follow_last, char **ret_path,
		    struct ou_error **err)
{
	struct ou_strbuf done = OU_STRBUF_INIT;
	_cleanup_free_ char *todo = xstrdup(path);
	_cleanup_free_ char *via = NULL;
	unsigned links = 0;

	for (;;) {
		char *rest, *comp = todo;
		const struct ou_base_node *n;
		size_t mark;

		while (*comp == '/')
			comp++;
		if (!*comp)
			break;
		rest = strchr(comp, '/');
		if (rest)
			*rest++ = '\0';
		else
			rest = comp + strlen(comp);
		if (strcmp(comp, ".") == 0) {
			memmove(todo, rest, strlen(rest) + 1);
			continue;
		}
		if (strcmp(comp, "..") == 0) {
			char *cut = strrchr(ou_strbuf_str(&done), '/');
			if (!done.len) {
				ou_strbuf_release(&done);
				return ou_error_set(err, EINVAL,
						    "'/%s' leads out of the image root through the "
						    "base's symbolic link '/%s'",
						    path, via ? via : path);
			}
			done.len = cut ? (size_t)(cut - done.buf) : 0;
			done.buf[done.len] = '\0';
			memmove(todo, rest, strlen(rest) + 1);
			continue;
		}
		mark = done.len;
		if (done.len)
			ou_strbuf_putc(&done, '/');
		ou_strbuf_puts(&done, comp);
		n = ou_base_lookup(b, done.buf);
		if (n && n->type == OU_ENTRY_SYMLINK && (*rest || follow_last)) {
			char *next;
			if (++links > MAX_LINKS) {
				ou_strbuf_release(&done);
				return ou_error_set(err, ELOOP,
						    "too many symbolic links in the base while "
						    "resolving '/%s'",
						    path);
			}
			free(via);
			via = xstrdup(done.buf);
			next = xasprintf("%s/%s", n->link, rest);
			if (n->link[0] == '/')
				done.len = 0;
			else
				done.len = mark;
			done.buf[done.len] = '\0';
			free(todo);
			todo = next;
			continue;
		}
		memmove(todo, rest, strlen(rest) + 1);
	}
	*ret_path = ou_strbuf_steal(&done);
	return 0;
}

int ou_base_read_captured(const struct ou_base *b, const char *path, size_t max, char **ret_data,
			  size_t *ret_len, bool *ret_present, struct ou_error **err)
{
	const struct ou_base_node *n = ou_base_lookup(b, path);
	struct ou_strbuf sb = OU_STRBUF_INIT;
	char buf[65536];
	off_t off = 0;

	if (!n) {
		*ret_data = NULL;
		*ret_len = 0;
		*ret_present = false;
		return 0;
	}
	if (n->type != OU_ENTRY_FILE)
		return ou_error_set(err, EBADMSG,
				    "base entry '/%s' is a %s, not a regular file: ociuser edits only "
				    "regular files",
				    path,
				    n->type == OU_ENTRY_SYMLINK    ? "symbolic link"
				    : n->type == OU_ENTRY_HARDLINK ? "hard link"
				    : n->type == OU_ENTRY_DIR      ? "directory"
								   : "special file");
	if (n->content_fd < 0)
		return ou_error_set(err, EIO, "base entry '/%s' was not kept", path);
	if (n->size > (int64_t)max)
		return ou_error_set(err, EFBIG, "base entry '/%s' is larger than %zu bytes", path,
				    max);
	for (;;) {
		ssize_t got = pread(n->content_fd, buf, sizeof(buf), off);
		if (got < 0) {
			ou_strbuf_release(&sb);
			return ou_error_set(err, errno, "cannot read the copy of '/%s': %s", path,
					    strerror(errno));
		}
		if (got == 0)
			break;
		if (sb.len + (size_t)got > max) {
			ou_strbuf_release(&sb);
			return ou_error_set(err, EFBIG, "base entry '/%s' is larger than %zu bytes",
					    path, max);
		}
		ou_strbuf_append(&sb, buf, (size_t)got);
		off += got;
	}
	*ret_len = sb.len;
	*ret_data = ou_strbuf_steal(&sb);
	*ret_present = true;
	return 0;
}

struct ou_base *ou_base_free(struct ou_base *b)
{
	if (!b)
		return NULL;
	ou_strmap_release(&b->nodes, node_free);
	ou_strmap_release(&b->capture, NULL);
	free(b->path);
	free(b->name);
	free(b);
	return NULL;
}
