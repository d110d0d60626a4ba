/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "ociuser/digest.h"
#include "ociuser/json.h"
#include "ociuser/oci.h"
#include "ociuser/strbuf.h"
#include "ociuser/xalloc.h"

#define STAGING_PREFIX ".ociuser-staging-"
#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
/* Our staging trees are three levels deep at most; anything deeper is not ours. */
#define MAX_REMOVE_DEPTH 4

struct ou_oci_out {
	char *path;           /* OUT as given, for messages */
	char *name;           /* OUT's last component, relative to parent_fd */
	int parent_fd;        /* OUT's parent (only when OUT was missing at open), else -1 */
	int out_fd;           /* OUT itself, flock()ed, once it exists for us; else -1 */
	bool has_layout_file; /* OUT/oci-layout exists (checked) */
	json_t *index;        /* OUT/index.json as found (checked), or NULL */

	int staging_parent_fd; /* borrowed: parent_fd or out_fd */
	char *staging_name;    /* the staging folder's name there; NULL once gone */
	int staging_fd;        /* the staging folder */
	int blob_fd;           /* where writers put blobs: staging/blobs/sha256, or staging */
	bool committed;
};

/* ------------------------------------------------------------------------ */
/* File system helpers                                                      */

static bool is_hex_name(const char *name)
{
	size_t i;

	for (i = 0; name[i]; i++)
		if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
			return false;
	return i == 64;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}
#define _cleanup_closedir_ _cleanup_(closedirp)

/*
 * Lists the names in the folder @fd (without "." and ".."), into a
 * NULL-terminated vector the caller frees. @fd stays open and unchanged.
 */
static int list_dir(int fd, const char *display, char ***ret, size_t *ret_n, struct ou_error **err)
{
	_cleanup_closedir_ DIR *d = NULL;
	_cleanup_strv_free_ char **names = NULL;
	size_t n = 0;
	int dfd;

	dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return ou_error_set(err, errno, "cannot open '%s': %s", display, strerror(errno));
	d = fdopendir(dfd);
	if (!d) {
		int e = errno;
		close(dfd);
		return ou_error_set(err, e, "cannot list '%s': %s", display, strerror(e));
	}
	names = xcalloc(1, sizeof(char *));
	for (;;) {
		struct dirent *de;

		errno = 0;
		de = readdir(d);
		if (!de) {
			if (errno)
				return ou_error_set(err, errno, "cannot list '%s': %s", display,
				                    strerror(errno));
			break;
		}
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		ou_strv_push(&names, &n, de->d_name);
	}
	*ret = TAKE_PTR(names);
	*ret_n = n;
	return 0;
}

/*
 * Removes @name in @at and, for a folder, everything under it, never
 * following symbolic links. Best effort: used on our own staging folders.
 */
static void remove_tree_at(int at, const char *name, unsigned depth)
{
	_cleanup_strv_free_ char **names = NULL;
	_cleanup_close_ int fd = -1;
	struct stat st;
	size_t n;

	if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return;
	if (!S_ISDIR(st.st_mode)) {
		unlinkat(at, name, 0);
		return;
	}
	if (depth >= MAX_REMOVE_DEPTH)
		return;
	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || list_dir(fd, name, &names, &n, NULL) < 0)
		return;
	for (size_t i = 0; i < n; i++)
		remove_tree_at(fd, names[i], depth + 1);
	unlinkat(at, name, AT_REMOVEDIR);
}

/*
 * Opens the folder @name in @at, creating it 0755 (whatever the umask)
 * when missing. A folder that was there keeps its mode.
 */
static int open_or_make_dir(int at, const char *name, const char *display, int *ret_fd,
                            struct ou_error **err)
{
	_cleanup_close_ int fd = -1;
	bool created = false;
	struct stat st;

	if (mkdirat(at, name, 0755) == 0)
		created = true;
	else if (errno != EEXIST)
		return ou_error_set(err, errno, "cannot create '%s': %s", display, strerror(errno));
	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return ou_error_set(err, errno, "cannot open '%s': %s", display, strerror(errno));
	if (fstat(fd, &st) < 0)
		return ou_error_set(err, errno, "cannot stat '%s': %s", display, strerror(errno));
	if (created && fchmod(fd, 0755) < 0)
		return ou_error_set(err, errno, "cannot set the mode of '%s': %s", display,
		                    strerror(errno));
	*ret_fd = TAKE_FD(fd);
	return 0;
}

/* Writes @name in @at (replacing a file of ours there): 0644, fsync'ed, closed. */
static int write_file_at(int at, const char *name, const char *display, const char *data,
                         size_t len, struct ou_error **err)
{
	_cleanup_close_ int fd = -1;
	int r;

	fd = openat(at, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return ou_error_set(err, errno, "cannot create '%s': %s", display, strerror(errno));
	if (fchmod(fd, 0644) < 0)
		return ou_error_set(err, errno, "cannot set the mode of '%s': %s", display,
		                    strerror(errno));
	r = ou_write_all(fd, data, len);
	if (r < 0)
		return ou_error_set(err, -r, "cannot write '%s': %s", display, strerror(-r));
	if (fsync(fd) < 0)
		return ou_error_set(err, errno, "cannot sync '%s': %s", display, strerror(errno));
	r = close(TAKE_FD(fd));
	if (r < 0)
		return ou_error_set(err, errno, "cannot write '%s': %s", display, strerror(errno));
	return 0;
}

static int write_json_at(int at, const char *name, const char *display, const json_t *json,
                         struct ou_error **err)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	int r;

	r = ou_json_dump(json, &text, &len, err);
	if (r < 0)
		return r;
	return write_file_at(at, name, display, text, len, err);
}

