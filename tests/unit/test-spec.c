/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ou-check.h"
#include "ociuser/spec.h"
#include "ociuser/strbuf.h"
#include "ociuser/xalloc.h"

/* Lines 1-2 are [image] base, then X, then [user] name. */
#define IMG(x) "[image]\nbase = base.tar\n" x "[user]\nname = app\n"
/* Lines 1-4 are the minimal spec; X starts at line 5. */
#define MIN "[image]\nbase = base.tar\n[user]\nname = app\n"
#define USR(x) MIN x
/* X starts at line 6. */
#define FILES(x) MIN "[files]\n" x
#define SENS(x) MIN "[sensitive]\n" x

static struct ou_spec *parse_path_len(const char *path, const char *text, size_t len)
{
	struct ou_error *err = NULL;
	struct ou_spec *spec = NULL;
	int r = ou_spec_parse(path, text, len, &spec, &err);

	ck_assert_msg(r == 0, "unexpected error: %s", err ? err->message : "(none)");
	ck_assert_ptr_nonnull(spec);
	return spec;
}

static struct ou_spec *parse_path(const char *path, const char *text)
{
	return parse_path_len(path, text, strlen(text));
}

static struct ou_spec *parse(const char *text)
{
	return parse_path("spec.ini", text);
}

/* Returns the error message (caller frees); asserts EINVAL and no spec. */
static char *parse_error_len(const char *text, size_t len)
{
	struct ou_error *err = NULL;
	struct ou_spec *spec = NULL;
	char *msg;

	ck_assert_int_lt(ou_spec_parse("spec.ini", text, len, &spec, &err), 0);
	ck_assert_ptr_null(spec);
	ck_assert_ptr_nonnull(err);
	ck_assert_int_eq(err->code, EINVAL);
	msg = xstrdup(err->message);
	ou_error_free(err);
	return msg;
}

static char *parse_error(const char *text)
{
	return parse_error_len(text, strlen(text));
}

/* The message starts with @prefix (such as "spec.ini:5: ") and holds @part. */
static void assert_error(const char *text, const char *prefix, const char *part)
{
	_cleanup_free_ char *msg = parse_error(text);

	ck_assert_msg(strncmp(msg, prefix, strlen(prefix)) == 0, "'%s' does not start with '%s'",
	              msg, prefix);
	ck_assert_msg(strstr(msg, part), "'%s' does not hold '%s'", msg, part);
}

static void assert_error_exact(const char *text, const char *expected)
{
	_cleanup_free_ char *msg = parse_error(text);

	ck_assert_str_eq(msg, expected);
}

/* ---- syntax ---- */

START_TEST(test_minimal_spec_gets_the_contract_defaults)
{
	_cleanup_(ou_spec_freep) struct ou_spec *s = parse(MIN);

	ck_assert_str_eq(s->base.str, "base.tar");
	ck_assert_uint_eq(s->base.line, 2);
	ck_assert(!s->base_is_oci);
	ck_assert_str_eq(s->tag.str, "latest");
	ck_assert_uint_eq(s->tag.line, 0);
	ck_assert_str_eq(s->user.str, "app");
	ck_assert_uint_eq(s->user.line, 4);
	ck_assert_str_eq(s->group.str, "app");
	ck_assert_uint_eq(s->group.line, 0);
	ck_assert(!s->has_uid);
	ck_assert(!s->has_gid);
	ck_assert(s->create_home);
	ck_assert(!s->squash);
	ck_assert(!s->preserve_modes);
	ck_assert_int_eq(s->compression, OU_COMPRESSION_GZIP);
	ck_assert_int_eq(s->config_user, OU_CONFIG_USER_UID);
	ck_assert(!s->cmd.set);
	ck_assert(!s->entrypoint.set);
	ck_assert_ptr_null(s->home.str);
	ck_assert_ptr_null(s->shell.str);
	ck_assert_ptr_null(s->workdir.str);
	ck_assert_uint_eq(s->n_files + s->n_sensitive + s->n_env + s->n_expose, 0);
}
END_TEST

START_TEST(test_full_line_comments_start_with_hash_or_semicolon)
{
	_cleanup_(ou_spec_freep) struct ou_spec *s =
	        parse("# top\n; also\n[image]\n  # indented\n\t; tab\nbase = b.tar\n[user]\nname = "
	              "app\n");

	ck_assert_str_eq(s->base.str, "b.tar");
	ck_assert_uint_eq(s->base.line, 6);
}
END_TEST

START_TEST(test_crlf_line_ends_are_accepted)
{
	_cleanup_(ou_spec_freep) struct ou_spec *s =
	        parse("[image]\r\nbase = b.tar\r\n\r\n[user]\r\nname = app\r\nuid = 7\r\n");

	ck_assert_str_eq(s->base.str, "b.tar");
	ck_assert_str_eq(s->user.str, "app");
	ck_assert_uint_eq(s->uid, 7);
	ck_assert_uint_eq(s->uid_line, 6);
}
END_TEST

START_TEST(test_a_carriage_return_inside_a_line_is_an_error)
{
	assert_error(USR("uid = 1\r2\n"), "spec.ini:5: ", "carriage return");
}
END_TEST

START_TEST(test_a_final_line_without_newline_is_read)
{
	_cleanup_(ou_spec_freep) struct ou_spec *s = parse("[image]\nbase = b\n[user]\nname = app");

	ck_assert_str_eq(s->user.str, "app");
}
END_TEST

START_TEST(test_a_utf8_byte_order_mark_is_skipped)
{
	_cleanup_(ou_spec_freep) struct ou_spec *s = parse("\xef\xbb\xbf" MIN);

	ck_assert_str_eq(s->base.str, "base.tar");
}
END_TEST

START_TEST(test_whitespace_around_key_and_value_is_trimmed)
{
	_cleanup_(ou_spec_freep) struct ou_spec *s =
	        parse("[image]\nbase=b.tar\n[user]\n\t name \t=\t app  \n");

	ck_assert_str_eq(s->base.str, "b.tar");
	ck_assert_str_eq(s->user.str, "app");
}
END_TEST

START_TEST(test_section_header_may_have_inner_spaces)
{
	_cleanup_(ou_spec_freep) struct ou_spec *s =
	        parse("[ image ]\nbase = b\n  [user]  \nname = app\n");

	ck_assert_str_eq(s->user.str, "app");
}
END_TEST

START_TEST(test_indented_line_is_a_key_not_a_continuation)
{
	_cleanup_(ou_spec_freep) struct ou_spec *s = parse(IMG("cmd = run\n    workdir = /srv\n"));

	ck_assert_str_eq(s->cmd.argv[2], "run");
	ck_assert_str_eq(s->workdir.str, "/srv");
	ck_assert_uint_eq(s->workdir.line, 4);
}
END_TEST

START_TEST(test_space_semicolon_inside_a_value_is_kept)
{
	_cleanup_(ou_spec_freep) struct ou_spec *s =
	        parse(IMG("cmd = echo a ; echo b # not a comment\n"));

	ck_assert_str_eq(s->cmd.argv[2], "echo a ; echo b # not a comment");
}
END_TEST

START_TEST(test_a_line_longer_than_200_bytes_is_kept_whole)
{
	struct ou_strbuf text = OU_STRBUF_INIT;
	char value[301];

	memset(value, 'x', 300);
	value[300] = '\0';
	ou_strbuf_printf(&text, IMG("label = k=%s\n"), value);
	struct ou_spec *s = parse(ou_strbuf_str(&text));

	ck_assert_uint_eq(s->n_labels, 1);
	ck_assert_str_eq(s->labels[0].value, value);
	ou_spec_free(s);
	ou_strbuf_release(&text);
}
END_TEST

