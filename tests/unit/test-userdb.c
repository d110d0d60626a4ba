/* SPDX-License-Identifier: MIT */
/*
 * userdb: parsing the base's account files, id allocation as shadow's
 * `groupadd -r` / `useradd -r`, reuse and conflicts, and the exact bytes of
 * the merged files (cases C02, C03, C04, C06, C08, C09).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ou-check.h"
#include "ociuser/error.h"
#include "ociuser/userdb.h"
#include "ociuser/xalloc.h"

#define STD_PASSWD                                                                                 \
	"root:x:0:0:root:/root:/bin/bash\n"                                                        \
	"daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"                                        \
	"nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
#define STD_GROUP "root:x:0:\ndaemon:x:1:\nnogroup:x:65534:\n"

/* The base files of one test; NULL means the base has no such file. */
struct base {
	const char *passwd, *group, *shadow, *gshadow, *login_defs;
};

static struct ou_account_text text(const char *s)
{
	return (struct ou_account_text){s, s ? strlen(s) : 0, s != NULL};
}

/* A request for user @name as the spec reader gives it: group = name, line 10. */
static struct ou_accounts_req request(const char *name, const char *home)
{
	return (struct ou_accounts_req){
	        .spec_path = "spec.ini",
	        .user = name,
	        .user_line = 10,
	        .group = name,
	        .home = home,
	        .shell = "/usr/sbin/nologin",
	        .days = 19675,
	};
}

static int apply(const struct base *b, const struct ou_accounts_req *req,
                 struct ou_accounts_out *out, struct ou_error **err)
{
	struct ou_accounts_in in = {
	        .passwd = text(b->passwd),
	        .group = text(b->group),
	        .shadow = text(b->shadow),
	        .gshadow = text(b->gshadow),
	        .login_defs = text(b->login_defs),
	};
	return ou_userdb_apply(&in, req, out, err);
}

/* Applies @req and expects success; the caller releases *out. */
static void apply_ok(const struct base *b, const struct ou_accounts_req *req,
                     struct ou_accounts_out *out)
{
	struct ou_error *err = NULL;
	int r = apply(b, req, out, &err);

	ck_assert_msg(r == 0, "apply failed: %s", err ? err->message : "?");
}

/* Applies @req, expects failure with @code, and returns the message (caller frees). */
static char *apply_fails(const struct base *b, const struct ou_accounts_req *req, int code)
{
	struct ou_accounts_out out = {0};
	struct ou_error *err = NULL;
	char *msg;

	ck_assert_int_lt(apply(b, req, &out, &err), 0);
	ck_assert_ptr_nonnull(err);
	ck_assert_int_eq(err->code, code);
	ck_assert_ptr_null(out.passwd);
	msg = err->message;
	err->message = NULL;
	ou_error_free(err);
	return msg;
}

static bool ends_with(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);
	return s && len >= n && memcmp(s + len - n, suffix, n) == 0;
}

#define ck_assert_ends_with(s, len, suffix)                                                        \
	ck_assert_msg(ends_with(s, len, suffix), "'%s' does not end with '%s'", s ? s : "(null)",  \
	              suffix)

#define ck_assert_contains(s, needle)                                                              \
	ck_assert_msg(strstr(s, needle) != NULL, "'%s' does not contain '%s'", s, needle)

/* ---- login.defs ---- */

START_TEST(test_login_defs_absent_gives_101_to_999)
{
	struct ou_id_ranges r;

	ck_assert_int_eq(ou_userdb_parse_login_defs(NULL, 0, &r, NULL), 0);
	ck_assert_uint_eq(r.uid_min, 101);
	ck_assert_uint_eq(r.uid_max, 999);
	ck_assert_uint_eq(r.gid_min, 101);
	ck_assert_uint_eq(r.gid_max, 999);
}
END_TEST

START_TEST(test_login_defs_reads_sys_ranges_and_skips_comments)
{
	const char *defs = "# SYS_UID_MIN 1\n"
	                   "\n"
	                   "SYS_UID_MIN 500\n"
	                   "  SYS_UID_MAX\t600  \n"
	                   "SYS_GID_MIN \"200\"\n"
	                   "SYS_GID_MAX 0x12c\n"
	                   "UMASK 022\n";
	struct ou_id_ranges r;

	ck_assert_int_eq(ou_userdb_parse_login_defs(defs, strlen(defs), &r, NULL), 0);
	ck_assert_uint_eq(r.uid_min, 500);
	ck_assert_uint_eq(r.uid_max, 600);
	ck_assert_uint_eq(r.gid_min, 200);
	ck_assert_uint_eq(r.gid_max, 300);
}
END_TEST

START_TEST(test_login_defs_uid_min_sets_the_default_sys_max)
{
	const char *defs = "UID_MIN 2000\nGID_MIN 1500\n";
	struct ou_id_ranges r;

	ck_assert_int_eq(ou_userdb_parse_login_defs(defs, strlen(defs), &r, NULL), 0);
	ck_assert_uint_eq(r.uid_min, 101);
	ck_assert_uint_eq(r.uid_max, 1999);
	ck_assert_uint_eq(r.gid_max, 1499);
}
END_TEST

START_TEST(test_login_defs_ignores_a_malformed_number_as_shadow_does)
{
	const char *defs = "SYS_UID_MIN 300\nSYS_UID_MIN abc\nSYS_UID_MAX -5\nSYS_GID_MAX 12x\n";
	struct ou_id_ranges r;

	ck_assert_int_eq(ou_userdb_parse_login_defs(defs, strlen(defs), &r, NULL), 0);
	ck_assert_uint_eq(r.uid_min, 300);
	ck_assert_uint_eq(r.uid_max, 999);
	ck_assert_uint_eq(r.gid_max, 999);
}
END_TEST

START_TEST(test_login_defs_last_line_of_a_key_wins)
{
	const char *defs = "SYS_UID_MAX 600\nSYS_UID_MAX 700\n";
	struct ou_id_ranges r;

	ck_assert_int_eq(ou_userdb_parse_login_defs(defs, strlen(defs), &r, NULL), 0);
	ck_assert_uint_eq(r.uid_max, 700);
}
END_TEST

START_TEST(test_login_defs_empty_range_is_a_broken_base)
{
	const char *defs = "SYS_GID_MIN 600\nSYS_GID_MAX 500\n";
	struct ou_id_ranges r;
	struct ou_error *err = NULL;

	ck_assert_int_lt(ou_userdb_parse_login_defs(defs, strlen(defs), &r, &err), 0);
	ck_assert_int_eq(err->code, EBADMSG);
	ck_assert_contains(err->message, "'/etc/login.defs'");
	ck_assert_contains(err->message, "gid");
	ou_error_free(err);
}
END_TEST

/* ---- allocation ---- */

START_TEST(test_standard_base_gives_uid_and_gid_999)
{
	struct base b = {.passwd = STD_PASSWD, .group = STD_GROUP};
	struct ou_accounts_req req = request("app", "/home/app");
	struct ou_accounts_out out = {0};

	apply_ok(&b, &req, &out);
	ck_assert_uint_eq(out.uid, 999);
	ck_assert_uint_eq(out.gid, 999);
	ck_assert(out.user_created);
	ck_assert(out.group_created);
	ck_assert_str_eq(out.passwd, STD_PASSWD "app:x:999:999::/home/app:/usr/sbin/nologin\n");
	ck_assert_uint_eq(out.passwd_len, strlen(out.passwd));
	ck_assert_str_eq(out.group, STD_GROUP "app:x:999:\n");
	ck_assert_uint_eq(out.group_len, strlen(out.group));
	ck_assert_str_eq(out.home, "/home/app");
	ou_accounts_out_release(&out);
}
END_TEST

