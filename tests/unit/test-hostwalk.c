/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <grp.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ou-check.h"
#include "tarutil.h"
#include "ociuser/hostwalk.h"
#include "ociuser/xalloc.h"

/* ---------------------------------------------------------------------- */
/* Fixtures: a host folder per test, filled by each test                  */

static char *root;

static void setup(void)
{
	root = tu_mkdtemp();
}

static void teardown(void)
{
	tu_rmtree(root);
	free(root);
}

/* ROOT/@rel, caller frees. */
static char *at(const char *rel)
{
	return xasprintf("%s/%s", root, rel);
}

static void mkdir_at(const char *rel)
{
	_cleanup_free_ char *p = at(rel);

	tu_mkdir(p, 0755);
}

static void file_at(const char *rel, const char *content)
{
	_cleanup_free_ char *p = at(rel);

	tu_write_str(p, content, 0644);
}

static void symlink_at(const char *rel, const char *target)
{
	_cleanup_free_ char *p = at(rel);

	ck_assert_int_eq(symlink(target, p), 0);
}

static void walk_ok(const char *const *excl, size_t n, struct ou_host_tree *t)
{
	struct ou_error *err = NULL;

	ck_assert_msg(ou_hostwalk(root, excl, n, NULL, 0, t, &err) == 0, "%s",
	              err ? err->message : "?");
	ck_assert_ptr_null(err);
}

static void walk_fails(const char *const *excl, size_t n, int code, const char *what)
{
	_cleanup_(ou_error_freep) struct ou_error *err = NULL;
	struct ou_host_tree t = {.root_fd = -1};

	ck_assert_int_lt(ou_hostwalk(root, excl, n, NULL, 0, &t, &err), 0);
	tu_assert_error(err, code, what);
	ck_assert_ptr_null(t.items);
}

static const struct ou_host_item *item(const struct ou_host_tree *t, const char *rel)
{
	for (size_t i = 0; i < t->n_items; i++)
		if (strcmp(t->items[i].rel, rel) == 0)
			return &t->items[i];
	return NULL;
}

/* The tree of case C11 (c). */
static void pycache_tree(void)
{
	mkdir_at("__pycache__");
	file_at("__pycache__/mod.cpython-311.pyc", "pyc");
	file_at("main.py", "main");
	mkdir_at("pkg");
	file_at("pkg/__init__.py", "");
	mkdir_at("pkg/__pycache__");
	file_at("pkg/__pycache__/__init__.cpython-311.pyc", "pyc");
	mkdir_at("docs");
	mkdir_at("docs/build");
	file_at("docs/build/index.html", "html");
	mkdir_at("src");
	mkdir_at("src/docs");
	mkdir_at("src/docs/build");
	file_at("src/docs/build/keep.txt", "keep");
}

/* ---------------------------------------------------------------------- */
/* Excludes                                                               */

START_TEST(test_pattern_without_slash_matches_a_name_at_any_depth)
{
	const char *excl[] = {"__pycache__"};
	struct ou_host_tree t;

	pycache_tree();
	walk_ok(excl, 1, &t);
	ck_assert_ptr_null(item(&t, "__pycache__"));
	ck_assert_ptr_null(item(&t, "pkg/__pycache__"));
	ck_assert_ptr_nonnull(item(&t, "pkg/__init__.py"));
	ck_assert_ptr_nonnull(item(&t, "main.py"));
	ou_host_tree_release(&t);
}
END_TEST

START_TEST(test_an_excluded_folder_drops_its_whole_subtree)
{
	const char *excl[] = {"__pycache__"};
	struct ou_host_tree t;

	pycache_tree();
	walk_ok(excl, 1, &t);
	for (size_t i = 0; i < t.n_items; i++)
		ck_assert_msg(!strstr(t.items[i].rel, "__pycache__"), "'%s' is not excluded",
		              t.items[i].rel);
	ou_host_tree_release(&t);
}
END_TEST

START_TEST(test_pattern_with_slash_matches_from_the_source_root_only)
{
	const char *excl[] = {"docs/build"};
	struct ou_host_tree t;

	pycache_tree();
	walk_ok(excl, 1, &t);
	ck_assert_ptr_nonnull(item(&t, "docs"));
	ck_assert_ptr_null(item(&t, "docs/build"));
	ck_assert_ptr_null(item(&t, "docs/build/index.html"));
	ck_assert_ptr_nonnull(item(&t, "src/docs/build"));
	ck_assert_ptr_nonnull(item(&t, "src/docs/build/keep.txt"));
	ou_host_tree_release(&t);
}
END_TEST

