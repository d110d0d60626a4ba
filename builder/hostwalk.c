/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <string.h>
#include <sys/stat.h>

#include "ociuser/hostwalk.h"
#include "ociuser/xalloc.h"

#define MAX_LINK_TARGET 65536

static bool match_one(const char *pat, const char *rel, bool is_dir)
{
	_cleanup_free_ char *p = xstrdup(pat);
	size_t len = strlen(p);
	const char *base;

	if (len && p[len - 1] == '/') {
		if (!is_dir)
			return false;
		p[--len] = '\0';
	}
	if (strchr(p, '/')) {
		const char *q = p[0] == '/' ? p + 1 : p;
		/* As in .gitignore, '*' matches names starting with a dot too. */
		return fnmatch(q, rel, FNM_PATHNAME) == 0;
	}
	base = strrchr(rel, '/');
	base = base ? base + 1 : rel;
	return fnmatch(p, base, 0) == 0;
}

bool ou_hostwalk_excluded(const char *rel, bool is_dir, const char *const *excludes,
                          size_t n_excludes)
{
	for (size_t i = 0; i < n_excludes; i++)
		if (match_one(excludes[i], rel, is_dir))
			return true;
	return false;
}

static char *host_path(const struct ou_host_tree *t, const char *rel)
{
	size_t n = strlen(t->source);

	if (n && t->source[n - 1] == '/')
		return xasprintf("%s%s", t->source, rel);
	return xasprintf("%s/%s", t->source, rel);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static struct ou_host_item *add_item(struct ou_host_tree *t)
{
	xgrow((void **)&t->items, &t->cap, t->n_items + 1, sizeof(*t->items));
	memset(&t->items[t->n_items], 0, sizeof(*t->items));
	return &t->items[t->n_items++];
}

static int read_link(int dirfd, const char *name, const struct stat *st, char **ret)
{
	size_t cap =
	        st->st_size > 0 && st->st_size < MAX_LINK_TARGET ? (size_t)st->st_size + 1 : 4096;
	for (;;) {
		char *buf = xmalloc(cap);
		ssize_t n = readlinkat(dirfd, name, buf, cap);
		if (n < 0) {
			free(buf);
			return -errno;
		}
		if ((size_t)n < cap) {
			buf[n] = '\0';
			*ret = buf;
			return 0;
		}
		free(buf);
		if (cap >= MAX_LINK_TARGET)
			return -ENAMETOOLONG;
		cap *= 2;
	}
}

/* What a walk leaves out. */
struct walk_opts {
	const char *const *excludes;
	size_t n_excludes;
	const struct ou_file_id *skip;
	size_t n_skip;
};

static bool is_skipped(const struct walk_opts *o, const struct stat *st)
{
	for (size_t i = 0; i < o->n_skip; i++)
		if (o->skip[i].dev == st->st_dev && o->skip[i].ino == st->st_ino)
			return true;
	return false;
}

static int walk(struct ou_host_tree *t, int dirfd, const char *prefix, const struct walk_opts *o,
                unsigned depth, struct ou_error **err)
{
	_cleanup_free_ char *dirname = prefix[0] ? host_path(t, prefix) : xstrdup(t->source);
	char **names = NULL;
	size_t n = 0, cap = 0;
	DIR *d;
	struct dirent *de;
	int dupfd, r = 0;

	if (depth > 1024)
		return ou_error_set(err, ELOOP, "'%s' is nested too deeply", dirname);
	dupfd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
	if (dupfd < 0)
		return ou_error_set(err, errno, "cannot read folder '%s': %s", dirname,
		                    strerror(errno));
	d = fdopendir(dupfd);
	if (!d) {
		close(dupfd);
		return ou_error_set(err, errno, "cannot read folder '%s': %s", dirname,
		                    strerror(errno));
	}
	errno = 0;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		xgrow((void **)&names, &cap, n + 1, sizeof(char *));
		names[n++] = xstrdup(de->d_name);
		errno = 0;
	}
	if (errno) {
		r = ou_error_set(err, errno, "cannot read folder '%s': %s", dirname,
		                 strerror(errno));
		closedir(d);
		goto out;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(char *), cmp_str);

	for (size_t i = 0; i < n && r >= 0; i++) {
		_cleanup_free_ char *rel =
		        prefix[0] ? xasprintf("%s/%s", prefix, names[i]) : xstrdup(names[i]);
		struct ou_host_item *it;
		struct stat st;

		if (fstatat(dirfd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
			_cleanup_free_ char *hp = host_path(t, rel);
			r = ou_error_set(err, errno, "cannot stat '%s': %s", hp, strerror(errno));
			break;
		}
		if (ou_hostwalk_excluded(rel, S_ISDIR(st.st_mode), o->excludes, o->n_excludes))
			continue;
		if (S_ISDIR(st.st_mode) && is_skipped(o, &st)) {
			if (!t->skipped)
				t->skipped = host_path(t, rel);
			continue;
		}
		if (strncmp(names[i], ".wh.", 4) == 0) {
			_cleanup_free_ char *hp = host_path(t, rel);
			r = ou_error_set(err, EINVAL,
			                 "'%s': names starting with '.wh.' are reserved in OCI "
			                 "layers (whiteouts); exclude it or rename it",
			                 hp);
			break;
		}
		if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) {
			_cleanup_free_ char *hp = host_path(t, rel);
			r = ou_error_set(err, EINVAL,
			                 "'%s' is a %s: ociuser copies only files, folders and "
			                 "symbolic links",
			                 hp,
			                 S_ISFIFO(st.st_mode)   ? "FIFO"
			                 : S_ISSOCK(st.st_mode) ? "socket"
			                                        : "device file");
			break;
		}
		it = add_item(t);
		it->rel = xstrdup(rel);
		it->mode = st.st_mode;
		it->dev = st.st_dev;
		it->ino = st.st_ino;
		it->nlink = st.st_nlink;
		if (S_ISREG(st.st_mode)) {
			it->type = OU_ENTRY_FILE;
			it->size = st.st_size;
		} else if (S_ISLNK(st.st_mode)) {
			it->type = OU_ENTRY_SYMLINK;
			r = read_link(dirfd, names[i], &st, &it->link);
			if (r < 0) {
				_cleanup_free_ char *hp = host_path(t, rel);
				r = ou_error_set(err, -r, "cannot read symbolic link '%s': %s", hp,
				                 strerror(-r));
			}
		} else {
			struct stat st2;
			int sub;

			it->type = OU_ENTRY_DIR;
			sub = openat(dirfd, names[i],
			             O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0 || fstat(sub, &st2) < 0) {
				_cleanup_free_ char *hp = host_path(t, rel);
				r = ou_error_set(err, errno, "cannot open folder '%s': %s", hp,
				                 strerror(errno));
				if (sub >= 0)
					close(sub);
				break;
			}
			if (st2.st_dev != st.st_dev || st2.st_ino != st.st_ino) {
				_cleanup_free_ char *hp = host_path(t, rel);
				close(sub);
				r = ou_error_set(err, EAGAIN,
				                 "folder '%s' was replaced while it was read", hp);
				break;
			}
			r = walk(t, sub, rel, o, depth + 1, err);
			close(sub);
		}
	}
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return r;
}

