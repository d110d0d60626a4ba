/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "ou-check.h"
#include "ociuser/digest.h"
#include "ociuser/json.h"
#include "ociuser/oci.h"
#include "ociuser/strbuf.h"
#include "ociuser/xalloc.h"

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* ---------------------------------------------------------------------- */
/* Fixtures                                                               */

static char *digest_of(const char *s)
{
	char d[OU_DIGEST_STRLEN];

	ou_sha256_buffer(s, strlen(s), d);
	return xstrdup(d);
}

/* A layer with made-up but valid digests, derived from @seed. */
static void fake_layer(struct ou_image_layer *l, const char *seed, const char *created_by)
{
	_cleanup_free_ char *diff = xasprintf("diff %s", seed);

	l->desc.media_type = xstrdup(OU_MT_LAYER_GZIP);
	l->desc.digest = digest_of(seed);
	l->desc.size = (int64_t)strlen(seed);
	l->diff_id = digest_of(diff);
	l->created_by = created_by ? xstrdup(created_by) : NULL;
	l->comment = NULL;
}

struct fixture {
	struct ou_spec spec;
	struct ou_image_layer layers[4];
	struct ou_image_info info;
	char **notes;
	size_t n_notes;
};

static void fixture_init(struct fixture *f, size_t n_layers)
{
	static const char *const by[] = {"base layer", "ociuser: accounts", "ociuser: files",
	                                 "extra"};

	memset(f, 0, sizeof(*f));
	f->spec.path = (char *)"spec.ini";
	for (size_t i = 0; i < n_layers; i++) {
		_cleanup_free_ char *seed = xasprintf("layer %zu", i);
		fake_layer(&f->layers[i], seed, by[i]);
	}
	f->info = (struct ou_image_info){
	        .spec = &f->spec,
	        .user = "10001",
	        .home = "/home/app",
	        .epoch = 1700000000,
	        .architecture = "amd64",
	        .os = "linux",
	        .layers = f->layers,
	        .n_layers = n_layers,
	};
}

static void fixture_release(struct fixture *f)
{
	for (size_t i = 0; i < ELEMENTSOF(f->layers); i++)
		ou_image_layer_release(&f->layers[i]);
	ou_strv_free(f->notes);
}

static json_t *parse(const char *text)
{
	struct ou_error *err = NULL;
	json_t *j = NULL;

	ck_assert_msg(ou_json_load_buffer("fixture", text, strlen(text), &j, &err) == 0, "%s",
	              err ? err->message : "");
	return j;
}

static char *dump(const json_t *j)
{
	struct ou_error *err = NULL;
	char *text = NULL;
	size_t len;

	ck_assert_int_eq(ou_json_dump(j, &text, &len, &err), 0);
	return text;
}

static json_t *config_ok(struct fixture *f)
{
	struct ou_error *err = NULL;
	json_t *cfg = NULL;
	int r;

	r = ou_oci_make_config(&f->info, &cfg, &f->notes, &f->n_notes, &err);
	ck_assert_msg(r == 0, "make_config failed: %s", err ? err->message : "");
	return cfg;
}

/* The dump of @key inside config.config, or "" when absent. */
static char *config_field(const json_t *cfg, const char *key)
{
	const json_t *v = json_object_get(json_object_get(cfg, "config"), key);

	return v ? dump(v) : xstrdup("");
}

static void set_kv(struct ou_spec_kv *kv, const char *key, const char *value, unsigned line)
{
	kv->key = (char *)key;
	kv->value = (char *)value;
	kv->line = line;
}

/* ---------------------------------------------------------------------- */
/* Time                                                                   */

START_TEST(test_format_time_gives_rfc3339_utc)
{
	char buf[32];

	ou_oci_format_time(0, buf);
	ck_assert_str_eq(buf, "1970-01-01T00:00:00Z");
	ou_oci_format_time(315532800, buf);
	ck_assert_str_eq(buf, "1980-01-01T00:00:00Z");
	ou_oci_format_time(1600000000, buf);
	ck_assert_str_eq(buf, "2020-09-13T12:26:40Z");
	ou_oci_format_time(1700000000, buf);
	ck_assert_str_eq(buf, "2023-11-14T22:13:20Z");
	ou_oci_format_time(OU_MAX_EPOCH, buf);
	ck_assert_str_eq(buf, "9999-12-31T23:59:59Z");
}
END_TEST