START_TEST(test_a_leading_slash_anchors_a_pattern_at_the_root)
{
	const char *excl[] = {"/build"};

	ck_assert(ou_hostwalk_excluded("build", true, excl, 1));
	ck_assert(!ou_hostwalk_excluded("src/build", true, excl, 1));
}
END_TEST

START_TEST(test_a_glob_without_slash_matches_files_at_any_depth)
{
	const char *excl[] = {"*.pyc"};

	ck_assert(ou_hostwalk_excluded("a.pyc", false, excl, 1));
	ck_assert(ou_hostwalk_excluded("pkg/__pycache__/b.pyc", false, excl, 1));
	ck_assert(!ou_hostwalk_excluded("a.pyc.txt", false, excl, 1));
	ck_assert(!ou_hostwalk_excluded("pkg/a.py", false, excl, 1));
}
END_TEST

START_TEST(test_a_glob_without_slash_matches_hidden_names)
{
	const char *star[] = {"*"};
	const char *git[] = {".git"};

	ck_assert(ou_hostwalk_excluded(".hidden", false, star, 1));
	ck_assert(ou_hostwalk_excluded("sub/.git", true, git, 1));
}
END_TEST

START_TEST(test_a_glob_with_slash_matches_hidden_names_as_gitignore_does)
{
	const char *excl[] = {"tests/*"};

	ck_assert(ou_hostwalk_excluded("tests/a.py", false, excl, 1));
	/* git's wildmatch gives a leading '.' no special meaning. */
	ck_assert(ou_hostwalk_excluded("tests/.hidden", false, excl, 1));
	ck_assert(!ou_hostwalk_excluded("tests", true, excl, 1));
	ck_assert(!ou_hostwalk_excluded("src/tests/a.py", false, excl, 1));
}
END_TEST

START_TEST(test_a_star_does_not_cross_a_slash)
{
	const char *excl[] = {"docs/*.html"};

	ck_assert(ou_hostwalk_excluded("docs/a.html", false, excl, 1));
	ck_assert(!ou_hostwalk_excluded("docs/sub/a.html", false, excl, 1));
}
END_TEST

START_TEST(test_a_trailing_slash_matches_folders_only)
{
	const char *excl[] = {"build/"};
	struct ou_host_tree t;

	mkdir_at("build");
	file_at("build/out.o", "o");
	mkdir_at("src");
	file_at("src/build", "a file named build");
	walk_ok(excl, 1, &t);
	ck_assert_ptr_null(item(&t, "build"));
	ck_assert_ptr_null(item(&t, "build/out.o"));
	ck_assert_ptr_nonnull(item(&t, "src/build"));
	ck_assert_int_eq(item(&t, "src/build")->type, OU_ENTRY_FILE);
	ou_host_tree_release(&t);
}
END_TEST

START_TEST(test_a_trailing_slash_with_a_slash_inside_matches_folders_from_the_root)
{
	const char *excl[] = {"docs/build/"};

	ck_assert(ou_hostwalk_excluded("docs/build", true, excl, 1));
	ck_assert(!ou_hostwalk_excluded("docs/build", false, excl, 1));
	ck_assert(!ou_hostwalk_excluded("src/docs/build", true, excl, 1));
}
END_TEST

START_TEST(test_no_pattern_excludes_nothing)
{
	struct ou_host_tree t;

	pycache_tree();
	walk_ok(NULL, 0, &t);
	ck_assert_uint_eq(t.n_items, 14);
	ck_assert(!ou_hostwalk_excluded("anything", false, NULL, 0));
	ou_host_tree_release(&t);
}
END_TEST