static int cmp_item(const void *a, const void *b)
{
	return strcmp(((const struct ou_host_item *)a)->rel, ((const struct ou_host_item *)b)->rel);
}

int ou_hostwalk(const char *source, const char *const *excludes, size_t n_excludes,
                const struct ou_file_id *skip, size_t n_skip, struct ou_host_tree *ret,
                struct ou_error **err)
{
	const struct walk_opts o = {excludes, n_excludes, skip, n_skip};
	struct ou_host_tree t = {0};
	struct stat st;
	int r;

	t.source = xstrdup(source);
	/* The source itself is what the user named: it may be a link to follow. */
	/*
	 * O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused
	 * below. O_NOFOLLOW: a SOURCE that is itself a symbolic link is refused,
	 * like every link below it is never followed: it could pull any host
	 * file (/etc/shadow) into the image.
	 */
	t.root_fd = open(source, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	if (t.root_fd < 0 && errno == ELOOP) {
		r = ou_error_set(err, EINVAL,
		                 "'%s' is a symbolic link: ociuser never follows links in a "
		                 "source; name the file or folder itself",
		                 source);
		ou_host_tree_release(&t);
		return r;
	}
	if (t.root_fd < 0) {
		r = ou_error_set(err, errno, "cannot open '%s': %s", source, strerror(errno));
		ou_host_tree_release(&t);
		return r;
	}
	if (fstat(t.root_fd, &st) < 0) {
		r = ou_error_set(err, errno, "cannot stat '%s': %s", source, strerror(errno));
		ou_host_tree_release(&t);
		return r;
	}
	t.root.rel = xstrdup("");
	t.root.mode = st.st_mode;
	t.root.dev = st.st_dev;
	t.root.ino = st.st_ino;
	t.root.nlink = st.st_nlink;
	if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))
		fcntl(t.root_fd, F_SETFL, fcntl(t.root_fd, F_GETFL) & ~O_NONBLOCK);
	if (S_ISDIR(st.st_mode) && is_skipped(&o, &st)) {
		r = ou_error_set(err, EINVAL,
		                 "'%s' is the output folder (or holds the build's staging): it "
		                 "cannot be copied into the image it becomes",
		                 source);
		ou_host_tree_release(&t);
		return r;
	}
	if (S_ISDIR(st.st_mode)) {
		t.is_dir = true;
		t.root.type = OU_ENTRY_DIR;
		r = walk(&t, t.root_fd, "", &o, 0, err);
		if (r < 0) {
			ou_host_tree_release(&t);
			return r;
		}
		if (t.n_items)
			qsort(t.items, t.n_items, sizeof(*t.items), cmp_item);
	} else if (S_ISREG(st.st_mode)) {
		t.root.type = OU_ENTRY_FILE;
		t.root.size = st.st_size;
	} else {
		r = ou_error_set(err, EINVAL,
		                 "'%s' is not a file or folder: ociuser copies only files, folders "
		                 "and symbolic links",
		                 source);
		ou_host_tree_release(&t);
		return r;
	}
	*ret = t;
	return 0;
}

void ou_host_tree_release(struct ou_host_tree *t)
{
	for (size_t i = 0; i < t->n_items; i++) {
		free(t->items[i].rel);
		free(t->items[i].link);
	}
	free(t->items);
	free(t->root.rel);
	free(t->source);
	free(t->skipped);
	if (t->root_fd >= 0)
		close(t->root_fd);
	*t = (struct ou_host_tree){0};
	t->root_fd = -1;
}