START_TEST(test_format_time_ignores_tz)
{
	char buf[32];

	setenv("TZ", "America/Los_Angeles", 1);
	tzset();
	ou_oci_format_time(315532800, buf);
	ck_assert_str_eq(buf, "1980-01-01T00:00:00Z");
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Config                                                                 */

START_TEST(test_config_for_a_tarball_base_is_exact)
{
	struct fixture f;
	_cleanup_json_ json_t *cfg = NULL;
	_cleanup_free_ char *text = NULL, *expected = NULL;

	fixture_init(&f, 2);
	cfg = config_ok(&f);
	text = dump(cfg);
	expected = xasprintf(
	        "{\"architecture\":\"amd64\",\"config\":{\"Env\":[\"" DEFAULT_PATH "\"],"
	        "\"User\":\"10001\"},\"created\":\"2023-11-14T22:13:20Z\","
	        "\"history\":[{\"created\":\"2023-11-14T22:13:20Z\",\"created_by\":\"base layer\"},"
	        "{\"created\":\"2023-11-14T22:13:20Z\",\"created_by\":\"ociuser: accounts\"}],"
	        "\"os\":\"linux\",\"rootfs\":{\"diff_ids\":[\"%s\",\"%s\"],\"type\":\"layers\"}}",
	        f.layers[0].diff_id, f.layers[1].diff_id);
	ck_assert_str_eq(text, expected);
	ck_assert_uint_eq(f.n_notes, 0);
	fixture_release(&f);
}
END_TEST

START_TEST(test_config_carries_variant_only_when_set)
{
	struct fixture f;
	_cleanup_json_ json_t *a = NULL, *b = NULL;

	fixture_init(&f, 1);
	a = config_ok(&f);
	ck_assert_ptr_null(json_object_get(a, "variant"));
	f.info.architecture = "arm64";
	f.info.variant = "v8";
	b = config_ok(&f);
	ck_assert_str_eq(ou_json_get_string(b, "variant"), "v8");
	ck_assert_str_eq(ou_json_get_string(b, "architecture"), "arm64");
	fixture_release(&f);
}
END_TEST

START_TEST(test_config_env_replaces_by_name_in_place)
{
	struct fixture f;
	struct ou_spec_kv env[3];
	_cleanup_json_ json_t *base =
	        parse("{\"config\":{\"Env\":[\"PATH=/usr/bin:/bin\",\"A=1\",\"B=2\",\"A=dup\"]}}");
	_cleanup_json_ json_t *cfg = NULL;
	_cleanup_free_ char *e = NULL;

	fixture_init(&f, 1);
	set_kv(&env[0], "A", "3", 4);
	set_kv(&env[1], "C", "4", 5);
	set_kv(&env[2], "PATH", "/opt/bin", 6);
	f.spec.env = env;
	f.spec.n_env = 3;
	f.info.base_config = base;
	f.info.n_base_history_layers = 1;
	cfg = config_ok(&f);
	e = config_field(cfg, "Env");
	ck_assert_str_eq(e, "[\"PATH=/opt/bin\",\"A=3\",\"B=2\",\"C=4\"]");
	fixture_release(&f);
}
END_TEST

START_TEST(test_config_env_gets_default_path_only_when_none)
{
	struct fixture f;
	_cleanup_json_ json_t *base = parse("{\"config\":{\"Env\":[\"PATH=/usr/bin:/bin\"]}}");
	_cleanup_json_ json_t *base2 = parse("{\"config\":{\"Env\":[\"LANG=C.UTF-8\"]}}");
	_cleanup_json_ json_t *a = NULL, *b = NULL;
	_cleanup_free_ char *ea = NULL, *eb = NULL;

	fixture_init(&f, 1);
	f.info.base_config = base;
	a = config_ok(&f);
	ea = config_field(a, "Env");
	ck_assert_str_eq(ea, "[\"PATH=/usr/bin:/bin\"]");
	f.info.base_config = base2;
	b = config_ok(&f);
	eb = config_field(b, "Env");
	ck_assert_str_eq(eb, "[\"" DEFAULT_PATH "\",\"LANG=C.UTF-8\"]");
	fixture_release(&f);
}
END_TEST

START_TEST(test_config_base_home_is_replaced_by_the_users_with_a_note)
{
	struct fixture f;
	_cleanup_json_ json_t *base =
	        parse("{\"config\":{\"Env\":[\"PATH=/usr/bin:/bin\",\"HOME=/root\"],"
	              "\"WorkingDir\":\"/root\"}}");
	_cleanup_json_ json_t *cfg = NULL;
	_cleanup_free_ char *e = NULL;

	fixture_init(&f, 1);
	f.info.base_config = base;
	cfg = config_ok(&f);
	e = config_field(cfg, "Env");
	ck_assert_str_eq(e, "[\"PATH=/usr/bin:/bin\",\"HOME=/home/app\"]");
	ck_assert_uint_eq(f.n_notes, 1);
	ck_assert_ptr_null(f.notes[1]);
	ck_assert_ptr_nonnull(strstr(f.notes[0], "HOME=/root from the base image"));
	ck_assert_ptr_nonnull(strstr(f.notes[0], "/home/app"));
	fixture_release(&f);
}
END_TEST

START_TEST(test_config_spec_home_wins_without_a_note)
{
	struct fixture f;
	struct ou_spec_kv env[1];
	_cleanup_json_ json_t *base =
	        parse("{\"config\":{\"Env\":[\"PATH=/usr/bin:/bin\",\"HOME=/root\"]}}");
	_cleanup_json_ json_t *cfg = NULL;
	_cleanup_free_ char *e = NULL;

	fixture_init(&f, 1);
	set_kv(&env[0], "HOME", "/srv", 3);
	f.spec.env = env;
	f.spec.n_env = 1;
	f.info.base_config = base;
	cfg = config_ok(&f);
	e = config_field(cfg, "Env");
	ck_assert_str_eq(e, "[\"PATH=/usr/bin:/bin\",\"HOME=/srv\"]");
	ck_assert_uint_eq(f.n_notes, 0);
	fixture_release(&f);
}
END_TEST

START_TEST(test_config_home_already_the_users_gives_no_note_and_none_is_added)
{
	struct fixture f;
	_cleanup_json_ json_t *same = parse("{\"config\":{\"Env\":[\"HOME=/home/app\"]}}");
	_cleanup_json_ json_t *none = parse("{\"config\":{\"Env\":[\"A=1\"]}}");
	_cleanup_json_ json_t *a = NULL, *b = NULL;
	_cleanup_free_ char *eb = NULL;

	fixture_init(&f, 1);
	f.info.base_config = same;
	a = config_ok(&f);
	ck_assert_uint_eq(f.n_notes, 0);
	f.info.base_config = none;
	b = config_ok(&f);
	eb = config_field(b, "Env");
	ck_assert_str_eq(eb, "[\"" DEFAULT_PATH "\",\"A=1\"]");
	fixture_release(&f);
}
END_TEST

static char *argv_demo[] = {(char *)"/app/run", (char *)"--flag", NULL};
static char *cmd_demo[] = {(char *)"serve", NULL};

START_TEST(test_config_entrypoint_from_spec_clears_inherited_cmd)
{
	struct fixture f;
	_cleanup_json_ json_t *base =
	        parse("{\"config\":{\"Entrypoint\":[\"/old\"],\"Cmd\":[\"bash\"]}}");
	_cleanup_json_ json_t *cfg = NULL;
	_cleanup_free_ char *ep = NULL, *cmd = NULL;

	fixture_init(&f, 1);
	f.spec.entrypoint = (struct ou_spec_argv){.set = true, .argv = argv_demo, .argc = 2};
	f.info.base_config = base;
	cfg = config_ok(&f);
	ep = config_field(cfg, "Entrypoint");
	cmd = config_field(cfg, "Cmd");
	ck_assert_str_eq(ep, "[\"/app/run\",\"--flag\"]");
	ck_assert_str_eq(cmd, "");
	fixture_release(&f);
}
END_TEST

START_TEST(test_config_entrypoint_and_cmd_from_spec_both_stay)
{
	struct fixture f;
	_cleanup_json_ json_t *base = parse("{\"config\":{\"Cmd\":[\"bash\"]}}");
	_cleanup_json_ json_t *cfg = NULL;
	_cleanup_free_ char *ep = NULL, *cmd = NULL;

	fixture_init(&f, 1);
	f.spec.entrypoint = (struct ou_spec_argv){.set = true, .argv = argv_demo, .argc = 2};
	f.spec.cmd = (struct ou_spec_argv){.set = true, .argv = cmd_demo, .argc = 1};
	f.info.base_config = base;
	cfg = config_ok(&f);
	ep = config_field(cfg, "Entrypoint");
	cmd = config_field(cfg, "Cmd");
	ck_assert_str_eq(ep, "[\"/app/run\",\"--flag\"]");
	ck_assert_str_eq(cmd, "[\"serve\"]");
	fixture_release(&f);
}
END_TEST

START_TEST(test_config_cmd_from_spec_keeps_inherited_entrypoint)
{
	struct fixture f;
	_cleanup_json_ json_t *base =
	        parse("{\"config\":{\"Entrypoint\":[\"/old\"],\"Cmd\":[\"bash\"]}}");
	_cleanup_json_ json_t *cfg = NULL;
	_cleanup_free_ char *ep = NULL, *cmd = NULL;

	fixture_init(&f, 1);
	f.spec.cmd = (struct ou_spec_argv){.set = true, .argv = cmd_demo, .argc = 1};
	f.info.base_config = base;
	cfg = config_ok(&f);
	ep = config_field(cfg, "Entrypoint");
	cmd = config_field(cfg, "Cmd");
	ck_assert_str_eq(ep, "[\"/old\"]");
	ck_assert_str_eq(cmd, "[\"serve\"]");
	fixture_release(&f);
}
END_TEST

START_TEST(test_config_empty_entrypoint_from_spec_clears_both)
{
	struct fixture f;
	static char *empty[] = {NULL};
	_cleanup_json_ json_t *base =
	        parse("{\"config\":{\"Entrypoint\":[\"/old\"],\"Cmd\":[\"bash\"]}}");
	_cleanup_json_ json_t *cfg = NULL;

	fixture_init(&f, 1);
	f.spec.entrypoint = (struct ou_spec_argv){.set = true, .argv = empty, .argc = 0};
	f.info.base_config = base;
	cfg = config_ok(&f);
	ck_assert_ptr_null(json_object_get(json_object_get(cfg, "config"), "Entrypoint"));
	ck_assert_ptr_null(json_object_get(json_object_get(cfg, "config"), "Cmd"));
	fixture_release(&f);
}
END_TEST

START_TEST(test_config_inherits_what_the_spec_leaves_unset_but_not_user)
{
	struct fixture f;
	_cleanup_json_ json_t *base =
	        parse("{\"architecture\":\"arm64\",\"config\":{\"User\":\"nobody\","
	              "\"Entrypoint\":[\"/e\"],\"Cmd\":[\"c\"],\"WorkingDir\":\"/w\","
	              "\"Volumes\":{\"/data\":{}},\"StopSignal\":\"SIGINT\",\"OnBuild\":[\"x\"]}}");
	_cleanup_json_ json_t *cfg = NULL;
	_cleanup_free_ char *c = NULL;

	fixture_init(&f, 1);
	f.info.base_config = base;
	cfg = config_ok(&f);
	c = dump(json_object_get(cfg, "config"));
	ck_assert_str_eq(c, "{\"Cmd\":[\"c\"],\"Entrypoint\":[\"/e\"],\"Env\":[\"" DEFAULT_PATH
	                    "\"],\"StopSignal\":\"SIGINT\",\"User\":\"10001\",\"Volumes\":{"
	                    "\"/data\":{}},\"WorkingDir\":\"/w\"}");
	/* The platform is the build's decision, not copied here. */
	ck_assert_str_eq(ou_json_get_string(cfg, "architecture"), "amd64");
	fixture_release(&f);
}
END_TEST

START_TEST(test_config_spec_workdir_and_stop_signal_override_the_base)
{
	struct fixture f;
	_cleanup_json_ json_t *base =
	        parse("{\"config\":{\"WorkingDir\":\"/root\",\"StopSignal\":\"SIGINT\"}}");
	_cleanup_json_ json_t *cfg = NULL;
	_cleanup_free_ char *w = NULL, *s = NULL;

	fixture_init(&f, 1);
	f.spec.workdir = (struct ou_spec_value){.str = (char *)"/app", .line = 3};
	f.spec.stop_signal = (struct ou_spec_value){.str = (char *)"SIGTERM", .line = 4};
	f.info.base_config = base;
	cfg = config_ok(&f);
	w = config_field(cfg, "WorkingDir");
	s = config_field(cfg, "StopSignal");
	ck_assert_str_eq(w, "\"/app\"");
	ck_assert_str_eq(s, "\"SIGTERM\"");
	fixture_release(&f);
}
END_TEST

START_TEST(test_config_labels_merge_with_spec_winning)
{
	struct fixture f;
	struct ou_spec_kv labels[2];
	_cleanup_json_ json_t *base = parse("{\"config\":{\"Labels\":{\"a\":\"1\",\"b\":\"2\"}}}");
	_cleanup_json_ json_t *cfg = NULL;
	_cleanup_free_ char *l = NULL;

	fixture_init(&f, 1);
	set_kv(&labels[0], "b", "3", 5);
	set_kv(&labels[1], "c", "", 6);
	f.spec.labels = labels;
	f.spec.n_labels = 2;
	f.info.base_config = base;
	cfg = config_ok(&f);
	l = config_field(cfg, "Labels");
	ck_assert_str_eq(l, "{\"a\":\"1\",\"b\":\"3\",\"c\":\"\"}");
	fixture_release(&f);
}
END_TEST

START_TEST(test_config_escapes_labels_and_env_values)
{
	const char *tricky = "say \"hi\" \\ a\nb caf\xc3\xa9 \xe2\x98\x83";
	struct fixture f;
	struct ou_spec_kv labels[1], env[1];
	_cleanup_json_ json_t *cfg = NULL, *back = NULL;
	_cleanup_free_ char *text = NULL, *entry = xasprintf("X=%s", tricky);
	struct ou_error *err = NULL;

	fixture_init(&f, 1);
	set_kv(&labels[0], "org.example/\"q\"", tricky, 5);
	set_kv(&env[0], "X", tricky, 6);
	f.spec.labels = labels;
	f.spec.n_labels = 1;
	f.spec.env = env;
	f.spec.n_env = 1;
	cfg = config_ok(&f);
	text = dump(cfg);
	ck_assert_ptr_nonnull(strstr(text, "\"org.example/\\\"q\\\"\":\"say \\\"hi\\\" \\\\ a\\nb "
	                                   "caf\xc3\xa9 \xe2\x98\x83\""));
	ck_assert_int_eq(ou_json_load_buffer("config", text, strlen(text), &back, &err), 0);
	ck_assert_str_eq(
	        ou_json_get_string(json_object_get(json_object_get(back, "config"), "Labels"),
	                           "org.example/\"q\""),
	        tricky);
	ck_assert_str_eq(json_string_value(json_array_get(
	                         json_object_get(json_object_get(back, "config"), "Env"), 1)),
	                 entry);
	fixture_release(&f);
}
END_TEST

START_TEST(test_config_refuses_spec_text_that_is_not_utf8_naming_the_line)
{
	struct fixture f;
	struct ou_spec_kv labels[1];
	struct ou_error *err = NULL;
	json_t *cfg = NULL;

	fixture_init(&f, 1);
	set_kv(&labels[0], "k", "bad \xff byte", 7);
	f.spec.labels = labels;
	f.spec.n_labels = 1;
	ck_assert_int_lt(ou_oci_make_config(&f.info, &cfg, &f.notes, &f.n_notes, &err), 0);
	ck_assert_ptr_null(cfg);
	ck_assert_int_eq(err->code, EINVAL);
	ck_assert_str_eq(err->message, "spec.ini:7: label is not valid UTF-8");
	ou_error_free(err);
	fixture_release(&f);
}
END_TEST

START_TEST(test_config_exposed_ports_are_empty_objects_merged_with_the_base)
{
	struct fixture f;
	struct ou_spec_value expose[2] = {{.str = (char *)"80/tcp", .line = 3},
	                                  {.str = (char *)"53/udp", .line = 4}};
	_cleanup_json_ json_t *base =
	        parse("{\"config\":{\"ExposedPorts\":{\"8080/tcp\":{\"odd\":1}}}}");
	_cleanup_json_ json_t *cfg = NULL;
	_cleanup_free_ char *p = NULL;

	fixture_init(&f, 1);
	f.spec.expose = expose;
	f.spec.n_expose = 2;
	f.info.base_config = base;
	cfg = config_ok(&f);
	p = config_field(cfg, "ExposedPorts");
	ck_assert_str_eq(p, "{\"53/udp\":{},\"80/tcp\":{},\"8080/tcp\":{}}");
	fixture_release(&f);
}
END_TEST

START_TEST(test_config_history_keeps_the_bases_entries_then_ours)
{
	struct fixture f;
	_cleanup_json_ json_t *base =
	        parse("{\"history\":[{\"created\":\"2001-01-01T00:00:00Z\",\"created_by\":\"ADD\"},"
	              "{\"created_by\":\"CMD\",\"empty_layer\":true}]}");
	_cleanup_json_ json_t *cfg = NULL;
	_cleanup_free_ char *h = NULL, *expected = NULL;

	fixture_init(&f, 3);
	free(f.layers[2].comment);
	f.layers[2].comment = xstrdup("app files");
	f.info.base_config = base;
	f.info.n_base_history_layers = 1;
	cfg = config_ok(&f);
	h = dump(json_object_get(cfg, "history"));
	ck_assert_str_eq(
	        h, "[{\"created\":\"2001-01-01T00:00:00Z\",\"created_by\":\"ADD\"},"
	           "{\"created_by\":\"CMD\",\"empty_layer\":true},"
	           "{\"created\":\"2023-11-14T22:13:20Z\",\"created_by\":\"ociuser: accounts\"},"
	           "{\"comment\":\"app files\",\"created\":\"2023-11-14T22:13:20Z\","
	           "\"created_by\":\"ociuser: files\"}]");
	ck_assert_uint_eq(
	        json_array_size(json_object_get(json_object_get(cfg, "rootfs"), "diff_ids")), 3);
	fixture_release(&f);
}
END_TEST

START_TEST(test_config_history_of_a_squashed_image_is_ours_only)
{
	struct fixture f;
	_cleanup_json_ json_t *base = parse("{\"history\":[{\"created_by\":\"ADD\"}]}");
	_cleanup_json_ json_t *cfg = NULL;
	const json_t *h;

	fixture_init(&f, 1);
	f.info.base_config = base;
	f.info.n_base_history_layers = 0;
	cfg = config_ok(&f);
	h = json_object_get(cfg, "history");
	ck_assert_uint_eq(json_array_size(h), 1);
	ck_assert_str_eq(ou_json_get_string(json_array_get(h, 0), "created_by"), "base layer");
	fixture_release(&f);
}
END_TEST

START_TEST(test_config_history_fills_base_layers_the_base_does_not_describe)
{
	struct fixture f;
	_cleanup_json_ json_t *base = parse("{\"config\":{}}");
	_cleanup_json_ json_t *cfg = NULL;

	fixture_init(&f, 3);
	f.info.base_config = base;
	f.info.n_base_history_layers = 2;
	cfg = config_ok(&f);
	ck_assert_uint_eq(json_array_size(json_object_get(cfg, "history")), 3);
	fixture_release(&f);
}
END_TEST

START_TEST(test_config_refuses_a_base_config_of_the_wrong_shape)
{
	static const char *const bad[] = {
	        "{\"config\":{\"Env\":\"PATH=/bin\"}}",
	        "{\"config\":{\"Env\":[1]}}",
	        "{\"config\":{\"Env\":[\"PATH=/bin\",\"NOEQUALS\"]}}",
	        "{\"config\":{\"Env\":[\"=empty\"]}}",
	        "{\"config\":{\"WorkingDir\":\"../../etc\"}}",
	        "{\"config\":{\"Cmd\":{}}}",
	        "{\"config\":{\"Labels\":{\"a\":1}}}",
	        "{\"config\":[]}",
	        "{\"history\":[1]}",
	};
	struct fixture f;

	fixture_init(&f, 1);
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		_cleanup_json_ json_t *base = parse(bad[i]);
		struct ou_error *err = NULL;
		json_t *cfg = NULL;

		f.info.base_config = base;
		f.info.n_base_history_layers = 1;
		ck_assert_msg(ou_oci_make_config(&f.info, &cfg, &f.notes, &f.n_notes, &err) < 0,
		              "accepted %s", bad[i]);
		ck_assert_int_eq(err->code, EBADMSG);
		ck_assert_ptr_nonnull(strstr(err->message, "base image config"));
		ou_error_free(err);
	}
	fixture_release(&f);
}
END_TEST