START_TEST(test_gid_counts_group_lines_and_uid_counts_passwd_lines)
{
	/* C06 (a) */
	struct base b = {.passwd = STD_PASSWD "systemd-network:x:999:999::/:/usr/sbin/nologin\n",
	                 .group = STD_GROUP "systemd-journal:x:998:\nsystemd-network:x:999:\n"};
	struct ou_accounts_req req = request("app", "/home/app");
	struct ou_accounts_out out = {0};

	apply_ok(&b, &req, &out);
	ck_assert_uint_eq(out.gid, 997);
	ck_assert_uint_eq(out.uid, 998);
	ck_assert_ends_with(out.passwd, out.passwd_len,
	                    "/:/usr/sbin/nologin\napp:x:998:997::/home/app:/usr/sbin/nologin\n");
	ck_assert_ends_with(out.group, out.group_len, "systemd-network:x:999:\napp:x:997:\n");
	ou_accounts_out_release(&out);
}
END_TEST

#define C06A_PASSWD STD_PASSWD "systemd-network:x:999:999::/:/usr/sbin/nologin\n"
#define C06A_GROUP STD_GROUP "systemd-journal:x:998:\nsystemd-network:x:999:\n"
#define C06B_DEFS                                                                                  \
	"# system accounts\nSYS_UID_MIN 500\nSYS_UID_MAX 600\nSYS_GID_MIN 500\nSYS_GID_MAX 600\n"

START_TEST(test_login_defs_range_starts_at_its_top_when_unused)
{
	/* C06 (b) */
	struct base b = {.passwd = C06A_PASSWD, .group = C06A_GROUP, .login_defs = C06B_DEFS};
	struct ou_accounts_req req = request("app", "/home/app");
	struct ou_accounts_out out = {0};

	apply_ok(&b, &req, &out);
	ck_assert_uint_eq(out.uid, 600);
	ck_assert_uint_eq(out.gid, 600);
	ou_accounts_out_release(&out);
}
END_TEST

START_TEST(test_search_wraps_to_the_top_once_at_the_bottom)
{
	/* C06 (b2) */
	struct base b = {.passwd = C06A_PASSWD "lo:x:500:500::/:/usr/sbin/nologin\n",
	                 .group = C06A_GROUP "lo:x:500:\n",
	                 .login_defs = C06B_DEFS};
	struct ou_accounts_req req = request("app", "/home/app");
	struct ou_accounts_out out = {0};

	apply_ok(&b, &req, &out);
	ck_assert_uint_eq(out.uid, 600);
	ck_assert_uint_eq(out.gid, 600);
	ck_assert_ends_with(out.passwd, out.passwd_len,
	                    "app:x:600:600::/home/app:/usr/sbin/nologin\n");
	ou_accounts_out_release(&out);
}
END_TEST

START_TEST(test_wrapped_search_finds_a_gap_below_the_top)
{
	struct base b = {.passwd = STD_PASSWD "a:x:500:0::/:/bin/sh\nb:x:600:0::/:/bin/sh\n"
	                                      "c:x:599:0::/:/bin/sh\n",
	                 .group = STD_GROUP,
	                 .login_defs = C06B_DEFS};
	struct ou_accounts_req req = request("app", "/home/app");
	struct ou_accounts_out out = {0};

	apply_ok(&b, &req, &out);
	ck_assert_uint_eq(out.uid, 598);
	ou_accounts_out_release(&out);
}
END_TEST

START_TEST(test_no_free_uid_is_an_error)
{
	/* C06 (b3) */
	struct base b = {.passwd = STD_PASSWD "a:x:500:0::/:/bin/sh\nb:x:501:0::/:/bin/sh\n",
	                 .group = STD_GROUP,
	                 .login_defs = "SYS_UID_MIN 500\nSYS_UID_MAX 501\n"};
	struct ou_accounts_req req = request("app", "/home/app");
	_cleanup_free_ char *msg = apply_fails(&b, &req, ERANGE);

	ck_assert_contains(msg, "spec.ini:10: ");
	ck_assert_contains(msg, "no free uid for user 'app'");
	ck_assert_contains(msg, "500..501");
}
END_TEST

START_TEST(test_no_free_gid_is_an_error_at_the_group_line)
{
	struct base b = {.passwd = STD_PASSWD,
	                 .group = STD_GROUP "a:x:500:\n",
	                 .login_defs = "SYS_GID_MIN 500\nSYS_GID_MAX 500\n"};
	struct ou_accounts_req req = request("app", "/home/app");
	_cleanup_free_ char *msg = NULL;

	req.group = "appgroup";
	req.group_line = 11;
	msg = apply_fails(&b, &req, ERANGE);
	ck_assert_str_eq(msg, "spec.ini:11: no free gid for group 'appgroup' in the system range "
	                      "500..500");
}
END_TEST

START_TEST(test_default_range_wraps_from_101_to_999)
{
	struct base b = {.passwd = STD_PASSWD "low:x:101:101::/:/bin/sh\n",
	                 .group = STD_GROUP "low:x:101:\n"};
	struct ou_accounts_req req = request("app", "/home/app");
	struct ou_accounts_out out = {0};

	apply_ok(&b, &req, &out);
	ck_assert_uint_eq(out.uid, 999);
	ck_assert_uint_eq(out.gid, 999);
	ou_accounts_out_release(&out);
}
END_TEST

START_TEST(test_ids_outside_the_range_do_not_move_the_search)
{
	struct base b = {.passwd = STD_PASSWD "ubuntu:x:1000:1000::/home/ubuntu:/bin/bash\n"
	                                      "sys:x:100:100::/:/bin/sh\n",
	                 .group = STD_GROUP "ubuntu:x:1000:\n"};
	struct ou_accounts_req req = request("app", "/home/app");
	struct ou_accounts_out out = {0};

	apply_ok(&b, &req, &out);
	ck_assert_uint_eq(out.uid, 999);
	ck_assert_uint_eq(out.gid, 999);
	ou_accounts_out_release(&out);
}
END_TEST

START_TEST(test_id_65535_is_never_given)
{
	struct base b = {.passwd = "root:x:0:0:root:/root:/bin/sh\n",
	                 .group = "root:x:0:\n",
	                 .login_defs = "SYS_UID_MIN 65500\nSYS_UID_MAX 65535\n"
	                               "SYS_GID_MIN 65535\nSYS_GID_MAX 65540\n"};
	struct ou_accounts_req req = request("app", "/home/app");
	struct ou_accounts_out out = {0};

	apply_ok(&b, &req, &out);
	ck_assert_uint_eq(out.uid, 65534);
	ck_assert_uint_eq(out.gid, 65540);
	ou_accounts_out_release(&out);
}
END_TEST

START_TEST(test_id_65535_is_skipped_when_counting_down_below_a_used_id)
{
	struct base b = {.passwd = "root:x:0:0:root:/root:/bin/sh\nx:x:65536:0::/:/bin/sh\n",
	                 .group = "root:x:0:\n",
	                 .login_defs = "SYS_UID_MIN 65530\nSYS_UID_MAX 65540\n"};
	struct ou_accounts_req req = request("app", "/home/app");
	struct ou_accounts_out out = {0};

	apply_ok(&b, &req, &out);
	ck_assert_uint_eq(out.uid, 65534);
	ou_accounts_out_release(&out);
}
END_TEST

