/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ociuser/base.h"
#include "ociuser/build.h"
#include "ociuser/json.h"
#include "ociuser/layer.h"
#include "ociuser/oci.h"
#include "ociuser/path.h"
#include "ociuser/plan.h"
#include "ociuser/spec.h"
#include "ociuser/squash.h"
#include "ociuser/userdb.h"
#include "ociuser/xalloc.h"

/* Where the account files live, in the order of ou_plan_input.files. */
static const char *const account_paths[] = {"etc/passwd", "etc/group", "etc/shadow", "etc/gshadow"};
static const char login_defs_path[] = "etc/login.defs";
static const char *const nologin_shells[] = {"/usr/sbin/nologin", "/sbin/nologin", "/bin/false"};

/* Above this, rootless podman's default subordinate id range cannot map an id. */
#define ROOTLESS_MAX_ID 65535u

struct account_text {
	char *path; /* resolved in the base */
	char *data;
	size_t len;
	bool present;
};

static _printf_(2, 3) void note(struct ou_build_result *res, const char *fmt, ...)
{
	_cleanup_free_ char *s = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (s)
		ou_strv_push(&res->messages, &res->n_messages, s);
}

static enum ou_blob_codec codec_of(enum ou_compression c)
{
	switch (c) {
	case OU_COMPRESSION_ZSTD:
		return OU_BLOB_ZSTD;
	case OU_COMPRESSION_NONE:
		return OU_BLOB_TAR;
	default:
		return OU_BLOB_GZIP;
	}
}

/* Resolves an account file through the base's links and reads it. */
static int read_account_file(struct ou_base *base, const char *literal, bool follow_last,
                             struct account_text *t, struct ou_error **err)
{
	const char *p;
	int r;

	r = ou_base_resolve(base, literal, follow_last, &t->path, err);
	if (r < 0)
		return r;
	p = t->path;
	r = ou_base_capture(base, &p, 1, err);
	if (r < 0)
		return r;
	return ou_base_read_captured(base, t->path, OU_MAX_ACCOUNT_FILE_SIZE, &t->data, &t->len,
	                             &t->present, err);
}

/* The first of the usual no-login shells that the base has. */
static const char *pick_shell(const struct ou_base *base)
{
	for (size_t i = 0; i < ELEMENTSOF(nologin_shells); i++) {
		_cleanup_free_ char *p = NULL;
		const struct ou_base_node *n;

		if (ou_base_resolve(base, nologin_shells[i] + 1, true, &p, NULL) < 0)
			continue;
		n = ou_base_lookup(base, p);
		if (n && (n->type == OU_ENTRY_FILE || n->type == OU_ENTRY_HARDLINK))
			return nologin_shells[i];
	}
	return NULL;
}

/*
 * The first folder on the way to @dir (absolute) that @uid:@gid cannot
 * search, with its owner and mode, as the final image has it; NULL when
 * every one can be entered (or does not exist: runtimes create it).
 */
static char *unreachable_dir(const struct ou_base *base, const struct ou_plan *plan,
                             const char *dir, uint32_t uid, uint32_t gid)
{
	_cleanup_free_ char *path = NULL;
	char *p;

	if (ou_base_resolve(base, dir[0] == '/' ? dir + 1 : dir, true, &path, NULL) < 0)
		return NULL;
	for (p = path;; p++) {
		char saved = *p;
		const struct ou_layer_entry *e;
		const struct ou_base_node *n;
		unsigned mode;
		uint32_t ou, og;

		if (saved != '/' && saved != '\0')
			continue;
		*p = '\0';
		e = ou_layer_list_find(&plan->app, path);
		if (!e)
			e = ou_layer_list_find(&plan->accounts, path);
		n = e ? NULL : ou_base_lookup(base, path);
		/* a file at the end is reached, not entered: only folders need x */
		if ((e || n) && (saved || (e ? e->type : n->type) == OU_ENTRY_DIR)) {
			mode = e ? e->mode : n->mode;
			ou = e ? e->uid : n->uid;
			og = e ? e->gid : n->gid;
			if (e && e->base) {
				/* a base entry rewritten keeps the base's owner */
				n = ou_base_lookup(base, path);
				ou = n ? n->uid : ou;
				og = n ? n->gid : og;
			}
			if (!(uid == ou ? mode & 0100 : gid == og ? mode & 0010 : mode & 0001)) {
				char *msg =
				        xasprintf("'/%s' (%u:%u, mode %04o)", path, ou, og, mode);
				*p = saved;
				return msg;
			}
		}
		*p = saved;
		if (!saved)
			return NULL;
	}
}

