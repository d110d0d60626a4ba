/* SPDX-License-Identifier: MIT */
#pragma once
/*
 * Test helpers shared by the blob, layer, base, hostwalk and plan suites:
 * an in-memory tar builder and reader over libarchive (as libarchive's own
 * tests do), temporary folders, whole-file reads and digests. Everything is
 * static inline so a suite that uses only part of it still builds with
 * -Werror. Failures here are test failures (ck_assert), never returns.
 */
#include <archive.h>
#include <archive_entry.h>
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ociuser/digest.h"
#include "ociuser/error.h"
#include "ociuser/xalloc.h"

/* The mtime every generated base entry gets, as in the cases' standard base. */
#define TU_BASE_MTIME 1234567890

/* The 20 bytes of security.capability for cap_net_raw+ep (version 2), from case C10. */
static const unsigned char tu_cap_net_raw[20] = {0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00,
                                                 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                                 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};

/* Asserts that @err is set with @code and a message holding @what. */
#define tu_assert_error(err, want_code, what)                                                      \
	do {                                                                                       \
		ck_assert_ptr_nonnull(err);                                                        \
		ck_assert_msg((err)->code == (want_code), "code %d (%s), want %d: %s",             \
		              (err)->code, strerror((err)->code), (want_code), (err)->message);    \
		ck_assert_msg(strstr((err)->message, (what)), "'%s' does not name '%s'",           \
		              (err)->message, (what));                                             \
	} while (0)

/* ---------------------------------------------------------------------- */
/* Byte buffers                                                           */

struct tu_buf {
	char *data;
	size_t len;
	size_t cap;
};

static inline void tu_buf_append(struct tu_buf *b, const void *p, size_t n)
{
	xgrow((void **)&b->data, &b->cap, b->len + n + 1, 1);
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static inline void tu_buf_release(struct tu_buf *b)
{
	free(b->data);
	*b = (struct tu_buf){0};
}

/* True when @needle (of @n bytes) occurs in @b. */
static inline bool tu_buf_contains(const struct tu_buf *b, const void *needle, size_t n)
{
	return b->len >= n && memmem(b->data, b->len, needle, n) != NULL;
}

/* ---------------------------------------------------------------------- */
/* Files and folders                                                      */

/* A fresh 0755 folder under $TMPDIR (or /tmp); the caller frees and removes it. */
static inline char *tu_mkdtemp(void)
{
	const char *tmp = getenv("TMPDIR");
	char *p = xasprintf("%s/ou-unit-XXXXXX", tmp && *tmp ? tmp : "/tmp");

	ck_assert_ptr_nonnull(mkdtemp(p));
	/* mkdtemp gives 0700; tests that drop privileges must still get in. */
	ck_assert_int_eq(chmod(p, 0755), 0);
	return p;
}

static inline int tu_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP || flag == FTW_D)
		return rmdir(path) < 0 ? -1 : 0;
	return unlink(path) < 0 ? -1 : 0;
}