START_TEST(test_a_range_of_only_65535_has_no_free_id)
{
	struct base b = {.passwd = STD_PASSWD,
	                 .group = STD_GROUP,
	                 .login_defs = "SYS_GID_MIN 65535\nSYS_GID_MAX 65535\n"};
	struct ou_accounts_req req = request("app", "/home/app");
	_cleanup_free_ char *msg = apply_fails(&b, &req, ERANGE);

	ck_assert_contains(msg, "no free gid");
}
END_TEST

START_TEST(test_explicit_ids_are_used_as_given)
{
	/* C02 A, C04 */
	struct base b = {.passwd = STD_PASSWD, .group = STD_GROUP};
	struct ou_accounts_req req = request("app", "/home/app");
	struct ou_accounts_out out = {0};

	req.has_uid = true;
	req.uid = 10001;
	req.has_gid = true;
	req.gid = 10001;
	apply_ok(&b, &req, &out);
	ck_assert_ends_with(out.passwd, out.passwd_len,
	                    "\napp:x:10001:10001::/home/app:/usr/sbin/nologin\n");
	ck_assert_ends_with(out.group, out.group_len, "\napp:x:10001:\n");
	ou_accounts_out_release(&out);
}
END_TEST

START_TEST(test_an_odd_line_still_takes_its_id)
{
	/* a 5-field line resolves to nobody, but its uid is not given again */
	struct base b = {.passwd = STD_PASSWD "odd:x:999:999\n", .group = STD_GROUP "odd:x:999\n"};
	struct ou_accounts_req req = request("app", "/home/app");
	struct ou_accounts_out out = {0};

	apply_ok(&b, &req, &out);
	ck_assert_uint_eq(out.uid, 998);
	ck_assert_uint_eq(out.gid, 998);
	ou_accounts_out_release(&out);
}
END_TEST

/* ---- parsing and keeping the base ---- */

START_TEST(test_comments_blank_and_odd_lines_are_kept_byte_for_byte)
{
	const char *passwd = "# accounts\n"
	                     "root:x:0:0:root:/root:/bin/bash\n"
	                     "\n"
	                     "+::::::\n"
	                     "broken line without colons\n"
	                     "  spaced:x:5:5::/:/bin/sh  \n"
	                     "crlf:x:6:6::/:/bin/sh\r\n";
	const char *group = "# groups\nroot:x:0:\n\n+:::\n";
	struct base b = {.passwd = passwd, .group = group};
	struct ou_accounts_req req = request("app", "/home/app");
	struct ou_accounts_out out = {0};
	_cleanup_free_ char *want_passwd = NULL, *want_group = NULL;

	apply_ok(&b, &req, &out);
	ck_assert_int_ge(
	        asprintf(&want_passwd, "%sapp:x:999:999::/home/app:/usr/sbin/nologin\n", passwd),
	        0);
	ck_assert_int_ge(asprintf(&want_group, "%sapp:x:999:\n", group), 0);
	ck_assert_str_eq(out.passwd, want_passwd);
	ck_assert_str_eq(out.group, want_group);
	ou_accounts_out_release(&out);
}
END_TEST

START_TEST(test_a_commented_out_name_is_not_an_existing_user)
{
	struct base b = {.passwd = STD_PASSWD "#app:x:1000:1000::/home/app:/bin/sh\n",
	                 .group = STD_GROUP};
	struct ou_accounts_req req = request("app", "/home/app");
	struct ou_accounts_out out = {0};

	req.has_uid = true;
	req.uid = 1000;
	apply_ok(&b, &req, &out);
	ck_assert(out.user_created);
	ck_assert_uint_eq(out.uid, 1000);
	ou_accounts_out_release(&out);
}
END_TEST

START_TEST(test_leading_blanks_do_not_hide_an_existing_user)
{
	struct base b = {.passwd = STD_PASSWD "  svc:x:900:900::/srv:/bin/sh\n",
	                 .group = STD_GROUP "svc:x:900:\n"};
	struct ou_accounts_req req = request("svc", "/home/svc");
	struct ou_accounts_out out = {0};

	apply_ok(&b, &req, &out);
	ck_assert(!out.user_created);
	ck_assert_uint_eq(out.uid, 900);
	ck_assert_str_eq(out.home, "/srv");
	ou_accounts_out_release(&out);
}
END_TEST

START_TEST(test_an_empty_base_file_gets_only_the_new_line)
{
	struct base b = {.passwd = "", .group = ""};
	struct ou_accounts_req req = request("app", "/home/app");
	struct ou_accounts_out out = {0};

	apply_ok(&b, &req, &out);
	ck_assert_str_eq(out.passwd, "app:x:999:999::/home/app:/usr/sbin/nologin\n");
	ck_assert_str_eq(out.group, "app:x:999:\n");
	ou_accounts_out_release(&out);
}
END_TEST

START_TEST(test_missing_final_newline_is_added_before_the_new_line)
{
	/* C06 (e), for all four files */
	struct base b = {.passwd = "root:x:0:0:root:/root:/bin/bash\n"
	                           "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin",
	                 .group = "root:x:0:\nnogroup:x:65534:",
	                 .shadow = "root:*:19000:0:99999:7:::",
	                 .gshadow = "root:*::"};
	struct ou_accounts_req req = request("app", "/home/app");
	struct ou_accounts_out out = {0};

	apply_ok(&b, &req, &out);
	ck_assert_ends_with(out.passwd, out.passwd_len,
	                    "/nonexistent:/usr/sbin/nologin\n"
	                    "app:x:999:999::/home/app:/usr/sbin/nologin\n");
	ck_assert_str_eq(out.group, "root:x:0:\nnogroup:x:65534:\napp:x:999:\n");
	ck_assert_str_eq(out.shadow, "root:*:19000:0:99999:7:::\napp:!:19675::::::\n");
	ck_assert_str_eq(out.gshadow, "root:*::\napp:!::\n");
	ou_accounts_out_release(&out);
}
END_TEST

START_TEST(test_a_nul_byte_in_an_account_file_is_refused)
{
	static const char passwd[] = "root:x:0:0:root:/root:/bin/sh\n\0evil:x:1:1::/:/bin/sh\n";
	struct ou_accounts_in in = {
	        .passwd = {passwd, sizeof(passwd) - 1, true},
	        .group = text(STD_GROUP),
	};
	struct ou_accounts_req req = request("app", "/home/app");
	struct ou_accounts_out out = {0};
	struct ou_error *err = NULL;

	ck_assert_int_lt(ou_userdb_apply(&in, &req, &out, &err), 0);
	ck_assert_int_eq(err->code, EBADMSG);
	ck_assert_contains(err->message, "'/etc/passwd'");
	ck_assert_contains(err->message, "NUL");
	ou_error_free(err);
}
END_TEST

START_TEST(test_a_nul_byte_in_gshadow_names_gshadow)
{
	static const char gshadow[] = "root:*::\0\n";
	struct ou_accounts_in in = {
	        .passwd = text(STD_PASSWD),
	        .group = text(STD_GROUP),
	        .gshadow = {gshadow, sizeof(gshadow) - 1, true},
	};
	struct ou_accounts_req req = request("app", "/home/app");
	struct ou_accounts_out out = {0};
	struct ou_error *err = NULL;

	ck_assert_int_lt(ou_userdb_apply(&in, &req, &out, &err), 0);
	ck_assert_int_eq(err->code, EBADMSG);
	ck_assert_contains(err->message, "'/etc/gshadow'");
	ou_error_free(err);
}
END_TEST