START_TEST(test_a_value_over_64_kib_is_kept_whole)
{
	struct ou_strbuf text = OU_STRBUF_INIT;
	size_t n = 70000;
	char *value = xmalloc(n + 1);

	memset(value, 'y', n);
	value[n] = '\0';
	ou_strbuf_printf(&text, IMG("env = BIG=%s\nenv = AFTER=1\n"), value);
	struct ou_spec *s = parse(ou_strbuf_str(&text));

	ck_assert_uint_eq(s->n_env, 2);
	ck_assert_uint_eq(strlen(s->env[0].value), n);
	ck_assert_str_eq(s->env[1].key, "AFTER");
	ck_assert_uint_eq(s->env[1].line, 4);
	ou_spec_free(s);
	ou_strbuf_release(&text);
	free(value);
}
END_TEST

START_TEST(test_a_spec_with_fifty_thousand_list_items_parses)
{
	struct ou_strbuf text = OU_STRBUF_INIT;

	ou_strbuf_puts(&text, "[image]\nbase = b\n");
	for (unsigned i = 0; i < 50000; i++)
		ou_strbuf_printf(&text, "env=K%u=%u\n", i % 1000, i);
	ou_strbuf_puts(&text, "[user]\nname = app\n");
	ck_assert_uint_lt(text.len, OU_MAX_SPEC_SIZE);
	struct ou_spec *s = parse(ou_strbuf_str(&text));

	ck_assert_uint_eq(s->n_env, 1000);
	ck_assert_str_eq(s->env[0].key, "K0");
	ck_assert_str_eq(s->env[0].value, "49000");
	ck_assert_uint_eq(s->env[0].line, 49003);
	ou_spec_free(s);
	ou_strbuf_release(&text);
}
END_TEST

START_TEST(test_a_spec_over_the_size_limit_is_refused_with_efbig)
{
	size_t n = OU_MAX_SPEC_SIZE + 1;
	char *text = xmalloc(n);
	struct ou_error *err = NULL;
	struct ou_spec *s = NULL;

	memset(text, '#', n);
	ck_assert_int_lt(ou_spec_parse("spec.ini", text, n, &s, &err), 0);
	ck_assert_int_eq(err->code, EFBIG);
	ck_assert_ptr_nonnull(strstr(err->message, "spec.ini: "));
	ou_error_free(err);
	free(text);
}
END_TEST

START_TEST(test_a_nul_byte_is_an_error_at_its_line)
{
	static const char text[] = "[image]\nbase = b\n[user]\nna\0me = app\n";

	_cleanup_free_ char *msg = parse_error_len(text, sizeof(text) - 1);
	ck_assert_str_eq(msg, "spec.ini:4: NUL byte in line (a spec is text)");
}
END_TEST

START_TEST(test_a_control_character_is_an_error)
{
	assert_error(IMG("label = a=\x1b[1m\n"), "spec.ini:3: ", "control character 0x1b");
}
END_TEST

START_TEST(test_invalid_utf8_is_an_error_at_its_line)
{
	assert_error(IMG("label = a=\xff\xfe\n"), "spec.ini:3: ", "not valid UTF-8");
	assert_error(IMG("label = a=\xc0\xaf\n"), "spec.ini:3: ", "not valid UTF-8");
	assert_error(IMG("label = a=\xed\xa0\x80\n"), "spec.ini:3: ", "not valid UTF-8");
}
END_TEST

START_TEST(test_valid_utf8_is_kept)
{
	_cleanup_(ou_spec_freep) struct ou_spec *s = parse(IMG("label = auteur=Zoë 🐍\n"));

	ck_assert_str_eq(s->labels[0].value, "Zoë 🐍");
}
END_TEST

START_TEST(test_quoted_value_keeps_inner_spaces)
{
	_cleanup_(ou_spec_freep) struct ou_spec *s = parse(IMG("label = \"k=  two  spaces \"\n"));

	ck_assert_str_eq(s->labels[0].value, "  two  spaces ");
}
END_TEST

START_TEST(test_quoted_value_unescapes_quote_and_backslash)
{
	_cleanup_(ou_spec_freep) struct ou_spec *s = parse(IMG("cmd = \"echo \\\"a\\\\b\\\"\"\n"));

	ck_assert_str_eq(s->cmd.argv[2], "echo \"a\\b\"");
}
END_TEST

START_TEST(test_unquoted_value_keeps_backslashes_and_quotes)
{
	_cleanup_(ou_spec_freep) struct ou_spec *s = parse(IMG("cmd = echo \\n \"x\"\n"));

	ck_assert_str_eq(s->cmd.argv[2], "echo \\n \"x\"");
}
END_TEST

START_TEST(test_quoted_value_with_another_escape_is_an_error)
{
	assert_error(IMG("cmd = \"a\\nb\"\n"), "spec.ini:3: ", "unknown escape '\\n'");
}
END_TEST

START_TEST(test_text_after_the_closing_quote_is_an_error)
{
	assert_error(IMG("cmd = \"a\" b\n"), "spec.ini:3: ", "text after the closing");
}
END_TEST

START_TEST(test_quoted_value_without_closing_quote_is_an_error)
{
	assert_error(IMG("cmd = \"abc\n"), "spec.ini:3: ", "no closing");
	assert_error(IMG("cmd = \"abc\\\"\n"), "spec.ini:3: ", "no closing");
}
END_TEST

START_TEST(test_key_before_any_section_is_an_error)
{
	assert_error("base = b\n[image]\n", "spec.ini:1: ", "before any section");
}
END_TEST

START_TEST(test_unknown_section_is_an_error)
{
	assert_error(USR("[users]\n"), "spec.ini:5: ", "unknown section '[users]'");
}
END_TEST

START_TEST(test_a_section_given_again_continues_it)
{
	_cleanup_(ou_spec_freep) struct ou_spec *s =
	        parse(MIN "[files]\n/a = a/\n[image]\ntag = v1\n[files]\n/b = b/\nexclude = *.o\n");

	ck_assert_str_eq(s->tag.str, "v1");
	ck_assert_uint_eq(s->n_files, 2);
	ck_assert_str_eq(s->files[0].dest, "/a");
	ck_assert_str_eq(s->files[1].dest, "/b");
}
END_TEST

START_TEST(test_a_key_repeated_across_two_blocks_of_a_section_is_an_error)
{
	assert_error_exact("[image]\nbase = b\n[user]\nname = app\n[image]\nbase = c\n",
	                   "spec.ini:6: 'base' is given twice (first at line 2)");
}
END_TEST

START_TEST(test_section_header_without_closing_bracket_is_an_error)
{
	assert_error(USR("[files\n"), "spec.ini:5: ", "no closing ']'");
}
END_TEST

START_TEST(test_text_after_section_header_is_an_error)
{
	assert_error(USR("[files] # x\n"), "spec.ini:5: ", "text after ']'");
}
END_TEST

START_TEST(test_empty_section_is_fine)
{
	_cleanup_(ou_spec_freep) struct ou_spec *s = parse(MIN "[files]\n[sensitive]\n");

	ck_assert_uint_eq(s->n_files, 0);
}
END_TEST

START_TEST(test_unknown_key_is_an_error_naming_it_and_its_section)
{
	assert_error_exact("[image]\nbase = b\n[user]\nname = app\nnmae = x\n",
	                   "spec.ini:5: unknown key 'nmae' in [user]");
}
END_TEST

START_TEST(test_key_of_another_section_is_unknown_here)
{
	assert_error_exact(USR("base = x\n"), "spec.ini:5: unknown key 'base' in [user]");
}
END_TEST

START_TEST(test_keys_are_case_sensitive)
{
	assert_error(USR("UID = 5\n"), "spec.ini:5: ", "unknown key 'UID'");
}
END_TEST

START_TEST(test_repeated_key_is_an_error_naming_the_first_line)
{
	assert_error_exact("[image]\nbase = b\n[user]\nname = app\nuid = 5\n\nuid = 6\n",
	                   "spec.ini:7: 'uid' is given twice (first at line 5)");
}
END_TEST

