/* SPDX-License-Identifier: MIT */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "ociuser/base.h"
#include "ociuser/digest.h"
#include "ociuser/json.h"
#include "ociuser/path.h"
#include "ociuser/strbuf.h"
#include "ociuser/strmap.h"
#include "ociuser/xalloc.h"

#define BUFSZ (128 * 1024)
#define MAX_LINKS 40
#define MAX_INDEX_DEPTH 4

#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define REF_NAME "org.opencontainers.image.ref.name"

/* One layer to read: a tarball, or a blob of a layout with what it must hash to. */
struct source {
	char *file;    /* host path */
	char *display; /* how messages name it */
	char *want_digest;
	int64_t want_size; /* -1: not known */
	char *want_diff_id;
};

struct ou_base {
	char *name;               /* how messages and history name the base */
	struct ou_strmap nodes;   /* path -> struct ou_base_node (NULL: deleted by a whiteout) */
	struct ou_strmap capture; /* paths whose header and content are kept */
	struct ou_base_layer *layers;
	struct source *src;
	size_t n_layers;
	json_t *config;
	char *ref_name;
	char *manifest_digest;
	bool keep_dir_headers;
};

enum pass_mode {
	PASS_RECORD,  /* note every entry into the view */
	PASS_CAPTURE, /* keep header and content of newly asked paths */
	PASS_REPLAY,  /* hand the final entries to a callback */
};

/* One pass over one layer: file -> (hash, keep) -> decompress -> (diff_id, re-encode) -> tar. */
struct pass {
	struct ou_base *base;
	unsigned layer;
	enum pass_mode mode;
	int fd;
	dev_t dev; /* the file read, as fstat saw it */
	ino_t ino;
	struct ou_blob_writer *keep; /* stores the file's bytes as they are */
	struct ou_blob_writer *reencode;
	struct ou_sha256 *file_hash;
	int64_t file_size;
	struct ou_sha256 *diff;
	int64_t tar_bytes; /* uncompressed bytes the layer really has */
	uLong crc;         /* CRC-32 of those bytes, for the gzip trailer */
	int64_t tar_end;   /* tar_bytes when the stream ended, or -1 */
	unsigned padding;  /* zero bytes still to give the tar reader after the end */
	/* The raw header blocks of the entry being read, to check its pax records. */
	struct ou_strbuf win;
	int64_t win_start;  /* stream offset of win's first byte */
	int64_t skip_until; /* entry data before this offset is not kept in win */
	bool win_overflow;
	struct archive *raw;
	struct ou_error *err; /* first failure inside a callback */
	ou_base_entry_fn fn;
	void *fn_ctx;
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

const char *ou_host_architecture(void)
{
#if defined(__x86_64__)
	return "amd64";
#elif defined(__aarch64__)
	return "arm64";
#elif defined(__i386__)
	return "386";
#elif defined(__arm__)
	return "arm";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return "ppc64le";
#elif defined(__s390x__)
	return "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
	return "riscv64";
#else
	return "unknown";
#endif
}

/* ------------------------------------------------------------------------ */
/* Reading one layer                                                        */

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
	if (n > 0) {
		ou_sha256_update(p->file_hash, p->inbuf, (size_t)n);
		p->file_size += n;
		if (p->keep && ou_blob_writer_write(p->keep, p->inbuf, (size_t)n, &p->err) < 0) {
			archive_set_error(a, EIO, "%s", p->err->message);
			return -1;
		}
	}
	*buf = p->inbuf;
	return n;
}

/*
 * Some writers (umoci 0.4's insert among them) end a layer right after the
 * last file's data, without the block padding and the end-of-archive
 * blocks, and the Go readers every runtime uses accept that. So once the
 * stream ends the tar reader gets up to three blocks of zeros, which are
 * not part of the layer (nor of its diff_id); an entry whose data reaches
 * past the real end is still an error (see content_complete()).
 */
#define TAIL_PADDING (3 * 512)

/* Header blocks and pax records larger than this are left to libarchive. */
#define WINDOW_MAX (4 * 1024 * 1024)

/* Keeps the stream bytes at @off that may be header blocks (not entry data). */
static void window_add(struct pass *p, int64_t off, const char *buf, size_t n)
{
	int64_t end = off + (int64_t)n;

	if (p->win_overflow || end <= p->skip_until)
		return;
	if (off < p->skip_until) {
		buf += p->skip_until - off;
		n -= (size_t)(p->skip_until - off);
		off = p->skip_until;
	}
	if (!p->win.len || off != p->win_start + (int64_t)p->win.len) {
		p->win.len = 0;
		p->win_start = off;
	}
	if (p->win.len + n > WINDOW_MAX) {
		p->win_overflow = true;
		ou_strbuf_release(&p->win);
		return;
	}
	ou_strbuf_append(&p->win, buf, n);
}

/* Forgets what comes before @until: the next entry's headers start there. */
static void window_drop(struct pass *p, int64_t until)
{
	if (p->win_overflow) {
		p->win_overflow = false;
		p->win.len = 0;
	} else if (until > p->win_start) {
		size_t cut = (size_t)(until - p->win_start) < p->win.len
		                     ? (size_t)(until - p->win_start)
		                     : p->win.len;
		memmove(p->win.buf, p->win.buf + cut, p->win.len - cut);
		p->win.len -= cut;
		p->win_start += (int64_t)cut;
	}
	p->skip_until = until;
}

/* A ustar numeric field: octal (NUL/space padded) or base-256; -1 when malformed. */
static int64_t ustar_number(const unsigned char *f, size_t len)
{
	int64_t v = 0;
	size_t i = 0;

	if (f[0] & 0x80) {
		if (f[0] != 0x80)
			return -1;
		for (i = 1; i < len; i++) {
			if (v > (INT64_MAX >> 8))
				return -1;
			v = (v << 8) | f[i];
		}
		return v;
	}
	while (i < len && f[i] == ' ')
		i++;
	for (; i < len && f[i] >= '0' && f[i] <= '7'; i++) {
		if (v > (INT64_MAX >> 3))
			return -1;
		v = v * 8 + (f[i] - '0');
	}
	for (; i < len; i++)
		if (f[i] != ' ' && f[i] != '\0')
			return -1;
	return v;
}

static bool all_digits(const char *v, size_t len, bool fraction)
{
	size_t i = 0;
	bool dot = false;

	if (fraction && len && v[0] == '-')
		i++;
	if (i >= len)
		return false;
	for (; i < len; i++) {
		if (v[i] == '.' && fraction && !dot) {
			dot = true;
			continue;
		}
		if (v[i] < '0' || v[i] > '9')
			return false;
	}
	return true;
}

/*
 * Checks pax records as strictly as Go's archive/tar reads them:
 * "LEN KEY=VALUE\n", LEN the record's exact decimal length, and the
 * numeric keys numbers. libarchive skips what it cannot parse, but the
 * base layer is reused as it is, and runtimes would refuse it.
 */
