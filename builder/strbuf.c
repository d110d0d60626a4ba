/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

#include "ociuser/error.h"
#include "ociuser/strbuf.h"
#include "ociuser/xalloc.h"

static void reserve(struct ou_strbuf *sb, size_t extra)
{
	xgrow((void **)&sb->buf, &sb->cap, sb->len + extra + 1, 1);
}

void ou_strbuf_append(struct ou_strbuf *sb, const void *data, size_t len)
{
	reserve(sb, len);
	if (len)
		memcpy(sb->buf + sb->len, data, len);
	sb->len += len;
	sb->buf[sb->len] = '\0';
}

void ou_strbuf_puts(struct ou_strbuf *sb, const char *s)
{
	ou_strbuf_append(sb, s, strlen(s));
}

void ou_strbuf_putc(struct ou_strbuf *sb, char c)
{
	ou_strbuf_append(sb, &c, 1);
}

void ou_strbuf_printf(struct ou_strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0) {
		fputs("ociuser: out of memory\n", stderr);
		exit(1);
	}
	va_end(ap);
	ou_strbuf_puts(sb, s);
	free(s);
}

char *ou_strbuf_steal(struct ou_strbuf *sb)
{
	char *s;

	reserve(sb, 0);
	sb->buf[sb->len] = '\0';
	s = sb->buf;
	*sb = (struct ou_strbuf)OU_STRBUF_INIT;
	return s;
}

void ou_strbuf_release(struct ou_strbuf *sb)
{
	free(sb->buf);
	*sb = (struct ou_strbuf)OU_STRBUF_INIT;
}

int ou_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int ou_read_file_at(int dirfd, const char *name, int flags, const char *display, size_t max,
                    char **ret_data, size_t *ret_len, struct ou_error **err)
{
	_cleanup_close_ int fd = -1;
	struct ou_strbuf sb = OU_STRBUF_INIT;
	struct stat st;
	char chunk[65536];

	/* O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below */
	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK | flags);
	if (fd < 0)
		return ou_error_set(err, errno, "cannot open '%s': %s", display, strerror(errno));
	if (fstat(fd, &st) < 0)
		return ou_error_set(err, errno, "cannot stat '%s': %s", display, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return ou_error_set(err, EINVAL, "'%s' is not a regular file", display);
	if (st.st_size > (off_t)max)
		return ou_error_set(err, EFBIG, "'%s' is larger than %zu bytes", display, max);
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			ou_strbuf_release(&sb);
			return ou_error_set(err, e, "cannot read '%s': %s", display, strerror(e));
		}
		if (n == 0)
			break;
		if (sb.len + (size_t)n > max) {
			/* it grew while being read */
			ou_strbuf_release(&sb);
			return ou_error_set(err, EFBIG, "'%s' is larger than %zu bytes", display,
			                    max);
		}
		ou_strbuf_append(&sb, chunk, (size_t)n);
	}
	*ret_len = sb.len;
	*ret_data = ou_strbuf_steal(&sb);
	return 0;
}

int ou_read_file(const char *path, size_t max, char **ret_data, size_t *ret_len,
                 struct ou_error **err)
{
	return ou_read_file_at(AT_FDCWD, path, 0, path, max, ret_data, ret_len, err);
}

int ou_parse_decimal(const char *s, uint64_t max, uint64_t *ret)
{
	uint64_t v = 0;
	bool over = false;

	if (!*s)
		return -EINVAL;
	for (const char *c = s; *c; c++) {
		unsigned d = (unsigned)(*c - '0');

		if (*c < '0' || *c > '9')
			return -EINVAL;
		/* v * 10 + d > max, found without overflowing */
		over = over || d > max || v > (max - d) / 10;
		if (!over)
			v = v * 10 + d;
	}
	if (s[0] == '0' && s[1])
		return -EDOM;
	if (over)
		return -ERANGE;
	*ret = v;
	return 0;
}
