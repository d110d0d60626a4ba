/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ou-check.h"
#include "tarutil.h"
#include "ociuser/blob.h"
#include "ociuser/digest.h"
#include "ociuser/xalloc.h"

/* ---------------------------------------------------------------------- */
/* Fixtures: one empty blob folder per test                               */

static char *dir;
static int dirfd_ = -1;

static void setup(void)
{
	dir = tu_mkdtemp();
	dirfd_ = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(dirfd_, 0);
}

static void teardown(void)
{
	close(dirfd_);
	dirfd_ = -1;
	tu_rmtree(dir);
	free(dir);
	dir = NULL;
}

/* A small but real tar, so the codecs see what they see in a build. */
static void sample_tar(struct tu_buf *ret)
{
	struct tu_tar *t = tu_tar_new(TU_NONE);

	tu_tar_dir(t, "app/", 0755);
	tu_tar_file(t, "app/hello.txt", 0644, "hello, world\n");
	tu_tar_finish(t, ret);
}

/* Writes @len bytes through a @codec writer in chunks of @chunk and finishes. */
static void store_blob(enum ou_blob_codec codec, const void *data, size_t len, size_t chunk,
                       struct ou_blob_result *res)
{
	_cleanup_(ou_blob_writer_freep) struct ou_blob_writer *w = NULL;
	struct ou_error *err = NULL;
	const char *p = data;

	ck_assert_int_eq(ou_blob_writer_new(dirfd_, codec, &w, &err), 0);
	ck_assert_ptr_null(err);
	while (len) {
		size_t n = len < chunk ? len : chunk;
		ck_assert_int_eq(ou_blob_writer_write(w, p, n, &err), 0);
		p += n;
		len -= n;
	}
	ck_assert_int_eq(ou_blob_writer_finish(w, res, &err), 0);
	ck_assert_ptr_null(err);
}

static void stored_bytes(const struct ou_blob_result *res, struct tu_buf *out)
{
	tu_read_blob(dir, res->digest, out);
}

static char *blob_path(const struct ou_blob_result *res)
{
	return xasprintf("%s/%s", dir, res->digest + 7);
}