START_TEST(test_skipped_folders_are_left_out_and_noted)
{
	/* OUT (and its staging) inside a source never copies itself */
	_cleanup_(ou_error_freep) struct ou_error *err = NULL;
	_cleanup_free_ char *out = at("app/out");
	struct ou_host_tree t = {.root_fd = -1};
	struct ou_file_id skip[1];
	struct stat st;

	mkdir_at("app");
	file_at("app/a", "a");
	mkdir_at("app/out");
	file_at("app/out/index.json", "{}");
	ck_assert_int_eq(stat(out, &st), 0);
	skip[0] = (struct ou_file_id){st.st_dev, st.st_ino};
	ck_assert_int_eq(ou_hostwalk(root, NULL, 0, skip, 1, &t, &err), 0);
	ck_assert_ptr_nonnull(item(&t, "app/a"));
	ck_assert_ptr_null(item(&t, "app/out"));
	ck_assert_ptr_null(item(&t, "app/out/index.json"));
	ck_assert_ptr_nonnull(t.skipped);
	ck_assert_ptr_nonnull(strstr(t.skipped, "app/out"));
	ou_host_tree_release(&t);
	/* the skipped folder as the source itself */
	ck_assert_int_lt(ou_hostwalk(out, NULL, 0, skip, 1, &t, &err), 0);
	tu_assert_error(err, EINVAL, "is the output folder");
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Whiteout names                                                         */

START_TEST(test_a_wh_file_is_refused_naming_the_host_path)
{
	_cleanup_free_ char *p = at(".wh.cache");

	file_at("ok.txt", "ok");
	file_at(".wh.cache", "x");
	walk_fails(NULL, 0, EINVAL, p);
	walk_fails(NULL, 0, EINVAL, "names starting with '.wh.' are reserved");
}
END_TEST

START_TEST(test_an_opaque_whiteout_name_deep_down_is_refused_naming_it)
{
	_cleanup_free_ char *p = at("sub/.wh..wh..opq");

	mkdir_at("sub");
	file_at("sub/.wh..wh..opq", "");
	walk_fails(NULL, 0, EINVAL, p);
}
END_TEST

START_TEST(test_a_wh_folder_is_refused_naming_it)
{
	_cleanup_free_ char *p = at(".wh.dir");

	mkdir_at(".wh.dir");
	file_at(".wh.dir/inside", "x");
	walk_fails(NULL, 0, EINVAL, p);
}
END_TEST

START_TEST(test_a_wh_symlink_is_refused_naming_it)
{
	_cleanup_free_ char *p = at(".wh.x");

	file_at("ok.txt", "ok");
	symlink_at(".wh.x", "ok.txt");
	walk_fails(NULL, 0, EINVAL, p);
}
END_TEST

START_TEST(test_a_file_named_exactly_wh_is_refused)
{
	_cleanup_free_ char *p = at(".wh.");

	file_at(".wh.", "x");
	walk_fails(NULL, 0, EINVAL, p);
}
END_TEST

START_TEST(test_wh_names_that_are_excluded_are_no_error)
{
	const char *excl[] = {".wh.*"};
	struct ou_host_tree t;

	file_at("ok.txt", "ok");
	file_at(".wh.cache", "x");
	mkdir_at("sub");
	file_at("sub/.wh..wh..opq", "");
	mkdir_at(".wh.dir");
	file_at(".wh.dir/inside", "x");
	symlink_at(".wh.x", "ok.txt");
	file_at(".wh.", "x");
	walk_ok(excl, 1, &t);
	ck_assert_uint_eq(t.n_items, 2);
	ck_assert_str_eq(t.items[0].rel, "ok.txt");
	ck_assert_str_eq(t.items[1].rel, "sub");
	ou_host_tree_release(&t);
}
END_TEST

START_TEST(test_a_name_merely_containing_wh_is_fine)
{
	struct ou_host_tree t;

	file_at("a.wh.b", "x");
	file_at("wh.x", "x");
	walk_ok(NULL, 0, &t);
	ck_assert_uint_eq(t.n_items, 2);
	ou_host_tree_release(&t);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Kinds of files                                                         */

START_TEST(test_a_fifo_is_refused_naming_it)
{
	_cleanup_free_ char *p = at("sub/pipe");

	mkdir_at("sub");
	ck_assert_int_eq(mkfifo(p, 0644), 0);
	walk_fails(NULL, 0, EINVAL, p);
	walk_fails(NULL, 0, EINVAL, "is a FIFO");
}
END_TEST

START_TEST(test_a_socket_is_refused_naming_it)
{
	_cleanup_free_ char *p = at("sock");
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_uint_lt(strlen(p), sizeof(sa.sun_path));
	strcpy(sa.sun_path, p);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	walk_fails(NULL, 0, EINVAL, p);
	walk_fails(NULL, 0, EINVAL, "is a socket");
}
END_TEST

START_TEST(test_an_excluded_fifo_is_no_error)
{
	_cleanup_free_ char *p = at("pipe");
	const char *excl[] = {"pipe"};
	struct ou_host_tree t;

	ck_assert_int_eq(mkfifo(p, 0644), 0);
	walk_ok(excl, 1, &t);
	ck_assert_uint_eq(t.n_items, 0);
	ou_host_tree_release(&t);
}
END_TEST

START_TEST(test_a_symlink_to_a_folder_is_an_item_and_not_followed)
{
	struct ou_host_tree t;
	const struct ou_host_item *it;

	mkdir_at("real");
	file_at("real/inside", "x");
	symlink_at("link", "real");
	symlink_at("abs", "/etc");
	walk_ok(NULL, 0, &t);
	it = item(&t, "link");
	ck_assert_ptr_nonnull(it);
	ck_assert_int_eq(it->type, OU_ENTRY_SYMLINK);
	ck_assert_str_eq(it->link, "real");
	ck_assert_ptr_null(item(&t, "link/inside"));
	ck_assert_str_eq(item(&t, "abs")->link, "/etc");
	ck_assert_ptr_null(item(&t, "abs/passwd"));
	ck_assert_uint_eq(t.n_items, 4);
	ou_host_tree_release(&t);
}
END_TEST

START_TEST(test_a_dangling_symlink_is_kept_with_its_target_byte_for_byte)
{
	char target[300];
	struct ou_host_tree t;

	memset(target, 'x', sizeof(target) - 1);
	target[sizeof(target) - 1] = '\0';
	target[0] = '\xff';
	symlink_at("dangling", target);
	walk_ok(NULL, 0, &t);
	ck_assert_uint_eq(t.n_items, 1);
	ck_assert_int_eq(t.items[0].type, OU_ENTRY_SYMLINK);
	ck_assert_str_eq(t.items[0].link, target);
	ou_host_tree_release(&t);
}
END_TEST

START_TEST(test_items_carry_mode_size_and_inode)
{
	_cleanup_free_ char *a = at("a");
	_cleanup_free_ char *b = at("b");
	struct ou_host_tree t;
	const struct ou_host_item *ia, *ib;

	tu_write_str(a, "12345", 0750);
	ck_assert_int_eq(link(a, b), 0);
	walk_ok(NULL, 0, &t);
	ia = item(&t, "a");
	ib = item(&t, "b");
	ck_assert_int_eq(ia->type, OU_ENTRY_FILE);
	ck_assert_uint_eq(ia->mode & 07777, 0750);
	ck_assert(S_ISREG(ia->mode));
	ck_assert_int_eq(ia->size, 5);
	ck_assert_uint_eq(ia->nlink, 2);
	ck_assert_uint_eq(ia->ino, ib->ino);
	ck_assert_uint_eq(ia->dev, ib->dev);
	ou_host_tree_release(&t);
}
END_TEST

START_TEST(test_items_are_sorted_bytewise_by_path)
{
	struct ou_host_tree t;

	mkdir_at("a");
	file_at("a/x", "");
	file_at("a-b", "");
	file_at("a.c", "");
	file_at("B", "");
	file_at("\xff", "");
	mkdir_at("z");
	file_at("z/\xc3\xa9", "");
	walk_ok(NULL, 0, &t);
	ck_assert_uint_eq(t.n_items, 8);
	for (size_t i = 1; i < t.n_items; i++)
		ck_assert_msg(strcmp(t.items[i - 1].rel, t.items[i].rel) < 0, "'%s' before '%s'",
		              t.items[i - 1].rel, t.items[i].rel);
	/* '-' and '.' sort before '/', so "a/x" comes after "a-b" and "a.c". */
	ck_assert_str_eq(t.items[1].rel, "a");
	ck_assert_str_eq(t.items[2].rel, "a-b");
	ck_assert_str_eq(t.items[4].rel, "a/x");
	ou_host_tree_release(&t);
}
END_TEST

START_TEST(test_a_single_file_source_is_its_own_root)
{
	_cleanup_free_ char *p = at("tool");
	_cleanup_(ou_error_freep) struct ou_error *err = NULL;
	struct ou_host_tree t;

	tu_write_str(p, "#!/bin/sh\n", 0755);
	ck_assert_int_eq(ou_hostwalk(p, NULL, 0, NULL, 0, &t, &err), 0);
	ck_assert(!t.is_dir);
	ck_assert_int_eq(t.root.type, OU_ENTRY_FILE);
	ck_assert_int_eq(t.root.size, 10);
	ck_assert_uint_eq(t.root.mode & 07777, 0755);
	ck_assert_uint_eq(t.n_items, 0);
	ck_assert_int_ge(t.root_fd, 0);
	ck_assert_str_eq(t.source, p);
	ou_host_tree_release(&t);
	ck_assert_int_eq(t.root_fd, -1);
}
END_TEST

START_TEST(test_a_folder_source_has_a_folder_root)
{
	struct ou_host_tree t;

	walk_ok(NULL, 0, &t);
	ck_assert(t.is_dir);
	ck_assert_int_eq(t.root.type, OU_ENTRY_DIR);
	ck_assert_str_eq(t.root.rel, "");
	ck_assert_uint_eq(t.n_items, 0);
	ou_host_tree_release(&t);
}
END_TEST

START_TEST(test_a_missing_source_is_an_error_naming_it)
{
	_cleanup_free_ char *p = at("missing");
	_cleanup_(ou_error_freep) struct ou_error *err = NULL;
	struct ou_host_tree t;

	ck_assert_int_lt(ou_hostwalk(p, NULL, 0, NULL, 0, &t, &err), 0);
	tu_assert_error(err, ENOENT, p);
}
END_TEST

START_TEST(test_a_fifo_source_is_refused_without_blocking)
{
	char p[4096];
	int status = 0;
	pid_t pid;

	snprintf(p, sizeof(p), "%s/pipe", root);
	ck_assert_int_eq(mkfifo(p, 0644), 0);
	/* Opening a FIFO for reading waits for a writer: run the walk where it may hang. */
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct ou_error *err = NULL;
		struct ou_host_tree t;
		int r = ou_hostwalk(p, NULL, 0, NULL, 0, &t, &err);
		bool ok = r < 0 && err->code == EINVAL && strstr(err->message, p);

		/* Nothing left allocated: valgrind's exit code would hide the answer. */
		if (r >= 0)
			ou_host_tree_release(&t);
		ou_error_free(err);
		_exit(ok ? 0 : 1);
	}
	for (int i = 0; i < 200 && waitpid(pid, &status, WNOHANG) == 0; i++)
		usleep(10000);
	if (waitpid(pid, &status, WNOHANG) == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		ck_abort_msg("ou_hostwalk('%s') still blocks after 2 s, waiting for a writer", p);
	}
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	              "a FIFO source is not refused with EINVAL naming it");
}
END_TEST

