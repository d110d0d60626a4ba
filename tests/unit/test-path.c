/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ou-check.h"
#include "ociuser/path.h"
#include "ociuser/xalloc.h"

static char *from_spec_ok(const char *abs)
{
	struct ou_error *err = NULL;
	char *rel = NULL;

	ck_assert_int_eq(ou_path_from_spec(abs, &rel, &err), 0);
	ck_assert_ptr_null(err);
	return rel;
}

static void from_spec_fails(const char *abs, const char *why)
{
	_cleanup_(ou_error_freep) struct ou_error *err = NULL;
	char *rel = NULL;

	ck_assert_int_lt(ou_path_from_spec(abs, &rel, &err), 0);
	ck_assert_ptr_null(rel);
	ck_assert_int_eq(err->code, EINVAL);
	ck_assert_msg(strstr(err->message, why), "'%s' lacks '%s'", err->message, why);
}

START_TEST(test_from_spec_normalises_slashes_and_dots)
{
	_cleanup_free_ char *rel = from_spec_ok("/app//x/./y/");

	ck_assert_str_eq(rel, "app/x/y");
}
END_TEST

START_TEST(test_from_spec_gives_empty_string_for_the_root)
{
	_cleanup_free_ char *a = from_spec_ok("/");
	_cleanup_free_ char *b = from_spec_ok("//./");

	ck_assert_str_eq(a, "");
	ck_assert_str_eq(b, "");
}
END_TEST

START_TEST(test_from_spec_refuses_a_relative_path)
{
	from_spec_fails("app/x", "not an absolute path");
}
END_TEST

START_TEST(test_from_spec_refuses_a_dotdot_component)
{
	from_spec_fails("/app/../etc", "'..'");
	from_spec_fails("/..", "'..'");
}
END_TEST

START_TEST(test_from_spec_allows_names_that_only_look_like_dotdot)
{
	_cleanup_free_ char *rel = from_spec_ok("/a/.../..x/x..");

	ck_assert_str_eq(rel, "a/.../..x/x..");
}
END_TEST

START_TEST(test_from_spec_refuses_a_whiteout_component_anywhere)
{
	from_spec_fails("/srv/.wh.x", "'.wh.'");
	from_spec_fails("/.wh.dir/file", "'.wh.'");
	from_spec_fails("/a/.wh.", "reserved for whiteouts");
}
END_TEST

START_TEST(test_from_spec_allows_wh_inside_a_name)
{
	_cleanup_free_ char *rel = from_spec_ok("/a/x.wh.y/wh.z");

	ck_assert_str_eq(rel, "a/x.wh.y/wh.z");
}
END_TEST

START_TEST(test_from_spec_refuses_control_characters)
{
	from_spec_fails("/home/a\nb", "control character");
	from_spec_fails("/home/a\tb", "control character");
	from_spec_fails("/home/a\x7f", "control character");
}
END_TEST

START_TEST(test_from_tar_strips_dot_slash_and_doubled_slashes)
{
	struct ou_error *err = NULL;
	_cleanup_free_ char *a = NULL, *b = NULL, *c = NULL;

	ck_assert_int_eq(ou_path_from_tar("./etc/", &a, &err), 0);
	ck_assert_int_eq(ou_path_from_tar("/etc//x", &b, &err), 0);
	ck_assert_int_eq(ou_path_from_tar("./", &c, &err), 0);
	ck_assert_str_eq(a, "etc");
	ck_assert_str_eq(b, "etc/x");
	ck_assert_str_eq(c, "");
}
END_TEST

START_TEST(test_from_tar_refuses_dotdot_as_a_broken_base)
{
	_cleanup_(ou_error_freep) struct ou_error *err = NULL;
	char *rel = NULL;

	ck_assert_int_lt(ou_path_from_tar("./a/../../etc/passwd", &rel, &err), 0);
	ck_assert_int_eq(err->code, EBADMSG);
	ck_assert_ptr_null(rel);
}
END_TEST

START_TEST(test_name_is_valid_accepts_useradd_names)
{
	ck_assert(ou_name_is_valid("app"));
	ck_assert(ou_name_is_valid("_app"));
	ck_assert(ou_name_is_valid("a-b_1"));
	ck_assert(ou_name_is_valid("machine$"));
	ck_assert(ou_name_is_valid("abcdefghijklmnopqrstuvwxyz012345"));
}
END_TEST

