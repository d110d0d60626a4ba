/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ou-check.h"
#include "tarutil.h"
#include "ociuser/base.h"
#include "ociuser/blob.h"
#include "ociuser/xalloc.h"

/* ---------------------------------------------------------------------- */
/* Fixtures: a folder for generated bases and an empty blob folder        */

static char *work;
static char *blobs;
static int blobs_fd = -1;

static void setup(void)
{
	work = tu_mkdtemp();
	blobs = tu_mkdtemp();
	blobs_fd = open(blobs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(blobs_fd, 0);
}

static void teardown(void)
{
	close(blobs_fd);
	tu_rmtree(work);
	tu_rmtree(blobs);
	free(work);
	free(blobs);
}

/* The cases' standard base, plus links and a capability, as pax tar entries. */
static void add_standard(struct tu_tar *t)
{
	struct archive_entry *e;

	tu_tar_dir(t, "./", 0755);
	tu_tar_dir(t, "./bin/", 0755);
	tu_tar_file(t, "./bin/sh", 0755, "#!sh\n");
	tu_tar_dir(t, "./etc/", 0755);
	tu_tar_file(t, "./etc/passwd", 0644, "root:x:0:0:root:/root:/bin/bash\n");
	tu_tar_file(t, "./etc/group", 0644, "root:x:0:\n");
	e = tu_entry("./etc/shadow", AE_IFREG, 0640);
	archive_entry_set_gid(e, 42);
	archive_entry_set_gname(e, "shadow");
	tu_tar_add(t, e, "root:*:19000:0:99999:7:::\n", 26);
	tu_tar_dir(t, "./tmp/", 01777);
	tu_tar_dir(t, "./usr/", 0755);
	tu_tar_dir(t, "./usr/bin/", 0755);
	e = tu_entry("./usr/bin/ping", AE_IFREG, 0755);
	archive_entry_xattr_add_entry(e, "security.capability", tu_cap_net_raw,
	                              sizeof(tu_cap_net_raw));
	tu_tar_add(t, e, "ELF-ping", 8);
	tu_tar_dir(t, "./usr/lib/", 0755);
	tu_tar_dir(t, "./usr/sbin/", 0755);
	tu_tar_file(t, "./usr/sbin/nologin", 0755, "#!nologin\n");
	tu_tar_symlink(t, "./lib", "usr/lib");
	tu_tar_hardlink(t, "./bin/sh2", "./bin/sh");
	e = tu_entry("./dev-null", AE_IFCHR, 0666);
	archive_entry_set_rdevmajor(e, 1);
	archive_entry_set_rdevminor(e, 3);
	tu_tar_add(t, e, NULL, 0);
}

/* Writes the standard base with @filter to WORK/@name and returns its path. */
static char *standard_base(enum tu_filter filter, const char *name)
{
	struct tu_tar *t = tu_tar_new(filter);
	char *path = xasprintf("%s/%s", work, name);

	add_standard(t);
	tu_tar_save(t, path);
	return path;
}

static struct ou_base *open_ok(const char *path, enum ou_blob_codec recompress,
                               const char *const *capture, size_t n)
{
	struct ou_base *b = NULL;
	struct ou_error *err = NULL;

	ck_assert_msg(ou_base_open_tarball(path, blobs_fd, recompress, capture, n, &b, &err) == 0,
	              "%s", err ? err->message : "?");
	ck_assert_ptr_null(err);
	ck_assert_ptr_nonnull(b);
	return b;
}

static void open_fails(const char *path, int code, const char *what)
{
	_cleanup_(ou_error_freep) struct ou_error *err = NULL;
	struct ou_base *b = NULL;

	ck_assert_int_lt(ou_base_open_tarball(path, blobs_fd, OU_BLOB_GZIP, NULL, 0, &b, &err), 0);
	ck_assert_ptr_null(b);
	tu_assert_error(err, code, what);
	/* Nothing half-written stays in the blob folder. */
	ck_assert_uint_eq(tu_count_entries(blobs), 0);
}

static const struct ou_base_layer *only_layer(const struct ou_base *b)
{
	size_t n = 0;
	const struct ou_base_layer *l = ou_base_layers(b, &n);

	ck_assert_uint_eq(n, 1);
	return l;
}

/* sha256 of the uncompressed tar inside the file @path. */
static void diff_id_of(const char *path, char out[OU_DIGEST_STRLEN])
{
	struct tu_buf raw = {0}, tar = {0};

	tu_read_file(path, &raw);
	tu_decompress(raw.data, raw.len, &tar);
	ou_sha256_buffer(tar.data, tar.len, out);
	tu_buf_release(&raw);
	tu_buf_release(&tar);
}

/* ---------------------------------------------------------------------- */
/* Blobs and media types                                                  */

static void check_stored_as_is(enum tu_filter filter, const char *media_type)
{
	_cleanup_free_ char *path = standard_base(filter, "base.tar");
	_cleanup_(ou_base_freep) struct ou_base *b = open_ok(path, OU_BLOB_GZIP, NULL, 0);
	const struct ou_base_layer *l = only_layer(b);
	char file_digest[OU_DIGEST_STRLEN], diff[OU_DIGEST_STRLEN];
	struct tu_buf stored = {0}, orig = {0};

	tu_sha256_file(path, file_digest);
	diff_id_of(path, diff);
	ck_assert_str_eq(l->digest, file_digest);
	ck_assert_str_eq(l->diff_id, diff);
	ck_assert_str_eq(l->media_type, media_type);
	ck_assert(l->reused);
	tu_read_blob(blobs, l->digest, &stored);
	tu_read_file(path, &orig);
	ck_assert_int_eq(l->size, (int64_t)orig.len);
	ck_assert_uint_eq(stored.len, orig.len);
	ck_assert(memcmp(stored.data, orig.data, orig.len) == 0);
	ck_assert_uint_eq(tu_count_entries(blobs), 1);
	tu_buf_release(&stored);
	tu_buf_release(&orig);
}

START_TEST(test_plain_tar_base_is_stored_byte_for_byte)
{
	check_stored_as_is(TU_NONE, "application/vnd.oci.image.layer.v1.tar");
}
END_TEST

START_TEST(test_gzip_base_is_stored_byte_for_byte)
{
	check_stored_as_is(TU_GZIP, "application/vnd.oci.image.layer.v1.tar+gzip");
}
END_TEST

START_TEST(test_zstd_base_is_stored_byte_for_byte)
{
	check_stored_as_is(TU_ZSTD, "application/vnd.oci.image.layer.v1.tar+zstd");
}
END_TEST

START_TEST(test_plain_tar_base_has_diff_id_equal_to_digest)
{
	_cleanup_free_ char *path = standard_base(TU_NONE, "base.tar");
	_cleanup_(ou_base_freep) struct ou_base *b = open_ok(path, OU_BLOB_ZSTD, NULL, 0);

	ck_assert_str_eq(only_layer(b)->diff_id, only_layer(b)->digest);
}
END_TEST

START_TEST(test_bytes_after_a_gzip_stream_stay_in_the_stored_blob)
{
	_cleanup_free_ char *path = standard_base(TU_GZIP, "base.tar.gz");
	_cleanup_(ou_base_freep) struct ou_base *b = NULL;
	char zeros[1024] = {0};
	char want[OU_DIGEST_STRLEN];
	int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, zeros, sizeof(zeros)), (ssize_t)sizeof(zeros));
	close(fd);
	b = open_ok(path, OU_BLOB_GZIP, NULL, 0);
	tu_sha256_file(path, want);
	ck_assert_str_eq(only_layer(b)->digest, want);
}
END_TEST