/*
 * Runs the walk of ROOT as uid/gid 65534 in a child (tests run as root,
 * for whom permissions are not enforced) and passes back the result.
 */
static int walk_as_nobody(int *ret_code, char *msg, size_t msg_size)
{
	int pfd[2], status;
	pid_t pid;
	ssize_t n;

	ck_assert_int_eq(pipe2(pfd, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct ou_error *err = NULL;
		struct ou_host_tree t;
		char out[4096];
		int r;

		close(pfd[0]);
		if (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 ||
		    setresuid(65534, 65534, 65534) < 0)
			_exit(99);
		r = ou_hostwalk(root, NULL, 0, NULL, 0, &t, &err);
		snprintf(out, sizeof(out), "%d %d %s", r < 0 ? -1 : 0, err ? err->code : 0,
		         err ? err->message : "");
		if (write(pfd[1], out, strlen(out)) < 0)
			_exit(98);
		_exit(0);
	}
	close(pfd[1]);
	n = read(pfd[0], msg, msg_size - 1);
	close(pfd[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
	ck_assert_int_gt(n, 0);
	msg[n] = '\0';
	{
		int r = 0, code = 0, used = 0;
		ck_assert_int_eq(sscanf(msg, "%d %d %n", &r, &code, &used), 2);
		memmove(msg, msg + used, strlen(msg + used) + 1);
		*ret_code = code;
		return r;
	}
}

START_TEST(test_an_unreadable_folder_is_an_error_naming_it)
{
	_cleanup_free_ char *p = at("locked");
	char msg[4096];
	int code = 0;

	file_at("ok", "ok");
	mkdir_at("locked");
	file_at("locked/secret", "s");
	ck_assert_int_eq(chmod(p, 0), 0);
	ck_assert_int_lt(walk_as_nobody(&code, msg, sizeof(msg)), 0);
	ck_assert_int_eq(code, EACCES);
	ck_assert_msg(strstr(msg, p), "'%s' does not name '%s'", msg, p);
}
END_TEST

START_TEST(test_a_readable_tree_walks_as_another_user)
{
	char msg[4096];
	int code = -1;

	/* The control for the test above: the child itself can walk. */
	file_at("ok", "ok");
	mkdir_at("open");
	file_at("open/x", "x");
	ck_assert_int_eq(walk_as_nobody(&code, msg, sizeof(msg)), 0);
	ck_assert_int_eq(code, 0);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("hostwalk");
	TCase *te = tcase_create("excludes");
	TCase *tw = tcase_create("whiteouts");
	TCase *tk = tcase_create("kinds");
	TCase *all[] = {te, tw, tk};

	for (size_t i = 0; i < ELEMENTSOF(all); i++) {
		tcase_add_checked_fixture(all[i], setup, teardown);
		suite_add_tcase(s, all[i]);
	}

	tcase_add_test(te, test_pattern_without_slash_matches_a_name_at_any_depth);
	tcase_add_test(te, test_skipped_folders_are_left_out_and_noted);
	tcase_add_test(te, test_an_excluded_folder_drops_its_whole_subtree);
	tcase_add_test(te, test_pattern_with_slash_matches_from_the_source_root_only);
	tcase_add_test(te, test_a_leading_slash_anchors_a_pattern_at_the_root);
	tcase_add_test(te, test_a_glob_without_slash_matches_files_at_any_depth);
	tcase_add_test(te, test_a_glob_without_slash_matches_hidden_names);
	tcase_add_test(te, test_a_glob_with_slash_matches_hidden_names_as_gitignore_does);
	tcase_add_test(te, test_a_star_does_not_cross_a_slash);
	tcase_add_test(te, test_a_trailing_slash_matches_folders_only);
	tcase_add_test(te, test_a_trailing_slash_with_a_slash_inside_matches_folders_from_the_root);
	tcase_add_test(te, test_no_pattern_excludes_nothing);

	tcase_add_test(tw, test_a_wh_file_is_refused_naming_the_host_path);
	tcase_add_test(tw, test_an_opaque_whiteout_name_deep_down_is_refused_naming_it);
	tcase_add_test(tw, test_a_wh_folder_is_refused_naming_it);
	tcase_add_test(tw, test_a_wh_symlink_is_refused_naming_it);
	tcase_add_test(tw, test_a_file_named_exactly_wh_is_refused);
	tcase_add_test(tw, test_wh_names_that_are_excluded_are_no_error);
	tcase_add_test(tw, test_a_name_merely_containing_wh_is_fine);

	tcase_add_test(tk, test_a_fifo_is_refused_naming_it);
	tcase_add_test(tk, test_a_socket_is_refused_naming_it);
	tcase_add_test(tk, test_an_excluded_fifo_is_no_error);
	tcase_add_test(tk, test_a_symlink_to_a_folder_is_an_item_and_not_followed);
	tcase_add_test(tk, test_a_dangling_symlink_is_kept_with_its_target_byte_for_byte);
	tcase_add_test(tk, test_items_carry_mode_size_and_inode);
	tcase_add_test(tk, test_items_are_sorted_bytewise_by_path);
	tcase_add_test(tk, test_a_single_file_source_is_its_own_root);
	tcase_add_test(tk, test_a_folder_source_has_a_folder_root);
	tcase_add_test(tk, test_a_missing_source_is_an_error_naming_it);
	tcase_add_test(tk, test_a_fifo_source_is_refused_without_blocking);
	tcase_add_test(tk, test_an_unreadable_folder_is_an_error_naming_it);
	tcase_add_test(tk, test_a_readable_tree_walks_as_another_user);
	return s;
}

OU_CHECK_MAIN(make_suite)
