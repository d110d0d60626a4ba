/* SPDX-License-Identifier: MIT */
#include <archive_entry.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "ociuser/squash.h"
#include "ociuser/strmap.h"
#include "ociuser/xalloc.h"

/* The old content of a base file ociuser replaces, kept for the base's hard links to it. */
struct relink {
	int fd; /* unlinked temporary copy */
	int64_t size;
	char *first; /* the first surviving link, which now holds the content; NULL until then */
};

struct squash_ctx {
	struct ou_layer_writer *w;
	const struct ou_plan *plan;
	const struct ou_base *base;
	struct ou_strmap relinked; /* replaced path -> struct relink */
	struct ou_strmap written;  /* ociuser's entries already written (base folders it changes) */
};

static void relink_free(void *p)
{
	struct relink *rl = p;

	if (!rl)
		return;
	if (rl->fd >= 0)
		close(rl->fd);
	free(rl->first);
	free(rl);
}

struct fd_reader {
	int fd;
	off_t off;
};

static ssize_t read_fd(void *rctx, void *buf, size_t len)
{
	struct fd_reader *r = rctx;
	ssize_t n = pread(r->fd, buf, len, r->off);

	if (n > 0)
		r->off += n;
	return n;
}

/* ociuser's own entry for @path, or NULL; the app layer's wins, as it does when layered. */
static const struct ou_layer_entry *mine(const struct ou_plan *plan, const char *path)
{
	const struct ou_layer_entry *e = ou_layer_list_find(&plan->app, path);

	return e ? e : ou_layer_list_find(&plan->accounts, path);
}

/*
 * A base path ociuser writes itself. A folder ([sensitive]) is written in
 * its place among the base's folders, so that it comes before what the
 * base has in it. A file that base hard links name has its old content
 * kept aside for them, as the layered image keeps it in the lower layer.
 */
static int replaced(struct squash_ctx *c, const char *path, const struct ou_layer_entry *e,
                    struct archive_entry *h, ou_base_read_fn read, void *rctx,
                    struct ou_error **err)
{
	const struct ou_base_node *n = ou_base_lookup(c->base, path);
	_cleanup_free_ char *what = NULL;
	struct relink *rl;
	int r;

	if (archive_entry_filetype(h) == AE_IFDIR) {
		ou_strmap_put(&c->written, path, (void *)1);
		return ou_layer_writer_add(c->w, e, err);
	}
	if (!n || !n->hardlinked || n->type != OU_ENTRY_FILE)
		return 0;
	what = xasprintf("the base's '/%s'", path);
	rl = xcalloc(1, sizeof(*rl));
	r = ou_base_keep_content(read, rctx, what, &rl->fd, &rl->size, err);
	if (r < 0) {
		free(rl);
		return r;
	}
	relink_free(ou_strmap_put(&c->relinked, path, rl));
	return 0;
}

/*
 * A base entry of the merged view: written unless ociuser writes that path
 * itself. A base hard link to a file ociuser replaces keeps the old data,
 * as in the layered image: the first such link becomes a regular file with
 * it, and the later ones link to that one.
 */
static int squash_base_entry(void *ctx, const char *path, struct archive_entry *h,
                             ou_base_read_fn read, void *rctx, struct ou_error **err)
{
	struct squash_ctx *c = ctx;
	const char *target = archive_entry_hardlink(h);
	const struct ou_layer_entry *e = mine(c->plan, path);
	struct fd_reader fr = {-1, 0};
	struct relink *rl;

	if (e)
		return replaced(c, path, e, h, read, rctx, err);
	if (!target)
		return ou_layer_writer_add_raw(c->w, h, read, rctx, err);
	rl = ou_strmap_get(&c->relinked, target);
	if (!rl) {
		if (mine(c->plan, target))
			return ou_error_set(err, ENOTSUP,
			                    "cannot squash: the base's hard link '/%s' points to "
			                    "'/%s', which ociuser replaces",
			                    path, target);
		return ou_layer_writer_add_raw(c->w, h, read, rctx, err);
	}
	if (rl->first) {
		archive_entry_set_hardlink(h, rl->first);
		return ou_layer_writer_add_raw(c->w, h, read, rctx, err);
	}
	archive_entry_set_hardlink(h, NULL);
	archive_entry_set_filetype(h, AE_IFREG);
	archive_entry_set_size(h, rl->size);
	fr.fd = rl->fd;
	rl->first = xstrdup(path);
	return ou_layer_writer_add_raw(c->w, h, read_fd, &fr, err);
}

/*
 * squash = true: one layer holding the merged file system. The base's
 * folders come first (sorted), then its other entries layer by layer,
 * then ociuser's own entries (accounts and app merged, sorted).
 */
int ou_squash_write(struct ou_base *base, const struct ou_plan *plan, int blob_dirfd,
                    enum ou_blob_codec codec, struct ou_blob_result *ret, struct ou_error **err)
{
	_cleanup_(ou_layer_writer_freep) struct ou_layer_writer *w = NULL;
	struct squash_ctx c = {.plan = plan, .base = base};
	size_t i = 0, k = 0;
	int r;

	r = ou_layer_writer_new(blob_dirfd, codec, &w, err);
	if (r < 0)
		return r;
	c.w = w;
	r = ou_base_replay(base, squash_base_entry, &c, err);
	ou_strmap_release(&c.relinked, relink_free);
	while (r >= 0 && (i < plan->accounts.n || k < plan->app.n)) {
		const struct ou_layer_entry *e;
		int cmp = k >= plan->app.n ? -1
		          : i >= plan->accounts.n
		                  ? 1
		                  : strcmp(plan->accounts.v[i].path, plan->app.v[k].path);

		if (cmp == 0)
			i++; /* the app layer's copy wins, as it does over the accounts layer */
		if (cmp < 0)
			e = &plan->accounts.v[i++];
		else
			e = &plan->app.v[k++];
		/* One layer holds each path once: a base folder ociuser changes went first. */
		if (!ou_strmap_get(&c.written, e->path))
			r = ou_layer_writer_add(w, e, err);
	}
	ou_strmap_release(&c.written, NULL);
	if (r < 0)
		return r;
	return ou_layer_writer_finish(w, ret, err);
}