START_TEST(test_line_without_equals_is_an_error)
{
	assert_error(USR("uid\n"), "spec.ini:5: ", "expected 'key = value'");
}
END_TEST

START_TEST(test_empty_key_is_an_error)
{
	assert_error(USR(" = 5\n"), "spec.ini:5: ", "missing key");
}
END_TEST

START_TEST(test_missing_base_is_an_error_at_its_section)
{
	assert_error_exact("# app\n[image]\n[user]\nname = app\n",
	                   "spec.ini:2: missing required key 'base' in [image]");
}
END_TEST

START_TEST(test_missing_name_is_an_error_at_its_section)
{
	assert_error_exact("[image]\nbase = b\n[user]\nuid = 5\n",
	                   "spec.ini:3: missing required key 'name' in [user]");
}
END_TEST

START_TEST(test_a_missing_section_is_reported_at_the_last_line)
{
	assert_error_exact("[image]\nbase = b\n\n",
	                   "spec.ini:3: missing required key 'name' in [user] (the spec has no "
	                   "[user] section)");
	assert_error_exact("", "spec.ini:1: missing required key 'base' in [image] (the spec has "
	                       "no [image] section)");
}
END_TEST

START_TEST(test_messages_use_the_spec_path_as_given)
{
	struct ou_error *err = NULL;
	struct ou_spec *s = NULL;
	const char *text = "[image]\nbase = b\n[user]\nname = App\n";

	ck_assert_int_lt(ou_spec_parse("dir/my spec.ini", text, strlen(text), &s, &err), 0);
	ck_assert_str_eq(err->message, "dir/my spec.ini:4: 'name' 'App' is not a valid user name "
	                               "(lower case letters, digits, '_' and '-', starting with "
	                               "a letter or '_', an optional final '$', at most 32 bytes)");
	ou_error_free(err);
}
END_TEST

START_TEST(test_long_values_are_shortened_in_messages)
{
	struct ou_strbuf text = OU_STRBUF_INIT;
	char value[1001];

	memset(value, 'a', 1000);
	value[1000] = '\0';
	ou_strbuf_printf(&text, USR("config_user = %s\n"), value);
	_cleanup_free_ char *msg = parse_error(ou_strbuf_str(&text));
	ck_assert_uint_lt(strlen(msg), 200);
	ck_assert_ptr_nonnull(strstr(msg, "...'"));
	ou_strbuf_release(&text);
}
END_TEST

/* ---- paths relative to the spec ---- */

START_TEST(test_relative_base_resolves_against_the_spec_folder)
{
	_cleanup_(ou_spec_freep) struct ou_spec *s = parse_path("specs/app.ini", MIN);

	ck_assert_str_eq(s->dir, "specs");
	ck_assert_str_eq(s->base.str, "specs/base.tar");
}
END_TEST

START_TEST(test_relative_base_of_a_spec_in_the_current_folder_is_kept)
{
	_cleanup_(ou_spec_freep) struct ou_spec *s = parse_path("spec.ini", MIN);

	ck_assert_str_eq(s->dir, ".");
	ck_assert_str_eq(s->base.str, "base.tar");
}
END_TEST

START_TEST(test_absolute_base_is_kept)
{
	_cleanup_(ou_spec_freep) struct ou_spec *s =
	        parse_path("/srv/spec.ini", "[image]\nbase = /b/base.tar\n[user]\nname = app\n");

	ck_assert_str_eq(s->dir, "/srv");
	ck_assert_str_eq(s->base.str, "/b/base.tar");
}
END_TEST

START_TEST(test_spec_at_the_root_resolves_against_root)
{
	_cleanup_(ou_spec_freep) struct ou_spec *s = parse_path("/spec.ini", MIN);

	ck_assert_str_eq(s->dir, "/");
	ck_assert_str_eq(s->base.str, "/base.tar");
}
END_TEST

START_TEST(test_oci_base_gives_folder_and_tag)
{
	_cleanup_(ou_spec_freep) struct ou_spec *s =
	        parse_path("/w/spec.ini", "[image]\nbase = oci:lay:1.0\n[user]\nname = app\n");

	ck_assert(s->base_is_oci);
	ck_assert_str_eq(s->base.str, "oci:lay:1.0");
	ck_assert_str_eq(s->base_oci_dir, "/w/lay");
	ck_assert_str_eq(s->base_oci_tag, "1.0");
}
END_TEST

START_TEST(test_oci_base_without_tag_has_null_tag)
{
	_cleanup_(ou_spec_freep) struct ou_spec *s =
	        parse("[image]\nbase = oci:/abs/lay\n[user]\nname = app\n");

	ck_assert(s->base_is_oci);
	ck_assert_str_eq(s->base_oci_dir, "/abs/lay");
	ck_assert_ptr_null(s->base_oci_tag);
}
END_TEST

START_TEST(test_oci_base_without_folder_is_an_error)
{
	assert_error("[image]\nbase = oci:\n[user]\nname = app\n",
	             "spec.ini:2: ", "names no layout folder");
	assert_error("[image]\nbase = oci::1.0\n[user]\nname = app\n",
	             "spec.ini:2: ", "names no layout folder");
}
END_TEST

START_TEST(test_oci_base_with_a_bad_tag_is_an_error)
{
	assert_error("[image]\nbase = oci:lay:bad tag\n[user]\nname = app\n",
	             "spec.ini:2: ", "not a valid OCI ref name");
	assert_error("[image]\nbase = oci:lay:\n[user]\nname = app\n",
	             "spec.ini:2: ", "not a valid OCI ref name");
}
END_TEST

START_TEST(test_another_skopeo_transport_as_base_says_how_to_fetch_it)
{
	assert_error("[image]\nbase = docker://python:3.12-slim\n[user]\nname = app\n",
	             "spec.ini:2: ",
	             "fetch it first (skopeo copy docker://python:3.12-slim oci:base:latest)");
	assert_error("[image]\nbase = oci-archive:x.tar\n[user]\nname = app\n", "spec.ini:2: ",
	             "ociuser reads a tarball or oci:DIR[:TAG] only");
	/* a file whose name merely has a colon is a tarball */
	_cleanup_(ou_spec_freep) struct ou_spec *s =
	        parse("[image]\nbase = base:v1.tar\n[user]\nname = app\n");
	ck_assert(!s->base_is_oci);
}
END_TEST

START_TEST(test_empty_base_is_an_error)
{
	assert_error("[image]\nbase =\n[user]\nname = app\n", "spec.ini:2: ", "'base' is empty");
}
END_TEST

START_TEST(test_load_reads_a_file_and_resolves_against_its_folder)
{
	char dir[] = "/tmp/ou-test-spec-XXXXXX";
	char path[64];
	const char *text = FILES("/app = app/\n");
	struct ou_error *err = NULL;
	struct ou_spec *s = NULL;
	int fd;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/spec.ini", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);

	ck_assert_int_eq(ou_spec_load(path, &s, &err), 0);
	_cleanup_free_ char *want = xasprintf("%s/app/", dir);
	ck_assert_str_eq(s->files[0].source, want);
	ck_assert_str_eq(s->files[0].source_spec, "app/");
	ou_spec_free(s);
	unlink(path);
	rmdir(dir);
}
END_TEST

START_TEST(test_load_of_a_missing_file_reports_its_errno)
{
	struct ou_error *err = NULL;
	struct ou_spec *s = NULL;

	ck_assert_int_lt(ou_spec_load("/nonexistent/spec.ini", &s, &err), 0);
	ck_assert_int_eq(err->code, ENOENT);
	ck_assert_ptr_nonnull(strstr(err->message, "/nonexistent/spec.ini: "));
	ou_error_free(err);
}
END_TEST

