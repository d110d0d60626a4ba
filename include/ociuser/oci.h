/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "ociuser/entry.h"
#include "ociuser/error.h"
#include "ociuser/json.h"
#include "ociuser/spec.h"

#define OU_MT_INDEX "application/vnd.oci.image.index.v1+json"
#define OU_MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define OU_MT_CONFIG "application/vnd.oci.image.config.v1+json"
#define OU_MT_LAYER_TAR "application/vnd.oci.image.layer.v1.tar"
#define OU_MT_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define OU_MT_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"
#define OU_ANNOTATION_REF_NAME "org.opencontainers.image.ref.name"
#define OU_ANNOTATION_BASE_NAME "org.opencontainers.image.base.name"
#define OU_ANNOTATION_BASE_DIGEST "org.opencontainers.image.base.digest"

/* The largest timestamp ociuser takes: 9999-12-31T23:59:59Z. */
#define OU_MAX_EPOCH 253402300799LL

/* struct ou_descriptor and ou_descriptor_release() are in ociuser/json.h. */

/* One layer of the image: its descriptor, its diff_id and its history line. */
struct ou_image_layer {
	struct ou_descriptor desc;
	char *diff_id;
	char *created_by; /* history "created_by" */
	char *comment;    /* history "comment", may be NULL */
};

/*
 * An OCI image layout being written. Opening it decides what OUT is:
 * missing (it will be created, whole, by one rename at commit), an empty
 * folder or an existing layout (blobs are added, index.json replaced last),
 * or anything else (refused, untouched). Until commit everything goes into
 * a staging folder that ou_oci_out_free() removes, so a failed build leaves
 * OUT as it was. An existing OUT is locked (flock) from open to free so two
 * builds into one OUT take turns.
 */
struct ou_oci_out;

int ou_oci_out_open(const char *out_path, struct ou_oci_out **ret, struct ou_error **err);

/*
 * The staging folder for blobs (a directory fd, borrowed): writers create
 * temporary files in it and rename them to their hex digest.
 */
int ou_oci_out_blob_dirfd(const struct ou_oci_out *out);

/*
 * The folders this build writes (OUT once it exists, the staging folder),
 * which a [files] source must never copy; returns how many of @ret are set.
 */
size_t ou_oci_out_folders(const struct ou_oci_out *out, struct ou_file_id ret[2]);

/*
 * Serialises @json (keys sorted, compact, no trailing newline) and stores
 * it as a blob; fills @ret (caller releases with ou_descriptor_release).
 */
int ou_oci_out_put_json(struct ou_oci_out *out, json_t *json, const char *media_type,
                        struct ou_descriptor *ret, struct ou_error **err);

/*
 * Publishes the image: moves every staged blob into OUT/blobs/sha256
 * (keeping blobs already there), then writes index.json with @manifest
 * annotated with ref name @tag (replacing an image of the same tag and
 * keeping all others), atomically and last. Files end up 0644, folders
 * 0755, whatever the umask.
 */
int ou_oci_out_commit(struct ou_oci_out *out, const struct ou_descriptor *manifest, const char *tag,
                      struct ou_error **err);

/* Removes what was staged (unless committed), unlocks and frees. NULL is fine. */
struct ou_oci_out *ou_oci_out_free(struct ou_oci_out *out);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct ou_oci_out *, ou_oci_out_free)

/* What the build decided about the image, beyond the spec. */
struct ou_image_info {
	const struct ou_spec *spec;
	json_t *base_config;      /* the base image's config (borrowed), or NULL for a tarball */
	const char *user;         /* config.User, as config_user asks */
	const char *home;         /* the user's home: replaces an inherited HOME */
	long long epoch;          /* created, and history created of new layers */
	const char *architecture; /* resolved: spec, else base, else host */
	const char *os;
	const char *variant;                 /* may be NULL */
	const struct ou_image_layer *layers; /* every layer, bottom first (base ones included) */
	size_t n_layers;
	size_t n_base_history_layers; /* layers whose history comes from base_config (0 for a
	                                 tarball) */
};

/*
 * Builds the image config: inherited fields of base_config, overridden by
 * the spec as the contract says (Env by name, an entrypoint clearing an
 * inherited Cmd unless cmd is set, a PATH when none is given), User,
 * rootfs.diff_ids and history. Appends human notes (such as "HOME was
 * replaced") to *notes (a NULL-terminated vector, see ou_strv_push).
 */
int ou_oci_make_config(const struct ou_image_info *info, json_t **ret_config, char ***notes,
                       size_t *n_notes, struct ou_error **err);

/* Builds the manifest for @config and @info's layers, with the spec's annotations. */
int ou_oci_make_manifest(const struct ou_image_info *info, const struct ou_descriptor *config,
                         json_t *extra_annotations, json_t **ret_manifest, struct ou_error **err);

/*
 * Formats @epoch (0..OU_MAX_EPOCH; values outside are clamped) as RFC 3339
 * UTC "YYYY-MM-DDTHH:MM:SSZ" into @buf. Does not depend on TZ.
 */
void ou_oci_format_time(long long epoch, char buf[32]);

/* Frees the strings of @l (NULL is fine) and zeroes it. */
void ou_image_layer_release(struct ou_image_layer *l);