/* Removes @path and everything below it (no symbolic link is followed). */
static inline void tu_rmtree(const char *path)
{
	/* A chmod 000 folder left by a test must not stop the clean-up (we run as root). */
	nftw(path, tu_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Writes @len bytes to @path (created or truncated) with @mode, whatever the umask. */
static inline void tu_write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	ck_assert_msg(fd >= 0, "cannot create '%s': %s", path, strerror(errno));
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	ck_assert_int_eq(fchmod(fd, mode), 0);
	ck_assert_int_eq(close(fd), 0);
}

static inline void tu_write_str(const char *path, const char *s, mode_t mode)
{
	tu_write_file(path, s, strlen(s), mode);
}

/* Creates the folder @path with exactly @mode. */
static inline void tu_mkdir(const char *path, mode_t mode)
{
	ck_assert_msg(mkdir(path, 0700) == 0, "cannot create '%s': %s", path, strerror(errno));
	ck_assert_int_eq(chmod(path, mode), 0);
}

/* Reads the whole file @path into @out (appended). */
static inline void tu_read_file(const char *path, struct tu_buf *out)
{
	char buf[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	ck_assert_msg(fd >= 0, "cannot open '%s': %s", path, strerror(errno));
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		tu_buf_append(out, buf, (size_t)n);
	ck_assert_int_eq(n, 0);
	close(fd);
}

/* "sha256:<hex>" of the whole file @path. */
static inline void tu_sha256_file(const char *path, char out[OU_DIGEST_STRLEN])
{
	struct tu_buf b = {0};

	tu_read_file(path, &b);
	ou_sha256_buffer(b.data ? b.data : "", b.len, out);
	tu_buf_release(&b);
}

/* Number of names in the folder @path, "." and ".." left out. */
static inline size_t tu_count_entries(const char *path)
{
	struct dirent *de;
	size_t n = 0;
	DIR *d = opendir(path);

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* Deterministic pseudo-random bytes (incompressible enough for gzip and zstd). */
static inline void tu_fill_random(void *p, size_t len, uint32_t seed)
{
	unsigned char *c = p;
	uint32_t x = seed ? seed : 1;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		c[i] = (unsigned char)x;
	}
}

/* ---------------------------------------------------------------------- */
/* Writing tar archives in memory                                         */

enum tu_filter {
	TU_NONE = 0,
	TU_GZIP,
	TU_ZSTD,
	TU_XZ,
	TU_BZIP2,
};

struct tu_tar {
	struct archive *a;
	struct tu_buf out;
};

static inline la_ssize_t tu_tar_out(struct archive *a, void *data, const void *buf, size_t len)
{
	(void)a;
	tu_buf_append(&((struct tu_tar *)data)->out, buf, len);
	return (la_ssize_t)len;
}

/*
 * Starts a pax tar with the given compression. With @schily_only, xattrs are
 * SCHILY.xattr records only, as Python's tarfile writes them (the cases'
 * bases); else libarchive's default, LIBARCHIVE.xattr and SCHILY.xattr both.
 */
static inline struct tu_tar *tu_tar_new_xattrs(enum tu_filter filter, bool schily_only)
{
	struct tu_tar *t = xcalloc(1, sizeof(*t));

	t->a = archive_write_new();
	ck_assert_ptr_nonnull(t->a);
	ck_assert_int_eq(archive_write_set_format_pax(t->a), ARCHIVE_OK);
	if (schily_only)
		ck_assert_int_eq(
		        archive_write_set_format_option(t->a, "pax", "xattrheader", "SCHILY"),
		        ARCHIVE_OK);
	/* As bsdtar does: no zero padding after a compressed stream (it would be garbage). */
	if (filter != TU_NONE)
		archive_write_set_bytes_in_last_block(t->a, 1);
	switch (filter) {
	case TU_NONE:
		break;
	case TU_GZIP:
		ck_assert_int_eq(archive_write_add_filter_gzip(t->a), ARCHIVE_OK);
		break;
	case TU_ZSTD:
		ck_assert_int_eq(archive_write_add_filter_zstd(t->a), ARCHIVE_OK);
		break;
	case TU_XZ:
		ck_assert_int_eq(archive_write_add_filter_xz(t->a), ARCHIVE_OK);
		break;
	case TU_BZIP2:
		ck_assert_int_eq(archive_write_add_filter_bzip2(t->a), ARCHIVE_OK);
		break;
	}
	ck_assert_int_eq(archive_write_open2(t->a, t, NULL, tu_tar_out, NULL, NULL), ARCHIVE_OK);
	return t;
}

static inline struct tu_tar *tu_tar_new(enum tu_filter filter)
{
	return tu_tar_new_xattrs(filter, true);
}

/* A header with the standard base's fields: root:root, mtime TU_BASE_MTIME. */
static inline struct archive_entry *tu_entry(const char *name, mode_t type, unsigned perm)
{
	struct archive_entry *e = archive_entry_new();

	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, perm);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	archive_entry_set_uname(e, "root");
	archive_entry_set_gname(e, "root");
	archive_entry_set_mtime(e, TU_BASE_MTIME, 0);
	archive_entry_set_size(e, 0);
	return e;
}

/* Adds @e (then frees it) with @len bytes of content. */
static inline void tu_tar_add(struct tu_tar *t, struct archive_entry *e, const void *data,
                              size_t len)
{
	if (archive_entry_filetype(e) == AE_IFREG && !archive_entry_hardlink(e))
		archive_entry_set_size(e, (la_int64_t)len);
	ck_assert_msg(archive_write_header(t->a, e) == ARCHIVE_OK, "header: %s",
	              archive_error_string(t->a));
	if (len)
		ck_assert_int_eq(archive_write_data(t->a, data, len), (la_ssize_t)len);
	archive_entry_free(e);
}

static inline void tu_tar_dir(struct tu_tar *t, const char *name, unsigned perm)
{
	tu_tar_add(t, tu_entry(name, AE_IFDIR, perm), NULL, 0);
}

static inline void tu_tar_file(struct tu_tar *t, const char *name, unsigned perm,
                               const char *content)
{
	tu_tar_add(t, tu_entry(name, AE_IFREG, perm), content, strlen(content));
}

static inline void tu_tar_symlink(struct tu_tar *t, const char *name, const char *target)
{
	struct archive_entry *e = tu_entry(name, AE_IFLNK, 0777);

	archive_entry_set_symlink(e, target);
	tu_tar_add(t, e, NULL, 0);
}

static inline void tu_tar_hardlink(struct tu_tar *t, const char *name, const char *target)
{
	struct archive_entry *e = tu_entry(name, AE_IFREG, 0644);

	archive_entry_set_hardlink(e, target);
	tu_tar_add(t, e, NULL, 0);
}

/* Closes the archive and hands its bytes over to @ret; frees @t. */
static inline void tu_tar_finish(struct tu_tar *t, struct tu_buf *ret)
{
	ck_assert_int_eq(archive_write_close(t->a), ARCHIVE_OK);
	archive_write_free(t->a);
	*ret = t->out;
	free(t);
}

/* Closes the archive and writes it to @path (0644); frees @t. */
static inline void tu_tar_save(struct tu_tar *t, const char *path)
{
	struct tu_buf b;

	tu_tar_finish(t, &b);
	tu_write_file(path, b.data, b.len, 0644);
	tu_buf_release(&b);
}

/* ---------------------------------------------------------------------- */
/* Reading archives back                                                  */

/* Decompresses @len bytes (any filter libarchive knows, or none) into @out. */
static inline void tu_decompress(const void *data, size_t len, struct tu_buf *out)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	char buf[65536];
	la_ssize_t n;

	archive_read_support_filter_all(a);
	archive_read_support_format_raw(a);
	ck_assert_int_eq(archive_read_open_memory(a, data, len), ARCHIVE_OK);
	ck_assert_msg(archive_read_next_header(a, &e) == ARCHIVE_OK, "%s", archive_error_string(a));
	while ((n = archive_read_data(a, buf, sizeof(buf))) > 0)
		tu_buf_append(out, buf, (size_t)n);
	ck_assert_msg(n == 0, "decompression failed: %s", archive_error_string(a));
	archive_read_free(a);
}