START_TEST(test_load_of_an_empty_file_reports_missing_base)
{
	char path[] = "/tmp/ou-test-spec-empty-XXXXXX";
	struct ou_error *err = NULL;
	struct ou_spec *s = NULL;
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_lt(ou_spec_load(path, &s, &err), 0);
	ck_assert_ptr_nonnull(strstr(err->message, "missing required key 'base'"));
	ou_error_free(err);
	unlink(path);
}
END_TEST

/* ---- numbers ---- */

START_TEST(test_uid_and_gid_are_read_as_decimal)
{
	_cleanup_(ou_spec_freep) struct ou_spec *s = parse(USR("uid = 10001\ngid = 2147483646\n"));

	ck_assert(s->has_uid);
	ck_assert_uint_eq(s->uid, 10001);
	ck_assert_uint_eq(s->uid_line, 5);
	ck_assert(s->has_gid);
	ck_assert_uint_eq(s->gid, 2147483646u);
	ck_assert_uint_eq(s->gid_line, 6);
}
END_TEST

START_TEST(test_parse_decimal_is_the_one_number_reader)
{
	/* the spec and the command line (--source-date-epoch) both read numbers with it */
	static const struct {
		const char *s;
		uint64_t max;
		int r;
		uint64_t v;
	} cases[] = {
	        {"0", 10, 0, 0},
	        {"10", 10, 0, 10},
	        {"11", 10, -ERANGE, 0},
	        {"18446744073709551615", UINT64_MAX, 0, UINT64_MAX},
	        {"18446744073709551616", UINT64_MAX, -ERANGE, 0},
	        {"99999999999999999999999", 5, -ERANGE, 0},
	        {"00", 10, -EDOM, 0},
	        {"0999", 10000, -EDOM, 0},
	        {"", 10, -EINVAL, 0},
	        {"-1", 10, -EINVAL, 0},
	        {"+1", 10, -EINVAL, 0},
	        {" 1", 10, -EINVAL, 0},
	        {"1 ", 10, -EINVAL, 0},
	        {"0x1", 10, -EINVAL, 0},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = 12345;
		int r = ou_parse_decimal(cases[i].s, cases[i].max, &v);

		ck_assert_msg(r == cases[i].r, "'%s': %d, want %d", cases[i].s, r, cases[i].r);
		ck_assert_msg(v == (r == 0 ? cases[i].v : 12345), "'%s': value %llu", cases[i].s,
		              (unsigned long long)v);
	}
}
END_TEST

START_TEST(test_uid_with_leading_zero_is_an_error_not_octal)
{
	assert_error(USR("uid = 0999\n"), "spec.ini:5: ", "leading zero");
}
END_TEST

START_TEST(test_uid_with_a_sign_is_an_error)
{
	assert_error(USR("uid = -1\n"), "spec.ini:5: ", "without sign");
	assert_error(USR("uid = +1\n"), "spec.ini:5: ", "without sign");
}
END_TEST

START_TEST(test_uid_zero_is_out_of_range)
{
	assert_error(USR("uid = 0\n"), "spec.ini:5: ", "out of range 1..2147483646");
}
END_TEST

START_TEST(test_uid_above_two_to_the_31_minus_2_is_an_error)
{
	assert_error_exact(USR("uid = 2147483647\n"),
	                   "spec.ini:5: 'uid' value 2147483647 is out of range 1..2147483646");
}
END_TEST

START_TEST(test_uid_that_would_wrap_32_or_64_bits_is_an_error)
{
	assert_error(USR("uid = 4294967296\n"), "spec.ini:5: ", "out of range");
	assert_error(USR("uid = 18446744073709551617\n"), "spec.ini:5: ", "out of range");
}
END_TEST

START_TEST(test_uid_with_other_text_is_an_error)
{
	assert_error(USR("uid = 12a\n"), "spec.ini:5: ", "decimal number");
	assert_error(USR("uid = 1 000\n"), "spec.ini:5: ", "decimal number");
	assert_error(USR("uid = 0x10\n"), "spec.ini:5: ", "decimal number");
	assert_error(USR("uid =\n"), "spec.ini:5: ", "'uid' is empty");
}
END_TEST

START_TEST(test_gid_follows_the_same_rules)
{
	assert_error(USR("gid = 0999\n"), "spec.ini:5: ", "'gid'");
	assert_error(USR("gid = 4294967296\n"), "spec.ini:5: ", "out of range");
}
END_TEST

/* ---- booleans ---- */

START_TEST(test_booleans_are_true_or_false)
{
	_cleanup_(ou_spec_freep) struct ou_spec *s =
	        parse("[image]\nbase = b\nsquash = true\n[user]\nname = app\ncreate_home = "
	              "false\n[files]\npreserve_modes = true\n");

	ck_assert(s->squash);
	ck_assert_uint_eq(s->squash_line, 3);
	ck_assert(!s->create_home);
	ck_assert_uint_eq(s->create_home_line, 6);
	ck_assert(s->preserve_modes);
}
END_TEST

START_TEST(test_other_boolean_spellings_are_errors)
{
	assert_error(IMG("squash = yes\n"), "spec.ini:3: ", "'true' or 'false'");
	assert_error(IMG("squash = True\n"), "spec.ini:3: ", "'true' or 'false'");
	assert_error(IMG("squash = 1\n"), "spec.ini:3: ", "'true' or 'false'");
	assert_error(USR("create_home =\n"), "spec.ini:5: ", "'true' or 'false'");
}
END_TEST

/* ---- [image] ---- */

START_TEST(test_cmd_exec_form_is_a_json_array)
{
	_cleanup_(ou_spec_freep) struct ou_spec *s =
	        parse(IMG("cmd = [\"python\", \"/app/main.py\"]\n"));

	ck_assert(s->cmd.set);
	ck_assert_uint_eq(s->cmd.argc, 2);
	ck_assert_str_eq(s->cmd.argv[0], "python");
	ck_assert_str_eq(s->cmd.argv[1], "/app/main.py");
	ck_assert_ptr_null(s->cmd.argv[2]);
	ck_assert_uint_eq(s->cmd.line, 3);
}
END_TEST

START_TEST(test_cmd_shell_form_runs_through_bin_sh)
{
	_cleanup_(ou_spec_freep) struct ou_spec *s = parse(IMG("cmd = python /app/main.py\n"));

	ck_assert_uint_eq(s->cmd.argc, 3);
	ck_assert_str_eq(s->cmd.argv[0], "/bin/sh");
	ck_assert_str_eq(s->cmd.argv[1], "-c");
	ck_assert_str_eq(s->cmd.argv[2], "python /app/main.py");
	ck_assert_ptr_null(s->cmd.argv[3]);
}
END_TEST

START_TEST(test_cmd_starting_with_bracket_but_not_json_is_an_error)
{
	assert_error(IMG("cmd = [python]\n"), "spec.ini:3: ", "not a JSON array of strings");
	assert_error(IMG("cmd = [\"a\"] x\n"), "spec.ini:3: ", "not a JSON array of strings");
	assert_error(IMG("cmd = [\"a\",\n"), "spec.ini:3: ", "not a JSON array of strings");
}
END_TEST

START_TEST(test_cmd_array_of_non_strings_is_an_error)
{
	assert_error(IMG("cmd = [\"a\", 1]\n"), "spec.ini:3: ", "element 2 is not a string");
	assert_error(IMG("cmd = [[\"a\"]]\n"), "spec.ini:3: ", "element 1 is not a string");
}
END_TEST

START_TEST(test_cmd_json_with_nul_escape_is_an_error)
{
	assert_error(IMG("cmd = [\"a\\u0000b\"]\n"), "spec.ini:3: ", "not a JSON array");
}
END_TEST

START_TEST(test_empty_cmd_is_an_error)
{
	assert_error(IMG("cmd =\n"), "spec.ini:3: ", "'cmd' is empty");
	assert_error(IMG("cmd = \"\"\n"), "spec.ini:3: ", "'cmd' is empty");
}
END_TEST