static void warn_unreachable(struct ou_build_result *res, const struct ou_spec *spec,
                             const struct ou_base *base, const struct ou_plan *plan,
                             const char *what, const char *dir, uint32_t uid, uint32_t gid)
{
	_cleanup_free_ char *bad = NULL, *msg = NULL;

	if (!dir || dir[0] != '/')
		return;
	bad = unreachable_dir(base, plan, dir, uid, gid);
	if (!bad)
		return;
	msg = xasprintf("warning: %s: the user (uid %u, gid %u) cannot enter %s '%s': %s is "
	                "not searchable for it",
	                spec->path, uid, gid, what, dir, bad);
	for (size_t i = 0; i < res->n_messages; i++)
		if (strcmp(res->messages[i], msg) == 0)
			return;
	ou_strv_push(&res->messages, &res->n_messages, msg);
}

/* Fills @ret for a layer ociuser wrote; takes @created_by. */
static void describe_layer(struct ou_image_layer *ret, enum ou_blob_codec codec,
                           const struct ou_blob_result *res, char *created_by)
{
	ret->desc.media_type = xstrdup(ou_blob_layer_media_type(codec));
	ret->desc.digest = xstrdup(res->digest);
	ret->desc.size = res->size;
	ret->diff_id = xstrdup(res->diff_id);
	ret->created_by = created_by;
}

static int write_layer(struct ou_oci_out *out, const struct ou_layer_list *l,
                       enum ou_blob_codec codec, const char *created_by, struct ou_image_layer *ret,
                       struct ou_error **err)
{
	struct ou_blob_result res;
	int r = ou_layer_write(l, ou_oci_out_blob_dirfd(out), codec, &res, err);

	if (r < 0)
		return r;
	describe_layer(ret, codec, &res, xstrdup(created_by));
	return 0;
}

/* squash = true: one layer holding the merged file system (see squash.h). */
static int write_squashed(struct ou_oci_out *out, struct ou_base *base, const struct ou_plan *plan,
                          enum ou_blob_codec codec, const struct ou_spec *spec,
                          struct ou_image_layer *ret, struct ou_error **err)
{
	struct ou_blob_result res;
	int r = ou_squash_write(base, plan, ou_oci_out_blob_dirfd(out), codec, &res, err);

	if (r < 0)
		return r;
	describe_layer(
	        ret, codec, &res,
	        xasprintf("ociuser: squashed %s with user %s", ou_base_name(base), spec->user.str));
	return 0;
}

int ou_build_run(const struct ou_build_options *o, struct ou_build_result *res,
                 struct ou_error **err)
{
	_cleanup_(ou_spec_freep) struct ou_spec *spec = NULL;
	_cleanup_(ou_oci_out_freep) struct ou_oci_out *out = NULL;
	_cleanup_(ou_base_freep) struct ou_base *base = NULL;
	_cleanup_(ou_plan_freep) struct ou_plan *plan = NULL;
	_cleanup_free_ const char **capture = NULL;
	_cleanup_free_ char *home = NULL, *user_value = NULL;
	_cleanup_free_ char *defs = NULL;
	struct account_text acc[4] = {0};
	struct ou_accounts_out ao = {0};
	struct ou_image_layer *layers = NULL;
	json_t *annotations = NULL;
	size_t n_base_layers = 0;
	struct ou_descriptor config_desc = {0}, manifest_desc = {0};
	json_t *config = NULL, *manifest = NULL;
	size_t n_layers = 0, n_capture = 0, defs_len = 0;
	const char *shell, *group, *tag;
	enum ou_blob_codec codec;
	bool defs_present = false;
	int r;