static void check_reencoded(enum tu_filter filter, enum ou_blob_codec recompress,
                            const unsigned char *magic, size_t magic_len)
{
	_cleanup_free_ char *path = standard_base(filter, "base.tar");
	_cleanup_(ou_base_freep) struct ou_base *b = open_ok(path, recompress, NULL, 0);
	const struct ou_base_layer *l = only_layer(b);
	char diff[OU_DIGEST_STRLEN], stored_digest[OU_DIGEST_STRLEN];
	struct tu_buf stored = {0}, tar = {0}, orig_tar = {0}, orig = {0};

	diff_id_of(path, diff);
	ck_assert_str_eq(l->diff_id, diff);
	ck_assert_str_eq(l->media_type, ou_blob_layer_media_type(recompress));
	ck_assert(!l->reused);
	tu_read_blob(blobs, l->digest, &stored);
	ou_sha256_buffer(stored.data, stored.len, stored_digest);
	ck_assert_str_eq(l->digest, stored_digest);
	ck_assert_int_eq(l->size, (int64_t)stored.len);
	ck_assert_uint_ge(stored.len, magic_len);
	ck_assert_mem_eq(stored.data, magic, magic_len);
	/* The re-encoded blob holds exactly the tar the original held. */
	tu_decompress(stored.data, stored.len, &tar);
	tu_read_file(path, &orig);
	tu_decompress(orig.data, orig.len, &orig_tar);
	ck_assert_uint_eq(tar.len, orig_tar.len);
	ck_assert(memcmp(tar.data, orig_tar.data, tar.len) == 0);
	ck_assert_uint_eq(tu_count_entries(blobs), 1);
	tu_buf_release(&stored);
	tu_buf_release(&tar);
	tu_buf_release(&orig);
	tu_buf_release(&orig_tar);
}

START_TEST(test_xz_base_is_reencoded_with_gzip)
{
	static const unsigned char gz[] = {0x1f, 0x8b};

	check_reencoded(TU_XZ, OU_BLOB_GZIP, gz, sizeof(gz));
}
END_TEST

START_TEST(test_bzip2_base_is_reencoded_with_zstd)
{
	static const unsigned char zst[] = {0x28, 0xb5, 0x2f, 0xfd};

	check_reencoded(TU_BZIP2, OU_BLOB_ZSTD, zst, sizeof(zst));
}
END_TEST

START_TEST(test_xz_base_reencoded_as_plain_tar_has_diff_id_equal_to_digest)
{
	_cleanup_free_ char *path = standard_base(TU_XZ, "base.tar.xz");
	_cleanup_(ou_base_freep) struct ou_base *b = open_ok(path, OU_BLOB_TAR, NULL, 0);
	const struct ou_base_layer *l = only_layer(b);
	char diff[OU_DIGEST_STRLEN];

	diff_id_of(path, diff);
	ck_assert_str_eq(l->media_type, "application/vnd.oci.image.layer.v1.tar");
	ck_assert_str_eq(l->diff_id, diff);
	ck_assert_str_eq(l->digest, diff);
}
END_TEST

