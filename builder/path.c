/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ociuser/path.h"
#include "ociuser/strbuf.h"
#include "ociuser/xalloc.h"

static bool is_control(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/*
 * Walks the '/'-separated components of @s, skipping empty and "."
 * components, and appends the others to @out joined by '/'. Returns the
 * first ".." component found (as a pointer into @s) or NULL; @out is then
 * incomplete.
 */
static const char *normalise(const char *s, struct ou_strbuf *out)
{
	const char *p = s;

	while (*p) {
		const char *end = strchrnul(p, '/');
		size_t n = (size_t)(end - p);

		if (n == 2 && p[0] == '.' && p[1] == '.')
			return p;
		if (n > 0 && !(n == 1 && p[0] == '.')) {
			if (out->len > 0)
				ou_strbuf_putc(out, '/');
			ou_strbuf_append(out, p, n);
		}
		p = *end ? end + 1 : end;
	}
	return NULL;
}

int ou_path_from_spec(const char *abs, char **ret_rel, struct ou_error **err)
{
	struct ou_strbuf sb = OU_STRBUF_INIT;
	const char *p;

	if (abs[0] != '/')
		return ou_error_set(err, EINVAL,
		                    "'%s' is not an absolute path (it must start with '/')", abs);
	for (p = abs; *p; p++)
		if (is_control((unsigned char)*p))
			return ou_error_set(
			        err, EINVAL,
			        "path '%s' holds a control character (0x%02x), which no "
			        "image path may have",
			        abs, (unsigned char)*p);
	if (normalise(abs, &sb)) {
		ou_strbuf_release(&sb);
		return ou_error_set(
		        err, EINVAL,
		        "path '%s' has a '..' component, which could leave the image root", abs);
	}
	/* Every component, not only the last: a directory named ".wh.x" is a whiteout too. */
	for (p = ou_strbuf_str(&sb); *p;) {
		if (strncmp(p, ".wh.", 4) == 0) {
			ou_strbuf_release(&sb);
			return ou_error_set(err, EINVAL,
			                    "path '%s' has a component starting with '.wh.', which "
			                    "is reserved for whiteouts in OCI layers",
			                    abs);
		}
		p = strchrnul(p, '/');
		if (*p)
			p++;
	}
	*ret_rel = ou_strbuf_steal(&sb);
	return 0;
}

int ou_path_from_tar(const char *name, char **ret_rel, struct ou_error **err)
{
	struct ou_strbuf sb = OU_STRBUF_INIT;

	if (normalise(name, &sb)) {
		ou_strbuf_release(&sb);
		return ou_error_set(err, EBADMSG, "tar entry '%s' has a '..' component", name);
	}
	*ret_rel = ou_strbuf_steal(&sb);
	return 0;
}

bool ou_name_is_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > 32)
		return false;
	if (!((name[0] >= 'a' && name[0] <= 'z') || name[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++) {
		char c = name[i];

		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')
			continue;
		if (c == '$' && i == n - 1)
			continue;
		return false;
	}
	return true;
}

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool ou_ref_name_is_valid(const char *ref)
{
	/*
	 * ref ::= component ("/" component)*
	 * component ::= alphanum (separator alphanum)*
	 * alphanum ::= [A-Za-z0-9]+
	 * separator ::= [-._:@+] | "--"
	 * So: alphanumeric runs joined by exactly one separator (or "--", or
	 * "/" between components), never at either end.
	 */
	const char *p = ref;

	for (;;) {
		if (!is_alnum(*p))
			return false;
		while (is_alnum(*p))
			p++;
		if (*p == '\0')
			return true;
		if (p[0] == '-' && p[1] == '-')
			p += 2;
		else if (strchr("-._:@+/", *p))
			p++;
		else
			return false;
	}
}

char *ou_path_parent(const char *rel)
{
	const char *slash = strrchr(rel, '/');

	return slash ? xstrndup(rel, (size_t)(slash - rel)) : xstrdup("");
}

const char *ou_path_basename(const char *rel)
{
	const char *slash = strrchr(rel, '/');

	return slash ? slash + 1 : rel;
}

char *ou_path_join(const char *a, const char *b)
{
	if (!*a)
		return xstrdup(b);
	if (!*b)
		return xstrdup(a);
	return xasprintf("%s/%s", a, b);
}

int ou_path_open_beneath(int dirfd, const char *rel, int flags)
{
	_cleanup_free_ char *copy = xstrdup(rel);
	_cleanup_close_ int cur = -1;
	char *p = copy, *next;
	int fd;

	/* Skip leading slashes and "." components; find the last real one. */
	for (;;) {
		while (*p == '/')
			p++;
		if (p[0] == '.' && (p[1] == '/' || p[1] == '\0'))
			p++;
		else
			break;
	}
	if (*p == '\0') {
		fd = openat(dirfd, ".", flags | O_CLOEXEC);
		return fd < 0 ? -errno : fd;
	}

	for (;;) {
		int at = cur >= 0 ? cur : dirfd;

		next = strchr(p, '/');
		if (next) {
			*next++ = '\0';
			while (*next == '/')
				next++;
		}
		if (strcmp(p, "..") == 0)
			return -EINVAL; /* ".." would climb out of @dirfd */
		if (strcmp(p, ".") == 0 && next && *next) {
			p = next;
			continue;
		}
		if (!next || !*next) {
			/* The last component: the caller's flags, still never a link on the way. */
			fd = openat(at, p, flags | O_NOFOLLOW | O_CLOEXEC);
			return fd < 0 ? -errno : fd;
		}
		/*
		 * O_PATH lets us pass through a directory we may search but not
		 * read; with O_NOFOLLOW a link is opened as itself and then
		 * fails O_DIRECTORY with ENOTDIR, which we report as ELOOP.
		 */
		fd = openat(at, p, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			int e = errno;
			struct stat st;

			if (e == ENOTDIR && fstatat(at, p, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISLNK(st.st_mode))
				e = ELOOP;
			return -e;
		}
		if (cur >= 0)
			close(cur);
		cur = fd;
		p = next;
	}
}