START_TEST(test_name_is_valid_refuses_names_useradd_refuses)
{
	ck_assert(!ou_name_is_valid(""));
	ck_assert(!ou_name_is_valid("App"));
	ck_assert(!ou_name_is_valid("1app"));
	ck_assert(!ou_name_is_valid("-app"));
	ck_assert(!ou_name_is_valid("app:x:0:0"));
	ck_assert(!ou_name_is_valid("a$b"));
	ck_assert(!ou_name_is_valid("a b"));
	ck_assert(!ou_name_is_valid("app\n"));
	ck_assert(!ou_name_is_valid("abcdefghijklmnopqrstuvwxyz0123456"));
}
END_TEST

START_TEST(test_ref_name_accepts_the_oci_grammar)
{
	ck_assert(ou_ref_name_is_valid("1.0"));
	ck_assert(ou_ref_name_is_valid("latest"));
	ck_assert(ou_ref_name_is_valid("registry.example.com/team/app:1.0"));
	ck_assert(ou_ref_name_is_valid("a--b"));
	ck_assert(ou_ref_name_is_valid("v1+build@sha_x"));
	ck_assert(ou_ref_name_is_valid("A"));
}
END_TEST

START_TEST(test_ref_name_refuses_what_the_grammar_does_not_produce)
{
	ck_assert(!ou_ref_name_is_valid(""));
	ck_assert(!ou_ref_name_is_valid("bad tag!"));
	ck_assert(!ou_ref_name_is_valid("-a"));
	ck_assert(!ou_ref_name_is_valid("a-"));
	ck_assert(!ou_ref_name_is_valid("a---b"));
	ck_assert(!ou_ref_name_is_valid("a..b"));
	ck_assert(!ou_ref_name_is_valid("a//b"));
	ck_assert(!ou_ref_name_is_valid("/a"));
	ck_assert(!ou_ref_name_is_valid("a/"));
	ck_assert(!ou_ref_name_is_valid("a\tb"));
}
END_TEST

START_TEST(test_parent_basename_and_join_work_on_relative_paths)
{
	_cleanup_free_ char *p1 = ou_path_parent("a/b/c");
	_cleanup_free_ char *p2 = ou_path_parent("a");
	_cleanup_free_ char *j1 = ou_path_join("", "x");
	_cleanup_free_ char *j2 = ou_path_join("a/b", "c");
	_cleanup_free_ char *j3 = ou_path_join("a", "");

	ck_assert_str_eq(p1, "a/b");
	ck_assert_str_eq(p2, "");
	ck_assert_str_eq(ou_path_basename("a/b/c"), "c");
	ck_assert_str_eq(ou_path_basename("c"), "c");
	ck_assert_str_eq(j1, "x");
	ck_assert_str_eq(j2, "a/b/c");
	ck_assert_str_eq(j3, "a");
}
END_TEST

/* A temp tree: d/sub/file, d/link -> sub, d/sub/flink -> file. */
static char tree[64];

static void make_tree(void)
{
	char p[128];
	int fd;

	strcpy(tree, "/tmp/ou-test-path-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tree));
	snprintf(p, sizeof(p), "%s/sub", tree);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/sub/file", tree);
	fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "hi", 2), 2);
	close(fd);
	snprintf(p, sizeof(p), "%s/link", tree);
	ck_assert_int_eq(symlink("sub", p), 0);
	snprintf(p, sizeof(p), "%s/sub/flink", tree);
	ck_assert_int_eq(symlink("file", p), 0);
}

static void remove_tree(void)
{
	char p[128];

	snprintf(p, sizeof(p), "%s/sub/flink", tree);
	unlink(p);
	snprintf(p, sizeof(p), "%s/sub/file", tree);
	unlink(p);
	snprintf(p, sizeof(p), "%s/link", tree);
	unlink(p);
	snprintf(p, sizeof(p), "%s/sub", tree);
	rmdir(p);
	rmdir(tree);
}