START_TEST(test_an_account_file_over_the_limit_is_refused)
{
	size_t len = (size_t)OU_MAX_ACCOUNT_FILE_SIZE + 1;
	_cleanup_free_ char *big = malloc(len);
	struct ou_accounts_in in = {.passwd = text(STD_PASSWD)};
	struct ou_accounts_req req = request("app", "/home/app");
	struct ou_accounts_out out = {0};
	struct ou_error *err = NULL;

	ck_assert_ptr_nonnull(big);
	memset(big, '\n', len);
	in.group = (struct ou_account_text){big, len, true};
	ck_assert_int_lt(ou_userdb_apply(&in, &req, &out, &err), 0);
	ck_assert_int_eq(err->code, EFBIG);
	ck_assert_contains(err->message, "'/etc/group'");
	ou_error_free(err);
}
END_TEST

/* ---- created files ---- */

START_TEST(test_missing_passwd_and_group_are_created_with_root_first)
{
	/* C03 (a) */
	struct base b = {0};
	struct ou_accounts_req req = request("app", "/home/app");
	struct ou_accounts_out out = {0};

	apply_ok(&b, &req, &out);
	ck_assert_str_eq(out.passwd, "root:x:0:0:root:/root:/bin/sh\n"
	                             "app:x:999:999::/home/app:/usr/sbin/nologin\n");
	ck_assert_str_eq(out.group, "root:x:0:\napp:x:999:\n");
	ck_assert_ptr_null(out.shadow);
	ck_assert_ptr_null(out.gshadow);
	ou_accounts_out_release(&out);
}
END_TEST

START_TEST(test_missing_passwd_alone_is_created_and_group_appended)
{
	/* C03 (b) */
	struct base b = {.group = "root:x:0:\nolduser:x:1200:\n"};
	struct ou_accounts_req req = request("app", "/home/app");
	struct ou_accounts_out out = {0};

	req.has_uid = true;
	req.uid = 1200;
	apply_ok(&b, &req, &out);
	ck_assert_str_eq(out.passwd, "root:x:0:0:root:/root:/bin/sh\n"
	                             "app:x:1200:999::/home/app:/usr/sbin/nologin\n");
	ck_assert_str_eq(out.group, "root:x:0:\nolduser:x:1200:\napp:x:999:\n");
	ou_accounts_out_release(&out);
}
END_TEST

START_TEST(test_root_group_is_refused_even_when_the_base_lacks_a_group_file)
{
	/* the created file's root line is gid 0 like any base's */
	struct base b = {.passwd = STD_PASSWD};
	struct ou_accounts_req req = request("app", "/home/app");
	_cleanup_free_ char *msg = NULL;

	req.group = "root";
	msg = apply_fails(&b, &req, EINVAL);
	ck_assert_contains(msg, "group 'root' is refused: it is gid 0");
}
END_TEST

/* ---- shadow and gshadow ---- */

START_TEST(test_shadow_and_gshadow_get_locked_lines)
{
	/* C04 */
	struct base b = {.passwd = STD_PASSWD,
	                 .group = "root:x:0:\ndaemon:x:1:\nshadow:x:42:\nnogroup:x:65534:\n",
	                 .shadow = "root:*:19000:0:99999:7:::\n",
	                 .gshadow = "root:*::\nshadow:*::\n"};
	struct ou_accounts_req req = request("app", "/home/app");
	struct ou_accounts_out out = {0};

	req.has_uid = true;
	req.uid = 10001;
	req.has_gid = true;
	req.gid = 10001;
	req.shell = "/bin/sh";
	apply_ok(&b, &req, &out);
	ck_assert_str_eq(out.shadow, "root:*:19000:0:99999:7:::\napp:!:19675::::::\n");
	ck_assert_uint_eq(out.shadow_len, strlen(out.shadow));
	ck_assert_str_eq(out.gshadow, "root:*::\nshadow:*::\napp:!::\n");
	ck_assert_uint_eq(out.gshadow_len, strlen(out.gshadow));
	ck_assert_ends_with(out.passwd, out.passwd_len, "\napp:x:10001:10001::/home/app:/bin/sh\n");
	ck_assert_ends_with(out.group, out.group_len, "\napp:x:10001:\n");
	ou_accounts_out_release(&out);
}
END_TEST

START_TEST(test_shadow_days_follow_the_request)
{
	struct base b = {
	        .passwd = STD_PASSWD, .group = STD_GROUP, .shadow = "root:*:19000:0:99999:7:::\n"};
	struct ou_accounts_req req = request("app", "/home/app");
	struct ou_accounts_out out = {0};

	req.days = 18518;
	apply_ok(&b, &req, &out);
	ck_assert_ends_with(out.shadow, out.shadow_len, "\napp:!:18518::::::\n");
	ck_assert_ptr_null(out.gshadow);
	ou_accounts_out_release(&out);
}
END_TEST

START_TEST(test_no_shadow_in_the_base_means_none_written)
{
	struct base b = {.passwd = STD_PASSWD, .group = STD_GROUP};
	struct ou_accounts_req req = request("app", "/home/app");
	struct ou_accounts_out out = {0};

	apply_ok(&b, &req, &out);
	ck_assert_ptr_null(out.shadow);
	ck_assert_uint_eq(out.shadow_len, 0);
	ck_assert_ptr_null(out.gshadow);
	ou_accounts_out_release(&out);
}
END_TEST

START_TEST(test_a_new_user_with_a_stale_shadow_line_is_refused)
{
	struct base b = {.passwd = STD_PASSWD,
	                 .group = STD_GROUP,
	                 .shadow = "root:*:19000:0:99999:7:::\napp:$6$hash:1:::::\n"};
	struct ou_accounts_req req = request("app", "/home/app");
	_cleanup_free_ char *msg = apply_fails(&b, &req, EEXIST);

	ck_assert_contains(msg, "user 'app'");
	ck_assert_contains(msg, "'/etc/shadow'");
}
END_TEST

START_TEST(test_a_new_group_with_a_stale_gshadow_line_is_refused)
{
	struct base b = {
	        .passwd = STD_PASSWD, .group = STD_GROUP, .gshadow = "root:*::\napp:$6$hash::\n"};
	struct ou_accounts_req req = request("app", "/home/app");
	_cleanup_free_ char *msg = apply_fails(&b, &req, EEXIST);

	ck_assert_contains(msg, "group 'app'");
	ck_assert_contains(msg, "'/etc/gshadow'");
}
END_TEST

/* ---- reuse ---- */

#define UBUNTU_PASSWD STD_PASSWD "ubuntu:x:1000:1000:Ubuntu:/home/ubuntu:/bin/bash\n"
#define UBUNTU_GROUP STD_GROUP "ubuntu:x:1000:\n"

