/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "ociuser/error.h"

/*
 * The largest JSON document ociuser reads (index.json, a manifest, a
 * config, oci-layout); a bigger one is refused with EFBIG before parsing.
 */
#define OU_MAX_JSON_SIZE (8 * 1024 * 1024)
/* The most that skopeo and podman (containers/image) read of a manifest or a config
 * blob: larger ones are refused when read from a base and never written. */
#define OU_MAX_BLOB_JSON_SIZE (4 * 1024 * 1024)

/*
 * A content descriptor (mediaType, digest, size). Strings are owned by
 * whoever owns the struct; release with ou_descriptor_release(). It lives
 * here, below oci.h, so that every module that reads or writes blobs can use
 * it without depending on the layout writer.
 */
struct ou_descriptor {
	char *media_type;
	char *digest; /* "sha256:<hex>" */
	int64_t size;
};

/* Frees the strings of @d (NULL is fine) and zeroes it. */
void ou_descriptor_release(struct ou_descriptor *d);

/* _cleanup_json_ json_t *j = NULL; drops the reference on scope exit (NULL is fine). */
static inline void ou_json_decrefp(json_t **p)
{
	json_decref(*p);
}
#define _cleanup_json_ _cleanup_(ou_json_decrefp)

/*
 * Serialises @json the one way ociuser writes JSON: keys sorted by byte
 * value, compact (no spaces), UTF-8 as it is, no trailing newline. Any
 * value (object, array, string, ...) is accepted. *ret_text is
 * NUL-terminated and the caller's (free()); *ret_len excludes the NUL.
 * Fails with EIO only when jansson cannot encode (an invalid value).
 */
int ou_json_dump(const json_t *json, char **ret_text, size_t *ret_len, struct ou_error **err);

/*
 * Parses @len bytes at @data as one JSON object or array. Duplicate object
 * keys, NUL characters in strings and trailing data are refused. Errors are
 * EBADMSG "@what: not valid json: line L column C: REASON", or EFBIG when
 * @len is over OU_MAX_JSON_SIZE. The caller owns *ret.
 */
int ou_json_load_buffer(const char *what, const void *data, size_t len, json_t **ret,
                        struct ou_error **err);

/*
 * Reads the regular file @path (at most @max bytes, EFBIG otherwise; the
 * errno of open/read naming @path when it cannot be read) and parses it as
 * ou_json_load_buffer() does, with @path in messages.
 */
int ou_json_load_file(const char *path, size_t max, json_t **ret, struct ou_error **err);

/*
 * The same for @name relative to the directory @dirfd (not following a
 * final symbolic link); @display names the file in messages.
 */
int ou_json_load_at(int dirfd, const char *name, const char *display, size_t max, json_t **ret,
                    struct ou_error **err);

/* The version of the OCI image layout ociuser reads and writes ("oci-layout"). */
#define OU_LAYOUT_VERSION "1.0.0"

/*
 * Checks the file "oci-layout" below @dirfd (@display names it): JSON with
 * imageLayoutVersion OU_LAYOUT_VERSION. A missing file is ENOENT.
 */
int ou_json_check_layout_file(int dirfd, const char *display, struct ou_error **err);

/*
 * Returns a new object {"digest","mediaType","size"} for @d (the caller owns
 * the reference). Fails with EINVAL when a field is missing or invalid
 * (digest not "sha256:<64 hex>", negative size, media type not UTF-8).
 */
int ou_json_from_descriptor(const struct ou_descriptor *d, json_t **ret, struct ou_error **err);

/*
 * Reads a descriptor object: "mediaType" (string), "digest" (must be
 * "sha256:<64 lower-case hex>"), "size" (integer >= 0). Other keys
 * (annotations, platform, urls) are ignored. Fails with EBADMSG naming
 * @what and the field; fills *ret (caller releases) only on success.
 */
int ou_json_to_descriptor(const json_t *json, const char *what, struct ou_descriptor *ret,
                          struct ou_error **err);

/* The string value of @key in object @obj, or NULL when absent, not a string or @obj is not an
 * object. Borrowed from @obj. */
const char *ou_json_get_string(const json_t *obj, const char *key);