/* Runs @cmd through the shell; returns its exit status (-1 when it did not exit). */
static int run(const char *cmd)
{
	int st = system(cmd);

	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* ---------------------------------------------------------------------- */
/* gzip                                                                   */

START_TEST(test_gzip_header_has_no_mtime)
{
	struct tu_buf tar = {0}, raw = {0};
	struct ou_blob_result res;

	sample_tar(&tar);
	store_blob(OU_BLOB_GZIP, tar.data, tar.len, tar.len, &res);
	stored_bytes(&res, &raw);
	ck_assert_uint_ge(raw.len, 10);
	ck_assert_uint_eq((unsigned char)raw.data[0], 0x1f);
	ck_assert_uint_eq((unsigned char)raw.data[1], 0x8b);
	for (int i = 4; i < 8; i++)
		ck_assert_msg(raw.data[i] == 0, "gzip MTIME byte %d is %#x", i,
		              (unsigned char)raw.data[i]);
	tu_buf_release(&tar);
	tu_buf_release(&raw);
}
END_TEST

START_TEST(test_gzip_header_has_no_file_name)
{
	struct tu_buf tar = {0}, raw = {0};
	struct ou_blob_result res;

	sample_tar(&tar);
	store_blob(OU_BLOB_GZIP, tar.data, tar.len, tar.len, &res);
	stored_bytes(&res, &raw);
	/* FLG bit 3 is FNAME, bit 4 FCOMMENT: neither may be set. */
	ck_assert_msg((raw.data[3] & 0x18) == 0, "gzip FLG is %#x", (unsigned char)raw.data[3]);
	ck_assert(!tu_buf_contains(&raw, "layer.tar", 9));
	tu_buf_release(&tar);
	tu_buf_release(&raw);
}
END_TEST

START_TEST(test_gzip_digest_is_the_sha256_of_the_stored_file)
{
	struct tu_buf tar = {0};
	struct ou_blob_result res;
	char want[OU_DIGEST_STRLEN];
	_cleanup_free_ char *path = NULL;
	struct stat st;

	sample_tar(&tar);
	store_blob(OU_BLOB_GZIP, tar.data, tar.len, 100, &res);
	path = blob_path(&res);
	tu_sha256_file(path, want);
	ck_assert_str_eq(res.digest, want);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(res.size, st.st_size);
	tu_buf_release(&tar);
}
END_TEST

START_TEST(test_gzip_diff_id_is_the_sha256_of_the_input)
{
	struct tu_buf tar = {0};
	struct ou_blob_result res;
	char want[OU_DIGEST_STRLEN];

	sample_tar(&tar);
	store_blob(OU_BLOB_GZIP, tar.data, tar.len, 7, &res);
	ou_sha256_buffer(tar.data, tar.len, want);
	ck_assert_str_eq(res.diff_id, want);
	ck_assert_str_ne(res.diff_id, res.digest);
	tu_buf_release(&tar);
}
END_TEST

START_TEST(test_gzip_blob_decompresses_to_the_input)
{
	struct tu_buf tar = {0}, raw = {0}, back = {0};
	struct ou_blob_result res;

	sample_tar(&tar);
	store_blob(OU_BLOB_GZIP, tar.data, tar.len, 4096, &res);
	stored_bytes(&res, &raw);
	tu_decompress(raw.data, raw.len, &back);
	ck_assert_uint_eq(back.len, tar.len);
	ck_assert(memcmp(back.data, tar.data, tar.len) == 0);
	tu_buf_release(&tar);
	tu_buf_release(&raw);
	tu_buf_release(&back);
}
END_TEST

START_TEST(test_gzip_blob_has_no_trailing_garbage)
{
	struct tu_buf tar = {0};
	struct ou_blob_result res;
	_cleanup_free_ char *path = NULL;
	_cleanup_free_ char *cmd = NULL;

	sample_tar(&tar);
	store_blob(OU_BLOB_GZIP, tar.data, tar.len, tar.len, &res);
	path = blob_path(&res);
	/* gzip -t exits 2 on "trailing garbage ignored", 1 on errors. */
	cmd = xasprintf("gzip -t < '%s' 2>/dev/null", path);
	ck_assert_int_eq(run(cmd), 0);
	tu_buf_release(&tar);
}
END_TEST

START_TEST(test_gzip_of_the_same_input_gives_the_same_digest)
{
	struct tu_buf tar = {0};
	struct ou_blob_result a, b;

	sample_tar(&tar);
	store_blob(OU_BLOB_GZIP, tar.data, tar.len, tar.len, &a);
	store_blob(OU_BLOB_GZIP, tar.data, tar.len, 13, &b);
	ck_assert_str_eq(a.digest, b.digest);
	ck_assert_str_eq(a.diff_id, b.diff_id);
	tu_buf_release(&tar);
}
END_TEST

START_TEST(test_gzip_round_trips_a_large_input_written_in_chunks)
{
	size_t len = 3 * 1024 * 1024 + 17;
	_cleanup_free_ char *data = xmalloc(len);
	struct tu_buf raw = {0}, back = {0};
	struct ou_blob_result res;
	char want[OU_DIGEST_STRLEN];

	tu_fill_random(data, len, 42);
	store_blob(OU_BLOB_GZIP, data, len, 65536, &res);
	stored_bytes(&res, &raw);
	tu_decompress(raw.data, raw.len, &back);
	ck_assert_uint_eq(back.len, len);
	ck_assert(memcmp(back.data, data, len) == 0);
	ou_sha256_buffer(data, len, want);
	ck_assert_str_eq(res.diff_id, want);
	tu_buf_release(&raw);
	tu_buf_release(&back);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* zstd                                                                   */

START_TEST(test_zstd_blob_starts_with_the_zstd_magic)
{
	struct tu_buf tar = {0}, raw = {0};
	struct ou_blob_result res;

	sample_tar(&tar);
	store_blob(OU_BLOB_ZSTD, tar.data, tar.len, tar.len, &res);
	stored_bytes(&res, &raw);
	ck_assert_uint_ge(raw.len, 4);
	ck_assert_uint_eq((unsigned char)raw.data[0], 0x28);
	ck_assert_uint_eq((unsigned char)raw.data[1], 0xb5);
	ck_assert_uint_eq((unsigned char)raw.data[2], 0x2f);
	ck_assert_uint_eq((unsigned char)raw.data[3], 0xfd);
	tu_buf_release(&tar);
	tu_buf_release(&raw);
}
END_TEST

START_TEST(test_zstd_digest_and_diff_id_are_of_stored_and_given_bytes)
{
	struct tu_buf tar = {0};
	struct ou_blob_result res;
	char want_digest[OU_DIGEST_STRLEN], want_diff[OU_DIGEST_STRLEN];
	_cleanup_free_ char *path = NULL;

	sample_tar(&tar);
	store_blob(OU_BLOB_ZSTD, tar.data, tar.len, 500, &res);
	path = blob_path(&res);
	tu_sha256_file(path, want_digest);
	ou_sha256_buffer(tar.data, tar.len, want_diff);
	ck_assert_str_eq(res.digest, want_digest);
	ck_assert_str_eq(res.diff_id, want_diff);
	tu_buf_release(&tar);
}
END_TEST

START_TEST(test_zstd_blob_has_no_trailing_garbage)
{
	struct tu_buf tar = {0}, raw = {0}, back = {0};
	struct ou_blob_result res;
	_cleanup_free_ char *path = NULL;
	_cleanup_free_ char *cmd = NULL;

	sample_tar(&tar);
	store_blob(OU_BLOB_ZSTD, tar.data, tar.len, tar.len, &res);
	path = blob_path(&res);
	cmd = xasprintf("zstd -q -t < '%s' 2>/dev/null", path);
	ck_assert_int_eq(run(cmd), 0);
	stored_bytes(&res, &raw);
	tu_decompress(raw.data, raw.len, &back);
	ck_assert_uint_eq(back.len, tar.len);
	ck_assert(memcmp(back.data, tar.data, tar.len) == 0);
	tu_buf_release(&tar);
	tu_buf_release(&raw);
	tu_buf_release(&back);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* tar and store                                                          */

START_TEST(test_tar_blob_is_stored_as_given_with_diff_id_equal_to_digest)
{
	struct tu_buf tar = {0}, raw = {0};
	struct ou_blob_result res;
	char want[OU_DIGEST_STRLEN];

	sample_tar(&tar);
	store_blob(OU_BLOB_TAR, tar.data, tar.len, 1000, &res);
	ou_sha256_buffer(tar.data, tar.len, want);
	ck_assert_str_eq(res.digest, want);
	ck_assert_str_eq(res.diff_id, want);
	ck_assert_int_eq(res.size, (int64_t)tar.len);
	stored_bytes(&res, &raw);
	ck_assert_uint_eq(raw.len, tar.len);
	ck_assert(memcmp(raw.data, tar.data, tar.len) == 0);
	tu_buf_release(&tar);
	tu_buf_release(&raw);
}
END_TEST

START_TEST(test_store_blob_keeps_bytes_and_has_no_diff_id)
{
	static const char json[] = "{\"schemaVersion\":2}";
	struct tu_buf raw = {0};
	struct ou_blob_result res;
	char want[OU_DIGEST_STRLEN];

	store_blob(OU_BLOB_STORE, json, strlen(json), 3, &res);
	ou_sha256_buffer(json, strlen(json), want);
	ck_assert_str_eq(res.digest, want);
	ck_assert_str_eq(res.diff_id, "");
	ck_assert_int_eq(res.size, (int64_t)strlen(json));
	stored_bytes(&res, &raw);
	ck_assert_str_eq(raw.data, json);
	tu_buf_release(&raw);
}
END_TEST

START_TEST(test_empty_store_blob_is_the_digest_of_nothing)
{
	struct ou_blob_result res;

	store_blob(OU_BLOB_STORE, "", 0, 1, &res);
	ck_assert_str_eq(res.digest,
	                 "sha256:"
	                 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	ck_assert_int_eq(res.size, 0);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Files in the blob folder                                               */

START_TEST(test_finished_blob_is_named_by_its_hex_digest_and_nothing_else_is_left)
{
	struct tu_buf tar = {0};
	struct ou_blob_result res;
	_cleanup_free_ char *path = NULL;
	struct stat st;

	sample_tar(&tar);
	store_blob(OU_BLOB_GZIP, tar.data, tar.len, tar.len, &res);
	ck_assert(ou_digest_is_valid(res.digest));
	path = blob_path(&res);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_uint_eq(tu_count_entries(dir), 1);
	tu_buf_release(&tar);
}
END_TEST

START_TEST(test_finished_blob_is_0644_even_under_umask_077)
{
	struct tu_buf tar = {0};
	struct ou_blob_result res;
	_cleanup_free_ char *path = NULL;
	struct stat st;

	umask(077);
	sample_tar(&tar);
	store_blob(OU_BLOB_TAR, tar.data, tar.len, tar.len, &res);
	path = blob_path(&res);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0644);
	tu_buf_release(&tar);
}
END_TEST

START_TEST(test_free_without_finish_removes_the_temporary_file)
{
	struct ou_blob_writer *w = NULL;
	struct ou_error *err = NULL;

	ck_assert_int_eq(ou_blob_writer_new(dirfd_, OU_BLOB_GZIP, &w, &err), 0);
	ck_assert_int_eq(ou_blob_writer_write(w, "some bytes", 10, &err), 0);
	ck_assert_uint_eq(tu_count_entries(dir), 1);
	ck_assert_ptr_null(ou_blob_writer_free(w));
	ck_assert_uint_eq(tu_count_entries(dir), 0);
}
END_TEST

START_TEST(test_two_open_writers_use_different_temporary_files)
{
	_cleanup_(ou_blob_writer_freep) struct ou_blob_writer *a = NULL;
	_cleanup_(ou_blob_writer_freep) struct ou_blob_writer *b = NULL;
	struct ou_error *err = NULL;
	struct ou_blob_result ra, rb;

	ck_assert_int_eq(ou_blob_writer_new(dirfd_, OU_BLOB_STORE, &a, &err), 0);
	ck_assert_int_eq(ou_blob_writer_new(dirfd_, OU_BLOB_STORE, &b, &err), 0);
	ck_assert_int_eq(ou_blob_writer_write(a, "a", 1, &err), 0);
	ck_assert_int_eq(ou_blob_writer_write(b, "b", 1, &err), 0);
	ck_assert_uint_eq(tu_count_entries(dir), 2);
	ck_assert_int_eq(ou_blob_writer_finish(a, &ra, &err), 0);
	ck_assert_int_eq(ou_blob_writer_finish(b, &rb, &err), 0);
	ck_assert_str_ne(ra.digest, rb.digest);
	ck_assert_uint_eq(tu_count_entries(dir), 2);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Failures                                                               */

START_TEST(test_new_refuses_a_descriptor_that_is_not_a_folder)
{
	_cleanup_(ou_error_freep) struct ou_error *err = NULL;
	struct ou_blob_writer *w = NULL;
	_cleanup_free_ char *file = xasprintf("%s/plain", dir);
	_cleanup_close_ int fd = -1;

	tu_write_str(file, "x", 0644);
	fd = open(file, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_lt(ou_blob_writer_new(fd, OU_BLOB_STORE, &w, &err), 0);
	ck_assert_ptr_null(w);
	tu_assert_error(err, ENOTDIR, "cannot create a blob file");
}
END_TEST

/* A file size limit makes write(2) fail with EFBIG, as a full disk would with ENOSPC. */
static void fail_write_at_64k(enum ou_blob_codec codec)
{
	_cleanup_(ou_error_freep) struct ou_error *err = NULL;
	struct ou_blob_writer *w = NULL;
	struct rlimit rl = {.rlim_cur = 65536, .rlim_max = RLIM_INFINITY};
	size_t len = 1024 * 1024;
	_cleanup_free_ char *data = xmalloc(len);
	struct ou_blob_result res;
	int r;

	signal(SIGXFSZ, SIG_IGN);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	tu_fill_random(data, len, 7);
	ck_assert_int_eq(ou_blob_writer_new(dirfd_, codec, &w, &err), 0);
	r = ou_blob_writer_write(w, data, len, &err);
	if (r >= 0)
		r = ou_blob_writer_finish(w, &res, &err);
	ck_assert_int_lt(r, 0);
	tu_assert_error(err, EFBIG, "cannot write blob");
	ou_blob_writer_free(w);
	ck_assert_uint_eq(tu_count_entries(dir), 0);
}

START_TEST(test_write_failure_of_a_plain_blob_is_reported_with_its_errno)
{
	fail_write_at_64k(OU_BLOB_TAR);
}
END_TEST

START_TEST(test_write_failure_under_gzip_is_reported_with_its_errno)
{
	fail_write_at_64k(OU_BLOB_GZIP);
}
END_TEST

START_TEST(test_write_failure_under_zstd_is_reported_with_its_errno)
{
	fail_write_at_64k(OU_BLOB_ZSTD);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Media types                                                            */

START_TEST(test_layer_media_types_match_the_codecs)
{
	ck_assert_str_eq(ou_blob_layer_media_type(OU_BLOB_TAR),
	                 "application/vnd.oci.image.layer.v1.tar");
	ck_assert_str_eq(ou_blob_layer_media_type(OU_BLOB_GZIP),
	                 "application/vnd.oci.image.layer.v1.tar+gzip");
	ck_assert_str_eq(ou_blob_layer_media_type(OU_BLOB_ZSTD),
	                 "application/vnd.oci.image.layer.v1.tar+zstd");
	ck_assert_ptr_null(ou_blob_layer_media_type(OU_BLOB_STORE));
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("blob");
	TCase *tg = tcase_create("gzip");
	TCase *tz = tcase_create("zstd");
	TCase *tt = tcase_create("tar");
	TCase *tf = tcase_create("files");
	TCase *te = tcase_create("failures");
	TCase *tm = tcase_create("media types");
	TCase *all[] = {tg, tz, tt, tf, te};

	for (size_t i = 0; i < ELEMENTSOF(all); i++) {
		tcase_add_checked_fixture(all[i], setup, teardown);
		suite_add_tcase(s, all[i]);
	}
	suite_add_tcase(s, tm);

	tcase_add_test(tg, test_gzip_header_has_no_mtime);
	tcase_add_test(tg, test_gzip_header_has_no_file_name);
	tcase_add_test(tg, test_gzip_digest_is_the_sha256_of_the_stored_file);
	tcase_add_test(tg, test_gzip_diff_id_is_the_sha256_of_the_input);
	tcase_add_test(tg, test_gzip_blob_decompresses_to_the_input);
	tcase_add_test(tg, test_gzip_blob_has_no_trailing_garbage);
	tcase_add_test(tg, test_gzip_of_the_same_input_gives_the_same_digest);
	tcase_add_test(tg, test_gzip_round_trips_a_large_input_written_in_chunks);

	tcase_add_test(tz, test_zstd_blob_starts_with_the_zstd_magic);
	tcase_add_test(tz, test_zstd_digest_and_diff_id_are_of_stored_and_given_bytes);
	tcase_add_test(tz, test_zstd_blob_has_no_trailing_garbage);

	tcase_add_test(tt, test_tar_blob_is_stored_as_given_with_diff_id_equal_to_digest);
	tcase_add_test(tt, test_store_blob_keeps_bytes_and_has_no_diff_id);
	tcase_add_test(tt, test_empty_store_blob_is_the_digest_of_nothing);

	tcase_add_test(tf, test_finished_blob_is_named_by_its_hex_digest_and_nothing_else_is_left);
	tcase_add_test(tf, test_finished_blob_is_0644_even_under_umask_077);
	tcase_add_test(tf, test_free_without_finish_removes_the_temporary_file);
	tcase_add_test(tf, test_two_open_writers_use_different_temporary_files);

	tcase_add_test(te, test_new_refuses_a_descriptor_that_is_not_a_folder);
	tcase_add_test(te, test_write_failure_of_a_plain_blob_is_reported_with_its_errno);
	tcase_add_test(te, test_write_failure_under_gzip_is_reported_with_its_errno);
	tcase_add_test(te, test_write_failure_under_zstd_is_reported_with_its_errno);

	tcase_add_test(tm, test_layer_media_types_match_the_codecs);
	return s;
}

OU_CHECK_MAIN(make_suite)