static int sync_dir(int fd, const char *display, struct ou_error **err)
{
	if (fsync(fd) < 0)
		return ou_error_set(err, errno, "cannot sync '%s': %s", display, strerror(errno));
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Deciding what OUT is                                                      */

/* The "oci-layout" file: {"imageLayoutVersion":"1.0.0"}. */
static json_t *make_layout_file(void)
{
	return json_pack("{s:s}", "imageLayoutVersion", OU_LAYOUT_VERSION);
}

static int check_index(const json_t *index, const char *display, struct ou_error **err)
{
	const json_t *v, *m;
	const char *mt;
	size_t i;

	if (!json_is_object(index))
		return ou_error_set(err, EBADMSG, "'%s' is not a json object", display);
	v = json_object_get(index, "schemaVersion");
	if (!json_is_integer(v) || json_integer_value(v) != 2)
		return ou_error_set(err, EBADMSG, "'%s' does not have schemaVersion 2", display);
	v = json_object_get(index, "mediaType");
	mt = json_string_value(v);
	if (v && (!mt || strcmp(mt, OU_MT_INDEX) != 0))
		return ou_error_set(err, EBADMSG, "'%s' has mediaType other than '%s'", display,
		                    OU_MT_INDEX);
	v = json_object_get(index, "manifests");
	if (!json_is_array(v))
		return ou_error_set(err, EBADMSG, "'%s' has no 'manifests' array", display);
	json_array_foreach(v, i, m)
	{
		const json_t *a = json_object_get(m, "annotations");

		if (!json_is_object(m))
			return ou_error_set(err, EBADMSG, "'%s': manifests[%zu] is not an object",
			                    display, i);
		if (a && !json_is_object(a))
			return ou_error_set(err, EBADMSG,
			                    "'%s': manifests[%zu].annotations is not an object",
			                    display, i);
	}
	return 0;
}

/* @name in OUT must be a folder when present. */
static int check_subdir(int at, const char *name, const char *display, struct ou_error **err)
{
	struct stat st;

	if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
		return ou_error_set(err, errno, "cannot stat '%s': %s", display, strerror(errno));
	}
	if (!S_ISDIR(st.st_mode))
		return ou_error_set(err, EBADMSG, "'%s' is not a folder", display);
	return 0;
}

/*
 * Decides, with OUT open and locked, whether ociuser may write into it: an
 * empty folder, or a layout (oci-layout of version 1.0.0, and index.json
 * readable when present). Loads index.json into out->index. Leftover
 * staging folders of crashed runs are ignored here and removed once OUT is
 * accepted: nobody else can be using them while we hold the lock.
 */
static int inspect_out(struct ou_oci_out *out, struct ou_error **err)
{
	_cleanup_strv_free_ char **names = NULL;
	_cleanup_free_ char *display = NULL;
	bool has_layout = false, has_index = false, empty = true;
	size_t n;
	int r;

	r = list_dir(out->out_fd, out->path, &names, &n, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		if (!strncmp(names[i], STAGING_PREFIX, strlen(STAGING_PREFIX)))
			continue;
		empty = false;
		if (!strcmp(names[i], "oci-layout"))
			has_layout = true;
		else if (!strcmp(names[i], "index.json"))
			has_index = true;
	}
	if (!empty && !has_layout)
		return ou_error_set(err, EEXIST,
		                    "'%s' is not empty and is not an OCI image layout (it has no "
		                    "'oci-layout' file)",
		                    out->path);
	if (has_layout) {
		display = xasprintf("%s/oci-layout", out->path);
		r = ou_json_check_layout_file(out->out_fd, display, err);
		if (r < 0)
			return r;
		free(display);
		display = xasprintf("%s/blobs", out->path);
		r = check_subdir(out->out_fd, "blobs", display, err);
		if (r < 0)
			return r;
		free(display);
		display = xasprintf("%s/blobs/sha256", out->path);
		r = check_subdir(out->out_fd, "blobs/sha256", display, err);
		if (r < 0)
			return r;
	}
	if (has_index) {
		free(display);
		display = xasprintf("%s/index.json", out->path);
		r = ou_json_load_at(out->out_fd, "index.json", display, OU_MAX_JSON_SIZE,
		                    &out->index, err);
		if (r < 0)
			return r;
		r = check_index(out->index, display, err);
		if (r < 0)
			return r;
	}
	out->has_layout_file = has_layout;
	for (size_t i = 0; i < n; i++)
		if (!strncmp(names[i], STAGING_PREFIX, strlen(STAGING_PREFIX)))
			remove_tree_at(out->out_fd, names[i], 0);
	return 0;
}

/* Opens the existing folder @name in @at as OUT: lock, then inspect. */
static int adopt_existing_out(struct ou_oci_out *out, int at, const char *name,
                              struct ou_error **err)
{
	int r;

	out->out_fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (out->out_fd < 0)
		return ou_error_set(err, errno, "cannot open '%s': %s", out->path, strerror(errno));
	/* Waits for another build into the same OUT to finish. */
	while (flock(out->out_fd, LOCK_EX) < 0) {
		if (errno != EINTR)
			return ou_error_set(err, errno, "cannot lock '%s': %s", out->path,
			                    strerror(errno));
	}
	r = inspect_out(out, err);
	if (r < 0)
		return r;
	return 0;
}

/* mkdtemp() in the folder @at (known as @at_path) with a name from @prefix. */
static int make_staging(struct ou_oci_out *out, int at, const char *at_path, const char *prefix,
                        struct ou_error **err)
{
	_cleanup_free_ char *tmpl = NULL;
	const char *base;