	r = ou_spec_load(o->spec_path, &spec, err);
	if (r < 0)
		return r;
	tag = o->tag ? o->tag : spec->tag.str ? spec->tag.str : "latest";
	codec = codec_of(spec->compression);

	r = ou_oci_out_open(o->out, &out, err);
	if (r < 0)
		return r;

	/* Everything the build must read from the base is noted in the one pass. */
	capture = xcalloc(spec->n_sensitive + 1, sizeof(char *));
	for (size_t i = 0; i < spec->n_sensitive; i++)
		capture[n_capture++] = spec->sensitive[i].path + 1;
	{
		const char *const small[] = {account_paths[0], account_paths[1], account_paths[2],
		                             account_paths[3], login_defs_path};
		struct ou_base_options bo = {
		        .tarball = spec->base_is_oci ? NULL : spec->base.str,
		        .oci_dir = spec->base_oci_dir,
		        .oci_tag = spec->base_oci_tag,
		        .architecture = spec->architecture.str,
		        .os = spec->os.str,
		        .variant = spec->variant.str,
		        .recompress = codec,
		        .capture = capture,
		        .n_capture = n_capture,
		        .capture_small = small,
		        .n_capture_small = ELEMENTSOF(small),
		        .keep_dir_headers = spec->squash,
		};
		r = ou_base_open(&bo, ou_oci_out_blob_dirfd(out), &base, err);
		if (r < 0) {
			ou_error_prefix(err, "%s:%u", spec->path, spec->base.line);
			goto out;
		}
	}

	for (size_t i = 0; i < ELEMENTSOF(account_paths); i++) {
		r = read_account_file(base, account_paths[i], false, &acc[i], err);
		if (r < 0) {
			ou_error_prefix(err, "%s:%u: base '%s'", spec->path, spec->base.line,
			                ou_base_name(base));
			goto out;
		}
	}
	{
		struct account_text t = {0};
		r = read_account_file(base, login_defs_path, true, &t, err);
		free(t.path);
		defs = t.data;
		defs_len = t.len;
		defs_present = t.present;
		if (r < 0) {
			ou_error_prefix(err, "%s:%u: base '%s'", spec->path, spec->base.line,
			                ou_base_name(base));
			goto out;
		}
	}

	shell = spec->shell.str;
	if (!shell) {
		shell = pick_shell(base);
		if (!shell) {
			shell = nologin_shells[0];
			note(res,
			     "warning: the base has none of /usr/sbin/nologin, /sbin/nologin, "
			     "/bin/false; the login shell is '%s'",
			     shell);
		}
	}
	home = spec->home.str ? xstrdup(spec->home.str) : xasprintf("/home/%s", spec->user.str);
	group = spec->group.str ? spec->group.str : spec->user.str;

	{
		_cleanup_free_ const char **groups = xcalloc(spec->n_groups + 1, sizeof(char *));
		_cleanup_free_ unsigned *glines = xcalloc(spec->n_groups + 1, sizeof(unsigned));
		struct ou_accounts_in in = {
		        .passwd = {acc[0].data, acc[0].len, acc[0].present},
		        .group = {acc[1].data, acc[1].len, acc[1].present},
		        .shadow = {acc[2].data, acc[2].len, acc[2].present},
		        .gshadow = {acc[3].data, acc[3].len, acc[3].present},
		        .login_defs = {defs, defs_len, defs_present},
		};
		struct ou_accounts_req req = {
		        .spec_path = spec->path,
		        .user = spec->user.str,
		        .user_line = spec->user.line,
		        .group = group,
		        .group_line = spec->group.line ? spec->group.line : spec->user.line,
		        .has_uid = spec->has_uid,
		        .uid = spec->uid,
		        .uid_line = spec->uid_line,
		        .has_gid = spec->has_gid,
		        .gid = spec->gid,
		        .gid_line = spec->gid_line,
		        .groups = groups,
		        .groups_line = glines,
		        .n_groups = spec->n_groups,
		        .home = home,
		        .shell = shell,
		        .days = (long)(o->epoch / 86400),
		};
		for (size_t i = 0; i < spec->n_groups; i++) {
			groups[i] = spec->groups[i].str;
			glines[i] = spec->groups[i].line;
		}
		r = ou_userdb_apply(&in, &req, &ao, err);
		if (r < 0) {
			/* Faults of the base's own files: say which base. */
			if ((*err)->code == EBADMSG || (*err)->code == EFBIG)
				ou_error_prefix(err, "%s", ou_base_name(base));
			goto out;
		}
	}

