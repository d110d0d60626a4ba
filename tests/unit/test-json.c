/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "ou-check.h"
#include "ociuser/json.h"
#include "ociuser/xalloc.h"

#define HEX "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static char *dump(const json_t *j)
{
	struct ou_error *err = NULL;
	char *text = NULL;
	size_t len = 0;

	ck_assert_int_eq(ou_json_dump(j, &text, &len, &err), 0);
	ck_assert_uint_eq(strlen(text), len);
	return text;
}

START_TEST(test_json_dump_sorts_keys_and_is_compact)
{
	_cleanup_json_ json_t *j = json_pack("{s:i,s:[s,s],s:{s:s,s:s}}", "z", 1, "a", "x", "y",
	                                     "m", "b", "2", "a", "1");
	_cleanup_free_ char *text = dump(j);

	ck_assert_str_eq(text, "{\"a\":[\"x\",\"y\"],\"m\":{\"a\":\"1\",\"b\":\"2\"},\"z\":1}");
}
END_TEST

START_TEST(test_json_dump_escapes_quotes_backslashes_newlines_and_keeps_utf8)
{
	const char *value = "say \"hi\" \\ back\nslash\t\x01 caf\xc3\xa9 \xe2\x98\x83";
	_cleanup_json_ json_t *j = json_pack("{s:s}", "k\"ey", value);
	_cleanup_json_ json_t *back = NULL;
	_cleanup_free_ char *text = dump(j);
	struct ou_error *err = NULL;

	ck_assert_str_eq(text, "{\"k\\\"ey\":\"say \\\"hi\\\" \\\\ back\\nslash\\t\\u0001 "
	                       "caf\xc3\xa9 \xe2\x98\x83\"}");
	ck_assert_int_eq(ou_json_load_buffer("test", text, strlen(text), &back, &err), 0);
	ck_assert_str_eq(ou_json_get_string(back, "k\"ey"), value);
}
END_TEST

START_TEST(test_json_dump_of_a_bare_string_works)
{
	_cleanup_json_ json_t *j = json_string("x");
	_cleanup_free_ char *text = dump(j);

	ck_assert_str_eq(text, "\"x\"");
}
END_TEST

START_TEST(test_json_load_buffer_reports_position_of_syntax_error)
{
	struct ou_error *err = NULL;
	json_t *j = NULL;

	ck_assert_int_lt(ou_json_load_buffer("'index.json'", "{\"a\":\n  ]", 9, &j, &err), 0);
	ck_assert_ptr_null(j);
	ck_assert_int_eq(err->code, EBADMSG);
	ck_assert_ptr_nonnull(strstr(err->message, "'index.json': not valid json: line 2"));
	ou_error_free(err);
}
END_TEST

START_TEST(test_json_load_buffer_refuses_duplicate_keys_and_trailing_data)
{
	struct ou_error *err = NULL;
	json_t *j = NULL;

	ck_assert_int_lt(ou_json_load_buffer("x", "{\"a\":1,\"a\":2}", 13, &j, &err), 0);
	ck_assert_int_eq(err->code, EBADMSG);
	ck_assert_int_lt(ou_json_load_buffer("x", "{} {}", 5, &j, &err), 0);
	ck_assert_int_eq(err->code, EBADMSG);
	ck_assert_int_lt(ou_json_load_buffer("x", "{\"a\":\"\\u0000\"}", 14, &j, &err), 0);
	ck_assert_ptr_null(j);
	ou_error_free(err);
}
END_TEST

START_TEST(test_json_load_buffer_refuses_over_the_limit)
{
	struct ou_error *err = NULL;
	json_t *j = NULL;

	ck_assert_int_lt(ou_json_load_buffer("big", "{}", (size_t)OU_MAX_JSON_SIZE + 1, &j, &err),
	                 0);
	ck_assert_int_eq(err->code, EFBIG);
	ou_error_free(err);
}
END_TEST

static char *write_temp(const char *content)
{
	char *path = xstrdup("/tmp/ou-test-json-XXXXXX");
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	close(fd);
	return path;
}

START_TEST(test_json_load_file_reads_and_limits)
{
	_cleanup_free_ char *path = write_temp("{\"imageLayoutVersion\":\"1.0.0\"}");
	_cleanup_json_ json_t *j = NULL;
	struct ou_error *err = NULL;
	json_t *none = NULL;

	ck_assert_int_eq(ou_json_load_file(path, 1024, &j, &err), 0);
	ck_assert_str_eq(ou_json_get_string(j, "imageLayoutVersion"), "1.0.0");
	ck_assert_int_lt(ou_json_load_file(path, 10, &none, &err), 0);
	ck_assert_int_eq(err->code, EFBIG);
	ck_assert_ptr_nonnull(strstr(err->message, path));
	unlink(path);
	ck_assert_int_lt(ou_json_load_file(path, 1024, &none, &err), 0);
	ck_assert_int_eq(err->code, ENOENT);
	ck_assert_ptr_nonnull(strstr(err->message, path));
	ou_error_free(err);
}
END_TEST