	tmpl = xasprintf("%s/%sXXXXXX", at_path, prefix);
	if (!mkdtemp(tmpl))
		return ou_error_set(err, errno, "cannot create a staging folder in '%s': %s",
		                    at_path, strerror(errno));
	base = strrchr(tmpl, '/') + 1;
	out->staging_parent_fd = at;
	out->staging_name = xstrdup(base);
	out->staging_fd = openat(at, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (out->staging_fd < 0)
		return ou_error_set(err, errno, "cannot open '%s': %s", tmpl, strerror(errno));
	/* mkdtemp makes it 0700; when OUT is missing this folder becomes OUT. */
	if (fchmod(out->staging_fd, 0755) < 0)
		return ou_error_set(err, errno, "cannot set the mode of '%s': %s", tmpl,
		                    strerror(errno));
	return 0;
}

/* Splits @path into its parent folder and last component, ignoring trailing '/'. */
static void split_path(const char *path, char **ret_parent, char **ret_name)
{
	_cleanup_free_ char *p = xstrdup(path);
	size_t len = strlen(p);
	char *slash;

	while (len > 1 && p[len - 1] == '/')
		p[--len] = '\0';
	slash = strrchr(p, '/');
	if (!slash) {
		*ret_parent = xstrdup(".");
		*ret_name = xstrdup(p);
	} else if (slash == p) {
		*ret_parent = xstrdup("/");
		*ret_name = xstrdup(slash[1] ? slash + 1 : ".");
	} else {
		*slash = '\0';
		*ret_parent = xstrdup(p);
		*ret_name = xstrdup(slash + 1);
	}
}

int ou_oci_out_open(const char *out_path, struct ou_oci_out **ret, struct ou_error **err)
{
	_cleanup_(ou_oci_out_freep) struct ou_oci_out *out = NULL;
	_cleanup_free_ char *parent = NULL;
	struct stat st;
	int r;

	if (!out_path || !out_path[0])
		return ou_error_set(err, EINVAL, "the output path is empty");
	out = xcalloc(1, sizeof(*out));
	out->path = xstrdup(out_path);
	out->parent_fd = out->out_fd = out->staging_fd = out->blob_fd = -1;
	out->staging_parent_fd = -1;
	split_path(out_path, &parent, &out->name);

	if (lstat(out_path, &st) < 0) {
		_cleanup_free_ char *prefix = NULL;
		int sha_fd = -1, blobs_fd = -1;

		if (errno != ENOENT)
			return ou_error_set(err, errno, "cannot stat '%s': %s", out_path,
			                    strerror(errno));
		/* Missing: build the whole layout next to it, rename at commit. */
		out->parent_fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (out->parent_fd < 0)
			return ou_error_set(err, errno, "cannot create '%s': cannot open '%s': %s",
			                    out_path, parent, strerror(errno));
		/* NAME_MAX is 255: keep ".NAME.ociuser-XXXXXX" under it. */
		prefix = xasprintf(".%.200s.ociuser-", out->name);
		r = make_staging(out, out->parent_fd, parent, prefix, err);
		if (r < 0)
			return r;
		r = open_or_make_dir(out->staging_fd, "blobs", "blobs", &blobs_fd, err);
		if (r < 0)
			return r;
		r = open_or_make_dir(blobs_fd, "sha256", "blobs/sha256", &sha_fd, err);
		close(blobs_fd);
		if (r < 0)
			return r;
		out->blob_fd = sha_fd;
		*ret = TAKE_PTR(out);
		return 0;
	}
	if (stat(out_path, &st) < 0)
		return ou_error_set(err, errno, "cannot write to '%s': %s", out_path,
		                    strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return ou_error_set(err, EEXIST, "'%s' exists and is not a folder", out_path);
	r = adopt_existing_out(out, AT_FDCWD, out_path, err);
	if (r < 0)
		return r;
	r = make_staging(out, out->out_fd, out_path, STAGING_PREFIX, err);
	if (r < 0)
		return r;
	out->blob_fd = fcntl(out->staging_fd, F_DUPFD_CLOEXEC, 3);
	if (out->blob_fd < 0)
		return ou_error_set(err, errno, "cannot duplicate a file descriptor: %s",
		                    strerror(errno));
	*ret = TAKE_PTR(out);
	return 0;
}

size_t ou_oci_out_folders(const struct ou_oci_out *out, struct ou_file_id ret[2])
{
	const int fds[] = {out->out_fd, out->staging_fd};
	size_t n = 0;
	struct stat st;

	for (size_t i = 0; i < ELEMENTSOF(fds); i++)
		if (fds[i] >= 0 && fstat(fds[i], &st) == 0)
			ret[n++] = (struct ou_file_id){st.st_dev, st.st_ino};
	return n;
}

int ou_oci_out_blob_dirfd(const struct ou_oci_out *out)
{
	return out->blob_fd;
}

int ou_oci_out_put_json(struct ou_oci_out *out, json_t *json, const char *media_type,
                        struct ou_descriptor *ret, struct ou_error **err)
{
	_cleanup_free_ char *text = NULL, *tmp = NULL;
	char digest[OU_DIGEST_STRLEN];
	size_t len;
	int r;

	if (out->committed)
		return ou_error_set(err, EINVAL, "'%s' is already committed", out->path);
	r = ou_json_dump(json, &text, &len, err);
	if (r < 0)
		return r;
	if (len > OU_MAX_BLOB_JSON_SIZE)
		return ou_error_set(
		        err, EFBIG,
		        "the image's %s would be %zu bytes, more than the %d that skopeo "
		        "and podman read",
		        media_type, len, OU_MAX_BLOB_JSON_SIZE);
	ou_sha256_buffer(text, len, digest);
	tmp = xasprintf(".json-%s.tmp", digest + 7);
	r = write_file_at(out->blob_fd, tmp, tmp, text, len, err);
	if (r < 0)
		return r;
	if (renameat(out->blob_fd, tmp, out->blob_fd, digest + 7) < 0)
		return ou_error_set(err, errno, "cannot store blob '%s': %s", digest,
		                    strerror(errno));
	ret->media_type = xstrdup(media_type);
	ret->digest = xstrdup(digest);
	ret->size = (int64_t)len;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Publishing                                                               */

/*
 * Staged blobs: drops files that are not named by a digest (temporary files
 * a writer left behind) and makes every blob 0644, whatever the writer did.
 */
static int tidy_staged_blobs(struct ou_oci_out *out, char ***ret_names, size_t *ret_n,
                             struct ou_error **err)
{
	_cleanup_strv_free_ char **names = NULL, **blobs = NULL;
	size_t n, n_blobs = 0;
	struct stat st;
	int r;

	r = list_dir(out->blob_fd, "staged blobs", &names, &n, err);
	if (r < 0)
		return r;
	blobs = xcalloc(1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		if (!is_hex_name(names[i])) {
			remove_tree_at(out->blob_fd, names[i], MAX_REMOVE_DEPTH - 1);
			continue;
		}
		/* a blob hard-linked from a base is already 0644: its inode is left alone */
		if (fstatat(out->blob_fd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
			return ou_error_set(err, errno, "cannot stat blob '%s': %s", names[i],
			                    strerror(errno));
		if (!S_ISREG(st.st_mode))
			return ou_error_set(err, EINVAL, "staged blob '%s' is not a regular file",
			                    names[i]);
		if ((st.st_mode & 07777) != 0644 && fchmodat(out->blob_fd, names[i], 0644, 0) < 0)
			return ou_error_set(err, errno, "cannot set the mode of blob '%s': %s",
			                    names[i], strerror(errno));
		ou_strv_push(&blobs, &n_blobs, names[i]);
	}
	*ret_names = TAKE_PTR(blobs);
	*ret_n = n_blobs;
	return 0;
}

static int check_blob(int sha_fd, const struct ou_descriptor *d, const char *what,
                      struct ou_error **err)
{
	struct stat st;

	if (!d->digest || !ou_digest_is_valid(d->digest))
		return ou_error_set(err, EINVAL, "%s has an invalid digest", what);
	if (fstatat(sha_fd, d->digest + 7, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
		return ou_error_set(err, EIO, "%s '%s' is not in the layout", what, d->digest);
	if (st.st_size != d->size)
		return ou_error_set(err, EIO, "%s '%s' has %lld bytes, its descriptor says %lld",
		                    what, d->digest, (long long)st.st_size, (long long)d->size);
	return 0;
}

/*
 * Before index.json names the image, every blob it reaches must be in
 * place, whole: the manifest, its config and its layers.
 */
static int check_image_blobs(int sha_fd, const struct ou_descriptor *manifest,
                             struct ou_error **err)
{
	_cleanup_json_ json_t *m = NULL;
	const json_t *layers, *l;
	size_t i;
	int r;

	r = check_blob(sha_fd, manifest, "manifest", err);
	if (r < 0)
		return r;
	r = ou_json_load_at(sha_fd, manifest->digest + 7, manifest->digest, OU_MAX_JSON_SIZE, &m,
	                    err);
	if (r < 0)
		return r;
	{
		struct ou_descriptor d = {0};

		r = ou_json_to_descriptor(json_object_get(m, "config"), "manifest config", &d, err);
		if (r >= 0)
			r = check_blob(sha_fd, &d, "config", err);
		ou_descriptor_release(&d);
		if (r < 0)
			return r;
	}
	layers = json_object_get(m, "layers");
	if (!json_is_array(layers))
		return ou_error_set(err, EINVAL, "manifest '%s' has no layers array",
		                    manifest->digest);
	json_array_foreach(layers, i, l)
	{
		struct ou_descriptor d = {0};

		r = ou_json_to_descriptor(l, "manifest layer", &d, err);
		if (r >= 0)
			r = check_blob(sha_fd, &d, "layer", err);
		ou_descriptor_release(&d);
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * index.json for @tag: the existing index (its other fields kept), its
 * manifests kept as they are except those already tagged @tag, then ours.
 */
static int make_index(const json_t *existing, const struct ou_descriptor *manifest, const char *tag,
                      json_t **ret, struct ou_error **err)
{
	_cleanup_json_ json_t *index = NULL, *manifests = NULL, *desc = NULL;
	const json_t *m;
	json_t *ref;
	size_t i;
	int r;

	r = ou_json_from_descriptor(manifest, &desc, err);
	if (r < 0)
		return r;
	ref = json_string(tag);
	if (!ref)
		return ou_error_set(err, EINVAL, "tag '%s' is not valid UTF-8", tag);
	json_object_set_new(desc, "annotations", json_pack("{s:o}", OU_ANNOTATION_REF_NAME, ref));

	index = existing ? json_deep_copy(existing) : json_object();
	manifests = json_array();
	json_array_foreach(json_object_get(existing, "manifests"), i, m)
	{
		const char *name = ou_json_get_string(json_object_get(m, "annotations"),
		                                      OU_ANNOTATION_REF_NAME);

		if (name && !strcmp(name, tag))
			continue;
		json_array_append_new(manifests, json_deep_copy(m));
	}
	json_array_append(manifests, desc);
	json_object_set_new(index, "schemaVersion", json_integer(2));
	json_object_set_new(index, "mediaType", json_string(OU_MT_INDEX));
	json_object_set(index, "manifests", manifests);
	*ret = TAKE_PTR(index);
	return 0;
}

/* Publishes into the locked, inspected OUT (out->out_fd). */
/*
 * Adds the staged image to an existing OUT. Everything that needs space is
 * written in the staging folder first (index.json, oci-layout); only then
 * are blobs renamed in, which needs none, and index.json renamed over the
 * old one, last. On any failure what was added to OUT is taken out again,
 * so OUT stays as it was.
 */
static int merge_into_out(struct ou_oci_out *out, char **blobs, size_t n_blobs,
                          const struct ou_descriptor *manifest, const char *tag,
                          struct ou_error **err)
{
	_cleanup_free_ char *d_blobs = xasprintf("%s/blobs", out->path);
	_cleanup_free_ char *d_sha = xasprintf("%s/blobs/sha256", out->path);
	_cleanup_free_ char *d_index = xasprintf("%s/index.json", out->path);
	_cleanup_free_ char *d_layout = xasprintf("%s/oci-layout", out->path);
	_cleanup_close_ int blobs_fd = -1, sha_fd = -1;
	_cleanup_json_ json_t *index = NULL;
	_cleanup_free_ bool *moved = xcalloc(n_blobs + 1, sizeof(bool));
	bool made_blobs = false, made_sha = false, made_layout = false;
	int r;

	r = make_index(out->index, manifest, tag, &index, err);
	if (r < 0)
		return r;
	r = write_json_at(out->staging_fd, "index.json", d_index, index, err);
	if (r < 0)
		return r;
	if (!out->has_layout_file) {
		_cleanup_json_ json_t *layout = make_layout_file();

		r = write_json_at(out->staging_fd, "oci-layout", d_layout, layout, err);
		if (r < 0)
			return r;
	}
	made_blobs = faccessat(out->out_fd, "blobs", F_OK, AT_SYMLINK_NOFOLLOW) != 0;
	r = open_or_make_dir(out->out_fd, "blobs", d_blobs, &blobs_fd, err);
	if (r < 0)
		goto undo;
	made_sha = faccessat(blobs_fd, "sha256", F_OK, AT_SYMLINK_NOFOLLOW) != 0;
	r = open_or_make_dir(blobs_fd, "sha256", d_sha, &sha_fd, err);
	if (r < 0)
		goto undo;
	for (size_t i = 0; i < n_blobs; i++) {
		/* A blob already there has the same content: its name is its digest. */
		if (faccessat(sha_fd, blobs[i], F_OK, AT_SYMLINK_NOFOLLOW) == 0)
			continue;
		if (renameat(out->blob_fd, blobs[i], sha_fd, blobs[i]) < 0) {
			r = ou_error_set(err, errno, "cannot move blob 'sha256:%s' into '%s': %s",
			                 blobs[i], d_sha, strerror(errno));
			goto undo;
		}
		moved[i] = true;
	}
	r = sync_dir(sha_fd, d_sha, err);
	if (r >= 0)
		r = sync_dir(blobs_fd, d_blobs, err);
	if (r >= 0)
		r = check_image_blobs(sha_fd, manifest, err);
	if (r < 0)
		goto undo;
	if (!out->has_layout_file) {
		if (renameat(out->staging_fd, "oci-layout", out->out_fd, "oci-layout") < 0) {
			r = ou_error_set(err, errno, "cannot create '%s': %s", d_layout,
			                 strerror(errno));
			goto undo;
		}
		made_layout = true;
	}
	/* Last: index.json, renamed over the old one. */
	if (renameat(out->staging_fd, "index.json", out->out_fd, "index.json") < 0) {
		r = ou_error_set(err, errno, "cannot replace '%s': %s", d_index, strerror(errno));
		goto undo;
	}
	return sync_dir(out->out_fd, out->path, err);
undo:
	for (size_t i = 0; i < n_blobs; i++)
		if (moved[i])
			unlinkat(sha_fd, blobs[i], 0);
	if (made_layout)
		unlinkat(out->out_fd, "oci-layout", 0);
	if (made_sha && blobs_fd >= 0)
		unlinkat(blobs_fd, "sha256", AT_REMOVEDIR);
	if (made_blobs)
		unlinkat(out->out_fd, "blobs", AT_REMOVEDIR);
	return r;
}

/* OUT was missing at open: complete the staging folder and rename it to OUT. */
static int publish_new_out(struct ou_oci_out *out, const struct ou_descriptor *manifest,
                           const char *tag, bool *ret_exists, struct ou_error **err)
{
	_cleanup_json_ json_t *index = NULL, *layout = NULL;
	_cleanup_close_ int blobs_fd = -1;
	int r;

	*ret_exists = false;
	r = check_image_blobs(out->blob_fd, manifest, err);
	if (r < 0)
		return r;
	layout = make_layout_file();
	r = write_json_at(out->staging_fd, "oci-layout", "oci-layout", layout, err);
	if (r < 0)
		return r;
	r = make_index(NULL, manifest, tag, &index, err);
	if (r < 0)
		return r;
	r = write_json_at(out->staging_fd, "index.json", "index.json", index, err);
	if (r < 0)
		return r;
	blobs_fd = openat(out->staging_fd, "blobs", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (blobs_fd < 0)
		return ou_error_set(err, errno, "cannot open the staged blobs: %s",
		                    strerror(errno));
	if (fsync(out->blob_fd) < 0 || fsync(blobs_fd) < 0 || fsync(out->staging_fd) < 0)
		return ou_error_set(err, errno, "cannot sync the staged layout: %s",
		                    strerror(errno));
	if (renameat2(out->parent_fd, out->staging_name, out->parent_fd, out->name,
	              RENAME_NOREPLACE) < 0) {
		if (errno == EEXIST || errno == ENOTEMPTY || errno == EINVAL || errno == ENOSYS) {
			*ret_exists = true;
			return 0;
		}
		return ou_error_set(err, errno, "cannot rename the staged layout to '%s': %s",
		                    out->path, strerror(errno));
	}
	free(out->staging_name);
	out->staging_name = NULL;
	return sync_dir(out->parent_fd, out->path, err);
}

int ou_oci_out_commit(struct ou_oci_out *out, const struct ou_descriptor *manifest, const char *tag,
                      struct ou_error **err)
{
	_cleanup_strv_free_ char **blobs = NULL;
	size_t n_blobs;
	bool exists;
	int r;

	if (out->committed)
		return ou_error_set(err, EINVAL, "'%s' is already committed", out->path);
	if (!tag || !tag[0])
		return ou_error_set(err, EINVAL, "cannot write '%s': the tag is empty", out->path);
	if (!manifest->media_type || strcmp(manifest->media_type, OU_MT_MANIFEST) != 0)
		return ou_error_set(err, EINVAL,
		                    "cannot write '%s': the manifest media type is "
		                    "not '%s'",
		                    out->path, OU_MT_MANIFEST);
	r = tidy_staged_blobs(out, &blobs, &n_blobs, err);
	if (r < 0)
		return ou_error_prefix(err, "cannot write '%s'", out->path);

	if (out->out_fd < 0) {
		r = publish_new_out(out, manifest, tag, &exists, err);
		if (r < 0)
			return ou_error_prefix(err, "cannot write '%s'", out->path);
		if (!exists) {
			out->committed = true;
			return 0;
		}
		/*
		 * OUT appeared while we were building (or the file system has no
		 * RENAME_NOREPLACE): treat it as an existing OUT, under the lock.
		 */
		if (mkdirat(out->parent_fd, out->name, 0755) == 0) {
			_cleanup_close_ int fd = openat(out->parent_fd, out->name,
			                                O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (fd < 0 || fchmod(fd, 0755) < 0)
				return ou_error_set(err, errno, "cannot create '%s': %s", out->path,
				                    strerror(errno));
		}
		r = adopt_existing_out(out, out->parent_fd, out->name, err);
		if (r < 0)
			return r;
	}
	r = merge_into_out(out, blobs, n_blobs, manifest, tag, err);
	if (r < 0)
		return ou_error_prefix(err, "cannot write '%s'", out->path);
	out->committed = true;
	/* The staging folder has served; do not leave it in OUT until free. */
	remove_tree_at(out->staging_parent_fd, out->staging_name, 0);
	free(out->staging_name);
	out->staging_name = NULL;
	return 0;
}

struct ou_oci_out *ou_oci_out_free(struct ou_oci_out *out)
{
	if (!out)
		return NULL;
	close_fd(&out->blob_fd);
	close_fd(&out->staging_fd);
	if (out->staging_name && out->staging_parent_fd >= 0)
		remove_tree_at(out->staging_parent_fd, out->staging_name, 0);
	/* Closing OUT's descriptor drops the flock. */
	close_fd(&out->out_fd);
	close_fd(&out->parent_fd);
	json_decref(out->index);
	free(out->staging_name);
	free(out->name);
	free(out->path);
	free(out);
	return NULL;
}

/* ------------------------------------------------------------------------ */
/* Config and manifest                                                      */

void ou_oci_format_time(long long epoch, char buf[32])
{
	struct tm tm;
	time_t t;

	/* Callers check the range; clamping keeps the output well-formed anyway. */
	if (epoch < 0)
		epoch = 0;
	if (epoch > OU_MAX_EPOCH)
		epoch = OU_MAX_EPOCH;
	t = (time_t)epoch;
	if (!gmtime_r(&t, &tm) || strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, 32, "1970-01-01T00:00:00Z");
}

void ou_image_layer_release(struct ou_image_layer *l)
{
	if (!l)
		return;
	ou_descriptor_release(&l->desc);
	free(l->diff_id);
	free(l->created_by);
	free(l->comment);
	*l = (struct ou_image_layer){0};
}

/* A spec value that jansson refuses (not UTF-8) is a spec error at its line. */
static int spec_utf8_error(const struct ou_spec *spec, unsigned line, const char *what,
                           struct ou_error **err)
{
	return ou_error_set(err, EINVAL, "%s:%u: %s is not valid UTF-8", spec->path, line, what);
}

/* A member of the base's config that must be absent, null or of one json type. */
static int base_member(const json_t *obj, const char *key, json_type type, const json_t **ret,
                       struct ou_error **err)
{
	const json_t *v = json_object_get(obj, key);

	*ret = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (json_typeof(v) != type)
		return ou_error_set(err, EBADMSG, "base image config: '%s' has the wrong type",
		                    key);
	*ret = v;
	return 0;
}

/* The same for an array whose items are all strings. */
static int base_string_array(const json_t *obj, const char *key, const json_t **ret,
                             struct ou_error **err)
{
	const json_t *v, *item;
	size_t i;
	int r;

	r = base_member(obj, key, JSON_ARRAY, &v, err);
	if (r < 0)
		return r;
	json_array_foreach(v, i, item)
	{
		if (!json_is_string(item))
			return ou_error_set(err, EBADMSG,
			                    "base image config: '%s' is not an array of strings",
			                    key);
	}
	*ret = v;
	return 0;
}

static size_t env_name_len(const char *entry)
{
	return strcspn(entry, "=");
}

/* Index of the first entry named like @entry's NAME, or n. */
static size_t env_find(char **env, size_t n, const char *name, size_t name_len)
{
	for (size_t i = 0; i < n; i++)
		if (env_name_len(env[i]) == name_len && !strncmp(env[i], name, name_len))
			return i;
	return n;
}

/*
 * Sets @entry ("NAME=VALUE") in @env: it replaces the first entry of that
 * NAME in place (later duplicates are dropped), or is appended.
 */
static void env_set(char ***env, size_t *n, const char *entry)
{
	size_t len = env_name_len(entry);
	size_t i = env_find(*env, *n, entry, len);

	if (i == *n) {
		ou_strv_push(env, n, entry);
		return;
	}
	free((*env)[i]);
	(*env)[i] = xstrdup(entry);
	for (size_t j = i + 1; j < *n;) {
		if (env_name_len((*env)[j]) == len && !strncmp((*env)[j], entry, len)) {
			free((*env)[j]);
			memmove(&(*env)[j], &(*env)[j + 1], (*n - j) * sizeof(char *));
			(*n)--;
		} else {
			j++;
		}
	}
}

static bool spec_sets_env(const struct ou_spec *spec, const char *name)
{
	for (size_t i = 0; i < spec->n_env; i++)
		if (!strcmp(spec->env[i].key, name))
			return true;
	return false;
}

/* True when jansson takes @s as a string (valid UTF-8). */
static bool is_utf8(const char *s)
{
	json_t *j = json_string(s);

	json_decref(j);
	return j != NULL;
}

/*
 * Env: the base's, its HOME replaced by the user's home (unless the spec
 * sets HOME itself), the spec's env by NAME, and a PATH first when none.
 */
static int make_env(const struct ou_image_info *info, const json_t *base_env, json_t **ret,
                    char ***notes, size_t *n_notes, struct ou_error **err)
{
	const struct ou_spec *spec = info->spec;
	_cleanup_strv_free_ char **env = xcalloc(1, sizeof(char *));
	_cleanup_json_ json_t *arr = json_array();
	const json_t *item;
	size_t n = 0, i;

	json_array_foreach(base_env, i, item)
	{
		const char *e = json_string_value(item);

		/* runtimes refuse such an entry (umoci: "must contain '='"): name it now */
		if (!strchr(e, '=') || e[0] == '=')
			return ou_error_set(err, EBADMSG,
			                    "base image config: Env[%zu] '%.64s' is not NAME=VALUE",
			                    i, e);
		ou_strv_push(&env, &n, e);
	}
	i = env_find(env, n, "HOME", 4);
	if (i < n && info->home && !spec_sets_env(spec, "HOME")) {
		_cleanup_free_ char *home = xasprintf("HOME=%s", info->home);

		if (!is_utf8(home))
			return ou_error_set(err, EINVAL, "home '%s' is not valid UTF-8",
			                    info->home);
		if (strcmp(env[i], home) != 0) {
			_cleanup_free_ char *note = xasprintf(
			        "note: %s from the base image replaced by the user's home: %s",
			        env[i], home);
			ou_strv_push(notes, n_notes, note);
		}
		env_set(&env, &n, home);
	}
	for (i = 0; i < spec->n_env; i++) {
		_cleanup_free_ char *entry =
		        xasprintf("%s=%s", spec->env[i].key, spec->env[i].value);

		if (!is_utf8(entry))
			return spec_utf8_error(spec, spec->env[i].line, "env", err);
		env_set(&env, &n, entry);
	}
	if (env_find(env, n, "PATH", 4) == n)
		json_array_append_new(arr, json_string(DEFAULT_PATH));
	for (i = 0; i < n; i++)
		json_array_append_new(arr, json_string(env[i]));
	*ret = TAKE_PTR(arr);
	return 0;
}

static int argv_to_json(const struct ou_spec *spec, const struct ou_spec_argv *a, const char *what,
                        json_t **ret, struct ou_error **err)
{
	_cleanup_json_ json_t *arr = json_array();

	for (size_t i = 0; i < a->argc; i++) {
		json_t *s = json_string(a->argv[i]);

		if (!s)
			return spec_utf8_error(spec, a->line, what, err);
		json_array_append_new(arr, s);
	}
	*ret = TAKE_PTR(arr);
	return 0;
}

/* Sets @key to @v (reference stolen) unless @v is NULL, an empty array or object, or "". */
static void set_unless_empty(json_t *obj, const char *key, json_t *v)
{
	if (!v)
		return;
	if ((json_is_array(v) && json_array_size(v) == 0) ||
	    (json_is_object(v) && json_object_size(v) == 0) ||
	    (json_is_string(v) && json_string_length(v) == 0)) {
		json_decref(v);
		return;
	}
	json_object_set_new(obj, key, v);
}

/* Entrypoint and Cmd, by Docker's rule: a new entrypoint drops an inherited Cmd. */
static int make_entrypoint_cmd(const struct ou_spec *spec, const json_t *bc, json_t *config,
                               struct ou_error **err)
{
	const json_t *base_cmd, *base_ep;
	json_t *cmd = NULL, *ep = NULL;
	int r;

	r = base_string_array(bc, "Cmd", &base_cmd, err);
	if (r < 0)
		return r;
	r = base_string_array(bc, "Entrypoint", &base_ep, err);
	if (r < 0)
		return r;
	if (spec->entrypoint.set) {
		r = argv_to_json(spec, &spec->entrypoint, "entrypoint", &ep, err);
		if (r < 0)
			return r;
	} else if (base_ep) {
		ep = json_deep_copy(base_ep);
	}
	if (spec->cmd.set) {
		r = argv_to_json(spec, &spec->cmd, "cmd", &cmd, err);
		if (r < 0) {
			json_decref(ep);
			return r;
		}
	} else if (base_cmd && !spec->entrypoint.set) {
		cmd = json_deep_copy(base_cmd);
	}
	set_unless_empty(config, "Entrypoint", ep);
	set_unless_empty(config, "Cmd", cmd);
	return 0;
}

static int make_labels(const struct ou_spec *spec, const json_t *bc, json_t *config,
                       struct ou_error **err)
{
	_cleanup_json_ json_t *labels = NULL;
	const json_t *base, *v;
	const char *k;
	int r;

	r = base_member(bc, "Labels", JSON_OBJECT, &base, err);
	if (r < 0)
		return r;
	json_object_foreach((json_t *)base, k, v)
	{
		if (!json_is_string(v))
			return ou_error_set(err, EBADMSG,
			                    "base image config: label '%s' is not a string", k);
	}
	labels = base ? json_deep_copy(base) : json_object();
	for (size_t i = 0; i < spec->n_labels; i++) {
		json_t *s = json_string(spec->labels[i].value);

		if (!s || json_object_set_new(labels, spec->labels[i].key, s) < 0)
			return spec_utf8_error(spec, spec->labels[i].line, "label", err);
	}
	set_unless_empty(config, "Labels", TAKE_PTR(labels));
	return 0;
}

static int make_ports(const struct ou_spec *spec, const json_t *bc, json_t *config,
                      struct ou_error **err)
{
	_cleanup_json_ json_t *ports = json_object();
	const json_t *base, *v;
	const char *k;
	int r;

	r = base_member(bc, "ExposedPorts", JSON_OBJECT, &base, err);
	if (r < 0)
		return r;
	/* The values carry nothing (the image-spec says "{}"): normalise them. */
	json_object_foreach((json_t *)base, k, v)
	{
		json_object_set_new(ports, k, json_object());
	}
	for (size_t i = 0; i < spec->n_expose; i++)
		if (json_object_set_new(ports, spec->expose[i].str, json_object()) < 0)
			return spec_utf8_error(spec, spec->expose[i].line, "expose", err);
	set_unless_empty(config, "ExposedPorts", TAKE_PTR(ports));
	return 0;
}

/* A string field: the spec's value, else the base's. */
static int make_string_field(const struct ou_spec *spec, const struct ou_spec_value *value,
                             const char *what, const json_t *bc, const char *key, json_t *config,
                             struct ou_error **err)
{
	const json_t *base;
	int r;

	if (value->str) {
		json_t *s = json_string(value->str);

		if (!s)
			return spec_utf8_error(spec, value->line, what, err);
		set_unless_empty(config, key, s);
		return 0;
	}
	r = base_member(bc, key, JSON_STRING, &base, err);
	if (r < 0)
		return r;
	if (base)
		set_unless_empty(config, key, json_deep_copy(base));
	return 0;
}

static int history_entry(const struct ou_image_layer *l, const char *created, json_t **ret,
                         struct ou_error **err)
{
	_cleanup_json_ json_t *h = json_object();

	json_object_set_new(h, "created", json_string(created));
	if (l->created_by) {
		json_t *s = json_string(l->created_by);
		if (!s)
			return ou_error_set(err, EINVAL, "history text '%s' is not valid UTF-8",
			                    l->created_by);
		set_unless_empty(h, "created_by", s);
	}
	if (l->comment) {
		json_t *s = json_string(l->comment);
		if (!s)
			return ou_error_set(err, EINVAL, "history text '%s' is not valid UTF-8",
			                    l->comment);
		set_unless_empty(h, "comment", s);
	}
	*ret = TAKE_PTR(h);
	return 0;
}

/*
 * history: the base's entries for its first n_base_history_layers layers
 * (with the empty_layer entries among them, and all of the base's when all
 * its layers are kept), our own entries for base layers the base's history
 * does not cover, then one entry per new layer.
 */
static int make_history(const struct ou_image_info *info, const char *created, json_t **ret,
                        struct ou_error **err)
{
	_cleanup_json_ json_t *hist = json_array();
	size_t n_base = 0, covered = 0, total = 0, i;
	const json_t *base = NULL, *e;
	int r;

	if (info->base_config) {
		n_base = info->n_base_history_layers;
		if (n_base > info->n_layers)
			return ou_error_set(err, EINVAL, "%zu base layers but %zu layers", n_base,
			                    info->n_layers);
		r = base_member(info->base_config, "history", JSON_ARRAY, &base, err);
		if (r < 0)
			return r;
	}
	json_array_foreach(base, i, e)
	{
		if (!json_is_object(e))
			return ou_error_set(err, EBADMSG,
			                    "base image config: history[%zu] is not an object", i);
		if (!json_is_true(json_object_get(e, "empty_layer")))
			total++;
	}
	if (n_base > 0) {
		json_array_foreach(base, i, e)
		{
			bool empty = json_is_true(json_object_get(e, "empty_layer"));

			if (!empty) {
				if (covered == n_base)
					break;
				covered++;
			} else if (covered == n_base && total != n_base) {
				break;
			}
			json_array_append_new(hist, json_deep_copy(e));
		}
	}
	for (i = covered; i < info->n_layers; i++) {
		json_t *h;

		r = history_entry(&info->layers[i], created, &h, err);
		if (r < 0)
			return r;
		json_array_append_new(hist, h);
	}
	*ret = TAKE_PTR(hist);
	return 0;
}

int ou_oci_make_config(const struct ou_image_info *info, json_t **ret_config, char ***notes,
                       size_t *n_notes, struct ou_error **err)
{
	const struct ou_spec *spec = info->spec;
	_cleanup_json_ json_t *cfg = json_object(), *config = json_object();
	_cleanup_strv_free_ char **my_notes = xcalloc(1, sizeof(char *));
	json_t *env = NULL, *diff_ids, *history = NULL, *s;
	const json_t *bc = NULL, *volumes;
	char created[32];
	size_t n_my_notes = 0;
	int r;

	if (info->epoch < 0 || info->epoch > OU_MAX_EPOCH)
		return ou_error_set(err, EINVAL, "timestamp %lld is outside 0..%lld", info->epoch,
		                    OU_MAX_EPOCH);
	if (!info->architecture || !info->architecture[0] || !info->os || !info->os[0])
		return ou_error_set(err, EINVAL, "the image platform is not set");
	if (info->base_config) {
		if (!json_is_object(info->base_config))
			return ou_error_set(err, EBADMSG, "base image config is not an object");
		r = base_member(info->base_config, "config", JSON_OBJECT, &bc, err);
		if (r < 0)
			return r;
	}
	ou_oci_format_time(info->epoch, created);

	if (info->user && info->user[0])
		json_object_set_new(config, "User", json_string(info->user));
	{
		const json_t *base_env;

		r = base_string_array(bc, "Env", &base_env, err);
		if (r < 0)
			return r;
		r = make_env(info, base_env, &env, &my_notes, &n_my_notes, err);
		if (r < 0)
			return r;
		set_unless_empty(config, "Env", env);
	}
	r = make_entrypoint_cmd(spec, bc, config, err);
	if (r < 0)
		return r;
	r = make_string_field(spec, &spec->workdir, "workdir", bc, "WorkingDir", config, err);
	if (r < 0)
		return r;
	{
		/* runtimes need an absolute cwd (runc: "cwd must be an absolute path") */
		const char *wd = ou_json_get_string(config, "WorkingDir");

		if (wd && wd[0] != '/')
			return ou_error_set(err, EBADMSG,
			                    "base image config: WorkingDir '%.200s' is not an "
			                    "absolute path (set 'workdir' in the spec)",
			                    wd);
	}
	r = make_labels(spec, bc, config, err);
	if (r < 0)
		return r;
	r = make_ports(spec, bc, config, err);
	if (r < 0)
		return r;
	r = base_member(bc, "Volumes", JSON_OBJECT, &volumes, err);
	if (r < 0)
		return r;
	if (volumes)
		set_unless_empty(config, "Volumes", json_deep_copy(volumes));
	r = make_string_field(spec, &spec->stop_signal, "stop_signal", bc, "StopSignal", config,
	                      err);
	if (r < 0)
		return r;

	s = json_string(info->architecture);
	if (!s)
		return ou_error_set(err, EINVAL, "architecture is not valid UTF-8");
	json_object_set_new(cfg, "architecture", s);
	s = json_string(info->os);
	if (!s)
		return ou_error_set(err, EINVAL, "os is not valid UTF-8");
	json_object_set_new(cfg, "os", s);
	if (info->variant && info->variant[0]) {
		s = json_string(info->variant);
		if (!s)
			return ou_error_set(err, EINVAL, "variant is not valid UTF-8");
		json_object_set_new(cfg, "variant", s);
	}
	json_object_set_new(cfg, "created", json_string(created));
	json_object_set_new(cfg, "config", json_incref(config));

	diff_ids = json_array();
	json_object_set_new(cfg, "rootfs",
	                    json_pack("{s:s,s:o}", "type", "layers", "diff_ids", diff_ids));
	for (size_t i = 0; i < info->n_layers; i++) {
		const char *id = info->layers[i].diff_id;

		if (!id || !ou_digest_is_valid(id))
			return ou_error_set(err, EINVAL, "layer %zu has an invalid diff_id '%s'", i,
			                    id ? id : "");
		json_array_append_new(diff_ids, json_string(id));
	}
	r = make_history(info, created, &history, err);
	if (r < 0)
		return r;
	json_object_set_new(cfg, "history", history);

	if (notes)
		for (size_t i = 0; i < n_my_notes; i++)
			ou_strv_push(notes, n_notes, my_notes[i]);
	*ret_config = TAKE_PTR(cfg);
	return 0;
}

static bool is_oci_layer_type(const char *mt)
{
	static const char *const types[] = {
	        OU_MT_LAYER_TAR,
	        OU_MT_LAYER_GZIP,
	        OU_MT_LAYER_ZSTD,
	        "application/vnd.oci.image.layer.nondistributable.v1.tar",
	        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
	        "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
	};

	for (size_t i = 0; i < ELEMENTSOF(types); i++)
		if (mt && !strcmp(mt, types[i]))
			return true;
	return false;
}

int ou_oci_make_manifest(const struct ou_image_info *info, const struct ou_descriptor *config,
                         json_t *extra_annotations, json_t **ret_manifest, struct ou_error **err)
{
	const struct ou_spec *spec = info->spec;
	_cleanup_json_ json_t *m = json_object(), *layers = json_array(), *ann = json_object();
	json_t *d;
	const char *k;
	json_t *v;
	int r;

	if (!config->media_type || strcmp(config->media_type, OU_MT_CONFIG) != 0)
		return ou_error_set(err, EINVAL, "config media type '%s' is not '%s'",
		                    config->media_type ? config->media_type : "", OU_MT_CONFIG);
	r = ou_json_from_descriptor(config, &d, err);
	if (r < 0)
		return r;
	json_object_set_new(m, "config", d);
	for (size_t i = 0; i < info->n_layers; i++) {
		const struct ou_descriptor *l = &info->layers[i].desc;

		/* Only OCI types: a Docker type in an OCI manifest breaks consumers (C13). */
		if (!is_oci_layer_type(l->media_type))
			return ou_error_set(err, EINVAL,
			                    "layer '%s' has media type '%s', not an "
			                    "OCI layer type",
			                    l->digest ? l->digest : "",
			                    l->media_type ? l->media_type : "");
		r = ou_json_from_descriptor(l, &d, err);
		if (r < 0)
			return r;
		json_array_append_new(layers, d);
	}
	json_object_set_new(m, "schemaVersion", json_integer(2));
	json_object_set_new(m, "mediaType", json_string(OU_MT_MANIFEST));
	json_object_set(m, "layers", layers);

	if (extra_annotations && !json_is_object(extra_annotations))
		return ou_error_set(err, EINVAL, "extra annotations are not an object");
	json_object_foreach(extra_annotations, k, v)
	{
		if (!json_is_string(v))
			return ou_error_set(err, EINVAL, "annotation '%s' is not a string", k);
		json_object_set_new(ann, k, json_deep_copy(v));
	}
	/* The spec's own annotations win over what the build derived. */
	for (size_t i = 0; spec && i < spec->n_annotations; i++) {
		json_t *s = json_string(spec->annotations[i].value);

		if (!s || json_object_set_new(ann, spec->annotations[i].key, s) < 0)
			return spec_utf8_error(spec, spec->annotations[i].line, "annotation", err);
	}
	set_unless_empty(m, "annotations", TAKE_PTR(ann));
	*ret_manifest = TAKE_PTR(m);
	return 0;
}
