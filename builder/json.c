/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "ociuser/digest.h"
#include "ociuser/json.h"
#include "ociuser/strbuf.h"
#include "ociuser/xalloc.h"

void ou_descriptor_release(struct ou_descriptor *d)
{
	if (!d)
		return;
	free(d->media_type);
	free(d->digest);
	*d = (struct ou_descriptor){0};
}

int ou_json_dump(const json_t *json, char **ret_text, size_t *ret_len, struct ou_error **err)
{
	char *text;

	/*
	 * Digests are our product: sorted keys and no whitespace give one byte
	 * sequence per value. JSON_ENCODE_ANY lets a bare string be dumped too.
	 */
	text = json_dumps(json, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY);
	if (!text)
		return ou_error_set(err, EIO, "cannot encode json");
	*ret_len = strlen(text);
	*ret_text = text;
	return 0;
}

int ou_json_load_buffer(const char *what, const void *data, size_t len, json_t **ret,
                        struct ou_error **err)
{
	json_error_t jerr;
	json_t *json;

	if (len > OU_MAX_JSON_SIZE)
		return ou_error_set(err, EFBIG, "%s: larger than %d bytes", what, OU_MAX_JSON_SIZE);
	json = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json)
		return ou_error_set(err, EBADMSG, "%s: not valid json: line %d column %d: %s", what,
		                    jerr.line, jerr.column, jerr.text);
	*ret = json;
	return 0;
}

static int load_at(int dirfd, const char *name, int flags, const char *display, size_t max,
                   json_t **ret, struct ou_error **err)
{
	_cleanup_free_ char *data = NULL, *what = NULL;
	size_t len;
	int r;

	r = ou_read_file_at(dirfd, name, flags, display,
	                    max < OU_MAX_JSON_SIZE ? max : OU_MAX_JSON_SIZE, &data, &len, err);
	if (r < 0)
		return r;
	what = xasprintf("'%s'", display);
	return ou_json_load_buffer(what, data, len, ret, err);
}

int ou_json_load_file(const char *path, size_t max, json_t **ret, struct ou_error **err)
{
	return load_at(AT_FDCWD, path, 0, path, max, ret, err);
}

int ou_json_load_at(int dirfd, const char *name, const char *display, size_t max, json_t **ret,
                    struct ou_error **err)
{
	return load_at(dirfd, name, O_NOFOLLOW, display, max, ret, err);
}

int ou_json_from_descriptor(const struct ou_descriptor *d, json_t **ret, struct ou_error **err)
{
	_cleanup_json_ json_t *obj = NULL;
	json_t *mt;

	if (!d->media_type || !d->media_type[0])
		return ou_error_set(err, EINVAL, "descriptor without a media type");
	if (!d->digest || !ou_digest_is_valid(d->digest))
		return ou_error_set(err, EINVAL, "descriptor with an invalid digest '%s'",
		                    d->digest ? d->digest : "");
	if (d->size < 0)
		return ou_error_set(err, EINVAL, "descriptor '%s' with a negative size", d->digest);
	mt = json_string(d->media_type);
	if (!mt)
		return ou_error_set(err, EINVAL,
		                    "descriptor '%s' with a media type that is not UTF-8",
		                    d->digest);
	obj = json_object();
	json_object_set_new(obj, "mediaType", mt);
	json_object_set_new(obj, "digest", json_string(d->digest));
	json_object_set_new(obj, "size", json_integer(d->size));
	*ret = TAKE_PTR(obj);
	return 0;
}

int ou_json_to_descriptor(const json_t *json, const char *what, struct ou_descriptor *ret,
                          struct ou_error **err)
{
	const char *mt, *digest;
	const json_t *size;

	if (!json_is_object(json))
		return ou_error_set(err, EBADMSG, "%s: descriptor is not an object", what);
	mt = ou_json_get_string(json, "mediaType");
	if (!mt || !mt[0])
		return ou_error_set(err, EBADMSG, "%s: descriptor has no 'mediaType' string", what);
	digest = ou_json_get_string(json, "digest");
	if (!digest)
		return ou_error_set(err, EBADMSG, "%s: descriptor has no 'digest' string", what);
	if (!ou_digest_is_valid(digest))
		return ou_error_set(err, EBADMSG,
		                    "%s: descriptor digest '%s' is not sha256:<64 lower-case hex>",
		                    what, digest);
	size = json_object_get(json, "size");
	if (!json_is_integer(size) || json_integer_value(size) < 0)
		return ou_error_set(err, EBADMSG,
		                    "%s: descriptor '%s' has no 'size' integer of 0 or more", what,
		                    digest);
	ret->media_type = xstrdup(mt);
	ret->digest = xstrdup(digest);
	ret->size = json_integer_value(size);
	return 0;
}

const char *ou_json_get_string(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

int ou_json_check_layout_file(int dirfd, const char *display, struct ou_error **err)
{
	_cleanup_json_ json_t *layout = NULL;
	const char *v;
	int r;

	r = load_at(dirfd, "oci-layout", O_NOFOLLOW, display, 64 * 1024, &layout, err);
	if (r < 0)
		return r;
	v = ou_json_get_string(layout, "imageLayoutVersion");
	if (!v)
		return ou_error_set(err, EBADMSG, "'%s' has no imageLayoutVersion", display);
	if (strcmp(v, OU_LAYOUT_VERSION) != 0)
		return ou_error_set(
		        err, EBADMSG,
		        "'%s' has imageLayoutVersion '%s'; ociuser reads and writes '%s'", display,
		        v, OU_LAYOUT_VERSION);
	return 0;
}