START_TEST(test_json_load_at_does_not_follow_a_final_link)
{
	_cleanup_free_ char *path = write_temp("{}");
	_cleanup_free_ char *link = xasprintf("%s.link", path);
	struct ou_error *err = NULL;
	json_t *j = NULL;

	ck_assert_int_eq(symlink(path, link), 0);
	ck_assert_int_lt(ou_json_load_at(AT_FDCWD, link, "the link", 1024, &j, &err), 0);
	ck_assert_ptr_nonnull(strstr(err->message, "the link"));
	ck_assert_int_eq(ou_json_load_file(link, 1024, &j, &err), 0);
	json_decref(j);
	unlink(link);
	unlink(path);
	ou_error_free(err);
}
END_TEST

START_TEST(test_json_descriptor_round_trips)
{
	struct ou_descriptor d = {.media_type = (char *)"application/vnd.oci.image.config.v1+json",
	                          .digest = (char *)"sha256:" HEX,
	                          .size = 1234};
	struct ou_descriptor back = {0};
	_cleanup_json_ json_t *j = NULL;
	_cleanup_free_ char *text = NULL;
	struct ou_error *err = NULL;

	ck_assert_int_eq(ou_json_from_descriptor(&d, &j, &err), 0);
	text = dump(j);
	ck_assert_str_eq(text, "{\"digest\":\"sha256:" HEX "\",\"mediaType\":\"application/"
	                       "vnd.oci.image.config.v1+json\",\"size\":1234}");
	ck_assert_int_eq(ou_json_to_descriptor(j, "config", &back, &err), 0);
	ck_assert_str_eq(back.media_type, d.media_type);
	ck_assert_str_eq(back.digest, d.digest);
	ck_assert_int_eq(back.size, 1234);
	ou_descriptor_release(&back);
	ck_assert_ptr_null(back.digest);
}
END_TEST

START_TEST(test_json_from_descriptor_refuses_bad_digest_and_size)
{
	struct ou_descriptor d = {.media_type = (char *)"x", .digest = (char *)"sha256:abc"};
	struct ou_error *err = NULL;
	json_t *j = NULL;

	ck_assert_int_lt(ou_json_from_descriptor(&d, &j, &err), 0);
	ck_assert_int_eq(err->code, EINVAL);
	d.digest = (char *)"sha256:" HEX;
	d.size = -1;
	ck_assert_int_lt(ou_json_from_descriptor(&d, &j, &err), 0);
	ck_assert_ptr_null(j);
	ou_error_free(err);
}
END_TEST

static int to_desc(const char *text, struct ou_error **err)
{
	_cleanup_json_ json_t *j = NULL;
	struct ou_descriptor d = {0};
	int r;

	ck_assert_int_eq(ou_json_load_buffer("t", text, strlen(text), &j, err), 0);
	r = ou_json_to_descriptor(j, "layers[0]", &d, err);
	ou_descriptor_release(&d);
	return r;
}

START_TEST(test_json_to_descriptor_names_the_broken_field)
{
	struct ou_error *err = NULL;

	ck_assert_int_lt(to_desc("{\"digest\":\"sha256:" HEX "\",\"size\":1}", &err), 0);
	ck_assert_int_eq(err->code, EBADMSG);
	ck_assert_ptr_nonnull(strstr(err->message, "layers[0]"));
	ck_assert_ptr_nonnull(strstr(err->message, "mediaType"));
	ck_assert_int_lt(to_desc("{\"mediaType\":\"m\",\"digest\":\"sha512:ab\",\"size\":1}", &err),
	                 0);
	ck_assert_ptr_nonnull(strstr(err->message, "sha512:ab"));
	ck_assert_int_lt(
	        to_desc("{\"mediaType\":\"m\",\"digest\":\"sha256:" HEX "\",\"size\":-1}", &err),
	        0);
	ck_assert_ptr_nonnull(strstr(err->message, "size"));
	ck_assert_int_lt(
	        to_desc("{\"mediaType\":\"m\",\"digest\":\"sha256:" HEX "\",\"size\":\"1\"}", &err),
	        0);
	ck_assert_int_lt(to_desc("[1]", &err), 0);
	ck_assert_ptr_nonnull(strstr(err->message, "not an object"));
	ck_assert_int_eq(to_desc("{\"mediaType\":\"m\",\"digest\":\"sha256:" HEX
	                         "\",\"size\":0,\"annotations\":{}}",
	                         &err),
	                 0);
	ou_error_free(err);
}
END_TEST

static Suite *json_suite(void)
{
	Suite *s = suite_create("json");
	TCase *tc = tcase_create("json");

	tcase_add_test(tc, test_json_dump_sorts_keys_and_is_compact);
	tcase_add_test(tc, test_json_dump_escapes_quotes_backslashes_newlines_and_keeps_utf8);
	tcase_add_test(tc, test_json_dump_of_a_bare_string_works);
	tcase_add_test(tc, test_json_load_buffer_reports_position_of_syntax_error);
	tcase_add_test(tc, test_json_load_buffer_refuses_duplicate_keys_and_trailing_data);
	tcase_add_test(tc, test_json_load_buffer_refuses_over_the_limit);
	tcase_add_test(tc, test_json_load_file_reads_and_limits);
	tcase_add_test(tc, test_json_load_at_does_not_follow_a_final_link);
	tcase_add_test(tc, test_json_descriptor_round_trips);
	tcase_add_test(tc, test_json_from_descriptor_refuses_bad_digest_and_size);
	tcase_add_test(tc, test_json_to_descriptor_names_the_broken_field);
	suite_add_tcase(s, tc);
	return s;
}

OU_CHECK_MAIN(json_suite)