START_TEST(test_an_existing_user_with_the_same_uid_is_reused_as_is)
{
	/* C06 (c) */
	struct base b = {.passwd = UBUNTU_PASSWD,
	                 .group = UBUNTU_GROUP,
	                 .shadow = "root:*:1:::::\n",
	                 .gshadow = "root:*::\n"};
	struct ou_accounts_req req = request("ubuntu", "/home/other");
	struct ou_accounts_out out = {0};

	req.has_uid = true;
	req.uid = 1000;
	apply_ok(&b, &req, &out);
	ck_assert(!out.user_created);
	ck_assert(!out.group_created);
	ck_assert_uint_eq(out.uid, 1000);
	ck_assert_uint_eq(out.gid, 1000);
	ck_assert_str_eq(out.home, "/home/ubuntu");
	ck_assert_ptr_null(out.passwd);
	ck_assert_ptr_null(out.group);
	ck_assert_ptr_null(out.shadow);
	ck_assert_ptr_null(out.gshadow);
	ou_accounts_out_release(&out);
}
END_TEST

START_TEST(test_an_existing_user_without_uid_in_the_spec_is_reused)
{
	struct base b = {.passwd = UBUNTU_PASSWD, .group = UBUNTU_GROUP};
	struct ou_accounts_req req = request("ubuntu", "/home/ubuntu");
	struct ou_accounts_out out = {0};

	apply_ok(&b, &req, &out);
	ck_assert(!out.user_created);
	ck_assert_uint_eq(out.uid, 1000);
	ck_assert_ptr_null(out.passwd);
	ou_accounts_out_release(&out);
}
END_TEST

START_TEST(test_an_existing_group_is_reused_as_primary_group)
{
	/* C06 (d) */
	struct base b = {.passwd = STD_PASSWD, .group = STD_GROUP "docker:x:998:\n"};
	struct ou_accounts_req req = request("app", "/home/app");
	struct ou_accounts_out out = {0};

	req.group = "docker";
	apply_ok(&b, &req, &out);
	ck_assert(out.user_created);
	ck_assert(!out.group_created);
	ck_assert_uint_eq(out.uid, 999);
	ck_assert_uint_eq(out.gid, 998);
	ck_assert_ptr_null(out.group);
	ck_assert_str_eq(out.passwd, STD_PASSWD "app:x:999:998::/home/app:/usr/sbin/nologin\n");
	ou_accounts_out_release(&out);
}
END_TEST

START_TEST(test_an_existing_user_gets_a_group_line_for_its_own_gid)
{
	/* no group line for gid 900 (C09's "no group line" class): the new group takes it */
	struct base b = {.passwd = STD_PASSWD "svc:x:900:900::/srv:/bin/sh\n", .group = STD_GROUP};
	struct ou_accounts_req req = request("svc", "/home/svc");
	struct ou_accounts_out out = {0};

	apply_ok(&b, &req, &out);
	ck_assert(!out.user_created);
	ck_assert(out.group_created);
	ck_assert_uint_eq(out.gid, 900);
	ck_assert_ptr_null(out.passwd);
	ck_assert_str_eq(out.group, STD_GROUP "svc:x:900:\n");
	ou_accounts_out_release(&out);
}
END_TEST

/* ---- conflicts ---- */

START_TEST(test_explicit_uid_taken_by_another_user_names_both)
{
	/* C06 (c) */
	struct base b = {.passwd = UBUNTU_PASSWD, .group = UBUNTU_GROUP};
	struct ou_accounts_req req = request("app", "/home/app");
	_cleanup_free_ char *msg = NULL;

	req.has_uid = true;
	req.uid = 1000;
	req.uid_line = 12;
	msg = apply_fails(&b, &req, EEXIST);
	ck_assert_str_eq(msg, "spec.ini:12: uid 1000 for user 'app' is already taken by user "
	                      "'ubuntu'");
}
END_TEST

START_TEST(test_existing_user_with_another_uid_names_both_ids)
{
	/* C06 (c) */
	struct base b = {.passwd = UBUNTU_PASSWD, .group = UBUNTU_GROUP};
	struct ou_accounts_req req = request("ubuntu", "/home/ubuntu");
	_cleanup_free_ char *msg = NULL;

	req.has_uid = true;
	req.uid = 1001;
	req.uid_line = 12;
	msg = apply_fails(&b, &req, EEXIST);
	ck_assert_str_eq(msg, "spec.ini:12: user 'ubuntu' exists with uid 1000, not 1001");
}
END_TEST

START_TEST(test_existing_group_with_another_gid_names_both_ids)
{
	/* C06 (d) */
	struct base b = {.passwd = STD_PASSWD, .group = STD_GROUP "docker:x:998:\n"};
	struct ou_accounts_req req = request("app", "/home/app");
	_cleanup_free_ char *msg = NULL;

	req.group = "docker";
	req.group_line = 11;
	req.has_gid = true;
	req.gid = 1234;
	req.gid_line = 13;
	msg = apply_fails(&b, &req, EEXIST);
	ck_assert_str_eq(msg, "spec.ini:13: group 'docker' exists with gid 998, not 1234");
}
END_TEST

START_TEST(test_explicit_gid_taken_by_another_group_names_both)
{
	struct base b = {.passwd = STD_PASSWD, .group = STD_GROUP};
	struct ou_accounts_req req = request("app", "/home/app");
	_cleanup_free_ char *msg = NULL;

	req.has_gid = true;
	req.gid = 65534;
	msg = apply_fails(&b, &req, EEXIST);
	ck_assert_str_eq(msg, "spec.ini:10: gid 65534 for group 'app' is already taken by group "
	                      "'nogroup'");
}
END_TEST

START_TEST(test_existing_user_with_another_primary_group_names_both)
{
	struct base b = {.passwd = UBUNTU_PASSWD, .group = UBUNTU_GROUP "docker:x:998:\n"};
	struct ou_accounts_req req = request("ubuntu", "/home/ubuntu");
	_cleanup_free_ char *msg = NULL;

	req.group = "docker";
	req.group_line = 11;
	msg = apply_fails(&b, &req, EEXIST);
	ck_assert_str_eq(msg, "spec.ini:11: user 'ubuntu' exists with primary gid 1000, not gid "
	                      "998 of group 'docker'");
}
END_TEST

START_TEST(test_existing_user_and_a_new_group_on_a_taken_gid_conflict)
{
	/* ubuntu's gid 1000 belongs to group 'ubuntu', so a new 'staff' cannot be primary */
	struct base b = {.passwd = UBUNTU_PASSWD, .group = UBUNTU_GROUP};
	struct ou_accounts_req req = request("ubuntu", "/home/ubuntu");
	_cleanup_free_ char *msg = NULL;

	req.group = "staff";
	msg = apply_fails(&b, &req, EEXIST);
	ck_assert_contains(msg, "'ubuntu'");
	ck_assert_contains(msg, "'staff'");
	ck_assert_contains(msg, "1000");
}
END_TEST

START_TEST(test_a_name_that_is_uid_0_in_the_base_is_refused)
{
	struct base b = {.passwd = STD_PASSWD "toor:x:0:0::/root:/bin/sh\n", .group = STD_GROUP};
	struct ou_accounts_req req = request("toor", "/home/toor");
	_cleanup_free_ char *msg = apply_fails(&b, &req, EINVAL);

	ck_assert_str_eq(msg, "spec.ini:10: user 'toor' is refused: it is uid 0 in the base");
}
END_TEST

START_TEST(test_a_primary_group_that_is_gid_0_in_the_base_is_refused)
{
	/* root's group by its name, and another name for gid 0 */
	const char *names[] = {"root", "wheel"};

	for (size_t i = 0; i < 2; i++) {
		struct base b = {.passwd = STD_PASSWD, .group = STD_GROUP "wheel:x:0:\n"};
		struct ou_accounts_req req = request("app", "/home/app");
		_cleanup_free_ char *msg = NULL, *want = NULL;

		req.group = names[i];
		req.group_line = 11;
		msg = apply_fails(&b, &req, EINVAL);
		want = xasprintf("spec.ini:11: group '%s' is refused: it is gid 0 in the base", names[i]);
		ck_assert_msg(strncmp(msg, want, strlen(want)) == 0, "got '%s'", msg);
	}
}
END_TEST

