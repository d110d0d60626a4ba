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
#include "ociuser/layer.h"
#include "ociuser/path.h"
#include "ociuser/plan.h"
#include "ociuser/xalloc.h"

#define EPOCH 1700000000LL
#define UID 1500
#define GID 1501
#define FILE_LINE 10      /* [files] line i is FILE_LINE + i */
#define SENSITIVE_LINE 20 /* [sensitive] line i is SENSITIVE_LINE + i */

/* ---------------------------------------------------------------------- */
/* Fixtures: a generated base, a host folder, a spec built by hand        */

static char *work;  /* bases */
static char *host;  /* host sources */
static char *blobs; /* blob folder */
static int blobs_fd = -1;

static struct ou_spec spec;
static struct ou_spec_file files[8];
static struct ou_spec_value excludes[8];
static struct ou_spec_sensitive sensitive[8];
static char **owned; /* strings the spec points to */
static size_t n_owned;
static struct ou_base *base;
static struct ou_plan_input in;
static struct ou_plan *plan;

static char *keep(char *s)
{
	ou_strv_push(&owned, &n_owned, s);
	free(s);
	return owned[n_owned - 1];
}

static char *host_path(const char *rel)
{
	return keep(xasprintf("%s/%s", host, rel));
}

enum base_flags {
	BASE_HOME = 1 << 0, /* home/app exists */
	BASE_BOTH_XATTRS =
	        1 << 1 /* xattrs as LIBARCHIVE.xattr and SCHILY.xattr, as bsdtar writes */
};

/* The cases' standard base, plus srv/, tmp/, lib -> usr/lib, a capability, hard links. */
static void build_base(const char *path, unsigned flags)
{
	struct tu_tar *t = tu_tar_new_xattrs(TU_NONE, !(flags & BASE_BOTH_XATTRS));
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
	tu_tar_symlink(t, "./evil", "../../..");
	if (flags & BASE_HOME) {
		tu_tar_dir(t, "./home/", 0755);
		e = tu_entry("./home/app/", AE_IFDIR, 0700);
		archive_entry_set_uid(e, UID);
		archive_entry_set_gid(e, GID);
		tu_tar_add(t, e, NULL, 0);
	}
	tu_tar_symlink(t, "./lib", "usr/lib");
	tu_tar_dir(t, "./srv/", 0755);
	tu_tar_dir(t, "./tmp/", 01777);
	tu_tar_dir(t, "./usr/", 0755);
	tu_tar_dir(t, "./usr/bin/", 0755);
	tu_tar_file(t, "./usr/bin/perl", 0755, "ELF-perl");
	tu_tar_hardlink(t, "./usr/bin/perl5.36", "./usr/bin/perl");
	e = tu_entry("./usr/bin/ping", AE_IFREG, 0755);
	archive_entry_xattr_add_entry(e, "security.capability", tu_cap_net_raw,
	                              sizeof(tu_cap_net_raw));
	tu_tar_add(t, e, "ELF-ping", 8);
	tu_tar_symlink(t, "./usr/bin/sh", "/bin/sh");
	tu_tar_dir(t, "./usr/lib/", 0755);
	tu_tar_file(t, "./usr/lib/libc.so", 0644, "ELF-libc");
	tu_tar_dir(t, "./usr/sbin/", 0755);
	tu_tar_file(t, "./usr/sbin/nologin", 0755, "#!nologin\n");
	tu_tar_save(t, path);
}

static void open_base(unsigned flags)
{
	static const char *const capture[] = {"etc/passwd", "etc/group", "etc/shadow",
	                                      "etc/gshadow"};
	_cleanup_free_ char *path = xasprintf("%s/base-%u.tar", work, flags);
	struct ou_error *err = NULL;

	base = ou_base_free(base);
	build_base(path, flags);
	ck_assert_msg(ou_base_open_tarball(path, blobs_fd, OU_BLOB_GZIP, capture,
	                                   ELEMENTSOF(capture), &base, &err) == 0,
	              "%s", err ? err->message : "?");
	in.base = base;
}