	if (ao.uid > ROOTLESS_MAX_ID || ao.gid > ROOTLESS_MAX_ID)
		note(res,
		     "warning: %s: uid or gid above 65535 (%lu): rootless podman's default "
		     "subordinate id range (65536 ids) cannot map it",
		     spec->path, (unsigned long)(ao.uid > ao.gid ? ao.uid : ao.gid));
	if (spec->config_user == OU_CONFIG_USER_NAME)
		note(res,
		     "warning: %s: config_user = name writes User as a name; Kubernetes "
		     "runAsNonRoot cannot verify a name is not root (use uid)",
		     spec->path);
	if (spec->config_user == OU_CONFIG_USER_UID_GID && spec->n_groups)
		note(res,
		     "warning: %s: config_user = uid:gid makes runtimes ignore the supplementary "
		     "groups; 'groups' has no effect at run time",
		     spec->path);

	{
		struct ou_file_id skip[2];
		size_t n_skip = ou_oci_out_folders(out, skip);
		struct ou_plan_input pin = {
		        .spec = spec,
		        .base = base,
		        .user = spec->user.str,
		        .group = group,
		        .uid = ao.uid,
		        .gid = ao.gid,
		        .home = ao.home,
		        .create_home = spec->create_home && ao.user_created,
		        .epoch = o->epoch,
		        .skip = skip,
		        .n_skip = n_skip,
		        .skip_name = o->out,
		};
		pin.files[0] = (struct ou_plan_account_file){acc[0].path, ao.passwd, ao.passwd_len};
		pin.files[1] = (struct ou_plan_account_file){acc[1].path, ao.group, ao.group_len};
		pin.files[2] = (struct ou_plan_account_file){acc[2].path, ao.shadow, ao.shadow_len};
		pin.files[3] =
		        (struct ou_plan_account_file){acc[3].path, ao.gshadow, ao.gshadow_len};
		r = ou_plan_make(&pin, base, &plan, err);
		if (r < 0)
			goto out;
		for (size_t i = 0; i < plan->n_warnings; i++)
			ou_strv_push(&res->messages, &res->n_messages, plan->warnings[i]);
	}
	{
		/*
		 * A folder the user cannot enter fails at run time, not at build time:
		 * the working directory (the container does not start), the home and
		 * every DEST (the app cannot read its own files). Say so now.
		 */
		const char *wd = spec->workdir.str;
		if (!wd)
			wd = ou_json_get_string(json_object_get(ou_base_config(base), "config"),
			                        "WorkingDir");
		warn_unreachable(res, spec, base, plan, "the working directory", wd, ao.uid,
		                 ao.gid);
		if (spec->create_home)
			warn_unreachable(res, spec, base, plan, "its home", ao.home, ao.uid,
			                 ao.gid);
		for (size_t i = 0; i < spec->n_files; i++)
			warn_unreachable(res, spec, base, plan, "the copy", spec->files[i].dest,
			                 ao.uid, ao.gid);
	}

	if (spec->squash) {
		layers = xcalloc(1, sizeof(*layers));
		r = write_squashed(out, base, plan, codec, spec, &layers[n_layers], err);
		if (r < 0)
			goto out;
		n_layers++;
		n_base_layers = 0;
	} else {
		const struct ou_base_layer *bl = ou_base_layers(base, &n_base_layers);
		layers = xcalloc(n_base_layers + 3, sizeof(*layers));
		for (size_t i = 0; i < n_base_layers; i++, n_layers++) {
			layers[n_layers].desc.media_type = xstrdup(bl[i].media_type);
			layers[n_layers].desc.digest = xstrdup(bl[i].digest);
			layers[n_layers].desc.size = bl[i].size;
			layers[n_layers].diff_id = xstrdup(bl[i].diff_id);
			layers[n_layers].created_by =
			        xasprintf("ociuser: base root file system %s", ou_base_name(base));
		}
		if (plan->accounts.n) {
			_cleanup_free_ char *by = xasprintf("ociuser: user %s (uid %u, gid %u)",
			                                    spec->user.str, ao.uid, ao.gid);
			r = write_layer(out, &plan->accounts, codec, by, &layers[n_layers], err);
			if (r < 0)
				goto out;
			n_layers++;
		}
		if (plan->app.n) {
			r = write_layer(out, &plan->app, codec, "ociuser: [files] and [sensitive]",
			                &layers[n_layers], err);
			if (r < 0)
				goto out;
			n_layers++;
		}
	}