START_TEST(test_a_supplementary_group_that_is_gid_0_is_refused)
{
	struct base b = {.passwd = STD_PASSWD, .group = STD_GROUP "audio:x:29:\nwheel:x:0:\n"};
	struct ou_accounts_req req = request("app", "/home/app");
	const char *groups[] = {"audio", "wheel"};
	const unsigned lines[] = {14, 15};
	_cleanup_free_ char *msg = NULL;

	req.groups = groups;
	req.groups_line = lines;
	req.n_groups = 2;
	msg = apply_fails(&b, &req, EINVAL);
	ck_assert_str_eq(msg, "spec.ini:15: supplementary group 'wheel' of user 'app' is refused: "
	                      "it is gid 0 in the base (root's group)");
}
END_TEST

START_TEST(test_root_is_refused_even_when_the_base_lacks_it)
{
	struct base b = {.passwd = "", .group = ""};
	struct ou_accounts_req req = request("root", "/root");
	_cleanup_free_ char *msg = apply_fails(&b, &req, EINVAL);

	ck_assert_contains(msg, "'root'");
}
END_TEST

START_TEST(test_explicit_uid_0_is_refused)
{
	struct base b = {.passwd = "", .group = ""};
	struct ou_accounts_req req = request("app", "/home/app");
	_cleanup_free_ char *msg = NULL;

	req.has_uid = true;
	req.uid = 0;
	msg = apply_fails(&b, &req, EINVAL);
	ck_assert_contains(msg, "uid 0");
}
END_TEST

START_TEST(test_uid_above_the_spec_range_is_refused)
{
	struct base b = {.passwd = STD_PASSWD, .group = STD_GROUP};
	struct ou_accounts_req req = request("app", "/home/app");
	_cleanup_free_ char *msg = NULL;

	req.has_uid = true;
	req.uid = OU_MAX_ID + 1;
	msg = apply_fails(&b, &req, ERANGE);
	ck_assert_contains(msg, "2147483647");
}
END_TEST

/* ---- supplementary groups ---- */

#define C09_GROUP "root:x:0:\ndaemon:x:1:\naudio:x:29:\nvideo:x:44:alice\nnogroup:x:65534:\n"

START_TEST(test_supplementary_groups_list_the_user_as_member)
{
	/* C09 B */
	struct base b = {.passwd = STD_PASSWD, .group = C09_GROUP};
	struct ou_accounts_req req = request("app", "/home/app");
	const char *groups[] = {"video", "audio"};
	const unsigned lines[] = {14, 15};
	struct ou_accounts_out out = {0};

	req.has_uid = true;
	req.uid = 10001;
	req.has_gid = true;
	req.gid = 10001;
	req.groups = groups;
	req.groups_line = lines;
	req.n_groups = 2;
	apply_ok(&b, &req, &out);
	ck_assert_str_eq(out.group, "root:x:0:\n"
	                            "daemon:x:1:\n"
	                            "audio:x:29:app\n"
	                            "video:x:44:alice,app\n"
	                            "nogroup:x:65534:\n"
	                            "app:x:10001:\n");
	ou_accounts_out_release(&out);
}
END_TEST

START_TEST(test_an_existing_member_is_not_added_twice)
{
	struct base b = {.passwd = STD_PASSWD, .group = C09_GROUP};
	struct ou_accounts_req req = request("alice", "/home/alice");
	const char *groups[] = {"video", "video"};
	struct ou_accounts_out out = {0};

	req.groups = groups;
	req.n_groups = 2;
	apply_ok(&b, &req, &out);
	ck_assert_str_eq(out.group, C09_GROUP "alice:x:999:\n");
	ou_accounts_out_release(&out);
}
END_TEST

START_TEST(test_a_reused_user_already_in_its_groups_changes_nothing)
{
	struct base b = {.passwd = UBUNTU_PASSWD, .group = UBUNTU_GROUP "sudo:x:27:ubuntu\n"};
	struct ou_accounts_req req = request("ubuntu", "/home/ubuntu");
	const char *groups[] = {"sudo"};
	struct ou_accounts_out out = {0};

	req.groups = groups;
	req.n_groups = 1;
	apply_ok(&b, &req, &out);
	ck_assert_ptr_null(out.passwd);
	ck_assert_ptr_null(out.group);
	ou_accounts_out_release(&out);
}
END_TEST

START_TEST(test_a_reused_user_added_to_a_group_changes_only_group)
{
	struct base b = {.passwd = UBUNTU_PASSWD, .group = UBUNTU_GROUP "sudo:x:27:\n"};
	struct ou_accounts_req req = request("ubuntu", "/home/ubuntu");
	const char *groups[] = {"sudo"};
	struct ou_accounts_out out = {0};

	req.groups = groups;
	req.n_groups = 1;
	apply_ok(&b, &req, &out);
	ck_assert_ptr_null(out.passwd);
	ck_assert_str_eq(out.group, UBUNTU_GROUP "sudo:x:27:ubuntu\n");
	ou_accounts_out_release(&out);
}
END_TEST

START_TEST(test_a_member_list_matches_whole_names_only)
{
	struct base b = {.passwd = STD_PASSWD, .group = "root:x:0:\nvideo:x:44:apple,xapp\n"};
	struct ou_accounts_req req = request("app", "/home/app");
	const char *groups[] = {"video"};
	struct ou_accounts_out out = {0};

	req.groups = groups;
	req.n_groups = 1;
	apply_ok(&b, &req, &out);
	ck_assert_str_eq(out.group, "root:x:0:\nvideo:x:44:apple,xapp,app\napp:x:999:\n");
	ou_accounts_out_release(&out);
}
END_TEST

START_TEST(test_a_changed_group_line_gets_exactly_four_fields)
{
	struct base b = {.passwd = STD_PASSWD,
	                 .group = "root:x:0:\naudio:x:29\nvideo:x:44:bob:extra\n"};
	struct ou_accounts_req req = request("app", "/home/app");
	const char *groups[] = {"audio", "video"};
	struct ou_accounts_out out = {0};

	req.groups = groups;
	req.n_groups = 2;
	apply_ok(&b, &req, &out);
	ck_assert_str_eq(out.group, "root:x:0:\naudio:x:29:app\nvideo:x:44:bob,app\napp:x:999:\n");
	ou_accounts_out_release(&out);
}
END_TEST

START_TEST(test_a_changed_last_line_without_newline_keeps_the_file_well_formed)
{
	struct base b = {.passwd = STD_PASSWD, .group = "root:x:0:\nvideo:x:44:"};
	struct ou_accounts_req req = request("app", "/home/app");
	const char *groups[] = {"video"};
	struct ou_accounts_out out = {0};

	req.groups = groups;
	req.n_groups = 1;
	apply_ok(&b, &req, &out);
	ck_assert_str_eq(out.group, "root:x:0:\nvideo:x:44:app\napp:x:999:\n");
	ou_accounts_out_release(&out);
}
END_TEST

