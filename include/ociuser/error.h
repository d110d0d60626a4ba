/* SPDX-License-Identifier: MIT */
#pragma once

#include "ociuser/macro.h"

/*
 * What went wrong, as one line a person can act on, plus a real errno code:
 * EINVAL bad spec input, EBADMSG a broken base, EFBIG input over our limits,
 * EIO a library failed, EEXIST a name or id conflict, ENOENT something named
 * is missing. Only builder/main.c prints it.
 */
struct ou_error {
	int code;      /* positive errno value */
	char *message; /* lower case, no full stop */
};

/*
 * Replaces *err (freeing any earlier error) with a new one and returns
 * -code, so a failure is one line: return ou_error_set(err, EINVAL, "...");
 * @err may be NULL, then only the return value tells.
 */
int ou_error_set(struct ou_error **err, int code, const char *fmt, ...) _printf_(3, 4);

/*
 * Puts "PREFIX: " in front of the message of *err and returns -code. Used on
 * the way up the stack to add what the caller was doing or where.
 */
int ou_error_prefix(struct ou_error **err, const char *fmt, ...) _printf_(2, 3);

/* Frees @err (NULL is fine) and returns NULL. */
struct ou_error *ou_error_free(struct ou_error *err);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct ou_error *, ou_error_free)