static int check_pax(const char *d, size_t len, const char *name, const struct source *s,
                     struct ou_error **err)
{
	static const char *const numeric[] = {"size", "uid", "gid", "devmajor", "devminor"};
	size_t off = 0;

	while (off < len) {
		size_t rec = 0, i = off, key, eq;
		const char *why = NULL;

		while (i < len && d[i] >= '0' && d[i] <= '9' && rec <= len)
			rec = rec * 10 + (size_t)(d[i++] - '0');
		if (i == off || i >= len || d[i] != ' ')
			why = "a record does not start with its length";
		else if (rec < 5 || rec > len - off)
			why = "a record's length runs past the header";
		else if (d[off + rec - 1] != '\n')
			why = "a record does not end where its length says";
		if (!why) {
			key = i + 1;
			eq = key;
			while (eq < off + rec - 1 && d[eq] != '=')
				eq++;
			if (eq == key || eq >= off + rec - 1)
				why = "a record has no KEY=VALUE";
			for (size_t k = 0; !why && k < ELEMENTSOF(numeric); k++)
				if (eq - key == strlen(numeric[k]) &&
				    memcmp(d + key, numeric[k], eq - key) == 0 &&
				    !all_digits(d + eq + 1, off + rec - 2 - eq, false))
					why = "a numeric record is not a number";
			if (!why && eq - key == 5 && memcmp(d + key, "mtime", 5) == 0 &&
			    !all_digits(d + eq + 1, off + rec - 2 - eq, true))
				why = "its mtime record is not a number";
		}
		if (why)
			return ou_error_set(err, EBADMSG,
			                    "%s: entry '%s' has malformed pax records: %s",
			                    s->display, name, why);
		off += rec;
	}
	return 0;
}

/* Checks the extension headers in front of the entry whose headers span [from, to). */
static int check_headers(struct pass *p, int64_t from, int64_t to, const char *name,
                         struct ou_error **err)
{
	const struct source *src = &p->base->src[p->layer];
	const unsigned char *w = (const unsigned char *)p->win.buf;
	int64_t off = from;
	int r;

	/* Only what the window holds whole is checked (not after an overflow). */
	if (p->win_overflow || from < p->win_start || to > p->win_start + (int64_t)p->win.len)
		return 0;
	while (off + 512 <= to) {
		const unsigned char *h = w + (off - p->win_start);
		int64_t size = ustar_number(h + 124, 12);
		char type = (char)h[156];

		off += 512;
		if (type != 'x' && type != 'g' && type != 'L' && type != 'K')
			break;
		if (size < 0 || size > to - off)
			return ou_error_set(err, EBADMSG,
			                    "%s: entry '%s' has an extension header whose size is "
			                    "malformed",
			                    src->display, name);
		if (type == 'x' || type == 'g') {
			r = check_pax(p->win.buf + (off - p->win_start), (size_t)size, name, src,
			              err);
			if (r < 0)
				return r;
		}
		off += (size + 511) / 512 * 512;
	}
	return 0;
}