START_TEST(test_a_crlf_group_line_keeps_its_cr_last)
{
	struct base b = {.passwd = STD_PASSWD, .group = "root:x:0:\r\nvideo:x:44:bob\r\n"};
	struct ou_accounts_req req = request("app", "/home/app");
	const char *groups[] = {"video"};
	struct ou_accounts_out out = {0};

	req.groups = groups;
	req.n_groups = 1;
	apply_ok(&b, &req, &out);
	ck_assert_str_eq(out.group, "root:x:0:\r\nvideo:x:44:bob,app\r\napp:x:999:\n");
	ou_accounts_out_release(&out);
}
END_TEST

START_TEST(test_gshadow_member_lists_are_updated_too)
{
	/* C09 E */
	struct base b = {.passwd = STD_PASSWD,
	                 .group = C09_GROUP,
	                 .gshadow = "audio:*::\nvideo:*:adm:alice\n"};
	struct ou_accounts_req req = request("app", "/home/app");
	const char *groups[] = {"video", "audio", "daemon"};
	struct ou_accounts_out out = {0};

	req.has_uid = true;
	req.uid = 10001;
	req.has_gid = true;
	req.gid = 10001;
	req.groups = groups;
	req.n_groups = 3;
	apply_ok(&b, &req, &out);
	/* daemon has no gshadow line: none is invented for it */
	ck_assert_str_eq(out.gshadow, "audio:*::app\nvideo:*:adm:alice,app\napp:!::\n");
	ou_accounts_out_release(&out);
}
END_TEST

START_TEST(test_a_missing_supplementary_group_is_named)
{
	/* C09 D */
	struct base b = {.passwd = STD_PASSWD, .group = C09_GROUP};
	struct ou_accounts_req req = request("app", "/home/app");
	const char *groups[] = {"video", "plugdev"};
	const unsigned lines[] = {14, 15};
	_cleanup_free_ char *msg = NULL;

	req.groups = groups;
	req.groups_line = lines;
	req.n_groups = 2;
	msg = apply_fails(&b, &req, ENOENT);
	ck_assert_str_eq(msg, "spec.ini:15: supplementary group 'plugdev' of user 'app' does not "
	                      "exist in the base");
}
END_TEST

START_TEST(test_the_new_primary_group_is_not_a_base_group)
{
	struct base b = {.passwd = STD_PASSWD, .group = STD_GROUP};
	struct ou_accounts_req req = request("app", "/home/app");
	const char *groups[] = {"app"};
	_cleanup_free_ char *msg = NULL;

	req.groups = groups;
	req.n_groups = 1;
	msg = apply_fails(&b, &req, ENOENT);
	ck_assert_contains(msg, "'app'");
}
END_TEST

/* ---- injection ---- */

START_TEST(test_a_user_name_with_a_colon_is_refused)
{
	struct base b = {.passwd = STD_PASSWD, .group = STD_GROUP};
	struct ou_accounts_req req = request("app:x:0:0", "/home/app");
	_cleanup_free_ char *msg = NULL;

	req.group = "app";
	msg = apply_fails(&b, &req, EINVAL);
	ck_assert_contains(msg, "spec.ini:10: user name");
}
END_TEST

START_TEST(test_a_user_name_with_a_newline_is_refused)
{
	struct base b = {.passwd = STD_PASSWD, .group = STD_GROUP};
	struct ou_accounts_req req = request("app\nevil:x:0:0::/:/bin/sh", "/home/app");
	_cleanup_free_ char *msg = NULL;

	req.group = "app";
	msg = apply_fails(&b, &req, EINVAL);
	ck_assert_ptr_null(strchr(msg, '\n'));
}
END_TEST

START_TEST(test_a_group_name_with_a_colon_is_refused)
{
	struct base b = {.passwd = STD_PASSWD, .group = STD_GROUP};
	struct ou_accounts_req req = request("app", "/home/app");
	_cleanup_free_ char *msg = NULL;

	req.group = "g:x:0:";
	req.group_line = 11;
	msg = apply_fails(&b, &req, EINVAL);
	ck_assert_contains(msg, "spec.ini:11: group name");
}
END_TEST

START_TEST(test_a_supplementary_group_with_a_comma_is_refused)
{
	struct base b = {.passwd = STD_PASSWD, .group = C09_GROUP};
	struct ou_accounts_req req = request("app", "/home/app");
	const char *groups[] = {"audio,video"};
	_cleanup_free_ char *msg = NULL;

	req.groups = groups;
	req.n_groups = 1;
	msg = apply_fails(&b, &req, EINVAL);
	ck_assert_contains(msg, "supplementary group");
}
END_TEST

START_TEST(test_a_home_with_a_colon_is_refused)
{
	struct base b = {.passwd = STD_PASSWD, .group = STD_GROUP};
	struct ou_accounts_req req = request("app", "/home/app:/bin/sh");
	_cleanup_free_ char *msg = apply_fails(&b, &req, EINVAL);

	ck_assert_contains(msg, "home");
}
END_TEST

START_TEST(test_a_shell_with_a_newline_is_refused)
{
	struct base b = {.passwd = STD_PASSWD, .group = STD_GROUP};
	struct ou_accounts_req req = request("app", "/home/app");
	_cleanup_free_ char *msg = NULL;

	req.shell = "/bin/sh\nevil:x:0:0::/:/bin/sh";
	msg = apply_fails(&b, &req, EINVAL);
	ck_assert_contains(msg, "shell");
}
END_TEST

START_TEST(test_a_relative_home_is_refused)
{
	struct base b = {.passwd = STD_PASSWD, .group = STD_GROUP};
	struct ou_accounts_req req = request("app", "home/app");
	_cleanup_free_ char *msg = apply_fails(&b, &req, EINVAL);

	ck_assert_contains(msg, "absolute");
}
END_TEST

START_TEST(test_base_names_in_messages_are_made_printable)
{
	struct base b = {.passwd = STD_PASSWD "ev\x1b[31mil:x:4242:4242::/:/bin/sh\n",
	                 .group = STD_GROUP};
	struct ou_accounts_req req = request("app", "/home/app");
	_cleanup_free_ char *msg = NULL;

	req.has_uid = true;
	req.uid = 4242;
	msg = apply_fails(&b, &req, EEXIST);
	ck_assert_contains(msg, "user 'ev?[31mil'");
}
END_TEST

START_TEST(test_a_null_group_means_the_user_name)
{
	struct base b = {.passwd = STD_PASSWD, .group = STD_GROUP};
	struct ou_accounts_req req = request("app", "/home/app");
	struct ou_accounts_out out = {0};

	req.group = NULL;
	apply_ok(&b, &req, &out);
	ck_assert_str_eq(out.group, STD_GROUP "app:x:999:\n");
	ou_accounts_out_release(&out);
}
END_TEST

START_TEST(test_a_present_empty_file_without_data_is_empty)
{
	struct ou_accounts_in in = {
	        .passwd = {NULL, 0, true},
	        .group = {NULL, 0, true},
	        .shadow = {NULL, 0, true},
	};
	struct ou_accounts_req req = request("app", "/home/app");
	struct ou_accounts_out out = {0};
	struct ou_error *err = NULL;

	ck_assert_int_eq(ou_userdb_apply(&in, &req, &out, &err), 0);
	ck_assert_str_eq(out.passwd, "app:x:999:999::/home/app:/usr/sbin/nologin\n");
	ck_assert_str_eq(out.shadow, "app:!:19675::::::\n");
	ck_assert_ptr_null(out.gshadow);
	ou_accounts_out_release(&out);
}
END_TEST