/* One member of an archive as read back, every field copied out. */
struct tu_member {
	char *path;
	mode_t filetype;
	unsigned perm;
	int64_t uid;
	int64_t gid;
	char *uname;
	char *gname;
	long long mtime;
	bool atime_set;
	bool ctime_set;
	char *symlink;
	char *hardlink;
	int64_t size;
	struct tu_buf data;
	char *xattr_name; /* the first xattr, if any */
	struct tu_buf xattr_value;
	size_t n_xattrs;
	int64_t devmajor; /* of a device entry (rdev) */
	int64_t devminor;
};

struct tu_members {
	struct tu_member *v;
	size_t n;
	size_t cap;
};

static inline char *tu_dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/* Reads every member of the tar in @data (compressed or not). */
static inline void tu_read_tar(const void *data, size_t len, struct tu_members *ret)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	int r;

	*ret = (struct tu_members){0};
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	ck_assert_int_eq(archive_read_open_memory(a, data, len), ARCHIVE_OK);
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		struct tu_member *m;
		const char *name;
		const void *value;
		size_t size;
		char buf[65536];
		la_ssize_t n;

		xgrow((void **)&ret->v, &ret->cap, ret->n + 1, sizeof(*ret->v));
		m = &ret->v[ret->n++];
		memset(m, 0, sizeof(*m));
		m->path = tu_dup_or_null(archive_entry_pathname(e));
		m->filetype = archive_entry_filetype(e);
		m->perm = archive_entry_perm(e) & 07777;
		m->uid = archive_entry_uid(e);
		m->gid = archive_entry_gid(e);
		m->uname = tu_dup_or_null(archive_entry_uname(e));
		m->gname = tu_dup_or_null(archive_entry_gname(e));
		m->mtime = archive_entry_mtime(e);
		m->atime_set = archive_entry_atime_is_set(e);
		m->ctime_set = archive_entry_ctime_is_set(e);
		m->symlink = tu_dup_or_null(archive_entry_symlink(e));
		m->hardlink = tu_dup_or_null(archive_entry_hardlink(e));
		m->size = archive_entry_size(e);
		m->devmajor = archive_entry_rdevmajor(e);
		m->devminor = archive_entry_rdevminor(e);
		archive_entry_xattr_reset(e);
		while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
			if (!m->n_xattrs++) {
				m->xattr_name = xstrdup(name);
				tu_buf_append(&m->xattr_value, value, size);
			}
		}
		while ((n = archive_read_data(a, buf, sizeof(buf))) > 0)
			tu_buf_append(&m->data, buf, (size_t)n);
		ck_assert_msg(n == 0, "reading '%s': %s", m->path, archive_error_string(a));
	}
	ck_assert_msg(r == ARCHIVE_EOF, "tar read failed: %s", archive_error_string(a));
	archive_read_free(a);
}

static inline void tu_members_release(struct tu_members *l)
{
	for (size_t i = 0; i < l->n; i++) {
		struct tu_member *m = &l->v[i];
		free(m->path);
		free(m->uname);
		free(m->gname);
		free(m->symlink);
		free(m->hardlink);
		free(m->xattr_name);
		tu_buf_release(&m->data);
		tu_buf_release(&m->xattr_value);
	}
	free(l->v);
	*l = (struct tu_members){0};
}

/* The member named exactly @path, or NULL. */
static inline const struct tu_member *tu_members_find(const struct tu_members *l, const char *path)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].path && strcmp(l->v[i].path, path) == 0)
			return &l->v[i];
	return NULL;
}

/* Reads the blob @digest ("sha256:<hex>") from the folder @dir: raw bytes into @raw. */
static inline void tu_read_blob(const char *dir, const char *digest, struct tu_buf *raw)
{
	char *p;

	ck_assert_msg(strncmp(digest, "sha256:", 7) == 0, "not a digest: '%s'", digest);
	p = xasprintf("%s/%s", dir, digest + 7);
	tu_read_file(p, raw);
	free(p);
}