START_TEST(test_empty_json_array_sets_an_empty_argv)
{
	_cleanup_(ou_spec_freep) struct ou_spec *s = parse(IMG("entrypoint = []\n"));

	ck_assert(s->entrypoint.set);
	ck_assert_uint_eq(s->entrypoint.argc, 0);
	ck_assert_ptr_null(s->entrypoint.argv[0]);
}
END_TEST

START_TEST(test_quoted_cmd_starting_with_bracket_is_shell_form)
{
	_cleanup_(ou_spec_freep) struct ou_spec *s =
	        parse(IMG("cmd = \"[ -f /x ] && exec app\"\n"));

	ck_assert_uint_eq(s->cmd.argc, 3);
	ck_assert_str_eq(s->cmd.argv[2], "[ -f /x ] && exec app");
}
END_TEST

START_TEST(test_entrypoint_takes_both_forms)
{
	_cleanup_(ou_spec_freep) struct ou_spec *s =
	        parse(IMG("entrypoint = [\"/tini\", \"--\"]\ncmd = serve\n"));

	ck_assert_uint_eq(s->entrypoint.argc, 2);
	ck_assert_str_eq(s->entrypoint.argv[1], "--");
	ck_assert_uint_eq(s->entrypoint.line, 3);
	ck_assert_str_eq(s->cmd.argv[2], "serve");
	assert_error(IMG("entrypoint = [1]\n"), "spec.ini:3: ", "'entrypoint' element 1");
}
END_TEST

START_TEST(test_workdir_must_be_absolute)
{
	_cleanup_(ou_spec_freep) struct ou_spec *s = parse(IMG("workdir = /app\n"));

	ck_assert_str_eq(s->workdir.str, "/app");
	assert_error(IMG("workdir = app\n"), "spec.ini:3: ", "not an absolute path");
	assert_error(IMG("workdir =\n"), "spec.ini:3: ", "not an absolute path");
}
END_TEST

START_TEST(test_env_items_keep_order)
{
	_cleanup_(ou_spec_freep) struct ou_spec *s =
	        parse(IMG("env = B=2\nenv = A=1\nenv = C=x=y\nenv = E=\n"));

	ck_assert_uint_eq(s->n_env, 4);
	ck_assert_str_eq(s->env[0].key, "B");
	ck_assert_str_eq(s->env[1].key, "A");
	ck_assert_str_eq(s->env[2].key, "C");
	ck_assert_str_eq(s->env[2].value, "x=y");
	ck_assert_str_eq(s->env[3].value, "");
	ck_assert_uint_eq(s->env[3].line, 6);
}
END_TEST

START_TEST(test_later_env_replaces_earlier_in_place)
{
	_cleanup_(ou_spec_freep) struct ou_spec *s =
	        parse(IMG("env = A=1\nenv = B=2\nenv = A=3\nenv = A=4\n"));

	ck_assert_uint_eq(s->n_env, 2);
	ck_assert_str_eq(s->env[0].key, "A");
	ck_assert_str_eq(s->env[0].value, "4");
	ck_assert_uint_eq(s->env[0].line, 6);
	ck_assert_str_eq(s->env[1].key, "B");
}
END_TEST

START_TEST(test_env_without_equals_or_name_is_an_error)
{
	assert_error(IMG("env = FOO\n"), "spec.ini:3: ", "NAME=VALUE");
	assert_error(IMG("env = =x\n"), "spec.ini:3: ", "empty NAME");
	assert_error(IMG("env = FOO BAR\n"), "spec.ini:3: ", "NAME=VALUE");
}
END_TEST

START_TEST(test_env_name_with_a_blank_is_an_error)
{
	assert_error_exact(IMG("env = A B=x\n"), "spec.ini:3: 'env' name 'A B' holds a blank");
	assert_error(IMG("env = \"A\tB=x\"\n"), "spec.ini:3: ", "holds a blank");
	/* a blank in the value is fine */
	_cleanup_(ou_spec_freep) struct ou_spec *s = parse(IMG("env = A=b c\n"));
	ck_assert_str_eq(s->env[0].value, "b c");
}
END_TEST

START_TEST(test_labels_and_annotations_are_key_value_lists)
{
	_cleanup_(ou_spec_freep) struct ou_spec *s =
	        parse(IMG("label = a=1\nlabel = b=2\nlabel = a=3\nannotation = "
	                  "org.opencontainers.image.source=https://x\n"));

	ck_assert_uint_eq(s->n_labels, 2);
	ck_assert_str_eq(s->labels[0].value, "3");
	ck_assert_uint_eq(s->n_annotations, 1);
	ck_assert_str_eq(s->annotations[0].key, "org.opencontainers.image.source");
	ck_assert_str_eq(s->annotations[0].value, "https://x");
	assert_error(IMG("label = =1\n"), "spec.ini:3: ", "empty KEY");
	assert_error(IMG("annotation = k\n"), "spec.ini:3: ", "KEY=VALUE");
}
END_TEST

START_TEST(test_expose_is_normalised_to_port_and_protocol)
{
	_cleanup_(ou_spec_freep) struct ou_spec *s =
	        parse(IMG("expose = 8080\nexpose = 53/udp\nexpose = 443/tcp\nexpose = "
	                  "8080/tcp\n"));

	ck_assert_uint_eq(s->n_expose, 3);
	ck_assert_str_eq(s->expose[0].str, "8080/tcp");
	ck_assert_str_eq(s->expose[1].str, "53/udp");
	ck_assert_str_eq(s->expose[2].str, "443/tcp");
}
END_TEST

START_TEST(test_expose_out_of_range_or_malformed_is_an_error)
{
	assert_error(IMG("expose = 0\n"), "spec.ini:3: ", "out of range 1..65535");
	assert_error(IMG("expose = 65536\n"), "spec.ini:3: ", "out of range");
	assert_error(IMG("expose = 080\n"), "spec.ini:3: ", "leading zero");
	assert_error(IMG("expose = 80/sctp\n"), "spec.ini:3: ", "PORT/udp");
	assert_error(IMG("expose = 80/\n"), "spec.ini:3: ", "PORT/udp");
	assert_error(IMG("expose = http\n"), "spec.ini:3: ", "decimal number");
}
END_TEST

START_TEST(test_stop_signal_takes_names_and_numbers)
{
	static const char *const good[] = {"SIGTERM",    "SIGKILL", "SIGRTMIN+3",
	                                   "SIGRTMAX-1", "9",       "64"};

	for (size_t i = 0; i < ELEMENTSOF(good); i++) {
		_cleanup_free_ char *t = xasprintf(IMG("stop_signal = %s\n"), good[i]);
		_cleanup_(ou_spec_freep) struct ou_spec *s = parse(t);
		ck_assert_str_eq(s->stop_signal.str, good[i]);
	}
}
END_TEST

START_TEST(test_stop_signal_that_is_no_signal_is_an_error)
{
	static const char *const bad[] = {"SIGFOO", "TERM",        "sigterm",    "0", "65",
	                                  "09",     "SIGRTMIN+31", "SIGRTMIN+0", ""};

	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		_cleanup_free_ char *t = xasprintf(IMG("stop_signal = %s\n"), bad[i]);
		assert_error(t, "spec.ini:3: ", "is not a signal");
	}
}
END_TEST

START_TEST(test_platform_values_are_lower_case_tokens)
{
	_cleanup_(ou_spec_freep) struct ou_spec *s =
	        parse(IMG("architecture = arm64\nvariant = v8\nos = linux\n"));

	ck_assert_str_eq(s->architecture.str, "arm64");
	ck_assert_str_eq(s->variant.str, "v8");
	ck_assert_str_eq(s->os.str, "linux");
	assert_error(IMG("architecture = AMD64\n"), "spec.ini:3: ", "not an OCI platform value");
	assert_error(IMG("os =\n"), "spec.ini:3: ", "not an OCI platform value");
	assert_error(IMG("variant = v 8\n"), "spec.ini:3: ", "not an OCI platform value");
}
END_TEST