START_TEST(test_release_is_safe_twice)
{
	struct base b = {.passwd = STD_PASSWD, .group = STD_GROUP};
	struct ou_accounts_req req = request("app", "/home/app");
	struct ou_accounts_out out = {0};

	apply_ok(&b, &req, &out);
	ou_accounts_out_release(&out);
	ou_accounts_out_release(&out);
	ou_accounts_out_release(NULL);
	ck_assert_ptr_null(out.passwd);
}
END_TEST

static Suite *userdb_suite(void)
{
	Suite *s = suite_create("userdb");
	TCase *tc;

	tc = tcase_create("login.defs");
	tcase_add_test(tc, test_login_defs_absent_gives_101_to_999);
	tcase_add_test(tc, test_login_defs_reads_sys_ranges_and_skips_comments);
	tcase_add_test(tc, test_login_defs_uid_min_sets_the_default_sys_max);
	tcase_add_test(tc, test_login_defs_ignores_a_malformed_number_as_shadow_does);
	tcase_add_test(tc, test_login_defs_last_line_of_a_key_wins);
	tcase_add_test(tc, test_login_defs_empty_range_is_a_broken_base);
	suite_add_tcase(s, tc);

	tc = tcase_create("allocation");
	tcase_add_test(tc, test_standard_base_gives_uid_and_gid_999);
	tcase_add_test(tc, test_gid_counts_group_lines_and_uid_counts_passwd_lines);
	tcase_add_test(tc, test_login_defs_range_starts_at_its_top_when_unused);
	tcase_add_test(tc, test_search_wraps_to_the_top_once_at_the_bottom);
	tcase_add_test(tc, test_wrapped_search_finds_a_gap_below_the_top);
	tcase_add_test(tc, test_no_free_uid_is_an_error);
	tcase_add_test(tc, test_no_free_gid_is_an_error_at_the_group_line);
	tcase_add_test(tc, test_default_range_wraps_from_101_to_999);
	tcase_add_test(tc, test_ids_outside_the_range_do_not_move_the_search);
	tcase_add_test(tc, test_id_65535_is_never_given);
	tcase_add_test(tc, test_id_65535_is_skipped_when_counting_down_below_a_used_id);
	tcase_add_test(tc, test_a_range_of_only_65535_has_no_free_id);
	tcase_add_test(tc, test_explicit_ids_are_used_as_given);
	tcase_add_test(tc, test_an_odd_line_still_takes_its_id);
	suite_add_tcase(s, tc);

	tc = tcase_create("base files");
	/* the over-limit test builds a 16 MiB buffer; slow under valgrind */
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_comments_blank_and_odd_lines_are_kept_byte_for_byte);
	tcase_add_test(tc, test_a_commented_out_name_is_not_an_existing_user);
	tcase_add_test(tc, test_leading_blanks_do_not_hide_an_existing_user);
	tcase_add_test(tc, test_an_empty_base_file_gets_only_the_new_line);
	tcase_add_test(tc, test_missing_final_newline_is_added_before_the_new_line);
	tcase_add_test(tc, test_a_nul_byte_in_an_account_file_is_refused);
	tcase_add_test(tc, test_a_nul_byte_in_gshadow_names_gshadow);
	tcase_add_test(tc, test_an_account_file_over_the_limit_is_refused);
	tcase_add_test(tc, test_missing_passwd_and_group_are_created_with_root_first);
	tcase_add_test(tc, test_missing_passwd_alone_is_created_and_group_appended);
	tcase_add_test(tc, test_root_group_is_refused_even_when_the_base_lacks_a_group_file);
	suite_add_tcase(s, tc);

	tc = tcase_create("shadow");
	tcase_add_test(tc, test_shadow_and_gshadow_get_locked_lines);
	tcase_add_test(tc, test_shadow_days_follow_the_request);
	tcase_add_test(tc, test_no_shadow_in_the_base_means_none_written);
	tcase_add_test(tc, test_a_new_user_with_a_stale_shadow_line_is_refused);
	tcase_add_test(tc, test_a_new_group_with_a_stale_gshadow_line_is_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("reuse and conflicts");
	tcase_add_test(tc, test_an_existing_user_with_the_same_uid_is_reused_as_is);
	tcase_add_test(tc, test_an_existing_user_without_uid_in_the_spec_is_reused);
	tcase_add_test(tc, test_an_existing_group_is_reused_as_primary_group);
	tcase_add_test(tc, test_an_existing_user_gets_a_group_line_for_its_own_gid);
	tcase_add_test(tc, test_explicit_uid_taken_by_another_user_names_both);
	tcase_add_test(tc, test_existing_user_with_another_uid_names_both_ids);
	tcase_add_test(tc, test_existing_group_with_another_gid_names_both_ids);
	tcase_add_test(tc, test_explicit_gid_taken_by_another_group_names_both);
	tcase_add_test(tc, test_existing_user_with_another_primary_group_names_both);
	tcase_add_test(tc, test_existing_user_and_a_new_group_on_a_taken_gid_conflict);
	tcase_add_test(tc, test_a_name_that_is_uid_0_in_the_base_is_refused);
	tcase_add_test(tc, test_a_primary_group_that_is_gid_0_in_the_base_is_refused);
	tcase_add_test(tc, test_a_supplementary_group_that_is_gid_0_is_refused);
	tcase_add_test(tc, test_root_is_refused_even_when_the_base_lacks_it);
	tcase_add_test(tc, test_explicit_uid_0_is_refused);
	tcase_add_test(tc, test_uid_above_the_spec_range_is_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("supplementary groups");
	tcase_add_test(tc, test_supplementary_groups_list_the_user_as_member);
	tcase_add_test(tc, test_an_existing_member_is_not_added_twice);
	tcase_add_test(tc, test_a_reused_user_already_in_its_groups_changes_nothing);
	tcase_add_test(tc, test_a_reused_user_added_to_a_group_changes_only_group);
	tcase_add_test(tc, test_a_member_list_matches_whole_names_only);
	tcase_add_test(tc, test_a_changed_group_line_gets_exactly_four_fields);
	tcase_add_test(tc, test_a_changed_last_line_without_newline_keeps_the_file_well_formed);
	tcase_add_test(tc, test_a_crlf_group_line_keeps_its_cr_last);
	tcase_add_test(tc, test_gshadow_member_lists_are_updated_too);
	tcase_add_test(tc, test_a_missing_supplementary_group_is_named);
	tcase_add_test(tc, test_the_new_primary_group_is_not_a_base_group);
	suite_add_tcase(s, tc);

	tc = tcase_create("injection");
	tcase_add_test(tc, test_a_user_name_with_a_colon_is_refused);
	tcase_add_test(tc, test_a_user_name_with_a_newline_is_refused);
	tcase_add_test(tc, test_a_group_name_with_a_colon_is_refused);
	tcase_add_test(tc, test_a_supplementary_group_with_a_comma_is_refused);
	tcase_add_test(tc, test_a_home_with_a_colon_is_refused);
	tcase_add_test(tc, test_a_shell_with_a_newline_is_refused);
	tcase_add_test(tc, test_a_relative_home_is_refused);
	tcase_add_test(tc, test_base_names_in_messages_are_made_printable);
	tcase_add_test(tc, test_a_null_group_means_the_user_name);
	tcase_add_test(tc, test_a_present_empty_file_without_data_is_empty);
	tcase_add_test(tc, test_release_is_safe_twice);
	suite_add_tcase(s, tc);

	return s;
}

OU_CHECK_MAIN(userdb_suite)