	switch (spec->config_user) {
	case OU_CONFIG_USER_UID_GID:
		user_value = xasprintf("%u:%u", ao.uid, ao.gid);
		break;
	case OU_CONFIG_USER_NAME:
		user_value = xstrdup(spec->user.str);
		break;
	default:
		user_value = xasprintf("%u", ao.uid);
	}
	{
		struct ou_image_info info = {
		        .spec = spec,
		        .base_config = ou_base_config(base),
		        .user = user_value,
		        .home = ao.home,
		        .epoch = o->epoch,
		        .architecture = spec->architecture.str,
		        .os = spec->os.str,
		        .variant = spec->variant.str,
		        .layers = layers,
		        .n_layers = n_layers,
		        .n_base_history_layers = ou_base_config(base) ? n_base_layers : 0,
		};
		json_t *bc = ou_base_config(base);
		/* The platform: the spec's, else the base image's, else the build host's. */
		if (!info.architecture)
			info.architecture = ou_json_get_string(bc, "architecture");
		if (!info.architecture)
			info.architecture = ou_host_architecture();
		if (!info.os)
			info.os = ou_json_get_string(bc, "os");
		if (!info.os)
			info.os = "linux";
		/* The base's variant only goes with the base's own architecture. */
		if (!info.variant && ou_json_get_string(bc, "architecture") &&
		    strcmp(info.architecture, ou_json_get_string(bc, "architecture")) == 0)
			info.variant = ou_json_get_string(bc, "variant");
		if (ou_base_manifest_digest(base)) {
			annotations = json_object();
			json_object_set_new(annotations, OU_ANNOTATION_BASE_DIGEST,
			                    json_string(ou_base_manifest_digest(base)));
			if (ou_base_ref_name(base))
				json_object_set_new(annotations, OU_ANNOTATION_BASE_NAME,
				                    json_string(ou_base_ref_name(base)));
		}
		r = ou_oci_make_config(&info, &config, &res->messages, &res->n_messages, err);
		if (r == -EBADMSG) /* the base's config is malformed: say which base */
			ou_error_prefix(err, "%s:%u: base '%s'", spec->path, spec->base.line,
			                ou_base_name(base));
		if (r < 0)
			goto out;
		r = ou_oci_out_put_json(out, config, OU_MT_CONFIG, &config_desc, err);
		if (r < 0)
			goto out;
		r = ou_oci_make_manifest(&info, &config_desc, annotations, &manifest, err);
		if (r < 0)
			goto out;
		r = ou_oci_out_put_json(out, manifest, OU_MT_MANIFEST, &manifest_desc, err);
		if (r < 0)
			goto out;
	}
	r = ou_oci_out_commit(out, &manifest_desc, tag, err);
	if (r < 0)
		goto out;
	snprintf(res->digest, sizeof(res->digest), "%s", manifest_desc.digest);
	r = 0;
out:
	for (size_t i = 0; i < ELEMENTSOF(acc); i++) {
		free(acc[i].path);
		free(acc[i].data);
	}
	for (size_t i = 0; i < n_layers; i++)
		ou_image_layer_release(&layers[i]);
	free(layers);
	json_decref(annotations);
	ou_descriptor_release(&config_desc);
	ou_descriptor_release(&manifest_desc);
	json_decref(config);
	json_decref(manifest);
	ou_accounts_out_release(&ao);
	return r;
}

void ou_build_result_release(struct ou_build_result *r)
{
	ou_strv_free(r->messages);
	r->messages = NULL;
	r->n_messages = 0;
}