START_TEST(test_compression_is_told_from_the_bytes_not_the_name)
{
	_cleanup_free_ char *path = standard_base(TU_ZSTD, "base.tar.gz");
	_cleanup_(ou_base_freep) struct ou_base *b = open_ok(path, OU_BLOB_GZIP, NULL, 0);

	ck_assert_str_eq(only_layer(b)->media_type, "application/vnd.oci.image.layer.v1.tar+zstd");
	ck_assert_str_eq(ou_base_name(b), "base.tar.gz");
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Lookups                                                                */

START_TEST(test_lookup_gives_types_modes_and_owners)
{
	_cleanup_free_ char *path = standard_base(TU_GZIP, "base.tar.gz");
	_cleanup_(ou_base_freep) struct ou_base *b = open_ok(path, OU_BLOB_GZIP, NULL, 0);
	const struct ou_base_node *n;

	n = ou_base_lookup(b, "");
	ck_assert_ptr_nonnull(n);
	ck_assert_int_eq(n->type, OU_ENTRY_DIR);
	n = ou_base_lookup(b, "tmp");
	ck_assert_ptr_nonnull(n);
	ck_assert_int_eq(n->type, OU_ENTRY_DIR);
	ck_assert_uint_eq(n->mode, 01777);
	n = ou_base_lookup(b, "etc/shadow");
	ck_assert_ptr_nonnull(n);
	ck_assert_int_eq(n->type, OU_ENTRY_FILE);
	ck_assert_uint_eq(n->mode, 0640);
	ck_assert_uint_eq(n->uid, 0);
	ck_assert_uint_eq(n->gid, 42);
	ck_assert_int_eq(n->size, 26);
	ck_assert_ptr_null(n->entry);
	ck_assert_int_lt(n->content_fd, 0);
	n = ou_base_lookup(b, "dev-null");
	ck_assert_ptr_nonnull(n);
	ck_assert_int_eq(n->type, OU_ENTRY_OTHER);
	ck_assert_ptr_null(ou_base_lookup(b, "etc/missing"));
	ck_assert_ptr_null(ou_base_lookup(b, "etc/"));
}
END_TEST

START_TEST(test_lookup_gives_link_targets)
{
	_cleanup_free_ char *path = standard_base(TU_NONE, "base.tar");
	_cleanup_(ou_base_freep) struct ou_base *b = open_ok(path, OU_BLOB_GZIP, NULL, 0);
	const struct ou_base_node *n;

	n = ou_base_lookup(b, "lib");
	ck_assert_ptr_nonnull(n);
	ck_assert_int_eq(n->type, OU_ENTRY_SYMLINK);
	ck_assert_str_eq(n->link, "usr/lib");
	n = ou_base_lookup(b, "bin/sh2");
	ck_assert_ptr_nonnull(n);
	ck_assert_int_eq(n->type, OU_ENTRY_HARDLINK);
	/* Hard link targets are image paths, normalised like names. */
	ck_assert_str_eq(n->link, "bin/sh");
}
END_TEST

START_TEST(test_the_same_path_twice_keeps_the_later_entry)
{
	_cleanup_free_ char *path = xasprintf("%s/twice.tar", work);
	_cleanup_(ou_base_freep) struct ou_base *b = NULL;
	const char *capture[] = {"etc/passwd"};
	struct ou_error *err = NULL;
	struct tu_tar *t = tu_tar_new(TU_NONE);
	const struct ou_base_node *n;
	char *data = NULL;
	size_t len = 0;
	bool present = false;

	tu_tar_dir(t, "etc/", 0755);
	tu_tar_file(t, "etc/passwd", 0600, "old\n");
	tu_tar_file(t, "etc/x", 0644, "file");
	tu_tar_file(t, "./etc/passwd", 0644, "new\n");
	tu_tar_symlink(t, "etc/x", "passwd");
	tu_tar_save(t, path);
	b = open_ok(path, OU_BLOB_GZIP, capture, 1);
	n = ou_base_lookup(b, "etc/x");
	ck_assert_int_eq(n->type, OU_ENTRY_SYMLINK);
	ck_assert_str_eq(n->link, "passwd");
	ck_assert_uint_eq(ou_base_lookup(b, "etc/passwd")->mode, 0644);
	ck_assert_int_eq(ou_base_read_captured(b, "etc/passwd", 1024, &data, &len, &present, &err),
	                 0);
	ck_assert(present);
	ck_assert_str_eq(data, "new\n");
	free(data);
}
END_TEST

START_TEST(test_entry_names_are_normalised)
{
	_cleanup_free_ char *path = xasprintf("%s/names.tar", work);
	_cleanup_(ou_base_freep) struct ou_base *b = NULL;
	struct tu_tar *t = tu_tar_new(TU_NONE);
	const struct ou_base_node *n;

	tu_tar_dir(t, "./etc/", 0700);
	tu_tar_file(t, "/etc//x", 0600, "x");
	tu_tar_dir(t, "usr/./lib//", 0750);
	tu_tar_save(t, path);
	b = open_ok(path, OU_BLOB_GZIP, NULL, 0);
	n = ou_base_lookup(b, "etc");
	ck_assert_ptr_nonnull(n);
	ck_assert_int_eq(n->type, OU_ENTRY_DIR);
	ck_assert_uint_eq(n->mode, 0700);
	n = ou_base_lookup(b, "etc/x");
	ck_assert_ptr_nonnull(n);
	ck_assert_uint_eq(n->mode, 0600);
	n = ou_base_lookup(b, "usr/lib");
	ck_assert_ptr_nonnull(n);
	ck_assert_uint_eq(n->mode, 0750);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Broken bases                                                           */

START_TEST(test_an_entry_with_dotdot_is_refused_naming_it)
{
	_cleanup_free_ char *path = xasprintf("%s/evil.tar", work);
	struct tu_tar *t = tu_tar_new(TU_GZIP);

	tu_tar_dir(t, "etc/", 0755);
	tu_tar_file(t, "etc/../../escape", 0644, "x");
	tu_tar_save(t, path);
	open_fails(path, EBADMSG, "etc/../../escape");
}
END_TEST

START_TEST(test_a_hard_link_target_with_dotdot_is_refused_naming_it)
{
	_cleanup_free_ char *path = xasprintf("%s/evil.tar", work);
	struct tu_tar *t = tu_tar_new(TU_NONE);

	tu_tar_dir(t, "etc/", 0755);
	tu_tar_hardlink(t, "etc/shadow", "../../etc/shadow");
	tu_tar_save(t, path);
	open_fails(path, EBADMSG, "etc/shadow");
}
END_TEST

START_TEST(test_a_truncated_gzip_base_is_a_bad_message)
{
	_cleanup_free_ char *path = standard_base(TU_GZIP, "base.tar.gz");
	struct stat st;

	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(truncate(path, st.st_size / 2), 0);
	open_fails(path, EBADMSG, path);
}
END_TEST

START_TEST(test_a_truncated_zstd_base_is_a_bad_message)
{
	_cleanup_free_ char *path = standard_base(TU_ZSTD, "base.tar.zst");
	struct stat st;

	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(truncate(path, st.st_size - 8), 0);
	open_fails(path, EBADMSG, path);
}
END_TEST

START_TEST(test_a_tar_cut_inside_a_block_is_a_bad_message)
{
	_cleanup_free_ char *path = xasprintf("%s/short.tar", work);
	char big[3000];
	struct tu_tar *t = tu_tar_new(TU_NONE);

	memset(big, 'b', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	tu_tar_dir(t, "etc/", 0755);
	tu_tar_file(t, "etc/big", 0644, big);
	tu_tar_save(t, path);
	/* The dir header, the file header and 1000 of its 3000 bytes. */
	ck_assert_int_eq(truncate(path, 512 + 512 + 1000), 0);
	open_fails(path, EBADMSG, "etc/big");
}
END_TEST

START_TEST(test_random_bytes_are_a_bad_message)
{
	_cleanup_free_ char *path = xasprintf("%s/random.tar", work);
	char junk[4096];

	tu_fill_random(junk, sizeof(junk), 99);
	tu_write_file(path, junk, sizeof(junk), 0644);
	open_fails(path, EBADMSG, path);
}
END_TEST

START_TEST(test_an_empty_file_is_a_bad_message)
{
	_cleanup_free_ char *path = xasprintf("%s/empty.tar", work);

	tu_write_file(path, "", 0, 0644);
	open_fails(path, EBADMSG, path);
}
END_TEST

START_TEST(test_a_missing_base_file_is_an_error_naming_it)
{
	_cleanup_free_ char *path = xasprintf("%s/missing.tar", work);
	_cleanup_(ou_error_freep) struct ou_error *err = NULL;
	struct ou_base *b = NULL;

	ck_assert_int_lt(ou_base_open_tarball(path, blobs_fd, OU_BLOB_GZIP, NULL, 0, &b, &err), 0);
	ck_assert_ptr_null(b);
	ck_assert_ptr_nonnull(strstr(err->message, path));
	ck_assert_uint_eq(tu_count_entries(blobs), 0);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Captured entries                                                       */

START_TEST(test_captured_file_content_is_read_back)
{
	_cleanup_free_ char *path = standard_base(TU_GZIP, "base.tar.gz");
	const char *capture[] = {"etc/passwd", "usr/bin/ping"};
	_cleanup_(ou_base_freep) struct ou_base *b = open_ok(path, OU_BLOB_GZIP, capture, 2);
	_cleanup_free_ char *data = NULL;
	struct ou_error *err = NULL;
	const struct ou_base_node *n;
	const void *value;
	const char *name;
	size_t len = 0, size;
	bool present = false;

	ck_assert_int_eq(ou_base_read_captured(b, "etc/passwd", 4096, &data, &len, &present, &err),
	                 0);
	ck_assert(present);
	ck_assert_uint_eq(len, 32);
	ck_assert_str_eq(data, "root:x:0:0:root:/root:/bin/bash\n");
	/* The full header is kept too, xattrs included. */
	n = ou_base_lookup(b, "usr/bin/ping");
	ck_assert_ptr_nonnull(n->entry);
	ck_assert_int_eq(archive_entry_xattr_reset(n->entry), 1);
	ck_assert_int_eq(archive_entry_xattr_next(n->entry, &name, &value, &size), ARCHIVE_OK);
	ck_assert_str_eq(name, "security.capability");
	ck_assert_uint_eq(size, sizeof(tu_cap_net_raw));
	ck_assert_mem_eq(value, tu_cap_net_raw, size);
	ck_assert_int_eq(archive_entry_mtime(n->entry), TU_BASE_MTIME);
}
END_TEST

START_TEST(test_reading_a_path_the_base_lacks_gives_not_present)
{
	_cleanup_free_ char *path = standard_base(TU_NONE, "base.tar");
	const char *capture[] = {"etc/gshadow"};
	_cleanup_(ou_base_freep) struct ou_base *b = open_ok(path, OU_BLOB_GZIP, capture, 1);
	struct ou_error *err = NULL;
	char *data = (char *)"sentinel";
	size_t len = 7;
	bool present = true;

	ck_assert_int_eq(ou_base_read_captured(b, "etc/gshadow", 4096, &data, &len, &present, &err),
	                 0);
	ck_assert(!present);
	ck_assert_ptr_null(data);
	ck_assert_uint_eq(len, 0);
}
END_TEST

static void read_captured_fails(struct tu_tar *t, const char *rel, size_t max, int code,
                                const char *what)
{
	_cleanup_free_ char *path = xasprintf("%s/cap.tar", work);
	_cleanup_(ou_base_freep) struct ou_base *b = NULL;
	_cleanup_(ou_error_freep) struct ou_error *err = NULL;
	const char *capture[] = {rel};
	char *data = NULL;
	size_t len = 0;
	bool present = false;

	tu_tar_save(t, path);
	b = open_ok(path, OU_BLOB_GZIP, capture, 1);
	ck_assert_int_lt(ou_base_read_captured(b, rel, max, &data, &len, &present, &err), 0);
	ck_assert_ptr_null(data);
	tu_assert_error(err, code, what);
}

START_TEST(test_reading_a_captured_symlink_is_refused_naming_it)
{
	struct tu_tar *t = tu_tar_new(TU_NONE);

	tu_tar_dir(t, "etc/", 0755);
	tu_tar_symlink(t, "etc/passwd", "../usr/share/passwd");
	read_captured_fails(t, "etc/passwd", 4096, EBADMSG, "'/etc/passwd' is a symbolic link");
}
END_TEST

START_TEST(test_reading_a_captured_hard_link_is_refused_naming_it)
{
	struct tu_tar *t = tu_tar_new(TU_NONE);

	tu_tar_dir(t, "etc/", 0755);
	tu_tar_file(t, "etc/group-", 0644, "root:x:0:\n");
	tu_tar_hardlink(t, "etc/group", "etc/group-");
	read_captured_fails(t, "etc/group", 4096, EBADMSG, "'/etc/group' is a hard link");
}
END_TEST

START_TEST(test_reading_a_captured_folder_is_refused_naming_it)
{
	struct tu_tar *t = tu_tar_new(TU_NONE);

	tu_tar_dir(t, "etc/", 0755);
	tu_tar_dir(t, "etc/passwd/", 0755);
	read_captured_fails(t, "etc/passwd", 4096, EBADMSG, "'/etc/passwd' is a directory");
}
END_TEST

START_TEST(test_reading_a_captured_file_over_the_limit_is_too_big)
{
	struct tu_tar *t = tu_tar_new(TU_NONE);

	tu_tar_dir(t, "etc/", 0755);
	tu_tar_file(t, "etc/passwd", 0644, "0123456789");
	read_captured_fails(t, "etc/passwd", 9, EFBIG, "'/etc/passwd'");
}
END_TEST

START_TEST(test_reading_a_path_that_was_not_captured_is_an_error)
{
	_cleanup_free_ char *path = standard_base(TU_NONE, "base.tar");
	_cleanup_(ou_base_freep) struct ou_base *b = open_ok(path, OU_BLOB_GZIP, NULL, 0);
	_cleanup_(ou_error_freep) struct ou_error *err = NULL;
	char *data = NULL;
	size_t len = 0;
	bool present = false;

	ck_assert_int_lt(ou_base_read_captured(b, "etc/passwd", 4096, &data, &len, &present, &err),
	                 0);
	tu_assert_error(err, EIO, "'/etc/passwd'");
}
END_TEST

START_TEST(test_a_second_capture_pass_keeps_header_and_content)
{
	_cleanup_free_ char *path = standard_base(TU_ZSTD, "base.tar.zst");
	_cleanup_(ou_base_freep) struct ou_base *b = open_ok(path, OU_BLOB_GZIP, NULL, 0);
	const char *more[] = {"etc/shadow"};
	_cleanup_free_ char *data = NULL;
	struct ou_error *err = NULL;
	const struct ou_base_node *n;
	size_t len = 0;
	bool present = false;

	ck_assert_ptr_null(ou_base_lookup(b, "etc/shadow")->entry);
	ck_assert_int_eq(ou_base_capture(b, more, 1, &err), 0);
	n = ou_base_lookup(b, "etc/shadow");
	ck_assert_ptr_nonnull(n->entry);
	ck_assert_int_eq(archive_entry_gid(n->entry), 42);
	ck_assert_str_eq(archive_entry_gname(n->entry), "shadow");
	ck_assert_int_eq(ou_base_read_captured(b, "etc/shadow", 4096, &data, &len, &present, &err),
	                 0);
	ck_assert(present);
	ck_assert_str_eq(data, "root:*:19000:0:99999:7:::\n");
	/* The rest of the view is what the first pass saw; blobs are not written again. */
	ck_assert_int_eq(ou_base_lookup(b, "lib")->type, OU_ENTRY_SYMLINK);
	ck_assert_uint_eq(tu_count_entries(blobs), 1);
}
END_TEST

START_TEST(test_a_second_capture_pass_of_a_vanished_base_names_it)
{
	_cleanup_free_ char *path = standard_base(TU_NONE, "base.tar");
	_cleanup_(ou_base_freep) struct ou_base *b = open_ok(path, OU_BLOB_GZIP, NULL, 0);
	_cleanup_(ou_error_freep) struct ou_error *err = NULL;
	const char *more[] = {"etc/shadow"};

	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_lt(ou_base_capture(b, more, 1, &err), 0);
	tu_assert_error(err, ENOENT, path);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Resolving through the base's symbolic links                            */

static struct ou_base *link_base(void)
{
	_cleanup_free_ char *path = xasprintf("%s/links.tar", work);
	struct tu_tar *t = tu_tar_new(TU_NONE);

	tu_tar_dir(t, "usr/", 0755);
	tu_tar_dir(t, "usr/lib/", 0755);
	tu_tar_dir(t, "usr/bin/", 0755);
	tu_tar_dir(t, "etc/", 0755);
	tu_tar_symlink(t, "lib", "usr/lib");
	tu_tar_symlink(t, "bin", "/usr/bin");
	tu_tar_symlink(t, "a", "b");
	tu_tar_symlink(t, "b", "./c/");
	tu_tar_symlink(t, "c", "/usr//lib");
	tu_tar_symlink(t, "usr/lib/up", "../../etc");
	tu_tar_symlink(t, "evil", "../../..");
	tu_tar_symlink(t, "etc/deep-evil", "../usr/../../x");
	tu_tar_symlink(t, "loop1", "loop2");
	tu_tar_symlink(t, "loop2", "loop1");
	tu_tar_symlink(t, "self", "/self");
	tu_tar_save(t, path);
	return open_ok(path, OU_BLOB_GZIP, NULL, 0);
}

static char *resolve_ok(const struct ou_base *b, const char *path, bool follow_last)
{
	struct ou_error *err = NULL;
	char *out = NULL;

	ck_assert_msg(ou_base_resolve(b, path, follow_last, &out, &err) == 0, "'%s': %s", path,
	              err ? err->message : "?");
	return out;
}

static void resolve_fails(const struct ou_base *b, const char *path, int code, const char *what)
{
	_cleanup_(ou_error_freep) struct ou_error *err = NULL;
	char *out = NULL;

	ck_assert_int_lt(ou_base_resolve(b, path, true, &out, &err), 0);
	ck_assert_ptr_null(out);
	tu_assert_error(err, code, what);
}

START_TEST(test_resolve_goes_through_a_relative_link)
{
	_cleanup_(ou_base_freep) struct ou_base *b = link_base();
	_cleanup_free_ char *p = resolve_ok(b, "lib/app/x", true);

	ck_assert_str_eq(p, "usr/lib/app/x");
}
END_TEST

START_TEST(test_resolve_starts_absolute_targets_at_the_root)
{
	_cleanup_(ou_base_freep) struct ou_base *b = link_base();
	_cleanup_free_ char *p = resolve_ok(b, "bin/tool", true);

	ck_assert_str_eq(p, "usr/bin/tool");
}
END_TEST

START_TEST(test_resolve_follows_a_chain_of_links)
{
	_cleanup_(ou_base_freep) struct ou_base *b = link_base();
	_cleanup_free_ char *p = resolve_ok(b, "a/x", true);

	ck_assert_str_eq(p, "usr/lib/x");
}
END_TEST

START_TEST(test_resolve_takes_dotdot_in_a_target_inside_the_root)
{
	_cleanup_(ou_base_freep) struct ou_base *b = link_base();
	_cleanup_free_ char *p = resolve_ok(b, "lib/up/passwd", true);

	ck_assert_str_eq(p, "etc/passwd");
}
END_TEST

START_TEST(test_resolve_follows_the_last_component_only_when_asked)
{
	_cleanup_(ou_base_freep) struct ou_base *b = link_base();
	_cleanup_free_ char *kept = resolve_ok(b, "lib", false);
	_cleanup_free_ char *followed = resolve_ok(b, "lib", true);
	_cleanup_free_ char *inner = resolve_ok(b, "lib/up", false);

	ck_assert_str_eq(kept, "lib");
	ck_assert_str_eq(followed, "usr/lib");
	ck_assert_str_eq(inner, "usr/lib/up");
}
END_TEST

START_TEST(test_resolve_keeps_paths_the_base_lacks)
{
	_cleanup_(ou_base_freep) struct ou_base *b = link_base();
	_cleanup_free_ char *p = resolve_ok(b, "srv/www/app", true);
	_cleanup_free_ char *root = resolve_ok(b, "", true);

	ck_assert_str_eq(p, "srv/www/app");
	ck_assert_str_eq(root, "");
}
END_TEST

START_TEST(test_resolve_refuses_a_link_leading_out_of_the_root)
{
	_cleanup_(ou_base_freep) struct ou_base *b = link_base();

	resolve_fails(b, "evil/x", EINVAL, "'/evil'");
}
END_TEST

START_TEST(test_resolve_refuses_a_deeper_link_leading_out_of_the_root)
{
	_cleanup_(ou_base_freep) struct ou_base *b = link_base();

	resolve_fails(b, "etc/deep-evil", EINVAL, "'/etc/deep-evil'");
}
END_TEST

START_TEST(test_resolve_refuses_a_loop)
{
	_cleanup_(ou_base_freep) struct ou_base *b = link_base();

	resolve_fails(b, "loop1/x", ELOOP, "'/loop1/x'");
}
END_TEST

START_TEST(test_resolve_refuses_a_link_to_itself)
{
	_cleanup_(ou_base_freep) struct ou_base *b = link_base();

	resolve_fails(b, "self", ELOOP, "'/self'");
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Hard links and kept content (what squash needs)                        */

/* A base with a file, two links to it, a link to a link, and a file no link names. */
static char *links_base(void)
{
	char *path = xasprintf("%s/links.tar", work);
	struct tu_tar *t = tu_tar_new(TU_NONE);

	tu_tar_dir(t, "./", 0755);
	tu_tar_dir(t, "usr/", 0755);
	tu_tar_dir(t, "usr/bin/", 0755);
	tu_tar_file(t, "usr/bin/perl", 0755, "P");
	tu_tar_hardlink(t, "usr/bin/perl5", "usr/bin/perl");
	tu_tar_hardlink(t, "usr/bin/perl5.36", "./usr/bin/perl5");
	tu_tar_file(t, "usr/bin/alone", 0755, "A");
	tu_tar_save(t, path);
	return path;
}

START_TEST(test_a_hard_link_marks_the_file_it_names)
{
	_cleanup_free_ char *path = links_base();
	_cleanup_(ou_base_freep) struct ou_base *b = open_ok(path, OU_BLOB_GZIP, NULL, 0);

	ck_assert(ou_base_lookup(b, "usr/bin/perl")->hardlinked);
	ck_assert(!ou_base_lookup(b, "usr/bin/perl5")->hardlinked);
	ck_assert(!ou_base_lookup(b, "usr/bin/perl5.36")->hardlinked);
	ck_assert(!ou_base_lookup(b, "usr/bin/alone")->hardlinked);
	ck_assert(!ou_base_lookup(b, "usr/bin")->hardlinked);
}
END_TEST

START_TEST(test_a_link_to_a_link_names_the_file)
{
	_cleanup_free_ char *path = links_base();
	_cleanup_(ou_base_freep) struct ou_base *b = open_ok(path, OU_BLOB_GZIP, NULL, 0);
	const struct ou_base_node *n = ou_base_lookup(b, "usr/bin/perl5.36");

	ck_assert_int_eq(n->type, OU_ENTRY_HARDLINK);
	ck_assert_str_eq(n->link, "usr/bin/perl");
	ck_assert_str_eq(ou_base_lookup(b, "usr/bin/perl5")->link, "usr/bin/perl");
}
END_TEST

/* Notes "path" or "path>link" for every entry replay passes, and reads each file. */
static int note_entry(void *ctx, const char *path, struct archive_entry *h, ou_base_read_fn read,
                      void *rctx, _unused_ struct ou_error **err)
{
	struct tu_buf *out = ctx;
	const char *link = archive_entry_hardlink(h);
	char buf[64];
	ssize_t n;

	tu_buf_append(out, path, strlen(path));
	if (link) {
		tu_buf_append(out, ">", 1);
		tu_buf_append(out, link, strlen(link));
	}
	while (read && (n = read(rctx, buf, sizeof(buf))) > 0) {
		tu_buf_append(out, "=", 1);
		tu_buf_append(out, buf, (size_t)n);
	}
	tu_buf_append(out, ";", 1);
	return 0;
}

START_TEST(test_replay_passes_links_after_their_file_naming_it)
{
	_cleanup_free_ char *path = links_base();
	_cleanup_(ou_base_freep) struct ou_base *b = NULL;
	struct ou_base_options o = {.tarball = path, .keep_dir_headers = true};
	struct ou_error *err = NULL;
	struct tu_buf seen = {0};

	ck_assert_int_eq(ou_base_open(&o, blobs_fd, &b, &err), 0);
	ck_assert_int_eq(ou_base_replay(b, note_entry, &seen, &err), 0);
	tu_buf_append(&seen, "", 1);
	ck_assert_str_eq(seen.data, ";usr;usr/bin;usr/bin/perl=P;usr/bin/perl5>usr/bin/perl;"
	                            "usr/bin/perl5.36>usr/bin/perl;usr/bin/alone=A;");
	tu_buf_release(&seen);
}
END_TEST

struct mem_reader {
	const char *data;
	size_t len, off;
	bool fail;
};

/* Gives @data in pieces of at most 1000 bytes, or fails after the first piece. */
static ssize_t read_mem(void *rctx, void *buf, size_t len)
{
	struct mem_reader *m = rctx;
	size_t n = m->len - m->off;

	if (m->fail && m->off > 0)
		return -1;
	if (n > len)
		n = len;
	if (n > 1000)
		n = 1000;
	memcpy(buf, m->data + m->off, n);
	m->off += n;
	return (ssize_t)n;
}

START_TEST(test_kept_content_is_an_unlinked_copy)
{
	size_t len = 300000;
	_cleanup_free_ char *data = xmalloc(len), *back = xmalloc(len);
	struct mem_reader m = {.data = data, .len = len};
	struct ou_error *err = NULL;
	int64_t size = -1;
	struct stat st;
	int fd = -1;

	tu_fill_random(data, len, 7);
	ck_assert_int_eq(ou_base_keep_content(read_mem, &m, "x", &fd, &size, &err), 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(size, (int64_t)len);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_int_eq(st.st_nlink, 0);
	ck_assert_int_eq(pread(fd, back, len, 0), (ssize_t)len);
	ck_assert(memcmp(back, data, len) == 0);
	close(fd);
}
END_TEST

START_TEST(test_kept_content_that_cannot_be_read_names_it)
{
	char data[3000] = {0};
	struct mem_reader m = {.data = data, .len = sizeof(data), .fail = true};
	_cleanup_(ou_error_freep) struct ou_error *err = NULL;
	int fd = -1;

	ck_assert_int_eq(
	        ou_base_keep_content(read_mem, &m, "the base's '/usr/bin/perl'", &fd, NULL, &err),
	        -EBADMSG);
	tu_assert_error(err, EBADMSG, "the base's '/usr/bin/perl'");
	ck_assert_int_eq(fd, -1);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("base");
	TCase *tb = tcase_create("blobs");
	TCase *tl = tcase_create("lookups");
	TCase *te = tcase_create("broken bases");
	TCase *tc = tcase_create("captured");
	TCase *tr = tcase_create("resolve");
	TCase *tk = tcase_create("hard links and kept content");
	TCase *all[] = {tb, tl, te, tc, tr, tk};

	for (size_t i = 0; i < ELEMENTSOF(all); i++) {
		tcase_add_checked_fixture(all[i], setup, teardown);
		suite_add_tcase(s, all[i]);
	}

	tcase_add_test(tb, test_plain_tar_base_is_stored_byte_for_byte);
	tcase_add_test(tb, test_gzip_base_is_stored_byte_for_byte);
	tcase_add_test(tb, test_zstd_base_is_stored_byte_for_byte);
	tcase_add_test(tb, test_plain_tar_base_has_diff_id_equal_to_digest);
	tcase_add_test(tb, test_bytes_after_a_gzip_stream_stay_in_the_stored_blob);
	tcase_add_test(tb, test_xz_base_is_reencoded_with_gzip);
	tcase_add_test(tb, test_bzip2_base_is_reencoded_with_zstd);
	tcase_add_test(tb, test_xz_base_reencoded_as_plain_tar_has_diff_id_equal_to_digest);
	tcase_add_test(tb, test_compression_is_told_from_the_bytes_not_the_name);

	tcase_add_test(tl, test_lookup_gives_types_modes_and_owners);
	tcase_add_test(tl, test_lookup_gives_link_targets);
	tcase_add_test(tl, test_the_same_path_twice_keeps_the_later_entry);
	tcase_add_test(tl, test_entry_names_are_normalised);

	tcase_add_test(te, test_an_entry_with_dotdot_is_refused_naming_it);
	tcase_add_test(te, test_a_hard_link_target_with_dotdot_is_refused_naming_it);
	tcase_add_test(te, test_a_truncated_gzip_base_is_a_bad_message);
	tcase_add_test(te, test_a_truncated_zstd_base_is_a_bad_message);
	tcase_add_test(te, test_a_tar_cut_inside_a_block_is_a_bad_message);
	tcase_add_test(te, test_random_bytes_are_a_bad_message);
	tcase_add_test(te, test_an_empty_file_is_a_bad_message);
	tcase_add_test(te, test_a_missing_base_file_is_an_error_naming_it);

	tcase_add_test(tc, test_captured_file_content_is_read_back);
	tcase_add_test(tc, test_reading_a_path_the_base_lacks_gives_not_present);
	tcase_add_test(tc, test_reading_a_captured_symlink_is_refused_naming_it);
	tcase_add_test(tc, test_reading_a_captured_hard_link_is_refused_naming_it);
	tcase_add_test(tc, test_reading_a_captured_folder_is_refused_naming_it);
	tcase_add_test(tc, test_reading_a_captured_file_over_the_limit_is_too_big);
	tcase_add_test(tc, test_reading_a_path_that_was_not_captured_is_an_error);
	tcase_add_test(tc, test_a_second_capture_pass_keeps_header_and_content);
	tcase_add_test(tc, test_a_second_capture_pass_of_a_vanished_base_names_it);

	tcase_add_test(tr, test_resolve_goes_through_a_relative_link);
	tcase_add_test(tr, test_resolve_starts_absolute_targets_at_the_root);
	tcase_add_test(tr, test_resolve_follows_a_chain_of_links);
	tcase_add_test(tr, test_resolve_takes_dotdot_in_a_target_inside_the_root);
	tcase_add_test(tr, test_resolve_follows_the_last_component_only_when_asked);
	tcase_add_test(tr, test_resolve_keeps_paths_the_base_lacks);
	tcase_add_test(tr, test_resolve_refuses_a_link_leading_out_of_the_root);
	tcase_add_test(tr, test_resolve_refuses_a_deeper_link_leading_out_of_the_root);
	tcase_add_test(tr, test_resolve_refuses_a_loop);
	tcase_add_test(tr, test_resolve_refuses_a_link_to_itself);

	tcase_add_test(tk, test_a_hard_link_marks_the_file_it_names);
	tcase_add_test(tk, test_a_link_to_a_link_names_the_file);
	tcase_add_test(tk, test_replay_passes_links_after_their_file_naming_it);
	tcase_add_test(tk, test_kept_content_is_an_unlinked_copy);
	tcase_add_test(tk, test_kept_content_that_cannot_be_read_names_it);
	return s;
}

OU_CHECK_MAIN(make_suite)
