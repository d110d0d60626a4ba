/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ociuser/macro.h"

/*
 * A growable byte buffer, always NUL-terminated after len bytes (so text
 * can be used as a C string; binary data may hold NULs too). Embedded:
 * zero-initialise (OU_STRBUF_INIT) and release with ou_strbuf_release().
 */
struct ou_strbuf {
	char *buf;
	size_t len;
	size_t cap;
};
#define OU_STRBUF_INIT                                                                             \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}

void ou_strbuf_append(struct ou_strbuf *sb, const void *data, size_t len);
void ou_strbuf_puts(struct ou_strbuf *sb, const char *s);
void ou_strbuf_putc(struct ou_strbuf *sb, char c);
void ou_strbuf_printf(struct ou_strbuf *sb, const char *fmt, ...) _printf_(2, 3);
/* Returns the buffer (never NULL, caller frees) and leaves @sb empty. */
char *ou_strbuf_steal(struct ou_strbuf *sb);
void ou_strbuf_release(struct ou_strbuf *sb);
static inline const char *ou_strbuf_str(const struct ou_strbuf *sb)
{
	return sb->buf ? sb->buf : "";
}

/*
 * The one reading of a number that ociuser accepts, in specs and on the
 * command line: decimal digits only, no sign, no leading zero (so "0999" is
 * never octal), at most @max; never clamped or wrapped. Returns 0, or
 * -EINVAL (empty, or not a digit), -EDOM (a leading zero), -ERANGE (above
 * @max).
 */
int ou_parse_decimal(const char *s, uint64_t max, uint64_t *ret);

/* Writes all @len bytes to @fd, retrying on EINTR and short writes. 0 or -errno. */
int ou_write_all(int fd, const void *data, size_t len);

/*
 * Reads all of the regular file @name below @dirfd (openat @flags added,
 * such as O_NOFOLLOW) into a NUL-terminated buffer, at most @max bytes.
 * Anything but a regular file (a FIFO, a device, a folder) is refused
 * (EINVAL) without blocking or reading; over @max is EFBIG; else the errno
 * of open/read. Messages name @display.
 */
struct ou_error;
int ou_read_file_at(int dirfd, const char *name, int flags, const char *display, size_t max,
                    char **ret_data, size_t *ret_len, struct ou_error **err);
/* ou_read_file_at() of @path, named as it is. */
int ou_read_file(const char *path, size_t max, char **ret_data, size_t *ret_len,
                 struct ou_error **err);