static void setup(void)
{
	work = tu_mkdtemp();
	host = tu_mkdtemp();
	blobs = tu_mkdtemp();
	blobs_fd = open(blobs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(blobs_fd, 0);

	/* The host side of case C01. */
	tu_mkdir(host_path("app"), 0755);
	tu_write_str(host_path("app/index.html"), "<html>\n", 0644);
	tu_mkdir(host_path("app/static"), 0755);
	tu_mkdir(host_path("app/static/css"), 0755);
	tu_write_str(host_path("app/static/css/site.css"), "body{}\n", 0644);
	tu_write_str(host_path("tool"), "#!/bin/sh\n", 0755);
	tu_write_str(host_path("other"), "other\n", 0644);

	memset(&spec, 0, sizeof(spec));
	memset(files, 0, sizeof(files));
	memset(excludes, 0, sizeof(excludes));
	memset(sensitive, 0, sizeof(sensitive));
	spec.path = (char *)"spec.ini";
	spec.files = files;
	spec.excludes = excludes;
	spec.sensitive = sensitive;

	memset(&in, 0, sizeof(in));
	in.spec = &spec;
	in.user = "app";
	in.group = "appgroup";
	in.uid = UID;
	in.gid = GID;
	in.home = "/home/app";
	in.create_home = false;
	in.epoch = EPOCH;
	open_base(0);
	plan = NULL;
}

static void teardown(void)
{
	plan = ou_plan_free(plan);
	base = ou_base_free(base);
	ou_strv_free(owned);
	owned = NULL;
	n_owned = 0;
	close(blobs_fd);
	tu_rmtree(work);
	tu_rmtree(host);
	tu_rmtree(blobs);
	free(work);
	free(host);
	free(blobs);
}

/* [files] DEST = HOST/@source, at line FILE_LINE + index. */
static void add_file(const char *dest, const char *source)
{
	struct ou_spec_file *f = &files[spec.n_files];

	ck_assert_uint_lt(spec.n_files, ELEMENTSOF(files));
	f->dest = keep(xstrdup(dest));
	f->source = host_path(source);
	f->source_spec = keep(xstrdup(source));
	f->line = FILE_LINE + (unsigned)spec.n_files;
	spec.n_files++;
}

static void add_exclude(const char *pattern)
{
	excludes[spec.n_excludes].str = keep(xstrdup(pattern));
	excludes[spec.n_excludes].line = 5;
	spec.n_excludes++;
}

/* [sensitive] PATH = MODE, at line SENSITIVE_LINE + index. */
static void add_sensitive(const char *path, unsigned mode)
{
	struct ou_spec_sensitive *s = &sensitive[spec.n_sensitive];

	s->path = keep(xstrdup(path));
	s->mode = mode;
	s->line = SENSITIVE_LINE + (unsigned)spec.n_sensitive;
	spec.n_sensitive++;
}

/*
 * Every list sorted, each path once, and every parent of every entry
 * either in the base (as a folder), in a lower layer or in the same one.
 */
static void check_parents(const struct ou_layer_list *l, const struct ou_layer_list *lower)
{
	for (size_t i = 0; i < l->n; i++) {
		_cleanup_free_ char *p = ou_path_parent(l->v[i].path);
		const struct ou_layer_entry *e;
		const struct ou_base_node *bn;

		if (i)
			ck_assert_msg(strcmp(l->v[i - 1].path, l->v[i].path) < 0,
			              "'%s' before '%s'", l->v[i - 1].path, l->v[i].path);
		if (!p[0])
			continue;
		e = ou_layer_list_find(l, p);
		if (!e && lower)
			e = ou_layer_list_find(lower, p);
		if (e) {
			ck_assert_msg(e->type == OU_ENTRY_DIR, "parent '%s' is not a folder", p);
			continue;
		}
		bn = ou_base_lookup(base, p);
		ck_assert_msg(bn && bn->type == OU_ENTRY_DIR, "'%s' has no parent '%s'",
		              l->v[i].path, p);
	}
}

static void make_plan(void)
{
	struct ou_error *err = NULL;

	ck_assert_msg(ou_plan_make(&in, base, &plan, &err) == 0, "%s", err ? err->message : "?");
	ck_assert_ptr_null(err);
	check_parents(&plan->accounts, NULL);
	check_parents(&plan->app, &plan->accounts);
}

static void plan_fails(int code, const char *what)
{
	_cleanup_(ou_error_freep) struct ou_error *err = NULL;

	ck_assert_int_lt(ou_plan_make(&in, base, &plan, &err), 0);
	ck_assert_ptr_null(plan);
	tu_assert_error(err, code, what);
}

static const struct ou_layer_entry *app_entry(const char *path)
{
	const struct ou_layer_entry *e = ou_layer_list_find(&plan->app, path);

	ck_assert_msg(e, "no '%s' in the app layer", path);
	return e;
}

static void assert_owned_by(const struct ou_layer_entry *e, uint32_t uid, uint32_t gid,
                            const char *uname, const char *gname, unsigned mode,
                            enum ou_entry_type type)
{
	ck_assert_msg(e->type == type, "'%s' type %d, want %d", e->path, e->type, type);
	ck_assert_msg(e->mode == mode, "'%s' mode %o, want %o", e->path, e->mode, mode);
	ck_assert_uint_eq(e->uid, uid);
	ck_assert_uint_eq(e->gid, gid);
	ck_assert_str_eq(e->uname, uname);
	ck_assert_str_eq(e->gname, gname);
	ck_assert_int_eq(e->mtime, EPOCH);
	ck_assert_ptr_null(e->base);
}

static void assert_root_dir(const struct ou_layer_entry *e)
{
	assert_owned_by(e, 0, 0, "root", "root", 0755, OU_ENTRY_DIR);
}

static void assert_user(const struct ou_layer_entry *e, unsigned mode, enum ou_entry_type type)
{
	assert_owned_by(e, UID, GID, "app", "appgroup", mode, type);
}

/* Writes @l as a plain tar and reads it back. */
static void write_layer(const struct ou_layer_list *l, struct tu_members *ret,
                        struct tu_buf *ret_tar)
{
	struct ou_error *err = NULL;
	struct ou_blob_result res;
	struct tu_buf raw = {0};

	ck_assert_msg(ou_layer_write(l, blobs_fd, OU_BLOB_TAR, &res, &err) == 0, "%s",
	              err ? err->message : "?");
	tu_read_blob(blobs, res.digest, &raw);
	tu_read_tar(raw.data, raw.len, ret);
	if (ret_tar)
		*ret_tar = raw;
	else
		tu_buf_release(&raw);
}

/* ---------------------------------------------------------------------- */
/* Destinations and parents                                               */

START_TEST(test_missing_parents_of_a_dest_are_root_owned_0755_entries)
{
	add_file("/srv/www/app", "app/");
	add_file("/usr/local/bin/tool", "tool");
	make_plan();
	assert_root_dir(app_entry("srv/www"));
	assert_root_dir(app_entry("usr/local"));
	assert_root_dir(app_entry("usr/local/bin"));
	assert_user(app_entry("srv/www/app"), 0755, OU_ENTRY_DIR);
	assert_user(app_entry("srv/www/app/index.html"), 0644, OU_ENTRY_FILE);
	assert_user(app_entry("srv/www/app/static"), 0755, OU_ENTRY_DIR);
	assert_user(app_entry("srv/www/app/static/css"), 0755, OU_ENTRY_DIR);
	assert_user(app_entry("srv/www/app/static/css/site.css"), 0644, OU_ENTRY_FILE);
	assert_user(app_entry("usr/local/bin/tool"), 0755, OU_ENTRY_FILE);
	ck_assert_uint_eq(plan->app.n, 9);
	ck_assert_uint_eq(plan->accounts.n, 0);
}
END_TEST

START_TEST(test_missing_parents_are_written_before_their_children)
{
	struct tu_members m;

	add_file("/srv/www/app", "app/");
	make_plan();
	write_layer(&plan->app, &m, NULL);
	ck_assert_str_eq(m.v[0].path, "srv/www/");
	ck_assert_int_eq(m.v[0].uid, 0);
	ck_assert_str_eq(m.v[0].uname, "root");
	ck_assert_uint_eq(m.v[0].perm, 0755);
	ck_assert_int_eq(m.v[0].mtime, EPOCH);
	ck_assert_str_eq(m.v[1].path, "srv/www/app/");
	ck_assert_str_eq(m.v[2].path, "srv/www/app/index.html");
	ck_assert_str_eq(m.v[2].data.data, "<html>\n");
	ck_assert_int_eq(m.v[2].uid, UID);
	ck_assert_str_eq(m.v[2].gname, "appgroup");
	tu_members_release(&m);
}
END_TEST

START_TEST(test_a_dest_folder_the_base_has_is_not_reemitted)
{
	add_file("/srv", "app/");
	make_plan();
	ck_assert_ptr_null(ou_layer_list_find(&plan->app, "srv"));
	assert_user(app_entry("srv/index.html"), 0644, OU_ENTRY_FILE);
}
END_TEST

START_TEST(test_tmp_keeps_its_base_entry_and_mode)
{
	add_file("/tmp", "app/");
	make_plan();
	ck_assert_ptr_null(ou_layer_list_find(&plan->app, "tmp"));
	ck_assert_uint_eq(ou_base_lookup(base, "tmp")->mode, 01777);
	ck_assert_ptr_nonnull(ou_layer_list_find(&plan->app, "tmp/static/css/site.css"));
}
END_TEST

START_TEST(test_a_dest_through_a_base_symlink_is_written_under_its_target)
{
	add_file("/lib/app", "app/");
	make_plan();
	assert_user(app_entry("usr/lib/app"), 0755, OU_ENTRY_DIR);
	assert_user(app_entry("usr/lib/app/index.html"), 0644, OU_ENTRY_FILE);
	for (size_t i = 0; i < plan->app.n; i++)
		ck_assert_msg(strncmp(plan->app.v[i].path, "lib", 3) != 0, "'%s' is written",
		              plan->app.v[i].path);
}
END_TEST

START_TEST(test_a_dest_through_an_absolute_base_symlink_is_written_under_its_target)
{
	add_file("/usr/bin/sh", "tool");
	make_plan();
	assert_user(app_entry("bin/sh"), 0755, OU_ENTRY_FILE);
	ck_assert_ptr_null(ou_layer_list_find(&plan->app, "usr/bin/sh"));
}
END_TEST

START_TEST(test_a_dest_through_a_link_out_of_the_root_is_refused)
{
	add_file("/evil/x", "tool");
	plan_fails(EINVAL, "spec.ini:10: ");
}
END_TEST

START_TEST(test_a_dest_written_twice_is_an_error_naming_both_lines)
{
	add_file("/srv/x", "tool");
	add_file("/srv/x", "other");
	plan_fails(EEXIST, "spec.ini:11: '/srv/x' is written twice");
	plan_fails(EEXIST, "line 10");
	plan_fails(EEXIST, "line 11");
}
END_TEST

START_TEST(test_a_file_from_two_folder_sources_is_an_error_naming_both_lines)
{
	tu_mkdir(host_path("app2"), 0755);
	tu_write_str(host_path("app2/index.html"), "other\n", 0644);
	add_file("/srv/site", "app/");
	add_file("/srv/site", "app2/");
	plan_fails(EEXIST, "'/srv/site/index.html' is written twice");
	plan_fails(EEXIST, "line 10");
	plan_fails(EEXIST, "line 11");
}
END_TEST

START_TEST(test_two_folder_sources_may_fill_one_folder)
{
	tu_mkdir(host_path("app2"), 0755);
	tu_write_str(host_path("app2/extra.txt"), "extra\n", 0644);
	add_file("/srv/site", "app/");
	add_file("/srv/site", "app2/");
	make_plan();
	ck_assert_ptr_nonnull(ou_layer_list_find(&plan->app, "srv/site/index.html"));
	ck_assert_ptr_nonnull(ou_layer_list_find(&plan->app, "srv/site/extra.txt"));
}
END_TEST

START_TEST(test_a_file_dest_on_a_base_folder_is_refused)
{
	add_file("/etc", "tool");
	plan_fails(EEXIST, "spec.ini:10: ");
	plan_fails(EEXIST, "folder");
}
END_TEST

START_TEST(test_a_folder_dest_on_a_base_file_is_refused)
{
	add_file("/etc/passwd", "app/");
	plan_fails(EEXIST, "spec.ini:10: ");
	plan_fails(EEXIST, "/etc/passwd");
}
END_TEST

START_TEST(test_a_dest_below_a_base_file_is_refused)
{
	add_file("/etc/passwd/x", "tool");
	plan_fails(EEXIST, "needs '/etc/passwd' to be a folder");
	plan_fails(EEXIST, "line 10");
}
END_TEST

START_TEST(test_a_dest_below_a_file_of_another_line_is_refused)
{
	add_file("/srv/x", "tool");
	add_file("/srv/x/y", "other");
	plan_fails(EEXIST, "needs '/srv/x' to be a folder");
}
END_TEST

START_TEST(test_a_missing_source_is_an_error_naming_its_line)
{
	add_file("/srv/x", "missing");
	plan_fails(ENOENT, "spec.ini:10: ");
	plan_fails(ENOENT, "missing");
}
END_TEST

START_TEST(test_a_wh_name_in_a_source_is_an_error_naming_its_line)
{
	tu_write_str(host_path("app/.wh.cache"), "x", 0644);
	add_file("/srv/app", "app/");
	plan_fails(EINVAL, "spec.ini:10: ");
	plan_fails(EINVAL, ".wh.cache");
}
END_TEST

START_TEST(test_an_excluded_wh_name_is_left_out)
{
	tu_write_str(host_path("app/.wh.cache"), "x", 0644);
	add_exclude(".wh.*");
	add_file("/srv/app", "app/");
	make_plan();
	ck_assert_ptr_null(ou_layer_list_find(&plan->app, "srv/app/.wh.cache"));
	ck_assert_ptr_nonnull(ou_layer_list_find(&plan->app, "srv/app/index.html"));
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Copied entries                                                         */

START_TEST(test_copied_symlinks_stay_links_with_their_targets)
{
	ck_assert_int_eq(symlink("index.html", host_path("app/link")), 0);
	ck_assert_int_eq(symlink("/etc/passwd", host_path("app/abs")), 0);
	add_file("/srv/app", "app/");
	make_plan();
	assert_user(app_entry("srv/app/link"), 0777, OU_ENTRY_SYMLINK);
	ck_assert_str_eq(app_entry("srv/app/link")->link, "index.html");
	ck_assert_str_eq(app_entry("srv/app/abs")->link, "/etc/passwd");
}
END_TEST

START_TEST(test_host_owners_never_reach_the_plan)
{
	ck_assert_int_eq(chown(host_path("app/index.html"), 4321, 4321), 0);
	ck_assert_int_eq(chown(host_path("app"), 4321, 4321), 0);
	add_file("/srv/app", "app/");
	make_plan();
	assert_user(app_entry("srv/app"), 0755, OU_ENTRY_DIR);
	assert_user(app_entry("srv/app/index.html"), 0644, OU_ENTRY_FILE);
}
END_TEST

/* The umask-077 host tree of case C17, plus setuid and group-only execute bits. */
static void odd_modes_tree(void)
{
	tu_mkdir(host_path("odd"), 0700);
	tu_write_str(host_path("odd/main.py"), "main", 0600);
	tu_write_str(host_path("odd/run"), "run", 0700);
	tu_write_str(host_path("odd/suid"), "suid", 04755);
	tu_write_str(host_path("odd/grpx"), "grpx", 0610);
	tu_write_str(host_path("odd/public.txt"), "public", 0644);
	tu_mkdir(host_path("odd/lib"), 0750);
}

START_TEST(test_modes_are_normalised_whatever_the_host_bits)
{
	odd_modes_tree();
	add_file("/srv/app", "odd/");
	make_plan();
	assert_user(app_entry("srv/app"), 0755, OU_ENTRY_DIR);
	assert_user(app_entry("srv/app/lib"), 0755, OU_ENTRY_DIR);
	assert_user(app_entry("srv/app/main.py"), 0644, OU_ENTRY_FILE);
	assert_user(app_entry("srv/app/run"), 0755, OU_ENTRY_FILE);
	assert_user(app_entry("srv/app/suid"), 0755, OU_ENTRY_FILE);
	assert_user(app_entry("srv/app/grpx"), 0644, OU_ENTRY_FILE);
	assert_user(app_entry("srv/app/public.txt"), 0644, OU_ENTRY_FILE);
	ck_assert_uint_eq(plan->n_warnings, 0);
}
END_TEST

START_TEST(test_a_single_file_source_gets_a_normalised_mode)
{
	tu_write_str(host_path("secret"), "s", 0600);
	add_file("/srv/secret", "secret");
	add_file("/srv/tool", "tool");
	make_plan();
	assert_user(app_entry("srv/secret"), 0644, OU_ENTRY_FILE);
	assert_user(app_entry("srv/tool"), 0755, OU_ENTRY_FILE);
}
END_TEST

START_TEST(test_preserve_modes_keeps_the_host_bits)
{
	odd_modes_tree();
	spec.preserve_modes = true;
	add_file("/srv/app", "odd/");
	make_plan();
	assert_user(app_entry("srv/app"), 0700, OU_ENTRY_DIR);
	assert_user(app_entry("srv/app/lib"), 0750, OU_ENTRY_DIR);
	assert_user(app_entry("srv/app/main.py"), 0600, OU_ENTRY_FILE);
	assert_user(app_entry("srv/app/run"), 0700, OU_ENTRY_FILE);
	assert_user(app_entry("srv/app/grpx"), 0610, OU_ENTRY_FILE);
	assert_user(app_entry("srv/app/public.txt"), 0644, OU_ENTRY_FILE);
}
END_TEST

START_TEST(test_preserve_modes_clears_setuid_with_a_warning_naming_the_file)
{
	odd_modes_tree();
	spec.preserve_modes = true;
	add_file("/srv/app", "odd/");
	make_plan();
	assert_user(app_entry("srv/app/suid"), 0755, OU_ENTRY_FILE);
	ck_assert_uint_eq(plan->n_warnings, 1);
	ck_assert_ptr_nonnull(strstr(plan->warnings[0], host_path("odd/suid")));
	ck_assert_ptr_null(plan->warnings[1]);
}
END_TEST

/* The tree of case C14: hard links inside one source and one to a file outside it. */
static void hard_link_tree(void)
{
	tu_mkdir(host_path("src"), 0755);
	tu_write_str(host_path("src/zz-real"), "A", 0644);
	ck_assert_int_eq(link(host_path("src/zz-real"), host_path("src/aa-link")), 0);
	tu_mkdir(host_path("src/sub"), 0755);
	tu_mkdir(host_path("src/sub/deep"), 0755);
	ck_assert_int_eq(link(host_path("src/zz-real"), host_path("src/sub/deep/b")), 0);
	tu_write_str(host_path("src/keep.bin"), "K", 0644);
	ck_assert_int_eq(link(host_path("src/keep.bin"), host_path("src/cache.tmp")), 0);
	tu_mkdir(host_path("src/other"), 0755);
	ck_assert_int_eq(link(host_path("other"), host_path("src/other/x")), 0);
	add_exclude("keep.bin");
	add_file("/app", "src/");
}

START_TEST(test_hard_links_in_one_tree_point_at_the_first_name_in_sorted_order)
{
	hard_link_tree();
	make_plan();
	assert_user(app_entry("app/aa-link"), 0644, OU_ENTRY_FILE);
	ck_assert_int_eq(app_entry("app/aa-link")->content, OU_CONTENT_HOST);
	assert_user(app_entry("app/zz-real"), 0644, OU_ENTRY_HARDLINK);
	ck_assert_str_eq(app_entry("app/zz-real")->link, "app/aa-link");
	assert_user(app_entry("app/sub/deep/b"), 0644, OU_ENTRY_HARDLINK);
	ck_assert_str_eq(app_entry("app/sub/deep/b")->link, "app/aa-link");
}
END_TEST

START_TEST(test_a_hard_link_whose_partner_is_excluded_is_a_regular_file)
{
	hard_link_tree();
	make_plan();
	ck_assert_ptr_null(ou_layer_list_find(&plan->app, "app/keep.bin"));
	assert_user(app_entry("app/cache.tmp"), 0644, OU_ENTRY_FILE);
	ck_assert_ptr_null(app_entry("app/cache.tmp")->link);
}
END_TEST

START_TEST(test_a_hard_link_to_a_file_outside_the_tree_is_a_regular_file)
{
	hard_link_tree();
	make_plan();
	assert_user(app_entry("app/other/x"), 0644, OU_ENTRY_FILE);
	ck_assert_int_eq(app_entry("app/other/x")->content, OU_CONTENT_HOST);
}
END_TEST

START_TEST(test_hard_links_read_back_from_the_layer_with_relative_linknames)
{
	struct tu_members m;
	const struct tu_member *a, *b, *z, *c;

	hard_link_tree();
	make_plan();
	write_layer(&plan->app, &m, NULL);
	a = tu_members_find(&m, "app/aa-link");
	b = tu_members_find(&m, "app/sub/deep/b");
	z = tu_members_find(&m, "app/zz-real");
	c = tu_members_find(&m, "app/cache.tmp");
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_nonnull(z);
	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(a->data.data, "A");
	ck_assert_ptr_null(a->hardlink);
	ck_assert_str_eq(b->hardlink, "app/aa-link");
	ck_assert_int_eq(b->size, 0);
	ck_assert_str_eq(z->hardlink, "app/aa-link");
	ck_assert_int_eq(z->size, 0);
	ck_assert_int_eq(z->uid, UID);
	ck_assert_str_eq(c->data.data, "K");
	ck_assert_str_eq(tu_members_find(&m, "app/other/x")->data.data, "other\n");
	/* The folders holding a link come before it. */
	ck_assert(tu_members_find(&m, "app/sub/deep/") < b);
	tu_members_release(&m);
}
END_TEST

START_TEST(test_hard_links_across_two_lines_are_regular_files)
{
	tu_mkdir(host_path("one"), 0755);
	tu_mkdir(host_path("two"), 0755);
	tu_write_str(host_path("one/f"), "shared", 0644);
	ck_assert_int_eq(link(host_path("one/f"), host_path("two/f")), 0);
	add_file("/srv/one", "one/");
	add_file("/srv/two", "two/");
	make_plan();
	assert_user(app_entry("srv/one/f"), 0644, OU_ENTRY_FILE);
	assert_user(app_entry("srv/two/f"), 0644, OU_ENTRY_FILE);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* [sensitive]                                                            */

START_TEST(test_sensitive_on_a_copied_file_sets_exactly_that_mode)
{
	add_file("/srv/app", "app/");
	add_sensitive("/srv/app/index.html", 0640);
	make_plan();
	assert_user(app_entry("srv/app/index.html"), 0640, OU_ENTRY_FILE);
	ck_assert(app_entry("srv/app/index.html")->mode_set);
	assert_user(app_entry("srv/app/static"), 0755, OU_ENTRY_DIR);
}
END_TEST

START_TEST(test_sensitive_on_a_copied_folder_is_not_recursive)
{
	add_file("/srv/app", "app/");
	add_sensitive("/srv/app", 0750);
	make_plan();
	assert_user(app_entry("srv/app"), 0750, OU_ENTRY_DIR);
	assert_user(app_entry("srv/app/static"), 0755, OU_ENTRY_DIR);
	assert_user(app_entry("srv/app/index.html"), 0644, OU_ENTRY_FILE);
}
END_TEST

START_TEST(test_sensitive_can_set_setuid_on_a_copied_file)
{
	add_file("/usr/local/bin/tool", "tool");
	add_sensitive("/usr/local/bin/tool", 04750);
	make_plan();
	assert_user(app_entry("usr/local/bin/tool"), 04750, OU_ENTRY_FILE);
}
END_TEST

START_TEST(test_sensitive_on_a_base_file_reemits_it_with_content_and_xattrs)
{
	struct tu_members m;
	const struct ou_layer_entry *e;

	add_sensitive("/usr/bin/ping", 0750);
	make_plan();
	e = app_entry("usr/bin/ping");
	ck_assert_ptr_nonnull(e->base);
	ck_assert_uint_eq(e->mode, 0750);
	ck_assert(e->mode_set);
	ck_assert_uint_eq(plan->app.n, 1);
	write_layer(&plan->app, &m, NULL);
	ck_assert_uint_eq(m.n, 1);
	ck_assert_str_eq(m.v[0].path, "usr/bin/ping");
	ck_assert_uint_eq(m.v[0].perm, 0750);
	ck_assert_int_eq(m.v[0].uid, 0);
	ck_assert_str_eq(m.v[0].uname, "root");
	ck_assert_int_eq(m.v[0].mtime, TU_BASE_MTIME);
	ck_assert_str_eq(m.v[0].data.data, "ELF-ping");
	ck_assert_uint_eq(m.v[0].n_xattrs, 1);
	ck_assert_str_eq(m.v[0].xattr_name, "security.capability");
	ck_assert_mem_eq(m.v[0].xattr_value.data, tu_cap_net_raw, sizeof(tu_cap_net_raw));
	tu_members_release(&m);
}
END_TEST

START_TEST(test_sensitive_on_a_base_file_keeps_its_owner_group)
{
	struct tu_members m;

	add_sensitive("/etc/shadow", 0600);
	make_plan();
	write_layer(&plan->app, &m, NULL);
	ck_assert_str_eq(m.v[0].path, "etc/shadow");
	ck_assert_uint_eq(m.v[0].perm, 0600);
	ck_assert_int_eq(m.v[0].gid, 42);
	ck_assert_str_eq(m.v[0].gname, "shadow");
	ck_assert_str_eq(m.v[0].data.data, "root:*:19000:0:99999:7:::\n");
	tu_members_release(&m);
}
END_TEST

START_TEST(test_sensitive_on_two_base_files_keeps_both_contents)
{
	struct tu_members m;

	add_sensitive("/usr/bin/ping", 0750);
	add_sensitive("/usr/lib/libc.so", 0600);
	add_sensitive("/bin/sh", 0700);
	make_plan();
	write_layer(&plan->app, &m, NULL);
	ck_assert_uint_eq(m.n, 3);
	ck_assert_str_eq(tu_members_find(&m, "bin/sh")->data.data, "#!sh\n");
	ck_assert_str_eq(tu_members_find(&m, "usr/bin/ping")->data.data, "ELF-ping");
	ck_assert_uint_eq(tu_members_find(&m, "usr/bin/ping")->n_xattrs, 1);
	ck_assert_str_eq(tu_members_find(&m, "usr/lib/libc.so")->data.data, "ELF-libc");
	tu_members_release(&m);
}
END_TEST

START_TEST(test_sensitive_on_a_base_file_leaves_edited_account_files_intact)
{
	static const char passwd[] = "root:x:0:0:root:/root:/bin/bash\n"
	                             "app:x:1500:1501::/home/app:/usr/sbin/nologin\n";
	struct tu_members m;

	in.files[0] = (struct ou_plan_account_file){"etc/passwd", passwd, strlen(passwd)};
	add_sensitive("/usr/bin/ping", 0750);
	make_plan();
	write_layer(&plan->accounts, &m, NULL);
	ck_assert_uint_eq(m.n, 1);
	ck_assert_str_eq(m.v[0].path, "etc/passwd");
	ck_assert_str_eq(m.v[0].data.data, passwd);
	ck_assert_uint_eq(m.v[0].perm, 0644);
	ck_assert_int_eq(m.v[0].mtime, TU_BASE_MTIME);
	tu_members_release(&m);
}
END_TEST

START_TEST(test_sensitive_keeps_a_capability_recorded_in_both_spellings_once)
{
	struct tu_members m;
	struct tu_buf tar;
	const char key[] = "SCHILY.xattr.security.capability=";
	const char *p;
	size_t count = 0;

	open_base(BASE_BOTH_XATTRS);
	add_sensitive("/usr/bin/ping", 0750);
	make_plan();
	write_layer(&plan->app, &m, &tar);
	for (p = tar.data; (p = memmem(p, tar.len - (size_t)(p - tar.data), key, strlen(key))); p++)
		count++;
	ck_assert_uint_eq(count, 1);
	ck_assert_uint_eq(m.v[0].n_xattrs, 1);
	tu_members_release(&m);
	tu_buf_release(&tar);
}
END_TEST

START_TEST(test_sensitive_through_a_base_symlinked_folder_names_the_target)
{
	add_sensitive("/lib/libc.so", 0600);
	make_plan();
	ck_assert_uint_eq(app_entry("usr/lib/libc.so")->mode, 0600);
	ck_assert_ptr_null(ou_layer_list_find(&plan->app, "lib/libc.so"));
}
END_TEST

START_TEST(test_sensitive_on_a_base_folder_reemits_it_with_the_new_mode)
{
	const struct ou_layer_entry *e;

	add_sensitive("/srv", 0700);
	make_plan();
	e = app_entry("srv");
	ck_assert_int_eq(e->type, OU_ENTRY_DIR);
	ck_assert_ptr_nonnull(e->base);
	ck_assert_uint_eq(e->mode, 0700);
}
END_TEST

START_TEST(test_sensitive_on_a_missing_path_is_an_error_naming_its_line)
{
	add_sensitive("/srv/nope", 0600);
	plan_fails(ENOENT, "spec.ini:20: '/srv/nope'");
}
END_TEST

START_TEST(test_sensitive_on_a_base_symlink_is_refused)
{
	add_sensitive("/lib", 0700);
	plan_fails(EINVAL, "spec.ini:20: '/lib'");
}
END_TEST

START_TEST(test_sensitive_on_a_copied_symlink_is_refused)
{
	ck_assert_int_eq(symlink("index.html", host_path("app/link")), 0);
	add_file("/srv/app", "app/");
	add_sensitive("/srv/app/link", 0600);
	plan_fails(EINVAL, "spec.ini:20: '/srv/app/link'");
}
END_TEST

START_TEST(test_sensitive_on_a_base_hard_link_is_refused)
{
	add_sensitive("/usr/bin/perl5.36", 0700);
	plan_fails(EINVAL, "spec.ini:20: '/usr/bin/perl5.36'");
}
END_TEST

START_TEST(test_sensitive_on_a_copied_hard_link_sets_the_mode_of_the_data_holder)
{
	hard_link_tree();
	add_sensitive("/app/zz-real", 0600);
	make_plan();
	ck_assert_uint_eq(app_entry("app/aa-link")->mode, 0600);
}
END_TEST

START_TEST(test_sensitive_on_the_root_is_refused)
{
	add_sensitive("/", 0700);
	plan_fails(EINVAL, "spec.ini:20: ");
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Home and account files                                                 */

START_TEST(test_home_is_created_0750_user_owned_with_root_parents)
{
	in.create_home = true;
	make_plan();
	ck_assert_uint_eq(plan->accounts.n, 2);
	assert_root_dir(&plan->accounts.v[0]);
	ck_assert_str_eq(plan->accounts.v[0].path, "home");
	ck_assert_str_eq(plan->accounts.v[1].path, "home/app");
	assert_user(&plan->accounts.v[1], 0750, OU_ENTRY_DIR);
	ck_assert_uint_eq(plan->app.n, 0);
}
END_TEST

START_TEST(test_sensitive_on_the_home_and_an_account_file_goes_in_the_app_layer)
{
	/* the accounts layer stays what the accounts make, so it is reused */
	static const char passwd[] = "root:x:0:0:root:/root:/bin/bash\n"
	                             "app:x:1500:1501::/home/app:/usr/sbin/nologin\n";
	const struct ou_layer_entry *a, *b;
	struct tu_members m;

	in.create_home = true;
	in.files[0] = (struct ou_plan_account_file){"etc/passwd", passwd, strlen(passwd)};
	add_sensitive("/home/app", 0700);
	add_sensitive("/etc/passwd", 0600);
	make_plan();
	assert_user(ou_layer_list_find(&plan->accounts, "home/app"), 0750, OU_ENTRY_DIR);
	assert_user(app_entry("home/app"), 0700, OU_ENTRY_DIR);
	a = ou_layer_list_find(&plan->accounts, "etc/passwd");
	b = app_entry("etc/passwd");
	ck_assert_ptr_nonnull(a);
	ck_assert(!a->mode_set);
	ck_assert_uint_eq(b->mode, 0600);
	ck_assert(b->mode_set);
	ck_assert_ptr_ne(a->data, b->data);
	write_layer(&plan->app, &m, NULL);
	ck_assert_str_eq(tu_members_find(&m, "etc/passwd")->data.data, passwd);
	ck_assert_uint_eq(tu_members_find(&m, "etc/passwd")->perm, 0600);
	tu_members_release(&m);
}
END_TEST

START_TEST(test_home_is_not_created_without_create_home)
{
	make_plan();
	ck_assert_ptr_null(ou_layer_list_find(&plan->accounts, "home/app"));
	ck_assert_ptr_null(ou_layer_list_find(&plan->accounts, "home"));
}
END_TEST

START_TEST(test_home_is_not_created_when_the_base_has_it)
{
	open_base(BASE_HOME);
	in.create_home = true;
	make_plan();
	ck_assert_uint_eq(plan->accounts.n, 0);
}
END_TEST

START_TEST(test_home_is_not_created_when_files_write_below_it)
{
	in.create_home = true;
	add_file("/home/app/data", "app/");
	make_plan();
	ck_assert_ptr_null(ou_layer_list_find(&plan->accounts, "home/app"));
	ck_assert_ptr_nonnull(ou_layer_list_find(&plan->app, "home/app/data/index.html"));
}
END_TEST

START_TEST(test_home_given_by_files_is_left_as_files_make_it)
{
	in.create_home = true;
	add_file("/home/app", "app/");
	make_plan();
	ck_assert_ptr_null(ou_layer_list_find(&plan->accounts, "home/app"));
	assert_user(app_entry("home/app"), 0755, OU_ENTRY_DIR);
}
END_TEST

START_TEST(test_an_edited_account_file_keeps_the_base_header)
{
	static const char group[] = "root:x:0:\napp:x:1501:\n";
	const struct ou_layer_entry *e;

	in.files[1] = (struct ou_plan_account_file){"etc/group", group, strlen(group)};
	make_plan();
	e = ou_layer_list_find(&plan->accounts, "etc/group");
	ck_assert_ptr_nonnull(e);
	ck_assert_ptr_nonnull(e->base);
	ck_assert_int_eq(e->content, OU_CONTENT_MEMORY);
	ck_assert_int_eq(e->size, (int64_t)strlen(group));
	ck_assert_mem_eq(e->data, group, strlen(group));
}
END_TEST

START_TEST(test_an_account_file_the_base_lacks_is_created_root_0644)
{
	static const char gshadow[] = "app:!::\n";
	const struct ou_layer_entry *e;

	in.files[3] = (struct ou_plan_account_file){"etc/gshadow", gshadow, strlen(gshadow)};
	make_plan();
	e = ou_layer_list_find(&plan->accounts, "etc/gshadow");
	ck_assert_ptr_nonnull(e);
	assert_owned_by(e, 0, 0, "root", "root", 0644, OU_ENTRY_FILE);
	ck_assert_int_eq(e->size, 8);
}
END_TEST

START_TEST(test_an_unchanged_account_file_is_not_written)
{
	in.files[0] = (struct ou_plan_account_file){"etc/passwd", NULL, 0};
	make_plan();
	ck_assert_uint_eq(plan->accounts.n, 0);
}
END_TEST

START_TEST(test_files_writing_an_account_file_is_an_error)
{
	static const char passwd[] = "root:x:0:0:root:/root:/bin/bash\n";

	in.files[0] = (struct ou_plan_account_file){"etc/passwd", passwd, strlen(passwd)};
	add_file("/etc/passwd", "other");
	plan_fails(EEXIST, "'/etc/passwd'");
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("plan");
	TCase *td = tcase_create("destinations");
	TCase *tc = tcase_create("copied entries");
	TCase *ts = tcase_create("sensitive");
	TCase *th = tcase_create("home and accounts");
	TCase *all[] = {td, tc, ts, th};

	for (size_t i = 0; i < ELEMENTSOF(all); i++) {
		tcase_add_checked_fixture(all[i], setup, teardown);
		suite_add_tcase(s, all[i]);
	}

	tcase_add_test(td, test_missing_parents_of_a_dest_are_root_owned_0755_entries);
	tcase_add_test(td, test_missing_parents_are_written_before_their_children);
	tcase_add_test(td, test_a_dest_folder_the_base_has_is_not_reemitted);
	tcase_add_test(td, test_tmp_keeps_its_base_entry_and_mode);
	tcase_add_test(td, test_a_dest_through_a_base_symlink_is_written_under_its_target);
	tcase_add_test(td,
	               test_a_dest_through_an_absolute_base_symlink_is_written_under_its_target);
	tcase_add_test(td, test_a_dest_through_a_link_out_of_the_root_is_refused);
	tcase_add_test(td, test_a_dest_written_twice_is_an_error_naming_both_lines);
	tcase_add_test(td, test_a_file_from_two_folder_sources_is_an_error_naming_both_lines);
	tcase_add_test(td, test_two_folder_sources_may_fill_one_folder);
	tcase_add_test(td, test_a_file_dest_on_a_base_folder_is_refused);
	tcase_add_test(td, test_a_folder_dest_on_a_base_file_is_refused);
	tcase_add_test(td, test_a_dest_below_a_base_file_is_refused);
	tcase_add_test(td, test_a_dest_below_a_file_of_another_line_is_refused);
	tcase_add_test(td, test_a_missing_source_is_an_error_naming_its_line);
	tcase_add_test(td, test_a_wh_name_in_a_source_is_an_error_naming_its_line);
	tcase_add_test(td, test_an_excluded_wh_name_is_left_out);

	tcase_add_test(tc, test_copied_symlinks_stay_links_with_their_targets);
	tcase_add_test(tc, test_host_owners_never_reach_the_plan);
	tcase_add_test(tc, test_modes_are_normalised_whatever_the_host_bits);
	tcase_add_test(tc, test_a_single_file_source_gets_a_normalised_mode);
	tcase_add_test(tc, test_preserve_modes_keeps_the_host_bits);
	tcase_add_test(tc, test_preserve_modes_clears_setuid_with_a_warning_naming_the_file);
	tcase_add_test(tc, test_hard_links_in_one_tree_point_at_the_first_name_in_sorted_order);
	tcase_add_test(tc, test_a_hard_link_whose_partner_is_excluded_is_a_regular_file);
	tcase_add_test(tc, test_a_hard_link_to_a_file_outside_the_tree_is_a_regular_file);
	tcase_add_test(tc, test_hard_links_read_back_from_the_layer_with_relative_linknames);
	tcase_add_test(tc, test_hard_links_across_two_lines_are_regular_files);

	tcase_add_test(ts, test_sensitive_on_a_copied_file_sets_exactly_that_mode);
	tcase_add_test(ts, test_sensitive_on_a_copied_folder_is_not_recursive);
	tcase_add_test(ts, test_sensitive_can_set_setuid_on_a_copied_file);
	tcase_add_test(ts, test_sensitive_on_a_base_file_reemits_it_with_content_and_xattrs);
	tcase_add_test(ts, test_sensitive_on_a_base_file_keeps_its_owner_group);
	tcase_add_test(ts, test_sensitive_on_two_base_files_keeps_both_contents);
	tcase_add_test(ts, test_sensitive_on_a_base_file_leaves_edited_account_files_intact);
	tcase_add_test(ts, test_sensitive_keeps_a_capability_recorded_in_both_spellings_once);
	tcase_add_test(ts, test_sensitive_through_a_base_symlinked_folder_names_the_target);
	tcase_add_test(ts, test_sensitive_on_a_base_folder_reemits_it_with_the_new_mode);
	tcase_add_test(ts, test_sensitive_on_a_missing_path_is_an_error_naming_its_line);
	tcase_add_test(ts, test_sensitive_on_a_base_symlink_is_refused);
	tcase_add_test(ts, test_sensitive_on_a_copied_symlink_is_refused);
	tcase_add_test(ts, test_sensitive_on_a_base_hard_link_is_refused);
	tcase_add_test(ts, test_sensitive_on_a_copied_hard_link_sets_the_mode_of_the_data_holder);
	tcase_add_test(ts, test_sensitive_on_the_root_is_refused);

	tcase_add_test(th, test_home_is_created_0750_user_owned_with_root_parents);
	tcase_add_test(th, test_home_is_not_created_without_create_home);
	tcase_add_test(th, test_sensitive_on_the_home_and_an_account_file_goes_in_the_app_layer);
	tcase_add_test(th, test_home_is_not_created_when_the_base_has_it);
	tcase_add_test(th, test_home_is_not_created_when_files_write_below_it);
	tcase_add_test(th, test_home_given_by_files_is_left_as_files_make_it);
	tcase_add_test(th, test_an_edited_account_file_keeps_the_base_header);
	tcase_add_test(th, test_an_account_file_the_base_lacks_is_created_root_0644);
	tcase_add_test(th, test_an_unchanged_account_file_is_not_written);
	tcase_add_test(th, test_files_writing_an_account_file_is_an_error);
	return s;
}

OU_CHECK_MAIN(make_suite)