static la_ssize_t tar_in(struct archive *a, void *data, const void **buf)
{
	struct pass *p = data;
	la_ssize_t n;

	if (p->tar_end >= 0) {
		n = p->padding < sizeof(p->rawbuf) ? p->padding : (la_ssize_t)sizeof(p->rawbuf);
		memset(p->rawbuf, 0, (size_t)n);
		p->padding -= (unsigned)n;
		*buf = p->rawbuf;
		return n;
	}
	n = archive_read_data(p->raw, p->rawbuf, sizeof(p->rawbuf));
	if (n == 0) {
		p->tar_end = p->tar_bytes;
		p->padding = TAIL_PADDING;
		return tar_in(a, data, buf);
	}
	if (n < 0) {
		if (!p->err)
			ou_error_set(&p->err, EBADMSG, "%s", archive_error_string(p->raw));
		archive_set_error(a, EIO, "%s", p->err->message);
		return -1;
	}
	if (n > 0) {
		window_add(p, p->tar_bytes, p->rawbuf, (size_t)n);
		p->tar_bytes += n;
		p->crc = crc32(p->crc, (const Bytef *)p->rawbuf, (uInt)n);
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

/* A FIFO or a device would block or never end: only regular files are read. */
static int check_regular(const char *path, const char *display, struct ou_error **err)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return ou_error_set(err, errno, "cannot open %s: %s", display, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return ou_error_set(err, EINVAL, "%s is not a regular file", display);
	return 0;
}

/* The compression of @path as libarchive sees it, and how many filters. */
static int detect_filter(const struct source *s, int *ret_code, int *ret_count, char **ret_name,
                         struct ou_error **err)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	int r;

	archive_read_support_filter_all(a);
	archive_read_support_format_raw(a);
	r = archive_read_open_filename(a, s->file, BUFSZ);
	if (r == ARCHIVE_OK)
		r = archive_read_next_header(a, &e);
	if (r < ARCHIVE_WARN) {
		r = ou_error_set(err, EBADMSG, "cannot read %s: %s", s->display,
		                 archive_error_string(a) ? archive_error_string(a) : "empty file");
		archive_read_free(a);
		return r;
	}
	*ret_count = archive_filter_count(a) - 1;
	*ret_code = archive_filter_code(a, 0);
	*ret_name = xstrdup(archive_filter_name(a, 0) ? archive_filter_name(a, 0) : "?");
	archive_read_free(a);
	return 0;
}

int ou_base_keep_content(ou_base_read_fn read_fn, void *rctx, const char *what, int *ret_fd,
                         int64_t *ret_size, struct ou_error **err)
{
	const char *tmpdir = getenv("TMPDIR");
	_cleanup_close_ int fd = -1;
	char buf[65536];
	int64_t size = 0;
	ssize_t got;

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
		return ou_error_set(err, errno, "cannot create a temporary file in '%s': %s",
		                    tmpdir, strerror(errno));
	while ((got = read_fn(rctx, buf, sizeof(buf))) > 0) {
		int r = ou_write_all(fd, buf, (size_t)got);
		if (r < 0)
			return ou_error_set(err, -r, "cannot keep a copy of %s: %s", what,
			                    strerror(-r));
		size += got;
	}
	if (got < 0)
		return ou_error_set(err, EBADMSG, "cannot read %s", what);
	*ret_fd = TAKE_FD(fd);
	if (ret_size)
		*ret_size = size;
	return 0;
}

static ssize_t replay_read(void *rctx, void *buf, size_t len)
{
	return archive_read_data(rctx, buf, len);
}

/* Keeps the content of the entry being read in @n's content_fd. */
static int spill(struct archive *t, struct ou_base_node *n, const char *name,
                 const struct source *s, struct ou_error **err)
{
	_cleanup_free_ char *what = xasprintf("entry '%s' of %s", name, s->display);
	int r = ou_base_keep_content(replay_read, t, what, &n->content_fd, NULL, err);

	if (r == -EBADMSG && archive_error_string(t))
		return ou_error_set(err, EBADMSG, "cannot read %s: %s", what,
		                    archive_error_string(t));
	return r;
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

/* Deletes what layers below @layer have at and below @dir ("" is everything). */
static void hide(struct ou_base *b, const char *dir, bool self, unsigned layer)
{
	size_t len = strlen(dir), i = 0;
	const char *key;
	void *v;

	while (ou_strmap_next(&b->nodes, &i, &key, &v)) {
		struct ou_base_node *n = v;
		bool under =
		        len == 0 ? key[0] != '\0' : strncmp(key, dir, len) == 0 && key[len] == '/';
		if (!n || n->layer >= layer)
			continue;
		if (under || (self && strcmp(key, dir) == 0)) {
			ou_strmap_put(&b->nodes, key, NULL);
			node_free(n);
		}
	}
}

/*
 * A whiteout entry: applies it to the view. Returns 1 when @rel was one, 0
 * when not, and an error for one that names no entry (".wh.", ".wh..",
 * ".wh...": runtimes would delete the folder itself or its parent).
 */
static int whiteout(struct pass *p, const char *rel, const char *name, struct ou_error **err)
{
	const char *base = ou_path_basename(rel);
	_cleanup_free_ char *parent = NULL, *target = NULL;

	if (strncmp(base, ".wh.", 4) != 0)
		return 0;
	if (!base[4] || strcmp(base + 4, ".") == 0 || strcmp(base + 4, "..") == 0)
		return ou_error_set(err, EBADMSG,
		                    "%s: whiteout '%s' names no entry ('%s' is not a file name)",
		                    p->base->src[p->layer].display, name, base + 4);
	if (p->mode != PASS_RECORD)
		return 1;
	parent = ou_path_parent(rel);
	if (strcmp(base, ".wh..wh..opq") == 0) {
		hide(p->base, parent, false, p->layer);
		return 1;
	}
	target = ou_path_join(parent, base + 4);
	hide(p->base, target, true, p->layer);
	return 1;
}

static int record(struct pass *p, struct archive *t, struct archive_entry *e, const char *name,
                  const char *rel, uint64_t ordinal, struct ou_error **err)
{
	struct ou_base *b = p->base;
	const struct source *s = &b->src[p->layer];
	uintptr_t captured = (uintptr_t)ou_strmap_get(&b->capture, rel);
	struct ou_base_node *n, *old;
	int r;

	n = xcalloc(1, sizeof(*n));
	n->content_fd = -1;
	n->layer = p->layer;
	n->ordinal = ordinal;
	n->type = entry_type(e);
	n->mode = archive_entry_perm(e) & 07777;
	n->uid = (uint32_t)archive_entry_uid(e);
	n->gid = (uint32_t)archive_entry_gid(e);
	n->size = archive_entry_size(e);
	if (n->type == OU_ENTRY_HARDLINK) {
		struct ou_base_node *target;
		r = ou_path_from_tar(archive_entry_hardlink(e), &n->link, err);
		if (r < 0) {
			node_free(n);
			return ou_error_prefix(err, "%s: hard link '%s'", s->display, name);
		}
		/* Extractors link to what is already there: the target comes first, same layer. */
		target = ou_strmap_get(&b->nodes, n->link);
		if (!target || target->layer != p->layer || target->type == OU_ENTRY_DIR) {
			r = ou_error_set(err, EBADMSG,
			                 "%s: hard link '%s' points to '%s', which is not a file "
			                 "earlier in the same layer",
			                 s->display, name, n->link);
			node_free(n);
			return r;
		}
		/* A link to a link is a link to the file the first one names. */
		if (target->type == OU_ENTRY_HARDLINK) {
			free(n->link);
			n->link = xstrdup(target->link);
			target = ou_strmap_get(&b->nodes, n->link);
		}
		if (target)
			target->hardlinked = true;
	} else if (n->type == OU_ENTRY_SYMLINK) {
		const char *target = archive_entry_symlink(e);
		n->link = xstrdup(target ? target : "");
	}
	if (captured || (n->type == OU_ENTRY_DIR && b->keep_dir_headers))
		n->entry = archive_entry_clone(e);
	/* A file read into memory later is not even copied when it is too big for that. */
	if (captured && n->type == OU_ENTRY_FILE &&
	    (captured == 1 || n->size <= OU_MAX_CAPTURE_MEMORY)) {
		r = spill(t, n, name, s, err);
		if (r < 0) {
			node_free(n);
			return r;
		}
	}
	old = ou_strmap_put(&b->nodes, rel, n);
	/* Anything but a folder over a folder of a lower layer hides what was below it. */
	if (old && old->type == OU_ENTRY_DIR && n->type != OU_ENTRY_DIR)
		hide(b, rel, false, p->layer);
	/* The same path twice: the later entry wins, as on extraction. */
	node_free(old);
	return 0;
}

/* A later pass: keeps the header and content of a newly captured path. */
static int capture(struct pass *p, struct archive *t, struct archive_entry *e, const char *name,
                   const char *rel, uint64_t ordinal, struct ou_error **err)
{
	struct ou_base *b = p->base;
	struct ou_base_node *n = ou_strmap_get(&b->nodes, rel);
	int r;

	if (!n || n->layer != p->layer || n->ordinal != ordinal || n->entry ||
	    !ou_strmap_get(&b->capture, rel))
		return 0;
	n->entry = archive_entry_clone(e);
	if (n->type == OU_ENTRY_FILE && n->content_fd < 0) {
		r = spill(t, n, name, &b->src[p->layer], err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int replay(struct pass *p, struct archive *t, struct archive_entry *e, const char *rel,
                  uint64_t ordinal, struct ou_error **err)
{
	struct ou_base *b = p->base;
	const struct ou_base_node *n = ou_strmap_get(&b->nodes, rel);
	struct archive_entry *h;
	int r;

	/* Folders went first; only the surviving copy of each path is passed. */
	if (!n || n->type == OU_ENTRY_DIR || n->layer != p->layer || n->ordinal != ordinal)
		return 0;
	h = archive_entry_clone(e);
	archive_entry_set_pathname(h, rel);
	if (n->type == OU_ENTRY_HARDLINK) {
		const struct ou_base_node *target = ou_strmap_get(&b->nodes, n->link);
		if (!target || target->layer != p->layer || target->ordinal >= ordinal) {
			archive_entry_free(h);
			return ou_error_set(err, EBADMSG,
			                    "%s: hard link '/%s' points to '/%s', which a later "
			                    "layer replaced or deleted; it cannot be squashed",
			                    b->src[p->layer].display, rel, n->link);
		}
		archive_entry_set_hardlink(h, n->link);
	}
	r = p->fn(p->fn_ctx, rel, h, replay_read, t, err);
	archive_entry_free(h);
	return r;
}

/* Names no Linux file system can hold are refused: no runtime could unpack them. */
static int check_name_length(const char *rel, const struct source *s, struct ou_error **err)
{
	size_t comp = 0;

	if (strlen(rel) >= 4096)
		return ou_error_set(
		        err, EBADMSG,
		        "%s: an entry's name is %zu bytes long (starting '%.64s'); Linux "
		        "paths end at 4095",
		        s->display, strlen(rel), rel);
	for (const char *c = rel;; c++) {
		if (*c == '/' || !*c) {
			if (comp > 255)
				return ou_error_set(
				        err, EBADMSG,
				        "%s: entry '%.200s' has a name component of %zu "
				        "bytes; Linux names end at 255",
				        s->display, rel, comp);
			comp = 0;
			if (!*c)
				return 0;
		} else {
			comp++;
		}
	}
}

static int handle_entry(struct pass *p, struct archive *t, struct archive_entry *e,
                        uint64_t ordinal, struct ou_error **err)
{
	struct ou_base *b = p->base;
	const struct source *s = &b->src[p->layer];
	_cleanup_free_ char *rel = NULL;
	const char *name = archive_entry_pathname(e);
	int r;

	if (!name)
		return ou_error_set(err, EBADMSG, "an entry of %s has no readable name",
		                    s->display);
	r = ou_path_from_tar(name, &rel, err);
	if (r < 0)
		return ou_error_prefix(err, "%s", s->display);
	r = check_name_length(rel, s, err);
	if (r < 0)
		return r;
	r = whiteout(p, rel, name, err);
	if (r != 0)
		return r < 0 ? r : 0;
	switch (p->mode) {
	case PASS_RECORD:
		return record(p, t, e, name, rel, ordinal, err);
	case PASS_CAPTURE:
		return capture(p, t, e, name, rel, ordinal, err);
	default:
		if (!rel[0])
			return 0; /* the root's own entry: never written by ociuser */
		return replay(p, t, e, rel, ordinal, err);
	}
}

static int run_pass(struct pass *p, struct ou_error **err)
{
	const struct source *s = &p->base->src[p->layer];
	struct archive *t = NULL;
	struct archive_entry *e;
	_cleanup_free_ char *last_name = NULL;
	uint64_t ordinal = 0;
	int64_t data_end;
	const void *buf;
	int r;

	/* O_NONBLOCK: a FIFO put in a blob's place must not block the open */
	p->fd = open(s->file, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (p->fd < 0)
		return ou_error_set(err, errno, "cannot open %s: %s", s->display, strerror(errno));
	{
		struct stat st;

		if (fstat(p->fd, &st) < 0 || !S_ISREG(st.st_mode))
			return ou_error_set(err, EINVAL, "%s is not a regular file", s->display);
		p->dev = st.st_dev;
		p->ino = st.st_ino;
	}
	p->file_hash = ou_sha256_new();
	p->diff = ou_sha256_new();
	p->tar_bytes = 0;
	p->win.len = 0;
	p->win_start = 0;
	p->skip_until = 0;
	p->win_overflow = false;
	p->crc = crc32(0L, Z_NULL, 0);
	p->tar_end = -1;
	p->padding = 0;
	p->raw = archive_read_new();
	archive_read_support_filter_all(p->raw);
	archive_read_support_format_raw(p->raw);
	if (archive_read_open(p->raw, p, NULL, file_in, NULL) != ARCHIVE_OK ||
	    archive_read_next_header(p->raw, &e) < ARCHIVE_WARN) {
		r = ou_error_set(err, EBADMSG, "cannot read %s: %s", s->display,
		                 p->err ? p->err->message : archive_error_string(p->raw));
		goto out;
	}
	t = archive_read_new();
	archive_read_support_format_tar(t);
	if (archive_read_open(t, p, NULL, tar_in, NULL) != ARCHIVE_OK) {
		r = ou_error_set(err, EBADMSG, "%s is not a tar archive: %s", s->display,
		                 p->err ? p->err->message : archive_error_string(t));
		goto out;
	}
	for (;; ordinal++) {
		r = archive_read_next_header(t, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			const char *why = p->err ? p->err->message : archive_error_string(t);
			if (last_name)
				r = ou_error_set(err, EBADMSG, "%s is corrupt after entry '%s': %s",
				                 s->display, last_name, why);
			else
				r = ou_error_set(err, EBADMSG, "%s is not a tar archive: %s",
				                 s->display, why);
			goto out;
		}
		free(last_name);
		last_name = xstrdup(archive_entry_pathname(e) ? archive_entry_pathname(e) : "?");
		data_end = archive_filter_bytes(t, 0) +
		           (archive_entry_size_is_set(e) ? archive_entry_size(e) : 0);
		r = check_headers(p, archive_read_header_position(t), archive_filter_bytes(t, 0),
		                  last_name, err);
		window_drop(p, archive_filter_bytes(t, 0) +
		                       (data_end - archive_filter_bytes(t, 0) + 511) / 512 * 512);
		if (r < 0)
			goto out;
		r = handle_entry(p, t, e, ordinal, err);
		if (r >= 0 && archive_read_data_skip(t) < ARCHIVE_WARN)
			r = ou_error_set(err, EBADMSG, "%s is corrupt in entry '%s': %s",
			                 s->display, last_name,
			                 p->err ? p->err->message : archive_error_string(t));
		/* Zeros given after the end never stand in for an entry's data. */
		if (p->tar_end >= 0 && data_end > p->tar_end)
			r = ou_error_set(
			        err, EBADMSG,
			        "%s is truncated: entry '%s' needs %lld bytes of data, the "
			        "layer ends %lld bytes short",
			        s->display, last_name, (long long)archive_entry_size(e),
			        (long long)(data_end - p->tar_end));
		if (r < 0)
			goto out;
	}
	/* The diff_id covers every uncompressed byte, padding after the end marker too. */
	for (;;) {
		la_ssize_t n = tar_in(t, p, &buf);
		if (n < 0) {
			r = ou_error_set(err, EBADMSG, "%s is corrupt at its end: %s", s->display,
			                 p->err ? p->err->message : "read error");
			goto out;
		}
		if (n == 0)
			break;
	}
	/* Bytes after the compressed stream still belong to the blob and its digest. */
	for (;;) {
		la_ssize_t n = file_in(p->raw, p, &buf);
		if (n < 0) {
			r = ou_error_set(err, EIO, "cannot read %s: %s", s->display,
			                 p->err ? p->err->message : strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
	}
	r = 0;
out:
	if (t)
		archive_read_free(t);
	archive_read_free(p->raw);
	p->raw = NULL;
	close(p->fd);
	p->fd = -1;
	p->err = ou_error_free(p->err);
	ou_strbuf_release(&p->win);
	return r;
}

static void pass_release(struct pass *p)
{
	p->file_hash = ou_sha256_free(p->file_hash);
	p->diff = ou_sha256_free(p->diff);
}

/* A simple pass (capture or replay) over every layer, bottom first. */
static int run_all(struct ou_base *b, enum pass_mode mode, ou_base_entry_fn fn, void *ctx,
                   struct ou_error **err)
{
	for (size_t i = 0; i < b->n_layers; i++) {
		struct pass *p = xcalloc(1, sizeof(*p));
		int r;

		p->base = b;
		p->layer = (unsigned)i;
		p->mode = mode;
		p->fd = -1;
		p->fn = fn;
		p->fn_ctx = ctx;
		r = run_pass(p, err);
		pass_release(p);
		free(p);
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * Links the blob into the blob folder under a temporary name, when the
 * file system allows and the link changes nothing of the base's: only a
 * regular file (not a symbolic link to one) that is already 0644, since
 * every file in OUT is made 0644 and a hard link shares its mode. Else
 * NULL, and the blob is copied.
 */
static char *link_blob(const struct source *s, int blob_dirfd)
{
	static unsigned counter;
	struct stat st;
	char *tmp;

	if (lstat(s->file, &st) < 0 || !S_ISREG(st.st_mode) || (st.st_mode & 07777) != 0644)
		return NULL;
	tmp = xasprintf(".tmp-blob-link-%d-%u", (int)getpid(), counter++);
	if (linkat(AT_FDCWD, s->file, blob_dirfd, tmp, 0) == 0)
		return tmp;
	free(tmp);
	return NULL;
}

/*
 * Checks every member of the gzip file @s with zlib, which verifies each
 * member's CRC-32 and length; zero bytes after the last member are allowed
 * (some writers pad), anything else is not.
 */
static int check_gzip_members(const struct source *s, struct ou_error **err)
{
	_cleanup_close_ int fd = open(s->file, O_RDONLY | O_CLOEXEC);
	unsigned char in[65536], out[65536];
	z_stream z = {0};
	bool between = false, padding = false;
	int zr = Z_OK, r = 0;
	ssize_t n;

	if (fd < 0)
		return ou_error_set(err, errno, "cannot open %s: %s", s->display, strerror(errno));
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		return ou_error_set(err, ENOMEM, "cannot start zlib");
	while (r == 0 && (n = read(fd, in, sizeof(in))) > 0) {
		z.next_in = in;
		z.avail_in = (uInt)n;
		while (z.avail_in > 0) {
			if (between) {
				/* After a member: another member, or zero padding to the end. */
				unsigned char c = *z.next_in;
				if (c == 0) {
					padding = true;
					z.next_in++;
					z.avail_in--;
					continue;
				}
				if (padding || c != 0x1f) {
					r = ou_error_set(err, EBADMSG,
					                 "%s has bytes after its gzip stream",
					                 s->display);
					break;
				}
				inflateReset(&z);
				between = false;
			}
			z.next_out = out;
			z.avail_out = sizeof(out);
			zr = inflate(&z, Z_NO_FLUSH);
			if (zr == Z_STREAM_END) {
				between = true;
				continue;
			}
			if (zr != Z_OK && zr != Z_BUF_ERROR) {
				r = ou_error_set(err, EBADMSG, "%s is not a valid gzip stream: %s",
				                 s->display, z.msg ? z.msg : "corrupt data");
				break;
			}
		}
	}
	if (r == 0 && !between)
		r = ou_error_set(err, EBADMSG, "%s: its gzip stream is cut short", s->display);
	inflateEnd(&z);
	return r;
}

/*
 * libarchive does not check gzip trailers, but the Go readers every
 * runtime uses do, so a reused gzip layer must have a right one. The
 * usual single member is checked against the CRC computed on the way;
 * anything else is checked member by member.
 */
static int check_gzip_trailer(const struct source *s, const struct pass *p, struct ou_error **err)
{
	_cleanup_close_ int fd = open(s->file, O_RDONLY | O_CLOEXEC);
	unsigned char t[8];
	uint32_t crc, isize;

	if (fd >= 0 && p->file_size >= 18 && pread(fd, t, 8, p->file_size - 8) == 8) {
		crc = (uint32_t)t[0] | (uint32_t)t[1] << 8 | (uint32_t)t[2] << 16 |
		      (uint32_t)t[3] << 24;
		isize = (uint32_t)t[4] | (uint32_t)t[5] << 8 | (uint32_t)t[6] << 16 |
		        (uint32_t)t[7] << 24;
		if (crc == (uint32_t)p->crc && isize == (uint32_t)p->tar_bytes)
			return 0;
	}
	return check_gzip_members(s, err);
}

/*
 * A layer that failed to read: when its bytes do not match its digest,
 * that is the fault to report (a flipped byte makes gzip fail first).
 */
static int blame_digest(const struct source *s, int r, struct ou_error **err)
{
	_cleanup_(ou_sha256_freep) struct ou_sha256 *h = ou_sha256_new();
	_cleanup_close_ int fd = open(s->file, O_RDONLY | O_CLOEXEC);
	char buf[65536], digest[OU_DIGEST_STRLEN];
	ssize_t n;

	if (fd < 0)
		return r;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		ou_sha256_update(h, buf, (size_t)n);
	if (n < 0)
		return r;
	ou_sha256_final(h, digest);
	if (strcmp(digest, s->want_digest) == 0)
		return r;
	return ou_error_set(err, EBADMSG, "%s does not match its digest: its bytes hash to %s",
	                    s->display, digest);
}

/* Reads layer @i for the first time: stores its blob, checks it, notes its entries. */
static int first_pass(struct ou_base *b, unsigned i, int blob_dirfd, enum ou_blob_codec recompress,
                      struct ou_error **err)
{
	struct source *s = &b->src[i];
	struct ou_base_layer *l = &b->layers[i];
	_cleanup_(ou_blob_writer_freep) struct ou_blob_writer *keep = NULL;
	_cleanup_(ou_blob_writer_freep) struct ou_blob_writer *reencode = NULL;
	_cleanup_free_ char *linked = NULL, *filter = NULL;
	struct ou_blob_result res;
	char digest[OU_DIGEST_STRLEN], diff[OU_DIGEST_STRLEN];
	struct pass *p;
	int code = 0, count = 0, r;

	r = detect_filter(s, &code, &count, &filter, err);
	if (r < 0)
		return r;
	if (count == 0 ||
	    (count == 1 && (code == ARCHIVE_FILTER_GZIP || code == ARCHIVE_FILTER_ZSTD))) {
		/* Already in an OCI layer encoding: the blob is kept byte for byte. */
		l->reused = true;
		l->media_type = count == 0 ? ou_blob_layer_media_type(OU_BLOB_TAR)
		                : code == ARCHIVE_FILTER_GZIP
		                        ? ou_blob_layer_media_type(OU_BLOB_GZIP)
		                        : ou_blob_layer_media_type(OU_BLOB_ZSTD);
		if (s->want_digest)
			linked = link_blob(s, blob_dirfd);
		if (!linked)
			r = ou_blob_writer_new(blob_dirfd, OU_BLOB_STORE, &keep, err);
	} else if (s->want_digest) {
		return ou_error_set(err, EBADMSG,
		                    "%s is compressed with %s, which has no OCI layer media type",
		                    s->display, filter);
	} else {
		r = ou_blob_writer_new(blob_dirfd, recompress, &reencode, err);
		l->media_type = ou_blob_layer_media_type(recompress);
	}
	if (r < 0)
		return r;

	p = xcalloc(1, sizeof(*p));
	p->base = b;
	p->layer = i;
	p->mode = PASS_RECORD;
	p->fd = -1;
	p->keep = keep;
	p->reencode = reencode;
	r = run_pass(p, err);
	if (r < 0 && s->want_digest)
		r = blame_digest(s, r, err);
	if (r >= 0) {
		ou_sha256_final(p->file_hash, digest);
		ou_sha256_final(p->diff, diff);
		if (s->want_digest && strcmp(digest, s->want_digest) != 0)
			r = ou_error_set(err, EBADMSG,
			                 "%s does not match its digest: its bytes hash to %s",
			                 s->display, digest);
		else if (s->want_size >= 0 && p->file_size != s->want_size)
			r = ou_error_set(err, EBADMSG,
			                 "%s has %lld bytes, its descriptor says %lld", s->display,
			                 (long long)p->file_size, (long long)s->want_size);
		else if (l->reused && code == ARCHIVE_FILTER_GZIP && count == 1)
			r = check_gzip_trailer(s, p, err);
		if (r >= 0 && s->want_diff_id && strcmp(diff, s->want_diff_id) != 0)
			r = ou_error_set(err, EBADMSG,
			                 "%s: its uncompressed bytes hash to %s, but the config's "
			                 "rootfs.diff_ids says %s",
			                 s->display, diff, s->want_diff_id);
	}
	if (r >= 0 && linked) {
		/* what was read and checked must be what was linked */
		struct stat st;

		if (fstatat(blob_dirfd, linked, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    st.st_dev != p->dev || st.st_ino != p->ino)
			r = ou_error_set(err, EAGAIN, "%s was replaced while ociuser read it",
			                 s->display);
	}
	if (r >= 0) {
		memcpy(l->diff_id, diff, sizeof(diff));
		if (linked) {
			memcpy(l->digest, digest, sizeof(digest));
			l->size = p->file_size;
			if (renameat(blob_dirfd, linked, blob_dirfd, digest + 7) < 0)
				r = ou_error_set(err, errno, "cannot store %s: %s", s->display,
				                 strerror(errno));
		} else {
			r = ou_blob_writer_finish(keep ? keep : reencode, &res, err);
			if (r >= 0) {
				memcpy(l->digest, res.digest, sizeof(res.digest));
				l->size = res.size;
			}
		}
	}
	if (r < 0 && linked)
		unlinkat(blob_dirfd, linked, 0);
	pass_release(p);
	free(p);
	return r;
}

/* ------------------------------------------------------------------------ */
/* OCI image layouts                                                        */

static char *blob_path(const char *dir, const char *digest)
{
	return xasprintf("%s/blobs/sha256/%s", dir, digest + 7);
}

/* Reads a JSON blob, checking its size and digest before parsing it. */
static int read_json_blob(const struct ou_base *b, const char *dir, const struct ou_descriptor *d,
                          const char *what, json_t **ret, struct ou_error **err)
{
	_cleanup_free_ char *path = NULL, *data = NULL;
	char digest[OU_DIGEST_STRLEN];
	size_t len;
	int r;

	if (strncmp(d->digest, "sha256:", 7) != 0)
		return ou_error_set(err, EBADMSG, "base '%s': %s %s: only sha256 digests are read",
		                    b->name, what, d->digest);
	path = blob_path(dir, d->digest);
	r = ou_read_file(path, OU_MAX_BLOB_JSON_SIZE, &data, &len, err);
	if (r < 0)
		return ou_error_prefix(err, "base '%s': %s %s", b->name, what, d->digest);
	if ((int64_t)len != d->size)
		return ou_error_set(err, EBADMSG,
		                    "base '%s': %s %s has %zu bytes, its descriptor says %lld",
		                    b->name, what, d->digest, len, (long long)d->size);
	ou_sha256_buffer(data, len, digest);
	if (strcmp(digest, d->digest) != 0)
		return ou_error_set(
		        err, EBADMSG,
		        "base '%s': %s %s does not match its digest: its bytes hash to %s", b->name,
		        what, d->digest, digest);
	return ou_json_load_buffer(what, data, len, ret, err);
}

static const char *media_type_of(const json_t *desc, const json_t *doc)
{
	const char *mt = ou_json_get_string(desc, "mediaType");

	if (!mt && doc)
		mt = ou_json_get_string(doc, "mediaType");
	return mt ? mt : "";
}

static bool is_index_type(const char *mt)
{
	return strcmp(mt, MT_OCI_INDEX) == 0 || strcmp(mt, MT_DOCKER_LIST) == 0;
}

/* Picks the entry of an image index for the wanted platform. */
static int pick_platform(const struct ou_base *b, const json_t *index,
                         const struct ou_base_options *o, const json_t **ret, struct ou_error **err)
{
	const char *arch = o->architecture ? o->architecture : ou_host_architecture();
	const char *os = o->os ? o->os : "linux";
	const json_t *m = json_object_get(index, "manifests"), *v;
	struct ou_strbuf seen = OU_STRBUF_INIT;
	size_t i;

	json_array_foreach(m, i, v)
	{
		const json_t *pl = json_object_get(v, "platform");
		const char *a = ou_json_get_string(pl, "architecture");
		const char *s = ou_json_get_string(pl, "os");
		const char *var = ou_json_get_string(pl, "variant");

		if (a && s)
			ou_strbuf_printf(&seen, "%s%s/%s%s%s", seen.len ? ", " : "", s, a,
			                 var ? "/" : "", var ? var : "");
		if (!a || !s || strcmp(a, arch) != 0 || strcmp(s, os) != 0)
			continue;
		if (o->variant && (!var || strcmp(var, o->variant) != 0))
			continue;
		ou_strbuf_release(&seen);
		*ret = v;
		return 0;
	}
	{
		int r = ou_error_set(err, ENOENT,
		                     "base '%s' has no image for %s/%s%s%s (it has: %s)", b->name,
		                     os, arch, o->variant ? "/" : "", o->variant ? o->variant : "",
		                     seen.len ? seen.buf : "none");
		ou_strbuf_release(&seen);
		return r;
	}
}

/* Finds the image in index.json by its ref name (or the only one). */
static int pick_tag(struct ou_base *b, const json_t *index, const char *tag, const json_t **ret,
                    struct ou_error **err)
{
	const json_t *m = json_object_get(index, "manifests"), *v, *found = NULL;
	struct ou_strbuf tags = OU_STRBUF_INIT;
	size_t i, n = 0;
	int r;

	if (!json_is_array(m))
		return ou_error_set(err, EBADMSG, "base '%s': index.json has no 'manifests' array",
		                    b->name);
	json_array_foreach(m, i, v)
	{
		const char *ref = ou_json_get_string(json_object_get(v, "annotations"), REF_NAME);
		if (ref)
			ou_strbuf_printf(&tags, "%s'%s'", tags.len ? ", " : "", ref);
		if (tag ? (ref && strcmp(ref, tag) == 0) : true) {
			if (!found)
				found = v;
			n++;
		}
	}
	if (tag && n > 1) {
		/* readers disagree on which one a tag given twice means: name the fault */
		ou_strbuf_release(&tags);
		return ou_error_set(err, EBADMSG,
		                    "base '%s': index.json has %zu images tagged '%s', so the tag "
		                    "does not say which one",
		                    b->name, n, tag);
	}
	if (n == 1) {
		ou_strbuf_release(&tags);
		b->ref_name = xstrdup(tag ? tag : "");
		if (!tag) {
			const char *ref =
			        ou_json_get_string(json_object_get(found, "annotations"), REF_NAME);
			free(b->ref_name);
			b->ref_name = ref ? xstrdup(ref) : NULL;
		}
		*ret = found;
		return 0;
	}
	if (tag)
		r = ou_error_set(err, ENOENT, "base '%s' has no image tagged '%s' (its tags: %s)",
		                 b->name, tag, tags.len ? tags.buf : "none");
	else if (n == 0)
		r = ou_error_set(err, ENOENT, "base '%s' holds no image", b->name);
	else
		r = ou_error_set(err, EINVAL,
		                 "base '%s' holds %zu images: name one with oci:DIR:TAG (its tags: "
		                 "%s)",
		                 b->name, n, tags.len ? tags.buf : "none");
	ou_strbuf_release(&tags);
	return r;
}

static bool layer_type_ok(const char *mt)
{
	static const char *const ok[] = {
	        "application/vnd.oci.image.layer.v1.tar",
	        "application/vnd.oci.image.layer.v1.tar+gzip",
	        "application/vnd.oci.image.layer.v1.tar+zstd",
	        "application/vnd.docker.image.rootfs.diff.tar.gzip",
	};
	for (size_t i = 0; i < ELEMENTSOF(ok); i++)
		if (strcmp(mt, ok[i]) == 0)
			return true;
	return false;
}

static int open_layout(struct ou_base *b, const struct ou_base_options *o, struct ou_error **err)
{
	_cleanup_free_ char *index_path = xasprintf("%s/index.json", o->oci_dir);
	_cleanup_json_ json_t *index = NULL, *manifest = NULL, *sub = NULL;
	const json_t *desc = NULL, *layers, *diff_ids, *v;
	struct ou_descriptor d = {0}, cd = {0};
	size_t i;
	int r;

	{
		_cleanup_free_ char *layout_path = xasprintf("%s/oci-layout", o->oci_dir);
		_cleanup_close_ int dfd =
		        open(o->oci_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NONBLOCK);

		if (dfd < 0)
			return ou_error_set(err, errno, "base '%s': cannot open '%s': %s", b->name,
			                    o->oci_dir, strerror(errno));
		r = ou_json_check_layout_file(dfd, layout_path, err);
		if (r == -ENOENT)
			return ou_error_set(err, ENOENT,
			                    "base '%s': '%s' is not an OCI image layout (it has no "
			                    "'oci-layout' file)",
			                    b->name, o->oci_dir);
		if (r < 0)
			return ou_error_prefix(err, "base '%s'", b->name);
	}
	r = ou_json_load_file(index_path, OU_MAX_JSON_SIZE, &index, err);
	if (r < 0)
		return ou_error_prefix(err, "base '%s'", b->name);
	r = pick_tag(b, index, o->oci_tag, &desc, err);
	if (r < 0)
		return r;
	for (unsigned depth = 0;; depth++) {
		const char *mt;
		json_t *doc = NULL;

		ou_descriptor_release(&d);
		r = ou_json_to_descriptor(desc, "image descriptor", &d, err);
		if (r < 0)
			return ou_error_prefix(err, "base '%s'", b->name);
		r = read_json_blob(b, o->oci_dir, &d, "manifest", &doc, err);
		if (r < 0)
			goto out;
		mt = media_type_of(desc, doc);
		if (!is_index_type(mt)) {
			manifest = doc;
			break;
		}
		json_decref(sub);
		sub = doc;
		if (depth >= MAX_INDEX_DEPTH) {
			r = ou_error_set(err, EBADMSG, "base '%s': image indexes nested too deeply",
			                 b->name);
			goto out;
		}
		r = pick_platform(b, sub, o, &desc, err);
		if (r < 0)
			goto out;
	}
	{
		const char *mt = media_type_of(desc, manifest);
		if (strcmp(mt, MT_OCI_MANIFEST) != 0 && strcmp(mt, MT_DOCKER_MANIFEST) != 0) {
			r = ou_error_set(
			        err, EBADMSG,
			        "base '%s': manifest %s has media type '%s', which ociuser "
			        "does not read",
			        b->name, d.digest, mt);
			goto out;
		}
	}
	b->manifest_digest = xstrdup(d.digest);
	r = ou_json_to_descriptor(json_object_get(manifest, "config"), "config descriptor", &cd,
	                          err);
	if (r < 0) {
		ou_error_prefix(err, "base '%s': manifest %s", b->name, d.digest);
		goto out;
	}
	if (strcmp(cd.media_type, MT_OCI_CONFIG) != 0 &&
	    strcmp(cd.media_type, MT_DOCKER_CONFIG) != 0) {
		r = ou_error_set(err, EBADMSG, "base '%s': config %s has media type '%s'", b->name,
		                 cd.digest, cd.media_type);
		goto out;
	}
	r = read_json_blob(b, o->oci_dir, &cd, "config", &b->config, err);
	if (r < 0)
		goto out;
	layers = json_object_get(manifest, "layers");
	diff_ids = json_object_get(json_object_get(b->config, "rootfs"), "diff_ids");
	if (!json_is_array(layers) || !json_is_array(diff_ids)) {
		r = ou_error_set(err, EBADMSG, "base '%s': %s %s has no '%s' array", b->name,
		                 json_is_array(layers) ? "config" : "manifest",
		                 json_is_array(layers) ? cd.digest : d.digest,
		                 json_is_array(layers) ? "rootfs.diff_ids" : "layers");
		goto out;
	}
	if (json_array_size(layers) != json_array_size(diff_ids)) {
		r = ou_error_set(err, EBADMSG,
		                 "base '%s': manifest %s lists %zu layers but its config has %zu "
		                 "diff_ids",
		                 b->name, d.digest, json_array_size(layers),
		                 json_array_size(diff_ids));
		goto out;
	}
	b->n_layers = json_array_size(layers);
	b->layers = xcalloc(b->n_layers + 1, sizeof(*b->layers));
	b->src = xcalloc(b->n_layers + 1, sizeof(*b->src));
	json_array_foreach(layers, i, v)
	{
		struct ou_descriptor ld = {0};
		const char *diff = json_string_value(json_array_get(diff_ids, i));
		char what[64];

		snprintf(what, sizeof(what), "layer %zu descriptor", i);
		r = ou_json_to_descriptor(v, what, &ld, err);
		if (r < 0) {
			ou_error_prefix(err, "base '%s'", b->name);
			goto out;
		}
		if (!layer_type_ok(ld.media_type)) {
			r = ou_error_set(err, EBADMSG,
			                 "base '%s': layer %s has media type '%s': ociuser reuses "
			                 "only distributable tar layers (plain, gzip, zstd)",
			                 b->name, ld.digest, ld.media_type);
			ou_descriptor_release(&ld);
			goto out;
		}
		b->src[i].file = blob_path(o->oci_dir, ld.digest);
		b->src[i].display = xasprintf("layer %s of base '%s'", ld.digest, b->name);
		r = check_regular(b->src[i].file, b->src[i].display, err);
		if (r < 0) {
			ou_descriptor_release(&ld);
			goto out;
		}
		b->src[i].want_digest = xstrdup(ld.digest);
		b->src[i].want_size = ld.size;
		b->src[i].want_diff_id = diff ? xstrdup(diff) : NULL;
		ou_descriptor_release(&ld);
	}
	r = 0;
out:
	ou_descriptor_release(&d);
	ou_descriptor_release(&cd);
	return r;
}

/* ------------------------------------------------------------------------ */
/* The base                                                                 */

int ou_base_open(const struct ou_base_options *o, int blob_dirfd, struct ou_base **ret,
                 struct ou_error **err)
{
	_cleanup_(ou_base_freep) struct ou_base *b = NULL;
	int r;

	b = xcalloc(1, sizeof(*b));
	b->keep_dir_headers = o->keep_dir_headers;
	for (size_t i = 0; i < o->n_capture; i++)
		ou_strmap_put(&b->capture, o->capture[i], (void *)1);
	for (size_t i = 0; i < o->n_capture_small; i++)
		ou_strmap_put(&b->capture, o->capture_small[i], (void *)2);
	if (o->tarball) {
		const char *slash = strrchr(o->tarball, '/');

		b->name = xstrdup(slash ? slash + 1 : o->tarball);
		b->n_layers = 1;
		b->layers = xcalloc(1, sizeof(*b->layers));
		b->src = xcalloc(1, sizeof(*b->src));
		b->src[0].file = xstrdup(o->tarball);
		b->src[0].display = xasprintf("base '%s'", o->tarball);
		b->src[0].want_size = -1;
		r = check_regular(o->tarball, b->src[0].display, err);
		if (r < 0)
			return r;
	} else {
		b->name = xasprintf("oci:%s%s%s", o->oci_dir, o->oci_tag ? ":" : "",
		                    o->oci_tag ? o->oci_tag : "");
		r = open_layout(b, o, err);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < b->n_layers; i++) {
		r = first_pass(b, (unsigned)i, blob_dirfd, o->recompress, err);
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(b);
	return 0;
}

int ou_base_open_tarball(const char *path, int blob_dirfd, enum ou_blob_codec recompress,
                         const char *const *capture, size_t n_capture, struct ou_base **ret,
                         struct ou_error **err)
{
	struct ou_base_options o = {
	        .tarball = path,
	        .recompress = recompress,
	        .capture = capture,
	        .n_capture = n_capture,
	};
	return ou_base_open(&o, blob_dirfd, ret, err);
}

int ou_base_capture(struct ou_base *b, const char *const *paths, size_t n, struct ou_error **err)
{
	bool needed = false;

	for (size_t i = 0; i < n; i++) {
		const struct ou_base_node *node;

		if (ou_strmap_get(&b->capture, paths[i]))
			continue;
		ou_strmap_put(&b->capture, paths[i], (void *)1);
		node = ou_strmap_get(&b->nodes, paths[i]);
		if (node && !node->entry)
			needed = true;
	}
	if (!needed)
		return 0;
	return run_all(b, PASS_CAPTURE, NULL, NULL, err);
}

static int cmp_str(const void *a, const void *c)
{
	return strcmp(*(char *const *)a, *(char *const *)c);
}

int ou_base_replay(struct ou_base *b, ou_base_entry_fn fn, void *ctx, struct ou_error **err)
{
	_cleanup_free_ const char **dirs = NULL;
	size_t n = 0, cap = 0, i = 0;
	const char *key;
	void *v;
	int r;

	if (!b->keep_dir_headers)
		return ou_error_set(err, EINVAL, "the base was opened without folder headers");
	while (ou_strmap_next(&b->nodes, &i, &key, &v)) {
		const struct ou_base_node *node = v;
		if (!node || node->type != OU_ENTRY_DIR || !node->entry)
			continue;
		xgrow((void **)&dirs, &cap, n + 1, sizeof(*dirs));
		dirs[n++] = key;
	}
	if (n)
		qsort(dirs, n, sizeof(*dirs), cmp_str);
	for (i = 0; i < n; i++) {
		const struct ou_base_node *node = ou_strmap_get(&b->nodes, dirs[i]);
		struct archive_entry *h = archive_entry_clone(node->entry);
		/* The root keeps its own entry ("./"), with the base's header. */
		archive_entry_set_pathname(h, dirs[i][0] ? dirs[i] : "./");
		r = fn(ctx, dirs[i], h, NULL, NULL, err);
		archive_entry_free(h);
		if (r < 0)
			return r;
	}
	return run_all(b, PASS_REPLAY, fn, ctx, err);
}

const struct ou_base_layer *ou_base_layers(const struct ou_base *b, size_t *ret_n)
{
	*ret_n = b->n_layers;
	return b->layers;
}

const struct ou_base_node *ou_base_lookup(const struct ou_base *b, const char *path)
{
	return ou_strmap_get(&b->nodes, path);
}

const char *ou_base_name(const struct ou_base *b)
{
	return b->name;
}

json_t *ou_base_config(const struct ou_base *b)
{
	return b->config;
}

const char *ou_base_ref_name(const struct ou_base *b)
{
	return b->ref_name;
}

const char *ou_base_manifest_digest(const struct ou_base *b)
{
	return b->manifest_digest;
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
		return ou_error_set(
		        err, EBADMSG,
		        "base entry '/%s' is a %s, not a regular file: ociuser edits only "
		        "regular files",
		        path,
		        n->type == OU_ENTRY_SYMLINK    ? "symbolic link"
		        : n->type == OU_ENTRY_HARDLINK ? "hard link"
		        : n->type == OU_ENTRY_DIR      ? "directory"
		                                       : "special file");
	if (n->size > (int64_t)max)
		return ou_error_set(err, EFBIG, "base entry '/%s' is larger than %zu bytes", path,
		                    max);
	if (n->content_fd < 0)
		return ou_error_set(err, EIO, "base entry '/%s' was not kept", path);
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
	for (size_t i = 0; i < b->n_layers; i++) {
		free(b->src[i].file);
		free(b->src[i].display);
		free(b->src[i].want_digest);
		free(b->src[i].want_diff_id);
	}
	free(b->src);
	free(b->layers);
	json_decref(b->config);
	free(b->ref_name);
	free(b->manifest_digest);
	free(b->name);
	free(b);
	return NULL;
}