static int open_tree(void)
{
	int fd = open(tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	return fd;
}

START_TEST(test_open_beneath_opens_a_nested_file)
{
	_cleanup_close_ int dir = open_tree();
	_cleanup_close_ int fd = ou_path_open_beneath(dir, "sub//file", O_RDONLY);
	char buf[4] = {0};

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(read(fd, buf, sizeof(buf)), 2);
	ck_assert_str_eq(buf, "hi");
}
END_TEST

START_TEST(test_open_beneath_refuses_a_symlink_in_the_middle)
{
	_cleanup_close_ int dir = open_tree();

	ck_assert_int_eq(ou_path_open_beneath(dir, "link/file", O_RDONLY), -ELOOP);
}
END_TEST

START_TEST(test_open_beneath_refuses_a_symlink_as_last_component)
{
	_cleanup_close_ int dir = open_tree();

	ck_assert_int_eq(ou_path_open_beneath(dir, "sub/flink", O_RDONLY), -ELOOP);
}
END_TEST

START_TEST(test_open_beneath_with_o_path_opens_a_final_link_as_itself)
{
	_cleanup_close_ int dir = open_tree();
	_cleanup_close_ int fd = ou_path_open_beneath(dir, "sub/flink", O_PATH);
	struct stat st;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstatat(fd, "", &st, AT_EMPTY_PATH), 0);
	ck_assert(S_ISLNK(st.st_mode));
}
END_TEST

START_TEST(test_open_beneath_refuses_dotdot)
{
	_cleanup_close_ int dir = open_tree();

	ck_assert_int_eq(ou_path_open_beneath(dir, "sub/../sub/file", O_RDONLY), -EINVAL);
}
END_TEST

START_TEST(test_open_beneath_reports_a_missing_component)
{
	_cleanup_close_ int dir = open_tree();

	ck_assert_int_eq(ou_path_open_beneath(dir, "nope/file", O_RDONLY), -ENOENT);
}
END_TEST

START_TEST(test_open_beneath_of_empty_path_opens_the_directory_itself)
{
	_cleanup_close_ int dir = open_tree();
	_cleanup_close_ int fd = ou_path_open_beneath(dir, "", O_RDONLY | O_DIRECTORY);
	struct stat a, b;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &a), 0);
	ck_assert_int_eq(fstat(dir, &b), 0);
	ck_assert(a.st_ino == b.st_ino);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("path");
	TCase *tc = tcase_create("names");
	TCase *fs = tcase_create("open_beneath");

	tcase_add_test(tc, test_from_spec_normalises_slashes_and_dots);
	tcase_add_test(tc, test_from_spec_gives_empty_string_for_the_root);
	tcase_add_test(tc, test_from_spec_refuses_a_relative_path);
	tcase_add_test(tc, test_from_spec_refuses_a_dotdot_component);
	tcase_add_test(tc, test_from_spec_allows_names_that_only_look_like_dotdot);
	tcase_add_test(tc, test_from_spec_refuses_a_whiteout_component_anywhere);
	tcase_add_test(tc, test_from_spec_allows_wh_inside_a_name);
	tcase_add_test(tc, test_from_spec_refuses_control_characters);
	tcase_add_test(tc, test_from_tar_strips_dot_slash_and_doubled_slashes);
	tcase_add_test(tc, test_from_tar_refuses_dotdot_as_a_broken_base);
	tcase_add_test(tc, test_name_is_valid_accepts_useradd_names);
	tcase_add_test(tc, test_name_is_valid_refuses_names_useradd_refuses);
	tcase_add_test(tc, test_ref_name_accepts_the_oci_grammar);
	tcase_add_test(tc, test_ref_name_refuses_what_the_grammar_does_not_produce);
	tcase_add_test(tc, test_parent_basename_and_join_work_on_relative_paths);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(fs, make_tree, remove_tree);
	tcase_add_test(fs, test_open_beneath_opens_a_nested_file);
	tcase_add_test(fs, test_open_beneath_refuses_a_symlink_in_the_middle);
	tcase_add_test(fs, test_open_beneath_refuses_a_symlink_as_last_component);
	tcase_add_test(fs, test_open_beneath_with_o_path_opens_a_final_link_as_itself);
	tcase_add_test(fs, test_open_beneath_refuses_dotdot);
	tcase_add_test(fs, test_open_beneath_reports_a_missing_component);
	tcase_add_test(fs, test_open_beneath_of_empty_path_opens_the_directory_itself);
	suite_add_tcase(s, fs);
	return s;
}

OU_CHECK_MAIN(make_suite)