START_TEST(test_compression_is_gzip_zstd_or_none)
{
	_cleanup_(ou_spec_freep) struct ou_spec *z = parse(IMG("compression = zstd\n"));
	_cleanup_(ou_spec_freep) struct ou_spec *n = parse(IMG("compression = none\n"));

	ck_assert_int_eq(z->compression, OU_COMPRESSION_ZSTD);
	ck_assert_uint_eq(z->compression_line, 3);
	ck_assert_int_eq(n->compression, OU_COMPRESSION_NONE);
	assert_error(IMG("compression = bzip2\n"), "spec.ini:3: ", "'gzip', 'zstd' or 'none'");
}
END_TEST

START_TEST(test_tag_accepts_ref_names)
{
	_cleanup_(ou_spec_freep) struct ou_spec *a = parse(IMG("tag = 1.0\n"));
	_cleanup_(ou_spec_freep) struct ou_spec *b =
	        parse(IMG("tag = registry.example.com/team/app:1.0\n"));

	ck_assert_str_eq(a->tag.str, "1.0");
	ck_assert_uint_eq(a->tag.line, 3);
	ck_assert_str_eq(b->tag.str, "registry.example.com/team/app:1.0");
}
END_TEST

START_TEST(test_tag_that_breaks_the_grammar_is_an_error)
{
	assert_error(IMG("tag = bad tag!\n"), "spec.ini:3: ", "not a valid OCI ref name");
	assert_error(IMG("tag = -x\n"), "spec.ini:3: ", "not a valid OCI ref name");
}
END_TEST

START_TEST(test_empty_tag_is_an_error)
{
	assert_error(IMG("tag =\n"), "spec.ini:3: ", "'tag' is empty");
}
END_TEST

/* ---- [user] ---- */

START_TEST(test_name_that_could_forge_a_passwd_line_is_refused)
{
	assert_error("[image]\nbase = b\n[user]\nname = app:x:0:0\n",
	             "spec.ini:4: ", "'name' 'app:x:0:0' is not a valid user name");
}
END_TEST

START_TEST(test_name_root_is_refused)
{
	assert_error("[image]\nbase = b\n[user]\nname = root\n", "spec.ini:4: ", "'root'");
}
END_TEST

START_TEST(test_name_over_32_bytes_is_refused)
{
	assert_error("[image]\nbase = b\n[user]\nname = abcdefghijklmnopqrstuvwxyz0123456\n",
	             "spec.ini:4: ", "not a valid user name");
}
END_TEST

START_TEST(test_group_is_validated_like_a_name)
{
	_cleanup_(ou_spec_freep) struct ou_spec *s = parse(USR("group = appgroup\n"));

	ck_assert_str_eq(s->group.str, "appgroup");
	ck_assert_uint_eq(s->group.line, 5);
	assert_error(USR("group = App\n"), "spec.ini:5: ", "not a valid group name");
}
END_TEST

START_TEST(test_groups_keep_order)
{
	_cleanup_(ou_spec_freep) struct ou_spec *s = parse(USR("groups = video\ngroups = audio\n"));

	ck_assert_uint_eq(s->n_groups, 2);
	ck_assert_str_eq(s->groups[0].str, "video");
	ck_assert_uint_eq(s->groups[1].line, 6);
}
END_TEST

START_TEST(test_groups_given_twice_is_an_error)
{
	assert_error_exact(
	        USR("groups = video\ngroups = audio\ngroups = video\n"),
	        "spec.ini:7: group 'video' is given twice in 'groups' (first at line 5)");
}
END_TEST

START_TEST(test_invalid_supplementary_group_is_an_error)
{
	assert_error(USR("groups = a,b\n"), "spec.ini:5: ", "not a valid group name");
}
END_TEST

START_TEST(test_home_is_normalised)
{
	_cleanup_(ou_spec_freep) struct ou_spec *s = parse(USR("home = /srv//app/\n"));

	ck_assert_str_eq(s->home.str, "/srv/app");
	ck_assert_uint_eq(s->home.line, 5);
}
END_TEST

START_TEST(test_home_must_be_absolute)
{
	assert_error(USR("home = srv/app\n"), "spec.ini:5: ", "not an absolute path");
}
END_TEST

START_TEST(test_home_with_colon_is_refused)
{
	assert_error(USR("home = /srv/a:b\n"), "spec.ini:5: ", "':'");
}
END_TEST

/* A newline cannot reach a value (it ends the line); a tab is the control character left. */
START_TEST(test_home_with_a_control_character_is_refused)
{
	assert_error(USR("home = /srv/a\tb\n"), "spec.ini:5: ", "control character");
	assert_error(USR("home = \"/srv/a\tb\"\n"), "spec.ini:5: ", "control character");
}
END_TEST

START_TEST(test_home_with_dotdot_is_refused)
{
	assert_error(USR("home = /home/../etc\n"), "spec.ini:5: ", "'..'");
}
END_TEST

START_TEST(test_home_with_a_whiteout_component_is_refused)
{
	assert_error(USR("home = /home/.wh.app\n"), "spec.ini:5: ", "'.wh.'");
}
END_TEST

START_TEST(test_shell_must_be_an_absolute_path_without_colon)
{
	_cleanup_(ou_spec_freep) struct ou_spec *s = parse(USR("shell = /bin/bash\n"));

	ck_assert_str_eq(s->shell.str, "/bin/bash");
	assert_error(USR("shell = bash\n"), "spec.ini:5: ", "not an absolute path");
	assert_error(USR("shell = /bin/sh:x\n"), "spec.ini:5: ", "':'");
	assert_error(USR("shell = /bin/\tsh\n"), "spec.ini:5: ", "control character");
}
END_TEST

START_TEST(test_config_user_takes_three_forms)
{
	_cleanup_(ou_spec_freep) struct ou_spec *a = parse(USR("config_user = uid\n"));
	_cleanup_(ou_spec_freep) struct ou_spec *b = parse(USR("config_user = uid:gid\n"));
	_cleanup_(ou_spec_freep) struct ou_spec *c = parse(USR("config_user = name\n"));

	ck_assert_int_eq(a->config_user, OU_CONFIG_USER_UID);
	ck_assert_uint_eq(a->config_user_line, 5);
	ck_assert_int_eq(b->config_user, OU_CONFIG_USER_UID_GID);
	ck_assert_int_eq(c->config_user, OU_CONFIG_USER_NAME);
}
END_TEST

START_TEST(test_config_user_other_value_is_an_error)
{
	assert_error(USR("config_user = numeric\n"), "spec.ini:5: ", "'uid', 'uid:gid' or 'name'");
}
END_TEST

/* ---- [files] ---- */

START_TEST(test_files_dest_is_normalised_and_source_resolved)
{
	_cleanup_(ou_spec_freep) struct ou_spec *s =
	        parse_path("/w/spec.ini", FILES("/app//x/ = app/\n/etc/app.conf = /abs/c\n"));

	ck_assert_uint_eq(s->n_files, 2);
	ck_assert_str_eq(s->files[0].dest, "/app/x");
	ck_assert_str_eq(s->files[0].source, "/w/app/");
	ck_assert_str_eq(s->files[0].source_spec, "app/");
	ck_assert_uint_eq(s->files[0].line, 6);
	ck_assert_str_eq(s->files[1].dest, "/etc/app.conf");
	ck_assert_str_eq(s->files[1].source, "/abs/c");
}
END_TEST

START_TEST(test_files_dest_root_is_allowed)
{
	_cleanup_(ou_spec_freep) struct ou_spec *s = parse(FILES("/ = rootfs/\n"));

	ck_assert_str_eq(s->files[0].dest, "/");
}
END_TEST

