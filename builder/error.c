/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "ociuser/error.h"
#include "ociuser/xalloc.h"

int ou_error_set(struct ou_error **err, int code, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (code <= 0)
		code = EIO;
	if (!err)
		return -code;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (!msg)
		msg = xstrdup("out of memory while reporting an error");
	ou_error_free(*err);
	*err = xmalloc(sizeof(**err));
	(*err)->code = code;
	(*err)->message = msg;
	return -code;
}

int ou_error_prefix(struct ou_error **err, const char *fmt, ...)
{
	va_list ap;
	char *prefix, *msg;

	if (!err || !*err)
		return -EIO;
	va_start(ap, fmt);
	if (vasprintf(&prefix, fmt, ap) < 0)
		prefix = NULL;
	va_end(ap);
	if (!prefix)
		return -(*err)->code;
	msg = xasprintf("%s: %s", prefix, (*err)->message);
	free(prefix);
	free((*err)->message);
	(*err)->message = msg;
	return -(*err)->code;
}

struct ou_error *ou_error_free(struct ou_error *err)
{
	if (err) {
		free(err->message);
		free(err);
	}
	return NULL;
}
