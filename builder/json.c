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
	_cleanup_close_ int fd = -1;
	struct ou_strbuf sb = OU_STRBUF_INIT;
	struct stat st;
	char chunk[65536];
	int r;

	if (max > OU_MAX_JSON_SIZE)
		max = OU_MAX_JSON_SIZE;
	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK | flags);
	if (fd < 0)
		return ou_error_set(err, errno, "cannot open '%s': %s", display, strerror(errno));
	if (fstat(fd, &st) < 0)
		return ou_error_set(err, errno, "cannot stat '%s': %s", display, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return ou_error_set(err, EBADMSG, "'%s' is not a regular file", display);
	if (st.st_size > (off_t)max)
		return ou_error_set(err, EFBIG, "'%s' is larger than %zu bytes", display, max);
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = errno;
			ou_strbuf_release(&sb);
			return ou_error_set(err, r, "cannot read '%s': %s", display, strerror(r));
		}
		if (n == 0)
			break;
		if (sb.len + (size_t)n > max) {
			ou_strbuf_release(&sb);
			return ou_error_set(err, EFBIG, "'%s' is larger than %zu bytes", display,
			                    max);
		}
		ou_strbuf_append(&sb, chunk, (size_t)n);
	}
	{
		_cleanup_free_ char *what = xasprintf("'%s'", display);

		r = ou_json_load_buffer(what, ou_strbuf_str(&sb), sb.len, ret, err);
	}
	ou_strbuf_release(&sb);
	return r;
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