START_TEST(test_files_dest_with_dotdot_is_refused)
{
	assert_error(FILES("/app/../etc = x\n"), "spec.ini:6: ", "'..'");
}
END_TEST

START_TEST(test_files_dest_with_a_whiteout_component_is_refused)
{
	assert_error(FILES("/srv/.wh.x = ok.txt\n"), "spec.ini:6: ", "reserved for whiteouts");
}
END_TEST

START_TEST(test_files_empty_source_is_an_error)
{
	assert_error(FILES("/app =\n"), "spec.ini:6: ", "empty SOURCE");
}
END_TEST

START_TEST(test_files_quoted_source_keeps_spaces)
{
	_cleanup_(ou_spec_freep) struct ou_spec *s = parse(FILES("/app = \"my app/\"\n"));

	ck_assert_str_eq(s->files[0].source, "my app/");
}
END_TEST

START_TEST(test_files_same_dest_may_repeat)
{
	_cleanup_(ou_spec_freep) struct ou_spec *s = parse(FILES("/app = a/\n/app = b/\n"));

	ck_assert_uint_eq(s->n_files, 2);
}
END_TEST

START_TEST(test_files_relative_key_is_unknown)
{
	assert_error(FILES("app = x\n"), "spec.ini:6: ", "unknown key 'app' in [files]");
}
END_TEST

START_TEST(test_excludes_keep_order_and_must_not_be_empty)
{
	_cleanup_(ou_spec_freep) struct ou_spec *s =
	        parse(FILES("exclude = __pycache__\nexclude = docs/build\n"));

	ck_assert_uint_eq(s->n_excludes, 2);
	ck_assert_str_eq(s->excludes[1].str, "docs/build");
	ck_assert_uint_eq(s->excludes[1].line, 7);
	assert_error(FILES("exclude =\n"), "spec.ini:6: ", "'exclude' is empty");
}
END_TEST

START_TEST(test_preserve_modes_given_twice_is_an_error)
{
	assert_error(FILES("preserve_modes = true\npreserve_modes = true\n"),
	             "spec.ini:7: ", "given twice (first at line 6)");
}
END_TEST

/* ---- [sensitive] ---- */

START_TEST(test_sensitive_modes_are_octal)
{
	_cleanup_(ou_spec_freep) struct ou_spec *s =
	        parse(SENS("/app/a = 750\n/app/b = 0640\n/app//c/ = 4755\n/d = 7777\n/e = 0\n"));

	ck_assert_uint_eq(s->n_sensitive, 5);
	ck_assert_uint_eq(s->sensitive[0].mode, 0750);
	ck_assert_uint_eq(s->sensitive[1].mode, 0640);
	ck_assert_str_eq(s->sensitive[2].path, "/app/c");
	ck_assert_uint_eq(s->sensitive[2].mode, 04755);
	ck_assert_uint_eq(s->sensitive[3].mode, 07777);
	ck_assert_uint_eq(s->sensitive[4].mode, 0);
	ck_assert_uint_eq(s->sensitive[4].line, 10);
}
END_TEST

START_TEST(test_sensitive_mode_that_is_not_octal_is_an_error)
{
	assert_error(SENS("/a = 8\n"), "spec.ini:6: ", "not an octal mode");
	assert_error(SENS("/a = 12345\n"), "spec.ini:6: ", "not an octal mode");
	assert_error(SENS("/a = rwx\n"), "spec.ini:6: ", "not an octal mode");
	assert_error(SENS("/a = -750\n"), "spec.ini:6: ", "not an octal mode");
	assert_error(SENS("/a =\n"), "spec.ini:6: ", "not an octal mode");
}
END_TEST

START_TEST(test_sensitive_relative_path_is_an_error)
{
	assert_error(SENS("app/a = 750\n"), "spec.ini:6: ", "not an absolute path");
}
END_TEST

START_TEST(test_sensitive_whiteout_path_is_an_error_naming_it)
{
	assert_error(SENS("/app/.wh.x = 750\n"), "spec.ini:6: ", "'/app/.wh.x'");
}
END_TEST

START_TEST(test_sensitive_path_given_twice_is_an_error)
{
	assert_error_exact(SENS("/app/a = 750\n/app//a = 700\n"),
	                   "spec.ini:7: '/app/a' is given twice in [sensitive] (first at line 6)");
}
END_TEST

/* ---- the README example ---- */