START_TEST(test_config_accepts_null_members_of_a_docker_config)
{
	struct fixture f;
	_cleanup_json_ json_t *base = parse("{\"config\":{\"Cmd\":null,\"Entrypoint\":null,"
	                                    "\"Env\":null,\"Labels\":null,\"Volumes\":null}}");
	_cleanup_json_ json_t *cfg = NULL;
	_cleanup_free_ char *c = NULL;

	fixture_init(&f, 1);
	f.info.base_config = base;
	cfg = config_ok(&f);
	c = dump(json_object_get(cfg, "config"));
	ck_assert_str_eq(c, "{\"Env\":[\"" DEFAULT_PATH "\"],\"User\":\"10001\"}");
	fixture_release(&f);
}
END_TEST

START_TEST(test_config_refuses_a_timestamp_past_9999)
{
	struct fixture f;
	struct ou_error *err = NULL;
	json_t *cfg = NULL;

	fixture_init(&f, 1);
	f.info.epoch = OU_MAX_EPOCH + 1;
	ck_assert_int_lt(ou_oci_make_config(&f.info, &cfg, &f.notes, &f.n_notes, &err), 0);
	ck_assert_int_eq(err->code, EINVAL);
	f.info.epoch = -1;
	ck_assert_int_lt(ou_oci_make_config(&f.info, &cfg, &f.notes, &f.n_notes, &err), 0);
	ck_assert_ptr_null(cfg);
	ou_error_free(err);
	fixture_release(&f);
}
END_TEST

