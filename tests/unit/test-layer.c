/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ou-check.h"
#include "tarutil.h"
#include "ociuser/blob.h"
#include "ociuser/layer.h"
#include "ociuser/xalloc.h"

#define EPOCH 1700000000LL

/* ---------------------------------------------------------------------- */
/* Fixtures: an empty blob folder and a host folder per test              */

static char *blobs;
static int blobs_fd = -1;
static char *host;
static int host_fd = -1;
static struct ou_layer_list list;

static void setup(void)
{
	blobs = tu_mkdtemp();
	blobs_fd = open(blobs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(blobs_fd, 0);
	host = tu_mkdtemp();
	host_fd = open(host, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(host_fd, 0);
	list = (struct ou_layer_list){0};
	/* As main() does: names are bytes, non-UTF-8 ones get hdrcharset=BINARY. */
	setlocale(LC_CTYPE, "C.UTF-8");
}

static void teardown(void)
{
	ou_layer_list_release(&list);
	close(blobs_fd);
	close(host_fd);
	tu_rmtree(blobs);
	tu_rmtree(host);
	free(blobs);
	free(host);
}

static struct ou_layer_entry *add_owned(const char *path, enum ou_entry_type type, unsigned mode,
                                        uint32_t uid, uint32_t gid, const char *uname,
                                        const char *gname)
{
	struct ou_layer_entry *e = ou_layer_list_add(&list, path);

	e->type = type;
	e->mode = mode;
	e->uid = uid;
	e->gid = gid;
	e->uname = uname;
	e->gname = gname;
	e->mtime = EPOCH;
	return e;
}

static struct ou_layer_entry *add_dir(const char *path)
{
	return add_owned(path, OU_ENTRY_DIR, 0755, 1500, 1500, "web", "web");
}

static struct ou_layer_entry *add_memory(const char *path, const char *content)
{
	struct ou_layer_entry *e = add_owned(path, OU_ENTRY_FILE, 0644, 1500, 1500, "web", "web");

	e->content = OU_CONTENT_MEMORY;
	e->data = xstrdup(content);
	e->size = (int64_t)strlen(content);
	return e;
}

static struct ou_layer_entry *add_symlink(const char *path, const char *target)
{
	struct ou_layer_entry *e =
	        add_owned(path, OU_ENTRY_SYMLINK, 0777, 1500, 1500, "web", "web");

	e->link = xstrdup(target);
	return e;
}

static struct ou_layer_entry *add_hardlink(const char *path, const char *target)
{
	struct ou_layer_entry *e =
	        add_owned(path, OU_ENTRY_HARDLINK, 0644, 1500, 1500, "web", "web");

	e->link = xstrdup(target);
	return e;
}

/* A file below the host folder, planned as the walk would: dev and ino from a stat. */
static struct ou_layer_entry *add_host_file(const char *path, const char *rel, const char *content)
{
	struct ou_layer_entry *e = add_owned(path, OU_ENTRY_FILE, 0644, 1500, 1500, "web", "web");
	_cleanup_free_ char *hp = xasprintf("%s/%s", host, rel);
	struct stat st;

	tu_write_str(hp, content, 0644);
	ck_assert_int_eq(stat(hp, &st), 0);
	e->content = OU_CONTENT_HOST;
	e->host_root = host_fd;
	e->host_rel = xstrdup(rel);
	e->host_name = xstrdup(hp);
	e->host_dev = st.st_dev;
	e->host_ino = st.st_ino;
	e->size = st.st_size;
	return e;
}

/* Writes the list, checks the blob's digests, and reads every member back. */
static void write_and_read(enum ou_blob_codec codec, struct ou_blob_result *res,
                           struct tu_members *ret, struct tu_buf *ret_tar)
{
	struct ou_error *err = NULL;
	struct tu_buf raw = {0}, tar = {0};
	char want[OU_DIGEST_STRLEN];

	ck_assert_msg(ou_layer_write(&list, blobs_fd, codec, res, &err) == 0, "%s",
	              err ? err->message : "?");
	tu_read_blob(blobs, res->digest, &raw);
	ou_sha256_buffer(raw.data, raw.len, want);
	ck_assert_str_eq(res->digest, want);
	tu_decompress(raw.data, raw.len, &tar);
	ou_sha256_buffer(tar.data, tar.len, want);
	ck_assert_str_eq(res->diff_id, want);
	tu_read_tar(raw.data, raw.len, ret);
	tu_buf_release(&raw);
	if (ret_tar)
		*ret_tar = tar;
	else
		tu_buf_release(&tar);
}

static void write_fails(int code, const char *what)
{
	_cleanup_(ou_error_freep) struct ou_error *err = NULL;
	struct ou_blob_result res;

	ck_assert_int_lt(ou_layer_write(&list, blobs_fd, OU_BLOB_GZIP, &res, &err), 0);
	tu_assert_error(err, code, what);
	/* A failed layer leaves nothing behind in the blob folder. */
	ck_assert_uint_eq(tu_count_entries(blobs), 0);
}

/* ---------------------------------------------------------------------- */
/* Headers                                                                */

START_TEST(test_entries_are_written_in_the_given_order_with_their_fields)
{
	struct ou_blob_result res;
	struct tu_members m;

	add_owned("app", OU_ENTRY_DIR, 0750, 1500, 1501, "web", "www");
	add_memory("app/index.html", "<html>\n")->mode = 0640;
	add_symlink("app/link", "index.html");
	add_owned("srv", OU_ENTRY_DIR, 0755, 0, 0, "root", "root");
	ou_layer_list_sort(&list);
	write_and_read(OU_BLOB_TAR, &res, &m, NULL);

	ck_assert_uint_eq(m.n, 4);
	ck_assert_str_eq(m.v[0].path, "app/");
	ck_assert_uint_eq(m.v[0].filetype, AE_IFDIR);
	ck_assert_uint_eq(m.v[0].perm, 0750);
	ck_assert_int_eq(m.v[0].uid, 1500);
	ck_assert_int_eq(m.v[0].gid, 1501);
	ck_assert_str_eq(m.v[0].uname, "web");
	ck_assert_str_eq(m.v[0].gname, "www");
	ck_assert_int_eq(m.v[0].mtime, EPOCH);
	ck_assert_int_eq(m.v[0].size, 0);

	ck_assert_str_eq(m.v[1].path, "app/index.html");
	ck_assert_uint_eq(m.v[1].filetype, AE_IFREG);
	ck_assert_uint_eq(m.v[1].perm, 0640);
	ck_assert_int_eq(m.v[1].size, 7);
	ck_assert_str_eq(m.v[1].data.data, "<html>\n");
	ck_assert_int_eq(m.v[1].mtime, EPOCH);

	ck_assert_str_eq(m.v[2].path, "app/link");
	ck_assert_uint_eq(m.v[2].filetype, AE_IFLNK);
	ck_assert_str_eq(m.v[2].symlink, "index.html");
	ck_assert_uint_eq(m.v[2].perm, 0777);

	ck_assert_str_eq(m.v[3].path, "srv/");
	ck_assert_int_eq(m.v[3].uid, 0);
	ck_assert_str_eq(m.v[3].uname, "root");
	tu_members_release(&m);
}
END_TEST

START_TEST(test_the_list_is_written_as_given_without_resorting)
{
	struct ou_blob_result res;
	struct tu_members m;

	add_memory("b", "b");
	add_memory("a", "a");
	write_and_read(OU_BLOB_TAR, &res, &m, NULL);
	ck_assert_uint_eq(m.n, 2);
	ck_assert_str_eq(m.v[0].path, "b");
	ck_assert_str_eq(m.v[1].path, "a");
	tu_members_release(&m);
}
END_TEST

START_TEST(test_sort_orders_paths_bytewise)
{
	add_memory("a/b", "");
	add_memory("\xff.bin", "");
	add_memory("a-b", "");
	add_memory("A", "");
	add_memory("a", "");
	ou_layer_list_sort(&list);
	ck_assert_str_eq(list.v[0].path, "A");
	ck_assert_str_eq(list.v[1].path, "a");
	ck_assert_str_eq(list.v[2].path, "a-b");
	ck_assert_str_eq(list.v[3].path, "a/b");
	ck_assert_str_eq(list.v[4].path, "\xff.bin");
	ck_assert_ptr_eq(ou_layer_list_find(&list, "a-b"), &list.v[2]);
	ck_assert_ptr_null(ou_layer_list_find(&list, "a/"));
}
END_TEST

START_TEST(test_big_ids_read_back_exactly_through_pax_records)
{
	struct ou_blob_result res;
	struct tu_members m;
	struct tu_buf tar;

	add_owned("a", OU_ENTRY_DIR, 0755, 3000000, 3000001, "big", "big");
	add_owned("b", OU_ENTRY_DIR, 0755, 2147483646, 2147483646, "max", "max");
	write_and_read(OU_BLOB_GZIP, &res, &m, &tar);
	ck_assert_int_eq(m.v[0].uid, 3000000);
	ck_assert_int_eq(m.v[0].gid, 3000001);
	ck_assert_int_eq(m.v[1].uid, 2147483646);
	ck_assert_int_eq(m.v[1].gid, 2147483646);
	/* ustar's 7 octal digits stop at 2097151: the ids must be pax records. */
	ck_assert(tu_buf_contains(&tar, " uid=3000000\n", 13));
	ck_assert(tu_buf_contains(&tar, " gid=2147483646\n", 16));
	tu_members_release(&m);
	tu_buf_release(&tar);
}
END_TEST

START_TEST(test_long_names_paths_and_link_targets_read_back_exactly)
{
	char name120[121], target180[181];
	_cleanup_free_ char *path250 = NULL;
	_cleanup_free_ char *under120 = NULL;
	struct ou_blob_result res;
	struct tu_members m;

	memset(name120, 'n', 120);
	name120[120] = '\0';
	memset(target180, 't', 180);
	target180[180] = '\0';
	for (int i = 9; i < 180; i += 10)
		target180[i] = '/';
	/* 250 bytes, every component under 100: no ustar prefix/name split holds it all. */
	path250 = xasprintf("%0*d/%0*d/%0*d", 80, 1, 80, 2, 88, 3);
	ck_assert_uint_eq(strlen(path250), 250);
	under120 = xasprintf("d/%s", name120);

	add_memory(path250, "deep");
	add_memory(under120, "long");
	add_hardlink("hl", under120);
	add_symlink("sl", target180);
	write_and_read(OU_BLOB_ZSTD, &res, &m, NULL);
	ck_assert_uint_eq(m.n, 4);
	ck_assert_str_eq(m.v[0].path, path250);
	ck_assert_str_eq(m.v[0].data.data, "deep");
	ck_assert_str_eq(m.v[1].path, under120);
	ck_assert_str_eq(m.v[2].hardlink, under120);
	ck_assert_str_eq(m.v[3].symlink, target180);
	tu_members_release(&m);
}
END_TEST

START_TEST(test_a_name_that_is_not_utf8_is_kept_byte_for_byte)
{
	struct ou_blob_result res;
	struct tu_members m;
	struct tu_buf tar;

	add_memory("app/\xff.bin", "x");
	add_symlink("app/l", "\xfe-target");
	write_and_read(OU_BLOB_TAR, &res, &m, &tar);
	ck_assert_uint_eq(m.n, 2);
	ck_assert_mem_eq(m.v[0].path, "app/\xff.bin", 10);
	ck_assert_str_eq(m.v[0].path, "app/\xff.bin");
	ck_assert_str_eq(m.v[1].symlink, "\xfe-target");
	ck_assert(tu_buf_contains(&tar, "app/\xff.bin", 10));
	tu_members_release(&m);
	tu_buf_release(&tar);
}
END_TEST

START_TEST(test_a_utf8_name_is_kept_byte_for_byte)
{
	static const char name[] = "app/\xc3\x9cn\xc3\xaf"
	                           "c\xc3\xb8"
	                           "d\xc3\xa9-\xf0\x9f\x98\x80.txt";
	struct ou_blob_result res;
	struct tu_members m;

	add_memory(name, "u");
	write_and_read(OU_BLOB_TAR, &res, &m, NULL);
	ck_assert_str_eq(m.v[0].path, name);
	tu_members_release(&m);
}
END_TEST

START_TEST(test_hard_link_entries_have_size_zero_and_the_given_linkname)
{
	struct ou_blob_result res;
	struct tu_members m;

	add_memory("app/aa-link", "A");
	add_hardlink("app/zz-real", "app/aa-link");
	write_and_read(OU_BLOB_TAR, &res, &m, NULL);
	ck_assert_uint_eq(m.n, 2);
	ck_assert_str_eq(m.v[1].path, "app/zz-real");
	ck_assert_str_eq(m.v[1].hardlink, "app/aa-link");
	ck_assert_int_eq(m.v[1].size, 0);
	ck_assert_uint_eq(m.v[1].data.len, 0);
	ck_assert_int_eq(m.v[1].uid, 1500);
	tu_members_release(&m);
}
END_TEST

START_TEST(test_headers_carry_no_atime_ctime_or_host_records)
{
	struct ou_blob_result res;
	struct tu_members m;
	struct tu_buf tar;

	add_dir("app");
	add_memory("app/f", "data");
	add_host_file("app/h", "h", "host");
	add_owned("big", OU_ENTRY_DIR, 0755, 3000000, 3000000, "big", "big");
	write_and_read(OU_BLOB_TAR, &res, &m, &tar);
	for (size_t i = 0; i < m.n; i++) {
		ck_assert_msg(!m.v[i].atime_set, "'%s' has an atime", m.v[i].path);
		ck_assert_msg(!m.v[i].ctime_set, "'%s' has a ctime", m.v[i].path);
		ck_assert_uint_eq(m.v[i].n_xattrs, 0);
		ck_assert_int_eq(m.v[i].devmajor, 0);
		ck_assert_int_eq(m.v[i].devminor, 0);
	}
	ck_assert(!tu_buf_contains(&tar, "atime=", 6));
	ck_assert(!tu_buf_contains(&tar, "ctime=", 6));
	ck_assert(!tu_buf_contains(&tar, "LIBARCHIVE.", 11));
	ck_assert(!tu_buf_contains(&tar, "SCHILY.", 7));
	tu_members_release(&m);
	tu_buf_release(&tar);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Base templates                                                         */

static struct archive_entry *shadow_template(void)
{
	struct archive_entry *t = tu_entry("./etc/shadow", AE_IFREG, 0640);

	archive_entry_set_gid(t, 42);
	archive_entry_set_gname(t, "shadow");
	archive_entry_set_size(t, 999);
	archive_entry_xattr_add_entry(t, "security.capability", tu_cap_net_raw,
	                              sizeof(tu_cap_net_raw));
	return t;
}

START_TEST(test_a_base_template_keeps_every_field_but_mode_and_content)
{
	struct archive_entry *t = shadow_template();
	struct ou_layer_entry *e = add_memory("etc/shadow", "root:!:19675::::::\n");
	struct ou_blob_result res;
	struct tu_members m;

	e->base = t;
	e->mode = 0600;
	e->mode_set = true;
	/* Fields of the entry itself are ignored for a base entry. */
	e->uid = 1500;
	e->uname = "web";
	write_and_read(OU_BLOB_GZIP, &res, &m, NULL);
	ck_assert_uint_eq(m.n, 1);
	ck_assert_str_eq(m.v[0].path, "etc/shadow");
	ck_assert_uint_eq(m.v[0].filetype, AE_IFREG);
	ck_assert_uint_eq(m.v[0].perm, 0600);
	ck_assert_int_eq(m.v[0].uid, 0);
	ck_assert_int_eq(m.v[0].gid, 42);
	ck_assert_str_eq(m.v[0].uname, "root");
	ck_assert_str_eq(m.v[0].gname, "shadow");
	ck_assert_int_eq(m.v[0].mtime, TU_BASE_MTIME);
	ck_assert_int_eq(m.v[0].size, 19);
	ck_assert_str_eq(m.v[0].data.data, "root:!:19675::::::\n");
	ck_assert_uint_eq(m.v[0].n_xattrs, 1);
	ck_assert_str_eq(m.v[0].xattr_name, "security.capability");
	ck_assert_uint_eq(m.v[0].xattr_value.len, sizeof(tu_cap_net_raw));
	ck_assert_mem_eq(m.v[0].xattr_value.data, tu_cap_net_raw, sizeof(tu_cap_net_raw));
	tu_members_release(&m);
	archive_entry_free(t);
}
END_TEST

START_TEST(test_a_base_template_keeps_its_mode_unless_mode_set)
{
	struct archive_entry *t = shadow_template();
	struct ou_layer_entry *e = add_memory("etc/shadow", "x\n");
	struct ou_blob_result res;
	struct tu_members m;

	e->base = t;
	e->mode = 0777;
	write_and_read(OU_BLOB_TAR, &res, &m, NULL);
	ck_assert_uint_eq(m.v[0].perm, 0640);
	ck_assert_int_eq(m.v[0].size, 2);
	tu_members_release(&m);
	archive_entry_free(t);
}
END_TEST

START_TEST(test_a_base_template_keeps_setuid_and_xattr_when_read_from_a_descriptor)
{
	struct archive_entry *t = tu_entry("usr/bin/ping", AE_IFREG, 04755);
	_cleanup_free_ char *p = xasprintf("%s/ping", host);
	_cleanup_close_ int fd = -1;
	struct ou_layer_entry *e;
	struct ou_blob_result res;
	struct tu_members m;

	archive_entry_xattr_add_entry(t, "security.capability", tu_cap_net_raw,
	                              sizeof(tu_cap_net_raw));
	tu_write_str(p, "ELF-ping", 0600);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	/* The reader must start at offset 0, wherever the descriptor was left. */
	ck_assert_int_eq(lseek(fd, 4, SEEK_SET), 4);
	e = add_owned("usr/bin/ping", OU_ENTRY_FILE, 0, 0, 0, NULL, NULL);
	e->base = t;
	e->content = OU_CONTENT_FD;
	e->fd = fd;
	write_and_read(OU_BLOB_TAR, &res, &m, NULL);
	ck_assert_uint_eq(m.v[0].perm, 04755);
	ck_assert_str_eq(m.v[0].data.data, "ELF-ping");
	ck_assert_uint_eq(m.v[0].n_xattrs, 1);
	ck_assert_mem_eq(m.v[0].xattr_value.data, tu_cap_net_raw, sizeof(tu_cap_net_raw));
	tu_members_release(&m);
	archive_entry_free(t);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Host content                                                           */

START_TEST(test_host_file_content_is_copied)
{
	struct ou_blob_result res;
	struct tu_members m;

	add_host_file("app/main.py", "main.py", "print('hi')\n");
	write_and_read(OU_BLOB_GZIP, &res, &m, NULL);
	ck_assert_str_eq(m.v[0].data.data, "print('hi')\n");
	ck_assert_int_eq(m.v[0].size, 12);
	tu_members_release(&m);
}
END_TEST

START_TEST(test_host_file_that_grew_since_planning_is_an_error_naming_it)
{
	struct ou_layer_entry *e = add_host_file("app/log", "log", "0123456789");
	int fd = open(e->host_name, O_WRONLY | O_APPEND | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "more", 4), 4);
	close(fd);
	write_fails(EAGAIN, e->host_name);
}
END_TEST

START_TEST(test_host_file_that_shrank_since_planning_is_an_error_naming_it)
{
	struct ou_layer_entry *e = add_host_file("app/log", "log", "0123456789");

	ck_assert_int_eq(truncate(e->host_name, 3), 0);
	write_fails(EAGAIN, e->host_name);
}
END_TEST

START_TEST(test_host_file_replaced_by_another_inode_is_an_error_naming_it)
{
	struct ou_layer_entry *e = add_host_file("app/conf", "conf", "same size");
	_cleanup_free_ char *tmp = xasprintf("%s/conf.new", host);

	tu_write_str(tmp, "same size", 0644);
	ck_assert_int_eq(rename(tmp, e->host_name), 0);
	write_fails(EAGAIN, e->host_name);
}
END_TEST

START_TEST(test_host_file_removed_since_planning_is_an_error_naming_it)
{
	struct ou_layer_entry *e = add_host_file("app/gone", "gone", "x");

	ck_assert_int_eq(unlink(e->host_name), 0);
	write_fails(ENOENT, e->host_name);
}
END_TEST

START_TEST(test_host_file_swapped_for_a_symlink_is_not_followed)
{
	struct ou_layer_entry *e = add_host_file("app/conf", "conf", "x");
	_cleanup_free_ char *other = xasprintf("%s/other", host);

	tu_write_str(other, "x", 0644);
	ck_assert_int_eq(unlink(e->host_name), 0);
	ck_assert_int_eq(symlink("other", e->host_name), 0);
	write_fails(ELOOP, e->host_name);
}
END_TEST

START_TEST(test_host_file_below_a_folder_swapped_for_a_symlink_is_not_followed)
{
	_cleanup_free_ char *sub = xasprintf("%s/sub", host);
	_cleanup_free_ char *moved = xasprintf("%s/moved", host);
	struct ou_layer_entry *e;

	tu_mkdir(sub, 0755);
	e = add_host_file("app/sub/f", "sub/f", "x");
	ck_assert_int_eq(rename(sub, moved), 0);
	ck_assert_int_eq(symlink("moved", sub), 0);
	write_fails(ELOOP, e->host_name);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Reproducibility                                                        */

START_TEST(test_two_writes_of_the_same_list_give_the_same_digest)
{
	struct ou_error *err = NULL;
	struct ou_blob_result a, b;

	add_dir("app");
	add_host_file("app/h", "h", "host content");
	add_memory("app/m", "memory content");
	add_symlink("app/s", "m");
	add_hardlink("app/t", "app/m");
	ck_assert_int_eq(ou_layer_write(&list, blobs_fd, OU_BLOB_GZIP, &a, &err), 0);
	sleep(1); /* a second later: a clock anywhere would show */
	ck_assert_int_eq(ou_layer_write(&list, blobs_fd, OU_BLOB_GZIP, &b, &err), 0);
	ck_assert_str_eq(a.digest, b.digest);
	ck_assert_str_eq(a.diff_id, b.diff_id);
	ck_assert_uint_eq(tu_count_entries(blobs), 1);
}
END_TEST

START_TEST(test_an_empty_list_is_a_valid_empty_tar)
{
	struct ou_blob_result res;
	struct tu_members m;

	write_and_read(OU_BLOB_GZIP, &res, &m, NULL);
	ck_assert_uint_eq(m.n, 0);
	tu_members_release(&m);
}
END_TEST

START_TEST(test_the_same_list_gives_the_same_diff_id_under_every_codec)
{
	struct ou_error *err = NULL;
	struct ou_blob_result t, g, z;

	add_dir("app");
	add_memory("app/m", "memory content");
	ck_assert_int_eq(ou_layer_write(&list, blobs_fd, OU_BLOB_TAR, &t, &err), 0);
	ck_assert_int_eq(ou_layer_write(&list, blobs_fd, OU_BLOB_GZIP, &g, &err), 0);
	ck_assert_int_eq(ou_layer_write(&list, blobs_fd, OU_BLOB_ZSTD, &z, &err), 0);
	ck_assert_str_eq(t.diff_id, g.diff_id);
	ck_assert_str_eq(t.diff_id, z.diff_id);
	ck_assert_str_ne(g.digest, z.digest);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* The streaming writer                                                   */

struct mem_reader {
	const char *data;
	size_t len;
	size_t off;
};

static ssize_t mem_read(void *rctx, void *buf, size_t len)
{
	struct mem_reader *m = rctx;
	size_t n = m->len - m->off < len ? m->len - m->off : len;

	memcpy(buf, m->data + m->off, n);
	m->off += n;
	return (ssize_t)n;
}

static void stream_raw(struct archive_entry *h, const char *content, struct ou_blob_result *res,
                       struct tu_members *ret, struct tu_buf *ret_tar)
{
	_cleanup_(ou_layer_writer_freep) struct ou_layer_writer *w = NULL;
	struct mem_reader m = {content, strlen(content), 0};
	struct ou_error *err = NULL;
	struct tu_buf raw = {0};

	ck_assert_int_eq(ou_layer_writer_new(blobs_fd, OU_BLOB_TAR, &w, &err), 0);
	ck_assert_msg(ou_layer_writer_add_raw(w, h, mem_read, &m, &err) == 0, "%s",
	              err ? err->message : "?");
	ck_assert_int_eq(ou_layer_writer_finish(w, res, &err), 0);
	tu_read_blob(blobs, res->digest, &raw);
	tu_read_tar(raw.data, raw.len, ret);
	if (ret_tar)
		*ret_tar = raw;
	else
		tu_buf_release(&raw);
}

START_TEST(test_stream_writer_gives_the_same_blob_as_the_list_writer)
{
	_cleanup_(ou_layer_writer_freep) struct ou_layer_writer *w = NULL;
	struct ou_error *err = NULL;
	struct ou_blob_result a, b;

	add_dir("app");
	add_memory("app/m", "memory content");
	add_host_file("app/h", "h", "host content");
	ck_assert_int_eq(ou_layer_write(&list, blobs_fd, OU_BLOB_ZSTD, &a, &err), 0);
	ck_assert_int_eq(ou_layer_writer_new(blobs_fd, OU_BLOB_ZSTD, &w, &err), 0);
	for (size_t i = 0; i < list.n; i++)
		ck_assert_int_eq(ou_layer_writer_add(w, &list.v[i], &err), 0);
	ck_assert_int_eq(ou_layer_writer_finish(w, &b, &err), 0);
	ck_assert_str_eq(a.digest, b.digest);
}
END_TEST

START_TEST(test_stream_writer_freed_before_finish_leaves_nothing)
{
	struct ou_layer_writer *w = NULL;
	struct ou_error *err = NULL;

	add_memory("app/m", "memory content");
	ck_assert_int_eq(ou_layer_writer_new(blobs_fd, OU_BLOB_GZIP, &w, &err), 0);
	ck_assert_int_eq(ou_layer_writer_add(w, &list.v[0], &err), 0);
	ck_assert_ptr_null(ou_layer_writer_free(w));
	ck_assert_uint_eq(tu_count_entries(blobs), 0);
}
END_TEST

START_TEST(test_raw_entry_keeps_every_header_field)
{
	struct archive_entry *h = tu_entry("usr/bin/ping", AE_IFREG, 04755);
	struct ou_blob_result res;
	struct tu_members m;

	archive_entry_set_uid(h, 3000000);
	archive_entry_set_gid(h, 42);
	archive_entry_set_gname(h, "netdev");
	archive_entry_set_size(h, 8);
	archive_entry_xattr_add_entry(h, "security.capability", tu_cap_net_raw,
	                              sizeof(tu_cap_net_raw));
	stream_raw(h, "ELF-ping", &res, &m, NULL);
	ck_assert_uint_eq(m.n, 1);
	ck_assert_str_eq(m.v[0].path, "usr/bin/ping");
	ck_assert_uint_eq(m.v[0].perm, 04755);
	ck_assert_int_eq(m.v[0].uid, 3000000);
	ck_assert_int_eq(m.v[0].gid, 42);
	ck_assert_str_eq(m.v[0].uname, "root");
	ck_assert_str_eq(m.v[0].gname, "netdev");
	ck_assert_int_eq(m.v[0].mtime, TU_BASE_MTIME);
	ck_assert_str_eq(m.v[0].data.data, "ELF-ping");
	ck_assert_uint_eq(m.v[0].n_xattrs, 1);
	ck_assert_mem_eq(m.v[0].xattr_value.data, tu_cap_net_raw, sizeof(tu_cap_net_raw));
	tu_members_release(&m);
	archive_entry_free(h);
}
END_TEST

START_TEST(test_raw_device_entry_keeps_its_numbers)
{
	struct archive_entry *h = tu_entry("dev/null", AE_IFCHR, 0666);
	struct ou_blob_result res;
	struct tu_members m;

	archive_entry_set_rdevmajor(h, 1);
	archive_entry_set_rdevminor(h, 3);
	stream_raw(h, "", &res, &m, NULL);
	ck_assert_uint_eq(m.v[0].filetype, AE_IFCHR);
	ck_assert_int_eq(m.v[0].devmajor, 1);
	ck_assert_int_eq(m.v[0].devminor, 3);
	tu_members_release(&m);
	archive_entry_free(h);
}
END_TEST

START_TEST(test_raw_entry_shorter_than_its_header_is_a_bad_message)
{
	_cleanup_(ou_layer_writer_freep) struct ou_layer_writer *w = NULL;
	_cleanup_(ou_error_freep) struct ou_error *err = NULL;
	struct archive_entry *h = tu_entry("etc/short", AE_IFREG, 0644);
	struct mem_reader m = {"abc", 3, 0};

	archive_entry_set_size(h, 10);
	ck_assert_int_eq(ou_layer_writer_new(blobs_fd, OU_BLOB_TAR, &w, &err), 0);
	ck_assert_int_lt(ou_layer_writer_add_raw(w, h, mem_read, &m, &err), 0);
	tu_assert_error(err, EBADMSG, "etc/short");
	archive_entry_free(h);
}
END_TEST

/*
 * libarchive reads a base entry written by bsdtar (LIBARCHIVE.xattr.X and
 * SCHILY.xattr.X) as two xattrs named X: the layer must still hold one record.
 */
static struct archive_entry *read_as_both_spellings(const char *name)
{
	struct archive_entry *h = tu_entry(name, AE_IFREG, 0755);

	archive_entry_xattr_add_entry(h, "security.capability", tu_cap_net_raw,
	                              sizeof(tu_cap_net_raw));
	archive_entry_xattr_add_entry(h, "security.capability", tu_cap_net_raw,
	                              sizeof(tu_cap_net_raw));
	return h;
}

static size_t count_in(const struct tu_buf *b, const char *needle)
{
	size_t n = 0, len = strlen(needle);

	for (const char *p = b->data; (p = memmem(p, b->len - (size_t)(p - b->data), needle, len));
	     p++)
		n++;
	return n;
}

START_TEST(test_raw_entry_read_with_both_xattr_spellings_writes_one_record)
{
	struct archive_entry *h = read_as_both_spellings("usr/bin/ping");
	struct ou_blob_result res;
	struct tu_members m;
	struct tu_buf tar;

	archive_entry_set_size(h, 8);
	stream_raw(h, "ELF-ping", &res, &m, &tar);
	ck_assert_uint_eq(count_in(&tar, "SCHILY.xattr.security.capability="), 1);
	ck_assert_uint_eq(m.v[0].n_xattrs, 1);
	tu_members_release(&m);
	tu_buf_release(&tar);
	archive_entry_free(h);
}
END_TEST

START_TEST(test_base_template_read_with_both_xattr_spellings_writes_one_record)
{
	struct archive_entry *t = read_as_both_spellings("usr/bin/ping");
	struct ou_layer_entry *e = add_memory("usr/bin/ping", "ELF-ping");
	struct ou_blob_result res;
	struct tu_members m;
	struct tu_buf tar;

	e->base = t;
	e->mode = 0750;
	e->mode_set = true;
	write_and_read(OU_BLOB_TAR, &res, &m, &tar);
	ck_assert_uint_eq(count_in(&tar, "SCHILY.xattr.security.capability="), 1);
	ck_assert_uint_eq(m.v[0].n_xattrs, 1);
	tu_members_release(&m);
	tu_buf_release(&tar);
	archive_entry_free(t);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("layer");
	TCase *th = tcase_create("headers");
	TCase *tb = tcase_create("base templates");
	TCase *tc = tcase_create("host content");
	TCase *tr = tcase_create("reproducibility");
	TCase *ts = tcase_create("stream");
	TCase *all[] = {th, tb, tc, tr, ts};

	for (size_t i = 0; i < ELEMENTSOF(all); i++) {
		tcase_add_checked_fixture(all[i], setup, teardown);
		suite_add_tcase(s, all[i]);
	}

	tcase_add_test(th, test_entries_are_written_in_the_given_order_with_their_fields);
	tcase_add_test(th, test_the_list_is_written_as_given_without_resorting);
	tcase_add_test(th, test_sort_orders_paths_bytewise);
	tcase_add_test(th, test_big_ids_read_back_exactly_through_pax_records);
	tcase_add_test(th, test_long_names_paths_and_link_targets_read_back_exactly);
	tcase_add_test(th, test_a_name_that_is_not_utf8_is_kept_byte_for_byte);
	tcase_add_test(th, test_a_utf8_name_is_kept_byte_for_byte);
	tcase_add_test(th, test_hard_link_entries_have_size_zero_and_the_given_linkname);
	tcase_add_test(th, test_headers_carry_no_atime_ctime_or_host_records);

	tcase_add_test(tb, test_a_base_template_keeps_every_field_but_mode_and_content);
	tcase_add_test(tb, test_a_base_template_keeps_its_mode_unless_mode_set);
	tcase_add_test(tb, test_a_base_template_keeps_setuid_and_xattr_when_read_from_a_descriptor);

	tcase_add_test(tc, test_host_file_content_is_copied);
	tcase_add_test(tc, test_host_file_that_grew_since_planning_is_an_error_naming_it);
	tcase_add_test(tc, test_host_file_that_shrank_since_planning_is_an_error_naming_it);
	tcase_add_test(tc, test_host_file_replaced_by_another_inode_is_an_error_naming_it);
	tcase_add_test(tc, test_host_file_removed_since_planning_is_an_error_naming_it);
	tcase_add_test(tc, test_host_file_swapped_for_a_symlink_is_not_followed);
	tcase_add_test(tc, test_host_file_below_a_folder_swapped_for_a_symlink_is_not_followed);

	tcase_add_test(tr, test_two_writes_of_the_same_list_give_the_same_digest);
	tcase_add_test(tr, test_an_empty_list_is_a_valid_empty_tar);
	tcase_add_test(tr, test_the_same_list_gives_the_same_diff_id_under_every_codec);

	tcase_add_test(ts, test_stream_writer_gives_the_same_blob_as_the_list_writer);
	tcase_add_test(ts, test_stream_writer_freed_before_finish_leaves_nothing);
	tcase_add_test(ts, test_raw_entry_keeps_every_header_field);
	tcase_add_test(ts, test_raw_device_entry_keeps_its_numbers);
	tcase_add_test(ts, test_raw_entry_shorter_than_its_header_is_a_bad_message);
	tcase_add_test(ts, test_raw_entry_read_with_both_xattr_spellings_writes_one_record);
	tcase_add_test(ts, test_base_template_read_with_both_xattr_spellings_writes_one_record);
	return s;
}

OU_CHECK_MAIN(make_suite)