START_TEST(test_the_contract_example_parses)
{
	_cleanup_(ou_spec_freep) struct ou_spec *s =
	        parse_path("ex/spec.ini", "[image]\n"
	                                  "base = base/debian-slim.tar.gz\n"
	                                  "cmd = [\"python3\", \"/app/main.py\"]\n"
	                                  "workdir = /app\n"
	                                  "env = PYTHONUNBUFFERED=1\n"
	                                  "\n"
	                                  "[user]\n"
	                                  "name = appuser\n"
	                                  "group = appgroup\n"
	                                  "\n"
	                                  "[files]\n"
	                                  "/app = app/\n"
	                                  "exclude = __pycache__\n"
	                                  "\n"
	                                  "[sensitive]\n"
	                                  "/app/sensitive-config = 0750\n");

	ck_assert_str_eq(s->base.str, "ex/base/debian-slim.tar.gz");
	ck_assert_str_eq(s->cmd.argv[1], "/app/main.py");
	ck_assert_str_eq(s->group.str, "appgroup");
	ck_assert_str_eq(s->files[0].source, "ex/app/");
	ck_assert_uint_eq(s->sensitive[0].mode, 0750);
	ck_assert_uint_eq(s->sensitive[0].line, 16);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("spec");
	TCase *syn = tcase_create("syntax");
	TCase *paths = tcase_create("paths");
	TCase *vals = tcase_create("values");

	tcase_add_test(syn, test_minimal_spec_gets_the_contract_defaults);
	tcase_add_test(syn, test_full_line_comments_start_with_hash_or_semicolon);
	tcase_add_test(syn, test_crlf_line_ends_are_accepted);
	tcase_add_test(syn, test_a_carriage_return_inside_a_line_is_an_error);
	tcase_add_test(syn, test_a_final_line_without_newline_is_read);
	tcase_add_test(syn, test_a_utf8_byte_order_mark_is_skipped);
	tcase_add_test(syn, test_whitespace_around_key_and_value_is_trimmed);
	tcase_add_test(syn, test_section_header_may_have_inner_spaces);
	tcase_add_test(syn, test_indented_line_is_a_key_not_a_continuation);
	tcase_add_test(syn, test_space_semicolon_inside_a_value_is_kept);
	tcase_add_test(syn, test_a_line_longer_than_200_bytes_is_kept_whole);
	tcase_add_test(syn, test_a_value_over_64_kib_is_kept_whole);
	tcase_add_test(syn, test_a_spec_with_fifty_thousand_list_items_parses);
	tcase_add_test(syn, test_a_spec_over_the_size_limit_is_refused_with_efbig);
	tcase_add_test(syn, test_a_nul_byte_is_an_error_at_its_line);
	tcase_add_test(syn, test_a_control_character_is_an_error);
	tcase_add_test(syn, test_invalid_utf8_is_an_error_at_its_line);
	tcase_add_test(syn, test_valid_utf8_is_kept);
	tcase_add_test(syn, test_quoted_value_keeps_inner_spaces);
	tcase_add_test(syn, test_quoted_value_unescapes_quote_and_backslash);
	tcase_add_test(syn, test_unquoted_value_keeps_backslashes_and_quotes);
	tcase_add_test(syn, test_quoted_value_with_another_escape_is_an_error);
	tcase_add_test(syn, test_text_after_the_closing_quote_is_an_error);
	tcase_add_test(syn, test_quoted_value_without_closing_quote_is_an_error);
	tcase_add_test(syn, test_key_before_any_section_is_an_error);
	tcase_add_test(syn, test_unknown_section_is_an_error);
	tcase_add_test(syn, test_a_section_given_again_continues_it);
	tcase_add_test(syn, test_a_key_repeated_across_two_blocks_of_a_section_is_an_error);
	tcase_add_test(syn, test_section_header_without_closing_bracket_is_an_error);
	tcase_add_test(syn, test_text_after_section_header_is_an_error);
	tcase_add_test(syn, test_empty_section_is_fine);
	tcase_add_test(syn, test_unknown_key_is_an_error_naming_it_and_its_section);
	tcase_add_test(syn, test_key_of_another_section_is_unknown_here);
	tcase_add_test(syn, test_keys_are_case_sensitive);
	tcase_add_test(syn, test_repeated_key_is_an_error_naming_the_first_line);
	tcase_add_test(syn, test_line_without_equals_is_an_error);
	tcase_add_test(syn, test_empty_key_is_an_error);
	tcase_add_test(syn, test_missing_base_is_an_error_at_its_section);
	tcase_add_test(syn, test_a_missing_section_is_reported_at_the_last_line);
	tcase_add_test(syn, test_missing_name_is_an_error_at_its_section);
	tcase_add_test(syn, test_messages_use_the_spec_path_as_given);
	tcase_add_test(syn, test_long_values_are_shortened_in_messages);
	suite_add_tcase(s, syn);

	tcase_add_test(paths, test_relative_base_resolves_against_the_spec_folder);
	tcase_add_test(paths, test_relative_base_of_a_spec_in_the_current_folder_is_kept);
	tcase_add_test(paths, test_absolute_base_is_kept);
	tcase_add_test(paths, test_spec_at_the_root_resolves_against_root);
	tcase_add_test(paths, test_oci_base_gives_folder_and_tag);
	tcase_add_test(paths, test_oci_base_without_tag_has_null_tag);
	tcase_add_test(paths, test_oci_base_without_folder_is_an_error);
	tcase_add_test(paths, test_oci_base_with_a_bad_tag_is_an_error);
	tcase_add_test(paths, test_empty_base_is_an_error);
	tcase_add_test(paths, test_another_skopeo_transport_as_base_says_how_to_fetch_it);
	tcase_add_test(paths, test_load_reads_a_file_and_resolves_against_its_folder);
	tcase_add_test(paths, test_load_of_a_missing_file_reports_its_errno);
	tcase_add_test(paths, test_load_of_an_empty_file_reports_missing_base);
	suite_add_tcase(s, paths);

	tcase_add_test(vals, test_uid_and_gid_are_read_as_decimal);
	tcase_add_test(vals, test_parse_decimal_is_the_one_number_reader);
	tcase_add_test(vals, test_uid_with_leading_zero_is_an_error_not_octal);
	tcase_add_test(vals, test_uid_with_a_sign_is_an_error);
	tcase_add_test(vals, test_uid_zero_is_out_of_range);
	tcase_add_test(vals, test_uid_above_two_to_the_31_minus_2_is_an_error);
	tcase_add_test(vals, test_uid_that_would_wrap_32_or_64_bits_is_an_error);
	tcase_add_test(vals, test_uid_with_other_text_is_an_error);
	tcase_add_test(vals, test_gid_follows_the_same_rules);
	tcase_add_test(vals, test_booleans_are_true_or_false);
	tcase_add_test(vals, test_other_boolean_spellings_are_errors);
	tcase_add_test(vals, test_cmd_exec_form_is_a_json_array);
	tcase_add_test(vals, test_cmd_shell_form_runs_through_bin_sh);
	tcase_add_test(vals, test_cmd_starting_with_bracket_but_not_json_is_an_error);
	tcase_add_test(vals, test_cmd_array_of_non_strings_is_an_error);
	tcase_add_test(vals, test_cmd_json_with_nul_escape_is_an_error);
	tcase_add_test(vals, test_empty_cmd_is_an_error);
	tcase_add_test(vals, test_empty_json_array_sets_an_empty_argv);
	tcase_add_test(vals, test_quoted_cmd_starting_with_bracket_is_shell_form);
	tcase_add_test(vals, test_entrypoint_takes_both_forms);
	tcase_add_test(vals, test_workdir_must_be_absolute);
	tcase_add_test(vals, test_env_items_keep_order);
	tcase_add_test(vals, test_later_env_replaces_earlier_in_place);
	tcase_add_test(vals, test_env_without_equals_or_name_is_an_error);
	tcase_add_test(vals, test_env_name_with_a_blank_is_an_error);
	tcase_add_test(vals, test_labels_and_annotations_are_key_value_lists);
	tcase_add_test(vals, test_expose_is_normalised_to_port_and_protocol);
	tcase_add_test(vals, test_expose_out_of_range_or_malformed_is_an_error);
	tcase_add_test(vals, test_stop_signal_takes_names_and_numbers);
	tcase_add_test(vals, test_stop_signal_that_is_no_signal_is_an_error);
	tcase_add_test(vals, test_platform_values_are_lower_case_tokens);
	tcase_add_test(vals, test_compression_is_gzip_zstd_or_none);
	tcase_add_test(vals, test_tag_accepts_ref_names);
	tcase_add_test(vals, test_tag_that_breaks_the_grammar_is_an_error);
	tcase_add_test(vals, test_empty_tag_is_an_error);
	tcase_add_test(vals, test_name_that_could_forge_a_passwd_line_is_refused);
	tcase_add_test(vals, test_name_root_is_refused);
	tcase_add_test(vals, test_name_over_32_bytes_is_refused);
	tcase_add_test(vals, test_group_is_validated_like_a_name);
	tcase_add_test(vals, test_groups_keep_order);
	tcase_add_test(vals, test_groups_given_twice_is_an_error);
	tcase_add_test(vals, test_invalid_supplementary_group_is_an_error);
	tcase_add_test(vals, test_home_is_normalised);
	tcase_add_test(vals, test_home_must_be_absolute);
	tcase_add_test(vals, test_home_with_colon_is_refused);
	tcase_add_test(vals, test_home_with_a_control_character_is_refused);
	tcase_add_test(vals, test_home_with_dotdot_is_refused);
	tcase_add_test(vals, test_home_with_a_whiteout_component_is_refused);
	tcase_add_test(vals, test_shell_must_be_an_absolute_path_without_colon);
	tcase_add_test(vals, test_config_user_takes_three_forms);
	tcase_add_test(vals, test_config_user_other_value_is_an_error);
	tcase_add_test(vals, test_files_dest_is_normalised_and_source_resolved);
	tcase_add_test(vals, test_files_dest_root_is_allowed);
	tcase_add_test(vals, test_files_dest_with_dotdot_is_refused);
	tcase_add_test(vals, test_files_dest_with_a_whiteout_component_is_refused);
	tcase_add_test(vals, test_files_empty_source_is_an_error);
	tcase_add_test(vals, test_files_quoted_source_keeps_spaces);
	tcase_add_test(vals, test_files_same_dest_may_repeat);
	tcase_add_test(vals, test_files_relative_key_is_unknown);
	tcase_add_test(vals, test_excludes_keep_order_and_must_not_be_empty);
	tcase_add_test(vals, test_preserve_modes_given_twice_is_an_error);
	tcase_add_test(vals, test_sensitive_modes_are_octal);
	tcase_add_test(vals, test_sensitive_mode_that_is_not_octal_is_an_error);
	tcase_add_test(vals, test_sensitive_relative_path_is_an_error);
	tcase_add_test(vals, test_sensitive_whiteout_path_is_an_error_naming_it);
	tcase_add_test(vals, test_sensitive_path_given_twice_is_an_error);
	tcase_add_test(vals, test_the_contract_example_parses);
	suite_add_tcase(s, vals);
	return s;
}

OU_CHECK_MAIN(make_suite)