START_TEST(test_config_is_the_same_bytes_twice)
{
	struct fixture f;
	_cleanup_json_ json_t *a = NULL, *b = NULL;
	_cleanup_free_ char *ta = NULL, *tb = NULL;

	fixture_init(&f, 2);
	a = config_ok(&f);
	b = config_ok(&f);
	ta = dump(a);
	tb = dump(b);
	ck_assert_str_eq(ta, tb);
	fixture_release(&f);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Manifest                                                               */

static struct ou_descriptor config_desc(void)
{
	return (struct ou_descriptor){
	        .media_type = (char *)OU_MT_CONFIG, .digest = digest_of("config"), .size = 6};
}

START_TEST(test_manifest_is_exact_without_annotations)
{
	struct fixture f;
	struct ou_descriptor cd = config_desc();
	_cleanup_json_ json_t *m = NULL;
	_cleanup_free_ char *text = NULL, *expected = NULL;
	struct ou_error *err = NULL;

	fixture_init(&f, 1);
	ck_assert_int_eq(ou_oci_make_manifest(&f.info, &cd, NULL, &m, &err), 0);
	text = dump(m);
	expected = xasprintf("{\"config\":{\"digest\":\"%s\",\"mediaType\":\"" OU_MT_CONFIG
	                     "\",\"size\":6},"
	                     "\"layers\":[{\"digest\":\"%s\",\"mediaType\":\"" OU_MT_LAYER_GZIP
	                     "\",\"size\":7}],"
	                     "\"mediaType\":\"" OU_MT_MANIFEST "\",\"schemaVersion\":2}",
	                     cd.digest, f.layers[0].desc.digest);
	ck_assert_str_eq(text, expected);
	free(cd.digest);
	fixture_release(&f);
}
END_TEST

START_TEST(test_manifest_annotations_merge_spec_over_extra)
{
	struct fixture f;
	struct ou_spec_kv ann[2];
	struct ou_descriptor cd = config_desc();
	_cleanup_json_ json_t *m = NULL;
	_cleanup_json_ json_t *extra = json_pack("{s:s,s:s}", OU_ANNOTATION_BASE_NAME, "base",
	                                         OU_ANNOTATION_BASE_DIGEST, "sha256:x");
	_cleanup_free_ char *a = NULL;
	struct ou_error *err = NULL;

	fixture_init(&f, 1);
	set_kv(&ann[0], "org.opencontainers.image.source", "https://e.org/\"x\"", 3);
	set_kv(&ann[1], OU_ANNOTATION_BASE_NAME, "docker.io/library/debian:12", 4);
	f.spec.annotations = ann;
	f.spec.n_annotations = 2;
	ck_assert_int_eq(ou_oci_make_manifest(&f.info, &cd, extra, &m, &err), 0);
	a = dump(json_object_get(m, "annotations"));
	ck_assert_str_eq(a, "{\"" OU_ANNOTATION_BASE_DIGEST
	                    "\":\"sha256:x\",\"" OU_ANNOTATION_BASE_NAME
	                    "\":\"docker.io/library/debian:12\",\"org.opencontainers.image."
	                    "source\":\"https://e.org/\\\"x\\\"\"}");
	free(cd.digest);
	fixture_release(&f);
}
END_TEST

START_TEST(test_manifest_refuses_a_docker_layer_type)
{
	struct fixture f;
	struct ou_descriptor cd = config_desc();
	struct ou_error *err = NULL;
	json_t *m = NULL;

	fixture_init(&f, 1);
	free(f.layers[0].desc.media_type);
	f.layers[0].desc.media_type = xstrdup("application/vnd.docker.image.rootfs.diff.tar.gzip");
	ck_assert_int_lt(ou_oci_make_manifest(&f.info, &cd, NULL, &m, &err), 0);
	ck_assert_ptr_null(m);
	ck_assert_ptr_nonnull(strstr(err->message, "vnd.docker"));
	ou_error_free(err);
	free(cd.digest);
	fixture_release(&f);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Layout writer                                                          */

static char *tmp_root;

static int rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	chmod(path, 0700);
	return remove(path);
}

static void layout_setup(void)
{
	tmp_root = xstrdup("/tmp/ou-test-oci-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmp_root));
	umask(077);
}

static void layout_teardown(void)
{
	nftw(tmp_root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(tmp_root);
}

static char *tpath(const char *name)
{
	return xasprintf("%s/%s", tmp_root, name);
}

/* A listing of everything under @path: relative name, type, mode, content digest. */
static void snapshot_into(struct ou_strbuf *sb, const char *path, const char *rel)
{
	struct dirent **names;
	int n = scandir(path, &names, NULL, alphasort);

	ck_assert_int_ge(n, 0);
	for (int i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		_cleanup_free_ char *full = xasprintf("%s/%s", path, name);
		_cleanup_free_ char *r = xasprintf("%s%s", rel, name);
		struct stat st;

		if (!strcmp(name, ".") || !strcmp(name, "..")) {
			free(names[i]);
			continue;
		}
		ck_assert_int_eq(lstat(full, &st), 0);
		if (S_ISDIR(st.st_mode)) {
			_cleanup_free_ char *sub = xasprintf("%s/", r);
			ou_strbuf_printf(sb, "%s d %o\n", r, st.st_mode & 07777);
			snapshot_into(sb, full, sub);
		} else {
			_cleanup_free_ char *data = NULL;
			struct ou_error *err = NULL;
			char d[OU_DIGEST_STRLEN];
			size_t len;

			ck_assert_int_eq(ou_read_file(full, 1 << 24, &data, &len, &err), 0);
			ou_sha256_buffer(data, len, d);
			ou_strbuf_printf(sb, "%s f %o %s\n", r, st.st_mode & 07777, d);
		}
		free(names[i]);
	}
	free(names);
}

static char *snapshot(const char *path)
{
	struct ou_strbuf sb = OU_STRBUF_INIT;

	char *s;

	snapshot_into(&sb, path, "");
	s = xstrdup(ou_strbuf_str(&sb));
	ou_strbuf_release(&sb);
	return s;
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* Stores @data as a blob the way a writer does: temp file (0600 here), rename. */
static void put_raw_blob(struct ou_oci_out *out, const char *data, struct ou_descriptor *ret)
{
	int dfd = ou_oci_out_blob_dirfd(out);
	char d[OU_DIGEST_STRLEN];
	int fd;

	ou_sha256_buffer(data, strlen(data), d);
	fd = openat(dfd, "layer.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, strlen(data)), (ssize_t)strlen(data));
	close(fd);
	ck_assert_int_eq(renameat(dfd, "layer.tmp", dfd, d + 7), 0);
	ret->media_type = xstrdup(OU_MT_LAYER_TAR);
	ret->digest = xstrdup(d);
	ret->size = (int64_t)strlen(data);
}

/*
 * Stages a one-layer image whose layer holds @seed; fills @ret_manifest.
 * Does not commit.
 */
static void stage_image(struct ou_oci_out *out, const char *seed,
                        struct ou_descriptor *ret_manifest)
{
	struct fixture f;
	struct ou_descriptor cd = {0};
	_cleanup_json_ json_t *cfg = NULL, *m = NULL;
	struct ou_error *err = NULL;

	fixture_init(&f, 1);
	ou_descriptor_release(&f.layers[0].desc);
	put_raw_blob(out, seed, &f.layers[0].desc);
	cfg = config_ok(&f);
	ck_assert_int_eq(ou_oci_out_put_json(out, cfg, OU_MT_CONFIG, &cd, &err), 0);
	ck_assert_int_eq(ou_oci_make_manifest(&f.info, &cd, NULL, &m, &err), 0);
	ck_assert_int_eq(ou_oci_out_put_json(out, m, OU_MT_MANIFEST, ret_manifest, &err), 0);
	ou_descriptor_release(&cd);
	fixture_release(&f);
}

/* Builds and commits an image into @path; returns the manifest digest. */
static char *build_image(const char *path, const char *tag, const char *seed)
{
	_cleanup_(ou_oci_out_freep) struct ou_oci_out *out = NULL;
	struct ou_descriptor md = {0};
	struct ou_error *err = NULL;
	char *digest;
	int r;

	r = ou_oci_out_open(path, &out, &err);
	ck_assert_msg(r == 0, "open: %s", err ? err->message : "");
	stage_image(out, seed, &md);
	r = ou_oci_out_commit(out, &md, tag, &err);
	ck_assert_msg(r == 0, "commit: %s", err ? err->message : "");
	digest = TAKE_PTR(md.digest);
	ou_descriptor_release(&md);
	return digest;
}

static json_t *load_index(const char *out)
{
	_cleanup_free_ char *p = xasprintf("%s/index.json", out);
	struct ou_error *err = NULL;
	json_t *j = NULL;

	ck_assert_int_eq(ou_json_load_file(p, 1 << 20, &j, &err), 0);
	return j;
}

/* The digest index.json gives @tag, or NULL; borrowed from @index. */
static const char *digest_for_tag(const json_t *index, const char *tag)
{
	const json_t *m;
	size_t i;

	json_array_foreach(json_object_get(index, "manifests"), i, m)
	{
		const char *ref = ou_json_get_string(json_object_get(m, "annotations"),
		                                     OU_ANNOTATION_REF_NAME);
		if (ref && !strcmp(ref, tag))
			return ou_json_get_string(m, "digest");
	}
	return NULL;
}

static int check_modes_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)ftw;
	if (flag == FTW_D)
		ck_assert_msg((st->st_mode & 07777) == 0755, "%s is %o", path, st->st_mode & 07777);
	else
		ck_assert_msg(S_ISREG(st->st_mode) && (st->st_mode & 07777) == 0644, "%s is %o",
		              path, st->st_mode & 07777);
	return 0;
}

START_TEST(test_layout_missing_out_is_created_whole)
{
	_cleanup_free_ char *out = tpath("img"), *digest = NULL, *layout = NULL, *listing = NULL;
	_cleanup_free_ char *layout_path = xasprintf("%s/oci-layout", out);
	_cleanup_json_ json_t *index = NULL;
	_cleanup_free_ char *idx = NULL, *expected = NULL;
	struct ou_error *err = NULL;
	size_t len;

	digest = build_image(out, "latest", "layer one");
	ck_assert_int_eq(ou_read_file(layout_path, 100, &layout, &len, &err), 0);
	ck_assert_str_eq(layout, "{\"imageLayoutVersion\":\"1.0.0\"}");
	index = load_index(out);
	idx = dump(index);
	ck_assert_uint_eq(json_array_size(json_object_get(index, "manifests")), 1);
	ck_assert_str_eq(digest_for_tag(index, "latest"), digest);
	ck_assert_str_eq(ou_json_get_string(index, "mediaType"), OU_MT_INDEX);
	ck_assert_int_eq(json_integer_value(json_object_get(index, "schemaVersion")), 2);
	ck_assert_str_eq(ou_json_get_string(json_array_get(json_object_get(index, "manifests"), 0),
	                                    "mediaType"),
	                 OU_MT_MANIFEST);
	/* Nothing else is left next to OUT: the staging folder became OUT. */
	listing = snapshot(tmp_root);
	ck_assert_ptr_null(strstr(listing, "ociuser"));
	ck_assert_ptr_nonnull(strstr(listing, "img/blobs/sha256/"));
	/* Three blobs: layer, config, manifest. */
	{
		struct ou_strbuf sb = OU_STRBUF_INIT;
		size_t n_blobs = 0;

		snapshot_into(&sb, out, "");
		for (const char *p = sb.buf; (p = strstr(p, "blobs/sha256/")); p++)
			n_blobs++;
		ck_assert_uint_eq(n_blobs, 3);
		ou_strbuf_release(&sb);
	}
	ou_error_free(err);
}
END_TEST

START_TEST(test_layout_files_are_0644_and_folders_0755_under_umask_077)
{
	_cleanup_free_ char *out = tpath("img"), *d1 = NULL, *d2 = NULL;
	_cleanup_free_ char *empty = tpath("empty");

	ck_assert_int_eq(umask(077), 077);
	d1 = build_image(out, "latest", "a");
	ck_assert_int_eq(nftw(out, check_modes_cb, 16, FTW_PHYS), 0);
	/* An existing empty folder: what ociuser creates in it follows the same rule. */
	/* An existing OUT keeps the mode its owner gave it. */
	ck_assert_int_eq(mkdir(empty, 0755), 0);
	ck_assert_int_eq(chmod(empty, 0755), 0);
	d2 = build_image(empty, "latest", "b");
	ck_assert_int_eq(nftw(empty, check_modes_cb, 16, FTW_PHYS), 0);
}
END_TEST

START_TEST(test_layout_empty_folder_is_accepted)
{
	_cleanup_free_ char *out = tpath("empty"), *digest = NULL;
	_cleanup_json_ json_t *index = NULL;

	ck_assert_int_eq(mkdir(out, 0755), 0);
	digest = build_image(out, "1.0", "x");
	index = load_index(out);
	ck_assert_str_eq(digest_for_tag(index, "1.0"), digest);
}
END_TEST

START_TEST(test_layout_second_tag_is_kept_and_same_tag_replaced)
{
	_cleanup_free_ char *out = tpath("img");
	_cleanup_free_ char *d1 = NULL, *d2 = NULL, *d3 = NULL;
	_cleanup_json_ json_t *after2 = NULL, *after3 = NULL;

	d1 = build_image(out, "1.0", "first");
	d2 = build_image(out, "latest", "second");
	after2 = load_index(out);
	ck_assert_uint_eq(json_array_size(json_object_get(after2, "manifests")), 2);
	ck_assert_str_eq(digest_for_tag(after2, "1.0"), d1);
	ck_assert_str_eq(digest_for_tag(after2, "latest"), d2);

	d3 = build_image(out, "1.0", "third");
	ck_assert_str_ne(d3, d1);
	after3 = load_index(out);
	ck_assert_uint_eq(json_array_size(json_object_get(after3, "manifests")), 2);
	ck_assert_str_eq(digest_for_tag(after3, "1.0"), d3);
	ck_assert_str_eq(digest_for_tag(after3, "latest"), d2);
}
END_TEST

START_TEST(test_layout_keeps_foreign_descriptors_and_index_fields_as_they_are)
{
	_cleanup_free_ char *out = tpath("img"), *d1 = NULL, *d2 = NULL;
	_cleanup_free_ char *index_path = NULL, *text = NULL, *foreign = NULL;
	_cleanup_json_ json_t *index = NULL, *after = NULL;
	_cleanup_free_ char *foreign_after = NULL;

	d1 = build_image(out, "1.0", "first");
	index = load_index(out);
	json_object_set_new(index, "annotations", json_pack("{s:s}", "owner", "someone"));
	json_array_append_new(json_object_get(index, "manifests"),
	                      json_pack("{s:s,s:s,s:i,s:{s:s},s:{s:s}}", "mediaType",
	                                OU_MT_MANIFEST, "digest", d1, "size", 1, "platform",
	                                "architecture", "arm64", "annotations", "x", "y"));
	index_path = xasprintf("%s/index.json", out);
	text = dump(index);
	write_text(index_path, text);
	foreign = dump(json_array_get(json_object_get(index, "manifests"), 1));

	d2 = build_image(out, "latest", "second");
	after = load_index(out);
	ck_assert_uint_eq(json_array_size(json_object_get(after, "manifests")), 3);
	foreign_after = dump(json_array_get(json_object_get(after, "manifests"), 1));
	ck_assert_str_eq(foreign_after, foreign);
	ck_assert_str_eq(ou_json_get_string(json_object_get(after, "annotations"), "owner"),
	                 "someone");
}
END_TEST

START_TEST(test_layout_refuses_a_folder_that_is_not_a_layout_untouched)
{
	_cleanup_(ou_oci_out_freep) struct ou_oci_out *out = NULL;
	_cleanup_free_ char *dir = tpath("notes"), *notes = NULL, *before = NULL, *after = NULL;
	struct ou_error *err = NULL;

	ck_assert_int_eq(mkdir(dir, 0700), 0);
	notes = xasprintf("%s/notes.txt", dir);
	write_text(notes, "keep me\n");
	before = snapshot(tmp_root);
	ck_assert_int_lt(ou_oci_out_open(dir, &out, &err), 0);
	ck_assert_ptr_null(out);
	ck_assert_int_eq(err->code, EEXIST);
	ck_assert_ptr_nonnull(strstr(err->message, dir));
	ck_assert_ptr_nonnull(strstr(err->message, "not an OCI image layout"));
	after = snapshot(tmp_root);
	ck_assert_str_eq(after, before);
	ou_error_free(err);
}
END_TEST

START_TEST(test_layout_refuses_a_file_as_out)
{
	_cleanup_(ou_oci_out_freep) struct ou_oci_out *out = NULL;
	_cleanup_free_ char *file = tpath("file");
	struct ou_error *err = NULL;

	write_text(file, "x");
	ck_assert_int_lt(ou_oci_out_open(file, &out, &err), 0);
	ck_assert_ptr_nonnull(strstr(err->message, "not a folder"));
	ck_assert_ptr_nonnull(strstr(err->message, file));
	ou_error_free(err);
}
END_TEST

START_TEST(test_layout_refuses_a_broken_index_untouched)
{
	_cleanup_(ou_oci_out_freep) struct ou_oci_out *out = NULL;
	_cleanup_free_ char *dir = tpath("img"), *p = NULL, *before = NULL, *after = NULL;
	static const char *const broken[] = {
	        "{\"schemaVersion\":2,", "[]", "{\"schemaVersion\":1,\"manifests\":[]}",
	        "{\"schemaVersion\":2}", "{\"schemaVersion\":2,\"manifests\":[1]}"};
	struct ou_error *err = NULL;

	ck_assert_int_eq(mkdir(dir, 0755), 0);
	p = xasprintf("%s/oci-layout", dir);
	write_text(p, "{\"imageLayoutVersion\":\"1.0.0\"}");
	free(p);
	p = xasprintf("%s/index.json", dir);
	for (size_t i = 0; i < ELEMENTSOF(broken); i++) {
		write_text(p, broken[i]);
		before = snapshot(tmp_root);
		ck_assert_msg(ou_oci_out_open(dir, &out, &err) < 0, "accepted %s", broken[i]);
		ck_assert_int_eq(err->code, EBADMSG);
		ck_assert_ptr_nonnull(strstr(err->message, "index.json"));
		after = snapshot(tmp_root);
		ck_assert_str_eq(after, before);
		free(before);
		free(after);
		before = after = NULL;
	}
	ou_error_free(err);
}
END_TEST

START_TEST(test_layout_refuses_an_unknown_layout_version)
{
	_cleanup_(ou_oci_out_freep) struct ou_oci_out *out = NULL;
	_cleanup_free_ char *dir = tpath("img"), *p = NULL;
	struct ou_error *err = NULL;

	ck_assert_int_eq(mkdir(dir, 0755), 0);
	p = xasprintf("%s/oci-layout", dir);
	write_text(p, "{\"imageLayoutVersion\":\"2.0.0\"}");
	ck_assert_int_lt(ou_oci_out_open(dir, &out, &err), 0);
	ck_assert_ptr_nonnull(strstr(err->message, "2.0.0"));
	ou_error_free(err);
}
END_TEST

START_TEST(test_layout_accepts_a_bare_oci_layout_file)
{
	_cleanup_free_ char *dir = tpath("img"), *p = NULL, *d = NULL;
	_cleanup_json_ json_t *index = NULL;

	ck_assert_int_eq(mkdir(dir, 0755), 0);
	p = xasprintf("%s/oci-layout", dir);
	write_text(p, "{\"imageLayoutVersion\":\"1.0.0\"}");
	d = build_image(dir, "latest", "x");
	index = load_index(dir);
	ck_assert_str_eq(digest_for_tag(index, "latest"), d);
}
END_TEST

START_TEST(test_layout_free_without_commit_leaves_an_existing_out_unchanged)
{
	_cleanup_free_ char *dir = tpath("img"), *d1 = NULL, *before = NULL, *after = NULL;
	struct ou_descriptor md = {0};
	struct ou_oci_out *out = NULL;
	struct ou_error *err = NULL;

	d1 = build_image(dir, "latest", "first");
	before = snapshot(tmp_root);
	ck_assert_int_eq(ou_oci_out_open(dir, &out, &err), 0);
	stage_image(out, "second", &md);
	out = ou_oci_out_free(out);
	after = snapshot(tmp_root);
	ck_assert_str_eq(after, before);
	ou_descriptor_release(&md);
}
END_TEST

START_TEST(test_layout_free_without_commit_leaves_a_missing_out_missing)
{
	_cleanup_free_ char *dir = tpath("img"), *after = NULL;
	struct ou_descriptor md = {0};
	struct ou_oci_out *out = NULL;
	struct ou_error *err = NULL;
	struct stat st;

	ck_assert_int_eq(ou_oci_out_open(dir, &out, &err), 0);
	stage_image(out, "x", &md);
	out = ou_oci_out_free(out);
	ck_assert_int_lt(lstat(dir, &st), 0);
	after = snapshot(tmp_root);
	ck_assert_str_eq(after, "");
	ou_descriptor_release(&md);
}
END_TEST

START_TEST(test_layout_commit_refuses_a_manifest_whose_blobs_are_missing)
{
	_cleanup_free_ char *dir = tpath("img"), *d1 = NULL, *before = NULL, *after = NULL;
	_cleanup_(ou_oci_out_freep) struct ou_oci_out *out = NULL;
	struct fixture f;
	struct ou_descriptor cd = {0}, md = {0};
	_cleanup_json_ json_t *cfg = NULL, *m = NULL;
	struct ou_error *err = NULL;

	d1 = build_image(dir, "latest", "first");
	before = snapshot(tmp_root);
	ck_assert_int_eq(ou_oci_out_open(dir, &out, &err), 0);
	fixture_init(&f, 1); /* its layer blob is never stored */
	cfg = config_ok(&f);
	ck_assert_int_eq(ou_oci_out_put_json(out, cfg, OU_MT_CONFIG, &cd, &err), 0);
	ck_assert_int_eq(ou_oci_make_manifest(&f.info, &cd, NULL, &m, &err), 0);
	ck_assert_int_eq(ou_oci_out_put_json(out, m, OU_MT_MANIFEST, &md, &err), 0);
	ck_assert_int_lt(ou_oci_out_commit(out, &md, "latest", &err), 0);
	ck_assert_ptr_nonnull(strstr(err->message, f.layers[0].desc.digest));
	out = ou_oci_out_free(out);
	after = snapshot(tmp_root);
	/* The config and manifest blobs may have moved in; index.json did not change. */
	{
		_cleanup_json_ json_t *index = load_index(dir);
		ck_assert_str_eq(digest_for_tag(index, "latest"), d1);
	}
	ck_assert_ptr_null(strstr(after, "ociuser"));
	ou_descriptor_release(&cd);
	ou_descriptor_release(&md);
	ou_error_free(err);
	fixture_release(&f);
}
END_TEST

START_TEST(test_layout_out_that_appears_during_the_build_is_merged)
{
	_cleanup_free_ char *dir = tpath("img"), *listing = NULL;
	_cleanup_(ou_oci_out_freep) struct ou_oci_out *out = NULL;
	_cleanup_json_ json_t *index = NULL;
	struct ou_descriptor md = {0};
	struct ou_error *err = NULL;

	ck_assert_int_eq(ou_oci_out_open(dir, &out, &err), 0);
	stage_image(out, "x", &md);
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	ck_assert_int_eq(ou_oci_out_commit(out, &md, "latest", &err), 0);
	out = ou_oci_out_free(out);
	index = load_index(dir);
	ck_assert_str_eq(digest_for_tag(index, "latest"), md.digest);
	listing = snapshot(tmp_root);
	ck_assert_ptr_null(strstr(listing, "ociuser"));
	ou_descriptor_release(&md);
}
END_TEST

START_TEST(test_layout_out_that_appears_as_a_non_layout_is_refused)
{
	_cleanup_free_ char *dir = tpath("img"), *notes = NULL, *before = NULL, *after = NULL;
	_cleanup_(ou_oci_out_freep) struct ou_oci_out *out = NULL;
	struct ou_descriptor md = {0};
	struct ou_error *err = NULL;

	ck_assert_int_eq(ou_oci_out_open(dir, &out, &err), 0);
	stage_image(out, "x", &md);
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	notes = xasprintf("%s/notes.txt", dir);
	write_text(notes, "mine");
	before = snapshot(dir);
	ck_assert_int_lt(ou_oci_out_commit(out, &md, "latest", &err), 0);
	ck_assert_ptr_nonnull(strstr(err->message, "not an OCI image layout"));
	out = ou_oci_out_free(out);
	after = snapshot(dir);
	ck_assert_str_eq(after, before);
	ou_descriptor_release(&md);
	ou_error_free(err);
}
END_TEST

START_TEST(test_layout_ignores_and_removes_stale_staging_folders)
{
	_cleanup_free_ char *dir = tpath("img"), *stale = NULL, *d = NULL, *listing = NULL;

	ck_assert_int_eq(mkdir(dir, 0755), 0);
	stale = xasprintf("%s/.ociuser-staging-abc123", dir);
	ck_assert_int_eq(mkdir(stale, 0700), 0);
	d = build_image(dir, "latest", "x");
	listing = snapshot(dir);
	ck_assert_ptr_null(strstr(listing, "ociuser"));
}
END_TEST

START_TEST(test_layout_trailing_slash_on_a_missing_out_works)
{
	_cleanup_free_ char *dir = tpath("img"), *slashed = NULL, *d = NULL;
	_cleanup_json_ json_t *index = NULL;

	slashed = xasprintf("%s//", dir);
	d = build_image(slashed, "latest", "x");
	index = load_index(dir);
	ck_assert_str_eq(digest_for_tag(index, "latest"), d);
}
END_TEST

START_TEST(test_layout_missing_parent_is_an_error)
{
	_cleanup_(ou_oci_out_freep) struct ou_oci_out *out = NULL;
	_cleanup_free_ char *dir = tpath("no/such/img");
	struct ou_error *err = NULL;

	ck_assert_int_lt(ou_oci_out_open(dir, &out, &err), 0);
	ck_assert_int_eq(err->code, ENOENT);
	ck_assert_ptr_nonnull(strstr(err->message, dir));
	ou_error_free(err);
}
END_TEST

START_TEST(test_layout_put_json_stores_sorted_compact_bytes_by_digest)
{
	_cleanup_(ou_oci_out_freep) struct ou_oci_out *out = NULL;
	_cleanup_free_ char *dir = tpath("img"), *data = NULL, *p = NULL;
	_cleanup_json_ json_t *j = json_pack("{s:i,s:i}", "b", 2, "a", 1);
	struct ou_descriptor d = {0};
	struct ou_error *err = NULL;
	char expected[OU_DIGEST_STRLEN];
	size_t len;
	int fd;

	ck_assert_int_eq(ou_oci_out_open(dir, &out, &err), 0);
	ck_assert_int_eq(ou_oci_out_put_json(out, j, OU_MT_CONFIG, &d, &err), 0);
	ou_sha256_buffer("{\"a\":1,\"b\":2}", 13, expected);
	ck_assert_str_eq(d.digest, expected);
	ck_assert_int_eq(d.size, 13);
	ck_assert_str_eq(d.media_type, OU_MT_CONFIG);
	fd = openat(ou_oci_out_blob_dirfd(out), expected + 7, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	p = xasprintf("/proc/self/fd/%d", fd);
	ck_assert_int_eq(ou_read_file(p, 100, &data, &len, &err), 0);
	ck_assert_str_eq(data, "{\"a\":1,\"b\":2}");
	close(fd);
	ou_descriptor_release(&d);
}
END_TEST

static Suite *oci_suite(void)
{
	Suite *s = suite_create("oci");
	TCase *tc = tcase_create("config");
	TCase *tl = tcase_create("layout");

	tcase_add_test(tc, test_format_time_gives_rfc3339_utc);
	tcase_add_test(tc, test_format_time_ignores_tz);
	tcase_add_test(tc, test_config_for_a_tarball_base_is_exact);
	tcase_add_test(tc, test_config_carries_variant_only_when_set);
	tcase_add_test(tc, test_config_env_replaces_by_name_in_place);
	tcase_add_test(tc, test_config_env_gets_default_path_only_when_none);
	tcase_add_test(tc, test_config_base_home_is_replaced_by_the_users_with_a_note);
	tcase_add_test(tc, test_config_spec_home_wins_without_a_note);
	tcase_add_test(tc, test_config_home_already_the_users_gives_no_note_and_none_is_added);
	tcase_add_test(tc, test_config_entrypoint_from_spec_clears_inherited_cmd);
	tcase_add_test(tc, test_config_entrypoint_and_cmd_from_spec_both_stay);
	tcase_add_test(tc, test_config_cmd_from_spec_keeps_inherited_entrypoint);
	tcase_add_test(tc, test_config_empty_entrypoint_from_spec_clears_both);
	tcase_add_test(tc, test_config_inherits_what_the_spec_leaves_unset_but_not_user);
	tcase_add_test(tc, test_config_spec_workdir_and_stop_signal_override_the_base);
	tcase_add_test(tc, test_config_labels_merge_with_spec_winning);
	tcase_add_test(tc, test_config_escapes_labels_and_env_values);
	tcase_add_test(tc, test_config_refuses_spec_text_that_is_not_utf8_naming_the_line);
	tcase_add_test(tc, test_config_exposed_ports_are_empty_objects_merged_with_the_base);
	tcase_add_test(tc, test_config_history_keeps_the_bases_entries_then_ours);
	tcase_add_test(tc, test_config_history_of_a_squashed_image_is_ours_only);
	tcase_add_test(tc, test_config_history_fills_base_layers_the_base_does_not_describe);
	tcase_add_test(tc, test_config_refuses_a_base_config_of_the_wrong_shape);
	tcase_add_test(tc, test_config_accepts_null_members_of_a_docker_config);
	tcase_add_test(tc, test_config_refuses_a_timestamp_past_9999);
	tcase_add_test(tc, test_config_is_the_same_bytes_twice);
	tcase_add_test(tc, test_manifest_is_exact_without_annotations);
	tcase_add_test(tc, test_manifest_annotations_merge_spec_over_extra);
	tcase_add_test(tc, test_manifest_refuses_a_docker_layer_type);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(tl, layout_setup, layout_teardown);
	tcase_add_test(tl, test_layout_missing_out_is_created_whole);
	tcase_add_test(tl, test_layout_files_are_0644_and_folders_0755_under_umask_077);
	tcase_add_test(tl, test_layout_empty_folder_is_accepted);
	tcase_add_test(tl, test_layout_second_tag_is_kept_and_same_tag_replaced);
	tcase_add_test(tl, test_layout_keeps_foreign_descriptors_and_index_fields_as_they_are);
	tcase_add_test(tl, test_layout_refuses_a_folder_that_is_not_a_layout_untouched);
	tcase_add_test(tl, test_layout_refuses_a_file_as_out);
	tcase_add_test(tl, test_layout_refuses_a_broken_index_untouched);
	tcase_add_test(tl, test_layout_refuses_an_unknown_layout_version);
	tcase_add_test(tl, test_layout_accepts_a_bare_oci_layout_file);
	tcase_add_test(tl, test_layout_free_without_commit_leaves_an_existing_out_unchanged);
	tcase_add_test(tl, test_layout_free_without_commit_leaves_a_missing_out_missing);
	tcase_add_test(tl, test_layout_commit_refuses_a_manifest_whose_blobs_are_missing);
	tcase_add_test(tl, test_layout_out_that_appears_during_the_build_is_merged);
	tcase_add_test(tl, test_layout_out_that_appears_as_a_non_layout_is_refused);
	tcase_add_test(tl, test_layout_ignores_and_removes_stale_staging_folders);
	tcase_add_test(tl, test_layout_trailing_slash_on_a_missing_out_works);
	tcase_add_test(tl, test_layout_missing_parent_is_an_error);
	tcase_add_test(tl, test_layout_put_json_stores_sorted_compact_bytes_by_digest);
	suite_add_tcase(s, tl);
	return s;
}

OU_CHECK_MAIN(oci_suite)
